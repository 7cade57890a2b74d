"""The one place where generated code is executed: SymPy expressions printed and lambdified.

``lambdify`` only ever sees SymPy objects built by :mod:`symgrad.expr._parse`, whose symbol names
are validated identifiers, and the modules it may call are always given explicitly.  Variables
whose names the generated code uses for functions or constants get private argument names.

Step functions are printed through ``sign``: ``Heaviside(a)`` becomes ``(1 + sign(a))/2``, which
is 0 for a < 0, 1 for a > 0, 1/2 at a = 0 (SymPy's convention, which symgrad's derivatives use:
the mean of the one-sided slopes of a kink) and NaN for a NaN, exactly in floating point.  A
SymPy input's ``Heaviside(a, h0)`` with another value at 0 calls a placeholder (``np.heaviside``).  SymPy's own NumPy printer rewrites
``Heaviside(x0 - Max(x1, ..., xk))``, the derivative of a ``max``, into a ``Piecewise`` and
simplifies its conditions with ``simplify_logic``, about 0.4 s per argument of the ``max``: the
gradient of a ``max`` of 16 arguments took two minutes to compile.  ``sign`` prints as one call.

``min`` and ``max`` are printed through placeholder functions without SymPy semantics
(``_symgrad_min``, ``_symgrad_max``; no variable can have these names): common subexpression
elimination rebuilds every function node it visits, and rebuilding a ``Max`` of m arguments
compares them pairwise (measured 0.26 s for each of the 16 ``Max`` of 15 arguments in that
gradient).  The placeholders compute what SymPy prints for them: ``reduce(maximum, ...)`` in
NumPy (a NaN argument gives NaN) and Python's ``max``/``min`` of mpmath numbers.

The special functions (erf, erfc, gamma, loggamma, beta, besselj, bessely, and the polygamma of
their derivatives) compile to NumPy through ``scipy.special`` (the ``special`` extra; without
SciPy, compiling one raises `MissingExtra`) and to mpmath through the private context's own
functions.  ``loggamma`` is SciPy's ``loggamma``, NaN for x < 0 where SymPy's is complex (SciPy's
``gammaln``, which SymPy's printer names, is log|Γ(x)|: a real number where there is none).
SciPy's Bessel functions, beta and polygamma refuse complex arguments (`UnsupportedError`):
their complex values are wrong at the float64 complex step's imaginary parts, or missing.

Exact constants beyond float64's range (the second derivative of ``sin(1e300*x)`` has the
coefficient 10**600, ``x/1e-300/1e-300`` has 10**600) are printed for NumPy so that the float64
code computes what float64 arithmetic with a wider exponent would.  A coefficient ``c = m*2**e``
of a product ``c*y`` becomes ``_symgrad_scaled(y, m, e)``: for ``c > 1``, ``ldexp(y, e)*m``
with ``1 <= |m| < 2`` (an exact scaling that overflows only where ``c*y`` does, then one
rounding: the correctly rounded ``c*y``); for ``c < 1``, ``ldexp(y*m, e)`` with
``1/2 <= |m| < 1`` (``y*m`` cannot overflow, and the scaling rounds a second time only into
the subnormals).  So ``10**600 * 1e-300`` is 1e300 rather than ``inf*1e-300``, and it is inf
or 0 exactly where float64 overflows or underflows.  Any other constant too large for float64
(a term of a sum, an exponent, a function's argument) is ``inf`` with its sign
(``_symgrad_overflow``), the IEEE value of rounding it; tiny ones already print as Python's
correctly rounded quotient ``p/q``.  (SymPy prints them as Python integers, on which NumPy
raised ``OverflowError``.)  The mpmath code keeps the exact integers.

Compound constants are folded before that, for float64 code only: ``sin(10**20)``, ``pi/3`` or
``sqrt(2)`` become their values rounded once to a 53-bit significand, as an exact rational; the
constant factors of a product are folded together, so ``exp(800)*10**-300`` is the normal
number 2.7e47.  A constant whose value lies beyond float64's normal range is left as written
and NumPy computes it (``exp(745)`` is inf): scaled into a product, it would multiply a factor
that may itself have underflowed (``exp(x - 745)*exp(745)`` gave a finite, wrong value where
inf shows that float64 cannot compute it).  Computed by NumPy,
``sin(10**20)`` was a call on a Python integer beyond int64 (refused by NumPy) and ``sin(1e23)``
the sine of the double nearest 10**23, off by O(1) from the exact constant that ``.at()``
evaluates; ``pi/3`` was two roundings.

Powers of sums of squares are scaled in float64 code (the mpmath code, with its unbounded
exponents, keeps them as written).  ``x/sqrt(x**2 + y**2)``, the gradient of a norm, was 0 at
x = y = 1e200 (the squares overflow) and inf at 1e-300 (they underflow) where the value is
1/sqrt(2); ``asinh``'s ``1/sqrt(x**2 + 1)`` was 0 from 1.3e154.  A sum S whose every term is
``c*b**2`` or a constant c (any signs, any number of terms) is computed as ``S = s * 4**-j``,
with j the power of two that brings the largest ``|b|*sqrt(|c|)`` into [1/2, 1)
(``_symgrad_exponent``, from ``frexp``'s exponents, so nothing is multiplied that could
overflow) and ``s = sum(c*ldexp(b, j)**2)``: the terms of s are at most |c|, the largest is
at least |c|/4, and no square leaves float64's range unless its share of s is below 2**-1000.
A power ``S**p`` with 2p an integer and p not a positive integer (square roots, their
reciprocals and odd powers, ``1/S``) is ``ldexp(s**p, -2p*j)``; a product holding one is
computed as mantissas and one exponent: each other factor ``v`` as ``ldexp(v, -e)`` with e
its ``frexp`` exponent (an integer power ``b**n`` as the mantissa of b to the n, a rational
split exactly), the exponents summed, and one ``ldexp`` at the end, so no partial product
(``x*y`` in ``-x*y/(x**2 + y**2 + z**2)**(3/2)``, ``x**2`` in the norm's Hessian) leaves the
range where the whole value is a normal number.  Scaling by powers of two is exact: where no
intermediate was outside the normal range before, the values are the same bit for bit (NumPy:
measured on 4000 points of magnitudes 1e-5..1e5 for five such derivatives, no bit differs).
Other powers (``(x**2 + 1)**(1/3)``), sums with other terms (``x**2 + x``) or squares of
products (``(x*y)**2``) are compiled as written.  ``_symgrad_exponent`` and
``_symgrad_ldexp`` are NumPy functions (``ldexp`` on complex values part by part, for the
complex step), so numexpr and symengine hand these statements to NumPy.
"""

