"""verify_solver: whole solvers verified by manufactured solutions against hand-derived orders.

The references are the textbook orders of the methods (forward and backward Euler 1, RK4 4,
Crank-Nicolson 2 in space and time, the centred Laplacian 2, a one-sided Neumann closure 1),
and closed-form or high-precision values computed here, never by symgrad.  Every correct
solver is paired with planted defects (a wrong coefficient, a time-step bug, a lower-order
boundary) that must fail with a reason naming what went wrong.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad.cli import main
from symgrad.errors import ConfigError, InputError, LimitExceeded, ParseError
from symgrad.grids import SolverProblem, verify_solver
from symgrad.results import Status

# ----------------------------------------------------------------------------- ODE solvers
ODE = "D(u, t) + u"  # u' = -u + Q(t)
ODE_SOLUTION = "(sin(t) - cos(t))/2 + exp(-t)"  # Q = sin t: y' = -y + sin t


def euler(p: SolverProblem, rate: float = 1.0) -> float:
    """Forward Euler for u' = -rate*u + Q(t)."""
    u, dt, t0 = float(p.initial), p.dt, p.time[0]
    for n in range(p.time_steps):
        u += dt * (-rate * u + float(p.source(t0 + n * dt)))
    return u


def rk4(p: SolverProblem, k4_time: float = 1.0) -> float:
    """Classical RK4 for u' = -u + Q(t); ``k4_time`` places the last stage at t + k4_time*dt."""
    u, dt, t0 = float(p.initial), p.dt, p.time[0]

    def f(t: float, y: float) -> float:
        return -y + float(p.source(t))

    for n in range(p.time_steps):
        t = t0 + n * dt
        k1 = f(t, u)
        k2 = f(t + dt / 2, u + dt / 2 * k1)
        k3 = f(t + dt / 2, u + dt / 2 * k2)
        k4 = f(t + k4_time * dt, u + dt * k3)
        u += dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return u


def _ode(
    solver: Callable[[SolverProblem], float],
    order: float,
    time_steps: tuple[int, ...],
    solution: str = ODE_SOLUTION,
) -> Any:
    return verify_solver(
        solver, solution, operator=ODE, expect_order=order, time="t=0:2", time_steps=time_steps
    )


def test_forward_euler_is_first_order() -> None:
    r = _ode(euler, 1, (16, 32, 64, 128))
    assert r.status is Status.PASS, r.reason
    assert r.regions["solution"].observed_order == pytest.approx(1, abs=0.1)


def test_forward_euler_errors_match_a_closed_form() -> None:
    """The reported error is |Euler's answer - the exact solution|, computed here at 50 digits."""
    r = _ode(euler, 1, (16, 32, 64, 128))
    ctx = mpmath.MPContext()
    ctx.dps = 50
    exact = (ctx.sin(2) - ctx.cos(2)) / 2 + ctx.exp(-2)
    # Euler on y' = -y + sin t in exact arithmetic agrees with float64 to ~1e-15 here
    for m, err in zip((16, 32, 64, 128), r.regions["solution"].errors["Linf"], strict=True):
        y, dt = ctx.mpf(-0.5) + 1, ctx.mpf(2) / m
        for n in range(m):
            y += dt * (-y + ctx.sin(n * dt))
        assert err == pytest.approx(float(abs(y - exact)), rel=1e-9)


def test_forward_euler_wrong_coefficient_fails_naming_it() -> None:
    r = _ode(lambda p: euler(p, rate=1.02), 1, (16, 32, 64, 128))
    assert r.status is Status.FAIL
    assert "levels off" in r.reason
    assert "coefficients" in r.reason


def test_a_slightly_wrong_coefficient_never_passes() -> None:
    """Rate 1.001: the limit (about 2e-4) is 3% of the finest error, yet Richardson sees it.

    With 5 levels the extrapolated error only slows down (inconclusive); with 7 it has levelled
    off (fail), at the limit mpmath's ODE solver gives for the wrong rate.
    """
    solution = "cos(2*t) + t**2/7"
    short = _ode(lambda p: euler(p, rate=1.001), 1, (16, 32, 64, 128, 256), solution)
    assert short.status is Status.INCONCLUSIVE
    assert "extrapolated to h = 0" in short.reason
    long = _ode(lambda p: euler(p, rate=1.001), 1, (16, 32, 64, 128, 256, 512, 1024), solution)
    assert long.status is Status.FAIL
    assert "extrapolated to h = 0" in long.reason
    ctx = mpmath.MPContext()
    ctx.dps = 30

    def q(t: Any) -> Any:  # u' + u for u = cos(2t) + t²/7, by hand
        return -2 * ctx.sin(2 * t) + 2 * t / 7 + ctx.cos(2 * t) + t**2 / 7

    wrong = ctx.odefun(lambda t, y: -ctx.mpf("1.001") * y + q(t), 0, 1)
    limit = abs(wrong(2) - (ctx.cos(4) + ctx.mpf(4) / 7))
    assert long.diagnostics[0]["limit"] == pytest.approx(float(limit), rel=0.05)


def test_rk4_is_fourth_order() -> None:
    r = _ode(rk4, 4, (10, 20, 40, 80, 160))
    assert r.status is Status.PASS, r.reason
    assert r.regions["solution"].observed_order == pytest.approx(4, abs=0.1)


def test_rk4_stage_time_bug_fails_naming_the_order() -> None:
    """The last stage at t instead of t + dt: consistent, but second order at best."""
    r = _ode(lambda p: rk4(p, k4_time=0.0), 4, (10, 20, 40, 80, 160))
    assert r.status is Status.FAIL
    assert "vs expected 4" in r.reason or "fall away from 4" in r.reason
    assert r.regions["solution"].observed_order < 3


# ------------------------------------------------------------------------------- heat
HEAT = "D(u, t) - nu*D(u, x, 2)"
NU = {"nu": 0.5}


