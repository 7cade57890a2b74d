"""Red team, seventh pass: check_answer's proofs and samples, verify_operator's per-output verdicts.

Guards for behaviour that held, and ``xfail(strict=True)`` reproductions of confirmed findings.
Every oracle is independent of symgrad: closed forms and numerical derivatives in a private
mpmath context (never ``mpmath.mp``), plain Python arithmetic, or NumPy run on a grid fine
enough to resolve the planted field.
"""

from __future__ import annotations

import cmath
import math
import subprocess
import sys
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import pytest

import symgrad
from symgrad import Status
from symgrad.errors import SymgradError


def _ctx(dps: int) -> Any:
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


# ------------------------------------------------------------ check_answer: right answers

# (function, answer, f as mpmath, answer as mpmath, points in f's domain)
_Fn = Callable[[Any, Any], Any]
_EQUIVALENT: list[tuple[str, str, _Fn, _Fn, tuple[str, ...]]] = [
    ("log(x**2)", "2/x", lambda c, x: c.log(x**2), lambda c, x: 2 / x, ("-3.5", "0.25")),
    ("log(x)", "1/abs(x)", lambda c, x: c.log(x), lambda c, x: 1 / abs(x), ("0.3", "7")),
    (
        "acos(x)",
        "-1/sqrt((1 - x)*(1 + x))",
        lambda c, x: c.acos(x),
        lambda c, x: -1 / c.sqrt((1 - x) * (1 + x)),
        ("-0.9", "0.4"),
    ),
    (
        "tanh(x)",
        "4*exp(2*x)/(exp(2*x) + 1)**2",
        lambda c, x: c.tanh(x),
        lambda c, x: 4 * c.exp(2 * x) / (c.exp(2 * x) + 1) ** 2,
        ("-2", "0.7"),
    ),
    (
        "log(1 + exp(x))",
        "1/(1 + exp(-x))",
        lambda c, x: c.log(1 + c.exp(x)),
        lambda c, x: 1 / (1 + c.exp(-x)),
        ("-5", "3"),
    ),
    (
        "sqrt(x**2 + 1) - x",
        "x/sqrt(x**2 + 1) - 1",
        lambda c, x: c.sqrt(x**2 + 1) - x,
        lambda c, x: x / c.sqrt(x**2 + 1) - 1,
        ("-4", "1000"),
    ),
    (
        "asin(sin(x))",
        "sign(cos(x))",
        lambda c, x: c.asin(c.sin(x)),
        lambda c, x: c.sign(c.cos(x)),
        ("0.5", "2.5"),
    ),
    (
        "besselj(1, x)",
        "besselj(0, x) - besselj(1, x)/x",
        lambda c, x: c.besselj(1, x),
        lambda c, x: c.besselj(0, x) - c.besselj(1, x) / x,
        ("0.5", "12"),
    ),
    (
        "x**x",
        "exp(x*log(x))*(log(x) + 1)",
        lambda c, x: x**x,
        lambda c, x: c.exp(x * c.log(x)) * (c.log(x) + 1),
        ("0.5", "3"),
    ),
    (
        "exp(x)/(1 + exp(x))",
        "1/(4*cosh(x/2)**2)",
        lambda c, x: c.exp(x) / (1 + c.exp(x)),
        lambda c, x: 1 / (4 * c.cosh(x / 2) ** 2),
        ("-3", "8"),
    ),
    ("atan2(1, x)", "-1/(1 + x**2)", lambda c, x: c.atan2(1, x), lambda c, x: -1 / (1 + x**2), ("-2", "2")),
]  # fmt: skip


@pytest.mark.parametrize(("expr", "answer", "f", "g", "points"), _EQUIVALENT)
def test_check_answer_passes_right_answers_in_unusual_forms(
    expr: str, answer: str, f: _Fn, g: _Fn, points: tuple[str, ...]
) -> None:
    c = _ctx(40)
    for p in points:  # the oracle: a numerical derivative of f equals the answer
        x = c.mpf(p)
        assert abs(c.diff(lambda t: f(c, t), x) - g(c, x)) < c.mpf(10) ** -25 * (1 + abs(g(c, x)))
    assert symgrad.check_answer(expr, answer, "x").status is Status.PASS


