"""taylor_test with the user's step sizes: no verdict the steps cannot support.

Steps outside f's asymptotic range along v (sin(1000 x) over 1e-1..1e-3), steps where the
curvature hides a first-order error, steps at the round-off floor, and steps that alias a fast
oscillation must give ``inconclusive``; a right gradient never fails, and a planted error
(gradient times 1.001, a dropped term, a zero gradient) fails wherever the data decides it.
References: gradients, Hessians and third-derivative bounds written by hand (closed forms).
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad import taylor_test
from symgrad.results import Status

K = 1000.0  # sin(K x): a period of 2π/K ≈ 0.0063


def sin_k(p: Any) -> float:
    return float(np.sin(K * p[0]))


def sin_k_gradient(p: Any) -> Any:
    return np.array([K * np.cos(K * p[0])])


def _zero(p: Any) -> Any:
    return 0.0 * sin_k_gradient(p)


def _scaled(p: Any) -> Any:
    return 1.001 * sin_k_gradient(p)


GRADIENTS = {"right": sin_k_gradient, "x1.001": _scaled, "zero": _zero}


@pytest.mark.parametrize("name", list(GRADIENTS))
def test_steps_that_swing_through_many_periods_give_no_verdict(name: str) -> None:
    """sin(1000 x) at 0.3, h = 1e-1..1e-3: the secants do not settle, whatever the gradient."""
    hs = np.geomspace(1e-1, 1e-3, 9)
    r = taylor_test(sin_k, GRADIENTS[name], [0.3], direction=[1.0], step_sizes=hs)
    assert r.status is Status.INCONCLUSIVE, r.reason
    assert "not in the asymptotic range of f along v" in r.reason


@pytest.mark.parametrize("name", list(GRADIENTS))
def test_steps_whose_curvature_hides_the_error_do_not_pass(name: str) -> None:
    """h = 1e-2..1e-4: c·h ≥ 5e5·|sin(300)|·1e-4 ≈ 50 hides first-order errors up to ~50.

    The remainders fall as h² for every gradient here, a zero one included (its error along
    v is |1000 cos(300)| ≈ 22.1): no pass, and the bound the reason states covers that error.
    """
    hs = np.geomspace(1e-2, 1e-4, 9)
    r = taylor_test(sin_k, GRADIENTS[name], [0.3], direction=[1.0], step_sizes=hs)
    assert r.status is Status.INCONCLUSIVE, r.reason
    found = re.search(r"a first-order error along v as large as ([0-9.e+-]+)", r.reason)
    assert found, r.reason
    if name == "zero":
        assert float(found.group(1)) >= abs(K * math.cos(K * 0.3))


def test_asymptotic_user_steps_decide() -> None:
    """h = 1e-3..1e-5 (K h ≤ 1): the right gradient passes.  At h = 4e-9..4e-10 the 1.001
    error |e| = 1e-3·1000·|cos(300)| = 0.0221 is 10 to 100 times the curvature term
    c h = 5e5·|sin(300)|·h, and e h ≥ 8.8e-12 is 40 times f's round-off floor: it fails, and so
    does the zero gradient."""
    right = taylor_test(
        sin_k, sin_k_gradient, [0.3], direction=[1.0], step_sizes=np.geomspace(1e-3, 1e-5, 9)
    )
    assert right.status is Status.PASS, right.reason
    assert right.observed_order == pytest.approx(2.0, abs=0.05)
    small = np.geomspace(4e-9, 4e-10, 5)
    for wrong in (_scaled, _zero):
        r = taylor_test(sin_k, wrong, [0.3], direction=[1.0], step_sizes=small)
        assert r.status is Status.FAIL, r.reason
        assert r.observed_order == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize("name", ["right", "x1.001"])
def test_round_off_steps_give_no_verdict(name: str) -> None:
    """h = 1e-12..1e-15: the remainders of the right or the 1.001 gradient are rounding."""
    hs = np.geomspace(1e-12, 1e-15, 7)
    r = taylor_test(sin_k, GRADIENTS[name], [0.3], direction=[1.0], step_sizes=hs)
    assert r.status is Status.INCONCLUSIVE, r.reason


def test_steps_that_alias_the_oscillation_do_not_fail_a_right_gradient() -> None:
    """h = 0.5, 0.25, 0.125, 0.0625 span 79.6, 39.8, 19.9, 9.95 periods of sin(1000 x): all
    within 0.05·2^k periods of a whole number, so the secants settle as a slow sine's would.
    Two more values of f, between the two smallest steps, show it: f is called 1 + 4 + 2 times.
    """
    calls: list[float] = []

    def counted(p: Any) -> float:
        calls.append(float(p[0]))
        return sin_k(p)

    hs = [0.5, 0.25, 0.125, 0.0625]
    r = taylor_test(counted, sin_k_gradient, [0.515], direction=[1.0], step_sizes=hs)
    assert r.status is Status.INCONCLUSIVE, r.reason
    assert len(calls) == 7
    assert all(0.0625 < p - 0.515 < 0.125 for p in calls[-2:])  # between the two smallest steps


# -- a property test: planted errors against closed forms ---------------------------------------


def f2(p: Any) -> float:
    """sin(x)·y² + exp(y/2)."""
    return float(math.sin(p[0]) * p[1] ** 2 + math.exp(p[1] / 2))


def f2_gradient(p: Any) -> Any:
    x, y = p
    return np.array([math.cos(x) * y**2, 2 * math.sin(x) * y + 0.5 * math.exp(y / 2)])


def f2_hessian(p: Any) -> Any:
    x, y = p
    return np.array(
        [
            [-math.sin(x) * y**2, 2 * math.cos(x) * y],
            [2 * math.cos(x) * y, 2 * math.sin(x) + 0.25 * math.exp(y / 2)],
        ]
    )


PLANTED = {
    "x1.001": lambda p: 1.001 * f2_gradient(p),
    "dropped": lambda p: f2_gradient(p) - [0.0, 0.5 * math.exp(p[1] / 2)],
    "zero": lambda p: 0.0 * f2_gradient(p),
}


def _direction(seed: int, x0: list[float]) -> Any:
    """taylor_test's documented default direction, rebuilt independently."""
    v = np.random.default_rng(seed).standard_normal(len(x0))
    return v * max(1.0, float(np.linalg.norm(x0))) / np.linalg.norm(v)


