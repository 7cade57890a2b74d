"""Step-by-step differentiation and "check my answer".

References are independent of the rule engine: derivatives typed by hand, and SymPy's ``diff``
(with distributional terms dropped, symgrad's convention away from a kink).  Equality is proved by
``simplify``, or, for forms that agree only where the expression is real (acosh, abs of log, max),
checked at exact rational points to 30 digits.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from typing import Any

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symgrad.errors import ConfigError, LimitExceeded, ParseError
from symgrad.results import Status
from symgrad.teaching import AnswerCheck, Engine, Step, StepsResult, check_answer, derive, steps

X, Y, Z = (sympy.Symbol(n, real=True) for n in "xyz")
VALUES = [sympy.Rational(p, q) for p, q in [(3, 7), (5, 4), (-2, 3), (9, 5), (13, 11), (-7, 5)]]
VALUES += [sympy.Rational(p, q) for p, q in [(17, 6), (1, 9), (11, 4), (-5, 13), (7, 3), (2, 5)]]


# ------------------------------------------------------------------------- helpers
def reference(expr: Any, var: Any) -> Any:
    """SymPy's derivative, with DiracDelta terms (zero away from a kink) dropped."""
    d = sympy.diff(expr, var)
    return d.replace(lambda e: isinstance(e, sympy.DiracDelta), lambda _e: sympy.S.Zero)


def real_value(expr: Any, point: dict[Any, Any]) -> Any:
    """``expr`` at ``point`` to 30 digits, or None where it is not finite and real."""
    value = expr.xreplace(point).evalf(30)
    if not value.is_number:
        return None
    re, im = value.as_real_imag()
    if not re.is_finite or abs(im) > 1e-25:
        return None
    return re


def agree_numerically(got: Any, want: Any, anchor: Any, needed: int = 3) -> bool:
    """True when got == want at >= ``needed`` points where ``anchor`` is real."""
    symbols = sorted(got.free_symbols | want.free_symbols | anchor.free_symbols, key=str)
    checked = 0
    for i in range(len(VALUES)):
        point = {s: VALUES[(i + 5 * j) % len(VALUES)] for j, s in enumerate(symbols)}
        values = [real_value(e, point) for e in (anchor, got, want)]
        if any(v is None for v in values):
            continue
        assert abs(values[1] - values[2]) <= 1e-20 * max(1, abs(values[2])), (got, want, point)
        checked += 1
    return checked >= needed


def assert_same_derivative(got: Any, expr: Any, var: Any, *, symbolic: bool = True) -> None:
    """``got`` equals d expr/d var: identical, simplify-equal, or equal on the real domain."""
    want = reference(expr, var)
    if got == want or (symbolic and sympy.simplify(got - want) == 0):
        return
    assert agree_numerically(got, want, expr), f"{got} vs {want}: too few real sample points"


def rules(result: StepsResult) -> list[str]:
    """Every rule identifier used in a derivation, depth first."""
    return [s.rule for top in result.steps for s in top.walk()]


# -------------------------------------------------------------------- named examples
def test_product_rule_example() -> None:
    """x**2*sin(x) is explained by the product rule and ends at SymPy's printed derivative."""
    result = steps("x**2*sin(x)", "x")
    assert result.steps[0].rule == "product"
    assert [s.rule for s in result.steps[0].substeps] == ["power", "trig"]
    assert str(result.result) == "x**2*cos(x) + 2*x*sin(x)"
    assert result.result == 2 * X * sympy.sin(X) + X**2 * sympy.cos(X)
    assert result.status is Status.PASS


def test_chain_rule_is_a_u_substitution() -> None:
    """sin(x**2) uses the chain rule, written as 'let u = x**2', with d/du and du/dx substeps."""
    result = steps("sin(x**2)")
    chain = result.steps[0]
    assert chain.rule == "chain"
    assert "let u = x**2" in chain.explanation
    outer, inner = chain.substeps
    assert (str(outer.variable), outer.rule, outer.after) == (
        "u",
        "trig",
        sympy.cos(outer.variable),
    )
    assert (inner.before, inner.after) == (X**2, 2 * X)
    assert result.result == 2 * X * sympy.cos(X**2)


