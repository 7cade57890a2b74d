"""The report's convergence figure as inline SVG, and how figures sit in HTML and Markdown.

:func:`convergence_chart` draws what :func:`symgrad.output.plot_convergence` draws, from the
same data (a :class:`~symgrad.ConvergenceResult`'s ``to_dict()``), with :mod:`._svg` instead of
matplotlib.  Left: |error| against the step h on log-log axes, one line per scheme, the
asymptotic range under a translucent stroke, exact zeros as hollow triangles a decade below
the smallest nonzero error, and one dark dashed line per expected order ("slope 2" serves
central:2 and the complex step alike) over the steps where those schemes are asymptotic,
below the lowest of them by half a decade or 6 % of the error axis.  Right: the pairwise
observed orders log(e₁/e₂)/log(h₁/h₂) at the geometric middle of each pair of steps, with
the expected orders as dotted lines.  Errors are read exactly (``"1.2e-400"`` has its place).

:func:`study_charts` draws a grid or solver study (``verify_grid``, ``verify_operator``,
``verify_solver``; their ``to_dict()``): one figure per component of a grid study, one for a
solver. Left: the L1, L2 and L∞ errors of every region against h on log-log axes (colour and
marker per norm: L1 blue circles, L2 orange squares, L∞ green triangles; dash per region:
interior solid, boundary dashed, transverse dash-dotted), one tick per level (its h over its N,
its time steps, or both where space and time are refined together), the L∞ errors of the
asymptotic range under a translucent stroke, a dark dashed line of each region's expected order
(its observed order when none is expected) over that range, half a decade below the lowest of
its errors there (none for a lower bound). A level whose L∞ error is at or below the region's
rounding floor is *unresolved*: its markers are hollow (named in the legend), and so is every
pairwise order that involves it; an error of exactly 0 is a hollow triangle a decade below the
smallest nonzero error. Right: the pairwise observed orders of each norm and region at the
geometric middle of each pair of levels (the result's own ``orders_by_norm``, never
recomputed), the pairs of the asymptotic range highlighted, the expected orders dotted. A
region whose verdict is ``exact`` (errors at the rounding level) gets no slope line.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from symgrad._figures import MARKERS, PALETTE, FloatArray, floor_of, log10_axis, point_text
from symgrad.errors import InputError
from symgrad.output._plots import (
    _asymptotic,
    _grid_abscissa,
    _guide_lines,
    _num,
    _pairwise_orders,
    _panel_name,
    _scheme_label,
    _series,
)
from symgrad.output._svg import Axis, Chart, LegendEntry, Panel

__all__ = ["convergence_chart", "figure_html", "figure_markdown", "study_charts"]

_GUIDE = "#404040"  # the dark grey of the slope guides


def figure_html(svg: str) -> str:
    """An inline SVG figure in HTML (nothing when there is none)."""
    return f'<figure class="chart">{svg}</figure>' if svg else ""


def figure_markdown(svg: str) -> str:
    """The same figure in Markdown: an HTML block, with blank lines around it."""
    return f"{svg}\n\n" if svg else ""


def convergence_chart(data: Mapping[str, Any], ident: str) -> str:
    """The convergence figure of one study (its ``to_dict()``) as inline SVG.

    Examples
    --------
    >>> data = {"status": "pass", "point": {"x": "1"}, "dps": 50, "schemes": [
    ...     {"scheme": "central:2", "expected_order": 2, "observed_order": 2.0,
    ...      "status": "pass", "steps": [0.1, 0.05, 0.025], "errors": ["9e-4", 2.25e-4, 5.6e-5]}]}
    >>> convergence_chart(data, "demo").startswith("<svg")
    True
    """
    series = [_series(spec) for spec in data["schemes"]]
    log_h = np.concatenate([s[1] for s in series])
    logs = [s[2] for s in series]
    floor = floor_of(logs)
    guides = _guides(series, logs)
    errors, orders = _error_panel(series, floor, guides), _orders_panel(series, log_h)
    digits = "float64" if data.get("precision") == "float64" else f"{data.get('dps', '?')} digits"
    title = f"Convergence at {point_text(data.get('point'))} ({digits}): {data.get('status', '?')}"
    alt = f"convergence plot: {title}"
    return Chart([title], [errors, orders], ident, columns=2, alt=alt).to_svg()


def _guides(
    series: Sequence[tuple[Mapping[str, Any], FloatArray, FloatArray]], logs: list[FloatArray]
) -> list[tuple[float, FloatArray, FloatArray]]:
    """(p, log h, log e) of one reference line per expected order, under its schemes."""
    found: dict[float, list[tuple[FloatArray, float]]] = {}
    for spec, log_h, log_e in series:
        inside = _asymptotic(spec, log_h) & np.isfinite(log_e)
        p = spec.get("expected_order")
        if p is not None and inside.any() and spec.get("status") != "exact":
            offset = float(np.min(log_e[inside] - float(p) * log_h[inside]))
            found.setdefault(float(p), []).append((log_h[inside], offset))
    return _guide_lines(found, logs)


def _error_panel(
    series: Sequence[tuple[Mapping[str, Any], FloatArray, FloatArray]],
    floor: float,
    guides: list[tuple[float, FloatArray, FloatArray]],
) -> Panel:
    """|error| against h: the schemes, their asymptotic ranges and zeros, the slope guides."""
    log_h = np.concatenate([s[1] for s in series])
    ys = [*(e[np.isfinite(e)] for _, _, e in series), *(g[2] for g in guides)]
    if any(np.isneginf(e).any() for _, _, e in series):
        ys.append(np.array([floor]))
    y = Axis.fit("|error|", True, np.concatenate(ys).tolist(), pad=0.1)
    panel = Panel("error against step (highlighted: asymptotic range)", _x(log_h), y)
    for k, (spec, steps, errors) in enumerate(series):
        color, exact = PALETTE[k % 7], spec.get("status") == "exact"
        inside = _asymptotic(spec, steps) & np.isfinite(errors)
        if spec.get("asymptotic_range") is not None and inside.any() and not exact:
            panel.band(steps[inside], errors[inside], color)
        finite = np.where(np.isfinite(errors), errors, np.nan)
        label = _scheme_label(spec, k) if np.isfinite(finite).any() else None
        size = 1.2 * max(4.0, 9.0 - 1.5 * k)  # later markers smaller: equal errors show both
        panel.line(steps, finite, color, label=label, marker=MARKERS[k % 7], size=size)
        if np.isneginf(errors).any():
            zero = f"{spec.get('scheme', k)}: exactly 0 (\u25bd, at the floor)"
            panel.zeros(steps[np.isneginf(errors)], floor, color, label=zero)
    for p, x, line in guides:
        panel.guide(x, line, _GUIDE, text=f"slope {_num(p)}", at=0)
    return panel


def _x(log_h: FloatArray) -> Axis:
    return Axis.fit("step h", True, log_h.tolist())


def _orders_panel(
    series: Sequence[tuple[Mapping[str, Any], FloatArray, FloatArray]], log_h: FloatArray
) -> Panel:
    """The pairwise observed orders at the middle of each pair, the expected orders dotted."""
    rows = []
    for k, (spec, steps, errors) in enumerate(series):
        if spec.get("status") == "exact":
            continue
        where, orders = _pairwise_orders(spec, steps, errors)
        inside = None
        if spec.get("asymptotic_range") is not None:
            mask = _asymptotic(spec, steps)
            inside = mask if orders.size == steps.size else mask[1:] & mask[:-1]
        rows.append((k, spec, where, orders, inside))
    panel = Panel(
        "pairwise observed order log(e₁/e₂) / log(h₁/h₂)",
        Axis("step h (middle of each pair)", True, _x(log_h).lo, _x(log_h).hi),
        _orders_axis(rows),
    )
    said: set[str] = set()
    for k, spec, where, orders, inside in rows:
        color = PALETTE[k % 7]
        if inside is not None and inside.any():
            panel.band(where[inside], orders[inside], color)
        panel.line(where, orders, color, marker=MARKERS[k % 7], size=7.0)
        p = spec.get("expected_order")
        if p is not None:
            text = f"expected {_num(p)}"
            panel.hline(float(p), color, text=None if text in said else text)
            said.add(text)
    return panel


def _orders_axis(rows: list[tuple[int, Mapping[str, Any], Any, Any, Any]]) -> Axis:
    """From the lowest order (not below −3) to the highest (not above expected + 4), ± 0.5."""
    low, high = math.inf, -math.inf
    for _, spec, _, orders, _ in rows:
        p = spec.get("expected_order")
        finite = orders[np.isfinite(orders)]
        top = max(float(p or 0), float(finite.max()) if finite.size else 0.0)
        bottom = float(finite.min()) if finite.size else 0.0
        low = min(low, max(bottom, -3.0) - 0.5)
        high = max(high, min(top, float(p or 0) + 4) + 0.5)
    if not math.isfinite(low):
        low, high = 0.0, 1.0
    return Axis("observed order p", False, low, high)


# -- grid and solver studies ----------------------------------------------------------------

_NORMS = ("L1", "L2", "Linf")  # colour and marker k of the palette, in this order
_REGION_DASH = {"interior": "-", "boundary": "--", "transverse": "-.", "solution": "-"}
_NORM_LABEL = {"L1": "L1", "L2": "L2", "Linf": "L\u221e"}
_UNRESOLVED = "hollow: at or below the rounding floor (unresolved)"


def study_charts(data: Mapping[str, Any], ident: str) -> list[str]:
    """The figures of a grid or solver study (its ``to_dict()``) as inline SVG: one per
    component of a grid study, one for a solver study (see the module docstring).

    Examples
    --------
    >>> region = {"errors": {"Linf": [4e-3, 1e-3, 2.5e-4]}, "orders_by_norm": {"Linf": [2, 2]},
    ...           "expected_order": 2, "asymptotic_range": [11, 41], "status": "pass",
    ...           "rounding_floor": [1e-13, 2e-13, 4e-13]}
    >>> data = {"status": "pass", "solver": "heat", "refine": "space", "h": [0.1, 0.05, 0.025],
    ...         "sizes": [11, 21, 41], "regions": {"interior": region}}
    >>> [svg.startswith("<svg") for svg in study_charts(data, "demo")]
    [True]
    """
    if "components" in data:
        log_h, ticks, xlabel = _grid_abscissa(data)
        counts = list(data.get("sizes") or [])
        levels = ", ".join(map(str, counts))
        heading = f"Grid convergence of {data.get('scheme', '?')} (N = {levels})"
        charts = []
        for k, comp in enumerate(data["components"]):
            regions = {r: comp[r] for r in ("interior", "boundary", "transverse") if comp.get(r)}
            title = [f"{heading}: {data.get('status', '?')}"]
            title += [f"{_panel_name(comp, data)}: {comp.get('status', '?')}"]
            study = _Study(log_h, counts, _level_axis(xlabel, log_h, ticks), regions)
            charts.append(_study_chart(title, study, f"{ident}-{k}"))
        return charts
    log_h = log10_axis(list(data.get("h") or []))
    by_time = data.get("refine") == "time"
    counts = list((data.get("time_steps") if by_time else data.get("sizes")) or [])
    ticks = [f"{10**v:.3g}" for v in log_h]
    lines = [("steps", counts)] if by_time else [("N", counts)]
    if data.get("refine") == "space-time":  # both refined: each level's time steps too
        lines.append(("steps", list(data.get("time_steps") or [])))
    for what, values in lines:
        if len(values) == log_h.size:
            ticks = [f"{t}\n{what} = {n}" for t, n in zip(ticks, values, strict=True)]
    label = "time step dt" if by_time else "refinement h (largest spacing)"
    final = "error norm at the final time" if data.get("time_variable") else "error norm"
    study = _Study(log_h, counts, _level_axis(label, log_h, ticks), data["regions"], final)
    heading = f"Convergence of {data.get('solver', '?')} (refining {data.get('refine', '?')})"
    return [_study_chart([f"{heading}: {data.get('status', '?')}"], study, ident)]


class _Study(NamedTuple):
    """What one study figure draws: log10 h per level, the levels' N (or time steps), the
    h axis with one tick per level, and the regions' dicts (errors, orders, floors, range)."""

    log_h: FloatArray
    counts: list[Any]
    x: Axis
    regions: Mapping[str, Mapping[str, Any]]
    y_label: str = "error norm"


