"""Run every benchmark in one go: ``python benchmarks/run.py``.

Each benchmark measures symgrad and its baseline round-robin in the same process and prints
medians and ratios; see the docstring of each script for its environment variables.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_gradient
import bench_grids
import bench_mpfd
import bench_refusal


def main() -> None:
    for module in (bench_gradient, bench_mpfd, bench_grids, bench_refusal):
        title = (module.__doc__ or module.__name__).strip().splitlines()[0]
        print(f"\n== {title}")
        start = time.perf_counter()
        module.main()
        print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
