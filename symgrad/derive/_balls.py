"""Ball arithmetic for certified exact values: python-flint's ``arb`` or intervals over mpmath.

A *ball* encloses the true value of a real number: every operation returns a ball that contains
every result of the operation applied to values in its argument balls.  A ball that comes out
narrow relative to its midpoint therefore *proves* digits; one that contains 0 proves nothing
about the relative error, whatever the working precision.  :mod:`symgrad.derive._exact` evaluates
expressions on one of two implementations, which give the same answers at different speeds:

``ArbBalls``
    python-flint's ``arb`` (FLINT's Arb library): rigorous midpoint-radius arithmetic with
    error bounds for every function, about ten times faster than mpmath.  Its working precision
    is global state of python-flint, so an evaluation holds a lock and restores the precision it
    found (a precision changed by another thread cannot make a ball wrong, only wider).
``IntervalBalls``
    Intervals ``(low, high)`` of raw mpmath numbers from ``mpmath.libmp``: the four operations
    and integer powers round outward exactly (``mpi_add``, ``mpi_mul``, ``mpi_div``, ...).  For
    the elementary functions, which mpmath computes accurately but not with proven bounds, the
    endpoints are computed with 10 guard bits and then moved outward by one unit in the last
    place of the working precision, a margin some 500 times mpmath's error.  The same holds for
    erf (increasing), erfc (decreasing) and mpmath's interval Γ, log Γ and 1/Γ (which follow
    Γ's monotone pieces); beta is Γ(a)Γ(b)/Γ(a+b) from those.  mpmath has no intervals of the
    Bessel functions or of polygamma: values with those need arb.  No context object is
    involved, so nothing is shared between threads.

Both take every exact input as a rational ``p/q`` (a float is the rational of its binary value).
"""

from __future__ import annotations

import importlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, Protocol

import mpmath.libmp as lib
import mpmath.libmp.libmpi as mpi

__all__ = ["EXACT", "ArbBalls", "Balls", "IntervalBalls", "arb_available"]

#: ``accuracy()`` of an exact ball (no error at all).
EXACT = 1 << 62
_GUARD_BITS = 10  # extra bits for the elementary functions of IntervalBalls


class Balls(Protocol):
    """What the evaluator needs from a ball arithmetic working at ``prec`` bits."""

    name: ClassVar[str]
    prec: int

    def rational(self, p: int, q: int) -> Any:
        """The ball of ``p/q``."""

    def pi(self) -> Any:
        """The ball of π."""

    def e(self) -> Any:
        """The ball of Euler's number."""

    def add(self, a: Any, b: Any) -> Any:
        """a + b."""

    def mul(self, a: Any, b: Any) -> Any:
        """a · b."""

    def ipow(self, a: Any, n: int) -> Any:
        """a ** n for an integer n (a excludes 0 when n < 0)."""

    def root(self, a: Any, q: int) -> Any:
        """The real q-th root of a > 0."""

    def pow(self, a: Any, b: Any) -> Any:
        """a ** b for a > 0."""

    def call(self, name: str, a: Any) -> Any:
        """An elementary function (exp, log, sin, ..., abs) inside its real domain."""

    def atan2(self, y: Any, x: Any) -> Any:
        """atan2(y, x) away from the origin and the branch cut."""

    def extreme(self, name: str, a: Any, b: Any) -> Any:
        """min(a, b) or max(a, b)."""

    def special(self, name: str, args: list[Any]) -> Any:
        """A special function inside its real domain: erf, erfc, gamma, loggamma, beta,
        besselj(nu, x), bessely(nu, x) (x > 0), polygamma(k, x) (k an exact integer >= 0).

        Raises ``NotImplementedError`` for a function this arithmetic cannot enclose.
        """

    def sign(self, a: Any) -> int | None:
        """1 or -1 when a excludes 0, 0 when a is exactly 0, None when undecided."""

    def integer(self, a: Any) -> int | None:
        """The value of a when a is exactly an integer, else None."""

    def has_integer(self, a: Any) -> bool:
        """Whether a contains an integer."""

    def accuracy(self, a: Any) -> int:
        """A lower bound of -log2(radius / |midpoint|): relative accuracy in bits.

        ``EXACT`` for an exact ball; negative or very negative when it contains 0 or is not
        finite.
        """

    def midpoint(self, a: Any) -> tuple[Any, ...]:
        """The midpoint as a raw mpmath number (``mpf._mpf_``), exact."""

    def describe(self, a: Any) -> str:
        """The ball as short text, for messages."""


# -- python-flint -------------------------------------------------------------------------------

_ARB_LOCK = threading.RLock()


