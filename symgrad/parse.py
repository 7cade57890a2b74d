"""The safe parser: text or a SymPy object to a SymPy expression, never executing anything.

Nothing a user types is ever evaluated: no ``eval``, ``sympify`` or ``parse_expr`` (they ``eval``
their input, see docs/explanation and references/security.md).  Text goes through

1. pre-checks: a ``str``, at most ``MAX_LEN`` characters, ASCII only, allowed characters only;
2. a regular-expression tokenizer (linear time) that validates number literals and names;
3. a precedence-climbing parser: ``+ -`` < ``* /`` < unary ``+ -`` < ``^``/``**`` (power is
   right-associative and binds tighter than unary minus: ``-x^2 == -(x^2)``, ``2^-1`` is 1/2,
   ``a/b/c == a/(b*c)``); sums and products are collected into flat lists; every parenthesis,
   call, unary sign and exponent counts one level against ``MAX_DEPTH``;
4. four checked constructors (sum, product, power, call) that build SymPy objects directly and
   refuse, *before* SymPy evaluates anything, a numeric exponent above ``MAX_EXPONENT`` and a
   constant whose estimated size exceeds ``MAX_CONST_BITS`` bits (``10^10^10`` would otherwise
   hang SymPy, and a 5,000-digit integer cannot even be printed).

Numbers are exact: ``0.1`` is ``1/10``.  There is no implicit multiplication (write ``2*x``).
The constants are ``pi`` and ``E`` (Euler's number; ``e`` is an ordinary variable).  Every
variable is ``sympy.Symbol(name, real=True)``.  Reserved, and refused as variable names: the
function names, ``pi``, ``E``, ``I``, ``oo``, ``zoo``, ``nan``, ``inf``, Python keywords and the
names ``numpy``, ``math``, ``mpmath``, ``scipy``, ``builtins``, ``select``, ``Dummy``/``Dummy_*``.
``cbrt`` is not offered: SymPy's cube root is the principal (complex) root for negative numbers.
"""

from __future__ import annotations

import cmath
import difflib
import keyword
import math
import numbers
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import sympy

from symgrad.errors import LimitExceeded, ParseError, SymgradError, UnsupportedError, quote

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "MAX_ARITY",
    "MAX_CONST_BITS",
    "MAX_DECIMAL_EXPONENT",
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_EXPONENT",
    "MAX_LEN",
    "MAX_NAME_LEN",
    "MAX_NODES",
    "FunctionSpec",
    "free_variables",
    "parse",
    "parse_number",
    "parse_point",
    "parse_variables",
    "symbol",
    "validate_name",
]

MAX_LEN = 10_000  # characters of text
MAX_DEPTH = 64  # nesting of parentheses, calls, unary signs and exponents
MAX_NODES = 5_000  # tokens of text, nodes of a SymPy input
MAX_NAME_LEN = 32
MAX_DIGITS = 30  # significant digits of a number literal
MAX_DECIMAL_EXPONENT = 308  # |n| in 1.5e-n and in the literal's own magnitude
MAX_EXPONENT = 1000  # |n| of a numeric exponent, including the argument of exp
MAX_CONST_BITS = 4096  # estimated size of any exact number SymPy would compute
MAX_ARITY = 16  # arguments of min / max

_Expr = Any  # SymPy is untyped


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """An allowed function: the SymPy name it builds, its arity and whether it is smooth."""

    sympy_name: str
    min_args: int = 1
    max_args: int = 1
    smooth: bool = True


def _table() -> dict[str, FunctionSpec]:
    plain = "sin cos tan sec csc cot asin acos atan sinh cosh tanh asinh acosh atanh exp sqrt"
    table = {name: FunctionSpec(name) for name in plain.split()}
    table.update({f"arc{n[1:]}": table[n] for n in plain.split() if n.startswith("a")})
    table["atan2"] = table["arctan2"] = FunctionSpec("atan2", 2, 2)
    table["log"] = table["ln"] = FunctionSpec("log", 1, 2)
    table["log10"], table["log2"] = FunctionSpec("log10"), FunctionSpec("log2")
    table["abs"] = table["Abs"] = FunctionSpec("Abs", smooth=False)
    table["sign"] = FunctionSpec("sign", smooth=False)
    table["min"] = table["Min"] = FunctionSpec("Min", 1, MAX_ARITY, smooth=False)
    table["max"] = table["Max"] = FunctionSpec("Max", 1, MAX_ARITY, smooth=False)
    return table


#: Allowed function names (aliases included: ``ln``, ``arcsin``, ``abs``, ``Max``, ...).
FUNCTIONS: Mapping[str, FunctionSpec] = MappingProxyType(_table())
#: The only named constants.
CONSTANTS: Mapping[str, _Expr] = MappingProxyType({"pi": sympy.pi, "E": sympy.E})

