"""Grid-scheme verification: errors, observed orders, verdicts, diagnostics, sources.

References are independent of the module under test: closed forms for the errors of
numpy.gradient's documented formulas on polynomials, norms recomputed here
with boolean masks, the exact discrete solution of the 1-D Poisson MMS problem and its published
error table, and the published manufactured source terms.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad.errors import CheckFailed, ConfigError, InputError, LimitExceeded, ParseError
from symgrad.grids import manufactured_source, scharr_scheme, sobel_scheme, verify_grid
from symgrad.results import Status

# Tolerances, in one place: (rtol, atol).
EXACT_FLOAT = (1e-12, 0.0)  # quantities computed in exact binary arithmetic, up to a few ulp
ORDER_BAND = 0.1  # observed orders of smooth fields must be this close to the integer
TABLE = (1e-9, 0.0)  # published 10-11 digit values
SAME_FIELD = (1e-9, 1e-13)  # the same numbers computed by two float64 evaluations

QUADRATIC = "2*x**2 + 3*y**2 - 4*z"
CUBE = "x=-100:100,y=-100:100,z=-100:100"  # 9 points per axis: spacing 25
GENERIC = "sin(x + 0.3)*exp(y/2)"
BOX = "x=-1:1,y=-1:1"


def regions_of(result, k):
    """The (interior, boundary) regions of component k."""
    c = result.components[k]
    return c.interior, c.boundary


# ------------------------------------------------------------------ acceptance
def test_quadratic_under_edge_order_2_is_exact():
    """A quadratic under numpy.gradient(edge_order=2) with spacing 25 is exact in every region."""
    r = verify_grid(QUADRATIC, CUBE, (5, 9), "numpy:edge_order=2")
    assert r.status is Status.EXACT
    assert r.spacings[-1] == (25.0, 25.0, 25.0)
    for c in r.components:
        assert (c.interior.status, c.boundary.status) == (Status.EXACT, Status.EXACT)


def test_quadratic_under_edge_order_1_matches_the_forward_error_term():
    """With edge_order=1 the interior is exact and the boundary error is C h f'' with C = 1/2."""
    r = verify_grid(QUADRATIC, CUBE, (5, 9, 17), "numpy")
    # two orders do not show an order settle: one finer level (h = 6.25) is added
    assert (r.sizes, r.refined) == ((5, 9, 17, 33), (33,))
    h = np.array([50.0, 25.0, 12.5, 6.25])
    # f_xx = 4, f_yy = 6, f_zz = 0: the forward difference errs by h/2 f'' on the faces.
    for k, second in enumerate((4.0, 6.0, 0.0)):
        interior, boundary = regions_of(r, k)
        assert interior.status is Status.EXACT
        np.testing.assert_allclose(boundary.errors["Linf"], h / 2 * second, *EXACT_FLOAT)
    assert r.components[0].boundary.errors["Linf"][1] == pytest.approx(50.0, rel=1e-12)
    assert r.components[1].boundary.errors["Linf"][1] == pytest.approx(75.0, rel=1e-12)
    assert r.components[2].status is Status.EXACT
    np.testing.assert_allclose(r.components[0].boundary.orders, [1.0, 1.0, 1.0], *EXACT_FLOAT)
    assert r.status is Status.PASS


def test_missing_spacing_is_reported_as_factor_h():
    """np.gradient(f) without spacing returns h times the derivative: the factor 25 is named."""
    r = verify_grid(QUADRATIC, CUBE, (5, 9), lambda f, h: np.gradient(f), expect_order=(2, 1))
    (d,) = [d for d in r.diagnostics if d["kind"] == "constant_factor"]
    assert d["components"] == ["x", "y", "z"]
    np.testing.assert_allclose(d["factor"], 25.0, *EXACT_FLOAT)
    np.testing.assert_allclose(d["factors"], [50.0, 25.0], *EXACT_FLOAT)
    assert (d["scales_as"], d["per_h"]) == ("h^1", pytest.approx(1.0, rel=1e-12))
    assert "np.gradient(f, h)" in d["advice"]
    assert "25 times too large" in d["message"]
    assert not r.ok


@pytest.mark.parametrize("edge_order", [1, 2])
def test_generic_field_orders_in_json(edge_order):
    """A generic field shows interior order 2 and boundary order edge_order in the JSON."""
    r = verify_grid(GENERIC, BOX, scheme=f"numpy:edge_order={edge_order}")
    data = json.loads(r.to_json())
    assert data["status"] == "pass"
    for comp in data["components"]:
        assert abs(comp["interior"]["observed_order"] - 2) < ORDER_BAND
        assert abs(comp["boundary"]["observed_order"] - edge_order) < ORDER_BAND
        assert abs(comp["boundary"]["finest_order"] - edge_order) < ORDER_BAND


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(-5, 5), min_size=6, max_size=6), st.integers(-3, 3))
def test_every_quadratic_is_exact_under_edge_order_2(c, shift):
    """numpy.gradient's 3-point formulas reproduce any quadratic exactly."""
    expr = f"{c[0]}*x**2 + {c[1]}*x*y + {c[2]}*y**2 + {c[3]}*x + {c[4]}*y + {c[5]}"
    r = verify_grid(expr, f"x={shift}:{shift + 2},y=-1:3", (9, 17, 33), "numpy:edge_order=2")
    assert r.status is Status.EXACT
    assert r.diagnostics == ()


# ---------------------------------------------------------------------------- diagnostics
def test_meshgrid_xy_swap_is_diagnosed():
    """A scheme written for indexing='xy' data returns swapped components, and is told so."""

    def xy_confused(f, h):
        dfdy, dfdx = np.gradient(f, h[1], h[0])  # believes axis 0 is y
        return dfdx, dfdy

    r = verify_grid(GENERIC, "x=-1:1,y=0:3", scheme=xy_confused)
    (d,) = r.diagnostics
    assert (d["kind"], d["components"]) == ("swapped_components", ["x", "y"])
    assert "indexing='ij'" in d["advice"]
    assert r.status is Status.FAIL


