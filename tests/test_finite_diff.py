"""Finite differences: guard digits, automatic steps, complex step, mixed partials, classification."""

from __future__ import annotations

import inspect
import json
import math

import mpmath
import numpy as np
import pytest
from numpy.testing import assert_allclose

import symgrad
from symgrad.errors import CheckFailed, ConfigError
from symgrad.fd import Stencil, convergence, finite_difference, finite_difference_gradient
from symgrad.results import PointStatus, Result, Status


def mpctx(dps: int) -> mpmath.MPContext:
    """A private reference context (never mpmath.mp)."""
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


def f2_gradient(ref: mpmath.MPContext) -> list[mpmath.mpf]:
    """The closed-form gradient of sin(x+y)*exp(-z**2) at (0.3, 0.7, 0.5), in ``ref``."""
    x, y, z = ref.mpf("0.3"), ref.mpf("0.7"), ref.mpf("0.5")
    dxy = ref.cos(x + y) * ref.exp(-(z**2))
    return [dxy, dxy, -2 * z * ref.sin(x + y) * ref.exp(-(z**2))]


def test_eighth_order_gradient_has_45_digits() -> None:
    """At dps=50 the central:8 gradient of sin(x+y)*exp(-z**2) agrees with the closed form to 45+ digits."""
    ref = mpctx(80)
    exact = f2_gradient(ref)
    f = symgrad.function("sin(x+y)*exp(-z**2)")
    for var, want in zip("xyz", exact, strict=True):
        r = finite_difference(f, "x=0.3, y=0.7, z=0.5", var, scheme="central:8", dps=50)
        assert r.status == "ok"
        assert abs(ref.mpf(r.value) - want) < ref.mpf(10) ** -45
        # the claimed error estimate is an upper bound of the actual error
        assert abs(ref.mpf(r.value) - want) <= ref.mpf(r.error_estimate) + ref.mpf(10) ** -50


@pytest.mark.parametrize("dps", [15, 30, 50, 100, 300])
@pytest.mark.parametrize("scheme", ["central:2", "central:4", "forward:1", "backward:2"])
def test_requested_digits_are_delivered(dps: int, scheme: str) -> None:
    """Whatever the stencil and precision, the result is correct to about dps digits."""
    ref = mpctx(dps + 40)
    r = finite_difference("exp(x)*cos(x)", "x=1.25", scheme=scheme, dps=dps)
    x = ref.mpf("1.25")
    want = ref.exp(x) * (ref.cos(x) - ref.sin(x))
    assert r.status == "ok"
    assert abs(ref.mpf(r.value) - want) <= abs(want) * ref.mpf(10) ** -(dps - 1)


def test_measured_error_follows_the_leading_term() -> None:
    """With a given step, error / (C h^p f^(m+p)) tends to 1 as h shrinks (central:4 on sin at 1)."""
    ref = mpctx(120)
    stencil = Stencil.central(1, 4)
    ratios = []
    for h in ("1e-2", "1e-3", "1e-4"):
        r = finite_difference("sin(x)", "x=1", scheme="central:4", step=h, dps=100)
        err = ref.mpf(r.value) - ref.cos(1)
        # the fifth derivative of sin is cos
        ratios.append(err / stencil.predicted_error(ref.cos(1), ref.mpf(h), ctx=ref))
    assert abs(ratios[-1] - 1) < 1e-6
    assert abs(ratios[0] - 1) > abs(ratios[-1] - 1)


def test_mixed_partial_by_tensor_product() -> None:
    """d2/dxdy of sin(x)*exp(2*y) is 2*cos(x)*exp(2*y), to the requested digits."""
    ref = mpctx(60)
    r = finite_difference("sin(x)*exp(2*y)", "x=0.4, y=-0.3", "x y", scheme="central:4", dps=30)
    want = 2 * ref.cos(ref.mpf("0.4")) * ref.exp(2 * ref.mpf("-0.3"))
    assert abs(ref.mpf(r.value) - want) < ref.mpf(10) ** -29


