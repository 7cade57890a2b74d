"""Point checks, user-gradient checks and the Taylor test.

References are independent of the code under test: closed forms evaluated with a private mpmath
context, hand-computed one-sided derivatives, and deliberately wrong user code.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.checks import (
    CheckResult,
    ComponentCheck,
    PointCheck,
    check,
    check_gradient,
    taylor_test,
)
from symgrad.errors import CheckFailed, ConfigError, InputError
from symgrad.results import PointStatus, Status
from tests.strategies import points, smooth_expressions

DESIGN_CHECK_KEYS = {"status", "reason", "dps", "scheme", "point", "components"}
GRADIENT_KEYS = {"status", "reason", "kind", "n_points", "skipped", "rtol", "worst", "entries"}
GRADIENT_KEYS |= {"undecided", "precision"}
DESIGN_COMPONENT_KEYS = {
    "variable",
    "symbolic",
    "finite_difference",
    "abs_error",
    "rel_error",
    "float64",
    "float64_ulp_error",
    "status",
}


def mpctx(dps: int) -> mpmath.MPContext:
    """A private reference context (never mpmath.mp)."""
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


REF = mpctx(80)
X, Y, Z = REF.mpf("0.3"), REF.mpf("0.7"), REF.mpf("0.5")
SIN, COS, GAUSS = REF.sin(X + Y), REF.cos(X + Y), REF.exp(-(Z**2))


# -- check: agreement at high precision -----------------------------------------------------------


def test_gradient_agrees_to_45_digits_and_float64_within_4_ulps() -> None:
    """check of sin(x+y)*exp(-z**2) at dps 50 passes; errors ≤ 1e-45 and float64 ≤ 4 ulps."""
    r = check("sin(x+y)*exp(-z**2)", "x=0.3, y=0.7, z=0.5", dps=50)
    closed = [COS * GAUSS, COS * GAUSS, -2 * Z * SIN * GAUSS]
    assert r.status is Status.PASS
    assert [c.variable for c in r.components] == ["x", "y", "z"]
    for c, want in zip(r.components, closed, strict=True):
        assert c.point_status == "ok"
        assert REF.mpf(c.abs_error) <= REF.mpf("1e-45")
        assert abs(REF.mpf(c.symbolic) - want) <= REF.mpf("1e-49")
        assert abs(REF.mpf(c.finite_difference) - want) <= REF.mpf("1e-45")
        assert c.float64_ulp_error <= 4


def test_hessian_compares_every_entry_including_mixed_partials() -> None:
    """The Hessian check passes and its mixed entries match the closed forms (x,y and z,x)."""
    r = check("sin(x+y)*exp(-z**2)", "x=0.3, y=0.7, z=0.5", kind="hessian")
    entries = {c.variable: c for c in r.components}
    assert r.status is Status.PASS
    assert len(entries) == 9
    assert entries["x,y"].label == "d2/dxdy"
    assert entries["z,x"].label == "d2/dzdx"
    want = {"x,y": -SIN * GAUSS, "z,x": -2 * Z * COS * GAUSS, "z,z": (4 * Z**2 - 2) * SIN * GAUSS}
    for name, value in want.items():
        assert abs(REF.mpf(entries[name].finite_difference) - value) <= REF.mpf("1e-45")
        assert abs(REF.mpf(entries[name].symbolic) - value) <= REF.mpf("1e-49")


def test_jacobian_of_two_expressions() -> None:
    """Jacobian entries are named f<row>/<variable> and match the closed forms."""
    r = check(["x*y", "sin(x)*y"], "x=0.3, y=0.7", kind="jacobian")
    assert r.status is Status.PASS
    assert [c.variable for c in r.components] == ["f1/x", "f1/y", "f2/x", "f2/y"]
    want = [Y, X, REF.cos(X) * Y, REF.sin(X)]
    for c, value in zip(r.components, want, strict=True):
        assert abs(REF.mpf(c.symbolic) - value) <= REF.mpf("1e-49")


def test_single_partial_named_by_wrt() -> None:
    """kind='x x y' checks d3/dx2dy; of x**3*y that is 6x at several points."""
    r = check("x**3*y", ["x=0.3, y=0.1", "x=-2, y=5"], kind="x x y")
    assert r.status is Status.PASS
    assert [p.components[0].variable for p in r.points] == ["x,x,y", "x,x,y"]
    assert [float(p.components[0].symbolic) for p in r.points] == [1.8, -12.0]


def test_complex_step_referee() -> None:
    """scheme='complex' uses the high-precision complex step as the referee."""
    r = check("exp(x)*sin(x)", "x=1", scheme="complex", dps=40)
    want = REF.exp(1) * (REF.sin(1) + REF.cos(1))
    assert r.status is Status.PASS
    assert abs(REF.mpf(r.components[0].finite_difference) - want) <= REF.mpf("1e-38")


def test_float64_error_is_measured_at_the_float_point() -> None:
    """ulps compare float64 with the exact derivative at the float64-rounded point, not at 0.1."""
    r = check("x**3", "x=0.1")
    x = REF.mpf(0.1)  # the exact binary value of the float nearest 0.1
    f64 = 3 * 0.1**2
    expected = float(abs(REF.mpf(f64) - 3 * x**2) / REF.mpf(np.spacing(f64)))
    assert r.components[0].float64 == f64
    assert r.components[0].float64_ulp_error == pytest.approx(expected, rel=1e-6)


# -- check: failure is data -----------------------------------------------------------------------


def test_kink_is_nonsmooth_with_left_and_right_derivatives() -> None:
    """abs(x) at 0: inconclusive, nonsmooth, left derivative -1 and right derivative 1."""
    r = check("abs(x)", "x=0")
    c = r.components[0]
    assert r.status is Status.INCONCLUSIVE
    assert c.point_status == "nonsmooth"
    assert (float(c.left), float(c.right)) == (-1.0, 1.0)
    assert r.reason == "d/dx: kink at x=0: left derivative -1, right derivative 1"
    text = r.to_text()
    assert "nonsmooth" in text
    assert "kink at x=0: left derivative -1, right derivative 1" in text


def test_kink_of_the_first_derivative_makes_the_hessian_nonsmooth() -> None:
    """abs(x) at 0 under kind='hessian': the kink of d/dx is reported, not a pass of 0 = 0."""
    r = check("abs(x)", "x=0", kind="hessian")
    assert r.components[0].point_status == "nonsmooth"
    assert "in d/dx" in r.reason


def test_smooth_point_of_a_nonsmooth_function_passes() -> None:
    """max(x, y) away from x = y passes: the probe finds no kink there."""
    r = check("max(x, y)", "x=1, y=0.5")
    assert r.status is Status.PASS
    assert [float(c.symbolic) for c in r.components] == [1.0, 0.0]


def test_outside_the_domain_is_inconclusive() -> None:
    """log(x) at -1 is a domain point: inconclusive with the reason, not a mismatch."""
    r = check("log(x)", "x=-1")
    c = r.components[0]
    assert r.status is Status.INCONCLUSIVE
    assert c.point_status == "domain"
    assert "not real" in c.reason
    assert "domain" in r.to_text()
    assert c.to_dict(50)["symbolic"] is None


def test_pole_is_inconclusive() -> None:
    """1/x at 0 is a pole: inconclusive with the reason."""
    r = check("1/x", "x=0")
    assert r.status is Status.INCONCLUSIVE
    assert r.components[0].point_status == "pole"
    assert "pole" in r.to_text()


def test_infinite_derivative_of_a_finite_function_is_a_pole() -> None:
    """sqrt(x) at 0: f is finite but the derivative is not; classified pole, not a crash."""
    r = check("sqrt(x)", "x=0")
    assert r.components[0].point_status == "pole"
    assert "although f is finite" in r.reason


def test_one_sided_referee_next_to_a_domain_edge() -> None:
    """sqrt(x - 1) at 1 + 1e-14: a stencil that leaves the domain is no domain error at the
    point, where f is real; the referee steps inside (a smaller central step, or a forward one).

    (Near x = 0 the referee's steps are relative to |x|, so sqrt(x) at 1e-14 needs none.)
    """
    r = check("sqrt(x - 1)", "x=1.00000000000001")
    c = r.components[0]
    assert r.status is Status.PASS
    assert c.point_status == "ok"
    assert abs(REF.mpf(c.finite_difference) - 5 * 10**6) < REF.mpf("1e-40")


def test_one_row_of_a_jacobian_outside_its_domain() -> None:
    """Only the row that is not real is inconclusive; the other row is still checked."""
    r = check(["log(x)", "x*y"], "x=-1, y=2", kind="jacobian")
    assert [c.point_status for c in r.components] == ["domain", "domain", "ok", "ok"]


def test_float64_overflow_is_classified() -> None:
    """exp(x) at 1000: the exact value is finite, float64 is inf: overflow, inconclusive."""
    r = check("exp(x)", "x=1000")
    c = r.components[0]
    assert r.status is Status.INCONCLUSIVE
    assert c.point_status == "overflow"
    assert abs(REF.mpf(c.symbolic) / REF.exp(1000) - 1) < REF.mpf("1e-48")
    assert math.isinf(c.float64)
    assert "overflow" in r.to_text()
    assert c.to_dict(50)["float64"] is None


def test_given_step_outside_the_asymptotic_range_cannot_fail_a_right_derivative() -> None:
    """A given step far outside the asymptotic range fools its own error estimate: the referee's
    own step agrees with the symbolic value, so the component is unreliable (not a mismatch),
    with the given step named in the reason.  (A planted wrong derivative fails: test_check_hardening.)
    """
    r = check("sin(50*x)", "x=0.3", step="0.1", scheme="central:2")
    exact = 50 * REF.cos(15)
    assert r.status is Status.INCONCLUSIVE
    assert r.components[0].point_status == "unreliable"
    assert abs(REF.mpf(r.components[0].symbolic) - exact) < REF.mpf("1e-48")
    assert "given step 0.1" in r.reason
    assert r.to_dict()["components"][0]["status"] == "inconclusive"
    with pytest.raises(CheckFailed, match="unreliable"):
        r.raise_if_failed()


def test_exact_value_survives_cancellation_in_the_formula() -> None:
    """-1/sqrt(1 - x**2) near x = 1 loses 14 digits to cancellation; the exact value keeps 50."""
    r = check("acos(x)", "x=0.99999999999999")
    x = REF.mpf(99999999999999) / 10**14
    assert r.status is Status.PASS
    assert abs(REF.mpf(r.components[0].symbolic) * REF.sqrt(1 - x**2) + 1) < REF.mpf("1e-49")


def test_jump_is_nonsmooth() -> None:
    """sign(x) at 0: no one-sided difference converges, so the point is nonsmooth (inconclusive)."""
    r = check("sign(x)", "x=0")
    assert r.status is Status.INCONCLUSIVE
    assert r.components[0].point_status == "nonsmooth"


def test_kink_of_the_second_derivative() -> None:
    """x*abs(x) at 0: f'' jumps from -2 to 2; the gradient (2|x|, continuous) still passes."""
    assert check("x*abs(x)", "x=0").status is Status.PASS
    c = check("x*abs(x)", "x=0", kind="hessian").components[0]
    assert c.point_status == "nonsmooth"
    assert (float(c.left), float(c.right)) == pytest.approx((-2.0, 2.0), abs=1e-40)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"scheme": "sideways:2"}, ConfigError),
        ({"scheme": 4}, ConfigError),
        ({"kind": "jacobian", "at": []}, ConfigError),
        ({"at": "x=0.3, q=1"}, InputError),
    ],
)
def test_bad_input_raises(kwargs: dict[str, object], error: type[Exception]) -> None:
    """Bad options are errors (with a message), never verdicts."""
    at = kwargs.pop("at", "x=0.3")
    with pytest.raises(error):
        check("sin(x)", at, **kwargs)  # type: ignore[arg-type]


# -- check: renderings ----------------------------------------------------------------------------


def test_json_has_the_design_keys_with_numbers_as_strings() -> None:
    """to_dict has exactly the documented check keys; exact numbers are decimal strings."""
    data = json.loads(check("x**2*y", "x=0.3, y=0.7").to_json())
    assert set(data) == DESIGN_CHECK_KEYS
    assert data["point"] == {"x": "0.3", "y": "0.7"}
    assert data["dps"] == 50
    assert data["scheme"] == "central:4"
    for c in data["components"]:
        assert set(c) >= DESIGN_COMPONENT_KEYS | {"point_status", "reason"}
        for key in ("symbolic", "finite_difference", "abs_error", "rel_error"):
            assert isinstance(c[key], str)
        assert isinstance(c["float64"], float)
    assert data["components"][0]["symbolic"] == "0.42"


def test_json_null_for_undefined_numbers() -> None:
    """NaN and infinities become null, so the JSON is strict (no NaN literals)."""
    data = check("exp(x)", "x=1000").to_dict()
    text = json.dumps(data, allow_nan=False)
    c = json.loads(text)["components"][0]
    assert c["float64"] is None
    assert c["float64_ulp_error"] is None
    assert c["point_status"] == "overflow"


def test_several_points_report_the_worst_on_top() -> None:
    """With several points the top-level keys describe the worst point; 'points' lists all."""
    data = check("log(x)", ["x=2", "x=-1", "x=0.5"]).to_dict()
    assert data["status"] == "inconclusive"
    assert data["point"] == {"x": "-1"}
    assert [p["status"] for p in data["points"]] == ["pass", "inconclusive", "pass"]
    assert all(set(p) == DESIGN_CHECK_KEYS for p in data["points"])


def test_markdown_has_a_table() -> None:
    """to_markdown gives a verdict line and a pipe table with one row per component."""
    md = check("x*y", "x=1, y=2").to_markdown()
    lines = md.splitlines()
    assert lines[0].startswith("**pass**")
    assert lines[2].startswith("| point | component | point status |")
    assert lines[3].startswith("| --- |")
    assert len([line for line in lines if line.startswith("| x=1, y=2 |")]) == 2


def test_html_escapes_everything() -> None:
    """to_html is a table fragment in which text from the result is escaped."""
    evil = "<script>alert(1)</script>"
    component = ComponentCheck("x", "d/dx", PointStatus.DOMAIN, evil)
    point = PointCheck({"x": "0"}, (component,))
    result = CheckResult(Status.INCONCLUSIVE, evil, 50, "central:4", "gradient", "x", (point,))
    page = result.to_html()
    assert page.startswith('<table class="symgrad-checkresult">')
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "text/html" in result._repr_mimebundle_()


# -- check_gradient -------------------------------------------------------------------------------


def rosenbrock_gradient(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Hand-written gradient of (1 - x)^2 + 100 (y - x^2)^2."""
    return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])


