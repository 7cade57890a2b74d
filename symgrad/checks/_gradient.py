"""Check someone's derivative code: against the exact symbolic one, or by the Taylor test.

:func:`check_gradient` compares a user's gradient, Jacobian or Hessian (plain NumPy code, or
expressions typed as text) with the exact symbolic one at many points.  Its threshold knows what
float64 can attain: ``|user − exact| <= rtol·|exact| + floor``, where the floor is a multiple of
symgrad's *own* float64 error for that entry at that point (measured against the exact value,
correct to 20 digits, and as the spread of its float64 values at the neighbouring floats, which
is the rounding noise of the formula), plus a few ulps of the norm of all entries there.  Correct code
that suffers cancellation therefore passes, while a 1e-4 relative error in one entry fails
wherever float64 is accurate to better than about 1e-6, which is almost everywhere.

:func:`taylor_test` needs no expression: for a correct gradient the remainder
``r(h) = |f(x0 + h v) − f(x0) − h ∇f(x0)·v|`` falls as h², for a wrong one as h.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import sympy

from symgrad.checks._point import labels, settled
from symgrad.checks._results import TOLERANCES, json_float
from symgrad.derive import Compiled, function, gradient, hessian, jacobian
from symgrad.errors import ConfigError, InputError
from symgrad.expr import Source, VariablesSpec, parse_number
from symgrad.results import Status, TableResult

__all__ = ["EntryCheck", "GradientCheckResult", "check_gradient"]

_EPS = float(np.finfo(np.float64).eps)
_CALLS = ("auto", "unpacked", "packed")
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class EntryCheck:
    """One entry of the derivative over all points: its largest relative error and verdict."""

    entry: str
    max_rel_error: float
    status: Status


@dataclass(frozen=True)
class GradientCheckResult(TableResult):
    """What :func:`check_gradient` returns.

    ``worst`` is ``{"entry", "point": {var: float}, "user", "exact", "rel_error"}``: the entry
    and point furthest past the threshold when the check fails, else those with the largest
    relative error (None when no point was compared).  ``n_points`` counts the compared points,
    ``skipped`` the others; ``points`` holds the compared ones, shape (n_points, n_variables).
    """

    status: Status
    reason: str
    kind: str
    n_points: int
    skipped: int
    rtol: float
    worst: dict[str, Any] | None
    entries: tuple[EntryCheck, ...]
    points: FloatArray = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data; floats as JSON numbers, NaN and infinities as null."""
        worst = None
        if self.worst is not None:
            worst = {k: _jsonable(v) for k, v in self.worst.items()}
        return {
            "status": str(self.status),
            "reason": self.reason,
            "kind": self.kind,
            "n_points": self.n_points,
            "skipped": self.skipped,
            "rtol": self.rtol,
            "worst": worst,
            "entries": [
                {
                    "entry": e.entry,
                    "max_rel_error": json_float(e.max_rel_error),
                    "status": str(e.status),
                }
                for e in self.entries
            ],
        }

    def _title(self) -> str:
        counts = f"{self.n_points} points compared, {self.skipped} skipped, rtol {self.rtol:g}"
        return f"check_gradient of a user's {self.kind}: {counts}"

    def _table(self) -> tuple[list[str], list[list[str]]]:
        rows = [[e.entry, f"{e.max_rel_error:.3g}", str(e.status)] for e in self.entries]
        return ["entry", "max rel error", "status"], rows


