"""The symbolic engines of a derive job: SymPy, or symengine when it is installed.

symengine (the ``fast`` extra) differentiates in C++, about 20-50 times faster than SymPy.  A job
on the symengine engine converts its parsed SymPy expression to symengine once, takes every
derivative there (a Hessian's second order from the symengine gradient), and converts the results
back to SymPy once, for :class:`~symgrad.derive.Compiled` and the exact ``.at()`` values.

symengine is used only where its results are SymPy's: the expression may hold only the nodes
listed in ``_FUNCTIONS`` and ``_NODES`` below (sums, products, powers, exact rationals, ``pi``,
``E``, the elementary functions but ``acosh``, and ``erf``, ``erfc``, ``gamma``, ``loggamma``, ``beta``,
``atan2``).  Anything else (``abs``, ``sign``, ``min``, ``max``, ``Heaviside``, the Bessel
functions, which symengine wraps as opaque Python functions whose derivative it takes as 0, or a
floating-point number, which symengine would round; the parser makes every number exact) sends the whole job to SymPy before any work;
a result holding a node outside the list (an unevaluated ``Derivative``) does the same after it,
and the job is priced and run again on SymPy.  So the two engines give equal derivatives (tests
compare them on a catalogue of expressions), differing at most in the form SymPy prints.

Converting back, the symbols are the job's own (real) SymPy symbols, matched by name, and shared
subexpressions are converted once.  A product of a number and a sum stays one, as symengine keeps
it (``2*(x + 2*y)``, not ``2*x + 4*y``), so that the compiled code can share the sum; it is built
unevaluated rather than under SymPy's ``distribute(False)``, which makes SymPy recurse without
end on some function arguments (``cos(1 - x - y)``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sympy

from symgrad.derive._trees import bottom_up
from symgrad.errors import ConfigError

__all__ = ["SYMBOLIC", "EngineFallback", "SymengineJob", "choose_engine", "symengine_module"]

#: The values of the ``symbolic=`` keyword.
SYMBOLIC = ("auto", "sympy", "symengine")

_Expr = Any  # neither SymPy nor symengine ships type information

#: symengine's function classes (by name) whose SymPy counterpart has the same name and meaning.
#: Not ``acosh``: symengine's derivative 1/sqrt(u**2 - 1) is real for u < -1, where acosh is not
#: (SymPy's 1/(sqrt(u - 1)*sqrt(u + 1)) is NaN there, as the function is).
_FUNCTIONS = frozenset(
    [
        "sin",
        "cos",
        "tan",
        "cot",
        "sec",
        "csc",
        "asin",
        "acos",
        "atan",
        "sinh",
        "cosh",
        "tanh",
        "asinh",
        "atanh",
        "log",
        "erf",
        "erfc",
        "gamma",
        "loggamma",
        "polygamma",
        "beta",
        "atan2",
    ]
)
#: Other symengine node classes a job may hold: converted by the rules of ``_back``.
_NODES = frozenset(
    [
        "Add",
        "Mul",
        "Pow",
        "Symbol",
        "Integer",
        "Rational",
        "Half",  # symengine's (and SymPy's) class of 1/2: x**(3/2), sqrt(2)*x
        "Zero",
        "One",
        "NegativeOne",
        "Pi",
        "Exp1",
        "EulerGamma",
    ]
)


class EngineFallback(Exception):
    """A symengine result holds a node outside the supported list: run the job on SymPy."""


def symengine_module() -> Any | None:
    """The ``symengine`` module, or ``None`` when it is not installed."""
    try:
        return importlib.import_module("symengine")
    except ImportError:
        return None


def choose_engine(symbolic: object) -> str:
    """The engine a ``symbolic=`` keyword asks for: ``"sympy"`` or ``"symengine"``.

    ``"auto"`` is symengine when it is importable, SymPy otherwise; ``"symengine"`` without
    symengine installed is a ``ConfigError``.
    """
    if not isinstance(symbolic, str) or symbolic not in SYMBOLIC:
        msg = f"symbolic must be one of {', '.join(map(repr, SYMBOLIC))} (got {symbolic!r})"
        raise ConfigError(msg)
    if symbolic == "sympy":
        return "sympy"
    if symengine_module() is not None:
        return "symengine"
    if symbolic == "symengine":
        msg = (
            "symbolic='symengine' needs the symengine package: pip install 'symgrad[fast]' "
            "(or use symbolic='auto', which falls back to SymPy)"
        )
        raise ConfigError(msg)
    return "sympy"


class SymengineJob:
    """The symengine side of one job: the conversions both ways and the derivatives.

    Parameters
    ----------
    symbols : sequence of sympy.Symbol
        The job's variables and data; results are converted back to exactly these symbols.
    """

    def __init__(self, symbols: Sequence[sympy.Symbol]) -> None:
        se = symengine_module()
        if se is None:  # pragma: no cover - choose_engine checked it
            msg = "symengine is not installed"
            raise ConfigError(msg)
        self._se = se
        self._by_name = {s.name: s for s in symbols}
        self.symbols = {s: se.Symbol(s.name) for s in symbols}
        self._memo: dict[_Expr, _Expr] = {}
        self.zero = se.Integer(0)
        self._checked: set[_Expr] = set()

    def start(self, exprs: Iterable[_Expr]) -> list[_Expr] | None:
        """The SymPy expressions in symengine, or ``None`` if one holds an unsupported node.

        Converted node by node from the tree (shared parts once): sums, products, powers,
        exact rationals, ``pi``, ``E``, the job's symbols and the functions of ``_FUNCTIONS``
        (and ``exp``); any other node makes the job SymPy's.
        """
        memo: dict[_Expr, _Expr] = {}
        converted = []
        for expr in exprs:
            if not bottom_up(expr, memo, self._forward):
                return None
            converted.append(memo[expr])
        return converted

    def _forward(self, node: _Expr, args: list[_Expr]) -> _Expr | None:
        """One SymPy node in symengine, from its converted arguments (None: unsupported)."""
        se = self._se
        if isinstance(node, sympy.Symbol):
            return self.symbols.get(node)
        if isinstance(node, sympy.Rational):
            return se.Rational(int(node.p), int(node.q))
        name = type(node).__name__
        if isinstance(node, sympy.Add | sympy.Mul | sympy.Pow):
            return getattr(se, name)(*args)
        if node is sympy.pi or node is sympy.E:
            return se.pi if node is sympy.pi else se.E
        if name in _FUNCTIONS or name == "exp":
            return getattr(se, name)(*args)
        return None

    def diff(self, expr: _Expr, var: _Expr) -> _Expr:
        """``d expr / d var`` in symengine (``var`` a symengine symbol of :attr:`symbols`)."""
        result = expr.diff(var)
        if not self._supported(result):
            raise EngineFallback
        return result

    def add(self, terms: Sequence[_Expr]) -> _Expr:
        """The sum of symengine ``terms``."""
        return self._se.Add(*terms)

    def back(self, expr: _Expr) -> sympy.Expr:
        """A symengine expression as SymPy, over the job's own symbols (shared parts once)."""
        if not bottom_up(expr, self._memo, self._node):
            raise EngineFallback
        return self._memo[expr]

    def _node(self, node: _Expr, args: list[sympy.Expr]) -> sympy.Expr:
        name = type(node).__name__
        builder = _BUILDERS.get(name)
        if builder is not None:
            return builder(*args)
        if name == "Symbol":
            return self._by_name[str(node)]
        if name in _FUNCTIONS:
            return getattr(sympy, name)(*args)
        return node._sympy_()  # numbers and constants

    def _supported(self, expr: _Expr) -> bool:
        """Whether every distinct node of ``expr`` is one ``back`` converts faithfully.

        Nodes already checked in this job (shared by its derivatives) are not visited again.
        """
        seen = self._checked
        stack = [expr]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            name = type(node).__name__
            if name not in _FUNCTIONS and name not in _NODES:
                return False
            if name == "Symbol" and str(node) not in self._by_name:
                return False
            stack.extend(node.args)
        return True


def _product(*factors: sympy.Expr) -> sympy.Expr:
    """A product as SymPy builds it, except that a number times a sum stays factored.

    SymPy would multiply the number into the sum (``2*(x + y)`` as ``2*x + 2*y``); symengine
    keeps it, and so does this, without changing SymPy's global ``distribute`` setting.
    """
    numbers = [f for f in factors if f.is_Number]
    if not numbers or not any(isinstance(f, sympy.Add) for f in factors):
        return sympy.Mul(*factors)
    coefficient = sympy.Mul(*numbers)
    others = sympy.Mul(*(f for f in factors if not f.is_Number))
    if coefficient == 1 or not isinstance(others, sympy.Add | sympy.Mul):
        return sympy.Mul(coefficient, others)
    return sympy.Mul(coefficient, *sympy.Mul.make_args(others), evaluate=False)


_BUILDERS: dict[str, Callable[..., sympy.Expr]] = {
    "Add": sympy.Add,
    "Mul": _product,
    "Pow": sympy.Pow,
}