ROSENBROCK = "(1 - x)**2 + 100*(y - x**2)**2"

CORRECT = [
    pytest.param(rosenbrock_gradient, ROSENBROCK, None, id="rosenbrock"),
    pytest.param(np.expm1, "exp(x) - 1 - x", (-1e-6, 1e-6), id="expm1-near-0"),
    pytest.param(lambda x: np.exp(x) - 1, "exp(x) - 1 - x", (-1e-6, 1e-6), id="exp-minus-1"),
    pytest.param(
        lambda x: (x * np.sin(x) - 2 * (1 - np.cos(x))) / x**3,
        "(1 - cos(x))/x**2",
        (0.05, 2.0),
        id="one-minus-cos-where-float64-resolves-it",
    ),
    pytest.param(
        lambda x: -2 * np.sin(x / 2) * (np.sin(x / 2) - x / 2 * np.cos(x / 2)) / (x / 2) ** 3 / 4,
        "(1 - cos(x))/x**2",
        (0.5, 2.0),
        id="one-minus-cos-half-angle",
    ),
    pytest.param(
        lambda x, y, z: np.array(
            [np.cos(x + y) * np.exp(-(z**2))] * 2 + [-2 * z * np.sin(x + y) * np.exp(-(z**2))]
        ),
        "sin(x+y)*exp(-z**2)",
        None,
        id="sin-exp",
    ),
]


