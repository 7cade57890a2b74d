"""Compiled functions used from NumPy code: parameters and data, vectors, packed calls, types.

Every value is compared with an independent reference: derivatives differentiated by hand and
evaluated in NumPy or in a private 60-digit mpmath context, never symgrad's own code.
"""

from __future__ import annotations

import pickle

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import symgrad
from symgrad.errors import ConfigError, InputError, LimitExceeded, ParseError

DAMPED = "A*exp(-sigma*t)*sin(omega*t) - y"


def damped_jacobian(theta: np.ndarray, t: np.ndarray) -> np.ndarray:
    """d/d(A, sigma, omega) of A e^(-sigma t) sin(omega t), by hand: shape (3, N)."""
    a, sigma, omega = theta
    decay, wave = np.exp(-sigma * t), np.sin(omega * t)
    return np.array([decay * wave, -a * t * decay * wave, a * t * decay * np.cos(omega * t)])


def ctx60() -> mpmath.ctx_mp.MPContext:
    ctx = mpmath.MPContext()
    ctx.dps = 60
    return ctx


# ---------------------------------------------------------------- parameters versus data
def test_wrt_and_args_split_parameters_from_data() -> None:
    """jacobian(wrt=, args=) differentiates only the parameters; data are named inputs."""
    J = symgrad.jacobian([DAMPED], wrt="A sigma omega", args="t y")
    assert [v.name for v in J.wrt] == ["A", "sigma", "omega"]
    assert [v.name for v in J.args] == ["t", "y"]
    assert [v.name for v in J.variables] == ["A", "sigma", "omega", "t", "y"]
    assert J.shape == (1, 3)
    theta, t = np.array([2.5, 0.3, 1.7]), np.linspace(0.0, 5.0, 11)
    want = damped_jacobian(theta, t)
    assert_allclose(J(theta, t, np.zeros_like(t))[0], want, rtol=1e-14, atol=1e-300)
    assert_allclose(J(*theta, t, 0.0)[0], want, rtol=1e-14, atol=1e-300)  # unpacked
    assert_allclose(J(theta, t=t, y=1.0)[0], want, rtol=1e-14, atol=1e-300)  # data by name


def test_args_default_to_the_names_not_in_wrt() -> None:
    """With wrt= alone, the other names become data in natural order (x2 before x10)."""
    g = symgrad.gradient("a10*x**2 + a2*x + b", wrt="x")
    assert [v.name for v in g.args] == ["a2", "a10", "b"]
    assert g.shape == (1,)
    assert g(3.0, 5.0, 7.0, 11.0).tolist() == [2 * 7.0 * 3.0 + 5.0]


def test_wrt_default_is_the_names_not_in_args() -> None:
    h = symgrad.hessian("c*x**2*y", args="c")
    assert [v.name for v in h.wrt] == ["x", "y"]
    assert h(1.0, 2.0, 3.0).tolist() == [[12.0, 6.0], [6.0, 0.0]]


def test_unknown_names_are_an_input_error_listing_them() -> None:
    with pytest.raises(InputError, match=r"uses \['sigma', 't'\].*neither in wrt"):
        symgrad.jacobian([DAMPED], wrt="A omega", args="y")


def test_a_name_in_wrt_and_args_is_refused() -> None:
    with pytest.raises(InputError, match="both differentiated"):
        symgrad.gradient("x*y", wrt="x y", args="y")


def test_wrt_and_variables_together_are_refused() -> None:
    with pytest.raises(ConfigError, match="not both"):
        symgrad.gradient("x*y", "x y", wrt="x")


def test_variables_keeps_its_meaning() -> None:
    """variables= is wrt without data: every name must be listed (a ParseError otherwise)."""
    assert symgrad.gradient("x*y", "y x")(2.0, 3.0).tolist() == [3.0, 2.0]
    with pytest.raises(ParseError, match="unknown variable 't'"):
        symgrad.jacobian([DAMPED], variables="A sigma omega")


def test_derivative_order_must_be_in_wrt() -> None:
    d = symgrad.derivative("a*x**3", "x", 2, wrt="x", args="a")
    assert d(2.0, 5.0) == 6 * 5.0 * 2.0
    with pytest.raises(ConfigError, match="a is data"):
        symgrad.derivative("a*x**3", "a", wrt="x", args="a")


def test_laplacian_and_function_take_data() -> None:
    assert symgrad.laplacian("c*(x**2 + y**2)", wrt="x y")(0.0, 0.0, 3.0) == 12.0
    f = symgrad.function(["a*x", "x + a"], wrt="x", args="a")
    assert f(2.0, 3.0).tolist() == [6.0, 5.0]


