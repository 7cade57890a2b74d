"""The certified gradient's work, counted (never timed): what is made once and what every call does.

Plans, rules, step constants and the per-scheme layout of a gradient are kept per compiled
function, stencil, scale and precision; the values at a point never are.  Every call evaluates
f at the point once per precision, one Taylor series per partial and the stencil points of
each partial, so a repeated call repeats exactly that work and nothing more.
"""

from __future__ import annotations

from typing import Any

import pytest

import symgrad
import symgrad.fd._arb as arb_module
import symgrad.fd._finite_diff as fd_module
from symgrad.derive import ArbBalls
from symgrad.fd import FDResult, finite_difference_gradient
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
    """Per gradient of three variables: the point once, three Taylor series, three stencils of
    two points; the same call again does all of it again (nothing is kept per point)."""
    f = symgrad.function(TEXT)
    finite_difference_gradient(f, POINT, dps=50, engine="arb")  # plans and constants made
    centres = _count(monkeypatch, arb_module._Call, "_centre")
    series = _count(monkeypatch, arb_module, "_series")
    stencils = _count(monkeypatch, arb_module, "_stencil")
    for calls in (1, 2, 3):
        results = finite_difference_gradient(f, POINT, dps=50, engine="arb")
        assert [r.evaluations for r in results] == [4, 4, 4]
        assert (centres["n"], series["n"], stencils["n"]) == (calls, 3 * calls, 3 * calls)


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
    1/max(1, |x|) is exactly 1 for |x| <= 1; one coordinate beyond 1 makes its one ball."""
    f = symgrad.function(TEXT)
    far = "x=3, y=0.7, z=0.5"
    for where in (POINT, far):
        finite_difference_gradient(f, where, dps=50, engine="arb")
    calls = _count(monkeypatch, ArbBalls, "rational")
    finite_difference_gradient(f, POINT, dps=50, engine="arb")
    assert calls["n"] == 0
    finite_difference_gradient(f, far, dps=50, engine="arb")
    assert calls["n"] == 1


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
