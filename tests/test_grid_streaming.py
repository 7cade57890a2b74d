"""verify_grid(chunks=): levels streamed with dask, never held whole, equal to the in-memory run.

The reference is the in-memory verify_grid on the same grids (its norms and orders are checked
against closed forms in test_grids.py).  Streaming changes only the order in which the sums
behind L1 and L2 are added: a sum of n non-negative float64 terms is computed to within a
relative (n - 1)·2^-53 in any order, so L1 and L2 may differ from the in-memory ones by a
relative 2·n·2^-53 (the two sums' errors together, n = 65² here: 9.4e-13), and the orders,
differences of their logarithms divided by ln 2 or more, by 2·that.  Everything else — L∞
(a maximum), the floors, the statuses, the reasons, the diagnostics — must be equal exactly.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad import Status, verify_grid
from symgrad.errors import ConfigError, InputError, LimitExceeded

da = pytest.importorskip("dask.array")
callbacks = pytest.importorskip("dask.callbacks")

FIELD = ("sin(x + 0.3)*exp(y/2)", "x=-1:1,y=-1:1", (17, 33, 65))
#: 2 n 2^-53 for the n = 65² points of the finest level (module docstring).
SUMS = 2 * 65**2 * 2.0**-53


def _equal_up_to_sums(memory: Any, streamed: Any, path: str = "") -> int:
    """Assert the module docstring's rule on two to_dict() trees; count the inexact floats."""
    if isinstance(memory, dict):
        assert memory.keys() == streamed.keys(), path
        return sum(_equal_up_to_sums(memory[k], streamed[k], f"{path}/{k}") for k in memory)
    if isinstance(memory, list | tuple):
        assert len(memory) == len(streamed), path
        pairs = zip(memory, streamed, strict=True)
        return sum(_equal_up_to_sums(a, b, f"{path}[{i}]") for i, (a, b) in enumerate(pairs))
    if isinstance(memory, float) and memory != streamed and "Linf" not in path:
        scale = 2 if "order" in path else 1
        assert math.isclose(memory, streamed, rel_tol=scale * SUMS, abs_tol=0), path
        return 1
    nans = isinstance(memory, float) and math.isnan(memory) and math.isnan(streamed)
    assert memory == streamed or nans, path
    return 0


class _LargestBlock(callbacks.Callback):  # type: ignore[misc, name-defined]
    """Records the size of every NumPy array dask's tasks compute."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        if isinstance(result, np.ndarray):
            self.sizes.append(result.size)


def test_streamed_levels_equal_the_in_memory_run_and_stay_in_blocks() -> None:
    """65 x 65 in 8 x 8 chunks (81 blocks), 3 levels: the in-memory result up to the sums'
    rounding, and no array of dask's bigger than one block of the 5 stacked fields."""
    memory = verify_grid(*FIELD, max_points=0)
    seen: list[type] = []

    def scheme(field: Any, spacing: tuple[float, ...]) -> Any:
        seen.append(type(field))
        return np.gradient(field, *spacing)  # dispatches to dask.array.gradient

    with _LargestBlock() as watch:
        streamed = verify_grid(*FIELD, scheme, expect_order=(2, 1), max_points=0, chunks=8)
        default = verify_grid(*FIELD, max_points=0, chunks=8)
    assert seen == [da.Array] * 3
    inexact = _equal_up_to_sums(memory.to_dict(), default.to_dict())
    assert inexact > 0  # the rule was exercised: some sums were added in another order
    assert streamed.status == memory.status
    assert [c.to_dict() for c in streamed.components] == [c.to_dict() for c in default.components]
    assert max(watch.sizes) <= 5 * 8 * 8 < 65 * 65  # (f, ∂f, scheme) x one 8 x 8 block
    assert len(watch.sizes) > 81


@pytest.mark.parametrize(
    ("expr", "domain", "sizes", "kwargs"),
    [
        ("exp(2*x)*cos(1.5*y)", "x=0:1,y=0:1", (17, 33), {"scheme": "numpy:edge_order=2"}),
        ("2*x**2 + 3*y**2", "x=-1:1,y=-1:1", (17, 33), {"scheme": "numpy:edge_order=2"}),
        ("1e200*sin(x + 0.3)", "x=-1:1", (17, 33, 65), {}),  # e² overflows: the scaled L2
        ("sin(x)*cos(y)*exp(z/3)", "x=0:1,y=0:1,z=0:1", (9, 17), {}),
        ("cos(y)*sin(x)", "x=0:1,y=0:1", (17, 33), {"variables": "y,x"}),
    ],
)
def test_more_fields_and_dimensions(
    expr: str, domain: str, sizes: tuple[int, ...], kwargs: dict[str, Any]
) -> None:
    """1-D to 3-D, an exact scheme, overflowing squares, a reordered domain."""
    memory = verify_grid(expr, domain, sizes, max_points=0, **kwargs)
    streamed = verify_grid(expr, domain, sizes, max_points=0, chunks=8, **kwargs)
    _equal_up_to_sums(memory.to_dict(), streamed.to_dict())


def test_non_uniform_coordinates_and_refinement_stream_too() -> None:
    """coordinates(N) levels, and a refinement that adds a streamed level."""

    def graded(n: int) -> list[np.ndarray]:
        return [np.linspace(0, 1, n) ** 1.5, np.linspace(-1, 1, n)]

    budget = 9**2 + 17**2 + 33**2  # one level added at most
    memory = verify_grid(
        "exp(x)*cos(y)", "x=0:1,y=-1:1", (9, 17), coordinates=graded, max_points=budget
    )
    streamed = verify_grid(
        "exp(x)*cos(y)",
        "x=0:1,y=-1:1",
        (9, 17),
        coordinates=graded,
        chunks=(8, 16),
        max_points=budget,
    )
    assert len(memory.sizes) > 2  # refinement added levels
    _equal_up_to_sums(memory.to_dict(), streamed.to_dict())


