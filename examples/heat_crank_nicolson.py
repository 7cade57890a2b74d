"""A Crank-Nicolson heat-equation solver verified by a manufactured solution: order 2 and 2.

u_t = nu u_xx + Q on [0, 1] with Dirichlet data, discretized by the centred second
difference in space and the trapezoidal rule in time.  Both are second order, so refining h
and dt together (dt ∝ h: 8, 16, 32, 64 time steps on 9, 17, 33, 65 points) must divide the error
by 4 per level.  symgrad derives Q from the operator ``D(u, t) - nu*D(u, x, 2)`` and a chosen
smooth solution, hands the solver the source, the initial values and the boundary values,
and judges the interior and the boundary separately.

Then two planted bugs: the source taken at t_n instead of averaged over the step (first order
in time), and the boundary values of t_n imposed at t_{n+1} (a lagged boundary).  Both fail,
and the reason says where to look.

Run: ``python examples/heat_crank_nicolson.py``
"""

import numpy as np

import symgrad

OPERATOR = "D(u, t) - nu*D(u, x, 2)"
SOLUTION = "exp(-t)*sin(2*x + 0.3) + x**2*t/3"  # generic: no error term vanishes


def crank_nicolson(problem, source_bug=False, lagged_boundary=False):
    """Solve to the final time; the keywords plant one bug each."""
    (x,), (h,), dt, t0 = problem.coordinates, problem.spacing, problem.dt, problem.time[0]
    nu, n = problem.parameters["nu"], x.size
    lap = (np.eye(n, k=-1) - 2 * np.eye(n) + np.eye(n, k=1)) / h**2
    lap[[0, -1]] = 0  # boundary rows: the values are imposed
    implicit = np.eye(n) - dt / 2 * nu * lap
    explicit = np.eye(n) + dt / 2 * nu * lap
    u = problem.initial.copy()
    for k in range(problem.time_steps):
        t = t0 + k * dt
        if source_bug:
            q = problem.source(x, t)
        else:
            q = (problem.source(x, t) + problem.source(x, t + dt)) / 2
        rhs = explicit @ u + dt * q
        rhs[[0, -1]] = problem.boundary(x[[0, -1]], t if lagged_boundary else t + dt)
        u = np.linalg.solve(implicit, rhs)
    return u


def study(solver):
    return symgrad.verify_solver(
        solver,
        SOLUTION,
        operator=OPERATOR,
        expect_order={"space": 2, "time": 2},
        domain="x=0:1",
        time="t=0:0.5",
        sizes=(9, 17, 33, 65),
        time_steps=(8, 16, 32, 64),
        parameters={"nu": 0.5},
    )


good = study(crank_nicolson)
print(good.to_text())
interior = good.regions["interior"]
time_alone = next(d for d in good.diagnostics if d["kind"] == "time_order")
print(
    f"Crank-Nicolson: {good.status.value}, interior order {interior.observed_order:.2f}, ", end=""
)
print(f"time alone {time_alone['order']:.2f}")

source_bug = study(lambda p: crank_nicolson(p, source_bug=True))
lagged = study(lambda p: crank_nicolson(p, lagged_boundary=True))
print("source at t_n:", source_bug.status.value, "-", source_bug.reason)
print("lagged boundary:", lagged.status.value, "-", lagged.reason)

# --- the claims --------------------------------------------------------------------------------
assert good.status.value == "pass"
assert abs(interior.observed_order - 2) < 0.1
assert abs(time_alone["order"] - 2) < 0.1
assert good.regions["boundary"].status.value == "exact"  # Dirichlet values imposed
assert source_bug.status.value == "fail"
assert "look at the time stepping" in source_bug.reason
assert lagged.status.value == "fail"
assert lagged.regions["boundary"].status.value == "fail"
# Second order: the finest pair divides the interior error by 4 (2^2) within 10%.
e = interior.errors["Linf"]
assert 3.6 < e[-2] / e[-1] < 4.4
print("all claims verified")
