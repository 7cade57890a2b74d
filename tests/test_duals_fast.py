"""The referee's forward pass in float64 gives no fewer digits and no wider steps than in mpmath.

The pass over f's operations (value and slope of every intermediate) first runs in float64
with a bound on every error, and hands a point to the mpmath pass wherever float64 cannot
vouch for it (a value beyond 1e140, a cancellation, a large argument of sin, a point outside
a domain, a function it has no rule for).  Here the two passes are compared on red-team
reproducers and on random expressions at random points (the float pass must never ask for
fewer working digits or allow a wider step), the float pass's slopes of f are compared with
SymPy's derivative evaluated in a private mpmath context, and its work is counted: at fresh
points of a smooth function no mpmath pass runs at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import mpmath
import pytest
import sympy
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import symgrad
import symgrad.fd._engine as engine

X, Y = sympy.symbols("x y")
_DPS = 50
_SETTINGS = settings(
    max_examples=60, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate]
)


def _ctx(dps: int) -> mpmath.MPContext:
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


def _forget() -> None:
    engine._DUALS.__dict__.pop("cache", None)


@contextmanager
def _mpmath_only() -> Iterator[None]:
    """The mpmath pass alone (the float pass declines everywhere)."""
    _forget()
    with mock.patch.object(engine, "_float_duals", return_value=None):
        yield
    _forget()


@contextmanager
def _mpmath_nodes() -> Iterator[dict[str, int]]:
    """Counts the nodes the mpmath pass evaluates (``_combine``), from forgotten caches."""
    calls = {"n": 0}
    original = engine._combine

    def counting(*args: Any) -> Any:
        calls["n"] += 1
        return original(*args)

    _forget()
    with mock.patch.object(engine, "_combine", counting):
        yield calls


def _decisions(f: symgrad.Compiled, x0: tuple[sympy.Rational, ...]) -> list[tuple[Any, ...]]:
    """Per axis: the extra working digits (at two step scales) and the step's reach."""
    out = []
    for axis in range(len(x0)):
        counts = tuple(int(j == axis) for j in range(len(x0)))
        reach = engine._reach(f, x0, counts, _DPS)
        digits = [engine._node_digits(f, x0, counts, [s] * len(x0), dps=_DPS) for s in (0.0, -3.0)]
        out.append((digits, reach[axis]))
    return out


def _compare(f: symgrad.Compiled, x0: tuple[sympy.Rational, ...]) -> bool:
    """The float pass (where it vouches) asks for >= the digits and <= the reach of mpmath's.

    Returns whether the float pass vouched at x0.
    """
    _forget()
    vouched = engine._float_duals(f, x0) is not None
    fast = _decisions(f, x0)
    with _mpmath_only():
        slow = _decisions(f, x0)
    for (fast_digits, fast_reach), (slow_digits, slow_reach) in zip(fast, slow, strict=True):
        assert all(a >= b for a, b in zip(fast_digits, slow_digits, strict=True))
        assert all(a <= b + 1 for a, b in zip(fast_digits, slow_digits, strict=True))
        assert (fast_reach is None) == (slow_reach is None)
        if fast_reach is not None and slow_reach is not None:
            assert slow_reach - 1 <= fast_reach <= slow_reach
    return vouched


def _point(*values: str) -> tuple[sympy.Rational, ...]:
    return tuple(sympy.Rational(v) for v in values)


# -- reproducers: where float64 cannot see, the mpmath pass decides --------------------------


@pytest.mark.parametrize(
    ("expr", "point"),
    [
        (sympy.sin(X + sympy.Integer(10) ** 100) + X, ("1/2",)),  # a value beyond float64
        (sympy.tan(X**2) + X, ("10**200",)),
        (sympy.sin(X), ("1500000000000001/3",)),  # sin of 5e14 + 1/3: rounding of x
        (X + Y - 1, ("1", "1/1000000000000")),  # a cancellation
        (abs(X - sympy.Rational(1, 3)), ("3333333333333333333333333333333/10**31",)),
        (sympy.log(X), ("-1",)),  # outside the domain
        (sympy.log(1 + X**6), ("1/100000",)),  # 1 + 1e-30 is 1 in float64: log gives 0
        (sympy.exp(X**3 / 4), ("10**30",)),  # an overflow
        (sympy.besselj(0, X), ("1/2",)),  # a function without a float rule
        (X**400, ("1/10",)),  # 1e-400 underflows to zero: no exact zero
        (sympy.exp(-X) * X, ("800",)),
        (X + 1, ("10**-400",)),
        (X + sympy.Integer(10) ** -400, ("1",)),
    ],
)
def test_the_float_pass_declines_what_it_cannot_vouch_for(expr: Any, point: tuple[str]) -> None:
    variables = sorted(expr.free_symbols, key=str)
    f = symgrad.function(expr, variables)
    x0 = tuple(sympy.Rational(sympy.sympify(p)) for p in point)
    _forget()
    assert engine._float_duals(f, x0) is None
    _compare(f, x0)


