"""Where agreement on a sample is evidence: the pieces of a difference and points in each.

An answer that agrees with the derivative at hashed sample points is strong evidence only for a
difference that is analytic: a nonzero analytic function vanishes at isolated points, so a point
drawn from a hash of the question lands on one with probability zero.  A difference built from
pieces (``abs``, ``sign``, ``Heaviside``, ``max``, ``min``, ``atan2``, ``DiracDelta``) is
analytic only between the points where an atom switches: it can vanish on a whole interval and
be nonzero on another that the sample never meets (``max(x**9 - 10**60, 0)`` is 0 up to
x = 4.6e6).  So a sampled ``pass`` needs every switching point *located exactly*, and a sample
point inside every piece between them, unbounded ones included.

A switching point is a real root of an atom's argument (of a - b for a pair of ``max``/``min``
arguments).  It is located when the argument depends on one variable and is a polynomial with
rational coefficients of degree at most ``MAX_DEGREE`` (coefficients of at most ``MAX_BITS``
bits), or becomes one by inverting strictly monotone outer functions, even powers and abs
(``log(u) = c`` is ``u = exp(c)``, ``sqrt(u) = c`` is ``u = c**2``, ``u**2 = c`` is
``u = ±sqrt(c)``), or is linear with real constant coefficients (``x - exp(14)``).  An
argument holding atoms itself (``max(0, min(x - a, b - x))``) switches only where one of the
forms it takes on its pieces is 0 (:func:`analytic_forms`).  Where the
difference depends on a variable only through sin, cos, tan, sec, csc and cot of arguments
a*x + b with rational a, it is periodic (:func:`period_of`) and the switching points of one
period, solved exactly (``cos(x) = 0`` at pi/2 and 3*pi/2), locate them all.  Roots are isolated exactly (SymPy's real-root isolation on the irreducible
factors over the rationals: disjoint intervals with rational ends, irrational roots included),
so every piece is an open interval between two isolating intervals, and points of it are exact
rationals.  Each root is also kept as an exact number (a rational, a radical, a ``CRootOf``) so
that the value *at* the breakpoint can be decided exactly: an answer wrong only at ±sqrt(2)
differs there and nowhere else (:func:`at_breakpoint`).  On a kink of the function itself the
derivative exists only where the one-sided limits of f′ agree; :func:`at_breakpoint` with a
point beside the breakpoint gives those limits exactly.

An analytic difference can fall into pieces too.  Built from rational operations, integer
powers and single-valued functions (exp, sin, tan, gamma, ...: analytic on the complex plane
but for isolated points), it is one analytic function on a connected set, and vanishing on one
component of its real domain it vanishes on all: its poles split nothing.  A many-valued atom
(log, a fractional or variable power, the inverse trigonometric and hyperbolic functions,
loggamma, bessely) takes its real branch separately on each side of the points where its
argument reaches a branch value or a pole (:func:`branch_arguments`): ``atan(tan(x))`` jumps by
pi at every pole of tan.  Those points are required like switching points, and where they
cannot all be located (infinitely many, not a polynomial's roots) the pieces are unlocated.
Zeros of denominators, of logarithms' arguments and of bases of fractional powers of the
function are added as piece boundaries where they can be located, not required: points beside
them reach the parts of the domain the generic sample misses.

Where an argument depends on two variables together, the pieces are not boxes: the plane is
cut by lines v = c across the curves (:func:`plane_lines`, the first step of a cylindrical
algebraic decomposition), and each line is a problem in one variable fewer.

Every size is priced before the work: atoms (``MAX_ATOMS``), a degree bound read from the tree
before any polynomial is built (``MAX_DEGREE``), coefficient bits before roots are isolated
(``MAX_BITS``), roots per variable (``MAX_ROOTS``) and points (``MAX_POINTS``); anything over a
cap leaves the pieces unlocated, and the caller's verdict says which atom and why.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sympy

_Expr = Any  # SymPy is untyped

MAX_ATOMS = 64  # non-analytic atoms of a difference whose switching points are located
MAX_DEGREE = 24  # degree of a switching argument (a polynomial) whose roots are isolated
MAX_BITS = 2_000  # bits of the largest coefficient of such a polynomial
MAX_ROOTS = 48  # located switching points per variable
MAX_ARGUMENTS = 256  # switching arguments (a max of 16 arguments has 120 pairs)
MAX_TOTAL_DEGREE = 96  # summed degrees of the distinct factors whose roots are isolated
MAX_POINTS = 120  # sample points proposed inside the pieces
MAX_FORMS = 16  # analytic forms of a switching argument that holds non-analytic atoms
MAX_CURVES = 6  # irreducible curves in two variables whose crossings and turns are projected
MAX_PLANE_DEGREE = 8  # degree in each variable of a switching argument in two variables
MAX_LINES = 25  # lines v = c sampled across the curves (2 per critical value of v, plus 1)
_EPS = sympy.Rational(1, 10**15)  # width of an isolating interval (times 1 + |c| for a constant c)
_NONSMOOTH = (
    sympy.Abs,
    sympy.sign,
    sympy.Heaviside,
    sympy.DiracDelta,
    sympy.Min,
    sympy.Max,
    sympy.atan2,
    sympy.Piecewise,
)
_UNARY = (sympy.Abs, sympy.sign, sympy.Heaviside, sympy.DiracDelta)  # one argument, value at 0


@dataclass(frozen=True)
class Root:
    """One located switching point: ``variable`` = ``value`` (exact), inside ``[lo, hi]``.

    ``factor`` is its irreducible polynomial over the rationals (None for a root of a linear
    argument with irrational coefficients, such as exp(14))."""

    variable: _Expr
    value: _Expr
    lo: _Expr
    hi: _Expr
    factor: Any = None


@dataclass(frozen=True)
class Pieces:
    """The located switching points of a difference, or why they cannot all be located.

    Attributes
    ----------
    roots : tuple of Root
        Sorted per variable, with disjoint isolating intervals.
    unlocated : str or None
        One clause naming the first atom whose switching points cannot be located, and why.
    periods : tuple of (variable, period)
        Variables whose roots were located on one period only (see :func:`period_of`).
    required : bool
        Whether the pieces are those of non-analytic atoms (every piece must be sampled), or
        only of poles and domain ends of an analytic difference (sampled where they help).
    """

    roots: tuple[Root, ...]
    unlocated: str | None = None
    periods: tuple[tuple[_Expr, _Expr], ...] = ()
    required: bool = True  # False: only poles and domain ends, sampled where they help

    def period(self, variable: _Expr) -> _Expr | None:
        """The period of the difference in ``variable`` when its roots were located on one
        period [0, T) only (every occurrence inside sin/cos/tan of a linear argument)."""
        return dict(self.periods).get(variable)

    def variables(self) -> list[_Expr]:
        """The variables with at least one switching point, in a fixed order."""
        return sorted({r.variable for r in self.roots}, key=str)

    def of(self, variable: _Expr) -> list[Root]:
        return [r for r in self.roots if r.variable == variable]

    def cells(self) -> int:
        """How many boxes the switching points cut the space into (a piece per variable)."""
        count = 1
        for v in self.variables():
            count *= len(self.of(v)) + (self.period(v) is None)
        return count


class _Unlocated(Exception):
    """A switching argument whose roots cannot be located; the message says why."""


# ------------------------------------------------------------------------ the atoms
def nonsmooth_atoms(expr: _Expr) -> list[_Expr]:
    """The distinct non-analytic atoms of ``expr``, in tree order."""
    seen: dict[_Expr, None] = {}
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, _NONSMOOTH):
            seen.setdefault(node)
    return list(seen)


def switching_arguments(node: _Expr) -> list[_Expr]:
    """The expressions whose sign decides which piece of ``node`` applies: every pair of a
    ``max``/``min`` (not only the first few), both arguments of ``atan2`` (its cut is
    y = 0 for x < 0, its singular point x = y = 0)."""
    if isinstance(node, sympy.Min | sympy.Max):
        return [a - b for a, b in itertools.combinations(node.args, 2)]
    if isinstance(node, sympy.atan2):
        return list(node.args)
    if isinstance(node, sympy.Piecewise):
        conditions = (c for _, c in node.args if isinstance(c, sympy.Basic))
        relations = {r for c in conditions for r in c.atoms(sympy.core.relational.Relational)}
        return [r.lhs - r.rhs for r in sorted(relations, key=sympy.default_sort_key)]
    return [node.args[0]]


def singular_arguments(expr: _Expr) -> list[_Expr]:
    """Denominators, logarithms' arguments and bases of fractional powers: where the domain
    of an analytic expression may end or a pole may split it."""
    found: dict[_Expr, None] = {}
    for node in sympy.preorder_traversal(expr):
        if node.is_Pow and node.exp.is_number and not (node.exp.is_Integer and node.exp > 0):
            found.setdefault(node.base)
        elif isinstance(node, sympy.log):
            found.setdefault(node.args[0])
    return [a for a in found if a.free_symbols]


# Functions single-valued and analytic on the complex plane but for isolated points (entire or
# meromorphic): a combination of them is one analytic function across its real poles.
_SINGLE_VALUED = (
    sympy.exp,
    sympy.sin,
    sympy.cos,
    sympy.tan,
    sympy.sec,
    sympy.csc,
    sympy.cot,
    sympy.sinh,
    sympy.cosh,
    sympy.tanh,
    sympy.coth,
    sympy.sech,
    sympy.csch,
    sympy.erf,
    sympy.erfc,
    sympy.gamma,
    sympy.beta,
)
_INTEGER_ORDER = (sympy.polygamma, sympy.besselj)  # single-valued for a constant integer order
# Many-valued functions: the real values of the argument where the real branch ends or jumps.
_BRANCH_VALUES: dict[Any, tuple[int, ...]] = {
    sympy.log: (0,),
    sympy.loggamma: (0,),
    sympy.asin: (-1, 1),
    sympy.acos: (-1, 1),
    sympy.atanh: (-1, 1),
    sympy.acoth: (-1, 1),
    sympy.acosh: (1,),
    sympy.acot: (0,),
    sympy.atan: (),
    sympy.asinh: (),
    sympy.besselj: (0,),  # of an order that is not an integer: x**nu near 0
    sympy.bessely: (0,),
}
_POLE_OF: dict[Any, Any] = {
    # where a single-valued function has its real poles: the zeros of this of its argument
    sympy.tan: sympy.cos,
    sympy.sec: sympy.cos,
    sympy.cot: sympy.sin,
    sympy.csc: sympy.sin,
    sympy.coth: sympy.sinh,
    sympy.csch: sympy.sinh,
}
_EVERY_INTEGER = (sympy.gamma, sympy.polygamma, sympy.beta)  # poles at every integer <= 0


def branch_arguments(expr: _Expr) -> list[tuple[_Expr, _Expr]]:
    """(atom, argument) pairs: ``expr`` is one analytic function of its variables between the
    real zeros of these arguments, besides the switching points of its non-analytic atoms.

    A function built from rational operations, integer powers and the single-valued functions
    (exp, sin, ..., tan, gamma: analytic on the complex plane but for isolated points) is one
    analytic function on the complex plane minus a countable closed set, which is connected:
    if it vanishes on an interval it vanishes everywhere, across its poles too, so a sample in
    one component of its real domain is evidence for all of them, and no pair is returned.  A
    many-valued atom (log, a fractional or variable power, the inverse trigonometric and
    hyperbolic functions, loggamma, bessely) takes its real branch separately on each side of
    the points where its argument reaches a branch value (log(u) at u = 0, asin(u) at ±1) or a
    pole (atan(tan(x)) jumps by pi at each pole of tan(x)): the difference may vanish on one
    side and not on the other, so those arguments are returned; the poles of the argument are
    the zeros of denominators, cos(v) for tan(v) and sec(v), sin(v) for cot(v) and csc(v).
    Where they cannot be listed (the poles of gamma are infinitely many; a function not known
    here) the pieces are unlocated."""
    found: dict[_Expr, _Expr] = {}  # argument -> the first atom that needs it
    for node in sympy.preorder_traversal(expr):
        for argument in _branch_points(node):
            if argument.free_symbols:
                found.setdefault(argument, node)
    return [(node, argument) for argument, node in found.items()]


def _branch_points(node: _Expr) -> list[_Expr]:
    """The arguments whose zeros end ``node``'s real branch (none for a single-valued node)."""
    if isinstance(node, _NONSMOOTH) or not (node.is_Pow or isinstance(node, _CALLS)):
        return []  # atoms are located by their switching points; sums and products split nothing
    if node.is_Pow:
        if node.exp.is_Integer or not node.base.free_symbols:  # b**x is exp(x*log(b))
            return []
        return [node.base, *_pole_arguments(node, node.base)]
    if isinstance(node, _SINGLE_VALUED) or _integer_order(node):
        return []
    if node.func not in _BRANCH_VALUES or any(a.free_symbols for a in node.args[:-1]):
        msg = f"{node} is not known to be one analytic function between located points"
        raise _Unlocated(msg)
    argument = node.args[-1]
    ends = [argument - value for value in _BRANCH_VALUES[node.func]]
    return [*ends, *_pole_arguments(node, argument)]


