"""Whole-solver verification by the method of manufactured solutions (MMS).

:func:`verify_solver` picks a smooth *manufactured* solution ``u`` (safe text), derives the
source term ``Q = L(u)`` of the operator ``L`` symbolically (:func:`manufactured_source`), and
runs the user's solver on a sequence of refined levels, each time giving it the source, the
initial data ``u(x, t0)`` and boundary data taken from ``u`` itself.  Since ``u`` then solves
the discretized problem's continuous counterpart exactly, the difference between the solver's
answer and ``u`` at the final time is the solver's discretization error, and it must vanish at
the solver's order: ``E(h) ≈ C h^p``.

**Refinement.**  ``sizes`` (points per spatial axis) and ``time_steps`` (number of time
steps) are each either a sequence, refined, or a single integer, held fixed.  Refining both
together is the usual space-time study: with ``dt ∝ h^k`` (k = 1 for ``time_steps`` doubling
with ``sizes - 1``, k = 2 for an explicit diffusion solver at a fixed ``dt/h²``) the error
``C_x h^p + C_t dt^q`` falls as ``h^min(p, k q)``, and the observed order is measured against
h.  k is read from the levels and must be the same for every pair.  That order sees only the
smaller term: with ``k q > p`` a time stepping of any order in ``[p/k, q)`` gives the same orders
in h (backward Euler claimed second order at ``dt ∝ h²``), so the claimed q is decided by the
time self-convergence below alone; with ``p > k q`` nothing measures the spatial order alone,
and a pass is ``inconclusive`` (see *Claims the orders in h cannot see*).  Refining time alone (an
ODE, or a PDE whose spatial scheme is exact for ``u``, such as a quadratic in x under a
second-order Laplacian) measures q against dt; refining space alone (a steady problem, or a
time scheme exact for ``u``) measures p.  In an unsteady PDE with one of them fixed, the fixed
one's error stays while the other vanishes, so an error that levels off, falls away or grows
is ``inconclusive`` there, not a fail.

**Errors and orders.**  On each level ``e = |u_solver - u|`` at the final time gives L1
(mean), L2 (root mean square) and L∞ (max) norms, separately for the interior and for the
boundary (the ``boundary_width`` outermost layers of points on every face), where a boundary
closure of lower order shows first.  Pairwise orders ``ln(E_c/E_f)/ln(h_c/h_f)``, the
asymptotic range and the verdict follow :func:`symgrad.grids.region_verdict` (the rules of
``verify_grid``: L∞ judged, tolerance 0.2, orders settled over the last three pairs), with two
additions for solvers:

* *falling orders*: the last three orders all below ``expected - 0.2`` and strictly falling
  decide ``fail``: a term of lower order is taking over (a correct solver's pre-asymptotic
  orders approach the expected one instead).  When the error fits ``A + B h^p`` with
  ``A`` at least half the finest error, it is levelling off at ``A``: the solver converges to
  a different solution (a wrong coefficient, source or boundary value);
* *higher orders*: an order above the expected one is ``inconclusive`` (the solution may make
  the leading error term vanish), never a fail: a bug does not raise an order;
* *a hidden limit*: the signed errors ``e_k = u_k - u`` of consecutive levels, at the points
  they share, extrapolated by Richardson to h = 0 (``(r^p e_fine - e_coarse)/(r^p - 1)``),
  vanish for a solver that converges to u (their maximum falls at the order of the next error
  term, p + 1 or more) and tend to ``u_wrong - u`` for one that converges elsewhere.  Three
  such maxima above the floor and about constant fail the whole study; a pass becomes
  ``inconclusive`` when they fall at an order below ``p + 0.5`` or at orders that still jump
  by more than 0.5 (a limit of opposite sign to the next term makes them dip through zero).
  This sees a coefficient wrong by 0.1-0.2% whose limit is a few percent of the finest error,
  where the orders alone still look right.  Levels that do not nest (10, 20, 40 points) are
  compared at the coarse points by linear interpolation of the finer level's error (it adds
  ``O(h^(p+2))``, below what the combination leaves of a vanishing error).  Maxima that
  *rise* (an order of ``-0.5`` or less), or whose fields disagree between the pairs of
  levels, are not in the asymptotic range: an error that does not fall with h dominates the
  signed errors, typically the algebraic error of an iterative solve stopped at a fixed
  tolerance (larger on finer levels), so the study is ``inconclusive`` naming it, never a
  different solution.

**Resolution.**  A level whose solution, or whose leading error terms, it does not resolve
(:mod:`symgrad.grids._resolution`: u and ``∂_k^(n+p) u`` in space, at the first and last time;
``dt |∂u/∂t|`` and ``∂_t^(n+q) u`` in time, for what the levels refine) is left out of the
orders, the falling-orders rule and the Richardson limit; with none resolved the verdict is
``inconclusive``, naming the quantity.  With ``executor=`` the levels (and the two runs of the
time self-convergence) are independent pieces, run in the serial order.

A region whose errors are exactly zero on every level (boundary values imposed from the
Dirichlet data) is ``exact``; errors at the rounding floor without being zero decide nothing
(``inconclusive``).  The floor of a level is ``64 ε max|u| (1 + time_steps + (L/h)^m)``: each
time step rounds, and a spatial operator of order m amplifies rounding by up to ``(L/h)^m``.

**Naming the culprit.**  In a space-time study the time discretization is also measured on
its own by self-convergence on the coarsest grid (``M``, ``2M`` and ``4M`` time steps: the
differences of the solutions cancel the spatial error), and a failing verdict names it when it
is below the expected time order; the location of the largest error on the finest level says
whether the boundary dominates.

**Claims the orders in h cannot see.**  When ``k q > p + 0.2`` the self-convergence runs 8M
time steps too, giving two orders: both below ``q - 0.2`` and within 0.2 of each other make the
study ``fail`` (the claimed time order is false), a last order of at least ``q - 0.2`` confirms
it, and anything else (orders still moving, the time error at the rounding floor) is
``inconclusive`` with the reason.  When ``p > k q + 0.2`` the spatial claim is unmeasured:
``inconclusive``, asking for ``dt ∝ h^(p/q)`` or a study refining space alone.

A GCI (:func:`gci`) of a chosen output quantity (by default
the domain average of the solution by the trapezoidal rule, itself of order 2; the value for
an ODE) is reported beside the verdict, not part of it.

**The solver calling convention.**  ``solver(problem)`` receives a :class:`SolverProblem` and
returns the solution at the final time: a float64 array of the grid's shape (points per axis
``N``, ``indexing='ij'``), or a number for an ODE.  The problem carries ``coordinates`` (one
1-D array per axis), ``spacing``, ``time = (t0, t_end)``, ``time_steps`` and ``dt``, ``initial``
(u at t0 on the grid), and three callables taking the spatial coordinates then ``t``
(broadcasting): ``source``, ``boundary`` (the exact solution, for Dirichlet data) and
``gradient`` (its spatial gradient, for Neumann data).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import sympy

from symgrad._limits import check_count
from symgrad._parallel import check_executor, run_pieces
from symgrad._precision import EPS
from symgrad.derive import Compiled, Limits
from symgrad.errors import ConfigError, InputError, SymgradError
from symgrad.expr import derivative_notation, parse, parse_domain, symbol, validate_name
from symgrad.grids._diagnostics import (
    JUDGED_NORM,
    NORMS,
    TOLERANCES,
    GridRegion,
    Judging,
    Norms,
    _plain,
    assemble_region,
    cell_widths,
    norms,
    pairwise_orders,
    region_verdict,
    regions,
    resolution,
    unresolved_levels,
)
from symgrad.grids._gci import GCIResult, gci, shown
from symgrad.grids._mms import manufactured_source, priced_partial
from symgrad.grids._resolution import Watched, error_terms, ratio, watch, worst
from symgrad.grids._verify import _require_picklable
from symgrad.results import Status, TableResult, combine

__all__ = [
    "DEFAULT_SOLVER_SIZES",
    "DEFAULT_TIME_STEPS",
    "SolverProblem",
    "SolverResult",
    "verify_solver",
]

FloatArray = npt.NDArray[np.float64]
Solver = Callable[["SolverProblem"], Any]
Quantity = Callable[["SolverProblem", FloatArray], float]

DEFAULT_SOLVER_SIZES = (9, 17, 33, 65)
DEFAULT_TIME_STEPS = (8, 16, 32, 64)
#: Points per spatial axis of the probe on which the resolution in time is measured.
_PROBE = 9
#: Levels of one study (each is one solver run).
MAX_LEVELS = 12
#: Grid points of one level, all axes together.  The answer, the exact solution, the error and
#: the initial data are kept for every level: about 256 MB for a level at the cap.
MAX_LEVEL_POINTS = 8_000_000
#: The solver's work over the study: points times time steps summed over every run
#: (the levels and the two time self-convergence runs).
MAX_WORK = 2_000_000_000
#: Space-time studies: ln(dt ratio)/ln(h ratio) must agree to this over all pairs.
RATIO_TOL = 0.02
_FLOOR_ULPS = 64.0
_BY_TIME_STEPS = (
    "add finer levels (more time steps)"  # the stop reason; levels counted in time steps
)
_DATA_ULPS = 8.0  # errors within 8 ulp of max|u|: the values are the data, to rounding
_BELOW_INTERIOR = 1e-2  # a boundary at the floor, at most this times the interior error: passes
_RESOLVED = 10.0  # extrapolated errors must stand this far above the rounding floor
_ORDER_MAX = 1e300  # a claimed order must be below this
_STILL = 0.5  # ... and fall at an order within this of 0 to be a limit; -_STILL or less: rising
_NEXT_TERM = 0.5  # a vanishing error's extrapolation falls at order p + 1 or more: p + 0.5
_LEVEL_OFF = 0.5  # A of the fit A + B h^p at least this times the finest error: levelling off


# --------------------------------------------------------------------------- the problem
@dataclass(frozen=True, eq=False)
class SolverProblem:
    """One level of a manufactured-solution study, as the solver receives it.

    Attributes
    ----------
    coordinates : tuple of 1-D float64 arrays
        Grid points per spatial axis, endpoints included (empty for an ODE).
    spacing : tuple of float
        The uniform step per axis.
    time : (float, float) or None
        ``(t0, t_end)``; None for a steady problem.
    time_steps : int or None
        Number of time steps; ``dt = (t_end - t0)/time_steps``.
    parameters : dict
        Values of the operator's parameters (``{"nu": 0.1}``).
    initial : float64 array or None
        The manufactured solution at ``t0`` on the grid (0-d for an ODE; None when steady).
    """

    coordinates: tuple[FloatArray, ...]
    spacing: tuple[float, ...]
    time: tuple[float, float] | None
    time_steps: int | None
    parameters: dict[str, float]
    initial: FloatArray | None
    _fields: Compiled = dataclasses.field(repr=False)
    _source: Compiled = dataclasses.field(repr=False)

    @property
    def dt(self) -> float | None:
        """The time step, or None for a steady problem."""
        if self.time is None or self.time_steps is None:
            return None
        return (self.time[1] - self.time[0]) / self.time_steps

    @property
    def shape(self) -> tuple[int, ...]:
        """The grid's shape, ``(N,) * d`` (``()`` for an ODE)."""
        return tuple(c.size for c in self.coordinates)

    @property
    def mesh(self) -> tuple[FloatArray, ...]:
        """Full coordinate arrays of the grid's shape (``np.meshgrid(..., indexing='ij')``)."""
        return tuple(np.meshgrid(*self.coordinates, indexing="ij"))

    def source(self, *args: npt.ArrayLike) -> FloatArray:
        """The manufactured source ``Q = L(u)`` at the spatial coordinates, then t if unsteady."""
        values: FloatArray = self._source(*self._arguments(args))
        return values

    def boundary(self, *args: npt.ArrayLike) -> FloatArray:
        """The exact solution ``u`` at the given points: Dirichlet data (and any other value)."""
        values: FloatArray = self._fields(*self._arguments(args))[0]
        return values

    def gradient(self, *args: npt.ArrayLike) -> tuple[FloatArray, ...]:
        """The exact spatial gradient ``(∂u/∂x_1, ...)`` at the given points: Neumann data."""
        values = self._fields(*self._arguments(args))
        return tuple(values[1:])

    def _arguments(self, args: Sequence[npt.ArrayLike]) -> list[npt.ArrayLike]:
        want = len(self.coordinates) + (self.time is not None)
        if len(args) != want:
            names = ["x_1", "...", f"x_{len(self.coordinates)}"] if self.coordinates else []
            msg = (
                f"problem callables take {want} argument(s) ({', '.join(names + ['t'][: int(self.time is not None)])}); "
                f"got {len(args)}"
            )
            raise InputError(msg)
        return [*args, *self.parameters.values()]


