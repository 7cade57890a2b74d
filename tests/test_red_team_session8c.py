"""Red team, eighth pass (c): the numbers of the compiled float64 evaluators.

Attacks on ``symgrad.function`` / ``gradient`` / ``hessian`` / ``jacobian`` / ``laplacian`` and
their evaluators (``using("numpy" | "numexpr" | "symengine" | "auto")``), ``for_scipy`` and dask
inputs: names that could clash with generated code, shapes, broadcasting and chunking, input
types, constant and piecewise components, special functions, long factored sums, huge and tiny
arguments, calls from several threads.

Guards for behaviour that held, and ``xfail(strict=True)`` reproductions of confirmed findings.
Every oracle is independent of symgrad: closed forms evaluated in a private mpmath context at 40
digits (never ``mpmath.mp``), exact rational arithmetic (``fractions.Fraction``) and plain NumPy
formulas written here.  Tolerances are float64 conditioning: a few units in the last place times
the condition number of the value, computed for each case.
"""

from __future__ import annotations

import functools
import subprocess
import sys
import textwrap
import threading
import warnings
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.errors import InputError, ParseError, SymgradError

U = 2.0**-53  # the unit round-off of float64
EVALUATORS = ["numpy", "numexpr", "symengine", "auto"]


def _ctx() -> Any:
    ctx = mpmath.MPContext()
    ctx.dps = 40
    return ctx


def _using(compiled: Any, evaluator: str) -> Any:
    """``compiled.using(evaluator)``, skipping when its optional library is missing."""
    if evaluator in {"numexpr", "symengine"}:
        pytest.importorskip(evaluator)
    if evaluator == "auto":
        pytest.importorskip("symengine")
    return compiled.using(evaluator)


def _exact(fn: Callable[[Any, Any], Any], xs: Any) -> np.ndarray:
    """``fn(ctx, x)`` at each float of ``xs`` (taken at its binary value), rounded to float64."""
    ctx = _ctx()
    return np.array([float(fn(ctx, ctx.mpf(float(x)))) for x in np.ravel(xs)])


def _xfail(reason: str) -> pytest.MarkDecorator:
    """A confirmed finding: ``xfail(strict=True)`` with its reason."""
    return pytest.mark.xfail(strict=True, reason=reason)


# ------------------------------------------------------ names that could clash with generated code

CLASH_NAMES = [
    "x0", "x1", "cse", "t", "t0", "v0", "N", "S", "Q", "beta", "gamma", "lambda_", "np",
    "X", "ones", "where", "out", "args", "self", "r", "dummy", "mpf", "i", "e",
]  # fmt: skip


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_names_like_generated_code_compute_the_closed_form(evaluator: str) -> None:
    """u**2*y + sin(u) + x0*cse for every name u beside y, x0, cse: d/du = 2*u*y + cos(u)."""
    u = np.array([1.5, -0.5, 2.25])
    y = np.array([2.0, 3.0, -1.0])
    for name in CLASH_NAMES:
        if name in {"x0", "cse"}:
            continue
        g = _using(
            symgrad.gradient(f"{name}**2*y + sin({name}) + x0*cse", wrt=f"{name} y x0 cse"),
            evaluator,
        )
        got = g(u, y, 0.25 * u, 4.0 * y)
        assert np.allclose(got[0], 2 * u * y + np.cos(u), rtol=4 * U, atol=0), name
        assert np.allclose(got[1], u**2, rtol=4 * U, atol=0), name
        assert np.array_equal(got[2], 4.0 * y), name
        assert np.array_equal(got[3], 0.25 * u), name


@pytest.mark.parametrize(
    "name", ["numpy", "math", "mpmath", "exp", "sqrt", "lambda", "None", "I", "E", "pi", "nan",
             "_cse0", "_x0", "Dummy", "select", "a" * 33]
)  # fmt: skip
def test_names_of_generated_code_and_constants_are_refused(name: str) -> None:
    with pytest.raises(ParseError):
        symgrad.gradient("x*y + 1", wrt=f"{name} y")


def test_names_differing_by_case_stay_apart() -> None:
    g = symgrad.gradient("x*X**2", wrt="x X")
    assert np.array_equal(g(2.0, 3.0), [9.0, 12.0])


