"""Checks: the symbolic derivative against the finite-difference referee, per point and per gradient.

``check`` compares exact, referee and float64 values at points; ``check_gradient`` judges a
user's gradient code; ``taylor_test`` is the Taylor-remainder test.

Everything listed in ``__all__`` is public; the underscore modules are private.
"""

from symgrad.checks._gradient import EntryCheck, GradientCheckResult, check_gradient
from symgrad.checks._point import check
from symgrad.checks._results import (
    RANK,
    TOLERANCES,
    CheckResult,
    ComponentCheck,
    PointCheck,
    Tolerances,
    json_float,
    mp_text,
    point_text,
    short,
)
from symgrad.checks._taylor import TaylorResult, taylor_test

__all__ = [
    "RANK",
    "TOLERANCES",
    "CheckResult",
    "ComponentCheck",
    "EntryCheck",
    "GradientCheckResult",
    "PointCheck",
    "TaylorResult",
    "Tolerances",
    "check",
    "check_gradient",
    "json_float",
    "mp_text",
    "point_text",
    "short",
    "taylor_test",
]
