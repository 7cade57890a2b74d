"""Red team, sixth pass: exact values, GCI, convergence verdicts, teaching, CLI and optimizer callables.

Guards for behaviour that held, and ``xfail(strict=True)`` reproductions of confirmed findings.
Every oracle is independent of symgrad: closed forms in a private mpmath context (never
``mpmath.mp``), Celik's formulas written out here, Fornberg weights solved here with exact
fractions, or planted errors whose verdict is known by construction.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import pytest

import symgrad
from symgrad import Status


def _ctx(dps: int) -> Any:
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


# ---------------------------------------------------------------- exact values (.at)

_CANCELLATION: list[tuple[str, str, Callable[[Any, Any], Any]]] = [
    ("1 - cos(x)", "1e-20", lambda c, x: 2 * c.sin(x / 2) ** 2),
    ("exp(x) - 1", "1e-30", lambda c, x: c.expm1(x)),
    ("log(1 + x)", "1e-25", lambda c, x: c.log1p(x)),
    ("sin(x)", "1e300", lambda c, x: c.sin(x)),
    ("tan(x)", "1e40", lambda c, x: c.tan(x)),
    ("gamma(x)", "-3.0000000000000000001", lambda c, x: c.gamma(x)),
    ("x - sin(x)", "1e-10", lambda c, x: x - c.sin(x)),
    ("sqrt(x+1) - sqrt(x)", "1e30", lambda c, x: c.sqrt(x + 1) - c.sqrt(x)),
    ("erfc(x)", "30", lambda c, x: c.erfc(x)),
    ("atan(x) - pi/2", "1e30", lambda c, x: c.atan(x) - c.pi / 2),
    ("acosh(x)", "1.0000000000000000000000001", lambda c, x: c.acosh(x)),
    ("tanh(x) - 1", "40", lambda c, x: c.tanh(x) - 1),
]


@pytest.mark.parametrize("dps", [15, 120])
@pytest.mark.parametrize(("expr", "x", "ref"), _CANCELLATION)
def test_exact_values_near_cancellation_have_every_digit(
    expr: str, x: str, ref: Callable[[Any, Any], Any], dps: int
) -> None:
    """Every printed digit of ``.at`` against the closed form at 2·dps + 700 digits (enough for
    the argument 1e300 to be exact in binary)."""
    value = symgrad.function(expr).at(f"x={x}", dps=dps)
    ctx = _ctx(2 * dps + 700)
    truth = ref(ctx, ctx.mpf(x))
    assert abs((ctx.mpf(value) - truth) / truth) <= ctx.mpf(10) ** (1 - dps)


def test_exact_zero_is_refused_not_claimed() -> None:
    """sin²+cos²−1 is exactly 0: no relative digit can be certified, and symgrad says so."""
    with pytest.raises(symgrad.LimitExceeded) as info:
        symgrad.function("sin(x)**2 + cos(x)**2 - 1").at("x=0.7", dps=15)
    assert info.value.limit == "unreliable"


def test_exact_hessian_entries_against_closed_forms() -> None:
    """The Hessian of exp(x*y) + log(1 + x**2) at a tiny x: every entry to 40 digits."""
    h = symgrad.hessian("exp(x*y) + log(1 + x**2)", wrt="x y")
    got = h.at("x=1e-30, y=2.5", dps=40)
    c = _ctx(200)
    x, y = c.mpf("1e-30"), c.mpf("2.5")
    e = c.exp(x * y)
    truth = [
        [y * y * e + (2 - 2 * x * x) / (1 + x * x) ** 2, e + x * y * e],
        [e + x * y * e, x * x * e],
    ]
    for i in range(2):
        for j in range(2):
            assert abs(c.mpf(got[i][j]) - truth[i][j]) <= c.mpf(10) ** -39 * abs(truth[i][j])


# ---------------------------------------------------------------- GCI against Celik's formulas


def _celik(h: list[float], phi: list[float], p_start: float) -> dict[str, Any]:
    c = _ctx(60)
    h1, h2, h3 = (c.mpf(v) for v in h)
    f1, f2, f3 = (c.mpf(v) for v in phi)
    r21, r32 = h2 / h1, h3 / h2
    e21, e32 = f2 - f1, f3 - f2
    s = 1 if e32 / e21 > 0 else -1

    def residual(p: Any) -> Any:
        q = c.log((r21**p - s) / (r32**p - s))
        return p * c.log(r21) - abs(c.log(abs(e32 / e21)) + q)

    p = c.findroot(residual, p_start)
    ext = (r21**p * f1 - f2) / (r21**p - 1)
    e_a = abs((f1 - f2) / f1)
    return {
        "p": p,
        "extrapolated": ext,
        "e_a": e_a,
        "e_ext": abs((ext - f1) / ext),
        "gci_fine": c.mpf(1.25) * e_a / (r21**p - 1),
    }


@pytest.mark.parametrize(
    ("order", "coef", "h"),
    [
        (2.0, 0.5, [0.01, 0.02, 0.04]),
        (1.3, -3.0, [0.003, 0.0051, 0.0131]),
        (4.2, 7.0, [0.05, 0.08, 0.2]),
    ],
)
def test_gci_matches_celik_on_planted_sequences(order: float, coef: float, h: list[float]) -> None:
    """φ = 1 + C h^p on grids with unequal ratios: p, φ_ext, e_a, e_ext and GCI_fine as Celik's
    five steps give them at 60 digits on the same float inputs, and the verdict pass."""
    phi = [1 + coef * v**order for v in h]
    res = symgrad.gci(phi, spacing=h)
    ref = _celik(h, phi, order)
    assert res.status is Status.PASS
    for key, want in ref.items():
        assert abs(getattr(res, key) - float(want)) <= 1e-9 * abs(float(want)), key


def test_gci_order_change_on_the_coarsest_grid_is_not_a_pass() -> None:
    """Four grids: order 2 on the finest three, order 1 on the coarsest pair: no asymptotic range."""
    h = [0.01, 0.02, 0.04, 0.08]
    phi = [1 + v**2 for v in h[:3]]
    phi.append(phi[2] + 5 * (h[3] - h[2]))
    res = symgrad.gci(phi, spacing=h)
    assert res.status is not Status.PASS
    assert res.asymptotic_range is False


def test_gci_extrapolated_relative_error_keeps_its_digits() -> None:
    """φ_i = 1 + 4^i·1e-14 on h = 1, 2, 4: Celik's e_ext at 60 digits on the same float inputs."""
    h = [1.0, 2.0, 4.0]
    phi = [1 + 1e-14, 1 + 4e-14, 1 + 16e-14]
    res = symgrad.gci(phi, spacing=h)
    want = float(_celik(h, phi, 2.0)["e_ext"])
    assert abs(res.e_ext - want) <= 1e-6 * want