def test_sign_flip_is_diagnosed():
    """An output of -∇f (E = -∇V) is reported as a flipped sign, not as a wrong order."""
    r = verify_grid(GENERIC, BOX, scheme=lambda f, h: [-g for g in np.gradient(f, *h)])
    (d,) = r.diagnostics
    assert (d["kind"], d["components"]) == ("sign_flip", ["x", "y"])
    assert d["factor"] == pytest.approx(-1.0, abs=1e-3)


def test_sine_on_full_period_is_a_degenerate_field():
    """sin on [0, 2π]: f'' = 0 at both ends hides the first-order boundary; the test says so."""
    r = verify_grid("sin(x)", "x=0:2*pi")
    (d,) = r.diagnostics
    assert (d["kind"], d["component"], d["region"]) == ("degenerate_field", "x", "boundary")
    boundary = r.components[0].boundary
    assert abs(boundary.observed_order - 2) < ORDER_BAND
    assert boundary.status is Status.INCONCLUSIVE
    assert "sin(x + 0.3) + x**3/7" in d["advice"]


def test_generic_field_is_not_degenerate():
    """The suggested field sin(x + 0.3) + x**3/7 shows the true boundary order 1 without warning."""
    r = verify_grid("sin(x + 0.3) + x**3/7", "x=0:2*pi")
    assert r.diagnostics == ()
    assert abs(r.components[0].boundary.observed_order - 1) < ORDER_BAND
    assert r.status is Status.PASS


@pytest.mark.parametrize(("make", "weight"), [(sobel_scheme, 8.0), (scharr_scheme, 32.0)])
def test_raw_filter_factor_on_a_linear_field(make, weight):
    """A raw Sobel (Scharr) response is exactly 8h (32h) times the derivative of a linear field."""
    r = verify_grid("3*x - 2*y", "x=0:3,y=0:3", (9, 17, 33), make(normalize=False))
    (d,) = r.diagnostics
    h = np.array([3 / 8, 3 / 16, 3 / 32])
    assert (d["kind"], d["components"], d["scales_as"]) == ("constant_factor", ["x", "y"], "h^1")
    np.testing.assert_allclose(d["factors"], weight * h, *EXACT_FLOAT)
    np.testing.assert_allclose(d["per_h"], weight, *EXACT_FLOAT)


@pytest.mark.parametrize("make", [sobel_scheme, scharr_scheme])
def test_normalized_filter_is_second_order_inside(make):
    """Normalized Sobel and Scharr converge at order 2 inside; edge padding fails at the border."""
    r = verify_grid(GENERIC, BOX, scheme=make())
    for c in r.components:
        assert c.interior.status is Status.PASS
        assert abs(c.interior.observed_order - 2) < ORDER_BAND
        assert c.boundary.status is Status.FAIL
        assert abs(c.boundary.observed_order) < ORDER_BAND


# ------------------------------------------------------------------- grids and norms
def stretched(n):
    """A smoothly stretched grid on [-1, 1]: x = ξ + 0.2 sin(πξ)/π, dx/dξ = 1 + 0.2 cos(πξ) > 0."""
    xi = np.linspace(-1, 1, n)
    x = xi + 0.2 * np.sin(np.pi * xi) / np.pi
    return [x, x]


def test_nonuniform_coordinates_with_numpy_gradient():
    """numpy.gradient gets the coordinates: order 2 inside and 1 at the boundary of a stretched grid."""
    r = verify_grid(GENERIC, BOX, scheme="numpy", coordinates=stretched)
    assert r.status is Status.PASS
    for c in r.components:
        assert abs(c.interior.observed_order - 2) < ORDER_BAND
        assert abs(c.boundary.observed_order - 1) < ORDER_BAND
    assert r.spacings[0] == pytest.approx((2 / 16, 2 / 16), rel=1e-12)


def test_coordinate_levels_given_as_a_list():
    """Coordinates may be a list of levels; the sizes are then their lengths."""
    r = verify_grid(GENERIC, BOX, coordinates=[stretched(n) for n in (17, 33, 65, 129)])
    assert (r.sizes, r.refined) == ((17, 33, 65, 129), ())
    assert r.status is Status.PASS
    short = verify_grid(GENERIC, BOX, coordinates=[stretched(n) for n in (17, 33, 65)])
    assert short.status is Status.INCONCLUSIVE  # two orders, and no finer level can be made
    assert "given as a list" in short.reason


@pytest.mark.parametrize(
    ("expr", "domain", "width"),
    [
        ("sin(x + 0.3)", "x=-1:1", 1),
        (GENERIC, "x=-1:1,y=0:2", 2),
        ("sin(x + 0.3)*exp(y/2)*cos(z)", "x=-1:1,y=0:2,z=0:1", 1),
    ],
)
def test_norms_follow_their_definitions(expr, domain, width):
    """L1, L2, L∞ are mean|e|, sqrt(mean e²), max|e| over interior and boundary (boolean masks)."""
    r = verify_grid(expr, domain, (9, 13), boundary_width=width, max_points=0)
    axes = [
        np.linspace(*map(float, part.split("=")[1].split(":")), 13) for part in domain.split(",")
    ]
    grid = np.meshgrid(*axes, indexing="ij")
    x, y, z = (*grid, *[0.0] * (3 - len(grid)))
    f = np.sin(x + 0.3) * np.exp(y / 2) * np.cos(z)
    exact = [
        np.cos(x + 0.3) * np.exp(y / 2) * np.cos(z),
        f / 2,
        -np.sin(x + 0.3) * np.exp(y / 2) * np.sin(z),
    ]
    approx = (
        np.gradient(f, *[a[1] - a[0] for a in axes])
        if len(axes) > 1
        else [np.gradient(f, axes[0][1] - axes[0][0])]
    )
    inside = np.zeros(f.shape, dtype=bool)
    inside[(slice(width, -width),) * f.ndim] = True
    for k, c in enumerate(r.components):
        e = np.abs(approx[k] - exact[k])
        # the boundary of component k: the faces normal to axis k; transverse: the other faces
        own = np.ones(f.shape, dtype=bool)
        own[(slice(None),) * k + (slice(width, -width),)] = False
        masks = [(c.interior, inside), (c.boundary, own), (c.transverse, ~inside & ~own)]
        for region, mask in masks:
            if not mask.any():
                assert region is None  # 1-D: no transverse faces
                continue
            want = [e[mask].mean(), math.sqrt((e[mask] ** 2).mean()), e[mask].max()]
            got = [region.errors[n][-1] for n in ("L1", "L2", "Linf")]
            np.testing.assert_allclose(got, want, *SAME_FIELD)


