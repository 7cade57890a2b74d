"""The electric field E = −∇V of a potential, exactly, and why numpy.gradient needs the spacing.

A classic question: "I sampled V = 2x² + 3y² − 4z on ``np.mgrid[-100:101:25., ...]`` and took
``Ex, Ey, Ez = np.gradient(V)``; why is my field 25 times too large?"  Because
``np.gradient(V)`` differentiates with respect to the array *index*: it returns dV/di = h·dV/dx.
symgrad gives the exact field, shows the factor, and diagnoses it on its own.

Run: ``python examples/electric_field.py``
"""

import numpy as np

import symgrad

# --- 1. A potential sampled on a 9 x 9 x 9 grid with spacing h = 25 ----------------------------
V_TEXT = "2*x**2 + 3*y**2 - 4*z"
h = 25.0
x, y, z = np.mgrid[-100:101:25.0, -100:101:25.0, -100:101:25.0]
V = 2 * x**2 + 3 * y**2 - 4 * z

# --- 2. The exact field from the symbolic gradient: ∇V = (4x, 6y, −4) --------------------------
grad_V = symgrad.gradient(V_TEXT)  # variables sorted by name: (x, y, z)
print("∇V =", grad_V.to_strings())
Ex, Ey, Ez = -grad_V(x, y, z)  # three full (9, 9, 9) float64 arrays
i, j, k = 7, 2, 4  # the grid point (75, -50, 0)
print(f"E at ({x[i, j, k]:g}, {y[i, j, k]:g}, {z[i, j, k]:g}) = ", end="")
print(f"({Ex[i, j, k]:g}, {Ey[i, j, k]:g}, {Ez[i, j, k]:g})")

# --- 3. numpy.gradient without and with the spacing ------------------------------------------
# Without spacing, each component is a difference per grid index: h times too large.
no_spacing = [-g for g in np.gradient(V)]
# With the spacing, central differences are *exact* in the interior for a quadratic: their error
# is (h²/6)·f''' and f''' = 0.  At the faces numpy uses a one-sided first-order difference whose
# error is (h/2)·f'': 25/2 · 4 = 50 for Ex and 25/2 · 6 = 75 for Ey.
with_spacing = [-g for g in np.gradient(V, h)]
with_edge2 = [-g for g in np.gradient(V, h, edge_order=2)]  # exact for quadratics everywhere

inner = (slice(1, -1),) * 3  # the interior, where numpy uses central differences
nonzero = Ex[inner] != 0
ratio = no_spacing[0][inner][nonzero] / Ex[inner][nonzero]
print(f"\nnp.gradient(V) / exact Ex in the interior: {np.unique(ratio)} (= h)")


def max_errors(estimate, region=(...,)):
    """Max |estimate − exact| per component over ``region``, as plain floats."""
    return [
        float(np.max(np.abs(a[region] - b[region])))
        for a, b in zip(estimate, (Ex, Ey, Ez), strict=True)
    ]


errors, interior_errors = max_errors(with_spacing), max_errors(with_spacing, inner)
edge2_errors = max_errors(with_edge2)
print(f"np.gradient(V, 25.)                max |error| of (Ex, Ey, Ez): {errors}")
print(f"                                   ... in the interior:         {interior_errors}")
print(f"np.gradient(V, 25., edge_order=2)  max |error|:                 {edge2_errors}")

# --- 4. Let symgrad diagnose the factor: verify_grid with a callable scheme ---------------------
# verify_grid samples V on finer and finer grids over the same box (9, 17, 33 points per axis:
# the first level is exactly the grid above), applies the scheme, and compares with the exact
# gradient.  The scheme is called as scheme(field, spacing); this one forgets the spacing.
BOX = "x=-100:100, y=-100:100, z=-100:100"
forgot = symgrad.verify_grid(V_TEXT, BOX, sizes=(9, 17, 33), scheme=lambda f, _h: np.gradient(f))
diagnosis = forgot.diagnostics[0]
print(f"\nverify_grid(np.gradient(f)): {forgot.status.value}")
print(f"  diagnosis: {diagnosis['kind']}: {diagnosis['message']}")
print(f"  factor on each level: {diagnosis['factors']} = {diagnosis['per_h']:g}·h")
print(f"  advice: {diagnosis['advice']}")

fixed = symgrad.verify_grid(
    V_TEXT, BOX, sizes=(9, 17, 33), scheme=lambda f, h: np.gradient(f, *h, edge_order=2)
)
print(f"verify_grid(np.gradient(f, *h, edge_order=2)): {fixed.status.value}: {fixed.reason}")

# --- 5. A point charge, V = 1/r (units with q/(4πε₀) = 1), away from the origin --------------
COULOMB = "1/sqrt(x**2 + y**2 + z**2)"
E_charge = -symgrad.gradient(COULOMB)(x, y, z)  # NaN at the origin (undefined), no warning
r = np.sqrt(x**2 + y**2 + z**2)
away = r > 0
E_law = np.stack([x, y, z])[:, away] / r[away] ** 3  # Coulomb's law: E = r_vec / r³
rel = np.max(np.abs(E_charge[:, away] - E_law) / np.abs(E_law).max(axis=0))
print(f"\npoint charge: -∇(1/r) against Coulomb's r_vec/r³ at {away.sum()} grid points: ", end="")
print(f"max relative difference {rel:.1e}; at the origin {E_charge[:, 4, 4, 4]}")

# numpy.gradient converges at order 2 inside a box that excludes the charge (order 1 at the faces,
# numpy's default edge_order=1).  The pairwise orders approach 2 from below: the largest error
# sits at the interior point nearest the charge, which creeps towards the corner, where the third
# derivative is larger, as h shrinks.
box = symgrad.verify_grid(COULOMB, "x=2:3, y=2:3, z=2:3", sizes=(17, 33, 65))
dx = box.components[0]
pairwise = [round(p, 2) for p in dx.interior.orders]
print(
    f"np.gradient on 1/r over [2, 3]^3: {box.status.value}; d/dx interior pairwise orders", end=""
)
print(f" {pairwise}, fitted {dx.interior.observed_order:.2f}; boundary", end="")
print(f" {dx.boundary.observed_order:.2f}")

# --- Claims, checked against closed forms -----------------------------------------------------
assert np.array_equal(Ex, -4 * x)
assert np.array_equal(Ey, -6 * y)
assert np.all(Ez == 4.0)
assert np.allclose(ratio, h, rtol=0, atol=1e-12)  # np.gradient(V) is h·∂V/∂x
assert interior_errors == [0.0, 0.0, 0.0]  # central differences: exact on quadratics
assert errors == [h / 2 * 4, h / 2 * 6, 0.0]  # one-sided at the faces: (h/2)·f''
assert max(edge2_errors) < 1e-10
assert forgot.status is symgrad.Status.FAIL
assert diagnosis["kind"] == "constant_factor"
assert np.allclose(diagnosis["factors"], [25.0, 12.5, 6.25])  # the factor is h on every level
assert np.isclose(diagnosis["per_h"], 1)
assert fixed.status is symgrad.Status.EXACT
assert rel < 1e-14
assert np.isnan(E_charge[:, 4, 4, 4]).all()
assert box.status is symgrad.Status.PASS
assert all(abs(c.interior.observed_order - 2) < 0.2 for c in box.components)
print("\nall claims verified")
