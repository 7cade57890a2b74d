"""The grammar's vocabulary and cost model: what symgrad's parser may build, and how big.

The allowed functions and constants, the caps on size, depth and exact numbers, and the checked
constructors through which every SymPy object of a parse is built: each estimates the size of
the exact number SymPy would compute (``bits(a^b) ≈ bits(a)·|b|``, ``bits(a·b) ≈ bits(a) +
bits(b)``) and refuses it before SymPy starts, so that ``10^10^10`` or ``((9^9)^9999)^9999``
cost microseconds, not hours.  :mod:`symgrad.expr._parse` turns text into calls of these constructors.

The calls and powers also refuse a value without variables that is not a finite real number,
as soon as it is built and before SymPy can cancel it (``asin(2) - asin(2)``): ``asin(2)``,
``acosh(1/2)``, ``(-8)^(1/3)`` (SymPy's principal cube root is complex), ``(-2)^pi`` and a
logarithm to a base that is not a positive number other than 1 (``log(x, 1)``, ``log(x, 0)``,
which SymPy would silently turn into 0).  SymPy decides whether such a constant is real from
its exact form, evaluating numerically (with its precision tracking) where it must; when it
cannot decide, the constant is refused too.
"""

from __future__ import annotations

import cmath
import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import sympy

from symgrad._precision import MAX_DPS, thread_context
from symgrad.errors import LimitExceeded, UnsupportedError

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "MAX_ARITY",
    "MAX_BESSEL_ORDER",
    "MAX_CONST_BITS",
    "MAX_DECIMAL_EXPONENT",
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_EXPONENT",
    "MAX_LEN",
    "MAX_MINMAX_COST",
    "MAX_NAME_LEN",
    "MAX_NODES",
    "MAX_NONSMOOTH",
    "MAX_POINT_DIGITS",
    "SOFT_CONSTANTS",
    "SPECIAL_FUNCTIONS",
    "FunctionSpec",
]

MAX_LEN = 100_000  # characters of text (a 1,000-variable Rosenbrock sum is ~40,000)
MAX_DEPTH = 64  # nesting of parentheses, calls, unary signs and exponents
MAX_NODES = 50_000  # tokens of a text, nodes of a SymPy input (parsing is linear: ~1 s)
MAX_NAME_LEN = 32
MAX_DIGITS = 30  # significant digits of a number literal in an expression
# A point's coordinate may carry the digits of the largest precision (the exact value of a
# double has up to 767); 1000 digits are about 3322 bits, within MAX_CONST_BITS.
MAX_POINT_DIGITS = MAX_DPS
MAX_DECIMAL_EXPONENT = 308  # |n| of a literal's written exponent and of its magnitude 10**n
MAX_EXPONENT = 1000  # |n| of a numeric exponent, including the argument of exp
MAX_CONST_BITS = 4096  # estimated size of any exact number SymPy would compute
MAX_ARITY = 16  # arguments of min and max
# SymPy compares the arguments of min/max pairwise and re-simplifies nested abs on construction:
# measured 0.42 ms per squared argument count and 0.5 s for abs nested 40 deep, so both are capped.
MAX_NONSMOOTH = 32  # calls of abs, sign, min and max in one expression
MAX_MINMAX_COST = 1000  # Σ (arguments of each min/max call)²
# |nu| of a Bessel order: mpmath's series stop converging and arb's values leave every range
# beyond (besselj(10^7, 3e7) raises NoConvergence in SymPy, besselj(10^7, 3) is 1e-5389618)
MAX_BESSEL_ORDER = 1000

_Expr = Any  # SymPy ships no type information


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """An allowed function: canonical name (``asin`` for ``arcsin``), arity, smoothness.

    The name is the SymPy function built, except ``sqrt``, ``log10`` and ``log2``, which build a
    power and logarithms.  Non-smooth functions (``abs``, ``sign``, ``min``, ``max``,
    ``Heaviside``) have kinks or jumps.  A ``reserved`` name cannot be a variable; the special
    functions' names (``gamma``, ``beta``, ``erf``, ...) are common variable names, so they name
    the function only where they are called: ``gamma(x)`` is Γ(x), ``gamma*x`` a product.
    """

    name: str
    min_args: int = 1
    max_args: int = 1
    smooth: bool = True
    reserved: bool = True