def poisson_solver(field, spacing):
    """The standard 3-point solver of -u'' = π² sin(πx), u(0) = u(1) = 0 (ignores the field)."""
    (h,) = spacing
    n = field.size - 1
    x = np.linspace(0.0, 1.0, n + 1)
    a = (2 * np.eye(n - 1) - np.eye(n - 1, k=1) - np.eye(n - 1, k=-1)) / h**2
    u = np.zeros(n + 1)
    u[1:-1] = np.linalg.solve(a, np.pi**2 * np.sin(np.pi * x[1:-1]))
    return u


def test_poisson_mms_sequence_gives_published_errors_and_orders():
    """The 1-D Poisson MMS errors c_N - 1 and orders match to 10 digits."""
    # u = sin(πx) = d/dx of -cos(πx)/π, so the "scheme" output is compared with sin(πx).
    r = verify_grid("-cos(pi*x)/pi", "x=0:1", (9, 17, 33, 65, 129), poisson_solver)
    inner = r.components[0].interior
    table = [
        0.01295074672187927,
        0.003218964440079645,
        0.000803577679372357,
        0.0002008218097048784,
        5.020091591974965e-05,
    ]
    np.testing.assert_allclose(inner.errors["Linf"], table, *TABLE)
    np.testing.assert_allclose(
        inner.orders, [2.0083667395, 2.0020872428, 2.0005215338, 2.0001303661], rtol=0, atol=1e-9
    )
    # Interior points x_i = i/N, i = 1..N-1: mean of sin²(πx_i) is N / (2 (N - 1)).
    n = np.array([8, 16, 32, 64, 128])
    c = (np.pi / (2 * n)) ** 2 / np.sin(np.pi / (2 * n)) ** 2
    np.testing.assert_allclose(inner.errors["L2"], (c - 1) * np.sqrt(n / (2 * (n - 1))), *TABLE)
    # u(0) = u(1) = 0 are imposed: exact.  The field F = -cos(πx)/π has F‴ = -π² sin(πx), so
    # an order-2 error term h²F‴ vanishes on the faces, but the next one, h³F⁗ = h³π³ cos(πx),
    # would have stood far above the rounding floor.
    assert r.components[0].boundary.status is Status.EXACT
    assert r.status is Status.PASS


def test_exact_mp_agrees_with_float64_on_small_grids():
    """exact='mp' gives the same errors as float64 sampling where rounding is negligible."""
    fast = verify_grid(GENERIC, BOX, (9, 17, 33), max_points=0)
    slow = verify_grid(GENERIC, BOX, (9, 17, 33), exact="mp", max_points=0)
    for a, b in zip(fast.components, slow.components, strict=True):
        np.testing.assert_allclose(a.interior.errors["L2"], b.interior.errors["L2"], *SAME_FIELD)
    assert slow.to_dict()["exact"] == "mp"


def test_variables_reorder_the_axes():
    """variables='y x' makes y axis 0: the components follow that order and still pass."""
    r = verify_grid(GENERIC, BOX, variables="y x")
    assert [c.variable for c in r.components] == ["y", "x"]
    assert r.status is Status.PASS


def test_one_dimensional_callable_may_return_one_array():
    """In 1-D a callable may return the derivative array itself."""
    r = verify_grid(
        "exp(x/2)", "x=0:1", scheme=lambda f, h: np.gradient(f, h[0]), expect_order=(2, 1)
    )
    assert r.status is Status.PASS


def test_non_finite_output_fails_with_a_reason():
    """A scheme producing NaN fails, and the reason says so."""
    r = verify_grid(GENERIC, BOX, scheme=lambda f, h: [np.full(f.shape, np.nan)] * 2)
    assert r.status is Status.FAIL
    assert "non-finite" in r.reason
    json.dumps(r.to_dict(), allow_nan=False)  # NaN is written as null


# ------------------------------------------------- regions of a component, refinement
DRIFTING = "exp(2*x)*cos(1.5*y)"  # on the y faces h/2·f_yy is small: cos(1.5) = 0.0707


def numpy_errors(n):
    """|np.gradient - exact| of DRIFTING on the n-point grid of BOX, per component."""
    x = np.linspace(-1, 1, n)
    gx, gy = np.meshgrid(x, x, indexing="ij")
    approx = np.gradient(np.exp(2 * gx) * np.cos(1.5 * gy), x[1] - x[0], x[1] - x[0])
    exact = [2 * np.exp(2 * gx) * np.cos(1.5 * gy), -1.5 * np.exp(2 * gx) * np.sin(1.5 * gy)]
    return [np.abs(a - e) for a, e in zip(approx, exact, strict=True)]


def test_boundary_of_a_component_is_its_own_faces():
    """d/dy is one-sided on the faces normal to y only; the faces normal to x are transverse.

    On the y faces the forward difference errs by h/2·f_yy (order 1); on the x faces d/dy is
    central and errs by h²/6·f_yyy (order 2).  Reported errors equal this test's masks.
    """
    r = verify_grid(DRIFTING, BOX)
    n = r.sizes[-1]
    error = numpy_errors(n)[1]
    y_faces = np.concatenate([error[:, 0], error[:, -1]])
    x_faces = np.concatenate([error[0, 1:-1], error[-1, 1:-1]])
    comp = r.components[1]
    assert comp.boundary.errors["Linf"][-1] == pytest.approx(y_faces.max(), rel=1e-9)
    assert comp.transverse.errors["Linf"][-1] == pytest.approx(x_faces.max(), rel=1e-9)
    assert abs(comp.transverse.finest_order - 2) < ORDER_BAND
    assert (comp.transverse.expected_order, comp.transverse.at_least) == (1.0, True)


