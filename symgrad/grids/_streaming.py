"""Grid levels larger than memory: the field sampled lazily with dask, errors reduced by block.

With ``verify_grid(..., chunks=c)`` a level is never held whole.  The coordinates become dask
arrays of chunks of at most ``c`` points per axis (:func:`lazy_open_grid`), so the compiled
field and its exact gradient are lazy dask arrays evaluated block by block
(:mod:`symgrad.derive`); the scheme receives the lazy field (``numpy.gradient`` dispatches to
``dask.array.gradient``, which computes each block with a halo from its neighbours: the same
arithmetic as on the whole array, bit for bit).  The field, the exact gradient and the scheme's
output are then aligned on the field's chunks, and every block is reduced to a few numbers
(:func:`block_stats`): for each component and region the count, ``Σ|e|``, ``Σe²``, ``max|e|``
and ``Σ(e/m)²`` with m the block's ``max|e|``; the largest and smallest field values; the
largest exact derivatives (alone and times the cell widths, for the rounding floor and the
resolution); the inner products of the fit diagnostics over the interior; the first point
where the field or a derivative is not finite.

The blocks' numbers are combined in block order (:func:`combine`), so a result does not depend
on the scheduler.  Maxima and minima are those of the whole array exactly.  Sums differ from
NumPy's sums over the whole array only by rounding: each is a sum of n non-negative terms,
which any order of addition computes to within a relative ``(n - 1) u`` (u = 2^-53), so L1 and
L2 agree with the in-memory result to about ``n u`` (5e-13 for n = 65²).  When ``Σe²``
overflows or underflows, L2 comes from the scaled sums: ``L∞² Σ_blocks (m/L∞)² Σ(e/m)²``.

Memory: a block's working set is ``(2 + 3 d)`` float64 arrays of its points, at most
:data:`CHUNK_BYTES`; dask holds a few blocks per worker thread (and a halo of the scheme's
stencil), never the level.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from symgrad.grids._diagnostics import FitStats, dot, regions

__all__ = [
    "CHUNK_BYTES",
    "MAX_BLOCKS",
    "MAX_STREAM_POINTS",
    "MIN_CHUNK",
    "BlockStats",
    "Reduced",
    "block_count",
    "block_stats",
    "combine",
    "even_chunks",
    "lazy_open_grid",
    "reduce_blocks",
]

FloatArray = npt.NDArray[np.float64]
Index = tuple[slice, ...]
#: (count, Σ|e|, Σe², max|e|, Σ(e/max|e|)²) of one region of one component in one block.
Sums = tuple[int, float, float, float, float]

#: A block's working set, (2 + 3d) float64 arrays of its points, at most this many bytes.
CHUNK_BYTES = 1 << 26
#: Blocks of one level at most (each is a task of dask's graph).
MAX_BLOCKS = 100_000
#: Points of one streamed level at most (the in-memory cap is ``MAX_POINTS``).
MAX_STREAM_POINTS = 10**10
#: Fewest points per axis of a chunk: a scheme's stencil needs a halo from its neighbours.
MIN_CHUNK = 8


def even_chunks(n: int, chunk: int) -> tuple[int, ...]:
    """``n`` points in ``ceil(n / chunk)`` chunks of at most ``chunk``, differing by at most 1.

    An even split leaves no sliver (65 = 8·8 + 1 would end in a chunk of one point, narrower
    than a stencil's halo).

    Examples
    --------
    >>> even_chunks(65, 8)
    (8, 8, 7, 7, 7, 7, 7, 7, 7)
    """
    count = -(-n // chunk)
    size, extra = divmod(n, count)
    return (size + 1,) * extra + (size,) * (count - extra)


def block_count(size: int, chunks: Sequence[int]) -> int:
    """How many blocks a level of ``size`` points per axis has with these chunks."""
    return math.prod(-(-size // c) for c in chunks)


def lazy_open_grid(coords: Sequence[FloatArray], chunks: Sequence[int]) -> list[Any]:
    """The open grid (``x[:, None]``, ``y[None, :]``, ...) as dask arrays chunked per axis."""
    import dask.array as da  # noqa: PLC0415  (the dask extra, imported only when streaming)

    d = len(coords)
    out = []
    for k, (c, size) in enumerate(zip(coords, chunks, strict=True)):
        shape = [-1 if j == k else 1 for j in range(d)]
        split = [even_chunks(c.size, size) if j == k else (1,) for j in range(d)]
        out.append(da.from_array(c.reshape(shape), chunks=tuple(split)))  # type: ignore[no-untyped-call]
    return out


@dataclass(frozen=True)
class BlockStats:
    """One block's numbers (module docstring); ``norms[r][k]`` is None where region r misses it."""

    first_bad: tuple[tuple[int, ...] | None, ...]  # the field, then each exact derivative
    low: float
    high: float
    exact_max: tuple[float, ...]  # max |∂_k f|
    exact_range: tuple[tuple[float, float], ...]  # (min, max) of ∂_k f
    steps: tuple[float, ...]  # max |∂_k f| · cell width along k
    aa: tuple[float, ...]
    ee: tuple[float, ...]
    ae: tuple[tuple[float, ...], ...]
    norms: tuple[tuple[Sums | None, ...], ...]


@dataclass(frozen=True)
class Reduced:
    """A level's combined numbers; ``norms[r][k]`` as in ``_Measured.regions`` (None: no region)."""

    first_bad: tuple[tuple[int, ...] | None, ...]
    low: float
    high: float
    exact_max: tuple[float, ...]
    exact_range: tuple[tuple[float, float], ...]
    steps: tuple[float, ...]
    fits: FitStats
    norms: tuple[list[tuple[float, float, float] | None], ...]


def reduce_blocks(
    values: Any, approx: Sequence[Any], width: int, widths: Sequence[FloatArray]
) -> Reduced:
    """Reduce a lazy level block by block: ``values`` is (f, ∂f) as ``(1 + d, *shape)``.

    ``approx`` are the scheme's d lazy outputs, ``widths`` the 1-D cell widths per axis.  The
    outputs are aligned on the field's chunks, each block becomes a :class:`BlockStats` on the
    scheduler in use (a ``dask.distributed`` client's workers when one is active), and only
    those come back.
    """
    import dask  # noqa: PLC0415
    import dask.array as da  # noqa: PLC0415

    shape, space = tuple(values.shape[1:]), tuple(values.chunks[1:])
    outputs = [a.rechunk(space)[None] for a in approx]
    stacked = da.concatenate([values, *outputs], axis=0).rechunk({0: -1})  # type: ignore[no-untyped-call]
    starts = [np.cumsum((0, *c[:-1])) for c in space]
    tasks = []
    for index, block in np.ndenumerate(stacked.to_delayed()[0]):
        at = tuple(int(s[i]) for s, i in zip(starts, index, strict=True))
        near = tuple(w[o : o + c[i]] for w, o, c, i in zip(widths, at, space, index, strict=True))
        tasks.append(dask.delayed(block_stats)(block, at, shape, width, near))  # type: ignore[attr-defined]
    return combine(dask.compute(*tasks), len(shape))  # type: ignore[attr-defined, no-untyped-call]


def block_stats(
    block: FloatArray,
    start: tuple[int, ...],
    shape: tuple[int, ...],
    width: int,
    widths: Sequence[FloatArray],
) -> BlockStats:
    """The numbers of one block ``(1 + 2d, *block_shape)``: f, ∂f, the scheme's output."""
    d = len(shape)
    field, exact, approx = block[0], block[1 : 1 + d], block[1 + d :]
    inner = _local(regions(shape, width, 0)[0], start, field.shape)
    a = [x[inner] if inner else x[:0] for x in approx]
    e = [x[inner] if inner else x[:0] for x in exact]
    cells = [w.reshape([-1 if j == k else 1 for j in range(d)]) for k, w in enumerate(widths)]
    rows: list[list[Sums | None]] = [[], [], []]
    for k in range(d):
        error = np.abs(approx[k] - exact[k])
        core, own, transverse = regions(shape, width, k)
        for row, parts in zip(rows, ([core], own, transverse), strict=True):
            row.append(_sums(error, parts, start) if parts else None)
    return BlockStats(
        first_bad=tuple(_first_bad(x, start) for x in (field, *exact)),
        low=float(np.nanmin(field)),
        high=float(np.nanmax(field)),
        exact_max=tuple(_absmax(x) for x in exact),
        exact_range=tuple((float(np.nanmin(x)), float(np.nanmax(x))) for x in exact),
        steps=tuple(_absmax(x * w) for x, w in zip(exact, cells, strict=True)),
        aa=tuple(dot(x, x) for x in a),
        ee=tuple(dot(x, x) for x in e),
        ae=tuple(tuple(dot(x, y) for y in e) for x in a),
        norms=tuple(tuple(row) for row in rows),
    )


def combine(blocks: Sequence[BlockStats], d: int) -> Reduced:
    """The level's numbers from its blocks', added in block order (module docstring)."""
    bad = tuple(
        min((found for b in blocks if (found := b.first_bad[i]) is not None), default=None)
        for i in range(1 + d)
    )

    def total(values: Sequence[float]) -> float:
        out = 0.0
        for v in values:
            out += v
        return out

    fits = FitStats(
        tuple(total([b.aa[i] for b in blocks]) for i in range(d)),
        tuple(total([b.ee[i] for b in blocks]) for i in range(d)),
        tuple(tuple(total([b.ae[i][j] for b in blocks]) for j in range(d)) for i in range(d)),
    )
    norms = tuple(
        [_norms([b.norms[r][k] for b in blocks], total) for k in range(d)] for r in range(3)
    )
    return Reduced(
        first_bad=bad,
        low=min(b.low for b in blocks),
        high=max(b.high for b in blocks),
        exact_max=tuple(max(b.exact_max[k] for b in blocks) for k in range(d)),
        exact_range=tuple(
            (min(b.exact_range[k][0] for b in blocks), max(b.exact_range[k][1] for b in blocks))
            for k in range(d)
        ),
        steps=tuple(max(b.steps[k] for b in blocks) for k in range(d)),
        fits=fits,
        norms=norms,
    )


def _norms(parts: Sequence[Sums | None], total: Any) -> tuple[float, float, float] | None:
    """(L1, L2, L∞) of a region from its blocks' sums; None for a region with no points."""
    found = [p for p in parts if p is not None]
    count = sum(p[0] for p in found)
    if not count:
        return None
    largest = _max([p[3] for p in found])
    squares = total([p[2] for p in found])
    mean = total([p[1] for p in found]) / count
    if math.isfinite(largest) and largest > 0 and not 0 < squares < math.inf:
        # Σe² overflowed or underflowed: the blocks' sums of (e/m)², rescaled to L∞
        scaled = total([(p[3] / largest) ** 2 * p[4] for p in found if p[3] > 0])
        return mean, largest * math.sqrt(scaled / count), largest
    return mean, math.sqrt(squares / count), largest


def _sums(error: FloatArray, parts: Sequence[Index], start: tuple[int, ...]) -> Sums | None:
    """The sums of ``error`` over the block's share of the disjoint global ``parts``."""
    views = [error[p] for p in (_local(q, start, error.shape) for q in parts) if p]
    views = [v for v in views if v.size]
    if not views:
        return None
    largest = _max([float(v.max()) for v in views])
    scaled = 0.0
    if math.isfinite(largest) and largest > 0:
        scaled = sum(dot(v / largest, v / largest) for v in views)
    count = sum(v.size for v in views)
    return count, sum(float(v.sum()) for v in views), sum(dot(v, v) for v in views), largest, scaled


def _local(part: Index, start: tuple[int, ...], block: tuple[int, ...]) -> Index | None:
    """The global slab ``part`` in the block's own indices; None when they do not meet."""
    out = []
    for s, o, n in zip(part, start, block, strict=True):
        lo, hi, _ = s.indices(o + n + (1 << 62))  # global bounds (None means the axis' end)
        lo, hi = max(lo, o) - o, min(hi, o + n) - o
        if lo >= hi:
            return None
        out.append(slice(lo, hi))
    return tuple(out)


def _first_bad(values: FloatArray, start: tuple[int, ...]) -> tuple[int, ...] | None:
    """The global index of the first non-finite value in C order; None when all are finite."""
    bad = np.argwhere(~np.isfinite(values))
    return None if not bad.size else tuple(int(i + o) for i, o in zip(bad[0], start, strict=True))


def _absmax(a: FloatArray) -> float:
    return max(float(a.max()), -float(a.min()))


def _max(values: Sequence[float]) -> float:
    """The largest value, NaN if any is NaN (Python's max would depend on the order)."""
    return math.nan if any(math.isnan(v) for v in values) else max(values)
