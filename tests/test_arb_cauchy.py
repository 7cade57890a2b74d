"""The certified referee's Cauchy bound: where it is used, where it must not be, and that it holds.

Where every operation of f is entire, meromorphic or a branch function evaluated with
python-flint's ``analytic`` option, the truncation error of a stencil is bounded by Cauchy's
estimate from M >= |f| over a complex box around the point (one evaluation for every partial of
a gradient); elsewhere, or where the box meets a pole or a branch cut, the Taylor series over
the stencil's interval decide as before.  The oracle is the one of ``test_arb_referee``: SymPy
differentiates the text and evaluates the derivative at the exact point at 120 digits and more
(no code shared with symgrad's differences).  The planted errors show that the oracle catches a
bound that is too small: a certified result must then fail it.
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Any

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad
import symgrad.fd._arb as arb_module
from symgrad.derive import compile_program
from symgrad.fd import finite_difference, finite_difference_gradient
from tests.test_arb_referee import assert_certified

pytest.importorskip("flint")

SLOW_EXAMPLES = int(os.environ.get("SYMGRAD_ARB_EXAMPLES", "300"))
CAUCHY = "Cauchy's bound"

#: Operations with a complex extension checked on the box: the bound is Cauchy's.
ON_THE_DISC = [
    ("sin(x)*exp(y) + z**2", "x=0.3, y=0.7, z=1.1", "x"),
    ("sin(x + y)*exp(-z**2)", "x=0.3, y=0.7, z=0.5", "z"),
    ("log(x)", "x=1e-30", "x"),
    ("x**y", "x=2.5, y=0.5", "y"),
    ("x**y", "x=2.5, y=-1.5", "x"),
    ("(x**2 + 1)/(x**3 - 2*x + 5)", "x=-0.75", "x"),
    ("tan(x) + sec(x) + csc(x) + cot(x)", "x=0.7", "x"),
    ("sinh(x)*cosh(x)*tanh(x)", "x=-2", "x"),
    ("sqrt(1 + x**2)*x**(1/3)", "x=2", "x"),
    ("erf(x)*erfc(x)", "x=0.4", "x"),
    ("gamma(x)", "x=2.5", "x"),  # (python-flint's complex gamma is not finite at -1.5 ± 1/64)
    ("exp(1000*x)", "x=1", "x"),
    ("sin(1000*x)", "x=0.1", "x"),
    ("log(1 + x**6)", "x=1e-5", "x"),  # cancels: more bits, the same bound
    ("cos(x)", "x=0", "x"),
    ("x**5", "x=1e-300", "x"),
    ("1/(x**2 + 1/256)", "x=0", "x"),  # poles at ±i/16, outside the box |Im| <= 1/64
    ("x**(-3) + 2**x", "x=-7.25", "x"),
    ("pi*x + exp(x)", "x=3", "x"),
]

#: A pole or branch point inside the box (at x = 0 it is [-1/64, 1/64] + [-1/64, 1/64]i), a
#: branch cut it straddles, or an operation without a complex rule: the series decide.
OFF_THE_DISC = [
    ("1/(x**2 + 1/65536)", "x=0", "x"),  # poles at ±i/256
    ("sqrt(x**2 + 1/65536)", "x=0", "x"),  # branch points at ±i/256
    ("log((x - 1/128)**2 + 1/1048576)", "x=0", "x"),  # branch points at 1/128 ± i/1024
    ("((x - 1/128)**2 + 1/1048576)**(1/3)", "x=0", "x"),
    ("((x - 1/128)**2 + 1/1048576)**(x + 1)", "x=0", "x"),
    ("(exp(x) - 1)/x", "x=1e-200", "x"),  # the box's values cancel: M is far above |f|
    ("tan(x)", "x=1.5707", "x"),  # the pole π/2 is 1e-4 away, inside the box
    ("gamma(x)", "x=-0.999", "x"),  # the pole -1 is 1e-3 away
    ("atan(x)*asin(x/2)", "x=0.6", "x"),  # no complex rule here
    ("abs(x)*y + sign(x)*x**2", "x=-2, y=3", "x"),
    ("min(x, 1 - x)", "x=0.3", "x"),
]


@pytest.mark.parametrize(("text", "point", "wrt"), ON_THE_DISC)
def test_analytic_functions_are_certified_by_cauchys_bound(text: str, point: str, wrt: str) -> None:
    r = finite_difference(text, point, wrt, dps=50, engine="arb")
    assert CAUCHY in r.reason, r.reason
    assert_certified(r, text, point, wrt, 50)


@pytest.mark.parametrize(("text", "point", "wrt"), OFF_THE_DISC)
def test_singular_boxes_and_other_functions_take_the_series(
    text: str, point: str, wrt: str
) -> None:
    r = finite_difference(text, point, wrt, dps=50, engine="arb")
    assert CAUCHY not in r.reason, r.reason
    assert_certified(r, text, point, wrt, 50)


def test_a_gradient_shares_one_box_and_a_vector_function_its_largest_component() -> None:
    f = symgrad.function(["x*y**3", "exp(x)/(1 + y**2)"])
    for r, wrt in zip(finite_difference_gradient(f, "x=0.5, y=0.25", dps=40), "xy", strict=True):
        assert CAUCHY in r.reason
        assert r.certified
        for k, text in enumerate(["x*y**3", "exp(x)/(1 + y**2)"]):
            component = type(r)(
                r.value[k], r.error_estimate[k], r.step, r.status, r.reason, r.method,
                r.scheme, r.working_dps, r.evaluations, certified=True,
            )  # fmt: skip
            assert_certified(component, text, "x=0.5, y=0.25", wrt, 40)


def test_higher_derivatives_and_one_sided_stencils_are_certified_by_it() -> None:
    schemes = [("central:4", 1), ("forward:2", 1), ("backward:3", 1), ("central:2", 2)]
    for scheme, order in [*schemes, ("central:4", 3)]:
        r = finite_difference("sin(x)*exp(x)", "x=0.8", ("x", order), dps=40, scheme=scheme)
        assert CAUCHY in r.reason, (scheme, r.reason)
        assert_certified(r, "sin(x)*exp(x)", "x=0.8", "x", 40, order)


# -- the box's bound M, against |f| on the circle ---------------------------------------------------

_CTX = mpmath.MPContext()
_CTX.dps = 40

BOX_FUNCTIONS = [  # text, the same function on complex numbers, point
    ("sin(x)*exp(x)", lambda c, z: c.sin(z) * c.exp(z), "0.8"),
    ("1/(x**2 + 1/256)", lambda c, z: 1 / (z**2 + c.mpf(1) / 256), "0"),
    ("log(x)*sqrt(x)", lambda c, z: c.log(z) * c.sqrt(z), "1.5"),
    ("tan(x)", lambda c, z: c.tan(z), "1.4"),
    ("gamma(x)", lambda c, z: c.gamma(z), "3.5"),
    ("x**(1/3)*exp(-x**2)", lambda c, z: c.cbrt(z) * c.exp(-(z**2)), "0.3"),
    ("cosh(7*x) + erf(x)", lambda c, z: c.cosh(7 * z) + c.erf(z), "-1.25"),
]


@pytest.mark.parametrize(("text", "complex_f", "where"), BOX_FUNCTIONS)
def test_the_box_bound_exceeds_f_on_its_circle(text: str, complex_f: Any, where: str) -> None:
    """M >= |f| on the circle of radius R around the point (the maximum over the disc, by the
    maximum modulus principle), sampled at 256 points; and not wildly above it."""
    f = symgrad.function(text)
    largest, radius = _box_bound(f, where)
    x = _CTX.mpf(where)
    values = [
        abs(complex_f(_CTX, x + radius * _CTX.expjpi(_CTX.mpf(2 * k) / 256))) for k in range(256)
    ]
    assert max(values) <= largest
    assert largest <= 64 * max(values)


def _box_bound(f: Any, where: str) -> tuple[Any, Any]:
    """(M, R) of f at the point x = where, through the referee's own call state."""
    from symgrad.derive import ArbBalls

    exact = Fraction(where)
    point = [(exact.numerator, exact.denominator)]
    plan = arb_module._plan(f)
    with ArbBalls.session(64) as b:
        call = arb_module._Call(plan, b, point, 30, 4)
        call.at(256)
        largest = call.disc()
        assert largest is not None, "f has no Cauchy bound here"
        bound = _CTX.mpf(largest.mid().str(30, radius=False))
    scale = exact.numerator.bit_length() - exact.denominator.bit_length() if exact else 0
    return bound, _CTX.ldexp(1, scale - arb_module._RHO)


