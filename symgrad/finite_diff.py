"""Finite-difference partial derivatives: the independent referee of the symbolic derivative.

Three methods, one entry point (:func:`finite_difference`):

``mp`` (default)
    The stencil is applied to the compiled mpmath function in a private context at a working
    precision with guard digits.  Why guard digits: a stencil for the m-th derivative with step
    h divides rounding errors of size 10^-W |f| by h^m, so at W = dps it loses about m·k digits
    when h = 10^-k (measured: an 8th-order stencil loses dps/9 + 2 digits).  We pick
    k = ceil((dps + G)/p) so that the truncation error C h^p f^(m+p) is 10^-(dps+G), and
    W = dps + G + m·k + log10(Σ|w|).  Two steps, h and 2h, give a Richardson extrapolation and an
    a-posteriori error estimate |D(h) − D(2h)| / (2^p − 1) of D(h), which bounds the error of the
    returned value; if the estimate misses the requested digits the step shrinks (at most
    ``_MAX_REFINE`` times) and the result says so if it still cannot deliver.
``float64``
    What the user's own float64 code sees, vectorized over many points; the default step
    h = ε^(1/(p+m))·max(1, |x|) balances truncation against round-off, and the representable
    step (x + h) − x is used.
``complex``
    The complex step Im f(x + ih)/h (first derivatives of real-analytic expressions only):
    no subtraction, so no cancellation, in float64 (h = 1e-200) or at high precision.

Mixed partials use tensor products of one-dimensional stencils.
"""

from __future__ import annotations

import functools
import itertools
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
import sympy

from symgrad.codegen import Compiled, as_float_array, check_dps, round_to, thread_context
from symgrad.derivatives import function
from symgrad.errors import ConfigError
from symgrad.parse import symbol
from symgrad.stencils import Stencil
from symgrad.symbolic import Source, VariablesSpec

__all__ = [
    "METHODS",
    "FDResult",
    "finite_difference",
    "finite_difference_gradient",
    "order_of",
    "stencils_for",
]

METHODS = ("mp", "float64", "complex", "mp-complex")
_GUARD = 4  # digits of truncation error below the requested precision
_LOG2_10 = math.log2(10)
_FAST_GUARD = 8  # extra a-priori digits when there is no a-posteriori error estimate
_MAX_REFINE = 3
_NON_ANALYTIC = (sympy.Abs, sympy.sign, sympy.Min, sympy.Max, sympy.Heaviside, sympy.atan2)
_EPS = float(np.finfo(np.float64).eps)
_COMPLEX_STEP = 1e-200


@dataclass(frozen=True)
class FDResult:
    """A finite-difference estimate of one partial derivative (of every component of f).

    Attributes
    ----------
    value : numpy.ndarray
        The estimate, shaped like the function's components (object array of mpmath numbers for
        ``mp``; float64 for ``float64`` and ``complex``, with the points' shape appended).
    error_estimate : numpy.ndarray
        An estimate of the absolute error, shaped like ``value``.
    step : float or mpmath number
        The step h actually used (relative steps scale it by max(1, |x|) per axis).
    status : str
        ``ok``, ``domain`` (outside the function's real domain), ``pole``, ``overflow`` or
        ``unreliable`` (the requested digits could not be reached).
    reason : str
        One sentence explaining the status.
    method, scheme : str
        How it was computed.
    working_dps : int
        Digits carried (0 for float64).
    evaluations : int
        Function evaluations used.
    """

    value: Any
    error_estimate: Any
    step: Any
    status: str
    reason: str
    method: str
    scheme: str
    working_dps: int
    evaluations: int

    def to_dict(self) -> dict[str, Any]:
        """Plain data; numbers as strings at full precision."""
        return {
            "value": _strings(self.value),
            "error_estimate": _strings(self.error_estimate),
            "step": str(self.step),
            "status": self.status,
            "reason": self.reason,
            "method": self.method,
            "scheme": self.scheme,
            "working_dps": self.working_dps,
            "evaluations": self.evaluations,
        }


