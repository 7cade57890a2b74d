"""Factored linear forms: d/dx_k (Σ c_i x_i)² = 2 c_k (Σ c_i x_i) stays a number times the sum.

Distributed, each of the N components would carry its own N-term sum (N² distinct terms that
no common-subexpression elimination can share, and a job the work limit refuses at N = 200).
Kept factored, the components share one sum: the distinct nodes of the whole gradient grow
linearly in N.  Values are checked against the closed form 2 c_k S in exact rational arithmetic.
"""

from __future__ import annotations

import importlib.util
import random
from fractions import Fraction

import numpy as np
import pytest
import sympy

from symgrad.derive import Limits, clear_cache, for_scipy, gradient, hessian, vector
from symgrad.errors import LimitExceeded

HAS_SYMENGINE = importlib.util.find_spec("symengine") is not None
ENGINES = [
    "sympy",
    pytest.param("symengine", marks=pytest.mark.skipif(not HAS_SYMENGINE, reason="no symengine")),
]


def _dense(n: int) -> str:
    """(1*x[0] + 2*x[1] + ... + n*x[n-1])**2: c_i = i + 1."""
    return "(" + " + ".join(f"{i + 1}*x[{i}]" for i in range(n)) + ")**2"


def _distinct(exprs: tuple[sympy.Expr, ...]) -> int:
    """Distinct subexpressions of all components together (what CSE sees)."""
    return len({node for e in exprs for node in sympy.preorder_traversal(e)})


def _closed_form(point: list[Fraction]) -> list[Fraction]:
    total = sum((i + 1) * p for i, p in enumerate(point))
    return [2 * (k + 1) * total for k in range(len(point))]


def _check_values(n: int, symbolic: str) -> None:
    g = gradient(_dense(n), wrt=vector("x", n), symbolic=symbolic)  # default limits
    rng = random.Random(n)
    for _ in range(3):
        point = [Fraction(rng.randint(1, 999), rng.randint(1, 999)) for _ in range(n)]
        want = _closed_form(point)
        got = g(np.array([float(p) for p in point]))
        np.testing.assert_allclose(got, [float(w) for w in want], rtol=1e-13)
    assert g.components[3].as_coeff_Mul()[1] is g.components[0].as_coeff_Mul()[1]  # one S


@pytest.mark.parametrize("symbolic", ENGINES)
def test_components_share_one_sum_and_grow_linearly(symbolic: str) -> None:
    sizes = {}
    for n in (25, 50, 100):
        clear_cache()
        g = gradient(_dense(n), wrt=vector("x", n), symbolic=symbolic)
        sizes[n] = _distinct(g.components)
        coefficient, s = g.components[0].as_coeff_Mul()  # 2*S, S the sum itself
        assert coefficient == 2
        assert isinstance(s, sympy.Add)
        assert len(s.args) == n
        assert all(c.as_coeff_Mul() == (2 * (k + 1), s) for k, c in enumerate(g.components))
    assert sizes[50] / sizes[25] < 2.2
    assert sizes[100] / sizes[50] < 2.2  # distributed: about 4 (N² distinct products)


def test_the_distributed_form_would_grow_quadratically() -> None:
    """The measure above is not vacuous: the same gradient, distributed, grows as N²."""
    sizes = {}
    for n in (25, 50):
        g = gradient(_dense(n), wrt=vector("x", n), symbolic="sympy")
        sizes[n] = _distinct(tuple(sympy.expand(c) for c in g.components))
    assert sizes[50] / sizes[25] > 3.5


@pytest.mark.parametrize("symbolic", ENGINES)
def test_values_equal_the_closed_form(symbolic: str) -> None:
    _check_values(50, symbolic)


def test_the_dense_gradient_of_200_variables_is_accepted_under_default_limits() -> None:
    """Refused by the work limit while SymPy distributed the coefficient (N² terms)."""
    symbolic = "symengine" if HAS_SYMENGINE else "sympy"
    _check_values(200, symbolic)


@pytest.mark.slow
def test_the_dense_gradient_of_200_variables_on_sympy() -> None:
    _check_values(200, "sympy")


def test_exact_values_keep_the_factored_form_exact() -> None:
    """``.at()`` at 30 digits equals 2 c_k S computed in rationals."""
    n = 40
    g = gradient(_dense(n), wrt=vector("x", n))
    point = [Fraction(k + 1, 7) for k in range(n)]
    want = _closed_form(point)
    values = g.at(
        {f"x_{k}": sympy.Rational(p.numerator, p.denominator) for k, p in enumerate(point)}, dps=30
    )
    for k in (0, 17, 39):
        assert abs(Fraction(str(values[k])) - want[k]) <= abs(want[k]) * Fraction(1, 10**29)


def test_a_sparse_hessian_is_not_charged_for_the_zeros_it_does_not_compile() -> None:
    """Rosenbrock in 300 variables under max_work=60,000: the dense Hessian (90,000 entries,
    89,102 of them zeros that it compiles) is refused; for_scipy's sparse Hessian (898 entries)
    is priced without those zeros, accepted, and equals the closed form of Rosenbrock's Hessian."""
    n = 300
    text = " + ".join(f"100*(x[{i + 1}] - x[{i}]**2)**2 + (1 - x[{i}])**2" for i in range(n - 1))
    limits = Limits(max_work=60_000)
    with pytest.raises(LimitExceeded):
        hessian(text, wrt=vector("x", n), limits=limits)
    problem = for_scipy(text, wrt=vector("x", n), sparse=True, limits=limits)
    point = np.linspace(-1.0, 1.5, n)
    got = problem.hess(point).toarray()
    want = np.zeros((n, n))  # d²/dx_i² and d²/dx_i dx_(i+1) of the 59 terms, by hand
    for i in range(n - 1):
        want[i, i] += 1200 * point[i] ** 2 - 400 * point[i + 1] + 2
        want[i + 1, i + 1] += 200
        want[i, i + 1] = want[i + 1, i] = -400 * point[i]
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-12)
    assert np.count_nonzero(got) == 3 * n - 2


def test_a_thousand_variable_rosenbrock_gradient_from_text() -> None:
    """The 1,000-variable Rosenbrock sum (about 40,000 characters) is within the parser's caps
    and the default work limit; its gradient equals the closed form
    d/dx_i = -400 x_i (x_{i+1} - x_i^2) - 2 (1 - x_i) + 200 (x_i - x_{i-1}^2)."""
    n = 1000
    text = "+".join(f"100*(x[{i + 1}]-x[{i}]**2)**2+(1-x[{i}])**2" for i in range(n - 1))
    g = gradient(text, wrt=vector("x", n))
    x = np.linspace(-1.2, 1.3, n)
    expected = np.zeros(n)
    expected[:-1] += -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    expected[1:] += 200 * (x[1:] - x[:-1] ** 2)
    np.testing.assert_allclose(g(x), expected, rtol=1e-13, atol=1e-12)
