"""The study pages' figures (verify_grid, verify_operator, verify_solver): inline SVG drawn by
symgrad, checked against data computed here.

Every figure is parsed with xml.etree (well-formed SVG).  Marker positions are checked against
the axis mapping computed here from the plot area and the ranges the panel states
(``data-x``, ``data-y``), never against the module's own mapping; the plotted errors of the
1-D study are recomputed here with numpy.gradient and the exact derivative, its spacings from
the domain, and the orders drawn beside them from those errors.  Work is counted (modules
imported), never timed.
"""

from __future__ import annotations

import itertools
import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from symgrad import report, verify_grid, verify_operator, verify_solver
from symgrad.output._charts import study_charts
from tests.test_render import _euler, _laplacian_first_order_closure
from tests.test_svg import _mapping as _panel_mapping

SVG = "{http://www.w3.org/2000/svg}"
INK = {"L1": "#0072B2", "L2": "#E69F00", "Linf": "#009E73"}  # Okabe-Ito, as documented
SIZES = (17, 33, 65)

Mapping = Callable[[float, float], tuple[float, float]]


@pytest.fixture(scope="module")
def gradient() -> Any:
    """numpy.gradient (edge_order=1) of sin(3x) + x² on [0, 1]: interior 2, boundary 1."""
    return verify_grid("sin(3*x) + x**2", "x=0:1", sizes=SIZES, scheme="numpy", max_points=65)


@pytest.fixture(scope="module")
def laplacian() -> Any:
    return verify_operator(
        _laplacian_first_order_closure,
        "sin(x + 0.3)*exp(y/2) + x**3*y/5",
        "x=0:1,y=0:1",
        "laplacian",
        sizes=(9, 17, 33),
    )


@pytest.fixture(scope="module")
def euler() -> Any:
    return verify_solver(
        _euler,
        "(sin(t) - cos(t))/2 + exp(-t)",
        operator="D(u, t) + u",
        expect_order=1,
        time="t=0:2",
        time_steps=(16, 32, 64, 128),
    )


# -- reading a figure back --------------------------------------------------------------------


def _panels(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg)  # well-formed, or this raises
    assert root.tag == f"{SVG}svg"
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "panel"]


def _mapping(panel: ET.Element) -> Mapping:
    """(axis unit x, axis unit y) -> pixel, from the panel's stated ranges and plot area."""
    to_pixel: Mapping = _panel_mapping(panel)[0]
    return to_pixel


def _points(e: ET.Element) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in (p.split(",") for p in e.get("points", "").split())]


def _markers(panel: ET.Element, color: str, *, hollow: bool = False) -> list[tuple[float, float]]:
    """Centres of the markers of one colour: circles (L1), squares (L2), up triangles (L∞);
    filled ones, or the hollow (white) ones."""
    out = []
    for e in panel.iter():
        if e.get("stroke") != color or (e.get("fill") == "white") != hollow:
            continue
        if e.tag == f"{SVG}circle":
            out.append((float(e.get("cx", "")), float(e.get("cy", ""))))
        elif e.tag == f"{SVG}polygon":
            corners = _points(e)
            xs, ys = [c[0] for c in corners], [c[1] for c in corners]
            if len(corners) == 4:  # square: its middle
                out.append((sum(xs) / 4, sum(ys) / 4))
            elif len(corners) == 3 and ys[0] < ys[1]:  # apex up: r·1.15 above, r·0.75 below
                r = (max(xs) - min(xs)) / 2.2
                out.append((xs[0], ys[1] - 0.75 * r))
    return out


def _same_points(got: list[tuple[float, float]], want: list[tuple[float, float]]) -> None:
    assert len(got) == len(want), (got, want)
    for p in want:
        assert any(abs(p[0] - q[0]) < 0.02 and abs(p[1] - q[1]) < 0.02 for q in got), (p, got)


