"""check() under hostile options, and red-team properties of its verdicts.

* A given ``step`` is a finite positive number no wider than max(1, |x|) along a differentiated
  variable; anything else is a ConfigError (or the parser's ParseError) in one sentence.
* A mismatch found with a given step stands only when the referee's own step confirms it: a
  right derivative is never failed because the step was outside the asymptotic range.
* Fuzz: random steps, digits, points and kinds give a result or a SymgradError, never a
  warning (pytest runs with -W error) nor any other exception, and never a fail (every
  derivative symgrad takes is right).
* Red team: an error planted in the symbolic derivative fails; the right derivative passes, and
  its exact value agrees with an independent mpmath derivative (a private context at 80 digits).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import mpmath
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.checks import _point
from symgrad.errors import CheckFailed, ConfigError, InputError, SymgradError
from symgrad.results import PointStatus, Status


def mpctx(dps: int) -> mpmath.MPContext:
    """A private reference context (never mpmath.mp)."""
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


REF = mpctx(80)

# expressions with an independent mpmath twin (written by hand, not derived by symgrad)
TWINS: dict[str, Callable[[Any, Any, Any], Any]] = {
    "sin(x)*exp(y)": lambda c, x, y: c.sin(x) * c.exp(y),
    "log(1 + x**2)*y": lambda c, x, y: c.log(1 + x**2) * y,
    "x**3*y - 2*x*y**2": lambda c, x, y: x**3 * y - 2 * x * y**2,
    "atan(x*y)": lambda c, x, y: c.atan(x * y),
    "sqrt(x**2 + y**2 + 1)": lambda c, x, y: c.sqrt(x**2 + y**2 + 1),
    "exp(-x**2)*cos(3*y)": lambda c, x, y: c.exp(-(x**2)) * c.cos(3 * y),
}


def reference_gradient(expr: str, x: str, y: str) -> list[Any]:
    """∂f/∂x, ∂f/∂y by mpmath's own numerical differentiation at 80 digits."""
    f, px, py = TWINS[expr], REF.mpf(x), REF.mpf(y)
    dx = REF.diff(lambda t: f(REF, t, py), px)
    dy = REF.diff(lambda t: f(REF, px, t), py)
    return [dx, dy]


# -- the step option ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "step",
    [0, -1e-3, "-0.001", math.inf, -math.inf, math.nan, True, 1j, [1e-3], "abc", "1e-400"],
    ids=repr,
)
def test_a_step_that_is_not_a_positive_finite_number_is_refused(step: Any) -> None:
    with pytest.raises(SymgradError) as info:
        symgrad.check("sin(x)", "x=0.3", step=step)
    first = str(info.value).splitlines()[0]  # a ParseError adds the text and a caret below
    assert "number" in first


@pytest.mark.parametrize(
    ("expr", "at", "kind", "step", "message"),
    [
        ("sin(x)", "x=0.3", "gradient", 1e300, "step 1e+300 is wider than the scale of x at x=0.3"),
        ("exp(x)", "x=1", "gradient", 2, "(max(1, |x|) = 1)"),
        ("x*y", "x=1e-300, y=2", "hessian", 1.5, "scale of x at x=1e-300"),
        ("x*exp(y)", "x=1e6, y=0.5", "y", 1.5, "scale of y at y=0.5"),
    ],
)
def test_a_step_wider_than_the_point_is_refused_with_a_sane_sentence(
    expr: str, at: str, kind: str, step: float, message: str
) -> None:
    """1e300 used to reach the referee and print a 10^(10^80)-sized error estimate."""
    with pytest.raises(ConfigError) as info:
        symgrad.check(expr, at, kind=kind, step=step)
    assert message in str(info.value)
    assert len(str(info.value)) < 300