def test_logarithmic_differentiation_of_x_to_the_x() -> None:
    """x**x is differentiated by taking logarithms and equals x**x*(log(x) + 1)."""
    result = steps("x**x")
    assert result.steps[0].rule == "log_differentiation"
    assert "log(y) = x*log(x)" in result.steps[0].explanation
    assert sympy.simplify(result.steps[0].after - X**X * (sympy.log(X) + 1)) == 0
    assert result.result == X**X * (sympy.log(X) + 1)


def test_quotient_rule_on_sin_over_x() -> None:
    """sin(x)/x is a quotient with f = sin(x), g = x; the rule's fraction is already textbook form."""
    result = steps("sin(x)/x", "x")
    quotient = result.steps[0]
    assert quotient.rule == "quotient"
    assert "f = sin(x) and g = x" in quotient.explanation
    assert quotient.after == (X * sympy.cos(X) - sympy.sin(X)) / X**2
    assert [s.rule for s in result.steps] == ["quotient"]
    assert result.result == (X * sympy.cos(X) - sympy.sin(X)) / X**2


def test_partial_derivative_names_the_variables_held_constant() -> None:
    """d/dy of x*y**2 says that x is held constant and gives 2*x*y."""
    result = steps("x*y**2", "y")
    assert result.steps[0].rule == "constant_multiple"
    assert "x is held constant" in result.steps[0].explanation
    assert result.result == 2 * X * Y
    leaf = steps("x + y*z", "x").steps[0].substeps[1]
    assert leaf.rule == "held_constant"
    assert "y and z are held constant" in leaf.explanation


def test_second_derivative_is_repeated_steps() -> None:
    """Order 2 of x**3 is two labelled blocks of first-derivative steps ending at 6*x."""
    result = steps("x**3", "x", 2)
    assert [b.rule for b in result.steps] == ["higher_order", "higher_order"]
    assert [b.after for b in result.steps] == [3 * X**2, 6 * X]
    assert "Derivative 2 of 2" in result.steps[1].explanation
    assert result.steps[1].substeps[0].before == 3 * X**2
    assert result.result == 6 * X
    assert str(steps("x**3", "x", 3).result) == "6"


def test_nested_chains_use_distinct_names_that_avoid_the_variables() -> None:
    """Nested chain rules name u, then v; a variable called u pushes the name on to v."""
    nested = steps("sin(cos(x**2))").steps[0]
    assert "let u = cos(x**2)" in nested.explanation
    assert "let v = x**2" in nested.substeps[1].explanation
    assert "let v = u**2" in steps("sin(u**2)", "u").steps[0].explanation


def test_repeated_subderivative_refers_back() -> None:
    """A sub-derivative met twice is worked out once, then referred to (Gamma PR #8)."""
    result = steps("x*sin(x**2) + cos(sin(x**2))")
    again = [s for s in result.steps[0].walk() if s.explanation.startswith("Worked out above")]
    assert again
    assert again[0].before == sympy.sin(X**2)
    assert again[0].after == 2 * X * sympy.cos(X**2)
    assert again[0].substeps == ()


def test_kinks_are_noted() -> None:
    """abs, sign and max say where the derivative does not exist."""
    assert "kink" in steps("abs(x**2 - 1)").steps[0].substeps[0].explanation
    sign = steps("sign(x**2 - 1)").steps[0]
    assert (sign.rule, sign.after) == ("sign", 0)
    assert "jumps" in sign.explanation
    assert "kink" in steps("max(x, x**2)").steps[0].explanation


def test_fallback_for_a_function_without_a_rule() -> None:
    """A function outside the rule table is differentiated by SymPy's table, not dropped."""
    step = derive(sympy.erf(X**2), X)
    assert step.rule == "function"
    assert step.after == 4 * X * sympy.exp(-(X**4)) / sympy.sqrt(sympy.pi)