from __future__ import annotations

import builtins
import functools
import itertools
import keyword
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy

from symgrad.derive._extras import scipy_modules, short
from symgrad.derive._trees import bottom_up
from symgrad.errors import LimitExceeded, UnsupportedError

__all__ = ["lambdify_exprs"]


def _printed_names() -> frozenset[str]:
    """Names the generated code may use for functions and constants (``e`` is Euler's number).

    A variable with one of these names would shadow it inside the generated function (``e*E``
    would compute ``e*e``), so such variables get a private argument name.
    """
    names = set(dir(np)) | set(dir(mpmath)) | set(dir(builtins)) | set(keyword.kwlist)
    scipy_names = {"jv", "yv", "gammaln", "loggamma", "polygamma", "psi", "special"}
    return frozenset(names | scipy_names | {"numpy", "mpmath", "math", "scipy"})


_PRINTED_NAMES = _printed_names()


def lambdify_exprs(variables: Sequence[sympy.Symbol], exprs: list[sympy.Expr], target: Any) -> Any:
    """The single lambdify call site (see module docstring), with errors made ours.

    The common subexpressions are taken out first (:func:`tree_cse`), and the rewriting for
    printing (private names, steps through ``sign``, min/max placeholders, float64's range)
    is applied to each statement: a rewrite of every whole expression would walk a shared sum
    once per component (quadratic for a dense gradient: 2.5 of its 3.8 s).
    """
    # the parser never makes names with a leading underscore, so these cannot collide
    private = {
        v: sympy.Symbol("_" + v.name, real=True) for v in variables if v.name in _PRINTED_NAMES
    }
    variables = [private.get(v, v) for v in variables]

    def rewritten(expr: Any) -> Any:
        expr = expr.xreplace(private) if private else expr
        return float_printable(expr) if target == "numpy" else _printable(expr)

    try:
        statements, outputs = tree_cse(exprs, float64=target == "numpy")
        statements = [(symbol, rewritten(e)) for symbol, e in statements]
        outputs = [rewritten(e) for e in outputs]
    except RecursionError as exc:
        msg = "the expression is too large or deep to compile; simplify it"
        raise LimitExceeded(msg, limit="expression_too_large") from exc
    if target == "numpy":
        pieces = [*outputs, *(e for _, e in statements)]
        modules: list[Any] = [dict(_NUMPY_EXTREMES), *scipy_modules(pieces), "numpy"]
    else:
        namespace = {n: getattr(target, n) for n in dir(target) if not n.startswith("_")}
        modules = [namespace | _PYTHON_EXTREMES, "mpmath"]

    def prepared(_: Any) -> tuple[list[tuple[sympy.Symbol, Any]], list[Any]]:
        return statements, outputs

    try:
        return sympy.lambdify(variables, outputs, modules=modules, cse=prepared, docstring_limit=0)
    except (RecursionError, MemoryError) as exc:
        msg = "the expression is too large or deep to compile; simplify it"
        raise LimitExceeded(msg, limit="expression_too_large") from exc
    except (SyntaxError, NameError, TypeError, NotImplementedError) as exc:
        msg = f"cannot compile {short(str(exprs))}: {exc}"
        raise UnsupportedError(msg) from exc


_PLACEHOLDERS = {
    sympy.Max: sympy.Function("_symgrad_max"),
    sympy.Min: sympy.Function("_symgrad_min"),
}
_STEP = sympy.Function("_symgrad_step")


def _mp_step(arg: Any, at_zero: Any) -> Any:
    """Heaviside of an mpmath number: 0, ``at_zero`` at 0, 1; NaN for NaN."""
    if arg != arg:  # noqa: PLR0124 (NaN is the one value unequal to itself)
        return arg
    return 0 if arg < 0 else at_zero if arg == 0 else 1


def _np_scaled(value: Any, mantissa: float, exponent: int) -> Any:
    """``value * mantissa * 2**exponent`` rounded as float64 (see the module docstring)."""
    if np.iscomplexobj(value):  # part by part: ldexp takes real numbers, and a complex
        scaled = np.array(value)  # product would make inf*0 = NaN of an infinite part
        scaled.real = _np_scaled(scaled.real, mantissa, exponent)
        scaled.imag = _np_scaled(scaled.imag, mantissa, exponent)
        return scaled[()]
    if exponent > 0:  # exact scaling up, then one rounding; 1 <= |mantissa| < 2
        return np.ldexp(value, exponent) * mantissa
    return np.ldexp(value * mantissa, exponent)  # 1/2 <= |mantissa| < 1: cannot overflow


def _np_ldexp(value: Any, exponent: Any) -> Any:
    """``value * 2**exponent``, exactly where it is a normal number (a complex value part by part)."""
    if np.iscomplexobj(value):
        scaled = np.array(value)
        scaled.real = np.ldexp(scaled.real, exponent)
        scaled.imag = np.ldexp(scaled.imag, exponent)
        return scaled[()]
    return np.ldexp(np.asarray(value, dtype=np.float64), exponent)  # an int would be float16


