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

from symgrad import Limits, manufactured_source, verify_grid, verify_operator, verify_solver
from symgrad.errors import ConfigError, LimitExceeded

# a product of 60 factors: its first x-derivative has 60 terms of 60 factors each
PRODUCT = "*".join(f"sin({k}*x + {k + 1}*y)" for k in range(1, 61))
TIGHT = Limits(max_work=50)


@pytest.fixture(autouse=True)
def _sympy_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests count SymPy's own calls: "auto" runs on SymPy here, as without symengine.

    (symengine's path is priced and tested in tests/test_symengine.py.)
    """
    import symgrad.derive._symengine as engines

    monkeypatch.setattr(engines, "symengine_module", lambda: None)


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


def _refused(
    error: pytest.ExceptionInfo[LimitExceeded],
    allowed: int,
    diffs: int,
    runs: list[int] | None = None,
    *,
    most: int = 0,
) -> None:
    """Refused for its work, naming how to raise the limit, after at most ``most`` cheap
    ``sympy.diff`` calls (``diffs`` counted) and before the user's code ran (``runs`` empty)."""
    assert error.value.limit == "work"
    assert error.value.allowed == allowed
    assert "max_work" in str(error.value)  # how to raise it
    assert diffs <= most
    assert not runs


# ------------------------------------------------------------------ manufactured_source
@pytest.mark.parametrize(
    ("operator", "solution", "limits", "allowed", "most"),
    [
        # the first order of the product (60 terms of 60 factors) is cheap and taken; the
        # second is priced at millions of node operations and refused before SymPy starts it
        ("D(u, x, 12)", PRODUCT, None, 10**6, 1),
        ("-D(u, x, 2) - D(u, y, 2)", PRODUCT, None, 10**6, 1),
        # a tight limits= keyword: refused before the first derivative
        ("D(u, t) - D(u, x, 2)", "exp(-t)*sin(pi*x)*cos(2*x) + x**5*t**3", TIGHT, 50, 0),
    ],
)
def test_source_costly_derivatives_are_refused_before_sympy_takes_them(
    diff_calls: list[int],
    operator: str,
    solution: str,
    limits: Limits | None,
    allowed: int,
    most: int,
) -> None:
    with pytest.raises(LimitExceeded) as error:
        manufactured_source(operator, solution, limits=limits)
    _refused(error, allowed, diff_calls[0], most=most)
    assert diff_calls[0] == most  # exactly the cheap orders were taken


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
    runs: list[int] = []
    with pytest.raises(LimitExceeded) as error:
        verify_operator(_never_called(runs), PRODUCT, "x=0:1,y=0:1", "D(u, x, 12)", expect_order=1)
    _refused(error, 1_000_000, diff_calls[0], runs, most=1)


SCALAR = "sin(x + 0.3)*exp(y/2)*cos(3*x*y) + x**4*y**3"
VECTOR = ["sin(x)*cos(y)*exp(x*y)", "x**3*y**2 + cos(x - y)"]


@pytest.mark.parametrize(
    ("operator", "field"),
    [
        ("laplacian", SCALAR),
        ("x,x", SCALAR),
        ("D(u, x, 2) + D(u, y, 2)", SCALAR),
        ("divergence", VECTOR),
        ("curl", VECTOR),
    ],
)
def test_operator_limits_keyword_refuses_before_any_derivative(
    diff_calls: list[int], operator: str, field: Any
) -> None:
    runs: list[int] = []
    with pytest.raises(LimitExceeded) as error:
        verify_operator(_never_called(runs), field, "x=0:1,y=0:1", operator, limits=TIGHT)
    _refused(error, 50, diff_calls[0], runs)


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
@pytest.mark.parametrize(
    ("solution", "options", "allowed", "most"),
    [
        # a tight limits= keyword: refused before the first derivative
        (
            "sin(t)*exp(-t) + t**3*cos(2*t)",
            {"operator": "D(u, t) + u", "time": "t=0:1", "limits": TIGHT},
            50,
            0,
        ),
        # the product of 60 factors under the default limits: after the cheap first order
        (PRODUCT, {"operator": "-D(u, x, 2) - D(u, y, 2)", "domain": "x=0:1,y=0:1"}, 10**6, 1),
    ],
)
def test_solver_costly_derivatives_are_refused_before_the_solver_runs(
    diff_calls: list[int], solution: str, options: dict[str, Any], allowed: int, most: int
) -> None:
    runs: list[int] = []

    def solver(problem: Any) -> float:
        runs.append(1)
        return 0.0

    with pytest.raises(LimitExceeded) as error:
        verify_solver(solver, solution, expect_order=1, **options)
    _refused(error, allowed, diff_calls[0], runs, most=most)


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


# ------------------------------------------------------------------ verify_grid
def test_verify_grid_prices_the_exact_gradient_against_its_limits(diff_calls: list[int]) -> None:
    """``verify_grid(limits=Limits(max_work=50))`` refuses a 60-factor field before SymPy
    differentiates it and before the scheme is called."""
    runs: list[int] = []

    def scheme(f: Any, h: Any) -> Any:
        runs.append(1)
        return np.gradient(f, *h)

    with pytest.raises(LimitExceeded) as error:
        verify_grid(PRODUCT, "x=0:1,y=0:1", scheme=scheme, limits=TIGHT)
    _refused(error, 50, diff_calls[0], runs)


def test_verify_grid_with_limits_gives_the_same_orders() -> None:
    """Generous limits change nothing: numpy.gradient on sin(x + 0.3)·exp(y/2) is order 2
    inside and 1 at the boundary (edge_order=1), as without limits; a non-Limits is refused."""
    result = verify_grid("sin(x + 0.3)*exp(y/2)", "x=-1:1,y=-1:1", limits=Limits(max_work=10**7))
    assert [round(c.interior.observed_order) for c in result.components] == [2, 2]
    assert [round(c.boundary.observed_order) for c in result.components] == [1, 1]
    with pytest.raises(ConfigError, match="limits"):
        verify_grid("x", "x=0:1", limits=1000)  # type: ignore[arg-type]