def finite_difference(
    expr: Source | Compiled,
    point: str | Mapping[str | sympy.Symbol, Any],
    wrt: str | Sequence[str | int] | None = None,
    *,
    scheme: str | Stencil = "central:2",
    method: str = "mp",
    step: Any = None,
    dps: int = 50,
    error_control: bool = True,
    variables: VariablesSpec = None,
) -> FDResult:
    """Estimate a partial derivative of ``expr`` at ``point`` by finite differences.

    Parameters
    ----------
    expr : str, sympy.Expr or Compiled
        The function (a :func:`symgrad.function` object is reused as is; a vector function
        gives the partial of every component at once).
    point : str or mapping
        ``"x=0.3, y=0.7"`` (exact decimals) for ``mp`` and ``mp-complex``; for ``float64`` and
        ``complex`` a mapping whose values may be arrays that broadcast together.
    wrt : str or sequence, optional
        ``"x"``, ``"x y"`` (∂²/∂x∂y) or ``("x", 2)``; may be omitted for one variable.
    scheme : str or Stencil
        ``"central:P"``, ``"forward:P"``, ``"backward:P"`` (accuracy P; the derivative order
        comes from ``wrt``) or a :class:`Stencil` for a single partial.
    method : {"mp", "float64", "complex", "mp-complex"}
        Guard-digit stencil at high precision; float64 stencil; float64 complex step;
        high-precision complex step.
    step : float, str or None
        The step h; None chooses one (see the module docstring).  A given step is honoured
        as an absolute step, and ``mp`` then returns the plain stencil value D(h).
    dps : int
        Digits requested for ``mp`` and ``mp-complex``.
    error_control : bool
        ``mp`` only: estimate the error from a second step 2h and refine h until the digits
        are reached (default).  False uses one step with a wider a-priori margin: twice as
        fast, but the result then carries no error estimate (NaN).

    Examples
    --------
    >>> r = finite_difference("sin(x)*y", "x=1, y=2", "x", dps=30)
    >>> r.status
    'ok'
    >>> print(r.value[()])
    1.08060461173627943480187321489
    """
    f = expr if isinstance(expr, Compiled) else function(expr, variables)
    counts = order_of(wrt, f.variables)
    return _dispatch(f, point, [counts], scheme, method, step, dps, error_control)[0]


def finite_difference_gradient(
    expr: Source | Compiled,
    point: str | Mapping[str | sympy.Symbol, Any],
    *,
    scheme: str | Stencil = "central:2",
    method: str = "mp",
    step: Any = None,
    dps: int = 50,
    error_control: bool = True,
    variables: VariablesSpec = None,
) -> tuple[FDResult, ...]:
    """Every first partial derivative at ``point``: :func:`finite_difference` per variable.

    The point is parsed and f is checked at it once for all components.

    Examples
    --------
    >>> [r.status for r in finite_difference_gradient("x*y**2", "x=1, y=2", dps=20)]
    ['ok', 'ok']
    """
    f = expr if isinstance(expr, Compiled) else function(expr, variables)
    n = len(f.variables)
    partials = [tuple(int(i == j) for j in range(n)) for i in range(n)]
    return _dispatch(f, point, partials, scheme, method, step, dps, error_control)


def _dispatch(
    f: Compiled,
    point: Any,
    partials: Sequence[tuple[int, ...]],
    scheme: str | Stencil,
    method: str,
    step: Any,
    dps: int,
    error_control: bool,
) -> tuple[FDResult, ...]:
    """Validate the method once, then compute each partial (``counts`` per variable)."""
    if method not in METHODS:
        msg = f"method must be one of {', '.join(METHODS)} (got {method!r})"
        raise ConfigError(msg)
    if method == "complex":
        return tuple(_complex_float64(f, point, _complex_axis(f, c), step) for c in partials)
    if method == "mp-complex":
        dps = check_dps(dps)
        return _complex_mp(f, point, [_complex_axis(f, c) for c in partials], step, dps)
    if method == "float64":
        return tuple(_float64(f, point, c, stencils_for(scheme, c), step) for c in partials)
    dps = check_dps(dps)
    x0 = f.point_values(point)
    try:  # f at the point itself: a pole or domain edge there is classified, not differenced
        center = _probe(f, x0, dps + _GUARD, relative=True)
        center.at(center.args)
    except _PointProblem as problem:
        terms = _Terms.build(tuple(stencils_for(scheme, partials[0])))
        failed = _failed(f, problem, "mp", terms.scheme, dps + _GUARD, 1)
        return tuple(failed for _ in partials)
    return tuple(
        _mp(f, x0, _Terms.build(tuple(stencils_for(scheme, c))), step, dps, error_control)
        for c in partials
    )