def test_gci_with_a_zero_finest_value_is_not_a_pass() -> None:
    """φ1 = 0: e_a = |(φ1 − φ2)/φ1| and GCI_fine = Fs·e_a/(r^p − 1) are undefined, so there is no
    band to report φ1 with."""
    res = symgrad.gci([0.0, 0.1, 0.5], spacing=[1.0, 2.0, 4.0])
    assert res.status is not Status.PASS or math.isfinite(res.gci_fine)


# ---------------------------------------------------------------- convergence verdicts


def test_complex_step_is_not_failed_by_the_rounding_of_a_decimal_point() -> None:
    """x = 1.5707963267948966 (exact decimal) is not a float64: cos there is 1.92e-17, at float(x)
    6.12e-17, and every float64 error is |f''|·|x − float(x)|; no float64 data can do better."""
    c = _ctx(40)
    x = c.mpf("1.5707963267948966")
    assert abs(c.cos(x) - c.cos(c.mpf(float(x)))) > c.mpf("4e-17")  # the oracle's premise
    res = symgrad.convergence(
        "sin(x)", at="x=1.5707963267948966", schemes=("complex",), precision="float64"
    )
    assert res.schemes[0].status is not Status.FAIL


def test_exact_verdict_needs_error_terms_that_really_vanish() -> None:
    """tanh(10x) at 25.5: the third derivative is 5.2e-218, not 0, and the central difference at
    h = 0.1 is off by 1.05e-220 (mpmath at 600 digits): central:2 is not exact here."""
    c = _ctx(600)
    x, h = c.mpf("25.5"), c.mpf("0.1")

    def f(t: Any) -> Any:
        return c.tanh(10 * t)

    assert c.diff(f, x, 3) > c.mpf("5e-218")
    assert abs((f(x + h) - f(x - h)) / (2 * h) - c.diff(f, x, 1)) > c.mpf("1e-220")
    res = symgrad.convergence("tanh(10*x)", at="x=25.5", schemes=("central:2",))
    assert res.schemes[0].status is not Status.EXACT