def _np_exponent(*pairs: Any) -> Any:
    """The j with ``max(|r| * 2**o) * 2**j`` in [1/2, 1) over the pairs ``r, o`` of a root and
    the binary exponent of its coefficient's square root.

    The roots with o = 0 are compared as numbers (``frexp`` of the largest |r|); the others by
    their exponents, ``frexp``'s plus o, so that ``r * 2**o`` is never formed and cannot
    overflow (a zero among them counts as nothing).  Where every root is 0, NaN or infinite,
    the scaled sum is what the unscaled one was: 0, NaN or inf.
    """
    roots, offsets = pairs[::2], pairs[1::2]
    if len(roots) == 1 and not offsets[0]:
        return -np.frexp(np.abs(roots[0]))[1]  # |r|: a complex value's modulus
    plain = [np.abs(r) for r, o in zip(roots, offsets, strict=True) if not o]
    exponents = [np.frexp(functools.reduce(np.maximum, plain))[1]] if plain else []
    exponents += [
        np.where(r == 0, -_EXPONENT_CAP, np.frexp(np.abs(r))[1] + o)
        for r, o in zip(roots, offsets, strict=True)
        if o
    ]
    return -functools.reduce(np.maximum, exponents)


_NUMPY_EXTREMES = {
    "_symgrad_ldexp": _np_ldexp,
    "_symgrad_exponent": _np_exponent,
    "_symgrad_max": lambda *args: functools.reduce(np.maximum, args),
    "_symgrad_min": lambda *args: functools.reduce(np.minimum, args),
    "_symgrad_step": np.heaviside,
    "_symgrad_scaled": _np_scaled,
    "_symgrad_overflow": lambda sign: np.float64(sign) * np.inf,
    "_symgrad_float": float,  # Python's conversion of an int rounds correctly
}
_PYTHON_EXTREMES: dict[str, Callable[..., Any]] = {
    "_symgrad_max": builtins.max,
    "_symgrad_min": builtins.min,
    "_symgrad_step": _mp_step,
}


def _printable(expr: Any) -> Any:
    """``expr`` with ``Heaviside`` through ``sign`` and min/max as placeholders (see above)."""
    if not isinstance(expr, sympy.Basic) or not expr.has(sympy.Heaviside, sympy.Min, sympy.Max):
        return expr
    return expr.replace(lambda e: isinstance(e, _REWRITTEN), _rewrite)  # bottom-up


_REWRITTEN = (sympy.Heaviside, sympy.Min, sympy.Max)


def _rewrite(node: Any) -> Any:
    if isinstance(node, sympy.Heaviside):
        return _heaviside_as_sign(*node.args)
    return _PLACEHOLDERS[type(node)](*node.args)


def _heaviside_as_sign(arg: Any, at_zero: Any = sympy.S.Half) -> Any:
    """``Heaviside(arg, at_zero)`` through ``sign(arg)``: exact in floating point (0, 1/2, 1).

    Another value at 0 (a SymPy input's ``Heaviside(x, 1/3)``) is the placeholder
    ``_symgrad_step``: a formula in ``sign`` would round (1/3 - 1/2 + 1/6 is not 0 in float64).
    """
    if at_zero != sympy.S.Half:
        return _STEP(arg, at_zero)
    sign = sympy.sign(arg, evaluate=False)  # its evaluation would ask the sign of a max: costly
    return (1 + sign) / 2


_SCALED = sympy.Function("_symgrad_scaled")
_OVERFLOW = sympy.Function("_symgrad_overflow")
#: The smallest positive normal float64, 2**-1022: below it a float64 constant loses bits.
_TINY = sympy.Rational(1, 2**1022)
#: Beyond this power of two every nonzero float64 overflows or underflows (``ldexp`` takes an
#: int32 exponent).
_EXPONENT_CAP = 1 << 16


def _float_range(expr: Any) -> Any:
    """``expr`` with its exact constants beyond float64's range printable (see module docstring).

    Integers beyond int64 that remain (an exponent, an argument the constant folding could not
    evaluate) become floats through ``_symgrad_float``: NumPy makes an object array of such a
    Python integer, which its functions refuse.
    """
    if not isinstance(expr, sympy.Basic) or not any(
        _outside(n) or _beyond_int64(n) for n in expr.atoms(sympy.Rational)
    ):
        return expr
    expr = expr.replace(_scaled_product, _as_scaled)  # bottom-up: inner products first
    wide = {
        n: _OVERFLOW(sympy.sign(n)) if _overflows(n) else _FLOAT(n)
        for n in expr.atoms(sympy.Rational)
        if _overflows(n) or _beyond_int64(n)
    }
    return expr.xreplace(wide)


def _beyond_int64(number: sympy.Rational) -> bool:
    return bool(number.q == 1 and abs(number.p) >= _INT64)


_INT64 = 1 << 63
_FLOAT = sympy.Function("_symgrad_float")


