"""Arbitrary-precision gradients per second: symgrad vs mpmath.diff, python-flint and float64 peers.

Run: ``python benchmarks/bench_precision.py [--quick]`` (or as part of ``run.py``).  The gradient
of ``sin(x+y)*exp(-z**2)`` at (0.3, 0.7, 0.5) at 50 digits, one call = the three components:

* **symgrad default**: ``finite_difference_gradient(f, point, dps=50)`` on a compiled ``f``
  (method ``auto``, error control on); **symgrad default, text** passes the text each call;
* **symgrad certified**: the same with the certified option of the arb referee, when the
  installed symgrad has one (a ``certified`` or ``engine="arb"`` keyword) and python-flint is
  importable; **symgrad engine=mpmath** forces the error-controlled mpmath engine;
* **mpmath.diff** on the function compiled into a private mpmath context at 50 digits;
* **flint arb, plain stencil**: a central difference with h = 10⁻³⁰ on arb balls at 95 digits
  (truncation ~h², so 50 correct digits; no error control, nothing certified);
* float64 peers, which cannot reach 50 digits (the table says how many digits they reach):
  ``scipy.differentiate.jacobian``, ``numdifftools.Gradient``, findiff's 4th-order ``Diff`` on a
  7×7×7 grid around the point and ``numpy.gradient`` on a 3×3×3 grid (the grid tools need the
  function on a grid: evaluating it there is part of their cost).

Every call is at a fresh point: each method runs through the same ``ROTATION`` = 97 points near
(0.3, 0.7, 0.5) in turn (more than any per-point cache of symgrad keeps), so nothing computed
for one point is reused at the next; only what belongs to the function (compiled code, ball
programs, stencils) carries over, as it does for a user who differences one function at many
points.  Every method's error is measured at the first point against the closed-form gradient
in a private 80-digit mpmath context.  ``run.py`` also runs this section in a child process with python-flint hidden
(``--no-flint``), which is how symgrad runs without its ``fast`` extra.
"""

from __future__ import annotations

import importlib.util
import inspect
import itertools
import json
import sys
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

if "--no-flint" in sys.argv:  # before symgrad is imported: as if python-flint were not installed
    sys.modules["flint"] = None  # type: ignore[assignment]

import mpmath
import numpy as np
import sympy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Run, Section, measure, table

import symgrad
from symgrad.fd import finite_difference_gradient

EXPR = "sin(x+y)*exp(-z**2)"
DPS = 50
ROTATION = 97
#: The points, exact decimals: (0.3 + k/1000, 0.7 - k/1000, 0.5 + k/2000) for k = 0 ... 96.
POINTS = [
    (Fraction(300 + k, 1000), Fraction(700 - k, 1000), Fraction(1000 + k, 2000))
    for k in range(ROTATION)
]
TEXTS = [", ".join(f"{n}={float(v)!r}" for n, v in zip("xyz", p, strict=True)) for p in POINTS]
POINT = TEXTS[0]
XYZ = tuple(float(v) for v in POINTS[0])


def rotating(method: Callable[[int], Any]) -> Callable[[], Any]:
    """``method`` at the next point of the rotation on every call."""
    turn = itertools.cycle(range(ROTATION))
    return lambda: method(next(turn))


def exact_gradient() -> list[Any]:
    """The closed-form gradient at 80 digits in a private context (the oracle)."""
    ctx = mpmath.MPContext()
    ctx.dps = 80
    x, y, z = (ctx.mpf(3) / 10, ctx.mpf(7) / 10, ctx.mpf(1) / 2)
    d = ctx.cos(x + y) * ctx.exp(-z * z)
    return [d, d, -2 * z * ctx.sin(x + y) * ctx.exp(-z * z)]


