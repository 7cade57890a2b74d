"""The certified gradient's work, counted (never timed): what is made once and what every call does.

Plans, rules, step constants and the per-scheme layout of a gradient are kept per compiled
function, stencil, scale and precision; the values at a point never are.  Every call evaluates
f at the point once per precision, f once over a complex box around it (the Cauchy bound of
every partial) where f is analytic there, else one Taylor series per partial, and the stencil
points of each partial, so a repeated call repeats exactly that work and nothing more.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad
import symgrad.derive._balls as balls_module
import symgrad.fd._arb as arb_module
import symgrad.fd._finite_diff as fd_module
from symgrad.derive import ArbBalls
from symgrad.fd import FDResult, finite_difference, finite_difference_gradient
from symgrad.results import PointStatus

pytest.importorskip("flint")

TEXT = "sin(x+y)*exp(-z**2)"
POINT = "x=0.3, y=0.7, z=0.5"


def _count(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> dict[str, int]:
    """Count the calls of ``owner.name`` (the original still runs)."""
    calls = {"n": 0}
    original = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def test_every_call_does_the_whole_work_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Per gradient of three variables: the point once, the complex box once, three stencils
    of two points and no Taylor series; the same call again does all of it again (nothing is
    kept per point)."""
    f = symgrad.function(TEXT)
    finite_difference_gradient(f, POINT, dps=50, engine="arb")  # plans and constants made
    centres = _count(monkeypatch, arb_module._Call, "_centre")
    boxes = _count(monkeypatch, arb_module._Call, "_disc")
    series = _count(monkeypatch, arb_module, "_series")
    stencils = _count(monkeypatch, arb_module, "_disc_single")
    for calls in (1, 2, 3):
        results = finite_difference_gradient(f, POINT, dps=50, engine="arb")
        assert [r.evaluations for r in results] == [4, 4, 4]
        assert all("Cauchy" in r.reason for r in results)
        counted = (centres["n"], boxes["n"], series["n"], stencils["n"])
        assert counted == (calls, calls, 0, 3 * calls)