def order_of(
    wrt: str | Sequence[str | int] | None, variables: Sequence[sympy.Symbol]
) -> tuple[int, ...]:
    """How many times to differentiate along each variable: ``("x", 2, "y")`` → (2, 1)."""
    if wrt is None:
        if len(variables) != 1:
            names = [v.name for v in variables]
            msg = f"wrt is needed when there are several variables ({names}); e.g. wrt='x'"
            raise ConfigError(msg)
        wrt = variables[0].name
    items: list[str | int] = (
        list(wrt.replace(",", " ").split()) if isinstance(wrt, str) else list(wrt)
    )
    counts = dict.fromkeys(variables, 0)
    last: sympy.Symbol | None = None
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            if last is None or item < 1:
                msg = f"a count in wrt must follow a variable and be >= 1 (got {item!r})"
                raise ConfigError(msg)
            counts[last] += item - 1
            continue
        last = symbol(str(item))
        if last not in counts:
            msg = f"wrt names {last}, which is not among the variables {list(variables)}"
            raise ConfigError(msg)
        counts[last] += 1
    if not any(counts.values()):
        msg = "wrt must name at least one variable to differentiate with respect to"
        raise ConfigError(msg)
    return tuple(counts[v] for v in variables)


def stencils_for(scheme: str | Stencil, counts: Sequence[int]) -> list[Stencil | None]:
    """One stencil per variable (None where it is not differentiated)."""
    if isinstance(scheme, Stencil):
        active = [c for c in counts if c]
        if len(active) != 1 or active[0] != scheme.derivative:
            msg = (
                f"a Stencil for derivative {scheme.derivative} fits a single partial of that "
                f"order; for mixed partials give a scheme string such as 'central:4'"
            )
            raise ConfigError(msg)
        return [scheme if c else None for c in counts]
    kind, _, accuracy = str(scheme).strip().lower().partition(":")
    if kind == "complex":
        msg = "the complex step is a method, not a stencil: use method='complex'"
        raise ConfigError(msg)
    return [_stencil(f"{kind}:{accuracy}:d{c}") if c else None for c in counts]


@functools.cache
def _stencil(spec: str) -> Stencil:
    """Stencils are immutable and exact: build each one once per process."""
    return Stencil.parse(spec)


# -- arbitrary precision --------------------------------------------------------------------


def _probe(f: Compiled, x0: Sequence[sympy.Rational], work: int, *, relative: bool) -> _Probe:
    """A probe per (function, point, precision), reused across the partials of one call."""
    cache: dict[tuple[Any, ...], _Probe] = _PROBES.__dict__.setdefault("cache", {})
    key = (id(f), tuple(x0), work, relative)
    if key not in cache or cache[key].f is not f:
        if len(cache) > 64:
            cache.clear()
        cache[key] = _Probe(f, x0, work, relative=relative)
    return cache[key]


_PROBES = threading.local()