# ---------------------------------------------------------------------------- the result
@dataclass(frozen=True)
class SolverResult(TableResult):
    """Outcome of :func:`verify_solver`: errors, observed orders and verdict per region.

    Attributes
    ----------
    solver : str
        The solver's name.
    refine : str
        ``"space"``, ``"time"`` or ``"space-time"``: what the levels refine.
    variables, time_variable : tuple of str, str or None
        Spatial axes (empty for an ODE) and the time variable (None when steady).
    sizes, time_steps : tuple of int or None
        Points per axis and time steps of each level (None where not applicable).
    h : tuple of float
        The refinement parameter of each level: the largest spacing, or dt when only time is
        refined; the orders are measured against it.
    dt : tuple of float or None
        Time step of each level.
    time_exponent : float or None
        Space-time studies: k in ``dt ∝ h^k``.
    expected_order : dict
        ``space``, ``time``, ``boundary`` as given, and ``interior`` and ``boundary_region``:
        the orders the regions are judged against (``min(space, k·time)`` in space-time).
    regions : dict of GridRegion
        ``interior`` and ``boundary`` (``solution`` for an ODE).
    diagnostics : tuple of dict
        ``kind``, ``message`` and details: ``time_order``, ``largest_error``,
        ``falling_orders``, ``levelling_off``, ``order_above_expected``,
        ``time_order_hidden``, ``space_order_hidden``, ``extrapolated_limit``,
        ``extrapolated_rising``, ``extrapolated_unsettled``, ``extrapolated_slow``.
    quantity, quantity_values, gci : str, tuple of float, GCIResult or None
        The output quantity, its value per level, and its GCI (None with fewer than three
        levels or a non-finite value).
    """

    status: Status
    reason: str
    solver: str
    refine: str
    variables: tuple[str, ...]
    time_variable: str | None
    sizes: tuple[int, ...] | None
    time_steps: tuple[int, ...] | None
    h: tuple[float, ...]
    dt: tuple[float, ...] | None
    time_exponent: float | None
    expected_order: dict[str, float]
    regions: dict[str, GridRegion]
    diagnostics: tuple[dict[str, Any], ...]
    quantity: str
    quantity_values: tuple[float, ...]
    gci: GCIResult | None

    def to_dict(self) -> dict[str, Any]:
        """Every field under its own name; regions and the GCI as their own dicts."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["status"] = self.status.value
        out["regions"] = {k: r.to_dict() for k, r in self.regions.items()}
        out["gci"] = None if self.gci is None else self.gci.to_dict()
        return _plain(out)  # type: ignore[no-any-return]

    def _title(self) -> str:
        where = ", ".join(self.variables) or "an ODE"
        return f"verify_solver: {self.solver} on {where}, refining {self.refine}"

    def _table(self) -> tuple[list[str], list[list[str]]]:
        head = ["level", "N", "time_steps", "h", "dt"]
        for name in self.regions:
            head += [f"{name} L1", f"{name} L2", f"{name} Linf", "order"]
        rows = []
        for i, h in enumerate(self.h):
            row = [
                str(i + 1),
                "-" if self.sizes is None else str(self.sizes[i]),
                "-" if self.time_steps is None else str(self.time_steps[i]),
                f"{h:.4g}",
                "-" if self.dt is None else f"{self.dt[i]:.4g}",
            ]
            for r in self.regions.values():
                row += [f"{r.errors[n][i]:.3e}" for n in NORMS]
                row.append(_fmt(r.orders[i - 1]) if i else "")
            rows.append(row)
        fitted = ["fitted", "", "", "", ""]
        expected = ["expected", "", "", "", ""]
        for r in self.regions.values():
            fitted += [_fmt(r.fitted_orders[n]) for n in NORMS] + [_fmt(r.observed_order)]
            expected += ["", "", "", f"{r.expected_order:g}"]
        return head, [*rows, fitted, expected]

    def _notes(self) -> list[str]:
        notes = [f"{name}: {r.status}: {r.reason}" for name, r in self.regions.items()]
        notes += [f"{d['kind']}: {d['message']}" for d in self.diagnostics]
        if self.gci is not None:
            notes.append(f"GCI of {self.quantity}: {self.gci.status}: {self.gci.reason}")
        return notes


def _fmt(order: float) -> str:
    return "-" if not math.isfinite(order) else f"{order:.2f}"


class _Scales(NamedTuple):
    """Per level: the rounding floor, ``max|u|``, and the interior's L∞ errors (boundary only)."""

    floors: tuple[float, ...]
    scales: tuple[float, ...]
    inner: tuple[float, ...] | None


# ------------------------------------------------------------------------------ set-up
@dataclass(frozen=True)
class _Study:
    """Everything :func:`verify_solver` needs, validated once by ``_study``."""

    solver: Solver
    name: str
    space: tuple[tuple[str, float, float], ...]
    time: tuple[str, float, float] | None
    parameters: dict[str, float]
    sizes: tuple[int, ...] | None
    time_steps: tuple[int, ...] | None
    refine: str
    expected: dict[str, float]
    width: int
    fields: Compiled
    source: Compiled
    spatial_order: int
    exponent: float | None
    quantity: Quantity | None
    rate: Compiled | None = None  # ∂u/∂t, for the resolution in time
    watched: Watched | None = None  # the spatial error terms (_watched)
    time_term: Compiled | None = None  # the time error term and its ∂/∂t (_time_term)


