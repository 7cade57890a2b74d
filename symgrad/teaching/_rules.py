"""The rule engine behind :mod:`symgrad.teaching._steps`: textbook differentiation rules as a tree of steps.

The design follows SymPy Gamma's ``diffsteps`` (a tree of rule records, dispatch on the head of
the expression, the chain rule as a u-substitution) re-thought as one frozen dataclass, `Step`,
whose ``after`` is computed while the tree is built, so every node carries its own derivative and
can be checked against ``sympy.diff`` on its own.  Gamma's gaps are filled: inverse trigonometric
and hyperbolic functions, ``abs``/``sign``/``min``/``max`` (derivatives away from the kink),
``atan2`` and ``f**g`` with both parts depending on the variable (logarithmic differentiation).

Nothing is simplified here: ``after`` is what the rule gives, auto-evaluated by SymPy only.
:mod:`symgrad.teaching._steps` confirms that it equals SymPy's own derivative and shows the tidy form; the
exact-point sampling it uses for that (and for checking answers) lives at the end of this module.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy

from symgrad.errors import LimitExceeded
from symgrad.expr import differentiate

__all__ = [
    "MAX_STEPS",
    "Engine",
    "Step",
    "answer_points",
    "close",
    "derivative_mathml",
    "derivative_of",
    "derive",
    "latex_text",
    "markdown_escape",
    "math_block",
    "mathml",
    "not_real",
    "real_around",
    "real_points",
    "simple_points",
    "substitute",
    "unicode_text",
    "value_at",
]

MAX_STEPS = 2_000  # rule applications per request: the tree is read by people
_DPS = 30  # digits of the numeric comparisons of exact expressions
_SEED, _CANDIDATES, _PRIMES = 20_240_611, 16, (401, 409, 419)  # sample points
_ANSWER_CANDIDATES = (
    48  # generic candidates of answer_points (the caller keeps those in the domain)
)
_MAX_BREAKS = 12  # breakpoints of nonsmooth pieces sampled on both sides
_BREAK_DEGREE = 8  # a breakpoint argument is solved when it is a polynomial of at most this degree
_WIDEST = 10**6  # the largest |coordinate| of a sample point (the reach of a smooth formula)
#: the largest |coordinate| by the nesting depth of exponential growth (exp(exp(x)) at 10**6 has
#: a 434,000-digit exponent): one level reaches _WIDEST, two 100, deeper the old range of 4
_REACH_BY_DEPTH = (_WIDEST, _WIDEST, 100)
_KINK = "at u = 0 the graph has a kink and there is no derivative"

_Expr = Any  # SymPy is untyped
_Fn = Callable[[_Expr], _Expr]

# Unary functions: head -> (rule, d/du f(u), a remark for the explanation).  The derivatives are
# the textbook forms (sec(u)**2 rather than SymPy's tan(u)**2 + 1); each is valid wherever f is
# real and differentiable, which is where symgrad.steps checks it against SymPy.
_UNARY: dict[Any, tuple[str, _Fn, str]] = {
    sympy.exp: ("exp", sympy.exp, "e**u is its own derivative"),
    sympy.log: ("log", lambda u: 1 / u, "log is the natural logarithm"),
    sympy.sin: ("trig", sympy.cos, ""),
    sympy.cos: ("trig", lambda u: -sympy.sin(u), ""),
    sympy.tan: ("trig", lambda u: sympy.sec(u) ** 2, ""),
    sympy.sec: ("trig", lambda u: sympy.sec(u) * sympy.tan(u), ""),
    sympy.csc: ("trig", lambda u: -sympy.csc(u) * sympy.cot(u), ""),
    sympy.cot: ("trig", lambda u: -(sympy.csc(u) ** 2), ""),
    sympy.asin: ("inverse_trig", lambda u: 1 / sympy.sqrt(1 - u**2), "for |u| < 1"),
    sympy.acos: ("inverse_trig", lambda u: -1 / sympy.sqrt(1 - u**2), "for |u| < 1"),
    sympy.atan: ("inverse_trig", lambda u: 1 / (1 + u**2), ""),
    sympy.sinh: ("hyperbolic", sympy.cosh, ""),
    sympy.cosh: ("hyperbolic", sympy.sinh, ""),
    sympy.tanh: ("hyperbolic", lambda u: sympy.sech(u) ** 2, ""),
    sympy.asinh: ("inverse_hyperbolic", lambda u: 1 / sympy.sqrt(u**2 + 1), ""),
    sympy.acosh: ("inverse_hyperbolic", lambda u: 1 / sympy.sqrt(u**2 - 1), "for u > 1"),
    sympy.atanh: ("inverse_hyperbolic", lambda u: 1 / (1 - u**2), "for |u| < 1"),
    sympy.Abs: ("abs", sympy.sign, f"the slope is -1 left of 0 and +1 right of it; {_KINK}"),
}


@dataclass(frozen=True)
class Step:
    """One rule application: ``after`` is the derivative of ``before`` with respect to ``variable``.

    Attributes
    ----------
    rule : str
        A short stable identifier (``"product"``, ``"chain"``, ``"power"``, ...).
    before, after : sympy.Expr
        The expression differentiated and its derivative as the rule gives it (unsimplified).
        For the rule ``"simplify"`` (added by :func:`symgrad.teaching._steps.steps`), ``before`` is the
        engine's derivative and ``after`` the equal textbook form.
    variable : sympy.Symbol
        The variable of this step: the one asked for, or ``u`` inside a chain rule.
    explanation, substeps : str, tuple of Step
        A sentence for people; the derivatives this rule combines, in the order it names them.
    """

    rule: str
    before: _Expr
    after: _Expr
    variable: _Expr
    explanation: str
    substeps: tuple[Step, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: rule, before, after, variable, explanation and substeps."""
        return {
            "rule": self.rule,
            "before": str(self.before),
            "after": str(self.after),
            "variable": str(self.variable),
            "explanation": self.explanation,
            "substeps": [s.to_dict() for s in self.substeps],
        }

    def walk(self) -> Iterator[Step]:
        """This step and all its substeps, depth first."""
        yield self
        for sub in self.substeps:
            yield from sub.walk()

    def equation(self, *, latex: bool = False) -> str:
        """``d/dx (before) = after`` in SymPy's text or LaTeX.

        A ``simplify`` step continues the equation above it (``= after``), and a
        ``higher_order`` block states its question (``d/dx (before)``): its substeps give the
        answer, so every form is shown once.
        """
        show = sympy.latex if latex else str
        question = derivative_of(self.before, self.variable, latex=latex)
        if self.rule == "simplify":
            return f"= {show(self.after)}"
        if self.rule == "higher_order":
            return question
        if self.rule in ("implicit", "implicit_second", "on_curve"):
            power = "" if self.rule == "implicit" else "^2"
            if latex:
                power = power.replace("2", "{2}")
                top, bottom = sympy.latex(self.before), sympy.latex(self.variable)
                return f"\\frac{{d{power}{top}}}{{d{bottom}{power}}} = {show(self.after)}"
            return f"d{power}{self.before}/d{self.variable}{power} = {show(self.after)}"
        return f"{question} = {show(self.after)}"

    def text_lines(self, number: str = "1", depth: int = 0) -> list[str]:
        """Numbered, indented lines (Unicode maths): the rule and its explanation, the substeps
        it combines, then its equation, so a derivation's last line is its answer."""
        pad = "  " * depth
        lines = [f"{pad}{number}. {self.rule}: {unicode_text(self.explanation)}"]
        equation = f"{pad}{' ' * (len(number) + 2)}{unicode_text(self.equation())}"
        if self.rule == "higher_order":  # a question: before its steps
            lines.append(equation)
        for i, sub in enumerate(self.substeps, 1):
            lines += sub.text_lines(f"{number}.{i}", depth + 1)
        return lines if self.rule == "higher_order" else [*lines, equation]

    def latex_rows(self, depth: int = 0) -> list[str]:
        """Rows of a LaTeX ``array``: the rule and its explanation, the substeps, the equation."""
        indent, rule = "\\quad " * depth, self.rule.replace("_", "\\_")
        rows = [f"{indent}\\text{{{rule}: {latex_text(self.explanation)}}} \\\\"]
        equation = f"{indent}\\quad {self.equation(latex=True)} \\\\"
        if self.rule == "higher_order":
            rows.append(equation)
        for sub in self.substeps:
            rows += sub.latex_rows(depth + 1)
        return rows if self.rule == "higher_order" else [*rows, equation]

    def equation_mathml(self) -> str:
        """The step's equation as presentation MathML (in :func:`math_block`), which
        browsers and Jupyter render without scripts: d/dx (before) = after."""
        after = mathml(self.after)
        if self.rule == "simplify":
            return math_block(f"<mo>=</mo>{after}")
        question = derivative_mathml(self.before, self.variable)
        if self.rule == "higher_order":
            return math_block(question)
        if self.rule in ("implicit", "implicit_second", "on_curve"):
            power = 1 if self.rule == "implicit" else 2
            question = _d_over_d(mathml(self.before), mathml(self.variable), power)
        return math_block(f"{question}<mo>=</mo>{after}")

    def html_items(self) -> str:
        """A nested HTML list item: rule and explanation, the substeps, the equation (MathML)."""
        said = html.escape(unicode_text(self.explanation))
        parts = [f"<li><b>{html.escape(self.rule)}</b>: {said}"]
        equation = self.equation_mathml()
        if self.rule == "higher_order":
            parts.append(equation)
        if self.substeps:
            parts.append("<ol>" + "".join(s.html_items() for s in self.substeps) + "</ol>")
        if self.rule != "higher_order":
            parts.append(equation)
        return "".join(parts) + "</li>"

    def markdown_lines(self, depth: int = 0) -> list[str]:
        """A nested Markdown list item: rule and explanation, the substeps, the equation in ``$$``."""
        pad = "   " * depth
        said = markdown_escape(unicode_text(self.explanation))
        lines = [f"{pad}1. **{markdown_escape(self.rule)}**: {said}"]
        equation = f"{pad}   $${self.equation(latex=True)}$$"
        if self.rule == "higher_order":
            lines.append(equation)
        for sub in self.substeps:
            lines += sub.markdown_lines(depth + 1)
        if self.rule == "higher_order":
            return lines
        return [*lines, *([""] if self.substeps else []), equation]