_SYMPY_FUNCTIONS = {
    getattr(sympy, s.sympy_name)
    for s in FUNCTIONS.values()
    if s.sympy_name not in ("sqrt", "log10", "log2")
}
_RESERVED = frozenset(
    [*FUNCTIONS, *CONSTANTS, "I", "oo", "zoo", "nan", "inf", *keyword.kwlist]
    + ["numpy", "math", "mpmath", "scipy", "builtins", "select", "Dummy"]
)
_UNDEFINED = {sympy.zoo: "zoo (complex infinity, e.g. from 1/0)", sympy.nan: "nan (e.g. 0/0)"}
_UNDEFINED |= {sympy.oo: "oo (infinity)", -sympy.oo: "-oo (infinity)"}
_UNDEFINED |= {sympy.I: "the imaginary unit I (e.g. from sqrt(-1) or log(-2))"}
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_TOKEN = re.compile(
    r"(?P<space>[ \t]+)|(?P<number>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z][A-Za-z0-9_]*)|(?P<op>\*\*|[-+*/^(),])|(?P<bad>.)",
    re.DOTALL,
)
# Outside the character set; or '_' starting a name; or '.' not touching a digit.
_FORBIDDEN = re.compile(r"[^A-Za-z0-9_.+\-*/^(), \t]|(?<![A-Za-z0-9_])_|(?<![0-9])\.(?![0-9])")
_POINT_FORBIDDEN = re.compile(r"[^A-Za-z0-9_.+\-*/=, \t]|(?<![A-Za-z0-9_])_|(?<![0-9])\.(?![0-9])")
_WHY = {
    "_": "names start with a letter",
    ".": "'.' belongs inside numbers such as 0.5 (there is no attribute access)",
    "'": "there are no strings",
    ":": "there are no lambdas or slices",
    "=": "an expression is not an equation or assignment",
    "[": "use ( ) to group; an expression is one scalar",
    ";": "give one expression",
    "\n": "give the expression on one line",
    "#": "there are no comments",
}
_ASCII_FOR = {"\u2212": "-", "\u2013": "-", "\u00d7": "*", "\u00b7": "*", "\u00b2": "^2"}
_ASCII_FOR |= {"\u00b3": "^3", "\u2009": "a space", "\u00a0": "a space"}
_NOT_SAID = "allowed: ASCII letters, digits, spaces and + - * / ^ ( ) , ."


# ----------------------------------------------------------------------------- names
def validate_name(name: object) -> str:
    """Check a variable name and return it.

    A name is 1 to 32 ASCII letters, digits and ``_``, starting with a letter, and not reserved
    (see the module docstring).  Raises `ParseError` with reason ``invalid_name``,
    ``name_too_long`` or ``reserved_name``.

    Examples
    --------
    >>> validate_name("x_1")
    'x_1'
    >>> validate_name("lambda")
    Traceback (most recent call last):
    ...
    symgrad.errors.ParseError: 'lambda' is reserved (a Python keyword); choose another name ...
    """
    if not isinstance(name, str):
        msg = f"a variable name must be a string (got {type(name).__name__})"
        raise ParseError(msg, reason="invalid_name")
    return _check_name(str.__str__(name), str.__str__(name), 1)


def _check_name(name: str, text: str, column: int) -> str:
    """`validate_name` reporting positions in ``text``, where ``name`` starts at ``column``."""
    if len(name) > MAX_NAME_LEN:
        msg = f"name {quote(name)} has {len(name)} characters (at most {MAX_NAME_LEN})"
        raise ParseError(msg, reason="name_too_long", text=text, column=column + MAX_NAME_LEN)
    match = _NAME.match(name)
    if match is None or match.end() != len(name):
        bad = match.end() if match else 0
        msg = f"invalid variable name {quote(name)}: use letters, digits and _, starting with a letter"
        raise ParseError(msg, reason="invalid_name", text=text, column=column + bad)
    if name in _RESERVED or name.startswith("Dummy_"):
        msg = f"{quote(name)} is reserved ({_reserved_why(name)}); choose another name"
        raise ParseError(msg, reason="reserved_name", text=text, column=column)
    return name


def _reserved_why(name: str) -> str:
    if name in FUNCTIONS:
        return f"a function: write {name}(...)"
    if name in CONSTANTS:
        return "a constant"
    if name in ("I", "oo", "zoo", "nan", "inf"):
        return "symgrad works with real, finite variables"
    if keyword.iskeyword(name):
        return "a Python keyword"
    return "it names a module in generated code"


def symbol(name: str) -> _Expr:
    """The real SymPy symbol for a validated name.

    Examples
    --------
    >>> symbol("x").is_real
    True
    """
    return sympy.Symbol(validate_name(name), real=True)


def free_variables(expr: _Expr) -> tuple[_Expr, ...]:
    """The free symbols of ``expr`` sorted by name (the default variable order).

    Examples
    --------
    >>> free_variables(parse("y*x + b"))
    (b, x, y)
    """
    return tuple(sorted(expr.free_symbols, key=lambda s: s.name))


# ----------------------------------------------------------------------- cost model
def _bits(q: _Expr) -> int:
    """Size in bits of an exact rational (numerator plus denominator)."""
    if not q.is_Rational:
        return 1
    return max(1, int(q.p).bit_length() + int(q.q).bit_length() - 1)


