"""The float64 evaluators (NumPy, fused numexpr, symengine) and the cheap build of large outputs.

Oracles: every value is compared with the exact value of the same SymPy expression, computed
by SymPy's ``evalf`` at 30 digits (independent of the code under test), within a tolerance
that follows the formula's condition: the width of the same formula evaluated in 53-bit
interval arithmetic (mpmath's interval context, private), which grows with every rounding the
formula amplifies, plus a few ulps of the value.  Planted errors of one part in 10**9 must be
caught by the same comparison.  The build is checked by counting: the expressions handed to
the code generator, and the size of the generated code as the output grows.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.derive import Compiled
from symgrad.errors import ConfigError, MissingExtra
from tests.strategies import smooth_expressions

EPS = 2.0**-52
EVALUATORS = ["numpy", "numexpr", "symengine"]
X, Y = sympy.symbols("x y", real=True)


def _need(evaluator: str) -> None:
    if evaluator != "numpy":
        pytest.importorskip(evaluator)


def _interval_context() -> Any:
    ctx = mpmath.iv.__class__()  # a private interval context: mpmath.iv is left alone
    ctx.prec = 53
    return ctx


IV = _interval_context()


def _exact(expr: Any, point: dict[Any, float]) -> float:
    """The exact value at the float point, rounded to float64 (nan where it is not real)."""
    value = sympy.N(expr.subs({s: sympy.Float(v, 60) for s, v in point.items()}), 30)
    if not value.is_real or not value.is_finite:
        return float("nan")
    return float(value)


def _width(expr: Any, point: dict[Any, float]) -> float:
    """The width of ``expr`` evaluated in 53-bit interval arithmetic: its rounding error scale."""
    symbols = list(point)
    namespace = {n: getattr(IV, n) for n in dir(IV) if not n.startswith("_")}
    fn = sympy.lambdify(symbols, expr, modules=[namespace, "mpmath"])
    try:
        value = fn(*(IV.mpf(point[s]) for s in symbols))
    except (ValueError, ZeroDivisionError, TypeError):
        return float("inf")
    width = float(value.delta) if hasattr(value, "delta") else 0.0
    return width if width == width else float("inf")  # noqa: PLR0124


def _agrees(got: float, want: float, width: float) -> bool:
    if want != want:  # noqa: PLR0124
        return got != got  # noqa: PLR0124
    return abs(got - want) <= 4 * width + 8 * EPS * abs(want) + 1e-300


# -- values against the exact oracle ----------------------------------------------------------


@pytest.mark.parametrize("evaluator", EVALUATORS)
@settings(max_examples=25, deadline=None, derandomize=True)
@given(text=smooth_expressions(), xs=st.lists(st.integers(-200, 200), min_size=2, max_size=2))
def test_gradients_agree_with_the_exact_values(evaluator: str, text: str, xs: list[int]) -> None:
    """Every evaluator's gradient equals the exact one to rounding times the condition."""
    _need(evaluator)
    g = symgrad.gradient(text, ["x", "y"]).using(evaluator)
    x, y = xs[0] / 100, xs[1] / 100
    points = np.array([[x, x / 3, 0.5], [y, -y / 7, 1.25]])
    got = g(points)
    x_sym, y_sym = g.variables
    for k, component in enumerate(g.components):
        for j in range(points.shape[1]):
            point = {x_sym: float(points[0, j]), y_sym: float(points[1, j])}
            want, width = _exact(component, point), _width(component, point)
            assert _agrees(float(got[k, j]), want, width), (text, evaluator, k, point)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(text=smooth_expressions(), k=st.integers(-200, 200), sign=st.sampled_from([-1, 1]))
