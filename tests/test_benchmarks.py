"""The benchmark suite runs, and every ratio it writes comes from two timings of that same run.

``benchmarks/run.py --quick --no-peers`` is run once in a fresh interpreter (tiny sizes, three
rounds, no optional peer imported).  Nothing here reads a clock: the tests check the JSON's keys,
that each ratio equals the quotient of the two medians it names (both stored in the same
document), that each growth exponent is the least-squares log-log slope of the medians it names
(recomputed here with ``numpy.polyfit``), and that the timing helper makes the calls it claims
(counted, not timed).
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
SECTIONS = {"build", "eval", "precision", "precision_no_flint", "check", "cli", "executors"}
PEER_METHODS = {"symengine", "jax", "numexpr", "flint arb plain stencil", "numdifftools",
                "findiff (7³ grid)", "scipy.differentiate"}  # fmt: skip


def _common() -> ModuleType:
    """benchmarks/common.py (not a package) loaded from its file, once."""
    if "bench_common" in sys.modules:
        return sys.modules["bench_common"]
    spec = importlib.util.spec_from_file_location("bench_common", BENCH / "common.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--quick", "--no-peers", "--json", str(out)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "== Targets" in proc.stdout
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


def test_environment(document: dict[str, Any]) -> None:
    env = document["environment"]
    for key in ("date", "mode", "python", "platform", "cpu_count", "versions", "git_commit"):
        assert key in env, key
    assert env["mode"] == "quick"
    assert env["threads_per_library"] == "1"
    assert env["failed_sections"] == {}
    assert env["cpu_count"] >= 1
    for package in ("symgrad", "numpy", "sympy", "mpmath"):
        assert env["versions"][package], package
    assert set(env["missing_peers"]) >= {"symengine", "jax"}
    assert set(env["missing_peers"].values()) <= {"disabled (--no-peers)", "hidden (--no-flint)"}


def test_every_section_and_measurement(document: dict[str, Any]) -> None:
    assert set(document["sections"]) == SECTIONS
    for key, section in document["sections"].items():
        assert set(section) == {"title", "measurements", "ratios", "growth", "skipped", "notes"}
        if key != "executors":  # measured only where symgrad has an executor= keyword
            assert section["measurements"], key
        for name, m in section["measurements"].items():
            assert name == f"{m['case']} | {m['method']}"
            assert m["median_s"] > 0
            assert m["rounds"] >= 3
            assert m["number"] >= 1
            assert len(m["repeat_medians"]) == m["repeats"]
            assert m["method"] not in PEER_METHODS, name  # --no-peers


def test_ratios_are_quotients_of_the_same_run(document: dict[str, Any]) -> None:
    count = 0
    for section in document["sections"].values():
        measured = section["measurements"]
        for r in section["ratios"]:
            top, bottom = measured[r["numerator"]], measured[r["denominator"]]
            assert r["numerator"] != r["denominator"]
            assert top["case"] == bottom["case"] == r["case"]
            assert math.isclose(r["ratio"], top["median_s"] / bottom["median_s"], rel_tol=1e-12)
            count += 1
    # symgrad vs hand-written NumPy and lambdify, vs mpmath.diff and float64 tools, vs python
    assert count >= 10


def test_growth_exponents_are_log_log_slopes(document: dict[str, Any]) -> None:
    fits = [g for s in document["sections"].values() for g in s["growth"]]
    assert {g["family"] for g in fits} >= {"rosenbrock", "dense", "dense evaluation"}
    for section in document["sections"].values():
        for g in section["growth"]:
            seconds = [section["measurements"][m]["median_s"] for m in g["measurements"]]
            slope = np.polyfit(np.log(g["sizes"]), np.log(seconds), 1)[0]
            assert math.isclose(g["exponent"], slope, rel_tol=1e-9, abs_tol=1e-12)


def test_skipped_rows_say_why(document: dict[str, Any]) -> None:
    skipped = [s for section in document["sections"].values() for s in section["skipped"]]
    assert any(s["method"] == "jax" and s["reason"] == "disabled (--no-peers)" for s in skipped)
    assert all(s["reason"] for s in skipped)


def test_quick_mode_judges_no_target(document: dict[str, Any]) -> None:
    targets = document["targets"]
    assert len(targets) >= 10
    assert all(t["met"] is None for t in targets)


def test_measure_counts_its_calls() -> None:
    common = _common()
    calls = {"a": 0, "b": 0}

    def method(name: str) -> Any:
        def call() -> None:
            calls[name] += 1

        return call

    timings = common.measure(
        {"a": method("a"), "b": method("b")}, rounds=5, repeats=2, min_time=0.0
    )
    # one warm-up call each, then 5 rounds x 2 repeats of one call (min_time 0: one per sample)
    assert calls == {"a": 11, "b": 11}
    assert timings["a"].rounds == 10
    assert len(timings["a"].repeat_medians) == 2


def test_measure_leaves_out_a_method_over_its_cap() -> None:
    common = _common()
    calls = {"slow": 0, "fast": 0}

    def counter(name: str) -> Any:
        return lambda: calls.__setitem__(name, calls[name] + 1)

    dropped: dict[str, float] = {}
    timings = common.measure(
        {"slow": counter("slow"), "fast": counter("fast")},
        rounds=3,
        min_time=0.0,
        cap={"slow": -1.0},  # every call takes longer than -1 s: left out after its warm-up
        dropped=dropped,
    )
    assert set(timings) == {"fast"}
    assert set(dropped) == {"slow"}
    assert calls == {"slow": 1, "fast": 4}
    timings = common.measure({"fast": counter("fast")}, rounds=10, warmup=False)
    assert calls["fast"] == 14  # ten samples of one call, no warm-up
    assert timings["fast"].number == 1


def test_growth_exponent_of_a_power_law() -> None:
    common = _common()
    sizes = [10, 20, 40, 80]
    assert math.isclose(common.growth_exponent(sizes, [3e-3 * n**1.5 for n in sizes]), 1.5)
    assert math.isclose(common.growth_exponent(sizes, [7.0] * 4), 0.0, abs_tol=1e-12)


def test_ratio_of_unmeasured_method_is_none() -> None:
    common = _common()
    sec = common.Section("t")
    timing = common.Timing(median_s=2.0, rounds=7, repeats=1, number=1, repeat_medians=[2.0])
    sec.record("case", "a", timing)
    sec.record("case", "b", common.Timing(0.5, 7, 1, 1, [0.5]))
    assert sec.ratio("case", "a", "b") == 4.0
    assert sec.ratio("case", "a", "missing") is None
    assert sec.ratios == [
        {"case": "case", "numerator": "case | a", "denominator": "case | b", "ratio": 4.0}
    ]
