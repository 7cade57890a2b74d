"""Finite-difference partial derivatives: the independent referee of the symbolic derivative.

Four methods and ``auto``, the default of both entry points (:func:`finite_difference`,
:func:`finite_difference_gradient`); every ``ok`` value comes with an error estimate that bounds
its actual error (rounding to the returned precision included), and a value that cannot be
certified is ``unreliable``, never ``ok``:

``mp``
    The stencil is applied to the compiled mpmath function in a private context at a working
    precision with guard digits and the digits f loses at the point, with a Richardson pair
    h, 2h for an a-posteriori error estimate and step refinement until the requested digits
    are reached (the engine and its mathematics are in :mod:`symgrad.fd._engine`).
``mp-complex``
    The complex step Im f(x + ih)/h at high precision, each value certified by a second one
    at −h/2 and more digits (first derivatives of real-analytic expressions only).  A value
    that does not settle falls back to the ``mp`` stencil, and the result says so.
``auto`` (the default)
    ``mp-complex`` for first derivatives of real-analytic expressions that are analytic at the
    point (no fractional power of zero), when neither a step nor a scheme other than the default
    ``central:2`` is asked for; else ``mp``.  Both certify the requested digits the same way
    (an a-posteriori estimate that must fall below 10^-dps of the value), and ``mp-complex``
    falls back to ``mp`` where it cannot, so ``auto`` is as accurate as ``mp`` and reaches
    the digits with fewer evaluations (two complex ones per partial instead of a Richardson
    pair, at fewer working digits): one default is right for one partial and for a gradient.
``float64``
    What the user's own float64 code sees, vectorized over many points; the default step
    h = ε^(1/(p+m))·max(1, |x|) balances truncation against round-off, and the representable
    step (x + h) − x is used.  Steps h, 2h, 4h check the asymptotic range; the round-off part
    of the estimate is the noise of f measured near the point.  Float64 cannot certify:
    its estimate is a measurement (a fourth difference of nearby values) and may miss
    rounding errors that are the same at every nearby point.
``complex``
    The complex step in float64 (h = 1e-200), with a second step on the other side of the
    real axis and the measured noise of the quotient as its estimate.

**Kinks.**  Where f may be nonsmooth at the point (abs, sign, min, max, atan2 or Piecewise
whose condition holds there exactly, or a fractional power of zero: sqrt(x² + y²) at the
origin), or the central difference is unreliable, the backward and forward differences are
compared: a kink is ``nonsmooth``, with the one-sided derivatives in ``left`` and ``right``.

Mixed partials use tensor products of one-dimensional stencils.
"""

from __future__ import annotations

import functools
import itertools
import math
import numbers
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import replace
from fractions import Fraction
from typing import Any, NamedTuple, cast

import numpy as np
import numpy.typing as npt
import sympy

from symgrad._precision import EPS, check_dps, thread_context
from symgrad.derive import ENGINES, Compiled, arb_available, as_float_array, function
from symgrad.errors import ConfigError, InputError, MissingExtra, SymgradError
from symgrad.expr import Source, VariablesSpec, parse_number, symbol
from symgrad.fd._arb import Declined, certified_partials
from symgrad.fd._deprecated import renamed_keyword
from symgrad.fd._engine import (
    _GUARD,
    KINK_SAFETY,
    FDResult,
    _Complex,
    _failed,
    _mp,
    _PointProblem,
    _probe,
    _Terms,
    complex_given_step,
    complex_result,
    complex_step,
    digits_lost,
    from_sides,
    nonsmooth_result,
    one_sided,
)
from symgrad.fd._memo import remembered
from symgrad.fd._stencils import Stencil
from symgrad.results import PointStatus

__all__ = [
    "METHODS",
    "FDResult",
    "finite_difference",
    "finite_difference_gradient",
    "is_real_analytic",
    "order_of",
    "stencils_for",
]

METHODS = ("mp", "float64", "complex", "mp-complex", "auto")
#: A point: ``"x=0.3, y=0.7"`` (exact decimals) or a mapping from names to numbers or arrays.
Point = str | Mapping[str | sympy.Symbol, Any]
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
_DEFAULT_SCHEME = "central:2"
_F64_RESOLUTION = 1e-6  # a float64 value is ok when its estimate is below this relative size
_MAX_EXACT = 1000  # flat float64 values checked by an exact evaluation
_GOLDEN = (math.sqrt(5) - 1) / 2  # a second sampling progression, incommensurate with the first


