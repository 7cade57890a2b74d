"""Red team, second pass: attacks on this session's changes that held, kept as guards.

Oracles are closed forms evaluated in a private mpmath context (never ``mpmath.mp``), exact
NumPy references, or planted errors whose verdict is known by construction.
"""

from __future__ import annotations

import itertools
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


def test_certified_bounds_hold_on_one_function_across_scales_signs_and_precisions() -> None:
    """One compiled function, called at very different scales and precisions in turn (so a stale
    step, constant or precision kept between calls would show), every bound against cos(x)·exp(y)
    and sin(x)·exp(y) at three times the digits."""
    pytest.importorskip("flint")
    f = symgrad.function("sin(x)*exp(y)", variables="x y")
    calls = [
        ("1e-30", "0.5", 15, "central:2"),
        ("1e30", "-2", 300, "central:4"),
        ("-0.7", "1e-30", 15, "forward:2"),
        ("3", "0", 50, "backward:3"),
        ("1e-30", "0.5", 300, "central:6"),
        ("-1e30", "0.5", 15, "central:2"),
    ]
    for x, y, dps, scheme in calls:
        ctx = _ctx(3 * dps + 40)
        xv, yv = ctx.mpf(x), ctx.mpf(y)
        truths = {"x": ctx.cos(xv) * ctx.exp(yv), "y": ctx.sin(xv) * ctx.exp(yv)}
        for wrt, truth in truths.items():
            r = symgrad.finite_difference(
                f, f"x={x}, y={y}", wrt=wrt, scheme=scheme, dps=dps, engine="arb"
            )
            assert r.certified, (x, y, dps, scheme, wrt, r.reason)
            assert abs(ctx.mpf(r.value) - truth) <= ctx.mpf(r.error_estimate), (x, y, dps, wrt)


def _taylor_f(x: np.ndarray) -> float:
    return float(np.sin(10 * x[0]) * x[1] ** 2 + np.exp(0.3 * x[1]))


def _taylor_grad(x: np.ndarray) -> np.ndarray:
    s, c = np.sin(10 * x[0]), np.cos(10 * x[0])
    return np.array([10 * c * x[1] ** 2, 2 * x[1] * s + 0.3 * np.exp(0.3 * x[1])])


@pytest.mark.parametrize(("first", "ratio"), list(itertools.product([1e-1, 1e-3, 1e-6], [2, 10])))
def test_taylor_test_with_user_steps_never_passes_a_wrong_gradient_nor_fails_the_right_one(
    first: float, ratio: float
) -> None:
    steps = first / ratio ** np.arange(5)
    x0, v = np.array([0.37, 1.3]), np.ones(2)
    right = symgrad.taylor_test(_taylor_f, _taylor_grad, x0, direction=v, step_sizes=steps)
    assert right.status is not Status.FAIL, right.reason
    for wrong in (
        lambda x: _taylor_grad(x) * (1 + 1e-3),
        lambda x: np.zeros(2),
        lambda x: _taylor_grad(x) * np.array([-1.0, 1.0]),
    ):
        r = symgrad.taylor_test(_taylor_f, wrong, x0, direction=v, step_sizes=steps)
        assert r.status is not Status.PASS, r.reason


EDGE = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 5e-324, -5e-324, 2.2e-308, 1e300, -1e300, 1.0])


@pytest.mark.parametrize(
    "text", ["sqrt(x)*y", "x**1000", "y/x", "x**(-3)*y", "sqrt(x)/sqrt(y)", "x*y**-0.5", "x**y"]
)
def test_symengine_evaluator_gives_numpys_values_at_ieee_edges(text: str) -> None:
    pytest.importorskip("symengine")
    e = symgrad.parse(text)
    names = sorted(e.free_symbols, key=str)
    xs, ys = (a.ravel() for a in np.meshgrid(EDGE, EDGE))
    values = {"x": xs, "y": ys}
    args = [values[str(s)] for s in names]
    ref = np.asarray(symgrad.Compiled([e], names, evaluator="numpy")(*args), float).ravel()
    got = np.asarray(symgrad.Compiled([e], names, evaluator="symengine")(*args), float).ravel()
    with np.errstate(invalid="ignore"):
        close = np.abs(got - ref) <= 4 * np.spacing(np.abs(ref))
    assert np.all((got == ref) | (np.isnan(got) & np.isnan(ref)) | close)


def test_a_float64_entry_beside_a_float32_one_is_judged_at_float64() -> None:
    """d/dx returned in float32, d/dy in float64 and 1e-6 off: the float64 entry fails."""

    def user(x: Any, y: Any) -> list[Any]:
        gx = (np.cos(x) * y).astype(np.float32)
        gy = (np.sin(x) + np.exp(y)) * (1 + 1e-6)
        return [gx, gy]

    r = symgrad.check_gradient(user, "sin(x)*y + exp(y)", variables="x y", n_points=50)
    assert r.status is Status.FAIL, r.reason

    def right(x: Any, y: Any) -> list[Any]:
        return [(np.cos(x) * y).astype(np.float32), np.sin(x) + np.exp(y)]

    ok = symgrad.check_gradient(right, "sin(x)*y + exp(y)", variables="x y", n_points=50)
    assert ok.status is Status.PASS, ok.reason