def check_gradient(
    user_fn: Callable[..., Any] | Sequence[Any],
    expr: Source | Sequence[Source],
    *,
    points: Any = None,
    n_points: int = 200,
    kind: str = "gradient",
    domain: Any = None,
    seed: int = 0,
    rtol: float | None = None,
    variables: VariablesSpec = None,
    call: str = "auto",
) -> GradientCheckResult:
    """Check a user's gradient, Jacobian or Hessian against the exact symbolic one.

    Parameters
    ----------
    user_fn : callable or list of str
        The code under test.  Called as ``user_fn(x, y, ...)`` ("unpacked", vectorized over
        arrays or one point at a time) or ``user_fn(p)`` with ``p.shape == (n,)`` ("packed"),
        returning the derivative shaped like symgrad's: ``(n,)``, ``(m, n)`` or ``(n, n)``
        (vectorized: that shape followed by the points' axis, or preceded by it).  A list of
        expressions (``["2*x*y", "x**2"]``; nested for Hessians and Jacobians) is parsed
        safely and compiled instead.
    expr : str, sympy.Expr or list of them
        The function whose derivative the user computes (a list for ``kind="jacobian"``).
    points : array_like or mapping, optional
        Points of shape (N, n) or ``{name: array}``; by default ``n_points`` random points.
    n_points : int
        How many random points to draw from ``np.random.default_rng(seed)``.
    kind : {"gradient", "jacobian", "hessian"}
        What ``user_fn`` computes (``expr`` is then a list for "jacobian").
    domain : mapping, str or (low, high), optional
        Where to draw: ``{"x": (-1, 1)}``, ``"x=-1:1, y=0:2"`` or one pair for every variable;
        by default each variable in [-2, 2].
    seed : int
        Seed of the random points.
    rtol : float, optional
        Relative tolerance (default ``TOLERANCES.gradient_rtol`` = 1e-8); float64's attainable
        accuracy at each point is added as a floor (see the module docstring).
    variables : str or sequence, optional
        Variable order (the order of ``user_fn``'s arguments); by default sorted by name.
    call : {"auto", "unpacked", "packed"}
        How to call ``user_fn``; "auto" tries unpacked and vectorized first.

    Returns
    -------
    GradientCheckResult
        pass or fail (inconclusive when no point has a finite exact derivative); the reason names
        the worst entry and point.  Points where the exact derivative, or symgrad's own float64
        value, is not finite are skipped and counted.

    Examples
    --------
    >>> import numpy as np
    >>> check_gradient(lambda x, y: np.array([2 * x * y, x**2]), "x**2 * y").status.value
    'pass'
    >>> check_gradient(["2*x*y", "-x**2"], "x**2 * y").reason  # doctest: +ELLIPSIS
    'd/dy is wrong at (...): got ..., exact ... (relative error 2.0)...'

    Inside a pytest suite, ``raise_if_failed()`` turns a failure into an ``AssertionError``
    (:class:`symgrad.CheckFailed`) whose message names the entry and the point:

    >>> check_gradient(["2*x*y", "-x**2"], "x**2 * y").raise_if_failed()
    Traceback (most recent call last):
    ...
    symgrad.errors.CheckFailed: fail: d/dy is wrong at ...
    """
    rtol = _validate(n_points, kind, rtol, call)
    exact = _exact_function(expr, kind, variables)
    sample = _sample(points, n_points, domain, seed, [s.name for s in exact.variables])
    values = _exact_values(exact, sample)
    own = exact(*sample.T).reshape(values.shape)
    keep = np.isfinite(values).all(axis=0) & np.isfinite(own).all(axis=0)
    kept, skipped = sample[keep], int((~keep).sum())
    if not keep.any():
        reason = f"no point had a finite exact {kind} ({skipped} skipped)"
        none = tuple(EntryCheck(e, np.nan, Status.INCONCLUSIVE) for e in labels(exact, kind))
        return GradientCheckResult(
            Status.INCONCLUSIVE, reason, kind, 0, skipped, rtol, None, none, kept
        )
    user = _user_values(user_fn, exact, kept, call)
    floor = _floor(exact, kept, values[:, keep], own[:, keep])
    return _verdict(exact, kind, kept, (user, values[:, keep], floor), rtol, skipped)