class _Probe:
    """f compiled at one working precision, around one point, with classified evaluation."""

    def __init__(
        self, f: Compiled, x0: Sequence[sympy.Rational], work: int, *, relative: bool = True
    ) -> None:
        self.f = f
        self.ctx, self.fn = f.mp_function(work)
        self.work = work
        self.args = [self.ctx.mpf(v.p) / v.q for v in x0]
        one = self.ctx.one
        self.scales = [max(one, abs(a)) if relative else one for a in self.args]

    def at(self, args: Sequence[Any]) -> list[Any]:
        """f(args) as real context numbers, or a ``_PointProblem`` saying what went wrong."""
        ctx = self.ctx
        mpf = ctx.mpf
        try:
            values = [v if type(v) is mpf else ctx.convert(v) for v in self.fn(*args)]
        except ZeroDivisionError as exc:
            raise _PointProblem(ctx, args, status="pole") from exc
        except (ValueError, TypeError) as exc:
            raise _PointProblem(ctx, args, status="domain") from exc
        for v in values:
            if type(v) is not mpf or ctx.isnan(v):
                raise _PointProblem(ctx, args, status="domain")
            if ctx.isinf(v):
                raise _PointProblem(ctx, args, status="pole")
        return values

    def stencil_sum(self, terms: _Terms, h: Any) -> tuple[list[Any], Any]:
        """Σ w f(x + h·shift) / (den · h^m) over the tensor-product terms; and max |f| seen."""
        ctx, totals, scale = self.ctx, None, self.ctx.zero
        # each axis' shifted coordinates, computed once per distinct offset
        moved = [
            [a + (h * c) * o.numerator / o.denominator if o else a for o in offsets]
            for a, c, offsets in zip(self.args, self.scales, terms.offsets, strict=True)
        ]
        for weight, where in terms.items:
            values = self.at([axis[i] for axis, i in zip(moved, where, strict=True)])
            scale = max(scale, *map(abs, values))
            if totals is None:
                totals = [v * weight for v in values]
            else:
                totals = [t + v * weight for t, v in zip(totals, values, strict=True)]
        assert totals is not None
        scales = (c**k for c, k in zip(self.scales, terms.counts, strict=True))
        divisor = terms.den * math.prod(scales, start=ctx.one) * h**terms.m
        return [t / divisor for t in totals], scale


@dataclass(frozen=True)
class _Terms:
    """A tensor-product stencil as integer weights over one common denominator.

    Summing integer multiples of f values and dividing once keeps the sum exact up to the
    single rounding of each f value.
    """

    items: tuple[tuple[int, tuple[int, ...]], ...]  # (integer weight, offset index per axis)
    offsets: tuple[tuple[Fraction, ...], ...]  # the distinct offsets used on each axis
    den: int
    counts: tuple[int, ...]
    m: int
    p: int
    weight_digits: int
    scheme: str

    @classmethod
    @functools.cache
    def build(cls, stencils: tuple[Stencil | None, ...]) -> _Terms:
        axes = [
            [(Fraction(0), Fraction(1))]
            if s is None
            else [(o, w) for o, w in zip(s.offsets, s.weights, strict=True) if w]
            for s in stencils
        ]
        combos = [
            (math.prod((w for _, w in c), start=Fraction(1)), tuple(o for o, _ in c))
            for c in itertools.product(*axes)
        ]
        den = math.lcm(*(w.denominator for w, _ in combos))
        live = [s for s in stencils if s is not None]
        weights = sum(math.log10(sum(abs(float(w)) for w in s.weights)) for s in live)
        offsets = tuple(
            tuple(sorted({shift[i] for _, shift in combos})) for i in range(len(stencils))
        )
        return cls(
            tuple(
                ((w * den).numerator, tuple(offsets[i].index(o) for i, o in enumerate(shift)))
                for w, shift in combos
            ),
            offsets,
            den,
            tuple(0 if s is None else s.derivative for s in stencils),
            sum(s.derivative for s in live),
            min(s.accuracy for s in live),
            math.ceil(max(weights, 0.0)),
            "+".join(f"{s.kind}:{s.accuracy}:d{s.derivative}" for s in live),
        )


class _PointProblem(Exception):
    """A point where f is not a finite real number (the message is built only if shown)."""

    def __init__(self, ctx: Any, args: Sequence[Any], *, status: str) -> None:
        super().__init__(status)
        self.status = status
        self.args_at = [ctx.nstr(a, 8) for a in args]

    @property
    def where(self) -> str:
        return "(" + ", ".join(self.args_at) + ")"


