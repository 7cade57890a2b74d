"""Red team for the finite-difference referee: every ``ok`` holds the digits it claims.

:func:`symgrad.finite_difference` and :func:`symgrad.finite_difference_gradient` are attacked
with smooth expressions that are hard for a referee (inverse trigonometric functions, whose
complex extensions lose digits in the imaginary part, fast oscillation, points near
singularities, tiny and huge points) and with kinks, at every method.  The oracle shares no
code with symgrad's finite differences: SymPy differentiates the expression and a private
mpmath context evaluates the derivative at doubling precisions from dps + 40 digits until two
evaluations agree to dps + 30 digits.

Outcome of one partial derivative by one method:

``correct``
    ``ok`` within the claimed error estimate (and, for the mp methods, to the requested
    digits), or not ``ok`` where the derivative does not exist.
``false pass``
    ``ok`` but the error exceeds the claimed estimate, or ``ok`` where there is no derivative.
``wrong value``
    ``ok`` and honest about its error, but short of the requested digits (mp methods).
``false fail``
    not ``ok`` although the derivative exists and the expression is smooth around the point.

The default run takes every third or fourth hand-picked case and a few Hypothesis examples;
the rest carry ``@pytest.mark.slow`` (``pytest -m slow``: every case and 400 examples, or
``SYMGRAD_REFEREE_EXAMPLES`` of them).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.errors import ConfigError

STATUSES = {"ok", "domain", "pole", "overflow", "unreliable", "nonsmooth"}
METHODS = ("auto", "mp", "mp-complex", "complex", "float64")
MP_METHODS = ("auto", "mp", "mp-complex")
QUICK_EXAMPLES = 4
SLOW_EXAMPLES = int(os.environ.get("SYMGRAD_REFEREE_EXAMPLES", "400"))
ORACLE_GUARD = 40  # the oracle starts at dps + 40 digits

_SYMBOLS = {name: sympy.Symbol(name, real=True) for name in ("x", "y", "z")}
_LOCALS: dict[str, Any] = _SYMBOLS | {
    "abs": sympy.Abs,
    "min": sympy.Min,
    "max": sympy.Max,
    "sign": sympy.sign,
}


# -- the independent oracle --------------------------------------------------------------------


@functools.cache
def _sympy(text: str) -> tuple[sympy.Expr, tuple[sympy.Symbol, ...]]:
    """SymPy's own reading of the text (decimals as exact rationals) and its sorted symbols."""
    expr = sympy.sympify(text, locals=_LOCALS, rational=True)
    return expr, tuple(sorted(expr.free_symbols, key=lambda s: s.name))


@functools.cache
def _compiled(text: str, wrt: tuple[str, ...], dps: int) -> tuple[Any, Callable[..., Any]]:
    """A private context at ``dps`` digits and the derivative compiled into it by SymPy."""
    expr, symbols = _sympy(text)
    target = sympy.diff(expr, *(_SYMBOLS[w] for w in wrt)) if wrt else expr
    ctx = mpmath.MPContext()
    ctx.dps = dps
    namespace = {n: getattr(ctx, n) for n in dir(ctx) if not n.startswith("_")}
    return ctx, sympy.lambdify(symbols, target, modules=[namespace, "mpmath"])


def _at(text: str, wrt: tuple[str, ...], point: Sequence[sympy.Rational], dps: int) -> Any:
    """The derivative (or f for ``wrt=()``) at the exact point, or None if not finite real."""
    ctx, fn = _compiled(text, wrt, dps)
    try:
        value = ctx.convert(fn(*(ctx.mpf(v.p) / v.q for v in point)))
    except (ArithmeticError, ValueError, TypeError):
        return None
    if isinstance(value, ctx.mpc):
        if value.imag:
            return None
        value = value.real
    return value if ctx.isfinite(value) else None


class Unsettled(Exception):
    """The oracle's evaluations at rising precision never agreed: the case is skipped."""


def oracle(text: str, wrt: tuple[str, ...], point: Sequence[sympy.Rational], dps: int) -> Any:
    """The value settled to dps + 30 digits, or None where it is not a finite real number.

    The precision doubles from dps + 40 until two evaluations agree (a large argument such
    as sin(50 x) at x = 1e30 needs its digits before the point on top of the requested ones).
    """
    work = dps + ORACLE_GUARD
    low = _at(text, wrt, point, work)
    for _ in range(4):
        work *= 2
        high = _at(text, wrt, point, work)
        if low is None and high is None:
            return None
        close = low is not None and high is not None
        if close and abs(REF.mpf(low) - high) <= abs(high) * REF.mpf(10) ** -(dps + 30):
            return REF.mpf(high)
        low = high
    msg = f"{text}: d/d{wrt} at {point}"
    raise Unsettled(msg)