@pytest.mark.parametrize(
    ("expr", "point"),
    [
        (sympy.sin(X + Y) * sympy.exp(-(Y**2)), ("3/10", "7/10")),
        (X + sympy.Integer(10) ** 20, ("1/2",)),  # 20 more digits, from float64 magnitudes
        (sympy.tan(50 * X) + abs(X - Y), ("1/3", "1/7")),
        (sympy.sqrt(X * Y) / (1 + X**2) ** 3, ("2", "1/10**9")),
    ],
)
def test_the_float_pass_matches_the_mpmath_pass(expr: Any, point: tuple[str, ...]) -> None:
    variables = sorted(expr.free_symbols, key=str)
    f = symgrad.function(expr, variables)
    x0 = tuple(sympy.Rational(sympy.sympify(p)) for p in point)
    assert _compare(f, x0)


def test_an_inner_constant_costs_its_digits_in_both_passes() -> None:
    """x + 1e20 at x = 1/2 moves by h while it is 1e20 + 1/2: log10 of that, 20.000...02,
    rounded up, more digits per differentiation (and 3 more for a step scale of 1e-3)."""
    f = symgrad.function(X + sympy.Integer(10) ** 20, [X])
    x0 = _point("1/2")
    _forget()
    assert engine._float_duals(f, x0) is not None

    def digits() -> list[int]:
        return [
            engine._node_digits(f, x0, (1,), [0.0], dps=_DPS),
            engine._node_digits(f, x0, (2,), [-3.0], dps=_DPS),
        ]

    fast = digits()
    with _mpmath_only():
        slow = digits()
    assert fast == [21, 47]  # ceil(log10(1e20 + 1/2)), ceil(2·(log10(1e20 + 1/2) + 3))
    assert all(a >= b for a, b in zip(fast, slow, strict=True))  # mpmath rounds at 15 digits


# -- random expressions at random points -------------------------------------------------------

_LEAVES = st.sampled_from([X, Y, sympy.Rational(3, 7), sympy.Integer(2), sympy.Rational(-5, 4)])
_UNARY = st.sampled_from([sympy.sin, sympy.cos, sympy.exp, sympy.tan, sympy.log, sympy.Abs])
_POWERS = st.sampled_from([2, 3, -1, -2, sympy.Rational(1, 2), sympy.Rational(-1, 3)])


def _grow(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.builds(lambda a, b: a + b, inner, inner),
        st.builds(lambda a, b: a * b, inner, inner),
        st.builds(lambda g, a: g(a), _UNARY, inner),
        st.builds(lambda a, p: a**p, inner, _POWERS),
    )


_EXPRS = st.recursive(_LEAVES, _grow, max_leaves=8).filter(
    lambda e: e.has(X) and e.is_finite is not False and not e.has(sympy.zoo, sympy.nan)
)
_COORDS = st.fractions(-50, 50, max_denominator=10**6)


def _function(expr: Any) -> symgrad.Compiled:
    return symgrad.function(expr, [X, Y])


@_SETTINGS
@given(expr=_EXPRS, x=_COORDS, y=_COORDS)
def test_property_no_fewer_digits_and_no_wider_step(expr: Any, x: Any, y: Any) -> None:
    try:
        f = _function(expr)
    except symgrad.SymgradError:
        return
    _compare(
        f, (sympy.Rational(x.numerator, x.denominator), sympy.Rational(y.numerator, y.denominator))
    )


@_SETTINGS
@given(expr=_EXPRS, x=_COORDS, y=_COORDS)
def test_property_the_float_slope_of_f_is_sympys(expr: Any, x: Any, y: Any) -> None:
    """Where the float pass vouches, f's value and slope are good to 1e-3 (SymPy's derivative
    at 60 digits, in a private mpmath context)."""
    try:
        f = _function(expr)
    except symgrad.SymgradError:
        return
    x0 = (sympy.Rational(x.numerator, x.denominator), sympy.Rational(y.numerator, y.denominator))
    _forget()
    found = engine._float_duals(f, x0)
    if found is None:
        return
    ctx = _ctx(60)
    real = sympy.symbols("x y", real=True)  # so that SymPy differentiates abs by sign
    expr = expr.subs(dict(zip((X, Y), real, strict=True)))
    at = dict(zip(real, x0, strict=True))
    for axis, v in enumerate(real):
        (root,) = found[axis].roots
        if root is None:
            continue
        value = ctx.mpf(sympy.N(expr.subs(at), 60))
        slope = ctx.mpf(sympy.N(sympy.diff(expr, v).subs(at), 60))
        assert abs(ctx.mpf(root.value) - value) <= abs(value) * ctx.mpf("1e-3")
        assert abs(ctx.mpf(root.slope) - slope) <= abs(slope) * ctx.mpf("1e-3")