def _work_digits(terms: _Terms, dps: int, k: float) -> int:
    """Working digits: rounding errors 10^-W |f| are amplified by Σ|w| / h^m = 10^(w + m k)."""
    return dps + _GUARD + math.ceil(terms.m * max(k, 0.0)) + terms.weight_digits + 3


def _mp(
    f: Compiled,
    x0: Sequence[sympy.Rational],
    terms: _Terms,
    step: Any,
    dps: int,
    error_control: bool,
) -> FDResult:
    """Guard-digit stencil; with error control, a Richardson pair and step refinement."""
    given = None if step is None else _mp_number(thread_context(dps), step)
    k = (dps + _GUARD) / terms.p if given is None else -float(thread_context(dps).log10(abs(given)))
    if not error_control and given is None:
        k += _FAST_GUARD / terms.p  # no a-posteriori check: buy a wider margin a priori
    evaluations = 0
    for attempt in range(_MAX_REFINE + 1):
        probe = _probe(f, x0, _work_digits(terms, dps, k), relative=given is None)
        ctx = probe.ctx
        # an automatic step is a power of two, so x + s*h is exact for small offsets s
        h = (
            ctx.convert(given)
            if given is not None
            else ctx.ldexp(ctx.one, -math.ceil(k * _LOG2_10))
        )
        try:
            fine, scale = probe.stencil_sum(terms, h)
            if not error_control:
                return _finish(
                    f,
                    fine,
                    None,
                    h,
                    "ok",
                    f"a-priori step at {probe.work} working digits",
                    terms,
                    probe,
                    dps,
                    evaluations + len(terms.items),
                )
            coarse, _ = probe.stencil_sum(terms, 2 * h)
        except _PointProblem as problem:
            return _failed(f, problem, "mp", terms.scheme, probe.work, evaluations)
        evaluations += 2 * len(terms.items)
        # D(h) - D(2h) = (1 - 2^p) C h^p f^(m+p) + ...: an estimate of the error of D(h), and
        # an upper bound, by a wide margin, of the error of the extrapolated value.
        factor = ctx.mpf(2) ** terms.p - 1
        est = [abs(a - b) / factor for a, b in zip(fine, coarse, strict=True)]
        value = (
            fine
            if given is not None
            else [a + (a - b) / factor for a, b in zip(fine, coarse, strict=True)]
        )
        tol = ctx.mpf(10) ** -dps * max([abs(v) for v in value] + [scale])
        worst = max(est)
        if given is not None or worst <= tol:
            return _finish(
                f,
                value,
                est,
                h,
                "ok",
                f"error estimate {ctx.nstr(worst, 3)} at {probe.work} working digits",
                terms,
                probe,
                dps,
                evaluations,
            )
        if attempt < _MAX_REFINE:
            k += float(ctx.log10(worst / tol)) / terms.p + 1  # shrink h by the missing digits
    reason = f"after {_MAX_REFINE} refinements the error estimate {ctx.nstr(worst, 3)} still exceeds 10^-{dps} relative; the point may be near a singularity"
    return _finish(f, value, est, h, "unreliable", reason, terms, probe, dps, evaluations)


def _finish(
    f: Compiled,
    value: list[Any],
    est: list[Any] | None,
    h: Any,
    status: str,
    reason: str,
    terms: _Terms,
    probe: _Probe,
    dps: int,
    evaluations: int,
) -> FDResult:
    """Round to the requested digits in this thread's dps context."""
    final = thread_context(dps)
    estimate = (
        _shaped([round_to(final, e) for e in est], f.shape)
        if est is not None
        else np.full(f.shape, np.nan)
    )
    return FDResult(
        _shaped([round_to(final, v) for v in value], f.shape),
        estimate,
        round_to(final, h),
        status,
        reason,
        "mp",
        terms.scheme,
        probe.work,
        evaluations,
    )


