"""Symbolic derivatives: gradient, Jacobian, Hessian, any mixed partial, Laplacian.

Everything here works on SymPy objects that came through :mod:`symgrad.expr._parse`, so every symbol
is real and validated.  Two caps keep a job bounded: the derivative order (``MAX_ORDER``; high
orders are legitimate, e.g. the f^(m+p) of a stencil's error term, so the cap is generous) and the
size of every derivative produced (``MAX_DERIVATIVE_NODES``), counted iteratively with an early
exit so that counting itself never blows up.

Derivatives of the non-smooth functions (abs, sign, min, max) are taken piecewise: SymPy's
distributional terms (``DiracDelta``), which vanish everywhere except at the kink, are dropped.
The checks report the kink itself as a ``nonsmooth`` point.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TypeAlias

import sympy

from symgrad.errors import LimitExceeded, ParseError, UnsupportedError
from symgrad.expr._parse import parse_variables, parse_with_variables, sort_variables

__all__ = [
    "MAX_DERIVATIVE_NODES",
    "MAX_ORDER",
    "MAX_VARIABLES",
    "Source",
    "VariablesSpec",
    "count_nodes",
    "differentiate",
    "gradient_exprs",
    "hessian_exprs",
    "jacobian_exprs",
    "laplacian_expr",
    "resolve",
]

MAX_ORDER = 16
MAX_VARIABLES = 1000  # the work they cause is priced by Limits.max_work (derive._cost)
MAX_DERIVATIVE_NODES = 200_000

#: What users may pass as an expression: text (parsed safely) or a SymPy expression.
Source: TypeAlias = str | sympy.Expr
#: Variables in order: ``"x y z"``, ``"x,y,z"`` or a sequence of names or symbols.
VariablesSpec: TypeAlias = str | Sequence[str | sympy.Symbol] | None


def count_nodes(expr: sympy.Basic, limit: int | None = None) -> int:
    """Count the nodes of ``expr``, raising ``LimitExceeded`` as soon as ``limit`` is passed.

    Iterative (no recursion), so arbitrarily deep trees are safe to count.  The default limit
    is ``MAX_DERIVATIVE_NODES``, read at call time.
    """
    limit = MAX_DERIVATIVE_NODES if limit is None else limit
    count = 0
    stack = [expr]
    while stack:
        node = stack.pop()
        count += 1
        if count > limit:
            msg = (
                f"a derivative has more than {limit} nodes; simplify the expression "
                "or differentiate fewer times"
            )
            raise LimitExceeded(msg, limit="expression_too_large", value=count, allowed=limit)
        stack.extend(node.args)
    return count


def resolve(
    source: Source | Sequence[Source], variables: VariablesSpec = None
) -> tuple[tuple[sympy.Expr, ...], tuple[sympy.Symbol, ...]]:
    """Parse one or several expressions and fix the variable order.

    Explicit ``variables`` keep their order (and every name written must be among them);
    otherwise the variables are every name the expressions are written with, also one SymPy
    cancels (``x - x + y`` has x and y), in natural order: ``x2`` before ``x10``.  The
    derivatives, and through them the checks and the CLI, take their variables from here.
    """
    sources = list(source) if _several(source) else [source]
    if not sources:
        msg = "no expression given: pass at least one expression"
        raise ParseError(msg, reason="empty")
    names = None if variables is None else parse_variables(variables)
    parsed = [parse_with_variables(s, names) for s in sources]
    exprs = tuple(expr for expr, _ in parsed)
    if names is None:
        names = sort_variables({v for _, written in parsed for v in written})
    if len(names) > MAX_VARIABLES:
        msg = f"{len(names)} variables given; at most {MAX_VARIABLES} are allowed"
        raise LimitExceeded(
            msg, limit="too_many_variables", value=len(names), allowed=MAX_VARIABLES
        )
    return exprs, names


def _several(source: object) -> bool:
    """Whether ``source`` is a collection of expressions (a list, tuple, array of text...).

    Text, every SymPy object (a ``Matrix``, ``Tuple`` or set too) and mappings are one source, which
    the parser accepts only when it is a scalar expression: an iterable SymPy object is never
    taken apart into expressions.
    """
    single = str | bytes | sympy.Basic | sympy.MatrixBase | Mapping
    return isinstance(source, Iterable) and not isinstance(source, single)


def differentiate(expr: sympy.Expr, wrt: Sequence[sympy.Symbol]) -> sympy.Expr:
    """Differentiate ``expr`` once with respect to each symbol of ``wrt`` in turn.

    Checks the order cap before starting and the size cap after every step.
    """
    if len(wrt) > MAX_ORDER:
        msg = (
            f"derivative of order {len(wrt)} requested; at most {MAX_ORDER} is allowed "
            "(high orders grow expressions exponentially)"
        )
        raise LimitExceeded(msg, limit="derivative_order", value=len(wrt), allowed=MAX_ORDER)
    result = expr
    for var in wrt:
        result = _drop_distributions(sympy.diff(result, var))
        count_nodes(result)
    return _reject_unevaluated(result)


def _drop_distributions(expr: sympy.Expr) -> sympy.Expr:
    """Replace ``DiracDelta`` terms by 0: they vanish away from a kink (see module docstring)."""
    if expr.has(sympy.DiracDelta):
        return expr.replace(lambda e: isinstance(e, sympy.DiracDelta), lambda _e: sympy.S.Zero)
    return expr


def _reject_unevaluated(expr: sympy.Expr) -> sympy.Expr:
    """Refuse results SymPy could not differentiate (``Derivative`` or ``Subs`` nodes)."""
    for kind in (sympy.Derivative, sympy.Subs):
        found = expr.atoms(kind)
        if found:
            first = min(found, key=sympy.default_sort_key)
            msg = f"SymPy could not differentiate {str(first)[:80]}; it is not differentiable here"
            if isinstance(first.expr, sympy.besselj | sympy.bessely):  # d/dnu J_nu(x)
                msg = (
                    f"the derivative of {str(first.expr)[:60]} with respect to its order "
                    "has no closed form; differentiate with respect to the argument only"
                )
            raise UnsupportedError(msg)
    return expr


def gradient_exprs(expr: sympy.Expr, variables: Sequence[sympy.Symbol]) -> list[sympy.Expr]:
    """First partial derivatives, one per variable, in order."""
    return [differentiate(expr, [v]) for v in variables]


def jacobian_exprs(
    exprs: Sequence[sympy.Expr], variables: Sequence[sympy.Symbol]
) -> list[list[sympy.Expr]]:
    """Row i, column j: d exprs[i] / d variables[j]."""
    return [gradient_exprs(e, variables) for e in exprs]


def hessian_exprs(expr: sympy.Expr, variables: Sequence[sympy.Symbol]) -> list[list[sympy.Expr]]:
    """Second partials; the gradient is differentiated once more and symmetry is used.

    (Gradient-then-diff is measured faster than ``sympy.hessian``; mixed partials are computed
    once, for i <= j, and mirrored.)
    """
    grad = gradient_exprs(expr, variables)
    n = len(variables)
    rows: list[list[sympy.Expr]] = [[sympy.S.Zero] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            rows[i][j] = rows[j][i] = differentiate(grad[i], [variables[j]])
    return rows


def laplacian_expr(expr: sympy.Expr, variables: Sequence[sympy.Symbol]) -> sympy.Expr:
    """Sum of the unmixed second partials."""
    total = sympy.Add(*(differentiate(expr, [v, v]) for v in variables))
    count_nodes(total)
    return total
