"""Derivatives compiled: vectorized float64 functions and exact arbitrary-precision values.

:class:`Compiled` wraps SymPy expressions as a chunked NumPy evaluator with an exact ``.at()``;
the constructors (``gradient``, ``jacobian``, ``hessian``, ...) parse, differentiate and compile,
each call priced against ``Limits.max_work`` before each stage (``MAX_WORK`` by default);
repeated calls with the same text return the same compiled object from a bounded cache
(``clear_cache``, ``cache_info``); ``for_scipy`` puts them in the shapes ``scipy.optimize``
expects, and ``vector`` makes the variables ``x[0]``, ..., ``x[n-1]`` of a vector.

Everything listed in ``__all__`` is public; the underscore modules are private.
"""

from symgrad.derive._balls import ArbBalls, arb_available
from symgrad.derive._cache import CACHE_SIZE, CacheInfo
from symgrad.derive._codegen import CHUNK, Compiled, as_float_array
from symgrad.derive._cost import MAX_WORK, Limits
from symgrad.derive._derivatives import (
    cache_info,
    clear_cache,
    derivative,
    function,
    gradient,
    hessian,
    jacobian,
    laplacian,
    vector,
)
from symgrad.derive._exact import ENGINES, Program, compile_program
from symgrad.derive._scipy import ScipyProblem, for_scipy

__all__ = [
    "CACHE_SIZE",
    "CHUNK",
    "ENGINES",
    "MAX_WORK",
    "ArbBalls",
    "CacheInfo",
    "Compiled",
    "Limits",
    "Program",
    "ScipyProblem",
    "arb_available",
    "as_float_array",
    "cache_info",
    "clear_cache",
    "compile_program",
    "derivative",
    "for_scipy",
    "function",
    "gradient",
    "hessian",
    "jacobian",
    "laplacian",
    "vector",
]
