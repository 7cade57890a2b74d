"""The certified finite-difference referee on arb balls: every certified bound holds.

The oracle shares no code with symgrad's finite differences: SymPy differentiates the
expression (parsed by SymPy itself) and evaluates the derivative at the exact rational point
with 120 significant digits (``evalf``), and that value is checked against a second evaluation
at 160 digits.  A certified result is wrong when |value − oracle| exceeds its error bound (a
false pass), or when its bound is wider than the digits it claims (10^-dps of |f'| or of
|f| / max(1, |x|)^m).
"""

from __future__ import annotations

import math
import os
from typing import Any

import mpmath
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad
import symgrad.fd._arb as arb_module
import symgrad.fd._finite_diff as fd_module
from symgrad.errors import ConfigError, MissingExtra
from symgrad.fd import finite_difference, finite_difference_gradient
from tests.strategies import points, smooth_expressions

pytest.importorskip("flint")

QUICK_EXAMPLES = 12
SLOW_EXAMPLES = int(os.environ.get("SYMGRAD_ARB_EXAMPLES", "300"))
_LOCALS: dict[str, Any] = {
    **{name: sympy.Symbol(name, real=True) for name in ("x", "y", "z")},
    "abs": sympy.Abs,
    "min": sympy.Min,
    "max": sympy.Max,
    "sign": sympy.sign,
}


def _ctx() -> Any:
    ctx = mpmath.MPContext()
    ctx.dps = 400
    return ctx


def _point(text: str) -> dict[Any, sympy.Rational]:
    pairs = (item.split("=") for item in text.split(","))
    return {_LOCALS[k.strip()]: sympy.Rational(v.strip()) for k, v in pairs}


def oracle(text: str, point: str, wrt: str, order: int = 1, digits: int = 120) -> tuple[Any, Any]:
    """(f^(order) along wrt, f) at the exact point: ``digits`` digits, confirmed at 40 more."""
    expr = sympy.sympify(text.replace("^", "**"), locals=_LOCALS, rational=True)
    where = _point(point)
    ctx = _ctx()
    values = []
    for target in (expr.diff(_LOCALS[wrt], order), expr):
        low, high = (
            ctx.mpf(str(target.xreplace(where).evalf(n, maxn=20000))) for n in (digits, digits + 40)
        )
        tiny = ctx.mpf(10) ** -(digits + 280)
        assert abs(low - high) <= abs(high) * ctx.mpf(10) ** -(digits - 5) + tiny
        values.append(high)
    return values[0], values[1]


def _scale(f_value: Any, point: str, wrt: str, order: int) -> Any:
    ctx = _ctx()
    x = ctx.mpf(sympy.Rational(_point(point)[_LOCALS[wrt]]).p) / int(
        sympy.Rational(_point(point)[_LOCALS[wrt]]).q
    )
    return abs(f_value) / max(ctx.one, abs(x)) ** order


def assert_certified(r: Any, text: str, point: str, wrt: str, dps: int, order: int = 1) -> None:
    """The bound holds (no false pass) and is as tight as the digits claimed."""
    ctx = _ctx()
    want, f_value = oracle(text, point, wrt, order, digits=max(120, dps + 40))
    value, bound = ctx.convert(r.value), ctx.convert(r.error_estimate)
    assert r.certified, r.reason
    assert r.ok, r.reason
    assert abs(value - want) <= bound, (text, point, r.reason)
    claimed = ctx.mpf(10) ** -dps * max(abs(want), _scale(f_value, point, wrt, order))
    assert bound <= 2 * claimed, (text, point, r.reason)


# -- closed forms ---------------------------------------------------------------------------------