def test_a_planted_error_is_caught(text: str, k: int, sign: int) -> None:
    """The comparison of the test above rejects a value off by one part in 10**9."""
    g = symgrad.gradient(text, ["x", "y"]).using("numpy")
    point = {g.variables[0]: k / 100, g.variables[1]: 0.75}
    for n, component in enumerate(g.components):
        want, width = _exact(component, point), _width(component, point)
        if want != want or abs(want) < 1e-6 or width > 1e-12 * abs(want):  # noqa: PLR0124
            continue
        planted = float(g(k / 100, 0.75)[n]) * (1 + sign * 1e-9)
        assert not _agrees(planted, want, width)


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_values_off_the_domain_are_nan_and_inf_as_numpy(evaluator: str) -> None:
    """log, sqrt, 1/x and asin outside their domains give NumPy's nan and inf on every path."""
    _need(evaluator)
    f = Compiled([sympy.log(X), sympy.sqrt(X), 1 / X, sympy.asin(X) * Y], [X, Y])
    with np.errstate(all="ignore"):
        want = np.array([np.log([-1.0, 0.0, 2.0]), np.sqrt([-1.0, 0.0, 2.0])])
    got = f.using(evaluator)(np.array([-1.0, 0.0, 2.0]), 1.0)
    np.testing.assert_array_equal(got[:2], want)
    assert got[2].tolist() == [-1.0, np.inf, 0.5]
    assert np.isnan(got[3][2])
    assert got[3][0] == -np.pi / 2


# -- fallbacks: what numexpr or symengine do not compute ---------------------------------------


def _step(a: float) -> float:
    return 0.0 if a < 0 else 1 / 3 if a == 0 else 1.0


FALLBACKS: list[tuple[Any, Callable[[float, float], float]]] = [
    (sympy.erf(X) * Y + sympy.sin(X), lambda x, y: float(mpmath.erf(x)) * y + np.sin(x)),
    (sympy.Heaviside(X - 1, sympy.Rational(1, 3)) * Y, lambda x, y: _step(x - 1) * y),
    (sympy.Max(X, Y, 1) + sympy.Min(X, 2 * Y), lambda x, y: max(x, y, 1) + min(x, 2 * y)),
    (sympy.Integer(10) ** 600 * sympy.Rational(1, 10**300) ** 2 * X, lambda x, y: x),
    (sympy.sign(X - Y) * sympy.atan2(Y, X), lambda x, y: np.sign(x - y) * np.arctan2(y, x)),
    (sympy.gamma(X + 2) + sympy.sec(Y), lambda x, y: float(mpmath.gamma(x + 2)) + 1 / np.cos(y)),
]


