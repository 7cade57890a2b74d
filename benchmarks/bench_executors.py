"""Independent pieces on an executor: ``convergence``, ``verify_grid``, ``check``; serial vs 2 processes.

Run: ``python benchmarks/bench_executors.py [--quick]`` (or as part of ``run.py``).  When the
installed symgrad's function has an ``executor=`` keyword, the same call is timed without it
(serial) and with a ``ProcessPoolExecutor(2)`` of spawned workers made once beforehand (its
start-up is not timed; the warm-up call starts its workers), round-robin, and the two results'
``to_dict()`` (as JSON, where NaN equals NaN) are compared.  Without the keyword the row is
skipped.  The machine's cores are shared, so a ratio near 1 can mean the second core was busy.

* ``convergence("sin(x+y)*exp(-z**2)", at, wrt="x")`` with the default schemes and step sizes;
* ``verify_grid("sin(x)*cos(y)*exp(z)", unit cube, sizes=(17, 33, 65))``;
* ``check`` of the Rosenbrock function in 40 variables (the same text each call).
"""

from __future__ import annotations

import inspect
import json
import multiprocessing
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import rosenbrock_text
from common import Run, measure, table

import symgrad


def jobs(quick: bool) -> dict[str, tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]]:
    sizes = (9, 17) if quick else (17, 33, 65)
    n = 6 if quick else 40
    return {
        "convergence": (
            symgrad.convergence,
            ("sin(x+y)*exp(-z**2)", "x=0.3, y=0.7, z=0.5"),
            {"wrt": "x", "step_sizes": "1e-1:1e-6:6"} if quick else {"wrt": "x"},
        ),
        "verify_grid": (
            symgrad.verify_grid,
            ("sin(x)*cos(y)*exp(z)", "x=0:1, y=0:1, z=0:1"),
            {"sizes": sizes},
        ),
        "check": (
            symgrad.check,
            (rosenbrock_text(n, 100), ", ".join(f"x{i}=0.{i % 9 + 1}" for i in range(n))),
            {"variables": [f"x{i}" for i in range(n)]},
        ),
    }


def main(run: Run) -> None:
    sec = run.section("executors", "Executors: serial vs ProcessPoolExecutor(2)")
    rows = [["call", "serial s", "2 processes s", "serial / 2 processes", "results equal"]]
    # spawned workers: forking a process that has JAX's threads running can deadlock
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        for name, (fn, args, kwargs) in jobs(run.quick).items():
            if "executor" not in inspect.signature(fn).parameters:
                sec.skip(name, "ProcessPoolExecutor(2)", f"{name} has no executor= keyword")
                continue
            serial = json.dumps(fn(*args, **kwargs).to_dict(), sort_keys=True, default=str)
            pooled = json.dumps(
                fn(*args, **kwargs, executor=pool).to_dict(), sort_keys=True, default=str
            )
            methods = {
                "serial": lambda f=fn, a=args, k=kwargs: f(*a, **k),
                "ProcessPoolExecutor(2)": lambda f=fn, a=args, k=kwargs: f(*a, **k, executor=pool),
            }
            print(f"  {name}", flush=True)
            timings = measure(methods, **run.settings(expensive=True))
            for method, timing in timings.items():
                sec.record(name, method, timing, results_equal=serial == pooled)
            ratio = sec.ratio(name, "serial", "ProcessPoolExecutor(2)")
            rows.append(
                [
                    name,
                    f"{timings['serial'].median_s:.3g}",
                    f"{timings['ProcessPoolExecutor(2)'].median_s:.3g}",
                    f"{ratio:.2f}",
                    "yes" if serial == pooled else "NO",
                ]
            )
    if len(rows) > 1:
        print(table(rows))


if __name__ == "__main__":
    main(Run(quick="--quick" in sys.argv))
