"""Step-by-step differentiation for teaching, and "check my answer".

:func:`steps` explains a derivative rule by rule (the engine is :mod:`symgrad.teaching._rules`):
the rule, its pieces, how they combine, then a ``simplify`` step to the form a textbook prints
(:func:`textbook_form`: one fraction for a quotient, factored where that is shorter, the
trigonometric function the rule produced).  The result is proved equal to SymPy's own
derivative ("proved equal symbolically": ``simplify`` of the difference is 0) or, where SymPy
cannot prove it, "equal at N exact rational points", said as such.  A higher order is the first
derivative taken again, block by block; :func:`implicit_steps` differentiates an equation
F(x, y) = 0 and, for d²y/dx², uses the equation itself to shorten the result.

:func:`check_answer` compares a student's derivative with the exact one, and only a proof
decides ``fail``: at sample points, values that differ exactly (both rational there) or by more
than their certified error bounds (balls of 200 digits, :mod:`symgrad.derive`'s exact values),
a difference that is a rational function with a nonzero numerator (a polynomial of degree d is
nonzero at one of any d + 1 distinct numbers), or a certified ball of the difference itself
(as written, cancelled or simplified) that excludes 0.  The sample points are drawn per question
from a hash of it: 12 generic points with magnitudes from 0.01 to 10**6 and prime denominators,
and both sides of every breakpoint of abs, sign, Heaviside, max, min and relations that SymPy
can solve; only points where the original expression is real are used.  ``simplify`` of the
difference reducing to 0 proves ``pass``; otherwise a ``pass`` says what it rests on ("equal at
N exact rational points (to 200 digits), not proved symbolically"), and with no usable point
the verdict is ``inconclusive``.  Agreement on a sample is evidence only where the difference
is analytic, so every non-analytic atom of it must have its breakpoints located exactly and
every piece between them sampled, each breakpoint itself compared exactly
(:mod:`symgrad.teaching._pieces`); where one cannot be located the verdict is ``inconclusive``
and says which atom and why.  The same holds where a many-valued atom (log, a fractional
power, atan, asin, ...) may change branch: at its argument's branch values and poles, which
cut the real domain into components that must each be sampled; a difference of single-valued
functions (exp, sin, tan, gamma, ...) is one analytic function across its poles, so one
component is evidence for all.  Where two variables switch together on polynomial curves,
lines across the curves meet every cell (:func:`symgrad.teaching._pieces.plane_lines`), and
each line is judged as a question in one variable fewer.  A failure is reported at the simplest point where the two
provably differ (small integers, simple fractions, then round numbers up to 1000, never a
point on the edge of the domain), with values shown exactly or with digits enough to differ,
and the classic slip named or the differing terms (see `AnswerCheck`).
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import mpmath
import sympy

from symgrad.derive import function
from symgrad.errors import ConfigError, LimitExceeded, ParseError, SymgradError
from symgrad.expr import (
    VariablesSpec,
    differentiate,
    free_variables,
    parse,
    parse_variables,
    symbol,
)
from symgrad.results import Result, Status
from symgrad.teaching._pieces import MAX_POINTS as MAX_PIECE_POINTS
from symgrad.teaching._pieces import (
    Pieces,
    Plane,
    Root,
    at_breakpoint,
    beside,
    cell_bounds,
    locate,
    nonsmooth_atoms,
    plane_lines,
    point_count,
    simplest_between,
    singular_arguments,
    switching_arguments,
)
from symgrad.teaching._pieces import cells as piece_cells
from symgrad.teaching._pieces import fraction as piece_fraction
from symgrad.teaching._pieces import vanishes as breakpoint_vanishes
from symgrad.teaching._rules import (
    Engine,
    Step,
    _d_over_d,
    answer_points,
    close,
    derivative_mathml,
    derivative_of,
    latex_text,
    markdown_escape,
    math_block,
    mathml,
    not_real,
    real_around,
    real_points,
    simple_points,
    substitute,
    unicode_text,
    value_at,
)

__all__ = [
    "MAX_NODES",
    "MAX_ORDER",
    "AnswerCheck",
    "ImplicitResult",
    "Step",
    "StepsResult",
    "check_answer",
    "implicit_steps",
    "steps",
    "textbook_form",
]

MAX_ORDER = 8  # each order differentiates a larger expression: the steps grow fast
MAX_NODES = 1_000  # nodes of the expression to explain; teaching examples are far smaller

_Expr = Any  # SymPy is untyped
_ENOUGH = 4  # sample points that must agree
_SIMPLIFY_NODES = 250  # larger differences skip simplify (slow) and go straight to the numbers
_EXPANDED_TERMS = 2_000  # cancel/together/simplify only where multiplying out stays this short
_SIMPLIFY_INTEGER = 10**3  # simplify skipped where a function's argument holds a larger integer
_MAX_TERMS = 30  # term-by-term diagnosis only for answers of reasonable length
_ANSWER_NODES = 5 * MAX_NODES  # an answer may be written longer than the expression
_SIMPLE_TRIES = 48  # simple points tried for a counterexample a student can check by hand
_PROVED = "proved equal symbolically"  # simplify reduces the difference to 0
_SAMPLE = 12  # generic sample points in the domain an unproved answer must agree at
_DIGITS = 200  # digits to which both sides are certified and compared at a sample point
_TRUST = sympy.Float(10) ** (2 - _DIGITS)  # values further apart than this (relative) differ
_FORM_DIGITS = 15  # digits that prove a certified difference nonzero (its ball excludes 0)
_WITNESS_TRIES = 2_000  # grid points tried for a nonzero numerator of a rational difference
_SHOWN_CHARS = 60  # a longer exact rational is shown in digits
_SHOWN_DIGITS = (10, 20, 40, 80, _DIGITS)  # digits tried until the two shown values differ
_LINE_POINTS = 4 * MAX_PIECE_POINTS  # points on all the lines across curves in two variables


@dataclass(frozen=True)
class StepsResult(Result):
    """A derivation: the steps, and the derivative in SymPy's form.

    Attributes
    ----------
    expression, variable, order
        What was differentiated, with respect to what, how many times.
    result : sympy.Expr
        The derivative, as ``sympy.diff`` writes it (the steps are proved equal to it).
    steps : tuple of Step
        For order 1 the rule tree (plus a ``simplify`` step when the forms differ); for higher
        orders one ``higher_order`` step per derivative, holding that derivative's steps.
    status, reason
        ``pass`` once the steps are verified equal to SymPy's derivative, ``inconclusive`` when
        no check could decide (e.g. the expression is real at none of the sample points).
    """

    expression: _Expr
    variable: _Expr
    order: int
    result: _Expr
    steps: tuple[Step, ...]
    status: Status
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data with the documented keys (docs/reference/json.md): expression, variable, result, steps."""
        return {
            "status": self.status.value,
            "reason": self.reason,
            "expression": str(self.expression),
            "variable": str(self.variable),
            "order": self.order,
            "result": str(self.result),
            "steps": [s.to_dict() for s in self.steps],
        }

    def _heading(self, latex: bool) -> str:
        """The question; the answer is the last equation of the steps, shown once."""
        return derivative_of(self.expression, self.variable, self.order, latex=latex)

    def to_text(self) -> str:
        """An indented derivation with Unicode maths (x², ×, −): number, rule, explanation,
        then the step as an equation; the last equation is the answer."""
        lines = [unicode_text(self._heading(False)), unicode_text(f"{self.status}: {self.reason}")]
        lines.append("")
        for i, step in enumerate(self.steps, 1):
            lines += step.text_lines(str(i))
        return "\n".join(lines)

    def to_latex(self) -> str:
        """The derivation as a LaTeX ``array``: each rule with its explanation, then its equation."""
        reason = latex_text(f"{self.status}: {self.reason}")
        rows = [f"{self._heading(True)} \\\\", f"\\text{{{reason}}} \\\\"]
        rows += [row for step in self.steps for row in step.latex_rows(1)]
        return "\\begin{array}{l}\n" + "\n".join(rows) + "\n\\end{array}"

    def to_markdown(self) -> str:
        """Markdown with ``$$`` maths: a nested numbered list of the steps."""
        lines = [f"$${self._heading(True)}$$", ""]
        lines += [f"**{self.status}**: {markdown_escape(unicode_text(self.reason))}", ""]
        lines += [line for step in self.steps for line in step.markdown_lines()]
        return "\n".join(lines) + "\n"

    def _heading_mathml(self) -> str:
        return derivative_mathml(self.expression, self.variable, self.order)

    def to_html(self) -> str:
        """An HTML fragment: the question and every equation in MathML (rendered by browsers
        and Jupyter without scripts), the verdict, and a nested numbered list of the steps."""
        question = math_block(self._heading_mathml())
        verdict = (
            f'<p class="reason"><b>{self.status}</b>: {html.escape(unicode_text(self.reason))}</p>'
        )
        items = "".join(step.html_items() for step in self.steps)
        return f'<div class="symgrad-steps">{question}{verdict}<ol>{items}</ol></div>'

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        """Jupyter display: HTML with MathML first, then Markdown, LaTeX and text."""
        bundle = super()._repr_mimebundle_(include, exclude)
        return {**bundle, "text/html": self.to_html(), "text/latex": f"$${self.to_latex()}$$"}


