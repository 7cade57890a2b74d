"""The one place where generated code is executed: SymPy expressions printed and lambdified.

``lambdify`` only ever sees SymPy objects built by :mod:`symgrad.expr._parse`, whose symbol names
are validated identifiers, and the modules it may call are always given explicitly.  Variables
whose names the generated code uses for functions or constants get private argument names.
"""

from __future__ import annotations

import builtins
import keyword
from collections.abc import Sequence
from typing import Any

import mpmath
import numpy as np
import sympy

from symgrad.errors import LimitExceeded, UnsupportedError

__all__ = ["lambdify_exprs", "short"]


def _printed_names() -> frozenset[str]:
    """Names the generated code may use for functions and constants (``e`` is Euler's number).

    A variable with one of these names would shadow it inside the generated function (``e*E``
    would compute ``e*e``), so such variables get a private argument name.
    """
    names = set(dir(np)) | set(dir(mpmath)) | set(dir(builtins)) | set(keyword.kwlist)
    return frozenset(names | {"numpy", "mpmath", "math", "scipy"})


_PRINTED_NAMES = _printed_names()


def lambdify_exprs(variables: Sequence[sympy.Symbol], exprs: list[sympy.Expr], target: Any) -> Any:
    """The single lambdify call site (see module docstring), with errors made ours."""
    # the parser never makes names with a leading underscore, so these cannot collide
    private = {
        v: sympy.Symbol("_" + v.name, real=True) for v in variables if v.name in _PRINTED_NAMES
    }
    if private:
        variables = [private.get(v, v) for v in variables]
        exprs = [e.xreplace(private) for e in exprs]
    if target == "numpy":
        modules: list[Any] = [{}, "numpy"]
    else:
        namespace = {n: getattr(target, n) for n in dir(target) if not n.startswith("_")}
        modules = [namespace, "mpmath"]
    try:
        return sympy.lambdify(variables, exprs, modules=modules, cse=True, docstring_limit=0)
    except (RecursionError, MemoryError) as exc:
        msg = "the expression is too large or deep to compile; simplify it"
        raise LimitExceeded(msg, limit="expression_too_large") from exc
    except (SyntaxError, NameError, TypeError, NotImplementedError) as exc:
        msg = f"cannot compile {short(str(exprs))}: {exc}"
        raise UnsupportedError(msg) from exc


def short(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters for messages."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