def test_a_step_within_the_point_scale_is_used_as_given() -> None:
    """x*exp(y) along x at x = 1e6: h = 1000 is allowed; the central difference is exact (linear)."""
    r = symgrad.check("x*exp(y)", "x=1e6, y=0.5", kind="x", step=1000)
    assert r.status is Status.PASS
    c = r.components[0]
    assert abs(c.finite_difference - REF.exp(REF.mpf("0.5"))) < REF.mpf("1e-45")


def test_given_step_outside_the_asymptotic_range_is_unreliable_not_fail() -> None:
    """sin(50x) at 0.3 with h = 0.1: D(h) = 10 sin(5) cos(15) is far from 50 cos(15).

    The derivative is right, so the verdict must not be fail: the referee's own step agrees,
    and the component is unreliable with both numbers in the reason.
    """
    r = symgrad.check("sin(50*x)", "x=0.3", step="0.1", scheme="central:2")
    c = r.components[0]
    exact, d_h = 50 * REF.cos(15), 10 * REF.sin(5) * REF.cos(15)
    assert r.status is Status.INCONCLUSIVE
    assert c.point_status is PointStatus.UNRELIABLE
    assert abs(c.symbolic - exact) < REF.mpf("1e-48")
    if c.finite_difference is not None:  # the value D(h) is shown when the referee gives it
        assert abs(c.finite_difference - d_h) < REF.mpf("1e-45")
    assert "given step 0.1" in r.reason
    with pytest.raises(CheckFailed, match="unreliable"):
        r.raise_if_failed()


def planted_gradient(error: Any, component: int = 0) -> Callable[..., symgrad.Compiled]:
    """A stand-in for derive's gradient that adds ``error`` to one component (a planted bug)."""

    def wrong(expr: sympy.Expr, names: Any, *, limits: Any = None) -> symgrad.Compiled:
        parts = [sympy.diff(expr, x) for x in names]
        parts[component] += error
        return symgrad.function(parts, names)

    return wrong


def test_a_planted_wrong_derivative_fails_with_both_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """d/dx of sin(x)*y off by 1e-12: the referee (and its confirmation) shows the mismatch."""
    monkeypatch.setattr(_point, "gradient", planted_gradient(sympy.Rational(1, 10**12)))
    for step in (None, "1e-10"):
        r = symgrad.check("sin(x)*y", "x=0.3, y=0.7", step=step)
        c = r.components[0]
        true = REF.cos(REF.mpf("0.3")) * REF.mpf("0.7")
        assert r.status is Status.FAIL, r.reason
        assert c.point_status is PointStatus.MISMATCH
        assert abs(c.symbolic - true - REF.mpf("1e-12")) < REF.mpf("1e-45")
        assert abs(c.finite_difference - true) < REF.mpf("1e-15")
        assert "the finite difference gives" in r.reason
        assert r.to_dict()["components"][0]["status"] == "fail"
        with pytest.raises(CheckFailed, match="mismatch"):
            r.raise_if_failed()


# -- fuzz: any options give a result or a SymgradError, never a warning or a fail ------------------

STEPS = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-3, 3),
    st.sampled_from(["1e-3", "1/1024", "0", "-1e-6", "1e-300", "2", "nan", "1e-320"]),
)
KINDS = st.sampled_from(["gradient", "hessian", "x", "x y", ("y", 2), "jacobian"])
COORD = st.one_of(
    st.integers(-300, 300).map(lambda k: f"{k / 100:.2f}"),
    st.sampled_from(["0", "1e-300", "-1e-300", "1e300", "1e-20", "123456789.5"]),
)


FUZZ = {
    "expr": st.sampled_from(sorted(TWINS)),
    "x": COORD,
    "y": COORD,
    "step": STEPS,
    "dps": st.integers(15, 40),
    "kind": KINDS,
}


@settings(max_examples=25, deadline=None, derandomize=True)
@given(**FUZZ)
def test_fuzz_options_give_results_or_symgrad_errors(
    expr: str, x: str, y: str, step: Any, dps: int, kind: Any
) -> None:
    _fuzz(expr, x, y, step, dps, kind)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, derandomize=True)
