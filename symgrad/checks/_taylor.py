"""The Taylor-remainder test: is a gradient right when no expression exists?

For a user's function f and gradient g, the remainder r(h) = |f(x0 + h v) − f(x0) − h g(x0)·v|
falls as h² exactly when g is the gradient; a wrong gradient leaves an O(h) term.  The fitted
order over the steps above float64's round-off floor decides.  Only steps that move x0 by at
most its own scale max(1, |x0|) are fitted (a wider step sees f's global shape, where any
gradient's remainder can grow as h²), and remainders at the floor say "f is linear" (exact)
only when the largest step is wide enough for a curvature to show.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from symgrad._precision import EPS
from symgrad.checks._results import TOLERANCES, json_float
from symgrad.errors import ConfigError, InputError
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
        Only local steps are fitted (moving x0 by at most max(1, |x0|)), spanning at least a
        factor 4; exact needs every remainder finite and a largest step moving x0 by at least
        1% of max(1, |x0|) (tiny steps cannot show curvature): else inconclusive.

    Raises
    ------
    ConfigError
        x0, direction or step_sizes unusable (not finite, fewer than 3 distinct steps, ...).
    InputError
        f does not return one number, or grad not one number per coordinate.

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
        f0 = _value(f(x), "f", ())
        slope = float(_value(grad(x), "grad", x.shape) @ v)
        fh = np.array([_value(f(x + h * v), "f", ()) for h in hs])
        r, first_order = np.abs(fh - f0 - hs * slope), np.abs(fh - f0)
        floor = TOLERANCES.taylor_floor * EPS * np.maximum(abs(f0), np.abs(fh))
        moves = hs * (_norm(v) / max(1.0, _norm(x)))  # each step's move relative to x0's scale
    above = np.isfinite(r) & (r > floor)
    orders = tuple(
        float(np.log(r[i] / r[i + 1]) / np.log(hs[i] / hs[i + 1]))
        if above[i] and above[i + 1]
        else None
        for i in range(len(hs) - 1)
    )
    # fit only local steps (a step that moves x0 beyond its own scale does not see f's Taylor
    # expansion) spanning a decade or more (else the slope is noise)
    fit = np.flatnonzero(above & (moves <= TOLERANCES.taylor_local))[-TOLERANCES.taylor_fit :]
    span = float(hs[fit[0]] / hs[fit[-1]]) if len(fit) else 1.0
    wide = len(fit) >= 3 and span >= TOLERANCES.taylor_span
    order = _slope(np.log(hs[fit]), np.log(r[fit])) if wide else None
    seen = _Seen(int(above.sum()), int((~np.isfinite(r)).sum()), len(hs), float(moves[0]))
    seen = seen._replace(fitted=len(fit), span=span)
    status, reason = _taylor_verdict(order, seen, bool(np.isfinite([f0, slope]).all()))
    sizes, remainders, first = (tuple(a.tolist()) for a in (hs, r, first_order))
    return TaylorResult(
        status, reason, sizes, remainders, first, orders, order, tuple(floor.tolist())
    )


def _slope(log_h: FloatArray, log_r: FloatArray) -> float | None:
    """The least-squares slope; None when the steps are too close together to fit one."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", np.exceptions.RankWarning)
        try:
            slope = float(np.polyfit(log_h, log_r, 1)[0])
        except (np.exceptions.RankWarning, np.linalg.LinAlgError, ValueError):
            return None
    return slope if np.isfinite(slope) else None


class _Seen(NamedTuple):
    """What the remainders showed: how many rose above the floor, how many were not finite."""

    above: int
    lost: int  # f(x0 + h v) or the remainder is not a finite number
    steps: int
    reach: float  # the largest step's move, |h v| / max(1, |x0|)
    fitted: int = 0  # local steps above the floor, up to TOLERANCES.taylor_fit
    span: float = 1.0  # largest over smallest fitted step


def _value(value: Any, name: str, shape: tuple[int, ...]) -> Any:
    """A user's f (one number) or gradient (shape of x0) as float64, else an InputError."""
    try:
        array = np.asarray(value, dtype=np.float64)
        return float(array.reshape(())) if not shape else array.reshape(shape)
    except (TypeError, ValueError) as exc:
        what = "one real number" if not shape else f"{shape[0]} real numbers, one per coordinate"
        msg = f"{name} must return {what} (got {type(value).__name__}: {exc})"
        raise InputError(msg) from exc


