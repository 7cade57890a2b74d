"""Point cross-checks: the symbolic derivative against an independent high-precision referee.

For every component (gradient, Hessian or Jacobian entry, or one partial) at every point,
:func:`check` compares the **exact** value (the symbolic derivative at ``dps`` digits) with the
**referee**, an arbitrary-precision finite difference *of f itself* (Hessian entries by second and
mixed stencils of f, never by differencing the symbolic gradient, which would share any error of
the symbolic step).  When f is a sum, each partial differences only the terms that hold its
variables, the others cancelling from every difference along them exactly
(:mod:`symgrad.checks._terms`): a sum of local terms costs work linear in the number of
variables.  It also scores the compiled **float64**
function, evaluated at the float64-rounded point, in ulps of the exact derivative at that same
binary point, so that rounding the input is not counted as an evaluation error.  Exact values
carry ``dps`` proven digits (:meth:`symgrad.Compiled.exact_values`): a derivative formula may
cancel (as ``-1/sqrt(1 - x**2)`` does near x = 1), and a fixed number of guard digits would
then let the "exact" side be wrong; where the digits cannot be proven, the component is
``unreliable``.

Rules, per component (combined with :func:`symgrad.results.combine`)::

    point_status  verdict       when
    ok            pass          |exact - fd| <= tol and tol <= 10^-(dps/2)·|exact| (resolved)
    mismatch      fail          |exact - fd| > tol, tol = max(κ·error_estimate, 10^-(dps-3)·scale)
    domain        inconclusive  f is not real at the point (log(x) at -1), or no stencil fits
    pole          inconclusive  f or the derivative is infinite there (1/x at 0, sqrt(x)' at 0)
    nonsmooth     inconclusive  forward and backward differences disagree (abs(x) at 0)
    overflow      inconclusive  float64 gives inf or nan where the exact value is finite
    unreliable    inconclusive  the referee cannot resolve the component, or the exact value
                                cannot be certified

Domain, pole, kink and overflow points are *inconclusive*, not failures: there the derivative is
undefined or float64 cannot hold it, so neither side can be shown wrong.  ``scale`` is the largest
of |exact|, |fd| and |f| near the point over max(1, |x|)^m, because a difference quotient of order
m cancels the leading digits of f: its precision floor is relative to f, not to the derivative.
Where only the part g of a sum is differenced, |f| there is min(|f|, |g|): the digits g's
quotient cancels, never a looser floor than f's.

A referee *resolves* a component when its tolerance is at most 10^-(dps/2) of the exact value
(an exact 0 is resolved by any agreement): otherwise an ``ok`` would pass an error as large as
the value itself (``x**3`` at 1e-150: the default step, relative to max(1, |x|), is 1e-14, and
f(x ± h) ~ 1e-41 cancels 3x² = 3e-300 entirely).  An unresolved component gets better referees
before it is called ``unreliable``: the same difference in t = x/c, c a power of two near each
small differentiated |x| (a step relative to |x|), then as many more digits as the tolerance
missed by (up to 1000).  A mismatch found with a step much wider than |x| is confirmed that way
too.

The one-sided kink probe (backward:2 against forward:2, for the partial itself and, for higher
partials, for the first derivative along each differentiated axis) runs only when f contains abs,
sign, min, max, Heaviside or Piecewise, or when the central difference is unreliable.  A kink
is one-sided derivatives that differ; a function such as |x|³ or x·|x| is not smooth but is
differentiable (both one-sided derivatives 0) and passes.  A one-sided difference that misses
its digits still counts when it settles (its value moves by less than its estimate when the step
shrinks a millionfold); one that grows as the step shrinks is a jump.

A *given* step h is honoured as an absolute step: D(h) itself, with twice the leading-order
estimate |D(h) − D(2h)|/(2^p − 1) of its truncation error.  That estimate is a bound only where h
is in the asymptotic range, so a given step must be finite, positive and at most max(1, |x|)
along each differentiated variable (a wider interval measures a secant, and exp(x ± 1e300)
would print a number with 10^299 digits in its exponent), and a mismatch found with it is
judged again with the referee's own step: it stands only if that confirms it; otherwise the
component is ``unreliable`` and the reason shows both (sin(50·x) at 0.3 with h = 0.1 gives
D(h) = 10·sin(5)·cos(15), far from the right 50·cos(15)).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import numpy as np
import sympy

from symgrad._limits import check_count
from symgrad._parallel import check_executor, run_pieces
from symgrad._precision import MAX_DPS, check_dps, thread_context
from symgrad.checks._results import (
    _KINDS,
    RANK,
    TOLERANCES,
    CheckResult,
    ComponentCheck,
    PointCheck,
    Tolerances,
    mp_text,
    point_text,
    short,
)
from symgrad.checks._terms import Part, Terms
from symgrad.derive import Compiled, Limits, derivative, function, gradient, hessian, jacobian
from symgrad.errors import ConfigError, LimitExceeded
from symgrad.expr import Source, VariablesSpec, parse_number, resolve
from symgrad.fd import FDResult, finite_difference, order_of, stencils_for
from symgrad.results import PointStatus, Status, combine

__all__ = [
    "TOLERANCES",
    "CheckResult",
    "ComponentCheck",
    "PointCheck",
    "Tolerances",
    "check",
]

_OK, _MISMATCH = PointStatus.OK, PointStatus.MISMATCH
_DECIDED = (PointStatus.OK, PointStatus.MISMATCH)


# -- the check ----------------------------------------------------------------------------------


def check(
    expr: Source | Sequence[Source],
    at: Any,
    *,
    kind: str | Sequence[str | int] = "gradient",
    dps: int = 50,
    scheme: str = "central:4",
    step: Any = None,
    variables: VariablesSpec = None,
    limits: Limits | None = None,
    executor: Executor | None = None,
) -> CheckResult:
    """Cross-check a symbolic derivative against arbitrary-precision finite differences.

    Parameters
    ----------
    expr : str, sympy.Expr or list of them
        The function (a list for ``kind="jacobian"``).
    at : str, mapping, or a list or tuple of them
        One point (``"x=0.3, y=0.7"``; decimals are exact) or several.
    kind : {"gradient", "hessian", "jacobian"} or wrt
        What to check; anything else names one partial, e.g. ``"x x y"`` or ``("x", 2, "y")``.
    dps : int
        Digits of the exact values and of the finite differences.
    scheme : str
        The finite-difference stencil (``"central:4"``, ``"forward:2"``, ...) or ``"complex"``.
    step : number or str, optional
        A fixed finite-difference step h, a positive number at most max(1, |x|) along every
        differentiated variable at every point (else a ``ConfigError``); by default the referee
        chooses its own, error-controlled, from ``dps``.  A mismatch found with a given step
        stands only when the referee's own step confirms it (else ``unreliable``).
    variables : str or sequence, optional
        Variable order; by default the free symbols sorted by name.
    limits : symgrad.Limits, optional
        Caps on the work: ``max_checks`` (points × components, default 5,000), checked before
        anything is differentiated, and ``max_work`` for differentiating and compiling.
    executor : concurrent.futures.Executor, optional
        Runs the independent pieces (the points, and blocks of a point's components) on it:
        a ``ThreadPoolExecutor``, a ``ProcessPoolExecutor`` or a ``dask.distributed`` client's
        ``client.get_executor()``.  The result is identical to the serial run (``None``, the
        default), and an error raised in a piece reaches the caller as it would serially.

    Returns
    -------
    CheckResult
        The verdict and, per point and component, the exact value, the finite difference, their
        errors, the float64 value and its error in ulps, and a ``point_status`` (rules in the
        module docstring: domain, pole, kink and overflow points are inconclusive, not failures).

    Examples
    --------
    >>> r = check("sin(x+y)*exp(-z**2)", "x=0.3, y=0.7, z=0.5")
    >>> r.status.value, [c.variable for c in r.components]
    ('pass', ['x', 'y', 'z'])
    >>> r = check("abs(x)", "x=0")
    >>> r.status.value, r.components[0].point_status.value
    ('inconclusive', 'nonsmooth')
    >>> r.reason
    'd/dx: kink at x=0: left derivative -1, right derivative 1'

    Raises
    ------
    LimitExceeded
        More points × components than ``limits.max_checks`` (``limit="checks"``), before any
        derivative is taken; or differentiating costs more than ``limits.max_work``.
    """
    pool = check_executor(executor)
    settings = _Settings.make(dps, scheme, step)
    specs = list(at) if isinstance(at, list | tuple) else [at]
    if not specs:
        msg = "at must give at least one point, e.g. at='x=0.3, y=0.7' (got an empty sequence)"
        raise ConfigError(msg)
    problem = _Problem.make(expr, kind, variables, limits_of(limits), len(specs))
    exact_points = [problem.exact.point_values(s) for s in specs]
    settings.check_step(problem, exact_points)
    float_points = [[_to_float(v) for v in p] for p in exact_points]
    # every point's float64 values in one vectorized call: shape (components, points)
    f64 = problem.exact(*np.array(float_points, dtype=np.float64).T)
    f64 = f64.reshape(len(problem.entries), -1)
    points = _checked_points(pool, problem, settings, exact_points, float_points, f64)
    return _result(problem, settings, points)


def _result(problem: _Problem, settings: _Settings, points: tuple[PointCheck, ...]) -> CheckResult:
    """The points' verdicts combined, with the sentence that explains them."""
    worst = max(points, key=lambda p: (RANK[p.status], p.worst.badness))
    c, status = worst.worst, combine(p.status for p in points)
    reason = f"{c.label}: {c.reason}"
    if status is Status.PASS:
        n = len(problem.entries)
        what = f"all {n} components agree" if n > 1 else "the derivative agrees"
        where = f"{len(points)} points" if len(points) > 1 else point_text(worst.point)
        reason = (
            f"{what} with the finite differences at {where} (closest to its tolerance: "
            f"{c.label} at {point_text(worst.point)}, relative error {short(c.rel_error, 2)})"
        )
    return CheckResult(
        status, reason, settings.dps, settings.scheme, problem.kind, problem.text, points
    )


# -- the pieces: points, and blocks of a point's components, on an executor ------------------------

#: An executor gets at most about this many pieces of a check (points, or a point's components).
_PIECES = 64


@dataclass(frozen=True)
class _PointData:
    """One point evaluated once: f (per row) and the derivative, also at the float64 point.

    This is how a point crosses to a piece, its numbers made portable (:func:`_portable`).
    """

    values: list[sympy.Rational]
    where: str
    rows: list[_Eval]
    exact: list[_Eval]
    at_float: list[_Eval]
    f64: np.ndarray


def _checked_points(
    pool: Executor | None,
    problem: _Problem,
    settings: _Settings,
    exact_points: list[list[sympy.Rational]],
    float_points: list[list[float]],
    f64: np.ndarray,
) -> tuple[PointCheck, ...]:
    """Every component at every point, in two rounds of independent pieces.

    First f and the exact derivative at blocks of points, then the components: without an
    executor all of a point's components in one piece (so that a Hessian's (x, y) and (y, x)
    share their finite difference), with one in blocks, about ``_PIECES`` pieces in all.  Each
    component is computed the same way in any piece, and its numbers cross back exactly, so
    the result does not depend on how the work was cut.
    """
    dps, n = settings.dps, len(exact_points)
    pairs = list(zip(exact_points, float_points, strict=True))
    blocks = [(problem, dps, [pairs[i] for i in b]) for b in _blocks(n, _PIECES)]
    evaluated = [p for block in run_pieces(pool, _evaluate_points, blocks) for p in block]
    judge = _Classifier(settings, problem.kind, problem.names, problem.terms)
    shown = [
        {x: str(mp_text(_exact(v, dps), dps)) for x, v in zip(judge.names, p, strict=True)}
        for p in exact_points
    ]
    data = [
        _PointData(p, point_text(shown[i]), *evaluated[i], f64[:, i])
        for i, p in enumerate(exact_points)
    ]
    entries = problem.entries
    cuts = _blocks(len(entries), 1 if pool is None else -(-_PIECES // n))
    pieces = [(judge, d, [entries[k] for k in cut]) for d in data for cut in cuts]
    done = iter(run_pieces(pool, _judge_components, pieces))
    return tuple(
        PointCheck(shown[i], tuple(_restored(c) for _ in cuts for c in next(done)))
        for i in range(n)
    )


def _blocks(n: int, count: int) -> list[range]:
    """0, ..., n - 1 in at most ``count`` consecutive blocks of nearly equal size."""
    size = -(-n // max(1, min(n, count))) if n else 1
    return [range(i, min(n, i + size)) for i in range(0, n, size)]


def _exact(value: sympy.Rational, dps: int) -> Any:
    """A rational coordinate as a number of this thread's ``dps``-digit context."""
    ctx = thread_context(dps)
    return ctx.mpf(value.p) / value.q


def _evaluate_points(
    problem: _Problem, dps: int, points: list[tuple[list[sympy.Rational], list[float]]]
) -> list[tuple[list[_Eval], list[_Eval], list[_Eval]]]:
    """A piece: f's rows, the exact derivative, and it at the float64 point, at some points."""

    def portable(evals: list[_Eval]) -> list[_Eval]:
        return [_Eval(_portable(v), s) for v, s in evals]

    out = []
    for values, floats in points:
        rows = [_evaluate(r, values, dps)[0] for r in problem.rows]
        exact, at_float = problem.evaluate(values, dps), problem.evaluate(floats, dps)
        out.append((portable(rows), portable(exact), portable(at_float)))
    return out


def _judge_components(
    judge: _Classifier, data: _PointData, entries: list[_Entry]
) -> list[ComponentCheck]:
    """A piece: some components at one point, numbers made portable."""
    at = judge.at(data)
    return [_portable_check(judge.component(e, at)) for e in entries]


class _Portable(NamedTuple):
    """An mpmath number as plain data: a private context's number types do not pickle."""

    complex: bool
    data: tuple[Any, ...]
    dps: int


def _portable(value: Any) -> Any:
    """``value`` ready to cross to another process (exactly; other values unchanged)."""
    if hasattr(value, "_mpc_"):
        return _Portable(True, value._mpc_, value.context.dps)
    if hasattr(value, "_mpf_"):
        return _Portable(False, value._mpf_, value.context.dps)
    return value


def _from_portable(value: Any) -> Any:
    """The number :func:`_portable` made portable, in this thread's context of its precision."""
    if not isinstance(value, _Portable):
        return value
    ctx = thread_context(value.dps)
    return ctx.make_mpc(value.data) if value.complex else ctx.make_mpf(value.data)


_MP_FIELDS = (
    "symbolic",
    "finite_difference",
    "error_estimate",
    "abs_error",
    "rel_error",
    "tolerance",
    "left",
    "right",
)


def _portable_check(c: ComponentCheck) -> ComponentCheck:
    return replace(c, **{f: _portable(getattr(c, f)) for f in _MP_FIELDS})


def _restored(c: ComponentCheck) -> ComponentCheck:
    return replace(c, **{f: _from_portable(getattr(c, f)) for f in _MP_FIELDS})


# -- what is checked: the configuration and the compiled expressions ---------------------------


@dataclass(frozen=True)
class _Settings:
    """How the referee works: its digits, stencil and step, and the digits of the exact values.

    ``dps`` is the referee's precision; the exact values keep the ``exact_dps`` digits they were
    computed at (a referee given more digits to resolve a component is still compared with them).
    """

    dps: int
    scheme: str
    step: Any  # as given (None: the referee chooses its own, error-controlled)
    exact_dps: int
    step_size: sympy.Rational | None = None  # the given step's exact value

    @classmethod
    def make(cls, dps: object, scheme: object, step: Any) -> _Settings:
        digits = check_dps(dps)
        size = _validate_step(step)
        return cls(digits, _validate_scheme(scheme), step, digits, size)

    def own_step(self) -> _Settings:
        """These settings with the referee's own error-controlled step instead of a given one."""
        return replace(self, step=None, step_size=None)

    def check_step(self, problem: _Problem, points: Sequence[Sequence[sympy.Rational]]) -> None:
        """Refuse a given step wider than max(1, |x|) along a differentiated variable.

        A difference quotient over an interval wider than the point's own scale measures a
        secant, not the derivative, and its values can be astronomically large (exp(x ± 1e300)).
        """
        if self.step_size is None:
            return
        along = sorted({i for e in problem.entries for i, c in enumerate(e.counts) if c})
        for values in points:
            for i in along:
                scale = max(sympy.Integer(1), abs(values[i]))
                if self.step_size > scale:
                    x, size = problem.names[i], _number(scale)
                    msg = (
                        f"step {_number(self.step_size)} is wider than the scale of {x} at "
                        f"{x}={_number(values[i])} (max(1, |{x}|) = {size}): a difference over "
                        f"so wide an interval does not measure the derivative; give a step of at "
                        f"most {size}, or none (symgrad then chooses one)"
                    )
                    raise ConfigError(msg)

    def deeper(self, last: ComponentCheck) -> _Settings | None:
        """More digits, as many as ``last`` missed the resolution target by (None: no gain)."""
        if last.tolerance is None or not last.symbolic or not last.tolerance:
            return None
        ctx = thread_context(self.exact_dps)
        missing = float(ctx.log10(last.tolerance / (_target(self.exact_dps) * abs(last.symbolic))))
        dps = min(MAX_DPS, self.dps + math.ceil(max(missing, 0.0)) + 3)
        return replace(self, dps=dps) if dps > self.dps else None


def limits_of(limits: object) -> Limits:
    """The caps to work under: ``symgrad.Limits()`` by default."""
    if limits is None:
        return Limits()
    if not isinstance(limits, Limits):
        msg = f"limits must be a symgrad.Limits (got {type(limits).__name__})"
        raise ConfigError(msg)
    return limits


def _component_count(kind: Any, rows: int, n: int) -> int:
    """Components per point: n (gradient), n² (Hessian), rows × n (Jacobian), 1 (a partial)."""
    return (
        {"gradient": n, "hessian": n * n, "jacobian": rows * n}.get(kind, 1)
        if isinstance(kind, str)
        else 1
    )


def _cap(n_points: int, components: int, limits: Limits) -> None:
    """Refuse more points × components than ``limits.max_checks``, before any is computed."""
    what = f"components to cross-check ({n_points:,} points times {components:,} components)"
    how = (
        "check fewer points or one partial at a time, or, for a trusted job, raise the cap: "
        "check(..., limits=symgrad.Limits(max_checks=...))"
    )
    check_count("checks", n_points * components, limits.max_checks, what, how)


class _Entry(NamedTuple):
    pos: int  # position among the flattened components
    variable: str
    label: str
    row: int  # which expression (Jacobian row) is differentiated
    counts: tuple[int, ...]  # how often along each variable


@dataclass
class _Problem:
    """The compiled pieces shared by every point: the derivative, f's rows and the entries."""

    exact: Compiled
    rows: list[Compiled]  # f, or each Jacobian row, as a function of its own
    entries: list[_Entry]
    kind: str
    text: str
    limits: Limits
    terms: list[Terms]  # each row as a sum of terms: the part each partial sees
    singles: list[Compiled] | None = None

    @classmethod
    def make(
        cls, expr: Any, kind: Any, variables: VariablesSpec, limits: Limits, n_points: int
    ) -> _Problem:
        """Parse, count points × components against the cap, then differentiate (priced)."""
        exprs = [expr] if isinstance(expr, str | sympy.Expr) else list(expr)
        if kind != "jacobian" and len(exprs) != 1:
            msg = f"a list of {len(exprs)} expressions needs kind='jacobian' (got kind={kind!r})"
            raise ConfigError(msg)
        # parsed once, so that f and its derivative have the same variables
        parsed, names = resolve(exprs, variables)
        _cap(n_points, _component_count(kind, len(parsed), len(names)), limits)
        if kind == "jacobian":
            exact = jacobian(list(parsed), names, limits=limits)
        elif kind in _KINDS:
            exact = (gradient if kind == "gradient" else hessian)(parsed[0], names, limits=limits)
        else:
            wrt = [kind] if isinstance(kind, str) else list(kind)
            exact = derivative(parsed[0], *wrt, variables=names, limits=limits)
        rows = [function(e, names, limits=limits) for e in parsed]
        entries = _entries(exact, kind)
        name = kind if kind in _KINDS else f"partial {entries[0].label}"
        text = str([str(r.exprs) for r in rows]) if kind == "jacobian" else str(rows[0].exprs)
        terms = [Terms.of(r) for r in rows]
        return cls(exact, rows, entries, name, text, limits, terms)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.exact.variables]

    def evaluate(self, values: Sequence[Any], dps: int) -> list[_Eval]:
        """The exact components; one at a time only when evaluating them together raises."""
        together = _evaluate(self.exact, values, dps)
        if len(together) == len(self.entries):
            return together
        if self.singles is None:
            names = self.exact.variables
            self.singles = [function(c, names, limits=self.limits) for c in self.exact.components]
        return [_evaluate(s, values, dps)[0] for s in self.singles]


# -- one point: its values, and the finite differences of f there ------------------------------


class _Eval(NamedTuple):
    value: Any  # a finite real mpmath number, or None
    status: PointStatus  # ok, pole, domain or unreliable (digits that cannot be certified)


@dataclass
class _Differences:
    """Finite differences at one point, each computed once (Hessians reuse them).

    Each differences the part g_S of its row that the partial sees (:mod:`._terms`): the same
    derivative as f's, at the cost of the terms that hold the differentiated variables.
    """

    terms: list[Terms]
    names: list[str]
    values: list[sympy.Rational]
    dps: int  # the digits of the check, for the size of g_S
    where: str  # the point, for the referee's sentences
    kind: str  # what is checked ("jacobian" names the rows f1, f2, ...)
    cache: dict[Any, FDResult] = field(default_factory=dict)
    sizes: dict[Any, Any] = field(default_factory=dict)

    def get(
        self, row: int, counts: tuple[int, ...], scheme: str, settings: _Settings
    ) -> FDResult | None:
        """The difference of ``row`` along ``counts`` with ``scheme``, at the settings' digits.

        None when no term of the row holds a differentiated variable: the row does not depend
        on them, and the partial is exactly 0.
        """
        part = self.terms[row].part(counts)
        if part.function is None:
            return None
        step, dps = settings.step, settings.dps
        key = (row, counts, scheme, dps, step)
        if key not in self.cache:
            names = part.names(self.names)
            point = {x: self.values[k] for x, k in zip(names, part.keep, strict=True)}
            wrt = [
                item
                for x, k in zip(names, part.keep, strict=True)
                if counts[k]
                for item in (x, counts[k])
            ]
            method = "mp-complex" if scheme == "complex" else "mp"
            stencil = "central:2" if method != "mp" else scheme  # ignored by the complex step
            found = finite_difference(
                part.function,
                point,
                wrt,
                scheme=stencil,
                method=method,
                step=step,
                dps=dps,
            )
            self.cache[key] = replace(found, reason=self.reason(part, found, counts, row))
        return self.cache[key]

    def reason(self, part: Part, found: FDResult, counts: tuple[int, ...], row: int) -> str:
        """The referee's sentence with f's names; where it failed, worded as for f itself.

        A part's failure (a kink, a pole, a domain edge) names f's whole point and the partial
        as differencing f would, and the terms of f the part is made of.
        """
        if PointStatus(found.status) is _OK:
            return part.named(found.reason, self.names)
        label, name = _label(counts, self.names), _row_name(self.kind, row)
        return part.told(found.reason, self.names, self.where, label, name)

    def size(self, row: int, counts: tuple[int, ...], f: Any) -> Any:
        """min(|f|, |g_S|) at the point (``f`` is |f|): what the quotient of g_S cancels.

        Never more than |f|, so that no tolerance is looser than differencing f would give;
        |f| where g_S cannot be evaluated to the digits asked.
        """
        part = self.terms[row].part(counts)
        if part.whole:
            return f
        if part.function is None:
            return 0 * f
        key = (row, tuple(k for k, c in enumerate(counts) if c))
        if key not in self.sizes:
            g = _evaluate(part.function, [self.values[k] for k in part.keep], self.dps)[0]
            self.sizes[key] = min(f, abs(g.value)) if g.status is _OK else f
        return self.sizes[key]


@dataclass(frozen=True)
class _At(_PointData):
    """One point in a piece: its numbers in the piece's contexts, and its finite differences."""

    differences: _Differences


# -- the referee --------------------------------------------------------------------------------


class _Referee(NamedTuple):
    value: Any
    estimate: Any
    step: Any
    status: PointStatus  # ok, unreliable, domain, pole or nonsmooth
    text: str  # the reason when not ok; a note to append when ok
    sides: tuple[Any, Any] = (None, None)  # the one-sided derivatives, when the probe ran


def _referee(e: _Entry, at: _At, settings: _Settings) -> _Referee:
    """The scheme's finite difference; a one-sided one when its stencil leaves the domain.

    Where f may have a kink the finite difference probes both sides itself: ``nonsmooth`` with
    the one-sided derivatives, or agreeing sides (``left`` and ``right``) that stand in for an
    unreliable central difference.
    """
    scheme = settings.scheme
    fd = at.differences.get(e.row, e.counts, scheme, settings)
    if fd is None:
        zero = thread_context(settings.dps).zero
        return _Referee(zero, zero, None, _OK, _EXACTLY_ZERO)
    status, sides = PointStatus(fd.status), (_first(fd.left), _first(fd.right))
    if status is PointStatus.NONSMOOTH:  # the kink probe's reason names the partial
        return _Referee(None, None, fd.step, status, fd.reason, sides)
    if status in (_OK, PointStatus.UNRELIABLE):
        why = f"the finite difference at {at.where} is unreliable: {fd.reason}"
        text = why if status is PointStatus.UNRELIABLE else ""
        return _Referee(_first(fd.value), _first(fd.error_estimate), fd.step, status, text, sides)
    # f is finite at the point itself (checked before): only stencil points left the domain
    accuracy = 4 if scheme == "complex" else int(scheme.split(":")[1])
    for side in ("forward", "backward"):
        alt = at.differences.get(e.row, e.counts, f"{side}:{accuracy}", settings)
        if alt is not None and PointStatus(alt.status) is _OK:
            note = f" ({side}:{accuracy}: the {scheme} stencil leaves the domain)"
            return _Referee(_first(alt.value), _first(alt.error_estimate), alt.step, _OK, note)
    why = f"every stencil around {at.where} leaves the domain of f: {fd.reason}"
    return _Referee(None, None, 0, status, why)


_EXACTLY_ZERO = " (exactly 0: f does not depend on the variables differentiated)"


def _first(value: Any) -> Any:
    """The first component of a finite difference's value (an array or a number), or None."""
    if value is None:
        return None
    return np.asarray(value, dtype=object).reshape(-1)[0]


# -- tolerances ---------------------------------------------------------------------------------


def _target(exact_dps: int) -> Any:
    """The relative tolerance a resolved component needs: 10^-(dps/2)."""
    digits = exact_dps // TOLERANCES.resolution_digits
    return thread_context(exact_dps).mpf(10) ** -digits


def _resolves(c: ComponentCheck, exact_dps: int) -> bool:
    """Could this referee have seen an error?  An ok needs tol ≪ |exact|.

    The tolerance of an agreement must be at most 10^-(dps/2) of the exact value (an exact 0
    is resolved by any tolerance the agreement was found within).  A mismatch is decided (the
    values differ by more than the referee's error bound); ``unreliable`` is not.
    """
    if c.point_status is not _OK:
        return c.point_status is not PointStatus.UNRELIABLE
    if not c.symbolic:
        return True
    return bool(c.tolerance <= _target(exact_dps) * abs(c.symbolic))


def _tolerance(e: _Entry, at: _At, settings: _Settings, exact: Any, ref: _Referee) -> Any:
    """max(κ·error estimate, the precision floor, the accuracy of the exact value)."""
    floor = _floor(e, at, settings.dps, exact, ref.value)
    # the exact value is correct to exact_dps digits, whatever the referee's digits
    accuracy = abs(exact) * thread_context(settings.exact_dps).mpf(10) ** (
        TOLERANCES.digits_lost - settings.exact_dps
    )
    return max(TOLERANCES.fd_safety * ref.estimate, floor, accuracy)


def _floor(e: _Entry, at: _At, dps: int, *values: Any) -> Any:
    """10^-(dps-3) × the largest of |values| and |f| at the point over max(1, |x|)^m.

    A difference quotient of order m cancels the leading digits of f, so its precision is
    relative to f as much as to the derivative.  Where the referee differences the part g_S of
    a sum (:mod:`._terms`), |f| is min(|f|, |g_S|): the digits g_S's quotient cancels, and
    never a looser floor than f's.
    """
    ctx = thread_context(dps)
    along = [(at.values[k], c) for k, c in enumerate(e.counts) if c]  # not every variable
    powers = math.prod(
        [max(ctx.one, abs(ctx.mpf(v.p) / v.q)) ** c for v, c in along], start=ctx.one
    )
    largest = max(abs(v) for v in values)
    f = abs(at.rows[e.row].value)
    if f / powers > largest:  # only then can the smaller |g_S| matter
        f = at.differences.size(e.row, e.counts, f)
    scale = max(largest, f / powers)
    return scale * ctx.mpf(10) ** (TOLERANCES.digits_lost - dps)


# -- building a component's result --------------------------------------------------------------


class _Numbers(NamedTuple):
    """What a comparison measured."""

    finite_difference: Any
    error_estimate: Any
    abs_error: Any
    rel_error: Any
    tolerance: Any
    float64_ulp_error: float = math.nan


class _Known(NamedTuple):
    """What a component is known by before it is compared: names, values, one-sided sides."""

    variable: str
    label: str
    float64: float
    symbolic: Any = None
    left: Any = None
    right: Any = None

    def verdict(
        self, status: PointStatus, reason: str, numbers: _Numbers | None = None
    ) -> ComponentCheck:
        """The component with this status and reason (and the numbers, when compared)."""
        n = numbers or _Numbers(None, None, None, None, None)
        return ComponentCheck(
            variable=self.variable,
            label=self.label,
            point_status=status,
            reason=reason,
            symbolic=self.symbolic,
            finite_difference=n.finite_difference,
            error_estimate=n.error_estimate,
            abs_error=n.abs_error,
            rel_error=n.rel_error,
            tolerance=n.tolerance,
            float64=self.float64,
            float64_ulp_error=n.float64_ulp_error,
            left=self.left,
            right=self.right,
        )


# -- classifying a component (the rules of the module docstring) --------------------------------


@dataclass(frozen=True)
class _Classifier:
    """Every component at every point, by the rules of the module docstring."""

    settings: _Settings
    kind: str
    names: list[str]
    terms: list[Terms]

    def at(self, data: _PointData) -> _At:
        """One point, its numbers in this thread's contexts, and its finite differences."""
        rows, exact, at_float = (
            [_Eval(_from_portable(v), s) for v, s in evals]
            for evals in (data.rows, data.exact, data.at_float)
        )
        dps = self.settings.dps
        differences = _Differences(self.terms, self.names, data.values, dps, data.where, self.kind)
        return _At(data.values, data.where, rows, exact, at_float, data.f64, differences)

    def component(self, e: _Entry, at: _At) -> ComponentCheck:
        """f and the exact value must be finite and real; then the referee judges."""
        f0, exact = at.rows[e.row], at.exact[e.pos]
        fname = _row_name(self.kind, e.row)
        known = _Known(e.variable, e.label, float(at.f64[e.pos]))
        if f0.status is PointStatus.UNRELIABLE:  # not undefined: its digits cannot be proven
            why = f"{fname} cannot be evaluated to the digits asked at {at.where}"
            return known.verdict(f0.status, why)
        if f0.status is not _OK:
            what = (
                "is not real (outside its domain)"
                if f0.status is PointStatus.DOMAIN
                else "has a pole"
            )
            why = f"{fname} {what} at {at.where}, so {e.label} is undefined there"
            return known.verdict(f0.status, why)
        if exact.status is not _OK:
            what = {PointStatus.DOMAIN: "is not real", PointStatus.POLE: "is infinite"}.get(
                exact.status, "cannot be evaluated to the digits asked (its formula cancels)"
            )
            why = f"the symbolic {e.label} {what} at {at.where} although {fname} is finite there"
            return known.verdict(exact.status, why)
        known = known._replace(symbolic=exact.value)
        first = self.judge(e, at, known, self.settings)
        if not _resolves(first, self.settings.exact_dps):
            first = self.rescue(e, at, known, first)
        return self.confirmed(e, at, known, first)

    def confirmed(self, e: _Entry, at: _At, known: _Known, found: ComponentCheck) -> ComponentCheck:
        """A mismatch at a given step stands only when the referee's own step confirms it.

        A given step's error estimate (|D(h) − D(2h)| scaled) bounds its error only where h is
        in the asymptotic range; outside it (sin(50·x) with h = 0.1) a right derivative would
        look wrong.  The referee's own error-controlled step decides: a mismatch there too
        stands; otherwise the component is ``unreliable`` and the reason shows both.
        """
        if found.point_status is not _MISMATCH or self.settings.step is None:
            return found
        own = self.judge(e, at, known, self.settings.own_step())
        if own.point_status is _MISMATCH:
            return found
        why = (
            f"with the given step {_number(self.settings.step_size or 0)} the finite difference "
            f"gives {short(found.finite_difference, 17)} ± {short(found.error_estimate, 2)} at "
            f"{at.where}, against the symbolic {short(known.symbolic, 17)}, but "
        )
        if own.point_status is _OK:
            why += (
                f"with its own step it agrees within {short(own.tolerance, 3)}: the given step "
                "is outside the range where the difference measures the derivative; give a "
                "smaller step, or none"
            )
        else:
            why += f"its own step cannot confirm the mismatch: {own.reason}"
        return replace(found, point_status=PointStatus.UNRELIABLE, reason=why)

    def judge(self, e: _Entry, at: _At, known: _Known, settings: _Settings) -> ComponentCheck:
        """The referee's verdict with these settings: a kink, ok or mismatch, or why not."""
        ref = _referee(e, at, settings)
        known = known._replace(left=ref.sides[0], right=ref.sides[1])
        if ref.status is not _OK:
            return known.verdict(ref.status, ref.text)
        return _compare(e, at, settings, ref, known)

    def rescue(self, e: _Entry, at: _At, known: _Known, first: ComponentCheck) -> ComponentCheck:
        """More digits where the referee cannot resolve the component; else ``unreliable``.

        As many more digits as the tolerance missed the target by (up to the precision limit),
        twice at most.  A referee that still cannot resolve it leaves the component unreliable.
        """
        settings, last = self.settings, first
        for _ in range(2):
            better = settings.deeper(last)
            if better is None:
                break
            settings, result = better, self.judge(e, at, known, better)
            if result.point_status in _DECIDED and _resolves(result, settings.exact_dps):
                return replace(result, reason=f"{result.reason} (referee at {settings.dps} digits)")
            last = result if result.tolerance is not None else last
        return self.unresolved(e, at, known, last, settings)

    def unresolved(
        self, e: _Entry, at: _At, known: _Known, last: ComponentCheck, settings: _Settings
    ) -> ComponentCheck:
        """The component cannot be resolved: say how close the referee came."""
        if last.tolerance is None or last.point_status not in _DECIDED:
            return last
        digits = self.settings.exact_dps // TOLERANCES.resolution_digits
        why = (
            f"the finite difference cannot resolve {e.label} at {at.where}: it agrees only within "
            f"±{short(last.tolerance, 2)}, more than 10^-{digits} of the value "
            f"{short(known.symbolic, 6)}"
        )
        if settings.dps != self.settings.dps:
            why += f", even at {settings.dps} digits"
        # the numbers of the closest attempt, without its float64 score
        unreliable = PointStatus.UNRELIABLE
        return replace(last, point_status=unreliable, reason=why, float64_ulp_error=math.nan)


def _compare(
    e: _Entry, at: _At, settings: _Settings, ref: _Referee, known: _Known
) -> ComponentCheck:
    """ok or mismatch by the tolerance rule; then float64 in ulps, or an overflow."""
    exact, f64, at_float = known.symbolic, known.float64, at.at_float[e.pos]
    err = abs(exact - ref.value)
    tol = _tolerance(e, at, settings, exact, ref)
    status, why = _OK, f"agrees at {at.where} within {short(tol, 3)}{ref.text}"
    if err > tol:
        status = _MISMATCH
        why = (
            f"at {at.where} the symbolic value is {short(exact, 17)} but the finite "
            f"difference gives {short(ref.value, 17)} ± {short(ref.estimate, 2)}{ref.text}"
        )
    elif not math.isfinite(f64) and at_float.status is _OK:
        status = PointStatus.OVERFLOW
        # the exact derivative at the point rounded to float64, where float64 computed it (at
        # x = 1e200 a fast oscillation makes it differ from the value at the decimal point)
        why = f"float64 gives {f64} at {at.where} rounded to float64, where the exact value is "
        why += short(at_float.value)
    rel = err / abs(exact) if exact else (err if not err else None)
    numbers = _Numbers(ref.value, ref.estimate, err, rel, tol, _ulps(f64, at_float))
    return known.verdict(status, why, numbers)


def _validate_step(step: object) -> sympy.Rational | None:
    """A given step's exact value: a finite positive number (text is read by parse_number)."""
    if step is None:
        return None
    if isinstance(step, str):
        value = parse_number(step)  # a ParseError for anything but a number
    elif isinstance(step, bool) or not isinstance(step, numbers.Real):
        msg = f"step must be a positive number such as 1e-6 or '1/1024' (got {step!r})"
        raise ConfigError(msg)
    elif not math.isfinite(float(step)):
        msg = f"step must be a finite positive number (got {step!r})"
        raise ConfigError(msg)
    else:
        value = sympy.Rational(step)
    if value <= 0:
        msg = f"step must be a positive number, the width h of the stencil (got {step!r})"
        raise ConfigError(msg)
    return value


def _number(value: sympy.Rational) -> str:
    """An exact number for a sentence, 6 significant digits (any exponent)."""
    return short(thread_context(15).mpf(value.p) / value.q)


def _validate_scheme(scheme: object) -> str:
    """``"complex"`` or a stencil scheme that :mod:`symgrad.fd._finite_diff` accepts."""
    if not isinstance(scheme, str):
        msg = f"scheme must be a string such as 'central:4' or 'complex' (got {scheme!r})"
        raise ConfigError(msg)
    text = scheme.strip().lower()
    if text != "complex":
        stencils_for(text, (1,))  # raises ConfigError, with the scheme help, for anything else
    return text


def _entries(exact: Compiled, kind: Any) -> list[_Entry]:
    """Names, row and partial of every component, in row-major order."""
    names = [s.name for s in exact.variables]
    n = len(names)
    unit = [tuple(int(i == j) for j in range(n)) for i in range(n)]
    if kind == "gradient":
        return [_Entry(j, x, f"d/d{x}", 0, unit[j]) for j, x in enumerate(names)]
    if kind == "hessian":  # labelled in row, column order: entry (y, x) reads d2/dydx
        return [
            _Entry(i * n + j, f"{x},{y}", "d2/d" + (f"{x}2" if i == j else f"{x}d{y}"), 0, both)
            for i, x in enumerate(names)
            for j, y in enumerate(names)
            for both in [tuple(a + b for a, b in zip(unit[i], unit[j], strict=True))]
        ]
    if kind == "jacobian":
        return [
            _Entry(r * n + j, f"f{r + 1}/{x}", f"df{r + 1}/d{x}", r, unit[j])
            for r in range(exact.shape[0])
            for j, x in enumerate(names)
        ]
    counts = order_of(kind, exact.variables)
    variable = ",".join(x for x, c in zip(names, counts, strict=True) for _ in range(c))
    return [_Entry(0, variable, _label(counts, names), 0, counts)]


def labels(exact: Compiled, kind: str) -> list[str]:
    """Readable names of the components of ``exact``: ``d/dx``, ``d2/dxdy``, ``df2/dx``, ..."""
    return [e.label for e in _entries(exact, kind)]


def _row_name(kind: str, row: int) -> str:
    """How sentences name the function differenced: f, or a Jacobian's row f1, f2, ..."""
    return f"f{row + 1}" if kind == "jacobian" else "f"


def _label(counts: Sequence[int], names: Sequence[str]) -> str:
    """``d/dx``, ``d2/dx2``, ``d2/dxdy``, ``d3/dx2dy``."""
    below = [f"d{x}" + (str(c) if c > 1 else "") for x, c in zip(names, counts, strict=True) if c]
    m = sum(counts)
    return f"d{m if m > 1 else ''}/{''.join(below)}"


def _to_float(value: sympy.Rational) -> float:
    """The float64 nearest a rational (integer true division rounds correctly)."""
    try:
        return int(value.p) / int(value.q)
    except OverflowError:
        return math.copysign(math.inf, int(value.p))


def _evaluate(compiled: Compiled, values: Sequence[Any], dps: int) -> list[_Eval]:
    """Every component of ``compiled`` correct to ``dps`` digits, classified.

    ``values`` are Rationals or floats (taken at their exact binary value).  When evaluating
    several components together raises, returns [] so that the caller can go one at a time.
    """
    if not all(math.isfinite(v) for v in values if isinstance(v, float)):
        return [_Eval(None, PointStatus.DOMAIN)] * len(compiled.components)
    try:
        raw = settled(compiled, values, dps)
    except (ArithmeticError, ValueError, TypeError) as exc:
        if len(compiled.components) > 1:
            return []
        if isinstance(exc, LimitExceeded) and exc.limit == "unreliable":
            return [_Eval(None, PointStatus.UNRELIABLE)]  # the digits cannot be certified
        pole = isinstance(exc, ZeroDivisionError) or "pole" in str(exc)
        return [_Eval(None, PointStatus.POLE if pole else PointStatus.DOMAIN)]
    return [_classify(thread_context(dps), v) for v in raw]


def settled(compiled: Compiled, values: Sequence[Any], dps: int) -> list[Any]:
    """The components at ``dps`` correct digits (see :meth:`Compiled.exact_values`)."""
    return compiled.exact_values(values, dps)


def _classify(ctx: Any, value: Any) -> _Eval:
    """ok (finite real), domain (not real, or NaN) or pole (infinite)."""
    value = ctx.convert(value)
    if hasattr(value, "_mpc_"):
        if value.imag:
            return _Eval(None, PointStatus.DOMAIN)
        value = value.real
    if ctx.isnan(value):
        return _Eval(None, PointStatus.DOMAIN)
    return _Eval(None, PointStatus.POLE) if ctx.isinf(value) else _Eval(ctx.mpf(value), _OK)


def _ulps(f64: float, at_float: _Eval) -> float:
    """|float64 − exact| in ulps of the exact value (NaN when either is not finite)."""
    nearest = float(at_float.value) if at_float.status is _OK else math.nan
    if not (math.isfinite(f64) and math.isfinite(nearest)):
        return math.nan
    error = abs(thread_context(30).mpf(f64) - at_float.value)
    return float(error / float(np.spacing(abs(nearest))))
