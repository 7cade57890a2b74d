"""Step sweeps: how the error of a finite difference shrinks with h, and at what order.

:func:`convergence` runs every scheme at every step of a sweep against the exact derivative and
reports the errors ``E_i = |FD(h_i) − f^(m)(x)|``, the pairwise orders
``p_i = ln(E_i/E_(i+1)) / ln(h_i/h_(i+1))``, a least-squares order over the asymptotic range, the
leading error term ``C h^p f^(m+p)(x)`` next to the measured error, and a verdict per scheme.

**Precision.** ``"mp"``: one working precision W for the whole sweep.  Rounding errors 10^-W |f|
are amplified by Σ|w| / h^m and the smallest truncation error is about h_min^p, so with
h_min = 10^-k, W = dps + guard + k (m + p_max) + log10 Σ|w| resolves every truncation error to
about dps digits.  ``"float64"``: the stencil runs in float64 as a user's code would (the V curve),
against the exact derivative at dps digits.

**Rounding floor.** An error is *resolved* when it exceeds ``floor_ulps · ε · (Σ|w| F / h^m +
|f^(m)(x)|)``: ε the machine epsilon (2^-52, or that of W digits), F = max |f| over the stencil's
points plus |x f'(x)| (the rounding of x + s h) — a rounding error after division by h^m.  The
complex step subtracts nothing: its floor is ``floor_ulps · ε · |f'(x)|``.

**Asymptotic range**, chosen without the expected order: the longest run of consecutive resolved
steps whose pairwise orders lie within ``TOLERANCES["band"]`` of each other (max − min), the
finest of equally long runs.  The observed order is the least-squares slope of ln E against ln h
over it (:func:`fit_order`).

**Verdicts**, in this order: ``exact`` — no error above the floor; ``inconclusive`` — fewer than
``min_steps`` steps in the range (in float64 usually the round-off floor came first); ``pass`` —
the fitted and the finest pair's orders within ``TOLERANCES["order"]`` of the expected order;
``inconclusive`` — the leading term vanishes: f^(m+p)(x) = 0, or the order exceeds p while the
error is ``vanish`` times the predicted leading term or more; ``fail`` otherwise.

JSON: steps and errors are floats, except magnitudes below 1e-300 (out of float range), which are
strings with 6 significant digits; undefined numbers are ``null``.
"""

from __future__ import annotations

import decimal
import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from symgrad.codegen import MAX_DPS, Compiled, check_dps, thread_context
from symgrad.derivatives import function
from symgrad.errors import ConfigError, LimitExceeded, UnsupportedError, quote
from symgrad.finite_diff import order_of
from symgrad.parse import parse_number
from symgrad.results import Result, Status, combine, html_table, markdown_table, text_table
from symgrad.stencils import Stencil
from symgrad.symbolic import Source, VariablesSpec, differentiate

__all__ = [
    "DEFAULT_SCHEMES",
    "TOLERANCES",
    "ConvergenceResult",
    "SchemeConvergence",
    "convergence",
    "fit_order",
    "pairwise_orders",
]

DEFAULT_SCHEMES = ("forward:1", "central:2", "central:4", "complex")

#: Every tolerance behind a verdict, in one place.
TOLERANCES: dict[str, float] = {
    "order": 0.2,  # |fitted − expected| and |finest pair − expected| for a pass
    "band": 0.2,  # max − min of the pairwise orders inside the asymptotic range
    "floor_ulps": 64.0,  # errors below floor_ulps · ε · scale are rounding (module docstring)
    "vanish": 10.0,  # error ≥ vanish · |C h^p f^(m+p)|: the "leading" term is not leading
    "min_steps": 3,  # fewest steps in the asymptotic range for a verdict on the order
}