def _flint() -> Any:
    """The python-flint module, or None when it is not installed (an imported module is taken
    from ``sys.modules`` directly: every session looks it up).

    A failed import searches every directory of ``sys.path`` (about 40 µs, paid per gradient
    without the ``fast`` extra), so the failure is remembered for the ``sys.path`` it searched,
    for ``_RETRY_SECONDS``: a python-flint installed later in the same session (``%pip
    install`` in a notebook) is found by the next search; a module put in ``sys.modules`` is
    found at once.
    """
    module = sys.modules.get("flint")
    if module is not None:
        return module
    searched, now = tuple(sys.path), time.monotonic()
    hidden = "flint" in sys.modules  # a None entry: refused at once, nothing to remember
    if not hidden and _NOT_FOUND.get(searched, now) > now:
        return None
    try:
        return importlib.import_module("flint")
    except ImportError:
        if not hidden:
            _NOT_FOUND.clear()
            _NOT_FOUND[searched] = now + _RETRY_SECONDS
        return None


_NOT_FOUND: dict[tuple[str, ...], float] = {}  # sys.path searched in vain -> until when it stands
_RETRY_SECONDS = 10.0


def arb_available() -> bool:
    """Whether python-flint (the ``fast`` extra) is installed."""
    return _flint() is not None


class _ArbSession:
    """``ArbBalls.session``: python-flint's precision set under the lock, restored on exit (a
    class rather than a generator: the certified referee enters one per gradient)."""

    __slots__ = ("balls", "old")

    def __init__(self, balls: ArbBalls) -> None:
        self.balls, self.old = balls, 0

    def __enter__(self) -> ArbBalls:
        _ARB_LOCK.acquire()
        try:
            context = self.balls.flint.ctx
            self.old, context.prec = context.prec, self.balls.prec
        except BaseException:
            _ARB_LOCK.release()
            raise
        return self.balls

    def __exit__(self, *exc: object) -> None:
        try:
            self.balls.flint.ctx.prec = self.old
        finally:
            _ARB_LOCK.release()


class ArbBalls:
    """Balls of python-flint's ``arb`` at ``prec`` bits; use inside :meth:`session`."""

    name: ClassVar[str] = "arb"

    def __init__(self, prec: int) -> None:
        self.prec = prec
        self.flint = _flint()
        self.arb = self.flint.arb

    @classmethod
    def session(cls, prec: int) -> _ArbSession:
        """Work at ``prec`` bits and restore python-flint's precision afterwards."""
        return _ArbSession(cls(prec))

    def rational(self, p: int, q: int) -> Any:
        return self.arb(self.flint.fmpq(p, q))

    def pi(self) -> Any:
        return self.arb.pi()

    def e(self) -> Any:
        return self.arb.const_e()

    def add(self, a: Any, b: Any) -> Any:
        return a + b

    def mul(self, a: Any, b: Any) -> Any:
        return a * b

    def ipow(self, a: Any, n: int) -> Any:
        return a**n

    def root(self, a: Any, q: int) -> Any:
        return a.sqrt() if q == 2 else a.root(q)

    def pow(self, a: Any, b: Any) -> Any:
        return a**b

    def call(self, name: str, a: Any) -> Any:
        return abs(a) if name == "abs" else getattr(a, name)()

    def atan2(self, y: Any, x: Any) -> Any:
        return self.arb.atan2(y, x)

    def extreme(self, name: str, a: Any, b: Any) -> Any:
        return a.min(b) if name == "min" else a.max(b)

    def special(self, name: str, args: list[Any]) -> Any:
        if name in ("besselj", "bessely"):  # J_nu(x): x is the ball, the order a parameter
            nu, x = args
            return x.bessel_j(nu) if name == "besselj" else x.bessel_y(nu)
        if name == "beta":  # Γ(a)Γ(b)/Γ(a+b); 1/Γ is entire, so a + b at a pole gives 0
            a, b = args
            return a.gamma() * b.gamma() * (a + b).rgamma()
        if name == "polygamma":
            k, x = int(args[0].unique_fmpz()), args[1]
            return x.digamma() if k == 0 else self.flint.acb(x).polygamma(k).real
        return getattr(args[0], "lgamma" if name == "loggamma" else name)()

    def sign(self, a: Any) -> int | None:
        if a > 0:
            return 1
        if a < 0:
            return -1
        return 0 if a.is_zero() else None

    def integer(self, a: Any) -> int | None:
        return int(a.unique_fmpz()) if a.is_exact() and a.is_integer() else None

    def has_integer(self, a: Any) -> bool:
        return bool(a.contains_integer())

    def accuracy(self, a: Any) -> int:
        if a.is_exact():
            return EXACT
        if not a.is_finite():
            return -EXACT
        return max(-EXACT, min(EXACT, int(a.rel_accuracy_bits())))

    def midpoint(self, a: Any) -> tuple[Any, ...]:
        man, exp = a.mid().man_exp()
        return tuple(lib.from_man_exp(int(man), int(exp)))

    def describe(self, a: Any) -> str:
        return str(a.str(5, radius=True))