def derive(expr: _Expr, var: _Expr) -> Step:
    """Differentiate ``expr`` with respect to ``var`` rule by rule (no simplification).

    Examples
    --------
    >>> x = sympy.Symbol("x", real=True)
    >>> step = derive(x**2 * sympy.sin(x), x)
    >>> step.rule, [s.rule for s in step.substeps]
    ('product', ['power', 'trig'])
    >>> step.after
    x**2*cos(x) + 2*x*sin(x)
    """
    return Engine(s.name for s in expr.free_symbols).derive(expr, var)


class Engine:
    """Builds step trees; one engine per request, so the step cap and memory span all orders.

    ``taken`` are the expression's names, which chain variables (u, v, w, u1, ...) avoid;
    ``max_steps`` rule applications are allowed before `LimitExceeded` is raised.
    """

    def __init__(self, taken: Any, max_steps: int = MAX_STEPS) -> None:
        self.count = 0
        self._max_steps = max_steps
        self._taken = set(taken)
        self._active: list[str] = []  # u-names of the chains being worked on (nested chains)
        self._seen: dict[tuple[_Expr, _Expr], Step] = {}

    def derive(self, expr: _Expr, var: _Expr) -> Step:
        """The step tree of d expr / d var; a repeated sub-derivative refers back to the first."""
        self.count += 1
        if self.count > self._max_steps:
            msg = (
                f"more than {self._max_steps} steps are needed; differentiate a smaller "
                "expression or a lower order"
            )
            raise LimitExceeded(msg, limit="too_many_steps", allowed=self._max_steps)
        earlier = self._seen.get((expr, var))
        if earlier is not None:  # Gamma PR #8 asks not to repeat work, e.g. in cot(cot(x))
            said = f"Worked out above: d/d{var} {expr} = {earlier.after}."
            return Step(earlier.rule, expr, earlier.after, var, said)
        step = self._dispatch(expr, var)
        if step.substeps:
            self._seen[(expr, var)] = step
        return step

    def _dispatch(self, expr: _Expr, var: _Expr) -> Step:
        if var not in expr.free_symbols:
            return _constant(expr, var)
        if expr == var:
            return Step("variable", expr, sympy.S.One, var, f"d/d{var} {var} = 1.")
        if expr.is_Add:
            return self._sum(expr, var)
        if expr.is_Mul:
            return self._mul(expr, var)
        if expr.is_Pow:
            return self._pow(expr, var)
        if expr.func in _UNARY:
            return self._unary(expr, var)
        if isinstance(expr, sympy.sign):
            return _sign(expr, var)
        if isinstance(expr, sympy.Min | sympy.Max):
            return self._extremum(expr, var)
        if isinstance(expr, sympy.atan2):
            return self._atan2(expr, var)
        return _lookup(expr, var)

    # ------------------------------------------------------------------ combining rules
    def _sum(self, expr: _Expr, var: _Expr) -> Step:
        subs = tuple(self.derive(term, var) for term in expr.as_ordered_terms())
        minus = any(t.could_extract_minus_sign() for t in expr.args)
        said = f"Sum{' and difference' if minus else ''} rule: differentiate the {len(subs)} terms"
        said += " one by one and add."
        return Step("sum", expr, sympy.Add(*(s.after for s in subs)), var, said, subs)

    def _mul(self, expr: _Expr, var: _Expr) -> Step:
        const, dep = expr.as_independent(var, as_Add=False)
        if const != 1:
            sub = self.derive(dep, var)
            said = f"Constant multiple rule: {_constant_words(const, var)}, so it multiplies "
            said += f"the derivative of {dep}.{_log_base_note(const, dep)}"
            return Step("constant_multiple", expr, const * sub.after, var, said, (sub,))
        factors = sympy.Mul.make_args(expr)
        below = [f for f in factors if f.is_Pow and f.exp.is_number and f.exp.is_negative]
        if below:
            above = [f for f in factors if f not in below]
            return self._quotient(expr, above, [f.base**-f.exp for f in below], var)
        return self._product(expr, factors, var)

    def _product(self, expr: _Expr, factors: Sequence[_Expr], var: _Expr) -> Step:
        subs = tuple(self.derive(f, var) for f in factors)
        terms = [
            sympy.Mul(*factors[:i], sub.after, *factors[i + 1 :]) for i, sub in enumerate(subs)
        ]
        said = f"Product rule: (f*g)' = f'*g + f*g' with f = {factors[0]} and g = {factors[1]}."
        if len(factors) > 2:
            said = f"Product rule ({len(factors)} factors): differentiate each factor in turn, "
            said += "keep the others, and add."
        return Step("product", expr, sympy.Add(*terms), var, said, subs)

    def _quotient(self, expr: _Expr, above: list[_Expr], below: list[_Expr], var: _Expr) -> Step:
        f, g = sympy.Mul(*above), sympy.Mul(*below)
        top, bottom = self.derive(f, var), self.derive(g, var)
        after = (top.after * g - f * bottom.after) / g**2
        said = f"Quotient rule: (f/g)' = (f'*g - f*g')/g**2 with f = {f} and g = {g}."
        return Step("quotient", expr, after, var, said, (top, bottom))

    def _chain(self, expr: _Expr, inner: _Expr, outer: _Fn, var: _Expr) -> Step:
        """Chain rule as a u-substitution: d/dx F(g(x)) = F'(u) * du/dx with u = g(x)."""
        u = self._fresh()
        self._active.append(u.name)
        try:
            out, inn = self.derive(outer(u), u), self.derive(inner, var)
        finally:
            self._active.pop()
        said = (
            f"Chain rule: let {u} = {inner}; then d/d{var} {expr} = (d/d{u} {out.before}) "
            f"* (d{u}/d{var}), with {u} = {inner} put back."
        )
        after = out.after.xreplace({u: inner}) * inn.after
        return Step("chain", expr, after, var, said, (out, inn))

    def _fresh(self) -> _Expr:
        """A chain variable named u, v, w, u1, v1, ... unused by the expression and outer chains."""
        k = 0
        while True:
            for letter in "uvw":
                name = f"{letter}{k or ''}"
                if name not in self._taken and name not in self._active:
                    return sympy.Symbol(name, real=True)
            k += 1

    # ------------------------------------------------------------- powers and functions
    def _pow(self, expr: _Expr, var: _Expr) -> Step:
        base, exp = expr.base, expr.exp
        if var not in exp.free_symbols:
            if base != var:
                return self._chain(expr, base, lambda u: u**exp, var)
            said = f"Power rule: d/d{var} {var}**n = n*{var}**(n - 1) with n = {exp}"
            said += _power_note(exp)
            return Step("power", expr, exp * var ** (exp - 1), var, said)
        if var not in base.free_symbols:
            if exp != var:
                return self._chain(expr, exp, lambda u: base**u, var)
            said = f"Exponential rule: d/d{var} a**{var} = a**{var}*log(a) with a = {base}."
            return Step("exponential", expr, expr * sympy.log(base), var, said)
        return self._log_differentiation(expr, var)

    def _log_differentiation(self, expr: _Expr, var: _Expr) -> Step:
        """y = f**g with f and g depending on x: log(y) = g*log(f), so y' = y * (g*log(f))'."""
        sub = self.derive(expr.exp * sympy.log(expr.base), var)
        said = (
            f"Logarithmic differentiation: base and exponent both depend on {var}, so no power "
            f"or exponential rule applies. Write y = {expr}; then log(y) = {sub.before}; "
            f"differentiate both sides, y'/y = d/d{var} {sub.before}, and multiply by y."
        )
        return Step("log_differentiation", expr, expr * sub.after, var, said, (sub,))

    def _unary(self, expr: _Expr, var: _Expr) -> Step:
        (arg,) = expr.args
        if arg != var:
            return self._chain(expr, arg, expr.func, var)
        rule, derivative, note = _UNARY[expr.func]
        after = derivative(var)
        said = f"{rule.replace('_', ' ').capitalize()} rule: d/d{var} {expr} = {after}"
        said += f" ({note})." if note else "."
        return Step(rule, expr, after, var, said)

    def _extremum(self, expr: _Expr, var: _Expr) -> Step:
        """max/min: the derivative of whichever argument is largest/smallest, piece by piece."""
        args = expr.args
        subs = tuple(self.derive(a, var) for a in args)
        beats = sympy.Gt if isinstance(expr, sympy.Max) else sympy.Lt
        pieces = [
            (sub.after, sympy.And(*(beats(a, b) for b in args[i + 1 :])))
            for i, (a, sub) in enumerate(zip(args, subs, strict=True))
        ]
        after = sympy.Piecewise(*pieces[:-1], (pieces[-1][0], True))
        which = "largest" if isinstance(expr, sympy.Max) else "smallest"
        said = (
            f"{type(expr).__name__} rule: {expr} follows whichever argument is {which}, so its "
            "derivative is that argument's derivative. Where two arguments are equal the graph "
            "can have a kink, and there is no derivative."
        )
        return Step("min_max", expr, after, var, said, subs)

    def _atan2(self, expr: _Expr, var: _Expr) -> Step:
        a, b = expr.args
        top, side = self.derive(a, var), self.derive(b, var)
        after = (b * top.after - a * side.after) / (a**2 + b**2)
        said = (
            f"atan2 rule: atan2(a, b) is the angle of the point (b, a), and its derivative is "
            f"(b*a' - a*b')/(a**2 + b**2) with a = {a} and b = {b}."
        )
        return Step("atan2", expr, after, var, said, (top, side))