# --------------------------------------------------------------------- rule table
# (id, expression, variable, rules that must appear).  Every rule and many combinations.
TABLE: list[tuple[str, str, str, set[str]]] = [
    ("integer", "7", "x", {"constant"}),
    ("named_constants", "pi*E", "x", {"constant"}),
    ("variable", "x", "x", {"variable"}),
    ("other_variable", "y", "x", {"held_constant"}),
    ("sum", "x + 3", "x", {"sum", "variable", "constant"}),
    ("difference", "x**3 - x", "x", {"sum", "power", "constant_multiple"}),
    ("constant_multiple", "5*x**2", "x", {"constant_multiple", "power"}),
    ("negation", "-sin(x)", "x", {"constant_multiple", "trig"}),
    ("power", "x**7", "x", {"power"}),
    ("negative_power", "x**(-3)", "x", {"power"}),
    ("reciprocal", "1/x", "x", {"power"}),
    ("sqrt", "sqrt(x)", "x", {"power"}),
    ("rational_power", "x**(2/3)", "x", {"power"}),
    ("irrational_power", "x**pi", "x", {"power"}),
    ("symbolic_power", "x**y", "x", {"power"}),
    ("exp", "exp(x)", "x", {"exp"}),
    ("E_power", "E**(3*x)", "x", {"chain", "exp"}),
    ("exponential", "2**x", "x", {"exponential"}),
    ("exponential_chain", "3**(x**2)", "x", {"chain", "exponential", "power"}),
    ("exponential_held_base", "y**x", "x", {"exponential"}),
    ("log", "log(x)", "x", {"log"}),
    ("log_base", "log(x, 2)", "x", {"constant_multiple", "log"}),
    ("log10", "log10(x**2 + 1)", "x", {"constant_multiple", "chain", "log"}),
    ("sin", "sin(x)", "x", {"trig"}),
    ("cos", "cos(x)", "x", {"trig"}),
    ("tan", "tan(x)", "x", {"trig"}),
    ("sec", "sec(x)", "x", {"trig"}),
    ("csc", "csc(x)", "x", {"trig"}),
    ("cot", "cot(x)", "x", {"trig"}),
    ("asin", "asin(x)", "x", {"inverse_trig"}),
    ("acos", "acos(x)", "x", {"inverse_trig"}),
    ("atan", "atan(x)", "x", {"inverse_trig"}),
    ("arcsin_chain", "arcsin(2*x)", "x", {"chain", "inverse_trig"}),
    ("sinh", "sinh(x)", "x", {"hyperbolic"}),
    ("cosh", "cosh(x)", "x", {"hyperbolic"}),
    ("tanh", "tanh(x)", "x", {"hyperbolic"}),
    ("asinh", "asinh(x)", "x", {"inverse_hyperbolic"}),
    ("acosh", "acosh(x)", "x", {"inverse_hyperbolic"}),
    ("atanh", "atanh(x)", "x", {"inverse_hyperbolic"}),
    ("acosh_chain", "acosh(x**2 + 1)", "x", {"chain", "inverse_hyperbolic"}),
    ("abs", "abs(x)", "x", {"abs"}),
    ("abs_chain", "abs(x**2 - 1)", "x", {"chain", "abs"}),
    ("abs_of_log", "abs(log(x))", "x", {"chain", "abs", "log"}),
    ("sign", "sign(x)", "x", {"sign"}),
    ("sign_chain", "sign(sin(x))", "x", {"sign"}),
    ("max", "max(x, x**2)", "x", {"min_max", "power"}),
    ("min", "min(x, 1)", "x", {"min_max", "constant"}),
    ("min_three", "min(x, y, 1)", "x", {"min_max", "held_constant"}),
    ("max_trig", "max(sin(x), cos(x), x/2)", "x", {"min_max", "trig"}),
    ("atan2_x", "atan2(y, x)", "x", {"atan2", "held_constant"}),
    ("atan2_y", "atan2(y, x)", "y", {"atan2", "variable"}),
    ("atan2_both", "atan2(x**2, x + 1)", "x", {"atan2", "power", "sum"}),
    ("x_to_the_x", "x**x", "x", {"log_differentiation", "product", "log"}),
    ("x_to_sin", "x**sin(x)", "x", {"log_differentiation", "trig"}),
    ("sin_to_x", "sin(x)**x", "x", {"log_differentiation", "chain"}),
    ("tower", "x**(x**x)", "x", {"log_differentiation"}),
    ("product_two", "x**2*sin(x)", "x", {"product"}),
    ("product_three", "x*exp(x)*sin(x)", "x", {"product", "exp", "trig"}),
    ("product_held", "x*y*sin(x)", "x", {"constant_multiple", "product"}),
    ("quotient", "sin(x)/x", "x", {"quotient"}),
    ("quotient_poly", "x**2/(x + 1)", "x", {"quotient", "sum"}),
    ("quotient_sqrt", "exp(x)/sqrt(x**2 + 1)", "x", {"quotient", "chain", "exp"}),
    ("quotient_of_one", "1/(x*(x + 1))", "x", {"quotient", "product"}),
    ("quotient_scaled", "3*sin(x)/x**2", "x", {"constant_multiple", "quotient"}),
    ("tan_as_quotient", "sin(x)/cos(x)", "x", {"quotient", "trig"}),
    ("chain_power", "(x**2 + 1)**10", "x", {"chain", "power"}),
    ("chain_sqrt", "sqrt(1 - x**2)", "x", {"chain", "power"}),
    ("chain_nested", "sin(cos(x**2))", "x", {"chain", "trig", "power"}),
    ("chain_cot_cot", "cot(cot(x))", "x", {"chain", "trig"}),
    ("chain_log_trig", "log(sin(x)**2 + 1)", "x", {"chain", "log", "trig"}),
    ("chain_exp_sin", "exp(sin(x))*log(x**2 + 1)", "x", {"product", "chain", "exp", "log"}),
    ("gaussian", "exp(-x**2/2)/sqrt(2*pi)", "x", {"constant_multiple", "chain", "exp"}),
    ("sin_xy", "sin(x*y)", "x", {"chain", "constant_multiple"}),
    ("tanh_squared", "tanh(x)**2", "x", {"chain", "hyperbolic"}),
    ("atanh_half", "atanh(x/2)", "x", {"chain", "inverse_hyperbolic"}),
    ("asinh_sqrt", "asinh(sqrt(x**2 + 1))", "x", {"chain", "inverse_hyperbolic", "power"}),
    ("mixed_partial_z", "x*y*z + z**2*sin(x)", "z", {"sum", "constant_multiple", "power"}),
    ("atan_quotient", "atan(1/x)", "x", {"chain", "inverse_trig", "power"}),
]