def _failed(
    f: Compiled, problem: _PointProblem, method: str, scheme: str, work: int, evaluations: int
) -> FDResult:
    nan = np.full(f.shape, np.nan)
    words = {"pole": "has a pole", "domain": "is not real", "overflow": "overflows"}
    reason = f"f {words.get(problem.status, 'fails')} at {problem.where}"
    return FDResult(nan, nan, 0, problem.status, reason, method, scheme, work, evaluations)


# -- float64 and complex step -----------------------------------------------------------------


def _float64(
    f: Compiled, point: Any, counts: Sequence[int], stencils: list[Stencil | None], step: Any
) -> FDResult:
    """Vectorized float64 stencil with the representable-step trick and an error estimate.

    The estimate adds twice the truncation error of D(h) estimated from D(2h) (as in the mp
    method) to the round-off bound ε·Σ|w|·max|f| / h^m.
    """
    x = _float_point(f, point)
    live = [s for s in stencils if s is not None]
    p, m = min(s.accuracy for s in live), sum(counts)
    base = _EPS ** (1 / (p + m)) if step is None else float(step)
    # relative steps, made exactly representable: (x + h) - x is the step the computer takes
    steps = [
        ((xi + base * np.maximum(1.0, np.abs(xi))) - xi) if step is None else np.full_like(xi, base)
        for xi in x
    ]
    fine, f_max = _stencil_f64(f, x, stencils, steps)
    coarse, _ = _stencil_f64(f, x, stencils, [2 * h for h in steps])
    weights = math.prod(sum(abs(float(w)) for w in s.weights) for s in live)
    h_m = math.prod(
        (h**s.derivative for s, h in zip(stencils, steps, strict=True) if s is not None),
        start=np.ones(()),
    )
    # twice the leading-order estimate: a bound even when the next term is not small
    est = 2 * np.abs(fine - coarse) / (2**p - 1) + _EPS * weights * f_max / h_m
    scheme = "+".join(f"{s.kind}:{s.accuracy}:d{s.derivative}" for s in live)
    used = steps[list(counts).index(next(c for c in counts if c))]
    return FDResult(
        fine, est, used, "ok", f"float64 {scheme}", "float64", scheme, 0, 2 * _points(live)
    )


def _stencil_f64(
    f: Compiled, x: list[Any], stencils: list[Stencil | None], steps: list[Any]
) -> tuple[Any, Any]:
    """The tensor-product stencil sum in float64, and the largest |f| it touched."""
    total: Any = 0.0
    f_max: Any = 0.0
    axes = [
        [(Fraction(0), Fraction(1))]
        if s is None
        else [(o, w) for o, w in zip(s.offsets, s.weights, strict=True) if w]
        for s in stencils
    ]
    for combo in itertools.product(*axes):
        weight = float(math.prod((w for _, w in combo), start=Fraction(1)))
        shifted = [xi + float(o) * hi for xi, (o, _), hi in zip(x, combo, steps, strict=True)]
        values = f(*shifted)
        f_max = np.maximum(f_max, np.abs(values))
        total = total + weight * values
    divisor = math.prod(
        (h**s.derivative for s, h in zip(stencils, steps, strict=True) if s is not None),
        start=np.ones(()),
    )
    return total / divisor, f_max


def _points(stencils: Sequence[Stencil]) -> int:
    """Evaluations of one tensor-product stencil."""
    return math.prod(sum(1 for w in s.weights if w) for s in stencils)


_ANALYTIC: dict[int, tuple[Compiled, bool]] = {}


def _is_real_analytic(f: Compiled) -> bool:
    """No abs, sign, min, max or atan2 in f (answered once per compiled function)."""
    known = _ANALYTIC.get(id(f))
    if known is None or known[0] is not f:
        if len(_ANALYTIC) > 256:
            _ANALYTIC.clear()
        known = _ANALYTIC[id(f)] = (f, not any(e.has(*_NON_ANALYTIC) for e in f.components))
    return known[1]


