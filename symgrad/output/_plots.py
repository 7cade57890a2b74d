"""Figures for teaching and for verification reports (matplotlib is the optional ``plot`` extra).

Every function builds a :class:`matplotlib.figure.Figure` on an Agg canvas and returns it: no
pyplot, no global state, nothing shown, works headless.  Verification results come in as plain
data (``result.to_dict()`` or the CLI's JSON), so this module needs none of the checking modules.
The teaching figures live in :mod:`symgrad.teaching._plots` and are re-exported here, as are
:func:`save_figure`, :func:`style_figure` and :func:`figure_to_png_base64` from
:mod:`symgrad._figures`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from symgrad.errors import InputError, quote

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
from symgrad._figures import (
    HIGHLIGHT,
    LABEL_BOX,
    MARKERS,
    MIN_FONT,
    MINUS,
    PALETTE,
    FloatArray,
    HasToDict,
    LogAxis,
    as_data,
    draw_zeros,
    figure_to_png_base64,
    floor_of,
    guide,
    log10_axis,
    new_figure,
    point_text,
    save_figure,
    shared_legend,
    style_figure,
)
from symgrad.expr import parse_domain
from symgrad.teaching import plot_gradient_field, plot_secant_tangent, plot_step_error

__all__ = [
    "HasToDict",
    "figure_to_png_base64",
    "parse_domain",
    "plot_convergence",
    "plot_gradient_field",
    "plot_grid_convergence",
    "plot_secant_tangent",
    "plot_solver_convergence",
    "plot_step_error",
    "save_figure",
    "style_figure",
]

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
    data = as_data(result, "schemes")
    if not isinstance(data["schemes"], Sequence) or not data["schemes"]:
        msg = f"'schemes' must be a non-empty list (got {quote(repr(data['schemes']))})"
        raise InputError(msg)
    series = [_series(spec) for spec in data["schemes"]]
    fig, axes = new_figure(2 if ax_orders else 1, (12.5 if ax_orders else 7.0, 5.2))
    sx, sy = LogAxis.of(*(s[1] for s in series)), LogAxis.of(*(s[2] for s in series))
    guides: dict[float, list[tuple[FloatArray, float]]] = {}
    floor = floor_of([s[2] for s in series])
    for k, (spec, log_h, log_e) in enumerate(series):
        color, given = PALETTE[k % 7], spec.get("asymptotic_range") is not None
        exact = spec.get("status") == "exact"  # errors at the precision floor: no order to show
        label = _scheme_label(spec, k)
        finite = np.where(np.isfinite(log_e), log_e, np.nan)
        size = max(4.0, 9.0 - 1.5 * k)  # later markers smaller and on top: equal errors show both
        axes[0].plot(
            sx(log_h),
            sy(finite),
            color=color,
            # a scheme whose every error is exactly 0 is named once, by its zero markers
            label=label if np.isfinite(finite).any() else "_nolegend_",
            marker=MARKERS[k % 7],
            ms=size,
            zorder=2 + k,
        )
        if np.isneginf(log_e).any():
            draw_zeros(
                axes[0],
                sx(log_h[np.isneginf(log_e)]),
                sy.at(floor),
                color,
                str(spec.get("scheme", k)),
            )
        inside = _asymptotic(spec, log_h) & np.isfinite(log_e)
        p = spec.get("expected_order")
        if given and inside.any() and not exact:  # a highlighter stroke under the range
            axes[0].plot(sx(log_h[inside]), sy(log_e[inside]), color=color, **HIGHLIGHT)
        if p is not None and inside.any() and not exact:
            guides.setdefault(float(p), []).append(
                (log_h[inside], float(np.min(log_e[inside] - float(p) * log_h[inside])))
            )
        if ax_orders and not exact:
            _orders_panel(axes[1], sx, spec, (log_h, log_e), inside if given else None, k)
    _slope_guides(axes[0], sx, sy, guides, [s[2] for s in series])
    _convergence_axes(axes, sx, sy, series)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles, labels, loc="outside lower center", ncols=min(len(labels), 2), fontsize=MIN_FONT
    )
    where = point_text(data.get("point"))
    digits = "float64" if data.get("precision") == "float64" else f"{data.get('dps', '?')} digits"
    fig.suptitle(f"Convergence at {where} ({digits}): {data.get('status', '?')}")
    return fig


def _slope_guides(
    ax: Axes,
    sx: LogAxis,
    sy: LogAxis,
    guides: Mapping[float, list[tuple[FloatArray, float]]],
    logs: list[FloatArray],
) -> None:
    """One dark dashed line per expected order, labelled once ("slope 2" serves central:2 and
    the complex step alike), over the steps where those schemes are asymptotic, below the
    lowest of them by half a decade or 6 % of the error axis, whichever is more."""
    seen: set[str] = set()
    ax.margins(y=0.1)  # room for the label under the lowest guide
    for p, x, y in _guide_lines(guides, logs):
        guide(ax, sx(x), sy(y), f"slope {_num(p)}", "0.25", 0, seen)  # where lines part


def _guide_lines(
    guides: Mapping[float, list[tuple[FloatArray, float]]], logs: list[FloatArray]
) -> list[tuple[float, FloatArray, FloatArray]]:
    """(p, log h, log e) of the line of each expected order p: over the union of its schemes'
    asymptotic steps, below the lowest of them (offsets ``log e − p log h``) by half a decade
    or 6 % of the span of the errors ``logs``, whichever is more."""
    values = np.concatenate([a[np.isfinite(a)] for a in logs])
    span = float(np.ptp(values)) if values.size else 1.0
    out = []
    for p, parts in sorted(guides.items()):
        x = np.unique(np.concatenate([h for h, _ in parts]))
        out.append((p, x, min(c for _, c in parts) - max(0.5, 0.06 * span) + p * x))
    return out


def _convergence_axes(axes: list[Axes], sx: LogAxis, sy: LogAxis, series: list[Any]) -> None:
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
    log_h, log_e = log10_axis(spec["steps"]), log10_axis(spec["errors"])
    if log_h.size != log_e.size:
        msg = f"{spec.get('scheme')}: {log_h.size} steps but {log_e.size} errors"
        raise InputError(msg)
    return spec, log_h, log_e  # an exact zero is -inf: drawn at the axis floor


def _num(value: Any) -> str:
    return "?" if value is None else f"{float(value):.3g}"


def _scheme_label(spec: Mapping[str, Any], k: int) -> str:
    """A scheme's legend entry: its observed and expected order and status, or that it is exact."""
    name = spec.get("scheme", k)
    if spec.get("status") == "exact":
        return f"{name}: exact, errors at the precision floor"
    observed, expected = _num(spec.get("observed_order")), _num(spec.get("expected_order"))
    return f"{name}: observed {observed}, expected {expected} ({spec.get('status', '?')})"