_CALLS = (sympy.Function, sympy.Derivative, sympy.Subs, sympy.Integral)


def _integer_order(node: _Expr) -> bool:
    """polygamma(n, u) or besselj(n, u) with a constant integer order n (single-valued)."""
    return isinstance(node, _INTEGER_ORDER) and bool(node.args[0].is_Integer)


def _pole_arguments(atom: _Expr, argument: _Expr) -> list[_Expr]:
    """Arguments whose zeros are the real poles of ``argument`` (inside ``atom``)."""
    poles: list[_Expr] = []
    for node in sympy.preorder_traversal(argument):
        if node.is_Pow and node.exp.is_number and node.exp.is_negative:
            poles.append(node.base)
        elif node.func in _POLE_OF:
            poles.append(_POLE_OF[node.func](node.args[0]))
        elif isinstance(node, _EVERY_INTEGER) and node.free_symbols:
            msg = (
                f"{atom} is one analytic function only between the poles of {node}, "
                "which are infinitely many"
            )
            raise _Unlocated(msg)
    return poles


def _ends_where(node: _Expr, argument: _Expr) -> str:
    """The clause naming a required argument: an atom's switch or a branch's end."""
    if isinstance(node, _NONSMOOTH):
        return f"{node} switches where {argument} = 0"
    return f"{node} is one analytic function only between the points where {argument} = 0"


