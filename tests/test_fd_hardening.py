"""finite_difference under hostile options: a SymgradError with one sentence, or a result.

Steps of every kind (zero, negative, NaN, infinite, text, wrong types), precisions out of range,
empty or malformed points, and float64 overflow.  Nothing else may escape (no OverflowError,
ValueError, ZeroDivisionError, and no RuntimeWarning, which the suite turns into errors), and a
float64 value that overflowed is never ``ok``.  References: exp(1000) = 1.97e434 and
exp(709)·709 = 5.8e310 lie beyond float64's largest number, 1.8e308; 1/x has a pole at 0.
"""

from __future__ import annotations

import math
from typing import Any

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad.errors import ConfigError, InputError, LimitExceeded, ParseError, SymgradError
from symgrad.fd import FDResult, finite_difference, finite_difference_gradient
from symgrad.results import PointStatus

METHODS = ("mp", "float64", "complex", "mp-complex", "auto")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "step",
    [0, 0.0, -1e-3, "-1e-3", "0", math.nan, math.inf, -math.inf, True, [1e-3], "1/0"],
    ids=repr,
)
def test_a_bad_step_is_one_sentence(method: str, step: Any) -> None:
    """Zero, negative, non-finite or non-numeric steps are refused before any evaluation."""
    with pytest.raises((ConfigError, ParseError)) as caught:
        finite_difference("sin(x)", "x=1", method=method, step=step)
    assert "step" in str(caught.value) or isinstance(caught.value, ParseError)
    assert "\n" not in str(caught.value) or isinstance(caught.value, ParseError)


def test_a_negative_step_names_the_scheme_that_sets_the_side() -> None:
    """The step is a width; backward:P is how to difference on the other side."""
    with pytest.raises(ConfigError, match="scheme='backward:2'"):
        finite_difference("sin(x)", "x=1", step=-1e-3)


def test_a_step_below_float64_is_refused_in_float64_only() -> None:
    """An mpf 1e-330 is a positive number, but rounds to 0 in float64."""
    tiny = mpmath.mpf("1e-330")
    with pytest.raises(ConfigError, match="not a positive float64"):
        finite_difference("sin(x)", {"x": 1.0}, method="float64", step=tiny)
    r = finite_difference("x**2", "x=1", method="mp", step="1e-30", dps=20)
    assert r.status is PointStatus.OK
    assert abs(r.value - 2) <= 1e-19  # central:2 on x² is exact: D(h) = 2


@pytest.mark.parametrize("dps", [0, 14, 1001, 10**9, -5])
@pytest.mark.parametrize("method", METHODS)
def test_dps_out_of_range_is_refused_for_every_method(dps: int, method: str) -> None:
    with pytest.raises(LimitExceeded, match="dps must be between 15 and 1000"):
        finite_difference("sin(x)", "x=1", method=method, dps=dps)


@pytest.mark.parametrize("dps", [2.5, "50", None])
def test_dps_of_the_wrong_type_is_refused(dps: Any) -> None:
    with pytest.raises(ConfigError, match="dps must be an integer"):
        finite_difference("sin(x)", "x=1", dps=dps)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("at", ["", {}, 5, [1.0, 2.0], {"y": 1.0}, "x=", "y=1"])
def test_an_empty_or_malformed_point_is_refused(method: str, at: Any) -> None:
    with pytest.raises(SymgradError):
        finite_difference("sin(x)", at, method=method)


def test_arrays_that_do_not_broadcast_are_an_input_error() -> None:
    with pytest.raises(InputError, match="do not broadcast together"):
        finite_difference("x*y", {"x": np.ones(3), "y": np.ones(4)}, "x", method="float64")


def test_error_control_must_be_a_flag() -> None:
    with pytest.raises(ConfigError, match="error_control must be True or False"):
        finite_difference("sin(x)", "x=1", error_control="no")  # type: ignore[arg-type]


@pytest.mark.parametrize("method", ["float64", "complex"])
def test_f_that_overflows_float64_is_an_overflow_not_a_pole(method: str) -> None:
    """exp(1000) = 1.97e434 is finite; float64 gives inf there: overflow, and 1/x at 0 a pole."""
    r = finite_difference("exp(1000*x)", {"x": 1.0}, method=method)
    assert r.status is PointStatus.OVERFLOW
    assert "overflows float64" in r.reason
    pole = finite_difference("1/x", {"x": 0.0}, method=method)
    assert pole.status is PointStatus.POLE


