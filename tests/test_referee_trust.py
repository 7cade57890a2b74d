"""The referee's ``ok`` holds its claimed error where rounding or the step hides part of f.

Red-team reproducers and properties: an intermediate that rounds away inside f (x + 1e100,
x² at x = 1e200), a step beyond f's scale (tan(x²) at x = 1e100), imaginary parts that go
subnormal or underflow inside f's float64 complex step, inner sums rounded below the float64
step, and values past the exact-check cap.  Every oracle is a closed-form derivative written
by hand and evaluated in a private mpmath context (never ``mpmath.mp``, never symgrad).
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad

_SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)


def _ctx(dps: int) -> mpmath.MPContext:
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


def _holds(result: symgrad.FDResult, truth: mpmath.mpf) -> bool:
    """An ok value is within its estimate of the truth; anything else claims nothing."""
    if not result.ok:
        return True
    ctx = _ctx(1200)  # the result's numbers are taken exactly (their own str rounds to dps)
    return bool(abs(ctx.mpf(result.value) - truth) <= ctx.mpf(result.error_estimate))


# -- the mp stencil: intermediates that round away ---------------------------------------------


def _sin_shift_slope(k: int, x: str, dps: int = 500) -> mpmath.mpf:
    """d/dx [sin(x + 10^k) + x] = cos(x + 10^k) + 1."""
    ctx = _ctx(dps)
    return ctx.cos(ctx.mpf(x) + ctx.mpf(10) ** k) + 1


@pytest.mark.parametrize("dps", [15, 30, 50])
def test_an_inner_constant_does_not_freeze_the_stencil(dps: int) -> None:
    r = symgrad.finite_difference(
        "sin(x + 1e100) + x", "x=0.5", wrt="x", dps=dps, engine="mpmath", method="mp"
    )
    truth = _sin_shift_slope(100, "0.5")
    assert r.ok
    assert abs(float(r.value) - 0.36405812775013913808) < 1e-14
    assert _holds(r, truth)


def test_tan_of_a_shifted_argument() -> None:
    r = symgrad.finite_difference(
        "tan(x + 1e100)", "x=0.5", wrt="x", dps=15, engine="mpmath", method="mp"
    )
    ctx = _ctx(500)
    truth = 1 / ctx.cos(ctx.mpf("0.5") + ctx.mpf(10) ** 100) ** 2
    assert r.ok
    assert abs(float(r.value) - 2.4726642951469) < 1e-10
    assert _holds(r, truth)


@pytest.mark.parametrize("point", ["1e100", "1e200"])
def test_a_step_within_the_period_of_tan_x_squared(point: str) -> None:
    ctx = _ctx(1200)
    x = ctx.mpf(point)
    truth = 2 * x / ctx.cos(x**2) ** 2 + 1
    r = symgrad.finite_difference("tan(x**2) + x", f"x={point}", wrt="x", dps=30)
    assert _holds(r, truth)
    assert r.ok  # the step is narrowed to the period: the right value, not a decline


def test_the_complex_step_beyond_f_scale_is_not_certified() -> None:
    ctx = _ctx(1200)
    x = ctx.mpf("1e200")
    truth = 2 * x * ctx.sec(x**2) * ctx.tan(x**2) + ctx.sech(x) ** 2
    r = symgrad.finite_difference("sec(x**2) + tanh(x)", "x=1e200", wrt="x", dps=30)
    assert r.method == "mp"  # the complex step fell back
    assert _holds(r, truth)


@pytest.mark.parametrize("expr", ["sec(x**2) + x", "sec(x**2) + tanh(x)"])
def test_the_default_method_is_not_fooled_by_a_complex_step_beyond_f_scale(expr: str) -> None:
    """The complex step declines (h·|du/dx| = 2e166) and the narrowed stencil decides."""
    ctx = _ctx(1200)
    x = ctx.mpf("1e200")
    truth = 2 * x * ctx.sec(x**2) * ctx.tan(x**2) + (1 if "+ x" in expr else ctx.sech(x) ** 2)
    r = symgrad.finite_difference(expr, "x=1e200", wrt="x", dps=30)
    assert _holds(r, truth)
    assert r.ok
    assert "moves an argument" in r.reason


@pytest.mark.parametrize(
    ("expr", "point", "kind", "dps"),
    [
        ("sin(x + 1e100)*y + x*y", "x=0.5, y=2", "hessian", 50),
        ("sin(x*y + 1e60)", "x=0.5, y=2", "hessian", 15),
        ("sin(x + y + 1e100)", "x=0.5, y=2", "hessian", 15),
        ("sin(x + 1e100)*y", "x=0.5, y=2", "hessian", 15),
        ("besselj(0, x) + sin(x + 1e100)", "x=0.5", "gradient", 50),
        ("besselj(0, x)*sin(x + 1e100)", "x=0.5", "gradient", 15),
        ("besselj(0, x) + sin(x + 1e100)", "x=0.5", "hessian", 50),
        ("sin(x)*cos(y)*1e-300", "x=1e300, y=1e-300", "hessian", 30),
        ("tan(x**2) + x", "x=1e100", "gradient", 50),
        ("sec(x**2) + x", "x=1e100", "gradient", 50),
    ],
)
def test_check_passes_correct_derivatives_with_rounding_inside(
    expr: str, point: str, kind: str, dps: int
) -> None:
    """Each of these was a false fail: the symbolic value right, the referee's frozen."""
    r = symgrad.check(expr, point, kind=kind, dps=dps)
    assert r.status.value == "pass", r.reason