@given(**FUZZ)
def test_fuzz_options_many(expr: str, x: str, y: str, step: Any, dps: int, kind: Any) -> None:
    _fuzz(expr, x, y, step, dps, kind)


def _fuzz(expr: str, x: str, y: str, step: Any, dps: int, kind: Any) -> None:
    source: Any = [expr, "x + y"] if kind == "jacobian" else expr
    try:
        r = symgrad.check(source, f"x={x}, y={y}", kind=kind, step=step, dps=dps, variables="x y")
    except SymgradError:
        return  # refused in one sentence: fine (anything else, or a warning, fails the test)
    assert r.status is not Status.FAIL, r.to_text()  # every derivative taken here is right
    for point in r.points:
        for c in point.components:
            assert c.reason
            assert "e+1000" not in c.reason.replace("e+10000", "")  # no absurd exponents


# -- red team: planted errors fail, right derivatives pass with the right value --------------------

COORDINATES = st.integers(-150, 150).map(lambda k: f"{k / 50:.2f}")


def _red_team(expr: str, x: str, y: str, exponent: int, sign: int, which: int, step: Any) -> None:
    at = f"x={x}, y={y}"
    truth = reference_gradient(expr, x, y)
    right = symgrad.check(expr, at, variables="x y", step=step)
    assert right.status is not Status.FAIL, right.reason  # no false fail
    if right.status is Status.PASS:  # no wrong value behind a pass
        for c, t in zip(right.components, truth, strict=True):
            assert abs(c.symbolic - t) <= REF.mpf("1e-40") * max(1, abs(t)), (c.label, at)
    # an additive error of relative size 10^-exponent (at least), far above the referee's reach
    error = sign * sympy.Float(10) ** -exponent * (1 + abs(sympy.Float(str(truth[which]), 30)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_point, "gradient", planted_gradient(error, which))
        planted = symgrad.check(expr, at, variables="x y", step=step)
    # never a pass; with the referee's own step always a fail (a given step may not reach it:
    # central:4 at h = 1/4096 resolves about 1e-15, so a 1e-20 error is undecided there)
    assert planted.status is not Status.PASS, (expr, at, exponent, planted.reason)
    if step is None:
        assert planted.status is Status.FAIL, (expr, at, exponent, planted.reason)


RED_TEAM = {
    "expr": st.sampled_from(sorted(TWINS)),
    "x": COORDINATES,
    "y": COORDINATES,
    "exponent": st.integers(2, 20),
    "sign": st.sampled_from([-1, 1]),
    "which": st.integers(0, 1),
    "step": st.sampled_from([None, None, "1e-8", "1/4096"]),
}


@settings(max_examples=12, deadline=None, derandomize=True)
@given(**RED_TEAM)
def test_red_team_planted_errors_fail_and_right_derivatives_pass(
    expr: str, x: str, y: str, exponent: int, sign: int, which: int, step: Any
) -> None:
    _red_team(expr, x, y, exponent, sign, which, step)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, derandomize=True)
@given(**RED_TEAM)
def test_red_team_many(
    expr: str, x: str, y: str, exponent: int, sign: int, which: int, step: Any
) -> None:
    _red_team(expr, x, y, exponent, sign, which, step)


# -- taylor_test under hostile options ------------------------------------------------------------


def sin_y2(p: Any) -> float:
    """f = sin(x)·y²."""
    return float(math.sin(p[0]) * p[1] ** 2)


def sin_y2_gradient(p: Any) -> Any:
    """Its gradient by hand: (cos(x)·y², 2·sin(x)·y)."""
    import numpy as np

    return np.array([math.cos(p[0]) * p[1] ** 2, 2 * math.sin(p[0]) * p[1]])