def verify_solver(
    solver: Solver,
    solution: str,
    *,
    operator: str,
    expect_order: float | Mapping[str, float],
    domain: str | Mapping[Any, Any] | None = None,
    time: str | Mapping[Any, Any] | None = None,
    sizes: int | Sequence[int] | None = None,
    time_steps: int | Sequence[int] | None = None,
    parameters: Mapping[str, float] | None = None,
    quantity: Quantity | None = None,
    boundary_width: int = 1,
    limits: Limits | None = None,
    executor: Executor | None = None,
) -> SolverResult:
    """Verify a whole solver by the method of manufactured solutions (module docstring).

    Parameters
    ----------
    solver : callable
        ``solver(problem) -> array``: receives a :class:`SolverProblem`, returns the solution
        at the final time on the grid (a number for an ODE).
    solution : str
        The manufactured solution, e.g. ``"exp(-t)*sin(pi*x) + x/2"``.
    operator : str
        The operator ``L`` of ``L(u) = Q`` in the notation of :func:`manufactured_source`, e.g.
        ``"D(u, t) - nu*D(u, x, 2)"``, or ``"D(u, t) + u"`` for the ODE ``u' = -u + Q(t)``.
    expect_order : float or mapping
        The solver's formal order: one number for everything refined, or a mapping with
        ``"space"``, ``"time"`` and optionally ``"boundary"`` (the spatial order near the
        boundary, default the spatial order).
    domain : str or mapping, optional
        The spatial box, ``"x=0:1"`` or ``"x=0:1,y=0:2"`` (1 to 3 axes); None for an ODE.
    time : str or mapping, optional
        The time interval, ``"t=0:1"``; None for a steady problem.
    sizes : int or sequence of int, optional
        Points per spatial axis per level (a single int: fixed).  Default
        ``DEFAULT_SOLVER_SIZES`` when a domain is given and ``time_steps`` is refined or absent.
    time_steps : int or sequence of int, optional
        Number of time steps per level (a single int: fixed).  Default ``DEFAULT_TIME_STEPS`` for an ODE or
        when ``sizes`` is refined, giving ``dt ∝ h``.
    parameters : mapping, optional
        Values of the other names of ``operator`` and ``solution`` (``{"nu": 0.1}``).
    quantity : callable, optional
        ``quantity(problem, u) -> float``: the output whose GCI is reported; default the
        domain average of the solution by the trapezoidal rule (the value for an ODE).
    boundary_width : int
        Layers of points on every face counted as the boundary region (default 1).
    limits : Limits, optional
        Caps on the work of every symbolic derivative (the source term's and the solution's
        gradient), ``symgrad.Limits()`` by default: each order is priced against
        ``limits.max_work`` before SymPy takes it.
    executor : concurrent.futures.Executor, optional
        Runs the solver on the levels (and, in a space-time study, the two runs of the time
        self-convergence) as independent pieces; the result and the errors are identical to
        the serial run (``None``).  Unless it is a ``ThreadPoolExecutor``, the solver must
        pickle (defined at module level; a ``dask.distributed`` executor also takes
        lambdas): a ConfigError says so before any run.

    Returns
    -------
    SolverResult
        ``pass`` when every region converges at its expected order; ``fail`` for a wrong order
        (settled, or falling away), a solver that converges to another solution, or a
        non-finite answer; ``inconclusive`` with the reason otherwise; ``exact`` for a region
        with zero error on every level.

    Raises
    ------
    ParseError
        The solution or operator cannot be parsed, or names something not declared.
    ConfigError, InputError
        A bad domain, time, sizes, time_steps, order or parameter; a solver answer of the wrong
        shape or kind (InputError naming the solver and the shapes).
    LimitExceeded
        More than ``MAX_LEVELS`` levels, ``MAX_LEVEL_POINTS`` points on a level or
        ``MAX_WORK`` points times time steps over the study, refused before the solver runs;
        a derivative whose estimated work exceeds ``limits.max_work`` (``limit="work"``),
        refused before SymPy takes it.

    Exceptions raised inside the solver propagate unchanged.

    Examples
    --------
    Forward Euler on ``u' = -u + Q(t)`` is first order:

    >>> def euler(p):
    ...     u, dt = float(p.initial), p.dt
    ...     for n in range(p.time_steps):
    ...         t = p.time[0] + n * dt
    ...         u += dt * (-u + float(p.source(t)))
    ...     return u
    >>> r = verify_solver(euler, "sin(t) + exp(-t)", operator="D(u, t) + u",
    ...                   expect_order=1, time="t=0:2", time_steps=(16, 32, 64, 128, 256))
    >>> r.status, round(r.regions["solution"].observed_order, 1)
    (<Status.PASS: 'pass'>, 1.0)
    """
    study = _study(
        solver,
        solution,
        operator,
        expect_order,
        domain,
        time,
        sizes,
        time_steps,
        parameters,
        quantity,
        (boundary_width, limits),
    )
    _require_picklable(study.solver, study.name, check_executor(executor), "solver")
    levels = _levels(study)
    runs = levels + _time_runs(study, levels)
    piece = dataclasses.replace(study, quantity=None)  # what a run needs, picklable
    answers = run_pieces(executor, _run, [(piece, n, m) for n, m in runs])
    return _assemble(study, levels, answers[: len(levels)], answers[len(levels) :])


def _time_runs(
    study: _Study, levels: Sequence[tuple[int | None, int | None]]
) -> list[tuple[int | None, int | None]]:
    """Space-time studies: the 2M and 4M time-step runs on the coarsest grid (``_time_order``),
    and 8M when the orders in h cannot see the claimed time order (``_hidden``)."""
    if study.refine != "space-time":
        return []
    n, m = levels[0]
    return [(n, f * (m or 1)) for f in _time_factors(study.expected, study.exponent)]


def _time_factors(expected: Mapping[str, float], exponent: float | None) -> tuple[int, ...]:
    """The multiples of the coarsest level's time steps run on its grid (``_time_runs``)."""
    return (2, 4, 8) if _hidden(expected, exponent) == "time" else (2, 4)


def _hidden(expected: Mapping[str, float], exponent: float | None) -> str:
    """Which claimed order the orders in h of a space-time study cannot measure.

    The error ``C_x h^p + C_t dt^q`` with ``dt ∝ h^k`` falls as ``h^min(p, k q)``.  With
    ``k q > p + tol`` a time stepping of any order in ``[p/k, q)`` gives the same orders in h:
    the claimed q is "time" hidden (the time self-convergence must measure it); with
    ``p > k q + tol``, a spatial order in ``[k q, p)`` hides the same way ("space").  ""
    when both are measured (``p ≈ k q``), or space and time are not refined together.
    """
    if exponent is None or "time" not in expected or "space" not in expected:
        return ""
    space, time = expected["space"], exponent * expected["time"]
    if time > space + TOLERANCES["order"]:
        return "time"
    return "space" if space > time + TOLERANCES["order"] else ""


def _study(
    solver: object,
    solution: object,
    operator: object,
    expect_order: object,
    domain: object,
    time: object,
    sizes: object,
    time_steps: object,
    parameters: object,
    quantity: object,
    width_limits: tuple[object, Limits | None],
) -> _Study:
    """Validate every argument once; every count is capped before any solver run."""
    if not callable(solver):
        msg = f"solver: must be a callable solver(problem) (got {type(solver).__name__})"
        raise InputError(msg)
    if quantity is not None and not callable(quantity):
        msg = f"quantity: must be a callable quantity(problem, u) (got {type(quantity).__name__})"
        raise InputError(msg)
    space = _space(domain)
    clock = _time(time)
    params = _parameters(parameters)
    names = [n for n, _, _ in space] + ([clock[0]] if clock else [])
    clash = set(names) & set(params)
    if len(set(names)) != len(names) or clash:
        msg = f"domain, time, parameters: every name must be distinct (got {names + list(params)})"
        raise ConfigError(msg)
    n_seq, m_seq, refine = _refinement(sizes, time_steps, bool(space), clock is not None)
    boundary_width, limits = width_limits
    width = _positive_int("boundary_width", boundary_width)
    if n_seq is not None and min(n_seq) < 2 * width + 1:
        msg = f"sizes: need at least {2 * width + 1} points per axis for boundary_width {width}"
        raise ConfigError(msg)
    expected = _expected(expect_order, refine)
    exponent = _exponent(n_seq, m_seq) if refine == "space-time" else None
    extra = sum(_time_factors(expected, exponent)) if refine == "space-time" else 0
    _check_budget(n_seq, m_seq, len(space), extra)
    variables = (*names, *params)
    sol = parse(solution, variables)
    source = manufactured_source(operator, solution, variables, limits=limits)  # type: ignore[arg-type]
    spatial = [symbol(n) for n, _, _ in space]
    symbols = [symbol(v) for v in variables]
    fields = Compiled(
        [sol, *(priced_partial(sol, [s], symbols, limits) for s in spatial)],
        symbols,
        kind="manufactured solution",
    )
    rate = None
    if clock is not None:
        t = symbol(clock[0])
        rate = Compiled(priced_partial(sol, [t], symbols, limits), symbols, kind="∂u/∂t")
    _, table = derivative_notation(operator, solution)
    watched, time_term = _error_terms(
        sol, tuple(symbols), table, space, clock, refine, expected, limits
    )
    order = max(
        (sum(s.name in {n for n, _, _ in space} for s in w) for w in table.values()), default=0
    )
    return _Study(
        solver,
        getattr(solver, "__qualname__", None) or repr(solver),
        space,
        clock,
        params,
        n_seq,
        m_seq,
        refine,
        expected,
        width,
        fields,
        source,
        order,
        exponent,
        quantity,
        rate,
        watched,
        time_term,
    )