def locate(difference: _Expr, extra: list[_Expr]) -> Pieces:
    """The switching points of every non-analytic atom of ``difference`` and the points where
    one of its many-valued atoms may change branch (:func:`branch_arguments`), all required,
    and the zeros of the arguments in ``extra`` (added where they can be located)."""
    atoms = nonsmooth_atoms(difference)
    try:
        branches = branch_arguments(difference)
    except _Unlocated as why:
        return Pieces((), str(why))
    if not atoms and not branches:  # one analytic function: sample beside poles where it helps
        beside = _locate_arguments([], extra, {})
        return Pieces(beside.roots if beside.unlocated is None else (), required=False)
    if len(atoms) > MAX_ATOMS:
        return Pieces(
            (),
            f"the difference has {len(atoms)} atoms abs/sign/max/min/Heaviside "
            f"(at most {MAX_ATOMS} are located)",
        )
    periods = {v: t for v in difference.free_symbols if (t := period_of(difference, v))}
    switching = [(node, a) for node in atoms for a in switching_arguments(node)]
    return _locate_arguments(switching + branches, extra, periods)


def _locate_arguments(
    required: list[tuple[_Expr, _Expr]], extra: list[_Expr], periods: dict[_Expr, _Expr]
) -> Pieces:
    """The zeros of the ``required`` (atom, argument) pairs (every one located, or the pieces
    are unlocated) and the zeros of ``extra`` (where they can be located)."""
    if len(required) > MAX_ARGUMENTS:
        msg = f"the atoms switch on {len(required)} arguments (at most {MAX_ARGUMENTS})"
        return Pieces((), msg)
    factors: dict[_Expr, dict[Any, _Expr]] = {}  # variable -> factor -> None / exact root
    for node, argument in required:
        try:
            _add_factors(argument, factors, periods)
        except _Unlocated as why:
            return Pieces((), f"{_ends_where(node, argument)}, {why}")
    for argument in extra:
        if argument.free_symbols & periods.keys():
            continue  # on one period only the atoms' switching points are kept
        try:
            _add_factors(argument, factors, periods)
        except _Unlocated:
            continue  # a boundary that cannot be located is not required
    try:
        roots = tuple(r for v in sorted(factors, key=str) for r in _isolate(v, factors[v]))
    except _Unlocated as why:
        return Pieces((), str(why))
    kept = tuple((v, t) for v, t in periods.items() if v in factors)
    return Pieces(roots, None, kept)


# ------------------------------------------------------------ two variables together
@dataclass(frozen=True)
class Plane:
    """Lines ``variable`` = value that cross every cell of the curves where two variables
    switch together (see :func:`plane_lines`), or why they cannot be found."""

    variable: _Expr = None
    lines: tuple[_Expr, ...] = ()
    unlocated: str | None = None


def plane_lines(difference: _Expr, keep: _Expr, salt: str) -> Plane | None:
    """Lines v = c crossing every cell of the switching curves of ``difference`` in two
    variables u and v (u is ``keep`` where it is one of them); None where no argument depends
    on two variables, or on more than two together.

    This is the first step of a cylindrical algebraic decomposition.  Every argument in u and
    v together must be a polynomial over the rationals (each factor a curve P(u, v) = 0); the
    arguments in u alone polynomials too, in v alone located as usual.  The critical values of
    v are the real roots of the leading coefficients and discriminants in u of the curves, of
    the resultants in u of every pair, and of the arguments in v alone.  Between two critical
    values the curves are delineable: above each open interval the roots in u of each curve
    are continuous, distinct and never cross, so one line v = c inside the interval meets every
    cell above it (each region between the curves in an interval, each arc of a curve), and
    the lines on the critical values themselves meet the rest (crossings, turning points).
    Each line is then a problem in one variable fewer, with its pieces located as usual."""
    atoms = nonsmooth_atoms(difference)
    try:
        switching = [(n, a) for n in atoms for a in switching_arguments(n)]
        required = switching + branch_arguments(difference)
    except _Unlocated:
        return None
    pair: set[_Expr] = set()
    for _, argument in required:
        if len(argument.free_symbols) > 1:
            pair |= argument.free_symbols
    if len(pair) != 2 or len(atoms) > MAX_ATOMS or len(required) > MAX_ARGUMENTS:
        return None
    orders = sorted(pair, key=lambda s: (s != keep, str(s)))
    # Lines along the variable differenced: on them f' is the derivative of f on the line, so
    # a kink's one-sided limits decide it; the other order only when it is not in the pair.
    kept = [orders] if keep in pair else [orders, orders[::-1]]
    tried = [_plane(required, u, v, salt) for u, v in kept]
    return next((p for p in tried if p.unlocated is None), tried[0])


