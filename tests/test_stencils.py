"""Exact finite-difference stencils against published tables, closed forms and an independent solver.

The reference data below is Fornberg's published tables (Fornberg 1988 and the
Wikipedia "Finite difference coefficient" tables that cite it); nothing here calls the code under
test to produce an expected value.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad.errors import ConfigError, InputError, LimitExceeded, SymgradError
from symgrad.fd import MAX_POINTS, Stencil, fornberg_weights

# — centered weights: | m | p | offsets | weights (times h^-m) | leading error C |
CENTRAL_TABLE = """
| 1 | 2 | -1 … 1 | -1/2, 0, 1/2 | 1/6 |
| 1 | 4 | -2 … 2 | 1/12, -2/3, 0, 2/3, -1/12 | -1/30 |
| 1 | 6 | -3 … 3 | -1/60, 3/20, -3/4, 0, 3/4, -3/20, 1/60 | 1/140 |
| 1 | 8 | -4 … 4 | 1/280, -4/105, 1/5, -4/5, 0, 4/5, -1/5, 4/105, -1/280 | -1/630 |
| 2 | 2 | -1 … 1 | 1, -2, 1 | 1/12 |
| 2 | 4 | -2 … 2 | -1/12, 4/3, -5/2, 4/3, -1/12 | -1/90 |
| 2 | 6 | -3 … 3 | 1/90, -3/20, 3/2, -49/18, 3/2, -3/20, 1/90 | 1/560 |
| 2 | 8 | -4 … 4 | -1/560, 8/315, -1/5, 8/5, -205/72, 8/5, -1/5, 8/315, -1/560 | -1/3150 |
| 3 | 2 | -2 … 2 | -1/2, 1, 0, -1, 1/2 | 1/4 |
| 3 | 4 | -3 … 3 | 1/8, -1, 13/8, 0, -13/8, 1, -1/8 | -7/120 |
| 3 | 6 | -4 … 4 | -7/240, 3/10, -169/120, 61/30, 0, -61/30, 169/120, -3/10, 7/240 | 41/3024 |
| 4 | 2 | -2 … 2 | 1, -4, 6, -4, 1 | 1/6 |
| 4 | 4 | -3 … 3 | -1/6, 2, -13/2, 28/3, -13/2, 2, -1/6 | -7/240 |
| 4 | 6 | -4 … 4 | 7/240, -2/5, 169/60, -122/15, 91/8, -122/15, 169/60, -2/5, 7/240 | 41/7560 |
"""

# — forward (one-sided) weights, same columns.
FORWARD_TABLE = """
| 1 | 1 | 0 … 1 | -1, 1 | 1/2 |
| 1 | 2 | 0 … 2 | -3/2, 2, -1/2 | -1/3 |
| 1 | 3 | 0 … 3 | -11/6, 3, -3/2, 1/3 | 1/4 |
| 1 | 4 | 0 … 4 | -25/12, 4, -3, 4/3, -1/4 | -1/5 |
| 1 | 5 | 0 … 5 | -137/60, 5, -5, 10/3, -5/4, 1/5 | 1/6 |
| 1 | 6 | 0 … 6 | -49/20, 6, -15/2, 20/3, -15/4, 6/5, -1/6 | -1/7 |
| 1 | 7 | 0 … 7 | -363/140, 7, -21/2, 35/3, -35/4, 21/5, -7/6, 1/7 | 1/8 |
| 1 | 8 | 0 … 8 | -761/280, 8, -14, 56/3, -35/2, 56/5, -14/3, 8/7, -1/8 | -1/9 |
| 2 | 1 | 0 … 2 | 1, -2, 1 | 1 |
| 2 | 2 | 0 … 3 | 2, -5, 4, -1 | -11/12 |
| 2 | 3 | 0 … 4 | 35/12, -26/3, 19/2, -14/3, 11/12 | 5/6 |
| 2 | 4 | 0 … 5 | 15/4, -77/6, 107/6, -13, 61/12, -5/6 | -137/180 |
| 2 | 5 | 0 … 6 | 203/45, -87/5, 117/4, -254/9, 33/2, -27/5, 137/180 | 7/10 |
| 2 | 6 | 0 … 7 | 469/90, -223/10, 879/20, -949/18, 41, -201/10, 1019/180, -7/10 | -363/560 |
| 3 | 1 | 0 … 3 | -1, 3, -3, 1 | 3/2 |
| 3 | 2 | 0 … 4 | -5/2, 9, -12, 7, -3/2 | -7/4 |
| 3 | 3 | 0 … 5 | -17/4, 71/4, -59/2, 49/2, -41/4, 7/4 | 15/8 |
| 3 | 4 | 0 … 6 | -49/8, 29, -461/8, 62, -307/8, 13, -15/8 | -29/15 |
| 3 | 5 | 0 … 7 | -967/120, 638/15, -3929/40, 389/3, -2545/24, 268/5, -1849/120, 29/15 | 469/240 |
| 3 | 6 | 0 … 8 | -801/80, 349/6, -18353/120, 2391/10, -1457/6, 4891/30, -561/8, 527/30, -469/240 | -29531/15120 |
| 4 | 1 | 0 … 4 | 1, -4, 6, -4, 1 | 2 |
| 4 | 2 | 0 … 5 | 3, -14, 26, -24, 11, -2 | -17/6 |
| 4 | 3 | 0 … 6 | 35/6, -31, 137/2, -242/3, 107/2, -19, 17/6 | 7/2 |
| 4 | 4 | 0 … 7 | 28/3, -111/2, 142, -1219/6, 176, -185/2, 82/3, -7/2 | -967/240 |
| 4 | 5 | 0 … 8 | 1069/80, -1316/15, 15289/60, -2144/5, 10993/24, -4772/15, 2803/20, -536/15, 967/240 | 89/20 |
"""


@dataclass(frozen=True)
class Row:
    """One published table row."""

    derivative: int
    accuracy: int
    offsets: tuple[Fraction, ...]
    weights: tuple[Fraction, ...]
    constant: Fraction

    @property
    def id(self) -> str:
        return f"d{self.derivative}-p{self.accuracy}"


def rows(table: str) -> list[Row]:
    """Parse ``| m | p | lo … hi | w, w, ... | C |`` lines."""
    out = []
    for line in table.strip().splitlines():
        m, p, span, weights, constant = (cell.strip() for cell in line.strip("| ").split("|"))
        lo, hi = (int(end) for end in span.split("…"))
        row = Row(
            int(m),
            int(p),
            tuple(Fraction(s) for s in range(lo, hi + 1)),
            tuple(Fraction(w) for w in weights.split(",")),
            Fraction(constant),
        )
        assert len(row.offsets) == len(row.weights), row
        out.append(row)
    return out


CENTRAL_ROWS = rows(CENTRAL_TABLE)
FORWARD_ROWS = rows(FORWARD_TABLE)


# ---------------------------------------------------------------------------------------------
# Published tables


@pytest.mark.parametrize("row", CENTRAL_ROWS, ids=[r.id for r in CENTRAL_ROWS])
def test_central_matches_published_row(row: Row) -> None:
    """Centered stencils reproduce every row of exactly, error constant included."""
    s = Stencil.central(row.derivative, row.accuracy)
    assert (s.offsets, s.weights) == (row.offsets, row.weights)
    assert (s.accuracy, s.error_coefficient, s.kind) == (row.accuracy, row.constant, "central")
    assert s.is_symmetric


@pytest.mark.parametrize("row", FORWARD_ROWS, ids=[r.id for r in FORWARD_ROWS])
def test_forward_matches_published_row(row: Row) -> None:
    """Forward stencils reproduce every row of exactly, error constant included."""
    s = Stencil.forward(row.derivative, row.accuracy)
    assert (s.offsets, s.weights) == (row.offsets, row.weights)
    assert (s.accuracy, s.error_coefficient, s.kind) == (row.accuracy, row.constant, "forward")
    assert not s.is_symmetric


@pytest.mark.parametrize("row", FORWARD_ROWS, ids=[r.id for r in FORWARD_ROWS])
def test_backward_is_mirrored_forward_row(row: Row) -> None:
    """Backward weights are (-1)^m times the forward row on negated offsets, and C is (-1)^p C.

    Mirroring s -> -s multiplies the k-th moment by (-1)^(m+k); at k = m+p that is (-1)^p.
    """
    s = Stencil.backward(row.derivative, row.accuracy)
    sign = (-1) ** row.derivative
    assert s.offsets == tuple(-o for o in reversed(row.offsets))
    assert s.weights == tuple(sign * w for w in reversed(row.weights))
    assert s.accuracy == row.accuracy
    assert s.error_coefficient == (-1) ** row.accuracy * row.constant


def test_published_rows_sum_to_zero() -> None:
    """Every copied row sums to zero (consistency for m >= 1), a guard against copying typos."""
    assert all(sum(r.weights) == 0 for r in CENTRAL_ROWS + FORWARD_ROWS)


# ---------------------------------------------------------------------------------------------
# Closed forms


def harmonic(n: int) -> Fraction:
    return sum((Fraction(1, k) for k in range(1, n + 1)), Fraction(0))


@pytest.mark.parametrize("n", range(1, 9), ids=lambda n: f"n{n}")
def test_forward_first_derivative_harmonic_form(n: int) -> None:
    """Forward first derivative of accuracy n: w_0 = -H_n, w_k = (-1)^(k+1) C(n,k)/k, C = (-1)^(n+1)/(n+1)."""
    expected = (
        -harmonic(n),
        *(Fraction((-1) ** (k + 1) * math.comb(n, k), k) for k in range(1, n + 1)),
    )
    s = Stencil.forward(1, n)
    assert s.weights == expected
    assert s.error_coefficient == Fraction((-1) ** (n + 1), n + 1)


def centered_closed_form(derivative: int, p: int) -> tuple[Fraction, ...]:
    """Weights on -p..p from the closed forms for the first and second derivative."""

    def core(k: int) -> Fraction:
        return Fraction(math.factorial(p) ** 2, math.factorial(p - k) * math.factorial(p + k))

    if derivative == 1:
        right = [Fraction((-1) ** (k + 1), k) * core(k) for k in range(1, p + 1)]
        return (*(-w for w in reversed(right)), Fraction(0), *right)
    right = [Fraction(2 * (-1) ** (k + 1), k * k) * core(k) for k in range(1, p + 1)]
    return (*reversed(right), -2 * sum(right), *right)


@pytest.mark.parametrize("derivative", [1, 2], ids=["first", "second"])
@pytest.mark.parametrize("p", range(1, 6), ids=lambda p: f"acc{2 * p}")
def test_centered_closed_forms(derivative: int, p: int) -> None:
    """Centered first and second derivatives of accuracy 2p match their closed forms for p = 1..5."""
    assert Stencil.central(derivative, 2 * p).weights == centered_closed_form(derivative, p)


def test_staggered_fourth_order() -> None:
    """Nodes ±1/2, ±3/2 give 1/24, -9/8, 9/8, -1/24, order 4 and C = M_5/5! = -3/640."""
    published = tuple(map(Fraction, ["1/24", "-9/8", "9/8", "-1/24"]))
    nodes = tuple(map(Fraction, ["-3/2", "-1/2", "1/2", "3/2"]))
    s = Stencil.from_offsets(1, ["3/2", Fraction(-1, 2), "0.5", "-1.5"])
    assert (s.offsets, s.weights, s.accuracy, s.kind) == (nodes, published, 4, "custom")
    assert s.error_coefficient == sum(w * o**5 for o, w in zip(nodes, published, strict=True)) / 120
    assert s.error_coefficient == Fraction(-3, 640)


def test_interpolation_at_midpoint() -> None:
    """Derivative 0 on ±1/2 is the average, exact to order 2 with C = 1/8: (f(-h/2)+f(h/2))/2 - f(0) = h²f''/8."""
    s = Stencil.from_offsets(0, "-1/2, 1/2")
    assert (s.weights, s.accuracy, s.error_coefficient) == (
        (Fraction(1, 2),) * 2,
        2,
        Fraction(1, 8),
    )


# ---------------------------------------------------------------------------------------------
# An independent solver: the Taylor (Vandermonde) system by Gaussian elimination in Fractions


def solve_moment_system(derivative: int, nodes: list[Fraction], x0: Fraction) -> list[Fraction]:
    """Solve Σ_j w_j (a_j - x0)^k = m! [k = m], k = 0..n-1, by Gauss-Jordan elimination."""
    n = len(nodes)
    rhs = [Fraction(math.factorial(derivative) if k == derivative else 0) for k in range(n)]
    a = [[(s - x0) ** k for s in nodes] + [rhs[k]] for k in range(n)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if a[r][col] != 0)
        a[col], a[pivot] = a[pivot], a[col]
        a[col] = [v / a[col][col] for v in a[col]]
        for r in range(n):
            if r != col and a[r][col] != 0:
                factor = a[r][col]
                a[r] = [v - factor * p for v, p in zip(a[r], a[col], strict=True)]
    return [a[r][n] for r in range(n)]


rationals = st.builds(Fraction, st.integers(-12, 12), st.integers(1, 4))


@st.composite
def node_sets(draw: Any, max_size: int = 8) -> tuple[int, list[Fraction]]:
    derivative = draw(st.integers(0, 4))
    nodes = draw(st.lists(rationals, min_size=derivative + 1, max_size=max_size, unique=True))
    return derivative, nodes


@settings(max_examples=200, deadline=None)
@given(case=node_sets(), x0=rationals)
def test_fornberg_equals_moment_solve(case: tuple[int, list[Fraction]], x0: Fraction) -> None:
    """fornberg_weights equals the exact Vandermonde solve for random rational nodes and centre."""
    derivative, nodes = case
    assert list(fornberg_weights(derivative, nodes, x0)) == solve_moment_system(
        derivative, nodes, x0
    )


def test_fornberg_matches_sympy_lusolve() -> None:
    """A non-uniform rational case agrees with sympy's exact LU solve of the moment system."""
    import sympy

    nodes = [Fraction(-7, 3), Fraction(-1, 2), Fraction(0), Fraction(3, 4), Fraction(2)]
    m = 2
    matrix = sympy.Matrix([[sympy.Rational(s) ** k for s in nodes] for k in range(len(nodes))])
    rhs = sympy.Matrix([2 if k == m else 0 for k in range(len(nodes))])
    expected = [Fraction(str(v)) for v in matrix.LUsolve(rhs)]
    assert list(fornberg_weights(m, nodes)) == expected


