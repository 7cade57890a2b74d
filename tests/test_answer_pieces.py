"""check_answer where the difference is analytic but its real domain falls into components.

A many-valued atom (log, a fractional power, atan, asin, ...) takes its real branch separately
on each side of the points where its argument reaches a branch value or a pole, so an answer
can agree with the derivative on every component the sample reaches and be wrong on another.
The red team plants such errors on one far component and asks that they never ``pass``; right
answers rewritten through identities that hold across those points must never ``fail``.

Every oracle is independent of symgrad: SymPy parses the trusted test text itself and
the planted term is evaluated node by node at exact points chosen here, at 100 digits in a
private mpmath context (never ``mpmath.mp``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.teaching._pieces import analytic_forms, branch_arguments

X = sympy.Symbol("x", real=True)
Status = symgrad.Status


def build(text: str) -> Any:
    """The oracle's own expression: SymPy parses the trusted test text (never symgrad's)."""
    return sympy.sympify(text, locals={"x": X})


_CTX = mpmath.MPContext()  # a private context (never mpmath.mp)
_CTX.dps = 100
_CALLS: dict[str, Callable[..., Any]] = {
    "Abs": abs,
    "sign": _CTX.sign,
    "Heaviside": lambda v, *_: (_CTX.sign(v) + 1) / 2,
    "Max": max,
    "Min": min,
}


def _walk(expr: Any, at: Any) -> Any:
    """``expr`` at x = ``at`` in the private context, node by node."""
    if expr == X:
        return at
    if expr.is_Rational:
        return _CTX.mpf(int(expr.p)) / int(expr.q)
    if expr is sympy.pi:
        return +_CTX.pi
    args = [_walk(a, at) for a in expr.args]
    if expr.is_Add:
        return _CTX.fsum(args)
    if expr.is_Mul:
        return _CTX.fprod(args)
    if expr.is_Pow:
        return _CTX.power(args[0], args[1])
    name = type(expr).__name__
    return _CALLS[name](*args) if name in _CALLS else getattr(_CTX, name)(*args)


def value(text: str, at: Any) -> Any:
    """``text`` at the exact point x = ``at``, evaluated at 100 digits in a private mpmath
    context (complex where a branch is not real)."""
    return _walk(build(text), _walk(sympy.nsimplify(at), 0))


def planted_at(point: str, term: str) -> Any:
    """The planted term at a counterexample's point (its text read exactly)."""
    return value(term, sympy.Rational(point))


# ------------------------------------------------------------------ the mechanism itself
@pytest.mark.parametrize(
    ("text", "arguments"),
    [
        ("x*tan(x) + exp(1/x) + gamma(x)", set()),  # single-valued: one analytic function
        ("log(x - 3) + tan(x)", {"x - 3"}),  # tan's poles are outside every many-valued atom
        ("atan(tan(x/7))", {"cos(x/7)"}),  # the poles of tan(x/7) inside atan
        ("asin(x/2)", {"x/2 - 1", "x/2 + 1"}),  # the branch values ±1
        ("sqrt(x**2 - 2)", {"x**2 - 2"}),
        ("atan(1/(x - 5))", {"x - 5"}),
        ("2**x + x**(1/3)", {"x"}),  # 2**x is exp(x*log(2)), single-valued
    ],
)
def test_the_arguments_where_a_branch_may_change(text: str, arguments: set[str]) -> None:
    """The arguments whose zeros end a real branch, written out by hand."""
    found = {arg for _, arg in branch_arguments(build(text))}
    assert found == {build(a) for a in arguments}


@pytest.mark.parametrize(
    ("text", "forms"),
    [
        ("Max(0, Min(x - 1, 3 - x))", {"0", "x - 1", "3 - x"}),
        ("abs(x) - 2", {"x - 2", "-x - 2"}),
        ("x - sign(x)", {"x", "x - 1", "x + 1", "x - 1/2"}),
        ("x**2 - 4", {"x**2 - 4"}),
    ],
)
def test_the_analytic_forms_of_an_argument_with_atoms(text: str, forms: set[str]) -> None:
    """The forms a switching argument takes on its pieces, written out by hand."""
    assert set(analytic_forms(build(text))) == {build(f) for f in forms}


def test_an_error_on_a_far_interval_written_with_nested_atoms_fails() -> None:
    """max(0, min(x - a, a + w - x)) is nonzero exactly on (a, a + w): its switching argument
    holds a min, whose forms locate a and a + w; the failure names a point the oracle sees
    inside, where the planted term is nonzero."""
    term = "Max(0, Min(x - 10**7, 10**7 + 1/10**6 - x))"
    check = symgrad.check_answer("x**2", f"2*x + {term}")
    assert check.status is Status.FAIL, check.reason
    assert check.counterexample is not None
    assert abs(planted_at(check.counterexample["point"]["x"], term)) > 1e-30