# ------------------------------------------------------------------- shapes and broadcasting


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_constant_components_broadcast_to_full_arrays(evaluator: str) -> None:
    g = _using(symgrad.gradient("x + 3*y", wrt="x y"), evaluator)
    out = g(np.ones((3, 1)), np.ones((1, 4)))
    assert out.shape == (2, 3, 4)
    assert np.array_equal(out[0], np.ones((3, 4)))
    assert np.array_equal(out[1], np.full((3, 4), 3.0))
    assert g(np.ones(0), np.ones(0)).shape == (2, 0)
    assert np.array_equal(g(1.0, 2.0), [1.0, 3.0])
    assert np.array_equal(g(np.array(1.0), np.array(2.0)), [1.0, 3.0])
    j = _using(symgrad.jacobian(["x + 1", "2"], wrt="x y"), evaluator)
    assert np.array_equal(j(np.ones(2), np.ones(2)), [[[1, 1], [0, 0]], [[0, 0], [0, 0]]])


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_results_never_share_memory_with_inputs(evaluator: str) -> None:
    a = np.ones(3)
    out = _using(symgrad.function("x"), evaluator)(a)
    out[0] = 5.0
    grad = _using(symgrad.gradient("x**2/2 + y", wrt="x y"), evaluator)(a, a)
    grad[0, 0] = 7.0
    assert np.array_equal(a, np.ones(3))


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_chunked_calls_equal_small_calls_and_the_closed_form(evaluator: str) -> None:
    """3*2**16 + 17 points (several chunks) equal the same points called 1000 at a time."""
    rng = np.random.default_rng(5)
    n = 3 * 2**16 + 17
    x, y = rng.uniform(-2, 2, n), rng.uniform(-2, 2, n)
    g = _using(symgrad.gradient("exp(sin(x*y))/(1 + x**2)", wrt="x y"), evaluator)
    whole = g(x, y)
    parts = np.concatenate([g(x[i : i + 1000], y[i : i + 1000]) for i in range(0, n, 1000)], axis=1)
    assert np.array_equal(whole, parts)
    f = np.exp(np.sin(x * y))
    hand = [f * (y * np.cos(x * y) * (1 + x**2) - 2 * x) / (1 + x**2) ** 2,
            f * x * np.cos(x * y) / (1 + x**2)]  # fmt: skip
    scale = f * (np.abs(y) + 2) * (1 + np.abs(x)) ** 2  # the sizes the formula's terms reach
    assert np.all(np.abs(whole - hand) <= 64 * U * scale)


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_input_types(evaluator: str) -> None:
    g = _using(symgrad.gradient("x**2*y", wrt="x y"), evaluator)
    assert np.array_equal(g(np.array([3]), np.array([2])), [[12.0], [9.0]])  # integers
    x32 = np.float32(0.1)
    assert g(x32, np.float32(3.0))[1] == float(x32) ** 2  # float32 computed in float64
    for bad in (np.array([True]), np.array([1.0], dtype=object), 1 + 1j, "1", Fraction(1, 3)):
        with pytest.raises(InputError):
            g(bad, 2.0)
    view = np.arange(40.0).reshape(8, 5)[::2, 1::2]  # a non-contiguous view
    assert np.array_equal(g(view, view.T.T), g(view.copy(), view.copy()))


# --------------------------------------------------------------------------- values vs mpmath


@functools.cache
def _dense_gradient(n: int) -> Any:
    text = "(" + " + ".join(f"{i + 1}*x[{i}]" for i in range(n)) + ")**2"
    return symgrad.gradient(text, wrt=symgrad.vector("x", n))


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_dense_factored_sum_gradient_is_exact_to_its_condition(evaluator: str) -> None:
    """(sum_i i*x_i)**2 in 200 variables: d/dx_k = 2*k*S, against S in exact rationals."""
    n = 200
    rng = np.random.default_rng(0)
    p = rng.standard_normal((n, 6))
    g = _using(_dense_gradient(n), evaluator)
    got = g(p)
    k = np.arange(1, n + 1)
    for j in range(p.shape[1]):
        terms = [Fraction(int(i)) * Fraction(float(v)) for i, v in zip(k, p[:, j], strict=True)]
        total = sum(terms, Fraction(0))
        exact = np.array([float(2 * int(i) * total) for i in k])
        cond = 2 * k * float(sum(abs(t) for t in terms))  # the sum's condition, times 2k
        assert np.all(np.abs(got[:, j] - exact) <= 4 * n * U * cond)


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_rational_constants_float64_cannot_hold(evaluator: str) -> None:
    x = np.array([0.3, -2.0, 7.0])
    g = _using(symgrad.gradient("x**2/3 + 10**400/10**399*x"), evaluator)
    assert np.allclose(g(x)[0], _exact(lambda c, t: 2 * t / 3 + 10, x), rtol=4 * U, atol=0)