def finite_difference(
    expr: Source | Compiled,
    at: Point | None = None,
    wrt: str | Sequence[str | int] | None = None,
    *,
    scheme: str | Stencil = "central:2",
    method: str = "auto",
    step: Any = None,
    dps: int = 50,
    error_control: bool = True,
    engine: str = "auto",
    variables: VariablesSpec = None,
    point: Point | None = None,
) -> FDResult:
    """Estimate a partial derivative of ``expr`` at the point ``at`` by finite differences.

    Parameters
    ----------
    expr : str, sympy.Expr or Compiled
        The function (a :func:`symgrad.function` object is reused as is; a vector function
        gives the partial of every component at once).
    at : str or mapping
        The point: ``"x=0.3, y=0.7"`` (exact decimals) for ``mp`` and ``mp-complex``; for
        ``float64`` and ``complex`` a mapping whose values may be arrays that broadcast
        together.
    wrt : str or sequence, optional
        ``"x"``, ``"x y"`` (∂²/∂x∂y) or ``("x", 2)``; may be omitted for one variable.
    scheme : str or Stencil
        ``"central:P"``, ``"forward:P"``, ``"backward:P"`` (accuracy P; the derivative order
        comes from ``wrt``) or a :class:`Stencil` for a single partial.
    method : {"auto", "mp", "float64", "complex", "mp-complex"}
        Guard-digit stencil at high precision; float64 stencil; float64 complex step;
        high-precision complex step (certified by a second step, else the stencil decides);
        ``auto`` (default): ``mp-complex`` for first derivatives of real-analytic expressions
        when no step and no scheme other than ``central:2`` is given, else ``mp``: equally
        accurate, and faster.  The module docstring has the details.
    step : float, str or None
        The step h; None chooses one (see the module docstring).  A given step is honoured
        as an absolute step, and ``mp`` then returns the plain stencil value D(h), ``ok`` only
        where h is inside the asymptotic range (D(2h) − D(h) about 2^p times D(h) − D(h/2)),
        else ``unreliable``; the kink probe's own steps never stand in for it.  It must be
        a finite positive number (text such as ``"1/1024"`` is exact; in float64 it must not
        round to 0): it is a width, and the scheme sets the side (``backward:2``), so zero,
        negative, NaN or infinite steps are a :class:`~symgrad.errors.ConfigError`.
    dps : int
        Digits requested for ``mp`` and ``mp-complex``.
    error_control : bool
        Estimate the error and (``mp``) refine h until the digits are reached (default).
        False uses one step (``mp``: with a wider a-priori margin): faster, but the result then
        carries no error estimate (NaN).
    engine : {"auto", "arb", "mpmath"}
        The arithmetic of the ``auto`` and ``mp`` stencils.  ``"arb"``: python-flint's ball
        arithmetic with a *proven* error bound (ball radius plus a Taylor remainder bound,
        ``certified=True`` in the result; :mod:`symgrad.fd._arb`), for partials along one
        variable with the automatic step and error control; a partial it cannot certify (a
        pole, branch point or kink near the point, a mixed partial, a function without a
        Taylor series in python-flint) is computed by the mpmath engine, and an ``ok`` result
        then says why it is not certified.  ``"mpmath"``: the error-controlled mpmath engine
        only.  ``"auto"`` (default): ``"arb"`` where python-flint is installed and the options
        allow it, else ``"mpmath"``.  ``"arb"`` without python-flint is a
        :class:`~symgrad.errors.MissingExtra`; with a given step, ``error_control=False`` or
        a method other than ``auto`` and ``mp`` it is a :class:`~symgrad.errors.ConfigError`.
    variables : str or sequence, optional
        The variable order (default: sorted by name).
    point : str or mapping, optional
        Deprecated alias of ``at`` (it warns with a ``DeprecationWarning``).

    Returns
    -------
    FDResult
        ``ok`` with a value and an error estimate that bounds its error; ``nonsmooth`` at a
        kink (no value; ``left`` and ``right`` hold the one-sided derivatives); ``domain``,
        ``pole`` or ``overflow`` where f fails (in float64 also where f, or the difference
        quotient, exceeds float64's range); ``unreliable`` when the requested digits (for
        float64: 6 digits) cannot be shown, with the reason.

    Raises
    ------
    SymgradError
        A :class:`~symgrad.errors.ConfigError`, ``InputError``, ``ParseError`` or
        ``LimitExceeded`` for a bad option (step, dps out of [15, 1000] for every method,
        scheme, method, wrt) or point, with one sentence saying what to give instead.

    Examples
    --------
    >>> r = finite_difference("sin(x)*y", "x=1, y=2", "x", dps=30)
    >>> str(r.status), r.ok
    ('ok', True)
    >>> print(r.value)
    1.08060461173627943480187321489
    >>> k = finite_difference("abs(x)", "x=0", dps=30)
    >>> str(k.status), k.reason
    ('nonsmooth', 'kink at x=0: left derivative -1, right derivative 1')
    """
    at = _where(at, point)
    f = expr if isinstance(expr, Compiled) else function(expr, variables)
    counts = order_of(wrt, f.variables)
    return _dispatch(f, at, [counts], scheme, method, step, dps, error_control, engine)[0]


