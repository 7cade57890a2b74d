"""Results of point cross-checks: per component, per point, overall; and the tolerance table.

:class:`CheckResult` is what :func:`symgrad.checks._point` returns: one :class:`PointCheck` per point,
each holding one :class:`ComponentCheck` per derivative entry, rendered from one table as text,
Markdown and HTML.  The number formatting here is shared with :mod:`symgrad.checks._gradient`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from symgrad._precision import thread_context
from symgrad.results import PointStatus, Status, TableResult, combine

__all__ = [
    "RANK",
    "TOLERANCES",
    "CheckResult",
    "ComponentCheck",
    "PointCheck",
    "Tolerances",
    "json_float",
    "mp_text",
    "point_text",
    "short",
]


@dataclass(frozen=True)
class Tolerances:
    """Every tolerance of the checks in one table: :func:`check`, check_gradient, taylor_test."""

    fd_safety: float = 10.0  # κ: trust the referee's a-posteriori error estimate up to this factor
    digits_lost: int = 3  # precision floor of a component: 10^-(dps - 3) · scale
    resolution_digits: int = 2  # check: a pass needs tol <= 10^-(dps/this) · |exact|
    gradient_rtol: float = 1e-8  # check_gradient: default relative tolerance
    floor_safety: float = 4.0  # check_gradient: floor = this × the entry's running error bound
    resolve: float = 1e-3  # check_gradient: floor > this × |exact|: the entry is undecided
    exact_dps: int = 20  # check_gradient: correct digits of the exact reference (float64: 17)
    taylor_band: float = 0.2  # taylor_test: an order within this of 2 passes, of 1 fails
    taylor_floor: float = 1e3  # taylor_test: remainders below this × ε·|f| are round-off
    taylor_fit: int = 4  # taylor_test: fit the order over this many smallest steps above the floor
    taylor_reach: float = 1e-2  # taylor_test: exact needs a step moving x0 this much of max(1,|x0|)
    taylor_local: float = 1.0  # taylor_test: fit only steps moving x0 at most this × max(1,|x0|)
    taylor_span: float = 4.0  # taylor_test: the fitted steps must span at least this factor


TOLERANCES = Tolerances()

_KINDS = ("gradient", "hessian", "jacobian")
RANK = {Status.FAIL: 3, Status.INCONCLUSIVE: 2, Status.PASS: 1, Status.EXACT: 0}


@dataclass(frozen=True)
class ComponentCheck:
    """One component at one point.

    ``variable`` names the partial: ``"x"`` (gradient), ``"x,y"`` (Hessian, row variable first),
    ``"f2/x"`` (Jacobian row 2, counted from 1), ``"x,x,y"`` (one partial); ``label`` reads
    ``"d/dx"``, ``"d2/dxdy"``, ``"df2/dx"``, ``"d3/dx2dy"``.  Exact quantities are mpmath numbers
    (None when undefined), float64 ones floats (NaN when undefined); ``left`` and ``right`` are
    the one-sided derivatives when the kink probe ran.  ``point_status`` is a
    :class:`symgrad.results.PointStatus` (its text, ``"ok"``, is accepted and converted).
    """

    variable: str
    label: str
    point_status: PointStatus
    reason: str
    symbolic: Any = None
    finite_difference: Any = None
    error_estimate: Any = None
    abs_error: Any = None
    rel_error: Any = None
    tolerance: Any = None
    float64: float = math.nan
    float64_ulp_error: float = math.nan
    left: Any = None
    right: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "point_status", PointStatus(self.point_status))

    @property
    def status(self) -> Status:
        """pass for ``ok``, fail for ``mismatch``, inconclusive for every other point status."""
        return self.point_status.verdict

    @property
    def badness(self) -> float:
        """abs_error / tolerance (0 when not compared): how near the component is to failing."""
        if self.abs_error is None or self.tolerance is None:
            return 0.0
        return float(self.abs_error / self.tolerance) if self.tolerance else math.inf

    def to_dict(self, dps: int) -> dict[str, Any]:
        """The documented component keys (docs/reference/json.md) plus ``point_status``, ``reason``, ``left``, ``right``.

        Values are strings of ``dps`` digits, errors of 6; float64 quantities are JSON numbers;
        anything undefined (None, NaN, infinite) is null.
        """
        return {
            "variable": self.variable,
            "symbolic": mp_text(self.symbolic, dps),
            "finite_difference": mp_text(self.finite_difference, dps),
            "abs_error": mp_text(self.abs_error, 6),
            "rel_error": mp_text(self.rel_error, 6),
            "float64": json_float(self.float64),
            "float64_ulp_error": json_float(self.float64_ulp_error),
            "status": str(self.status),
            "point_status": self.point_status.value,
            "reason": self.reason,
            "left": mp_text(self.left, dps),
            "right": mp_text(self.right, dps),
        }


@dataclass(frozen=True)
class PointCheck:
    """Every component at one point; ``point`` maps variable names to exact decimal strings."""

    point: dict[str, str]
    components: tuple[ComponentCheck, ...]

    @property
    def status(self) -> Status:
        """The components' verdicts combined."""
        return combine(c.status for c in self.components)

    @property
    def worst(self) -> ComponentCheck:
        """The component deciding the verdict (then the one nearest its tolerance)."""
        return max(self.components, key=lambda c: (RANK[c.status], c.badness))

    def to_dict(self, dps: int, scheme: str) -> dict[str, Any]:
        """the documented ``check`` keys (docs/reference/json.md) for this point."""
        worst = self.worst
        return {
            "status": str(self.status),
            "reason": f"{worst.label}: {worst.reason}",
            "dps": dps,
            "scheme": scheme,
            "point": dict(self.point),
            "components": [c.to_dict(dps) for c in self.components],
        }