def _refuse_bits(bits: float, where: str) -> None:
    if bits > MAX_CONST_BITS:
        shown = f"{bits:.0f}" if bits < 1e9 else "more than 10^9"
        msg = (
            f"constant too large{where}: about {shown} bits (at most {MAX_CONST_BITS}); "
            "SymPy would compute it exactly"
        )
        raise LimitExceeded(msg, limit="constant_too_large", value=bits, allowed=MAX_CONST_BITS)


def _size(q: _Expr) -> float:
    """|q| of a rational as a float (inf when it does not fit)."""
    try:
        return abs(int(q.p) / int(q.q))
    except OverflowError:
        return math.inf


def _pow_bits(base: _Expr, exp: _Expr) -> float:
    """Estimated bits of the exact numbers SymPy computes when it builds ``base**exp``.

    SymPy evaluates a rational power of a rational, distributes a power over a product,
    combines ``(b**k)**e`` into ``b**(k*e)`` and rewrites ``exp(c*log(r))`` as ``r**c``;
    bits(a**n) ~ bits(a)*|n| along each of these paths.
    """
    if not exp.is_number:
        return 0.0
    if base.is_Rational:
        return _bits(base) * max(1.0, _size(exp)) if exp.is_Rational else 0.0
    if base is sympy.E:
        return _exp_bits(exp)
    if isinstance(base, sympy.exp):
        return _exp_bits(sympy.Mul(base.args[0], exp))
    if base.is_Pow:
        return _pow_bits(base.base, sympy.Mul(base.exp, exp))
    if base.is_Mul:
        return sum(_pow_bits(factor, exp) for factor in base.args)
    return 0.0


def _exp_bits(arg: _Expr) -> float:
    """Estimated bits SymPy computes for ``exp(arg)``: each ``c*log(r)`` inside may become r**c."""
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


_CMATH: dict[Any, Callable[..., complex]] = {
    getattr(sympy, n): getattr(cmath, n)
    for n in "sin cos tan asin acos atan sinh cosh tanh asinh acosh atanh exp log".split()
}
_CMATH |= {sympy.sec: lambda z: 1 / cmath.cos(z), sympy.csc: lambda z: 1 / cmath.sin(z)}
_CMATH |= {sympy.cot: lambda z: 1 / cmath.tan(z), sympy.Abs: abs}
_CMATH |= {sympy.sign: lambda z: (z.real > 0) - (z.real < 0), sympy.atan2: lambda y, x: math.atan2(y.real, x.real)}
_CMATH |= {sympy.Min: lambda *a: min(z.real for z in a), sympy.Max: lambda *a: max(z.real for z in a)}


def _approx(expr: _Expr) -> complex:
    """A float approximation of a constant, for the exponent rule on irrational exponents."""
    if expr.is_Rational:
        return complex(int(expr.p) / int(expr.q))
    if expr in (sympy.pi, sympy.E):
        return complex(float(expr))
    args = [_approx(a) for a in expr.args]
    if expr.is_Add:
        return complex(sum(args))
    if expr.is_Mul:
        return complex(math.prod(args))
    if expr.is_Pow:
        return complex(args[0] ** args[1])
    return complex(_CMATH[expr.func](*args))


def _check_exponent(exp: _Expr, where: str) -> None:
    """A numeric exponent must satisfy |n| <= MAX_EXPONENT (checked before SymPy sees it)."""
    if not exp.is_number or exp in _UNDEFINED:
        return
    if exp.is_Rational:
        size = _size(exp)
    else:
        try:
            size = abs(_approx(exp))
        except (ArithmeticError, ValueError, KeyError):
            size = math.inf
    if not size <= MAX_EXPONENT:  # also catches nan
        shown = f"{size:.6g}" if size < 1e15 else "more than 10^15"
        msg = f"exponent too large{where}: |{shown}| > {MAX_EXPONENT}; rewrite the expression"
        raise LimitExceeded(msg, limit="exponent_too_large", value=size, allowed=MAX_EXPONENT)


# --------------------------------------------------------------- checked constructors
def _add(terms: list[_Expr], where: str = "") -> _Expr:
    """Sum, after redoing SymPy's collection of like terms with a size check."""
    collected: dict[_Expr, _Expr] = {}
    for term in terms:
        for t in sympy.Add.make_args(term):
            coeff, rest = t.as_coeff_Mul()
            if coeff.is_Rational:
                collected[rest] = collected.get(rest, 0) + coeff
                _refuse_bits(_bits(collected[rest]), where)
    return sympy.Add(*terms)


def _mul(factors: list[_Expr], where: str = "") -> _Expr:
    """Product, after redoing SymPy's merging of coefficients and like powers with checks."""
    coeff, exps, bases, spread = sympy.Integer(1), {}, {}, 0
    for factor in factors:
        for f in sympy.Mul.make_args(factor):
            if f.is_Rational:
                coeff *= f
                _refuse_bits(_bits(coeff), where)
                continue
            base, exp = f.as_base_exp()
            if exp.is_Rational:  # x**a * x**b -> x**(a+b); 3**(1/2) * 12**(1/2) -> 36**(1/2)
                exps[base] = exps.get(base, 0) + exp
                _refuse_bits(_bits(exps[base]), where)
                if base.is_Rational:
                    bases[exp] = bases.get(exp, 1) * base
                    _refuse_bits(_bits(bases[exp]), where)
            if f.is_Add:  # 2*(x + 1) -> 2*x + 2
                spread = max(spread, *(_bits(t.as_coeff_Mul()[0]) for t in f.args))
    _refuse_bits(_bits(coeff) + spread, where)
    return sympy.Mul(*factors)