@pytest.mark.parametrize(
    ("text", "wrt", "expected_rules"), [row[1:] for row in TABLE], ids=[row[0] for row in TABLE]
)
def test_engine_matches_sympy(text: str, wrt: str, expected_rules: set[str]) -> None:
    """The engine's own derivative (before tidying) equals SymPy's, using the expected rules."""
    result = steps(text, wrt)
    var = result.variable
    assert expected_rules <= set(rules(result))
    assert_same_derivative(result.steps[0].after, result.expression, var)
    # simplify of piecewise min/max derivatives takes a minute: those are compared at points
    symbolic = not result.result.has(sympy.Piecewise)
    assert_same_derivative(result.result, result.expression, var, symbolic=symbolic)
    assert result.status is Status.PASS


@pytest.mark.parametrize(
    ("text", "wrt"), [row[1:3] for row in TABLE[::3]], ids=[row[0] for row in TABLE[::3]]
)
def test_every_intermediate_step_is_right(text: str, wrt: str) -> None:
    """Each step's after is the derivative of its before (Gamma #65: not only the final answer)."""
    for step in steps(text, wrt).steps[0].walk():
        assert_same_derivative(step.after, step.before, step.variable)


def test_table_covers_every_rule() -> None:
    """The table exercises every rule identifier of the engine."""
    used = set().union(*(row[3] for row in TABLE))
    engine_rules = {
        "constant", "variable", "held_constant", "sum", "constant_multiple", "product",
        "quotient", "power", "exp", "exponential", "log", "trig", "inverse_trig", "hyperbolic",
        "inverse_hyperbolic", "chain", "log_differentiation", "abs", "sign", "min_max", "atan2",
    }  # fmt: skip
    assert engine_rules <= used
    assert len(TABLE) >= 60