def _complex_axis(f: Compiled, counts: Sequence[int]) -> int:
    """The one axis of a first derivative, after checking the expression is real-analytic."""
    if sum(counts) != 1:
        msg = "the complex step gives first derivatives only; use a stencil for higher orders"
        raise ConfigError(msg)
    if not _is_real_analytic(f):
        msg = (
            "the complex step needs a real-analytic expression (no abs, sign, min, max, atan2); "
            "use a stencil such as scheme='central:4'"
        )
        raise ConfigError(msg)
    return list(counts).index(1)


def _complex_float64(f: Compiled, point: Any, axis: int, step: Any) -> FDResult:
    """Im f(x + i h e_j)/h in float64, vectorized; h = 1e-200 by default."""
    x = _float_point(f, point)
    h = _COMPLEX_STEP if step is None else float(step)
    shifted = [xi + (1j * h if j == axis else 0) for j, xi in enumerate(x)]
    value = f.complex_call(*shifted).imag / h
    est = np.abs(value) * _EPS
    return FDResult(value, est, h, "ok", f"complex step h = {h:.0e}", "complex", "complex", 0, 1)


def _complex_mp(
    f: Compiled, point: Any, axes: Sequence[int], step: Any, dps: int
) -> tuple[FDResult, ...]:
    """High-precision complex step Im f(x + ih)/h: no cancellation, so few guard digits.

    f is first evaluated at the point itself, where it must be real: a point outside the real
    domain (log at -1) would otherwise give a large, meaningless imaginary part.
    """
    x0 = f.point_values(point)
    work = dps + _GUARD + 3
    probe = _probe(f, x0, work, relative=True)
    ctx, fn = probe.ctx, probe.fn
    h = ctx.mpf(10) ** -(dps + _GUARD) if step is None else _mp_number(ctx, step)
    try:
        probe.at(probe.args)
    except _PointProblem as problem:
        failed = _failed(f, problem, "mp-complex", "complex", work, 1)
        return tuple(failed for _ in axes)
    final, shift = thread_context(dps), ctx.mpc(0, h)
    rounding, truncation = ctx.mpf(10) ** -(dps + 2), h * h  # error model: one rounding + h^2
    results = []
    for axis in axes:
        args = list(probe.args)
        args[axis] = args[axis] + shift
        try:
            values = [ctx.im(v) / h for v in fn(*args)]
        except (ZeroDivisionError, ValueError, TypeError) as exc:
            trouble = _PointProblem(
                ctx, args, status="pole" if isinstance(exc, ZeroDivisionError) else "domain"
            )
            results.append(_failed(f, trouble, "mp-complex", "complex", work, 1))
            continue
        est = [abs(v) * rounding + truncation for v in values]
        results.append(
            FDResult(
                _shaped([round_to(final, v) for v in values], f.shape),
                _shaped([round_to(final, e) for e in est], f.shape),
                round_to(final, h),
                "ok",
                f"complex step at {work} digits",
                "mp-complex",
                "complex",
                work,
                1,
            )
        )
    return tuple(results)


def _float_point(f: Compiled, point: Any) -> list[npt.NDArray[np.float64]]:
    if isinstance(point, str):
        return [np.asarray(float(v)) for v in f.point_values(point)]
    given = {str(k): v for k, v in dict(point).items()}
    missing = [v.name for v in f.variables if v.name not in given]
    if missing:
        msg = f"the point gives no value for {missing}"
        raise ConfigError(msg)
    arrays = [as_float_array(given[v.name], v.name) for v in f.variables]
    return list(np.broadcast_arrays(*arrays))


def _mp_number(ctx: Any, value: Any) -> Any:
    if isinstance(value, str):
        from symgrad.parse import parse_number  # noqa: PLC0415

        r = parse_number(value)
        return ctx.mpf(r.p) / r.q
    return ctx.convert(value)


def _shaped(values: list[Any], shape: tuple[int, ...]) -> Any:
    return np.array(values, dtype=object).reshape(shape)


def _strings(values: Any) -> Any:
    array = np.asarray(values, dtype=object)
    return [str(v) for v in array.reshape(-1)] if array.shape else str(array[()])
