"""Red team, eighth pass: the verdicts users put in CI.

Attacks on ``check_gradient`` (planted errors in hand-written derivatives, correct code whose
float64 formula cancels or overflows, points in every format), ``taylor_test``, ``check``,
``convergence`` with standard and custom stencils, ``verify_grid`` on ``numpy.gradient`` at the
boundary, the certified arb referee's bounds, and the command line's exit codes.

Guards for behaviour that held, and ``xfail(strict=True)`` reproductions of confirmed findings.
Every oracle is independent of symgrad: closed forms in a private mpmath context (never
``mpmath.mp``), exact rational arithmetic (``fractions.Fraction``), plain Python and NumPy.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable
from fractions import Fraction
from typing import Any, Literal

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad
from symgrad import Status
from symgrad.errors import SymgradError


def _ctx(dps: int) -> Any:
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


_Mp = Callable[[Any, list[Any]], list[Any]]  # (ctx, point) -> the exact entries, row-major


def _truth_at(exact: _Mp, point: dict[str, float]) -> list[float]:
    """The closed-form derivative at a float point, to float64 (the point at its binary value)."""
    ctx = _ctx(60)
    return [float(v) for v in exact(ctx, [ctx.mpf(v) for v in point.values()])]


def _entry_index(result: Any) -> int:
    return [e.entry for e in result.entries].index(result.worst["entry"])


# ------------------------------------------------- check_gradient: planted errors must fail


def _rosen_exact(c: Any, p: list[Any]) -> list[Any]:
    x, y = p
    return [-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)]


def _chain20(*xs: np.ndarray, bad: int | None = None, factor: float = 1.0) -> np.ndarray:
    n = len(xs)
    rows = []
    for i in range(n):
        row = np.cos(xs[i]) * xs[(i + 1) % n] + np.sin(xs[(i - 1) % n])
        rows.append(row * factor if i == bad else row)
    return np.array(rows)


def _chain20_exact(c: Any, p: list[Any]) -> list[Any]:
    n = len(p)
    return [c.cos(p[i]) * p[(i + 1) % n] + c.sin(p[(i - 1) % n]) for i in range(n)]


_CHAIN20 = "+".join(f"sin(x{i})*x{(i + 1) % 20}" for i in range(20))
_CHAIN20_VARS = " ".join(f"x{i}" for i in range(20))


def _f32(x: Any) -> Any:
    return np.asarray(x, dtype=np.float32)


# (id, user code, expression, keywords, closed-form derivative)
_PLANTED: list[tuple[str, Callable[..., Any], Any, dict[str, Any], _Mp]] = [
    (
        "wrong sign of one term",
        lambda x, y: np.array([2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)]),
        "(1-x)**2 + 100*(y-x**2)**2",
        {},
        _rosen_exact,
    ),
    (
        "missing factor 2",
        lambda x, y: np.array([-2 * (1 - x) - 200 * x * (y - x**2), 200 * (y - x**2)]),
        "(1-x)**2 + 100*(y-x**2)**2",
        {},
        _rosen_exact,
    ),
    (
        "wrong only beyond |x| = 50",
        lambda x: np.cos(x) + np.where(np.abs(x) > 50, 1e-6, 0.0),
        "sin(x)",
        {"domain": (-100, 100)},
        lambda c, p: [c.cos(p[0])],
    ),
    (
        "one component of 20 off by 1e-6",
        lambda *xs: _chain20(*xs, bad=13, factor=1 + 1e-6),
        _CHAIN20,
        {"variables": _CHAIN20_VARS},
        _chain20_exact,
    ),
    (
        "relative error 1e-9 under rtol 1e-12",
        lambda x: np.cos(x) * (1 + 1e-9),
        "sin(x)",
        {"rtol": 1e-12},
        lambda c, p: [c.cos(p[0])],
    ),
    (
        "wrong only where exp is near overflow",
        lambda x: np.exp(x) * np.where(x > 690, 1 + 1e-6, 1.0),
        "exp(x)",
        {"domain": (600, 709)},
        lambda c, p: [c.exp(p[0])],
    ),
    (
        "wrong only where exp is subnormal",
        lambda x: np.exp(x) * np.where(x < -700, 1 + 1e-3, 1.0),
        "exp(x)",
        {"domain": (-740, -600)},
        lambda c, p: [c.exp(p[0])],
    ),
    (
        "error beside a constant of 1e300",
        lambda x, y: np.array([2 * x + 0 * y, np.cos(y) * (1 + 1e-5)]),
        "1e300 + x**2 + sin(y)",
        {},
        lambda c, p: [2 * p[0], c.cos(p[1])],
    ),
    (
        "float32 code off by 1e-5",
        lambda x: np.cos(_f32(x)) * np.float32(1 + 1e-5),
        "sin(x)",
        {},
        lambda c, p: [c.cos(p[0])],
    ),
    (
        "one Hessian off-diagonal entry off by 1e-6",
        lambda x, y: np.array([[6 * x * y, 3 * x**2 * (1 + 1e-6)], [3 * x**2, 0 * x]]),
        "x**3*y",
        {"kind": "hessian"},
        lambda c, p: [6 * p[0] * p[1], 3 * p[0] ** 2, 3 * p[0] ** 2, 0],
    ),
    (
        "Jacobian of one residual",
        lambda x, y: np.array([y, 1.001 * x]),
        ["x*y"],
        {"kind": "jacobian"},
        lambda c, p: [p[1], p[0]],
    ),
    (
        "NaN where the derivative is finite",
        lambda x: np.where(x > 1.5, np.nan, np.cos(x)),
        "sin(x)",
        {},
        lambda c, p: [c.cos(p[0])],
    ),
    (
        "points as Python ints",
        lambda x, y: np.array([y, x + 1e-3]),
        "x*y",
        {"at": [[1, 2], [3, 4]]},
        lambda c, p: [p[1], p[0]],
    ),
    (
        "points as Fractions",
        lambda x, y: np.array([y, x + 1e-3]),
        "x*y",
        {"at": [[Fraction(1, 3), Fraction(2, 7)], [Fraction(5, 3), Fraction(-1, 9)]]},
        lambda c, p: [p[1], p[0]],
    ),
    (
        "points as a float32 array",
        lambda x, y: np.array([y, x + 1e-3]),
        "x*y",
        {"at": np.array([[0.1, 0.2], [0.3, 0.7]], dtype=np.float32)},
        lambda c, p: [p[1], p[0]],
    ),
    (
        "points as a mapping of ints",
        lambda x, y: np.array([y, x + 1e-3]),
        "x*y",
        {"at": {"x": [1, 2, 3], "y": [4, 5, 6]}},
        lambda c, p: [p[1], p[0]],
    ),
]


@pytest.mark.parametrize(
    ("user", "expr", "kwargs", "exact"),
    [pytest.param(*case[1:], id=case[0]) for case in _PLANTED],
)
def test_check_gradient_fails_a_planted_error_and_names_true_values(
    user: Callable[..., Any], expr: Any, kwargs: dict[str, Any], exact: _Mp
) -> None:
    """The verdict is fail, and the worst entry's exact value is the closed form at its point
    while the user's value there is off by more than the tolerance."""
    r = symgrad.check_gradient(user, expr, **kwargs)
    assert r.status is Status.FAIL, r.reason
    assert not r.ok
    assert r.worst is not None
    truth = _truth_at(exact, r.worst["point"])[_entry_index(r)]
    assert r.worst["exact"] == pytest.approx(truth, rel=1e-13, abs=1e-300)
    user_value = r.worst["user"]
    assert not abs(user_value - truth) <= r.rtol * abs(truth), (user_value, truth)