# -- the bound against the truncation error itself, at coarse steps ---------------------------------

#: (stencil offsets, weights, derivative m, first power q with a nonzero moment), exact.
STENCILS = {
    "central:2": ((-1, 1), (Fraction(-1, 2), Fraction(1, 2)), 1, 3),
    "forward:1": ((0, 1), (Fraction(-1), Fraction(1)), 1, 2),
    "central:4": (
        (-2, -1, 1, 2), (Fraction(1, 12), Fraction(-2, 3), Fraction(2, 3), Fraction(-1, 12)), 1, 5
    ),
    "central:2:d2": ((-1, 0, 1), (Fraction(1), Fraction(-2), Fraction(1)), 2, 4),
}  # fmt: skip

COARSE = [  # text, f on mpmath numbers, its derivatives of order 1 and 2, point
    ("sin(x)*exp(x)", lambda c, t: c.sin(t) * c.exp(t), "0.8"),
    ("1/(x**2 + 1/256)", lambda c, t: 1 / (t**2 + c.mpf(1) / 256), "0.01"),
    ("exp(3*x)*x**3", lambda c, t: c.exp(3 * t) * t**3, "1.5"),
    ("log(x)*sqrt(x)", lambda c, t: c.log(t) * c.sqrt(t), "0.7"),
]