def _function_table() -> dict[str, FunctionSpec]:
    plain = "sin cos tan sec csc cot asin acos atan sinh cosh tanh asinh acosh atanh exp sqrt"
    table = {name: FunctionSpec(name) for name in plain.split()}
    table |= {f"arc{name[1:]}": table[name] for name in plain.split() if name[0] == "a"}
    table["atan2"] = table["arctan2"] = FunctionSpec("atan2", 2, 2)
    table["log"] = table["ln"] = FunctionSpec("log", 1, 2)
    table["log10"], table["log2"] = FunctionSpec("log10"), FunctionSpec("log2")
    table["sign"] = FunctionSpec("sign", smooth=False)
    table["abs"] = table["Abs"] = FunctionSpec("Abs", smooth=False)  # SymPy's printed names
    table["min"] = table["Min"] = FunctionSpec("Min", 1, MAX_ARITY, smooth=False)
    table["max"] = table["Max"] = FunctionSpec("Max", 1, MAX_ARITY, smooth=False)
    table["Heaviside"] = FunctionSpec("Heaviside", smooth=False)  # 1/2 at 0, as SymPy's
    for name, arity in SPECIAL_FUNCTIONS.items():
        table[name] = FunctionSpec(name, arity, arity, reserved=False)
    return table


#: The special functions and their arities: ``besselj(nu, x)`` and ``bessely(nu, x)`` take the
#: order first, as SymPy (and SciPy's ``jv``) do.
SPECIAL_FUNCTIONS: Mapping[str, int] = MappingProxyType(
    {"erf": 1, "erfc": 1, "gamma": 1, "loggamma": 1, "beta": 2, "besselj": 2, "bessely": 2}
)


#: The allowed functions by name, aliases included (``ln``, ``arcsin``, ``abs``, ``Max``, ...).
FUNCTIONS: Mapping[str, FunctionSpec] = MappingProxyType(_function_table())
#: The only named constants.
CONSTANTS: Mapping[str, _Expr] = MappingProxyType({"pi": sympy.pi, "E": sympy.E})
#: Names that are constants unless declared as variables: ``e`` is Euler's number, as in ``e^x``.
SOFT_CONSTANTS: Mapping[str, _Expr] = MappingProxyType({"e": sympy.E})

_UNDEFINED = {sympy.zoo: "zoo (complex infinity, e.g. 1/0)", sympy.nan: "nan (e.g. 0/0)"}
_UNDEFINED |= {sympy.oo: "oo", -sympy.oo: "-oo", sympy.I: "I (e.g. sqrt(-1), log(-2))"}
_MINUS_ONE, _HALF = sympy.Integer(-1), sympy.Rational(1, 2)


# -------------------------------------------------------------------------- cost model
def _bits(q: _Expr) -> int:
    """Size of an exact rational: bits of numerator plus denominator."""
    return max(1, int(q.p).bit_length() + int(q.q).bit_length() - 1) if q.is_Rational else 1


def _refuse_bits(bits: float, where: str) -> None:
    if bits > MAX_CONST_BITS:
        shown = f"about {bits:.0f}" if bits < 1e9 else "more than 10^9"
        msg = f"constant too large{where}: {shown} bits (at most {MAX_CONST_BITS})"
        raise LimitExceeded(msg, limit="constant_too_large", value=bits, allowed=MAX_CONST_BITS)


def _size(q: _Expr) -> float:
    """|q| of a SymPy rational as a float, inf when it does not fit."""
    try:
        return abs(int(q.p) / int(q.q))
    except OverflowError:
        return math.inf


def _pow_bits(base: _Expr, exp: _Expr) -> float:
    """Estimated bits of the exact numbers SymPy computes to build ``base**exp``.

    SymPy evaluates a rational power of a rational, distributes a power over a product,
    merges ``(b**k)**e`` into ``b**(k*e)`` and turns ``exp(c*log(r))`` into ``r**c``; along
    each path bits(a**n) ~ bits(a)*|n|.  Anything else it leaves alone (cost 0).
    """
    if base is sympy.E:  # exp(x + c*log(r)) becomes exp(x) * r**c, symbols or not
        return _exp_bits(exp)
    if isinstance(base, sympy.exp):
        return _exp_bits(sympy.Mul(base.args[0], exp))
    if not exp.is_number:
        return 0.0
    if base.is_Rational:
        return _bits(base) * max(1.0, _size(exp)) if exp.is_Rational else 0.0
    if base.is_Pow:
        return _pow_bits(base.base, sympy.Mul(base.exp, exp))
    return sum(_pow_bits(factor, exp) for factor in base.args) if base.is_Mul else 0.0


