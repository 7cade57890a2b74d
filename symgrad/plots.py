"""Figures for teaching and for verification reports (matplotlib is the optional ``plot`` extra).

Every function builds a :class:`matplotlib.figure.Figure` on an Agg canvas and returns it: no
pyplot, no global state, nothing shown, works headless.  Verification results come in as plain
data (``result.to_dict()`` or the CLI's JSON), so this module needs none of the checking modules.

Errors may lie far below the float64 range (``"1.2e-400"`` from a 500-digit sweep): they are
read exactly with mpmath and handled as log10 values.  When every value of an axis lies within
1e±300 the axis is an ordinary log axis; otherwise it is linear in log10 |value|, labelled so.

Colours are the Okabe–Ito palette, distinguishable under the common colour-vision deficiencies
(matplotlib's tab10 pairs red with green); lines also differ in marker or dash.
"""

from __future__ import annotations

import base64
import importlib
import io
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt
import sympy

from symgrad.codegen import MAX_DPS, Compiled, check_dps, thread_context
from symgrad.derivatives import derivative, function, gradient
from symgrad.errors import ConfigError, InputError, MissingExtra, ParseError, quote
from symgrad.finite_diff import finite_difference, order_of, stencils_for
from symgrad.parse import parse_number, parse_point, symbol
from symgrad.symbolic import Source, VariablesSpec

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

__all__ = [
    "HasToDict",
    "figure_to_png_base64",
    "parse_domain",
    "plot_convergence",
    "plot_gradient_field",
    "plot_grid_convergence",
    "plot_secant_tangent",
    "plot_step_error",
    "save_figure",
]

FloatArray = npt.NDArray[np.float64]
_EXTRA = "install the plot extra: pip install 'symgrad[plot]'"
_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
_MINUS, _PRIME = "\u2212", "\u2032"  # typographic minus and prime for figure text
_LOG_RANGE = 300.0  # |log10 v| beyond this does not fit a float64 log axis
_EPS = float(np.finfo(np.float64).eps)
_STEPS = 10.0 ** (-np.arange(3, 49) / 3)  # 1e-1 … 1e-16, three per decade, exact decades
_FORMATS = ("pdf", "png", "svg")
_HIGHLIGHT: dict[str, Any] = {
    "lw": 9,
    "alpha": 0.25,
    "solid_capstyle": "round",
    "zorder": 1,
    "gid": "range",
}
_LABEL_BOX = {"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1}


class HasToDict(Protocol):
    """Any symgrad result: an object whose ``to_dict()`` gives its JSON data."""

    def to_dict(self) -> Mapping[str, Any]:
        """Plain JSON-ready data."""
        ...


# -- figures, axes and numbers --------------------------------------------------------------


def _mpl() -> tuple[type[Figure], type[FigureCanvasAgg]]:
    """matplotlib's Figure and Agg canvas, or ``MissingExtra`` naming the extra to install."""
    try:
        importlib.import_module("matplotlib")  # first, so that a blocked package fails here
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
        from matplotlib.figure import Figure  # noqa: PLC0415
    except ImportError as exc:
        raise MissingExtra(_EXTRA) from exc
    return Figure, FigureCanvasAgg


def _figure(panels: int, size: tuple[float, float], grid: bool = True) -> tuple[Figure, list[Axes]]:
    figure_class, canvas_class = _mpl()
    fig = figure_class(figsize=size, layout="constrained")
    canvas_class(fig)
    axes = [fig.add_subplot(1, panels, i + 1) for i in range(panels)]
    for ax in axes if grid else ():
        ax.grid(visible=True, alpha=0.3)
    return fig, axes


def _log10(values: Sequence[Any]) -> FloatArray:
    """log10 |v|, read exactly (strings such as "1.2e-400" too); -inf for 0, NaN if missing."""
    ctx = thread_context(20)
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        try:
            x = None if v is None else ctx.mpf(v.strip()) if isinstance(v, str) else ctx.convert(v)
        except (ValueError, TypeError) as exc:
            msg = f"expected a number or a decimal string (got {quote(str(v))})"
            raise InputError(msg) from exc
        if x is not None and ctx.isfinite(x):
            out[i] = -math.inf if x == 0 else float(ctx.log10(abs(x)))
    return out


@dataclass(frozen=True)
class _LogAxis:
    """Where log10 data goes: a log axis, or beyond the float64 range a linear log10 axis."""

    linear: bool

    @classmethod
    def of(cls, *arrays: FloatArray) -> _LogAxis:
        values = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays])
        values = values[np.isfinite(values)]
        return cls(not values.size or float(np.abs(values).max()) > _LOG_RANGE)

    def __call__(self, logs: Any) -> FloatArray:
        values: FloatArray = np.asarray(logs, dtype=float)
        return values if self.linear else np.power(10.0, values)

    def at(self, log: float) -> float:
        return float(self(log))

    def label(self, ax: Axes, which: str, text: str) -> None:
        if not self.linear:
            getattr(ax, f"set_{which}scale")("log")
        getattr(ax, f"set_{which}label")(f"log10 {text}" if self.linear else text)