@pytest.mark.slow
@settings(max_examples=600, deadline=None, derandomize=True)
@given(expr=_EXPRS, x=_COORDS, y=_COORDS)
def test_property_no_fewer_digits_many(expr: Any, x: Any, y: Any) -> None:
    test_property_no_fewer_digits_and_no_wider_step.hypothesis.inner_test(expr, x, y)  # type: ignore[attr-defined]


# -- work, counted ------------------------------------------------------------------------------


def test_fresh_points_of_a_smooth_function_run_no_mpmath_pass() -> None:
    """sin(x + y)·exp(-z²) at 16 fresh points: every partial ok and right, and the mpmath
    pass (``_combine``, once per node) never runs."""
    z = sympy.Symbol("z")
    f = symgrad.function(sympy.sin(X + Y) * sympy.exp(-(z**2)), [X, Y, z])
    calls = {"n": 0}
    original = engine._combine

    def counting(*args: Any) -> Any:
        calls["n"] += 1
        return original(*args)

    ctx = _ctx(80)
    _forget()
    with mock.patch.object(engine, "_combine", counting):
        for i in range(16):
            a, b, c = (ctx.mpf(3) / 10 + ctx.mpf(i) / 1000, ctx.mpf(7) / 10, ctx.mpf(1) / 2)
            point = {
                "x": sympy.Rational(3, 10) + sympy.Rational(i, 1000),
                "y": sympy.Rational(7, 10),
                "z": sympy.Rational(1, 2),
            }
            results = symgrad.finite_difference_gradient(
                f, point, dps=30, method="mp", engine="mpmath"
            )
            truth = [
                ctx.cos(a + b) * ctx.exp(-c * c),
                ctx.cos(a + b) * ctx.exp(-c * c),
                -2 * c * ctx.sin(a + b) * ctx.exp(-c * c),
            ]
            for r, t in zip(results, truth, strict=True):
                assert r.ok
                assert abs(ctx.mpf(r.value) - t) <= abs(t) * ctx.mpf("1e-29")
    assert calls["n"] == 0


def test_a_point_float64_cannot_see_runs_the_mpmath_pass() -> None:
    """sin(x + 1e100) + x: the float pass declines and the mpmath pass walks f's 3 nodes, at
    54 digits and again at the 108 that sin's argument 1e100 needs (``_condition``)."""
    f = symgrad.function(sympy.sin(X + sympy.Integer(10) ** 100) + X, [X])
    with _mpmath_nodes() as calls:
        engine._duals(f, _point("1/2"), 0, _DPS)
    assert calls["n"] == 2 * 3


def test_a_node_beyond_float_range_costs_the_working_cap_not_an_overflow() -> None:
    """exp(x³/4) + y·z at x = 1e300: moving y by h changes f (1e(1e899)) by 2h, 1e899 digits
    down (float infinity); the digit count stops at the engine's cap instead of raising
    OverflowError (and the stencil's ok values along y and z hold their huge estimates: the
    slow test below)."""
    z = sympy.Symbol("z")
    f = symgrad.function(sympy.exp(X**3 / 4) + Y * z, [X, Y, z])
    x0 = (sympy.Integer(10) ** 300, sympy.Rational(1, 10**300), sympy.Integer(-2))
    assert engine._node_digits(f, x0, (0, 1, 0), [-300.0] * 3, dps=25) == engine._MAX_WORK


@pytest.mark.slow
def test_a_node_beyond_float_range_leaves_honest_values() -> None:
    """The gradient of exp(x³/4) + y·z at x = 1e300 (4,000 working digits: slow)."""
    z = sympy.Symbol("z")
    f = symgrad.function(sympy.exp(X**3 / 4) + Y * z, [X, Y, z])
    x0 = (sympy.Integer(10) ** 300, sympy.Rational(1, 10**300), sympy.Integer(-2))
    results = symgrad.finite_difference_gradient(
        f, {"x": x0[0], "y": x0[1], "z": x0[2]}, dps=25, engine="mpmath"
    )
    ctx = _ctx(50)
    for result, truth in zip(results[1:], (ctx.mpf(-2), ctx.mpf(10) ** -300), strict=True):
        if result.ok:
            assert abs(ctx.mpf(result.value) - truth) <= ctx.mpf(result.error_estimate)