_GUARD, _MAX_STEPS, _MIN_STEP, _MIN_STEP_TEXT, _EPS = 5, 200, 1e-300, "1e-300", 2.0**-52
# As in finite_diff: Im f(x + ih)/h needs a real-analytic f implemented complex-safely.
_NON_ANALYTIC = (sympy.Abs, sympy.sign, sympy.Min, sympy.Max, sympy.Heaviside, sympy.atan2)
_FAILED = (ZeroDivisionError, ValueError, TypeError, OverflowError)
_VERB = {"pass": "passes", "fail": "fails", "exact": "is exact", "inconclusive": "is inconclusive"}
_Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SchemeConvergence:
    """One scheme's sweep (the module docstring defines the rules).

    ``error_coefficient`` is C in ``FD(h) − f^(m)(x) = C h^p f^(m+p)(x) + …``; ``steps`` are
    descending floats; ``errors`` absolute errors as mpmath numbers (possibly below float range);
    ``predicted`` the signed leading terms ``C h^p f^(m+p)(x)``; ``pairwise_orders`` NaN where an
    error is zero or not finite; ``observed_order`` the fitted order (NaN without a range);
    ``higher_derivative`` f^(m+p)(x); ``observed_error_coefficient`` (FD − f^(m))/(h^p f^(m+p))
    at the finest step of the range.  float64 only: ``optimal_step`` and ``minimum_error`` (the
    argmin and minimum of the error) and ``textbook_optimal_step``, the minimiser of
    ``|C| h^p |f^(m+p)| + ε Σ|w| |f| / h^m``, which is numerics.md §4.1's ``2 sqrt(ε |f/f''|)``
    (forward) and ``(3 ε |f/f'''|)^(1/3)`` (central).
    """

    scheme: str
    expected_order: float
    error_coefficient: Fraction
    status: Status
    reason: str
    steps: tuple[float, ...]
    errors: tuple[Any, ...]
    predicted: tuple[Any, ...]
    pairwise_orders: tuple[float, ...]
    observed_order: float
    asymptotic_range: tuple[float, float] | None
    higher_derivative: float | None
    observed_error_coefficient: float | None
    optimal_step: float | None = None
    minimum_error: Any = None
    textbook_optimal_step: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The per-scheme ``converge`` JSON of DESIGN.md, plus orders, range and leading term."""
        p, c, rng = self.expected_order, str(self.error_coefficient), self.asymptotic_range
        return {
            "scheme": self.scheme,
            "expected_order": int(p) if p.is_integer() else p,
            "observed_order": _finite(self.observed_order),
            "error_coefficient": c,
            "status": self.status.value,
            "reason": self.reason,
            "steps": [_number(h) for h in self.steps],
            "errors": [_number(e) for e in self.errors],
            "pairwise_orders": [_finite(q) for q in self.pairwise_orders],
            "asymptotic_range": None if rng is None else list(rng),
            "predicted_error_coefficient": c,
            "predicted_errors": [_number(e) for e in self.predicted],
            "higher_derivative": _number(self.higher_derivative),
            "observed_error_coefficient": self.observed_error_coefficient,
            "optimal_step": self.optimal_step,
            "minimum_error": _number(self.minimum_error),
            "textbook_optimal_step": self.textbook_optimal_step,
        }


@dataclass(frozen=True)
class ConvergenceResult(Result):
    """The outcome of :func:`convergence`: one :class:`SchemeConvergence` per scheme."""

    status: Status
    reason: str
    expression: str
    point: dict[str, str]
    derivative: str
    dps: int
    precision: str
    working_dps: int
    schemes: tuple[SchemeConvergence, ...]

    def to_dict(self) -> dict[str, Any]:
        """The ``converge`` JSON of DESIGN.md plus reason, precision and derivative."""
        keys = ("status", "reason", "expression", "point", "derivative", "dps", "precision")
        data: dict[str, Any] = {k: getattr(self, k) for k in (*keys, "working_dps")}
        data["status"] = self.status.value
        data |= {"point": dict(self.point), "tolerances": dict(TOLERANCES)}
        return data | {"schemes": [s.to_dict() for s in self.schemes]}

    def _blocks(self) -> list[tuple[str, list[list[str]]]]:
        at = ", ".join(f"{k}={v}" for k, v in self.point.items())
        work = f", {self.working_dps} working digits" if self.precision == "mp" else ""
        title = f"convergence of {_dname(self.derivative)} of {self.expression} at {at}"
        head = f"{title} ({self.precision}{work}): {self.status}: {self.reason}"
        blocks = [(head, _summary_rows(self.schemes))]
        return blocks + [
            (f"{s.scheme}: {s.status}: {s.reason}", _step_rows(s)) for s in self.schemes
        ]

    def to_text(self) -> str:
        """The verdict, a summary table and one table of steps per scheme."""
        return "\n\n".join(
            f"{head}\n{text_table(rows, indent='  ', align='right')}"
            for head, rows in self._blocks()
        )

    def to_markdown(self) -> str:
        """The same as Markdown tables."""
        return "\n\n".join(f"{head}\n\n{markdown_table(rows)}" for head, rows in self._blocks())

    def to_html(self) -> str:
        """The same as an escaped HTML fragment."""
        blocks = self._blocks()
        parts = [f"<p>{html.escape(h)}</p>\n{html_table(rows)}" for h, rows in blocks]
        # the summary stays visible; the per-step tables fold away (they are long)
        details = "\n".join(parts[1:])
        folded = f"<details><summary>errors at every step</summary>\n{details}\n</details>"
        return f'<div class="symgrad-convergence">\n{parts[0]}\n{folded}\n</div>'


def convergence(
    expr: Source,
    at: str | Mapping[str | sympy.Symbol, object],
    wrt: str | Sequence[str | int] | None = None,
    *,
    schemes: str | Sequence[str | Stencil] = DEFAULT_SCHEMES,
    steps: str | Sequence[object] = "1e-1:1e-12:23",
    dps: int = 60,
    precision: str = "mp",
    variables: VariablesSpec = None,
    expected_order: float | Mapping[str, float] | None = None,
    progress: _Progress | None = None,
) -> ConvergenceResult:
    """Sweep the step h and measure each scheme's error and observed order of accuracy.

    Parameters
    ----------
    expr, at : str or sympy.Expr; str or mapping
        The function and the point (``"x=1"``; decimals are exact).
    wrt : str or sequence, optional
        One variable, possibly repeated (``"x"``, ``("x", 2)``); optional for one variable.
    schemes : str or sequence
        ``"forward:P"``, ``"backward:P"``, ``"central:P"`` (accuracy P), ``"complex"``,
        ``"richardson"`` ((4 D(h/2) − D(h))/3 of central:2) or :class:`Stencil` objects; a
        string may list several, separated by commas.
    steps : str or sequence
        ``"START:STOP:N"`` (N geometrically spaced steps) or the steps (numbers or decimal text).
    dps : int
        Digits to which truncation errors are resolved (``mp``); digits of the reference.
    precision : {"mp", "float64"}
        Arithmetic of the finite differences (module docstring).
    expected_order : float or mapping, optional
        The order to expect instead of the scheme's own, for all schemes or by scheme label.
    progress : callable, optional
        Called as ``progress(done, total)`` after each (scheme, step).

    Examples
    --------
    >>> r = convergence("exp(x)", "x=0", schemes="forward:1, central:2", steps="1e-1:1e-4:7")
    >>> str(r.status), [round(s.observed_order, 2) for s in r.schemes]
    ('pass', [1.0, 2.0])
    >>> [s.to_dict()["error_coefficient"] for s in r.schemes]
    ['1/2', '1/6']
    """
    job = _job(expr, at, wrt, schemes, steps, dps, precision, variables, expected_order)
    sweep = _sweep_mp if precision == "mp" else _sweep_float64
    rows = sweep(job, progress)
    out = tuple(_analyse(job, sch, row) for sch, row in zip(job.schemes, rows, strict=True))
    status = combine(s.status for s in out)
    worst = [s for s in out if s.status == status]
    reason = f"every scheme {_VERB[status]}"
    if len(worst) < len(out):
        reason = (
            f"{len(worst)} of {len(out)} schemes {status}; {worst[0].scheme}: {worst[0].reason}"
        )
    var = job.f.variables[job.axis].name
    point = {v.name: _decimal(r) for v, r in zip(job.f.variables, job.x0, strict=True)}
    wrt_text = ",".join([var] * job.m)
    return ConvergenceResult(
        status, reason, str(job.f.components[0]), point, wrt_text, job.dps, precision,
        job.ctx.dps, out,
    )  # fmt: skip


def pairwise_orders(steps: Sequence[Any], errors: Sequence[Any]) -> list[float]:
    """Observed orders ``ln(E_i/E_(i+1)) / ln(h_i/h_(i+1))`` of consecutive pairs.

    NaN where an error is zero or not finite; numbers may be floats, text or mpmath numbers.

    Examples
    --------
    >>> [round(p, 6) for p in pairwise_orders([0.1, 0.05, 0.025], [4e-3, 1e-3, 2.5e-4])]
    [2.0, 2.0]
    """
    u, v = [_ln(h) for h in steps], [_ln(e) for e in errors]
    return [(v[i] - v[i + 1]) / (u[i] - u[i + 1]) for i in range(len(u) - 1)]


def fit_order(steps: Sequence[Any], errors: Sequence[Any]) -> float:
    """Least-squares slope of ln E against ln h over the levels with a positive finite error.

    Examples
    --------
    >>> round(fit_order([1e-1, 1e-2, 1e-3], [3e-2, 3e-4, 3e-6]), 6)
    2.0
    """
    pairs = [(_ln(h), _ln(e)) for h, e in zip(steps, errors, strict=True)]
    pairs = [(u, v) for u, v in pairs if math.isfinite(v)]
    if len(pairs) < 2:
        return math.nan
    mu, mv = (sum(c) / len(pairs) for c in zip(*pairs, strict=True))
    sxx = sum((u - mu) ** 2 for u, _ in pairs)
    return float(sum((u - mu) * (v - mv) for u, v in pairs) / sxx)


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


@dataclass
class _Job:
    f: Compiled
    x0: list[sympy.Rational]
    axis: int
    m: int
    schemes: list[_Scheme]
    steps: list[Any]  # numbers of ctx, descending
    ctx: Any  # the working context
    dps: int
    unit: Any  # machine epsilon of the arithmetic the stencils ran in
    float64: bool
    x: list[Any] = field(default_factory=list)
    cache: dict[int, Any] = field(default_factory=dict)

    def deriv(self, k: int) -> Any:
        """∂^k f/∂x^k at the point at the working precision; None if not finite or too large."""
        if k not in self.cache:
            try:
                expr = differentiate(self.f.components[0], [self.f.variables[self.axis]] * k)
                _, fn = Compiled(expr, self.f.variables, "derivative").mp_function(self.ctx.dps)
                value = _call(self.ctx, fn, self.x, real=True)
            except (LimitExceeded, UnsupportedError):
                value = self.ctx.nan
            self.cache[k] = None if self.ctx.isnan(value) else value
        return self.cache[k]


def _job(
    expr: Source, at: Any, wrt: Any, schemes: Any, steps: Any, dps: int, precision: str,
    variables: VariablesSpec, expected: float | Mapping[str, float] | None,
) -> _Job:  # fmt: skip
    """Validate every input once and fix the working precision."""
    if precision not in ("mp", "float64"):
        msg = f"precision must be 'mp' or 'float64' (got {precision!r})"
        raise ConfigError(msg)
    dps, f = check_dps(dps), function(expr, variables)
    counts = order_of(wrt, f.variables)
    if sum(1 for c in counts if c) != 1:
        msg = f"convergence sweeps one variable (wrt={wrt!r} mixes several); e.g. wrt=('x', 2)"
        raise ConfigError(msg)
    axis = next(i for i, c in enumerate(counts) if c)
    plan = _schemes(schemes, counts[axis], expected)
    if any(s.stencil is None for s in plan) and f.components[0].has(*_NON_ANALYTIC):
        msg = "the complex step needs a real-analytic expression (no abs, sign, min, max, atan2)"
        raise ConfigError(msg)
    hs = _step_values(steps, thread_context(30))
    work = _working_dps(dps, counts[axis], plan, hs) if precision == "mp" else dps + _GUARD
    ctx = thread_context(work)
    hs = [ctx.mpf(float(h)) for h in hs] if precision == "float64" else _step_values(steps, ctx)
    unit = ctx.mpf(_EPS) if precision == "float64" else ctx.eps
    job = _Job(
        f, f.point_values(at), axis, counts[axis], plan, hs, ctx, dps, unit, precision == "float64"
    )
    job.x.extend(ctx.mpf(int(v.p)) / int(v.q) for v in job.x0)
    if job.deriv(job.m) is None:
        msg = f"the derivative is not a finite real number at {quote(str(at))}; move the point"
        raise ConfigError(msg)
    return job


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
        return _Scheme("complex", None, 2, Fraction(-1, 6), 2.0)
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
    return _Scheme(name, stencil, p, stencil.error_coefficient, p, terms, den, total)


def _richardson(m: int) -> Stencil:
    """(4 D(h/2) − D(h))/3 of central:2 as one stencil on the union of both sets of offsets.

    D(h/2) = (h/2)^-m Σ w f(x + s h/2) puts weight 2^m w at offset s/2.  With D(h) = f^(m) +
    C₂ h² f^(m+2) + C₄ h⁴ f^(m+4) + … (odd powers vanish by symmetry) the h² terms cancel and
    C₄ (4/16 − 1)/3 = −C₄/4 remains: order 4, C = −1/480 for m = 1 (numerics.md §4.3).
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


