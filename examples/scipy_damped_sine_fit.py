"""Levenberg-Marquardt with scipy.optimize.least_squares and symgrad's exact Jacobian.

The model A·exp(−σt)·sin(ωt) is fitted to noisy samples.  ``wrt="A sigma omega"`` are the
unknowns (the optimizer's vector), ``args="t y"`` the data (passed through least_squares'
``args=``); ``for_scipy`` returns the residuals as an (N,) vector and their Jacobian as
(N, 3), the shapes least_squares expects, with no lambda in between.

The same fit with a hand-written Jacobian takes exactly the same steps; with least_squares'
default finite differences ("2-point") each Jacobian costs 3 more residual evaluations and
carries errors of about sqrt(eps) ≈ 1e-8.  The counts (nfev, njev) are printed; the seconds
vary by machine.

Run: ``python examples/scipy_damped_sine_fit.py``
"""

import time

import numpy as np
from scipy.optimize import least_squares

import symgrad

fit = symgrad.for_scipy(["A*exp(-sigma*t)*sin(omega*t) - y"], wrt="A sigma omega", args="t y")
print(fit)

rng = np.random.default_rng(2026)
TRUE, NOISE = np.array([2.0, 0.3, 2.5]), 0.05
t = np.linspace(0.0, 10.0, 200)
y = TRUE[0] * np.exp(-TRUE[1] * t) * np.sin(TRUE[2] * t) + rng.normal(scale=NOISE, size=t.size)
x0 = np.array([1.0, 0.1, 2.3])


def hand_jacobian(theta, t, y):  # noqa: ARG001 - least_squares passes the data y too
    """∂r/∂(A, σ, ω) written out by hand, (N, 3)."""
    a, s, w = theta
    decay, wave = np.exp(-s * t), np.sin(w * t)
    return np.column_stack([decay * wave, -a * t * decay * wave, a * t * decay * np.cos(w * t)])


def run(label, jac):
    """least_squares with method="lm" from x0, printing the counts and the fitted parameters.

    The residual calls are counted here: scipy's nfev leaves out those of its finite
    differences.
    """
    calls = []

    def residuals(theta, *data):
        calls.append(1)
        return fit.fun(theta, *data)

    start = time.perf_counter()
    result = least_squares(residuals, x0, jac=jac, args=(t, y), method="lm", xtol=1e-12)
    seconds = time.perf_counter() - start
    result.calls = len(calls)
    shown = ", ".join(f"{v:.6f}" for v in result.x)
    counts = f"residual calls={len(calls):<3} njev={result.njev}"
    print(f"{label:<28} {counts:<24} (A, sigma, omega) = ({shown})  ({seconds:.3f} s)")
    return result


print(f"residuals {fit.fun(x0, t, y).shape}, Jacobian {fit.jac(x0, t, y).shape}")
exact = run("symgrad's exact Jacobian", fit.jac)
hand = run("hand-written Jacobian", hand_jacobian)
fd = run("finite differences (default)", "2-point")

# --- the claims --------------------------------------------------------------------------------
assert np.allclose(fit.jac(x0, t, y), hand_jacobian(x0, t, y), rtol=1e-14, atol=1e-300)
assert (exact.nfev, exact.njev) == (hand.nfev, hand.njev)
assert np.allclose(exact.x, hand.x, rtol=1e-12)
# the fit recovers the truth to within a few standard errors: sigma² (JᵀJ)⁻¹ at the optimum
J = fit.jac(exact.x, t, y)
sigma2 = np.sum(exact.fun**2) / (t.size - 3)
stderr = np.sqrt(np.diag(sigma2 * np.linalg.inv(J.T @ J)))
assert np.all(np.abs(exact.x - TRUE) < 4 * stderr)
print(f"standard errors {np.array2string(stderr, precision=4)}: the fit is within 4 of them")
print(f"finite differences: {fd.calls} residual calls; with the exact Jacobian {exact.calls}")
assert fd.calls > exact.calls  # each 2-point Jacobian costs 3 more residual calls
assert np.allclose(fd.x, exact.x, rtol=1e-6)
print("all claims verified")