# ------------------------------------------------------------------------- leaf rules
def _constant(expr: _Expr, var: _Expr) -> Step:
    """No dependence on ``var``: a number (rule ``constant``) or other variables held fixed."""
    if not expr.free_symbols:
        said = f"{expr} is a constant, so its derivative is 0."
        return Step("constant", expr, sympy.S.Zero, var, said)
    said = f"{_constant_words(expr, var)}, so the derivative of {expr} is 0."
    return Step("held_constant", expr, sympy.S.Zero, var, said)


def _constant_words(const: _Expr, var: _Expr) -> str:
    """'3 is a constant' or 'y is held constant' (partial derivatives name the fixed variables)."""
    *most, last = sorted(s.name for s in const.free_symbols) or [""]
    if not last:
        return f"{const} is a constant"
    held = f"{', '.join(most)} and {last} are" if most else f"{last} is"
    return f"{held} held constant (a partial derivative with respect to {var})"


def _log_base_note(const: _Expr, dep: _Expr) -> str:
    """log(u, b) arrives as log(u)/log(b): say so, since the user wrote a base-b logarithm."""
    if isinstance(dep, sympy.log) and const.is_Pow and isinstance(const.base, sympy.log):
        base = const.base.args[0]
        return f" (A base-{base} logarithm is log(u)/log({base}).)"
    return ""


