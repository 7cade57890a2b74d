"""Verifying any derivative operator on grids: partials, Laplacian, divergence, curl, ``D(u, ...)``.

:func:`verify_operator` is :func:`symgrad.verify_grid` for any operator (the gradient too, on
staggered grids).
It samples a field (a scalar, or a vector of d components for the divergence and the curl) on
a sequence of grids, applies the user's scheme, and compares the output with the exact result
of the operator, differentiated symbolically by the priced constructors of
:mod:`symgrad.derive` (the ``D(u, x, 2) + ...`` notation is read by the manufactured-source
reader :func:`symgrad.expr.derivative_notation`, whose text is never evaluated).  Every symbolic
derivative (the exact result, its axis-swapped forms, the closure and exactness terms) is
priced against ``limits.max_work`` before SymPy takes it.

**Regions.**  A scheme for an operator that differentiates along axis k is cut off at the
faces normal to axis k, where it must use a one-sided *closure*.  So per output the grid is
split into three disjoint parts: the *interior* (``boundary_width`` layers away from every
non-periodic face), the *boundary* (the faces normal to the axes the operator differentiates
along: all faces for a Laplacian, the x faces for ``"x,x"``) and the *transverse* faces
(normal to the other axes, where the scheme still differences centrally).  A periodic axis
has no faces: its grid is ``lo + i L/N`` for i < N (the end point is the first point again)
and its layers belong to the interior.  With every differentiated axis periodic there is no
boundary region (``boundary`` is None).

**Staggered grids.**  The scheme says where the field's values and its outputs live
(``field_at=`` and ``output=``): at the *nodes* (the grid points, ``(N,) * d``), at the cell
*centres* (``(N - 1,) * d``), or on the cell *faces* of a MAC grid, where a quantity attached
to axis k lives on the faces normal to axis k: nodes along k, centres along the others
(``(N, N - 1)`` for k = x in 2-D).  A vector field on faces has component k on the k-faces
(velocities); an output on faces is one that differentiates along one axis (``"gradient"``:
output k on the k-faces; a partial along one axis).  So the MAC divergence takes face
velocities to centres (``field_at="faces", output="cells"``) and the pressure gradient takes
centre values to faces (``field_at="cells", output="faces"``).  The field and the exact result
are sampled where they live; the regions are cut from each output's own shape.

**Judging** is verify_grid's, region by region (:mod:`symgrad.grids._diagnostics`): L∞
orders over the asymptotic range, refined while they drift, pass within 0.2 of the expected
order.  Two things depend on the operator's order m (its highest derivative):

* the rounding floor: a difference quotient of order m of values of size |f| carries about
  ``ε |f| / h^m``, so the floor is ``64 ε (max|f| / h_min^m + max|L f|)``;
* the exactness evidence: a scheme of order q that is not exact for f errs by about
  ``h^q · max|∂^α f|`` over the derivatives of total order ``m + q`` (all of them, mixed ones
  included, over the derivative orders the operator has), so errors at the floor prove
  ``exact`` only where that size stands a hundredfold above the floor, as for the gradient.

**Resolution, output by output.**  Each output is judged on the levels that resolve what its
errors are made of (its R of :mod:`symgrad.grids._diagnostics` at most 2): the field, every
component along every axis (the scheme under test receives all of it, and one that reads a
neighbour it should not, u_y + 0.5·D_x u, would hide that term where the field is aliased
along x: sin(1024·pi·x) is 0 at every node), its exact result, and its leading error terms (:mod:`symgrad.grids._resolution`): ``∂_k^(n+p) f_c`` for
each of its terms ``∂^β f_c`` of order n and each axis k of β, and ``∂_j^p ∂^β f_c`` for each
axis j it interpolates along, p the expected orders.  So the divergence and the Laplacian,
sums over the axes, depend on every axis; gradient component k on ``u_k`` and
``∂_k^(1+p) f``; a curl component on its own pair of terms (and an output that interpolates
along an axis on that interpolation's error terms).  ``u_y`` of ``1e-3*sin(1000*x) +
exp(y/2)`` on 9 to 65 points is decided (and a defect in it fails) while ``u_x``, whose exact
result ``cos(1000*x)`` is not resolved, is ``inconclusive``.  An output's
unresolved levels are left out of its orders and its diagnostics; with none resolved its
verdict is ``inconclusive``, naming its own unresolved quantity and R.
With ``executor=`` the requested levels are measured as independent pieces
(:func:`symgrad._parallel.run_pieces`), in the serial order.  ``exact="mp"`` samples the
exact outputs in mpmath, point by point, doubling the digits until two precisions agree to
float64, for an exact result whose float64 evaluation cancels digits.

**Diagnostics**, on the interior of the finest level: a constant factor (``c = -1`` a flipped
sign; ``c ∝ h^m`` the spacing never divided out: "h² was never divided out" for a second
derivative); *swapped axes*, the output matching the operator with two axes exchanged (a
scheme for ``u_xx`` that differences along y: ``np.meshgrid``'s default ``indexing='xy'``); a
*lower-order closure*, a boundary that settles at an order below the expected one while the
interior does not fail; and a *degenerate field*, on whose faces the error term
``∂_k^q ∂^β f`` of a closure of order ``q <= p`` vanishes (``cos(πx)`` on [0, 1]), so that a
lower-order closure would look right there: its boundary cannot pass.  The factor, sign and
swap diagnostics fail their output whatever its orders say, and so does a *half-cell shift*:
a staggered output short of its order that matches the exact result half a cell away (along
some axis, either way) at most ``SHIFT_MARGIN`` times its error where it claims to live, on
each of the two finest levels, as a scheme that
computes centred differences at the cell centres and writes them onto the faces does (a
correct order-p scheme errs by ``C h^p`` where it claims and by about ``h/2 |∂(Lf)|`` half a
cell away, so for it the shifted error is the larger).

**The scheme calling convention.**  ``scheme(field, spacing)``: ``field`` is a read-only
float64 array of shape ``(N,) * d`` (``indexing='ij'``, axis k is variable k), or for a vector
field a tuple of d such arrays; ``spacing`` is a tuple of d floats, or with ``coordinates=`` a
tuple of d 1-D coordinate arrays.  It returns the operator's output on the same points: one
array (a sequence of one is accepted), or for the 3-D curl and the gradient one per output;
with ``output="cells"`` at the cell centres instead, ``N - 1`` per axis (N on a periodic
axis), with ``output="faces"`` output k on the k-faces; ``field_at`` moves the field the same
way.
Exceptions raised inside the scheme propagate unchanged.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import sympy

from symgrad._parallel import check_executor, run_pieces
from symgrad._precision import EPS
from symgrad.derive import Compiled, Limits, laplacian
from symgrad.errors import ConfigError, InputError
from symgrad.expr import MAX_ORDER, Source, VariablesSpec, derivative_notation, parse, resolve
from symgrad.grids._diagnostics import (
    TOLERANCES,
    Evidence,
    FitStats,
    GridComponent,
    GridRegion,
    GridResult,
    Index,
    Judging,
    Norms,
    _ends,
    _finite_max,
    _judge_region,
    _slab,
    cell_widths,
    decisive,
    factor_diagnostics,
    fit_stats,
    norms,
    overall_reason,
    pairwise_orders,
    resolution,
    rounding_floor,
    unresolved_levels,
    unsettled,
)
from symgrad.grids._mms import priced_partial
from symgrad.grids._resolution import Watched, error_terms, field_quantities, watch, worst
from symgrad.grids._verify import (
    DEFAULT_SIZES,
    MAX_LEVEL_BYTES,
    MAX_POINTS,
    MP_DPS,
    PROBE_POINTS,
    REFINE_POINTS,
    _absmax,
    _budget,
    _check_points,
    _coordinate_level,
    _coordinate_levels,
    _count,
    _diagnosed,
    _domain,
    _expected,
    _Level,
    _require_picklable,
    _sizes,
    _uniform,
)
from symgrad.results import Status, combine

__all__ = ["OPERATORS", "OperatorResult", "verify_operator"]

FloatArray = npt.NDArray[np.float64]
Scheme = Callable[[Any, tuple[Any, ...]], Any]
OperatorSpec = str | Sequence[str | int]
#: An operator's terms: (field component, the axes it differentiates along).
Terms = tuple[tuple[int, tuple[int, ...]], ...]

#: The named operators (besides any partial and the ``D(u, ...)`` notation).
OPERATORS = ("laplacian", "divergence", "curl", "gradient")
#: Where a scheme's field values and outputs live (module docstring: staggered grids).
LOCATIONS = ("nodes", "cells", "faces")
#: Swapped axes are named when they explain an output this many times better than the operator.
SWAP_MARGIN = 0.1
#: A staggered output is named shifted when half a cell away it errs this many times less.
SHIFT_MARGIN = 0.1
#: ``exact="mp"``: the most digits an exact output is evaluated with (module docstring).
MP_MAX_DPS = 240
#: A periodic field must repeat to this relative accuracy across its period.
PERIODIC_TOLERANCE = 1e-9


# ------------------------------------------------------------------------------- operators
@dataclass(frozen=True)
class _Operator:
    """An operator: its display name, output names, and how to apply it symbolically.

    ``terms`` lists the derivatives the operator takes, as (field component, axis indices),
    ``axes`` the axes they differentiate along;
    ``apply(fields, axes)`` builds the outputs with the derivatives along ``axes`` (the
    symbols in axis order, or permuted for the swapped-axes diagnostic);
    ``owners`` gives the output each term belongs to (empty: all to output 0).
    """

    name: str
    outputs: tuple[str, ...]
    vector: bool
    orders: tuple[int, int]
    terms: tuple[tuple[int, tuple[int, ...]], ...]
    apply: Callable[
        [tuple[sympy.Expr, ...], tuple[sympy.Symbol, ...], Limits | None], list[sympy.Expr]
    ]
    owners: tuple[int, ...] = ()

    @property
    def axes(self) -> frozenset[int]:
        """The axes the operator differentiates along (their faces are its boundary)."""
        return frozenset(k for _, axes in self.terms for k in axes)

    def terms_of(self, output: int) -> Terms:
        """The terms output ``output`` is made of (the Laplacian's: all of them)."""
        owners = self.owners or (0,) * len(self.terms)
        return tuple(t for t, i in zip(self.terms, owners, strict=True) if i == output)


def _parse_operator(spec: object, names: Sequence[str]) -> _Operator:
    """The operator from its spec: a named one, the ``D(u, ...)`` notation, or a partial."""
    if isinstance(spec, str) and spec.strip().lower() in OPERATORS:
        return _named(spec.strip().lower(), names)
    if isinstance(spec, str) and "D" in spec and "(" in spec:
        return _notation(spec, names)
    items: list[str | int] = []
    if isinstance(spec, str) and len(spec) <= 200:  # "x,x" or "x 3": names and small counts
        items = [_count_or_name(t) for t in spec.replace(",", " ").split()]
    elif isinstance(spec, Sequence) and not isinstance(spec, str):
        items = list(itertools.islice(spec, 64))
    return _partial_operator(items, names, spec)


def _count_or_name(token: str) -> str | int:
    """A count (1 to 3 ASCII digits) as an int, anything else as the name it may be."""
    return int(token) if token.isascii() and token.isdigit() and len(token) <= 3 else token


def _partial_operator(items: list[Any], names: Sequence[str], spec: object) -> _Operator:
    """``"x,x"``, ``"x,y"``, ``("x", 3)``: axes, each optionally followed by a count."""
    axes: list[int] = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool) and axes and 1 <= item <= 12:
            axes += [axes[-1]] * (item - 1)
        elif isinstance(item, str) and item in names:
            axes.append(list(names).index(item))
        else:
            axes = []
            break
    if not axes or len(axes) > 12:
        msg = (
            f"operator: give 'laplacian', 'gradient', 'divergence', 'curl', a partial such as 'x,x', 'x,y' "
            f"or ('x', 3) along the axes {list(names)} (order at most 12), or D(u, x, 2) + ... "
            f"(got {spec!r:.60})"
        )
        raise ConfigError(msg)
    label = "u_" + "".join(names[k] for k in axes)
    orders = (len(axes), len(axes))
    apply = functools.partial(_apply_partial, tuple(axes))
    return _Operator(label, (label,), False, orders, ((0, tuple(axes)),), apply)


