"""Symbolic derivatives and their compiled evaluators against hand-derived references."""

from __future__ import annotations

import threading

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import symgrad
from symgrad.errors import ConfigError, InputError, LimitExceeded
from symgrad.expr import _symbolic as symbolic
from tests.cases import CASES, Case

# Tolerances by what is compared (one table, not scattered literals).
RTOL_FLOAT64 = 1e-13  # float64 evaluation vs a 40-digit reference, well-conditioned points
DIGITS_EXACT = 48  # .at(dps=50) must agree with a 70-digit reference to this many digits


def reference(case: Case, point: tuple[str | float, ...], dps: int) -> list[object]:
    """Evaluate the hand-derived partials in a private mpmath context (floats exactly)."""
    ctx = mpmath.MPContext()
    ctx.dps = dps
    args = [ctx.mpf(v) for v in point]
    return [ctx.mpf(p(ctx, *args)) for p in case.partials]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_float64_gradient_matches_reference(case: Case) -> None:
    """The vectorized float64 gradient agrees with the hand-derived partials at every point."""
    g = symgrad.gradient(case.expr, case.variables)
    columns = [np.array([float(p[i]) for p in case.points]) for i in range(len(case.variables))]
    got = g(*columns)
    assert got.shape == (len(case.variables), len(case.points))
    for k, point in enumerate(case.points):
        # reference at the float64-rounded point, so only evaluation error is measured
        rounded = tuple(float(v) for v in point)
        want = [float(v) for v in reference(case, rounded, 40)]
        assert_allclose(got[:, k], want, rtol=RTOL_FLOAT64, atol=1e-300)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_exact_gradient_matches_reference_to_dps(case: Case) -> None:
    """``.at(point, dps=50)`` is correct to about 50 digits at decimal points given as text."""
    g = symgrad.gradient(case.expr, case.variables)
    for point in case.points:
        spec = ",".join(f"{n}={v}" for n, v in zip(case.variables, point, strict=True))
        got = g.at(spec, dps=50)
        want = reference(case, point, 70)
        ref = type(want[0]).context  # the reference's own 70-digit context, not mpmath.mp
        for a, b in zip(got, want, strict=True):
            scale = max(abs(b), ref.one)
            assert abs(ref.convert(a) - b) <= scale * ref.mpf(10) ** -DIGITS_EXACT


def test_potential_on_mgrid_gives_full_arrays() -> None:
    """The issue's acceptance case: three full (9, 9, 9) arrays; dV/dz is -4 everywhere."""
    x, y, z = np.mgrid[-100:101:25.0, -100:101:25.0, -100:101:25.0]
    g = symgrad.gradient("2*x**2 + 3*y**2 - 4*z")
    gx, gy, gz = g(x, y, z)
    assert gx.shape == gy.shape == gz.shape == (9, 9, 9)
    assert_array_equal(gx, 4 * x)
    assert_array_equal(gy, 6 * y)
    assert_array_equal(gz, np.full((9, 9, 9), -4.0))


def test_components_never_share_memory() -> None:
    """Equal components (d/dx and d/dy of sin(x+y)) are distinct arrays, not aliases."""
    out = symgrad.gradient("sin(x+y)")(np.linspace(0, 1, 5), 0.5)
    assert not np.shares_memory(out[0], out[1])
    out[0] += 1.0
    assert_allclose(out[1], np.cos(np.linspace(0, 1, 5) + 0.5), rtol=1e-15)


@pytest.mark.parametrize(
    ("x", "y", "shape"),
    [
        (2, 3, ()),
        ([1, 2, 3], 1.5, (3,)),
        (np.arange(4, dtype=np.int64), np.float32(2.0), (4,)),
        (np.ones((2, 1)), np.ones((1, 3)), (2, 3)),
        (np.array(1.0), np.zeros((0,)), (0,)),
    ],
    ids=["ints", "list_scalar", "int64_float32", "outer", "empty"],
)
def test_inputs_broadcast_and_coerce_to_float64(
    x: object, y: object, shape: tuple[int, ...]
) -> None:
    """Scalars, lists, int64 and float32 inputs broadcast and come back as float64."""
    out = symgrad.gradient("x**2*y")(x, y)
    assert out.dtype == np.float64
    assert out.shape == (2, *shape)
    xs, ys = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    assert_allclose(out[0], 2 * xs * ys, rtol=1e-15)
    assert_allclose(out[1], xs**2, rtol=1e-15)


def test_meshgrid_indexing_either_way() -> None:
    """With meshgrid 'xy' or 'ij' the components follow the variables, not the array axes."""
    xs, ys = np.linspace(-1, 1, 4), np.linspace(0, 2, 3)
    g = symgrad.gradient("x*y**2")
    for indexing in ("xy", "ij"):
        x, y = np.meshgrid(xs, ys, indexing=indexing)
        gx, gy = g(x, y)
        assert_allclose(gx, y**2, rtol=1e-15)
        assert_allclose(gy, 2 * x * y, rtol=1e-15)


