"""The classroom: textbook final forms, "check my answer" with its classic slips, implicit
differentiation, and the ``steps`` command line.

Every derivative is compared with an independent oracle computed here: ``sympy.diff`` of the
expression built by SymPy itself, then ``sympy.simplify`` of the difference.  Final forms are
also compared by structure with the form a first-year textbook prints (one fraction, the
denominator factored, the trigonometric function the rule produced).
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
from typing import Any

import mpmath
import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.cli import main
from symgrad.errors import ConfigError, ParseError

X, Y = sympy.Symbol("x", real=True), sympy.Symbol("y", real=True)
NAMES = {"x": X, "y": Y}


def build(text: str) -> Any:
    """The oracle's own expression: SymPy parses our trusted test text (never symgrad's)."""
    return sympy.sympify(text, locals=NAMES)


def oracle_equal(got: Any, text: str) -> bool:
    """``got`` equals d/dx of ``text``: sympy.diff, then simplify of the difference is 0."""
    return bool(sympy.simplify(got - sympy.diff(build(text), X)) == 0)


# (expression, the final form a textbook prints, shape): "fraction" is a single fraction with x
# below the line; "plain" has no x below the line.  A standard first-year list.
TEXTBOOK: list[tuple[str, str, str]] = [
    ("x**5", "5*x**4", "plain"),
    ("3*x**4 - 2*x**2 + 7", "12*x**3 - 4*x", "plain"),
    ("sqrt(x)", "1/(2*sqrt(x))", "fraction"),
    ("1/x", "-1/x**2", "fraction"),
    ("x**(1/3)", "1/(3*x**(2/3))", "fraction"),
    ("exp(2*x)", "2*exp(2*x)", "plain"),
    ("2**x", "2**x*log(2)", "plain"),
    ("log(x**2 + 1)", "2*x/(x**2 + 1)", "fraction"),
    ("sin(x)", "cos(x)", "plain"),
    ("cos(x)", "-sin(x)", "plain"),
    ("tan(x)", "sec(x)**2", "plain"),
    ("sec(x)", "sec(x)*tan(x)", "plain"),
    ("csc(x)", "-csc(x)*cot(x)", "plain"),
    ("cot(x)", "-csc(x)**2", "plain"),
    ("asin(x)", "1/sqrt(1 - x**2)", "fraction"),
    ("acos(x)", "-1/sqrt(1 - x**2)", "fraction"),
    ("atan(x)", "1/(x**2 + 1)", "fraction"),
    ("x**2*sin(x)", "x**2*cos(x) + 2*x*sin(x)", "plain"),
    ("x*exp(x)", "x*exp(x) + exp(x)", "plain"),
    ("(x**2 + 1)/(x - 1)", "(x**2 - 2*x - 1)/(x - 1)**2", "fraction"),
    ("sin(x)/x", "(x*cos(x) - sin(x))/x**2", "fraction"),
    ("exp(x)/x", "(x - 1)*exp(x)/x**2", "fraction"),
    ("x/(x**2 + 1)", "(1 - x**2)/(x**2 + 1)**2", "fraction"),
    ("(x - 1)/(x + 1)", "2/(x + 1)**2", "fraction"),
    ("1/(x**2 + 1)", "-2*x/(x**2 + 1)**2", "fraction"),
    ("(x**2 + 1)**10", "20*x*(x**2 + 1)**9", "plain"),
    ("sqrt(1 - x**2)", "-x/sqrt(1 - x**2)", "fraction"),
    ("sin(x**2)", "2*x*cos(x**2)", "plain"),
    ("exp(sin(x))", "exp(sin(x))*cos(x)", "plain"),
    ("x**x", "x**x*(log(x) + 1)", "plain"),
    ("(2*x + 1)**3", "6*(2*x + 1)**2", "plain"),
    ("x**2*(x + 1)**3", "x*(x + 1)**2*(5*x + 2)", "plain"),
    ("x**2/(x + 1)", "x*(x + 2)/(x + 1)**2", "fraction"),
]


@pytest.mark.parametrize(("text", "printed", "shape"), TEXTBOOK, ids=[t[0] for t in TEXTBOOK])
def test_textbook_final_form(text: str, printed: str, shape: str) -> None:
    """The final form is the one a textbook prints (structure) and the derivative (value)."""
    result = symgrad.steps(text, "x")
    assert oracle_equal(result.result, text)
    assert result.result == build(printed)  # structurally, as SymPy stores it
    top, bottom = sympy.fraction(result.result)
    if shape == "fraction":
        assert X in bottom.free_symbols
        assert sympy.fraction(sympy.together(top))[1] == 1  # nothing below the line on top
        assert not result.result.is_Add  # one fraction, not a sum of fractions
    else:
        assert X not in bottom.free_symbols
    assert result.status is symgrad.Status.PASS
    assert "proved equal symbolically" in result.reason


def test_quotient_denominator_is_factored() -> None:
    """(x**2 + 1)/(x**2 - 1): one fraction, the denominator factored (x - 1)**2*(x + 1)**2."""
    result = symgrad.steps("(x**2 + 1)/(x**2 - 1)")
    assert oracle_equal(result.result, "(x**2 + 1)/(x**2 - 1)")
    top, bottom = sympy.fraction(result.result)
    assert bottom == (X - 1) ** 2 * (X + 1) ** 2
    assert sympy.expand(top) == -4 * X


def test_answer_is_shown_once_in_every_format() -> None:
    """The final form appears once: as the last equation, not in the heading or a Result line."""
    result = symgrad.steps("(x**2 + 1)/(x - 1)")
    text = result.to_text()
    assert text.count("(x\N{SUPERSCRIPT TWO} \N{MINUS SIGN} 2x \N{MINUS SIGN} 1)") == 1
    assert text.splitlines()[0] == "d/dx ((x\N{SUPERSCRIPT TWO} + 1)/(x \N{MINUS SIGN} 1))"
    assert text.rstrip().endswith(
        "(x\N{SUPERSCRIPT TWO} \N{MINUS SIGN} 2x \N{MINUS SIGN} 1)/(x \N{MINUS SIGN} 1)\N{SUPERSCRIPT TWO}"
    )
    assert "**" not in text
    latex = result.to_latex()
    answer = sympy.latex(build("(x**2 - 2*x - 1)/(x - 1)**2"))
    assert latex.count(answer) == 1
    assert "\\text{quotient: Quotient rule" in latex  # the explanations are there
    assert latex.splitlines()[1] == "\\frac{d}{dx}\\left(\\frac{x^{2} + 1}{x - 1}\\right) \\\\"
    tan = symgrad.steps("tan(x)")
    assert (
        tan.to_text().count("sec(x)\N{SUPERSCRIPT TWO}") == 2
    )  # the rule's explanation, the answer
    assert "tan(x)\N{SUPERSCRIPT TWO} + 1" not in tan.to_text()


def test_verified_means_one_thing() -> None:
    """'proved equal symbolically' exactly when simplify of the difference is 0 (checked here);
    otherwise the agreement at exact points is said as such, in steps and in check_answer."""
    right = symgrad.check_answer("sin(x)**2", "sin(2*x)")
    assert sympy.simplify(build("sin(2*x)") - sympy.diff(build("sin(x)**2"), X)) == 0
    assert "proved equal symbolically" in right.reason
    assert "proved equal symbolically" in symgrad.steps("sin(x)**2").reason
    numeric = symgrad.check_answer("abs(log(x))", "sign(log(x))/x")
    assert numeric.status is symgrad.Status.PASS
    agreed = re.search(r"equal at (\d+) exact rational points", numeric.reason)
    assert agreed is not None
    assert int(agreed.group(1)) >= 12
    assert "not proved symbolically" in numeric.reason
    assert "random" not in numeric.reason


# ------------------------------------------------------------------ check my answer
SLIPS: list[tuple[str, str, list[str]]] = [
    # the minus sign of -f*g' reached only the first term of f*g' = x**2 + 1
    ("(x**2 + 1)/(x - 1)", "(x**2 - 2*x + 1)/(x - 1)**2", ["numerator's sign is wrong", "-1"]),
    # f*g' - f'*g instead of f'*g - f*g'
    ("sin(x)/x", "(sin(x) - x*cos(x))/x**2", ["numerator's sign is wrong", "wrong way round"]),
    ("sin(x**2)", "cos(x**2)", ["chain-rule factor is missing", "du/dx = 2*x"]),
    ("(x**2 + 1)**10", "10*(x**2 + 1)**9", ["chain-rule factor is missing", "du/dx = 2*x"]),
    ("exp(2*x)", "exp(2*x)", ["chain-rule factor is missing", "du/dx = 2", "not its own"]),
    ("5*x**3", "3*x**2", ["constant factor 5 was lost"]),
    ("cos(x)", "sin(x)", ["sign is wrong", "minus the derivative"]),
]


@pytest.mark.parametrize(("text", "answer", "words"), SLIPS, ids=[s[1] for s in SLIPS])
def test_classic_slip_is_named(text: str, answer: str, words: list[str]) -> None:
    """Each classic slip fails with one sentence that names it."""
    assert not oracle_equal(build(answer), text)  # the planted answer really is wrong
    check = symgrad.check_answer(text, answer)
    assert check.status is symgrad.Status.FAIL
    assert len(check.issues) == 1
    for word in words:
        assert word in check.issues[0], (word, check.issues[0])


def test_counterexample_is_a_simple_point_where_they_differ() -> None:
    """Small integers first; x = 1 is skipped for a pole at 1; the values really differ there."""
    for text, answer, shown in [
        ("x*exp(x)", "exp(x)", "1"),
        ("(x**2 + 1)/(x - 1)", "(x**2 - 2*x + 1)/(x - 1)**2", "-1"),
        ("sqrt(x)", "1/sqrt(x)", "1"),
    ]:
        check = symgrad.check_answer(text, answer)
        assert check.counterexample is not None
        assert check.counterexample["point"] == {"x": shown}
        at = {X: sympy.Integer(shown)}
        gap = (build(answer) - sympy.diff(build(text), X)).subs(at)
        assert sympy.simplify(gap) != 0


def test_counterexample_avoids_the_edge_of_the_domain() -> None:
    """For sqrt(x), 0 is the edge of the domain: never offered, even though it is simple."""
    check = symgrad.check_answer("x*sqrt(x)", "sqrt(x)")
    assert check.counterexample is not None
    assert check.counterexample["point"]["x"] not in ("0", "-1")


def test_check_text_and_markdown_say_each_sentence_once() -> None:
    """One sentence per difference, each once; Markdown escapes its '*' and '_'."""
    check = symgrad.check_answer("x**2*sin(x)", "x**2*cos(x)")
    text = check.to_text()
    for sentence in (check.reason, *check.issues):
        shown = symgrad.teaching.unicode_text(sentence)
        assert text.count(shown) == 1, shown
    markdown = check.to_markdown()
    bare = re.sub(r"\*\*(pass|fail)\*\*", "", markdown)
    assert re.search(r"(?<!\\)[*_]", re.sub(r"\$[^$]*\$", "", bare)) is None
    assert markdown.count("is missing") == 1


@settings(
    max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    text=st.sampled_from([t[0] for t in TEXTBOOK[:20]]),
    planted=st.sampled_from(["*2", "+1", "*(-1)", "+x", "*x"]),
)
def test_planted_errors_fail_and_right_answers_pass(text: str, planted: str) -> None:
    """A wrong answer (the derivative changed) must fail; SymPy's own derivative must pass."""
    exact = sympy.diff(build(text), X)
    wrong = sympy.sympify(f"({exact}){planted}", locals=NAMES)
    if sympy.simplify(wrong - exact) == 0:  # e.g. *2 of the derivative 0: not an error
        return
    assert symgrad.check_answer(text, str(wrong)).status is symgrad.Status.FAIL
    assert symgrad.check_answer(text, str(sympy.expand(exact))).status is symgrad.Status.PASS