def test_complex_step_case_c_within_2_ulp() -> None:
    """Complex step at h = 1e-200 at h = 1e-200 is within 2 ulp of f'(1.5)."""
    r = finite_difference(
        "exp(x)/sqrt(sin(x)**3 + cos(x)**3)", {"x": 1.5}, method="complex", step=1e-200
    )
    exact = 4.05342789389862065771418792561
    assert abs(float(r.value) - exact) <= 2 * math.ulp(exact)


def test_high_precision_complex_step() -> None:
    """The mp complex step gives all requested digits with two evaluations (one certifies)."""
    ref = mpctx(80)
    r = finite_difference(
        "exp(x)/sqrt(sin(x)**3 + cos(x)**3)", "x=1.5", method="mp-complex", dps=50
    )
    x = ref.mpf("1.5")
    want = (
        (9 * ref.sin(x) + ref.sin(3 * x) + 3 * ref.cos(x) + 5 * ref.cos(3 * x))
        * ref.exp(x)
        / (8 * (ref.sin(x) ** 3 + ref.cos(x) ** 3) ** ref.mpf(1.5))
    )
    assert r.evaluations == 2
    assert abs(ref.mpf(r.value) - want) < abs(want) * ref.mpf(10) ** -49
    assert abs(ref.mpf(r.value) - want) <= ref.mpf(r.error_estimate)


def test_complex_step_refuses_non_analytic() -> None:
    """abs has no complex extension we can use: a clear ConfigError, not a wrong number."""
    with pytest.raises(ConfigError, match="real-analytic"):
        finite_difference("abs(x)", {"x": 0.5}, method="complex")


def test_float64_vectorized_matches_textbook_optimum() -> None:
    """float64 central:2 with the automatic step reaches about 1e-11 on sin at many points."""
    x = np.linspace(-3, 3, 101)
    r = finite_difference("sin(x)", {"x": x}, method="float64", scheme="central:2")
    assert r.value.shape == (101,)
    assert np.max(np.abs(r.value - np.cos(x))) < 1e-10


def test_user_step_is_honoured() -> None:
    """A given float64 forward step of 1e-4 gives the textbook error h/2*|f''| for exp at 0."""
    r = finite_difference("exp(x)", {"x": 0.0}, method="float64", scheme="forward:1", step=1e-4)
    assert_allclose(r.value - 1.0, 5.000166e-05, rtol=1e-4)


@pytest.mark.parametrize(
    ("expr", "point", "status"),
    [("log(x)", "x=-1", "domain"), ("1/x", "x=0", "pole"), ("sqrt(x)", "x=-0.5", "domain")],
    ids=["log_negative", "pole", "sqrt_negative"],
)
def test_bad_points_are_classified(expr: str, point: str, status: str) -> None:
    """A point outside the domain or at a pole gives a classified result, never a silent NaN."""
    r = finite_difference(expr, point, dps=30)
    assert r.status == status
    assert r.reason


def test_near_singularity_still_accurate() -> None:
    """log at 1e-3: the step is scaled down and refined until the digits are reached."""
    ref = mpctx(60)
    r = finite_difference("log(x)", "x=0.001", dps=30)
    assert r.status == "ok"
    assert abs(ref.mpf(r.value) - 1000) < 1000 * ref.mpf(10) ** -29


def test_bad_options() -> None:
    """Unknown methods, complex as a stencil and missing wrt are ConfigErrors with advice."""
    with pytest.raises(ConfigError, match="method"):
        finite_difference("x", "x=1", method="magic")
    with pytest.raises(ConfigError, match="wrt"):
        finite_difference("x*y", "x=1,y=2")
    with pytest.raises(ConfigError, match="complex"):
        finite_difference("x", "x=1", scheme="complex")