def _decides(e: float, c: float, hs: Any, v: Any, f_size: float) -> bool:
    """The remainders are e h + c h² + O(|v|³ h³) with e h dominating at every step by 100×,
    and 1e6 times f's rounding at the smallest step, over at least 3 local steps spanning a
    factor 4 (fewer cannot give an order).  |f'''| ≤ 25 on the box sampled."""
    if len(hs) < 3 or max(hs) < 4 * min(hs):
        return False
    third = 25.0 * float(np.linalg.norm(v, 1)) ** 3 / 6
    top, bottom = float(max(hs)), float(min(hs))
    curvature = abs(c) * top + third * top**2
    return abs(e) >= 100 * curvature and abs(e) * bottom >= 1e6 * 2.2e-16 * f_size


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    x=st.floats(-2, 2),
    y=st.floats(0.25, 2),
    seed=st.integers(0, 1000),
    start=st.integers(1, 9),
    ratio=st.sampled_from([2.0, 10**0.25, 10**0.5, 10.0]),
    n=st.integers(3, 9),
    planted=st.sampled_from(sorted(PLANTED)),
)
def test_red_team_user_steps_never_lie(
    x: float, y: float, seed: int, start: int, ratio: float, n: int, planted: str
) -> None:
    """Any user steps: the right gradient never fails; a planted error never passes when it
    is at least 1e-3 of ∇f·v, and fails wherever the closed forms say the data decides it."""
    hs = 10.0**-start / ratio ** np.arange(n)
    x0, v = [x, y], _direction(seed, [x, y])
    right = taylor_test(f2, f2_gradient, x0, step_sizes=hs, seed=seed)
    assert right.status is not Status.FAIL, right.reason
    wrong = taylor_test(f2, PLANTED[planted], x0, step_sizes=hs, seed=seed)
    slope = float(f2_gradient(x0) @ v)
    e = float((f2_gradient(x0) - PLANTED[planted](x0)) @ v)
    if abs(e) >= 1e-3 * abs(slope):
        assert wrong.status not in (Status.PASS, Status.EXACT), wrong.reason
    c = float(v @ f2_hessian(x0) @ v) / 2
    if _decides(e, c, hs[hs * np.linalg.norm(v) <= max(1.0, math.hypot(x, y))], v, abs(f2(x0))):
        assert wrong.status is Status.FAIL, wrong.reason


