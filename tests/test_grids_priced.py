"""The grids' symbolic derivatives are priced: a hostile field or solution is refused first.

``manufactured_source``, ``verify_operator`` and ``verify_solver`` take every derivative through
the priced constructors of ``symgrad.derive``: each order is estimated against
``Limits.max_work`` before SymPy takes it.  The tests count the calls of ``sympy.diff`` (the one
place SymPy differentiates for symgrad) and of the user's scheme or solver; nothing is timed.
Values are checked against closed forms evaluated by mpmath in a private context.
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np
import pytest
import sympy

from symgrad import Limits, manufactured_source, verify_operator, verify_solver
from symgrad.errors import ConfigError, LimitExceeded

# a product of 60 factors: its first x-derivative has 60 terms of 60 factors each
PRODUCT = "*".join(f"sin({k}*x + {k + 1}*y)" for k in range(1, 61))
TIGHT = Limits(max_work=50)


@pytest.fixture
def diff_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the calls of ``sympy.diff`` (symgrad differentiates only through it)."""
    calls = [0]
    original = sympy.diff

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(sympy, "diff", counting)
    return calls


def _refused(error: pytest.ExceptionInfo[LimitExceeded], allowed: int) -> None:
    assert error.value.limit == "work"
    assert error.value.allowed == allowed
    assert "max_work" in str(error.value)  # how to raise it


# ------------------------------------------------------------------ manufactured_source
def test_source_of_a_product_of_60_factors_is_refused_before_its_costly_order(
    diff_calls: list[int],
) -> None:
    calls = diff_calls
    with pytest.raises(LimitExceeded) as error:
        manufactured_source("D(u, x, 12)", PRODUCT)
    _refused(error, 1_000_000)
    # the first order (about 60 x 60 nodes) is cheap and taken; the second is priced at
    # millions of node operations and refused before SymPy starts it
    assert calls[0] == 1


def test_source_laplacian_of_the_product_is_refused_at_its_first_costly_order(
    diff_calls: list[int],
) -> None:
    calls = diff_calls
    with pytest.raises(LimitExceeded) as error:
        manufactured_source("-D(u, x, 2) - D(u, y, 2)", PRODUCT)
    _refused(error, 1_000_000)
    assert calls[0] <= 1


def test_source_limits_keyword_refuses_before_any_derivative(
    diff_calls: list[int],
) -> None:
    calls = diff_calls
    solution = "exp(-t)*sin(pi*x)*cos(2*x) + x**5*t**3"
    with pytest.raises(LimitExceeded) as error:
        manufactured_source("D(u, t) - D(u, x, 2)", solution, limits=TIGHT)
    _refused(error, 50)
    assert calls[0] == 0


def test_source_with_limits_keeps_its_value() -> None:
    """-u'' of sin(pi x) + x**3 is pi**2 sin(pi x) - 6x, with or without a generous limit."""
    ctx = mpmath.MPContext()
    ctx.dps = 50
    for limits in (None, Limits(max_work=5_000_000)):
        q = manufactured_source("-D(u, x, 2)", "sin(pi*x) + x**3", limits=limits)
        for x in ("0.3", "0.71", "-1.25"):
            want = ctx.pi**2 * ctx.sin(ctx.pi * ctx.mpf(x)) - 6 * ctx.mpf(x)
            assert float(q(float(x))) == pytest.approx(float(want), rel=1e-14, abs=1e-14)


def test_source_limits_must_be_a_limits() -> None:
    with pytest.raises(ConfigError, match=r"symgrad\.Limits"):
        manufactured_source("D(u, x)", "x**2", limits=1000)  # type: ignore[arg-type]


# ------------------------------------------------------------------ verify_operator
def _never_called(calls: list[int]) -> Any:
    def scheme(field: Any, spacing: Any) -> Any:
        calls.append(1)
        return np.zeros_like(field)

    return scheme


def test_operator_twelfth_derivative_of_a_large_field_is_refused_before_the_scheme(
    diff_calls: list[int],
) -> None:
    calls = diff_calls
    runs: list[int] = []
    with pytest.raises(LimitExceeded) as error:
        verify_operator(_never_called(runs), PRODUCT, "x=0:1,y=0:1", "D(u, x, 12)", expect_order=1)
    _refused(error, 1_000_000)
    assert calls[0] == 1
    assert runs == []