def test_drifting_orders_are_refined_until_they_settle():
    """The y faces' orders drift (1.38, 1.24, 1.14 on 17…129): finer levels are added, then pass."""
    r = verify_grid(DRIFTING, BOX)
    assert r.sizes[:4] == (17, 33, 65, 129)
    assert r.refined == r.sizes[4:]
    assert r.refined[0] == 257
    boundary = r.components[1].boundary
    np.testing.assert_allclose(boundary.orders[:3], [1.38, 1.24, 1.14], rtol=0, atol=0.01)
    assert abs(boundary.orders[-1] - boundary.orders[-2]) <= 0.05
    assert abs(boundary.finest_order - 1) < ORDER_BAND
    assert r.status is Status.PASS


def test_refinement_stays_within_its_budget():
    """No level beyond the budget is allocated; still-drifting orders are inconclusive, saying so."""
    seen = []

    def scheme(f, h):
        seen.append(f.size)
        return np.gradient(f, *h)

    budget = sum(n * n for n in (17, 33, 65, 129)) + 1000  # no room for 257 x 257
    r = verify_grid(DRIFTING, BOX, scheme=scheme, expect_order=(2, 1), max_points=budget)
    assert seen == [17**2, 33**2, 65**2, 129**2]
    assert (r.refined, r.max_points) == ((), budget)
    assert r.components[1].boundary.status is Status.INCONCLUSIVE
    assert r.status is Status.INCONCLUSIVE
    assert "budget" in r.reason
    assert "N = 257" in r.reason


def forward(f, h):
    """First-order forward differences (backward at the last point)."""
    d = np.empty_like(f)
    d[:-1] = (f[1:] - f[:-1]) / h[0]
    d[-1] = (f[-1] - f[-2]) / h[0]
    return d


def test_errors_below_the_rounding_floor_are_inconclusive_not_exact():
    """1e12 + sin(x + 0.3): rounding of the values hides a first-order scheme's error.

    A value near 1e12 is rounded by up to 2^-14 (half its ulp), so a difference over h carries
    up to 2^-13/h: the floor reported must be at least that, and nothing is called exact.
    """
    r = verify_grid("1e12 + sin(x + 0.3)", "x=-1:1", scheme=forward, expect_order=1)
    interior = r.components[0].interior
    assert r.status is Status.INCONCLUSIVE
    assert interior.status is Status.INCONCLUSIVE
    assert "rounding floor" in interior.reason
    assert "nothing can be decided" in interior.reason
    h = 2 / (np.array(r.sizes) - 1)
    assert np.all(np.array(interior.rounding_floor) >= 2.0**-13 / h)
    # without the offset the same scheme shows its order
    assert (
        verify_grid("sin(x + 0.3)", "x=-1:1", scheme=forward, expect_order=1).status is Status.PASS
    )


def test_exact_needs_a_floor_small_against_what_a_poorer_scheme_would_leave():
    """1e6 + 2x² under edge_order=2 is exact: a first-order error, h·f'' = 4h, would be far above
    the floor (about 64 ε 1e6/h); a first-order boundary claimed as second fails instead."""
    field = "1e6 + 2*x**2"
    exact = verify_grid(field, "x=-1:1", scheme="numpy:edge_order=2")
    assert exact.status is Status.EXACT
    wrong = verify_grid(field, "x=-1:1", scheme="numpy", expect_order=(2, 2))
    assert wrong.components[0].boundary.status is Status.FAIL
    np.testing.assert_allclose(
        wrong.components[0].boundary.errors["Linf"], 2.0 * h_of(wrong), rtol=1e-6
    )


def h_of(result):
    return np.array([max(s) for s in result.spacings])


def test_field_constant_along_an_axis_is_exact_there():
    """sin(x + 0.3) on a 2-D box: ∂f/∂y ≡ 0, so the y component is exact, x passes."""
    r = verify_grid("sin(x + 0.3)", BOX)
    x, y = r.components
    assert (x.status, y.status) == (Status.PASS, Status.EXACT)
    assert all(e == 0.0 for e in y.boundary.errors["Linf"])


def zeroed_transverse(f, h):
    """numpy.gradient with each component zeroed on the faces normal to the other axis only
    (the corners belong to the component's own faces and keep numpy's values)."""
    dx, dy = np.gradient(f, *h)
    dx[1:-1, [0, -1]] = 0.0
    dy[[0, -1], 1:-1] = 0.0
    return dx, dy


def test_a_scheme_wrong_only_on_transverse_faces_fails_there():
    """Zeroing d/dx on the y faces errs by |f_x| there (order 0): the transverse region fails."""
    r = verify_grid(GENERIC, BOX, scheme=zeroed_transverse, expect_order=(2, 1))
    for c in r.components:
        assert (c.interior.status, c.boundary.status) == (Status.PASS, Status.PASS)
        assert c.transverse.status is Status.FAIL
        assert abs(c.transverse.finest_order) < ORDER_BAND
    assert r.status is Status.FAIL


# ------------------------------------------------------------------------------ results
def test_json_keys_follow_the_design():
    """to_dict() carries the documented verify-grid keys at every level."""
    data = verify_grid(GENERIC, BOX).to_dict()
    assert {"status", "scheme", "sizes", "components", "diagnostics", "reason", "spacings"} <= set(
        data
    )
    comp = data["components"][0]
    assert set(comp) == {"variable", "interior", "boundary", "transverse", "status", "reason"}
    for region in (comp["interior"], comp["boundary"], comp["transverse"]):
        assert {"errors", "orders", "observed_order", "expected_order", "status"} <= set(region)
        assert set(region["errors"]) == {"L1", "L2", "Linf"}
        assert len(region["orders"]) == len(data["sizes"]) - 1
    assert data["expected_order"] == {"interior": 2.0, "boundary": 1.0}
    assert (data["refined"], data["max_points"]) == ([], 4_000_000)
    json.dumps(data, allow_nan=False)


def test_text_and_markdown_show_a_table_per_component():
    """The text and Markdown renderings show N, h, errors and orders for every component."""
    r = verify_grid(GENERIC, BOX, (17, 33, 65))
    text, markdown = r.to_text(), r.to_markdown()
    for size in ("17", "33", "65"):
        assert size in text
    assert "int. Linf" in text
    assert "component y: pass" in text
    assert "| N | h | int. L2 |" in markdown
    assert r.raise_if_failed() is r