def test_infinitely_many_poles_inside_a_many_valued_atom_are_refused() -> None:
    """log(gamma(x)) is one analytic function only between gamma's poles, which are every
    integer x <= 0: the pieces are unlocated, and the verdict names the atom."""
    check = symgrad.check_answer("x**2", "2*x + log(gamma(x)**2)/2 - log(abs(gamma(x)))")
    assert check.status is not Status.FAIL, check.reason
    if check.status is Status.INCONCLUSIVE:
        assert "gamma(x)" in check.reason


def test_a_single_valued_difference_passes_across_poles_it_cannot_locate() -> None:
    """tan(u) - sin(u)/cos(u) with u = x/10**7 is 0 wherever defined (the oracle: at points on
    both sides of the pole near 1.57e7); its poles are infinitely many, yet it is one analytic
    function across them, so a sampled pass stands."""
    term = "tan(x/10**7) - sin(x/10**7)/cos(x/10**7)"
    for at in (1, -3, 15707963, 15707964, 10**8 + 1):
        assert abs(value(term, at)) < 1e-60
    check = symgrad.check_answer("x**2", f"2*x + {term}")
    assert check.status is Status.PASS, check.reason


# ------------------------------------------------------ planted errors on a far component
_SIDE = st.sampled_from([1, -1])
_FAR = st.sampled_from(["10**6", "10**7 + 1/3", "5*10**8/7", "10**12"])
_ATOM = st.sampled_from(
    [
        "atan(1/({u})) + atan({u}) - pi/2",  # 0 where u > 0, -pi where u < 0
        "sqrt(({u})**2) - ({u})",  # 0 where u >= 0, -2u where u < 0
        "(atan(1/({u})) + atan({u}) - pi/2)*x**2",
        "2*atan(1/({u})) + 2*atan({u}) - pi",  # 0 where u > 0, -2*pi where u < 0
    ]
)


@settings(max_examples=6, deadline=None, derandomize=True)
@given(atom=_ATOM, far=_FAR, side=_SIDE, power=st.integers(1, 3))
def test_an_error_beyond_a_located_pole_or_branch_point_fails(
    atom: str, far: str, side: int, power: int
) -> None:
    """u = side*(far - x) is positive on the side of the sample and negative beyond far: the
    planted term is 0 on one component and not on the other.  The verdict is fail, at a
    point where the oracle sees the planted term nonzero (and it is 0 at x = 1/3)."""
    u = f"{side}*({side}*({far}) - x)"
    term = atom.format(u=u)
    assert abs(value(term, sympy.Rational(side, 3))) < 1e-60
    check = symgrad.check_answer(f"x**{power + 1}", f"{power + 1}*x**{power} + {term}")
    assert check.status is Status.FAIL, check.reason
    assert check.counterexample is not None
    assert abs(planted_at(check.counterexample["point"]["x"], term)) > 1e-30


_UNLOCATABLE = st.sampled_from(
    [
        "atan(1/({c} - x - sin(x)/{k})) + atan({c} - x - sin(x)/{k}) - pi/2",
        "atan(tan(x/({c}))) - x/({c})",
        "asin(sin(x/({c}))) - x/({c})",
        "sqrt(({c} - x - cos(x)/{k})**2) - ({c} - x - cos(x)/{k})",
    ]
)


@settings(max_examples=6, deadline=None, derandomize=True)
@given(atom=_UNLOCATABLE, c=st.sampled_from(["10**6", "10**7", "3*10**9"]), k=st.integers(2, 5))
def test_an_error_beyond_poles_that_cannot_be_located_never_passes(
    atom: str, c: str, k: int
) -> None:
    """The pole or branch point near c is not a polynomial's root (or there are infinitely
    many): never a pass; inconclusive names the atom, a fail names a point where the oracle
    sees the planted term nonzero.  The oracle: 0 at x = 1/3, and nonzero at 2c."""
    term = atom.format(c=c, k=k)
    assert abs(value(term, sympy.Rational(1, 3))) < 1e-60
    assert abs(value(term, 2 * build(c))) > 1e-3
    check = symgrad.check_answer("x**2", f"2*x + {term}")
    assert check.status is not Status.PASS, check.reason
    if check.status is Status.FAIL:
        assert check.counterexample is not None
        assert abs(planted_at(check.counterexample["point"]["x"], term)) > 1e-30
    else:
        assert "cannot reach every piece" in check.reason  # sqrt(u**2) is read as abs(u)