# ---------------------------------------------------------------------------------------------
# Exactness on polynomials (Hypothesis)


@st.composite
def stencils(draw: Any) -> Stencil:
    kind = draw(st.sampled_from(["central", "forward", "backward", "custom"]))
    if kind == "custom":
        derivative, nodes = draw(node_sets().filter(lambda c: c[0] > 0 or 0 not in c[1]))
        return Stencil.from_offsets(derivative, nodes)
    derivative, accuracy = draw(st.integers(1, 4)), draw(st.integers(1, 6))
    if kind == "central":
        accuracy += accuracy % 2
    return getattr(Stencil, kind)(derivative, accuracy)


def exact_samples(poly: list[Fraction], s: Stencil, x0: Fraction, h: Fraction) -> list[Fraction]:
    return [
        sum((c * (x0 + o * h) ** i for i, c in enumerate(poly)), Fraction(0)) for o in s.offsets
    ]


def derivative_at(poly: list[Fraction], m: int, x0: Fraction) -> Fraction:
    return sum(
        (c * math.perm(i, m) * x0 ** (i - m) for i, c in enumerate(poly) if i >= m), Fraction(0)
    )


@settings(max_examples=200, deadline=None)
@given(s=stencils(), x0=rationals, h=rationals.filter(bool), data=st.data())
def test_exact_on_polynomials_below_order(s: Stencil, x0: Fraction, h: Fraction, data: Any) -> None:
    """A stencil of accuracy p is exact on every polynomial of degree <= m + p - 1."""
    degree = s.derivative + s.accuracy - 1
    poly = data.draw(st.lists(rationals, min_size=degree + 1, max_size=degree + 1))
    fd = s.apply(exact_samples(poly, s, x0, h), h)
    assert isinstance(fd, Fraction)
    assert fd == derivative_at(poly, s.derivative, x0)