@pytest.mark.parametrize(("user", "expr", "domain"), CORRECT)
def test_correct_gradients_pass_at_500_points(user: object, expr: str, domain: object) -> None:
    """Correct float64 code passes everywhere, including where it cancels catastrophically."""
    r = check_gradient(user, expr, n_points=500, domain=domain)  # type: ignore[arg-type]
    assert r.status is Status.PASS, r.reason
    assert r.n_points == 500
    assert r.skipped == 0


def test_where_float64_cannot_resolve_an_entry_the_verdict_is_inconclusive() -> None:
    """(1 - cos(x))/x**2 near 0: float64 loses every digit of d/dx = -x/12 + ..., so no pass.

    The hand-written quotient-rule code is correct, and is wrong by up to 1e14 relative there;
    agreeing with it within what float64 attains would prove nothing, and failing it would be
    unfair.  The series -x/12 + x**3/180 - x**5/6720, exact to float64 at these points, passes.
    """
    naive = check_gradient(
        lambda x: (x * np.sin(x) - 2 * (1 - np.cos(x))) / x**3,
        "(1 - cos(x))/x**2",
        n_points=500,
        domain=(-1e-3, 1e-3),
    )
    assert naive.status is Status.INCONCLUSIVE, naive.reason
    assert naive.undecided == 500
    assert naive.reason.startswith("d/dx cannot be resolved in float64 at any of the 500 points")
    series = check_gradient(
        lambda x: -x / 12 + x**3 / 180 - x**5 / 6720,
        "(1 - cos(x))/x**2",
        n_points=500,
        domain=(-1e-3, 1e-3),
    )
    assert series.status is Status.PASS, series.reason
    ctx = mpctx(40)
    for x in series.points[:20, 0]:  # the oracle: mpmath's derivative of (1 - cos t)/t^2
        exact = float(ctx.diff(lambda t: (1 - ctx.cos(t)) / t**2, ctx.mpf(float(x))))
        assert abs(-x / 12 + x**3 / 180 - x**5 / 6720 - exact) <= 2 * np.spacing(abs(exact))


