"""The Taylor-remainder test: is a gradient right when no expression exists?

For a user's function f and gradient g, the remainder r(h) = |f(x0 + h v) − f(x0) − h g(x0)·v|
falls as h² exactly when g is the gradient; a wrong gradient leaves an O(h) term.  The fitted
order over the steps above float64's round-off floor decides.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from symgrad._precision import EPS
from symgrad.checks._results import TOLERANCES, json_float
from symgrad.errors import ConfigError
from symgrad.fd import renamed_keyword
from symgrad.results import Status, TableResult

__all__ = ["TaylorResult", "taylor_test"]

FloatArray = npt.NDArray[np.float64]

# -- the Taylor test ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TaylorResult(TableResult):
    """What :func:`taylor_test` returns: the remainders per step and the observed order.

    ``orders`` are the pairwise orders log(r_i/r_{i+1}) / log(h_i/h_{i+1}) (None where a
    remainder is at the round-off floor); ``observed_order`` is the least-squares slope over the
    smallest steps above the floor (None when fewer than 3 are above it).  ``step_sizes`` are
    the steps h, largest first (``steps`` is their deprecated name).
    """

    status: Status
    reason: str
    step_sizes: tuple[float, ...]
    remainders: tuple[float, ...]
    first_order: tuple[float, ...]
    orders: tuple[float | None, ...]
    observed_order: float | None
    floor: tuple[float, ...]

    @property
    def steps(self) -> tuple[float, ...]:
        """Deprecated name of ``step_sizes`` ("steps" are the teaching steps of symgrad.steps)."""
        msg = "TaylorResult.steps is deprecated; use TaylorResult.step_sizes instead"
        warnings.warn(msg, DeprecationWarning, stacklevel=2)
        return self.step_sizes

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (non-finite numbers as null; the step sizes under ``"steps"``)."""
        return {
            "status": str(self.status),
            "reason": self.reason,
            "steps": list(self.step_sizes),
            "remainders": [json_float(r) for r in self.remainders],
            "first_order_remainders": [json_float(r) for r in self.first_order],
            "orders": [None if o is None else json_float(o) for o in self.orders],
            "observed_order": None
            if self.observed_order is None
            else json_float(self.observed_order),
            "floor": [json_float(f) for f in self.floor],
        }

    def _table(self) -> tuple[list[str], list[list[str]]]:
        orders = ("" if o is None else f"{o:.2f}" for o in (*self.orders, None))
        rows = [
            [f"{h:.3g}", f"{r:.3e}", order, f"{r1:.3e}", "" if r > fl else "round-off"]
            for h, r, r1, fl, order in zip(
                self.step_sizes,
                self.remainders,
                self.first_order,
                self.floor,
                orders,
                strict=False,
            )
        ]
        return ["h", "|f(x+hv) - f(x) - h g.v|", "order", "|f(x+hv) - f(x)|", "note"], rows

    def _title(self) -> str:
        return "taylor_test: the first-order Taylor remainder r(h) against the step h"


