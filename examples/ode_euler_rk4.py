"""Forward Euler against RK4 on y' = -y + sin t: observed orders 1 and 4, and a planted bug.

The method of manufactured solutions for an ODE integrator is refinement in the time step
only.  Write the equation as an operator, ``D(u, t) + u`` (so y' = -y + Q(t)), and pick the
exact solution y = (sin t - cos t)/2 + exp(-t): symgrad derives Q = sin t symbolically, runs the
integrator with 10, 20, 40, ... time steps, and compares each final value with the exact one.  A
first-order method halves its error when dt halves, a fourth-order one divides it by 16.

The planted bug evaluates RK4's last stage at t instead of t + dt: the method stays consistent
(it still converges) but loses two orders, which only a convergence study shows.

Run: ``python examples/ode_euler_rk4.py``
"""

import math
from types import SimpleNamespace

import symgrad

OPERATOR = "D(u, t) + u"  # y' = -y + Q(t)
SOLUTION = "(sin(t) - cos(t))/2 + exp(-t)"  # Q = sin(t), y(0) = 1/2


def euler(problem):
    """Forward Euler: y_{n+1} = y_n + dt f(t_n, y_n)."""
    y, dt, t0 = float(problem.initial), problem.dt, problem.time[0]
    for n in range(problem.time_steps):
        y += dt * (-y + float(problem.source(t0 + n * dt)))
    return y


def rk4(problem, last_stage=1.0):
    """Classical Runge-Kutta; ``last_stage`` places k4 at t + last_stage*dt (1 is correct)."""
    y, dt, t0 = float(problem.initial), problem.dt, problem.time[0]

    def f(t, v):
        return -v + float(problem.source(t))

    for n in range(problem.time_steps):
        t = t0 + n * dt
        k1 = f(t, y)
        k2 = f(t + dt / 2, y + dt / 2 * k1)
        k3 = f(t + dt / 2, y + dt / 2 * k2)
        k4 = f(t + last_stage * dt, y + dt * k3)
        y += dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y


def rk4_bug(problem):
    return rk4(problem, last_stage=0.0)


TIME_STEPS = (10, 20, 40, 80, 160)
results = {}
for name, solver, order in (("Euler", euler, 1), ("RK4", rk4, 4), ("RK4, k4 at t", rk4_bug, 4)):
    r = symgrad.verify_solver(
        solver, SOLUTION, operator=OPERATOR, expect_order=order, time="t=0:2", time_steps=TIME_STEPS
    )
    results[name] = r
    region = r.regions["solution"]
    print(
        f"{name}: {r.status.value}, observed order {region.observed_order:.2f} (expected {order})"
    )

print()
print(results["RK4"].to_text())
print("reason for the bug:", results["RK4, k4 at t"].reason)

# --- the claims, against hand-derived values -------------------------------------------------
exact = (math.sin(2) - math.cos(2)) / 2 + math.exp(-2)
euler_errors = results["Euler"].regions["solution"].errors["Linf"]
assert results["Euler"].status.value == "pass"
assert results["RK4"].status.value == "pass"
assert results["RK4, k4 at t"].status.value == "fail"
assert abs(results["RK4"].regions["solution"].observed_order - 4) < 0.1
# Euler's global error at t = 2 is about dt/2 * |∫ e^{-(2-s)} y''(s) ds|: it halves with dt.
assert 1.9 < euler_errors[-2] / euler_errors[-1] < 2.1
# The reported error is Euler's answer minus the closed form, with Q = sin t written by hand.
by_hand = SimpleNamespace(initial=0.5, dt=0.2, time=(0.0, 2.0), time_steps=10, source=math.sin)
assert math.isclose(euler_errors[0], abs(euler(by_hand) - exact), rel_tol=1e-12)
print("all claims verified")
