"""Step sweeps: observed orders, leading error terms, the V curve, verdicts and renderings.

References are independent of the code under test: closed-form error sequences, the
textbook optimal steps, the Richardson table, a measured float64 error table, exact stencil
constants, and closed forms evaluated in a private mpmath
context.
"""

from __future__ import annotations

import dataclasses
import json
import math
import xml.etree.ElementTree as ET
from fractions import Fraction

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.cli import main
from symgrad.errors import ConfigError, LimitExceeded
from symgrad.fd import TOLERANCES, Stencil, convergence, fit_order, pairwise_orders
from symgrad.results import Status

EPS = 2.220446049250313e-16  # float64 machine epsilon
HALVING = ["0.1", "0.05", "0.025", "0.0125", "0.00625", "0.003125"]


def mpctx(dps: int) -> mpmath.MPContext:
    """A private reference context (never mpmath.mp)."""
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


@pytest.fixture(scope="module")
def sin_sweep():  # type: ignore[no-untyped-def]
    """The acceptance sweep of d/dx sin(x) at x = 1 (computed once for several tests)."""
    schemes = ["forward:1", "central:2", "central:4", "central:6", "complex"]
    return convergence("sin(x)", "x=1", schemes=schemes)


@pytest.fixture(scope="module")
def v_curve():  # type: ignore[no-untyped-def]
    """The float64 sweep of d/dx sin(x) at x = 1 from 1e-1 to 1e-15, half a decade apart."""
    schemes = ["forward:1", "central:2", "complex"]
    return convergence(
        "sin(x)", "x=1", schemes=schemes, step_sizes="1e-1:1e-15:29", precision="float64"
    )


# -- acceptance ------------------------------------------------------------------------------


def test_acceptance_orders_and_coefficients(sin_sweep) -> None:  # type: ignore[no-untyped-def]
    """sin at 1: orders 1, 2, 4, 6, 2 within 0.1, every verdict pass, C = 1/2, 1/6, -1/30, 1/140, -1/6."""
    r = sin_sweep
    assert r.status == Status.PASS
    want = {"forward:1": 1, "central:2": 2, "central:4": 4, "central:6": 6, "complex": 2}
    constants = ["1/2", "1/6", "-1/30", "1/140", "-1/6"]
    for s, c in zip(r.schemes, constants, strict=True):
        assert s.status == Status.PASS, s.reason
        assert abs(s.observed_order - want[s.scheme]) < 0.1
        assert s.to_dict()["error_coefficient"] == c
        assert s.to_dict()["predicted_error_coefficient"] == c
        # the measured error follows C h^p f^(m+p) (so the sign convention is right)
        assert s.observed_error_coefficient == pytest.approx(float(Fraction(c)), rel=1e-6)
        assert s.asymptotic_range == (0.1, 1e-12)


def test_round_off_never_pollutes_the_mp_sweep(sin_sweep) -> None:  # type: ignore[no-untyped-def]
    """central:6 at h = 1e-12 (error ~4e-75) equals the closed form cos(1)(Σ w_j sin(j h)/h − 1)."""
    ref = mpctx(200)
    # Fornberg's centred sixth-order weights for f'
    weights = {1: Fraction(3, 4), 2: Fraction(-3, 20), 3: Fraction(1, 60)}
    s = next(s for s in sin_sweep.schemes if s.scheme == "central:6")
    for h, err in zip(s.step_sizes[-3:], s.errors[-3:], strict=True):
        hh = ref.mpf(10) ** (round(2 * math.log10(h)) / ref.mpf(2))  # steps are 10^(-1 - j/2)
        series = sum(
            2 * ref.mpf(w.numerator) / w.denominator * ref.sin(j * hh) for j, w in weights.items()
        )
        exact = abs(ref.cos(1) * (series / hh - 1))
        assert abs(ref.mpf(err) - exact) <= exact * ref.mpf(10) ** -12


# -- closed-form sequences ----------------------------------------------------


def test_central_difference_sequence_of_sin_at_1() -> None:
    """Closed form (a): errors are cos(1)(1 − sin h/h); orders and LS slope equal the printed values."""
    r = convergence("sin(x)", "x=1", schemes=["central:2"], step_sizes=HALVING)
    s = r.schemes[0]
    ref = mpctx(40)
    for h, err in zip(HALVING, s.errors, strict=True):
        exact = ref.cos(1) * (1 - ref.sin(ref.mpf(h)) / ref.mpf(h))
        assert abs(ref.mpf(err) - exact) <= exact * ref.mpf(10) ** -12
    printed = [9.0005369838e-4, 2.25097821708e-4, 5.62797314242e-5, 1.40702626243e-5]
    printed += [3.51758626687e-6, 8.79397854897e-7]
    for err, want in zip(s.errors, printed, strict=True):
        assert float(err) == pytest.approx(want, rel=1e-10, abs=0)
    orders = [1.99945898131, 1.99986474684, 1.9999661868, 1.99999154671, 1.99999788668]
    for got, want in zip(s.pairwise_orders, orders, strict=True):
        assert got == pytest.approx(want, rel=0, abs=6e-11)
    assert s.observed_order == pytest.approx(1.99988087, rel=0, abs=6e-9)  # whole range
    assert s.status == Status.PASS