def test_without_a_cauchy_bound_every_partial_has_its_series(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """abs has no complex extension here: no box, a Taylor series and a stencil per partial."""
    f = symgrad.function("abs(x - y)*exp(z)")
    finite_difference_gradient(f, POINT, dps=50, engine="arb")
    boxes = _count(monkeypatch, arb_module._Call, "_disc")
    series = _count(monkeypatch, arb_module, "_series")
    stencils = _count(monkeypatch, arb_module, "_stencil")
    results = finite_difference_gradient(f, POINT, dps=50, engine="arb")
    assert [r.certified for r in results] == [True, True, True]
    assert not any("Cauchy" in r.reason for r in results)
    assert (boxes["n"], series["n"], stencils["n"]) == (0, 3, 3)


def test_step_constants_are_made_once_per_scale_and_precision(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A second gradient at the same point, or at another point of the same scales, makes no
    new constants; a point of another scale (another step) does."""
    f = symgrad.function(TEXT)
    made = _count(monkeypatch, arb_module, "_make_constants")
    finite_difference_gradient(f, POINT, dps=47, engine="arb")  # a dps of its own: fresh jobs
    first = made["n"]
    assert first >= 1
    finite_difference_gradient(f, POINT, dps=47, engine="arb")
    finite_difference_gradient(f, "x=0.35, y=0.65, z=0.45", dps=47, engine="arb")
    assert made["n"] == first
    finite_difference_gradient(f, "x=3e20, y=0.7, z=0.5", dps=47, engine="arb")
    assert made["n"] > first


def test_the_layout_of_a_gradient_is_made_once_per_scheme(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Which partials run on arb and their stencils: one stencils_for per partial, once."""
    fd_module._layout.cache_clear()
    calls = _count(monkeypatch, fd_module, "stencils_for")
    f = symgrad.function(TEXT)
    for _ in range(4):
        finite_difference_gradient(f, POINT, dps=50, engine="arb")
    assert calls["n"] == 3
    finite_difference_gradient(f, POINT, dps=50, engine="arb", scheme="central:4")
    assert calls["n"] == 6


def test_no_rational_balls_per_call_but_the_shrink_beyond_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Per call no rational is made into a ball through fmpq: the coordinates are their exact
    integers divided, the constant -1 of exp(-z²) is an exact ball made with the plan, and
    1/max(1, |x|)^m is exactly 1 for |x| <= 1.  Beyond 1 its ball is made only where the digits
    are counted against f (the derivative below |f| / |x|^m), once for that partial."""
    f = symgrad.function(TEXT)
    far, flat = "x=3, y=0.7, z=0.5", "x=3, y=-1.4292036732051034, z=0.5"
    for where in (POINT, far, flat):
        finite_difference_gradient(f, where, dps=50, engine="arb")
    calls = _count(monkeypatch, ArbBalls, "rational")
    finite_difference_gradient(f, POINT, dps=50, engine="arb")
    finite_difference_gradient(f, far, dps=50, engine="arb")
    assert calls["n"] == 0
    results = finite_difference_gradient(f, flat, dps=50, engine="arb")  # cos(x + y) ≈ 0
    assert calls["n"] == 2  # the x and y partials, each below |f| / |x|
    assert ["below |f|" in r.reason for r in results] == [True, True, False]


def test_coordinates_enter_as_the_balls_of_their_rationals() -> None:
    """arb(p) / q is the ball python-flint makes of fmpq(p, q) (the same rounding of the same
    quotient), at several precisions, for reduced and unreduced fractions alike."""
    flint = pytest.importorskip("flint")
    old = flint.ctx.prec
    try:
        for prec in (53, 289, 1000):
            flint.ctx.prec = prec
            for p, q in ((3, 10), (-7, 3), (2**400 + 1, 3**170), (6, 4), (10**30, 1)):
                a, b = flint.arb(flint.fmpq(p, q)), flint.arb(p) / q
                assert (a.mid(), a.rad()) == (b.mid(), b.rad())
    finally:
        flint.ctx.prec = old


def test_a_certified_result_is_an_ordinary_fdresult() -> None:
    """The arb path builds its results without the dataclass's per-field checks: every field is
    what the constructor would have made, and the result compares and renders alike."""
    r = finite_difference_gradient(TEXT, POINT, dps=30, engine="arb")[0]
    again = FDResult(
        r.value,
        r.error_estimate,
        r.step,
        PointStatus.OK,
        r.reason,
        "mp",
        r.scheme,
        r.working_dps,
        r.evaluations,
        certified=True,
    )
    assert vars(r) == vars(again)
    assert r == again
    assert r.to_dict() == again.to_dict()
    assert r.to_text() == again.to_text()


def test_a_vector_function_costs_one_box_and_one_stencil_per_partial(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two components, two variables: the point once, the box once (its bound covers both
    components), a stencil per partial (the components share it), every component certified."""
    f = symgrad.function(["x*y**3", "exp(x)/(1 + y**2)"])
    finite_difference_gradient(f, "x=0.5, y=0.25", dps=30, engine="arb")
    centres = _count(monkeypatch, arb_module._Call, "_centre")
    boxes = _count(monkeypatch, arb_module._Call, "_disc")
    series = _count(monkeypatch, arb_module, "_series")
    stencils = _count(monkeypatch, arb_module, "_stencil")
    results = finite_difference_gradient(f, "x=0.5, y=0.25", dps=30, engine="arb")
    assert [r.certified for r in results] == [True, True]
    assert (centres["n"], boxes["n"], series["n"], stencils["n"]) == (1, 1, 0, 2)


def test_cancellation_raises_the_precision_and_counts_the_extra_stencils() -> None:
    """log(1 + x^6) at 1e-5 cancels some 30 digits: the first stencil is too wide, the second
    at more bits certifies (one series, two stencils of two points, and the point)."""
    r = finite_difference("log(1 + x**6)", "x=1e-5", "x", dps=30, engine="arb")
    assert r.certified, r.reason
    assert "after 1 precision raises" in r.reason
    assert r.evaluations == 6


# -- certified bounds against closed forms in a private mpmath context ----------------------------

_CTX = mpmath.MPContext()


def _grad_sin_exp(c: Any, x: Any, y: Any, z: Any) -> tuple[list[Any], list[list[Any]]]:
    """sin(x + y)·exp(-z²) and its gradient, written out by hand."""
    e = c.exp(-(z**2))
    grad = [[c.cos(x + y) * e], [c.cos(x + y) * e], [-2 * z * c.sin(x + y) * e]]
    return [c.sin(x + y) * e], grad


def _grad_vector(c: Any, x: Any, y: Any, _z: Any) -> tuple[list[Any], list[list[Any]]]:
    """(x·y³, exp(x)/(1 + y²)) and its ∂/∂x and ∂/∂y, written out by hand."""
    grad = [[y**3, c.exp(x) / (1 + y**2)], [3 * x * y**2, -2 * y * c.exp(x) / (1 + y**2) ** 2]]
    return [x * y**3, c.exp(x) / (1 + y**2)], grad


def _grad_log_cos(c: Any, x: Any, y: Any, _z: Any) -> tuple[list[Any], list[list[Any]]]:
    """log(1 + x²)·cos(y) and its gradient."""
    grad = [[2 * x / (1 + x**2) * c.cos(y)], [-c.log(1 + x**2) * c.sin(y)]]
    return [c.log(1 + x**2) * c.cos(y)], grad


CASES = {
    "sin(x+y)*exp(-z**2)": (TEXT, 3, _grad_sin_exp),
    "vector": (["x*y**3", "exp(x)/(1 + y**2)"], 2, _grad_vector),
    "log": ("log(1 + x**2)*cos(y)", 2, _grad_log_cos),
}


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    name=st.sampled_from(sorted(CASES)),
    numerators=st.lists(st.integers(-(10**6), 10**6), min_size=3, max_size=3),
    denominator=st.integers(1, 10**4),
    dps=st.sampled_from([15, 30, 50, 80, 120]),
)
def test_property_certified_bounds_are_true(
    name: str, numerators: list[int], denominator: int, dps: int
) -> None:
    """At random rational points every certified partial lies within its bound of the closed
    form (evaluated at 2·dps + 40 digits), and the bound is no wider than the digits claimed:
    10^-dps of the largest component's |f'| or |f| / max(1, |x|)."""
    text, n, gradient = CASES[name]
    point = [Fraction(k, denominator) for k in numerators[:n]]
    at = dict(zip("xyz", point, strict=False))
    results = finite_difference_gradient(symgrad.function(text), at, dps=dps, engine="arb")
    _CTX.dps = 2 * dps + 40
    padded = [*point, Fraction(0), Fraction(0)][:3]  # z unused by the two-variable cases
    coordinates = [_CTX.mpf(v.numerator) / v.denominator for v in padded]
    f_values, exact = gradient(_CTX, *coordinates)
    for axis, (r, want) in enumerate(zip(results, exact, strict=True)):
        if not r.certified:
            continue
        shrink = max(_CTX.one, abs(coordinates[axis]))
        scale = max(max(abs(w), abs(v) / shrink) for w, v in zip(want, f_values, strict=True))
        values = np.atleast_1d(np.asarray(r.value, dtype=object))
        bounds = np.atleast_1d(np.asarray(r.error_estimate, dtype=object))
        for value, bound, w in zip(values, bounds, want, strict=True):
            err = abs(_CTX.convert(value) - w)
            assert err <= _CTX.convert(bound), (text, at, dps, r.reason)
            assert _CTX.convert(bound) <= 2 * _CTX.mpf(10) ** -dps * scale, r.reason


# -- planted poles and kinks: declined where the stencil's interval reaches them -----------------


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    kind=st.sampled_from(["pole", "kink", "root"]),
    digits=st.integers(3, 90),
    side=st.sampled_from([-1, 1]),
    dps=st.sampled_from([20, 50]),
)
def test_property_near_a_pole_or_kink_never_a_false_certificate(
    kind: str, digits: int, side: int, dps: int
) -> None:
    """1/(x − 1), |x − 1| and sqrt(|x − 1|)·(x − 1) at 1 ± 10^-digits: a certificate only where
    the stencil's interval [x − h, x + h] stays on one side (distance > step), and then within
    its bound of the one-sided closed form; at distances far below any step, always declined."""
    text = {"pole": "1/(x - 1)", "kink": "abs(x - 1)", "root": "sqrt(abs(x - 1))*(x - 1)"}[kind]
    distance = Fraction(1, 10**digits)
    x = 1 + side * distance
    r = finite_difference(text, {"x": x}, "x", dps=dps, engine="arb")
    _CTX.dps = 2 * dps + 2 * digits + 40
    u = _CTX.mpf(side) / _CTX.mpf(10) ** digits  # x − 1, exactly
    want = {"pole": -1 / u**2, "kink": _CTX.mpf(side), "root": 1.5 * _CTX.sqrt(abs(u))}[kind]
    if digits >= dps:  # far below the first step (about 10^-(dps/2)): the interval reaches 1
        assert not r.certified, (text, digits, r.reason)
    if r.certified:
        assert _CTX.convert(r.step) < abs(u), (text, digits, r.reason)
        assert abs(_CTX.convert(r.value) - want) <= _CTX.convert(r.error_estimate), r.reason


