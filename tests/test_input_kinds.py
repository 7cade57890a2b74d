"""What compiled functions take as inputs, and the ``SYMGRAD_EVALUATOR`` variable.

Oracles, none of them symgrad's own code: closed forms of polynomials evaluated by NumPy at
small dyadic points, where every float64 operation is exact (so results must be equal, not
close); ``exp`` against mpmath at 60 digits in a private context; masks against the union of
the input masks computed here point by point with NumPy's broadcasting rule written out by
hand (an axis of length 1 repeats its one entry; missing leading axes repeat the whole).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.cli import main
from symgrad.derive import CHUNK, Compiled
from symgrad.errors import ConfigError, InputError, MissingExtra

X, Y, Z = sympy.symbols("x y z", real=True)
EVALUATORS = ["numpy", "numexpr", "symengine", "auto"]
KINDS = ["function", "gradient", "jacobian", "hessian"]
CTX = mpmath.MPContext()
CTX.dps = 60


def _need(evaluator: str) -> None:
    if evaluator in {"numexpr", "symengine"}:
        pytest.importorskip(evaluator)


def _compiled(kind: str, evaluator: str = "numpy") -> Compiled:
    """A fresh function of x, y (never cached: its evaluator is built by the test)."""
    f = X**2 * Y + 3 * Y
    exprs: Any = {
        "function": f,
        "gradient": [2 * X * Y, X**2 + 3],
        "jacobian": [[2 * X * Y, X**2 + 3], [Y, X]],
        "hessian": [[2 * Y, 2 * X], [2 * X, sympy.Integer(0)]],
    }[kind]
    return Compiled(exprs, [X, Y], kind, evaluator=evaluator)


def _closed_form(kind: str, x: Any, y: Any) -> np.ndarray:
    """The same components written out in NumPy, shape ``(*components, *broadcast)``."""
    x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    zero = np.zeros_like(x)
    rows: Any = {
        "function": x**2 * y + 3 * y,
        "gradient": [2 * x * y, x**2 + 3],
        "jacobian": [[2 * x * y, x**2 + 3], [y, x]],
        "hessian": [[2 * y, 2 * x], [2 * x, zero]],
    }[kind]
    return np.array(rows)


def _union_by_hand(masks: Sequence[np.ndarray], grid: tuple[int, ...]) -> np.ndarray:
    """Point p of the grid is masked when any input's entry at p is (broadcasting by hand)."""
    union = np.zeros(grid, dtype=bool)
    for point in np.ndindex(*grid):
        for mask in masks:
            tail = point[len(point) - mask.ndim :] if mask.ndim else ()
            at = tuple(0 if n == 1 else i for n, i in zip(mask.shape, tail, strict=True))
            union[point] |= bool(mask[at])
    return union


