"""Fuzzing the parser: generated grammar text against an independent mpmath evaluator.

Two families of inputs:

* **Grammar text.**  A Hypothesis strategy builds a random syntax tree (numbers written in every
  accepted literal form, variables, ``pi``, ``E``, ``e``, every function and alias, unary signs,
  ``^`` and ``**``) and prints it with random spacing.  The tree itself is evaluated with mpmath
  at 50 digits in a private context (never through symgrad).  Whenever a sub-tree without
  variables has a value that is not a finite real number (``asin(2)``, ``(-8)^(1/3)``,
  ``log(x, 1)``), the parser must refuse the text with a ``SymgradError``; otherwise, if it
  accepts, SymPy's own ``evalf`` of the parsed expression at a generic point must agree with the
  tree's value, and the printed expression must parse back to the same expression.
* **Arbitrary text** (any Unicode, and token soup over the grammar's vocabulary) must be parsed
  or refused with a ``SymgradError`` subclass: never another exception.

Quick counts run by default.  A long run sets ``SYMGRAD_FUZZ_EXAMPLES`` (e.g. ``20000``) to the
number of examples per test.
"""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import pytest
import sympy
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.errors import SymgradError

EXAMPLES = int(os.environ.get("SYMGRAD_FUZZ_EXAMPLES", "0"))


def _settings(quick: int) -> settings:
    return settings(
        max_examples=EXAMPLES or quick,
        deadline=None,
        derandomize=not EXAMPLES,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        database=None,
    )


# ----------------------------------------------------------------------- syntax trees
@dataclass(frozen=True)
class Node:
    """A node of a generated expression: ``kind`` and its children or payload."""

    kind: str  # num var const neg pos sum prod pow call
    text: str = ""  # a literal's text, a name, an operator list, a function name
    value: Fraction = Fraction(0)
    children: tuple[Node, ...] = ()
    ops: tuple[str, ...] = ()  # "+"/"-" of a sum, "*"/"/" of a product (ops[0] is unused)


def _literal(value: Fraction, style: int) -> str:
    """``value`` (a non-negative decimal) written in one of the accepted literal forms."""
    text = f"{float(value):.6f}".rstrip("0")  # values below are short decimals, exact here
    whole, _, frac = text.partition(".")
    if style == 1 and whole == "0" and frac:
        return "." + frac
    if style == 2 and not frac:
        return whole + "."
    if style == 3:  # scientific: mantissa digits and a power of ten
        digits = (whole + frac).lstrip("0") or "0"
        power = len(whole) - 1 if whole != "0" else -(len(frac) - len(frac.lstrip("0")) + 1)
        mantissa = digits[0] + ("." + digits[1:] if digits[1:] else "")
        return f"{mantissa}{'eE'[len(digits) % 2]}{power:+d}"
    return text if frac else whole