@pytest.mark.parametrize("scheme", ["central:2", "central:4", "forward:1", "backward:2"])
@pytest.mark.parametrize("x0", [0.3, 1.0, 25.0, 1000.0])
def test_float64_error_estimate_bounds_the_error(scheme: str, x0: float) -> None:
    """The float64 error estimate bounds the actual error of sin' = cos, at small and large x."""
    r = finite_difference("sin(x)", {"x": x0}, method="float64", scheme=scheme)
    assert abs(float(r.value) - math.cos(x0)) <= float(r.error_estimate)
    assert float(r.step) >= 1e-8 * max(1.0, x0)  # the (relative) step actually used


def test_high_precision_complex_step_classifies_domain_errors() -> None:
    """log at -1 is outside the real domain: the complex step says so instead of returning pi/h."""
    r = finite_difference("log(x)", "x=-1", method="mp-complex", dps=30)
    assert r.status == "domain"
    assert np.isnan(r.value)


def test_high_precision_complex_step_gradient() -> None:
    """All three components of a gradient by the mp complex step, each to 50 digits."""
    from symgrad.fd import finite_difference_gradient

    ref = mpctx(80)
    exact = f2_gradient(ref)
    results = finite_difference_gradient(
        "sin(x+y)*exp(-z**2)", "x=0.3, y=0.7, z=0.5", method="mp-complex", dps=50
    )
    for r, want in zip(results, exact, strict=True):
        assert abs(ref.convert(r.value) - want) <= abs(want) * ref.mpf(10) ** -49


def test_auto_method_picks_the_complex_step_only_when_it_applies() -> None:
    """auto: one complex evaluation per component when analytic; the stencil for abs."""
    from symgrad.fd import finite_difference_gradient

    smooth = finite_difference_gradient("sin(x)*y", "x=1, y=2", dps=30, engine="mpmath")
    assert [r.method for r in smooth] == ["mp-complex", "mp-complex"]
    kinked = finite_difference_gradient("abs(x)*y", "x=1, y=2", dps=30, engine="mpmath")
    assert [r.method for r in kinked] == ["mp", "mp"]
    ref = mpctx(50)
    assert abs(ref.convert(smooth[0].value) - 2 * ref.cos(1)) < ref.mpf(10) ** -29
    assert abs(ref.convert(kinked[0].value) - 2) < ref.mpf(10) ** -29


def test_one_default_method_for_a_partial_and_a_gradient() -> None:
    """Both entry points default to ``auto``: the certified complex step where it applies, and
    the requested stencil or step honoured as such (cos(1), 6 at x = 1 for x**3 by closed form).
    """
    defaults = {
        inspect.signature(fn).parameters["method"].default
        for fn in (finite_difference, finite_difference_gradient)
    }
    assert defaults == {"auto"}
    ctx = mpmath.MPContext()
    ctx.dps = 80
    plain = finite_difference("sin(x)", "x=1", dps=40, engine="mpmath")
    assert (plain.method, plain.status) == ("mp-complex", "ok")
    assert abs(ctx.convert(plain.value) - ctx.cos(1)) <= ctx.mpf(10) ** -40
    stencil = finite_difference("x**3", "x=1", scheme="central:4", dps=40)
    assert (stencil.method, stencil.scheme) == ("mp", "central:4:d1")
    assert abs(ctx.convert(stencil.value) - 3) <= ctx.mpf(10) ** -39
    given = finite_difference("x**3", "x=1", step="1e-3", dps=40)
    assert given.method == "mp"
    # central:2 at a given step is D(h) itself: 3 + h² exactly for x³ at 1
    assert abs(ctx.convert(given.value) - (3 + ctx.mpf("1e-6"))) <= ctx.mpf(10) ** -39
    second = finite_difference("x**3", "x=1", ("x", 2), dps=40)
    assert second.method == "mp"
    assert abs(ctx.convert(second.value) - 6) <= ctx.mpf(10) ** -39


