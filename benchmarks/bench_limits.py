"""Seconds and memory of costly derivative jobs: refused by default, and what they would cost.

Run: ``python benchmarks/bench_limits.py [seconds]``.  Each job runs in a worker process
(``symgrad.run_limited``) twice: with the default limits (refused or done, and how fast), then
with the work cap raised out of the way, under a timeout (default 60 s) and a 4 GiB memory cap,
to measure what the job really costs: seconds, peak memory above the worker's own, and the cost
model's estimate in node operations (``µs/op`` shows the calibration: 3-12 µs expected).
``tests/test_limits.py`` asserts the same refusals and the estimates' accuracy in SymPy calls.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import table

import symgrad
from symgrad.derive import _cost

UNLIMITED = symgrad.Limits(max_work=10**12)


def _product(n: int) -> str:
    return "*".join(f"x{i}" for i in range(n))


def _max(n: int) -> str:
    return "max(" + ",".join(f"x{i}" for i in range(n)) + ")"


def _sin_of_squares(n: int) -> str:
    return "sin(" + "+".join(f"x{i}**2" for i in range(n)) + ")"


def _squared_linear_form(n: int) -> str:
    return "(" + "+".join(f"{i + 1}*x{i}" for i in range(n)) + ")^2"


FOUR_MAX = "*".join(f"max(x{4 * i},x{4 * i + 1},x{4 * i + 2},x{4 * i + 3})" for i in range(4))

# (label, call, arguments)
JOBS: list[tuple[str, str, tuple[object, ...]]] = [
    ("derivative(x**3, x, 10**9)", "derivative", ("x**3", "x", 10**9)),
    ("gradient max of 16", "gradient", (_max(16),)),
    ("gradient of four max of 4", "gradient", (FOUR_MAX,)),
    ("gradient x0*...*x99", "gradient", (_product(100),)),
    ("hessian x0*...*x99", "hessian", (_product(100),)),
    ("hessian sin(x0^2+...+x99^2)", "hessian", (_sin_of_squares(100),)),
    ("gradient max of 4", "gradient", (_max(4),)),
    ("hessian x0*...*x19", "hessian", (_product(20),)),
    ("hessian x0*...*x29", "hessian", (_product(30),)),
    ("hessian sin(x0^2+...+x29^2)", "hessian", (_sin_of_squares(30),)),
    ("gradient sin(x0^2+...+x99^2)", "gradient", (_sin_of_squares(100),)),
    ("hessian (x0+2*x1+...+400*x399)^2", "hessian", (_squared_linear_form(400),)),
    ("derivative exp(sin(x)), order 12", "derivative", ("exp(sin(x))", "x", 12)),
    (
        "laplacian, 30 variables",
        "laplacian",
        ("+".join(f"exp(-x{i}**2)*cos(x{(i + 1) % 30})" for i in range(30)),),
    ),
]


def measure(
    call: str, args: tuple[object, ...], limits: symgrad.Limits | None
) -> tuple[str, float, float, int]:
    """In the worker: outcome, seconds, peak MiB above the worker's start, estimated work."""
    spent = [0]
    charge = _cost.Budget.charge

    def recording(self: _cost.Budget, cost: int, what: str, *, partial: bool = False) -> None:
        charge(self, cost, what, partial=partial)
        spent[0] = self.spent  # the compilation is charged last: the job's whole estimate

    _cost.Budget.charge = recording  # type: ignore[method-assign]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    try:
        getattr(symgrad, call)(*args, limits=limits)
        outcome = "done"
    except symgrad.LimitExceeded as exc:
        outcome = f"refused ({exc.limit})"
    seconds = time.perf_counter() - start
    peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return outcome, seconds, peak, spent[0]


def run(
    call: str, args: tuple[object, ...], limits: symgrad.Limits | None, timeout: float
) -> tuple[str, float, float, int]:
    try:
        return symgrad.run_limited(
            measure, call, args, limits, timeout=timeout, max_memory=4 * 2**30
        )
    except symgrad.LimitExceeded as exc:
        return (
            f"> {exc.limit}",
            timeout if exc.limit == "timeout" else float("nan"),
            float("nan"),
            0,
        )


def main() -> None:
    timeout = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    rows = [["job", "default", "s", "unlimited", "s", "peak MiB", "estimate", "µs/op"]]
    for label, call, args in JOBS:
        outcome, seconds, _, _ = run(call, args, None, 120.0)
        big, big_s, peak, estimate = run(call, args, UNLIMITED, timeout)
        per_op = f"{1e6 * big_s / estimate:.0f}" if estimate and big == "done" else "-"
        rows.append(
            [
                label,
                outcome,
                f"{seconds:.3f}",
                big,
                f"{big_s:.1f}",
                f"{peak:.0f}",
                f"{estimate:,}",
                per_op,
            ]
        )
    print(table(rows))
    print(
        f"(limits: max_work={symgrad.Limits().max_work:,}; unlimited runs stop after {timeout:g} s)"
    )


if __name__ == "__main__":
    main()
