"""Derivatives compiled: vectorized float64 functions and exact arbitrary-precision values.

:class:`Compiled` wraps SymPy expressions as a chunked NumPy evaluator with an exact ``.at()``;
the constructors (``gradient``, ``jacobian``, ``hessian``, ...) parse, differentiate and compile,
each call priced against ``Limits.max_work`` before each stage (``MAX_WORK`` by default).

Everything listed in ``__all__`` is public; the underscore modules are private.
"""

from symgrad.derive._codegen import CHUNK, Compiled, as_float_array
from symgrad.derive._cost import MAX_WORK, Limits
from symgrad.derive._derivatives import derivative, function, gradient, hessian, jacobian, laplacian

__all__ = [
    "CHUNK",
    "MAX_WORK",
    "Compiled",
    "Limits",
    "as_float_array",
    "derivative",
    "function",
    "gradient",
    "hessian",
    "jacobian",
    "laplacian",
]