def _guide(ax: Axes, x: Any, y: Any, text: str, color: str, at: int, seen: set[str]) -> None:
    """A dashed reference line; ``text`` beside its point ``at``, on the empty side (once)."""
    ax.plot(x, y, ls="--", lw=1, color=color, alpha=0.75)
    if text in seen or not len(x):
        return
    seen.add(text)
    rising = (y[-1] - y[0]) * (x[-1] - x[0]) > 0
    box: dict[str, Any] = {"fontsize": 8, "color": color, "bbox": _LABEL_BOX}
    where: dict[str, Any] = {"xytext": (6, -4 if rising else 4), "textcoords": "offset points"}
    ax.annotate(text, (x[at], y[at]), va="top" if rising else "bottom", **where, **box)


def _as_data(result: Mapping[str, Any] | HasToDict, key: str) -> Mapping[str, Any]:
    data = result.to_dict() if hasattr(result, "to_dict") else result
    if not isinstance(data, Mapping) or key not in data:
        msg = f"expected a result or its JSON dict with a {key!r} entry (got {type(data).__name__})"
        raise InputError(msg)
    return data


def _point_text(point: object) -> str:
    if isinstance(point, Mapping):
        return ", ".join(f"{k} = {v}" for k, v in point.items())
    return "?" if point is None else str(point)


# -- the V curve: truncation against round-off ---------------------------------------------


@dataclass(frozen=True)
class _Sweep:
    f: Compiled
    name: str  # the variable differentiated
    point: dict[str, Any]  # exact coordinates
    floats: dict[str, float]  # the same rounded to float64
    steps: FloatArray
    dps: int
    exact: tuple[Any, Any]  # f' at the exact point (dps + 20 digits) and at the float64 point

    def size(self, order: int) -> float:
        """|f^(order)| at the point, for the error models (NaN where it is not finite)."""
        g = (
            derivative(self.f.exprs, self.name, order, variables=self.f.variables)
            if order
            else None
        )
        return abs(float(_exact(g or self.f, self.point, 20, strict=False)))

    def model(self, scheme: str) -> tuple[int, float, float]:
        """(p, A, B): truncation A·h^p and float64 round-off B/h of a first-derivative scheme."""
        if scheme == "complex":  # Im f(x+ih)/h − f′ = −h² f‴/6 + O(h⁴), with no subtraction
            return 2, self.size(3) / 6, 0.0
        counts = [int(v.name == self.name) for v in self.f.variables]
        (s,) = [s for s in stencils_for(scheme, counts) if s is not None]
        weights = sum(abs(float(w)) for w in s.weights)
        a = abs(float(s.error_coefficient)) * self.size(s.accuracy + 1)
        return s.accuracy, a, _EPS * self.size(0) * weights