def test_the_hessian_of_exp_1000x_at_1_is_an_overflow_without_warnings() -> None:
    """The float64 stencil meets inf - inf (NaN): a status with a reason, never a warning."""
    r = finite_difference("exp(1000*x)", {"x": 1.0}, ("x", 2), method="float64")
    assert r.status is PointStatus.OVERFLOW
    assert r.reason


@pytest.mark.parametrize("method", ["float64", "complex"])
def test_a_derivative_beyond_float64_is_never_ok(method: str) -> None:
    """f = exp(709 x) at 1 is 8.2e307 (finite), f' = 709 f = 5.8e310 is not: overflow."""
    r = finite_difference("exp(709*x)", {"x": 1.0}, method=method)
    assert r.status is PointStatus.OVERFLOW
    assert math.isinf(r.value)


def test_finite_difference_gradient_validates_the_same_way() -> None:
    with pytest.raises(ConfigError, match="step must be positive"):
        finite_difference_gradient("x*y", "x=1, y=2", step=-0.5)


_STEPS = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["1e-3", "-1e-3", "0", "1/3", "abc", "1e-300", "1e308", "nan", ""]),
    st.integers(-3, 3),
    st.booleans(),
)
_DPS = st.one_of(st.integers(-10, 1200), st.sampled_from([15, 30, 50]))
_POINTS: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(["x=1", "x=0", "x=-1", "x=1e-300", "x=1e300", "", "x=", "x=1, y=2", "y=1"]),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda v: {"x": v}),
    st.just({}),
)
_EXPRESSIONS = st.sampled_from(["sin(x)", "log(x)", "exp(1000*x)", "1/x", "abs(x)", "sqrt(x)"])


def _check_outcome(expr: str, at: Any, method: str, step: Any, dps: int, wrt: Any) -> None:
    try:
        r = finite_difference(expr, at, wrt, method=method, step=step, dps=dps)
    except SymgradError:
        return
    assert isinstance(r, FDResult)
    assert isinstance(r.status, PointStatus)
    assert r.reason
    if r.status is PointStatus.OK and method in ("float64", "complex"):
        assert np.isfinite(np.asarray(r.value, dtype=float)).all()
        estimate = np.asarray(r.error_estimate, dtype=float)
        assert (np.isfinite(estimate) | np.isnan(estimate)).all()


_OPTIONS = given(
    expr=_EXPRESSIONS,
    at=_POINTS,
    method=st.sampled_from(METHODS),
    step=_STEPS,
    dps=_DPS,
    wrt=st.sampled_from([None, ("x", 2), "x"]),
)


@settings(max_examples=60, deadline=None, derandomize=True)
@_OPTIONS
def test_random_options_give_a_symgrad_error_or_a_result(
    expr: str, at: Any, method: str, step: Any, dps: int, wrt: Any
) -> None:
    """Only SymgradError subclasses or FDResults come out; float64 ok values are finite."""
    _check_outcome(expr, at, method, step, dps, wrt)


@pytest.mark.slow
@settings(max_examples=600, deadline=None, derandomize=True)
@_OPTIONS
def test_random_options_give_a_symgrad_error_or_a_result_many(
    expr: str, at: Any, method: str, step: Any, dps: int, wrt: Any
) -> None:
    """The same at 600 examples (slow)."""
    _check_outcome(expr, at, method, step, dps, wrt)


@pytest.mark.parametrize("x", [-1e-12, 3e-14, 0.0, 0.25])
def test_complex_step_estimate_covers_rounding_of_inner_sums_at_tiny_x(x: float) -> None:
    """tan(s/(1 + s²)) with s = sin(50(x + 2)): at a tiny x the rounding of x + 2 moves the
    float64 complex step by ~4e-13, which a probe scaled by |x| never varies; the error
    estimate must still cover the true derivative at the same binary point (mpmath, 60 digits)."""
    text = "tan((sin(50*(x + 2)))/(1 + (sin(50*(x + 2)))**2))"
    r = finite_difference(text, {"x": x}, "x", method="complex", dps=15)
    ctx = mpmath.MPContext()
    ctx.dps = 60

    def f(t: Any) -> Any:
        s = ctx.sin(50 * (t + 2))
        return ctx.tan(s / (1 + s**2))

    exact = ctx.diff(f, ctx.mpf(x))
    assert r.status.value == "ok", r.reason
    assert abs(float(r.value) - float(exact)) <= float(r.error_estimate)
