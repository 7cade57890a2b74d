"""The 5-point Laplacian with a first-order one-sided (Neumann-type) closure at the faces.

A Poisson or heat solver often differences u_xx at a face with the three points it has,
``(u0 - 2u1 + u2)/h²``.  Inside, the 5-point Laplacian is second order; that closure is only
first order, so the whole operator converges at order 1 in the maximum norm.  symgrad finds
this twice, independently:

1. by sampling: ``verify_operator`` measures the interior and the boundary separately on
   refined grids and names the lower-order closure;
2. by symbolic analysis: ``analyze_stencil`` expands the weights in Taylor series with exact
   rationals and states each formula's order and leading error term.

Run: ``python examples/laplacian_neumann.py``
"""

import numpy as np

import symgrad

FIELD = "sin(x + 0.3)*exp(y/2) + x**3*y/5"  # generic: no derivative vanishes on the faces
BOX = "x=0:1, y=0:1"


def second_difference(u, h, axis, closure):
    """u_xx along ``axis``: centred inside, the given one-sided closure at both ends."""
    v = np.moveaxis(u, axis, 0)
    out = np.empty_like(v)
    out[1:-1] = v[2:] - 2 * v[1:-1] + v[:-2]
    if closure == "first order":  # (u0 - 2u1 + u2)/h²
        out[0], out[-1] = v[0] - 2 * v[1] + v[2], v[-1] - 2 * v[-2] + v[-3]
    else:  # (2u0 - 5u1 + 4u2 - u3)/h²
        out[0] = 2 * v[0] - 5 * v[1] + 4 * v[2] - v[3]
        out[-1] = 2 * v[-1] - 5 * v[-2] + 4 * v[-3] - v[-4]
    return np.moveaxis(out, 0, axis) / h**2


def five_point(closure):
    def scheme(u, h):
        return second_difference(u, h[0], 0, closure) + second_difference(u, h[1], 1, closure)

    scheme.__qualname__ = f"five_point({closure} closure)"
    return scheme


# --- 1. Sampling: the interior converges at 2, the boundary at 1 ------------------------------
result = symgrad.verify_operator(five_point("first order"), FIELD, BOX, "laplacian")
print(result.to_text())
laplacian = result.components[0]
closure = next(d for d in result.diagnostics if d["kind"] == "lower_order_closure")
print(f"interior order {laplacian.interior.observed_order:.2f}, ", end="")
print(f"boundary order {laplacian.boundary.observed_order:.2f} -> {closure['kind']}")

# --- 2. Symbolic analysis of the two formulas -------------------------------------------------
five = {(0, 0): -4, (1, 0): 1, (-1, 0): 1, (0, 1): 1, (0, -1): 1}
inside = symgrad.analyze_stencil(five, "laplacian")
face = symgrad.analyze_stencil({0: 1, 1: -2, 2: 1}, "x,x")
better = symgrad.analyze_stencil({0: 2, 1: -5, 2: 4, 3: -1}, "x,x")
for name, a in (("5-point", inside), ("closure u0-2u1+u2", face), ("closure 2,-5,4,-1", better)):
    print(f"{name:>20}: order {a.order}, leading error term {a.leading_term}")

# --- 3. The second-order closure passes; or declare order 1 at the boundary -------------------
fixed = symgrad.verify_operator(five_point("second order"), FIELD, BOX, "laplacian")
declared = symgrad.verify_operator(
    five_point("first order"), FIELD, BOX, "laplacian", expect_order=(2, 1)
)
print(f"second-order closure: {fixed.status.value}; first order declared: {declared.status.value}")

# --- the claims this example makes --------------------------------------------------------------
assert result.status == "fail"
assert laplacian.interior.status == "pass"
assert abs(laplacian.interior.observed_order - 2) < 0.05
assert abs(laplacian.boundary.observed_order - 1) < 0.05
assert "of order 1" in closure["message"]
assert (inside.order, inside.leading_term) == (2, "h**2*(u_xxxx + u_yyyy)/12")
assert (face.order, face.leading_term) == (1, "h*u_xxx")
assert better.order == 2
assert fixed.status == "pass"
assert declared.status == "pass"
print("all claims verified")
