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

**Rounding floor.** An error is *resolved* when it exceeds ``floor_ulps · (ε (Σ|w| F / h^m +
|f^(m)(x)|) + Σ|w| e / h^m + η (n / h^m + 1) + |f^(m)(float(x)) − f^(m)(x)|)``: ε the machine
epsilon (2^-52, or that of W digits), F = max |f| over the stencil's points plus |x f'(x)| (the
rounding of x + s h) — a rounding error after division by h^m.  e (float64 stencils only) is
the measured float64 error of f's formula at x and x ± h against its exact values: a formula
that cancels (log(1 + x)/x near 0 is off by ε/x relative) is not evaluated to a few ulps of F.
The complex step subtracts nothing: its relative part is ``ε |f'(x)|``.  η = 2^-1074, float64's smallest subnormal, is the absolute
error of each of the n = Σ|w| values (one, Im f, for the complex step) and of the result: a
derivative below float64's range is never resolved.  A float64 sweep runs at the point as
float64 holds it, float(x), and every scheme's value moves by f^(m)(float(x)) − f^(m)(x),
evaluated at the working precision (a decimal point near a zero of f' is rounding-limited, not
a failing scheme).  mp has no underflow, and its reference is taken at the point as the sweep
holds it: η = 0 and no shift.

**Asymptotic range**, chosen without the expected order: the longest run of consecutive resolved
steps whose pairwise orders lie within ``TOLERANCES["band"]`` of each other (max − min), the
finest of equally long runs.  The observed order is the least-squares slope of ln E against ln h
over it (:func:`fit_order`).

**Verdicts** come from the scheme's own accuracy p, exact from its weights (the moments of
:class:`~symgrad.fd.Stencil`; p = 2, C = −1/6 for the complex step), never from a claimed order q
(``expected_order``, p by default).  With the fitted order r and the finest pair's order o over
the range, in this order:

0. ``inconclusive`` for every scheme when f has a kink at the point (the ``nonsmooth`` probe of
   :func:`~symgrad.fd.finite_difference`, run for f with abs, sign, min or max): there is no
   derivative to converge to, whatever the errors do.
1. ``exact`` — no error above the floor *and* the error expansion vanishes term by term: the
   terms C_j h^j f^(m+j)(x) are zero for j = p … p + 6, each zero of the working precision
   proven by the certified evaluation (``Compiled.at``: a derivative can cancel to 0 at W
   digits without being 0, as 1 − tanh(10x)² at 25.5).  Errors below the floor with a nonzero
   term are ``inconclusive``: the round-off floor hides the truncation error.
2. ``inconclusive`` — fewer than ``min_steps`` steps in the range.
3. ``inconclusive`` — r and o above p + ``order``: the leading term vanishes (f^(m+p)(x) = 0, or the
   error is ``vanish`` times C h^p f^(m+p) or more), or it has not taken over yet.  An order above
   p confirms no claim.
4. ``inconclusive`` — the orders still drift: |d(order)/d ln h| at the fine end of the range,
   fitted to the finest three pairwise orders, exceeds ``drift``.  For a smooth f the order moves
   as p + κ h^s (s >= 1), so that slope bounds how far it may still go; extend the sweep.
5. ``inconclusive`` — f^(m+p)(x) is not a finite real number: the expansion does not apply.
6. r and o below p − ``order``: ``fail`` when f is real-analytic and the error at the finest
   step is still ``vanish`` times the first nonzero term C_j h^j f^(m+j) of the expansion or more
   (the differences do not converge to the derivative); otherwise ``inconclusive``: a kink of
   abs, sign, min or max, or a singularity, within reach of the stencil at these steps.  For
   the complex step the error must also exceed ``floor_ulps · (ε |f(x)| + e) / h``: a complex
   value of f is accurate relative to |f| and no better than the real formula (e above), so
   Im f(x + ih) = h f' may be lost beside the real part (erf or tanh(10x) at 25.5,
   log(1 + x)/x near 0 in float64); errors within that are ``inconclusive``.