# ----------------------------------------------------------------------------- HTML
def test_steps_html_is_mathml_with_the_textbook_answer_last() -> None:
    """to_html: the question and every equation in MathML (no scripts), the rules named, the
    last equation the textbook form as SymPy's own MathML printer writes it; Jupyter gets it."""
    result = symgrad.steps("(x**2+1)/(x-1)")
    page = result.to_html()
    assert "<script" not in page
    assert page.count("<math") == 1 + sum(1 for s in result.steps for _ in s.walk())
    answer = sympy.mathml(build("(x**2 - 2*x - 1)/(x - 1)**2"), printer="presentation")
    assert page.rindex(answer) > page.rindex("<b>simplify</b>")
    assert "<b>quotient</b>: Quotient rule" in page
    assert result._repr_mimebundle_()["text/html"] == page
    assert result._repr_html_() == page


def test_answer_check_html_escapes_and_names_the_slip() -> None:
    """AnswerCheck.to_html: both forms in MathML, the slip sentence escaped, in Jupyter too."""
    check = symgrad.check_answer("exp(2*x)", "exp(2*x)")
    page = check.to_html()
    assert "chain-rule factor is missing" in page
    expected = sympy.mathml(2 * sympy.exp(2 * X), printer="presentation")
    assert expected in page
    assert check._repr_mimebundle_()["text/html"] == page
    slip = symgrad.check_answer("x/(x+1)", "(x+1 - x)/(x+1)**2 + 1")
    assert "<" not in re.sub(r"<[^>]+>", "", slip.to_html())  # every < is a tag


def test_implicit_html_heading_has_the_equation() -> None:
    """ImplicitResult.to_html asks for d²y/dx² where x² + y² = 1, in MathML."""
    page = symgrad.implicit_steps("x**2 + y**2 = 1", order=2).to_html()
    circle = sympy.mathml(X**2 + Y**2, printer="presentation")
    assert "where" in page
    assert circle in page
    assert "<b>on_curve</b>" in page


# ------------------------------------------------------------------------- implicit
def test_circle_gives_minus_x_over_y_and_matches_the_upper_branch() -> None:
    """x**2 + y**2 = 1: dy/dx = -x/y, equal to d/dx sqrt(1 - x**2) on the upper branch."""
    result = symgrad.implicit_steps("x**2 + y**2 = 1", y="y", x="x")
    assert result.result == -X / Y
    upper = sympy.sqrt(1 - X**2)
    slope = sympy.diff(upper, X)  # the oracle
    for x0 in (sympy.Rational(1, 2), sympy.Rational(3, 5), sympy.Rational(-4, 5)):
        on_curve = result.result.subs({X: x0, Y: upper.subs(X, x0)})
        assert sympy.simplify(on_curve - slope.subs(X, x0)) == 0
    assert result.status is symgrad.Status.PASS
    assert "explicit branches" in result.reason
    assert [s.rule for s in result.steps] == ["partial", "partial", "implicit"]


def test_implicit_second_derivative_of_the_circle() -> None:
    """d²y/dx² on the circle is -1/y**3: the equation put in, equal to d²/dx² of both branches."""
    result = symgrad.implicit_steps("x**2 + y**2 = 1", order=2)
    assert result.result == -1 / Y**3  # the textbook form, not (-x**2 - y**2)/y**3
    for branch in (sympy.sqrt(1 - X**2), -sympy.sqrt(1 - X**2)):
        exact = sympy.diff(branch, X, 2)
        for x0 in (sympy.Rational(1, 2), sympy.Rational(-3, 5), sympy.Rational(1, 7)):
            assert (
                sympy.simplify(result.result.subs(Y, branch.subs(X, x0)) - exact.subs(X, x0)) == 0
            )
    assert [s.rule for s in result.steps][-2:] == ["implicit_second", "on_curve"]
    said = result.steps[-1].explanation
    assert "x**2 + y**2 - 1 = 0" in said
    assert "-(x**2 + y**2 - 1) - 1" in said  # the identity that uses the equation
    assert result.to_text().rstrip().endswith("d²y/dx² = \N{MINUS SIGN}1/y³")


# (equation, d²y/dx² as a textbook prints it, the equation used): each one checked against an
# explicit branch or a parametrisation by sympy.diff at exact points.
SECOND: list[tuple[str, str]] = [
    ("x**2 - y**2 = 1", "-1/y**3"),
    ("x**2/4 + y**2/9 = 1", "-81/(4*y**3)"),
    ("x*y + y**2 = 3", "6/(x + 2*y)**3"),
    ("y**2 = x**3 + x", "(3*x**4 + 6*x**2 - 1)/(4*y**3)"),
    ("x**3 + y**3 = 6*x*y", "16*x*y/(2*x - y**2)**3"),
]


@pytest.mark.parametrize(("equation", "printed"), SECOND)
def test_implicit_second_derivative_uses_the_equation(equation: str, printed: str) -> None:
    """The numerator is reduced with the equation to the textbook's shorter form."""
    result = symgrad.implicit_steps(equation, order=2)
    assert sympy.simplify(result.result - build(printed)) == 0
    assert len(str(result.result)) <= len(printed) + 2
    assert result.steps[-1].rule == "on_curve"
    assert result.status is symgrad.Status.PASS


