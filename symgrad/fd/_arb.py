"""Certified finite differences on arb balls: the referee's value *and* a proof of its bound.

A stencil D(h) = Σ w_i f(x + s_i h) / h^m (the exact rational weights of
:mod:`symgrad.fd._stencils`) is evaluated in python-flint's ``arb`` ball arithmetic on the ball
program of f (:func:`symgrad.derive.compile_program`, the program that certified exact values
run, compiled once per :class:`~symgrad.derive.Compiled` into one small closure per operation).
Its error has two parts, and both are bounded rigorously:

**Rounding.**  Every f(x + s_i h) is a ball that contains the exact value (the point p/q
enters as a ball, the same one at every stencil point, which can only widen the result); the
weighted sum and the division by h^m are ball operations, so the ball of D(h) contains the
exact D(h) and its radius bounds every rounding error.  Where it is wider than the tolerance
(f cancels digits at the point: log(1 + x^6) at 1e-5) the precision is raised by the missing
digits, at most ``MAX_ESCALATIONS`` times.

**Truncation.**  The stencil is exact for polynomials of degree < q, where q is the first k > m
with Σ w_i s_i^k ≠ 0, read off the exact weights (q = m + p for accuracy p).  Its error is the
tail Σ_{k>=q} a_k h^(k−m) Σ w_i s_i^k of f's Taylor series at x, bounded in one of two ways.

(a) *Cauchy's estimate, tried first.*  If f is analytic on the disc |z − x| <= R and |f| <= M
there, |a_k| <= M / R^k, and for S·h <= R/2 (S = max |s_i|) the tail is at most

    2 · M · Σ |w_i| |s_i|^q · h^(q−m) / R^q.

R = 2^(scale − _RHO), scale the binary exponent of the coordinate (0 at x = 0), and M is one
``acb`` evaluation of f over the box x_j + [−R_j, R_j]·(1 + i) of *every* variable at once,
which contains each variable's disc with the others at the point: one evaluation bounds every
partial of a gradient (and, as the maximum over components, every component).  The box
evaluation decides analyticity itself (:func:`_disc_step`): entire operations need nothing,
meromorphic ones (1/u, tan, sec, csc, cot, tanh, Γ) give a ball that is not finite when the
box holds a pole (no finite ball encloses an unbounded image), and log, x**(p/q) and x**y use
python-flint's ``analytic`` option, which gives an indeterminate ball when the argument's box
touches the branch cut (−∞, 0]; the plain complex log would enclose both sides of the cut, a
finite M of nothing analytic.  Any other operation leaves f to (b).  So does an M above
2^_DISC_GROWTH · |f(x)| (f grows fast off the axis, or the box evaluation cancels), and a first
step that would have to shrink more than _DISC_SLACK times: Cauchy's estimate is loose by the
growth of f over the disc, and the tight bound of (b) is then cheaper.

(b) *The Lagrange remainder.*  For f with q continuous derivatives on the hull
H = [x + min(s_i) h, x + max(s_i) h],

    |D(h) − f^(m)(x)| ≤ h^(q−m) · Σ |w_i| |s_i|^q · max over ξ in H of |f^(q)(ξ)| / q!.

The maximum is enclosed by Taylor-mode ball arithmetic: f is evaluated on the truncated power
series H + t (python-flint's ``arb_series``), whose coefficient of t^q encloses f^(q)(ξ)/q! for
every ξ in H.  It needs the real domain only and is tight (the hull is 10^-27 wide at 50
digits), at one series evaluation per partial, of the operations that depend on the moved
variable only.

Both are independent of the symbolic derivative under test: the box and the series are
propagated through the expression's own operations by python-flint, and symgrad's
differentiation is never used.

**Analyticity is decided, never assumed.**  Before each operation of the series evaluation of (b),
the ball of its argument over H must lie where the operation is analytic: log, fractional
powers, x**y and loggamma need a positive argument, 1/u, tan, sec, csc and cot a divisor
(u, cos u, sin u) that excludes 0, asin, acos and atanh |u| < 1, acosh u > 1, Γ and beta no
non-positive integer; abs, sign, Heaviside, min, max and atan2 are analytic where the sign of
their argument (of the difference of min's or max's arguments; x > 0 or y ≠ 0 for atan2) is
decided over all of H, and the branch that holds there replaces them (abs(u) = ±u, atan2(y, x)
= ±π/2 − atan(x/y), ...).  A ball that straddles a boundary (a pole, a branch point, a cut, a
kink inside H) certifies nothing; neither do the Bessel functions and polygamma, which have no
``arb_series`` version.  Operations that do not depend on the moved variable are constants,
evaluated once at the point, so a kink in another variable does not matter.

**Step and precision.**  h = 2^-E·c (c a power of two near |x|, 1 at x = 0) with
E = (dps + G)/(q − m) digits first (with Cauchy's bound (6q + _DISC_MARGIN)/(q − m) bits more,
what M / R^q costs against |f^(q)| / q!); the series over that hull gives B, and h shrinks until
Σ|w||s|^q h^(q−m) B ≤ 10^-(dps+G) times the size of f^(m) (or of f / max(1, |x|)^m) over H.
B over the first hull bounds every smaller hull inside it, so one series evaluation suffices.
The working precision carries dps + G + 3 + m·log10(max(1, |x|)/h) + log10 Σ|w| digits: the
digits that dividing by h^m loses against the size they are counted against.

**What is kept, and what every call does.**  The ball program is compiled once per
:class:`~symgrad.derive.Compiled` into closures, with, per variable, the operations that depend
on it (its cone) as (index, closure) pairs for balls and for series; integer constants are
exact balls made then.  A stencil's rule is made once per stencil, and a gradient's partials
(axis, cone, rule, the first step's exponent) once per plan, list of stencils and dps; each
partial keeps the step's balls (the shifts s_i·h, the hull, the remainder factor, the divisor,
the tolerances, the step as an mpmath number) per scale of its coordinate, and per step and
precision after a halving or a raise, so they are shared by every point of the same scale.
Nothing computed at a point is kept: every call evaluates f at the point (once per precision,
for all partials; a coordinate p/q enters as the exact integers divided, the ball python-flint
makes of the rational) and over the complex box (once), and per partial the cone at each
stencil point (with one series over the hull where the box gives no bound), in one list of
values.  A function of one component whose first step certifies (the common case) takes the
stencil, its check and its result in one pass (:func:`_disc_single`), and sums its stencil
without the per-component lists; the ball of each sum, its radius plus the truncation bound
and its |midpoint| are computed once and serve both the check and the returned bound.
python-flint converts a constant ball to a series inside a mixed operation at several times
the cost of ``arb_series(ball)``, and its series power of an integer is slower than squaring,
so both are done explicitly (the same enclosures, each a rigorous ball operation).

A partial that cannot be certified returns a :class:`Declined` with the reason, and the caller
runs the error-controlled mpmath engine instead (which classifies poles, domains and kinks).
Mixed partials are not handled here (their remainder is a tensor of higher derivatives).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, NamedTuple

import mpmath.libmp as lib
import sympy

from symgrad._precision import MAX_WORK_DPS, thread_context
from symgrad.derive import ArbBalls, Compiled, Program, compile_program
from symgrad.errors import SymgradError
from symgrad.expr import MAX_BESSEL_ORDER
from symgrad.fd._engine import FDResult, _shaped, certified_ok
from symgrad.fd._memo import remembered
from symgrad.fd._stencils import Stencil
from symgrad.results import PointStatus

__all__ = ["MAX_ESCALATIONS", "Declined", "certified_partials"]

#: Precision raises (or step reductions) after the first stencil evaluation, at most.
MAX_ESCALATIONS = 3
_GUARD = 4  # digits of the bound below the requested precision
_LOG2_10 = math.log2(10)
_MAX_BITS = math.ceil(MAX_WORK_DPS * _LOG2_10)  # working precision never exceeds this
_GRAIN = 32  # working precisions are rounded up to a multiple of this many bits


class Declined(NamedTuple):
    """A partial derivative that the arb path cannot certify, and why."""

    reason: str


class _NotCertified(Exception):
    """Raised inside an evaluation: the reason a bound cannot be proven."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- the stencil's remainder rule ---------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    """A one-dimensional stencil as integer weights, with its Lagrange remainder constant."""

    m: int  # derivative order
    q: int  # the stencil is exact below degree q: the remainder involves f^(q)
    offsets: tuple[Fraction, ...]
    integer_weights: tuple[int, ...]  # w_i · den
    den: int
    constant: tuple[int, int]  # Σ |w_i| |s_i|^q (p, q), times f^(q)/q! and h^(q−m)
    low: tuple[int, int]  # the hull is [x + low·h, x + high·h]
    high: tuple[int, int]
    weight_bits: int  # log2 Σ|w|, rounded up: bits rounding errors are amplified by
    scheme: str
    order: int  # q − m: the power of h in the remainder
    factorial: int  # m!


_RULES: dict[Hashable, tuple[Any, Any]] = {}


def _rule(stencil: Stencil) -> _Rule:
    """The remainder rule of ``stencil`` (once per stencil object)."""
    return remembered(_RULES, stencil, lambda: _make_rule(stencil))


def _pair(value: Fraction) -> tuple[int, int]:
    return value.numerator, value.denominator


def _make_rule(stencil: Stencil) -> _Rule:
    """The remainder rule of ``stencil`` (exact moments of its weights)."""
    m = stencil.derivative
    pairs = [(s, w) for s, w in zip(stencil.offsets, stencil.weights, strict=True) if w]
    moments = [sum((w * s**k for s, w in pairs), Fraction(0)) for k in range(m + 1)]
    if moments != [0] * m + [math.factorial(m)]:  # never for Fornberg's weights
        msg = f"the stencil {stencil.kind}:{stencil.accuracy} does not reproduce derivative {m}"
        raise _NotCertified(msg)
    q = m + 1
    while sum((w * s**q for s, w in pairs), Fraction(0)) == 0:
        q += 1
    den = math.lcm(*(w.denominator for _, w in pairs))
    offsets = tuple(s for s, _ in pairs)
    total = sum(abs(w) for _, w in pairs)
    return _Rule(
        m,
        q,
        offsets,
        tuple(int(w * den) for _, w in pairs),
        den,
        _pair(sum((abs(w) * abs(s) ** q for s, w in pairs), Fraction(0))),
        _pair(min([Fraction(0), *offsets])),  # Taylor's ξ lies between x and each stencil point
        _pair(max([Fraction(0), *offsets])),
        max(0, math.ceil(math.log2(total))),
        f"{stencil.kind}:{stencil.accuracy}:d{m}",
        q - m,
        math.factorial(m),
    )


# -- the ball program, compiled to closures -------------------------------------------------------

_Step = Callable[[list[Any]], Any]  # values by operation index -> this operation's ball
_Steps = tuple[tuple[int, _Step], ...]  # (operation index, its step), in program order


class _Axis(NamedTuple):
    """One variable's part of the plan: what moves when only that variable moves."""

    var: int  # the variable's operation
    points: _Steps  # the operations that depend on it, on balls
    series: _Steps  # ... and as Taylor series over a hull


