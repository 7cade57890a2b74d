"""Manufactured source terms: the right-hand side that makes a chosen solution exact.

For code verification by the method of manufactured solutions: given an operator written with
the derivative notation ``D(u, t)``, ``D(u, x, 2)``, ``D(u, x, y)`` and a manufactured solution
``u``, :func:`manufactured_source` returns the source term symbolically and compiled.  The
operator text is never evaluated: ``D(...)`` calls and ``u`` are replaced by placeholder names,
the result goes through the safe parser, and the placeholders are substituted symbolically.

Every derivative is taken by :func:`symgrad.derive.derivative`, which prices each order of
differentiation (and the compilation) against ``Limits.max_work`` before it starts: a
solution too costly to differentiate is a ``LimitExceeded(limit="work")`` before SymPy works.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import sympy

from symgrad.derive import Compiled, Limits, derivative
from symgrad.errors import ConfigError
from symgrad.expr import (
    MAX_NOTATION_ORDER,
    VariablesSpec,
    derivative_notation,
    free_variables,
    parse,
    parse_variables,
)

__all__ = ["MAX_SOURCE_ORDER", "manufactured_source"]

#: The highest total order of one ``D(u, ...)`` (the notation's, :mod:`symgrad.expr`).
MAX_SOURCE_ORDER = MAX_NOTATION_ORDER


def manufactured_source(
    operator: str, solution: str, variables: VariablesSpec = None, *, limits: Limits | None = None
) -> Compiled:
    """The source term ``Q = L(u)`` of a manufactured solution ``u``, compiled.

    ``operator`` is an expression in which ``u`` stands for the solution and ``D(u, t)``,
    ``D(u, x, 2)``, ``D(u, x, y)`` (``D(u, x, 2, y)``, ...) for its partial derivatives.  The
    text is never evaluated: the ``D(...)`` calls and ``u`` are replaced by placeholder names,
    the result goes through the safe parser, and the placeholders are then substituted by the
    symbolic derivatives of the parsed solution.

    Parameters
    ----------
    operator, solution : str
        E.g. ``"D(u, t) - nu*(D(u, x, 2) + D(u, y, 2))"`` and ``"exp(-t)*sin(pi*x)*sin(pi*y)"``.
    variables : str or sequence, optional
        Argument order of the result; by default every name of both texts, sorted (parameters
        such as ``nu`` included).
    limits : Limits, optional
        Caps on the work of each derivative of ``u`` (``symgrad.Limits()`` by default); every
        order is priced before SymPy takes it.

    Raises
    ------
    ParseError, ConfigError, InputError
        A bad operator or solution text, or a derivative along a name not in ``variables``.
    LimitExceeded
        A ``D(u, ...)`` of order over ``MAX_SOURCE_ORDER``, or a derivative whose estimated work
        exceeds ``limits.max_work`` (``limit="work"``), refused before it is taken.

    Examples
    --------
    >>> q = manufactured_source("-D(u, x, 2)", "sin(pi*x)")
    >>> q.to_strings()
    'pi**2*sin(pi*x)'
    """
    rewritten, placeholders = derivative_notation(operator, solution)
    names = None if variables is None else parse_variables(variables)
    sol = parse(solution, names)
    expr = parse(rewritten, None if names is None else (*names, *map(_sym, placeholders)))
    table = {
        s: _substitute(placeholders[s.name], sol, names, limits)
        for s in expr.free_symbols
        if s.name in placeholders
    }
    source = expr.xreplace(table)
    if names is None:
        found = set(sol.free_symbols) | {s for s in expr.free_symbols if s.name not in placeholders}
        found |= {s for wrt in placeholders.values() for s in wrt}
        names = free_variables(sympy.Tuple(*found)) if found else ()
    return Compiled(source, names, kind="source")


def _sym(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, real=True)


def _substitute(
    wrt: tuple[sympy.Symbol, ...],
    solution: sympy.Expr,
    names: Sequence[sympy.Symbol] | None,
    limits: Limits | None,
) -> sympy.Expr:
    """The solution (no ``wrt``) or its derivative along ``wrt``."""
    missing = [s.name for s in wrt if names is not None and s not in names]
    if missing:
        msg = f"variables: D(u, ...) differentiates along {missing}, not among {list(names or ())}"
        raise ConfigError(msg)
    if not wrt:
        return solution
    symbols = names if names is not None else (*solution.free_symbols, *wrt)
    return priced_partial(solution, wrt, symbols, limits)


def priced_partial(
    expr: sympy.Expr,
    wrt: Sequence[sympy.Symbol],
    symbols: Sequence[sympy.Symbol],
    limits: Limits | None,
) -> sympy.Expr:
    """``∂^wrt expr`` by :func:`symgrad.derive.derivative`: priced before each order is taken.

    ``symbols`` must hold every free symbol of ``expr`` and of ``wrt`` (repeats are dropped);
    the result is the expression SymPy gives for the same derivative taken one variable at a
    time, so the priced path changes no number.
    """
    variables = sorted(dict.fromkeys(symbols), key=lambda s: s.name)
    return cast(sympy.Expr, derivative(expr, *wrt, variables=variables, limits=limits).exprs)
