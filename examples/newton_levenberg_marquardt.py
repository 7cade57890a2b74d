"""Newton's method with the exact Hessian, and Levenberg–Marquardt with the exact Jacobian.

1. Newton on Rosenbrock's f = (1 − x)² + 100(y − x²)²: x_{k+1} = x_k − H(x_k)⁻¹ ∇f(x_k).
   Near the minimum (1, 1) the error is squared at every step, e_{k+1} ≤ C·e_k²: the number of
   correct digits doubles until float64 runs out.
2. Levenberg–Marquardt fits A·exp(−σt)·sin(ωt) to noisy samples.  The parameters (A, σ, ω) are
   differentiated (``wrt=``) and the samples (t, y) are data (``args=``): ``symgrad.for_scipy``
   gives the residuals r(θ) and their Jacobian in the (N, 3) shape least-squares code expects.
   The fit recovers the true parameters to within their standard errors, which the noise sets.

Run: ``python examples/newton_levenberg_marquardt.py``
"""

import itertools

import numpy as np

import symgrad

# --- 1. Newton's method on Rosenbrock --------------------------------------------------------
ROSENBROCK = "(1 - x)**2 + 100*(y - x**2)**2"
grad = symgrad.gradient(ROSENBROCK)
hess = symgrad.hessian(ROSENBROCK)
print(f"Hessian of {ROSENBROCK}: {hess.to_strings()}")

p, minimum = np.array([-1.2, 1.0]), np.array([1.0, 1.0])  # the classic start
errors = [np.linalg.norm(p - minimum)]
print("  k   ‖x_k - x*‖    ‖∇f(x_k)‖   e_k / e_(k-1)²")
for k in range(1, 8):
    p = p - np.linalg.solve(hess(*p), grad(*p))
    errors.append(np.linalg.norm(p - minimum))
    # Below about 1e-13 the error is float64 rounding, no longer Newton's: stop reading ratios.
    ratio = f"{errors[-1] / errors[-2] ** 2:.3g}" if errors[-1] > 1e-13 else "(float64 floor)"
    print(f"{k:3d}   {errors[-1]:.3e}     {np.linalg.norm(grad(*p)):.3e}   {ratio}")

# --- 2. Levenberg–Marquardt on a damped oscillation ------------------------------------------
MODEL = "A*exp(-sigma*t)*sin(omega*t)"
fit_problem = symgrad.for_scipy([f"{MODEL} - y"], wrt="A sigma omega", args="t y")
model = symgrad.function(MODEL, wrt="A sigma omega", args="t")  # model(theta, t)
entries = symgrad.jacobian([MODEL], wrt="A sigma omega", args="t").to_strings()[0]
print(f"\nJacobian of {MODEL} in (A, sigma, omega), with t as data:")
for name, entry in zip(("A", "sigma", "omega"), entries, strict=True):
    print(f"  d/d{name} = {entry}")

rng = np.random.default_rng(3)
TRUE, NOISE = np.array([2.0, 0.3, 2.5]), 0.05
t = np.linspace(0.0, 10.0, 200)
data = model(TRUE, t) + rng.normal(scale=NOISE, size=t.size)


def residual(theta):
    """Model minus data at every sample, shape (N,)."""
    return fit_problem.fun(theta, t, data)


def jacobian(theta):
    """∂residual/∂(A, σ, ω), shape (N, 3): the Jacobian row for each sample."""
    return fit_problem.jac(theta, t, data)


def levenberg_marquardt(theta, damping=1e-3, rtol=1e-14, max_iter=100):
    """Marquardt's scaled damping: solve (JᵀJ + λ·diag(JᵀJ)) δ = −Jᵀr; shrink λ on success.

    Stops when a step lowers the cost ½‖r‖² by less than ``rtol`` relative, or when no step
    lowers it at all (the minimum, to rounding).
    """
    r = residual(theta)
    cost = 0.5 * r @ r
    for iteration in range(1, max_iter + 1):
        J = jacobian(theta)
        JTJ, JTr = J.T @ J, J.T @ r
        while damping < 1e12:  # raise the damping until the step lowers the cost
            delta = np.linalg.solve(JTJ + damping * np.diag(np.diag(JTJ)), -JTr)
            r_new = residual(theta + delta)
            if 0.5 * r_new @ r_new < cost:
                break
            damping *= 10
        else:
            return theta, iteration
        new_cost = 0.5 * r_new @ r_new
        converged = cost - new_cost <= rtol * cost
        theta, r, cost, damping = theta + delta, r_new, new_cost, damping / 10
        if converged:
            return theta, iteration
    return theta, max_iter


start = np.array([1.0, 0.5, 2.2])
fit, iterations = levenberg_marquardt(start)
J = jacobian(fit)
dof = t.size - fit.size
s2 = residual(fit) @ residual(fit) / dof  # residual variance: the noise level squared
stderr = np.sqrt(np.diag(s2 * np.linalg.inv(J.T @ J)))
z = (fit - TRUE) / stderr
print(f"\nLevenberg-Marquardt from (A, sigma, omega) = {tuple(start.tolist())}: ", end="")
print(f"{iterations} iterations")
print("  parameter    true      fitted    std. error   (fit - true)/error")
for name, true, value, se, zi in zip(("A", "sigma", "omega"), TRUE, fit, stderr, z, strict=True):
    print(f"  {name:9s} {true:7.3f}   {value:9.5f}   {se:9.5f}   {zi:+6.2f}")
print(f"  residual RMS {np.sqrt(s2):.4f} (noise {NOISE})")

# --- Claims, checked against closed forms -----------------------------------------------------
# Newton: from e < 0.1 on, each error is at most the square of the previous one (C <= 1 here),
# until the float64 floor.
assert errors[-1] < 1e-13
quadratic = [(a, b) for a, b in itertools.pairwise(errors) if a < 0.1 and b > 1e-13]
assert len(quadratic) >= 2
assert all(b <= a**2 for a, b in quadratic)
# The Jacobian against the hand-derived one: d/dA = e^(-σt) sin ωt, d/dσ = -tA e^(-σt) sin ωt,
# d/dω = tA e^(-σt) cos ωt.
A, s, w = fit
decay = np.exp(-s * t)
by_hand = np.stack(
    [decay * np.sin(w * t), -t * A * decay * np.sin(w * t), t * A * decay * np.cos(w * t)]
)
np.testing.assert_allclose(J, by_hand.T, rtol=1e-13, atol=1e-15)
# LM: the true parameters lie within 3 standard errors, and the residual matches the noise.
assert np.all(np.abs(z) < 3), z
assert abs(np.sqrt(s2) / NOISE - 1) < 0.2
# First-order optimality: the residual is orthogonal to the Jacobian's columns.
r = residual(fit)
assert np.linalg.norm(J.T @ r) <= 1e-6 * np.linalg.norm(J) * np.linalg.norm(r)
print("\nall claims verified")