# --------------------------------------------------------------------------- property
def positive(e: Any) -> Any:
    """A positive expression built from ``e``: a safe argument for log, roots and quotients."""
    return e**2 + 1


def _expressions() -> st.SearchStrategy[Any]:
    """Random expressions, real and finite everywhere (positive-safe logs, roots and quotients)."""
    leaves = st.sampled_from([X, X, sympy.Integer(2), sympy.Rational(1, 3), sympy.Integer(-3)])
    unary = [
        sympy.sin,
        sympy.cos,
        sympy.atan,
        sympy.exp,
        lambda e: sympy.exp(sympy.sin(e)),
        lambda e: sympy.log(positive(e)),
        lambda e: sympy.sqrt(positive(e)),
        lambda e: positive(e) ** sympy.Rational(-3, 2),
        lambda e: e**2,
        lambda e: e**3,
        lambda e: positive(e) ** X,
    ]

    def extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        pairs = st.tuples(children, children)
        return st.one_of(
            pairs.map(lambda p: p[0] + p[1]),
            pairs.map(lambda p: p[0] - p[1]),
            pairs.map(lambda p: p[0] * p[1]),
            pairs.map(lambda p: p[0] / positive(p[1])),
            st.tuples(st.sampled_from(unary), children).map(lambda p: p[0](p[1])),
        )

    # An operation at the top, and x inside: bare leaves and constants would teach us nothing.
    tree = extend(st.recursive(leaves, extend, max_leaves=8))
    return tree.filter(lambda e: X in e.free_symbols)


@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(expr=_expressions())
def test_random_expressions_match_sympy(expr: Any) -> None:
    """On random expressions, the engine's derivative equals SymPy's at exact rational points."""
    result = steps(expr, "x")
    assert_same_derivative(result.result, result.expression, X, symbolic=False)
    assert_same_derivative(result.steps[0].after, result.expression, X, symbolic=False)


# -------------------------------------------------------------------------- renderers
def test_json_has_the_design_keys() -> None:
    """to_dict/to_json carry expression, variable, result and steps of rule/before/after."""
    data = json.loads(steps("x**2*sin(x)", "x").to_json())
    assert {"expression", "variable", "result", "steps"} <= data.keys()
    assert (data["expression"], data["variable"]) == ("x**2*sin(x)", "x")
    assert data["result"] == "x**2*cos(x) + 2*x*sin(x)"
    step = data["steps"][0]
    assert {"rule", "before", "after", "explanation", "substeps"} <= step.keys()
    assert (step["rule"], step["before"]) == ("product", "x**2*sin(x)")
    assert [s["rule"] for s in step["substeps"]] == ["power", "trig"]


def test_text_rendering_names_the_rules() -> None:
    """The text derivation shows the rule names and the equations, in Unicode maths."""
    text = steps("sin(x**2)*x").to_text()
    for word in ("product", "chain", "trig", "power", "let u = x²"):
        assert word in text
    assert "d/dx (x²) = 2x" in text
    assert "**" not in text
    second = steps("x**3", "x", 2).to_text()
    assert second.startswith("d²/dx² (x³)\n")
    assert second.rstrip().endswith("d/dx (3x²) = 6x")


