"""The report's SVG charts: where points land, ticks, escaping, what is not drawn.

Every figure is parsed with xml.etree (well-formed SVG) and its coordinates are checked
against the axis mapping computed here from the plot area and the axis range the panel
states (``data-x``, ``data-y``), never against the module's own mapping functions.
"""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad.output._charts import convergence_chart
from symgrad.output._svg import Axis, Chart, Panel, decade_label

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # well-formed, or this raises
    assert root.tag == f"{SVG}svg"
    return root


def _panels(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "panel"]


def _mapping(panel: ET.Element) -> Any:
    """(log10 x, log10 y) -> pixel, from the panel's stated ranges and plot area alone."""
    x_lo, x_hi = map(float, panel.get("data-x", "").split())
    y_lo, y_hi = map(float, panel.get("data-y", "").split())
    (area,) = [r for r in panel.iter(f"{SVG}rect") if r.get("class") == "plot-area"]
    left, top = float(area.get("x", "")), float(area.get("y", ""))
    width, height = float(area.get("width", "")), float(area.get("height", ""))

    def to_pixel(u: float, v: float) -> tuple[float, float]:
        return (
            left + (u - x_lo) / (x_hi - x_lo) * width,
            top + (y_hi - v) / (y_hi - y_lo) * height,
        )

    return to_pixel, (left, top, width, height)


def _study(errors: list[Any], steps: list[float] | None = None) -> dict[str, Any]:
    steps = steps or [10.0**-k for k in range(1, len(errors) + 1)]
    return {
        "status": "pass",
        "point": {"x": "1"},
        "dps": 50,
        "schemes": [
            {
                "scheme": "forward:1",
                "expected_order": 1,
                "observed_order": 1.0,
                "status": "pass",
                "steps": steps,
                "errors": errors,
            }
        ],
    }


def test_a_point_lands_where_the_log_axes_put_it() -> None:
    """h = 1e-3, |error| = 1e-6 is a circle at the pixel of (-3, -6) on the stated axes, and
    the axes are the data's range widened by the documented 5 % (x) and 10 % (y)."""
    root = _parse(convergence_chart(_study([1e-4, 1e-5, 1e-6], [0.1, 0.01, 1e-3]), "t"))
    errors_panel = _panels(root)[0]
    assert errors_panel.get("data-x") == f"{-3.1!r} {-0.9!r}"
    to_pixel, _ = _mapping(errors_panel)
    x, y = to_pixel(-3.0, -6.0)
    circles = [
        (float(c.get("cx", "")), float(c.get("cy", ""))) for c in errors_panel.iter(f"{SVG}circle")
    ]
    assert any(abs(cx - x) < 0.01 and abs(cy - y) < 0.01 for cx, cy in circles), (x, y, circles)
    # and the data line runs through it
    line = next(p for p in errors_panel.iter(f"{SVG}polyline") if p.get("stroke") == "#0072B2")
    vertices = [tuple(map(float, v.split(","))) for v in line.get("points", "").split()]
    assert any(abs(px - x) < 0.01 and abs(py - y) < 0.01 for px, py in vertices)


def test_decade_ticks_are_at_their_decades() -> None:
    """Each x tick label 10^k sits at the pixel of k; a 60-decade axis labels every k-th
    decade, at most eight, and the labels are Unicode powers with a typographic minus."""
    root = _parse(convergence_chart(_study(["1e-3", "1e-30", "1e-62"], [0.1, 1e-6, 1e-12]), "t"))
    panel = _panels(root)[0]
    to_pixel, (left, top, _width, height) = _mapping(panel)
    ticks = [t for t in panel.iter(f"{SVG}text") if t.get("class") == "tick"]
    below = [t for t in ticks if float(t.get("y", "")) > top + height]
    beside = [t for t in ticks if float(t.get("x", "")) < left]
    assert [t.text for t in below] == ["10⁻¹²", "10⁻¹⁰", "10⁻⁸", "10⁻⁶", "10⁻⁴", "10⁻²"]
    for t, k in zip(below, range(-12, 0, 2), strict=True):
        assert abs(float(t.get("x", "")) - to_pixel(k, 0)[0]) < 0.01
    assert 2 <= len(beside) <= 8
    exponents = [int(str(t.text)[2:].replace("⁻", "-").translate(_DIGITS)) for t in beside]
    steps = {b - a for a, b in itertools.pairwise(exponents)}
    assert len(steps) == 1  # evenly spaced decades
    for t, k in zip(beside, exponents, strict=True):
        assert abs(float(t.get("y", "")) - to_pixel(0, k)[1]) < 0.01


_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


def test_decade_labels() -> None:
    assert [decade_label(k) for k in (-16, -1, 0, 7, 400)] == [
        "10⁻¹⁶",
        "10⁻¹",
        "10⁰",
        "10⁷",
        "10⁴⁰⁰",
    ]


def test_a_log_axis_within_a_decade_is_labelled_at_1_2_5_times_it() -> None:
    """Errors between 8e-6 and 3e-5 cross one decade: 1e-5 and 2e-5 are labelled, at their
    exact logarithms."""
    ticks = Axis("|error|", True, math.log10(8e-6), math.log10(3e-5)).ticks()
    assert [t for _, t in ticks] == ["10⁻⁵", "2\u00d710⁻⁵"]
    assert [u for u, _ in ticks] == [-5.0, pytest.approx(math.log10(2e-5), abs=1e-15)]