# The operators' symbolic forms: module-level functions (bound by functools.partial), so that
# an operator pickles for a process pool.
Fields = tuple[sympy.Expr, ...]
Symbols = tuple[sympy.Symbol, ...]


def _apply_partial(
    axes: tuple[int, ...], fields: Fields, syms: Symbols, limits: Limits | None
) -> list[sympy.Expr]:
    return [priced_partial(fields[0], [syms[k] for k in axes], syms, limits)]


def _apply_laplacian(fields: Fields, syms: Symbols, limits: Limits | None) -> list[sympy.Expr]:
    return [cast(sympy.Expr, laplacian(fields[0], list(syms), limits=limits).exprs)]


def _apply_gradient(fields: Fields, syms: Symbols, limits: Limits | None) -> list[sympy.Expr]:
    return [priced_partial(fields[0], [s], syms, limits) for s in syms]


def _apply_divergence(fields: Fields, syms: Symbols, limits: Limits | None) -> list[sympy.Expr]:
    parts = (priced_partial(f, [s], syms, limits) for f, s in zip(fields, syms, strict=True))
    return [sympy.Add(*parts)]


def _apply_curl(
    pairs: tuple[tuple[tuple[int, int], tuple[int, int]], ...],
    fields: Fields,
    syms: Symbols,
    limits: Limits | None,
) -> list[sympy.Expr]:
    return [
        priced_partial(fields[a], [syms[i]], syms, limits)
        - priced_partial(fields[b], [syms[j]], syms, limits)
        for (a, i), (b, j) in pairs
    ]


def _apply_notation(
    template: sympy.Expr,
    used: tuple[tuple[sympy.Symbol, tuple[int, ...]], ...],
    fields: Fields,
    syms: Symbols,
    limits: Limits | None,
) -> list[sympy.Expr]:
    table = {
        s: priced_partial(fields[0], [syms[k] for k in axes], syms, limits) if axes else fields[0]
        for s, axes in used
    }
    return [template.xreplace(table)]


def _named(name: str, names: Sequence[str]) -> _Operator:
    """The Laplacian and gradient of a scalar, the divergence and curl of a vector of d components."""
    d = len(names)
    if name == "laplacian":
        terms: tuple[tuple[int, tuple[int, ...]], ...] = tuple((0, (k, k)) for k in range(d))
        return _Operator("laplacian", ("laplacian",), False, (2, 2), terms, _apply_laplacian)
    if name == "gradient":
        outputs = tuple(f"u_{n}" for n in names)
        terms = tuple((0, (k,)) for k in range(d))
        owners = tuple(range(d))
        return _Operator("gradient", outputs, False, (1, 1), terms, _apply_gradient, owners)
    if name == "divergence":
        terms = tuple((k, (k,)) for k in range(d))
        return _Operator("divergence", ("divergence",), True, (1, 1), terms, _apply_divergence)
    if d not in (2, 3):
        msg = f"operator: the curl needs 2 or 3 axes (got {d})"
        raise ConfigError(msg)
    # (component, axis) pairs of each output: curl_i = ∂_j f_k - ∂_k f_j
    pairs = ((((1, 0), (0, 1)),) if d == 2 else
             (((2, 1), (1, 2)), ((0, 2), (2, 0)), ((1, 0), (0, 1))))  # fmt: skip
    outputs = ("curl",) if d == 2 else ("curl_x", "curl_y", "curl_z")
    terms = tuple((c, (k,)) for pair in pairs for c, k in pair)
    owners = tuple(i for i, pair in enumerate(pairs) for _ in pair)
    apply = functools.partial(_apply_curl, pairs)
    return _Operator("curl", outputs, True, (1, 1), terms, apply, owners)


def _notation(text: str, names: Sequence[str]) -> _Operator:
    """``D(u, x, 2) + D(u, y, 2)``: the manufactured-source notation, parsed safely."""
    rewritten, table = derivative_notation(text, "u")
    symbols = {n: sympy.Symbol(n, real=True) for n in names}
    template = parse(rewritten, (*symbols.values(), *(sympy.Symbol(p, real=True) for p in table)))
    spec: dict[sympy.Symbol, tuple[int, ...]] = {}
    for placeholder, wrt in table.items():
        outside = [s.name for s in wrt if s.name not in symbols]
        if outside:
            msg = f"operator: D(u, ...) differentiates along {outside}, not among the axes {list(names)}"
            raise ConfigError(msg)
        spec[sympy.Symbol(placeholder, real=True)] = tuple(list(names).index(s.name) for s in wrt)
    used = {s: axes for s, axes in spec.items() if s in template.free_symbols}
    orders = [len(a) for a in used.values() if a]
    if not orders:
        msg = f"operator: {text!r:.60} takes no derivative of u; write D(u, x), D(u, x, 2), ..."
        raise ConfigError(msg)

    apply = functools.partial(_apply_notation, template, tuple(used.items()))
    terms = tuple((0, a) for a in used.values() if a)
    return _Operator(text.strip(), ("L(u)",), False, (min(orders), max(orders)), terms, apply)


