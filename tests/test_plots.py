"""Figures: real content (data on the lines, scales, labels, legends), headless and atomic saves."""

from __future__ import annotations

import base64
import inspect
import math
import sys
import warnings
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import pytest
from numpy.testing import assert_allclose

import symgrad
from symgrad.errors import ConfigError, InputError, LimitExceeded, MissingExtra
from symgrad.output import _plots as plots
from symgrad.teaching import optimal_step_sizes

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")  # headless; symgrad.plots never uses pyplot, but a stray import would

from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.quiver import Quiver

EPS = float(np.finfo(np.float64).eps)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def line(ax: Any, label: str) -> Line2D:
    """The one line of ``ax`` with this legend label."""
    (found,) = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return found


def value_at(ln: Line2D, x: float) -> float:
    """The y value a line plots at abscissa ``x`` (which must be one of its points)."""
    xs, ys = np.asarray(ln.get_xdata(), float), np.asarray(ln.get_ydata(), float)
    (index,) = np.flatnonzero(np.isclose(xs, x, rtol=1e-12, atol=0))
    return float(ys[index])


def highlights(ax: Any) -> list[Line2D]:
    """The highlighter strokes that mark asymptotic ranges."""
    return [ln for ln in ax.get_lines() if ln.get_gid() == "range"]


def loglog_slopes(ln: Line2D) -> Any:
    """Slopes between consecutive points of a line drawn on log-log axes."""
    xs, ys = np.log10(ln.get_xdata()), np.log10(ln.get_ydata())
    return np.diff(ys) / np.diff(xs)


@pytest.fixture(scope="module")
def v_curve() -> Figure:
    """The default V curve of d/dx sin(x) at x = 1, drawn once for the module."""
    return plots.plot_step_error("sin(x)", "x=1")


# -- plot_step_error --------------------------------------------------------------------


def test_step_error_has_two_log_log_panels_with_labels(v_curve: Figure) -> None:
    """Two panels, float64 and 50 digits, log-log, labelled, one legend entry per scheme."""
    left, right = v_curve.axes
    assert [left.get_title(), right.get_title()] == ["float64", "50 digits"]
    for ax in (left, right):
        assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
        assert ax.get_xlabel() == "step h"
        assert "error" in ax.get_ylabel()
        assert {"forward:1", "central:2", "complex"} <= {ln.get_label() for ln in ax.get_lines()}
        assert len(line(ax, "central:2").get_xdata()) == 46
    legend = [t.get_text() for t in v_curve.legends[0].get_texts()]
    assert legend[0] == "forward:1"
    assert "complex" in legend
    assert "d/dx sin(x) at x = 1" in v_curve.get_suptitle()


def test_step_error_float64_central_matches_the_formula(v_curve: Figure) -> None:
    """The float64 central error at h = 1e-2 is |(sin 1.01 − sin 0.99)/0.02 − cos 1|."""
    expected = abs((math.sin(1.01) - math.sin(0.99)) / 0.02 - math.cos(1))
    plotted = value_at(line(v_curve.axes[0], "central:2"), 1e-2)
    assert_allclose(plotted, expected, rtol=1e-9, atol=0)


def test_step_error_forward_minimum_near_sqrt_eps(v_curve: Figure) -> None:
    """The float64 forward-difference curve bottoms out within a decade of h = 1e-8."""
    ln = line(v_curve.axes[0], "forward:1")
    best = float(np.asarray(ln.get_xdata())[np.argmin(ln.get_ydata())])
    assert 1e-9 <= best <= 1e-7


def test_step_error_mp_central_is_pure_truncation(v_curve: Figure) -> None:
    """At 50 digits the central error at h = 1e-6 is cos(1)(1 − sin(h)/h), no round-off."""
    ctx = mpmath.MPContext()
    ctx.dps = 40
    h = ctx.mpf(1e-6)
    expected = float(ctx.cos(1) * (1 - ctx.sin(h) / h))
    plotted = value_at(line(v_curve.axes[1], "central:2"), 1e-6)
    assert_allclose(plotted, expected, rtol=1e-3, atol=0)


def test_step_error_mp_slopes_are_the_orders(v_curve: Figure) -> None:
    """At 50 digits the slopes stay p (1, 2 and 2) all the way down to h = 1e-16."""
    for label, order in (("forward:1", 1), ("central:2", 2), ("complex", 2)):
        ln = line(v_curve.axes[1], label)
        slopes = loglog_slopes(ln)[np.asarray(ln.get_xdata())[1:] < 1e-2]
        assert slopes.size == 42
        assert_allclose(slopes, order, rtol=0, atol=0.005)


def test_step_error_marks_the_textbook_optimal_steps(v_curve: Figure) -> None:
    """h* = 2·sqrt(ε|f/f″|) (forward) and (3ε|f/f‴|)^(1/3) (central) are drawn as lines."""
    ax = v_curve.axes[0]
    optimal = {
        ln.get_label().split(":")[0]: ln.get_xdata()[0]
        for ln in ax.get_lines()
        if "optimal" in str(ln.get_label())
    }
    assert set(optimal) == {"forward", "central"}
    assert_allclose(optimal["forward"], 2 * math.sqrt(EPS), rtol=1e-9, atol=0)
    assert_allclose(optimal["central"], (3 * EPS * math.tan(1)) ** (1 / 3), rtol=1e-9, atol=0)