def _dyadic(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Quarters in [-8, 8]: every product and sum of the test's polynomials is exact."""
    return rng.integers(-32, 33, size=shape) / 4.0


# --------------------------------------------------------------------------- SYMGRAD_EVALUATOR


@pytest.mark.parametrize("value", ["numexr", "NumPy", " symengine", "numpy ", "AUTO", "fast"])
def test_a_mistyped_evaluator_variable_is_a_config_error_at_first_use(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """Making a function and its exact values do not read it; the first call says what is
    wrong, at one point, at several, broadcasting, and so does every later one (nothing is
    cached while it is wrong)."""
    monkeypatch.setenv("SYMGRAD_EVALUATOR", value)
    g = _compiled("gradient", "auto")
    assert g.at([1, 2], dps=20).tolist() == [4, 4]  # exact: 2xy, x**2 + 3
    for call in ((1.0, 2.0), (np.array([1.0, 2.0]), 2.0), (np.ones((2, 1)), np.ones(3))):
        with pytest.raises(ConfigError) as caught:
            g(*call)
        message = str(caught.value)
        assert "SYMGRAD_EVALUATOR" in message
        assert repr(value) in message
        assert "auto, numpy, numexpr, symengine" in message
        assert "\n" not in message
    monkeypatch.setenv("SYMGRAD_EVALUATOR", "numpy")  # corrected: the same function works
    assert g(np.array([1.0, 2.0]), 2.0).tolist() == [[4.0, 8.0], [4.0, 7.0]]


def test_a_mistyped_evaluator_variable_stops_a_command_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """verify-grid evaluates on broadcast grids, where no fast evaluator is built: the variable
    is still checked, and the command exits 2 with one line naming it."""
    monkeypatch.setenv("SYMGRAD_EVALUATOR", "NumPy")
    symgrad.clear_cache()  # functions made by other tests may have been called already
    code = main(["verify-grid", "sin(x+0.3)*exp(y/2)", "--domain", "x=-1:1,y=-1:1"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "SYMGRAD_EVALUATOR is 'NumPy'" in err


def test_an_explicit_evaluator_does_not_read_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The variable overrides "auto" only: a function told "numpy" never consults it."""
    monkeypatch.setenv("SYMGRAD_EVALUATOR", "numexr")
    g = _compiled("gradient", "numpy")
    assert g(np.array([1.0, 2.0]), 2.0).tolist() == [[4.0, 8.0], [4.0, 7.0]]


@pytest.mark.parametrize("value", ["", "auto"])
def test_an_empty_or_auto_variable_is_the_default(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """Empty means unset: "auto" picks symengine when it is installed, else NumPy (None)."""
    monkeypatch.setenv("SYMGRAD_EVALUATOR", value)
    g = _compiled("gradient", "auto")
    assert g(np.array([1.0, 2.0]), 2.0).tolist() == [[4.0, 8.0], [4.0, 7.0]]
    try:
        import symengine  # noqa: F401 - whether the default has it
    except ImportError:
        assert g._fast is None
    else:
        assert type(g._fast).__name__ == "_SymengineProgram"


@pytest.mark.parametrize(
    ("value", "program"),
    [("numpy", "NoneType"), ("numexpr", "_NumexprProgram"), ("symengine", "_SymengineProgram")],
)
def test_a_valid_variable_takes_effect(
    monkeypatch: pytest.MonkeyPatch, value: str, program: str
) -> None:
    _need(value)
    monkeypatch.setenv("SYMGRAD_EVALUATOR", value)
    g = _compiled("gradient", "auto")
    x = np.linspace(-2.0, 2.0, 9)
    assert np.array_equal(g(x, 0.5), _closed_form("gradient", x, 0.5))
    assert type(g._fast).__name__ == program


@pytest.mark.parametrize("missing", ["numexpr", "symengine"])
def test_a_forced_evaluator_that_is_not_installed_is_named(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    """Before: evaluator='numexpr' needs numexpr, with no word of the variable; now it says
    which variable asked for it and how to undo that."""
    monkeypatch.setitem(sys.modules, missing, None)  # import fails as if not installed
    monkeypatch.setenv("SYMGRAD_EVALUATOR", missing)
    g = _compiled("gradient", "auto")
    with pytest.raises(MissingExtra) as caught:
        g(np.array([1.0, 2.0]), 2.0)
    message = str(caught.value)
    assert f"SYMGRAD_EVALUATOR is {missing!r}" in message
    assert "symgrad[fast]" in message
    assert "unset SYMGRAD_EVALUATOR" in message


def test_importing_symgrad_never_reads_the_variable() -> None:
    """A bad value does not break ``import symgrad`` or building a function."""
    env = dict(os.environ, SYMGRAD_EVALUATOR="numexr")
    code = "import symgrad; symgrad.gradient('x*y'); print('ok')"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


# --------------------------------------------------------------------------- masked arrays


@pytest.mark.parametrize("evaluator", EVALUATORS)
@pytest.mark.parametrize("kind", KINDS)
def test_masked_inputs_give_the_union_of_their_masks(evaluator: str, kind: str) -> None:
    """Every component is masked wherever x or y is; unmasked values are the closed form; the
    data under the mask is NaN, even where the masked input held a value of its own."""
    _need(evaluator)
    g = _compiled(kind, evaluator)
    rng = np.random.default_rng(7)
    n = 200
    x, y = _dyadic(rng, (n,)), _dyadic(rng, (n,))
    mx, my = rng.random(n) < 0.2, rng.random(n) < 0.2
    result = g(np.ma.array(x, mask=mx), np.ma.array(y, mask=my))
    assert isinstance(result, np.ma.MaskedArray)
    want_mask = np.broadcast_to(mx | my, result.shape)
    assert np.array_equal(np.ma.getmaskarray(result), want_mask)
    assert np.all(np.isnan(result.data[want_mask]))
    expected = _closed_form(kind, x, y)
    assert np.array_equal(result.data[~want_mask], expected[~want_mask])


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_masks_across_chunks_and_extreme_values_under_them(evaluator: str) -> None:
    """CHUNK + 5 points (two chunks of NumPy and numexpr, many blocks of symengine), masked at
    both ends of the chunk boundary; under the mask inf, NaN and 1e300 (which the evaluators'
    edge guards recompute) never reach the result."""
    _need(evaluator)
    g = _compiled("gradient", evaluator)
    n = CHUNK + 5
    x = np.full(n, 1.5)
    y = np.full(n, -0.25)
    mask = np.zeros(n, dtype=bool)
    for k, bad in zip((0, CHUNK - 1, CHUNK, n - 1), (np.inf, np.nan, 1e300, -np.inf), strict=True):
        mask[k] = True
        x[k] = bad
    result = g(np.ma.array(x, mask=mask), y)
    assert np.array_equal(np.ma.getmaskarray(result), np.broadcast_to(mask, (2, n)))
    assert np.all(np.isnan(result.data[:, mask]))
    assert np.all(result.data[0, ~mask] == 2 * 1.5 * -0.25)
    assert np.all(result.data[1, ~mask] == 1.5**2 + 3)


@st.composite
def _broadcast_case(draw: st.DrawFn) -> tuple[tuple[int, ...], list[tuple[int, ...]]]:
    """Three input shapes that broadcast (axes of a grid of up to 3 dropped from the front, the
    others kept or made 1), and the grid they broadcast to."""
    full = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=3)))
    shapes = []
    for _ in range(3):
        ndim = draw(st.integers(0, len(full)))
        tail = full[len(full) - ndim :]
        shapes.append(tuple(n if draw(st.booleans()) else 1 for n in tail))
    return np.broadcast_shapes(*shapes), shapes


@settings(max_examples=40, deadline=None, derandomize=True)
@given(case=_broadcast_case(), seed=st.integers(0, 2**32 - 1), plain=st.integers(0, 3))
def test_broadcast_masks_are_unioned_point_by_point(
    case: tuple[tuple[int, ...], list[tuple[int, ...]]], seed: int, plain: int
) -> None:
    """Three inputs of broadcasting shapes, some masked (input ``plain`` is a plain array), into
    the gradient of x**2*y + y*z: the mask is the hand-made union on every component."""
    grid, shapes = case
    rng = np.random.default_rng(seed)
    g = symgrad.gradient("x**2*y + y*z", wrt="x y z")
    values = [_dyadic(rng, s) for s in shapes]
    masks = [rng.random(s) < 0.3 for s in shapes]
    inputs = [np.ma.array(v, mask=m) for v, m in zip(values, masks, strict=True)]
    if plain < len(inputs):
        inputs[plain] = values[plain]
    result = g(*inputs)
    assert isinstance(result, np.ma.MaskedArray)
    want = _union_by_hand([m for k, m in enumerate(masks) if k != plain], grid)
    got = np.ma.getmaskarray(result)
    assert got.shape == (3, *grid)
    for component in got:
        assert np.array_equal(component, want)
    x, y, z = np.broadcast_arrays(*values)
    expected = np.array([2 * x * y, x**2 + z, y * 1.0])
    assert np.array_equal(result.data[~got], expected[~got])
    assert np.all(np.isnan(result.data[got]))


def test_a_masked_scalar_gives_numpy_masked() -> None:
    """0-d inputs: a function value of a masked scalar is ``numpy.ma.masked``, as ``np.sin`` of
    one is; an unmasked masked scalar gives the plain number; a gradient is masked whole."""
    f = _compiled("function")
    assert f(np.ma.masked, 2.0) is np.ma.masked
    assert f(np.ma.array(1.5, mask=False), 2.0) == 1.5**2 * 2.0 + 6.0
    assert np.sin(np.ma.masked) is np.ma.masked  # the NumPy behaviour followed
    g = _compiled("gradient")
    assert np.ma.getmaskarray(g(np.ma.array(1.0, mask=True), 2.0)).tolist() == [True, True]


def test_masked_packed_inputs_and_lists_of_masked_rows() -> None:
    """A packed masked array, a packed list of a masked and a plain row, and a list holding
    ``numpy.ma.masked`` (which ``numpy.asarray`` would read as NaN with a warning)."""
    g = _compiled("gradient")
    x, y = np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.25, -1.0])
    mx = np.array([False, True, False])
    packed = np.ma.array(np.stack([x, y]), mask=[mx, [False, False, True]])
    result = g(packed)
    assert np.ma.getmaskarray(result).tolist() == [[False, True, True]] * 2
    assert result[:, 0].tolist() == _closed_form("gradient", x, y)[:, 0].tolist()
    one = g(np.ma.array([1.5, 2.0], mask=[False, True]))  # one packed point, y masked
    assert np.ma.getmaskarray(one).tolist() == [True, True]
    unmasked = g(np.ma.array([1.5, 2.0]))  # a masked array gives a masked result, as in NumPy
    assert isinstance(unmasked, np.ma.MaskedArray)
    assert unmasked.tolist() == [2 * 1.5 * 2.0, 1.5**2 + 3]
    rows = g([np.ma.array(x, mask=mx), y])
    assert np.ma.getmaskarray(rows).tolist() == [[False, True, False]] * 2
    assert rows.data[:, 2].tolist() == [2 * 3.0 * -1.0, 3.0**2 + 3]
    f = _compiled("function")
    listed = f([1.0, np.ma.masked, 3.0], 2.0)
    assert np.ma.getmaskarray(listed).tolist() == [False, True, False]
    assert listed.data[[0, 2]].tolist() == [1.0 * 2 + 6, 9.0 * 2 + 6]


def test_masked_float32_keeps_its_type_and_mask() -> None:
    g = _compiled("gradient").returning("input")
    x = np.ma.array(np.float32([0.5, 1.5]), mask=[True, False])
    result = g(x, np.float32(2.0))
    assert result.dtype == np.float32
    assert np.ma.getmaskarray(result).tolist() == [[True, False]] * 2
    assert result.data[:, 1].tolist() == [6.0, 5.25]


def test_a_masked_array_without_a_mask_is_a_masked_result_with_none() -> None:
    f = _compiled("function")
    result = f(np.ma.array([1.0, 2.0]), 2.0)
    assert isinstance(result, np.ma.MaskedArray)
    assert not np.ma.getmaskarray(result).any()
    assert result.tolist() == [8.0, 14.0]


def test_complex_call_keeps_the_mask() -> None:
    """The complex step's evaluation: Im f(x + ih)/h of x**2*y + 3y is 2xy, masked where x is."""
    f = _compiled("function")
    h = 1e-20
    x = np.ma.array([1.0 + 1j * h, 2.0 + 1j * h], mask=[False, True])
    result = f.complex_call(x, 3.0)
    assert np.ma.getmaskarray(result).tolist() == [False, True]
    assert result.imag[0] / h == 2 * 1.0 * 3.0


def test_finite_differences_refuse_masked_points() -> None:
    """The float64 finite difference cannot keep a mask: it says so instead of differencing the
    values under it."""
    with pytest.raises(InputError, match="masked array"):
        symgrad.finite_difference(
            "sin(x)", {"x": np.ma.array([0.1, 0.2], mask=[False, True])}, method="float64"
        )


def test_masked_dask_chunks_stay_lazy_and_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    """dask's masked chunks: nothing is evaluated until compute (counted), then the blocks are
    masked as the whole NumPy call is, bit for bit."""
    da = pytest.importorskip("dask.array")
    g = _compiled("gradient")
    rng = np.random.default_rng(3)
    x, y = _dyadic(rng, (30,)), _dyadic(rng, (30,))
    mx = rng.random(30) < 0.3
    calls: list[int] = []
    evaluate = Compiled._evaluate

    def counted(self: Compiled, arrays: list[Any], dtype: Any) -> Any:
        calls.append(1)
        return evaluate(self, arrays, dtype)

    monkeypatch.setattr(Compiled, "_evaluate", counted)
    lazy_x = da.ma.masked_array(da.from_array(x, chunks=7), mask=mx)
    result = g(lazy_x, da.from_array(y, chunks=7))
    assert isinstance(result, da.Array)
    assert calls == []
    assert isinstance(result._meta, np.ma.MaskedArray)
    computed = result.compute()
    assert len(calls) == 5  # one per block
    whole = g(np.ma.array(x, mask=mx), y)
    assert np.array_equal(np.ma.getmaskarray(computed), np.ma.getmaskarray(whole))
    assert np.array_equal(computed.data, whole.data, equal_nan=True)
    beside = g(da.from_array(x, chunks=7), np.ma.array(y, mask=mx)).compute()  # NumPy mask
    assert np.array_equal(np.ma.getmaskarray(beside), np.broadcast_to(mx, (2, 30)))


# --------------------------------------------------------------------------- other array-likes


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_array_likes_give_the_closed_form(evaluator: str) -> None:
    """Lists, tuples, 0-d arrays, float32, float16, int and uint64 arrays, ranges and
    non-contiguous views all give the closed form at the float64 values they hold."""
    _need(evaluator)
    g = _compiled("gradient", evaluator)
    cases: list[tuple[Any, Any, Any, Any]] = [
        ([1.0, 2.0, 3.0], (0.5, 0.25, 2.0), [1.0, 2.0, 3.0], [0.5, 0.25, 2.0]),
        (np.array(1.5), np.array(-2.0), 1.5, -2.0),
        (np.float32([0.1, 0.7]), np.float32(3.0), np.float32([0.1, 0.7]).astype(float), 3.0),
        (np.float16([0.1, 2.5]), 1.0, np.float16([0.1, 2.5]).astype(float), 1.0),
        (np.array([3, -4], dtype=np.int8), np.array([2, 5]), [3.0, -4.0], [2.0, 5.0]),
        (np.array([2**63], dtype=np.uint64), 1.0, [2.0**63], 1.0),  # above int64: exact
        (2**62, 1, 2.0**62, 1.0),  # a Python int within int64
        (range(4), 2.0, [0.0, 1.0, 2.0, 3.0], 2.0),
        (np.arange(12.0).reshape(3, 4)[::2, 1::2], 0.5, [[1.0, 3.0], [9.0, 11.0]], 0.5),
    ]
    for x, y, x_value, y_value in cases:
        result = g(x, y)
        assert type(result) is np.ndarray
        assert result.dtype == np.float64
        assert np.array_equal(result, _closed_form("gradient", x_value, y_value))


def test_zero_d_inputs_give_a_numpy_scalar_and_exp_is_within_an_ulp() -> None:
    """A function at 0-d arrays returns ``numpy.float64``; exp(x)*y against mpmath."""
    f = symgrad.function("exp(x)*y")
    value = f(np.array(0.3), np.array(2.5))
    assert type(value) is np.float64
    exact = CTX.exp(CTX.mpf(0.3)) * CTX.mpf(2.5)
    assert abs(float(value) - float(exact)) <= 2 * np.spacing(float(exact))


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        (2**70, "integer beyond int64's range (int 1180591620717411303424)"),
        ([2**64, 1.0], "integer beyond int64's range"),
        (Fraction(1, 3), "exact numbers (Fraction 1/3)"),
        ([Decimal("0.1"), Decimal(2)], "exact numbers (Decimal 0.1)"),
        (sympy.Rational(1, 3), "exact numbers (Rational 1/3)"),
        (CTX.mpf(2), "exact numbers (mpf"),
        ([1.0, None], "it holds None (NoneType)"),
        (np.array([1.0], dtype=object), "numpy.asarray(x, dtype=float)"),
        ([[1.0], [1.0, 2.0]], "not a rectangular array"),
        ([True, False], "booleans"),
        ("1.5", "strings"),
        (1 + 1j, "complex"),
    ],
)
def test_inputs_numpy_cannot_hold_as_float_are_refused_in_one_sentence(bad: Any, says: str) -> None:
    """Exact numbers are not rounded behind the caller's back: the InputError asks for floats
    or .at(); ragged lists were a NumPy ValueError with a traceback before."""
    g = _compiled("gradient")
    with pytest.raises(InputError) as caught:
        g(bad, 2.0)
    message = str(caught.value)
    assert says in message
    assert "'x'" in message
    assert "\n" not in message


def test_exact_numbers_have_their_exact_path() -> None:
    """What the refusal points to: ``.at()`` takes Fractions, Decimals and big ints exactly."""
    g = _compiled("gradient")
    value = g.at([Fraction(1, 3), 2**70], dps=30)
    tight = CTX.mpf(10) ** -29  # 30 proven digits
    assert CTX.almosteq(CTX.mpf(value[0]), CTX.mpf(2) / 3 * 2**70, rel_eps=tight)  # 2xy
    assert CTX.almosteq(CTX.mpf(value[1]), CTX.mpf(1) / 9 + 3, rel_eps=tight)  # x**2 + 3


def test_pandas_series_by_position_and_misaligned_labels_refused() -> None:
    pd = pytest.importorskip("pandas")
    f = _compiled("function")
    x = pd.Series([1.0, 2.0, 3.0], index=[10, 20, 30])
    y = pd.Series([0.5, 0.25, 2.0], index=[10, 20, 30])
    assert np.array_equal(f(x, y), _closed_form("function", x.to_numpy(), y.to_numpy()))
    assert np.array_equal(f(x, 2.0), _closed_form("function", x.to_numpy(), 2.0))
    shuffled = y.iloc[::-1]  # the same labels in another order: pandas pairs them by label
    with pytest.raises(InputError, match="different labels"):
        f(x, shuffled)
    with pytest.raises(InputError, match="different labels"):
        f(x=x, y=y.set_axis([1, 2, 3]))


def test_xarray_by_position_and_other_dimensions_refused() -> None:
    xr = pytest.importorskip("xarray")
    f = _compiled("function")
    x = xr.DataArray([1.0, 2.0], dims="t", coords={"t": [0, 1]})
    y = xr.DataArray([0.5, 0.25], dims="t", coords={"t": [0, 1]})
    assert np.array_equal(f(x, y), _closed_form("function", [1.0, 2.0], [0.5, 0.25]))
    assert np.array_equal(f(x, xr.DataArray(2.0)), _closed_form("function", [1.0, 2.0], 2.0))
    with pytest.raises(InputError, match="different labels"):
        f(x, xr.DataArray([0.5, 0.25], dims="s"))  # xarray would broadcast to (t, s)
    with pytest.raises(InputError, match="different labels"):
        f(x, y.assign_coords(t=[1, 0]))  # xarray would align t = 0 with t = 0
