"""The referee's work, counted (never timed): evaluations, operations and precision raises.

The arb path compiles f's ball program once per Compiled, evaluates f at the point once per
call, and per partial one Taylor series over the stencil's interval plus the stencil points,
re-evaluating only the operations that depend on the moved variable.  The mpmath engine's
counts are pinned too, so that bookkeeping cut for speed does not cut evaluations the error
control needs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import mpmath
import mpmath.libmp as lib
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad
import symgrad.fd._arb as arb_module
import symgrad.fd._engine as engine
from symgrad.derive import arb_available
from symgrad.fd import finite_difference, finite_difference_gradient

#: the arb path's counts need python-flint; the mpmath engine's run everywhere
flint_only = pytest.mark.skipif(not arb_available(), reason="needs python-flint")

POINT = "x=0.3, y=0.7, z=1.1"


def _raises(reason: str) -> int:
    found = re.search(r"after (\d+) precision raises", reason)
    return int(found.group(1)) if found else 0


@flint_only
def test_a_smooth_gradient_needs_four_evaluations_per_partial() -> None:
    """Two stencil points, one Taylor series, and the point itself; no precision raise."""
    results = finite_difference_gradient("sin(x)*exp(y) + z**2", POINT, dps=50, engine="arb")
    assert [r.certified for r in results] == [True, True, True]
    assert [r.evaluations for r in results] == [4, 4, 4]
    assert {_raises(r.reason) for r in results} == {0}
    assert len({r.working_dps for r in results}) == 1


@flint_only
def test_only_the_operations_that_move_are_evaluated_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """sin(x)*exp(y) + z**2 has 5 operations: the point evaluates them once, and each
    stencil point only those depending on its variable (3 for x, 3 for y, 2 for z): 5 + 2·8 = 21,
    where whole evaluations would take 5 · 7 = 35."""
    calls = {"n": 0}
    original = arb_module._point_step

    def counting(op: Any) -> Any:
        step = original(op)

        def counted(values: list[Any]) -> Any:
            calls["n"] += 1
            return step(values)

        return counted

    monkeypatch.setattr(arb_module, "_point_step", counting)
    f = symgrad.function("sin(x)*exp(y) + z**2")
    finite_difference_gradient(f, POINT, dps=50, engine="arb")
    assert calls["n"] == 21


@flint_only
def test_the_ball_program_is_compiled_once_per_function(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    original = arb_module.compile_program  # type: ignore[attr-defined]

    def counting(*args: Any) -> Any:
        seen.append(args)
        return original(*args)

    monkeypatch.setattr(arb_module, "compile_program", counting)
    f = symgrad.function("atan(x*y) + z")
    for dps in (30, 50, 80):
        finite_difference_gradient(f, POINT, dps=dps, engine="arb")
    assert len(seen) == 1


@flint_only
@pytest.mark.parametrize(
    ("text", "point", "most", "tried"),
    [
        ("(exp(x) - 1)/x", "x=1e-200", 3, 2),  # the box's values cancel: its first stencil fails
        ("log(1 + x**6)", "x=1e-5", 1, 0),
        ("1e80 + x", "x=1", 0, 0),
    ],
)
def test_precision_raises_are_few_and_counted(text: str, point: str, most: int, tried: int) -> None:
    """A formula that cancels costs precision raises, each one more stencil evaluation; where
    Cauchy's bound does not certify, the stencil it tried is counted too (``tried``)."""
    r = finite_difference(text, point, dps=50, engine="arb")
    assert r.certified, r.reason
    raises = _raises(r.reason)
    assert raises <= min(most, arb_module.MAX_ESCALATIONS)
    series = 0 if "Cauchy" in r.reason else 1  # each is analytic: its complex box comes first
    # the point, the box, the series where they decide, central:2 per precision
    assert r.evaluations == 1 + 1 + tried + series + 2 * (1 + raises)


@flint_only
def test_a_declined_partial_costs_the_mpmath_engine_once() -> None:
    """besselj has no arb Taylor series: the mpmath complex step decides, with its own count."""
    arb = finite_difference("besselj(1, x)", "x=2", dps=50)
    plain = finite_difference("besselj(1, x)", "x=2", dps=50, engine="mpmath")
    assert not arb.certified
    assert arb.evaluations == plain.evaluations