def _fold_constants(expr: Any) -> Any:
    """``expr`` with each compound constant (``sin(10**20)``, ``pi/3``, ``sqrt(2)``) replaced by
    its value rounded to float64's 53-bit significand, as an exact rational (see module docstring).

    The largest constant subtrees are evaluated whole (by SymPy's ``evalf`` at 30 digits, refused
    past 400 working digits), so a value is rounded once.  A constant that cannot be evaluated
    to a real number (a placeholder inside, an argument too large) is left as it is and its
    operands are folded instead; one that is certainly not real (``I*pi``, in the derivative of
    ``(-2)**x``) is NaN, as every value outside the real domain is in float64 code.
    """
    if not isinstance(expr, sympy.Expr) or expr.is_Atom:
        return expr
    constant: dict[Any, bool] = {}
    folded: dict[Any, Any] = {}

    def is_constant(node: Any) -> bool:
        known = constant.get(node)
        if known is None:
            if node.is_Atom:
                known = not isinstance(node, sympy.Symbol)
            else:
                known = isinstance(node, sympy.Expr) and all(is_constant(a) for a in node.args)
            constant[node] = known
        return known

    def fold(node: Any) -> Any:
        known = folded.get(node)
        if known is None and is_constant(node) and node.is_extended_real is False:
            known = folded[node] = sympy.nan  # log(-2) = log(2) + I*pi: no real value
        if known is None:
            known = _float_value(node) if is_constant(node) and not node.is_Atom else None
            if known is None:
                known = node if node.is_Atom else _fold_operands(node)
            folded[node] = known
        return known

    def _fold_operands(node: Any) -> Any:
        args = node.args
        if isinstance(node, sympy.Mul | sympy.Add):  # its constant operands as one number
            numbers = [a for a in args if is_constant(a)]
            if len(numbers) > 1 or (numbers and not isinstance(numbers[0], sympy.Rational)):
                value = _float_value(node.func(*numbers))
                if value is not None:
                    args = (value, *(a for a in args if not is_constant(a)))
        if isinstance(node, sympy.Expr):
            args = tuple(fold(a) for a in args)
        if all(a is b for a, b in zip(args, node.args, strict=False)) and len(args) == len(
            node.args
        ):
            return node
        return _unevaluated(node, args)

    return fold(expr)


def _float_value(node: Any) -> sympy.Rational | None:
    """The constant ``node`` rounded to 53 significant bits, or None where it is not real."""
    try:
        value = node.evalf(30, maxn=400, strict=True)
    except (ArithmeticError, ValueError, TypeError, RecursionError, sympy.PrecisionExhausted):
        return None
    if not isinstance(value, sympy.Float) or not value.is_finite:
        return None
    sign, man, exp, bits = mpmath.libmp.mpf_pos(value._mpf_, 53, mpmath.libmp.round_nearest)
    if not man:
        return sympy.S.Zero
    if not _MIN_NORMAL_EXPONENT <= exp + bits <= _MAX_EXPONENT:
        return None  # beyond float64's normal range: left to NumPy (see the module docstring)
    return sympy.Rational(-int(man) if sign else int(man)) * sympy.Rational(2) ** int(exp)


#: A double's binary exponent range: 2**-1022 <= |v| < 2**1024 (v = man * 2**exp with
#: 2**(bits-1) <= man < 2**bits, so |v| < 2**(exp + bits) and |v| >= 2**(exp + bits - 1)).
_MIN_NORMAL_EXPONENT = -1021
_MAX_EXPONENT = 1024


def _overflows(number: sympy.Rational) -> bool:
    """Whether the exact ``number`` rounds to an infinity in float64."""
    try:
        number.p / number.q  # Python's int division rounds correctly (SymPy's float() gives inf)
    except OverflowError:
        return True
    return False


def _outside(number: sympy.Rational) -> bool:
    """Whether ``number`` is nonzero and overflows or is subnormal or 0 in float64."""
    return number != 0 and (_overflows(number) or abs(number) < _TINY)


def _scaled_product(node: Any) -> bool:
    if not isinstance(node, sympy.Mul):
        return False
    coefficient, _ = node.as_coeff_Mul()
    return isinstance(coefficient, sympy.Rational) and _outside(coefficient)


def _as_scaled(node: sympy.Mul) -> Any:
    """``c*y`` as ``_symgrad_scaled(y, m, e)`` with ``c = m*2**e`` (see ``_np_scaled``)."""
    coefficient, rest = node.as_coeff_Mul()
    p, q = abs(coefficient.p), coefficient.q
    exponent = p.bit_length() - q.bit_length()  # 2**(e-1) < p/q < 2**(e+1)
    if sympy.Rational(p, q) < sympy.Integer(2) ** exponent:
        exponent -= 1  # now 2**e <= p/q < 2**(e+1)
    if exponent < 0:
        exponent += 1  # a coefficient below 1 takes 1/2 <= |m| < 1
    mantissa = coefficient / sympy.Integer(2) ** exponent
    exponent = max(-_EXPONENT_CAP, min(_EXPONENT_CAP, exponent))
    return _SCALED(rest, mantissa, exponent)


def float_printable(expr: Any) -> Any:
    """``expr`` as the float64 code computes it: steps through ``sign``, min/max placeholders,
    compound constants folded to float64 values, and constants beyond float64's range scaled or
    infinite (see the module docstring)."""
    return _float_range(_fold_constants(_printable(expr)))