CLOSED_FORMS = [
    ("sin(x)*exp(y) + z**2", "x=0.3, y=0.7, z=1.1", "x"),
    ("sin(x)*exp(y) + z**2", "x=0.3, y=0.7, z=1.1", "y"),
    ("log(x)", "x=1e-30", "x"),
    ("x**y", "x=2.5, y=0.5", "y"),
    ("x**y", "x=2.5, y=-1.5", "x"),
    ("(x**2 + 1)/(x**3 - 2*x + 5)", "x=-0.75", "x"),
    ("atan(x)*asin(x/2)*acos(x/3)", "x=0.6", "x"),
    ("tan(x) + sec(x) + csc(x) + cot(x)", "x=0.7", "x"),
    ("sinh(x)*cosh(x)*tanh(x)", "x=-2", "x"),
    ("asinh(x) + acosh(x + 2) + atanh(x)", "x=-0.3", "x"),
    ("sqrt(1 + x**2)*x**(1/3)", "x=2", "x"),
    ("erf(x)*erfc(x)", "x=0.4", "x"),
    ("gamma(x)", "x=-1.5", "x"),
    ("loggamma(x) + beta(x, 2)", "x=3.5", "x"),
    ("abs(x)*y + sign(x)*x**2", "x=-2, y=3", "x"),
    ("min(x, 1 - x) + max(x**2, 1)", "x=0.3", "x"),
    ("atan2(y, x)", "x=-1, y=1e-40", "y"),
    ("atan2(y, x)", "x=-1, y=1e-40", "x"),
    ("exp(1000*x)", "x=1", "x"),
    ("sin(1000*x)", "x=0.1", "x"),
    ("(exp(x) - 1)/x", "x=1e-200", "x"),  # cancels 200 digits: the precision is raised
    ("log(1 + x**6)", "x=1e-5", "x"),
    ("cos(x)", "x=0", "x"),  # f' = 0
    ("tan(x) + sec(x) + atan(tan(x/(1 + x**2)))", "x=0", "x"),  # sin = 0 where tan is fine
    ("x**5", "x=1e-300", "x"),
]


@pytest.mark.parametrize(("text", "point", "wrt"), CLOSED_FORMS)
def test_certified_values_hold_their_bounds(text: str, point: str, wrt: str) -> None:
    r = finite_difference(text, point, wrt, dps=50, engine="arb")
    assert r.method == "mp"
    assert_certified(r, text, point, wrt, 50)


@pytest.mark.parametrize(
    ("text", "point", "wrt", "order", "scheme"),
    [
        ("sin(x)", "x=1", "x", 2, "central:2"),
        ("exp(x)*log(x)", "x=1.5", "x", 3, "central:4"),
        ("atan(x)", "x=0.5", "x", 1, "forward:3"),
        ("atan(x)", "x=0.5", "x", 1, "backward:2"),
        ("1/(1 + x**2)", "x=0.25", "x", 1, "central:8"),
    ],
)
def test_other_stencils_and_orders(
    text: str, point: str, wrt: str, order: int, scheme: str
) -> None:
    """Higher derivatives and one-sided or wide stencils use their own Lagrange remainder."""
    r = finite_difference(text, point, (wrt, order), scheme=scheme, dps=40, engine="arb")
    assert r.scheme.startswith(scheme)
    assert_certified(r, text, point, wrt, 40, order)


@pytest.mark.parametrize(
    ("text", "point"),
    [
        ("sin(x)*exp(y) + z**2", "x=0.3, y=0.7, z=1.1"),
        ("log(1 + x**2 + y**2)*atan(z)", "x=2, y=-1, z=0.5"),
    ],
)
def test_both_engines_agree_within_their_bounds(text: str, point: str) -> None:
    ctx = _ctx()
    arb = finite_difference_gradient(text, point, dps=60, engine="arb")
    plain = finite_difference_gradient(text, point, dps=60, engine="mpmath")
    for a, m in zip(arb, plain, strict=True):
        assert a.certified
        assert not m.certified
        gap = abs(ctx.convert(a.value) - ctx.convert(m.value))
        assert gap <= ctx.convert(a.error_estimate) + ctx.convert(m.error_estimate)


def test_a_vector_function_gives_every_component() -> None:
    """The gradient of x²y as a function: its x-partial is (2y, 2x) at (1.5, -2)."""
    g = symgrad.gradient("x**2*y")
    r = finite_difference(g, "x=1.5, y=-2", "x", dps=40, engine="arb")
    assert r.certified
    assert r.value.shape == (2,)
    ctx = _ctx()
    for got, bound, want in zip(r.value, r.error_estimate, (-4, 3), strict=True):
        assert abs(ctx.convert(got) - want) <= ctx.convert(bound) <= ctx.mpf(10) ** -39


