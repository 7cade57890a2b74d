"""The report's V curve: the error of difference quotients against the step, as inline SVG.

For each first-derivative scheme D(h) = Σ w_k f(x + o_k h) / h (or the complex step
Im f(x + ih)/h) the figure shows |D(h) − f′(x)| over the steps h, in two panels:

* **float64**: D(h) as the user's own float64 code computes it, at the point rounded to
  float64, against f′ there (40 exact digits).  Truncation falls as h^p until round-off,
  about ε|f|Σ|w|/h, takes over.  All the steps of a scheme are one vectorized evaluation of f
  per stencil offset, and offsets shared by schemes (f(x + h) serves forward, central:2 and
  central:4) are evaluated once.
* **dps digits**: the same quotients in mpmath at dps + 20 guard digits plus the digits the
  subtraction cancels (log10(1/h) and log10(|f|/|f′|)), rounded to dps digits, against f′ at
  the exact point (dps + 20 digits).  No round-off floor: the truncation slopes continue
  until the error reaches the rounding of the dps-digit result itself, 10^-dps |f′|.

The dashed lines are predictions, not fits: truncation A·h^p with A = |C·f^(p+1)(x)| (C the
stencil's error coefficient) and round-off B/h with B = ε|f(x)|Σ|w|; they cross near the
optimal step h* = (B/(pA))^(1/(p+1)), which the report takes from
:func:`symgrad.teaching.optimal_step_sizes` (its JSON key ``optimal_step_sizes``).  The sizes
|f^(k)| only place the guides, so 20 certified digits are plenty.

An error that is exactly 0 is a hollow triangle on the panel's floor (half an ulp of f′ in
float64, 10^-dps |f′| at dps digits); a step where f cannot be evaluated (a pole, outside the
domain, an overflow) has no point.  The complex step is drawn only for real-analytic f.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from symgrad._figures import MARKERS, MINUS, PALETTE, STEP_SIZES, FloatArray, log10_axis
from symgrad._precision import EPS, MAX_DPS, thread_context
from symgrad.derive import Compiled, derivative, function
from symgrad.errors import SymgradError
from symgrad.expr import Source
from symgrad.fd import is_real_analytic, order_of, stencils_for
from symgrad.output._svg import Axis, Chart, Panel
from symgrad.teaching import unicode_text

__all__ = ["VCurve", "v_curve", "v_curve_chart"]

_FAILS = (ArithmeticError, ValueError, TypeError)  # where mpmath cannot evaluate f
_FLOAT64_FLOOR = 15.95  # decades below |f'|: half an ulp, 2^-53


@dataclass(frozen=True)
class VCurve:
    """The data of the figure: log10 of each scheme's error per step, in both panels.

    ``float64`` and ``precise`` map a scheme to log10 |D(h) − f′| per step (−inf where the
    error is exactly 0, NaN where D(h) could not be evaluated); ``models`` map it to the
    truncation and round-off model (p, A, B); ``evaluations`` counts the values of f computed.
    """

    name: str
    point: Mapping[str, Any]  # exact coordinates
    exact: Any  # f' at the exact point, dps + 20 digits
    dps: int
    log_h: FloatArray
    float64: Mapping[str, FloatArray]
    precise: Mapping[str, FloatArray]
    models: Mapping[str, tuple[int, float, float]]
    evaluations: int


def v_curve(
    expr: Source,
    at: str | Mapping[str, Any],
    wrt: str,
    schemes: Sequence[str],
    variables: Sequence[str],
    *,
    dps: int = 50,
    step_sizes: Sequence[float] = tuple(STEP_SIZES),
) -> VCurve:
    """The V curve's errors of d/d``wrt`` at ``at`` for first-derivative ``schemes``.

    Examples
    --------
    >>> curve = v_curve("exp(x)", "x=0", "x", ["forward:1"], ["x"], step_sizes=[1e-2, 1e-8])
    >>> [round(float(e), 2) for e in curve.precise["forward:1"]]  # h/2 f'' for forward
    [-2.3, -8.3]
    """
    f = function(expr, list(variables))
    counts = order_of(wrt, f.variables)
    axis = counts.index(1)
    names = [v.name for v in f.variables]
    point = f.point_values(at)
    d1 = derivative(f.exprs, wrt, variables=f.variables)
    exact = d1.at(point, min(dps + 20, MAX_DPS))[()]
    floats = [float(r) for r in point]
    exact64 = d1.at(floats, 40)[()]
    hs = np.asarray(step_sizes, dtype=float)
    usable = [s for s in schemes if s != "complex" or is_real_analytic(f)]
    sizes = _Sizes(f, wrt, point)
    quotients = _Quotients(f, axis, usable, counts)
    float64 = {s: _errors(quotients.float64(s, floats, hs), exact64, 40) for s in usable}
    precise = quotients.precise(point, hs, dps, sizes.ratio(exact))
    return VCurve(
        name=wrt,
        point=dict(zip(names, point, strict=True)),
        exact=exact,
        dps=dps,
        log_h=np.log10(hs),
        float64=float64,
        precise={s: _errors(values, exact, dps + 20) for s, values in precise.items()},
        models={s: sizes.model(quotients.stencil(s)) for s in usable},
        evaluations=quotients.evaluations,
    )


class _Sizes:
    """|f^(k)| at the point, 20 certified digits, each order computed once (NaN where the
    derivative is not a finite real number there)."""

    def __init__(self, f: Compiled, name: str, point: Sequence[Any]) -> None:
        self.f, self.name, self.point = f, name, point
        self.known: dict[int, float] = {}

    def __call__(self, order: int) -> float:
        if order not in self.known:
            try:
                g = (
                    derivative(self.f.exprs, self.name, order, variables=self.f.variables)
                    if order
                    else self.f
                )
                value = g.at(self.point, 20)[()]
                self.known[order] = abs(float(value))
            except (SymgradError, *_FAILS):
                self.known[order] = math.nan
        return self.known[order]

    def ratio(self, exact: Any) -> float:
        """|f| / |f′|: the digits a difference quotient cancels beyond log10(1/h)."""
        slope = abs(float(exact))
        return self(0) / slope if slope else 1.0

    def model(self, stencil: Any) -> tuple[int, float, float]:
        """(p, A, B): truncation A·h^p and float64 round-off B/h."""
        if stencil is None:  # the complex step: −h² f‴/6, no subtraction, no round-off
            return 2, self(3) / 6, 0.0
        weights = sum(abs(float(w)) for w in stencil.weights)
        truncation = abs(float(stencil.error_coefficient)) * self(stencil.accuracy + 1)
        return stencil.accuracy, truncation, EPS * self(0) * weights


class _Quotients:
    """The difference quotients of every scheme, f evaluated once per offset and precision."""

    def __init__(self, f: Compiled, axis: int, schemes: Sequence[str], counts: Any) -> None:
        self.f, self.axis, self.schemes = f, axis, schemes
        self.stencils: dict[str, Any] = {
            s: None if s == "complex" else next(t for t in stencils_for(s, counts) if t)
            for s in schemes
        }
        self.evaluations = 0
        self.f64: dict[float, Any] = {}  # f at x + offset·h for every step, per offset

    def stencil(self, scheme: str) -> Any:
        return self.stencils[scheme]

    def terms(self, scheme: str) -> list[tuple[Fraction, Fraction]]:
        stencil = self.stencils[scheme]
        return [(o, w) for o, w in zip(stencil.offsets, stencil.weights, strict=True) if w]

    def float64(self, scheme: str, x: list[float], hs: FloatArray) -> Any:
        """D(h) for every step at once, in float64 (the complex step in complex128)."""
        with np.errstate(all="ignore"):
            if self.stencils[scheme] is None:
                moved: list[Any] = [*x]
                moved[self.axis] = x[self.axis] + 1j * hs
                self.evaluations += hs.size
                return np.asarray(self.f.complex_call(*moved)).imag / hs
            total: Any = 0.0
            for offset, weight in self.terms(scheme):
                total = total + float(weight) * self._at64(x, float(offset), hs)
            return total / hs

    def _at64(self, x: list[float], offset: float, hs: FloatArray) -> Any:
        if offset not in self.f64:
            shifted: list[Any] = [*x]
            shifted[self.axis] = x[self.axis] + offset * hs
            self.f64[offset] = np.broadcast_to(self.f(*shifted), hs.shape)
            self.evaluations += hs.size
        return self.f64[offset]

    def precise(
        self, point: Sequence[Any], hs: FloatArray, dps: int, ratio: float
    ) -> dict[str, list[Any]]:
        """D(h) of every scheme at dps digits (see the module docstring), None where f fails."""
        lost = math.ceil(-math.log10(float(hs.min()))) + max(0, math.ceil(math.log10(ratio)))
        work = min(MAX_DPS, dps + 20 + max(0, lost))
        ctx, fn = self.f.mp_function(work)
        x = [ctx.mpf(r.p) / r.q for r in point]
        shown = thread_context(dps)
        out: dict[str, list[Any]] = {s: [] for s in self.schemes}
        for h in hs:
            step = ctx.mpf(float(h))
            values = _Evaluate(ctx, fn, x, self.axis, step)
            for scheme in self.schemes:
                value = self._precise_one(scheme, values, step)
                out[scheme].append(None if value is None else shown.mpf(value))
            self.evaluations += values.count
        return out

    def _precise_one(self, scheme: str, values: _Evaluate, step: Any) -> Any:
        if self.stencils[scheme] is None:
            return values.imaginary()
        total = values.ctx.zero
        for offset, weight in self.terms(scheme):
            value = values(offset)
            if value is None:
                return None
            total += values.ctx.mpf(weight.numerator) / weight.denominator * value
        return total / step


class _Evaluate:
    """f at x + o·h along one axis in mpmath, each offset once; None where f fails there."""

    def __init__(self, ctx: Any, fn: Callable[..., Any], x: list[Any], axis: int, h: Any) -> None:
        self.ctx, self.fn, self.x, self.axis, self.h = ctx, fn, x, axis, h
        self.known: dict[Fraction, Any] = {}
        self.count = 0

    def _call(self, coordinate: Any) -> Any:
        moved = [*self.x]
        moved[self.axis] = coordinate
        self.count += 1
        try:
            return self.fn(*moved)[0]
        except _FAILS:
            return None

    def __call__(self, offset: Fraction) -> Any:
        if offset not in self.known:
            shift = self.ctx.mpf(offset.numerator) / offset.denominator * self.h
            value = self._call(self.x[self.axis] + shift)
            real = isinstance(value, self.ctx.mpf) and self.ctx.isfinite(value)
            self.known[offset] = value if real else None
        return self.known[offset]

    def imaginary(self) -> Any:
        """Im f(x + ih)/h, None where f fails or is not finite there."""
        value = self._call(self.ctx.mpc(self.x[self.axis], self.h))
        if value is None or not self.ctx.isfinite(value):
            return None
        return self.ctx.mpc(value).imag / self.h


def _errors(values: Any, exact: Any, dps: int) -> FloatArray:
    """log10 |D(h) − f′| per step, exactly (the subtraction in mpmath at ``dps`` digits);
    NaN where D(h) is missing (None) or not finite (a float64 overflow or NaN)."""
    ctx = thread_context(dps)
    reference = ctx.convert(exact)
    errors = []
    for value in values:
        number = None if value is None else ctx.convert(value)
        finite = number is not None and ctx.isfinite(number)
        errors.append(number - reference if finite else None)
    return log10_axis(errors)


# -- the figure -------------------------------------------------------------------------------


def v_curve_chart(
    curve: VCurve, expr: Source, optimal: Mapping[str, float | None], ident: str = "v-curve"
) -> str:
    """The two panels as one inline SVG; the optimal steps are marked where given."""
    slope = abs(float(curve.exact)) or 1.0
    panels = [
        _panel(curve, "float64", curve.float64, math.log10(slope) - _FLOAT64_FLOOR, optimal),
        _panel(curve, f"{curve.dps} digits", curve.precise, math.log10(slope) - curve.dps, None),
    ]
    where = ", ".join(f"{k} = {v}" for k, v in curve.point.items())
    title = [
        (
            f"Error of d/d{curve.name} {unicode_text(str(expr))} at {where} against the step h "
            f"(exact value {float(curve.exact):.12g})"
        ),
        (
            f"float64: truncation (slope p) meets round-off (slope {MINUS}1);  "
            f"{curve.dps} digits with guard digits: no round-off floor"
        ),
    ]
    return Chart(title, panels, ident, columns=3, alt="V curve: error against step").to_svg()


def _panel(
    curve: VCurve,
    title: str,
    errors: Mapping[str, FloatArray],
    floor: float,
    optimal: Mapping[str, float | None] | None,
) -> Panel:
    """One panel: each scheme's errors, its predicted lines, and (float64) its optimal step."""
    log_h = curve.log_h
    shown = np.concatenate([e[np.isfinite(e)] for e in errors.values()] or [np.array([])])
    zeros = any(np.isneginf(e).any() for e in errors.values())
    low = min(float(shown.min()) if shown.size else floor, floor if zeros else math.inf)
    high = float(shown.max()) if shown.size else floor + 1
    y = Axis("|error| of the estimate", True, low - 0.7, high + 1.0)
    panel = Panel(title, Axis.fit("step h", True, log_h), y)
    for k, (scheme, logs) in enumerate(errors.items()):
        color = PALETTE[k % len(PALETTE)]
        panel.line(log_h, logs, color, label=scheme, marker=MARKERS[k % 7], size=6.0, width=1.5)
        if np.isneginf(logs).any():
            label = f"{scheme}: exactly 0 (\u25bd, at the floor)"
            panel.zeros(log_h[np.isneginf(logs)], floor, color, label=label, size=12.0 - 2 * k)
        _guides(panel, curve, scheme, color, roundoff=optimal is not None)
        if optimal is not None and optimal.get(scheme) is not None:
            best = float(optimal[scheme])  # type: ignore[arg-type]
            panel.vline(math.log10(best), color, label=f"{scheme}: optimal h* ≈ {best:.1e}")
    return panel


def _guides(panel: Panel, curve: VCurve, scheme: str, color: str, *, roundoff: bool) -> None:
    """The predicted truncation line, and in float64 (``roundoff``) the round-off line."""
    p, a, b = curve.models[scheme]
    log_h = np.sort(curve.log_h)
    if a > 0 and math.isfinite(a):
        text = f"{scheme} truncation: slope {p}"
        panel.guide(log_h, math.log10(a) + p * log_h, color, text=text, at=None)
    if roundoff and b > 0 and math.isfinite(b):
        text = f"{scheme} round-off: slope {MINUS}1"
        panel.guide(log_h, math.log10(b) - log_h, color, text=text, at=None, dash="-.")
