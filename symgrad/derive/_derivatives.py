"""The public constructors: gradient, Jacobian, Hessian, any partial, Laplacian.

Each parses its input safely, differentiates symbolically and returns a :class:`Compiled`
object: callable as a vectorized float64 function, exact at a point via ``.at(point, dps)``,
with the SymPy expressions in ``.exprs`` and the generated code in ``.source``.

Every call is one priced job (:mod:`symgrad.derive._cost`): each order of differentiation is
estimated before it starts (a Hessian's second order from the actual first derivatives) and the
components are priced again before they are compiled, against ``limits.max_work``.  Equal
requests are differentiated once (a Hessian's mixed partials are computed for i <= j and
mirrored).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import sympy

from symgrad.derive._codegen import Compiled
from symgrad.derive._cost import (
    GUESS_MARGIN,
    Budget,
    Limits,
    compile_cost,
    derivative_costs,
    second_order_guess,
)
from symgrad.errors import ConfigError, LimitExceeded
from symgrad.expr import (
    MAX_ORDER,
    Source,
    VariablesSpec,
    count_nodes,
    differentiate,
    resolve,
    symbol,
)

__all__ = ["derivative", "function", "gradient", "hessian", "jacobian", "laplacian"]


def function(
    expr: Source | Sequence[Source],
    variables: VariablesSpec = None,
    *,
    limits: Limits | None = None,
) -> Compiled:
    """Compile the expression itself (no differentiation); a list gives a vector function.

    Examples
    --------
    >>> f = function("x**2 + y")
    >>> f([1, 2], 3).tolist()
    [4.0, 7.0]
    >>> function(["x*y", "x + y"])(2.0, 3.0).tolist()
    [6.0, 5.0]
    """
    job = _Job("function", limits)
    if isinstance(expr, str | sympy.Expr):
        (parsed,), names = resolve(expr, variables)
        return job.compile(parsed, names, "function")
    many, names = resolve(expr, variables)
    return job.compile(list(many), names, "function")


def gradient(
    expr: Source, variables: VariablesSpec = None, *, limits: Limits | None = None
) -> Compiled:
    """The gradient of a scalar expression, compiled.

    Parameters
    ----------
    expr : str or sympy.Expr
        The expression, e.g. ``"2*x**2 + 3*y**2 - 4*z"`` (``^`` also means power).
    variables : str or sequence, optional
        Variable order, e.g. ``"x y z"``; by default the free symbols sorted by name.
    limits : Limits, optional
        Caps on the work of differentiating and compiling (``symgrad.Limits()`` by default).

    Returns
    -------
    Compiled
        Called with arrays that broadcast to ``shape``, returns ``(n, *shape)`` float64.

    Raises
    ------
    LimitExceeded
        With ``limit="work"`` when the estimated work passes ``limits.max_work``, before it
        starts.

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
    job = _Job("gradient", limits)
    (parsed,), names = resolve(expr, variables)
    return job.compile(job.diff([(parsed, v) for v in names]), names, "gradient")


def jacobian(
    exprs: Sequence[Source], variables: VariablesSpec = None, *, limits: Limits | None = None
) -> Compiled:
    """The Jacobian of several expressions: row i holds the gradient of ``exprs[i]``.

    Examples
    --------
    >>> J = jacobian(["x*y", "x + y"])
    >>> J.to_strings()
    [['y', 'x'], ['1', '1']]
    >>> J(2.0, 3.0).tolist()
    [[3.0, 2.0], [1.0, 1.0]]
    """
    job = _Job("jacobian", limits)
    if isinstance(exprs, str | sympy.Expr):
        exprs = [exprs]
    parsed, names = resolve(exprs, variables)
    flat = job.diff([(e, v) for e in parsed for v in names])
    n = len(names)
    rows = [flat[i * n : (i + 1) * n] for i in range(len(parsed))]
    return job.compile(rows, names, "jacobian")