# ------------------------------------------------------------ check_answer: wrong answers

_WRONG: list[tuple[str, Callable[[Any, Any], Any], str]] = [
    # answer, the answer minus 2x as mpmath, a point where that is nonzero
    ("2*x + exp(-10**6*(x - 1/3)**2)", lambda c, x: c.exp(-(10**6) * (x - c.mpf(1) / 3) ** 2), "1"),
    ("2*x + 10**-300", lambda c, x: c.mpf(10) ** -300, "1"),
    ("2*x + Max(exp(x) - 1e8, 0)", lambda c, x: max(c.exp(x) - 10**8, 0), "20"),
    ("2*x + Heaviside(-x - 10**7)", lambda c, x: c.mpf(-x - 10**7 > 0), "-2e7"),
    ("2*x + Heaviside(-x - exp(15))", lambda c, x: c.mpf(-x - c.exp(15) > 0), "-4e6"),
    ("2*x + abs(exp(x) - exp(3)) - (exp(x) - exp(3))", lambda c, x: abs(c.exp(x) - c.exp(3)) - (c.exp(x) - c.exp(3)), "1"),
]  # fmt: skip


@pytest.mark.parametrize(("answer", "extra", "point"), _WRONG)
def test_check_answer_fails_wrong_answers_it_can_see(
    answer: str, extra: Callable[[Any, Any], Any], point: str
) -> None:
    c = _ctx(60)
    assert extra(c, c.mpf(point)) != 0  # the oracle: the answer is not 2x there
    assert symgrad.check_answer("x**2", answer, "x").status is Status.FAIL


@pytest.mark.parametrize(
    "answer",
    ["2*x + Piecewise((1, x > 10**7), (0, True))", "2*x + floor(x)", "x**(10**999)", "2*x +", ""],
)
def test_check_answer_refuses_hostile_answers_with_a_symgrad_error(answer: str) -> None:
    with pytest.raises(SymgradError):
        symgrad.check_answer("x**2", answer, "x")


# ------------------------------------------- check_answer: findings (wrong answers that pass)

_BEYOND_THE_SAMPLE: list[tuple[str, str, Callable[[float, float], float], tuple[float, float]]] = [
    # (expr, answer, answer minus the derivative in plain floats, a point where it is nonzero)
    ("x**2", "2*x + Max(sqrt(x) - 1001, 0)", lambda x, y: max(x**0.5 - 1001, 0), (2e6, 0)),
    ("x**2", "2*x + Heaviside(log(x) - 14)", lambda x, y: float(math.log(x) > 14), (2e6, 0)),
    ("x**2", "2*x + Max(x**9 - 10**60, 0)", lambda x, y: max(x**9 - 1e60, 0), (1e7, 0)),
    ("x*y", "y + Max(x*y - 10**13, 0)", lambda x, y: max(x * y - 1e13, 0), (1e7, 1e7)),
    ("x*y", "y + Max(x - y - 1e7, 0)", lambda x, y: max(x - y - 1e7, 0), (2e7, 0)),
]


@pytest.mark.parametrize(("expr", "answer", "extra", "point"), _BEYOND_THE_SAMPLE)
def test_check_answer_does_not_pass_an_answer_wrong_beyond_the_sample(
    expr: str, answer: str, extra: Callable[[float, float], float], point: tuple[float, float]
) -> None:
    assert extra(*point) > 0  # the oracle: the answer is wrong there
    assert symgrad.check_answer(expr, answer, "x").status is not Status.PASS


def test_check_answer_does_not_pass_an_answer_wrong_on_tiny_intervals() -> None:
    c = _ctx(30)
    x = c.mpf(1) / 3  # the oracle: the extra term is 10**-6 at x = 1/3
    assert max(c.mpf(10) ** -6 - c.sin(x - c.mpf(1) / 3) ** 2, 0) == c.mpf(10) ** -6
    res = symgrad.check_answer("x**2", "2*x + Max(1/10**6 - sin(x - 1/3)**2, 0)", "x")
    assert res.status is not Status.PASS


