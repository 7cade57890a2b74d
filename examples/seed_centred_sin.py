"""The centred difference of sin(x + y), verified as an operator and analysed as a stencil.

symgrad began with the centred difference ``(f(x + h) - f(x - h)) / 2h`` of ``sin(x + y)``.
Here that difference is a grid scheme for the operator ∂/∂x, with one-sided differences at the
faces (as ``np.gradient`` with ``edge_order=2`` does), and symgrad checks it three ways: the
observed orders inside and at the boundary (``verify_operator``), the formal order and leading
error term of each formula (``analyze_stencil``), and a planted mistake, the spacing never
divided out, which must fail and be named.

For sin(x + y) the two partials are equal, so a scheme differencing along the wrong axis would
give the right numbers: the field cannot reveal swapped axes, and symgrad does not pretend to.

Run: ``python examples/seed_centred_sin.py``
"""

import numpy as np

import symgrad

FIELD = "sin(x + y)"
BOX = "x=0:1, y=0:1"


def centred_x(u, h):
    """(u[i+1] - u[i-1]) / 2h inside; second-order one-sided differences at the x faces."""
    return np.gradient(u, h[0], axis=0, edge_order=2)


result = symgrad.verify_operator(centred_x, FIELD, BOX, "x")
component = result.components[0]
print(result.to_text())
print(f"d/dx of sin(x + y): interior order {component.interior.observed_order:.2f}, ", end="")
print(f"boundary order {component.boundary.observed_order:.2f} ({result.status.value})")

centred = symgrad.analyze_stencil({-1: "-1/2", 1: "1/2"}, "x")
one_sided = symgrad.analyze_stencil({0: "-3/2", 1: 2, 2: "-1/2"}, "x")
print(f"centred: order {centred.order}, leading error term {centred.leading_term}")
print(f"one-sided: order {one_sided.order}, leading error term {one_sided.leading_term}")


def forgot_h(u, h):
    return centred_x(u, h) * h[0]  # the difference not divided by the spacing


planted = symgrad.verify_operator(forgot_h, FIELD, BOX, "x")
factor = planted.diagnostics[0]
print(f"planted: {planted.status.value}, {factor['kind']} scaling as {factor['scales_as']}")

# --- the claims this example makes --------------------------------------------------------------
assert result.status == "pass"
assert abs(component.interior.observed_order - 2) < 0.1
assert abs(component.boundary.observed_order - 2) < 0.1
assert (centred.order, centred.leading_term) == (2, "h**2*u_xxx/6")
assert (one_sided.order, one_sided.leading_term) == (2, "-h**2*u_xxx/3")
assert planted.status == "fail"
assert factor["scales_as"] == "h^1"
assert not [d for d in result.diagnostics if d["kind"] == "swapped_axes"]  # invisible here
print("all claims verified")