def test_large_input_is_chunked_correctly() -> None:
    """Across chunk boundaries (2**16 points) every value is still right."""
    x = np.linspace(-3, 3, 200_003)
    out = symgrad.gradient("exp(sin(x*y)+cos(y))", "x y")(x, 0.7)
    want = 0.7 * np.cos(0.7 * x) * np.exp(np.sin(0.7 * x) + np.cos(0.7))
    assert_allclose(out[0], want, rtol=1e-14)


@pytest.mark.parametrize("bad", ["ab", None, [True, False], np.array(["1"]), 1j])
def test_non_numeric_inputs_are_refused(bad: object) -> None:
    """Strings, None, booleans and complex numbers give InputError naming the variable."""
    with pytest.raises(InputError, match="'x'"):
        symgrad.gradient("x**2")(bad)


def test_inputs_by_name_and_missing_inputs() -> None:
    """Keywords work in any order; a missing variable is named in the error."""
    g = symgrad.gradient("x - 2*y")
    assert_allclose(g(y=1.0, x=2.0), [1.0, -2.0], rtol=0, atol=0)
    with pytest.raises(InputError, match="y"):
        g(1.0)


def test_hessian_jacobian_laplacian_shapes_and_values() -> None:
    """Hessian (n, n, *s), Jacobian (m, n, *s) and Laplacian (*s) match closed forms."""
    x = np.linspace(0.5, 2.0, 7)
    y = 1.5
    h = symgrad.hessian("x**3*y + sin(y)")(x, y)
    assert h.shape == (2, 2, 7)
    assert_allclose(h[0, 0], 6 * x * y, rtol=1e-15)
    assert_allclose(h[0, 1], 3 * x**2, rtol=1e-15)
    assert_allclose(h[1, 0], 3 * x**2, rtol=1e-15)
    assert_allclose(h[1, 1], -np.sin(y) * np.ones_like(x), rtol=1e-15)
    j = symgrad.jacobian(["x*y", "exp(x)"])(x, y)
    assert j.shape == (2, 2, 7)
    assert_allclose(j[1, 0], np.exp(x), rtol=1e-15)
    assert_array_equal(j[1, 1], np.zeros(7))
    lap = symgrad.laplacian("x**2*y**3")(x, y)
    assert_allclose(lap, 2 * y**3 + 6 * x**2 * y, rtol=1e-15)


def test_mixed_partial_any_order() -> None:
    """d3f/dx2dy of x**3*y**2*exp(y) is 6*x*(2*y + y**2)*exp(y)."""
    d = symgrad.derivative("x**3*y**2*exp(y)", "x", 2, "y")
    x, y = 0.7, -0.4
    assert_allclose(d(x, y), 6 * x * (2 * y + y**2) * np.exp(y), rtol=1e-14)
    assert d.to_strings() == symgrad.derivative("x**3*y**2*exp(y)", "x x y").to_strings()


def test_variable_order_explicit_or_sorted() -> None:
    """Explicit variables keep their order; otherwise they are sorted by name."""
    assert [v.name for v in symgrad.gradient("b*a + c").variables] == ["a", "b", "c"]
    g = symgrad.gradient("b*a + c", variables="c b a")
    assert g.to_strings() == ["1", "a", "b"]


def test_high_order_allowed_but_capped() -> None:
    """Order 12 works (stencil error terms need it); an absurd order is refused quickly."""
    d = symgrad.derivative("sin(x)", "x", 12)
    assert_allclose(d(0.3), np.sin(0.3), rtol=1e-15)
    with pytest.raises(LimitExceeded) as info:
        symgrad.derivative("exp(sin(x))", "x", 100)
    assert info.value.limit == "derivative_order"


def test_derivative_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """A derivative that explodes in size is refused with expression_too_large."""
    monkeypatch.setattr(symbolic, "MAX_DERIVATIVE_NODES", 20_000)
    x = sympy.Symbol("x", real=True)
    expr = x
    for _ in range(8):
        expr = sympy.exp(sympy.sin(expr) * expr)
    symgrad.gradient(expr)  # the first derivative still fits (about 10k nodes)
    with pytest.raises(LimitExceeded) as info:  # the cost model would refuse first: raise it
        symgrad.hessian(expr, limits=symgrad.Limits(max_work=10**9))
    assert info.value.limit == "expression_too_large"
    assert info.value.allowed == 20_000


def test_bad_wrt_is_a_config_error() -> None:
    """Differentiating with respect to a non-variable names the variables."""
    with pytest.raises(ConfigError, match="variables"):
        symgrad.derivative("x**2", "y")


def test_generated_source_is_visible() -> None:
    """The compiled function's NumPy source can be read and shows shared subexpressions."""
    source = symgrad.gradient("sin(x+y)*exp(-z**2)").source
    assert "def " in source
    assert source.count("exp(") == 1  # computed once, shared by all three components


