"""symgrad: symbolic derivatives, compiled to fast NumPy, cross-checked at arbitrary precision.

>>> import symgrad
>>> g = symgrad.gradient("2*x**2 + 3*y**2 - 4*z")
>>> g.to_strings()
['4*x', '6*y', '-4']
"""

from symgrad.codegen import Compiled
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
from symgrad.finite_diff import FDResult, finite_difference, finite_difference_gradient
from symgrad.gci import GCIResult, gci
from symgrad.parse import parse
from symgrad.results import Status
from symgrad.stencils import Stencil

__version__ = "0.1.0"

__all__ = [
    "CheckFailed",
    "Compiled",
    "ConfigError",
    "FDResult",
    "GCIResult",
    "InputError",
    "LimitExceeded",
    "MissingExtra",
    "ParseError",
    "Status",
    "Stencil",
    "SymgradError",
    "UnsupportedError",
    "derivative",
    "finite_difference",
    "finite_difference_gradient",
    "function",
    "gci",
    "gradient",
    "hessian",
    "jacobian",
    "laplacian",
    "parse",
]
