"""Compiled derivatives of abs, min and max: values at kinks and away, and the work of printing.

The oracle never uses symgrad: the functions are evaluated with Python's ``max``/``min``/``abs``
on exact fractions, and a partial derivative is the mean of the two one-sided difference
derivatives, each the limit of exact difference quotients that cross no kink (see `_oracle`):
away from a kink both sides agree, and at a kink the mean is SymPy's convention for the derivative of a step (``Heaviside(0) = 1/2``,
``sign(0) = 0``), which symgrad keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad
from tests.test_security import sympy_calls

_Point = Sequence[Fraction]
_STEP = Fraction(1, 2**40)  # far below the gaps of the points below, which are multiples of 1/8


def _maximum(p: _Point) -> Fraction:
    return max(p)


def _minimum(p: _Point) -> Fraction:
    return min(p)


def _nested(p: _Point) -> Fraction:  # max(x, min(y, 2*x)) * abs(x - z)
    x, y, z = p
    return max(x, min(y, 2 * x)) * abs(x - z)


def _oracle(f: Callable[[_Point], Fraction], p: _Point) -> list[Fraction]:
    """Mean of the one-sided derivatives along each variable, exact.

    Between kinks the functions below are polynomials of degree at most 2 in each variable, so a
    one-sided quotient with step h is ``a + b*h`` exactly and ``2*q(h) - q(2h)`` is its limit.
    """
    grads = []
    for i in range(len(p)):

        def quotient(h: Fraction, i: int = i) -> Fraction:
            return (f([v + h * (k == i) for k, v in enumerate(p)]) - f(p)) / h

        right = 2 * quotient(_STEP) - quotient(2 * _STEP)
        left = 2 * quotient(-_STEP) - quotient(-2 * _STEP)
        grads.append((right + left) / 2)
    return grads


def _on_nested_kink(p: _Point) -> bool:
    """Where a step of the nested case jumps: there SymPy's chain rule multiplies the steps'
    values at 0 (1/2 * 1/2), a convention that is not the mean of the one-sided derivatives."""
    x, y, z = p
    return y == 2 * x or x == min(y, 2 * x) or x == z


def _never(_p: _Point) -> bool:
    return False


CASES = [  # a single max or min: at a tie the mean of the sides is the convention itself
    ("max(x0, x1, x2, x3)", _maximum, 4, _never),
    ("min(x0, x1, x2, x3)", _minimum, 4, _never),
    ("max(x0, min(x1, 2*x0))*abs(x0 - x2)", _nested, 3, _on_nested_kink),
]
_eighths = st.integers(-3, 3).map(lambda k: Fraction(k, 8))  # small range: many ties and kinks


@pytest.mark.parametrize(("text", "f", "n", "skip"), CASES, ids=["max", "min", "nested"])
@settings(max_examples=30, deadline=None, derandomize=True)
@given(data=st.data())
def test_compiled_derivatives_equal_the_exact_one_sided_mean(
    text: str,
    f: Callable[[_Point], Fraction],
    n: int,
    skip: Callable[[_Point], bool],
    data: st.DataObject,
) -> None:
    """NumPy, mpmath and certified values all equal the oracle, at ties and away from kinks."""
    point = data.draw(st.lists(_eighths, min_size=n, max_size=n).filter(lambda p: not skip(p)))
    want = _oracle(f, point)
    g = symgrad.gradient(text, [f"x{i}" for i in range(n)])
    assert g(*[float(v) for v in point]).tolist() == [float(w) for w in want]
    ctx, mp_function = g.mp_function(30)
    assert [
        Fraction(str(v))
        for v in mp_function(*[ctx.mpf(v.numerator) / v.denominator for v in point])
    ] == want
    exact = g.at(dict(zip([f"x{i}" for i in range(n)], point, strict=True)), dps=20)
    assert [Fraction(str(v)) for v in exact] == want


def test_ties_of_three_give_one_half_each() -> None:
    """At a three-way tie each tied argument's slope is 1/2, the others' 0 (hand-computed)."""
    g = symgrad.gradient("max(x0, x1, x2, x3)")
    assert g(1.0, 1.0, 1.0, 0.0).tolist() == [0.5, 0.5, 0.5, 0.0]
    assert symgrad.gradient("abs(x)")(0.0).tolist() == [0.0]


def test_nan_stays_nan() -> None:
    """A NaN argument gives NaN derivatives, not a silent 0 or 1."""
    g = symgrad.gradient("max(x0, x1)")
    assert np.isnan(g(np.nan, 1.0)).all()


def test_printing_a_max_gradient_costs_little_sympy_work() -> None:
    """Compiling the gradient of a max of 8 arguments (8 step functions of a max of 7) no longer
    rewrites steps into simplified conditions nor rebuilds each Max pairwise.

    Measured beyond differentiating: about 9.7 million SymPy calls with SymPy's printing of
    steps and Max, about 0.1-0.25 million now.  (The max of 16 took two minutes, now about 1 s.)
    """
    text = "max(" + ", ".join(f"x{i}" for i in range(8)) + ")"
    expr, names = symgrad.expr.parse_with_variables(text)
    differentiating = sympy_calls(lambda: symgrad.expr.gradient_exprs(expr, names))
    whole = sympy_calls(lambda: symgrad.gradient(text))
    assert whole - differentiating < 1_000_000  # parsing, pricing and compiling together
    assert symgrad.gradient(text)(*np.arange(8.0)).tolist() == [0.0] * 7 + [1.0]


@pytest.mark.parametrize("at_zero", [Fraction(0), Fraction(1), Fraction(1, 3), Fraction(1, 2)])
def test_heaviside_of_a_sympy_input_is_exact_with_any_value_at_zero(at_zero: Fraction) -> None:
    """Heaviside(x, h0)*(x + 2) is exactly 0, h0*2 and 3 at x = -1, 0, 1 in float64 and in
    mpmath (a formula in sign would leave -5.6e-17 at x = -1 for h0 = 1/3), NaN at NaN."""
    import sympy

    x = sympy.Symbol("x")
    h0 = sympy.Rational(at_zero.numerator, at_zero.denominator)
    f = symgrad.function(sympy.Heaviside(x, h0) * (x + 2))
    got = f(np.array([-1.0, 0.0, 1.0, np.nan]))
    assert got[:3].tolist() == [0.0, float(2 * at_zero), 3.0]
    assert np.isnan(got[3])
    ctx, mp_function = f.mp_function(30)
    values = [mp_function(ctx.mpf(v))[0] for v in (-1, 0, 1)]
    assert values[0] == 0
    assert values[2] == 3
    assert (
        abs(values[1] - ctx.mpf(2 * at_zero.numerator) / at_zero.denominator) < ctx.mpf(10) ** -29
    )