def test_precision_is_a_parameter_not_global_state() -> None:
    """mpmath.mp is untouched, and threads at dps 15 and 60 each get their own digits."""
    before = mpmath.mp.dps
    g = symgrad.gradient("exp(x)")
    want = {15: mpmath.mpf(1), 60: mpmath.mpf(1)}
    results: dict[int, list[str]] = {15: [], 60: []}

    def work(dps: int) -> None:
        for _ in range(50):
            results[dps].append(str(g.at("x=1", dps=dps)[0]))

    threads = [threading.Thread(target=work, args=(d,)) for d in want]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert mpmath.mp.dps == before
    ctx = mpmath.MPContext()
    for dps in want:
        ctx.dps = dps
        assert set(results[dps]) == {str(ctx.e)}


linear = st.floats(min_value=-5, max_value=5, allow_nan=False).filter(lambda v: abs(v) > 1e-3)


@settings(max_examples=25, deadline=None)
@given(a=linear, b=linear, x=st.floats(min_value=0.1, max_value=2.0))
def test_linearity_and_product_rule(a: float, b: float, x: float) -> None:
    """d(a f + b g) = a f' + b g' and d(f g) = f' g + f g' at random points."""
    f, g = "sin(x)", "exp(x)/(1+x^2)"
    df = symgrad.derivative(f, "x")
    dg = symgrad.derivative(g, "x")
    lin = symgrad.derivative(f"({a!r})*({f}) + ({b!r})*({g})", "x")
    prod = symgrad.derivative(f"({f})*({g})", "x")
    fv, gv = np.sin(x), np.exp(x) / (1 + x**2)
    assert_allclose(lin(x), a * df(x) + b * dg(x), rtol=1e-12, atol=1e-12)
    assert_allclose(prod(x), df(x) * gv + fv * dg(x), rtol=1e-12, atol=1e-14)


def test_open_grids_broadcast_without_full_inputs() -> None:
    """np.ogrid inputs (x[:, None], y[None, :]) give the full-grid result, slab by slab."""
    x, y, z = np.ogrid[-1:1:70j, 0:2:60j, 0.5:1:40j]
    g = symgrad.gradient("sin(x)*exp(y/2)*z**2")
    gx, gy, gz = g(x, y, z)
    assert gx.shape == (70, 60, 40)
    assert_allclose(gx, np.cos(x) * np.exp(y / 2) * z**2, rtol=1e-14)
    assert_allclose(gy, np.sin(x) * np.exp(y / 2) / 2 * z**2, rtol=1e-14, atol=1e-300)
    assert_allclose(gz, 2 * np.sin(x) * np.exp(y / 2) * z, rtol=1e-14, atol=1e-300)


def test_exact_values_survive_cancellation() -> None:
    """d/dx acos(x) = -1/sqrt(1 - x**2) near x = 1 cancels badly; .at still gives 50 digits."""
    got = symgrad.gradient("acos(x)").at("x=0.99999999999999", dps=50)[0]
    ref = mpmath.MPContext()
    ref.dps = 100
    x = ref.mpf("0.99999999999999")
    want = -1 / ref.sqrt(1 - x**2)
    assert abs(ref.convert(got) - want) <= abs(want) * ref.mpf(10) ** -49
    assert type(got).context.dps == 50  # rounded to what was asked, not the working precision


def test_variable_names_never_shadow_constants() -> None:
    """A variable named e (declared; else e is E) or less, select, mpf... is not Euler's E."""
    f = symgrad.function("e*E + less", variables="e less")
    assert_allclose(f(2.0, 1.0), 2.0 * np.e + 1.0, rtol=1e-15)
    assert_allclose(float(f.at("e=2, less=1", dps=20)[()]), 2.0 * np.e + 1.0, rtol=1e-15)
    assert_allclose(symgrad.gradient("e*E", variables="e")(2.0), [np.e], rtol=1e-15)


def test_a_compiled_call_refuses_an_output_over_the_cap_before_allocating() -> None:
    """10^9 points of a 2-component gradient would need 16 GB: refused by arithmetic on shapes.

    The input is a broadcast view (no memory), so only the output check stands between the call
    and the allocation.
    """
    from symgrad.derive import gradient as grad

    x = np.broadcast_to(np.float64(1.0), (10**5, 10**4))
    with pytest.raises(LimitExceeded) as info:
        grad("x*y")(x, 1.0)
    assert info.value.limit == "output_bytes"
    assert info.value.value == 2 * 10**9 * 8


@pytest.mark.parametrize("build", ["gradient", "hessian", "laplacian"])
def test_scalar_constructors_refuse_several_expressions(build: str) -> None:
    """A list of two expressions given where one is expected is an InputError, not NumPy's."""
    with pytest.raises(symgrad.InputError, match="takes one expression \\(got 2\\)"):
        getattr(symgrad, build)(["x", "y"])
    with pytest.raises(symgrad.InputError, match="takes one expression"):
        symgrad.derivative(["x", "y"], "x")


def test_a_list_of_one_expression_is_that_expression() -> None:
    """``gradient(["x*y"])`` is the gradient of x*y: (y, x)."""
    assert symgrad.gradient(["x*y"])(2.0, 3.0).tolist() == [3.0, 2.0]
