"""The cost model of a derive job: its work estimated from the expression tree, before the work.

Parsing caps the *input* (:mod:`symgrad.expr`); this module prices what follows, which can be
far larger: differentiating every entry of a gradient or Hessian with SymPy, then compiling the
results.  The price is counted in **node operations**, a unit of about 10 µs of CPU (15 SymPy
function calls; see the table below; ``benchmarks/bench_limits.py`` prints the estimates next
to the measured seconds).  A job's estimate is checked against ``Limits.max_work`` *before* each stage
starts, so a job that would take minutes is refused in milliseconds.

How SymPy's work grows, per node with ``m`` arguments, differentiated with respect to ``v``
(SymPy differentiates a shared subexpression again at every occurrence, so the estimate walks
the tree, shared subtrees counted each time):

* every argument containing ``v`` gives a new node of ``m`` arguments, whose assumptions SymPy
  derives (``_NEW``, per kind of node);
* a sum differentiates all its terms to find those that contain ``v``;
* a product of ``m`` factors gives one product of ``m`` factors per factor containing ``v``, built
  by ``m`` successive multiplications: the Hessian of ``x0*x1*...*x99`` is 5,050 products of 98
  factors (minutes);
* ``min``/``max`` of ``k`` arguments give, per argument containing ``v``, a step function of that
  argument minus the ``max`` of the others, and SymPy compares those arguments pairwise
  (``MINMAX_PAIR`` per pair);
* the derivatives of step functions and ``sign`` are distributions, which are dropped;
* each result is traversed once more to count and check it, in proportion to its tree size,
  which the same rules estimate (a function ``g(u)`` gives ``g'(u)·u'``, about two copies of
  the node plus ``u'``; a power ``b**c`` gives ``c·b**(c-1)·b'`` or ``b**c·log(b)·c'``, one
  copy of the power and one of the other operand plus the derivative), except where the
  derivative is a number, which is one node: a sum whose terms holding ``v`` all have numbers
  as derivatives, or a product of numbers and one such factor (``4*(x0 + 2*x1 + ...)`` along
  any ``x_i``: a number times a sum is kept factored, so the Hessian of a squared linear form
  is a matrix of numbers, though building each entry still differentiates every term of the
  sum).

Every stage is charged its work plus a preview of what follows (the compilation, for the last
stage; half the size of the results, for the others), and a Hessian, Laplacian or higher partial
is priced one order at a time: the second order is estimated from the actual first derivatives,
before it starts.  Before compiling, the actual components are priced again
(:func:`compile_cost`).  A step function around min/max calls (``Heaviside(x0 - Max(x1, x2,
x3))``, the derivative of a ``max``) is priced at ``PRINT_STEP_ARG`` per argument of the min/max
inside (plus one), charged in advance to the derivative of a ``max`` or ``min`` of ``k >= 3``
arguments.  That price is 0: symgrad prints step functions through ``sign`` and min/max through
placeholders (:mod:`symgrad.derive._printing`), so they cost what any function call costs.

**Compiling** is what follows the derivatives: their conversion back from symengine, the
:class:`~symgrad.derive.Compiled` (its entries, their distinct components), and the NumPy code
generated on the first call, whose common subexpressions are found in one linear pass and which
keeps a number times a sum factored.  Its price, fitted to the CPU time of the families below,
is ``entries_cost`` per entry (0.4 of an operation: a sparse Hessian's zeros are found by
identity and cost only their bookkeeping), one operation per ``_COMPILE_TREE`` nodes of the
trees, and per distinct node ``_COMPILE_NODE``, ``_COMPILE_ARG`` per argument of a sum or
product, and more for a power or a function call, which the printers inspect.  (The former model
charged 10 per entry and ``2m²/5`` per product of ``m`` factors, for SymPy's quadratic common
subexpression search, which symgrad no longer uses: up to 20 times the work of today's code.)

**symengine.**  When a job differentiates with symengine (:mod:`symgrad.derive._symengine`), the
same trees are priced by the same rules (nodes are recognised by class name, which SymPy and
symengine share), and a stage costs ``SYMENGINE_SPEEDUP`` (600) times less than SymPy's estimated
work to build the derivatives, plus ``_SYMENGINE_PIECE`` per (term, variable) pair
differentiated and one operation per ``_SYMENGINE_NODES`` (50) nodes of the results, which are
counted in Python.  An estimate that stopped counting early is never discounted, so a hostile
expression is refused as quickly on both engines.  A job's sums are differentiated term by term,
and only the terms that contain the variable (:mod:`symgrad.derive._derivatives`), so a sum of
many local terms is priced, and done, per term that matters.

**The unit and the fit.**  A node operation is about 10 µs of CPU (4-23 µs on the families
below, the most for small jobs, whose fixed costs are not priced; SymPy's derivatives, whose
weights were fitted to SymPy's call counts, 5-8 µs), so the default ``MAX_WORK`` of 1,000,000
is about ten seconds.  Prices of the default engine
(symengine) against the CPU time of building the job and generating its code, measured on the
development machine (2 shared cores, loaded), with the default limits' verdict:

==============================  ==========  ===========  ====================
job (from text)                 price       CPU seconds  default limits
==============================  ==========  ===========  ====================
Rosenbrock N=100, gradient          12,049  0.29         built
Rosenbrock N=1000, gradient        121,295  2.1          built
Rosenbrock N=300, Hessian           77,895  0.87         built
Rosenbrock N=1000, Hessian         609,817  6.5          built (10**6 entries)
(Σ i·x_i)² N=200, gradient          22,132  0.30         built
(Σ i·x_i)² N=400, gradient          74,406  0.79         built
(Σ i·x_i)² N=200, Hessian          163,626  1.7          built
(Σ i·x_i)² N=300, Hessian          407,650  3.9          built
(Σ i·x_i)² N=400, Hessian          799,859  7.7          built (80,200 distinct)
quadratic form N=100, gradient     129,231  1.3          built
sin nested 30 deep, Hessian        138,876  0.72         built
sin nested 45 deep, Hessian     (node cap)  -            refused in 0.1 s
x0*...*x59, Hessian                251,376  2.1          built
x0*...*x99, Hessian              1,174,489  10.0         refused in 0.1 s
x0*...*x149, Hessian            >3,787,078  (~30)        refused in 0.3 s
sin(x0²+...+x99²), Hessian         588,412  5.3          built
sin(x0²+...+x149²), Hessian     >1,569,550  (~20)        refused in 0.4 s
(x²+y)^1000 + ..., Hessian             657  0.01         built
==============================  ==========  ===========  ====================

(The prices are the largest total a budget was asked to allow, previews included, with the limit
out of the way; ">" marks the total at the stage that refused, for jobs not run to the end; the
seconds in parentheses are extrapolated from smaller sizes. ``tests/test_cost_families.py`` checks
prices against the counted Python calls of the same families.) The squared linear form's Hessian
was priced about 3 times its work (3.3-3.7 µs per operation, refused from N = 300) while a
derivative that is a number was previewed as the product the rules build; sized as one node, it is
priced at 9-11 µs per operation for N = 50-400. On SymPy (without symengine) the same family costs
1.3-3.9 µs per operation: SymPy's work on sums is priced from its call counts, its calls there are
cheap and its cache serves a sum's derivative again, so those prices are cautious (its gradient at
N = 400, 4.7 s, and Hessian at N = 100, 4.9 s, are refused). Every count stops as soon as it passes
what the budget allows, so pricing a job costs at most a fraction of the work it allows (walking
the trees to price compiling them, about a tenth of an operation per node, is itself part of that
work).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import sympy

from symgrad.errors import ConfigError, LimitExceeded

__all__ = [
    "GUESS_MARGIN",
    "MAX_WORK",
    "MINMAX_PAIR",
    "PRINT_STEP_ARG",
    "SYMENGINE_SPEEDUP",
    "Budget",
    "Estimate",
    "Limits",
    "compile_cost",
    "derivative_costs",
    "engine_work",
    "entries_cost",
    "second_order_guess",
]

#: Default cap on the estimated work of one job, in node operations (about 10 s of CPU).
MAX_WORK = 1_000_000
#: A second order guessed from the first is refused in advance only above this many budgets.
GUESS_MARGIN = 4
#: Node operations per pair of arguments when SymPy builds a ``max``/``min`` of a derivative.
MINMAX_PAIR = 20
#: symengine builds a derivative this many times faster than SymPy, per unit of SymPy's estimated
#: work (measured 300-600x on the families of the module docstring; the cautious end).
SYMENGINE_SPEEDUP = 600
#: Node operations per ``max``/``min`` argument inside a step function, when it is printed (0:
#: step functions print through ``sign``, see the module docstring).
PRINT_STEP_ARG = 0

# The weights below were fitted (non-negative least squares of the relative error) to SymPy's
# call counts for 270 random expressions and the families of benchmarks/bench_limits.py: the
# estimate is within a factor 0.7-2.3 of the measured work for 90% of the jobs above 2,000 node
# operations, and within 0.8-1.7 for every family.
# per argument differentiated, times (arguments + 1): the new node and its assumptions
_NEW = {"add": 0, "mul": 17, "pow": 30, "minmax": 130, "function": 20, "step": 20}
_SUM_ARG = 6  # per argument of a sum, per term containing the variable
_TRAVERSE = 4  # thirds of a node operation per node of each result: checked, counted
# symengine's stages (see engine_work), fitted to the CPU time of the families of the module
# docstring at 10 µs per node operation
_SYMENGINE_PIECE = 2  # per (term, variable) differentiated: the call, the checks, the sum
_SYMENGINE_NODES = 50  # result nodes counted per node operation (count_nodes, in Python)
# compiling (the conversion back to SymPy, Compiled, and the NumPy code generated on the first
# call), fitted to the CPU time of the families of the module docstring (non-negative least
# squares of the relative error, within a factor 0.45-1.25 of every one)
_COMPILE_ENTRY_TENTHS = 4  # tenths of a node operation per component (zeros included)
_COMPILE_TREE = 10  # tree nodes visited per node operation (shared subtrees at each occurrence)
_COMPILE_NODE = 5  # per distinct node (the linear CSE, the printing of each statement)
_COMPILE_ARG = 2  # per argument of a distinct sum or product
_COMPILE_POW = 24  # per distinct power (the printers look for roots and reciprocals)
_COMPILE_FUNCTION = 61  # per distinct function call
# The preview of compiling a derivative, before it is taken, counts the nodes the chain rule
# creates (g'(u)·u', for powers and functions) at every occurrence of a shared subtree, where
# compile_cost, on the actual results, counts them once: those and the tree size are divided by
# this (the preview was up to 4.9 times the actual price on the families of the module docstring
# without it); the products of a product's derivative are distinct, and counted in full
_PREVIEW_SHARE = 2

_Expr = Any  # SymPy ships no type information
_MINMAX = (sympy.Max, sympy.Min)
_STEPS = (sympy.Heaviside, sympy.Piecewise)
# the rule of each kind of node, by class name (SymPy's and symengine's share them); the step
# functions' derivatives are distributions, dropped
_KINDS = {"Add": "add", "Mul": "mul", "Pow": "pow", "Max": "minmax", "Min": "minmax"}
_KINDS |= {"Abs": "minmax", "Heaviside": "step", "sign": "step", "DiracDelta": "step"}


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps on the work of one job: differentiating and compiling, and the counts of the checks.

    Parameters
    ----------
    max_work : int
        The most estimated work one call of ``gradient``, ``hessian``, ``jacobian``,
        ``laplacian``, ``derivative`` or ``function`` may do, in node operations (about 10 µs
        each, 3-16 µs measured; the default, 1,000,000, is about 10 s).  The estimate is checked
        before each stage starts; raise the cap for large trusted jobs.
    max_points : int
        The most points one ``check_gradient`` compares (given, or drawn with ``n_points``);
        default 100,000.  Each costs an exact evaluation of the derivative (about 50 µs to
        1 ms) before the user's code is called.
    max_values : int
        The most entry values one ``check_gradient`` judges, points × entries of the
        derivative (default 1,000,000, about 8 MB per array of them).
    max_checks : int
        The most components one ``check`` cross-checks, points × components (default 5,000):
        each is an arbitrary-precision finite difference, about 1-100 ms.

    All counts are checked before the work they protect, and a ``LimitExceeded`` names the
    limit and how to raise it.

    Examples
    --------
    >>> import symgrad
    >>> limits = symgrad.Limits(max_work=5_000_000)
    >>> symgrad.gradient("x*y", limits=limits).to_strings()
    ['y', 'x']
    >>> symgrad.Limits(max_points=0)
    Traceback (most recent call last):
    ...
    symgrad.errors.ConfigError: max_points must be at least 1 (got 0)
    """

    max_work: int = MAX_WORK
    max_points: int = 100_000
    max_values: int = 1_000_000
    max_checks: int = 5_000

    def __post_init__(self) -> None:
        if isinstance(self.max_work, bool) or not isinstance(self.max_work, int):
            msg = f"max_work must be an integer number of node operations (got {self.max_work!r})"
            raise ConfigError(msg)
        if self.max_work < 1:
            msg = f"max_work must be at least 1 (got {self.max_work})"
            raise ConfigError(msg)
        for name in ("max_points", "max_values", "max_checks"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                msg = f"{name} must be a positive integer count (got {value!r})"
                raise ConfigError(msg)
            if value < 1:
                msg = f"{name} must be at least 1 (got {value})"
                raise ConfigError(msg)


class Budget:
    """The work one job has spent, and the checks before each stage.

    Parameters
    ----------
    limits : Limits
        The caps of the job.
    call : str
        The public call being priced (``"hessian"``), named in the refusal message.
    """

    def __init__(self, limits: Limits, call: str) -> None:
        self.limits = limits
        self.call = call
        self.spent = 0

    @property
    def left(self) -> int:
        """Node operations still allowed (a count may stop as soon as it passes this)."""
        return self.limits.max_work - self.spent

    def charge(self, cost: int, what: str, *, partial: bool = False) -> None:
        """Add ``cost`` (estimated before the work) or refuse with ``LimitExceeded(work)``.

        ``partial`` means the estimate stopped counting early: the true cost is larger.
        """
        total = self.spent + cost
        if total > self.limits.max_work:
            allowed = self.limits.max_work
            shown = f"more than {total:,}" if partial else f"about {total:,}"
            msg = (
                f"{self.call}: {what} would take {shown} node operations of SymPy work "
                f"(roughly 10 µs each), more than the limit of {allowed:,}; simplify the "
                "expression or use fewer variables, or, for a trusted job, raise the limit: "
                f"symgrad.{self.call}(..., limits=symgrad.Limits(max_work=...))"
            )
            raise LimitExceeded(msg, limit="work", value=total, allowed=allowed)
        self.spent = total

    def foresee(self, guess: int, what: str) -> None:
        """Refuse now a later stage whose rough ``guess`` is beyond ``GUESS_MARGIN`` budgets.

        The guess is not charged: that stage is priced precisely before it starts.
        """
        if self.spent + guess // GUESS_MARGIN > self.limits.max_work:
            msg = (
                f"{self.call}: {what} would take about {guess:,} node operations of SymPy work "
                f"(estimated from the first order), more than {GUESS_MARGIN} times the limit of "
                f"{self.limits.max_work:,}; simplify the expression or use fewer variables, or, "
                f"for a trusted job, raise the limit: symgrad.{self.call}(..., "
                "limits=symgrad.Limits(max_work=...))"
            )
            raise LimitExceeded(msg, limit="work", value=guess, allowed=self.limits.max_work)


class Estimate(NamedTuple):
    """Estimated cost of some derivatives; ``complete`` is False when counting stopped early.

    ``work`` is SymPy's work to build them, ``size`` their nodes, ``compiling`` the estimated
    work of compiling them (a tenth of their nodes, plus the distinct nodes each term creates
    as :func:`compile_cost` prices them, with the printing of step functions of min/max),
    ``pieces`` the (expression, variable) pairs differentiated.
    """

    work: int
    size: int
    compiling: int
    complete: bool
    pieces: int = 0


def derivative_costs(pairs: Iterable[tuple[_Expr, sympy.Symbol]], limit: int) -> Estimate:
    """Estimated cost of ``d expr / d var`` for every pair, summed.

    Stops counting after visiting ``limit`` nodes (``complete`` is then False, and the work
    is more than ``limit``: each node visited adds to it), so the estimate never costs more than
    a small part of the work it allows.
    """
    wanted: dict[_Expr, set[sympy.Symbol]] = {}
    for expr, var in pairs:
        wanted.setdefault(expr, set()).add(var)
    work = size = compiling = 0
    visits = limit
    pieces = sum(len(v) for v in wanted.values())
    for expr, variables in wanted.items():
        costs = _NodeCosts(variables, visits)
        found = costs.of(expr)
        if costs.exhausted:
            return Estimate(max(work, limit + 1 - compiling), size, compiling, False, pieces)
        visits -= costs.visited
        found_size = sum(found.size.get(v, 0) for v in variables)
        work += sum(found.work.get(v, 0) for v in variables) + _TRAVERSE * found_size // 3
        size += found_size
        compiling += sum(found.compiling(v) for v in variables) + entries_cost(len(variables))
    return Estimate(work, size, compiling, True, pieces)


def entries_cost(entries: int) -> int:
    """The work of ``entries`` components beyond their trees (zeros cost this too).

    Measured 4-6 µs per entry of a Rosenbrock Hessian in 1,000 variables (10**6 entries, 2,000
    distinct): its bookkeeping in the second order, the conversion, the array and the layout.
    """
    return _COMPILE_ENTRY_TENTHS * entries // 10


def engine_work(estimate: Estimate, engine: str) -> int:
    """The work of ``estimate`` on ``engine`` (``"sympy"`` or ``"symengine"``).

    On symengine, building the derivatives costs ``1 / SYMENGINE_SPEEDUP`` of SymPy's work,
    each (term, variable) pair ``_SYMENGINE_PIECE`` (the Python around the call) and counting
    the results' nodes one operation per ``_SYMENGINE_NODES`` nodes.  An incomplete estimate
    (counting stopped early) is not discounted: it is refused as it is.
    """
    if engine != "symengine" or not estimate.complete:
        return estimate.work
    return (
        _SYMENGINE_PIECE * estimate.pieces
        + estimate.size // _SYMENGINE_NODES
        + estimate.work // SYMENGINE_SPEEDUP
    )


def second_order_guess(
    expr: _Expr, pairs: Sequence[tuple[sympy.Symbol, sympy.Symbol]], limit: int
) -> int:
    """Rough work of ``d² expr / dx dy`` for every ``(x, y)`` of ``pairs``, before the first order.

    The first derivative along ``x`` is assumed to be shaped like ``expr``, scaled by its
    estimated size: work(d/dy of d expr/dx) ≈ work(d expr/dy) · size(d expr/dx) / size(expr).
    Exact for the products of many factors whose Hessians are the costly case; a guess
    elsewhere, which is why :meth:`Budget.foresee` only refuses far above the budget.  More than
    ``limit`` when counting stops early.
    """
    costs = _NodeCosts({v for pair in pairs for v in pair}, limit)
    found = costs.of(expr)
    if costs.exhausted:
        return limit + 1
    tree = max(found.tree, 1)
    # keyed by identity: hashing a symbol is a SymPy call, and there are n² pairs
    work = {id(v): w for v, w in found.work.items()}
    size = {id(v): d for v, d in found.size.items()}
    return sum(work.get(id(y), 0) * size.get(id(x), 0) // tree for x, y in pairs)


def compile_cost(exprs: Iterable[_Expr], limit: int) -> Estimate:
    """Estimated work of compiling ``exprs`` (see the module docstring).

    ``entries_cost`` per component, a node operation per ``_COMPILE_TREE`` nodes of the trees,
    and per distinct node ``_COMPILE_NODE``, plus ``_COMPILE_ARG`` per argument of a sum or
    product, ``_COMPILE_POW`` for a power, ``_COMPILE_FUNCTION`` for a function call and the
    printing of step functions of min/max.  Stops as soon as the estimate passes ``limit`` (it
    is then incomplete), so at most ``_COMPILE_TREE * limit`` nodes are visited, and pricing
    costs less than the work it allows (a node visited costs about a tenth of an operation).
    """
    stack = list(exprs)
    cost, nodes = entries_cost(len(stack)), 0
    seen: set[_Expr] = set()
    while stack and cost + nodes // _COMPILE_TREE <= limit:
        node = stack.pop()
        nodes += 1
        stack.extend(node.args)
        if node in seen:
            continue
        seen.add(node)
        cost += _COMPILE_NODE
        if isinstance(node, sympy.Add | sympy.Mul):
            cost += _COMPILE_ARG * len(node.args)
        elif isinstance(node, sympy.Pow):
            cost += _COMPILE_POW
        elif isinstance(node, sympy.Function):
            cost += _COMPILE_FUNCTION
            if isinstance(node, _STEPS):
                cost += _print_step(sum(len(m.args) for m in node.atoms(*_MINMAX)))
    cost += nodes // _COMPILE_TREE
    return Estimate(cost, nodes, cost, complete=not stack)


def _print_step(minmax_args: int) -> int:
    """Work of printing a step function around min/max calls with this many arguments."""
    return PRINT_STEP_ARG * (minmax_args + 1) if minmax_args >= 2 else 0


class _Found:
    """Estimated work, size and compiling of the derivative of one node, per variable.

    ``constant`` says the node is one number (a leaf: ``sqrt(2)`` is a power, whose copies a
    derivative would hold), ``numbers`` the variables along which its derivative is one number
    (see :func:`_numbers`).
    """

    __slots__ = ("compile", "constant", "numbers", "size", "tree", "work")

    def __init__(self, tree: int) -> None:
        self.tree = tree
        self.constant = False
        self.work: dict[sympy.Symbol, int] = {}
        self.size: dict[sympy.Symbol, int] = {}
        self.compile: dict[sympy.Symbol, int] = {}
        self.numbers: set[sympy.Symbol] = set()

    def add(self, var: sympy.Symbol, work: int, size: int, compiling: int) -> None:
        self.work[var] = self.work.get(var, 0) + work
        self.size[var] = self.size.get(var, 0) + size
        if compiling:
            self.compile[var] = self.compile.get(var, 0) + compiling

    def compiling(self, var: sympy.Symbol) -> int:
        """Preview of compiling the derivative: its tree size and its new nodes."""
        return self.size.get(var, 0) // (_COMPILE_TREE * _PREVIEW_SHARE) + self.compile.get(var, 0)


class _NodeCosts:
    """Bottom-up, iterative estimate over the distinct nodes of an expression."""

    def __init__(self, variables: set[sympy.Symbol], limit: int) -> None:
        self.variables = variables
        self.limit = limit
        self.visited = 0
        self.exhausted = False
        self.memo: dict[_Expr, _Found] = {}

    def of(self, expr: _Expr) -> _Found:
        stack: list[tuple[_Expr, bool]] = [(expr, False)]
        while stack and not self.exhausted:
            node, ready = stack.pop()
            if node in self.memo:
                continue
            if not ready:
                stack.append((node, True))
                stack.extend((a, False) for a in node.args if a not in self.memo)
                continue
            self.memo[node] = found = self._rule(node)
            self.visited += 1 + len(found.work)
            self.exhausted = self.visited > self.limit
        return self.memo.get(expr, _Found(0))

    def _rule(self, node: _Expr) -> _Found:
        args = [self.memo[a] for a in node.args]
        found = _Found(1 + sum(a.tree for a in args))
        if not args:  # a symbol or a number (SymPy or symengine)
            found.constant = bool(getattr(node, "is_Number", False))
            if node in self.variables:
                found.add(node, 1, 1, 0)
                found.numbers.add(node)
            return found
        kind, m = _kind(node), len(args)
        new = _NEW[kind] * (m + 1) + _extra(kind, m)
        compiling = _compile_new(kind, m)
        for arg in args:
            for var, work in arg.work.items():
                if kind == "step":  # its derivative is a distribution, dropped
                    found.add(var, work + new, 0, 0)
                    continue
                size = _built(kind, found.tree, arg.tree, arg.size[var])
                found.add(var, work + new, size, arg.compile.get(var, 0) + compiling)
        found.numbers = _numbers(kind, args)
        for var in found.numbers:  # one number: a leaf, not the terms or products of the rules
            found.size[var] = 1
            found.compile[var] = _COMPILE_NODE // _PREVIEW_SHARE
        return found


def _numbers(kind: str, args: list[_Found]) -> set[sympy.Symbol]:
    """The variables along which a node's derivative is a number, from its arguments'.

    A sum's, where every term holding the variable has a number as its derivative; a product's,
    where every factor but one is a number and that one's derivative is a number: ``3*x`` along
    ``x``, and ``4*(x0 + 2*x1 + ...)`` along every ``x_i``, which is why the Hessian of a
    squared linear form, kept factored, is a matrix of numbers.  Never for powers and functions
    (their chain rule keeps the argument), nor for a product with a constant expression
    (``sqrt(2)*x``: its derivative is that expression, traversed and compiled like any other).
    """
    if kind == "add":
        held = {v for a in args for v in a.work}
        return held - {v for a in args for v in a.work if v not in a.numbers}
    if kind == "mul":
        symbolic = [a for a in args if not a.constant]
        return set(symbolic[0].numbers) if len(symbolic) == 1 else set()
    return set()


def _kind(node: _Expr) -> str:
    """The rule a node follows (see the module docstring), by class name: SymPy or symengine."""
    return _KINDS.get(type(node).__name__, "function")


def _built(kind: str, tree: int, arg_tree: int, arg_size: int) -> int:
    """Tree size of the term that an argument's derivative (``arg_size`` nodes) adds."""
    if kind == "add":
        return arg_size + 1
    if kind == "mul":  # the product with that factor replaced by its derivative
        return tree - arg_tree + arg_size + 1
    if kind == "minmax":  # Heaviside(a - max(others)) * a', or sign(a) * a'
        return tree + arg_size + 3
    if kind == "pow":  # c*b**(c - 1)*b' or b**c*log(b)*c': the power and the other operand once
        return 2 * tree - arg_tree + arg_size + 2
    return 2 * tree + arg_size + 4  # functions: g'(u) * u'


def _compile_new(kind: str, m: int) -> int:
    """Compiling the distinct nodes one term of a node's derivative creates (see compile_cost)."""
    product = _COMPILE_NODE + 2 * _COMPILE_ARG  # the product g'(u)·u'
    if kind == "mul":  # a product of m factors
        return _COMPILE_NODE + _COMPILE_ARG * m
    if kind == "minmax":  # a step function of the others' max (or a sign), times a'
        printing = _print_step(m - 1) if m > 2 else 0
        return (product + _COMPILE_NODE + _COMPILE_FUNCTION) // _PREVIEW_SHARE + printing
    if kind == "pow":  # c·b^(c-1)·b' or b^c·log(b)·c'
        return (product + _COMPILE_NODE + _COMPILE_POW) // _PREVIEW_SHARE
    if kind == "function":  # g'(u)·u'
        return (product + _COMPILE_NODE + _COMPILE_FUNCTION) // _PREVIEW_SHARE
    return 0


def _extra(kind: str, m: int) -> int:
    """Work beyond the new node: the other terms of a sum, m² products, min/max pairs."""
    if kind == "add":
        return _SUM_ARG * m
    if kind == "mul":
        return m * m // 2
    if kind == "minmax" and m > 1:
        return MINMAX_PAIR * m * m
    return 0