def tree_cse(
    exprs: Sequence[Any], *, float64: bool = True
) -> tuple[list[tuple[sympy.Symbol, Any]], list[Any]]:
    """Common subexpressions as temporaries, found in one pass over the expression trees.

    Every compound subexpression that occurs more than once becomes a temporary (``_cse0``,
    ``_cse1``, ...), defined after the temporaries it uses; the result has the signature of
    ``sympy.cse``, whose place it takes in :func:`lambdify_exprs`.  Unlike ``sympy.cse`` it does
    not search for sums and products that share only some of their terms (that search is
    quadratic in the terms: 4.4 s for the gradient of a dense quadratic form in 200 variables,
    against 0.05 s here), and it rebuilds the trees without evaluation, so a factored linear form
    ``2*(x0 + 2*x1 + ...)`` stays one shared sum instead of being distributed.  Each distinct
    subtree is visited once, so the work is linear in the size of the expression DAG.

    Each node is written in a form that keeps its digits in float64 (:class:`_Stable`); the
    powers of sums of squares only for float64 code (``float64``): mpmath's exponent range is
    unbounded.
    """
    counts: dict[Any, int] = {}
    order: list[Any] = []  # post-order: a node after everything below it
    taken: set[str] = set()  # the names of the symbols met (free_symbols per output: quadratic)
    stack: list[tuple[Any, bool]] = [(e, False) for e in reversed(exprs)]
    while stack:
        node, finished = stack.pop()
        if finished:
            order.append(node)
        elif _compound(node):
            if node in counts:
                counts[node] += 1
                continue
            counts[node] = 1
            stack.append((node, True))
            stack.extend((a, False) for a in reversed(node.args))
        elif isinstance(node, sympy.Symbol):
            taken.add(node.name)
        elif isinstance(node, sympy.Basic):  # a Piecewise condition, left whole
            taken.update(s.name for s in node.free_symbols)
    fresh = (n for n in (f"_cse{k}" for k in itertools.count()) if n not in taken)
    replacements: list[tuple[sympy.Symbol, Any]] = []

    def temporary(expr: Any) -> sympy.Symbol:
        symbol = sympy.Symbol(next(fresh), real=True)
        replacements.append((symbol, expr))
        return symbol

    stable = _Stable(temporary, scaled=float64)
    built = stable.built
    for node in order:
        new = stable(node)
        if new is None:
            args = tuple(built.get(a, a) for a in node.args)
            new = node if args == node.args else _unevaluated(node, args)
        if counts[node] > 1:  # a scaled value is shared unscaled: a product takes its exponent
            new = _LDEXP(temporary(new.args[0]), new.args[1]) if _is_ldexp(new) else temporary(new)
        built[node] = new
    outputs = [built.get(e, e) for e in exprs]
    if stable.scales:  # a shared sum of squares that only scaled powers used is not computed
        replacements = _needed(replacements, outputs)
    return replacements, outputs


def _needed(
    statements: list[tuple[sympy.Symbol, Any]], outputs: list[Any]
) -> list[tuple[sympy.Symbol, Any]]:
    """The statements that the outputs use, directly or through other statements, in order."""
    used: set[Any] = set()
    for e in outputs:
        used |= e.free_symbols if isinstance(e, sympy.Basic) else set()
    kept = []
    for symbol, expr in reversed(statements):
        if symbol in used:
            kept.append((symbol, expr))
            used |= expr.free_symbols
    return kept[::-1]


#: ``_symgrad_ldexp(v, e)`` is ``v * 2**e``, exactly (one rounding into the subnormals).
_LDEXP = sympy.Function("_symgrad_ldexp")
#: ``_symgrad_exponent(a, oa, b, ob, ...)`` is the j with ``max(|a|*2**oa, ...) * 2**j`` in
#: [1/2, 1).
_EXPONENT = sympy.Function("_symgrad_exponent")


def _is_ldexp(node: Any) -> bool:
    return isinstance(node, sympy.Function) and node.func == _LDEXP


@dataclass(frozen=True)
class _Scale:
    """A sum of squares S written ``S = s * 4**-j``: the temporaries j and s."""

    j: sympy.Symbol
    s: sympy.Symbol


#: Integer powers ``b**n`` of a product taken as ``mantissa(b)**n`` up to this |n| (a mantissa
#: is at least 1/2, so its power stays a normal number).
_MAX_SPLIT_POWER = 512


