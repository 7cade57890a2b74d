"""Round-robin timing: competing methods alternate within one run, ratios from medians."""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable


def time_round_robin(
    methods: dict[str, Callable[[], object]], rounds: int = 7, warmup: int = 1
) -> dict[str, float]:
    """Median seconds per call of each method, rotating the start each round."""
    names = list(methods)
    samples: dict[str, list[float]] = {n: [] for n in names}
    for r in range(warmup + rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            gc.collect()
            start = time.perf_counter()
            methods[name]()
            elapsed = time.perf_counter() - start
            if r >= warmup:
                samples[name].append(elapsed)
    return {n: statistics.median(s) for n, s in samples.items()}


def peak_extra_mib(method: Callable[[], object]) -> float:
    """Peak traced allocation (MiB) above the baseline during one call, output included."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    result = method()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    return (peak - base) / 2**20


def table(rows: list[list[str]]) -> str:
    """A plain aligned text table (first row is the header)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