def plot_step_error(
    expr: Source,
    at: str | Mapping[str, Any],
    wrt: str | None = None,
    *,
    schemes: Sequence[str] = ("forward:1", "central:2", "complex"),
    steps: Sequence[float] | None = None,
    dps: int = 50,
    variables: VariablesSpec = None,
) -> Figure:
    """The V curve: the error of finite-difference first derivatives against the step h.

    Left, float64: the truncation error |C f^(p+1)| h^p falls with h until round-off, about
    ε|f|Σ|w|/h, takes over (slope −1).  Each real-step scheme's optimal step is marked,
    h* = (ε|f|Σ|w| / (p·|C f^(p+1)|))^(1/(p+1)): the textbook 2·sqrt(ε|f/f″|) for forward and
    (3ε|f/f‴|)^(1/3) for central differences.  The complex step Im f(x+ih)/h subtracts
    nothing, so it has no round-off branch.  Right: the same formulas at ``dps`` digits with
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
    steps : sequence of float, optional
        The steps h; by default 46 from 1e-1 to 1e-16, three per decade.
    dps : int
        Digits of the right panel.
    variables : str or sequence, optional
        Variable order, as for :func:`symgrad.function`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> fig = plot_step_error("sin(x)", "x=1")
    >>> [ax.get_title() for ax in fig.axes]
    ['float64', '50 digits']
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_figure(fig, pathlib.Path(tmp) / "v_curve.png")
    """
    sweep = _sweep_setup(expr, at, wrt, schemes, steps, dps, variables)
    fig, axes = _figure(2, (12.5, 6.0))
    log_h = np.log10(sweep.steps)
    for ax, precise in zip(axes, (False, True), strict=True):
        # where exact (zero-error) estimates are drawn: 10^-dps |f′|, or half an ulp (2^-53)
        floor = math.log10(abs(float(sweep.exact[0])) or 1.0) - (dps if precise else 15.95)
        logs = [_sweep_errors(sweep, s, precise) for s in schemes]
        logs = [np.where(e == -np.inf, floor, e) for e in logs]
        scale, seen = _LogAxis.of(log_h, *logs), set[str]()
        for k, (scheme, errors) in enumerate(zip(schemes, logs, strict=True)):
            style: dict[str, Any] = {"marker": _MARKERS[k], "ms": 4, "color": _PALETTE[k]}
            ax.plot(log_h if scale.linear else sweep.steps, scale(errors), label=scheme, **style)
            _sweep_guides(ax, scale, sweep, scheme, k, seen, roundoff=not precise)
        shown = np.concatenate(logs)[np.isfinite(np.concatenate(logs))]
        if not shown.size:
            msg = f"no difference quotient of {expr} could be evaluated near {_point_text(at)}"
            raise ConfigError(msg)
        ax.set_ylim(scale.at(shown.min() - 0.7), scale.at(shown.max() + 1.0))
        scale.label(ax, "x", "step h")
        scale.label(ax, "y", "|error| of the estimate")
        ax.set_title(f"{dps} digits" if precise else "float64")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4), fontsize=9)
    fig.suptitle(
        f"Error of d/d{sweep.name} {expr} at {_point_text(sweep.point)} against the step h "
        f"(exact value {float(sweep.exact[0]):.12g})\nfloat64: truncation (slope p) meets "
        f"round-off (slope {_MINUS}1);  {dps} digits with guard digits: no round-off floor"
    )
    return fig


def _sweep_setup(
    expr: Source, at: Any, wrt: Any, schemes: Any, steps: Any, dps: int, variables: VariablesSpec
) -> _Sweep:
    """Validate once: one first derivative, 1 to 7 known schemes, positive steps, a point."""
    f, dps = function(expr, variables), check_dps(dps)
    counts = order_of(wrt, f.variables)
    if sum(counts) != 1:
        msg = f"plot_step_error shows first derivatives: wrt must name one variable (got {wrt!r})"
        raise ConfigError(msg)
    if isinstance(schemes, str) or not 1 <= len(schemes) <= len(_PALETTE):
        msg = f"schemes must be a list of 1 to {len(_PALETTE)} scheme names (got {schemes!r})"
        raise ConfigError(msg)
    for scheme in schemes:  # an unknown name fails here, before any work
        _ = scheme == "complex" or stencils_for(scheme, counts)
    try:
        hs = np.asarray(_STEPS if steps is None else steps, dtype=float)
    except (TypeError, ValueError):
        hs = np.array([])
    if hs.ndim != 1 or hs.size < 2 or not np.all(np.isfinite(hs) & (hs > 0)):
        msg = f"steps must be two or more positive finite numbers (got {quote(repr(steps))})"
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
    msg = f"{g.exprs} is not a finite real number at {_point_text(point)}; choose another point"
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
    for h in sweep.steps:
        r = finite_difference(
            sweep.f, point, sweep.name, step=float(h), error_control=False, **options
        )
        errors.append(ctx.convert(r.value[()]) - exact if r.status == "ok" else None)
    return _log10(errors)