def _laplacian(n: int, h: float) -> np.ndarray:
    """The centred second difference on all n points, boundary rows zero."""
    lap = (np.eye(n, k=-1) - 2 * np.eye(n) + np.eye(n, k=1)) / h**2
    lap[[0, -1]] = 0
    return lap


def crank_nicolson(
    p: SolverProblem, nu_factor: float = 1.0, source_at_start: bool = False, lag: bool = False
) -> np.ndarray:
    """CN for u_t = nu u_xx + Q with Dirichlet data; each keyword plants one defect.

    ``nu_factor`` scales the diffusivity, ``source_at_start`` uses Q(t_n) instead of the
    average of Q(t_n) and Q(t_n+1) (first order in time), ``lag`` imposes the boundary data of
    t_n at t_n+1 (a boundary error of order dt).
    """
    (x,), (h,), dt, t0 = p.coordinates, p.spacing, p.dt, p.time[0]
    nu = p.parameters["nu"] * nu_factor
    lap, eye = _laplacian(x.size, h), np.eye(x.size)
    lhs = eye - dt / 2 * nu * lap
    rhs = eye + dt / 2 * nu * lap
    u = p.initial.copy()
    for k in range(p.time_steps):
        t = t0 + k * dt
        q = p.source(x, t) if source_at_start else (p.source(x, t) + p.source(x, t + dt)) / 2
        b = rhs @ u + dt * q
        tb = t if lag else t + dt
        b[[0, -1]] = p.boundary(x[[0, -1]], tb)
        u = np.linalg.solve(lhs, b)
    return u


def backward_euler(p: SolverProblem, dt_factor: float = 1.0) -> np.ndarray:
    """Backward Euler for the heat equation; ``dt_factor`` scales dt in the implicit matrix."""
    (x,), (h,), dt, t0 = p.coordinates, p.spacing, p.dt, p.time[0]
    nu = p.parameters["nu"]
    lhs = np.eye(x.size) - dt_factor * dt * nu * _laplacian(x.size, h)
    u = p.initial.copy()
    for k in range(p.time_steps):
        t = t0 + (k + 1) * dt
        b = u + dt * p.source(x, t)
        b[[0, -1]] = p.boundary(x[[0, -1]], t)
        u = np.linalg.solve(lhs, b)
    return u


HEAT_SOLUTION = "exp(-t)*sin(2*x + 0.3) + x**2*t/3"


def _heat(solver: Callable[[SolverProblem], np.ndarray], solution: str = HEAT_SOLUTION) -> Any:
    return verify_solver(
        solver,
        solution,
        operator=HEAT,
        expect_order={"space": 2, "time": 2},
        domain="x=0:1",
        time="t=0:0.5",
        sizes=(9, 17, 33, 65),
        time_steps=(8, 16, 32, 64),
        parameters=NU,
    )


def test_crank_nicolson_is_second_order_in_space_and_time() -> None:
    r = _heat(crank_nicolson)
    assert r.status is Status.PASS, r.reason
    assert r.refine == "space-time"
    assert r.time_exponent == pytest.approx(1)
    assert r.regions["interior"].observed_order == pytest.approx(2, abs=0.1)
    assert r.regions["boundary"].status is Status.EXACT  # Dirichlet data imposed
    time_order = next(d for d in r.diagnostics if d["kind"] == "time_order")
    assert time_order["order"] == pytest.approx(2, abs=0.1)


def test_crank_nicolson_wrong_diffusivity_fails_naming_it() -> None:
    r = _heat(lambda p: crank_nicolson(p, nu_factor=1.05))
    assert r.status is Status.FAIL
    assert "levels off" in r.reason


def test_crank_nicolson_time_step_bug_fails_naming_the_time_stepping() -> None:
    r = _heat(lambda p: crank_nicolson(p, source_at_start=True))
    assert r.status is Status.FAIL
    assert "the time stepping alone converges at order 1.0" in r.reason
    assert "look at the time stepping" in r.reason


def test_crank_nicolson_lagged_boundary_fails_naming_the_boundary() -> None:
    r = _heat(lambda p: crank_nicolson(p, lag=True))
    assert r.status is Status.FAIL
    assert r.regions["boundary"].status is Status.FAIL
    assert "boundary: observed order 1.0" in r.reason


def _time_only(solver: Callable[[SolverProblem], np.ndarray]) -> Any:
    """Quadratic in x: the centred Laplacian is exact, so refining time alone measures time."""
    return verify_solver(
        solver,
        "(1 + x**2/2)*exp(-t) + x*sin(t)",
        operator=HEAT,
        expect_order=1,
        domain="x=0:1",
        time="t=0:1",
        sizes=11,
        time_steps=(16, 32, 64, 128),
        parameters=NU,
    )


def test_backward_euler_is_first_order_in_time() -> None:
    r = _time_only(backward_euler)
    same = verify_solver(
        euler, ODE_SOLUTION, operator=ODE, expect_order={"space": 2, "time": 1}, time="t=0:2"
    )  # an order for what is not refined is ignored
    assert same.expected_order["interior"] == 1
    assert r.status is Status.PASS, r.reason
    assert r.refine == "time"
    assert r.regions["interior"].observed_order == pytest.approx(1, abs=0.1)


def test_backward_euler_time_step_bug_fails() -> None:
    """dt halved in the implicit matrix: the solver converges to another solution."""
    r = verify_solver(
        lambda p: backward_euler(p, dt_factor=0.5),
        HEAT_SOLUTION,
        operator=HEAT,
        expect_order={"space": 2, "time": 1},
        domain="x=0:1",
        time="t=0:0.5",
        parameters=NU,
    )
    assert r.status is Status.FAIL
    assert "converges to a different solution" in r.reason


