"""Vectorized gradient evaluation at 10**6 points: symgrad vs careful hand-written NumPy.

Run: ``python benchmarks/bench_gradient.py`` (env NPTS, ROUNDS).  Prints median ms, the ratio
symgrad / hand-written measured in the same run, and peak extra memory (output included).
Targets: <= 1.1x on the simple expression f2, <= 0.9x on the shared-subexpression f3,
peak extra memory within output size + 32 MiB.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import peak_extra_mib, table, time_round_robin

import symgrad


def hand_f1(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:  # noqa: ARG001
    out = np.empty((3, *x.shape))
    np.multiply(x, 4.0, out=out[0])
    np.multiply(y, 6.0, out=out[1])
    out[2] = -4.0
    return out


def hand_f2(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    out = np.empty((3, *x.shape))
    s = x + y
    e = np.exp(-(z * z))
    np.multiply(np.cos(s), e, out=out[0])
    out[1] = out[0]
    np.sin(s, out=s)
    np.multiply(s, e, out=out[2])
    out[2] *= -2.0 * z
    return out


def hand_f3(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    # f = exp(u)/(1+(x*y*z)**2) + log(1+exp(u)),  u = sin(x*y) + cos(y*z)
    out = np.empty((3, *x.shape))
    xy, yz = x * y, y * z
    xyz = xy * z
    eu = np.exp(np.sin(xy) + np.cos(yz))
    q = 1.0 + xyz * xyz
    a = eu / q  # exp(u)/q
    b = eu / (1.0 + eu)  # d log(1+exp(u)) / du
    dfdu = a + b
    dq = 2.0 * xyz / q * a  # a * (dq/q) / d(xyz) factor
    cxy = np.cos(xy)
    syz = np.sin(yz)
    out[0] = dfdu * (y * cxy) - dq * yz
    out[1] = dfdu * (x * cxy - z * syz) - dq * x * z
    out[2] = dfdu * (-y * syz) - dq * xy
    return out


def hand_f4(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    out = np.empty((3, *x.shape))
    a = y - x * x
    b = z - y * y
    out[0] = -400.0 * x * a - 2.0 * (1.0 - x)
    out[1] = 200.0 * a - 400.0 * y * b - 2.0 * (1.0 - y)
    out[2] = 200.0 * b
    return out


CASES = {
    "f1 2x^2+3y^2-4z": ("2*x**2 + 3*y**2 - 4*z", hand_f1),
    "f2 sin(x+y)exp(-z^2)": ("sin(x+y)*exp(-z**2)", hand_f2),
    "f3 shared subexpressions": (
        "exp(sin(x*y)+cos(y*z))/(1+(x*y*z)**2) + log(1+exp(sin(x*y)+cos(y*z)))",
        hand_f3,
    ),
    "f4 Rosenbrock 3-D": ("100*(y-x**2)**2 + (1-x)**2 + 100*(z-y**2)**2 + (1-y)**2", hand_f4),
}


def main() -> None:
    n = int(os.environ.get("NPTS", "1000000"))
    rounds = int(os.environ.get("ROUNDS", "7"))
    rng = np.random.default_rng(20261125)
    x, y, z = rng.uniform(-1.5, 1.5, (3, n))
    rows = [["expression", "hand ms", "symgrad ms", "ratio", "hand MiB", "symgrad MiB"]]
    for label, (text, hand) in CASES.items():
        g = symgrad.gradient(text)
        np.testing.assert_allclose(g(x, y, z), hand(x, y, z), rtol=1e-12, atol=1e-9)
        times = time_round_robin(
            {"hand": lambda h=hand: h(x, y, z), "symgrad": lambda g=g: g(x, y, z)}, rounds
        )
        mem_hand = peak_extra_mib(lambda h=hand: h(x, y, z))
        mem_sym = peak_extra_mib(lambda g=g: g(x, y, z))
        rows.append(
            [
                label,
                f"{times['hand'] * 1e3:.2f}",
                f"{times['symgrad'] * 1e3:.2f}",
                f"{times['symgrad'] / times['hand']:.2f}",
                f"{mem_hand:.1f}",
                f"{mem_sym:.1f}",
            ]
        )
    print(
        f"gradient at {n} points, median of {rounds} rounds; output = {3 * 8 * n / 2**20:.1f} MiB"
    )
    print(table(rows))


if __name__ == "__main__":
    main()
