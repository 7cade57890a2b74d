"""analyze_stencil: formal orders and leading error terms against hand-derived Taylor series.

References: the textbook expansions (5-point Laplacian ``Δu + h²/12 (u_xxxx + u_yyyy)``;
9-point ``Δu + h²/12 Δ²u + h⁴/360 (Δ³u + 2 ∂x²∂y² Δu)``; the one-sided closures of u''),
an arbitrary-precision evaluation of each stencil on ``exp(a x + b y)`` in a private mpmath
context (the error divided by h^p must tend to the leading term's value), and for one axis
Stencil's own accuracy and error coefficient (Fornberg).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import numpy.typing as npt
import pytest
import sympy
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from symgrad import ConfigError, InputError, LimitExceeded, ParseError, Status, Stencil
from symgrad.fd import MAX_STENCIL_POINTS, analyze_stencil
from symgrad.grids import verify_operator

FIVE = {(0, 0): -4, (1, 0): 1, (-1, 0): 1, (0, 1): 1, (0, -1): 1}
NINE = {
    (i, j): Fraction(-20 if (i, j) == (0, 0) else 4 if abs(i) + abs(j) == 1 else 1, 6)
    for i in (-1, 0, 1)
    for j in (-1, 0, 1)
}
MIXED = {(1, 1): "1/4", (-1, -1): "1/4", (1, -1): "-1/4", (-1, 1): "-1/4"}


def _mp_ratio(weights: Mapping[tuple[int, int], Fraction | int], p: int, a: str, b: str) -> float:
    """(stencil(h) - Δu) / h^p at 0 for u = exp(a x + b y), h = 1e-12, at 80 digits."""
    ctx = mpmath.MPContext()
    ctx.dps = 80
    h, ma, mb = ctx.mpf("1e-12"), ctx.mpf(a), ctx.mpf(b)
    total = ctx.fsum(
        ctx.mpf(Fraction(w).numerator) / Fraction(w).denominator * ctx.exp(ma * i * h + mb * j * h)
        for (i, j), w in weights.items()
    )
    return float((total / h**2 - (ma**2 + mb**2)) / h**p)


def test_five_point_laplacian_is_order_2_with_the_textbook_term() -> None:
    a = analyze_stencil(FIVE, "laplacian")
    assert (a.status, a.order, a.leading_term) == (
        Status.PASS,
        2,
        "h**2*(u_xxxx + u_yyyy)/12",
    )
    assert a.harmonic_order == 2  # u_xxxx + u_yyyy is not a multiple of Δ
    # exp(a x + b y): the leading term is (a^4 + b^4)/12
    assert _mp_ratio(FIVE, 2, "0.7", "-1.3") == pytest.approx((0.7**4 + 1.3**4) / 12, rel=1e-9)


def test_nine_point_laplacian_leading_term_vanishes_on_harmonic_fields() -> None:
    a = analyze_stencil(NINE, "laplacian")
    assert a.order == 2
    assert a.leading_term == "h**2*(u_xxxx + 2*u_xxyy + u_yyyy)/12"  # h²/12 Δ²u
    assert a.terms[4] == "h**4*(u_xxxxxx + 5*u_xxxxyy + 5*u_xxyyyy + u_yyyyyy)/360"
    # Δ²u and (Δ³ + 2∂x²∂y²Δ)u vanish where Δu = 0: order 6 on harmonic fields
    assert a.harmonic_order == 6
    assert "vanishes on harmonic fields" in a.reason
    # exp(x)cos(y)-like: a = 1, b = i is harmonic; check the h² term numerically off harmonic
    assert _mp_ratio(NINE, 2, "0.7", "-1.3") == pytest.approx((0.7**2 + 1.3**2) ** 2 / 12, rel=1e-9)


def test_nine_point_on_a_harmonic_field_at_80_digits() -> None:
    """u = exp(a(x + iy)) is harmonic; the 9-point error over h^6 tends to the h^6 term."""
    ctx = mpmath.MPContext()
    ctx.dps = 80
    a, h = ctx.mpf("0.9"), ctx.mpf("1e-4")
    total = ctx.fsum(
        ctx.mpf(w.numerator) / w.denominator * ctx.exp(a * (i * h + 1j * j * h))
        for (i, j), w in NINE.items()
    )
    ratio = total / h**2 / h**6  # Δu = 0
    # the h^6 term (3ξ⁸ + 28ξ⁶η² + 70ξ⁴η⁴ + 28ξ²η⁶ + 3η⁸)/60480 at ξ = a, η = i a: a⁸/3024
    assert analyze_stencil(NINE, "laplacian").terms[6] == (
        "h**6*(3*u_xxxxxxxx + 28*u_xxxxxxyy + 70*u_xxxxyyyy + 28*u_xxyyyyyy + 3*u_yyyyyyyy)/60480"
    )
    assert float(ratio.real) == pytest.approx(0.9**8 / 3024, rel=1e-6)
    assert abs(float(ratio.imag)) < 1e-12


def test_mixed_partial_and_3d_laplacian() -> None:
    a = analyze_stencil(MIXED, "x,y")
    assert (a.order, a.leading_term) == (2, "h**2*(u_xxxy + u_xyyy)/6")
    seven = {(0, 0, 0): -6} | {
        tuple(s if k == axis else 0 for k in range(3)): 1 for axis in range(3) for s in (-1, 1)
    }
    b = analyze_stencil(seven, "laplacian")
    assert (b.order, b.leading_term) == (2, "h**2*(u_xxxx + u_yyyy + u_zzzz)/12")


@pytest.mark.parametrize(
    ("weights", "order", "term"),
    [
        ({0: 1, 1: -2, 2: 1}, 1, "h*u_xxx"),  # u0 - 2u1 + u2 = h²u'' + h³u''' + ...
        ({0: 2, 1: -5, 2: 4, 3: -1}, 2, "-11*h**2*u_xxxx/12"),
        ({-1: 1, 0: -2, 1: 1}, 2, "h**2*u_xxxx/12"),
        ({-1: "1/h**2", 0: "-2/h**2", 1: "1/h**2"}, 2, "h**2*u_xxxx/12"),  # symbolic weights
    ],
)
def test_second_derivative_closures(weights: dict[int, object], order: int, term: str) -> None:
    a = analyze_stencil(weights, "x,x")
    assert (a.status, a.order, a.leading_term, a.harmonic_order) == (Status.PASS, order, term, None)


def test_staggered_and_anisotropic() -> None:
    a = analyze_stencil({"-1/2": -1, "1/2": 1}, "x")
    assert (a.order, a.leading_term) == (2, "h**2*u_xxx/24")
    aniso = {
        (0, 0): "-2/hx**2 - 2/hy**2",
        (1, 0): "1/hx**2",
        (-1, 0): "1/hx**2",
        (0, 1): "1/hy**2",
        (0, -1): "1/hy**2",
    }
    b = analyze_stencil(aniso, "laplacian", spacing="hx hy")
    assert (b.order, b.leading_term) == (2, "(hx**2*u_xxxx + hy**2*u_yyyy)/12")


@pytest.mark.parametrize(
    "stencil",
    [
        Stencil.central(1, 2),
        Stencil.central(1, 6),
        Stencil.central(2, 4),
        Stencil.forward(2, 3),
        Stencil.backward(1, 2),
        Stencil.central(3, 2),
        Stencil.from_offsets(1, "-3/2,-1/2,1/2,3/2"),
    ],
    ids=str,
)
def test_agrees_with_stencil_in_one_dimension(stencil: Stencil) -> None:
    a = analyze_stencil(stencil)
    p, m = stencil.accuracy, stencil.derivative
    h, u = sympy.Symbol("h", positive=True), sympy.Symbol("u_" + "x" * (m + p))
    expected = sympy.Rational(
        stencil.error_coefficient.numerator, stencil.error_coefficient.denominator
    )
    assert a.order == p
    assert a.leading_term == str(sympy.factor(expected * h**p * u))


def _taylor_by_hand(
    weights: Mapping[tuple[int, int], Any], operator: Mapping[tuple[int, int], Fraction], top: int
) -> dict[int, sympy.Expr]:
    """The error Σ_o w_o u(o h) / h^2 - L u by power of h, from the Taylor table written out
    here: the coefficient of ∂x^a ∂y^b u is Σ w i^a j^b / (a! b!) times h^(a + b - 2)."""
    groups: dict[int, sympy.Expr] = {}
    for n in range(top + 1):
        for a in range(n + 1):
            b = n - a
            c = Fraction(0)
            for (i, j), w in weights.items():
                c += Fraction(w) * Fraction(i**a * j**b, math.factorial(a) * math.factorial(b))
            c -= operator.get((a, b), Fraction(0))
            if c:
                term = sympy.Rational(c.numerator, c.denominator) * sympy.Symbol(
                    "u_" + "x" * a + "y" * b
                )
                groups[n - 2] = groups.get(n - 2, sympy.S.Zero) + term
    return groups


LAPLACE = {(2, 0): Fraction(1), (0, 2): Fraction(1)}


@pytest.mark.parametrize(
    ("weights", "notation", "operator"),
    [
        (FIVE, "D(u, x, 2) + D(u, y, 2)", LAPLACE),
        (NINE, "D(u, y, 2) + D(u, x, 2)", LAPLACE),
        (MIXED, "D(u, x, y)", {(1, 1): Fraction(1)}),
        (
            {
                (1, 0): 1,
                (-1, 0): 1,
                (0, 0): -2,
                (1, 1): "-1/2",
                (-1, -1): "-1/2",
                (1, -1): "1/2",
                (-1, 1): "1/2",
            },
            "D(u, x, 2) - 2*D(u, x, y)",
            {(2, 0): Fraction(1), (1, 1): Fraction(-2)},
        ),
        (
            {(1, 0): "1/2", (-1, 0): "1/2", (0, 0): -2, (0, 1): "1/2", (0, -1): "1/2"},
            "0.5*(D(u, x, 2) + D(u, y, 2))",
            {(2, 0): Fraction(1, 2), (0, 2): Fraction(1, 2)},
        ),
    ],
)
def test_notation_operator_order_and_leading_term_by_hand(
    weights: Mapping[tuple[int, int], Any], notation: str, operator: dict[tuple[int, int], Fraction]
) -> None:
    """D(u, ...) operators: the order and leading term equal a Taylor table computed here."""
    groups = _taylor_by_hand(weights, operator, 8)
    order = min(groups)
    r = analyze_stencil(weights, notation)
    assert r.order == order
    assert r.status is Status.PASS
    leading = sympy.sympify(r.leading_term, locals={"h": sympy.Symbol("h")})
    assert sympy.expand(leading - groups[order] * sympy.Symbol("h") ** order) == 0
    assert r.operator == " ".join(notation.split())


def test_notation_five_and_nine_point_textbook_terms() -> None:
    """5-point: h²/12 (u_xxxx + u_yyyy); 9-point: h²/12 Δ²u, which vanishes where Δu = 0."""
    five = analyze_stencil(FIVE, "D(u, x, 2) + D(u, y, 2)")
    assert (five.order, five.leading_term) == (2, "h**2*(u_xxxx + u_yyyy)/12")
    nine = analyze_stencil(NINE, "D(u, x, 2) + D(u, y, 2)")
    assert (nine.order, nine.leading_term) == (2, "h**2*(u_xxxx + 2*u_xxyy + u_yyyy)/12")
    assert nine.harmonic_order is not None
    assert nine.harmonic_order > 2
    assert "vanishes on harmonic fields" in nine.reason
    same = analyze_stencil(NINE, "laplacian")
    assert (same.order, same.terms, same.harmonic_order) == (
        nine.order,
        nine.terms,
        nine.harmonic_order,
    )


@pytest.mark.parametrize(
    ("notation", "match"),
    [
        ("D(u, x)*D(u, y)", "linear combination"),
        ("D(u, x, 2) + 1", "linear combination"),
        ("sin(D(u, x))", "linear combination"),
        ("nu*D(u, x, 2)", r"names \['nu'\]"),
        ("D(u, z, 2)", r"\['z'\], not among the axes"),
        ("D(u, x, 0)", "count"),
    ],
)
def test_notation_refusals(notation: str, match: str) -> None:
    with pytest.raises((ConfigError, ParseError), match=match):
        analyze_stencil(FIVE, notation)


@pytest.mark.parametrize(
    ("weights", "operator", "expect", "said"),
    [
        ({-1: 1, 0: "-21/10", 1: 1}, "x,x", None, "inconsistent: order -2"),  # a wrong weight
        ({-1: 1, 0: -2, 1: 2}, "x,x", None, "inconsistent: order -2"),
        ({-1: -1, 1: 1}, "x", None, "inconsistent: order 0"),  # missing 1/2: 2 u'
        ({0: 1, 1: -2, 2: 1}, "x,x", 2, "order 1, leading error term h*u_xxx, below"),
        (FIVE, "x,x", None, "inconsistent"),  # the operator it does not approximate
    ],
)
def test_planted_defects_fail_and_say_why(
    weights: dict[object, object], operator: str, expect: int | None, said: str
) -> None:
    a = analyze_stencil(weights, operator, expect_order=expect)
    assert a.status is Status.FAIL
    assert said in a.reason


def test_inconclusive_when_no_error_term_is_found() -> None:
    a = analyze_stencil(Stencil.central(1, 10), max_order=4)
    assert (a.status, a.order) == (Status.INCONCLUSIVE, None)


@pytest.mark.parametrize(
    ("weights", "kwargs", "error"),
    [
        ({0: 1, (1, 0): 1}, {"operator": "x"}, ConfigError),  # mixed dimensions
        ({0: 1, "1e999999999": 1}, {"operator": "x"}, ConfigError),  # no exponents
        ({0: 1, 5000: 1}, {"operator": "x"}, ConfigError),
        ({0: True, 1: 1}, {"operator": "x"}, ConfigError),
        ({0: "x + 1", 1: 1}, {"operator": "x"}, ConfigError),  # only spacing symbols
        ({0: -1, 1: 1}, {"operator": "q"}, ConfigError),
        ({0: -1, 1: 1}, {"operator": "x", "spacing": "h k"}, ConfigError),
        ({0: -1, 1: 1}, {"operator": "x", "max_order": 99}, ConfigError),
        ([(0, 1)], {"operator": "x"}, InputError),
        ({0: "exp(h)", 1: 1}, {"operator": "x"}, ConfigError),  # not a power of h
        ({0: "pi/h", 1: "1/h"}, {"operator": "x"}, ConfigError),  # not rational
        ({0: -1, 1: 1}, {"operator": "x " + "9" * 5000}, ConfigError),  # no 5000-digit count
        ({0: -1, 1: 1}, {"operator": ["x"] * 10**6}, ConfigError),
    ],
)
def test_bad_input_is_refused(
    weights: object, kwargs: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        analyze_stencil(weights, **kwargs)  # type: ignore[arg-type]


def test_point_cap_is_checked_before_any_work() -> None:
    huge = dict.fromkeys(range(-MAX_STENCIL_POINTS, MAX_STENCIL_POINTS), 1)
    with pytest.raises(LimitExceeded) as caught:
        analyze_stencil(huge, "x")
    assert caught.value.limit == "stencil_points"


@settings(max_examples=12, deadline=None, derandomize=True)
@given(
    st.integers(1, 2),
    st.lists(st.integers(-4, 4), min_size=4, max_size=6, unique=True),
    st.integers(0, 5),
    st.fractions(min_value=Fraction(-3), max_value=Fraction(3)).filter(bool),
)
def test_property_fornberg_stencils_agree_and_perturbed_ones_fail(
    m: int, offsets: list[int], which: int, delta: Fraction
) -> None:
    """Stencil's order for any node set; one weight moved by any δ ≠ 0 is inconsistent."""
    stencil = Stencil.from_offsets(m, ",".join(map(str, offsets)))
    assert analyze_stencil(stencil).order == stencil.accuracy
    weights = dict(zip(stencil.offsets, stencil.weights, strict=True))
    key = stencil.offsets[which % len(offsets)]
    weights[key] += delta
    planted = analyze_stencil(weights, ("x", m))
    assert planted.status is Status.FAIL
    assert planted.order == -m  # Σ w = δ ≠ 0: an error δ u / h^m