@pytest.mark.parametrize("scheme", ["complex", "central:2", "forward:2"])
def test_check_does_not_fail_sec_x_squared_at_1e200(scheme: str) -> None:
    r = symgrad.check("sec(x**2) + x", "x=1e200", scheme=scheme)
    assert r.status.value != "fail", r.reason


def test_the_mixed_partial_holds_its_estimate() -> None:
    """d²/dxdy sin(xy + 1e60) = cos(u) − xy·sin(u), u = xy + 1e60 (x = 0.5, y = 2)."""
    ctx = _ctx(500)
    u = 1 + ctx.mpf(10) ** 60
    truth = ctx.cos(u) - ctx.sin(u)
    r = symgrad.finite_difference("sin(x*y + 1e60)", "x=0.5, y=2", wrt="x y", dps=15)
    assert r.ok
    assert _holds(r, truth)
    assert abs(float(r.value) + 0.97960434597905255) < 1e-12


@_SETTINGS
@given(
    exponent=st.integers(20, 300),
    tenths=st.integers(1, 9),
    dps=st.sampled_from([15, 30]),
    head=st.sampled_from(["sin", "cos", "tanh"]),
)
def test_property_inner_constants_never_give_a_wrong_ok(
    exponent: int, tenths: int, dps: int, head: str
) -> None:
    """head(x + 10^e) + x: an ok value is within its estimate; a planted 1e-6 error is outside."""
    ctx = _ctx(exponent + 200)
    u = ctx.mpf(tenths) / 10 + ctx.mpf(10) ** exponent
    slope = {"sin": ctx.cos(u), "cos": -ctx.sin(u), "tanh": 1 / ctx.cosh(u) ** 2}[head]
    truth = slope + 1
    r = symgrad.finite_difference(
        f"{head}(x + 1e{exponent}) + x",
        f"x=0.{tenths}",
        wrt="x",
        dps=dps,
        engine="mpmath",
        method="mp",
    )
    assert _holds(r, truth)
    if r.ok:
        planted = truth * (1 + ctx.mpf(10) ** -6)
        assert abs(ctx.mpf(r.value) - planted) > ctx.mpf(r.error_estimate)


@_SETTINGS
@given(exponent=st.integers(20, 120), tenths=st.integers(1, 9))
def test_property_check_never_fails_a_correct_hessian(exponent: int, tenths: int) -> None:
    r = symgrad.check(
        f"sin(x*y + 1e{exponent}) + x*y", f"x=0.{tenths}, y=2", kind="hessian", dps=15
    )
    assert r.status.value != "fail", r.reason


