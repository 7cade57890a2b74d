"""Compiled functions on dask arrays stay lazy and compute exactly what NumPy computes.

The reference is the hand-derived gradient of x²·y, (2xy, x²), evaluated by NumPy on the whole
arrays, and the compiled NumPy call itself on the whole arrays (blocks must not change a bit).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import symgrad

da = pytest.importorskip("dask.array")

X = np.linspace(-1.0, 1.0, 50)
Y = np.linspace(0.0, 2.0, 40)[:, None]


def test_gradient_of_dask_arrays_is_lazy_and_exact() -> None:
    """Many blocks, broadcast inputs: a dask array whose value is the hand-derived gradient."""
    g = symgrad.gradient("x**2*y")
    x, y = da.from_array(X, chunks=7), da.from_array(Y, chunks=(9, 1))
    result = g(x, y)
    assert isinstance(result, da.Array)
    assert result.shape == (2, 40, 50)
    assert result.numblocks == (1, 5, 8)
    computed = result.compute()
    assert np.array_equal(computed, g(X, Y))
    np.testing.assert_allclose(computed[0], 2 * X * Y, rtol=1e-15, atol=0)
    np.testing.assert_allclose(computed[1], np.broadcast_to(X**2, (40, 50)), rtol=0, atol=0)


def test_nothing_is_computed_until_asked() -> None:
    """Building the result runs no block: an input whose blocks raise only fails at compute."""

    def explode(block: np.ndarray) -> np.ndarray:
        msg = "a block was computed"
        raise RuntimeError(msg)

    lazy_x = da.from_array(X, chunks=10).map_blocks(explode, dtype=float)
    result = symgrad.function("sin(x)")(lazy_x)
    assert isinstance(result, da.Array)
    with pytest.raises(RuntimeError, match="a block was computed"):
        result.compute()


def test_packed_and_mixed_inputs() -> None:
    """A packed dask array (rows per variable) and a dask array beside a NumPy scalar."""
    h = symgrad.hessian("x**3*y**2")
    p = da.from_array(np.stack([X, X + 1.0]), chunks=(2, 16))
    lazy: Any = h(p)
    packed = lazy.compute()
    x, y = X, X + 1.0
    expected = np.array([[6 * x * y**2, 6 * x**2 * y], [6 * x**2 * y, 2 * x**3]])
    np.testing.assert_allclose(packed, expected, rtol=1e-14, atol=1e-14)
    product: Any = symgrad.function("x*y")(da.from_array(X, chunks=8), 2.0)
    mixed = product.compute()
    assert np.array_equal(mixed, 2.0 * X)


@pytest.mark.parametrize("evaluator", ["auto", "numpy", "numexpr", "symengine"])
def test_open_grid_blocks_equal_the_whole_open_grid_call(evaluator: str) -> None:
    """Open-grid inputs stay open in every block, so each block takes the whole call's path.

    Broadcast to full blocks, a function would take its full-array evaluator (symengine's
    machine code rounds some values an ulp away from NumPy's): the blocks must not.
    """
    if evaluator in ("numexpr", "symengine"):
        pytest.importorskip(evaluator)
    f = symgrad.gradient("sin(x + 0.3)*exp(y/2)*cos(z)").using(evaluator)
    x, y, z = np.linspace(0, 1, 17), np.linspace(-1, 1, 19), np.linspace(0, 2, 23)
    grid = (x[:, None, None], y[None, :, None], z[None, None, :])
    chunks = ((6, 6, 5), (1,), (1,)), ((1,), (10, 9), (1,)), ((1,), (1,), (8, 8, 7))
    lazy: Any = f(*(da.from_array(g, chunks=c) for g, c in zip(grid, chunks, strict=True)))
    assert lazy.numblocks == (1, 3, 2, 3)
    assert np.array_equal(lazy.compute(), f(*grid))