def test_taylor_tiny_steps_are_not_called_exact() -> None:
    """Every remainder of sin(x)·y² at h ≤ 1e-320 is at the floor: that says nothing about f."""
    r = symgrad.taylor_test(
        sin_y2, sin_y2_gradient, [0.3, 0.7], step_sizes=[1e-320, 1e-321, 1e-322]
    )
    assert r.status is Status.INCONCLUSIVE
    assert "too little to show curvature" in r.reason


def test_taylor_f_not_finite_at_the_steps_is_not_exact() -> None:
    """log(x) stepping left from 1e-10 is NaN at every step: inconclusive, not 'linear'."""
    r = symgrad.taylor_test(
        lambda p: math.log(p[0]) if p[0] > 0 else math.nan,
        lambda p: [1 / p[0]],
        [1e-10],
        direction=[-1.0],
    )
    assert r.status is Status.INCONCLUSIVE
    assert "not finite at 13 of the 13 steps" in r.reason


def test_taylor_steps_beyond_the_point_scale_cannot_pass_a_wrong_gradient() -> None:
    """At h = 1e10, 1e5, 1 the remainder of any gradient grows as h²: only local steps count."""
    wrong = lambda p: 1.01 * sin_y2_gradient(p)
    r = symgrad.taylor_test(sin_y2, wrong, [0.3, 0.7], step_sizes=[1e10, 1e5, 1.0])
    assert r.status is Status.INCONCLUSIVE
    assert "local" in r.reason


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"x0": [math.nan, 1.0]}, ConfigError),
        ({"x0": [0.3, 0.7], "step_sizes": [0.1, 0.1, 0.01]}, ConfigError),
        ({"x0": [0.3, 0.7], "step_sizes": [0.1, math.inf, 0.01]}, ConfigError),
        ({"x0": [0.3, 0.7], "step_sizes": "abc"}, ConfigError),
        ({"x0": "abc"}, ConfigError),
    ],
)
def test_taylor_bad_inputs_are_refused(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        symgrad.taylor_test(sin_y2, sin_y2_gradient, **kwargs)


def test_taylor_at_the_edge_of_float_range_is_inconclusive() -> None:
    """x0 = (1e308, 1e308): f(x0) = sin(1e308)·1e616 overflows, so nothing can be judged."""
    r = symgrad.taylor_test(_safe(sin_y2), _safe_vector(sin_y2_gradient), [1e308, 1e308])
    assert r.status is Status.INCONCLUSIVE


def test_taylor_results_of_the_wrong_shape_are_input_errors() -> None:
    import numpy as np

    with pytest.raises(InputError, match="grad must return 2 real numbers"):
        symgrad.taylor_test(sin_y2, lambda p: np.zeros(3), [0.3, 0.7])
    with pytest.raises(InputError, match="f must return one real number"):
        symgrad.taylor_test(lambda p: p, sin_y2_gradient, [0.3, 0.7])


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    x0=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=2, max_size=2),
    step_sizes=st.one_of(
        st.none(),
        st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=6),
    ),
    bias=st.sampled_from([1.0, 1.01, -1.0]),
)
def test_fuzz_taylor_gives_results_or_symgrad_errors(
    x0: list[float], step_sizes: list[float] | None, bias: float
) -> None:
    """Any x0 and steps: a result or a SymgradError, never a warning nor another exception."""

    def grad(p: Any) -> Any:
        return bias * sin_y2_gradient(p)

    try:
        r = symgrad.taylor_test(_safe(sin_y2), _safe_vector(grad), x0, step_sizes=step_sizes)
    except SymgradError:
        return
    assert r.reason