def test_a_variable_f_does_not_use_has_an_exact_zero_partial() -> None:
    f = symgrad.function("x**2", variables="x y")
    r = finite_difference(f, "x=1, y=2", "y", dps=30, engine="arb")
    assert (r.certified, r.value, r.error_estimate) == (True, 0, 0)


# -- the fast path attacked: shortcuts that would skip a raise or reuse a step ------------------------

FAST_PATH_ATTACKS = [
    ("log(1 + x**6)", "x=0.00001"),  # 1 + 1e-30 cancels: a precision raise is needed
    ("exp(x) - 1 - x", "x=0.00000001"),  # cancels 16 digits
    ("log(1 + x**2)*atan(x) + x**3", "x=1e-30"),
    ("log(1 + x**2)*atan(x) + x**3", "x=1e30"),
    ("exp(-x**2)*cos(3*x)", "x=-2.75"),
    ("exp(-x**2)*cos(3*x)", "x=0"),  # f' = 0: digits count against |f|
    ("tan(x)", "x=1.5707963"),  # 3.3e-8 from a pole: the step shrinks
]


@pytest.mark.parametrize("dps", [15, 50, 300])
@pytest.mark.parametrize(("text", "point"), FAST_PATH_ATTACKS)
def test_the_fast_path_keeps_every_bound(text: str, point: str, dps: int) -> None:
    r = finite_difference(text, point, "x", dps=dps, engine="arb")
    assert_certified(r, text, point, "x", dps)


@pytest.mark.parametrize("dps", [15, 50])
@pytest.mark.parametrize(
    ("text", "point"),
    [("tan(x)", "x=1.5707963"), ("1/(x - 1)", "x=1.000001"), ("exp(40*x)", "x=2")]
    + [("log(1 + x**2)*atan(x) + x**3", f"x={x}") for x in ("1e-30", "-3", "1e30")],
)
def test_the_working_precision_carries_what_dividing_by_h_loses(
    text: str, point: str, dps: int
) -> None:
    """D(h) divides by h^m: digits counted against |f| / max(1, |x|)^m lose m·log10(max(1, |x|)/h),
    and the working precision carries them on top of dps and the guard digits, also where the
    step was shrunk for a large remainder (near a pole)."""
    r = finite_difference(text, point, "x", dps=dps, engine="arb")
    assert r.certified, r.reason
    x = abs(float(_point(point)[_LOCALS["x"]]))
    assert r.working_dps >= dps + 4 + math.log10(max(1.0, x) / float(r.step))


def test_one_function_at_points_of_every_scale() -> None:
    """Steps and constants are kept per scale and precision, never per point: one Compiled at
    tiny, huge, negative and zero coordinates holds every bound, and a point seen before gives
    the same result again."""
    text = "log(1 + x**2)*exp(y) + x**3*y + y"
    f = symgrad.function(text)
    points = ["x=1e-30, y=0.5", "x=1e30, y=-0.5", "x=-3, y=0", "x=0, y=2"]
    for dps in (15, 50, 300):
        first = []
        for point in points:
            results = finite_difference_gradient(f, point, dps=dps, engine="arb")
            for wrt, r in zip("xy", results, strict=True):
                assert_certified(r, text, point, wrt, dps)
            first.append(results)
        again = finite_difference_gradient(f, points[0], dps=dps, engine="arb")
        assert [(r.value, r.error_estimate, r.step) for r in again] == [
            (r.value, r.error_estimate, r.step) for r in first[0]
        ]


def test_a_component_that_does_not_move_is_differenced_too() -> None:
    """∇(x²y + sin z) = (2xy, x², cos z): along x the third component does not move, its
    difference is 0 within a bound as tight as the others'."""
    g = symgrad.gradient("x**2*y + sin(z)")
    r = finite_difference(g, "x=1.5, y=-2, z=0.25", "x", dps=40, engine="arb")
    assert r.certified
    ctx = _ctx()
    for got, bound, want in zip(r.value, r.error_estimate, (-4, 3, 0), strict=True):
        assert abs(ctx.convert(got) - want) <= ctx.convert(bound) <= ctx.mpf(10) ** -39


# -- no certificate where the data cannot give one --------------------------------------------------