def test_one_entry_off_by_one_part_in_ten_thousand_is_caught_and_located() -> None:
    """A 1e-4 relative error in d/dy of the Rosenbrock gradient fails, naming d/dy and a point."""

    def wrong(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        g = rosenbrock_gradient(x, y)
        g[1] *= 1.0001
        return g

    r = check_gradient(wrong, ROSENBROCK, n_points=500)
    assert r.status is Status.FAIL
    assert r.worst is not None
    assert r.worst["entry"] == "d/dy"
    assert r.worst["rel_error"] == pytest.approx(1e-4, rel=1e-6)
    point = np.array([r.worst["point"]["x"], r.worst["point"]["y"]])
    assert any(np.array_equal(point, p) for p in r.points)
    assert r.reason.startswith("d/dy is wrong at (")
    assert [e.status for e in r.entries] == [Status.PASS, Status.FAIL]


def test_typed_derivative_with_a_wrong_sign_names_the_component() -> None:
    """A derivative typed with one wrong sign fails, and the reason names that component."""
    r = check_gradient(["2*x*y - cos(x)", "x**2"], "x**2*y + sin(x)")
    assert r.status is Status.FAIL
    assert r.reason.startswith("d/dx is wrong at (")
    assert [(e.entry, e.status) for e in r.entries] == [
        ("d/dx", Status.FAIL),
        ("d/dy", Status.PASS),
    ]


def test_wrong_sign_reason_reads_like_the_documented_example() -> None:
    """Flipping d/dy of x**2*y gives 'got -v, exact v (relative error 2.0)'."""
    r = check_gradient(["2*x*y", "-x**2"], "x**2*y", at=[[0.3, -1.2]])
    assert r.reason.startswith("d/dy is wrong at (0.3, -1.2): got -0.0900, exact 0.0900")
    assert "(relative error 2.0)" in r.reason


def test_raise_if_failed_is_a_pytest_assertion() -> None:
    """In a user's pytest suite a wrong gradient raises AssertionError; a right one returns."""
    with pytest.raises(AssertionError, match=r"d/dy is wrong at \("):
        check_gradient(["2*x*y", "-x**2"], "x**2*y").raise_if_failed()
    good = check_gradient(["2*x*y", "x**2"], "x**2*y")
    assert good.raise_if_failed() is good


def test_call_conventions() -> None:
    """Vectorized, scalar-only and packed functions are all called correctly (call='auto')."""

    def scalar_only(x: float, y: float) -> list[float]:
        return [2 * x * y + math.cos(x), x**2]

    def packed(p: np.ndarray) -> np.ndarray:
        assert p.shape == (2,)
        return np.array([2 * p[0] * p[1] + np.cos(p[0]), p[0] ** 2])

    def vectorized(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.array([2 * x * y + np.cos(x), x**2])

    expr = "x**2*y + sin(x)"
    for user in (scalar_only, packed, vectorized):
        assert check_gradient(user, expr, n_points=50).status is Status.PASS
    assert check_gradient(packed, expr, n_points=50, call="packed").status is Status.PASS
    with pytest.raises(InputError, match="could not call user_fn"):
        check_gradient(packed, expr, n_points=5, call="unpacked")


def test_vectorized_call_that_mixes_points_is_not_trusted() -> None:
    """A function whose vectorized call couples points is called point by point instead."""

    def grad(x: np.ndarray) -> np.ndarray:  # d/dx of x**2 * |x|_2 ... written for scalars only
        return np.atleast_1d(3 * x * np.linalg.norm(x))

    r = check_gradient(grad, "x**2*abs(x)", n_points=50)
    assert r.status is Status.PASS, r.reason


def test_hessian_user_functions() -> None:
    """An (n, n) Hessian passes packed or vectorized (nested lists with constants) and a wrong
    off-diagonal entry fails, named by its row and column."""
    expr = "x**2*y + y**3"

    def packed(p: np.ndarray) -> np.ndarray:
        x, y = p
        return np.array([[2 * y, 2 * x], [2 * x, 6 * y]])

    def nested(x: np.ndarray, y: np.ndarray) -> list[list[object]]:
        return [[2 * y, 2 * x], [2 * x, 6 * y + 0.0]]

    def asymmetric(p: np.ndarray) -> np.ndarray:
        h = packed(p)
        h[1, 0] = -h[1, 0]
        return h

    assert check_gradient(packed, expr, kind="hessian").status is Status.PASS
    assert check_gradient(nested, expr, kind="hessian").status is Status.PASS
    r = check_gradient(asymmetric, expr, kind="hessian")
    assert r.status is Status.FAIL
    assert r.reason.startswith("d2/dydx is wrong")


def test_jacobian_user_function() -> None:
    """A user Jacobian (m, n) is compared entry by entry."""
    r = check_gradient(
        lambda x, y: [[y, x], [np.cos(x) * y, np.sin(x)]], ["x*y", "sin(x)*y"], kind="jacobian"
    )
    assert r.status is Status.PASS
    assert [e.entry for e in r.entries] == ["df1/dx", "df1/dy", "df2/dx", "df2/dy"]


def test_points_without_a_finite_derivative_are_skipped_and_counted() -> None:
    """sqrt(x) at negative points has no real derivative: those points are skipped."""
    r = check_gradient(lambda x: 0.5 / np.sqrt(x), "sqrt(x)", at=[-1.0, -0.5, 0.25, 1.0])
    assert (r.n_points, r.skipped) == (2, 2)
    assert r.status is Status.PASS
    assert "2 points skipped" in r.reason
    nothing = check_gradient(lambda x: x, "sqrt(x)", at=[-1.0])
    assert nothing.status is Status.INCONCLUSIVE


def test_nan_from_the_user_fails_and_serialises_as_null() -> None:
    """A user gradient that returns NaN fails; the JSON has exactly the documented keys."""
    r = check_gradient(lambda x: np.where(x > 1, np.nan, 2 * x), "x**2", domain={"x": (0, 2)})
    data = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert r.status is Status.FAIL
    assert set(data) == GRADIENT_KEYS
    assert set(data["worst"]) == {"entry", "point", "user", "exact", "rel_error"}
    assert data["worst"]["user"] is None
    assert data["entries"] == [{"entry": "d/dx", "max_rel_error": None, "status": "fail"}]
    assert "| d/dx |" in r.to_markdown()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "hessian2"},
        {"call": "packed2"},
        {"n_points": 0},
        {"rtol": -1.0},
        {"domain": (1, 0)},
    ],
)
def test_check_gradient_bad_options(kwargs: dict[str, object]) -> None:
    """Bad options raise ConfigError with a message."""
    with pytest.raises(ConfigError):
        check_gradient(["2*x"], "x**2", **kwargs)  # type: ignore[arg-type]