def test_the_mpmath_stencil_work_is_unchanged() -> None:
    """The error-controlled mpmath stencil: a Richardson pair of central:2 (4 evaluations)."""
    results = finite_difference_gradient(
        "sin(x)*exp(y) + z**2", POINT, dps=50, method="mp", engine="mpmath"
    )
    assert [r.evaluations for r in results] == [4, 4, 4]
    assert all(r.ok and not r.certified for r in results)


# -- the mpmath complex step (the referee without python-flint), counted --------------------

_SETTINGS = settings(max_examples=300, deadline=None, derandomize=True)


def _ctx(dps: int) -> mpmath.MPContext:
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


@contextmanager
def _counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Counts f's mpmath evaluations, probes made, and float and mpmath forward passes."""
    calls = {"f": 0, "probes": 0, "float": 0, "mpmath": 0}
    mp_function = symgrad.Compiled.mp_function

    def counting_function(self: symgrad.Compiled, dps: int) -> Any:
        ctx, fn = mp_function(self, dps)

        def counted(*args: Any) -> Any:
            calls["f"] += 1
            return fn(*args)

        return ctx, counted

    def counter(name: str, original: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return original(*args, **kwargs)

        return counted

    monkeypatch.setattr(symgrad.Compiled, "mp_function", counting_function)
    monkeypatch.setattr(engine._Probe, "__init__", counter("probes", engine._Probe.__init__))
    monkeypatch.setattr(engine, "_float_duals", counter("float", engine._float_duals))
    monkeypatch.setattr(engine, "_mp_duals", counter("mpmath", engine._mp_duals))
    yield calls


def _gradient_truth(x: str, y: str, z: str) -> list[mpmath.mpf]:
    """∇ sin(x + y)·exp(-z²) at 100 digits: cos(x + y)e^(-z²) twice, -2z sin(x + y)e^(-z²)."""
    ctx = _ctx(100)
    a, b, c = ctx.mpf(x), ctx.mpf(y), ctx.mpf(z)
    damp = ctx.exp(-c * c)
    return [ctx.cos(a + b) * damp, ctx.cos(a + b) * damp, -2 * c * ctx.sin(a + b) * damp]


@pytest.mark.parametrize("k", [0, 7, 41])
def test_a_complex_step_gradient_evaluates_f_twice_per_partial(
    monkeypatch: pytest.MonkeyPatch, k: int
) -> None:
    """At a fresh point: f once at the point (is it real there?), twice per partial (the value
    and its certifying second step), once more at each certifying precision (the real parts
    against f); one probe per precision, one float forward pass and no mpmath pass."""
    coords = (f"0.{300 + k}", f"0.{700 - k}", f"0.5{k:03d}")
    point = ", ".join(f"{n}={v}" for n, v in zip("xyz", coords, strict=True))
    f = symgrad.function("sin(x + y)*exp(-z**2)")
    engine._PROBES.__dict__.pop("cache", None)  # a full cache is emptied whole: start below it
    with _counted(monkeypatch) as calls:
        results = finite_difference_gradient(f, point, dps=50, engine="mpmath")
        precisions = {r.working_dps for r in results}
        assert [r.evaluations for r in results] == [2, 2, 2]
        assert calls == {"f": 1 + 6 + len(precisions), "probes": 1 + len(precisions),
                         "float": 1, "mpmath": 0}  # fmt: skip
        again = finite_difference_gradient(f, point, dps=50, engine="mpmath")
        assert calls["f"] == 1 + 6 + len(precisions) + 1 + 6  # probes and the pass are kept
        assert calls["probes"] == 1 + len(precisions)
        assert calls["float"] == 1
    ctx = _ctx(100)
    for r, r2, truth in zip(results, again, _gradient_truth(*coords), strict=True):
        assert r.ok
        assert r.method == "mp-complex"
        assert r == r2
        assert abs(ctx.mpf(r.value) - truth) <= ctx.mpf(r.error_estimate) <= ctx.mpf("1e-49")


def test_the_complex_step_asks_the_float_pass_only_for_its_rate() -> None:
    """The digit counts and slopes of the stencil are not built for a complex-step gradient."""
    f = symgrad.function("sin(x + y)*exp(-z**2)")
    x0 = (sympy.Rational(3, 10), sympy.Rational(7, 10), sympy.Rational(1, 2))
    finite_difference_gradient(f, "x=0.3, y=0.7, z=0.5", dps=50, engine="mpmath")
    axes = [engine._duals(f, x0, axis, 54) for axis in range(3)]
    assert all(isinstance(a, engine._FloatAxis) for a in axes)
    assert all("steepest" in vars(a) for a in axes)
    assert not any("nodes" in vars(a) or "roots" in vars(a) for a in axes)
    assert [a.steepest for a in axes] == pytest.approx([1, 1, 1], rel=1e-5)  # |du/dx| of x + y, -z²


# The certification as first written on context numbers: each operation in its left
# operand's context (a difference of the last and the new value at the last one's precision).
# The engine now runs it on raw tuples; here it is the oracle for every number and decision.


def _step(probe: Any, axis: int, h: Any) -> tuple[list[Any], list[Any]]:
    """Im f(x + ih)/h and Re f(x + ih) as context numbers, from mpmath's complex f itself."""
    ctx = probe.ctx
    args = list(probe.args)
    args[axis] = ctx.mpc(args[axis], h)
    values = [ctx.mpc(v) for v in probe.fn(*args)]
    return [v.imag / h for v in values], [v.real for v in values]


def _reference_complex_step(
    f: symgrad.Compiled, x0: list[sympy.Rational], axis: int, dps: int
) -> tuple[Any, ...]:
    duals = engine._duals(f, tuple(x0), axis, dps + engine._GUARD)
    # the digits the rounding of f's function arguments costs, beyond the 3 the start carries
    work = dps + engine._GUARD + 3 + max(0, duals.condition - 3)
    if work > engine._MAX_WORK:
        return (None, [], 0, engine._MAX_WORK, 0)
    probe = engine._probe(f, x0, work, relative=True)
    ctx = probe.ctx
    unit = ctx.one / 10**dps
    x = abs(probe.args[axis])
    h = unit / 10**engine._GUARD * (x if 0 < x < 1 else 1)
    size = max(ctx.one, x)
    while duals.powers * h > engine._COMPLEX_REACH:  # no power's exponent turned beyond 1e-3
        h /= 2
    if duals.steepest * h > engine._COMPLEX_REACH:
        return (None, [], h, probe.work, 0)
    last, last_f = _step(probe, axis, h)
    missing, count = 0.0, 1
    for _ in range(engine._MAX_REFINE + 1):
        h = -h / (2 * 10 ** math.ceil(missing / 2))
        work = max(probe.work + 8 + math.ceil(1.5 * missing), engine._step_work(dps, h))
        if work > engine._MAX_WORK:
            break
        probe = engine._probe(f, x0, work, relative=True)
        ctx = probe.ctx
        h = ctx.mpf(h)
        new, new_f = _step(probe, axis, h)
        work, count = probe.work, count + 1
        if any(not a and not b for a, b in zip(last, new, strict=True)):
            return (None, [], h, work, count)
        est = [abs(a - b) for a, b in zip(last, new, strict=True)]
        slope = max(abs(v) for v in new)
        scale = max(abs(v) for v in new_f)
        tol = unit * max(slope, scale / size)
        drift = max(abs(a - b) for a, b in zip(last_f, new_f, strict=True))
        drift_tol = unit * max(scale, slope * 2 * abs(h))
        if max(est) <= tol and drift <= drift_tol:
            drift = max(abs(a - b) for a, b in zip(new_f, probe.centre(), strict=True))
        if max(est) <= tol and drift <= drift_tol:
            return (new, est, h, work, count)
        worst = max(max(est) / tol if tol else 1 / unit, drift / drift_tol if drift_tol else 1)
        missing = min(float(ctx.log10(worst)) + 1, 4.0 * (dps + engine._GUARD))
        last, last_f = new, new_f
    return (None, [], h, work, count)


_X, _Y = sympy.symbols("x y")


def _raw(values: Any) -> Any:
    return None if values is None else [v._mpf_ for v in values]


@pytest.mark.parametrize(
    ("text", "point", "dps"),
    [
        ("sin(x + y)*exp(-z**2)", "x=0.3, y=0.7, z=0.5", 50),
        ("atan(x*y) + z", "x=0.75, y=1, z=2", 50),  # atan's imaginary parts: refinements
        ("asin(x/(1 + x**2)) + y", "x=1e-30, y=1", 30),  # an imaginary part lost below 50 digits
        ("exp(x**3/4) + y", "x=1e30, y=2", 20),  # f needs 90 digits before it has one
        ("sec(x**2) + y", "x=1e200, y=1", 15),  # beyond the complex step's reach
        ("x*y + 1e80", "x=3, y=1e-40", 200),
        ("sinh(x)*cosh(y) + tanh(z)", "x=-1.5, y=0, z=1e-20", 100),  # no float rules: mpmath
        ("gamma(x) + besselj(0, y)", "x=0.5, y=3, z=0", 40),
        ("x**400 + y", "x=0.1, y=7", 60),  # the float pass declines: an underflow
        ("exp(-x) + y", "x=14e223, y=0.2", 15),  # exp's argument costs 224 digits first
        ("x**y*1e-10 + y", "x=24e-273, y=8e50", 30),  # the step halved within y·log(x)
        ([sympy.Integer(3) ** 300 * _X + _Y, sympy.Integer(3) ** 300], "x=1, y=1", 15),  # exact
    ],
)
def test_the_raw_bookkeeping_decides_as_context_numbers_do(text: Any, point: str, dps: int) -> None:
    f = symgrad.function(text, "x y z")
    x0 = [sympy.Rational(sympy.sympify(v.split("=")[1])) for v in point.split(", ")]
    x0 += [sympy.Integer(0)] * (3 - len(x0))
    for axis in range(3):
        try:
            want = _reference_complex_step(f, x0, axis, dps)
        except engine._PointProblem:
            with pytest.raises(engine._PointProblem):
                engine.complex_step(f, x0, axis, dps)
            continue
        got = engine.complex_step(f, x0, axis, dps)
        assert _raw(got.value) == _raw(want[0])
        assert [e._mpf_ for e in got.estimate] == [e._mpf_ for e in want[1]]
        assert got.step._mpf_ == want[2]._mpf_
        assert (got.work, got.evaluations) == want[3:]
        if got.value is not None:  # the result rounded to dps digits, as first written
            final = _ctx(dps)
            result = engine.complex_result(f, got, dps)
            ulp = final.ldexp(1, 1 - final.prec)
            assert result.value._mpf_ == final.mpf(got.value[0])._mpf_
            bound = final.mpf(got.estimate[0]) + abs(final.mpf(got.value[0])) * ulp
            assert result.error_estimate._mpf_ == bound._mpf_
            assert result.step._mpf_ == final.mpf(got.step)._mpf_


# -- the exact shortcuts against mpmath.libmp's general code --------------------------------

_RAW = st.one_of(
    st.builds(
        lambda sign, man, exp: lib.from_man_exp(man if sign else -man, exp),
        st.booleans(),
        st.integers(1, 2**300),
        st.integers(-3000, 3000),
    ),
    st.sampled_from([lib.fzero, lib.finf, lib.fninf, lib.fnan, lib.fone, lib.from_int(-1)]),
)
_PREC = st.integers(2, 1200)


@_SETTINGS
@given(t=_RAW, prec=_PREC)
def test_property_shortcuts_are_the_general_operations(t: Any, prec: int) -> None:
    assert engine._abs(t, prec) == lib.mpf_abs(t, prec, "n")
    assert engine._twice(t, prec) == lib.mpf_mul_int(t, 2, prec, "n")
    half = lib.mpf_div(lib.mpf_neg(t, prec, "n"), lib.from_int(2), prec, "n")
    assert engine._neg_half(t, prec) == half
    ulp = lib.mpf_mul(lib.mpf_abs(t, prec, "n"), lib.mpf_shift(lib.fone, 1 - prec), prec, "n")
    assert engine._ulps(t, prec) == ulp


_STEEPEST = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 1e-300, 1e300, 2.0**-60, 2.0**60, 1e140]),
    st.builds(lambda m, e: m * 2.0**e, st.floats(0.5, 1.0), st.integers(-80, 80)),
)