class _Stable:
    """The per-node rewrites of one :func:`tree_cse` pass (see the module docstring).

    ``built`` maps each node visited to its rewritten form; ``scales`` each sum of squares
    already scaled to its :class:`_Scale`, shared by all its powers; ``temporary`` makes a
    statement of an expression and returns its symbol.
    """

    def __init__(self, temporary: Callable[[Any], sympy.Symbol], *, scaled: bool) -> None:
        self.built: dict[Any, Any] = {}
        self.scales: dict[Any, _Scale] = {}
        self._mantissas: dict[Any, tuple[Any, Any]] = {}  # each factor split (see _mantissa)
        self._temporary = temporary
        self._scaled = scaled

    def _of(self, node: Any) -> Any:
        return self.built.get(node, node)

    def __call__(self, node: Any) -> Any:
        """``node`` written as float64 keeps its digits, from its operands as built, or None.

        Two forms the derivative rules produce lose them.  ``1 - tanh(u)**2`` (the derivative
        of tanh) cancels where |tanh u| is near 1 (3e-7 relative error at u = 12, 0 from u = 19
        on): it is written ``cosh(u)**-2``.  ``exp(u)/(exp(u) + 1)`` (the derivative of
        log(1 + exp(u)): softplus, the logistic loss) is inf/inf = NaN from u = 710 on: it is
        written ``1/(1 + exp(-u))``, whose condition is at most 1.  The same values, exactly.
        Powers of sums of squares are scaled (:meth:`_power`) and products holding one are
        computed as mantissas and one exponent (:meth:`_product`).
        """
        if isinstance(node, sympy.Add):
            u = _sech_squared_of(node)
            if u is not None:
                return sympy.Pow(sympy.cosh(self._of(u)), -2, evaluate=False)
        elif isinstance(node, sympy.Mul):
            pair = _logistic_pair(node)
            if pair is not None:
                e, factor = pair
                u = self._of(e.args[0])
                rest = [self._of(a) for a in node.args if a is not e and a is not factor]
                logistic = sympy.Pow(1 + sympy.exp(-u), -1, evaluate=False)
                return sympy.Mul(*rest, logistic, evaluate=False) if rest else logistic
            return self._product(node) if self._scaled and self.scales else None
        elif isinstance(node, sympy.Pow) and self._scaled:
            return self._power(node)
        return None

    def _power(self, node: sympy.Pow) -> Any:
        """``S**p`` of a sum of squares S, 2p an integer and p not a positive integer, as
        ``ldexp(s**p, -2p*j)`` with ``S = s * 4**-j``; None for any other power."""
        p = node.exp
        if not (isinstance(p, sympy.Rational) and p.q <= 2 and (p.q == 2 or p < 1)):
            return None
        scale = self._scale(node.base)
        if scale is None:
            return None
        return _LDEXP(sympy.Pow(scale.s, p, evaluate=False), -2 * p * scale.j)

    def _scale(self, total: Any) -> _Scale | None:
        """The :class:`_Scale` of the sum of squares ``total``, its temporaries made once."""
        known = self.scales.get(total)
        if known is not None:
            return known
        terms = _square_terms(total)
        if terms is None:
            return None
        j = self._temporary(_EXPONENT(*_roots(terms, self.built)))
        scaled = [
            _LDEXP(c, 2 * j) if b is None else _times(c, _square(_LDEXP(self._of(b), j)))
            for c, b in terms
        ]
        s = self._temporary(sympy.Add(*scaled, evaluate=False))
        self.scales[total] = known = _Scale(j, s)
        return known

    def _product(self, node: sympy.Mul) -> Any:
        """A product holding a scaled power ``ldexp(v, e)`` as ``ldexp(product of mantissas,
        sum of exponents)``; None when it holds none.

        Every other factor is split into a mantissa in [1/2, 1) and a power of two (an integer
        power ``b**n`` as ``mantissa(b)**n``, a rational exactly), so no partial product
        overflows or underflows where the whole is a normal number: ``-x*y/(x**2 + y**2 +
        z**2)**(3/2)``, a Hessian entry of the norm, needs ``x*y`` below 1e-308 at x = 1e-300.
        Where every partial product is normal the value is the same, bit for bit.
        """
        args = [self._of(a) for a in node.args]
        if not any(_is_ldexp(a) for a in args):
            return None
        values, exponents = [], []
        for a, new in zip(node.args, args, strict=True):
            value, exponent = self._split(a, new)
            values.append(value)
            exponents.append(exponent)
        return _LDEXP(sympy.Mul(*values, evaluate=False), sympy.Add(*exponents))

    def _split(self, node: Any, new: Any) -> tuple[Any, Any]:
        """``(v, e)`` with ``node = v * 2**e`` (``new`` its rewritten form, see :meth:`_product`)."""
        if _is_ldexp(new):
            return new.args[0], new.args[1]
        if isinstance(node, sympy.Rational) and node:
            q = abs(node)
            e = q.p.bit_length() - q.q.bit_length()
            return node / sympy.Integer(2) ** e, sympy.Integer(e)
        if (
            isinstance(node, sympy.Pow)
            and node.exp.is_Integer
            and abs(node.exp) <= _MAX_SPLIT_POWER
        ):
            mantissa, e = self._mantissa(node.base)
            return sympy.Pow(mantissa, node.exp, evaluate=False), node.exp * e
        return self._mantissa(node)

    def _mantissa(self, node: Any) -> tuple[Any, Any]:
        """``(ldexp(v, j), -j)`` for the built value v of ``node``, j = ``-frexp(|v|)[1]``
        (temporaries shared by every product that splits ``node``)."""
        known = self._mantissas.get(node)
        if known is None:
            value = self._of(node)
            j = self._temporary(_EXPONENT(value, sympy.S.Zero))
            known = self._mantissas[node] = (self._temporary(_LDEXP(value, j)), -j)
        return known


def _square_terms(total: Any) -> list[tuple[Any, Any]] | None:
    """(c, b) for each term ``c*b**2`` of the sum ``total``, (c, None) for a constant term c;
    None unless every term is one of these and one at least has a b."""
    if not isinstance(total, sympy.Add):
        return None
    terms: list[tuple[Any, Any]] = []
    for term in total.args:
        if isinstance(term, sympy.Rational | sympy.Float) and term.is_finite:
            terms.append((term, None))
            continue
        c, rest = term.as_coeff_Mul()
        if not (isinstance(rest, sympy.Pow) and rest.exp == 2 and c.is_finite):
            return None
        terms.append((c, rest.base))
    return terms if any(b is not None for _, b in terms) else None