def test_implicit_second_derivative_of_the_folium_by_its_parametrisation() -> None:
    """x**3 + y**3 = 6xy has no explicit branch; x = 6t/(1 + t³), y = 6t²/(1 + t³) is the oracle:
    y'' = d/dt (y'(t)/x'(t)) / x'(t) at exact rational t."""
    t = sympy.Symbol("t", real=True)
    xt, yt = 6 * t / (1 + t**3), 6 * t**2 / (1 + t**3)
    slope = sympy.diff(yt, t) / sympy.diff(xt, t)
    second = sympy.diff(slope, t) / sympy.diff(xt, t)
    result = symgrad.implicit_steps("x**3 + y**3 = 6*x*y", order=2).result
    for t0 in (sympy.Rational(1, 2), sympy.Rational(2), sympy.Rational(-1, 3), sympy.Rational(3)):
        on_curve = result.subs({X: xt.subs(t, t0), Y: yt.subs(t, t0)})
        assert sympy.simplify(on_curve - second.subs(t, t0)) == 0


def test_implicit_second_derivative_without_a_shorter_form_is_unchanged() -> None:
    """x*y + sin(y) = x**3: nothing to gain from the equation; G_x + G_y*y' is the oracle's."""
    result = symgrad.implicit_steps("x*y + sin(y) = x**3", order=2)
    f = build("x*y + sin(y) - x**3")
    slope = -sympy.diff(f, X) / sympy.diff(f, Y)
    oracle = sympy.diff(slope, X) + sympy.diff(slope, Y) * slope
    assert sympy.simplify(result.result - oracle) == 0
    assert result.steps[-1].rule == "implicit_second"


def test_implicit_without_explicit_branch() -> None:
    """x*y + sin(y) = x**3: -F_x/F_y, checked against the oracle's partial derivatives."""
    result = symgrad.implicit_steps("x*y + sin(y) = x**3")
    f = build("x*y + sin(y) - x**3")
    assert sympy.simplify(result.result + sympy.diff(f, X) / sympy.diff(f, Y)) == 0
    assert result.status is symgrad.Status.PASS


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("x**2 + y**2", ParseError),
        ("x = y = 1", ParseError),
        ("x**2 + y**2 == 1", ParseError),
        (" = 1", ParseError),
        ("__import__('os').system('true') = y", ParseError),
        ("x**2 = 1", ConfigError),
    ],
)
def test_implicit_bad_equations(text: str, error: type[Exception]) -> None:
    """Not one '=', an unsafe side, or no y: a clear error, nothing evaluated."""
    with pytest.raises(error):
        symgrad.implicit_steps(text)


# ------------------------------------------------------------------------------ CLI
def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_cli_answer_exit_codes() -> None:
    """--answer: 0 right, 1 wrong (the slip named), 2 bad input (one line)."""
    code, out, _ = run("steps", "cos(x)", "--answer", "-sin(x)")
    assert code == 0
    assert out.splitlines()[1].startswith("pass: ")
    code, out, _ = run("steps", "exp(2*x)", "--answer", "exp(2*x)")
    assert code == 1
    assert "chain-rule factor is missing" in out
    code, out, err = run("steps", "cos(x)", "--answer", "-sin(x")
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1


def test_cli_implicit() -> None:
    """--implicit y finds dy/dx; an equation without it is refused with a hint."""
    code, out, _ = run("steps", "x**2 + y**2 = 1", "--implicit", "y")
    assert code == 0
    assert out.rstrip().endswith("dy/dx = \N{MINUS SIGN}x/y")
    code, _, err = run("steps", "x**2 + y**2 = 1")
    assert code == 2
    assert "--implicit" in err


# --------------------------------------------------------------------------- report
def test_report_counts_exact_as_passing() -> None:
    """x**2: the central schemes and the complex step are exact for a quadratic (f''' = 0), the
    forward difference passes at order 1; the report says 4 of 4 pass, 3 of them exact."""
    result = symgrad.report("x**2", "x=0.5", plots=False)
    (study,) = result.convergence
    statuses = {s.scheme: s.status.value for s in study.schemes}
    assert statuses == {
        "forward:1": "pass",
        "central:2": "exact",
        "central:4": "exact",
        "complex": "exact",
    }
    assert "4 of 4 schemes pass (3 exact)" in result.reason
    assert study.reason == "4 of 4 schemes pass (3 exact)"
    assert "1 of 4" not in result.to_text()


# -------------------------------------------------------------------------- figures
OKABE_ITO = {"#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#000000"}


def _figures() -> dict[str, Any]:
    from symgrad import output

    return {
        "v_curve": output.plot_step_error("sin(x)", "x=1", "x"),
        "secant": output.plot_secant_tangent("x**2", 1),
        "field": output.plot_gradient_field("x**2 + 3*y**2", "x=-1:1,y=-1:1"),
        "convergence": output.plot_convergence(_studies()[0]),
        "convergence_exact": output.plot_convergence(_studies()[1]),
        "grid_exact": output.plot_grid_convergence(_studies()[2]),
    }


@functools.cache
def _studies() -> tuple[Any, ...]:
    """The sweeps behind the verification figures, computed once for the module."""
    return (
        symgrad.convergence("sin(x)", "x=1"),
        symgrad.convergence("x**2", "x=1"),  # exact schemes: errors at the floor or 0
        symgrad.verify_grid("x**2 + y", "x=0:1,y=0:1"),  # exact inside: zero errors
    )


def _texts(fig: Any) -> list[tuple[str, float]]:
    """Every visible text of a drawn figure with its size in points."""
    from matplotlib.text import Text

    fig.canvas.draw()
    return [
        (t.get_text(), float(t.get_fontsize()))
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text()
    ]


def test_talk_style_is_larger_everywhere() -> None:
    """style_figure(fig, "talk"): 1.25 times the size, every text at least 18 pt, every line
    1.7 times thicker; the paper style leaves the figure as drawn; a bad style is refused."""
    pytest.importorskip("matplotlib")
    from symgrad import output

    for name, fig in _figures().items():
        size = fig.get_size_inches().copy()
        widths = [line.get_linewidth() for ax in fig.axes for line in ax.get_lines()]
        assert output.style_figure(fig, "paper") is fig
        talk = output.style_figure(fig, "talk")
        assert talk.get_size_inches() == pytest.approx(size * 1.25), name
        assert min(pt for _, pt in _texts(talk)) >= 18, name
        after = [line.get_linewidth() for ax in talk.axes for line in ax.get_lines()]
        assert after == pytest.approx([1.7 * w for w in widths]), name
        assert output.style_figure(talk, "talk") is talk  # styled once, not twice
    with pytest.raises(ConfigError, match="unknown figure style"):
        output.style_figure(_figures()["secant"], "poster")


def test_cli_plot_style_talk(tmp_path: Any) -> None:
    """check --plot --style talk writes a PNG 1.25 times the paper one in each direction."""
    pytest.importorskip("matplotlib")
    from matplotlib.image import imread

    shapes = []
    for style in ("paper", "talk"):
        path = tmp_path / f"{style}.png"
        code, _, _ = run("check", "exp(x)", "--at", "x=1", "--plot", str(path), "--style", style)
        assert code == 0
        shapes.append(imread(path).shape[:2])
    assert shapes[1][0] == pytest.approx(1.25 * shapes[0][0], abs=2)
    assert shapes[1][1] == pytest.approx(1.25 * shapes[0][1], abs=2)


def test_figures_are_projector_ready() -> None:
    """At the default size every visible text is at least 12 pt, and every curve is labelled
    (legend entry) in a colour of the Okabe-Ito palette or black/grey."""
    pytest.importorskip("matplotlib")
    from matplotlib.colors import to_hex
    from matplotlib.text import Text

    for name, fig in _figures().items():
        fig.canvas.draw()
        small = [
            (t.get_text(), t.get_fontsize())
            for t in fig.findobj(Text)
            if t.get_visible() and t.get_text() and t.get_fontsize() < 12
        ]
        assert small == [], name
        if name in ("v_curve", "secant"):
            for ax in fig.axes:
                for line in ax.get_lines():
                    assert not line.get_label().startswith("_") or line.get_marker() not in (
                        "None",
                        "",
                    ), (name, line.get_label())
                    colour = to_hex(line.get_color())
                    grey = len(set(colour[1:].lower())) <= 2  # black or grey
                    assert colour.lower() in OKABE_ITO or grey, (name, colour)


def test_cli_answer_in_latex_has_the_sentences() -> None:
    """--answer --format latex: the verdict and the slip as text rows, both forms as maths."""
    code, out, _ = run("steps", "exp(2*x)", "--answer", "exp(2*x)", "--format", "latex")
    assert code == 1
    assert out.startswith("\\begin{array}{l}\n\\frac{d}{dx}\\left(e^{2 x}\\right) \\\\")
    assert "\\text{expected: } 2 e^{2 x} \\\\" in out
    assert "chain-rule factor is missing" in out
    assert "\N{ALMOST EQUAL TO}" not in out