def _validate(n_points: object, kind: object, rtol: object, call: object) -> float:
    """Check the options of :func:`check_gradient`; return the relative tolerance to use."""
    if kind not in ("gradient", "jacobian", "hessian"):
        msg = f"kind must be 'gradient', 'jacobian' or 'hessian' (got {kind!r})"
        raise ConfigError(msg)
    if call not in _CALLS:
        msg = f"call must be one of {', '.join(_CALLS)} (got {call!r})"
        raise ConfigError(msg)
    if isinstance(n_points, bool) or not isinstance(n_points, int) or n_points < 1:
        msg = f"n_points must be a positive integer (got {n_points!r})"
        raise ConfigError(msg)
    if rtol is None:
        return TOLERANCES.gradient_rtol
    if isinstance(rtol, bool) or not isinstance(rtol, int | float) or not 0 <= rtol < np.inf:
        msg = f"rtol must be a finite number >= 0, e.g. 1e-8 (got {rtol!r})"
        raise ConfigError(msg)
    return float(rtol)


def _exact_function(expr: Any, kind: str, variables: VariablesSpec) -> Compiled:
    if kind == "jacobian":
        return jacobian([expr] if isinstance(expr, str | sympy.Expr) else list(expr), variables)
    return (gradient if kind == "gradient" else hessian)(expr, variables)


def _sample(points: Any, n_points: int, domain: Any, seed: int, names: list[str]) -> FloatArray:
    """The points as an (N, n) float64 array: given, or drawn uniformly from ``domain``."""
    n = len(names)
    if points is None:
        low, high = np.array(_bounds(domain, names)).T
        return np.random.default_rng(seed).uniform(low, high, size=(n_points, n))
    try:
        if isinstance(points, Mapping):
            columns = [np.asarray(points[x], dtype=np.float64).ravel() for x in names]
            return np.column_stack(np.broadcast_arrays(*columns))
        array = np.asarray(points, dtype=np.float64)
    except (KeyError, ValueError, TypeError) as exc:
        msg = f"points must be numbers of shape (N, {n}) or a mapping of {names} to arrays ({exc})"
        raise InputError(msg) from exc
    array = array.reshape(-1, 1) if n == 1 and array.ndim <= 1 else array
    array = array.reshape(1, n) if array.ndim == 1 and array.size == n else array
    if array.ndim != 2 or array.shape[1] != n:
        msg = f"points must have shape (N, {n}) for the variables {names} (got {array.shape})"
        raise InputError(msg)
    return array


def _bounds(domain: Any, names: list[str]) -> list[tuple[float, float]]:
    """(low, high) per variable from None, a pair, a mapping or text such as 'x=-1:1, y=0:2'."""
    if domain is None:
        return [(-2.0, 2.0)] * len(names)
    if isinstance(domain, str):
        items = [item.partition("=") for item in domain.split(",") if item.strip()]
        domain = {name.strip(): tuple(text.split(":")) for name, _, text in items}
    if not isinstance(domain, Mapping):
        domain = dict.fromkeys(names, domain)
    unknown = sorted(set(map(str, domain)) - set(names))
    if unknown:
        msg = f"domain names {unknown}, which are not among the variables {names}"
        raise ConfigError(msg)
    bounds = {str(k): _pair(k, v) for k, v in domain.items()}
    return [bounds.get(x, (-2.0, 2.0)) for x in names]


def _pair(name: object, value: Any) -> tuple[float, float]:
    try:
        low, high = (float(parse_number(v.strip()) if isinstance(v, str) else v) for v in value)
    except (ValueError, TypeError) as exc:
        msg = f"domain of {name} must be (low, high) or 'low:high' (got {value!r})"
        raise ConfigError(msg) from exc
    if not low < high or not np.isfinite([low, high]).all():
        msg = f"domain of {name} must have finite low < high (got {low}, {high})"
        raise ConfigError(msg)
    return low, high


def _exact_values(exact: Compiled, sample: FloatArray) -> FloatArray:
    """The exact derivative at every point rounded to float64, shape (entries, N).

    NaN where it is not a real number or raises; inf beyond float64's range.  The float
    coordinates are taken at their exact binary values.
    """
    out = np.full((len(exact.components), len(sample)), np.nan)
    for i, row in enumerate(sample):
        try:
            values = settled(exact, [float(x) for x in row], TOLERANCES.exact_dps)
        except (ArithmeticError, ValueError, TypeError):
            continue
        out[:, i] = [np.nan if hasattr(v, "_mpc_") and v.imag else float(v.real) for v in values]
    return out


