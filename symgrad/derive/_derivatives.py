"""The public constructors: gradient, Jacobian, Hessian, any partial, Laplacian.

Each parses its input safely, differentiates symbolically and returns a :class:`Compiled`
object: callable as a vectorized float64 function, exact at a point via ``.at(point, dps)``,
with the SymPy expressions in ``.exprs`` and the generated code in ``.source``.

Every constructor takes ``wrt`` (the variables to differentiate with respect to, in order: the
packed vector of an optimizer) and ``args`` (further named inputs, the data, which are not
differentiated); ``variables`` is the older spelling of ``wrt`` with no ``args``.  Indexed
names ``x[0]``, ``x[1]``, ... in text and ``symgrad.vector("x", n)`` in Python are the
variables ``x_0``, ``x_1``, ... in natural order (``x_2`` before ``x_10``).

Every call is one priced job (:mod:`symgrad.derive._cost`): each order of differentiation is
estimated before it starts (a Hessian's second order from the actual first derivatives) and the
components are priced again before they are compiled, against ``limits.max_work``.  Equal
requests are differentiated once (a Hessian's mixed partials are computed for i <= j and
mirrored).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from typing import Any, TypeVar

import sympy
from sympy.core.parameters import distribute

from symgrad.derive._cache import CacheInfo, TextCache
from symgrad.derive._codegen import Compiled
from symgrad.derive._cost import (
    GUESS_MARGIN,
    Budget,
    Limits,
    compile_cost,
    derivative_costs,
    engine_work,
    entries_cost,
    second_order_guess,
)
from symgrad.derive._symengine import EngineFallback, SymengineJob, choose_engine
from symgrad.errors import ConfigError, InputError, LimitExceeded
from symgrad.expr import (
    MAX_ORDER,
    MAX_VARIABLES,
    SOFT_CONSTANTS,
    Source,
    VariablesSpec,
    count_nodes,
    differentiate,
    parse_variables,
    resolve,
    symbol,
)

__all__ = [
    "cache_info",
    "clear_cache",
    "derivative",
    "function",
    "gradient",
    "hessian",
    "jacobian",
    "laplacian",
    "vector",
]

#: Names for ``wrt=``/``args=``: text, symbols, or sequences of either (``vector`` results).
NamesSpec = str | Sequence[str | sympy.Symbol | Sequence[str | sympy.Symbol]] | None

_F = TypeVar("_F", bound=Callable[..., Any])
_R = TypeVar("_R")
_INDEXED = re.compile(r"\b([A-Za-z][A-Za-z0-9_]*)\[([0-9]+)\]")


def vector(name: str, n: int) -> tuple[sympy.Symbol, ...]:
    """The ``n`` variables ``name[0]`` ... ``name[n-1]`` of a vector, as SymPy symbols.

    They are the symbols ``x_0``, ``x_1``, ... that the text ``x[0]``, ``x[1]``, ... means,
    in natural order; pass them as ``wrt=`` or build expressions from them.

    Parameters
    ----------
    name : str
        A variable name such as ``"x"``.
    n : int
        How many; at most ``symgrad.expr.MAX_VARIABLES`` (a function takes no more variables).

    Examples
    --------
    >>> x = vector("x", 3)
    >>> x
    (x_0, x_1, x_2)
    >>> gradient(x[0]**2 * x[2], wrt=x).to_strings()
    ['2*x_0*x_2', '0', 'x_0**2']
    """
    given: object = n  # checked at run time whatever the annotation says
    if isinstance(given, bool) or not isinstance(given, int) or given < 1:
        msg = f"a vector needs a whole number n >= 1 of entries (got {n!r})"
        raise ConfigError(msg)
    _check_variable_count(n)
    return tuple(symbol(f"{name}_{i}") for i in range(n))


_PARAMETERS = """
    wrt : str or sequence, optional
        The variables to differentiate with respect to, in order (``"A sigma omega"``,
        ``"x[0] x[1]"`` or ``symgrad.vector("x", n)``); a call takes them packed in one array
        or one by one.  By default every variable written that is not in ``args``, in natural
        order (``x2`` before ``x10``).
    args : str or sequence, optional
        Further inputs, the data: named, not differentiated, passed after the ``wrt`` values
        (``J(theta, t, y)``).  By default every variable written that is not in ``wrt``; when
        given, a variable in neither is an ``InputError`` that lists it.
    variables : str or sequence, optional
        The older spelling of ``wrt`` for expressions without data: every variable written must
        be listed (a ``ParseError`` otherwise).
    limits : Limits, optional
        Caps on the work of differentiating and compiling (``symgrad.Limits()`` by default).
    symbolic : {"auto", "sympy", "symengine"}, optional
        The engine that differentiates: ``"auto"`` (the default) is symengine when it is
        installed (the ``fast`` extra), SymPy otherwise; ``"symengine"`` without it is a
        ``ConfigError``.  The results are equal; an expression symengine cannot represent
        (``abs``, ``sign``, ``min``, ``max``, ``Heaviside``, Bessel functions) is
        differentiated by SymPy whatever the choice.
