"""Teaching: derivatives rule by rule, "check my answer", and teaching figures.

The rule engine explains each step (product, quotient, chain, implicit, ...), ends at the form a
textbook prints, and is checked against SymPy; the figures show the V curve, secant and tangent lines and gradient fields.

Everything listed in ``__all__`` is public; the underscore modules are private.
"""

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