@dataclass(frozen=True)
class ImplicitResult(StepsResult):
    """Implicit differentiation of an equation F(x, y) = 0: dy/dx = -F_x/F_y, step by step.

    Attributes
    ----------
    equation : str
        The equation as given (its two sides were parsed separately).
    dependent : sympy.Symbol
        y, the variable that depends on x (``variable`` is x).
    expression : sympy.Expr
        F = left side - right side.
    result : sympy.Expr
        dy/dx in the textbook form, in terms of x and y (``order`` 1), or d²y/dx² (``order`` 2,
        with dy/dx put in).
    branches : tuple of sympy.Expr
        The explicit solutions y = b(x) SymPy found; the result is checked against d/dx b(x)
        on each, at exact points where the branch is real.
    """

    equation: str = ""
    dependent: _Expr = None
    branches: tuple[_Expr, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The steps' data plus equation, dependent variable and explicit branches."""
        data = super().to_dict()
        data.update(
            equation=self.equation,
            dependent=str(self.dependent),
            branches=[str(b) for b in self.branches],
        )
        return data

    def _heading(self, latex: bool) -> str:
        y, x = (sympy.latex(v) if latex else str(v) for v in (self.dependent, self.variable))
        power = "" if self.order == 1 else "^2"
        if latex:
            power = power.replace("2", "{2}")
            left, right = (sympy.latex(parse_side(t)) for t in self.equation.split("="))
            return f"\\frac{{d{power}{y}}}{{d{x}{power}}} \\text{{ where }} {left} = {right}"
        return f"d{power}{y}/d{x}{power} where {self.equation.strip()}"

    def _heading_mathml(self) -> str:
        left, right = (mathml(parse_side(t)) for t in self.equation.split("="))
        question = _d_over_d(mathml(self.dependent), mathml(self.variable), self.order)
        return f"{question}<mtext>&#xA0;where&#xA0;</mtext>{left}<mo>=</mo>{right}"


@dataclass(frozen=True)
class AnswerCheck(Result):
    """A student's derivative compared with the exact one.

    When the answer is wrong, both are split into terms (products of sums multiplied out).  Terms
    that agree (written alike, or numerically equal at the sample points) are set aside; what is left of the exact
    derivative is ``missing_terms`` and what is left of the answer is ``extra_terms``.  Left-over
    terms are then paired into ``issues``: opposite values are a sign error, a constant ratio is a
    wrong coefficient, shared factors make "the term A should be B"; unpaired ones are missing or
    extra.  The first issue, in the printed order of the exact derivative, leads the reason.

    Attributes
    ----------
    expression, variable, order, expected, answer
        The question, the exact derivative (SymPy's form) and the answer as parsed.
    missing_terms, extra_terms : tuple of sympy.Expr
        Unmatched terms of the expanded exact derivative and of the expanded answer.
    issues : tuple of str
        Sentences pointing at the differing terms, most specific first.
    counterexample : dict or None
        ``{"point": {name: "p/q"}, "expected": str, "answer": str}`` where the two differ.
    """

    expression: _Expr
    variable: _Expr
    order: int
    expected: _Expr
    answer: _Expr
    status: Status
    reason: str
    missing_terms: tuple[_Expr, ...] = ()
    extra_terms: tuple[_Expr, ...] = ()
    issues: tuple[str, ...] = ()
    counterexample: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: verdict, expected, answer, missing and extra terms, issues."""
        return {
            "status": self.status.value,
            "reason": self.reason,
            "expression": str(self.expression),
            "variable": str(self.variable),
            "order": self.order,
            "expected": str(self.expected),
            "answer": str(self.answer),
            "missing_terms": [str(t) for t in self.missing_terms],
            "extra_terms": [str(t) for t in self.extra_terms],
            "issues": list(self.issues),
            "counterexample": self.counterexample,
        }

    def _lines(self) -> list[str]:
        """The answer, the expected derivative, then one sentence per issue (Unicode maths)."""
        lines = [f"answer: {self.answer}", f"expected: {self.expected}", *self.issues]
        return [unicode_text(line) for line in lines]

    def to_text(self) -> str:
        """The question, the verdict, both derivatives and one line per issue."""
        question = unicode_text(derivative_of(self.expression, self.variable, self.order))
        head = [f"check {question}", unicode_text(f"{self.status}: {self.reason}")]
        return "\n".join(head + [f"  - {line}" for line in self._lines()])

    def to_latex(self) -> str:
        """A LaTeX ``array``: the question, the verdict, both derivatives, one row per issue."""
        question = derivative_of(self.expression, self.variable, self.order, latex=True)
        rows = [
            f"{question} \\\\",
            f"\\text{{{latex_text(f'{self.status}: {self.reason}')}}} \\\\",
            f"\\text{{answer: }} {sympy.latex(self.answer)} \\\\",
            f"\\text{{expected: }} {sympy.latex(self.expected)} \\\\",
        ]
        rows += [f"\\text{{{latex_text(issue)}}} \\\\" for issue in self.issues]
        return "\\begin{array}{l}\n" + "\n".join(rows) + "\n\\end{array}"

    def to_html(self) -> str:
        """An HTML fragment: the question, the verdict, both derivatives in MathML, one list
        item per issue (escaped)."""
        question = derivative_mathml(self.expression, self.variable, self.order)
        said = html.escape(unicode_text(f"{self.status}: {self.reason}"))
        forms = [("answer", self.answer), ("expected", self.expected)]
        items = [f"{name}: {math_block(mathml(form))}" for name, form in forms]
        items += [html.escape(line) for line in self._lines()[2:]]
        listed = "".join(f"<li>{item}</li>" for item in items)
        verdict = f'<p class="reason">{said}</p>'
        return f'<div class="symgrad-answer">{math_block(question)}{verdict}<ul>{listed}</ul></div>'

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        """Jupyter display: HTML with MathML first, then Markdown (escaped) and text."""
        return {**super()._repr_mimebundle_(include, exclude), "text/html": self.to_html()}

    def to_markdown(self) -> str:
        """The verdict, then a list: answer and expected derivative in LaTeX, one item per issue."""
        show = [sympy.latex(e) for e in (self.answer, self.expected)]
        items = [f"answer: ${show[0]}$", f"expected: ${show[1]}$"]
        items += [markdown_escape(line) for line in self._lines()[2:]]
        said = markdown_escape(unicode_text(self.reason))
        return f"**{self.status}**: {said}\n\n" + "".join(f"- {item}\n" for item in items)


# ---------------------------------------------------------------------------- public API
def steps(
    expr: str | _Expr,
    wrt: str | _Expr | None = None,
    order: int = 1,
    *,
    variables: VariablesSpec = None,
) -> StepsResult:
    """Differentiate step by step, naming each rule, and verify the result against SymPy.

    Parameters
    ----------
    expr : str or sympy.Expr
        The expression; text is parsed safely (:func:`symgrad.expr.parse`).
    wrt : str or sympy.Symbol, optional
        The variable; may be omitted when the expression has exactly one.  Other variables are
        held constant (a partial derivative).
    order : int
        1 to ``MAX_ORDER`` (8); order n shows the steps of d/dx applied n times.
    variables : str or sequence, optional
        The allowed variable names, as elsewhere in symgrad.

    Returns
    -------
    StepsResult
        Its ``result`` is the textbook form (see :func:`textbook_form`).

    Raises
    ------
    ParseError, ConfigError, LimitExceeded
        Bad text, a bad ``wrt``/``order``, or an expression or derivation above the caps.

    Examples
    --------
    >>> r = steps("x**2*sin(x)", "x")
    >>> r.result
    x**2*cos(x) + 2*x*sin(x)
    >>> [s.rule for s in r.steps[0].walk()]
    ['product', 'power', 'trig']
    >>> steps("sin(x**2)").steps[0].explanation.split(";")[0]
    'Chain rule: let u = x**2'
    >>> steps("(x**2 + 1)/(x - 1)").result
    (x**2 - 2*x - 1)/(x - 1)**2
    """
    expr, var = _validate(expr, wrt, order, variables)
    engine = Engine(s.name for s in expr.free_symbols)
    blocks: list[Step] = []
    proofs: list[str | None] = []
    current = expr
    for k in range(1, order + 1):
        _check_size(current, "the expression" if k == 1 else f"derivative {k - 1}")
        tree = engine.derive(current, var)
        final = textbook_form(tree.after, var)
        proofs.append(_confirm(final, differentiate(current, [var]), current))
        tidy: tuple[Step, ...] = ()
        if final != tree.after:
            tidy = (Step("simplify", tree.after, final, var, _tidy_words(final, var)),)
        if order == 1:
            blocks.extend((tree, *tidy))
        else:
            again = " once more" if k > 1 else ""
            said = f"Derivative {k} of {order}: differentiate {current}{again}."
            blocks.append(Step("higher_order", current, final, var, said, (tree, *tidy)))
        current = final
    reason = f"derivative computed by {engine.count} rule application{'s' * (engine.count > 1)}"
    status = Status.INCONCLUSIVE if None in proofs else Status.PASS
    return StepsResult(expr, var, order, current, tuple(blocks), status, reason + _verdict(proofs))


def _verdict(proofs: list[str | None]) -> str:
    """The reason's second half: how every order was shown equal to SymPy's derivative."""
    if None in proofs:
        return "; equality with SymPy's derivative is undecided"
    if all(p == _PROVED for p in proofs):
        return f"; {_PROVED} to SymPy's derivative"
    return f"; checked against SymPy's derivative: {'; '.join(sorted(set(map(str, proofs))))}"


def textbook_form(derivative: _Expr, var: _Expr) -> _Expr:
    """The form a textbook prints, with the functions the rules produced (no trig rewriting).

    A derivative with a variable in a denominator becomes one fraction (``together``, then
    ``cancel``): the numerator expanded or factored, whichever is shorter, the polynomial
    factors of the denominator factored.  A polynomial is expanded or factored, whichever is
    shorter; anything else stays as the rules wrote it (``x**2*cos(x) + 2*x*sin(x)``,
    ``sec(x)**2``).  Only algebraic identities are used, and :func:`steps` proves the result
    equal to SymPy's derivative.

    Examples
    --------
    >>> x = sympy.Symbol("x", real=True)
    >>> textbook_form(2*x/(x - 1) - (x**2 + 1)/(x - 1)**2, x)
    (x**2 - 2*x - 1)/(x - 1)**2
    >>> textbook_form(sympy.sec(x)**2, x)
    sec(x)**2
    """
    if not _within(derivative, _SIMPLIFY_NODES) or derivative.has(sympy.Piecewise):
        return derivative
    if expanded_terms(derivative) > _EXPANDED_TERMS:  # (x + y + z + 1)**59 has 37,820 terms
        return derivative
    try:
        num, den = sympy.fraction(sympy.cancel(sympy.together(derivative)), exact=True)
    except (sympy.PolynomialError, ValueError, TypeError):  # pragma: no cover - defensive
        return derivative
    if not den.free_symbols:  # any variable below the line (y in an implicit derivative) counts
        shapes = [derivative]
        if derivative.is_polynomial(var):
            shapes += [sympy.expand(derivative), sympy.factor(derivative)]
        return min(shapes, key=_length)
    bottom = sympy.Mul(*(_factor_polynomial(f, var) for f in sympy.Mul.make_args(den)))
    return min((sympy.expand(num) / bottom, sympy.factor(num) / bottom), key=_length)


def expanded_terms(expr: _Expr) -> int:
    """An upper bound on the terms of ``expr`` over one denominator, multiplied out (what
    ``cancel(together(expr))`` would build), counted from the tree without expanding it.

    A node's numerator and denominator are bounded separately: a sum over one denominator has
    at most sum(N_i * prod_{j != i} D_j) terms above and prod(D_j) below, a product multiplies
    the bounds, and an integer power n of a base with t terms has at most C(n + t - 1, t - 1)
    (the monomials of degree n in t terms).  Any other node (a function, a symbolic power) is
    one generator: one term.  Counts stop growing past ``_EXPANDED_TERMS``, so the bound
    costs one pass over the tree.
    """
    return min(_terms_bound(expr)[0], _EXPANDED_TERMS + 1)


def _terms_bound(expr: _Expr) -> tuple[int, int]:
    """(terms above, terms below) of ``expr`` over one denominator, capped past the limit."""
    cap = _EXPANDED_TERMS + 1
    if expr.is_Add:
        parts = [_terms_bound(a) for a in expr.args]
        below = min(cap, math.prod(d for _, d in parts))
        above = sum(min(cap, n * below // d) for n, d in parts)
        return min(cap, above), below
    if expr.is_Mul:
        parts = [_terms_bound(a) for a in expr.args]
        return min(cap, math.prod(n for n, _ in parts)), min(cap, math.prod(d for _, d in parts))
    if expr.is_Pow and expr.exp.is_Integer:
        above, below = _terms_bound(expr.base)
        if expr.exp < 0:
            above, below = below, above
        n = abs(int(expr.exp))
        return _monomials(n, above, cap), _monomials(n, below, cap)
    return 1, 1


def _monomials(degree: int, terms: int, cap: int) -> int:
    """C(degree + terms - 1, terms - 1), or ``cap`` when it is at least that (no huge numbers)."""
    count = 1
    for k in range(1, min(degree, terms - 1) + 1):  # C(d + t - 1, k) grows with k up to t - 1
        count = count * (degree + terms - 1 - k + 1) // k
        if count >= cap:
            return cap
    return count


def _factor_polynomial(factor: _Expr, var: _Expr) -> _Expr:
    """A polynomial factor (or an integer power of one) factored; roots and the rest unchanged."""
    base, exp = factor.as_base_exp()
    if exp.is_Integer and base.is_polynomial(var):
        return sympy.factor(base) ** exp
    return factor


def _length(expr: _Expr) -> int:
    return len(str(expr))


def _tidy_words(final: _Expr, var: _Expr) -> str:
    """The explanation of the last step: what was done to reach the textbook form."""
    _, den = sympy.fraction(final, exact=True)
    if den.free_symbols and var.is_Symbol:
        return (
            "Simplify: write the result as one fraction over the common denominator and cancel "
            "common factors; the numerator is multiplied out or factored (whichever is shorter) "
            "and the denominator factored."
        )
    return "Simplify: multiply out or factor the result, whichever is shorter."


def check_answer(
    expr: str | _Expr,
    answer: str | _Expr,
    wrt: str | _Expr | None = None,
    *,
    order: int = 1,
    variables: VariablesSpec = None,
) -> AnswerCheck:
    """Check a student's derivative against the exact one; say what went wrong.

    Parameters
    ----------
    expr, answer : str or sympy.Expr
        The function and the proposed derivative (text is parsed safely).
    wrt, order, variables
        As in :func:`steps`.

    Returns
    -------
    AnswerCheck
        ``fail`` only on a proof that the two differ (exact or certified values at a sample
        point, a rational difference with a nonzero numerator, a certified nonzero difference,
        an answer provably not real where the function is a composition of real functions),
        with the classic slip or the differing terms; ``pass`` when ``simplify`` proves them
        equal ("proved equal symbolically"), or else when they agree at every sample point
        (exactly or to 200 digits: the reason says so, and that it is not a proof), which
        needs every breakpoint of the difference's abs/sign/Heaviside/max/min/atan2 atoms
        located exactly and a point in every piece between them (and the two compared on each
        breakpoint that is not a kink of the function), and likewise every point where a
        many-valued atom of the difference (log, fractional and variable powers, asin, acos,
        atan, asinh, acosh, atanh, loggamma, bessely) may change branch, its argument at a
        branch value (log(u) at u = 0, asin(u) at ±1) or at a pole (atan(tan(x)) at the
        poles of tan), with a point in every component between them (a difference of
        single-valued functions, exp, trigonometric, hyperbolic, erf, gamma, is one analytic
        function across its poles and needs none); ``inconclusive`` when no sample point is
        in the domain and ``simplify`` cannot decide, or when a breakpoint or a branch's end
        cannot be located (an argument in three variables together, not a polynomial after
        inverting monotone functions, infinitely many poles, over a degree or size cap, a
        function known to neither list: the reason names the atom).  Arguments in two
        variables together that are polynomials over the rationals are decided on lines
        y = c across their curves, one inside every interval between the curves' critical
        heights and one on each, which meet every cell; each line is checked in one variable.
        The sample (12 generic points from 0.01 to 10**6, then exactly on the answer's rational
        breakpoints where the function and its derivative have none, and both sides of up to 12
        breakpoints)
        is drawn per question from a hash of it, so it is the same on every run.

    Examples
    --------
    >>> check_answer("sin(x)**2", "sin(2*x)").status
    <Status.PASS: 'pass'>
    >>> print(check_answer("x**2*sin(x)", "x**2*cos(x) + 2*x*cos(x)").issues[0])
    the term 2*x*cos(x) should be 2*x*sin(x)
    """
    expr, var = _validate(expr, wrt, order, variables)
    given = parse(answer, variables)
    _check_size(given, "the answer", _ANSWER_NODES)
    expected = differentiate(expr, [var] * order)
    if order == 1:
        expected = textbook_form(expected, var)
    check = AnswerCheck(expr, var, order, expected, given, Status.PASS, "")
    if given == expected:
        return replace(check, reason="the answer is the exact derivative")
    return _judge_answer(check)


def implicit_steps(
    equation: str,
    y: str = "y",
    x: str = "x",
    *,
    order: int = 1,
) -> ImplicitResult:
    """dy/dx of a curve given by an equation, by implicit differentiation, step by step.

    The equation ``left = right`` becomes F(x, y) = left - right = 0.  Treating y as a function
    of x and differentiating F(x, y(x)) = 0 gives F_x + F_y * dy/dx = 0, so dy/dx = -F_x/F_y
    wherever F_y is not 0.  F_x (y held constant) and F_y (x held constant) are explained rule
    by rule and proved equal to SymPy's partial derivatives; dy/dx is written as one fraction.
    Where SymPy can solve the equation for y, dy/dx is checked on every explicit branch
    y = b(x) against d/dx b(x): symbolically, else at exact points where the branch is real.
    ``order=2`` goes on to d²y/dx² = d/dx (dy/dx), with dy/dx put in for y'.

    Parameters
    ----------
    equation : str
        One ``=`` between two expressions, e.g. ``"x**2 + y**2 = 1"``; each side is parsed
        safely (:func:`symgrad.expr.parse`).
    y, x : str
        The dependent and the independent variable.
    order : int
        1 (dy/dx) or 2 (d²y/dx²).

    Returns
    -------
    ImplicitResult

    Raises
    ------
    ParseError, ConfigError
        Not exactly one ``=``, a side that does not parse, y or x missing, a bad order.

    Examples
    --------
    >>> implicit_steps("x**2 + y**2 = 1").result
    -x/y
    """
    if order not in (1, 2) or isinstance(order, bool):
        msg = f"order must be 1 or 2 for implicit differentiation (got {order!r})"
        raise ConfigError(msg)
    left, right = _sides(equation)
    dep, var = symbol(y), symbol(x)
    if dep == var:
        msg = f"y and x must be different variables (both are {var})"
        raise ConfigError(msg)
    function = left - right
    if dep not in function.free_symbols:
        msg = f"the equation does not contain {dep}, so it does not define {dep}({var})"
        raise ConfigError(msg)
    _check_size(function, "the equation")
    engine = Engine(s.name for s in function.free_symbols)
    blocks, proofs, slope = _implicit_blocks(engine, function, dep, var)
    result = slope
    if order == 2:
        result, more = _second_derivative(engine, slope, dep, var)
        blocks += more
        proofs += [
            _confirm(s.after, differentiate(slope, [s.variable]), slope) for s in more[0].substeps
        ]
        result, more = _on_curve(result, function, dep, var)
        blocks += more
    branches = _branches(function, dep)
    check = _branch_check(result, branches, dep, var, order)
    reason = f"derivative computed by {engine.count} rule applications"
    reason += _verdict(proofs) + (f"; {check}" if check else "")
    status = Status.INCONCLUSIVE if None in proofs or "differs" in check else Status.PASS
    return ImplicitResult(
        function, var, order, result, tuple(blocks), status, reason, equation, dep, branches
    )


def parse_side(text: str) -> _Expr:
    """One side of an equation, parsed safely."""
    return parse(text)


def _sides(equation: object) -> tuple[_Expr, _Expr]:
    """The two sides of ``left = right``, split on its single '=' and parsed separately."""
    if not isinstance(equation, str):
        msg = f"the equation must be text such as 'x**2 + y**2 = 1' (got {type(equation).__name__})"
        raise ConfigError(msg)
    count = equation.count("=")
    if count != 1:
        msg = f"an equation needs exactly one '=' (found {count}), e.g. 'x**2 + y**2 = 1'"
        column = equation.find("=", equation.find("=") + 1) + 1 if count else 0
        raise ParseError(msg, reason="not_an_equation", text=equation, column=column)
    left, right = equation.split("=")
    if not left.strip() or not right.strip():
        msg = "both sides of the '=' need an expression, e.g. 'x**2 + y**2 = 1'"
        raise ParseError(
            msg, reason="not_an_equation", text=equation, column=equation.find("=") + 1
        )
    return parse_side(left), parse_side(right)


def _implicit_blocks(
    engine: Engine, function: _Expr, dep: _Expr, var: _Expr
) -> tuple[list[Step], list[str | None], _Expr]:
    """Steps for F_x, F_y and dy/dx = -F_x/F_y, how F_x and F_y were verified, and dy/dx."""
    blocks, proofs, parts = [], [], []
    for wrt, other in ((var, dep), (dep, var)):
        tree = engine.derive(function, wrt)
        part = textbook_form(tree.after, wrt)
        proofs.append(_confirm(part, differentiate(function, [wrt]), function))
        said = f"Partial derivative F_{wrt} of F = {function}, with {other} held constant."
        blocks.append(Step("partial", function, part, wrt, said, (tree,)))
        parts.append(part)
    raw = -parts[0] / parts[1]
    slope = textbook_form(raw, var)
    said = (
        f"Implicit differentiation: {dep} depends on {var}, so by the chain rule "
        f"d/d{var} F({var}, {dep}) = F_{var} + F_{dep}*d{dep}/d{var} = 0, and "
        f"d{dep}/d{var} = -F_{var}/F_{dep} = -({parts[0]})/({parts[1]}) where F_{dep} != 0."
    )
    blocks.append(Step("implicit", dep, slope, var, said))
    return blocks, proofs, slope


def _second_derivative(
    engine: Engine, slope: _Expr, dep: _Expr, var: _Expr
) -> tuple[_Expr, list[Step]]:
    """d²y/dx² = G_x + G_y * dy/dx for G = dy/dx(x, y), written as one fraction."""
    g_x, g_y = (engine.derive(slope, w) for w in (var, dep))
    second = textbook_form(g_x.after + g_y.after * slope, var)
    said = (
        f"Second derivative: differentiate d{dep}/d{var} = {slope} again, with {dep} a function "
        f"of {var}: d/d{var} G = G_{var} + G_{dep}*d{dep}/d{var}, and put in d{dep}/d{var} = {slope}."
    )
    step = Step("implicit_second", dep, second, var, said, (g_x, g_y))
    return second, [step]


def _on_curve(second: _Expr, function: _Expr, dep: _Expr, var: _Expr) -> tuple[_Expr, list[Step]]:
    """d²y/dx² simplified with the equation itself: on the curve F = 0.

    The numerator N of the fraction is divided by the polynomial F (its numerator, cleared of
    constant denominators) in the variables x and y and any function of them:
    N = q*F + r, so N = r wherever F = 0 (the circle's -x**2 - y**2 = -(x**2 + y**2 - 1) - 1
    becomes -1, and d²y/dx² = -1/y**3).  The identity N = q*F + r is checked by expanding it;
    the remainder is kept only when the fraction gets shorter.
    """
    num, den = sympy.fraction(second, exact=True)
    curve = sympy.fraction(sympy.together(function), exact=True)[0]
    best: tuple[_Expr, _Expr, _Expr] | None = None
    for gens in ((var, dep), (dep, var), ()):  # () lets SymPy add sin(y) etc. as generators
        try:
            (quotient,), rest = sympy.reduced(num, [curve], *gens, order="lex")
        except (sympy.PolynomialError, sympy.GeneratorsNeeded, ValueError, TypeError):
            continue
        if quotient == 0 or sympy.expand(quotient * curve + rest - num) != 0:
            continue
        shorter = textbook_form(rest / den, var)
        if _length(shorter) < _length(best[0] if best else second):
            best = (shorter, quotient, rest)
    if best is None:
        return second, []
    shorter, quotient, rest = best
    said = (
        f"Use the equation: on the curve {curve} = 0, and the numerator {num} = "
        f"{_times_curve(quotient, curve)} {_signed(rest)}, so it equals {rest} there."
    )
    return shorter, [Step("on_curve", dep, shorter, var, said)]


def _times_curve(quotient: _Expr, curve: _Expr) -> str:
    """``q*(F)`` as a teacher writes it: ``(F)`` for q = 1, ``-(F)`` for q = -1."""
    if quotient in (1, -1):
        return f"{'-' * (quotient == -1)}({curve})"
    return f"({quotient})*({curve})" if quotient.is_Add else f"{quotient}*({curve})"


def _signed(term: _Expr) -> str:
    """``+ r`` or ``- |r|``: a remainder added at the end of a sum."""
    return f"- {-term}" if term.could_extract_minus_sign() else f"+ {term}"


def _branches(function: _Expr, dep: _Expr) -> tuple[_Expr, ...]:
    """Explicit solutions y = b(x) when SymPy finds them cheaply (polynomials in y of degree
    at most 2, or y appearing once); otherwise none."""
    try:
        poly = sympy.Poly(function, dep)
        if poly.degree() > 2 and function.count(dep) > 1:
            return ()
    except sympy.PolynomialError:
        if function.count(dep) > 1:
            return ()
    try:
        found = sympy.solve(function, dep, dict=False)
    except (NotImplementedError, ValueError, TypeError):
        return ()
    return tuple(b for b in found if isinstance(b, sympy.Expr) and dep not in b.free_symbols)


def _branch_check(
    result: _Expr, branches: tuple[_Expr, ...], dep: _Expr, var: _Expr, order: int
) -> str:
    """Compare the result with d/dx b(x) (order times) on every explicit branch y = b(x)."""
    if not branches:
        return "no explicit branch y(x) to compare with"
    words = []
    for branch in branches:
        on_branch = result.xreplace({dep: branch})
        exact = differentiate(branch, [var] * order)
        if _simplifies_to_zero(on_branch - exact):
            words.append(f"{dep} = {branch}: {_PROVED}")
            continue
        checked, point = _compare(on_branch, exact, branch)
        if point is not None:
            return f"differs from d/d{var} of the branch {dep} = {branch} at {point}"
        words.append(f"{dep} = {branch}: " + (_points_words(checked) if checked else "never real"))
    return "checked against the explicit branches (" + "; ".join(words) + ")"


# ---------------------------------------------------------------------- validation
def _validate(
    expr: str | _Expr, wrt: str | _Expr | None, order: object, variables: VariablesSpec
) -> tuple[_Expr, _Expr]:
    """Parse once and check ``order`` and ``wrt``; every message names the parameter."""
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        msg = f"order must be a positive integer (got {order!r} of type {type(order).__name__})"
        raise ConfigError(msg)
    if order > MAX_ORDER:
        msg = f"order {order} requested; steps are shown for orders up to {MAX_ORDER}"
        raise LimitExceeded(msg, limit="derivative_order", value=order, allowed=MAX_ORDER)
    parsed = parse(expr, variables)
    allowed = parse_variables(variables) if variables is not None else free_variables(parsed)
    if wrt is None:
        if len(allowed) != 1:
            names = ", ".join(str(v) for v in allowed) or "none"
            msg = f"wrt is required: the expression has variables {names}; pass wrt='x', say"
            raise ConfigError(msg)
        return parsed, allowed[0]
    if not isinstance(wrt, str | sympy.Symbol):
        msg = f"wrt must be a variable name or a sympy.Symbol (got {type(wrt).__name__})"
        raise ConfigError(msg)
    var = symbol(wrt if isinstance(wrt, str) else wrt.name)
    if variables is not None and var not in allowed:
        msg = f"wrt={var} is not among variables ({', '.join(map(str, allowed))})"
        raise ConfigError(msg)
    return parsed, var


def _check_size(expr: _Expr, what: str, limit: int = MAX_NODES) -> None:
    """Refuse more than ``limit`` nodes: a derivation that size is unreadable, and slow to check."""
    if not _within(expr, limit):
        msg = f"{what} has more than {limit} nodes; try a smaller expression or a lower order"
        raise LimitExceeded(msg, limit="expression_too_large", allowed=limit)


def _within(expr: _Expr, limit: int) -> bool:
    """Whether ``expr`` has at most ``limit`` nodes, counted with an early exit."""
    count, stack = 0, [expr]
    while stack and count <= limit:
        count += 1
        stack.extend(stack.pop().args)
    return count <= limit


# -------------------------------------------------------------------- verification
def _confirm(raw: _Expr, exact: _Expr, anchor: _Expr) -> str | None:
    """How ``raw`` was shown equal to ``exact`` (:data:`_PROVED` or "equal at N exact points"),
    None if undecided; RuntimeError (an engine bug, never a user error) if they differ."""
    checked, point = _compare(raw, exact, anchor)
    if point is not None:
        msg = f"internal error in symgrad.steps: rule result {raw} differs from {exact} at {point}"
        raise RuntimeError(msg)
    if _simplifies_to_zero(raw - exact):
        return _PROVED
    return _points_words(checked) if checked else None


def _points_words(checked: int) -> str:
    """What agreement at sample points means, said as such."""
    return f"equal at {checked} exact rational points (to 20 digits), not proved symbolically"


def _simplifies_to_zero(difference: _Expr) -> bool:
    """True when ``simplify`` reduces ``difference`` to 0 (skipped for large expressions)."""
    if difference == 0:
        return True
    return _simplify_affordable(difference) and sympy.simplify(difference) == 0


def _simplify_affordable(expr: _Expr) -> bool:
    """Whether ``cancel``, ``together`` and ``simplify`` may be tried on ``expr``: a small tree
    without Piecewise, whose multiplied-out form is short (:func:`expanded_terms`) and whose
    functions hold no integer above ``_SIMPLIFY_INTEGER`` (``tan(10**200*x)`` sends trigsimp,
    ``besselj(1001, x)`` besselsimp, through minutes of rewriting).  Checked before the work."""
    if not _within(expr, _SIMPLIFY_NODES) or expr.has(sympy.Piecewise):
        return False
    if expanded_terms(expr) > _EXPANDED_TERMS:
        return False
    calls = (f for f in sympy.preorder_traversal(expr) if isinstance(f, sympy.Function))
    return not any(_large_integer(a) for f in calls for a in f.args)


def _large_integer(expr: _Expr) -> bool:
    """``expr`` holds a rational whose numerator or denominator exceeds ``_SIMPLIFY_INTEGER``."""
    return any(max(abs(r.p), r.q) > _SIMPLIFY_INTEGER for r in expr.atoms(sympy.Rational))


def _compare(left: _Expr, right: _Expr, anchor: _Expr) -> tuple[int, dict[_Expr, _Expr] | None]:
    """(points where both agree, first point where they differ), where ``anchor`` is real too."""
    checked = 0
    for point, (_, a, b) in itertools.islice(real_points([anchor, left, right]), _ENOUGH):
        if not close(a, b):
            return checked, point
        checked += 1
    return checked, None


# ----------------------------------------------------------------- answer diagnosis
def _wrong_answer(
    check: AnswerCheck,
    judge: _Judge,
    found: dict[_Expr, _Expr],
    shown: tuple[str, str] | None = None,
) -> AnswerCheck:
    """The verdict ``fail``: the simplest point where the two differ, the classic slip if it is
    one, else the differing terms.  The reason is one sentence; ``issues`` hold the rest.
    ``shown`` are the two values at ``found`` where they were decided on a breakpoint."""
    expected, given, expr = check.expected, check.answer, check.expression
    simple = _simplest_difference(judge)
    point = simple or found
    want, got = shown if shown is not None and simple is None else _shown_values(judge, point)
    at = ", ".join(f"{s} = {v}" for s, v in point.items())
    reason = f"the answer is not the derivative: at {at} it gives {got} instead of {want}"
    slip = _classic_slip(check)
    terms = _diagnose(expected, given, expr)
    if slip is not None:
        terms["issues"] = (slip,)
    example = {"point": {str(s): str(v) for s, v in point.items()}, "expected": want, "answer": got}
    return replace(check, status=Status.FAIL, reason=reason, counterexample=example, **terms)


def _simplest_difference(judge: _Judge) -> dict[_Expr, _Expr] | None:
    """The first of the simple points (small integers, then simple fractions) where the answer
    and the derivative provably differ, away from the edges of the domain; None if there is none."""
    check = judge.check
    exprs = [check.expression, check.expected]  # an answer that is not real there differs
    candidates = itertools.islice(simple_points(exprs, judge.variables), _SIMPLE_TRIES)
    return next((p for p, _ in candidates if judge.at(p, forms=True) == _DIFFER), None)


def _shown_values(judge: _Judge, point: dict[_Expr, _Expr]) -> tuple[str, str]:
    """The derivative's and the answer's values as a student would check them: exact when
    short and rational, else a short exact form and as many digits as tell them apart; where
    200 digits do not, the answer's value also names the (certified) difference."""
    exprs = (judge.check.expected, judge.check.answer)
    small = all(_short_rational(v) and abs(v) <= _SHOWN_CHARS for v in point.values())
    exact = [e.xreplace(point) if small else substitute(e, point) for e in exprs]
    if all(_short_rational(part) for v in exact for part in v.as_real_imag()):
        return str(exact[0]), str(exact[1])  # rationals, or 2*I where the answer is not real
    values = judge.certified(exprs, point, _DIGITS)
    if values is None:
        numbers = [value_at(e, point) for e in exprs]
        shown = [_number_words(v, x) for v, x in zip(numbers, exact, strict=True)]
    else:
        shown = _differing_digits(values)
    want, got = _with_form(exact[0], shown[0]), _with_form(exact[1], shown[1])
    if shown[0] == shown[1]:
        gap = judge.certified((exprs[1] - exprs[0],), point, _FORM_DIGITS)
        said = "a nonzero amount" if not gap else mpmath.nstr(gap[0], 6)
        got += f" (it differs by {said})"
    return want, got


def _number_words(value: _Expr | None, exact: _Expr) -> str:
    """A real value in 10 digits; one that is not real (``2*I``) as SymPy evaluates it to 10
    digits when that is short; otherwise '?'."""
    if value is not None:
        return f"{value:.10g}"
    if exact.is_number and _within(exact, 30):
        try:
            return str(exact.evalf(10))
        except (TypeError, ValueError, ArithmeticError):  # pragma: no cover - defensive
            return "?"
    return "?"


def _differing_digits(values: list[Any]) -> list[str]:
    """Both values with the fewest digits (10, 20, 40, ...) that tell them apart (10 digits
    when even 200 do not: the caller then names the difference)."""
    for digits in _SHOWN_DIGITS:
        shown = [mpmath.nstr(v, digits, strip_zeros=False) for v in values]
        if shown[0] != shown[1]:
            return shown
    return [mpmath.nstr(v, _SHOWN_DIGITS[0], strip_zeros=False) for v in values]


def _with_form(exact: _Expr, number: str) -> str:
    """``exp(2) ≈ 7.389056099``: the exact form (as SymPy evaluates it: ``simplify`` of a
    value can take minutes in ``trigsimp``) when it is short, then the digits."""
    if _short_rational(exact):
        return str(exact)
    if not _within(exact, 30) or not all(map(_short_rational, exact.atoms(sympy.Rational))):
        return number  # a long form, or one holding a huge integer (2**5000 at x = 5000)
    return f"{exact} ≈ {number}" if _length(exact) <= 30 else number


def _short_rational(value: _Expr) -> bool:
    """A rational of at most ``_SHOWN_CHARS`` characters (judged by bit length: Python
    refuses to print integers of more than 4,300 digits)."""
    if not value.is_Rational:
        return False
    bits = int(value.p).bit_length() + int(value.q).bit_length()
    return bits <= 3 * _SHOWN_CHARS and len(str(value)) <= _SHOWN_CHARS


# ------------------------------------------------------------------ the answer's verdict
_DIFFER, _EQUAL, _AGREE = "differ", "equal", "agree"
_SKIPPED = (
    " (simplify was not tried: the difference is too large to multiply out, has pieces, or"
    " holds a huge integer)"
)


@dataclass
class _Judge:
    """Decides, point by point, whether an answer and the derivative differ.

    Where both are rational at a point they are compared exactly.  Otherwise both are
    certified to ``_DIGITS`` digits on balls (:meth:`symgrad.derive.Compiled.exact_values`):
    each ball provably holds its value, so values that differ by more than their error bounds
    prove the two different; values that agree to ``_DIGITS`` digits are evidence only.  The
    difference itself (as written, cancelled, simplified: ``forms``) is then certified too: a
    ball around a nonzero value proves a difference too small for ``_DIGITS`` digits (an
    ``exp(-10000*x**2)``); a ball that keeps containing 0 up to the working-precision cap,
    or an exact 0, does not.
    """

    check: AnswerCheck
    variables: list[_Expr]
    forms: list[_Expr] = field(default_factory=list)
    _compiled: dict[tuple[_Expr, ...], Any] = field(default_factory=dict)

    @classmethod
    def of(cls, check: AnswerCheck) -> _Judge:
        exprs = (check.expression, check.expected, check.answer)
        symbols = sorted(set().union(*(e.free_symbols for e in exprs)), key=str)
        return cls(check, symbols, [check.answer - check.expected])

    def salt(self) -> str:
        """What the sample points are drawn from: the question and the answer."""
        check = self.check
        return "|".join(map(sympy.srepr, (check.expression, check.variable, check.answer)))

    def inside(self, point: dict[_Expr, _Expr]) -> bool:
        """The function and the derivative are finite and real at ``point``, and the answer
        is too, or provably is not (a counterexample: see :meth:`_not_real`)."""
        exprs = (self.check.expression, self.check.expected)
        if not all(value_at(e, point) is not None for e in exprs):
            return False
        return value_at(self.check.answer, point) is not None or self._not_real(point)

    def defined(self, point: dict[_Expr, _Expr]) -> bool:
        """The function, the derivative and the answer are finite and real at ``point``."""
        exprs = (self.check.expression, self.check.expected, self.check.answer)
        return all(value_at(e, point) is not None for e in exprs)

    def sample(self) -> Iterator[dict[_Expr, _Expr]]:
        """Up to ``_SAMPLE`` generic points in the domain, then the answer's own breakpoints
        (where the function and its derivative are smooth), then both sides of each one."""
        smooth = [self.check.expression, self.check.expected]
        exprs = [*smooth, self.check.answer]
        return answer_points(exprs, self.salt(), self.inside, _SAMPLE, smooth)

    def at(self, point: dict[_Expr, _Expr], *, forms: bool) -> str | None:
        """_DIFFER (proved), _EQUAL (exactly), _AGREE (to ``_DIGITS`` digits) or None."""
        try:
            exact = [substitute(e, point) for e in (self.check.expected, self.check.answer)]
        except (TypeError, ValueError):  # max(sqrt(x) - 1001, 0) at x = -1: not comparable
            return None
        if all(v.is_Rational for v in exact):
            return _EQUAL if exact[0] == exact[1] else _DIFFER
        said = self._compare(point)
        if said is None and (_proved_nonzero(exact[1] - exact[0]) or self._not_real(point)):
            return _DIFFER  # no ball decides sign(0) on a breakpoint; the exact values do
        if said == _DIFFER or not forms:
            return said
        if any(self._nonzero(form, point) for form in self.forms):
            return _DIFFER
        return said

    def _not_real(self, point: dict[_Expr, _Expr]) -> bool:
        """The answer is provably not real at ``point`` while the function is a composition of
        real functions around it (so its derivative is real there): the two differ."""
        answer, function = self.check.answer, self.check.expression
        return not_real(answer, point) and real_around(function, point)

    def _compare(self, point: dict[_Expr, _Expr]) -> str | None:
        values = self.certified((self.check.expected, self.check.answer), point, _DIGITS)
        if values is None:
            return None
        a, b = values
        # each certified value is within |value|*10**-_DIGITS of the truth (rounding included)
        return _DIFFER if abs(a - b) > (abs(a) + abs(b)) * _TRUST else _AGREE

    def _nonzero(self, form: _Expr, point: dict[_Expr, _Expr]) -> bool:
        """The ball of ``form`` at ``point`` excludes 0 (an exact nonzero value counts); where
        no ball decides, SymPy's error-controlled evalf with ``strict=True`` must reach
        ``_FORM_DIGITS`` digits of a nonzero value at the exact point (it raises rather than
        return a difference it cannot tell from 0); never on float coordinates."""
        values = self.certified((form,), point, _FORM_DIGITS)
        if values is not None:
            return bool(values[0] != 0)
        return _proved_nonzero(substitute(form, point))

    def certified(
        self, exprs: tuple[_Expr, ...], point: dict[_Expr, _Expr], dps: int
    ) -> list[Any] | None:
        """``exprs`` at ``point``, each with ``dps`` proven digits; None where that cannot be
        done (a pole, a value that is not real, a ball that keeps containing 0)."""
        if exprs not in self._compiled:
            try:
                names = [v.name for v in self.variables]
                self._compiled[exprs] = function(list(exprs), names)
            except SymgradError:  # a function outside the ball arithmetic
                self._compiled[exprs] = None
        compiled = self._compiled[exprs]
        if compiled is None or not all(point[v].is_Rational for v in self.variables):
            return None  # a breakpoint at an irrational number is decided exactly instead
        try:
            return list(compiled.exact_values([point[v] for v in self.variables], dps))
        except SymgradError:
            return None


def _proved_nonzero(exact: _Expr) -> bool:
    """An exact value (SymPy's own evaluation at an exact point) is a nonzero rational, or
    SymPy's error-controlled evalf with ``strict=True`` reaches ``_FORM_DIGITS`` digits of a
    nonzero real value (it raises rather than return a value it cannot tell from 0); never on
    float coordinates."""
    if exact.atoms(sympy.Float):  # coordinates entered as floats: no proof either way
        return False
    if exact.is_Rational:
        return bool(exact != 0)
    try:
        value = exact.evalf(_FORM_DIGITS, strict=True)
    except (TypeError, ValueError, ArithmeticError):  # PrecisionExhausted is an ArithmeticError
        return False
    return bool(value.is_number and value.is_comparable and value != 0)


def _judge_answer(check: AnswerCheck) -> AnswerCheck:
    """The verdict: proofs of a difference first, then a proof of equality, then evidence.

    1. Sample points (see :meth:`_Judge.sample`): a point where the values provably differ fails.
    2. The difference, simplified, is 0: a pass, proved.
    3. The difference is a rational function with a nonzero numerator P of total degree d:
       P is nonzero somewhere on any grid of d + 1 values per variable, so such a grid (capped
       at ``_WITNESS_TRIES`` points) holds a point where they differ: a fail.
    4. The difference's forms certified at the sample points: a ball that excludes 0 fails.
    5. The pieces of the difference (:func:`_cover_pieces`): points inside every piece
       between its located breakpoints and on the breakpoints; a difference there fails, a
       breakpoint that cannot be located makes the verdict ``inconclusive``.
    6. Otherwise agreement at the sample points is the evidence, said as such; without a
       single usable point the verdict is ``inconclusive``.
    """
    judge = _Judge.of(check)
    sample: list[tuple[dict[_Expr, _Expr], str]] = []
    for point in judge.sample():
        said = judge.at(point, forms=False)
        if said == _DIFFER:
            return _wrong_answer(check, judge, point)
        if said is not None:
            sample.append((point, said))
    forms = _forms(check.answer - check.expected)
    if any(form == 0 for form in forms):
        return replace(check, reason=f"the answer is right: {_PROVED} to the exact derivative")
    judge.forms = forms
    witness = _rational_witness(judge)
    if witness is not None:
        return _wrong_answer(check, judge, witness)
    for point, said in sample:
        if said != _EQUAL and judge.at(point, forms=True) == _DIFFER:
            return _wrong_answer(check, judge, point)
    covered = _cover_pieces(judge, sample)
    if covered.differ is not None:
        return _wrong_answer(check, judge, covered.differ, covered.shown)
    sample += covered.agreed
    skipped = "" if _simplify_affordable(check.answer - check.expected) else _SKIPPED
    if sample and covered.undecided is not None:
        said = f"undecided: the answer is {_sample_words(sample)}, but {covered.undecided}"
        return replace(check, status=Status.INCONCLUSIVE, reason=said + skipped)
    if sample:
        words = _sample_words(sample) + covered.words()
        return replace(check, reason=f"the answer is {words}{skipped}")
    said = "undecided: simplify cannot show the two equal, and no sample point is in the domain"
    return replace(check, status=Status.INCONCLUSIVE, reason=said + skipped)


def _sample_words(sample: list[tuple[dict[_Expr, _Expr], str]]) -> str:
    """What agreement at the sample points rests on, said as such."""
    exact = sum(said == _EQUAL for _, said in sample)
    how = f"to {_DIGITS} digits" if not exact else f"{exact} exactly, the rest to {_DIGITS} digits"
    if exact == len(sample):
        how = "exactly"
    return f"equal at {len(sample)} exact rational points ({how}), not proved symbolically"


@dataclass
class _Cover:
    """What the pieces of the difference add to the verdict (see :mod:`._pieces`)."""

    differ: dict[_Expr, _Expr] | None = None  # a point where the two provably differ
    shown: tuple[str, str] | None = None  # the two values there, when on a breakpoint
    undecided: str | None = None  # why sampling cannot decide
    agreed: list[tuple[dict[_Expr, _Expr], str]] = field(default_factory=list)
    pieces: int = 0  # boxes between located breakpoints
    breakpoints: int = 0  # breakpoints where the two values were compared
    lines: str = ""  # the lines across curves in two variables, where they were sampled

    def words(self) -> str:
        """What a sampled pass adds: every piece between the located breakpoints sampled."""
        if self.lines:
            return f", with points in every cell between the curves on {self.lines}"
        if not self.pieces:
            return ""
        on = f" and on {self.breakpoints} of them" if self.breakpoints else ""
        return (
            f", with points in each of the {self.pieces} pieces between the located breakpoints{on}"
        )


def _cover_pieces(
    judge: _Judge, sample: list[tuple[dict[_Expr, _Expr], str]], located: Pieces | None = None
) -> _Cover:
    """Sampling is evidence only where the difference is analytic: locate the breakpoints of
    its non-analytic atoms (:func:`._pieces.locate`), compare the two at points inside every
    piece and, exactly, on every breakpoint that is not one of the function's own kinks.
    Where two variables switch together, on lines across their curves (:func:`_cover_lines`;
    a line's own pieces come ``located`` and are never crossed by lines again).  Where a
    breakpoint cannot be located, or a piece in the domain has no decided point, the cover
    says why (the verdict is then ``inconclusive``)."""
    pieces = _located(judge) if located is None else located
    if pieces.unlocated is not None:
        plane = _plane(judge) if located is None else None
        if plane is not None and plane.unlocated is None:
            return _cover_lines(judge, plane)
        said = pieces.unlocated if plane is None else plane.unlocated
        return _Cover(undecided=f"{said}, so the sample cannot reach every piece")
    if not pieces.roots:
        return _Cover()
    if point_count(pieces) > MAX_PIECE_POINTS and not pieces.required:
        return _Cover()  # poles and domain ends only help; too many are left out
    if point_count(pieces) > MAX_PIECE_POINTS:
        said = f"the breakpoints cut the domain into {pieces.cells()} pieces, too many to sample"
        return _Cover(undecided=said + f" (at most {MAX_PIECE_POINTS} points)")
    base = sample[0][0] if sample else _base_point(judge)
    cover = _Cover(pieces=pieces.cells() if pieces.required else 0)
    _sample_pieces(judge, pieces, base, cover)
    if cover.differ is None and cover.undecided is None and pieces.required:
        _compare_on_breakpoints(judge, pieces, base, cover)
    return cover


def _located(judge: _Judge) -> Pieces:
    """The pieces of the first form of the difference (as written, cancelled, simplified:
    all equal) whose breakpoints are all located, fewest atoms first; else why the first
    cannot be."""
    forms = sorted(judge.forms, key=lambda f: len(nonsmooth_atoms(f)))
    tried = []
    for form in forms:
        extra = singular_arguments(form) + singular_arguments(judge.check.expression)
        tried.append(locate(form, extra))
        if tried[-1].unlocated is None:
            return tried[-1]
    return tried[0]


def _plane(judge: _Judge) -> Plane | None:
    """Lines across the curves where two variables switch together, for the first form of
    the difference where they are found (else why not); None where no two switch together."""
    salt = judge.salt()
    planes = [p for f in judge.forms if (p := plane_lines(f, judge.check.variable, salt))]
    return next((p for p in planes if p.unlocated is None), planes[0] if planes else None)


def _cover_lines(judge: _Judge, plane: Plane) -> _Cover:
    """Every line of ``plane`` covered as a problem in one variable fewer: the first line
    with a difference fails, the first undecided one makes the verdict undecided."""
    v = plane.variable
    count = len(plane.lines)
    cover = _Cover(lines=f"{count} line{'s' * (count > 1)} {v} = c that cross them")
    lines = [_on_line(judge, {v: value}) for value in plane.lines]
    located = [_located(line) for line in lines]
    points = sum(point_count(p) for p in located if p.roots and p.unlocated is None)
    if points > _LINE_POINTS:
        said = f"the lines {v} = c across the curves hold {points} points, too many to sample"
        return _Cover(undecided=f"{said} (at most {_LINE_POINTS})")
    for value, line, pieces in zip(plane.lines, lines, located, strict=True):
        at = {v: value}
        part = _cover_line(line, pieces)
        if part.differ is not None:
            return _Cover(differ={**part.differ, **at}, shown=part.shown)
        if part.undecided is not None:
            return _Cover(undecided=f"on the line {v} = {value}, {part.undecided}")
        cover.agreed += [({**point, **at}, said) for point, said in part.agreed]
    return cover


def _on_line(judge: _Judge, at: dict[_Expr, _Expr]) -> _Judge:
    """The judge of the question with one variable fixed (the values on a line)."""
    check = judge.check
    exprs = (check.expression, check.expected, check.answer)
    sliced = [e.xreplace(at) for e in exprs]
    line = _Judge.of(replace(check, expression=sliced[0], expected=sliced[1], answer=sliced[2]))
    line.forms = [form.xreplace(at) for form in judge.forms]
    return line


def _cover_line(line: _Judge, pieces: Pieces) -> _Cover:
    """One line: its pieces sampled and its breakpoints compared; where it has no pieces, its
    generic sample (up to ``_ENOUGH`` decided points; a line with points in the domain none of
    which could be decided leaves the verdict undecided)."""
    part = _cover_pieces(line, [], pieces)
    if part.differ is not None or part.undecided is not None or part.agreed:
        return part
    tried = 0
    for point in itertools.islice(line.sample(), _SAMPLE):
        tried += 1
        said = _decide(line, point)
        if said == _DIFFER:
            return _Cover(differ=point)
        if said is not None:
            part.agreed.append((point, said))
        if len(part.agreed) >= _ENOUGH:
            return part
    if tried and not part.agreed:
        part.undecided = "no point of it could be compared"
    return part


def _base_point(judge: _Judge) -> dict[_Expr, _Expr]:
    """Generic coordinates for the variables a piece does not fix, drawn from the hash."""
    salt = judge.salt()
    return {v: 1 + piece_fraction(salt, "base", v) for v in judge.variables}


def _sample_pieces(judge: _Judge, pieces: Pieces, base: dict[_Expr, _Expr], cover: _Cover) -> None:
    """Points inside every piece: a difference proves ``fail``; a piece with points in the
    domain of which none could be decided leaves the verdict undecided."""
    decided: set[tuple[int, ...]] = set()
    in_domain: dict[tuple[int, ...], dict[_Expr, _Expr]] = {}
    function = judge.check.expression
    for cell, point in piece_cells(pieces, base, judge.salt()):
        if not (judge.inside(point) or real_around(function, point)) or not_real(function, point):
            continue  # outside the domain: f is not a composition of real functions there
        said = _decide(judge, point)
        if said == _DIFFER:
            simple = {**point, **_simplest_in(pieces, cell)}
            cover.differ = (
                simple if judge.inside(simple) and _decide(judge, simple) == _DIFFER else point
            )
            return
        if said is None:
            in_domain.setdefault(cell, point)
            continue
        decided.add(cell)
        cover.agreed.append((point, said))
    missing = [p for c, p in in_domain.items() if c not in decided]
    if missing and pieces.required:
        at = ", ".join(f"{s} = {v}" for s, v in missing[0].items() if s in pieces.variables())
        cover.undecided = f"no point of the piece around {at} could be compared"


def _decide(judge: _Judge, point: dict[_Expr, _Expr]) -> str | None:
    """The judge's word at ``point``, the certified difference consulted where both agree."""
    said = judge.at(point, forms=False)
    if said == _AGREE and judge.at(point, forms=True) == _DIFFER:
        return _DIFFER
    return said


def _simplest_in(pieces: Pieces, cell: tuple[int, ...]) -> dict[_Expr, _Expr]:
    """The simplest rational coordinates inside ``cell`` (a counterexample to show)."""
    return {v: simplest_between(*ends) for v, ends in cell_bounds(pieces, cell).items()}


def _compare_on_breakpoints(
    judge: _Judge, pieces: Pieces, base: dict[_Expr, _Expr], cover: _Cover
) -> None:
    """The two compared exactly on each breakpoint: an answer wrong only at ±sqrt(2) fails.
    On a kink of the function or of its derivative the derivative is the common one-sided
    limit of f′ (:func:`_derivative_across`) where f is continuous and the limits agree;
    elsewhere there is no derivative and any value of the answer is accepted."""
    check = judge.check
    kinks = [
        a
        for e in (check.expression, check.expected)
        for node in nonsmooth_atoms(e)
        for a in switching_arguments(node)
    ]
    for root in pieces.roots:
        point = {**base, root.variable: root.value}
        want = at_breakpoint(check.expected, root, point)
        if any(breakpoint_vanishes(a, root, point) for a in kinks):
            want = _derivative_across(judge, pieces, root, point)
        function = at_breakpoint(check.expression, root, point)
        answer = at_breakpoint(check.answer, root, point)
        if want is None or function is None or answer is None:
            continue
        if value_at(function, {}) is None or value_at(want, {}) is None:
            continue  # outside the domain of the function or its derivative
        said = _exact_comparison(want, answer, check.expression, point)
        if said == _DIFFER:
            cover.differ = point
            cover.shown = (_breakpoint_value(want), _breakpoint_value(answer))
            return
        if said is not None:
            cover.breakpoints += 1


def _derivative_across(
    judge: _Judge, pieces: Pieces, root: Root, point: dict[_Expr, _Expr]
) -> _Expr | None:
    """f′ at a breakpoint of f or f′, where it provably exists: f continuous there (its
    one-sided limits and its value there exactly equal: sign(x)*x**2 is, sign(x) is not) and
    the one-sided limits of f′ exactly equal; then f′ there is that limit (the mean value
    theorem).  None where there may be no derivative."""
    check = judge.check
    nears = [{**point, root.variable: v} for v in beside(pieces, root, judge.salt())]
    value = at_breakpoint(check.expression, root, point)
    sides = [at_breakpoint(check.expression, root, point, near) for near in nears]
    limits = [at_breakpoint(check.expected, root, point, near) for near in nears]
    if value is None or not _all_equal([value, *sides]) or not _all_equal(limits):
        return None  # a jump of f, a kink, or limits that cannot be compared exactly
    return limits[0]


def _all_equal(values: list[_Expr | None]) -> bool:
    """Every value is known and equal to the first, exactly (their difference expands to 0)."""
    first = values[0]
    return first is not None and all(v is not None and sympy.expand(v - first) == 0 for v in values)


def _exact_comparison(
    expected: _Expr, answer: _Expr, function: _Expr, point: dict[_Expr, _Expr]
) -> str | None:
    """Two exact values on a breakpoint: equal or different rationals, a difference SymPy's
    strict evalf proves nonzero, an answer provably not real where the function is a
    composition of real functions; else agreement to the digits evalf could resolve."""
    if value_at(answer, {}) is None:
        real = not_real(answer, {}) and real_around(function, point)
        return _DIFFER if real else None
    if expected.is_Rational and answer.is_Rational:
        return _EQUAL if expected == answer else _DIFFER
    return _DIFFER if _proved_nonzero(answer - expected) else _AGREE


def _breakpoint_value(exact: _Expr) -> str:
    """A value on a breakpoint as shown in a failure: exact when short, else 10 digits."""
    return _with_form(exact, _number_words(value_at(exact, {}), exact))


def _forms(difference: _Expr) -> list[_Expr]:
    """The difference as written, cancelled over one denominator, and simplified (each only
    for differences small enough, and without Piecewise, whose simplify can take a minute)."""
    forms = [difference]
    if difference == 0 or not _simplify_affordable(difference):
        return forms
    for shape in (lambda e: sympy.cancel(sympy.together(e)), sympy.simplify):
        try:
            form = shape(difference)
        except (sympy.PolynomialError, ValueError, TypeError):  # pragma: no cover - defensive
            continue
        if form == 0:
            return [form]
        if form not in forms:
            forms.append(form)
    return forms


def _rational_witness(judge: _Judge) -> dict[_Expr, _Expr] | None:
    """A point in the domain where a difference that is a rational function is nonzero."""
    variables = judge.variables
    rational = [f for f in judge.forms if all(f.is_rational_function(v) for v in variables)]
    rational = [f for f in rational if expanded_terms(f) <= _EXPANDED_TERMS]
    if not rational or not variables:
        return None
    top = sympy.fraction(sympy.cancel(sympy.together(rational[0])))[0]
    if top == 0:
        return None
    degree = sympy.Poly(top, *variables).total_degree()
    for values in _witness_values(degree + 1):
        grid = itertools.product(values, repeat=len(variables))
        for coordinates in itertools.islice(grid, _WITNESS_TRIES):
            point = dict(zip(variables, coordinates, strict=True))
            if top.xreplace(point) != 0 and judge.defined(point):
                return point
    return None


def _witness_values(count: int) -> list[list[_Expr]]:
    """Two sets of ``count`` distinct numbers: the integers 1, -1, 2, -2, ..., and fractions
    k/(2*count + 1) of the same signs, all inside (-1/2, 1/2) for a narrow domain."""
    signed = [(1 - 2 * (i % 2)) * (i // 2 + 1) for i in range(count)]
    return [
        [sympy.Integer(k) for k in signed],
        [sympy.Rational(k, 2 * count + 1) for k in signed],
    ]


# ------------------------------------------------------------------- classic slips
def _classic_slip(check: AnswerCheck) -> str | None:
    """One sentence naming a classic slip, or None.

    In order: a sign slip in the numerator of a quotient (the whole numerator, or the terms of
    f*g' that the minus sign did not reach), a missing chain-rule factor (the answer times an
    inner derivative is the derivative), a lost constant factor and a wrong overall sign (the
    answer is a constant times the derivative).  Each is decided on the expressions, never on a
    single number: the numerators are compared as polynomials, the ratios at every sample point.
    """
    expr, var, expected, given = check.expression, check.variable, check.expected, check.answer
    sample = [p for p, _ in itertools.islice(real_points([expr, expected, given]), _ENOUGH)]
    if not sample:
        return None
    if check.order == 1:
        found = _numerator_slip(expr, expected, given, var) or _chain_slip(check, sample)
        if found is not None:
            return found
    return _constant_slip(check, sample)


def _ratio(top: _Expr, bottom: _Expr, sample: list[dict[_Expr, _Expr]]) -> _Expr | None:
    """``top/bottom`` when it is the same number at every sample point (exactly, as a simple
    rational), else None."""
    values = [(value_at(top, p), value_at(bottom, p)) for p in sample]
    if any(a is None or b is None or b.is_zero for a, b in values):
        return None
    ratios = [a / b for a, b in values if a is not None and b is not None]
    if not all(close(r, ratios[0]) for r in ratios):
        return None
    guess = sympy.nsimplify(ratios[0], rational=True, tolerance=1e-20)
    return guess if guess.is_Rational and guess.q <= 1000 else None


def _numerator_slip(expr: _Expr, expected: _Expr, given: _Expr, var: _Expr) -> str | None:
    """Same denominator, numerators that differ only in the signs of some terms (not tried
    where multiplying a numerator out would exceed ``_EXPANDED_TERMS`` terms)."""
    if max(expanded_terms(expected), expanded_terms(given)) > _EXPANDED_TERMS:
        return None
    top, bottom = sympy.fraction(sympy.together(expected))
    got_top, got_bottom = sympy.fraction(sympy.together(given))  # as written: no cancelling
    scale = sympy.cancel(got_bottom / bottom)
    if var not in bottom.free_symbols or not scale.is_number or scale == 0:
        return None
    want, got = sympy.expand(top), sympy.expand(got_top / scale)
    rule = " (the quotient rule is (f'*g - f*g')/g**2)" if _is_quotient(expr, var) else ""
    if sympy.expand(want + got) == 0:
        return (
            f"the numerator's sign is wrong: it should be {want}, not {got}; f'*g and f*g' "
            f"were subtracted the wrong way round{rule}"
        )
    wanted, written = set(sympy.Add.make_args(want)), set(sympy.Add.make_args(got))
    flipped = {t for t in wanted - written if -t in written}
    if not flipped or (wanted - flipped) != (written - {-t for t in flipped}):
        return None
    terms = " and ".join(str(t) for t in sympy.Add(*flipped).as_ordered_terms())
    return (
        f"the numerator's sign is wrong in the term{'s' * (len(flipped) > 1)} {terms}: the numerator should be {want}, not {got}; "
        f"the minus sign in front of f*g' applies to every one of its terms{rule}"
    )


def _is_quotient(expr: _Expr, var: _Expr) -> bool:
    _, dep = expr.as_independent(var, as_Add=False)
    return any(f.is_Pow and f.exp.is_negative for f in sympy.Mul.make_args(dep))


def _chain_slip(check: AnswerCheck, sample: list[dict[_Expr, _Expr]]) -> str | None:
    """The answer times the inner derivative of one of the chain rules is the derivative."""
    var, given, expected = check.variable, check.answer, check.expected
    tree = Engine(s.name for s in check.expression.free_symbols).derive(check.expression, var)
    for step in tree.walk():
        if step.rule != "chain" or step.variable != var:
            continue
        outer, inner = step.substeps
        factor = inner.after
        if factor.is_number and factor == 1:
            continue
        if _ratio(given * factor, expected, sample) == 1:
            u, itself = outer.variable, _ratio(given, step.before, sample) == 1
            note = f"; {step.before} is not its own derivative" if itself else ""
            return (
                f"the chain-rule factor is missing: with {u} = {inner.before}, the derivative "
                f"of {step.before} must be multiplied by d{u}/d{var} = {factor}{note}"
            )
    return None


def _constant_slip(check: AnswerCheck, sample: list[dict[_Expr, _Expr]]) -> str | None:
    """The answer is a constant times the derivative: a lost factor or a wrong sign."""
    ratio = _ratio(check.answer, check.expected, sample)
    if ratio is None or ratio in (0, 1):
        return None
    if ratio == -1:
        return "the sign is wrong: the answer is minus the derivative"
    const, _ = check.expression.as_independent(check.variable, as_Add=False)
    if const != 1 and ratio * const == 1:
        return (
            f"the constant factor {const} was lost: the derivative of {const} times a function "
            f"is {const} times its derivative"
        )
    return f"a constant factor is wrong: the answer is {ratio} times the derivative"


def _diagnose(expected: _Expr, given: _Expr, anchor: _Expr) -> dict[str, Any]:
    """Missing terms, extra terms and issue sentences: see the `AnswerCheck` docstring."""
    want, got = _terms(expected), _terms(given)
    if want is None or got is None:
        return {"missing_terms": (), "extra_terms": (), "issues": ()}
    sample = [p for p, _ in itertools.islice(real_points([anchor, *want, *got]), _ENOUGH)]
    vec = {t: tuple(value_at(t, p) for p in sample) for t in want + got}
    for term in list(want):
        # Alike, or equal at every sample point (sin(2*x) against 2*sin(x)*cos(x)).
        twin = next((g for g in got if g == term), None)
        if twin is None and sample:
            twin = next((g for g in got if all(map(close, vec[g], vec[term]))), None)
        if twin is not None:
            want.remove(term)
            got.remove(twin)
    issues = tuple(_pair_issues(want, got, vec))
    return {"missing_terms": tuple(want), "extra_terms": tuple(got), "issues": issues}


def _terms(expr: _Expr) -> list[_Expr] | None:
    """Terms with products of sums multiplied out, in printed order; nothing is expanded inside
    functions, powers or denominators (a full ``expand`` can explode).  None: too many terms."""
    todo, done = [expr], []
    while todo:
        spread = sympy.expand_mul(todo.pop(), deep=False)
        if spread.is_Add:
            todo.extend(spread.args)
        else:
            done.append(spread)
        if len(todo) + len(done) > _MAX_TERMS:
            return None
    return [t for t in sympy.Add(*done).as_ordered_terms() if t != 0]


def _pair_issues(want: list[_Expr], got: list[_Expr], vec: dict[_Expr, Any]) -> list[str]:
    """Pair left-over terms, strongest relation first; the rest are missing or extra.

    A pair needs a relation (sign, coefficient, a shared factor), except that a single wrong
    term against a single wrong term is always "the term A should be B".
    """
    issues, free, lone = [], list(got), len(want) == len(got) == 1
    for term in want:
        relations = [_relation(g, term, vec) for g in free]
        best = max(range(len(free)), key=lambda i: relations[i][0], default=None)
        if best is None or (relations[best][0] == 0 and not lone):
            issues.append(f"the term {term} is missing")
        else:
            issues.append(f"the term {free.pop(best)} {relations[best][1]} {term}")
    issues += [f"the term {g} should not be there" for g in free]
    return issues


def _relation(g: _Expr, e: _Expr, vec: dict[_Expr, Any]) -> tuple[int, str]:
    """How answer term ``g`` relates to expected term ``e``: (strength, words); 0 is unrelated."""
    a, b = vec[g], vec[e]
    if a and all(close(x, -y) for x, y in zip(a, b, strict=True)):
        return 1000, "has the wrong sign: it should be"
    ratios = [x / y for x, y in zip(a, b, strict=True) if not y.is_zero]  # Float(0.0) != 0
    if not e.is_number and a and len(ratios) == len(a) and all(close(r, ratios[0]) for r in ratios):
        return 999, "has the wrong coefficient: it should be"
    shared = set(sympy.Mul.make_args(g)) & set(sympy.Mul.make_args(e))
    return len(shared), "should be"
