"""Full-accuracy arbitrary-precision gradients per second: symgrad vs mpmath.diff.

Run: ``python benchmarks/bench_mpfd.py`` (env DPS="30,50,300", SECONDS per sample).  Function
f2 = sin(x+y)*exp(-z**2) at (0.3, 0.7, 0.5).  Every method's error
against the exact gradient (evaluated at dps + 30) is printed next to its speed: a method only
counts if it reaches the requested digits.  mpmath.diff runs on the same function compiled into
a private mpmath context (never mpmath.mp).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import mpmath
import sympy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import table

import symgrad
from symgrad.fd import finite_difference_gradient

EXPR = "sin(x+y)*exp(-z**2)"
POINT = "x=0.3, y=0.7, z=0.5"


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Median calls per second over five time-boxed samples."""
    samples = []
    for _ in range(5):
        calls, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            fn()
            calls += 1
        samples.append(calls / elapsed)
    return statistics.median(samples)


def measure(dps: int, seconds: float) -> list[list[str]]:
    """One table block: every method's speed and error at ``dps`` digits."""
    f = symgrad.function(EXPR)
    ref = mpmath.MPContext()
    ref.dps = dps + 30
    exact = [ref.convert(v) for v in symgrad.gradient(EXPR).at(POINT, dps=dps + 30)]

    def symgrad_fd(method: str, scheme: str = "central:2", control: bool = True) -> list[object]:
        results = finite_difference_gradient(
            f, POINT, method=method, scheme=scheme, dps=dps, error_control=control
        )
        return [r.value[()] for r in results]

    ctx = mpmath.MPContext()
    ctx.dps = dps
    xs = [ctx.mpf(3) / 10, ctx.mpf(7) / 10, ctx.mpf(1) / 2]
    namespace = {n: getattr(ctx, n) for n in dir(ctx) if not n.startswith("_")}
    fn = sympy.lambdify(list(f.variables), f.components[0], modules=[namespace, "mpmath"])

    def mpmath_diff() -> list[object]:
        return [ctx.diff(fn, xs, order) for order in ((1, 0, 0), (0, 1, 0), (0, 0, 1))]

    methods = {
        "mpmath.diff": mpmath_diff,
        "symgrad mp central:2 (Richardson)": lambda: symgrad_fd("mp"),
        "symgrad mp central:4 (Richardson)": lambda: symgrad_fd("mp", "central:4"),
        "symgrad mp central:2, no error control": lambda: symgrad_fd("mp", control=False),
        "symgrad mp-complex": lambda: symgrad_fd("mp-complex"),
        "symgrad default (auto)": lambda: symgrad_fd("auto"),
    }
    speeds = {name: rate(m, seconds) for name, m in methods.items()}
    rows = []
    for name, m in methods.items():
        got = m()
        err = max(abs(ref.convert(a) - b) / abs(b) for a, b in zip(got, exact, strict=True))
        ok = err <= ref.mpf(10) ** -(dps - 1)
        ratio = speeds[name] / speeds["mpmath.diff"]
        rows.append(
            [
                str(dps),
                name,
                f"{speeds[name]:.0f}",
                f"{ratio:.2f}",
                ref.nstr(err, 2),
                "yes" if ok else "NO",
            ]
        )
    return rows


def main() -> None:
    levels = [int(d) for d in os.environ.get("DPS", "30,50,300").split(",")]
    seconds = float(os.environ.get("SECONDS", "0.3"))
    print(f"mpmath backend: {mpmath.libmp.BACKEND}")
    rows = [["dps", "method", "gradients/s", "ratio to mpmath.diff", "max rel error", "ok"]]
    for dps in levels:
        rows += measure(dps, seconds)
    print(table(rows))


if __name__ == "__main__":
    main()
