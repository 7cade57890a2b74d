"""The arbitrary-precision stencil engine behind :func:`symgrad.finite_difference`.

A stencil for the m-th derivative with step h divides rounding errors of size 10^-W |f| by h^m,
so at W = dps digits it loses about m·k digits when h = 10^-k (measured: an 8th-order stencil
loses dps/9 + 2 digits).  We pick k = (dps + G)/p so that the truncation error C h^p f^(m+p) is
10^-(dps+G), and W = dps + G + m·k + log10(Σ|w|).  Two steps, h and 2h, give a Richardson
extrapolation and an a-posteriori estimate |D(h) − D(2h)| / (2^p − 1) of the error of D(h),
which bounds the error of the returned value; if the estimate misses the requested digits the
step shrinks (at most ``_MAX_REFINE`` times) and the result says so if it still cannot deliver.
Mixed partials are tensor products of one-dimensional stencils.
"""

from __future__ import annotations

import functools
import itertools
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from symgrad._precision import round_to, thread_context
from symgrad.derive import Compiled
from symgrad.fd._stencils import Stencil

__all__ = ["FDResult"]

_GUARD = 4  # digits of truncation error below the requested precision
_LOG2_10 = math.log2(10)
_FAST_GUARD = 8  # extra a-priori digits when there is no a-posteriori error estimate
_MAX_REFINE = 3


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


def _mp_number(ctx: Any, value: Any) -> Any:
    if isinstance(value, str):
        from symgrad.expr import parse_number  # noqa: PLC0415

        r = parse_number(value)
        return ctx.mpf(r.p) / r.q
    return ctx.convert(value)


def _shaped(values: list[Any], shape: tuple[int, ...]) -> Any:
    return np.array(values, dtype=object).reshape(shape)


def _strings(values: Any) -> Any:
    array = np.asarray(values, dtype=object)
    return [str(v) for v in array.reshape(-1)] if array.shape else str(array[()])