def test_fd_result_is_a_result_with_a_point_status() -> None:
    """FDResult is a Result: PointStatus with its verdict, ok, raise_if_failed, plain JSON.

    References: d/dx x**2 at 3 is 6; abs at 0 has the one-sided derivatives -1 and 1.
    """
    r = finite_difference("x**2", "x=3", dps=30)
    assert isinstance(r, Result)
    assert r.status is PointStatus.OK
    assert r.status.verdict is Status.PASS
    assert r.ok
    assert r.raise_if_failed() is r
    data = json.loads(r.to_json())
    assert set(data) == {
        "value", "error_estimate", "step", "status", "reason", "method", "scheme",
        "working_dps", "evaluations", "left", "right", "certified",
    }  # fmt: skip
    assert type(data["status"]) is str
    assert data["status"] == "ok"
    assert abs(mpmath.mpf(data["value"]) - 6) <= mpmath.mpf(10) ** -29
    assert str(r).startswith("ok: ")
    kink = finite_difference("abs(x)", "x=0", dps=30)
    assert kink.status is PointStatus.NONSMOOTH
    assert kink.status.verdict is Status.INCONCLUSIVE
    assert not kink.ok
    with pytest.raises(CheckFailed, match="nonsmooth: kink at x=0"):
        kink.raise_if_failed()
    assert [float(kink.left), float(kink.right)] == [-1.0, 1.0]


def test_a_scalar_derivative_is_a_number() -> None:
    """mp gives an mpf, float64 and complex a Python float; arrays stay arrays (d/dx x**3 = 3x²)."""
    mp_result = finite_difference("x**3", "x=2", dps=30)
    # an mpf of a private context (each context has its own mpf class)
    assert hasattr(mp_result.value, "_mpf_")
    assert hasattr(mp_result.error_estimate, "_mpf_")
    assert abs(mp_result.value - 12) <= mpmath.mpf(10) ** -29
    for method in ("float64", "complex"):
        r = finite_difference("x**3", {"x": 2.0}, method=method)
        assert type(r.value) is float
        assert type(r.error_estimate) is float
        assert r.value == pytest.approx(12.0, rel=1e-9)
    grid = finite_difference("x**3", {"x": np.array([1.0, 2.0])}, method="float64")
    assert isinstance(grid.value, np.ndarray)
    assert_allclose(grid.value, [3.0, 12.0], rtol=1e-9)
    vector = finite_difference(["x**3", "x**2"], "x=2", dps=30)
    assert vector.value.shape == (2,)
    assert [abs(v - w) <= 1e-28 for v, w in zip(vector.value, (12, 4), strict=True)] == [True] * 2
    failed = finite_difference("log(x)", "x=-1", dps=30)
    assert failed.status == "domain"
    assert type(failed.value) is float
    assert math.isnan(failed.value)


def test_float64_convergence_errors_are_floats() -> None:
    """float64 sweeps report float errors; forward:1 on exp at 0 errs by about h/2."""
    r = convergence(
        "exp(x)", "x=0", schemes=["forward:1"], step_sizes="1e-2:1e-4:3", precision="float64"
    )
    s = r.schemes[0]
    assert all(type(e) is float for e in s.errors)
    assert type(s.minimum_error) is float
    assert s.errors == pytest.approx([0.005016708, 0.000500167, 0.0000500017], rel=1e-4)


def test_complex_step_resolves_an_imaginary_part_lost_to_absolute_error() -> None:
    """d/dx [x + asin(x/(1 + x²))] at 1e-30 is 2 (to 1e-59): the asin part of Im f(x + ih),
    about 1e-49, is lost by mpmath below ~50 digits, and two values that both lost it agreed
    on 1 (a false ok); the certifying value now carries log10(1/h) more digits."""
    for method in ("mp-complex", "auto"):
        r = finite_difference("x + asin(x/(1 + x**2))", "x=1e-30", method=method, dps=15)
        assert r.status is PointStatus.OK
        assert abs(r.value - 2) <= mpmath.mpf(10) ** -14
        assert abs(r.value - 2) <= r.error_estimate + mpmath.mpf(10) ** -15


