"""check_gradient judges each entry in the floating-point format it was returned in.

The oracle is the closed-form gradient written out by hand below; the planted errors are
relative factors, so which entries must fail is known without symgrad.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad

F = "sin(x)*y + exp(y)*x"


def dfdx(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.cos(x) * y + np.exp(y)


def dfdy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.sin(x) + np.exp(y) * x


def test_a_float64_entry_beside_a_float32_one_is_held_to_float64() -> None:
    def user(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        return [dfdx(x, y).astype(np.float32), dfdy(x, y) * (1 + 1e-6)]

    r = symgrad.check_gradient(user, F)
    assert r.status.value == "fail"
    assert r.reason.startswith("d/dy is wrong")
    assert "float64 and float32" in r.reason


def test_the_same_error_is_within_float32_when_the_entry_is_float32() -> None:
    def user(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        return [dfdx(x, y).astype(np.float32), (dfdy(x, y) * (1 + 1e-7)).astype(np.float32)]

    r = symgrad.check_gradient(user, F)
    assert r.status.value == "pass"
    assert r.precision == "float32"


def test_correct_mixed_formats_pass_and_a_wrong_float32_entry_fails() -> None:
    def right(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        return [dfdx(x, y).astype(np.float32), dfdy(x, y)]

    def wrong(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        return [(dfdx(x, y) * (1 + 1e-3)).astype(np.float32), dfdy(x, y)]

    assert symgrad.check_gradient(right, F).status.value == "pass"
    r = symgrad.check_gradient(wrong, F)
    assert r.status.value == "fail"
    assert r.reason.startswith("d/dx is wrong")


def test_a_python_number_in_a_float32_list_counts_as_float32() -> None:
    def user(x: np.ndarray, y: np.ndarray) -> list[object]:
        return [np.cos(x).astype(np.float32), 2.0]

    r = symgrad.check_gradient(user, "sin(x) + 2*y")
    assert (r.status.value, r.precision) == ("pass", "float32")


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    factor=st.sampled_from([1e-4, 1e-5, 1e-6, -1e-6, 3e-6]),
    first=st.sampled_from([np.float16, np.float32, np.float64]),
)
def test_a_planted_float64_error_fails_whatever_the_other_entry_is(
    factor: float, first: type
) -> None:
    def user(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        return [dfdx(x, y).astype(first), dfdy(x, y) * (1 + factor)]

    r = symgrad.check_gradient(user, F, n_points=40)
    assert r.status.value == "fail"
    assert r.reason.startswith("d/dy is wrong")


@pytest.mark.parametrize("first", [np.float32])
def test_one_array_of_a_coarse_format_still_judges_every_entry_in_it(first: type) -> None:
    def user(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.stack([dfdx(x, y), dfdy(x, y)]).astype(first)

    r = symgrad.check_gradient(user, F, n_points=40)
    assert (r.status.value, r.precision) == ("pass", np.dtype(first).name)