def _sweep_guides(
    ax: Axes, scale: _LogAxis, sweep: _Sweep, scheme: str, k: int, seen: set[str], roundoff: bool
) -> None:
    """Predicted truncation and (float64) round-off lines, and the optimal step between them."""
    p, a, b = sweep.model(scheme)
    log_h = np.sort(np.log10(sweep.steps))
    near_big, near_small = int(0.7 * (log_h.size - 1)), int(0.2 * (log_h.size - 1))
    if a > 0:
        line = math.log10(a) + p * log_h
        text = f"slope {p} (truncation)"
        _guide(ax, scale(log_h), scale(line), text, _PALETTE[k], near_big, seen)
    if roundoff and b > 0:
        line, text = math.log10(b) - log_h, f"slope {_MINUS}1 (round-off)"
        _guide(ax, scale(log_h), scale(line), text, "0.35", near_small, seen)
        if a > 0:
            best = (b / (p * a)) ** (1 / (p + 1))
            label = f"{scheme}: optimal h* ≈ {best:.1e}"
            ax.axvline(scale.at(math.log10(best)), color=_PALETTE[k], ls=":", label=label)


# -- convergence sweeps ---------------------------------------------------------------------


def plot_convergence(result: Mapping[str, Any] | HasToDict, *, ax_orders: bool = True) -> Figure:
    """Error against step for every scheme of a convergence sweep, and the observed orders.

    ``result`` is the ``converge`` JSON or an object with ``to_dict()``: ``schemes`` with
    ``steps`` and ``errors`` (numbers or decimal strings of any magnitude), ``expected_order``,
    ``observed_order``, ``status``, and optionally ``pairwise_orders`` (one per consecutive
    pair, or one per step) and ``asymptotic_range``: two step bounds ``[h_large, h_small]`` or
    ``{"start": i, "stop": j}`` (step indices, stop excluded).  The range is highlighted; a dashed
    line of the expected slope runs through it, half a decade below the data's middle point
    (through the whole sweep when no range is given).  The right panel shows the pairwise
    orders log(e₁/e₂)/log(h₁/h₂) with the expected orders as horizontal lines.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> data = {"status": "pass", "point": {"x": "1"}, "dps": 50, "schemes": [
    ...     {"scheme": "central:2", "expected_order": 2, "observed_order": 2.0,
    ...      "status": "pass", "steps": [0.1, 0.05, 0.025], "errors": ["9e-4", 2.25e-4, 5.6e-5]}]}
    >>> fig = plot_convergence(data)
    >>> fig.axes[0].get_xscale(), len(fig.axes)
    ('log', 2)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_figure(fig, pathlib.Path(tmp) / "convergence.svg")
    """
    data = _as_data(result, "schemes")
    if not isinstance(data["schemes"], Sequence) or not data["schemes"]:
        msg = f"'schemes' must be a non-empty list (got {quote(repr(data['schemes']))})"
        raise InputError(msg)
    series = [_series(spec) for spec in data["schemes"]]
    fig, axes = _figure(2 if ax_orders else 1, (12.5 if ax_orders else 7.0, 5.2))
    sx, sy = _LogAxis.of(*(s[1] for s in series)), _LogAxis.of(*(s[2] for s in series))
    seen: set[str] = set()
    for k, (spec, log_h, log_e) in enumerate(series):
        color, given = _PALETTE[k % 7], spec.get("asymptotic_range") is not None
        label = (
            f"{spec.get('scheme', k)}: observed {_num(spec.get('observed_order'))}, "
            f"expected {_num(spec.get('expected_order'))} ({spec.get('status', '?')})"
        )
        axes[0].plot(sx(log_h), sy(log_e), marker=_MARKERS[k % 7], color=color, label=label)
        inside = _asymptotic(spec, log_h) & np.isfinite(log_e)
        p = spec.get("expected_order")
        if given and inside.any():  # a highlighter stroke under the points of the range
            axes[0].plot(sx(log_h[inside]), sy(log_e[inside]), color=color, **_HIGHLIGHT)
        if p is not None and inside.any():
            i = np.flatnonzero(inside)
            x, mid = log_h[i], i[i.size // 2]
            y = log_e[mid] - 0.5 + float(p) * (x - log_h[mid])
            _guide(axes[0], sx(x), sy(y), f"slope {_num(p)}", color, x.size // 2, seen)
        if ax_orders:
            _orders_panel(axes[1], sx, spec, (log_h, log_e), inside if given else None, k)
    _convergence_axes(axes, sx, sy, series)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 2), fontsize=9)
    where = _point_text(data.get("point"))
    digits = "float64" if data.get("precision") == "float64" else f"{data.get('dps', '?')} digits"
    fig.suptitle(f"Convergence at {where} ({digits}): {data.get('status', '?')}")
    return fig