def _pow(base: _Expr, exp: _Expr, where: str = "") -> _Expr:
    _check_exponent(exp, where)
    _refuse_bits(_pow_bits(base, exp), where)
    return sympy.Pow(base, exp)


def _call(spec: FunctionSpec, args: list[_Expr], where: str = "") -> _Expr:
    name = spec.sympy_name
    if name == "exp":
        return _pow(sympy.E, args[0], where)
    if name == "sqrt":
        return _pow(args[0], sympy.Rational(1, 2), where)
    bases = {"log10": sympy.Integer(10), "log2": sympy.Integer(2)}
    if name in bases or (name == "log" and len(args) == 2):  # log(x, b) = log(x)/log(b), as SymPy itself writes it
        base = bases.get(name, args[-1])
        return _mul([sympy.log(args[0]), _pow(sympy.log(base), sympy.Integer(-1), where)], where)
    return getattr(sympy, name)(*args)


def _checked_result(expr: _Expr) -> _Expr:
    """Refuse undefined or complex values; bound every exact number in the final tree."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if node in _UNDEFINED:
            msg = f"the expression contains {_UNDEFINED[node]}; symgrad works with real, finite values"
            raise UnsupportedError(msg)
        if node.is_Rational:
            _refuse_bits(_bits(node), "")
        stack.extend(node.args)
    return expr


# ------------------------------------------------------------------------------ text
@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "number", "name", "op" or "end"
    text: str
    column: int
    value: Any = None  # the exact Rational of a number


def _as_text(source: str, what: str, forbidden: re.Pattern[str] = _FORBIDDEN) -> str:
    """Pre-checks, before any tokenizing: length, emptiness, ASCII, allowed characters."""
    text = str.__str__(source)  # a str subclass (numpy.str_) becomes a plain str
    if len(text) > MAX_LEN:
        msg = f"{what} too long: {len(text)} characters (at most {MAX_LEN})"
        raise LimitExceeded(msg, limit="too_long", value=len(text), allowed=MAX_LEN)
    if not text.strip(" \t"):
        example = {"expression": "x^2 + 1", "number": "0.5"}.get(what, "x=0.5")
        msg = f"empty {what}: give e.g. {example}"
        raise ParseError(msg, reason="empty", text=text)
    if not text.isascii():
        column, char = next((i + 1, c) for i, c in enumerate(text) if not c.isascii())
        code = ord(char)
        fix = _ASCII_FOR.get(char) or (repr(chr(code - 0xFEE0)) if 0xFF01 <= code <= 0xFF5E else "")
        hint = f"write {fix} instead" if fix else _NOT_SAID
        name = unicodedata.name(char, "unnamed")
        msg = f"non-ASCII character U+{code:04X} ({name}); {hint}"
        raise ParseError(msg, reason="non_ascii", text=text, column=column)
    match = forbidden.search(text)
    if match:
        char = match.group()
        msg = f"character {char!r} is not allowed here; {_WHY.get(char, _NOT_SAID)}"
        raise ParseError(msg, reason="forbidden_character", text=text, column=match.start() + 1)
    return text


def _tokenize(segment: str, text: str, offset: int = 0) -> list[_Token]:
    """Tokens of ``segment``, which starts at ``offset`` in ``text`` (for columns)."""
    tokens = []
    for match in _TOKEN.finditer(segment):
        kind, lexeme, column = match.lastgroup or "", match.group(), offset + match.start() + 1
        if kind == "space":
            continue
        if kind == "bad":
            msg = f"character {lexeme!r} is not allowed here; {_WHY.get(lexeme, _NOT_SAID)}"
            raise ParseError(msg, reason="forbidden_character", text=text, column=column)
        if kind == "name" and len(lexeme) > MAX_NAME_LEN:
            _check_name(lexeme, text, column)
        value = _literal(lexeme, text, column) if kind == "number" else None
        tokens.append(_Token(kind, lexeme, column, value))
        if len(tokens) > MAX_NODES:
            msg = f"more than {MAX_NODES} tokens; split the expression"
            raise LimitExceeded(msg, limit="too_many_nodes", value=len(tokens), allowed=MAX_NODES)
    tokens.append(_Token("end", "", offset + len(segment) + 1))
    return tokens


def _literal(lexeme: str, text: str, column: int) -> _Expr:
    """The exact value of a number literal, within the digit and exponent caps."""
    mantissa, _, exponent = lexeme.lower().partition("e")
    whole, _, frac = mantissa.partition(".")
    exp_digits = exponent.lstrip("+-").lstrip("0") or "0"
    digits = (whole + frac).lstrip("0")
    significant = digits.rstrip("0")
    problem = ""
    if len(exp_digits) > 3 or int(exp_digits) > MAX_DECIMAL_EXPONENT:
        problem = f"its exponent is out of range (|exponent| <= {MAX_DECIMAL_EXPONENT})"
    elif len(significant) > MAX_DIGITS:
        problem = f"it has {len(significant)} significant digits (at most {MAX_DIGITS})"
    power = int(exp_digits) * (-1 if exponent.startswith("-") else 1)
    power += len(digits) - len(significant) - len(frac)  # value = significant * 10**power
    if significant and not problem and abs(power + len(significant) - 1) > MAX_DECIMAL_EXPONENT:
        problem = f"its magnitude is outside 1e-{MAX_DECIMAL_EXPONENT} .. 1e{MAX_DECIMAL_EXPONENT}"
    if problem:
        msg = f"number {quote(lexeme)} is too large: {problem}"
        raise ParseError(msg, reason="literal_too_large", text=text, column=column)
    if not significant:
        return sympy.Integer(0)
    if power >= 0:
        return sympy.Integer(int(significant) * 10**power)
    return sympy.Rational(int(significant), 10**-power)


class _Parser:
    """Precedence climbing over a token list; builds SymPy through the checked constructors."""

    def __init__(self, tokens: list[_Token], text: str, names: frozenset[str] | None) -> None:
        self.tokens, self.text, self.names = tokens, text, names
        self.pos = self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        self.pos += 1
        return self.tokens[self.pos - 1]

    def error(self, msg: str, reason: str, token: _Token) -> ParseError:
        return ParseError(msg, reason=reason, text=self.text, column=token.column)

    def enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            msg = (
                f"expression nested more than {MAX_DEPTH} levels deep at column {token.column} "
                "(parentheses, calls, signs and powers each count)"
            )
            raise LimitExceeded(msg, limit="too_deep", value=self.depth, allowed=MAX_DEPTH)

    def parse(self) -> _Expr:
        expr = self.sum()
        if self.peek().kind != "end":
            raise self.unexpected(self.peek())
        return expr

    def sum(self) -> _Expr:
        where = f" at column {self.peek().column}"
        terms = [self.product()]
        while self.peek().text in ("+", "-"):
            sign = self.take().text
            term = self.product()
            terms.append(term if sign == "+" else _mul([sympy.Integer(-1), term], where))
        return terms[0] if len(terms) == 1 else _add(terms, where)

    def product(self) -> _Expr:
        where = f" at column {self.peek().column}"
        factors = [self.unary()]
        while self.peek().text in ("*", "/"):
            op = self.take().text
            factor = self.unary()
            factors.append(factor if op == "*" else _pow(factor, sympy.Integer(-1), where))
        return factors[0] if len(factors) == 1 else _mul(factors, where)

    def unary(self) -> _Expr:
        sign = self.peek()
        if sign.text not in ("+", "-"):
            return self.power()
        self.take()
        self.enter(sign)
        operand = self.unary()
        self.depth -= 1
        if sign.text == "+":
            return operand
        return _mul([sympy.Integer(-1), operand], f" at column {sign.column}")

    def power(self) -> _Expr:
        base = self.atom()
        op = self.peek()
        if op.text not in ("^", "**"):
            return base
        self.take()
        self.enter(op)
        exponent = self.unary()  # right-associative, and 2^-1 is allowed
        self.depth -= 1
        return _pow(base, exponent, f" at column {op.column}")

    def atom(self) -> _Expr:
        token = self.take()
        if token.kind == "number":
            return token.value
        if token.kind == "name":
            return self.call(token) if self.peek().text == "(" else self.name(token)
        if token.text == "(":
            self.enter(token)
            expr = self.sum()
            self.close(token)
            return expr
        got = "the end" if token.kind == "end" else quote(token.text)
        msg = f"expected a number, a name or '(' but found {got}"
        raise self.error(msg, "unexpected_token", token)

    def close(self, opening: _Token) -> None:
        token = self.peek()
        if token.text != ")":
            if token.kind == "end":
                msg = f"'(' at column {opening.column} is never closed"
                raise self.error(msg, "unbalanced_parenthesis", opening)
            raise self.unexpected(token)
        self.take()
        self.depth -= 1

    def unexpected(self, token: _Token) -> ParseError:
        """An error for a token where an operator (or the end) was expected."""
        if token.text == ")":
            return self.error("unmatched ')'", "unbalanced_parenthesis", token)
        if token.text == ",":
            msg = "',' only separates function arguments; an expression is a single scalar"
            return self.error(msg, "unexpected_token", token)
        before = self.tokens[self.pos - 1]
        simple = before.kind in ("name", "number") and token.kind in ("name", "number")
        hint = f"write {before.text}*{token.text}" if simple else "write '*' for a product"
        msg = f"missing operator before {quote(token.text)} (no implicit multiplication); {hint}"
        return self.error(msg, "unexpected_token", token)

    def name(self, token: _Token) -> _Expr:
        name, after = token.text, self.peek()
        if name in FUNCTIONS:
            arg = after.text if after.kind in ("name", "number") else "..."
            msg = f"function {name!r} needs parentheses; write {name}({arg})"
            raise self.error(msg, "unexpected_token", after)
        if name in CONSTANTS:
            return CONSTANTS[name]
        _check_name(name, self.text, token.column)
        if self.names is not None and name not in self.names:
            msg = f"unknown variable {name!r}; declared: {', '.join(sorted(self.names))[:80]}"
            raise self.error(msg, "unknown_variable", token)
        return sympy.Symbol(name, real=True)

    def call(self, token: _Token) -> _Expr:
        spec = FUNCTIONS.get(token.text)
        if spec is None:
            raise self.not_a_function(token)
        opening = self.take()
        self.enter(opening)
        args = [] if self.peek().text == ")" else [self.sum()]
        while self.peek().text == ",":
            comma = self.take()
            if len(args) == spec.max_args:
                msg = f"{token.text} takes {_arity(spec)}; got more"
                raise self.error(msg, "arity", comma)
            args.append(self.sum())
        if len(args) < spec.min_args:
            raise self.error(f"{token.text} takes {_arity(spec)}; got none", "arity", token)
        self.close(opening)
        return _call(spec, args, f" at column {token.column}")

    def not_a_function(self, token: _Token) -> ParseError:
        name = token.text
        if name in CONSTANTS or len(name) == 1 or name in (self.names or ()):
            kind = "constant" if name in CONSTANTS else "variable"
            msg = f"{name!r} is a {kind}, not a function; write {name}*(...) for a product"
            return self.error(msg, "unexpected_token", token)
        close = difflib.get_close_matches(name.lower(), FUNCTIONS, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        msg = f"unknown function {quote(name)}; {hint}allowed: {_ALLOWED}"
        return self.error(msg, "unknown_function", token)


_ALLOWED = " ".join(sorted({n for n in FUNCTIONS if n.islower() and not n.startswith("arc")}))


def _arity(spec: FunctionSpec) -> str:
    if spec.sympy_name == "log":
        return "1 or 2 arguments: log(x) or log(x, base)"
    if spec.min_args == spec.max_args:
        return f"exactly {spec.min_args} argument{'s' * (spec.min_args > 1)}"
    return f"{spec.min_args} to {spec.max_args} arguments"


# ------------------------------------------------------------------ SymPy and numbers
_MAX_TREE_DEPTH = 3 * MAX_DEPTH  # what text within MAX_DEPTH can produce


def _from_sympy(expr: _Expr) -> _Expr:
    """Rebuild a SymPy expression through the checked constructors (iterative post-order)."""
    built: dict[_Expr, _Expr] = {}
    visited: set[_Expr] = set()
    stack = [(expr, 1)]
    while stack:
        node, depth = stack[-1]
        if node not in visited:
            visited.add(node)
            _admit(node, depth, len(visited))
            stack.extend((arg, depth + 1) for arg in node.args if arg not in visited)
            continue
        stack.pop()
        if node not in built:
            built[node] = _rebuild(node, [built[arg] for arg in node.args])
    return built[expr]


def _admit(node: _Expr, depth: int, count: int) -> None:
    """Refuse a node type outside the allowlist, and trees too large or too deep."""
    if count > MAX_NODES or depth > _MAX_TREE_DEPTH:
        limit, value, allowed = (
            ("too_many_nodes", count, MAX_NODES) if count > MAX_NODES
            else ("too_deep", depth, _MAX_TREE_DEPTH)
        )
        msg = f"SymPy expression too large: {limit.replace('_', ' ')} (at most {allowed})"
        raise LimitExceeded(msg, limit=limit, value=value, allowed=allowed)
    if node in _UNDEFINED:
        msg = f"the expression contains {_UNDEFINED[node]}; symgrad works with real, finite values"
        raise UnsupportedError(msg)
    if node.func in (sympy.Min, sympy.Max) and len(node.args) > MAX_ARITY:
        msg = f"{node.func.__name__} takes 1 to {MAX_ARITY} arguments; got {len(node.args)}"
        raise ParseError(msg, reason="arity")
    simple = type(node) is sympy.Symbol or node.is_Number or node in (sympy.pi, sympy.E)
    if not (simple or node.is_Add or node.is_Mul or node.is_Pow or node.func in _SYMPY_FUNCTIONS):
        msg = (
            f"{type(node).__name__} is not supported: expressions are built from numbers, "
            f"real variables, pi, E, + - * / ^ and the functions {_ALLOWED}"
        )
        raise UnsupportedError(msg)


def _rebuild(node: _Expr, args: list[_Expr]) -> _Expr:
    if type(node) is sympy.Symbol:
        return sympy.Symbol(_check_name(node.name, node.name, 1), real=True)
    if isinstance(node, sympy.Float):
        sign, mantissa, exponent, bits = node._mpf_
        _refuse_bits(bits + abs(exponent), "")
        return sympy.Rational(node)  # exact: the binary value of the Float
    if node.is_Atom:
        _refuse_bits(_bits(node), "")
        return node
    if node.is_Add:
        return _add(args)
    if node.is_Mul:
        return _mul(args)
    if node.is_Pow:
        return _pow(*args)
    if node.func is sympy.exp:
        return _pow(sympy.E, args[0])
    return node.func(*args)


def _not(what: str, reason: str, value: object) -> ParseError:
    msg = f"expected {what} (got {type(value).__name__}: {quote(repr(value))})"
    return ParseError(msg, reason=reason)


def _exact(value: object, reason: str) -> _Expr:
    """An exact SymPy Rational for a Python or SymPy number; floats keep their binary value."""
    if isinstance(value, bool):
        raise _not("a number, not a bool", reason, value)
    if isinstance(value, sympy.Float):
        return _rebuild(value, [])
    if isinstance(value, sympy.Rational):
        return value
    if isinstance(value, numbers.Rational):
        return sympy.Rational(int(value.numerator), int(value.denominator))
    if isinstance(value, numbers.Real):
        real = float(value)
        if not math.isfinite(real):
            msg = f"{real} is not a finite number"
            raise ParseError(msg, reason="not_a_number")
        return sympy.Rational(*real.as_integer_ratio())
    raise _not("a number", reason, value)


# -------------------------------------------------------------------------- public
def parse(
    source: str | _Expr | int | float | Fraction,
    variables: str | Sequence[str | _Expr] | None = None,
) -> _Expr:
    """Turn text (or a SymPy expression or a number) into a SymPy expression, safely.

    Parameters
    ----------
    source : str, sympy.Expr, int, float or Fraction
        Text such as ``"x^2 + sin(y)"`` (``^`` and ``**`` are both powers, numbers are
        exact, see the module docstring), or a SymPy expression, which is rebuilt with every
        symbol replaced by the real symbol of the same (validated) name and every ``Float``
        by the exact rational of its binary value.  A Python float is converted likewise.
    variables : str or sequence, optional
        When given (``"x y"``, ``["x", "y"]``), every free name must be one of them.

    Returns
    -------
    sympy.Expr

    Raises
    ------
    ParseError
        Text that is not an accepted expression; ``reason`` says why and ``column`` where.
    LimitExceeded
        A size, depth, exponent or constant-size cap; ``limit`` says which.
    UnsupportedError
        A SymPy input with an unsupported function, or a value such as ``1/0`` or ``sqrt(-1)``.

    Examples
    --------
    >>> parse("-x^2 + 0.5*y")
    -x**2 + y/2
    >>> parse("2x")
    Traceback (most recent call last):
    ...
    symgrad.errors.ParseError: missing operator before 'x' (no implicit multiplication); ...
    """
    names = None if variables is None else frozenset(s.name for s in parse_variables(variables))
    try:
        if isinstance(source, str):
            text = _as_text(source, "expression")
            expr = _Parser(_tokenize(text, text), text, names).parse()
        elif isinstance(source, sympy.Basic):
            if not isinstance(source, sympy.Expr) or getattr(source, "is_Matrix", False):
                raise _not("a scalar expression", "not_an_expression", source)
            expr = _from_sympy(source)
        else:
            expr = _exact(source, "not_an_expression")
            _refuse_bits(_bits(expr), "")
        expr = _checked_result(expr)
    except SymgradError:
        raise
    except (ArithmeticError, ValueError, TypeError, RecursionError) as exc:  # from SymPy itself
        msg = f"SymPy could not build this expression ({type(exc).__name__}); please report it"
        raise UnsupportedError(msg) from exc
    unknown = sorted(s.name for s in expr.free_symbols if names is not None and s.name not in names)
    if unknown:
        msg = f"unknown variable {unknown[0]!r}; declared: {', '.join(sorted(names or ()))[:80]}"
        raise ParseError(msg, reason="unknown_variable")
    return expr


def parse_variables(spec: str | Sequence[str | _Expr]) -> tuple[_Expr, ...]:
    """Real symbols for a variable list: ``"x y z"``, ``"x,y,z"``, ``"x, y"`` or a sequence.

    Raises `ParseError` (reasons ``empty``, ``duplicate_variable`` and those of
    `validate_name`).

    Examples
    --------
    >>> parse_variables("y, x")
    (y, x)
    """
    if isinstance(spec, str):
        text = str.__str__(spec)
        if len(text) > MAX_LEN:
            msg = f"variable list too long: {len(text)} characters (at most {MAX_LEN})"
            raise LimitExceeded(msg, limit="too_long", value=len(text), allowed=MAX_LEN)
        items: list[tuple[object, int]] = [
            (m.group(), m.start() + 1) for m in re.finditer(r"[^ \t,]+", text)
        ]
    elif isinstance(spec, Sequence):
        text, items = "", [(item, 0) for item in spec]
    else:
        raise _not("variables as 'x y z' or a sequence of names", "invalid_name", spec)
    found: dict[str, _Expr] = {}
    for item, column in items:
        name = _variable_name(item, text, column)
        if name in found:
            msg = f"variable {name!r} is listed twice"
            raise ParseError(msg, reason="duplicate_variable", text=text, column=column)
        found[name] = sympy.Symbol(name, real=True)
    if not found:
        raise ParseError("empty variable list: give e.g. 'x y'", reason="empty")
    return tuple(found.values())


def _variable_name(item: object, text: str, column: int) -> str:
    if isinstance(item, str):
        return _check_name(str.__str__(item), text or str.__str__(item), column or 1)
    if type(item) is sympy.Symbol:
        return _check_name(item.name, item.name, 1)
    raise _not("a variable name or a SymPy Symbol", "invalid_name", item)


def parse_number(value: str | int | float | Fraction | _Expr) -> _Expr:
    """An exact SymPy Rational for a point coordinate.

    Text may be a signed decimal literal or a ratio of two (``"-1e-3"``, ``"1/3"``); names
    such as ``pi`` are refused (reason ``not_a_number``).  Floats become the exact rational
    of their binary value.  Integers and fractions obey the literal caps of the tokenizer.

    Examples
    --------
    >>> parse_number("0.3"), parse_number("-1e-3"), parse_number("1/3")
    (3/10, -1/1000, 1/3)
    >>> parse_number(0.5)
    1/2
    """
    if isinstance(value, str):
        text = _as_text(value, "number")
        return _number_text(text, text, 0)
    number = _exact(value, "not_a_number")
    for part in (int(number.p), int(number.q)):
        digits = str(abs(part)) if part.bit_length() <= 4 * MAX_LEN else ""
        if not isinstance(value, float | sympy.Float) and not (0 < len(digits) <= 309):
            msg = f"number too large: at most {MAX_DECIMAL_EXPONENT + 1} digits"
            raise ParseError(msg, reason="literal_too_large")
        if not isinstance(value, float | sympy.Float) and len(digits.rstrip("0")) > MAX_DIGITS:
            msg = f"number has more than {MAX_DIGITS} significant digits"
            raise ParseError(msg, reason="literal_too_large")
    return number


_PREFIX = re.compile(r"[+-]?(?:n(?:/[+-]?n?)?)?")


def _number_text(segment: str, text: str, offset: int) -> _Expr:
    """``[sign] literal [/ [sign] literal]`` in ``segment`` (which starts at ``offset``)."""
    tokens = _tokenize(segment, text, offset)
    tokens, end = tokens[:-1], tokens[-1]
    shape = "".join("n" if t.kind == "number" else t.text[0] for t in tokens)
    if not re.fullmatch(r"[+-]?n(/[+-]?n)?", shape):
        # the first token that no valid number can start with; else the end
        k = next((i for i in range(len(shape)) if not _PREFIX.fullmatch(shape[: i + 1])), -1)
        column = tokens[k].column if k >= 0 else end.column
        msg = f"expected a number such as 0.3, -1e-3 or 1/3 (got {quote(segment.strip())})"
        raise ParseError(msg, reason="not_a_number", text=text, column=column)
    signs = [-1 if t.text == "-" else 1 for t in tokens if t.text in "+-"]
    numbers_ = [t.value for t in tokens if t.kind == "number"]
    value = math.prod(signs) * numbers_[0]
    if len(numbers_) == 2:
        if numbers_[1] == 0:
            msg = "division by zero in a number"
            raise ParseError(msg, reason="not_a_number", text=text, column=tokens[0].column)
        value /= numbers_[1]
    return value


def parse_point(spec: str | Mapping[str | _Expr, object]) -> dict[_Expr, _Expr]:
    """A point ``{symbol: Rational}`` from ``"x=0.3, y=-1e-2"`` or a mapping.

    Names are validated and become real symbols; values go through `parse_number`.

    Examples
    --------
    >>> parse_point("x=0.3,y=1/3")
    {x: 3/10, y: 1/3}
    """
    pairs: list[tuple[str, _Expr, str, int]] = []
    if isinstance(spec, Mapping):
        pairs = [(_variable_name(k, "", 0), parse_number(v), "", 0) for k, v in spec.items()]
    elif isinstance(spec, str):
        text = _as_text(spec, "point", _POINT_FORBIDDEN)
        start = 0
        for piece in text.split(","):
            pairs.append(_coordinate(piece, text, start))
            start += len(piece) + 1
    else:
        raise _not("a point such as 'x=0.3,y=0.7' or a mapping", "not_a_point", spec)
    point: dict[_Expr, _Expr] = {}
    for name, value, text, column in pairs:
        key = sympy.Symbol(name, real=True)
        if key in point:
            msg = f"variable {name!r} is given twice"
            raise ParseError(msg, reason="duplicate_variable", text=text, column=column)
        point[key] = value
    return point


def _coordinate(piece: str, text: str, start: int) -> tuple[str, _Expr, str, int]:
    name_part, equals, value_part = piece.partition("=")
    name = name_part.strip(" \t")
    column = start + 1 + len(name_part) - len(name_part.lstrip(" \t"))
    if not equals or not name:
        msg = "expected name=value items separated by commas, e.g. 'x=0.3, y=0.7'"
        raise ParseError(msg, reason="unexpected_token", text=text, column=column)
    _check_name(name, text, column)
    return name, _number_text(value_part, text, start + len(name_part) + 1), text, column
