"""symgrad: symbolic derivatives, compiled to fast NumPy, cross-checked at arbitrary precision.

>>> import symgrad
>>> g = symgrad.gradient("2*x**2 + 3*y**2 - 4*z")
>>> g.to_strings()
['4*x', '6*y', '-4']

Everything public is here.  The subpackages follow the pipeline and each lists its public names
in ``__all__``: ``symgrad.expr`` (parser, symbolic derivatives), ``symgrad.derive`` (compiled
functions), ``symgrad.fd`` (stencils, finite differences, convergence), ``symgrad.checks``,
``symgrad.grids``, ``symgrad.teaching`` and ``symgrad.output``; for example
``from symgrad.expr import MAX_LEN``.  See docs/explanation/architecture.md.

Importing ``symgrad`` is cheap: every public name is loaded from its subpackage on first use
(PEP 562 ``__getattr__``), so ``symgrad --help`` and ``import symgrad`` import neither SymPy
nor NumPy until a function that needs them is touched.
"""

from symgrad._lazy_names import lazy_names

# Not typing.TYPE_CHECKING: importing typing would cost the command line's start-up (and its
# Ctrl-C handling, which begins only after this package is imported) more than the rest of it.
TYPE_CHECKING = False
if TYPE_CHECKING:  # what mypy and IDEs see; at run time each name is loaded on first use
    from symgrad._limits import run_limited
    from symgrad.checks import (
        CheckResult,
        GradientCheckResult,
        TaylorResult,
        check,
        check_gradient,
        taylor_test,
    )
    from symgrad.derive import (
        Compiled,
        Limits,
        cache_info,
        clear_cache,
        derivative,
        for_scipy,
        function,
        gradient,
        hessian,
        jacobian,
        laplacian,
        vector,
    )
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
    from symgrad.expr import parse
    from symgrad.fd import (
        ConvergenceResult,
        FDResult,
        Stencil,
        StencilAnalysis,
        analyze_stencil,
        convergence,
        finite_difference,
        finite_difference_gradient,
    )
    from symgrad.grids import (
        GCIResult,
        GridResult,
        OperatorResult,
        SolverProblem,
        SolverResult,
        gci,
        manufactured_source,
        scharr_scheme,
        sobel_scheme,
        verify_grid,
        verify_operator,
        verify_solver,
    )
    from symgrad.output import Report, StudyReport, report
    from symgrad.results import Status
    from symgrad.teaching import AnswerCheck, StepsResult, check_answer, implicit_steps, steps

__version__ = "0.1.0"

#: Where each public name lives: ``symgrad.gradient`` is ``symgrad.derive.gradient``.
_SUBMODULES: dict[str, tuple[str, ...]] = {
    "symgrad._limits": ("run_limited",),
    "symgrad.checks": (
        "CheckResult",
        "GradientCheckResult",
        "TaylorResult",
        "check",
        "check_gradient",
        "taylor_test",
    ),
    "symgrad.derive": (
        "Compiled",
        "Limits",
        "cache_info",
        "clear_cache",
        "derivative",
        "for_scipy",
        "function",
        "gradient",
        "hessian",
        "jacobian",
        "laplacian",
        "vector",
    ),
    "symgrad.errors": (
        "CheckFailed",
        "ConfigError",
        "InputError",
        "LimitExceeded",
        "MissingExtra",
        "ParseError",
        "SymgradError",
        "UnsupportedError",
    ),
    "symgrad.expr": ("parse",),
    "symgrad.fd": (
        "ConvergenceResult",
        "FDResult",
        "Stencil",
        "StencilAnalysis",
        "analyze_stencil",
        "convergence",
        "finite_difference",
        "finite_difference_gradient",
    ),
    "symgrad.grids": (
        "GCIResult",
        "GridResult",
        "OperatorResult",
        "SolverProblem",
        "SolverResult",
        "gci",
        "manufactured_source",
        "scharr_scheme",
        "sobel_scheme",
        "verify_grid",
        "verify_operator",
        "verify_solver",
    ),
    "symgrad.output": (
        "Report",
        "StudyReport",
        "report",
    ),
    "symgrad.results": ("Status",),
    "symgrad.teaching": (
        "AnswerCheck",
        "StepsResult",
        "check_answer",
        "implicit_steps",
        "steps",
    ),
}


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
    "Limits",
    "MissingExtra",
    "OperatorResult",
    "ParseError",
    "Report",
    "SolverProblem",
    "SolverResult",
    "Status",
    "Stencil",
    "StencilAnalysis",
    "StepsResult",
    "StudyReport",
    "SymgradError",
    "TaylorResult",
    "UnsupportedError",
    "analyze_stencil",
    "cache_info",
    "check",
    "check_answer",
    "check_gradient",
    "clear_cache",
    "convergence",
    "derivative",
    "finite_difference",
    "finite_difference_gradient",
    "for_scipy",
    "function",
    "gci",
    "gradient",
    "hessian",
    "implicit_steps",
    "jacobian",
    "laplacian",
    "manufactured_source",
    "parse",
    "report",
    "run_limited",
    "scharr_scheme",
    "sobel_scheme",
    "steps",
    "taylor_test",
    "vector",
    "verify_grid",
    "verify_operator",
    "verify_solver",
]

if not TYPE_CHECKING:  # hidden from mypy, so a misspelt symgrad.name stays an error
    __getattr__, __dir__ = lazy_names(__name__, globals(), __all__, _SUBMODULES)

del lazy_names

del TYPE_CHECKING