def test_linear_ticks_are_round_numbers() -> None:
    axis = Axis("observed order p", False, 0.5, 4.5)
    assert [v for v, _ in axis.ticks()] == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5]
    minus = "\u2212"  # the typographic minus of tick labels
    expected = [f"{minus}3", f"{minus}2", f"{minus}1", "0", "1"]
    assert [t for _, t in Axis("p", False, -3.2, 1.0).ticks()] == expected


def test_text_is_escaped() -> None:
    """Titles, labels and legend entries with < & > stay text: the SVG parses, and the
    parsed text is what was given."""
    nasty = 'x < 1 & y > 2 "quoted"'
    panel = Panel(nasty, Axis(nasty, True, -3, 0), Axis(nasty, False, 0, 1))
    panel.line([-2, -1], [0.2, 0.4], "#0072B2", label=nasty, marker="s")
    panel.guide([-2, -1], [0.1, 0.3], "#404040", text=nasty)
    root = _parse(Chart([nasty], [panel], "esc<&>", alt=nasty).to_svg())
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts.count(nasty) == 6  # heading, panel title, two axis labels, guide, legend
    assert root.findtext(f"{SVG}title") == nasty
    assert all(ch not in (c.get("id") or "") for c in root.iter() for ch in "<&>")


def test_long_text_is_cut_to_the_figure_and_kept_whole_in_its_title() -> None:
    """A 600-character heading or legend label is cut with an ellipsis to fit the 1000-pixel
    figure (at most about 0.56 em a character); the figure's <title> keeps it whole."""
    long = "x" * 600
    panel = Panel(long, Axis("h", True, -3, 0), Axis("e", True, -3, 0))
    panel.line([-2, -1], [-2, -1], "#0072B2", label=long)
    root = _parse(Chart([long], [panel], "long").to_svg())
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    cut = [t for t in texts if t.startswith("xxx")]
    assert len(cut) == 3  # heading, panel title, legend
    assert all(t.endswith("\u2026") and len(t) * 0.56 * 14 < 1000 for t in cut)
    assert root.findtext(f"{SVG}title") == long


def test_missing_infinite_and_zero_errors_are_not_plotted_as_points() -> None:
    """None and inf are no point (the line breaks there); an exact 0 is a hollow triangle on
    the floor, a decade below the smallest nonzero error; no coordinate is NaN or inf."""
    errors = [1e-2, 1e-3, None, "inf", 1e-5, 1e-6, 0, 1e-8]  # at h = 1e-1 ... 1e-8
    root = _parse(convergence_chart(_study(errors), "t"))
    for element in root.iter():
        for name in ("x", "y", "cx", "cy", "x1", "x2", "y1", "y2", "points"):
            numbers = (element.get(name) or "0").replace(",", " ").split()
            assert all(math.isfinite(float(v)) for v in numbers), (element.tag, name)
    panel = _panels(root)[0]
    to_pixel, _ = _mapping(panel)
    circles = [(float(c.get("cx", "")), float(c.get("cy", ""))) for c in panel.iter(f"{SVG}circle")]
    shown = ((1, 1e-2), (2, 1e-3), (5, 1e-5), (6, 1e-6), (8, 1e-8))
    expected = [to_pixel(-k, math.log10(e)) for k, e in shown]
    assert len(circles) == len(expected)
    for (cx, cy), (x, y) in zip(circles, expected, strict=True):
        assert abs(cx - x) < 0.01
        assert abs(cy - y) < 0.01
    hollow = [p for p in panel.iter(f"{SVG}polygon") if p.get("fill") == "white"]
    assert len(hollow) == 1  # the zero at h = 1e-7
    corners = [tuple(map(float, v.split(","))) for v in hollow[0].get("points", "").split()]
    centre_x = sum(c[0] for c in corners) / 3
    assert abs(centre_x - to_pixel(-7, 0)[0]) < 0.01
    floor_y = to_pixel(0, -9.0)[1]  # a decade below 1e-8
    assert min(c[1] for c in corners) < floor_y < max(c[1] for c in corners)
    lines = [p for p in panel.iter(f"{SVG}polyline") if p.get("stroke") == "#0072B2"]
    # the line breaks at the missing, infinite and zero errors: 1e-1..1e-2 and 1e-5..1e-6
    assert [len(p.get("points", "").split()) for p in lines] == [2, 2]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(
            st.floats(-400, 300, allow_nan=False),
            st.one_of(st.floats(-400, 300, allow_nan=False), st.just(math.nan)),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_every_finite_point_is_drawn_inside_the_plot_area(
    points: list[tuple[float, float]],
) -> None:
    """Whatever the data, the SVG parses, each finite point is one marker inside the plot
    area at its mapped pixel, and NaN points are not drawn."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    panel = Panel("t", Axis.fit("x", True, xs), Axis.fit("y", True, ys))
    panel.line(xs, ys, "#0072B2", marker="o")
    root = _parse(Chart(["t"], [panel], "p").to_svg())
    (drawn,) = _panels(root)
    to_pixel, (left, top, width, height) = _mapping(drawn)
    circles = [(float(c.get("cx", "")), float(c.get("cy", ""))) for c in drawn.iter(f"{SVG}circle")]
    finite = [(x, y) for x, y in points if math.isfinite(y)]
    assert len(circles) == len(finite)
    for (cx, cy), (x, y) in zip(circles, finite, strict=True):
        px, py = to_pixel(x, y)
        assert abs(cx - px) < 0.01
        assert abs(cy - py) < 0.01
        assert left - 0.01 <= cx <= left + width + 0.01
        assert top - 0.01 <= cy <= top + height + 0.01