# -- sinh, cosh, tanh, atan, asin and acos in float64 ---------------------------------------

_MORE_RULES = {
    "sinh": (engine._f_sinh, lambda c, t: (c.sinh(t), c.cosh(t)), 700.0),
    "cosh": (engine._f_cosh, lambda c, t: (c.cosh(t), c.sinh(t)), 700.0),
    "tanh": (engine._f_tanh, lambda c, t: (c.tanh(t), 1 - c.tanh(t) ** 2), 40.0),
    "atan": (engine._f_atan, lambda c, t: (c.atan(t), 1 / (1 + t * t)), 1e60),
    "asin": (engine._f_asin, lambda c, t: (c.asin(t), 1 / c.sqrt(1 - t * t)), 1.0),
    "acos": (engine._f_acos, lambda c, t: (c.acos(t), -1 / c.sqrt(1 - t * t)), 1.0),
}


@pytest.mark.parametrize("name", sorted(_MORE_RULES))
@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    where=st.floats(-1, 1),
    scale=st.floats(0, 1),
    rel=st.sampled_from([0.0, 2.0**-53, 1e-12, 1e-8, 1e-5]),
    where_in=st.floats(-1, 1),
)
def test_property_a_float_rule_encloses_the_function_and_its_slope(
    name: str, where: float, scale: float, rel: float, where_in: float
) -> None:
    """The value ± error and slope ± error of g(u) contain g and g' (60 digits, private
    context) at every point of [u − e, u + e], the interval the argument's error allows."""
    rule, truth, reach = _MORE_RULES[name]
    x = where * (reach * scale if reach > 1 else 1 - 1e-9)
    e = abs(x) * rel
    try:
        node = rule(engine._Float(x, e, (1.0,), (0.0,)))
    except (engine._Unsure, ArithmeticError, ValueError):
        return  # declined: the mpmath pass decides
    ctx = _ctx(60)
    t = ctx.mpf(x) + ctx.mpf(e) * ctx.mpf(where_in)
    value, slope = truth(ctx, t)
    assert abs(value - node.value) <= node.error
    assert abs(slope - node.slopes[0]) <= node.errors[0]


def test_a_planted_error_bound_is_caught_by_the_enclosure() -> None:
    """The enclosure check fails a rule that forgets the argument's error (asin at 0.99)."""
    ctx = _ctx(60)
    x, e = 0.99, 1e-6
    node = engine._f_asin(engine._Float(x, e, (1.0,), (0.0,)))
    forgetful = node.error - e / (1 - x * x) ** 0.5  # what the argument's error moved
    assert abs(ctx.asin(ctx.mpf(x) + ctx.mpf(e)) - node.value) <= node.error
    assert abs(ctx.asin(ctx.mpf(x) + ctx.mpf(e)) - node.value) > forgetful


_HYPERBOLIC = st.sampled_from(
    [sympy.sinh, sympy.cosh, sympy.tanh, sympy.atan, sympy.asin, sympy.acos]
)


@_SETTINGS
@given(
    g=_HYPERBOLIC, h=_UNARY, a=st.sampled_from([1, 2, sympy.Rational(1, 3)]), x=_COORDS, y=_COORDS
)
def test_property_the_new_rules_ask_no_fewer_digits_and_no_wider_step(
    g: Any, h: Any, a: Any, x: Any, y: Any
) -> None:
    """Compositions with the new rules, against the mpmath pass (as for the others above)."""
    try:
        f = _function(g(a * X / 60) * h(Y) + X * g(Y / 70))
    except symgrad.SymgradError:
        return
    _compare(
        f, (sympy.Rational(x.numerator, x.denominator), sympy.Rational(y.numerator, y.denominator))
    )


def test_fresh_points_of_the_new_functions_run_no_mpmath_pass() -> None:
    """sinh, cosh, tanh, atan, asin and acos at fresh points: the float pass vouches."""
    f = symgrad.function(
        sympy.sinh(X) * sympy.cosh(Y)
        + sympy.tanh(X * Y)
        + sympy.atan(X)
        + sympy.asin(Y / 2)
        + sympy.acos(X / 3),
        [X, Y],
    )
    with _mpmath_nodes() as calls:
        for i in range(8):
            x0 = (sympy.Rational(3, 10) + sympy.Rational(i, 100), sympy.Rational(7, 10))
            assert engine._float_duals(f, x0) is not None
            _compare(f, x0)
            _forget()
    assert calls["n"] > 0  # only _compare's own mpmath pass, once per point
    assert calls["n"] == 8 * len(engine._tape(f))