def finite_difference_gradient(
    expr: Source | Compiled,
    at: Point | None = None,
    *,
    scheme: str | Stencil = "central:2",
    method: str = "auto",
    step: Any = None,
    dps: int = 50,
    error_control: bool = True,
    engine: str = "auto",
    variables: VariablesSpec = None,
    point: Point | None = None,
) -> tuple[FDResult, ...]:
    """Every first partial derivative at ``at``: :func:`finite_difference` per variable.

    The point is parsed and f is checked at it once for all components.  The default method
    ``"auto"`` (as for :func:`finite_difference`) takes the fastest way to the requested digits:
    the high-precision complex step for real-analytic expressions (two complex evaluations per
    component, the second certifying the first; more where the first loses digits, as atan's
    does), otherwise the guard-digit stencil with error control (``"mp"``).

    Examples
    --------
    >>> [str(r.status) for r in finite_difference_gradient("x*y**2", "x=1, y=2", dps=20)]
    ['ok', 'ok']

    The parameters are those of :func:`finite_difference` (``point`` is a deprecated alias of
    ``at``).
    """
    at = _where(at, point)
    f = expr if isinstance(expr, Compiled) else function(expr, variables)
    partials = _unit_partials(len(f.variables))
    return _dispatch(f, at, partials, scheme, method, step, dps, error_control, engine)


@functools.lru_cache(maxsize=4)
def _unit_partials(n: int) -> tuple[tuple[int, ...], ...]:
    """The first partial along each of n variables, as counts per variable."""
    return tuple(tuple(int(i == j) for j in range(n)) for i in range(n))


def _where(at: Point | None, point: Point | None) -> Point:
    """The point, given as ``at`` or (deprecated) ``point``; refused when neither is given."""
    where = renamed_keyword("point", point, "at", at, None, stacklevel=5)
    if where is None:
        msg = "a finite difference needs the point: e.g. at='x=1' or at={'x': 1.0}"
        raise ConfigError(msg)
    return where


def _dispatch(
    f: Compiled,
    point: Any,
    partials: Sequence[tuple[int, ...]],
    scheme: str | Stencil,
    method: str,
    step: Any,
    dps: int,
    error_control: bool,
    engine: str = "auto",
) -> tuple[FDResult, ...]:
    """Validate the options once, then compute each partial (``counts`` per variable)."""
    if method not in METHODS:
        msg = f"method must be one of {', '.join(METHODS)} (got {method!r})"
        raise ConfigError(msg)
    dps = check_dps(dps)
    step = _given_step(step, float64=method in ("complex", "float64"))
    _check_flag("error_control", error_control)
    arb = _use_arb(engine, method, step, error_control)
    if method in ("complex", "float64"):
        with np.errstate(all="ignore"):  # overflow and NaN are classified, not warned about
            if method == "complex":
                axes = [_complex_axis(f, c) for c in partials]
                return tuple(_complex_float64(f, point, a, step, error_control) for a in axes)
            return tuple(
                _float64(f, point, c, stencils_for(scheme, c), step, error_control)
                for c in partials
            )
    x0 = _point_values(f, point)
    if arb:
        return _certified(f, x0, partials, scheme, method, dps)
    return _mpmath(f, x0, partials, (scheme, method, step, dps, error_control))


_POINTS: dict[Hashable, tuple[Any, Any]] = {}