def digits(values: list[Any], exact: list[Any]) -> float:
    """Correct significant digits: -log10 of the largest relative error (80 when exact)."""
    ctx = mpmath.MPContext()
    ctx.dps = 80
    err = max(abs(ctx.mpf(str(v)) - e) / abs(e) for v, e in zip(values, exact, strict=True))
    return 80.0 if err == 0 else float(-ctx.log10(err))


def certified_keywords() -> dict[str, Any] | None:
    """The keyword that asks finite_difference_gradient for a certified result, if it has one."""
    params = inspect.signature(finite_difference_gradient).parameters
    if "certified" in params:
        return {"certified": True}
    if "engine" in params:
        return {"engine": "arb"}
    return None


def _values(results: Any) -> list[Any]:
    return [r.value[()] if hasattr(r.value, "shape") else r.value for r in results]


def symgrad_methods(sec: Section) -> dict[str, Callable[[], list[Any]]]:
    """symgrad's rows: default (compiled and text), certified and mpmath engines when present."""
    f = symgrad.function(EXPR)

    def call(**keywords: Any) -> Callable[[], list[Any]]:
        return rotating(
            lambda k: _values(finite_difference_gradient(f, TEXTS[k], dps=DPS, **keywords))
        )

    methods = {
        "symgrad default": call(),
        "symgrad default, text": rotating(
            lambda k: _values(finite_difference_gradient(EXPR, TEXTS[k], dps=DPS))
        ),
    }
    keywords = certified_keywords()
    if keywords is None:
        sec.skip(f"{DPS} digits", "symgrad certified", "no certified option in this symgrad")
    elif importlib.util.find_spec("flint") is None:
        sec.skip(f"{DPS} digits", "symgrad certified", "python-flint is not importable")
    else:
        results = finite_difference_gradient(f, POINT, dps=DPS, **keywords)
        claimed = [getattr(r, "certified", None) for r in results]
        sec.notes.append(f"symgrad certified = finite_difference_gradient(..., {keywords}): "
                         f"certified flags {claimed}")  # fmt: skip
        methods["symgrad certified"] = call(**keywords)
    if "engine" in inspect.signature(finite_difference_gradient).parameters:
        methods["symgrad engine=mpmath"] = call(engine="mpmath")
    return methods


def mpmath_diff() -> Callable[[], list[Any]]:
    ctx = mpmath.MPContext()
    ctx.dps = DPS
    points = [[ctx.mpf(v.numerator) / v.denominator for v in p] for p in POINTS]
    x, y, z = sympy.symbols("x y z")
    namespace = {n: getattr(ctx, n) for n in dir(ctx) if not n.startswith("_")}
    fn = sympy.lambdify([x, y, z], sympy.sin(x + y) * sympy.exp(-(z**2)), [namespace, "mpmath"])
    orders = ((1, 0, 0), (0, 1, 0), (0, 0, 1))
    return rotating(lambda k: [ctx.diff(fn, points[k], order) for order in orders])


def flint_stencil(flint: Any) -> Callable[[], list[Any]]:
    """Plain central difference on arb balls at 95 digits, h = 1e-30."""
    arb = flint.arb

    def f(x: Any, y: Any, z: Any) -> Any:
        return (x + y).sin() * (-(z * z)).exp()

    def grad(k: int) -> list[Any]:
        old = flint.ctx.prec
        flint.ctx.dps = DPS + 45
        try:
            h = arb(10) ** -30
            p = [arb(v.numerator) / v.denominator for v in POINTS[k]]
            out = []
            for i in range(3):
                up = [v + h if j == i else v for j, v in enumerate(p)]
                down = [v - h if j == i else v for j, v in enumerate(p)]
                out.append((f(*up) - f(*down)) / (2 * h))
            return [v.mid().str(DPS + 5, radius=False) for v in out]
        finally:
            flint.ctx.prec = old

    return rotating(grad)


def _f64(v: np.ndarray) -> Any:
    return np.sin(v[0] + v[1]) * np.exp(-(v[2] ** 2))