REF = mpmath.MPContext()
REF.dps = 2500


# -- cases and outcomes ------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One expression at one exact point; ``partials`` lists ``wrt`` tuples, () = gradient.

    ``kinks`` names the partials that do not exist at the point; ``sides`` their known
    one-sided values (left, right) as exact numbers.
    """

    text: str
    point: str
    partials: tuple[tuple[str, ...], ...] = ((),)
    dps: int = 30
    kinks: frozenset[tuple[str, ...]] = frozenset()
    sides: dict[tuple[str, ...], tuple[Any, Any]] = field(default_factory=dict, hash=False)

    @property
    def names(self) -> list[str]:
        return [s.name for s in _sympy(self.text)[1]]

    def exact_point(self) -> dict[str, sympy.Rational]:
        pairs = (item.split("=") for item in self.point.split(","))
        return {k.strip(): sympy.Rational(v.strip()) for k, v in pairs}


@dataclass(frozen=True)
class Outcome:
    """The verdict on one partial by one method, with the evidence."""

    kind: str  # correct, false pass, wrong value, false fail, refused, skipped
    method: str
    case: Case
    wrt: tuple[str, ...]
    detail: str = ""
    gross: bool = False  # a false pass off by more than the requested digits (or 10x the claim)

    def __str__(self) -> str:
        return f"{self.kind}: {self.case.text} at {self.case.point}, d/d{self.wrt} {self.method}: {self.detail}"


def _call(case: Case, wrt: tuple[str, ...], method: str) -> list[tuple[tuple[str, ...], Any, Any]]:
    """symgrad's results as (partial, result, the point the oracle must use)."""
    exact = case.exact_point()
    names = case.names
    floating = method in ("complex", "float64")
    if floating:
        point: Any = {n: float(exact[n]) for n in names}
        where = [sympy.Rational(point[n]) for n in names]
    else:
        point, where = case.point, [exact[n] for n in names]
    if wrt:
        r = symgrad.finite_difference(case.text, point, " ".join(wrt), method=method, dps=case.dps)
        return [(wrt, r, where)]
    results = symgrad.finite_difference_gradient(case.text, point, method=method, dps=case.dps)
    return [((n,), r, where) for n, r in zip(names, results, strict=True)]


def _scalar(value: Any) -> Any:
    """An mpmath number of the reference context from an FDResult entry (0-d array)."""
    item = value[()] if hasattr(value, "shape") else value
    return REF.convert(item if hasattr(item, "_mpf_") else float(item))


def judge(case: Case, method: str) -> list[Outcome]:
    """Every partial of ``case`` by ``method``, classified against the oracle."""
    outcomes = []
    for wrt in case.partials:
        if method in ("complex", "mp-complex") and len(wrt) > 1:
            continue
        try:
            calls = _call(case, wrt, method)
        except ConfigError as exc:  # the complex step refuses abs, sign, min, max
            outcomes.append(Outcome("refused", method, case, wrt, str(exc)))
            continue
        outcomes += [_verdict(case, method, w, r, where) for w, r, where in calls]
    return outcomes


def _verdict(case: Case, method: str, wrt: tuple[str, ...], r: Any, where: list[Any]) -> Outcome:
    assert r.status in STATUSES, r.status
    assert r.reason
    if wrt in case.kinks:
        if r.status == "ok":
            shown = f"ok at a kink: {_scalar(r.value)}"
            return Outcome("false pass", method, case, wrt, shown, gross=True)
        return _sides(case, method, wrt, r)
    try:
        want = oracle(case.text, wrt, where, case.dps)
        f0 = oracle(case.text, (), where, case.dps)
    except Unsettled as exc:
        return Outcome("skipped", method, case, wrt, str(exc))
    if want is None or f0 is None:  # no derivative there: any honest refusal is correct
        bad = r.status == "ok"
        return Outcome("false pass" if bad else "correct", method, case, wrt, "undefined", bad)
    if r.status != "ok":
        return Outcome("false fail", method, case, wrt, f"{r.status}: {r.reason}")
    value, estimate = _scalar(r.value), _scalar(r.error_estimate)
    err = abs(value - want)
    slack = REF.mpf(10) ** -(case.dps + 25) * max(abs(want), abs(f0))
    shown = f"value {REF.nstr(value, 20)}, exact {REF.nstr(want, 20)}, err {REF.nstr(err, 3)}, claimed {REF.nstr(estimate, 3)}"
    digits = REF.mpf(10) ** -(case.dps - 1) * max(abs(want), abs(f0))
    if not err <= estimate + slack:  # NaN estimates claim nothing and fail this too
        gross = not err <= (digits if method in MP_METHODS else 10 * estimate + slack)
        return Outcome("false pass", method, case, wrt, shown, gross)
    if method in MP_METHODS and err > digits:
        return Outcome("wrong value", method, case, wrt, shown)
    return Outcome("correct", method, case, wrt, shown)


