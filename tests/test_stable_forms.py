"""Powers of sums of squares in compiled float64 code: scaled, never overflowing their squares.

``sqrt(x**2 + y**2)``'s gradient, ``asinh``'s derivative ``1/sqrt(x**2 + 1)``, ``atan2``'s
``-y/(x**2 + y**2)``, the inverse-square law ``x/(x**2 + y**2 + z**2)**(3/2)`` and the norm's
Hessian are compiled so that they hold their relative accuracy over every magnitude float64 has:
the sum is computed from its terms scaled by a power of two near the largest, and the scale is
applied once at the end (symgrad/derive/_printing.py explains the mechanism).

Every oracle is independent of symgrad: the closed forms of the derivatives evaluated in a
private mpmath context at 40 digits (never ``mpmath.mp``), rounded once to float64, and plain
NumPy formulas written here.  The tolerance is a few units in the last place of the size of
the formula's terms (so a cancelling Hessian entry is judged by the terms it subtracts), plus a
few units of the smallest subnormal for values that float64 only holds as subnormals.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad

U = 2.0**-53  # the unit round-off of float64
#: Allowed error: K units of the terms' size (NumPy measured at most 4 ulps of the value; the
#: other evaluators round sums and products in their own order), plus 4 subnormal units.
K = 16
TINY = 4 * 2.0**-1074
EVALUATORS = ["numpy", "numexpr", "symengine"]

Closed = Callable[[Any, list[Any]], list[tuple[Any, Any]]]


def _ctx() -> Any:
    ctx = mpmath.MPContext()
    ctx.dps = 40
    return ctx


def _norm(c: Any, v: list[Any]) -> list[tuple[Any, Any]]:
    r = c.sqrt(sum(t * t for t in v))
    return [(t / r, t / r) for t in v]


def _inverse_square(c: Any, v: list[Any]) -> list[tuple[Any, Any]]:
    r = c.sqrt(sum(t * t for t in v))
    return [(-t / r**3, t / r**3) for t in v]


def _atan2(c: Any, v: list[Any]) -> list[tuple[Any, Any]]:
    x, y = v
    r2 = x * x + y * y
    return [(-y / r2, y / r2), (x / r2, x / r2)]


def _asinh(c: Any, v: list[Any]) -> list[tuple[Any, Any]]:
    (x,) = v
    return [(1 / c.sqrt(x * x + 1),) * 2]


def _inverse_hypot(c: Any, v: list[Any]) -> list[tuple[Any, Any]]:
    (x,) = v
    value = -x / (x * x + 1) ** c.mpf(1.5)
    return [(value, value)]


def _softened(c: Any, v: list[Any]) -> list[tuple[Any, Any]]:
    """d/dx x/sqrt(x**2 + eps) = eps/(x**2 + eps)**(3/2), computed as 1/sqrt(S) - x**2/S**(3/2)."""
    (x,) = v
    eps = c.mpf(1) / 10**8
    total = x * x + eps
    return [(eps / total ** c.mpf(1.5), 1 / c.sqrt(total) + x * x / total ** c.mpf(1.5))]


def _weighted(c: Any, v: list[Any]) -> list[tuple[Any, Any]]:
    """d/dx, d/dy sqrt(4*(x - 1)**2 + 3*y**2 + 2)."""
    x, y = v
    r = c.sqrt(4 * (x - 1) ** 2 + 3 * y * y + 2)
    return [(4 * (x - 1) / r, 4 * abs(x - 1) / r + 4 / r), (3 * y / r, 3 * y / r)]


def _norm_hessian(c: Any, v: list[Any]) -> list[tuple[Any, Any]]:
    """The Hessian of sqrt(x**2 + y**2), computed as 1/r - x**2/r**3 on the diagonal."""
    x, y = v
    r = c.sqrt(x * x + y * y)
    cross = (-x * y / r**3, abs(x * y) / r**3)
    return [
        (y * y / r**3, 1 / r + x * x / r**3),
        cross,
        cross,
        (x * x / r**3, 1 / r + y * y / r**3),
    ]


#: (function, text of the expression, variables, closed form: [(exact, size of the terms)] per
#: output component, in the order the compiled function returns them)
CASES: list[tuple[str, str, str, Closed]] = [
    ("gradient", "sqrt(x**2 + y**2)", "x y", _norm),
    ("gradient", "sqrt(x**2 + y**2 + z**2)", "x y z", _norm),
    ("gradient", "1/sqrt(x**2 + y**2 + z**2)", "x y z", _inverse_square),
    ("gradient", "atan2(y, x)", "x y", _atan2),
    ("gradient", "asinh(x)", "x", _asinh),
    ("gradient", "1/sqrt(1 + x**2)", "x", _inverse_hypot),
    ("gradient", "x/sqrt(x**2 + 1/10**8)", "x", _softened),
    ("gradient", "sqrt(4*(x - 1)**2 + 3*y**2 + 2)", "x y", _weighted),
    ("hessian", "sqrt(x**2 + y**2)", "x y", _norm_hessian),
]
IDS = [f"{kind}-{text}" for kind, text, _, _ in CASES]


def _compiled(kind: str, text: str, wrt: str, evaluator: str) -> Any:
    if evaluator != "numpy":
        pytest.importorskip(evaluator)
    return _built(kind, text, wrt, evaluator)


@functools.cache
def _built(kind: str, text: str, wrt: str, evaluator: str) -> Any:
    build = symgrad.hessian if kind == "hessian" else symgrad.gradient
    return build(text, wrt=wrt).using(evaluator)


def _values(compiled: Any, points: Sequence[Sequence[float]]) -> np.ndarray:
    """The compiled components at each point, shape (points, components)."""
    columns = [np.array(c, dtype=np.float64) for c in zip(*points, strict=True)]
    out = np.asarray(compiled(*columns))
    return out.reshape(-1, len(points)).T


def _exact(closed: Closed, points: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray]:
    """The closed form's values and term sizes at each point, rounded once to float64."""
    ctx = _ctx()
    exact, size = [], []
    for point in points:
        pairs = closed(ctx, [ctx.mpf(p) for p in point])
        exact.append([float(e) for e, _ in pairs])
        size.append([float(abs(s)) for _, s in pairs])
    return np.array(exact), np.array(size)