def test_a_swapped_scheme_is_diagnosed_as_in_memory() -> None:
    """The fit diagnostics (cross inner products) come from the blocks as well."""

    def swapped(field: Any, spacing: tuple[float, ...]) -> Any:
        gx, gy = np.gradient(field, *spacing)
        return [gy, gx]

    field = ("sin(x)*exp(2*y)", "x=0:1,y=0:1", (17, 33))
    memory = verify_grid(*field, swapped, max_points=0)
    streamed = verify_grid(*field, swapped, max_points=0, chunks=8)
    assert memory.status is Status.FAIL
    assert [d["kind"] for d in memory.diagnostics] == ["swapped_components"]
    _equal_up_to_sums(memory.to_dict(), streamed.to_dict())


def test_streaming_errors_and_caps_come_before_the_work() -> None:
    """Bad chunks, caps and a pole: the error, and the scheme never called where it says so."""
    calls: list[int] = []

    def counted(field: Any, spacing: tuple[float, ...]) -> Any:
        calls.append(1)
        return np.gradient(field, *spacing, edge_order=2)

    for chunks in (4, (8, 8, 8), "8", 8.0, True):
        with pytest.raises(ConfigError, match="chunks: give points per axis"):
            verify_grid(*FIELD, counted, chunks=chunks)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="exact='mp'"):
        verify_grid(*FIELD, counted, exact="mp", chunks=8)
    with pytest.raises(LimitExceeded) as big:
        verify_grid(*FIELD, counted, chunks=4096)
    assert (big.value.limit, big.value.allowed) == ("chunk_bytes", 1 << 26)
    with pytest.raises(LimitExceeded) as many:
        verify_grid("x*y", "x=0:1,y=0:1", (17, 3201), counted, chunks=8)
    assert many.value.limit == "grid_blocks"
    assert str(many.value).endswith("use fewer points per axis or larger chunks")
    assert str(big.value).endswith("use smaller chunks")
    assert calls == []
    with pytest.raises(ConfigError) as memory:
        verify_grid("1/x", "x=-1:1", (17, 33), counted)
    with pytest.raises(ConfigError) as streamed:
        verify_grid("1/x", "x=-1:1", (17, 33), counted, chunks=8)
    assert str(streamed.value) == str(memory.value)
    assert "x=0 (N = 17)" in str(streamed.value)


def test_a_scheme_that_materialises_the_field_is_refused() -> None:
    """NumPy arrays back from a dask field: the whole level was computed in memory."""

    def eager(field: Any, spacing: tuple[float, ...]) -> Any:
        return np.gradient(np.asarray(field), *spacing)

    with pytest.raises(InputError, match="returned ndarray for a dask field"):
        verify_grid(*FIELD, eager, chunks=8)


# ------------------------------------------------------------------------- red team
#: A planted error, applied to numpy.gradient's correct output (g_x, g_y) with spacing h.
PLANTED = ("none", "factor", "no_spacing", "swapped", "forward")


def _planted(kind: str, factor: float) -> Any:
    """numpy.gradient (edge_order=2, so every region expects order 2), with ``kind`` planted."""

    def scheme(field: Any, spacing: tuple[float, ...]) -> Any:
        gx, gy = np.gradient(field, *spacing, edge_order=2)
        if kind == "factor":
            return [gx * factor, gy]
        if kind == "no_spacing":
            return np.gradient(field, edge_order=2)
        if kind == "swapped":
            return [gy, gx]
        if kind == "forward":  # first order everywhere, claimed second
            forward = (field[1:, :] - field[:-1, :]) / spacing[0]
            return [np.concatenate([forward, forward[-1:, :]], axis=0), gy]
        return [gx, gy]

    return scheme


def _check_streamed_verdict(
    amp: float, wave: float, shift: float, kind: str, factor: float
) -> None:
    """The streamed verdict is the in-memory one; a planted error fails (a 3 % factor may be
    inconclusive on these four levels, never a pass), a correct scheme never fails."""
    field = (f"{amp}*sin({wave}*x + {shift})*exp(y/2)", "x=-1:1,y=-1:1", (9, 17, 33, 65))
    memory = verify_grid(*field, _planted(kind, factor), max_points=0)
    streamed = verify_grid(*field, _planted(kind, factor), max_points=0, chunks=16)
    assert (streamed.status, streamed.reason) == (memory.status, memory.reason)
    if kind == "none":
        assert streamed.status is not Status.FAIL, streamed.reason
    elif kind == "factor" and abs(factor - 1) < 0.1:  # may still look like drifting orders
        assert streamed.status in (Status.FAIL, Status.INCONCLUSIVE), streamed.reason
    else:
        assert streamed.status is Status.FAIL, streamed.reason


@pytest.mark.parametrize("examples", [3, pytest.param(60, marks=pytest.mark.slow)])
def test_streamed_verdicts_do_not_lie(examples: int) -> None:
    """Hypothesis draws fields and planted errors (3 by default, 60 with -m slow)."""

    @given(
        st.sampled_from([0.5, 1.0, 3.0, 1e3]),
        st.sampled_from([0.5, 1.0, 1.7]),
        st.sampled_from([0.0, 0.3, 1.1]),
        st.sampled_from(PLANTED),
        st.sampled_from([1.03, 1.2, 0.5, -1.0]),
    )
    @settings(max_examples=examples, deadline=None, derandomize=True)
    def drawn(amp: float, wave: float, shift: float, kind: str, factor: float) -> None:
        _check_streamed_verdict(amp, wave, shift, kind, factor)

    drawn()