@settings(max_examples=200, deadline=None)
@given(s=stencils(), h=rationals.filter(bool))
def test_error_on_first_failing_power(s: Stencil, h: Fraction) -> None:
    """On (x - x0)^(m+p) the error is exactly C (m+p)! h^p = C h^p f^(m+p), and nonzero."""
    n = s.derivative + s.accuracy
    samples = [(o * h) ** n for o in s.offsets]  # f(x0 + o h) for f(x) = (x - x0)^n, any x0
    expected = s.error_coefficient * math.factorial(n) * h**s.accuracy
    assert s.apply(samples, h) == expected != 0
    assert s.predicted_error(math.factorial(n), h) == expected


# ---------------------------------------------------------------------------------------------
# numpy.gradient's non-uniform interior formula


@settings(max_examples=100, deadline=None)
@given(hl=rationals.filter(lambda v: v > 0), hr=rationals.filter(lambda v: v > 0))
def test_numpy_gradient_nonuniform_coefficients(hl: Fraction, hr: Fraction) -> None:
    """Offsets (-h_l, 0, h_r) give numpy's -h_r/(h_l(h_l+h_r)), (h_r-h_l)/(h_l h_r), h_l/(h_r(h_l+h_r))."""
    s = Stencil.from_offsets(1, [-hl, 0, hr])
    expected = (-hr / (hl * (hl + hr)), (hr - hl) / (hl * hr), hl / (hr * (hl + hr)))
    assert s.weights == expected
    assert s.accuracy == 2
    assert s.error_coefficient == hl * hr / 6