# ------------------------------------------------------------------------------- regions
def operator_regions(
    shape: tuple[int, ...], width: int, boundary: Iterable[int], periodic: Iterable[int]
) -> tuple[Index, list[Index], list[Index]]:
    """Interior block, boundary slabs and transverse slabs for an operator (module docstring).

    The boundary is the ``width``-thick slabs normal to the ``boundary`` axes, the transverse
    slabs those normal to the other non-periodic axes; periodic axes have no faces.  Each slab
    is cut to the interior of the axes already counted, so the parts are disjoint and cover the
    grid.

    Examples
    --------
    >>> inner, own, other = operator_regions((5, 4), 1, boundary=[0], periodic=[])
    >>> inner, len(own), len(other)
    ((slice(1, 4, None), slice(1, 3, None)), 2, 2)
    >>> operator_regions((5, 4), 1, boundary=[0], periodic=[0])[1:]
    ([], [(slice(None, None, None), slice(0, 1, None)), (slice(None, None, None), slice(3, 4, None))])
    """
    cyclic = set(periodic)
    inner = tuple(
        slice(None) if k in cyclic else slice(width, n - width) for k, n in enumerate(shape)
    )
    own_axes = [k for k in sorted(set(boundary)) if k not in cyclic]
    other_axes = [k for k in range(len(shape)) if k not in cyclic and k not in own_axes]
    counted: set[int] = set()
    parts: list[list[Index]] = [[], []]
    for slot, axes in enumerate((own_axes, other_axes)):
        for k in axes:
            parts[slot] += [
                _slab(shape, k, part, set(counted), inner) for part in _ends(shape[k], width)
            ]
            counted.add(k)
    return inner, parts[0], parts[1]


# ------------------------------------------------------------------------------- setup
@dataclass(frozen=True)
class _Setup:
    """Everything :func:`verify_operator` needs, validated once."""

    fields: tuple[sympy.Expr, ...]
    symbols: tuple[sympy.Symbol, ...]
    operator: _Operator
    exact: tuple[sympy.Expr, ...]
    swaps: tuple[tuple[tuple[int, int], tuple[sympy.Expr, ...]], ...]
    field_model: Compiled  # the field's components, then their first derivatives
    exact_model: Compiled  # the exact outputs, then the axis-swapped ones
    levels: tuple[_Level, ...]
    periodic: frozenset[int]
    scheme: Scheme
    scheme_name: str
    expected: tuple[float, float]
    width: int
    grow: Callable[[int], _Level] | None
    budget: int
    field_at: str
    output: str
    faces: tuple[int | None, ...]  # per output, the axis its faces are normal to
    exact_kind: str
    limits: Limits | None
    watched: Watched | None = None  # the exact outputs and the error terms (_watched)
    owned: tuple[_Owned, ...] = ()  # per output, what its errors depend on (_watched)


@dataclass(frozen=True)
class _Owned:
    """What one output's errors depend on besides the field: ``names``, the watched quantities
    that are its own (its exact result, its terms' error terms and interpolation terms)."""

    names: frozenset[str]


@dataclass(frozen=True)
class _Measured:
    """Per output: norms of (interior, boundary, transverse), floor, fits, swapped residuals;
    per (axis, ±1) the interior L∞ errors against the exact result half a cell away
    (staggered outputs only); per output the level's R over that output's own quantities and
    the quantity it is R of (:func:`_own_resolution`)."""

    regions: tuple[list[Norms | None], ...]
    floors: list[float]
    fits: FitStats
    swapped: dict[tuple[int, int], list[tuple[float, float]]]
    shifted: dict[tuple[int, int], list[float]]
    outputs: tuple[tuple[float, str], ...]


@dataclass(frozen=True)
class OperatorResult(GridResult):
    """Outcome of :func:`symgrad.verify_operator`: per output, errors, orders and verdicts.

    The fields of :class:`symgrad.GridResult` (``components`` holds one entry per output of
    the operator, named in ``variable``: ``u_xx``, ``laplacian``, ``curl_z``, ...; a
    component's ``boundary`` is None when every axis the operator differentiates along is
    periodic), and:

    ``operator`` the operator as given (``"laplacian"``, ``"u_xy"``, ``"D(u, x, 2) + ..."``),
    ``exact_result`` the exact outputs as SymPy text, ``periodic`` the periodic axes.
    """

    operator: str
    exact_result: tuple[str, ...]
    periodic: tuple[str, ...]

    def to_text(self) -> str:
        """verify_grid's tables, headed by the operator."""
        _, *rest = super().to_text().splitlines()
        first = f"verify_operator: {self.operator} by {self.scheme} on {', '.join(self.variables)}: {self.status}"
        return "\n".join([first, *rest])


def verify_operator(
    scheme: Scheme,
    expr: Source | Sequence[Source],
    domain: str | Mapping[Any, Any],
    operator: OperatorSpec = "laplacian",
    sizes: Sequence[int] = DEFAULT_SIZES,
    *,
    expect_order: float | Sequence[float] = 2,
    variables: VariablesSpec = None,
    periodic: Sequence[str] | str = (),
    boundary_width: int | None = None,
    coordinates: Callable[[int], Sequence[npt.ArrayLike]] | Sequence[Any] | None = None,
    max_points: int = REFINE_POINTS,
    output: str = "nodes",
    field_at: str = "nodes",
    exact: str = "float64",
    limits: Limits | None = None,
    executor: Executor | None = None,
) -> OperatorResult:
    """Verify a grid scheme for any derivative operator against its exact result.

    Parameters
    ----------
    scheme : callable
        ``scheme(field, spacing)`` returning the operator's output on the grid (module
        docstring: a vector field arrives as a tuple of d arrays).
    expr : str or sympy.Expr, or a list of d of them
        The test field; a list of d components for ``"divergence"`` and ``"curl"``.
    domain : str or mapping
        ``"x=0:1,y=0:1"``: 1 to 3 axes, in axis order (unless ``variables`` reorders them).
    operator : str or sequence
        ``"laplacian"``, ``"gradient"`` (one output per axis), ``"divergence"``, ``"curl"``
        (2-D: a scalar; 3-D: three outputs), a
        partial such as ``"x"``, ``"x,x"``, ``"x,y"`` or ``("x", 3)``, or the manufactured-source
        notation ``"D(u, x, 2) + D(u, y, 2)"`` (never evaluated; numeric coefficients and the
        axes only).
    sizes : sequence of int
        Points per axis on each level, increasing, at least 2 levels (finer ones ``N -> 2N - 1``,
        or ``2N`` on a periodic axis, are added while orders drift, within ``max_points``).
    expect_order : float or (interior, boundary)
        Default 2 inside and at the boundary.  A boundary order 0 declares a boundary that does
        not converge.
    variables : str or sequence, optional
        Axis order, a permutation of the domain's names.
    periodic : str or sequence of str
        Periodic axes: the grid is ``lo + i (hi - lo) / N``, i < N, the scheme wraps around
        (``np.roll``), and those faces are interior.  The field must repeat over the period.
    boundary_width : int, optional
        Layers counted as boundary (default 1).
    coordinates : callable or sequence, optional
        Non-uniform grids, as for :func:`symgrad.verify_grid` (not with ``periodic``).
    max_points : int
        Refinement budget: points over all levels (default 4e6; 0 turns refinement off).
    output : {"nodes", "cells", "faces"}
        Where the scheme's outputs live: at the grid points (shape ``(N,) * d``), at the cell
        centres, the midpoints between neighbouring points (``(N - 1,) * d``; N along a
        periodic axis), or on the faces of the cells (MAC grid): output i on the faces normal
        to the axis it differentiates along (``"gradient"``, or a partial along one axis),
        nodes along that axis and centres along the others (``(N, N - 1)`` for ``u_x`` in
        2-D).  The exact result is sampled there; the boundary is the first and last layer.
    field_at : {"nodes", "cells", "faces"}
        Where the field is sampled: at the grid points, at the cell centres (pressure on a MAC
        grid), or for a vector field on the faces: component k on the faces normal to axis k
        (velocity on a MAC grid; ``"divergence"`` with ``output="cells"``).
    exact : {"float64", "mp"}
        How the exact outputs are sampled: compiled float64, or at 30 digits point by point
        (at most ``MP_MAX_POINTS`` points over all levels, as for :func:`symgrad.verify_grid`)
        where the float64 evaluation of the exact result loses digits to cancellation.
    limits : Limits, optional
        Caps on the work of every symbolic derivative (the operator applied to the field, its
        axis-swapped forms, the closure and exactness terms), ``symgrad.Limits()`` by default:
        each order is priced against ``limits.max_work`` before SymPy takes it.
    executor : concurrent.futures.Executor, optional
        Measures the requested levels as independent pieces (sampling, scheme, error norms), as
        :func:`symgrad.verify_grid` does: the result and the errors are identical to the serial
        run (``None``); levels added by the refinement are measured in the calling process.
        Unless it is a ``ThreadPoolExecutor``, the scheme must pickle (defined at module level;
        a ``dask.distributed`` executor also takes lambdas): a ConfigError says so before any
        work.

    Returns
    -------
    OperatorResult
        Per output, the interior, the boundary and the transverse faces judged as
        :func:`symgrad.verify_grid` judges them (module docstring), and the diagnostics.

    Raises
    ------
    ParseError, ConfigError, InputError, LimitExceeded
        A bad field, domain, operator, option or scheme output (InputError naming the shapes);
        levels over the point or memory caps, or a derivative whose estimated work exceeds
        ``limits.max_work`` (``limit="work"``), refused before it is taken.

    Examples
    --------
    >>> import numpy as np
    >>> def second_difference(u, h, axis):  # centred, one-sided (order 1) at the two ends
    ...     v = np.moveaxis(u, axis, 0)
    ...     out = np.empty_like(v)
    ...     out[1:-1] = v[2:] - 2 * v[1:-1] + v[:-2]
    ...     out[0], out[-1] = v[0] - 2 * v[1] + v[2], v[-1] - 2 * v[-2] + v[-3]
    ...     return np.moveaxis(out, 0, axis) / h**2
    >>> def five_point(u, h):
    ...     return second_difference(u, h[0], 0) + second_difference(u, h[1], 1)
    >>> r = verify_operator(five_point, "sin(x + 0.3)*exp(y/2)", "x=0:1,y=0:1", "laplacian")
    >>> r.status, [f"{reg.observed_order:.1f}" for reg in r.components[0].regions]
    (<Status.FAIL: 'fail'>, ['2.0', '1.0'])
    >>> [d["kind"] for d in r.diagnostics]
    ['lower_order_closure']
    """
    setup = _setup(
        scheme,
        expr,
        domain,
        operator,
        sizes,
        expect_order,
        variables,
        periodic,
        boundary_width,
        coordinates,
        (max_points, output, field_at, exact),
        limits,
    )
    _require_picklable(setup.scheme, setup.scheme_name, check_executor(executor))
    levels = list(setup.levels)
    piece = dataclasses.replace(setup, grow=None)  # what a level needs, picklable
    measured = run_pieces(executor, _measure, [(piece, level) for level in levels])
    stop = _refine(setup, levels, measured)
    return _assemble(setup, levels, measured, stop)


