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
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from symgrad._figures import MARKERS, PALETTE, FloatArray, floor_of, point_text
from symgrad.output._plots import _asymptotic, _num, _series
from symgrad.output._svg import Axis, Chart, Panel

__all__ = ["convergence_chart", "figure_html", "figure_markdown"]

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


def _label(spec: Mapping[str, Any], k: int) -> str:
    name = spec.get("scheme", k)
    if spec.get("status") == "exact":
        return f"{name}: exact, errors at the precision floor"
    observed, expected = _num(spec.get("observed_order")), _num(spec.get("expected_order"))
    return f"{name}: observed {observed}, expected {expected} ({spec.get('status', '?')})"


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
    values = np.concatenate([a[np.isfinite(a)] for a in logs])
    span = float(np.ptp(values)) if values.size else 1.0
    out = []
    for p, parts in sorted(found.items()):
        x = np.unique(np.concatenate([h for h, _ in parts]))
        out.append((p, x, min(c for _, c in parts) - max(0.5, 0.06 * span) + p * x))
    return out


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
        label = _label(spec, k) if np.isfinite(finite).any() else None
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
        where = (steps[1:] + steps[:-1]) / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            orders = np.diff(errors) / np.diff(steps)
        given = spec.get("pairwise_orders")
        if given is not None:
            orders = np.array([np.nan if v is None else float(v) for v in given])
            where = steps if orders.size == steps.size else where
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
