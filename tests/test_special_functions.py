"""Special functions in every stage: erf, erfc, gamma, loggamma, beta, besselj, bessely, Heaviside.

Oracles: ``scipy.special`` for float64 values, a private mpmath context at 100 digits for exact
values and ``ctx.diff`` (numerical differentiation at that precision) for derivatives, and
hand-known values at poles and domain ends.  symgrad's own code is never the reference.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import pytest
import scipy.special as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.errors import LimitExceeded, MissingExtra, ParseError, UnsupportedError
from symgrad.expr import FUNCTIONS, parse
from tests.test_security import sympy_calls

_CTX = mpmath.MPContext()
_CTX.dps = 100

# text, the mpmath reference of f(x) (order fixed where the function takes two), scipy's f(x),
# and the interval on which f is real and smooth
_Case = tuple[str, Callable[[Any], Any], Callable[[float], float], tuple[float, float]]
CASES: list[_Case] = [
    ("erf(x)", _CTX.erf, sp.erf, (-4.0, 4.0)),
    ("erfc(x)", _CTX.erfc, sp.erfc, (-4.0, 8.0)),
    ("gamma(x)", _CTX.gamma, sp.gamma, (0.05, 30.0)),
    ("gamma(x)", _CTX.gamma, sp.gamma, (-2.95, -2.05)),
    ("loggamma(x)", _CTX.loggamma, sp.loggamma, (0.05, 100.0)),
    (
        "beta(x, 5/2)",
        lambda x: _CTX.beta(x, _CTX.mpf(5) / 2),
        lambda x: sp.beta(x, 2.5),
        (0.1, 9.0),
    ),
    ("besselj(3, x)", lambda x: _CTX.besselj(3, x), lambda x: sp.jv(3, x), (-20.0, 20.0)),
    (
        "besselj(1/3, x)",
        lambda x: _CTX.besselj(_CTX.mpf(1) / 3, x),
        lambda x: sp.jv(1 / 3, x),
        (0.1, 20.0),
    ),
    ("bessely(2, x)", lambda x: _CTX.bessely(2, x), lambda x: sp.yv(2, x), (0.5, 20.0)),
    (
        "bessely(5/2, x)",
        lambda x: _CTX.bessely(_CTX.mpf(5) / 2, x),
        lambda x: sp.yv(2.5, x),
        (0.5, 20.0),
    ),
]
IDS = [f"{text}@{low:g}" for text, _, _, (low, _) in CASES]


def _points(low: float, high: float) -> st.SearchStrategy[Fraction]:
    """Multiples of 1/4096 in [low, high]: floats exactly, so both paths see the same number,
    and never so tiny that the oracle's numerical differentiation loses its digits."""
    ticks = st.integers(math.ceil(low * 4096), math.floor(high * 4096))
    return ticks.map(lambda k: Fraction(k, 4096))


def _digits_correct(got: Any, want: Any, dps: int) -> bool:
    """|got - want| <= 10^(1 - dps) |want|: all dps significant digits correct (±1 in the last).

    Plus 1e-90 absolute: the oracle's own error, which ``ctx.diff`` leaves where the true value
    is an exact 0 (it returns 1e-114 for erfc'' at 0).
    """
    got = _CTX.mpf(got)
    return bool(abs(got - want) <= _CTX.mpf(10) ** (1 - dps) * abs(want) + _CTX.mpf(10) ** -90)


def _mp(x: Fraction) -> Any:
    return _CTX.mpf(x.numerator) / x.denominator


# -- the grammar ------------------------------------------------------------------------------

BEFORE = (
    "sin cos tan sec csc cot asin acos atan sinh cosh tanh asinh acosh atanh exp sqrt "
    "arcsin arccos arctan arcsinh arccosh arctanh atan2 arctan2 log ln log10 log2 sign abs Abs "
    "min Min max Max"
)
ADDED = "erf erfc gamma loggamma beta besselj bessely Heaviside"