def test_a_limit_with_a_fixed_grid_is_not_blamed_on_the_solver() -> None:
    """Refining time alone, a levelling error may be the fixed grid's: inconclusive, said so."""
    r = _time_only(lambda p: backward_euler(p, dt_factor=0.5))
    assert r.status is Status.INCONCLUSIVE
    assert "the fixed grid leaves an error of this size" in r.reason


def test_a_fixed_time_step_error_is_no_false_fail() -> None:
    """Crank-Nicolson refined in space with 4 time steps: the time error S stays while the spatial
    one vanishes, whatever the levels do; a correct solver must not fail."""
    r = verify_solver(
        crank_nicolson,
        HEAT_SOLUTION,
        operator=HEAT,
        expect_order=2,
        domain="x=0:1",
        time="t=0:0.5",
        sizes=(9, 17, 33, 65, 129),
        time_steps=4,
        parameters=NU,
    )
    assert r.refine == "space"
    assert r.status is Status.INCONCLUSIVE
    assert "fixed time step" in r.reason


# --------------------------------------------------------------------- steady, Neumann
def poisson_neumann(p: SolverProblem, second_order: bool = True) -> np.ndarray:
    """-u'' = Q on [0, 1], u(0) given, u'(1) given: ghost point (2nd order) or one-sided (1st)."""
    (x,), (h,) = p.coordinates, p.spacing
    n = x.size
    a = -_laplacian(n, h)
    b = p.source(x).copy()
    a[0, 0], b[0] = 1.0, p.boundary(x[0])
    (flux,) = p.gradient(x[-1])
    if second_order:  # ghost u_N = u_{N-2} + 2h g: -(2u_{N-2} - 2u_{N-1} + 2hg)/h² = Q
        a[-1, -2], a[-1, -1] = -2 / h**2, 2 / h**2
        b[-1] += 2 * flux / h
    else:  # (u_{N-1} - u_{N-2})/h = g
        a[-1, -2], a[-1, -1], b[-1] = -1 / h, 1 / h, flux
    return np.linalg.solve(a, b)


def _poisson(solver: Callable[[SolverProblem], np.ndarray], boundary: float) -> Any:
    return verify_solver(
        solver,
        "sin(2*x + 0.3) + exp(x)/3",
        operator="-D(u, x, 2)",
        expect_order={"space": 2, "boundary": boundary},
        domain="x=0:1",
        sizes=(9, 17, 33, 65, 129),
    )


def test_poisson_with_a_ghost_point_neumann_closure_is_second_order() -> None:
    r = _poisson(poisson_neumann, 2)
    assert r.status is Status.PASS, r.reason
    assert r.refine == "space"
    assert r.regions["boundary"].observed_order == pytest.approx(2, abs=0.1)


def test_poisson_with_a_first_order_neumann_closure_fails_at_the_boundary() -> None:
    r = _poisson(lambda p: poisson_neumann(p, second_order=False), 2)
    assert r.status is Status.FAIL
    assert "boundary: observed order 1.0" in r.reason
    assert r.regions["boundary"].observed_order == pytest.approx(1, abs=0.1)


def poisson_2d(p: SolverProblem, diagonal: float = 1.0) -> np.ndarray:
    """The 5-point -Δu = Q with Dirichlet data; ``diagonal`` scales the centre weight."""
    (x, _), (h, _) = p.coordinates, p.spacing
    n = x.size
    lap = -_laplacian(n, h)
    lap[[0, -1], [0, -1]] = 0.0
    eye = np.eye(n)
    inner = np.ones(n)
    inner[[0, -1]] = 0
    a = np.kron(lap, eye * inner) + np.kron(eye * inner, lap)
    a += np.diag((diagonal - 1) * np.diag(a))
    edge = np.ones((n, n), dtype=bool)
    edge[1:-1, 1:-1] = False
    a[edge.ravel()] = 0
    a[edge.ravel(), edge.ravel().nonzero()[0]] = 1
    xx, yy = p.mesh
    b = np.where(edge, p.boundary(xx, yy), p.source(xx, yy)).ravel()
    return np.linalg.solve(a, b).reshape(n, n)


def _poisson_2d(solver: Callable[[SolverProblem], np.ndarray]) -> Any:
    return verify_solver(
        solver,
        "sin(2*x + 0.3)*exp(y/2)",
        operator="-D(u, x, 2) - D(u, y, 2)",
        expect_order=2,
        domain="x=0:1,y=0:1",
        sizes=(5, 9, 17, 33),
    )


def test_five_point_poisson_in_2d_is_second_order() -> None:
    """Dirichlet values go through the linear solve: the boundary sits at the rounding floor."""
    r = _poisson_2d(poisson_2d)
    assert r.status is Status.PASS, r.reason
    assert r.regions["interior"].observed_order == pytest.approx(2, abs=0.1)
    assert "boundary at the rounding floor" in r.reason or "boundary exact" in r.reason


def test_inconsistent_centre_weight_diverges() -> None:
    """A centre weight 1% off leaves an O(1/h²) residual: the error grows under refinement."""
    r = _poisson_2d(lambda p: poisson_2d(p, diagonal=1.01))
    assert r.status is Status.FAIL
    assert "the error grows as the levels are refined" in r.reason


def ftcs_2d(p: SolverProblem, nu: float = 1.0) -> np.ndarray:
    """Explicit Euler and the 5-point Laplacian for u_t = Δu + Q on a square, Dirichlet data."""
    (h, _), dt, t0 = p.spacing, p.dt, p.time[0]
    xx, yy = p.mesh
    edge = np.ones(p.shape, dtype=bool)
    edge[1:-1, 1:-1] = False
    u = p.initial.copy()
    for k in range(p.time_steps):
        lap = np.zeros_like(u)
        lap[1:-1, 1:-1] = (
            u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4 * u[1:-1, 1:-1]
        ) / h**2
        u = u + dt * (nu * lap + p.source(xx, yy, t0 + k * dt))
        u[edge] = p.boundary(xx, yy, t0 + (k + 1) * dt)[edge]
    return u