def test_raise_if_failed_raises_on_failure():
    """raise_if_failed() raises CheckFailed for a failing scheme."""
    with pytest.raises(CheckFailed, match="sign_flip"):
        verify_grid(
            GENERIC, BOX, scheme=lambda f, h: [-g for g in np.gradient(f, *h)]
        ).raise_if_failed()


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"domain": "x=-1"}, ConfigError, "NAME=LOW:HIGH"),
        ({"domain": "x=1:-1"}, ConfigError, "LOW < HIGH"),
        ({"domain": "x=0:2*y"}, ConfigError, "finite constants"),
        ({"domain": "x=0:1,x=0:2"}, ConfigError, "distinct"),
        ({"domain": "w=0:1,x=0:1,y=0:1,z=0:1"}, ConfigError, "1 to 3"),
        ({"domain": 3}, InputError, "mapping"),
        ({"domain": {"x": (0, 1, 2)}}, ConfigError, "(low, high)"),
        ({"sizes": (9,)}, ConfigError, "2 or more"),
        ({"sizes": (9, 5)}, ConfigError, "increasing"),
        ({"sizes": (2, 5)}, ConfigError, "at least 3 points"),
        ({"sizes": "17,33"}, InputError, "sequence"),
        ({"scheme": "numpy:edge_order=3"}, ConfigError, "edge_order"),
        ({"scheme": "numpy:edge_order=2", "edge_order": 1}, ConfigError, "edge_order"),
        ({"scheme": "bogus"}, ConfigError, "'numpy'"),
        ({"edge_order": True}, ConfigError, "edge_order"),
        ({"exact": "float32"}, ConfigError, "'mp'"),
        ({"expect_order": -1}, ConfigError, "positive"),
        ({"boundary_width": 0}, ConfigError, "positive integer"),
        ({"variables": "y"}, ConfigError, "variables"),
        ({"coordinates": [[np.array([0, 1, 0.5, 2])]] * 3}, ConfigError, "increasing"),
    ],
)
def test_bad_input_is_refused_with_advice(kwargs, error, fragment):
    """Bad arguments raise the right error, naming the parameter and what to do."""
    args = {"expr": "x", "domain": "x=0:1"} | kwargs
    with pytest.raises(error) as info:
        verify_grid(**args)
    assert fragment in str(info.value)


def test_unknown_field_variable_is_a_parse_error():
    """A field using a name outside the domain is refused with the declared names."""
    with pytest.raises(ParseError, match="unknown variable 'y'"):
        verify_grid("x*y", "x=0:1")


def test_too_many_points_is_a_limit():
    """The finest level is capped at 2e7 points; exact='mp' at 2e5 points over all levels."""
    with pytest.raises(LimitExceeded, match="finest grid"):
        verify_grid("x", "x=0:1,y=0:1,z=0:1", (9, 300))
    with pytest.raises(LimitExceeded, match="exact='mp'"):
        verify_grid("x", "x=0:1,y=0:1", (9, 1000), exact="mp")


@pytest.mark.parametrize(
    "scheme",
    [lambda f, h: np.gradient(f, *h)[0], lambda f, h: 3, lambda f, h: [f[1:], f[1:]]],
    ids=["one array in 2-D", "a number", "wrong shape"],
)
def test_scheme_output_shape_mismatch_names_scheme_and_shapes(scheme):
    """A scheme returning the wrong shape raises InputError naming the scheme and the shapes."""
    with pytest.raises(
        InputError, match=r"scheme .*lambda.* returned .* expected 2 array\(s\) of shape \(17, 17\)"
    ):
        verify_grid(GENERIC, BOX, scheme=scheme)


# ---------------------------------------------------------------- manufactured sources
x, y, t = sympy.symbols("x y t", real=True)
nu, alpha, k0, ax, by, lx, ly = sympy.symbols("nu alpha k0 Ax By Lx Ly", real=True)
PI = sympy.pi


@pytest.mark.parametrize(
    ("operator", "solution", "published"),
    [
        # Poisson, -∇²u = 2π² sin(πx) sin(πy)
        (
            "-(D(u, x, 2) + D(u, y, 2))",
            "sin(pi*x)*sin(pi*y)",
            2 * PI**2 * sympy.sin(PI * x) * sympy.sin(PI * y),
        ),
        # MASA heateq_2d_steady_const: Q = k0 (Ax² + By²) cos(Ax x) cos(By y)
        (
            "-k0*(D(u, x, 2) + D(u, y, 2))",
            "cos(Ax*x)*cos(By*y)",
            k0 * (ax**2 + by**2) * sympy.cos(ax * x) * sympy.cos(by * y),
        ),
        # textbook heat: f = (2π²α - 1) e^(-t) sin(πx) sin(πy)
        (
            "D(u, t) - alpha*(D(u, x, 2) + D(u, y, 2))",
            "exp(-t)*sin(pi*x)*sin(pi*y)",
            (2 * PI**2 * alpha - 1) * sympy.exp(-t) * sympy.sin(PI * x) * sympy.sin(PI * y),
        ),
        # 1-D viscous Burgers: f = e^(-2t) sin(πx) [(π²ν - 1) e^t + π cos(πx)]
        (
            "D(u, t) + u*D(u, x) - nu*D(u, x, 2)",
            "exp(-t)*sin(pi*x)",
            sympy.exp(-2 * t)
            * sympy.sin(PI * x)
            * ((PI**2 * nu - 1) * sympy.exp(t) + PI * sympy.cos(PI * x)),
        ),
        # MASA laplace_2d: ∇²φ = 4 (3x² + 3y² - Lx² - Ly²)
        (
            "D(u, x, 2) + D(u, y, 2)",
            "(Ly - y)^2*(Ly + y)^2 + (Lx - x)^2*(Lx + x)^2",
            4 * (3 * x**2 + 3 * y**2 - lx**2 - ly**2),
        ),
        # mixed partials
        ("D(u, x, y) + D(u, x, 2, y)", "x**2*y**3", 6 * x * y**2 + 6 * y**2),
    ],
    ids=["poisson", "masa-heat-steady", "heat-transient", "burgers-1d", "masa-laplace", "mixed"],
)
def test_manufactured_source_matches_published_terms(operator, solution, published):
    """The derived source equals the published one symbolically."""
    q = manufactured_source(operator, solution)
    assert sympy.simplify(q.exprs - published) == 0
    assert q.kind == "source"