def _step_values(spec: Any, ctx: Any) -> list[Any]:
    """Steps as numbers of ``ctx``, descending: ``"START:STOP:N"`` or explicit values."""
    geometric = isinstance(spec, str) and spec.count(":") == 2
    items = spec.split(":") if geometric else spec.split(",") if isinstance(spec, str) else spec
    items = list(items) if isinstance(items, Sequence) else []
    n = items[2].strip() if geometric else str(len(items))
    count = int(n) if n.isdigit() and len(n) <= 4 else 0
    if not 2 <= count <= _MAX_STEPS:
        msg = f"steps must give 2 to {_MAX_STEPS} steps: 'START:STOP:N' or a list (got {spec!r})"
        raise ConfigError(msg[:240])
    values = [_mp(ctx, parse_number(v)) for v in (items[:2] if geometric else items)]
    if geometric and values[0] > 0:
        ratio = values[1] / values[0]
        values = [values[0] * ratio ** (ctx.mpf(j) / (count - 1)) for j in range(count)]
    values = sorted(values, reverse=True)
    if len(set(values)) < count or not values[-1] >= ctx.mpf(_MIN_STEP_TEXT):
        msg = f"steps must be distinct and at least {_MIN_STEP_TEXT} (got {spec!r})"
        raise ConfigError(msg[:240])
    return values