def _wrong(got: np.ndarray, exact: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Where ``got`` misses ``exact`` by more than K ulps of ``size``.  Where the exact value
    overflows, ``got`` must be that infinity or NaN (terms that overflow and cancel: inf - inf);
    where only a term overflows, NaN or the value within K ulps of the finite part is allowed."""
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(got - exact)
        bad: np.ndarray = ~(err <= K * U * size + TINY)
    beyond = np.isinf(size)
    bad[beyond] &= ~np.isnan(got[beyond])
    infinite = np.isinf(exact)
    bad[infinite] = ~((got[infinite] == exact[infinite]) | np.isnan(got[infinite]))
    return bad


def _magnitude() -> st.SearchStrategy[float]:
    """Finite float64 values with decimal exponents from -300 to 300, either sign, or 0."""
    scaled = st.builds(
        lambda m, e, s: s * m * 10.0**e,
        st.floats(1.0, 9.999),
        st.integers(-300, 300),
        st.sampled_from([1.0, -1.0]),
    )
    return st.one_of(st.just(0.0), scaled, scaled, scaled)


def _points(n: int, size: int) -> st.SearchStrategy[list[list[float]]]:
    point = st.lists(_magnitude(), min_size=n, max_size=n).filter(any)
    return st.lists(point, min_size=size, max_size=size)


def _check_case(case: int, points: list[list[float]]) -> None:
    kind, text, wrt, closed = CASES[case]
    exact, size = _exact(closed, points)
    for evaluator in EVALUATORS:
        got = _values(_compiled(kind, text, wrt, evaluator), points)
        bad = _wrong(got, exact, size)
        assert not bad.any(), (evaluator, np.array(points)[bad.any(axis=1)], got[bad])


@settings(max_examples=40, deadline=None, derandomize=True)
@given(data=st.data(), case=st.sampled_from(range(len(CASES))))
def test_every_evaluator_against_mpmath_at_every_magnitude(data: Any, case: int) -> None:
    points = data.draw(_points(len(CASES[case][2].split()), 6))
    _check_case(case, points)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, derandomize=True)
@given(data=st.data(), case=st.sampled_from(range(len(CASES))))
def test_every_evaluator_against_mpmath_at_every_magnitude_many(data: Any, case: int) -> None:
    points = data.draw(_points(len(CASES[case][2].split()), 12))
    _check_case(case, points)


@pytest.mark.parametrize(("kind", "text", "wrt", "closed"), CASES, ids=IDS)
def test_extreme_points_against_mpmath(kind: str, text: str, wrt: str, closed: Closed) -> None:
    """Equal magnitudes at the ends of float64's range, and one huge beside one tiny."""
    n = len(wrt.split())
    ends = [1e-300, 5e-324, 1e-160, 1e155, 1e200, 1.7e308, 3.0]
    points = [[v] * n for v in ends] + [[(-1.0) ** i * 10.0 ** (300 - 600 * i) for i in range(n)]]
    _check_case(next(i for i, c in enumerate(CASES) if c[:2] == (kind, text)), points)


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_norm_gradient_at_the_ends_of_the_range(evaluator: str) -> None:
    """x/sqrt(x**2 + y**2) at x = y: 1/sqrt(2) from the smallest subnormal to the largest double
    (the unscaled formula gave 0 from 1.3e154 and inf below 1.5e-154)."""
    g = _compiled("gradient", "sqrt(x**2 + y**2)", "x y", evaluator)
    x = np.array([5e-324, 1e-310, 1e-300, 1e-160, 1.0, 1e155, 1e200, 1e300, np.finfo(float).max])
    got = g(x, x)
    assert np.allclose(got, math.sqrt(0.5), rtol=2 * U, atol=0), got


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_the_unscaled_formula_is_caught_by_the_same_oracle(evaluator: str) -> None:
    """Planted error: what symgrad used to compute, x/sqrt(x**2 + y**2) written in NumPy, fails
    the oracle at every point whose squares leave float64's range; the scaled code passes."""
    points = [[1e200, 1e200], [1e-300, 2e-300], [-1e155, 1e150], [3e-170, -4e-170]]
    exact, size = _exact(_norm, points)
    x, y = np.array(points).T
    with np.errstate(all="ignore"):
        naive = np.array([x / np.sqrt(x**2 + y**2), y / np.sqrt(x**2 + y**2)]).T
    assert _wrong(naive, exact, size).any(axis=1).all()
    got = _values(_compiled("gradient", "sqrt(x**2 + y**2)", "x y", evaluator), points)
    assert not _wrong(got, exact, size).any()


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    points=st.lists(
        st.tuples(st.floats(-1e100, 1e100), st.floats(-1e100, 1e100)).filter(
            lambda p: abs(p[0]) + abs(p[1]) > 1e-100
        ),
        min_size=1,
        max_size=8,
    )
)
def test_numpy_code_equals_the_unscaled_formula_bit_for_bit_in_range(
    points: list[tuple[float, float]],
) -> None:
    """Where no square leaves float64's normal range, scaling by a power of two changes no bit:
    the gradient equals 1/sqrt(x**2 + y**2) times x and y, written here in NumPy."""
    x, y = (np.array(c) for c in zip(*points, strict=True))
    inverse = 1 / np.sqrt(x**2 + y**2)
    got = _compiled("gradient", "sqrt(x**2 + y**2)", "x y", "numpy")(x, y)
    assert np.array_equal(got, [inverse * x, inverse * y])


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_edge_values_are_what_the_unscaled_formula_gives(evaluator: str) -> None:
    """At 0, an infinity or a NaN nothing is gained or lost: 0/0 and inf/inf stay NaN."""
    g = _compiled("gradient", "sqrt(x**2 + y**2)", "x y", evaluator)
    x = np.array([0.0, -0.0, np.inf, np.nan, 2.0, -np.inf])
    y = np.array([0.0, 0.0, 1.0, 1.0, np.inf, np.inf])
    with np.errstate(invalid="ignore"):
        naive = [x / np.sqrt(x**2 + y**2), y / np.sqrt(x**2 + y**2)]
    assert np.array_equal(g(x, y), naive, equal_nan=True)


