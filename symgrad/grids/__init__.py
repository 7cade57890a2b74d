"""Grid verification: a scheme's errors and observed orders on refined grids, and the GCI.

``verify_grid`` with its diagnostics, ``verify_operator`` for any derivative operator
(partials, Laplacian, divergence, curl), image-filter schemes (Sobel, Scharr), manufactured
sources, and the Grid Convergence Index of Celik et al. (2008).

Everything listed in ``__all__`` is public; the underscore modules are private.
"""

from symgrad.grids._diagnostics import (
    JUDGED_NORM,
    NORMS,
    TOLERANCES,
    FitStats,
    GridComponent,
    GridRegion,
    GridResult,
    degenerate_diagnostics,
    factor_diagnostics,
    fit_stats,
    fitted_order,
    judge_component,
    norms,
    overall_reason,
    pairwise_orders,
    region_verdict,
    regions,
    rounding_floor,
    swap_diagnostics,
)
from symgrad.grids._filters import KernelScheme, scharr_scheme, sobel_scheme
from symgrad.grids._gci import GCIResult, gci
from symgrad.grids._mms import MAX_SOURCE_ORDER, manufactured_source
from symgrad.grids._operators import OPERATORS, OperatorResult, operator_regions, verify_operator
from symgrad.grids._solver import SolverProblem, SolverResult, verify_solver
from symgrad.grids._verify import DEFAULT_SIZES, verify_grid

__all__ = [
    "DEFAULT_SIZES",
    "JUDGED_NORM",
    "MAX_SOURCE_ORDER",
    "NORMS",
    "OPERATORS",
    "TOLERANCES",
    "FitStats",
    "GCIResult",
    "GridComponent",
    "GridRegion",
    "GridResult",
    "KernelScheme",
    "OperatorResult",
    "SolverProblem",
    "SolverResult",
    "degenerate_diagnostics",
    "factor_diagnostics",
    "fit_stats",
    "fitted_order",
    "gci",
    "judge_component",
    "manufactured_source",
    "norms",
    "operator_regions",
    "overall_reason",
    "pairwise_orders",
    "region_verdict",
    "regions",
    "rounding_floor",
    "scharr_scheme",
    "sobel_scheme",
    "swap_diagnostics",
    "verify_grid",
    "verify_operator",
    "verify_solver",
]