def _working_dps(dps: int, m: int, plan: Sequence[_Scheme], steps: Sequence[Any]) -> int:
    """W = dps + guard + k (m + p_max) + log10 Σ|w| with h_min = 10^-k (module docstring)."""
    k = max(0.0, -math.log10(float(steps[-1])))
    p = max(max(s.order, s.expected) for s in plan)
    weights = max(math.log10(max(s.weight_sum, 1.0)) for s in plan)
    work = dps + _GUARD + math.ceil(k * (m + p) + weights)
    if work > MAX_DPS:
        msg = (
            f"steps down to {float(steps[-1]):.3g} need {work} working digits at dps={dps}, above "
            f"the cap of {MAX_DPS}; end the sweep at a larger step or lower dps"
        )
        raise LimitExceeded(msg, limit="precision_too_high", value=work, allowed=MAX_DPS)
    return work


# -- sweeping -------------------------------------------------------------------------------

_Row = list[tuple[Any, Any]]  # per step: (FD value, max |f| over the stencil's points)


def _sweep_mp(job: _Job, progress: _Progress | None) -> list[_Row]:
    """All schemes at all steps at the working precision, each value of f computed once."""
    ctx, fn = job.f.mp_function(job.ctx.dps)
    values: dict[tuple[int, Fraction], Any] = {}

    def at(i: int, s: Fraction) -> Any:
        if (i, s) not in values:
            args = list(job.x)
            args[job.axis] += ctx.mpf(s.numerator) / s.denominator * job.steps[i]
            values[i, s] = _call(ctx, fn, args, real=True)
        return values[i, s]

    rows: list[_Row] = []
    for k, sch in enumerate(job.schemes):
        rows.append([])
        for i, h in enumerate(job.steps):
            if sch.stencil is None:
                args = list(job.x)
                args[job.axis] = ctx.mpc(job.x[job.axis], h)
                rows[-1].append((_call(ctx, fn, args, real=False) / h, ctx.zero))
            else:
                fs = [at(i, s) for s, _ in sch.terms]
                total = ctx.fdot([n for _, n in sch.terms], fs)
                rows[-1].append((total / (sch.den * h**job.m), max(abs(v) for v in fs)))
            if progress is not None:
                progress(k * len(job.steps) + i + 1, len(job.schemes) * len(job.steps))
    return rows


