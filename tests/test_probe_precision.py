"""The mpmath referee at points extremely close to a pole or branch point.

A point is exact (a decimal the user wrote), and the referee must decide whether f is finite
and real there at a precision that holds it: 1 + 1e-40 rounded to 22 digits is the pole of
1/(x - 1).  Every value is checked against the closed-form derivative evaluated by mpmath at
300 digits in a private context, at the exact rational point; the point's distance to the
singularity is 10^-k with k up to 60, on both sides, at dps 15 and 30.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any, NamedTuple

import mpmath
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.fd import _engine
from symgrad.fd._engine import _Held, _holding, _PointProblem, digits_lost

_CTX = mpmath.MPContext()
_CTX.dps = 300

_Mp = Callable[[Any, Any], Any]
_SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)


def _exact(x: Fraction) -> Any:
    return _CTX.mpf(x.numerator) / x.denominator


def _decimal(x: Fraction) -> str:
    """The exact decimal of a fraction whose denominator divides a power of ten."""
    digits = 0
    while 10**digits % x.denominator:
        digits += 1
    scaled = str(abs(x.numerator) * (10**digits // x.denominator)).rjust(digits + 1, "0")
    sign = "-" if x < 0 else ""
    return sign + (f"{scaled[:-digits]}.{scaled[-digits:]}" if digits else scaled)


def _minus(a: Fraction) -> str:
    """'x - a' as text."""
    return f"x - {_decimal(a)}" if a >= 0 else f"x + {_decimal(-a)}"


def _pi_half(k: int) -> Fraction:
    """π/2 cut to k + 3 decimals (so a point 10^-k away is about 10^-k from the pole)."""
    scale = 10 ** (k + 3)
    return Fraction(int(_CTX.floor(_CTX.pi / 2 * scale)), scale)


class Family(NamedTuple):
    """f with a singularity at ``place``, real on ``sides`` (+1 above, -1 below) near it."""

    text: str
    place: Fraction
    sides: tuple[int, ...]
    derivative: _Mp  # f'(x) by its closed form


_PLACES = (Fraction(1), Fraction(1, 10), Fraction(-5, 2))


def _shifted(a: Fraction, of_distance: _Mp) -> _Mp:
    """f'(x) as a function of the distance x - a."""
    return lambda m, x: of_distance(m, x - _exact(a))


def _families(k: int) -> list[Family]:
    found: list[Family] = []
    for a in _PLACES:
        found.append(Family(f"1/({_minus(a)})", a, (1, -1), _shifted(a, lambda m, d: -1 / d**2)))
        found.append(Family(f"log({_minus(a)})", a, (1,), _shifted(a, lambda m, d: 1 / d)))
        found.append(
            Family(f"sqrt({_minus(a)})", a, (1,), _shifted(a, lambda m, d: 1 / (2 * m.sqrt(d))))
        )
    for one in (Fraction(1), Fraction(-1)):
        inside = (-1,) if one > 0 else (1,)
        found.append(Family("atanh(x)", one, inside, lambda m, x: 1 / (1 - x**2)))
        found.append(Family("asin(x)", one, inside, lambda m, x: 1 / m.sqrt(1 - x**2)))
        found.append(Family("acos(x)", one, inside, lambda m, x: -1 / m.sqrt(1 - x**2)))
    found.append(Family("tan(x)", _pi_half(k), (1, -1), lambda m, x: 1 / m.cos(x) ** 2))
    return found


_FAMILY_COUNT = len(_families(1))


def _near(family: Family, k: int, side: int) -> Fraction:
    return family.place + side * Fraction(1, 10**k)


def _assert_true_or_declined(result: Any, truth: Any, dps: int) -> None:
    """ok with every claimed digit right, or unreliable with a reason: never pole or domain."""
    status = result.status.value
    assert status in ("ok", "unreliable"), (status, result.reason)
    assert result.reason
    if status == "ok":
        error = abs(_CTX.mpf(result.value) - truth)
        assert error <= _CTX.mpf(result.error_estimate), (result.value, truth, result.reason)
        assert error <= abs(truth) * _CTX.mpf(10) ** (1 - dps), (result.value, truth)


# ----------------------------------------------------------------- the reproducers, exactly

_REPRODUCERS = [
    ("1/(x-1)", "1.0000000000000000000000000000000000000001", lambda m, x: -1 / (x - 1) ** 2),
    ("atanh(x)", "0.999999999999999999999999999999", lambda m, x: 1 / (1 - x**2)),
    ("asin(x)", "0.999999999999999999999999999999", lambda m, x: 1 / m.sqrt(1 - x**2)),
]


@pytest.mark.parametrize(("expr", "x", "derivative"), _REPRODUCERS)
@pytest.mark.parametrize("method", ["auto", "mp"])
@pytest.mark.parametrize("dps", [15, 30])
def test_a_point_near_a_singularity_gets_its_derivative(
    expr: str, x: str, derivative: _Mp, method: str, dps: int
) -> None:
    truth = derivative(_CTX, _exact(Fraction(x)))
    r = symgrad.finite_difference(expr, f"x={x}", "x", dps=dps, method=method)
    _assert_true_or_declined(r, truth, dps)
    assert r.status.value == "ok", r.reason