# ------------------------------------------------------------ right answers stay right
_RIGHT = st.sampled_from(
    [
        ("sin(x)**2", "sin(2*x)"),
        ("sin(x)**2", "2*sin(x)*cos(x)"),
        ("(x + 1)**3", "3*x**2 + 6*x + 3"),
        ("x**3 - 3*x", "3*(x - 1)*(x + 1)"),
        ("log(x**2 + 1)", "2*x/(x**2 + 1)"),
        ("atan(x)", "1/(1 + x**2)"),
        ("Max(x, 0)**2", "x + abs(x)"),
        ("abs(x)**3", "3*x*abs(x)"),
        ("sqrt(x**2 + 1)", "x*(x**2 + 1)**(-1/2)"),
    ]
)
_IDENTITY = st.sampled_from(
    [
        "atan({u}) + atan(1/({u})) - pi*sign({u})/2",  # 0 wherever u != 0
        "sqrt(({u})**2) - abs({u})",
        "log(({u})**2)/2 - log(abs({u}))",  # 0 wherever u != 0
        "2*atan(1/({u})) + 2*atan({u}) - pi*sign({u})",
        "cos({u})**2 + sin({u})**2 - 1",
    ]
)


@settings(max_examples=6, deadline=None, derandomize=True)
@given(pair=_RIGHT, identity=_IDENTITY, far=_FAR, side=_SIDE)
def test_a_right_answer_rewritten_across_poles_and_branch_points_never_fails(
    pair: tuple[str, str], identity: str, far: str, side: int
) -> None:
    """A right answer (its rewrite confirmed by the oracle) plus a term that is 0 wherever it
    is defined, on both sides of its pole or branch point u = 0 far out: never a fail."""
    text, answer = pair
    u = f"x - {side}*({far})"
    term = identity.format(u=u)
    exact = sympy.diff(build(text), X)
    at_far = build(far) * side
    for at in (sympy.Rational(-7, 3), sympy.Rational(5, 2), at_far - 3, at_far + 3):
        want = _walk(exact, _walk(at, 0))
        assert abs(value(f"{answer} + {term}", at) - want) < 1e-60 * (1 + abs(want))
    check = symgrad.check_answer(text, f"{answer} + {term}")
    assert check.status is not Status.FAIL, check.reason


# ------------------------------------------------------------------------- larger counts
@pytest.mark.slow
@settings(max_examples=60, deadline=None, derandomize=True)
@given(atom=_ATOM, far=_FAR, side=_SIDE, power=st.integers(1, 3))
def test_an_error_beyond_a_located_pole_or_branch_point_fails_many(
    atom: str, far: str, side: int, power: int
) -> None:
    """The same red team at a larger count."""
    planted = test_an_error_beyond_a_located_pole_or_branch_point_fails
    planted.hypothesis.inner_test(atom, far, side, power)  # type: ignore[attr-defined]


@pytest.mark.slow
@settings(max_examples=60, deadline=None, derandomize=True)
@given(atom=_UNLOCATABLE, c=st.sampled_from(["10**6", "10**7", "3*10**9"]), k=st.integers(2, 5))
def test_an_error_beyond_poles_that_cannot_be_located_never_passes_many(
    atom: str, c: str, k: int
) -> None:
    """The same red team at a larger count."""
    planted = test_an_error_beyond_poles_that_cannot_be_located_never_passes
    planted.hypothesis.inner_test(atom, c, k)  # type: ignore[attr-defined]


@pytest.mark.slow
@settings(max_examples=60, deadline=None, derandomize=True)
@given(pair=_RIGHT, identity=_IDENTITY, far=_FAR, side=_SIDE)
def test_a_right_answer_rewritten_across_poles_and_branch_points_never_fails_many(
    pair: tuple[str, str], identity: str, far: str, side: int
) -> None:
    """The same right answers at a larger count."""
    right = test_a_right_answer_rewritten_across_poles_and_branch_points_never_fails
    right.hypothesis.inner_test(pair, identity, far, side)  # type: ignore[attr-defined]


# ------------------------------------------------------ two variables switching together
XY = {"x": X, "y": sympy.Symbol("y", real=True)}
_CENTRE = st.sampled_from(["0", "10**4", "-10**5", "10**7 + 1/3"])
_RADIUS = st.sampled_from(["1", "1/100", "7"])
_LEVEL = st.sampled_from(["10**13", "-10**13", "10**15/3"])
_PLANTED_XY = st.sampled_from(
    [
        "Max(0, {r} - (x - ({a}))**2 - (y - ({b}))**2)",  # a far disc
        "Max(x*y - ({k}), 0)",  # beyond a hyperbola
        "1 - sign(x*y - ({k}))**2",  # on a hyperbola only
        "Max(0, Min(x - y - ({a}), ({a}) + {r} - x + y))",  # a strip between two lines
        "1 - sign((x - ({a}))**2 + (y - ({b}))**2)**2",  # at one point
    ]
)