@pytest.mark.parametrize(
    ("expr", "answer", "wrt", "order"),
    [("0", "y", "y", 1), ("x - x", "x**2", "z", 8), ("e*x", "1/x", "z", 1)],
)
def test_an_answer_against_a_zero_derivative_is_one_clear_fail(
    expr: str, answer: str, wrt: str, order: int
) -> None:
    """The derivative is 0 (a zero at every sample point once held a ZeroDivisionError in the
    constant-slip diagnosis); any nonzero answer fails, with the answer's own value named."""
    result = symgrad.check_answer(expr, answer, wrt, order=order)
    assert str(result.status) == "fail"
    assert "instead of 0" in result.reason


# ------------------------------------------- check my answer: a pass must never be a lie
def _gap_at(answer: str, text: str, point: dict[str, str], order: int = 1) -> Any:
    """The oracle: answer minus d^n/dx^n of the expression at ``point``, exactly (SymPy; the
    decimals of the answer read as the exact numbers they write)."""
    at = {NAMES[k]: sympy.Rational(v) for k, v in point.items()}
    exact = sympy.diff(build(text), X, order)
    given = sympy.sympify(answer, locals=NAMES, rational=True)
    return sympy.simplify((given - exact).xreplace(at))


def _fails_where_it_says(text: str, answer: str, order: int = 1) -> symgrad.AnswerCheck:
    """check_answer fails, and the oracle confirms a nonzero gap at the point it names."""
    check = symgrad.check_answer(text, answer, "x", order=order)
    assert check.status is symgrad.Status.FAIL, check.reason
    assert check.counterexample is not None
    gap = _gap_at(answer, text, check.counterexample["point"], order)
    assert gap != 0
    assert gap.evalf(50, chop=False) != 0
    return check


@pytest.mark.parametrize(
    ("answer", "order", "where", "value"),
    [
        # wrong only beyond |x| = 4 (the old sample range): the oracle's value at the point
        ("2*x + max(x - 5, 0)", 1, "6", "13"),
        ("2*x + Heaviside(x - 9/2)", 1, "5", "11"),
        ("2*x + max(x - 100, 0)", 1, "200", "500"),
        ("2*x + max(-x - 7, 0)", 1, "-8", "-15"),
        ("2*x + max(x**3 - 2000, 0)", 1, "20", "6040"),
        ("6*x + max(x - 5, 0)", 2, "6", "37"),
    ],
)
def test_an_answer_wrong_only_far_out_fails_at_a_simple_point(
    answer: str, order: int, where: str, value: str
) -> None:
    """Breakpoints are sampled on both sides, and the counterexample is a round number."""
    text = "x**2" if order == 1 else "x**3"
    check = _fails_where_it_says(text, answer, order)
    assert check.counterexample is not None
    assert check.counterexample["point"] == {"x": where}
    assert check.counterexample["answer"] == value
    assert sympy.Rational(value) == build(answer).subs(X, sympy.Rational(where))


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("x**3", "3*x**2 + 1e-30"),  # decimals are exact: the gap is exactly 10**-30
        ("x**3", "3*x**2*(1 + 1e-21)"),
        ("x**3", "3*x**2 - 10**-300"),
        ("sin(x)", "cos(x) + 1e-100"),  # below 20 digits, above 200: the values differ
        ("x**2", "2*x + exp(-10000*x**2)"),  # below 200 digits: its ball excludes 0
        ("x**2", "2*x*(1 + exp(-1000))"),  # the simplified gap 2*x*exp(-1000) is certified
        ("exp(x)", "exp(x) + exp(-x**2 - 5000)"),
    ],
)
def test_an_answer_off_by_a_tiny_exact_amount_fails(text: str, answer: str) -> None:
    """No tolerance decides equality of exact values, and the two shown values differ."""
    check = _fails_where_it_says(text, answer)
    assert check.counterexample is not None
    assert check.counterexample["expected"] != check.counterexample["answer"]
    assert "instead of" in check.reason


def test_a_failing_message_shows_values_that_differ() -> None:
    """3*x**2 + 1e-15 against 3*x**2 at x = 1: exactly 3 + 10**-15 instead of 3, not 3 and 3."""
    check = symgrad.check_answer("x**3", "3*x**2 + 1e-15")
    assert check.counterexample == {
        "point": {"x": "1"},
        "expected": "3",
        "answer": "3000000000000001/1000000000000000",
    }
    cosine = symgrad.check_answer("sin(x)", "cos(x) + 1e-100")
    assert cosine.counterexample is not None
    want, got = (cosine.counterexample[k].split("≈")[-1] for k in ("expected", "answer"))
    assert want.strip() != got.strip()
    ctx = mpmath.MPContext()
    ctx.dps = 250
    assert ctx.mpf(got.strip()) - ctx.mpf(want.strip()) == pytest.approx(1e-100, rel=1e-3)
    far = symgrad.check_answer("x**2", "2*x + 10**(-1000)")  # 200 digits cannot show it
    assert far.counterexample is not None
    assert far.counterexample["point"] == {"x": "1"}
    assert far.counterexample["answer"] == "2.000000000 (it differs by 1.0e-1000)"
    assert sympy.Rational(1, 10**1000) == _gap_at("2*x + 10**(-1000)", "x**2", {"x": "1"})


def test_an_answer_equal_only_at_the_sampled_points_fails(monkeypatch: Any) -> None:
    """A student who knew every sample point, planted a polynomial vanishing at all of them:
    the difference is a nonzero polynomial of degree d, nonzero on d + 1 integers, so it fails."""
    roots = [sympy.Rational(k, 409) for k in (-1248, 308, -756, 4001, 17, -9999)]
    planted = sympy.Mul(*[X - r for r in roots])
    answer = str(2 * X + planted)
    from symgrad.teaching import _steps

    def known(exprs: Any, salt: str, inside: Any, count: int, smooth: Any = ()) -> Any:
        return iter([{X: r} for r in roots])

    monkeypatch.setattr(_steps, "answer_points", known)
    check = _fails_where_it_says("x**2", answer)
    assert check.counterexample is not None
    assert planted.subs(X, sympy.Rational(check.counterexample["point"]["x"])) != 0


def test_the_sample_is_fixed_per_question_wide_and_capped() -> None:
    """Deterministic for one question, different for another; magnitudes from 0.01 to past
    1000 with both signs; at most 12 generic points, then each rational breakpoint (12 at
    most) that is not one of the smooth expressions', then two beside each breakpoint."""
    from symgrad.teaching._rules import answer_points

    exprs = [X**2, 2 * X]
    first = list(answer_points(exprs, "q1", lambda p: True, 12))
    assert first == list(answer_points(exprs, "q1", lambda p: True, 12))
    assert first != list(answer_points(exprs, "q2", lambda p: True, 12))
    sizes = sorted(abs(p[X]) for p in first)
    assert len(first) == 12
    assert sizes[0] < 1
    assert sizes[-1] > 1000
    assert any(p[X] < 0 for p in first)
    assert all(not p[X].is_integer for p in first)
    kinks = sum((sympy.Max(X - k, 0) for k in range(1, 30)), sympy.S.Zero)
    many = list(answer_points([X**2, 2 * X + kinks], "q3", lambda p: True, 12))
    assert len(many) == 12 + 12 + 2 * 12
    on = {p[X] for p in many[12:24]}  # exactly on 12 of the breakpoints 1 ... 29
    assert len(on) == 12
    assert on <= set(range(1, 30))
    beside = [p[X] for p in many[24:]]
    kinks_seen = {round(v) for v in beside}
    assert kinks_seen == on  # the same 12 of the 29 breakpoints, each on both sides, close by
    for k in kinks_seen:  # at (1 + k)/p with p a prime between 1,000 and 2,000
        near = sympy.Rational(1 + k, 1000)
        assert any(k - near < v < k for v in beside)
        assert any(k < v < k + near for v in beside)
    # breakpoints of the function (where it may have no derivative) are never sampled on
    kinked = list(answer_points([X**2, 2 * X + kinks], "q3", lambda p: True, 12, [kinks]))
    assert kinked == many[:12] + many[24:]


def test_an_unproved_pass_says_what_it_rests_on() -> None:
    """Where simplify cannot decide, a pass names its points and digits, and says it is not a
    proof; the oracle confirms the two are equal where x > 0 (and the function is real)."""
    check = symgrad.check_answer("abs(log(x))", "sign(log(x))/x")
    assert check.status is symgrad.Status.PASS
    count = re.search(r"equal at (\d+) exact rational points \((.*)\), not proved", check.reason)
    assert count is not None
    assert int(count.group(1)) >= 12
    assert count.group(2) in ("exactly", "to 200 digits") or "200 digits" in count.group(2)
    for x in (sympy.Rational(1, 3), sympy.Rational(7, 2)):
        gap = sympy.sign(sympy.log(x)) / x - sympy.diff(sympy.Abs(sympy.log(X)), X).subs(X, x)
        assert sympy.simplify(gap) == 0