@_SETTINGS
@given(exponent=st.integers(30, 250), tenths=st.integers(1, 9))
def test_property_large_points_hold(exponent: int, tenths: int) -> None:
    """At x = t·10^e: d/dx [sin(x**2) + x] = 2x cos(x²) + 1 (the step within the period)."""
    ctx = _ctx(2 * exponent + 100)
    x = ctx.mpf(tenths) / 10 * ctx.mpf(10) ** exponent
    truth = 2 * x * ctx.cos(x**2) + 1
    r = symgrad.finite_difference(
        "sin(x**2) + x", f"x={tenths}e{exponent - 1}", wrt="x", dps=15, engine="mpmath"
    )
    assert _holds(r, truth)


# -- the float64 complex step ------------------------------------------------------------------


def _float_ok_holds(result: symgrad.FDResult, truths: list[mpmath.mpf]) -> bool:
    if not result.ok:
        return True
    values = np.ravel(result.value)
    bounds = np.ravel(result.error_estimate)
    return all(abs(float(t) - v) <= b for t, v, b in zip(truths, values, bounds, strict=True))


def test_a_subnormal_imaginary_part_inside_f_is_not_ok() -> None:
    r = symgrad.finite_difference("1e100*sin(1e-120*x)", {"x": 1.0}, wrt="x", method="complex")
    ctx = _ctx(60)
    truth = ctx.mpf("1e-20") * ctx.cos(ctx.mpf("1e-120"))
    assert not r.ok
    assert _float_ok_holds(r, [truth])


@pytest.mark.parametrize(
    ("expr", "x"),
    [
        ("cosh(x)*exp(-x)", 300.0),
        ("cosh(x)*exp(-x)", 710.0),
        ("sinh(x)/exp(x)", 300.0),
        ("erfc(x)*exp(x**2)", 20.0),
        ("erfc(x)*exp(x**2)", 26.0),
    ],
)
def test_an_underflowing_imaginary_part_is_not_ok(expr: str, x: float) -> None:
    r = symgrad.finite_difference(expr, {"x": x}, wrt="x", method="complex")
    assert not r.ok, r.reason


def test_erfcx_where_nothing_underflows_is_still_ok() -> None:
    """2x·erfc(x)e^(x²) − 2/√π at x = 5 (the control: no false unreliable)."""
    ctx = _ctx(60)
    x = ctx.mpf(5)
    truth = 2 * x * ctx.erfc(x) * ctx.exp(x**2) - 2 / ctx.sqrt(ctx.pi)
    r = symgrad.finite_difference("erfc(x)*exp(x**2)", {"x": 5.0}, wrt="x", method="complex")
    assert r.ok
    assert _float_ok_holds(r, [truth])


def test_an_inner_sum_rounded_below_the_step_is_not_ok() -> None:
    x = 0.884589759840991
    r = symgrad.finite_difference("sin(x + 1e10)", {"x": x}, wrt="x", method="complex")
    ctx = _ctx(60)
    truth = ctx.cos(ctx.mpf(x) + ctx.mpf(10) ** 10)
    assert _float_ok_holds(r, [truth])
    assert not r.ok


def test_values_past_the_exact_check_cap_are_not_ok() -> None:
    x = np.concatenate([np.linspace(0.1, 0.5, 1000), [1e-30]])
    r = symgrad.finite_difference("x*atanh(log(1 + x**2))", {"x": x}, wrt="x", method="complex")
    assert not r.ok
    assert "1,000" in r.reason


def test_the_float64_stencil_never_claims_an_exact_zero_error() -> None:
    r = symgrad.finite_difference("1e-5/x", {"x": 1e300}, wrt="x", method="float64")
    assert float(r.error_estimate) > 0 or not r.ok


def test_an_ordinary_array_stays_ok() -> None:
    """sin(x)·y on 50 points: every value confirmed, 2cos(x) within each estimate."""
    xs = np.linspace(0.1, 3.0, 50)
    r = symgrad.finite_difference("sin(x)*y", {"x": xs, "y": 2.0}, wrt="x", method="complex")
    ctx = _ctx(40)
    assert r.ok
    assert _float_ok_holds(r, [2 * ctx.cos(ctx.mpf(float(v))) for v in xs])