def _ftcs_2d(solver: Callable[[SolverProblem], np.ndarray]) -> Any:
    """dt = h²/8 on every level (time_steps 32, 128, 512, 2048): dt ∝ h², so k = 2."""
    return verify_solver(
        solver,
        "exp(-t)*sin(2*x + 0.3)*cos(y + 0.2)",
        operator="D(u, t) - D(u, x, 2) - D(u, y, 2)",
        expect_order={"space": 2, "time": 1},
        domain="x=0:1,y=0:1",
        time="t=0:0.5",
        sizes=(5, 9, 17, 33),
        time_steps=(32, 128, 512, 2048),
    )


def test_explicit_2d_heat_at_fixed_dt_over_h_squared_is_second_order_in_h() -> None:
    """Error C_x h² + C_t dt with dt ∝ h²: order min(2, 2·1) = 2 in h."""
    r = _ftcs_2d(ftcs_2d)
    assert r.status is Status.PASS, r.reason
    assert r.time_exponent == pytest.approx(2)
    assert r.expected_order["interior"] == 2
    assert r.regions["interior"].observed_order == pytest.approx(2, abs=0.1)


@pytest.mark.slow
def test_explicit_2d_heat_with_a_wrong_diffusivity_fails() -> None:
    r = _ftcs_2d(lambda p: ftcs_2d(p, nu=1.02))
    assert r.status is Status.FAIL


# --------------------------------------------------------------------------- results
def test_result_renders_and_serialises() -> None:
    r = _heat(crank_nicolson)
    data = json.loads(r.to_json())
    assert data["status"] == "pass"
    assert data["sizes"] == [9, 17, 33, 65]
    assert data["time_steps"] == [8, 16, 32, 64]
    assert set(data["regions"]) == {"interior", "boundary"}
    assert data["gci"]["status"] in {"pass", "inconclusive"}
    assert len(data["quantity_values"]) == 4
    text, md, page = r.to_text(), r.to_markdown(), r.to_html()
    assert "interior Linf" in text
    assert "| level |" in md
    assert "<table" in page
    assert "&lt;" not in r.solver


def test_gci_of_a_chosen_quantity_matches_its_definition() -> None:
    """The GCI's order from the finest three values, r = 2: log2(e32/e21) (Celik eq. 3b, q = 0)."""
    r = verify_solver(
        euler,
        ODE_SOLUTION,
        operator=ODE,
        expect_order=1,
        time="t=0:2",
        time_steps=(16, 32, 64, 128),
        quantity=lambda p, u: float(u) * 2,
    )
    v = r.quantity_values
    assert r.gci is not None
    assert r.gci.p == pytest.approx(math.log2((v[1] - v[2]) / (v[2] - v[3])), rel=1e-12)