def test_complex_step_of_the_norm_at_huge_and_tiny_points() -> None:
    """The function's complex step (NumPy with complex inputs) keeps the imaginary part: Im
    sqrt((x + ih)**2 + y**2)/h = x/r at x = y = 1e200 and 1e-200, where r's square overflows
    or underflows."""
    f = symgrad.function("sqrt(x**2 + y**2)")
    for x in (1e200, 1e-200, 3.0):
        h = 1e-20 * x
        z = f.complex_call(np.array([x + 1j * h]), np.array([x]))
        assert z.real == pytest.approx(math.sqrt(2) * x, rel=2 * U)
        assert z.imag / h == pytest.approx(math.sqrt(0.5), rel=4 * U)


@pytest.mark.parametrize("x", [1e200, 1e-200, -3.0])
def test_complex_step_of_a_scaled_product(x: float) -> None:
    """x/sqrt(x**2 + y**2 + 1) with complex inputs (each factor split by its modulus): the
    complex step Im f(x + ih)/h is f' = (y**2 + 1)/(x**2 + y**2 + 1)**(3/2) at y = x."""
    ctx = _ctx()
    f = symgrad.function("x/sqrt(x**2 + y**2 + 1)")
    h = 1e-20 * abs(x)
    z = f.complex_call(np.array([x + 1j * h]), np.array([x]))[0]
    t = ctx.mpf(x)
    exact = (t**2 + 1) / (2 * t**2 + 1) ** ctx.mpf(1.5)
    assert z.real == pytest.approx(float(t / ctx.sqrt(2 * t**2 + 1)), rel=4 * U)
    assert z.imag / h == pytest.approx(float(exact), rel=8 * U)