def _sides(case: Case, method: str, wrt: tuple[str, ...], r: Any) -> Outcome:
    """A kink reported as nonsmooth must carry the right one-sided values."""
    known = case.sides.get(wrt)
    if r.status != "nonsmooth" or known is None or method not in MP_METHODS:
        return Outcome("correct", method, case, wrt, r.status)
    got = (getattr(r, "left", None), getattr(r, "right", None))
    tol = REF.mpf(10) ** -(case.dps - 5)
    for side, want in zip(got, known, strict=True):
        if side is None or abs(_scalar(side) - REF.mpf(want)) > tol * max(1, abs(REF.mpf(want))):
            return Outcome("wrong value", method, case, wrt, f"one-sided {got}, want {known}")
    return Outcome("correct", method, case, wrt, "nonsmooth with the right one-sided values")


def run(case: Case) -> list[Outcome]:
    """Every partial of ``case`` by every method that applies to it."""
    return [o for m in METHODS for o in judge(case, m)]


# -- curated cases -----------------------------------------------------------------------------

HARD_SMOOTH = [
    Case("atan(x)", "x=0.75"),
    Case("atan(x)", "x=-3"),
    Case("atan(x)", "x=1e-30"),
    Case("atan(x)", "x=1e30"),
    Case("atan(1000*x)", "x=0.001"),
    Case("asin(x)", "x=0.3"),
    Case("asin(x)", "x=0.999999"),
    Case("acos(x)", "x=-0.75"),
    Case("atanh(x)", "x=0.999"),
    Case("asinh(x)", "x=1e20"),
    Case("acosh(x)", "x=1.000001"),
    Case("atan(x)*asin(y/3)", "x=0.3, y=0.7"),
    Case("atan(x/y)", "x=1.25, y=-0.5"),
    Case("acos(x*y)", "x=0.5, y=0.5"),
    Case("log(x)", "x=1e-30"),
    Case("log(x)", "x=1e200"),
    Case("sqrt(x)", "x=1e-40"),
    Case("x**(1/3)", "x=1e-20"),
    Case("tan(x)", "x=1.5707963"),
    Case("1/(x - 1)", "x=1.000001"),
    Case("1/(x - 1)", "x=1.0000000000000000001"),
    Case("sin(50*x)", "x=1.3"),
    Case("sin(1000*x)*exp(x)", "x=0.1"),
    Case("cos(x**2)", "x=30"),
    Case("sin(x)", "x=1e30"),
    Case("exp(x)", "x=300"),
    Case("exp(-x)", "x=-500"),
    Case("x**10", "x=1e30"),
    Case("x**3 - x", "x=1e-30"),
    Case("sin(x)*cos(x)", "x=0.7853981633974483"),
    Case("exp(x)/sqrt(sin(x)**3 + cos(x)**3)", "x=1.5"),
    Case("sin(x + y)*exp(-z**2)", "x=0.3, y=0.7, z=0.5", dps=50),
    Case("atan(x)", "x=0.75", dps=100),
    Case("asin(x)", "x=0.5", dps=15),
    Case("atan(x)", "x=0.75", (("x", "x"), ("x", "x", "x"))),
    Case("atan(x*y)", "x=0.75, y=-1.5", (("x", "y"),)),
    Case("sin(50*x)*y**2", "x=0.2, y=3", (("x", "x"), ("x", "y"))),
]