def hessian(
    expr: Source, variables: VariablesSpec = None, *, limits: Limits | None = None
) -> Compiled:
    """The Hessian (matrix of second partials) of a scalar expression.

    The gradient is differentiated once more, for i <= j, and mirrored.  Before the gradient, a
    second order guessed far beyond the limit from the expression's shape is refused; the second
    order is priced precisely from the actual gradient before it starts.

    Examples
    --------
    >>> H = hessian("x**3*y")
    >>> H.to_strings()
    [['6*x*y', '3*x**2'], ['3*x**2', '0']]
    """
    job = _Job("hessian", limits)
    (parsed,), names = resolve(expr, variables)
    n = len(names)
    job.foresee(parsed, [(names[i], names[j]) for i in range(n) for j in range(i, n)])
    grad = job.diff([(parsed, v) for v in names], last=False)
    upper = iter(job.diff([(grad[i], names[j]) for i in range(n) for j in range(i, n)]))
    rows: list[list[Any]] = [[sympy.S.Zero] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            rows[i][j] = rows[j][i] = next(upper)
    return job.compile(rows, names, "hessian")


def laplacian(
    expr: Source, variables: VariablesSpec = None, *, limits: Limits | None = None
) -> Compiled:
    """The Laplacian (sum of unmixed second partials).

    Examples
    --------
    >>> laplacian("x**2 + y**3").to_strings()
    '6*y + 2'
    """
    job = _Job("laplacian", limits)
    (parsed,), names = resolve(expr, variables)
    job.foresee(parsed, [(v, v) for v in names])
    grad = job.diff([(parsed, v) for v in names], last=False)
    total = sympy.Add(*job.diff(list(zip(grad, names, strict=True))))
    count_nodes(total)
    return job.compile(total, names, "laplacian")


def derivative(
    expr: Source,
    *wrt: str | int | sympy.Symbol,
    variables: VariablesSpec = None,
    limits: Limits | None = None,
) -> Compiled:
    """Any partial derivative, e.g. d3f/dx2dy as ``derivative(f, "x", 2, "y")``.

    ``wrt`` lists variables, each optionally followed by how many times (as in SymPy's
    ``diff``); ``"x x y"`` in one string works too.  The order is checked against
    ``symgrad.expr.MAX_ORDER`` as ``wrt`` is read, before anything is built; each order is
    priced before it is taken.

    Examples
    --------
    >>> d = derivative("x**3*y**2", "x", 2, "y")
    >>> d.to_strings()
    '12*x*y'
    >>> float(d(1.0, 2.0))
    24.0
    """
    job = _Job("derivative", limits)
    (parsed,), names = resolve(expr, variables)
    order = _expand_wrt(wrt, names)
    result = parsed
    for k, var in enumerate(order, start=1):
        (result,) = job.diff([(result, var)], last=k == len(order))
    return job.compile(result, names, "derivative")


class _Job:
    """One priced call: differentiation stages and the compilation, against one budget."""

    def __init__(self, call: str, limits: object) -> None:
        if limits is None:
            limits = Limits()
        elif not isinstance(limits, Limits):
            msg = f"limits must be a symgrad.Limits (got {type(limits).__name__})"
            raise ConfigError(msg)
        self.budget = Budget(limits, call)
        self.done: dict[tuple[Any, sympy.Symbol], Any] = {}

    def diff(self, pairs: list[tuple[Any, sympy.Symbol]], *, last: bool = True) -> list[Any]:
        """``d expr / d var`` for each pair, the new ones priced together before any is taken.

        Besides the work, the stage is charged the size of its results or, for the ``last``
        stage, the estimated work of compiling them, as a preview; only the work is kept as
        spent (the compilation is priced again on the actual components).
        """
        todo = [p for p in dict.fromkeys(pairs) if p not in self.done]
        estimate = derivative_costs(todo, self.budget.left)
        preview = estimate.compiling if last else estimate.size // 2
        what = f"differentiating {len(todo)} entr{'y' if len(todo) == 1 else 'ies'}"
        self.budget.charge(estimate.work + preview, what, partial=not estimate.complete)
        self.budget.spent -= preview
        for expr, var in todo:
            self.done[expr, var] = differentiate(expr, [var])
        return [self.done[p] for p in pairs]

    def foresee(self, expr: Any, pairs: list[tuple[sympy.Symbol, sympy.Symbol]]) -> None:
        """Refuse before the first order a second order that is hopeless (see Budget.foresee)."""
        guess = second_order_guess(expr, pairs, GUESS_MARGIN * self.budget.left)
        self.budget.foresee(guess, f"the second order ({len(pairs)} entries)")

    def compile(self, exprs: Any, names: Sequence[sympy.Symbol], kind: str) -> Compiled:
        """Price compiling the components, then compile them."""
        estimate = compile_cost(_leaves(exprs), self.budget.left)
        what = f"compiling the {kind}"
        self.budget.charge(estimate.work, what, partial=not estimate.complete)
        return Compiled(exprs, names, kind=kind)


def _leaves(exprs: Any) -> Iterator[Any]:
    """The expressions of a nested list, in order."""
    if isinstance(exprs, list | tuple):
        for item in exprs:
            yield from _leaves(item)
    else:
        yield exprs


def _expand_wrt(
    wrt: Sequence[str | int | sympy.Symbol], names: Sequence[sympy.Symbol]
) -> list[sympy.Symbol]:
    """Turn ``("x", 2, "y")`` into ``[x, x, y]``, checking every name and the order cap first.

    The order is counted before anything is repeated, so ``("x", 10**9)`` is refused at once.
    """
    order: list[sympy.Symbol] = []
    for item in wrt:
        if isinstance(item, bool):
            msg = f"wrt must list variables and counts (got {item!r})"
            raise ConfigError(msg)
        if isinstance(item, int):
            if not order or item < 1:
                msg = f"a count in wrt must follow a variable and be >= 1 (got {item!r})"
                raise ConfigError(msg)
            _check_order(len(order) + item - 1)
            order.extend([order[-1]] * (item - 1))
            continue
        for var in _names(item) if isinstance(item, str) else (item,):
            if var not in names:
                msg = f"cannot differentiate with respect to {var}: the variables are {list(names)}"
                raise ConfigError(msg)
            _check_order(len(order) + 1)
            order.append(var)
    if not order:
        msg = "derivative needs at least one variable to differentiate with respect to"
        raise ConfigError(msg)
    return order


def _check_order(order: int) -> None:
    if order > MAX_ORDER:
        msg = (
            f"derivative of order {order:,} or more requested; at most {MAX_ORDER} is allowed "
            "(high orders grow expressions exponentially)"
        )
        raise LimitExceeded(msg, limit="derivative_order", value=order, allowed=MAX_ORDER)


def _names(text: str) -> Iterator[sympy.Symbol]:
    """Validated symbols from ``"x"``, ``"x x y"`` or ``"x,y"`` (repeats allowed), one by one."""
    for match in re.finditer(r"[^\s,]+", text):
        yield symbol(match.group())