def test_the_allowlist_grew_by_exactly_the_special_functions() -> None:
    """The allowlist is the former one plus exactly these eight names, with their arities."""
    assert set(FUNCTIONS) == set(BEFORE.split()) | set(ADDED.split())
    arities = {n: (FUNCTIONS[n].min_args, FUNCTIONS[n].max_args) for n in ADDED.split()}
    assert arities == {
        "erf": (1, 1),
        "erfc": (1, 1),
        "gamma": (1, 1),
        "loggamma": (1, 1),
        "beta": (2, 2),
        "besselj": (2, 2),
        "bessely": (2, 2),
        "Heaviside": (1, 1),
    }


@pytest.mark.parametrize(
    "text",
    ["erf(x, y)", "gamma()", "beta(x)", "besselj(x)", "bessely(1, 2, x)", "Heaviside(x, 0)"],
)
def test_wrong_arity_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(text)
    assert info.value.reason == "arity"


def test_special_names_are_variables_unless_called() -> None:
    """gamma, beta and erf are common variable names: only a call makes them functions."""
    x, gamma, beta = (symgrad.expr.symbol(n) for n in ("x", "gamma", "beta"))
    import sympy

    assert parse("beta*gamma(x) + gamma") == beta * sympy.gamma(x) + gamma
    assert symgrad.gradient("gamma*x^2").to_strings() == ["x**2", "2*gamma*x"]
    with pytest.raises(ParseError, match="reserved"):
        symgrad.expr.validate_name("Heaviside")


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("gamma(10^7)", "constant_too_large"),
        ("loggamma(10^6 + 1/2)", "constant_too_large"),
        ("beta(3000, 2000)", "constant_too_large"),
        ("besselj(10^7, x)", "bessel_order"),
        ("bessely(-2000.5, x)", "bessel_order"),
        ("x^gamma(40)", "exponent_too_large"),
    ],
)
def test_costly_constants_are_refused_before_sympy_evaluates_them(text: str, limit: str) -> None:
    """SymPy would compute Γ(10^7) as a factorial: refused, with little SymPy work spent."""
    with pytest.raises(LimitExceeded) as info:
        parse(text)
    assert info.value.limit == limit
    assert sympy_calls(lambda: parse(text)) < 20_000


@pytest.mark.parametrize(
    "text", ["gamma(0)", "gamma(-3)", "loggamma(-1/2)", "bessely(0, 0)", "besselj(1/2, -1)"]
)
def test_constants_without_a_real_value_are_refused(text: str) -> None:
    with pytest.raises(UnsupportedError):
        parse(text)


# -- float64 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "ref", "sci", "interval"), CASES, ids=IDS)
@settings(max_examples=15, deadline=None, derandomize=True)
@given(data=st.data())
def test_float64_values_match_scipy(
    text: str, ref: Any, sci: Callable[[float], float], interval: tuple[float, float], data: Any
) -> None:
    """The compiled float64 function is scipy.special's value to a few ulps, and within 1e-13 of
    the 100-digit value relative to |f| + |x f'| (near a zero of f, the rounding of x alone
    moves f by about 1e-16 |x f'|)."""
    x = float(data.draw(_points(*interval)))
    got = float(symgrad.function(text)(x))
    want = float(sci(x))
    assert abs(got - want) <= 4 * math.ulp(want)
    exact = ref(_CTX.mpf(x))
    condition = abs(exact) + abs(x * _CTX.diff(ref, _CTX.mpf(x)))  # |f| + |x f'|: f's own scale
    assert abs(got - exact) <= 1e-13 * condition


def test_loggamma_is_nan_where_it_is_not_real() -> None:
    """SymPy's loggamma is complex for x < 0: NaN there, not log|Γ(x)| (SciPy's gammaln)."""
    f = symgrad.function("loggamma(x)")
    assert np.isnan(f(-0.5))
    assert f(0.0) == math.inf
    assert f(2.5) == pytest.approx(math.lgamma(2.5), rel=1e-15)


def test_heaviside_written_by_the_user() -> None:
    """0 left of the jump, 1/2 at it (SymPy's convention), 1 right of it; derivative 0."""
    f = symgrad.function("Heaviside(x - 1)*x")
    assert f(np.array([0.5, 1.0, 2.0])).tolist() == [0.0, 0.5, 2.0]
    assert symgrad.gradient("Heaviside(x - 1)*x")(np.array([0.5, 2.0])).tolist() == [[0.0, 1.0]]
    assert str(f.at({"x": 1}, dps=20)) == "0.5"