def exactly(text: str, point: dict[str, str]) -> Any:
    """The planted term at a counterexample's point (coordinates read by SymPy, algebraic
    numbers included), to 60 digits."""
    at = {XY[k]: sympy.sympify(v) for k, v in point.items()}
    return sympy.sympify(text, locals=XY).xreplace(at).evalf(60)


@settings(max_examples=5, deadline=None, derandomize=True)
@given(planted=_PLANTED_XY, a=_CENTRE, b=_CENTRE, r=_RADIUS, k=_LEVEL)
def test_an_error_across_curves_in_two_variables_never_passes(
    planted: str, a: str, b: str, r: str, k: str
) -> None:
    """A term nonzero only in a far region, on a curve or at one point of the plane: never a
    pass, and a failure names a point where the oracle sees the planted term nonzero."""
    term = planted.format(a=a, b=b, r=r, k=k)
    check = symgrad.check_answer("x*y", f"y + {term}", "x")
    assert check.status is not Status.PASS, check.reason
    if check.status is Status.FAIL:
        assert check.counterexample is not None
        assert abs(exactly(term, check.counterexample["point"])) > 1e-45


_CURVE = st.sampled_from(
    ["x*y - ({k})", "(x - ({a}))**2 + (y - ({b}))**2 - {r}", "x - y**2 - ({a})", "x**2 - y**3"]
)
_IDENTITY_XY = st.sampled_from(
    [
        "Heaviside({p}) + Heaviside(-({p})) - 1",
        "sign({p})*abs({p}) - ({p})",
        "Max({p}, {q}) + Min({p}, {q}) - ({p}) - ({q})",
        "abs({p})**2 - ({p})**2",
    ]
)


@settings(max_examples=5, deadline=None, derandomize=True)
@given(identity=_IDENTITY_XY, p=_CURVE, q=_CURVE, a=_CENTRE, b=_CENTRE, r=_RADIUS, k=_LEVEL)
def test_a_right_answer_across_curves_in_two_variables_never_fails(
    identity: str, p: str, q: str, a: str, b: str, r: str, k: str
) -> None:
    """A term that is 0 everywhere (on the curves too: H(0) = 1/2, sign(0) = 0; the oracle
    checks it at exact points, one on the first curve) keeps a right answer right."""
    fill = {"a": a, "b": b, "r": r, "k": k}
    term = identity.format(p=p.format(**fill), q=q.format(**fill))
    y = XY["y"]
    curve = sympy.sympify(p.format(**fill), locals=XY)
    on = sympy.solve(curve.xreplace({y: sympy.Integer(2)}), X)
    points = [(sympy.Rational(1, 3), 5), (-7, sympy.Rational(2, 9)), (10**6, -(10**5))]
    points += [(v, 2) for v in on if v.is_real]
    for px, py in points:
        value = sympy.sympify(term, locals=XY).xreplace({X: px, y: py})
        assert sympy.simplify(value) == 0
    check = symgrad.check_answer("x*y", f"y + {term}", "x")
    assert check.status is not Status.FAIL, check.reason


@pytest.mark.slow
@settings(max_examples=50, deadline=None, derandomize=True)
@given(planted=_PLANTED_XY, a=_CENTRE, b=_CENTRE, r=_RADIUS, k=_LEVEL)
def test_an_error_across_curves_in_two_variables_never_passes_many(
    planted: str, a: str, b: str, r: str, k: str
) -> None:
    """The same red team at a larger count."""
    planted_test = test_an_error_across_curves_in_two_variables_never_passes
    planted_test.hypothesis.inner_test(planted, a, b, r, k)  # type: ignore[attr-defined]


@pytest.mark.slow
@settings(max_examples=50, deadline=None, derandomize=True)
@given(identity=_IDENTITY_XY, p=_CURVE, q=_CURVE, a=_CENTRE, b=_CENTRE, r=_RADIUS, k=_LEVEL)
def test_a_right_answer_across_curves_in_two_variables_never_fails_many(
    identity: str, p: str, q: str, a: str, b: str, r: str, k: str
) -> None:
    """The same right answers at a larger count."""
    right = test_a_right_answer_across_curves_in_two_variables_never_fails
    right.hypothesis.inner_test(identity, p, q, a, b, r, k)  # type: ignore[attr-defined]


def test_too_many_curves_are_refused_before_they_are_projected() -> None:
    """Seven concentric circles (a right identity, zero everywhere): over the cap of 6 curves,
    so no resultant is computed and the verdict is inconclusive and says so, never a pass
    on lines that might not meet every cell."""
    terms = [
        f"Heaviside(x**2 + y**2 - {r * r}) + Heaviside({r * r} - x**2 - y**2) - 1"
        for r in range(1, 8)
    ]
    check = symgrad.check_answer("x*y", "y + " + " + ".join(terms), "x")
    assert check.status is Status.INCONCLUSIVE, check.reason
    assert "7 curves (at most 6)" in check.reason