def _floor(exact: Compiled, kept: FloatArray, values: FloatArray, own: FloatArray) -> FloatArray:
    """What float64 can attain per entry and point (see the module docstring).

    symgrad's own error |own − exact| is one sample of the formula's rounding noise and may be
    small by luck; its values at the neighbouring floats (all coordinates one ulp up, and down)
    are two more samples, and also carry the condition of the derivative on its inputs.
    """
    shape = own.shape
    up = exact(*np.nextafter(kept, np.inf).T).reshape(shape)
    down = exact(*np.nextafter(kept, -np.inf).T).reshape(shape)
    spread = np.stack([np.abs(own - values), np.abs(up - own), np.abs(down - own)])
    noise = np.where(np.isfinite(spread), spread, 0.0).max(axis=0)
    norm = np.sqrt((values**2).sum(axis=0))
    floor: FloatArray = TOLERANCES.noise_multiple * noise + TOLERANCES.norm_ulps * _EPS * norm
    return floor


def _user_values(user_fn: Any, exact: Compiled, kept: FloatArray, call: str) -> FloatArray:
    """The user's derivative at every point, shape (entries, N)."""
    shape, size = exact.shape, len(exact.components)
    if not callable(user_fn):
        flat = _flatten(user_fn)
        if len(flat) != size or not all(isinstance(e, str | sympy.Expr) for e in flat):
            msg = f"user_fn must be callable or a list of {size} expressions shaped {shape}"
            raise InputError(msg)
        return function(flat, exact.variables)(*kept.T).reshape(size, len(kept))
    attempts = {
        "auto": (_vectorized, _one_by_one, _packed),
        "unpacked": (_vectorized, _one_by_one),
        "packed": (_packed,),
    }[call]
    problems = []
    for attempt in attempts:
        try:
            with np.errstate(all="ignore"):
                return attempt(user_fn, kept, shape)
        except Exception as exc:  # noqa: BLE001 - any failure of user code means "try the next way"
            problems.append(f"{attempt.__doc__} raised {type(exc).__name__}: {exc}")
    msg = f"could not call user_fn (expected a result of shape {shape}): " + "; ".join(problems)
    raise InputError(msg)


def _vectorized(user_fn: Any, kept: FloatArray, shape: tuple[int, ...]) -> FloatArray:
    """user_fn(x, y, ...) on arrays"""
    values = _as_values(user_fn(*kept.T), shape, len(kept))
    # a function that mixes points (np.linalg.norm of all x, say) has the right shape but wrong
    # values: compare one point with a call on that point alone, when such a call works
    try:
        first = _as_values(user_fn(*(float(v) for v in kept[0])), shape, 1)
    except Exception:  # noqa: BLE001 - code written for arrays only: nothing to compare
        return values
    if not np.allclose(values[:, :1], first, rtol=1e-12, atol=0.0, equal_nan=True):
        msg = "the vectorized call disagrees with a call on the first point alone"
        raise ValueError(msg)
    return values


def _one_by_one(user_fn: Any, kept: FloatArray, shape: tuple[int, ...]) -> FloatArray:
    """user_fn(x, y, ...) point by point"""
    return np.hstack([_as_values(user_fn(*(float(v) for v in row)), shape, 1) for row in kept])


def _packed(user_fn: Any, kept: FloatArray, shape: tuple[int, ...]) -> FloatArray:
    """user_fn(p) point by point"""
    return np.hstack([_as_values(user_fn(row.copy()), shape, 1) for row in kept])