def float64_methods(run: Run) -> dict[str, Callable[[], list[Any]]]:
    p = np.array(XYZ)
    methods: dict[str, Callable[[], list[Any]]] = {}
    sd = run.peer("scipy.differentiate")
    if sd is not None:
        methods["scipy.differentiate"] = lambda: list(sd.jacobian(_f64, p).df)
    nd = run.peer("numdifftools")
    if nd is not None:
        gradient = nd.Gradient(_f64)
        methods["numdifftools"] = lambda: list(gradient(p))
    fd = run.peer("findiff")
    if fd is not None:
        h = 1e-3
        grid = np.meshgrid(*(c + h * np.arange(-3, 4) for c in XYZ), indexing="ij")
        diffs = [fd.Diff(i, h, acc=4) for i in range(3)]
        methods["findiff (7³ grid)"] = lambda: [d(_f64(grid))[3, 3, 3] for d in diffs]
    h = 1e-5
    small = np.meshgrid(*(c + h * np.arange(-1, 2) for c in XYZ), indexing="ij")
    methods["numpy.gradient (3³ grid)"] = lambda: [
        g[1, 1, 1] for g in np.gradient(_f64(small), h, h, h)
    ]
    return methods


def main(run: Run, key: str = "precision") -> None:
    flint_state = "hidden" if "--no-flint" in sys.argv else "installed"
    sec = run.section(
        key, f"{DPS}-digit gradients of a 3-variable function (python-flint {flint_state})"
    )
    methods = symgrad_methods(sec)
    methods["mpmath.diff"] = mpmath_diff()
    flint = run.peer("flint")
    if flint is None:
        sec.skip(f"{DPS} digits", "flint arb plain stencil", run.skip_reason("flint"))
    else:
        methods["flint arb plain stencil"] = flint_stencil(flint)
    if key == "precision":
        methods.update(float64_methods(run))
    exact = exact_gradient()
    reached = {name: digits(m(), exact) for name, m in methods.items()}
    case = f"{DPS} digits"
    print(f"  {case}: {', '.join(methods)}", flush=True)
    timings = measure(methods, **run.settings())
    for name, timing in timings.items():
        sec.record(
            case, name, timing, digits=round(reached[name], 1), float64="float64" in _kind(name)
        )
    rows = [
        ["method", "gradients/s", "symgrad default / method", "digits reached", f"{DPS} digits"]
    ]
    for name, timing in timings.items():
        ratio = sec.ratio(case, "symgrad default", name) if name != "symgrad default" else 1.0
        rows.append(
            [
                name + _kind(name),
                f"{1 / timing.median_s:,.0f}",
                f"{ratio:.3g}",
                f"{reached[name]:.1f}",
                "yes" if reached[name] >= DPS - 1 else "no",
            ]
        )
    print(table(rows))
    if "symgrad certified" in timings and "flint arb plain stencil" in timings:
        certified = sec.ratio(case, "symgrad certified", "flint arb plain stencil")
        print(f"  symgrad certified / flint arb plain stencil: {certified:.3g} times the time")


def _kind(name: str) -> str:
    float64 = ("scipy", "numdifftools", "findiff", "numpy")
    return " (float64 only)" if name.startswith(float64) else ""


def child() -> None:
    """``--child-json PATH``: run the section (flint hidden if asked) and write it as JSON."""
    path = Path(sys.argv[sys.argv.index("--child-json") + 1])
    run = Run(quick="--quick" in sys.argv, use_peers="--no-peers" not in sys.argv)
    if "--no-flint" in sys.argv:
        run.missing["flint"] = "hidden (--no-flint)"
    key = "precision_no_flint" if "--no-flint" in sys.argv else "precision"
    main(run, key)
    path.write_text(json.dumps(vars(run.sections[key])), encoding="utf-8")


if __name__ == "__main__":
    if "--child-json" in sys.argv:
        child()
    else:
        main(Run(quick="--quick" in sys.argv))
