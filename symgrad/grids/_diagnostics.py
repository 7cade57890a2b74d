"""Judging a grid scheme: error norms, observed orders, verdicts, diagnostics and the result.

The arithmetic and the reporting behind :func:`symgrad.verify_grid`:

* **Regions** of component k (the derivative along axis k), each a union of disjoint slabs so
  that every norm is a reduction over views (no boolean mask, no copy):

  - the *interior*: the points at least ``width`` layers away from every face;
  - the *boundary*: the faces normal to axis k (``width`` layers), where the stencil of
    ∂/∂x_k is cut off and a scheme uses its one-sided boundary formula;
  - the *transverse* faces (2-D and 3-D): the rest of the shell, the faces normal to the other
    axes.  ``numpy.gradient`` differences ∂/∂x_k centrally there, a 3x3 image filter pads its
    smoothing across them.  Mixing them into the boundary would mix two error laws (``C₁ h`` on
    the own faces, ``C₂ h²`` on the others) into a maximum whose order drifts for a long while
    (``exp(2x)·cos(1.5y)``: 1.38, 1.24, 1.14 towards 1), so they are judged on their own: their
    order must be at least the smaller expected order (the boundary's, usually).

* **Norms** per region: ``L1 = mean|e|``, ``L2 = sqrt(mean e²)``, ``L∞ = max|e|``.
* **Observed order** between consecutive levels, ``p = ln(E_c/E_f) / ln(h_c/h_f)``, and the
  least-squares slope of ``ln E`` against ``ln h`` over the asymptotic range.  Verdicts use the
  L∞ norm and the tolerances of :data:`TOLERANCES`:

  - a level is *resolved* when its error is above the rounding floor
    ``64 ε (max|f|/h + max|∂f|)`` (a difference of values of size |f| divided by h carries about
    ``ε |f|/h``);
  - the *asymptotic range* is the longest run of the finest resolved levels whose pairwise
    orders lie within a band of 0.1;
  - the orders have *settled* when, of the last three, the last two differ by at most 0.05 and
    the two before either by at most 0.05 too, or by at most 0.2 in the same direction with
    the last change at most 0.7 times that one: a converging approach (1.80, 1.91, 1.95), whose
    remaining distance to the limit is then at most about ``0.05·0.7/0.3`` ≈ 0.12, inside the
    tolerance 0.2.  Two orders are not enough: where the maximum moves from one face to the
    other, or a face's error ``C h² + D h³`` has terms of opposite sign, two consecutive orders
    can agree on their way to the limit (2.80, 1.70, 1.72, then 1.88, 1.94, 1.97 towards 2);
  - ``pass``: settled, and the fitted and finest-pair orders are within 0.2 of the expected one
    (at least the expected one, less 0.2, for the transverse faces), and the finest pair of L2
    errors above the floor agrees within 0.2 too (in the asymptotic range every norm falls at
    order p; an L∞ norm alone can be fooled by an error of independent phase whose maximum adds
    exactly to the truncation's, :func:`_l2_disagrees`: else ``inconclusive``); ``fail``: settled
    elsewhere; ``inconclusive``: still drifting when no finer grid may be added (the reason says
    why: the refinement budget, or the floor reached first).  :func:`symgrad.verify_grid` adds
    finer levels itself while some region is still drifting (see :func:`unsettled`).

* **Resolved or not.**  A grid can only show an order where it resolves the field.  A level's
  *resolution* is ``R = max_k max_i w_k(i) |∂_k f(i)| / (max f - min f)``: the largest change a
  cell's linearised step makes, against the field's sampled range (w_k(i) the wider of the two
  cells beside point i along axis k; the range at least the rounding ``64 ε max|f|``, so a
  constant offset does not count).  A sine of wavelength λ has ``R = π h/λ``; ``R > 2``
  (fewer than π/2 points per wavelength, below the Nyquist limit of 2, or a cell whose
  linear step crosses the range twice; a parabola on 3 points has R = 2) is *unresolved*: ``sin(1e300*x)`` on 17 to 129 points has R ≈ 1e298, and its errors, about
  ``1e300`` on every level, have order 0 without saying anything about the scheme.  The
  coarsest levels that are unresolved are left out of the orders (R falls with h, so they come
  first), and so are their fits from the factor diagnostics (an aliased level's factor
  follows no law of the scheme's); with every level unresolved the verdict is
  ``inconclusive``, naming R, and no diagnostic decides.  The same R is required of the exact
  derivative and of the scheme's leading error term ``g = ∂_k^(1+p) f`` (against its size,
  ``max(range g, max|g|)``): the observed order is p only where ``h |∂g| ≲ |g|``, derived in
  :mod:`symgrad.grids._resolution`; :class:`Judging` carries the R and the quantity of each
  level.

* **Exact or undecidable.**  When every level of a region sits at the rounding floor, nothing
  about the order can be measured; whether the scheme is *exact* for the field is decided from
  the field.  Let p be the region's expected order and q the highest order ``q <= ⌊p⌋`` whose
  error term ``∂^(q+1)f/∂x_k^(q+1)`` is not identically zero (SymPy), and S_j the largest size
  of ``∂^(j+1)f/∂x_k^(j+1)`` on the region (a 17-point probe grid).  A scheme that is not exact
  for f - one of order q or less - errs by about ``h^q S_q``, or by ``h^(q+1) S_(q+1)`` where
  its leading term vanishes on the region (``∂³f`` of ``cos(πx)`` on the faces of [0, 1]).
  ``exact`` needs the rounding floor to be at most 0.01 times the larger of the two on every
  level, so that such an error would have stood a hundredfold above the floor: for a quadratic
  under a second-order scheme q = 1 and S_1 = max|f''| (a first-order scheme would have
  shown); for a field with ``∂f/∂x_k ≡ 0`` no q exists and the output 0 is exact.  Otherwise
  the floor hides every truncation error the scheme could have (``1e12 + sin(x + 0.3)``: floor
  0.11 at h = 1/8, ``h S_1`` = 0.12) and the verdict is ``inconclusive``, naming the floor.

* **Diagnostics** compare the output ``a_k`` with the exact derivative ``e_k`` on the interior
  (an image filter's border is legitimately poor):

  - a constant factor: ``c = <a, e>/<e, e>`` explains the output when ``|a - c e| <= fit·|a|``.
    "Factor" always means output/exact.  How c changes with h says why: ``c ∝ h`` means the
    spacing was never divided out (``np.gradient(f)`` gives ``c = h``, a raw 3x3 Sobel response
    ``c = 8h``); ``c = -1`` is a flipped sign (``E = -∇V``);
  - swapped components, ``a_i ≈ e_j`` and ``a_j ≈ e_i`` (``np.meshgrid``'s default
    ``indexing='xy'`` puts y on axis 0);
  - a flipped sign, swapped components, or a factor that follows a law ``c = per_h · h^s`` over
    the levels (the fitted slope and every consecutive pair's within 0.1 of the integer s; on
    two levels, which fit any law, within ``EXACT_LAW``) fail their components whatever the
    orders say (a consistent scheme's factor tends to 1); such components are not refined;
  - a degenerate test field: a one-sided formula of order p along axis k errs by
    ``C h^p ∂^(p+1)f/∂x_k^(p+1)`` on the faces normal to axis k.  Where that derivative vanishes
    (``sin(x)`` on ``[0, 2π]`` with ``edge_order=1``: ``h f''/2 = -h sin(x)/2 = 0`` at both ends)
    the boundary looks an order better than it is, and the verdict becomes inconclusive.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import sympy

from symgrad._precision import EPS

#: The spacing of float64 numbers below the normal range, 2**-1074.
SUBNORMAL = 2.0**-1074
from symgrad.derive import Compiled, Limits, derivative
from symgrad.results import Result, Status, combine

__all__ = [
    "JUDGED_NORM",
    "NORMS",
    "REGIONS",
    "TOLERANCES",
    "Evidence",
    "FitStats",
    "GridComponent",
    "GridRegion",
    "GridResult",
    "Judging",
    "Span",
    "assemble_region",
    "asymptotic_range",
    "cell_widths",
    "decisive",
    "degenerate_diagnostics",
    "exactness_evidence",
    "factor_diagnostics",
    "fit_stats",
    "fitted_order",
    "judge_component",
    "norms",
    "overall_reason",
    "pairwise_orders",
    "region_verdict",
    "regions",
    "resolution",
    "rounding_floor",
    "swap_diagnostics",
    "unresolved_levels",
    "unresolved_reason",
    "unsettled",
]

FloatArray = npt.NDArray[np.float64]
Index = tuple[slice, ...]
Norms = tuple[float, float, float]
#: ``((q, S_q), (q + 1, S_(q+1)))`` of the module docstring's exactness rule; None when
#: ∂f/∂x_k ≡ 0.
Evidence = tuple[tuple[int, float], ...] | None

NORMS = ("L1", "L2", "Linf")
#: The regions of a component, in the order of :func:`regions`.
REGIONS = ("interior", "boundary", "transverse")
#: The norm whose orders decide a verdict (the strictest of the three, as in Roy 2005).
JUDGED_NORM = "Linf"

#: Every tolerance behind a verdict or a diagnostic, in one place.
TOLERANCES: dict[str, float] = {
    # |p - p_expected| allowed on the fitted and on the finest-pair order.
    "order": 0.2,
    # Errors below floor_ulps * eps * (max|f| / h_min + max|∂f|) are rounding, not truncation:
    # a difference of values of size |f| divided by h carries about eps |f| / h.
    "floor_ulps": 64.0,
    # Orders have settled when of the last three pairwise orders the last two differ by at most
    # `settle`, and the two before by at most `settle`, or by at most `drift` in the same
    # direction with the last change at most `contract` times this one.
    "settle": 0.05,
    "drift": 0.2,
    "contract": 0.7,
    # The asymptotic range: the finest resolved levels whose pairwise orders span at most this.
    "band": 0.1,
    # Errors at the floor prove exactness only where a scheme short of exact would have erred by
    # at least floor / exact_margin (module docstring).
    "exact_margin": 1e-2,
    # A factor c with |c - 1| above this that explains the output (see "fit") is reported.
    "factor": 0.05,
    # Output a_i is "c times the exact derivative e_j" when |a_i - c e_j| <= fit * |a_i|, with the
    # least-squares c (for the factor diagnostic j = i; for swapped components j != i).
    "fit": 0.05,
    # A leading error term "vanishes" on the faces when its max there <= degenerate * max elsewhere.
    "degenerate": 1e-3,
    # Per-level factors follow h^s when the slope of ln|c| against ln h is within this of s.
    "scaling": 0.1,
    # A level resolves the field when its resolution R (module docstring) is at most this:
    # π/2 points per wavelength of a sine, below the Nyquist limit.
    "resolution": 2.0,
}
#: A factor law read from two levels only must hold to this (an exact law, as c = h).
EXACT_LAW = 1e-6
#: Refining cannot be expected to resolve a field whose finest R exceeds this (6 halvings).
UNREACHABLE_RESOLUTION = 128.0


def rounding_floor(field_scale: float, exact_scale: float, h_min: float) -> float:
    """The error size below which float64 rounding, not the scheme, is being measured.

    A field value is rounded to ``EPS·|f|`` or, below the normal range (``x**2`` on
    ``x=0:1e-300`` underflows to 0), to the subnormal spacing ``SUBNORMAL``, whichever is larger.
    """
    field_rounding = max(EPS * field_scale, SUBNORMAL)
    return TOLERANCES["floor_ulps"] * (field_rounding / h_min + EPS * exact_scale)


def cell_widths(coords: Sequence[FloatArray]) -> list[FloatArray]:
    """Per axis, the wider of the two cells beside each point, shaped to broadcast."""
    d, out = len(coords), []
    for k, c in enumerate(coords):
        steps = np.diff(np.asarray(c, dtype=np.float64))
        wide = (
            np.maximum(np.r_[steps[:1], steps], np.r_[steps, steps[-1:]]) if steps.size else c * 0
        )
        out.append(wide.reshape([-1 if j == k else 1 for j in range(d)]))
    return out


def resolution(
    field: FloatArray, derivatives: Iterable[FloatArray], widths: Sequence[npt.ArrayLike]
) -> float:
    """How coarsely a grid samples a field: ``max_k max_i w_k(i) |∂_k f(i)| / range(f)``.

    ``derivatives[k]`` is the exact ``∂f/∂x_k`` on the grid and ``widths[k]`` the cell width
    per point along axis k (broadcasting against it, a number for a uniform step); the range is
    the sampled ``max f - min f``, at least the rounding ``64 ε max|f|``.  Above
    ``TOLERANCES["resolution"]`` the level does not resolve the field (module docstring).
    0 for a constant field.

    Examples
    --------
    >>> x = np.linspace(0, 2 * np.pi, 17)  # 16 points per wavelength: R = π/16
    >>> round(resolution(np.sin(x), [np.cos(x)], [x[1] - x[0]]) * 16 / np.pi, 6)
    1.0
    >>> x = np.linspace(0, 1, 17)
    >>> resolution(np.sin(1e300 * x), [1e300 * np.cos(1e300 * x)], [1 / 16]) > 1e290
    True
    """
    values = np.asarray(field, dtype=np.float64)
    top = _finite_max(np.abs(values)) if values.size else 0.0
    span = float(np.nanmax(values) - np.nanmin(values)) if values.size else 0.0
    span = max(span, TOLERANCES["floor_ulps"] * EPS * top)
    step = max(
        (
            _finite_max(np.abs(np.asarray(g, dtype=np.float64) * np.asarray(w, dtype=np.float64)))
            for g, w in zip(derivatives, widths, strict=True)
        ),
        default=0.0,
    )
    if step == 0:
        return 0.0
    return step / span if span > 0 else math.inf


def unresolved_levels(resolution: Sequence[float]) -> int:
    """How many of the coarsest levels do not resolve the field (R over the tolerance)."""
    return sum(
        1 for _ in itertools.takewhile(lambda r: not r <= TOLERANCES["resolution"], resolution)
    )


# ------------------------------------------------------------------------------ norms
def regions(
    shape: tuple[int, ...], width: int, axis: int
) -> tuple[Index, list[Index], list[Index]]:
    """Interior block, boundary slabs and transverse slabs of component ``axis`` (module docstring).

    The boundary is the two ``width``-thick slabs normal to ``axis``; the transverse slabs are
    the faces normal to each other axis, cut to the interior of the axes already counted, so
    the three parts are disjoint and cover the grid.

    Examples
    --------
    >>> inner, own, other = regions((5, 4), 1, axis=1)
    >>> inner, own
    ((slice(1, 4, None), slice(1, 3, None)), [(slice(None, None, None), slice(0, 1, None)), \
(slice(None, None, None), slice(3, 4, None))])
    >>> other
    [(slice(0, 1, None), slice(1, 3, None)), (slice(4, 5, None), slice(1, 3, None))]
    """
    inner = tuple(slice(width, n - width) for n in shape)
    counted = {axis}
    own = [_slab(shape, axis, part, counted - {axis}, inner) for part in _ends(shape[axis], width)]
    transverse = []
    for j, n in enumerate(shape):
        if j != axis:
            transverse += [_slab(shape, j, part, counted, inner) for part in _ends(n, width)]
            counted.add(j)
    return inner, own, transverse


def _ends(n: int, width: int) -> tuple[slice, slice]:
    return slice(0, width), slice(n - width, n)


def _slab(shape: tuple[int, ...], axis: int, part: slice, counted: set[int], inner: Index) -> Index:
    """``part`` along ``axis``, the interior along the ``counted`` axes, everything elsewhere."""
    return tuple(
        part if j == axis else inner[j] if j in counted else slice(None) for j in range(len(shape))
    )


def dot(a: FloatArray, b: FloatArray) -> float:
    """Full inner product of two equally shaped arrays or views, without copying either."""
    letters = "ijklmn"[: a.ndim]
    return float(np.einsum(f"{letters},{letters}->", a, b))


def norms(abs_error: FloatArray, parts: Sequence[Index]) -> Norms:
    """(L1, L2, L∞) of ``|e|`` over the union of the disjoint ``parts``."""
    views = [abs_error[p] for p in parts]
    count = sum(v.size for v in views)
    total = sum(float(v.sum()) for v in views)
    squares, largest = sum(dot(v, v) for v in views), max(float(v.max()) for v in views)
    if math.isfinite(largest) and largest > 0 and not 0 < squares < math.inf:
        # e² overflowed (|e| above ~1e154) or underflowed: sum (e/L∞)² instead, which cannot
        scaled_squares = sum(dot(v / largest, v / largest) for v in views)
        return total / count, largest * math.sqrt(scaled_squares / count), largest
    return total / count, math.sqrt(squares / count), largest


# ------------------------------------------------------------------------------ orders
def pairwise_orders(errors: Sequence[float], h: Sequence[float]) -> list[float]:
    """``ln(E_c/E_f) / ln(h_c/h_f)`` for consecutive levels (NaN where an error is 0 or not finite).

    Examples
    --------
    >>> pairwise_orders([4.0, 1.0, 0.25], [0.2, 0.1, 0.05])
    [2.0, 2.0]
    """
    out = []
    for k in range(1, len(errors)):
        ec, ef = errors[k - 1], errors[k]
        usable = 0 < ec < math.inf and 0 < ef < math.inf
        out.append(math.log(ec / ef) / math.log(h[k - 1] / h[k]) if usable else math.nan)
    return out


def fitted_order(errors: Sequence[float], h: Sequence[float]) -> float:
    """Least-squares slope of ``ln E`` against ``ln h`` over the levels with usable errors.

    Examples
    --------
    >>> round(fitted_order([3.0, 0.75, 0.1875], [0.4, 0.2, 0.1]), 12)
    2.0
    """
    usable = [
        (math.log(s), math.log(e)) for e, s in zip(errors, h, strict=True) if 0 < e < math.inf
    ]
    if len(usable) < 2:
        return math.nan
    x, y = np.array(usable).T
    return float(np.polyfit(x, y, 1)[0])


@dataclass(frozen=True)
class Span:
    """The levels of a region that speak about its order (indices into the levels).

    ``start`` opens the run of resolved levels that ends at ``last``, the finest resolved level;
    ``first`` opens the asymptotic range inside it; ``orders`` are the run's pairwise orders;
    ``settled`` says they have stopped moving (module docstring); ``floor_reached`` that a
    finer level than ``last`` sits at the rounding floor.
    """

    start: int
    first: int
    last: int
    orders: tuple[float, ...]
    settled: bool
    floor_reached: bool


def asymptotic_range(
    errors: Sequence[float], floors: Sequence[float], h: Sequence[float]
) -> Span | None:
    """The run of finest resolved levels, its asymptotic range, and whether it has settled.

    None when no level is resolved (every error at the floor).

    Examples
    --------
    >>> h = [2.0**-i for i in range(6)]
    >>> errors = [2.0**-p for p in (0, 1.3, 2.45, 3.52, 4.55, 5.56)]
    >>> s = asymptotic_range(errors, [1e-9] * 6, h)
    >>> s.first, s.last, s.settled, [round(p, 2) for p in s.orders]
    (2, 5, True, [1.3, 1.15, 1.07, 1.03, 1.01])
    >>> asymptotic_range(errors[:4], [1e-9] * 4, h[:4]).settled  # 1.3, 1.15, 1.07: still moving
    False
    >>> errors = [2.0**-p for p in (0, 2.8, 4.5, 6.22)]  # 2.8, 1.7, 1.72: a jump, then flat
    >>> asymptotic_range(errors, [1e-9] * 4, h[:4]).settled
    False
    """
    resolved = [math.isfinite(e) and e > f for e, f in zip(errors, floors, strict=True)]
    if not any(resolved):
        return None
    last = max(i for i, r in enumerate(resolved) if r)
    start = last
    while start > 0 and resolved[start - 1]:
        start -= 1
    orders = pairwise_orders(errors[start : last + 1], h[start : last + 1])
    first = max(start, last - 1)
    for j in range(len(orders) - 2, -1, -1):
        window = orders[j:]
        if not max(window) - min(window) <= TOLERANCES["band"]:
            break
        first = start + j
    return Span(start, first, last, tuple(orders), _settled(orders), last < len(errors) - 1)


def _settled(orders: Sequence[float]) -> bool:
    """The last three orders have stopped moving: the last step small, the one before it small
    too or the same way and at least ``contract`` times larger (a converging approach)."""
    if len(orders) < 3:
        return False
    before, last = orders[-2] - orders[-3], orders[-1] - orders[-2]
    if not (abs(last) <= TOLERANCES["settle"] and abs(before) <= TOLERANCES["drift"]):
        return False
    converging = before * last > 0 and abs(last) <= TOLERANCES["contract"] * abs(before)
    return abs(before) <= TOLERANCES["settle"] or converging


def unsettled(
    errors: Sequence[float],
    floors: Sequence[float],
    h: Sequence[float],
    resolution: Sequence[float] = (),
) -> bool:
    """Whether a finer level could settle this region's orders (they drift, no floor in sight).

    With the levels' ``resolution`` (:func:`resolution`), unresolved coarsest levels are left
    out; with none resolved, a finer level helps only while the finest R is within reach
    (``UNREACHABLE_RESOLUTION``).
    """
    coarse = unresolved_levels(resolution)
    if coarse == len(errors) and coarse:
        return resolution[-1] <= UNREACHABLE_RESOLUTION
    errors, floors, h = errors[coarse:], floors[coarse:], h[coarse:]
    if not all(math.isfinite(e) for e in errors):
        return False
    span = asymptotic_range(errors, floors, h)
    return span is not None and not span.settled and not span.floor_reached


# ---------------------------------------------------------------------------- verdicts
@dataclass(frozen=True)
class Judging:
    """What a verdict needs besides the errors: the levels, the expectations, the refinement.

    ``stop`` says why no finer level was added (it ends an inconclusive reason); ``evidence``
    maps (component index, region, order) to the exactness evidence of the module docstring,
    computed only when a region sits at the floor on every level; ``resolution`` holds each
    level's R (:func:`resolution`; empty: every level counts as resolved) and ``quantities``
    names, per level, the quantity with that R ("the field", "the leading error term
    ∂^3f/∂x^3", ...: :mod:`symgrad.grids._resolution`; empty: the field).
    """

    h: tuple[float, ...]
    sizes: tuple[int, ...]
    expected: tuple[float, float]
    stop: str
    evidence: Callable[[int, str, float], Evidence]
    resolution: tuple[float, ...] = ()
    quantities: tuple[str, ...] = ()

    def without(self, coarse: int) -> Judging:
        """The same judging without the ``coarse`` coarsest levels."""
        return dataclasses.replace(
            self,
            h=self.h[coarse:],
            sizes=self.sizes[coarse:],
            resolution=self.resolution[coarse:],
            quantities=self.quantities[coarse:],
        )

    def unresolved(self, level: int) -> str:
        """The quantity a level resolves least (``level`` indexes the levels), "the field"
        when not named."""
        return self.quantities[level] if self.quantities else "the field"


def region_verdict(
    where: str,
    errors: Sequence[float],
    floors: Sequence[float],
    judging: Judging,
    expected: float,
    *,
    at_least: bool = False,
    degenerate: bool = False,
    evidence: Callable[[], Evidence] | None = None,
    l2: Sequence[float] = (),
) -> tuple[Status, str, Span | None]:
    """Judge one region from its L∞ errors and rounding floors (module docstring's rules).

    ``at_least`` judges a lower bound (the transverse faces); ``degenerate`` says the region's
    leading error term vanishes on this field; ``evidence`` is called when every level sits at
    the floor (without it, errors at the floor decide nothing); ``l2``, the region's L2 errors
    per level, must agree with a pass (:func:`_l2_disagrees`).
    """
    sizes = judging.sizes
    if not all(math.isfinite(e) for e in errors):
        bad = [n for n, e in zip(sizes, errors, strict=True) if not math.isfinite(e)]
        return (
            Status.FAIL,
            (
                f"{where}: non-finite errors at N = {bad}: the field or its derivative is not finite "
                "on the grid (a pole or a domain error), or the scheme returned NaN or inf"
            ),
            None,
        )
    coarse = unresolved_levels(judging.resolution)
    if coarse == len(errors):
        return Status.INCONCLUSIVE, unresolved_reason(where, judging), None
    if coarse:
        status, reason, span = region_verdict(
            where,
            errors[coarse:],
            floors[coarse:],
            judging.without(coarse),
            expected,
            at_least=at_least,
            degenerate=degenerate,
            evidence=evidence,
            l2=l2[coarse:],
        )
        left_out = ", ".join(map(str, sizes[:coarse]))
        worst = judging.unresolved(coarse - 1)
        named = (
            "" if worst == "the field" else f" ({worst}: R = {judging.resolution[coarse - 1]:.3g})"
        )
        reason += f" (N = {left_out} left out: too coarse to resolve the field{named})"
        if span is not None:
            span = dataclasses.replace(
                span, start=span.start + coarse, first=span.first + coarse, last=span.last + coarse
            )
        return status, reason, span
    span = asymptotic_range(errors, floors, judging.h)
    if span is None:
        found = ((0, 0.0),) if evidence is None else evidence()
        return (*_floor_verdict(where, errors, floors, judging.h, found), None)
    if not span.settled:
        return Status.INCONCLUSIVE, _drifting(where, span, sizes, judging.stop), span
    a, b = span.first, span.last
    fitted = fitted_order(errors[a : b + 1], judging.h[a : b + 1])
    finest, tol = span.orders[-1], TOLERANCES["order"]
    seen = (
        f"observed order {fitted:.2f} (fitted over N = {sizes[a]}…{sizes[b]}), "
        f"{finest:.2f} (finest pair)"
    )
    if at_least:
        if min(fitted, finest) >= expected - tol:
            return Status.PASS, f"{where}: {seen}, at least {expected:g} - {tol:g}", span
        return Status.FAIL, f"{where}: {seen}, below {expected:g} - {tol:g}", span
    if abs(fitted - expected) <= tol and abs(finest - expected) <= tol:
        disagree = _l2_disagrees(l2, floors, judging.h, expected)
        if disagree:
            return (
                Status.INCONCLUSIVE,
                f"{where}: {seen}, expected {expected:g}, but {disagree}",
                span,
            )
        return Status.PASS, f"{where}: {seen}, expected {expected:g} ± {tol:g}", span
    if degenerate and min(fitted, finest) > expected:
        return (
            Status.INCONCLUSIVE,
            (
                f"{where}: {seen} exceeds the expected {expected:g} because the leading error term "
                "vanishes on this field (see diagnostics); use a more generic field"
            ),
            span,
        )
    return Status.FAIL, f"{where}: {seen} vs expected {expected:g} (tolerance {tol:g})", span


def _l2_disagrees(
    l2: Sequence[float], floors: Sequence[float], h: Sequence[float], expected: float
) -> str:
    """Why the L2 errors do not confirm a pass of the L∞ orders ("" when they do or cannot say).

    In the asymptotic range the error is ``C h^p g(x)`` point by point, so every norm falls at
    order p.  The L∞ norm alone can be fooled: a planted ``ε·Lf`` of independent phase adds to
    the truncation's maximum exactly (``|a - ε| + ε = a`` for ``(a - ε) cos(ωx) - ε sin(x)``),
    keeping order p while the scheme does not converge; its L2 norm does not.  So the finest
    pair of L2 errors, both above the floor, must also lie within the order tolerance.
    """
    if len(l2) < 2 or not all(e > f for e, f in zip(l2[-2:], floors[-2:], strict=True)):
        return ""
    order = pairwise_orders(l2[-2:], h[-2:])[0]
    if abs(order - expected) <= TOLERANCES["order"]:
        return ""
    return (
        f"the L2 errors fall at order {order:.2f} on the finest pair: the norms disagree, so the "
        "error is not yet C·h^p everywhere (or a term of lower order hides below the maximum); "
        "add finer levels or use another field"
    )


def unresolved_reason(where: str, judging: Judging) -> str:
    """Why nothing can be decided on levels that all fail to resolve the field."""
    r, worst = judging.resolution, judging.unresolved(-1)
    size = "size" if "error term" in worst else "range"
    if math.isinf(r[-1]):
        return (
            f"{where}: {worst} is not resolved on any level: it or its derivative is not a "
            "finite float64 number at some point of every level (a singular error term, or "
            "overflow), so the errors follow no order of the scheme and nothing can be "
            "decided; use a domain where the field is smooth, or a smoother field"
        )
    return (
        f"{where}: {worst} is not resolved on any level: one cell's step h·|∂q| spans "
        f"R = {r[-1]:.3g} times its {size} on the finest level (N = "
        f"{judging.sizes[-1]}), {r[0]:.3g} on the coarsest, at most "
        f"{TOLERANCES['resolution']:g} is needed: the grids have far fewer points than its "
        "oscillations, so the errors have no order and nothing can be decided; use "
        "a smoother field, a smaller domain or finer grids"
    )


def _drifting(where: str, span: Span, sizes: Sequence[int], stop: str) -> str:
    """The reason of a region whose orders have not settled: the orders, and why no finer grid."""
    shown = ", ".join(f"{p:.2f}" for p in span.orders)
    if len(span.orders) < 3:
        got = f"{span.last - span.start + 1} resolved level(s) (up to N = {sizes[span.last]})"
        head = f"{where}: only {got}, 4 are needed to see an order settle"
    else:
        head = (
            f"{where}: the observed orders are still changing ({shown} up to N = "
            f"{sizes[span.last]}): the grids are not yet in the asymptotic range"
        )
    if span.floor_reached:
        first = sizes[span.last + 1]
        return (
            f"{head}, and the errors reach the float64 rounding floor at N = {first}; use "
            "coarser grids or a less trivial field"
        )
    return f"{head}; {stop}"


def _floor_verdict(
    where: str,
    errors: Sequence[float],
    floors: Sequence[float],
    h: Sequence[float],
    evidence: Evidence,
) -> tuple[Status, str]:
    """Every level at the floor: exact with evidence from the field, else undecidable."""
    top = max(errors)
    if evidence is None:
        return Status.EXACT, (
            f"{where}: errors are at the rounding floor on every level (max {top:.2e}) and the "
            "exact derivative along this axis is identically 0: the scheme is exact here"
        )
    q = evidence[0][0]
    # what a scheme of order q or less would leave: its leading term, or the next one where
    # the leading one vanishes on the region
    visible = [max(size * step**j for j, size in evidence) for step in h]
    term = " or ".join(f"h^{j}·max|∂^{j + 1}f|" for j, _ in evidence)
    if all(f <= TOLERANCES["exact_margin"] * v for f, v in zip(floors, visible, strict=True)):
        return Status.EXACT, (
            f"{where}: errors are at the rounding floor on every level (max {top:.2e}), at "
            f"most {TOLERANCES['exact_margin']:g} times the larger of {term} (at least "
            f"{min(visible):.2e}) that an error of order {q} or less would leave: the scheme is "
            "exact for this field"
        )
    return Status.INCONCLUSIVE, (
        f"{where}: every error is below the float64 rounding floor ({floors[0]:.2e} on the "
        f"coarsest level, {floors[-1]:.2e} on the finest), which hides any truncation error of "
        f"order {q} or less (the larger of {term} is {visible[-1]:.2e} on the finest level): "
        "nothing can be "
        "decided; use a field whose values are not large against their variation (subtract a "
        "constant offset) or coarser grids"
    )


# ---------------------------------------------------------------------------- results
@dataclass(frozen=True)
class GridRegion:
    """Errors, observed orders and verdict of one region of a component (module docstring).

    Attributes
    ----------
    errors : dict
        ``{"L1": [...], "L2": [...], "Linf": [...]}``, one value per level, coarse to fine.
    orders : tuple of float
        Pairwise observed orders of the judged norm (Linf), one per consecutive pair.
    observed_order, finest_order : float
        Least-squares order over the asymptotic range (all levels without one) and
        finest-pair order of the judged norm.
    expected_order : float
        The expected order; a lower bound when ``at_least`` (the transverse faces).
    asymptotic_range : tuple of int or None
        N of the coarsest and finest level of the range the fit used.
    orders_by_norm, fitted_orders : dict
        Pairwise orders, and least-squares orders over the same levels, for every norm.
    rounding_floor : tuple of float
        Per level, the error size below which float64 rounding is measured.
    """

    errors: dict[str, tuple[float, ...]]
    orders: tuple[float, ...]
    observed_order: float
    finest_order: float
    expected_order: float
    at_least: bool
    asymptotic_range: tuple[int, int] | None
    orders_by_norm: dict[str, tuple[float, ...]]
    fitted_orders: dict[str, float]
    rounding_floor: tuple[float, ...]
    status: Status
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Every field under its own name (the ``errors``, ``orders``, ... of docs/reference/json.md)."""
        return _plain(self)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class GridComponent:
    """One component of the gradient (the derivative along one axis): its regions, a verdict.

    ``transverse`` is None in 1-D (no other faces).
    """

    variable: str
    interior: GridRegion
    boundary: GridRegion
    transverse: GridRegion | None
    status: Status
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """``{"variable", "interior", "boundary", "transverse", "status", "reason"}``."""
        return _plain(self)  # type: ignore[no-any-return]

    @property
    def regions(self) -> tuple[GridRegion, ...]:
        """The judged regions: interior, boundary, and the transverse faces where present."""
        return (self.interior, self.boundary) + (
            () if self.transverse is None else (self.transverse,)
        )


@dataclass(frozen=True)
class GridResult(Result):
    """Outcome of :func:`symgrad.verify_grid`: per-component errors, orders, verdicts.

    ``sizes`` are all levels, ``refined`` those :func:`symgrad.verify_grid` added (within
    ``max_points`` points over all levels) because some region's orders had not settled;
    ``spacings[level][axis]`` is the (mean) step; ``expected_order`` maps ``interior`` and
    ``boundary`` to the expected orders; ``tolerance`` is the order tolerance of the verdicts;
    ``diagnostics`` are dicts with ``kind``, ``message``, ``advice`` and details.
    """

    status: Status
    reason: str
    scheme: str
    variables: tuple[str, ...]
    sizes: tuple[int, ...]
    refined: tuple[int, ...]
    max_points: int
    spacings: tuple[tuple[float, ...], ...]
    expected_order: dict[str, float]
    boundary_width: int
    exact: str
    tolerance: float
    components: tuple[GridComponent, ...]
    diagnostics: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """The ``verify-grid`` JSON of docs/reference/json.md (every field under its own name)."""
        return _plain(self)  # type: ignore[no-any-return]

    def to_text(self) -> str:
        """A table per component: N, h, interior L2, Linf and order, the faces' Linf and order."""
        lines = [f"verify_grid: {self.scheme} on {', '.join(self.variables)}: {self.status}"]
        lines += [self._refinement()] if self.refined else []
        for c in self.components:
            lines.append(f"component {c.variable}: {c.status}")
            lines.extend("  " + "  ".join(f"{x:>10}" for x in row) for row in self._rows(c))
        lines += [f"{d['kind']}: {d['message']}; {d['advice']}" for d in self.diagnostics]
        return "\n".join([*lines, f"reason: {self.reason}"])

    def to_markdown(self) -> str:
        """The verdict, a Markdown table per component, and the diagnostics."""
        parts = [f"**{self.status}**: {self.reason}\n\nScheme: `{self.scheme}`\n"]
        parts += [self._refinement() + "\n"] if self.refined else []
        for c in self.components:
            head, *rows = self._rows(c)
            table = [head, ["---"] * len(head), *rows]
            parts.append(f"**{c.variable}**: {c.status}\n")
            parts.append("\n".join("| " + " | ".join(r) + " |" for r in table) + "\n")
        parts += [f"- *{d['kind']}*: {d['message']}; {d['advice']}" for d in self.diagnostics]
        return "\n".join(parts) + "\n"

    def _refinement(self) -> str:
        added = ", ".join(map(str, self.refined))
        return (
            f"refined: added N = {added} because the observed orders had not settled "
            f"(budget {self.max_points:,} points over all levels)"
        )

    def _rows(self, c: GridComponent) -> list[list[str]]:
        named = [("int.", c.interior), ("bnd.", c.boundary), ("trv.", c.transverse)]
        shown = [(label, r) for label, r in named if r is not None]
        rows = [
            ["N", "h", "int. L2"] + [x for label, _ in shown for x in (f"{label} Linf", "order")]
        ]
        for i, n in enumerate(self.sizes):
            row = [str(n), f"{max(self.spacings[i]):.4g}", f"{c.interior.errors['L2'][i]:.3e}"]
            for _, r in shown:
                row += [f"{r.errors['Linf'][i]:.3e}", _fmt(r.orders[i - 1] if i else math.nan)]
            rows.append(row)
        rows.append(
            ["fitted", "", ""] + [x for _, r in shown for x in ("", _fmt(r.observed_order))]
        )
        expected = [("≥ " if r.at_least else "") + f"{r.expected_order:g}" for _, r in shown]
        rows.append(["expected", "", ""] + [x for e in expected for x in ("", e)])
        return rows


def _fmt(order: float) -> str:
    return "-" if math.isnan(order) else f"{order:.2f}"


def _plain(value: Any) -> Any:
    """JSON-ready data: dataclasses by field, Status by value, tuples as lists, NaN/inf as None."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Status):
        return value.value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def judge_component(
    k: int,
    name: str,
    rows: tuple[list[Norms], list[Norms], list[Norms] | None],
    floors: tuple[float, ...],
    judging: Judging,
    *,
    degenerate: bool,
) -> GridComponent:
    """Orders and verdicts of component ``k`` from its norms per level, one list per region.

    ``rows`` follows :data:`REGIONS` (the transverse entry None in 1-D).
    """

    def judge(region: str, per_level: list[Norms]) -> GridRegion:
        errors = {norm: tuple(r[i] for r in per_level) for i, norm in enumerate(NORMS)}
        return _judge_region(k, name, region, errors, floors, judging, degenerate)

    interior, boundary = judge("interior", rows[0]), judge("boundary", rows[1])
    transverse = None if rows[2] is None else judge("transverse", rows[2])
    judged = [r for r in (interior, boundary, transverse) if r is not None]
    status = combine(r.status for r in judged)
    worst = next(r for r in judged if r.status == status)
    return GridComponent(name, interior, boundary, transverse, status, worst.reason)


def _judge_region(
    k: int,
    name: str,
    region: str,
    errors: dict[str, tuple[float, ...]],
    floors: tuple[float, ...],
    judging: Judging,
    degenerate: bool,
) -> GridRegion:
    """One region's orders (over its asymptotic range) and verdict."""
    p_in, p_bd = judging.expected
    at_least = region == "transverse"
    p = {"interior": p_in, "boundary": p_bd}.get(region, min(p_in, p_bd))
    exactness_order = max(p_in, p_bd) if at_least else p
    status, reason, span = region_verdict(
        f"component {name}, {region}",
        errors[JUDGED_NORM],
        floors,
        judging,
        p,
        at_least=at_least,
        degenerate=degenerate and region == "boundary",
        evidence=lambda: judging.evidence(k, region, exactness_order),
        l2=errors["L2"],
    )
    return assemble_region(errors, floors, judging, span, p, at_least, status, reason)


def assemble_region(
    errors: dict[str, tuple[float, ...]],
    floors: Any,
    judging: Judging,
    span: Any,
    expected: float,
    at_least: bool,
    status: Status,
    reason: str,
    *,
    noise_has_no_order: bool = False,
) -> GridRegion:
    """A region's result: pairwise orders per norm, and orders fitted over the asymptotic
    ``span`` (the whole sequence without one; NaN with ``noise_has_no_order`` when the region
    passed at the rounding floor, whose noise has no order)."""
    h = judging.h
    fit = None if span is None or span.first == span.last else (span.first, span.last)
    a, b = fit or (0, len(h) - 1)
    orders = {norm: tuple(pairwise_orders(e, h)) for norm, e in errors.items()}
    fitted = {norm: fitted_order(e[a : b + 1], h[a : b + 1]) for norm, e in errors.items()}
    if noise_has_no_order and span is None and status.ok:
        fitted = dict.fromkeys(fitted, math.nan)
    return GridRegion(
        errors=errors,
        orders=orders[JUDGED_NORM],
        observed_order=fitted[JUDGED_NORM],
        finest_order=orders[JUDGED_NORM][-1],
        expected_order=expected,
        at_least=at_least,
        asymptotic_range=None if fit is None else (judging.sizes[a], judging.sizes[b]),
        orders_by_norm=orders,
        fitted_orders=fitted,
        rounding_floor=floors,
        status=status,
        reason=reason,
    )


def overall_reason(status: Status, comps: Iterable[GridComponent], kinds: Iterable[str]) -> str:
    """One sentence for the whole verification: the first failing component, or the summary."""
    if status == Status.EXACT:
        return (
            "errors are at the rounding floor on every level, far below what a scheme short of "
            "exact would leave: the scheme is exact for this field"
        )
    if status == Status.PASS:
        return "every component converges at its expected order, inside and at the boundary"
    reason = next(c.reason for c in comps if c.status == status)
    seen = sorted(set(kinds))
    return reason + (f"; see diagnostics: {', '.join(seen)}" if seen else "")


# ------------------------------------------------------------------------ diagnostics
@dataclass(frozen=True)
class FitStats:
    """Inner products of the outputs ``a`` and the exact derivatives ``e`` over one interior.

    ``ae[i][j] = <a_i, e_j>`` (off-diagonal entries NaN unless some output is not explained by
    its own derivative), ``aa[i] = <a_i, a_i>``, ``ee[j] = <e_j, e_j>``.
    """

    aa: tuple[float, ...]
    ee: tuple[float, ...]
    ae: tuple[tuple[float, ...], ...]

    def factor(self, i: int, j: int | None = None) -> float:
        """Least-squares c in ``a_i ≈ c e_j`` (j defaults to i; NaN when e_j vanishes)."""
        j = i if j is None else j
        return self.ae[i][j] / self.ee[j] if self.ee[j] > 0 else math.nan

    def residual(self, i: int, j: int | None = None) -> float:
        """``|a_i - c e_j| / |a_i|`` for the least-squares c: 0 when a_i is a multiple of e_j."""
        j = i if j is None else j
        if not (self.aa[i] > 0 and self.ee[j] > 0) or math.isnan(self.ae[i][j]):
            return math.nan
        # ae * (ae / ee), not ae**2 / ee: a float ** raises OverflowError where * gives inf
        rest = self.aa[i] - self.ae[i][j] * (self.ae[i][j] / self.ee[j])
        return math.sqrt(max(rest, 0.0) / self.aa[i]) if math.isfinite(rest) else math.nan


def fit_stats(approx: Sequence[FloatArray], exact: Sequence[FloatArray], inner: Index) -> FitStats:
    """Inner products over the interior; the n² cross terms only when some output is unexplained."""
    n = len(approx)
    a, e = [x[inner] for x in approx], [x[inner] for x in exact]
    ae = tuple(tuple(dot(a[i], e[j]) if i == j else math.nan for j in range(n)) for i in range(n))
    stats = FitStats(tuple(dot(x, x) for x in a), tuple(dot(x, x) for x in e), ae)
    if n > 1 and not all(stats.residual(k) <= TOLERANCES["fit"] for k in range(n)):
        ae = tuple(tuple(dot(a[i], e[j]) for j in range(n)) for i in range(n))
        stats = FitStats(stats.aa, stats.ee, ae)
    return stats


def swap_diagnostics(names: Sequence[str], finest: FitStats) -> list[dict[str, Any]]:
    """Pairs of components whose outputs are multiples of each other's exact derivatives."""
    tol, found = TOLERANCES["fit"], []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            crossed = finest.residual(i, j) <= tol and finest.residual(j, i) <= tol
            if not crossed or min(finest.residual(i), finest.residual(j)) <= tol:
                continue
            a, b = names[i], names[j]
            factors = [finest.factor(i, j), finest.factor(j, i)]
            found.append(
                {
                    "kind": "swapped_components",
                    "components": [a, b],
                    "axes": [i, j],
                    "factors": factors,
                    "message": f"the output for axis {i} ({a}) matches ∂f/∂{b} and the output for "
                    f"axis {j} ({b}) matches ∂f/∂{a} (times {factors[0]:.4g} and {factors[1]:.4g}):"
                    " the components are swapped",
                    "advice": "np.meshgrid's default indexing='xy' puts y on axis 0; build grids with "
                    "np.meshgrid(x, y, indexing='ij') or return the derivatives in axis order",
                }
            )
    return found


def factor_diagnostics(
    names: Sequence[str], fits: Sequence[FitStats], h: Sequence[float], skip: set[str]
) -> list[dict[str, Any]]:
    """Components whose output is a multiple ``c ≠ 1`` of the exact derivative.

    Reported when the finest level is explained by ``a ≈ c e`` and either c differs from 1 or
    c follows ``per_h · h^s`` with s ≠ 0 over the levels (then it is wrong even where c ≈ 1).
    """
    found: list[dict[str, Any]] = []
    for k, name in enumerate(names):
        if name in skip or not fits[-1].residual(k) <= TOLERANCES["fit"]:
            continue
        entry = _factor_entry(name, [f.factor(k) for f in fits], h)
        if abs(entry["factor"] - 1) <= TOLERANCES["factor"] and entry["scales_as"] in (None, "h^0"):
            continue
        same = [d for d in found if math.isclose(d["factor"], entry["factor"], rel_tol=1e-3)]
        if same:  # one diagnostic for all components sharing a factor (25 for x, y and z)
            same[0]["components"].append(name)
        else:
            found.append(entry)
    for d in found:
        d["message"] = _factor_message(d, h[-1])
    return found


def _factor_entry(name: str, factors: list[float], h: Sequence[float]) -> dict[str, Any]:
    """The factor on the finest level, its law ``c = per_h · h^s`` over the levels, the advice."""
    c, slope = factors[-1], fitted_order([abs(f) for f in factors], h)
    # a law holds level by level: every pair's slope near the same integer, not just the fit
    # (0.24, 0.76, 0.94 at h = 1/32, 1/64, 1/128 tends to 1 with a fitted slope -0.98); two
    # levels fit any law, so from two only an exact one counts (np.gradient(f) of a quadratic)
    pairs = pairwise_orders([abs(f) for f in factors], h)
    tol = TOLERANCES["scaling"] if len(pairs) >= 2 else EXACT_LAW
    settled = math.isfinite(slope) and all(abs(p - round(slope)) <= tol for p in [slope, *pairs])
    s = round(slope) if settled else None
    per = c / h[-1] if s == 1 else math.nan  # only a factor ∝ h is reported per h
    flipped = s == 0 and abs(c + 1) <= TOLERANCES["factor"]
    if flipped:
        advice = "negate the output, or verify it against -f (e.g. E = -∇V, not ∇V)"
    elif s == 1 and abs(per - 1) <= TOLERANCES["factor"]:
        advice = "pass the spacing to the scheme, e.g. np.gradient(f, h) or np.gradient(f, *h)"
    elif s == 1:
        advice = f"divide the output by {per:.6g}·h (the kernel's weight times the spacing)"
    else:
        advice = f"divide the output by {c:.6g}"
    return {
        "kind": "sign_flip" if flipped else "constant_factor",
        "components": [name],
        "factor": c,
        "factors": factors,
        "scales_as": None if s is None else f"h^{s}",
        "per_h": per if s == 1 else None,
        "advice": advice,
    }


def _factor_message(entry: dict[str, Any], h: float) -> str:
    c, who = entry["factor"], ", ".join(entry["components"])
    if entry["kind"] == "sign_flip":
        return f"the output for {who} ≈ {c:.4g} times the exact derivative: the sign is flipped"
    size = f"{abs(c):.4g} times too large" if abs(c) >= 1 else f"{1 / abs(c):.4g} times too small"
    text = f"the output for {who} ≈ {c:.4g} times the exact derivative on the finest grid: {size}"
    text += "" if c > 0 else " and of the wrong sign"
    if entry["per_h"] is not None:
        text += f"; the factor is {entry['per_h']:.4g}·h (h = {h:.4g}): h was never divided out"
    return text


def decisive(diagnostics: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Components a diagnostic proves wrong whatever their orders, with its message.

    A flipped sign, swapped components or axes, values half a cell off where a staggered
    scheme says they live, and a constant factor that follows a law
    ``c = per_h · h^s`` over the levels (s ≠ 0, or s = 0 with c ≠ 1): the output of a consistent
    scheme tends to the derivative, so its factor tends to 1 and follows no such law.  (A
    factor without a law, as an under-resolved field gives, decides nothing.)
    """
    out: dict[str, str] = {}
    for d in diagnostics:
        law = d["kind"] == "constant_factor" and d["scales_as"] is not None
        if law or d["kind"] in (
            "sign_flip",
            "swapped_components",
            "swapped_axes",
            "half_cell_shift",
        ):
            for name in d["components"]:
                out.setdefault(name, d["message"])
    return out


def degenerate_diagnostics(
    expr: sympy.Expr,
    symbols: tuple[sympy.Symbol, ...],
    order: float,
    faces: Sequence[list[FloatArray]],
    everywhere: list[FloatArray],
    limits: Limits | None = None,
) -> list[dict[str, Any]]:
    """Components whose boundary error term ``∂^(p+1)f/∂x_k^(p+1)`` vanishes on their faces.

    ``faces[k]`` holds open-grid coordinates of the two faces normal to axis k (finest level);
    ``everywhere`` those of a whole (coarse) grid, which gives the term's scale.
    """
    if order != int(order) or order < 1:
        return []
    found = []
    for k, var in enumerate(symbols):
        term = _boundary_term(expr, symbols, k, int(order), limits)
        if term is None:
            continue
        on_faces, scale = _finite_max(term(*faces[k])), _finite_max(term(*everywhere))
        if scale > 0 and on_faces <= TOLERANCES["degenerate"] * scale:
            d = f"∂^{order + 1:g}f/∂{var.name}^{order + 1:g}"
            found.append(
                {
                    "kind": "degenerate_field",
                    "component": var.name,
                    "region": "boundary",
                    "derivative": d,
                    "on_faces": on_faces,
                    "elsewhere": scale,
                    "message": f"the boundary error term C·h^{order:g}·{d} of component {var.name} "
                    f"vanishes on the {var.name} faces (max {on_faces:.2e} there, {scale:.2e} "
                    f"elsewhere), so an order-{order:g} boundary formula looks better than it is",
                    "advice": "use a field whose derivatives do not vanish on the boundary, e.g. "
                    "sin(x + 0.3) + x**3/7 or exp(x/2)*sin(y + 0.3)",
                }
            )
    return found


def _finite_max(values: FloatArray) -> float:
    """max|v| over the finite values (a pole on the probe grid must not set the scale)."""
    finite = np.abs(values[np.isfinite(values)])
    return float(finite.max()) if finite.size else 0.0


@functools.lru_cache(maxsize=64)
def _boundary_term(
    expr: sympy.Expr,
    symbols: tuple[sympy.Symbol, ...],
    k: int,
    order: int,
    limits: Limits | None = None,
) -> Compiled | None:
    """``∂^(order+1) expr / ∂x_k^(order+1)`` compiled (None when it is identically zero).

    Taken by :func:`symgrad.derive.derivative`, so that differentiating and compiling are priced
    against ``limits`` (default ``Limits()``) before the work (``LimitExceeded`` for a field too
    costly).
    """
    term = derivative(expr, symbols[k], order + 1, variables=symbols, limits=limits)
    return None if getattr(term.exprs, "is_zero", False) else term


def exactness_evidence(
    expr: sympy.Expr,
    symbols: tuple[sympy.Symbol, ...],
    k: int,
    order: float,
    probe: list[FloatArray],
    parts: Sequence[Index],
    limits: Limits | None = None,
) -> Evidence:
    """The error terms ``((q, S_q), (q + 1, S_(q+1)))`` of the module docstring's rule, or None.

    q is the highest order ``q <= ⌊order⌋`` whose term ``∂^(q+1)f/∂x_k^(q+1)`` is not
    identically zero, ``S_j`` the largest finite ``|∂^(j+1)f/∂x_k^(j+1)|`` over the ``parts`` of
    the ``probe`` grid (open-grid coordinates; 0 where identically zero); None when ``∂f/∂x_k``
    itself is identically zero.
    """
    shape = tuple(max(c.shape) for c in probe)

    def size(j: int) -> float | None:
        term = _boundary_term(expr, symbols, k, j, limits)
        if term is None:
            return None
        values = np.broadcast_to(term(*probe), shape)
        return max(_finite_max(values[p]) for p in parts)

    for q in range(max(math.floor(order), 0), -1, -1):
        leading = size(q)
        if leading is not None:
            return (q, leading), (q + 1, size(q + 1) or 0.0)
    return None