def _setup(
    scheme: object,
    expr: object,
    domain: object,
    operator: object,
    sizes: object,
    expect_order: object,
    variables: VariablesSpec,
    periodic: object,
    boundary_width: object,
    coordinates: object,
    budget_output: tuple[object, object, object, object],
    limits: Limits | None,
) -> _Setup:
    """Validate every argument once; messages say what to change."""
    if not callable(scheme):
        msg = f"scheme: must be a callable scheme(field, spacing) (got {scheme!r:.60})"
        raise ConfigError(msg)
    max_points, output, field_at, kind = budget_output
    expected = _expected(expect_order, None)
    for what, where in (("output", output), ("field_at", field_at)):
        if where not in LOCATIONS:
            msg = f"{what}: must be 'nodes', 'cells' or 'faces' (got {where!r:.60})"
            raise ConfigError(msg)
    if kind not in ("float64", "mp"):
        msg = f"exact: must be 'float64' or 'mp' (got {kind!r:.60})"
        raise ConfigError(msg)
    axes = _domain(domain, variables)
    names = [n for n, _, _ in axes]
    op = _parse_operator(operator, names)
    faces = _face_axes(op, str(output), str(field_at))
    top = MAX_ORDER - 1 - op.orders[1]  # the exactness evidence differentiates m + p + 1 times
    if max(expected) > top:
        msg = f"expect_order: at most {top} for an operator of order {op.orders[1]} (got {expect_order!r:.60})"
        raise ConfigError(msg)
    fields, symbols = _fields(expr, names, op)
    cyclic = _periodic(periodic, names, coordinates)
    width = 1 if boundary_width is None else _count("boundary_width", boundary_width)
    minimum = max(3, 2 * width + 1, op.orders[1] + 2)
    if coordinates is None:
        counts = _sizes(sizes, minimum)
        _check_points([n ** len(axes) for n in counts], len(axes), kind)
        levels = [_grid(axes, cyclic, n) for n in counts]
    else:
        levels = _coordinate_levels(coordinates, sizes, len(axes), minimum)
        _check_points([lvl.size ** len(axes) for lvl in levels], len(axes), kind)
    exact = tuple(op.apply(fields, symbols, limits))
    swaps = _swaps(op, fields, symbols, exact, limits)
    slopes = [priced_partial(f, [s], symbols, limits) for f in fields for s in symbols]
    field_model = Compiled([*fields, *slopes], symbols, kind="field and its gradient")
    outputs = [*exact, *(e for _, group in swaps for e in group)]
    exact_model = Compiled(outputs, symbols, kind=op.name)
    _check_periodic(field_model, len(fields), levels[0], cyclic, names)
    _check_periodic(exact_model, len(exact), levels[0], cyclic, names)
    grow: Callable[[int], _Level] | None = None
    if coordinates is None:
        grow = functools.partial(_grid, axes, cyclic)
    elif callable(coordinates):
        grow = lambda n: _coordinate_level(n, coordinates(n), len(axes))
    name = getattr(scheme, "__qualname__", None) or repr(scheme)
    places = (str(field_at), str(output), faces)
    watched, owned = _watched(op, (fields, symbols, exact), expected, places, limits)
    return _Setup(
        fields,
        symbols,
        op,
        exact,
        swaps,
        field_model,
        exact_model,
        tuple(levels),
        cyclic,
        scheme,
        name,
        expected,
        width,
        grow,
        _budget(max_points, kind),
        field_at=str(field_at),
        output=str(output),
        faces=faces,
        exact_kind=str(kind),
        limits=limits,
        watched=watched,
        owned=owned,
    )


def _watched(
    op: _Operator,
    problem: tuple[Fields, Symbols, tuple[sympy.Expr, ...]],
    expected: tuple[float, float],
    places: tuple[str, str, tuple[int | None, ...]],
    limits: Limits | None,
) -> tuple[Watched, tuple[_Owned, ...]]:
    """What a level must resolve besides the field (:mod:`symgrad.grids._resolution`), and
    what of it each output owns.

    Output i owns its exact result and, for each of its terms ``∂^β f_c`` of order n, the
    leading error terms ``∂_k^(n+p) f_c`` along each axis k of β, for the expected interior and
    boundary orders p (``sin(x) + 1e-12*cos(1e6*x)`` under ``"x,x"``: the field is resolved,
    its ``u_xx`` and ``∂^4f/∂x^4`` are not); where its stencil also interpolates the field
    along an axis j (the output lives on the nodes along j and the field at the centres, or
    the other way round), the interpolation's error terms ``∂_j^p ∂^β f_c`` too.  Its errors
    are made of these and of the field, which every output depends on (module docstring), so
    each output is judged on the levels that resolve the field and its own quantities
    (``u_y`` of ``1e-3*sin(1000*x) + exp(y/2)`` is decided while ``u_x`` is inconclusive).
    """
    fields, symbols, exact = problem
    orders = tuple(sorted({math.ceil(p) for p in expected if p > 0}))
    shared = field_quantities(fields, symbols, limits)  # every output's: the field, ∂f_c/∂x_j
    quantities: dict[str, tuple[str, sympy.Expr, bool]] = {q[0]: q for q in shared}
    owned = []
    for i, (name, result) in enumerate(zip(op.outputs, exact, strict=True)):
        own = [(f"the exact {name}", result, False)]
        for c, axes in op.terms_of(i):
            across = _interpolated(c, axes, i, len(symbols), places)
            terms = error_terms(fields, symbols, ((c, axes),), orders, limits)
            own += [(n, g, True) for n, g in terms]
            own += _interpolation_terms(fields, symbols, (c, axes, across), orders, limits)
        quantities.update((q[0], q) for q in own)
        owned.append(_Owned(frozenset(q[0] for q in (*shared, *own))))
    watched = watch(tuple(quantities.values()), symbols, len(symbols), limits)
    return watched, tuple(owned)


def _interpolated(
    c: int, axes: tuple[int, ...], i: int, d: int, places: tuple[str, str, tuple[int | None, ...]]
) -> tuple[int, ...]:
    """The axes, besides ``axes``, along which output i and field component c sit at
    different places (one on the nodes, the other at the centres): the scheme interpolates
    along them (module docstring: staggered grids)."""
    field_at, output, faces = places
    face = c if field_at == "faces" else None
    return tuple(
        j
        for j in range(d)
        if j not in axes and _on_nodes(field_at, face, j) != _on_nodes(output, faces[i], j)
    )


def _on_nodes(where: str, face: int | None, j: int) -> bool:
    """Whether a quantity at ``where`` (on faces: those normal to axis ``face``) sits on the
    nodes along axis j, rather than at the cell centres."""
    return where == "nodes" or (where == "faces" and j == face)