def test_forward_difference_sequence_of_exp_at_0() -> None:
    """Closed form (b): errors (e^h − 1)/h − 1, pairwise orders 1.0243… and LS slope 1.00869686.

    The five printed orders imply six levels (down to h = 0.003125); the printed LS slope is
    over those six (over the five printed errors alone it would be 1.0109).
    """
    r = convergence("exp(x)", "x=0", schemes=["forward:1"], step_sizes=HALVING)
    s = r.schemes[0]
    printed = [0.0517091807565, 0.0254219275205, 0.0126048209772, 0.00627612325075]
    printed += [0.00313152060192]
    for err, want in zip(s.errors[:5], printed, strict=True):
        assert float(err) == pytest.approx(want, rel=1e-11, abs=0)
    orders = [1.02434702664, 1.01209779319, 1.00603003874, 1.00301031398, 1.00150398178]
    for got, want in zip(s.pairwise_orders, orders, strict=True):
        assert got == pytest.approx(want, rel=0, abs=6e-12)
    assert s.observed_order == pytest.approx(1.00869686, rel=0, abs=6e-9)


def test_fit_order_and_pairwise_orders_on_printed_errors() -> None:
    """fit_order on the six printed errors of closed form (a) gives the printed LS slope 1.99988087."""
    errors = ["9.0005369838e-4", "2.25097821708e-4", "5.62797314242e-5", "1.40702626243e-5"]
    errors += ["3.51758626687e-6", "8.79397854897e-7"]
    steps = [float(h) for h in HALVING]
    assert fit_order(steps, errors) == pytest.approx(1.99988087, rel=0, abs=6e-8)
    assert pairwise_orders(steps, errors)[0] == pytest.approx(1.99945898131, rel=0, abs=1e-9)
    assert math.isnan(pairwise_orders([0.1, 0.05], [1e-3, 0.0])[0])
    assert math.isnan(fit_order([0.1, 0.05], [0.0, 0.0]))


def test_richardson_matches_numerics_4_3() -> None:
    """Richardson of central:2 on exp at 1: order 4, C = −1/480, relative error 2.084e-7 at h = 0.1."""
    r = convergence("exp(x)", "x=1", schemes=["richardson"], step_sizes=["0.1", "0.05", "0.025"])
    s = r.schemes[0]
    assert s.to_dict()["error_coefficient"] == "-1/480"
    assert s.status == Status.PASS
    rel = [float(e) / math.e for e in s.errors]
    assert rel == pytest.approx([2.084e-7, 1.302e-8, 8.138e-10], rel=5e-4)


# -- float64: the V curve --------------------------------------------------------------------


def test_v_curve_optimal_steps_match_the_textbook(v_curve) -> None:  # type: ignore[no-untyped-def]
    """Forward and central minima lie within a decade of 1e-8 / 1e-5 and of the textbook h*."""
    forward, central, _ = v_curve.schemes
    # textbook optimal steps: h* = 2 sqrt(ε |f/f''|) = 2 sqrt(ε) for sin, (3 ε |f/f'''|)^(1/3) = (3 ε tan 1)^(1/3)
    assert forward.textbook_optimal_step == pytest.approx(2 * 1.4901161193847656e-08, rel=1e-12)
    assert central.textbook_optimal_step == pytest.approx(
        (3 * EPS * math.tan(1)) ** (1 / 3), rel=1e-12
    )
    for s, measured in ((forward, 1e-8), (central, 1e-5)):  # the measured float64 table
        assert s.optimal_step is not None
        assert s.textbook_optimal_step is not None
        assert abs(math.log10(s.optimal_step / measured)) <= 1
        assert abs(math.log10(s.optimal_step / s.textbook_optimal_step)) <= 1
    # minimal total errors stay within 10x of the textbook E* (forward 2 sqrt(ε |f f''|))
    assert float(forward.minimum_error) <= 10 * 2 * math.sqrt(EPS) * math.sin(1)
    e_star = (9 / 8) ** (1 / 3) * EPS ** (2 / 3) * math.sin(1) ** (2 / 3) * math.cos(1) ** (1 / 3)
    assert float(central.minimum_error) <= 10 * e_star


def test_v_curve_reproduces_performance_table(v_curve) -> None:  # type: ignore[no-untyped-def]
    """Truncation-side float64 errors equal the measured float64 table (forward 4.21e-4 at 1e-3, ...)."""
    forward, central, cs = v_curve.schemes
    at = {h: i for i, h in enumerate(forward.step_sizes)}
    table = {1e-1: (4.29e-2, 9.00e-4, 9.01e-4), 1e-3: (4.21e-4, 9.01e-8, 9.01e-8)}
    table |= {1e-5: (4.21e-6, 1.11e-11, 9.01e-12)}
    for h, row in table.items():
        i = min(at, key=lambda s: abs(math.log(s / h)))
        got = [float(s.errors[at[i]]) for s in (forward, central, cs)]
        assert got == pytest.approx(list(row), rel=0.01)


def test_round_off_branch_rises_as_one_over_h(v_curve) -> None:  # type: ignore[no-untyped-def]
    """Below the optimum the forward and central errors grow like ε/h: slope ≈ −1."""
    for s in v_curve.schemes[:2]:
        small = [(h, e) for h, e in zip(s.step_sizes, s.errors, strict=True) if h <= 1e-9]
        slope = fit_order([h for h, _ in small], [e for _, e in small])
        assert -1.4 < slope < -0.6