@dataclass(frozen=True)
class _Plan:
    """f's ball program as closures, with the operations that depend on each variable."""

    program: Program
    variables: tuple[int | None, ...]  # the operation of each variable (None: f ignores it)
    centre: _Steps  # every operation but the variables, on balls
    axes: tuple[_Axis | None, ...]  # per variable (None: no output depends on it)
    outputs: tuple[int, ...]  # the operations of f's components
    disc: _Steps | None  # every operation but the variables, on complex boxes (None: not all
    # operations are meromorphic or branch-checked, so no Cauchy bound: series only)
    jobs: dict[Hashable, tuple[Any, Any]] = field(default_factory=dict, compare=False, repr=False)


_PLANS: dict[Hashable, tuple[Any, Any]] = {}


def _plan(f: Compiled) -> _Plan:
    """The compiled plan of f (once per Compiled); raises ``_NotCertified`` when it has none."""
    known = _PLANS.get(id(f))
    made = known[1] if known is not None and known[0] is f else remembered(_PLANS, f, _new_plan(f))
    if isinstance(made, str):
        raise _NotCertified(made)
    return made


def _new_plan(f: Compiled) -> Callable[[], _Plan | str]:
    def make() -> _Plan | str:
        try:
            return _make_plan(compile_program(f.components, f.variables))
        except SymgradError as exc:  # a function outside the grammar of exact values
            return str(exc)

    return make


def _make_plan(program: Program) -> _Plan:
    ops = program.ops
    variables: list[int | None] = [None] * len(program.variables)
    reach: list[frozenset[int]] = []  # the variables each operation depends on
    for k, op in enumerate(ops):
        if op.code == "var":
            variables[op.value] = k
            reach.append(frozenset({op.value}))
        else:
            reach.append(frozenset().union(*(reach[a] for a in op.args)))
    point = {k: _point_step(op) for k, op in enumerate(ops) if op.code != "var"}
    series = {k: _series_step(op) for k, op in enumerate(ops) if op.code != "var"}

    def axis(j: int, var: int | None) -> _Axis | None:
        if var is None or not any(j in reach[k] for k in program.outputs):
            return None
        cone = [k for k in point if j in reach[k]]
        return _Axis(var, tuple((k, point[k]) for k in cone), tuple((k, series[k]) for k in cone))

    disc = {k: _disc_step(op) for k, op in enumerate(ops) if op.code != "var"}
    return _Plan(
        program,
        tuple(variables),
        tuple(point.items()),
        tuple(axis(j, var) for j, var in enumerate(variables)),
        tuple(program.outputs),
        None if None in disc.values() else tuple(disc.items()),  # type: ignore[arg-type]
    )


def _short(node: Any, limit: int = 50) -> str:
    text = str(node)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- values at points ------------------------------------------------------------------------------

