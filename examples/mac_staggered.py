"""A MAC (staggered) grid: the divergence of face velocities and the gradient of centre pressures.

On a marker-and-cell grid the pressure lives at the cell centres and each velocity component
on the faces normal to its axis (u on the x-faces, v on the y-faces).  The divergence of the
face velocities at the centres, ``(u_(i+1/2) - u_(i-1/2))/h + ...``, and the pressure gradient
on the faces, ``(p_(i+1/2) - p_(i-1/2))/h``, are both second order: the difference across a
cell or a face is centred where the result lives (``(f(x + h/2) - f(x - h/2))/h = f'(x) +
h²/24 f''' + ...``).  On a wall face the nearest centres lie at h/2, 3h/2 and 5h/2, and the
second-order one-sided weights, solved by hand from the Taylor conditions, are (-2, 3, -1)/h:
``analyze_stencil`` states the same with the offsets 1/2, 3/2, 5/2, and the leading error term
``(-2·1/8 + 3·27/8 - 125/8)/6 · h²·u_xxx = -23/24 · h²·u_xxx``.

``verify_operator`` is told where the values live (``field_at=``, ``output=``), samples the
field and the exact result there, and judges the interior and the walls.  The planted mistake,
centre-valued derivatives written onto the faces, is off by half a cell: first order, and named.

Run: ``python examples/mac_staggered.py``
"""

import numpy as np

import symgrad

VELOCITY = ["sin(x + 0.2)*y", "cos(x*y) + y**3"]
PRESSURE = "sin(x + 0.3)*exp(y/2) + x**3*y/5"
BOX = "x=0:1, y=0:1"


def mac_divergence(f, h):
    """u on the x-faces (N, N - 1), v on the y-faces (N - 1, N): the divergence at the centres."""
    u, v = f
    return (u[1:, :] - u[:-1, :]) / h[0] + (v[:, 1:] - v[:, :-1]) / h[1]


def face_gradient(p, h, shifted=False):
    """Centre pressures to the faces: one difference across each face, (-2, 3, -1)/h at walls."""
    out = []
    for k in range(p.ndim):
        q = np.moveaxis(p, k, 0)
        g = np.empty((q.shape[0] + 1, *q.shape[1:]))
        if shifted:  # the planted mistake: derivatives at the centres, written onto the faces
            g[:-1] = np.gradient(q, h[k], axis=0, edge_order=2)
            g[-1] = 2 * g[-2] - g[-3]
        else:
            g[1:-1] = (q[1:] - q[:-1]) / h[k]
            g[0] = (-2 * q[0] + 3 * q[1] - q[2]) / h[k]
            g[-1] = (2 * q[-1] - 3 * q[-2] + q[-3]) / h[k]
        out.append(np.moveaxis(g, 0, k))
    return out


divergence = symgrad.verify_operator(
    mac_divergence, VELOCITY, BOX, "divergence", field_at="faces", output="cells"
)
gradient = symgrad.verify_operator(
    face_gradient, PRESSURE, BOX, "gradient", field_at="cells", output="faces"
)
wall = symgrad.analyze_stencil({"1/2": -2, "3/2": 3, "5/2": -1}, "x")
shifted = symgrad.verify_operator(
    lambda p, h: face_gradient(p, h, shifted=True),
    PRESSURE,
    BOX,
    "gradient",
    field_at="cells",
    output="faces",
)

div_orders = [r.observed_order for r in divergence.components[0].regions]
print(divergence.to_text())
print(
    f"MAC divergence: {divergence.status.value}, orders "
    + ", ".join(f"{p:.2f}" for p in div_orders)
)
for c in gradient.components:
    print(
        f"face gradient {c.variable}: {c.status.value}, interior order "
        f"{c.interior.observed_order:.2f}, wall order {c.boundary.observed_order:.2f}"
    )
print(
    f"wall closure (-2, 3, -1)/h at offsets 1/2, 3/2, 5/2: order {wall.order}, {wall.leading_term}"
)
kinds = [d["kind"] for d in shifted.diagnostics]
print(
    f"centre values written onto faces: {shifted.status.value}, {kinds[0]}: {shifted.diagnostics[0]['message']}"
)

# --- the claims this example makes --------------------------------------------------------------
assert divergence.status == "pass"
assert all(abs(p - 2) < 0.1 for p in div_orders)
assert gradient.status == "pass"
assert all(abs(c.interior.observed_order - 2) < 0.1 for c in gradient.components)
assert wall.order == 2  # the Taylor conditions solved by hand in the docstring
assert wall.leading_term == "-23*h**2*u_xxx/24"
assert shifted.status == "fail"
assert kinds == ["half_cell_shift", "half_cell_shift"]
assert all(abs(c.interior.observed_order - 1) < 0.1 for c in shifted.components)
print("all claims verified")