def _cauchy(largest: Any, radius: Any, stencil: str, h: Any) -> Any:
    """2 M Σ|w||s|^q h^(q−m) / R^q: the bound of the module docstring, written out here."""
    offsets, weights, m, q = STENCILS[stencil]
    moment = sum(abs(w) * abs(s) ** q for s, w in zip(offsets, weights, strict=True))
    return 2 * largest * _mpf(moment) * h ** (q - m) / radius**q


def _mpf(value: Fraction) -> Any:
    return _CTX.mpf(value.numerator) / value.denominator


@pytest.mark.parametrize("stencil", list(STENCILS))
@pytest.mark.parametrize(("text", "real_f", "where"), COARSE)
def test_the_bound_covers_the_truncation_error_at_coarse_steps(
    text: str, real_f: Any, where: str, stencil: str
) -> None:
    """At steps h = R/(2S)·2^-k, where the truncation error is large and measured exactly
    (40 digits), it stays below the bound; with M shrunk by 2^48 it exceeds the bound at some
    step: the bound is sound, within 2^48 of the error here (Cauchy's estimate is loose by the
    growth of f over R^q), and a bound too small by that much would be caught."""
    largest, radius = _box_bound(symgrad.function(text), where)
    offsets, weights, m, _ = STENCILS[stencil]
    x = _CTX.mpf(where)
    exact = _CTX.diff(lambda t: real_f(_CTX, t), x, m)
    reach = max(abs(s) for s in offsets)
    caught = False
    for k in range(8):
        h = radius / (2 * reach) / 2**k
        points = zip(offsets, weights, strict=True)
        value = sum(_mpf(w) * real_f(_CTX, x + s * h) for s, w in points)
        error = abs(value / h**m - exact)
        assert error <= _cauchy(largest, radius, stencil, h), (k, error)
        caught = caught or error > _cauchy(largest * _CTX.ldexp(1, -48), radius, stencil, h)
    assert caught


def test_the_first_step_factor_is_the_bound_of_the_docstring() -> None:
    """The referee's own constant of the first step (times M) against the formula written out."""
    f = symgrad.function("sin(x)*exp(x)")
    _, radius = _box_bound(f, "0.8")
    r = finite_difference(f, "x=0.8", dps=30, engine="arb")
    assert CAUCHY in r.reason
    plan = arb_module._plan(f)
    job = next(iter(plan.jobs.values()))[1].jobs[0]
    (c,) = job.disc_first.values()
    factor = _CTX.mpf(c.disc_factor.mid().str(40, radius=False))
    expected = _cauchy(_CTX.one, radius, "central:2", _CTX.convert(r.step))
    assert abs(factor - expected) <= expected * _CTX.mpf(10) ** -30