def _power_note(exp: _Expr) -> str:
    if exp == sympy.S.Half:
        return " (a square root is the power 1/2)."
    if exp.is_number and exp.is_negative:
        return " (a reciprocal power is a negative power)."
    return "."


def _sign(expr: _Expr, var: _Expr) -> Step:
    (arg,) = expr.args
    said = f"sign({arg}) is -1 or +1 wherever {arg} != 0, so its derivative is 0 there; "
    said += f"where {arg} = 0 it jumps and has no derivative."
    return Step("sign", expr, sympy.S.Zero, var, said)


def _lookup(expr: _Expr, var: _Expr) -> Step:
    """A graceful fallback (Gamma #21): no textbook rule, so quote SymPy's derivative."""
    after = differentiate(expr, [var])
    said = f"No textbook rule for {expr.func}; SymPy's derivative table gives {after}."
    return Step("function", expr, after, var, said)


# ------------------------------------------------------------------------ rendering
def derivative_of(body: _Expr, var: _Expr, order: int = 1, *, latex: bool = False) -> str:
    """``d/dx (body)``, ``d^2/dx^2 (body)``, or the same in LaTeX.

    Examples
    --------
    >>> x = sympy.Symbol("x", real=True)
    >>> derivative_of(x**3, x, 2)
    'd^2/dx^2 (x**3)'
    """
    power = "" if order == 1 else f"^{order}"
    if latex:
        power = power.replace(f"{order}", f"{{{order}}}")
        name, shown = sympy.latex(var), sympy.latex(body)
        return f"\\frac{{d{power}}}{{d{name}{power}}}\\left({shown}\\right)"
    return f"d{power}/d{var}{power} ({body})"