def _call(ctx: Any, fn: Any, args: list[Any], *, real: bool) -> Any:
    """f at ``args`` (its imaginary part unless ``real``); NaN where f is not finite or real."""
    try:
        value = ctx.convert(fn(*args)[0])
    except _FAILED:
        return ctx.nan
    if real and not isinstance(value, ctx.mpf):
        return ctx.nan
    value = value if real else ctx.im(value)
    return value if ctx.isfinite(value) else ctx.nan


def _sweep_float64(job: _Job, progress: _Progress | None) -> list[_Row]:
    """All schemes in float64, vectorized over the steps (the step as given, no h′ trick)."""
    h, n = np.array([float(v) for v in job.steps]), len(job.steps)
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


# -- analysis -------------------------------------------------------------------------------


def _analyse(job: _Job, sch: _Scheme, row: _Row) -> SchemeConvergence:
    ctx, m, p, exact = job.ctx, job.m, sch.order, job.deriv(job.m)
    signed = [d - exact for d, _ in row]
    errors = [abs(e) for e in signed]
    shift = abs(job.x[job.axis] * (job.deriv(1) or 0))  # rounding of x + s h, times f'
    ulps = TOLERANCES["floor_ulps"] * job.unit
    floors = [
        ulps * (sch.weight_sum * (big + shift) / h**m + abs(exact))
        for (_, big), h in zip(row, job.steps, strict=True)
    ]
    resolved = [ctx.isfinite(e) and e > fl for e, fl in zip(errors, floors, strict=True)]
    orders = pairwise_orders(job.steps, errors)
    span = _asymptotic_range(orders, resolved)
    hi = job.deriv(m + p)
    predicted = [] if hi is None else [sch.constant * h**p * hi for h in job.steps]
    status, reason, fitted = _verdict(job, sch, errors, resolved, orders, span, predicted, hi)
    b = None if span is None else span[1]
    coef = None if b is None or not hi else float(signed[b] / (job.steps[b] ** p * hi))
    hs = tuple(float(h) for h in job.steps)
    return SchemeConvergence(
        sch.label, sch.expected, sch.constant, status, reason, hs, tuple(errors),
        tuple(predicted), tuple(orders), fitted,
        None if span is None else (hs[span[0]], hs[span[1]]),
        None if hi is None else float(hi), coef, *_optimum(job, sch, errors, hi),
    )  # fmt: skip