@_SETTINGS
@given(big=st.integers(20, 300), small=st.integers(100, 300), x=st.floats(0.5, 4.0))
def test_property_scaled_inner_factors_hold(big: int, small: int, x: float) -> None:
    """1e{big}·sin(1e-{small}·x): d/dx = 10^(big−small) cos(10^−small x), an ok holds it."""
    ctx = _ctx(80)
    truth = ctx.mpf(10) ** (big - small) * ctx.cos(ctx.mpf(10) ** -small * ctx.mpf(x))
    r = symgrad.finite_difference(f"1e{big}*sin(1e-{small}*x)", {"x": x}, wrt="x", method="complex")
    assert _float_ok_holds(r, [truth])


@_SETTINGS
@given(x=st.floats(1.0, 700.0))
def test_property_underflowing_factors_hold(x: float) -> None:
    """cosh(x)·exp(−x) = (1 + e^(−2x))/2: f' = −e^(−2x); an ok value holds it."""
    ctx = _ctx(60)
    truth = -ctx.exp(-2 * ctx.mpf(x))
    r = symgrad.finite_difference("cosh(x)*exp(-x)", {"x": x}, wrt="x", method="complex")
    assert _float_ok_holds(r, [truth])


@_SETTINGS
@given(exponent=st.integers(5, 15), x=st.floats(0.1, 0.9))
def test_property_inner_sums_hold(exponent: int, x: float) -> None:
    ctx = _ctx(60)
    truth = ctx.cos(ctx.mpf(x) + ctx.mpf(10) ** exponent)
    r = symgrad.finite_difference(f"sin(x + 1e{exponent})", {"x": x}, wrt="x", method="complex")
    assert _float_ok_holds(r, [truth])


@pytest.mark.slow
@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    exponent=st.integers(20, 300),
    tenths=st.integers(1, 9),
    dps=st.sampled_from([15, 30, 50]),
    head=st.sampled_from(["sin", "cos", "tanh"]),
)
def test_property_inner_constants_many(exponent: int, tenths: int, dps: int, head: str) -> None:
    """The inner-constant property at 150 examples (slow)."""
    test_property_inner_constants_never_give_a_wrong_ok.hypothesis.inner_test(  # type: ignore[attr-defined]
        exponent, tenths, dps, head
    )


# -- switches closer than the step, and given steps beyond f's scale ---------------------------


@pytest.mark.parametrize("threes", [20, 30, 40])
def test_a_kink_closer_than_the_step_is_not_straddled(threes: int) -> None:
    """abs(x - 1/3) + abs(x) just below 1/3: f = (1/3 - x) + x, so f' = 0 exactly."""
    r = symgrad.finite_difference("abs(x - 1/3) + abs(x)", "x=0." + "3" * threes, wrt="x", dps=15)
    assert _holds(r, _ctx(50).mpf(0))
    assert r.ok


@pytest.mark.parametrize(
    ("expr", "point", "dps"),
    [
        ("abs(x - 1/3) + abs(x)", "x=0.33333333333333333333", 15),
        ("abs(x - 1/3)", "x=0.3333333333333333333333333333333333333333", 15),
        ("abs(x - 1/3)*y", "x=0.3333333333333333333333333333333333333333, y=2", 15),
        ("abs(x - 1/3) + abs(x)", "x=0." + "3" * 70, 50),
    ],
)
def test_check_passes_next_to_a_kink(expr: str, point: str, dps: int) -> None:
    r = symgrad.check(expr, point, dps=dps)
    assert r.status.value == "pass", r.reason


@pytest.mark.parametrize(
    ("k", "step", "scheme"),
    [(50, "0.5", "central:2"), (100, "0.5", "central:4"), (77, "0.5", "central:2")],
)
def test_a_given_step_beyond_the_period_is_unreliable(k: int, step: str, scheme: str) -> None:
    """sin(kx) at x = 1 with step 0.5: the truth k·cos(k) is far from the stencil's value."""
    ctx = _ctx(50)
    truth = k * ctx.cos(ctx.mpf(k))
    r = symgrad.finite_difference(f"sin({k}*x)", "x=1", wrt="x", step=step, dps=20, scheme=scheme)
    assert _holds(r, truth)
    assert not r.ok


def test_a_small_given_step_is_still_ok() -> None:
    ctx = _ctx(50)
    r = symgrad.finite_difference("sin(x)", "x=1", wrt="x", step="1/1024", dps=20)
    assert r.ok
    assert _holds(r, ctx.cos(1))