def _exp_bits(arg: _Expr) -> float:
    """Estimated bits SymPy computes for ``exp(arg)``: each ``c*log(r)`` may become r**c."""
    total, stack = 0.0, [(arg, sympy.Integer(1))]
    while stack and total <= MAX_CONST_BITS:
        node, scale = stack.pop()
        if isinstance(node, sympy.log):
            total += _pow_bits(node.args[0], scale)
        elif node.is_Mul:
            coeff, rest = node.as_coeff_Mul()
            stack.extend((f, scale * abs(coeff)) for f in sympy.Mul.make_args(rest))
        else:
            stack.extend((a, scale) for a in node.args)
    return total


_RECIPROCAL = {"sec": "cos", "csc": "sin", "cot": "tan"}


def _approx(expr: _Expr) -> complex:
    """Rough float value of a constant, for the exponent rule on ``x^pi`` or ``2^sqrt(2)``."""
    if expr.is_Rational or expr.is_NumberSymbol:
        return int(expr.p) / int(expr.q) if expr.is_Rational else float(expr)
    args = [_approx(a) for a in expr.args]
    if expr.is_Add or expr.is_Mul:
        return sum(args) if expr.is_Add else math.prod(args)
    if expr.is_Pow:
        return complex(args[0] ** args[1])
    name = expr.func.__name__
    if name in _RECIPROCAL:
        return complex(1 / getattr(cmath, _RECIPROCAL[name])(*args))
    if hasattr(cmath, name):  # sin ... atanh, exp, log
        return complex(getattr(cmath, name)(*args))
    if name in SPECIAL_FUNCTIONS:  # erf ... bessely, in a private context (never mpmath.mp)
        return complex(getattr(thread_context(17), name)(*args))
    return 4 + max(abs(a) for a in args)  # bounds |Abs|, |Min|, |Max|, |sign|, |atan2|


def _check_exponent(exp: _Expr, where: str) -> None:
    """A numeric exponent must satisfy |n| <= MAX_EXPONENT; checked before SymPy sees it."""
    if not exp.is_number or exp in _UNDEFINED:
        return
    try:
        size = _size(exp) if exp.is_Rational else abs(_approx(exp))
    except (ArithmeticError, ValueError):
        size = math.inf
    if not size <= MAX_EXPONENT:  # also true for nan
        shown = f"{size:.6g}" if size < 1e15 else "more than 10^15"
        msg = f"exponent too large{where}: |{shown}| > {MAX_EXPONENT}"
        raise LimitExceeded(msg, limit="exponent_too_large", value=size, allowed=MAX_EXPONENT)


# ---------------------------------------------------------------- checked constructors
def _add(terms: list[_Expr], where: str = "") -> _Expr:
    """Sum, after redoing SymPy's collection of like terms with a size check at each step."""
    collected: dict[_Expr, _Expr] = {}
    for term in terms:
        for t in sympy.Add.make_args(term):
            coeff, rest = t.as_coeff_Mul()
            if coeff.is_Rational:
                collected[rest] = collected.get(rest, 0) + coeff
                _refuse_bits(_bits(collected[rest]), where)
    return sympy.Add(*terms)


def _mul(factors: list[_Expr], where: str = "") -> _Expr:
    """Product, after redoing SymPy's merging of coefficients and powers with size checks."""
    coeff, exps, bases, spread = sympy.Integer(1), dict[_Expr, _Expr](), dict[_Expr, _Expr](), 0
    for factor in factors:
        for f in sympy.Mul.make_args(factor):
            if f.is_Rational:
                coeff *= f
                _refuse_bits(_bits(coeff), where)
                continue
            base, exp = f.as_base_exp()
            if exp.is_Rational:  # x**a * x**b is x**(a+b); 3**(1/2) * 12**(1/2) is 36**(1/2)
                exps[base] = exps.get(base, 0) + exp
                _refuse_bits(_bits(exps[base]), where)
                if base.is_Rational:
                    bases[exp] = bases.get(exp, 1) * base
                    _refuse_bits(_bits(bases[exp]), where)
            if f.is_Add:  # 2*(x + 1) is distributed: 2*x + 2
                spread = max(spread, *(_bits(t.as_coeff_Mul()[0]) for t in f.args))
    _refuse_bits(_bits(coeff) + spread, where)
    return _merged_exponents(sympy.Mul(*factors), where)


