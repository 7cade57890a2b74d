"""symgrad against its peers, one command: ``python benchmarks/run.py [--quick] [--json PATH]``.

Every comparison is a ratio of two medians measured round-robin in this one run (see
``common.py``), printed as tables and written as JSON with the environment (versions, CPU count,
date, load).  Sections (``--only`` picks some):

1. ``build``: gradient + Hessian of Rosenbrock and a dense quadratic form, vs symengine alone,
   SymPy lambdify (+cse) and JAX's compilation, with growth exponents;
2. ``eval``: gradient evaluation at 10³…10⁶ points vs hand-written NumPy, lambdify, symengine,
   numexpr and jitted JAX; the dense gradient for N = 25…200 and its growth exponent;
3. ``precision``: 50-digit gradients per second vs ``mpmath.diff``, a python-flint arb stencil
   and float64 tools (scipy.differentiate, numdifftools, findiff, numpy.gradient); repeated in a
   child process with python-flint hidden (section ``precision_no_flint``);
4. ``check``: ``symgrad.check`` on Rosenbrock for N = 10…80 and its growth exponent;
5. ``cli``: ``symgrad --help``, ``grad`` and the README's ``report`` against ``python -c pass``;
6. ``executors``: ``convergence`` and ``verify_grid`` serial vs ``ProcessPoolExecutor(2)``.

Peers are optional: a missing one prints "not installed" and its rows are skipped
(``--no-peers`` skips them all).  The full run takes about 10–15 minutes on two cores,
``--quick`` (tiny sizes, 3 rounds) well under a minute.  NumPy's BLAS, numexpr and JAX
run one thread each unless ``--threads`` says otherwise.  The "targets" of the JSON compare the
measured ratios, rates and exponents with the performance goals.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from importlib import metadata
from pathlib import Path
from typing import Any

os.environ.setdefault("JAX_PLATFORMS", "cpu")  # no accelerator probing (and its warnings)


def _pin_threads(argv: list[str]) -> str:
    """``--threads N`` (default 1), set before NumPy, numexpr or JAX is imported.

    One thread each by default: on a small shared machine a library that starts a thread per
    core is at the mercy of the other processes' load, and the comparison becomes one of
    schedulers; ``--threads 0`` leaves every library its own default.
    """
    threads = argv[argv.index("--threads") + 1] if "--threads" in argv else "1"
    if threads != "0":
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMEXPR_NUM_THREADS", "NUMEXPR_MAX_THREADS"):  # fmt: skip
            os.environ[var] = threads
        if threads == "1":
            flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_cpu_multi_thread_eigen=false"
            os.environ["XLA_FLAGS"] = flags.strip()
    return threads


THREADS = _pin_threads(sys.argv) if __name__ == "__main__" else "0"
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_build
import bench_check
import bench_cli
import bench_eval
import bench_executors
import bench_precision
from common import Run, Section, table

import symgrad

SECTIONS = ("build", "eval", "precision", "check", "cli", "executors")
PACKAGES = ("symgrad", "numpy", "sympy", "mpmath", "gmpy2", "symengine", "numexpr",
            "python-flint", "scipy", "jax", "jaxlib", "numdifftools", "findiff", "matplotlib",
            "dask")  # fmt: skip


def environment(quick: bool) -> dict[str, Any]:
    """Versions, CPU count, date, load and the commit of the symgrad being measured."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    source = Path(symgrad.__file__).resolve().parent.parent
    commit = subprocess.run(
        ["git", "-C", str(source), "rev-parse", "--short", "HEAD"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    dirty = subprocess.run(
        ["git", "-C", str(source), "status", "--porcelain", "symgrad"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average_start": list(os.getloadavg()),
        "symgrad_source": str(source),
        "git_commit": commit or None,
        "symgrad_tree_modified": bool(dirty),
        "versions": versions,
        "threads_per_library": THREADS,
    }


def precision_without_flint(run: Run) -> None:
    """The precision section again, in a child process where python-flint cannot be imported."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "child.json"
        argv = [
            sys.executable,
            str(HERE / "bench_precision.py"),
            "--no-flint",
            "--child-json",
            str(out),
        ]
        argv += ["--quick"] * run.quick + ["--no-peers"] * (not run.use_peers)
        subprocess.run(argv, check=True)
        data = json.loads(out.read_text(encoding="utf-8"))
    run.sections["precision_no_flint"] = Section(**data)


RUNNERS = {
    "build": bench_build.main,
    "eval": bench_eval.main,
    "precision": lambda run: (bench_precision.main(run), precision_without_flint(run)),
    "check": bench_check.main,
    "cli": bench_cli.main,
    "executors": bench_executors.main,
}

# (goal, section, kind, case, numerator, denominator or threshold-only, threshold, better)
TARGETS: list[tuple[str, str, str, str, str, str, float, str]] = [
    ("build gradient+Hessian, Rosenbrock N=100: symgrad / symengine <= 2", "build", "ratio",
     "rosenbrock N=100", "symgrad", "symengine", 2.0, "below"),
    ("dense N=200 gradient evaluation: symgrad / symengine <= 1.5", "eval", "ratio",
     "dense N=200 at 10000 points", "symgrad", "symengine", 1.5, "below"),
    ("dense gradient evaluation growth exponent in N <= 1.2", "eval", "growth",
     "dense evaluation", "symgrad", "", 1.2, "below"),
    ("certified 50-digit gradients (python-flint) >= 30,000/s", "precision", "rate",
     "50 digits", "symgrad certified", "", 30_000, "above"),
    ("error-controlled 50-digit gradients without python-flint >= 2,500/s",
     "precision_no_flint", "rate", "50 digits", "symgrad default", "", 2_500, "above"),
    # the same two goals as ratios within the run: where they were set, python-flint's plain
    # stencil ran at 61,000/s and mpmath.diff at 7,780/s (30,000 and 2,500 are 1/2.03 and 1/3.11)
    ("certified 50-digit gradients: time / python-flint plain stencil's <= 2.03", "precision",
     "ratio", "50 digits", "symgrad certified", "flint arb plain stencil", 61 / 30, "below"),
    ("error-controlled without python-flint: time / mpmath.diff's <= 3.11",
     "precision_no_flint", "ratio", "50 digits", "symgrad default", "mpmath.diff", 7780 / 2500,
     "below"),
    ("gradient at 10^3 points: symgrad / JAX jitted <= 2", "eval", "ratio",
     "f3 at 1000 points", "symgrad", "jax", 2.0, "below"),
    ("check growth exponent in N (Rosenbrock) <= 1.1", "check", "growth",
     "rosenbrock check", "symgrad check", "", 1.1, "below"),
    ("symgrad --help < 0.15 s", "cli", "seconds", "latency", "symgrad --help", "", 0.15, "below"),
    ('symgrad grad < 0.5 s', "cli", "seconds", "latency", 'symgrad grad "x**2+y"', "", 0.5,
     "below"),
    ("README report < 1 s", "cli", "seconds", "latency", "README report", "", 1.0, "below"),
]  # fmt: skip


def _value(sec: Section, kind: str, case: str, num: str, den: str) -> float | None:
    if kind == "ratio":
        return sec.get_ratio(case, num, den)
    if kind == "growth":
        found = [g["exponent"] for g in sec.growth if g["family"] == case and g["method"] == num]
        return float(found[0]) if found else None
    seconds = sec.median(case, num)
    if seconds is None:
        return None
    return 1 / seconds if kind == "rate" else seconds


def _meets(value: float, threshold: float, better: str) -> bool:
    return value <= threshold if better == "below" else value >= threshold


def targets(run: Run) -> list[dict[str, Any]]:
    """Each goal with the value measured in this run; ``met`` is None when not measured here.

    Quick mode measures other sizes with fewer rounds, so it judges no goal.
    """
    out = []
    for goal, key, kind, case, num, den, threshold, better in TARGETS:
        sec = run.sections.get(key)
        value = None if sec is None else _value(sec, kind, case, num, den)
        met = None if value is None or run.quick else _meets(value, threshold, better)
        entry = {"target": goal, "section": key, "kind": kind, "value": value,
                 "threshold": threshold, "met": met}  # fmt: skip
        if key == "cli" and sec is not None:  # the goal in seconds, the measurement as a ratio
            entry["ratio_to_python_pass"] = sec.get_ratio(case, num, bench_cli.BASE)
        out.append(entry)
    executors = run.sections.get("executors")
    if executors is not None:
        equal = [m["results_equal"] for m in executors.measurements.values()]
        out.append({"target": "executor results equal the serial ones", "section": "executors",
                    "kind": "equal", "value": all(equal) if equal else None, "threshold": None,
                    "met": all(equal) if equal and not run.quick else None})  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 3 rounds (smoke test)")
    parser.add_argument("--json", type=Path, help="write every measurement to this JSON file")
    parser.add_argument("--no-peers", action="store_true", help="skip every optional peer")
    parser.add_argument("--only", help=f"comma-separated sections of {','.join(SECTIONS)}")
    parser.add_argument(
        "--threads", default="1", help="threads per library (default 1; 0: the libraries' own)"
    )
    args = parser.parse_args(argv)
    chosen = args.only.split(",") if args.only else list(SECTIONS)
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    run = Run(quick=args.quick, use_peers=not args.no_peers)
    env = environment(args.quick)
    print(f"symgrad {env['versions']['symgrad']} ({env['git_commit']}) on {env['cpu_count']} CPUs, "
          f"{env['date']}, {env['mode']} mode")  # fmt: skip
    start = time.perf_counter()
    failures: dict[str, str] = {}
    for key in chosen:
        begun = time.perf_counter()
        try:
            RUNNERS[key](run)
        except Exception:  # noqa: BLE001 - one broken section must not lose the others' data
            failures[key] = traceback.format_exc()
            print(failures[key], file=sys.stderr, flush=True)
        print(f"({key}: {time.perf_counter() - begun:.0f} s)", flush=True)
    env["seconds"] = round(time.perf_counter() - start, 1)
    env["load_average_end"] = list(os.getloadavg())
    env["missing_peers"] = run.missing
    env["failed_sections"] = failures
    goals = targets(run)
    rows = [["target", "value", "met"]]
    for g in goals:
        value = g["value"]
        value = "-" if value is None else str(value) if isinstance(value, bool) else f"{value:.3g}"
        rows.append(
            [g["target"], value, {True: "met", False: "NOT met", None: "not measured"}[g["met"]]]
        )
    print("\n== Targets\n" + table(rows))
    if args.json:
        document = {
            "environment": env,
            "sections": {key: vars(sec) for key, sec in run.sections.items()},
            "targets": goals,
        }
        args.json.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
