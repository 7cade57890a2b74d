"""The safe parser: text or a SymPy object to a SymPy expression, never executing anything.

``sympify`` and ``parse_expr`` ``eval`` their input, and a restricted namespace does not make that
safe.  symgrad never evaluates text.  Text goes through

1. pre-checks: a ``str`` of at most ``MAX_LEN`` characters, ASCII only, allowed characters only;
2. a regular-expression tokenizer (linear time) that validates number literals and names;
3. a precedence-climbing parser: ``+ -`` < ``* /`` < unary ``+ -`` < ``^`` (or ``**``).  Power is
   right-associative and binds tighter than unary minus (``-x^2`` is ``-(x^2)``, ``2^-1`` is 1/2),
   ``a/b/c`` is ``a/(b*c)``.  Sums and products are flat lists, and every parenthesis, call,
   unary sign and exponent counts one level against ``MAX_DEPTH``;
4. four checked constructors (sum, product, power, call) that build SymPy objects directly and
   refuse, *before* SymPy evaluates anything, a numeric exponent above ``MAX_EXPONENT`` or an
   exact number estimated above ``MAX_CONST_BITS`` bits (SymPy evaluates ``10^10^10`` eagerly
   and never finishes; a 5,000-digit integer cannot even be printed).

Numbers are exact (``0.1`` is ``1/10``).  There is no implicit multiplication: write ``2*x``.
The constants are ``pi`` and ``E``; ``e`` is Euler's number too, as in ``e^x``, unless the
``variables`` declare it (then it is a variable).  The parsed expression shows the reading:
``x*e^x`` prints as ``x*exp(x)``.  A SymPy input's ``Symbol("e")`` is a variable, as built.

Variables are ``sympy.Symbol(name, real=True)``.  The variables of a text are the names it
writes, even those SymPy cancels on construction (``x - x + y`` is a function of x and y, so
its gradient has a zero x-component); those of a SymPy input are its free symbols.  Without an
explicit order they are sorted naturally: digit runs compare as numbers, so ``x2`` comes before
``x10`` (`sort_variables`).  Reserved names, refused as variables: the function names (but
those of the special functions, ``gamma``, ``beta``, ``erf``, ..., are variables unless called),
``pi``, ``E``, ``I``, ``oo``, ``zoo``, ``nan``, ``inf``, Python keywords, and ``numpy``, ``math``,
``mpmath``, ``scipy``, ``builtins``, ``select``, ``Dummy`` and ``Dummy_*`` (names in generated
code).  ``cbrt`` is not offered: SymPy's cube root of a negative number is complex.

A point is not an expression: each coordinate is a decimal literal or a ratio of two, read
exactly, with up to ``MAX_POINT_DIGITS`` significant digits (the largest precision), so that
the exact value of a double, 1.5707963267948965579989817342720925807952880859375, is accepted.
Literals inside an expression keep the ``MAX_DIGITS`` cap.
"""

from __future__ import annotations

import keyword
import math
import numbers
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NoReturn

import sympy

from symgrad.errors import LimitExceeded, ParseError, SymgradError, UnsupportedError, quote
from symgrad.expr._grammar import (
    _MINUS_ONE,
    _UNDEFINED,
    CONSTANTS,
    FUNCTIONS,
    MAX_ARITY,
    MAX_CONST_BITS,
    MAX_DECIMAL_EXPONENT,
    MAX_DEPTH,
    MAX_DIGITS,
    MAX_EXPONENT,
    MAX_LEN,
    MAX_MINMAX_COST,
    MAX_NAME_LEN,
    MAX_NODES,
    MAX_NONSMOOTH,
    MAX_POINT_DIGITS,
    SOFT_CONSTANTS,
    FunctionSpec,
    _add,
    _bits,
    _call,
    _checked_result,
    _Expr,
    _mul,
    _pow,
    _refuse_bits,
    call_function,
)

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
    "MAX_POINT_DIGITS",
    "SOFT_CONSTANTS",
    "FunctionSpec",
    "free_variables",
    "name_order",
    "parse",
    "parse_number",
    "parse_point",
    "parse_variables",
    "parse_with_variables",
    "sort_variables",
    "symbol",
    "validate_name",
]

