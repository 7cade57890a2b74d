"""Output: rendering results as text, Markdown, HTML and JSON; verification figures; the report.

Everything listed in ``__all__`` is public; the underscore modules are private.  Each public name
is loaded from its module on first use, so the report (inline SVG figures) never imports the
matplotlib figures or the grid verifiers that live beside it.
"""

from typing import TYPE_CHECKING

from symgrad._lazy_names import lazy_names

if TYPE_CHECKING:  # what mypy and IDEs see; at run time each name is loaded on first use
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

_MODULES = {
    "_plots": (
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
    ),
    "_render": ("Section", "escape", "html_page", "markdown_document", "status_badge"),
    "_report": ("Report", "report"),
    "_studies": ("StudyReport",),
}
if not TYPE_CHECKING:  # hidden from mypy, so a misspelt symgrad.output.name stays an error
    __getattr__, __dir__ = lazy_names(__name__, globals(), __all__, _MODULES)

del lazy_names
