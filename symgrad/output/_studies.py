"""Report pages for grid studies: ``verify_grid``/``verify_operator`` and ``verify_solver``.

:func:`study_report` turns a :class:`~symgrad.GridResult` (an
:class:`~symgrad.OperatorResult` is one) or a :class:`~symgrad.SolverResult` into a page with
one section: the verdict badge and its reason, what was verified, the figures, and per region (interior,
boundary, transverse faces; an ODE's solution) a table of the L1, L2 and L∞ errors of every
level with the pairwise observed orders of each norm, the least-squares orders over the
asymptotic range and the expected order; then the diagnostics and, for a solver, the GCI of
its output quantity.

Every number is the result's own, formatted and never recomputed: errors with four
significant digits, orders with two decimals (``-`` where an order is undefined: an error of
exactly 0, or a level below the rounding floor).

The figures are inline SVG drawn by :func:`symgrad.output._charts.study_charts` (no
matplotlib, no raster; one per component of a grid study, one for a solver): the L1, L2 and
L∞ errors of every region against h on log-log axes with the expected-order slope over the
asymptotic range, and the pairwise observed orders beside them; unresolved levels (at the
rounding floor) are hollow.  The HTML and the Markdown carry the same ``<svg>`` elements.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from symgrad.grids import NORMS, GridRegion, GridResult, SolverResult
from symgrad.output._charts import figure_html, figure_markdown, study_charts
from symgrad.output._render import Section, escape, html_page, markdown_document
from symgrad.results import Result, Status, html_table, markdown_table

__all__ = ["StudyReport", "study_report", "study_section"]

Study = GridResult | SolverResult
_NORM_NAMES = {"L1": "L1", "L2": "L2", "Linf": "L∞"}


@dataclass(frozen=True)
class StudyReport(Result):
    """A page for one grid or solver study: :func:`symgrad.report` of a result.

    Attributes
    ----------
    title : str
        The page title: ``symgrad report: verify_operator`` (or ``verify_grid``,
        ``verify_solver``); the section is titled with what was verified.
    result : GridResult, OperatorResult or SolverResult
        The study itself; ``to_dict`` and ``to_text`` are its own.
    section : Section
        The rendered section (HTML fragment and Markdown, the same inline SVG figures in
        both).
    notes : tuple of str
        What was left out and why.
    """

    status: Status
    reason: str
    title: str
    result: Study
    section: Section
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The study's own JSON (the ``verify-grid`` or ``verify-solver`` document)."""
        return self.result.to_dict()

    def to_text(self) -> str:
        """The study's own text rendering."""
        return self.result.to_text()

    def to_markdown(self) -> str:
        """The page as Markdown, the figures as inline ``<svg>`` blocks."""
        sections = [self.section, *_notes_section(self.notes)]
        return markdown_document(self.title, sections)

    def to_html(self) -> str:
        """The page as one self-contained HTML document, the figures inline SVG."""
        return html_page(self.title, [self.section, *_notes_section(self.notes)])

    def _repr_html_(self) -> str:
        return self.to_html()


def study_report(result: Study, *, plots: bool = True) -> StudyReport:
    """The page of a grid study (``verify_grid``, ``verify_operator``) or a solver study.

    Parameters
    ----------
    result : GridResult, OperatorResult or SolverResult
    plots : bool
        Embed the figures (inline SVG drawn by symgrad; matplotlib is not needed).
    """
    section, notes = study_section(result, plots=plots)
    return StudyReport(
        status=result.status,
        reason=result.reason,
        title=f"symgrad report: {_function(result)}",
        result=result,
        section=section,
        notes=notes,
    )


def study_section(result: Study, *, plots: bool = True) -> tuple[Section, tuple[str, ...]]:
    """The section of a study (see the module docstring) and notes on what was left out."""
    if isinstance(result, SolverResult):
        facts, parts = _solver_facts(result), _solver_parts(result)
    else:
        facts, parts = _grid_facts(result), _grid_parts(result)
    figures = study_charts(result.to_dict(), "study") if plots else []
    html = [f'<p class="reason">{escape(result.reason)}</p>', _html_facts(facts)]
    html += [figure_html(svg) for svg in figures]
    markdown = [result.reason, "", *(f"- {k}: {v}" for k, v in facts), ""]
    markdown += [figure_markdown(svg) for svg in figures]
    for title, status, body_html, body_md in parts:
        badge = f' <span class="badge {status.value}">{status.value}</span>' if status else ""
        html.append(f"<h3>{escape(title)}{badge}</h3>{body_html}")
        markdown += [f"### {title}" + (f" ({status.value})" if status else ""), "", body_md, ""]
    section = Section(_title(result), "\n".join(html), "\n".join(markdown), result.status)
    return section, ()