def _legend(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text") if t.get("class") is None]


# -- the data, independently ------------------------------------------------------------------


def _gradient_errors(n: int) -> dict[str, dict[str, float]]:
    """numpy.gradient's errors for sin(3x) + x² on n points of [0, 1], by region."""
    x = np.linspace(0.0, 1.0, n)
    error = np.abs(np.gradient(np.sin(3 * x) + x**2, x) - (3 * np.cos(3 * x) + 2 * x))
    out = {}
    for name, e in (("interior", error[1:-1]), ("boundary", error[[0, -1]])):
        out[name] = {"L1": e.mean(), "L2": math.sqrt((e**2).mean()), "Linf": e.max()}
    return out


def test_gradient_errors_are_drawn_where_the_data_put_them(gradient: Any) -> None:
    """Every marker of the error panel at (log10 h, log10 error) of errors computed here (h =
    1/(N − 1)); one colour per norm, both regions, nothing else drawn filled."""
    (svg,) = study_charts(gradient.to_dict(), "t")
    errors_panel, _ = _panels(svg)
    to_pixel = _mapping(errors_panel)
    hand = {n: _gradient_errors(n) for n in SIZES}
    for norm, color in INK.items():
        want = [
            to_pixel(math.log10(1 / (n - 1)), math.log10(hand[n][region][norm]))
            for region in ("interior", "boundary")
            for n in SIZES
        ]
        got = _markers(errors_panel, color)
        _same_points(got, want)
        assert _markers(errors_panel, color, hollow=True) == []  # every level resolved
    for region in ("interior", "boundary"):
        for label in ("L1", "L2", "L∞"):
            assert f"{region} {label}" in _legend(svg)
    ticks = [
        "".join(t.itertext()) for t in errors_panel.iter(f"{SVG}text") if t.get("class") == "tick"
    ]
    assert [t for t in ticks if "N = " in t] == [f"{1 / (n - 1):.3g}N = {n}" for n in SIZES]


def test_orders_are_drawn_at_the_middle_of_each_pair(gradient: Any) -> None:
    """The orders panel: log(E_c/E_f)/log(h_c/h_f) of the errors computed here, at the mean
    of the two levels' log10 h, for every norm and region."""
    (svg,) = study_charts(gradient.to_dict(), "t")
    _, orders_panel = _panels(svg)
    to_pixel = _mapping(orders_panel)
    hand = {n: _gradient_errors(n) for n in SIZES}
    for norm, color in INK.items():
        want = []
        for region in ("interior", "boundary"):
            for a, b in itertools.pairwise(SIZES):
                ha, hb = 1 / (a - 1), 1 / (b - 1)
                order = math.log(hand[a][region][norm] / hand[b][region][norm]) / math.log(ha / hb)
                want.append(to_pixel((math.log10(ha) + math.log10(hb)) / 2, order))
        _same_points(_markers(orders_panel, color), want)


def test_slope_lines_have_the_expected_orders_below_their_regions(gradient: Any) -> None:
    """Two dashed guides: slope 2 (interior) and 1 (boundary) in data units, each at least
    half a decade below every error of its region at the levels it spans."""
    data = gradient.to_dict()
    (svg,) = study_charts(data, "t")
    errors_panel, _ = _panels(svg)
    x_lo, x_hi = map(float, errors_panel.get("data-x", "").split())
    y_lo, y_hi = map(float, errors_panel.get("data-y", "").split())
    to_pixel = _mapping(errors_panel)
    (x0, y0), (x1, y1) = to_pixel(x_lo, y_lo), to_pixel(x_hi, y_hi)
    guides = [
        _points(p)
        for p in errors_panel.iter(f"{SVG}polyline")
        if p.get("stroke-dasharray") == "7 4" and p.get("stroke") == "#404040"
    ]
    assert len(guides) == 2
    slopes = {}
    for line in guides:
        u = [x_lo + (px - x0) / (x1 - x0) * (x_hi - x_lo) for px, _ in line]
        v = [y_lo + (py - y0) / (y1 - y0) * (y_hi - y_lo) for _, py in line]
        slope = (v[-1] - v[0]) / (u[-1] - u[0])
        region = "interior" if abs(slope - 2) < 0.01 else "boundary"
        slopes[region] = slope
        errors = data["components"][0][region]["errors"]
        for ui, vi in zip(u, v, strict=True):
            level = min(range(len(SIZES)), key=lambda i: abs(math.log10(1 / (SIZES[i] - 1)) - ui))
            lowest = min(math.log10(errors[n][level]) for n in INK)
            assert vi <= lowest - 0.5 + 0.01
    assert slopes["interior"] == pytest.approx(2, abs=0.01)
    assert slopes["boundary"] == pytest.approx(1, abs=0.01)
    texts = _legend(svg) + [
        "".join(t.itertext())
        for t in ET.fromstring(svg).iter(f"{SVG}text")
        if t.get("class") == "note"
    ]
    assert "slope 2 (interior, expected)" in texts
    assert "slope 1 (boundary, expected)" in texts


def _floor_study(floors: list[float]) -> dict[str, Any]:
    """A solver study whose last two levels are (or are not) at the rounding floor."""
    errors = {
        "L1": [1e-6, 6.2e-8, 4e-9, 3e-13, 2e-13],
        "L2": [1.2e-6, 7.5e-8, 4.7e-9, 3.5e-13, 2.4e-13],
        "Linf": [2e-6, 1.25e-7, 7.8e-9, 5e-13, 4e-13],
    }
    h = [0.1, 0.05, 0.025, 0.0125, 0.00625]
    orders = {
        n: [math.log(a / b) / math.log(2) for a, b in itertools.pairwise(e)]
        for n, e in errors.items()
    }
    region = {
        "errors": errors,
        "orders_by_norm": orders,
        "expected_order": 4,
        "asymptotic_range": [11, 41],
        "status": "pass",
        "rounding_floor": floors,
    }
    return {
        "status": "pass",
        "solver": "rk4 <&> heat",
        "refine": "space",
        "h": h,
        "sizes": [11, 21, 41, 81, 161],
        "regions": {"interior": region},
    }


@pytest.mark.parametrize(
    ("floors", "unresolved"),
    [
        ([1e-13, 2e-13, 4e-13, 8e-13, 1.6e-12], [3, 4]),  # 5e-13 <= 8e-13, 4e-13 <= 1.6e-12
        ([1e-13, 2e-13, 4e-13, 5e-13, 1e-13], [3]),  # equal to the floor: unresolved
        ([1e-14] * 5, []),  # every level above its floor: nothing hollow
    ],
)
def test_levels_at_the_rounding_floor_are_hollow(
    floors: list[float], unresolved: list[int]
) -> None:
    """A level whose L∞ error is at or below its floor has hollow markers (every norm) at its
    own place, and so has every order of a pair that involves it; the legend says what
    hollow means only when something is."""
    data = _floor_study(floors)
    (svg,) = study_charts(data, "f")
    errors_panel, orders_panel = _panels(svg)
    h, region = data["h"], data["regions"]["interior"]
    pairs = [i for i in range(4) if i in unresolved or i + 1 in unresolved]
    for norm, color in INK.items():
        to_pixel = _mapping(errors_panel)
        want = [(math.log10(h[i]), math.log10(region["errors"][norm][i])) for i in unresolved]
        _same_points(_markers(errors_panel, color, hollow=True), [to_pixel(*w) for w in want])
        to_pixel = _mapping(orders_panel)
        want = [
            ((math.log10(h[i]) + math.log10(h[i + 1])) / 2, region["orders_by_norm"][norm][i])
            for i in pairs
        ]
        got = _markers(orders_panel, color, hollow=True)
        _same_points(got, [to_pixel(*w) for w in want])
    said = "hollow: at or below the rounding floor (unresolved)" in _legend(svg)
    assert said == bool(unresolved)
    assert "rk4 &lt;&amp;&gt; heat" in svg  # the solver's name is text, escaped
    assert "refinement h (largest spacing)" in "".join(ET.fromstring(svg).itertext())


def test_exact_zeros_sit_at_the_floor_and_exact_regions_have_no_slope() -> None:
    """x² + 3x: numpy.gradient is exact inside (every error 0): hollow down triangles a decade
    below the smallest nonzero error, three norms nested, no slope line for the interior."""
    result = verify_grid("x**2 + 3*x", "x=0:1", sizes=SIZES, scheme="numpy", max_points=65)
    data = result.to_dict()
    interior, boundary = data["components"][0]["interior"], data["components"][0]["boundary"]
    assert interior["status"] == "exact"
    assert all(e == 0 for n in INK for e in interior["errors"][n])
    (svg,) = study_charts(data, "z")
    errors_panel, _ = _panels(svg)
    to_pixel = _mapping(errors_panel)
    floor = min(math.log10(e) for n in INK for e in boundary["errors"][n]) - 1
    for color in INK.values():
        triangles = [
            _points(p)
            for p in errors_panel.iter(f"{SVG}polygon")
            if p.get("stroke") == color and p.get("fill") == "white"
        ]
        assert len(triangles) == len(SIZES)
        for corners, n in zip(sorted(triangles), sorted(SIZES, reverse=True), strict=True):
            px, py = to_pixel(math.log10(1 / (n - 1)), floor)
            assert corners[0][0] == pytest.approx(px, abs=0.02)  # apex below, straight under
            assert corners[0][1] > py > corners[1][1]
    notes = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text") if t.get("class") == "note"]
    assert "slope 1 (boundary, expected)" in notes
    assert not any("interior" in (n or "") for n in notes)
    assert "interior L1: exactly 0 (▽, at the floor)" in _legend(svg)


def test_operator_and_solver_figures_name_every_region_and_norm(laplacian: Any, euler: Any) -> None:
    (svg,) = study_charts(laplacian.to_dict(), "o")
    legend = _legend(svg)
    for region in ("interior", "boundary"):
        assert all(f"{region} {n}" in legend for n in ("L1", "L2", "L∞"))
    (svg,) = study_charts(euler.to_dict(), "s")
    assert all(f"solution {n}" in _legend(svg) for n in ("L1", "L2", "L∞"))
    text = "".join(ET.fromstring(svg).itertext())
    assert "steps = 16" in text
    assert "time step dt" in text
    two_d = verify_grid("exp(x)*sin(y)", "x=0:1,y=0:2", sizes=(9, 17, 33), max_points=33)
    charts = study_charts(two_d.to_dict(), "g")
    assert len(charts) == 2  # one per component, ∂/∂x and ∂/∂y
    for svg in charts:
        assert all(f"transverse {n}" in _legend(svg) for n in ("L1", "L2", "L∞"))


def _without_figures(text: str) -> str:
    return re.sub(
        r'(<figure class="chart">)?<svg .*?</svg>(</figure>)?\n*', "", text, flags=re.DOTALL
    )


def test_pages_carry_the_figures_and_the_same_numbers(
    gradient: Any, laplacian: Any, euler: Any
) -> None:
    """HTML and Markdown carry the same SVG (an HTML block in Markdown); with the figures
    taken out the pages are those without figures (every table and number unchanged); the
    JSON is the study's; one page's element ids are unique; no PNG."""
    for result in (gradient, laplacian, euler):
        page, plain = report(result), report(result, plots=False)
        html, markdown = page.to_html(), page.to_markdown()
        figures = re.findall(r"<svg .*?</svg>", html, flags=re.DOTALL)
        assert len(figures) == 1
        for svg in figures:
            ET.fromstring(svg)
            assert f"\n\n{svg}\n\n" in markdown
            assert "\n\n" not in svg
        assert "data:image/png" not in html
        assert _without_figures(html).replace("\n", "") == plain.to_html().replace("\n", "")
        assert _without_figures(markdown).split() == plain.to_markdown().split()
        assert page.to_json() == plain.to_json() == result.to_json()
    two_d = verify_grid("exp(x)*sin(y)", "x=0:1,y=0:2", sizes=(9, 17, 33), max_points=33)
    html = report(two_d).to_html()
    ids = re.findall(r'id="([^"]+)"', html)
    assert ids
    assert len(ids) == len(set(ids))


def test_study_report_does_not_import_matplotlib() -> None:
    """A study's page, built in a fresh interpreter, imports no matplotlib."""
    code = (
        "import sys\n"
        "from symgrad import report, verify_grid\n"
        "r = verify_grid('sin(x)', 'x=0:1', sizes=(17, 33, 65), max_points=65)\n"
        "page = report(r)\n"
        "print(page.to_html().count('<svg '), page.to_markdown().count('<svg '),\n"
        "      'matplotlib' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert done.stdout.split() == ["1", "1", "False"]


def test_space_time_levels_are_labelled_with_both_counts() -> None:
    """Refining space and time together: each level's tick gives its h, N and time steps."""
    data = _floor_study([1e-14] * 5) | {"refine": "space-time", "time_steps": [4, 8, 16, 32, 64]}
    (svg,) = study_charts(data, "st")
    errors_panel, _ = _panels(svg)
    ticks = [
        "".join(t.itertext()) for t in errors_panel.iter(f"{SVG}text") if t.get("class") == "tick"
    ]
    for h, n, m in zip(data["h"], data["sizes"], data["time_steps"], strict=True):
        assert f"{h:.3g}N = {n}steps = {m}" in ticks