def test_a_partial_derivative_wrong_far_out_fails() -> None:
    """Several variables: the breakpoint in x is sampled with y at a generic value."""
    right = symgrad.check_answer("x**2*y", "2*x*y", "x")
    assert right.status is symgrad.Status.PASS
    wrong = symgrad.check_answer("x**2*y", "2*x*y + max(x - 7, 0)", "x")
    assert wrong.status is symgrad.Status.FAIL
    assert wrong.counterexample is not None
    point = {NAMES[k]: sympy.Rational(v) for k, v in wrong.counterexample["point"].items()}
    assert point[X] > 7  # the oracle: max(x - 7, 0) is nonzero exactly there


# Equivalent forms of correct derivatives (each pair checked by the oracle in the test): trig,
# exponential and logarithm identities valid wherever the function is real.
EQUIVALENT: list[tuple[str, str]] = [
    ("sin(x)**2", "sin(2*x)"),
    ("sin(x)**2", "2*sin(x)*cos(x)"),
    ("tan(x)", "1 + tan(x)**2"),
    ("tan(x)", "1/cos(x)**2"),
    ("cos(x)**2", "-sin(2*x)"),
    ("exp(2*x + 1)", "2*exp(1)*exp(x)**2"),
    ("log(x**2 + 1)", "2*x/(x**2 + 1)"),
    ("log(x**2)", "2/x"),  # valid for x < 0 too: d/dx log(x**2) = 2/x
    ("x*log(x)", "log(x) + 1"),
    ("sqrt(x**2 + 1)", "x*(x**2 + 1)**(-1/2)"),
    ("atan(x)", "cos(atan(x))**2"),
    ("sinh(x)**2", "sinh(2*x)"),
    ("(x + 1)**3", "3*x**2 + 6*x + 3"),
    ("x/(x + 1)", "1/(x + 1) - x/(x + 1)**2"),
    ("abs(x)", "x/abs(x)"),
    ("max(x, 0)", "Heaviside(x)"),
]


def _nonzero_polynomial(roots: list[Any], scale: Any) -> Any:
    """A polynomial vanishing at ``roots``, nonzero at max(roots) + 1 (the oracle says so)."""
    poly = scale * sympy.Mul(*[X - r for r in roots])
    assert poly.subs(X, max(roots) + 1) != 0
    return poly


@st.composite
def _planted(draw: Any) -> tuple[str, str]:
    """(expression, a wrong derivative): an error a crafted answer can hide from few points."""
    text = draw(st.sampled_from([t[0] for t in TEXTBOOK[:20]] + ["x**2", "exp(x)*sin(x)"]))
    exact = sympy.diff(build(text), X)
    kind = draw(st.sampled_from(["polynomial", "tiny", "far", "jump"]))
    if kind == "polynomial":
        nums = draw(st.lists(st.integers(-4000, 4000), min_size=1, max_size=5, unique=True))
        den = draw(st.sampled_from([1, 7, 401, 409, 419, 1009]))
        planted = _nonzero_polynomial([sympy.Rational(n, den) for n in nums], 1)
    elif kind == "tiny":  # written as a power: the parser refuses literals below 1e-308
        power = draw(st.integers(20, 400))
        factor = draw(st.sampled_from(["1", "-3", "7*x", "x**2"]))
        return text, f"{exact} + {factor}*10**(-{power})"
    elif kind == "far":
        edge = draw(st.integers(5, 1000))
        side = draw(st.sampled_from([1, -1]))
        planted = sympy.Max(side * X - edge, 0)
        beyond = side * (edge + 1)
    else:
        edge = sympy.Rational(draw(st.integers(5, 5000)), draw(st.sampled_from([1, 2, 3])))
        planted = sympy.Heaviside(X - edge)
        beyond = edge + 1
    if kind in ("far", "jump"):  # wrong only where the function is real: asin(x) has no x = 6
        value = build(text).subs(X, beyond).evalf(30)
        assume(value.is_real and value.is_finite)
    return text, str(exact + planted)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(case=_planted())
def test_planted_wrong_answers_never_pass(case: tuple[str, str]) -> None:
    """Polynomials vanishing at chosen points, tiny exact constants, terms only beyond
    |x| = 5 and far jumps: every one fails, where the oracle sees a nonzero gap."""
    text, answer = case
    assert sympy.simplify(build(answer) - sympy.diff(build(text), X)) != 0
    _fails_where_it_says(text, answer)


@pytest.mark.parametrize(("text", "answer"), EQUIVALENT, ids=[p[1] for p in EQUIVALENT])
def test_equivalent_right_answers_pass(text: str, answer: str) -> None:
    """Correct derivatives in other forms pass (proved, or equal at the sample points)."""
    exact = sympy.diff(build(text), X)
    for x in (sympy.Rational(-7, 3), sympy.Rational(1, 5), sympy.Rational(11, 2)):
        if not build(text).subs(X, x).is_real:
            continue
        gap = (build(answer) - exact).subs(X, x)
        assert abs(gap.evalf(60)) < sympy.Float(10) ** -50  # the oracle: the same values
    check = symgrad.check_answer(text, answer)
    assert check.status is symgrad.Status.PASS, check.reason


@settings(max_examples=10, deadline=None, derandomize=True)
@given(
    a=st.integers(-9, 9).filter(bool),
    b=st.fractions(min_value=-5, max_value=5, max_denominator=7).filter(bool),
    form=st.sampled_from(["sin", "exp", "log"]),
)
def test_random_right_answers_in_other_forms_pass(a: int, b: Any, form: str) -> None:
    """a*sin(b*x)**2 -> a*b*sin(2*b*x), a*exp(b*x + 1) -> a*b*e*exp(b*x), a*log(b**2*x**2) ->
    2*a/x: identities, with the oracle's simplify confirming each before symgrad sees it."""
    c = sympy.Rational(b.numerator, b.denominator)
    text, answer = {
        "sin": (f"{a}*sin(({c})*x)**2", f"{a * c}*sin({2 * c}*x)"),
        "exp": (f"{a}*exp(({c})*x + 1)", f"{a * c}*E*exp(({c})*x)"),
        "log": (f"{a}*log(({c**2})*x**2)", f"{2 * a}/x"),
    }[form]
    assert sympy.simplify(build(answer) - sympy.diff(build(text), X)) == 0
    check = symgrad.check_answer(text, answer)
    assert check.status is symgrad.Status.PASS, check.reason


@pytest.mark.slow
@settings(max_examples=150, deadline=None, derandomize=True)
@given(case=_planted())
def test_planted_wrong_answers_never_pass_many(case: tuple[str, str]) -> None:
    """The same red team at a larger count."""
    test_planted_wrong_answers_never_pass.hypothesis.inner_test(case)  # type: ignore[attr-defined]


def test_a_failure_among_huge_values_is_shown_in_digits() -> None:
    """2**x past x = 1965 has thousands of digits (Python refuses to print such integers):
    the values are shown to 10 digits with the certified difference, 1."""
    check = _fails_where_it_says("2**x", "2**x*log(2) + Heaviside(x - 1965)")
    assert check.counterexample is not None
    assert check.counterexample["answer"].endswith("(it differs by 1.0)")
    assert sympy.Rational(check.counterexample["point"]["x"]) > 1965  # the oracle's jump


def test_points_too_costly_to_evaluate_are_skipped() -> None:
    """sin(exp(exp(x))) at x = 100 needs pi to 10**43 digits: refused before SymPy evaluates
    it; (p/q)**(p/q) for a 12-digit p is never worked out exactly.  The verdicts still hold."""
    from symgrad.teaching import value_at

    assert value_at(sympy.sin(sympy.exp(sympy.exp(X))), {X: sympy.Integer(100)}) is None
    near = value_at(sympy.sin(sympy.exp(sympy.exp(X))), {X: sympy.Integer(1)})
    assert near is not None
    assert abs(near - sympy.sin(sympy.exp(sympy.E)).evalf(40)) < 1e-25
    _fails_where_it_says("sin(exp(exp(x)))", "0")
    positive = sympy.Symbol("t", positive=True)  # the oracle: exp(t*log(t)) = t**t for t > 0
    assert sympy.simplify(sympy.exp(positive * sympy.log(positive)) - positive**positive) == 0
    check = symgrad.check_answer("x**x", "exp(x*log(x))*(log(x) + 1)")
    assert check.status is symgrad.Status.PASS