def _point_values(f: Compiled, point: Any) -> list[sympy.Rational]:
    """The exact coordinates of ``point``; a point given as text is read once per function."""
    if not isinstance(point, str):
        return f.point_values(point)
    return list(remembered(_POINTS, f, lambda: f.point_values(point), key=(id(f), point)))


def _use_arb(engine: str, method: str, step: Any, error_control: bool) -> bool:
    """Whether the stencil runs on arb balls (``engine``, checked against the other options)."""
    if engine not in ENGINES:
        msg = f"engine must be one of {', '.join(ENGINES)} (got {engine!r:.80})"
        raise ConfigError(msg)
    fits = method in ("auto", "mp") and step is None and error_control
    if engine == "arb":
        if not fits:
            msg = (
                "engine='arb' certifies the auto and mp stencils with the automatic step and "
                "error control; use engine='mpmath' for a given step, error_control=False or "
                f"method={method!r}"
            )
            raise ConfigError(msg)
        if not arb_available():
            msg = "engine='arb' needs python-flint: pip install 'symgrad[fast]'"
            raise MissingExtra(msg)
        return True
    return engine != "mpmath" and fits and arb_available()


def _certified(
    f: Compiled,
    x0: list[sympy.Rational],
    partials: Sequence[tuple[int, ...]],
    scheme: str | Stencil,
    method: str,
    dps: int,
) -> tuple[FDResult, ...]:
    """Every partial along one variable on arb balls; the mpmath engine for the others.

    A partial the arb path declines (module :mod:`symgrad.fd._arb`) is computed by the mpmath
    engine with the same method, and an ``ok`` or ``unreliable`` result says why it is not
    certified.
    """
    single, jobs = _layout(scheme, tuple(partials))
    done = certified_partials(f, x0, jobs, dps)
    if len(single) == len(partials) and not any(isinstance(r, Declined) for r in done):
        return cast("tuple[FDResult, ...]", tuple(done))  # every one an FDResult
    found: dict[int, FDResult | Declined] = dict.fromkeys(range(len(partials)), _MIXED)
    found.update(zip(single, done, strict=True))
    declined = [i for i, r in found.items() if isinstance(r, Declined)]
    options = (scheme, method, None, dps, True)
    others = _mpmath(f, x0, [partials[i] for i in declined], options) if declined else ()
    for i, other in zip(declined, others, strict=True):
        why = found[i]
        assert isinstance(why, Declined)
        found[i] = _uncertified(other, why.reason)
    return tuple(r for r in found.values() if isinstance(r, FDResult))


@functools.lru_cache(maxsize=8)
def _layout(
    scheme: str | Stencil, partials: tuple[tuple[int, ...], ...]
) -> tuple[tuple[int, ...], tuple[tuple[int, Stencil], ...]]:
    """The partials along one variable (their indices) and each one's axis and stencil."""
    single = tuple(i for i, c in enumerate(partials) if sum(1 for n in c if n) == 1)
    axes = [next(j for j, n in enumerate(partials[i]) if n) for i in single]
    jobs = tuple(
        (axis, _one(stencils_for(scheme, partials[i])[axis]))
        for i, axis in zip(single, axes, strict=True)
    )
    return single, jobs


def _one(stencil: Stencil | None) -> Stencil:
    assert stencil is not None
    return stencil


_MIXED = Declined("a mixed partial is not certified (its remainder needs mixed derivatives)")


def _uncertified(result: FDResult, why: str) -> FDResult:
    """The mpmath result, its reason saying why arb did not certify it (ok and unreliable)."""
    if result.status not in (PointStatus.OK, PointStatus.UNRELIABLE):
        return result
    return replace(result, reason=f"{result.reason} (not certified on arb balls: {why})")


def _mpmath(
    f: Compiled,
    x0: list[sympy.Rational],
    partials: Sequence[tuple[int, ...]],
    options: tuple[str | Stencil, str, Any, int, bool],
) -> tuple[FDResult, ...]:
    """The mpmath engine (``options``: scheme, method, step, dps, error control)."""
    scheme, method, step, dps, error_control = options
    if method == "auto":  # the fastest way to all the digits asked (benchmarks/bench_mpfd.py)
        first_order = all(sum(c) == 1 for c in partials)
        analytic = is_real_analytic(f) and not kink_suspect(f, x0)
        plain = step is None and scheme == _DEFAULT_SCHEME  # no stencil or step asked for
        method = "mp-complex" if first_order and analytic and plain else "mp"
    if method == "mp-complex":
        for c in partials:
            _complex_axis(f, c)
        return _complex_mp(f, x0, partials, scheme, step, dps)
    return _mp_all(f, x0, partials, (scheme, step, dps, error_control))


