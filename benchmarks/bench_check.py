"""``check`` with many variables: seconds per call for the chained Rosenbrock function, N = 10…80.

Run: ``python benchmarks/bench_check.py [--quick]`` (or as part of ``run.py``).  One call is
``symgrad.check(text, point)`` with the defaults (gradient, 50 digits, central:4), from text to
verdict, at a point with every coordinate in (0, 1).  Each call uses a coefficient no earlier call
used, so a cache keyed by the text cannot answer it.  The Rosenbrock function is a sum of local
terms (each variable appears in at most two), so a check that differences only what each variable
touches costs O(N); one that evaluates the whole function for every component costs O(N²).  The
growth exponent is the log-log slope over the sizes, and every verdict must be ``pass``.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import BIG, rosenbrock_text
from common import Run, measure, table

import symgrad


def checker(n: int) -> Callable[[], object]:
    """One zero-argument check of the N-variable Rosenbrock function (fresh text per call)."""
    point = ", ".join(f"x{i}=0.{i % 9 + 1}" for i in range(n))
    names = [f"x{i}" for i in range(n)]
    counter = itertools.count(100)

    def run_check() -> object:
        result = symgrad.check(
            rosenbrock_text(n, next(counter)), point, variables=names, limits=BIG
        )
        if result.status.value != "pass":
            msg = f"check of Rosenbrock N={n} gave {result.status.value}: {result.reason}"
            raise AssertionError(msg)
        return result

    return run_check


def main(run: Run) -> None:
    sec = run.section("check", "check with many variables (Rosenbrock, seconds per check)")
    sizes = [3, 6] if run.quick else [10, 20, 40, 80]
    cases = {n: f"rosenbrock N={n}" for n in sizes}
    rows = [["N", "seconds per check", "per variable ms"]]
    for n, case in cases.items():
        print(f"  {case}", flush=True)
        timing = measure({"symgrad check": checker(n)}, **run.settings(expensive=True))
        sec.record_all(case, timing)
        t = timing["symgrad check"].median_s
        rows.append([str(n), f"{t:.3g}", f"{t / n * 1e3:.3g}"])
    print(table(rows))
    slope = sec.fit_growth("rosenbrock check", "symgrad check", cases)
    print(f"growth exponent in N: {slope:.2f}")


if __name__ == "__main__":
    main(Run(quick="--quick" in sys.argv))
