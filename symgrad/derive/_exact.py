"""Certified exact values: SymPy expressions evaluated in ball arithmetic until the digits are proven.

Evaluating a formula at one fixed precision and trusting the result fails exactly where exact
values matter: ``(exp(x) - 1)/x`` at x = 1e-200 cancels to 0 at any precision below 200 digits,
and two such evaluations "agree" (0 = 0) although the value is 1.  Comparing evaluations at two
precisions cannot see this, because a cancellation that is complete at both gives the same wrong
answer twice, also when it is hidden inside a larger formula (``(exp(x) - 1)/x + 1`` is 1 at both).

So every value is computed as a *ball* that provably contains it (:mod:`symgrad.derive._balls`:
python-flint's ``arb`` when installed, else outward-rounded mpmath intervals), and a value is
returned only when its ball proves ``dps + 1`` significant digits.  Otherwise the working
precision doubles, from ``dps + 10`` digits up to ``MAX_WORK_DPS``.  Three rules make this sound:

* **Cancellation is visible.**  A complete cancellation leaves a ball around 0 whose relative
  error is unbounded: it is never accepted, however small it is.  An exact zero (a ball of radius
  0, from exact arithmetic such as ``x*y`` at x = 0 or ``sin(0)``) is exactly 0.
* **Branches are decided, not guessed.**  Before a function with a restricted domain, a pole or
  a jump (log, sqrt, 1/u, asin, tan, sign, Heaviside, atan2, Γ and polygamma at 0, -1, -2, ...,
  log Γ and the Bessel functions left of 0, ...) is applied, the sign of its argument (or
  whether it is a non-positive integer) must be decided by the ball.  A ball on the wrong side proves that the value is not
  real or is infinite (``UnsupportedError``; the message of a pole says "pole").  A ball that
  straddles the boundary leaves the value *undecided*, and the precision goes up.
* **True zeros are recognised exactly.**  ``sin(pi*x)`` at x = 1 is 0, but π is not exact, so its
  ball always straddles 0.  When a component still contains 0 (or is undecided) at three working
  precisions in a row, SymPy evaluates it exactly at the rational point (with caps on the size of
  the numbers it may build); an exact rational result, or an exact pole or non-real value,
  settles it.  (Inside sign, Abs, Min, Max and Heaviside, SymPy decides signs by its own
  error-controlled evaluation, and leaves the call unevaluated when it cannot.)

What cannot be settled within ``MAX_WORK_DPS`` working digits raises
``LimitExceeded(limit="unreliable")`` with the reason: a value is never returned with fewer
digits than it claims.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import mpmath.libmp as lib
import sympy

from symgrad._precision import MAX_WORK_DPS, thread_context
from symgrad.derive._balls import ArbBalls, Balls, IntervalBalls, arb_available
from symgrad.derive._extras import short
from symgrad.derive._trees import bottom_up
from symgrad.errors import InputError, LimitExceeded, MissingExtra, UnsupportedError
from symgrad.expr import MAX_BESSEL_ORDER

__all__ = ["ENGINES", "GUARD_DPS", "Program", "certified_values", "compile_program"]

#: The ball arithmetics ``engine=`` accepts: ``"auto"`` is arb when python-flint is installed.
ENGINES = ("auto", "arb", "mpmath")
#: Guard digits of the first evaluation (enough that cancellation-free formulas need one pass).
GUARD_DPS = 10
_LOG2_10 = math.log2(10)
_SYMBOLIC_BITS = 1 << 16  # the largest exact rational the SymPy fallback may build
_ROOT_BITS = 256  # the largest radicand of a root it may simplify (SymPy factors it)
_GAMMA_FAMILY = (sympy.gamma, sympy.loggamma, sympy.beta, sympy.polygamma)
_GAMMA_ARGUMENT = 256  # the largest |argument| of which the SymPy fallback may evaluate them
_ZEROISH = 3  # evaluations containing 0 (at p, 2p, 4p) before SymPy is asked for an exact value


# -- the program: a SymPy DAG as a list of operations ------------------------------------------


class _Op(NamedTuple):
    code: str
    args: tuple[int, ...]
    value: Any  # variable index, (p, q), integer exponent, (p, q) exponent, or Heaviside at 0
    node: Any  # the SymPy node, for messages


_FUNCTIONS = {
    **{getattr(sympy, n): n for n in ("exp", "log", "sin", "cos", "tan", "sec", "csc", "cot")},
    **{getattr(sympy, n): n for n in ("asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh")},
    **{getattr(sympy, n): n for n in ("acosh", "atanh", "atan2", "sign")},
    sympy.Abs: "abs",
    sympy.Min: "min",
    sympy.Max: "max",
    sympy.Heaviside: "heaviside",
    **{getattr(sympy, n): n for n in ("erf", "erfc", "gamma", "loggamma", "beta", "polygamma")},
    **{getattr(sympy, n): n for n in ("besselj", "bessely")},
}
#: Functions that only python-flint's arb can enclose (see ``_balls``).
_ARB_ONLY = frozenset({"besselj", "bessely", "polygamma"})


@dataclass(frozen=True)
class Program:
    """Components of a :class:`~symgrad.derive.Compiled` as one list of ball operations.

    Shared subexpressions appear once (the DAG is walked with a memo), so each is evaluated once.
    """

    ops: tuple[_Op, ...]
    outputs: tuple[int, ...]
    exprs: tuple[Any, ...]
    variables: tuple[Any, ...]
    _cones: dict[tuple[int, ...], list[int]] = field(default_factory=dict, compare=False)

    def cone(self, wanted: tuple[int, ...]) -> list[int]:
        """Indices of the operations that the components ``wanted`` need, in order."""
        if wanted not in self._cones:
            need: set[int] = set()
            stack = [self.outputs[i] for i in wanted]
            while stack:
                k = stack.pop()
                if k not in need:
                    need.add(k)
                    stack.extend(self.ops[k].args)
            self._cones[wanted] = sorted(need)
        return self._cones[wanted]


def compile_program(exprs: Sequence[Any], variables: Sequence[Any]) -> Program:
    """Translate the components into a :class:`Program` (post-order, without recursion).

    Raises `UnsupportedError` for a node outside symgrad's grammar (SymPy inputs of
    :class:`~symgrad.derive.Compiled` may contain any function; exact values support the
    functions the parser accepts and their derivatives).
    """
    index: dict[Any, int] = {}
    ops: list[_Op] = []
    position = {v: i for i, v in enumerate(variables)}
    for expr in exprs:
        stack = [_as_expr(expr)]
        while stack:
            node = stack[-1]
            if node in index:
                stack.pop()
                continue
            todo = [a for a in _operands(node) if a not in index]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            index[node] = len(ops)
            ops.append(_translate(node, index, position))
    outputs = tuple(index[_as_expr(e)] for e in exprs)
    return Program(tuple(ops), outputs, tuple(exprs), tuple(variables))


def _as_expr(expr: Any) -> Any:
    """A SymPy expression (a component may be a plain Python number)."""
    return expr if isinstance(expr, sympy.Basic) else sympy.Rational(expr)


def _operands(node: Any) -> tuple[Any, ...]:
    if node.is_Pow and node.exp.is_Rational:
        return (node.base,)
    if isinstance(node, sympy.Heaviside):
        return (node.args[0],)
    return () if node.is_Atom else tuple(node.args)


def _translate(node: Any, index: Mapping[Any, int], position: Mapping[Any, int]) -> _Op:
    """One operation; its operands are already in ``index``."""
    args = tuple(index[a] for a in _operands(node))
    if node.is_Symbol:
        if node not in position:
            msg = f"{node} is not one of the variables {list(position)}"
            raise InputError(msg)
        return _Op("var", (), position[node], node)
    if node.is_Rational or node.is_Float:
        value = sympy.Rational(node)
        return _Op("num", (), (int(value.p), int(value.q)), node)
    if node in (sympy.pi, sympy.E):
        return _Op("pi" if node is sympy.pi else "e", (), None, node)
    if node.is_Add or node.is_Mul:
        return _Op("add" if node.is_Add else "mul", args, None, node)
    if node.is_Pow:
        exp = node.exp
        if exp.is_Integer:
            return _Op("ipow", args, int(exp), node)
        if exp.is_Rational:
            return _Op("rpow", args, (int(exp.p), int(exp.q)), node)
        return _Op("pow", args, None, node)
    code = _FUNCTIONS.get(node.func)
    if code == "heaviside":
        at_zero = node.args[1] if len(node.args) > 1 else sympy.S.Half
        if at_zero.is_Rational:
            return _Op(code, args, (int(at_zero.p), int(at_zero.q)), node)
    elif code == "polygamma" and not (node.args[0].is_Integer and node.args[0] >= 0):
        pass  # polygamma of a non-integer order: refused below
    elif code is not None and (code != "log" or len(node.args) == 1):
        return _Op(code, args, None, node)
    msg = f"exact values cannot evaluate {_short(node)}: use the functions of symgrad's grammar"
    raise UnsupportedError(msg)


# -- evaluation ---------------------------------------------------------------------------------


class _Undecided(NamedTuple):
    """A value that the balls cannot pin down at this precision, and why."""

    reason: str


class _Outside(Exception):
    """The value is provably not a finite real number (``pole`` or ``domain``)."""

    def __init__(self, kind: str, node: Any, why: str) -> None:
        self.kind, self.node, self.why = kind, node, why
        super().__init__(why)


def _pole(op: _Op, why: str) -> _Outside:
    return _Outside("pole", op.node, why)


def _not_real(op: _Op, why: str) -> _Outside:
    return _Outside("domain", op.node, why)


def _run(program: Program, inputs: Sequence[tuple[int, int]], b: Balls, ops: list[int]) -> Any:
    """The ball (or ``_Undecided``) of every operation in ``ops``, by index."""
    done: dict[int, Any] = {}
    for k in ops:
        op = program.ops[k]
        args = [done[a] for a in op.args]
        for a in args:
            if type(a) is _Undecided:
                done[k] = a  # undecided operands make an undecided result
                break
        else:
            done[k] = _apply(op, args, b, inputs)
    return done


def _apply(op: _Op, args: list[Any], b: Balls, inputs: Sequence[tuple[int, int]]) -> Any:
    code = op.code
    if code == "var":
        return b.rational(*inputs[op.value])
    if code == "num":
        return b.rational(*op.value)
    if code in ("pi", "e"):
        return b.pi() if code == "pi" else b.e()
    if code in ("add", "mul", "min", "max"):
        fold: Callable[[Any, Any], Any] = {
            "add": b.add,
            "mul": b.mul,
            "min": lambda x, y: b.extreme("min", x, y),
            "max": lambda x, y: b.extreme("max", x, y),
        }[code]
        total = args[0]
        for a in args[1:]:
            total = fold(total, a)
        return total
    handler = _HANDLERS.get(code)
    if handler is not None:
        return handler(op, args, b)
    return b.call(code, args[0])  # exp, sin, cos, atan, sinh, cosh, tanh, asinh, abs: total


def _undecided(op: _Op, what: str, ball: Any, b: Balls) -> _Undecided:
    return _Undecided(
        f"the sign of {what} in {_short(op.node)} is not decided ({b.describe(ball)})"
    )


def _ipow(op: _Op, args: list[Any], b: Balls) -> Any:
    x, n = args[0], op.value
    if n < 0:
        s = b.sign(x)
        if s == 0:
            raise _pole(op, "division by zero")
        if s is None:
            return _undecided(op, "a divisor", x, b)
    return b.ipow(x, n)


def _rpow(op: _Op, args: list[Any], b: Balls) -> Any:
    x, (p, q) = args[0], op.value
    s = b.sign(x)
    if s == 1:
        return b.ipow(b.root(x, q), p)
    if s == 0:
        if p < 0:
            raise _pole(op, "a negative power of zero")
        return b.rational(0, 1)
    if s == -1:
        raise _not_real(op, f"a power 1/{q} of a negative number")
    return _undecided(op, "the base", x, b)


def _pow(op: _Op, args: list[Any], b: Balls) -> Any:
    x, y = args
    s = b.sign(x)
    if s == 1:
        return b.pow(x, y)
    if s == 0:
        t = b.sign(y)
        if t == -1:
            raise _pole(op, "a negative power of zero")
        if t is None:
            return _undecided(op, "the exponent", y, b)
        return b.rational(1 - t, 1)  # 0**0 = 1, 0**y = 0 for y > 0
    if s == -1:
        n = b.integer(y)
        if n is not None:
            return b.ipow(x, n)
        if not b.has_integer(y):
            raise _not_real(op, "a non-integer power of a negative number")
        return _Undecided(f"whether the exponent in {_short(op.node)} is an integer is not decided")
    return _undecided(op, "the base", x, b)


def _log(op: _Op, args: list[Any], b: Balls) -> Any:
    s = b.sign(args[0])
    if s == 1:
        return b.call("log", args[0])
    if s == 0:
        raise _pole(op, "log(0)")
    if s == -1:
        raise _not_real(op, "the logarithm of a negative number")
    return _undecided(op, "the argument", args[0], b)


def _periodic_pole(through: str) -> Callable[[_Op, list[Any], Balls], Any]:
    """tan and sec (poles where cos = 0), csc and cot (where sin = 0)."""

    def handler(op: _Op, args: list[Any], b: Balls) -> Any:
        s = b.sign(b.call(through, args[0]))
        if s == 0:
            raise _pole(op, f"{through} of the argument is 0")
        if s is None:
            return _undecided(op, f"{through} of the argument", b.call(through, args[0]), b)
        return b.call(op.code, args[0])

    return handler


def _interval(low: int | None, high: int | None, closed: bool) -> Callable[..., Any]:
    """asin and acos on [-1, 1], atanh on (-1, 1) (poles at ±1), acosh on [1, ∞)."""

    def handler(op: _Op, args: list[Any], b: Balls) -> Any:
        x = args[0]
        sides = []
        if low is not None:
            sides.append(b.add(x, b.rational(-low, 1)))  # x - low >= 0
        if high is not None:
            sides.append(b.add(b.rational(high, 1), b.mul(x, b.rational(-1, 1))))  # high - x >= 0
        signs = [b.sign(d) for d in sides]
        if -1 in signs:
            raise _not_real(op, "an argument outside the real domain")
        if 0 in signs and not closed:
            raise _pole(op, "an argument at the end of the domain")
        if None in signs:
            return _undecided(op, "the distance to the end of the domain", sides[0], b)
        return b.call(op.code, x)

    return handler


def _atan2(op: _Op, args: list[Any], b: Balls) -> Any:
    y, x = args
    sy, sx = b.sign(y), b.sign(x)
    if sy == 0 and sx == 0:
        raise _not_real(op, "atan2(0, 0) is undefined")
    if (sy is None and sx != 1) or (sx is None and sy == 0):
        return _Undecided(f"{_short(op.node)} is at its branch cut or origin within the balls")
    return b.atan2(y, x)


def _step(op: _Op, args: list[Any], b: Balls) -> Any:
    """sign and Heaviside: exact once the sign of the argument is decided."""
    s = b.sign(args[0])
    if s is None:
        return _undecided(op, "the argument", args[0], b)
    if op.code == "sign":
        return b.rational(s, 1)
    return b.rational(*op.value) if s == 0 else b.rational(int(s > 0), 1)


def _special(op: _Op, args: list[Any], b: Balls) -> Any:
    """erf and erfc: entire functions."""
    return b.special(op.code, args)


def _nonpositive_integer(x: Any, b: Balls) -> bool | None:
    """Whether x is 0 or a negative integer (a pole of Γ); None when the ball cannot tell."""
    if b.sign(x) == 1:
        return False
    n = b.integer(x)
    if n is not None:
        return n <= 0
    return None if b.has_integer(x) else False


def _gamma_poles(op: _Op, args: list[Any], b: Balls) -> Any:
    """gamma(x), polygamma(k, x) and beta(a, b): poles where an argument is 0, -1, -2, ...

    (beta is Γ(a)Γ(b)/Γ(a+b); 1/Γ(a+b) is entire, so only a and b can be poles.)
    """
    for x in args if op.code == "beta" else args[-1:]:
        pole = _nonpositive_integer(x, b)
        if pole:
            raise _pole(op, "an argument is 0 or a negative integer")
        if pole is None:
            return _undecided(op, "the distance to 0, -1, -2, ...", x, b)
    return b.special(op.code, args)


def _loggamma(op: _Op, args: list[Any], b: Balls) -> Any:
    """loggamma: real for x > 0 (SymPy's is complex for x < 0), a pole at 0, -1, -2, ..."""
    x = args[0]
    s = b.sign(x)
    if s == 1:
        return b.special("loggamma", args)
    if s is None:
        return _undecided(op, "the argument", x, b)
    if s == 0 or b.integer(x) is not None:
        raise _pole(op, "an argument is 0 or a negative integer")
    if not b.has_integer(x):
        raise _not_real(op, "loggamma of a negative number is not real")
    return _undecided(op, "whether the argument is a negative integer", x, b)


def _bessel(op: _Op, args: list[Any], b: Balls) -> Any:
    """besselj(nu, x): real for every x when nu is an integer, else for x >= 0 (0 at x = 0 when
    nu > 0, a pole when nu < 0); bessely(nu, x): real for x > 0, a pole at 0."""
    nu, x = args
    _check_order(nu, b)
    integer_order = op.code == "besselj" and b.integer(nu) is not None
    s = b.sign(x)
    if s == 1 or integer_order:
        return b.special(op.code, args)
    if s is None:
        return _undecided(op, "the argument", x, b)
    if s == -1:
        if op.code == "besselj" and b.has_integer(nu):
            return _Undecided(
                f"whether the order in {_short(op.node)} is an integer is not decided"
            )
        raise _not_real(op, "a Bessel function of a negative argument is not real")
    order = b.sign(nu) if op.code == "besselj" else -1
    if order == 1:
        return b.rational(0, 1)  # J_nu(0) = 0 for nu > 0
    if order is None:
        return _undecided(op, "the order", nu, b)
    raise _pole(op, "the argument is 0")


def _check_order(nu: Any, b: Balls) -> None:
    """Refuse a Bessel order beyond ``MAX_BESSEL_ORDER`` in size (a variable's value)."""
    big = b.rational(MAX_BESSEL_ORDER, 1)
    if b.sign(b.add(b.call("abs", nu), b.mul(big, b.rational(-1, 1)))) == 1:
        msg = f"unreliable: Bessel orders above {MAX_BESSEL_ORDER} in size are not certified"
        raise LimitExceeded(msg, limit="unreliable", value=0, allowed=MAX_WORK_DPS)


_HANDLERS: dict[str, Callable[[_Op, list[Any], Balls], Any]] = {
    "erf": _special,
    "erfc": _special,
    "gamma": _gamma_poles,
    "polygamma": _gamma_poles,
    "beta": _gamma_poles,
    "loggamma": _loggamma,
    "besselj": _bessel,
    "bessely": _bessel,
    "ipow": _ipow,
    "rpow": _rpow,
    "pow": _pow,
    "log": _log,
    "tan": _periodic_pole("cos"),
    "sec": _periodic_pole("cos"),
    "csc": _periodic_pole("sin"),
    "cot": _periodic_pole("sin"),
    "asin": _interval(-1, 1, closed=True),
    "acos": _interval(-1, 1, closed=True),
    "acosh": _interval(1, None, closed=True),
    "atanh": _interval(-1, 1, closed=False),
    "atan2": _atan2,
    "sign": _step,
    "heaviside": _step,
}


# -- the symbolic fallback for true zeros ------------------------------------------------------


def exact_at(expr: Any, point: Mapping[Any, Any]) -> Any:
    """``expr`` at the rational ``point`` by SymPy's exact arithmetic.

    The tree is rebuilt bottom-up with the coordinates in place of the variables, so that SymPy's
    automatic evaluation sees numbers (``sin(pi*1)`` becomes 0).  A power whose exact rational
    would exceed ``_SYMBOLIC_BITS`` bits, and ``exp`` of a logarithm (which SymPy turns into a
    power), are not built: they become an unknown finite number, so that the result is exact
    only where it does not depend on them (``0 * sqrt(huge)`` is still 0).
    """

    def build(node: Any, args: list[Any]) -> Any:
        if node.is_Atom:
            return point.get(node, node)
        value = node.func(*args) if _affordable(node, args) else None
        if value is None or (value.is_Rational and _bits(value) > _SYMBOLIC_BITS):
            value = sympy.Dummy(finite=True)  # a finite number too costly to know exactly
        return value

    done: dict[Any, Any] = {}
    bottom_up(expr, done, build)
    return done[expr]


def _bits(q: Any) -> int:
    return int(q.p).bit_length() + int(q.q).bit_length()


def _affordable(node: Any, args: list[Any]) -> bool:
    if node.func in _GAMMA_FAMILY:  # SymPy evaluates Γ(n) as (n - 1)!, polygamma(0, n) by sums
        return all(not (a.is_Rational and abs(a) > _GAMMA_ARGUMENT) for a in args)
    if node.func in (sympy.besselj, sympy.bessely):  # see MAX_BESSEL_ORDER
        return not (args[0].is_Rational and abs(args[0]) > MAX_BESSEL_ORDER)
    if node.func is sympy.exp:
        return not (args[0].is_number and args[0].has(sympy.log))
    if not node.is_Pow:
        return True
    base, exp = args
    if not (base.is_number and exp.is_number):
        return True
    if not exp.is_Rational:
        return not exp.has(sympy.log)
    coeff = sympy.Rational(base.as_coeff_Mul()[0] if not base.is_Rational else base)
    if not exp.is_Integer and _bits(coeff) > _ROOT_BITS:  # SymPy factors a root's radicand
        return False
    return _bits(coeff) * abs(int(exp.p)) <= _SYMBOLIC_BITS


# -- the driver ---------------------------------------------------------------------------------


def _engine(engine: str) -> Any:
    if engine not in ENGINES:
        msg = f"engine must be one of {ENGINES} (got {engine!r})"
        raise UnsupportedError(msg)
    if engine == "arb" and not arb_available():
        msg = "engine='arb' needs python-flint: pip install 'symgrad[fast]'"
        raise MissingExtra(msg)
    return ArbBalls if engine == "arb" or (engine == "auto" and arb_available()) else IntervalBalls


def as_rational(value: Any) -> tuple[int, int]:
    """An exact coordinate (SymPy Rational, int, Fraction or finite float) as ``(p, q)``."""
    if isinstance(value, float):
        if not math.isfinite(value):
            msg = f"a coordinate is {value}; exact values need finite numbers"
            raise InputError(msg)
        return value.as_integer_ratio()
    q = sympy.Rational(value)
    return int(q.p), int(q.q)


@dataclass
class _Status:
    """One component's progress: its value once settled, else why not yet."""

    value: Any = None
    settled: bool = False
    reason: str = ""
    zeroish: int = 0  # consecutive evaluations that contained 0 or were undecided
    tried_symbolic: bool = False


def certified_values(
    program: Program, values: Sequence[Any], dps: int, engine: str = "auto"
) -> list[Any]:
    """The components at the exact ``values``, each correct to ``dps`` significant digits.

    Returns numbers of this thread's ``dps``-digit mpmath context (an exact 0 for a component
    that is exactly zero).  Raises `UnsupportedError` when a component is provably infinite
    (the message says "pole") or not real, and `LimitExceeded` with ``limit="unreliable"`` when
    ``dps`` digits cannot be proven within ``MAX_WORK_DPS`` working digits.
    """
    balls = _engine(engine)
    _need_arb(program, balls)
    inputs = [as_rational(v) for v in values]
    target = math.ceil((dps + 1) * _LOG2_10) + 1
    status = [_Status() for _ in program.outputs]
    digits = dps + GUARD_DPS
    while True:
        pending = tuple(i for i, s in enumerate(status) if not s.settled)
        if not pending:
            return [s.value for s in status]
        with balls.session(math.ceil(digits * _LOG2_10) + 8) as b:
            try:
                found = _run(program, inputs, b, program.cone(pending))
            except _Outside as exc:
                raise _outside_error(exc, program, inputs) from None
            for i in pending:
                _judge(status[i], found[program.outputs[i]], b, target, dps)
        for i in pending:
            if status[i].zeroish >= _ZEROISH and not status[i].tried_symbolic:
                _symbolic(status[i], program, i, inputs, dps)
        if digits >= MAX_WORK_DPS and not all(s.settled for s in status):
            raise _unreliable(status, program, inputs, dps, digits)
        digits = min(2 * digits, MAX_WORK_DPS)


def _need_arb(program: Program, balls: Any) -> None:
    """Refuse as unreliable, before any work, a value that only arb can enclose."""
    if balls is ArbBalls:
        return
    names = sorted({op.code for op in program.ops} & _ARB_ONLY)
    if names:
        msg = (
            f"unreliable: certified values of {', '.join(names)} need python-flint's arb "
            "(mpmath has no interval version of them): pip install 'symgrad[fast]'"
        )
        raise LimitExceeded(msg, limit="unreliable", value=0, allowed=MAX_WORK_DPS)


def _judge(s: _Status, ball: Any, b: Balls, target: int, dps: int) -> None:
    """Settle ``s`` when ``ball`` proves ``target`` bits (or is exactly 0), else say why not."""
    if isinstance(ball, _Undecided):
        s.reason, s.zeroish = ball.reason, s.zeroish + 1
        return
    accuracy = b.accuracy(ball)
    if accuracy >= target:
        ctx = thread_context(dps)
        raw = lib.mpf_pos(b.midpoint(ball), ctx.prec, lib.round_nearest)
        s.value, s.settled = ctx.make_mpf(raw), True
        return
    if b.sign(ball) is None:
        s.reason = f"the value is {b.describe(ball)}, which contains 0 (it may cancel completely)"
        s.zeroish += 1
        return
    digits = max(0, int(accuracy / _LOG2_10))
    s.reason = f"only {digits} digits are certain ({b.describe(ball)})"
    s.zeroish = 0


def _symbolic(
    s: _Status, program: Program, i: int, inputs: list[tuple[int, int]], dps: int
) -> None:
    """Settle a component that keeps containing 0 by SymPy's exact value, when it has one."""
    s.tried_symbolic = True
    point = {v: sympy.Rational(*pq) for v, pq in zip(program.variables, inputs, strict=True)}
    try:
        value = exact_at(_as_expr(program.exprs[i]), point)
    except (ArithmeticError, ValueError, TypeError, RecursionError):  # SymPy gave up
        return
    if value.is_Rational:
        ctx = thread_context(dps)
        s.value, s.settled = ctx.mpf(int(value.p)) / int(value.q), True
    elif value in (sympy.zoo, sympy.oo, -sympy.oo):
        node = program.exprs[i]
        raise _outside_error(_Outside("pole", node, "it is infinite there"), program, inputs)
    elif value is sympy.nan:
        # SymPy's is_extended_real is not asked of other values: it evaluates numerically with
        # no bound on the precision (exp(exp(2.5e29)/4) runs for hours); they stay unsettled
        node = program.exprs[i]
        raise _outside_error(_Outside("domain", node, "it is undefined there"), program, inputs)


def _where(program: Program, inputs: list[tuple[int, int]]) -> str:
    parts = []
    for v, (p, q) in zip(program.variables, inputs, strict=True):
        text = str(sympy.Rational(p, q))
        parts.append(f"{v}={text if len(text) <= 24 else format(p / q, '.17g')}")
    return ", ".join(parts) or "the point"


def _outside_error(exc: _Outside, program: Program, inputs: list[tuple[int, int]]) -> Exception:
    where = _where(program, inputs)
    what = "has a pole" if exc.kind == "pole" else "is not real"
    msg = f"{_short(exc.node)} {what} at {where}: {exc.why}"
    return UnsupportedError(msg)


def _unreliable(
    status: list[_Status], program: Program, inputs: list[tuple[int, int]], dps: int, work: int
) -> LimitExceeded:
    i = next(i for i, s in enumerate(status) if not s.settled)
    msg = (
        f"unreliable: {dps} digits of {_short(program.exprs[i])} at {_where(program, inputs)} "
        f"cannot be certified within {work} working digits: {status[i].reason}"
    )
    return LimitExceeded(msg, limit="unreliable", value=work, allowed=MAX_WORK_DPS)


def _short(node: Any) -> str:
    return short(str(node), 60)