def _error_terms(
    sol: sympy.Expr,
    symbols: tuple[sympy.Symbol, ...],
    table: Mapping[str, Sequence[sympy.Symbol]],
    space: Sequence[tuple[str, float, float]],
    clock: tuple[str, float, float] | None,
    refine: str,
    expected: Mapping[str, float],
    limits: Limits | None,
) -> tuple[Watched | None, Compiled | None]:
    """The leading error terms a level must resolve (:mod:`symgrad.grids._resolution`).

    In space, for each derivative of the operator with n spatial factors, ``∂_k^(n+p) u``
    along each of its axes k (p the expected space and boundary orders), evaluated on the grid
    at the first and the last time; in time, ``∂_t^(n+q) u`` (n the operator's time order, q
    the expected time order) with its ``∂/∂t``, on the probe of the resolution in time.  Only
    what the levels refine: a fixed discretization's error does not change with the levels.
    """
    names = [n for n, _, _ in space]
    watched = None
    if space and refine != "time":
        terms = tuple(
            (0, axes)
            for wrt in table.values()
            if (axes := tuple(names.index(s.name) for s in wrt if s.name in names))
        )
        orders = tuple(sorted({math.ceil(expected[k]) for k in ("space", "boundary")}))
        found = error_terms((sol,), symbols, terms, orders, limits, "u")
        watched = watch(tuple((n, g, True) for n, g in found), symbols, len(space), limits)
    if clock is None or refine == "space":
        return watched, None
    t = symbols[len(space)]
    n = max((sum(s.name == clock[0] for s in wrt) for wrt in table.values()), default=0)
    g = priced_partial(sol, [t] * (n + math.ceil(expected["time"])), symbols, limits)
    if t not in g.free_symbols:
        return watched, None  # a polynomial in t of degree n + q: no next term, R = 0
    rows = [g, priced_partial(g, [t], symbols, limits)]
    order = n + math.ceil(expected["time"])
    return watched, Compiled(rows, symbols, kind=f"∂^{order}u/∂{clock[0]}^{order}")


def _exponent(n: tuple[int, ...] | None, m: tuple[int, ...] | None) -> float:
    """k in ``dt ∝ h^k`` from the levels (``h ∝ 1/(N - 1)``, ``dt ∝ 1/M``), the same for all pairs."""
    pairs = zip(itertools.pairwise(n or ()), itertools.pairwise(m or ()), strict=True)
    ks = [math.log(m1 / m0) / math.log((n1 - 1) / (n0 - 1)) for (n0, n1), (m0, m1) in pairs]
    if max(ks) - min(ks) > RATIO_TOL * max(ks):
        shown = ", ".join(f"{k:.3g}" for k in ks)
        msg = (
            "sizes, time_steps: refine space and time at a fixed ratio, dt ∝ h^k with the same k "
            f"for every pair of levels (got k = {shown})"
        )
        raise ConfigError(msg)
    return float(np.mean(ks))


def _space(domain: object) -> tuple[tuple[str, float, float], ...]:
    if domain is None:
        return ()
    box = parse_domain(domain)  # type: ignore[arg-type]  # refused there if not text/mapping
    if not 1 <= len(box) <= 3:
        msg = f"domain: give 1 to 3 spatial axes (got {list(box)})"
        raise ConfigError(msg)
    return tuple((n, lo, hi) for n, (lo, hi) in box.items())


def _time(time: object) -> tuple[str, float, float] | None:
    if time is None:
        return None
    box = parse_domain(time)  # type: ignore[arg-type]
    if len(box) != 1:
        msg = f"time: give one interval such as 't=0:1' (got {list(box)})"
        raise ConfigError(msg)
    ((name, (t0, t1)),) = box.items()
    return name, t0, t1


def _parameters(parameters: object) -> dict[str, float]:
    if parameters is None:
        return {}
    if not isinstance(parameters, Mapping):
        msg = (
            f"parameters: must be a mapping such as {{'nu': 0.1}} (got {type(parameters).__name__})"
        )
        raise InputError(msg)
    out = {}
    for key, value in parameters.items():
        name = validate_name(key) if isinstance(key, str) else None
        if name is None or isinstance(value, bool) or not isinstance(value, numbers.Real):
            msg = f"parameters: names must be text and values real numbers (got {shown(key)}: {shown(value)})"
            raise InputError(msg)
        if not math.isfinite(_as_float(value)):
            msg = f"parameters: {name} must be finite (got {shown(value)})"
            raise ConfigError(msg)
        out[name] = float(value)
    return out


