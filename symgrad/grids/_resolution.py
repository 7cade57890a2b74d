"""Which levels can show an order: the field, the exact output and the leading error term.

A scheme of order p for a derivative of order m along axis k errs at a point by the Taylor
series of its stencil,

    e(h) = C₀ h^p g + C₁ h^(p+1) ∂_k g + ...,      g = ∂_k^(m+p) f,

so its L∞ error falls as ``h^p`` only where the first term dominates the second, which needs
``h |∂_k g| ≲ |g|``: the *asymptotic range*.  Outside it the observed order says nothing about
the scheme.  The extreme case is an oscillation ``A sin(ωx)`` that no level resolves
(``hω ≫ 1``): the stencil then sees a different, aliased function, and the oscillation
contributes about ``A ω^m`` to the error on every level, an error with order 0.  On
``1e-10 sin(1e5 x) + x²`` the field (range 1, ``h|f'| ≈ 2h``) and the derivative
(``2x + 1e-5 cos(1e5 x)``, range 2) both look resolved, yet ``g = f''' = -1e5 cos(1e5 x)``
is dominated by the oscillation: numpy.gradient's errors stay at ``1e-5`` and "order 0" would
fail a correct scheme.

**The rule.**  The resolution R of :func:`symgrad.grids._diagnostics.resolution`,
``max_j max_i w_j(i) |∂_j q(i)| / S(q)`` (``w_j`` the cell width along axis j), is taken of
every quantity that must be resolved, and a level is resolved only if all are at most
``TOLERANCES["resolution"]``:

* the field f and the exact output (``∂f/∂x_k``, the operator's result), with ``S`` the
  sampled range ``max q - min q``: a constant offset changes no derivative;
* the leading error terms ``g``, one per axis k a stencil differentiates along and per
  expected order p (interior and boundary): ``g = ∂_k^(m+p) f_c`` for every term of order m
  of the operator acting on field component c.  Here the *size* of g matters, not only its
  variation: an offset in g is the leading error itself.  So ``S(g) = max(range g, max|g|)``:
  for an oscillation about zero this is the range, as for f; for ``g = 6 - 1e-5 cos(1e3 x)``
  (``x³ + 1e-14 sin(1e3 x)`` under a second-order scheme) it is 6, whose ``h²`` error the
  tiny oscillation cannot disturb.  A constant g (a polynomial of degree m + p, g = 0
  included) has no next term (``∂g ≡ 0``): R = 0, resolved, and the scheme's error is exactly
  ``C₀ h^p g``.

Why ``max|g|`` is enough where the oscillation is not resolved: its error ``A ω^m`` against
the leading term ``C₀ h^p max|g|`` is ``R / (C₀ (hω)^(p+1))`` with ``R = h A ω^(m+p+1) / max|g|``,
so with R ≤ 2 it is small once ``hω`` is a few units; near ``hω ≈ 1`` the Taylor series holds
again and the oscillation is part of g.  Where the oscillation matters it raises R above the
threshold, and the level is left out of the orders and the diagnostics (the coarsest levels
first, as R falls with h).  With no level resolved the verdict is ``inconclusive``, naming the
quantity and its R.  A quantity that is not finite on the grid (a singular error term, as
``f'''`` of ``x**2.5`` at 0) has R = ∞: no order can be expected there.

Where the scheme's order is not known, the order the caller expects stands for p.  In time
(:func:`symgrad.verify_solver`) the same rule holds for ``g = ∂_t^(n+q) u`` of a time scheme
of order q for a time derivative of order n, with ``w = dt``.

**Aliasing: R is sampled inside the cells too.**  The nodes alone cannot show every
oscillation.  ``1e-3 sin(1024πx)`` on grids whose spacing is a multiple of 1/1024 is 0 at
every node, its derivative ``1e-3·1024π cos(1024πx)`` is the constant 3.2 there and its
third derivative the constant ``-3.3e4``, each with a slope of 0 at the nodes: every R taken
from node values says "resolved", while a correct numpy.gradient errs by 3.2 on every level
(order 0: a false fail) and a scheme leaking ``D_x u`` into ``u_y`` reads a difference that
sees none of it.  So the slope of each quantity along axis j is also sampled at two points
inside every cell, ``x_i + θ (x_(i+1) - x_i)`` along j (the nodes along the other axes), with
irrational fractions θ (``OFFSETS``: (3 - √5)/2 and π - 3 along x, √2 - 1 and e - 2 along y,
√6 - 2 and √3 - 1 along z).  ``max |∂_j q|`` in R is the largest over the nodes and these
points, times the cell's width; the size S stays that of the nodes.  An oscillation
``a sin(ωx_j + φ)`` of q with ``ωh = 2πk + δ`` has the phases ``φ``, ``φ + θ(2πk + δ)`` at a
node and at its two inner points; for any φ one of the three slopes is at least
``c(k) a ω``, and ``hω c(k) ≥ 3.9`` (4.5 along x and y) for every k from 1 to 20,000 (checked numerically over
the phases; 2π for a wave sampled in every phase).  So an aliased oscillation shows an R of
at least ``3.9 a / S(q)``, as it would unaliased up to a factor under 1.7, and near-multiples
(δ ≠ 0) sweep their phases across the nodes as well.  Only a sum of oscillations tuned
against these fractions, or an oscillation along the diagonal of two axes tuned likewise,
could still hide: no finite sample excludes that; the points are chosen so that no grid and
no single frequency does.  On a smooth field the inner slopes differ from the nodes' by
``O(h)`` relatively: R barely moves, and no resolved level becomes unresolved.

**The field and its first derivatives belong to every output.**  A scheme receives the whole
field and may read any neighbour, so an output's data decide only if the field and its exact
first derivatives along every axis (of every component) are resolved: ``u_y + 0.5·D_x u``
hides the leak wherever ``D_x u`` misses ``∂f/∂x``.  :func:`field_quantities` lists them;
:func:`symgrad.verify_grid` and :func:`symgrad.verify_operator` watch them for every output,
besides each output's own exact result and error terms (only verify_grid's built-in numpy
scheme, which differences each axis alone, gives ``∂f/∂x_k`` to component k alone).  An oscillation small in f and large
in ∂f (``1e-3 sin(1000x)`` beside ``exp(y/2)``: ``∂f/∂x = cos(1000x)``) leaves every output
inconclusive, naming ``∂f/∂x`` and its R; one small in ∂f too (``1e-10 sin(1e5 x)`` beside
``sin(x)``: ``∂f/∂x`` wiggles by 1e-5 of its range) leaves the other outputs decided.

Every symbolic derivative is priced against ``Limits.max_work`` before SymPy takes it
(:func:`symgrad.grids._mms.priced_partial`); a level's quantities are evaluated slab by slab
along axis 0 (in memory) or block by block (streamed with dask), never held whole; a
quantity and its slope along one axis at a time, so that the points inside the cells cost
about one more evaluation of each slope per offset.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import sympy

from symgrad._precision import EPS
from symgrad.derive import Compiled, Limits
from symgrad.grids._diagnostics import TOLERANCES, cell_widths
from symgrad.grids._mms import priced_partial

__all__ = [
    "OFFSETS",
    "Watched",
    "error_terms",
    "field_quantities",
    "ratio",
    "watch",
    "worst",
]

FloatArray = npt.NDArray[np.float64]
#: An operator's terms: (field component, the axes it differentiates along).
Terms = tuple[tuple[int, tuple[int, ...]], ...]
#: A watched quantity: (its name, its expression, whether it is an error term judged by size).
Quantity = tuple[str, sympy.Expr, bool]
#: Points evaluated at once in memory (a slab of axis 0): bounds the arrays held.
SLAB_POINTS = 1 << 18
#: Per axis, the fractions of a cell at which each quantity's slope along that axis is sampled
#: inside the cells besides the nodes: irrational, so that no grid aliases an oscillation at
#: them (module docstring: for one frequency, hω·c(k) >= 3.9 for k = 1 .. 20,000).
OFFSETS: tuple[tuple[float, float], ...] = (
    ((3 - math.sqrt(5)) / 2, math.pi - 3),
    (math.sqrt(2) - 1, math.e - 2),
    (math.sqrt(6) - 2, math.sqrt(3) - 1),
)


@dataclass(frozen=True)
class Watched:
    """The quantities a level must resolve, compiled with their slopes.

    ``models[m]`` returns a quantity q and ``∂q/∂x_j`` for every spatial axis j (``1 + d``
    arrays, d = ``dims``: one quantity at a time, so that a streamed block holds no more than
    the field's own ``2 + 3d`` arrays), evaluated at the nodes; ``slopes[m][j]`` returns
    ``∂q/∂x_j`` alone (None where it is 0), evaluated at the points inside the cells along
    axis j (``OFFSETS``).  ``names[i]`` is quantity i's name, ``sized[i]`` whether it is an
    error term judged against ``max(range, max|q|)`` (module docstring), ``index[i]`` its
    model (quantities with the same expression share one).  Arguments after the d spatial
    coordinates (time, parameters) are passed through.
    """

    names: tuple[str, ...]
    sized: tuple[bool, ...]
    models: tuple[Compiled, ...]
    dims: int
    slopes: tuple[tuple[Compiled | None, ...], ...] = ()
    index: tuple[int, ...] = ()

    def on_grid(
        self, coords: Sequence[FloatArray], extra: Sequence[float] = ()
    ) -> tuple[float, str]:
        """(the largest R of the quantities on the grid of ``coords``, the quantity's name),
        evaluated slab by slab along axis 0; ``(0.0, "")`` with nothing to watch."""
        return worst(self.each_on_grid(coords, extra))

    def each_on_grid(
        self, coords: Sequence[FloatArray], extra: Sequence[float] = ()
    ) -> list[tuple[float, str]]:
        """(R, name) of every quantity, as :meth:`on_grid` finds them."""
        if not self.models:
            return []
        widths = cell_widths(coords)
        slabs = []  # per slab, per model: [min, max, steps...]
        for part, grid in _slabs(coords):
            local = [widths[0][part], *widths[1:]]
            slabs.append([_extremes(q, local) for q in _evaluate(self.models, grid, extra)])
        table = np.array(slabs, dtype=np.float64)  # (slabs, models, 2 + d); NaN propagates
        merged = np.concatenate([table[:, :, :1].min(axis=0), table[:, :, 1:].max(axis=0)], axis=1)
        for j, inside, width in _inside(coords, self.dims):
            models = [row[j] for row in self.slopes]
            steps = [
                [
                    _slope(q, width[part] if j == 0 else width)
                    for q in _evaluate(models, grid, extra)
                ]
                for part, grid in _slabs(inside)
            ]
            merged[:, 2 + j] = np.maximum(merged[:, 2 + j], np.array(steps).max(axis=0))
        return self._each(merged.tolist())

    def each_streamed(
        self, coords: Sequence[FloatArray], chunks: Sequence[int]
    ) -> list[tuple[float, str]]:
        """:meth:`each_on_grid` on a level streamed with dask, block by block."""
        if not self.models:
            return []
        import dask  # noqa: PLC0415 - the dask extra, present whenever a level is streamed

        from symgrad.grids._streaming import lazy_open_grid  # noqa: PLC0415 - dask only

        grid, widths = lazy_open_grid(coords, chunks), cell_widths(coords)
        wanted = [_extremes(m(*grid), widths) for m in self.models]
        inner = []  # (axis, per model: max |∂_j q · w| inside the cells, lazily)
        for j, inside, width in _inside(coords, self.dims):
            points = lazy_open_grid(inside, chunks)
            slopes = [row[j] for row in self.slopes]
            inner.append((j, [0.0 if m is None else _slope(m(*points), width) for m in slopes]))
        found, more = dask.compute(wanted, [steps for _, steps in inner])  # type: ignore[attr-defined, no-untyped-call]
        merged = np.array([[float(v) for v in row] for row in found], dtype=np.float64)
        for (j, _), steps in zip(inner, more, strict=True):
            found_j = np.array([float(v) for v in steps], dtype=np.float64)
            merged[:, 2 + j] = np.maximum(merged[:, 2 + j], found_j)
        return self._each(merged.tolist())

    def _each(self, extremes: Sequence[Sequence[float]]) -> list[tuple[float, str]]:
        """Each quantity's R and name, from its model's extremes."""
        index = self.index or tuple(range(len(self.names)))
        return [
            (ratio(extremes[m][0], extremes[m][1], extremes[m][2:], sized=s), name)
            for m, s, name in zip(index, self.sized, self.names, strict=True)
        ]


def worst(found: Sequence[tuple[float, str]]) -> tuple[float, str]:
    """The largest R of some ``(R, name)`` and its quantity's name; ``(0.0, "")`` for none."""
    return max(found, key=lambda pair: pair[0], default=(0.0, ""))


def _slabs(coords: Sequence[FloatArray]) -> Iterator[tuple[slice, list[FloatArray]]]:
    """The open grid of ``coords`` in slabs of about ``SLAB_POINTS`` points along axis 0."""
    rows = max(1, SLAB_POINTS // max(1, math.prod(c.size for c in coords[1:])))
    for start in range(0, coords[0].size, rows):
        part = slice(start, start + rows)
        yield part, _open([coords[0][part], *coords[1:]])


def _evaluate(
    models: Sequence[Compiled | None], grid: Sequence[FloatArray], extra: Sequence[float]
) -> list[Any]:
    """Each model on the open grid (a missing slope: a zero array of no size)."""
    with np.errstate(all="ignore"):
        return [
            np.zeros((1, 1)) if m is None else np.asarray(m(*grid, *extra), dtype=np.float64)
            for m in models
        ]


def _inside(
    coords: Sequence[FloatArray], dims: int
) -> Iterator[tuple[int, list[FloatArray], FloatArray]]:
    """(axis j, the coordinates with axis j moved inside its cells by a fraction of OFFSETS,
    the cells' widths along j shaped to broadcast), two per spatial axis of two points or
    more (module docstring)."""
    for j in range(dims):
        c = np.asarray(coords[j], dtype=np.float64)
        if c.size < 2:
            continue
        step = np.diff(c)
        width = step.reshape([-1 if k == j else 1 for k in range(len(coords))])
        for theta in OFFSETS[j]:
            yield j, [*coords[:j], c[:-1] + theta * step, *coords[j + 1 :]], width


def _slope(values: Any, width: Any) -> Any:
    """``max |∂_j q · w|`` of one slope's ``(∂_j q,)`` (NumPy or lazy dask)."""
    return abs(values[0] * np.asarray(width, dtype=np.float64)).max()


def _extremes(values: Any, widths: Sequence[Any]) -> list[Any]:
    """``[min q, max q, max|∂_1 q·w_1|, ...]`` of one quantity's ``(q, ∂_1 q, ...)`` (NumPy or
    lazy dask); a NaN or inf propagates into them, and :func:`ratio` then gives inf."""
    q = values[0]
    steps = [
        abs(values[1 + j] * np.asarray(w, dtype=np.float64)).max() for j, w in enumerate(widths)
    ]
    return [q.min(), q.max(), *steps]


def ratio(low: float, high: float, steps: Sequence[float], *, sized: bool) -> float:
    """R from a quantity's extremes: ``max(steps) / S`` (module docstring; S at least the
    rounding ``64 ε max|q|``); 0 when every step is 0, inf when something is not finite."""
    values = [low, high, *steps]
    if not all(math.isfinite(v) for v in values):
        return math.inf
    top = max(abs(low), abs(high))
    span = max(high - low, top if sized else 0.0, TOLERANCES["floor_ulps"] * EPS * top)
    step = max(steps, default=0.0)
    if step == 0:
        return 0.0
    return step / span if span > 0 else math.inf


def _open(coords: Sequence[FloatArray]) -> list[FloatArray]:
    d = len(coords)
    return [c.reshape([-1 if k == j else 1 for j in range(d)]) for k, c in enumerate(coords)]


def field_quantities(
    fields: tuple[sympy.Expr, ...],
    symbols: tuple[sympy.Symbol, ...],
    limits: Limits | None,
    field: str = "f",
) -> tuple[Quantity, ...]:
    """The field's components and their exact first derivatives along every axis, which every
    output depends on (module docstring), named after ``field``; each derivative priced before
    SymPy takes it.  Constants are left to :func:`watch` (R = 0)."""
    found: list[Quantity] = []
    for c, expr in enumerate(fields):
        f = field if len(fields) == 1 else f"{field}_{c + 1}"
        found.append(("the field" if len(fields) == 1 else f"the field's {f}", expr, False))
        found += [
            (
                f"the exact derivative ∂{f}/∂{s.name}",
                priced_partial(expr, [s], symbols, limits),
                False,
            )
            for s in symbols
        ]
    return tuple(found)


@functools.lru_cache(maxsize=32)
def error_terms(
    fields: tuple[sympy.Expr, ...],
    symbols: tuple[sympy.Symbol, ...],
    terms: Terms,
    orders: tuple[int, ...],
    limits: Limits | None,
    field: str = "f",
) -> tuple[tuple[str, sympy.Expr], ...]:
    """The leading error terms ``∂_k^(m+p) f_c`` (module docstring), named after ``field``,
    without repeats and without constants (R = 0), each priced before SymPy takes it."""
    found: dict[sympy.Expr, str] = {}
    for c, axes in terms:
        m = len(axes)
        for p in sorted(set(orders)):
            for k in sorted(set(axes)):
                n, s = m + p, symbols[k]
                term = priced_partial(fields[c], [s] * n, symbols, limits)
                if term.free_symbols and term not in found:
                    f = field if len(fields) == 1 else f"{field}_{c + 1}"
                    found[term] = f"the leading error term ∂^{n}{f}/∂{s.name}^{n}"
    return tuple((name, term) for term, name in found.items())


@functools.lru_cache(maxsize=32)
def watch(
    quantities: tuple[Quantity, ...],
    symbols: tuple[sympy.Symbol, ...],
    dims: int,
    limits: Limits | None,
) -> Watched:
    """Compile ``(name, q, sized)`` with the slope of each q along the first ``dims`` symbols
    (the spatial axes; the others are passed through), priced before SymPy takes it: one model
    per distinct ``(q, sized)``, its slopes also one axis at a time for the points inside the
    cells.  Constant quantities are left out: their R is 0."""
    kept = [(name, q, sized) for name, q, sized in quantities if q.free_symbols]
    distinct = list(dict.fromkeys((q, sized) for _, q, sized in kept))
    models, slopes = [], []
    for q, _ in distinct:
        steps = [priced_partial(q, [s], symbols, limits) for s in symbols[:dims]]
        models.append(Compiled([q, *steps], symbols, kind="resolution"))
        slopes.append(
            tuple(
                Compiled([g], symbols, kind="resolution") if g.free_symbols or g != 0 else None
                for g in steps
            )
        )
    return Watched(
        tuple(n for n, _, _ in kept),
        tuple(s for _, _, s in kept),
        tuple(models),
        dims,
        tuple(slopes),
        tuple(distinct.index((q, s)) for _, q, s in kept),
    )
