"""symgrad: symbolic derivatives, compiled to fast NumPy, cross-checked at arbitrary precision.

>>> import symgrad
>>> g = symgrad.gradient("2*x**2 + 3*y**2 - 4*z")
>>> g.to_strings()
['4*x', '6*y', '-4']

The functions ``check``, ``convergence``, ``gci``, ``parse``, ``report`` and ``steps`` share their
names with the modules that define them; ``symgrad.check`` is the function.  Reach a module's
other names with ``from symgrad.parse import MAX_LEN`` (or ``importlib.import_module``).
"""

from symgrad.check import CheckResult, check
from symgrad.check_gradient import GradientCheckResult, check_gradient
from symgrad.codegen import Compiled
from symgrad.convergence import ConvergenceResult, convergence
from symgrad.derivatives import derivative, function, gradient, hessian, jacobian, laplacian
from symgrad.errors import (
    CheckFailed,
    ConfigError,
    InputError,
    LimitExceeded,
    MissingExtra,
    ParseError,
    SymgradError,
    UnsupportedError,
)
from symgrad.filters import scharr_scheme, sobel_scheme
from symgrad.finite_diff import FDResult, finite_difference, finite_difference_gradient
from symgrad.gci import GCIResult, gci
from symgrad.grids import GridResult, verify_grid
from symgrad.mms import manufactured_source
from symgrad.parse import parse
from symgrad.report import Report, report
from symgrad.results import Status
from symgrad.stencils import Stencil
from symgrad.steps import AnswerCheck, StepsResult, check_answer, steps
from symgrad.taylor import TaylorResult, taylor_test

__version__ = "0.1.0"

__all__ = [
    "AnswerCheck",
    "CheckFailed",
    "CheckResult",
    "Compiled",
    "ConfigError",
    "ConvergenceResult",
    "FDResult",
    "GCIResult",
    "GradientCheckResult",
    "GridResult",
    "InputError",
    "LimitExceeded",
    "MissingExtra",
    "ParseError",
    "Report",
    "Status",
    "Stencil",
    "StepsResult",
    "SymgradError",
    "TaylorResult",
    "UnsupportedError",
    "check",
    "check_answer",
    "check_gradient",
    "convergence",
    "derivative",
    "finite_difference",
    "finite_difference_gradient",
    "function",
    "gci",
    "gradient",
    "hessian",
    "jacobian",
    "laplacian",
    "manufactured_source",
    "parse",
    "report",
    "scharr_scheme",
    "sobel_scheme",
    "steps",
    "taylor_test",
    "verify_grid",
]