def _as_float(value: numbers.Real) -> float:
    """``float(value)``, inf for an integer beyond the float range (no OverflowError)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        msg = f"{name}: must be a positive integer (got {shown(value, 60)})"
        raise ConfigError(msg)
    return int(value)


def _counts(name: str, value: object, minimum: int) -> tuple[int, ...]:
    """One fixed count (a 1-tuple) or an increasing sequence of at most ``MAX_LEVELS``."""
    if isinstance(value, Iterable) and not isinstance(value, str | bytes):
        items = list(itertools.islice(value, MAX_LEVELS + 1))
        check_count("levels", len(items), MAX_LEVELS, f"{name} levels", "use fewer levels")
        values = [_positive_int(f"{name}[{i}]", v) for i, v in enumerate(items)]
        if len(values) < 2 or any(a >= b for a, b in itertools.pairwise(values)):
            msg = (
                f"{name}: need 2 or more increasing levels, 4 to see an order settle (got {values})"
            )
            raise ConfigError(msg)
    else:
        values = [_positive_int(name, value)]
    if values[0] < minimum:
        msg = f"{name}: need at least {minimum} (got {values[0]})"
        raise ConfigError(msg)
    return tuple(values)


def _refinement(
    sizes: object, time_steps: object, spatial: bool, timed: bool
) -> tuple[tuple[int, ...] | None, tuple[int, ...] | None, str]:
    """(sizes, time_steps, refine): None where not applicable; a 1-tuple is a fixed count."""
    if not spatial and sizes is not None:
        msg = "sizes: an ODE (no domain) has no grid; refine time_steps only"
        raise ConfigError(msg)
    if not timed and time_steps is not None:
        msg = "time_steps: a steady problem (no time) has no time steps; refine sizes only"
        raise ConfigError(msg)
    if not spatial and not timed:
        msg = "domain, time: give a domain, a time interval, or both"
        raise ConfigError(msg)
    m_default = (
        DEFAULT_TIME_STEPS if timed and (sizes is None or not isinstance(sizes, int)) else None
    )
    n_default = (
        DEFAULT_SOLVER_SIZES
        if spatial and (time_steps is None or not isinstance(time_steps, int))
        else None
    )
    n = None if not spatial else _counts("sizes", sizes if sizes is not None else n_default, 3)
    m = (
        None
        if not timed
        else _counts("time_steps", time_steps if time_steps is not None else m_default, 1)
    )
    varying = [
        name for name, seq in (("space", n), ("time", m)) if seq is not None and len(seq) > 1
    ]
    if not varying:
        msg = "sizes, time_steps: refine at least one of them (give a sequence of levels)"
        raise ConfigError(msg)
    if len(varying) == 2 and len(n or ()) != len(m or ()):
        msg = f"sizes, time_steps: refining both needs as many sizes as time_steps (got {len(n or ())} and {len(m or ())})"
        raise ConfigError(msg)
    return n, m, "space-time" if len(varying) == 2 else varying[0]


def _check_budget(n: tuple[int, ...] | None, m: tuple[int, ...] | None, d: int, extra: int) -> None:
    """Points per level and points × time steps over the study; ``extra`` coarsest levels' work
    more for the time self-convergence runs (``_time_runs``: 2M + 4M (+ 8M), 0 without)."""
    levels = max(len(n or ()), len(m or ()))
    points = [(n[i if len(n) > 1 else 0]) ** d if n else 1 for i in range(levels)]
    work = [(m[i if len(m) > 1 else 0] if m else 1) for i in range(levels)]
    check_count(
        "grid_points",
        max(points),
        MAX_LEVEL_POINTS,
        "grid points on one level",
        "use fewer points per axis",
    )
    total = sum(p * w for p, w in zip(points, work, strict=True))
    total += points[0] * work[0] * extra  # the time self-convergence runs on the coarsest grid
    check_count(
        "solver_work",
        total,
        MAX_WORK,
        "points times time steps over the study",
        "use fewer or smaller levels",
    )


def _expected(expect_order: object, refine: str) -> dict[str, float]:
    """``{"space", "time", "boundary"}`` as needed by ``refine``, each a positive number."""
    need = {"space": ("space",), "time": ("time",), "space-time": ("space", "time")}[refine]
    if isinstance(expect_order, Mapping):
        given = dict(expect_order)
    else:
        given = dict.fromkeys(need, expect_order)
    missing = [k for k in need if k not in given]
    known = {"space", "time", "boundary"}  # an order the levels do not refine is ignored
    bad = [
        k
        for k, v in given.items()
        if k not in known
        or isinstance(v, bool)
        or not isinstance(v, numbers.Real)
        or not 0 < _as_float(v) < _ORDER_MAX
    ]
    if missing or bad:
        msg = (
            f"expect_order: give a positive number, or a mapping with {', '.join(need)} "
            f"(and boundary for the spatial order near the boundary) (got {shown(expect_order, 60)})"
        )
        raise ConfigError(msg)
    out = {k: float(v) for k, v in given.items()}
    if "space" in out:
        out.setdefault("boundary", out["space"])
    return out


# --------------------------------------------------------------------------- the runs
def _levels(study: _Study) -> list[tuple[int | None, int | None]]:
    count = max(len(study.sizes or ()), len(study.time_steps or ()))

    def pick(seq: tuple[int, ...] | None, i: int) -> int | None:
        return None if seq is None else seq[i if len(seq) > 1 else 0]

    return [(pick(study.sizes, i), pick(study.time_steps, i)) for i in range(count)]


def _problem(study: _Study, n: int | None, m: int | None) -> SolverProblem:
    coords = tuple(np.linspace(lo, hi, n) for _, lo, hi in study.space) if n else ()
    for c in coords:  # the solver must not move the points its answer is compared at
        c.setflags(write=False)
    spacing = tuple((hi - lo) / (n - 1) for _, lo, hi in study.space) if n else ()
    span = None if study.time is None else (study.time[1], study.time[2])
    problem = SolverProblem(
        coords, spacing, span, m, dict(study.parameters), None, study.fields, study.source
    )
    if span is None:
        return problem
    initial = np.array(problem.boundary(*_open(coords), span[0]), dtype=np.float64)
    initial = np.broadcast_to(initial, problem.shape).copy()
    return dataclasses.replace(problem, initial=initial)


def _open(coords: Sequence[FloatArray]) -> list[FloatArray]:
    d = len(coords)
    return [c.reshape([-1 if k == j else 1 for j in range(d)]) for k, c in enumerate(coords)]


def _run(study: _Study, n: int | None, m: int | None) -> _Answer:
    """One solver run: the problem, the solver's answer (checked), the exact solution."""
    problem = _problem(study, n, m)
    exact = _exact(problem)
    answer = study.solver(problem)
    array = np.asarray(answer)
    if (
        array.dtype.kind not in "fiu"
        or array.size != math.prod(problem.shape)
        or (array.shape != problem.shape and problem.shape)
    ):
        msg = (
            f"solver {study.name} returned {array.shape} of dtype {array.dtype}; expected real "
            f"numbers of shape {problem.shape} (the solution at the final time)"
        )
        raise InputError(msg)
    return _Answer(problem, array.astype(np.float64).reshape(problem.shape), exact)


class _Answer(NamedTuple):
    problem: SolverProblem
    u: FloatArray
    exact: FloatArray


def _exact(problem: SolverProblem) -> FloatArray:
    """u at the final time on the grid; u and Q at the first and last times must be finite."""
    grid = _open(problem.coordinates)
    times: list[list[float]] = [[t] for t in problem.time] if problem.time else [[]]
    for t in times:
        if not (
            np.all(np.isfinite(problem.boundary(*grid, *t)))
            and np.all(np.isfinite(problem.source(*grid, *t)))
        ):
            when = f" at t = {t[0]:.6g}" if t else ""
            msg = (
                f"solution, operator: the manufactured solution or its source is not finite on "
                f"the grid of shape {problem.shape}{when}; choose a solution smooth on the domain"
            )
            raise ConfigError(msg)
    u = problem.boundary(*grid, *times[-1])
    return np.array(np.broadcast_to(u, problem.shape), dtype=np.float64)


# ---------------------------------------------------------------------------- judging
def _assemble(
    study: _Study,
    levels: Sequence[tuple[int | None, int | None]],
    answers: Sequence[_Answer],
    time_runs: Sequence[_Answer] = (),
) -> SolverResult:
    """Errors per region and level, verdicts, diagnostics, the quantity's GCI;
    ``time_runs`` are the 2M and 4M runs of a space-time study (:func:`_time_runs`)."""
    problems = [a.problem for a in answers]
    exact = [a.exact for a in answers]
    errors = [np.abs(a.u - a.exact) for a in answers]
    h = tuple(_h(study, p) for p in problems)
    scales = tuple(float(np.max(np.abs(e))) for e in exact)
    floors = tuple(_floor(study, p, u) for p, u in zip(problems, scales, strict=True))
    p_in, p_bd = _region_orders(study)
    by_time = study.refine == "time"
    labels = tuple((m if by_time else n) or 0 for n, m in levels)
    stop = _BY_TIME_STEPS if by_time else "add finer levels"
    resolved, named = zip(*(_resolution(study, a) for a in answers), strict=True)
    coarse = unresolved_levels(resolved)
    judging = Judging(h, labels, (p_in, p_bd), stop, _no_evidence, resolved, named)
    parts = [_parts(p.shape, study.width) for p in problems]
    diagnostics: list[dict[str, Any]] = []
    fixed = _fixed(study)
    judged: dict[str, GridRegion] = {}
    for name in parts[0]:  # the interior first: its errors are the boundary's reference
        inner = judged["interior"].errors[JUDGED_NORM] if "interior" in judged else None
        judged[name] = _judge(
            name,
            [_norms(e, part[name]) for e, part in zip(errors, parts, strict=True)],
            _Scales(floors, scales, inner),
            judging,
            p_bd if name == "boundary" else p_in,
            diagnostics,
            fixed,
        )
    status = combine(r.status for r in judged.values())
    # the Richardson limit only over levels that resolve u (none: nothing to extrapolate)
    limit = None
    if coarse < len(answers):
        limit = _extrapolated_limit(answers[coarse:], h[coarse:], p_in, floors[coarse:])
    if limit is not None and limit["kind"] == "extrapolated_limit":
        diagnostics.insert(0, limit)
        decided, limit["message"] = _decided(limit["message"], fixed)
        status = combine([status, decided])
    elif limit is not None and (
        status.ok or limit["kind"] in ("extrapolated_rising", "extrapolated_noise")
    ):
        diagnostics.insert(0, limit)  # rising: the reason names the noise, unless a region fails
        status = combine([status, Status.INCONCLUSIVE])
    time_order = None
    if study.refine == "space-time":
        time_order = _time_order(study, answers[0], floors[0], time_runs)
        diagnostics.append(time_order)
    claims = _claims(study, time_order)
    if claims is not None:
        diagnostics.insert(0, claims[1])
        status = combine([status, claims[0]])
    diagnostics += _largest(problems[-1], errors[-1], parts[-1])
    values, gci_result = _quantity(study, answers, h)
    expected = study.expected | {"interior": p_in, "boundary_region": p_bd}
    return SolverResult(
        status=status,
        reason=_reason(status, judged, diagnostics),
        solver=study.name,
        refine=study.refine,
        variables=tuple(n for n, _, _ in study.space),
        time_variable=None if study.time is None else study.time[0],
        sizes=None if study.sizes is None else tuple(n or 0 for n, _ in levels),
        time_steps=None if study.time_steps is None else tuple(m or 0 for _, m in levels),
        h=h,
        dt=None if study.time is None else tuple(p.dt or 0.0 for p in problems),
        time_exponent=study.exponent,
        expected_order=expected,
        regions=judged,
        diagnostics=tuple(diagnostics),
        quantity=_quantity_name(study.quantity),
        quantity_values=values,
        gci=gci_result,
    )


def _h(study: _Study, problem: SolverProblem) -> float:
    """The refinement parameter: dt when only time is refined, else the largest spacing."""
    if study.refine == "time":
        return problem.dt or 0.0
    return max(problem.spacing)