# ----------------------------------------- check_gradient: correct code must not fail


def _softmax(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    m = np.maximum(x, y)
    a, b = np.exp(x - m), np.exp(y - m)
    return np.array([a / (a + b), b / (a + b)])


def _softmax_exact(c: Any, p: list[Any]) -> list[Any]:
    x, y = p
    return [1 / (1 + c.exp(y - x)), 1 / (1 + c.exp(x - y))]


# (id, correct user code, expression, keywords, closed-form derivative, must it pass?)
_CORRECT: list[tuple[str, Callable[..., Any], str, dict[str, Any], _Mp, bool]] = [
    (
        "1 - cos(x) near 0 (cancels)",
        lambda x: 1 - np.cos(x),
        "x - sin(x)",
        {"domain": (-1e-5, 1e-5)},
        lambda c, p: [2 * c.sin(p[0] / 2) ** 2],
        False,
    ),
    (
        "2 sin(x/2)^2 near 0 (accurate)",
        lambda x: 2 * np.sin(x / 2) ** 2,
        "x - sin(x)",
        {"domain": (-1e-5, 1e-5)},
        lambda c, p: [2 * c.sin(p[0] / 2) ** 2],
        True,
    ),
    (
        "derivative of (exp(x)-1)/x, naive quotient",
        lambda x: (np.exp(x) * x - (np.exp(x) - 1)) / x**2,
        "(exp(x)-1)/x",
        {"domain": (1e-6, 1e-3)},
        lambda c, p: [(c.exp(p[0]) * p[0] - c.expm1(p[0])) / p[0] ** 2],
        False,
    ),
    (
        "d/dx log(1+x) at 1e-12",
        lambda x: 1 / (1 + x),
        "log(1+x)",
        {"domain": (-1e-12, 1e-12)},
        lambda c, p: [1 / (1 + p[0])],
        True,
    ),
    (
        "exp(x)-1 at 1e-12",
        np.exp,
        "exp(x)-1",
        {"domain": (-1e-12, 1e-12)},
        lambda c, p: [c.exp(p[0])],
        True,
    ),
    (
        "hypot at 1e155",
        lambda x, y: np.array([x / np.hypot(x, y), y / np.hypot(x, y)]),
        "sqrt(x**2+y**2)",
        {"domain": (1e150, 1e160)},
        lambda c, p: [p[0] / c.hypot(*p), p[1] / c.hypot(*p)],
        True,
    ),
    (
        "hypot at 1e-165",
        lambda x, y: np.array([x / np.hypot(x, y), y / np.hypot(x, y)]),
        "sqrt(x**2+y**2)",
        {"domain": (1e-170, 1e-160)},
        lambda c, p: [p[0] / c.hypot(*p), p[1] / c.hypot(*p)],
        True,
    ),
    (  # the naive x/sqrt(x**2 + y**2) is now failed there: symgrad's own formula is scaled
        "naive cube root overflowing at 1e155",
        lambda x, y: np.array([2 * x, 2 * y]) / (3 * (x**2 + y**2) ** (2 / 3)),
        "(x**2+y**2)**(1/3)",
        {"domain": (1e150, 1e160)},
        lambda c, p: [2 * v / (3 * c.cbrt(p[0] ** 2 + p[1] ** 2) ** 2) for v in p],
        False,
    ),
    (
        "scale 1e-300",
        lambda x: 2e-300 * x,
        "1e-300*x**2",
        {},
        lambda c, p: [2 * c.mpf(10) ** -300 * p[0]],
        True,
    ),
    (
        "scale 1e300",
        lambda x: 2e300 * x,
        "1e300*x**2",
        {},
        lambda c, p: [2 * c.mpf(10) ** 300 * p[0]],
        True,
    ),
    (
        "(x - 1e8)^2 near 1e8",
        lambda x: 2 * (x - 1e8),
        "(x-1e8)**2",
        {"domain": (1e8 - 1, 1e8 + 1)},
        lambda c, p: [2 * (p[0] - 10**8)],
        True,
    ),
    (
        "exp where it is subnormal",
        np.exp,
        "exp(x)",
        {"domain": (-745, -600)},
        lambda c, p: [c.exp(p[0])],
        False,
    ),
    (
        "stable softmax over [-1000, 1000]",
        _softmax,
        "log(exp(x)+exp(y))",
        {"domain": (-1000, 1000)},
        _softmax_exact,
        False,
    ),
    (
        "float32 code",
        lambda x: np.cos(_f32(x)),
        "sin(x)",
        {},
        lambda c, p: [c.cos(p[0])],
        True,
    ),
]


@pytest.mark.parametrize(
    ("user", "expr", "kwargs", "exact", "passes"),
    [pytest.param(*case[1:], id=case[0]) for case in _CORRECT],
)
def test_check_gradient_never_fails_correct_code(
    user: Callable[..., Any], expr: str, kwargs: dict[str, Any], exact: _Mp, passes: bool
) -> None:
    """Correct code is never failed; accurate code passes; the exact value shown is the closed
    form at its point."""
    r = symgrad.check_gradient(user, expr, **kwargs)
    assert r.status is not Status.FAIL, r.reason
    if passes:
        assert r.status is Status.PASS, r.reason
    if r.worst is not None and r.worst["point"]:
        truth = _truth_at(exact, r.worst["point"])[_entry_index(r)]
        assert r.worst["exact"] == pytest.approx(truth, rel=1e-13, abs=1e-300)


# --------------------------- check_gradient: wrong values where its own float64 formula fails


def _sqrt1_wrong(x: np.ndarray) -> np.ndarray:
    """d/dx sqrt(x^2 + 1) by hypot, with the wrong sign beyond 1e154."""
    right: np.ndarray = x / np.hypot(x, 1.0)
    return np.where(x > 1e154, -right, right)


def _logistic_wrong(x: np.ndarray) -> np.ndarray:
    """d/dx log(1 + exp(x)) = 1/(1 + exp(-x)), but 0 beyond 750."""
    return np.where(x > 750, 0.0, 1 / (1 + np.exp(-x)))


def _softmax_swapped(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Stable softmax with its two entries swapped where both inputs exceed 709.8."""
    g = _softmax(x, y)
    return np.where((x > 709.8) & (y > 709.8), g[::-1], g)


_OWN_FORMULA_FAILS: list[tuple[str, Callable[..., Any], str, Any, _Mp]] = [
    (
        "sign flipped where x**2 overflows (undecided)",
        _sqrt1_wrong,
        "sqrt(x**2+1)",
        np.array([[0.5], [2.0], [3.0], [1e155], [1e156]]),
        lambda c, p: [p[0] / c.sqrt(p[0] ** 2 + 1)],
    ),
    (
        "0 where exp(x) overflows (skipped)",
        _logistic_wrong,
        "log(1+exp(x))",
        np.array([[0.5], [1.0], [800.0], [900.0]]),
        lambda c, p: [1 / (1 + c.exp(-p[0]))],
    ),
    (
        "softmax entries swapped where both exps overflow (skipped)",
        _softmax_swapped,
        "log(exp(x)+exp(y))",
        np.array([[0.3, -0.2], [5.0, 1.0], [800.0, 750.0], [720.0, 900.0]]),
        _softmax_exact,
    ),
]


@pytest.mark.parametrize(
    ("user", "expr", "at", "exact"),
    [pytest.param(*case[1:], id=case[0]) for case in _OWN_FORMULA_FAILS],
)
def test_check_gradient_does_not_pass_wrong_values_where_its_formula_overflows(
    user: Callable[..., Any], expr: str, at: np.ndarray, exact: _Mp
) -> None:
    ctx = _ctx(60)
    wrong = 0
    for row in at:
        truth = exact(ctx, [ctx.mpf(float(v)) for v in row])
        got = np.asarray(user(*row), dtype=float).ravel()
        assert all(ctx.isfinite(t) and abs(t) <= 1 for t in truth)  # the exact values are finite
        wrong += any(abs(g - float(t)) > 0.5 for g, t in zip(got, truth, strict=True))
    assert wrong == 2  # two of the points have a value wrong by more than 0.5
    r = symgrad.check_gradient(user, expr, at=at)
    assert r.status is not Status.PASS, r.reason


def _batch_mixing(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A batching slip: the mean over the points where each point's own value is meant."""
    return np.array([np.mean(y) + 0 * x, np.mean(x) + 0 * y])


def test_check_gradient_says_when_the_vectorized_call_is_wrong() -> None:
    at = np.array([[0.3, 0.7], [1.1, -0.4], [2.0, 0.5]])
    vectorized = _batch_mixing(at[:, 0], at[:, 1])
    assert vectorized[0, 1] != pytest.approx(at[1, 1])  # d/dx = y is wrong at the second point
    r = symgrad.check_gradient(_batch_mixing, "x*y", at=at)
    assert r.status is not Status.PASS or "vectorized" in r.reason, r.reason


# ------------------------------ check_gradient, property: planted errors fail, right code passes

# A term c*kind(x_i, x_j), i != j: its text and its two partials written by hand in NumPy.
_TERMS: dict[str, tuple[str, Callable[..., tuple[Any, Any]]]] = {
    "sin": ("sin({i}*{j})", lambda a, b: (np.cos(a * b) * b, np.cos(a * b) * a)),
    "poly": ("{i}**2*{j}", lambda a, b: (2 * a * b, a**2)),
    "log": (
        "log(1 + {i}**2 + {j}**2)",
        lambda a, b: (2 * a / (1 + a**2 + b**2), 2 * b / (1 + a**2 + b**2)),
    ),
    "atan": ("atan({i} - {j})", lambda a, b: (1 / (1 + (a - b) ** 2), -1 / (1 + (a - b) ** 2))),
    "exp": ("exp(({i} - {j})/2)", lambda a, b: (np.exp((a - b) / 2) / 2, -np.exp((a - b) / 2) / 2)),
}

_Term = tuple[int, str, int, int]  # coefficient, kind, i, j


@st.composite
def _sums(draw: Any) -> tuple[int, list[_Term]]:
    n = draw(st.integers(2, 5))
    pair = st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True)
    term = st.tuples(st.sampled_from([-3, -1, 1, 2, 5]), st.sampled_from(sorted(_TERMS)), pair)
    terms = draw(st.lists(term, min_size=1, max_size=5))
    return n, [(c, kind, ij[0], ij[1]) for c, kind, ij in terms]


def _sum_text(terms: list[_Term]) -> str:
    return " + ".join(f"({c})*" + _TERMS[k][0].format(i=f"w{i}", j=f"w{j}") for c, k, i, j in terms)


def _sum_gradient(
    n: int, terms: list[_Term], planted: tuple[int, float] | None
) -> Callable[..., Any]:
    def gradient(*xs: np.ndarray) -> np.ndarray:
        out = [np.zeros_like(np.asarray(xs[0], dtype=float)) for _ in range(n)]
        for c, kind, i, j in terms:
            di, dj = _TERMS[kind][1](xs[i], xs[j])
            out[i] = out[i] + c * di
            out[j] = out[j] + c * dj
        if planted is not None:
            k, eps = planted
            out[k] = out[k] * (1 + eps)
        return np.array(out)

    return gradient


def _judge_sums(case: tuple[int, list[_Term]], entry: int, eps: float) -> None:
    n, terms = case
    used = sorted({i for _, _, i, _ in terms} | {j for *_, j in terms})
    names = " ".join(f"w{i}" for i in range(n))
    right = symgrad.check_gradient(
        _sum_gradient(n, terms, None), _sum_text(terms), variables=names, n_points=50
    )
    assert right.status is Status.PASS, right.reason
    k = used[entry % len(used)]
    at = np.random.default_rng(1).uniform(-2, 2, (50, n))
    exact = _sum_gradient(n, terms, None)(*at.T)[k]
    if not np.any(np.abs(exact) > 1e-3):
        return  # the partial vanishes (the terms cancel): scaling it plants nothing
    planted = symgrad.check_gradient(
        _sum_gradient(n, terms, (k, eps)), _sum_text(terms), variables=names, at=at
    )
    assert planted.status is Status.FAIL, planted.reason


_EPS = st.sampled_from([1e-6, -1e-5, 1e-3, 0.5, -2.0])


@settings(max_examples=12, deadline=None, derandomize=True)
@given(case=_sums(), entry=st.integers(0, 4), eps=_EPS)
def test_check_gradient_property_planted_errors_fail(
    case: tuple[int, list[_Term]], entry: int, eps: float
) -> None:
    """Sums of terms whose partials are written by hand: the right code passes, the same code
    with one partial scaled by 1 + eps (|eps| >= 1e-6, 100 times the tolerance) fails."""
    _judge_sums(case, entry, eps)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, derandomize=True)