SPECIAL = [  # (expression, exact derivative, points)
    ("gamma(x)", lambda c, t: c.gamma(t) * c.digamma(t), [-2.5, -0.5, 0.3, 2.5, 30.0]),
    ("loggamma(x)", lambda c, t: c.digamma(t), [0.3, 1.0, 7.0, 170.5]),
    ("erf(x)", lambda c, t: 2 / c.sqrt(c.pi) * c.exp(-(t**2)), [-3.0, 0.0, 0.5, 5.0]),
    ("besselj(1, x)", lambda c, t: (c.besselj(0, t) - c.besselj(2, t)) / 2, [0.5, 2.4, 10.0]),
    ("x**(1/3)", lambda c, t: c.cbrt(t) / (3 * t), [0.001, 8.0, 1e30]),
]


@pytest.mark.parametrize("evaluator", EVALUATORS)
@pytest.mark.parametrize(("expr", "exact", "points"), SPECIAL, ids=[s[0] for s in SPECIAL])
def test_special_functions_against_mpmath(
    evaluator: str, expr: str, exact: Callable[[Any, Any], Any], points: list[float]
) -> None:
    pytest.importorskip("scipy")
    x = np.array(points)
    got = _using(symgrad.gradient(expr), evaluator)(x)[0]
    assert np.allclose(got, _exact(exact, x), rtol=1e-12, atol=0)


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_loggamma_hessian_is_trigamma(evaluator: str) -> None:
    pytest.importorskip("scipy")
    x = np.array([0.3, 2.0, 50.0])
    got = _using(symgrad.hessian("loggamma(x)"), evaluator)(x)[0, 0]
    assert np.allclose(got, _exact(lambda c, t: c.psi(1, t), x), rtol=1e-12, atol=0)


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_cube_root_of_a_negative_number_is_nan_never_a_number(evaluator: str) -> None:
    """SymPy's x**(1/3) is the principal root, complex for x < 0: NaN, not the real cube root."""
    got = _using(symgrad.function("x**(1/3)"), evaluator)(np.array([-8.0, 8.0]))
    assert np.isnan(got[0])
    assert got[1] == 2.0


def _power_slope(k: int, _ctx: Any, t: Any) -> Any:
    return k * t ** (k - 1)


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_integer_powers_of_negative_bases(evaluator: str) -> None:
    x = np.array([-1.001, -0.5, -2.0])
    for k in (3, -3, 7, 1000):
        got = _using(symgrad.gradient(f"x**{k}"), evaluator)(x)[0]
        exact = _exact(functools.partial(_power_slope, k), x)
        assert np.allclose(got, exact, rtol=4 * abs(k) * U, atol=0), k


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_piecewise_values_away_from_and_at_the_kink(evaluator: str) -> None:
    """Away from a kink the one-sided derivative; at it the mean of the two (abs: 0, min: 1/2)."""
    x = np.array([-1.5, 0.0, 2.0])

    def grad(expr: str) -> Any:
        return _using(symgrad.gradient(expr), evaluator)(x)[0]

    assert np.array_equal(grad("abs(x)"), [-1.0, 0.0, 1.0])
    assert np.array_equal(grad("max(x, 0)**2"), [0.0, 0.0, 4.0])
    assert np.array_equal(grad("min(x, 0)"), [1.0, 0.5, 0.0])  # at a kink: the one-sided mean
    assert np.array_equal(grad("sign(x)*x**2"), [3.0, 0.0, 4.0])


# ---------------------------------------------------------------------- for_scipy and dask


def test_for_scipy_objective_and_residual_shapes_and_values() -> None:
    p = symgrad.for_scipy("(x - 1)**2 + 100*(y - x**2)**2", wrt="x y")
    z = np.array([0.5, 0.5])
    assert p.fun(z) == 6.5
    assert isinstance(p.fun(z), float)
    assert np.array_equal(p.jac(z), [-1.0 - 50.0, 50.0])
    assert np.array_equal(p.hess(z), [[2 - 400 * 0.5 + 1200 * 0.25, -200.0], [-200.0, 200.0]])
    r = symgrad.for_scipy(["x + 3", "y*t"], wrt="x y", args="t")
    t = np.array([1.0, 2.0, 3.0])
    assert np.array_equal(r.fun(np.array([1.0, 2.0]), t), [4, 4, 4, 2, 4, 6])
    assert np.array_equal(r.jac(np.array([1.0, 2.0]), t), [[1, 0]] * 3 + [[0, 1], [0, 2], [0, 3]])