def test_mp_complex_step_is_not_failed_where_erf_is_one_to_the_working_digits() -> None:
    """The derivative of erf at 25.5 is 2/sqrt(pi)·exp(-650.25) ≈ 4.5e-283; the complex step is a
    correct scheme, and its errors at the working precision are ~10^-W·|erf|."""
    c = _ctx(50)
    assert 2 / c.sqrt(c.pi) * c.exp(-(c.mpf("25.5") ** 2)) < c.mpf("1e-282")
    res = symgrad.convergence("erf(x)", at="x=25.5", schemes=("complex",), dps=30)
    assert res.schemes[0].status is not Status.FAIL


def test_float64_complex_step_is_not_failed_by_cancellation_in_the_formula() -> None:
    """log(1+x)/x at 1e-3: the complex step's float64 values are off by ~ε/x² from rounding 1 + x;
    the stencils on the same data pass, so the scheme is not what fails."""
    res = symgrad.convergence(
        "log(1+x)/x", at="x=1e-3", schemes=("central:2", "complex"), precision="float64"
    )
    assert res.schemes[0].status is Status.PASS
    assert res.schemes[1].status is not Status.FAIL


@pytest.mark.parametrize(("expr", "at", "truth"), [
    ("tanh(x)", "x=60", lambda c: 1 - c.tanh(60) ** 2),  # 3.067e-52 beside |f| = 1
    ("erf(x)", "x=25.5", lambda c: 2 / c.sqrt(c.pi) * c.exp(-(c.mpf("25.5") ** 2))),
])  # fmt: skip
def test_a_derivative_far_below_f_is_bounded_and_says_whose_digits(
    expr: str, at: str, truth: Callable[[Any], Any]
) -> None:
    """A certified derivative far below |f| holds its bound, 10^-dps of |f| (mpmath at 400
    digits), and its reason says that fewer of its own digits are certified."""
    pytest.importorskip("flint")  # the certified arb path
    c = _ctx(400)
    res = symgrad.finite_difference(expr, at, "x", dps=30)
    assert res.certified
    assert abs(c.mpf(res.value) - truth(c)) <= c.mpf(res.error_estimate) <= c.mpf(10) ** -30
    assert "fewer than 30 of the derivative's own digits are certified" in res.reason
    plain = symgrad.finite_difference("tanh(x)", "x=0.5", "x", dps=30)  # f' ~ |f|: its own digits
    assert abs(c.mpf(plain.value) - (1 - c.tanh(c.mpf("0.5")) ** 2)) <= c.mpf(plain.error_estimate)
    assert c.mpf(plain.error_estimate) <= c.mpf(10) ** -30 * abs(c.mpf(plain.value))
    assert "own digits" not in plain.reason


def test_complex_step_does_not_fail_at_the_float_point() -> None:
    """The same function and scheme at the float64 point itself, where the complex step is right
    (cos(float x)·sinh(h)/h): never a fail."""
    res = symgrad.convergence(
        "sin(x)", at={"x": 1.5707963267948966}, schemes=("complex",), precision="float64"
    )
    assert res.schemes[0].status is not Status.FAIL