@_SETTINGS
@given(steepest=_STEEPEST, h=_RAW, prec=_PREC)
def test_property_the_reach_test_is_the_product_compared(
    steepest: float, h: Any, prec: int
) -> None:
    """steepest·h > 1e-3 as mpmath computes the product (planted: the exponent shortcut may
    only settle products at most 2^-10)."""
    product = lib.mpf_mul(h, lib.from_float(steepest), prec, "n")
    assert engine._beyond_reach(steepest, h, prec) == lib.mpf_gt(product, lib.from_float(1e-3))


# -- the parts of f a partial does not move, computed once per probe -------------------------

_PARTS_EXPRS = [
    "sin(x + y)*exp(-z**2)",
    "atan(x*y) + z",
    "exp(x**3/4) + y*z",
    "gamma(x) + besselj(0, y) + z",
    "x**y + log(1 + z**2)*sqrt(x)",
    "sinh(x)*cosh(y)/(1 + tanh(z))",
]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    text=st.sampled_from(_PARTS_EXPRS),
    coords=st.tuples(*[st.integers(1, 999)] * 3),
    axis=st.integers(0, 2),
    work=st.sampled_from([24, 64, 200]),
)
def test_property_the_split_code_is_f_own_code(
    text: str, coords: tuple[int, int, int], axis: int, work: int
) -> None:
    """f with the parts an axis does not move taken from the point gives, to the last bit,
    what f's own compiled code gives: at the point, and with a complex step along the axis."""
    f = symgrad.function(text, "x y z")
    x0 = [sympy.Rational(c, 1000) for c in coords]
    probe = engine._Probe(f, x0, work)
    ctx = probe.ctx
    assert [v._mpf_ for v in probe.evaluate(None, probe.args)] == [
        v._mpf_ for v in probe.fn(*probe.args)
    ]
    args = list(probe.args)
    args[axis] = ctx.mpc(args[axis], ctx.mpf(2) ** -150)
    got = [ctx.mpc(v) for v in probe.evaluate(axis, args)]
    want = [ctx.mpc(v) for v in probe.fn(*args)]
    assert [v._mpc_ for v in got] == [v._mpc_ for v in want]