class _Region(NamedTuple):
    """One region's data on the log axes: errors per norm (-inf for 0), the judged norm's
    index in the palette, the unresolved levels, the asymptotic range's levels."""

    name: str
    spec: Mapping[str, Any]
    logs: dict[str, FloatArray]
    judged: str
    unresolved: npt.NDArray[np.bool_]
    inside: npt.NDArray[np.bool_]


def _level_axis(label: str, log_h: FloatArray, ticks: Sequence[str]) -> Axis:
    """The h axis over the levels, labelled at each level."""
    fitted = Axis.fit(label, True, log_h.tolist(), pad=0.1)  # room for the outer labels
    marks = tuple((float(u), t) for u, t in zip(log_h, ticks, strict=True) if math.isfinite(u))
    return Axis(label, True, fitted.lo, fitted.hi, marks)


def _region(name: str, spec: Mapping[str, Any], study: _Study) -> _Region:
    """A region's errors read exactly, and which of its levels are unresolved (the judged
    norm's error at or below the rounding floor, or 0) or in the asymptotic range."""
    errors = spec.get("errors") or {}
    logs = {n: log10_axis(list(errors[n])) for n in _NORMS if n in errors}
    for norm, log_e in logs.items():
        if log_e.size != study.log_h.size:
            msg = f"{name} {norm}: {log_e.size} errors for {study.log_h.size} levels"
            raise InputError(msg)
    judged = "Linf" if "Linf" in logs else next(iter(logs), "Linf")
    base = logs.get(judged, np.full(study.log_h.size, np.nan))
    floors = log10_axis(list(spec.get("rounding_floor") or []))
    unresolved = np.isneginf(base)
    if floors.size == base.size:
        unresolved |= np.isfinite(base) & (base <= floors)
    inside = np.zeros(base.size, bool)
    span, counts = spec.get("asymptotic_range"), study.counts
    if span is not None and span[0] in counts and span[1] in counts:
        inside[counts.index(span[0]) : counts.index(span[1]) + 1] = True
    return _Region(name, spec, logs, judged, unresolved, inside)