# ------------------------------------------------ work capped before it starts (expansion)
def _refuse(name: str, monkeypatch: pytest.MonkeyPatch, limit: int = 0) -> list[Any]:
    """Replace sympy.<name> by a wrapper that records its argument and refuses any whose
    multiplied-out form (counted by the oracle, not by symgrad) would exceed ``limit`` terms."""
    real, seen = getattr(sympy, name), []

    def wrapper(expr: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(expr)
        if limit and _oracle_terms(expr) > limit:
            msg = f"sympy.{name} called on an expression {limit} terms would not hold"
            raise AssertionError(msg)
        return real(expr, *args, **kwargs)

    monkeypatch.setattr(sympy, name, wrapper)
    return seen


def _oracle_terms(expr: Any) -> int:
    """Terms of the largest integer power of a sum in ``expr``: C(n + t - 1, t - 1)."""
    powers = [p for p in sympy.sympify(expr).atoms(sympy.Pow) if p.exp.is_Integer and p.base.is_Add]
    return max(
        (sympy.binomial(abs(p.exp) + len(p.base.args) - 1, len(p.base.args) - 1) for p in powers),
        default=1,
    )


@pytest.mark.parametrize(
    ("text", "wrt", "value"),
    [
        ("(x + y + z + 1)**60", "x", 60 * 4**59),  # d/dx at (1, 1, 1): 60*(1 + 1 + 1 + 1)**59
        ("(x + y + 1)**300", "x", 300 * 3**299),
        ("(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9)**20", "x0", 20 * 10**19),
    ],
)
def test_a_huge_power_is_never_multiplied_out(
    text: str, wrt: str, value: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("cancel", "together", "expand", "simplify", "factor"):
        _refuse(name, monkeypatch, limit=5_000)
    got = symgrad.check_answer(text, "1", wrt)
    assert got.status == "fail"
    assert got.counterexample is not None
    shown = got.counterexample["expected"]
    assert shown == str(value) or abs(sympy.Rational(shown) / value - 1) < sympy.Rational(1, 10**9)
    assert symgrad.steps(text, wrt).status in {"pass", "inconclusive"}


def test_a_wrong_answer_with_a_huge_power_is_diagnosed_without_expanding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _refuse("expand", monkeypatch, limit=5_000)
    _refuse("together", monkeypatch, limit=5_000)
    got = symgrad.check_answer("1/x", "(x + y + z + 1)**100/x**2", "x")
    assert got.status == "fail"
    assert got.counterexample is not None
    assert got.counterexample["expected"] == "-1"  # -1/x**2 at x = 1


def test_simplify_is_not_tried_on_huge_integers(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _refuse("simplify", monkeypatch)
    # d/dx tan(10**200*x) = 10**200*sec(10**200*x)**2: right, yet not proved symbolically
    right = symgrad.check_answer("tan(10**200*x)", "10**200/cos(10**200*x)**2")
    assert right.status == "pass"
    assert "not proved symbolically" in right.reason
    assert "simplify was not tried" in right.reason
    wrong = symgrad.check_answer("besselj(1000, x)", "1")  # never a pass: J_1000' is not 1
    assert wrong.status in {"fail", "inconclusive"}
    assert seen == []


# ------------------------------------ an answer that is not real where the derivative is real
@pytest.mark.parametrize(
    ("answer", "value"),
    [("2*x*abs(sqrt(x))/sqrt(x)", "2*I"), ("2*x*sqrt(x)/abs(sqrt(x))", "-2*I")],
)
def test_an_answer_not_real_where_the_derivative_is_fails(answer: str, value: str) -> None:
    # at x = -1: sqrt(-1) = i, |i| = 1, so 2*(-1)*1/i = 2i and 2*(-1)*i/1 = -2i; (x**2)' = -2
    got = symgrad.check_answer("x**2", answer)
    assert got.status == "fail"
    assert got.counterexample == {"point": {"x": "-1"}, "expected": "-2", "answer": value}
    assert "at x = -1" in got.reason


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("sqrt(x)", "1/(2*sqrt(x))"),  # real only for x > 0, as f' is
        ("log(x)", "1/x"),
        ("asin(x)", "1/sqrt(1 - x**2)"),
        ("x*abs(x)", "2*sqrt(x**2)"),  # real everywhere
        ("sqrt(x)*sqrt(x)", "sqrt(x)/sqrt(x)"),
    ],
)
def test_right_answers_on_a_half_line_still_pass(text: str, answer: str) -> None:
    assert oracle_equal(build(answer), text)
    assert symgrad.check_answer(text, answer).status == "pass"


@settings(max_examples=10, deadline=None, derandomize=True)
@given(k=st.integers(1, 6), c=st.integers(1, 9))
def test_a_planted_imaginary_branch_never_passes(k: int, c: int) -> None:
    """c*x**k has derivative c*k*x**(k - 1), real for every x; the planted answer is that
    times |sqrt(x)|/sqrt(x), i.e. times -i for x < 0: never the derivative there."""
    answer = f"{c * k}*x**{k - 1}*abs(sqrt(x))/sqrt(x)"
    assert symgrad.check_answer(f"{c}*x**{k}", answer).status == "fail"


# ----------------------------------------- an answer wrong on its breakpoint, and only there
@pytest.mark.parametrize(
    ("text", "answer", "point", "want", "got"),
    [
        ("x**2", "2*x + 1 - sign(x)**2", "0", "0", "1"),  # sign(0) = 0: the answer is 1 at 0
        ("x**2", "2*x + 1 - sign(x - 1/3)**2", "1/3", "2/3", "5/3"),
        ("x**3", "3*x**2 + 1 - sign(4*x**2 - 1)**2", "1/2", "3/4", "7/4"),
    ],
)
def test_an_answer_wrong_only_on_its_breakpoint_fails(
    text: str, answer: str, point: str, want: str, got: str
) -> None:
    result = symgrad.check_answer(text, answer)
    assert result.status == "fail"
    assert result.counterexample == {"point": {"x": point}, "expected": want, "answer": got}


def test_an_answer_wrong_on_its_breakpoint_beside_cos_fails() -> None:
    result = symgrad.check_answer("sin(x)", "cos(x) + 1 - sign(x - 1/3)**2")
    assert result.status == "fail"
    assert result.counterexample is not None
    assert result.counterexample["point"] == {"x": "1/3"}
    ctx = mpmath.MPContext()
    ctx.dps = 50
    shown = result.counterexample["answer"].split("≈ ")[1]
    assert abs(ctx.mpf(shown) - (ctx.cos(ctx.mpf(1) / 3) + 1)) < 1e-9


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("abs(x)", "2*Heaviside(x) - 1"),  # at 0 the function has no derivative: any value
        ("abs(x)", "Heaviside(x) - Heaviside(-x)"),
        ("Max(x, 0)", "(1 + sign(x))/2"),
        ("x**2", "2*x*sign(x)**2"),  # 0 at x = 0, as 2*x is
    ],
)
def test_answers_right_wherever_there_is_a_derivative_pass(text: str, answer: str) -> None:
    assert symgrad.check_answer(text, answer).status == "pass"


@settings(max_examples=10, deadline=None, derandomize=True)
@given(
    k=st.integers(1, 5),
    c=st.integers(-3, 3).filter(bool),
    r=st.fractions(min_value=-9, max_value=9, max_denominator=50),
)
def test_a_planted_one_point_error_fails_and_a_vanishing_one_passes(k: int, c: int, r: Any) -> None:
    """c*(1 - sign(x - r)**2) is c at x = r and 0 elsewhere: added to (x**k)' it is wrong at r
    alone, which is then the counterexample; (x - r)*(1 - sign(x - r)**2) is 0 everywhere."""
    right = f"{k}*x**{k - 1}"
    arm = f"(x - ({r}))"
    wrong = symgrad.check_answer(f"x**{k}", f"{right} + {c}*(1 - sign{arm}**2)")
    assert wrong.status == "fail"
    assert wrong.counterexample is not None
    assert sympy.Rational(wrong.counterexample["point"]["x"]) == sympy.Rational(str(r))
    vanishing = symgrad.check_answer(f"x**{k}", f"{right} + {arm}*(1 - sign{arm}**2)")
    assert vanishing.status == "pass"