# -- what was verified ------------------------------------------------------------------------


def _function(result: Study) -> str:
    if isinstance(result, SolverResult):
        return "verify_solver"
    return "verify_operator" if getattr(result, "operator", None) else "verify_grid"


def _title(result: Study) -> str:
    if isinstance(result, SolverResult):
        where = ", ".join(result.variables) or "an ODE"
        return f"Solver {result.solver} on {where}, refining {result.refine}"
    operator = getattr(result, "operator", None)
    what = f"Operator {operator}" if operator else "Grid derivative"
    return f"{what} by {result.scheme} on {', '.join(result.variables)}"


def _grid_facts(result: GridResult) -> list[tuple[str, str]]:
    expected = result.expected_order
    facts = [
        ("scheme", result.scheme),
        ("points per axis", ", ".join(map(str, result.sizes))),
        ("expected order", ", ".join(f"{k} {v:g}" for k, v in expected.items())),
        ("boundary layers", str(result.boundary_width)),
        ("exact values", result.exact),
        ("order tolerance", f"{result.tolerance:g}"),
    ]
    exact = getattr(result, "exact_result", ())
    if exact:
        facts.append(("exact result", "; ".join(exact)))
    periodic = getattr(result, "periodic", ())
    if periodic:
        facts.append(("periodic axes", ", ".join(periodic)))
    if result.refined:
        added = ", ".join(map(str, result.refined))
        facts.append(("refined", f"added N = {added}: the orders had not settled"))
    return facts


def _solver_facts(result: SolverResult) -> list[tuple[str, str]]:
    facts = [("solver", result.solver), ("refining", result.refine)]
    if result.sizes is not None:
        facts.append(("points per axis", ", ".join(map(str, result.sizes))))
    if result.time_steps is not None:
        facts.append(("time steps", ", ".join(map(str, result.time_steps))))
    if result.time_exponent is not None:
        facts.append(("time step", f"dt ∝ h^{result.time_exponent:g}"))
    expected = ", ".join(f"{k} {v:g}" for k, v in result.expected_order.items())
    return [*facts, ("expected order", expected)]


def _html_facts(facts: Sequence[tuple[str, str]]) -> str:
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts)
    return f'<table class="facts">{rows}</table>'


# -- regions ----------------------------------------------------------------------------------

Part = tuple[str, Status | None, str, str]  # title, badge, HTML, Markdown


def _grid_parts(result: GridResult) -> list[Part]:
    h = [max(s) for s in result.spacings]
    levels = [[str(n), _num(x)] for n, x in zip(result.sizes, h, strict=True)]
    parts: list[Part] = []
    for c in result.components:
        named = [("interior", c.interior), ("boundary", c.boundary), ("transverse", c.transverse)]
        for name, region in named:
            if region is not None:
                title = f"{c.variable}: {name}"
                parts.append(_region_part(title, region, ["N", "h"], levels, "N"))
    return [*parts, *_diagnostics_part(result.diagnostics)]


def _solver_parts(result: SolverResult) -> list[Part]:
    head, levels = ["level", "h"], [[str(i + 1), _num(h)] for i, h in enumerate(result.h)]
    for name, values in (("N", result.sizes), ("time steps", result.time_steps)):
        if values is not None:
            head.append(name)
            for row, v in zip(levels, values, strict=True):
                row.append(str(v))
    if result.dt is not None and result.refine != "time":  # with time alone, h is dt
        head.append("dt")
        for row, dt in zip(levels, result.dt, strict=True):
            row.append(_num(dt))
    unit = "time steps" if result.refine == "time" or result.sizes is None else "N"
    parts = [
        _region_part(name, region, head, levels, unit) for name, region in result.regions.items()
    ]
    return [*parts, *_diagnostics_part(result.diagnostics), *_gci_part(result)]