def _roots(terms: list[tuple[Any, Any]], built: dict[Any, Any]) -> list[Any]:
    """Pairs ``r, o`` with ``|r| * 2**o`` within a factor 4 of ``sqrt(|c*b**2|)`` for each term
    ``c*b**2`` (r the base as built, o the binary exponent of ``sqrt(|c|)``), or of ``sqrt(|c|)``
    for a constant term c (o = 0)."""
    pairs: list[Any] = []
    for c, b in terms:
        if b is None:
            pairs += [sympy.sqrt(abs(c)), sympy.S.Zero]
        else:
            q = sympy.Rational(abs(c))
            pairs += [built.get(b, b), sympy.Integer((q.p.bit_length() - q.q.bit_length()) // 2)]
    return pairs


def _square(value: Any) -> Any:
    return sympy.Pow(value, 2, evaluate=False)


def _times(c: Any, value: Any) -> Any:
    return value if c == 1 else sympy.Mul(c, value, evaluate=False)


def _sech_squared_of(node: Any) -> Any:
    """u where ``node`` is ``1 - tanh(u)**2``, else None."""
    args = node.args
    if len(args) != 2 or args[0] is not sympy.S.One:
        return None
    minus = args[1]
    if not (isinstance(minus, sympy.Mul) and len(minus.args) == 2):
        return None
    one, power = minus.args
    if one is not sympy.S.NegativeOne or not isinstance(power, sympy.Pow):
        return None
    if power.exp != 2 or not isinstance(power.base, sympy.tanh):
        return None
    return power.base.args[0]


def _logistic_pair(node: Any) -> tuple[Any, Any] | None:
    """(exp(u), 1/(exp(u) + 1)), two factors of the product ``node``, or None."""
    for factor in node.args:
        if not (isinstance(factor, sympy.Pow) and factor.exp is sympy.S.NegativeOne):
            continue
        base = factor.base
        if isinstance(base, sympy.Add) and len(base.args) == 2 and base.args[0] is sympy.S.One:
            e = base.args[1]
            if isinstance(e, sympy.exp) and e in node.args:
                return e, factor
    return None


def _compound(node: Any) -> bool:
    """Whether ``node`` is an expression with operands (Piecewise conditions are left whole)."""
    return isinstance(node, sympy.Expr) and bool(node.args) and not node.is_Atom


def _unevaluated(node: Any, args: tuple[Any, ...]) -> Any:
    """``node``'s operation on new operands, not evaluated (nothing is distributed or sorted)."""
    try:
        return node.func(*args, evaluate=False)
    except TypeError:  # a class without the keyword
        return node.func(*args)


# -- numexpr ---------------------------------------------------------------------------------

#: SymPy functions numexpr computes, by numexpr's name for them.
_NUMEXPR_FUNCTIONS: dict[Any, str] = {
    sympy.sin: "sin",
    sympy.cos: "cos",
    sympy.tan: "tan",
    sympy.asin: "arcsin",
    sympy.acos: "arccos",
    sympy.atan: "arctan",
    sympy.sinh: "sinh",
    sympy.cosh: "cosh",
    sympy.tanh: "tanh",
    sympy.asinh: "arcsinh",
    sympy.acosh: "arccosh",
    sympy.atanh: "arctanh",
    sympy.exp: "exp",
    sympy.log: "log",
    sympy.Abs: "abs",
    sympy.sign: "sign",
    sympy.atan2: "arctan2",
    _PLACEHOLDERS[sympy.Max]: "maximum",
    _PLACEHOLDERS[sympy.Min]: "minimum",
}
#: Reciprocal trigonometric functions, printed as NumPy's printer prints them.
_RECIPROCALS: dict[Any, str] = {sympy.sec: "cos", sympy.csc: "sin", sympy.cot: "tan"}


class _NotNumexpr(Exception):
    """A node numexpr cannot compute (special functions, placeholders, huge constants)."""


def numexpr_text(expr: Any, names: Mapping[sympy.Symbol, str]) -> str | None:
    """``expr`` as numexpr text, or None when numexpr lacks one of its operations.

    Numbers are printed as their correctly rounded float64 value (numexpr's integer arithmetic
    would wrap around or divide as integers), products with negative powers as quotients (one
    rounding, as NumPy's printer does), and ``sec``, ``csc``, ``cot`` as reciprocals.  Special
    functions, ``Heaviside`` with another value at 0, scaled or overflowing constants and any
    function not in numexpr's list give None: that statement is computed by NumPy.
    """
    try:
        return _ne(expr, names)
    except _NotNumexpr:
        return None


def _ne(node: Any, names: Mapping[sympy.Symbol, str]) -> str:
    if isinstance(node, sympy.Symbol):
        return names[node]
    if isinstance(node, sympy.Number | sympy.NumberSymbol):
        return _ne_number(node)
    if isinstance(node, sympy.Add):
        return "(" + " + ".join(_ne(a, names) for a in node.args) + ")"
    if isinstance(node, sympy.Mul):
        return _ne_product(node, names)
    if isinstance(node, sympy.Pow):
        return _ne_power(node.base, node.exp, names)
    func = node.func
    if func in _NUMEXPR_FUNCTIONS and (func is not sympy.log or len(node.args) == 1):
        name = _NUMEXPR_FUNCTIONS[func]
        if name in {"maximum", "minimum"}:  # two arguments each, folded left as NumPy's reduce
            return functools.reduce(
                lambda a, b: f"{name}({a}, {b})", (_ne(a, names) for a in node.args)
            )
        return f"{name}({', '.join(_ne(a, names) for a in node.args)})"
    if func in _RECIPROCALS:
        return f"(1.0/{_RECIPROCALS[func]}({_ne(node.args[0], names)}))"
    raise _NotNumexpr


def _ne_number(number: Any) -> str:
    try:
        value = float(number) if not isinstance(number, sympy.Rational) else number.p / number.q
    except OverflowError:
        raise _NotNumexpr from None
    if value != value or value in {float("inf"), float("-inf")}:  # noqa: PLR0124
        raise _NotNumexpr
    return f"({value!r})"


def _ne_product(node: Any, names: Mapping[sympy.Symbol, str]) -> str:
    top, bottom = [], []
    for factor in node.args:
        if isinstance(factor, sympy.Pow) and factor.exp.is_Number and factor.exp < 0:
            bottom.append(_ne_power(factor.base, -factor.exp, names))
        else:
            top.append(_ne(factor, names))
    numerator = "*".join(top) if top else "1.0"
    return f"({numerator}/({'*'.join(bottom)}))" if bottom else f"({numerator})"


def _ne_power(base: Any, exponent: Any, names: Mapping[sympy.Symbol, str]) -> str:
    if exponent == sympy.S.Half:
        return f"sqrt({_ne(base, names)})"
    if exponent.is_Number and exponent < 0:
        return f"(1.0/{_ne_power(base, -exponent, names)})"
    return f"({_ne(base, names)}**{_ne(exponent, names)})"


def compile_numexpr(text: str, inputs: Sequence[str]) -> Callable[..., Any] | None:
    """numexpr's compiled program for ``text`` of the float64 ``inputs`` (numexpr parses it).

    None when numexpr cannot compile it: its programs have at most 255 registers (inputs,
    constants and temporaries), which a sum of 200 terms exceeds.
    """
    import numexpr  # noqa: PLC0415 - the fast extra, imported when the evaluator is built

    signature = [(name, np.float64) for name in inputs]
    try:
        program = numexpr.NumExpr(text, signature=signature, optimization="moderate")
    except (ValueError, TypeError, KeyError, RuntimeError, RecursionError, OverflowError):
        return None
    return program  # type: ignore[no-any-return]


# -- symengine -------------------------------------------------------------------------------

#: The functions symengine's compiled code computes as NumPy does (NaN in, NaN out; its max and
#: min drop a NaN argument, so they and sign, atan2 and the special functions stay NumPy's).
_SYMENGINE_FUNCTIONS = (
    sympy.sin,
    sympy.cos,
    sympy.tan,
    sympy.asin,
    sympy.acos,
    sympy.atan,
    sympy.sinh,
    sympy.cosh,
    sympy.tanh,
    sympy.asinh,
    sympy.acosh,
    sympy.atanh,
    sympy.exp,
    sympy.log,
    sympy.Abs,
)


def symengine_computes(expr: Any) -> bool:
    """Whether symengine's compiled code computes ``expr`` (already :func:`float_printable`)."""
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Symbol | sympy.Add | sympy.Mul | sympy.Pow):
            continue
        if isinstance(node, sympy.Rational):
            if _outside(node):
                return False
        elif isinstance(node, sympy.NumberSymbol | sympy.Integer):
            continue
        elif not isinstance(node, _SYMENGINE_FUNCTIONS) or len(node.args) != 1:
            return False
    return True


def symengine_keeps(exprs: Sequence[Any]) -> list[bool]:
    """Whether symengine keeps each expression's formula (its products as they are written).

    symengine merges the factors of a product that share a base on construction, which SymPy
    does not always do: ``x**y*y/x`` becomes ``x**(y - 1)*y`` (1 at x = 0 where the formula
    gives 0/0, NaN) and ``exp(a)*exp(b)`` becomes ``exp(a + b)`` (finite where the product
    overflows).  Such expressions are left to NumPy, so every evaluator computes the same
    formula.  One pass, children first and without recursion (a tree thousands of levels deep is
    judged like any other), over the distinct subtrees of all expressions, each judged once.
    """
    memo: dict[Any, bool] = {}
    for expr in exprs:
        if isinstance(expr, sympy.Basic):
            bottom_up(expr, memo, _keeps)
    return [memo[e] if isinstance(e, sympy.Basic) else True for e in exprs]


def _keeps(node: Any, kept: list[bool]) -> bool:
    """Whether symengine keeps ``node``, given whether it keeps each of its arguments."""
    return all(kept) and not _merged(node)


def _merged(node: Any) -> bool:
    """Whether symengine would merge factors of this product (a base repeated)."""
    if not isinstance(node, sympy.Mul):
        return False
    bases = [
        sympy.E if isinstance(f, sympy.exp) else f.base if isinstance(f, sympy.Pow) else f
        for f in node.args
    ]
    return len(set(bases)) < len(bases)


_CSE_NAME = re.compile(r"x\d+")


def _cse_safe_names(variables: Sequence[sympy.Symbol]) -> dict[sympy.Symbol, str]:
    """New names for the variables that symengine's CSE could also give a temporary.

    ``Lambdify(cse=True)`` names its temporaries x0, x1, ..., skipping only the symbols that
    occur in the outputs: an input named x2 that no output holds (the gradient of
    ``exp(x0)*x1 + x2``) would be read where the temporary x2 is meant.  Such inputs get a name
    of no variable and of no temporary (``x2_``, ``x2__``, ...).
    """
    taken = {str(v) for v in variables}
    renamed = {}
    for v in variables:
        name = str(v)
        if _CSE_NAME.fullmatch(name):
            while name in taken:
                name += "_"
            taken.add(name)
            renamed[v] = name
    return renamed


def symengine_lambdify(
    variables: Sequence[sympy.Symbol],
    statements: Sequence[tuple[sympy.Symbol, Any]],
    outputs: Sequence[Any],
) -> Any:
    """symengine's ``Lambdify`` of ``outputs`` (LLVM machine code where symengine has LLVM).

    ``statements`` are the temporaries the outputs use (from :func:`tree_cse`, each converted
    once and substituted into the ones that use it: symengine shares the subtrees, so a sum
    shared by every component of a dense gradient is converted once, not once per component).
    Takes an array of shape ``(points, len(variables))`` and returns ``(points, len(outputs))``.
    """
    import symengine  # noqa: PLC0415 - the fast extra, imported when the evaluator is built
    from symengine.lib.symengine_wrapper import sympy2symengine  # noqa: PLC0415

    backend = "llvm" if getattr(symengine, "have_llvm", False) else "lambda"

    def to_symengine(expr: Any) -> Any:  # SymPy objects only: text is never parsed
        return sympy2symengine(expr, True)

    converted = {v: symengine.Symbol(name) for v, name in _cse_safe_names(variables).items()}

    def convert(expr: Any) -> Any:
        value = to_symengine(expr)
        used = {to_symengine(s): converted[s] for s in expr.free_symbols if s in converted}
        return value.subs(used) if used else value  # simultaneous: names may be exchanged

    try:
        for symbol, expr in statements:
            converted[symbol] = convert(expr)
        values = [convert(e) for e in outputs]
        args = [converted[v] if v in converted else to_symengine(v) for v in variables]
        return symengine.Lambdify(args, values, cse=True, backend=backend)
    except (RuntimeError, NotImplementedError, TypeError, ValueError, AttributeError) as exc:
        msg = f"symengine cannot compile {short(str(list(outputs)))}: {exc}"
        raise UnsupportedError(msg) from exc