def _as_values(out: Any, shape: tuple[int, ...], n: int) -> FloatArray:
    """A user's result as (entries, n): ``(*shape, n)``, ``(n,) + shape``, or nested lists."""
    size = int(np.prod(shape))
    if isinstance(out, list | tuple) and len(flat := _flatten(out)) == size:
        out = np.stack([np.broadcast_to(np.asarray(v), (n,)) for v in flat])
    array = np.asarray(out)
    if array.dtype.kind not in "biuf":
        msg = f"user_fn returned {array.dtype} values; a real derivative is needed"
        raise InputError(msg)
    array = array.astype(np.float64)
    if array.shape in ((*shape, n), (size, n)):
        return array.reshape(size, n)
    if array.shape == (n, *shape):
        return np.moveaxis(array, 0, -1).reshape(size, n)
    if n == 1 and array.size == size:
        return array.reshape(size, 1)
    msg = f"user_fn returned shape {array.shape}; expected {(*shape, n)} or {(n, *shape)}"
    raise ValueError(msg)


def _flatten(nested: Any) -> list[Any]:
    if isinstance(nested, list | tuple):
        return [leaf for item in nested for leaf in _flatten(item)]
    return [nested]


def _verdict(
    exact: Compiled,
    kind: str,
    kept: FloatArray,
    arrays: tuple[FloatArray, FloatArray, FloatArray],
    rtol: float,
    skipped: int,
) -> GradientCheckResult:
    """Compare |user − exact| with rtol·|exact| + floor at every entry and point."""
    user, values, floor = arrays
    with np.errstate(all="ignore"):
        error = np.where(np.isnan(user), np.inf, np.abs(user - values))
        ratio = np.where(error == 0, 0.0, error / (rtol * np.abs(values) + floor))
        norm = np.sqrt((values**2).sum(axis=0))
        # relative to the entry, or to the norm of all entries where the entry is 0
        rel = np.where(error == 0, 0.0, error / np.where(values != 0, np.abs(values), norm))
    failed, entries = ratio > 1, labels(exact, kind)
    # the worst entry: furthest past its threshold when something fails, else the largest error
    k, i = np.unravel_index(int(np.argmax(ratio if failed.any() else rel)), rel.shape)
    point = dict(zip([s.name for s in exact.variables], kept[i].tolist(), strict=True))
    worst = {"entry": entries[k], "point": point, "user": float(user[k, i])}
    worst |= {"exact": float(values[k, i]), "rel_error": float(rel[k, i])}
    checks = tuple(
        EntryCheck(e, float(rel[j].max()), Status.FAIL if failed[j].any() else Status.PASS)
        for j, e in enumerate(entries)
    )
    reason = _reason(worst, int(failed.any(axis=0).sum()), len(kept), len(entries), kind)
    if skipped:
        reason += f"; {skipped} points skipped where the exact {kind} is not finite in float64"
    status = Status.FAIL if failed.any() else Status.PASS
    return GradientCheckResult(status, reason, kind, len(kept), skipped, rtol, worst, checks, kept)


def _reason(worst: dict[str, Any], failing: int, n: int, entries: int, kind: str) -> str:
    """'d/dy is wrong at (0.3, -1.2): got -0.0900, exact 0.0900 (...)', or the pass sentence."""
    where = ", ".join(f"{v:.6g}" for v in worst["point"].values())
    rel = worst["rel_error"]
    if not failing:
        return (
            f"all {entries} entries agree with the exact {kind} at {n} points (largest relative "
            f"error {_rel(rel)}, in {worst['entry']} at ({where}))"
        )
    # enough digits to show the two values differ
    digits = min(17, max(3, 2 + math.ceil(-math.log10(rel)))) if 0 < rel < 1 else 3
    got, want = (f"{worst[key]:#.{digits}g}" for key in ("user", "exact"))
    return (
        f"{worst['entry']} is wrong at ({where}): got {got}, exact {want} (relative error "
        f"{_rel(rel)}); {failing} of {n} points fail"
    )


def _rel(value: float) -> str:
    """2.0, 0.50, 1.0e-04: two digits, in exponent form when small."""
    if not value:
        return "0"
    return f"{value:#.2g}" if value >= 1e-2 else f"{value:.1e}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return json_float(value) if isinstance(value, float) else value