def _region_part(
    title: str,
    region: GridRegion,
    head: list[str],
    levels: list[list[str]],
    unit: str,
) -> Part:
    """A region's table: its errors per norm and level, the pairwise orders of each norm, the
    least-squares orders, the expected order; then the range, the verdict's reason."""
    norms = [n for n in NORMS if n in region.errors]
    rows = [
        head
        + [f"{_NORM_NAMES[n]} error" for n in norms]
        + [f"{_NORM_NAMES[n]} order" for n in norms]
    ]
    for i, level in enumerate(levels):
        errors = [_error(region.errors[n][i]) for n in norms]
        orders = [_order(region.orders_by_norm[n][i - 1]) if i else "" for n in norms]
        rows.append(level + errors + orders)
    blank = [""] * (len(head) - 1)
    fitted = [_order(region.fitted_orders.get(n, math.nan)) for n in norms]
    rows.append(["fitted", *blank, *[""] * len(norms), *fitted])
    expected = ("≥ " if region.at_least else "") + f"{region.expected_order:g}"
    rows.append(["expected", *blank, *[""] * len(norms), *[expected] * len(norms)])
    caption = (
        "errors at the rounding level: no order to observe"
        if region.status is Status.EXACT
        else f"observed order {_order(region.observed_order)} (L∞), expected {expected}"
    )
    span = region.asymptotic_range
    where = (
        f"asymptotic range: {unit} = {span[0]} to {span[1]}"
        if span is not None
        else "asymptotic range: none found (fitted over every level)"
    )
    text = f"{where}. {region.status}: {region.reason}"
    html = html_table(rows, css="symgrad-orders", caption=caption) + f"<p>{escape(text)}</p>"
    markdown = f"{caption}\n\n{markdown_table(rows)}\n\n{text}"
    return title, region.status, html, markdown


def _diagnostics_part(diagnostics: Sequence[Mapping[str, Any]]) -> list[Part]:
    if not diagnostics:
        return []
    lines = [
        f"{d.get('kind', 'diagnostic')}: {d.get('message', '')}"
        + (f"; {d['advice']}" if d.get("advice") else "")
        for d in diagnostics
    ]
    html = "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>"
    return [("Diagnostics", None, html, "\n".join(f"- {line}" for line in lines))]


def _gci_part(result: SolverResult) -> list[Part]:
    """The GCI of the output quantity: its value per level and Celik's reported numbers."""
    values = ", ".join(_value(v) for v in result.quantity_values)
    gci = result.gci
    if gci is None:
        text = f"{result.quantity} per level: {values}. No GCI: it needs three levels and finite values."
        return [(f"GCI of {result.quantity}", None, f"<p>{escape(text)}</p>", text)]
    facts = [
        ("quantity", result.quantity),
        ("value per level", values),
        ("apparent order p", _order(gci.p)),
        ("extrapolated", _value(gci.extrapolated)),
        ("GCI fine", f"{gci.gci_fine:.3e}"),
        ("convergence", gci.convergence),
    ]
    text = f"{gci.status}: {gci.reason}"
    html = _html_facts(facts) + f"<p>{escape(text)}</p>"
    markdown = "\n".join(f"- {k}: {v}" for k, v in facts) + f"\n\n{text}"
    return [(f"GCI of {result.quantity}", gci.status, html, markdown)]


def _notes_section(notes: Sequence[str]) -> list[Section]:
    if not notes:
        return []
    html = "<ul>" + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>"
    return [Section("Notes", html, "\n".join(f"- {n}" for n in notes))]


# -- numbers -------------------------------------------------------------------------


def _error(value: float) -> str:
    return "-" if not math.isfinite(value) else f"{value:.4g}" if value == 0 else f"{value:.3e}"


def _order(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.2f}"


def _num(value: float) -> str:
    return "-" if not math.isfinite(value) else f"{value:.4g}"


def _value(value: float) -> str:
    """A solution value: enough digits to tell the levels apart."""
    return "-" if not math.isfinite(value) else f"{value:.10g}"