def test_without_scipy_compiling_a_special_function_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A missing SciPy (simulated) is a MissingExtra naming the extra; plain expressions still
    compile without it."""
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.special", None)
    with pytest.raises(MissingExtra, match=r"symgrad\[special\]"):
        symgrad.function("erf(x)")
    assert float(symgrad.function("x^2 + 1")(2.0)) == 5.0


# -- exact values -----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "ref", "sci", "interval"), CASES, ids=IDS)
@settings(max_examples=6, deadline=None, derandomize=True)
@given(data=st.data())
def test_exact_values_have_every_digit_correct(
    text: str, ref: Any, sci: Any, interval: tuple[float, float], data: Any
) -> None:
    """.at(x, dps=50) against the 100-digit value: all 50 digits correct, with arb; the
    mpmath intervals give the same digits where they can (erf, erfc, Γ, log Γ, beta)."""
    x = data.draw(_points(*interval))
    want = ref(_mp(x))
    f = symgrad.function(text)
    assert _digits_correct(f.at({"x": x}, dps=50), want, 50)
    if "bessel" in text:
        with pytest.raises(LimitExceeded, match="python-flint") as info:
            f.at({"x": x}, dps=50, engine="mpmath")
        assert info.value.limit == "unreliable"
    else:
        assert _digits_correct(f.at({"x": x}, dps=50, engine="mpmath"), want, 50)


DERIVATIVES: list[tuple[str, Any, tuple[float, float]]] = [
    (text, ref, interval) for text, ref, _, interval in CASES
]


@pytest.mark.parametrize(("text", "ref", "interval"), DERIVATIVES, ids=IDS)
@settings(max_examples=4, deadline=None, derandomize=True)
@given(data=st.data())
def test_derivatives_equal_high_precision_numerical_differentiation(
    text: str, ref: Any, interval: tuple[float, float], data: Any
) -> None:
    """SymPy's derivative (polygamma, Bessel recurrences), compiled: .at(dps=30) against
    mpmath's ctx.diff at 100 digits (its own error far below 10^-30), first and second order."""
    x = data.draw(_points(*interval))
    for order in (1, 2):
        d = symgrad.derivative(text, "x", order)
        want = _CTX.diff(ref, _mp(x), order)
        assert _digits_correct(d.at({"x": x}, dps=30), want, 30)
        assert float(d(float(x))) == pytest.approx(float(want), rel=1e-9)


@pytest.mark.parametrize(
    ("text", "point", "kind"),
    [
        ("gamma(x)", "x=0", "pole"),
        ("gamma(x)", "x=-4", "pole"),
        ("loggamma(x)", "x=0", "pole"),
        ("loggamma(x)", "x=-1/2", "not real"),
        ("beta(x, y)", "x=-2, y=1/2", "pole"),
        ("bessely(1, x)", "x=0", "pole"),
        ("bessely(1, x)", "x=-1", "not real"),
        ("besselj(1/2, x)", "x=-1", "not real"),
        ("besselj(-1/2, x)", "x=0", "pole"),
    ],
)
def test_exact_values_outside_the_domain_are_refused(text: str, point: str, kind: str) -> None:
    """A pole or a non-real value is decided by the balls, named, and never a number."""
    with pytest.raises(UnsupportedError, match=kind):
        symgrad.function(text).at(point, dps=30)


def test_exact_values_at_the_domain_ends() -> None:
    """J_nu(0) = 0 for nu > 0, J_3(-x) = -J_3(x), beta(1/2, -1/2) = Γ(1/2)Γ(-1/2)/Γ(0) = 0."""
    assert symgrad.function("besselj(1/2, x)").at("x=0", dps=20) == 0
    value = symgrad.function("besselj(3, x)").at("x=-2", dps=40)
    assert _digits_correct(value, -_CTX.besselj(3, 2), 40)
    assert symgrad.function("beta(x, y)").at("x=1/2, y=-1/2", dps=20) == 0


def test_a_true_zero_never_makes_sympy_evaluate_a_factorial() -> None:
    """sin(pi*x)*gamma(x) at x = 200000 is exactly 0; the exact fallback for true zeros must not
    ask SymPy for Γ(200000) = 199999!."""
    f = symgrad.function("sin(pi*x)*gamma(x)")
    assert f.at("x=200000", dps=20) == 0
    assert sympy_calls(lambda: f.at("x=200001", dps=20)) < 50_000