def test_complex_step_has_no_floor(v_curve) -> None:  # type: ignore[no-untyped-def]
    """Complex step: within 1 ulp of cos 1 for every h <= 1e-9, and order 2 above the floor."""
    cs = v_curve.schemes[2]
    ulp = math.ulp(math.cos(1))
    assert all(float(e) <= ulp for h, e in zip(cs.step_sizes, cs.errors, strict=True) if h <= 1e-9)
    assert cs.status == Status.PASS
    assert cs.textbook_optimal_step is None


def test_float64_verdicts_use_the_truncation_side(v_curve) -> None:  # type: ignore[no-untyped-def]
    """The asymptotic range stops above the floor and the orders still pass."""
    forward, central, _ = v_curve.schemes
    assert forward.status == central.status == Status.PASS
    assert forward.asymptotic_range is not None
    assert forward.asymptotic_range[1] >= 1e-7
    assert central.asymptotic_range is not None
    assert central.asymptotic_range[1] >= 1e-5


def test_float64_floor_before_the_asymptotic_range() -> None:
    """central:6 in float64 reaches the round-off floor at h = 0.01, before three clean steps."""
    r = convergence(
        "sin(x)", "x=1", schemes=["central:6"], step_sizes="1e-1:1e-3:3", precision="float64"
    )
    s = r.schemes[0]
    assert s.status == r.status == Status.INCONCLUSIVE
    assert s.reason.startswith("round-off floor reached at h = 0.01 before the asymptotic range")


# -- verdicts --------------------------------------------------------------------------------


@pytest.mark.parametrize("precision", ["mp", "float64"])
def test_polynomial_is_exact(precision: str) -> None:
    """x**2 under central:2 (and forward:2, central:4) is exact: errors at the rounding floor."""
    schemes = ["central:2", "forward:2", "central:4"]
    r = convergence("3*x**2 - x + 2", "x=1.3", schemes=schemes, precision=precision)
    assert r.status == Status.EXACT
    assert all(s.status == Status.EXACT for s in r.schemes)
    assert all(math.isnan(s.observed_order) and s.asymptotic_range is None for s in r.schemes)


def test_vanishing_leading_term_is_inconclusive() -> None:
    """x**5 at 0: f''' = 0 and the error is h⁴, so central:2 is inconclusive, not failed."""
    r = convergence("x**5", "x=0", schemes=["central:2", "central:4"])
    two, four = r.schemes
    assert two.status == Status.INCONCLUSIVE
    assert two.reason.startswith("leading error term vanishes at this point: f''' = 0")
    assert "choose another point" in two.reason
    assert two.observed_order == pytest.approx(4, abs=1e-9)  # D(h) − 0 = h⁴ exactly
    assert four.status == Status.PASS  # f^(5) = 120, C = −1/30: error −4h⁴
    assert four.observed_error_coefficient == pytest.approx(-1 / 30, rel=1e-12)


def test_tiny_leading_term_is_inconclusive_until_it_dominates() -> None:
    """f''' = 6e-12 at 0: coarse steps see h⁴ (inconclusive); below h ~ 1e-6 order 2 (pass)."""
    expr = "x**5 + x**3/10**12"  # central:2 error: h⁴ + 1e-12 h²
    coarse = convergence(expr, "x=0", schemes=["central:2"], step_sizes="1e-1:1e-4:7")
    s = coarse.schemes[0]
    assert s.status == Status.INCONCLUSIVE
    assert "leading error term vanishes at this point: f''' ≈ 6.0e-12" in s.reason
    fine = convergence(expr, "x=0", schemes=["central:2"], step_sizes="1e-1:1e-12:23")
    assert fine.schemes[0].status == Status.PASS
    assert fine.schemes[0].asymptotic_range is not None
    assert fine.schemes[0].asymptotic_range[0] <= 1e-6


def test_wrong_stencil_is_refused() -> None:
    """A hand-typed weight table that is really a backward difference cannot claim order 2."""
    with pytest.raises(ConfigError, match=r"the weights give accuracy 1 \(Σ w s\^2 = -1 ≠ 0\)"):
        dataclasses.replace(Stencil.central(1, 2), weights=(Fraction(-1), Fraction(1), Fraction(0)))


def test_truthful_stencil_with_a_wrong_claim_fails() -> None:
    """The same backward difference, stated truthfully (accuracy 1, C = −1/2), claimed order 2."""
    backward = Stencil(1, (Fraction(-1), Fraction(0)), (Fraction(-1), Fraction(1)), 1,
                       Fraction(-1, 2), "custom")  # fmt: skip
    r = convergence("exp(x)", "x=0.5", schemes=[backward], expected_order=2)
    s = r.schemes[0]
    assert r.status == s.status == Status.FAIL
    assert s.expected_order == 2
    assert s.observed_order == pytest.approx(1, abs=0.01)
    assert "is the accuracy 1 of custom:1[-1,0] (exact, from its weights), not the claimed 2" in (
        s.reason
    )
    # measured against e^0.5 (−h/2 + h²/6 − …): the error follows −1/2 h f''
    assert s.observed_error_coefficient == pytest.approx(-0.5, rel=1e-9)