def _given_step(step: Any, *, float64: bool) -> Any:
    """A given step, checked: a finite positive number (text is read exactly by parse_number).

    The step is the width h of the stencil; its side is the scheme's (``forward:P``,
    ``backward:P``), so a negative step is refused rather than read as the other side.  In
    float64 it must also be a positive float64 (an mpf 1e-330 rounds to 0), and is returned as
    a float; the high-precision methods get it as given.
    """
    if step is None:
        return None
    if isinstance(step, str):
        value: Any = parse_number(step)  # a ParseError for anything but a number
        positive = value > 0
    elif isinstance(step, bool) or not (isinstance(step, numbers.Real) or hasattr(step, "_mpf_")):
        msg = f"step must be a positive number such as 1e-6 or '1/1024' (got {step!r:.80})"
        raise ConfigError(msg)
    else:
        ctx = thread_context(15)
        value = ctx.convert(step)
        if not ctx.isfinite(value):
            msg = f"step must be a finite positive number (got {step!r})"
            raise ConfigError(msg)
        positive = value > 0
    if not positive:
        msg = (
            f"step must be positive, the width h of the stencil (got {step!r:.80}); the scheme "
            "sets the side, e.g. scheme='backward:2'"
        )
        raise ConfigError(msg)
    if float64 and not 0 < float(value) < math.inf:
        msg = f"step {step!r:.80} is not a positive float64 number; give one such as 1e-6"
        raise ConfigError(msg)
    return float(value) if float64 else step


def _check_flag(name: str, value: object) -> None:
    if not isinstance(value, bool | np.bool_):
        msg = f"{name} must be True or False (got {value!r:.80})"
        raise ConfigError(msg)


def _mp_partial(
    f: Compiled,
    x0: Sequence[sympy.Rational],
    counts: tuple[int, ...],
    options: tuple[str | Stencil, Any, int, bool],
    extra: int,
    *,
    suspect: bool,
) -> FDResult:
    """The stencil, then the kink probe where f may be nonsmooth or the stencil is unreliable.

    ``options`` are the scheme, step, dps and error control.  A kink gives ``nonsmooth``
    (with the one-sided derivatives); one-sided derivatives that agree and reach the digits
    replace an unreliable central difference (x*abs(x) at 0).
    """
    scheme, step, dps, error_control = options
    terms = _Terms.build(tuple(stencils_for(scheme, counts)))
    central = _mp(f, x0, terms, step, dps, error_control, extra).result
    ok, unreliable = PointStatus.OK, PointStatus.UNRELIABLE
    if step is not None and central.status is unreliable:
        return central  # the step asked for is what is reported on, not the probe's own
    if central.status not in (ok, unreliable) or (central.status is ok and not suspect):
        return central
    jumps = not is_real_analytic(f)
    sides = one_sided(f, x0, tuple(counts), dps, extra=extra, jumps=jumps)
    if sides.kink:
        return nonsmooth_result(f, sides, central)
    if sides.left is None or sides.right is None:
        return central
    if central.status is unreliable and sides.left.status is sides.right.status is ok:
        agreed = from_sides(f, sides, central)
        if agreed is not None:
            return agreed
    return replace(central, left=sides.left.value, right=sides.right.value)


_KINKS: dict[Hashable, tuple[Any, Any]] = {}
_KINKS_AT: dict[Hashable, tuple[Any, Any]] = {}


def kink_suspect(f: Compiled, x0: Sequence[sympy.Rational]) -> bool:
    """Whether f may fail to be smooth at x0, decided exactly with SymPy.

    It may where the argument of abs, sign or Heaviside vanishes, two arguments of min or max
    tie, the base of a fractional power vanishes (sqrt(x**2 + y**2) at the origin: a branch
    point, where the complex step is wrong too), atan2 meets its cut, or f has a Piecewise.
    An undecidable condition counts as a suspicion (it only costs the probe).
    """

    def suspect() -> bool:
        values = dict(zip(f.variables, x0, strict=True))
        return any(_suspect_at(kind, node, values) for kind, node in _kink_nodes(f))

    return remembered(_KINKS_AT, f, suspect, key=(id(f), tuple(x0)))


