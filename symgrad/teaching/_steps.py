"""Step-by-step differentiation for teaching, and "check my answer".

:func:`steps` explains a derivative rule by rule (the engine is :mod:`symgrad.teaching._rules`), then
proves its answer equals SymPy's own derivative (Gamma #106: students compare with the CAS) and
ends at SymPy's tidy form.  A higher order is the first derivative taken again, block by block.

:func:`check_answer` compares a student's derivative with the exact one.  Both are evaluated
exactly at seeded random rational points, then to 30 digits, where the original expression is
real: a point where they differ means ``fail``, with the first wrong term (see `AnswerCheck`).
Otherwise ``simplify`` of the difference proves equality, or, when it cannot, agreement at the
sample points is the (numeric) evidence and the reason says so.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Any

import sympy

from symgrad.errors import ConfigError, LimitExceeded
from symgrad.expr import (
    VariablesSpec,
    differentiate,
    free_variables,
    parse,
    parse_variables,
    symbol,
)
from symgrad.results import Result, Status
from symgrad.teaching._rules import (
    Engine,
    Step,
    close,
    derivative_of,
    markdown_escape,
    real_points,
    value_at,
)

__all__ = ["MAX_NODES", "MAX_ORDER", "AnswerCheck", "Step", "StepsResult", "check_answer", "steps"]

MAX_ORDER = 8  # each order differentiates a larger expression: the steps grow fast
MAX_NODES = 1_000  # nodes of the expression to explain; teaching examples are far smaller

_Expr = Any  # SymPy is untyped
_ENOUGH = 4  # sample points that must agree
_SIMPLIFY_NODES = 250  # larger differences skip simplify (slow) and go straight to the numbers
_MAX_TERMS = 30  # term-by-term diagnosis only for answers of reasonable length
_ANSWER_NODES = 5 * MAX_NODES  # an answer may be written longer than the expression


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
        show = sympy.latex if latex else str
        head = derivative_of(self.expression, self.variable, self.order, latex=latex)
        return f"{head} = {show(self.result)}"

    def to_text(self) -> str:
        """An indented derivation: number, rule, explanation, then the step as an equation."""
        lines = [self._heading(False), f"{self.status}: {self.reason}", ""]
        for i, step in enumerate(self.steps, 1):
            lines += step.text_lines(str(i))
        return "\n".join([*lines, "", f"Result: {self.result}"])

    def to_latex(self) -> str:
        """The derivation as a LaTeX ``array``: indented equations, each with its rule."""
        rows = [f"{self._heading(True)} & \\\\"]
        rows += [row for step in self.steps for row in step.latex_rows(1)]
        return "\\begin{array}{ll}\n" + "\n".join(rows) + "\n\\end{array}"

    def to_markdown(self) -> str:
        """Markdown with ``$$`` maths: a nested numbered list of the steps."""
        lines = [f"**{self.status}**: {markdown_escape(self.reason)}", ""]
        lines += [f"$${self._heading(True)}$$", ""]
        lines += [line for step in self.steps for line in step.markdown_lines()]
        return "\n".join(lines) + "\n"

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        """Jupyter display: text, Markdown and LaTeX."""
        bundle = super()._repr_mimebundle_(include, exclude)
        return {**bundle, "text/latex": f"$${self.to_latex()}$$"}


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

    def to_text(self) -> str:
        """The question, both derivatives, the verdict and one line per issue."""
        lines = [
            f"check {derivative_of(self.expression, self.variable, self.order)}",
            f"  answer:   {self.answer}",
            f"  expected: {self.expected}",
            f"{self.status}: {self.reason}",
        ]
        return "\n".join(lines + [f"  - {issue}" for issue in self.issues])


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
        The expression; text is parsed safely (:func:`symgrad.expr._parse.parse`).
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
    """
    expr, var = _validate(expr, wrt, order, variables)
    engine = Engine(s.name for s in expr.free_symbols)
    blocks: list[Step] = []
    checks: list[str | None] = []
    current = expr
    for k in range(1, order + 1):
        _check_size(current, "the expression" if k == 1 else f"derivative {k - 1}")
        tree = engine.derive(current, var)
        exact = differentiate(current, [var])
        checks.append(_confirm(tree.after, exact, current))
        tidy: tuple[Step, ...] = ()
        if str(tree.after) != str(exact):  # bridge to SymPy's form (Gamma #106)
            said = f"Tidy up: {tree.after} is rewritten in SymPy's form; the two are equal."
            tidy = (Step("simplify", tree.after, exact, var, said),)
        if order == 1:
            blocks.extend((tree, *tidy))
        else:
            again = " once more" if k > 1 else ""
            said = f"Derivative {k} of {order}: differentiate {current}{again}."
            blocks.append(Step("higher_order", current, exact, var, said, (tree, *tidy)))
        current = exact
    reason = f"derivative computed by {engine.count} rule applications"
    if None in checks:
        reason += "; equality with SymPy's derivative is undecided"
        return StepsResult(expr, var, order, current, tuple(blocks), Status.INCONCLUSIVE, reason)
    reason += f"; verified equal to SymPy's derivative ({'; '.join(sorted(set(map(str, checks))))})"
    return StepsResult(expr, var, order, current, tuple(blocks), Status.PASS, reason)