@given(case=_sums(), entry=st.integers(0, 4), eps=_EPS)
def test_check_gradient_property_planted_errors_fail_many(
    case: tuple[int, list[_Term]], entry: int, eps: float
) -> None:
    _judge_sums(case, entry, eps)


# ------------------------ compiled float64 values with variables named x0, x1, ... (symengine)

_X012 = np.array(
    [[0.5, 0.6, -1.2], [2.0, 2.0, 0.3], [1.0, -1.0, 0.7]]
)  # 3 points, as rows x0 x1 x2


def _closed_gradients(x0: np.ndarray, x1: np.ndarray, x2: np.ndarray) -> dict[str, np.ndarray]:
    """Gradients written by hand (NumPy) of functions whose partials do not all hold x2."""
    e, c = np.exp(x0), np.cos(x0 * x1)
    one, zero = np.ones_like(x2), np.zeros_like(x2)
    rosen = [-2 * (1 - x0) - 400 * x0 * (x1 - x0**2), 200 * (x1 - x0**2), one]
    return {
        "exp(x0)*x1 + x2": np.array([e * x1, e, one]),
        "sin(x0*x1) + 3*x2": np.array([c * x1, c * x0, 3 * one]),
        "sin(x0*x1)": np.array([c * x1, c * x0, zero]),
        "(1-x0)**2 + 100*(x1-x0**2)**2 + x2": np.array(rosen),
    }