def _convergence_axes(axes: list[Axes], sx: _LogAxis, sy: _LogAxis, series: list[Any]) -> None:
    """Shared step limits (set explicitly: all-zero errors give no data limits), labels."""
    log_h = np.concatenate([s[1] for s in series])
    if np.isfinite(log_h).any():
        low, high = np.nanmin(log_h), np.nanmax(log_h)
        pad = 0.05 * (high - low or 1.0)
        for ax in axes:
            ax.set_xlim(sx.at(low - pad), sx.at(high + pad))
    sx.label(axes[0], "x", "step h")
    sy.label(axes[0], "y", "|error|")
    axes[0].set_title("error against step (highlighted: asymptotic range)")
    if not any(np.isfinite(s[2]).any() for s in series):
        axes[0].text(0.5, 0.5, "every error is exactly 0", transform=axes[0].transAxes, ha="center")


def _series(spec: Any) -> tuple[Mapping[str, Any], FloatArray, FloatArray]:
    if not isinstance(spec, Mapping) or "steps" not in spec or "errors" not in spec:
        msg = f"each entry of 'schemes' needs 'steps' and 'errors' (got {quote(repr(spec))})"
        raise InputError(msg)
    log_h, log_e = _log10(spec["steps"]), _log10(spec["errors"])
    if log_h.size != log_e.size:
        msg = f"{spec.get('scheme')}: {log_h.size} steps but {log_e.size} errors"
        raise InputError(msg)
    return spec, log_h, np.where(np.isinf(log_e), np.nan, log_e)  # exact zeros: no log


def _num(value: Any) -> str:
    return "?" if value is None else f"{float(value):.3g}"


def _asymptotic(spec: Mapping[str, Any], log_h: FloatArray) -> npt.NDArray[np.bool_]:
    """Which steps lie in the asymptotic range (all of them when the result gives none)."""
    given, index = spec.get("asymptotic_range"), np.arange(log_h.size)
    inside: npt.NDArray[np.bool_] = index >= 0
    if isinstance(given, Mapping):
        inside = (index >= given.get("start", 0)) & (index < given.get("stop", log_h.size))
    if given is None or isinstance(given, Mapping):
        return inside
    bounds = _log10(list(given)) if isinstance(given, Sequence) else np.array([])
    if bounds.size != 2 or not np.isfinite(bounds).all():
        msg = f"asymptotic_range must be [h_large, h_small] or {{start, stop}} (got {given!r})"
        raise InputError(msg)
    return np.asarray((log_h >= bounds.min() - 1e-9) & (log_h <= bounds.max() + 1e-9), bool)


def _orders_panel(
    ax: Axes,
    sx: _LogAxis,
    spec: Mapping[str, Any],
    logs: tuple[FloatArray, FloatArray],
    inside: Any,
    k: int,
) -> None:
    """Pairwise orders at the geometric middle of each pair of steps, expected order dotted."""
    (log_h, log_e), given, color = logs, spec.get("pairwise_orders"), _PALETTE[k % 7]
    where = (log_h[1:] + log_h[:-1]) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        orders = np.diff(log_e) / np.diff(log_h)
    if given is not None:
        orders = np.array([np.nan if v is None else float(v) for v in given])
        where = log_h if orders.size == log_h.size else where
    ax.plot(sx(where), orders, marker=_MARKERS[k % 7], color=color, label=spec.get("scheme"))
    if inside is not None:  # the pairs whose two steps both lie in the asymptotic range
        pairs = inside if orders.size == log_h.size else inside[1:] & inside[:-1]
        ax.plot(sx(where[pairs]), orders[pairs], color=color, **_HIGHLIGHT)
    p = spec.get("expected_order")
    if p is not None:
        ax.axhline(float(p), color=color, ls=":", label=f"expected {_num(p)}")
    if p is not None and f"expected {_num(p)}" not in [t.get_text() for t in ax.texts]:
        where_p: dict[str, Any] = {
            "xycoords": ("axes fraction", "data"),
            "ha": "right",
            "fontsize": 8,
            "bbox": _LABEL_BOX,
        }
        where_p |= {"xytext": (-2, 4), "textcoords": "offset points", "va": "bottom"}
        ax.annotate(f"expected {_num(p)}", (1.0, float(p)), color=color, **where_p)
    finite = orders[np.isfinite(orders)]
    low, high = ax.get_ylim() if k else (math.inf, -math.inf)
    top = max(float(p or 0), float(finite.max()) if finite.size else 0.0)
    bottom = float(finite.min()) if finite.size else 0.0
    ax.set_ylim(min(low, max(bottom, -3.0) - 0.5), max(high, min(top, float(p or 0) + 4) + 0.5))
    sx.label(ax, "x", "step h (middle of each pair)")
    ax.set_ylabel("observed order p")
    ax.set_title("pairwise observed order log(e₁/e₂) / log(h₁/h₂)")


