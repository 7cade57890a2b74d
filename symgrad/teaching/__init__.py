"""Teaching: derivatives rule by rule, "check my answer", and teaching figures.

The rule engine explains each step (product, quotient, chain, implicit, ...), ends at the form a
textbook prints, and is checked against SymPy; the figures show the V curve, secant and tangent lines and gradient fields.

Everything listed in ``__all__`` is public; the underscore modules are private.  Each public name
is loaded from its module on first use (the figures need matplotlib; the rules do not).
"""

from typing import TYPE_CHECKING

from symgrad._lazy_names import lazy_names

if TYPE_CHECKING:  # what mypy and IDEs see; at run time each name is loaded on first use
    from symgrad.teaching._plots import (
        optimal_step_sizes,
        plot_gradient_field,
        plot_secant_tangent,
        plot_step_error,
    )
    from symgrad.teaching._rules import (
        MAX_STEPS,
        Engine,
        Step,
        close,
        derivative_of,
        derive,
        latex_text,
        markdown_escape,
        real_points,
        simple_points,
        unicode_text,
        value_at,
    )
    from symgrad.teaching._steps import (
        MAX_NODES,
        MAX_ORDER,
        AnswerCheck,
        ImplicitResult,
        StepsResult,
        check_answer,
        implicit_steps,
        steps,
        textbook_form,
    )

__all__ = [
    "MAX_NODES",
    "MAX_ORDER",
    "MAX_STEPS",
    "AnswerCheck",
    "Engine",
    "ImplicitResult",
    "Step",
    "StepsResult",
    "check_answer",
    "close",
    "derivative_of",
    "derive",
    "implicit_steps",
    "latex_text",
    "markdown_escape",
    "optimal_step_sizes",
    "plot_gradient_field",
    "plot_secant_tangent",
    "plot_step_error",
    "real_points",
    "simple_points",
    "steps",
    "textbook_form",
    "unicode_text",
    "value_at",
]

_MODULES = {
    "_plots": (
        "optimal_step_sizes",
        "plot_gradient_field",
        "plot_secant_tangent",
        "plot_step_error",
    ),
    "_rules": (
        "MAX_STEPS",
        "Engine",
        "Step",
        "close",
        "derivative_of",
        "derive",
        "latex_text",
        "markdown_escape",
        "real_points",
        "simple_points",
        "unicode_text",
        "value_at",
    ),
    "_steps": (
        "MAX_NODES",
        "MAX_ORDER",
        "AnswerCheck",
        "ImplicitResult",
        "StepsResult",
        "check_answer",
        "implicit_steps",
        "steps",
        "textbook_form",
    ),
}
if not TYPE_CHECKING:  # hidden from mypy, so a misspelt symgrad.teaching.name stays an error
    __getattr__, __dir__ = lazy_names(__name__, globals(), __all__, _MODULES)

del lazy_names