def test_complex_step_is_not_failed_when_the_derivative_underflows() -> None:
    """f'(0.001) = 2e9·exp(−1e6) ≈ 10^-434285: every float64 scheme returns 0."""
    c = _ctx(30)
    assert c.mpf(2e9) * c.exp(-(10**6)) < c.mpf("1e-400000")  # the oracle's premise
    res = symgrad.convergence(
        "exp(-1/x**2)", at="x=0.001", schemes=("complex",), precision="float64"
    )
    assert res.schemes[0].status is not Status.FAIL


def test_float64_sweep_with_an_underflowing_higher_derivative_returns_a_result() -> None:
    """f''' at x = 0.001 of exp(-1/x**2) is nonzero but below float64's range."""
    res = symgrad.convergence(
        "exp(-1/x**2)", at="x=0.001", schemes=("central:2",), precision="float64"
    )
    assert res.schemes[0].status is not Status.PASS


def test_even_function_at_zero_is_exact_for_central_and_complex() -> None:
    """cos at 0: (cos h − cos(−h))/2h is exactly 0 = cos'(0) and Im cos(ih) = 0: exact is true."""
    res = symgrad.convergence("cos(x)", at="x=0", schemes=("central:2", "complex"))
    assert [s.status for s in res.schemes] == [Status.EXACT, Status.EXACT]


@pytest.mark.parametrize(
    ("scheme", "claim"), [("central:2", 1), ("central:2", 3), ("forward:1", 2)]
)
def test_a_wrong_claimed_order_never_passes(scheme: str, claim: int) -> None:
    res = symgrad.convergence(
        "exp(x)*cos(3*x)", at="x=0.5", schemes=(scheme,), expected_order=claim
    )
    assert res.schemes[0].status is not Status.PASS


# ---------------------------------------------------------------- stencils against Fornberg


