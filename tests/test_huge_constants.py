"""Exact constants beyond float64's range in compiled code: float64 values, no exceptions.

The oracle is mpmath at 50 digits in a private context, rounded to float64 by mpmath itself
(``inf`` where the exact value overflows, a subnormal or 0 where it underflows).  The compiled
float64 value may round twice (the coefficient's mantissa, then the product), so it is
compared within a few ulp.  Warnings are errors in this suite, and each float64 call is also
made under ``warnings.simplefilter("error")``.
"""

from __future__ import annotations

import warnings
from typing import Any

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad

CTX = mpmath.MPContext()
CTX.dps = 50


def _quiet(fn: Any, *args: Any) -> Any:
    """``fn(*args)`` with every warning an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn(*args)


def _close(got: float, want: float) -> bool:
    """Equal within 4 ulp, infinities with their sign, subnormals within 2 of their ulp."""
    if np.isinf(want):
        return bool(got == want)
    return bool(np.isclose(got, want, rtol=4 * 2.0**-52, atol=2 * 5e-324))


def test_coefficient_beyond_float64_times_small_x() -> None:
    """d²/dx² (1e200 x)³ = 6·10^600·x: finite where the product is, ±inf where it overflows."""
    d2 = symgrad.derivative("(1e200*x)**3", "x", 2)
    xs = [1e-300, -1e-300, 1e-310, 3e-305, 0.5, -0.5, 0.0]
    got = _quiet(d2, np.array(xs))
    want = [float(6 * CTX.mpf(10) ** 600 * CTX.mpf(x)) for x in xs]
    assert want[0] == pytest.approx(6e300, rel=1e-15)
    assert want[4] == np.inf
    assert want[5] == -np.inf
    assert all(_close(g, w) for g, w in zip(got.tolist(), want, strict=True)), (got, want)
    assert _quiet(d2, 1e-300) == pytest.approx(6e300, rel=1e-15)  # the one-point path


def test_coefficient_below_float64_times_large_x() -> None:
    """d²/dx² of 1e-300·1e-300·x³ = 6·10^-600·x: normal, subnormal and 0 results."""
    d2 = symgrad.derivative("1e-300*1e-300*x**3", "x", 2)
    xs = [1e300, 1e308, -1e305, 1e290, 1e280, 1.0, -1.7976931348623157e308]
    got = _quiet(d2, np.array(xs))
    want = [float(6 * CTX.mpf(10) ** -600 * CTX.mpf(x)) for x in xs]
    assert want[0] == pytest.approx(6e-300, rel=1e-15)
    assert 0 < want[3] < 2.3e-308  # subnormal
    assert want[5] == 0.0
    assert all(_close(g, w) for g, w in zip(got.tolist(), want, strict=True)), (got, want)


def test_sin_with_huge_frequency_second_derivative_and_hessian() -> None:
    """-10^600·sin(10^300·x) at 0.5: the exact magnitude is far beyond float64: ±inf."""
    exact = -(CTX.mpf(10) ** 600) * CTX.sin(CTX.mpf(10) ** 300 * CTX.mpf("0.5"))
    assert abs(exact) > CTX.mpf(10) ** 400
    d2 = _quiet(symgrad.derivative("sin(1e300*x)", "x", 2), 0.5)
    hessian = _quiet(symgrad.hessian("sin(1e300*x)"), 0.5)
    assert np.isinf(d2)
    assert hessian.shape == (1, 1)
    assert np.isinf(hessian[0, 0])


def test_constant_overflowing_outside_a_product_is_signed_infinity() -> None:
    """A sum's term 10^600 or -10^600 rounds to ±inf, as in float64."""
    plus = _quiet(symgrad.function("x + 1e300*1e300"), np.array([1.0, -2.0]))
    minus = _quiet(symgrad.function("x - 1e300*1e300"), 1.0)
    assert float(CTX.mpf(10) ** 600 + 1) == np.inf
    assert plus.tolist() == [np.inf, np.inf]
    assert minus == -np.inf


def test_huge_coefficient_inside_an_exponent() -> None:
    """2**(10^600·x): inf for x > 0, 0 for x < 0, 1 at 0."""
    f = symgrad.function("2**(1e300*1e300*x)")
    xs = [1e-300, -1e-300, 0.0]
    got = _quiet(f, np.array(xs)).tolist()
    want = [float(CTX.power(2, CTX.mpf(10) ** 600 * CTX.mpf(x))) for x in xs]
    assert want == [np.inf, 0.0, 1.0]
    assert got == want


def test_complex_step_scales_real_and_imaginary_parts() -> None:
    """6·10^600·z at z = 1e-300 + 1e-320i: 6e300 + 6e280i (an infinite part stays one)."""
    d2 = symgrad.derivative("(1e200*x)**3", "x", 2)
    z = complex(1e-300, 1e-320)
    got = _quiet(d2.complex_call, np.array([z]))[0]
    coefficient = 6 * CTX.mpf(10) ** 600
    assert _close(got.real, float(coefficient * CTX.mpf(z.real)))
    assert got.imag == pytest.approx(float(coefficient * CTX.mpf(z.imag)), rel=1e-9)
    big = _quiet(symgrad.derivative("(1e300*x)**3", "x", 2).complex_call, np.array([z]))[0]
    assert big.real == np.inf  # 6e900·1e-300 overflows; no NaN from combining the parts
    assert big.imag == np.inf


def test_overflow_is_consistent_with_exp() -> None:
    """exp(1000x) at x = 1 overflows to inf the same quiet way."""
    assert _quiet(symgrad.function("exp(1000*x)"), 1.0) == np.inf


def test_mp_paths_keep_the_exact_constants() -> None:
    """The exact and mpmath evaluations use 6·10^600 itself: 3·10^600 at x = 1/2."""
    d2 = symgrad.derivative("(1e200*x)**3", "x", 2)
    exact = d2.at("x=0.5", dps=30)
    assert str(exact) == "3.0e+600"
    assert CTX.almosteq(CTX.mpf(exact), 3 * CTX.mpf(10) ** 600, rel_eps=CTX.mpf(10) ** -29)
    ctx, fn = d2.mp_function(30)
    (value,) = fn(ctx.mpf("0.5"))
    assert CTX.almosteq(CTX.mpf(value), 3 * CTX.mpf(10) ** 600, rel_eps=CTX.mpf(10) ** -28)


@settings(deadline=None, derandomize=True, max_examples=40)
@given(
    k1=st.integers(-308, 308),
    k2=st.integers(-308, 308),
    mantissa=st.integers(1, 9),
    x=st.floats(allow_nan=False, allow_infinity=False),
)
def test_scaled_products_match_the_rounded_exact_value(
    k1: int, k2: int, mantissa: int, x: float
) -> None:
    """``a e k1 * 1e k2 * x`` for any exponents: the float64 rounding of the exact product."""
    f = symgrad.function(f"{mantissa}e{k1}*1e{k2}*x")
    got = float(_quiet(f, x))
    want = float(mantissa * CTX.mpf(10) ** (k1 + k2) * CTX.mpf(x))
    assert _close(got, want), (got, want)
