"""Precision as a parameter: validated digit counts and private per-thread mpmath contexts.

symgrad never reads or writes ``mpmath.mp``.  Every arbitrary-precision computation takes its
digits as an argument and works in a private ``mpmath.MPContext``; contexts are not safe to share
between threads (some functions raise the working precision temporarily), so each thread keeps
its own, one per precision, created once and never re-configured.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

import mpmath

from symgrad.errors import ConfigError, LimitExceeded

__all__ = [
    "EPS",
    "MAX_DPS",
    "MAX_WORK_DPS",
    "MIN_DPS",
    "check_dps",
    "mp_context",
    "round_to",
    "thread_context",
]

#: float64 machine epsilon, 2**-52: the one spelling of it in symgrad
EPS = sys.float_info.epsilon  # (Python floats are float64; NumPy is not imported for it)
MIN_DPS = 15
MAX_DPS = 1000
#: Working digits that certified exact values may use to prove ``dps`` digits through cancellation
#: (a formula such as ``(1 - cos(x))/x**2`` at x = 1e-300 loses 600 digits before it shows one).
MAX_WORK_DPS = 4 * MAX_DPS


def check_dps(dps: object) -> int:
    """Validate a requested precision in decimal digits (an integer in [15, 1000])."""
    import numpy as np  # noqa: PLC0415 - parsing and differentiating never load NumPy

    if isinstance(dps, bool) or not isinstance(dps, int | np.integer):
        msg = f"dps must be an integer number of decimal digits (got {dps!r})"
        raise ConfigError(msg)
    if not MIN_DPS <= dps <= MAX_DPS:
        msg = f"dps must be between {MIN_DPS} and {MAX_DPS} (got {dps}); choose e.g. dps=50"
        raise LimitExceeded(msg, limit="precision_too_high", value=int(dps), allowed=MAX_DPS)
    return int(dps)


def mp_context(dps: int) -> Any:
    """A fresh private mpmath context working at ``dps`` decimal digits."""
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


_THREAD = threading.local()


def round_to(ctx: Any, value: Any) -> Any:
    """``value`` rounded to ``ctx``'s precision (``convert`` alone would keep every bit)."""
    if hasattr(value, "_mpc_"):
        return ctx.mpc(value)
    if hasattr(value, "_mpf_"):
        return ctx.mpf(value)
    return ctx.convert(value)


def thread_context(dps: int) -> Any:
    """This thread's private context at ``dps`` digits (created once, never re-configured)."""
    contexts: dict[int, Any] = _THREAD.__dict__.setdefault("contexts", {})
    if dps not in contexts:
        contexts[dps] = mp_context(dps)
    return contexts[dps]