def test_dask_many_chunks_stay_lazy_and_equal_numpy() -> None:
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-2, 2, (90, 70)), rng.uniform(-2, 2, (90, 70))
    g = symgrad.gradient("exp(sin(x*y) + cos(y*z))/(1 + (x*y*z)**2) + a*x", wrt="x y z", args="a")
    g = g.using("numpy")
    lazy = g(da.from_array(x, chunks=(13, 17)), da.from_array(y, chunks=(20, 9)), 0.7, 2.0)
    assert isinstance(lazy, da.Array)
    assert lazy.shape == (3, 90, 70)
    assert np.array_equal(lazy.compute(scheduler="synchronous"), g(x, y, 0.7, 2.0))


# ----------------------------------------------------- the evaluators agree with the exact value

CONSISTENCY: list[tuple[str, Callable[[Any, Any, Any], list[Any]]]] = [  # (expression, exact gradient in x and y)
    ("exp(sin(x*y)) + log(1 + x**2)*y",
     lambda c, x, y: [c.exp(c.sin(x * y)) * c.cos(x * y) * y + 2 * x * y / (1 + x**2),
                      c.exp(c.sin(x * y)) * c.cos(x * y) * x + c.log(1 + x**2)]),
    ("atan2(y, x) + sqrt(x**2 + y**2)",
     lambda c, x, y: [-y / (x**2 + y**2) + x / c.sqrt(x**2 + y**2),
                      x / (x**2 + y**2) + y / c.sqrt(x**2 + y**2)]),
    ("x**3*y - y**2/x",
     lambda c, x, y: [3 * x**2 * y + y**2 / x**2, x**3 - 2 * y / x]),
]  # fmt: skip


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    case=st.sampled_from(range(len(CONSISTENCY))),
    x=st.floats(0.1, 10.0) | st.floats(-10.0, -0.1),
    y=st.floats(0.1, 10.0) | st.floats(-10.0, -0.1),
)
def test_every_evaluator_matches_the_exact_gradient(case: int, x: float, y: float) -> None:
    pytest.importorskip("numexpr")
    pytest.importorskip("symengine")
    expr, exact = CONSISTENCY[case]
    c = _ctx()
    truth = [float(v) for v in exact(c, c.mpf(x), c.mpf(y))]
    size = [float(abs(v)) for v in exact(c, abs(c.mpf(x)) + 1, abs(c.mpf(y)) + 1)]
    g = symgrad.gradient(expr, wrt="x y")
    for evaluator in EVALUATORS:
        got = g.using(evaluator)(np.array([x, x]), np.array([y, y]))[:, 0]
        # the terms' sizes times a generous condition bound: cancellation of terms is allowed
        assert np.all(np.abs(got - truth) <= 1e3 * U * (np.abs(truth) + size)), evaluator


@pytest.mark.parametrize("evaluator", ["numpy", "symengine"])
def test_threads_calling_one_function_get_the_same_values(evaluator: str) -> None:
    g = _using(symgrad.gradient("exp(sin(x*y))/(1 + x**2) + 3*x", wrt="x y"), evaluator)
    rng = np.random.default_rng(2)
    xs = [rng.uniform(-2, 2, 200) for _ in range(8)]
    refs = [g(x, x[::-1]) for x in xs]
    bad: list[int] = []

    def work(k: int) -> None:
        for it in range(40):
            i = (k + it) % 8
            if not np.array_equal(g(xs[i], xs[i][::-1]), refs[i]):
                bad.append(i)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bad == []


# ------------------------------------------------------------------- confirmed findings

_THREADS_SCRIPT = textwrap.dedent(
    """
    import threading, numpy as np, symgrad
    g = symgrad.gradient("exp(sin(x*y))/(1 + x**2) + 3*x", wrt="x y").using("numexpr")
    rng = np.random.default_rng(1)
    xs = [rng.uniform(-2, 2, 200) for _ in range(8)]
    # the reference: the same formula written out in NumPy
    refs = [np.array([np.exp(np.sin(x*y))*(y*np.cos(x*y)*(1 + x**2) - 2*x)/(1 + x**2)**2 + 3,
                      np.exp(np.sin(x*y))*x*np.cos(x*y)/(1 + x**2)]) for x, y in
            ((x, x[::-1]) for x in xs)]
    bad = []
    def work(k):
        for it in range(1500):
            i = (k + it) % 8
            if not np.allclose(g(xs[i], xs[i][::-1]), refs[i], rtol=1e-13, atol=1e-15):
                bad.append(i)
                return
    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads: t.start()
    for t in threads: t.join()
    print("wrong", len(bad))
    """
)