def test_the_working_precision_holds_the_point() -> None:
    """1 + 1e-40 needs 41 digits: every value was computed with at least those (and the
    argument of atanh, 1 - 1e-40, is inside its domain)."""
    x = "1.0000000000000000000000000000000000000001"
    for method in ("auto", "mp"):
        r = symgrad.finite_difference("atanh(x - 2e-40)", f"x={x}", "x", dps=15, method=method)
        assert r.working_dps >= 41
        u = _exact(Fraction(x)) - 2 * _CTX.mpf(10) ** -40  # 1 - 1e-40
        _assert_true_or_declined(r, 1 / (1 - u**2), 15)
        assert r.status.value == "ok", r.reason


def test_two_variables_near_their_diagonal() -> None:
    y = Fraction(10**40 + 1, 10**40)
    truth = 1 / (1 - _exact(y)) ** 2  # d/dy of 1/(x - y) at x = 1
    r = symgrad.finite_difference("1/(x-y)", f"x=1, y={_decimal(y)}", "y", dps=15)
    _assert_true_or_declined(r, truth, 15)
    assert r.status.value == "ok", r.reason


def test_a_second_derivative_near_a_pole_is_never_called_a_pole() -> None:
    x = Fraction(10**35 + 1, 10**35)
    r = symgrad.finite_difference("atanh(x)", f"x={_decimal(2 - x)}", ("x", 2), dps=15)
    truth = 2 * _exact(2 - x) / (1 - _exact(2 - x) ** 2) ** 2
    _assert_true_or_declined(r, truth, 15)


# ------------------------------------------------------------------------ the property


@_SETTINGS
@given(
    which=st.integers(0, _FAMILY_COUNT - 1),
    k=st.integers(1, 60),
    dps=st.sampled_from([15, 30]),
    pick=st.integers(0, 1),
    method=st.sampled_from(["auto", "mp"]),
)
def test_near_a_singularity_the_referee_is_right_or_declines(
    which: int, k: int, dps: int, pick: int, method: str
) -> None:
    family = _families(k)[which]
    x = _near(family, k, family.sides[pick % len(family.sides)])
    truth = family.derivative(_CTX, _exact(x))
    assert _CTX.isfinite(truth)
    r = symgrad.finite_difference(family.text, f"x={_decimal(x)}", "x", dps=dps, method=method)
    _assert_true_or_declined(r, truth, dps)


@pytest.mark.parametrize("k", [20, 40, 60])
@pytest.mark.parametrize("method", ["auto", "mp"])
def test_every_family_is_resolved_to_its_digits(k: int, method: str) -> None:
    """Not only no lie: at 10^-20, 10^-40 and 10^-60 from the singularity, on every side where
    f is real, every family gets all 15 digits, the stencil alone too."""
    for family in _families(k):
        for side in family.sides:
            x = _near(family, k, side)
            r = symgrad.finite_difference(family.text, f"x={_decimal(x)}", "x", method=method)
            _assert_true_or_declined(r, family.derivative(_CTX, _exact(x)), 15)
            assert r.status.value == "ok", (family.text, k, side, r.reason)


@_SETTINGS
@given(which=st.integers(0, _FAMILY_COUNT - 2), k=st.integers(1, 60), dps=st.sampled_from([15, 30]))
def test_a_point_on_or_beyond_the_singularity_is_still_classified(
    which: int, k: int, dps: int
) -> None:
    """Planted: the exact point is the singularity, or 10^-k outside the real domain (tan's
    irrational pole is never met exactly, and is left out): never an ``ok`` value."""
    family = _families(k)[which]
    outside = [s for s in (1, -1) if s not in family.sides]
    points = [family.place] + [_near(family, k, s) for s in outside]
    for x in points:
        r = symgrad.finite_difference(family.text, f"x={_decimal(x)}", "x", dps=dps)
        assert r.status.value in ("pole", "domain"), (family.text, _decimal(x), r.reason)


# ------------------------------------------------------------ the cost at ordinary points


class _NoFloor:
    """``_holding`` as if every point were held by any working precision."""

    def __call__(self, *args: Any, **kwargs: Any) -> _Held:
        return _Held(0, 0.0)


_ORDINARY = [
    ("sin(x)*exp(x)", "x=0.3"),
    ("1/(x - 1)", "x=3"),
    ("log(x)", "x=1e-30"),
    ("atanh(x)", "x=0.5"),
    ("x*exp(-x)", "x=1e200"),
    ("sqrt(x**2 + 0.1)", "x=0.1000000000000000055511151231257827021181583404541015625"),
    ("asin(x)", "x=-0.999"),
]