def _kink_nodes(f: Compiled) -> tuple[tuple[str, sympy.Expr], ...]:
    """The places where f may be nonsmooth (once per compiled function)."""

    def nodes() -> tuple[tuple[str, sympy.Expr], ...]:
        found: list[tuple[str, sympy.Expr]] = []
        for e in f.components:
            found += [("zero", a.args[0]) for a in e.atoms(sympy.Abs, sympy.sign, sympy.Heaviside)]
            found += [("tie", a) for a in e.atoms(sympy.Min, sympy.Max)]
            found += [("zero", a.base) for a in e.atoms(sympy.Pow) if not a.exp.is_integer]
            found += [("cut", a) for a in e.atoms(sympy.atan2)]
            found += [("always", a) for a in e.atoms(sympy.Piecewise)]
        return tuple(found)

    return remembered(_KINKS, f, nodes)


def _suspect_at(kind: str, node: sympy.Expr, values: dict[Any, sympy.Rational]) -> bool:
    """One place's condition at the exact point (True when SymPy cannot decide)."""
    if kind == "zero":
        return node.xreplace(values).is_zero is not False
    if kind == "tie":
        args = [a.xreplace(values) for a in node.args]
        return any((a - b).is_zero is not False for a, b in itertools.combinations(args, 2))
    if kind == "cut":
        y, x = (a.xreplace(values) for a in node.args)
        return y.is_zero is not False and x.is_positive is not True
    return True


def order_of(
    wrt: str | Sequence[str | int] | None, variables: Sequence[sympy.Symbol]
) -> tuple[int, ...]:
    """How many times to differentiate along each variable: ``("x", 2, "y")`` → (2, 1)."""
    if wrt is None:
        if len(variables) != 1:
            names = [v.name for v in variables]
            msg = f"wrt is needed when there are several variables ({names}); e.g. wrt='x'"
            raise ConfigError(msg)
        wrt = variables[0].name
    items: list[str | int] = (
        list(wrt.replace(",", " ").split()) if isinstance(wrt, str) else list(wrt)
    )
    counts = dict.fromkeys(variables, 0)
    last: sympy.Symbol | None = None
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            if last is None or item < 1:
                msg = f"a count in wrt must follow a variable and be >= 1 (got {item!r})"
                raise ConfigError(msg)
            counts[last] += item - 1
            continue
        last = symbol(str(item))
        if last not in counts:
            msg = f"wrt names {last}, which is not among the variables {list(variables)}"
            raise ConfigError(msg)
        counts[last] += 1
    if not any(counts.values()):
        msg = "wrt must name at least one variable to differentiate with respect to"
        raise ConfigError(msg)
    return tuple(counts[v] for v in variables)


def stencils_for(scheme: str | Stencil, counts: Sequence[int]) -> list[Stencil | None]:
    """One stencil per variable (None where it is not differentiated)."""
    if isinstance(scheme, Stencil):
        active = [c for c in counts if c]
        if len(active) != 1 or active[0] != scheme.derivative:
            msg = (
                f"a Stencil for derivative {scheme.derivative} fits a single partial of that "
                f"order; for mixed partials give a scheme string such as 'central:4'"
            )
            raise ConfigError(msg)
        return [scheme if c else None for c in counts]
    kind, _, accuracy = str(scheme).strip().lower().partition(":")
    if kind == "complex":
        msg = "the complex step is a method, not a stencil: use method='complex'"
        raise ConfigError(msg)
    return [_stencil(f"{kind}:{accuracy}:d{c}") if c else None for c in counts]


@functools.cache
def _stencil(spec: str) -> Stencil:
    """Stencils are immutable and exact: build each one once per process."""
    return Stencil.parse(spec)


