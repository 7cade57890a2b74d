"""Gradient descent with exact compiled gradients: a quadratic bowl, then linear regression.

1. On f(x, y) = (x² + η·y²)/2 the iteration x_{k+1} = x_k − τ·∇f(x_k) multiplies each
   coordinate by (1 − τ·λ), λ an eigenvalue of the Hessian (1 and η).  It converges exactly
   when 0 < τ < 2/λ_max — here 2/η — and the slowest factor |1 − τ·λ| sets the rate.
2. Least squares is gradient descent on L(a, b) = mean((a + b·t − y)²).  The data enter the
   expression as variables: symgrad differentiates the per-sample loss in (a, b, t, y), we
   evaluate it on the data arrays and average over samples.  The result must match
   ``np.linalg.lstsq``.

Run: ``python examples/gradient_descent.py``
"""

import numpy as np

import symgrad

# --- 1. A quadratic bowl: the step-size bound τ < 2/λ_max ------------------------------------
ETA = 10.0
BOWL = f"(x**2 + {ETA:g}*y**2)/2"
grad_f = symgrad.gradient(BOWL)  # (x, 10*y), compiled to NumPy
hess_f = symgrad.hessian(BOWL)
lam = np.linalg.eigvalsh(hess_f(0.0, 0.0))  # the Hessian is constant: eigenvalues 1 and η
print(f"f = {BOWL}: ∇f = {grad_f.to_strings()}, Hessian eigenvalues {lam}")
print(f"stable steps: 0 < τ < 2/λ_max = {2 / lam.max():g}")

x0 = np.array([1.0, 1.0])


def descend(step, iterations):
    """Fixed-step gradient descent from x0; returns every iterate, shape (iterations + 1, 2)."""
    path = [x0]
    for _ in range(iterations):
        path.append(path[-1] - step * grad_f(*path[-1]))
    return np.array(path)


runs = {}
for tau in (0.18, 0.21):
    path = descend(tau, 60)
    # Closed form: coordinate i after k steps is (1 − τ λ_i)^k x0_i.
    k = np.arange(len(path))[:, None]
    runs[tau] = (path, (1 - tau * np.array([1.0, ETA])) ** k * x0)
    grad_norm = np.linalg.norm(grad_f(*path.T), axis=0)
    shown = ", ".join(f"{grad_norm[n]:.2e}" for n in (10, 30, 60))
    print(f"τ = {tau}: factors |1 - τλ| = {np.abs(1 - tau * lam)}; ", end="")
    print(f"‖∇f‖ after 10, 30, 60 steps: {shown}")

# --- 2. Linear regression by gradient descent ------------------------------------------------
rng = np.random.default_rng(20240611)
t = np.linspace(0.0, 2.0, 50)
y = 1.5 + 0.8 * t + rng.normal(scale=0.1, size=t.size)  # true intercept 1.5, slope 0.8

LOSS = "(a + b*t - y)**2"  # one sample's squared residual
VARS = "a b t y"  # parameters first; t and y will be the data arrays
loss_grad = symgrad.gradient(LOSS, variables=VARS)  # shape (4, N) on the data: keep rows a, b
loss_hess = symgrad.hessian(LOSS, variables=VARS)
print(f"\n∂/∂a, ∂/∂b of {LOSS}: {loss_grad.to_strings()[:2]}")


def grad_L(theta):
    """∇L(a, b) = mean over samples of the per-sample gradient."""
    return loss_grad(*theta, t, y)[:2].mean(axis=-1)


# L is quadratic, so its Hessian is constant: use it to pick a safe step τ = 1/λ_max.
H = loss_hess(0.0, 0.0, t, y)[:2, :2].mean(axis=-1)
lam_min, lam_max = np.linalg.eigvalsh(H)
tau = 1 / lam_max
theta_ls, *_ = np.linalg.lstsq(np.stack([np.ones_like(t), t], axis=1), y)

theta, history = np.zeros(2), []
while np.linalg.norm(grad_L(theta)) > 1e-13 and len(history) < 5000:
    theta = theta - tau * grad_L(theta)
    history.append(np.linalg.norm(theta - theta_ls))
middle = len(history) // 2
rate = history[middle] / history[middle - 1]  # error reduction per step, mid-run
print(f"Hessian eigenvalues {lam_min:.4f}, {lam_max:.4f}; step τ = 1/λ_max = {tau:.4f}")
print(f"converged in {len(history)} steps: (a, b) = ({theta[0]:.10f}, {theta[1]:.10f})")
print(f"np.linalg.lstsq:          (a, b) = ({theta_ls[0]:.10f}, {theta_ls[1]:.10f})")
predicted_rate = 1 - lam_min / lam_max  # the slowest factor max |1 - τλ| with τ = 1/λ_max
print(f"error reduction per step {rate:.6f}; predicted 1 - λ_min/λ_max = {predicted_rate:.6f}")

# --- Claims, checked against closed forms -----------------------------------------------------
for path, closed_form in runs.values():
    np.testing.assert_allclose(path, closed_form, rtol=1e-12, atol=1e-300)
assert np.abs(runs[0.18][0][-1]).max() < 1e-5  # τ < 2/η: converges
assert np.abs(runs[0.21][0][-1, 1]) > 1.0  # τ > 2/η: the y coordinate grows like 1.1^k
np.testing.assert_allclose(np.sort(lam), [1.0, ETA], rtol=0, atol=1e-15)
np.testing.assert_allclose(theta, theta_ls, rtol=0, atol=1e-10)
np.testing.assert_allclose(H, 2 * np.array([[1, t.mean()], [t.mean(), (t**2).mean()]]), rtol=1e-15)
assert abs(rate - predicted_rate) < 1e-3
print("\nall claims verified")