@pytest.mark.parametrize(("expr", "at"), _ORDINARY)
@pytest.mark.parametrize("method", ["auto", "mp"])
def test_ordinary_points_cost_what_they_did(
    expr: str, at: str, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Identical results, working digits and evaluation counts with the point floor removed."""
    kwargs: dict[str, Any] = {"dps": 15, "method": method, "engine": "mpmath"}
    held = symgrad.finite_difference(expr, at, "x", **kwargs)
    monkeypatch.setattr(_engine, "_holding", _NoFloor())
    plain = symgrad.finite_difference(expr, at, "x", **kwargs)
    assert held.to_dict() == plain.to_dict()


def test_a_float_next_to_tan_s_pole_costs_no_more(monkeypatch: pytest.MonkeyPatch) -> None:
    """tan at 1.5707963267948966, 6e-17 from π/2: the stencil's step jumps below the distance
    its 17 digits allow a pole at once, instead of shrinking by the missing digits."""
    kwargs: dict[str, Any] = {"dps": 15, "method": "mp", "engine": "mpmath"}
    x = Fraction("1.5707963267948966")
    truth = 1 / _CTX.cos(_exact(x)) ** 2
    held = symgrad.finite_difference("tan(x)", f"x={_decimal(x)}", "x", **kwargs)
    _assert_true_or_declined(held, truth, 15)
    assert held.status.value == "ok", held.reason
    monkeypatch.setattr(_engine, "_holding", _NoFloor())
    plain = symgrad.finite_difference("tan(x)", f"x={_decimal(x)}", "x", **kwargs)
    assert held.evaluations <= plain.evaluations
    assert held.working_dps <= plain.working_dps


def test_the_point_floor_is_zero_where_the_point_is_short() -> None:
    """Digits that hold the point, from its numerator and denominator and f's constants: far
    fewer than the 19 the referee's smallest precision carries at dps = 15, unless the point
    (or a constant) really has more."""
    f = symgrad.function("1/(x - 1)")
    assert _holding(f, [sympy.Rational(3, 10)]).digits <= 3
    assert _holding(f, [sympy.Integer(10) ** 200]).digits <= 3  # one significant digit
    assert _holding(f, [sympy.Integer(10) ** 200 / 3]).digits <= 3
    assert _holding(f, [sympy.Rational(1, 10**300)]).digits <= 3
    float_tenth = sympy.Rational(*(0.1).as_integer_ratio())
    assert _holding(symgrad.function("x - 0.1"), [float_tenth]).digits <= 19
    assert _holding(f, [sympy.Rational(10**40 + 1, 10**40)]).digits >= 41
    # a constant with 201 digits places a singularity 1 from 1e200: 200 digits hold it
    g = symgrad.function("1/(x - 100000000000000000000000000000*10**171 - 1)")
    assert _holding(g, [sympy.Integer(10) ** 200]).digits >= 201


def test_a_point_beyond_every_working_precision_is_undecided() -> None:
    """1 + 10^-5000 (no user point has so many digits; the engine is given it directly) rounds
    to the pole at the largest working precision: undecided, not a pole."""
    f = symgrad.function("1/(x - 1)")
    x0 = [sympy.Rational(10**5000 + 1, 10**5000)]
    with pytest.raises(_PointProblem) as caught:
        digits_lost(f, x0, 15)
    assert not caught.value.held
    result = _engine._failed(f, caught.value, "mp", "central:2:d1", 19, 1)
    assert result.status.value == "unreliable"
    assert "cannot be decided" in result.reason


def test_at_the_edge_itself_the_status_is_unchanged() -> None:
    """sqrt(x) at 0 and asin(x) at 1: the stencil meets the edge at every step, so domain."""
    for expr, at in [("sqrt(x)", "x=0"), ("asin(x)", "x=1"), ("sqrt(x - 0.5)", "x=0.5")]:
        r = symgrad.finite_difference(expr, at, "x", dps=15)
        assert r.status.value == "domain", (expr, r.reason)


def test_a_given_step_across_a_nearby_singularity_is_unreliable() -> None:
    """asin at 1 - 1e-30 with h = 1e-10: the stencil leaves the domain, the point does not."""
    x = "0.999999999999999999999999999999"
    kwargs: dict[str, Any] = {"dps": 15, "method": "mp", "engine": "mpmath"}
    wide = symgrad.finite_difference("asin(x)", f"x={x}", "x", step="1e-10", **kwargs)
    assert wide.status.value == "unreliable"
    assert "given step" in wide.reason
    inside = symgrad.finite_difference("asin(x)", f"x={x}", "x", step="1e-40", **kwargs)
    truth = 1 / _CTX.sqrt(1 - _exact(Fraction(x)) ** 2)
    _assert_true_or_declined(inside, truth, 15)
    assert inside.status.value == "ok", inside.reason
    edge = symgrad.finite_difference("sqrt(x)", "x=0", "x", step="1e-10", **kwargs)
    assert edge.status.value == "domain", edge.reason
