"""The Taylor-remainder test: is a gradient right when no expression exists?

For a user's function f and gradient g, the remainder r(h) = |f(x0 + h v) − f(x0) − h g(x0)·v|
falls as h² exactly when g is the gradient; a wrong gradient leaves an O(h) term.  The fitted
order over the steps above float64's round-off floor decides.  Only steps that move x0 by at
most its own scale max(1, |x0|) are fitted (a wider step sees f's global shape, where any
gradient's remainder can grow as h²), and remainders at the floor say "f is linear" (exact)
only when the largest step is wide enough for a curvature to show, and the floor fine enough
for a wrong gradient to show: a remainder r(h) <= F (the floor, 1e3·ε·|f|) hides any first-order
error e = (∇f − g)·v with |e|·h <= 2F (r plus f's own rounding).  Beside a large offset,
f = 1e12 + sin(x), F = 0.22 exceeds every change of f over steps h <= 0.1 (0.096), so a zero,
negated or doubled gradient leaves every remainder at the floor: exact needs 2F/h, at the
local step where it is least (a wider step can span whole periods of f), within 1e-4 of the
slope along v (as a pass does), else the verdict is
``inconclusive`` and says that the size of f swamps its change.

An order is evidence only inside f's asymptotic range along v, and steps a user gives need
not be there (sin(1000 x) with h from 1e-1 to 1e-3 swings through many periods: its remainders
fall, or rise, at any rate, right gradient or wrong).  So a verdict also asks of the fitted
steps (:class:`_Window`):

* the secant slopes D(h) = (f(x0 + h v) − f(x0))/h, which depend on f alone, settle as
  a + c h does: each change smaller than the last, in the same direction, or within rounding,
  and D at two more steps, at irrational sections of the last interval, on the line through
  their neighbours (steps that are multiples of one another can all alias a fast
  oscillation); otherwise ``inconclusive``, whatever the order;
* a fail (order near 1) needs the first-order error e = (∇f − g)·v that pairs of steps
  extrapolate to (Richardson, from the signed remainders) to agree, to more than twice their
  spread and the rounding: a right gradient never fails on remainders that merely look linear;
* a pass (order near 2) needs those steps to bound |e| to 10^-4 of the directional derivative's
  size (max(|g·v|, the secants)) and not to show e ≠ 0 as a fail would: at steps where the
  curvature term hides a first-order error (sin(1000 x) at h ≥ 1e-4 hides a zero gradient)
  the verdict is ``inconclusive``, so a gradient scaled by 1.001 does not pass.

No sampled test sees an oscillation that every step, the probes included, aliases; the
probes make that a coincidence of two irrational ratios rather than of step sizes chosen as
powers of 2 (one probe is not enough: 8 periods at the smallest step put 12.94 at the golden
section, 0.06 periods from a whole number).
"""

from __future__ import annotations

import math
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

#: A pass needs the fitted steps to bound the first-order error (∇f − g)·v to this fraction of
#: the directional derivative's size (a gradient scaled by 1.001 must not pass).
TAYLOR_RESOLUTION = 1e-4
#: A fail needs the first-order error the fitted steps extrapolate to exceed their spread and
#: the round-off floor's share this many times.
TAYLOR_SAFETY = 2.0
#: f's own rounding in the spread of a pass's bound, in units of ε|f| (a correctly rounded f).
_ROUNDING = 1.0

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
        1% of max(1, |x0|) (tiny steps cannot show curvature), and a floor fine enough that
        the remainders bound the first-order error (∇f − g)·v to 1e-4 of the slope along v
        (beside a large constant, 1e12 + sin(x), the floor hides f's change and any gradient's
        remainder): else inconclusive.  Pass and
        fail also need the fitted steps to be asymptotic (their secant slopes settle, also at
        two extra steps f is evaluated at, between the two smallest), a fail a first-order
        error that pairs of steps extrapolate to consistently, and a pass steps that bound such
        an error to 1e-4 of the directional derivative and do not show it nonzero: else
        inconclusive, with the reason.

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
    local = moves <= TOLERANCES.taylor_local
    seen = _blur(
        seen._replace(fitted=len(fit), span=span),
        hs[local],
        first_order[local],
        floor[local],
        slope,
    )
    probes = _probes(f, x, v, f0, hs[fit]) if len(fit) >= 3 else ()
    window = _window(hs[fit], fh[fit] - f0, slope, floor[fit], probes)
    status, reason = _taylor_verdict(order, seen, bool(np.isfinite([f0, slope]).all()), window)
    sizes, remainders, first = (tuple(a.tolist()) for a in (hs, r, first_order))
    return TaylorResult(
        status, reason, sizes, remainders, first, orders, order, tuple(floor.tolist())
    )