@pytest.mark.parametrize("expected", [2, {"forward:1": 2}])
def test_expected_order_override_fails_a_first_order_scheme(expected: object) -> None:
    """Claiming order 2 for forward:1 (for all schemes or by label) gives fail."""
    r = convergence(
        "exp(x)", "x=0", schemes=["forward:1"], step_sizes="1e-1:1e-6:11", expected_order=expected
    )  # type: ignore[arg-type]
    assert r.status == Status.FAIL
    assert r.schemes[0].expected_order == 2


def test_second_derivative_of_a_two_variable_function() -> None:
    """∂²/∂x² of exp(x)*y with central:2 (C = 1/12) and Richardson (C = −1/1440) pass."""
    r = convergence("exp(x)*y", "x=0, y=2", ("x", 2), schemes=["central:2", "richardson"])
    assert r.status == Status.PASS
    assert [s.to_dict()["error_coefficient"] for s in r.schemes] == ["1/12", "-1/1440"]
    assert r.schemes[0].observed_error_coefficient == pytest.approx(1 / 12, rel=1e-9)
    assert r.to_dict()["derivative"] == "x,x"
    assert r.to_dict()["point"] == {"x": "0", "y": "2"}


def test_steps_beyond_a_nearby_pole_are_inconclusive() -> None:
    """1/(x + 1/1000) at 0 with h >= 0.01 > 1/1000: order ~0 there, but no fail; smaller h pass.

    Closed form at h = 0.01: (f(h) − f(0))/h − f'(0) = 10^6 − 10^5/1.1 ≈ 9.09e5, below the
    expansion's first term h/2 |f''(0)| = 10^7, so those steps are outside its reach.
    """
    ref = mpctx(30)
    d, h = ref.mpf("0.001"), ref.mpf("0.01")
    error = abs((1 / (h + d) - 1 / d) / h + 1 / d**2)
    assert error < h / 2 * 2 / d**3  # the premise
    coarse = convergence("1/(x + 0.001)", "x=0", schemes=["forward:1"], step_sizes="0.5:0.01:10")
    s = coarse.schemes[0]
    assert s.status == Status.INCONCLUSIVE, s.reason
    assert "not far above the first term of its Taylor expansion" in s.reason
    assert float(s.errors[-1]) == pytest.approx(float(error), rel=1e-12)
    fine = convergence("1/(x + 0.001)", "x=0", schemes=["forward:1"])
    assert fine.schemes[0].status == Status.PASS, fine.schemes[0].reason


def test_combined_verdict_names_the_worst_scheme() -> None:
    """One inconclusive scheme makes the overall verdict inconclusive, with its reason."""
    r = convergence("x**5", "x=0", schemes=["central:4", "central:2"], step_sizes="1e-1:1e-3:5")
    assert r.status == Status.INCONCLUSIVE
    assert r.reason.startswith("1 of 2 schemes inconclusive; central:2: leading error term")
    assert not r.ok


# -- data and renderings ---------------------------------------------------------------------


def test_json_keys(sin_sweep) -> None:  # type: ignore[no-untyped-def]
    """to_dict carries the documented converge keys and the documented additions, JSON-ready."""
    data = json.loads(sin_sweep.to_json())
    assert {"status", "point", "dps", "schemes"} <= set(data)
    assert {"reason", "precision", "derivative"} <= set(data)
    assert (data["point"], data["dps"], data["precision"]) == ({"x": "1"}, 60, "mp")
    design = {"scheme", "expected_order", "observed_order", "error_coefficient", "status"}
    design |= {"reason", "steps", "errors"}
    extra = {"pairwise_orders", "asymptotic_range", "predicted_error_coefficient"}
    extra |= {"observed_error_coefficient", "optimal_step", "minimum_error"}
    for s in data["schemes"]:
        assert design | extra <= set(s)
        assert len(s["steps"]) == len(s["errors"]) == len(s["pairwise_orders"]) + 1 == 23
        assert all(isinstance(e, float) for e in s["errors"])
        assert s["optimal_step"] is None  # float64 only
    assert data["schemes"][0]["expected_order"] == 1


def test_errors_below_float_range_are_strings() -> None:
    """Errors under 1e-300 (central:6 at h = 1e-52) are 6-digit strings; steps stay floats."""
    r = convergence(
        "sin(x)", "x=1", schemes=["central:6"], step_sizes=["1e-52", "1e-53", "1e-54"], dps=20
    )
    s = r.to_dict()["schemes"][0]
    assert s["steps"] == [1e-52, 1e-53, 1e-54]
    assert all(isinstance(e, str) for e in s["errors"])
    want = mpctx(30).cos(1) / 140 * mpctx(30).mpf(10) ** -312  # C h^6 |f^(7)(1)|
    assert float(mpctx(30).mpf(s["errors"][0]) / want) == pytest.approx(1, rel=1e-5)
    assert r.schemes[0].status == Status.PASS