def test_each_part_is_computed_once_per_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """sin(x + y)·exp(-z²): exp(-z²) (unmoved along x and y) and sin(x + y) (along z) are
    computed once at each of the two precisions of a gradient, not once per evaluation."""
    calls: list[int] = []
    split_code = engine._split_code

    def counting(fn: Any) -> Any:
        found = split_code(fn)
        if found is None:
            return None

        def counted(i: int, part: Any) -> Any:
            def run(values: Any) -> Any:
                calls.append(i)
                return part(values)

            return run

        parts = tuple(counted(i, p) for i, p in enumerate(found.parts))
        return found._replace(parts=parts)

    engine._SPLITS.clear()
    monkeypatch.setattr(engine, "_split_code", counting)
    f = symgrad.function("sin(x + y)*exp(-z**2)")
    results = finite_difference_gradient(f, "x=0.31, y=0.62, z=0.5", dps=50, engine="mpmath")
    engine._SPLITS.clear()
    precisions = {r.working_dps for r in results} | {64}  # the point's reality check at 64
    assert sorted(calls) == sorted([0, 1] * len(precisions))
    for r, truth in zip(results, _gradient_truth("0.31", "0.62", "0.5"), strict=True):
        assert abs(_ctx(100).mpf(r.value) - truth) <= _ctx(100).mpf(r.error_estimate)


def test_code_with_common_subexpressions_is_not_split() -> None:
    """exp(sin(x·y)) + sin(x·y)²: the code names sin(x·y) first; only single expressions of
    plain operations and calls are split, and f's own code runs otherwise."""
    f = symgrad.function("exp(sin(x*y)) + sin(x*y)**2", "x y")
    probe = engine._Probe(f, [sympy.Rational(1, 2), sympy.Rational(1, 3)], 64)
    assert engine._split(probe.fn) is None
    ctx = _ctx(100)
    s = ctx.sin(ctx.mpf(1) / 6)
    assert abs(probe.at(probe.args)[0] - (ctx.exp(s) + s**2)) < ctx.mpf(10) ** -60