"""


def _documented(func: _F) -> _F:
    """Insert the shared parameter descriptions where a docstring says ``{parameters}``."""
    func.__doc__ = (func.__doc__ or "").replace("    {parameters}\n", _PARAMETERS.lstrip("\n"))
    return func


@_documented
def function(
    expr: Source | Sequence[Source],
    variables: VariablesSpec = None,
    *,
    wrt: NamesSpec = None,
    args: NamesSpec = None,
    limits: Limits | None = None,
    symbolic: str = "auto",
) -> Compiled:
    """Compile the expression itself (no differentiation); a list gives a vector function.

    Parameters
    ----------
    expr : str, sympy.Expr or a sequence of them
        The expression, or several for a vector function.
    {parameters}
    Examples
    --------
    >>> f = function("x**2 + y")
    >>> f([1, 2], 3).tolist()
    [4.0, 7.0]
    >>> function(["x*y", "x + y"])(2.0, 3.0).tolist()
    [6.0, 5.0]
    >>> function("a*x**2", wrt="x")(3.0, 2.0)  # a is data: f(x, a)
    np.float64(18.0)
    """

    def build(job: _Job) -> Compiled:
        parsed, names, data = _inputs(expr, variables, wrt, args)
        single = isinstance(expr, str | sympy.Expr)
        return job.compile(parsed[0] if single else list(parsed), names, "function", data)

    return _build("function", build, (expr, variables, wrt, args), limits, symbolic)


@_documented
def gradient(
    expr: Source,
    variables: VariablesSpec = None,
    *,
    wrt: NamesSpec = None,
    args: NamesSpec = None,
    limits: Limits | None = None,
    symbolic: str = "auto",
) -> Compiled:
    """The gradient of a scalar expression, compiled.

    Parameters
    ----------
    expr : str or sympy.Expr
        The expression, e.g. ``"2*x**2 + 3*y**2 - 4*z"`` (``^`` also means power).
    {parameters}
    Returns
    -------
    Compiled
        Called with arrays that broadcast to ``shape``, returns ``(n, *shape)`` float64 for
        ``n = len(wrt)``.

    Raises
    ------
    LimitExceeded
        With ``limit="work"`` when the estimated work passes ``limits.max_work``, before it
        starts.
    InputError
        ``args`` given and the expression uses a variable in neither ``wrt`` nor ``args``.

    Examples
    --------
    >>> g = gradient("2*x**2 + 3*y**2 - 4*z")
    >>> g.to_strings()
    ['4*x', '6*y', '-4']
    >>> g(1.0, 2.0, 3.0).tolist()
    [4.0, 12.0, -4.0]
    >>> print(g.at("x=0.1, y=0, z=0", dps=30)[0])
    0.4
    >>> r = gradient("100*(x[1] - x[0]**2)**2 + (1 - x[0])**2")
    >>> r.wrt
    (x_0, x_1)
    >>> r([2.0, 4.0]).tolist()  # packed: one array holding x[0], x[1]
    [2.0, 0.0]
    """

    def build(job: _Job) -> Compiled:
        parsed, names, data = _one(expr, variables, wrt, args, "gradient")
        (f,), xs = job.start([parsed], names, data)
        return job.compile(job.diff([(f, v) for v in xs]), names, "gradient", data)

    return _build("gradient", build, (expr, variables, wrt, args), limits, symbolic)


@_documented
def jacobian(
    exprs: Sequence[Source],
    variables: VariablesSpec = None,
    *,
    wrt: NamesSpec = None,
    args: NamesSpec = None,
    limits: Limits | None = None,
    symbolic: str = "auto",
) -> Compiled:
    """The Jacobian of several expressions: row i holds the gradient of ``exprs[i]``.

    Parameters
    ----------
    exprs : sequence of str or sympy.Expr
        The components (residuals), one row each; a single expression gives one row.
    {parameters}
    Returns
    -------
    Compiled
        Of shape ``(m, n)`` for ``m`` expressions and ``n = len(wrt)``: a call on points of
        shape ``batch`` returns ``(m, n, *batch)``.

    Examples
    --------
    >>> J = jacobian(["x*y", "x + y"])
    >>> J.to_strings()
    [['y', 'x'], ['1', '1']]
    >>> J(2.0, 3.0).tolist()
    [[3.0, 2.0], [1.0, 1.0]]
    >>> J = jacobian(["A*exp(-k*t) - y"], wrt="A k", args="t y")
    >>> J.wrt, J.args
    ((A, k), (t, y))
    >>> J([2.0, 0.0], 1.5, 0.3).tolist()  # packed (A, k), then t and y
    [[1.0, -3.0]]
    """

    def build(job: _Job) -> Compiled:
        sources = [exprs] if isinstance(exprs, str | sympy.Expr) else exprs
        parsed, names, data = _inputs(sources, variables, wrt, args)
        return job.compile(_jacobian_rows(job, parsed, names, data), names, "jacobian", data)

    return _build("jacobian", build, (exprs, variables, wrt, args), limits, symbolic)


@_documented
def hessian(
    expr: Source,
    variables: VariablesSpec = None,
    *,
    wrt: NamesSpec = None,
    args: NamesSpec = None,
    limits: Limits | None = None,
    symbolic: str = "auto",
) -> Compiled:
    """The Hessian (matrix of second partials) of a scalar expression.

    The gradient is differentiated once more, for i <= j, and mirrored.  Before the gradient, a
    second order guessed far beyond the limit from the expression's shape is refused; the second
    order is priced precisely from the actual gradient before it starts.

    Parameters
    ----------
    expr : str or sympy.Expr
        The expression.
    {parameters}
    Examples
    --------
    >>> H = hessian("x**3*y")
    >>> H.to_strings()
    [['6*x*y', '3*x**2'], ['3*x**2', '0']]
    """

    def build(job: _Job) -> Compiled:
        parsed, names, data = _one(expr, variables, wrt, args, "hessian")
        return job.compile(_hessian_rows(job, parsed, names, data), names, "hessian", data)

    return _build("hessian", build, (expr, variables, wrt, args), limits, symbolic)


@_documented
def laplacian(
    expr: Source,
    variables: VariablesSpec = None,
    *,
    wrt: NamesSpec = None,
    args: NamesSpec = None,
    limits: Limits | None = None,
    symbolic: str = "auto",
) -> Compiled:
    """The Laplacian (sum of unmixed second partials over ``wrt``).

    Parameters
    ----------
    expr : str or sympy.Expr
        The expression.
    {parameters}
    Examples
    --------
    >>> laplacian("x**2 + y**3").to_strings()
    '6*y + 2'
    >>> laplacian("c*(x**2 + y**2)", wrt="x y")(0.0, 0.0, 3.0)  # c is data
    np.float64(12.0)
    """

    def build(job: _Job) -> Compiled:
        parsed, names, data = _one(expr, variables, wrt, args, "laplacian")
        (f,), xs = job.start([parsed], names, data)
        job.foresee(f, [(v, v) for v in xs])
        grad = job.diff([(f, v) for v in xs], last=False)
        total = job.total(job.diff(list(zip(grad, xs, strict=True))))
        return job.compile(total, names, "laplacian", data)

    return _build("laplacian", build, (expr, variables, wrt, args), limits, symbolic)


@_documented
def derivative(
    expr: Source,
    *order: str | int | sympy.Symbol,
    variables: VariablesSpec = None,
    wrt: NamesSpec = None,
    args: NamesSpec = None,
    limits: Limits | None = None,
    symbolic: str = "auto",
) -> Compiled:
    """Any partial derivative, e.g. d3f/dx2dy as ``derivative(f, "x", 2, "y")``.

    ``order`` lists variables, each optionally followed by how many times (as in SymPy's
    ``diff``); ``"x x y"`` in one string works too.  Each must be one of ``wrt`` (the inputs a
    call takes first); ``args`` are data.  The order is checked against
    ``symgrad.expr.MAX_ORDER`` as it is read, before anything is built; each order is priced
    before it is taken.

    Parameters
    ----------
    expr : str or sympy.Expr
        The expression.
    order : str, int or sympy.Symbol
        The partial to take, as above.
    {parameters}
    Examples
    --------
    >>> d = derivative("x**3*y**2", "x", 2, "y")
    >>> d.to_strings()
    '12*x*y'
    >>> d(1.0, 2.0)
    np.float64(24.0)
    """

    def build(job: _Job) -> Compiled:
        parsed, names, data = _one(expr, variables, wrt, args, "derivative")
        partial = _expand_wrt(order, names, data)
        (result,), _ = job.start([parsed], names, data)
        for k, var in enumerate(partial, start=1):
            (result,) = job.diff([(result, job.symbol(var))], last=k == len(partial))
        return job.compile(result, names, "derivative", data)

    key = (expr, order, variables, wrt, args)
    return _build("derivative", build, key, limits, symbolic)


def sparse_entries(
    kind: str,
    source: Source | Sequence[Source],
    wrt: Sequence[sympy.Symbol],
    args: Sequence[sympy.Symbol],
    limits: Limits | None,
) -> tuple[Compiled | None, list[tuple[int, int]]]:
    """The entries of a Jacobian or Hessian that are not identically zero, compiled alone.

    Returns the compiled entries (``None`` when every entry is zero) and their ``(row,
    column)`` positions in row-major order: what a sparse matrix needs, without compiling (or
    evaluating) the zeros.
    """

    def build(job: _Job) -> tuple[Compiled | None, list[tuple[int, int]]]:
        job.dense = False
        parsed, names, data = _inputs(source, None, wrt, args)
        if kind == "hessian":
            rows = job.back(_hessian_rows(job, parsed[0], names, data))
        else:
            rows = job.back(_jacobian_rows(job, parsed, names, data))
        zero = sympy.S.Zero  # a singleton: every exact zero SymPy builds is this object
        where = [
            (i, j) for i, row in enumerate(rows) for j, entry in enumerate(row) if entry is not zero
        ]
        if not where:
            return None, where
        entries = [rows[i][j] for i, j in where]
        return job.compile(entries, names, f"nonzero {kind} entries", data), where

    return _run(kind, build, limits, choose_engine("auto"))


def _jacobian_rows(
    job: _Job,
    parsed: Sequence[Any],
    names: Sequence[sympy.Symbol],
    data: Sequence[sympy.Symbol],
) -> list[list[Any]]:
    """Row i: the gradient of ``parsed[i]``."""
    fs, xs = job.start(parsed, names, data)
    flat = job.diff([(e, v) for e in fs for v in xs])
    n = len(names)
    return [flat[i * n : (i + 1) * n] for i in range(len(parsed))]


def _hessian_rows(
    job: _Job, parsed: Any, names: Sequence[sympy.Symbol], data: Sequence[sympy.Symbol]
) -> list[list[Any]]:
    """The second partials, each mixed one taken once (i <= j) and mirrored."""
    n = len(names)
    (f,), xs = job.start([parsed], names, data)
    pairs = [(xs[i], xs[j]) for i in range(n) for j in range(i, n)]
    job.foresee(f, pairs, n * n if job.dense else len(pairs))
    grad = job.diff([(f, v) for v in xs], last=False)
    upper = iter(job.diff([(grad[i], xs[j]) for i in range(n) for j in range(i, n)]))
    rows: list[list[Any]] = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            rows[i][j] = rows[j][i] = next(upper)
    return rows


_CACHE: TextCache[Compiled] = TextCache()
#: Parsed inputs of text (SymPy expressions are immutable), shared by the constructors.
_PARSED: TextCache[
    tuple[tuple[sympy.Expr, ...], tuple[sympy.Symbol, ...], tuple[sympy.Symbol, ...]]
] = TextCache()


def clear_cache() -> None:
    """Empty the cache of compiled results that the constructors keep for text inputs.

    ``gradient``, ``jacobian``, ``hessian``, ``laplacian``, ``derivative`` and ``function``
    return the same :class:`Compiled` object when called again with the same text, variables,
    order, limits and symbolic engine (the last 128 results are kept, the least recently used
    dropped first), and share the parsed text between them (the last 128 parses).  Clearing
    both frees their memory; results already returned stay valid.

    Examples
    --------
    >>> clear_cache()
    >>> gradient("x*y") is gradient("x*y")
    True
    >>> cache_info().hits
    1
    """
    _CACHE.clear()
    _PARSED.clear()


def cache_info() -> CacheInfo:
    """The constructors' cache: ``hits``, ``misses`` (results built), ``size`` and ``maxsize``.

    Examples
    --------
    >>> clear_cache()
    >>> _ = function("x + 1"), function("x + 1"), function("x + 2")
    >>> cache_info()
    CacheInfo(hits=1, misses=2, size=2, maxsize=128)
    """
    return _CACHE.info()


def _build(
    call: str, build: Callable[[_Job], Compiled], inputs: object, limits: object, symbolic: object
) -> Compiled:
    """``build`` run as one job, through the cache of text inputs (see :func:`clear_cache`)."""
    engine = choose_engine(symbolic)
    key = (call, inputs, Limits() if limits is None else limits, engine)
    return _CACHE.get(key, lambda: _run(call, build, limits, engine))


def _run(call: str, build: Callable[[_Job], _R], limits: object, engine: str) -> _R:
    """``build`` on ``engine``, numbers times sums kept factored; the fallbacks in order.

    A symengine result holding an unsupported node runs the job again on SymPy.  SymPy itself
    can recurse without end on some nodes built while sums are not distributed (``cos`` of
    ``-x - y``: the minus sign it extracts comes back), so a ``RecursionError`` runs the job
    again on SymPy with SymPy's own distribution (where a coefficient is multiplied into a
    sum).  Each attempt is priced on its own.
    """
    try:
        return _attempt(call, build, limits, engine, factored=True)
    except EngineFallback:
        pass
    except RecursionError:
        return _attempt(call, build, limits, "sympy", factored=False)
    try:
        return _attempt(call, build, limits, "sympy", factored=True)
    except RecursionError:
        return _attempt(call, build, limits, "sympy", factored=False)


def _attempt(
    call: str, build: Callable[[_Job], _R], limits: object, engine: str, *, factored: bool
) -> _R:
    with ExitStack() as stack:
        return build(_Job(call, limits, engine, stack if factored else None))


class _Job:
    """One priced call: differentiation stages and the compilation, against one budget.

    On the symengine engine the expressions are converted once (:meth:`start`) and back once
    (:meth:`back`, before compiling, keeping symengine's products of a number and a sum).  From
    SymPy's first symbolic step on (its first derivative, or the compilation), the job runs with
    SymPy's ``distribute(False)``, entered once on ``factored`` (setting it clears SymPy's
    cache), so a number times a sum stays a product and the compiled code shares the sum.
    """

    def __init__(self, call: str, limits: object, engine: str, factored: ExitStack | None) -> None:
        if limits is None:
            limits = Limits()
        elif not isinstance(limits, Limits):
            msg = f"limits must be a symgrad.Limits (got {type(limits).__name__})"
            raise ConfigError(msg)
        self.budget = Budget(limits, call)
        self.engine = engine
        self.fast: SymengineJob | None = None
        self.done: dict[tuple[Any, Any], Any] = {}
        self.index: dict[Any, dict[Any, list[Any]]] = {}
        #: whether the zero entries are compiled too (not for the sparse entries of for_scipy)
        self.dense = True
        self._factored: ExitStack | None = factored

    def factored(self) -> None:
        """From now on, keep a number times a sum a product (once per job, see the class)."""
        if self._factored is not None:
            self._factored.enter_context(distribute(False))
            self._factored = None

    def start(
        self, exprs: Sequence[Any], names: Sequence[sympy.Symbol], data: Sequence[sympy.Symbol]
    ) -> tuple[list[Any], tuple[Any, ...]]:
        """The parsed expressions and the variables ``names`` in the job's engine.

        On symengine they are converted (once per job); an expression symengine cannot
        represent puts the whole job on SymPy.
        """
        if self.engine == "symengine":
            fast = SymengineJob([*names, *data])
            converted = fast.start(exprs)
            if converted is not None:
                self.fast = fast
                return converted, tuple(fast.symbols[v] for v in names)
            self.engine = "sympy"
        self.factored()
        return list(exprs), tuple(names)

    def symbol(self, var: sympy.Symbol) -> Any:
        """The job engine's symbol for ``var``."""
        return var if self.fast is None else self.fast.symbols[var]

    def diff(self, pairs: list[tuple[Any, Any]], *, last: bool = True) -> list[Any]:
        """``d expr / d var`` for each pair, the new ones priced together before any is taken.

        A sum is differentiated term by term, only the terms that contain the variable
        (SymPy's ``diff`` of a sum, without differentiating the others to zero), and each
        term once for all the entries that need it.  Besides the work, the stage is charged the
        size of its results or, for the ``last`` stage, the estimated work of compiling them, as
        a preview; only the work is kept as spent (the compilation is priced again on the
        actual components).
        """
        todo = [p for p in dict.fromkeys(pairs) if p not in self.done]
        pieces = {(e, v): [(t, v) for t in self._terms_with(e, v)] for e, v in todo}
        new = [q for qs in pieces.values() for q in qs if q not in self.done]
        estimate = derivative_costs(dict.fromkeys(new), self.budget.left)
        zeros = sum(1 for parts in pieces.values() if not parts) if self.dense else 0
        preview = estimate.compiling + entries_cost(zeros) if last else estimate.size // 2
        what = f"differentiating {len(todo)} entr{'y' if len(todo) == 1 else 'ies'}"
        work = engine_work(estimate, self.engine)
        self.budget.charge(work + preview, what, partial=not estimate.complete)
        self.budget.spent -= preview
        if self.fast is None:
            self.factored()
        for expr, var in dict.fromkeys(new):
            self.done[expr, var] = self._derivative(expr, var)
        for pair, parts in pieces.items():
            self.done[pair] = self.total([self.done[q] for q in parts])
        return [self.done[p] for p in pairs]

    def _derivative(self, expr: Any, var: Any) -> Any:
        if self.fast is None:
            return differentiate(expr, [var])
        result = self.fast.diff(expr, var)
        count_nodes(result)
        return result

    def _terms_with(self, expr: Any, var: Any) -> list[Any]:
        """The terms of ``expr`` (a sum's, or itself) that contain ``var``, in order.

        Each expression is indexed once, variable by variable, so that the entries of a
        gradient of n variables cost the size of the sum, not n times it.
        """
        index = self.index.get(expr)
        if index is None:
            index = self.index[expr] = {}
            for term in _terms(expr):
                for symbol in term.free_symbols:
                    index.setdefault(symbol, []).append(term)
        return index.get(var, [])

    def total(self, terms: list[Any]) -> Any:
        """The sum of ``terms`` in the job's engine, size-checked."""
        if len(terms) == 1:
            return terms[0]
        if not terms:  # no term holds the variable (most entries of a sparse Hessian)
            return sympy.S.Zero if self.fast is None else self.fast.zero
        result = sympy.Add(*terms) if self.fast is None else self.fast.add(terms)
        count_nodes(result)
        return result

    def foresee(self, expr: Any, pairs: list[tuple[Any, Any]], entries: int = 1) -> None:
        """Refuse before the first order a second order that is hopeless (see Budget.foresee).

        ``entries`` is how many components will be compiled (a Hessian's n², zeros included).
        """
        guess = second_order_guess(expr, pairs, GUESS_MARGIN * self.budget.left)
        guess += entries_cost(entries)
        self.budget.foresee(guess, f"the second order ({len(pairs)} entries)")

    def back(self, exprs: Any) -> Any:
        """Nested lists of the job's expressions, as SymPy (converted once, on symengine)."""
        if isinstance(exprs, list | tuple):
            return [self.back(e) for e in exprs]
        if self.fast is None or isinstance(exprs, sympy.Basic):
            return exprs
        return self.fast.back(exprs)

    def compile(
        self,
        exprs: Any,
        names: Sequence[sympy.Symbol],
        kind: str,
        data: Sequence[sympy.Symbol] = (),
    ) -> Compiled:
        """Price compiling the components, then compile them."""
        exprs = self.back(exprs)
        self.factored()
        estimate = compile_cost(_leaves(exprs), self.budget.left)
        what = f"compiling the {kind}"
        self.budget.charge(estimate.work, what, partial=not estimate.complete)
        return Compiled(exprs, names, kind=kind, args=data)