_ALLOWED = (  # every canonical name, by family (FUNCTIONS also has aliases: arcsin, ln, Abs, ...)
    "sin cos tan sec csc cot sinh cosh tanh, inverses asin...atanh, atan2 exp log log10 log2 "
    "sqrt, abs sign min max Heaviside, erf erfc gamma loggamma beta besselj bessely"
)
_SYMPY_FUNCTIONS = {  # the classes a SymPy input may use (sqrt, log10, log2 build Pow and log)
    getattr(sympy, s.name) for s in FUNCTIONS.values() if hasattr(sympy, s.name)
} - {sympy.sqrt}
# The node types a SymPy input may contain, by exact type (a subclass may redefine evaluation):
# besides these, numbers (Rational, Float) and the constants pi and E.
_SYMPY_NODES = frozenset({sympy.Symbol, sympy.Add, sympy.Mul, sympy.Pow, *_SYMPY_FUNCTIONS})
_GENERATED = ("numpy", "math", "mpmath", "scipy", "builtins", "select", "Dummy")
_RESERVED = dict.fromkeys((n for n, s in FUNCTIONS.items() if s.reserved), "a function")
_RESERVED |= dict.fromkeys(CONSTANTS, "a constant")
_RESERVED |= dict.fromkeys(("I", "oo", "zoo", "nan", "inf"), "not a real, finite variable")
_RESERVED |= dict.fromkeys(keyword.kwlist, "a Python keyword")
_RESERVED |= dict.fromkeys(_GENERATED, "a name in generated code")

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_TOKEN = re.compile(
    r"(?P<space>[ \t]+)|(?P<number>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z][A-Za-z0-9_]*)|(?P<op>\*\*|[-+*/^(),])|(?P<bad>.)",
    re.DOTALL,
)
# A character outside the set, a '_' that would start a name, a '.' touching no digit.
_BAD = r"|(?<![A-Za-z0-9_])_|(?<![0-9])\.(?![0-9])"
_FORBIDDEN = re.compile(r"[^A-Za-z0-9_.+\-*/^(), \t]" + _BAD)
_POINT_FORBIDDEN = re.compile(r"[^A-Za-z0-9_.+\-/=, \t]" + _BAD)
_WHY = {
    "_": "names start with a letter",
    ".": "'.' only appears inside numbers such as 0.5 (no attribute access)",
    "'": "there are no strings",
    ":": "there are no lambdas or slices",
    "=": "an expression is not an equation or assignment",
    "[": "use ( ) to group; an expression is one scalar (an index is x[0], digits only)",
    ";": "give one expression",
    "\n": "give the expression on one line",
}
_ALLOWED_CHARS = "allowed: ASCII letters, digits, spaces and + - * / ^ ( ) , ."

# ------------------------------------------------------------ indexed names (vector entries)
# ``x[3]`` is the variable ``x_3``: one name token, an index of digits only, nothing else between
# the brackets.  The character check sees it masked as a plain name of the same length (columns
# stay right); the tokenizer reads it as one name and hands the parser ``x_3``; a point reads it
# the same way.  symgrad.derive.vector("x", n) makes the same symbols.
_INDEXED_NAME = re.compile(r"([A-Za-z][A-Za-z0-9_]*)\[([0-9]+)\]")
_TOKEN = re.compile(
    _TOKEN.pattern.replace("(?P<name>[A-Za-z][A-Za-z0-9_]*)", r"(?P<name>[A-Za-z]\w*(?:\[\d+\])?)"),
    re.DOTALL | re.ASCII,
)


def _masked(text: str) -> str:
    """``text`` with each indexed name replaced by letters of its length (for the check)."""
    return _INDEXED_NAME.sub(lambda m: "a" * len(m[0]), text)


def _unindexed(name: str) -> str:
    """The variable a name means: ``x[3]`` is ``x_3`` (``x[03]`` too); other names as they are."""
    match = _INDEXED_NAME.fullmatch(name)
    return f"{match[1]}_{int(match[2])}" if match else name


# ------------------------------------------------------------ end of indexed names
_ASCII_FOR = {"\u2212": "-", "\u2013": "-", "\u00d7": "*", "\u00b7": "*", "\u00b2": "^2"}