def _asymptotic_range(orders: Sequence[float], resolved: Sequence[bool]) -> tuple[int, int] | None:
    """Longest run of resolved steps whose pairwise orders agree within the band; finest on ties."""
    best: tuple[int, int] | None = None
    for a in range(len(resolved)):
        b, lo, hi = a, math.inf, -math.inf
        while resolved[a] and b + 1 < len(resolved) and resolved[b + 1]:
            lo, hi = min(lo, orders[b]), max(hi, orders[b])
            if not hi - lo <= TOLERANCES["band"]:
                break
            b += 1
        if b > a and (best is None or b - a >= best[1] - best[0]):
            best = (a, b)
    return best


def _verdict(
    job: _Job, sch: _Scheme, errors: list[Any], resolved: list[bool], orders: list[float],
    span: tuple[int, int] | None, predicted: list[Any], hi: Any,
) -> tuple[Status, str, float]:  # fmt: skip
    ctx, tol, p, name = job.ctx, TOLERANCES["order"], sch.expected, sch.label
    if not any(resolved) and all(ctx.isfinite(e) for e in errors):
        return Status.EXACT, f"every error is at the rounding floor: {name} is exact here", math.nan
    if span is None or span[1] - span[0] + 1 < TOLERANCES["min_steps"]:
        return Status.INCONCLUSIVE, _too_few(job, errors, resolved, span), math.nan
    a, b = span
    fitted = fit_order(job.steps[a : b + 1], errors[a : b + 1])
    where = f"order {fitted:.2f} over h = {float(job.steps[a]):.3g} … {float(job.steps[b]):.3g}"
    if abs(fitted - p) <= tol and abs(orders[b - 1] - p) <= tol:
        return (
            Status.PASS,
            f"observed {where} ({b - a + 1} steps) matches {p:g} within {tol}",
            fitted,
        )
    big = bool(predicted) and errors[b] >= TOLERANCES["vanish"] * abs(predicted[b])
    if hi is not None and (hi == 0 or (fitted > p + tol and big)):
        value = "= 0" if hi == 0 else f"≈ {ctx.nstr(hi, 3)}"
        reason = (
            f"leading error term vanishes at this point: {_dname(job.m + sch.order)} {value}, "
            f"choose another point (observed {where}, expected {p:g})"
        )
        return Status.INCONCLUSIVE, reason, fitted
    return (
        Status.FAIL,
        f"observed {where} differs from the expected {p:g} by more than {tol}",
        fitted,
    )


