"""A review of the day's trust changes: reproductions of its confirmed findings.

Each finding is a ``xfail(strict=True)`` with an oracle independent of symgrad (closed forms in a
private mpmath context, never ``mpmath.mp``; plain NumPy), turned into a guard when it is fixed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import pytest

import symgrad
from symgrad.results import Status


def _ctx(dps: int = 40) -> Any:
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


# (f, a wrong answer, f' at a point written with mpmath, that point): the answer "0" is wrong there
_POLE_IN_A_PIECE: list[tuple[str, Callable[[Any, Any], Any], Callable[[Any], Any]]] = [
    ("max(tan(x), 1000)", lambda c, x: c.sec(x) ** 2, lambda c: c.atan(2000)),
    ("max(sec(x), 1000)", lambda c, x: c.sec(x) * c.tan(x), lambda c: c.asec(2000)),
    ("max(cot(x), 1000)", lambda c, x: -(c.csc(x) ** 2), lambda c: c.acot(2000)),
    (
        "max(1/(sin(x) - 1/2), 1000)",
        lambda c, x: -c.cos(x) / (c.sin(x) - c.mpf(1) / 2) ** 2,
        lambda c: c.asin(c.mpf(1) / 2 + c.mpf(1) / 2000),
    ),
]


@pytest.mark.parametrize(("expr", "derivative", "where"), _POLE_IN_A_PIECE)
def test_check_answer_does_not_pass_zero_beside_a_pole_of_a_switching_argument(
    expr: str, derivative: Callable[[Any, Any], Any], where: Callable[[Any], Any]
) -> None:
    c = _ctx()
    x = where(c)  # the switch is on there (the argument is 2000 > 1000): f' is far from 0
    assert abs(derivative(c, x)) > 10**5
    assert symgrad.check_answer(expr, "0", "x").status is not Status.PASS


def test_check_answer_does_not_pass_a_sign_slip_between_two_branch_points() -> None:
    p, dp = "((x - 1000)*(x - 10001/10))", "(2*x - 20001/10)"
    f = f"asin(1 - {p}**2/(1 + {p}**2))"
    answer = f"-2*{dp}/((1 + {p}**2)*sqrt(2 + {p}**2))"
    c = _ctx()
    x = c.mpf("1000.03")  # the oracle: asin's derivative written out, and the answer, there
    q = (x - 1000) * (x - c.mpf(10001) / 10)
    g = 1 - q**2 / (1 + q**2)
    exact = c.diff(
        lambda t: c.asin(
            1
            - ((t - 1000) * (t - c.mpf(10001) / 10)) ** 2
            / (1 + ((t - 1000) * (t - c.mpf(10001) / 10)) ** 2)
        ),
        x,
    )
    given = -2 * (2 * x - c.mpf(20001) / 10) / ((1 + q**2) * c.sqrt(2 + q**2))
    assert abs(g) < 1
    assert abs(exact + given) < c.mpf(10) ** -20  # the answer is the derivative's negative
    assert abs(exact) > c.mpf("0.05")
    assert symgrad.check_answer(f, answer, "x").status is not Status.PASS


@pytest.mark.parametrize(
    ("expr", "answer"),
    [
        ("sign(x)*x**2", "2*abs(x) + 1 - sign(x)**2"),
        ("Heaviside(x)*x**2", "2*x*Heaviside(x) + 1 - sign(x)**2"),
    ],
)
def test_check_answer_does_not_pass_an_answer_wrong_where_f_is_differentiable(
    expr: str, answer: str
) -> None:
    # the oracle: f is x**2 on one side and ±x**2 or 0 on the other, so f'(0) = 0 from both
    # sides (difference quotients at ±1e-30 are ±1e-30 or 0); the answer is 1 at x = 0
    c = _ctx()
    h = c.mpf(10) ** -30
    sides = [abs(c.sign(t) * t**2 / t) for t in (h, -h)] + [abs(t**2 / t) for t in (h,)]
    assert max(sides) <= h
    assert symgrad.check_answer(expr, answer, "x").status is not Status.PASS


def test_check_answer_gives_a_verdict_for_heaviside_of_a_reciprocal() -> None:
    result = symgrad.check_answer("x*Heaviside(1/sin(x))", "1", "x")
    assert result.status in (Status.FAIL, Status.INCONCLUSIVE)


def test_taylor_test_is_not_exact_for_a_wrong_gradient_with_a_step_of_whole_periods() -> None:
    # the oracle: f = 1e12 + sin(x), f'(0) = cos(0) = 1, and the gradient given is 0
    assert math.cos(0.0) == 1.0
    r = symgrad.taylor_test(
        lambda x: 1e12 + np.sin(x[0]),
        lambda x: np.array([0.0]),
        [0.0],
        direction=[1.0],
        step_sizes=[2 * math.pi * 159155, 0.1, 0.01, 0.001],
    )
    assert r.status is not Status.EXACT, r.reason
    assert not r.ok, r.reason


def test_verify_grid_decides_numpy_gradient_along_a_resolved_axis() -> None:
    # the oracle: numpy.gradient's y component of exp(y/2) + 1e-6*sin(3000*x) is the y
    # difference of exp(y/2) alone (the x term is constant along y), second order in h
    y = np.linspace(0, 1, 65)
    u = np.exp(y / 2)
    err = [np.max(np.abs(np.gradient(u[::s], y[::s]) - u[::s] / 2)[1:-1]) for s in (4, 2, 1)]
    assert 3.5 < err[0] / err[1] < 4.5
    assert 3.5 < err[1] / err[2] < 4.5
    r = symgrad.verify_grid("exp(y/2) + 1e-6*sin(3000*x)", "x=0:1, y=0:1")
    assert r.components[1].status is Status.PASS, r.reason