NUMBERS = st.builds(
    lambda v, style: Node("num", _literal(v, style), v),
    st.sampled_from([Fraction(k) for k in range(13)] + [Fraction(1, 2), Fraction(1, 4),
                     Fraction(3, 2), Fraction(5, 4), Fraction(1, 10), Fraction(25, 10)]),
    st.integers(0, 3),
)  # fmt: skip
VARIABLE_NAMES = ("x", "y", "z", "x2", "x10", "e")
LEAVES = st.one_of(
    NUMBERS,
    st.sampled_from(VARIABLE_NAMES).map(lambda n: Node("var", n)),
    st.sampled_from(["pi", "E"]).map(lambda n: Node("const", n)),
)
FUNCTIONS_1 = [
    *("sin", "cos", "tan", "sec", "csc", "cot", "asin", "acos", "atan", "sinh", "cosh", "tanh"),
    *("asinh", "acosh", "atanh", "exp", "sqrt", "log", "ln", "log10", "log2", "abs", "sign"),
    *("arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "Abs"),
]


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    few = st.lists(children, min_size=2, max_size=3)
    return st.one_of(
        children.map(lambda c: Node("neg", children=(c,))),
        children.map(lambda c: Node("pos", children=(c,))),
        few.flatmap(
            lambda cs: st.lists(st.sampled_from("+-"), min_size=len(cs), max_size=len(cs)).map(
                lambda ops: Node("sum", children=tuple(cs), ops=tuple(ops))
            )
        ),
        few.flatmap(
            lambda cs: st.lists(st.sampled_from("*/"), min_size=len(cs), max_size=len(cs)).map(
                lambda ops: Node("prod", children=tuple(cs), ops=tuple(ops))
            )
        ),
        st.tuples(children, children, st.sampled_from(["^", "**"])).map(
            lambda t: Node("pow", t[2], children=(t[0], t[1]))
        ),
        st.tuples(st.sampled_from(FUNCTIONS_1), children).map(
            lambda t: Node("call", t[0], children=(t[1],))
        ),
        st.tuples(st.sampled_from(["log", "atan2", "arctan2", "min", "max", "Max"]), few).map(
            lambda t: Node("call", t[0], children=t[1][:2])
        ),
        st.tuples(st.sampled_from(["min", "max", "Min"]), st.lists(children, max_size=4)).map(
            lambda t: Node("call", t[0], children=tuple(t[1]) or (Node("num", "1", Fraction(1)),))
        ),
    )


TREES = st.recursive(LEAVES, _extend, max_leaves=10)
SPACES = st.sampled_from(["", "", "", " ", "  ", "\t"])


@st.composite
def texts(draw: st.DrawFn, tree: Node) -> str:
    """Print ``tree`` as grammar text, parenthesizing every compound operand, random spacing."""

    def sp() -> str:
        return draw(SPACES)

    def wrap(node: Node) -> str:
        inner = show(node)
        return inner if node.kind in ("num", "var", "const", "call") else f"({sp()}{inner}{sp()})"

    def show(node: Node) -> str:
        if node.kind in ("num", "var", "const"):
            return node.text
        if node.kind in ("neg", "pos"):
            return ("-" if node.kind == "neg" else "+") + sp() + wrap(node.children[0])
        if node.kind in ("sum", "prod"):
            parts = [wrap(node.children[0])]
            for op, child in zip(node.ops[1:], node.children[1:], strict=True):
                parts.append(f"{sp()}{op}{sp()}{wrap(child)}")
            return "".join(parts)
        if node.kind == "pow":
            return f"{wrap(node.children[0])}{sp()}{node.text}{sp()}{wrap(node.children[1])}"
        args = f"{sp()},{sp()}".join(show(c) for c in node.children)
        return f"{node.text}({sp()}{args}{sp()})"

    return show(tree)


# ------------------------------------------------------------------ the mpmath oracle
CTX = mpmath.MPContext()
CTX.dps = 50
POINT = {"x": "0.37", "y": "1.29", "z": "2.11", "x2": "0.83", "x10": "1.7", "e": "0.61"}
TINY, HUGE = CTX.mpf(10) ** -35, CTX.mpf(10) ** 35


class Undefined(Exception):
    """A sub-tree without variables that has no finite real value: the parser must refuse."""


class Ambiguous(Exception):
    """A value near 0 or near a pole, where 50 digits cannot tell what exact arithmetic gives."""


_CALLS: dict[str, Any] = {
    "sin": CTX.sin, "cos": CTX.cos, "tan": CTX.tan, "sec": CTX.sec, "csc": CTX.csc,
    "cot": CTX.cot, "asin": CTX.asin, "acos": CTX.acos, "atan": CTX.atan, "sinh": CTX.sinh,
    "cosh": CTX.cosh, "tanh": CTX.tanh, "asinh": CTX.asinh, "acosh": CTX.acosh,
    "atanh": CTX.atanh, "exp": CTX.exp, "sqrt": CTX.sqrt, "ln": CTX.log, "abs": abs,
    "sign": CTX.sign, "log10": lambda v: CTX.log(v) / CTX.log(10),
    "log2": lambda v: CTX.log(v) / CTX.log(2), "atan2": CTX.atan2,
    "min": lambda *a: min(a), "max": lambda *a: max(a),
}  # fmt: skip
_CALLS |= {f"arc{n[1:]}": _CALLS[n] for n in list(_CALLS) if n[0] == "a" and n != "abs"}
_CALLS |= {"Abs": abs, "Min": _CALLS["min"], "Max": _CALLS["max"]}


def _log(*args: Any) -> Any:
    if len(args) == 1:
        return CTX.log(args[0])
    if isinstance(args[1], CTX.mpc) or args[1] <= 0 or args[1] == 1:
        raise ZeroDivisionError  # the logarithm to base b <= 0 or b = 1 is undefined
    return CTX.log(args[0]) / CTX.log(args[1])


def evaluate(node: Node, env: dict[str, Any], e_is_variable: bool) -> tuple[Any, bool]:
    """The tree's value at ``env`` and whether it depends on a variable.

    Raises `Undefined` when a variable-free sub-tree is not a finite real number, `Ambiguous`
    when a value is too close to 0 or too large to decide the exact outcome.
    """
    kind = node.kind
    if kind == "num":
        return CTX.mpf(node.value.numerator) / node.value.denominator, False
    if kind == "const" or (kind == "var" and node.text == "e" and not e_is_variable):
        return (+CTX.pi if node.text == "pi" else +CTX.e), False
    if kind == "var":
        return env[node.text], True
    parts = [evaluate(c, env, e_is_variable) for c in node.children]
    values, variable = [p[0] for p in parts], any(p[1] for p in parts)
    try:
        value = _combine(node, values)
    except (ZeroDivisionError, ValueError) as exc:
        if variable:
            raise Ambiguous from exc
        raise Undefined from exc
    _classify(value, variable, node)
    return value, variable


def _combine(node: Node, values: list[Any]) -> Any:
    if node.kind in ("neg", "pos"):
        return -values[0] if node.kind == "neg" else values[0]
    if node.kind == "sum":
        signs = ("+", *node.ops[1:])  # ops[0] is not printed
        return CTX.fsum(-v if op == "-" else v for op, v in zip(signs, values, strict=True))
    if node.kind == "prod":
        out = values[0]
        for op, v in zip(node.ops[1:], values[1:], strict=True):
            out = out * v if op == "*" else out / v  # 1/0 raises ZeroDivisionError
        return out
    if node.kind == "pow":
        base, exp = values
        if abs(exp) > 30 or (abs(base) > 1e6 and abs(exp) > 2):
            raise Ambiguous  # the size caps may refuse; not what this oracle decides
        return CTX.power(base, exp)
    if any(isinstance(v, CTX.mpc) for v in values):
        raise Ambiguous  # only reached for variable sub-trees already outside the real domain
    if node.text in {"atan2", "arctan2"} and values[0] == 0 and values[1] == 0:
        raise ZeroDivisionError  # atan2(0, 0) is undefined
    return _log(*values) if node.text == "log" else _CALLS[node.text](*values)


def _classify(value: Any, variable: bool, node: Node) -> None:
    real = not isinstance(value, CTX.mpc) or abs(value.imag) <= TINY * abs(value)
    finite = CTX.isfinite(value) and abs(value) < HUGE
    if value != 0 and abs(value) < TINY:
        raise Ambiguous  # exact arithmetic may give 0 here (sin(pi)), mpmath does not
    if real and finite:
        return
    if not finite and (variable or CTX.isfinite(value)):
        raise Ambiguous  # near a pole: SymPy may or may not see the exact singularity
    if variable:
        raise Ambiguous
    if not real and isinstance(value, CTX.mpc) and abs(value.imag) < CTX.mpf(10) ** -20:
        raise Ambiguous
    raise Undefined(node)


def _exact_point(expr: Any) -> dict[Any, Any]:
    return {s: sympy.Rational(POINT[s.name]) for s in expr.free_symbols}


def _sympy_value(expr: Any, e_is_variable: bool) -> Any:
    """SymPy's own evalf of the parsed expression at POINT (independent of symgrad)."""
    assert e_is_variable or all(s.name != "e" for s in expr.free_symbols)
    return sympy.N(expr.xreplace(_exact_point(expr)), 40)


# ---------------------------------------------------------------------------- tests
@st.composite
def cases(draw: st.DrawFn) -> tuple[str, Node, bool]:
    tree = draw(TREES)
    return draw(texts(tree)), tree, draw(st.booleans())


def _parse_or_refuse(text: str, variables: str | None) -> Any:
    try:
        return symgrad.parse(text, variables=variables)
    except SymgradError:
        return None


@_settings(100)
@given(cases())
@example(("asin(2)*x", Node("call", "asin", children=(Node("num", "2", Fraction(2)),)), False))
def test_generated_text_is_refused_or_means_what_it_says(case: tuple[str, Node, bool]) -> None:
    """Generated text: undefined constants refused, accepted text has the tree's value.

    ``e`` is Euler's number unless declared a variable: half the examples declare it.
    """
    text, tree, declare_e = case
    variables = " ".join(VARIABLE_NAMES) if declare_e else None
    env = {n: CTX.mpf(v) for n, v in POINT.items()}
    try:
        want, _ = evaluate(tree, env, declare_e)
    except Ambiguous:
        want = None
    except Undefined:
        assert _parse_or_refuse(text, variables) is None, f"accepted an undefined constant: {text}"
        return
    got = _parse_or_refuse(text, variables)
    if got is None or want is None:
        return
    value = _sympy_value(got, declare_e)
    assume(value.is_real and value.is_finite)  # e.g. sqrt(x - 2) at x = 0.37: outside the domain
    assert abs(CTX.mpf(str(value)) - want) <= CTX.mpf(10) ** -25 * (1 + abs(want)), text


@_settings(80)
@given(cases())
def test_printed_expression_parses_back_to_itself(case: tuple[str, Node, bool]) -> None:
    """parse(text) printed by SymPy parses back to the identical SymPy expression."""
    text, _, declare_e = case
    variables = " ".join(VARIABLE_NAMES) if declare_e else None
    first = _parse_or_refuse(text, variables)
    assume(first is not None)
    printed = str(first)
    # SymPy prints exact results in full: 2^100 is a literal longer than the 30-digit cap
    assume(not re.search(r"[0-9]{31}", printed))
    again = symgrad.parse(printed, variables=variables)
    if again != first:
        # SymPy distributes a rational over a sum when a product has just those two factors:
        # 2*x/(3*(pi - 5/4)) prints so, and its 3*(pi - 5/4) parses back as 3*pi - 15/4.  The
        # value is the same and one more round trip changes nothing.
        assert symgrad.parse(str(again), variables=variables) == again, (text, printed)
        difference = sympy.N((again - first).xreplace(_exact_point(first)), 40)
        scale = 1 + abs(sympy.N(first.xreplace(_exact_point(first)), 40))
        assert abs(difference) <= sympy.Rational(1, 10**30) * scale, (text, printed)


VOCABULARY = [
    *"xyzeE+-*/^(),.", "**", " ", "pi", "e", "E", "x2", "x10", "1", "0", "2.5", ".5", "5.",
    "1e3", "1e-400", "9" * 40, "sin", "log", "atan2", "max", "min", "abs", "sqrt", "asin",
    "acosh", "atanh", "I", "oo", "lambda", "_", "=", "'", "\u2212", "\n",
]  # fmt: skip


@_settings(200)
@given(st.lists(st.sampled_from(VOCABULARY), max_size=25).map("".join), st.booleans())
def test_token_soup_is_parsed_or_refused(text: str, declare_e: bool) -> None:
    """Random token sequences: a SymgradError or a real, finite expression; nothing else."""
    result = _parse_or_refuse(text, "x y z x2 x10 e" if declare_e else None)
    if result is not None:
        assert not result.has(sympy.I, sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)
        for node in sympy.preorder_traversal(result):
            if node.is_number and not node.is_Rational:
                value = sympy.N(node, 30)
                assert value.is_real is not False, (text, node)


@_settings(200)
@given(st.text(max_size=80))
def test_arbitrary_text_is_parsed_or_refused(text: str) -> None:
    """Any Unicode text: parsed, or refused with a SymgradError subclass and nothing else."""
    with contextlib.suppress(SymgradError):
        symgrad.parse(text)


@pytest.mark.parametrize(
    "text",
    ["asin(2)*x", "acos(3)", "atanh(2)*x", "(-8)^(1/3)*x", "(-8)^(1/3)", "log(x, 0)", "log(x, 1)",
     "acosh(1/2)*y", "(-2)^pi*x", "x + asin(2) - asin(2)", "abs(asin(2))*x", "log(x, 1 - 1)",
     "log(x, -2)", "sqrt(-1)*x", "atan2(0, 0)*x"],
)  # fmt: skip
def test_constants_without_a_real_value_are_refused(text: str) -> None:
    """Constants whose value is complex or undefined are refused with UnsupportedError."""
    with pytest.raises(symgrad.UnsupportedError):
        symgrad.parse(text)


# ------------------------------------------------------------------- SymPy objects as input
_x, _y = sympy.symbols("x y")
_z = sympy.Symbol("z", positive=True)
SYMPY_LEAVES = st.sampled_from(
    [_x, _y, _z, sympy.Integer(2), sympy.Integer(0), sympy.Integer(-1), sympy.Rational(1, 3),
     sympy.Float("nan"), sympy.pi, sympy.E, sympy.I,
     sympy.oo, sympy.zoo, sympy.nan, sympy.GoldenRatio, sympy.EulerGamma, sympy.Dummy("d"),
     sympy.Function("f")(_x), sympy.Symbol("x", real=True), sympy.Symbol("lambda")]
)  # fmt: skip
_UNARY = [sympy.sin, sympy.exp, sympy.log, sympy.sqrt, sympy.Abs, sympy.floor, sympy.gamma,
          sympy.erf, sympy.Heaviside, sympy.DiracDelta, sympy.sign, sympy.re, sympy.conjugate,
          sympy.asin, sympy.atanh, sympy.LambertW, lambda a: sympy.besselj(0, a),
          lambda a: sympy.Derivative(a, _x), lambda a: sympy.Integral(a, _x),
          lambda a: sympy.Piecewise((a, _x > 0), (0, True)), sympy.Tuple,
          lambda a: sympy.Matrix([a]), lambda a: sympy.Eq(a, 1), lambda a: a < 1,
          lambda a: sympy.Sum(a, (_y, 1, 3))]  # fmt: skip


def _power(base: Any, exponent: Any) -> Any:
    """``base**exponent``, except a number to a big number (SymPy would expand it exactly)."""
    if isinstance(exponent, sympy.Number) and abs(exponent) > 8:
        return base
    return sympy.Pow(base, exponent)


# No float leaves: SymPy evaluates exp(exp(...(0.5))) eagerly, at a precision that explodes
# while the *test input* is being built (Float inputs are fuzzed as text above).
_BINARY = [sympy.Add, sympy.Mul, _power, sympy.Max, sympy.Min, sympy.atan2,
           sympy.log]  # fmt: skip


def _apply(function: Any, *args: Any) -> Any:
    """Build a node; SymPy itself may refuse or deprecate a combination (then the leaf stands)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return function(*args)
    except (TypeError, ValueError, AttributeError, NotImplementedError, Warning):
        return args[0]


SYMPY_OBJECTS = st.recursive(
    SYMPY_LEAVES,
    lambda inner: st.one_of(
        st.builds(_apply, st.sampled_from(_UNARY), inner),
        st.builds(_apply, st.sampled_from(_BINARY), inner, inner),
    ),
    max_leaves=10,
)


@_settings(150)
@given(SYMPY_OBJECTS)
def test_sympy_objects_are_accepted_or_refused(obj: Any) -> None:
    """Any SymPy object (undefined functions, relations, matrices, integrals, complex and
    infinite constants, assumptions): parsed and differentiated, or a SymgradError."""
    try:
        gradient = symgrad.gradient(obj)
    except SymgradError:
        return
    assert len(gradient.to_strings()) == len(gradient.variables)


@pytest.mark.parametrize("depth", [1500, 5000, 20_000])
def test_sympy_objects_nested_beyond_the_recursion_limit_are_refused(depth: int) -> None:
    """sin(sin(...(x))) built without recursion, deeper than Python's recursion limit."""
    obj: Any = _x
    for _ in range(depth):
        obj = sympy.sin(obj, evaluate=False)
    with pytest.raises(SymgradError):
        symgrad.gradient(obj)