def _too_few(
    job: _Job, errors: list[Any], resolved: list[bool], span: tuple[int, int] | None
) -> str:
    count = 0 if span is None else span[1] - span[0] + 1
    need = f"{count} consistent steps, {TOLERANCES['min_steps']:g} needed"
    first = next((i for i, e in enumerate(errors) if job.ctx.isfinite(e) and not resolved[i]), None)
    if first is not None and any(resolved[:first]):
        return (
            f"round-off floor reached at h = {float(job.steps[first]):.3g} before the asymptotic "
            f"range ({need}); start the sweep at larger steps"
        )
    return f"too few steps in the asymptotic range ({need}); add steps or change the sweep"


def _optimum(job: _Job, sch: _Scheme, errors: list[Any], hi: Any) -> tuple[Any, ...]:
    """float64 only: the measured optimal step and minimum error, and the textbook h*."""
    finite = [(e, float(h)) for e, h in zip(errors, job.steps, strict=True) if job.ctx.isfinite(e)]
    if not job.float64 or not finite:
        return (None, None, None)
    low, h_opt = min(finite, key=lambda t: t[0])
    f0, c, m, p = job.deriv(0), abs(float(sch.constant)), job.m, sch.order
    if sch.stencil is None or not hi or not f0:
        return (h_opt, low, None)
    # d/dh [c h^p |f^(m+p)| + ε Σ|w| |f| h^-m] = 0  ⇒  h* = (m ε Σ|w| |f| / (p c |f^(m+p)|))^(1/(m+p))
    ratio = m * _EPS * sch.weight_sum * abs(float(f0)) / (p * c * abs(float(hi)))
    return (h_opt, low, ratio ** (1 / (m + p)))