def test_branch_functions_refuse_a_box_on_their_cut() -> None:
    """log, x**(1/3) and x**y over a box around -1 (on the cut) are not finite, where the
    plain complex functions would enclose both sides of the cut."""
    flint = pytest.importorskip("flint")
    program = compile_program(
        symgrad.function(["log(x)", "x**(1/3)", "x**y", "sqrt(x)"]).components,
        [symgrad.function("x*y").variables[0], symgrad.function("x*y").variables[1]],
    )
    side = flint.arb(0, flint.arb(2) ** -4)
    box = flint.acb(side, side) - 1
    values: list[Any] = [None] * len(program.ops)
    for k, op in enumerate(program.ops):
        if op.code == "var":
            values[k] = box if op.value == 0 else flint.acb(2)
        else:
            step = arb_module._disc_step(op)
            assert step is not None, op.code
            values[k] = step(values)
    assert [values[k].is_finite() for k in program.outputs] == [False] * 4
    assert box.log().is_finite()  # the plain function: both sides of the cut, finite


# -- random analytic expressions -------------------------------------------------------------------


def _analytic(variables: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Text of expressions whose every operation has a complex rule, modest on [-2, 2]^n."""
    leaves = st.sampled_from(variables) | st.sampled_from(["2", "3", "0.5", "1/3"])

    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        pairs = st.tuples(children, children)
        return st.one_of(
            pairs.map(lambda t: f"({t[0]}) + ({t[1]})"),
            pairs.map(lambda t: f"({t[0]})*({t[1]})"),
            pairs.map(lambda t: f"({t[0]})/(2 + ({t[1]})^2)"),
            children.map(lambda c: f"sin({c})"),
            children.map(lambda c: f"cosh(({c})/4)"),
            children.map(lambda c: f"exp(({c})/4)"),
            children.map(lambda c: f"log(1 + ({c})^2)"),
            children.map(lambda c: f"sqrt(1 + ({c})^2)"),
            children.map(lambda c: f"(1 + ({c})^2)^(1/3)"),
            children.map(lambda c: f"tanh({c})"),
            children.map(lambda c: f"erf({c})"),
        )

    return st.recursive(leaves, extend, max_leaves=6)


_POINT = st.tuples(st.integers(-200, 200), st.integers(-200, 200)).map(
    lambda t: f"x={t[0] / 100:.2f}, y={t[1] / 100:.2f}"
)


def _check_random(text: str, point: str, dps: int) -> None:
    results = finite_difference_gradient(text, point, dps=dps, variables="x y")
    for r, wrt in zip(results, "xy", strict=True):
        if r.certified:
            assert_certified(r, text, point, wrt, dps)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(_analytic(("x", "y")), _POINT, st.sampled_from([15, 30, 50]))
def test_random_analytic_gradients_hold_their_bounds(text: str, point: str, dps: int) -> None:
    _check_random(text, point, dps)


@pytest.mark.slow
@settings(max_examples=SLOW_EXAMPLES, deadline=None, derandomize=True)
@given(_analytic(("x", "y")), _POINT, st.sampled_from([15, 30, 50, 100]))
def test_random_analytic_gradients_hold_their_bounds_many(text: str, point: str, dps: int) -> None:
    _check_random(text, point, dps)


@pytest.mark.parametrize("point", ["x=0.5, y=0", "x=0.5, y=2"])
def test_a_component_that_does_not_move_is_exactly_zero_and_the_others_keep_their_digits(
    point: str,
) -> None:
    """Each component is counted against its own size: sin(x)'s x-partial to 30 digits of
    cos(0.5) and y's exactly 0 (no remainder), also where y = 0 gives it no size at all."""
    f = symgrad.function(["sin(x)", "y"])
    along_x, along_y = finite_difference_gradient(f, point, dps=30, engine="arb")
    assert along_x.certified
    assert along_y.certified
    assert along_x.value[1] == 0
    assert along_x.error_estimate[1] == 0
    assert along_y.value[0] == 0
    assert along_y.error_estimate[0] == 0
    for r, k, text, wrt in ((along_x, 0, "sin(x)", "x"), (along_y, 1, "y", "y")):
        component = type(r)(
            r.value[k], r.error_estimate[k], r.step, r.status, r.reason, r.method,
            r.scheme, r.working_dps, r.evaluations, certified=True,
        )  # fmt: skip
        assert_certified(component, text, point, wrt, 30)
