"""KernelScheme (Sobel, Scharr and user smoothings) against kernels written out by hand.

Oracles: the 3x3(x3) filter applied here point by point with explicit offsets (every smoothing
weight as written, edge padding), and the closed-form leading error of the normalized response,
``f_x + (c - a) h f_xy/(a + b + c) + O(h²)`` for the field ``sin(x + 0.3) exp(y/2)``.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad import Status, verify_grid
from symgrad.errors import InputError
from symgrad.grids import KernelScheme, scharr_scheme, sobel_scheme

Array = Any


def _by_hand(field: Array, smooth: tuple[float, ...], spacing: float, axis: int) -> Array:
    """Σ over the 3^d offsets of w_along(o_axis) Π_other w_across(o_k) f(x + o h), edge-padded,
    divided by 2h s^(d-1): each point written out, no slicing shared with the scheme."""
    d = field.ndim
    padded = np.pad(field, 1, mode="edge")
    total = sum(smooth)
    out = np.zeros_like(field)
    for index in itertools.product(*(range(n) for n in field.shape)):
        value = 0.0
        for offset in itertools.product((-1, 0, 1), repeat=d):
            weight = float(offset[axis])  # [-1, 0, 1] along the axis
            for k in range(d):
                if k != axis:
                    weight *= smooth[offset[k] + 1]
            value += weight * padded[tuple(i + 1 + o for i, o in zip(index, offset, strict=True))]
        out[index] = value / (2 * spacing * total ** (d - 1))
    return out


def _field(n: int, d: int = 2) -> tuple[Array, float]:
    x = np.linspace(-1.0, 1.0, n)
    grids = np.meshgrid(*[x] * d, indexing="ij")
    return np.sin(grids[0] + 0.3) * np.exp(grids[1] / 2) + (grids[2] ** 2 if d == 3 else 0), x[
        1
    ] - x[0]


@pytest.mark.parametrize(
    "smooth", [(1.0, 2.0, 2.0), (0.0, 1.0, 3.0), (3.0, 10.0, 3.0), (-1.0, 4.0, 2.0)]
)
@pytest.mark.parametrize("d", [2, 3])
def test_every_smoothing_weight_is_applied_as_written(
    smooth: tuple[float, float, float], d: int
) -> None:
    field, h = _field(7, d)
    got = KernelScheme("mine", smooth, True)(field, (h,) * d)
    for axis in range(d):
        assert np.allclose(got[axis], _by_hand(field, smooth, h, axis), rtol=1e-12, atol=1e-13)


def test_the_raw_response_is_the_unscaled_kernel() -> None:
    field, h = _field(6)
    raw = KernelScheme("mine", (1.0, 2.0, 4.0), False)(field, (h, h))[0]
    assert np.allclose(raw, _by_hand(field, (1.0, 2.0, 4.0), h, 0) * 2 * h * 7, rtol=1e-12)


@pytest.mark.parametrize(
    "smooth",
    [(1.0, -2.0, 1.0), (1.0, 0.0, -1.0), (0.0, 0.0, 0.0), (0.5, -1.5, 1.0)],
)
def test_weights_that_sum_to_zero_are_refused_when_the_scheme_is_built(
    smooth: tuple[float, float, float],
) -> None:
    with pytest.raises(InputError, match="sum to zero"):
        KernelScheme("flat", smooth, True)


@pytest.mark.parametrize(
    "smooth",
    [(1.0, 2.0), (1.0, 2.0, 1.0, 0.0), (1.0, float("nan"), 1.0), (1.0, float("inf"), 1.0),
     (True, 2.0, 1.0), ("1", 2.0, 1.0), "121"],
)  # fmt: skip
def test_weights_that_are_not_three_finite_reals_are_refused(smooth: Any) -> None:
    with pytest.raises(InputError, match="three finite real weights"):
        KernelScheme("bad", smooth, True)


def test_sobel_and_scharr_are_unchanged() -> None:
    assert sobel_scheme().smooth == (1.0, 2.0, 1.0)
    assert scharr_scheme(normalize=False).smooth == (3.0, 10.0, 3.0)


def test_an_asymmetric_smoothing_is_first_order_with_its_closed_form_error() -> None:
    """(1, 2, 2): the x response is f_x + (2 - 1) h f_xy/5 + O(h²), f_xy = cos(x + 0.3) e^(y/2)/2;
    claimed order 2 it fails, claimed order 1 it passes."""
    sizes = (17, 33, 65, 129)
    skewed = KernelScheme("skewed", (1.0, 2.0, 2.0), True)
    field = "sin(x + 0.3)*exp(y/2)"
    r1 = verify_grid(field, "x=-1:1,y=-1:1", sizes, skewed, expect_order=1)
    assert r1.components[0].interior.status is Status.PASS
    r2 = verify_grid(field, "x=-1:1,y=-1:1", sizes, skewed, expect_order=2)
    assert r2.components[0].interior.status is Status.FAIL
    x = np.linspace(-1.0, 1.0, sizes[-1])
    xx, yy = np.meshgrid(x, x, indexing="ij")
    h = x[1] - x[0]
    lead = np.max(np.abs(h / 5 * np.cos(xx + 0.3) * np.exp(yy / 2) / 2)[1:-1, 1:-1])
    assert r1.components[0].interior.errors["Linf"][-1] == pytest.approx(lead, rel=0.05)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    a=st.floats(min_value=0.0, max_value=10.0),
    b=st.floats(min_value=0.5, max_value=10.0),
    c=st.floats(min_value=0.0, max_value=10.0),
)
def test_property_the_response_is_the_kernel_written_out(a: float, b: float, c: float) -> None:
    """Any nonnegative smoothing with b > 0: the response equals the hand kernel, and a planted
    swap of the outer weights (a, b, c) -> (c, b, a) is seen whenever a != c."""
    field, h = _field(6)
    got = KernelScheme("mine", (a, b, c), True)(field, (h, h))[0]
    mine = _by_hand(field, (a, b, c), h, 0)
    assert np.allclose(got, mine, rtol=1e-11, atol=1e-12)
    if abs(a - c) > 1e-3 * (a + b + c):
        assert not np.allclose(got, _by_hand(field, (c, b, a), h, 0), rtol=1e-9, atol=1e-12)