class _NoFlint:
    """A finder that refuses python-flint, as an interpreter without it does, counting the
    searches that reach it."""

    def __init__(self) -> None:
        self.searches = 0

    def find_spec(self, name: str, *_: Any) -> None:
        if name == "flint":
            self.searches += 1
            raise ModuleNotFoundError(name)


def test_a_missing_python_flint_is_searched_for_once_per_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the fast extra the import of flint fails after searching sys.path: remembered
    per sys.path for ten seconds, so a gradient does not search again; a new path, a later
    search (a python-flint installed meanwhile) or a flint put in sys.modules is seen."""
    clock = {"now": 1000.0}
    monkeypatch.setattr(balls_module.time, "monotonic", lambda: clock["now"])
    blocker = _NoFlint()
    flint = sys.modules["flint"]
    monkeypatch.setattr(balls_module, "_NOT_FOUND", {})
    monkeypatch.delitem(sys.modules, "flint")
    monkeypatch.setattr(sys, "meta_path", [blocker, *sys.meta_path])
    assert not balls_module.arb_available()
    assert not balls_module.arb_available()
    result = finite_difference_gradient(TEXT, POINT, dps=30)  # the mpmath engine
    assert not any(r.certified for r in result)
    assert blocker.searches == 1
    monkeypatch.setattr(sys, "path", [*sys.path, "/nonexistent-symgrad-test-dir"])
    assert not balls_module.arb_available()
    assert blocker.searches == 2
    clock["now"] += 9.0
    assert not balls_module.arb_available()
    assert blocker.searches == 2
    clock["now"] += 2.0  # ten seconds after the last search
    assert not balls_module.arb_available()
    assert blocker.searches == 3
    monkeypatch.setitem(sys.modules, "flint", flint)
    assert balls_module.arb_available()
    monkeypatch.setitem(sys.modules, "flint", None)  # hidden: refused without a search
    assert not balls_module.arb_available()
    assert blocker.searches == 3