def _interpolation_terms(
    fields: Fields,
    symbols: Symbols,
    term: tuple[int, tuple[int, ...], tuple[int, ...]],
    orders: tuple[int, ...],
    limits: Limits | None,
) -> list[tuple[str, sympy.Expr, bool]]:
    """The leading error terms ``∂_j^p ∂^β f_c`` of an order-p interpolation along each axis j
    of ``across``, for the term ``∂^β f_c`` (``term`` is ``(c, β, across)``), named; each
    priced before SymPy takes it.  Constants are left out (R = 0)."""
    c, axes, across = term
    found = []
    for j, p in itertools.product(across, orders):
        wrt = sorted((*(j,) * p, *axes))
        g = priced_partial(fields[c], [symbols[k] for k in wrt], symbols, limits)
        if g.free_symbols:
            f = "f" if len(fields) == 1 else f"f_{c + 1}"
            below = "".join(
                f"∂{symbols[k].name}" + (f"^{n}" if n > 1 else "")
                for k, n in sorted(collections.Counter(wrt).items())
            )
            found.append((f"the leading error term ∂^{len(wrt)}{f}/{below}", g, True))
    return found


def _face_axes(op: _Operator, output: str, field_at: str) -> tuple[int | None, ...]:
    """Per output, the axis its faces are normal to (with ``output="faces"``; else None).

    An output lives on faces only if it differentiates along one axis (``"gradient"``, a
    partial such as ``"x"`` or ``"x,x"``); a field only if it is a vector (component k on the
    faces normal to axis k).
    """
    if field_at == "faces" and not op.vector:
        msg = (
            f"field_at: 'faces' puts component k of a vector field on the faces normal to axis "
            f"k; the {op.name} takes a scalar field (use 'nodes' or 'cells')"
        )
        raise ConfigError(msg)
    if output != "faces":
        return (None,) * len(op.outputs)
    per_output: list[set[int]] = [set() for _ in op.outputs]
    if op.name == "gradient":
        per_output = [{k} for k in range(len(op.outputs))]
    elif len(op.outputs) == 1:
        per_output = [set(op.axes)]
    if any(len(axes) != 1 for axes in per_output):
        msg = (
            f"output: 'faces' puts each output on the faces normal to the one axis it "
            f"differentiates along; the {op.name} has none (use 'gradient', a partial along one "
            "axis, or output='cells' / 'nodes')"
        )
        raise ConfigError(msg)
    return tuple(next(iter(axes)) for axes in per_output)


def _fields(
    expr: object, names: list[str], op: _Operator
) -> tuple[tuple[sympy.Expr, ...], tuple[sympy.Symbol, ...]]:
    """The field: one expression, or d of them for a vector operator."""
    vector = isinstance(expr, Sequence) and not isinstance(expr, str)
    if op.vector and not (vector and len(expr) == len(names)):  # type: ignore[arg-type]
        msg = f"expr: the {op.name} needs a vector field, a list of {len(names)} expressions (one per axis)"
        raise ConfigError(msg)
    if not op.vector and vector:
        msg = f"expr: {op.name} applies to a scalar field, one expression (got a list)"
        raise ConfigError(msg)
    fields, symbols = resolve(expr, names)
    return fields, symbols


def _periodic(periodic: object, names: list[str], coordinates: object) -> frozenset[int]:
    """The periodic axes' indices, from names."""
    items = [periodic] if isinstance(periodic, str) else periodic
    if not isinstance(items, Iterable) or not all(isinstance(p, str) and p in names for p in items):
        msg = f"periodic: must name axes among {names} (got {periodic!r:.60})"
        raise ConfigError(msg)
    found = frozenset(names.index(p) for p in cast(Iterable[str], items))
    if found and coordinates is not None:
        msg = "periodic: periodic axes use the uniform grid lo + i (hi - lo)/N; drop coordinates"
        raise ConfigError(msg)
    return found


def _grid(axes: Sequence[tuple[str, float, float]], periodic: frozenset[int], n: int) -> _Level:
    """A uniform level; periodic axes without their end point (``h = L / N``)."""
    if not periodic:
        return _uniform(axes, n)
    coords = tuple(
        np.linspace(lo, hi, n, endpoint=k not in periodic) for k, (_, lo, hi) in enumerate(axes)
    )
    h = tuple((hi - lo) / (n if k in periodic else n - 1) for k, (_, lo, hi) in enumerate(axes))
    return _Level(n, coords, h, h, uniform=True)


def _swaps(
    op: _Operator,
    fields: tuple[sympy.Expr, ...],
    symbols: tuple[sympy.Symbol, ...],
    exact: tuple[sympy.Expr, ...],
    limits: Limits | None,
) -> tuple[tuple[tuple[int, int], tuple[sympy.Expr, ...]], ...]:
    """The operator with two axes exchanged, for each pair where that changes the result."""
    found = []
    for i, j in itertools.combinations(range(len(symbols)), 2):
        order = list(symbols)
        order[i], order[j] = order[j], order[i]
        swapped = tuple(op.apply(fields, tuple(order), limits))
        if any(a != b for a, b in zip(swapped, exact, strict=True)):  # structural: no expand
            found.append(((i, j), swapped))
    return tuple(found)


def _check_periodic(
    model: Compiled, count: int, level: _Level, periodic: frozenset[int], names: list[str]
) -> None:
    """Refuse a field (or exact result) that does not repeat over a periodic axis."""
    for k in periodic:
        lo, hi = level.coords[k][0], level.coords[k][0] + level.spacings[k] * level.size
        probe = level.open_grid(points=PROBE_POINTS)
        probe[k] = np.array([lo, hi]).reshape([2 if j == k else 1 for j in range(len(probe))])
        values = np.asarray(model(*probe), dtype=np.float64)[:count]
        first, last = np.take(values, 0, axis=1 + k), np.take(values, 1, axis=1 + k)
        scale = max(_finite_max(values), 1.0)
        if not np.all(np.abs(first - last) <= PERIODIC_TOLERANCE * scale):
            msg = f"periodic: the field or its {names[k]}-derivatives do not repeat from {names[k]} = {lo:.6g} to {hi:.6g}; choose a periodic field or drop periodic"
            raise ConfigError(msg)


# ------------------------------------------------------------------------------- measuring
def _measure(setup: _Setup, level: _Level) -> _Measured:
    """Sample, apply the scheme and reduce the errors of one level."""
    nf, no, d = len(setup.fields), len(setup.exact), len(setup.symbols)
    centres = _cell_centres(level, setup.periodic)
    nodes = np.asarray(setup.field_model(*level.open_grid()), dtype=np.float64)
    _require_finite(setup, level.coords, level.size, list(nodes[:nf]))
    widths = cell_widths(level.coords)
    field = max(  # the field's R, over every component and axis: every output depends on it
        resolution(nodes[c], nodes[nf + c * d : nf + (c + 1) * d], widths) for c in range(nf)
    )
    found = [] if setup.watched is None else setup.watched.each_on_grid(level.coords)
    resolved = tuple(_own_resolution(own, field, found) for own in setup.owned)
    fields = []
    for c in range(nf):
        where = _located(level, centres, setup.field_at, c if setup.field_at == "faces" else None)
        values = nodes if where is level.coords else _sample(setup.field_model, where)
        _require_finite(setup, where, level.size, [values[c]])
        fields.append(values[c])
    places = [_located(level, centres, setup.output, a) for a in setup.faces]
    sampled = [_sample(setup.exact_model, where) for where in places]
    exact = [_exact_values(setup, i, places[i], sampled[i][i]) for i in range(no)]
    for where, e in zip(places, exact, strict=True):
        _require_finite(setup, where, level.size, [e])
    field_scale = max(_absmax(f) for f in fields)
    for f in fields:
        f.flags.writeable = False
    spacing = level.spacings if level.uniform else level.coords
    given = fields[0] if not setup.operator.vector else tuple(fields)
    approx = _outputs(setup.scheme(given, spacing), [e.shape for e in exact], setup)
    parts = [
        operator_regions(e.shape, setup.width, setup.operator.axes, setup.periodic) for e in exact
    ]
    inners = [p[0] for p in parts]
    swapped: dict[tuple[int, int], list[tuple[float, float]]] = {}
    start = no
    for pair, group in setup.swaps:
        stats = _fits(approx, [sampled[i][start + i] for i in range(len(group))], inners)
        swapped[pair] = [(stats.residual(i), stats.factor(i)) for i in range(len(group))]
        start += len(group)
    shifted = _shifted(setup, level, places, approx, inners)
    fits = _fits(approx, exact, inners)
    out = _Measured(([], [], []), [], fits, swapped, shifted, resolved)
    h_min = min(level.min_spacings)
    m = setup.operator.orders[1]
    for a, e, (inner, own, transverse) in zip(approx, exact, parts, strict=True):
        out.floors.append(rounding_floor(field_scale / h_min ** (m - 1), _absmax(e), h_min))
        error = np.abs(a - e)
        for row, region in zip(out.regions, ([inner], own, transverse), strict=True):
            row.append(norms(error, region) if region else None)
    return out


