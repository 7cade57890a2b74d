"""Output: rendering results as text, Markdown, HTML and JSON; verification figures; the report.

Everything listed in ``__all__`` is public; the underscore modules are private.
"""

from symgrad.output._plots import (
    HasToDict,
    figure_to_png_base64,
    parse_domain,
    plot_convergence,
    plot_gradient_field,
    plot_grid_convergence,
    plot_secant_tangent,
    plot_solver_convergence,
    plot_step_error,
    save_figure,
    style_figure,
)
from symgrad.output._render import Section, escape, html_page, markdown_document, status_badge
from symgrad.output._report import Report, report
from symgrad.output._studies import StudyReport

__all__ = [
    "HasToDict",
    "Report",
    "Section",
    "StudyReport",
    "escape",
    "figure_to_png_base64",
    "html_page",
    "markdown_document",
    "parse_domain",
    "plot_convergence",
    "plot_gradient_field",
    "plot_grid_convergence",
    "plot_secant_tangent",
    "plot_solver_convergence",
    "plot_step_error",
    "report",
    "save_figure",
    "status_badge",
    "style_figure",
]