def _fornberg(m: int, offsets: list[Fraction]) -> list[Fraction]:
    """Weights w with Σ w_j s_j^k / k! = δ_km for k < n, by exact Gaussian elimination."""
    n = len(offsets)
    rows = [[s**k / math.factorial(k) for s in offsets] + [Fraction(int(k == m))] for k in range(n)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if rows[r][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(n):
            if r != col and rows[r][col] != 0:
                f = rows[r][col] / rows[col][col]
                rows[r] = [a - f * b for a, b in zip(rows[r], rows[col], strict=True)]
    return [rows[i][n] / rows[i][i] for i in range(n)]


@pytest.mark.parametrize(
    ("m", "offsets"),
    [(1, "-3/2, -1/2, 1/2, 3/2"), (2, "-2, -1/3, 0, 1/4, 5"), (3, "0, 1, 2, 3, 7/2"), (1, "-1, 0")],
)
def test_stencil_weights_equal_fornberg(m: int, offsets: str) -> None:
    offs = [Fraction(o.strip()) for o in offsets.split(",")]
    st = symgrad.Stencil.from_offsets(m, offsets)
    assert dict(zip(st.offsets, st.weights, strict=True)) == dict(
        zip(offs, _fornberg(m, offs), strict=True)
    )


# ---------------------------------------------------------------- teaching: check my answer


@pytest.mark.parametrize(
    ("expr", "answer", "right"),
    [
        ("log(abs(x))", "1/x", True),
        ("tan(x)", "1 + tan(x)**2", True),
        ("sqrt(x**2)", "x/sqrt(x**2)", True),
        ("sqrt(x**2)", "1", False),
        ("acos(x)", "1/sqrt(1 - x**2)", False),
        ("sin(2*x)", "2*sin(x)*cos(x)", False),
        ("x", "1 + sin(pi*x)", False),
        ("x**3", "3*x**2 + 1e-15", False),
    ],
)
def test_check_answer_accepts_equivalent_and_rejects_wrong(
    expr: str, answer: str, right: bool
) -> None:
    res = symgrad.check_answer(expr, answer, "x")
    assert (res.status is Status.PASS) is right


def _crafted_answer() -> str:
    """2x plus a quartic whose roots are the (seeded) sample points: a wrong derivative of x**2."""
    import sympy

    from symgrad.teaching import real_points

    x = sympy.Symbol("x", real=True)
    points = [pt[x] for pt, _ in itertools.islice(real_points([x**2]), 4)]
    quartic = sympy.Mul(*[x - p for p in points])
    assert quartic.subs(x, 0) != 0  # the oracle: the answer is not 2x at x = 0
    return str(2 * x + quartic)


def test_check_answer_rejects_an_answer_equal_only_at_the_sample_points() -> None:
    assert symgrad.check_answer("x**2", _crafted_answer(), "x").status is not Status.PASS


_BEYOND_FOUR: list[tuple[str, Callable[[float], float]]] = [
    ("2*x + max(x - 5, 0)", lambda x: 2 * x + max(x - 5, 0)),
    ("2*x + Heaviside(x - 9/2)", lambda x: 2 * x + (x > 4.5) + 0.5 * (x == 4.5)),
    ("2*x + max(x - 100, 0)", lambda x: 2 * x + max(x - 100, 0)),
]


@pytest.mark.parametrize(("answer", "value"), _BEYOND_FOUR)
def test_check_answer_rejects_an_answer_wrong_only_beyond_four(
    answer: str, value: Callable[[float], float]
) -> None:
    """The oracle, written out: the answer differs from 2x at x = 101 (and equals it on [-4, 4])."""
    assert value(101.0) != 202.0
    assert all(value(x) == 2 * x for x in (-4.0, -0.5, 0.75, 4.0))
    assert symgrad.check_answer("x**2", answer, "x").status is not Status.PASS


@pytest.mark.parametrize("answer", ["3*x**2 + 1e-30", "3*x**2*(1 + 1e-21)"])
def test_check_answer_rejects_a_tiny_exact_difference(answer: str) -> None:
    """Decimals are exact: the difference is 10^-30 (or 3·10^-21·x²), never 0."""
    assert symgrad.check_answer("x**3", answer, "x").status is not Status.PASS


def test_each_step_is_the_derivative_it_claims() -> None:
    """Every rule step: d/dx(before) equals after at exact rational points (SymPy's diff and
    evalf at 30 digits as the oracle); every simplify step keeps the value."""
    import sympy

    x = sympy.Symbol("x", real=True)
    res = symgrad.steps("x**2*sin(x)/(1 + exp(2*x)) + sqrt(x)*log(x)", "x")
    checked = 0
    for top in res.steps:
        for step in top.walk():
            if step.variable != x:
                continue
            lhs = step.before if step.rule == "simplify" else sympy.diff(step.before, x)
            for p in (sympy.Rational(7, 13), sympy.Rational(23, 11)):
                a = complex(lhs.subs(x, p).evalf(30))
                b = complex(step.after.subs(x, p).evalf(30))
                assert abs(a - b) <= 1e-20 * (1 + abs(a)), step.rule
                checked += 1
    assert checked >= 20


# ---------------------------------------------------------------- solvers


def _poisson(boundary_error: float) -> Callable[[Any], Any]:
    """Second-order u'' = Q with Dirichlet data, optionally off by a constant at x = 1."""

    def solve(problem: Any) -> Any:
        x, h = problem.coordinates[0], problem.spacing[0]
        n = len(x)
        a = np.zeros((n, n))
        b = np.asarray(problem.source(x), dtype=float) * np.ones(n)
        a[0, 0] = a[-1, -1] = 1.0
        b[0] = problem.boundary(x[0])
        b[-1] = problem.boundary(x[-1]) + boundary_error
        for i in range(1, n - 1):
            a[i, i - 1 : i + 2] = [1 / h**2, -2 / h**2, 1 / h**2]
        return np.linalg.solve(a, b)

    return solve


@pytest.mark.parametrize(("error", "status"), [(0.0, Status.PASS), (1e-9, Status.FAIL)])
def test_verify_solver_boundary_only_defect(error: float, status: Status) -> None:
    """A Dirichlet value off by 1e-9 at one end: the interior still converges, the boundary levels
    off, and the study fails; the correct solver passes."""
    res = symgrad.verify_solver(
        _poisson(error),
        "sin(2*x + 0.3) + x**3/5",
        operator="D(u, x, 2)",
        expect_order=2,
        domain="x=0:1",
        sizes=(17, 33, 65, 129),
    )
    assert res.status is status


# ---------------------------------------------------------------- optimizer callables


def test_for_scipy_residual_jacobian_against_closed_forms() -> None:
    prob = symgrad.for_scipy(["A*exp(-s*t)*sin(w*t) - y"], wrt="A s w", args="t y")
    t = np.array([0.0, 0.5, 1.3, 2.0])
    y = np.array([0.1, -0.2, 0.3, 0.05])
    c = _ctx(50)
    for theta in ([1e-8, 1e-5, 1e3], [-300.0, 30.0, 1e-3], [2.0, 0.7, 3.0]):
        jac = prob.jac(np.array(theta), t, y)
        assert jac.shape == (4, 3)
        a, s, w = (c.mpf(v) for v in theta)
        for i, ti in enumerate(t):
            tt = c.mpf(ti)
            e = c.exp(-s * tt)
            want = [e * c.sin(w * tt), -tt * a * e * c.sin(w * tt), tt * a * e * c.cos(w * tt)]
            scale = (1 + abs(w * tt)) * (abs(a * e) * (1 + tt))
            for k in range(3):
                assert abs(c.mpf(jac[i, k]) - want[k]) <= 1e-13 * (scale + abs(want[k]))


def test_for_scipy_objective_at_huge_and_tiny_values() -> None:
    prob = symgrad.for_scipy("(1 - x)**2 + 100*(y - x**2)**2", wrt="x y")
    c = _ctx(60)
    for xy in ([3e-140, -2e-120], [-4.78e3, -6.7e-91], [2.07e31, -1.0e-136]):
        g, h = prob.jac(np.array(xy)), prob.hess(np.array(xy))
        x, y = (c.mpf(v) for v in xy)
        want_g = [-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)]
        want_h = [[2 - 400 * y + 1200 * x**2, -400 * x], [-400 * x, c.mpf(200)]]
        for got, want in zip(g, want_g, strict=True):
            assert abs(c.mpf(got) - want) <= 1e-13 * (abs(want) + 2 + 2 * abs(x))
        for i in range(2):
            for j in range(2):
                assert abs(c.mpf(h[i, j]) - want_h[i][j]) <= 1e-13 * (abs(want_h[i][j]) + 2)
    assert isinstance(prob.fun(np.array([1.0, 2.0])), float)


# ---------------------------------------------------------------- command line


def _cli(*args: str) -> tuple[int, str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run(
        [sys.executable, "-m", "symgrad", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    return done.returncode, done.stdout, done.stderr


def test_cli_gci_exit_code_follows_the_json_verdict() -> None:
    """Oscillatory convergence: inconclusive in the JSON and exit 1; Celik's example: pass, 0."""
    rc, out, _ = _cli("gci", "--values", "1.00,1.02,0.97", "--spacing", "0.01,0.02,0.04",
                      "--format", "json")  # fmt: skip
    assert (rc, json.loads(out)["status"]) == (1, "inconclusive")
    rc, out, _ = _cli("gci", "--values", "6.063,5.972,5.863", "--cells", "18000,8000,4500",
                      "--dim", "2", "--format", "json")  # fmt: skip
    assert (rc, json.loads(out)["status"]) == (0, "pass")


def test_cli_converge_never_ends_in_a_traceback() -> None:
    _, _, err = _cli("converge", "exp(-1/x**2)", "--at", "x=0.001", "--schemes", "central:2",
                      "--precision", "float64")  # fmt: skip
    assert "Traceback" not in err