def test_renderings() -> None:
    a = analyze_stencil(NINE, "laplacian")
    assert a.to_dict()["harmonic_order"] == 6
    assert a.to_dict()["terms"]["2"] == a.leading_term
    assert a.to_text().startswith("analyze_stencil: laplacian on x, y\npass: order 2")
    assert "<td>h^4</td>" in a.to_html()
    assert "| h^2 | h**2*(u_xxxx + 2*u_xxyy + u_yyyy)/12 |" in a.to_markdown()


def _periodic_scheme(stencil: Stencil) -> Callable[[npt.NDArray[np.float64], Any], Any]:
    """The stencil applied on a periodic 1-D grid: h^-m Σ w u(x + s h) by np.roll."""
    terms = [(int(s), float(w)) for s, w in zip(stencil.offsets, stencil.weights, strict=True)]

    def scheme(u: npt.NDArray[np.float64], h: tuple[float]) -> Any:
        return sum(w * np.roll(u, -s) for s, w in terms) / h[0] ** stencil.derivative

    return scheme


@settings(max_examples=8, deadline=None, derandomize=True)
@given(st.integers(1, 2), st.lists(st.integers(-3, 3), min_size=3, max_size=5, unique=True))
def test_property_formal_order_is_the_observed_order(m: int, offsets: list[int]) -> None:
    """Two independent routes agree: the Taylor analysis and sampling on refined grids."""
    stencil = Stencil.from_offsets(m, ",".join(map(str, offsets)))
    order = analyze_stencil(stencil).order
    assume(order is not None and 1 <= order <= 4)
    p = int(order or 0)
    result = verify_operator(
        _periodic_scheme(stencil),
        "sin(x + 0.3) + cos(2*x)/3",
        "x=0:2*pi",
        ("x", m),
        sizes=(16, 32, 64, 128),
        periodic="x",
        expect_order=p,
    )
    assert result.status is not Status.FAIL, result.reason
    observed = result.components[0].interior.orders
    assert any(abs(o - p) <= 0.2 for o in observed), observed
