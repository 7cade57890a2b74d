"""Figures for teaching: the V curve, secant and tangent lines, gradient fields.

Each function builds and returns a :class:`matplotlib.figure.Figure` (the ``plot`` extra); see
:mod:`symgrad._figures` for the conventions they share.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from symgrad._precision import MAX_DPS, check_dps, thread_context
from symgrad.derive import Compiled, derivative, function, gradient
from symgrad.errors import ConfigError, quote
from symgrad.expr import Source, VariablesSpec, parse_domain, parse_number, parse_point
from symgrad.fd import finite_difference, order_of, renamed_keyword, stencils_for
from symgrad.results import PointStatus
from symgrad.teaching._rules import unicode_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
from symgrad._figures import (
    MARKERS,
    MIN_FONT,
    MINUS,
    PALETTE,
    PRIME,
    STEP_SIZES,
    FloatArray,
    LogAxis,
    draw_zeros,
    guide,
    log10_axis,
    new_figure,
    point_text,
    shared_legend,
)
from symgrad._precision import EPS

__all__ = ["optimal_step_sizes", "plot_gradient_field", "plot_secant_tangent", "plot_step_error"]

# -- the V curve: truncation against round-off ---------------------------------------------


@dataclass(frozen=True)
class _Sweep:
    f: Compiled
    name: str  # the variable differentiated
    point: dict[str, Any]  # exact coordinates
    floats: dict[str, float]  # the same rounded to float64
    step_sizes: FloatArray
    dps: int
    exact: tuple[Any, Any]  # f' at the exact point (dps + 20 digits) and at the float64 point
    sizes: dict[int, float] = field(default_factory=dict)  # size(order), each computed once

    def size(self, order: int) -> float:
        """|f^(order)| at the point, for the error models (NaN where it is not finite)."""
        if order not in self.sizes:
            g = (
                derivative(self.f.exprs, self.name, order, variables=self.f.variables)
                if order
                else None
            )
            self.sizes[order] = abs(float(_exact(g or self.f, self.point, 20, strict=False)))
        return self.sizes[order]

    @functools.cached_property
    def noise(self) -> float:
        """f's float64 rounding near the point: the largest |f64(t) − f(t)| over t = x and its
        eight float64 neighbours on each side, f(t) evaluated exactly at those float64 points.

        A formula can lose far more than ε|f|: sin(1e8*x) rounds 1e8·x, an error of ε|x f′|.
        """
        x = self.floats[self.name]
        ts = [x]
        for direction in (-math.inf, math.inf):
            t = x
            for _ in range(8):
                t = math.nextafter(t, direction)
                ts.append(t)
        names = [v.name for v in self.f.variables]
        args = [np.array(ts) if n == self.name else np.full(len(ts), self.floats[n]) for n in names]
        with np.errstate(all="ignore"):
            fast = np.asarray(self.f(*args), dtype=float).reshape(-1, len(ts))[0]
        worst = 0.0
        for t, value in zip(ts, fast, strict=True):
            exact = _exact(self.f, {**self.floats, self.name: t}, 30, strict=False)
            if math.isfinite(value) and math.isfinite(float(exact)):
                worst = max(worst, abs(float(exact - value)))
        return worst

    def model(self, scheme: str) -> tuple[int, float, float]:
        """(p, A, B): truncation A·h^p and float64 round-off B/h of a first-derivative scheme.

        B = max(ε|f|, the measured rounding of f near x) · Σ|w|: ε|f| gives the textbook
        steps; a formula that rounds more (sin(1e8*x)) moves h* up to where its rounding is
        outweighed.
        """
        if scheme == "complex":  # Im f(x+ih)/h − f′ = −h² f‴/6 + O(h⁴), with no subtraction
            return 2, self.size(3) / 6, 0.0
        counts = [int(v.name == self.name) for v in self.f.variables]
        (s,) = [s for s in stencils_for(scheme, counts) if s is not None]
        weights = sum(abs(float(w)) for w in s.weights)
        a = abs(float(s.error_coefficient)) * self.size(s.accuracy + 1)
        return s.accuracy, a, max(EPS * self.size(0), self.noise) * weights

    def optimal(self, scheme: str) -> float | None:
        """h* = (B / (p A))^(1/(p+1)), where A h^p + B/h is least; None without a minimum.

        Never below the float64 spacing at x, the smallest step that moves x at all.
        """
        p, a, b = self.model(scheme)
        if not (a > 0 and b > 0):
            return None
        smallest = float(np.spacing(abs(self.floats[self.name])))
        return max(float((b / (p * a)) ** (1 / (p + 1))), smallest)


def plot_step_error(
    expr: Source,
    at: str | Mapping[str, Any],
    wrt: str | None = None,
    *,
    schemes: Sequence[str] = ("forward:1", "central:2", "complex"),
    step_sizes: Sequence[float] | None = None,
    dps: int = 50,
    variables: VariablesSpec = None,
    steps: Sequence[float] | None = None,
) -> Figure:
    """The V curve: the error of finite-difference first derivatives against the step h.

    Left, float64: the truncation error |C f^(p+1)| h^p falls with h until round-off, about
    ε|f|Σ|w|/h, takes over (slope −1).  Each real-step scheme's optimal step is marked,
    h* = (ε|f|Σ|w| / (p·|C f^(p+1)|))^(1/(p+1)): the textbook 2·sqrt(ε|f/f″|) for forward and
    (3ε|f/f‴|)^(1/3) for central differences (ε|f| is replaced by f's measured float64
    rounding near the point where that is larger: sin(1e8*x) rounds 1e8·x).  The complex step
    Im f(x+ih)/h subtracts nothing, so it has no round-off branch.  Right: the same formulas at ``dps`` digits with
    guard digits; the floor is gone and the truncation slopes continue.  Dashed lines are
    these predictions, not fits.  Errors that are exactly 0 are drawn at the floor (half an
    ulp of f′, or 10^-dps·|f′|).

    Parameters
    ----------
    expr : str or sympy.Expr
        The function.
    at : str or mapping
        The point, ``"x=1"`` or ``"x=0.3, y=0.7"`` (exact decimals).
    wrt : str, optional
        The variable to differentiate along; may be omitted for one variable.
    schemes : sequence of str
        One to seven stencils (``"forward:1"``, ``"central:4"``, ...) or ``"complex"``.
    step_sizes : sequence of float, optional
        The steps h; by default 46 from 1e-1 to 1e-16, three per decade.  ``steps=`` is its
        deprecated name (it warns with a ``DeprecationWarning``).
    dps : int
        Digits of the right panel.
    variables : str or sequence, optional
        Variable order, as for :func:`symgrad.function`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from symgrad.output import save_figure
    >>> fig = plot_step_error("sin(x)", "x=1")
    >>> [ax.get_title() for ax in fig.axes]
    ['float64', '50 digits']
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_figure(fig, pathlib.Path(tmp) / "v_curve.png")
    """
    step_sizes = renamed_keyword("steps", steps, "step_sizes", step_sizes, None)
    sweep = _sweep_setup(expr, at, wrt, schemes, step_sizes, dps, variables)
    fig, axes = new_figure(2, (13.0, 7.5))
    log_h = np.log10(sweep.step_sizes)
    for ax, precise in zip(axes, (False, True), strict=True):
        # where exact (zero-error) estimates are drawn: 10^-dps |f′|, or half an ulp (2^-53)
        floor = math.log10(abs(float(sweep.exact[0])) or 1.0) - (dps if precise else 15.95)
        logs = [_sweep_errors(sweep, s, precise) for s in schemes]
        zeros = [np.isneginf(e) for e in logs]
        logs = [np.where(zero, floor, e) for e, zero in zip(logs, zeros, strict=True)]
        scale, seen = LogAxis.of(log_h, *logs), set[str]()
        where = log_h if scale.linear else sweep.step_sizes
        for k, (scheme, errors) in enumerate(zip(schemes, logs, strict=True)):
            style: dict[str, Any] = {"marker": MARKERS[k], "ms": 4, "color": PALETTE[k]}
            shown = np.where(zeros[k], np.nan, errors)  # exact estimates: triangles, below
            ax.plot(where, scale(shown), label=scheme, **style)
            if zeros[k].any():
                draw_zeros(ax, where[zeros[k]], scale.at(floor), PALETTE[k], scheme, 11 - 2 * k)
            _sweep_guides(ax, scale, sweep, scheme, k, seen, roundoff=not precise)
        shown = np.concatenate(logs)[np.isfinite(np.concatenate(logs))]
        if not shown.size:
            msg = f"no difference quotient of {expr} could be evaluated near {point_text(at)}"
            raise ConfigError(msg)
        ax.set_ylim(scale.at(shown.min() - 0.7), scale.at(shown.max() + 1.0))
        scale.label(ax, "x", "step h")
        scale.label(ax, "y", "|error| of the estimate")
        ax.set_title(f"{dps} digits" if precise else "float64")
    shared_legend(fig, axes, lambda _: 3)
    fig.suptitle(
        f"Error of d/d{sweep.name} {_shown(expr)} at {point_text(sweep.point)} against the step h "
        f"(exact value {float(sweep.exact[0]):.12g})\nfloat64: truncation (slope p) meets "
        f"round-off (slope {MINUS}1);  {dps} digits with guard digits: no round-off floor"
    )
    return fig


def optimal_step_sizes(
    expr: Source,
    at: str | Mapping[str, Any],
    wrt: str | None = None,
    *,
    schemes: Sequence[str] = ("forward:1", "central:2", "complex"),
    variables: VariablesSpec = None,
) -> dict[str, float | None]:
    """The float64 step h* that balances truncation and round-off, per scheme, as the V curve
    marks it: h* = (ε|f|Σ|w| / (p·|C f^(p+1)|))^(1/(p+1)), from |f| and |f^(p+1)| at the
    point, the stencil's weights w, order p and error coefficient C; ε|f| is replaced by f's
    measured float64 rounding near the point (over x and its eight float64 neighbours on each
    side, against exact values) where that is larger.  None where the model has no minimum:
    the complex step (no subtraction, no round-off branch), or f^(p+1) = 0.

    Examples
    --------
    >>> h = optimal_step_sizes("exp(x)", "x=1")
    >>> round(h["forward:1"] / (2 * 2**-26), 6), h["complex"]  # 2 sqrt(eps |f/f''|)
    (1.0, None)
    """
    sweep = _sweep_setup(expr, at, wrt, schemes, None, 30, variables)
    return {scheme: sweep.optimal(scheme) for scheme in schemes}


def _sweep_setup(
    expr: Source,
    at: Any,
    wrt: Any,
    schemes: Any,
    step_sizes: Any,
    dps: int,
    variables: VariablesSpec,
) -> _Sweep:
    """Validate once: one first derivative, 1 to 7 known schemes, positive steps, a point."""
    f, dps = function(expr, variables), check_dps(dps)
    counts = order_of(wrt, f.variables)
    if sum(counts) != 1:
        msg = f"plot_step_error shows first derivatives: wrt must name one variable (got {wrt!r})"
        raise ConfigError(msg)
    if isinstance(schemes, str) or not 1 <= len(schemes) <= len(PALETTE):
        msg = f"schemes must be a list of 1 to {len(PALETTE)} scheme names (got {schemes!r})"
        raise ConfigError(msg)
    for scheme in schemes:  # an unknown name fails here, before any work
        _ = scheme == "complex" or stencils_for(scheme, counts)
    try:
        hs = np.asarray(STEP_SIZES if step_sizes is None else step_sizes, dtype=float)
    except (TypeError, ValueError):
        hs = np.array([])
    if hs.ndim != 1 or hs.size < 2 or not np.all(np.isfinite(hs) & (hs > 0)):
        msg = (
            "step_sizes must be two or more positive finite numbers "
            f"(got {quote(repr(step_sizes))})"
        )
        raise ConfigError(msg)
    name = f.variables[counts.index(1)].name
    point = {v.name: r for v, r in zip(f.variables, f.point_values(at), strict=True)}
    floats = {k: float(v) for k, v in point.items()}
    d1 = derivative(f.exprs, name, variables=f.variables)
    # float64 differences are taken at the rounded point, so their reference is f' there
    pair = (_exact(d1, point, min(dps + 20, MAX_DPS)), _exact(d1, floats, 40))
    return _Sweep(f, name, point, floats, hs, dps, pair)


def _exact(g: Compiled, point: Mapping[str, Any], dps: int, *, strict: bool = True) -> Any:
    """g at the point, exactly; a pole or a complex value is an error (or NaN if not strict)."""
    ctx = thread_context(dps)
    try:
        value = g.at(point, dps)[()]
    except (ZeroDivisionError, ValueError, TypeError):
        value = None
    if isinstance(value, ctx.mpf) and ctx.isfinite(value):
        return value
    if not strict:
        return math.nan
    msg = f"{g.exprs} is not a finite real number at {point_text(point)}; choose another point"
    raise ConfigError(msg)


def _sweep_errors(sweep: _Sweep, scheme: str, precise: bool) -> FloatArray:
    """log10 |D(h) − f′| per step, D the plain difference quotient (no extrapolation)."""
    cplx = scheme == "complex"
    method = ("mp-complex" if cplx else "mp") if precise else ("complex" if cplx else "float64")
    ctx = thread_context(min(sweep.dps + 20, MAX_DPS))
    exact = ctx.convert(sweep.exact[0 if precise else 1])
    point, stencil = (sweep.point if precise else sweep.floats), "central:2" if cplx else scheme
    errors: list[Any] = []
    options: dict[str, Any] = {"scheme": stencil, "method": method, "dps": sweep.dps}
    for h in sweep.step_sizes:
        r = finite_difference(
            sweep.f, point, sweep.name, step=float(h), error_control=False, **options
        )
        errors.append(ctx.convert(r.value) - exact if r.status is PointStatus.OK else None)
    return log10_axis(errors)


def _sweep_guides(
    ax: Axes, scale: LogAxis, sweep: _Sweep, scheme: str, k: int, seen: set[str], roundoff: bool
) -> None:
    """Predicted truncation and (float64) round-off lines, and the optimal step between them."""
    p, a, b = sweep.model(scheme)
    log_h = np.sort(np.log10(sweep.step_sizes))
    near_big, near_small = int(0.7 * (log_h.size - 1)), int(0.2 * (log_h.size - 1))
    if a > 0:  # each line is labelled with its scheme, in the scheme's colour
        line = math.log10(a) + p * log_h
        text = f"{scheme} truncation: slope {p}"
        guide(ax, scale(log_h), scale(line), text, PALETTE[k], near_big, seen, direct=False)
    if roundoff and b > 0:
        line, text = math.log10(b) - log_h, f"{scheme} round-off: slope {MINUS}1"
        guide(
            ax, scale(log_h), scale(line), text, PALETTE[k], near_small, seen, direct=False, ls="-."
        )
        best = sweep.optimal(scheme)
        if best is not None:
            label = f"{scheme}: optimal h* ≈ {best:.1e}"
            ax.axvline(scale.at(math.log10(best)), color=PALETTE[k], ls=":", label=label)


# -- secant and tangent ---------------------------------------------------------------------

#: The secants' step sizes h by default.
_SECANT_STEP_SIZES = (1.0, 0.5, 0.25)


def plot_secant_tangent(
    expr: Source,
    x0: str | float,
    step_sizes: Sequence[float] = _SECANT_STEP_SIZES,
    *,
    window: tuple[float, float] | None = None,
    variable: str | None = None,
    steps: Sequence[float] | None = None,
) -> Figure:
    """Secant lines through (x0, f(x0)) and (x0+h, f(x0+h)) closing in on the tangent.

    Each secant's slope (f(x0+h) − f(x0))/h is in the legend, next to the tangent's slope,
    the exact derivative.  ``x0`` is a number, ``"0.5"`` or ``"x=0.5"``; ``step_sizes`` are the
    secants' h (default 1, 0.5, 0.25).  ``steps=`` is the deprecated name of ``step_sizes``
    (it warns with a ``DeprecationWarning``; "steps" are the teaching steps of symgrad.steps).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from symgrad.output import save_figure
    >>> fig = plot_secant_tangent("x**2", 1, step_sizes=(1, 0.5))
    >>> [line.get_label() for line in fig.axes[0].lines][1:4]
    ['tangent: slope 2', 'secant h = 1: slope 3', 'secant h = 0.5: slope 2.5']
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_figure(fig, pathlib.Path(tmp) / "secants.pdf")
    """
    step_sizes = renamed_keyword("steps", steps, "step_sizes", step_sizes, _SECANT_STEP_SIZES)
    f, exact, hs = _secant_setup(expr, x0, step_sizes, variable)
    name, a = f.variables[0].name, float(exact)
    lo, hi = _window(window, [a, *(a + h for h in hs)])
    with np.errstate(all="ignore"):
        xs = np.linspace(lo, hi, 400)
        ys, fa, fb = f(xs), float(f(a)), [float(f(a + h)) for h in hs]
    if not all(map(math.isfinite, [fa, *fb])):
        msg = f"{expr} is not finite at x0 = {a:g} or at x0 + h for some h in {hs}"
        raise ConfigError(msg)
    fig, (ax,) = new_figure(1, (7.5, 5.5))
    ax.plot(xs, ys, color="black", lw=2, label=f"f({name}) = {_shown(expr)}")
    d = derivative(f.exprs, name, variables=f.variables)
    slope = float(_exact(d, {name: exact}, 30))
    lines = [(slope, f"tangent: slope {slope:.6g}", "-")]
    lines += [
        ((b - fa) / h, f"secant h = {h:g}: slope {(b - fa) / h:.6g}", "--")
        for h, b in zip(hs, fb, strict=True)
    ]
    for k, (s, label, ls) in enumerate(lines):
        ends = [fa + s * (lo - a), fa + s * (hi - a)]
        ax.plot([lo, hi], ends, ls=ls, lw=1.3 if k else 2, color=PALETTE[k % 7], label=label)
    for k, (h, b) in enumerate(zip(hs, fb, strict=True), start=1):
        ax.plot([a + h], [b], marker=MARKERS[k % 7], color=PALETTE[k % 7], ms=7)
    ax.plot([a], [fa], "o", color="black", ms=7)
    finite = ys[np.isfinite(ys)]
    pad = 0.15 * (float(np.ptp(finite)) or 1.0) if finite.size else 1.0
    ax.set(xlim=(lo, hi), xlabel=name, ylabel=f"f({name})")
    if finite.size:
        ax.set_ylim(float(finite.min()) - pad, float(finite.max()) + pad)
    ax.legend(fontsize=MIN_FONT)
    ax.set_title(f"Secant slopes approach the tangent slope f{PRIME}({a:g}) as h → 0")
    return fig


def _secant_setup(
    expr: Source, x0: str | float, step_sizes: Sequence[float], variable: str | None
) -> tuple[Compiled, Any, list[float]]:
    """Validate once: a function of one variable, its exact x0, non-zero finite step sizes."""
    f = function(expr, variable)
    if len(f.variables) != 1:
        msg = f"plot_secant_tangent needs one variable (got {[v.name for v in f.variables]})"
        raise ConfigError(msg)
    try:
        hs = [float(h) for h in step_sizes]
    except (TypeError, ValueError):
        hs = []
    if not hs or not all(math.isfinite(h) and h != 0 for h in hs):
        msg = f"step_sizes must be non-zero finite numbers (got {quote(repr(step_sizes))})"
        raise ConfigError(msg)
    return f, _coordinate(x0, f.variables[0].name), hs


def _coordinate(value: str | float, name: str) -> Any:
    if isinstance(value, str) and "=" in value:
        point = {k.name: v for k, v in parse_point(value).items()}
        if set(point) != {name}:
            msg = f"x0 must give a value for {name} only (got {quote(value)})"
            raise ConfigError(msg)
        return point[name]
    return parse_number(value)


def _window(window: Any, xs: list[float]) -> tuple[float, float]:
    if window is None:
        pad = 0.3 * (max(xs) - min(xs)) or 1.0
        return min(xs) - pad, max(xs) + pad
    lo, hi = (float(parse_number(v)) for v in window)
    if not lo < hi:
        msg = f"window must be (low, high) with low < high (got {window!r})"
        raise ConfigError(msg)
    return lo, hi


# -- gradient fields ------------------------------------------------------------------------


def plot_gradient_field(
    expr: Source,
    domain: str | Mapping[str, Any],
    *,
    n: int = 21,
    contours: int = 15,
    variables: VariablesSpec = None,
) -> Figure:
    """Filled contours of f(x, y) with its exact gradient as arrows (n along the longer side).

    The arrows point uphill, perpendicular to the level curves (the equal aspect keeps right
    angles right).  Fields are evaluated on ``indexing="ij"`` grids and transposed for
    plotting, so the first variable is horizontal and the second vertical.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from symgrad.output import save_figure
    >>> fig = plot_gradient_field("x**2 + 3*y**2", "x=-2:2, y=-1:1", n=9)
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('x', 'y')
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_figure(fig, pathlib.Path(tmp) / "field.png")
    """
    f, grad = function(expr, variables), gradient(expr, variables)
    names = [v.name for v in f.variables]
    box = parse_domain(domain)
    if len(names) != 2 or set(box) != set(names):
        msg = f"need a function of two variables and bounds for each (got {names}, {sorted(box)})"
        raise ConfigError(msg)
    if not (2 <= n <= 200 and 2 <= contours <= 200):
        msg = f"n and contours must be between 2 and 200 (got n={n}, contours={contours})"
        raise ConfigError(msg)
    (x0, x1), (y0, y1) = box[names[0]], box[names[1]]
    cell = max(x1 - x0, y1 - y0) / (n - 1)  # square cells: n arrows along the longer side
    lines = [
        np.linspace(lo, hi, num)
        for lo, hi in ((x0, x1), (y0, y1))
        for num in (201, max(2, round((hi - lo) / cell) + 1))
    ]
    fine = np.meshgrid(lines[0], lines[2], indexing="ij")
    coarse = np.meshgrid(lines[1], lines[3], indexing="ij")
    with np.errstate(all="ignore"):
        z, g = np.ma.masked_invalid(f(*fine)), np.ma.masked_invalid(grad(*coarse))
    fig, (ax,) = new_figure(1, (7.5, min(max(6.2 * (y1 - y0) / (x1 - x0) + 1.2, 3.0), 9.0)), False)
    if z.count() and z.max() > z.min():
        levels, extend = _levels(z.compressed(), contours)
        filled = ax.contourf(*(a.T for a in (*fine, z)), levels, cmap="viridis", extend=extend)
        ax.contour(filled, colors="white", linewidths=0.5, linestyles="solid")
        bar = ax.inset_axes((1.03, 0.0, 0.04, 1.0))  # exactly as tall as the equal-aspect axes
        fig.colorbar(filled, cax=bar, label=f"f({names[0]}, {names[1]})")
    # in data units 90 % of the arrows are shorter than a cell: little overlap, and smaller
    # gradients stay visible
    length = np.ma.sqrt(g[0] ** 2 + g[1] ** 2).compressed()
    typical = float(np.quantile(length, 0.9)) if length.size else 0.0
    arrows: dict[str, Any] = {"angles": "xy", "scale_units": "xy", "scale": (typical or 1) / cell}
    ax.quiver(coarse[0].T, coarse[1].T, g[0].T, g[1].T, pivot="tail", width=0.004, **arrows)
    ax.set(aspect="equal", xlabel=names[0], ylabel=names[1])
    ax.set_title(
        f"f = {_shown(expr)} and its gradient ∇f\n(arrows point uphill, perpendicular to the contours)"
    )
    return fig


def _levels(values: FloatArray, contours: int) -> tuple[FloatArray, str]:
    """Round contour levels over the central 98 % of f, so that a pole cannot flatten the rest."""
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415 - matplotlib is optional

    low, high = np.quantile(values, [0.01, 0.99])
    if not high > low:
        low, high = values.min(), values.max()
    levels = np.asarray(MaxNLocator(contours).tick_values(low, high), dtype=float)
    below, above = bool(values.min() < levels[0]), bool(values.max() > levels[-1])
    return levels, {(1, 1): "both", (1, 0): "min", (0, 1): "max"}.get((below, above), "neither")


def _shown(expr: object) -> str:
    """The expression as a figure shows it, in textbook maths: x**3 -> x³, 2*x -> 2x."""
    return unicode_text(str(expr))