# -- taylor_test ----------------------------------------------------------------------------------


def rosenbrock(p: np.ndarray) -> float:
    """(1 - x)^2 + 100 (y - x^2)^2."""
    return float((1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2)


def rosenbrock_packed(p: np.ndarray) -> np.ndarray:
    """Its gradient, packed."""
    return rosenbrock_gradient(p[0], p[1])


def test_taylor_correct_gradient_has_order_two() -> None:
    """A correct gradient: the remainder falls as h^2 (within 0.1) and the verdict is pass."""
    r = taylor_test(rosenbrock, rosenbrock_packed, [0.3, 0.7])
    assert r.status is Status.PASS
    assert r.observed_order is not None
    assert abs(r.observed_order - 2) < 0.1


def test_taylor_gradient_off_by_one_part_in_ten_thousand_has_order_one() -> None:
    """One component scaled by 1.0001: the remainder falls as h^1 and the verdict is fail."""
    r = taylor_test(rosenbrock, lambda p: rosenbrock_packed(p) * [1, 1.0001], [0.3, 0.7])
    assert r.status is Status.FAIL
    assert r.observed_order is not None
    assert abs(r.observed_order - 1) < 0.1
    assert "the gradient is wrong" in r.reason


def test_taylor_linear_function_is_exact() -> None:
    """f linear: the remainder is round-off at every step, so the verdict is exact."""
    r = taylor_test(lambda p: 3 * p[0] - 2 * p[1], lambda p: np.array([3.0, -2.0]), [0.3, 0.7])
    assert r.status is Status.EXACT
    assert r.observed_order is None


def test_taylor_quadratic_function_has_order_two() -> None:
    """f quadratic: the remainder is exactly h^2 v'Hv/2, order 2 (pass)."""
    r = taylor_test(lambda p: p @ p, lambda p: 2 * p, [1.0, -2.0, 0.5], direction=[1.0, 1.0, 1.0])
    assert r.status is Status.PASS
    assert r.remainders[0] == pytest.approx(3 * 0.1**2, rel=1e-12)


def test_taylor_json_and_table() -> None:
    """to_dict has the documented keys and the text shows the steps and the round-off floor."""
    r = taylor_test(rosenbrock, rosenbrock_packed, [0.3, 0.7])
    data = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert set(data) >= {"steps", "remainders", "orders", "observed_order", "status", "reason"}
    assert len(data["steps"]) == 13
    assert data["steps"][0] == 0.1
    assert "round-off" in r.to_text()


def test_taylor_bad_direction_raises() -> None:
    """A direction of the wrong shape is bad input."""
    with pytest.raises(ConfigError, match="direction"):
        taylor_test(rosenbrock, rosenbrock_packed, [0.3, 0.7], direction=[1.0])


def test_taylor_step_sizes_are_the_steps_h_given() -> None:
    """f = p·p, grad 2p: r(h) = h² |v|² exactly (v = (1, 1): 2h²), at the step sizes given."""
    hs = [0.5, 0.25, 0.125, 0.0625, 0.03125]
    r = taylor_test(lambda p: p @ p, lambda p: 2 * p, [1.0, -2.0], direction=[1, 1], step_sizes=hs)
    assert r.step_sizes == (0.5, 0.25, 0.125, 0.0625, 0.03125)
    assert r.remainders == pytest.approx([2 * h * h for h in hs], rel=1e-12)
    assert r.status is Status.PASS
    assert r.to_dict()["steps"] == hs


def test_taylor_old_steps_keyword_warns_and_gives_the_same_result() -> None:
    """steps= is the deprecated name of step_sizes=: same remainders, a warning naming the new one."""
    hs = [0.1, 0.01, 0.001]
    new = taylor_test(rosenbrock, rosenbrock_packed, [0.3, 0.7], step_sizes=hs)
    with pytest.warns(DeprecationWarning, match="step_sizes="):
        old = taylor_test(rosenbrock, rosenbrock_packed, [0.3, 0.7], steps=hs)
    assert old.remainders == new.remainders
    with pytest.warns(DeprecationWarning, match="step_sizes"):
        assert old.steps == (0.1, 0.01, 0.001)
    with pytest.raises(ConfigError, match="step_sizes"):
        taylor_test(rosenbrock, rosenbrock_packed, [0.3, 0.7], step_sizes=hs, steps=hs)
    with pytest.raises(ConfigError, match="step_sizes must be"):
        taylor_test(rosenbrock, rosenbrock_packed, [0.3, 0.7], step_sizes=[0.1, -0.1, 0.01])


def test_check_gradient_old_points_keyword_warns_and_gives_the_same_result() -> None:
    """points= is the deprecated name of at=: the same points are judged, with a warning."""
    pts = [[0.3, -1.2], [1.5, 0.25]]
    new = check_gradient(["2*x*y", "-x**2"], "x**2*y", at=pts)
    with pytest.warns(DeprecationWarning, match="at="):
        old = check_gradient(["2*x*y", "-x**2"], "x**2*y", points=pts)
    assert new.status is old.status is Status.FAIL
    assert old.points.tolist() == new.points.tolist() == pts
    # d/dy = x**2 exactly: at (0.3, -1.2) the user's -0.09 is off by 2 relative
    assert old.worst is not None
    assert old.worst["rel_error"] == pytest.approx(2.0, rel=1e-15)
    with pytest.raises(ConfigError, match="at"):
        check_gradient(["2*x*y", "x**2"], "x**2*y", at=pts, points=pts)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(expr=smooth_expressions(), point=points())
def test_correct_derivatives_never_fail(expr: str, point: str) -> None:
    """No false fails: the exact gradient of any smooth expression passes at any point."""
    result = check(expr, point, dps=30, variables="x y")
    assert result.status in (Status.PASS, Status.EXACT), result.to_text()


@settings(max_examples=15, deadline=None, derandomize=True)
@given(expr=smooth_expressions())
def test_exact_gradient_passes_check_gradient(expr: str) -> None:
    """symgrad's own compiled gradient, handed in as a user's function, always passes."""
    exact = symgrad.gradient(expr, "x y")
    result = check_gradient(exact, expr, n_points=50, variables="x y")
    assert result.status in (Status.PASS, Status.EXACT), result.to_text()


# -- check_gradient: a vectorized call that disagrees with calls on one point ------------------

_GRID = np.array([[0.3, 0.7], [1.1, -0.4], [2.0, 0.5], [-1.5, 1.25]])


def _xy_sin_gradient(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d/dx, d/dy of x*y + sin(x) by hand: (y + cos x, x)."""
    return np.array([y + np.cos(x), x + 0 * y])


_BATCH_SLIPS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "mean over the batch": lambda x, y: np.array([np.mean(y) + np.cos(x), np.mean(x) + 0 * y]),
    "shifted index": lambda x, y: _xy_sin_gradient(np.roll(x, 1), np.roll(y, 1)),
    "reversed batch": lambda x, y: _xy_sin_gradient(np.flip(x), np.flip(y)),
}


@pytest.mark.parametrize("slip", sorted(_BATCH_SLIPS))
def test_check_gradient_fails_a_wrong_vectorized_call_that_is_right_point_by_point(
    slip: str,
) -> None:
    """Each slip is exact on one point (a batch of one) and wrong on the batch: fail, named."""
    user = _BATCH_SLIPS[slip]
    for x, y in _GRID:  # one point at a time it is the closed form
        assert np.array_equal(user(np.array([x]), np.array([y]))[:, 0], [y + math.cos(x), x])
    r = check_gradient(user, "x*y + sin(x)", at=_GRID)
    assert r.status is Status.FAIL, r.reason
    assert r.reason.startswith("the vectorized call is wrong"), r.reason
    assert "called on one point at a time, user_fn's values pass" in r.reason
    assert r.worst is not None
    x, y = r.worst["point"]["x"], r.worst["point"]["y"]
    truth = {"d/dx": y + math.cos(x), "d/dy": x}[r.worst["entry"]]
    assert r.worst["exact"] == pytest.approx(truth, rel=1e-15)
    assert abs(r.worst["user"] - truth) > 0.1


def test_check_gradient_vectorized_values_within_accuracy_are_not_failed() -> None:
    """On arrays the code rounds differently (1e-10 relative, above the 1e-12 comparison, below
    rtol): both calls are right, the verdict passes and notes the difference."""

    def user(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        bump = 1 + 1e-10 * (np.ndim(x) > 0)
        return _xy_sin_gradient(x, y) * bump

    r = check_gradient(user, "x*y + sin(x)", at=_GRID)
    assert r.status is Status.PASS, r.reason
    assert "other values than calls on one point, within the attainable accuracy" in r.reason


def test_check_gradient_wrong_both_ways_names_the_point_by_point_failure() -> None:
    """Wrong on one point (d/dy = 2x) and mixing the batch: the calls on one point fail, and the
    reason adds that the vectorized call is wrong too."""

    def user(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.array([np.mean(y) + np.cos(x), 2 * x + 0 * np.mean(y)])

    r = check_gradient(user, "x*y + sin(x)", at=_GRID)
    assert r.status is Status.FAIL, r.reason
    assert r.worst is not None
    assert r.worst["entry"] == "d/dy"
    assert r.reason.endswith("the vectorized call on arrays of points is wrong too")


_SLIP_POINTS = st.lists(
    st.tuples(st.floats(-3, 3), st.floats(-3, 3)), min_size=2, max_size=40, unique=True
)


def _batch_slip_property(rows: list[tuple[float, float]], slip: str) -> None:
    """A batching slip fails unless it leaves every value the same (checked with NumPy on the
    closed form); right vectorized code passes."""
    at = np.array(rows)
    x, y = at.T
    truth = np.array([y + np.cos(x), x])
    right = check_gradient(_xy_sin_gradient, "x*y + sin(x)", at=at)
    assert right.status is Status.PASS, right.reason
    wrong = _BATCH_SLIPS[slip]
    off = np.abs(wrong(x, y) - truth) > 1e-6 * (1 + np.abs(truth))
    r = check_gradient(wrong, "x*y + sin(x)", at=at)
    if off.any():
        assert r.status is Status.FAIL, r.reason
        assert "vectorized" in r.reason
    else:
        assert r.status is Status.PASS, r.reason


@settings(max_examples=20, deadline=None, derandomize=True)
@given(rows=_SLIP_POINTS, slip=st.sampled_from(sorted(_BATCH_SLIPS)))
def test_check_gradient_batch_slips_never_pass(rows: list[tuple[float, float]], slip: str) -> None:
    _batch_slip_property(rows, slip)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, derandomize=True)
@given(rows=_SLIP_POINTS, slip=st.sampled_from(sorted(_BATCH_SLIPS)))
def test_check_gradient_batch_slips_never_pass_many(
    rows: list[tuple[float, float]], slip: str
) -> None:
    _batch_slip_property(rows, slip)


# -- check_gradient where symgrad's own float64 formula overflows --------------------------------


def _mp(dps: int = 60) -> mpmath.MPContext:
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


def _logistic_truth(x: float) -> float:
    """d/dx log(1 + exp(x)) = 1/(1 + exp(-x)), in a private 60-digit context."""
    ctx = _mp()
    return float(1 / (1 + ctx.exp(-ctx.mpf(x))))


def _softmax_truth(x: float, y: float) -> list[float]:
    ctx = _mp()
    return [float(1 / (1 + ctx.exp(ctx.mpf(y) - x))), float(1 / (1 + ctx.exp(ctx.mpf(x) - y)))]


_FAR = np.array([[0.5], [800.0], [900.0], [5000.0], [-800.0]])


def _cube_root_slope(x: np.ndarray) -> np.ndarray:
    """d/dx (x**2 + 1)**(1/3) = 2x/(3 (x**2 + 1)**(2/3)), without squaring x: (x/h)/cbrt(h)."""
    h = np.hypot(x, 1.0)
    return 2 * (x / h) / (3 * np.cbrt(h))


def test_check_gradient_judges_points_where_its_formula_overflows() -> None:
    """2x/(3 (x**2 + 1)**(2/3)) overflows its square at 1e155, 1e200 and 1e300 (x/inf**(2/3)
    = 0 where the exact value is 1.4e-52 .. 6.7e-101; symgrad scales square roots of sums of
    squares, not cube roots): stable code passes there against the exact value, and the reason
    says how those points were judged."""
    far = np.array([[0.5], [1e155], [1e200], [1e300], [-1e155]])
    with np.errstate(all="ignore"):
        assert np.isinf(far[1:, 0] ** 2).all()  # the formula's square
    ctx = _mp()
    truth = [float(2 * ctx.mpf(v) / (3 * ctx.cbrt(ctx.mpf(v) ** 2 + 1) ** 2)) for v in far[:, 0]]
    assert np.allclose(_cube_root_slope(far[:, 0]), truth, rtol=1e-15, atol=0)
    r = check_gradient(_cube_root_slope, "(x**2 + 1)**(1/3)", at=far)
    assert r.status is Status.PASS, r.reason
    assert (r.n_points, r.skipped, r.undecided) == (5, 0, 0)
    assert (
        "where symgrad's own float64 formula overflows judged against the exact value" in r.reason
    )


@pytest.mark.parametrize("wrong", [0.0, 0.5, 1 - 1e-6, -1.0])
def test_check_gradient_fails_wrong_values_where_its_formula_overflows(wrong: float) -> None:
    """A value other than the exact 1.0 at x = 900 (off by 1e-6 or more) fails, and the worst
    point's exact value is the closed form there."""

    def user(x: np.ndarray) -> np.ndarray:
        return np.where(x == 900.0, wrong, 1 / (1 + np.exp(-x)))

    r = check_gradient(user, "log(1 + exp(x))", at=_FAR)
    assert r.status is Status.FAIL, r.reason
    assert r.worst is not None
    assert r.worst["point"] == {"x": 900.0}
    assert r.worst["exact"] == _logistic_truth(900.0) == 1.0


def test_check_gradient_naive_overflowing_code_is_inconclusive() -> None:
    """The user's exp(x)/(exp(x) + 1) is NaN where symgrad's is: not a fail, and not a pass
    (NaN, like 0 for x/sqrt(x**2 + 1) at 1e155, cannot be told from a wrong value there)."""
    r = check_gradient(lambda x: np.exp(x) / (np.exp(x) + 1), "log(1 + exp(x))", at=_FAR)
    assert r.status is Status.INCONCLUSIVE, r.reason
    assert r.undecided == 3
    assert "overflows the same way cannot be told from a wrong one" in r.reason
    assert r.worst is not None
    assert r.worst["exact"] == _logistic_truth(r.worst["point"]["x"])


@pytest.mark.parametrize("wrong", [0.0, math.nan])
def test_check_gradient_a_value_equal_to_its_overflowed_formula_is_not_passed(
    wrong: float,
) -> None:
    """2x/(3 (x**2 + 1)**(2/3)) at 1e155 is 0 in float64 (the square overflows), the exact value
    1.4e-52: a user returning 0 or NaN there is inconclusive, one returning -1 fails."""
    at = np.array([[0.5], [3.0], [1e155]])
    with np.errstate(all="ignore"):
        big = np.float64(1e155)
        assert float(2 * big / (3 * (big**2 + 1) ** (2 / 3))) == 0.0

    def user(x: np.ndarray, value: float = wrong) -> np.ndarray:
        return np.where(x > 1e154, value, _cube_root_slope(x))

    r = check_gradient(user, "(x**2 + 1)**(1/3)", at=at)
    assert r.status is Status.INCONCLUSIVE, r.reason
    flipped = check_gradient(lambda x: user(x, -1.0), "(x**2 + 1)**(1/3)", at=at)
    assert flipped.status is Status.FAIL, flipped.reason


def test_check_gradient_softmax_beyond_overflow_against_mpmath() -> None:
    """log(exp(x) + exp(y)) where both exps overflow: a stable softmax passes, swapped entries
    fail, and the exact value named is mpmath's."""

    def softmax(x: np.ndarray, y: np.ndarray, swap: bool = False) -> np.ndarray:
        m = np.maximum(x, y)
        a, b = np.exp(x - m), np.exp(y - m)
        g = np.array([a / (a + b), b / (a + b)])
        return g[::-1] if swap else g

    at = np.array([[800.0, 750.0], [720.0, 900.0], [1000.0, 999.5], [3.0, 1.0]])
    right = check_gradient(softmax, "log(exp(x) + exp(y))", at=at)
    assert right.status is Status.PASS, right.reason
    wrong = check_gradient(lambda x, y: softmax(x, y, True), "log(exp(x) + exp(y))", at=at)
    assert wrong.status is Status.FAIL, wrong.reason
    assert wrong.worst is not None
    point = wrong.worst["point"]
    k = ["d/dx", "d/dy"].index(wrong.worst["entry"])
    assert wrong.worst["exact"] == pytest.approx(
        _softmax_truth(point["x"], point["y"])[k], rel=1e-15, abs=1e-300
    )


_Closed = Callable[[mpmath.MPContext, Any], Any]
_OVERFLOWING: dict[
    str, tuple[_Closed, st.SearchStrategy[float]]
] = {  # expression, the closed form of its derivative, points where float64 overflows
    "log(1 + exp(x))": (lambda c, x: 1 / (1 + c.exp(-x)), st.floats(710.0, 1e4)),
    "(x**2 + 1)**(1/3)": (
        lambda c, x: 2 * x / (3 * c.cbrt(x**2 + 1) ** 2),
        st.floats(1e155, 1e300),
    ),
    "log(exp(x) + 1/exp(x))": (lambda c, x: c.tanh(x), st.floats(710.0, 1e4)),
}


def _overflow_property(name: str, xs: list[float], planted: float) -> None:
    """Oracle: the closed form in a private 60-digit context, rounded to float64. The correctly
    rounded values pass; a relative error ``planted`` (>= 1e-6) at one point fails."""
    ctx = _mp()
    closed, _ = _OVERFLOWING[name]
    table = {x: float(closed(ctx, ctx.mpf(x))) for x in xs}
    at = np.array(xs)[:, None]

    def user(x: np.ndarray, factor: float = 1.0) -> np.ndarray:
        got = [table[float(v)] * (factor if float(v) == xs[-1] else 1.0) for v in np.ravel(x)]
        return np.reshape(got, np.shape(x))

    right = check_gradient(user, name, at=at)
    assert right.status is Status.PASS, right.reason
    wrong = check_gradient(lambda x: user(x, 1 + planted), name, at=at)
    assert wrong.status is Status.FAIL, wrong.reason


@st.composite
def _overflow_cases(draw: Any) -> tuple[str, list[float], float]:
    """An expression, 1 to 6 points where its float64 formula overflows, a planted error."""
    name = draw(st.sampled_from(sorted(_OVERFLOWING)))
    xs = draw(st.lists(_OVERFLOWING[name][1], min_size=1, max_size=6, unique=True))
    return name, xs, draw(st.sampled_from([1e-6, 1e-3, -0.5, 1.0, -2.0]))


@settings(max_examples=15, deadline=None, derandomize=True)
@given(case=_overflow_cases())
def test_check_gradient_planted_errors_where_its_formula_overflows_fail(
    case: tuple[str, list[float], float],
) -> None:
    _overflow_property(*case)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, derandomize=True)
@given(case=_overflow_cases())
def test_check_gradient_planted_errors_where_its_formula_overflows_fail_many(
    case: tuple[str, list[float], float],
) -> None:
    _overflow_property(*case)


def _cross_entropy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d/dx, d/dy of log(exp(x) + exp(y)) − x as users write it: a stable softmax minus one."""
    m = np.maximum(x, y)
    a, b = np.exp(x - m), np.exp(y - m)
    return np.array([a / (a + b) - 1, b / (a + b)])


def test_check_gradient_cancelling_code_where_its_formula_overflows_is_not_failed() -> None:
    """At (800, 750) d/dx is −1/(1 + e^50) = −1.9e-22 (mpmath), while softmax − 1 cancels to 0:
    correct code, within what summing chain-rule terms of size 1 can attain: not failed. A
    planted 1e-3 there fails."""
    at = np.array([[800.0, 750.0], [720.0, 900.0], [0.3, 0.2]])
    ctx = _mp()
    assert float(-1 / (1 + ctx.exp(50))) == pytest.approx(-1.9287498479639178e-22, rel=1e-15)
    r = check_gradient(_cross_entropy, "log(exp(x) + exp(y)) - x", at=at)
    assert r.status is not Status.FAIL, r.reason

    def planted(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        out: np.ndarray = _cross_entropy(x, y) - np.array([1e-3, 0.0])[:, None] * (x == 800.0)
        return out

    wrong = check_gradient(planted, "log(exp(x) + exp(y)) - x", at=at)
    assert wrong.status is Status.FAIL, wrong.reason
    assert wrong.worst is not None
    assert wrong.worst["point"] == {"x": 800.0, "y": 750.0}
    assert wrong.worst["exact"] == pytest.approx(-1.9287498479639178e-22, rel=1e-15)


_LOGITS = st.lists(
    st.tuples(st.floats(-1500, 1500), st.floats(-1500, 1500)), min_size=1, max_size=8, unique=True
)


def _cross_entropy_property(rows: list[tuple[float, float]]) -> None:
    """Right cross-entropy code never fails at any logits; one entry off by 1e-3 of its
    closed form's chain-rule size (1) at the first point fails (oracle: mpmath)."""
    at = np.array(rows)
    right = check_gradient(_cross_entropy, "log(exp(x) + exp(y)) - x", at=at)
    assert right.status is not Status.FAIL, right.reason

    def planted(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        g = _cross_entropy(x, y)
        g[1, 0] += 1e-3 if g.ndim == 2 and len(x) == len(rows) else 0.0
        return g

    truth = _softmax_truth(*rows[0])[1]
    assert abs(truth + 1e-3 - truth) > 0  # the planted value is not the exact one
    wrong = check_gradient(planted, "log(exp(x) + exp(y)) - x", at=at)
    assert wrong.status is Status.FAIL, wrong.reason


@settings(max_examples=20, deadline=None, derandomize=True)
@given(rows=_LOGITS)
def test_check_gradient_cross_entropy_at_any_logits(rows: list[tuple[float, float]]) -> None:
    _cross_entropy_property(rows)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, derandomize=True)
@given(rows=_LOGITS)
def test_check_gradient_cross_entropy_at_any_logits_many(rows: list[tuple[float, float]]) -> None:
    _cross_entropy_property(rows)