def test_exact_values_at_huge_points_are_unchanged() -> None:
    """``.at()`` (arbitrary precision, not the float64 code) at 1e200: 1/sqrt(2) to 30 digits."""
    ctx = _ctx()
    got = symgrad.gradient("sqrt(x**2 + y**2)", wrt="x y").at("x=1e200, y=1e200", dps=30)
    assert all(abs(ctx.mpf(str(v)) - 1 / ctx.sqrt(2)) < ctx.mpf(10) ** -29 for v in got)


@pytest.mark.parametrize(
    "text",
    [
        "(x**2 + 1)**(1/3)",  # a cube root: 2p is not an integer
        "sqrt(x**4 + 1)",  # x**4 is not a square of a base symgrad scales
        "sqrt(x**2 + x + 1)",  # a term that is not a square
        "(x**2 + y**2)**2",  # a positive integer power: computed as written
    ],
)
def test_other_powers_are_compiled_as_written(text: str) -> None:
    """Only square roots (and their odd and negative powers) of sums of squares are scaled."""
    g = symgrad.gradient(text, wrt="x y" if "y" in text else "x")
    assert "ldexp" not in g.source


def test_rosenbrock_code_has_no_scaling() -> None:
    """Sums of squares under a positive integer power, or under none, keep their code."""
    text = " + ".join(f"100*(x[{i + 1}] - x[{i}]**2)**2 + (1 - x[{i}])**2" for i in range(9))
    g = symgrad.gradient(text, wrt=symgrad.vector("x", 10))
    assert "ldexp" not in g.source
    assert "exponent" not in g.source