@pytest.mark.parametrize(
    ("expr", "at", "step", "scheme"),
    [
        ("sin(x)", "x=1", 1e300, "central:2"),  # D(h) ~ 1e-300, f' = cos(1)
        ("sin(50*x)", "x=1", "0.1", "central:2"),  # h·50 = 5 rad: no expansion
        ("x*abs(x)", "x=0", "1e-3", "central:2"),  # D(h) = h exactly: order 1, estimate 2h/3
    ],
)
def test_a_given_step_outside_the_asymptotic_range_is_unreliable(
    expr: str, at: str, step: object, scheme: str
) -> None:
    """A given step's estimate 2|D(h) - D(2h)|/(2^p - 1) bounds the error only where the
    leading term dominates; elsewhere the value is reported, unreliable, never ok."""
    r = finite_difference(expr, at, step=step, scheme=scheme, dps=30)
    assert r.status is PointStatus.UNRELIABLE
    assert "outside the asymptotic range" in r.reason


@pytest.mark.parametrize(
    ("scheme", "step"), [("central:2", "1e-3"), ("forward:1", "1e-3"), ("central:4", "1e-2")]
)
def test_a_given_step_inside_the_asymptotic_range_is_bounded(scheme: str, step: str) -> None:
    """sin at 1: D(h) itself is returned, and its estimate bounds |D(h) - cos(1)|."""
    ctx = mpmath.MPContext()
    ctx.dps = 60
    r = finite_difference("sin(x)", "x=1", step=step, scheme=scheme, dps=30)
    assert r.status is PointStatus.OK
    err = abs(ctx.convert(r.value) - ctx.cos(1))
    assert err <= ctx.convert(r.error_estimate)
    assert err > ctx.convert(r.error_estimate) / 100  # the plain D(h), not an extrapolation


def test_float64_complex_step_through_a_formula_float64_gets_wrong_is_unreliable() -> None:
    """x·atanh(L/(1 + L²)), L = log(1 + x²), at 1e-30: f = x³ + ..., f' = 3e-60, but float64's
    log(1 + x²) is 0, and the complex step gave 2e-60 as ok.  1 + x² there loses only x², which
    Im f(x + ih)/h = 2x never needs: still ok, and exact."""
    text = "x*atanh(log(1 + x**2)/(1 + log(1 + x**2)**2))"
    r = finite_difference(text, {"x": 1e-30}, method="complex")
    assert r.status is PointStatus.UNRELIABLE
    assert "fewer than 6 correct digits" in r.reason
    fine = finite_difference("1 + x**2", {"x": 1e-30}, method="complex")
    assert fine.status is PointStatus.OK
    assert fine.value == 2e-30


def test_float64_complex_step_estimate_covers_real_parts_rounded_on_the_way() -> None:
    """g = atanh(u/(1 + u²))/(2 + x²), u = exp(x/4), at 1e-30: float64's u is 1, so the
    complex step gives -2.7465e-31 for g' = -2.9549e-31 (mpmath, 60 digits); the estimate must
    cover that gap (it claimed 2.5e-45)."""
    ctx = mpmath.MPContext()
    ctx.dps = 60
    text = "atanh(exp(x/4)/(1 + exp(x/4)**2))/(2 + x**2)"
    x = ctx.mpf(1e-30)
    exact = ctx.diff(lambda t: ctx.atanh(ctx.exp(t / 4) / (1 + ctx.exp(t / 2))) / (2 + t**2), x)
    r = finite_difference(text, {"x": 1e-30}, method="complex")
    assert r.status is PointStatus.OK
    assert abs(r.value - exact) <= r.error_estimate


@pytest.mark.parametrize("method", ["auto", "complex", "mp"])
def test_a_point_where_sympy_cannot_evaluate_is_an_honest_result(method: str) -> None:
    """d/dx atan(exp(exp(x/4)/4)) at x = 1e30 is about exp(-exp(2.5e29)/4): SymPy's own
    assumption query fails there (evalf at 3.6e29 bits).  The answer is a result that does not
    claim digits it lacks — ok only with the value 0 to the digits asked — never a TypeError."""
    (result,) = symgrad.finite_difference_gradient(
        "atan(exp((exp((x)/4))/4))", "x=1e30", method=method, dps=15
    )
    if str(result.status) == "ok":
        assert abs(float(result.value)) < 1e-15
