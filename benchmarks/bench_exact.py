"""Certified exact values per second: ``Compiled.at`` with arb balls and with mpmath intervals.

Run: ``python benchmarks/bench_exact.py`` (env DPS="20,50,300", SECONDS per sample).  For
reference, "fixed precision" is one call of the compiled mpmath function at dps + 10 digits:
the cost of an uncertified value, which is what ``.at()`` cost before it proved its digits.
The "arb" rows need python-flint (the ``fast`` extra).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import mpmath

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import table

import symgrad
from symgrad.errors import MissingExtra


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


def arb_available() -> bool:
    """Whether engine="arb" works here (python-flint installed)."""
    try:
        symgrad.function("x").at("x=1", engine="arb")
    except MissingExtra:
        return False
    return True


CASES = [
    (
        "gradient of sin(x+y)*exp(-z**2)",
        symgrad.gradient,
        "sin(x+y)*exp(-z**2)",
        "x=0.3,y=0.7,z=0.5",
    ),
    ("hessian of Rosenbrock", symgrad.hessian, "(1-x)**2 + 100*(y-x**2)**2", "x=-1.2, y=1"),
    ("(exp(x)-1)/x at 1e-200", symgrad.function, "(exp(x)-1)/x", "x=1e-200"),
    ("d/dx acos(x) near 1", symgrad.gradient, "acos(x)", "x=0.99999999999999"),
]


def measure(dps: int, seconds: float) -> list[list[str]]:
    """One table block: each case and engine at ``dps`` digits."""
    rows = []
    engines = ["arb", "mpmath"] if arb_available() else ["mpmath"]
    for name, build, text, point in CASES:
        g = build(text)
        values = g.point_values(point)
        ctx, fn = g.mp_function(dps + 10)
        args = [ctx.mpf(v.p) / v.q for v in values]
        speeds = {"fixed precision": rate(lambda fn=fn, args=args: fn(*args), seconds)}
        for engine in engines:
            speeds[engine] = rate(
                lambda g=g, p=point, e=engine: g.at(p, dps=dps, engine=e), seconds
            )
        for method, speed in speeds.items():
            ratio = speed / speeds["fixed precision"]
            rows.append([str(dps), name, method, f"{speed:,.0f}", f"{ratio:.2f}"])
    return rows


def main() -> None:
    levels = [int(d) for d in os.environ.get("DPS", "20,50,300").split(",")]
    seconds = float(os.environ.get("SECONDS", "0.3"))
    print(f"mpmath backend: {mpmath.libmp.BACKEND}, python-flint: {arb_available()}")
    rows = [["dps", "case", "method", "values/s", "ratio to fixed precision"]]
    for dps in levels:
        rows += measure(dps, seconds)
    print(table(rows))


if __name__ == "__main__":
    main()