def mathml(expr: _Expr) -> str:
    """``expr`` as presentation MathML (the inside of a ``<math>`` element)."""
    return str(sympy.mathml(expr, printer="presentation"))


def math_block(inner: str) -> str:
    """A displayed equation, left-aligned under its list item (``displaystyle`` keeps
    fractions full size), as plain HTML without scripts or style sheets."""
    math = f'<math displaystyle="true"><mrow>{inner}</mrow></math>'
    return f'<div style="margin: 0.2em 0 0.6em 1.5em">{math}</div>'


def _d_over_d(top: str, var: str, order: int) -> str:
    """d^n top / d var^n as a MathML fraction (``top`` empty for the operator d/dx)."""
    if order == 1:
        return f"<mfrac><mrow><mi>d</mi>{top}</mrow><mrow><mi>d</mi>{var}</mrow></mfrac>"
    power = f"<mn>{order}</mn>"
    return (
        f"<mfrac><mrow><msup><mi>d</mi>{power}</msup>{top}</mrow>"
        f"<mrow><mi>d</mi><msup>{var}{power}</msup></mrow></mfrac>"
    )


def derivative_mathml(body: _Expr, var: _Expr, order: int = 1) -> str:
    """d/dx (body) in presentation MathML, as :func:`derivative_of` writes it in text."""
    bracket = f"<mrow><mo>(</mo>{mathml(body)}<mo>)</mo></mrow>"
    return _d_over_d("", mathml(var), order) + bracket


TIMES_SIGN, MINUS_SIGN = "\N{MULTIPLICATION SIGN}", "\N{MINUS SIGN}"
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_POWER = re.compile(r"\*\*(\d+)(?!\.?\d)")  # x**2 -> x², not x**2.5
_CARET = re.compile(r"\^(\d+)(?!\.?\d)")  # d^2y/dx^2 -> d²y/dx²
_MINUS = re.compile(r"(?<![A-Za-z0-9_.])-")  # a minus sign; leaves base-10 and 1e-5 alone
_COEFFICIENT = re.compile(r"(?<![\w.])(\d+)\*(?=[A-Za-z](?![A-Za-z0-9_(])|\()")  # 2*x -> 2x


def unicode_text(text: str) -> str:
    """SymPy's text as a textbook prints it: ``x**2`` -> x², ``d^2/dx^2`` -> d²/dx², ``*`` -> ×, ``-`` -> −.

    Integer powers become superscripts, other powers ``^``; a number times a one-letter name or
    a bracket is written side by side (2x), other products with ×.  Names never contain these characters, so the
    rewriting is safe on explanations that quote expressions.

    Examples
    --------
    >>> unicode_text("2*x/(x - 1) - x**(-1/2)*sin(x)")
    '2x/(x − 1) − x^(−1/2)×sin(x)'
    """
    for power in (_POWER, _CARET):
        text = power.sub(lambda m: m.group(1).translate(_SUPERSCRIPT), text)
    text = _COEFFICIENT.sub(r"\1", text.replace("**", "^"))
    return _MINUS.sub(MINUS_SIGN, text.replace("*", TIMES_SIGN))