def test_step_error_labels_every_guide_line_with_its_scheme(v_curve: Figure) -> None:
    """Each truncation and round-off line is labelled with its scheme in the legend, in that
    scheme's colour, and has the slope its label states (log-log)."""
    expected = {
        "forward:1 truncation: slope 1": 1.0,
        "central:2 truncation: slope 2": 2.0,
        "complex truncation: slope 2": 2.0,
        "forward:1 round-off: slope \u22121": -1.0,
        "central:2 round-off: slope \u22121": -1.0,
    }
    lines = {ln.get_label(): ln for ln in v_curve.axes[0].get_lines()}
    assert set(expected) <= set(lines)
    assert not [k for k in lines if k.startswith("_")]  # no unlabelled line
    data = {ln.get_label(): ln.get_color() for ln in lines.values() if ln.get_marker() != "None"}
    for label, slope in expected.items():
        x, y = (np.log10(np.asarray(v, dtype=float)) for v in lines[label].get_data())
        assert_allclose(np.diff(y) / np.diff(x), slope, rtol=1e-9)
        assert lines[label].get_color() == data[label.split(" ")[0]]
    legend = {t.get_text() for t in v_curve.legends[0].get_texts()}
    assert set(expected) <= legend


def test_step_error_draws_exact_estimates_at_the_floor() -> None:
    """Differences of f = x at 0 are exact; their zero errors are drawn at a positive floor."""
    fig = plots.plot_step_error(
        "x", "x=0", schemes=("forward:1", "central:2"), step_sizes=[0.1, 0.01]
    )
    for ax in fig.axes:
        for scheme in ("forward:1", "central:2"):
            assert np.isnan(line(ax, scheme).get_ydata()).all()  # no error line through zeros
            zeros = line(ax, f"{scheme}: exactly 0 (\u25bd, at the floor)")
            assert zeros.get_marker() == "v"
            ys = np.asarray(zeros.get_ydata())
            assert ys.size == 2
            assert np.all(ys == ys[0])
            assert 0 < ys[0] < 1e-15
        assert len(ax.texts) == 0  # no truncation, no round-off: nothing to annotate
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "central:2: exactly 0 (\u25bd, at the floor)" in labels


def test_step_error_several_variables_and_explicit_steps() -> None:
    """A partial of a two-variable function uses wrt, the given steps and the other coordinate."""
    fig = plots.plot_step_error(
        "x*exp(y)", "x=2, y=0.5", "y", schemes=["central:4"], step_sizes=[0.1, 0.05]
    )
    ln = line(fig.axes[1], "central:4")
    assert_allclose(ln.get_xdata(), [0.1, 0.05], rtol=0, atol=0)
    assert "d/dy" in fig.get_suptitle()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"wrt": "x x"}, ConfigError),
        ({"step_sizes": [0.1]}, ConfigError),
        ({"step_sizes": [0.1, -0.01]}, ConfigError),
        ({"step_sizes": ["a", "b"]}, ConfigError),
        ({"schemes": "central:2"}, ConfigError),
        ({"schemes": ["sideways:2"]}, ConfigError),
        ({"dps": 5}, LimitExceeded),
    ],
    ids=[
        "second-derivative",
        "one-step",
        "negative-step",
        "text-steps",
        "bare-string",
        "unknown",
        "low-dps",
    ],
)
def test_step_error_rejects_bad_options(kwargs: dict[str, Any], error: type[Exception]) -> None:
    """Bad options fail up front with symgrad errors, before any figure is built."""
    with pytest.raises(error):
        plots.plot_step_error("sin(x)", "x=1", **kwargs)


@pytest.mark.parametrize(("expr", "at"), [("1/x", "x=0"), ("sqrt(x)", "x=0")], ids=["pole", "cusp"])
def test_step_error_needs_a_finite_derivative(expr: str, at: str) -> None:
    """Where f′ is not a finite real number the figure is refused with the point named."""
    with pytest.raises(ConfigError, match="x = 0"):
        plots.plot_step_error(expr, at, step_sizes=[0.1, 0.01])


# -- plot_convergence ----------------------------------------------------------------------

STEPS = [0.1, 0.05, 0.025, 0.0125]
ERRORS = ["1.5e-3", 3.75e-4, "9.375e-5", 2.34375e-5]


def sweep(**extra: Any) -> dict[str, Any]:
    """A converge JSON dict with one second-order scheme; ``extra`` goes into the scheme."""
    scheme = {
        "scheme": "central:2",
        "expected_order": 2,
        "observed_order": 2.0,
        "error_coefficient": "1/6",
        "status": "pass",
        "steps": STEPS,
        "errors": ERRORS,
    }
    return {"status": "pass", "point": {"x": "1"}, "dps": 50, "schemes": [scheme | extra]}


def test_convergence_reproduces_the_given_errors() -> None:
    """The plotted line carries exactly the steps and errors of the JSON (strings parsed)."""
    fig = plots.plot_convergence(sweep())
    ax = fig.axes[0]
    assert highlights(ax) == []  # no asymptotic range was given
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    (data,) = [ln for ln in ax.get_lines() if str(ln.get_label()).startswith("central:2")]
    assert_allclose(data.get_xdata(), STEPS, rtol=1e-12, atol=0)
    assert_allclose(data.get_ydata(), [float(e) for e in ERRORS], rtol=1e-12, atol=0)
    assert "observed 2, expected 2 (pass)" in str(data.get_label())
    assert "x = 1" in fig.get_suptitle()


def test_convergence_orders_panel_and_reference_slope() -> None:
    """Pairwise orders sit at the geometric middle of each pair; guides have the expected slope."""
    fig = plots.plot_convergence(sweep())
    left, right = fig.axes
    orders = line(right, "central:2")
    assert_allclose(orders.get_ydata(), [2.0, 2.0, 2.0], rtol=1e-9, atol=0)
    middles = np.sqrt(np.multiply(STEPS[1:], STEPS[:-1]))
    assert_allclose(orders.get_xdata(), middles, rtol=1e-12, atol=0)
    (expected,) = [ln for ln in right.get_lines() if ln.get_label() == "expected 2"]
    assert_allclose(expected.get_ydata(), [2, 2], rtol=0, atol=0)
    (guide,) = [ln for ln in left.get_lines() if ln.get_linestyle() == "--"]
    assert_allclose(loglog_slopes(guide), 2.0, rtol=0, atol=1e-9)
    assert [t.get_text() for t in left.texts] == ["slope 2"]


