"""Finite-difference partial derivatives: the independent referee of the symbolic derivative.

Three methods, one entry point (:func:`finite_difference`):

``mp`` (default)
    The stencil is applied to the compiled mpmath function in a private context at a working
    precision with guard digits, with a Richardson pair h, 2h for an a-posteriori error
    estimate and step refinement until the requested digits are reached (the engine and its
    mathematics are in :mod:`symgrad.fd._engine`).
``float64``
    What the user's own float64 code sees, vectorized over many points; the default step
    h = ε^(1/(p+m))·max(1, |x|) balances truncation against round-off, and the representable
    step (x + h) − x is used.
``complex``
    The complex step Im f(x + ih)/h (first derivatives of real-analytic expressions only):
    no subtraction, so no cancellation, in float64 (h = 1e-200) or at high precision.

Mixed partials use tensor products of one-dimensional stencils.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
import sympy

from symgrad._precision import check_dps, round_to, thread_context
from symgrad.derive import Compiled, as_float_array, function
from symgrad.errors import ConfigError
from symgrad.expr import Source, VariablesSpec, symbol
from symgrad.fd._engine import (
    _GUARD,
    FDResult,
    _failed,
    _mp,
    _mp_number,
    _PointProblem,
    _probe,
    _shaped,
    _Terms,
)
from symgrad.fd._stencils import Stencil

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
_NON_ANALYTIC = (sympy.Abs, sympy.sign, sympy.Min, sympy.Max, sympy.Heaviside, sympy.atan2)
_EPS = float(np.finfo(np.float64).eps)
_COMPLEX_STEP = 1e-200


def finite_difference(
    expr: Source | Compiled,
    point: str | Mapping[str | sympy.Symbol, Any],
    wrt: str | Sequence[str | int] | None = None,
    *,
    scheme: str | Stencil = "central:2",
    method: str = "mp",
    step: Any = None,
    dps: int = 50,
    error_control: bool = True,
    variables: VariablesSpec = None,
) -> FDResult:
    """Estimate a partial derivative of ``expr`` at ``point`` by finite differences.

    Parameters
    ----------
    expr : str, sympy.Expr or Compiled
        The function (a :func:`symgrad.function` object is reused as is; a vector function
        gives the partial of every component at once).
    point : str or mapping
        ``"x=0.3, y=0.7"`` (exact decimals) for ``mp`` and ``mp-complex``; for ``float64`` and
        ``complex`` a mapping whose values may be arrays that broadcast together.
    wrt : str or sequence, optional
        ``"x"``, ``"x y"`` (∂²/∂x∂y) or ``("x", 2)``; may be omitted for one variable.
    scheme : str or Stencil
        ``"central:P"``, ``"forward:P"``, ``"backward:P"`` (accuracy P; the derivative order
        comes from ``wrt``) or a :class:`Stencil` for a single partial.
    method : {"mp", "float64", "complex", "mp-complex", "auto"}
        Guard-digit stencil at high precision; float64 stencil; float64 complex step;
        high-precision complex step; ``auto``: ``mp-complex`` for first derivatives of
        real-analytic expressions without a given step, else ``mp``.
    step : float, str or None
        The step h; None chooses one (see the module docstring).  A given step is honoured
        as an absolute step, and ``mp`` then returns the plain stencil value D(h).
    dps : int
        Digits requested for ``mp`` and ``mp-complex``.
    error_control : bool
        ``mp`` only: estimate the error from a second step 2h and refine h until the digits
        are reached (default).  False uses one step with a wider a-priori margin: twice as
        fast, but the result then carries no error estimate (NaN).

    Examples
    --------
    >>> r = finite_difference("sin(x)*y", "x=1, y=2", "x", dps=30)
    >>> r.status
    'ok'
    >>> print(r.value[()])
    1.08060461173627943480187321489
    """
    f = expr if isinstance(expr, Compiled) else function(expr, variables)
    counts = order_of(wrt, f.variables)
    return _dispatch(f, point, [counts], scheme, method, step, dps, error_control)[0]


def finite_difference_gradient(
    expr: Source | Compiled,
    point: str | Mapping[str | sympy.Symbol, Any],
    *,
    scheme: str | Stencil = "central:2",
    method: str = "auto",
    step: Any = None,
    dps: int = 50,
    error_control: bool = True,
    variables: VariablesSpec = None,
) -> tuple[FDResult, ...]:
    """Every first partial derivative at ``point``: :func:`finite_difference` per variable.

    The point is parsed and f is checked at it once for all components.  The default method
    ``"auto"`` takes the fastest way to the requested digits: the high-precision complex step
    for real-analytic expressions (one complex evaluation per component), otherwise the
    guard-digit stencil with error control (``"mp"``).

    Examples
    --------
    >>> [r.status for r in finite_difference_gradient("x*y**2", "x=1, y=2", dps=20)]
    ['ok', 'ok']
    """
    f = expr if isinstance(expr, Compiled) else function(expr, variables)
    n = len(f.variables)
    partials = [tuple(int(i == j) for j in range(n)) for i in range(n)]
    return _dispatch(f, point, partials, scheme, method, step, dps, error_control)


def _dispatch(
    f: Compiled,
    point: Any,
    partials: Sequence[tuple[int, ...]],
    scheme: str | Stencil,
    method: str,
    step: Any,
    dps: int,
    error_control: bool,
) -> tuple[FDResult, ...]:
    """Validate the method once, then compute each partial (``counts`` per variable)."""
    if method not in METHODS:
        msg = f"method must be one of {', '.join(METHODS)} (got {method!r})"
        raise ConfigError(msg)
    if method == "auto":  # the fastest way to all the digits asked (benchmarks/bench_mpfd.py)
        first_order = all(sum(c) == 1 for c in partials)
        method = "mp-complex" if first_order and is_real_analytic(f) and step is None else "mp"
    if method == "complex":
        return tuple(_complex_float64(f, point, _complex_axis(f, c), step) for c in partials)
    if method == "mp-complex":
        dps = check_dps(dps)
        return _complex_mp(f, point, [_complex_axis(f, c) for c in partials], step, dps)
    if method == "float64":
        return tuple(_float64(f, point, c, stencils_for(scheme, c), step) for c in partials)
    dps = check_dps(dps)
    x0 = f.point_values(point)
    try:  # f at the point itself: a pole or domain edge there is classified, not differenced
        center = _probe(f, x0, dps + _GUARD, relative=True)
        center.at(center.args)
    except _PointProblem as problem:
        terms = _Terms.build(tuple(stencils_for(scheme, partials[0])))
        failed = _failed(f, problem, "mp", terms.scheme, dps + _GUARD, 1)
        return tuple(failed for _ in partials)
    return tuple(
        _mp(f, x0, _Terms.build(tuple(stencils_for(scheme, c))), step, dps, error_control)
        for c in partials
    )


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
    f: Compiled, point: Any, counts: Sequence[int], stencils: list[Stencil | None], step: Any
) -> FDResult:
    """Vectorized float64 stencil with the representable-step trick and an error estimate.

    The estimate adds twice the truncation error of D(h) estimated from D(2h) (as in the mp
    method) to the round-off bound ε·Σ|w|·max|f| / h^m.
    """
    x = _float_point(f, point)
    live = [s for s in stencils if s is not None]
    p, m = min(s.accuracy for s in live), sum(counts)
    base = _EPS ** (1 / (p + m)) if step is None else float(step)
    # relative steps, made exactly representable: (x + h) - x is the step the computer takes
    steps = [
        ((xi + base * np.maximum(1.0, np.abs(xi))) - xi) if step is None else np.full_like(xi, base)
        for xi in x
    ]
    fine, f_max = _stencil_f64(f, x, stencils, steps)
    coarse, _ = _stencil_f64(f, x, stencils, [2 * h for h in steps])
    weights = math.prod(sum(abs(float(w)) for w in s.weights) for s in live)
    h_m = math.prod(
        (h**s.derivative for s, h in zip(stencils, steps, strict=True) if s is not None),
        start=np.ones(()),
    )
    # twice the leading-order estimate: a bound even when the next term is not small
    est = 2 * np.abs(fine - coarse) / (2**p - 1) + _EPS * weights * f_max / h_m
    scheme = "+".join(f"{s.kind}:{s.accuracy}:d{s.derivative}" for s in live)
    used = steps[list(counts).index(next(c for c in counts if c))]
    return FDResult(
        fine, est, used, "ok", f"float64 {scheme}", "float64", scheme, 0, 2 * _points(live)
    )


def _stencil_f64(
    f: Compiled, x: list[Any], stencils: list[Stencil | None], steps: list[Any]
) -> tuple[Any, Any]:
    """The tensor-product stencil sum in float64, and the largest |f| it touched."""
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


_ANALYTIC: dict[int, tuple[Compiled, bool]] = {}


def is_real_analytic(f: Compiled) -> bool:
    """No abs, sign, min, max or atan2 in f (answered once per compiled function)."""
    known = _ANALYTIC.get(id(f))
    if known is None or known[0] is not f:
        if len(_ANALYTIC) > 256:
            _ANALYTIC.clear()
        known = _ANALYTIC[id(f)] = (f, not any(e.has(*_NON_ANALYTIC) for e in f.components))
    return known[1]


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


def _complex_float64(f: Compiled, point: Any, axis: int, step: Any) -> FDResult:
    """Im f(x + i h e_j)/h in float64, vectorized; h = 1e-200 by default."""
    x = _float_point(f, point)
    h = _COMPLEX_STEP if step is None else float(step)
    shifted = [xi + (1j * h if j == axis else 0) for j, xi in enumerate(x)]
    value = f.complex_call(*shifted).imag / h
    est = np.abs(value) * _EPS
    return FDResult(value, est, h, "ok", f"complex step h = {h:.0e}", "complex", "complex", 0, 1)


def _complex_mp(
    f: Compiled, point: Any, axes: Sequence[int], step: Any, dps: int
) -> tuple[FDResult, ...]:
    """High-precision complex step Im f(x + ih)/h: no cancellation, so few guard digits.

    f is first evaluated at the point itself, where it must be real: a point outside the real
    domain (log at -1) would otherwise give a large, meaningless imaginary part.
    """
    x0 = f.point_values(point)
    work = dps + _GUARD + 3
    probe = _probe(f, x0, work, relative=True)
    ctx, fn = probe.ctx, probe.fn
    h = ctx.mpf(10) ** -(dps + _GUARD) if step is None else _mp_number(ctx, step)
    try:
        probe.at(probe.args)
    except _PointProblem as problem:
        failed = _failed(f, problem, "mp-complex", "complex", work, 1)
        return tuple(failed for _ in axes)
    final, shift = thread_context(dps), ctx.mpc(0, h)
    rounding, truncation = ctx.mpf(10) ** -(dps + 2), h * h  # error model: one rounding + h^2
    results = []
    for axis in axes:
        args = list(probe.args)
        args[axis] = args[axis] + shift
        try:
            values = [ctx.im(v) / h for v in fn(*args)]
        except (ZeroDivisionError, ValueError, TypeError) as exc:
            trouble = _PointProblem(
                ctx, args, status="pole" if isinstance(exc, ZeroDivisionError) else "domain"
            )
            results.append(_failed(f, trouble, "mp-complex", "complex", work, 1))
            continue
        est = [abs(v) * rounding + truncation for v in values]
        results.append(
            FDResult(
                _shaped([round_to(final, v) for v in values], f.shape),
                _shaped([round_to(final, e) for e in est], f.shape),
                round_to(final, h),
                "ok",
                f"complex step at {work} digits",
                "mp-complex",
                "complex",
                work,
                1,
            )
        )
    return tuple(results)


def _float_point(f: Compiled, point: Any) -> list[npt.NDArray[np.float64]]:
    if isinstance(point, str):
        return [np.asarray(float(v)) for v in f.point_values(point)]
    given = {str(k): v for k, v in dict(point).items()}
    missing = [v.name for v in f.variables if v.name not in given]
    if missing:
        msg = f"the point gives no value for {missing}"
        raise ConfigError(msg)
    arrays = [as_float_array(given[v.name], v.name) for v in f.variables]
    return list(np.broadcast_arrays(*arrays))