def _own_resolution(
    own: _Owned, field: float, found: Sequence[tuple[float, str]]
) -> tuple[float, str]:
    """One output's R on a level and the quantity it is R of: the field's R ``field``, over
    every component along every axis (the scheme under test receives all of it, and one that
    reads a neighbour it should not - u_y + 0.5·D_x u - hides that term where the field is
    aliased along x, sin(1024·pi·x) zero at every node), and its own watched quantities among
    ``found`` (every watched quantity's (R, name))."""
    return worst([(field, "the field"), *(pair for pair in found if pair[1] in own.names)])


def _located(
    level: _Level, centres: tuple[FloatArray, ...], where: str, axis: int | None
) -> tuple[FloatArray, ...]:
    """Coordinates per axis of a location: the nodes, the cell centres, or the faces normal to
    ``axis`` (nodes along it, centres along the others)."""
    if where == "nodes":
        return level.coords
    if where == "cells":
        return centres
    return tuple(c if k == axis else centres[k] for k, c in enumerate(level.coords))


def _sample(model: Compiled, coords: Sequence[FloatArray]) -> FloatArray:
    """Every output of ``model`` on the grid of ``coords``, ``(outputs, *shape)``."""
    shape = tuple(c.size for c in coords)
    values = np.asarray(model(*_open(coords)), dtype=np.float64)
    return np.broadcast_to(values, (values.shape[0], *shape)) if values.ndim else values


def _exact_values(
    setup: _Setup, i: int, coords: Sequence[FloatArray], values: FloatArray
) -> FloatArray:
    """Exact output i: the float64 ``values``, or with ``exact="mp"`` re-evaluated point by
    point in mpmath (the float coordinates taken exactly; NaN where undefined), at ``MP_DPS``
    digits and then at twice as many until two precisions agree to float64 (an exact result
    such as ``exp(x) - 1 - x`` at x = 1e-9 cancels 18 digits), at most ``MP_MAX_DPS``."""
    if setup.exact_kind != "mp":
        return np.array(values, dtype=np.float64)
    model = _mp_output(setup.exact[i], setup.symbols)
    out = np.empty(tuple(c.size for c in coords))
    for index in np.ndindex(*out.shape):
        point = [float(c[j]) for c, j in zip(coords, index, strict=True)]
        out[index] = _settled_value(model, point)
    return out


def _settled_value(model: Compiled, point: Sequence[float]) -> float:
    """``model`` at ``point`` to float64, doubling the digits until two precisions agree."""
    previous, dps = math.nan, MP_DPS
    while dps <= MP_MAX_DPS:
        ctx, fn = model.mp_function(dps)
        try:
            value = float(fn(*(ctx.mpf(x) for x in point))[0])
        except (ValueError, ZeroDivisionError, TypeError):
            return math.nan  # a pole or a complex value: a NaN, as in float64
        if value == previous or (
            math.isfinite(value) and abs(value - previous) <= EPS * abs(value)
        ):
            return value
        previous, dps = value, 2 * dps
    return previous


@functools.lru_cache(maxsize=16)
def _mp_output(expr: sympy.Expr, symbols: tuple[sympy.Symbol, ...]) -> Compiled:
    """One exact output compiled alone, for its point-by-point mpmath evaluation."""
    return Compiled(expr, symbols, kind="exact result")


def _fits(
    approx: Sequence[FloatArray], exact: Sequence[FloatArray], inners: Sequence[Index]
) -> FitStats:
    """Each output against its exact result over its own interior (no cross terms: the
    outputs of a staggered scheme have shapes of their own)."""
    stats = [fit_stats([a], [e], inner) for a, e, inner in zip(approx, exact, inners, strict=True)]
    n = len(stats)
    ae = tuple(
        tuple(s.ae[0][0] if i == j else math.nan for j in range(n)) for i, s in enumerate(stats)
    )
    return FitStats(tuple(s.aa[0] for s in stats), tuple(s.ee[0] for s in stats), ae)


def _shifted(
    setup: _Setup,
    level: _Level,
    places: Sequence[tuple[FloatArray, ...]],
    approx: Sequence[FloatArray],
    inners: Sequence[Index],
) -> dict[tuple[int, int], list[float]]:
    """Interior L∞ errors of each staggered output against its exact result half a cell away
    along each axis, either way (empty for node outputs)."""
    if setup.output == "nodes":
        return {}
    found: dict[tuple[int, int], list[float]] = {}
    for k, sign in itertools.product(range(len(setup.symbols)), (-1, 1)):
        row = []
        for i, (where, a, inner) in enumerate(zip(places, approx, inners, strict=True)):
            moved = tuple(
                c + sign * level.spacings[k] / 2 if j == k else c for j, c in enumerate(where)
            )
            e = _sample(setup.exact_model, moved)[i]
            gap = np.abs(a[inner] - e[inner])
            row.append(float(gap.max()) if gap.size and np.all(np.isfinite(gap)) else math.inf)
        found[k, sign] = row
    return found


def _cell_centres(level: _Level, periodic: frozenset[int]) -> tuple[FloatArray, ...]:
    """Midpoints of the cells per axis (N - 1; N on a periodic axis, the last cell wrapping)."""
    return tuple(
        c + level.spacings[k] / 2 if k in periodic else (c[1:] + c[:-1]) / 2
        for k, c in enumerate(level.coords)
    )


def _open(coords: Sequence[FloatArray]) -> list[FloatArray]:
    """Coordinates shaped to broadcast against each other (``x[:, None]``, ``y[None, :]``)."""
    d = len(coords)
    return [c.reshape([-1 if k == j else 1 for j in range(d)]) for k, c in enumerate(coords)]


def _require_finite(
    setup: _Setup, coords: Sequence[FloatArray], size: int, arrays: list[FloatArray]
) -> None:
    """Refuse a domain where the field or its exact result is not finite (a pole, overflow)."""
    for values in arrays:
        bad = np.argwhere(~np.isfinite(values))
        if bad.size:
            where = ", ".join(
                f"{s.name}={float(c[i]):.6g}"
                for s, c, i in zip(setup.symbols, coords, bad[0], strict=True)
            )
            msg = (
                f"the field or its {setup.operator.name} is not a finite float64 number at {where} "
                f"(N = {size}): a pole, a domain edge or overflow; choose a domain where both are finite"
            )
            raise ConfigError(msg)


def _outputs(result: Any, shapes: list[tuple[int, ...]], setup: _Setup) -> list[FloatArray]:
    """The scheme's output as float64 arrays of the outputs' shapes, or an InputError."""
    n = len(setup.exact)
    if isinstance(result, np.ndarray) and n == 1 and result.shape == shapes[0]:
        result = [result]
    arrays = [np.asarray(a) for a in result] if isinstance(result, Iterable) else []
    if (
        len(arrays) != n
        or any(a.shape != shape for a, shape in zip(arrays, shapes, strict=False))
        or any(a.dtype.kind not in "fiu" for a in arrays)
    ):
        got = [(a.shape, str(a.dtype)) for a in arrays] if arrays else type(result).__name__
        want = shapes[0] if len(set(shapes)) == 1 else shapes
        msg = (
            f"scheme {setup.scheme_name} returned {got}; expected {n} real array(s) of shape "
            f"{want}: {', '.join(setup.operator.outputs)}"
        )
        raise InputError(msg)
    return [a.astype(np.float64, copy=False) for a in arrays]


# ------------------------------------------------------------------------------- refinement
def _refine(setup: _Setup, levels: list[_Level], measured: list[_Measured]) -> str:
    """Add levels (h halved) while some region drifts and the budget allows; say why not."""
    while _drifting(setup, levels, measured):
        if setup.grow is None:
            return "the levels were given as a list of coordinates; add finer levels"
        size = 2 * levels[-1].size - (0 if setup.periodic else 1)
        stop = _no_room(setup, levels, size)
        if stop:
            return stop
        level = setup.grow(size)
        if level.size <= levels[-1].size:
            return f"coordinates({size}) returned {level.size} points per axis, not a finer level"
        stop = _no_room(setup, levels, level.size)
        if stop:
            return stop
        levels.append(level)
        measured.append(_measure(setup, level))
    return "no finer level was needed"


def _drifting(setup: _Setup, levels: Sequence[_Level], measured: Sequence[_Measured]) -> bool:
    """Whether some region of an output not proven wrong has orders a finer level could settle."""
    h = [max(lvl.spacings) for lvl in levels]
    wrong = decisive(_diagnostics(setup, measured, h))
    for k, name in enumerate(setup.operator.outputs):
        if name in wrong:
            continue
        floors = [m.floors[k] for m in measured]
        resolved = [m.outputs[k][0] for m in measured]
        for r in range(3):
            rows = [m.regions[r][k] for m in measured]
            linf = [row[2] for row in rows if row is not None]
            if linf and unsettled(linf, floors, h, resolved):
                return True
    return False