# ------------------------------------- a sampled pass needs every piece of the difference
def _planted_gap(answer: str, text: str, point: dict[str, str]) -> Any:
    """The oracle: answer - d/dx text at ``point`` (coordinates such as '-sqrt(2)' or
    'CRootOf(x**5 - x - 1, 0)' read by SymPy from this trusted test), exactly."""
    at = {NAMES[k]: sympy.sympify(v) for k, v in point.items()}
    gap = (build(answer) - sympy.diff(build(text), X)).xreplace(at)
    return sympy.nsimplify(gap) if gap.is_number and not gap.free_symbols else gap


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("x**2", "2*x + Max(sqrt(x) - 1001, 0)"),  # wrong beyond x = 1001**2
        ("x**2", "2*x + Heaviside(log(x) - 14)"),  # beyond exp(14)
        ("x**2", "2*x + Heaviside(log(x) - 14.5)"),  # beyond exp(29/2), a float read exactly
        ("x**2", "2*x + Max(x**9 - 10**60, 0)"),  # beyond 10**(60/9), a degree-9 root
        ("x**2", "2*x + Max(1/10**6 - sin(x - 1/3)**2, 0)"),  # on tiny intervals, periodically
        ("x**2", "2*x + 1 - sign(x**2 - 2)**2"),  # at ±sqrt(2) only
        ("x**2", "2*x + 1 - sign(x**5 - x - 1)**2"),  # at one root of a quintic only
        ("x**2", "2*x + 1 - sign(x - pi)**2"),  # at pi only
        ("x**2", "2*x + Max(0, Min(x - 10**30, 10**30 + 1/10**20 - x))"),  # a tiny far piece
        ("x**3", "3*x**2 + Max(0, (7 - x**2)*(x**2 - 5))"),  # between sqrt(5) and sqrt(7)
        ("x**2", "2*x + atan(1/(10**7 - x)) + atan(10**7 - x) - pi/2"),  # beyond a pole
        ("sin(x)", "cos(x) + 1 - sign(cos(x))**2"),  # at pi/2 + k*pi only
        ("x**2", "2*x + Heaviside(abs(x - 5) - 10**7)"),  # beyond |x - 5| = 10**7
        ("x*abs(x)", "2*abs(x) + 1 - sign(x)**2"),  # at 0, where f has a kink yet f'(0) = 0
        ("abs(sin(x))*sin(x)", "2*abs(sin(x))*cos(x) + 1 - sign(sin(x))**2"),  # at k*pi
    ],
)
def test_an_answer_wrong_on_a_piece_the_sample_misses_fails(text: str, answer: str) -> None:
    """Each answer agrees with the derivative on a whole interval that holds every generic
    sample point; it is wrong on a piece or at a breakpoint that only located breakpoints
    reach.  The oracle confirms a nonzero gap exactly at the point the failure names."""
    check = symgrad.check_answer(text, answer, "x")
    assert check.status is symgrad.Status.FAIL, check.reason
    assert check.counterexample is not None
    gap = _planted_gap(answer, text, check.counterexample["point"])
    assert gap.is_number
    assert gap.evalf(60) != 0


@pytest.mark.parametrize(
    ("text", "answer", "atom", "why"),
    [
        ("x*y", "y + Max(x*sin(y) - 10**13, 0)", "Max(0, x*sin(y) - 10000000000000)", "x and y"),
        ("x*y*z", "y*z + Max(x*y*z - 10**25, 0)", "Max(0, x*y*z - 10", "z together"),
        ("x**2", "2*x + x*(Heaviside(sin(x)) + Heaviside(-sin(x)) - 1)", "sin(x)", "not a polyn"),
        ("Max(x**25, 3)", "25*x**24*(1 + sign(x**25 - 3))/2", "x**25 - 3", "degree up to 25"),
    ],
)
def test_an_answer_whose_breakpoints_cannot_be_located_is_inconclusive(
    text: str, answer: str, atom: str, why: str
) -> None:
    """Where a breakpoint cannot be located the sample is no evidence on the pieces it may
    miss: never a pass; the reason names the atom and why (the oracle: the answers in several
    variables are wrong far out, at x = 2e13, y = pi/2 and at x = y = z = 1e9)."""
    assert max(2e13 * sympy.sin(sympy.pi / 2) - 1e13, 0) > 0
    assert max(1e9 * 1e9 * 1e9 - 1e25, 0) > 0
    check = symgrad.check_answer(text, answer, "x")
    assert check.status is symgrad.Status.INCONCLUSIVE, check.reason
    assert atom in check.reason
    assert why in check.reason
    assert "cannot reach every piece" in check.reason


@pytest.mark.parametrize(
    "planted",
    [
        "Max(x*y - 10**13, 0)",  # beyond the hyperbola x*y = 10**13
        "Max(x - y - 1e7, 0)",  # beyond the line x = y + 10**7
        "1 - sign(x*y - 10**13)**2",  # on the hyperbola only
        "Max(0, 1 - (x - 10**4)**2 - (y - 10**4)**2)",  # inside a far unit disc
        "1 - sign(x**2 + (y - 3)**2)**2",  # at the one point (0, 3)
    ],
)
def test_an_answer_wrong_across_curves_in_two_variables_fails(planted: str) -> None:
    """Breakpoints where x and y switch together are crossed by lines y = c through every cell
    of the curves: an answer wrong on a far region, on a curve or at one point fails, at a
    point where the oracle (SymPy evaluating the planted term exactly) sees it nonzero."""
    check = symgrad.check_answer("x*y", f"y + {planted}", "x")
    assert check.status is symgrad.Status.FAIL, check.reason
    assert check.counterexample is not None
    at = {NAMES[k]: sympy.Rational(v) for k, v in check.counterexample["point"].items()}
    assert build(planted).xreplace(at) != 0


@pytest.mark.parametrize(
    "identity",
    [
        "Heaviside(x**2 + y**2 - 4) + Heaviside(4 - x**2 - y**2) - 1",
        "Max(x*y, 1) + Min(x*y, 1) - x*y - 1",
        "log((x*y)**2)/2 - log(abs(x*y))",
    ],
)
def test_a_right_answer_with_curves_in_two_variables_passes(identity: str) -> None:
    """A term that is 0 wherever it is defined (the oracle: at exact points on both sides of
    its curves and on them) keeps a right answer right: a pass, with every cell sampled."""
    for at in ((1, 1), (3, -5), (-7, 1), (-2, -2), (sympy.Rational(1, 3), 3), (10, 10**4)):
        assert sympy.simplify(build(identity).xreplace({X: at[0], Y: at[1]})) == 0
    check = symgrad.check_answer("x*y", f"y + {identity}", "x")
    assert check.status is symgrad.Status.PASS, check.reason
    assert "every cell between the curves" in check.reason


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("abs(x)", "x/abs(x)"),
        ("abs(log(x))", "sign(log(x))/x"),  # the breakpoint x = 1 by inverting log
        ("asin(sin(x))", "sign(cos(x))"),  # breakpoints pi/2 + k*pi, located on one period
        ("abs(x**2 - 2)", "2*x*(x**2 - 2)/abs(x**2 - 2)"),  # irrational breakpoints
        ("Max(x**3, 8)", "3*x**2*(1 + sign(x**3 - 8))/2"),  # at x = 2 there is no derivative
        ("Max(x, 0)", "(x + abs(x))/(2*x)"),
        ("x*y", "y*(Max(x, 1) + Min(x, 1) - 1)/x"),  # pieces in x, y at a generic value
        ("Max(x, 0)**2", "2*Max(x, 0) + 0*x"),  # at 0 both one-sided limits of f' are 0
        ("Max(x, 0)**2", "x + abs(x)"),  # the one-sided limits agree at 0, and so does it
    ],
)
def test_right_answers_with_located_breakpoints_pass(text: str, answer: str) -> None:
    """Right answers written with pieces still pass, on every piece; the oracle: SymPy's
    derivative equals the answer at exact points on each side of every breakpoint."""
    exact = sympy.diff(build(text), X)
    for v in ("-7/3", "1/5", "3/2", "5/2", "31/3"):
        at = {X: sympy.Rational(v), Y: sympy.Rational(7, 3)}
        if exact.xreplace(at).is_extended_real:  # abs(log(x))' is real for x > 0 only
            assert sympy.simplify((build(answer) - exact).xreplace(at)) == 0
    check = symgrad.check_answer(text, answer, "x")
    assert check.status is symgrad.Status.PASS, check.reason
    assert "pieces between the located breakpoints" in check.reason


