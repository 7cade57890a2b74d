"""The sweeps behind :func:`symgrad.convergence`: every scheme at every step, one precision.

A job fixes the schemes (stencils with exact integer weights, the complex step, Richardson),
the steps and the working precision, chosen so that round-off never reaches the truncation
errors being measured: W = dps + guard + k·(m + p_max) + log10 Σ|w| for h_min = 10^-k.  The
sweeps return the raw values; :mod:`symgrad.fd._convergence` analyses them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from symgrad._parallel import run_pieces
from symgrad._precision import EPS, MAX_DPS, check_dps, thread_context
from symgrad.derive import Compiled, derivative, function
from symgrad.errors import ConfigError, LimitExceeded, UnsupportedError, quote
from symgrad.expr import Source, VariablesSpec, parse_number
from symgrad.fd._finite_diff import is_real_analytic, order_of
from symgrad.fd._stencils import Stencil

__all__: list[str] = []

_GUARD, _MAX_STEPS, _MIN_STEP, _MIN_STEP_TEXT = 5, 200, 1e-300, "1e-300"
_SERIES = 6  # error terms beyond the leading one that an ``exact`` verdict checks
_FAILED = (ZeroDivisionError, ValueError, TypeError, OverflowError)
_Progress = Callable[[int, int], None]
#: A function as the pieces of a sweep carry it to workers: its components and variables.
_Source = tuple[tuple[sympy.Expr, ...], tuple[sympy.Symbol, ...]]
#: A scheme as a sweep's piece needs it: (complex step?, (offset, integer weight) terms, den).
_Plan = tuple[tuple[bool, tuple[tuple[Fraction, int], ...], int], ...]


# -- preparing a job -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scheme:
    label: str
    stencil: Stencil | None  # None: the complex step
    order: int  # p of the error term C h^p f^(m+p)
    constant: Fraction
    expected: float
    terms: tuple[tuple[Fraction, int], ...] = ()  # (offset, integer weight) over den
    den: int = 1
    weight_sum: float = 0.0  # Σ|w|
    # (j, C_j), C_j ≠ 0, j = p ... p + _SERIES: FD(h) − f^(m)(x) = Σ_j C_j h^j f^(m+j)(x)
    series: tuple[tuple[int, Fraction], ...] = ()


@dataclass
class _Job:
    f: Compiled
    x0: list[sympy.Rational]
    axis: int
    m: int
    schemes: list[_Scheme]
    step_sizes: list[Any]  # the steps h, numbers of ctx, descending
    ctx: Any  # the working context
    dps: int
    unit: Any  # machine epsilon of the arithmetic the stencils ran in
    float64: bool
    analytic: bool = True  # no abs, sign, min, max, atan2: f cannot have a kink
    x: list[Any] = field(default_factory=list)
    cache: dict[int, Any] = field(default_factory=dict)
    partials: dict[int, Compiled] = field(default_factory=dict)
    noise: list[Any] | None = None  # float64 error of f's formula per step (_convergence)

    def deriv(self, k: int) -> Any:
        """∂^k f/∂x^k at the point at the working precision; None if not finite or too large.

        Each order is one more derivative of the last, taken by :func:`symgrad.derive.derivative`,
        which prices differentiating and compiling (``Limits``) before it does either: an
        order over the budget is None, like a value that is not finite.
        """
        if k not in self.cache:
            try:
                _, fn = self.partial(k).mp_function(self.ctx.dps)
                value = _call(self.ctx, fn, self.x, real=True)
            except (LimitExceeded, UnsupportedError):
                value = self.ctx.nan
            self.cache[k] = None if self.ctx.isnan(value) else value
        return self.cache[k]

    def partial(self, k: int) -> Compiled:
        """∂^k f/∂x^k compiled, built from ∂^(k-1) f/∂x^k-1 (each order priced once)."""
        if k == 0:
            return self.f
        if k not in self.partials:
            names = [v.name for v in self.f.variables]
            last = self.partial(k - 1)
            var = names[self.axis]
            self.partials[k] = derivative(last.components[0], var, variables=names)
        return self.partials[k]


def _job(
    expr: Source, at: Any, wrt: Any, schemes: Any, step_sizes: Any, dps: int, precision: str,
    variables: VariablesSpec, expected: float | Mapping[str, float] | None,
    *, optional_complex: bool = False,
) -> _Job:  # fmt: skip
    """Validate every input once and fix the working precision.

    ``optional_complex``: the schemes are the defaults, so a complex step that ``f`` does not
    allow (abs, sign, ...) is left out instead of refused.
    """
    if precision not in ("mp", "float64"):
        msg = f"precision must be 'mp' or 'float64' (got {precision!r})"
        raise ConfigError(msg)
    dps, f = check_dps(dps), function(expr, variables)
    counts = order_of(wrt, f.variables)
    if sum(1 for c in counts if c) != 1:
        msg = f"convergence sweeps one variable (wrt={wrt!r} mixes several); e.g. wrt=('x', 2)"
        raise ConfigError(msg)
    axis = next(i for i, c in enumerate(counts) if c)
    plan, analytic = _schemes(schemes, counts[axis], expected), is_real_analytic(f)
    if any(s.stencil is None for s in plan) and not analytic:
        if not optional_complex:
            msg = (
                "the complex step needs a real-analytic expression (no abs, sign, min, max, atan2)"
            )
            raise ConfigError(msg)
        plan = [s for s in plan if s.stencil is not None]
    if optional_complex and precision == "float64" and not _complex_float64_works(f):
        plan = [s for s in plan if s.stencil is not None]
    hs = _step_size_values(step_sizes, thread_context(30))
    work = _working_dps(dps, counts[axis], plan, hs) if precision == "mp" else dps + _GUARD
    ctx = thread_context(work)
    hs = (
        [ctx.mpf(float(h)) for h in hs]
        if precision == "float64"
        else _step_size_values(step_sizes, ctx)
    )
    unit = ctx.mpf(EPS) if precision == "float64" else ctx.eps
    job = _Job(
        f, f.point_values(at), axis, counts[axis], plan, hs, ctx, dps, unit, precision == "float64",
        analytic,
    )  # fmt: skip
    job.x.extend(ctx.mpf(int(v.p)) / int(v.q) for v in job.x0)
    if job.deriv(job.m) is None:
        msg = f"the derivative is not a finite real number at {quote(str(at))}; move the point"
        raise ConfigError(msg)
    return job


def _complex_float64_works(f: Compiled) -> bool:
    """Whether f's compiled float64 code takes complex inputs (SciPy's Bessel functions do not).

    Asked only when the schemes are the defaults, so that such an f is swept without the
    complex step instead of refused; a complex step the user asks for keeps its error.
    """
    try:
        with np.errstate(all="ignore"):  # only whether it runs matters, not the values
            f.complex_call(*([0.5 + 0j] * len(f.variables)))
    except UnsupportedError:
        return False
    return True


def _schemes(specs: Any, m: int, expected: float | Mapping[str, float] | None) -> list[_Scheme]:
    items = (
        specs.split(",")
        if isinstance(specs, str)
        else [specs]
        if isinstance(specs, Stencil)
        else specs
    )
    plan = [_scheme(s, m) for s in items]
    labels = [s.label for s in plan]
    want = expected if isinstance(expected, Mapping) else dict.fromkeys(labels, expected)
    if not plan or set(want) - set(labels):
        msg = f"schemes must be non-empty and name every expected_order key (got {labels})"
        raise ConfigError(msg)
    for p in (v for v in want.values() if v is not None):
        if isinstance(p, bool) or not isinstance(p, int | float) or not p > 0:
            msg = f"expected_order must be a positive number (got {p!r})"
            raise ConfigError(msg)
    return [replace(s, expected=float(want.get(s.label) or s.expected)) for s in plan]


def _scheme(spec: str | Stencil, m: int) -> _Scheme:
    """A scheme string or Stencil for the m-th derivative, with integer weights over one den."""
    name = spec.strip().lower() if isinstance(spec, str) else ""
    if name == "complex":
        if m != 1:
            msg = "the complex step gives first derivatives only; use a stencil for higher ones"
            raise ConfigError(msg)
        # Im f(x + ih)/h = f'(x) − h² f'''(x)/6 + h⁴ f⁽⁵⁾(x)/120 − …: p = 2, C = −1/6.
        series = tuple(
            (j, Fraction((-1) ** (j // 2), math.factorial(j + 1))) for j in range(2, 3 + _SERIES, 2)
        )
        return _Scheme("complex", None, 2, Fraction(-1, 6), 2.0, series=series)
    if isinstance(spec, Stencil):
        stencil, name = spec, f"{spec.kind}:{spec.accuracy}"
        if spec.kind == "custom":
            name += "[" + ",".join(map(str, spec.offsets)) + "]"
    elif name == "richardson":
        stencil = _richardson(m)
    else:
        stencil = Stencil.parse(name if name.count(":") == 2 else f"{name}:d{m}")
    if stencil.derivative != m:
        msg = f"scheme {name} is for derivative {stencil.derivative}, but wrt asks for {m}"
        raise ConfigError(msg)
    den = math.lcm(*(w.denominator for w in stencil.weights))
    terms = tuple(
        (s, int(w * den)) for s, w in zip(stencil.offsets, stencil.weights, strict=True) if w
    )
    p, total = stencil.accuracy, float(sum(abs(w) for w in stencil.weights))
    series = stencil.error_terms(p + _SERIES)
    return _Scheme(name, stencil, p, stencil.error_coefficient, p, terms, den, total, series)


def _richardson(m: int) -> Stencil:
    """(4 D(h/2) − D(h))/3 of central:2 as one stencil on the union of both sets of offsets.

    D(h/2) = (h/2)^-m Σ w f(x + s h/2) puts weight 2^m w at offset s/2.  With D(h) = f^(m) +
    C₂ h² f^(m+2) + C₄ h⁴ f^(m+4) + … (odd powers vanish by symmetry) the h² terms cancel and
    C₄ (4/16 − 1)/3 = −C₄/4 remains: order 4, C = −1/480 for m = 1.
    """
    base = Stencil.central(m, 2)
    pairs = list(zip(base.offsets, base.weights, strict=True))
    weights: dict[Fraction, Fraction] = {}
    for s, w in pairs:
        weights[s / 2] = weights.get(s / 2, Fraction(0)) + Fraction(4 * 2**m, 3) * w
        weights[s] = weights.get(s, Fraction(0)) - w / 3
    c4 = sum((w * s ** (m + 4) for s, w in pairs), Fraction(0)) / math.factorial(m + 4)
    offsets = tuple(sorted(weights))
    return Stencil(m, offsets, tuple(weights[s] for s in offsets), 4, -c4 / 4, "richardson")


def _step_size_values(spec: Any, ctx: Any) -> list[Any]:
    """Step sizes h as numbers of ``ctx``, descending: ``"START:STOP:N"`` or explicit values."""
    geometric = isinstance(spec, str) and spec.count(":") == 2
    items = spec.split(":") if geometric else spec.split(",") if isinstance(spec, str) else spec
    items = list(items) if isinstance(items, Sequence) else []
    n = items[2].strip() if geometric else str(len(items))
    count = int(n) if n.isdigit() and len(n) <= 4 else 0
    if not 2 <= count <= _MAX_STEPS:
        msg = (
            f"step_sizes must give 2 to {_MAX_STEPS} steps: 'START:STOP:N' or a list (got {spec!r})"
        )
        raise ConfigError(msg[:240])
    values = [_mp(ctx, parse_number(v)) for v in (items[:2] if geometric else items)]
    if not all(ctx.isfinite(v) and v > 0 for v in values):
        msg = f"step_sizes must be positive finite numbers (got {spec!r})"
        raise ConfigError(msg[:240])
    if geometric:
        ratio = values[1] / values[0]
        values = [values[0] * ratio ** (ctx.mpf(j) / (count - 1)) for j in range(count)]
    values = sorted(values, reverse=True)
    if len(set(values)) < count or not values[-1] >= ctx.mpf(_MIN_STEP_TEXT):
        msg = f"step_sizes must be distinct and at least {_MIN_STEP_TEXT} (got {spec!r})"
        raise ConfigError(msg[:240])
    return values


def _working_dps(dps: int, m: int, plan: Sequence[_Scheme], step_sizes: Sequence[Any]) -> int:
    """W = dps + guard + k (m + p_max) + log10 Σ|w| with h_min = 10^-k (module docstring)."""
    k = max(0.0, -math.log10(float(step_sizes[-1])))
    p = max(max(s.order, s.expected) for s in plan)
    weights = max(math.log10(max(s.weight_sum, 1.0)) for s in plan)
    work = dps + _GUARD + math.ceil(k * (m + p) + weights)
    if work > MAX_DPS:
        msg = (
            f"step sizes down to {float(step_sizes[-1]):.3g} need {work} working digits at dps={dps}, above "
            f"the cap of {MAX_DPS}; end the sweep at a larger step or lower dps"
        )
        raise LimitExceeded(msg, limit="precision_too_high", value=work, allowed=MAX_DPS)
    return work


# -- sweeping -------------------------------------------------------------------------------

_Row = list[tuple[Any, Any]]  # per step: (FD value, max |f| over the stencil's points)


def _sweep_mp(
    job: _Job, progress: _Progress | None, executor: Executor | None = None
) -> list[_Row]:
    """All schemes at all steps at the working precision, each value of f computed once.

    The steps are the independent pieces (:func:`_step_mp`, values of f shared between the
    schemes of one step); they run on ``executor`` when given, while this process takes the
    symbolic derivatives the analysis will ask for (:func:`_prefetch`).  Numbers cross to the
    pieces and back as exact ``_mpf_`` tuples, so every value is the one the serial run
    computes.  ``progress`` is called after each step, or once the pieces are back.
    """
    plan = tuple((s.stencil is None, s.terms, s.den) for s in job.schemes)
    x = tuple(v._mpf_ for v in job.x)
    f = job.f if executor is None else (tuple(job.f.components), tuple(job.f.variables))
    pieces = [(f, job.ctx.dps, x, job.axis, job.m, plan, h._mpf_) for h in job.step_sizes]
    columns: list[list[tuple[Any, Any]]] = []
    if executor is None:
        for piece in pieces:
            columns += run_pieces(None, _step_mp, [piece])
            _tick(progress, len(columns), len(columns) - 1, len(pieces), len(plan))
    else:
        with ThreadPoolExecutor(1) as waiter:  # waits for the pieces while this thread works
            pending = waiter.submit(run_pieces, executor, _step_mp, pieces)
            _prefetch(job)
            columns = pending.result()
        _tick(progress, len(columns), 0, len(pieces), len(plan))
    make = job.ctx.make_mpf
    return [[(make(col[k][0]), make(col[k][1])) for col in columns] for k in range(len(plan))]


def _tick(progress: _Progress | None, done: int, before: int, steps: int, schemes: int) -> None:
    """``progress(n, total)`` for every (scheme, step) of steps ``before`` to ``done``."""
    if progress is not None:
        for count in range(before * schemes, done * schemes):
            progress(count + 1, steps * schemes)


def _prefetch(job: _Job) -> None:
    """Take the derivatives the analysis needs (f', f^(m+p) per scheme) ahead of it.

    Only the order of the work changes: a derivative that fails here is left uncached and
    fails again where the serial run meets it, so the errors stay those of the serial run.
    """
    for k in sorted({1, *(job.m + s.order for s in job.schemes)}):
        try:
            job.deriv(k)
        except Exception:  # noqa: BLE001, S112  (raised again, in order, by the analysis)
            continue


def _step_mp(
    f: Compiled | _Source, dps: int, x: tuple[Any, ...], axis: int, m: int, plan: _Plan, h: Any
) -> list[tuple[Any, Any]]:
    """Every scheme of ``plan`` at one step h: (FD value, max |f| over the stencil) as ``_mpf_``.

    A module-level function of picklable arguments, so that it runs on any executor; ``x``
    and ``h`` are exact ``_mpf_`` tuples; ``f`` is the compiled function or, sent to workers,
    its expression and variables, compiled once per worker process (:func:`_compiled`).
    """
    ctx, fn = (f if isinstance(f, Compiled) else _compiled(*f)).mp_function(dps)
    point, step = [ctx.make_mpf(v) for v in x], ctx.make_mpf(h)
    values: dict[Fraction, Any] = {}

    def at(s: Fraction) -> Any:
        if s not in values:
            args = list(point)
            args[axis] += ctx.mpf(s.numerator) / s.denominator * step
            values[s] = _call(ctx, fn, args, real=True)
        return values[s]

    out = []
    for complex_step, terms, den in plan:
        if complex_step:
            args = list(point)
            args[axis] = ctx.mpc(point[axis], step)
            value, big = _call(ctx, fn, args, real=False) / step, ctx.zero
        else:
            fs = [at(s) for s, _ in terms]
            total = ctx.fdot([n for _, n in terms], fs)
            value, big = total / (den * step**m), max(abs(v) for v in fs)
        out.append((value._mpf_, big._mpf_))
    return out


@functools.lru_cache(maxsize=4)
def _compiled(components: tuple[sympy.Expr, ...], variables: tuple[sympy.Symbol, ...]) -> Compiled:
    """The function compiled once per process (a worker runs many steps of one sweep)."""
    return Compiled(list(components), list(variables))


def _call(ctx: Any, fn: Any, args: list[Any], *, real: bool) -> Any:
    """f at ``args`` (its imaginary part unless ``real``); NaN where f is not finite or real."""
    try:
        value = +ctx.convert(fn(*args)[0])  # unary plus: a constant such as pi becomes an mpf
    except _FAILED:
        return ctx.nan
    if real and not isinstance(value, ctx.mpf):
        return ctx.nan
    value = value if real else ctx.im(value)
    return value if ctx.isfinite(value) else ctx.nan


def _sweep_float64(job: _Job, progress: _Progress | None) -> list[_Row]:
    """All schemes in float64, vectorized over the steps (the step as given, no h′ trick)."""
    h, n = np.array([float(v) for v in job.step_sizes]), len(job.step_sizes)
    x, a = [float(v) for v in job.x], job.axis
    rows: list[_Row] = []
    with np.errstate(all="ignore"):
        for k, sch in enumerate(job.schemes):
            if sch.stencil is None:
                d = job.f.complex_call(*x[:a], x[a] + 1j * h, *x[a + 1 :]).imag / h
                big = np.zeros_like(h)
            else:
                fs = [job.f(*x[:a], x[a] + float(s) * h, *x[a + 1 :]) for s, _ in sch.terms]
                d = sum(c * v for (_, c), v in zip(sch.terms, fs, strict=True)) / sch.den / h**job.m
                big = np.max(np.abs(fs), axis=0)
            rows.append(
                [
                    (job.ctx.mpf(float(u)), job.ctx.mpf(float(v)))
                    for u, v in zip(d, big, strict=True)
                ]
            )
            for i in range(n):
                if progress is not None:
                    progress(k * n + i + 1, len(job.schemes) * n)
    return rows


def _mp(ctx: Any, r: sympy.Rational) -> Any:
    return ctx.mpf(int(r.p)) / int(r.q)