KINKS = [
    Case("abs(x)", "x=0", kinks=frozenset({("x",)}), sides={("x",): (-1, 1)}),
    Case("abs(x)", "x=0", (("x",),), kinks=frozenset({("x",)}), sides={("x",): (-1, 1)}),
    Case("abs(x - 0.7)", "x=0.7", kinks=frozenset({("x",)})),
    Case("abs(x**3 - x)", "x=1", kinks=frozenset({("x",)}), sides={("x",): (-2, 2)}),
    Case("abs(sin(x))", "x=0", kinks=frozenset({("x",)}), sides={("x",): (-1, 1)}),
    Case("max(x, 1 - x)", "x=0.5", kinks=frozenset({("x",)}), sides={("x",): (-1, 1)}),
    Case("min(x, 2*x)", "x=0", kinks=frozenset({("x",)}), sides={("x",): (2, 1)}),
    Case("max(x**2, 2*x)", "x=2", kinks=frozenset({("x",)}), sides={("x",): (2, 4)}),
    Case("max(x, y)", "x=1, y=1", kinks=frozenset({("x",), ("y",)})),
    Case("abs(x)*y", "x=0, y=2", kinks=frozenset({("x",)})),
    Case("abs(x) + abs(y)", "x=0, y=0.5", kinks=frozenset({("x",)})),
    Case("sign(x)", "x=0", kinks=frozenset({("x",)})),
    Case("sign(x - 1)*x", "x=1", kinks=frozenset({("x",)})),
    Case("sqrt(x**2 + y**2)", "x=0, y=0", kinks=frozenset({("x",), ("y",)})),
    Case("sqrt(x**2)", "x=0", kinks=frozenset({("x",)})),
    Case("x*abs(x)", "x=0", (("x",), ("x", "x")), kinks=frozenset({("x", "x")})),
    Case("abs(x)", "x=0", (("x", "x"),), kinks=frozenset({("x", "x")})),
    Case("max(x, y)**2", "x=1, y=1", (("x", "y"),), kinks=frozenset({("x", "y")})),
    # derivatives that exist although f has abs, max, ...: no false fail
    Case("abs(x)", "x=0.5"),
    Case("x*abs(x)", "x=0"),
    Case("max(x, y)", "x=1, y=2"),
    Case("abs(x)**3", "x=0"),
]


# -- tests -------------------------------------------------------------------------------------


def _failures(outcomes: list[Outcome], kinds: tuple[str, ...]) -> list[str]:
    return [str(o) for o in outcomes if o.kind in kinds]


def _id(case: Case) -> str:
    wrt = "grad" if case.partials == ((),) else ";".join("".join(w) for w in case.partials)
    return f"{case.text}@{case.point}/{wrt}/dps{case.dps}"


def _quick(cases: list[Case], every: int) -> list[Any]:
    """Every ``every``-th case (from the first) in the default run, the others marked slow."""
    return [
        pytest.param(c, marks=() if i % every == 0 else pytest.mark.slow, id=_id(c))
        for i, c in enumerate(cases)
    ]


@pytest.mark.parametrize("case", _quick(HARD_SMOOTH, 4))
def test_hard_smooth_cases_never_lie(case: Case) -> None:
    """Every ok at a hard smooth point holds its claimed error and the requested digits."""
    outcomes = run(case)
    assert not _failures(outcomes, ("false pass", "wrong value"))


@pytest.mark.parametrize("case", _quick(KINKS, 3))
def test_kinks_are_never_ok(case: Case) -> None:
    """No method calls a kink ok; a nonsmooth result carries the one-sided derivatives."""
    outcomes = run(case)
    assert not _failures(outcomes, ("false pass", "wrong value"))


def test_the_judge_catches_a_planted_lie() -> None:
    """The harness itself: a value off by ten times its claim is a false pass, and so is ok at
    a kink; the same value with an honest claim is correct."""
    case = Case("atan(x)", "x=0.75")
    tenth = REF.mpf(10) ** -40
    where = [sympy.Rational(3, 4)]

    def result(value: Any, estimate: Any) -> Any:
        return SimpleNamespace(
            status="ok", reason="planted", value=np.array(value), error_estimate=np.array(estimate)
        )

    lie = _verdict(case, "mp", ("x",), result(REF.mpf("0.64") + 10 * tenth, tenth), where)
    honest = _verdict(case, "mp", ("x",), result(REF.mpf("0.64") + tenth, 2 * tenth), where)
    kink = Case("abs(x)", "x=0", kinks=frozenset({("x",)}))
    at_kink = _verdict(kink, "mp", ("x",), result(REF.zero, REF.zero), [sympy.Integer(0)])
    assert (lie.kind, honest.kind, at_kink.kind) == ("false pass", "correct", "false pass")