def test_convergence_one_labelled_guide_per_expected_order() -> None:
    """Two second-order schemes share one labelled slope-2 guide; every guide has its label,
    and every guide lies below its schemes' errors."""
    second = sweep()["schemes"][0]
    complex_step = second | {"scheme": "complex", "errors": [2 * float(e) for e in ERRORS]}
    first = second | {
        "scheme": "forward:1",
        "expected_order": 1,
        "errors": [0.1, 0.05, 0.025, 0.0125],
    }
    fig = plots.plot_convergence(sweep() | {"schemes": [first, second, complex_step]})
    left = fig.axes[0]
    guides = [ln for ln in left.get_lines() if ln.get_linestyle() == "--"]
    assert sorted(round(float(np.mean(loglog_slopes(g))), 9) for g in guides) == [1.0, 2.0]
    assert sorted(t.get_text() for t in left.texts) == ["slope 1", "slope 2"]
    slope2 = next(g for g in guides if abs(np.mean(loglog_slopes(g)) - 2) < 1e-9)
    order = np.argsort(slope2.get_xdata())  # the guide runs over the steps, ascending
    assert_allclose(np.asarray(slope2.get_xdata())[order], sorted(STEPS), rtol=1e-12, atol=0)
    below = np.asarray(slope2.get_ydata())[order] < [float(e) for e in ERRORS][::-1]
    assert below.all()


def test_convergence_exact_scheme_has_no_order_and_zero_errors_at_the_floor() -> None:
    """An exact scheme (errors at the precision floor or exactly 0) gets no slope guide and no
    pairwise orders (they would be noise); its zeros are triangles at the floor, no warning."""
    exact = sweep()["schemes"][0] | {
        "scheme": "complex",
        "status": "exact",
        "observed_order": None,
        "errors": [0, "1e-70", 0, "3e-71"],
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.plot_convergence(sweep() | {"schemes": [sweep()["schemes"][0], exact]})
        fig.canvas.draw()  # type: ignore[attr-defined]
    left, right = fig.axes
    assert [t.get_text() for t in left.texts] == ["slope 2"]  # central:2's only
    assert [ln.get_label() for ln in right.get_lines() if ln.get_label() == "complex"] == []
    zeros = line(left, "complex: exactly 0 (\u25bd, at the floor)")
    assert_allclose(zeros.get_xdata(), [STEPS[0], STEPS[2]], rtol=1e-12, atol=0)
    assert_allclose(zeros.get_ydata(), [3e-72, 3e-72], rtol=1e-9, atol=0)  # a decade below


def test_convergence_given_pairwise_orders_and_range() -> None:
    """Given pairwise orders are plotted as is; the asymptotic range is highlighted in both."""
    fig = plots.plot_convergence(
        sweep(pairwise_orders=[1.9, None, 2.1], asymptotic_range=["0.05", 0.0125])
    )
    left, right = fig.axes
    assert_allclose(line(right, "central:2").get_ydata(), [1.9, np.nan, 2.1], rtol=0, atol=0)
    (stroke,) = highlights(left)
    assert_allclose(stroke.get_xdata(), STEPS[1:], rtol=1e-12, atol=0)
    (stroke,) = highlights(right)  # the pairs (0.05, 0.025) and (0.025, 0.0125)
    assert_allclose(stroke.get_ydata(), [np.nan, 2.1], rtol=0, atol=0)


def test_convergence_index_range_and_single_panel() -> None:
    """``{"start", "stop"}`` selects steps by index; ``ax_orders=False`` gives one panel."""
    fig = plots.plot_convergence(sweep(asymptotic_range={"start": 1, "stop": 3}), ax_orders=False)
    (ax,) = fig.axes
    (stroke,) = highlights(ax)
    assert_allclose(stroke.get_xdata(), [0.05, 0.025], rtol=1e-12, atol=0)


def test_convergence_errors_below_float_range_use_a_log10_axis() -> None:
    """Errors such as 1e-400 are plotted as log10 values on a linear, relabelled axis."""
    data = sweep(steps=["1e-50", "1e-60", "1e-70"], errors=["1e-400", "1e-480", "1e-560"])
    data["schemes"][0]["expected_order"] = 8
    fig = plots.plot_convergence(data)
    ax = fig.axes[0]
    assert ax.get_yscale() == "linear"
    assert ax.get_ylabel() == "log10 |error|"
    (values,) = [ln for ln in ax.get_lines() if str(ln.get_label()).startswith("central:2")]
    assert_allclose(values.get_ydata(), [-400, -480, -560], rtol=0, atol=1e-9)
    assert_allclose(line(fig.axes[1], "central:2").get_ydata(), [8, 8], rtol=1e-9, atol=0)


def test_convergence_accepts_objects_with_to_dict() -> None:
    """Any result object with ``to_dict()`` is accepted in place of its JSON dict."""

    class Result:
        def to_dict(self) -> dict[str, Any]:
            return sweep()

    assert len(plots.plot_convergence(Result()).axes) == 2


@pytest.mark.parametrize(
    "data",
    [
        {"status": "pass"},
        {"schemes": []},
        sweep(errors=[1e-3]),
        sweep(errors=["a", "b", "c", "d"]),
        [1, 2],
    ],
    ids=["no-schemes", "empty", "length-mismatch", "not-numbers", "not-a-mapping"],
)
def test_convergence_rejects_malformed_results(data: Any) -> None:
    """Malformed results raise InputError naming what is wrong."""
    with pytest.raises(InputError):
        plots.plot_convergence(data)


# -- plot_secant_tangent -------------------------------------------------------------------


def test_secant_tangent_slopes_are_exact_and_labelled() -> None:
    """The tangent's slope is cos(1); each secant's is (sin(1+h) − sin 1)/h, shown in the legend."""
    fig = plots.plot_secant_tangent("sin(x)", "x=1")
    ax = fig.axes[0]
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert labels[0] == "f(x) = sin(x)"
    tangent = ax.get_lines()[1]
    assert_allclose(
        np.diff(tangent.get_ydata()) / np.diff(tangent.get_xdata()), math.cos(1), rtol=1e-12, atol=0
    )
    assert labels[1] == f"tangent: slope {math.cos(1):.6g}"
    for h, secant in zip((1.0, 0.5, 0.25), ax.get_lines()[2:5], strict=True):
        slope = (math.sin(1 + h) - math.sin(1)) / h
        assert_allclose(
            np.diff(secant.get_ydata()) / np.diff(secant.get_xdata()), slope, rtol=1e-9, atol=0
        )
        assert secant.get_label() == f"secant h = {h:g}: slope {slope:.6g}"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "f(x)")
    assert ax.get_legend() is not None