def test_renderings_have_tables(v_curve) -> None:  # type: ignore[no-untyped-def]
    """Text, Markdown and HTML show a summary table and one table of steps per scheme."""
    text, md, page = v_curve.to_text(), v_curve.to_markdown(), v_curve.to_html()
    assert "textbook h*" in text
    assert text.count("in range") == 3
    assert md.count("\n| --- |") == 4
    assert "| forward:1 | pass |" in md
    tree = ET.fromstring(page)  # well-formed, escaped fragment
    tables = list(tree.iter("table"))  # the per-step tables sit inside <details>
    assert len(tables) == 4
    assert len(tables[1].findall("./tbody/tr")) == 29
    bundle = v_curve._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/markdown"}


@pytest.mark.parametrize("precision", ["mp", "float64"])
def test_progress_callback_counts_every_scheme_and_step(precision: str) -> None:
    """progress(done, total) is called once per (scheme, step), in order, ending at total."""
    calls: list[tuple[int, int]] = []
    schemes = ["forward:1", "complex", "richardson"]
    progress = lambda done, total: calls.append((done, total))
    convergence(
        "exp(x)",
        "x=0",
        schemes=schemes,
        step_sizes="1e-1:1e-3:5",
        precision=precision,
        progress=progress,
    )
    assert calls == [(k, 15) for k in range(1, 16)]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"precision": "float32"}, ConfigError),
        ({"schemes": []}, ConfigError),
        ({"schemes": ["central:3"]}, ConfigError),
        ({"schemes": ["complex"], "wrt": ("x", 2)}, ConfigError),
        ({"step_sizes": "1e-1:1e-3:1"}, ConfigError),
        ({"step_sizes": ["0.1", "0.1"]}, ConfigError),
        ({"step_sizes": ["0.1", "-0.01"]}, ConfigError),
        ({"step_sizes": "1e-1:1e-250:5", "schemes": ["central:4"]}, LimitExceeded),
        ({"step_sizes": ["1e-1", "1e-305"]}, ConfigError),
        ({"expected_order": {"central:4": 4}}, ConfigError),
        ({"expected_order": -1}, ConfigError),
        ({"dps": 5}, LimitExceeded),
    ],
)
def test_bad_input_is_an_error(kwargs: dict[str, object], error: type[Exception]) -> None:
    """Bad options raise a SymgradError subclass naming the problem, before any sweep."""
    args = {"schemes": ["central:2"]} | kwargs
    with pytest.raises(error):
        convergence("sin(x)", "x=1", **args)  # type: ignore[arg-type]


def test_mixed_partial_and_non_analytic_complex_step_are_refused() -> None:
    """One variable per sweep; the complex step refuses abs()."""
    with pytest.raises(ConfigError, match="one variable"):
        convergence("x*y", "x=1,y=1", "x y")
    with pytest.raises(ConfigError, match="real-analytic"):
        convergence("abs(x)", "x=1", schemes=["complex"])


def test_tolerance_table() -> None:
    """The order tolerance is the project's 0.2 band."""
    assert (TOLERANCES["order"], TOLERANCES["min_steps"]) == (0.2, 3)


@pytest.mark.parametrize(
    ("expr", "at", "wrt"), [("pi*y", "y=1", "y"), ("E*x + y**2", "x=1, y=2", "x")]
)
def test_a_constant_derivative_such_as_pi_is_a_number(expr: str, at: str, wrt: str) -> None:
    """d/dy (pi*y) is the constant pi: every scheme is exact, and nothing calls it non-finite."""
    r = convergence(expr, at, wrt)
    assert r.status == "exact"
    assert all(s.status == "exact" for s in r.schemes)


def test_default_float64_sweep_leaves_out_a_complex_step_scipy_cannot_take() -> None:
    """SciPy's Bessel J has no accurate complex values: the default sweep drops the complex step.

    The real stencils still find their textbook orders (1, 2, 4) for d/dx J0(x) = -J1(x); asking
    for the complex step explicitly stays an error.
    """
    pytest.importorskip("scipy.special")
    result = symgrad.convergence("besselj(0, x)", "x=1", precision="float64")
    assert [s.scheme for s in result.schemes] == ["forward:1", "central:2", "central:4"]
    assert [s.expected_order for s in result.schemes] == [1, 2, 4]
    assert all(abs(s.observed_order - s.expected_order) < 0.2 for s in result.schemes)
    assert str(result.status) == "pass"
    with pytest.raises(symgrad.UnsupportedError, match="no accurate complex values"):
        symgrad.convergence("besselj(0, x)", "x=1", precision="float64", schemes="complex")


@pytest.mark.parametrize("spec", ["1e-1:-1:5", "0:1e-3:4", "-1e-1:-1e-3:3", "0.1,-0.01"])
def test_step_sizes_that_are_not_positive_are_one_config_error(spec: str) -> None:
    """A negative or zero step size is refused before any sweep (a negative end of a geometric
    range once gave complex powers and a TypeError)."""
    with pytest.raises(ConfigError, match="positive finite numbers"):
        convergence("sin(x)", "x=1", step_sizes=spec)


# -- float64 floors: the rounding of the point, underflow ------------------------------------

HALF_PI_DECIMAL = "1.5707963267948966"  # a decimal, not a float64: float() moves it by 4.2e-17


