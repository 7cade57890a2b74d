"""Grid verification at 129³: one verified level versus numpy.gradient alone on the same field.

Run: ``python benchmarks/bench_grids.py`` (env N, ROUNDS).  For each field it prints median ms of

* ``numpy.gradient``: the scheme alone, on a field sampled beforehand;
* ``one level``: what verify_grid does per level: sample f and its exact gradient, apply
  numpy.gradient, inner products for the diagnostics, interior and boundary L1/L2/L∞;
* ``verify_grid (65, 129)``: the public call on two levels, compiled functions cached (steady
  state), diagnostics and verdicts included;

and each ratio to numpy.gradient, measured in the same run.  Target: one level within
a few times numpy.gradient.  The separable field profits from broadcasting evaluation
(``exp(y/2)`` is computed on N values, not N³); the non-separable one shows the general case.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import table, time_round_robin

from symgrad.grids import _verify as grids

FIELDS = {
    "separable": "sin(x + 0.3)*exp(y/2)*cos(z)",
    "non-separable": "sin(x*y + z)*exp(x*z/2)",
}
DOMAIN = "x=-1:1,y=-1:1,z=-1:1"


def methods(expr: str, n: int) -> dict[str, Callable[[], object]]:
    """The three timed calls for one field, sharing one setup and compiled model.

    The per-level hot path is private to symgrad.grids; timing it is the point of this file.
    """
    setup = grids._verify_grid_iv(
        expr, DOMAIN, (n // 2 + 1, n), "numpy", None, None, None, "float64", None, None
    )
    model = grids._field_model(setup.expr, setup.symbols)
    level = setup.levels[-1]
    field = grids._sample(model, level)[0]
    return {
        "numpy.gradient": lambda: np.gradient(field, *level.spacings),
        "one level": lambda: grids._measure(setup, model, level),
        f"verify_grid ({n // 2 + 1}, {n})": lambda: grids.verify_grid(
            expr, DOMAIN, (n // 2 + 1, n)
        ),
    }


def main() -> None:
    n = int(os.environ.get("N", "129"))
    rounds = int(os.environ.get("ROUNDS", "7"))
    rows = [["field", "method", "median ms", "ratio to numpy.gradient"]]
    for label, expr in FIELDS.items():
        timed = methods(expr, n)
        medians = time_round_robin(timed, rounds)
        base = medians["numpy.gradient"]
        for name, seconds in medians.items():
            rows.append([label, name, f"{seconds * 1e3:.1f}", f"{seconds / base:.2f}"])
    print(f"grid verification, {n}^3 points per level, {rounds} rounds (round robin)")
    print(table(rows))


if __name__ == "__main__":
    main()
