"""The arbitrary-precision engine behind :func:`symgrad.finite_difference`.

**Stencils.**  A stencil for the m-th derivative with step h divides rounding errors of size
10^-W |f| by h^m, so at W = dps digits it loses about m·k digits when h = 10^-k.  We pick
k = (dps + G)/p so that the truncation error C h^p f^(m+p) is 10^-(dps+G), and
W = dps + G + m·k + log10(Σ|w|) plus the digits f itself loses at the point (a formula such as
log(1 + x^6) at x = 1e-5 cancels 30 digits before the stencil sees any; they are measured by
evaluating f at two precisions).  Two steps give a Richardson pair: D(h) at W + 3 digits and
D(2h) at W digits, so that the rounding error of D(2h), 10^3 times that of D(h), shows in their
difference.  The extrapolated value D(h) + (D(h) − D(2h))/(2^p − 1) is returned with the
estimate 2|D(h) − D(2h)|, which bounds both its truncation error (far smaller than that of
D(h)) and its rounding error (at most that of D(2h)), plus Σ|w| ulp(f)/h^m for a change of f
lost below the working precision.  Automatic steps are relative, h·|x| on each axis (h where
x = 0; m·log10(1/|x|) more digits where |x| < 1, so that log(x) at 1e-30 is differenced
inside its domain), and digits are counted relative to |f'| or to |f|/max(1, |x|)^m.  When the
estimate misses the requested digits the step shrinks and the precision grows by the missing
digits (at most ``_MAX_REFINE`` times), and the result says so if it still cannot deliver.
Mixed partials are tensor products of one-dimensional stencils.

**The point.**  The point is exact (a decimal or a fraction), and every evaluation rounds it to
the working precision: 1 + 1e-40 at 22 digits is 1, the pole of 1/(x - 1), and
0.999999999999999999999999999999 is asin's branch point, so a point where f is finite and real
would be called a pole or outside the domain, and f' there would be f' somewhere else.  So no
evaluation works below the digits that hold the point apart from every singularity f's
constants can place (``_holding``: a singularity at a rational a/b other than p/q is at least
1/(|p|·b) away relative to x, and 1/(q·|a|) relative to itself), and pole and domain are
decided there: ordinary points (0.3, a float64, 1e200) need fewer digits than any working
precision carries and cost nothing more.  Beyond ``_MAX_WORK`` digits a failure at the
rounded point is ``unreliable``, not a pole.  A stencil point that fails where f is finite
and real at the point lies beyond a singularity the point is not on; the step then shrinks
below the distance the point's digits allow one (``_nearer``), and only a failure nearer
than that (sqrt(x) at 0) is the point's own ``domain`` or ``pole``; one that no step tried
avoids, or that a given step reaches, is ``unreliable``.  A stencil can also straddle a pole
without meeting it (1/(x - 1) at 1 + 1e-40: every value is finite, the estimate misses): a
refinement jumps the step below that distance at once, not by the missing digits.  How far f's values and slopes are from those at the point is
measured as before (``digits_lost``, the Richardson pair, the complex step's chain of values).

**Intermediates.**  A value is ``ok`` only if the computation can be shown to have kept the
digits it claims, and the error estimate cannot show a change that rounding removed *inside* f:
in sin(x + 1e100) at x = 0.5 every stencil point x + s·h + 1e100 rounds to the same number
below 100 + log10(1/h) digits, the term is frozen, the stencil sees no noise and confidently
differences the rest (and ``check`` then calls a correct derivative wrong).  So one forward
pass over f's own operations at the point (``_duals``: the value v and slope dv/dx of every
node, at dps + guard digits, cached per point) sets two things.  The working precision covers
log10(|v| / (scale·|dv/dx|)) more digits per differentiation for the worst node, so that the
change s·h·dv/dx of every intermediate survives its rounding (``_node_digits``).  And the
automatic step is relative to min(|x|, 1/|du/dx|) over the arguments u of f's functions
(``_reach``): sin, tan or exp change character over a unit of their argument, and a step
relative to |x| = 1e200 moves x² by 1e183, sampling tan(x²) at unrelated points where both
steps of the Richardson pair see only the smooth rest.  Judging the magnitudes was chosen over
a second evaluation at "clearly more" digits, which two equally frozen precisions would pass,
and over arb balls, which need python-flint; the pass costs one walk of the expression per
point and partial direction, and none on the complex-step path; it runs in float64 with
bounded errors where every magnitude is representable (``_float_duals``), and in mpmath where
not, repeated at more digits where its own function arguments needed them (``_condition``).  It
never supplies a value:
a first-derivative stencil that misses the pass's slope by more than half is ``unreliable``
(``_hidden_slope``).

**Complex step.**  Im f(x + ih)/h = f'(x) − h² f‴(x)/6 + ... involves no subtraction, but
mpmath evaluates the imaginary part of some complex functions (atan, asin, acos) with an
*absolute* error of about 10^-W |f|, which the division by a tiny h turns into a large one:
atan'(0.75) comes out as 0.63999999996 at dps = 50.  So no complex-step value is trusted
alone: each is compared with a second one at a step −h/2 (the other side of the real axis,
half as far) and more digits.  Rounding errors differ between the two precisions and
truncation errors by a factor of 4, so their difference bounds the error of the first; a
branch point (sqrt(x² + y²) at the origin) gives values of opposite signs.  When the pair
disagrees the next value carries the missing digits and a smaller step.  mpmath's absolute
error 10^-W is divided by h, so every certifying value carries at least dps + guard + log10(1/h)
digits: below that, two values can lose the same part of Im f entirely and agree (asin at
x = 1e-30).  Every value also carries the
condition of f's functions first (``_condition``): a function that changes character over a unit
of its argument u is evaluated at an unrelated point once rounding moves u by a unit, so exp
of u = -1e200 at 72 digits is wrong by a factor e^(1e128), and two such values, wrong by
different factors, certified each other by a difference far below the error of both.  Below
log10|u| digits errors are not proportional to 10^-W and no chain of values can show them; so
the first value carries them (``_complex_work``), and the step is narrowed until it turns no
power's exponent p·log b by more than 10^-3 (``_within_powers``).  Each value evaluates
only the operations of f that hold the differenced variable: the rest (exp(-z²) along x in
sin(x + y)·exp(-z²)) is taken from the same code at the point, computed once per precision
(``_split``), so every number is the one f's own code gives.  When it still cannot be
certified, or both imaginary parts vanish (a lost imaginary part is zero at every precision),
the caller falls back to the stencil.  The real parts must agree with f at the point too: a
step beyond f's scale (sec(x²) at x = 1e200, where Im sec((x + ih)²) ~ e^(-2xh) vanishes at
both steps) shows there, not in the imaginary parts, unless f's other terms dwarf it
(sec(x²) + x, where f is 1e200): so no argument u of f's functions may move by more than
10^-3 in the step (h·|du/dx|, from the forward pass of the stencil's section); the stencil,
whose step is narrowed to that scale, decides there.

**Kinks.**  A central difference is blind to a symmetric kink (abs(x) at 0 gives 0 ± 0), so
where f may be nonsmooth the backward and forward second-order differences of the partial,
and of the first derivative along each differentiated axis, are compared: a gap beyond
``KINK_SAFETY`` times their error estimates (and beyond 10^-(dps-3) of the values) is a kink.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import itertools
import math
import operator
import textwrap
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NamedTuple

import mpmath.libmp as lib
import numpy as np
import sympy

from symgrad._precision import MAX_DPS, round_to, thread_context
from symgrad.derive import Compiled, function
from symgrad.errors import SymgradError
from symgrad.fd._memo import remembered
from symgrad.fd._stencils import Stencil, stencils_for, tensor_points
from symgrad.results import PointStatus, Result

__all__ = ["KINK_SAFETY", "FDResult", "certified_ok"]

_Mpf = Any  # a raw mpmath number of mpmath.libmp: the tuple (sign, mantissa, exponent, bits)
_RND = lib.round_nearest  # the rounding of every symgrad context (mpmath's default)
_GUARD = 4  # digits of truncation error below the requested precision
_NOISE = 3  # D(2h) is computed this many digits lower than D(h): its rounding error shows
_LOG2_10 = math.log2(10)
_FAST_GUARD = 8  # extra a-priori digits when there is no a-posteriori error estimate
_MAX_REFINE = 3
_MAX_WORK = 4 * MAX_DPS  # working digits never exceed this
_REACH_FLOOR = math.ceil(_MAX_WORK * math.log2(10))  # 2^-this: no step the digits can resolve
_COMPLEX_DIGITS = 8  # each complex-step value carries this many more digits than the last
_COMPLEX_REACH = 1e-3  # a complex step moves no argument of f's functions further than this
_DIGITS_GRAIN = 8  # working precisions are multiples of this (fewer compiled functions)
_RATIO_LOW = 0.8  # a given step needs (D(2h) − D(h))/(D(h) − D(h/2)) >= 0.8·2^p (_given_result)
#: A gap between the one-sided derivatives beyond this many times their error estimates is a kink.
KINK_SAFETY = 10.0
_KINK_DIGITS = 3  # ... and beyond 10^-(dps - 3) of the values and of f near the point


@dataclass(frozen=True)
class FDResult(Result):
    """A finite-difference estimate of one partial derivative (of every component of f).

    A :class:`~symgrad.results.Result` about one point: its ``status`` is a
    :class:`~symgrad.results.PointStatus`, whose ``verdict`` is ``pass`` for ``ok`` and
    ``inconclusive`` otherwise, so ``ok``, ``raise_if_failed()``, ``to_json()`` and ``to_text()``
    behave as for every other result.

    Attributes
    ----------
    value : mpmath.mpf, float or numpy.ndarray
        The estimate.  For a scalar f at one point it is a number: an ``mpf`` for ``mp`` and
        ``mp-complex``, a Python ``float`` for ``float64`` and ``complex``.  Otherwise an array
        shaped like the function's components (object array of mpmath numbers for ``mp``;
        float64 for ``float64`` and ``complex``, with the points' shape appended).  NaN (a
        float) where there is no derivative (``nonsmooth``, ``domain``, ``pole``).
    error_estimate : mpmath.mpf, float or numpy.ndarray
        A bound, by a margin, of the absolute error of ``value`` (rounding to the returned
        precision included), of the same kind and shape as ``value``.
    step : float or mpmath number
        The step h actually used (an automatic ``mp`` step is relative: it is scaled by |x| on
        each axis, by 1 where x = 0, and by at most 1/|du/dx| for the steepest argument u of a
        function in f, so that tan(x**2) at x = 1e200 is sampled within its period;
        ``float64`` scales by max(1, |x|)).
    status : PointStatus
        ``ok``, ``domain`` (outside the function's real domain), ``pole``, ``overflow``,
        ``nonsmooth`` (a kink: the one-sided derivatives differ) or ``unreliable`` (the
        requested digits could not be reached); a string given for it is converted.
    reason : str
        One sentence explaining the status.
    method, scheme : str
        How it was computed.
    working_dps : int
        Digits carried (0 for float64).
    evaluations : int
        Function evaluations used.
    left, right : mpmath.mpf, float, numpy.ndarray or None
        The backward and forward (one-sided) derivatives when the kink probe ran: at a kink they
        are what the derivative is on either side (numbers or arrays, as ``value``).
    certified : bool
        True when ``error_estimate`` is a proven bound: the stencil ran on arb balls (the ball
        radius bounds the rounding) and the Taylor remainder is bounded by Cauchy's estimate
        from an enclosure of |f| over a complex box around the point, or by an enclosure of a
        higher derivative over the stencil's interval (:mod:`symgrad.fd._arb`).  False for an
        a-posteriori estimate (mpmath, float64 and the complex steps).
    """

    value: Any
    error_estimate: Any
    step: Any
    status: PointStatus
    reason: str
    method: str
    scheme: str
    working_dps: int
    evaluations: int
    left: Any = None
    right: Any = None
    certified: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", PointStatus(self.status))
        for name in ("value", "error_estimate", "left", "right"):
            object.__setattr__(self, name, _scalar(getattr(self, name)))

    def to_dict(self) -> dict[str, Any]:
        """Plain data; numbers as strings at full precision."""
        return {
            "value": _strings(self.value),
            "error_estimate": _strings(self.error_estimate),
            "step": str(self.step),
            "status": self.status.value,
            "reason": self.reason,
            "method": self.method,
            "scheme": self.scheme,
            "working_dps": self.working_dps,
            "evaluations": self.evaluations,
            "left": None if self.left is None else _strings(self.left),
            "right": None if self.right is None else _strings(self.right),
            "certified": self.certified,
        }

    def to_text(self) -> str:
        """The status and reason, then the value and its error estimate (``method``, ``scheme``)."""
        value, estimate = _strings(self.value), _strings(self.error_estimate)
        return (
            f"{self.status}: {self.reason}\n"
            f"value {value} ± {estimate} ({self.method}, {self.scheme}, step {self.step})"
        )


def certified_ok(
    value: Any, bound: Any, step: Any, reason: str, scheme: str, working_dps: int, evaluations: int
) -> FDResult:
    """The ``ok``, certified FDResult of the arb path, whose values are already in final form
    (numbers or object arrays, never 0-d arrays)."""
    how = ("mp", scheme)
    ok = PointStatus.OK
    return _built(value, bound, step, ok, reason, how, working_dps, evaluations, certified=True)


def _is_mpf(value: Any) -> bool:
    """A real mpmath number (``round_to`` rounds it by ``ctx.mpf``, that is by mpf_pos)."""
    return hasattr(value, "_mpf_") and not hasattr(value, "_mpc_")


def _ulps(v: _Mpf, prec: int) -> _Mpf:
    """|v| · 2^(1 - prec) at prec (``abs(mpf(v)) * ulp``: exact, a power of two)."""
    _, man, exp, bc = v
    if man and bc <= prec:
        return (0, man, exp + 1 - prec, bc)
    return lib.mpf_mul(lib.mpf_abs(v, prec, _RND), lib.mpf_shift(lib.fone, 1 - prec), prec, _RND)


def _built(
    value: Any,
    bound: Any,
    step: Any,
    status: PointStatus,
    reason: str,
    how: tuple[str, str],
    working_dps: int,
    evaluations: int,
    *,
    certified: bool = False,
) -> FDResult:
    """An FDResult whose fields are already in final form (``how``: method and scheme).

    The values are numbers or object arrays, never 0-d arrays, and ``status`` a
    ``PointStatus``: the fields are set without the frozen dataclass's per-field
    ``__setattr__`` and normalisation (three results per gradient).
    """
    result: FDResult = object.__new__(FDResult)
    fields = {
        "value": value,
        "error_estimate": bound,
        "step": step,
        "status": status,
        "reason": reason,
        "method": how[0],
        "scheme": how[1],
        "working_dps": working_dps,
        "evaluations": evaluations,
        "left": None,
        "right": None,
        "certified": certified,
    }
    object.__setattr__(result, "__dict__", fields)
    return result


# -- arbitrary precision --------------------------------------------------------------------


def _probe(
    f: Compiled,
    x0: Sequence[sympy.Rational],
    work: int,
    *,
    relative: bool,
    reach: tuple[int | None, ...] | None = None,
    point: tuple[tuple[int, int], ...] | None = None,
) -> _Probe:
    """A probe per (function, point, precision), reused across the partials of one call.

    The precision is rounded up to a multiple of ``_DIGITS_GRAIN``: f is compiled once per
    precision, so nearby working precisions share one compiled function and context.
    """
    point = point or point_key(x0)
    held = _holding(f, x0, point)
    work = -(-min(max(work, held.digits), _MAX_WORK) // _DIGITS_GRAIN) * _DIGITS_GRAIN
    cache: dict[Hashable, tuple[Any, Any]] = _PROBES.__dict__.setdefault("cache", {})
    key = (id(f), point, work, relative, reach)
    return remembered(
        cache,
        f,
        lambda: _Probe(f, x0, work, relative=relative, reach=reach, holds=work >= held.digits),
        key=key,
        size=64,
    )


#: Bits beyond those of the point and of f's constants with which a point that no binary
#: precision holds exactly is rounded: the rounded point keeps its side, and to a few bits its
#: distance, of every singularity those numbers place (a factor 3 of 3x - 1 places one at 1/3).
_POINT_MARGIN = 4


class _Held(NamedTuple):
    """What the exact point needs of a working precision (``_holding``)."""

    digits: int  # working digits at which f sees the point itself
    # log10 of 1/(the nearest a singularity other than the point may be, relative to the step's
    # scale |x|, or absolute at x = 0): a stencil point failing nearer is the point's own
    separation: float


_HELD: dict[Hashable, tuple[Any, Any]] = {}


def _constants_of(e: sympy.Basic) -> list[sympy.Rational]:
    """The rational constants of e that can place a singularity (the exponent 1/2 of
    sqrt(x - 1) places none)."""
    if isinstance(e, sympy.Rational):
        return [e]
    args = e.args[:1] if isinstance(e, sympy.Pow) and e.exp.is_Rational else e.args
    return [c for a in args for c in _constants_of(a)]


def _holding(
    f: Compiled, x0: Sequence[sympy.Rational], point: tuple[tuple[int, int], ...] | None = None
) -> _Held:
    """The working digits that hold x0 apart from every singularity f's constants place.

    The point is exact (a decimal or a fraction p/q per coordinate), but every evaluation
    rounds it to the working precision: 1 + 1e-40 rounded to 22 digits is 1, the pole of
    1/(x - 1), and 1 - 1e-30 is asin's branch point, so the point would be called a pole, or
    outside the domain, where f is finite and real.  A singularity at a rational c = a/b
    other than x is at least 1/(q·b) from it: relative to |x| at least 1/(|p|·b), and
    relative to |c| (the same size, where it is near) at least 1/(q·|a|).  So rounding to
    min(bits(p) + bits(b), bits(q) + bits(a)) bits, with the largest a and b among f's
    constants (a singularity such as 1/3 of 3x - 1 is placed by them, to the margin), keeps
    the rounded point on its own side of each (plus ``_POINT_MARGIN`` bits, unless every
    number is a binary fraction, which those bits hold exactly).  So 1 + 1e-40 needs 41
    digits, while 1e200, 1e-300, 10^200/3 and the float64 numbers need no more than any
    working precision carries.  A singularity at an irrational place (π/2 of tan) is never
    met by rounding exactly; what the distance to it costs is measured (``digits_lost``, the
    Richardson pair, the complex step's chain of values).
    """

    def build() -> _Held:
        constants = [c for e in f.components for c in _constants_of(e)]
        a = max((abs(c.p).bit_length() for c in constants), default=1)
        b = max((c.q.bit_length() for c in constants), default=1)
        bits = max((min(abs(v.p).bit_length() + b, v.q.bit_length() + a) for v in x0), default=0)
        binary = all(q & (q - 1) == 0 for q in [*(c.q for c in constants), *(v.q for v in x0)])
        bits += 0 if binary else _POINT_MARGIN
        return _Held(math.ceil(bits / _LOG2_10), bits / _LOG2_10)

    key = (id(f), point or point_key(x0))
    return remembered(_HELD, f, build, key=key, size=256)


def point_key(x0: Sequence[sympy.Rational]) -> tuple[tuple[int, int], ...]:
    """The point as numerator-denominator pairs: a cache key (ints hash fast)."""
    return tuple((v.p, v.q) for v in x0)


class AtPoint:
    """f at one point for the partials of one call: the point's cache key, computed once, and
    the relative-step probes already looked up, by working digits."""

    __slots__ = ("f", "key", "probes", "x0")

    def __init__(self, f: Compiled, x0: Sequence[sympy.Rational]) -> None:
        self.f, self.x0, self.key = f, x0, point_key(x0)
        self.probes: dict[int, _Probe] = {}

    def probe(self, work: int) -> _Probe:
        """``_probe(f, x0, work, relative=True)``."""
        found = self.probes.get(work)
        if found is None:
            found = _probe(self.f, self.x0, work, relative=True, point=self.key)
            self.probes[work] = found
        return found


_PROBES = threading.local()


class _Probe:
    """f compiled at one working precision, around one point, with classified evaluation."""

    def __init__(
        self,
        f: Compiled,
        x0: Sequence[sympy.Rational],
        work: int,
        *,
        relative: bool = True,
        reach: tuple[int | None, ...] | None = None,
        holds: bool = True,
    ) -> None:
        self.f = f
        self.ctx, self.fn = f.mp_function(work)
        self.work = work
        self.holds = holds  # the precision holds the point (``_holding``; False: capped)
        self.relative, self.reach = relative, reach
        self.parts: dict[int, Any] = {}  # f's parts at the point, by index (``evaluate``)
        self.split: Any = False  # f's code split (``_split``) or None, once it is needed
        prec, make = self.ctx.prec, self.ctx.make_mpf
        # mpf(p) / q, as the context computes it: p rounded to prec, then the quotient rounded
        self.args = [
            make(lib.mpf_div(lib.from_int(v.p, prec, _RND), lib.from_int(v.q), prec, _RND))
            for v in x0
        ]

    @functools.cached_property
    def scales(self) -> list[Any]:
        """Each axis' step scale: |x| (1 at x = 0, or for a given step), at most 2^e (_reach)."""
        one = self.ctx.one
        scales = [abs(a) if self.relative and a else one for a in self.args]
        if self.reach is not None:  # no wider than f's steepest inner argument allows
            ldexp = self.ctx.ldexp
            scales = [
                s if e is None else min(s, ldexp(1, e))
                for s, e in zip(scales, self.reach, strict=True)
            ]
        return scales

    def at(self, args: Sequence[Any]) -> list[Any]:
        """f(args) as real context numbers, or a ``_PointProblem`` saying what went wrong."""
        ctx = self.ctx
        mpf = ctx.mpf
        try:
            found = self.fn(*args) if args is not self.args else self.evaluate(None, args)
            # +: a constant (pi, E: mpmath's lazy constant type) becomes a number of the context
            values = [v if type(v) is mpf else +ctx.convert(v) for v in found]
        except ZeroDivisionError as exc:
            raise _PointProblem(ctx, args, status=PointStatus.POLE, held=self.holds) from exc
        except OverflowError as exc:  # mpmath, at exponents beyond what it can shift
            raise _PointProblem(ctx, args, status=PointStatus.OVERFLOW, held=self.holds) from exc
        except (ValueError, TypeError) as exc:
            raise _PointProblem(ctx, args, status=PointStatus.DOMAIN, held=self.holds) from exc
        for v in values:
            if type(v) is not mpf:
                raise _PointProblem(ctx, args, status=PointStatus.DOMAIN, held=self.holds)
            t = v._mpf_
            if not t[1] and t[2]:  # infinite or NaN (ctx.isinf, ctx.isnan): zero is (0, 0, 0, 0)
                status = PointStatus.DOMAIN if t == lib.fnan else PointStatus.POLE
                raise _PointProblem(ctx, args, status=status, held=self.holds)
        return values

    @functools.cached_property
    def centre_raw(self) -> list[_Mpf]:
        """f at the point itself as raw mpf tuples (computed once per probe)."""
        return [v._mpf_ for v in self.centre()]

    def centre(self) -> list[Any]:
        """f at the point itself (computed once per probe)."""
        found: list[Any] | None = self.__dict__.get("_centre")
        if found is None:
            found = self.__dict__["_centre"] = self.at(self.args)
        return found

    def evaluate(self, axis: int | None, args: Sequence[Any]) -> Any:
        """f(args) where only ``axis`` may differ from the point (None: none does).

        The parts of f that do not involve that axis (``_split``) are taken from this probe's
        values at the point, computed once: the same code on the same numbers at the same
        precision, so every result is the one f's own code gives.
        """
        split = self.split
        if split is False:  # not looked up yet (the stencil's probes never need it)
            split = self.split = _split(self.fn)
        if split is None:
            return self.fn(*args)
        way = split.ways[-1 if axis is None else axis]
        if way is None:
            return self.fn(*args)
        known = self.parts
        for i in way.parts:
            if i not in known:
                known[i] = split.parts[i](self.args)
        return way.fn((*args, *(known[i] for i in way.parts)))

    def quotients(self, axis: int, h: Any) -> list[Any]:
        """Im f(x + i h e_axis)/h for every component, as context numbers (``raw_step``)."""
        make = self.ctx.make_mpf
        return [make(q) for q in self.raw_step(axis, h._mpf_)[0]]

    def raw_step(self, axis: int, h: _Mpf) -> tuple[list[_Mpf], list[_Mpf]]:
        """Im f(x + i h e_axis)/h and Re f(x + i h e_axis) = f(x) + O(h²) per component, as raw
        mpf tuples: the roundings of the context numbers, without the number objects.

        The step is rounded to the probe's precision in x + ih, as ``ctx.mpc(x, h)`` rounds it,
        and each quotient is Im f / h (h as given) rounded once, as ``v.imag / h`` is.
        """
        ctx, prec = self.ctx, self.ctx.prec
        args = list(self.args)
        args[axis] = ctx.make_mpc((args[axis]._mpf_, lib.mpf_pos(h, prec, _RND)))
        mpc = ctx.mpc
        try:
            values = [v if type(v) is mpc else ctx.convert(v) for v in self.evaluate(axis, args)]
        except ZeroDivisionError as exc:
            raise _PointProblem(ctx, args, status=PointStatus.POLE, held=self.holds) from exc
        except OverflowError as exc:
            raise _PointProblem(ctx, args, status=PointStatus.OVERFLOW, held=self.holds) from exc
        except (ValueError, TypeError) as exc:
            raise _PointProblem(ctx, args, status=PointStatus.DOMAIN, held=self.holds) from exc
        quotients, reals = [], []
        for v in values:
            re, im = v._mpc_ if type(v) is mpc else (v._mpf_, lib.fzero)
            # ctx.isfinite: no part infinite or NaN, the only numbers with a zero mantissa and
            # a nonzero exponent
            if not ((re[1] or not re[2]) and (im[1] or not im[2])):
                raise _PointProblem(ctx, args, status=PointStatus.POLE, held=self.holds)
            quotients.append(lib.mpf_div(im, h, prec, _RND))
            reals.append(re)
        return quotients, reals

    def stencil_sum(self, terms: _Terms, h: Any) -> tuple[list[Any], Any]:
        """Σ w f(x + h·shift) / (den · h^m) over the tensor-product terms; and max |f| seen."""
        totals, scale = None, self.ctx.zero
        # each axis' shifted coordinates, computed once per distinct offset (and only along
        # the differentiated axes: the others have the one offset 0)
        moved = [
            _shifted(a, h * c, offsets) if k else [a]
            for a, c, offsets, k in zip(
                self.args, self.scales, terms.offsets, terms.counts, strict=True
            )
        ]
        for weight, where in terms.items:
            values = self.at([axis[i] for axis, i in zip(moved, where, strict=True)])
            scale = max(scale, *map(abs, values))
            if totals is None:
                totals = [v * weight for v in values]
            else:
                totals = [t + v * weight for t, v in zip(totals, values, strict=True)]
        assert totals is not None
        divisor = h**terms.m * terms.den
        for c, k in zip(self.scales, terms.counts, strict=True):
            if k:
                divisor *= c**k
        return [t / divisor for t in totals], scale


def _shifted(a: Any, step: Any, offsets: Sequence[Fraction]) -> list[Any]:
    """a + step·o for each offset o (an integer offset costs one product)."""
    return [
        (a + step * o.numerator if o.denominator == 1 else a + step * o.numerator / o.denominator)
        if o
        else a
        for o in offsets
    ]


@dataclass(frozen=True)
class _Terms:
    """A tensor-product stencil as integer weights over one common denominator.

    Summing integer multiples of f values and dividing once keeps the sum exact up to the
    single rounding of each f value.
    """

    items: tuple[tuple[int, tuple[int, ...]], ...]  # (integer weight, offset index per axis)
    offsets: tuple[tuple[Fraction, ...], ...]  # the distinct offsets used on each axis
    den: int
    counts: tuple[int, ...]
    m: int
    p: int
    weight_digits: int
    scheme: str

    @classmethod
    @functools.cache
    def build(cls, stencils: tuple[Stencil | None, ...]) -> _Terms:
        combos = tensor_points(stencils)
        den = math.lcm(*(w.denominator for w, _ in combos))
        live = [s for s in stencils if s is not None]
        weights = sum(math.log10(sum(abs(float(w)) for w in s.weights)) for s in live)
        offsets = tuple(
            tuple(sorted({shift[i] for _, shift in combos})) for i in range(len(stencils))
        )
        return cls(
            tuple(
                ((w * den).numerator, tuple(offsets[i].index(o) for i, o in enumerate(shift)))
                for w, shift in combos
            ),
            offsets,
            den,
            tuple(0 if s is None else s.derivative for s in stencils),
            sum(s.derivative for s in live),
            min(s.accuracy for s in live),
            math.ceil(max(weights, 0.0)),
            "+".join(f"{s.kind}:{s.accuracy}:d{s.derivative}" for s in live),
        )


# -- f's parts that a partial does not move --------------------------------------------------
#
# A complex step along x moves only the operations that hold x: in sin(x + y)·exp(-z²) the
# factor exp(-z²) is the same real number at every complex step along x or y, and in f at the
# point.  So f's compiled code is split once per compiled precision: per axis, the largest
# subexpressions without that axis's variable become parameters, computed once per probe from
# the point by the very same code (the subexpression's own syntax tree, compiled), and the rest
# of the code is unchanged.  Identical operations on identical numbers at the same precision:
# every value is the one f's code gives.  Code that is not one expression of plain operations
# and calls (common subexpressions, conditionals) is not split.

_PLAIN = (
    ast.Expression,
    ast.List,
    ast.Tuple,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.BinOp,
    ast.UnaryOp,
    ast.Call,
    ast.keyword,
    ast.Attribute,
    ast.operator,
    ast.unaryop,
)
_COSTLY = (ast.BinOp, ast.UnaryOp, ast.Call)


class _Way(NamedTuple):
    """f's code along one axis (or at the point): the parts it takes, then the code itself,
    a function of one sequence: f's variables, then those parts."""

    parts: tuple[int, ...]
    fn: Any


class _Split(NamedTuple):
    """f's code split into parts: their code, and a way per axis and one at the point (last)."""

    parts: tuple[Any, ...]
    ways: tuple[_Way | None, ...]


_SPLITS: dict[Hashable, tuple[Any, Any]] = {}


def _split(fn: Any) -> _Split | None:
    """f's compiled code split into the parts each axis does not move (once per code)."""

    def build() -> _Split | None:
        try:
            return _split_code(fn)
        except (_NotPlain, KeyError, AttributeError):
            return None

    return remembered(_SPLITS, fn, build)


def _split_code(fn: Any) -> _Split | None:
    try:
        source = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None
    define = source.body[0]
    if not isinstance(define, ast.FunctionDef) or len(define.body) != 1:
        return None
    done = define.body[0]
    if not isinstance(done, ast.Return) or done.value is None:
        return None
    body = done.value
    if not all(isinstance(n, _PLAIN) for n in ast.walk(ast.Expression(body))):
        return None
    names = [a.arg for a in define.args.args]
    texts: dict[str, int] = {}
    trees: list[ast.expr] = []

    def part(node: ast.expr) -> int:
        text = ast.unparse(node)
        if text not in texts:
            texts[text] = len(trees)
            trees.append(node)
        return texts[text]

    ways: list[_Way | None] = []
    for name in names:
        used: list[int] = []
        code = _Parts(lambda node, name=name: name not in _names(node), part, used).visit(
            _copy(body)
        )
        ways.append(_compiled(fn, names, used, code) if used else None)
    known = set(texts)
    used = []
    code = _Parts(lambda node: ast.unparse(node) in known, part, used).visit(_copy(body))
    ways.append(_compiled(fn, names, used, code) if used else None)
    parts = tuple(_compiled(fn, names, [], tree).fn for tree in trees)
    return _Split(parts, tuple(ways))


class _Parts(ast.NodeTransformer):
    """Replaces the outermost costly subexpressions that ``takes`` by parameters ``_p<i>``."""

    def __init__(self, takes: Any, part: Any, used: list[int]) -> None:
        self.takes, self.part, self.used = takes, part, used

    def visit(self, node: ast.AST) -> Any:
        if isinstance(node, _COSTLY) and self.takes(node):
            i = self.part(node)
            if i not in self.used:
                self.used.append(i)
            return ast.Name(id=f"_p{i}", ctx=ast.Load())
        return self.generic_visit(node)


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _copy(node: ast.expr) -> ast.expr:
    copied: ast.expr = ast.parse(ast.unparse(node), mode="eval").body
    return copied


def _compiled(fn: Any, names: list[str], used: list[int], body: ast.expr) -> _Way:
    """A function of f's variables and the parts ``used`` that returns ``body``: the syntax
    tree turned into closures (``_closure``), each name bound to what it meant in f's code."""
    slots = {name: i for i, name in enumerate([*names, *(f"_p{i}" for i in used)])}
    return _Way(tuple(used), _closure(body, slots, fn.__globals__))


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.Mod: operator.mod,
    ast.FloorDiv: operator.floordiv,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def _closure(node: ast.AST, slots: dict[str, int], space: dict[str, Any]) -> Any:
    """A function of the values of ``slots`` that computes ``node`` as Python would: operands
    left to right, the same operators and calls (no text is evaluated)."""
    if isinstance(node, ast.Constant):
        constant = node.value
        return lambda _: constant
    if isinstance(node, ast.Name):
        if node.id in slots:
            return operator.itemgetter(slots[node.id])
        bound = space[node.id] if node.id in space else getattr(builtins, node.id)
        return lambda _: bound
    if isinstance(node, ast.Attribute):
        owner = _closure(node.value, slots, space)
        attribute = node.attr
        return lambda values: getattr(owner(values), attribute)
    if isinstance(node, ast.BinOp):
        op, left, right = (
            _BINARY[type(node.op)],
            _closure(node.left, slots, space),
            _closure(node.right, slots, space),
        )
        return lambda values: op(left(values), right(values))
    if isinstance(node, ast.UnaryOp):
        op1, operand = _UNARY[type(node.op)], _closure(node.operand, slots, space)
        return lambda values: op1(operand(values))
    if isinstance(node, ast.Call) and not node.keywords:
        arguments = [_closure(a, slots, space) for a in node.args]
        if isinstance(node.func, ast.Name) and node.func.id not in slots and len(arguments) == 1:
            function_, (only,) = _closure(node.func, slots, space)(()), arguments
            return lambda values: function_(only(values))  # sin(u): the commonest call
        head = _closure(node.func, slots, space)
        return lambda values: head(values)(*[a(values) for a in arguments])
    if isinstance(node, ast.List | ast.Tuple):
        items = [_closure(e, slots, space) for e in node.elts]
        kind = list if isinstance(node, ast.List) else tuple
        return lambda values: kind([e(values) for e in items])
    raise _NotPlain


class _NotPlain(Exception):
    """A node the closures do not cover: the code is not split."""


class _PointProblem(Exception):
    """A point where f is not a finite real number (the message is built only if shown)."""

    def __init__(
        self, ctx: Any, args: Sequence[Any], *, status: PointStatus, held: bool = True
    ) -> None:
        super().__init__(status)
        self.status = status
        self.held = held  # the working precision held the point (``_holding``)
        self.work = ctx.dps
        self.args_at = [ctx.nstr(a, 8) for a in args]

    @property
    def where(self) -> str:
        return "(" + ", ".join(self.args_at) + ")"


class _Run(NamedTuple):
    """A stencil result with what the kink probe needs to judge it."""

    result: FDResult
    converging: bool  # the error estimate fell at the last refinement (or none was needed)
    scale: Any  # the largest |f| the stencil touched


def _work_digits(terms: _Terms, dps: int, k: float) -> int:
    """Working digits: rounding errors 10^-W |f| are amplified by Σ|w| / h^m = 10^(w + m k)."""
    return dps + _GUARD + math.ceil(terms.m * max(k, 0.0)) + terms.weight_digits + 3


def _scale_digits(scales: Sequence[float], counts: Sequence[int]) -> int:
    """Digits that steps relative to a scale below 1 cost: rounding of f over (h·scale)^m.

    ``scales`` are log10 of each axis' scale (|x|, or 1 at x = 0, or less: ``_reach``).
    """
    return sum(c * max(0, math.ceil(-s)) for s, c in zip(scales, counts, strict=True))


# -- intermediates whose change must survive rounding ----------------------------------------


class _Dual(NamedTuple):
    """One node of f at the point: its value and its derivative along one axis."""

    value: Any
    slope: Any


class _Vector(NamedTuple):
    """One node of f at the point: its value and its derivative along every axis."""

    value: Any
    slopes: tuple[Any, ...]


def _node_digits(
    f: Compiled,
    x0: Sequence[sympy.Rational],
    counts: Sequence[int],
    scales: Sequence[float],
    *,
    dps: int,
) -> int:
    """Working digits beyond m·log10(1/h) that keep every intermediate's change above rounding.

    A stencil moves x by s·h; an intermediate v of f (a node of its expression that depends on
    x) moves by about s·h·|dv/dx|, and at W digits it is rounded by 10^-W |v|.  The working
    precision carries m·log10(1/h) digits for x itself; a node with |v| / (scale·|dv/dx|) = 10^r
    (the step's scale on the axis, log10 of it in ``scales``) needs r more per differentiation along x: x + 1e100
    at x = 0.5 needs 100, and below them every stencil point rounds to the same sin(1e100), so
    the term is frozen and the stencil, seeing no noise, confidently differences the rest.  The
    magnitudes come from one pass over f's own operations at the point (``_duals``).
    """
    extra = 0.0
    for axis, c in enumerate(counts):
        if not c:
            continue
        nodes = _duals(f, tuple(x0), axis, dps + _GUARD).nodes
        scale = scales[axis]
        worst = 0.0
        for node in nodes:
            if node.value and node.slope:
                ratio = _log10_ratio(node.value, node.slope) - scale
                worst = max(worst, ratio)
        extra += c * worst
    # a node beyond float range (x + exp(x**3/4) at 1e300 along y needs 1e899 digits) is
    # infinite here; no working precision exceeds _MAX_WORK, which any larger count gives too
    return math.ceil(min(extra, _MAX_WORK))


def _log10_ratio(a: Any, b: Any) -> float:
    """log10(|a| / |b|) for context numbers of any exponent (no float overflow)."""
    if isinstance(a, float) and isinstance(b, float):  # from the float pass
        return math.log10(abs(a)) - math.log10(abs(b))
    ctx = thread_context(15)
    return float(ctx.log10(abs(ctx.convert(a))) - ctx.log10(abs(ctx.convert(b))))


_DUALS = threading.local()


def _duals(
    f: Compiled,
    x0: tuple[sympy.Rational, ...],
    axis: int,
    work: int,
    point: tuple[tuple[int, int], ...] | None = None,
) -> _Duals | _FloatAxis:
    """Value and slope along ``axis`` of every node of f at x0 that f's components hold.

    Forward mode over the SymPy tree at ``work`` digits, along every axis at once (cached per
    function, point and precision): sums, products and powers by their rules; a function by
    its complex step Im g(u + iτ)/τ (mpmath's imaginary parts never underflow); abs, min, max,
    sign and Heaviside by hand.  A node that cannot be evaluated (a Piecewise, a point outside
    its domain) is left out with everything above it: the pass only adds digits and declines,
    so what it cannot see costs nothing, and the stencil's own estimate still stands there.
    First the float64 pass (``_float_duals``, the same at every precision) is tried: where it
    vouches for every magnitude, its outward-rounded nodes and rates are used instead.
    """
    cache: dict[Hashable, tuple[Any, Any]] = _DUALS.__dict__.setdefault("cache", {})
    where = (id(f), point or point_key(x0))
    fast = remembered(cache, f, lambda: _float_duals(f, x0), key=where, size=64)
    if fast is not None:  # the float pass, the same at every precision
        return fast[axis]
    found = remembered(cache, f, lambda: _mp_duals(f, x0, work), key=(*where, work), size=64)
    return found[axis]


def _mp_duals(f: Compiled, x0: tuple[sympy.Rational, ...], work: int) -> list[_Duals]:
    """``_duals`` for every axis from the mpmath pass at ``work`` digits or more.

    The pass is itself a computation at ``work`` digits, and where an argument of f's
    functions needs more digits than that (``_condition``: exp of u = -1e200 rounded to W
    digits is wrong by a factor e^(1e200·10^-W)) its values and slopes are no magnitudes at
    all; so the pass is repeated at more digits until they cover the condition it shows
    (``_MAX_WORK`` at most).
    """
    work = min(max(work, _holding(f, x0).digits), _MAX_WORK)  # f sees the point itself
    memo = _mp_memo(f, x0, work)
    condition = _condition(f, memo)
    while condition + _GUARD > work and work < _MAX_WORK:
        work = min(max(2 * work, condition + 2 * _GUARD), _MAX_WORK)
        memo = _mp_memo(f, x0, work)
        condition = _condition(f, memo)
    ctx = thread_context(work)
    tape = _tape(f)
    kinked = any(isinstance(node, _KINKED) for node in tape)
    live = [d for d in memo.values() if d is not None]
    found = []
    for j in range(len(x0)):
        steepest = max([ctx.zero, *(_rate(node, memo, j) for node in tape if node.is_Function)])
        nodes = [_Dual(d.value, d.slopes[j]) for d in live if d.slopes[j]]
        roots = [
            None if r is None else _Dual(r.value, r.slopes[j]) for r in map(memo.get, f.components)
        ]
        powers = max([ctx.zero, *(_log_rate(memo.get(node), j) for node in _powers(f))])
        found.append(_Duals(nodes, roots, steepest, kinked, condition, powers))
    return found


def _powers(f: Compiled) -> tuple[Any, ...]:
    """The powers among f's nodes (once per function)."""
    return remembered(_POWERS, f, lambda: tuple(n for n in _tape(f) if isinstance(n, sympy.Pow)))


_POWERS: dict[Hashable, tuple[Any, Any]] = {}


def _log_rate(node: _Vector | None, axis: int) -> Any:
    """|dv/dx| / |v| of one node (0 where it was not evaluated or is zero)."""
    if node is None or not node.value:
        return 0
    return abs(node.slopes[axis]) / abs(node.value)


def _mp_memo(f: Compiled, x0: tuple[sympy.Rational, ...], work: int) -> dict[Any, _Vector | None]:
    """Value and slopes of every node of f at x0, by the mpmath pass at ``work`` digits."""
    ctx = thread_context(work)
    n = len(x0)
    memo: dict[Any, _Vector | None] = dict(_constants(f, ctx, n))
    for i, (v, p) in enumerate(zip(f.variables, x0, strict=True)):
        memo[v] = _Vector(
            ctx.mpf(p.p) / p.q, tuple(ctx.one if j == i else ctx.zero for j in range(n))
        )
    for node in _tape(f):
        parts = [memo.get(a) for a in node.args]
        try:
            memo[node] = None if None in parts else _combine(ctx, node, parts)  # type: ignore[arg-type]
        except (ArithmeticError, ValueError, TypeError):
            memo[node] = None
    return memo


def _arguments(node: Any, values: list[Any]) -> list[Any]:
    """The sizes whose log10 a node's condition costs (``_condition``)."""
    if isinstance(node, sympy.Pow):
        base, power = values
        sizes = [abs(power)]
        if base > 0:
            sizes.append(abs(power * thread_context(15).log(base)))
        return sizes
    if not node.is_Function or isinstance(node, _SCALE_FREE):
        return []
    order = 2 if isinstance(node, _SQUARED) else 1
    return [abs(v) ** order for v in values]


def _condition(f: Compiled, memo: dict[Any, _Vector | None]) -> int:
    """Digits W must exceed so that rounding f's operations to W digits moves each of them
    within its expansion: the condition number of every function, in digits.

    A function such as exp, sin, tanh or gamma changes character over a unit of its argument
    (the model of ``_rate``), and a relative rounding 10^-W of u moves u by |u|·10^-W: exp of
    u = -1e200 at 72 digits is wrong by a factor e^(1e128), sin of u = 1e100 has a random
    value, and so have their derivatives.  Each such argument costs log10|u| digits (erf and
    its kin 2·log10|u|: their derivative e^(-u²) changes over 1/|u|), a power b^p the
    digits of its exponent's effect, log10 max(|p|, |p·log b|) (b^p = e^(p log b)); log,
    atan and the switches, whose character is set by the size of their argument, cost none.
    Below these digits the relative errors are no longer proportional to 10^-W, and two
    evaluations at different precisions can agree or differ by anything.
    """
    worst = 0.0
    ctx = thread_context(15)
    for node in _tape(f):
        values = [ctx.convert(p.value) for p in map(memo.get, node.args) if p is not None]
        if len(values) < len(node.args):
            continue  # not evaluated: the pass declines there, and so does the condition
        for size in _arguments(node, values):
            if size > 1:
                worst = max(worst, float(ctx.log10(size)))
    return math.ceil(min(worst, _MAX_WORK))


class _Duals(NamedTuple):
    """Every node that could be evaluated, and each component's own (None: not evaluated)."""

    nodes: list[_Dual]
    roots: list[_Dual | None]
    steepest: Any  # the largest rate of f's functions and switches (``_rate``; 0: none)
    kinked: bool  # f has abs, sign, min, max, atan2 or Piecewise: its slope may jump
    condition: int  # digits the rounding of f's function arguments costs (``_condition``)
    # the largest |dv/dx|/|v| over f's powers v = b^p = e^(p·log b): the rate of p·log b,
    # which a complex step moves as a function's argument (0: no power)
    powers: Any


_KINKED = (
    sympy.Abs,
    sympy.sign,
    sympy.Heaviside,
    sympy.Min,
    sympy.Max,
    sympy.atan2,
    sympy.Piecewise,
)

#: Functions whose character is set by the size of their argument, not by a unit of it
#: (log(u(1 + d)) = log(u) + d): a relative rounding of u moves them by about that much.
_SCALE_FREE = (
    sympy.log,
    sympy.atan,
    sympy.asinh,
    sympy.acot,
    *_KINKED,  # the switches: piecewise in their arguments
)
#: Functions whose derivative changes over 1/|u| of their argument (erf' = 2e^(-u²)/√π).
_SQUARED = (sympy.erf, sympy.erfc, sympy.erfi)


#: Switches: piecewise linear or constant in their argument, which changes at its zero.
_SWITCHES = (sympy.Abs, sympy.sign, sympy.Heaviside)


def _rate(node: Any, memo: dict[Any, _Vector | None], axis: int) -> Any:
    """1 over the distance in x on which ``node`` keeps its character (0: no limit).

    A function changes over a unit of its argument u: |du/dx|.  A switch (abs, sign,
    Heaviside; min and max at a tie of two arguments) changes at u = 0, a distance |u|/|du/dx|
    away: abs(x - 1/3) at x = 0.333... (30 threes) has its kink 3e-31 away, and a step of
    1e-10 would straddle it and certify the average slope.  A switch exactly at the point is
    the kink probe's (``kink_suspect``).
    """
    args = [memo.get(a) for a in node.args]
    if any(a is None for a in args):
        return 0
    duals = [_Dual(a.value, a.slopes[axis]) for a in args if a is not None]
    if isinstance(node, sympy.Min | sympy.Max):
        gaps = [(a.value - b.value, a.slope - b.slope) for a, b in itertools.combinations(duals, 2)]
    elif isinstance(node, _SWITCHES):
        gaps = [(duals[0].value, duals[0].slope)]
    elif isinstance(node, sympy.Function):
        return max(abs(a.slope) for a in duals)
    else:
        return 0
    return max([0, *(abs(s) / abs(u) for u, s in gaps if u and s)])


def _reach(
    f: Compiled, x0: Sequence[sympy.Rational], counts: Sequence[int], dps: int
) -> tuple[int | None, ...]:
    """Per axis, a power of two 2^e no wider than 1/|du/dx| over the arguments u of f's functions.

    A function such as sin, tan or exp changes character over a unit of its argument; where
    an argument moves fast with x (x² at x = 1e200: du/dx = 2e200) a step relative to |x|
    moves it by 1e183 and the stencil samples tan(x²) at unrelated points: both steps of the
    Richardson pair see only the term x, agree, and certify the slope 1 of a function whose
    slope is 7e202.  So the automatic step is relative to min(|x|, 2^e) on each axis, and the
    working precision pays for the extra digits (``_scale_digits``, ``_node_digits``).
    None: no function argument moves with x along that axis.
    """
    reach: list[int | None] = []
    for axis, c in enumerate(counts):
        steep = _duals(f, tuple(x0), axis, dps + _GUARD).steepest if c else 0
        if steep:
            rate = float(
                math.log2(steep) if isinstance(steep, float) else thread_context(15).log(steep, 2)
            )
            # an infinite slope (x**(1/3) at 0): the narrowest step the working digits allow
            reach.append(-math.ceil(rate + 1e-9) if math.isfinite(rate) else -_REACH_FLOOR)
        else:
            reach.append(None)
    return tuple(reach)


def _log_scales(
    x0: Sequence[sympy.Rational], reach: Sequence[int | None], *, relative: bool
) -> list[float]:
    """log10 of each axis' step scale: |x| (1 at x = 0, or for a given step), at most 2^e."""
    scales = []
    for v, e in zip(x0, reach, strict=True):
        natural = math.log10(abs(v.p)) - math.log10(v.q) if relative and v else 0.0
        scales.append(natural if e is None else min(natural, e * math.log10(2)))
    return scales


_TAPES: dict[Hashable, tuple[Any, Any]] = {}


def _tape(f: Compiled) -> tuple[Any, ...]:
    """f's distinct nodes that hold a variable, children first (once per function)."""

    def build() -> tuple[Any, ...]:
        order: dict[Any, None] = {}

        def visit(node: Any) -> None:
            if node in order or not node.free_symbols or node.is_Symbol:
                return
            for a in node.args:
                visit(a)
            order[node] = None

        for expr in f.components:
            visit(expr)
        return tuple(order)

    return remembered(_TAPES, f, build)


def _constants(f: Compiled, ctx: Any, n: int) -> dict[Any, _Vector | None]:
    """The constant subtrees of f's nodes at ctx's precision (once per function and precision)."""

    def build() -> dict[Any, _Vector | None]:
        found: dict[Any, _Vector | None] = {}
        for node in _tape(f):
            for a in node.args:
                if not a.free_symbols and a not in found:
                    found[a] = _constant(ctx, a, n)
        return found

    return remembered(_CONSTANTS, f, build, key=(id(f), ctx.prec))


_CONSTANTS: dict[Hashable, tuple[Any, Any]] = {}


def _constant(ctx: Any, node: Any, n: int) -> _Vector | None:
    """A constant subtree, evaluated by SymPy (sin(10**100) is reduced exactly)."""
    value = node.evalf(ctx.dps + 5)
    if not isinstance(value, sympy.Float):
        return None  # complex, or not a number
    return _Vector(ctx.make_mpf(value._mpf_), (ctx.zero,) * n)


def _combine(ctx: Any, node: Any, parts: list[_Vector]) -> _Vector | None:
    """Sum, product and power rules; functions through ``_function``."""
    if isinstance(node, sympy.Add):
        return _Vector(
            ctx.fsum(p.value for p in parts),
            tuple(map(ctx.fsum, zip(*(p.slopes for p in parts), strict=True))),
        )
    if isinstance(node, sympy.Mul):
        value, slopes = parts[0]
        for p in parts[1:]:
            slopes = tuple(value * b + a * p.value for a, b in zip(slopes, p.slopes, strict=True))
            value = value * p.value
        return _Vector(value, slopes)
    if isinstance(node, sympy.Pow):
        base, power = parts
        value = ctx.power(base.value, power.value)
        if ctx.im(value):
            return None
        factor = power.value * ctx.power(base.value, power.value - 1)
        slopes = tuple(factor * s for s in base.slopes)
        if any(power.slopes):
            log = value * ctx.log(base.value)
            slopes = tuple(a + log * b for a, b in zip(slopes, power.slopes, strict=True))
        return _Vector(value, slopes)
    return _function(ctx, node, parts)


def _function(ctx: Any, node: Any, parts: list[_Vector]) -> _Vector | None:
    """A function node: abs, min, max, atan2, sign by hand, the others by a complex step."""
    if isinstance(node, sympy.Abs):
        (u,) = parts
        return _Vector(abs(u.value), u.slopes if u.value >= 0 else tuple(-s for s in u.slopes))
    if isinstance(node, sympy.Min | sympy.Max):
        pick = min if isinstance(node, sympy.Min) else max
        return pick(parts, key=lambda p: p.value)
    if isinstance(node, sympy.atan2):
        y, x = parts
        r2 = x.value**2 + y.value**2
        turns = tuple(
            (x.value * a - y.value * b) / r2 for a, b in zip(y.slopes, x.slopes, strict=True)
        )
        return _Vector(ctx.atan2(y.value, x.value), turns)
    if isinstance(node, sympy.Piecewise) or not isinstance(node, sympy.Function):
        return None
    rule = _RULES.get(node.func)
    if rule is not None:  # g and g' by mpmath directly (no complex evaluation)
        (u,) = parts
        value, slope = rule(ctx, u.value)
        return _Vector(value, tuple(slope * s for s in u.slopes))
    fn = _head(ctx, node.func, len(parts))
    if fn is None:
        return None
    value = ctx.convert(fn(*(p.value for p in parts))[0])
    zero = tuple(ctx.zero for _ in parts[0].slopes)
    if ctx.im(value):
        return None
    if isinstance(node, sympy.sign | sympy.Heaviside):
        return _Vector(value, zero)
    # ∂g/∂u = Im g(u + iτ)/τ + O(τ²) with τ = 2^(-prec/2): the truncation is below the
    # precision, and so is the absolute error 2^-prec of an imaginary part (besselj, atan), /τ
    moving = [i for i, p in enumerate(parts) if any(p.slopes)]
    if not moving:
        return _Vector(value, zero)
    tau = ctx.ldexp(1, -ctx.prec // 2)
    total: list[Any] = list(zero)
    for i in moving:  # the partial along each moving argument, times its slopes
        args = [ctx.mpc(p.value, tau) if k == i else p.value for k, p in enumerate(parts)]
        partial = ctx.im(fn(*args)[0]) / tau
        total = [s + partial * d for s, d in zip(total, parts[i].slopes, strict=True)]
    return _Vector(value, tuple(total))


def _sin(ctx: Any, u: Any) -> tuple[Any, Any]:
    return ctx.sin(u), ctx.cos(u)


def _cos(ctx: Any, u: Any) -> tuple[Any, Any]:
    return ctx.cos(u), -ctx.sin(u)


def _exp(ctx: Any, u: Any) -> tuple[Any, Any]:
    value = ctx.exp(u)
    return value, value


def _tan(ctx: Any, u: Any) -> tuple[Any, Any]:
    value = ctx.tan(u)
    return value, 1 + value * value


def _log(ctx: Any, u: Any) -> tuple[Any, Any]:
    if u <= 0:
        raise ValueError(u)  # not real: left out, as by the complex step
    return ctx.log(u), ctx.one / u


#: g(u) and g'(u) for the commonest functions; the others by a complex step of their code.
_RULES: dict[Any, Any] = {
    sympy.sin: _sin,
    sympy.cos: _cos,
    sympy.exp: _exp,
    sympy.tan: _tan,
    sympy.log: _log,
}

_HEADS: dict[Any, Compiled | None] = {}


def _head(ctx: Any, func: Any, n: int) -> Any:
    """The mpmath function of one SymPy function head (compiled once per head)."""
    key = (func, n)
    if key not in _HEADS:
        names = sympy.symbols(f"u0:{n}")
        try:
            _HEADS[key] = function(func(*names), list(names))
        except SymgradError:
            _HEADS[key] = None
    head = _HEADS[key]
    return None if head is None else head.mp_function(ctx.dps)[1]


# -- the forward pass in float64, where every magnitude it meets is representable -----------
#
# The pass only needs magnitudes (digits to a unit, rates to a power of two), so it first runs
# in float64 over a program compiled once per function, carrying beside every value and slope
# a bound on its absolute error (first-order rules with their second-order terms, each
# operation's rounding, and the argument's error through a bound on the function's
# derivative).  It vouches for a point only where every component is an exact zero or a
# normal number in [1e-140, 1e140] (products of two never under- or overflow) whose error is
# below 1e-4 of it; anything else (a cancellation, a large argument of sin, an overflow, a
# point outside a domain) raises ``_Unsure`` and the point goes to the mpmath pass.  What it
# hands on is rounded outwards: values up and slopes down by their bounds, rates up, so that no
# digit count or step reach is more generous than the mpmath pass's.

_EPS = 2.0**-52  # a bound on one float64 operation's relative error (1 ulp of libm included)
_FLOAT_LOW, _FLOAT_HIGH = 1e-140, 1e140
_FLOAT_REL = 1e-4  # the largest relative error the float pass vouches for
_OUTWARD = 1e-6  # a further relative margin on what it hands on


class _Unsure(Exception):
    """float64 cannot vouch for the pass at this point: the mpmath pass decides."""


class _Float(NamedTuple):
    """A node in float64: value, slopes and bounds on their absolute errors."""

    value: float
    error: float
    slopes: tuple[float, ...]
    errors: tuple[float, ...]


#: _Float from a tuple of its four fields, without the named tuple's Python-level __new__
_new_float = functools.partial(tuple.__new__, _Float)


def _vouch(node: _Float) -> _Float:
    """``node`` if its value and every slope is an exact zero, or a normal number in
    [1e-140, 1e140] whose error is below 1e-4 of it."""
    value, error, slopes, errors = node
    for c, e in ((value, error), *zip(slopes, errors, strict=True)):
        if c == 0:
            if e != 0:
                raise _Unsure
            continue
        size = abs(c)
        if not (_FLOAT_LOW <= size <= _FLOAT_HIGH and e <= _FLOAT_REL * size):
            raise _Unsure
    return node


def _f_add(parts: Sequence[_Float]) -> _Float:
    k = len(parts) * _EPS
    value = sum([p.value for p in parts])
    error = sum([p.error for p in parts]) + k * sum([abs(p.value) for p in parts])
    columns = list(zip(*[p.slopes for p in parts], strict=True))
    slopes = tuple(map(sum, columns))
    errors = tuple(
        [
            sum(es) + k * sum(map(abs, ss))
            for ss, es in zip(columns, zip(*[p.errors for p in parts], strict=True), strict=True)
        ]
    )
    return _new_float((value, error, slopes, errors))


def _f_mul(parts: Sequence[_Float]) -> _Float:
    a = parts[0]
    for b in parts[1:]:
        av, ae, a_slopes, a_errors = a
        bv, be, b_slopes, b_errors = b
        aa, ab = abs(av), abs(bv)
        slopes, errors = [], []
        for s, es, t, et in zip(a_slopes, a_errors, b_slopes, b_errors, strict=True):
            one, two = av * t, s * bv
            slopes.append(one + two)
            errors.append(
                aa * et + ae * (abs(t) + et) + ab * es + be * (abs(s) + es)
                + 2 * _EPS * (abs(one) + abs(two))
            )  # fmt: skip
        value = av * bv
        error = aa * be + ae * (ab + be) + _EPS * abs(value)
        a = _vouch(_new_float((value, error, tuple(slopes), tuple(errors))))
    return a


def _f_chain(u: _Float, g: float, eg: float, d: float, ed: float) -> _Float:
    """g(u) with error eg, its slopes by the chain rule from g'(u) = d with error ed."""
    slopes = tuple([d * s for s in u.slopes])
    ad = abs(d)
    errors = tuple(
        [
            ad * e + ed * (abs(s) + e) + _EPS * abs(t)
            for s, e, t in zip(u.slopes, u.errors, slopes, strict=True)
        ]
    )
    return _new_float((g, eg, slopes, errors))


def _f_sincos(u: _Float) -> tuple[float, float, float, float]:
    """sin u, cos u and their errors (|sin'|, |cos'| <= 1 bound the second-order terms)."""
    s, c, e = math.sin(u.value), math.cos(u.value), u.error
    return s, abs(c) * e + e * e / 2 + _EPS * abs(s), c, abs(s) * e + e * e / 2 + _EPS * abs(c)


def _f_sin(u: _Float) -> _Float:
    s, es, c, ec = _f_sincos(u)
    return _f_chain(u, s, es, c, ec)


def _f_cos(u: _Float) -> _Float:
    s, es, c, ec = _f_sincos(u)
    return _f_chain(u, c, ec, -s, es)


def _f_tan(u: _Float) -> _Float:
    s, es, c, ec = _f_sincos(u)
    if 2 * ec >= abs(c):
        raise _Unsure
    t = s / c
    et = (es + abs(t) * ec) / (abs(c) - ec) + _EPS * abs(t)
    d = 1 + t * t
    return _f_chain(u, t, et, d, 2 * abs(t) * et + et * et + 2 * _EPS * d)


def _f_exp(u: _Float) -> _Float:
    g = math.exp(u.value)
    if g == 0:
        raise _Unsure  # underflow: not an exact zero
    eg = g * (math.expm1(u.error) * (1 + _EPS) + _EPS)
    return _f_chain(u, g, eg, g, eg)


def _f_log(u: _Float) -> _Float:
    x, e = u.value, u.error
    if x <= 0 or e >= x / 2:
        raise _Unsure
    g = math.log(x)
    return _f_chain(u, g, e / (x - e) + _EPS * abs(g), 1 / x, e / (x * (x - e)) + _EPS / x)


def _f_abs(u: _Float) -> _Float:
    if u.value >= 0:
        return u
    return _Float(-u.value, u.error, tuple(-s for s in u.slopes), u.errors)


def _f_ipow(base: _Float, k: int) -> _Float:
    """base**k for an integer k, with (1 ± r)^|k| bounding the error from base's."""
    b = base.value
    if b == 0:
        if k < 0:
            raise _Unsure
        zero = tuple(0.0 for _ in base.slopes)
        return _Float(0.0, 0.0, zero, zero)
    r = base.error / abs(b)
    value, factor = b**k, k * b ** (k - 1)
    if value == 0 or factor == 0:
        raise _Unsure  # underflow: not an exact zero
    ev = abs(value) * (math.expm1(-abs(k) * math.log1p(-r)) + 4 * _EPS)
    ef = abs(factor) * (math.expm1(-abs(k - 1) * math.log1p(-r)) + 4 * _EPS)
    return _f_chain(base, value, ev, factor, ef)


def _f_pow(base: _Float, power: _Float) -> _Float:
    """base**power = exp(power·log(base)) for base > 0 (elsewhere the mpmath pass decides)."""
    return _vouch(_f_exp(_vouch(_f_mul([power, _vouch(_f_log(base))]))))


def _f_pow_parts(parts: Sequence[_Float]) -> _Float:
    return _f_pow(parts[0], parts[1])


#: rules whose node is vouched for inside (every product, and exp of a product)
_VOUCHING = (_f_mul, _f_pow_parts)

# The hyperbolic and inverse functions: libm's sinh, cosh and tanh are within 2 ulp and atan,
# asin and acos within 1 (glibc's documented bounds); each is charged 4 ulp (4·_EPS relative)
# and each float operation around it one.  The argument's error e moves g by at most
# e·max|g'| and g' by e·max|g''| over [u − e, u + e], bounded in closed form below.


def _beyond(x: float, e: float) -> float:
    """An upper bound on |t| over [x − e, x + e] (|x| + e, rounded up by a margin)."""
    return (abs(x) + e) * (1 + 2 * _EPS)


def _f_sinh(u: _Float) -> _Float:
    """sinh u, with |sinh'| = cosh <= cosh(|u| + e) and |cosh'| = |sinh| <= sinh(|u| + e)."""
    x, e = u.value, u.error
    g, d, far = math.sinh(x), math.cosh(x), _beyond(x, e)
    eg = math.cosh(far) * e * (1 + 8 * _EPS) + 4 * _EPS * abs(g)
    return _f_chain(u, g, eg, d, math.sinh(far) * e * (1 + 8 * _EPS) + 4 * _EPS * d)


def _f_cosh(u: _Float) -> _Float:
    """cosh u, with |cosh'| = |sinh| <= sinh(|u| + e) and |sinh'| = cosh <= cosh(|u| + e)."""
    x, e = u.value, u.error
    g, d, far = math.cosh(x), math.sinh(x), _beyond(x, e)
    eg = math.sinh(far) * e * (1 + 8 * _EPS) + 4 * _EPS * g
    return _f_chain(u, g, eg, d, math.cosh(far) * e * (1 + 8 * _EPS) + 4 * _EPS * abs(d))


def _f_tanh(u: _Float) -> _Float:
    """tanh u, with |tanh'| = 1 − tanh² <= 1 and |(1 − tanh²)'| = 2|tanh|(1 − tanh²) < 0.77.

    g' = 1 − t·t from t within 4 ulp: |t| <= 1 bounds its rounding by 12·_EPS absolute (a
    slope that 1 − t·t cancels to nothing is then not vouched for).
    """
    x, e = u.value, u.error
    t = math.tanh(x)
    return _f_chain(u, t, e + 4 * _EPS * abs(t), 1 - t * t, e + 12 * _EPS)


def _f_atan(u: _Float) -> _Float:
    """atan u, with |atan'| = 1/(1 + u²) <= 1 and |atan''| = 2|u|/(1 + u²)² < 0.65."""
    x, e = u.value, u.error
    d = 1 / (1 + x * x)
    if d == 0:
        raise _Unsure  # 1 + x² overflowed: no exact zero
    g = math.atan(x)
    return _f_chain(u, g, e + 4 * _EPS * abs(g), d, e + 4 * _EPS * d)


def _arcsine(u: _Float) -> tuple[float, float, float, float]:
    """asin u and its error, and 1/sqrt(1 − u²) and its error (|u| + e < 1, else _Unsure).

    On [u − e, u + e], |asin'| <= 1/sqrt(1 − r²) and |asin''| = |t|/(1 − t²)^(3/2) <=
    r/(1 − r²)^(3/2), r = |u| + e, with 1 − r² from below: (1 − r)(1 + r) within 3 roundings.
    The slope 1/sqrt((1 − u)(1 + u)) is within 6 roundings (half of the product's 3, the
    root's, the quotient's, and a margin).
    """
    x, e = u.value, u.error
    far = _beyond(x, e)
    room = (1 - far) * (1 + far) * (1 - 4 * _EPS)  # <= 1 − r²
    if far >= 1 or room <= 0:
        raise _Unsure  # the interval reaches asin's branch points
    g = math.asin(x)
    d = 1 / math.sqrt((1 - x) * (1 + x))
    eg = e / math.sqrt(room) * (1 + 4 * _EPS) + 4 * _EPS * abs(g)
    ed = e * far / (room * math.sqrt(room)) * (1 + 4 * _EPS) + 6 * _EPS * d
    return g, eg, d, ed


def _f_asin(u: _Float) -> _Float:
    return _f_chain(u, *_arcsine(u))


def _f_acos(u: _Float) -> _Float:
    """acos u = π/2 − asin u: the same bounds on the slope (negated) and on the value's change."""
    _, eg, d, ed = _arcsine(u)
    g = math.acos(u.value)
    return _f_chain(u, g, eg + 4 * _EPS * abs(g), -d, ed)


_FLOAT_RULES: dict[Any, Any] = {
    sympy.sin: _f_sin,
    sympy.cos: _f_cos,
    sympy.tan: _f_tan,
    sympy.exp: _f_exp,
    sympy.log: _f_log,
    sympy.Abs: _f_abs,
    sympy.sinh: _f_sinh,
    sympy.cosh: _f_cosh,
    sympy.tanh: _f_tanh,
    sympy.atan: _f_atan,
    sympy.asin: _f_asin,
    sympy.acos: _f_acos,
}


class _Program(NamedTuple):
    """f's tape as float64 steps: slots of variables, constants, then nodes (once per f)."""

    units: tuple[tuple[float, ...], ...]  # each variable's slopes: 1 along its own axis
    constants: tuple[_Float, ...]
    # (rule of the parts, slots of the parts, whether the rule vouches for its node itself)
    steps: tuple[tuple[Any, tuple[int, ...], bool], ...]
    rates: tuple[tuple[bool, tuple[int, ...]], ...]  # per function node: switch?, arg slots
    powers: tuple[int, ...]  # the slots of the powers (``_Duals.powers``)
    roots: tuple[int | None, ...]  # each component's slot
    kinked: bool  # as ``_Duals.kinked``


def _program(f: Compiled) -> _Program | None:
    """f's tape compiled for the float pass (None: an operation it has no rule for)."""

    def build() -> _Program | None:
        n = len(f.variables)
        slot: dict[Any, int] = {v: i for i, v in enumerate(f.variables)}
        constants: list[_Float] = []
        steps: list[tuple[Any, tuple[int, ...], bool]] = []
        rates: list[tuple[bool, tuple[int, ...]]] = []
        powers: list[int] = []
        tape = _tape(f)
        for a in (a for node in tape for a in node.args):
            if not a.free_symbols and a not in slot:
                c = _float_constant(a, n)
                if c is None:
                    return None
                slot[a] = n + len(constants)
                constants.append(c)
        for node in tape:
            rule = _float_rule(node)
            if rule is None:
                return None
            args = tuple(slot[a] for a in node.args)
            steps.append((rule, args, rule in _VOUCHING))
            slot[node] = len(slot)
            if node.is_Function:
                rates.append((isinstance(node, _SWITCHES), args))
            if isinstance(node, sympy.Pow):
                powers.append(slot[node])
        roots = tuple(slot.get(c) for c in f.components)
        kinked = any(isinstance(node, _KINKED) for node in tape)
        units = tuple(tuple(1.0 if j == i else 0.0 for j in range(n)) for i in range(n))
        return _Program(
            units, tuple(constants), tuple(steps), tuple(rates), tuple(powers), roots, kinked
        )

    return remembered(_PROGRAMS, f, build)


_PROGRAMS: dict[Hashable, tuple[Any, Any]] = {}


def _float_constant(node: Any, n: int) -> _Float | None:
    value = node.evalf(30)
    if not isinstance(value, sympy.Float):
        return None
    v = float(value)
    exact = node.is_Rational and v.as_integer_ratio() == (node.p, node.q)
    found = _Float(v, 0.0 if exact else _EPS * abs(v) or math.inf, (0.0,) * n, (0.0,) * n)
    try:
        return _vouch(found)
    except _Unsure:
        return None


def _float_rule(node: Any) -> Any:
    """The float pass's rule for one node: a function of its parts' ``_Float`` list."""
    if isinstance(node, sympy.Add):
        return _f_add
    if isinstance(node, sympy.Mul):
        return _f_mul
    if isinstance(node, sympy.Pow):
        power = node.exp
        if power.is_Integer:
            k = int(power)
            return lambda parts: _f_ipow(parts[0], k)
        return _f_pow_parts
    rule = _FLOAT_RULES.get(node.func)
    if rule is None or len(node.args) != 1:
        return None
    return lambda parts: rule(parts[0])


def _float_duals(f: Compiled, x0: tuple[sympy.Rational, ...]) -> list[_FloatAxis] | None:
    """``_duals`` for every axis from the float pass (None: it cannot vouch at x0).

    The pass itself (every node vouched for) runs here; what each axis hands on is built from
    its nodes when it is first asked for (``_FloatAxis``).
    """
    program = _program(f)
    if program is None:
        return None
    n = len(x0)
    slots: list[_Float] = []
    try:
        for i, p in enumerate(x0):
            v = p.p / p.q
            # a coordinate rounded to zero is no exact zero: an infinite error declines it
            error = 0.0 if v.as_integer_ratio() == (p.p, p.q) else _EPS * abs(v) or math.inf
            slots.append(_vouch(_new_float((v, error, program.units[i], (0.0,) * n))))
        slots.extend(program.constants)
        for rule, args, vouched in program.steps:
            node = rule([slots[a] for a in args])
            slots.append(node if vouched else _vouch(node))
    except (_Unsure, ArithmeticError, ValueError):
        return None
    return [_FloatAxis(slots, program, j) for j in range(n)]


class _FloatAxis:
    """``_Duals`` of one axis from the float pass, each part computed on first use.

    The complex step asks only for ``steepest``; the stencil's digit count for ``nodes`` and
    its slope check for ``roots``.  The values are those of the pass: nodes with values rounded
    up and slopes down by their bounds, rates up, each by a further ``_OUTWARD``.
    """

    def __init__(self, slots: list[_Float], program: _Program, axis: int) -> None:
        self._slots, self._program, self._axis = slots, program, axis
        self.kinked = program.kinked
        # vouched: no value or slope is wrong by more than 1e-4 at float64's 2^-52, so no
        # rounding moves f's operations by more than 4.5e11 units of 10^-W: at the complex
        # step's dps + 7 >= 22 digits each stays within its expansion, and the chain of
        # values, 8 digits apart, resolves a loss that is proportional to 10^-W itself
        self.condition = 0

    @functools.cached_property
    def nodes(self) -> list[_Dual]:
        j = self._axis
        return [
            _Dual(
                (abs(d.value) + d.error) * (1 + _OUTWARD),
                (abs(d.slopes[j]) - d.errors[j]) * (1 - _OUTWARD),
            )
            for d in self._slots
            if d.slopes[j]
        ]

    @functools.cached_property
    def roots(self) -> list[_Dual | None]:
        slots, j = self._slots, self._axis
        return [
            None if r is None else _Dual(slots[r].value, slots[r].slopes[j])
            for r in self._program.roots
        ]

    @functools.cached_property
    def steepest(self) -> float:
        slots, j = self._slots, self._axis
        rates = (_float_rate(slots, args, j, switch) for switch, args in self._program.rates)
        return max([0.0, *rates]) * (1 + _OUTWARD)

    @functools.cached_property
    def powers(self) -> float:
        """``_Duals.powers`` from the float pass, rounded up: |v'| + its error over |v| − its."""
        slots, j = self._slots, self._axis
        worst = 0.0
        for k in self._program.powers:
            v = slots[k]
            if v.slopes[j]:
                low = abs(v.value) - v.error
                worst = max(worst, (abs(v.slopes[j]) + v.errors[j]) / low if low > 0 else math.inf)
        return worst * (1 + _OUTWARD)


def _float_rate(slots: list[_Float], args: tuple[int, ...], axis: int, switch: bool) -> float:
    """``_rate`` from the float pass, rounded up: |du/dx|, or |du/dx| / |u| for a switch."""
    if switch:
        u = slots[args[0]]
        s = u.slopes[axis]
        return (abs(s) + u.errors[axis]) / (abs(u.value) - u.error) if u.value and s else 0.0
    return max(abs(slots[a].slopes[axis]) + slots[a].errors[axis] for a in args)


def _mp(
    f: Compiled,
    x0: Sequence[sympy.Rational],
    terms: _Terms,
    step: Any,
    dps: int,
    error_control: bool,
    extra: int = 0,
) -> _Run:
    """Guard-digit stencil; with error control, a Richardson pair and step refinement.

    ``extra`` digits are added to the working precision (what f loses at the point).
    """
    given = None if step is None else _mp_number(thread_context(dps), step)
    k = (dps + _GUARD) / terms.p if given is None else -float(thread_context(dps).log10(abs(given)))
    if not error_control and given is None:
        k += _FAST_GUARD / terms.p  # no a-posteriori check: buy a wider margin a priori
    # a given step is absolute (scale 1); an automatic one no wider than f's arguments allow
    reach = _reach(f, x0, terms.counts, dps) if given is None else None
    scales = _log_scales(x0, reach or (None,) * len(x0), relative=given is None)
    if given is None:
        extra += _scale_digits(scales, terms.counts)
    extra += _node_digits(f, x0, terms.counts, scales, dps=dps)
    evaluations, history = 0, []
    for attempt in range(_MAX_REFINE + 1):
        work = min(_work_digits(terms, dps, k) + extra, _MAX_WORK)
        coarse_probe = _probe(f, x0, work, relative=given is None, reach=reach)
        # at least _NOISE digits more, after both precisions are rounded to the grain
        fine_probe = _probe(f, x0, coarse_probe.work + _NOISE, relative=given is None, reach=reach)
        ctx = fine_probe.ctx
        # an automatic step is a power of two, so x + s*h is exact for small offsets s
        h = ctx.convert(given) if given is not None else ctx.ldexp(1, -math.ceil(k * _LOG2_10))
        try:
            fine, scale = fine_probe.stencil_sum(terms, h)
            if not error_control:
                why = f"a-priori step at {fine_probe.work} working digits"
                count = evaluations + len(terms.items)
                found = _Stencilled(fine, None, h, terms, fine_probe, count)
                return _Run(_finish(f, found, PointStatus.OK, why, dps), True, scale)
            coarse, _ = coarse_probe.stencil_sum(terms, 2 * h)
        except _PointProblem as problem:
            tried = k if given is None else _relative(x0, terms, k)
            nearer = _nearer(f, x0, terms, tried, dps)
            if nearer is None or not _centre_fine(fine_probe):  # the point's own singularity
                return _Run(_failed(f, problem, "mp", terms.scheme, work, evaluations), False, 0)
            if given is not None or attempt == _MAX_REFINE:
                why = _near_singularity(problem, given=given is not None)
                return _Run(
                    _failed(f, problem, "mp", terms.scheme, work, evaluations, why), False, 0
                )
            k = nearer  # inside the distance the point's digits allow a singularity
            continue
        evaluations += 2 * len(terms.items)
        value, est = _richardson(ctx, fine, coarse, terms.p, extrapolate=given is None)
        # the rounding of the f values, Σ|w| ulp(f) / h^m, which no difference of them can show
        # (f equal at every stencil point, its change lost below the working precision)
        floor = _rounding_floor(terms, coarse_probe, scale, h)
        est = [e + floor for e in est]
        # digits count relative to |f'|, or to |f| over the step's scale max(1, |x|)^m
        size = ctx.one
        for v, m in zip(fine_probe.args, terms.counts, strict=True):
            if m and abs(v) > 1:
                size *= abs(v) ** m
        tol = max([abs(v) for v in value] + [scale / size]) / _power_of_ten(dps)
        worst = max(est)
        history.append(worst)
        if given is not None:
            found = _Stencilled(value, est, h, terms, fine_probe, evaluations + len(terms.items))
            wide = _too_wide(f, x0, terms, h, dps) or _hidden_slope(f, x0, terms, found, tol)
            if wide:
                return _Run(_finish(f, found, PointStatus.UNRELIABLE, wide, dps), True, scale)
            return _Run(_given_result(f, found, coarse, floor, dps), True, scale)
        if worst <= tol:
            found = _Stencilled(value, est, h, terms, fine_probe, evaluations)
            hidden = _hidden_slope(f, x0, terms, found, tol)
            if hidden:
                return _Run(_finish(f, found, PointStatus.UNRELIABLE, hidden, dps), False, scale)
            why = f"error estimate {ctx.nstr(worst, 3)} at {fine_probe.work} working digits"
            return _Run(_finish(f, found, PointStatus.OK, why, dps), True, scale)
        if work >= _MAX_WORK:
            break
        missing = min(float(ctx.log10(worst / tol)), 4.0 * (dps + _GUARD))
        # a singularity the point's digits allow within the step (1/(x - 1) at 1 + 1e-40: the
        # stencil straddles the pole, no value fails, and every estimate misses): step inside
        nearer = _nearer(f, x0, terms, k, dps) or 0.0
        k = max(k + missing / terms.p + 1, nearer)  # shrink h by the missing digits ...
        extra += math.ceil(missing)  # ... and carry them, in case rounding is what is missing
    reason = (
        f"after {len(history) - 1} refinements the error estimate {ctx.nstr(worst, 3)} still "
        f"exceeds 10^-{dps} relative; the point may be near a singularity"
    )
    found = _Stencilled(value, est, h, terms, fine_probe, evaluations)
    result = _finish(f, found, PointStatus.UNRELIABLE, reason, dps)
    converging = len(history) < 2 or history[-1] < history[-2]
    return _Run(result, converging, scale)


def _hidden_slope(
    f: Compiled, x0: Sequence[sympy.Rational], terms: _Terms, found: _Stencilled, tol: Any
) -> str:
    """Why a first-derivative stencil cannot be trusted at its step ('' where it can).

    The stencil's error estimate compares two steps, and is blind to a variation on a scale
    far below both: tan(x²) + x at x = 1e200 oscillates with period 1e-200, and every step the
    estimate can afford sees only x (value 1, error estimate 1e-40; the slope is 7e202).  The
    forward pass over f's own operations (``_duals``, at the working precision) gives the local
    slope; a value that misses it by more than half (beyond the estimate and the tolerance) is
    ``unreliable``.  The pass only declines: it never supplies a value or an estimate.  With
    the step no wider than f's inner arguments allow (``_reach``) this is a second line; f with
    abs, sign, min, max or atan2 is left to the kink probe (its slope may jump at the point).
    """
    if terms.m != 1:
        return ""
    axis = terms.counts.index(1)
    duals = _duals(f, tuple(x0), axis, found.probe.work)
    if duals.kinked:
        return ""  # a one-sided slope at a kink is not the slope of either side
    roots = duals.roots
    assert found.estimate is not None
    for got, est, root in zip(found.value, found.estimate, roots, strict=True):
        if root is None:
            continue
        gap = abs(got - root.slope)
        if gap > max(abs(got), abs(root.slope)) / 2 + est + tol:
            ctx = thread_context(15)
            return (
                f"the stencil gives {ctx.nstr(got, 6)} but f's operations at the point have "
                f"the slope {ctx.nstr(root.slope, 6)}: f varies on a scale far below the step "
                "(an oscillation such as tan(x**2) at a large x), which no step tried resolves"
            )
    return ""


def _nearer(
    f: Compiled, x0: Sequence[sympy.Rational], terms: _Terms, k: float, dps: int
) -> float | None:
    """The step exponent that keeps a stencil off a singularity the point is not on (None: the
    steps tried are already that small, and the singularity is the point's own).

    ``k`` is log10(1/h) of the step tried, relative to the step's scale.  A stencil point
    where f fails, with f finite and real at the point, lies beyond a singularity between
    them: atanh at 1 - 1e-30 differenced with h = 2^-32.  Unless the
    point is on it, it is at least 10^-separation (relative to the step's scale) away
    (``_holding``); a step 2h·max|offset| below that, and (dps + guard)/p digits below it for
    the truncation error, differences inside.  sqrt(x) at 0 (x - h fails at every h) keeps
    its ``domain``: the point's digits allow no nearer singularity than the steps tried.
    """
    widest = max(abs(o) for offsets in terms.offsets for o in offsets)
    reach = _holding(f, x0).separation + math.log10(2 * widest)
    return reach + (dps + _GUARD) / terms.p if k < reach else None


def _centre_fine(probe: _Probe) -> bool:
    """Whether f is a finite real number at the point itself, at the probe's precision."""
    try:
        probe.centre()
    except _PointProblem:
        return False
    return True


def _relative(x0: Sequence[sympy.Rational], terms: _Terms, k: float) -> float:
    """log10(1/h) of a given (absolute) step h, relative to the largest differenced |x|
    (the scale of ``_holding``'s separation; 1 where that x is 0)."""
    sizes = [abs(v) for v, c in zip(x0, terms.counts, strict=True) if c and v]
    if not sizes:
        return k
    size = max(sizes)
    return k + math.log10(size.p) - math.log10(size.q)


def _near_singularity(problem: _PointProblem, *, given: bool) -> str:
    """Why a point near, not on, a singularity is ``unreliable``."""
    if given:
        return (
            f"f fails at {problem.where}, a stencil point of the given step, though it is "
            "finite and real at the point itself: the step reaches a singularity near the "
            "point (give a smaller step, or none)"
        )
    return (
        f"f fails at {problem.where}, a stencil point, though it is finite and real at the "
        "point itself: a singularity nearer than every step tried"
    )


@functools.cache
def _power_of_ten(digits: int) -> int:
    """10^digits (a Python integer, which mpmath divides by exactly as by a context number)."""
    return int(10**digits)


def _too_wide(f: Compiled, x0: Sequence[sympy.Rational], terms: _Terms, h: Any, dps: int) -> str:
    """Why a given step is beyond f's own scale ('' where it is not).

    The asymptotic-range test compares D(2h), D(h) and D(h/2); a step that moves an argument
    of f's functions by more than a unit samples them at unrelated points, and their ratio
    can look like 2^p by accident: sin(50x) at step 0.5 passed it with 0.0015 for an error of
    48.  So the widest offset of the coarse stencil, 2h·max|offset|, must move no argument
    by more than a unit and cross no switch (``_rate``).
    """
    for axis, c in enumerate(terms.counts):
        if not c:
            continue
        rate = _duals(f, tuple(x0), axis, dps + _GUARD).steepest
        widest = 2 * abs(h) * max(abs(o) for o in terms.offsets[axis])
        if rate * widest > 1:
            ctx = thread_context(15)
            return (
                f"the given step {ctx.nstr(h, 3)} is outside the asymptotic range: it moves an "
                f"argument of f's functions by {ctx.nstr(rate * widest, 3)} units (or crosses a "
                "switch such as abs), beyond the expansion its error estimate needs (give a "
                "smaller step, or none)"
            )
    return ""


def _given_result(
    f: Compiled, found: _Stencilled, coarse: list[Any], floor: Any, dps: int
) -> FDResult:
    """D(h) at a given step: ``ok`` only where h is inside the asymptotic range.

    The estimate 2|D(h) − D(2h)|/(2^p − 1) is a truncation bound only where the leading error
    term C h^p dominates.  There D(2h) − D(h) is about 2^p (D(h) − D(h/2)); a ratio outside
    [0.8·2^p, 2^(p+1)] means h is too wide for the expansion (sin(x) at a step of 1e300,
    sin(50 x) at 0.1) or the error falls at a lower order than p (x·|x| at 0 under central:2:
    D(h) = h, ratio 2, where the estimate would be 2h/3), and the value is ``unreliable``.  An
    error of order q has the ratio 2^q and is bounded by the estimate when 2^q >= (2^p + 1)/2,
    which 0.8·2^p ensures for every p >= 1.  Differences at the rounding floor (a
    polynomial the stencil differentiates exactly) need no ratio.  D(h/2) uses only points
    between those of D(h), so it stays where D(h) was defined.
    """
    ctx, terms, h, fine = found.probe.ctx, found.terms, found.step, found.value
    why = f"error estimate {ctx.nstr(max(found.estimate or [ctx.zero]), 3)} at the given step"
    try:
        half, _ = found.probe.stencil_sum(terms, h / 2)
    except _PointProblem as problem:
        why = f"D(h/2) cannot check the given step: f fails at {problem.where}"
        return _finish(f, found, PointStatus.UNRELIABLE, why, dps)
    low, high = ctx.mpf(2) ** terms.p * _RATIO_LOW, ctx.mpf(2) ** (terms.p + 1)
    for a, b, c in zip(half, fine, coarse, strict=True):
        near, far = abs(a - b), abs(b - c)
        if far <= 2 * floor and near <= 2 * floor:
            continue
        if not low * near <= far <= high * near:
            ratio = ctx.nstr(far / near, 3) if near else "infinite"
            why = (
                f"the given step {ctx.nstr(h, 3)} is outside the asymptotic range: D(2h) - D(h) "
                f"is {ratio} times D(h) - D(h/2), not about 2^{terms.p}; its truncation error "
                "is unknown (give a smaller step, or none)"
            )
            return _finish(f, found, PointStatus.UNRELIABLE, why, dps)
    return _finish(f, found, PointStatus.OK, why, dps)


def _rounding_floor(terms: _Terms, probe: _Probe, scale: Any, h: Any) -> Any:
    """Σ|w| 2^(1-prec) max|f| / Π (h s_i)^(m_i): what rounding f to the working precision costs.

    Taken at the coarse stencil's precision, the lower of the two.
    """
    ctx = probe.ctx
    ulp = ctx.ldexp(scale, 1 - ctx.prec) * 10**terms.weight_digits
    for s, c in zip(probe.scales, terms.counts, strict=True):
        if c:
            ulp /= (h * s) ** c
    return ulp


def _richardson(
    ctx: Any, fine: list[Any], coarse: list[Any], p: int, *, extrapolate: bool
) -> tuple[list[Any], list[Any]]:
    """The value and its error estimate from D(h) and D(2h) (module docstring).

    A given step returns D(h) itself with twice the leading-order estimate of its truncation
    error, |D(h) − D(2h)|/(2^p − 1), a bound even when the next term is not small.
    """
    factor = ctx.mpf(2) ** p - 1
    delta = [abs(a - b) for a, b in zip(fine, coarse, strict=True)]
    if not extrapolate:
        return fine, [2 * d / factor for d in delta]
    value = [a + (a - b) / factor for a, b in zip(fine, coarse, strict=True)]
    return value, [2 * d for d in delta]


class _Stencilled(NamedTuple):
    """A stencil's value at one step, at the working precision, before it is rounded."""

    value: list[Any]
    estimate: list[Any] | None  # None: no error control
    step: Any
    terms: _Terms
    probe: _Probe  # the fine stencil's probe: its precision is the working one
    evaluations: int


def _finish(
    f: Compiled, found: _Stencilled, status: PointStatus, reason: str, dps: int
) -> FDResult:
    """Round to the requested digits in this thread's dps context (the rounding is estimated)."""
    final = thread_context(dps)
    return FDResult(
        _shaped([round_to(final, v) for v in found.value], f.shape),
        _estimates(final, found.value, found.estimate, f.shape),
        round_to(final, found.step),
        status,
        reason,
        "mp",
        found.terms.scheme,
        found.probe.work,
        found.evaluations,
    )


def _estimates(final: Any, value: list[Any], est: list[Any] | None, shape: Any) -> Any:
    """Error estimates plus the rounding of each value to ``final``'s precision."""
    if est is None:
        return np.full(shape, np.nan)
    ulp = final.ldexp(1, 1 - final.prec)
    mpf = final.mpf
    bounds = [mpf(e) + abs(mpf(v)) * ulp for e, v in zip(est, value, strict=True)]
    return _shaped(bounds, shape)


def _failed(
    f: Compiled,
    problem: _PointProblem,
    method: str,
    scheme: str,
    work: int,
    evaluations: int,
    near: str = "",
) -> FDResult:
    """A result where f failed (``near``: the reason f failed near, not at, the point)."""
    nan = np.full(f.shape, np.nan)
    words = {
        PointStatus.POLE: "has a pole",
        PointStatus.DOMAIN: "is not real",
        PointStatus.OVERFLOW: "overflows",
    }
    reason = f"f {words.get(problem.status, 'fails')} at {problem.where}"
    status = problem.status
    if near:
        status, reason = PointStatus.UNRELIABLE, near
    elif not problem.held:  # the point rounded to the largest precision: it may be another one
        status = PointStatus.UNRELIABLE
        reason = (
            f"{reason} rounded to {problem.work} digits, which do not hold the point's own "
            f"digits (it needs more than {_MAX_WORK}): whether the exact point is one cannot "
            "be decided"
        )
    return FDResult(nan, nan, 0, status, reason, method, scheme, work, evaluations)


def _mp_number(ctx: Any, value: Any) -> Any:
    if isinstance(value, str):
        from symgrad.expr import parse_number  # noqa: PLC0415

        r = parse_number(value)
        return ctx.mpf(r.p) / r.q
    return ctx.convert(value)


def _scalar(value: Any) -> Any:
    """A 0-d array as the number it holds (an mpf, or a Python float for float64)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    return float(value) if isinstance(value, np.floating) else value


def _flat(values: Any) -> Any:
    """Numbers or arrays of them as a flat object array (one entry per component)."""
    return np.asarray(values, dtype=object).reshape(-1)


def _shaped(values: list[Any], shape: tuple[int, ...]) -> Any:
    """The values in the function's shape (a scalar function's one value as itself)."""
    if not shape:
        return values[0]
    return np.array(values, dtype=object).reshape(shape)


def _strings(values: Any) -> Any:
    array = np.asarray(values, dtype=object)
    return [str(v) for v in array.reshape(-1)] if array.shape else str(array[()])


# -- what f loses at the point ---------------------------------------------------------------


def digits_lost(f: Compiled, x0: Sequence[sympy.Rational], dps: int) -> int:
    """Digits the formula of f cancels at x0: extra working digits every stencil needs.

    f is evaluated at doubling precisions until one evaluation is correct to dps + G digits;
    the previous one, compared with it, shows how many of its digits were lost.  A value that
    is exactly zero at either precision tells nothing (a value lost entirely is zero however
    many digits it lost), so the doubling goes on; f that is zero at every precision tried is
    taken as zero.
    Raises ``_PointProblem`` where f is not a finite real number.
    """
    base = dps + _GUARD
    held = _holding(f, x0).digits
    low = _probe(f, x0, max(base, held), relative=True)
    work = base if held <= base else low.work  # the point's digits: counted as carried
    low_values = low.at(low.args)
    while 2 * work <= _MAX_WORK:
        high = _probe(f, x0, 2 * work, relative=True)
        high_values = high.at(high.args)
        lost = _lost(high.ctx, low_values, high_values, work)
        if lost is not None and 2 * work - lost >= base:
            return max(0, lost - _GUARD)
        work, low_values = 2 * work, high_values
    return 0


#: A value that keeps fewer digits than this against a better one lost them all: the gap of
#: two wrong values (exp of a rounded -1e200 is off by a factor e^(1e128)) measures nothing.
_KEPT = 2


def _lost(ctx: Any, low: list[Any], high: list[Any], work: int) -> int | None:
    """Digits lost by the ``work``-digit values against better ones (None: cannot tell)."""
    worst = 0
    for a, b in zip(low, high, strict=True):
        if not a or not b:
            return None  # lost entirely at one precision (or really zero): no measure yet
        if a != b:
            correct = -float(ctx.log10(abs(a - b) / abs(b)))
            if correct < _KEPT:
                return None  # lost entirely (x·exp(-x) at 1e200): the gap measures nothing
            worst = max(worst, math.ceil(work - correct))
    return worst


# -- complex step ----------------------------------------------------------------------------


class _Complex(NamedTuple):
    """A certified complex-step value (``value`` None when it could not be certified)."""

    value: list[Any] | None
    estimate: list[Any]
    step: Any
    work: int
    evaluations: int
    reason: str


def complex_step(
    f: Compiled, x0: Sequence[sympy.Rational], axis: int, dps: int, at: AtPoint | None = None
) -> _Complex:
    """Im f(x + ih)/h, certified by a chain of values at alternating, shrinking steps.

    Each new value is computed at a step −h/2 (times 10^-m/2 when m digits were missing) and
    with ``_COMPLEX_DIGITS`` + 1.5·m more digits, and at least the digits that resolve an
    absolute error of the imaginary part at that step (``_step_work``), so it is better than the
    last both in rounding and in truncation, and |last − new| bounds the last one's error
    (module docstring).  The real parts, f(x) + O(h²), must agree too: they show that f itself is
    evaluated to the digits asked (exp(x³/4) at x = 1e30 needs 90 digits before it has one),
    and give |f|, relative to which (with |f'|) the digits are counted.

    The bookkeeping (the step, the gaps, the tolerances and their comparisons) runs on raw mpf
    tuples through ``mpmath.libmp``, each operation at the precision and with the rounding that
    the context numbers would use (that of the left operand's context: a difference of the last
    and the new value is rounded at the last one's precision), so every number and decision is
    the one the same formulas give on context numbers, without creating them.
    ``at`` is f at x0 where the caller has it (shared by the partials of one gradient).
    Raises ``_PointProblem`` where f or its complex extension fails.
    """
    at = at or AtPoint(f, x0)
    duals = _duals(f, tuple(x0), axis, dps + _GUARD, at.key)
    work = _complex_work(dps, duals.condition)
    if work > _MAX_WORK:
        why = (
            f"f's functions need {duals.condition} digits at the point (their condition "
            f"there), more than {_MAX_WORK} working digits hold"
        )
        return _Complex(None, [], 0, _MAX_WORK, 0, why)
    probe = at.probe(work)
    low = probe.ctx.prec
    unit, h = _start(dps, low)  # the requested relative precision, and 10^-4 of it
    x = _abs(probe.args[axis]._mpf_, low)
    if x[1] and x[2] + x[3] <= 0:  # 0 < |x| < 1 (|x| < 2^(exp + bc)): relative to a small |x|
        h = lib.mpf_mul(h, x, low, _RND)
    # digits count relative to |f'| or |f|/size, size = max(1, |x|): |x| >= 2^(exp + bc - 1)
    size = x if x[1] and x[2] + x[3] >= 1 and x != lib.fone else lib.fone
    steepest = duals.steepest
    h = _within_powers(duals.powers, h, low)
    if _beyond_reach(steepest, h, low):  # sec(x**2) at 1e200: Im f ~ e^(-2xh) vanishes
        ctx = probe.ctx
        why = (
            f"the complex step h = {ctx.nstr(ctx.make_mpf(h), 3)} moves an argument of f's "
            f"functions by {ctx.nstr(ctx.make_mpf(_times(steepest, h, low)), 3)} units, beyond "
            "the expansion it relies on"
        )
        return _Complex(None, [], ctx.make_mpf(h), probe.work, 0, why)
    last = _Pair(*probe.raw_step(axis, h), probe.ctx, low)
    missing, count = 0.0, 1
    for _ in range(_MAX_REFINE + 1):
        prec = probe.ctx.prec  # h is a number of the last probe's context
        if missing:
            shrink = lib.from_int(2 * _power_of_ten(math.ceil(missing / 2)))
            h = lib.mpf_div(lib.mpf_neg(h, prec, _RND), shrink, prec, _RND)
        else:
            h = _neg_half(h, prec)
        # the certifying value resolves an absolute error 10^-W of the imaginary part at h
        work = max(probe.work + _COMPLEX_DIGITS + math.ceil(1.5 * missing), _raw_step_work(dps, h))
        if work > _MAX_WORK:
            break
        probe = at.probe(work)
        prec = probe.ctx.prec
        h = h if h[3] <= prec and h[1] else lib.mpf_pos(h, prec, _RND)  # already at prec
        new = _Pair(*probe.raw_step(axis, h), probe.ctx, prec)
        work, count = probe.work, count + 1
        if any(a == lib.fzero and b == lib.fzero for a, b in zip(last.im, new.im, strict=True)):
            why = "the imaginary part vanishes at two precisions (lost, or f' = 0)"
            return _Complex(None, [], probe.ctx.make_mpf(h), work, count, why)
        gaps = _gaps(unit, size, low, last, new, h)
        widest = _largest(gaps.est)
        if lib.mpf_le(widest, gaps.tol) and lib.mpf_le(gaps.drift, gaps.drift_tol):
            # f itself, up to the h² f''/2 by which the real parts of two steps differ, and by
            # which Re f(x + ih) differs from f(x): a step beyond f's scale (sec(x²) at
            # x = 1e200, where Im f(x + ih) ~ e^(-2xh) vanishes at both steps) shows in the
            # real part
            centre = probe.centre_raw
            drift = _largest([_abs_diff(a, b, prec) for a, b in zip(new.re, centre, strict=True)])
            if lib.mpf_le(drift, gaps.drift_tol):
                why = f"complex step certified by a second step at {work} digits"
                make, made = new.ctx.make_mpf, last.ctx.make_mpf
                estimate = [made(e) for e in gaps.est]
                return _Complex([make(v) for v in new.im], estimate, make(h), work, count, why)
            gaps = gaps._replace(drift=drift, drift_prec=prec)
        missing = min(_missing_digits(gaps, widest, unit, low, last, new.ctx), 4.0 * (dps + _GUARD))
        last = new
    why = f"the complex step did not settle to 10^-{dps} relative in {count} evaluations"
    return _Complex(None, [], probe.ctx.make_mpf(h), work, count, why)


def _within_powers(rate: Any, h: _Mpf, prec: int) -> _Mpf:
    """h, halved until it turns the exponent p·log b of no power b^p in f by more than 1e-3.

    (x + ih)^y = x^y·e^(i·y·h/x + ...): at y = 8e50, x = 2e-272 and h = 1e-34·x the step
    turns the exponent by 8e16 radians, and Im f/h is no derivative (two such values agreed
    within a tolerance set by the term y, far from the truth).  ``rate`` is the largest
    |dv/dx|/|v| of the powers v (``_Duals.powers``); an ordinary power (x**2 at 0.3: 7 per
    unit of x, against a step of 1e-54) leaves h as it is.
    """
    if not _beyond_reach(rate, h, prec):
        return h
    ctx = thread_context(15)
    over = ctx.make_mpf(_times(rate, h, prec)) / _COMPLEX_REACH
    k = max(1, math.ceil(float(ctx.log(over, 2))) - 1)  # at most the halvings needed
    while _beyond_reach(rate, lib.mpf_shift(h, -k), prec):
        k += 1
    return lib.mpf_shift(h, -k)


def _complex_work(dps: int, condition: int) -> int:
    """The first complex-step value's working digits: dps + guard + 3, and beyond those 3 the
    digits the rounding of f's function arguments costs at the point (``_Duals.condition``).

    The chain of values certifies itself only where their errors are proportional to 10^-W:
    two values whose arguments rounded beyond the functions' expansion (exp of u = -1e200 at
    72 digits is wrong by a factor e^(1e128)) differ by anything, and their difference can
    fall far below the error of both.  With the condition paid first, every value keeps
    dps + guard digits.
    """
    return dps + _GUARD + 3 + max(0, condition - 3)


class _Pair(NamedTuple):
    """A complex-step value: Im f/h and Re f per component (raw), at its probe's precision."""

    im: list[_Mpf]
    re: list[_Mpf]
    ctx: Any
    prec: int  # the context's precision in bits


class _Gaps(NamedTuple):
    """What decides whether a new complex-step value certifies the last one (raw numbers)."""

    est: list[_Mpf]  # |last − new| per component, rounded at the last one's precision
    tol: _Mpf  # unit · max(max |new|, max |Re new| / size)
    drift: _Mpf  # max |Re last − Re new| (or, once both pass, max |Re new − f(x)|)
    drift_prec: int  # the precision the drift was rounded at
    drift_tol: _Mpf  # unit · max(max |Re new|, 2 max |new| |h|)


def _gaps(unit: _Mpf, size: _Mpf, low: int, last: _Pair, new: _Pair, h: _Mpf) -> _Gaps:
    """est, tol, drift and drift_tol of a pair, rounded as the context numbers would be.

    A difference takes its left operand's precision (the last value's), ``unit`` times anything
    the first probe's (``low``), quotients and products of new values the new probe's.
    """
    p, q = last.prec, new.prec
    est = [_abs_diff(a, b, p) for a, b in zip(last.im, new.im, strict=True)]
    slope = _largest([_abs(v, q) for v in new.im])
    scale = _largest([_abs(v, q) for v in new.re])
    # scale / 1 is scale where it holds no more than q bits (mpf_div rounds it at q)
    relative = scale if size == lib.fone and scale[3] <= q else lib.mpf_div(scale, size, q, _RND)
    tol = lib.mpf_mul(unit, _larger(slope, relative), low, _RND)
    drift = _largest([_abs_diff(a, b, p) for a, b in zip(last.re, new.re, strict=True)])
    swing = lib.mpf_mul(_twice(slope, q), _abs(h, q), q, _RND)
    drift_tol = lib.mpf_mul(unit, _larger(scale, swing), low, _RND)
    return _Gaps(est, tol, drift, p, drift_tol)


def _missing_digits(
    gaps: _Gaps, widest: _Mpf, unit: _Mpf, low: int, last: _Pair, ctx: Any
) -> float:
    """1 + log10 of the worst ratio of a gap to its tolerance (1/unit where a tolerance is 0);
    the gaps were rounded at the ``last`` value's precision."""
    if gaps.tol != lib.fzero:
        by_value = lib.mpf_div(widest, gaps.tol, last.prec, _RND)
    else:
        by_value = lib.mpf_rdiv_int(1, unit, low, _RND)
    if gaps.drift_tol != lib.fzero:
        by_f = lib.mpf_div(gaps.drift, gaps.drift_tol, gaps.drift_prec, _RND)
    else:
        by_f = lib.fone
    return float(ctx.log10(ctx.make_mpf(_larger(by_value, by_f)))) + 1


def _abs_diff(a: _Mpf, b: _Mpf, prec: int) -> _Mpf:
    """|a − b| rounded at ``prec`` (as ``abs(a - b)`` in a's context)."""
    return _abs(lib.mpf_sub(a, b, prec, _RND), prec)


# Exact shortcuts.  A normalized mpmath number (sign, man, exp, bc) has an odd mantissa of bc
# bits (or is zero or special).  Where 0 < bc <= prec, rounding at prec leaves it as it is, so
# at prec its absolute value is its sign cleared and its product with ±2^k is
# (sign', man, exp + k, bc): what mpf_abs, mpf_neg, mpf_mul_int(·, 2), mpf_div(·, 2) and a
# product with 2^k return through their general code.  Zero, specials and numbers with more
# bits than prec take that general code.


def _abs(t: _Mpf, prec: int) -> _Mpf:
    """``mpf_abs(t, prec)``."""
    sign, man, exp, bc = t
    if man and bc <= prec:
        return (0, man, exp, bc) if sign else t
    return lib.mpf_abs(t, prec, _RND)


def _twice(t: _Mpf, prec: int) -> _Mpf:
    """``mpf_mul_int(t, 2, prec)``."""
    sign, man, exp, bc = t
    if man and bc <= prec:
        return (sign, man, exp + 1, bc)
    return lib.mpf_mul_int(t, 2, prec, _RND)


def _neg_half(t: _Mpf, prec: int) -> _Mpf:
    """``mpf_div(mpf_neg(t, prec), 2, prec)``: −t/2."""
    sign, man, exp, bc = t
    if man and bc <= prec:
        return (1 - sign, man, exp - 1, bc)
    return lib.mpf_div(lib.mpf_neg(t, prec, _RND), _TWO, prec, _RND)


_TWO = lib.from_int(2)


def _largest(values: list[_Mpf]) -> _Mpf:
    """max(values) (the first of equals, as ``max`` keeps it)."""
    best = values[0]
    for v in values[1:]:
        if lib.mpf_gt(v, best):
            best = v
    return best


def _larger(a: _Mpf, b: _Mpf) -> _Mpf:
    """max(a, b): b only where it is greater."""
    return b if lib.mpf_gt(b, a) else a


def _beyond_reach(steepest: Any, h: _Mpf, prec: int) -> bool:
    """``steepest * h > 1e-3`` (``_COMPLEX_REACH``), as the context numbers decide it.

    A finite float s < 2^e (``frexp``) times |h| < 2^(exp + bc) is below 2^(e + exp + bc),
    and rounded to nearest at most that: at most 2^-10 < 1e-3 where e + exp + bc <= -10,
    which settles the comparison without the product.
    """
    _, man, exp, bc = h
    small = isinstance(steepest, float) and math.isfinite(steepest) and man
    if small and (steepest == 0 or math.frexp(steepest)[1] + exp + bc <= -10):
        return False
    return bool(lib.mpf_gt(_times(steepest, h, prec), _COMPLEX_REACH_MPF))


def _times(steepest: Any, h: _Mpf, prec: int) -> _Mpf:
    """``steepest * h`` as Python computes it: a float or int takes h's precision, an mpf its own."""
    if isinstance(steepest, float):
        return lib.mpf_mul(h, lib.from_float(steepest), prec, _RND)
    if isinstance(steepest, int):
        return lib.mpf_mul_int(h, steepest, prec, _RND)
    return lib.mpf_mul(steepest._mpf_, h, steepest.context.prec, _RND)


@functools.cache
def _start(dps: int, prec: int) -> tuple[_Mpf, _Mpf]:
    """10^-dps rounded at ``prec`` (``ctx.one / 10**dps``), and that over 10^_GUARD."""
    unit = lib.mpf_div(lib.fone, lib.from_int(_power_of_ten(dps)), prec, _RND)
    return unit, lib.mpf_div(unit, lib.from_int(_power_of_ten(_GUARD)), prec, _RND)


_COMPLEX_REACH_MPF = lib.from_float(_COMPLEX_REACH)


def _step_work(dps: int, h: Any) -> int:
    """Digits at which Im f(x + ih)/h is good to dps digits despite an absolute error 10^-W.

    mpmath evaluates the imaginary part of asin, acos and atan of a complex argument with an
    absolute error of about 10^-W (not relative to the part itself): asin((x + ih)/(1 + x²))
    at x = 1e-30, h = 1e-49 has Im = 1e-49, lost entirely below about 50 digits, and two values
    that both lost it agree.  Divided by h that error is 10^-W/h, so the value that certifies
    needs W >= dps + guard + log10(1/h), as a stencil's working precision carries m·log10(1/h).
    """
    return _work_at(dps, int(thread_context(15).mag(h)))


def _raw_step_work(dps: int, h: _Mpf) -> int:
    """``_step_work`` of a raw number (mpmath's magnitude of a nonzero one is exp + bc)."""
    _, man, exp, bc = h
    if not man:
        return _step_work(dps, thread_context(15).make_mpf(h))
    return _work_at(dps, exp + bc)


def _work_at(dps: int, mag: int) -> int:
    """``_step_work`` for a step of magnitude 2^mag."""
    # |h| >= 2^(mag - 1), so log10(1/|h|) <= (1 - mag)·log10(2): never fewer digits than needed
    below = (1 - mag) / _LOG2_10
    return dps + _GUARD + 3 + max(0, math.ceil(below))


def complex_given_step(
    f: Compiled, x0: Sequence[sympy.Rational], axis: int, step: Any, dps: int
) -> _Complex:
    """Im f(x + ih)/h at a given step h, with an estimate of its error.

    The value at 2W digits is compared with the one at W digits (rounding) and with the
    value at −h/2 (truncation: D(h) − f' ≈ (4/3)(D(h) − D(−h/2)), doubled for a margin).
    """
    condition = _duals(f, tuple(x0), axis, dps + _GUARD).condition
    work = _complex_work(dps, condition)
    h = _mp_number(thread_context(dps + _GUARD + 3), step)
    if work > _MAX_WORK:
        why = f"f's functions need {condition} digits at the point, more than {_MAX_WORK} hold"
        return _Complex(None, [], h, _MAX_WORK, 0, why)
    low = _probe(f, x0, work, relative=False).quotients(axis, h)
    high_probe = _probe(f, x0, max(2 * work, _step_work(dps, h)), relative=False)
    high = high_probe.quotients(axis, high_probe.ctx.mpf(h))
    half = high_probe.quotients(axis, -high_probe.ctx.mpf(h) / 2)
    est = [abs(a - b) + 8 * abs(b - c) / 3 for a, b, c in zip(low, high, half, strict=True)]
    why = f"complex step h = {thread_context(15).nstr(h, 3)}"
    return _Complex(high, est, h, high_probe.work, 3, why)


def complex_result(f: Compiled, found: _Complex, dps: int) -> FDResult:
    """An ``ok`` FDResult from a certified complex-step value.

    The values rounded to ``dps`` digits and the estimates plus that rounding, as ``_finish``
    and ``_estimates`` compute them, on raw numbers (``mpf(v)`` is ``mpf_pos`` at the final
    precision; the ulp 2^(1-prec) is exact).
    """
    assert found.value is not None
    final = thread_context(dps)
    prec, make = final.prec, final.make_mpf
    values = [lib.mpf_pos(v._mpf_, prec, _RND) for v in found.value]
    bounds = [
        lib.mpf_add(lib.mpf_pos(e._mpf_, prec, _RND), _ulps(v, prec), prec, _RND)
        for e, v in zip(found.estimate, values, strict=True)
    ]
    step = found.step
    step = make(lib.mpf_pos(step._mpf_, prec, _RND)) if _is_mpf(step) else round_to(final, step)
    return _built(
        _shaped([make(v) for v in values], f.shape),
        _shaped([make(b) for b in bounds], f.shape),
        step,
        PointStatus.OK,
        found.reason,
        ("mp-complex", "complex"),
        found.work,
        found.evaluations,
    )


# -- kinks -----------------------------------------------------------------------------------


class Sides(NamedTuple):
    """What the kink probe found: a description ('' for none) and the one-sided results."""

    kink: str
    left: FDResult | None
    right: FDResult | None


def one_sided(
    f: Compiled,
    x0: Sequence[sympy.Rational],
    counts: tuple[int, ...],
    dps: int,
    *,
    extra: int = 0,
    jumps: bool = True,
) -> Sides:
    """Backward against forward differences, of the partial and of each first derivative.

    A gap between them beyond ``KINK_SAFETY`` times their error estimates and beyond
    10^-(dps-3) of the values and of |f| near the point (over max(1, |x|)^m) is a kink.  With
    ``jumps`` (f has abs, sign, min, max, ...), a one-sided quotient that diverges is a jump,
    or a kink closer to the point than the stencil is wide.  One-sided results that miss the
    requested digits but still converge (x³ at 0: value 0, estimate h²) take part in the
    comparison with their honest estimates.  The sides returned are those of the kinked
    partial, else of the partial itself (None where a side leaves the domain).
    """
    names = [v.name for v in f.variables]
    where = point_text(names, x0, dps)
    n = len(counts)
    firsts = [tuple(int(i == j) for j in range(n)) for i in range(n) if counts[i]]
    own: tuple[FDResult | None, FDResult | None] = (None, None)
    for c in dict.fromkeys([counts, *firsts]):
        bwd, fwd = (_mp(f, x0, _one_side(kind, c), None, dps, True, extra) for kind in _SIDES)
        label = derivative_label(c, names)
        if jumps and (_diverges(bwd) or _diverges(fwd)):
            return Sides(f"{label} does not converge from both sides of {where}", *own)
        if not (_settled(bwd) and _settled(fwd)):
            continue
        own = (bwd.result, fwd.result) if c == counts else own
        gap = _gap(bwd, fwd, x0, c, dps)
        if gap is not None:
            left, right = (_short(_flat(r.result.value)[gap]) for r in (bwd, fwd))
            inside = f" in {label}" if n > 1 or c != counts else ""
            both = f"left derivative {left}, right derivative {right}"
            return Sides(f"kink at {where}{inside}: {both}", bwd.result, fwd.result)
    return Sides("", *own)


_SIDES = ("backward", "forward")


def _one_side(kind: str, counts: tuple[int, ...]) -> _Terms:
    """The second-order one-sided tensor stencil of ``kind`` for the partial ``counts``."""
    return _Terms.build(tuple(stencils_for(f"{kind}:2", counts)))


def _settled(run: _Run) -> bool:
    """ok, or short of the digits but with an estimate that still falls."""
    status = run.result.status
    return status is PointStatus.OK or (status is PointStatus.UNRELIABLE and run.converging)


def _diverges(run: _Run) -> bool:
    """A one-sided quotient that grows as h shrinks, or meets a pole."""
    status = run.result.status
    return status is PointStatus.POLE or (status is PointStatus.UNRELIABLE and not run.converging)


def _gap(bwd: _Run, fwd: _Run, x0: Sequence[sympy.Rational], counts: Any, dps: int) -> int | None:
    """The first component whose one-sided values differ beyond their estimates, or None."""
    ctx = thread_context(dps)
    size = math.prod(
        (max(ctx.one, abs(ctx.mpf(v.p) / v.q)) ** c for v, c in zip(x0, counts, strict=True)),
        start=ctx.one,
    )
    f_near = max(ctx.convert(bwd.scale), ctx.convert(fwd.scale))
    pairs = zip(
        _flat(bwd.result.value),
        _flat(fwd.result.value),
        _flat(bwd.result.error_estimate),
        _flat(fwd.result.error_estimate),
        strict=True,
    )
    for i, (left, right, e_left, e_right) in enumerate(pairs):
        floor = max(abs(left), abs(right), f_near) / size * ctx.mpf(10) ** (_KINK_DIGITS - dps)
        if abs(right - left) - floor > KINK_SAFETY * (e_left + e_right):
            return i
    return None


def nonsmooth_result(f: Compiled, sides: Sides, central: FDResult) -> FDResult:
    """The ``nonsmooth`` result: no value, the one-sided derivatives and the kink's description."""
    nan = np.full(f.shape, np.nan)
    left = None if sides.left is None else sides.left.value
    right = None if sides.right is None else sides.right.value
    return FDResult(
        nan,
        nan,
        central.step,
        PointStatus.NONSMOOTH,
        sides.kink,
        central.method,
        central.scheme,
        central.working_dps,
        central.evaluations,
        left,
        right,
    )


def from_sides(f: Compiled, sides: Sides, central: FDResult) -> FDResult | None:
    """Agreeing one-sided derivatives where the central difference was unreliable.

    The mean of the two, with half their gap plus both estimates as its error, if the gap is
    within twice their estimates (each ``ok``, so the mean holds the digits too); else None.
    """
    assert sides.left is not None
    assert sides.right is not None
    left, right = sides.left, sides.right
    mean = np.asarray((left.value + right.value) / 2, dtype=object)
    gap = np.asarray(abs(left.value - right.value), dtype=object)
    both = np.asarray(left.error_estimate + right.error_estimate, dtype=object)
    if not all(g <= 2 * e for g, e in zip(gap.reshape(-1), both.reshape(-1), strict=True)):
        return None
    est = np.asarray(gap / 2 + both, dtype=object)
    why = "the one-sided differences agree (the central one is unreliable)"
    return FDResult(
        mean.reshape(f.shape),
        est.reshape(f.shape),
        central.step,
        PointStatus.OK,
        why,
        central.method,
        f"{left.scheme}|{right.scheme}",
        max(left.working_dps, right.working_dps),
        central.evaluations + left.evaluations + right.evaluations,
        left.value,
        right.value,
    )


# -- text ------------------------------------------------------------------------------------


def derivative_label(counts: Sequence[int], names: Sequence[str]) -> str:
    """``d/dx``, ``d2/dx2``, ``d2/dxdy``, ``d3/dx2dy``."""
    below = [f"d{x}" + (str(c) if c > 1 else "") for x, c in zip(names, counts, strict=True) if c]
    m = sum(counts)
    return f"d{m if m > 1 else ''}/{''.join(below)}"


def point_text(names: Sequence[str], x0: Sequence[sympy.Rational], dps: int) -> str:
    """``x=0.3, y=0.7``: exact decimals, cut to 15 digits when longer than 17 characters."""
    ctx = thread_context(max(dps, 15))
    parts = []
    for name, v in zip(names, x0, strict=True):
        number = ctx.mpf(v.p) / v.q
        text = _decimal(ctx, number, dps)
        parts.append(f"{name}={text if len(text) <= 17 else _decimal(ctx, number, 15)}")
    return ", ".join(parts)


def _decimal(ctx: Any, value: Any, digits: int) -> str:
    text = str(ctx.nstr(value, digits, min_fixed=-5, max_fixed=digits)).replace(".0e", "e")
    return text.removesuffix(".0")


def _short(value: Any, digits: int = 6) -> str:
    """A number for sentences: ``-1``, ``0.09``, ``1.97007e+434`` (beyond float range too)."""
    number = float(value)
    if math.isfinite(number) or not value:
        return f"{number:.{digits}g}"
    return str(thread_context(15).nstr(value, digits))
