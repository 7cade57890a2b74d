"""Derivatives compiled: vectorized float64 functions and exact arbitrary-precision values.

:class:`Compiled` wraps SymPy expressions as a chunked NumPy evaluator with an exact ``.at()``;
the constructors (``gradient``, ``jacobian``, ``hessian``, ...) parse, differentiate and compile,
each call priced against ``Limits.max_work`` before each stage (``MAX_WORK`` by default);
repeated calls with the same text return the same compiled object from a bounded cache
(``clear_cache``, ``cache_info``); ``for_scipy`` puts them in the shapes ``scipy.optimize``
expects, and ``vector`` makes the variables ``x[0]``, ..., ``x[n-1]`` of a vector.

Everything listed in ``__all__`` is public; the underscore modules are private.

Importing this package is cheap: each public name is loaded from its module on first use (PEP
562 ``__getattr__``), and the modules import NumPy, the code printers (``lambdify``) and ball
arithmetic (mpmath intervals, python-flint) only where code is generated or evaluated.  So
making a gradient and printing its expressions, as ``symgrad grad`` does, loads SymPy but not
NumPy.
"""

from typing import TYPE_CHECKING

from symgrad._lazy_names import lazy_names

if TYPE_CHECKING:  # what mypy and IDEs see; at run time each name is loaded on first use
    from symgrad.derive._balls import ArbBalls, arb_available
    from symgrad.derive._cache import CACHE_SIZE, CacheInfo
    from symgrad.derive._codegen import Compiled, as_float_array
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
    from symgrad.derive._fused import CHUNK
    from symgrad.derive._scipy import ScipyProblem, for_scipy

#: Where each public name lives: ``symgrad.derive.gradient`` is ``_derivatives.gradient``.
_MODULES: dict[str, tuple[str, ...]] = {
    "_balls": ("ArbBalls", "arb_available"),
    "_cache": ("CACHE_SIZE", "CacheInfo"),
    "_codegen": ("Compiled", "as_float_array"),
    "_cost": ("MAX_WORK", "Limits"),
    "_derivatives": (
        "cache_info",
        "clear_cache",
        "derivative",
        "function",
        "gradient",
        "hessian",
        "jacobian",
        "laplacian",
        "vector",
    ),
    "_exact": ("ENGINES", "Program", "compile_program"),
    "_fused": ("CHUNK",),
    "_scipy": ("ScipyProblem", "for_scipy"),
}


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

if not TYPE_CHECKING:  # hidden from mypy, so a misspelt symgrad.derive.name stays an error
    __getattr__, __dir__ = lazy_names(__name__, globals(), __all__, _MODULES)

del lazy_names
