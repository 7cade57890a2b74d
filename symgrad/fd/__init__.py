"""Finite differences: exact stencils, the arbitrary-precision engine, and convergence studies.

Stencils are derived exactly (Fornberg); the engine evaluates them with guard digits and an
error estimate; sweeps run schemes over step sizes h and convergence judges the observed orders.

Everything listed in ``__all__`` is public; the underscore modules are private.
"""

from symgrad.fd._analysis import (
    MAX_ANALYSIS_ORDER,
    MAX_STENCIL_POINTS,
    StencilAnalysis,
    analyze_stencil,
)
from symgrad.fd._convergence import (
    DEFAULT_SCHEMES,
    DEFAULT_STEP_SIZES,
    TOLERANCES,
    ConvergenceResult,
    SchemeConvergence,
    convergence,
    fit_order,
    pairwise_orders,
)
from symgrad.fd._deprecated import renamed_keyword
from symgrad.fd._engine import FDResult
from symgrad.fd._finite_diff import (
    METHODS,
    finite_difference,
    finite_difference_gradient,
    is_real_analytic,
    order_of,
    stencils_for,
)
from symgrad.fd._stencils import MAX_DERIVATIVE, MAX_POINTS, Stencil, fornberg_weights

__all__ = [
    "DEFAULT_SCHEMES",
    "DEFAULT_STEP_SIZES",
    "MAX_ANALYSIS_ORDER",
    "MAX_DERIVATIVE",
    "MAX_POINTS",
    "MAX_STENCIL_POINTS",
    "METHODS",
    "TOLERANCES",
    "ConvergenceResult",
    "FDResult",
    "SchemeConvergence",
    "Stencil",
    "StencilAnalysis",
    "analyze_stencil",
    "convergence",
    "finite_difference",
    "finite_difference_gradient",
    "fit_order",
    "fornberg_weights",
    "is_real_analytic",
    "order_of",
    "pairwise_orders",
    "renamed_keyword",
    "stencils_for",
]