def check_answer(
    expr: str | _Expr,
    answer: str | _Expr,
    wrt: str | _Expr | None = None,
    *,
    order: int = 1,
    variables: VariablesSpec = None,
) -> AnswerCheck:
    """Check a student's derivative against the exact one; say which term is wrong.

    Parameters
    ----------
    expr, answer : str or sympy.Expr
        The function and the proposed derivative (text is parsed safely).
    wrt, order, variables
        As in :func:`steps`.

    Returns
    -------
    AnswerCheck
        ``pass`` when equal (any equivalent form), ``fail`` with the differing terms,
        ``inconclusive`` when neither simplification nor the sample points can decide.

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
    check = AnswerCheck(expr, var, order, expected, given, Status.PASS, "")
    if given == expected:
        return replace(check, reason="the answer is the exact derivative")
    checked, point = _compare(given, expected, expr)
    if point is not None:  # a counterexample settles it: no need for a (slow) simplify
        return _wrong_answer(check, point)
    if _simplifies_to_zero(given - expected):
        return replace(check, reason="the answer equals the exact derivative (simplify proves it)")
    if checked:
        said = f"the answer equals the exact derivative at {checked} random rational points"
        return replace(check, reason=f"{said} (simplify could not prove it)")
    said = "undecided: simplify cannot show the two equal, and no sample point is in the domain"
    return replace(check, status=Status.INCONCLUSIVE, reason=said)


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
    """How ``raw`` was shown equal to ``exact``, None if undecided; RuntimeError (an engine bug,
    never a user error) if they differ."""
    if raw == exact or (raw - exact) == 0:
        return "identical"
    checked, point = _compare(raw, exact, anchor)
    if point is not None:
        msg = f"internal error in symgrad.steps: rule result {raw} differs from {exact} at {point}"
        raise RuntimeError(msg)
    if checked:
        return f"equal at {checked} random rational points"
    return "simplify proves them equal" if _simplifies_to_zero(raw - exact) else None


def _simplifies_to_zero(difference: _Expr) -> bool:
    """True when ``simplify`` reduces ``difference`` to 0 (skipped for large expressions)."""
    if difference == 0:
        return True
    return _within(difference, _SIMPLIFY_NODES) and sympy.simplify(difference) == 0


def _compare(left: _Expr, right: _Expr, anchor: _Expr) -> tuple[int, dict[_Expr, _Expr] | None]:
    """(points where both agree, first point where they differ), where ``anchor`` is real too."""
    checked = 0
    for point, (_, a, b) in itertools.islice(real_points([anchor, left, right]), _ENOUGH):
        if not close(a, b):
            return checked, point
        checked += 1
    return checked, None


# ----------------------------------------------------------------- answer diagnosis
def _wrong_answer(check: AnswerCheck, point: dict[_Expr, _Expr]) -> AnswerCheck:
    """The verdict ``fail``, with the point where the two differ and the term diagnosis."""
    expected, given = check.expected, check.answer
    terms = _diagnose(expected, given, check.expression)
    at = f"at {', '.join(f'{s} = {v}' for s, v in point.items())}" if point else "everywhere"
    want, got = (f"{value_at(e, point):.10g}" for e in (expected, given))
    reason = f"the answer is not the derivative: {at} it gives {got} instead of {want}"
    if terms["issues"]:
        reason = f"{reason}; {terms['issues'][0]}"
    example = {"point": {str(s): str(v) for s, v in point.items()}, "expected": want, "answer": got}
    return replace(check, status=Status.FAIL, reason=reason, counterexample=example, **terms)


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
    ratios = [x / y for x, y in zip(a, b, strict=True) if y != 0]
    if not e.is_number and a and len(ratios) == len(a) and all(close(r, ratios[0]) for r in ratios):
        return 999, "has the wrong coefficient: it should be"
    shared = set(sympy.Mul.make_args(g)) & set(sympy.Mul.make_args(e))
    return len(shared), "should be"