def test_the_default_referee_gets_atan_right() -> None:
    """atan'(0.75) = 0.64 exactly: the default method returns it to every requested digit."""
    (r,) = symgrad.finite_difference_gradient("atan(x)", "x=0.75", dps=50)
    assert r.status == "ok"
    err = abs(REF.convert(r.value) - REF.mpf("0.64"))
    assert err <= REF.convert(r.error_estimate)
    assert err <= REF.mpf(10) ** -49


def test_a_kink_reports_its_one_sided_derivatives() -> None:
    """abs(x) at 0: nonsmooth, left derivative -1, right derivative +1 (not 0 ± 0)."""
    r = symgrad.finite_difference("abs(x)", "x=0", dps=30)
    assert r.status == "nonsmooth"
    assert abs(REF.convert(r.left) + 1) < REF.mpf(10) ** -25
    assert abs(REF.convert(r.right) - 1) < REF.mpf(10) ** -25


def test_smooth_points_of_easy_expressions_are_ok() -> None:
    """The referee does not refuse the easy work: no false fail on well-behaved points."""
    easy = [
        Case("atan(x)", "x=0.75"),
        Case("asin(x)*y", "x=0.3, y=2"),
        Case("sin(50*x)", "x=1.3"),
        Case("abs(x)", "x=0.5"),
        Case("x*abs(x)", "x=0"),
    ]
    outcomes = [o for c in easy for o in run(c)]
    assert not _failures(outcomes, ("false pass", "wrong value", "false fail"))


# -- Hypothesis: random smooth expressions -----------------------------------------------------


def _guarded(inner: str) -> str:
    """An argument in (-1/2, 1/2) whatever ``inner`` is: |c / (1 + c²)| <= 1/2."""
    return f"({inner})/(1 + ({inner})**2)"


def smooth_texts(variables: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Smooth expressions rich in the functions whose complex extension is hard to evaluate."""
    leaves = st.sampled_from(variables) | st.sampled_from(["2", "0.5", "1.25"])

    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        pairs = st.tuples(children, children)
        return st.one_of(
            pairs.map(lambda t: f"({t[0]}) + ({t[1]})"),
            pairs.map(lambda t: f"({t[0]})*({t[1]})"),
            pairs.map(lambda t: f"({t[0]})/(2 + ({t[1]})**2)"),
            children.map(lambda c: f"atan({c})"),
            children.map(lambda c: f"asin({_guarded(c)})"),
            children.map(lambda c: f"acos({_guarded(c)})"),
            children.map(lambda c: f"atanh({_guarded(c)})"),
            children.map(lambda c: f"asinh({c})"),
            children.map(lambda c: f"tan({_guarded(c)})"),
            children.map(lambda c: f"exp(({c})/4)"),
            children.map(lambda c: f"log(1 + ({c})**2)"),
            children.map(lambda c: f"sqrt(1 + ({c})**2)"),
            children.map(lambda c: f"({c})**3"),
            children.map(lambda c: f"sin(50*({c}))"),
        )

    return st.recursive(leaves, extend, max_leaves=5)


_COORDINATES = st.one_of(
    st.integers(-200, 200).map(lambda k: f"{k / 100:.2f}"),
    st.sampled_from(["1e-30", "-1e-12", "0.75", "1e-5", "1e30", "-1e20", "123456.789"]),
)


@st.composite
def smooth_cases(draw: st.DrawFn) -> Case:
    """A random smooth expression at a random exact point, with a random precision."""
    variables = draw(st.sampled_from([("x",), ("x", "y")]))
    text = draw(smooth_texts(variables))
    names = [s.name for s in _sympy(text)[1]] or ["x"]
    if not _sympy(text)[1]:
        text = f"({text}) + x"
    point = ", ".join(f"{n}={draw(_COORDINATES)}" for n in names)
    dps = draw(st.sampled_from([15, 30, 50]))
    return Case(text, point, dps=dps)


_HYPOTHESIS = settings(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@settings(_HYPOTHESIS, max_examples=QUICK_EXAMPLES)
@given(case=smooth_cases())
def test_random_smooth_expressions_never_lie(case: Case) -> None:
    """Hypothesis hunts for an ok whose error exceeds its claim, at every method."""
    outcomes = run(case)
    assert not _failures(outcomes, ("false pass", "wrong value"))


@pytest.mark.slow
@settings(_HYPOTHESIS, max_examples=SLOW_EXAMPLES)
@given(case=smooth_cases())
def test_many_random_smooth_expressions_never_lie(case: Case) -> None:
    """The long campaign of the same hunt."""
    outcomes = run(case)
    assert not _failures(outcomes, ("false pass", "wrong value"))