def test_matches_numpy_gradient_on_a_grid() -> None:
    """On a random dyadic grid the stencil reproduces numpy.gradient's interior values."""
    rng = np.random.default_rng(20240611)
    ticks = np.sort(rng.choice(np.arange(-64, 65), size=12, replace=False))
    x = ticks / 64.0  # exact in binary, so Fraction(x) is the grid itself
    f = np.sin(3 * x)
    expected = np.gradient(f, x)[1:-1]
    for i in range(1, len(x) - 1):
        s = Stencil.from_offsets(1, [Fraction(x[j] - x[i]) for j in (i - 1, i, i + 1)])
        atol = 8 * np.finfo(float).eps * float(sum(abs(w) for w in s.weights))
        np.testing.assert_allclose(
            s.apply(f[i - 1 : i + 2], 1.0), expected[i - 1], rtol=0, atol=atol
        )


# ---------------------------------------------------------------------------------------------
# Floating-point and mpmath evaluation against cos(1)


def sin_derivative(n: int, x: Any, sin: Any = np.sin, pi: Any = np.pi) -> Any:
    return sin(x + n * pi / 2)


FLOAT_CASES = [
    ("central:2", 1e-3),
    ("central:4", 1e-2),
    ("central:6", 5e-2),
    ("forward:1", 1e-4),
    ("forward:2", 1e-3),
    ("backward:2", 1e-3),
    ("central:2:d2", 1e-2),
    ("forward:2:d2", 1e-2),
]


