"""Derivatives step by step, and "check my answer" with the wrong term pointed out.

For teaching: ``symgrad.steps`` names every rule it applies (product, power, chain as a
u-substitution, logarithmic differentiation for x**x) and proves its result equal to SymPy's
derivative.  ``symgrad.check_answer`` compares a student's answer with the exact derivative: any
equivalent form passes; a wrong one fails with a point where the two differ and the term that is
wrong.

Run: ``python examples/step_by_step.py``
"""

import sympy

import symgrad

# --- 1. Three derivations --------------------------------------------------------------------
# The product rule, the chain rule, and x**x, where neither the power rule (constant exponent)
# nor the exponential rule (constant base) applies: write y = x**x, take logs, differentiate.
derivations = {text: symgrad.steps(text, "x") for text in ("x**2*sin(x)", "sin(x**2)", "x**x")}
for result in derivations.values():
    print(result)
    print()

# --- 2. Checking students' answers -----------------------------------------------------------
answers = [
    ("x**2*sin(x)", "x**2*cos(x) + 2*x*cos(x)"),  # differentiated sin twice
    ("sin(x**2)", "cos(x**2)"),  # forgot the inner derivative of the chain rule
    ("sin(x**2)", "2*x*cos(x**2)"),  # right
    ("x**x", "exp(x*log(x))*(1 + log(x))"),  # right, written differently
]
checks = [symgrad.check_answer(question, answer, "x") for question, answer in answers]
for check in checks:
    print(check)
    print()

# --- Claims, checked against derivatives written out by hand ---------------------------------
x = sympy.Symbol("x", real=True)  # symgrad's variables are real symbols
by_hand = {
    "x**2*sin(x)": 2 * x * sympy.sin(x) + x**2 * sympy.cos(x),
    "sin(x**2)": 2 * x * sympy.cos(x**2),
    "x**x": x**x * (sympy.log(x) + 1),
}
for text, result in derivations.items():
    assert result.status is symgrad.Status.PASS
    assert sympy.simplify(result.result - by_hand[text]) == 0, text
assert [s.rule for s in derivations["x**2*sin(x)"].steps[0].walk()] == ["product", "power", "trig"]
assert derivations["sin(x**2)"].steps[0].rule == "chain"
assert derivations["x**x"].steps[0].rule == "log_differentiation"

assert [c.status for c in checks] == [symgrad.Status.FAIL] * 2 + [symgrad.Status.PASS] * 2
assert checks[0].issues[0] == "the term 2*x*cos(x) should be 2*x*sin(x)"
# The counterexample really is one: evaluate both sides exactly at the reported point.
for (question, answer), check in zip(answers[:2], checks[:2], strict=True):
    at = {x: sympy.Rational(check.counterexample["point"]["x"])}
    student = symgrad.parse(answer).subs(at)
    exact = by_hand[question].subs(at)
    assert abs(sympy.N(student - exact, 30)) > 1e-6, (question, at)
print("all claims verified")