def test_latex_and_markdown_renderings() -> None:
    """LaTeX is an array of equations tagged with rules; Markdown uses $$ maths, escaped text."""
    result = steps("x**2*sin(x)", "x")
    latex = result.to_latex()
    assert latex.startswith("\\begin{array}")
    assert latex.endswith("\\end{array}")
    assert "\\frac{d}{dx}\\left(x^{2}\\right) = 2 x" in latex
    assert "\\text{product: Product rule" in latex
    markdown = result.to_markdown()
    assert markdown.count("$$") >= 8
    assert "**product**" in markdown
    assert "*" not in re.sub(r"\*\*\w+\*\*", "", markdown)  # only the bold rule names
    bundle = result._repr_mimebundle_()
    assert {"text/plain", "text/markdown", "text/latex"} <= bundle.keys()


def test_step_dict_names_the_chain_variable() -> None:
    """A d/du step records u as its variable in the step data."""
    chain = steps("exp(x**2)").to_dict()["steps"][0]
    assert chain["variable"] == "x"
    assert chain["substeps"][0]["variable"] == "u"


def test_results_are_frozen() -> None:
    """Results and steps are immutable records."""
    result = steps("x**2")
    with pytest.raises(AttributeError):
        result.order = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        result.steps[0].rule = "other"  # type: ignore[misc]
    assert isinstance(result.steps[0], Step)


# ----------------------------------------------------------------- input and caps
@pytest.mark.parametrize("order", [0, -1, 1.5, True, "2"])
def test_bad_order_is_a_config_error(order: Any) -> None:
    """order must be a positive integer."""
    with pytest.raises(ConfigError, match="order"):
        steps("x**2", "x", order)


def test_order_cap() -> None:
    """Orders above 8 are refused with LimitExceeded."""
    with pytest.raises(LimitExceeded, match="up to 8") as info:
        steps("x**2", "x", 9)
    assert info.value.limit == "derivative_order"


def test_wrt_is_required_unless_there_is_one_variable() -> None:
    """Without wrt, several variables (or none) are an error naming wrt."""
    with pytest.raises(ConfigError, match="wrt"):
        steps("x*y")
    with pytest.raises(ConfigError, match="wrt"):
        steps("5")
    with pytest.raises(ConfigError, match="wrt"):
        steps("x", 3)
    with pytest.raises(ConfigError, match="not among variables"):
        steps("x*y", "z", variables="x y")


def test_wrt_symbol_without_assumptions_is_accepted() -> None:
    """A plain sympy.Symbol for wrt means the same (real) variable as the parsed text."""
    plain = sympy.Symbol("x")
    assert steps(sympy.sin(plain) ** 2, plain).result == 2 * sympy.sin(X) * sympy.cos(X)


def test_text_is_parsed_safely() -> None:
    """Text that is not an expression is a ParseError, in the answer too."""
    with pytest.raises(ParseError):
        steps("__import__('os').system('true')")
    with pytest.raises(ParseError):
        check_answer("x**2", "x.__class__")


def test_expression_size_cap() -> None:
    """Expressions above MAX_NODES are refused before any step is built."""
    text = " + ".join(f"x**{k}" for k in range(1, 400))
    with pytest.raises(LimitExceeded, match="1000 nodes") as info:
        steps(text, "x")
    assert info.value.limit == "expression_too_large"


def test_step_cap() -> None:
    """A derivation needing more than 2,000 rule applications raises LimitExceeded."""
    text = " + ".join(f"sin({k}*x)" for k in range(1, 161))
    with pytest.raises(LimitExceeded, match="2000 steps") as info:
        steps(text, "x", 5)
    assert info.value.limit == "too_many_steps"
    with pytest.raises(LimitExceeded):
        Engine([], max_steps=3).derive(sympy.sin(X) * sympy.cos(X) * X, X)


# ---------------------------------------------------------------------- check_answer
def test_right_answer_passes() -> None:
    """The exact derivative, as a student would type it, passes."""
    check = check_answer("x**2*sin(x)", "2*x*sin(x) + x^2*cos(x)")
    assert check.status is Status.PASS
    assert (check.missing_terms, check.extra_terms, check.issues) == ((), (), ())