def _no_room(setup: _Setup, levels: Sequence[_Level], size: int) -> str:
    """Why a level of ``size`` points per axis may not be added ("" when it may)."""
    d = len(setup.symbols)
    points = size**d
    total = sum(lvl.size**d for lvl in levels) + points
    arrays = len(setup.fields) + 3 * len(setup.exact) + sum(len(g) for _, g in setup.swaps)
    if total <= setup.budget and points <= MAX_POINTS and points * 8 * arrays <= MAX_LEVEL_BYTES:
        return ""
    return (
        f"the next level (N = {size}, {points:,} points) would exceed the refinement budget "
        f"({setup.budget:,} points over all levels, {MAX_POINTS:,} on one level); raise "
        "max_points or use a field whose orders settle on coarser grids"
    )


# ------------------------------------------------------------------------------- diagnostics
def _diagnostics(
    setup: _Setup, measured: Sequence[_Measured], h: Sequence[float]
) -> list[dict[str, Any]]:
    """Swapped axes, half-cell shifts, then constant factors (a missing h^m named as such),
    each output's from the levels that resolve its own quantities only (none: no diagnosis)."""
    names = setup.operator.outputs
    cuts = [unresolved_levels([m.outputs[i][0] for m in measured]) for i in range(len(names))]
    found: list[dict[str, Any]] = []
    for coarse in sorted(set(cuts)):
        own = {name for name, cut in zip(names, cuts, strict=True) if cut == coarse}
        found += _diagnostics_of(setup, measured[coarse:], h[coarse:], own)
    return found


def _diagnostics_of(
    setup: _Setup, measured: Sequence[_Measured], h: Sequence[float], own: set[str]
) -> list[dict[str, Any]]:
    """:func:`_diagnostics` of the outputs ``own`` on the levels ``measured``."""
    if not measured:
        return []
    names = list(setup.operator.outputs)
    found = _swap_diagnostics(setup, measured[-1]) + _shift_diagnostics(setup, measured, h)
    found = [d for d in found if own.issuperset(d["components"])]
    swapped = {name for d in found for name in d["components"]}
    m = setup.operator.orders[1]
    skip = swapped | (set(names) - own)
    for entry in factor_diagnostics(names, [x.fits for x in measured], h, skip):
        if m > 1 and entry["scales_as"] == f"h^{m}":
            per = entry["factor"] / h[-1] ** m
            who = ", ".join(entry["components"])
            entry["per_h"] = per
            entry["message"] = (
                f"the output for {who} ≈ {entry['factor']:.4g} times the exact result on the "
                f"finest grid; the factor is {per:.4g}·h^{m} (h = {h[-1]:.4g}): h^{m} was never divided out"
            )
            entry["advice"] = (
                f"divide the difference by h^{m} (h[k]**{m}), as an order-{m} difference quotient needs"
            )
        found.append(entry)
    return found


def _shift_diagnostics(
    setup: _Setup, measured: Sequence[_Measured], h: Sequence[float]
) -> list[dict[str, Any]]:
    """Staggered outputs that live half a cell from where they claim to (module docstring).

    Named when the interior's finest-pair order falls short of the expected one (above 1: a
    half-cell offset errs at order 1, which a declared first-order scheme may do), and on each
    of the two finest levels the exact result half a cell away, along one axis and one way,
    explains the output to ``SHIFT_MARGIN`` times its error where it claims to live (above the
    rounding floor).  Two levels, because on one a scheme's own ``C h²`` error can equal a
    shift's ``h/2 ∂(Lf)`` by coincidence (``u_x`` of ``sin(kx) exp(y/2)``, whose error and
    y-derivative are both multiples of u_x, at ``h ≈ 6/k²``); on the next level they differ.
    """
    found: list[dict[str, Any]] = []
    expected = setup.expected[0]
    if expected <= 1 + TOLERANCES["order"] or len(measured) < 2:
        return found
    last = measured[-2:]
    for i, name in enumerate(setup.operator.outputs):
        own = [m.regions[0][i] for m in last]
        linf = [row[2] if row is not None else math.nan for row in own]
        if not all(e > m.floors[i] for e, m in zip(linf, last, strict=True)):
            continue
        if not pairwise_orders(linf, h[-2:])[0] < expected - TOLERANCES["order"]:
            continue
        explained = [
            key
            for key in last[-1].shifted
            if all(m.shifted[key][i] <= SHIFT_MARGIN * e for m, e in zip(last, linf, strict=True))
        ]
        best = min(explained, key=lambda key: last[-1].shifted[key][i], default=None)
        if best is None:
            continue
        own_finest = linf[-1]
        (k, sign), gap = best, last[-1].shifted[best][i]
        axis = setup.symbols[k].name
        where = {"cells": "cell centres", "faces": "faces"}[setup.output]
        found.append(
            {
                "kind": "half_cell_shift",
                "components": [name],
                "axis": axis,
                "shift": sign * 0.5,
                "message": f"the output for {name} matches the exact result at {axis} "
                f"{'+' if sign > 0 else '-'} h/2 (interior error {gap:.3g}) far better than at the "
                f"{where} where output={setup.output!r} puts it (error {own_finest:.3g}): the values "
                "look shifted by half a cell",
                "advice": f"return the values at the {where} (or declare where they live with "
                "output='nodes' / 'cells' / 'faces'); a centred difference of neighbouring "
                "values lives halfway between them",
            }
        )
    return found


def _swap_diagnostics(setup: _Setup, finest: _Measured) -> list[dict[str, Any]]:
    """Outputs matching the operator with two axes exchanged (within the fit tolerance), and
    not the operator itself (outside it, or ``SWAP_MARGIN`` times less well while off by more
    than ``SWAP_MARGIN`` times the tolerance)."""
    tol, found = TOLERANCES["fit"], []
    for (i, j), rows in finest.swapped.items():
        for k, (residual, factor) in enumerate(rows):
            own = finest.fits.residual(k)
            # explained by the exchanged axes, and far better than by the operator itself (a
            # field where u_yy is nearly a multiple of u_xx fits both within the tolerance)
            # (both fit a field where u_yy is exactly a multiple of u_xx: then not named)
            better = SWAP_MARGIN * tol < own and residual < SWAP_MARGIN * own
            if not (residual <= tol and (own > tol or better)):
                continue
            a, b = setup.symbols[i].name, setup.symbols[j].name
            name = setup.operator.outputs[k]
            found.append(
                {
                    "kind": "swapped_axes",
                    "components": [name],
                    "axes": [i, j],
                    "factors": [factor],
                    "message": f"the output for {name} matches the {setup.operator.name} with the "
                    f"axes {a} and {b} exchanged (times {factor:.4g}): the scheme differences "
                    "along the wrong axis",
                    "advice": "np.meshgrid's default indexing='xy' puts y on axis 0; build grids with "
                    "np.meshgrid(x, y, indexing='ij'), and difference axis k for variable k",
                }
            )
    return found


def _closure_diagnostics(setup: _Setup, comps: Sequence[GridComponent]) -> list[dict[str, Any]]:
    """A boundary settled below the expected order while the interior does not fail."""
    found = []
    expected, tol = setup.expected[1], TOLERANCES["order"]
    for c in comps:
        b: GridRegion | None = c.boundary  # None: no boundary (periodic)
        if b is None or c.interior.status is Status.FAIL or b.status is not Status.FAIL:
            continue
        p = b.observed_order
        if not (math.isfinite(p) and p < expected - tol):
            continue
        inside = " while the interior passes" if c.interior.status.ok else ""
        found.append(
            {
                "kind": "lower_order_closure",
                "component": c.variable,
                "region": "boundary",
                "observed_order": p,
                "expected_order": expected,
                "message": f"the boundary closure of {c.variable} converges at order {p:.2f}, "
                f"below the expected {expected:g}{inside}: its one-sided formula is of order "
                f"{max(round(p), 0)}",
                "advice": "use a closure of the interior's order (symgrad.analyze_stencil states "
                "a closure's formal order and leading error term), or expect this order at the "
                "boundary (expect_order=(interior, boundary))",
            }
        )
    return found