def test_numexpr_evaluator_called_from_threads_is_safe() -> None:
    """Four threads calling one ``using("numexpr")`` gradient: values against NumPy formulas.

    Run in a child process, since the failure aborts the interpreter.  The same happens under
    dask's default threaded scheduler with ``g.using("numexpr")(dask_arrays).compute()``.
    """
    pytest.importorskip("numexpr")
    proc = subprocess.run(
        [sys.executable, "-c", _THREADS_SCRIPT],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-300:]
    assert proc.stdout.split() == ["wrong", "0"]


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_derivative_of_a_negative_base_power_is_never_a_real_number(evaluator: str) -> None:
    """d/dx (-2)**x at x = 1 is -2*(log 2 + i*pi): not real, so no float64 value is right."""
    c = _ctx()
    exact = c.diff(lambda t: c.power(-2, t), 1)
    assert abs(c.im(exact)) > 6  # -2*pi
    try:
        g = _using(symgrad.gradient("(-2)**x"), evaluator)
    except SymgradError:
        return  # refused up front: also right
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = g(np.array([1.0, 2.0]))[0]
    assert not np.isfinite(got).any(), got  # -2*log(2) and 4*log(2) were returned


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_derivatives_of_moderate_size_survive_squared_intermediates(evaluator: str) -> None:
    g = _using(symgrad.gradient("sqrt(x**2 + y**2)", wrt="x y"), evaluator)
    got = g(np.array([1e200, 1e-300, 1.0]), np.array([1e200, 1e-300, 1.0]))
    assert np.allclose(got, np.sqrt(0.5), rtol=4 * U, atol=0), got


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_logistic_loss_gradient_at_a_large_margin(evaluator: str) -> None:
    loss = _using(symgrad.gradient("log(1 + exp(-y*w))", wrt="w", args="y"), evaluator)
    assert np.allclose(loss(np.array([800.0]), -1.0)[0], [1.0], rtol=4 * U, atol=0)


FORMULA_FINDINGS = [  # (expression, exact derivative, points, relative tolerance)
    pytest.param(
        "tanh(x)", lambda c, t: c.sech(t) ** 2, [5.0, 12.0, 20.0, 30.0],
        8 * U * (1 + 2 * 30),  # sech(x)**2's relative condition is 2*|x*tanh(x)|
        id="tanh",
    ),
    pytest.param(
        "sin(x)/x", lambda c, t: (t * c.cos(t) - c.sin(t)) / t**2, [1e-8, 1e-4],
        1e-6,  # (x cos x - sin x)/x**2 ~ -x/3 has relative condition ~1 near 0
        marks=_xfail("d/dx sin(x)/x is compiled as cos(x)/x - sin(x)/x**2, terms of 1e8 "
                     "cancelling at x = 1e-8: NumPy 1.5e-8 (wrong sign), symengine 0.0"),
        id="sinc",
    ),
    pytest.param(
        "log(1 + exp(x))", lambda c, t: 1 / (1 + c.exp(-t)), [30.0, 710.0, 800.0],
        4 * U,  # the logistic function: condition <= 1
        id="softplus",
    ),
    pytest.param(
        "asinh(x)", lambda c, t: 1 / c.sqrt(1 + t**2), [1e155],
        4 * U,
        id="asinh",
    ),
]  # fmt: skip


@pytest.mark.parametrize("evaluator", EVALUATORS)
@pytest.mark.parametrize(("expr", "exact", "points", "rtol"), FORMULA_FINDINGS)
def test_derivative_formulas_keep_their_relative_accuracy(
    evaluator: str, expr: str, exact: Callable[[Any, Any], Any], points: list[float], rtol: float
) -> None:
    """Each derivative against mpmath, within a few ulps times the value's own condition."""
    got = _using(symgrad.gradient(expr), evaluator)(np.array(points))[0]
    assert np.allclose(got, _exact(exact, points), rtol=rtol, atol=0), got