def test_equivalent_form_passes() -> None:
    """sin(2*x) is accepted for 2*sin(x)*cos(x), and a factored form for an expanded one."""
    assert check_answer("sin(x)**2", "sin(2*x)").status is Status.PASS
    assert check_answer("x*exp(x)", "(x + 1)*exp(x)").status is Status.PASS
    assert check_answer("x**3", "6*x", order=2).status is Status.PASS
    assert check_answer("x*y", "x", "y", variables="x y").status is Status.PASS


def test_wrong_term_is_named() -> None:
    """2*x*cos(x) in place of 2*x*sin(x) fails, naming both terms."""
    check = check_answer("x**2*sin(x)", "x**2*cos(x) + 2*x*cos(x)")
    assert check.status is Status.FAIL
    assert check.issues[0] == "the term 2*x*cos(x) should be 2*x*sin(x)"
    assert check.reason.startswith("the answer is not the derivative: at x = 1 it gives")
    assert (check.missing_terms, check.extra_terms) == (
        (2 * X * sympy.sin(X),),
        (2 * X * sympy.cos(X),),
    )


def test_missing_term_is_reported() -> None:
    """Forgetting half of the product rule reports the missing term."""
    check = check_answer("x**2*sin(x)", "x**2*cos(x)")
    assert check.status is Status.FAIL
    assert check.issues == ("the term 2*x*sin(x) is missing",)
    assert check.missing_terms == (2 * X * sympy.sin(X),)
    assert check.extra_terms == ()


def test_sign_error_is_reported() -> None:
    """A flipped sign is called a sign error."""
    check = check_answer("x**2*cos(x)", "2*x*cos(x) + x**2*sin(x)")
    assert check.issues == ("the term x**2*sin(x) has the wrong sign: it should be -x**2*sin(x)",)


def test_wrong_coefficient_and_extra_term() -> None:
    """A wrong coefficient and a term that should not be there are both named."""
    coefficient = check_answer("x**3 + x", "2*x**2 + 1")
    assert coefficient.issues == ("the term 2*x**2 has the wrong coefficient: it should be 3*x**2",)
    extra = check_answer("x**3", "3*x**2 + 5")
    assert extra.issues == ("the term 5 should not be there",)
    assert extra.extra_terms == (5,)


def test_counterexample_point_really_differs() -> None:
    """The reported point is one where the answer and the derivative differ."""
    check = check_answer("exp(x)*x", "exp(x)")
    assert check.counterexample is not None
    shown = Fraction(check.counterexample["point"]["x"])  # the text is never given to SymPy
    point = {X: sympy.Rational(shown.numerator, shown.denominator)}
    gap = (check.expected - check.answer).xreplace(point)
    assert abs(gap.evalf(30)) > 1e-3


def test_numeric_fallback_when_simplify_is_inconclusive() -> None:
    """abs(log(x)) with sign(log(x))/x is equal where the function is real: pass, said so."""
    check = check_answer("abs(log(x))", "sign(log(x))/x")
    assert check.status is Status.PASS
    assert re.search(r"equal at (1[2-9]|[2-9]\d) exact rational points", check.reason)
    assert "not proved symbolically" in check.reason


def test_nowhere_real_is_inconclusive() -> None:
    """With no real sample point and no symbolic proof, the verdict is inconclusive."""
    check = check_answer("sqrt(-x**2 - 1)", "x")
    assert check.status is Status.INCONCLUSIVE


def test_answer_check_dict_and_text() -> None:
    """to_dict carries expected, answer, missing and extra terms; to_text lists the issues."""
    check = check_answer("x**2*sin(x)", "x**2*cos(x)")
    data = json.loads(check.to_json())
    assert {"status", "reason", "expected", "answer", "missing_terms", "extra_terms"} <= data.keys()
    assert data["missing_terms"] == ["2*x*sin(x)"]
    assert data["expected"] == "x**2*cos(x) + 2*x*sin(x)"
    assert "the term 2x\N{MULTIPLICATION SIGN}sin(x) is missing" in check.to_text()
    assert isinstance(check, AnswerCheck)
    with pytest.raises(AssertionError):
        check.raise_if_failed()