def latex_text(text: str) -> str:
    """An explanation for LaTeX ``\\text{...}``: specials escaped, powers and products as maths."""
    for char, escaped in (("\\", "\\textbackslash{}"), ("{", "\\{"), ("}", "\\}")):
        text = text.replace(char, escaped)
    for char in "&%$#_":
        text = text.replace(char, f"\\{char}")
    text = _POWER.sub(lambda m: f"$^{{{m.group(1)}}}$", text)
    text = _COEFFICIENT.sub(r"\1", text.replace("**", "\\textasciicircum{}"))
    text = text.replace("*", "$\\cdot$").replace("~", "\\textasciitilde{}")
    return text.replace("\N{ALMOST EQUAL TO}", "$\\approx$")


def markdown_escape(text: str) -> str:
    """Escape the Markdown emphasis characters that appear in SymPy's text (``x**2``, ``x_1``)."""
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")


# ---------------------------------------------------------------- sampling at points
def real_points(exprs: list[_Expr]) -> Iterator[tuple[dict[_Expr, _Expr], list[_Expr]]]:
    """Seeded random rational points (|value| from 0.01 to 4, one in three negative) where every
    expression is finite and real, with the values there."""
    symbols = sorted(set().union(*(e.free_symbols for e in exprs)), key=str)
    rng = random.Random(_SEED)  # a private generator: reproducible and thread-safe
    for _ in range(_CANDIDATES):
        # 4*k/p with a prime p > 400: no integer or simple fraction, so no kink such as max(x, 1)
        sizes = [4 * sympy.Rational(rng.randint(1, 399), rng.choice(_PRIMES)) for _ in symbols]
        point = {s: -v if rng.random() < 1 / 3 else v for s, v in zip(symbols, sizes, strict=True)}
        found = (value_at(e, point) for e in exprs)  # lazily: stop at the first non-real value
        values = list(itertools.takewhile(lambda v: v is not None, found))
        if len(values) == len(exprs):
            yield point, values


def simple_points(
    exprs: list[_Expr], variables: Sequence[_Expr] | None = None
) -> Iterator[tuple[dict[_Expr, _Expr], list[_Expr]]]:
    """Points a student can check by hand, simplest first, where every expression is finite and
    real, also a little to either side (so a point on the edge of the domain is skipped).

    Small integers (1, -1, 2, -2, ... 4, -4) come first, then halves, thirds and quarters,
    then larger round numbers (5 to 10, 20, 50, ... 1000, both signs), and 0 last (it is often
    special); every variable (``variables``, else those of ``exprs``) takes the same value.
    """
    symbols = variables or sorted(set().union(*(e.free_symbols for e in exprs)), key=str)
    near = sympy.Rational(1, 1000)
    for value in _SIMPLE_VALUES:
        point = dict.fromkeys(symbols, value)
        values = [value_at(e, point) for e in exprs]
        if any(v is None for v in values):
            continue
        around = ({s: v + d for s, v in point.items()} for d in (-near, near))
        if all(value_at(e, p) is not None for p in around for e in exprs):
            yield point, values


_SIMPLE_VALUES = (
    *(
        sympy.Rational(sign * n, d)
        for d in (1, 2, 3, 4)
        for n in range(1, 5)
        for sign in (1, -1)
        if sympy.gcd(n, d) == 1
    ),
    *(
        sympy.Integer(sign * n)
        for n in (5, 6, 7, 8, 9, 10, 20, 50, 100, 200, 500, 1000)
        for sign in (1, -1)
    ),
    sympy.S.Zero,
)


def value_at(expr: _Expr, point: dict[_Expr, _Expr]) -> _Expr | None:
    """``expr`` at ``point``, exactly then to 30 digits; None where it is not finite and real,
    or where it is too costly to evaluate (see :func:`_tame`)."""
    if not _tame(expr, point):
        return None
    try:
        value = substitute(expr, point).evalf(_DPS)
        real, imag = value.as_real_imag()
    except (TypeError, ValueError, ArithmeticError):  # e.g. an undecidable Piecewise condition
        return None
    if not real.is_Number or not real.is_finite or abs(imag) > 1e-25 * (1 + abs(real)):
        return None
    return sympy.Float(real, _DPS)  # evalf leaves an exact 0 as Zero


def not_real(expr: _Expr, point: dict[_Expr, _Expr]) -> bool:
    """True only where ``expr`` at ``point`` is provably a finite number that is not real:
    evaluated with SymPy's error control (``strict=True``: it raises rather than return
    digits it cannot vouch for) to 30 digits, its imaginary part is more than 10**-20 of its
    size, far above the evaluation's error.  A pole, an undefined value, or a point too costly
    to evaluate (see :func:`_tame`) gives False: no proof either way."""
    if not _tame(expr, point):
        return False
    try:
        real, imag = substitute(expr, point).evalf(_DPS, strict=True).as_real_imag()
    except (TypeError, ValueError, ArithmeticError):  # PrecisionExhausted is an ArithmeticError
        return False
    if not (real.is_Number and imag.is_Number and real.is_finite and imag.is_finite):
        return False
    return bool(abs(imag) > 1e-20 * (abs(real) + abs(imag)))


def real_around(expr: _Expr, point: dict[_Expr, _Expr]) -> bool:
    """Every function and power in ``expr`` is real at ``point``, and every power with a
    variable exponent has a positive base there: ``expr`` is a composition of real functions
    near ``point`` (so its derivative there is a real derivative).  ``abs(log(x))`` at x = -1
    is real, yet log(-1) is not; ``x**x`` at x = -20 is real, yet no neighbour of -20 is."""
    nodes = {n for n in sympy.preorder_traversal(expr) if n.is_Function or n.is_Pow}
    for node in nodes:
        if value_at(node, point) is None:
            return False
        if node.is_Pow and node.exp.free_symbols:
            base = value_at(node.base, point)
            if base is None or not base > 0:
                return False
    return True