def _study_chart(title: list[str], study: _Study, ident: str) -> str:
    regions = [_region(name, spec, study) for name, spec in study.regions.items()]
    exact = [r.name for r in regions if r.spec.get("status") == "exact"]
    if exact:
        title = [*title[:-1], f"{title[-1]} ({', '.join(exact)}: exact to rounding, no slope)"]
    errors = _study_errors(study, regions)
    orders = _study_orders(study, regions)
    alt = "; ".join(title) + ": errors and pairwise observed orders against the spacing"
    columns = 3 if all(len(e.label) <= 30 for e in errors.legend) else 2  # long labels: 2
    return Chart(title, [errors, orders], ident, columns=columns, alt=alt).to_svg()


def _study_guide(study: _Study, region: _Region) -> tuple[float, FloatArray, FloatArray] | None:
    """(p, log h, log e) of the region's slope line over its asymptotic range (its resolved
    levels without one), half a decade below the lowest of its errors there."""
    spec, p = region.spec, region.spec.get("expected_order")
    p = spec.get("observed_order") if p is None else p
    bound = spec.get("at_least") or spec.get("status") == "exact"  # no law to draw
    if not region.logs or p is None or bound or not math.isfinite(p):
        return None
    use = region.inside if region.inside.any() else ~region.unresolved
    lowest = np.min(np.stack(list(region.logs.values())) - float(p) * study.log_h, axis=0)
    use &= np.isfinite(lowest)
    if not use.any():
        return None
    x = study.log_h[use]
    return float(p), x, float(np.min(lowest[use])) - 0.5 + float(p) * x