# -- mpmath intervals ---------------------------------------------------------------------------

_Raw = Any  # (low, high): a tuple of two raw mpmath numbers
_INF = (lib.finf, lib.fninf, lib.fnan)


def _outward(value: Any, prec: int, down: bool) -> Any:
    """``value`` moved outward by one unit in the last place of ``prec`` bits."""
    if value == lib.fzero or value in _INF:
        return value
    _, _, exp, bc = value
    ulp = (0, 1, exp + bc - prec, 1)
    if down:
        return lib.mpf_sub(value, ulp, prec, lib.round_floor)
    return lib.mpf_add(value, ulp, prec, lib.round_ceiling)


def _increasing(fn: Callable[[Any, int], Any]) -> Callable[[_Raw, int], _Raw]:
    """Interval extension of an increasing function, with guard bits and one ulp of margin."""

    def extension(a: _Raw, prec: int) -> _Raw:
        wp = prec + _GUARD_BITS
        return _outward(fn(a[0], wp), prec, down=True), _outward(fn(a[1], wp), prec, down=False)

    return extension


def _decreasing(fn: Callable[[Any, int], Any]) -> Callable[[_Raw, int], _Raw]:
    up = _increasing(fn)
    return lambda a, prec: up((a[1], a[0]), prec)


def _cosh(a: _Raw, prec: int) -> _Raw:
    """cosh: decreasing left of 0, increasing right of it, 1 at 0."""
    if lib.mpf_sign(a[0]) >= 0:
        return _increasing(lib.mpf_cosh)(a, prec)
    if lib.mpf_sign(a[1]) <= 0:
        return _decreasing(lib.mpf_cosh)(a, prec)
    left = lib.mpf_neg(a[0])
    far = a[1] if lib.mpf_ge(a[1], left) else left
    return lib.fone, _increasing(lib.mpf_cosh)((far, far), prec)[1]


def _reciprocal(fn: Callable[[_Raw, int], _Raw]) -> Callable[[_Raw, int], _Raw]:
    return lambda a, prec: mpi.mpi_div((lib.fone, lib.fone), fn(a, prec + _GUARD_BITS), prec)


_INTERVAL_FUNCTIONS: dict[str, Callable[[_Raw, int], _Raw]] = {
    "exp": _increasing(lib.mpf_exp),
    "log": _increasing(lib.mpf_log),
    "sin": mpi.mpi_sin,
    "cos": mpi.mpi_cos,
    "tan": mpi.mpi_tan,
    "cot": mpi.mpi_cot,
    "sec": _reciprocal(mpi.mpi_cos),
    "csc": _reciprocal(mpi.mpi_sin),
    "asin": _increasing(lib.mpf_asin),
    "acos": _decreasing(lib.mpf_acos),
    "atan": _increasing(lib.mpf_atan),
    "sinh": _increasing(lib.mpf_sinh),
    "cosh": _cosh,
    "tanh": _increasing(lib.mpf_tanh),
    "asinh": _increasing(lib.mpf_asinh),
    "acosh": _increasing(lib.mpf_acosh),
    "atanh": _increasing(lib.mpf_atanh),
    "abs": mpi.mpi_abs,
}


def _guarded(fn: Callable[[_Raw, int], _Raw]) -> Callable[[_Raw, int], _Raw]:
    """An interval function of mpmath's, with guard bits and one ulp of margin outward."""

    def extension(a: _Raw, prec: int) -> _Raw:
        low, high = fn(a, prec + _GUARD_BITS)
        return _outward(low, prec, down=True), _outward(high, prec, down=False)

    return extension


# mpmath's interval Γ follows its monotone pieces (it increases right of its minimum at
# 1.4616..., decreases left of it, and is continued left of 0 by Γ(z) = Γ(z + 1)/z)
_INTERVAL_SPECIAL: dict[str, Callable[[_Raw, int], _Raw]] = {
    "erf": _increasing(lib.mpf_erf),
    "erfc": _decreasing(lib.mpf_erfc),
    "gamma": _guarded(mpi.mpi_gamma),
    "loggamma": _guarded(mpi.mpi_loggamma),
    "rgamma": _guarded(mpi.mpi_rgamma),
}