def test_breakpoints_over_the_caps_are_refused_before_the_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A degree above the cap is read from the tree (no polynomial is built, no root is
    isolated); the summed degree of the factors is counted before any root is isolated."""
    calls: list[str] = []
    for name in ("intervals", "factor_list"):
        real = getattr(sympy, name)

        def counted(*args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            calls.append(_name)
            return _real(*args, **kw)

        monkeypatch.setattr(sympy, name, counted)
    factor_list = sympy.Poly.factor_list

    def counted_method(self: Any) -> Any:
        calls.append("Poly.factor_list")
        return factor_list(self)

    monkeypatch.setattr(sympy.Poly, "factor_list", counted_method)
    high = symgrad.check_answer("Max(x**25, 3)", "25*x**24*(1 + sign(x**25 - 3))/2")
    assert high.status is symgrad.Status.INCONCLUSIVE
    assert calls == []
    # five right terms H(u) + H(-u) - 1 with u of degree 20: 100 roots in all, over the cap
    terms = (f"Heaviside(x**20 - {k}) + Heaviside({k} - x**20) - 1" for k in (2, 3, 5, 7, 11))
    wide = symgrad.check_answer("x**2", "2*x + " + " + ".join(terms))
    assert wide.status is symgrad.Status.INCONCLUSIVE
    assert "degree 100 in all" in wide.reason
    assert "intervals" not in calls
    located = symgrad.check_answer("x**2", "2*x + 1 - sign(x**2 - 2)**2")
    assert located.status is symgrad.Status.FAIL
    assert "Poly.factor_list" in calls  # the counters do count
    assert "intervals" in calls


_FAR = st.sampled_from(["1", "7", "10**6 + 1", "10**9", "10**25"])
_WIDTH = st.sampled_from(["1/10**12", "1/3", "5", "10**8"])
_INTERVALS: dict[str, Any] = {
    "k": st.integers(1, 4),
    "c": st.integers(-3, 3).filter(bool),
    "far": _FAR,
    "width": _WIDTH,
    "side": st.sampled_from([1, -1]),
}


@settings(max_examples=8, deadline=None, derandomize=True)
@given(**_INTERVALS)
def test_a_planted_error_on_a_random_interval_never_passes(
    k: int, c: int, far: str, width: str, side: int
) -> None:
    """c*max(0, min(x - a, b - x)) is nonzero exactly on (a, b): an interval anywhere (far
    out, tiny, on either side).  Never a pass; a failure names a point where the oracle
    (SymPy evaluating the known planted term exactly) sees it nonzero."""
    a = f"({side}*({far}) + 1/3)"
    planted = f"{c}*Max(0, Min(x - {a}, {a} + {width} - x))"
    check = symgrad.check_answer(f"x**{k}", f"{k}*x**{k - 1} + {planted}")
    assert check.status is not symgrad.Status.PASS, check.reason
    if check.status is symgrad.Status.FAIL:
        assert check.counterexample is not None
        point = sympy.sympify(check.counterexample["point"]["x"])
        assert build(planted).xreplace({X: point}) != 0


@settings(max_examples=8, deadline=None, derandomize=True)
@given(
    m0=st.integers(1, 30),
    gap=st.integers(1, 30),
    c=st.integers(-3, 3).filter(bool),
    scale=st.sampled_from([1, 10**4, 10**12]),
)
def test_a_planted_error_between_irrational_breakpoints_never_passes(
    m0: int, gap: int, c: int, scale: int
) -> None:
    """c*max(0, (m1 - x**2)*(x**2 - m0)) is nonzero exactly where sqrt(m0) < |x| < sqrt(m1)
    (irrational ends unless square); the oracle evaluates it exactly at the named point."""
    m1 = m0 + gap
    planted = f"{c}*Max(0, ({m1 * scale} - x**2)*(x**2 - {m0 * scale}))"
    check = symgrad.check_answer("x**2", f"2*x + {planted}")
    assert check.status is symgrad.Status.FAIL, check.reason
    assert check.counterexample is not None
    point = sympy.sympify(check.counterexample["point"]["x"])
    assert build(planted).xreplace({X: point}) != 0


_IDENTITIES = [
    "Max({u}, {v}) + Min({u}, {v}) - {u} - {v}",
    "abs({u})**2 - {u}**2",
    "sign({u})*abs({u}) - {u}",
    "Heaviside({u}) + Heaviside(-{u}) - 1",
    "Max({u}, {v}) - ({u} + {v} + abs({u} - {v}))/2",
]


_REWRITES: dict[str, Any] = {
    "identity": st.sampled_from(_IDENTITIES),
    "p": st.integers(-9, 9),
    "q": st.integers(1, 9),
    "far": st.sampled_from([1, 10**7, 10**20]),
    "k": st.integers(1, 3),
}


@settings(max_examples=8, deadline=None, derandomize=True)
@given(**_REWRITES)
def test_a_right_answer_rewritten_through_a_piecewise_identity_never_fails(
    identity: str, p: int, q: int, far: int, k: int
) -> None:
    """Adding an identity that is 0 everywhere (breakpoints anywhere, far out too) keeps a
    right answer right: never a fail, and a pass (every breakpoint is locatable).  The oracle
    checks the identity at exact rationals, the breakpoints among them."""
    term = identity.format(u=f"(x - {p}/{q})", v=f"({far} - x**{k})")
    points = [sympy.Rational(p, q), sympy.Integer(far) ** sympy.Rational(1, k), -3, 0, 10**25]
    for point in points:
        assert sympy.simplify(build(term).xreplace({X: sympy.nsimplify(point)})) == 0
    check = symgrad.check_answer("x**3", f"3*x**2 + {term}")
    assert check.status is symgrad.Status.PASS, check.reason


@pytest.mark.slow
@settings(max_examples=60, deadline=None, derandomize=True)
@given(**_INTERVALS)
def test_a_planted_error_on_a_random_interval_never_passes_many(
    k: int, c: int, far: str, width: str, side: int
) -> None:
    """The same red team at a larger count."""
    planted = test_a_planted_error_on_a_random_interval_never_passes
    planted.hypothesis.inner_test(k, c, far, width, side)  # type: ignore[attr-defined]


@pytest.mark.slow
@settings(max_examples=60, deadline=None, derandomize=True)
@given(**_REWRITES)
def test_a_right_answer_rewritten_through_a_piecewise_identity_never_fails_many(
    identity: str, p: int, q: int, far: int, k: int
) -> None:
    """The same identities at a larger count."""
    right = test_a_right_answer_rewritten_through_a_piecewise_identity_never_fails
    right.hypothesis.inner_test(identity, p, q, far, k)  # type: ignore[attr-defined]


def test_a_far_breakpoint_whose_numeric_roots_do_not_converge_is_still_judged() -> None:
    """max(x, 10**20 - x**2) + min(x, 10**20 - x**2) is x + 10**20 - x**2 (the oracle checks
    it at exact points on both sides of the breakpoints near ±10**10): a right answer passes."""
    term = "Max(x, 10**20 - x**2) + Min(x, 10**20 - x**2) - x - (10**20 - x**2)"
    for v in (-(10**11), -7, 0, 10**10 - 1, 10**10, 10**11):
        assert build(term).xreplace({X: sympy.Integer(v)}) == 0
    check = symgrad.check_answer("x**3", f"3*x**2 + {term}")
    assert check.status is symgrad.Status.PASS, check.reason


@pytest.mark.parametrize(
    "extra",
    [
        "atan(tan(x/10**7)) - x/10**7",
        "atan(1/(10**7 - x - sin(x)/2)) + atan(10**7 - x - sin(x)/2) - pi/2",
    ],
)
def test_an_answer_wrong_beyond_a_pole_that_cannot_be_located_does_not_pass(extra: str) -> None:
    ctx = mpmath.MPContext()
    ctx.dps = 40  # the oracle: the extra term is -pi at x = 2e7 (beyond the pole near 1.57e7)
    x = ctx.mpf(2) * 10**7
    assert abs(ctx.atan(ctx.tan(x / 10**7)) - x / 10**7 + ctx.pi) < 1e-30
    u = 10**7 - x - ctx.sin(x) / 2
    assert abs(ctx.atan(1 / u) + ctx.atan(u) - ctx.pi / 2 + ctx.pi) < 1e-30
    assert symgrad.check_answer("x**2", f"2*x + {extra}").status is not symgrad.Status.PASS


@pytest.mark.parametrize(
    ("extra", "atom"),
    [
        ("atan(tan(x/10**7)) - x/10**7", "atan(tan(x/10000000))"),
        (
            "atan(1/(10**7 - x - sin(x)/2)) + atan(10**7 - x - sin(x)/2) - pi/2",
            "atan(1/(-x - sin(x)/2 + 10000000))",
        ),
    ],
)
def test_poles_that_cannot_be_located_make_the_verdict_inconclusive_naming_the_atom(
    extra: str, atom: str
) -> None:
    """The same answers: inconclusive, naming the many-valued atom whose branch may change at
    poles that cannot be located (the oracle above: each is wrong by pi beyond them)."""
    check = symgrad.check_answer("x**2", f"2*x + {extra}")
    assert check.status is symgrad.Status.INCONCLUSIVE, check.reason
    assert atom in check.reason
    assert "cannot reach every piece" in check.reason