@pytest.mark.parametrize(
    ("answer", "where"),
    [("2*x + 1 - sign(x)**2", Fraction(0)), ("2*x + 1 - sign(x - 1/3)**2", Fraction(1, 3))],
)
def test_check_answer_does_not_pass_an_answer_wrong_at_a_single_point(
    answer: str, where: Fraction
) -> None:
    def sign(v: Fraction) -> int:
        return (v > 0) - (v < 0)

    # the oracle: at x = where the answer is 2*where + 1, not the derivative 2*where
    assert 2 * where + 1 - sign(where - where) ** 2 == 2 * where + 1
    assert symgrad.check_answer("x**2", answer, "x").status is not Status.PASS


@pytest.mark.parametrize("answer", ["2*x*abs(sqrt(x))/sqrt(x)", "2*x*sqrt(x)/abs(sqrt(x))"])
def test_check_answer_does_not_pass_an_answer_not_real_on_half_the_domain(answer: str) -> None:
    root = cmath.sqrt(-1)  # the oracle at x = -1: the answer is 2i or -2i, f'(-1) = -2
    assert {2 * -1 * abs(root) / root, 2 * -1 * root / abs(root)} == {2j, -2j}
    assert symgrad.check_answer("x**2", answer, "x").status is not Status.PASS


@pytest.mark.parametrize(("expr", "answer"), [("gamma(x)", "1"), ("loggamma(x)", "1")])
def test_check_answer_on_gamma_fails_or_says_the_true_reason(expr: str, answer: str) -> None:
    c = _ctx(30)  # the oracle: gamma'(1) = loggamma'(1) = -euler_gamma, not 1, and real
    assert abs(c.diff(c.gamma, 1) + c.euler) < 1e-20
    assert abs(c.diff(c.loggamma, 1) + c.euler) < 1e-20
    res = symgrad.check_answer(expr, answer, "x")
    assert res.status is Status.FAIL or "no sample point is in the domain" not in res.reason


@pytest.mark.slow
@pytest.mark.parametrize(
    ("expr", "answer", "wrt"),
    [
        ("(x + y + z + 1)**120", "1", "x"),
        ("besselj(1000, x)", "1", "x"),
        ("tan(10**200*x)", "10**200/cos(10**200*x)**2", "x"),
    ],
)
def test_check_answer_returns_on_small_inputs(expr: str, answer: str, wrt: str) -> None:
    """A hang detector, not a timing: each call is a few dozen nodes and should take well under
    a second; the child is killed after two minutes."""
    code = (
        "import symgrad, sys; "
        "print(symgrad.check_answer(sys.argv[1], sys.argv[2], sys.argv[3]).status.value)"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, expr, answer, wrt],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("check_answer did not return")
    assert done.returncode == 0


# --------------------------------------------------------------- verify_operator per output


def _d(u: Any, h: Any, k: int) -> Any:
    return np.gradient(u, h[k], axis=k, edge_order=2)


def _gradient(u: Any, h: Any) -> list[Any]:
    return [_d(u, h, k) for k in range(u.ndim)]


def _u_z_first_order_face(u: Any, h: Any) -> list[Any]:
    out = _gradient(u, h)
    out[2][:, :, 0] = (u[:, :, 1] - u[:, :, 0]) / h[2]
    return out


def _curl(f: Any, h: Any, defect: str = "") -> list[Any]:
    fx, fy, fz = f
    out = [_d(fz, h, 1) - _d(fy, h, 2), _d(fx, h, 2) - _d(fz, h, 0), _d(fy, h, 0) - _d(fx, h, 1)]
    if defect == "curl_y":  # a forward difference inside: order 1
        out[1][:, :, 1:-1] = (fx[:, :, 2:] - fx[:, :, 1:-1]) / h[2] - _d(fz, h, 0)[:, :, 1:-1]
    if defect == "curl_z":  # a first-order face
        out[2][0] = (fy[1] - fy[0]) / h[0] - _d(fx, h, 1)[0]
    return out


_BOX3 = "x=0:1,y=0:1,z=0:1"
_CURL_FIELD = ["sin(y*z)", "exp(x/2)*z", "x*y**2"]