def _region_orders(study: _Study) -> tuple[float, float]:
    """The orders the interior and the boundary are judged against, in powers of ``h``."""
    p = study.expected
    if study.refine == "time":
        return p["time"], p["time"]
    if study.refine == "space":
        return p["space"], p["boundary"]
    k = study.exponent or 1.0
    return min(p["space"], k * p["time"]), min(p["boundary"], k * p["time"])


def _floor(study: _Study, problem: SolverProblem, size: float) -> float:
    """``64 ε max|u| (1 + time_steps + (L/h)^m)``: rounding per time step, amplified by the operator."""
    amplify = max(((c.size - 1) ** study.spatial_order for c in problem.coordinates), default=0)
    return _FLOOR_ULPS * EPS * size * (1 + (problem.time_steps or 0) + amplify)


def _no_evidence(k: int, region: str, order: float) -> None:
    """Solver regions never reach the field-based exactness rule (``_judge`` decides first)."""


def _parts(shape: tuple[int, ...], width: int) -> dict[str, list[tuple[slice, ...]] | None]:
    """Interior and boundary shell of a grid (``regions`` of axis 0, faces merged); ODE: one."""
    if not shape:
        return {"solution": None}
    inner, own, transverse = regions(shape, width, 0)
    return {"interior": [inner], "boundary": own + transverse}


def _norms(error: FloatArray, part: list[tuple[slice, ...]] | None) -> Norms:
    if part is None:
        e = float(error)
        return e, e, e
    return norms(error, part)


def _judge(
    name: str,
    per_level: list[Norms],
    sizes: _Scales,
    judging: Judging,
    expected: float,
    diagnostics: list[dict[str, Any]],
    fixed: str,
) -> GridRegion:
    """One region's verdict (module docstring) and its orders in every norm.

    ``fixed`` names a discretization the levels hold fixed ("" when none), see ``_decided``.
    """
    linf = [r[2] for r in per_level]
    floors = sizes.floors
    status, reason, span = _verdict(name, linf, sizes, judging, expected)
    faster = span is not None and bool(span.orders) and span.orders[-1] > expected
    if status is Status.INCONCLUSIVE and faster:
        diagnostics.append(
            {
                "kind": "order_above_expected",
                "region": name,
                "message": f"the {name} converges faster than order {expected:g}: the leading "
                "error term may vanish for this solution; use a more generic one",
            }
        )
    elif status is not Status.PASS and (
        falling := _falling(
            *_resolved_tail(linf, floors, judging),
            expected,
            settled=status is Status.FAIL,
        )
    ):
        diagnostics.append(falling | {"region": name})
        status, reason = _decided(f"{name}: {falling['message']}", fixed)
    errors = {norm: tuple(r[i] for r in per_level) for i, norm in enumerate(NORMS)}
    if judging.stop == _BY_TIME_STEPS:
        reason = reason.replace("N = ", "time_steps = ")
    return assemble_region(
        errors, floors, judging, span, expected, False, status, reason, noise_has_no_order=True
    )


def _resolved_tail(
    linf: list[float], floors: tuple[float, ...], judging: Judging
) -> tuple[list[float], tuple[float, ...], tuple[float, ...]]:
    """The errors, floors and h of the levels that resolve u (module docstring)."""
    coarse = unresolved_levels(judging.resolution)
    return linf[coarse:], floors[coarse:], judging.h[coarse:]


def _resolution(study: _Study, answer: _Answer) -> tuple[float, str]:
    """R of a level and the quantity it is R of (:mod:`symgrad.grids._resolution`): in space,
    u on its grid at the final time and the spatial error terms at the first and the last
    time; in time, ``max dt |∂u/∂t| / range u`` and the time error term's R on a probe of at
    most ``_PROBE`` points per axis at every time level."""
    problem = answer.problem
    grid = _open(problem.coordinates)
    at_end = [problem.time[1]] if problem.time else []
    space = resolution(
        answer.exact,
        [np.broadcast_to(g, problem.shape) for g in problem.gradient(*grid, *at_end)],
        cell_widths(problem.coordinates),
    )
    found = [(space, "the solution")]
    params = list(problem.parameters.values())
    if study.watched is not None:
        for t in problem.time or [None]:
            extra = params if t is None else [t, *params]
            found.append(study.watched.on_grid(problem.coordinates, extra))
    if study.rate is not None and problem.time is not None and problem.dt is not None:
        found += _time_resolution(study, problem, problem.dt)
    return worst(found)


def _time_resolution(study: _Study, problem: SolverProblem, dt: float) -> list[tuple[float, str]]:
    """R in time of u (``max dt |∂u/∂t| / range u``) and of the time error term (its size),
    on a probe of at most ``_PROBE`` points per axis at every time level."""
    assert study.rate is not None  # unsteady only
    assert problem.time is not None
    picked = [
        c[np.unique(np.linspace(0, c.size - 1, _PROBE).astype(int))] for c in problem.coordinates
    ]
    times = np.linspace(problem.time[0], problem.time[1], (problem.time_steps or 1) + 1)
    shape = (*(c.size for c in picked), times.size)
    probe: list[npt.ArrayLike] = [*_open([*picked, times]), *problem.parameters.values()]
    u = np.broadcast_to(np.asarray(study.fields(*probe)[0], dtype=np.float64), shape)
    rate = np.broadcast_to(np.asarray(study.rate(*probe), dtype=np.float64), shape)
    found = [(resolution(u, [rate], [dt]), "the solution in time")]
    if study.time_term is not None:
        with np.errstate(all="ignore"):
            g, slope = np.asarray(study.time_term(*probe), dtype=np.float64)
        step = float(np.max(np.abs(slope))) * dt
        r = ratio(float(np.min(g)), float(np.max(g)), [step], sized=True)
        found.append((r, f"the leading error term in time {study.time_term.kind}"))
    return found


def _verdict(
    name: str,
    linf: list[float],
    sizes: _Scales,
    judging: Judging,
    expected: float,
) -> tuple[Status, str, Any]:
    """Non-finite answers and errors at the floor first, then the grid rules."""
    floors, scales, inner = sizes
    labels = judging.sizes
    bad = [n for n, e in zip(labels, linf, strict=True) if not math.isfinite(e)]
    if bad:
        msg = f"the solver returned NaN or inf at level(s) {bad} (unstable, or a division by 0)"
        return Status.FAIL, f"{name}: {msg}", None
    if all(e <= _DATA_ULPS * EPS * u for e, u in zip(linf, scales, strict=True)):
        msg = (
            f"the solver's values equal the manufactured solution to within {_DATA_ULPS:g} "
            "units in the last place on every level (as where boundary data are imposed)"
        )
        return Status.EXACT, f"{name}: {msg}", None
    if inner is not None and all(
        e <= f <= _BELOW_INTERIOR * r for e, f, r in zip(linf, floors, inner, strict=True)
    ):
        msg = (
            f"the errors are at the float64 rounding floor on every level (max {max(linf):.2e}), "
            f"at most {_BELOW_INTERIOR:g} times the interior's: the boundary does not limit "
            "the convergence"
        )
        return Status.PASS, f"{name}: {msg}", None
    if all(e <= f for e, f in zip(linf, floors, strict=True)):
        msg = (
            f"the errors are at the float64 rounding floor on every level (max {max(linf):.2e}, "
            f"floor {floors[-1]:.2e} on the finest): no order can be measured; use a solution "
            "the solver does not reproduce exactly, or coarser levels"
        )
        return Status.INCONCLUSIVE, f"{name}: {msg}", None
    return region_verdict(name, linf, floors, judging, expected, degenerate=True)


def _falling(
    linf: list[float],
    floors: tuple[float, ...],
    h: tuple[float, ...],
    expected: float,
    *,
    settled: bool,
) -> dict[str, Any] | None:
    """Diverging, levelling off, or (orders not ``settled``) falling orders: decisive.

    Each looks at the last three orders on resolved levels: all at most ``-tol`` (the error
    grows), or all below ``expected - tol`` and levelling off or strictly falling.
    """
    tail = list(zip(linf[-4:], floors[-4:], strict=True))
    if len(tail) < 4 or not all(math.isfinite(e) and e > f for e, f in tail):
        return None
    orders = pairwise_orders(linf, h)[-3:]
    shown = ", ".join(f"{p:.2f}" for p in orders)
    if all(p <= -TOLERANCES["order"] for p in orders):
        return {
            "kind": "diverging",
            "orders": orders,
            "message": f"the error grows as the levels are refined (orders {shown}): the solver "
            "does not converge (an inconsistent discretization, or an unstable one)",
        }
    if not all(p < expected - TOLERANCES["order"] for p in orders):
        return None
    limit = _limit(linf[-3:], h[-3:])
    if abs(orders[-1]) <= TOLERANCES["order"] or limit >= _LEVEL_OFF * linf[-1]:
        limit = limit if math.isfinite(limit) else linf[-1]
        return {
            "kind": "levelling_off",
            "limit": limit,
            "orders": orders,
            "message": f"the error levels off at about {limit:.3e} instead of vanishing "
            f"(orders {shown}): the solver converges to a different solution; check the "
            "coefficients, the source term and the boundary and initial data",
        }
    if settled or not orders[0] > orders[1] > orders[2]:
        return None
    return {
        "kind": "falling_orders",
        "orders": orders,
        "message": f"the observed orders fall away from {expected:g} ({shown}): an error term of "
        "lower order takes over as the levels are refined (a time-step or boundary bug?)",
    }


