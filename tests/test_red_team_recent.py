"""Red team of recent verdict code: the attacks that held, kept as regression tests.

* ``check`` differencing only the terms of a sum that hold the variables must give the same
  verdicts as differencing f whole (the private ``SPLIT_SUMS`` switch), on sums built to make
  it lie: huge cancellation between terms, a tiny derivative beside a huge constant, kinks in
  other terms, mixed partials, terms sharing variables.
* The certified arb referee: |value - true derivative| never exceeds the certified bound,
  the true value from closed forms in a private mpmath context, at poles, huge and tiny
  arguments, special functions and high orders.
* ``check`` on a thread pool equals the serial run.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import mpmath
import pytest

import symgrad
from symgrad.checks import _terms

SUMS = [
    ("1e40*sin(x) - 1e40*sin(y) + 1e-30*x**2", "x=0.3, y=0.3", "gradient"),
    ("1e300 + 1e-300*x**3 + y", "x=2, y=1", "gradient"),
    ("x*y + exp(y) + abs(x - 0.5)*y", "x=0.5, y=0", "hessian"),
    ("min(x, 1) + Heaviside(y)*x + z**3", "x=1, y=0.2, z=0.1", "hessian"),
    ("sin(x)*cos(y) + 1e20*cos(y) + 1e-20*x*y", "x=0.1, y=0.2", "hessian"),
    ("x**3 + 1e200*y", "x=1e-120, y=1", "hessian"),
    ("x*y*z + abs(z)", "x=1, y=2, z=0", "hessian"),
    ("atan2(y, x) + x*y", "x=-1, y=0", "gradient"),
    ("x + 1/y", "x=0.5, y=0", "gradient"),
    ("x + log(y)", "x=0.5, y=-1", "gradient"),
]


def _statuses(expr: str, at: str, kind: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    r = symgrad.check(expr, at, kind=kind)
    return r.status.value, tuple((c.label, c.point_status.value) for c in r.components)


@pytest.mark.parametrize(("expr", "at", "kind"), SUMS)
def test_split_sum_verdicts_equal_whole_function(
    expr: str, at: str, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    split = _statuses(expr, at, kind)
    monkeypatch.setattr(_terms, "SPLIT_SUMS", False)
    assert split == _statuses(expr, at, kind)


def test_tiny_derivative_beside_huge_constant_is_right() -> None:
    # d/dx = 3e-300 * x**2 at x = 2: 1.2e-299 exactly; d/dy = 1
    r = symgrad.check("1e300 + 1e-300*x**3 + y", "x=2, y=1")
    assert r.status.value == "pass"
    ctx = mpmath.MPContext()
    ctx.dps = 60
    fd = ctx.mpf(str(r.components[0].finite_difference))
    assert abs(fd - ctx.mpf("1.2e-299")) <= ctx.mpf("1e-340")


def _erf_derivative(k: int) -> Callable[[Any, Any], Any]:
    # d^k/dx^k erf(x) = 2/sqrt(pi) (-1)^(k-1) H_(k-1)(x) exp(-x^2)
    return lambda c, x: 2 / c.sqrt(c.pi) * (-1) ** (k - 1) * c.hermite(k - 1, x) * c.exp(-x * x)


ARB = [
    ("1/x", "1e-100", 15, 1, lambda c, x: -1 / x**2),
    ("1/x", "1e-100", 20, 6, lambda c, x: 720 / x**7),
    ("sqrt(x)", "1e-300", 30, 5, lambda c, x: c.mpf(105) / 32 * x ** c.mpf(-4.5)),
    ("log(x)", "1e200", 100, 3, lambda c, x: 2 / x**3),
    ("loggamma(x)", "1e100", 40, 2, lambda c, x: c.polygamma(1, x)),
    ("erf(x)", "30", 30, 5, _erf_derivative(5)),
    ("x**7", "1e40", 20, 6, lambda c, x: 5040 * x),
    ("gamma(x)", "-2.5", 60, 2, lambda c, x: c.diff(c.gamma, x, 2)),
    ("atan2(2, x)", "-1e-12", 40, 1, lambda c, x: -2 / (4 + x**2)),
    ("beta(x, 3)", "1e-10", 30, 1, lambda c, x: c.diff(lambda t: c.beta(t, 3), x)),
    ("erfc(x)", "27", 200, 1, lambda c, x: -2 / c.sqrt(c.pi) * c.exp(-x * x)),
]


@pytest.mark.parametrize(("expr", "at", "dps", "order", "exact"), ARB)
def test_arb_bound_holds(
    expr: str, at: str, dps: int, order: int, exact: Callable[[Any, Any], Any]
) -> None:
    pytest.importorskip("flint")
    r = symgrad.finite_difference(expr, f"x={at}", ("x", order), dps=dps, engine="arb")
    assert r.status.value == "ok"
    assert r.certified
    ctx = mpmath.MPContext()
    ctx.dps = 3 * dps + 60
    true = exact(ctx, ctx.mpf(at))
    value, bound = ctx.make_mpf(r.value._mpf_), ctx.make_mpf(r.error_estimate._mpf_)
    assert abs(value - true) <= bound


def test_check_on_threads_equals_serial() -> None:
    expr = "x*y + abs(y) + 1e30 + exp(z)*x"
    at = ["x=0.1, y=0, z=1", "x=2, y=3, z=-1"]
    serial = symgrad.check(expr, at, kind="hessian")
    with ThreadPoolExecutor(2) as pool:
        pooled = symgrad.check(expr, at, kind="hessian", executor=pool)
    assert serial.status == pooled.status
    assert serial.reason == pooled.reason
    assert [repr(c) for p in serial.points for c in p.components] == [
        repr(c) for p in pooled.points for c in p.components
    ]


def test_the_switch_differences_f_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    # the comparison above means something only if the switch reaches check: split, the kink
    # of abs(y) names the term it is in; differenced whole, it cannot, at the same whole point
    split = symgrad.check("x + abs(y)", "x=0.3, y=0").reason
    assert "x=0.3, y=0" in split
    assert "(in Abs(y), the term of f that holds y)" in split
    monkeypatch.setattr(_terms, "SPLIT_SUMS", False)
    whole = symgrad.check("x + abs(y)", "x=0.3, y=0").reason
    assert "x=0.3, y=0" in whole
    assert "the term of f" not in whole


@pytest.mark.parametrize("kind", ["hessian", "x y", ("y", "x", "x")])
def test_partial_along_an_absent_variable_is_exactly_zero(kind: Any) -> None:
    # f = x**2 + z does not depend on y: every partial along y is exactly 0.  The part of the
    # sum holding x or y (x**2) used to be differenced along x alone, giving 2 for d2/dxdy
    # (a false fail)
    r = symgrad.check("x**2 + z", "x=1, y=2, z=3", kind=kind, variables="x y z")
    assert r.status.value == "pass"
    mixed = [c for c in r.components if "y" in c.label]
    assert mixed
    assert all(c.finite_difference == 0 for c in mixed)


@pytest.mark.parametrize(
    ("expr", "status"),
    [
        # a constant offset: numpy.gradient's errors sit at the rounding floor of 1e10
        ("1e10 + sin(x)", "inconclusive"),
        # a small resolved oscillation on a line: numpy.gradient (second order) passes
        ("x + 1e-4*sin(80*x)", "pass"),
    ],
)
def test_grid_offset_and_small_resolved_feature(expr: str, status: str) -> None:
    assert symgrad.verify_grid(expr, "x=0:1").status.value == status