@settings(max_examples=20, deadline=None, derandomize=True)
@given(
    x=st.floats(-2, 2),
    y=st.floats(0.25, 2),
    relative=st.floats(1e-3, 0.5),
    seed=st.integers(0, 1000),
)
def test_red_team_taylor_planted_errors_fail_and_right_gradients_pass(
    x: float, y: float, relative: float, seed: int
) -> None:
    """Default steps: the right gradient passes; one scaled by 1 + δ (δ ≥ 1e-3) fails."""
    right = symgrad.taylor_test(sin_y2, sin_y2_gradient, [x, y], seed=seed)
    assert right.status in (Status.PASS, Status.EXACT), right.reason
    wrong = symgrad.taylor_test(
        sin_y2, lambda p: (1 + relative) * sin_y2_gradient(p), [x, y], seed=seed
    )
    slope = float(sin_y2_gradient([x, y]) @ _direction(seed, [x, y]))
    if abs(slope) * relative > 1e-9:  # a planted error the steps can see
        assert wrong.status is Status.FAIL, wrong.reason


def _direction(seed: int, x0: list[float]) -> Any:
    """taylor_test's documented default direction, rebuilt independently."""
    import numpy as np

    v = np.random.default_rng(seed).standard_normal(len(x0))
    return v * max(1.0, float(np.linalg.norm(x0))) / np.linalg.norm(v)


def _safe(f: Callable[[Any], float]) -> Callable[[Any], float]:
    """f with Python's math errors (overflow of sin at inf) as NaN, as NumPy code would give."""

    def wrapped(p: Any) -> float:
        try:
            return f(p)
        except (ValueError, OverflowError):
            return math.nan

    return wrapped