def _study_errors(study: _Study, regions: list[_Region]) -> Panel:
    """Errors per norm and region against h, the asymptotic ranges, the slope lines."""
    guides = [(r, g) for r in regions if (g := _study_guide(study, r)) is not None]
    logs = [e for r in regions for e in r.logs.values()]
    floor = floor_of(logs)
    ys = [*(e[np.isfinite(e)] for e in logs), *(g[2] for _, g in guides)]
    if any(np.isneginf(e).any() for e in logs):
        ys.append(np.array([floor]))
    y = Axis.fit(study.y_label, True, np.concatenate(ys).tolist(), pad=0.1)
    panel = Panel("error per level (highlighted: asymptotic range)", study.x, y)
    for r in regions:
        if r.inside.any() and r.judged in r.logs:
            base = r.logs[r.judged]
            keep = r.inside & np.isfinite(base)
            panel.band(study.log_h[keep], base[keep], PALETTE[_NORMS.index(r.judged)])
    for r in regions:
        dash = _REGION_DASH.get(r.name, "-")
        for norm, log_e in r.logs.items():
            k, label = _NORMS.index(norm), f"{r.name} {_NORM_LABEL[norm]}"
            color, finite = PALETTE[k], np.where(np.isfinite(log_e), log_e, np.nan)
            size = 1.2 * (9.0 - 2.0 * k)  # later norms smaller and on top: equal errors show all
            shown = label if np.isfinite(finite).any() else None
            panel.line(
                study.log_h, finite, color, label=shown, marker=MARKERS[k], size=size, dash=dash
            )
            hollow = r.unresolved & np.isfinite(log_e)
            if hollow.any():
                where = study.log_h[hollow]
                panel.marks(where, log_e[hollow], color, marker=MARKERS[k], size=size)
            if np.isneginf(log_e).any():
                zero = f"{label}: exactly 0 (\u25bd, at the floor)"
                nested = 1.2 * (14.0 - 4.0 * k)  # triangles of the norms one inside the other
                panel.zeros(study.log_h[np.isneginf(log_e)], floor, color, label=zero, size=nested)
    if any((r.unresolved & np.isfinite(e)).any() for r in regions for e in r.logs.values()):
        panel.legend.append(LegendEntry(_UNRESOLVED, _GUIDE, "o", zero=True))
    for r, (p, x, line) in guides:
        panel.guide(x, line, _GUIDE, text=f"slope {p:g} ({r.name}, {_slope_kind(r.spec)})", at=-1)
    return panel