class IntervalBalls:
    """Intervals of raw mpmath numbers at ``prec`` bits (see the module docstring)."""

    name: ClassVar[str] = "mpmath"

    def __init__(self, prec: int) -> None:
        self.prec = prec

    @classmethod
    @contextmanager
    def session(cls, prec: int) -> Iterator[IntervalBalls]:
        """Work at ``prec`` bits (no shared state to protect)."""
        yield cls(prec)

    def rational(self, p: int, q: int) -> _Raw:
        num, den = lib.from_int(p), lib.from_int(q)
        low = lib.mpf_div(num, den, self.prec, lib.round_floor)
        return low, lib.mpf_div(num, den, self.prec, lib.round_ceiling)

    def pi(self) -> _Raw:
        return mpi.mpi_pi(self.prec)

    def e(self) -> _Raw:
        return lib.mpf_e(self.prec, lib.round_floor), lib.mpf_e(self.prec, lib.round_ceiling)

    def add(self, a: _Raw, b: _Raw) -> _Raw:
        return mpi.mpi_add(a, b, self.prec)

    def mul(self, a: _Raw, b: _Raw) -> _Raw:
        return mpi.mpi_mul(a, b, self.prec)

    def ipow(self, a: _Raw, n: int) -> _Raw:
        return mpi.mpi_pow_int(a, n, self.prec)

    def root(self, a: _Raw, q: int) -> _Raw:
        if q == 2:
            return mpi.mpi_sqrt(a, self.prec)
        return _increasing(lambda v, wp: lib.mpf_nthroot(v, q, wp))(a, self.prec)

    def pow(self, a: _Raw, b: _Raw) -> _Raw:
        wp = self.prec + _GUARD_BITS
        return self.call("exp", mpi.mpi_mul(b, self.call("log", a), wp))

    def call(self, name: str, a: _Raw) -> _Raw:
        return _INTERVAL_FUNCTIONS[name](a, self.prec)

    def atan2(self, y: _Raw, x: _Raw) -> _Raw:
        low, high = mpi.mpi_atan2(y, x, self.prec + _GUARD_BITS)
        return _outward(low, self.prec, down=True), _outward(high, self.prec, down=False)

    def extreme(self, name: str, a: _Raw, b: _Raw) -> _Raw:
        pick = lib.mpf_lt if name == "min" else lib.mpf_gt
        return tuple(x if pick(x, y) else y for x, y in zip(a, b, strict=True))

    def special(self, name: str, args: list[_Raw]) -> _Raw:
        if name == "beta":  # Γ(a)Γ(b)/Γ(a+b), as for arb
            a, b = args
            gammas = mpi.mpi_mul(self.special("gamma", [a]), self.special("gamma", [b]), self.prec)
            return mpi.mpi_mul(gammas, self.special("rgamma", [self.add(a, b)]), self.prec)
        if name not in _INTERVAL_SPECIAL:  # Bessel functions and polygamma need arb
            raise NotImplementedError(name)
        return _INTERVAL_SPECIAL[name](args[0], self.prec)

    def sign(self, a: _Raw) -> int | None:
        if lib.fnan in a:
            return None
        low, high = lib.mpf_sign(a[0]), lib.mpf_sign(a[1])
        if low > 0 or high < 0:
            return int(low) if low > 0 else int(high)
        return 0 if low == high == 0 else None

    def integer(self, a: _Raw) -> int | None:
        low, high = a
        if low != high or low in _INF or low[2] < 0:  # normalized: odd mantissa
            return None
        return int(lib.to_int(low))

    def has_integer(self, a: _Raw) -> bool:
        if any(v in _INF for v in a):
            return True
        return bool(lib.mpf_le(lib.mpf_ceil(a[0]), a[1]))

    def accuracy(self, a: _Raw) -> int:
        low, high = a
        if low == high and low not in _INF:
            return EXACT
        if low in _INF or high in _INF or self.sign(a) in (None, 0):
            return -EXACT
        radius = lib.mpf_shift(lib.mpf_sub(high, low, 53, lib.round_up), -1)
        near = min((lib.mpf_abs(low), lib.mpf_abs(high)), key=_magnitude)
        return max(-EXACT, min(EXACT, _magnitude(near) - 1 - _magnitude(radius)))

    def midpoint(self, a: _Raw) -> tuple[Any, ...]:
        return tuple(lib.mpf_shift(lib.mpf_add(a[0], a[1]), -1))

    def describe(self, a: _Raw) -> str:
        return str(mpi.mpi_to_str(a, 5, mode="plusminus"))


def _magnitude(value: Any) -> int:
    """e with 2**(e-1) <= |value| < 2**e for a finite nonzero raw number."""
    _, _, exp, bc = value
    return int(exp + bc)