@dataclass(frozen=True)
class CheckResult(TableResult):
    """What :func:`check` returns: one :class:`PointCheck` per point and the overall verdict.

    ``to_dict()`` has the documented ``check`` keys (docs/reference/json.md); with several points they describe the *worst*
    point (the one deciding the verdict) and ``"points"`` lists every point in the order given.
    """

    status: Status
    reason: str
    dps: int
    scheme: str
    kind: str
    expression: str
    points: tuple[PointCheck, ...] = field(repr=False)

    @property
    def worst(self) -> PointCheck:
        """The point deciding the verdict."""
        return max(self.points, key=lambda p: (RANK[p.status], p.worst.badness))

    @property
    def components(self) -> tuple[ComponentCheck, ...]:
        """The components at the worst point (at the only point, usually)."""
        return self.worst.components

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (see the class docstring)."""
        data = self.worst.to_dict(self.dps, self.scheme) | {"status": str(self.status)}
        data["reason"] = self.reason
        if len(self.points) > 1:
            data["points"] = [p.to_dict(self.dps, self.scheme) for p in self.points]
        return data

    def _title(self) -> str:
        return f"check of the {self.kind} of {self.expression} (dps {self.dps}, {self.scheme})"

    def _table(self) -> tuple[list[str], list[list[str]]]:
        head = ["point", "component", "point status", "symbolic", "finite difference"]
        head += ["abs error", "rel error", "float64", "float64 ulps"]
        rows = [
            [point_text(p.point), c.label, c.point_status.value]
            + [mp_text(v, 17) or "-" for v in (c.symbolic, c.finite_difference)]
            + [mp_text(v, 3) or "-" for v in (c.abs_error, c.rel_error)]
            + [f"{c.float64:.17g}", f"{c.float64_ulp_error:.3g}"]
            for p in self.points
            for c in p.components
        ]
        return head, rows

    def _notes(self) -> list[str]:
        comps = [
            c for p in self.points for c in p.components if c.point_status is not PointStatus.OK
        ]
        return [f"{c.label} ({c.point_status.value}): {c.reason}" for c in comps]


# -- number formatting, shared with symgrad.check_gradient -------------------------------------


def mp_text(value: Any, digits: int) -> str | None:
    """A number as a decimal string of ``digits`` significant digits; None when undefined."""
    if value is None:
        return None
    if isinstance(value, float | int):
        return repr(float(value)) if math.isfinite(value) else None
    ctx = thread_context(max(digits, 15))
    if not ctx.isfinite(value):
        return None
    text = str(ctx.nstr(value, digits, min_fixed=-5, max_fixed=digits)).replace(".0e", "e")
    return text.removesuffix(".0")


def short(value: Any, digits: int = 6) -> str:
    """A number for sentences: ``-1``, ``0.09``, ``1.97007e+434``, ``5.0e-1200``.

    Numbers beyond float range (above it, or so small that they would print as 0) keep their
    exponent.
    """
    if value is None:
        return "undefined"
    number = float(value)
    if not value or (math.isfinite(number) and number):
        return f"{number:.{digits}g}"
    return str(thread_context(15).nstr(value, digits))


def json_float(value: float) -> float | None:
    """A float for JSON: NaN and infinities become None (null)."""
    return float(value) if math.isfinite(value) else None


def point_text(point: Mapping[str, str]) -> str:
    """``x=0.3, y=0.7`` for display (exact decimals longer than 17 characters cut to 15 digits)."""
    cut = {
        k: v if len(v) <= 17 else mp_text(thread_context(15).mpf(v), 15) for k, v in point.items()
    }
    return ", ".join(f"{k}={v}" for k, v in cut.items())