# ------------------------------------------------------------------------------- names
def validate_name(name: object) -> str:
    """Return ``name`` if it is a valid, unreserved variable name.

    A name is 1 to 32 ASCII letters, digits and ``_``, starting with a letter, and not reserved
    (see the module docstring).  Otherwise `ParseError` with reason ``invalid_name``,
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
    """`validate_name` for a name that starts at ``column`` of ``text``."""
    if len(name) > MAX_NAME_LEN:
        msg = f"name {quote(name)} has {len(name)} characters (at most {MAX_NAME_LEN})"
        raise ParseError(msg, reason="name_too_long", text=text, column=column + MAX_NAME_LEN)
    match = _NAME.match(name)
    if match is None or match.end() != len(name):
        msg = f"invalid name {quote(name)}: use letters, digits and _, starting with a letter"
        bad = match.end() if match else 0
        raise ParseError(msg, reason="invalid_name", text=text, column=column + bad)
    if name in _RESERVED or name.startswith("Dummy_"):
        why = _RESERVED.get(name, "a name in generated code")
        msg = f"{quote(name)} is reserved ({why}); choose another name"
        raise ParseError(msg, reason="reserved_name", text=text, column=column)
    return name


def symbol(name: str) -> _Expr:
    """The real SymPy symbol for a validated name.

    Examples
    --------
    >>> symbol("x").is_real
    True
    """
    return sympy.Symbol(validate_name(name), real=True)


_DIGIT_RUN = re.compile(r"([0-9]+)")


def name_order(name: str) -> tuple[tuple[str | int, ...], str]:
    """The sort key of a variable name: digit runs compare as numbers (``x2`` before ``x10``).

    The name splits into alternating letter and digit runs (letters first, possibly empty), so
    two keys only ever compare text with text and numbers with numbers; equal keys (``x01``,
    ``x1``) fall back to the name itself.

    Examples
    --------
    >>> sorted(["x10", "x2", "x", "x_1", "x1b"], key=name_order)
    ['x', 'x1b', 'x2', 'x10', 'x_1']
    """
    runs = _DIGIT_RUN.split(name)
    return tuple(int(run) if i % 2 else run for i, run in enumerate(runs)), name


def sort_variables(symbols: Iterable[_Expr]) -> tuple[_Expr, ...]:
    """Symbols in the default variable order: by `name_order` of their names.

    Examples
    --------
    >>> sort_variables(parse_variables("x10 y x2 x1"))
    (x1, x2, x10, y)
    """
    return tuple(sorted(symbols, key=lambda s: name_order(s.name)))


def free_variables(expr: _Expr) -> tuple[_Expr, ...]:
    """The free symbols of ``expr`` in the default variable order (`sort_variables`).

    For text, prefer `parse_with_variables`: it also keeps the names SymPy cancelled.

    Examples
    --------
    >>> free_variables(parse("y*x10 + x2"))
    (x2, x10, y)
    """
    return sort_variables(expr.free_symbols)


# -------------------------------------------------------------------------------- text
@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "number", "name", "op" or "end"
    text: str
    column: int
    value: Any = None  # the exact Rational of a number


def _as_text(source: str, what: str, forbidden: re.Pattern[str] = _FORBIDDEN) -> str:
    """The pre-checks, before any tokenizing: length, emptiness, ASCII, allowed characters."""
    text = str.__str__(source)  # a str subclass such as numpy.str_ becomes a plain str
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
        ascii_ = _ASCII_FOR.get(char) or (chr(code - 0xFEE0) if 0xFF01 <= code <= 0xFF5E else "")
        hint = f"write {ascii_} instead" if ascii_ else _ALLOWED_CHARS
        msg = f"non-ASCII character U+{code:04X} ({unicodedata.name(char, '?')}); {hint}"
        raise ParseError(msg, reason="non_ascii", text=text, column=column)
    if match := forbidden.search(_masked(text)):  # indexed names: see their section
        _forbidden(match.group(), text, match.start() + 1)
    return text


def _forbidden(char: str, text: str, column: int) -> NoReturn:
    msg = f"character {char!r} is not allowed here; {_WHY.get(char, _ALLOWED_CHARS)}"
    raise ParseError(msg, reason="forbidden_character", text=text, column=column)


def _tokenize(segment: str, text: str, offset: int = 0, digits: int = MAX_DIGITS) -> list[_Token]:
    """The tokens of ``segment``, which starts after ``offset`` characters of ``text``.

    ``digits`` caps the significant digits of a number literal (more in a point).
    """
    tokens = []
    for match in _TOKEN.finditer(segment):
        kind, lexeme, column = match.lastgroup or "", match.group(), offset + match.start() + 1
        if kind == "bad":
            _forbidden(lexeme, text, column)
        if kind == "name" and len(lexeme) > MAX_NAME_LEN:
            _check_name(lexeme, text, column)
        if kind != "space":
            value = _literal(lexeme, text, column, digits) if kind == "number" else None
            name = _unindexed(lexeme) if kind == "name" else lexeme  # x[3] is x_3
            tokens.append(_Token(kind, name, column, value))
        if len(tokens) > MAX_NODES:
            msg = f"more than {MAX_NODES} tokens; split the expression"
            raise LimitExceeded(msg, limit="too_many_nodes", value=len(tokens), allowed=MAX_NODES)
    return [*tokens, _Token("end", "", offset + len(segment) + 1)]


def _literal(lexeme: str, text: str, column: int, max_digits: int = MAX_DIGITS) -> _Expr:
    """The exact value of a number literal, checked only once the whole lexeme is read."""
    mantissa, _, exponent = lexeme.lower().partition("e")
    whole, _, frac = mantissa.partition(".")
    exp_digits = exponent.lstrip("+-").lstrip("0") or "0"
    digits = (whole + frac).lstrip("0")
    significant = digits.rstrip("0")
    problem = ""
    if len(exp_digits) > 3 or int(exp_digits) > MAX_DECIMAL_EXPONENT:
        problem = f"its exponent is out of range (at most {MAX_DECIMAL_EXPONENT})"
    elif len(significant) > max_digits:
        problem = f"it has {len(significant)} significant digits (at most {max_digits})"
    power = int(exp_digits) * (-1 if exponent.startswith("-") else 1)
    power += len(digits) - len(significant) - len(frac)  # value == significant * 10**power
    if not problem and significant and abs(power + len(significant) - 1) > MAX_DECIMAL_EXPONENT:
        problem = f"its magnitude is outside 1e-{MAX_DECIMAL_EXPONENT}..1e{MAX_DECIMAL_EXPONENT}"
    if problem:
        msg = f"number {quote(lexeme)} is too large: {problem}"
        raise ParseError(msg, reason="literal_too_large", text=text, column=column)
    if not significant or power >= 0:
        return sympy.Integer(int(significant or 0) * 10 ** max(power, 0))
    return sympy.Rational(int(significant), 10**-power)


def _prescan_nonsmooth(tokens: list[_Token]) -> None:
    """Bound what SymPy's simplification of abs/sign/min/max costs before SymPy builds anything.

    Counts the calls of non-smooth functions and the arguments of each (commas at the call's own
    parenthesis level) over the tokens alone, so a refused text never reaches SymPy (see grammar).
    """
    calls, cost, depth = 0, 0, 0
    open_calls: list[tuple[int, int]] = []  # (parenthesis depth inside the call, arguments)
    for i, token in enumerate(tokens):
        if token.text == "(":
            depth += 1
            name = tokens[i - 1] if i else token
            spec = FUNCTIONS.get(name.text) if name.kind == "name" else None
            if spec is not None and not spec.smooth:
                calls += 1
                open_calls.append((depth, 1))
                _refuse_nonsmooth(calls, cost, name)
        elif token.text == "," and open_calls and open_calls[-1][0] == depth:
            open_calls[-1] = (depth, open_calls[-1][1] + 1)
        elif token.text == ")":
            if open_calls and open_calls[-1][0] == depth:
                n_args = min(open_calls.pop()[1], MAX_ARITY)  # more: the parser's arity error
                cost += n_args**2 if n_args > 1 else 0
                _refuse_nonsmooth(calls, cost, token)
            depth -= 1


def _refuse_nonsmooth(calls: int, cost: int, token: _Token) -> None:
    if calls > MAX_NONSMOOTH or cost > MAX_MINMAX_COST:
        msg = (
            f"too many abs/sign/min/max calls or arguments at column {token.column} (at most "
            f"{MAX_NONSMOOTH} calls and a total of {MAX_MINMAX_COST} squared min/max "
            "arguments); split the expression"
        )
        raise LimitExceeded(msg, limit="too_many_nodes", value=calls, allowed=MAX_NONSMOOTH)


class _Parser:
    """Precedence climbing over the tokens; builds SymPy through the checked constructors."""

    def __init__(self, tokens: list[_Token], text: str, names: frozenset[str] | None) -> None:
        self.tokens, self.text, self.names = tokens, text, names
        self.pos = self.depth = 0
        self.written: set[str] = set()  # the variables the text names, cancelled or not

    def constant(self, name: str) -> _Expr | None:
        """The constant ``name`` stands for here: ``pi``, ``E``, or ``e`` unless declared."""
        if name in SOFT_CONSTANTS and name in (self.names or ()):
            return None
        return CONSTANTS.get(name, SOFT_CONSTANTS.get(name))

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        self.pos += 1
        return self.tokens[self.pos - 1]

    def error(self, msg: str, reason: str, token: _Token) -> ParseError:
        return ParseError(msg, reason=reason, text=self.text, column=token.column)

    def deeper(self, token: _Token, parse: Callable[[], _Expr]) -> _Expr:
        """``parse()`` one nesting level down (a parenthesis, call, sign or exponent)."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            msg = f"expression nested more than {MAX_DEPTH} levels deep at column {token.column}"
            raise LimitExceeded(msg, limit="too_deep", value=self.depth, allowed=MAX_DEPTH)
        value = parse()
        self.depth -= 1
        return value

    def parse(self) -> _Expr:
        expr = self.sum()
        if self.peek().kind != "end":
            raise self.unexpected(self.peek())
        return expr

    def sum(self) -> _Expr:
        return self.chain("+-", self.product, _add, lambda t, w: _mul([_MINUS_ONE, t], w))

    def product(self) -> _Expr:
        return self.chain("*/", self.unary, _mul, lambda f, w: _pow(f, _MINUS_ONE, w))

    def chain(self, ops: str, operand: Callable[[], _Expr], join: Any, invert: Any) -> _Expr:
        """``operand (op operand)*`` into one flat n-ary sum or product: no recursion per term."""
        where = f" at column {self.peek().column}"
        items = [operand()]
        while self.peek().text in (ops[0], ops[1]):
            inverse = self.take().text == ops[1]
            item = operand()
            items.append(invert(item, where) if inverse else item)
        return items[0] if len(items) == 1 else join(items, where)

    def unary(self) -> _Expr:
        sign = self.peek()
        if sign.text not in ("+", "-"):
            return self.power()
        self.take()
        operand = self.deeper(sign, self.unary)
        where = f" at column {sign.column}"
        return operand if sign.text == "+" else _mul([_MINUS_ONE, operand], where)

    def power(self) -> _Expr:
        base, op = self.atom(), self.peek()
        if op.text not in ("^", "**"):
            return base
        self.take()
        exponent = self.deeper(op, self.unary)  # right-associative; 2^-1 is allowed
        return _pow(base, exponent, f" at column {op.column}")

    def atom(self) -> _Expr:
        token = self.take()
        if token.kind == "number":
            return token.value
        if token.kind == "name":
            return self.call(token) if self.peek().text == "(" else self.name(token)
        if token.text == "(":
            return self.deeper(token, lambda: self.close(token, self.sum()))
        found = "the end" if token.kind == "end" else quote(token.text)
        msg = f"expected a number, a name or '(', found {found}"
        raise self.error(msg, "unexpected_token", token)

    def close(self, opening: _Token, value: _Expr) -> _Expr:
        """Take the ``)`` that matches ``opening``; return ``value``."""
        token = self.take()
        if token.kind == "end":
            msg = "'(' is never closed"
            raise self.error(msg, "unbalanced_parenthesis", opening)
        if token.text != ")":
            raise self.unexpected(token)
        return value

    def unexpected(self, token: _Token) -> ParseError:
        """The error for ``token`` where an operator, ``)`` or the end was expected."""
        if token.text in (")", ","):
            reason = "unbalanced_parenthesis" if token.text == ")" else "unexpected_token"
            msg = "unmatched ')'" if token.text == ")" else "',' outside a call: give one scalar"
            return self.error(msg, reason, token)
        before = self.tokens[self.tokens.index(token) - 1]
        simple = {before.kind, token.kind} <= {"name", "number"}
        hint = f"write {before.text}*{token.text}" if simple else "write * for a product"
        msg = f"missing operator before {quote(token.text)} (no implicit multiplication); {hint}"
        return self.error(msg, "unexpected_token", token)

    def name(self, token: _Token) -> _Expr:
        name, after = token.text, self.peek()
        if name in FUNCTIONS and FUNCTIONS[name].reserved:  # gamma alone is a variable
            arg = after.text if after.kind in ("name", "number") else "..."
            msg = f"function {name!r} needs parentheses: write {name}({arg})"
            raise self.error(msg, "unexpected_token", after)
        constant = self.constant(name)
        if constant is not None:
            return constant
        _check_name(name, self.text, token.column)
        if self.names is not None and name not in self.names:
            msg = f"unknown variable {name!r}; declared: {' '.join(sorted(self.names))[:80]}"
            raise self.error(msg, "unknown_variable", token)
        self.written.add(name)
        return sympy.Symbol(name, real=True)

    def call(self, token: _Token) -> _Expr:
        spec = FUNCTIONS.get(token.text)
        if spec is None:
            raise self.not_a_function(token)
        args = self.deeper(token, lambda: self.arguments(token, spec))
        return _call(spec, args, f" at column {token.column}")

    def arguments(self, token: _Token, spec: FunctionSpec) -> Any:
        opening = self.take()
        args = [] if self.peek().text == ")" else [self.sum()]
        while self.peek().text == ",":
            comma = self.take()
            if len(args) == spec.max_args:  # before parsing more: max(x0, ..., x299) stops here
                msg = f"{token.text} takes {_arity(spec)}; got more"
                raise self.error(msg, "arity", comma)
            args.append(self.sum())
        if len(args) < spec.min_args:
            msg = f"{token.text} takes {_arity(spec)}; got {len(args) or 'none'}"
            raise self.error(msg, "arity", token)
        return self.close(opening, args)

    def not_a_function(self, token: _Token) -> ParseError:
        name = token.text
        constant = self.constant(name) is not None
        if not constant:
            _check_name(name, self.text, token.column)  # I(x), lambda(x): reserved names
        if constant or len(name) == 1 or name in (self.names or ()):
            kind = "constant" if constant else "variable"
            msg = f"{name!r} is a {kind}, not a function; write {name}*(...) for a product"
            return self.error(msg, "unexpected_token", token)
        import difflib  # noqa: PLC0415 - only an unknown function's message needs it

        close = difflib.get_close_matches(name.lower(), FUNCTIONS, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"allowed: {_ALLOWED}"
        msg = f"unknown function {quote(name)}; {hint}"
        return self.error(msg, "unknown_function", token)


def _arity(spec: FunctionSpec) -> str:
    if spec.name == "log":
        return "1 or 2 arguments: log(x) or log(x, base)"
    if spec.min_args == spec.max_args:
        return f"exactly {spec.min_args} argument{'s' * (spec.min_args > 1)}"
    return f"{spec.min_args} to {spec.max_args} arguments"


# -------------------------------------------------------------------- SymPy and numbers
_MAX_TREE_DEPTH = 5 * MAX_DEPTH  # deeper than any tree text within MAX_DEPTH produces


def _from_sympy(expr: _Expr) -> _Expr:
    """Rebuild a SymPy expression through the checked constructors (iterative post-order)."""
    built: dict[_Expr, _Expr] = {}
    visited: set[_Expr] = set()
    stack = [(expr, 1)]
    while stack:
        node, depth = stack[-1]
        if node not in visited:  # first visit: admit the node, then its arguments
            visited.add(node)
            _admit(node, depth, len(visited))
            stack.extend((arg, depth + 1) for arg in node.args if arg not in visited)
            continue
        stack.pop()
        if node not in built:  # a shared subtree is rebuilt once
            built[node] = _rebuild(node, [built[arg] for arg in node.args])
    return built[expr]


def _admit(node: _Expr, depth: int, count: int) -> None:
    """Refuse trees too large or deep, and node types outside the allowlist."""
    for limit, value, allowed in (
        ("too_many_nodes", count, MAX_NODES),
        ("too_deep", depth, _MAX_TREE_DEPTH),
    ):
        if value > allowed:
            msg = f"SymPy expression too large: {limit.replace('_', ' ')} (at most {allowed})"
            raise LimitExceeded(msg, limit=limit, value=value, allowed=allowed)
    if node in _UNDEFINED:
        msg = f"the expression contains {_UNDEFINED[node]}; symgrad needs real, finite values"
        raise UnsupportedError(msg)
    if node.func in (sympy.Min, sympy.Max) and len(node.args) > MAX_ARITY:
        msg = f"{node.func.__name__} takes 1 to {MAX_ARITY} arguments; got {len(node.args)}"
        raise ParseError(msg, reason="arity")
    if not (
        type(node) in _SYMPY_NODES
        or isinstance(node, sympy.Rational | sympy.Float)  # Integer, Zero, Half... are Rationals
        or node in (sympy.pi, sympy.E)
    ):
        kind = type(node).__name__
        msg = f"{kind} is not supported: use numbers, variables, pi, E, + - * / ^ and {_ALLOWED}"
        raise UnsupportedError(msg)


def _rebuild(node: _Expr, args: list[_Expr]) -> _Expr:
    if type(node) is sympy.Symbol:
        return sympy.Symbol(_check_name(node.name, node.name, 1), real=True)
    if isinstance(node, sympy.Float):  # exactly its binary value, size-checked first
        _refuse_bits(node._mpf_[3] + abs(node._mpf_[2]), "")
        return sympy.Rational(node)
    if node.is_Atom:
        _refuse_bits(_bits(node), "")
        return node
    if node.is_Add or node.is_Mul:
        return _add(args) if node.is_Add else _mul(args)
    if node.is_Pow or node.func is sympy.exp:
        return _pow(*args) if node.is_Pow else _pow(sympy.E, args[0])
    return call_function(node.func, args)


def _scalar_expression(source: Any) -> _Expr:
    """``source`` if it is a SymPy scalar expression; else `ParseError` naming its type.

    The message names the type only: the text of a large matrix or set would itself be costly.
    """
    if isinstance(source, sympy.Expr) and not getattr(source, "is_Matrix", False):
        return source
    kind = type(source).__name__
    msg = (
        f"expected a scalar expression, not a SymPy {kind} (relations, booleans, matrices, "
        "tuples and sets are not expressions); give several expressions as a list"
    )
    raise ParseError(msg, reason="not_an_expression")


def _wrong_type(expected: str, reason: str, value: object) -> NoReturn:
    msg = f"expected {expected} (got {type(value).__name__}: {quote(repr(value))})"
    raise ParseError(msg, reason=reason)


def _exact(value: object, reason: str) -> _Expr:
    """The exact SymPy Rational of a number; a float gives the rational of its binary value."""
    if isinstance(value, bool):
        _wrong_type("a number, not a bool", reason, value)
    if isinstance(value, sympy.Float | sympy.Rational):
        return _rebuild(value, [])
    if isinstance(value, numbers.Rational):
        return sympy.Rational(int(value.numerator), int(value.denominator))
    if not isinstance(value, numbers.Real):
        _wrong_type("a number", reason, value)
    if not math.isfinite(real := float(value)):
        msg = f"{real} is not a finite number"
        raise ParseError(msg, reason="not_a_number")
    return sympy.Rational(*real.as_integer_ratio())


# ------------------------------------------------------------------------------ public
def parse(
    source: str | _Expr | float | Fraction,
    variables: str | Sequence[str | _Expr] | None = None,
) -> _Expr:
    """Turn text, a SymPy expression or a number into a SymPy expression, safely.

    Parameters
    ----------
    source : str, sympy.Expr, int, float or Fraction
        Text such as ``"x^2 + sin(y)"`` (grammar in the module docstring), or a SymPy
        expression: it is rebuilt with each symbol replaced by the real symbol of the same
        validated name and each ``Float`` by the exact rational of its binary value, as is a
        Python float.
    variables : str or sequence of str or Symbol, optional
        When given (``"x y"``, ``["x", "y"]``), every free name must be one of them.

    Returns
    -------
    sympy.Expr

    Raises
    ------
    ParseError
        Not an accepted expression; ``reason`` says why and ``column`` where.
    LimitExceeded
        A length, depth, size, exponent or constant-size cap; ``limit`` says which.
    UnsupportedError
        A function outside the allowlist in a SymPy input, or a value such as ``1/0``,
        ``sqrt(-1)`` or ``oo``.

    Examples
    --------
    >>> parse("-x^2 + 0.5*y")
    -x**2 + y/2
    >>> parse("2x")
    Traceback (most recent call last):
    ...
    symgrad.errors.ParseError: missing operator before 'x' (no implicit multiplication); ...
    """
    return parse_with_variables(source, variables)[0]


def parse_with_variables(
    source: str | _Expr | float | Fraction,
    variables: str | Sequence[str | _Expr] | None = None,
) -> tuple[_Expr, tuple[_Expr, ...]]:
    """`parse`, and the variables ``source`` is written with, in the default order.

    For text these are the names it writes, also those SymPy cancels on construction (``x - x``
    still has the variable x); for a SymPy input or a number, its free symbols.  With declared
    ``variables`` they are some of those.  Every default variable order derives from this.

    Examples
    --------
    >>> parse_with_variables("0*x10 + x2 + e")
    (x2 + E, (x2, x10))
    """
    names = None if variables is None else frozenset(s.name for s in parse_variables(variables))
    written: set[str] = set()
    try:
        if isinstance(source, str):
            text = _as_text(source, "expression")
            tokens = _tokenize(text, text)
            _prescan_nonsmooth(tokens)
            parser = _Parser(tokens, text, names)
            expr, written = parser.parse(), parser.written
        elif isinstance(source, sympy.Basic | sympy.MatrixBase):
            expr = _from_sympy(_scalar_expression(source))
        else:
            expr = _exact(source, "not_an_expression")
        expr = _checked_result(expr)
    except SymgradError:
        raise
    except (ArithmeticError, ValueError, TypeError, RecursionError) as exc:  # inside SymPy
        msg = f"SymPy cannot build this expression: {type(exc).__name__}: {quote(str(exc))}"
        raise UnsupportedError(msg) from exc
    unknown = sorted(s.name for s in expr.free_symbols if names is not None and s.name not in names)
    if unknown:  # text reports this while parsing, with a column; a SymPy input here
        msg = f"unknown variable {unknown[0]!r}; declared: {' '.join(sorted(names or ()))[:80]}"
        raise ParseError(msg, reason="unknown_variable")
    symbols = expr.free_symbols | {sympy.Symbol(name, real=True) for name in written}
    return expr, sort_variables(symbols)


def parse_variables(spec: str | Sequence[str | _Expr]) -> tuple[_Expr, ...]:
    """Real symbols for a variable list: ``"x y z"``, ``"x,y,z"``, ``"x, y"`` or a sequence.

    Raises `ParseError`: reasons ``empty``, ``duplicate_variable`` and those of
    `validate_name`.

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
        items = [(m.group(), m.start() + 1) for m in re.finditer(r"[^ \t,]+", text)]
    elif isinstance(spec, Sequence):
        text, items = "", [(item, 0) for item in spec]
    else:
        _wrong_type("variables such as 'x y' or a sequence", "invalid_name", spec)
    found: dict[str, _Expr] = {}
    for item, column in items:
        name = _variable_name(item, text, column)
        if name in found:
            msg = f"variable {name!r} is listed twice"
            raise ParseError(msg, reason="duplicate_variable", text=text, column=column)
        found[name] = sympy.Symbol(name, real=True)
    if not found:
        msg = "empty variable list: give e.g. 'x y'"
        raise ParseError(msg, reason="empty")
    return tuple(found.values())


def _variable_name(item: object, text: str, column: int) -> str:
    if isinstance(item, str):
        return _check_name(str.__str__(item), text or str.__str__(item), column or 1)
    if type(item) is sympy.Symbol:
        name: str = getattr(item, "name")  # noqa: B009 (mypy sees an object here)
        return _check_name(name, name, 1)
    _wrong_type("a variable name or a SymPy Symbol", "invalid_name", item)


def parse_number(value: str | float | Fraction | _Expr) -> _Expr:
    """The exact SymPy Rational of a point coordinate.

    Text is a signed decimal literal or a ratio of two (``"-1e-3"``, ``"1/3"``); a name such as
    ``pi`` is refused (reason ``not_a_number``).  A float gives the exact rational of its binary
    value; integers and fractions obey the caps of a coordinate: ``MAX_POINT_DIGITS``
    significant digits (the largest precision, not the 30 of an expression literal) and the
    exponent range of literals.

    Examples
    --------
    >>> parse_number("0.3"), parse_number("-1e-3"), parse_number("1/3"), parse_number(0.5)
    (3/10, -1/1000, 1/3, 1/2)
    """
    if isinstance(value, str):
        text = _as_text(value, "number")
        return _number_text(text, text, 0)
    number = _exact(value, "not_a_number")
    exact_input = not isinstance(value, float | sympy.Float)  # a float is bounded by its format
    for part in (int(number.p), int(number.q)) if exact_input else ():
        digits = str(abs(part)) if part.bit_length() < 1100 else ""  # 10**308 has 1024 bits
        too_big = not digits or len(digits) > MAX_DECIMAL_EXPONENT + 1
        if too_big or len(digits.rstrip("0")) > MAX_POINT_DIGITS:
            msg = (
                f"number too large: at most {MAX_POINT_DIGITS} significant digits and "
                f"10^{MAX_DECIMAL_EXPONENT}"
            )
            raise ParseError(msg, reason="literal_too_large")
    return number


_NUMBER_PREFIX = re.compile(r"[+-]?(?:n(?:/[+-]?n?)?)?")


def _number_text(segment: str, text: str, offset: int) -> _Expr:
    """``[sign] literal [/ [sign] literal]`` in ``segment``, which starts at ``offset``."""
    *tokens, end = _tokenize(segment, text, offset, MAX_POINT_DIGITS)
    shape = "".join({"number": "n", "name": "a"}.get(t.kind, t.text[:1]) for t in tokens)
    if not re.fullmatch(r"[+-]?n(/[+-]?n)?", shape):  # point at the first token that can't fit
        k = next((i for i in range(len(shape)) if not _NUMBER_PREFIX.fullmatch(shape[: i + 1])), -1)
        msg = f"expected a number such as 0.3, -1e-3 or 1/3 (got {quote(segment.strip())})"
        raise ParseError(
            msg, reason="not_a_number", text=text, column=(tokens[k] if k >= 0 else end).column
        )
    sign = math.prod(-1 if t.text == "-" else 1 for t in tokens if t.text in "+-")
    numerator, *denominator = (t.value for t in tokens if t.kind == "number")
    if denominator and denominator[0] == 0:
        msg = "division by zero"
        raise ParseError(msg, reason="not_a_number", text=text, column=end.column)
    return sign * numerator / (denominator[0] if denominator else 1)


def parse_point(spec: str | Mapping[str | _Expr, object]) -> dict[_Expr, _Expr]:
    """A point ``{symbol: Rational}`` from ``"x=0.3, y=-1e-2"`` or a mapping.

    Names are validated and become real symbols; values go through `parse_number`; a name
    given twice is refused (reason ``duplicate_variable``).

    Examples
    --------
    >>> parse_point("x=0.3,y=1/3")
    {x: 3/10, y: 1/3}
    """
    if isinstance(spec, Mapping):
        items = [(_variable_name(k, "", 0), parse_number(v), "", 0) for k, v in spec.items()]
    elif isinstance(spec, str):
        text, items, start = _as_text(spec, "point", _POINT_FORBIDDEN), [], 0
        for piece in text.split(","):
            items.append(_coordinate(piece, text, start))
            start += len(piece) + 1
    else:
        _wrong_type("a point such as 'x=0.3,y=0.7' or a mapping", "not_a_point", spec)
    point: dict[_Expr, _Expr] = {}
    for name, value, text, column in items:
        if (key := sympy.Symbol(name, real=True)) in point:
            msg = f"variable {name!r} is given twice"
            raise ParseError(msg, reason="duplicate_variable", text=text, column=column)
        point[key] = value
    return point


def _coordinate(piece: str, text: str, start: int) -> tuple[str, _Expr, str, int]:
    """``name = number`` in ``piece``, which starts after ``start`` characters of ``text``."""
    name_part, equals, value_part = piece.partition("=")
    name = _unindexed(name_part.strip(" \t"))  # x[3] is x_3
    column = start + 1 + len(name_part) - len(name_part.lstrip(" \t"))
    if not (equals and name):
        msg = "expected name=value items separated by commas, e.g. 'x=0.3, y=0.7'"
        raise ParseError(msg, reason="unexpected_token", text=text, column=column)
    _check_name(name, text, column)
    return name, _number_text(value_part, text, start + len(name_part) + 1), text, column
