"""float64 finite differences: the stencil and the complex step on NumPy arrays.

The float64 methods of :func:`symgrad.fd.finite_difference` (``method="float64"`` and
``"complex"``): the step, the error estimate from the stencil's own two step sizes and the
rounding noise probed around the point, the checks that f itself is exact enough at the point
(``_inexact_f``), kinks met by a side of the stencil, and the classification of every value
(``ok``, ``unreliable``, ``nonsmooth``, ...).

A value is ``ok`` only with the checks that justify it.  The float64 complex step has failure
modes that none of its own measurements see, because float64 cannot look at f's
intermediates: an imaginary part that goes subnormal (1e-120·(x + ih) has Im 1e-320, 11 bits)
or underflows to 0 (Im exp(-(x + ih)) at x = 300) inside f and is scaled back up, and a sum
with a large constant rounded below the step (x + 1e10 to 2^-19).  A second float64 step
cannot settle them: a step large enough to keep every imaginary part normal brings back
truncation, and any step loses exp(-x)'s at x = 710.  So every finite complex-step value is
confirmed by the certified mpmath complex step at the same binary point (``_unconfirmed``),
whose imaginary parts never underflow; a value it contradicts beyond its estimate, or
cannot certify, is ``unreliable``.  The exact checks cover the first ``_MAX_EXACT`` points of
a call; values past them are ``unreliable`` (not sampled: an unchecked value is never ``ok``).  Split from :mod:`symgrad.fd._finite_diff`, which
dispatches to it; the arbitrary-precision engines live in :mod:`symgrad.fd._engine` and
:mod:`symgrad.fd._arb`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import sympy

from symgrad._precision import EPS
from symgrad.derive import Compiled, as_float_array
from symgrad.errors import ConfigError, InputError, SymgradError
from symgrad.fd._engine import (
    KINK_SAFETY,
    FDResult,
    _PointProblem,
    complex_step,
)
from symgrad.fd._memo import remembered
from symgrad.fd._stencils import Stencil, stencils_for, tensor_points
from symgrad.results import PointStatus

_NON_ANALYTIC = (
    sympy.Abs,
    sympy.sign,
    sympy.Min,
    sympy.Max,
    sympy.Heaviside,
    sympy.atan2,
    sympy.Piecewise,
)
_COMPLEX_STEP = 1e-200
_F64_RESOLUTION = 1e-6  # a float64 value is ok when its estimate is below this relative size
_MAX_EXACT = 1000  # flat float64 values checked by an exact evaluation
_GOLDEN = (math.sqrt(5) - 1) / 2  # a second sampling progression, incommensurate with the first


def _float64(
    f: Compiled,
    point: Any,
    counts: Sequence[int],
    stencils: list[Stencil | None],
    step: Any,
    error_control: bool = True,
) -> FDResult:
    """Vectorized float64 stencil with the representable-step trick and an error estimate.

    The value is D(h); the estimate and the per-value verdict come from ``_f64_estimate``.
    Where f may have kinks, backward and forward differences are compared per value
    (``_f64_sides``).  A value is ``ok`` when its estimate is finite and below 10^-6 of
    max(|value|, |f| near x over max(1, |x|)^m): else float64 cannot tell the derivative there
    (noise, a step too wide for an oscillation, a singularity close by) and the result is
    ``unreliable``; a kink makes it ``nonsmooth`` (value and estimate NaN there).  Without error
    control: D(h) alone, no estimate (NaN).
    """
    x = _float_point(f, point)
    live = [s for s in stencils if s is not None]
    p, m = min(s.accuracy for s in live), sum(counts)
    base = EPS ** (1 / (p + m)) if step is None else float(step)
    # relative steps, made exactly representable: (x + h) - x is the step the computer takes
    steps = [
        ((xi + base * np.maximum(1.0, np.abs(xi))) - xi) if step is None else np.full_like(xi, base)
        for xi in x
    ]
    scheme = "+".join(f"{s.kind}:{s.accuracy}:d{s.derivative}" for s in live)
    used = steps[list(counts).index(next(c for c in counts if c))]
    if not error_control:
        fine, _ = _stencil_f64(f, x, stencils, steps)
        why = f"float64 {scheme} at one step, no error estimate"
        nan = np.full_like(fine, np.nan)
        return FDResult(fine, nan, used, PointStatus.OK, why, "float64", scheme, 0, _points(live))
    core = _f64_estimate(f, x, counts, stencils, steps)
    count = 3 * _points(live) + 14
    result = FDResult(
        core.value,
        core.estimate,
        used,
        PointStatus.OK,
        f"float64 {scheme}",
        "float64",
        scheme,
        0,
        count,
    )
    if _may_kink(f):
        return _f64_sides(f, x, counts, steps, core, result)
    return _f64_status(result, core.resolved, None, _Seen(f, x, f(*x), core.scale))


class _F64(NamedTuple):
    """A float64 difference per value: D(h), its estimate, and whether it is resolved."""

    value: Any
    estimate: Any  # inf outside the asymptotic range
    resolved: Any  # boolean array, shaped like value
    scale: Any  # |f| near x over max(1, |x|)^m


def _f64_estimate(
    f: Compiled,
    x: list[Any],
    counts: Sequence[int],
    stencils: list[Stencil | None],
    steps: list[Any],
) -> _F64:
    """D(h) with the estimate 2|D(h) − D(2h)|/(2^p − 1) + 4 Σ|w| σ / h^m.

    σ is the noise of f measured near x (``_noise``), at least n ε max|f| for n operations.  A value
    where D(2h) − D(4h) is not about 2^p (D(h) − D(2h)) is outside the asymptotic range (its
    estimate is inf).  Where f contains the variables but float64 sees it flat along them, only
    an exact evaluation can tell a flat f from one whose change float64 lost (``_lost_flat``).
    """
    live = [s for s in stencils if s is not None]
    p = min(s.accuracy for s in live)
    fine, f_max = _stencil_f64(f, x, stencils, steps)
    coarse, _ = _stencil_f64(f, x, stencils, [2 * h for h in steps])
    coarser, _ = _stencil_f64(f, x, stencils, [4 * h for h in steps])
    weights = math.prod(sum(abs(float(w)) for w in s.weights) for s in live)
    h_m = math.prod(
        (h**s.derivative for s, h in zip(stencils, steps, strict=True) if s is not None),
        start=np.ones(()),
    )
    side = 1 if all(s.kind == "forward" for s in live) else 0
    side = -1 if all(s.kind == "backward" for s in live) else side
    noise, flat = _noise(f, x, steps, side)
    rounding = 4 * weights * np.maximum(noise, _operations(f) * EPS * f_max) / h_m
    near, far = np.abs(fine - coarse), np.abs(coarse - coarser)
    with np.errstate(invalid="ignore"):
        settled = (near <= 2 * rounding) | (
            (far >= 2 ** (p - 1) * near) & (far <= 2 ** (p + 1) * near)
        )
    if flat.any() and _depends(f, counts):
        settled = settled & ~_lost_flat(f, x, steps, flat)
    # + the smallest subnormal: a quotient below float64's range (1e-5/x at x = 1e300, whose
    # derivative -1e-605 is -0.0) is not exact, so its estimate is never exactly 0
    est = np.where(settled, 2 * near / (2**p - 1) + rounding + 2.0**-1074, np.inf)
    size = math.prod(
        (np.maximum(1.0, np.abs(xi)) ** c for xi, c in zip(x, counts, strict=True)),
        start=np.ones(()),
    )
    scale = f_max / size
    return _F64(fine, est, _resolved(fine, est, scale), scale)


def _resolved(value: Any, est: Any, scale: Any) -> Any:
    """Finite values whose finite estimates are below 10^-6 of max(|value|, scale).

    An infinite value or estimate is never resolved (inf <= inf would pass it): it is an
    overflow, which ``_f64_status`` names.
    """
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(value) & np.isfinite(est)
        return finite & (est <= _F64_RESOLUTION * np.maximum(np.abs(value), scale))


class _Seen(NamedTuple):
    """What float64 saw at the points: f there, and |f| over the stencil (None: not measured)."""

    f: Compiled
    x: list[Any]
    at: Any  # f at the points, float64
    scale: Any  # max |f| over the stencil's points over max(1, |x|)^m, or None


def _f64_status(result: FDResult, resolved: Any, kinked: Any, seen: _Seen) -> FDResult:
    """``nonsmooth`` where a value is at a kink; else, where one is unresolved, ``domain``,
    ``pole`` or ``overflow`` if f itself is NaN or infinite at the point, ``overflow`` where the
    difference quotient or f near the point exceeds float64's range, ``unreliable`` otherwise.
    """
    shape = np.shape(result.value)
    if kinked is not None and kinked.any():
        why = f"kink at {int(kinked.sum())} of {kinked.size} values: one-sided derivatives differ"
        return replace(
            result,
            value=np.where(kinked, np.nan, result.value),
            error_estimate=np.where(kinked, np.nan, result.error_estimate),
            status=PointStatus.NONSMOOTH,
            reason=why,
        )
    bad = ~np.broadcast_to(resolved, shape)
    if not bad.any():
        return result
    at = seen.at
    if not np.isfinite(at).all():
        count = f"{int((~np.isfinite(at)).sum())} of {np.size(at)} values"
        if np.isnan(at).any():
            return replace(
                result, status=PointStatus.DOMAIN, reason=f"f is not real (NaN) at {count}"
            )
        if _finite_exactly(seen):
            why = f"f overflows float64 at {count} (it is finite in exact arithmetic)"
            return replace(result, status=PointStatus.OVERFLOW, reason=why)
        return replace(result, status=PointStatus.POLE, reason=f"f is infinite at {count}")
    value = np.asarray(result.value, dtype=float)
    huge = np.isinf(value) | np.isinf(
        np.broadcast_to(seen.scale, shape) if seen.scale is not None else value
    )
    over = bad & np.broadcast_to(huge, shape)
    if over.any():
        why = (
            f"the difference quotient or f near the point exceeds float64's range at "
            f"{int(over.sum())} of {over.size} values"
        )
        return replace(result, status=PointStatus.OVERFLOW, reason=why)
    why = (
        f"{int(bad.sum())} of {bad.size} values are not resolved: D(h), D(2h), D(4h) do not "
        f"converge at the order of the stencil, or the error estimate exceeds {_F64_RESOLUTION:.0e} "
        "of the derivative"
    )
    return replace(result, status=PointStatus.UNRELIABLE, reason=why)


def _finite_exactly(seen: _Seen) -> bool:
    """Whether f is finite, in exact arithmetic, at the first point where float64 gave ±inf.

    One evaluation at 30 digits of the exact binary values: inf there is a pole, a finite
    value an overflow of float64 (exp(1000) = 1.97e434).
    """
    first = tuple(np.argwhere(np.isinf(seen.at))[0])
    n = len(seen.f.shape)
    grid = np.broadcast_shapes(*(np.shape(xi) for xi in seen.x))
    centre = [float(np.broadcast_to(xi, grid)[first[n:]]) for xi in seen.x]
    component = int(np.ravel_multi_index(first[:n], seen.f.shape)) if n else 0
    ctx, fn = seen.f.mp_function(30)
    try:
        value = ctx.convert(fn(*(ctx.mpf(c) for c in centre))[component])
    except (ArithmeticError, ValueError, TypeError):
        return False
    return bool(ctx.isfinite(value))


def _noise(g: Any, x: list[Any], shift: list[Any], side: int = 0) -> tuple[Any, Any]:
    """The rounding noise σ of the float64 values of g near x, and where g is flat there.

    g is evaluated at x + j·shift for seven consecutive j (centred, or on one ``side`` for a
    one-sided stencil, so that a kink at x does not pass for noise), every variable moving, so
    that the rounding of terms in the other variables (50*y) varies too; every fourth difference
    of these values combines their rounding errors with variance 70σ² (plus shift⁴ times the
    fourth derivative of g, which only enlarges the estimate).  Along an arithmetic progression
    a rounding error can grow linearly (a sawtooth between its wraps), which fourth differences
    do not see, so a second progression at 0.618 times the shift samples it again.  The largest
    of the six fourth differences, over √70, is σ.  Where all the values are equal, float64
    does not see g change at all.
    """
    first = {0: -3, 1: 0, -1: -6}[side]
    values = np.array(
        [
            g(*(xi + j * c * si for xi, si in zip(x, shift, strict=True)))
            for c in (1.0, _GOLDEN)
            for j in range(first, first + 7)
        ]
    )
    fourth = (1, -4, 6, -4, 1)
    windows = [
        sum(c * values[start + i + k] for k, c in enumerate(fourth))
        for start in (0, 7)
        for i in range(3)
    ]
    with np.errstate(invalid="ignore"):
        sigma = np.max(np.abs(np.array(windows)), axis=0) / math.sqrt(70)
        return sigma, np.all(values == values[0], axis=0)


def _lost_flat(f: Compiled, x: list[Any], shift: list[Any], flat: Any) -> Any:
    """Where f, flat in float64 near x, does change in exact arithmetic (float64 lost it).

    f is evaluated at the exact binary values of x and x ± shift at 30, 60, 120 and 240
    digits (a change may hide below any fixed precision: log(1 + x^6) at x = 1e-5); beyond
    ``_MAX_EXACT`` flat values they are all taken as lost.
    """
    lost = np.array(flat, dtype=bool)
    if lost.sum() > _MAX_EXACT:
        return lost
    grid = np.broadcast_shapes(*(np.shape(xi) for xi in x))
    n = len(f.shape)
    for index in map(tuple, np.argwhere(flat)):
        centre = [float(np.broadcast_to(xi, grid)[index[n:]]) for xi in x]
        step = [float(np.broadcast_to(si, grid)[index[n:]]) for si in shift]
        component = int(np.ravel_multi_index(index[:n], f.shape)) if n else 0
        lost[index] = any(_changes(f, work, centre, step, component) for work in (30, 60, 120, 240))
    return lost


def _changes(f: Compiled, work: int, centre: list[float], step: list[float], k: int) -> bool:
    """Whether component k of f differs at the float64 points centre − step, centre,
    centre + step (their exact binary values); True where f cannot be evaluated there."""
    ctx, fn = f.mp_function(work)
    try:
        values = [
            ctx.convert(fn(*(ctx.mpf(c + j * s) for c, s in zip(centre, step, strict=True)))[k])
            for j in (-1, 0, 1)
        ]
    except (ArithmeticError, ValueError, TypeError):
        return True
    return not values[0] == values[1] == values[2]


_USED: dict[Hashable, tuple[Any, Any]] = {}


def _used_axes(f: Compiled) -> frozenset[int]:
    """The indices of the variables f contains (answered once per compiled function)."""

    def used() -> frozenset[int]:
        free = set().union(*(e.free_symbols for e in f.components))
        return frozenset(i for i, v in enumerate(f.variables) if v in free)

    return remembered(_USED, f, used)


_OPERATIONS: dict[Hashable, tuple[Any, Any]] = {}


def _operations(f: Compiled) -> int:
    """Operations in f: each may round once, so values carry about this many ε of error."""
    return remembered(
        _OPERATIONS, f, lambda: int(max([1] + [sympy.count_ops(e) for e in f.components]))
    )


def _depends(f: Compiled, counts: Sequence[int]) -> bool:
    """Whether f contains every differentiated variable."""
    wanted = [v for v, c in zip(f.variables, counts, strict=True) if c]
    return any(all(e.has(v) for v in wanted) for e in f.components)


def _may_kink(f: Compiled) -> bool:
    """abs, sign, min, max, ... or a fractional power (whose base may vanish) in f."""
    return not is_real_analytic(f) or any(
        not a.exp.is_integer for e in f.components for a in e.atoms(sympy.Pow)
    )


def _f64_sides(
    f: Compiled,
    x: list[Any],
    counts: Sequence[int],
    steps: list[Any],
    core: _F64,
    central: FDResult,
) -> FDResult:
    """Backward against forward float64 differences, of the partial and each first derivative.

    Values where they differ beyond ``KINK_SAFETY`` times their (finite) estimates are kinks.
    Where the central difference is unresolved but the one-sided ones are resolved and agree
    (x*abs(x) at 0), their mean with half their gap plus both estimates replaces it.
    """
    n = len(counts)
    firsts = [tuple(int(i == j) for j in range(n)) for i in range(n) if counts[i]]
    kinked: Any = np.zeros(np.shape(central.value), dtype=bool)
    own: list[_F64] = []
    for c in dict.fromkeys([tuple(counts), *firsts]):
        left, right = (
            _f64_estimate(f, x, c, stencils_for(f"{kind}:2", c), steps)
            for kind in ("backward", "forward")
        )
        own = [left, right] if c == tuple(counts) else own
        with np.errstate(invalid="ignore"):
            kink = np.abs(right.value - left.value) > KINK_SAFETY * (left.estimate + right.estimate)
        kinked = kinked | np.broadcast_to(kink, kinked.shape)
    left, right = own
    gap = np.abs(right.value - left.value)
    mean, est = (left.value + right.value) / 2, gap / 2 + left.estimate + right.estimate
    use = (
        ~core.resolved & ~kinked & left.resolved & right.resolved & _resolved(mean, est, core.scale)
    )
    result = replace(
        central,
        value=np.where(use, mean, central.value),
        error_estimate=np.where(use, est, central.error_estimate),
        left=left.value,
        right=right.value,
    )
    return _f64_status(result, core.resolved | use, kinked, _Seen(f, x, f(*x), core.scale))


def _stencil_f64(
    f: Compiled, x: list[Any], stencils: list[Stencil | None], steps: list[Any]
) -> tuple[Any, Any]:
    """The tensor-product stencil sum in float64, and the largest |f| it touched.

    Overflow and NaN are data here (classified by ``_f64_status``), never warnings.
    """
    with np.errstate(all="ignore"):
        return _stencil_sum_f64(f, x, stencils, steps)


def _stencil_sum_f64(
    f: Compiled, x: list[Any], stencils: list[Stencil | None], steps: list[Any]
) -> tuple[Any, Any]:
    total: Any = 0.0
    f_max: Any = 0.0
    for weight, offsets in tensor_points(stencils):
        shifted = [xi + float(o) * hi for xi, o, hi in zip(x, offsets, steps, strict=True)]
        values = f(*shifted)
        f_max = np.maximum(f_max, np.abs(values))
        total = total + float(weight) * values
    divisor = math.prod(
        (h**s.derivative for s, h in zip(stencils, steps, strict=True) if s is not None),
        start=np.ones(()),
    )
    return total / divisor, f_max


def _points(stencils: Sequence[Stencil]) -> int:
    """Evaluations of one tensor-product stencil."""
    return math.prod(sum(1 for w in s.weights if w) for s in stencils)


_ANALYTIC: dict[Hashable, tuple[Any, Any]] = {}


def is_real_analytic(f: Compiled) -> bool:
    """No abs, sign, min, max or atan2 in f (answered once per compiled function)."""
    return remembered(_ANALYTIC, f, lambda: not any(e.has(*_NON_ANALYTIC) for e in f.components))


def _complex_axis(f: Compiled, counts: Sequence[int]) -> int:
    """The one axis of a first derivative, after checking the expression is real-analytic."""
    if sum(counts) != 1:
        msg = "the complex step gives first derivatives only; use a stencil for higher orders"
        raise ConfigError(msg)
    if not is_real_analytic(f):
        msg = (
            "the complex step needs a real-analytic expression (no abs, sign, min, max, atan2); "
            "use a stencil such as scheme='central:4'"
        )
        raise ConfigError(msg)
    return list(counts).index(1)


def _complex_float64(
    f: Compiled, point: Any, axis: int, step: Any, error_control: bool = True
) -> FDResult:
    """Im f(x + i h e_j)/h in float64, vectorized; h = 1e-200 by default.

    Every finite value must also be confirmed by the certified mpmath complex step at the same
    binary point (``_unconfirmed``; module docstring), for the first ``_MAX_EXACT`` points.

    The estimate is 4σ + 4nε(|value| + |f|/max(1, |x|)) (n operations in f), σ the rounding
    noise of the complex-step quotient itself measured near x (``_complex_noise``); the
    second term covers real parts rounded on the way, which no noise shows (atanh(u/(1 + u²))
    with u = exp(x/4) at x = 1e-30, where float64's u is 1).  Where float64's f
    itself is wrong (``_inexact_f``) the value is ``unreliable``.  A second step at −3h/4 (the
    other side of the real axis) must agree within it: at a branch point or cut of f (sqrt(x² + y²) at the
    origin) the two sides differ and the result is ``unreliable``.  A given step adds twice
    the truncation error estimated from the pair, (16/7)|D(h) − D(−3h/4)|.
    """
    x = _float_point(f, point)
    h = _COMPLEX_STEP if step is None else float(step)
    value = _im_step(f, x, axis, h)
    why = f"complex step h = {h:.0e}"
    if not error_control:
        nan = np.full_like(value, np.nan)
        return FDResult(
            value, nan, h, PointStatus.OK, f"{why}, no error estimate", "complex", "complex", 0, 1
        )
    gap = np.abs(value - _im_step(f, x, axis, -0.75 * h))
    noise = _complex_noise(lambda *a: _im_step(f, list(a), axis, h), x, value)
    at = f(*x)
    scale = np.abs(at) / np.maximum(1.0, np.abs(x[axis]))  # |f| / max(1, |x|)
    # real parts rounded on the way (exp(x/4) is 1 at x = 1e-30) shift Im f/h by about
    # n ε |f| / max(1, |x|), the scale digits are counted against; a subnormal imaginary part
    # keeps only a multiple of the smallest subnormal, 2^-1074
    ulps = 4 * _operations(f) * EPS
    rounding = 4 * noise + ulps * (np.abs(value) + scale) + 2.0**-1074 / abs(h)
    est = rounding + (16 * gap / 7 if step is not None else gap)
    result = FDResult(value, est, h, PointStatus.OK, why, "complex", "complex", 0, 16)
    resolved = _resolved(value, est, scale)
    inexact = _inexact_f(f, x, at)
    if inexact.any():
        why = (
            f"at {int(inexact.sum())} of {inexact.size} values float64 evaluates f itself with "
            f"fewer than 6 correct digits (cancellation in its formula, such as 1 + x² at tiny "
            "x); the complex step runs through the same formula, so it cannot be trusted there"
        )
        return replace(result, status=PointStatus.UNRELIABLE, reason=why)
    unconfirmed = _unconfirmed(f, x, axis, value, est)
    if unconfirmed.any():
        why = (
            f"at {int(unconfirmed.sum())} of {unconfirmed.size} values the certified "
            "high-precision complex step at the same binary point does not confirm the float64 "
            "value within its estimate (an imaginary part lost below float64's range inside f, "
            "or an inner sum rounded below the step), or is not computed (beyond the first "
            f"{_MAX_EXACT:,} points: pass fewer points per call)"
        )
        return replace(result, status=PointStatus.UNRELIABLE, reason=why)
    if step is not None:
        return _f64_status(result, resolved, None, _Seen(f, x, at, None))
    across = ~(gap <= rounding) & np.isfinite(value)  # an infinite one is an overflow
    if _depends(f, [int(j == axis) for j in range(len(x))]):
        across = across | (value == 0)  # an imaginary part lost below float64's range
    if across.any() and np.isfinite(at).all():
        why = (
            f"at {int(across.sum())} of {across.size} values the complex step differs across "
            "the real axis (a branch point or cut of f: the derivative may not exist) or its "
            "imaginary part vanishes (lost below float64's range, or f' = 0)"
        )
        return replace(result, status=PointStatus.UNRELIABLE, reason=why)
    return _f64_status(result, resolved & ~across, None, _Seen(f, x, at, None))


def _complex_noise(g: Callable[..., Any], x: list[Any], value: Any) -> Any:
    """The rounding noise of the complex-step quotient g near x (``_noise``), probed twice.

    Shifts of 10^-8 |x| vary the rounding of x itself; at a tiny x they are far below the ulp
    of sums such as x + 2 inside f, whose rounding then never varies and shows no noise
    (tan(g(sin(50(x + 2)))) at x = -1e-12 errs by 4e-13 where such a probe saw 1e-14).  A
    second probe with shifts of 10^-8 max(1, |x|) varies those sums too; it counts only where
    the quotient stays within 10^-3 of its value over the probe (no pole or cut crossed, the
    probe still local).
    """
    delta = [1e-8 * np.where(xi == 0, 1.0, np.abs(xi)) for xi in x]
    noise, _ = _noise(g, x, delta)
    wide = [1e-8 * np.maximum(1.0, np.abs(xi)) for xi in x]
    if all(np.array_equal(w, d) for w, d in zip(wide, delta, strict=True)):
        return noise
    with np.errstate(all="ignore"):
        wide_noise, _ = _noise(g, x, wide)
        ends = [g(*(xi + j * wi for xi, wi in zip(x, wide, strict=True))) for j in (-3, 3)]
        local = np.all(
            [np.abs(e - value) <= 1e-3 * np.abs(value) for e in ends], axis=0
        ) & np.isfinite(wide_noise)
    return np.where(local, np.maximum(noise, wide_noise), noise)


def _inexact_f(f: Compiled, x: list[Any], at: Any) -> Any:
    """Where float64's f(x) misses the exact f at the same binary point by over 10^-6 relative.

    The complex step subtracts nothing, but its imaginary part runs through f's formula, and
    a real part lost there (log(1 + x²) is 0 in float64 at x = 1e-30) corrupts it without any
    noise to measure: x·atanh(log(1 + x²)) at 1e-30 gives 2e-60 for the derivative 3e-60.  f
    is evaluated with certified digits (``Compiled.at``, which raises its precision through
    any cancellation) at the exact binary values of the first ``_MAX_EXACT`` points; values
    that are not finite, or where f has no certified value, are left to the other checks.
    """
    values = np.asarray(at, dtype=float).reshape(-1, _count(x))
    inexact = np.zeros(values.shape, dtype=bool)
    names = [v.name for v in f.variables]
    for flat, centre in _checked_points(x):
        try:
            exact = np.asarray(f.at(dict(zip(names, centre, strict=True)), dps=15), dtype=object)
        except SymgradError:
            continue
        for k, want in enumerate(exact.reshape(-1)):
            got = values[k, flat]
            if math.isfinite(got):  # inf and NaN are overflow, pole or domain
                floor = max(_F64_RESOLUTION * abs(want), 2.0**-1022)
                inexact[k, flat] = abs(got - want) > floor
    return inexact.reshape(np.shape(at))


def _unconfirmed(f: Compiled, x: list[Any], axis: int, value: Any, est: Any) -> Any:
    """Where the certified mpmath complex step contradicts the float64 one, or is not computed.

    float64's complex step can lose its imaginary part *inside* f with no trace in the checks
    above: Im(1e-120 (x + ih)) = 1e-320 is subnormal (11 bits) before 1e100·sin scales it back
    up; in cosh(x)·exp(-x) at x = 300, Im exp(-(x + ih)) = -e^-x·h underflows to 0 while
    cosh's survives, and the quotient is cosh's derivative alone (0.5 for -3e-261); and in
    sin(x + 1e10) the sum is rounded to 2^-19 before the step sees it.  Its noise probes move x,
    which shifts none of these.  No choice of h avoids them all (h large enough to keep every
    imaginary part normal brings back truncation), and float64 cannot see its intermediates, so
    each finite value is compared with the mpmath complex step at the same binary point
    (``symgrad.fd._engine.complex_step`` at 15 digits: its imaginary parts never underflow, and
    it is certified by a second step and by f itself); a value further from it than its
    estimate (plus 10^-14 of it) is not confirmed.  So is a value that mpmath cannot certify,
    and every value past the first ``_MAX_EXACT`` points (the check is not sampled: a value
    not checked is never ``ok``).  Values that are not finite are left to the other checks.
    """
    points = _count(x)
    values = np.asarray(value, dtype=float).reshape(-1, points)
    bounds = np.asarray(est, dtype=float).reshape(-1, points)
    unconfirmed = np.zeros(values.shape, dtype=bool)
    if axis not in _used_axes(f):
        return unconfirmed.reshape(np.shape(value))  # exactly 0, which float64 gives too
    unconfirmed[:, _MAX_EXACT:] = True
    for flat, centre in _checked_points(x):
        got = values[:, flat]
        if not np.isfinite(got).all():
            continue
        try:
            found = complex_step(f, [sympy.Rational(c) for c in centre], axis, 15).value
        except _PointProblem:
            found = None
        if found is None:
            unconfirmed[:, flat] = True
            continue
        want = np.array([float(v) for v in found])
        with np.errstate(invalid="ignore"):
            gap = np.where(np.isfinite(want), np.abs(want - got), np.inf)
        unconfirmed[:, flat] = gap > bounds[:, flat] + 1e-14 * np.abs(got)
    return unconfirmed.reshape(np.shape(value))


def _count(x: list[Any]) -> int:
    """The number of points the coordinate arrays x broadcast to."""
    return math.prod(np.broadcast_shapes(*(np.shape(xi) for xi in x)))


def _checked_points(x: list[Any]) -> Iterator[tuple[int, list[float]]]:
    """The flat index and float64 coordinates of each of the first ``_MAX_EXACT`` points."""
    grid = np.broadcast_shapes(*(np.shape(xi) for xi in x))
    coordinates = [np.broadcast_to(xi, grid).reshape(-1) for xi in x]
    for flat in range(min(math.prod(grid), _MAX_EXACT)):
        yield flat, [float(c[flat]) for c in coordinates]


def _im_step(f: Compiled, x: list[Any], axis: int, h: float) -> Any:
    """Im f(x + i h e_axis)/h, vectorized (h may be negative: the other side of the axis)."""
    shifted = [xi + (1j * h if j == axis else 0) for j, xi in enumerate(x)]
    return f.complex_call(*shifted).imag / h


def _float_point(f: Compiled, point: Any) -> list[npt.NDArray[np.float64]]:
    """The float64 coordinates of ``point`` (text, or a mapping of numbers or arrays)."""
    if isinstance(point, str):
        return [np.asarray(float(v)) for v in f.point_values(point)]
    if not isinstance(point, Mapping):
        msg = (
            "for float64 and complex the point is text such as 'x=0.3' or a mapping of names "
            f"to numbers or arrays (got {type(point).__name__})"
        )
        raise InputError(msg)
    given = {str(k): v for k, v in point.items()}
    missing = [v.name for v in f.variables if v.name not in given]
    if missing:
        msg = f"the point gives no value for {missing}"
        raise InputError(msg)
    arrays = [as_float_array(given[v.name], v.name) for v in f.variables]
    try:
        return list(np.broadcast_arrays(*arrays))
    except ValueError as exc:
        shapes = ", ".join(
            f"{v.name}: {np.shape(a)}" for v, a in zip(f.variables, arrays, strict=True)
        )
        msg = f"the point's arrays do not broadcast together ({shapes})"
        raise InputError(msg) from exc