@pytest.mark.parametrize(("spec", "h"), FLOAT_CASES, ids=[c[0] for c in FLOAT_CASES])
def test_float_apply_within_predicted_error(spec: str, h: float) -> None:
    """Float64 samples of sin give f^(m)(1) with an error within 10% of C h^p f^(m+p)(1)."""
    s = Stencil.parse(spec)
    values = [np.sin(1.0 + float(o) * h) for o in s.offsets]
    error = s.apply(values, h) - sin_derivative(s.derivative, 1.0)
    predicted = s.predicted_error(sin_derivative(s.derivative + s.accuracy, 1.0), h)
    assert isinstance(predicted, float)
    assert abs(error - predicted) <= 0.1 * abs(predicted)


def test_array_apply_vectorized() -> None:
    """An array with axis 0 = offsets gives one derivative per column, within the predicted error."""
    s, h = Stencil.central(1, 4), 1e-2
    x = np.linspace(0.5, 1.5, 5)
    values = np.sin(x[None, :] + np.array([float(o) for o in s.offsets])[:, None] * h)
    fd = s.apply(values, h)
    assert fd.shape == (5,)
    predicted = s.predicted_error(sin_derivative(5, x), h)
    assert np.all(np.abs(fd - np.cos(x) - predicted) <= 0.1 * np.abs(predicted))


MP_SPECS = [
    "central:2",
    "central:8",
    "forward:1",
    "forward:6",
    "backward:3",
    "central:4:d3",
    "forward:4:d4",
]


@pytest.mark.parametrize("spec", MP_SPECS)
def test_mpmath_apply_within_predicted_error(spec: str) -> None:
    """At 40 digits in a private context, the error matches C h^p f^(m+p)(1) to within 2%."""
    ctx = mpmath.MPContext()
    ctx.dps = 40
    s, h, x0 = Stencil.parse(spec), ctx.mpf(1) / 1000, ctx.mpf(1)
    values = [ctx.sin(x0 + ctx.mpf(o.numerator) / o.denominator * h) for o in s.offsets]
    fd = s.apply(values, h)
    assert isinstance(fd, ctx.mpf)
    error = fd - sin_derivative(s.derivative, x0, ctx.sin, ctx.pi)
    predicted = s.predicted_error(sin_derivative(s.derivative + s.accuracy, x0, ctx.sin, ctx.pi), h)
    assert isinstance(predicted, ctx.mpf)
    assert abs(error - predicted) <= abs(predicted) / 50


def test_mpmath_explicit_context() -> None:
    """With ctx= the result is computed in that context even from float samples."""
    ctx = mpmath.MPContext()
    ctx.dps = 30
    fd = Stencil.central(1, 2).apply([0.25, 1.0, 2.25], 0.5, ctx=ctx)
    assert isinstance(fd, ctx.mpf)
    assert fd == 2


def test_zero_weights_never_touch_their_value() -> None:
    """A NaN at the centre does not spoil a central first derivative (its weight is 0)."""
    assert Stencil.central(1, 2).apply([1.0, float("nan"), 3.0], 1.0) == 1.0


def test_weights_as_converts_each_weight() -> None:
    """weights_as(float) gives the correctly rounded floats of the exact weights."""
    assert Stencil.central(1, 4).weights_as(float) == (1 / 12, -2 / 3, 0.0, 2 / 3, -1 / 12)


@pytest.mark.parametrize(
    ("values", "h", "error"),
    [
        ([1.0, 2.0], 1.0, InputError),
        ("abc", 1.0, InputError),
        (np.float64(1.0), 1.0, InputError),
        ([1.0, 2.0, 3.0], 0, ConfigError),
        ([1.0, 2.0, 3.0], True, ConfigError),
    ],
    ids=["short", "text", "scalar", "zero-step", "bool-step"],
)
def test_apply_rejects_bad_input(values: Any, h: Any, error: type[Exception]) -> None:
    """apply refuses a wrong number of values and a zero or boolean step."""
    with pytest.raises(error):
        Stencil.central(1, 2).apply(values, h)


# ---------------------------------------------------------------------------------------------
# Scheme strings, validation and caps


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("central:4", ("central", 1, 4)),
        ("forward:1", ("forward", 1, 1)),
        ("backward:2", ("backward", 1, 2)),
        ("central:2:d2", ("central", 2, 2)),
        ("  Forward:3:D4 ", ("forward", 4, 3)),
    ],
    ids=["central4", "forward1", "backward2", "second-derivative", "case-and-spaces"],
)
def test_parse_scheme(spec: str, expected: tuple[str, int, int]) -> None:
    """Scheme strings KIND:ACCURACY[:dM] select the kind, derivative and accuracy."""
    s = Stencil.parse(spec)
    assert (s.kind, s.derivative, s.accuracy) == expected


