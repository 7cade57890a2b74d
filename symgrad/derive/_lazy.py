"""Compiled functions on ``dask.array`` inputs: lazy, block by block.

A call of a :class:`~symgrad.derive.Compiled` with any dask array among its inputs returns a dask
array and computes nothing.  The inputs broadcast together (NumPy's rules, chunks unified by
dask), and every block of the result is the same compiled call applied to the matching blocks
of the inputs *as they are*: an open grid (``x[:, None]``, ``y[None, :]``) stays open in every
block, so each block takes the path the whole-array call takes (subexpressions on as few
points as they depend on), and a computed result equals the call on the whole arrays bit for
bit, with every evaluator, while a grid larger than memory is evaluated one block at a time.
(Broadcasting the inputs to full blocks first would take the full-array path, which
symengine's evaluator rounds differently in the last place.)  The result's component axes
(``Compiled.shape``) come first and are not chunked; the point axes keep the inputs' chunks.
Masked chunks (``dask.array.ma``, or a NumPy masked array among the inputs) give masked blocks,
masked where any input is, as the call on NumPy masked arrays does.

dask is optional (the ``dask`` extra); this module imports it, and NumPy, only when a dask
array is given, which cannot happen without dask installed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["is_dask", "lazy_call"]


def is_dask(value: object) -> bool:
    """Whether ``value`` is a ``dask.array.Array`` (checked without importing dask)."""
    return type(value).__module__.startswith("dask.array")


def lazy_call(
    evaluate: Callable[..., Any], inputs: Sequence[Any], shape: tuple[int, ...], dtype: Any
) -> Any:
    """``evaluate(*inputs)`` as a lazy dask array, one block at a time.

    Parameters
    ----------
    evaluate : callable
        The NumPy evaluation on unpacked inputs, in variable order, returning an array of shape
        ``(*shape, *broadcast_shape)``.
    inputs : sequence
        One input per variable: dask arrays, NumPy arrays or numbers.
    shape : tuple of int
        The component shape of the result (``()`` for a scalar function).
    dtype : dtype
        The result's floating type.
    """
    import dask.array as da  # noqa: PLC0415  (only reached with a dask array in hand)
    import numpy as np  # noqa: PLC0415  (is_dask, asked at every call, needs no NumPy)

    given = [v if is_dask(v) else da.asarray(v) for v in inputs]  # type: ignore[no-untyped-call]
    ndim = max(a.ndim for a in given)
    points = tuple(range(ndim))  # NumPy's broadcasting aligns the trailing axes
    components = tuple(range(ndim, ndim + len(shape)))
    pairs = [x for a in given for x in (a, points[ndim - a.ndim :])]
    meta = np.empty((0,) * (len(shape) + ndim), dtype=dtype)
    if any(isinstance(a._meta, np.ma.MaskedArray) for a in given):  # masked chunks: masked blocks
        meta = np.ma.MaskedArray(meta)

    def block(*blocks: Any) -> Any:
        return np.asanyarray(evaluate(*blocks)).astype(dtype, copy=False)  # a mask kept

    return da.blockwise(  # type: ignore[no-untyped-call]
        block,
        components + points,
        *pairs,
        new_axes=dict(zip(components, shape, strict=True)),
        dtype=dtype,
        meta=meta,
        concatenate=True,
    )
