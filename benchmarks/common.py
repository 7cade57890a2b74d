"""Round-robin timing and the record of one benchmark run.

Every comparison in this directory is made inside one process, in one run: the competing methods
alternate call by call (the start rotates each round), so a slow minute on a shared machine slows
all of them alike, and a ratio of two medians from the same run is far steadier than either
absolute time.  :func:`measure` adds three things to :func:`time_round_robin`: a method that is
fast is called ``number`` times per sample (so a sample lasts at least ``min_time`` seconds and
the clock's resolution does not matter), the round robin is repeated ``repeats`` times (the
per-repeat medians are kept, to show the spread), and the result is a :class:`Timing`.  The
garbage collector runs before every sample, on a frozen heap (``gc.freeze``): what the benchmark
process holds (SymPy caches, compiled peers) is not rescanned, so the collection is cheap and a
method's time does not depend on what the methods before it left alive.

:class:`Run` collects the timings of a run section by section, with every ratio and growth
exponent computed from timings of that same run and written to JSON (see ``benchmarks/README.md``
for the keys).
"""

from __future__ import annotations

import gc
import importlib
import math
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from types import ModuleType
from typing import Any


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


@dataclass
class Timing:
    """Seconds per call of one method: the median over ``rounds`` samples of ``number`` calls."""

    median_s: float
    rounds: int
    repeats: int
    number: int
    repeat_medians: list[float]


def _first_call(fn: Callable[[], object]) -> float:
    """Seconds of one call (the warm-up)."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _calls_per_sample(once: float, min_time: float, max_number: int) -> int:
    """How many calls make one sample last at least ``min_time``, given one call's seconds."""
    if once >= min_time:
        return 1
    return max(1, min(max_number, math.ceil(min_time / max(once, 1e-7))))