def test_complex_step_at_a_decimal_point_is_limited_by_the_rounding_of_the_point() -> None:
    """sin at the decimal 1.5707963267948966: float64 runs at float(x), where cos is 6.1232e-17
    instead of 1.9231e-17; every error is |f''(x)|·|x − float(x)| = 4.2001e-17 plus a truncation
    error below 1e-19, so no float64 data decide: inconclusive, the reason naming that shift."""
    ctx = mpctx(50)
    x = ctx.mpf(HALF_PI_DECIMAL)
    moved = abs(ctx.sin(x)) * abs(x - ctx.mpf(float(x)))
    res = convergence("sin(x)", f"x={HALF_PI_DECIMAL}", schemes="complex", precision="float64")
    s = res.schemes[0]
    assert s.status is Status.INCONCLUSIVE
    assert f"moves f' by ≈ {mpmath.nstr(moved, 3)}" in s.reason
    for h, error in zip(s.step_sizes, s.errors, strict=True):  # Im sin(x + ih)/h = cos x sinh h/h
        truth = ctx.cos(ctx.mpf(float(x))) * ctx.sinh(ctx.mpf(h)) / ctx.mpf(h) - ctx.cos(x)
        assert abs(error - abs(truth)) <= 1e-3 * abs(truth)


def test_a_decimal_point_still_passes_where_the_truncation_error_dominates() -> None:
    """sin(x) + 1e-8 x^3 at the same decimal: the third derivative is about 6e-8, so the
    truncation error h^2/6 times it exceeds the point's 4.2e-17 for h >= 1e-3: order 2, pass."""
    res = convergence(
        "sin(x) + 1e-8*x**3", f"x={HALF_PI_DECIMAL}", schemes="complex", precision="float64"
    )
    s = res.schemes[0]
    assert s.status is Status.PASS
    assert abs(s.observed_order - 2) <= 0.05


def test_mp_sweep_and_its_reference_share_the_rounded_point() -> None:
    """A 54-digit decimal of π/2 at dps 15 (W = 56): the mp sweep and the exact derivative are
    both taken at x held to W digits, so the errors are the truncation error cos(x) (sinh h/h
    − 1) at that point alone (mpmath at 80 digits), and the complex step passes."""
    x = "1.57079632679489661923132169163975144209858469968755291"
    res = convergence("sin(x)", f"x={x}", schemes="complex", dps=15)
    s = res.schemes[0]
    assert s.status is Status.PASS
    held = mpctx(56).mpf(int(x.replace(".", ""))) / 10**53  # x rounded to 56 digits
    ctx = mpctx(80)
    for h, error in zip(s.step_sizes, s.errors, strict=True):
        step = ctx.mpf(h)
        truth = abs(ctx.cos(ctx.mpf(held)) * (ctx.sinh(step) / step - 1))
        assert abs(error - truth) <= 1e-6 * truth


def _underflowing() -> tuple[mpmath.mpf, mpmath.mpf, mpmath.mpf]:
    """f, f' and the third derivative of exp(-1/x²) at x = 1/1000 (closed forms, 60 digits)."""
    ctx = mpctx(60)
    x = ctx.mpf(1) / 1000
    f = ctx.exp(-1 / x**2)
    return f, 2 / x**3 * f, (8 / x**9 - 36 / x**7 + 24 / x**5) * f


@pytest.mark.parametrize("scheme", ["complex", "central:2", "backward:2", "forward:1"])
def test_a_derivative_below_float64_range_is_inconclusive_not_failed(scheme: str) -> None:
    """exp(-1/x²) at 0.001: f' = 2e9·e^(-1e6) ≈ 6.59e-434286, below float64's smallest
    subnormal; float64 returns 0, so the errors are f' itself: inconclusive, and the errors are
    that number, never shown as 0."""
    _, d1, _ = _underflowing()
    res = convergence("exp(-1/x**2)", "x=0.001", schemes=scheme, precision="float64")
    s = res.schemes[0]
    assert s.status is Status.INCONCLUSIVE
    assert "smallest subnormal" in s.reason
    assert "precision='mp'" in s.reason
    assert abs(s.errors[-1] - d1) <= 1e-20 * d1
    assert abs(s.minimum_error - d1) <= 1e-20 * d1
    json.dumps(res.to_dict())  # out-of-range numbers are text there


def test_textbook_step_with_derivatives_below_float_range() -> None:
    """central:2: h* = (3 ε |f/f'''|)^(1/3) with f and f''' near 1e-434294 and 1e-434267
    (their floats 0): computed, not a ZeroDivisionError, to 1e-12 of the closed form."""
    f, _, d3 = _underflowing()
    res = convergence("exp(-1/x**2)", "x=0.001", schemes="central:2", precision="float64")
    s = res.schemes[0]
    want = float(mpmath.cbrt(3 * mpmath.mpf(2) ** -52 * f / abs(d3)))
    assert s.textbook_optimal_step == pytest.approx(want, rel=1e-12, abs=0)
    assert abs(s.higher_derivative - d3) <= 1e-20 * abs(d3)