def _pow(base: _Expr, exp: _Expr, where: str = "") -> _Expr:
    _check_exponent(exp, where)
    _refuse_bits(_pow_bits(base, exp), where)
    power = _merged_exponents(sympy.Pow(base, exp), where)
    return _real(power, functools.partial(_power_text, base, exp), where)


def _merged_exponents(result: _Expr, where: str) -> _Expr:
    """``result``, once the powers SymPy merged while building it obey the exponent cap.

    ``x^1000*x^1000`` is ``x^2000``, ``(x^2)^501`` is ``x^1002`` and ``exp(600)*exp(600)`` is
    ``exp(1200)``: refused like the same power written out, so that every accepted expression
    prints as text that parses back.
    """
    for node in (result, *result.args) if result.is_Mul else (result,):
        if node.is_Pow or isinstance(node, sympy.exp):
            _check_exponent(node.as_base_exp()[1], where)
    return result


_LOG_BASES = {"log10": sympy.Integer(10), "log2": sympy.Integer(2)}


def _call(spec: FunctionSpec, args: list[_Expr], where: str = "") -> _Expr:
    name = spec.name
    if name in ("exp", "sqrt"):  # exp(z) is E**z: the same exponent and size rules
        return _pow(sympy.E, args[0], where) if name == "exp" else _pow(args[0], _HALF, where)
    log_base = _LOG_BASES.get(name, args[-1] if len(args) == 2 else None)
    if name in ("log", "log10", "log2") and log_base is not None:  # as SymPy writes log(x, b)
        _check_log_base(log_base, where)
        if args[0].is_Rational and log_base.is_Rational:  # log(1/4, 2) is exactly -2
            value = sympy.log(args[0], log_base)
            return _real(value, functools.partial(_call_text, sympy.log, args), where)
        inverse = _pow(sympy.log(log_base), _MINUS_ONE, where)
        return _mul([call_function(sympy.log, args[:1], where), inverse], where)
    return call_function(getattr(sympy, name), args, where)


def call_function(func: Any, args: list[_Expr], where: str = "") -> _Expr:
    """``func(*args)`` for an allowed SymPy function, refusing a constant without a real value."""
    _check_special(func.__name__, args, where)
    value = func(*args)
    if func is sympy.atan2 and value.has(sympy.I):
        value = _atan2_constant(args[0], args[1], where) or value
    return _real(value, functools.partial(_call_text, func, args), where)


def _check_special(name: str, args: list[_Expr], where: str) -> None:
    """Refuse a special function SymPy would evaluate at great cost, before it does.

    SymPy evaluates Γ of a positive integer or half-integer exactly (``gamma(10^7)`` is a
    factorial of 10^7), and ``loggamma`` and ``beta`` of numbers through it: bits(Γ(n)) ≈
    n·log2(n) is checked against ``MAX_CONST_BITS``.  A constant Bessel order is capped at
    ``MAX_BESSEL_ORDER`` (see there); an order given at a point is capped where it is evaluated.
    """
    if name in ("gamma", "loggamma", "beta"):
        sizes = [_size(a) for a in args if a.is_Rational]
        n = sum(sizes) if name == "beta" and len(sizes) == 2 else max(sizes, default=0.0)
        _refuse_bits(n * math.log2(n + 2), where)
    if name in ("besselj", "bessely") and args[0].is_number:
        try:
            order = abs(_approx(args[0]))
        except (ArithmeticError, ValueError):
            order = math.inf
        if not order <= MAX_BESSEL_ORDER:
            shown = f"{order:.6g}" if order < 1e15 else "more than 10^15"
            msg = f"Bessel order too large{where}: |{shown}| > {MAX_BESSEL_ORDER}"
            raise LimitExceeded(msg, limit="bessel_order", value=order, allowed=MAX_BESSEL_ORDER)