@pytest.mark.parametrize(
    ("scheme", "expr", "operator", "statuses"),
    [
        (_gradient, "sin(x + 0.3)*exp(y/2)*cos(z)", "gradient", ["pass", "pass", "pass"]),
        (_u_z_first_order_face, "sin(x + 0.3)*exp(y/2)*cos(z)", "gradient", ["pass", "pass", "fail"]),
        (lambda f, h: _curl(f, h, "curl_y"), _CURL_FIELD, "curl", ["exact", "fail", "pass"]),
        (lambda f, h: _curl(f, h, "curl_z"), _CURL_FIELD, "curl", ["exact", "pass", "fail"]),
    ],
)  # fmt: skip
def test_verify_operator_fails_the_planted_output_only(
    scheme: Callable[..., Any], expr: Any, operator: str, statuses: list[str]
) -> None:
    """The planted defects are order 1 by construction (a one-sided difference)."""
    res = symgrad.verify_operator(scheme, expr, _BOX3, operator, (9, 17, 33))
    assert [c.status.value for c in res.components] == statuses


def _leaky_u_y(u: Any, h: Any) -> list[Any]:
    """u_y plus half of the x-difference: an O(1) defect in u_y wherever u varies along x."""
    u_x, u_y = _gradient(u, h)
    return [u_x, u_y + 0.5 * _d(u, h, 0)]


def test_verify_operator_never_passes_a_u_y_that_reads_an_unresolved_x() -> None:
    """Fail (the leak is visible: errors that do not fall) or inconclusive (x is unresolved)."""
    res = symgrad.verify_operator(
        _leaky_u_y,
        "sin(200*x) + exp(y/2)",
        "x=0:1,y=0:1",
        "gradient",
        (9, 17, 33, 65),
        max_points=0,
    )
    assert res.components[0].status is Status.INCONCLUSIVE
    assert res.components[1].status in (Status.FAIL, Status.INCONCLUSIVE)
    assert res.status is not Status.PASS


def test_verify_operator_does_not_pass_a_u_y_that_reads_x() -> None:
    """sin(1024*pi*x) vanishes at every node up to N = 129: the field must be resolved along x
    for u_y too, since the scheme receives all of it."""
    # the oracle: on 2049 x 9 points x is resolved and the scheme's u_y is off by about 800
    n, m = 2049, 9
    xs, ys = np.linspace(0, 1, n), np.linspace(0, 1, m)
    x, y = np.meshgrid(xs, ys, indexing="ij")
    u = np.sin(1024 * np.pi * x) + np.exp(y / 2)
    h = (xs[1] - xs[0], ys[1] - ys[0])
    assert np.max(np.abs(_leaky_u_y(u, h)[1] - np.exp(y / 2) / 2)) > 100
    res = symgrad.verify_operator(
        _leaky_u_y, "sin(1024*pi*x) + exp(y/2)", "x=0:1,y=0:1", "gradient"
    )
    assert res.components[1].status is not Status.PASS


def _leaky_divergence(f: Any, h: Any) -> Any:
    """The divergence plus half of d(f_x)/dy: an O(1) defect wherever f_x varies along y."""
    return _d(f[0], h, 0) + _d(f[1], h, 1) + 0.5 * _d(f[0], h, 1)


def test_verify_operator_does_not_pass_a_divergence_that_reads_f_x_along_y() -> None:
    """sin(1024*pi*y) in f_x vanishes at every node: f_x must be resolved along y too."""
    # the oracle: on 9 x 2049 points y is resolved and the scheme is off by about 1600
    xs, ys = np.linspace(0, 1, 9), np.linspace(0, 1, 2049)
    x, y = np.meshgrid(xs, ys, indexing="ij")
    f = (np.exp(x / 2) + np.sin(1024 * np.pi * y), np.sin(x + y))
    h = (xs[1] - xs[0], ys[1] - ys[0])
    exact = np.exp(x / 2) / 2 + np.cos(x + y)
    assert np.max(np.abs(_leaky_divergence(f, h) - exact)) > 100
    field = ["exp(x/2) + sin(1024*pi*y)", "sin(x + y)"]
    res = symgrad.verify_operator(_leaky_divergence, field, "x=0:1,y=0:1", "divergence")
    assert res.status is not Status.PASS