def close(a: _Expr, b: _Expr) -> bool:
    """Equal to 20 significant digits (values are computed to 30)."""
    return bool(abs(a - b) <= 1e-20 * max(1, abs(a), abs(b)))


def answer_points(
    exprs: list[_Expr],
    salt: str,
    inside: Callable[[dict[_Expr, _Expr]], bool],
    count: int,
    smooth: Sequence[_Expr] = (),
) -> Iterator[dict[_Expr, _Expr]]:
    """Candidate sample points for comparing an answer with a derivative, deterministic per ``salt``.

    The points are drawn from a generator seeded by a hash of ``salt`` (the question and the
    answer), so they are the same on every run, yet an answer written to vanish at them would
    have to contain its own hash.  Generic points come first: magnitudes spread evenly in log
    scale from 0.01 to 10**6 (less for nested exponentials, see ``_REACH_BY_DEPTH``), signs
    mixed, each p/q with q a prime between 1,000 and 10**6 drawn per point, so no integer or
    simple fraction (where a kink such as max(x, 1) sits).  Then both sides of every breakpoint
    (the zeros of the arguments of abs, sign, Heaviside, max, min and of relations, solved
    where they are polynomials of degree at most 8 in one variable; at most ``_MAX_BREAKS``),
    at a distance (1 + |r|)/p with p a prime between 1,000 and 2,000.  Only points where
    ``inside`` holds are yielded: the first ``count`` generic ones (of ``_ANSWER_CANDIDATES``),
    then the rational breakpoints themselves (exact roots of polynomial arguments with rational
    coefficients, at most ``_MAX_BREAKS``) except those of ``smooth`` (the function and its
    derivative: where they have a kink there may be no derivative), then those beside the
    breakpoints.  An answer wrong at one point (``1 - sign(x)**2`` added) is wrong on its
    breakpoint, and only there.
    """
    symbols = sorted(set().union(*(e.free_symbols for e in exprs)), key=str)
    seed = int.from_bytes(hashlib.sha256(salt.encode()).digest()[:8], "big")
    rng = random.Random(seed)  # a private generator: reproducible and thread-safe
    reach = _reach(exprs)
    generic = [
        {s: _generic_value(rng, (i + rng.random()) / _ANSWER_CANDIDATES, reach) for s in symbols}
        for i in range(_ANSWER_CANDIDATES)
    ]
    rng.shuffle(generic)  # every magnitude early, so a narrow domain still fills the sample
    kept = list(itertools.islice(filter(inside, generic), count))
    yield from kept
    base = kept[0] if kept else (generic[0] if generic else {})
    kinks = set(itertools.islice(_breakpoints(smooth, _exact_roots), 4 * _MAX_BREAKS))
    ons = (b for b in _breakpoints(exprs, _exact_roots) if b not in kinks)
    for s, root in itertools.islice(ons, _MAX_BREAKS):
        point = {**base, s: root}
        if inside(point):
            yield point
    for s, root in itertools.islice(_breakpoints(exprs), _MAX_BREAKS):
        gap = (1 + abs(root)) / sympy.nextprime(rng.randint(1_000, 2_000))
        for side in (-gap, gap):
            point = {**base, s: root + side}
            if inside(point):
                yield point


def _generic_value(rng: random.Random, fraction: float, reach: int) -> _Expr:
    """p/q with |p/q| at 10**(-2 + fraction*(2 + log10 reach)), q a random prime, either sign."""
    magnitude = 10 ** (-2 + fraction * (2 + len(str(reach)) - 1))
    q = int(sympy.nextprime(rng.randint(1_000, 10**6)))
    p = max(1, round(magnitude * q))
    p += p % q == 0  # never an integer
    return sympy.Rational(-p if rng.random() < 0.4 else p, q)


def _reach(exprs: list[_Expr]) -> int:
    """The largest |coordinate| worth evaluating: by the nesting depth of exponential growth."""
    depth = max((_growth_depth(e) for e in exprs), default=0)
    return _REACH_BY_DEPTH[depth] if depth < len(_REACH_BY_DEPTH) else 4


def _growth_depth(expr: _Expr) -> int:
    """How many exponentials (exp, sinh, cosh, gamma, powers with a variable exponent) nest."""
    depth, stack = 0, [(expr, 0)]
    while stack:
        node, above = stack.pop()
        grows = isinstance(node, _GROWTH) or (node.is_Pow and bool(node.exp.free_symbols))
        here = above + grows
        depth = max(depth, here)
        stack.extend((a, here) for a in node.args)
    return depth


_GROWTH = (sympy.exp, sympy.sinh, sympy.cosh, sympy.gamma, sympy.factorial)
_KINKED = (sympy.Abs, sympy.sign, sympy.Heaviside)