# -- rendering ------------------------------------------------------------------------------


def _summary_rows(schemes: Sequence[SchemeConvergence]) -> list[list[str]]:
    rows = [["scheme", "status", "expected", "observed", "C", "observed C", "asymptotic range"]]
    float64 = any(s.optimal_step is not None for s in schemes)
    rows[0] += ["optimal h", "textbook h*", "min error"] if float64 else []
    for s in schemes:
        rng = "-" if s.asymptotic_range is None else "{:.3g} … {:.3g}".format(*s.asymptotic_range)
        cells = [s.scheme, str(s.status), f"{s.expected_order:g}", _fmt(s.observed_order)]
        cells += [str(s.error_coefficient), _fmt(s.observed_error_coefficient, ".4g"), rng]
        if float64:
            cells += [_fmt(s.optimal_step, ".3g"), _fmt(s.textbook_optimal_step, ".3g")]
            cells += [_sci(s.minimum_error)]
        rows.append(cells)
    return rows


def _step_rows(s: SchemeConvergence) -> list[list[str]]:
    rows = [["h", "|error|", "order", "C h^p f^(m+p)", "in range"]]
    lo, hi = s.asymptotic_range or (math.inf, math.inf)
    for i, h in enumerate(s.steps):
        order = _fmt(s.pairwise_orders[i]) if i < len(s.pairwise_orders) else ""
        predicted = _sci(s.predicted[i]) if s.predicted else "-"
        rows.append([f"{h:.3g}", _sci(s.errors[i]), order, predicted, "*" if lo >= h >= hi else ""])
    return rows


# -- numbers --------------------------------------------------------------------------------


def _mp(ctx: Any, r: sympy.Rational) -> Any:
    return ctx.mpf(int(r.p)) / int(r.q)


def _ln(x: Any) -> float:
    """ln |x| as a float for numbers of any size; NaN for zero or non-finite values."""
    ctx = thread_context(30)
    v = abs(ctx.convert(x))
    return float(ctx.log(v)) if ctx.isfinite(v) and v > 0 else math.nan


def _number(x: Any) -> float | str | None:
    """A JSON number: a float, text with 6 digits out of float range, None for NaN or None."""
    ctx = thread_context(30)
    v = ctx.nan if x is None else ctx.convert(x)
    if ctx.isnan(v):
        return None
    return float(v) if v == 0 or _MIN_STEP <= abs(v) <= 1e300 else ctx.nstr(v, 6)


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def _fmt(x: float | None, spec: str = ".2f") -> str:
    return "-" if x is None or not math.isfinite(x) else format(x, spec)


def _sci(x: Any) -> str:
    text = _number(x)
    return "-" if text is None else text if isinstance(text, str) else f"{text:.2e}"


def _decimal(r: sympy.Rational) -> str:
    """``3/10`` as ``"0.3"``; a rational without a finite decimal expansion stays a fraction."""
    with decimal.localcontext(prec=400) as local:
        d = decimal.Decimal(int(r.p)) / int(r.q)
        return f"{r.p}/{r.q}" if local.flags[decimal.Inexact] else format(d.normalize(), "f")


def _dname(derivative: str | int) -> str:
    """``f'''`` and ``f^(5)`` from an order; ``d/dx`` and ``d^2/dx^2`` from ``"x"``, ``"x,x"``."""
    if isinstance(derivative, int):
        return "f" + "'" * derivative if derivative <= 3 else f"f^({derivative})"
    names = derivative.split(",")
    k = "" if len(names) == 1 else f"^{len(names)}"
    return f"d{k}/d{names[0]}{k}"