@pytest.mark.parametrize("x0", ["x=1/2", "0.5", 0.5], ids=["point", "text", "float"])
def test_secant_tangent_accepts_every_form_of_x0(x0: Any) -> None:
    """x0 may be a point, a decimal string or a number; the tangent touches f at x0."""
    ax = plots.plot_secant_tangent("exp(x)", x0, step_sizes=[0.5], window=(0, 1)).axes[0]
    assert ax.get_xlim() == (0.0, 1.0)
    tangent = ax.get_lines()[1]
    xs, ys = tangent.get_xdata(), tangent.get_ydata()
    assert_allclose(np.interp(0.5, xs, ys), math.exp(0.5), rtol=1e-12, atol=0)


@pytest.mark.parametrize(
    ("expr", "kwargs"),
    [("x*y", {}), ("sin(x)", {"step_sizes": [0.0]}), ("sin(x)", {"window": (1, 0)})],
    ids=["two-variables", "zero-step", "empty-window"],
)
def test_secant_tangent_rejects_bad_input(expr: str, kwargs: dict[str, Any]) -> None:
    """Two variables, a zero step or an empty window are configuration errors."""
    with pytest.raises(ConfigError):
        plots.plot_secant_tangent(expr, 0.5, **kwargs)


def test_secant_tangent_needs_finite_values_and_slope() -> None:
    """A secant end at a pole, or an infinite tangent slope, is refused clearly."""
    with pytest.raises(ConfigError, match="not finite"):
        plots.plot_secant_tangent("1/x", -0.5, step_sizes=[0.5])
    with pytest.raises(ConfigError, match="not a finite real number"):
        plots.plot_secant_tangent("sqrt(x)", 0, step_sizes=[0.5])


def test_secant_tangent_old_steps_keyword_warns_and_draws_the_same_secants() -> None:
    """steps= is step_sizes= with a DeprecationWarning: secant slopes of x³ at 1 are 3 + 3h + h²."""
    with pytest.warns(DeprecationWarning, match="use step_sizes= instead"):
        old = plots.plot_secant_tangent("x**3", 1, steps=[0.5, 0.25])
    new = plots.plot_secant_tangent("x**3", 1, step_sizes=[0.5, 0.25])
    for fig in (old, new):
        labels = [ln.get_label() for ln in fig.axes[0].get_lines()[2:4]]
        assert labels == ["secant h = 0.5: slope 4.75", "secant h = 0.25: slope 3.8125"]
    with pytest.raises(ConfigError, match="give step_sizes only"):
        plots.plot_secant_tangent("x**3", 1, step_sizes=[0.5], steps=[0.5])


# -- plot_gradient_field (its domain grammar: tests/test_domain.py) --------------------------------------------------


def test_gradient_field_arrows_are_the_exact_gradient() -> None:
    """Quiver U, V equal (2xy, x² + cos y) at the arrow positions, with x horizontal."""
    fig = plots.plot_gradient_field("x**2*y + sin(y)", "x=-2:2, y=-1:1", n=9)
    ax = fig.axes[0]
    (quiver,) = [c for c in ax.collections if isinstance(c, Quiver)]
    x, y = np.asarray(quiver.X), np.asarray(quiver.Y)
    assert (x.min(), x.max(), y.min(), y.max()) == (-2.0, 2.0, -1.0, 1.0)
    assert x.size == 9 * 5  # square cells: 9 arrows across, 5 up
    assert_allclose(quiver.U, 2 * x * y, rtol=1e-12, atol=1e-15)
    assert_allclose(quiver.V, x**2 + np.cos(y), rtol=1e-12, atol=1e-15)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")
    assert ax.get_aspect() == 1.0
    assert "uphill" in ax.get_title()
    assert len(ax.collections) >= 3  # filled contours, contour lines, arrows
    (bar,) = ax.child_axes
    assert bar.get_ylabel() == "f(x, y)"


def test_gradient_field_follows_the_variable_order() -> None:
    """With variables "y x", y is horizontal and the arrows are (∂f/∂y, ∂f/∂x)."""
    fig = plots.plot_gradient_field("x + 3*y", {"x": (0, 1), "y": (0, 2)}, n=3, variables="y x")
    (quiver,) = [c for c in fig.axes[0].collections if isinstance(c, Quiver)]
    assert_allclose(quiver.U, 3.0, rtol=0, atol=0)
    assert_allclose(quiver.V, 1.0, rtol=0, atol=0)
    assert np.asarray(quiver.X).max() == 2.0
    assert fig.axes[0].get_xlabel() == "y"