def _terms(expr: Any) -> tuple[Any, ...]:
    """The terms of a sum (SymPy's or symengine's), or the expression itself."""
    return tuple(expr.args) if type(expr).__name__ == "Add" else (expr,)


def _one(
    source: Source, variables: VariablesSpec, wrt: NamesSpec, args: NamesSpec, what: str
) -> tuple[sympy.Expr, tuple[sympy.Symbol, ...], tuple[sympy.Symbol, ...]]:
    """:func:`_inputs` for the constructors of one scalar expression (a list of one is fine)."""
    exprs, names, data = _inputs(source, variables, wrt, args)
    if len(exprs) != 1:
        msg = (
            f"{what} takes one expression (got {len(exprs)}); "
            "for several expressions use jacobian or function"
        )
        raise InputError(msg)
    return exprs[0], names, data


def _inputs(
    source: Source | Sequence[Source], variables: VariablesSpec, wrt: NamesSpec, args: NamesSpec
) -> tuple[tuple[sympy.Expr, ...], tuple[sympy.Symbol, ...], tuple[sympy.Symbol, ...]]:
    """:func:`_parse_inputs`, kept for text inputs: a text's gradient and Hessian parse it once."""
    key = ("inputs", source, variables, wrt, args)
    return _PARSED.get(key, lambda: _parse_inputs(source, variables, wrt, args))


