"""The referee's work, counted (never timed): evaluations, operations and precision raises.

The arb path compiles f's ball program once per Compiled, evaluates f at the point once per
call, and per partial one Taylor series over the stencil's interval plus the stencil points,
re-evaluating only the operations that depend on the moved variable.  The mpmath engine's
counts are pinned too, so that bookkeeping cut for speed does not cut evaluations the error
control needs.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

import symgrad
import symgrad.fd._arb as arb_module
from symgrad.fd import finite_difference, finite_difference_gradient

pytest.importorskip("flint")

POINT = "x=0.3, y=0.7, z=1.1"


def _raises(reason: str) -> int:
    found = re.search(r"after (\d+) precision raises", reason)
    return int(found.group(1)) if found else 0


def test_a_smooth_gradient_needs_four_evaluations_per_partial() -> None:
    """Two stencil points, one Taylor series, and the point itself; no precision raise."""
    results = finite_difference_gradient("sin(x)*exp(y) + z**2", POINT, dps=50, engine="arb")
    assert [r.certified for r in results] == [True, True, True]
    assert [r.evaluations for r in results] == [4, 4, 4]
    assert {_raises(r.reason) for r in results} == {0}
    assert len({r.working_dps for r in results}) == 1


def test_only_the_operations_that_move_are_evaluated_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """sin(x)*exp(y) + z**2 has 5 operations: the point evaluates them once, and each
    stencil point only those depending on its variable (3 for x, 3 for y, 2 for z): 5 + 2·8 = 21,
    where whole evaluations would take 5 · 7 = 35."""
    calls = {"n": 0}
    original = arb_module._point_step

    def counting(op: Any) -> Any:
        step = original(op)

        def counted(values: list[Any]) -> Any:
            calls["n"] += 1
            return step(values)

        return counted

    monkeypatch.setattr(arb_module, "_point_step", counting)
    f = symgrad.function("sin(x)*exp(y) + z**2")
    finite_difference_gradient(f, POINT, dps=50, engine="arb")
    assert calls["n"] == 21


def test_the_ball_program_is_compiled_once_per_function(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    original = arb_module.compile_program  # type: ignore[attr-defined]

    def counting(*args: Any) -> Any:
        seen.append(args)
        return original(*args)

    monkeypatch.setattr(arb_module, "compile_program", counting)
    f = symgrad.function("atan(x*y) + z")
    for dps in (30, 50, 80):
        finite_difference_gradient(f, POINT, dps=dps, engine="arb")
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("text", "point", "most"),
    [("(exp(x) - 1)/x", "x=1e-200", 3), ("log(1 + x**6)", "x=1e-5", 1), ("1e80 + x", "x=1", 0)],
)
def test_precision_raises_are_few_and_counted(text: str, point: str, most: int) -> None:
    """A formula that cancels costs precision raises, each one more stencil evaluation."""
    r = finite_difference(text, point, dps=50, engine="arb")
    assert r.certified, r.reason
    raises = _raises(r.reason)
    assert raises <= min(most, arb_module.MAX_ESCALATIONS)
    assert r.evaluations == 1 + 1 + 2 * (1 + raises)  # point, series, central:2 per precision


def test_a_declined_partial_costs_the_mpmath_engine_once() -> None:
    """besselj has no arb Taylor series: the mpmath complex step decides, with its own count."""
    arb = finite_difference("besselj(1, x)", "x=2", dps=50)
    plain = finite_difference("besselj(1, x)", "x=2", dps=50, engine="mpmath")
    assert not arb.certified
    assert arb.evaluations == plain.evaluations


def test_the_mpmath_stencil_work_is_unchanged() -> None:
    """The error-controlled mpmath stencil: a Richardson pair of central:2 (4 evaluations)."""
    results = finite_difference_gradient(
        "sin(x)*exp(y) + z**2", POINT, dps=50, method="mp", engine="mpmath"
    )
    assert [r.evaluations for r in results] == [4, 4, 4]
    assert all(r.ok and not r.certified for r in results)
