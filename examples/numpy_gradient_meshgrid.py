"""numpy.gradient on a meshgrid: which array is ∂/∂x, and why the values are not exactly cos.

Two classic questions about ``np.gradient(Z, dx, dy)`` with ``X, Y = np.meshgrid(x, y)``:

1. *Which output is ∂Z/∂x?*  numpy.gradient returns derivatives **in axis order**.  With
   meshgrid's default ``indexing='xy'``, ``Z[i, j] = f(x[j], y[i])``: axis 0 is **y**.  So
   ``dZ_dy, dZ_dx = np.gradient(Z, dy, dx)``.  With ``indexing='ij'`` axis 0 is x and
   ``dZ_dx, dZ_dy = np.gradient(Z, dx, dy)``.  For sin(x + y) both partials are equal and a
   swap goes unnoticed; sin(x) exposes it.
2. *Why is gx = 0.0707077 where cos(−1.5) = 0.0707372?*  The central difference has the error
   C·h²·f'''(x) with C = 1/6 (symgrad derives C exactly); for sin, f''' = −cos, so the values are
   low by h²/6·cos(x).  symgrad predicts the error before you measure it.

Run: ``python examples/numpy_gradient_meshgrid.py``
"""

from fractions import Fraction

import numpy as np

import symgrad

h = 0.05
x = y = np.arange(-3, 3, h)  # 120 points each way

# --- 1. Which array is which ----------------------------------------------------------------
exact = symgrad.gradient("sin(x)", variables="x y")  # (∂/∂x, ∂/∂y) = (cos x, 0), full arrays
labels = {}
for indexing in ("xy", "ij"):
    X, Y = np.meshgrid(x, y, indexing=indexing)
    d_dx, d_dy = exact(X, Y)
    outputs = np.gradient(np.sin(X), h, h)  # derivatives along axis 0 and axis 1
    print(f"indexing={indexing!r}:")
    for axis, out in enumerate(outputs):
        err_x, err_y = (np.max(np.abs(out - d)) for d in (d_dx, d_dy))
        labels[indexing, axis] = "∂f/∂x" if err_x < err_y else "∂f/∂y"
        print(f"  output[{axis}]: max |output - ∂f/∂x| = {err_x:.1e}, ", end="")
        print(f"max |output - ∂f/∂y| = {err_y:.1e}  → {labels[indexing, axis]}")

# With sin(x + y) both partials are cos(x + y): each output matches both, and a swap is invisible.
X, Y = np.meshgrid(x, y)  # indexing='xy' from here on
both = symgrad.gradient("sin(x + y)")(X, Y)
hidden = [
    [float(np.max(np.abs(out - d))) for d in both] for out in np.gradient(np.sin(X + Y), h, h)
]
print(f"sin(x + y): max |output[i] - ∂f/∂x|, |output[i] - ∂f/∂y| = {np.round(hidden, 6).tolist()}")

# The Stack Overflow check, reproduced: Z[20][30] is f at (x, y) = (-1.5, -2.0).
gy, gx = np.gradient(np.sin(X), h, h)
print(f"\nZ[20][30] is f at (x, y) = ({X[20, 30]:.2f}, {Y[20, 30]:.2f})")
print(f"gx[20][30] = {gx[20, 30]:.17f}   cos(x) = {np.cos(X[20, 30]):.17f}", end="")
print(f"   gy[20][30] = {gy[20, 30]}")

# --- 2. Predicted against observed error -----------------------------------------------------
stencil = symgrad.Stencil.central(1, 2)  # numpy.gradient's interior formula (f(x+h) − f(x−h))/2h
print(f"\n{stencil.formula()}")
third = symgrad.derivative("sin(x)", "x", 3)  # f''' = −cos(x), compiled
inner = np.s_[:, 1:-1]  # numpy.gradient is one-sided at the first and last column
observed = (gx - np.cos(X))[inner]
predicted = stencil.predicted_error(third(X[inner]), h)  # C h² f'''(x)
print("     x   observed error   predicted C·h²·f'''(x)")
for j in (5, 30, 55, 90):
    print(f"{X[0, j]:6.2f}   {observed[0, j - 1]:14.6e}   {predicted[0, j - 1]:14.6e}")
# For sin the difference quotient is exactly cos(x)·sin(h)/h, so what prediction leaves out is
# the next Taylor term, cos(x)·h⁴/120 (plus float64 rounding, about ε/h).
residual = np.max(np.abs(observed - predicted))
print(f"max |observed - predicted| = {residual:.1e} (next term h⁴/120 = {h**4 / 120:.1e})")

# --- 3. Let verify_grid find the swap ----------------------------------------------------------
# A gradient written for meshgrid's default 'xy' layout, with the classic unpacking bug:


def my_gradient_xy(Z, dx, dy):
    """∂Z/∂x, ∂Z/∂y for Z[i, j] = f(x[j], y[i]) — with the bug: axis 0 of Z is y, not x."""
    dz_dx, dz_dy = np.gradient(Z, dx, dy, edge_order=2)
    return dz_dx, dz_dy


def fixed_gradient_xy(Z, dx, dy):
    """The same, unpacked in axis order."""
    dz_dy, dz_dx = np.gradient(Z, dy, dx, edge_order=2)
    return dz_dx, dz_dy


# verify_grid hands schemes an 'ij' field (axis k is variable k), so the adapter transposes the
# field into 'xy' layout and the results back.
def as_scheme(gradient_xy):
    """Adapt an 'xy'-layout gradient to verify_grid's scheme(field, spacing) convention."""
    return lambda field, spacing: [g.T for g in gradient_xy(field.T, *spacing)]


FIELD, BOX = "sin(x)*exp(y/2)", "x=-3:3, y=-3:3"
buggy = symgrad.verify_grid(FIELD, BOX, sizes=(17, 33, 65), scheme=as_scheme(my_gradient_xy))
swap = buggy.diagnostics[0]
print(f"\nverify_grid(my_gradient_xy): {buggy.status.value}\n  {swap['kind']}: {swap['message']}")
print(f"  advice: {swap['advice']}")
fixed = symgrad.verify_grid(FIELD, BOX, sizes=(17, 33, 65), scheme=as_scheme(fixed_gradient_xy))
print(f"verify_grid(fixed_gradient_xy): {fixed.status.value}: {fixed.reason}")

# --- Claims, checked against closed forms -----------------------------------------------------
assert labels == {("xy", 0): "∂f/∂y", ("xy", 1): "∂f/∂x", ("ij", 0): "∂f/∂x", ("ij", 1): "∂f/∂y"}
assert hidden[0][0] == hidden[0][1]  # for sin(x + y) the two partials are the same array
assert np.all(gy == 0.0)  # sin(x) does not depend on y
assert stencil.error_coefficient == Fraction(1, 6)  # exact rational, the documented convention
assert np.isclose(gx[20, 30] - np.cos(X[20, 30]), -(h**2) / 6 * np.cos(X[20, 30]), rtol=1e-3)
assert residual <= h**4 / 120 + 1e-13  # prediction right up to the next Taylor term
assert buggy.status is symgrad.Status.FAIL
assert swap["kind"] == "swapped_components"
assert fixed.status is symgrad.Status.PASS
print("\nall claims verified")