def _parse_inputs(
    source: Source | Sequence[Source], variables: VariablesSpec, wrt: NamesSpec, args: NamesSpec
) -> tuple[tuple[sympy.Expr, ...], tuple[sympy.Symbol, ...], tuple[sympy.Symbol, ...]]:
    """Parse ``source`` and split its inputs into the differentiated ones and the data.

    Without ``wrt`` and ``args`` this is :func:`symgrad.expr.resolve` (``variables``, or every
    name written in natural order).  Otherwise an omitted ``wrt`` is every written name not in
    ``args``, an omitted ``args`` every written name not in ``wrt``, and a name in neither is
    an InputError that lists them all.
    """
    if variables is not None and wrt is not None:
        msg = "give wrt= (or its older spelling variables=), not both"
        raise ConfigError(msg)
    if args is None and wrt is None:
        exprs, names = resolve(source, variables)
        return exprs, names, ()
    wanted = _symbols(wrt if wrt is not None else variables)
    data = _symbols(args)
    both = [v.name for v in wanted or () if v in (data or ())]
    if both:
        msg = f"{both} cannot be both differentiated (wrt=) and data (args=)"
        raise InputError(msg)
    exprs, written = resolve(source)
    if wanted is None:
        wanted = tuple(v for v in written if v not in (data or ()))
    if data is None:
        data = () if variables is not None else tuple(v for v in written if v not in wanted)
    unknown = [v.name for v in written if v not in wanted and v not in data]
    if unknown:
        msg = (
            f"the expression uses {unknown}, which {'is' if len(unknown) == 1 else 'are'} "
            f"neither in wrt={[v.name for v in wanted]} nor in args={[v.name for v in data]}"
        )
        raise InputError(msg)
    if not wanted:
        msg = "nothing to differentiate with respect to: wrt= names no variable"
        raise ConfigError(msg)
    _check_variable_count(len(wanted) + len(data))
    if any(v.name in SOFT_CONSTANTS for v in wanted + data):  # "e" declared: a variable now
        exprs, _ = resolve(source, wanted + data)
    return exprs, wanted, data