def _degenerate_diagnostics(
    setup: _Setup, level: _Level, terms: Terms | None = None
) -> list[dict[str, Any]]:
    """Boundary axes on whose faces a closure's error term vanishes: the field proves nothing.

    A one-sided closure of order q for a term ``∂^β f`` (β containing axis k) errs on the faces
    normal to k by about ``C h^q ∂_k^q ∂^β f``.  Where these vanish on the faces (their max
    there at most ``TOLERANCES["degenerate"]`` times their max over the grid) for some
    ``q <= p``, a closure of order q shows a higher order on this field (``cos(πx)`` on [0, 1]:
    ``u_xxx = 0`` at both ends, so the closure ``u0 - 2u1 + u2`` of u_xx looks second order).
    One entry per axis, for the lowest such q.  ``terms`` (default: all the operator's) are
    the terms of the outputs asked about: one output's closures are its own terms' (a gradient's
    ``u_y`` has none on the x faces).
    """
    terms = setup.operator.terms if terms is None else terms
    p, found = setup.expected[1], []
    everywhere = setup.levels[0].open_grid(points=PROBE_POINTS)
    for k in sorted({k for _, axes in terms for k in axes} - setup.periodic):
        for q in range(math.floor(p) + 1):
            term = _closure_terms(setup.fields, setup.symbols, terms, k, q, setup.limits)
            if term is None:
                continue
            on_faces = _finite_max(np.asarray(term(*level.open_grid(k)), dtype=np.float64))
            scale = _finite_max(np.asarray(term(*everywhere), dtype=np.float64))
            if scale > 0 and on_faces <= TOLERANCES["degenerate"] * scale:
                name = setup.symbols[k].name
                found.append(
                    {
                        "kind": "degenerate_field",
                        "axis": name,
                        "region": "boundary",
                        "order": q,
                        "on_faces": on_faces,
                        "elsewhere": scale,
                        "message": f"the error term C·h^{q} of an order-{q} boundary closure "
                        f"vanishes on the {name} faces for this field (max {on_faces:.2e} there, "
                        f"{scale:.2e} elsewhere), so such a closure looks better than it is",
                        "advice": "use a field whose derivatives do not vanish on the boundary, "
                        "e.g. sin(x + 0.3) + x**3/7 instead of sin(pi*x)",
                    }
                )
                break
    return found


@functools.lru_cache(maxsize=64)
def _closure_terms(
    fields: tuple[sympy.Expr, ...],
    symbols: tuple[sympy.Symbol, ...],
    terms: tuple[tuple[int, tuple[int, ...]], ...],
    k: int,
    q: int,
    limits: Limits | None,
) -> Compiled | None:
    """``∂_k^q ∂^β f_c`` for the operator's terms along axis k (None if all vanish identically)."""
    found = []
    for c, axes in terms:
        if k in axes:
            wrt = [symbols[j] for j in (*axes, *(k,) * q)]
            term = priced_partial(fields[c], wrt, symbols, limits)
            if not term.is_zero:
                found.append(term)
    return Compiled(found, symbols, kind="closure error terms") if found else None


# ------------------------------------------------------------------------------- verdicts
def _assemble(
    setup: _Setup, levels: Sequence[_Level], measured: Sequence[_Measured], stop: str
) -> OperatorResult:
    """Diagnostics, per-output verdicts, and the result."""
    names = list(setup.operator.outputs)
    h = tuple(max(lvl.spacings) for lvl in levels)
    sizes = tuple(lvl.size for lvl in levels)
    diagnostics = _diagnostics(setup, measured, h)
    evidence = functools.partial(_evidence, setup)

    def judging(k: int) -> Judging:  # output k on the levels that resolve its own quantities
        own = [m.outputs[k] for m in measured]
        resolved, named = tuple(r for r, _ in own), tuple(q for _, q in own)
        return Judging(h, sizes, setup.expected, stop, evidence, resolved, named)

    degenerate = _degenerate_diagnostics(setup, levels[-1])

    def lowest(k: int) -> int | None:  # output k's closures, on its own terms
        own = _degenerate_diagnostics(setup, levels[-1], setup.operator.terms_of(k))
        return min((d["order"] for d in own), default=None)

    comps = [_judge(k, name, measured, judging(k), lowest(k)) for k, name in enumerate(names)]
    diagnostics += _closure_diagnostics(setup, comps)
    diagnostics += degenerate
    wrong = decisive(diagnostics)
    comps = [_diagnosed(c, wrong[c.variable]) if c.variable in wrong else c for c in comps]
    status = combine(c.status for c in comps)
    return OperatorResult(
        status=status,
        reason=overall_reason(status, comps, (d["kind"] for d in diagnostics)),
        scheme=setup.scheme_name,
        variables=tuple(s.name for s in setup.symbols),
        sizes=sizes,
        refined=sizes[len(setup.levels) :],
        max_points=setup.budget,
        spacings=tuple(lvl.spacings for lvl in levels),
        expected_order=dict(zip(("interior", "boundary"), setup.expected, strict=True)),
        boundary_width=setup.width,
        exact=setup.exact_kind,
        tolerance=TOLERANCES["order"],
        components=tuple(comps),
        diagnostics=tuple(diagnostics),
        operator=setup.operator.name,
        exact_result=tuple(str(e) for e in setup.exact),
        periodic=tuple(setup.symbols[k].name for k in sorted(setup.periodic)),
    )


def _judge(
    k: int, name: str, measured: Sequence[_Measured], judging: Judging, degenerate: int | None
) -> GridComponent:
    """Output k's regions judged as verify_grid judges a component's; absent regions None.

    ``degenerate`` is the lowest closure order whose error term vanishes on the faces (see
    :func:`_degenerate_diagnostics`): a boundary passing on such a field is inconclusive.
    """
    floors = tuple(m.floors[k] for m in measured)
    judged: list[GridRegion | None] = []
    for r, region in enumerate(("interior", "boundary", "transverse")):
        rows = [row for m in measured if (row := m.regions[r][k]) is not None]
        if not rows:
            judged.append(None)
            continue
        errors = {
            norm: tuple(row[i] for row in rows) for i, norm in enumerate(("L1", "L2", "Linf"))
        }
        at_expected = degenerate is not None and degenerate == judging.expected[1]
        verdict = _judge_region(k, name, region, errors, floors, judging, at_expected)
        if region == "boundary" and degenerate is not None and verdict.status is Status.PASS:
            reason = (
                f"component {name}, boundary: observed order {verdict.observed_order:.2f}, but "
                f"the error term of an order-{degenerate} closure vanishes on the faces for this "
                "field (see diagnostics), so the order is not proven; use a more generic field"
            )
            verdict = dataclasses.replace(verdict, status=Status.INCONCLUSIVE, reason=reason)
        judged.append(verdict)
    present = [r for r in judged if r is not None]
    status = combine(r.status for r in present)
    worst = next(r for r in present if r.status == status)
    interior, boundary, transverse = judged
    # boundary None: every differentiated axis is periodic (documented on OperatorResult)
    return GridComponent(
        name,
        cast(GridRegion, interior),
        cast(GridRegion, boundary),
        transverse,
        status,
        worst.reason,
    )


def _evidence(setup: _Setup, _output: int, region: str, order: float) -> Evidence:
    """Exactness evidence ``((q, S_q), (q + 1, S_(q+1)))`` on a probe grid (module docstring).

    S_j is the largest ``|∂^α f|`` over the field's components and every multi-index α of
    total order ``n + j``, n over the operator's derivative orders; q the highest ``q <= ⌊p⌋``
    with a term not identically zero; None when no such term exists (then every scheme of the
    operator's order is exact for f).
    """
    level = setup.levels[0]
    probe = level.open_grid(points=PROBE_POINTS)
    shape = (PROBE_POINTS,) * len(probe)
    parts = operator_regions(shape, 1, setup.operator.axes, setup.periodic)
    region_parts = {"interior": [parts[0]], "boundary": parts[1], "transverse": parts[2]}[region]

    def size(j: int) -> float | None:
        terms = _terms(setup.fields, setup.symbols, setup.operator.orders, j, setup.limits)
        if not terms:
            return None
        values = np.asarray(Compiled(list(terms), setup.symbols, kind="error terms")(*probe))
        full = np.broadcast_to(values, (len(terms), *shape))
        return max(_finite_max(full[(slice(None), *p)]) for p in region_parts)

    for q in range(max(math.floor(order), 0), -1, -1):
        leading = size(q)
        if leading is not None:
            return (q, leading), (q + 1, size(q + 1) or 0.0)
    return None


@functools.lru_cache(maxsize=32)
def _terms(
    fields: tuple[sympy.Expr, ...],
    symbols: tuple[sympy.Symbol, ...],
    orders: tuple[int, int],
    j: int,
    limits: Limits | None,
) -> tuple[sympy.Expr, ...]:
    """The derivatives of total order ``n + j`` (n in ``orders``) not identically zero."""
    found = []
    for n in range(orders[0] + j, orders[1] + j + 1):
        for combo in itertools.combinations_with_replacement(symbols, n):
            for f in fields:
                term = priced_partial(f, combo, symbols, limits)
                if not term.is_zero:
                    found.append(term)
    return tuple(found)