def _plane(required: list[tuple[_Expr, _Expr]], u: _Expr, v: _Expr, salt: str) -> Plane:
    """The lines v = c of :func:`plane_lines`, for one order of the two variables."""
    found: dict[Any, _Expr] = {}  # the critical values' factors in v
    curves: dict[Any, None] = {}  # irreducible factors in u and v, and in u alone
    for node, argument in required:
        try:
            _add_curves(argument, u, v, found, curves)
        except _Unlocated as why:
            return Plane(unlocated=f"{_ends_where(node, argument)}, {why}")
    try:
        _project(list(curves), u, v, found)
        critical = _isolate(v, found)
    except _Unlocated as why:
        return Plane(unlocated=f"the curves in {u} and {v} cannot be projected: {why}")
    if 2 * len(critical) + 1 > MAX_LINES:
        most = (MAX_LINES - 1) // 2
        msg = f"the curves in {u} and {v} have {len(critical)} critical values of {v} (at most {most})"
        return Plane(unlocated=msg)
    if not critical:
        return Plane(v, (1 + fraction(salt, "line", v),))
    inside = piece_values(Pieces(tuple(critical)), v, f"{salt}|line")
    lines = [values[len(values) // 2] for values in inside]
    for k, root in enumerate(critical):
        lines.insert(2 * k + 1, root.value)
    return Plane(v, tuple(lines))


def _add_curves(
    argument: _Expr, u: _Expr, v: _Expr, found: dict[Any, _Expr], curves: dict[Any, None]
) -> None:
    """Record an argument's curves in u and v (and in u alone), or its roots in v alone."""
    symbols = argument.free_symbols & {u, v}
    if symbols == {v}:
        _add_factors(argument, {v: found}, {})
        return
    if symbols == {u} and argument.free_symbols == {u}:
        alone: dict[_Expr, dict[Any, _Expr]] = {}
        _add_factors(argument, alone, {})
        for key in alone.get(u, {}):
            if not isinstance(key, sympy.Poly):
                msg = f"whose root {key} is not a rational polynomial's (it cannot be crossed with curves)"
                raise _Unlocated(msg)
            curves.setdefault(sympy.Poly(key.as_expr(), u, v), None)
        return
    if not symbols:
        return
    forms = analytic_forms(argument)
    if forms != [argument]:
        for form in forms:
            _add_curves(form, u, v, found, curves)
        return
    for part in sympy.fraction(sympy.together(_exact(_peeled(argument)))):
        for factor in _plane_factors(part, u, v):
            if factor.degree(u) == 0:
                _add_polynomial(factor.as_expr(), v, found)
            else:
                curves.setdefault(factor, None)


def _peeled(argument: _Expr) -> _Expr:
    """The product of an argument's factors with abs and positive powers peeled off: its
    zeros, and its sign changes, are among the peeled product's (|p|**(1/2)*q becomes p*q)."""
    factors = []
    for factor in sympy.Mul.make_args(argument):
        inner = factor
        while isinstance(inner, sympy.Abs) or (
            inner.is_Pow and inner.exp.is_Rational and inner.exp > 0
        ):
            inner = inner.args[0]
        factors.append(inner)
    return sympy.Mul(*factors)


def _plane_factors(part: _Expr, u: _Expr, v: _Expr) -> list[Any]:
    """The irreducible factors over the rationals of a polynomial in u and v, within the caps
    (degrees read from the tree first)."""
    degrees = [_degree_bound(part, s) for s in (u, v)]
    if None in degrees:
        msg = f"which is not a polynomial in {u} and {v}"
        raise _Unlocated(msg)
    if max(d for d in degrees if d is not None) > MAX_PLANE_DEGREE:
        msg = f"a polynomial of degree over {MAX_PLANE_DEGREE} in {u} or {v}"
        raise _Unlocated(msg)
    if max((_bits(r) for r in part.atoms(sympy.Rational)), default=0) > MAX_BITS:
        msg = f"whose coefficients are too long (over {MAX_BITS} bits)"
        raise _Unlocated(msg)
    poly = sympy.Poly(part, u, v)
    if not all(c.is_Rational for c in poly.coeffs()):
        msg = f"a polynomial in {u} and {v} whose coefficients are not rational"
        raise _Unlocated(msg)
    return [_normal(f) for f, _ in poly.factor_list()[1] if f.total_degree() >= 1]


def _project(curves: list[Any], u: _Expr, v: _Expr, found: dict[Any, _Expr]) -> None:
    """Record the critical values' factors in v: leading coefficients and discriminants in u
    of the curves, resultants in u of every pair (degrees bounded before the work)."""
    if len(curves) > MAX_CURVES:
        msg = f"{len(curves)} curves (at most {MAX_CURVES})"
        raise _Unlocated(msg)
    for curve in curves:
        du, dv = curve.degree(u), curve.degree(v)
        lead = sympy.Poly(curve.as_expr(), u).LC()
        if du >= 1 and lead.has(v):
            _add_polynomial(lead, v, found)
        if du >= 2 and dv >= 1:
            _bounded((2 * du - 1) * dv)
            _add_polynomial(sympy.discriminant(curve.as_expr(), u), v, found)
    for p, q in itertools.combinations(curves, 2):
        if p.degree(v) + q.degree(v) == 0:
            continue  # two roots in u alone: vertical lines never cross
        _bounded(p.degree(u) * q.degree(v) + q.degree(u) * p.degree(v))
        _add_polynomial(sympy.resultant(p.as_expr(), q.as_expr(), u), v, found)


def _bounded(degree: int) -> None:
    """A projected polynomial's degree bound within ``MAX_DEGREE`` (checked before it is
    computed)."""
    if degree > MAX_DEGREE:
        msg = f"a projection of degree up to {degree} (at most {MAX_DEGREE})"
        raise _Unlocated(msg)


# ----------------------------------------------------------- locating one argument
def analytic_forms(argument: _Expr) -> list[_Expr]:
    """The analytic forms an argument holding non-analytic atoms takes on its pieces: each
    max/min one of its arguments, abs(a) either of ±a, sign and Heaviside each of their
    values, a Piecewise each of its expressions (outermost atom first).  Between the
    switching points of those atoms (located as atoms of their own) the argument is one of
    these forms, so its zeros are among theirs.  At most ``MAX_FORMS`` forms."""
    atoms = nonsmooth_atoms(argument)
    if not atoms:
        return [argument]
    node = atoms[0]
    if isinstance(node, sympy.Min | sympy.Max):
        choices = list(node.args)
    elif isinstance(node, sympy.Abs):
        choices = [node.args[0], -node.args[0]]
    elif isinstance(node, sympy.sign | sympy.Heaviside):
        choices = [sympy.S.Zero, sympy.S.One, -sympy.S.One, sympy.S.Half]
    elif isinstance(node, sympy.Piecewise):
        choices = [e for e, _ in node.args]
    else:
        msg = f"which holds {node} (its forms on the pieces are not listed)"
        raise _Unlocated(msg)
    forms: dict[_Expr, None] = {}
    for choice in choices:
        forms.update(dict.fromkeys(analytic_forms(argument.xreplace({node: choice}))))
        if len(forms) > MAX_FORMS:
            msg = f"which takes more than {MAX_FORMS} forms on its pieces"
            raise _Unlocated(msg)
    return list(forms)


def _add_factors(
    argument: _Expr, factors: dict[_Expr, dict[Any, _Expr]], periods: dict[_Expr, _Expr]
) -> None:
    """Record the irreducible factors (or the exact roots) whose roots are ``argument``'s
    (those of each of its forms where it holds non-analytic atoms); for a periodic variable,
    the exact roots on one period [0, T)."""
    forms = analytic_forms(argument)
    if forms != [argument]:
        for form in forms:
            _add_factors(form, factors, periods)
        return
    symbols = argument.free_symbols
    if not symbols:
        return  # a constant: one piece
    if len(symbols) > 1:
        names = " and ".join(sorted(map(str, symbols)))
        msg = f"which depends on {names} together (only one variable at a time is located)"
        raise _Unlocated(msg)
    (s,) = symbols
    found = factors.setdefault(s, {})
    for target in _targets(argument, s):
        if s in periods:
            found.update(dict.fromkeys(_periodic_roots(target, s, periods[s])))
            continue
        for part in _above_and_below(target, s):  # a rational function switches at its poles
            _add_polynomial(part, s, found)


def _above_and_below(target: _Expr, s: _Expr) -> list[_Expr]:
    """The numerator and denominator of a rational function of ``s`` (over one denominator),
    the target itself otherwise."""
    if target.is_polynomial(s) or not target.is_rational_function(s):
        return [target]
    above, below = sympy.fraction(sympy.together(target))
    return [above, below] if below.has(s) else [above]


def _add_polynomial(target: _Expr, s: _Expr, found: dict[Any, _Expr]) -> None:
    """Record the irreducible factors of a polynomial target, or its one linear root."""
    try:
        poly = _polynomial(target, s)
    except _Unlocated:
        if _repeats(target, s):
            msg = f"which is not a polynomial in {s} and holds at infinitely many points"
            raise _Unlocated(msg) from None
        raise
    if poly is None:
        found[_linear_root(target, s)] = None
        return
    for factor, _ in poly.factor_list()[1]:
        if factor.degree() >= 1:
            found.setdefault(_normal(factor), None)


_INVERSES: dict[Any, tuple[Any, Any]] = {
    # outer function: (inverse, the values it takes: a test on the constant, None for any)
    sympy.exp: (sympy.log, lambda v: v.is_positive),
    sympy.log: (sympy.exp, None),
    sympy.atan: (sympy.tan, lambda v: (abs(v) < sympy.pi / 2) == sympy.true),
    sympy.asinh: (sympy.sinh, None),
    sympy.sinh: (sympy.asinh, None),
    sympy.tanh: (sympy.atanh, lambda v: (abs(v) < 1) == sympy.true),
    sympy.asin: (sympy.sin, lambda v: (abs(v) <= sympy.pi / 2) == sympy.true),
    sympy.acos: (sympy.cos, lambda v: (v >= 0) == sympy.true and (v <= sympy.pi) == sympy.true),
}


def _targets(argument: _Expr, s: _Expr, depth: int = 0) -> list[_Expr]:
    """Arguments whose real zeros together are ``argument``'s, with strictly monotone outer
    functions and even powers peeled off (c + k*g(u) = 0 becomes u - g^-1(-c/k) = 0, and
    u**2 = v becomes u = ±sqrt(v)); an empty list where there is no zero."""
    if depth > 8 or argument.is_polynomial(s):
        return [argument]
    argument = _exact(argument)  # 14.5 is 29/2: exp(29/2) is exact, exp(14.5) 15 digits
    const, rest = argument.as_independent(s, as_Add=True)
    k, inner = rest.as_independent(s, as_Add=False)
    if k == 0 or not (const.is_number and k.is_number):
        return [argument]
    value = -const / k
    if inner.is_Pow and inner.exp.is_Rational and inner.exp > 0:
        return _power_targets(inner.base, inner.exp, value, s, depth)
    if inner.is_Pow and inner.exp.is_Rational and inner.exp < 0:  # u**-p = v: u**p = 1/v
        poles = _targets(inner.base, s, depth + 1)  # where it may change sign through infinity
        reached = (
            [] if value.is_zero else _power_targets(inner.base, -inner.exp, 1 / value, s, depth)
        )
        return reached + poles
    if isinstance(inner, sympy.Abs):  # |u| = v is u**2 = v**2 where v >= 0, never where v < 0
        if not _decided(value):
            return [argument]
        return [] if value.is_negative else _power_targets(inner.args[0], 2, value**2, s, depth)
    if isinstance(inner, sympy.sin | sympy.cos) and _decided(value) and abs(value) > 1:
        return []  # sin and cos never leave [-1, 1]
    if inner.func in _INVERSES and len(inner.args) == 1:
        inverse, reaches = _INVERSES[inner.func]
        if reaches is not None and not reaches(value):
            return [] if _decided(value) else [argument]
        return _targets(inner.args[0] - inverse(value), s, depth + 1)
    return [argument]


def _power_targets(base: _Expr, exp: Any, value: _Expr, s: _Expr, depth: int) -> list[_Expr]:
    """The zeros of base**exp - value (exp > 0): base = value**(1/exp), both signs for an
    even integer power, only base >= 0 for a fractional one (elsewhere it is not real)."""
    if value.is_zero:
        return _targets(base, s, depth + 1)
    if not _decided(value):
        return [base**exp - value]
    exp = sympy.Integer(exp) if isinstance(exp, int) else exp
    if exp.is_Integer and exp % 2 == 1:
        return _targets(base - sympy.real_root(value, exp), s, depth + 1)
    if not value.is_positive:
        return []  # an even or fractional power is never negative
    root = value ** (1 / exp)
    signs = (1, -1) if exp.is_Integer else (1,)
    return [t for sign in signs for t in _targets(base - sign * root, s, depth + 1)]


_TRIG = (sympy.sin, sympy.cos, sympy.tan, sympy.sec, sympy.csc, sympy.cot)


def period_of(expr: _Expr, s: _Expr) -> _Expr | None:
    """A period T of ``expr`` in ``s`` when ``s`` occurs only inside sin, cos, tan, sec, csc
    and cot of arguments a*s + b with rational a != 0 (T = 2*pi*lcm(q)/gcd(p) over a = p/q);
    None otherwise.  The switching points of such an expression repeat with period T, so
    those on [0, T) locate them all."""
    slopes: list[_Expr] = []
    stand_in = sympy.Dummy()
    swaps = {}
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, _TRIG) and node.args[0].has(s):
            slope = _slope(node.args[0], s)
            if slope is None:
                return None
            slopes.append(slope)
            swaps[node] = stand_in
    if not slopes or expr.xreplace(swaps).has(s):
        return None
    top = sympy.ilcm(*(a.q for a in slopes)) if len(slopes) > 1 else slopes[0].q
    bottom = sympy.igcd(*(a.p for a in slopes)) if len(slopes) > 1 else slopes[0].p
    return 2 * sympy.pi * sympy.Rational(top, abs(bottom))


def _repeats(target: _Expr, s: _Expr) -> bool:
    """``target`` is c + k*f(a*s + b) with f trigonometric and has a zero in a period of f
    (so infinitely many)."""
    calls = [n for n in target.atoms(*_TRIG) if n.has(s)]
    slope = _slope(calls[0].args[0], s) if len(calls) == 1 else None
    if slope is None:
        return False
    try:
        return bool(_periodic_roots(target, s, 2 * sympy.pi / abs(slope)))
    except _Unlocated:
        return False


def _slope(argument: _Expr, s: _Expr) -> _Expr | None:
    """a in a*s + b, when ``argument`` is that with a rational a != 0 and b free of s."""
    a, b = (sympy.expand(argument).coeff(s, k) for k in (1, 0))
    if not a.is_Rational or a == 0 or b.has(s) or sympy.expand(argument - a * s - b) != 0:
        return None
    return a


_BASE_SOLUTIONS: dict[Any, Any] = {
    # trig function: (value -> solutions u0 of f(u0) = value in one period 2*pi, or None)
    sympy.sin: lambda v: [sympy.asin(v), sympy.pi - sympy.asin(v)] if abs(v) <= 1 else [],
    sympy.cos: lambda v: [sympy.acos(v), -sympy.acos(v)] if abs(v) <= 1 else [],
    sympy.tan: lambda v: [sympy.atan(v), sympy.atan(v) + sympy.pi],
    sympy.sec: lambda v: [sympy.acos(1 / v), -sympy.acos(1 / v)] if abs(v) >= 1 else [],
    sympy.csc: lambda v: [sympy.asin(1 / v), sympy.pi - sympy.asin(1 / v)] if abs(v) >= 1 else [],
    sympy.cot: lambda v: [sympy.acot(v), sympy.acot(v) + sympy.pi],
}


_POLES: dict[Any, list[_Expr]] = {
    # where the function jumps through infinity (a switching argument changes sign there too)
    sympy.tan: [sympy.pi / 2, -sympy.pi / 2],
    sympy.sec: [sympy.pi / 2, -sympy.pi / 2],
    sympy.cot: [sympy.S.Zero, sympy.pi],
    sympy.csc: [sympy.S.Zero, sympy.pi],
}


def _periodic_roots(target: _Expr, s: _Expr, period: _Expr) -> list[_Expr]:
    """The exact zeros in [0, period) of c + k*f(a*s + b) with f trigonometric."""
    const, rest = target.as_independent(s, as_Add=True)
    k, inner = rest.as_independent(s, as_Add=False)
    if not (isinstance(inner, _TRIG) and const.is_number and k.is_number and k != 0):
        msg = f"which is not a trigonometric function of a linear argument in {s} equated to a constant"
        raise _Unlocated(msg)
    value, a = -const / k, _slope(inner.args[0], s)
    if a is None or not _decided(value):
        msg = f"which is not a trigonometric function of a linear argument in {s} equated to a constant"
        raise _Unlocated(msg)
    b = sympy.expand(inner.args[0] - a * s)
    bases = _BASE_SOLUTIONS[inner.func](value) + _POLES.get(inner.func, [])
    turns = int(abs(a) * period / (2 * sympy.pi))  # periods of f(a*s + b) in one of the whole
    if len(bases) * (turns + 2) > MAX_ROOTS:
        msg = f"more than {MAX_ROOTS} switching points in one period of {s}"
        raise _Unlocated(msg)
    start = sympy.floor(((b if a > 0 else b + a * period) / (2 * sympy.pi)).evalf(30)) - 1
    roots = []
    for u0, m in itertools.product(bases, range(int(start), int(start) + turns + 3)):
        root = (u0 + 2 * sympy.pi * m - b) / a
        if _within_period(root, period):
            roots.append(root)
    return roots


def _within_period(value: _Expr, period: _Expr) -> bool:
    """0 <= value < period, decided exactly or by SymPy's strict evalf."""
    if value.is_zero:
        return True
    try:
        low = value.evalf(30, strict=True)
        high = (period - value).evalf(30, strict=True)
    except (TypeError, ValueError, ArithmeticError):
        return False
    return bool(low > 0 and high > 0)


def _exact(expr: _Expr) -> _Expr:
    """``expr`` with its floats as the exact rationals they hold (as SymPy evaluates them)."""
    return expr.xreplace({f: sympy.Rational(f) for f in expr.atoms(sympy.Float)})


def _decided(value: _Expr) -> bool:
    """A real constant whose comparisons SymPy settles (not a symbolic undecidable)."""
    return bool(value.is_number and value.is_comparable)


def _degree_bound(expr: _Expr, s: _Expr) -> int | None:
    """An upper bound on the degree in ``s`` of a polynomial expression, read from the tree
    before it is multiplied out; None when it is not a polynomial in this shape."""
    if not expr.has(s):
        return 0
    if expr == s:
        return 1
    if expr.is_Add:
        parts = [_degree_bound(a, s) for a in expr.args]
        return None if None in parts else max(p for p in parts if p is not None)
    if expr.is_Mul:
        parts = [_degree_bound(a, s) for a in expr.args]
        return None if None in parts else sum(p for p in parts if p is not None)
    if expr.is_Pow and expr.exp.is_Integer and expr.exp >= 0:
        base = _degree_bound(expr.base, s)
        return None if base is None else base * int(expr.exp)
    return None


def _polynomial(argument: _Expr, s: _Expr) -> Any | None:
    """``argument`` as a polynomial over the rationals (floats taken exactly), with its degree
    and coefficients within the caps; None where it is not such a polynomial but may still be
    linear with real coefficients; _Unlocated where it is over a cap."""
    degree = _degree_bound(argument, s)
    if degree is None:
        msg = f"which is not a polynomial in {s} (and no monotone function inverts it)"
        raise _Unlocated(msg)
    if degree > MAX_DEGREE:
        msg = (
            f"a polynomial of degree up to {degree} in {s} (roots are isolated up to {MAX_DEGREE})"
        )
        raise _Unlocated(msg)
    bits = max((_bits(r) for r in argument.atoms(sympy.Rational)), default=0)
    if bits * max(1, degree) > 4 * MAX_BITS:
        msg = f"whose coefficients are too long to isolate roots (over {MAX_BITS} bits)"
        raise _Unlocated(msg)
    poly = sympy.Poly(_exact(argument), s)
    if not all(c.is_Rational for c in poly.all_coeffs()):
        if poly.degree() == 1:
            return None
        msg = f"a polynomial in {s} whose coefficients are not rational"
        raise _Unlocated(msg)
    if max(_bits(c) for c in poly.all_coeffs()) > MAX_BITS:
        msg = f"whose coefficients are too long to isolate roots (over {MAX_BITS} bits)"
        raise _Unlocated(msg)
    return poly


def _normal(factor: Any) -> Any:
    """An irreducible factor over the integers, primitive, with a positive leading coefficient
    (so equal factors of different arguments are one key)."""
    primitive = factor.clear_denoms()[1].set_domain(sympy.ZZ).primitive()[1]
    return -primitive if primitive.LC() < 0 else primitive


def _bits(value: _Expr) -> int:
    return int(abs(value.p)).bit_length() + int(value.q).bit_length()


def _linear_root(target: _Expr, s: _Expr) -> _Expr:
    """The root of a*s + b with real constant a != 0 and b (x - exp(14))."""
    a, b = (sympy.expand(target).coeff(s, k) for k in (1, 0))
    if not (a.is_number and b.is_number and _decided(a) and _decided(b)) or a.is_zero is not False:
        msg = f"which is not a polynomial in {s} with located roots"
        raise _Unlocated(msg)
    return -b / a


# -------------------------------------------------------------------- isolating
def _isolate(s: _Expr, found: dict[Any, _Expr]) -> list[Root]:
    """Every real root of the recorded factors of one variable, sorted, with disjoint
    isolating intervals of relative width at most ``_EPS``."""
    polys = [f for f in found if isinstance(f, sympy.Poly)]
    degree = sum(p.degree() for p in polys)
    if degree > MAX_TOTAL_DEGREE:
        msg = f"the breakpoint polynomials in {s} have degree {degree} in all (at most {MAX_TOTAL_DEGREE})"
        raise _Unlocated(msg)
    roots: list[Root] = []
    if polys:
        isolated = sympy.intervals(polys, eps=_EPS)
        exact = {i: iter(p.real_roots()) for i, p in enumerate(polys)}
        for (lo, hi), owners in isolated:
            (index,) = owners  # distinct irreducible factors share no root
            value = next(exact[index])
            roots.append(Root(s, value, sympy.Rational(lo), sympy.Rational(hi), polys[index]))
    roots += [_bracket(s, v) for v in found if not isinstance(v, sympy.Poly)]
    if len(roots) > MAX_ROOTS:
        msg = f"the pieces have {len(roots)} switching points in {s} (at most {MAX_ROOTS})"
        raise _Unlocated(msg)
    roots.sort(key=lambda r: r.lo)
    return _separated(roots)


def _bracket(s: _Expr, value: _Expr) -> Root:
    """An irrational constant between two rationals, proved by SymPy's strict evalf."""
    try:
        approx = sympy.Rational(value.evalf(40, strict=True))
    except (TypeError, ValueError, ArithmeticError) as error:
        msg = f"the switching point {s} = {value} cannot be evaluated"
        raise _Unlocated(msg) from error
    width = _EPS * (1 + abs(approx))
    lo, hi = approx - width, approx + width
    if not ((value - lo).evalf(20, strict=True) > 0 and (hi - value).evalf(20, strict=True) > 0):
        msg = f"the switching point {s} = {value} cannot be bracketed"  # pragma: no cover
        raise _Unlocated(msg)
    return Root(s, value, lo, hi)


def _separated(roots: list[Root]) -> list[Root]:
    """The roots, with equal values merged and overlapping intervals refused (an irrational
    linear root sharing its neighbourhood with another cannot be ordered exactly)."""
    kept: list[Root] = []
    for root in roots:
        if kept and kept[-1].value == root.value:
            continue
        if kept and not kept[-1].hi < root.lo:
            msg = f"two switching points of {root.variable} near {root.lo} cannot be separated"
            raise _Unlocated(msg)
        kept.append(root)
    return kept


# --------------------------------------------------------------------- the points
def fraction(salt: str, *keys: object) -> _Expr:
    """A rational in (0, 1) drawn from a hash of ``salt`` and ``keys`` (prime denominator)."""
    text = "|".join([salt, *map(str, keys)])
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    q = int(sympy.prime(1_000 + seed % 2_000))
    return sympy.Rational(1 + seed % (q - 1), q)


def ends(pieces: Pieces, variable: _Expr) -> list[tuple[_Expr, _Expr]]:
    """The open pieces of one variable, left to right, as (lower, upper) rational ends (None
    where unbounded).  With a period the pieces are those of one period, the last wrapping
    round to just before the first root plus the period."""
    roots = pieces.of(variable)
    lowers: list[_Expr] = [None, *(r.hi for r in roots)]
    uppers: list[_Expr] = [*(r.lo for r in roots), None]
    period = pieces.period(variable)
    if period is not None:
        lowers, uppers = lowers[1:], [*uppers[1:-1], roots[0].lo + _rational_below(period)]
    return list(zip(lowers, uppers, strict=True))


def piece_values(pieces: Pieces, variable: _Expr, salt: str) -> list[list[_Expr]]:
    """Exact rational values inside each piece of one variable, piece by piece (left to
    right): just beside each end, and one drawn inside (far out for an unbounded piece)."""
    return [_inside(a, b, fraction(salt, i)) for i, (a, b) in enumerate(ends(pieces, variable))]


def _rational_below(period: _Expr) -> _Expr:
    """A rational just below ``period`` (2*pi*L): the wrapped piece ends before the first root
    plus the period, so its points lie inside it."""
    return sympy.Rational(str(period.evalf(40))) - sympy.Rational(1, 10**30)


def _inside(lower: _Expr, upper: _Expr, t: _Expr) -> list[_Expr]:
    """Points of the open piece (lower, upper) for a hashed t in (0, 1): beside each end
    (1/2000 to 1/1000 of the way) and one drawn inside, or far out (2 to 100 times
    1 + |end| beyond it) where the piece is unbounded."""
    near = (1 + t) / 2_000
    if lower is not None and upper is not None:
        width = upper - lower
        return [lower + width * near, lower + width * (near + t / 2), upper - width * near]
    end, step = (upper, -1) if lower is None else (lower, 1)
    size = 1 + abs(end)
    return [end + step * size * near, end + step * size * (2 + 98 * t)]


def cells(
    pieces: Pieces, base: dict[_Expr, _Expr], salt: str
) -> Iterator[tuple[tuple[int, ...], dict[_Expr, _Expr]]]:
    """(cell, point) pairs: every box of the pieces (one piece per variable with switching
    points) with its points, the other coordinates at ``base``.  The caller prices the count
    first (:func:`point_count`)."""
    variables = pieces.variables()
    per_variable = [piece_values(pieces, v, f"{salt}|{v}") for v in variables]
    for cell in itertools.product(*(range(len(p)) for p in per_variable)):
        choices = [per_variable[k][i] for k, i in enumerate(cell)]
        for values in itertools.product(*choices):
            yield cell, {**base, **dict(zip(variables, values, strict=True))}


def cell_bounds(pieces: Pieces, cell: tuple[int, ...]) -> dict[_Expr, tuple[_Expr, _Expr]]:
    """The open box of ``cell``: per variable (lower, upper) end, None where unbounded."""
    variables = pieces.variables()
    return {v: ends(pieces, v)[i] for v, i in zip(variables, cell, strict=True)}


def simplest_between(lower: _Expr, upper: _Expr) -> _Expr:
    """The rational with the smallest denominator (then numerator) strictly between two
    rationals, by continued fractions; an end that is None is unbounded."""
    if lower is None and upper is None:
        return sympy.S.Zero
    if lower is None:
        return sympy.floor(upper) - 1 if upper <= 0 else sympy.S.Zero
    if upper is None:
        return sympy.floor(lower) + 1 if lower >= 0 else sympy.S.Zero
    if lower < 0 < upper:
        return sympy.S.Zero
    if upper <= 0:
        return -simplest_between(-upper, -lower)
    whole = sympy.floor(lower)
    if whole + 1 < upper:
        return whole + 1
    if lower == whole:  # (n, n + f): n + 1/(next above 1/f)
        return whole + 1 / (sympy.floor(1 / (upper - whole)) + 1)
    return whole + 1 / simplest_between(1 / (upper - whole), 1 / (lower - whole))


def point_count(pieces: Pieces) -> int:
    """How many points :func:`cells` yields (3 per bounded piece, 2 per unbounded one, per
    variable, multiplied across variables), computed from the ends without building them."""
    count = 1
    for v in pieces.variables():
        count *= sum(2 if None in pair else 3 for pair in ends(pieces, v))
    return count


def vanishes(argument: _Expr, root: Root, point: dict[_Expr, _Expr]) -> bool:
    """``argument`` is exactly 0 at ``point`` (whose coordinate ``root.variable`` is the
    root): by division by the root's irreducible factor where the argument is a rational
    polynomial in that variable alone, else SymPy's exact evaluation reducing it to 0."""
    s = root.variable
    if root.factor is not None and argument.free_symbols == {s}:
        targets = _targets(argument, s)
        target = targets[0] if len(targets) == 1 else None
        if target is not None and _degree_bound(target, s) is not None:
            poly = sympy.Poly(_exact(target), s)
            if all(c.is_Rational for c in poly.all_coeffs()):
                return bool(poly.rem(root.factor.set_domain(poly.domain)).is_zero)
    return bool(argument.xreplace(point) == 0)


def at_breakpoint(
    expr: _Expr, root: Root, point: dict[_Expr, _Expr], near: dict[_Expr, _Expr] | None = None
) -> _Expr | None:
    """``expr`` at ``point`` on a breakpoint, exactly: every atom whose switching argument
    vanishes there takes its value at 0 (sign(0) = 0, Heaviside(0) = 1/2, max(a, b) = a
    where a = b), so no ball or rounding has to decide a sign that is exactly 0.

    With ``near`` (a point beside the breakpoint, inside one piece) each such atom takes
    instead its analytic form on that side (sign(a) the sign of a at ``near``, abs(a) that
    sign times a, max(a, b) the larger there): the one-sided limit of ``expr`` at the
    breakpoint, wherever the rest of ``expr`` is continuous there.  None where a side's sign
    cannot be decided."""
    swaps: dict[_Expr, _Expr] = {}
    for node in nonsmooth_atoms(expr):
        if isinstance(node, sympy.Min | sympy.Max):
            swap = _tied(node, root, point, near)
        elif isinstance(node, _UNARY) and vanishes(node.args[0], root, point):
            swap = node.func(sympy.S.Zero) if near is None else _side(node, near)
        else:
            continue
        if swap is None:
            return None
        if swap is not node:
            swaps[node] = swap
    try:
        return expr.xreplace(swaps).xreplace(point)
    except (TypeError, ValueError, ZeroDivisionError):  # max(zoo, 1000) on a pole
        return None


def _tied(node: _Expr, root: Root, point: dict[_Expr, _Expr], near: Any) -> _Expr | None:
    """A max or min with the arguments equal at the breakpoint merged: the first of them
    there, the largest (smallest) of them at ``near`` beside it."""
    args = list(node.args)
    tied = [(a, b) for a, b in itertools.combinations(args, 2) if vanishes(a - b, root, point)]
    if not tied:
        return node
    dropped: set[_Expr] = set()
    for a, b in tied:
        order = 1 if near is None else _sign_at(a - b, near)
        if order is None:
            return None
        above = order > 0 if isinstance(node, sympy.Max) else order < 0
        dropped.add(b if near is None or above else a)
    return node.func(*(a for a in args if a not in dropped))


def _side(node: _Expr, near: dict[_Expr, _Expr]) -> _Expr | None:
    """sign, abs, Heaviside or DiracDelta of an argument a on the side of ``near``."""
    sigma = _sign_at(node.args[0], near)
    if sigma is None:
        return None
    if isinstance(node, sympy.Abs):
        return sigma * node.args[0]
    if isinstance(node, sympy.Heaviside):
        return sympy.Integer(1 + sigma) / 2
    return sympy.Integer(sigma) if isinstance(node, sympy.sign) else sympy.S.Zero


def _sign_at(argument: _Expr, near: dict[_Expr, _Expr]) -> int | None:
    """The sign of ``argument`` at an exact point, exactly or by SymPy's strict evalf."""
    value = argument.xreplace(near)
    if not value.is_Rational:
        try:
            value = value.evalf(30, strict=True)
        except (TypeError, ValueError, ArithmeticError):
            return None
    if not (value.is_number and value.is_comparable) or value == 0:
        return None
    return 1 if value > 0 else -1


def beside(pieces: Pieces, root: Root, salt: str) -> tuple[_Expr, _Expr]:
    """Rational values just left and just right of ``root``, inside the pieces on either
    side (on one period, left of the first root is the last piece shifted back a period)."""
    variable = root.variable
    index = pieces.of(variable).index(root)
    values = piece_values(pieces, variable, f"{salt}|{variable}")
    period = pieces.period(variable)
    if period is None:
        return values[index][-1], values[index + 1][0]
    if index > 0:
        return values[index - 1][-1], values[index][0]
    return values[-1][-1] - _rational_below(period), values[0][0]