7. ``inconclusive`` — r or o within ``order`` of p and the other not.
8. r and o within ``order`` of p: the error at the finest step of the range must also be the
   leading term, |E / (C h^p f^(m+p)) − 1| <= ``leading`` (else ``inconclusive``); then ``pass``
   when q = p and ``fail`` otherwise (the data show the stencil's p, not the claim).

JSON: steps and errors are floats, except magnitudes below 1e-300 (out of float range), which are
strings with 6 significant digits; undefined numbers are ``null``.
"""

from __future__ import annotations

import decimal
import html
import math
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from symgrad._parallel import check_executor
from symgrad._precision import thread_context
from symgrad.errors import ConfigError, SymgradError
from symgrad.expr import Source, VariablesSpec
from symgrad.fd._deprecated import renamed_keyword, warn_renamed
from symgrad.fd._finite_diff import finite_difference
from symgrad.fd._stencils import Stencil
from symgrad.fd._sweeps import (
    _MIN_STEP,
    _call,
    _Job,
    _job,
    _Progress,
    _Row,
    _Scheme,
    _sweep_float64,
    _sweep_mp,
)
from symgrad.results import (
    PointStatus,
    Result,
    Status,
    combine,
    html_table,
    markdown_table,
    text_table,
)

__all__ = [
    "DEFAULT_SCHEMES",
    "DEFAULT_STEP_SIZES",
    "TOLERANCES",
    "ConvergenceResult",
    "SchemeConvergence",
    "convergence",
    "fit_order",
    "pairwise_orders",
]

DEFAULT_SCHEMES = ("forward:1", "central:2", "central:4", "complex")
#: The step sizes h of a sweep unless told: 23 steps from 1e-1 to 1e-12, two per decade.
DEFAULT_STEP_SIZES = "1e-1:1e-12:23"

#: Every tolerance behind a verdict, in one place.
TOLERANCES: dict[str, float] = {
    "order": 0.2,  # |fitted − p| and |finest pair − p| for a pass
    "band": 0.2,  # max − min of the pairwise orders inside the asymptotic range
    "drift": 0.1,  # |d(order)/d ln h| at the fine end above this: the orders have not settled
    "leading": 0.5,  # |error / (C h^p f^(m+p)) − 1| at the finest step of the range for a pass
    "floor_ulps": 64.0,  # errors below floor_ulps · ε · scale are rounding (module docstring)
    "vanish": 10.0,  # error ≥ vanish · |C h^p f^(m+p)|: the "leading" term is not leading
    "min_steps": 3,  # fewest steps in the asymptotic range for a verdict on the order
}

_VERB = {"pass": "passes", "fail": "fails", "exact": "is exact", "inconclusive": "is inconclusive"}


@dataclass(frozen=True)
class SchemeConvergence:
    """One scheme's sweep (the module docstring defines the rules).

    ``error_coefficient`` is C in ``FD(h) − f^(m)(x) = C h^p f^(m+p)(x) + …``; ``step_sizes``
    are the steps h, descending floats (JSON key ``steps``; the attribute ``steps`` is a
    deprecated alias); ``errors`` absolute errors: mpmath numbers for ``mp`` (possibly below
    float range), Python floats for ``float64`` (as are ``minimum_error`` and
    ``higher_derivative``), except nonzero magnitudes below 1e-300 or above 1e300, which stay
    mpmath numbers (never a false 0 or inf); ``predicted`` the signed leading terms
    ``C h^p f^(m+p)(x)``; ``pairwise_orders`` NaN where an error is zero or not finite;
    ``observed_order`` the fitted order (NaN without a range); ``higher_derivative``
    f^(m+p)(x); ``observed_error_coefficient`` (FD − f^(m))/(h^p f^(m+p))
    at the finest step of the range.  float64 only: ``optimal_step`` and ``minimum_error`` (the
    argmin and minimum of the error) and ``textbook_optimal_step``, the minimiser of
    ``|C| h^p |f^(m+p)| + ε Σ|w| |f| / h^m``, which is ``2 sqrt(ε |f/f''|)``
    (forward) and ``(3 ε |f/f'''|)^(1/3)`` (central).
    """

    scheme: str
    expected_order: float
    error_coefficient: Fraction
    status: Status
    reason: str
    step_sizes: tuple[float, ...]
    errors: tuple[Any, ...]
    predicted: tuple[Any, ...]
    pairwise_orders: tuple[float, ...]
    observed_order: float
    asymptotic_range: tuple[float, float] | None
    higher_derivative: Any
    observed_error_coefficient: float | None
    optimal_step: float | None = None
    minimum_error: Any = None
    textbook_optimal_step: float | None = None

    @property
    def steps(self) -> tuple[float, ...]:
        """Deprecated alias of ``step_sizes`` ("steps" are the teaching steps of symgrad.steps)."""
        warn_renamed("SchemeConvergence.steps", "SchemeConvergence.step_sizes")
        return self.step_sizes

    def to_dict(self) -> dict[str, Any]:
        """The per-scheme ``converge`` JSON (docs/reference/json.md), plus orders, range and leading term."""
        p, c, rng = self.expected_order, str(self.error_coefficient), self.asymptotic_range
        return {
            "scheme": self.scheme,
            "expected_order": int(p) if p.is_integer() else p,
            "observed_order": _finite(self.observed_order),
            "error_coefficient": c,
            "status": self.status.value,
            "reason": self.reason,
            "steps": [_number(h) for h in self.step_sizes],
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
        """The ``converge`` JSON (docs/reference/json.md) plus reason, precision and derivative."""
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
    step_sizes: str | Sequence[object] = DEFAULT_STEP_SIZES,
    dps: int = 60,
    precision: str = "mp",
    variables: VariablesSpec = None,
    expected_order: float | Mapping[str, float] | None = None,
    progress: _Progress | None = None,
    steps: str | Sequence[object] | None = None,
    executor: Executor | None = None,
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
        string may list several, separated by commas.  The defaults leave out the complex step
        when f is not real-analytic (abs, sign, min, max).
    step_sizes : str or sequence
        The steps h: ``"START:STOP:N"`` (N geometrically spaced steps) or the steps (numbers or
        decimal text).
    dps : int
        Digits to which truncation errors are resolved (``mp``); digits of the reference.
    precision : {"mp", "float64"}
        Arithmetic of the finite differences (module docstring).
    expected_order : float or mapping, optional
        A claimed order, for all schemes or by scheme label.  Only the scheme's own accuracy can
        pass: any other claim fails where the data show that accuracy, and is inconclusive where
        they cannot (module docstring).
    progress : callable, optional
        Called as ``progress(done, total)`` for each (scheme, step), ``done`` counting up to
        ``total`` in order: after each step, or with an executor once the steps are back.
    steps : str or sequence, optional
        Deprecated alias of ``step_sizes`` (it warns with a ``DeprecationWarning``).
    executor : concurrent.futures.Executor, optional
        Runs the steps of an ``"mp"`` sweep as independent pieces (every scheme at one step),
        e.g. a ``ProcessPoolExecutor`` or a ``dask.distributed`` client's executor; the result
        is identical to the serial run (``None``), errors too.  Inputs are validated and the
        caps checked before any piece is submitted.  A ``"float64"`` sweep is one vectorized
        NumPy pass and runs in the calling process, as do the symbolic derivatives.

    Examples
    --------
    >>> r = convergence("exp(x)", "x=0", schemes="forward:1, central:2", step_sizes="1e-1:1e-4:7")
    >>> str(r.status), [round(s.observed_order, 2) for s in r.schemes]
    ('pass', [1.0, 2.0])
    >>> [s.to_dict()["error_coefficient"] for s in r.schemes]
    ['1/2', '1/6']
    """
    step_sizes = renamed_keyword("steps", steps, "step_sizes", step_sizes, DEFAULT_STEP_SIZES)
    executor = check_executor(executor)
    job = _job(
        expr, at, wrt, schemes, step_sizes, dps, precision, variables, expected_order,
        optional_complex=schemes is DEFAULT_SCHEMES,
    )  # fmt: skip
    rows = (
        _sweep_mp(job, progress, executor) if precision == "mp" else _sweep_float64(job, progress)
    )
    kink, moved = _kink(job), _point_rounding(job)
    out = tuple(
        _analyse(job, sch, row, kink, moved) for sch, row in zip(job.schemes, rows, strict=True)
    )
    status = combine(s.status for s in out)
    worst = [s for s in out if s.status == status]
    reason = f"every scheme {_VERB[status]}"
    exact = sum(s.status is Status.EXACT for s in out)
    if status is Status.PASS and exact:  # exact counts as passing, as in every verdict
        reason = f"{len(worst) + exact} of {len(out)} schemes pass ({exact} exact)"
    elif len(worst) < len(out):
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


def pairwise_orders(
    step_sizes: Sequence[Any] | None = None,
    errors: Sequence[Any] | None = None,
    *,
    steps: Sequence[Any] | None = None,
) -> list[float]:
    """Observed orders ``ln(E_i/E_(i+1)) / ln(h_i/h_(i+1))`` of consecutive pairs.

    NaN where an error is zero or not finite; numbers may be floats, text or mpmath numbers.
    ``step_sizes`` are the steps h; ``steps`` is their deprecated name (it warns).

    Examples
    --------
    >>> [round(p, 6) for p in pairwise_orders([0.1, 0.05, 0.025], [4e-3, 1e-3, 2.5e-4])]
    [2.0, 2.0]
    """
    hs, es = _sizes_and_errors("pairwise_orders", step_sizes, errors, steps)
    u, v = [_ln(h) for h in hs], [_ln(e) for e in es]
    return [(v[i] - v[i + 1]) / (u[i] - u[i + 1]) for i in range(len(u) - 1)]


def fit_order(
    step_sizes: Sequence[Any] | None = None,
    errors: Sequence[Any] | None = None,
    *,
    steps: Sequence[Any] | None = None,
) -> float:
    """Least-squares slope of ln E against ln h over the levels with a positive finite error.

    ``step_sizes`` are the steps h; ``steps`` is their deprecated name (it warns).

    Examples
    --------
    >>> round(fit_order([1e-1, 1e-2, 1e-3], [3e-2, 3e-4, 3e-6]), 6)
    2.0
    """
    hs, es = _sizes_and_errors("fit_order", step_sizes, errors, steps)
    pairs = [(_ln(h), _ln(e)) for h, e in zip(hs, es, strict=True)]
    pairs = [(u, v) for u, v in pairs if math.isfinite(v)]
    if len(pairs) < 2:
        return math.nan
    mu, mv = (sum(c) / len(pairs) for c in zip(*pairs, strict=True))
    sxx = sum((u - mu) ** 2 for u, _ in pairs)
    return float(sum((u - mu) * (v - mv) for u, v in pairs) / sxx)


def _sizes_and_errors(
    name: str, step_sizes: Sequence[Any] | None, errors: Sequence[Any] | None, steps: Any
) -> tuple[Sequence[Any], Sequence[Any]]:
    """The step sizes (``steps`` is their old name: it warns) and errors, both required."""
    # stacklevel 5: warn_renamed, renamed_keyword, this helper, the function: its caller
    sizes = renamed_keyword("steps", steps, "step_sizes", step_sizes, None, stacklevel=5)
    if sizes is None or errors is None:
        msg = f"{name} needs step_sizes and errors, e.g. {name}([0.1, 0.05], [4e-3, 1e-3])"
        raise ConfigError(msg)
    return sizes, errors


# -- analysis -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Evidence:
    """One scheme's sweep, ready for a verdict (see :func:`_analyse`)."""

    errors: list[Any]  # |FD − f^(m)| per step
    signed: list[Any]  # FD − f^(m) per step
    resolved: list[bool]  # above the rounding floor
    orders: list[float]  # pairwise orders
    span: tuple[int, int] | None  # the asymptotic range (step indices)
    predicted: list[Any]  # C h^p f^(m+p) per step; empty when f^(m+p) is unknown
    hi: Any  # f^(m+p)(x), None when not a finite real number
    notes: list[str]  # per step: what sets the floor, when unusual ('' otherwise)


def _kink(job: _Job) -> str:
    """Why no scheme can be judged: a kink at the point ('' for none; analytic f has none)."""
    if job.analytic:
        return ""
    point = dict(zip(job.f.variables, job.x0, strict=True))
    wrt = (job.f.variables[job.axis].name, job.m)
    try:
        probe = finite_difference(job.f, point, wrt, dps=job.dps)
    except SymgradError as exc:  # no probe, no proof of smoothness
        return f"f may have a kink here and the probe for it could not run ({exc})"
    if probe.status is not PointStatus.NONSMOOTH:
        return ""
    return f"f is not smooth at this point ({probe.reason}): no order can be measured here"


def _point_rounding(job: _Job) -> Any:
    """|f^(m)(float(x)) − f^(m)(x)|: how far rounding the point moves every scheme's value.

    A float64 sweep runs at float(x_k), within ε |x_k|/2 of the point where the exact derivative
    is taken (the same point when x_k is a float64 number), so every scheme approximates f^(m)
    there.  The shift is f^(m) at both points, at the working precision: exact also where a
    derivative of f^(m) is singular at x (x·sqrt(y − 1/10) at the decimal y = 0.1, whose first-
    order term Σ δ_k ∂_k f^(m) is infinite while the shift is 2.4e-9).  An mp sweep and its
    reference share the point: 0.  Infinite when f^(m) is not a finite real number at float(x),
    where float64 then computes nothing the scheme can be judged by.
    """
    ctx = job.ctx
    rounded = [ctx.mpf(float(v)) for v in job.x]
    if not job.float64 or rounded == job.x:
        return ctx.zero
    _, fn = job.partial(job.m).mp_function(ctx.dps)
    there, here = _call(ctx, fn, rounded, real=True), job.deriv(job.m)  # here: cached
    if ctx.isnan(there) or here is None:
        return ctx.inf
    return abs(there - here)


def _floors(job: _Job, sch: _Scheme, row: _Row, moved: Any) -> tuple[list[Any], list[str]]:
    """The rounding floor per step (module docstring), and what sets it where it is unusual.

    ``floor_ulps · (ε (Σ|w| F / h^m + |f^(m)|) + Σ|w| e / h^m + η (n / h^m + 1) + moved)``:
    ε the unit roundoff, F = max |f| over the stencil plus |x f'| (the rounding of x + s h);
    e the measured float64 error of f's formula near the stencil (:func:`_evaluation_noise`);
    η the absolute spacing of float64 near 0 (2^-1074; 0 in mp, whose exponents do not
    underflow), for n = Σ|w| values (one, Im f, for the complex step) and the result;
    ``moved`` the rounding of the point (:func:`_point_rounding`).  The note of a step names
    the part that sets the floor when it is not the usual rounding ('' otherwise).
    """
    exact, m = job.deriv(job.m), job.m
    shift = abs(job.x[job.axis] * (job.deriv(1) or 0))  # rounding of x + s h, times f'
    ulps, tiny = TOLERANCES["floor_ulps"], _tiny(job)
    n = sch.weight_sum if sch.stencil is not None else 1.0
    noise = _evaluation_noise(job) if sch.stencil is not None else [0] * len(row)
    floors, notes = [], []
    for (_, big), h, e in zip(row, job.step_sizes, noise, strict=True):
        relative = job.unit * (sch.weight_sum * (big + shift) / h**m + abs(exact))
        parts = (relative, tiny * (n / h**m + 1), moved, sch.weight_sum * e / h**m)
        floors.append(ulps * sum(parts))
        notes.append(_floor_note(job, parts, e))
    return floors, notes


def _evaluation_noise(job: _Job) -> list[Any]:
    """float64 only: per step h, max |f64(t) − f(t)| over t = x, x − h, x + h (float64 points).

    The relative part of the floor assumes f evaluated to a few ulps of F; a formula that
    cancels (log(1 + x)/x at 1e-8 has relative error ε/x) is off by far more, and its noise,
    amplified by Σ|w|/h^m, looks like a diverging stencil.  Measured against f at the same
    float64 points at the working precision (the point's own rounding is counted apart), once
    per job (cached); 0 in mp.
    """
    if job.noise is None:
        job.noise = _measure_noise(job) if job.float64 else [0] * len(job.step_sizes)
    return job.noise


def _measure_noise(job: _Job) -> list[Any]:
    ctx, a = job.ctx, job.axis
    x = [float(v) for v in job.x]
    _, fn = job.f.mp_function(ctx.dps)

    def error(t: float) -> Any:
        args = [*x[:a], t, *x[a + 1 :]]
        with np.errstate(all="ignore"):
            fast = float(np.asarray(job.f(*args), dtype=float).reshape(-1)[0])
        exact = _call(ctx, fn, [ctx.mpf(v) for v in args], real=True)
        if not (math.isfinite(fast) and ctx.isfinite(exact)):
            return ctx.zero  # non-finite values are errors of their own (NaN in the sweep)
        return abs(ctx.mpf(fast) - exact)

    centre = error(x[a])
    return [max(centre, error(x[a] - float(h)), error(x[a] + float(h))) for h in job.step_sizes]


def _floor_note(job: _Job, parts: tuple[Any, Any, Any, Any], noise: Any) -> str:
    """Why the floor is high: float64's underflow, the point's rounding or f's own formula."""
    relative, absolute, point, formula = parts
    name, ctx = _dname(job.m), job.ctx
    if absolute > max(relative, point, formula):
        return (
            f"; the floor is set by float64's smallest subnormal {float(_tiny(job)):.2g}, and "
            f"{name} ≈ {ctx.nstr(abs(job.deriv(job.m)), 3)} here: float64 cannot resolve "
            "these errors at any step, use precision='mp'"
        )
    if ctx.isinf(point):
        return (
            f"; the floor is set by rounding the point to float64, where {name} is not a "
            "finite real number: give a point that is a float64 number or use precision='mp'"
        )
    if point > max(relative, formula):
        return (
            f"; the floor is set by rounding the point to float64, which moves {name} by "
            f"≈ {ctx.nstr(point, 3)}: give a point that is a float64 number or use "
            "precision='mp'"
        )
    if formula > relative:
        return (
            f"; the floor is set by the float64 evaluation of f itself, off by up to "
            f"≈ {ctx.nstr(noise, 3)} near x (measured against its exact values): rewrite the "
            "formula or use precision='mp'"
        )
    return ""


def _tiny(job: _Job) -> Any:
    """η: float64's smallest subnormal 2^-1074 (its spacing near 0); 0 in mp."""
    return job.ctx.ldexp(1, -1074) if job.float64 else job.ctx.zero


def _analyse(job: _Job, sch: _Scheme, row: _Row, kink: str, moved: Any) -> SchemeConvergence:
    ctx, m, p, exact = job.ctx, job.m, sch.order, job.deriv(job.m)
    signed = [d - exact for d, _ in row]
    errors = [abs(e) for e in signed]
    floors, notes = _floors(job, sch, row, moved)
    resolved = [ctx.isfinite(e) and e > fl for e, fl in zip(errors, floors, strict=True)]
    orders = pairwise_orders(job.step_sizes, errors)
    span = _asymptotic_range(orders, resolved)
    hi = job.deriv(m + p)
    predicted = [] if hi is None else [sch.constant * h**p * hi for h in job.step_sizes]
    ev = _Evidence(errors, signed, resolved, orders, span, predicted, hi, notes)
    if kink:  # whatever the errors did, there is no derivative to converge to
        fitted = math.nan if span is None else fit_order(*_in_range(job.step_sizes, errors, span))
        status, reason = Status.INCONCLUSIVE, kink
    else:
        status, reason, fitted = _verdict(job, sch, ev)
    b = None if span is None else span[1]
    coef = None if b is None or not hi else float(signed[b] / (job.step_sizes[b] ** p * hi))
    hs = tuple(float(h) for h in job.step_sizes)
    shown = tuple(_as_float(e) for e in errors) if job.float64 else tuple(errors)
    return SchemeConvergence(
        sch.label, sch.expected, sch.constant, status, reason, hs, shown,
        tuple(predicted), tuple(orders), fitted,
        None if span is None else (hs[span[0]], hs[span[1]]),
        None if hi is None else _as_float(hi), coef, *_optimum(job, sch, errors, hi),
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


def _verdict(job: _Job, sch: _Scheme, ev: _Evidence) -> tuple[Status, str, float]:
    """Status, reason and fitted order (the rules of the module docstring, in their order)."""
    if not any(ev.resolved) and all(job.ctx.isfinite(e) for e in ev.errors):
        return (*_unresolved(job, sch, ev.notes[0]), math.nan)
    if ev.span is None or ev.span[1] - ev.span[0] + 1 < TOLERANCES["min_steps"]:
        return Status.INCONCLUSIVE, _too_few(job, ev), math.nan
    fitted = fit_order(*_in_range(job.step_sizes, ev.errors, ev.span))
    return (*_judge_order(job, sch, ev, ev.span, fitted), fitted)


def _in_range(
    steps: Sequence[Any], errors: Sequence[Any], span: tuple[int, int]
) -> tuple[Sequence[Any], Sequence[Any]]:
    return steps[span[0] : span[1] + 1], errors[span[0] : span[1] + 1]


def _judge_order(
    job: _Job, sch: _Scheme, ev: _Evidence, span: tuple[int, int], fitted: float
) -> tuple[Status, str]:
    """The verdict on an asymptotic range: the stencil's own accuracy p decides, not the claim."""
    tol, p, (a, b) = TOLERANCES["order"], sch.order, span
    finest, claim = ev.orders[b - 1], _claim(sch)
    where = f"order {fitted:.2f} over h = {float(job.step_sizes[a]):.3g} … {float(job.step_sizes[b]):.3g}"
    if min(fitted, finest) > p + tol:
        return Status.INCONCLUSIVE, _faster(job, sch, ev, b, where)
    drift = _drift(job, ev.orders, span)
    if drift > TOLERANCES["drift"]:
        return Status.INCONCLUSIVE, (
            f"observed orders still drift by {drift:.2f} per e-fold of h over h = "
            f"{float(job.step_sizes[a]):.3g} … {float(job.step_sizes[b]):.3g} (settled means at most "
            f"{TOLERANCES['drift']:g}); extend the step range to smaller steps"
        )
    if ev.hi is None:
        return Status.INCONCLUSIVE, (
            f"{_dname(job.m + p)} is not a finite real number here, so the error expansion of "
            f"{sch.label} does not apply (observed {where}{claim})"
        )
    if max(fitted, finest) < p - tol and not job.analytic:  # a kink near x, or none
        return Status.INCONCLUSIVE, (
            f"observed {where} is below the accuracy {p} of {sch.label}{claim}, but f is not "
            "smooth everywhere (abs, sign, min, max): a kink within reach of the stencil slows "
            "it down; choose a point farther from the kink or smaller steps"
        )
    if max(fitted, finest) < p - tol:
        return _slower(job, sch, ev.errors[b], b, where)
    if abs(fitted - p) > tol or abs(finest - p) > tol:
        return Status.INCONCLUSIVE, (
            f"observed {where} (finest pair {finest:.2f}) is neither within {tol} of the accuracy "
            f"{p} of {sch.label} nor clearly away from it; extend the step range"
        )
    return _against_leading_term(job, sch, ev, span, where)


def _against_leading_term(
    job: _Job, sch: _Scheme, ev: _Evidence, span: tuple[int, int], where: str
) -> tuple[Status, str]:
    """The order is p: the error must also be the leading term C h^p f^(m+p) at the finest step."""
    p, b, lead = sch.order, span[1], _lead(job, sch)
    if not ev.hi:
        return Status.INCONCLUSIVE, (
            f"observed {where} matches the accuracy {p} of {sch.label}, but its leading term "
            f"{lead} vanishes here ({_dname(job.m + p)} {_zero_text(job, job.m + p)}) while "
            "the error does not: the "
            "expansion does not describe this point; choose another point"
        )
    ratio = float(ev.signed[b] / ev.predicted[b])
    if not abs(ratio - 1) <= TOLERANCES["leading"]:
        return Status.INCONCLUSIVE, (
            f"observed {where} matches the accuracy {p} of {sch.label}, but at h = "
            f"{float(job.step_sizes[b]):.3g} the error is {ratio:.3g} times its leading term {lead}; "
            "extend the step range to smaller steps"
        )
    if sch.expected != p:
        return Status.FAIL, (
            f"observed {where} is the accuracy {p} of {sch.label} (exact, from its weights), "
            f"not the claimed {sch.expected:g}"
        )
    n = b - span[0] + 1
    return Status.PASS, (
        f"observed {where} ({n} steps) matches the accuracy {p} of {sch.label} within "
        f"{TOLERANCES['order']}, and the error is {ratio:.4f} times its leading term {lead}"
    )


def _slower(job: _Job, sch: _Scheme, error: Any, b: int, where: str) -> tuple[Status, str]:
    """An order below p (r and o): a fail only if the error stays far above every term.

    The error at the finest step b is compared with the first nonzero term C_j h^j f^(m+j) of
    the expansion.  Far above it, the differences are not converging to the derivative.  Not
    far above it, the steps reach beyond where the expansion holds (a singularity of f within
    reach of the stencil): no verdict.
    """
    p, h, claim = sch.order, job.step_sizes[b], _claim(sch)
    term = _first_term(job, sch, h)
    lost = _complex_loss(job, sch, b)
    if lost and error <= lost:
        return Status.INCONCLUSIVE, (
            f"observed {where} is below the accuracy {p} of {sch.label}{claim}, but at h = "
            f"{float(h):.3g} the error ({job.ctx.nstr(error, 3)}) is within what f(x + ih) "
            f"may lose of its imaginary part h f' beside |f| ≈ {job.ctx.nstr(job.deriv(0), 3)} "
            f"({job.ctx.nstr(lost, 3)}): the complex values, not the scheme, may be off here; "
            "use a stencil" + ("" if job.float64 else " or raise dps")
        )
    if term is not None and error >= TOLERANCES["vanish"] * term:
        return Status.FAIL, (
            f"observed {where} is below the accuracy {p} of {sch.label}{claim}, and at h = "
            f"{float(h):.3g} the error is {job.ctx.nstr(error / term, 3)} times the first term "
            "of its Taylor expansion: the differences do not converge to the derivative"
        )
    size = "unknown" if term is None else f"≈ {job.ctx.nstr(term, 3)}"
    return Status.INCONCLUSIVE, (
        f"observed {where} is below the accuracy {p} of {sch.label}{claim}, but at h = "
        f"{float(h):.3g} the error ({job.ctx.nstr(error, 3)}) is not far above the first term "
        f"of its Taylor expansion ({size}): the steps reach beyond where the expansion holds, "
        "as near a singularity; use smaller steps"
    )


def _settled(job: _Job, k: int) -> Any:
    """f^(k)(x), with a 0 at the working precision proven or replaced by its exact value.

    A derivative can cancel to 0 at W digits without being 0 (1 − tanh(10x)² at x = 25.5 is
    1.3e-220); an ``exact`` verdict or a skipped term needs a true 0, so a 0 is checked by
    the certified evaluation (:meth:`~symgrad.derive.Compiled.at`, which returns 0 only for a
    value that is exactly 0).  None: not finite, or not provable.
    """
    d = job.deriv(k)
    if d is None or d != 0:
        return d
    point = {v.name: r for v, r in zip(job.f.variables, job.x0, strict=True)}
    try:
        value = job.partial(k).at(point, dps=15)
    except SymgradError:
        return None
    return job.ctx.convert(value)


def _zero_text(job: _Job, k: int) -> str:
    """``= 0`` for a proven zero of f^(k), else what it is instead (W digits gave 0)."""
    d = _settled(job, k)
    if d is None:
        return "cancels to 0 at the working precision (not proven 0)"
    return "= 0" if d == 0 else f"≈ {job.ctx.nstr(d, 3)} (0 at the working precision)"


def _complex_loss(job: _Job, sch: _Scheme, b: int) -> Any:
    """The complex step's error allowed by complex values as accurate as f's, at step b.

    ``floor_ulps · (ε |f(x)| + e) / h``: NumPy's or mpmath's complex value carries its
    rounding relative to |f|, and no better than the real evaluation of the same formula (e,
    :func:`_evaluation_noise`), so its imaginary part h f' may be lost beside the real part
    (tanh(10x) at 25.5, erf at 25.5, log(1 + x)/x near 0).  Not part of the floor, since most
    complex functions keep Im to its own digits and then the errors fall as C h^2 f^(3) far
    below it (a pass needs them to); an order below 2 with errors within it is no evidence
    against the scheme.  0 for stencils.
    """
    if sch.stencil is not None or job.deriv(0) is None:
        return 0
    h, noise = job.step_sizes[b], _evaluation_noise(job)[b]
    return TOLERANCES["floor_ulps"] * (job.unit * abs(job.deriv(0)) + noise) / h


def _first_term(job: _Job, sch: _Scheme, h: Any) -> Any:
    """|C_j h^j f^(m+j)(x)| of the first nonzero term; None if a derivative is not finite."""
    for j, c in sch.series:
        d = _settled(job, job.m + j)
        if d is None:
            return None
        if d:
            return abs(c * h**j * d)
    return None


def _faster(job: _Job, sch: _Scheme, ev: _Evidence, b: int, where: str) -> str:
    """Why an order above the stencil's accuracy p confirms nothing (b: the finest step)."""
    p, claim = sch.order, _claim(sch)
    big = bool(ev.predicted) and ev.errors[b] >= TOLERANCES["vanish"] * abs(ev.predicted[b])
    if ev.hi is not None and (ev.hi == 0 or big):
        value = _zero_text(job, job.m + p) if ev.hi == 0 else f"≈ {job.ctx.nstr(ev.hi, 3)}"
        return (
            f"leading error term vanishes at this point: {_dname(job.m + p)} {value}, choose "
            f"another point (observed {where}; {sch.label} has accuracy {p}{claim})"
        )
    return (
        f"observed {where} is above the accuracy {p} of {sch.label}{claim}: its leading term "
        f"{_lead(job, sch)} has not taken over yet; extend the step range to smaller steps"
    )


def _unresolved(job: _Job, sch: _Scheme, note: str) -> tuple[Status, str]:
    """No error above the floor: exact only if the error expansion vanishes term by term.

    ``note`` says what sets the floor at the largest step when it is not the usual rounding.
    """
    h0 = job.step_sizes[0]
    for j, c in sch.series:
        d = _settled(job, job.m + j)
        if d is None or d != 0:
            size = (
                "not a finite number proven here"
                if d is None
                else f"≈ {job.ctx.nstr(abs(c * h0**j * d), 3)}"
            )
            where = " or use precision='mp'" if job.float64 else ""
            return Status.INCONCLUSIVE, (
                f"every error is at the rounding floor, which hides the truncation error (its "
                f"term {c} h^{j} {_dname(job.m + j)} is {size} at h = {float(h0):.3g})"
                f"{note or '; start the sweep at larger steps' + where}"
            )
    terms = ", ".join(_dname(job.m + j) for j, _ in sch.series)
    return Status.EXACT, (
        f"every error is at the rounding floor and the error terms vanish here ({terms} = 0): "
        f"{sch.label} is exact here"
    )


def _drift(job: _Job, orders: Sequence[float], span: tuple[int, int]) -> float:
    """|d(order)/d ln h| at the fine end of the range: how far the order may still move.

    For a smooth f the pairwise order behaves as o(h) = p + κ h^s + … (s >= 1), so the distance
    still to go, |o − p| = |do/d ln h| / s, is at most the slope; it is fitted to the finest
    three pairwise orders (each placed at the middle of its two ln h).
    """
    a, b = span
    u = [(_ln(job.step_sizes[i]) + _ln(job.step_sizes[i + 1])) / 2 for i in range(a, b)][-3:]
    v = list(orders[a:b])[-3:]
    mu, mv = sum(u) / len(u), sum(v) / len(v)
    sxx = sum((x - mu) ** 2 for x in u)
    return abs(sum((x - mu) * (y - mv) for x, y in zip(u, v, strict=True)) / sxx)


def _claim(sch: _Scheme) -> str:
    return "" if sch.expected == sch.order else f", claimed {sch.expected:g}"


def _lead(job: _Job, sch: _Scheme) -> str:
    """``1/6 h^2 f'''``: the scheme's leading error term."""
    h = "h" if sch.order == 1 else f"h^{sch.order}"
    return f"{sch.constant} {h} {_dname(job.m + sch.order)}"


def _too_few(job: _Job, ev: _Evidence) -> str:
    errors, resolved, span = ev.errors, ev.resolved, ev.span
    count = 0 if span is None else span[1] - span[0] + 1
    need = f"{count} consistent steps, {TOLERANCES['min_steps']:g} needed"
    first = next((i for i, e in enumerate(errors) if job.ctx.isfinite(e) and not resolved[i]), None)
    if first is not None and any(resolved[:first]):
        return (
            f"round-off floor reached at h = {float(job.step_sizes[first]):.3g} before the asymptotic "
            f"range ({need}){ev.notes[first] or '; start the sweep at larger steps'}"
        )
    return f"too few steps in the asymptotic range ({need}); add steps or change the sweep"


def _optimum(job: _Job, sch: _Scheme, errors: list[Any], hi: Any) -> tuple[Any, ...]:
    """float64 only: the measured optimal step and minimum error, and the textbook h*.

    h* is computed at the working precision: f and f^(m+p) may be nonzero numbers out of
    float range (their floats 0), where a float formula would divide by zero.
    """
    finite = [
        (e, float(h)) for e, h in zip(errors, job.step_sizes, strict=True) if job.ctx.isfinite(e)
    ]
    if not job.float64 or not finite:
        return (None, None, None)
    low, h_opt = min(finite, key=lambda t: t[0])
    ctx, f0, c, m, p = job.ctx, job.deriv(0), sch.constant, job.m, sch.order
    if sch.stencil is None or not hi or not f0:
        return (h_opt, _as_float(low), None)
    # d/dh [c h^p |f^(m+p)| + ε Σ|w| |f| h^-m] = 0  ⇒  h* = (m ε Σ|w| |f| / (p c |f^(m+p)|))^(1/(m+p))
    scale = ctx.mpf(abs(c.numerator)) / c.denominator * p * abs(hi)
    ratio = m * job.unit * ctx.mpf(sch.weight_sum) * abs(f0) / scale
    textbook = ratio ** (ctx.one / (m + p))
    # a (nearly) vanishing leading term puts h* beyond any step swept: the formula does not apply
    largest = max(job.step_sizes)
    shown = float(textbook) if _MIN_STEP <= textbook <= 10 * largest else None
    return (h_opt, _as_float(low), shown)


def _as_float(x: Any) -> Any:
    """A float where it holds x (0, or 1e-300 <= |x| <= 1e300); x itself otherwise, so that a
    nonzero number out of float range is never shown as 0 or inf."""
    v = abs(x)
    return x if 0 < v < _MIN_STEP or 1e300 < v < math.inf else float(x)


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
    for i, h in enumerate(s.step_sizes):
        order = _fmt(s.pairwise_orders[i]) if i < len(s.pairwise_orders) else ""
        predicted = _sci(s.predicted[i]) if s.predicted else "-"
        rows.append([f"{h:.3g}", _sci(s.errors[i]), order, predicted, "*" if lo >= h >= hi else ""])
    return rows


# -- numbers --------------------------------------------------------------------------------


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
