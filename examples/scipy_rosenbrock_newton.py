"""Newton-CG and trust-exact on Rosenbrock's function in 50 variables, with exact derivatives.

``symgrad.for_scipy`` turns the text of the objective into ``fun``, ``jac``, ``hess`` and
``hessp`` in the shapes ``scipy.optimize.minimize`` calls them; ``x[0]`` ... ``x[49]`` are the
optimizer's vector in natural order.  Newton-type methods need the Hessian, which finite
differences would build from n + 1 gradient evaluations; the exact one is tridiagonal, so
``sparse=True`` compiles and evaluates only its 3n - 2 nonzero entries.

For comparison, ``minimize`` without derivatives (its default, BFGS with finite-difference
gradients) needs n + 1 evaluations of f per gradient: many more function evaluations for a
less accurate result.  The numbers are counts (nfev, njev, nhev); the seconds vary by machine.

Run: ``python examples/scipy_rosenbrock_newton.py``
"""

import time

import numpy as np
from scipy.optimize import minimize, rosen, rosen_der, rosen_hess

import symgrad

N = 50
TEXT = " + ".join(f"100*(x[{i + 1}] - x[{i}]**2)**2 + (1 - x[{i}])**2" for i in range(N - 1))
x0 = np.linspace(-0.5, 1.5, N)  # a start away from the minimum at (1, ..., 1)

dense = symgrad.for_scipy(TEXT)
banded = symgrad.for_scipy(TEXT, sparse=True)
print(dense)
print(f"Hessian entries compiled with sparse=True: {banded.hess(x0).nnz} of {N * N}")


def run(label, **options):
    """Minimize from x0, print the counts and the distance to the minimum, return the result."""
    start = time.perf_counter()
    result = minimize(options.pop("fun", dense.fun), x0, **options)
    seconds = time.perf_counter() - start
    counts = "  ".join(
        f"{k}={getattr(result, k)}" for k in ("nit", "nfev", "njev", "nhev") if k in result
    )
    error = np.max(np.abs(result.x - 1.0))
    print(f"{label:<34} {counts:<40} max|x - 1| = {error:.1e}   ({seconds:.2f} s)")
    return result


print()
newton = run(
    "Newton-CG, exact sparse Hessian",
    jac=banded.jac,
    hess=banded.hess,
    method="Newton-CG",
    options={"xtol": 1e-10},
)
trust = run(
    "trust-exact, exact dense Hessian",
    jac=dense.jac,
    hess=dense.hess,
    method="trust-exact",
    options={"gtol": 1e-10},
)
bfgs = run("BFGS, exact gradient", jac=dense.jac, method="BFGS")
fd_default = run("BFGS, finite differences (default)")

# --- the claims --------------------------------------------------------------------------------
x = np.random.default_rng(1).uniform(-2, 2, N)
assert abs(dense.fun(x) - rosen(x)) <= 1e-12 * rosen(x)
assert np.allclose(dense.jac(x), rosen_der(x), rtol=1e-13, atol=1e-10)
assert np.allclose(banded.hess(x).toarray(), rosen_hess(x), rtol=1e-13, atol=1e-10)
assert np.allclose(newton.x, 1.0, atol=1e-8)
assert np.allclose(trust.x, 1.0, atol=1e-8)
assert np.allclose(bfgs.x, 1.0, atol=1e-4)
assert fd_default.nfev > 10 * bfgs.nfev  # each gradient costs N + 1 evaluations of f
print(
    f"\nexact derivatives: Newton-CG used {newton.nfev} evaluations of f; "
    f"finite differences used {fd_default.nfev}"
)
print("all claims verified")
