"""Start-up latency of the ``symgrad`` command: ``--help``, ``--version`` and a usage error.

Run: ``python benchmarks/bench_startup.py``.  Each command is a fresh interpreter, timed
round-robin next to ``python -c pass`` (the interpreter's own start-up), and the median extra
seconds printed with the modules it imported.  ``--help`` and usage errors import neither SymPy
nor NumPy (tests/test_cli_startup.py asserts that by inspecting ``sys.modules``); this script only
reports the seconds, which depend on the machine and its load.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import table, time_round_robin

COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "symgrad --help": ["-m", "symgrad", "--help"],
    "symgrad --version": ["-m", "symgrad", "--version"],
    "symgrad (usage error)": ["-m", "symgrad", "grad"],
    "import symgrad": ["-c", "import symgrad"],
    "import sympy, numpy": ["-c", "import sympy, numpy"],
}


def launch(args: list[str]) -> None:
    subprocess.run([sys.executable, *args], capture_output=True, check=False)


def main() -> None:
    times = time_round_robin(
        {name: lambda a=args: launch(a) for name, args in COMMANDS.items()}, rounds=7
    )
    base = times["python -c pass"]
    rows = [["command", "median ms", "over python -c pass ms"]]
    rows += [[n, f"{t * 1e3:.0f}", f"{(t - base) * 1e3:.0f}"] for n, t in times.items()]
    print(table(rows))


if __name__ == "__main__":
    main()