@pytest.mark.parametrize("operator", ["laplacian", "x,x", "D(u, x, 2) + D(u, y, 2)"])
def test_operator_limits_keyword_refuses_before_any_derivative(
    diff_calls: list[int], operator: str
) -> None:
    calls = diff_calls
    runs: list[int] = []
    field = "sin(x + 0.3)*exp(y/2)*cos(3*x*y) + x**4*y**3"
    with pytest.raises(LimitExceeded) as error:
        verify_operator(_never_called(runs), field, "x=0:1,y=0:1", operator, limits=TIGHT)
    _refused(error, 50)
    assert calls[0] == 0
    assert runs == []


def test_operator_limits_keyword_covers_the_vector_operators(
    diff_calls: list[int],
) -> None:
    calls = diff_calls
    runs: list[int] = []
    field = ["sin(x)*cos(y)*exp(x*y)", "x**3*y**2 + cos(x - y)"]
    with pytest.raises(LimitExceeded):
        verify_operator(_never_called(runs), field, "x=0:1,y=0:1", "curl", limits=Limits(20))
    assert calls[0] == 0
    assert runs == []


def test_operator_with_limits_gives_the_closed_form_orders() -> None:
    """Centred second differences of sin(x + 0.3)*exp(y/2): interior order 2, exactly as without."""

    def second_difference(u: Any, h: float, axis: int) -> Any:
        v = np.moveaxis(u, axis, 0)
        out = np.empty_like(v)
        out[1:-1] = v[2:] - 2 * v[1:-1] + v[:-2]
        out[0], out[-1] = v[0] - 2 * v[1] + v[2], v[-1] - 2 * v[-2] + v[-3]
        return np.moveaxis(out, 0, axis) / h**2

    def five_point(u: Any, h: Any) -> Any:
        return second_difference(u, h[0], 0) + second_difference(u, h[1], 1)

    field, domain = "sin(x + 0.3)*exp(y/2)", "x=0:1,y=0:1"
    plain = verify_operator(five_point, field, domain, "laplacian")
    priced = verify_operator(five_point, field, domain, "laplacian", limits=Limits(2_000_000))
    orders = [reg.observed_order for reg in priced.components[0].regions]
    assert orders == [reg.observed_order for reg in plain.components[0].regions]
    assert orders[0] == pytest.approx(2.0, abs=0.05)
    assert orders[1] == pytest.approx(1.0, abs=0.1)  # the one-sided closure is first order
    assert priced.status == plain.status


# ------------------------------------------------------------------ verify_solver
def test_solver_limits_keyword_refuses_before_the_solver_runs(
    diff_calls: list[int],
) -> None:
    calls = diff_calls
    runs: list[int] = []

    def solver(problem: Any) -> float:
        runs.append(1)
        return 0.0

    with pytest.raises(LimitExceeded) as error:
        verify_solver(
            solver,
            "sin(t)*exp(-t) + t**3*cos(2*t)",
            operator="D(u, t) + u",
            expect_order=1,
            time="t=0:1",
            limits=TIGHT,
        )
    _refused(error, 50)
    assert calls[0] == 0
    assert runs == []


def test_solver_hostile_solution_is_refused_before_the_solver_runs(
    diff_calls: list[int],
) -> None:
    calls = diff_calls
    runs: list[int] = []

    def solver(problem: Any) -> Any:
        runs.append(1)
        return np.zeros(problem.shape)

    with pytest.raises(LimitExceeded) as error:
        verify_solver(
            solver,
            PRODUCT,
            operator="-D(u, x, 2) - D(u, y, 2)",
            expect_order=2,
            domain="x=0:1,y=0:1",
        )
    _refused(error, 1_000_000)
    assert calls[0] <= 1
    assert runs == []


def test_solver_with_limits_keeps_the_euler_order() -> None:
    """Forward Euler on u' = -u + Q(t) is first order, priced with a generous limit."""

    def euler(p: Any) -> float:
        u, dt = float(p.initial), p.dt
        for n in range(p.time_steps):
            t = p.time[0] + n * dt
            u += dt * (-u + float(p.source(t)))
        return u

    result = verify_solver(
        euler,
        "sin(t) + exp(-t)",
        operator="D(u, t) + u",
        expect_order=1,
        time="t=0:2",
        time_steps=(16, 32, 64, 128, 256),
        limits=Limits(max_work=2_000_000),
    )
    assert result.status.value == "pass"
    assert result.regions["solution"].observed_order == pytest.approx(1.0, abs=0.05)