def _symbols(spec: NamesSpec) -> tuple[sympy.Symbol, ...] | None:
    """Validated symbols of a ``wrt``/``args`` spec; ``x[3]`` means ``x_3``, as in text."""
    if spec is None:
        return None
    if isinstance(spec, str):
        return parse_variables(_indexed_names(spec))
    given: object = spec  # checked at run time whatever the annotation says
    if not isinstance(given, Sequence):
        msg = f"expected variable names such as 'x y' or a sequence (got {type(spec).__name__})"
        raise ConfigError(msg)
    _check_variable_count(len(given))
    items: list[Any] = []
    for item in given:
        items.extend(item if isinstance(item, Sequence) and not isinstance(item, str) else [item])
    _check_variable_count(len(items))
    names = [_indexed_names(x) if isinstance(x, str) else x for x in items]
    return parse_variables(names) if names else ()


def _check_variable_count(n: int) -> None:
    if n > MAX_VARIABLES:
        msg = f"{n} variables given; at most {MAX_VARIABLES} are allowed"
        raise LimitExceeded(msg, limit="too_many_variables", value=n, allowed=MAX_VARIABLES)


def _leaves(exprs: Any) -> Iterator[Any]:
    """The expressions of a nested list, in order."""
    if isinstance(exprs, list | tuple):
        for item in exprs:
            yield from _leaves(item)
    else:
        yield exprs


def _expand_wrt(
    wrt: Sequence[str | int | sympy.Symbol],
    names: Sequence[sympy.Symbol],
    data: Sequence[sympy.Symbol] = (),
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
                why = " is data (args=); " if var in data else ": "
                msg = f"cannot differentiate with respect to {var}{why}the variables are {list(names)}"
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
    for match in re.finditer(r"[^\s,]+", _indexed_names(text)):
        yield symbol(match.group())


def _indexed_names(text: str) -> str:
    """``x[3]`` written as the variable it means, ``x_3`` (as the parser reads it)."""
    return _INDEXED.sub(lambda m: f"{m[1]}_{int(m[2])}", text)
