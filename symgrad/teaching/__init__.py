"""Teaching: derivatives rule by rule, "check my answer", and teaching figures.

The rule engine explains each step (product, quotient, chain, ...) and is checked against
SymPy; the figures show the V curve, secant and tangent lines and gradient fields.

Everything listed in ``__all__`` is public; the underscore modules are private.
"""

from symgrad.teaching._plots import (
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
    markdown_escape,
    real_points,
    value_at,
)
from symgrad.teaching._steps import (
    MAX_NODES,
    MAX_ORDER,
    AnswerCheck,
    StepsResult,
    check_answer,
    steps,
)

__all__ = [
    "MAX_NODES",
    "MAX_ORDER",
    "MAX_STEPS",
    "AnswerCheck",
    "Engine",
    "Step",
    "StepsResult",
    "check_answer",
    "close",
    "derivative_of",
    "derive",
    "markdown_escape",
    "plot_gradient_field",
    "plot_secant_tangent",
    "plot_step_error",
    "real_points",
    "steps",
    "value_at",
]