def test_cli_float64_sweep_with_underflow_has_no_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The command line prints the verdict (inconclusive, exit 1), never a traceback."""
    argv = ["converge", "exp(-1/x**2)", "--at", "x=0.001", "--schemes", "central:2"]
    code = main([*argv, "--precision", "float64", "--format", "json"])
    assert code == 1
    assert json.loads(capsys.readouterr().out)["status"] == "inconclusive"


_SCHEMES_P = {"forward:1": 1, "central:2": 2, "complex": 2}
_RATES = st.sampled_from(["1/2", "1", "3/2", "2"])
_DECIMALS = st.integers(min_value=1000, max_value=29999).map(lambda k: f"{k / 10000:.4f}")
_FLOATS = st.integers(min_value=100, max_value=3000).map(lambda k: str(k / 1024))


def _check_correct_and_claimed(rate: str, at: str, scheme: str) -> None:
    """exp(a x): no derivative vanishes, so a correct scheme passes at decimal points (not
    float64 numbers) and at float points alike; a claimed order p + 1 fails on the same data."""
    expr = f"exp({rate}*x)"
    res = convergence(expr, f"x={at}", schemes=scheme, precision="float64")
    assert res.schemes[0].status is Status.PASS, res.schemes[0].reason
    claim = _SCHEMES_P[scheme] + 1
    wrong = convergence(expr, f"x={at}", schemes=scheme, precision="float64", expected_order=claim)
    assert wrong.schemes[0].status is Status.FAIL


_CORRECT = {
    "rate": _RATES,
    "at": _DECIMALS | _FLOATS,
    "scheme": st.sampled_from(sorted(_SCHEMES_P)),
}


@settings(max_examples=8, deadline=None, derandomize=True)
@given(**_CORRECT)
def test_property_float64_correct_schemes_pass_at_decimal_and_float_points(
    rate: str, at: str, scheme: str
) -> None:
    _check_correct_and_claimed(rate, at, scheme)


@pytest.mark.slow
@settings(max_examples=120, deadline=None, derandomize=True)
@given(**_CORRECT)
def test_property_float64_correct_schemes_many_points(rate: str, at: str, scheme: str) -> None:
    _check_correct_and_claimed(rate, at, scheme)


_NEAR_HALF_PI = st.integers(min_value=0, max_value=99).map(lambda k: f"1.57079632679489{k:02d}")
_TINY_POINTS = st.integers(min_value=10, max_value=40).map(lambda k: f"{k / 10000:.4f}")


@settings(max_examples=8, deadline=None, derandomize=True)
@given(at=_NEAR_HALF_PI, scheme=st.sampled_from(sorted(_SCHEMES_P)))
def test_property_rounding_dominated_points_are_never_failed(at: str, scheme: str) -> None:
    """sin at decimals within 1e-14 of π/2 in float64: f' and f''' are below 1e-14 and the
    point's rounding is up to 1.1e-16: a verdict of pass or inconclusive, never fail."""
    res = convergence("sin(x)", f"x={at}", schemes=scheme, precision="float64")
    assert res.schemes[0].status is not Status.FAIL, res.schemes[0].reason


@settings(max_examples=5, deadline=None, derandomize=True)
@given(at=_TINY_POINTS, scheme=st.sampled_from(sorted(_SCHEMES_P)))
def test_property_underflowing_derivatives_are_never_failed(at: str, scheme: str) -> None:
    """exp(-1/x²) at x = 0.001 … 0.004: f' = 2 e^(-1/x²)/x³ is below 1e-27000, out of float64's
    range: inconclusive, never fail, never an exception."""
    res = convergence("exp(-1/x**2)", f"x={at}", schemes=scheme, precision="float64")
    assert res.schemes[0].status is Status.INCONCLUSIVE, res.schemes[0].reason


# -- zeros proven, complex values limited by |f| ---------------------------------------------


def test_exact_needs_error_terms_proven_zero_not_cancelled_to_zero() -> None:
    """tanh(10x) at 25.5: f''' = 5.175e-218 (mpmath at 600 digits), though 1 − tanh² cancels to
    0 at the sweep's working digits; central:2 is inconclusive, naming its term h²/6·f''' at
    h = 0.1, never exact."""
    ctx = mpctx(600)
    d3 = ctx.diff(lambda t: ctx.tanh(10 * t), ctx.mpf("25.5"), 3)
    res = convergence("tanh(10*x)", "x=25.5", schemes="central:2")
    s = res.schemes[0]
    assert s.status is Status.INCONCLUSIVE
    assert f"≈ {mpmath.nstr(abs(d3) / 600, 3)} at h = 0.1" in s.reason


@pytest.mark.parametrize("precision", ["mp", "float64"])
def test_tanh_far_out_is_not_exact(precision: str) -> None:
    """tanh at 200: f' = sech²(200) ≈ 7.6e-174 and f''' ≈ 3e-173, both nonzero: not exact."""
    res = convergence("tanh(x)", "x=200", schemes="central:2", precision=precision)
    assert res.schemes[0].status is Status.INCONCLUSIVE


def test_complex_step_with_its_imaginary_part_lost_beside_f_is_not_failed() -> None:
    """f' ≈ 4.5e-283 for erf at 25.5 beside |f| ≈ 1: mpmath's complex erf carries its digits
    relative to |f|, so Im f(x + ih) = h f' is lost; inconclusive, not fail."""
    res = convergence("erf(x)", "x=25.5", schemes="complex", precision="mp", dps=30)
    assert res.schemes[0].status is Status.INCONCLUSIVE


