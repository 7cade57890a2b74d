"""Red team, fourth session: attacks that held, kept as regression tests (guards only).

* ``check_gradient``: planted errors in one component of a 100-variable gradient (a sign flip,
  a relative error just above rtol) fail, on a thread pool too; the correct gradient passes.
  Oracle: the hand-derived closed form of the gradient.
* ``verify_operator`` on a MAC grid: the face-to-centre divergence and the centre-to-face
  gradient pass at order 2; half a cell of offset, an O(1) error in one corner, a wrong
  boundary row and an O(1) error on a transverse face fail.
* ``verify_solver``: forward Euler declared second order fails; Heun passes.
* Certified arb differences next to a kink 1e-17 away and at an underflowing product
  (erfc(x)·exp(x²) at x = 20): the bound holds against mpmath closed forms in a private context.
* The float64 complex step on erfc(x)·exp(x²) where no imaginary part underflows (x ≤ 10).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad

N = 100
NAMES = [f"x{i}" for i in range(N)]
CYCLIC = " + ".join(f"sin(x{i})*x{(i + 1) % N}**2" for i in range(N))


def _cyclic_gradient(p: Any) -> Any:
    """d/dx_i of Σ sin(x_i) x_(i+1)²: cos(x_i) x_(i+1)² + 2 x_i sin(x_(i-1))."""
    p = np.asarray(p, dtype=np.float64)
    return np.cos(p) * np.roll(p, -1) ** 2 + 2 * p * np.sin(np.roll(p, 1))


def _planted(index: int, factor: float) -> Callable[[Any], Any]:
    def user(p: Any) -> Any:
        g = _cyclic_gradient(p)
        g[index] *= factor
        return g

    return user


def _check(user: Callable[[Any], Any], **kw: Any) -> Any:
    return symgrad.check_gradient(
        user, CYCLIC, variables=NAMES, call="packed", n_points=6, seed=3, **kw
    )


def test_correct_wide_gradient_passes() -> None:
    assert _check(_cyclic_gradient).status.value == "pass"


@settings(max_examples=4, deadline=None, derandomize=True)
@given(
    index=st.integers(0, N - 1),
    factor=st.sampled_from([-1.0, 1 + 1.5e-8, 1 - 3e-8, 1 + 1e-4, 0.0]),
)
def test_planted_error_in_one_component_fails(index: int, factor: float) -> None:
    r = _check(_planted(index, factor))
    assert r.status.value == "fail"
    assert r.worst is not None
    assert r.worst["entry"] == f"d/dx{index}"


def test_planted_sign_flip_fails_on_threads() -> None:
    with ThreadPoolExecutor(2) as pool:
        r = _check(_planted(N - 1, -1.0), executor=pool)
    assert r.status.value == "fail"
    assert r.worst is not None
    assert r.worst["entry"] == f"d/dx{N - 1}"


# -- staggered (MAC) grids --------------------------------------------------------------------

FIELD = "sin(2*x + 0.3)*exp(y/2)"
VELOCITY = ["sin(2*x + 0.3)*cos(y)", "exp(x/3)*sin(y + 0.2)"]
BOX = "x=0:1,y=0:1"


def _mac_divergence(uv: Any, h: Any) -> Any:
    u, v = uv
    return (u[1:, :] - u[:-1, :]) / h[0] + (v[:, 1:] - v[:, :-1]) / h[1]


def _half_cell_divergence(uv: Any, h: Any) -> Any:
    d = _mac_divergence(uv, h)
    out = d.copy()
    out[:-1] = (d[:-1] + d[1:]) / 2  # the value of the next face half a cell on
    return out


def _corner_divergence(uv: Any, h: Any) -> Any:
    d = _mac_divergence(uv, h)
    d[0, 0] += 1.0
    return d


def _centre_to_face_gradient(p: Any, h: Any) -> tuple[Any, ...]:
    outs = []
    for axis in range(2):
        q = np.moveaxis(p, axis, 0)
        g = np.empty((q.shape[0] + 1, *q.shape[1:]))
        g[1:-1] = (q[1:] - q[:-1]) / h[axis]
        g[0], g[-1] = 2 * g[1] - g[2], 2 * g[-2] - g[-3]  # linear extrapolation: O(h²)
        outs.append(np.moveaxis(g, 0, axis))
    return tuple(outs)


def _wrong_row_gradient(p: Any, h: Any) -> tuple[Any, ...]:
    gx, gy = _centre_to_face_gradient(p, h)
    gx[-1] = gx[-2]  # the last face copies its neighbour: an O(h) boundary
    return gx, gy


@pytest.mark.parametrize(
    ("scheme", "status", "diagnostic"),
    [
        (_mac_divergence, "pass", None),
        (_half_cell_divergence, "fail", "half_cell_shift"),
        (_corner_divergence, "fail", None),
    ],
)
def test_mac_divergence(scheme: Any, status: str, diagnostic: str | None) -> None:
    r = symgrad.verify_operator(
        scheme, VELOCITY, BOX, "divergence", field_at="faces", output="cells"
    )
    assert r.status.value == status
    if diagnostic is not None:
        assert diagnostic in [d["kind"] for d in r.diagnostics]


@pytest.mark.parametrize(
    ("scheme", "status"), [(_centre_to_face_gradient, "pass"), (_wrong_row_gradient, "fail")]
)
def test_mac_pressure_gradient(scheme: Any, status: str) -> None:
    r = symgrad.verify_operator(scheme, FIELD, BOX, "gradient", field_at="cells", output="faces")
    assert r.status.value == status


def test_error_on_a_transverse_face_fails() -> None:
    def dx(u: Any, h: Any) -> Any:
        out = np.gradient(u, h[0], axis=0, edge_order=2)
        out[5:-5, 0] += 1.0  # wrong on the face y = 0, which d/dx differences centrally
        return out

    r = symgrad.verify_operator(dx, FIELD, BOX, "x")
    assert r.status.value == "fail"


# -- solvers ----------------------------------------------------------------------------------


def _euler(p: Any) -> float:
    u, dt = float(p.initial), p.dt
    for n in range(p.time_steps):
        u += dt * (-u + float(p.source(p.time[0] + n * dt)))
    return u


def _heun(p: Any) -> float:
    u, dt = float(p.initial), p.dt
    for n in range(p.time_steps):
        t = p.time[0] + n * dt
        k1 = -u + float(p.source(t))
        k2 = -(u + dt * k1) + float(p.source(t + dt))
        u += dt * (k1 + k2) / 2
    return u


@pytest.mark.parametrize(("solver", "status"), [(_euler, "fail"), (_heun, "pass")])
def test_solver_declared_second_order(solver: Callable[[Any], float], status: str) -> None:
    r = symgrad.verify_solver(
        solver,
        "sin(t) + exp(-t)",
        operator="D(u, t) + u",
        expect_order=2,
        time="t=0:2",
        time_steps=(16, 32, 64, 128, 256),
    )
    assert r.status.value == status


# -- certified differences ----------------------------------------------------------------------


def _erfcx_derivative(c: Any, x: Any) -> Any:
    return 2 * x * c.erfc(x) * c.exp(x * x) - 2 / c.sqrt(c.pi)


ARB = [
    # a tie of max 9.6e-18 to the right of the point: the hull must stay on cos's side
    ("max(sin(x), cos(x))", "0.7853981633974483", 50, lambda c, x: -c.sin(x)),
    ("erfc(x)*exp(x**2)", "20", 15, _erfcx_derivative),
    ("erfc(x)*exp(x**2)", "20", 50, _erfcx_derivative),
    ("cosh(x)*exp(-x)", "300", 30, lambda c, x: -c.exp(-2 * x)),
]


@pytest.mark.parametrize(("expr", "at", "dps", "exact"), ARB)
def test_arb_bound_holds(expr: str, at: str, dps: int, exact: Callable[[Any, Any], Any]) -> None:
    pytest.importorskip("flint")
    r = symgrad.finite_difference(expr, f"x={at}", "x", dps=dps, engine="arb")
    assert r.status.value == "ok"
    assert r.certified
    ctx = mpmath.MPContext()
    ctx.dps = 3 * dps + 60
    true = exact(ctx, ctx.mpf(at))
    value, bound = ctx.make_mpf(r.value._mpf_), ctx.make_mpf(r.error_estimate._mpf_)
    assert abs(value - true) <= bound


@pytest.mark.parametrize("x", [5.0, 10.0])
def test_complex_step_where_nothing_underflows(x: float) -> None:
    r = symgrad.finite_difference("erfc(x)*exp(x**2)", {"x": x}, wrt="x", method="complex")
    assert r.status.value == "ok"
    ctx = mpmath.MPContext()
    ctx.dps = 60
    true = _erfcx_derivative(ctx, ctx.mpf(x))
    assert abs(ctx.mpf(float(r.value)) - true) <= float(r.error_estimate)