@pytest.mark.parametrize(
    ("expr", "domain"),
    [("x*y*z", "x=0:1,y=0:1,z=0:1"), ("x*y", "x=0:1"), ("x*y", "x=0:1,t=0:1")],
    ids=["three-variables", "missing-bound", "wrong-name"],
)
def test_gradient_field_needs_two_variables_with_bounds(expr: str, domain: str) -> None:
    """Only two-variable functions with a bound for each variable can be drawn."""
    with pytest.raises(ConfigError):
        plots.plot_gradient_field(expr, domain)


# -- plot_grid_convergence -----------------------------------------------------------------

SIZES = [17, 33, 65]
SPACINGS = [[0.125, 0.0625], [0.0625, 0.03125], [0.03125, 0.015625]]


def region(scale: float, p: float) -> dict[str, Any]:
    """Errors scale·h^p on the three levels (h = 1/8, 1/16, 1/32) for every norm."""
    errors = [scale * 0.125**p / 2 ** (p * k) for k in range(3)]
    return {
        "errors": {"L1": errors, "L2": errors, "Linf": [2 * e for e in errors]},
        "orders": [p, p],
        "observed_order": p,
        "expected_order": p,
    }


def grid_result(**extra: Any) -> dict[str, Any]:
    """A verify-grid JSON dict with two components, second order inside, first at the edge."""
    comp = {"interior": region(1.0, 2.0), "boundary": region(10.0, 1.0), "status": "pass"}
    return {
        "status": "pass",
        "scheme": "numpy",
        "sizes": SIZES,
        "components": [comp | {"variable": "x"}, comp | {"variable": "y"}],
    } | extra


def test_grid_convergence_lines_and_reference_slopes() -> None:
    """One log-log panel per component; L1, L2 and L∞ per region; guides of slopes 2 and 1."""
    fig = plots.plot_grid_convergence(grid_result(spacings=SPACINGS))
    assert len(fig.axes) == 2
    ax = fig.axes[0]
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert ax.get_title() == "\u2202/\u2202x: pass"
    assert ax.get_xlabel() == "grid spacing h"
    assert ax.get_legend() is None  # one legend under the panels, never over the data
    (legend,) = fig.legends
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == [f"{r} {n}" for r in ("interior", "boundary") for n in ("L1", "L2", "L∞")]
    interior = line(ax, "interior L∞")
    assert_allclose(interior.get_xdata(), [0.125, 0.0625, 0.03125], rtol=1e-12, atol=0)
    assert_allclose(interior.get_ydata(), region(1.0, 2.0)["errors"]["Linf"], rtol=1e-12, atol=0)
    assert line(ax, "boundary L2").get_linestyle() == "--"
    assert_allclose(line(ax, "boundary L1").get_ydata(), region(10.0, 1.0)["errors"]["L1"])
    guides = [ln for ln in ax.get_lines() if str(ln.get_label()).startswith("_")]
    slopes = sorted(float(np.mean(loglog_slopes(g))) for g in guides)
    assert_allclose(slopes, [1.0, 2.0], rtol=0, atol=1e-9)
    assert {t.get_text() for t in ax.texts} == {
        "slope 2 (interior, expected)",
        "slope 1 (boundary, expected)",
    }


def boxes_overlap(a: Any, b: Any) -> bool:
    """Whether two display-space bounding boxes share any area."""
    return bool(a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1)


def test_grid_convergence_legend_is_clear_of_every_panel() -> None:
    """Drawn, the legend's box meets no panel's box (the data stays visible)."""
    fig = plots.plot_grid_convergence(grid_result(spacings=SPACINGS))
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    fig.draw(renderer)
    (legend,) = fig.legends
    box = legend.get_window_extent(renderer)
    assert not any(boxes_overlap(box, ax.get_window_extent(renderer)) for ax in fig.axes)


