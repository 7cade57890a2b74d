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

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
import sympy

from symgrad.codegen import Compiled, as_float_array, check_dps, thread_context
from symgrad.derivatives import function
from symgrad.errors import ConfigError
from symgrad.parse import symbol
from symgrad.stencils import Stencil
from symgrad.symbolic import Source, VariablesSpec

__all__ = ["METHODS", "FDResult", "finite_difference", "order_of", "stencils_for"]

METHODS = ("mp", "float64", "complex", "mp-complex")
_GUARD = 4  # digits of truncation error below the requested precision
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
    variables: VariablesSpec = None,
) -> FDResult:
    """Estimate a partial derivative of ``expr`` at ``point`` by finite differences.

    Parameters
    ----------
    expr : str, sympy.Expr or Compiled
        The function (a :func:`symgrad.function` object is reused as is).
    point : str or mapping
        ``"x=0.3, y=0.7"`` (exact decimals) for ``mp``; for ``float64`` and ``complex`` the
        mapping's values may be arrays that broadcast together.
    wrt : str or sequence, optional
        ``"x"``, ``"x y"`` (∂²/∂x∂y) or ``("x", 2)``; may be omitted for one variable.
    scheme : str or Stencil
        ``"central:P"``, ``"forward:P"``, ``"backward:P"`` (accuracy P; the derivative order
        comes from ``wrt``) or a :class:`Stencil` for a single partial.
    method : {"mp", "float64", "complex", "mp-complex"}
        Guard-digit stencil at high precision; float64 stencil; float64 complex step;
        high-precision complex step.
    step : float, str or None
        The step h; None chooses one (see the module docstring).  A given step is honoured.
    dps : int
        Digits requested for ``mp`` and high-precision ``complex``.

    Examples
    --------
    >>> r = finite_difference("sin(x)*y", "x=1, y=2", "x", dps=30)
    >>> r.status, abs(r.value[()] - 2*__import__("mpmath").cos(1)) < 1e-29
    ('ok', True)
    """
    f = expr if isinstance(expr, Compiled) else function(expr, variables)
    counts = order_of(wrt, f.variables)
    if method not in METHODS:
        msg = f"method must be one of {', '.join(METHODS)} (got {method!r})"
        raise ConfigError(msg)
    if method in ("complex", "mp-complex"):
        axis = _complex_axis(f, counts)
        if method == "complex":
            return _complex_float64(f, point, axis, step)
        return _complex_mp(f, point, axis, step, check_dps(dps))
    stencils = stencils_for(scheme, counts)
    if method == "float64":
        return _float64(f, point, counts, stencils, step)
    return _mp(f, point, counts, stencils, step, check_dps(dps))


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
    return [Stencil.parse(f"{kind}:{accuracy}:d{c}") if c else None for c in counts]


# -- arbitrary precision --------------------------------------------------------------------


def _mp(
    f: Compiled,
    point: Any,
    counts: Sequence[int],
    stencils: list[Stencil | None],
    step: Any,
    dps: int,
) -> FDResult:
    """Guard-digit stencil with a Richardson pair and a-posteriori error control."""
    x0 = f.point_values(point)
    plan = _Plan.make(stencils, counts, dps, step)
    ctx, fn = f.mp_function(plan.work)
    try:  # f at the point itself: a pole or domain edge there is classified, not differenced
        _evaluate(ctx, fn, [ctx.mpf(v.p) / v.q for v in x0])
    except _PointProblem as problem:
        return _failed(f, problem, "mp", plan.scheme, plan.work, 1)
    evaluations = 1
    for attempt in range(_MAX_REFINE + 1):
        ctx, fn = f.mp_function(plan.work)
        try:
            fine = _tensor_mp(ctx, fn, x0, stencils, plan.steps(ctx, x0, 1))
            coarse = _tensor_mp(ctx, fn, x0, stencils, plan.steps(ctx, x0, 2))
        except _PointProblem as problem:
            return _failed(f, problem, "mp", plan.scheme, plan.work, evaluations)
        evaluations += 2 * _points(stencils)
        # D(h) - D(2h) = (1 - 2^p) C h^p f^(m+p) + ...: the error of D(h), and of the
        # extrapolated value by a wide margin.
        factor = ctx.mpf(2) ** plan.p - 1
        est = [abs(a - b) / factor for a, b in zip(fine.values, coarse.values, strict=True)]
        value = fine.values
        if step is None:
            value = [a + (a - b) / factor for a, b in zip(fine.values, coarse.values, strict=True)]
        tol = ctx.mpf(10) ** -dps * max([abs(v) for v in value] + [fine.scale])
        worst = max(est)
        if step is not None or worst <= tol or attempt == _MAX_REFINE:
            break
        plan = plan.refined(float(ctx.log10(worst / tol)))
    status, reason = "ok", f"error estimate {ctx.nstr(worst, 3)} at {plan.work} working digits"
    if worst > tol:
        status = "unreliable"
        reason = f"the error estimate {ctx.nstr(worst, 3)} exceeds 10^-{dps} relative" + (
            " with the given step" if step is not None else "; the point may be near a singularity"
        )
    final = thread_context(dps)
    return FDResult(
        _shaped([final.convert(v) for v in value], f.shape),
        _shaped([final.convert(e) for e in est], f.shape),
        final.convert(plan.steps(ctx, x0, 1)[counts.index(next(c for c in counts if c))]),
        status,
        reason,
        "mp",
        plan.scheme,
        plan.work,
        evaluations,
    )