# -- secant and tangent ---------------------------------------------------------------------


def plot_secant_tangent(
    expr: Source,
    x0: str | float,
    steps: Sequence[float] = (1.0, 0.5, 0.25),
    *,
    window: tuple[float, float] | None = None,
    variable: str | None = None,
) -> Figure:
    """Secant lines through (x0, f(x0)) and (x0+h, f(x0+h)) closing in on the tangent.

    Each secant's slope (f(x0+h) − f(x0))/h is in the legend, next to the tangent's slope,
    the exact derivative.  ``x0`` is a number, ``"0.5"`` or ``"x=0.5"``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> fig = plot_secant_tangent("x**2", 1, steps=(1, 0.5))
    >>> [line.get_label() for line in fig.axes[0].lines][1:4]
    ['tangent: slope 2', 'secant h = 1: slope 3', 'secant h = 0.5: slope 2.5']
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_figure(fig, pathlib.Path(tmp) / "secants.pdf")
    """
    f, exact, hs = _secant_setup(expr, x0, steps, variable)
    name, a = f.variables[0].name, float(exact)
    lo, hi = _window(window, [a, *(a + h for h in hs)])
    with np.errstate(all="ignore"):
        xs = np.linspace(lo, hi, 400)
        ys, fa, fb = f(xs), float(f(a)), [float(f(a + h)) for h in hs]
    if not all(map(math.isfinite, [fa, *fb])):
        msg = f"{expr} is not finite at x0 = {a:g} or at x0 + h for some h in {hs}"
        raise ConfigError(msg)
    fig, (ax,) = _figure(1, (7.5, 5.5))
    ax.plot(xs, ys, color="black", lw=2, label=f"f({name}) = {expr}")
    d = derivative(f.exprs, name, variables=f.variables)
    slope = float(_exact(d, {name: exact}, 30))
    lines = [(slope, f"tangent: slope {slope:.6g}", "-")]
    lines += [
        ((b - fa) / h, f"secant h = {h:g}: slope {(b - fa) / h:.6g}", "--")
        for h, b in zip(hs, fb, strict=True)
    ]
    for k, (s, label, ls) in enumerate(lines):
        ends = [fa + s * (lo - a), fa + s * (hi - a)]
        ax.plot([lo, hi], ends, ls=ls, lw=1.3 if k else 2, color=_PALETTE[k % 7], label=label)
    for k, (h, b) in enumerate(zip(hs, fb, strict=True), start=1):
        ax.plot([a + h], [b], marker=_MARKERS[k % 7], color=_PALETTE[k % 7], ms=7)
    ax.plot([a], [fa], "o", color="black", ms=7)
    finite = ys[np.isfinite(ys)]
    pad = 0.15 * (float(np.ptp(finite)) or 1.0) if finite.size else 1.0
    ax.set(xlim=(lo, hi), xlabel=name, ylabel=f"f({name})")
    if finite.size:
        ax.set_ylim(float(finite.min()) - pad, float(finite.max()) + pad)
    ax.legend(fontsize=9)
    ax.set_title(f"Secant slopes approach the tangent slope f{_PRIME}({a:g}) as h → 0")
    return fig


def _secant_setup(
    expr: Source, x0: str | float, steps: Sequence[float], variable: str | None
) -> tuple[Compiled, Any, list[float]]:
    """Validate once: a function of one variable, its exact x0, non-zero finite steps."""
    f = function(expr, variable)
    if len(f.variables) != 1:
        msg = f"plot_secant_tangent needs one variable (got {[v.name for v in f.variables]})"
        raise ConfigError(msg)
    try:
        hs = [float(h) for h in steps]
    except (TypeError, ValueError):
        hs = []
    if not hs or not all(math.isfinite(h) and h != 0 for h in hs):
        msg = f"steps must be non-zero finite numbers (got {quote(repr(steps))})"
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


