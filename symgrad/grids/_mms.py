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

import re
from collections.abc import Sequence
from typing import cast

import sympy

from symgrad.derive import Compiled, Limits, derivative
from symgrad.errors import ConfigError, InputError, LimitExceeded, ParseError
from symgrad.expr import (
    VariablesSpec,
    free_variables,
    parse,
    parse_variables,
    validate_name,
)

__all__ = ["MAX_SOURCE_ORDER", "manufactured_source"]

MAX_SOURCE_ORDER = 12
_D_CALL = re.compile(r"\bD\s*\(\s*u\s*,([^()]*)\)")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


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
    rewritten, placeholders = _placeholders(operator, solution)
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


def _placeholders(
    operator: object, solution: object
) -> tuple[str, dict[str, tuple[sympy.Symbol, ...]]]:
    """Replace ``D(u, ...)`` calls and bare ``u`` by fresh names that occur in neither text."""
    if not isinstance(operator, str) or not isinstance(solution, str):
        msg = f"operator, solution: must be strings (got {type(operator).__name__}, {type(solution).__name__})"
        raise InputError(msg)
    words = set(_WORD.findall(operator + " " + solution))
    base = "Dterm"
    while any(w.startswith(base) for w in words):
        base += "x"
    table: dict[str, tuple[sympy.Symbol, ...]] = {}

    def replace(match: re.Match[str]) -> str:
        name = f"{base}{len(table)}"
        table[name] = _derivative_spec(match[1], operator, match.start() + 1)
        return name

    text = _D_CALL.sub(replace, operator)
    left = re.search(r"\bD\s*\(|\bu\s*\(", text)
    if left:
        msg = "write derivatives as D(u, x), D(u, x, 2) or D(u, x, y), and u alone for the solution"
        raise ParseError(
            msg, reason="bad_derivative", text=operator, column=operator.find(left[0]) + 1
        )
    table[f"{base}u"] = ()
    return re.sub(r"\bu\b", f"{base}u", text), table


def _derivative_spec(args: str, text: str, column: int) -> tuple[sympy.Symbol, ...]:
    """``" x, 2, y"`` -> (x, x, y): names validated, counts 1..12, total order at most 12."""
    wrt: list[sympy.Symbol] = []
    for item in (a.strip() for a in args.split(",")):
        if item.isdigit() and wrt and 1 <= int(item) <= MAX_SOURCE_ORDER:
            wrt.extend([wrt[-1]] * (int(item) - 1))
        elif item.isdigit() or not item:
            msg = f"D(u, ...) takes variables, each optionally followed by a count 1..{MAX_SOURCE_ORDER}"
            raise ParseError(msg, reason="bad_derivative", text=text, column=column)
        else:
            wrt.append(_sym(validate_name(item)))
    if len(wrt) > MAX_SOURCE_ORDER:
        msg = f"D(u, ...) of order {len(wrt)}; at most {MAX_SOURCE_ORDER} is allowed"
        raise LimitExceeded(msg, limit="derivative_order", value=len(wrt), allowed=MAX_SOURCE_ORDER)
    return tuple(wrt)
