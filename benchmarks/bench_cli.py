"""Latency of the ``symgrad`` command, as ratios to a bare ``python -c pass`` in the same run.

Run: ``python benchmarks/bench_cli.py [--quick]`` (or as part of ``run.py``).  Each command is a
fresh process (the installed ``symgrad`` script next to this interpreter, else
``python -m symgrad``), run round-robin with ``python -c pass`` — ten runs each, the median kept:

* ``symgrad --help``;
* ``symgrad grad "x**2+y"`` (not in quick mode);
* the README's ``symgrad report "sin(x+y)*exp(-z**2)" --at x=0.3,y=0.7,z=0.5 --output
  report.html``, written into a temporary directory (not in quick mode).

Every command must exit with 0.  The table gives the median seconds, the ratio to ``python -c
pass`` and the seconds above it (what symgrad itself costs).  The commands run as on an installed
symgrad: Python may write and read its bytecode cache (``PYTHONDONTWRITEBYTECODE`` is removed
from their environment, and each command runs once untimed first), since an interpreter that
compiles every module from source on each start measures the compiler, not symgrad.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Run, measure, table

BASE = "python -c pass"


def symgrad_command() -> list[str]:
    """The installed console script if there is one next to this Python, else ``-m symgrad``."""
    script = Path(sys.executable).with_name("symgrad")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "symgrad"]


#: The commands' environment: this one, with Python's bytecode cache allowed.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def launcher(argv: list[str], cwd: str) -> Callable[[], object]:
    def launch() -> object:
        proc = subprocess.run(argv, capture_output=True, check=False, cwd=cwd, env=ENV)
        if proc.returncode != 0:
            msg = f"{' '.join(argv)} exited with {proc.returncode}: {proc.stderr.decode()[-300:]}"
            raise RuntimeError(msg)
        return proc

    return launch


def main(run: Run) -> None:
    sec = run.section("cli", "CLI latency (fresh process each run; ratios to python -c pass)")
    cmd = symgrad_command()
    commands = {
        BASE: [sys.executable, "-c", "pass"],
        "symgrad --help": [*cmd, "--help"],
    }
    if not run.quick:
        commands['symgrad grad "x**2+y"'] = [*cmd, "grad", "x**2+y"]
        commands["README report"] = [
            *cmd, "report", "sin(x+y)*exp(-z**2)", "--at", "x=0.3,y=0.7,z=0.5",
            "--output", "report.html",
        ]  # fmt: skip
    sec.notes.append(f"symgrad command: {' '.join(cmd)}")
    case = "latency"
    with tempfile.TemporaryDirectory() as tmp:
        methods = {name: launcher(argv, tmp) for name, argv in commands.items()}
        print(f"  {', '.join(commands)}", flush=True)
        for launch in methods.values():  # untimed: writes the bytecode caches
            launch()
        rounds = 3 if run.quick else 10
        timings = measure(methods, rounds=rounds, repeats=1, warmup=False)
    sec.record_all(case, timings)
    base = timings[BASE].median_s
    rows = [["command", "median s", "ratio to python -c pass", "above it s"]]
    for name, timing in timings.items():
        ratio = sec.ratio(case, name, BASE) if name != BASE else 1.0
        rows.append(
            [name, f"{timing.median_s:.3f}", f"{ratio:.2f}", f"{timing.median_s - base:.3f}"]
        )
    print(table(rows))


if __name__ == "__main__":
    main(Run(quick="--quick" in sys.argv))