_ELEMENTARY = frozenset(
    {"exp", "log", "sin", "cos", "tan", "sec", "csc", "cot", "asin", "acos", "atan"}
    | {"sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "erf", "erfc", "gamma"}
)
_RENAMED = {"abs": "__abs__", "loggamma": "lgamma", "sign": "sgn"}  # arb's names


@functools.cache
def _balls() -> ArbBalls:
    """python-flint's functions through the Balls protocol (they use python-flint's current
    precision, which a session sets)."""
    return ArbBalls(0)


def _point_step(op: Any) -> _Step:
    """The ball of one operation at a point (a ball that contains its value, or NaN/inf).

    python-flint's real functions return a non-finite ball wherever their argument ball leaves
    the real domain (log, sqrt, asin, lgamma of a negative number, a pole), which the caller
    refuses; the rules of ``_point_rule`` are where arb's function differs from the grammar's.
    """
    code, args, b = op.code, op.args, _balls()
    if code == "num":
        p, q = op.value
        if q == 1:  # an integer is an exact ball at every precision: made once
            exact = b.arb(p)
            return lambda _v: exact
        return lambda _v: b.rational(p, q)
    if code in ("pi", "e"):
        return (lambda _v: b.pi()) if code == "pi" else (lambda _v: b.e())
    if code in ("add", "mul", "min", "max"):
        return _fold_step(code, args)
    if code in _ELEMENTARY or code in _RENAMED:
        method = getattr(b.arb, _RENAMED.get(code, code))
        (i,) = args
        return lambda v: method(v[i])
    if code == "ipow":
        (i,), n = args, op.value
        return lambda v: v[i] ** n
    if code == "rpow":
        (i,), (p, q) = args, op.value
        return lambda v: b.root(v[i], q) ** p
    if code == "pow":
        i, j = args
        return lambda v: v[i] ** v[j]
    return functools.partial(_point_rule, op)


def _fold_step(code: str, args: tuple[int, ...]) -> _Step:
    if code in ("add", "mul") and len(args) == 2:
        i, j = args
        return (lambda v: v[i] + v[j]) if code == "add" else (lambda v: v[i] * v[j])

    def fold(v: list[Any]) -> Any:
        total = v[args[0]]
        for a in args[1:]:
            total = _combine(code, total, v[a])
        return total

    return fold


def _combine(code: str, a: Any, b: Any) -> Any:
    if code == "add":
        return a + b
    if code == "mul":
        return a * b
    return a.min(b) if code == "min" else a.max(b)


def _point_rule(op: Any, v: list[Any]) -> Any:
    """Heaviside, atan2 and the special functions of two arguments, at a point."""
    args, code, b = [v[a] for a in op.args], op.code, _balls()
    if code == "heaviside":
        x = args[0]
        if x > 0 or x < 0:
            return b.rational(int(x > 0), 1)
        if x.is_zero():
            return b.rational(*op.value)
        msg = f"the sign of the argument of {_short(op.node)} is not decided"
        raise _NotCertified(msg)
    if code == "atan2":
        y, x = args
        if not (y > 0 or y < 0 or x > 0 or x < 0):  # arb's atan2(0, 0) is 0; it is undefined
            msg = f"{_short(op.node)} may be at the origin"
            raise _NotCertified(msg)
        return b.atan2(y, x)
    if code in ("besselj", "bessely") and not abs(args[0]) < MAX_BESSEL_ORDER:
        msg = f"the order in {_short(op.node)} may exceed {MAX_BESSEL_ORDER}"
        raise _NotCertified(msg)
    return b.special(code, args)  # beta, polygamma, besselj, bessely


# -- Taylor series over a hull -----------------------------------------------------------------------

_Handler = Callable[[Any, list[Any]], Any]  # (operation, argument series or balls) -> series


def _c0(a: Any) -> Any:
    """The constant term: the ball of the value over the hull."""
    return a if type(a) is _balls().arb else a[0]


def _decided(a: Any) -> int:
    """1 or -1 when the ball (of the value over the hull) excludes 0, else 0."""
    return 1 if a > 0 else (-1 if a < 0 else 0)


def _require(ok: bool, op: Any, what: str) -> None:
    if not ok:
        msg = f"{what} in {_short(op.node)} is not decided over the stencil's interval"
        raise _NotCertified(msg)


def _inv(a: Any) -> Any:
    return 1 / a


def _series_step(op: Any) -> _Step:
    """The Taylor series of one operation over the hull, after proving it analytic there."""
    code, args = op.code, op.args
    if code in ("add", "mul") and len(args) == 2:
        return _series_pair(code, *args)
    if code in ("num", "pi", "e"):
        return _point_step(op)  # constants never depend on a variable: not in a cone
    handler = _SERIES.get(code)
    if handler is None:
        reason = f"python-flint has no Taylor series of {code} (in {_short(op.node)})"

        def refuse(_v: list[Any]) -> Any:
            raise _NotCertified(reason)

        return refuse
    if handler is _s_entire:  # no domain to decide: python-flint's method itself
        method, (i,) = getattr(_balls().flint.arb_series, code), args
        return lambda v: method(v[i])
    if len(args) == 1:
        (i,) = args
        return lambda v: handler(op, [v[i]])
    return lambda v: handler(op, [v[a] for a in args])


def _series_pair(code: str, i: int, j: int) -> _Step:
    """a + b or a·b where one of them may be a constant ball (an operation off the cone)."""
    b = _balls()
    arb, series, add = b.arb, b.flint.arb_series, code == "add"

    def pair(v: list[Any]) -> Any:
        x, y = v[i], v[j]
        if type(x) is arb:  # python-flint converts it much more slowly inside the operation
            x = series(x)
        elif type(y) is arb:
            y = series(y)
        return x + y if add else x * y

    return pair


def _as_series(a: Any) -> Any:
    """A constant ball as a series (python-flint converts one inside a mixed operation at
    several times the cost of this)."""
    b = _balls()
    return b.flint.arb_series(a) if type(a) is b.arb else a


def _power(a: Any, n: int) -> Any:
    """a^n for n >= 1 by squaring (python-flint's series power of an integer is slower)."""
    result = None
    while True:
        if n & 1:
            result = a if result is None else result * a
        n >>= 1
        if not n:
            return result
        a = a * a


def _s_fold(op: Any, a: list[Any]) -> Any:
    if op.code in ("add", "mul"):
        a = [_as_series(x) for x in a]
    total = a[0]
    for x in a[1:]:
        if op.code in ("min", "max"):
            side = _decided(_c0(total) - _c0(x))
            _require(side != 0, op, "which argument is smaller")
            total = total if (side < 0) == (op.code == "min") else x
        else:
            total = _combine(op.code, total, x)
    return total


def _s_ipow(op: Any, a: list[Any]) -> Any:
    if op.value > 0:
        return _power(a[0], op.value)
    _require(_decided(_c0(a[0])) != 0, op, "the sign of the divisor")
    return a[0] ** op.value


def _s_rpow(op: Any, a: list[Any]) -> Any:
    p, q = op.value
    _require(_c0(a[0]) > 0, op, "the positivity of the base")
    return (a[0].sqrt() if q == 2 else a[0] ** _balls().rational(1, q)) ** p


def _s_pow(op: Any, a: list[Any]) -> Any:
    _require(_c0(a[0]) > 0, op, "the positivity of the base")
    return (a[1] * a[0].log()).exp()


def _s_log(op: Any, a: list[Any]) -> Any:
    _require(_c0(a[0]) > 0, op, "the positivity of the argument")
    return a[0].log()


def _s_entire(op: Any, a: list[Any]) -> Any:
    """exp, sin, cos, atan, erf and erfc: analytic on the whole real line."""
    return getattr(a[0], op.code)()


def _s_periodic(op: Any, a: list[Any]) -> Any:
    """tan and sec (poles where cos = 0), csc and cot (where sin = 0)."""
    x = a[0]
    cos, sin = x.cos(), x.sin()
    divisor = cos if op.code in ("tan", "sec") else sin
    _require(_decided(_c0(divisor)) != 0, op, "the sign of the divisor")
    if op.code in ("sec", "csc"):
        return _inv(divisor)
    return sin / cos if op.code == "tan" else cos / sin


def _s_inverse_trig(op: Any, a: list[Any]) -> Any:
    """asin, acos on (-1, 1); atanh there too; acosh on (1, ∞)."""
    x, c = a[0], _c0(a[0])
    if op.code == "acosh":
        _require(c > 1, op, "argument > 1")
        return (x + (x * x - 1).sqrt()).log()
    _require(c > -1 and c < 1, op, "|argument| < 1")
    if op.code == "atanh":
        return ((1 + x).log() - (1 - x).log()) / 2
    return getattr(x, op.code)()


def _s_hyperbolic(op: Any, a: list[Any]) -> Any:
    """sinh, cosh, tanh through exp; asinh through log (odd: its negative side mirrored)."""
    x = a[0]
    if op.code == "asinh":
        sign = -1 if _c0(x) < 0 else 1
        u = sign * x
        return sign * (u + (u * u + 1).sqrt()).log()
    if op.code == "tanh":
        t = (2 * x).exp()
        return (t - 1) / (t + 1)
    e = x.exp()
    return (e - _inv(e)) / 2 if op.code == "sinh" else (e + _inv(e)) / 2


def _s_branch(op: Any, a: list[Any]) -> Any:
    """abs, sign and Heaviside where the sign of the argument is decided over the hull."""
    side = _decided(_c0(a[0]))
    _require(side != 0, op, "the sign of the argument")
    if op.code == "abs":
        return a[0] if side > 0 else -a[0]
    return _balls().rational(side if op.code == "sign" else int(side > 0), 1)


def _s_atan2(op: Any, a: list[Any]) -> Any:
    """atan(y/x) for x > 0, ±π/2 − atan(x/y) for ±y > 0 (away from the cut and the origin)."""
    y, x = a
    if _c0(x) > 0:
        return (y / x).atan()
    side = _decided(_c0(y))
    _require(side != 0, op, "the side of the branch cut")
    return side * _balls().pi() / 2 - (x / y).atan()


def _s_gamma(op: Any, a: list[Any]) -> Any:
    """Γ and beta away from 0, -1, -2, ...; loggamma for a positive argument."""
    for x in a:
        c = _c0(x)
        ok = c > 0 if op.code == "loggamma" else (c > 0 or not c.contains_integer())
        _require(ok, op, "the distance to the poles 0, -1, -2, ...")
    if op.code == "beta":
        return a[0].gamma() * a[1].gamma() * (a[0] + a[1]).rgamma()
    return a[0].gamma() if op.code == "gamma" else a[0].lgamma()


_SERIES: dict[str, _Handler] = {
    "add": _s_fold,
    "mul": _s_fold,
    "min": _s_fold,
    "max": _s_fold,
    "ipow": _s_ipow,
    "rpow": _s_rpow,
    "pow": _s_pow,
    "log": _s_log,
    **dict.fromkeys(("exp", "sin", "cos", "atan", "erf", "erfc"), _s_entire),
    **dict.fromkeys(("tan", "sec", "csc", "cot"), _s_periodic),
    **dict.fromkeys(("asin", "acos", "atanh", "acosh"), _s_inverse_trig),
    **dict.fromkeys(("sinh", "cosh", "tanh", "asinh"), _s_hyperbolic),
    **dict.fromkeys(("abs", "sign", "heaviside"), _s_branch),
    "atan2": _s_atan2,
    **dict.fromkeys(("gamma", "loggamma", "beta"), _s_gamma),
}


# -- f over a complex box (the Cauchy bound) --------------------------------------------------------

_ENTIRE_OR_POLES = frozenset(
    {"exp", "sin", "cos", "sinh", "cosh", "erf", "erfc"}  # entire
    | {"tan", "sec", "csc", "cot", "tanh", "gamma"}  # meromorphic: a pole in the box is not finite
)


def _disc_step(op: Any) -> _Step | None:
    """The ``acb`` box of one operation over a complex box of its arguments, or None where f
    may not be analytic on every box whose image is finite (the operation is then outside the
    Cauchy bound, and the series decide: see the module docstring).

    Entire and meromorphic operations need no rule: a box that contains a pole has an unbounded
    image, which no finite ball encloses.  log, x**(p/q) and x**y use python-flint's
    ``analytic`` option, which returns an indeterminate ball when the argument's box touches
    the branch cut (-inf, 0]; every other operation (abs, min, atan, asin, Bessel, ...) has no
    such rule here.
    """
    code, args, b = op.code, op.args, _balls()
    acb = b.flint.acb
    if code in ("num", "pi", "e"):
        constant = _point_step(op)
        return lambda v: acb(constant(v))
    if code in ("add", "mul"):
        return _fold_step(code, args)
    if code == "ipow":
        (i,), n = args, op.value
        return lambda v: v[i] ** n
    if code in _ENTIRE_OR_POLES:
        method, (i,) = getattr(acb, code), args
        return lambda v: method(v[i])
    if code == "log":
        (i,) = args
        return lambda v: v[i].log(analytic=True)
    if code == "rpow":
        (i,), (p, q) = args, op.value
        if q == 2:
            return lambda v: v[i].sqrt(analytic=True) ** p
        return lambda v: (v[i].log(analytic=True) * b.rational(p, q)).exp()
    if code == "pow":
        i, j = args
        return lambda v: (v[j] * v[i].log(analytic=True)).exp()
    return None


# -- the driver -------------------------------------------------------------------------------------


class _Constants(NamedTuple):
    """The balls of one step and precision (made once per partial's job, step and precision)."""

    bits: int  # the working precision they are made at
    digits: int  # ... in decimal digits, rounded up: the result's ``working_dps``
    shifts: tuple[Any, ...]  # s_i·h, per stencil point
    hull: Any  # a ball containing [low·h, high·h]: the hull is x plus it
    factor: Any  # Σ|w||s|^q · h^(q−m): times max|f^(q)|/q!, the truncation bound
    divisor: Any  # 1 / (den · h^m)
    tenth: Any  # 10^-dps
    goal: Any  # 10^-(dps + guard)
    ulp: Any  # 2^(1 − p) for the p bits of the returned mpf numbers: their rounding
    step: Any  # h as an mpmath number (exact)
    disc_factor: Any = None  # a first disc step's factor times 2 / R^q: times M, its bound
    disc_reason: str = ""  # the reason of a result at this step, certified at once


class _Job(NamedTuple):
    """One partial of a gradient: all of it that does not depend on the point."""

    axis: int  # the variable
    moved: _Axis | None  # its operations (None: no output depends on it)
    rule: _Rule
    e: int  # the first step is 2^(scale − e): the digits asked for over the stencil's order
    first: dict[int, _Constants]  # the first step's constants, per scale of the coordinate
    later: dict[tuple[int, int], _Constants]  # after a halving or raise: per (exponent, bits)
    e_disc: int  # ... with the Cauchy bound: smaller by what M / R^q costs over |f^(q)| / q!
    disc_first: dict[int, _Constants]  # its first step's constants, per scale


class _Jobs(NamedTuple):
    """The partials of one call, made once per plan, list of partials and dps."""

    jobs: tuple[_Job, ...]
    cap: int  # python-flint's series length: the largest q + 1 of the stencils


_MAX_KEPT = 256  # constants kept per job and table, emptied whole beyond
#: The Cauchy disc's radius is R = 2^(scale − _RHO) (scale: |x| ≈ 2^scale, 0 at x = 0), and the
#: steps keep S·h <= R/2 (S = max |s_i|), so that the tail Σ (S h / R)^k is at most twice its
#: first term.
_RHO = 6
_DISC_MARGIN = 8  # bits of the first disc step for 2M over |f| (M / R^q against |f^(q)| / q!)
_DISC_SLACK = 16  # halvings of the step beyond the first that the disc may take (else: series)
_DISC_GROWTH = 64  # M above 2^this times |f| at the point: the series' bound is far tighter


def _ceil_log2(value: Fraction) -> int:
    """The least k with 2^k >= value > 0."""
    k = value.numerator.bit_length() - value.denominator.bit_length()
    return k if Fraction(2) ** k >= value else k + 1


def _jobs(plan: _Plan, partials: Sequence[tuple[int, Stencil]], dps: int) -> _Jobs:
    """Each partial's job (raises ``_NotCertified`` for a stencil without a remainder rule)."""
    jobs = []
    for axis, stencil in partials:
        rule = _rule(stencil)
        e = math.ceil((dps + _GUARD) / rule.order * _LOG2_10)
        reach = max(abs(Fraction(*rule.low)), abs(Fraction(*rule.high)))  # S = max |s_i|
        first = e + math.ceil((_RHO * rule.q + _DISC_MARGIN) / rule.order)
        e_disc = max(first, _RHO + 1 + _ceil_log2(reach))
        jobs.append(_Job(axis, plan.axes[axis], rule, e, {}, {}, e_disc, {}))
    return _Jobs(tuple(jobs), max(job.rule.q for job in jobs) + 1)


@dataclass(slots=True)
class _Partial:
    """One partial derivative at one point, in progress."""

    job: _Job
    moved: _Axis
    scale: int  # |x| is about 2^scale (0 at x = 0)
    e: int  # the step is 2^(scale - e)
    bits: int
    centre: list[Any]  # every operation's ball at the point, at ``bits``
    shrink: Any  # 1 / max(1, |x|)^m: |f| times it is what digits count against
    bound: Any = None  # max over components of max |f^(q)|/q! over the first hull
    remainder: Any = None  # the truncation bound at the current step
    evaluations: int = 0
    raises: int = 0
    disc: bool = False  # the truncation bound is Cauchy's over a complex disc (else the series)


class _Call:
    """One call's state: python-flint in a session, the point, f at it per precision."""

    def __init__(
        self, plan: _Plan, b: Any, x0: Sequence[tuple[int, int]], dps: int, cap: int
    ) -> None:
        self.plan, self.b, self.x0, self.dps, self.cap = plan, b, x0, dps, cap
        self.arb = b.flint.arb
        self.series = b.flint.arb_series
        self.context = b.flint.ctx
        self.final = thread_context(dps)  # the context results are rounded to
        self.centres: dict[int, list[Any]] = {}
        self.bits = 0  # python-flint's precision, once set by ``at``
        self.largest: Any = _UNKNOWN  # M: an upper bound of |f| over the complex box, or None
        #: per variable, k with |p/q| about 2^k (0 at p = 0): the scale of steps and discs
        self.scales = [abs(p).bit_length() - q.bit_length() if p else 0 for p, q in x0]

    def disc(self) -> Any:
        """M >= |f| over the box x_j + [−R_j, R_j]·(1 + i) of every variable (R_j = 2^(scale_j −
        _RHO)), where f is proven analytic; None where it is not (once per call)."""
        if self.largest is _UNKNOWN:
            self.largest = self._disc()
        return self.largest

    def _disc(self) -> Any:
        """M at the current precision, from the point's balls there (``at`` evaluated them)."""
        plan = self.plan
        if plan.disc is None:
            return None
        centre = self.centres[self.bits]
        values: list[Any] = [None] * len(plan.program.ops)
        for j, k in enumerate(plan.variables):
            if k is not None:
                values[k] = _box(self.scales[j]) + centre[k]
        try:
            for k, step in plan.disc:
                values[k] = step(values)
        except (ArithmeticError, ValueError):
            return None
        largest = size = None
        for k in plan.outputs:
            bound, low = values[k].abs_upper(), centre[k].abs_lower()
            largest = bound if largest is None else largest.max(bound)
            size = low if size is None else size.max(low)
        if largest is None or not largest.is_finite():
            return None
        if size is not None and size > 0 and largest > size * _power_of_two(_DISC_GROWTH):
            return None  # f grows fast off the axis, or its box evaluation cancels
        return largest

    def at(self, bits: int) -> list[Any]:
        """Work at ``bits`` bits; every operation's ball at the point (once per precision)."""
        if bits != self.bits:
            self.context.prec = self.bits = bits
        known = self.centres.get(bits)
        if known is None:
            known = self.centres[bits] = self._centre()
        return known

    def _centre(self) -> list[Any]:
        plan, arb = self.plan, self.arb
        values: list[Any] = [None] * len(plan.program.ops)
        for j, k in enumerate(plan.variables):
            if k is not None:  # p/q: the exact integers divided, the ball of arb(fmpq(p, q))
                p, q = self.x0[j]
                values[k] = arb(p) / q
        try:
            for k, step in plan.centre:
                values[k] = step(values)
        except (ArithmeticError, ValueError) as exc:
            msg = f"f cannot be evaluated on balls at the point ({exc})"
            raise _NotCertified(msg) from exc
        for k in plan.outputs:
            if not values[k].is_finite():
                msg = "f is not a finite real number on the balls at the point"
                raise _NotCertified(msg)
        return values


_UNKNOWN = object()  # a value not computed yet


@functools.lru_cache(maxsize=256)
def _box(scale: int) -> Any:
    """The complex box [−R, R]·(1 + i), R = 2^(scale − _RHO), as an exact ``acb`` (it contains
    the disc of radius R)."""
    arb = _balls().arb
    radius = arb(0, arb(2) ** (scale - _RHO))
    return _balls().flint.acb(radius, radius)


def certified_partials(
    f: Compiled, x0: Sequence[sympy.Rational], partials: Sequence[tuple[int, Stencil]], dps: int
) -> list[FDResult | Declined]:
    """Each partial (an axis and its one-dimensional stencil) certified, or declined with why.

    The point is evaluated once for all partials (per working precision), and so is f over the
    complex box of Cauchy's bound; every partial costs one stencil evaluation per precision it
    needs, and one series evaluation where the box gives no bound (module docstring).
    """
    if not partials:
        return []
    try:
        plan = _plan(f)
        known = plan.jobs.get((id(partials), dps))
        if known is not None and known[0] is partials:
            made: _Jobs = known[1]
        else:
            made = remembered(
                plan.jobs, partials, _new_jobs(plan, partials, dps), (id(partials), dps)
            )
    except _NotCertified as exc:
        return [Declined(exc.reason) for _ in partials]
    point = [(int(v.p), int(v.q)) for v in x0]
    results: list[FDResult | Declined] = []
    with ArbBalls.session(64) as b:  # python-flint's precision and series cap, restored after
        context = b.flint.ctx
        old_cap, context.cap = context.cap, made.cap
        try:
            call = _Call(plan, b, point, dps, made.cap)
            for job in made.jobs:
                try:
                    results.append(_certify(f, call, job))
                except _NotCertified as exc:
                    results.append(Declined(exc.reason))
        finally:
            context.cap = old_cap
    return results


def _new_jobs(
    plan: _Plan, partials: Sequence[tuple[int, Stencil]], dps: int
) -> Callable[[], _Jobs]:
    return lambda: _jobs(plan, partials, dps)


def _certify(f: Compiled, call: _Call, job: _Job) -> FDResult:
    """One partial: by Cauchy's bound where f is proven analytic on the call's complex box,
    else (or where that bound does not certify) by the Taylor series over the hull."""
    moved = job.moved
    if moved is None:  # exactly 0 where f has a value at the point (else: declined, classified)
        call.at(call.bits or _bits(call.dps, job.rule, job.e, 0))
        return _zero(f, job.rule, call.dps)
    scale = call.scales[job.axis]
    spent = 0
    if call.plan.disc is not None:
        done = _by_disc(f, call, job, moved, scale)
        if not isinstance(done, int):
            return done
        spent = done
    return _by_series(f, call, job, moved, scale, spent)


def _by_disc(f: Compiled, call: _Call, job: _Job, moved: _Axis, scale: int) -> FDResult | int:
    """The partial with the truncation bound 2 M C h^(q−m) / R^q (module docstring); where f
    has no such bound here, or it would need a much smaller step than the first (M is far
    above |f^(q)|·R^q / q!), or it does not certify within the precision raises, or the
    precision it needs is refused, the number of evaluations spent (the series decide)."""
    try:
        c = job.disc_first.get(scale) or _disc_constants(call, job, scale)
        centre = call.at(c.bits)
    except _NotCertified:  # nothing of the box evaluated (the series will say why)
        return 0
    largest = call.disc()
    if largest is None:
        return 1  # the box, shared by the partials and counted in each, as the point is
    first = None
    if len(call.plan.outputs) == 1:  # the common case, in one pass
        try:
            single = _disc_single(call, job, moved, c, centre, largest)
        except _NotCertified:
            return 1 + len(c.shifts)
        if isinstance(single, FDResult):
            return single
        first = single
    p, q = call.x0[job.axis]
    shrink = _shrink(call, job.rule, p, q)
    work = _Partial(job, moved, scale, job.e_disc, c.bits, centre, shrink, evaluations=1, disc=True)
    try:
        return _disc_steps(f, call, work, c, largest, first)
    except _NotCertified:
        return work.evaluations


def _disc_steps(
    f: Compiled, call: _Call, work: _Partial, c: _Constants, largest: Any, first: _Found | None
) -> FDResult | int:
    """:func:`_by_disc` after the box (and the first stencil of one component, ``first``): the
    result, or the evaluations spent."""
    rule = work.job.rule
    work.bound = largest * _power_of_two(1 + rule.q * (_RHO - work.scale))  # 2 M / R^q
    work.remainder = work.bound * c.factor
    if first is None:
        found = _stencil(call, work, c)
    else:
        found = first
        work.evaluations += len(c.shifts)
    while not found.certified:
        if work.raises == MAX_ESCALATIONS or _remainder_limited(work, found):
            return work.evaluations
        c = _escalate(call, work, found)
        found = _stencil(call, work, c)
    return _result(f, call, work, found, c)


def _remainder_limited(work: _Partial, found: _Found) -> bool:
    """Whether the truncation bound needs more than ``_DISC_SLACK`` halvings of the step."""
    if not (found.tol > 0 and work.remainder * 4 > found.tol):
        return False
    return _halvings(work.remainder * 4 / found.tol, work.job.rule.order) > _DISC_SLACK


def _disc_constants(call: _Call, job: _Job, scale: int) -> _Constants:
    """The first disc step's constants at this scale (made once per job and scale)."""
    rule = job.rule
    bits = _bits(call.dps, rule, job.e_disc, scale)
    call.at(bits)
    made = _make_constants(call, rule, scale - job.e_disc, bits)
    scaled = made.factor * _power_of_two(1 + rule.q * (_RHO - scale))  # · 2 / R^q
    why = _reason(made.digits, 0, True)
    return _kept(job.disc_first, scale, made._replace(disc_factor=scaled, disc_reason=why))


def _disc_single(
    call: _Call, job: _Job, moved: _Axis, c: _Constants, centre: list[Any], largest: Any
) -> FDResult | _Found:
    """The first stencil of a function of one component, and its result where it certifies
    (the common case), without the intermediate records; else what :func:`_escalate` needs."""
    rule = job.rule
    (k,) = call.plan.outputs
    v = _stencil_sum(list(centre), moved, c.shifts, rule.integer_weights, k) * c.divisor
    mid = v.mid()
    size = abs(mid)
    tenth = c.tenth
    spread = v.rad() + largest * c.disc_factor
    small = not spread <= size * tenth
    if small:  # certified against |f| / max(1, |x|)^m, or not (or not finite)
        if not v.is_finite():
            raise _NotCertified(_NOT_FINITE)
        p, q = call.x0[job.axis]
        tol = _shrunk(abs(centre[k]), _shrink(call, rule, p, q)).max(size) * tenth
        if not spread <= tol:
            return _Found((v,), (mid,), (size,), (spread,), tol, False)
    final = call.final
    raw, top = _rounded(mid, size, spread, final.prec, c.ulp)
    why = c.disc_reason
    if small:
        why += _against_f(call.dps)
    return certified_ok(
        final.make_mpf(raw),
        final.make_mpf(top),
        c.step,
        why,
        rule.scheme,
        c.digits,
        len(c.shifts) + 2,
    )


@functools.lru_cache(maxsize=1024)
def _power_of_two(k: int) -> Any:
    """2^k as an exact ball (at every precision)."""
    return _balls().arb(2) ** k


def _by_series(
    f: Compiled, call: _Call, job: _Job, moved: _Axis, scale: int, spent: int = 0
) -> FDResult:
    """The partial with the Lagrange bound from the Taylor series over the hull (``spent``:
    the evaluations of a Cauchy bound tried first)."""
    rule = job.rule
    p, q = call.x0[job.axis]
    c = job.first.get(scale)
    if c is None:  # the first point of this scale: its step's constants
        bits = _bits(call.dps, rule, job.e, scale)
        call.at(bits)
        c = _kept(job.first, scale, _make_constants(call, rule, scale - job.e, bits))
    centre = call.at(c.bits)
    shrink = _shrink(call, rule, p, q)
    work = _Partial(job, moved, scale, job.e, c.bits, centre, shrink, evaluations=spent)
    c = _choose_step(call, work, c)
    found = _stencil(call, work, c)
    while not found.certified:
        if work.raises == MAX_ESCALATIONS:
            msg = (
                f"after {work.raises} precision raises the certified bound still exceeds "
                f"10^-{call.dps} relative"
            )
            raise _NotCertified(msg)
        c = _escalate(call, work, found)
        found = _stencil(call, work, c)
    return _result(f, call, work, found, c)


def _kept(table: dict[Any, _Constants], key: Any, constants: _Constants) -> _Constants:
    """``constants`` stored in ``table`` under ``key`` (a table past its size emptied first)."""
    if len(table) >= _MAX_KEPT:
        table.clear()
    table[key] = constants
    return constants


def _bits(dps: int, rule: _Rule, e: int, scale: int) -> int:
    """Working bits: dps + guard digits, plus what dividing by h^m and Σ|w| amplify."""
    digits = dps + _GUARD + 3
    bits = math.ceil(digits * _LOG2_10) + rule.weight_bits + rule.m * (e + max(0, -scale))
    bits = _grain(bits)
    if bits > _MAX_BITS:
        msg = f"the bound needs more than {MAX_WORK_DPS} working digits"
        raise _NotCertified(msg)
    return bits


def _grain(bits: int) -> int:
    return -(-bits // _GRAIN) * _GRAIN


def _make_constants(call: _Call, rule: _Rule, exponent: int, bits: int) -> _Constants:
    """The constants of the step 2^exponent at python-flint's current precision, ``bits``."""
    arb, b = call.arb, call.b
    h = arb(2) ** exponent
    low, high = b.rational(*rule.low) * h, b.rational(*rule.high) * h
    return _Constants(
        bits,
        math.ceil(bits / _LOG2_10),
        tuple(h * s.numerator / s.denominator for s in rule.offsets),
        low.union(high),
        b.rational(*rule.constant) * arb(2) ** (exponent * rule.order),
        arb(2) ** (-exponent * rule.m) / rule.den,
        arb(10) ** -call.dps,
        arb(10) ** -(call.dps + _GUARD),
        arb(2) ** (1 - call.final.prec),
        call.final.make_mpf(lib.from_man_exp(1, exponent)),
    )


def _largest(balls: list[Any]) -> Any:
    """The ball of the maximum (of one or more balls)."""
    top = balls[0]
    for ball in balls[1:]:
        top = top.max(ball)
    return top


def _smallest(balls: list[Any]) -> Any:
    """The ball of the minimum (of one or more balls)."""
    low = balls[0]
    for ball in balls[1:]:
        low = low.min(ball)
    return low


def _choose_step(call: _Call, work: _Partial, c: _Constants) -> _Constants:
    """Enclose max|f^(q)|/q! over the first hull, then shrink h until the remainder is small."""
    rule = work.job.rule
    bound, size = _enclosures(rule, _series(call, work, c), work.shrink)
    if not bound.is_finite():
        msg = "the Taylor enclosure over the stencil's interval is not finite"
        raise _NotCertified(msg)
    work.bound = bound
    remainder = work.remainder = bound * c.factor
    goal = size * c.goal
    if goal > 0 and remainder > goal:
        work.e += _halvings(remainder / goal, rule.order)
        work.bits = _bits(call.dps, rule, work.e, work.scale)
        c = _precision(call, work)
    return c


def _enclosures(rule: _Rule, outputs: list[Any], shrink: Any) -> tuple[Any, Any]:
    """Over the hull and every output: an upper bound of |f^(q)|/q!, and a lower bound of
    max(|f^(m)|, |f| / max(1, |x|)^m), the size the digits are counted against (a product
    with an exact 1 is skipped: it is the same ball)."""
    q, m, factorial = rule.q, rule.m, rule.factorial
    bound = size = None
    for out in outputs:
        high = out[q].abs_upper()
        derivative, value = out[m].abs_lower(), out[0].abs_lower()
        if factorial != 1:
            derivative *= factorial
        low = derivative.max(_shrunk(value, shrink))
        bound = high if bound is None else bound.max(high)
        size = low if size is None else size.max(low)
    return bound, size


def _shrunk(ball: Any, shrink: Any) -> Any:
    """``ball`` times ``shrink`` (:func:`_shrink`); the integer 1 leaves the same ball, unmultiplied."""
    return ball if type(shrink) is int else ball * shrink


def _shrink(call: _Call, rule: _Rule, p: int, q: int) -> Any:
    """1 / max(1, |x|)^m for x = p/q, at the current precision (the integer 1 for |x| <= 1)."""
    if abs(p) <= q:
        return 1
    m = rule.m
    return call.b.rational(q**m, abs(p) ** m)


def _precision(call: _Call, work: _Partial) -> _Constants:
    """The constants after a change of step or bits (the remainder follows the step)."""
    rule, bits = work.job.rule, work.bits
    work.centre = call.at(bits)
    p, q = call.x0[work.job.axis]
    work.shrink = _shrink(call, rule, p, q)
    exponent = work.scale - work.e
    later = work.job.later
    c = later.get((exponent, bits))
    if c is None:
        c = _kept(later, (exponent, bits), _make_constants(call, rule, exponent, bits))
    work.remainder = work.bound * c.factor
    return c


def _series(call: _Call, work: _Partial, c: _Constants) -> list[Any]:
    """f's outputs as Taylor series in t on the hull x + t, each operation proven analytic
    (an output that does not move is a constant series)."""
    centre, var, series = work.centre, work.moved.var, call.series
    values = list(centre)
    length = work.job.rule.q + 1  # python-flint's cap (the default) unless stencils differ
    start = [centre[var] + c.hull, 1]
    values[var] = series(start) if length == call.cap else series(start, prec=length)
    try:
        for k, step in work.moved.series:
            values[k] = step(values)
    except (ArithmeticError, ValueError) as exc:  # a series divided by one that may vanish
        msg = f"the Taylor series over the stencil's interval fails ({exc})"
        raise _NotCertified(msg) from exc
    work.evaluations += 1
    outputs = []
    for k in call.plan.outputs:
        out = values[k]
        outputs.append(out if type(out) is series else series(out))
    return outputs


def _halvings(ratio: Any, order: int) -> int:
    """How many halvings of h bring a bound of order ``order`` down by ``ratio`` (> 1).

    A ratio whose logarithm is past float64's range (exp(-1/x**2) at x = 1e-200 varies by
    10^(4.3e399) over the first interval) certifies nothing; a large finite one is refused by
    the working precision it would need (:func:`_bits`).
    """
    bits = float(ratio.log()) / math.log(2)
    if not math.isfinite(bits):
        msg = "the step would have to shrink beyond every working precision (f varies too fast)"
        raise _NotCertified(msg)
    return math.ceil(bits / order) + 1


class _Found(NamedTuple):
    value: Sequence[Any]  # the balls of D(h), per component
    mids: Sequence[Any]  # their midpoints
    sizes: Sequence[Any]  # |midpoint| of each
    spreads: Sequence[Any]  # radius + truncation bound of each
    tol: Any  # 10^-dps times the size the digits are counted against
    certified: bool


def _stencil_sum(
    values: list[Any], moved: _Axis, shifts: Sequence[Any], weights: Sequence[int], k: int
) -> Any:
    """Σ w_i f(x + s_i h) for the one component k: the cone at each stencil point, in
    ``values`` (f's balls at the point, reused), a weight of ±1 without multiplying."""
    var, cone = moved.var, moved.points
    x = values[var]
    total = None
    try:
        for shift, w in zip(shifts, weights, strict=True):
            values[var] = x + shift
            for j, step in cone:
                values[j] = step(values)
            y = values[k]
            if total is None:
                total = y if w == 1 else (-y if w == -1 else y * w)
            else:
                total = total + y if w == 1 else (total - y if w == -1 else total + y * w)
    except (ArithmeticError, ValueError) as exc:
        raise _NotCertified(_AT_POINT.format(exc)) from exc
    return total


def _stencil(call: _Call, work: _Partial, c: _Constants) -> _Found:
    """D(h) on balls at the job's precision, its bounds, and whether they certify dps digits.

    The digits are counted against max(|D(h)|, |f(x)| / max(1, |x|)^m), as by the mpmath engine.
    A function of one component (the common case) takes the same steps without the lists.
    """
    centre, outputs, shrink = work.centre, call.plan.outputs, work.shrink
    weights = work.job.rule.integer_weights
    values = list(centre)  # the operations outside the cone keep their values at the point
    if len(outputs) > 1:
        return _components(work, c, outputs, _weighted_sums(values, work, c, outputs))
    (k,) = outputs
    total = _stencil_sum(values, work.moved, c.shifts, weights, k)
    work.evaluations += len(weights)
    v = total * c.divisor
    if not v.is_finite():
        raise _NotCertified(_NOT_FINITE)
    mid = v.mid()
    size = abs(mid)
    at = _shrunk(abs(centre[k]), shrink)
    tol = at.max(size) * c.tenth
    spread = v.rad() + work.remainder
    return _Found((v,), (mid,), (size,), (spread,), tol, spread <= tol)


_AT_POINT = "f cannot be evaluated on balls at a stencil point ({})"
_NOT_FINITE = "f is not finite on the balls at a stencil point"


def _weighted_sums(
    values: list[Any], work: _Partial, c: _Constants, outputs: tuple[int, ...]
) -> list[Any]:
    """D(h) = Σ w_i f(x + s_i h) / (den h^m) per output: the cone only, in one reused list."""
    var, cone = work.moved.var, work.moved.points
    x = values[var]
    totals: list[Any] = []
    try:
        for shift, w in zip(c.shifts, work.job.rule.integer_weights, strict=True):
            values[var] = x + shift
            for j, step in cone:
                values[j] = step(values)
            if totals:
                for i, k in enumerate(outputs):
                    totals[i] += values[k] * w
            else:
                totals = [values[k] * w for k in outputs]
    except (ArithmeticError, ValueError) as exc:
        raise _NotCertified(_AT_POINT.format(exc)) from exc
    work.evaluations += len(c.shifts)
    return [total * c.divisor for total in totals]


def _components(
    work: _Partial, c: _Constants, outputs: tuple[int, ...], value: list[Any]
) -> _Found:
    """The bounds of a function of several components, each component's digits counted against
    its own size, as for one; a component that does not depend on the moved variable has the
    derivative 0 exactly, with no remainder.  The returned tolerance is the tightest of those
    that move (what a raise or a halving must reach)."""
    centre, shrink, moved = work.centre, work.shrink, work.moved
    depends = {moved.var, *(j for j, _ in moved.points)}
    zero = _balls().arb(0)
    value = [v if k in depends else zero for k, v in zip(outputs, value, strict=True)]
    mids: list[Any] = []
    sizes: list[Any] = []
    spreads: list[Any] = []
    tols: list[Any] = []
    certified = True
    for k, v in zip(outputs, value, strict=True):
        if not v.is_finite():
            raise _NotCertified(_NOT_FINITE)
        mid = v.mid()
        size = abs(mid)
        mids.append(mid)
        sizes.append(size)
        if k not in depends:
            spreads.append(zero)
            continue
        spread = v.rad() + work.remainder
        tol = _shrunk(abs(centre[k]), shrink).max(size) * c.tenth
        spreads.append(spread)
        tols.append(tol)
        certified = certified and spread <= tol
    return _Found(value, mids, sizes, spreads, _smallest(tols) if tols else zero, certified)


def _escalate(call: _Call, work: _Partial, found: _Found) -> _Constants:
    """More bits for a ball wider than the tolerance; a smaller step for a remainder above it."""
    work.raises += 1
    rule = work.job.rule
    if not found.tol > 0:  # nothing to count digits against yet: double the precision
        work.bits = _grain(2 * work.bits)
    else:
        if work.remainder * 4 > found.tol:
            work.e += _halvings(work.remainder * 4 / found.tol, rule.order)
        widest = _largest([v.rad() for v in found.value])
        extra = _halvings(widest * 4 / found.tol, 1) + 16 if widest * 4 > found.tol else 0
        work.bits = max(_bits(call.dps, rule, work.e, work.scale), _grain(work.bits + extra))
    if work.bits > _MAX_BITS:
        msg = f"the bound needs more than {MAX_WORK_DPS} working digits (f cancels at the point)"
        raise _NotCertified(msg)
    return _precision(call, work)


# -- results ----------------------------------------------------------------------------------------


def _result(f: Compiled, call: _Call, work: _Partial, found: _Found, c: _Constants) -> FDResult:
    """The ``ok`` FDResult: midpoints rounded to dps digits, bounds rounded upwards.

    The digits are counted against |f| / max(1, |x|)^m where that is larger than D(h): a
    derivative far below f (tanh(x) at 60: 3e-52 beside 1) is then certified to 10^-dps of |f|,
    and the reason says that fewer of its own digits are (``small``).
    """
    final, tenth = call.final, c.tenth
    make, prec, ulp = final.make_mpf, final.prec, c.ulp
    if f.shape:
        values, bounds, small = [], [], False
        for mid, size, spread in zip(found.mids, found.sizes, found.spreads, strict=True):
            raw, bound = _rounded(mid, size, spread, prec, ulp)
            values.append(make(raw))
            bounds.append(make(bound))
            small = small or spread > size * tenth
        value, error = _shaped(values, f.shape), _shaped(bounds, f.shape)
    else:  # one component: its value and bound themselves
        (mid,), (size,), (spread,) = found.mids, found.sizes, found.spreads
        raw, top = _rounded(mid, size, spread, prec, ulp)
        value, error = make(raw), make(top)
        small = spread > size * tenth
    return certified_ok(
        value,
        error,
        c.step,
        _reason(c.digits, work.raises, work.disc) + (_against_f(call.dps) if small else ""),
        work.job.rule.scheme,
        c.digits,
        work.evaluations + 1,  # and the point itself, shared by the partials of one call
    )


def _rounded(mid: Any, size: Any, spread: Any, prec: int, ulp: Any) -> tuple[Any, Any]:
    """The midpoint rounded to ``prec`` bits and the bound (radius, truncation bound and that
    rounding) rounded up, as raw mpmath numbers made from the exact arb mantissas and exponents."""
    man, exp = mid.man_exp()
    value = _from_man_exp(int(man), int(exp), prec, _NEAREST)
    man, exp = (spread + size * ulp).upper().man_exp()
    return value, _from_man_exp(int(man), int(exp), prec, _CEILING)


_from_man_exp = lib.from_man_exp
_NEAREST, _CEILING = lib.round_nearest, lib.round_ceiling


@functools.lru_cache(maxsize=64)
def _against_f(dps: int) -> str:
    """What a certified result says when its derivative is below |f| / max(1, |x|)^m."""
    return (
        f"; the derivative is below |f| / max(1, |x|)^m here and the bound is 10^-{dps} of that:"
        f" fewer than {dps} of the derivative's own digits are certified"
    )


@functools.lru_cache(maxsize=256)
def _reason(digits: int, raises: int, disc: bool) -> str:
    """The reason of a certified result: what its error bound is made of (the bound itself is
    its ``error_estimate``, which ``to_text`` shows beside the value)."""
    raised = f" after {raises} precision raises" if raises else ""
    how = "Cauchy's bound of the Taylor remainder" if disc else "the Taylor remainder"
    return (
        f"certified on arb balls: the error bound is the ball radius plus {how}, "
        f"at {digits} working digits{raised}"
    )


def _zero(f: Compiled, rule: _Rule, dps: int) -> FDResult:
    """A partial along a variable that f does not depend on: exactly zero."""
    zero = thread_context(dps).zero
    values = _shaped([zero] * len(f.components), f.shape)
    bounds = _shaped([zero] * len(f.components), f.shape)
    why = "f does not depend on this variable: the derivative is exactly 0"
    return FDResult(
        values, bounds, 0, PointStatus.OK, why, "mp", rule.scheme, dps, 0, certified=True
    )