@pytest.mark.parametrize("expr", sorted(_closed_gradients(*_X012)))
def test_symengine_gradient_with_variables_named_x0_x1_x2(expr: str) -> None:
    pytest.importorskip("symengine")
    g = symgrad.gradient(expr, wrt="x0 x1 x2").using("symengine")
    np.testing.assert_allclose(g(*_X012), _closed_gradients(*_X012)[expr], rtol=1e-13, atol=1e-13)


def test_numpy_gradient_with_variables_named_x0_x1_x2() -> None:
    """The NumPy evaluator of the same functions is right (closed forms above)."""
    for expr, truth in _closed_gradients(*_X012).items():
        g = symgrad.gradient(expr, wrt="x0 x1 x2").using("numpy")
        np.testing.assert_allclose(g(*_X012), truth, rtol=1e-13, atol=1e-13)


def test_for_scipy_residual_jacobian_with_parameters_named_x0_x1_x2() -> None:
    pytest.importorskip("symengine")
    t = np.linspace(0.0, 2.0, 5)
    y = 2 * np.exp(-0.7 * t) + 0.3
    problem = symgrad.for_scipy(["x0*exp(-x1*t) + x2 - y"], wrt="x0 x1 x2", args="t y")
    a, k = 2.0, 0.7
    closed = np.stack([np.exp(-k * t), -a * t * np.exp(-k * t), np.ones_like(t)], axis=1)
    np.testing.assert_allclose(problem.jac(np.array([a, k, 0.3]), t, y), closed, rtol=1e-13)