@pytest.mark.parametrize("precision", ["mp", "float64"])
def test_complex_step_of_tanh_far_out_is_decided(precision: str) -> None:
    """tanh(10x) at 25.5: f' = 10 sech²(255) ≈ 1.29e-220 beside |f| ≈ 1, yet the complex step
    keeps it: Im tanh(a + ib) = sin 2b / (cosh 2a + cos 2b) subtracts nothing.  The reference
    f' is computed as 10/cosh(10x)**2 (1 - tanh² cancelled to 0), so the study is decided and
    never failed; the exact f' here is mpmath's at 600 digits."""
    ctx = mpctx(600)
    a, b = ctx.mpf(255), ctx.mpf(10) * ctx.mpf(10) ** -8  # z = 10(x + ih) at h = 1e-8
    im = ctx.sin(2 * b) / (ctx.cosh(2 * a) + ctx.cos(2 * b))
    assert abs(im / ctx.mpf(10) ** -8 / (10 * ctx.sech(a) ** 2) - 1) < ctx.mpf(10) ** -14
    res = convergence("tanh(10*x)", "x=25.5", schemes="complex", precision=precision, dps=30)
    assert res.schemes[0].status is Status.PASS, res.schemes[0].reason


def test_complex_step_limited_by_the_formula_is_not_failed() -> None:
    """log(1+x)/x at 1e-3 in float64: rounding 1 + x leaves the complex values off by about
    ε/x² ≈ 2e-10; central:2 passes on the same function, the complex step is not failed."""
    res = convergence("log(1+x)/x", "x=1e-3", schemes="central:2,complex", precision="float64")
    assert res.schemes[0].status is Status.PASS
    assert res.schemes[1].status is Status.INCONCLUSIVE


_ALL_SCHEMES = ("forward:1", "backward:1", "central:2", "forward:3", "richardson", "complex")


@settings(max_examples=5, deadline=None, derandomize=True)
@given(k=st.integers(min_value=3, max_value=9), scheme=st.sampled_from(_ALL_SCHEMES))
def test_property_a_formula_that_cancels_in_float64_is_never_failed(k: int, scheme: str) -> None:
    """log(1+x)/x at x = 10^-k: float64 rounds 1 + x, so f is off by about ε/x (relative) and
    every difference carries that noise over h^m; correct schemes are never failed by it."""
    res = convergence("log(1+x)/x", f"x=1e-{k}", schemes=scheme, precision="float64")
    assert res.schemes[0].status is not Status.FAIL, res.schemes[0].reason


def test_a_formula_that_cancels_names_its_own_rounding_and_wrong_claims_still_fail() -> None:
    """At 1e-8 the noise of f's formula sets central:2's floor (the reason says so); at 1e-3,
    where the data decide, forward:1 passes and a claimed order 2 for it fails."""
    noisy = convergence("log(1+x)/x", "x=1e-8", schemes="central:2", precision="float64")
    assert "float64 evaluation of f itself" in noisy.schemes[0].reason
    ok = convergence("log(1+x)/x", "x=1e-3", schemes="forward:1", precision="float64")
    assert ok.schemes[0].status is Status.PASS
    wrong = convergence(
        "log(1+x)/x", "x=1e-3", schemes="forward:1", precision="float64", expected_order=2
    )
    assert wrong.schemes[0].status is Status.FAIL


@pytest.mark.slow
@pytest.mark.parametrize("k", range(3, 10))
@pytest.mark.parametrize("scheme", _ALL_SCHEMES)
def test_every_scheme_on_a_formula_that_cancels_is_never_failed(k: int, scheme: str) -> None:
    """log(1+x)/x at every 10^-k, k = 3 … 9, and every scheme: never fail."""
    res = convergence("log(1+x)/x", f"x=1e-{k}", schemes=scheme, precision="float64")
    assert res.schemes[0].status is not Status.FAIL, res.schemes[0].reason


def test_the_point_rounding_is_exact_where_a_derivative_of_f_m_is_singular() -> None:
    """x·sqrt(y − 1/10) + x³ along x at the decimal y = 0.1: ∂_y f_x is infinite there, so a
    first-order shift Σ δ_k ∂_k f' would be too; the exact shift f'(float(x)) − f'(x) is
    sqrt(float(0.1) − 1/10) ≈ 2.4e-9, and central:2's errors, h² exactly (the x³ term), are
    resolved above it: a pass at order 2, a fail of a claimed 3."""
    field = "x*sqrt(y - 1/10) + x**3"
    ctx = mpmath.MPContext()
    ctx.dps = 40
    shift = ctx.sqrt(ctx.mpf(0.1) - ctx.mpf(1) / 10)
    assert 2e-9 < shift < 3e-9  # the oracle's premise
    run = convergence(
        field, at="x=0.3, y=0.1", wrt="x", schemes=("central:2",), precision="float64"
    )
    scheme = run.schemes[0]
    assert scheme.status is Status.PASS, scheme.reason
    assert abs(scheme.observed_order - 2) < 0.01
    for h, error in zip(scheme.step_sizes[:3], scheme.errors[:3], strict=True):
        assert math.isclose(float(error), float(h) ** 2, rel_tol=1e-6)
    claimed = convergence(
        field, at="x=0.3, y=0.1", wrt="x", schemes=("central:2",), precision="float64",
        expected_order=3,
    )  # fmt: skip
    assert claimed.schemes[0].status is Status.FAIL