BAD_SCHEMES = [  # (id, spec, fragment of the message)
    ("empty", "", "unknown stencil kind"),
    ("no-accuracy", "central", "needs a positive integer accuracy"),
    ("letters", "central:x", "needs a positive integer accuracy"),
    ("negative", "central:-2", "needs a positive integer accuracy"),
    ("zero", "central:0", "accuracy must be a positive integer"),
    ("odd-central", "central:3", "even accuracy"),
    ("typo", "centre:2", "unknown stencil kind 'centre'"),
    ("complex", "complex", "complex step is not a stencil"),
    ("bare-derivative", "central:2:2", "write the derivative as dM"),
    ("extra-field", "central:2:d2:x", "needs a positive integer accuracy"),
    ("huge-derivative", "central:2:d99", "above the cap"),
    ("not-text", 4, "scheme must be a string"),
]


@pytest.mark.parametrize(
    ("spec", "fragment"), [c[1:] for c in BAD_SCHEMES], ids=[c[0] for c in BAD_SCHEMES]
)
def test_parse_rejects_bad_scheme(spec: Any, fragment: str) -> None:
    """Bad scheme strings raise ConfigError (or LimitExceeded) naming the problem and the syntax."""
    with pytest.raises((ConfigError, LimitExceeded)) as info:
        Stencil.parse(spec)
    assert fragment in str(info.value)
    assert isinstance(info.value, SymgradError | ValueError)


BAD_PARAMETERS = [  # (id, call, exception, fragment of the message)
    ("odd-central", lambda: Stencil.central(1, 3), ConfigError, "ask for accuracy=4"),
    ("bool-derivative", lambda: Stencil.central(True, 2), ConfigError, "must be an integer"),
    ("float-derivative", lambda: Stencil.central(1.0, 2), ConfigError, "(got 1.0, a float)"),
    ("negative-derivative", lambda: Stencil.forward(-1, 2), ConfigError, "must be >= 0"),
    ("zero-accuracy", lambda: Stencil.forward(1, 0), ConfigError, "positive integer"),
    ("bool-accuracy", lambda: Stencil.forward(1, False), ConfigError, "positive integer"),
    ("derivative-cap", lambda: Stencil.central(13, 2), LimitExceeded, "13 is above the cap of 12"),
    ("central-size-cap", lambda: Stencil.central(1, 26), LimitExceeded, "accuracy <= 24"),
    ("forward-size-cap", lambda: Stencil.forward(2, 24), LimitExceeded, "needs 26 points"),
    ("huge-accuracy", lambda: Stencil.backward(1, 10**9), LimitExceeded, "above the cap of 25"),
    ("identity", lambda: Stencil.central(0, 2), ConfigError, "derivative=0 with offset 0"),
    ("duplicate", lambda: Stencil.from_offsets(1, [0, 1, 1]), ConfigError, "1 more than once"),
    ("same-value", lambda: Stencil.from_offsets(1, ["1/2", "0.5"]), ConfigError, "distinct"),
    ("too-few", lambda: Stencil.from_offsets(2, [0, 1]), ConfigError, "at least 3 offsets"),
    ("float-offset", lambda: Stencil.from_offsets(1, [0, 0.5]), ConfigError, "offsets[1] must"),
    ("exponent", lambda: Stencil.from_offsets(1, ["0", "1e9"]), ConfigError, "offsets[1] must"),
    ("zero-den", lambda: Stencil.from_offsets(1, ["0", "1/0"]), ConfigError, "offsets[1] must"),
    ("bool-offset", lambda: Stencil.from_offsets(1, [0, True]), ConfigError, "offsets[1] must"),
    ("not-iterable", lambda: Stencil.from_offsets(1, 5), ConfigError, "must be a sequence"),
    ("too-many", lambda: Stencil.from_offsets(1, range(30)), LimitExceeded, "more than 25"),
    ("huge-offset", lambda: Stencil.from_offsets(1, [0, 2**70]), LimitExceeded, "64 bits"),
    ("float-x0", lambda: fornberg_weights(1, [0, 1], x0=0.5), ConfigError, "x0 must be"),
]


@pytest.mark.parametrize(
    ("build", "error", "fragment"),
    [c[1:] for c in BAD_PARAMETERS],
    ids=[c[0] for c in BAD_PARAMETERS],
)
def test_bad_parameters_raise(build: Any, error: type[Exception], fragment: str) -> None:
    """Bad parameters raise at the boundary with a message naming the value and what to do."""
    with pytest.raises(error) as info:
        build()
    assert fragment in str(info.value)


def test_largest_allowed_stencils() -> None:
    """The caps are inclusive: 25 points and derivative 12 are accepted."""
    assert Stencil.forward(1, MAX_POINTS - 1).accuracy == MAX_POINTS - 1
    big = Stencil.central(12, 14)
    assert (big.size, big.accuracy) == (MAX_POINTS, 14)
    assert sum(big.weights) == 0


