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

Every symbolic derivative is priced against ``Limits.max_work`` before SymPy takes it
(:func:`symgrad.grids._mms.priced_partial`); a level's quantities are evaluated slab by slab
along axis 0 (in memory) or block by block (streamed with dask), never held whole.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import sympy

from symgrad._precision import EPS
from symgrad.derive import Compiled, Limits
from symgrad.grids._diagnostics import TOLERANCES, cell_widths
from symgrad.grids._mms import priced_partial

__all__ = ["Watched", "error_terms", "ratio", "watch", "worst"]

FloatArray = npt.NDArray[np.float64]
#: An operator's terms: (field component, the axes it differentiates along).
Terms = tuple[tuple[int, tuple[int, ...]], ...]
#: Points evaluated at once in memory (a slab of axis 0): bounds the arrays held.
SLAB_POINTS = 1 << 18


@dataclass(frozen=True)
class Watched:
    """The quantities a level must resolve, compiled with their gradients.

    ``models[i]`` returns ``q_i`` and ``∂q_i/∂x_j`` for every spatial axis j (``1 + d``
    arrays, d = ``dims``: one quantity at a time, so that a streamed block holds no more than
    the field's own ``2 + 3d`` arrays); ``sized[i]`` says whether ``q_i`` is an error term,
    judged against ``max(range, max|q|)`` (module docstring).  Arguments after the d spatial
    coordinates (time, parameters) are passed through.
    """

    names: tuple[str, ...]
    sized: tuple[bool, ...]
    models: tuple[Compiled, ...]
    dims: int

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
        rows = max(1, SLAB_POINTS // max(1, math.prod(c.size for c in coords[1:])))
        slabs = []  # per slab, per quantity: [min, max, steps...]
        for start in range(0, coords[0].size, rows):
            part = slice(start, start + rows)
            grid = _open([coords[0][part], *coords[1:]])
            local = [widths[0][part], *widths[1:]]
            with np.errstate(all="ignore"):
                found = [np.asarray(m(*grid, *extra), dtype=np.float64) for m in self.models]
            slabs.append([_extremes(q, local) for q in found])
        table = np.array(slabs, dtype=np.float64)  # (slabs, quantities, 2 + d); NaN propagates
        merged = np.concatenate([table[:, :, :1].min(axis=0), table[:, :, 1:].max(axis=0)], axis=1)
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
        found = dask.compute(*wanted)  # type: ignore[attr-defined, no-untyped-call]
        return self._each([[float(v) for v in row] for row in found])

    def _each(self, extremes: Sequence[Sequence[float]]) -> list[tuple[float, str]]:
        """Each quantity's R and name."""
        return [
            (ratio(row[0], row[1], row[2:], sized=s), name)
            for row, s, name in zip(extremes, self.sized, self.names, strict=True)
        ]


def worst(found: Sequence[tuple[float, str]]) -> tuple[float, str]:
    """The largest R of some ``(R, name)`` and its quantity's name; ``(0.0, "")`` for none."""
    return max(found, key=lambda pair: pair[0], default=(0.0, ""))


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
    quantities: tuple[tuple[str, sympy.Expr, bool], ...],
    symbols: tuple[sympy.Symbol, ...],
    dims: int,
    limits: Limits | None,
) -> Watched:
    """Compile ``(name, q, sized)`` with the gradient of each q along the first ``dims``
    symbols (the spatial axes; the others are passed through), priced before SymPy takes it.
    Constant quantities are left out: their R is 0."""
    kept = [(name, q, sized) for name, q, sized in quantities if q.free_symbols]
    models = tuple(
        Compiled(
            [q, *(priced_partial(q, [s], symbols, limits) for s in symbols[:dims])],
            symbols,
            kind="resolution",
        )
        for _, q, _ in kept
    )
    return Watched(tuple(n for n, _, _ in kept), tuple(s for _, _, s in kept), models, dims)