def test_the_order_of_a_bessel_function_is_not_differentiated() -> None:
    """d/dnu J_nu(x) has no closed form: refused in one sentence; d/dx is fine."""
    with pytest.raises(UnsupportedError, match="with respect to its order"):
        symgrad.gradient("besselj(nu, x)", "nu x")
    d = symgrad.derivative("besselj(nu, x)", "x")
    want = _CTX.diff(lambda t: _CTX.besselj(_CTX.mpf(3) / 2, t), 2)
    assert _digits_correct(d.at("nu=3/2, x=2", dps=30), want, 30)


# -- the checks: correct formulas pass, planted errors fail -----------------------------------

_ROOT_PI = math.sqrt(math.pi)
RED_TEAM: list[tuple[str, Callable[[Any], Any], Callable[[Any], Any], tuple[float, float]]] = [
    # (expression, its derivative by scipy, a planted slip, domain)
    (
        "erf(x)",
        lambda x: 2 * np.exp(-(x**2)) / _ROOT_PI,
        lambda x: 2 * np.exp(-(x**2)) / np.pi,
        (-3, 3),
    ),
    (
        "erfc(x)",
        lambda x: -2 * np.exp(-(x**2)) / _ROOT_PI,
        lambda x: 2 * np.exp(-(x**2)) / _ROOT_PI,
        (-3, 3),
    ),
    ("gamma(x)", lambda x: sp.gamma(x) * sp.psi(x), sp.gamma, (0.5, 5)),
    (
        "loggamma(x)*x",
        lambda x: sp.gammaln(x) + x * sp.psi(x),
        lambda x: sp.gammaln(x) + sp.psi(x),
        (0.5, 5),
    ),
    (
        "beta(x, 2)",
        lambda x: sp.beta(x, 2) * (sp.psi(x) - sp.psi(x + 2)),
        lambda x: sp.beta(x, 2) * sp.psi(x),
        (0.5, 5),
    ),
    ("besselj(0, x)", lambda x: -sp.jv(1, x), lambda x: sp.jv(1, x), (0.5, 10)),
    ("besselj(5/2, x)", lambda x: sp.jvp(2.5, x), lambda x: sp.jv(1.5, x), (0.5, 10)),
    ("bessely(1, x)", lambda x: sp.yv(0, x) - sp.yv(1, x) / x, lambda x: sp.yv(0, x), (0.5, 10)),
]


@pytest.mark.parametrize(("expr", "good", "bad", "domain"), RED_TEAM, ids=[r[0] for r in RED_TEAM])
def test_check_gradient_red_team(
    expr: str, good: Callable[[Any], Any], bad: Callable[[Any], Any], domain: tuple[float, float]
) -> None:
    """scipy's derivative is not failed; a planted slip (a lost factor, a wrong sign, a missing
    chain-rule term, a neighbouring order) fails."""
    assert symgrad.check_gradient(bad, expr, n_points=20, domain=domain).status.value == "fail"
    assert symgrad.check_gradient(good, expr, n_points=20, domain=domain).status.value != "fail"


@pytest.mark.parametrize(
    ("expr", "point"),
    [("erf(x)*gamma(y)", "x=0.3, y=2.5"), ("besselj(2, x)*loggamma(y)", "x=1.7, y=0.4")],
)
def test_check_passes_correct_symbolic_derivatives(expr: str, point: str) -> None:
    result = symgrad.check(expr, point)
    assert result.status.value == "pass", result.reason


def test_check_reports_a_pole_as_inconclusive() -> None:
    result = symgrad.check("gamma(x)", "x=0")
    assert result.status.value == "inconclusive"
    assert "pole" in result.reason


@pytest.mark.parametrize("text", ["besselj(1, x)", "bessely(2, x)", "beta(x, 2)"])
def test_the_float64_complex_step_refuses_functions_without_accurate_complex_values(
    text: str,
) -> None:
    """scipy's jv(1, 1.5 + 1e-200j) has an imaginary part 10^168 times too large, and beta
    takes no complex input: the float64 complex step refuses them instead of a wrong number."""
    with pytest.raises(UnsupportedError, match="complex step"):
        symgrad.finite_difference(text, "x=1.5", method="complex")


