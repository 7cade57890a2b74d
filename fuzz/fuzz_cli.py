"""Fuzz the whole ``symgrad`` command line in-process: many random command lines, one contract.

Run from the repository root (in chunks, niced: each invocation computes for real)::

    nice -n 19 python fuzz/fuzz_cli.py --count 2500 --seed 1

The command lines come from ``tests/test_cli_hardening.py`` (``random_argv``): every command and
option, including ``steps --answer``, ``steps --implicit``, ``--style``, ``--isolate`` and
``--max-memory``, values sane or hostile, files that are directories, pipes or a user's own.
Each runs through :func:`symgrad.cli.main` with warnings turned into errors, as the test suite
does, and is judged by ``judge``: exit 0, 1 or 2, never an exception, exit 2 exactly one line on
stderr and nothing on stdout, no traceback.  Every breach is printed as one JSON line
(``{"argv": [...], "finding": "..."}``); the last line counts the invocations and findings.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.test_cli_hardening import fuzz_workspace, judge, random_argv


def fuzz(count: int, seed: int) -> int:
    """Run ``count`` command lines from ``seed``; return the number of findings."""
    rng = random.Random(seed)
    findings = 0
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as workspace, warnings.catch_warnings():
        warnings.simplefilter("error")
        here = Path.cwd()
        try:
            os.chdir(workspace)
            for _ in range(count):
                fuzz_workspace(Path(workspace))
                argv = random_argv(rng)
                finding = judge(argv)
                if finding is not None:
                    findings += 1
                    sys.stdout.write(json.dumps({"argv": argv, "finding": finding}) + "\n")
                    sys.stdout.flush()
        finally:
            os.chdir(here)
    seconds = time.monotonic() - start
    summary = {"invocations": count, "seed": seed, "findings": findings, "seconds": round(seconds)}
    sys.stdout.write(json.dumps(summary) + "\n")
    return findings


def main() -> int:
    options = argparse.ArgumentParser(prog="fuzz_cli.py", description=__doc__.splitlines()[0])
    options.add_argument("--count", type=int, default=1000)
    options.add_argument("--seed", type=int, default=0)
    args = options.parse_args()
    return 1 if fuzz(args.count, args.seed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
