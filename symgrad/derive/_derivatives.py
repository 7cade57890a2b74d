"""The public constructors: gradient, Jacobian, Hessian, any partial, Laplacian.

Each parses its input safely, differentiates symbolically and returns a :class:`Compiled`
object: callable as a vectorized float64 function, exact at a point via ``.at(point, dps)``,
with the SymPy expressions in ``.exprs`` and the generated code in ``.source``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sympy

from symgrad.derive._codegen import Compiled
from symgrad.errors import ConfigError
from symgrad.expr import (
    Source,
    VariablesSpec,
    differentiate,
    gradient_exprs,
    hessian_exprs,
    jacobian_exprs,
    laplacian_expr,
    resolve,
    symbol,
)

__all__ = ["derivative", "function", "gradient", "hessian", "jacobian", "laplacian"]


def function(expr: Source | Sequence[Source], variables: VariablesSpec = None) -> Compiled:
    """Compile the expression itself (no differentiation); a list gives a vector function.

    Examples
    --------
    >>> f = function("x**2 + y")
    >>> f([1, 2], 3).tolist()
    [4.0, 7.0]
    >>> function(["x*y", "x + y"])(2.0, 3.0).tolist()
    [6.0, 5.0]
    """
    if isinstance(expr, str | sympy.Expr):
        (parsed,), names = resolve(expr, variables)
        return Compiled(parsed, names, kind="function")
    many, names = resolve(expr, variables)
    return Compiled(list(many), names, kind="function")


def gradient(expr: Source, variables: VariablesSpec = None) -> Compiled:
    """The gradient of a scalar expression, compiled.

    Parameters
    ----------
    expr : str or sympy.Expr
        The expression, e.g. ``"2*x**2 + 3*y**2 - 4*z"`` (``^`` also means power).
    variables : str or sequence, optional
        Variable order, e.g. ``"x y z"``; by default the free symbols sorted by name.

    Returns
    -------
    Compiled
        Called with arrays that broadcast to ``shape``, returns ``(n, *shape)`` float64.

    Examples
    --------
    >>> g = gradient("2*x**2 + 3*y**2 - 4*z")
    >>> g.to_strings()
    ['4*x', '6*y', '-4']
    >>> g(1.0, 2.0, 3.0).tolist()
    [4.0, 12.0, -4.0]
    >>> print(g.at("x=0.1, y=0, z=0", dps=30)[0])
    0.4
    """
    (parsed,), names = resolve(expr, variables)
    return Compiled(gradient_exprs(parsed, names), names, kind="gradient")


def jacobian(exprs: Sequence[Source], variables: VariablesSpec = None) -> Compiled:
    """The Jacobian of several expressions: row i holds the gradient of ``exprs[i]``.

    Examples
    --------
    >>> J = jacobian(["x*y", "x + y"])
    >>> J.to_strings()
    [['y', 'x'], ['1', '1']]
    >>> J(2.0, 3.0).tolist()
    [[3.0, 2.0], [1.0, 1.0]]
    """
    if isinstance(exprs, str | sympy.Expr):
        exprs = [exprs]
    parsed, names = resolve(exprs, variables)
    return Compiled(jacobian_exprs(parsed, names), names, kind="jacobian")


def hessian(expr: Source, variables: VariablesSpec = None) -> Compiled:
    """The Hessian (matrix of second partials) of a scalar expression.

    Examples
    --------
    >>> H = hessian("x**3*y")
    >>> H.to_strings()
    [['6*x*y', '3*x**2'], ['3*x**2', '0']]
    """
    (parsed,), names = resolve(expr, variables)
    return Compiled(hessian_exprs(parsed, names), names, kind="hessian")


def laplacian(expr: Source, variables: VariablesSpec = None) -> Compiled:
    """The Laplacian (sum of unmixed second partials).

    Examples
    --------
    >>> laplacian("x**2 + y**3").to_strings()
    '6*y + 2'
    """
    (parsed,), names = resolve(expr, variables)
    return Compiled(laplacian_expr(parsed, names), names, kind="laplacian")


def derivative(
    expr: Source, *wrt: str | int | sympy.Symbol, variables: VariablesSpec = None
) -> Compiled:
    """Any partial derivative, e.g. d3f/dx2dy as ``derivative(f, "x", 2, "y")``.

    ``wrt`` lists variables, each optionally followed by how many times (as in SymPy's
    ``diff``); ``"x x y"`` in one string works too.

    Examples
    --------
    >>> d = derivative("x**3*y**2", "x", 2, "y")
    >>> d.to_strings()
    '12*x*y'
    >>> float(d(1.0, 2.0))
    24.0
    """
    (parsed,), names = resolve(expr, variables)
    order = _expand_wrt(wrt, names)
    return Compiled(differentiate(parsed, order), names, kind="derivative")


def _expand_wrt(
    wrt: Sequence[str | int | sympy.Symbol], names: Sequence[sympy.Symbol]
) -> list[sympy.Symbol]:
    """Turn ``("x", 2, "y")`` into ``[x, x, y]``, checking every name is a variable."""
    order: list[sympy.Symbol] = []
    for item in wrt:
        if isinstance(item, bool):
            msg = f"wrt must list variables and counts (got {item!r})"
            raise ConfigError(msg)
        if isinstance(item, int):
            if not order or item < 1:
                msg = f"a count in wrt must follow a variable and be >= 1 (got {item!r})"
                raise ConfigError(msg)
            order.extend([order[-1]] * (item - 1))
            continue
        for var in _names(item) if isinstance(item, str) else (item,):
            if var not in names:
                msg = f"cannot differentiate with respect to {var}: the variables are {list(names)}"
                raise ConfigError(msg)
            order.append(var)
    if not order:
        msg = "derivative needs at least one variable to differentiate with respect to"
        raise ConfigError(msg)
    return order


def _names(text: str) -> list[sympy.Symbol]:
    """Validated symbols from ``"x"``, ``"x x y"`` or ``"x,y"`` (repeats allowed here)."""
    return [symbol(name) for name in re.split(r"[\s,]+", text.strip()) if name]
