"""Compiled functions on ``dask.array`` inputs: lazy, block by block.

A call of a :class:`~symgrad.derive.Compiled` with any dask array among its inputs returns a dask
array and computes nothing.  The inputs are broadcast together (NumPy's rules, chunks unified
by dask), and every block of the result is the same compiled NumPy code applied to the
matching blocks of the inputs, so a computed result equals the NumPy call on the whole arrays
bit for bit, while a grid larger than memory is evaluated one block at a time.  The result's
component axes (``Compiled.shape``) come first and are not chunked; the point axes keep the
inputs' chunks.

dask is optional (the ``dask`` extra); this module imports it only when a dask array is given,
which cannot happen without dask installed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

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

    given = [v if is_dask(v) else da.asarray(v) for v in inputs]  # type: ignore[no-untyped-call]
    arrays = da.broadcast_arrays(*given)
    template = arrays[0]
    meta = np.empty((0,) * (len(shape) + template.ndim), dtype=dtype)

    def block(*blocks: Any) -> Any:
        return np.asarray(evaluate(*blocks), dtype=dtype)

    return da.map_blocks(  # type: ignore[no-untyped-call]
        block,
        *arrays,
        new_axis=list(range(len(shape))) or None,
        chunks=(*((n,) for n in shape), *template.chunks),
        dtype=dtype,
        meta=meta,
    )