def parse_domain(spec: str | Mapping[str, Any]) -> dict[sympy.Symbol, tuple[float, float]]:
    """A box ``{symbol: (low, high)}`` from ``"x=-2:2, y=-1:1"`` or a mapping.

    Bounds are exact decimals or ratios (``parse_number``) rounded once to float; a mapping's
    values may be ``(low, high)`` pairs or ``"low:high"`` strings.

    Examples
    --------
    >>> parse_domain("x=-2:2, y=0:1/2")
    {x: (-2.0, 2.0), y: (0.0, 0.5)}
    """
    given: object = spec  # checked at run time too: the type is a promise, not a proof
    items: list[tuple[str, Any]]
    if isinstance(given, str):
        if not given.strip() or any("=" not in piece for piece in given.split(",")):
            msg = f"expected a domain such as 'x=-2:2, y=-1:1' (got {quote(given)})"
            raise ParseError(msg, reason="not_a_domain")
        items = [(p.split("=", 1)[0], p.split("=", 1)[1]) for p in given.split(",")]
    elif isinstance(given, Mapping):
        items = [(str(k), v) for k, v in given.items()]
    else:
        msg = f"domain must be text such as 'x=-2:2, y=-1:1' or a mapping (got {spec!r})"
        raise InputError(msg)
    box: dict[sympy.Symbol, tuple[float, float]] = {}
    for name, bounds in items:
        pair = bounds.split(":") if isinstance(bounds, str) else list(bounds or [None])
        if len(pair) != 2:
            msg = f"bounds of {name.strip()} must be low:high, e.g. -2:2 (got {quote(str(bounds))})"
            raise ParseError(msg, reason="not_a_domain")
        low, high = (float(parse_number(v.strip() if isinstance(v, str) else v)) for v in pair)
        key = symbol(name.strip())
        if key in box or not low < high:
            msg = f"domain: {key} " + (
                "is given twice" if key in box else f"needs low < high (got {low:g}:{high:g})"
            )
            raise ConfigError(msg)
        box[key] = (low, high)
    return box


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
    >>> fig = plot_gradient_field("x**2 + 3*y**2", "x=-2:2, y=-1:1", n=9)
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('x', 'y')
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_figure(fig, pathlib.Path(tmp) / "field.png")
    """
    f, grad = function(expr, variables), gradient(expr, variables)
    names = [v.name for v in f.variables]
    box = {k.name: v for k, v in parse_domain(domain).items()}
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
    fig, (ax,) = _figure(1, (7.5, min(max(6.2 * (y1 - y0) / (x1 - x0) + 1.2, 3.0), 9.0)), False)
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
        f"f = {expr} and its gradient ∇f\n(arrows point uphill, perpendicular to the contours)"
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


# -- grid convergence -----------------------------------------------------------------------


def plot_grid_convergence(result: Mapping[str, Any] | HasToDict) -> Figure:
    """L2 and L∞ errors against the grid spacing, interior (solid) and boundary (dashed).

    ``result`` is the ``verify-grid`` JSON or an object with ``to_dict()``.  One panel per
    component; the grey dashed reference line of each region has its expected order (else the
    observed one) and runs half a decade below the finest L∞ error.  Without ``spacings``
    the abscissa is 1/(N − 1), proportional to h on a fixed domain.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> region = {"errors": {"L2": [4e-3, 1e-3, 2.5e-4], "Linf": [8e-3, 2e-3, 5e-4]},
    ...           "orders": [2.0, 2.0], "observed_order": 2.0}
    >>> data = {"status": "pass", "scheme": "numpy", "sizes": [17, 33, 65], "components": [
    ...     {"variable": "x", "interior": region, "boundary": region, "status": "pass"}]}
    >>> fig = plot_grid_convergence(data)
    >>> [line.get_label() for line in fig.axes[0].get_lines()][:2]
    ['interior L2', 'interior L∞']
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_figure(fig, pathlib.Path(tmp) / "grid.png")
    """
    data = _as_data(result, "components")
    log_h, ticks, xlabel = _grid_abscissa(data)
    components = list(data["components"])
    fig, axes = _figure(max(1, len(components)), (5.5 * max(1, len(components)), 5.2))
    for ax, comp in zip(axes, components, strict=False):
        seen: set[str] = set()
        for region, ls in (("interior", "-"), ("boundary", "--")):
            _grid_region(ax, comp.get(region) or {}, log_h, (region, ls), data, seen)
        ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel="error norm")
        ax.set_xticks(10.0**log_h, ticks, minor=False)  # one labelled tick per grid
        ax.tick_params(which="minor", labelbottom=False)
        ax.set_title(f"∂/∂{comp.get('variable', '?')}: {comp.get('status', '?')}")
        ax.legend(fontsize=8)
    where = ", ".join(map(str, data.get("sizes") or []))
    fig.suptitle(
        f"Grid convergence of {data.get('scheme', '?')} (N = {where}): {data.get('status', '?')}"
    )
    return fig


def _grid_abscissa(data: Mapping[str, Any]) -> tuple[FloatArray, list[str], str]:
    """log10 h per level (the largest spacing, else 1/(N − 1)), tick labels, axis label."""
    sizes, spacings = list(data.get("sizes") or []), data.get("spacings")
    if spacings:
        h = [max(s) if isinstance(s, Sequence) else s for s in spacings]
        label = "grid spacing h"
    else:
        h, label = [1 / (int(n) - 1) for n in sizes], f"1/(N {_MINUS} 1)  (∝ h)"
    if sizes and len(sizes) != len(h):
        msg = f"{len(sizes)} sizes but {len(h)} spacings: give one spacing per grid"
        raise InputError(msg)
    log_h = _log10(h)
    ticks = [
        f"{10**v:.3g}" + (f"\nN = {n}" if sizes else "")
        for v, n in zip(log_h, sizes or h, strict=True)
    ]
    return log_h, ticks, label


def _grid_region(
    ax: Axes,
    region: Mapping[str, Any],
    log_h: FloatArray,
    style: tuple[str, str],
    data: Mapping[str, Any],
    seen: set[str],
) -> None:
    (name, ls), errors = style, region.get("errors") or {}
    logs = {norm: _log10(errors[norm]) for norm in ("L2", "Linf") if norm in errors}
    for k, (norm, log_e) in enumerate(logs.items()):
        if log_e.size != log_h.size:
            msg = f"{name} {norm}: {log_e.size} errors for {log_h.size} grid levels"
            raise InputError(msg)
        label = f"{name} {norm.replace('inf', '∞')}"
        ax.plot(10.0**log_h, 10.0**log_e, ls=ls, color=_PALETTE[k], marker=_MARKERS[k], label=label)
    expected, overall = region.get("expected_order"), data.get("expected_order")
    if expected is None:
        expected = overall.get(name) if isinstance(overall, Mapping) else overall
    p = expected if expected is not None else region.get("observed_order")
    last = logs.get("Linf", logs.get("L2"))
    if p is None or last is None or last.size != log_h.size or not np.isfinite(last[-1]):
        return
    line = last[-1] - 0.5 + float(p) * (log_h - log_h[-1])
    text = f"slope {float(p):g} ({name}, {'expected' if expected is not None else 'observed'})"
    _guide(ax, 10.0**log_h, 10.0**line, text, "0.3", log_h.size // 2, seen)


# -- output ---------------------------------------------------------------------------------


def save_figure(fig: Figure, path: str | os.PathLike[str]) -> None:
    """Write ``fig`` to ``path`` atomically; the format (png, svg, pdf) comes from the suffix.

    The figure is rendered to a temporary file in the same directory, which then replaces
    ``path`` in one step: a failed or interrupted render never leaves a half-written plot in
    place of the user's file.  A replaced file keeps its permissions; a new one gets 0o644.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> fig = plot_secant_tangent("exp(x)", 0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_figure(fig, pathlib.Path(tmp) / "tangent.svg")
    ...     (pathlib.Path(tmp) / "tangent.svg").read_text()[:5]
    '<?xml'
    """
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in _FORMATS:
        msg = f"cannot tell the format of {quote(str(path))}: end the name in .png, .svg or .pdf"
        raise ConfigError(msg)
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as stream:
            fig.savefig(stream, format=fmt)
        temporary.chmod(mode)
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def figure_to_png_base64(fig: Figure, dpi: int = 110) -> str:
    """The figure as base64 PNG: the payload of a ``data:image/png;base64,`` URI.

    Examples
    --------
    >>> import base64
    >>> payload = figure_to_png_base64(plot_secant_tangent("x**3", 0.5), dpi=40)
    >>> base64.b64decode(payload)[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