def _pairwise_orders(
    spec: Mapping[str, Any], log_h: FloatArray, log_e: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """(where, orders): the result's ``pairwise_orders`` if it gives them (at the steps when
    there is one per step), else log(e₁/e₂) / log(h₁/h₂) at the middle of each pair."""
    where = (log_h[1:] + log_h[:-1]) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        orders = np.diff(log_e) / np.diff(log_h)
    given = spec.get("pairwise_orders")
    if given is not None:
        orders = np.array([np.nan if v is None else float(v) for v in given])
        where = log_h if orders.size == log_h.size else where
    return where, orders


def _asymptotic(spec: Mapping[str, Any], log_h: FloatArray) -> npt.NDArray[np.bool_]:
    """Which steps lie in the asymptotic range (all of them when the result gives none)."""
    given, index = spec.get("asymptotic_range"), np.arange(log_h.size)
    inside: npt.NDArray[np.bool_] = index >= 0
    if isinstance(given, Mapping):
        inside = (index >= given.get("start", 0)) & (index < given.get("stop", log_h.size))
    if given is None or isinstance(given, Mapping):
        return inside
    bounds = log10_axis(list(given)) if isinstance(given, Sequence) else np.array([])
    if bounds.size != 2 or not np.isfinite(bounds).all():
        msg = f"asymptotic_range must be [h_large, h_small] or {{start, stop}} (got {given!r})"
        raise InputError(msg)
    return np.asarray((log_h >= bounds.min() - 1e-9) & (log_h <= bounds.max() + 1e-9), bool)


def _orders_panel(
    ax: Axes,
    sx: LogAxis,
    spec: Mapping[str, Any],
    logs: tuple[FloatArray, FloatArray],
    inside: Any,
    k: int,
) -> None:
    """Pairwise orders at the geometric middle of each pair of steps, expected order dotted."""
    (log_h, log_e), color = logs, PALETTE[k % 7]
    where, orders = _pairwise_orders(spec, log_h, log_e)
    ax.plot(sx(where), orders, marker=MARKERS[k % 7], color=color, label=spec.get("scheme"))
    if inside is not None:  # the pairs whose two steps both lie in the asymptotic range
        pairs = inside if orders.size == log_h.size else inside[1:] & inside[:-1]
        ax.plot(sx(where[pairs]), orders[pairs], color=color, **HIGHLIGHT)
    p = spec.get("expected_order")
    if p is not None:
        ax.axhline(float(p), color=color, ls=":", label=f"expected {_num(p)}")
    if p is not None and f"expected {_num(p)}" not in [t.get_text() for t in ax.texts]:
        where_p: dict[str, Any] = {
            "xycoords": ("axes fraction", "data"),
            "ha": "right",
            "fontsize": MIN_FONT,
            "bbox": LABEL_BOX,
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


# -- grid convergence -----------------------------------------------------------------------


_NORMS = ("L1", "L2", "Linf")  # the error norms a grid or solver plot draws, in this order


def plot_grid_convergence(result: Mapping[str, Any] | HasToDict) -> Figure:
    """L1, L2 and L∞ errors against the grid spacing, interior (solid) and boundary (dashed).

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
    data = as_data(result, "components")
    log_h, ticks, xlabel = _grid_abscissa(data)
    components = list(data["components"])
    panels = max(1, len(components))
    fig, axes = new_figure(panels, (max(8.0, 5.5 * panels), 5.2))  # 8 in: a 3-column legend
    for ax, comp in zip(axes, components, strict=False):
        seen: set[str] = set()
        zeros: list[tuple[FloatArray, str, str]] = []
        for region, ls in (("interior", "-"), ("boundary", "--")):
            zeros += _grid_region(ax, comp.get(region) or {}, log_h, (region, ls), data, seen)
        data_lines = [ln for ln in ax.get_lines() if not str(ln.get_label()).startswith("_")]
        floor = floor_of([np.log10(ln.get_ydata()) for ln in data_lines])  # guides unlabelled
        for levels, color, label in zeros:
            draw_zeros(ax, 10.0**levels, 10.0**floor, color, label, 14 - 5 * PALETTE.index(color))
        ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel="error norm")
        ax.margins(y=0.12)  # room for the slope labels under the lowest guide
        ax.set_xticks(10.0**log_h, ticks, minor=False)  # one labelled tick per grid
        ax.tick_params(which="minor", labelbottom=False)
        ax.set_title(f"{_panel_name(comp, data)}: {comp.get('status', '?')}")
    shared_legend(fig, axes, lambda n: 3 if n <= 6 else 2)  # long "exactly 0" labels: 2
    where = ", ".join(map(str, data.get("sizes") or []))
    fig.suptitle(
        f"Grid convergence of {data.get('scheme', '?')} (N = {where}): {data.get('status', '?')}"
    )
    return fig


def _panel_name(comp: Mapping[str, Any], data: Mapping[str, Any]) -> str:
    """A panel's quantity: ∂/∂x for verify_grid's gradient; for an operator result (its dict
    has ``operator``) the output's own name, a partial ``u_xy`` written ∂²u/∂x∂y."""
    name = str(comp.get("variable", "?"))
    if "operator" not in data:
        return f"∂/∂{name}"
    axes = _partial_axes(name, [str(v) for v in data.get("variables") or []])
    if not axes:
        return name  # laplacian, divergence, curl_z, a D(u, ...) expression
    powers = [(v, axes.count(v)) for v in dict.fromkeys(axes)]
    below = "".join(f"∂{v}{_superscript(n)}" for v, n in powers)
    return f"∂{_superscript(len(axes))}u/{below}"


def _partial_axes(name: str, variables: list[str]) -> list[str]:
    """``u_xxy`` → ``["x", "x", "y"]`` over the result's axis names (longest name first);
    empty when ``name`` is not such a partial."""
    rest, axes = name.removeprefix("u_"), []
    if rest == name:
        return []
    while rest:
        match = next(
            (v for v in sorted(variables, key=len, reverse=True) if rest.startswith(v)), ""
        )
        if not match:
            return []
        axes.append(match)
        rest = rest[len(match) :]
    return axes


def _superscript(n: int) -> str:
    return "" if n == 1 else str(n).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


def _grid_abscissa(data: Mapping[str, Any]) -> tuple[FloatArray, list[str], str]:
    """log10 h per level (the largest spacing, else 1/(N − 1)), tick labels, axis label."""
    sizes, spacings = list(data.get("sizes") or []), data.get("spacings")
    if spacings:
        h = [max(s) if isinstance(s, Sequence) else s for s in spacings]
        label = "grid spacing h"
    else:
        h, label = [1 / (int(n) - 1) for n in sizes], f"1/(N {MINUS} 1)  (∝ h)"
    if sizes and len(sizes) != len(h):
        msg = f"{len(sizes)} sizes but {len(h)} spacings: give one spacing per grid"
        raise InputError(msg)
    log_h = log10_axis(h)
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
) -> list[tuple[FloatArray, str, str]]:
    """Plot one region's L1, L2 and L∞ errors (those given) and its reference slope; return
    the levels whose error is exactly 0 (drawn at the floor) with their colour and label.
    Colours and markers are the solver plot's: L1 blue circles, L2 orange squares, L∞ green
    triangles, later norms smaller and on top."""
    (name, ls), errors = style, region.get("errors") or {}
    zeros = []
    logs = {}
    for k, norm in enumerate(_NORMS):
        if norm not in errors:
            continue
        log_e = logs[norm] = log10_axis(errors[norm])
        if log_e.size != log_h.size:
            msg = f"{name} {norm}: {log_e.size} errors for {log_h.size} grid levels"
            raise InputError(msg)
        label = f"{name} {norm.replace('inf', '∞')}"
        shown = _exactly(errors[norm], log_e, LogAxis(linear=False))  # the float64 values
        ax.plot(
            10.0**log_h,
            shown,
            ls=ls,
            label=label,
            color=PALETTE[k],
            marker=MARKERS[k],
            ms=9.0 - 2.0 * k,  # later norms smaller and on top: equal errors show all
        )
        if np.isneginf(log_e).any():
            zeros.append((log_h[np.isneginf(log_e)], PALETTE[k], label))
    expected, overall = region.get("expected_order"), data.get("expected_order")
    if expected is None:
        expected = overall.get(name) if isinstance(overall, Mapping) else overall
    p = expected if expected is not None else region.get("observed_order")
    last = logs.get("Linf", logs.get("L2"))
    if p is None or last is None or last.size != log_h.size or not np.isfinite(last[-1]):
        return zeros
    line = last[-1] - 0.5 + float(p) * (log_h - log_h[-1])
    text = f"slope {float(p):g} ({name}, {'expected' if expected is not None else 'observed'})"
    guide(ax, 10.0**log_h, 10.0**line, text, "0.3", log_h.size - 1, seen)  # finest: leftmost
    return zeros


# -- solver convergence ---------------------------------------------------------------------


def plot_solver_convergence(result: Mapping[str, Any] | HasToDict) -> Figure:
    """L1, L2 and L∞ errors of a manufactured-solution study against h (or dt), per region.

    ``result`` is a :class:`symgrad.SolverResult` or its ``to_dict()`` (the ``verify-solver``
    JSON).  The abscissa is the study's refinement parameter ``h``: the largest grid spacing,
    or the time step when only time is refined.  Interior errors are solid, boundary errors
    dashed (an ODE's ``solution`` solid); an error that is exactly 0 is a hollow triangle at the
    axis floor.  A grey dashed line of each region's expected order runs half a decade below the
    region's finest L∞ error, labelled ``slope p (expected, region)`` (none for a region whose
    status is ``exact``: its errors are rounding, without an order); the title gives the
    verdict.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> region = {"errors": {"L1": [2e-3, 5e-4, 1.25e-4], "L2": [3e-3, 7.5e-4, 1.9e-4],
    ...           "Linf": [8e-3, 2e-3, 5e-4]}, "expected_order": 2.0, "status": "pass"}
    >>> data = {"status": "pass", "solver": "heat", "refine": "space", "h": [0.1, 0.05, 0.025],
    ...         "sizes": [11, 21, 41], "regions": {"interior": region}}
    >>> fig = plot_solver_convergence(data)
    >>> [line.get_label() for line in fig.axes[0].get_lines()][:3]
    ['interior L1', 'interior L2', 'interior L∞']
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_figure(fig, pathlib.Path(tmp) / "solver.png")
    """
    data = as_data(result, "regions")
    log_h = log10_axis(list(data.get("h") or []))
    regions = data["regions"]
    if not isinstance(regions, Mapping) or not regions or not log_h.size:
        msg = "a solver result needs 'h' (one value per level) and a non-empty 'regions' dict"
        raise InputError(msg)
    logs = {name: _solver_errors(name, region, log_h.size) for name, region in regions.items()}
    sx, sy = LogAxis.of(log_h), LogAxis.of(*(e for r in logs.values() for e in r.values()))
    fig, axes = new_figure(1, (9.0, 6.5))
    ax, seen = axes[0], set[str]()
    floor = floor_of([e for r in logs.values() for e in r.values()])
    for name, errors in logs.items():
        ls = "--" if name == "boundary" else "-"
        for k, (norm, log_e) in enumerate(errors.items()):
            label = f"{name} {norm.replace('inf', '∞')}"
            ax.plot(
                _exactly(data["h"], log_h, sx),
                _exactly(regions[name]["errors"][norm], log_e, sy),
                ls=ls,
                color=PALETTE[k],
                marker=MARKERS[k],
                ms=9.0 - 2.0 * k,  # later norms smaller and on top: equal errors show all
                label=label,
            )
            if np.isneginf(log_e).any():
                where = sx(log_h[np.isneginf(log_e)])
                draw_zeros(
                    ax,
                    where,
                    sy.at(floor),
                    PALETTE[k],
                    label,
                    14 - 5 * k,  # nested triangles
                )
        _solver_guide(ax, (sx, sy), log_h, (name, regions[name], errors), seen)
    _solver_axes(ax, (sx, sy), log_h, data)
    shared_legend(fig, axes, lambda n: 3 if n <= 6 else 2)  # long "exactly 0" labels: 2
    fig.suptitle(
        f"Convergence of {data.get('solver', '?')} (refining {data.get('refine', '?')}): "
        f"{data.get('status', '?')}"
    )
    return fig


def _exactly(values: Sequence[Any], logs: FloatArray, axis: LogAxis) -> FloatArray:
    """What a line plots: on a log axis the float64 values themselves (not 10^log10 v, one
    rounding off), on a linear log10 axis their logs; NaN for 0 (drawn at the floor) or None."""
    if axis.linear:
        return np.where(np.isfinite(logs), logs, np.nan)
    shown = np.array([math.nan if v is None else abs(float(v)) for v in values])
    return np.where(np.isfinite(logs), shown, np.nan)


def _solver_errors(name: str, region: Any, levels: int) -> dict[str, FloatArray]:
    """log10 of a region's errors per norm, one per level (-inf for an exact 0)."""
    errors = region.get("errors") if isinstance(region, Mapping) else None
    if not isinstance(errors, Mapping):
        msg = f"region {quote(name)} needs 'errors' with L1, L2 and Linf lists"
        raise InputError(msg)
    out = {norm: log10_axis(list(errors[norm])) for norm in _NORMS if norm in errors}
    for norm, log_e in out.items():
        if log_e.size != levels:
            msg = f"{name} {norm}: {log_e.size} errors for {levels} levels"
            raise InputError(msg)
    return out


def _solver_guide(
    ax: Axes,
    scales: tuple[LogAxis, LogAxis],
    log_h: FloatArray,
    region: tuple[str, Mapping[str, Any], Mapping[str, FloatArray]],
    seen: set[str],
) -> None:
    """The region's expected slope, half a decade below its finest L∞ (else L2) error."""
    (sx, sy), (name, spec, errors) = scales, region
    p, last = spec.get("expected_order"), errors.get("Linf", errors.get("L2"))
    exact = spec.get("status") == "exact"  # errors at rounding level: no order to show
    if p is None or last is None or exact or not np.isfinite(last[-1]):
        return
    line = last[-1] - 0.5 + float(p) * (log_h - log_h[-1])
    text = f"slope {float(p):g} (expected, {name})"
    guide(ax, sx(log_h), sy(line), text, "0.3", log_h.size - 1, seen)


def _solver_axes(
    ax: Axes, scales: tuple[LogAxis, LogAxis], log_h: FloatArray, data: Mapping[str, Any]
) -> None:
    """One labelled tick per level (its h or dt, and N or the time steps), axis labels."""
    (sx, sy), refine = scales, data.get("refine")
    counts, what = (
        (data.get("time_steps"), "steps") if refine == "time" else (data.get("sizes"), "N")
    )
    ticks = [f"{sx.at(v) if not sx.linear else v:.3g}" for v in log_h]
    if isinstance(counts, Sequence) and len(counts) == log_h.size:
        ticks = [f"{t}\n{what} = {n}" for t, n in zip(ticks, counts, strict=True)]
    sx.label(ax, "x", "time step dt" if refine == "time" else "refinement h (largest spacing)")
    sy.label(ax, "y", "error norm at the final time")
    ax.set_xticks(sx(log_h), ticks, minor=False)
    ax.tick_params(which="minor", labelbottom=False)
    ax.margins(y=0.12)  # room for the slope labels under the lowest guide
    regions = data["regions"]
    notes = ["solid: interior, dashed: boundary"] if "boundary" in regions else []
    notes += [
        f"{name} exact to rounding"
        for name, region in regions.items()
        if isinstance(region, Mapping) and region.get("status") == "exact"
    ]
    ax.set_title("; ".join([*notes, "grey: expected slope"]))