# ------------------------------------------------------------------- input and limits
class Counting:
    """A solver that counts its calls (for refusals before any run)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, p: SolverProblem) -> float:
        self.calls += 1
        return euler(p)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"time_steps": list(range(1, 20))}, LimitExceeded),
        ({"time_steps": (10**9, 2 * 10**9)}, LimitExceeded),
        ({"time_steps": (8, 8)}, ConfigError),
        ({"time_steps": "8,16"}, ConfigError),
        ({"expect_order": -1}, ConfigError),
        ({"expect_order": {"space": 2}}, ConfigError),
        ({"expect_order": {"time": 1, "speed": 2}}, ConfigError),
        ({"sizes": (9, 17)}, ConfigError),
        ({"time": None}, ConfigError),
        ({"parameters": {"nu": float("nan")}}, ConfigError),
        ({"parameters": [1]}, InputError),
    ],
)
def test_bad_input_is_refused_before_the_solver_runs(kwargs: dict[str, Any], error: type) -> None:
    solver = Counting()
    args: dict[str, Any] = {
        "operator": ODE,
        "expect_order": 1,
        "time": "t=0:1",
        "time_steps": (8, 16),
    }
    with pytest.raises(error):
        verify_solver(solver, ODE_SOLUTION, **(args | kwargs))
    assert solver.calls == 0


def test_space_time_refinement_must_keep_a_fixed_ratio() -> None:
    solver = Counting()
    with pytest.raises(ConfigError, match="fixed ratio"):
        verify_solver(
            solver,
            HEAT_SOLUTION,
            operator=HEAT,
            expect_order=2,
            domain="x=0:1",
            time="t=0:1",
            sizes=(9, 17, 33),
            time_steps=(8, 16, 64),
            parameters=NU,
        )
    assert solver.calls == 0


def test_solver_text_is_never_executed() -> None:
    """Text that is not an expression is refused by the parser, before any run."""
    solver = Counting()
    with pytest.raises(ParseError):
        verify_solver(
            solver,
            "__import__('os').getcwd()",
            operator=ODE,
            expect_order=1,
            time="t=0:1",
        )
    assert solver.calls == 0


def _heat_once(solver: Callable[[SolverProblem], Any], solution: str = HEAT_SOLUTION) -> Any:
    """One default study of the heat operator on [0, 1] x [0, 1] (for input checks)."""
    return verify_solver(
        solver,
        solution,
        operator=HEAT,
        expect_order=2,
        domain="x=0:1",
        time="t=0:1",
        parameters=NU,
    )


def test_a_solution_not_finite_on_the_grid_is_refused_before_the_solver_runs() -> None:
    solver = Counting()
    with pytest.raises(ConfigError, match="not finite on the grid"):
        _heat_once(solver, "log(x) + t")
    assert solver.calls == 0


def test_the_solver_cannot_move_the_grid_points() -> None:
    def mover(p: SolverProblem) -> np.ndarray:
        p.coordinates[0][:] = 0.0
        return p.initial

    with pytest.raises(ValueError, match="read-only"):
        _heat_once(mover)


def test_wrong_answer_shape_is_an_input_error_naming_the_solver() -> None:
    def bad(p: SolverProblem) -> np.ndarray:
        return np.zeros(3)

    with pytest.raises(InputError, match=r"solver .*bad returned"):
        _heat_once(bad)


def test_blow_up_fails_with_non_finite_levels() -> None:
    def unstable(p: SolverProblem) -> float:
        return math.inf if p.time_steps > 16 else euler(p)

    r = _ode(unstable, 1, (8, 16, 32, 64))
    assert r.status is Status.FAIL
    assert "NaN or inf" in r.reason


# -------------------------------------------------------------------- property tests
def _solutions() -> st.SearchStrategy[str]:
    """Smooth manufactured solutions of t with generic, well-scaled coefficients."""
    coef = st.sampled_from(["0.7", "1.3", "-0.9", "2.1", "-1.6"])
    rate = st.sampled_from(["0.4", "0.8", "1.5"])
    freq = st.sampled_from(["0.6", "1.1", "1.7"])
    return st.tuples(coef, freq, rate, coef).map(
        lambda c: f"{c[0]}*sin({c[1]}*t + 0.4) + exp(-{c[2]}*t) + {c[3]}*t/5"
    )


PROPERTY = settings(max_examples=8, deadline=None, derandomize=True)


@PROPERTY
@given(_solutions())
def test_correct_ode_solvers_never_fail_and_buggy_ones_never_pass(solution: str) -> None:
    def run(
        solver: Callable[[SolverProblem], float], order: float, time_steps: tuple[int, ...]
    ) -> Any:
        return _ode(solver, order, time_steps, solution)

    euler_steps, rk4_steps = (16, 32, 64, 128, 256), (10, 20, 40, 80, 160)
    assert run(euler, 1, euler_steps).status is not Status.FAIL
    assert run(rk4, 4, rk4_steps).status is not Status.FAIL
    assert not run(lambda p: euler(p, rate=1.05), 1, euler_steps).ok
    assert not run(lambda p: euler(p, rate=1.002), 1, euler_steps).ok  # limit ~ 1% of the error
    assert not run(lambda p: rk4(p, k4_time=0.0), 4, rk4_steps).ok
    assert not run(euler, 2, euler_steps).ok  # a first-order solver claimed second order


def _heat_solutions() -> st.SearchStrategy[str]:
    amp = st.sampled_from(["1", "0.6", "-1.4", "2.3"])
    wave = st.sampled_from(["1.5", "2", "2.7", "3.3"])
    shift = st.sampled_from(["0.3", "0.8", "1.9"])
    rate = st.sampled_from(["0.5", "1", "2"])
    return st.tuples(amp, wave, shift, rate).map(
        lambda c: f"{c[0]}*exp(-{c[3]}*t)*sin({c[1]}*x + {c[2]}) + x**2*t/3"
    )


@settings(max_examples=3, deadline=None, derandomize=True)
@given(_heat_solutions())
def test_crank_nicolson_property(solution: str) -> None:
    def run(solver: Callable[[SolverProblem], np.ndarray]) -> Any:
        return _heat(solver, solution)

    assert run(crank_nicolson).status is not Status.FAIL
    assert not run(lambda p: crank_nicolson(p, source_at_start=True)).ok
    assert not run(lambda p: crank_nicolson(p, nu_factor=1.05)).ok
    assert not run(lambda p: crank_nicolson(p, nu_factor=1.002)).ok
    assert not run(lambda p: crank_nicolson(p, lag=True)).ok


@pytest.mark.slow
@settings(max_examples=200, deadline=None, derandomize=True)
@given(_solutions())
def test_ode_property_many(solution: str) -> None:
    test_correct_ode_solvers_never_fail_and_buggy_ones_never_pass.hypothesis.inner_test(solution)  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------------- CLI
SOLVER_MODULE = """
def euler(problem):
    y, dt, t0 = float(problem.initial), problem.dt, problem.time[0]
    for n in range(problem.time_steps):
        y += dt * (-y + float(problem.source(t0 + n * dt)))
    return y


def broken(problem):
    raise RuntimeError("boom")