def test_grid_convergence_draws_exact_zeros_at_the_floor_without_warnings() -> None:
    """Errors that are exactly 0 (a linear field) are triangles a decade below the smallest
    nonzero error, labelled "exactly 0"; no log-axis warning (warnings are errors here)."""
    zero = {"errors": {"L2": [0.0, 0.0, 0.0], "Linf": [0.0, 0.0, 0.0]}, "expected_order": 2.0}
    comp = {"interior": zero, "boundary": region(10.0, 1.0), "status": "pass", "variable": "x"}
    data = {"status": "pass", "scheme": "numpy", "sizes": SIZES, "components": [comp]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.plot_grid_convergence(data)
        fig.canvas.draw()  # type: ignore[attr-defined]
    ax = fig.axes[0]
    floor = line(ax, "interior L2: exactly 0 (\u25bd, at the floor)")
    smallest = min(region(10.0, 1.0)["errors"]["L2"])
    assert_allclose(floor.get_ydata(), [smallest / 10] * 3, rtol=1e-12, atol=0)
    assert_allclose(floor.get_xdata(), [1 / 16, 1 / 32, 1 / 64], rtol=1e-12, atol=0)
    assert floor.get_marker() == "v"
    assert ax.get_ylim()[0] < smallest / 10
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "interior L∞: exactly 0 (\u25bd, at the floor)" in labels


def test_grid_convergence_without_spacings_uses_one_over_n_minus_one() -> None:
    """Without spacings the abscissa is 1/(N − 1)."""
    fig = plots.plot_grid_convergence(grid_result())
    ax = fig.axes[0]
    assert_allclose(line(ax, "interior L2").get_xdata(), [1 / 16, 1 / 32, 1 / 64], rtol=1e-12)
    assert ax.get_xlabel().startswith("1/(N")


def test_grid_convergence_rejects_mismatched_levels() -> None:
    """Error lists or spacings that do not match the number of grid levels are input errors."""
    data = grid_result()
    data["sizes"] = [17, 33]
    with pytest.raises(InputError, match="2 grid levels"):
        plots.plot_grid_convergence(data)
    with pytest.raises(InputError, match="one spacing per grid"):
        plots.plot_grid_convergence(grid_result(spacings=SPACINGS[:2]))


# -- output --------------------------------------------------------------------------------


@pytest.fixture
def small_figure() -> Figure:
    """A quick figure to save."""
    return plots.plot_secant_tangent("x**2", 1, step_sizes=[0.5])


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_save_figure_writes_the_format_of_the_suffix(
    small_figure: Figure, tmp_path: Path, suffix: str
) -> None:
    """save_figure writes a non-empty file in the suffix's format and nothing else."""
    target = tmp_path / f"plot{suffix}"
    plots.save_figure(small_figure, target)
    head = target.read_bytes()[:8]
    assert head.startswith({".png": PNG_SIGNATURE, ".svg": b"<?xml", ".pdf": b"%PDF"}[suffix])
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_save_figure_replaces_a_file_and_keeps_its_mode(
    small_figure: Figure, tmp_path: Path
) -> None:
    """Saving over an existing file replaces its content and keeps its permissions."""
    target = tmp_path / "plot.png"
    target.write_bytes(b"old")
    target.chmod(0o600)
    plots.save_figure(small_figure, str(target))
    assert target.read_bytes().startswith(PNG_SIGNATURE)
    assert target.stat().st_mode & 0o777 == 0o600


def test_save_figure_unknown_suffix_leaves_the_file_untouched(
    small_figure: Figure, tmp_path: Path
) -> None:
    """An unsupported suffix raises ConfigError and leaves the existing file as it was."""
    target = tmp_path / "plot.xyz"
    target.write_bytes(b"precious")
    with pytest.raises(ConfigError, match=r"\.png, \.svg or \.pdf"):
        plots.save_figure(small_figure, target)
    assert target.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["plot.xyz"]


def test_save_figure_failed_render_leaves_no_partial_file(
    small_figure: Figure, tmp_path: Path
) -> None:
    """A render that fails half-way leaves the user's file intact and no temporary file."""

    class Exploding(Artist):
        def draw(self, renderer: Any) -> None:
            msg = "render failed"
            raise RuntimeError(msg)

    small_figure.axes[0].add_artist(Exploding())
    target = tmp_path / "plot.png"
    target.write_bytes(b"precious")
    with pytest.raises(RuntimeError, match="render failed"):
        plots.save_figure(small_figure, target)
    assert target.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["plot.png"]


def test_figure_to_png_base64_decodes_to_a_png(small_figure: Figure) -> None:
    """The base64 payload is ASCII and decodes to a PNG."""
    payload = plots.figure_to_png_base64(small_figure, dpi=50)
    assert payload.isascii()
    assert base64.b64decode(payload).startswith(PNG_SIGNATURE)


# -- optional dependency and global state --------------------------------------------------


def test_missing_matplotlib_raises_missing_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without matplotlib every plot raises MissingExtra (an ImportError) naming the extra."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingExtra, match=r"pip install 'symgrad\[plot\]'") as caught:
        plots.plot_secant_tangent("x**2", 1)
    assert isinstance(caught.value, ImportError)


def test_many_figures_open_no_pyplot_state() -> None:
    """Thirty figures in one test raise no too-many-figures warning: pyplot is never used."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figures = [plots.plot_secant_tangent("x**3", 0.5, step_sizes=[0.1]) for _ in range(30)]
    assert all(isinstance(fig, Figure) for fig in figures)


def test_gradient_field_levels_ignore_a_pole() -> None:
    """Near a pole the colour levels cover the central 98 % of f and the colour bar extends."""
    fig = plots.plot_gradient_field("1/(x**2 + y**2)", "x=-1:1, y=-1:1", n=11)
    filled = fig.axes[0].collections[0]
    assert filled.extend == "max"
    assert 10 < filled.levels[-1] < 1000  # f reaches 1e4 next to the origin


def test_convergence_legend_names_exact_schemes_once_and_without_an_order() -> None:
    """d/dx x² at 1: central stencils are exact (no observed order to show), the complex step's
    errors are all exactly 0 (named once, by its zero markers); forward:1 has order 1."""
    fig = plots.plot_convergence(symgrad.convergence("x**2", "x=1"))
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == [
        "forward:1: observed 1, expected 1 (pass)",
        "central:2: exact, errors at the precision floor",
        "central:4: exact, errors at the precision floor",
        "complex: exactly 0 (\u25bd, at the floor)",
    ]


def test_step_error_old_steps_keyword_warns_and_draws_the_same_steps() -> None:
    """``plot_step_error(steps=...)`` is the deprecated spelling of ``step_sizes=``."""
    with pytest.warns(DeprecationWarning, match="step_sizes="):
        fig = plots.plot_step_error("sin(x)", "x=1", schemes=["central:2"], steps=[0.1, 0.05])
    assert_allclose(line(fig.axes[1], "central:2").get_xdata(), [0.1, 0.05], rtol=0, atol=0)


# -- solver convergence and operator panels -------------------------------------------------

SOLVER_ODE = "(sin(t) - cos(t))/2 + exp(-t)"  # y' = -y + sin t, y(0) = 1/2: source exactly sin t


def _euler(problem: Any) -> float:
    y, dt, t0 = float(problem.initial), problem.dt, problem.time[0]
    for n in range(problem.time_steps):
        y += dt * (-y + float(problem.source(t0 + n * dt)))
    return y


SOLVER_MODULE = "from __future__ import annotations\n\n" + inspect.getsource(_euler)


def _euler_error(steps: int) -> float:
    """|Euler − exact| at t = 2, computed here: float Euler on y' = −y + sin t, the exact
    solution in a private 50-digit mpmath context."""
    ctx = mpmath.MPContext()
    ctx.dps = 50
    y, dt = 0.5, 2.0 / steps
    for n in range(steps):
        y += dt * (-y + math.sin(n * dt))
    exact = (ctx.sin(2) - ctx.cos(2)) / 2 + ctx.exp(-2)
    return float(abs(ctx.mpf(y) - exact))


def _guides(ax: Any) -> list[Line2D]:
    """The unlabelled grey dashed reference lines (the slope guides)."""
    return [ln for ln in ax.get_lines() if ln.get_color() == "0.3" and ln.get_linestyle() == "--"]


def _slope(ln: Line2D) -> float:
    x, y = np.asarray(ln.get_xdata(), float), np.asarray(ln.get_ydata(), float)
    return float(np.log10(y[-1] / y[0]) / np.log10(x[-1] / x[0]))


def _solver_region(errors: dict[str, list[float]], p: float, status: str) -> dict[str, Any]:
    return {"errors": errors, "expected_order": p, "status": status}


def test_solver_plot_draws_the_euler_errors_and_a_slope_one_guide() -> None:
    """An ODE refined in dt: each norm's line is the Euler error at t = 2 (recomputed here) at
    dt = 2/steps, labelled; the guide has slope exactly 1 and says so; the verdict titles it."""
    steps = (16, 32, 64, 128)
    result = symgrad.verify_solver(
        _euler, SOLVER_ODE, operator="D(u, t) + u", expect_order=1, time="t=0:2", time_steps=steps
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.plot_solver_convergence(result)
        fig.canvas.draw()
    ax = fig.axes[0]
    reference = [_euler_error(n) for n in steps]
    for norm, label in (("L1", "solution L1"), ("L2", "solution L2"), ("Linf", "solution L∞")):
        ln = line(ax, label)
        assert_allclose(ln.get_xdata(), [2 / n for n in steps], rtol=1e-15, atol=0)
        assert_allclose(ln.get_ydata(), result.regions["solution"].errors[norm], rtol=0, atol=0)
        assert_allclose(ln.get_ydata(), reference, rtol=1e-9)  # one value: every norm equal
    (slope_line,) = _guides(ax)
    assert _slope(slope_line) == pytest.approx(1.0, abs=1e-12)
    assert "slope 1 (expected, solution)" in [t.get_text() for t in ax.texts]
    assert ax.get_xlabel() == "time step dt"
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert fig.get_suptitle() == "Convergence of _euler (refining time): pass"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "solution L1",
        "solution L2",
        "solution L∞",
    ]
    assert min(t.get_fontsize() for t in fig.findobj(matplotlib.text.Text)) >= 12


def test_solver_plot_regions_guides_and_exact_zeros() -> None:
    """Interior solid with slope 2, boundary dashed with slope 1 (their expected orders); an
    exact-to-rounding region gets no guide, and its exact zeros sit at the floor, labelled."""
    h = [0.1, 0.05, 0.025]
    interior = {n: [4e-3 * 0.25**i * (k + 1) for i in range(3)] for k, n in enumerate(plots._NORMS)}
    boundary = {n: [2e-2 * 0.5**i for i in range(3)] for n in plots._NORMS}
    data = {
        "status": "pass",
        "solver": "heat",
        "refine": "space",
        "h": h,
        "sizes": [11, 21, 41],
        "regions": {
            "interior": _solver_region(interior, 2.0, "pass"),
            "boundary": _solver_region(boundary, 1.0, "pass"),
        },
    }
    ax = plots.plot_solver_convergence(data).axes[0]
    assert line(ax, "interior L∞").get_linestyle() == "-"
    assert line(ax, "boundary L∞").get_linestyle() == "--"
    assert_allclose(line(ax, "interior L2").get_ydata(), [8e-3, 2e-3, 5e-4], rtol=1e-15)
    assert sorted(_slope(g) for g in _guides(ax)) == pytest.approx([1.0, 2.0], abs=1e-12)
    texts = {t.get_text() for t in ax.texts}
    assert {"slope 2 (expected, interior)", "slope 1 (expected, boundary)"} <= texts
    assert ax.get_xlabel() == "refinement h (largest spacing)"
    assert ax.get_xticklabels()[0].get_text() == "0.1\nN = 11"

    data["regions"]["boundary"] = _solver_region(
        {n: [0.0, 1e-17, 0.0] for n in plots._NORMS}, 1.0, "exact"
    )
    fig = plots.plot_solver_convergence(data)
    ax = fig.axes[0]
    assert [_slope(g) for g in _guides(ax)] == pytest.approx([2.0], abs=1e-12)  # no boundary guide
    zeros = line(ax, "boundary L∞: exactly 0 (\u25bd, at the floor)")
    assert_allclose(zeros.get_xdata(), [0.1, 0.025], rtol=1e-15)
    assert_allclose(zeros.get_ydata(), [1e-18, 1e-18], rtol=1e-12)  # a decade below 1e-17
    assert "boundary exact to rounding" in ax.get_title()


def test_solver_plot_refuses_data_without_levels_or_regions() -> None:
    with pytest.raises(InputError, match="regions"):
        plots.plot_solver_convergence({"h": [0.1], "solver": "s"})
    with pytest.raises(InputError, match="'h'"):
        plots.plot_solver_convergence({"h": [], "regions": {"interior": {}}})
    bad = {"h": [0.1, 0.05], "regions": {"interior": {"errors": {"L2": [1.0]}}}}
    with pytest.raises(InputError, match="1 errors for 2 levels"):
        plots.plot_solver_convergence(bad)


def test_cli_verify_solver_writes_its_plot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from symgrad.cli import main

    (tmp_path / "plotsolver.py").write_text(SOLVER_MODULE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    argv = [
        "verify-solver",
        "plotsolver:_euler",
        "--solution",
        SOLVER_ODE,
        "--operator",
        "D(u, t) + u",
    ]
    argv += ["--time", "t=0:2", "--expect-order", "1", "--time-steps", "16,32,64,128"]
    assert main([*argv, "--plot", "ode.png"]) == 0
    assert (tmp_path / "ode.png").read_bytes()[:8] == PNG_SIGNATURE


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("laplacian", "laplacian"),
        ("curl_z", "curl_z"),
        ("u_xx", "∂²u/∂x²"),
        ("u_xy", "∂²u/∂x∂y"),
        ("u_xxy", "∂³u/∂x²∂y"),
        ("u_x", "∂u/∂x"),
        ("u_q", "u_q"),  # not an axis: the name as given
    ],
)
def test_operator_panels_are_titled_by_their_operator(name: str, title: str) -> None:
    region = {"errors": {"L2": [4e-3, 1e-3], "Linf": [8e-3, 2e-3]}, "observed_order": 2.0}
    component = {"variable": name, "interior": region, "boundary": None, "status": "pass"}
    data = {"status": "pass", "scheme": "s", "sizes": [17, 33], "variables": ["x", "y"]}
    fig = plots.plot_grid_convergence({**data, "operator": name, "components": [component]})
    assert fig.axes[0].get_title() == f"{title}: pass"
    gradient = plots.plot_grid_convergence({**data, "components": [{**component, "variable": "x"}]})
    assert gradient.axes[0].get_title() == "∂/∂x: pass"


def test_operator_result_plot_names_the_laplacian() -> None:
    """A real verify_operator result (the five-point Laplacian, boundary rows copied): its
    panel is titled "laplacian", not ∂/∂laplacian, and plots the result's own errors."""

    def five_point(u: Any, h: Any) -> Any:
        out = np.zeros_like(u)
        out[1:-1, 1:-1] = (u[2:, 1:-1] - 2 * u[1:-1, 1:-1] + u[:-2, 1:-1]) / h[0] ** 2 + (
            u[1:-1, 2:] - 2 * u[1:-1, 1:-1] + u[1:-1, :-2]
        ) / h[1] ** 2
        out[[0, -1], :], out[:, [0, -1]] = out[[1, -2], :], out[:, [1, -2]]
        return out

    result = symgrad.verify_operator(five_point, "sin(x)*cos(y)", "x=0:1,y=0:1", sizes=(17, 33, 65))
    fig = plots.plot_grid_convergence(result)
    assert fig.axes[0].get_title().startswith("laplacian: ")
    errors = result.components[0].interior.errors["Linf"]
    assert_allclose(line(fig.axes[0], "interior L∞").get_ydata(), errors, rtol=0, atol=0)


def _v_bottom_ratio(f: Any, exact: float, x: float, hstar: float, central: bool) -> float:
    """The float64 error at h* over the smallest error of the whole V curve (medians over 41
    steps within 10^±0.2 of each h, steps made representable as (x + h) - x), in plain NumPy."""

    def error(h0: float) -> float:
        h = (x + h0 * np.logspace(-0.2, 0.2, 41)) - x
        h = h[h > 0]  # below half an ulp of x no step is taken
        if not h.size:
            return math.inf
        d = (f(x + h) - f(x - h)) / (2 * h) if central else (f(x + h) - f(x)) / h
        return float(np.median(np.abs(d - exact)))

    return error(hstar) / min(error(h) for h in np.logspace(-16, -1, 76))


@pytest.mark.parametrize(
    ("text", "f", "derivative", "x"),
    [
        ("sin(1e8*x)", lambda t: np.sin(1e8 * t), lambda c, t: 10**8 * c.cos(10**8 * t), 1.0),
        (
            "exp(50*x)*x",
            lambda t: np.exp(50 * t) * t,
            lambda c, t: c.exp(50 * t) * (1 + 50 * t),
            2.0,
        ),
        ("cos(3000*x)", lambda t: np.cos(3000 * t), lambda c, t: -3000 * c.sin(3000 * t), 0.25),
    ],
)
def test_optimal_steps_of_formulas_that_round_more_than_f_sit_at_the_bottom(
    text: str, f: Any, derivative: Any, x: float
) -> None:
    """Where f's formula rounds more than ε|f| (its argument is a product), h* follows the
    measured rounding: the error there is within 5 times the bottom of the measured V curve
    (the textbook ε|f| model put sin(1e8*x)'s forward h* at one ulp, 2,400 times too high)."""
    ctx = mpmath.MPContext()
    ctx.dps = 40
    exact = float(derivative(ctx, ctx.mpf(x)))
    best = optimal_step_sizes(text, f"x={x!r}", schemes=("forward:1", "central:2"))
    for scheme, central in (("forward:1", False), ("central:2", True)):
        hstar = best[scheme]
        assert hstar is not None
        assert _v_bottom_ratio(f, exact, x, hstar, central) < 5, scheme


def test_an_optimal_step_is_never_below_the_float64_spacing_at_x() -> None:
    """Beside a pole the model's h* (2.3e-23 for 1/(x-1) at 1 + 1e-15) would not move x: the
    step is at least the spacing of float64 numbers there, the smallest that does."""
    x = 1 + 1e-15
    assert x + 1e-20 == x  # the oracle: a smaller step leaves x where it is
    best = optimal_step_sizes("1/(x-1)", {"x": x}, schemes=("forward:1", "central:2"))
    for h in best.values():
        assert h is not None
        assert h >= np.spacing(x)
        assert x + h != x