def test_manufactured_source_masa_value():
    """MASA heateq_2d_steady_const at (0.1, 0.2) with A_x = B_y = k_0 = 6/5 is 3.33280303407095."""
    q = manufactured_source("-k0*(D(u, x, 2) + D(u, y, 2))", "cos(Ax*x)*cos(By*y)", "x y Ax By k0")
    np.testing.assert_allclose(q(0.1, 0.2, 1.2, 1.2, 1.2), 3.3328030340709523, rtol=1e-14, atol=0)


def test_manufactured_source_placeholders_never_collide():
    """User names that look like placeholders keep their meaning."""
    q = manufactured_source("Dterm0*D(u, x) + Dtermu*u", "x**2")
    d0, du = sympy.symbols("Dterm0 Dtermu", real=True)
    assert sympy.simplify(q.exprs - (d0 * 2 * x + du * x**2)) == 0


@pytest.mark.parametrize(
    ("operator", "error"),
    [
        ("__import__('os').system('echo hi')", ParseError),
        ("D(v, x)", ParseError),
        ("u(x) + 1", ParseError),
        ("D(u, 2)", ParseError),
        ("D(u, x, 0)", ParseError),
        ("D(u, lambda)", ParseError),
        ("D(u, x, 12, y)", LimitExceeded),
    ],
)
def test_manufactured_source_refuses_bad_operators(operator, error):
    """Malformed or hostile operator text is refused before anything is evaluated."""
    with pytest.raises(error):
        manufactured_source(operator, "sin(x)*y")


def test_manufactured_source_checks_declared_variables():
    """A derivative along an undeclared variable is refused."""
    with pytest.raises(ConfigError, match=r"D\(u, \.\.\.\)"):
        manufactured_source("D(u, t)", "sin(x)", variables="x")


def test_factor_following_h_is_reported_even_where_it_is_one():
    """A raw Scharr response 32h equals 1 at h = 1/32, yet the law 32·h is still reported."""
    r = verify_grid("3*x - 2*y", "x=0:1,y=0:1", (9, 17, 33), scharr_scheme(normalize=False))
    (d,) = r.diagnostics
    assert d["factor"] == pytest.approx(1.0, rel=1e-12)
    assert (d["scales_as"], d["per_h"]) == ("h^1", pytest.approx(32.0, rel=1e-12))


def test_image_filter_border_can_be_declared_not_to_converge() -> None:
    """expect_order=(2, 0): a normalized Sobel filter passes; its border does not converge (order 0)."""
    result = verify_grid(
        "sin(x + 0.3)*exp(y/2)", "x=-1:1,y=-1:1", (17, 33, 65), sobel_scheme(), expect_order=(2, 0)
    )
    assert result.status == Status.PASS
    for component in result.components:
        assert abs(component.interior.observed_order - 2) < 0.2
        assert abs(component.boundary.observed_order) < 0.2
    with pytest.raises(ConfigError, match="expect_order"):
        verify_grid("x", "x=0:1", (5, 9, 17), expect_order=(0, 0))


@pytest.mark.parametrize(
    ("expr", "domain", "where"),
    [
        ("log(x)", "x=0:1e-10", "the field is not a finite float64 number at x=0 "),
        ("1/x", "x=-1:1", "the field is not a finite float64 number at x=0 "),
        ("exp(1000*x)", "x=0:1", "the field is not a finite float64 number at x=0.75 "),
    ],
)
def test_a_field_that_is_not_finite_on_the_grid_is_refused(
    expr: str, domain: str, where: str
) -> None:
    """A pole, a domain edge or overflow on a grid point is named, not turned into NaN orders.

    log(0) and 1/0 are infinite at x = 0; exp(1000 x) first overflows float64 (above
    x = 709.78/1000) at the grid point 0.75 of the 17-point level.
    """
    with pytest.raises(ConfigError) as info:
        verify_grid(expr, domain)
    assert where in str(info.value)


def test_a_component_whose_derivative_vanishes_everywhere_is_exact() -> None:
    """d/dy of -x**2 is 0: numpy.gradient is exact there, and the factor diagnosis stays quiet."""
    r = verify_grid("-x^2", "x=-1:1,y=0:2", (3, 5))
    assert [c.status for c in r.components] == [Status.PASS, Status.EXACT]
    assert r.diagnostics == ()


@pytest.mark.parametrize(
    ("sizes", "limit", "value"),
    [
        ((3, 10**9), "grid_points", 10**27),
        ((5, 9, 250), "grid_bytes", 250**3 * 8 * (2 + 3 * 3)),  # 15.6 M points, 1.4 GB
    ],
)
def test_grid_caps_are_checked_before_any_level_is_built(
    sizes: tuple[int, ...], limit: str, value: int
) -> None:
    """Points and memory of the finest level are refused by arithmetic: coordinates(N) is never
    called, so nothing of the size asked for is allocated."""
    calls: list[int] = []

    def coordinates(n: int) -> list[np.ndarray]:
        calls.append(n)
        return [np.linspace(0, 1, n)] * 3

    with pytest.raises(LimitExceeded) as info:
        verify_grid("sin(x)*y*z", "x=0:1,y=0:1,z=0:1", sizes, coordinates=coordinates)
    assert (info.value.limit, info.value.value) == (limit, value)
    assert calls == []


# -- hardening: every bad input is a SymgradError, never a crash or a warning -----------------


@pytest.mark.parametrize(
    "expect_order", [math.inf, -math.inf, math.nan, 1e308, 16, (2, math.inf), (math.nan, 1)]
)
def test_an_expected_order_beyond_any_scheme_is_refused(expect_order: object) -> None:
    """No order is infinite; above MAX_ORDER - 1 the diagnostics could not differentiate f."""
    with pytest.raises(ConfigError, match="expect_order: must be a positive number up to 15"):
        verify_grid("sin(x)", "x=0:1", expect_order=expect_order)