def _blur(
    seen: _Seen, hs: FloatArray, change: FloatArray, floor: FloatArray, slope: float
) -> _Seen:
    """``seen`` with what remainders at the floor can hide, over the local steps given (a step
    that moves x0 beyond its scale can span whole periods of f, where the first-order error
    cancels): see :func:`_at_the_floor`."""
    with np.errstate(all="ignore"):
        blur = 2 * floor / hs
        secants = change / hs
    finite = np.isfinite(blur) & np.isfinite(secants)
    if not finite.any():
        return seen
    at = int(np.argmax(np.where(finite, change, -1.0)))
    size = max(abs(slope), float(np.max(secants[finite])))
    return seen._replace(
        blur=float(np.min(blur[finite])),
        size=size if math.isfinite(size) else 0.0,
        change=float(change[at]),
        floor=float(floor[at]),
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
    blur: float = math.inf  # the first-order error along v that remainders at the floor hide
    size: float = 0.0  # the slope along v: max(|g·v|, the secants |f(x0 + h v) − f(x0)|/h)
    change: float = 0.0  # the largest |f(x0 + h v) − f(x0)| over the steps
    floor: float = 0.0  # the round-off floor at that step


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


class _Window(NamedTuple):
    """What the fitted steps say beyond the order: are they asymptotic, and what error do they imply.

    Along v, f(x0 + h v) − f(x0) = a h + c h² + O(h³) with a = ∇f·v, so the secant slopes
    D(h) = (f(x0 + h v) − f(x0))/h = a + c h + O(h²) settle: from step to step they change by
    less and less, in the same direction (or by no more than rounding).  That is a property of f
    alone, whatever the gradient.  Where the changes do not settle (f oscillates faster than the
    steps resolve) the remainders' order means nothing, right gradient or wrong.

    With s(h) = h (D(h) − g·v) = e h + c h² + O(h³), e = (∇f − g)·v, each pair of fitted steps
    h_a > h_b extrapolates s/h to h = 0 (Richardson): e_ab = (h_a s_b/h_b − h_b s_a/h_a)/(h_a − h_b),
    exact up to O(h_a h_b).  ``error`` is the pair of the smallest steps, ``spread`` how far the
    other pairs (and f's rounding, ε|f|) move it, ``guard`` how far the round-off floor of
    f (TOLERANCES.taylor_floor·ε|f|, a pessimistic rounding) could move it, ``scale`` the size of
    the directional derivative: max(|g·v|, the largest secant |D| of the fitted steps; at a
    critical point of f along v, where a = 0, the secants are about c·h).  A fail must stand
    against the pessimistic rounding; a pass's bound uses the measured spread, so that a right
    gradient at a critical point (where every bound is relative to secants of size c·h) passes.
    """

    settled: bool
    changes: tuple[float, ...]  # D(h_i) − D(h_(i+1)) over the fitted steps
    error: float
    spread: float
    scale: float
    guard: float = math.inf

    @property
    def bound(self) -> float:
        """An upper bound of |e| where the steps are asymptotic: |error| + spread."""
        return abs(self.error) + self.spread

    @property
    def resolved(self) -> bool:
        """Is e ≠ 0 shown: |error| beyond TAYLOR_SAFETY times its spread and the floor's share."""
        return abs(self.error) > TAYLOR_SAFETY * (self.spread + self.guard)


#: The probe steps divide the interval between the two smallest fitted steps at these
#: irrational sections (the golden one and √2 − 1), so that a period of f that fits the steps a
#: whole number of times does not fit both probes too.
_SECTIONS = ((math.sqrt(5) - 1) / 2, math.sqrt(2) - 1)


class _Probe(NamedTuple):
    """f once more, at a step h_p between the two smallest fitted steps."""

    step: float
    change: float  # f(x0 + h_p v) − f(x0)
    floor: float  # its round-off floor


def _probes(
    f: Callable[[FloatArray], Any], x: FloatArray, v: FloatArray, f0: float, hs: FloatArray
) -> tuple[_Probe, ...]:
    """f at h_p = h_b + s·(h_a − h_b), s in ``_SECTIONS``, h_a > h_b the two smallest fitted steps.

    Steps that are whole multiples of one another (0.5, 0.25, 0.125, ...) can all land on a
    whole number of periods of an f that oscillates faster than they resolve (sin(1000 x) along
    v = 1 at h = 0.0625·2^k, off by 0.05 periods): the secants then settle as those of a slower
    f would, and a right gradient would look wrong.  At irrational sections of the last
    interval the aliasing does not persist, and the secants leave the line through their
    neighbours.
    """
    found = []
    for section in _SECTIONS:
        step = float(hs[-1] + section * (hs[-2] - hs[-1]))
        with np.errstate(all="ignore"):
            value = _value(f(x + step * v), "f", ())
        floor = TOLERANCES.taylor_floor * EPS * max(abs(f0), abs(value))
        found.append(_Probe(step, value - f0, floor))
    return tuple(found)


def _window(
    hs: FloatArray,
    change: FloatArray,
    slope: float,
    floor: FloatArray,
    probes: tuple[_Probe, ...],
) -> _Window:
    """The fitted steps' secants and extrapolated first-order error (see :class:`_Window`).

    ``change`` is f(x0 + h v) − f(x0) and ``floor`` its round-off floor, at the fitted steps;
    ``probes`` are f between the two smallest of them (needed for ``settled``).
    """
    secants, rounding = change / hs, floor / hs  # D(h), and how far rounding moves it
    scale = max(abs(slope), float(np.max(np.abs(secants), initial=0.0)))
    if len(hs) < 3 or not probes:
        return _Window(False, (), math.nan, math.inf, scale)
    steps = -np.diff(secants)  # D(h_i) − D(h_(i+1))
    noise = rounding[:-1] + rounding[1:]
    # each change at most the previous one shrunk by (its step's width ratio)^(1 − band), same sign
    shrink = (-np.diff(hs)[1:] / -np.diff(hs)[:-1]) ** (1 - TOLERANCES.taylor_band)
    later = np.abs(steps[1:])
    settles = (later <= noise[1:]) | (
        (np.sign(steps[1:]) == np.sign(steps[:-1])) & (later <= shrink * np.abs(steps[:-1]))
    )
    a, b, q = hs[:-1], hs[1:], secants - slope
    pairs = (a * q[1:] - b * q[:-1]) / (a - b)
    error = float(pairs[-1])
    amplified = noise * (a + b) / (a - b)  # what the floor moves each extrapolation by
    ulps = _ROUNDING / TOLERANCES.taylor_floor  # ε|f| of the floor's 1e3 ε|f|
    spread = _finite_or_inf(float(np.max(np.abs(pairs - error) + ulps * amplified)))
    guard = _finite_or_inf(float(np.max(amplified)))
    # each probe's secant on the line through its neighbours' (D is a + c h there): off it by
    # d·t(1 − t)(h_a − h_b)² at most, under a quarter of the last change even where c = 0
    on_line = True
    for probe in probes:
        t = (probe.step - hs[-1]) / (hs[-2] - hs[-1])
        line = secants[-1] + t * (secants[-2] - secants[-1])
        off = abs(probe.change / probe.step - line)
        on_line &= bool(off <= abs(steps[-1]) / 2 + probe.floor / probe.step + noise[-1])
    settled = bool(settles.all()) and on_line
    return _Window(settled, tuple(steps.tolist()), error, spread, scale, guard)


def _finite_or_inf(value: float) -> float:
    return value if math.isfinite(value) else math.inf


def _taylor_verdict(
    order: float | None, seen: _Seen, finite: bool, window: _Window
) -> tuple[Status, str]:
    band, above = TOLERANCES.taylor_band, seen.above
    if not finite:
        return Status.INCONCLUSIVE, "f(x0) or the gradient at x0 is not finite"
    if above == 0:
        return _at_the_floor(seen)
    if order is None:
        return Status.INCONCLUSIVE, _no_order(seen)
    falls = f"the remainder falls as h^{order:.2f}"
    if not window.settled and (order >= 2 - band or order <= 1 + band):
        return Status.INCONCLUSIVE, _not_asymptotic(falls, window)
    if order >= 2 - band:
        if not window.bound <= TAYLOR_RESOLUTION * window.scale:
            return Status.INCONCLUSIVE, _unresolved(falls, window)
        if window.resolved:
            return Status.INCONCLUSIVE, _hidden(falls, window)
        extra = "" if order <= 2 + band else ", faster than h^2 (v'Hv is about 0 along v)"
        return Status.PASS, f"{falls}{extra}: the gradient is consistent with f"
    if order <= 1 + band:
        if not window.resolved:
            return Status.INCONCLUSIVE, _unsettled(falls, window)
        return Status.FAIL, f"{falls}: the gradient is wrong (or f is not differentiable at x0)"
    why = "between 1 and 2: the steps are not asymptotic yet, or f is not twice differentiable"
    return Status.INCONCLUSIVE, f"{falls}, {why}"


def _at_the_floor(seen: _Seen) -> tuple[Status, str]:
    """No remainder above the floor: exact only if every one is finite, the steps reach far,
    and the floor is fine enough to see a wrong gradient.

    A remainder at the floor hides a curvature q with q·h² below it; only steps that move x0 by
    at least ``TOLERANCES.taylor_reach`` of max(1, |x0|) make that a statement about f.

    It also hides a first-order error e = (∇f − g)·v with |e|·h up to the floor F plus f's own
    rounding (at most F): |e| <= 2F/h at every local step (``seen.blur`` is the least such
    bound; a step beyond x0's scale, 2π·159155 for sin, can return f to f(x0) whatever e is).
    Exact needs that bound within ``TAYLOR_RESOLUTION`` of the slope along v (max(|g·v|, the
    secants)), as a pass does.  Beside a large offset (f = 1e12 + sin(x): F = 1e3·ε·1e12 = 0.22
    while sin changes by 0.096 over h = 0.1) f's change along v never rises above the floor, and
    a zero, negated or doubled gradient leaves remainders there too: inconclusive, not exact.
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
    if not seen.blur <= TAYLOR_RESOLUTION * seen.size:
        return Status.INCONCLUSIVE, _swamped(seen)
    why = "the remainder is at the round-off floor at every step: f is linear along v"
    return Status.EXACT, why + " (or the first-order model is exact)"


def _swamped(seen: _Seen) -> str:
    """Why remainders at the floor do not make f linear: the floor hides f's change along v."""
    offset = seen.floor / (TOLERANCES.taylor_floor * EPS)
    if not seen.change:
        return (
            "the remainder is at the round-off floor at every step, but f(x0 + h v) equals "
            "f(x0) at every step: a first-order error along v as large as "
            f"{seen.blur:.2g} would not show, so the gradient is not tested; take larger steps"
        )
    return (
        "the remainder is at the round-off floor at every step, but that floor "
        f"({TOLERANCES.taylor_floor:g}·ε·|f| = {seen.floor:.2g}, |f| about {offset:.2g}) hides "
        f"a first-order error along v as large as {seen.blur:.2g} (f's largest change over the "
        f"steps is {seen.change:.2g}): the size of f swamps its change, so the gradient is "
        "not tested; subtract the constant part of f, or take larger steps"
    )


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


def _unresolved(falls: str, window: _Window) -> str:
    """Why an order of 2 does not pass: the steps cannot see a first-order error that matters."""
    bound = window.bound
    relative = f" ({bound / window.scale:.1g} of the slope along v)" if window.scale else ""
    return (
        f"{falls}, but at these steps a first-order error along v as large as {bound:.2g}"
        f"{relative} would not show: the steps are not in the asymptotic range yet; try "
        "smaller steps"
    )


def _hidden(falls: str, window: _Window) -> str:
    """Why an order of 2 does not pass: the steps extrapolate to a first-order error all the same."""
    return (
        f"{falls}, but the steps extrapolate to a first-order error along v of "
        f"{window.error:.3g} ± {window.spread + window.guard:.2g}, hidden in the order by the "
        "curvature term: try smaller steps"
    )


def _unsettled(falls: str, window: _Window) -> str:
    """Why an order of 1 does not fail: the first-order term the steps imply is not settled."""
    return (
        f"{falls}, but the first-order term it implies is not settled ({window.error:.3g} from "
        f"the smallest steps, ±{window.spread + window.guard:.2g} across the others and "
        "rounding): the steps are not in "
        "the asymptotic range (or the remainders are rounding); try other steps"
    )


def _not_asymptotic(falls: str, window: _Window) -> str:
    """Why no order is judged: the secant slopes of the fitted steps do not settle."""
    changes = ", ".join(f"{c:.2g}" for c in window.changes)
    return (
        f"{falls}, but the secant slopes (f(x0 + h v) - f(x0))/h of the fitted steps do not "
        f"settle (they change by {changes}): the steps are not in the asymptotic range of f "
        "along v; try smaller steps"
    )