@dataclass(frozen=True)
class _Plan:
    """Step exponent k (h = 10^-k, relative to max(1, |x|) per axis) and working digits."""

    k: float
    work: int
    p: int
    m: int
    weight_digits: int
    dps: int
    given: Any
    scheme: str

    @classmethod
    def make(
        cls, stencils: list[Stencil | None], counts: Sequence[int], dps: int, step: Any
    ) -> _Plan:
        live = [s for s in stencils if s is not None]
        p, m = min(s.accuracy for s in live), sum(counts)
        weights = sum(math.log10(sum(abs(float(w)) for w in s.weights)) for s in live)
        k = (dps + _GUARD) / p if step is None else -math.log10(abs(float(step)))
        scheme = "+".join(f"{s.kind}:{s.accuracy}:d{s.derivative}" for s in live)
        plan = cls(0.0, 0, p, m, math.ceil(max(weights, 0.0)), dps, step, scheme)
        return plan.with_k(k)

    def with_k(self, k: float) -> _Plan:
        # rounding errors 10^-W |f| are amplified by Σ|w| / h^m = 10^(weights + m k)
        work = self.dps + _GUARD + math.ceil(self.m * max(k, 0.0)) + self.weight_digits + 3
        return _Plan(k, work, self.p, self.m, self.weight_digits, self.dps, self.given, self.scheme)

    def refined(self, missing_digits: float) -> _Plan:
        """Shrink h so the truncation error drops by the missing digits (and a margin)."""
        return self.with_k(self.k + max(missing_digits, 0.0) / self.p + 1)

    def steps(self, ctx: Any, x0: Sequence[Any], factor: int) -> list[Any]:
        if self.given is not None:
            return [factor * _mp_number(ctx, self.given)] * len(x0)
        h = ctx.mpf(10) ** -self.k
        return [factor * h * max(ctx.one, abs(ctx.mpf(v.p) / v.q)) for v in x0]


@dataclass(frozen=True)
class _Tensor:
    values: list[Any]
    scale: Any  # largest |f| seen, for an absolute floor of the tolerance


class _PointProblem(Exception):
    """A stencil point where f is not a finite real number."""

    def __init__(self, where: str, *, status: str) -> None:
        super().__init__(where)
        self.status = status
        self.where = where


def _tensor_mp(
    ctx: Any, fn: Any, x0: Sequence[Any], stencils: list[Stencil | None], steps: list[Any]
) -> _Tensor:
    """Σ over the tensor-product stencil of Π w_i · f(x + Σ s_i h_i e_i) / Π h_i^m_i."""
    args = [ctx.mpf(v.p) / v.q for v in x0]
    axes = [
        [(Fraction(0), Fraction(1))]
        if s is None
        else [(o, w) for o, w in zip(s.offsets, s.weights, strict=True) if w]
        for s in stencils
    ]
    combos = [
        (math.prod((w for _, w in combo), start=Fraction(1)), combo)
        for combo in itertools.product(*axes)
    ]
    # integer weights over one common denominator: the sum is exact until the single division
    den = math.lcm(*(weight.denominator for weight, _ in combos))
    totals: list[Any] | None = None
    scale = ctx.zero
    for weight, combo in combos:
        shifted = [
            a + (ctx.mpf(o.numerator) / o.denominator) * h if o else a
            for a, (o, _), h in zip(args, combo, steps, strict=True)
        ]
        values = _evaluate(ctx, fn, shifted)
        scale = max([scale] + [abs(v) for v in values])
        term = [v * (weight * den).numerator for v in values]
        totals = term if totals is None else [t + u for t, u in zip(totals, term, strict=True)]
    assert totals is not None
    divisor = den * math.prod(
        (h**s.derivative for s, h in zip(stencils, steps, strict=True) if s is not None),
        start=ctx.one,
    )
    return _Tensor([t / divisor for t in totals], scale)