def test_the_largest_expected_order_is_judged() -> None:
    """expect_order=15 is accepted, and numpy's order-2 scheme fails it (orders 2 and 1)."""
    assert verify_grid("sin(x)", "x=0:1", expect_order=15).status is Status.FAIL


@pytest.mark.parametrize(
    "domain", ["x=-1e308:1e308", "x=0:1,y=-1.7e308:1.7e308", {"x": (0.0, 5e-324)}]
)
def test_a_domain_whose_width_overflows_is_refused(domain: object) -> None:
    with pytest.raises(ConfigError, match="too wide or too narrow"):
        verify_grid("x", domain)


def test_a_field_that_underflows_is_inconclusive_not_failed() -> None:
    """x**2 on x=0:1e-300 is 0 in float64 ((1e-300)**2 == 0.0): no scheme can be judged."""
    assert (1e-300) ** 2 == 0.0
    result = verify_grid("x**2", "x=0:1e-300")
    assert result.status is Status.INCONCLUSIVE
    assert "rounding floor" in result.reason


def test_a_huge_factor_in_the_scheme_output_is_judged_without_overflow() -> None:
    """A scheme off by 1e300 (inner products overflow): fail, with no OverflowError."""
    result = verify_grid("sin(x)", "x=0:1", scheme=lambda f, h: np.gradient(f, *h) * 1e300)
    assert result.status is Status.FAIL


@pytest.mark.parametrize(
    "coordinates",
    [
        [["a", "b", "c"]],  # not numbers
        [[0, 1, 2], 5],  # a level that is not a sequence
        lambda n: None,  # the callable returns nothing
        lambda n: [[0.0, 1.0, math.nan] * n],
    ],
    ids=["strings", "not a sequence", "returns None", "nan"],
)
def test_bad_coordinates_are_one_config_error(coordinates: object) -> None:
    with pytest.raises(ConfigError, match="coordinates: level"):
        verify_grid("sin(x)", "x=0:1", coordinates=coordinates)


_OUTPUTS = {
    "nan": lambda f: np.full_like(f, np.nan),
    "inf": lambda f: np.full_like(f, -np.inf),
    "complex": lambda f: f.astype(complex),
    "object": lambda f: f.astype(object),
    "strings": lambda f: f.astype(str),
    "bool": lambda f: f > 0,
    "int": lambda f: np.zeros(f.shape, dtype=np.int64),
    "float32": lambda f: f.astype(np.float32),
    "short": lambda f: f[:-1],
    "transposed": lambda f: f.T[None],
    "scalar": lambda f: 3.0,
    "none": lambda f: None,
    "text": lambda f: "abc",
    "ragged": lambda f: [[1.0, 2.0], [3.0]],
    "too many": lambda f: [f, f, f],
    "zeros": np.zeros_like,
}


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    expr=st.sampled_from(["sin(x + 0.3)*exp(y/2)", "x**2 + y", "exp(x)*cos(y)", "x*y"]),
    low=st.sampled_from([-1.0, 0.0, 1e-8, -1e6]),
    width=st.sampled_from([1e-12, 1e-3, 1.0, 1e3, 1e150]),
    first=st.integers(1, 9),
    levels=st.integers(1, 3),
    width_layers=st.one_of(st.none(), st.integers(-1, 4)),
    expect=st.one_of(
        st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-2, 20)
    ),
    output=st.sampled_from(["numpy", *_OUTPUTS]),
)
def test_fuzzed_grid_inputs_give_a_result_or_a_symgrad_error(
    expr: str,
    low: float,
    width: float,
    first: int,
    levels: int,
    width_layers: int | None,
    expect: float | None,
    output: str,
) -> None:
    """Sizes, domain, boundary width, expected order and a scheme returning wrong shapes, dtypes
    or non-finite values: a GridResult whose verdict is one of the documented four, or a
    SymgradError (pytest turns any warning into an error, so none may escape either)."""
    sizes = [first * 2**k + 1 for k in range(levels + 1)]
    domain = f"x={low!r}:{low + width!r},y=0:1"
    scheme: object = "numpy"
    if output != "numpy":
        fill = _OUTPUTS[output]
        scheme = lambda f, h: [fill(f), fill(f)]
    try:
        result = verify_grid(
            expr,
            domain,
            sizes,
            scheme,
            expect_order=expect,
            boundary_width=width_layers,
            max_points=20_000,
        )
    except (ConfigError, InputError, LimitExceeded, ParseError):
        return
    assert result.status in (Status.PASS, Status.FAIL, Status.INCONCLUSIVE, Status.EXACT)
    if output in ("nan", "inf", "zeros", "too many"):
        assert result.status is not Status.PASS


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_l2_norm_neither_overflows_nor_underflows(scale: float) -> None:
    """Errors near 1e290 (or 1e-300) have squares beyond float64's range; the L2 norm is still
    the root mean square, between L1 and L∞ (sin(x)/scale and sin(x)*scale on x=0:1)."""
    text = f"sin(x)/{scale!r}" if scale < 1 else f"sin(x)*{1 / scale!r}"
    result = verify_grid(text, "x=0:1")
    for region in ("interior", "boundary"):
        data = result.to_dict()["components"][0][region]
        for l1, l2, linf in zip(
            data["errors"]["L1"], data["errors"]["L2"], data["errors"]["Linf"], strict=True
        ):
            assert 0 < l1 <= l2 * (1 + 1e-12), (region, l1, l2)
            assert l2 <= linf * (1 + 1e-12), (region, l2, linf)
            assert math.isfinite(l2)


# ------------------------------------------------------------------ resolution
def test_an_unresolved_field_is_inconclusive_not_failed() -> None:
    """sin(1e300·x) on 17..129 points: about 1e298 oscillations per cell.  numpy.gradient's
    errors are about 1e300 on every level (order 0), which says nothing about the scheme."""
    for field, domain in (("sin(1e300*x)", "x=0:1"), ("sin(1e300*x)*y", "x=0:1,y=0:1")):
        r = verify_grid(field, domain)
        assert r.status is Status.INCONCLUSIVE, r.reason
        assert "not resolved on any level" in r.reason
        assert r.sizes == (17, 33, 65, 129)  # nothing refined: no grid could resolve it
        for c in r.components:
            assert c.status is Status.INCONCLUSIVE


