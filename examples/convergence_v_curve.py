"""The V curve: truncation against round-off for finite differences of sin at x = 1.

A difference quotient has two errors.  Truncation, C·h^p·f^(m+p)(x), shrinks with h; round-off,
about ε·|f|/h in float64 (ε = 2^-52), grows as h shrinks.  On log-log axes the total is a V,
and its bottom is at the textbook optimal steps:

    forward  (f(x+h) − f(x))/h:        h* = 2·sqrt(ε·|f/f''|)   ≈ 3.0e-8 for sin at 1
    central  (f(x+h) − f(x−h))/(2h):   h* = (3ε·|f/f'''|)^(1/3) ≈ 1.0e-5 for sin at 1

``symgrad.convergence`` runs the sweep in float64 (what your code sees) and at 30 digits with
guard digits (where round-off is gone and the truncation slopes continue to h = 1e-15).  The
complex step Im f(x + ih)/h subtracts nothing, so it has no round-off branch at all.

Run: ``python examples/convergence_v_curve.py``
Set SYMGRAD_EXAMPLE_PLOTS to a directory to also save the figure (needs matplotlib).
"""

import os
from pathlib import Path

import numpy as np

import symgrad

SCHEMES = "forward:1, central:2, complex"
STEPS = "1e-1:1e-15:15"  # one step per decade

float64 = symgrad.convergence(
    "sin(x)", "x=1", schemes=SCHEMES, step_sizes=STEPS, precision="float64"
)
exact = symgrad.convergence("sin(x)", "x=1", schemes=SCHEMES, step_sizes=STEPS, dps=30)
fwd, ctr, cplx = float64.schemes
fwd_mp, ctr_mp, _ = exact.schemes

print("|error| of d/dx sin(x) at x = 1")
print("      h   forward f64   central f64   complex f64   forward 30d   central 30d")
columns = (fwd.errors, ctr.errors, cplx.errors, fwd_mp.errors, ctr_mp.errors)
for h, *errors in zip(fwd.step_sizes, *columns, strict=True):
    print(f"{h:7.0e}" + "".join(f"   {float(e):11.2e}" for e in errors))

# --- The bottom of the V against the textbook formulas ----------------------------------------
eps = 2.0**-52
f, f2, f3 = np.sin(1.0), -np.sin(1.0), -np.cos(1.0)  # f, f'', f''' at 1
h_fwd, h_ctr = 2 * np.sqrt(eps * abs(f / f2)), (3 * eps * abs(f / f3)) ** (1 / 3)
E_fwd = 2 * np.sqrt(eps * abs(f * f2))  # the error bound at h*: (h/2)|f''| + 2ε|f|/h
E_ctr = (9 / 8) ** (1 / 3) * eps ** (2 / 3) * abs(f) ** (2 / 3) * abs(f3) ** (1 / 3)
print("\nscheme      observed best h   textbook h*   smallest error   bound at h*")
for s, h_star, bound in ((fwd, h_fwd, E_fwd), (ctr, h_ctr, E_ctr)):
    print(f"{s.scheme:9s}   {s.optimal_step:15.1e}   {h_star:11.2e}   ", end="")
    print(f"{float(s.minimum_error):14.2e}   {bound:11.2e}")
print(f"complex     smallest error {float(cplx.minimum_error):.1e}: no round-off branch")

print("\nobserved orders (least squares over the asymptotic range):")
for label, result in (("float64", float64), ("30 digits", exact)):
    for s in result.schemes:
        start, stop = s.asymptotic_range
        print(f"  {s.scheme:9s} {label:9s}  p = {s.observed_order:.3f}", end="")
        print(f" over h = {start:.0e} … {stop:.0e}  ({s.status.value})")

# --- Optional figure ---------------------------------------------------------------------------
plot_dir = os.environ.get("SYMGRAD_EXAMPLE_PLOTS")
if plot_dir:
    try:
        from symgrad.output import _plots as plots

        figure = plots.plot_step_error(
            "sin(x)", "x=1", schemes=["forward:1", "central:2", "complex"]
        )
        plots.save_figure(figure, Path(plot_dir) / "v_curve.png")
        print(f"\nfigure saved to {Path(plot_dir) / 'v_curve.png'}")
    except symgrad.MissingExtra as missing:  # matplotlib is the optional "plot" extra
        print(f"\nno figure: {missing}")

# --- Claims, checked against closed forms -----------------------------------------------------
# symgrad's textbook steps are the formulas above.
np.testing.assert_allclose([fwd.textbook_optimal_step, ctr.textbook_optimal_step], [h_fwd, h_ctr])
# The bottom of the V lies within a decade of the textbook h*, below the error bound there.
for s, h_star, bound in ((fwd, h_fwd, E_fwd), (ctr, h_ctr, E_ctr)):
    assert abs(np.log10(s.optimal_step / h_star)) <= 1, s.scheme
    assert float(s.minimum_error) <= 2 * bound, s.scheme
# At 30 digits the errors follow the exact closed forms for sin, down to h = 1e-15:
#   forward: sin(1)(cos h − 1)/h + cos(1)(sin h/h − 1);  central: cos(1)(1 − sin h/h).
h = np.array(fwd_mp.step_sizes, dtype=float)
forward_exact = np.abs(
    np.sin(1) * -2 * np.sin(h / 2) ** 2 / h + np.cos(1) * (np.sinc(h / np.pi) - 1)
)
central_exact = np.cos(1) * h**2 / 6 * (1 - h**2 / 20 + h**4 / 840)  # 1 − sin h/h, by series
np.testing.assert_allclose(np.array(fwd_mp.errors, dtype=float), forward_exact, rtol=1e-6)
np.testing.assert_allclose(np.array(ctr_mp.errors, dtype=float), central_exact, rtol=1e-9)
for s, p in zip(exact.schemes, (1, 2, 2), strict=True):
    assert abs(s.observed_order - p) < 0.01, s.scheme
assert float(cplx.minimum_error) < 4 * eps * np.cos(1)  # complex step: within a few ulps
print("\nall claims verified")