def _norm(x: FloatArray) -> float:
    """The 2-norm, without overflow on the way (inf only when the norm itself is beyond range)."""
    biggest = float(np.max(np.abs(x), initial=0.0))
    return biggest * float(np.linalg.norm(x / biggest)) if biggest else 0.0


def _taylor_inputs(
    x0: Any, direction: Any, step_sizes: Any, seed: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    x = _floats(x0, "x0")
    if not x.size or not np.all(np.isfinite(x)):
        msg = f"x0 must be a nonempty vector of finite numbers (got {x0!r})"
        raise ConfigError(msg)
    if direction is None:
        scale = max(1.0, _norm(x))
        if not np.isfinite(scale):
            msg = "x0 is too large for the default direction (its norm overflows): give direction="
            raise ConfigError(msg)
        v = np.random.default_rng(seed).standard_normal(x.size)
        v = v / np.linalg.norm(v) * scale  # a unit vector first: no overflow on the way
    else:
        v = _floats(direction, "direction")
    given = step_sizes
    hs = np.geomspace(1e-1, 1e-7, 13) if given is None else _floats(given, "step_sizes")
    hs = np.sort(hs)[::-1]
    if v.shape != x.shape or not np.all(np.isfinite(v)) or not np.any(v):
        msg = f"direction must be a nonzero finite vector of shape {x.shape} (got {direction!r})"
        raise ConfigError(msg)
    distinct = bool(np.all(np.diff(hs) < 0))
    if hs.size < 3 or not np.all((hs > 0) & np.isfinite(hs)) or not distinct:
        msg = f"step_sizes must be at least 3 distinct positive finite numbers (got {given!r})"
        raise ConfigError(msg)
    return x, v, hs


def _floats(value: Any, name: str) -> FloatArray:
    """A flat float64 vector, or a ConfigError naming the argument."""
    try:
        return np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        msg = f"{name} must be a vector of real numbers (got {value!r})"
        raise ConfigError(msg) from exc


def _taylor_verdict(order: float | None, seen: _Seen, finite: bool) -> tuple[Status, str]:
    band, above = TOLERANCES.taylor_band, seen.above
    if not finite:
        return Status.INCONCLUSIVE, "f(x0) or the gradient at x0 is not finite"
    if above == 0:
        return _at_the_floor(seen)
    if order is None:
        return Status.INCONCLUSIVE, _no_order(seen)
    falls = f"the remainder falls as h^{order:.2f}"
    if order >= 2 - band:
        extra = "" if order <= 2 + band else ", faster than h^2 (v'Hv is about 0 along v)"
        return Status.PASS, f"{falls}{extra}: the gradient is consistent with f"
    if order <= 1 + band:
        return Status.FAIL, f"{falls}: the gradient is wrong (or f is not differentiable at x0)"
    why = "between 1 and 2: the steps are not asymptotic yet, or f is not twice differentiable"
    return Status.INCONCLUSIVE, f"{falls}, {why}"


def _at_the_floor(seen: _Seen) -> tuple[Status, str]:
    """No remainder above the floor: exact only if every one is finite and the steps reach far.

    A remainder at the floor hides a curvature q with q·h² below it; only steps that move x0 by
    at least ``TOLERANCES.taylor_reach`` of max(1, |x0|) make that a statement about f.
    """
    if seen.lost:
        why = f"f(x0 + h v) is not finite at {seen.lost} of the {seen.steps} steps and the "
        return Status.INCONCLUSIVE, why + "other remainders are at the round-off floor"
    if seen.reach < TOLERANCES.taylor_reach:
        return Status.INCONCLUSIVE, (
            "the remainder is at the round-off floor at every step, but the largest step moves "
            f"x0 by only {seen.reach:.1e} of max(1, |x0|), too little to show curvature; try "
            "larger steps"
        )
    why = "the remainder is at the round-off floor at every step: f is linear along v"
    return Status.EXACT, why + " (or the first-order model is exact)"


def _no_order(seen: _Seen) -> str:
    """Why no order was fitted although some remainders rose above the floor."""
    if seen.above < 3:
        return f"only {seen.above} step(s) lie above the round-off floor; try larger steps"
    if seen.fitted < 3:
        return (
            f"only {seen.fitted} of the {seen.above} steps above the round-off floor are local "
            f"(move x0 by at most {TOLERANCES.taylor_local:g} times max(1, |x0|)); try smaller steps"
        )
    return (
        f"the steps fitted span only a factor {seen.span:.3g}, too narrow to measure an order; "
        f"give steps over at least a factor {TOLERANCES.taylor_span:g}"
    )
