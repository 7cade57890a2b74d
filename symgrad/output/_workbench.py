"""The report's teaching parts: the steps, the stencils with their error terms, the V curve.

:func:`workbench_parts` adds to a report what a lesson needs beside the verdicts: the
derivative explained rule by rule (one-variable expressions only; a gradient's steps would be
as long as the report), each finite-difference scheme as a formula with the leading term of
its error, FD(h) − f′(x) = C·h^p·f^(p+1)(x) + ..., read from the stencil's exact moments, and the
float64 V curve: the error of each scheme against the step, truncation (slope p) meeting
round-off (slope −1) at the optimal step h* = (ε|f|Σ|w| / (p·|C·f^(p+1)|))^(1/(p+1)).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from symgrad.errors import SymgradError
from symgrad.expr import Source
from symgrad.fd import stencils_for
from symgrad.output._charts import figure_html, figure_markdown
from symgrad.output._render import Section, escape
from symgrad.output._vcurve import v_curve, v_curve_chart
from symgrad.teaching import optimal_step_sizes, steps

__all__ = ["Workbench", "workbench_parts"]

_COMPLEX = (
    "f'(x) ≈ Im f(x+ih) / h\n"
    "error = -1/6 h^2 f'''(x) + O(h^4)   (no subtraction: no round-off floor)"
)


@dataclass(frozen=True)
class Workbench:
    """Sections for the report (``before`` the cross-check, ``after`` the convergence
    studies), their JSON data, and notes on what was left out and why."""

    before: tuple[Section, ...] = ()
    after: tuple[Section, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    figures: Mapping[str, str] = field(default_factory=dict)  # name to inline SVG


def workbench_parts(
    expr: Source,
    at: str | Mapping[str, Any],
    names: Sequence[str],
    schemes: Sequence[str],
    *,
    plots: bool = True,
) -> Workbench:
    """Steps (one variable), stencils and the float64 V curve of the first variable.

    Examples
    --------
    >>> parts = workbench_parts("x**3", "x=1", ["x"], ["central:2"], plots=False)
    >>> [s.title for s in parts.before], parts.data["optimal_step_sizes"]["central:2"] > 0
    (['Steps of d/dx', 'Stencils and their error terms'], True)
    """
    before: list[Section] = []
    data: dict[str, Any] = {}
    notes: list[str] = []
    if len(names) == 1:
        try:
            derivation = steps(expr, names[0], variables=list(names))
        except SymgradError as exc:  # too large to explain, say: the rest of the report stands
            notes.append(f"steps left out: {exc}")
        else:
            data["steps"] = derivation.to_dict()
            html, markdown = derivation.to_html(), derivation.to_markdown()
            before.append(Section(f"Steps of d/d{names[0]}", html, markdown, derivation.status))
    before.append(_stencils(schemes, len(names), data))
    after, more, figures = _v_curve(expr, at, names, schemes, data, plots=plots)
    return Workbench(tuple(before), after, data, tuple(notes + more), figures)


def _stencils(schemes: Sequence[str], count: int, data: dict[str, Any]) -> Section:
    """Each scheme's formula for d/dx and the leading term of its error."""
    formulas = []
    for scheme in schemes:
        if scheme == "complex":
            formulas.append((scheme, _COMPLEX))
            continue
        (stencil,) = [s for s in stencils_for(scheme, [1] + [0] * (count - 1)) if s is not None]
        formulas.append((scheme, stencil.formula()))
    data["stencils"] = dict(formulas)
    html = "".join(f"<p><b>{escape(s)}</b></p><pre>{escape(t)}</pre>" for s, t in formulas)
    markdown = "\n\n".join(f"**{s}**\n\n```text\n{t}\n```" for s, t in formulas)
    return Section("Stencils and their error terms", html, markdown)


def _v_curve(
    expr: Source,
    at: str | Mapping[str, Any],
    names: Sequence[str],
    schemes: Sequence[str],
    data: dict[str, Any],
    *,
    plots: bool,
) -> tuple[tuple[Section, ...], list[str], dict[str, str]]:
    """The float64 V curve of d/d(first variable), each scheme's optimal step, the figure."""
    first, real = names[0], [s for s in schemes if s == "complex" or _first_order(s, len(names))]
    try:
        best = optimal_step_sizes(expr, at, first, schemes=real, variables=list(names))
    except SymgradError as exc:  # e.g. f' not finite there: the V curve cannot be drawn
        return (), [f"V curve left out: {exc}"], {}
    data["optimal_step_sizes"] = best
    said = [
        f"{s}: h* ≈ {h:.1e}" if h is not None else f"{s}: no round-off minimum"
        for s, h in best.items()
    ]
    text = f"float64 optimal step for d/d{first}: " + "; ".join(said)
    figures, notes = {}, []
    if plots:
        try:
            curve = v_curve(expr, at, first, real, names)
        except SymgradError as exc:
            notes.append(f"V curve plot left out: {exc}")
        else:
            figures["v_curve"] = v_curve_chart(curve, expr, best)
            if "complex" in real and "complex" not in curve.float64:
                notes.append(
                    "V curve: the complex step is left out (f is not real-analytic: abs, sign, "
                    "min, max or atan2)"
                )
    figure = figures.get("v_curve", "")
    html = f"{figure_html(figure)}<p>{escape(text)}</p>"
    markdown = f"{figure_markdown(figure)}{text}"
    title = f"float64 V curve of d/d{first}: truncation against round-off"
    return (Section(title, html, markdown),), notes, figures


def _first_order(scheme: str, count: int) -> bool:
    """Whether ``scheme`` is a known first-derivative stencil (the V curve draws only those)."""
    try:
        found = stencils_for(scheme, [1] + [0] * (count - 1))
    except SymgradError:
        return False
    return any(s is not None and s.derivative == 1 for s in found)
