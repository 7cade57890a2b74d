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
    real axis and the measured noise of the quotient as its estimate.  An imaginary part can
    underflow or go subnormal inside f, and an inner sum can round the point, without any
    noise to see, so every finite value is also confirmed by the certified ``mp-complex``
    step at the same binary point (the first 1,000 points; values beyond them are
    ``unreliable``): see :mod:`symgrad.fd._float64`.

**Engines.**  With python-flint installed, ``engine="auto"`` (the default) computes each
single-variable partial of ``mp`` and ``auto`` on arb balls instead, with a certified bound
(ball radius plus a Lagrange remainder: :mod:`symgrad.fd._arb`), and falls back to the mpmath
engines above, saying why, where it cannot certify; ``engine="mpmath"`` forces them.

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
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import replace
from typing import Any, cast

import numpy as np
import sympy

from symgrad._precision import check_dps, thread_context
from symgrad.derive import ENGINES, Compiled, arb_available, function
from symgrad.errors import ConfigError, MissingExtra
from symgrad.expr import Source, VariablesSpec, parse_number, symbol
from symgrad.fd._arb import Declined, certified_partials
from symgrad.fd._deprecated import renamed_keyword
from symgrad.fd._engine import (
    _GUARD,
    AtPoint,
    FDResult,
    _Complex,
    _failed,
    _mp,
    _PointProblem,
    _Terms,
    complex_given_step,
    complex_result,
    complex_step,
    digits_lost,
    from_sides,
    nonsmooth_result,
    one_sided,
    point_key,
)
from symgrad.fd._float64 import (
    _complex_axis,
    _complex_float64,
    _float64,
    _used_axes,
    is_real_analytic,
)
from symgrad.fd._memo import remembered
from symgrad.fd._stencils import Stencil, stencils_for
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
_DEFAULT_SCHEME = "central:2"


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
    if len(single) == len(partials) and not [r for r in done if isinstance(r, Declined)]:
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
    method_asked = method
    if method == "auto":  # the fastest way to all the digits asked (benchmarks/bench_mpfd.py)
        first_order = all(sum(c) == 1 for c in partials)
        analytic = is_real_analytic(f) and not kink_suspect(f, x0)
        plain = step is None and scheme == _DEFAULT_SCHEME  # no stencil or step asked for
        method = "mp-complex" if first_order and analytic and plain else "mp"
    if method == "mp-complex":
        if method_asked == "mp-complex":  # auto chose it for first, real-analytic partials
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


_FLAGS = (bool, np.bool_)  # the types a flag may have (a tuple: no union made per call)


def _check_flag(name: str, value: object) -> None:
    if not isinstance(value, _FLAGS):
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

    return remembered(_KINKS_AT, f, suspect, key=(id(f), point_key(x0)))


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


# -- float64 and complex step -----------------------------------------------------------------


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
    at = AtPoint(f, x0)  # one cache key and one probe lookup per precision for every partial
    probe = at.probe(work)
    try:
        probe.at(probe.args)
    except _PointProblem as problem:
        failed = _failed(f, problem, "mp-complex", "complex", work, 1)
        return tuple(failed for _ in partials)
    results = []
    used = _used_axes(f)
    for counts in partials:
        axis = list(counts).index(1)
        if axis not in used:
            results.append(_exact_zero(f, dps))
            continue
        try:
            found = (
                complex_step(f, x0, axis, dps, at)
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