def _slope_kind(spec: Mapping[str, Any]) -> str:
    if spec.get("expected_order") is None:
        return "observed"
    return "expected, at least" if spec.get("at_least") else "expected"


def _study_orders(study: _Study, regions: list[_Region]) -> Panel:
    """The result's pairwise orders per norm and region at the middle of each pair of levels;
    pairs with an unresolved level hollow, the asymptotic range's pairs highlighted, the
    expected orders dotted."""
    where = (study.log_h[1:] + study.log_h[:-1]) / 2
    rows = []
    for r in regions:
        given = r.spec.get("orders_by_norm") or {}
        for norm in r.logs:
            values = list(given.get(norm) or [])
            orders = np.array([math.nan if v is None else float(v) for v in values])
            if orders.size != where.size:
                msg = f"{r.name} {norm}: {orders.size} orders for {where.size} pairs of levels"
                raise InputError(msg)
            rows.append((_NORMS.index(norm), r, where, orders, r.inside[1:] & r.inside[:-1]))
    x = study.x
    axis = Axis(f"{x.label} (middle of each pair)", True, x.lo, x.hi, x.marks)
    panel = Panel(
        "pairwise observed order per norm",
        axis,
        _orders_axis([(k, r.spec, w, o, i) for k, r, w, o, i in rows]),
    )
    for k, r, _, orders, inside in rows:
        if _NORMS[k] == r.judged and inside.any():
            panel.band(where[inside], orders[inside], PALETTE[k])
    for k, r, _, orders, _ in rows:
        size = 1.0 * (9.0 - 2.0 * k)
        panel.line(
            where,
            orders,
            PALETTE[k],
            marker=MARKERS[k],
            size=size,
            dash=_REGION_DASH.get(r.name, "-"),
        )
        hollow = (r.unresolved[1:] | r.unresolved[:-1]) & np.isfinite(orders)
        if hollow.any():
            panel.marks(where[hollow], orders[hollow], PALETTE[k], marker=MARKERS[k], size=size)
    bounds: dict[float, bool] = {}  # expected order -> only ever a lower bound
    for r in regions:
        p = r.spec.get("expected_order")
        if p is not None and math.isfinite(float(p)):
            bounds[float(p)] = bounds.get(float(p), True) and bool(r.spec.get("at_least"))
    for p, at_least in bounds.items():
        panel.hline(p, _GUIDE, text=f"expected {'≥ ' if at_least else ''}{p:g}")
    return panel