def _breakpoints(
    exprs: Sequence[_Expr],
    roots: Callable[[_Expr], list[tuple[_Expr, _Expr]]] | None = None,
) -> Iterator[tuple[_Expr, _Expr]]:
    """(variable, rational root) where a nonsmooth piece may change: distinct, in tree order;
    ``roots`` solves an argument (:func:`_real_roots`, rational approximations, by default)."""
    solve = roots or _real_roots
    seen: set[tuple[_Expr, _Expr]] = set()
    for expr in exprs:
        for node in sympy.preorder_traversal(expr):
            for argument in _switching_arguments(node):
                for found in solve(argument):
                    if found not in seen:
                        seen.add(found)
                        yield found


def _switching_arguments(node: _Expr) -> list[_Expr]:
    """The expressions whose sign decides which piece of ``node`` applies."""
    if isinstance(node, _KINKED):
        return [node.args[0]]
    if isinstance(node, sympy.Min | sympy.Max):
        return [a - b for a, b in itertools.combinations(node.args[:6], 2)]
    if isinstance(node, sympy.Piecewise):
        return [c.lhs - c.rhs for _, c in node.args if isinstance(c, sympy.Rel)]
    return []


def _real_roots(argument: _Expr) -> list[tuple[_Expr, _Expr]]:
    """Real roots (as rationals) of a polynomial of low degree in one variable, else none."""
    found = _low_polynomial(argument)
    if found is None:
        return []
    s, poly = found
    if poly.degree() == 1 and all(c.is_Rational for c in poly.all_coeffs()):
        a, b = poly.all_coeffs()
        return [(s, -b / a)]
    try:
        roots = sympy.Poly(poly.as_expr().evalf(30), s).nroots(n=30)
    except (sympy.PolynomialError, mpmath.libmp.NoConvergence, ValueError, TypeError):
        return []
    return [(s, sympy.Rational(str(r))) for r in roots if r.is_real]


def _exact_roots(argument: _Expr) -> list[tuple[_Expr, _Expr]]:
    """The rational roots, exactly, of a polynomial of low degree in one variable with rational
    coefficients (found by factoring over the rationals), else none."""
    found = _low_polynomial(argument)
    if found is None or not all(c.is_Rational for c in found[1].all_coeffs()):
        return []
    s, poly = found
    try:
        return [(s, root) for root in poly.ground_roots()]
    except (sympy.PolynomialError, ValueError, TypeError):  # pragma: no cover - defensive
        return []


def _low_polynomial(argument: _Expr) -> tuple[_Expr, Any] | None:
    """(variable, polynomial) when ``argument`` is a polynomial of degree 1 to
    ``_BREAK_DEGREE`` in a single variable, else None."""
    if len(argument.free_symbols) != 1:
        return None
    (s,) = argument.free_symbols
    if not argument.is_polynomial(s):
        return None
    try:
        poly = sympy.Poly(argument, s)
    except (sympy.PolynomialError, ValueError, TypeError):
        return None
    if not 1 <= poly.degree() <= _BREAK_DEGREE or not poly.is_univariate:
        return None
    return s, poly


#: the largest |argument| of an exponential (exp(10**1000) is a number whose exponent has 1,000
#: digits: cheap; exp(exp(exp(10))) is not) and of a periodic function (sin(10**300) needs pi
#: to 300 digits)
_GROWTH_LIMIT, _PERIODIC_LIMIT = 10**1000, 10**300
_PERIODIC = (sympy.sin, sympy.cos, sympy.tan, sympy.sec, sympy.csc, sympy.cot)


def _tame(expr: _Expr, point: dict[_Expr, _Expr]) -> bool:
    """Whether every exponential and periodic function in ``expr`` meets a modest argument at
    ``point``: ``sin(exp(exp(x)))`` at x = 100 would need pi to 10**43 digits, and SymPy's
    evalf would try.  The tree is judged bottom-up, so each argument evaluated here (to 15
    digits) holds only functions already judged tame; an argument that cannot be evaluated
    to a real number leaves the decision to the evaluation itself."""
    for node in sympy.postorder_traversal(expr):
        argument, limit = _danger(node)
        if argument is None or not argument.free_symbols & point.keys():
            continue
        try:
            size = abs(substitute(argument, point).evalf(15))
        except (TypeError, ValueError, ArithmeticError):
            continue
        if size.is_comparable and size > limit:
            return False
    return True


def _danger(node: _Expr) -> tuple[_Expr | None, int]:
    """The argument whose size decides the cost of evaluating ``node``, and its limit."""
    if isinstance(node, _PERIODIC):
        return node.args[0], _PERIODIC_LIMIT
    if isinstance(node, _GROWTH):
        return node.args[0], _GROWTH_LIMIT
    if node.is_Pow and node.exp.free_symbols:
        return node.exp * sympy.log(abs(node.base) + 1), _GROWTH_LIMIT
    return None, 0


def substitute(expr: _Expr, point: dict[_Expr, _Expr]) -> _Expr:
    """``expr`` at ``point``: exactly, except that where a power has a variable exponent, or
    an exponential or logarithm appears, the coordinates enter as 60-digit floats: SymPy would
    work out (p/q)**(p/q), or exp(p/q*log(p/q)), exactly, a p-th power of a 12-digit p."""
    powers = any(p.exp.free_symbols for p in expr.atoms(sympy.Pow))
    if not powers and not expr.has(sympy.exp, sympy.log):
        return expr.xreplace(point)
    return expr.xreplace({s: sympy.Float(v, 2 * _DPS) for s, v in point.items()})
