"""Calibrate an image-gradient filter (Sobel) against an exact field: scale factor and order.

Image libraries return the *raw* Sobel response, and users ask which factor turns it into a
derivative.  Along the axis the kernel takes f(x+h) − f(x−h) = 2h·f' + O(h³); across it, the
weights (1, 2, 1) sum to 4.  So the raw response is 2h·4 = 8h times ∂f/∂x, plus O(h²) terms.
symgrad measures this instead of taking it on faith: sample an exact field on finer and finer
grids, compare the filter with the exact gradient, and read off the factor and the order.

Run: ``python examples/sobel_calibration.py``
"""

import numpy as np

import symgrad

FIELD = "sin(x + 0.3)*exp(y/2)"  # smooth, no symmetry, nonzero derivatives of every order
BOX = "x=-1:1, y=-1:1"
SIZES = (17, 33, 65, 129)  # h = 2/16, 2/32, 2/64, 2/128

# --- 1. The raw filter: a constant factor that scales with h -----------------------------------
raw = symgrad.verify_grid(FIELD, BOX, SIZES, symgrad.sobel_scheme(normalize=False))
factor = raw.diagnostics[0]
h = np.array([s[0] for s in raw.spacings])
per_h = np.array(factor["factors"]) / h
print(f"raw Sobel: {raw.status.value}; diagnosis {factor['kind']!r}, ", end="")
print(f"the factor scales as {factor['scales_as']}")
print("       h    output/exact   (output/exact)/h")
for hk, c, c_h in zip(h, factor["factors"], per_h, strict=True):
    print(f"{hk:8.5f}   {c:12.6f}   {c_h:14.6f}")
print(f"advice: {factor['advice']}")
# At h = 1/8 the factor 8h is 1: the raw filter happens to be right on the coarsest grid only.

# --- 2. Divide by 8h and measure the order ---------------------------------------------------
sobel_raw = symgrad.sobel_scheme(normalize=False)  # a callable: scheme(field, spacing)


def sobel_divided(field, spacing):
    """The raw Sobel response divided by 8h, axis by axis."""
    return [g / (8 * hk) for g, hk in zip(sobel_raw(field, spacing), spacing, strict=True)]


calibrated = symgrad.verify_grid(FIELD, BOX, SIZES, sobel_divided)
normalized = symgrad.verify_grid(FIELD, BOX, SIZES, symgrad.sobel_scheme())  # built-in: the same
for name, result in (("raw / 8h", calibrated), ("sobel_scheme()", normalized)):
    for c in result.components:
        interior, boundary = c.interior, c.boundary
        print(f"{name:>14}, d/d{c.variable}: interior order {interior.observed_order:.2f} ", end="")
        print(f"({interior.status.value}), boundary order {boundary.observed_order:.2f}")
# The boundary does not converge (order 0): the image is padded by repeating its edge, so at the
# border the kernel sees f(x) − f(x − h) over 2h, half the derivative, at every h.  The largest
# error is half of |∂f/∂x| = cos(x + 0.3)·exp(y/2) at the corner (−1, 1): cos(0.7)·e^0.5/2.
border = normalized.components[0].boundary.errors["Linf"]
half = np.cos(0.7) * np.exp(0.5) / 2
print(f"boundary L∞ error of d/dx on each level: {[round(e, 3) for e in border]}", end="")
print(f" → cos(0.7)·e^0.5/2 = {half:.3f}")

# Say so, and the filter passes: second order inside, no convergence expected at the border.
declared = symgrad.verify_grid(FIELD, BOX, SIZES, symgrad.sobel_scheme(), expect_order=(2, 0))
print(f"sobel_scheme() with expect_order=(2, 0): {declared.status.value}")

# The Scharr filter, smoothing (3, 10, 3), has the factor 2h·16 = 32h.
scharr = symgrad.verify_grid(FIELD, BOX, SIZES, symgrad.scharr_scheme(normalize=False))
print(f"raw Scharr: output/exact = {scharr.diagnostics[0]['per_h']:.4f}·h on the finest grid")

# --- Claims, checked against the closed forms 8h and 32h ------------------------------------
assert raw.status is symgrad.Status.FAIL
assert factor["kind"] == "constant_factor"
assert factor["scales_as"] == "h^1"
assert abs(factor["per_h"] - 8) < 1e-3
# (output/exact)/h → 8 at second order: the deviation falls by about 4 per halving of h.
deviation = np.abs(per_h - 8)
assert np.all(np.abs(np.log2(deviation[:-1] / deviation[1:]) - 2) < 0.2), deviation
for result in (calibrated, normalized):
    for c in result.components:
        assert c.interior.status is symgrad.Status.PASS
        assert abs(c.interior.observed_order - 2) < 0.2
        assert abs(c.boundary.observed_order) < 0.2  # no convergence at the padded border
assert abs(border[-1] - half) < 0.01
assert declared.status is symgrad.Status.PASS
assert abs(scharr.diagnostics[0]["per_h"] - 32) < 1e-2
print("\nall claims verified")