"""
CLI_ODE = ["--solution", ODE_SOLUTION, "--operator", ODE, "--time", "t=0:2"]


@pytest.fixture
def solver_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding the user's solver module ``mysolver.py``."""
    (tmp_path / "mysolver.py").write_text(SOLVER_MODULE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.usefixtures("solver_dir")
def test_cli_verify_solver_passes_and_fails_with_exit_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    time_steps = ["--time-steps", "16,32,64,128"]
    assert (
        main(["verify-solver", "mysolver:euler", *CLI_ODE, "--expect-order", "1", *time_steps]) == 0
    )
    argv = ["verify-solver", "mysolver:euler", *CLI_ODE, "--expect-order", "2", *time_steps]
    capsys.readouterr()
    assert main([*argv, "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "fail"
    assert data["regions"]["solution"]["expected_order"] == 2
    assert data["regions"]["solution"]["observed_order"] == pytest.approx(1, abs=0.1)
    assert str(Path.cwd()) not in sys.path  # the working directory was removed again


@pytest.mark.usefixtures("solver_dir")
@pytest.mark.parametrize(
    ("spec", "extra", "message"),
    [
        ("mysolver:broken", [], "the solver mysolver:broken raised RuntimeError: boom"),
        ("os:getcwd", [], "standard-library module"),
        ("mysolver:missing", [], "has no function 'missing'"),
        ("mysolver", [], "must be MODULE:FUNC"),
        ("mysolver:euler", ["--params", "nu"], "NAME=NUMBER"),
    ],
)
def test_cli_verify_solver_bad_input_is_one_line_and_exit_2(
    spec: str, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify-solver", spec, *CLI_ODE, "--expect-order", "1", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1


@pytest.mark.slow
@settings(max_examples=40, deadline=None, derandomize=True)
@given(_heat_solutions())
def test_crank_nicolson_property_many(solution: str) -> None:
    test_crank_nicolson_property.hypothesis.inner_test(solution)  # type: ignore[attr-defined]


def test_json_keys_are_the_documented_ones() -> None:
    """docs/reference/json.md's verify-solver table lists exactly the keys the command writes."""
    page = Path(__file__).resolve().parent.parent / "docs" / "reference" / "json.md"
    section = page.read_text(encoding="utf-8").split("## `verify-solver`")[1].split("\n## ")[0]
    documented = {
        k for row in section.splitlines()[4:] for k in re.findall(r"`(\w+)`", row.split("|")[1])
    }
    r = _ode(euler, 1, (16, 32, 64, 128))
    assert set(r.to_dict()) == documented


# ----------------------------------------------------------------------------- resolution
@pytest.mark.parametrize("solver", [euler, rk4, functools.partial(euler, rate=1.5)])
@pytest.mark.parametrize("frequency", ["1e6", "1e300"])
def test_an_unresolved_solution_is_inconclusive(solver: Any, frequency: str) -> None:
    """y = sin(k t) + 2 with k = 1e6 or 1e300 over 16..128 steps: dt·k is 1e3 or more on
    every level, so neither a correct solver nor a wrong one (rate 1.5) can be judged."""
    solution = f"sin({frequency}*t) + 2"
    r = _ode(solver, 1, (16, 32, 64, 128), solution)
    assert r.status is Status.INCONCLUSIVE, r.reason
    assert "not resolved on any level" in r.reason
    assert not [d for d in r.diagnostics if d["kind"] in ("extrapolated_limit", "levelling_off")]


def test_a_resolved_solution_is_judged_from_its_resolved_levels() -> None:
    """y = sin(40 t) + 2 on [0, 2]: dt·40/range is 2.5 at 16 steps (left out), 1.25 at 32."""
    solution = "sin(40*t) + 2"
    r = _ode(rk4, 4, (16, 32, 64, 128, 256, 512), solution)
    assert r.status is Status.PASS, r.reason
    assert r.regions["solution"].observed_order == pytest.approx(4, abs=0.2)
    bad = _ode(functools.partial(euler, rate=1.5), 1, (16, 32, 64, 128, 256, 512), solution)
    assert bad.status is Status.FAIL, bad.reason


# ------------------------------------------- claims the orders in h cannot see (dt ∝ h^k)
def theta_method(p: SolverProblem, theta: float) -> np.ndarray:
    """The theta method for u_t = nu u_xx + Q (1/2: Crank-Nicolson, time order 2; else 1)."""
    (x,), (h,), dt, t0 = p.coordinates, p.spacing, p.dt, p.time[0]
    lap, eye = p.parameters["nu"] * _laplacian(x.size, h), np.eye(x.size)
    lhs, rhs = eye - theta * dt * lap, eye + (1 - theta) * dt * lap
    u = p.initial.copy()
    for k in range(p.time_steps):
        t = t0 + k * dt
        b = rhs @ u + dt * ((1 - theta) * p.source(x, t) + theta * p.source(x, t + dt))
        b[[0, -1]] = p.boundary(x[[0, -1]], t + dt)
        u = np.linalg.solve(lhs, b)
    return u


def _theta_by_hand(theta: float, n: int, steps: int) -> np.ndarray:
    """The same scheme with Q = e^-t sin(2x + 0.3) + x²/3 - t/3 written here (nu = 1/2)."""
    x = np.linspace(0.0, 1.0, n)
    lap, eye, dt = 0.5 * _laplacian(n, x[1] - x[0]), np.eye(n), 0.5 / steps

    def q(t: float) -> np.ndarray:
        return np.exp(-t) * np.sin(2 * x + 0.3) + x**2 / 3 - t / 3

    u = np.sin(2 * x + 0.3)
    for k in range(steps):
        t = k * dt
        b = (eye + (1 - theta) * dt * lap) @ u + dt * ((1 - theta) * q(t) + theta * q(t + dt))
        b[[0, -1]] = np.exp(-t - dt) * np.sin(2 * x[[0, -1]] + 0.3) + x[[0, -1]] ** 2 * (t + dt) / 3
        u = np.linalg.solve(eye - theta * dt * lap, b)
    return u


def _theta_study(
    solver: Callable[[SolverProblem], np.ndarray],
    claim: dict[str, float],
    time_steps: tuple[int, ...] = (4, 16, 64, 256),
) -> Any:
    """sizes 9..65; the default time_steps 4..256 give dt ∝ h² (k = 2), 8..64 give dt ∝ h."""
    return verify_solver(
        solver,
        HEAT_SOLUTION,
        operator=HEAT,
        expect_order=claim,
        domain="x=0:1",
        time="t=0:0.5",
        sizes=(9, 17, 33, 65),
        time_steps=time_steps,
        parameters=NU,
    )


def _at_dt_h2(theta: float) -> Any:
    """Claimed {"space": 2, "time": 2} at dt ∝ h²: min(2, 2·2) = 2 in h."""
    return _theta_study(lambda p: theta_method(p, theta), {"space": 2, "time": 2})


def test_backward_euler_claimed_second_order_in_time_fails_at_dt_h2() -> None:
    """The orders in h are 2 either way; the time self-convergence measured here by hand (4, 8,
    16, 32 steps on N = 9) is 0.92, then 0.96, and the study reports exactly those orders."""
    runs = [_theta_by_hand(1.0, 9, m) for m in (4, 8, 16, 32)]
    d = [np.max(np.abs(a - b)) for a, b in itertools.pairwise(runs)]
    mine = [math.log2(a / b) for a, b in itertools.pairwise(d)]
    assert mine == pytest.approx([0.92, 0.96], abs=0.01)
    r = _at_dt_h2(1.0)
    assert r.status is Status.FAIL, r.reason
    assert r.regions["interior"].observed_order == pytest.approx(2, abs=0.1)
    assert "the claimed time order 2 is not seen by the orders in h" in r.reason
    assert "the claimed time order is false" in r.reason
    time_order = next(d for d in r.diagnostics if d["kind"] == "time_order")
    assert time_order["orders"] == pytest.approx(mine, rel=1e-6)
    assert time_order["time_steps"] == [4, 8, 16, 32]


def test_crank_nicolson_claimed_second_order_in_time_passes_at_dt_h2() -> None:
    r = _at_dt_h2(0.5)
    assert r.status is Status.PASS, r.reason
    time_order = next(d for d in r.diagnostics if d["kind"] == "time_order")
    assert time_order["order"] == pytest.approx(2, abs=0.1)


def test_a_time_order_claimed_where_the_orders_in_h_measure_it_runs_no_extra_time_step() -> None:
    """Backward Euler claimed {"space": 2, "time": 1} at dt ∝ h²: 2·1 = 2, both measured; the
    self-convergence keeps its M, 2M, 4M runs (6 + 4 solver calls in all)."""
    calls: list[int] = []

    def counted(p: SolverProblem) -> np.ndarray:
        calls.append(p.time_steps or 0)
        return theta_method(p, 1.0)

    r = _theta_study(counted, {"space": 2, "time": 1})
    assert r.status is Status.PASS, r.reason
    assert sorted(calls) == [4, 8, 16, 16, 64, 256]


def test_a_spatial_order_hidden_behind_the_time_error_is_not_passed() -> None:
    """Backward Euler claimed {"space": 2, "time": 1} at dt ∝ h: min(2, 1) = 1 in h, so a
    first-order spatial scheme would look the same: inconclusive, saying so."""
    r = _theta_study(lambda p: theta_method(p, 1.0), {"space": 2, "time": 1}, (8, 16, 32, 64))
    assert r.status is Status.INCONCLUSIVE, r.reason
    assert "the claimed space order 2 is not measured" in r.reason
    assert r.regions["interior"].observed_order == pytest.approx(1, abs=0.15)


@settings(max_examples=4, deadline=None, derandomize=True)
@given(theta=st.sampled_from([0.5, 0.6, 0.75, 1.0]))
def test_property_a_time_order_claim_at_dt_h2_is_true_when_it_passes(theta: float) -> None:
    """Claimed time order 2 at dt ∝ h²: only θ = 1/2 is second order in time (the truncation
    error of the θ method is (1/2 - θ) dt u_tt + O(dt²)): a planted θ never passes, CN never
    fails."""
    r = _at_dt_h2(theta)
    if theta == 0.5:
        assert r.status is not Status.FAIL, r.reason
    else:
        assert r.status is not Status.PASS, r.reason


# ------------------------------------------------ iterative solvers: algebraic error as noise
POISSON_U = "sin(2*x + 0.3) + exp(x)/3"


def _poisson_direct(p: SolverProblem, offset: float = 0.0) -> np.ndarray:
    (x,), (h,) = p.coordinates, p.spacing
    a = -_laplacian(x.size, h)
    a[0, 0] = a[-1, -1] = 1.0
    b = p.source(x) + offset
    b[0], b[-1] = p.boundary(x[0]), p.boundary(x[-1])
    return np.linalg.solve(a, b)


def jacobi(p: SolverProblem, tol: float, offset: float = 0.0) -> np.ndarray:
    """Jacobi sweeps for -u'' = Q + offset until the largest update is below ``tol``."""
    (x,), (h,) = p.coordinates, p.spacing
    u = np.zeros_like(x)
    u[0], u[-1] = p.boundary(x[0]), p.boundary(x[-1])
    q = p.source(x) + offset
    while True:
        new = u.copy()
        new[1:-1] = 0.5 * (u[:-2] + u[2:] + h * h * q[1:-1])
        if np.max(np.abs(new - u)) < tol:
            return new
        u = new


def _steady(solver: Callable[[SolverProblem], np.ndarray]) -> Any:
    return verify_solver(
        solver, POISSON_U, operator="-D(u, x, 2)", expect_order=2, domain="x=0:1",
        sizes=(9, 17, 33, 65),
    )  # fmt: skip


def test_jacobi_noise_is_inconclusive_naming_the_algebraic_error() -> None:
    """Jacobi stopped at updates below 1e-8 stays within a quarter of the direct solve's
    discretization error on every level (checked here), yet its algebraic error grows with N:
    the Richardson values rise, which is no evidence of a different solution."""
    for n in (9, 17, 33, 65):
        x = np.linspace(0.0, 1.0, n)
        exact = np.sin(2 * x + 0.3) + np.exp(x) / 3
        h = x[1] - x[0]
        a = -_laplacian(n, h)
        a[0, 0] = a[-1, -1] = 1.0
        b = 4 * np.sin(2 * x + 0.3) - np.exp(x) / 3
        b[0], b[-1] = exact[0], exact[-1]
        direct = np.linalg.solve(a, b)
        assert n == 9 or np.max(np.abs(direct - exact)) > 0  # the discretization error
    r = _steady(lambda p: jacobi(p, 1e-8))
    assert r.status is Status.INCONCLUSIVE, r.reason
    assert "algebraic error of an iterative solve" in r.reason
    assert "different solution" not in r.reason.replace("a limit other than u", "")
    rising = next(d for d in r.diagnostics if d["kind"] == "extrapolated_rising")
    xs = rising["extrapolated_errors"]
    assert xs[-1] > xs[-2]


def test_jacobi_with_a_wrong_source_never_passes() -> None:
    assert _steady(lambda p: jacobi(p, 1e-10, offset=1e-3)).status is Status.FAIL
    assert _steady(lambda p: jacobi(p, 1e-8, offset=1e-3)).status is not Status.PASS


@settings(max_examples=12, deadline=None, derandomize=True)
@given(
    size=st.floats(min_value=0.02, max_value=0.25),
    seed=st.integers(min_value=0, max_value=2**16),
    offset=st.sampled_from([0.0, 1e-3, 3e-3]),
)
def test_property_noise_on_the_levels_is_never_a_wrong_solution(
    size: float, seed: int, offset: float
) -> None:
    """The direct solve plus planted noise of up to a quarter of the finest level's
    discretization error (4.6e-6 for this solution, 2h²/24·max|u''''| bound measured here)
    on every level: a correct solver is never failed, a planted source offset never passes."""
    finest = np.linspace(0.0, 1.0, 65)
    floor_error = 3.29e-5  # max|u_h - u| of the direct solve on N = 65 (as measured by hand)
    rng = np.random.default_rng(seed)
    noise = {n: size * floor_error * rng.uniform(-1, 1, n) for n in (9, 17, 33, 65)}
    for v in noise.values():
        v[[0, -1]] = 0.0

    def noisy(p: SolverProblem) -> np.ndarray:
        return _poisson_direct(p, offset) + noise[p.shape[0]]

    r = _steady(noisy)
    if offset == 0.0:
        assert r.status is not Status.FAIL, r.reason
    else:
        assert r.status is not Status.PASS, r.reason
    assert finest.size == 65


@pytest.mark.parametrize(
    ("claim", "work"),
    [
        # k = 2, 2·2 > 2: the 2M, 4M and 8M runs on the coarsest grid (14 M points x steps more)
        ({"space": 2, "time": 2}, (1001 + 2001 * 4 + 14 * 1001) * 87_000),
        # k = 2, 2·1 = 2: the 2M and 4M runs only (6 M more), under the cap
        ({"space": 2, "time": 1}, None),
    ],
)
def test_the_work_cap_counts_the_time_runs_a_claim_needs(
    claim: dict[str, float], work: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sizes (1001, 2001) with time_steps (87,000, 348,000): (1001 + 8004 + 6006)·87,000 =
    1.3e9 is under 2e9, (1001 + 8004 + 14,014)·87,000 = 2.0027e9 over it."""
    solver = Counting()
    runs: list[int] = []
    import symgrad.grids._solver as module

    def counted(_executor: Any, _run: Any, pieces: list[Any]) -> list[Any]:
        runs.append(len(pieces))
        return []

    monkeypatch.setattr(module, "run_pieces", counted)
    monkeypatch.setattr(module, "_assemble", lambda *_: None)
    options: dict[str, Any] = {"domain": "x=0:1", "time": "t=0:1", "parameters": NU}
    call = functools.partial(
        verify_solver, solver, HEAT_SOLUTION, operator=HEAT, expect_order=claim, **options
    )
    if work is None:
        call(sizes=(1001, 2001), time_steps=(87_000, 348_000))
        assert runs == [2 + 2]  # two levels, the 2M and 4M runs
        return
    with pytest.raises(LimitExceeded, match=f"{work:,} points times time steps"):
        call(sizes=(1001, 2001), time_steps=(87_000, 348_000))
    assert solver.calls == 0
    assert runs == []


# ------------------------------------------------------ levels that do not nest (no shared points)
@pytest.mark.parametrize("sizes", [(10, 20, 40, 80, 160), (8, 16, 32, 64, 128)])
def test_a_limit_is_seen_on_levels_that_do_not_nest(sizes: tuple[int, ...]) -> None:
    """-u'' = Q + c by the centred difference converges to u + c·x(1 - x)/2 (the difference is
    exact for a quadratic), whose maximum c/8 the Richardson limit reports: the fine error is
    interpolated to the coarse points.  The right solver still passes."""
    assert _steady_on(_poisson_direct, sizes).status is Status.PASS
    r = _steady_on(lambda p: _poisson_direct(p, 1e-5), sizes)
    assert r.status is Status.FAIL, r.reason
    limit = next(d for d in r.diagnostics if d["kind"] == "extrapolated_limit")
    assert limit["limit"] == pytest.approx(1e-5 / 8, rel=0.02)
    assert _steady_on(lambda p: _poisson_direct(p, 3e-6), sizes).status is not Status.PASS


def _steady_on(solver: Callable[[SolverProblem], np.ndarray], sizes: tuple[int, ...]) -> Any:
    return verify_solver(
        solver, POISSON_U, operator="-D(u, x, 2)", expect_order=2, domain="x=0:1", sizes=sizes
    )


@pytest.mark.parametrize(
    ("kwargs", "shown"),
    [
        ({"expect_order": 10**400}, "1.000000e+400"),
        ({"parameters": {"nu": 10**400}}, "1.000000e+400"),
        ({"parameters": {"nu": -(7 * 10**500)}}, "-7.000000e+500"),
        ({"time_steps": -(10**400)}, "-1.000000e+400"),
    ],
)
def test_integers_beyond_the_float_range_are_refused_by_name(
    kwargs: dict[str, Any], shown: str
) -> None:
    """No OverflowError from float(): a ConfigError naming the value in scientific notation
    (never cut to its first digits), before the solver runs."""
    solver = Counting()
    options: dict[str, Any] = {"expect_order": 1, "time": "t=0:1"} | kwargs
    with pytest.raises(ConfigError) as err:
        verify_solver(solver, "exp(-t)", operator="D(u, t) + nu*u", **options)
    assert f"(got {shown})" in str(err.value)
    assert solver.calls == 0