@pytest.mark.parametrize("text", ["erf(x)", "erfc(x)", "gamma(x)", "loggamma(x)"])
def test_the_float64_complex_step_is_accurate_where_it_runs(text: str) -> None:
    """Where it is allowed, the complex step is f'(x) to 1e-13 (100-digit ctx.diff reference)."""
    ref = {"erf": _CTX.erf, "erfc": _CTX.erfc, "gamma": _CTX.gamma, "loggamma": _CTX.loggamma}
    want = _CTX.diff(ref[text.partition("(")[0]], _CTX.mpf(1.5))
    got = symgrad.finite_difference(text, "x=1.5", method="complex").value
    assert abs(float(got) - want) <= 1e-13 * abs(want)


# -- red team at scale: exact values never lie ------------------------------------------------

_SCALE: list[tuple[str, Callable[[Any], Any]]] = [
    ("gamma(x/100)", lambda x: _CTX.gamma(x / 100)),
    ("loggamma(x/50)", lambda x: _CTX.loggamma(x / 50)),
    ("beta(x/200, 7/3 - x/300)", lambda x: _CTX.beta(x / 200, _CTX.mpf(7) / 3 - x / 300)),
    ("besselj(1/3, x/10)", lambda x: _CTX.besselj(_CTX.mpf(1) / 3, x / 10)),
    ("bessely(2, x/10)", lambda x: _CTX.bessely(2, x / 10)),
    ("erfc(x/100)*gamma(x/100) - 1", lambda x: _CTX.erfc(x / 100) * _CTX.gamma(x / 100) - 1),
]


def _reference(ref: Callable[[Any], Any], x: Fraction) -> Any:
    """The 120-digit value, or None where it is not a finite real number (pole, complex)."""
    try:
        value = ref(_mp(x))
    except (ValueError, ZeroDivisionError):  # mpmath's poles
        return None
    if isinstance(value, _CTX.mpc):
        value = value.real if value.imag == 0 else None
    return value if value is not None and _CTX.isfinite(value) else None


@pytest.mark.slow
@pytest.mark.parametrize(("text", "ref"), _SCALE, ids=[t for t, _ in _SCALE])
@pytest.mark.parametrize("engine", ["arb", "mpmath"])
@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    x=st.integers(-4000, 4000).flatmap(
        lambda k: st.sampled_from([1, 2, 3, 7, 1024]).map(lambda d: Fraction(k, d))
    )
)
def test_exact_values_are_right_or_refused(
    text: str, ref: Callable[[Any], Any], engine: str, x: Fraction
) -> None:
    """Every value .at() returns has its 40 digits; it refuses only non-real or infinite
    values (and, with mpmath intervals, the Bessel functions, as unreliable)."""
    want = _reference(ref, x)
    f = symgrad.function(text)
    if engine == "mpmath" and "bessel" in text:
        with pytest.raises(LimitExceeded, match="unreliable"):
            f.at({"x": x}, dps=40, engine=engine)
    elif want is None:
        with pytest.raises(UnsupportedError, match=r"pole|not real"):
            f.at({"x": x}, dps=40, engine=engine)
    else:
        assert _digits_correct(f.at({"x": x}, dps=40, engine=engine), want, 40)


def test_a_bessel_order_beyond_the_cap_at_a_point_is_unreliable_not_a_crash() -> None:
    """An order given by a variable is capped where it is evaluated: the exact value is
    unreliable (SymPy's own evaluation of J_(10^7)(3e7) never converges) and the check says so
    instead of calling it a pole; orders within the cap are exact (J_1000(3) is 3.06e-2392)."""
    f = symgrad.function("besselj(n, x)")
    with pytest.raises(LimitExceeded, match="Bessel orders above 1000") as info:
        f.at("n=2000, x=3", dps=20)
    assert info.value.limit == "unreliable"
    result = symgrad.check("besselj(n, x)", "n=5000, x=3", kind=["x"])
    assert result.status.value == "inconclusive"
    assert "cannot be evaluated" in result.reason
    assert "pole" not in result.reason
    assert _digits_correct(f.at("n=1000, x=3", dps=20), _CTX.besselj(1000, 3), 20)
