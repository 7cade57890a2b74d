"""Known derivatives, typed by hand: the independent reference for the symbolic pipeline.

Each case gives an expression as text, its variables, the hand-derived partial derivatives as
functions of a private mpmath context (so they can be evaluated at any precision), and points
inside the domain.  Nothing here is computed by symgrad.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Partial = Callable[..., Any]


@dataclass(frozen=True)
class Case:
    """One row of the reference table."""

    name: str
    expr: str
    variables: tuple[str, ...]
    partials: tuple[Partial, ...]
    points: tuple[tuple[str, ...], ...]


CASES = [
    Case(
        "potential",
        "2*x**2 + 3*y**2 - 4*z",
        ("x", "y", "z"),
        (lambda c, x, y, z: 4 * x, lambda c, x, y, z: 6 * y, lambda c, x, y, z: c.mpf(-4)),
        (("0.3", "0.7", "0.5"), ("-100", "25", "3")),
    ),
    Case(
        "sin_sum_gauss",
        "sin(x+y)*exp(-z^2)",
        ("x", "y", "z"),
        (
            lambda c, x, y, z: c.cos(x + y) * c.exp(-(z**2)),
            lambda c, x, y, z: c.cos(x + y) * c.exp(-(z**2)),
            lambda c, x, y, z: -2 * z * c.sin(x + y) * c.exp(-(z**2)),
        ),
        (("0.3", "0.7", "0.5"), ("-1.25", "0.125", "1.5")),
    ),
    Case(
        "product_rule",
        "x**2*sin(x)",
        ("x",),
        (lambda c, x: 2 * x * c.sin(x) + x**2 * c.cos(x),),
        (("0.3",), ("2.5",), ("-7",)),
    ),
    Case(
        "quotient",
        "exp(x)/sqrt(sin(x)**3 + cos(x)**3)",
        ("x",),
        (
            lambda c, x: (
                c.exp(x) / c.sqrt(c.sin(x) ** 3 + c.cos(x) ** 3)
                - c.exp(x)
                * (3 * c.sin(x) ** 2 * c.cos(x) - 3 * c.cos(x) ** 2 * c.sin(x))
                / (2 * (c.sin(x) ** 3 + c.cos(x) ** 3) ** c.mpf(1.5))
            ),
        ),
        (("1.5",), ("0.25",)),
    ),
    Case(
        "log_atan2",
        "log(x**2 + y**2) + atan2(y, x)",
        ("x", "y"),
        (
            lambda c, x, y: (2 * x - y) / (x**2 + y**2),
            lambda c, x, y: (2 * y + x) / (x**2 + y**2),
        ),
        (("0.3", "0.7"), ("-2", "0.5")),
    ),
    Case(
        "inverse_hyperbolic",
        "asinh(x)*atanh(y) + acos(y)",
        ("x", "y"),
        (
            lambda c, x, y: c.atanh(y) / c.sqrt(1 + x**2),
            lambda c, x, y: c.asinh(x) / (1 - y**2) - 1 / c.sqrt(1 - y**2),
        ),
        (("0.3", "0.7"), ("-2", "0.5")),
    ),
    Case(
        "power_tower",
        "x^x",
        ("x",),
        (lambda c, x: x**x * (c.log(x) + 1),),
        (("0.5",), ("2.25",)),
    ),
    Case(
        "rosenbrock",
        "100*(y-x^2)^2 + (1-x)^2",
        ("x", "y"),
        (
            lambda c, x, y: -400 * x * (y - x**2) - 2 * (1 - x),
            lambda c, x, y: 200 * (y - x**2),
        ),
        (("1", "1"), ("-1.2", "1"), ("0.3", "0.7")),
    ),
    Case(
        "abs_and_max",
        "abs(x)*y + max(x, y)",
        ("x", "y"),
        (
            lambda c, x, y: c.sign(x) * y + (1 if x > y else 0),
            lambda c, x, y: abs(x) + (1 if y > x else 0),
        ),
        (("0.3", "0.7"), ("-2", "-3")),
    ),
    Case(
        "tangent_and_logs",
        "tan(x) + ln(y) + log(y, 2) + log10(x)",
        ("x", "y"),
        (
            lambda c, x, y: 1 / c.cos(x) ** 2 + 1 / (x * c.log(10)),
            lambda c, x, y: 1 / y + 1 / (y * c.log(2)),
        ),
        (("0.3", "0.7"), ("1.25", "4")),
    ),
]