def _evaluate(ctx: Any, fn: Any, args: list[Any]) -> list[Any]:
    """Evaluate and classify: a pole, a point outside the real domain, an overflow."""
    where = "(" + ", ".join(ctx.nstr(a, 8) for a in args) + ")"
    try:
        values = list(fn(*args))
    except ZeroDivisionError as exc:
        raise _PointProblem(where, status="pole") from exc
    except (ValueError, TypeError) as exc:
        raise _PointProblem(where, status="domain") from exc
    for v in values:
        if isinstance(v, ctx.mpc) or (hasattr(v, "imag") and v.imag):
            raise _PointProblem(where, status="domain")
        if ctx.isnan(v):
            raise _PointProblem(where, status="domain")
        if ctx.isinf(v):
            raise _PointProblem(where, status="pole")
    return [ctx.convert(v) for v in values]


def _failed(
    f: Compiled, problem: _PointProblem, method: str, scheme: str, work: int, evaluations: int
) -> FDResult:
    nan = np.full(f.shape, np.nan)
    words = {"pole": "has a pole", "domain": "is not real", "overflow": "overflows"}
    reason = f"f {words.get(problem.status, 'fails')} at the stencil point {problem.where}"
    return FDResult(nan, nan, 0, problem.status, reason, method, scheme, work, evaluations)


def _points(stencils: list[Stencil | None]) -> int:
    return math.prod(sum(1 for w in s.weights if w) for s in stencils if s is not None)


# -- float64 and complex step -----------------------------------------------------------------


def _float64(
    f: Compiled, point: Any, counts: Sequence[int], stencils: list[Stencil | None], step: Any
) -> FDResult:
    """Vectorized float64 stencil with the representable-step trick."""
    x = _float_point(f, point)
    live = [s for s in stencils if s is not None]
    p, m = min(s.accuracy for s in live), sum(counts)
    base = _EPS ** (1 / (p + m)) if step is None else float(step)
    steps = [
        ((xi + base * np.maximum(1.0, np.abs(xi))) - xi)
        if s is not None and step is None
        else np.full_like(xi, base)
        for xi, s in zip(x, stencils, strict=True)
    ]
    total: Any = 0.0
    evaluations = 0
    axes = [
        [(Fraction(0), Fraction(1))]
        if s is None
        else [(o, w) for o, w in zip(s.offsets, s.weights, strict=True) if w]
        for s in stencils
    ]
    for combo in itertools.product(*axes):
        weight = float(math.prod((w for _, w in combo), start=Fraction(1)))
        shifted = [xi + float(o) * hi for xi, (o, _), hi in zip(x, combo, steps, strict=True)]
        total = total + weight * f(*shifted)
        evaluations += 1
    divisor = math.prod(
        (h**s.derivative for s, h in zip(stencils, steps, strict=True) if s is not None),
        start=np.ones(()),
    )
    value = total / divisor
    c = max(abs(float(s.error_coefficient)) for s in live)
    est = np.abs(c * base**p) + _EPS / base**m  # truncation and round-off models, relative scale
    scheme = "+".join(f"{s.kind}:{s.accuracy}:d{s.derivative}" for s in live)
    reason = f"float64 {scheme} with step {base:.3g}"
    return FDResult(
        value,
        est * np.maximum(1.0, np.abs(value)),
        base,
        "ok",
        reason,
        "float64",
        scheme,
        0,
        evaluations,
    )


def _complex_axis(f: Compiled, counts: Sequence[int]) -> int:
    """The one axis of a first derivative, after checking the expression is real-analytic."""
    if sum(counts) != 1:
        msg = "the complex step gives first derivatives only; use a stencil for higher orders"
        raise ConfigError(msg)
    if any(e.has(*_NON_ANALYTIC) for e in f.components):
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


def _complex_mp(f: Compiled, point: Any, axis: int, step: Any, dps: int) -> FDResult:
    """High-precision complex step: no cancellation, so few guard digits are needed."""
    x0 = f.point_values(point)
    work = dps + _GUARD + 3
    ctx, fn = f.mp_function(work)
    h = ctx.mpf(10) ** -(dps + _GUARD) if step is None else _mp_number(ctx, step)
    args = [ctx.mpf(v.p) / v.q + (ctx.mpc(0, h) if j == axis else 0) for j, v in enumerate(x0)]
    where = "(" + ", ".join(str(v) for v in x0) + ")"
    try:
        values = [ctx.im(ctx.convert(v)) / h for v in fn(*args)]
    except ZeroDivisionError:
        return _failed(f, _PointProblem(where, status="pole"), "complex", "complex", work, 1)
    except (ValueError, TypeError):
        return _failed(f, _PointProblem(where, status="domain"), "complex", "complex", work, 1)
    final = thread_context(dps)
    est = [abs(v) * ctx.mpf(10) ** -(dps + 2) + h**2 for v in values]
    return FDResult(
        _shaped([final.convert(v) for v in values], f.shape),
        _shaped([final.convert(e) for e in est], f.shape),
        final.convert(h),
        "ok",
        f"complex step at {work} digits",
        "complex",
        "complex",
        work,
        1,
    )


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