def test_check_does_not_pass_float64_values_that_are_wrong() -> None:
    pytest.importorskip("symengine")
    r = symgrad.check("exp(x0)*x1 + x2", ["x0=0.5, x1=2, x2=1", "x0=0.7, x1=-1, x2=3"])
    for p in r.points:
        x0, x1 = (float(p.point[k]) for k in ("x0", "x1"))
        truth = [math.exp(x0) * x1, math.exp(x0), 1.0]
        wrong = any(
            abs(c.float64 - t) > 1e-12 * abs(t) for c, t in zip(p.components, truth, strict=True)
        )
        assert r.status is not Status.PASS or not wrong, r.reason


def test_check_gradient_fails_a_planted_error_with_variables_named_x0_x1_x2() -> None:
    pytest.importorskip("symengine")

    def user(x0: np.ndarray, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        g = _closed_gradients(x0, x1, x2)["exp(x0)*x1 + x2"]
        g[0] *= 1 + 1e-3
        return g

    r = symgrad.check_gradient(user, "exp(x0)*x1 + x2", variables="x0 x1 x2")
    assert r.status is Status.FAIL, r.reason


# ------------------------------------------------------------------------------ taylor_test


def _sin_plus(c: float) -> Callable[[np.ndarray], float]:
    return lambda x: c + math.sin(float(x[0]))


def _right(x: np.ndarray) -> np.ndarray:
    return np.array([math.cos(float(x[0]))])


@pytest.mark.parametrize(
    ("grad", "status"),
    [
        (_right, Status.PASS),
        (lambda x: 0 * x, Status.FAIL),
        (lambda x: -_right(x), Status.FAIL),
        (lambda x: 1.001 * _right(x), Status.FAIL),
    ],
    ids=["right", "zero", "negated", "off by 1e-3"],
)
def test_taylor_test_without_an_offset(grad: Callable[..., Any], status: Status) -> None:
    """Oracle: f = sin, f' = cos (math); a gradient off by 1e-3 or more fails."""
    r = symgrad.taylor_test(_sin_plus(0.0), grad, np.array([0.5]))
    assert r.status is status, r.reason


@pytest.mark.parametrize("offset", [1e12, 1e13, 1e16])
@pytest.mark.parametrize(
    "grad",
    [lambda x: 0 * x, lambda x: -_right(x), lambda x: 2 * _right(x)],
    ids=["zero", "negated", "doubled"],
)
def test_taylor_test_is_not_exact_for_a_wrong_gradient_beside_a_large_offset(
    grad: Callable[..., Any], offset: float
) -> None:
    x0 = np.array([0.5])
    f = _sin_plus(offset)
    # plain Python shows f is not linear with the given slope: over h = 0.1 the change of f
    # is sin(0.6) - sin(0.5) = 0.0958, the gradient's prediction is 0.1 * g
    change = math.sin(0.6) - math.sin(0.5)
    assert abs(change - 0.1 * float(grad(x0)[0])) > 0.05
    r = symgrad.taylor_test(f, grad, x0)
    assert not r.ok, r.reason


# --------------------------------------------- the referee at extreme points: no traceback

_EXTREME = [
    ("exp(-1/x**2)", "1e-200", 15, lambda c, x: 2 / x**3 * c.exp(-1 / x**2)),
    ("erfc(x)", "1e200", 50, lambda c, x: -2 / c.sqrt(c.pi) * c.exp(-(x**2))),
]


@pytest.mark.parametrize(("expr", "x", "dps", "derivative"), _EXTREME)
def test_finite_difference_at_extreme_points_returns_or_raises_a_symgrad_error(
    expr: str, x: str, dps: int, derivative: Callable[[Any, Any], Any]
) -> None:
    ctx = _ctx(1000)  # the point exactly, and the derivative's magnitude (mpmath's exponents
    truth = derivative(ctx, ctx.mpf(x))  # are unbounded)
    assert truth != 0
    assert ctx.isfinite(truth)
    try:
        r = symgrad.finite_difference(expr, f"x={x}", "x", dps=dps)
    except SymgradError:
        return
    if r.status.value == "ok":
        assert abs(ctx.mpf(r.value) - truth) <= ctx.mpf(r.error_estimate)


def test_cli_check_at_an_extreme_point_ends_without_a_traceback() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "symgrad", "check", "exp(-1/x**2)", "--at", "x=1e-200"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" not in run.stderr, run.stderr[-300:]
    assert run.returncode in (0, 1, 2)


@pytest.mark.parametrize(
    ("expr", "x", "value"),
    [
        ("1/(x-1)", "1.0000000000000000000000000000000000000001", lambda c, x: 1 / (x - 1)),
        ("atanh(x)", "0.999999999999999999999999999999", lambda c, x: c.atanh(x)),
        ("asin(x)", "0.999999999999999999999999999999", lambda c, x: c.asin(x)),
    ],
)
def test_a_point_near_a_singularity_is_not_called_the_singularity(
    expr: str, x: str, value: Callable[[Any, Any], Any]
) -> None:
    ctx = _ctx(100)
    f_here = value(ctx, ctx.mpf(x))
    assert ctx.isfinite(f_here)
    assert ctx.im(f_here) == 0  # f is finite and real at the point
    r = symgrad.finite_difference(expr, f"x={x}", "x", dps=15)
    assert r.status.value not in ("pole", "domain"), r.reason


# ------------------------------------------------- check: a correct derivative never fails

_HARD = [
    ("log(1+x)", "x=1e-30"),
    ("x - sin(x)", "x=1e-8"),
    ("exp(x)-1", "x=1e-300"),
    ("sqrt(x**2+y**2)", "x=1e200, y=3e199"),
    ("exp(x)", "x=-740"),
    ("(exp(x)-1)/x", "x=1e-10"),
    ("sin(1e10*x)", "x=0.3"),
    ("tan(x)", "x=1.5707963267948966"),
    ("x**x", "x=1e-10"),
    ("gamma(x)", "x=-2.5"),
    ("loggamma(x)", "x=1e100"),
    ("erfc(x)", "x=30"),
    ("atan2(y, x)", "x=-1, y=1e-30"),
    ("exp(-1/x**2)", "x=0.01"),
    ("sin(x)/x", "x=1e-20"),
    ("1e16 + x*y", "x=1, y=1e-20"),
    ("acos(x)", "x=0.9999999999"),
    ("asinh(x)", "x=1e300"),
    ("x*y*z", "x=1e100, y=1e-100, z=1"),
    ("sin(x)**2 + cos(x)**2", "x=0.7"),
    ("abs(x)**3", "x=0"),
    ("Heaviside(x)*x**2", "x=0"),
]


@pytest.mark.parametrize(("expr", "at"), _HARD)
def test_check_never_fails_a_correct_derivative_at_hard_points(expr: str, at: str) -> None:
    """SymPy's derivative is right at these points (closed forms), so fail would be false."""
    r = symgrad.check(expr, at)
    assert r.status is not Status.FAIL, r.reason
    assert not any(c.point_status.value == "mismatch" for p in r.points for c in p.components)


# ------------------------------------------- convergence: orders and exactness, by Fractions


def _weights(m: int, offsets: list[Fraction]) -> list[Fraction]:
    """Weights w with sum(w s^k) = k! [k == m] for k < len(offsets), by Gauss-Jordan in
    Fractions (not symgrad's Fornberg recursion)."""
    n = len(offsets)
    rows = [
        [s**k for s in offsets] + [Fraction(math.factorial(m) if k == m else 0)] for k in range(n)
    ]
    for col in range(n):
        pivot = next(r for r in range(col, n) if rows[r][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        rows[col] = [v / rows[col][col] for v in rows[col]]
        for r in range(n):
            if r != col and rows[r][col] != 0:
                rows[r] = [a - rows[r][col] * b for a, b in zip(rows[r], rows[col], strict=True)]
    return [row[-1] for row in rows]


def _accuracy(m: int, offsets: list[Fraction], w: list[Fraction]) -> int:
    """The first k - m with a nonzero moment sum(w s^k), k > m: the order on a generic f."""
    k = len(offsets)
    while sum(wj * s**k for wj, s in zip(w, offsets, strict=True)) == 0:
        k += 1
    return k - m


def _poly_fd(
    m: int, offsets: list[Fraction], w: list[Fraction], coeffs: list[int], x: Fraction, h: Fraction
) -> Fraction:
    def p(t: Fraction) -> Fraction:
        return sum((Fraction(c) * t**i for i, c in enumerate(coeffs)), Fraction(0))

    return sum((wj * p(x + s * h) for wj, s in zip(w, offsets, strict=True)), Fraction(0)) / h**m


def _poly_derivative(m: int, coeffs: list[int], x: Fraction) -> Fraction:
    return sum(
        (Fraction(c * math.perm(i, m)) * x ** (i - m) for i, c in enumerate(coeffs) if i >= m),
        Fraction(0),
    )


_STENCILS = [
    (1, "-1, 0, 2"),
    (1, "-3/2, -1/2, 1/2, 3/2"),
    (1, "0, 1, 3, 7"),
    (2, "-1, 0, 1, 3"),
    (1, "0, 1, 2, 3"),
    (2, "-3, -2, -1, 0"),
    (1, "-2, -1, 0, 1, 2"),
]


def _offsets(text: str) -> list[Fraction]:
    return [Fraction(s.strip()) for s in text.split(",")]


@pytest.mark.parametrize(("m", "offsets"), _STENCILS)
@pytest.mark.parametrize("precision", ["mp", "float64"])
def test_convergence_shows_the_stencils_own_order_on_exp(
    m: int, offsets: str, precision: str
) -> None:
    """On exp at 0.3 every derivative is nonzero, so the observed order is the accuracy of the
    weights computed here in Fractions; a claim of one more fails or is inconclusive."""
    s = _offsets(offsets)
    p = _accuracy(m, s, _weights(m, s))
    stencil = symgrad.Stencil.from_offsets(m, offsets)
    r = symgrad.convergence("exp(x)", "x=0.3", ("x", m), schemes=[stencil], precision=precision)
    scheme = r.schemes[0]
    assert scheme.status is Status.PASS, scheme.reason
    assert abs(scheme.observed_order - p) <= 0.2
    claimed = symgrad.convergence(
        "exp(x)", "x=0.3", ("x", m), schemes=[stencil], precision=precision, expected_order=p + 1
    )
    assert claimed.schemes[0].status is not Status.PASS


@pytest.mark.parametrize(("m", "offsets"), _STENCILS)
@pytest.mark.parametrize("coeffs", [[0, 0, 1], [1, -3, 0, 1], [0, 0, 0, 0, 2], [1, 1, 0, 0, 0, 1]])
def test_convergence_is_exact_only_when_the_stencil_is_exact_in_fractions(
    m: int, offsets: str, coeffs: list[int]
) -> None:
    """exact iff the stencil reproduces the polynomial's derivative exactly at two steps."""
    s = _offsets(offsets)
    w = _weights(m, s)
    x = Fraction(1)
    truth = _poly_derivative(m, coeffs, x)
    exact = all(_poly_fd(m, s, w, coeffs, x, h) == truth for h in (Fraction(1, 10), Fraction(1, 7)))
    expr = " + ".join(f"({c})*x**{i}" for i, c in enumerate(coeffs) if c)
    r = symgrad.convergence(
        expr,
        "x=1",
        ("x", m),
        schemes=[symgrad.Stencil.from_offsets(m, offsets)],
        step_sizes="1e-1:1e-6:11",
    )
    status = r.schemes[0].status
    assert (status is Status.EXACT) == exact, (expr, offsets, status, r.schemes[0].reason)
    assert status is not Status.FAIL


@pytest.mark.parametrize(
    ("expr", "scheme"),
    [("x**3", "forward:1"), ("x**5", "central:2"), ("x**11", "central:4"), ("sin(x)", "forward:1")],
)
def test_convergence_does_not_pass_where_the_leading_term_vanishes(expr: str, scheme: str) -> None:
    """At 0 these f have f^(1+p)(0) = 0 (closed forms), so the error falls faster than h^p and
    the scheme's order is not shown."""
    r = symgrad.convergence(expr, "x=0", "x", schemes=scheme, step_sizes="1e-1:1e-6:11")
    assert r.schemes[0].status is Status.INCONCLUSIVE, r.schemes[0].reason


# ------------------------------------------- verify_grid: numpy.gradient at the boundary

_FIELD = "sin(x+0.3)*exp(y/2)"
_BOX = "x=-1:1, y=0:2"


def _warped(n: int) -> list[np.ndarray]:
    s = np.linspace(0.0, 1.0, n)
    return [-1 + 2 * (s + 0.05 * np.sin(np.pi * s)), 2 * s**2]


def _boundary_order_by_numpy(edge_order: Literal[1, 2], warped: bool) -> float:
    """The fitted L-infinity order of d/dx on the x faces, measured here with np.gradient
    against the closed form cos(x + 0.3) exp(y/2), on 17 ... 129 points per axis."""
    hs, errors = [], []
    for n in (17, 33, 65, 129):
        x, y = _warped(n) if warped else [np.linspace(-1, 1, n), np.linspace(0, 2, n)]
        gx, gy = np.meshgrid(x, y, indexing="ij")
        d = np.gradient(np.sin(gx + 0.3) * np.exp(gy / 2), x, y, edge_order=edge_order)[0]
        exact = np.cos(gx + 0.3) * np.exp(gy / 2)
        errors.append(max(np.abs(d - exact)[[0, -1], :].max(), 1e-300))
        hs.append(1 / (n - 1))
    return float(np.polyfit(np.log(hs), np.log(errors), 1)[0])


def _numpy_warped(edge_order: Literal[1, 2]) -> Callable[..., Any]:
    def scheme(field: np.ndarray, spacing: Any) -> Any:
        return np.gradient(field, *spacing, edge_order=edge_order)

    return scheme


def _uniform_spacing_on_a_warped_grid(field: np.ndarray, spacing: Any) -> Any:
    """A slip: the mean spacing where the coordinates are not uniform."""
    return np.gradient(field, *[(c[-1] - c[0]) / (len(c) - 1) for c in spacing])


@pytest.mark.parametrize(
    ("scheme", "warped", "edge_order", "claim", "status"),
    [
        ("numpy", False, 1, (2, 1), Status.PASS),
        ("numpy", False, 1, 2, Status.FAIL),
        ("numpy:edge_order=2", False, 2, 2, Status.PASS),
        ("numpy:edge_order=2", False, 2, (2, 1), Status.FAIL),
        (_numpy_warped(1), True, 1, 2, Status.FAIL),
        (_numpy_warped(2), True, 2, 2, Status.PASS),
    ],
    ids=["e1 claim 2,1", "e1 claim 2", "e2 claim 2", "e2 claim 2,1", "warped e1", "warped e2"],
)
def test_verify_grid_boundary_orders_of_numpy_gradient(
    scheme: Any, warped: bool, edge_order: Literal[1, 2], claim: Any, status: Status
) -> None:
    """The boundary order measured here decides which claim is true; the verdict follows it."""
    measured = _boundary_order_by_numpy(edge_order, warped)
    assert abs(measured - edge_order) < 0.15
    kwargs: dict[str, Any] = {"coordinates": _warped} if warped else {}
    r = symgrad.verify_grid(_FIELD, _BOX, scheme=scheme, expect_order=claim, **kwargs)
    assert r.status is status, r.reason
    x = next(c for c in r.components if c.variable == "x")
    assert x.boundary is not None
    assert abs(x.boundary.observed_order - measured) < 0.1


def test_verify_grid_fails_uniform_spacing_on_a_warped_grid() -> None:
    r = symgrad.verify_grid(
        _FIELD, _BOX, scheme=_uniform_spacing_on_a_warped_grid, coordinates=_warped
    )
    assert r.status is Status.FAIL, r.reason


# -------------------------------------------------- the certified arb referee's bounds

_ARB: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("exp(x)", lambda c, x: c.exp(x)),
    ("sin(x)", lambda c, x: c.cos(x)),
    ("1/(x-1)", lambda c, x: -1 / (x - 1) ** 2),
    ("log(x)", lambda c, x: 1 / x),
    ("tan(x)", lambda c, x: 1 / c.cos(x) ** 2),
    ("exp(1000*x)", lambda c, x: 1000 * c.exp(1000 * x)),
    ("sin(1000000*x)", lambda c, x: 1000000 * c.cos(1000000 * x)),
    ("erf(x)", lambda c, x: 2 / c.sqrt(c.pi) * c.exp(-(x**2))),
    ("gamma(x)", lambda c, x: c.gamma(x) * c.digamma(x)),
    ("x**x", lambda c, x: x**x * (c.log(x) + 1)),
    ("exp(-1/x**2)", lambda c, x: 2 / x**3 * c.exp(-1 / x**2)),
    ("tanh(x)", lambda c, x: 1 / c.cosh(x) ** 2),
    ("x - sin(x)", lambda c, x: 2 * c.sin(x / 2) ** 2),
    ("1e300*x**3", lambda c, x: 3 * c.mpf(10) ** 300 * x**2),
    ("x/(1+x**2)**50", lambda c, x: 1 / (1 + x**2) ** 50 - 100 * x**2 / (1 + x**2) ** 51),
    ("cos(1/x)", lambda c, x: c.sin(1 / x) / x**2),
]
_ARB_POINTS = ["0.3", "1e-10", "1e10", "-7.5", "1.0000000000001", "1e300", "1e-40", "2.5"]


def _certified_bound_misses(
    expr: str, exact: Callable[[Any, Any], Any], points: list[str], dps_list: tuple[int, ...]
) -> list[str]:
    """Every certified result's |value - exact| <= error_estimate, exact at 2 dps + 40 digits
    (at least 700, so that 10^300 itself is exact)."""
    misses = []
    for x, dps in ((x, d) for x in points for d in dps_list):
        try:
            r = symgrad.finite_difference(expr, f"x={x}", "x", dps=dps, engine="arb")
        except SymgradError:
            continue
        if not r.certified:
            continue
        ctx = _ctx(max(2 * dps + 40, 700))
        if not abs(ctx.mpf(r.value) - exact(ctx, ctx.mpf(x))) <= ctx.mpf(r.error_estimate):
            misses.append(f"{expr} at {x}, dps={dps}")
    return misses


@pytest.mark.parametrize(("expr", "exact"), _ARB[:8])
def test_certified_arb_bounds_hold(expr: str, exact: Callable[[Any, Any], Any]) -> None:
    pytest.importorskip("flint")
    assert _certified_bound_misses(expr, exact, _ARB_POINTS[:5], (15, 60)) == []


@pytest.mark.slow
@pytest.mark.parametrize(("expr", "exact"), _ARB)
def test_certified_arb_bounds_hold_everywhere(expr: str, exact: Callable[[Any, Any], Any]) -> None:
    pytest.importorskip("flint")
    assert _certified_bound_misses(expr, exact, _ARB_POINTS, (15, 40, 120, 200)) == []


# ------------------------------------------------------------ the command line's verdicts


def _cli(*args: str) -> tuple[int, dict[str, Any]]:
    run = subprocess.run(
        [sys.executable, "-m", "symgrad", *args, "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" not in run.stderr, run.stderr[-300:]
    return run.returncode, json.loads(run.stdout)


def test_cli_a_failed_grid_claim_exits_1_and_says_fail() -> None:
    """Oracle: np.gradient's x faces converge at order 1 (measured above), not the claimed 2."""
    assert abs(_boundary_order_by_numpy(1, warped=False) - 1) < 0.15
    code, data = _cli("verify-grid", _FIELD, "--domain", "x=-1:1,y=0:2", "--expect-order", "2")
    assert (code, data["status"]) == (1, "fail")


def test_cli_an_inconclusive_sweep_exits_1_and_is_not_a_pass() -> None:
    """At 0, x**11 has f^(k)(0) = 0 for k < 11: central:2 differs from f' = 0 by exactly h^10
    (Fractions), an order of 10, so no scheme shows its own order."""
    w = _weights(1, _offsets("-1, 0, 1"))
    for h in (Fraction(1, 10), Fraction(1, 3)):
        assert _poly_fd(1, _offsets("-1, 0, 1"), w, [0] * 11 + [1], Fraction(0), h) == h**10
    code, data = _cli("converge", "x**11", "--at", "x=0")
    assert (code, data["status"]) == (1, "inconclusive")


def _zero_scheme(field: np.ndarray, spacing: Any) -> list[np.ndarray]:
    return [np.zeros_like(field) for _ in spacing]


def test_verify_grid_beside_a_large_offset_is_not_exact_for_a_zero_scheme() -> None:
    """On 1e15 + sin(x) + y the float64 field cannot show sin's changes (its spacing there is
    0.125), and a scheme returning 0 is off by |cos(x)| up to 1 (NumPy below): the verdict may
    only be inconclusive, never pass or exact (unlike taylor_test's floor, above)."""
    x = np.linspace(-1.0, 1.0, 17)
    assert np.spacing(1e15) == 0.125
    assert np.max(np.abs(np.cos(x))) == 1.0
    r = symgrad.verify_grid("1e15 + sin(x) + y", _BOX, scheme=_zero_scheme)
    assert r.status is Status.INCONCLUSIVE, r.reason
