"""The report as the whole workbench: steps, stencils with their error terms, the V curve.

References are independent of symgrad: the leading error constants of the forward and central
differences from their Taylor expansions (h/2·f″, h²/6·f‴, −h⁴/30·f⁽⁵⁾), the textbook optimal
steps 2·sqrt(ε|f/f″|) and (3ε|f/f‴|)^(1/3) with ε = 2⁻⁵² (float64), and ``sympy.diff``.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import pytest
import sympy

import symgrad
from symgrad.output._workbench import workbench_parts

EPS = 2.0**-52  # float64 machine epsilon, the round-off unit of the V curve's model
QUICK = "1e-1:1e-4:4"  # four steps: the convergence study is not what is tested here


@functools.cache
def cubic() -> Any:
    """report of x**3 at x = 1 (f = 1, f'' = 6, f''' = 6), without plots."""
    return symgrad.report("x**3", "x=1", step_sizes=QUICK, plots=False)


def test_report_has_the_workbench_sections_in_lesson_order() -> None:
    """Gradient, steps, stencils, cross-check, convergence, then the float64 V curve."""
    titles = [s.title for s in cubic()._sections()]
    assert titles[:4] == [
        "Symbolic gradient",
        "Steps of d/dx",
        "Stencils and their error terms",
        "Cross-check at the point",
    ]
    assert titles[4] == "Convergence of d/dx"
    assert titles[5].startswith("float64 V curve of d/dx")


def test_report_steps_end_at_sympys_derivative() -> None:
    """The steps' result is d/dx x**3 by sympy.diff; the HTML shows them in MathML."""
    data = cubic().to_dict()
    x = sympy.Symbol("x")
    assert sympy.sympify(data["steps"]["result"]) - sympy.diff(x**3, x) == 0
    assert data["steps"]["status"] == "pass"
    assert "<b>power</b>" in cubic().to_html()
    assert "<math" in cubic().to_html()


@pytest.mark.parametrize(
    ("scheme", "error"),
    [
        ("forward:1", "error = 1/2 h f''(x)"),
        ("central:2", "error = 1/6 h^2 f'''(x)"),
        ("central:4", "error = -1/30 h^4 f^(5)(x)"),
        ("complex", "error = -1/6 h^2 f'''(x)"),
    ],
)
def test_report_stencils_carry_their_taylor_error_terms(scheme: str, error: str) -> None:
    """Each scheme's leading error term, as Taylor expansion gives it, in JSON and HTML."""
    assert error in cubic().to_dict()["stencils"][scheme]
    assert error.replace("'", "&#x27;") in cubic().to_html()


def test_report_optimal_step_sizes_are_the_textbook_ones() -> None:
    """h* = 2 sqrt(eps |f/f''|) (forward), (3 eps |f/f'''|)^(1/3) (central); none for complex."""
    best = cubic().to_dict()["optimal_step_sizes"]
    assert best["forward:1"] == pytest.approx(2 * math.sqrt(EPS * 1 / 6), rel=1e-12)
    assert best["central:2"] == pytest.approx((3 * EPS * 1 / 6) ** (1 / 3), rel=1e-12)
    assert best["complex"] is None
    html = cubic().to_html()
    assert f"forward:1: h* ≈ {2 * math.sqrt(EPS / 6):.1e}" in html
    assert "complex: no round-off minimum" in html


def test_two_variable_report_has_stencils_but_no_steps() -> None:
    """Steps are shown for one-variable expressions only; stencils and the V curve (first
    variable) always."""
    r = symgrad.report("x*y**2", "x=0.5,y=2", step_sizes=QUICK, plots=False)
    titles = [s.title for s in r._sections()]
    assert "Steps of d/dx" not in titles
    assert "steps" not in r.to_dict()
    assert "Stencils and their error terms" in titles
    assert titles[-1].startswith("float64 V curve of d/dx")


def test_report_with_plots_embeds_the_v_curve() -> None:
    """The V curve is an inline SVG figure (drawn by symgrad: no extra) next to the optimal
    steps."""
    r = symgrad.report("exp(x)", "x=1", step_sizes=QUICK)
    page = r.to_html()
    assert "<title>V curve: error against step</title>" in page
    assert page.count("<svg ") == 2  # convergence and the V curve
    assert "data:image/png" not in page


def test_v_curve_left_out_where_the_derivative_is_not_finite() -> None:
    """sqrt(x) at 0: no V curve (f' is infinite), said in a note; steps and stencils stay."""
    parts = workbench_parts("sqrt(x)", "x=0", ["x"], ["forward:1", "complex"], plots=False)
    assert parts.after == ()
    assert len(parts.notes) == 1
    assert parts.notes[0].startswith("V curve left out:")
    assert "x = 0" in parts.notes[0] or "x=0" in parts.notes[0]
    assert "optimal_step_sizes" not in parts.data
    assert [s.title for s in parts.before] == ["Steps of d/dx", "Stencils and their error terms"]


def test_steps_left_out_of_a_report_when_too_large_to_explain() -> None:
    """A 400-term polynomial is over the steps' size cap: a note says so and the report's other
    parts stay (the stencils; the V curve, or a note of its own where its work limit refuses)."""
    big = " + ".join(f"x**{k}" for k in range(1, 401))
    parts = workbench_parts(big, "x=0.5", ["x"], ["forward:1"], plots=False)
    assert parts.notes[0].startswith("steps left out:")
    assert "more than 1000 nodes" in parts.notes[0]
    assert "steps" not in parts.data
    assert [s.title for s in parts.before] == ["Stencils and their error terms"]
    assert ("optimal_step_sizes" in parts.data) != any(n.startswith("V curve") for n in parts.notes)