@pytest.mark.parametrize("evaluator", EVALUATORS)
@pytest.mark.parametrize(("expr", "reference"), FALLBACKS, ids=[str(e)[:30] for e, _ in FALLBACKS])
def test_functions_an_evaluator_lacks_fall_back_to_numpy(
    evaluator: str, expr: Any, reference: Callable[[float, float], float]
) -> None:
    """Special functions, Heaviside with another value at 0, max/min, huge constants, sign and
    atan2: each evaluator gives the value of the closed form (NaN arguments give NaN)."""
    _need(evaluator)
    pytest.importorskip("scipy")
    f = Compiled([expr, X * Y], [X, Y]).using(evaluator)
    xs = np.array([-0.5, 0.25, 1.0, 1.5, 2.0])
    ys = np.array([0.5, -0.75, 1.0, 0.5, 3.0])
    got = f(xs, ys)
    want = [reference(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]
    np.testing.assert_allclose(got[0], want, rtol=8 * EPS, atol=0)
    assert got[1].tolist() == (xs * ys).tolist()
    if expr.has(sympy.Max):
        assert np.isnan(f(np.array([np.nan, 1.0]), np.array([0.0, 0.0]))[0][0])


def test_numexpr_computes_what_it_can_and_numpy_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    """With an erf in one statement, the other statements still run as numexpr loops."""
    numexpr = pytest.importorskip("numexpr")
    pytest.importorskip("scipy")
    compiled: list[str] = []
    original = numexpr.NumExpr

    def counting(text: str, *args: Any, **kwargs: Any) -> Any:
        compiled.append(text)
        return original(text, *args, **kwargs)

    monkeypatch.setattr(numexpr, "NumExpr", counting)
    f = Compiled([sympy.erf(X * Y) + sympy.exp(X * Y), sympy.exp(X * Y) * X], [X, Y])
    got = f.using("numexpr")(np.array([0.5, 1.0]), np.array([2.0, 0.5]))
    assert compiled
    assert not any("erf" in text for text in compiled)
    want = [[float(mpmath.erf(1.0) + mpmath.exp(1.0)), float(mpmath.erf(0.5) + mpmath.exp(0.5))]]
    want.append([float(mpmath.exp(1.0) * 0.5), float(mpmath.exp(0.5))])
    np.testing.assert_allclose(got, want, rtol=4 * EPS)


def test_a_statement_beyond_numexprs_registers_runs_in_numpy() -> None:
    """A 300-term sum (numexpr has 255 registers) is computed, exactly for exact binary inputs."""
    pytest.importorskip("numexpr")
    xs = list(sympy.symbols("x0:300", real=True))
    total = sympy.Add(*[(i + 1) * x for i, x in enumerate(xs)])
    f = Compiled([total, total * xs[0]], xs, evaluator="numexpr")
    point = np.arange(300) / 8.0  # every partial sum is an exact binary fraction
    want = sum((i + 1) * i / 8 for i in range(300))
    assert f(point).tolist() == [want, 0.0]
    assert f(point + 1 / 8)[1] == sum((i + 1) * (i + 1) / 8 for i in range(300)) / 8


def test_numexpr_thread_count_is_left_alone() -> None:
    """The numexpr evaluator runs on numexpr's own thread setting and never changes it."""
    numexpr = pytest.importorskip("numexpr")
    before = numexpr.set_num_threads(1)
    try:
        g = symgrad.gradient("sin(x*y)*exp(y)").using("numexpr")
        g(np.linspace(0, 1, 50_000), np.linspace(1, 2, 50_000))
        assert numexpr.get_num_threads() == 1
    finally:
        numexpr.set_num_threads(before)


# -- the contract on every path -----------------------------------------------------------------


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_shapes_packing_broadcasting_dtype_and_pickle(evaluator: str) -> None:
    """Packed and unpacked calls, broadcasting inputs, one point, float32 results and a pickled
    copy give the same values as the closed form of the Hessian of x**3*y + exp(x*y)."""
    _need(evaluator)
    h = symgrad.hessian("x**3*y + exp(x*y)").using(evaluator)

    def closed(x: Any, y: Any) -> Any:
        e = np.exp(x * y)
        xy = 3 * x**2 + e + x * y * e
        return np.array([[6 * x * y + y * y * e, xy], [xy, x * x * e]])

    x = np.linspace(-1, 1, 7)
    y = np.linspace(0.5, 2, 5)
    np.testing.assert_allclose(
        h(x[:, None], y[None, :]), closed(x[:, None], y[None, :]), rtol=1e-14
    )
    np.testing.assert_allclose(h(np.stack([x, x / 2])), closed(x, x / 2), rtol=1e-14)
    single = h(0.5, 2.0)
    assert single.shape == (2, 2)
    np.testing.assert_allclose(single, closed(0.5, 2.0), rtol=1e-14)
    assert h.returning("input")(np.float32(x), np.float32(y[0])).dtype == np.float32
    again = pickle.loads(pickle.dumps(h))
    assert again.evaluator == evaluator
    np.testing.assert_array_equal(again(x, 1.5), h(x, 1.5))


def test_the_dask_path_runs_the_chosen_evaluator_block_by_block() -> None:
    """A dask input is evaluated by the chosen evaluator on each block: equal to the NumPy call."""
    da = pytest.importorskip("dask.array")
    pytest.importorskip("symengine")
    g = symgrad.gradient("sin(x)*y**2 + log(1 + x**2)").using("symengine")
    x = np.linspace(-2, 2, 1000)
    lazy: Any = g(da.from_array(x, chunks=128), 0.5)
    np.testing.assert_array_equal(lazy.compute(), g(x, 0.5))


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_every_evaluator_computes_the_formula_as_written(evaluator: str) -> None:
    """x**y*y/x is 0/0 = NaN at x = 0 and exp(x)*exp(-x) is inf*0 = NaN at x = 800 on every
    path (symengine would compute its rewritten x**(y - 1)*y = 1 and exp(0) = 1)."""
    _need(evaluator)
    power = sympy.Mul(X**Y, Y, 1 / X, evaluate=False)
    product = sympy.Mul(sympy.exp(X), sympy.exp(-X), evaluate=False)
    f = Compiled([power, product, X * Y], [X, Y]).using(evaluator)
    got = f(np.array([0.0, 2.0, 800.0]), np.array([1.0, 3.0, 1.0]))
    assert np.isnan(got[0][0])
    assert got[0][1] == 12.0  # 2**3*3/2
    assert np.isnan(got[1][2])
    assert got[1][1] == pytest.approx(1.0, rel=4 * EPS)


def test_complex_inputs_use_numpy() -> None:
    """The complex step's complex128 call never goes to a float64-only evaluator."""
    pytest.importorskip("symengine")
    f = Compiled([sympy.sin(X) * Y], [X, Y]).using("symengine")
    got = f.complex_call(1.0 + 1e-20j, 2.0)
    assert got[0].imag == pytest.approx(2 * np.cos(1.0) * 1e-20, rel=1e-15)


def test_evaluator_names_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unknown name is a ConfigError; a missing extra is a MissingExtra naming it."""
    g = symgrad.gradient("x*y")
    with pytest.raises(ConfigError, match="evaluator must be one of"):
        g.using("jax")
    with pytest.raises(ConfigError, match="evaluator must be one of"):
        Compiled([X], [X], evaluator="fast")
    monkeypatch.setitem(__import__("sys").modules, "numexpr", None)
    with pytest.raises(MissingExtra, match=r"symgrad\[fast\]"):
        g.using("numexpr")
    assert g.evaluator == "auto"


def test_auto_is_overridden_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """SYMGRAD_EVALUATOR=numpy makes "auto" build no fast evaluator."""
    monkeypatch.setenv("SYMGRAD_EVALUATOR", "numpy")
    g = symgrad.gradient("x**2*y")
    assert g(np.array([1.0, 2.0]), 3.0).tolist() == [[6.0, 12.0], [1.0, 4.0]]
    assert g._fast is None


def test_auto_leaves_wide_functions_at_many_points_to_numpy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """120 inputs plus components: "auto" runs symengine's code at 1000 points, NumPy's at 5000
    (counted calls of the machine code); an explicit "symengine" runs it at both."""
    pytest.importorskip("symengine")
    monkeypatch.delenv("SYMGRAD_EVALUATOR", raising=False)
    xs, f = _rosenbrock(60)
    exprs = [f.diff(v) for v in xs]
    for evaluator, want in (("auto", [1000]), ("symengine", [1000, 5000])):
        g = Compiled(exprs, xs, "gradient", evaluator=evaluator)
        g(np.zeros((60, 2)))
        fast: Any = g._fast
        calls: list[int] = []
        machine = fast._machine
        monkeypatch.setattr(
            fast, "_machine", lambda p, out, m=machine, c=calls: c.append(len(p)) or m(p, out=out)
        )
        for points in (1000, 5000):
            value = g(np.full((60, points), 0.5))
            assert value[0].tolist() == [-(400 * 0.5 * 0.25) - 1.0] * points  # -400x(y-x²)-2(1-x)
        assert sum(calls) == sum(want), calls  # points through symengine's code


# -- the build ------------------------------------------------------------------------------------


def _rosenbrock(n: int) -> tuple[list[Any], Any]:
    xs = list(sympy.symbols(f"x0:{n}", real=True))
    f = sum(100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(n - 1))
    return xs, f


def test_a_sparse_hessian_compiles_each_distinct_entry_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The Hessian of Rosenbrock in 40 variables: 1600 entries, 80 distinct ones compiled (the
    diagonal, one off-diagonal band, zero), and the values equal scipy's rosen_hess."""
    optimize = pytest.importorskip("scipy.optimize")
    xs, f = _rosenbrock(40)
    grad = [f.diff(v) for v in xs]
    entries = [[g.diff(v) for v in xs] for g in grad]
    seen: list[int] = []
    original = sympy.lambdify

    def counting(args: Any, exprs: Any, **kwargs: Any) -> Any:
        seen.append(len(exprs))
        return original(args, exprs, **kwargs)

    monkeypatch.setattr(sympy, "lambdify", counting)
    h = Compiled(entries, xs, "hessian", evaluator="numpy")
    assert seen == []  # the code is generated on the first call, not by the constructor
    point = np.linspace(-1.2, 1.5, 40)
    np.testing.assert_allclose(h(point), optimize.rosen_hess(point), rtol=1e-15)
    assert seen == [len({e for row in entries for e in row})] == [40 + 39 + 1]  # symmetric


def test_generated_code_grows_linearly_with_a_dense_gradient() -> None:
    """The gradient of (x0 + 2*x1 + ... + n*x_{n-1})**2 kept factored: the code for n = 120 is
    about twice that for n = 60 (a distributed or quadratic build would be 4x), and the values
    are the exact 2*(i+1)*s."""

    def source(n: int) -> tuple[str, Compiled]:
        xs = list(sympy.symbols(f"x0:{n}", real=True))
        s = sympy.Add(*[(i + 1) * x for i, x in enumerate(xs)])
        grad = [sympy.Mul(2 * (i + 1), s, evaluate=False) for i in range(n)]
        g = Compiled(grad, xs, "gradient", evaluator="numpy")
        return g.source, g

    small, _ = source(60)
    large, g = source(120)
    assert 1.8 < len(large) / len(small) < 2.3
    point = np.arange(120) / 64.0  # exact binary fractions: every sum and product is exact
    s = sum((i + 1) * point[i] for i in range(120))
    assert g(point).tolist() == [2 * (i + 1) * s for i in range(120)]


@pytest.mark.parametrize("evaluator", ["numexpr", "symengine"])
def test_fast_evaluators_equal_scipy_rosen_der(evaluator: str) -> None:
    """A Rosenbrock gradient in 30 variables at 2,000 points equals scipy's rosen_der."""
    _need(evaluator)
    optimize = pytest.importorskip("scipy.optimize")
    xs, f = _rosenbrock(30)
    g = Compiled([f.diff(v) for v in xs], xs, "gradient", evaluator=evaluator)
    points = np.random.default_rng(7).uniform(-2, 2, (30, 2000))
    want = np.stack([optimize.rosen_der(points[:, j]) for j in range(2000)], axis=1)
    scale = np.abs(points).max() ** 3 * 800  # the terms' magnitude: the rounding scale
    np.testing.assert_allclose(g(points), want, rtol=0, atol=16 * EPS * scale)


def test_auto_leaves_programs_too_large_to_compile_cheaply_to_numpy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The 60-variable Hessian of sin(x0**2 + ...) has 1,830 distinct entries of three
    multiplications each: beyond AUTO_MAX_OPERATIONS, so "auto" never compiles symengine's code
    for it (counted: the compiler is not called), while an explicit "symengine" still does."""
    pytest.importorskip("symengine")
    from symgrad.derive import _fused, _printing

    monkeypatch.delenv("SYMGRAD_EVALUATOR", raising=False)
    calls: list[int] = []
    real = _printing.symengine_lambdify

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(_printing, "symengine_lambdify", counted)
    symgrad.clear_cache()  # functions built by other tests may have compiled already
    n = 60
    names = [f"x{i}" for i in range(n)]
    h = symgrad.hessian("sin(" + " + ".join(f"{v}**2" for v in names) + ")", names)
    x = np.linspace(-1.0, 1.0, 2 * n).reshape(n, 2)
    got = h(*x)
    s = np.sum(x**2, axis=0)
    i, j = 3, 7  # off the diagonal: -4 x_i x_j sin(s); on it: 2 cos(s) - 4 x_i**2 sin(s)
    np.testing.assert_allclose(got[i, j], -4 * x[i] * x[j] * np.sin(s), rtol=1e-13)
    np.testing.assert_allclose(got[i, i], 2 * np.cos(s) - 4 * x[i] ** 2 * np.sin(s), rtol=1e-13)
    assert calls == []
    assert h._fast is None  # the evaluator auto settled on: NumPy's program
    small = symgrad.hessian("sin(x0**2 + x1**2 + x2**2)", "x0 x1 x2")
    small(*np.ones((3, 2)))
    assert calls == [1]
    assert _fused.AUTO_MAX_OPERATIONS < 3 * 1830
    h.using("symengine")(*x)
    assert calls == [1, 1]