def test_offsets_given_as_text_are_sorted() -> None:
    """A comma-separated string of offsets is split, parsed exactly and sorted."""
    s = Stencil.from_offsets(1, " 1, -1 ,0")
    assert s == Stencil.from_offsets(1, [-1, 0, 1])
    assert s.weights == Stencil.central(1, 2).weights
    assert s.kind == "custom"


# ---------------------------------------------------------------------------------------------
# Serialisation and rendering


def test_to_dict_central_first_derivative() -> None:
    """to_dict has the documented stencil keys with exact rationals as strings and is JSON-ready."""
    expected = {
        "derivative": 1,
        "offsets": ["-1", "0", "1"],
        "weights": ["-1/2", "0", "1/2"],
        "accuracy": 2,
        "error_coefficient": "1/6",
        "kind": "central",
    }
    data = Stencil.central(1, 2).to_dict()
    assert data == expected
    assert json.loads(json.dumps(data)) == expected


FORMULAS = [  # (id, stencil, formula text)
    (
        "central1",
        Stencil.central(1, 2),
        "f'(x) ≈ [ -f(x-h) + f(x+h) ] / (2h)\nerror = 1/6 h^2 f'''(x) + O(h^3)",
    ),
    (
        "central2",
        Stencil.central(2, 2),
        "f''(x) ≈ [ f(x-h) - 2f(x) + f(x+h) ] / h^2\nerror = 1/12 h^2 f^(4)(x) + O(h^3)",
    ),
    (
        "forward1",
        Stencil.forward(1, 1),
        "f'(x) ≈ [ -f(x) + f(x+h) ] / h\nerror = 1/2 h f''(x) + O(h^2)",
    ),
    (
        "forward2",
        Stencil.forward(2, 1),
        "f''(x) ≈ [ f(x) - 2f(x+h) + f(x+2h) ] / h^2\nerror = h f'''(x) + O(h^2)",
    ),
    (
        "backward4",
        Stencil.backward(4, 2),
        (
            "f^(4)(x) ≈ [ -2f(x-5h) + 11f(x-4h) - 24f(x-3h) + 26f(x-2h) - 14f(x-h) + 3f(x) ] / h^4\n"
            "error = -17/6 h^2 f^(6)(x) + O(h^3)"
        ),
    ),
    (
        "staggered",
        Stencil.from_offsets(1, "-3/2,-1/2,1/2,3/2"),
        (
            "f'(x) ≈ [ f(x-3h/2) - 27f(x-h/2) + 27f(x+h/2) - f(x+3h/2) ] / (24h)\n"
            "error = -3/640 h^4 f^(5)(x) + O(h^5)"
        ),
    ),
    (
        "midpoint",
        Stencil.from_offsets(0, "-1/2,1/2"),
        "f(x) ≈ [ f(x-h/2) + f(x+h/2) ] / 2\nerror = 1/8 h^2 f''(x) + O(h^3)",
    ),
]


@pytest.mark.parametrize(
    ("stencil", "expected"), [c[1:] for c in FORMULAS], ids=[c[0] for c in FORMULAS]
)
def test_formula_text(stencil: Stencil, expected: str) -> None:
    """formula() writes the stencil over its common denominator and the leading error term."""
    assert stencil.formula() == expected


def test_latex() -> None:
    """latex() gives a fraction over D h^m and the error term with exact coefficients."""
    assert Stencil.central(1, 2).latex() == (
        r"f'(x) \approx \frac{-f(x-h) + f(x+h)}{2h}, \qquad "
        r"\text{error} = \frac{1}{6} h^{2} f'''(x) + O(h^{3})"
    )
    assert Stencil.from_offsets(1, "-1/2,1/2").latex() == (
        r"f'(x) \approx \frac{-f(x-\tfrac{h}{2}) + f(x+\tfrac{h}{2})}{h}, \qquad "
        r"\text{error} = \frac{1}{24} h^{2} f'''(x) + O(h^{3})"
    )
    assert r"\frac{f(x-h) - 2f(x) + f(x+h)}{h^{2}}" in Stencil.central(2, 2).latex()
    assert r"-\frac{1}{30} h^{4} f^{(5)}(x)" in Stencil.central(1, 4).latex()


def test_to_text_and_markdown() -> None:
    """to_text and to_markdown show the title, one row per offset and the formula."""
    s = Stencil.central(1, 2)
    assert s.to_text() == (
        "central stencil: derivative 1, accuracy 2, 3 points\n"
        "  offset  weight\n"
        "      -1    -1/2\n"
        "       0       0\n"
        "       1     1/2\n" + s.formula()
    )
    md = s.to_markdown()
    assert md.startswith("**central stencil: derivative 1, accuracy 2, 3 points**\n\n| offset |")
    assert "| -1 | -1/2 |\n| 0 | 0 |\n| 1 | 1/2 |\n" in md
    assert "`f'(x) ≈ [ -f(x-h) + f(x+h) ] / (2h)`" in md
    assert s._repr_markdown_() == md


