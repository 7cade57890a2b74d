"""Seconds to refuse hostile input: each catalogued denial-of-service text vs parsing ``x + 1``.

Run: ``python benchmarks/bench_refusal.py``.  The texts are the catalogue of
``tests/test_security.py`` (which asserts the *work* of each refusal, counted in SymPy calls);
here each is timed round-robin next to parsing a trivial expression, and the ratio printed.  The
security target is a refusal in well under half a second on an idle machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from common import table, time_round_robin
from test_security import DOS

from symgrad.errors import SymgradError
from symgrad.expr import parse


def refuse(text: str) -> None:
    try:
        parse(text)
    except SymgradError:
        return
    msg = f"accepted: {text[:40]!r}"
    raise AssertionError(msg)


def main() -> None:
    rows = [["input", "refusal ms", "x + 1 ms", "ratio"]]
    worst = 0.0
    for param in DOS:
        text = param.values[0]
        times = time_round_robin(
            {"refusal": lambda t=text: refuse(t), "baseline": lambda: parse("x + 1")}, rounds=5
        )
        worst = max(worst, times["refusal"])
        ratio = times["refusal"] / times["baseline"]
        rows.append(
            [
                str(param.id),
                f"{1e3 * times['refusal']:.2f}",
                f"{1e3 * times['baseline']:.3f}",
                f"{ratio:.1f}",
            ]
        )
    print(table(rows))
    print(f"slowest refusal: {1e3 * worst:.1f} ms")


if __name__ == "__main__":
    main()