def _atan2_constant(y: _Expr, x: _Expr, where: str) -> _Expr | None:
    """``atan2(y, x)`` of constants by quadrant, when SymPy wrote it with ``I``.

    SymPy falls back to ``-I*log((x + I*y)/sqrt(x**2 + y**2))`` when ``y.is_negative`` is
    unknown, as for ``atan2(cot(E), -E)``, although the value is real; the quadrant rule uses
    the extended-real signs, which SymPy decides numerically.
    """
    if not x.is_extended_real or not y.is_extended_real:
        return None
    if x.is_zero:
        half = sympy.pi / 2
        return half if y.is_extended_positive else -half if y.is_extended_negative else None
    arctan = call_function(sympy.atan, [_mul([y, _pow(x, _MINUS_ONE, where)], where)], where)
    if x.is_extended_positive:
        return arctan
    if x.is_extended_negative and y.is_extended_negative:
        return _add([arctan, -sympy.pi], where)
    if x.is_extended_negative and y.is_extended_nonnegative:
        return _add([arctan, sympy.pi], where)
    return None


def _call_text(func: Any, args: list[_Expr]) -> str:
    return f"{func.__name__}({', '.join(map(str, args))})"


def _power_text(base: _Expr, exp: _Expr) -> str:
    """``base^exp`` as a user would write it, for messages (``1/0`` rather than ``0^-1``)."""
    if exp == _MINUS_ONE:
        return f"1/{_operand(base)}"
    if exp == _HALF:
        return f"sqrt({base})"
    return f"{_operand(base)}^{_operand(exp)}"


def _operand(expr: _Expr) -> str:
    """``expr`` as an operand in a message: parenthesized unless a name or a whole number."""
    text = str(expr)
    return text if re.fullmatch(r"[A-Za-z0-9_]+", text) else f"({text})"


def _check_log_base(base: _Expr, where: str) -> None:
    """A constant logarithm base must be a positive number other than 1.

    SymPy writes ``log(x, b)`` as ``log(x)/log(b)``: with b = 1 that is ``log(x)/0``, with
    b = 0 it is ``log(x)/zoo``, which SymPy simplifies to 0 without a word.
    """
    if not base.is_number:  # a variable base: where it is 1 or negative is a point's business
        return
    positive, is_one = base.is_extended_positive, (base - 1).is_zero
    if positive is True and is_one is False:
        return
    verdict = "is not" if positive is False or is_one is True else "cannot be shown to be"
    msg = (
        f"the logarithm base {base}{where} {verdict} a positive number other than 1; "
        "log(x, b) is undefined for b <= 0 and for b = 1"
    )
    raise UnsupportedError(msg)


def _real(value: _Expr, shown: Callable[[], str], where: str) -> _Expr:
    """``value``, unless it has no variables and is not a finite real number.

    ``shown()`` is the constant as written (``asin(2)``, ``(-8)^(1/3)``), called only for a
    message.  Rationals are real; for anything else SymPy's ``is_extended_real`` decides (exact
    rules, then numerical evaluation that tracks its precision); undecided counts as not real.
    """
    if value.is_Rational or not value.is_number:
        return value
    undefined = next((_UNDEFINED[a] for a in (value, *value.atoms()) if a in _UNDEFINED), "")
    real = value.is_extended_real if not undefined else False
    if real is True:
        return value
    if undefined:
        why = f"is not a real, finite number: it contains {undefined}"
    else:
        got = str(value)
        why = "has no real value" if real is False else "cannot be shown to be real"
        why += f" (SymPy gives {got[:60]})" if got != shown() else ""
    msg = f"the constant {_short(shown())}{where} {why}; symgrad needs real, finite values"
    raise UnsupportedError(msg)


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _checked_result(expr: _Expr) -> _Expr:
    """Refuse undefined or complex values; bound every exact number of the final tree."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if node in _UNDEFINED:
            msg = f"the expression contains {_UNDEFINED[node]}; symgrad needs real, finite values"
            raise UnsupportedError(msg)
        if node.is_Rational:
            _refuse_bits(_bits(node), "")
        stack.extend(node.args)
    return expr