def test_stencil_is_frozen_and_hashable() -> None:
    """Stencils are immutable values: equal stencils hash equal and fields cannot be reassigned."""
    a, b = Stencil.central(1, 4), Stencil.parse("central:4")
    assert a == b
    assert hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.accuracy = 3  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# Hand-built stencils must agree with their weights (moments computed by hand below)

F = Fraction
HALF = (F(-1, 2), F(0), F(1, 2))  # central:2 weights on -1, 0, 1
UNIT = (F(-1), F(0), F(1))


def test_hand_built_textbook_stencil_is_accepted() -> None:
    """The published central:4 row typed in by hand equals Stencil.central(1, 4)."""
    row = next(r for r in CENTRAL_ROWS if (r.derivative, r.accuracy) == (1, 4))
    by_hand = Stencil(1, row.offsets, row.weights, 4, F(-1, 30), "central")
    assert by_hand == Stencil.central(1, 4)
    assert Stencil(1, [-1, 0, 1], ["-1/2", 0, "1/2"], 2, "1/6", "custom").weights == HALF


HAND_BUILT = [  # (id, fields, fragment); the moments M_k = Σ w s^k are worked out in the id
    # M_3 = 1/2 + 1/2 = 1: accuracy 2, C = 1/6
    ("accuracy-too-high", (1, UNIT, HALF, 4, F(1, 6), "custom"),
     "the weights give accuracy 2 (Σ w s^3 = 1 ≠ 0), not the stated accuracy 4"),
    ("accuracy-too-low", (1, UNIT, HALF, 1, F(1, 6), "custom"), "not the stated accuracy 1"),
    ("wrong-constant", (1, UNIT, HALF, 2, F(1, 3), "custom"),
     "the weights give the error coefficient 1/6 (Σ w s^3 / 3! = 1/6), not the stated 1/3"),
    # M_1 = 1 + 1 = 2: twice the derivative
    ("scaled", (1, UNIT, (F(-1), F(0), F(1)), 2, F(1, 3), "custom"),
     "approximate no derivative of order 1: Σ w s^1 = 2, but a stencil for it needs 1"),
    # M_0 = 1/2: a perturbed weight
    ("perturbed", (1, UNIT, (F(-1, 2), F(1, 2), F(1, 2)), 2, F(1, 6), "custom"),
     "Σ w s^0 = 1/2, but a stencil for it needs 0"),
    ("wrong-kind-nodes", (1, (F(-1), F(0)), (F(-1), F(1)), 1, F(-1, 2), "forward"),
     "forward stencils of accuracy 1 sit on the offsets 0, 1; use kind='custom'"),
    ("unknown-kind", (1, UNIT, HALF, 2, F(1, 6), "magic"), "kind must be one of"),
    ("descending", (1, UNIT[::-1], HALF[::-1], 2, F(1, 6), "custom"), "must be ascending"),
    ("float-weight", (1, UNIT, (-0.5, 0, 0.5), 2, F(1, 6), "custom"), "weights[0] must be"),
    ("short-weights", (1, UNIT, HALF[:2], 2, F(1, 6), "custom"), "one rational per offset (3)"),
    ("zero-node-interpolation", (0, (F(0), F(1)), (F(1), F(0)), 1, F(1), "custom"),
     "derivative=0 with offset 0"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "fragment"), [c[1:] for c in HAND_BUILT], ids=[c[0] for c in HAND_BUILT]
)
def test_hand_built_stencil_must_agree_with_its_weights(fields: Any, fragment: str) -> None:
    """Stencil(...) refuses a stated accuracy, constant, kind or shape its weights contradict."""
    with pytest.raises(ConfigError) as info:
        Stencil(*fields)
    assert fragment in str(info.value)


def test_replace_is_validated_too() -> None:
    """dataclasses.replace goes through the same check: new weights need their own accuracy."""
    import dataclasses

    forward = Stencil.forward(1, 1)
    with pytest.raises(ConfigError, match=r"accuracy 2 .* not the stated accuracy 1"):
        dataclasses.replace(forward, weights=(F(-1, 2), F(1, 2)), offsets=(F(-1), F(1)))
    assert dataclasses.replace(forward, kind="custom").kind == "custom"


def test_error_terms_are_the_taylor_series() -> None:
    """Taylor: (f(x+h) − f(x−h))/2h − f' = Σ_k h^2k f^(2k+1)/(2k+1)!, (f(x+h) − f)/h − f' = Σ h^j f^(j+1)/(j+1)!."""
    central = tuple((2 * k, F(1, math.factorial(2 * k + 1))) for k in range(1, 5))
    assert Stencil.central(1, 2).error_terms(8) == central
    forward = tuple((j, F(1, math.factorial(j + 1))) for j in range(1, 5))
    assert Stencil.forward(1, 1).error_terms(4) == forward
    assert Stencil.central(1, 4).error_terms(4) == ((4, F(-1, 30)),)
    assert Stencil.central(1, 4).error_terms(3) == ()