def _fixed(study: _Study) -> str:
    """The discretization an unsteady PDE study holds fixed: "time step", "grid" or ""."""
    if study.time is None or not study.space or study.refine == "space-time":
        return ""
    return "time step" if study.refine == "space" else "grid"


def _decided(message: str, fixed: str) -> tuple[Status, str]:
    """A limit, falling or growing errors: fail, unless a fixed discretization may explain it.

    With the time step (or the grid) held fixed, its own error stays put as the other is
    refined, so a levelling, falling or even growing error (``|S - C h^p|`` rising to ``|S|``)
    proves nothing against the solver: ``inconclusive``, saying so.
    """
    if not fixed:
        return Status.FAIL, message
    return Status.INCONCLUSIVE, (
        f"{message}; or the fixed {fixed} leaves an error of this size: refine space and time "
        f"together, or use a solution the fixed {fixed} is exact for"
    )


def _extrapolated_limit(
    answers: Sequence[_Answer], h: tuple[float, ...], p: float, floors: tuple[float, ...]
) -> dict[str, Any] | None:
    """A nonzero limit of the signed error, seen by Richardson extrapolation: decisive.

    With ``e_k = u_k - u`` on the points two consecutive levels share, a solver converging at
    order p to u has ``X_k = max|(r^p e_fine - e_coarse)/(r^p - 1)| → 0`` (the ``h^p`` term
    cancels; what is left falls at a higher order).  A solver converging to another solution
    (``e → A``) leaves ``X_k → max|A|``.  Decided (``extrapolated_limit``) when the last
    three ``X_k`` stand at least ``_RESOLVED`` times above the rounding floor and fall at
    orders within ``_STILL`` of 0 (about constant) and their fields agree between the pairs
    of levels (``_disagreement``: a limit is one smooth field; otherwise ``extrapolated_noise``).
    Resolved ``X_k`` that rise, the last at an order of ``-_STILL`` or less or with fields that
    disagree (``extrapolated_rising``), are not in the asymptotic range: an error that does not
    fall with h (an iterative solve's algebraic error) dominates them, and nothing is decided;
    a rise that stops with agreeing fields (a limit approached from below) is unsettled.  A vanishing error's ``X_k`` falls steadily at
    the order of its next term, p + 1 or more; when the three are resolved and their two
    orders differ by more than ``_NEXT_TERM`` (``extrapolated_unsettled``), or the last two
    fall at an order below ``p + _NEXT_TERM`` (``extrapolated_slow``), a pass is not
    justified.  None otherwise.  Levels that do not nest compare at the coarse points by linear
    interpolation of the fine error (``_on_coarse``).
    """
    if not all(np.all(np.isfinite(a.u)) for a in answers):
        return None  # the regions fail on the non-finite levels already
    xs, fields = [], []
    for k in range(max(1, len(answers) - 3), len(answers)):
        coarse, fine = answers[k - 1], answers[k]
        at_coarse = _on_coarse(fine.u - fine.exact, fine.problem, coarse.problem)
        r = (h[k - 1] / h[k]) ** p
        x = (r * at_coarse - (coarse.u - coarse.exact)) / (r - 1)
        xs.append(float(np.max(np.abs(x))) if x.size else 0.0)
        fields.append(x)
    resolved = [x > _RESOLVED * floors[-1] for x in xs]
    orders = pairwise_orders(xs, h[-len(xs) :])
    shown = ", ".join(f"{x:.3e}" for x in xs)
    hint = "a small nonzero limit (a slightly wrong coefficient or source)"
    if (
        len(orders) == 2
        and all(resolved)
        and min(orders) <= -_STILL
        and (orders[-1] <= -_STILL or _disagreement(answers[-3:], fields[-2:]) > _STILL)
    ):
        kind, text = (
            "extrapolated_rising",
            (
                f"rises as the levels are refined (orders {orders[0]:.2f}, {orders[1]:.2f}: "
                f"{shown}), so the signed errors are not in the asymptotic range: an error that "
                "does not fall with h dominates them, such as the algebraic error of an "
                "iterative solve stopped at a fixed tolerance, or rounding; a limit other than "
                "u can be neither seen nor ruled out: solve every level more tightly (well "
                "below the finest level's discretization error)"
            ),
        )
    elif len(xs) == 3 and all(resolved) and all(abs(o) < _STILL for o in orders):
        if (change := _disagreement(answers[-3:], fields[-2:])) > _STILL:
            return {
                "kind": "extrapolated_noise",
                "limit": xs[-1],
                "extrapolated_errors": xs,
                "message": (
                    f"the error extrapolated to h = 0 (Richardson, order {p:g}) stays at about "
                    f"{xs[-1]:.3e} ({shown}), but its values on the last two pairs of levels "
                    f"differ by {change:.0%} of their size at the points they share: not a "
                    "limit the solver converges to but noise on the levels, such as the "
                    "algebraic error of an iterative solve stopped at a fixed tolerance; a "
                    "different solution can be neither seen nor ruled out: solve every level "
                    "more tightly"
                ),
            }
        kind, text = (
            "extrapolated_limit",
            (
                f"stays at about {xs[-1]:.3e} ({shown} over the last levels) instead of vanishing: "
                "the solver converges to a different solution; check the coefficients, the source "
                "term and the boundary and initial data"
            ),
        )
    elif len(orders) == 2 and all(resolved) and abs(orders[1] - orders[0]) > _NEXT_TERM:
        kind, text = (
            "extrapolated_unsettled",
            (
                f"falls at orders {orders[0]:.2f}, then {orders[1]:.2f} ({shown}): not yet settled, "
                f"so {hint} cannot be ruled out; add finer levels"
            ),
        )
    elif orders and all(resolved[-2:]) and orders[-1] < p + _NEXT_TERM:
        kind, text = (
            "extrapolated_slow",
            (
                f"falls only at order {orders[-1]:.2f} ({shown}), too slowly for an error that "
                f"vanishes: {hint} may remain; add finer levels"
            ),
        )
    else:
        return None
    return {
        "kind": kind,
        "limit": xs[-1],
        "extrapolated_errors": xs,
        "message": f"the error extrapolated to h = 0 (Richardson, order {p:g}) {text}",
    }


def _disagreement(answers: Sequence[_Answer], fields: Sequence[FloatArray]) -> float:
    """``max|X_new - X_old| / max|X_new|`` over the points the two extrapolated fields share.

    A limit ``A(x)`` the solver converges to is one smooth field, the same from every pair of
    levels (to the next error term); noise on the levels gives fields that do not agree.
    ``fields`` are the Richardson values on the grids of ``answers[0]`` and ``answers[1]``.
    """
    old, new = fields
    size = float(np.max(np.abs(new)))
    change = _on_coarse(new, answers[1].problem, answers[0].problem) - old
    return float(np.max(np.abs(change))) / size if size > 0 else 0.0


def _on_coarse(values: FloatArray, fine: SolverProblem, coarse: SolverProblem) -> FloatArray:
    """A fine level's values at the coarse level's points: the shared points themselves when
    the levels nest, else linear interpolation along each axis in turn.

    Interpolating an error ``e = C h^p g(x)`` adds ``h_f² |e''|/8``, of order ``h^(p+2)``:
    below the ``h^(p+1)`` that the Richardson combination leaves of a vanishing error.
    """
    shared = _shared(coarse.shape, fine.shape)
    if shared is not None:
        return values[shared]
    out = values
    for axis, (f, c) in enumerate(zip(fine.coordinates, coarse.coordinates, strict=True)):
        i = np.clip(np.searchsorted(f, c, side="right") - 1, 0, f.size - 2)
        w = ((c - f[i]) / (f[i + 1] - f[i])).reshape(
            [-1 if k == axis else 1 for k in range(out.ndim)]
        )
        out = np.take(out, i, axis=axis) * (1 - w) + np.take(out, i + 1, axis=axis) * w
    return out


