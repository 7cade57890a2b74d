"""The whole workbench on one expression: derivatives, cross-check, convergence, plots.

``report(expr, at)`` differentiates symbolically, cross-checks every gradient component at the
point against an arbitrary-precision finite difference (and the float64 compiled function),
runs a convergence study of the standard schemes for every partial derivative, and assembles
the results into one document (HTML with inline plots, Markdown, text or JSON).

The figures (one convergence figure per variable, the V curve of the first) are inline SVG
drawn by symgrad itself (:mod:`symgrad.output._svg`): no matplotlib, no extra to install,
vector text and lines in the page, crisp at any zoom; the Markdown carries the same ``<svg>``
blocks.  matplotlib stays for the ``plot_*`` functions and the ``plot`` commands.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeGuard, overload

import sympy

from symgrad.checks import CheckResult, check
from symgrad.derive import gradient
from symgrad.errors import ConfigError, InputError
from symgrad.expr import Source, VariablesSpec, parse
from symgrad.fd import (
    DEFAULT_SCHEMES,
    DEFAULT_STEP_SIZES,
    ConvergenceResult,
    convergence,
    renamed_keyword,
)
from symgrad.output._charts import convergence_chart, figure_html, figure_markdown
from symgrad.output._render import Section, escape, html_page, markdown_document
from symgrad.output._workbench import Workbench, workbench_parts
from symgrad.results import Result, Status, combine

if TYPE_CHECKING:  # a study's report loads the grid verifiers only when one is given
    from symgrad.grids import GridResult, SolverResult
    from symgrad.output._studies import StudyReport

__all__ = ["Report", "report"]

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Report(Result):
    """Everything symgrad knows about one expression at one point.

    Attributes
    ----------
    expression : str
        The expression as differentiated (after SymPy's automatic simplification).
    variables : tuple of str
    gradient, gradient_latex : tuple of str
        The symbolic partial derivatives.
    check : CheckResult
        Exact vs arbitrary-precision finite difference vs float64, per component.
    convergence : tuple of ConvergenceResult
        One study per variable.
    figures : dict
        Figure name (``convergence_<variable>``, ``v_curve``) to its inline SVG text (empty
        with ``plots=False``).
    """

    expression: str
    expression_latex: str
    variables: tuple[str, ...]
    gradient: tuple[str, ...]
    gradient_latex: tuple[str, ...]
    check: CheckResult
    convergence: tuple[ConvergenceResult, ...]
    status: Status
    reason: str
    figures: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    workbench: Workbench = field(default_factory=Workbench)  # steps, stencils, V curve

    def to_dict(self) -> dict[str, Any]:
        """Plain data: the JSON of each part under its command's name."""
        return {
            "status": self.status.value,
            "reason": self.reason,
            "expression": self.expression,
            "variables": list(self.variables),
            "gradient": list(self.gradient),
            "check": self.check.to_dict(),
            "converge": [c.to_dict() for c in self.convergence],
            "notes": list(self.notes),
            **self.workbench.data,  # steps (one variable), stencils, optimal_step_sizes
        }

    def to_text(self) -> str:
        """A readable summary for the terminal."""
        lines = [f"symgrad report: {self.expression}", f"verdict: {self.status} - {self.reason}"]
        lines += ["", "gradient:"]
        lines += [f"  d/d{v} = {g}" for v, g in zip(self.variables, self.gradient, strict=True)]
        lines += ["", self.check.to_text()]
        for study in self.convergence:
            lines += ["", study.to_text()]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _sections(self) -> list[Section]:
        derivatives_md = "\n".join(
            f"- $\\partial f/\\partial {v} = {g}$"
            for v, g in zip(self.variables, self.gradient_latex, strict=True)
        )
        derivatives_html = (
            "<ul>"
            + "".join(
                f"<li><code>d/d{escape(v)} = {escape(g)}</code></li>"
                for v, g in zip(self.variables, self.gradient, strict=True)
            )
            + "</ul>"
        )
        sections = [
            Section("Symbolic gradient", derivatives_html, derivatives_md),
            *self.workbench.before,
            Section(
                "Cross-check at the point",
                self.check.to_html(),
                self.check.to_markdown(),
                self.check.status,
            ),
        ]
        for study, var in zip(self.convergence, self.variables, strict=True):
            figure = self.figures.get(f"convergence_{var}", "")
            sections.append(
                Section(
                    f"Convergence of d/d{var}",
                    figure_html(figure) + study.to_html(),
                    figure_markdown(figure) + study.to_markdown(),
                    study.status,
                )
            )
        sections += self.workbench.after
        if self.notes:
            notes = "".join(f"<li>{escape(n)}</li>" for n in self.notes)
            sections.append(
                Section("Notes", f"<ul>{notes}</ul>", "\n".join(f"- {n}" for n in self.notes))
            )
        return sections

    def to_markdown(self) -> str:
        """The report as a Markdown document, its figures inline SVG blocks."""
        subtitle = f"**{self.status}**: {self.reason}"
        return markdown_document(
            f"symgrad report: {self.expression}", self._sections(), subtitle=subtitle
        )

    def to_html(self) -> str:
        """The report as one self-contained HTML page with inline plots."""
        subtitle = f"{self.status}: {self.reason}"
        return html_page(f"symgrad report: {self.expression}", self._sections(), subtitle=subtitle)

    def _repr_html_(self) -> str:
        return self.to_html()


@overload
def report(
    expr: GridResult | SolverResult,
    at: None = None,
    *,
    plots: bool = True,
) -> StudyReport: ...


@overload
def report(
    expr: Source,
    at: str | Mapping[str | sympy.Symbol, object],
    *,
    dps: int = 50,
    schemes: Sequence[str] = DEFAULT_SCHEMES,
    step_sizes: str | Sequence[object] = DEFAULT_STEP_SIZES,
    variables: VariablesSpec = None,
    plots: bool = True,
    progress: Progress | None = None,
    steps: str | Sequence[object] | None = None,
) -> Report: ...


def report(
    expr: Source | GridResult | SolverResult,
    at: str | Mapping[str | sympy.Symbol, object] | None = None,
    *,
    dps: int = 50,
    schemes: Sequence[str] = DEFAULT_SCHEMES,
    step_sizes: str | Sequence[object] = DEFAULT_STEP_SIZES,
    variables: VariablesSpec = None,
    plots: bool = True,
    progress: Progress | None = None,
    steps: str | Sequence[object] | None = None,
) -> Report | StudyReport:
    """Run the workbench on ``expr`` at the point ``at``, or make the page of a grid study.

    Parameters
    ----------
    expr : str, sympy.Expr, GridResult, OperatorResult or SolverResult
        An expression; or the result of :func:`symgrad.verify_grid`,
        :func:`symgrad.verify_operator` or :func:`symgrad.verify_solver`, whose page (a
        :class:`~symgrad.output.StudyReport`: verdict, per-region tables of errors and observed
        orders per norm, diagnostics, GCI, figure) is returned; only ``plots`` applies then.
    at : str or mapping
        The point, e.g. ``"x=0.3, y=0.7"`` (exact decimals); required for an expression.
    dps : int
        Digits for the exact values and the finite-difference referee.
    schemes, step_sizes
        Passed to :func:`symgrad.convergence` for every variable (``step_sizes``: the steps h).
    plots : bool
        Embed the figures: the convergence of each partial derivative and the V curve, as
        inline SVG drawn by symgrad (no extra needed).
    progress : callable, optional
        ``progress(stage, done, total)`` during the convergence studies.
    steps : str or sequence, optional
        Deprecated alias of ``step_sizes`` (it warns with a ``DeprecationWarning``).

    Examples
    --------
    >>> r = report("x**2*sin(x)", "x=0.5", step_sizes="1e-1:1e-6:11", plots=False)
    >>> r.status.value, r.gradient
    ('pass', ('x**2*cos(x) + 2*x*sin(x)',))
    """
    if _is_study(expr):
        from symgrad.output._studies import study_report  # noqa: PLC0415 (see _is_study)

        if at is not None:
            msg = (
                "report() of a verify_grid, verify_operator or verify_solver result takes no point"
            )
            raise ConfigError(msg)
        return study_report(expr, plots=plots)
    if at is None:
        msg = "report() of an expression needs the point, e.g. report(expr, 'x=0.3, y=0.7')"
        raise InputError(msg)
    step_sizes = renamed_keyword("steps", steps, "step_sizes", step_sizes, DEFAULT_STEP_SIZES)
    g = gradient(expr, variables)
    names = tuple(v.name for v in g.variables)
    expression = parse(expr, names)
    checked = check(expr, at, dps=dps, variables=names)
    studies = []
    for name in names:

        def tick(done: int, total: int, name: str = name) -> None:
            if progress is not None:
                progress(f"convergence d/d{name}", done, total)

        studies.append(
            convergence(
                expr,
                at,
                name,
                schemes=schemes,
                step_sizes=step_sizes,
                dps=max(dps, 30),
                variables=names,
                progress=tick,
            )
        )
    studies = [_counted(s) for s in studies]
    figures = _figures(studies, names) if plots else {}
    parts = workbench_parts(expr, at, names, schemes, plots=plots)
    status = combine([checked.status, *(s.status for s in studies)])
    return Report(
        expression=str(expression),
        expression_latex=sympy.latex(expression),
        variables=names,
        gradient=tuple(g.to_strings()),
        gradient_latex=tuple(g.to_latex()),
        check=checked,
        convergence=tuple(studies),
        status=status,
        reason=_reason(status, checked, studies, names),
        figures={**figures, **parts.figures},
        notes=parts.notes,
        workbench=parts,
    )


def _figures(studies: Sequence[ConvergenceResult], names: Sequence[str]) -> dict[str, str]:
    """Each convergence study as an inline SVG figure (symgrad draws them: no extra needed)."""
    return {
        f"convergence_{name}": convergence_chart(study.to_dict(), f"convergence-{k}")
        for k, (study, name) in enumerate(zip(studies, names, strict=True))
    }


def scheme_count(study: ConvergenceResult) -> str:
    """'4 of 4 schemes pass (3 exact)': ``exact`` counts as passing, as in every verdict.

    Examples
    --------
    >>> from symgrad.fd import convergence
    >>> scheme_count(convergence("x**2", "x=0.5"))
    '4 of 4 schemes pass (3 exact)'
    """
    total = len(study.schemes)
    passing = sum(s.status.ok for s in study.schemes)
    exact = sum(s.status is Status.EXACT for s in study.schemes)
    return f"{passing} of {total} schemes pass" + (f" ({exact} exact)" if exact else "")


def _counted(study: ConvergenceResult) -> ConvergenceResult:
    """The study with its summary counting ``exact`` as passing (its own reason counts only
    the schemes whose status is the combined one, so "1 of 4 schemes pass" beside 3 exact)."""
    count = scheme_count(study)
    return replace(study, reason=count if study.status.ok else f"{count}; {study.reason}")


def _reason(
    status: Status, checked: CheckResult, studies: Sequence[ConvergenceResult], names: Sequence[str]
) -> str:
    """One sentence: what passed, or the first thing that did not."""
    if status.ok:
        counts = [scheme_count(s) for s in studies]
        if len(names) > 1:
            counts = [f"d/d{n}: {c}" for n, c in zip(names, counts, strict=True)]
        return (
            f"the symbolic gradient agrees with the {checked.dps}-digit finite-difference referee "
            f"and every scheme converges at its expected order in {', '.join(names)} "
            f"({'; '.join(counts)})"
        )
    if not checked.status.ok:
        return f"cross-check: {checked.reason}"
    for study, name in zip(studies, names, strict=True):
        if not study.status.ok:
            return f"convergence of d/d{name}: {study.reason}"
    return "see the sections below"


def _is_study(expr: object) -> TypeGuard[GridResult | SolverResult]:
    """Whether ``expr`` is a verify_grid, verify_operator or verify_solver result.

    An expression (text or SymPy) is never one; anything else is tested against the result
    classes, whose package is imported then (a report of an expression does not load it).
    """
    if isinstance(expr, str | sympy.Basic):
        return False
    from symgrad.grids import GridResult, SolverResult  # noqa: PLC0415

    return isinstance(expr, GridResult | SolverResult)