def test_exact_values_with_data() -> None:
    """.at() takes the data like any input; compared with the hand derivative at 60 digits."""
    J = symgrad.jacobian([DAMPED], wrt="A sigma omega", args="t y")
    got = J.at("A=2.5, sigma=0.3, omega=1.7, t=0.9, y=0", dps=40)
    ctx = ctx60()
    a, s, w, t = ctx.mpf(25) / 10, ctx.mpf(3) / 10, ctx.mpf(17) / 10, ctx.mpf(9) / 10
    want = [
        ctx.exp(-s * t) * ctx.sin(w * t),
        -a * t * ctx.exp(-s * t) * ctx.sin(w * t),
        a * t * ctx.exp(-s * t) * ctx.cos(w * t),
    ]
    for value, ref in zip(got[0], want, strict=True):
        assert abs(ctx.convert(value) - ref) <= abs(ref) * ctx.mpf(10) ** -39


# ---------------------------------------------------------------- vectors and packed calls
def test_indexed_names_are_vector_entries_in_natural_order() -> None:
    g = symgrad.gradient("x[10]*x[2] + x[0]")
    assert [v.name for v in g.wrt] == ["x_0", "x_2", "x_10"]
    assert g(1.0, 2.0, 3.0).tolist() == [1.0, 3.0, 2.0]


def test_vector_makes_the_symbols_the_text_means() -> None:
    x = symgrad.vector("x", 12)
    assert x[11] == symgrad.parse("x[11]")
    g = symgrad.gradient(x[0] ** 2 * x[11], wrt=x)
    assert g.shape == (12,)
    assert g.to_strings()[0] == "2*x_0*x_11"
    assert symgrad.gradient("x[0]*x[1]", wrt="x[1] x[0]").to_strings() == ["x_0", "x_1"]


@pytest.mark.parametrize("n", [0, -1, 1.5, True, 2000])
def test_vector_refuses_bad_sizes(n: object) -> None:
    with pytest.raises((ConfigError, LimitExceeded)):
        symgrad.vector("x", n)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["x[-1]", "x [0]", "x[a]", "x[0][1]", "[0]", "x[]", "x[1.5]"])
def test_malformed_indices_are_parse_errors(text: str) -> None:
    with pytest.raises(ParseError, match=r"\["):
        symgrad.parse(text)


def test_packed_and_unpacked_calls_agree() -> None:
    """g(p) with p.shape == (n, *batch) equals g(p[0], ..., p[n-1]), by hand too."""
    g = symgrad.gradient("x**2*y + z")
    p = np.random.default_rng(3).normal(size=(3, 4, 5))
    packed, unpacked = g(p), g(*p)
    assert packed.shape == (3, 4, 5)
    assert_allclose(packed, unpacked, rtol=0, atol=0)
    assert_allclose(packed[0], 2 * p[0] * p[1], rtol=1e-15)
    assert_allclose(packed[1], p[0] ** 2, rtol=1e-15)


def test_packed_input_of_the_wrong_length_names_the_shape() -> None:
    g = symgrad.gradient("x*y*z")
    with pytest.raises(InputError, match=r"\(3, \.\.\.\); got shape \(2, 4\)"):
        g(np.ones((2, 4)))


def test_mismatched_shapes_are_an_input_error_naming_them() -> None:
    g = symgrad.gradient("x*y")
    with pytest.raises(InputError, match=r"x \(3,\), y \(4,\)"):
        g(np.ones(3), np.ones(4))


def test_at_accepts_sequences_and_arrays() -> None:
    g = symgrad.gradient("x**2*y")
    for point in ([0.5, "0.1"], (0.5, "1/10"), {"x": 0.5, "y": "0.1"}, "x=0.5, y=0.1"):
        got = g.at(point, dps=30)
        assert [str(v) for v in got] == ["0.1", "0.25"]
    assert [str(v) for v in g.at(np.array([0.5, 2.0]))] == ["2.0", "0.25"]
    assert str(symgrad.function("x[1]").at("x[1]=0.5")) == "0.5"