NEAR_SINGULAR = [
    ("1/(x - 1)", "x=1.0000000000000000000000000000000000000001", "x"),  # pole 1e-40 away
    ("tan(x)", "x=1.5707963267948966192313216916397514420985846996875529104874722962", "x"),
    ("sqrt(x)", "x=0", "x"),  # branch point
    ("log(x)", "x=0", "x"),  # pole
    ("acosh(x)", "x=1", "x"),
    ("asin(x)", "x=1", "x"),
    ("abs(x)", "x=0", "x"),  # kink
    ("abs(x - 1e-80)", "x=0", "x"),  # a kink inside the stencil's interval
    ("atan2(y, x)", "x=-1, y=0", "y"),  # on the branch cut
    ("sqrt(x**2 + y**2)", "x=0, y=0", "x"),
    ("besselj(1, x)", "x=2", "x"),  # no Taylor series in python-flint
]


@pytest.mark.parametrize(("text", "point", "wrt"), NEAR_SINGULAR)
def test_no_certificate_near_poles_branch_points_and_kinks(text: str, point: str, wrt: str) -> None:
    r = finite_difference(text, point, wrt, dps=50)
    assert not r.certified, r.reason
    if r.status in ("ok", "unreliable"):
        assert "not certified on arb balls" in r.reason


def test_a_mixed_partial_is_computed_by_mpmath_and_says_so() -> None:
    r = finite_difference("sin(x*y)", "x=0.5, y=0.25", "x y", dps=30)
    assert not r.certified
    assert "mixed partial" in r.reason
    ctx = _ctx()
    x, y = ctx.mpf("0.5"), ctx.mpf("0.25")
    want = ctx.cos(x * y) - x * y * ctx.sin(x * y)
    assert abs(ctx.convert(r.value) - want) <= ctx.convert(r.error_estimate)


# -- options ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"engine": "ball"},
        {"engine": "arb", "step": "1e-5"},
        {"engine": "arb", "error_control": False},
        {"engine": "arb", "method": "mp-complex"},
        {"engine": "arb", "method": "float64"},
    ],
)
def test_engine_options_are_checked(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="engine"):
        finite_difference("sin(x)", "x=1", **options)


def test_without_python_flint(monkeypatch: pytest.MonkeyPatch) -> None:
    """engine='arb' is a MissingExtra; 'auto' is the mpmath engine, equally right."""
    import symgrad.fd._finite_diff as fd_module

    monkeypatch.setattr(fd_module, "arb_available", lambda: False)
    with pytest.raises(MissingExtra, match="python-flint"):
        finite_difference("sin(x)", "x=1", engine="arb")
    r = finite_difference("sin(x)", "x=1", dps=40)
    assert not r.certified
    ctx = _ctx()
    assert abs(ctx.convert(r.value) - ctx.cos(1)) <= ctx.convert(r.error_estimate)


def test_global_precisions_are_left_alone() -> None:
    """mpmath.mp and python-flint's precision and series cap are restored."""
    import flint

    before = (mpmath.mp.prec, flint.ctx.prec, flint.ctx.cap)
    finite_difference_gradient("exp(x)*sin(y)", "x=0.1, y=0.2", dps=300, engine="arb")
    assert (mpmath.mp.prec, flint.ctx.prec, flint.ctx.cap) == before


# -- property: a certified bound never lies ---------------------------------------------------------

_NAMES = ("x", "y", "z")


def _check_gradient(text: str, point: str, dps: int) -> None:
    results = finite_difference_gradient(text, point, dps=dps, variables=_NAMES)
    ctx = _ctx()
    for name, r in zip(_NAMES, results, strict=True):
        if not r.certified:
            assert "not certified" in r.reason or not r.ok, r.reason
            continue
        want, f_value = oracle(text, point, name, digits=max(120, dps + 40))
        value, bound = ctx.convert(r.value), ctx.convert(r.error_estimate)
        assert abs(value - want) <= bound, f"false pass: {text} at {point}, d/d{name}"
        # a planted error of 10^-(dps-2) of the size the digits count against is caught
        claimed = ctx.mpf(10) ** -dps * max(abs(want), _scale(f_value, point, name, 1))
        planted = want + 100 * claimed
        assert abs(value - planted) > bound or planted == want, (text, point, name)