def measure(
    methods: dict[str, Callable[[], object]],
    *,
    rounds: int = 7,
    repeats: int = 1,
    min_time: float = 0.05,
    max_number: int = 100_000,
    cap: dict[str, float] | None = None,
    dropped: dict[str, float] | None = None,
    warmup: bool = True,
    errors: dict[str, str] | None = None,
) -> dict[str, Timing]:
    """Round-robin medians of seconds per call, each sample at least ``min_time`` long.

    Each method is called once first (a warm-up that also sets its calls per sample); a method
    whose warm-up took longer than its ``cap`` seconds is left out of the round robin (and of
    the result), its warm-up seconds put in ``dropped``.  Then ``repeats`` blocks of ``rounds``
    rounds: in each round every method takes one sample, the starting method rotating.
    ``warmup=False`` (for calls that start a fresh process, with nothing to warm) skips the
    first call: one call per sample.  With ``errors``, a method whose warm-up raises is left out
    and the exception's first line put there; otherwise the exception propagates.
    """
    if not warmup:
        number = dict.fromkeys(methods, 1)
        return _timings(_round_robin(methods, number, rounds, repeats), number, rounds, repeats)
    number: dict[str, int] = {}
    for name, fn in methods.items():
        try:
            once = _first_call(fn)
        except Exception as exc:
            if errors is None:
                raise
            errors[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            continue
        if cap is not None and once > cap.get(name, math.inf):
            if dropped is not None:
                dropped[name] = once
            continue
        number[name] = _calls_per_sample(once, min_time, max_number)
    names = list(number)
    if not names:
        return {}
    return _timings(_round_robin(methods, number, rounds, repeats), number, rounds, repeats)


def _timings(
    blocks: dict[str, list[list[float]]], number: dict[str, int], rounds: int, repeats: int
) -> dict[str, Timing]:
    """Each method's :class:`Timing` from its samples."""
    return {
        n: Timing(
            median_s=statistics.median(s for block in blocks[n] for s in block),
            rounds=rounds * repeats,
            repeats=repeats,
            number=number[n],
            repeat_medians=[statistics.median(block) for block in blocks[n]],
        )
        for n in blocks
    }


def _round_robin(
    methods: dict[str, Callable[[], object]], number: dict[str, int], rounds: int, repeats: int
) -> dict[str, list[list[float]]]:
    """Per method, ``repeats`` lists of ``rounds`` samples (seconds per call), starts rotating."""
    names = list(number)
    blocks: dict[str, list[list[float]]] = {n: [] for n in names}
    gc.freeze()  # the objects alive now are not re-scanned by every collection below
    try:
        for _ in range(repeats):
            _one_repeat(methods, number, rounds, blocks)
    finally:
        gc.unfreeze()
    return blocks


def _one_repeat(
    methods: dict[str, Callable[[], object]],
    number: dict[str, int],
    rounds: int,
    blocks: dict[str, list[list[float]]],
) -> None:
    """One block of ``rounds`` rounds, appended to each method's list in ``blocks``."""
    names = list(number)
    samples: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            fn, count = methods[name], number[name]
            gc.collect()
            start = time.perf_counter()
            for _ in range(count):
                fn()
            samples[name].append((time.perf_counter() - start) / count)
    for name in names:
        blocks[name].append(samples[name])


def growth_exponent(sizes: Sequence[float], seconds: Sequence[float]) -> float:
    """Least-squares slope of log(seconds) against log(size): cost grows as size**slope."""
    xs = [math.log(s) for s in sizes]
    ys = [math.log(t) for t in seconds]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


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


def fmt_ratio(value: float | None) -> str:
    """A ratio for a table: two significant digits, '-' when not measured."""
    if value is None:
        return "-"
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


@dataclass
class Section:
    """The measurements, ratios, growth exponents and skipped rows of one part of the run."""

    title: str
    measurements: dict[str, dict[str, Any]] = field(default_factory=dict)
    ratios: list[dict[str, Any]] = field(default_factory=list)
    growth: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def record(self, case: str, method: str, timing: Timing, **extra: Any) -> str:
        """Store one timing under the id ``"case | method"`` and return the id."""
        key = f"{case} | {method}"
        self.measurements[key] = {"case": case, "method": method, **asdict(timing), **extra}
        return key

    def record_all(self, case: str, timings: dict[str, Timing], **extra: Any) -> None:
        """Store every method's timing of one round robin."""
        for method, timing in timings.items():
            self.record(case, method, timing, **extra)

    def median(self, case: str, method: str) -> float | None:
        """The stored median seconds of a method on a case, None when it was not measured."""
        entry = self.measurements.get(f"{case} | {method}")
        return None if entry is None else float(entry["median_s"])

    def ratio(self, case: str, numerator: str, denominator: str) -> float | None:
        """time(numerator) / time(denominator) on ``case``, both timed in this run; stored."""
        top, bottom = self.median(case, numerator), self.median(case, denominator)
        if top is None or bottom is None:
            return None
        value = top / bottom
        self.ratios.append(
            {
                "case": case,
                "numerator": f"{case} | {numerator}",
                "denominator": f"{case} | {denominator}",
                "ratio": value,
            }
        )
        return value

    def get_ratio(self, case: str, numerator: str, denominator: str) -> float | None:
        """A ratio recorded earlier by :meth:`ratio` (None when it was not measured)."""
        for entry in self.ratios:
            if entry["numerator"] == f"{case} | {numerator}" and entry["denominator"] == (
                f"{case} | {denominator}"
            ):
                return float(entry["ratio"])
        return None

    def fit_growth(self, family: str, method: str, cases: dict[int, str]) -> float | None:
        """Growth exponent of ``method`` over ``cases`` (size -> case), from stored medians."""
        points = [(n, self.median(case, method)) for n, case in cases.items()]
        measured = [(n, t) for n, t in points if t is not None]
        if len(measured) < 2:
            return None
        value = growth_exponent([n for n, _ in measured], [t for _, t in measured])
        self.growth.append(
            {
                "family": family,
                "method": method,
                "sizes": [n for n, _ in measured],
                "measurements": [f"{cases[n]} | {method}" for n, _ in measured],
                "exponent": value,
            }
        )
        return value

    def skip(self, case: str, method: str, reason: str) -> None:
        """Record (and print) a row that was not measured, with the reason."""
        self.skipped.append({"case": case, "method": method, "reason": reason})
        print(f"  skipped: {method} on {case}: {reason}", flush=True)


@dataclass
class Run:
    """One benchmark run: its mode, the sections and the peers it could not import."""

    quick: bool
    use_peers: bool = True
    sections: dict[str, Section] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)

    def section(self, key: str, title: str) -> Section:
        """A new section, printed as a heading."""
        print(f"\n== {title}", flush=True)
        self.sections[key] = Section(title)
        return self.sections[key]

    def peer(self, module: str) -> ModuleType | None:
        """Import an optional peer; None (printed once as 'not installed') when unavailable."""
        if module in self.missing:
            return None
        if not self.use_peers:
            self.missing.setdefault(module, "disabled (--no-peers)")
            return None
        try:
            imported = importlib.import_module(module)
        except ImportError:
            if module not in self.missing:
                print(f"  {module}: not installed", flush=True)
            self.missing[module] = "not installed"
            return None
        if module == "jax":  # float64 like every other method (JAX defaults to float32)
            imported.config.update("jax_enable_x64", True)
        return imported

    def skip_reason(self, module: str) -> str:
        """Why a peer's rows are missing."""
        return self.missing.get(module, "not installed")

    def settings(self, *, expensive: bool = False) -> dict[str, Any]:
        """Keyword arguments of :func:`measure` for this mode (expensive calls: one repeat)."""
        if self.quick:
            return {"rounds": 3, "repeats": 1, "min_time": 0.001}
        return {"rounds": 7, "repeats": 1 if expensive else 2, "min_time": 0.02}