@pytest.mark.parametrize(
    ("point", "fragment"),
    [([1.0], "has 1 values"), (np.ones((2, 1)), "must be 1-D"), (3.0, "sequence")],
)
def test_at_refuses_bad_sequences(point: object, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        symgrad.gradient("x*y").at(point)  # type: ignore[arg-type]


# ---------------------------------------------------------------- return types
def test_scalar_results_are_numpy_scalars() -> None:
    value = symgrad.function("x*y")(1.0, 2.0)
    assert type(value) is np.float64
    assert value == 2.0
    assert type(symgrad.derivative("x**3", "x")(2.0)) is np.float64
    assert symgrad.function("x*y")(np.ones(3), 2.0).shape == (3,)


def test_exact_scalar_is_an_mpf_printed_at_dps() -> None:
    value = symgrad.function("x").at("x=1.2", dps=50)
    assert isinstance(value, mpmath.ctx_mp_python._mpf)
    assert repr(value) == "mpf('1.2')"
    assert str(value) == "1.2"
    assert value[()] is value  # code written for the 0-d array of earlier versions
    ctx = ctx60()
    assert abs(ctx.convert(value) - ctx.mpf(12) / 10) < ctx.mpf(10) ** -50


def test_exact_arrays_print_without_guard_digits() -> None:
    got = symgrad.gradient("x*y").at("x=1.2, y=0.1", dps=20)
    assert repr(got) == "array([mpf('0.1'), mpf('1.2')], dtype=object)"
    third = symgrad.function("x/3").at("x=1", dps=30)
    assert repr(third) == "mpf('0.333333333333333333333333333333')"


def test_exact_values_pickle() -> None:
    value = symgrad.function("x/7").at("x=1", dps=40)
    again = pickle.loads(pickle.dumps(value))
    assert again == value
    assert repr(again) == repr(value)


def test_float32_inputs_are_computed_in_float64() -> None:
    """Cancellation that float32 arithmetic would lose is kept; returning() casts at the end."""
    f = symgrad.function("(x + 1) - x")
    x32 = np.float32([1e8, 3e8])
    assert f(x32).dtype == np.float64
    assert f(x32).tolist() == [1.0, 1.0]  # float32 arithmetic gives 0 and 0
    g = f.returning("input")
    assert g(x32).dtype == np.float32
    assert g(x32).tolist() == [1.0, 1.0]
    assert g([1e8, 3e8]).dtype == np.float64  # Python numbers count as float64
    assert f.returning(np.float32)(1.0).dtype == np.float32
    assert f(x32).dtype == np.float64  # returning() copies; the original is unchanged


@pytest.mark.parametrize("dtype", ["int64", "complex128", "bogus", object])
def test_returning_refuses_non_floating_types(dtype: object) -> None:
    with pytest.raises(ConfigError):
        symgrad.function("x").returning(dtype)  # type: ignore[arg-type]


# ---------------------------------------------------------------- property tests
@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    a=st.floats(-3, 3),
    b=st.floats(-3, 3),
    c=st.floats(0.1, 3),
    t=st.lists(st.floats(-2, 2), min_size=1, max_size=6),
)
def test_packed_jacobian_matches_hand_derivatives(
    a: float, b: float, c: float, t: list[float]
) -> None:
    """J(theta, t) of a*exp(b*t)/(c + t**2) against its hand-written partials."""
    J = symgrad.jacobian(["a*exp(b*t)/(c + t**2)"], wrt="a b c", args="t")
    tt = np.array(t)
    e, d = np.exp(b * tt), c + tt**2
    want = np.array([e / d, a * tt * e / d, -a * e / d**2])
    assert_allclose(J(np.array([a, b, c]), tt)[0], want, rtol=4e-15, atol=1e-300)


def test_a_planted_sign_error_is_visible() -> None:
    """The comparison above is sharp: a hand derivative with one sign flipped differs."""
    J = symgrad.jacobian(["a*exp(b*t)/(c + t**2)"], wrt="a b c", args="t")
    got = J(np.array([1.5, 0.5, 1.0]), np.array([0.7]))[0, 2, 0]
    planted = +1.5 * np.exp(0.35) / (1.0 + 0.49) ** 2
    assert not np.isclose(got, planted)


def test_sympy_input_with_vector_symbols() -> None:
    x = symgrad.vector("x", 3)
    expr = sympy.sin(x[0]) * x[1] + x[2] ** 2
    g = symgrad.gradient(expr)
    assert g.wrt == x
    p = np.array([0.3, 2.0, -1.0])
    assert_allclose(g(p), [np.cos(0.3) * 2.0, np.sin(0.3), -2.0], rtol=1e-15)


def test_compiled_functions_pickle_for_process_pools() -> None:
    """A pickled function regenerates its code on load and keeps wrt, args and dtype."""
    h = symgrad.hessian("sin(x)*y**3*a", wrt="x,y", args="a").returning("input")
    back = pickle.loads(pickle.dumps(h))
    assert (back.wrt, back.args, back.kind, back.shape) == (h.wrt, h.args, "hessian", (2, 2))
    x, y, a = 0.7, 1.3, 2.0
    expected = [
        [-np.sin(x) * y**3 * a, 3 * np.cos(x) * y**2 * a],
        [3 * np.cos(x) * y**2 * a, 6 * np.sin(x) * y * a],
    ]
    assert_allclose(back(x, y, a), expected, rtol=1e-15)
    assert back(np.float32(x), np.float32(y), np.float32(a)).dtype == np.float32
    exact = back.at({"x": "7/10", "y": "13/10", "a": 2}, dps=30)
    with mpmath.workdps(40):
        oracle = 6 * mpmath.sin(mpmath.mpf(7) / 10) * mpmath.mpf(13) / 10 * 2
    assert abs(exact[1][1] - oracle) < mpmath.mpf(10) ** -29