def taylor_test(
    f: Callable[[FloatArray], Any],
    grad: Callable[[FloatArray], Any],
    x0: npt.ArrayLike,
    *,
    direction: npt.ArrayLike | None = None,
    step_sizes: npt.ArrayLike | None = None,
    seed: int = 0,
    steps: npt.ArrayLike | None = None,
) -> TaylorResult:
    """Check a gradient without an expression: the first-order Taylor remainder must fall as h².

    ``r(h) = |f(x0 + h v) − f(x0) − h ∇f(x0)·v|`` is O(h²) exactly when ∇f is right; a wrong
    gradient leaves an O(h) term.  ``|f(x0 + h v) − f(x0)|``, which falls as h, is shown for
    contrast.  Remainders below 1e3·ε·|f| are round-off and are left out of the fit.

    Parameters
    ----------
    f, grad : callable
        ``f(x) -> float`` and ``grad(x) -> (n,)`` for ``x`` of shape ``(n,)`` (as optimizers call
        them).
    x0 : array_like
        The point.
    direction : array_like, optional
        v; by default a random unit vector from ``np.random.default_rng(seed)`` scaled by
        max(1, |x0|).
    step_sizes : array_like, optional
        The steps h; by default 13 geometric steps from 1e-1 to 1e-7.
    seed : int
        Seed of the random direction.
    steps : array_like, optional
        Deprecated name of ``step_sizes`` (a ``DeprecationWarning`` names the new one).

    Returns
    -------
    TaylorResult
        pass when the order fitted over the smallest steps above the floor is within 0.2 of 2
        (or above), fail when it is near 1 or below, inconclusive in between or with fewer than
        3 steps above the floor, exact when every remainder is at the floor (f linear along v).

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda x: np.sin(x[0]) * x[1] ** 2
    >>> good = lambda x: np.array([np.cos(x[0]) * x[1] ** 2, 2 * np.sin(x[0]) * x[1]])
    >>> r = taylor_test(f, good, [0.3, 0.7])
    >>> r.status.value, round(r.observed_order, 1)
    ('pass', 2.0)
    >>> taylor_test(f, lambda x: 1.01 * good(x), [0.3, 0.7]).reason
    'the remainder falls as h^1.00: the gradient is wrong (or f is not differentiable at x0)'
    """
    step_sizes = renamed_keyword("steps", steps, "step_sizes", step_sizes, None)
    x, v, hs = _taylor_inputs(x0, direction, step_sizes, seed)
    with np.errstate(all="ignore"):
        f0 = float(f(x))
        slope = float(np.asarray(grad(x), dtype=np.float64).reshape(-1) @ v)
        fh = np.array([float(f(x + h * v)) for h in hs])
    r = np.abs(fh - f0 - hs * slope)
    floor = TOLERANCES.taylor_floor * EPS * np.maximum(abs(f0), np.abs(fh))
    above = np.isfinite(r) & (r > floor)
    orders = tuple(
        float(np.log(r[i] / r[i + 1]) / np.log(hs[i] / hs[i + 1]))
        if above[i] and above[i + 1]
        else None
        for i in range(len(hs) - 1)
    )
    fit = np.flatnonzero(above)[-TOLERANCES.taylor_fit :]
    order = float(np.polyfit(np.log(hs[fit]), np.log(r[fit]), 1)[0]) if len(fit) >= 3 else None
    status, reason = _taylor_verdict(order, int(above.sum()), bool(np.isfinite([f0, slope]).all()))
    sizes, remainders, first = (tuple(a.tolist()) for a in (hs, r, np.abs(fh - f0)))
    return TaylorResult(
        status, reason, sizes, remainders, first, orders, order, tuple(floor.tolist())
    )


def _taylor_inputs(
    x0: Any, direction: Any, step_sizes: Any, seed: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    x = np.asarray(x0, dtype=np.float64).reshape(-1)
    if direction is None:
        v = np.random.default_rng(seed).standard_normal(x.size)
        v *= max(1.0, float(np.linalg.norm(x))) / np.linalg.norm(v)
    else:
        v = np.asarray(direction, dtype=np.float64).reshape(-1)
    given = step_sizes
    hs = np.geomspace(1e-1, 1e-7, 13) if given is None else np.asarray(given, dtype=np.float64)
    hs = np.sort(hs.reshape(-1))[::-1]
    if v.shape != x.shape or not np.all(np.isfinite(v)) or not np.any(v):
        msg = f"direction must be a nonzero finite vector of shape {x.shape} (got {direction!r})"
        raise ConfigError(msg)
    if hs.size < 3 or not np.all((hs > 0) & np.isfinite(hs)):
        msg = f"step_sizes must be at least 3 positive finite numbers (got {given!r})"
        raise ConfigError(msg)
    return x, v, hs


def _taylor_verdict(order: float | None, above: int, finite: bool) -> tuple[Status, str]:
    band = TOLERANCES.taylor_band
    if not finite:
        return Status.INCONCLUSIVE, "f(x0) or the gradient at x0 is not finite"
    if above == 0:
        why = "the remainder is at the round-off floor at every step: f is linear along v"
        return Status.EXACT, why + " (or the first-order model is exact)"
    if order is None:
        why = f"only {above} step(s) lie above the round-off floor; try larger steps"
        return Status.INCONCLUSIVE, why
    falls = f"the remainder falls as h^{order:.2f}"
    if order >= 2 - band:
        extra = "" if order <= 2 + band else ", faster than h^2 (v'Hv is about 0 along v)"
        return Status.PASS, f"{falls}{extra}: the gradient is consistent with f"
    if order <= 1 + band:
        return Status.FAIL, f"{falls}: the gradient is wrong (or f is not differentiable at x0)"
    why = "between 1 and 2: the steps are not asymptotic yet, or f is not twice differentiable"
    return Status.INCONCLUSIVE, f"{falls}, {why}"
