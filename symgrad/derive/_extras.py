"""What compiling an expression to NumPy will need, decided when the function is made.

A :class:`~symgrad.derive.Compiled` generates its NumPy code on the first call, but a missing
optional extra is reported when the function is made (:func:`check_extras`): the special
functions (erf, erfc, gamma, loggamma, beta, besselj, bessely, and the polygamma of their
derivatives) compile through ``scipy.special``, the ``special`` extra.  :func:`scipy_modules`
is the namespace the NumPy code is then generated with (see :mod:`symgrad.derive._printing`).

This module imports neither NumPy nor SciPy (both only when the NumPy code of a special function
is generated), so making and printing a function, as ``symgrad grad "erf(x)"`` does, loads
neither.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import Any

import sympy

from symgrad.errors import MissingExtra, UnsupportedError

__all__ = ["check_extras", "scipy_modules", "short"]

#: The SymPy functions compiled to NumPy through ``scipy.special``.
_SPECIAL = (
    sympy.erf,
    sympy.erfc,
    sympy.gamma,
    sympy.loggamma,
    sympy.beta,
    sympy.besselj,
    sympy.bessely,
    sympy.polygamma,
)

# SciPy functions whose complex values are wrong or missing at the complex step's tiny
# imaginary parts: jv(1, 1.5 + 1e-200j).imag is 6e-33 instead of 1.4e-201, beta and polygamma
# take no complex input.  (erf, erfc, gamma and loggamma are accurate there.)
_COMPLEX_UNRELIABLE = ("jv", "yv", "beta", "polygamma", "psi")


def check_extras(exprs: list[Any]) -> None:
    """Raise MissingExtra now if compiling ``exprs`` will need an extra that is not installed.

    The code is generated on first use; a missing extra is reported when the function is made.
    SciPy is looked up, not imported (importing it costs more than making most functions).
    """
    if _special(exprs) and importlib.util.find_spec("scipy") is None:
        raise MissingExtra(_NEEDS_SCIPY)


def scipy_modules(exprs: list[Any]) -> list[Any]:
    """``scipy.special``'s namespace when ``exprs`` use a special function, else nothing."""
    if not _special(exprs):
        return []
    try:
        special = importlib.import_module("scipy.special")
    except ImportError as exc:
        raise MissingExtra(_NEEDS_SCIPY) from exc
    real = {name: _real_only(name, getattr(special, name)) for name in _COMPLEX_UNRELIABLE}
    return [real | {"gammaln": special.loggamma}, "scipy"]  # see _printing's module docstring


_NEEDS_SCIPY = (
    "compiling erf, gamma, beta, besselj, ... to NumPy needs SciPy: pip install 'symgrad[special]'"
)


def _special(exprs: list[Any]) -> bool:
    """Whether any of ``exprs`` uses a function that compiles through ``scipy.special``."""
    return any(isinstance(e, sympy.Basic) and e.has(*_SPECIAL) for e in exprs)


def _real_only(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn``, refusing complex arguments (see ``_COMPLEX_UNRELIABLE``)."""
    import numpy as np  # noqa: PLC0415 - only reached once SciPy (and so NumPy) is loaded

    def call(*args: Any) -> Any:
        if any(np.iscomplexobj(a) for a in args):
            msg = (
                f"scipy.special.{name} has no accurate complex values, so the float64 complex "
                "step cannot be used here; use a real stencil or the mp precision"
            )
            raise UnsupportedError(msg)
        return fn(*args)

    return call


def short(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters for messages."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