def _flipped(field: np.ndarray, spacing: tuple[float, ...]) -> list[np.ndarray]:
    """A planted sign error: minus numpy.gradient."""
    return (
        [-g for g in np.atleast_1d(np.gradient(field, *spacing))]
        if field.ndim > 1
        else [-np.gradient(field, *spacing)]
    )


@pytest.mark.parametrize(
    ("field", "domain"),
    [
        ("1e-12*sin(1e6*x) + x", "x=0:1"),
        ("1e-9*sin(1e5*x) + x", "x=0:1"),
        ("x + 1e-7*sin(1e4*x)", "x=0:1"),
        ("x + 1e-12*sin(1e6*x)*exp(y)", "x=0:1,y=0:1"),
    ],
)
def test_a_resolved_field_whose_derivative_is_not_is_inconclusive(field: str, domain: str) -> None:
    """A line plus an oscillation too small to move the field's range: every level resolves the
    field, but the derivative 1 + A k cos(k x) oscillates with amplitude A k (1e-6 .. 1e-3) that
    no level samples, so numpy.gradient's errors stay at A k on every level (order 0).  The
    data cannot judge the scheme: inconclusive, for the right scheme and a sign-flipped one."""
    for scheme in ("numpy", _flipped):
        r = verify_grid(field, domain, scheme=scheme)
        assert r.status is Status.INCONCLUSIVE, (scheme, r.reason)
        assert "not resolved on any level" in r.reason


def test_a_small_resolved_oscillation_is_still_judged() -> None:
    """x + 1e-3 sin(3x): the derivative's wiggle is resolved on every level, so numpy.gradient
    passes at order 2 and the flipped sign fails."""
    assert verify_grid("x + 1e-3*sin(3*x)", "x=0:1").status is Status.PASS
    assert verify_grid("x + 1e-3*sin(3*x)", "x=0:1", scheme=_flipped).status is Status.FAIL


def test_unresolved_coarse_levels_are_left_out_and_named() -> None:
    """sin(80x) on [0, 1]: R = h·80/2 (range 2) is 5 at N = 9 and 2.5 at N = 17 (under 2 points
    per wavelength): left out; 1.25 at N = 33: judged.  The orders come from the resolved
    levels only, and the aliased levels' factors diagnose nothing."""
    r = verify_grid("sin(80*x + 0.3)", "x=0:1", (9, 17, 33, 65, 129, 257))
    assert r.status is Status.PASS, r.reason
    coarse = verify_grid("sin(80*x + 0.3)", "x=0:1", (9, 17, 33), max_points=0)
    assert coarse.status is Status.INCONCLUSIVE
    assert "N = 9, 17 left out: too coarse to resolve the field" in coarse.components[0].reason
    assert all(d.get("scales_as") is None for d in coarse.diagnostics)  # no law decides


FREQUENCY = st.floats(4, 300).map(lambda e: 10.0**e)  # 1e4 .. 1e300 oscillations per unit
SMOOTH = st.fixed_dictionaries(
    {"b": st.floats(0.5, 2.5), "c": st.floats(-3, 3), "d": st.floats(-1, 1)}
).map("sin({b:.3f}*x + {c:.3f})*exp({d:.3f}*y) + x**2*y/3".format_map)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(FREQUENCY, st.floats(-3, 3), st.sampled_from(["numpy", "numpy:edge_order=2", "minus"]))
def test_property_unresolved_fields_never_pass_or_fail(k: float, c: float, scheme: str) -> None:
    """Correct and broken schemes alike: an unresolved field decides nothing."""
    field = f"sin({k:.6e}*x + {c:.3f})*(2 + y)"
    chosen = (lambda f, h: [-g for g in np.gradient(f, *h)]) if scheme == "minus" else scheme
    r = verify_grid(field, "x=0:1,y=0:1", (17, 33, 65), chosen, max_points=0)
    assert r.status is Status.INCONCLUSIVE, (field, scheme, r.reason)


PLANTED_GRID = {
    "no spacing": lambda f, h: np.gradient(f),
    "sign": lambda f, h: [-g for g in np.gradient(f, *h)],
    "first-order inside": lambda f, h: [
        np.diff(f, axis=k, append=np.take(f, [-1], axis=k)) / h[k] for k in range(f.ndim)
    ],
}


@settings(max_examples=8, deadline=None, derandomize=True)
@given(SMOOTH, st.sampled_from(sorted(PLANTED_GRID)))
def test_property_resolved_correct_pass_and_planted_fail(field: str, planted: str) -> None:
    """The resolution rule leaves resolved fields alone: correct passes, defects fail."""
    good = verify_grid(field, "x=0:1,y=0:1", (17, 33, 65, 129), "numpy:edge_order=2")
    assert good.status is Status.PASS, (field, good.reason)
    bad = verify_grid(field, "x=0:1,y=0:1", (17, 33, 65, 129), PLANTED_GRID[planted])
    assert bad.status is Status.FAIL, (field, planted, bad.reason)


MARGINAL = st.fixed_dictionaries({"k": st.floats(30, 150), "c": st.floats(-3, 3)}).map(
    "sin({k:.3f}*x + {c:.3f})*exp(y/2)".format_map
)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(MARGINAL, st.sampled_from(sorted(PLANTED_GRID)))
def test_property_coarse_levels_unresolved_no_false_verdict(field: str, planted: str) -> None:
    """k = 30..150 on [0, 1]: R = k·h/2 is 0.9..4.7 on 17 points, so the coarsest levels may be
    left out.  The factors of the resolved levels tend to 1 (sin(kh)/kh for numpy.gradient)
    without following a law: correct is never failed, a planted defect never passes."""
    good = verify_grid(field, "x=0:1,y=0:1", (17, 33, 65, 129), "numpy:edge_order=2")
    assert good.status is not Status.FAIL, (field, good.reason)
    bad = verify_grid(field, "x=0:1,y=0:1", (17, 33, 65, 129), PLANTED_GRID[planted])
    assert not bad.status.ok, (field, planted, bad.reason)