# -- float64 and complex step -----------------------------------------------------------------


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
    est = np.where(settled, 2 * near / (2**p - 1) + rounding, np.inf)
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
    axes = [
        [(Fraction(0), Fraction(1))]
        if s is None
        else [(o, w) for o, w in zip(s.offsets, s.weights, strict=True) if w]
        for s in stencils
    ]
    for combo in itertools.product(*axes):
        weight = float(math.prod((w for _, w in combo), start=Fraction(1)))
        shifted = [xi + float(o) * hi for xi, (o, _), hi in zip(x, combo, steps, strict=True)]
        values = f(*shifted)
        f_max = np.maximum(f_max, np.abs(values))
        total = total + weight * values
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
    grid = np.broadcast_shapes(*(np.shape(xi) for xi in x))
    values = np.asarray(at, dtype=float).reshape(-1, *grid)
    inexact = np.zeros(values.shape, dtype=bool)
    names = [v.name for v in f.variables]
    for flat in range(min(math.prod(grid), _MAX_EXACT)):
        index: tuple[int, ...] = tuple(int(i) for i in np.unravel_index(flat, grid))
        centre = {
            n: float(np.broadcast_to(xi, grid)[index]) for n, xi in zip(names, x, strict=True)
        }
        try:
            exact = np.asarray(f.at(centre, dps=15), dtype=object).reshape(-1)
        except SymgradError:
            continue
        for k, want in enumerate(exact):
            got = values[(k, *index)]
            if math.isfinite(got):  # inf and NaN are overflow, pole or domain
                floor = max(_F64_RESOLUTION * abs(want), 2.0**-1022)
                inexact[(k, *index)] = abs(got - want) > floor
    return inexact.reshape(np.shape(at))


def _im_step(f: Compiled, x: list[Any], axis: int, h: float) -> Any:
    """Im f(x + i h e_axis)/h, vectorized (h may be negative: the other side of the axis)."""
    shifted = [xi + (1j * h if j == axis else 0) for j, xi in enumerate(x)]
    return f.complex_call(*shifted).imag / h


def _complex_mp(
    f: Compiled,
    x0: Sequence[sympy.Rational],
    partials: Sequence[tuple[int, ...]],
    scheme: str | Stencil,
    step: Any,
    dps: int,
) -> tuple[FDResult, ...]:
    """High-precision complex step, certified; the stencil where it cannot be certified.

    f is first evaluated at the point itself, where it must be real: a point outside the real
    domain (log at -1) would otherwise give a large, meaningless imaginary part.  A derivative
    along a variable that f does not contain is exactly zero.
    """
    work = dps + _GUARD + 3
    probe = _probe(f, x0, work, relative=True)
    try:
        probe.at(probe.args)
    except _PointProblem as problem:
        failed = _failed(f, problem, "mp-complex", "complex", work, 1)
        return tuple(failed for _ in partials)
    results = []
    for counts in partials:
        axis = list(counts).index(1)
        if axis not in _used_axes(f):
            results.append(_exact_zero(f, dps))
            continue
        try:
            found = (
                complex_step(f, x0, axis, dps)
                if step is None
                else complex_given_step(f, x0, axis, step, dps)
            )
        except _PointProblem as problem:
            if step is not None:
                results.append(_failed(f, problem, "mp-complex", "complex", work, 1))
                continue
            found = _Complex(None, [], 0, work, 1, f"the complex extension fails: {problem}")
        if found.value is not None:
            results.append(complex_result(f, found, dps))
            continue
        fallback = _mp_all(f, x0, [counts], (scheme, None, dps, True))[0]
        reason = f"{found.reason}, so the stencil decides: {fallback.reason}"
        results.append(replace(fallback, reason=reason))
    return tuple(results)


def _mp_all(
    f: Compiled,
    x0: Sequence[sympy.Rational],
    partials: Sequence[tuple[int, ...]],
    options: tuple[str | Stencil, Any, int, bool],
    *,
    suspect: bool | None = None,
) -> tuple[FDResult, ...]:
    """The guard-digit stencil for every partial (``options``: scheme, step, dps, control).

    f at the point itself comes first: a pole or domain edge there is classified, not
    differenced, and the digits its formula cancels there are measured (``digits_lost``).
    """
    scheme, _, dps, _ = options
    try:
        extra = digits_lost(f, x0, dps)
    except _PointProblem as problem:
        terms = _Terms.build(tuple(stencils_for(scheme, partials[0])))
        failed = _failed(f, problem, "mp", terms.scheme, dps + _GUARD, 1)
        return tuple(failed for _ in partials)
    suspect = kink_suspect(f, x0) if suspect is None else suspect
    return tuple(_mp_partial(f, x0, c, options, extra, suspect=suspect) for c in partials)


def _exact_zero(f: Compiled, dps: int) -> FDResult:
    """The derivative along a variable f does not contain: exactly zero."""
    zero = np.full(f.shape, thread_context(dps).zero, dtype=object)
    why = "f does not depend on this variable"
    return FDResult(zero, zero.copy(), 0, PointStatus.OK, why, "mp-complex", "complex", dps, 0)


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
