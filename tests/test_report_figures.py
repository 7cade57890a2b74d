"""The report's figures: inline SVG drawn by symgrad, the V curve's values, the work they cost.

The V curve's errors are checked against difference quotients computed here by hand (Python
floats for float64, a private 120-digit mpmath context for the high-precision panel) and its
guides against closed forms; work is counted (evaluations of f, modules imported), never timed.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import xml.etree.ElementTree as ET

import mpmath
import pytest

import symgrad
from symgrad.output._vcurve import v_curve, v_curve_chart

QUICK = "1e-1:1e-4:4"  # four convergence steps: the study is not what is tested here
EPS = 2.0**-52
SVG = "{http://www.w3.org/2000/svg}"


def _ctx() -> mpmath.MPContext:
    ctx = mpmath.MPContext()
    ctx.dps = 120
    return ctx


def test_float64_panel_is_the_float64_quotient_against_the_exact_derivative() -> None:
    """forward:1 and central:2 of exp at x = 1 in float64, where truncation dominates (the
    error is far above ε/h, so an ulp of difference in exp cannot move it): log10 |D − e|
    as computed here with math.exp and a 120-digit e."""
    ctx = _ctx()
    steps = [1e-1, 1e-2, 1e-3, 1e-4]
    curve = v_curve("exp(x)", "x=1", "x", ["forward:1", "central:2"], ["x"], step_sizes=steps)
    e = ctx.e
    for h, got in zip(steps, curve.float64["forward:1"], strict=True):
        quotient = (math.exp(1 + h) - math.exp(1)) / h
        assert got == pytest.approx(float(ctx.log10(abs(ctx.mpf(quotient) - e))), abs=1e-6)
    for h, got in zip(steps[:3], curve.float64["central:2"], strict=False):
        quotient = (-0.5 * math.exp(1 - h) + 0.5 * math.exp(1 + h)) / h
        assert got == pytest.approx(float(ctx.log10(abs(ctx.mpf(quotient) - e))), abs=1e-6)


def test_precise_panel_is_the_truncation_error_down_to_tiny_steps() -> None:
    """At 50 digits forward:1 of sin at x = 1/2 has no round-off floor: its error at every
    step, 1e-1 down to 1e-16, is the exact D(h) − cos(1/2) of a 120-digit computation."""
    ctx = _ctx()
    steps = [10.0**-k for k in range(1, 17)]
    curve = v_curve("sin(x)", "x=0.5", "x", ["forward:1", "complex"], ["x"], step_sizes=steps)
    x = ctx.mpf(1) / 2
    for h, got in zip(steps, curve.precise["forward:1"], strict=True):
        hh = ctx.mpf(h)  # the float step, exactly
        error = (ctx.sin(x + hh) - ctx.sin(x)) / hh - ctx.cos(x)
        assert got == pytest.approx(float(ctx.log10(abs(error))), abs=1e-9)
    for h, got in zip(steps, curve.precise["complex"], strict=True):
        hh = ctx.mpf(h)
        error = ctx.im(ctx.sin(ctx.mpc(x, hh))) / hh - ctx.cos(x)
        if abs(error) > abs(ctx.cos(x)) * ctx.mpf(10) ** -49:  # above the 50-digit rounding
            assert got == pytest.approx(float(ctx.log10(abs(error))), abs=1e-6)
        else:
            assert got < math.log10(float(ctx.cos(x))) - 49


def test_guides_are_the_textbook_models() -> None:
    """exp at 0: forward:1 truncation h f''/2 (A = 1/2) and round-off ε|f|Σ|w|/h (B = 2ε);
    central:2 A = |f'''|/6; the complex step A = |f'''|/6 and no round-off (B = 0)."""
    curve = v_curve("exp(x)", "x=0", "x", ["forward:1", "central:2", "complex"], ["x"])
    assert curve.models["forward:1"] == pytest.approx((1, 0.5, 2 * EPS), rel=1e-15)
    assert curve.models["central:2"] == pytest.approx((2, 1 / 6, EPS), rel=1e-15)
    assert curve.models["complex"] == pytest.approx((2, 1 / 6, 0.0), rel=1e-15)


def test_shared_stencil_points_are_evaluated_once() -> None:
    """forward:1, central:2 and central:4 need f at x, x ± h, x ± 2h: five values per step in
    each panel (not 2 + 2 + 4), plus one complex value per step in each panel."""
    steps = [1e-2, 1e-4, 1e-6]
    schemes = ["forward:1", "central:2", "central:4", "complex"]
    curve = v_curve("cos(x)*x", "x=0.3", "x", schemes, ["x"], step_sizes=steps)
    assert curve.evaluations == 2 * (5 + 1) * len(steps)


def test_complex_step_is_left_out_where_f_is_not_analytic() -> None:
    """abs is not real-analytic: the V curve draws the stencils and says why the complex step
    is missing; the rest of the report stands."""
    curve = v_curve("abs(x - 1)", "x=0.5", "x", ["forward:1", "complex"], ["x"])
    assert list(curve.float64) == ["forward:1"]
    r = symgrad.report("abs(x - 1)", "x=0.5", step_sizes=QUICK)
    assert "v_curve" in r.figures
    assert any(n.startswith("V curve: the complex step is left out") for n in r.notes)


def test_v_curve_marks_the_optimal_steps_at_their_pixels() -> None:
    """The dotted line of forward:1's optimal step for exp at 1 stands at log10(2 sqrt(ε)),
    the textbook h* = 2 sqrt(ε |f/f''|), on the stated float64 axis."""
    best = symgrad.teaching.optimal_step_sizes("exp(x)", "x=1")
    curve = v_curve("exp(x)", "x=1", "x", ["forward:1", "central:2", "complex"], ["x"])
    root = ET.fromstring(v_curve_chart(curve, "exp(x)", best))
    panel = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "panel")
    x_lo, x_hi = map(float, panel.get("data-x", "").split())
    area = next(r for r in panel.iter(f"{SVG}rect") if r.get("class") == "plot-area")
    left, width = float(area.get("x", "")), float(area.get("width", ""))
    expected = left + (math.log10(2 * math.sqrt(EPS)) - x_lo) / (x_hi - x_lo) * width
    verticals = [
        float(p.get("points", "").split()[0].split(",")[0])
        for p in panel.iter(f"{SVG}polyline")
        if p.get("stroke-dasharray") == "2 3"
    ]
    assert any(abs(v - expected) < 0.05 for v in verticals), (expected, verticals)
    legend = [t.text for t in root.iter(f"{SVG}text")]
    assert "forward:1: optimal h* ≈ 3.0e-08" in legend


def test_report_figures_are_inline_svg_in_html_and_markdown() -> None:
    """One convergence figure per variable and the V curve, well-formed SVG, in the HTML and
    the Markdown alike; the JSON has no figures and is the same with and without them."""
    r = symgrad.report("x*sin(y)", "x=0.5,y=1", step_sizes=QUICK)
    assert sorted(r.figures) == ["convergence_x", "convergence_y", "v_curve"]
    html, markdown = r.to_html(), r.to_markdown()
    for svg in r.figures.values():
        ET.fromstring(svg)
        assert svg in html
        assert f"\n\n{svg}\n\n" in markdown  # an HTML block: blank lines around, none inside
        assert "\n\n" not in svg
    assert "data:image/png" not in html
    ids = [e.get("id") for svg in r.figures.values() for e in ET.fromstring(svg).iter()]
    named = [i for i in ids if i is not None]
    assert named  # the clip paths of the panels
    assert len(named) == len(set(named))  # one page: an id used twice would clip wrongly
    plain = symgrad.report("x*sin(y)", "x=0.5,y=1", step_sizes=QUICK, plots=False)
    assert plain.figures == {}
    assert "<svg" not in plain.to_html()
    assert json.loads(r.to_json()) == json.loads(plain.to_json())


def test_report_escapes_the_expression_in_its_figures() -> None:
    """Text that reaches a figure is escaped (here an expression string with < & >)."""
    curve = v_curve("x**2", "x=1", "x", ["forward:1"], ["x"], step_sizes=[1e-1, 1e-2])
    svg = v_curve_chart(curve, "x<y & y>z", {"forward:1": 1e-8})
    heading = next(t.text for t in ET.fromstring(svg).iter(f"{SVG}text"))
    assert heading is not None
    assert "x<y & y>z" in heading


def test_report_does_not_import_matplotlib() -> None:
    """The README's report command, run in a fresh interpreter, writes its page without
    importing matplotlib."""
    code = (
        "import sys, tempfile, pathlib\n"
        "from symgrad.cli import main\n"
        "out = pathlib.Path(tempfile.mkdtemp()) / 'report.html'\n"
        "code = main(['report', 'sin(x+y)*exp(-z**2)', '--at', 'x=0.3,y=0.7,z=0.5',\n"
        "             '--output', str(out)])\n"
        "page = out.read_text()\n"
        "print(code, page.count('<svg '), 'matplotlib' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert done.stdout.splitlines()[-1].split() == ["0", "4", "False"]