def _safe_vector(g: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def wrapped(p: Any) -> Any:
        try:
            return g(p)
        except (ValueError, OverflowError):
            return [math.nan, math.nan]

    return wrapped


def test_an_overflow_reason_gives_the_exact_value_where_float64_computed() -> None:
    """At x = 1e200 the double nearest the point is ~1e184 away: sin(x**2)'s derivative there
    differs from the one at the decimal point, and the sentence says which one it quotes."""
    r = symgrad.check("sin(x**2) + x", "x=1e200")
    ctx = mpmath.MPContext()
    ctx.dps = 700
    x = ctx.mpf(1e200)  # the double nearest 1e200, exactly
    oracle = 2 * x * ctx.cos(x * x) + 1
    assert r.status.value == "inconclusive"
    assert "rounded to float64, where the exact value is" in r.reason
    assert r.reason.endswith(ctx.nstr(oracle, 6))


# -- taylor_test beside a large offset: the floor must not make a wrong gradient "exact" ----------


def _offset_sin(offset: float, amplitude: float) -> Callable[[Any], float]:
    return lambda p: offset + amplitude * math.sin(float(p[0]))


def _scaled_cos(factor: float, amplitude: float) -> Callable[[Any], list[float]]:
    """factor times the closed-form derivative amplitude·cos(x) of offset + amplitude·sin(x)."""
    return lambda p: [factor * amplitude * math.cos(float(p[0]))]


@pytest.mark.parametrize("offset", [1e12, 1e14, 1e17])
def test_taylor_offset_swamping_the_change_is_inconclusive_and_says_so(offset: float) -> None:
    """f = offset + sin(x): 1e3·ε·|f| >= 0.22 exceeds sin's change 0.096 over h = 0.1, so the
    remainders of the right and of a zero gradient are all at the floor: neither is exact."""
    for factor in (1.0, 0.0):
        r = symgrad.taylor_test(_offset_sin(offset, 1.0), _scaled_cos(factor, 1.0), [0.5])
        assert r.status is Status.INCONCLUSIVE, r.reason
        assert "the gradient is not tested" in r.reason  # 1e17 + sin(x) is constant in float64
        assert not r.ok


def test_taylor_linear_beside_an_offset_is_exact_only_where_the_floor_resolves_it() -> None:
    """3x − 2y + c: at c = 1e6 the floor (2.2e-7) bounds a first-order error to 4.4e-6 of a
    slope of order 1: exact; at c = 1e12 (floor 0.22) it cannot: inconclusive."""

    def grad(p: Any) -> list[float]:
        return [3.0, -2.0]

    small = symgrad.taylor_test(lambda p: 1e6 + 3 * p[0] - 2 * p[1], grad, [0.3, 0.7])
    assert small.status is Status.EXACT, small.reason
    large = symgrad.taylor_test(lambda p: 1e12 + 3 * p[0] - 2 * p[1], grad, [0.3, 0.7])
    assert large.status is Status.INCONCLUSIVE, large.reason
    wrong = symgrad.taylor_test(
        lambda p: 1e12 + 3 * p[0] - 2 * p[1], lambda p: [6.0, 0], [0.3, 0.7]
    )
    assert wrong.status not in (Status.PASS, Status.EXACT), wrong.reason


def test_taylor_constant_f_is_not_called_exact() -> None:
    """f = 7: f(x0 + h v) = f(x0) at every step, so a gradient of 0 is not tested (a slope of
    1e-20 would leave the same values): inconclusive."""
    r = symgrad.taylor_test(lambda p: 7.0, lambda p: [0.0, 0.0], [0.3, 0.7])
    assert r.status is Status.INCONCLUSIVE, r.reason
    assert "equals f(x0) at every step" in r.reason


_OFFSET_CASES = {
    "offset": st.floats(0.0, 17.0).map(lambda e: 10.0**e),
    "amplitude": st.floats(0.1, 10.0),
    "x0": st.floats(-2.0, 2.0),
    "factor": st.sampled_from([0.0, -1.0, 2.0, 0.5, 1.5, 1.01]),
    "seed": st.integers(0, 50),
}


def _offset_property(offset: float, amplitude: float, x0: float, factor: float, seed: int) -> None:
    """Planted: a gradient factor·f' (factor ≠ 1) never passes nor is exact; the right one never
    fails. Oracle: d/dx (c + a·sin x) = a·cos x (math)."""
    f = _offset_sin(offset, amplitude)
    right = symgrad.taylor_test(f, _scaled_cos(1.0, amplitude), [x0], seed=seed)
    assert right.status is not Status.FAIL, right.reason
    slope = amplitude * math.cos(x0)
    if abs(slope) * abs(1 - factor) < 1e-6 * (1 + amplitude):  # not measurably wrong
        return
    wrong = symgrad.taylor_test(f, _scaled_cos(factor, amplitude), [x0], seed=seed)
    assert wrong.status not in (Status.PASS, Status.EXACT), wrong.reason


@settings(max_examples=25, deadline=None, derandomize=True)
@given(**_OFFSET_CASES)
def test_taylor_planted_errors_beside_an_offset_never_pass(
    offset: float, amplitude: float, x0: float, factor: float, seed: int
) -> None:
    _offset_property(offset, amplitude, x0, factor, seed)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, derandomize=True)
@given(**_OFFSET_CASES)
def test_taylor_planted_errors_beside_an_offset_never_pass_many(
    offset: float, amplitude: float, x0: float, factor: float, seed: int
) -> None:
    _offset_property(offset, amplitude, x0, factor, seed)


@pytest.mark.parametrize("periods", [1, 1000, 159155])
def test_taylor_steps_of_whole_periods_do_not_make_a_wrong_gradient_exact(periods: int) -> None:
    """1e12 + sin(x) with a step of whole periods beside small ones: that step returns f to
    f(0) (math.sin below) whatever the gradient, and is not local, so it cannot show that the
    floor resolves a first-order error: a zero gradient (f'(0) = cos 0 = 1) is not exact."""
    step = 2 * math.pi * periods
    assert abs(math.sin(step)) < 1e-9 * periods
    r = symgrad.taylor_test(
        lambda p: 1e12 + math.sin(float(p[0])),
        lambda p: [0.0],
        [0.0],
        direction=[1.0],
        step_sizes=[step, 0.1, 0.01, 0.001],
    )
    assert r.status is Status.INCONCLUSIVE, r.reason
    assert not r.ok