def test_at_a_minimum_the_right_gradient_passes_and_a_small_offset_fails() -> None:
    """f = (x − 1)² + (y + 1/2)⁴ + 3 at its minimum: ∇f = 0 and the secants are only c·h, yet
    the default steps pass the zero gradient and fail one off by 1e-3 in x (e = 1e-3·v_x)."""

    def f(p: Any) -> float:
        return float((p[0] - 1) ** 2 + (p[1] + 0.5) ** 4 + 3)

    def gradient(p: Any) -> Any:
        return np.array([2 * (p[0] - 1), 4 * (p[1] + 0.5) ** 3])

    for seed in range(4):
        right = taylor_test(f, gradient, [1.0, -0.5], seed=seed)
        assert right.status is Status.PASS, right.reason
        wrong = taylor_test(
            f, lambda p: gradient(p) + np.array([1e-3, 0.0]), [1.0, -0.5], seed=seed
        )
        assert wrong.status is Status.FAIL, wrong.reason


def _sin_family(k: float) -> tuple[Any, Any, Any]:
    """sin(k x)·y² + exp(y/2), its gradient by hand, and v'Hv/2's Hessian."""

    def f(p: Any) -> float:
        return float(math.sin(k * p[0]) * p[1] ** 2 + math.exp(p[1] / 2))

    def gradient(p: Any) -> Any:
        x, y = p
        return np.array(
            [k * math.cos(k * x) * y**2, 2 * math.sin(k * x) * y + 0.5 * math.exp(y / 2)]
        )

    def hessian(p: Any) -> Any:
        x, y = p
        cross = 2 * k * math.cos(k * x) * y
        return np.array(
            [
                [-(k**2) * math.sin(k * x) * y**2, cross],
                [cross, 2 * math.sin(k * x) + 0.25 * math.exp(y / 2)],
            ]
        )

    return f, gradient, hessian


@pytest.mark.slow
@settings(max_examples=500, deadline=None, derandomize=True)
@given(
    k=st.sampled_from([1.0, 10.0, 100.0, 1000.0]),
    x=st.floats(-2, 2),
    y=st.floats(0.25, 2),
    seed=st.integers(0, 1000),
    start=st.integers(1, 12),
    ratio=st.sampled_from([2.0, 10**0.25, 10**0.5, 10.0]),
    n=st.integers(3, 9),
    scale=st.sampled_from([1.001, 0.0, 1.1]),
)
def test_red_team_fast_oscillations_never_lie(
    k: float, x: float, y: float, seed: int, start: int, ratio: float, n: int, scale: float
) -> None:
    """sin(k x) up to k = 1000, any steps: a right gradient never fails, a scaled one (1.001,
    1.1, 0) never passes."""
    f, gradient, _ = _sin_family(k)
    hs = 10.0**-start / ratio ** np.arange(n)
    right = taylor_test(f, gradient, [x, y], step_sizes=hs, seed=seed)
    assert right.status is not Status.FAIL, right.reason
    v = _direction(seed, [x, y])
    slope = float(gradient([x, y]) @ v)
    wrong = taylor_test(f, lambda p: scale * gradient(p), [x, y], step_sizes=hs, seed=seed)
    if abs(1 - scale) * abs(slope) >= 1e-3 * abs(slope) > 0:
        assert wrong.status not in (Status.PASS, Status.EXACT), wrong.reason