def _shared(coarse: tuple[int, ...], fine: tuple[int, ...]) -> tuple[slice, ...] | None:
    """The slices of the fine grid that pick the coarse grid's points (None: not nested)."""
    steps = []
    for nc, nf in zip(coarse, fine, strict=True):
        if (nf - 1) % (nc - 1):
            return None
        steps.append(slice(None, None, (nf - 1) // (nc - 1)))
    return tuple(steps)


def _limit(errors: Sequence[float], h: Sequence[float]) -> float:
    """The limit A of ``E = A + B h^q`` through three levels refined by one ratio (Aitken's Δ²).

    NaN when the two ratios differ or the differences do not shrink (no such fit).
    """
    e1, e2, e3 = errors
    if not math.isclose(h[0] / h[1], h[1] / h[2], rel_tol=1e-2):
        return math.nan
    den = e1 + e3 - 2 * e2
    if not den > 0 or not (e1 - e2) > (e2 - e3) > 0:
        return math.nan
    return (e1 * e3 - e2 * e2) / den


def _time_order(
    study: _Study, coarsest: _Answer, floor: float, runs: Sequence[_Answer]
) -> dict[str, Any]:
    """The time order alone: self-convergence with M, 2M, 4M (and 8M) time steps on the
    coarsest grid (``runs``: the answers of :func:`_time_runs`).

    The differences ``d_j = max|u_(2^j M) - u_(2^(j+1) M)|`` cancel the spatial error (every
    run has the same grid) and fall as ``dt^q``: orders ``log2(d_j/d_(j+1))``.  ``floor`` is
    the coarsest level's (M time steps); a run with ``f M`` steps has f times it.  ``order`` is
    the last measured order, ``orders`` all of them.
    """
    problem = coarsest.problem
    m, n = problem.time_steps or 1, problem.shape[0] if problem.shape else None
    u = [coarsest.u, *(a.u for a in runs)]
    d = [float(np.max(np.abs(a - b))) for a, b in itertools.pairwise(u)]
    steps = [m * 2**j for j in range(len(u))]
    orders = [
        math.log2(a / b) if math.isfinite(a) and b > 2 * f * floor and a > 0 else math.nan
        for a, b, f in zip(d, d[1:], steps[2:], strict=False)
    ]
    q = next((o for o in reversed(orders) if math.isfinite(o)), math.nan)
    expected = study.expected["time"]
    entry = {"kind": "time_order", "order": q, "orders": orders, "expected": expected}
    entry |= {"size": n, "time_steps": steps}
    shown = ", ".join(str(k) for k in steps)
    if not math.isfinite(q):
        entry["message"] = (
            f"the time error alone is at the rounding floor on the N = {n} grid "
            f"({shown} time steps): its order cannot be measured there"
        )
        return entry
    low = ""
    if q < expected - TOLERANCES["order"]:
        low = " (below the expected order: look at the time stepping)"
    elif q > 2 * expected + 2:
        low = " (far above the expected order: the coarsest run may be unstable or not yet asymptotic)"
    measured = ", then ".join(f"{o:.2f}" for o in orders if math.isfinite(o))
    entry["message"] = (
        f"the time stepping alone converges at order {measured} (self-convergence on the "
        f"N = {n} grid with {shown} time steps; expected {expected:g}){low}"
    )
    return entry


def _claims(
    study: _Study, time_order: Mapping[str, Any] | None
) -> tuple[Status, dict[str, Any]] | None:
    """A claimed order the orders in h cannot measure (``_hidden``): its verdict and why.

    Time hidden (``k q > p``): the time self-convergence decides.  Its last two orders both
    below ``q - tol`` and within ``tol`` of each other contradict the claim (``fail``); a last
    order at least ``q - tol`` confirms it (None); anything else (orders still moving, or the
    time error at the rounding floor) is ``inconclusive``.  Space hidden (``p > k q``): nothing
    here measures the spatial order alone, so ``inconclusive``.
    """
    hidden = _hidden(study.expected, study.exponent)
    if not hidden:
        return None
    p, q, k = study.expected["space"], study.expected["time"], study.exponent or 1.0
    seen = f"with dt ∝ h^{k:g} the error C_x h^p + C_t dt^q falls as h^min(p, {k:g}·q)"
    tol = TOLERANCES["order"]
    if hidden == "space":
        text = (
            f"the claimed space order {p:g} is not measured: {seen} = h^{k * q:g}, so any "
            f"spatial order from {k * q:g} up looks the same; refine space alone (a time "
            f"scheme exact for u, or a fixed small dt), or tie dt to h with k = {p / q:g}"
        )
        return Status.INCONCLUSIVE, {"kind": "space_order_hidden", "message": text}
    assert time_order is not None  # space-time studies measure it
    orders = [o for o in time_order["orders"] if math.isfinite(o)]
    head = f"the claimed time order {q:g} is not seen by the orders in h ({seen} = h^{p:g})"
    if orders and orders[-1] >= q - tol:
        return None
    shown = ", then ".join(f"{o:.2f}" for o in orders)
    if len(orders) >= 2 and max(orders[-2:]) < q - tol and abs(orders[-1] - orders[-2]) <= tol:
        status, text = (
            Status.FAIL,
            (
                f"{head}, and the time self-convergence contradicts it (orders {shown}, "
                f"settled below {q - tol:g}): the claimed time order is false"
            ),
        )
    elif orders:
        status, text = (
            Status.INCONCLUSIVE,
            (
                f"{head}, and the time stepping alone converges at order {shown} "
                "(self-convergence on the coarsest grid), not yet settled: the claim can be "
                "neither confirmed nor refuted; use more time steps on the coarsest level"
            ),
        )
    else:
        status, text = (
            Status.INCONCLUSIVE,
            (
                f"{head}, and the time error alone is at the rounding floor on the coarsest grid: "
                "the claimed time order cannot be measured; use a solution the time stepping "
                "does not reproduce exactly"
            ),
        )
    return status, {"kind": "time_order_hidden", "message": text}


def _largest(
    problem: SolverProblem, error: FloatArray, parts: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Where the largest error of the finest level is, and in which region (PDEs only)."""
    if not problem.shape or not np.all(np.isfinite(error)):
        return []
    index = np.unravel_index(int(np.argmax(error)), error.shape)
    inner = parts["interior"][0]
    inside = all(s.start <= i < s.stop for s, i in zip(inner, index, strict=True))
    where = ", ".join(f"{c[i]:.4g}" for c, i in zip(problem.coordinates, index, strict=True))
    region = "interior" if inside else "boundary"
    return [
        {
            "kind": "largest_error",
            "region": region,
            "at": [float(c[i]) for c, i in zip(problem.coordinates, index, strict=True)],
            "error": float(error[index]),
            "message": f"the largest error on the finest level, {float(error[index]):.3e}, is "
            f"at ({where}), in the {region}",
        }
    ]


def _quantity(
    study: _Study, answers: Sequence[_Answer], h: tuple[float, ...]
) -> tuple[tuple[float, ...], GCIResult | None]:
    """The output quantity per level, and its GCI when three or more finite values exist."""
    values = []
    for problem, u, _ in answers:
        raw: object = _average(problem, u) if study.quantity is None else study.quantity(problem, u)
        if isinstance(raw, bool) or not isinstance(raw, numbers.Real):
            msg = f"quantity: must return a real number (got {type(raw).__name__})"
            raise InputError(msg)
        values.append(float(raw))
    if len(values) < 3 or not all(math.isfinite(v) for v in values):
        return tuple(values), None
    try:
        return tuple(values), gci(values, spacing=h)
    except SymgradError:
        return tuple(values), None


def _average(problem: SolverProblem, u: FloatArray) -> float:
    """The domain average of u by the trapezoidal rule along every axis (order 2); an ODE's u."""
    value = u
    for axis in reversed(range(u.ndim)):
        c = problem.coordinates[axis]
        value = np.trapezoid(value, c, axis=axis) / (c[-1] - c[0])
    return float(value)


def _quantity_name(quantity: Quantity | None) -> str:
    if quantity is None:
        return "domain average of the solution (trapezoidal rule)"
    return str(getattr(quantity, "__qualname__", None) or "quantity")


def _summary(name: str, region: GridRegion) -> str:
    if region.status is Status.EXACT:
        return f"{name} exact to rounding"
    if math.isnan(region.observed_order):
        return f"{name} at the rounding floor"
    return f"{name} {region.observed_order:.2f} (expected {region.expected_order:g})"


def _reason(
    status: Status, judged: Mapping[str, GridRegion], diagnostics: Sequence[dict[str, Any]]
) -> str:
    """One sentence: the summary, or the first region with the verdict plus the culprits."""
    if status is Status.EXACT:
        return "the solver reproduces the manufactured solution exactly on every level"
    if status is Status.PASS:
        shown = ", ".join(_summary(n, r) for n, r in judged.items())
        return f"the solution error converges at the expected order: {shown}"
    reasons = [
        d["message"]
        for d in diagnostics
        if d["kind"].startswith("extrapolated_") or d["kind"].endswith("_hidden")
    ]
    reasons += [r.reason for r in judged.values() if r.status is status]
    reason = "; ".join(reasons)
    if status is Status.FAIL:
        named = [d["message"] for d in diagnostics if d["kind"] in ("time_order", "largest_error")]
        reason += "".join(f"; {m}" for m in named)
    return reason