@given(smooth_expressions(_NAMES), points(_NAMES), st.sampled_from([20, 50]))
@settings(max_examples=QUICK_EXAMPLES, deadline=None, derandomize=True)
def test_property_certified_bounds_hold(text: str, point: str, dps: int) -> None:
    _check_gradient(text, point, dps)


@pytest.mark.slow
@given(smooth_expressions(_NAMES), points(_NAMES), st.sampled_from([15, 30, 50, 100]))
@settings(max_examples=SLOW_EXAMPLES, deadline=None, derandomize=True)
def test_property_certified_bounds_hold_many(text: str, point: str, dps: int) -> None:
    _check_gradient(text, point, dps)


def _scale_free_expressions() -> st.SearchStrategy[str]:
    """Smooth expressions of x that stay finite (and cheap for the oracle) at any scale."""
    binary = st.sampled_from(["({}) + ({})", "({})*({})"])
    unary = st.sampled_from(["atan({})", "log(1 + ({})^2)", "1/(1 + ({})^2)"])

    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        pairs = st.tuples(binary, children, children).map(lambda t: t[0].format(t[1], t[2]))
        return pairs | st.tuples(unary, children).map(lambda t: t[0].format(t[1]))

    return st.recursive(st.sampled_from(["x", "2", "0.5", "1.25"]), extend, max_leaves=5)


_SCALED = st.tuples(st.integers(-999, 999), st.integers(-30, 30)).map(
    lambda me: f"x={me[0]}e{me[1]}, y=0.5, z=-1"
)


@given(_scale_free_expressions(), _SCALED, st.sampled_from([15, 50, 300]))
@settings(max_examples=QUICK_EXAMPLES, deadline=None, derandomize=True)
def test_property_bounds_hold_at_every_scale(text: str, point: str, dps: int) -> None:
    """Steps, constants and precisions are reused across points of one scale only: random
    expressions at x from 1e-30 to 1e33, 15 to 300 digits, never claim a wrong digit."""
    _check_gradient(text, point, dps)


@pytest.mark.slow
@given(_scale_free_expressions(), _SCALED, st.sampled_from([15, 30, 50, 100, 300]))
@settings(max_examples=SLOW_EXAMPLES, deadline=None, derandomize=True)
def test_property_bounds_hold_at_every_scale_many(text: str, point: str, dps: int) -> None:
    _check_gradient(text, point, dps)


def test_threads_give_the_serial_results() -> None:
    """python-flint's precision is global: concurrent gradients at different digits (the arb
    session lock serialises them) equal the serial ones, value and bound."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = [("exp(x)*sin(y)", "x=0.1, y=0.2", dps) for dps in (20, 50, 120, 300)] * 3
    serial = [finite_difference_gradient(t, p, dps=d, engine="arb") for t, p, d in jobs]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(lambda j: finite_difference_gradient(j[0], j[1], dps=j[2]), jobs))
    for one, other in zip(serial, threaded, strict=True):
        assert [(r.value, r.error_estimate, r.certified) for r in one] == [
            (r.value, r.error_estimate, r.certified) for r in other
        ]


def test_a_step_beyond_every_precision_is_declined_not_an_overflow() -> None:
    """exp(-1/x**2) at x = 1e-200: over the first interval the truncation bound is about
    10^(4.3e399) times the size it is counted against, a ratio whose logarithm is past float64's
    range.  The arb path declines with the reason (the caller then runs the mpmath engine)."""
    ctx = mpmath.MPContext()
    ctx.dps = 30
    x = ctx.mpf(10) ** -200  # the oracle: log10 of f'''/3! over the interval is ~ +4e399 beside
    assert ctx.log10(ctx.exp(-1 / x**2)) < -(10**399)  # f's own size 10^(-4.3e399)
    f = symgrad.function("exp(-1/x**2)")
    _, jobs = fd_module._layout("central:2", ((1,),))
    (declined,) = arb_module.certified_partials(f, [sympy.Rational(1, 10**200)], jobs, 15)
    assert isinstance(declined, arb_module.Declined)
    assert "shrink beyond every working precision" in declined.reason
