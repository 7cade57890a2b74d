"""Check someone's derivative code against the exact symbolic derivative.

:func:`check_gradient` compares a user's gradient, Jacobian or Hessian (plain NumPy code, or
expressions typed as text) with the exact symbolic one at many points.  Each entry at each point
is judged against what floating point can attain *for that entry*::

    |user − exact| <= rtol·|exact| + floor

The floor is computed per entry and point, never from the size of the other entries (so the
d/dy of ``1e16*x**2 + y**2`` is judged at the scale of ``2*y``).  It is κ times a first-order
running error bound of evaluating the entry in the user's arithmetic: walking the symbolic
derivative's expression tree, every rounded result r costs up to u·|r| (sums
(k − 1)·u·Σ|terms|, library functions and powers 2u·|r|) plus the subnormal spacing where r
underflows, an error e in an argument a moves f(a) by |f′(a)|·e, and sign or Heaviside can jump
where the error of their argument reaches 0.
To this the floor adds u times the sum of the absolute values of the chain-rule terms of the
entry (what code that sums those terms may cancel, e.g. an entry that SymPy simplified to 0),
twice symgrad's own measured float64 error, and the smallest subnormal of the user's format.
u is the unit roundoff of the *user's* values: float64, or float32 and float16 when the code
returns those (their inputs are then taken as rounded too).  Each entry is judged in its own
format: code that returns a list with a float32 d/dx and a float64 d/dy has d/dy held to float64's
accuracy (a float64 entry off by 1e-6 fails), and a Python number in such a list takes the
coarsest format beside it.

Where float arithmetic cannot resolve an entry (its floor exceeds ``resolve``·|exact|, 1e-3 by
default: the formula cancels, as that of ``(exp(x) - 1)/x`` does near 0), an agreement within the
floor decides nothing: the entry is *undecided* there, not passed.  It still fails beyond the
floor, and passes if the user is within rtol (accurate code needs no floor).  An entry undecided
at every point makes the verdict inconclusive; otherwise the undecided points are counted in
the reason.  Points where no entry has a finite exact value are skipped.

Where symgrad's own float64 formula leaves the range although the exact entry is finite
(exp(x)/(exp(x) + 1) at x = 800 is inf/inf; x/sqrt(x**2 + 1) at 1e155 divides by an overflowed
square), the walk above bounds nothing, yet the reference still holds: the exact value is
computed in arbitrary precision.  There the floor is the entry's conditioning,
κ·u·(|g| + Σ_j |x_j·∂g/∂x_j| + chain) plus the smallest subnormal: the error of any
backward-stable evaluation (its result rounded, each input moved by a rounding), with
x_j·∂g/∂x_j measured on exact values at x_j·(1 + 2u), and what summing the chain-rule terms
may cancel (``chain``, the sum of their absolute values as above, evaluated exactly: softmax
minus one, a cross-entropy gradient, cancels where exp overflows).  The user's value is judged
against the exact value with it, so a stable formula (softmax by log-sum-exp, hypot) passes
and a wrong value fails.  Code that evaluates an overflowing formula itself gets what float64
gives it: a value equal to symgrad's own float64 value, or none that is finite, cannot be told
from a wrong value there (0 for x/sqrt(x**2 + 1) at 1e155 is both what the formula gives and
wrong by 1): such a value is undecided and makes the verdict inconclusive (fail if another
value fails), never a pass.

Vectorized code is called as it will be used.  ``user_fn(x, y, ...)`` is first called on
arrays of points; when that gives other values than a call on the first point alone (code that
mixes points: a mean over the batch, a norm of all x, a shifted index), it is also called point
by point, and *both* sets of values are judged against the exact derivative.  A vectorized
value wrong beyond its floor fails the check, with a reason that starts "the vectorized call
is wrong" and says how the calls on one point fared: code that accepts arrays is called on
arrays, by its users and by optimizers alike, so a batching slip is a finding, not a reason
to fall back.  Vectorized values that differ but are within the attainable accuracy (another
order of summation, SIMD library functions) are not failed; the reason notes the difference.
"""

from __future__ import annotations

import functools
import importlib
import math
import operator
import pickle
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import accumulate
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import sympy

from symgrad._limits import check_count
from symgrad._parallel import check_executor, run_pieces
from symgrad._precision import EPS
from symgrad.checks._point import labels, limits_of, settled
from symgrad.checks._results import TOLERANCES, json_float
from symgrad.derive import Compiled, Limits, function, gradient, hessian, jacobian
from symgrad.errors import ConfigError, InputError, SymgradError
from symgrad.expr import Source, VariablesSpec, parse_domain, resolve
from symgrad.fd import renamed_keyword
from symgrad.results import Status, TableResult

__all__ = ["EntryCheck", "GradientCheckResult", "check_gradient"]

_DEFAULT_RANGE = (-2.0, 2.0)  # where each variable is drawn when the domain does not say
_CALLS = ("auto", "unpacked", "packed")
_CHUNK = 4096  # points × variables per walk of the error bounds
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
    relative error among the decided ones (when inconclusive: the undecided entry whose floor is
    largest; None when no point was compared).  ``n_points`` counts the compared points,
    ``skipped`` the others; ``points`` holds the compared ones, shape (n_points, n_variables).
    ``undecided`` counts the (entry, point) pairs that float arithmetic cannot resolve, and
    ``precision`` names the user's floating-point format (``"float64"``, ``"float32"``, ...).
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
    undecided: int = 0
    precision: str = "float64"

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
            "undecided": self.undecided,
            "precision": self.precision,
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
        if self.precision != "float64":
            counts += f", {self.precision} values"
        return f"check_gradient of a user's {self.kind}: {counts}"

    def _table(self) -> tuple[list[str], list[list[str]]]:
        rows = [[e.entry, f"{e.max_rel_error:.3g}", str(e.status)] for e in self.entries]
        return ["entry", "max rel error", "status"], rows


def check_gradient(
    user_fn: Callable[..., Any] | Sequence[Any],
    expr: Source | Sequence[Source],
    *,
    at: Any = None,
    n_points: int = 200,
    kind: str = "gradient",
    domain: Any = None,
    seed: int = 0,
    rtol: float | None = None,
    variables: VariablesSpec = None,
    call: str = "auto",
    limits: Limits | None = None,
    points: Any = None,
    executor: Executor | None = None,
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
    at : array_like or mapping, optional
        Points of shape (N, n) or ``{name: array}``; by default ``n_points`` random points.
    n_points : int
        How many random points to draw from ``np.random.default_rng(seed)``.  The points (given
        or drawn) are capped by ``limits.max_points`` and points × entries by
        ``limits.max_values``, both checked before any point is drawn or evaluated.
    kind : {"gradient", "jacobian", "hessian"}
        What ``user_fn`` computes (``expr`` is then a list for "jacobian").
    domain : mapping, str or (low, high), optional
        Where to draw: ``{"x": (-1, 1)}``, ``"x=-1:1, y=0:2"`` or one pair for every variable;
        by default each variable in [-2, 2].
    seed : int
        Seed of the random points.
    rtol : float, optional
        Relative tolerance (default ``TOLERANCES.gradient_rtol`` = 1e-8); the attainable
        accuracy of each entry at each point, in the precision of the values ``user_fn``
        returns, is added as a floor (see the module docstring).
    variables : str or sequence, optional
        Variable order (the order of ``user_fn``'s arguments); by default sorted by name.
    call : {"auto", "unpacked", "packed"}
        How to call ``user_fn``; "auto" tries unpacked and vectorized first.  A vectorized call
        whose values differ from calls on one point is judged too, and fails the check where
        it is wrong (module docstring).
    limits : symgrad.Limits, optional
        Caps on the work: ``max_points`` (default 100,000), ``max_values`` (points × entries,
        default 1,000,000) and ``max_work`` for differentiating and compiling.
    points : array_like or mapping, optional
        Deprecated name of ``at`` (a ``DeprecationWarning`` names the new one).
    executor : concurrent.futures.Executor, optional
        Runs the blocks of points (their exact values and the calls of ``user_fn``) on it: a
        ``ThreadPoolExecutor``, a ``ProcessPoolExecutor`` or a ``dask.distributed`` client's
        ``client.get_executor()``.  ``user_fn`` is called on blocks of points (at most 64 or
        1/64 of the points at a time) with or without an executor, so the result is identical
        to the serial run (``None``, the default), errors included.  An executor that sends
        work to other processes needs a picklable ``user_fn`` (a function defined at the top
        level of a module, not a lambda or a nested function): anything else is a
        ``ConfigError`` before any work.

    Returns
    -------
    GradientCheckResult
        fail when an entry is wrong beyond rtol and its floor at some point; pass when every
        entry agrees at every point where it can be resolved; inconclusive when an entry cannot
        be resolved at any point (or no point has a finite exact derivative).  The reason names
        the worst entry and point.

    Raises
    ------
    LimitExceeded
        More points, or points × entries, than ``limits`` allow (``limit="points"`` or
        ``"values"``), before anything is evaluated; or differentiating costs more than
        ``limits.max_work``.

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
    at = renamed_keyword("points", points, "at", at, None)
    pool = check_executor(executor)
    rtol, limits = _validate(n_points, kind, rtol, call), limits_of(limits)
    _require_picklable(user_fn, pool)
    if at is None:
        _cap(n_points, 1, limits)  # before anything is parsed; the entries are counted next
    many = kind == "jacobian" and not isinstance(expr, str | sympy.Expr)
    parsed, names = resolve(list(expr) if many else expr, variables)
    entries = len(names) * (len(parsed) if kind == "jacobian" else 1)
    entries *= len(names) if kind == "hessian" else 1
    sample = _sample(at, n_points, domain, seed, [x.name for x in names], _Counts(entries, limits))
    target = _Target.make(parsed, names, kind, limits)
    exact = target.exact
    code = _code(user_fn, exact, limits)
    own = np.asarray(exact(*sample.T), dtype=np.float64).reshape(len(exact.components), -1)
    pieces = [(exact, code, call, sample[b]) for b in _blocks(len(sample))]
    blocks = run_pieces(pool, _block, pieces)
    values = np.concatenate([b.values for b in blocks], axis=1)
    finite = np.isfinite(values)  # entries with an exact value to compare with
    keep = finite.any(axis=0)
    kept, skipped = sample[keep], int((~keep).sum())
    if not keep.any():
        reason = f"no point had a finite exact {kind} ({skipped} skipped)"
        none = tuple(EntryCheck(e, np.nan, Status.INCONCLUSIVE) for e in labels(exact, kind))
        return GradientCheckResult(
            Status.INCONCLUSIVE, reason, kind, 0, skipped, rtol, None, none, kept
        )
    user = np.concatenate([b.user for b in blocks], axis=1)
    formats = tuple(
        _Arithmetic.of(_coarsest_of(b.dtypes[k] for b in blocks)) for k in range(len(values))
    )
    floors = target.floors(kept, values[:, keep], own[:, keep], formats, pool)
    ref = _Reference(values[:, keep], own[:, keep], floors, tuple(formats), finite[:, keep])
    result = _verdict(exact, kind, kept, _Judged.make(user, ref, rtol), rtol, skipped)
    if all(b.batched is None for b in blocks):
        return result
    batched = np.concatenate([b.user if b.batched is None else b.batched for b in blocks], axis=1)
    on_arrays = _Judged.make(batched, ref, rtol)
    return _with_arrays(result, _verdict(exact, kind, kept, on_arrays, rtol, skipped))


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


# -- the derivative, and the expressions whose chain rule gives each entry ----------------------


@dataclass(frozen=True)
class _Target:
    """The exact derivative, and for each entry the function it differentiates and along what.

    Entry k is ∂ ``sources[k][0]`` / ∂ variable ``sources[k][1]``: f for a gradient, row r for
    a Jacobian, the i-th first derivative for the Hessian entry (i, j).
    """

    exact: Compiled
    sources: tuple[tuple[sympy.Expr, int], ...]

    @classmethod
    def make(
        cls, parsed: Sequence[sympy.Expr], names: Sequence[sympy.Symbol], kind: str, limits: Limits
    ) -> _Target:
        """Differentiate (priced by derive against ``limits.max_work``) the parsed expressions."""
        n = len(names)
        if kind == "jacobian":
            exact = jacobian(list(parsed), names, limits=limits)
            sources = [(row, j) for row in parsed for j in range(n)]
        elif kind == "hessian":
            exact = hessian(parsed[0], names, limits=limits)
            firsts = gradient(parsed[0], names, limits=limits).components
            sources = [(firsts[i], j) for i in range(n) for j in range(n)]
        else:
            exact = gradient(parsed[0], names, limits=limits)
            sources = [(parsed[0], j) for j in range(n)]
        return cls(exact, tuple(sources))

    def floors(
        self,
        kept: FloatArray,
        values: FloatArray,
        own: FloatArray,
        formats: Sequence[_Arithmetic],
        pool: Executor | None = None,
    ) -> _Floors:
        """:meth:`floor` of each entry in its own format (one walk per distinct format)."""
        distinct = {a.name: a for a in formats}
        found = {name: self.floor(kept, values, own, a, pool) for name, a in distinct.items()}
        rows = [[part[k] for part in found[a.name]] for k, a in enumerate(formats)]
        return _Floors(*(np.stack(column) for column in zip(*rows, strict=True)))

    def floor(
        self,
        kept: FloatArray,
        values: FloatArray,
        own: FloatArray,
        arith: _Arithmetic,
        pool: Executor | None = None,
    ) -> _Floors:
        """What ``arith`` can attain per entry and point (module docstring), and the scale.

        The scale that the floor is compared with is |exact|, or where the exact entry is 0 the
        size of its chain-rule terms (there the entry cancels to 0 and has no size of its own).
        Where symgrad's own float64 formula leaves the range (``lost``) the floor is the
        entry's conditioning instead (:meth:`conditioned`), and the scale |exact|.
        """
        # each node keeps a (variables × points) array of chain-rule sizes: fewer points per
        # walk when there are many variables
        chunk = max(64, _CHUNK // max(1, len(self.exact.variables)))
        parts = [self._bounds(kept[i : i + chunk], arith) for i in range(0, len(kept), chunk)]
        rounding, chain, blind = (np.concatenate(p, axis=1) for p in zip(*parts, strict=True))
        with np.errstate(all="ignore"):
            floor = TOLERANCES.floor_safety * (rounding + arith.u * chain)
            floor = floor + 2 * np.abs(own - values) + arith.tiny
        floor = np.where(np.isnan(floor), np.inf, floor)
        scale = np.where(values != 0, np.abs(values), chain)
        # float64's range ran out on the way (in symgrad's formula or in the bound of it)
        lost = ~np.isfinite(floor) & np.isfinite(values) & ~blind
        if lost.any():
            floor = np.where(lost, self.conditioned(kept, values, lost, arith, pool), floor)
            scale = np.where(lost, np.maximum(np.abs(values), floor), scale)
        return _Floors(floor, np.where(np.isnan(scale), 0.0, scale), lost)

    def conditioned(
        self,
        kept: FloatArray,
        values: FloatArray,
        lost: Any,
        arith: _Arithmetic,
        pool: Executor | None = None,
    ) -> FloatArray:
        """κ·(u·|g| + Σ_j u·|x_j·∂g/∂x_j| + u·chain) + tiny where the formula is lost.

        The error of any backward-stable evaluation of the entry g: its result rounded, its
        inputs moved by a rounding each.  |x_j·∂g/∂x_j|·u is measured on the exact values, as
        |g(x + d e_j) − g(x)|·u|x_j|/|d| with x_j + d the float64 nearest x_j·(1 + 2u) (d is
        exact: a difference of nearby floats); infinite where g(x + d e_j) has no exact value.
        ``chain`` is the sum of the absolute values of the entry's chain-rule terms, as the
        walk computes it, but evaluated exactly (:func:`_absolute_chain`): what code that sums
        those terms may cancel (softmax minus one, the gradient of a cross-entropy, at logits
        where exp overflows).
        """
        columns = np.flatnonzero(lost.any(axis=0))
        n = kept.shape[1]
        moved = np.repeat(kept[columns], n, axis=0)  # point i, variable j at row i·n + j
        axis = np.tile(np.arange(n), len(columns))
        rows = np.arange(len(moved))
        start = moved[rows, axis].copy()
        moved[rows, axis] = start * (1 + 2 * arith.u)
        step = moved[rows, axis] - start
        pieces = [(self.exact, moved[b]) for b in _blocks(len(moved))]
        shifted = np.concatenate(run_pieces(pool, _exact_values, pieces), axis=1)
        with np.errstate(all="ignore"):
            base = np.repeat(values[:, columns], n, axis=1)
            weight = np.where(step != 0, arith.u * np.abs(start) / np.abs(step), 0.0)
            moves = np.where(weight > 0, np.abs(shifted - base) * weight, 0.0)
            moves = np.where(np.isnan(moves), np.inf, moves)
            cond = moves.reshape(len(values), len(columns), n).sum(axis=2)
            chain = self.chain_sizes(kept[columns], pool)
            here = arith.u * (np.abs(values[:, columns]) + chain)
            here = TOLERANCES.floor_safety * (here + cond)
            here = np.where(np.isnan(here), np.inf, here)
        out = np.full(values.shape, np.inf)
        out[:, columns] = here + arith.tiny
        return out

    def chain_sizes(self, points: FloatArray, pool: Executor | None = None) -> FloatArray:
        """Each entry's chain-rule size at some points, from exact values (no overflow)."""
        names = self.exact.variables
        walks: dict[sympy.Expr, tuple[sympy.Expr, ...]] = {}
        sizes = [_absolute_chain(expr, names, walks)[j] for expr, j in self.sources]
        chain = Compiled(sizes, names)
        pieces = [(chain, points[b]) for b in _blocks(len(points))]
        return np.concatenate(run_pieces(pool, _exact_values, pieces), axis=1)

    def _bounds(self, kept: FloatArray, arith: _Arithmetic) -> tuple[Any, ...]:
        """Each entry's rounding bound, chain-rule size, and where the walk is blind by design,
        at some points (one walk per node)."""
        bounds = _ErrorBounds(self.exact.variables, kept.T, arith)
        with np.errstate(all="ignore"):
            rounding = np.stack([bounds.error(c) for c in self.exact.components])
            chain = np.stack([bounds.chain(expr)[j] for expr, j in self.sources])
            blind = np.stack([bounds.blind(c) for c in self.exact.components])
        return rounding, chain, blind


class _Floors(NamedTuple):
    """Per entry and point: the attainable accuracy, the scale it is compared with, and where
    symgrad's own float64 formula leaves the range (there the floor is the conditioning)."""

    floor: FloatArray
    scale: FloatArray
    lost: Any


class _Reference(NamedTuple):
    """What the user's values are judged against: the exact values, symgrad's own float64
    values, the floors, each entry's format, and where an exact value exists."""

    values: FloatArray
    own: FloatArray
    floors: _Floors
    formats: tuple[_Arithmetic, ...]
    compared: Any


# -- the user's arithmetic and its error bounds -------------------------------------------------


@dataclass(frozen=True)
class _Arithmetic:
    """The floating-point format of the user's values: unit roundoff, input rounding, range."""

    name: str
    dtype: Any
    u: float  # unit roundoff of every operation
    u_in: float  # relative rounding of the inputs: 0 when the code computes in float64
    tiny: float  # the smallest subnormal: the absolute resolution near 0
    huge: float  # the largest finite value

    @classmethod
    def of(cls, dtype: Any) -> _Arithmetic:
        info = np.finfo(dtype if np.dtype(dtype).kind == "f" else np.float64)
        if float(info.eps) <= EPS:  # float64 (or longer): the inputs are exact
            info = np.finfo(np.float64)
            return cls("float64", np.float64, EPS / 2, 0.0, float(info.smallest_subnormal), 0.0)
        u = float(info.eps) / 2
        return cls(
            info.dtype.name, info.dtype, u, u, float(info.smallest_subnormal), float(info.max)
        )

    def representable(self, node: sympy.Expr, value: float) -> bool:
        """Is the constant ``node`` exactly a number of this format?"""
        if not node.is_Rational or not math.isfinite(value):
            return False
        rounded = float(np.asarray(value, dtype=self.dtype))
        return rounded == value and sympy.Rational(*value.as_integer_ratio()) == node


class _Local(NamedTuple):
    """One node: its value, its arguments with |∂node/∂argument|, and its own rounding."""

    value: Any
    args: tuple[sympy.Expr, ...]
    sensitivities: tuple[Any, ...]
    rounding: Any  # the node's own rounding error, in units of u
    jump: float = 0.0  # sign, Heaviside: the jump where the argument's error reaches 0


class _ErrorBounds:
    """First-order error bounds of float evaluation, at many points at once (module docstring).

    ``error(expr)`` bounds |computed − exact| of ``expr`` evaluated in the user's arithmetic
    (infinite where a value on the way exceeds the user's range: float32 code overflows there);
    ``chain(expr)[j]`` is the sum of the absolute values of the chain-rule terms of ∂expr/∂x_j.
    Both walk the expression tree once per distinct node (shared subexpressions are reused).
    """

    def __init__(
        self, variables: Sequence[sympy.Symbol], columns: Iterable[Any], arith: _Arithmetic
    ) -> None:
        self.columns = dict(zip(variables, columns, strict=True))
        self.index = {v: i for i, v in enumerate(variables)}
        self.arith = arith
        self.shape = np.shape(next(iter(self.columns.values()), np.zeros(1)))
        self._local: dict[sympy.Expr, _Local] = {}
        self._error: dict[sympy.Expr, Any] = {}
        self._chain: dict[sympy.Expr, Any] = {}
        self._blind: dict[sympy.Expr, Any] = {}

    def error(self, node: sympy.Expr) -> Any:
        if node not in self._error:
            self._error[node] = self._error_of(node)
        return self._error[node]

    def chain(self, node: sympy.Expr) -> Any:
        if node not in self._chain:
            self._chain[node] = self._chain_of(node)
        return self._chain[node]

    def value(self, node: sympy.Expr) -> Any:
        return self.local(node).value

    def blind(self, node: sympy.Expr) -> Any:
        """Where the walk knows nothing by design: a function whose accuracy is unknown, or a
        value on the way beyond the user's format (float32 code overflows there).  Elsewhere
        an infinite bound only means that float64's range ran out on the way (exp(800), 1/a²
        of a = 1e-155, 2·|exp(709.5)|), while the exact entry may be finite."""
        if node not in self._blind:
            out = np.zeros(self.shape, dtype=bool)
            if not node.is_Symbol:
                local = self.local(node)
                value = np.asarray(local.value, dtype=np.float64)
                if not local.args and np.isnan(value).all() and local.rounding == np.inf:
                    out = ~out  # _function without a primitive
                if self.arith.huge:
                    out = out | (np.abs(value) > self.arith.huge)
                for arg in local.args:
                    out = out | self.blind(arg)
            self._blind[node] = out
        return self._blind[node]

    def _error_of(self, node: sympy.Expr) -> Any:
        """u·|r| per rounding (plus the subnormal spacing, where r underflows), propagated."""
        arith = self.arith
        if node.is_Symbol:
            rounded = arith.u_in * np.abs(self.columns[node])
            return self._overflow(node, rounded + (arith.tiny if arith.u_in else 0.0))
        local = self.local(node)
        total = arith.u * local.rounding + np.where(np.asarray(local.rounding) > 0, arith.tiny, 0.0)
        for arg, sensitivity in zip(local.args, local.sensitivities, strict=True):
            total = total + _times(sensitivity, self.error(arg))
        if local.jump:
            reach = self.error(local.args[0])
            total = total + np.where(
                (reach > 0) & (reach >= np.abs(self.value(local.args[0]))), local.jump, 0.0
            )
        return self._overflow(node, np.broadcast_to(total, self.shape))

    def _overflow(self, node: sympy.Expr, error: Any) -> Any:
        """No bound where the value does not fit the user's format (float32 ends at 3.4e38)."""
        if not self.arith.huge:
            return error
        return np.where(np.abs(self.value(node)) > self.arith.huge, np.inf, error)

    def _chain_of(self, node: sympy.Expr) -> Any:
        out = np.zeros((len(self.index), *self.shape))
        if node.is_Symbol:
            out[self.index[node]] = 1.0
            return out
        local = self.local(node)
        for arg, sensitivity in zip(local.args, local.sensitivities, strict=True):
            out = out + _times(sensitivity, self.chain(arg))
        return out

    def local(self, node: sympy.Expr) -> _Local:
        if node not in self._local:
            self._local[node] = self._rule(node)
        return self._local[node]

    def _rule(self, node: sympy.Expr) -> _Local:
        """Value, sensitivities and rounding of one node (Add, Mul, Pow, a function, ...)."""
        if node.is_Symbol:
            return _Local(self.columns[node], (), (), 0.0)
        if not node.free_symbols:  # a constant: rounded once unless the format holds it exactly
            try:
                value = float(node)
            except OverflowError:  # beyond float range: no entry using it can be judged
                value = math.inf
            return _Local(
                value, (), (), 0.0 if self.arith.representable(node, value) else abs(value)
            )
        args = node.args
        values = [self.value(a) for a in args]
        if node.is_Add:
            sizes = sum(np.abs(v) for v in values)
            return _Local(sum(values), args, (1.0,) * len(args), (len(args) - 1) * sizes)
        if node.is_Mul:
            return _product(args, values)
        if node.is_Pow:
            return _power(args, values)
        if isinstance(node, sympy.Abs):
            return _Local(np.abs(values[0]), args, (1.0,), 0.0)
        if isinstance(node, sympy.sign | sympy.Heaviside):
            step = (
                np.sign(values[0]) if isinstance(node, sympy.sign) else np.heaviside(values[0], 0.5)
            )
            return _Local(step, args[:1], (0.0,), 0.0, 2.0 if isinstance(node, sympy.sign) else 1.0)
        if isinstance(node, sympy.Min | sympy.Max):
            pick = np.minimum if isinstance(node, sympy.Min) else np.maximum
            return _Local(functools.reduce(pick, values), args, (1.0,) * len(args), 0.0)
        return _function(node, values)


def _absolute_chain(
    node: sympy.Expr,
    names: Sequence[sympy.Symbol],
    memo: dict[sympy.Expr, tuple[sympy.Expr, ...]],
) -> tuple[sympy.Expr, ...]:
    """Σ |chain-rule terms| of ∂node/∂x_j, for each variable, as expressions.

    The sensitivities of :class:`_ErrorBounds` (|∂node/∂argument| of a sum, a product, a
    power, a function; none through sign and Heaviside) written symbolically, so that they can
    be evaluated exactly where float64 overflows.  Infinite where SymPy gives no partial.
    """
    if node in memo:
        return memo[node]
    zero = (sympy.S.Zero,) * len(names)
    if node.is_Symbol:
        out = tuple(sympy.S.One if node == x else sympy.S.Zero for x in names)
    elif not node.free_symbols or isinstance(node, sympy.sign | sympy.Heaviside):
        out = zero
    else:
        out = zero
        for arg, slope in zip(node.args, _local_slopes(node), strict=True):
            inner = _absolute_chain(arg, names, memo)
            out = tuple(o + slope * i for o, i in zip(out, inner, strict=True))
    memo[node] = out
    return out


def _local_slopes(node: sympy.Expr) -> list[sympy.Expr]:
    """|∂node/∂argument| for each argument, as :class:`_ErrorBounds` takes them."""
    args = node.args
    if node.is_Add or isinstance(node, sympy.Abs | sympy.Min | sympy.Max):
        return [sympy.S.One] * len(args)
    if node.is_Mul:
        return [sympy.Abs(sympy.Mul(*args[:i], *args[i + 1 :])) for i in range(len(args))]
    if node.is_Pow:
        base, exponent = args
        return [
            sympy.Abs(exponent * base ** (exponent - 1)),
            sympy.Abs(sympy.log(sympy.Abs(base)) * node) if exponent.free_symbols else 0,
        ]
    slopes: list[sympy.Expr] = []
    for i in range(len(args)):
        try:
            slope = node.fdiff(i + 1)
        except (TypeError, ValueError, ArithmeticError, NotImplementedError):
            slope = sympy.oo
        unknown = slope.has(sympy.Derivative, sympy.Subs, sympy.DiracDelta)
        slopes.append(sympy.oo if unknown else sympy.Abs(slope))
    return slopes


def _times(sensitivity: Any, error: Any) -> Any:
    """sensitivity × error, 0 where the error is 0 (an infinite slope times no error is none)."""
    return np.where(error == 0, 0.0, np.abs(sensitivity) * error)


def _product(args: tuple[sympy.Expr, ...], values: list[Any]) -> _Local:
    """k factors: ∂/∂a_i is the product of the others; k − 1 roundings of |product|."""
    sizes = [np.abs(v) for v in values]
    before = [1.0, *accumulate(sizes[:-1], operator.mul)]
    after = [*reversed([*accumulate(sizes[:0:-1], operator.mul)]), 1.0]
    others = tuple(b * a for b, a in zip(before, after, strict=True))
    value = functools.reduce(np.multiply, values)
    return _Local(value, args, others, (len(args) - 1) * np.abs(value))


def _power(args: tuple[sympy.Expr, ...], values: list[Any]) -> _Local:
    """a**b: |b·a^(b−1)| and |log|a|·a^b|; a power rounds like a library function (2u)."""
    (base, exponent), (a, b) = args, values
    value = np.power(a, b)
    slope = np.abs(b) * np.power(np.abs(a), b - 1.0)
    if not exponent.free_symbols:
        return _Local(value, (base,), (slope,), 2 * np.abs(value))
    log_slope = np.abs(np.log(np.abs(a)) * value)
    return _Local(value, args, (slope, log_slope), 2 * np.abs(value))


def _function(node: sympy.Expr, values: list[Any]) -> _Local:
    """A library function: its value, |∂f/∂a_i| from SymPy, and 2u·|f| of its own error."""
    compiled = _primitive(node.func, len(node.args))
    if compiled is None:  # nothing known about its accuracy: every point is undecided
        return _Local(np.nan, (), (), np.inf)
    out = np.asarray(compiled(*values))
    return _Local(out[0], node.args, tuple(out[1:]), 2 * np.abs(out[0]))


@functools.cache
def _primitive(func: Any, arity: int) -> Compiled | None:
    """f(t_1, ..., t_k) and its k partial derivatives, compiled once per function."""
    ts = [sympy.Symbol(f"t{i}", real=True) for i in range(arity)]
    try:
        value = func(*ts)
        exprs = [value, *(sympy.diff(value, t) for t in ts)]
        if any(e.has(sympy.DiracDelta) for e in exprs):
            return None
        # A partial SymPy cannot give (d/dnu J_nu(x), the order of polygamma) is an infinite
        # sensitivity: no bound through that argument, unless it is exact (a constant order).
        exprs = [sympy.oo if e.has(sympy.Derivative, sympy.Subs) else e for e in exprs]
        return Compiled(exprs, ts)
    except (TypeError, ValueError, ArithmeticError, SymgradError):
        return None


# -- blocks of points: the independent pieces, with or without an executor -----------------------

_BLOCKS = 64  # the points are cut into at most this many blocks ...
_BLOCK = 64  # ... of at least this many points (fewer only in the last block)


def _blocks(n: int) -> list[slice]:
    """The blocks of n points, the same with or without an executor."""
    size = max(_BLOCK, -(-n // _BLOCKS))
    return [slice(i, min(n, i + size)) for i in range(0, n, size)]


def _require_picklable(user_fn: object, pool: Executor | None) -> None:
    """Refuse, before any work, code that cannot reach the executor's other processes.

    Threads share the caller's objects; any other executor pickles the pieces (a process pool
    with pickle, a ``dask.distributed`` client with cloudpickle, which also takes lambdas).
    """
    if pool is None or isinstance(pool, ThreadPoolExecutor) or not callable(user_fn):
        return
    try:
        pickle.dumps(user_fn)
    except Exception as exc:  # whatever pickle raises (PicklingError, AttributeError, ...)
        if isinstance(pool, ProcessPoolExecutor) or not _cloudpickles(user_fn):
            msg = (
                f"user_fn cannot be sent to the worker processes of {type(pool).__name__} "
                f"({type(exc).__name__}: {exc}); define it at the top level of a module (not "
                "a lambda or a nested function), or use a ThreadPoolExecutor or executor=None"
            )
            raise ConfigError(msg) from exc


def _cloudpickles(user_fn: object) -> bool:
    """Whether cloudpickle (the serializer of ``dask.distributed``) can send ``user_fn``."""
    try:
        importlib.import_module("cloudpickle").dumps(user_fn)
    except Exception:  # noqa: BLE001 - not installed, or it cannot either
        return False
    return True


class _Code(NamedTuple):
    """The code under test: the user's callable, or the user's expressions compiled."""

    fn: Any
    text: bool  # compiled from expressions: called on arrays, float64 values


def _code(user_fn: Any, exact: Compiled, limits: Limits) -> _Code:
    """Compile expressions given as the code under test (parsed safely); keep a callable."""
    if callable(user_fn):
        return _Code(user_fn, text=False)
    shape, size = exact.shape, len(exact.components)
    flat = _flatten(user_fn)
    if len(flat) != size or not all(isinstance(e, str | sympy.Expr) for e in flat):
        msg = f"user_fn must be callable or a list of {size} expressions shaped {shape}"
        raise InputError(msg)
    return _Code(function(flat, exact.variables, limits=limits), text=True)


class _Block(NamedTuple):
    """One block of points: exact values (all points), the user's (points kept), and the
    format of each entry."""

    values: FloatArray
    user: FloatArray
    dtypes: tuple[Any, ...]
    batched: FloatArray | None = None  # the vectorized call's values, where they disagree


def _block(exact: Compiled, code: _Code, call: str, sample: FloatArray) -> _Block:
    """A piece: the exact derivative at some points, then the user's where it is finite."""
    values = _exact_values(exact, sample)
    kept = sample[np.isfinite(values).any(axis=0)]
    if not len(kept):
        return _Block(values, np.empty((len(values), 0)), (np.dtype(np.float64),) * len(values))
    user = _user_values(code, exact, kept, call)
    return _Block(values, user.values, user.formats, user.batched)


# -- points and exact values ---------------------------------------------------------------------


class _Counts(NamedTuple):
    """How many entries each point has, and the caps on points and values."""

    entries: int
    limits: Limits


def _cap(n: int, entries: int, limits: Limits) -> None:
    """Refuse more points, or points × entries, than ``limits`` allow: before any is computed."""
    raise_it = "or, for a trusted job, raise the cap: check_gradient(..., limits=symgrad.Limits("
    how = f"check fewer points, in batches, {raise_it}max_points=...))"
    check_count("points", n, limits.max_points, "points to check", how)
    what = f"entry values to judge ({n:,} points times {entries:,} entries)"
    how = f"check fewer points or entries, in batches, {raise_it}max_values=...))"
    check_count("values", n * entries, limits.max_values, what, how)


def _sample(
    at: Any, n_points: int, domain: Any, seed: int, names: list[str], counts: _Counts
) -> FloatArray:
    """The points as an (N, n) float64 array: given, or drawn uniformly from ``domain``.

    Their number is checked against the caps before any is drawn, or, when given, as soon as
    their shape is known (a mapping's columns before they are broadcast together).
    """
    n = len(names)
    if at is None:
        _cap(n_points, counts.entries, counts.limits)
        if domain is not None and not isinstance(domain, str | Mapping):
            domain = dict.fromkeys(names, domain)  # one (low, high) pair for every variable
        box = {} if domain is None else parse_domain(domain, names)
        low, high = np.array([box.get(x, _DEFAULT_RANGE) for x in names]).T
        return np.random.default_rng(seed).uniform(low, high, size=(n_points, n))
    try:
        if isinstance(at, Mapping):
            columns = [np.asarray(at[x], dtype=np.float64).ravel() for x in names]
            rows = np.broadcast_shapes(*(c.shape for c in columns))[0]
        else:
            array = np.asarray(at, dtype=np.float64)
    except (KeyError, ValueError, TypeError) as exc:
        msg = f"at must be numbers of shape (N, {n}) or a mapping of {names} to arrays ({exc})"
        raise InputError(msg) from exc
    if isinstance(at, Mapping):
        _cap(rows, counts.entries, counts.limits)  # before the columns are broadcast together
        return np.column_stack(np.broadcast_arrays(*columns))
    array = array.reshape(-1, 1) if n == 1 and array.ndim <= 1 else array
    array = array.reshape(1, n) if array.ndim == 1 and array.size == n else array
    if array.ndim != 2 or array.shape[1] != n:
        msg = f"at must have shape (N, {n}) for the variables {names} (got {array.shape})"
        raise InputError(msg)
    _cap(len(array), counts.entries, counts.limits)
    return array


def _exact_values(exact: Compiled, sample: FloatArray) -> FloatArray:
    """The exact derivative at every point rounded to float64, shape (entries, N).

    NaN where it is not a real number or raises (also where the exact value cannot be
    certified), entry by entry: one entry without a value leaves the others to be judged; inf
    beyond float64's range.  Float coordinates are taken at their binary values.
    """
    out = np.full((len(exact.components), len(sample)), np.nan)
    singles: list[Compiled] = []
    for i, row in enumerate(sample):
        point = [float(x) for x in row]
        try:
            out[:, i] = _floats(settled(exact, point, TOLERANCES.exact_dps))
        except (ArithmeticError, ValueError, TypeError):
            if len(exact.components) == 1:
                continue
            singles = singles or [Compiled(c, exact.variables) for c in exact.components]
            for k, single in enumerate(singles):
                try:
                    out[k, i] = _floats(settled(single, point, TOLERANCES.exact_dps))[0]
                except (ArithmeticError, ValueError, TypeError):
                    continue
    return out


def _floats(values: Sequence[Any]) -> list[float]:
    """Exact values as floats: NaN for a non-real one."""
    return [np.nan if hasattr(v, "_mpc_") and v.imag else float(v.real) for v in values]


# -- calling the user's code ---------------------------------------------------------------------


class _Disagrees(ValueError):
    """The vectorized call gave values other than a call on one point: both are kept."""

    def __init__(self, values: FloatArray, out: Any) -> None:
        super().__init__("the vectorized call disagrees with a call on the first point alone")
        self.values, self.out = values, out


class _UserValues(NamedTuple):
    """The user's derivative (entries, N), each entry's format, and the vectorized call's
    values where they disagree with the calls on one point (else None)."""

    values: FloatArray
    formats: tuple[Any, ...]
    batched: FloatArray | None = None


def _user_values(code: _Code, exact: Compiled, kept: FloatArray, call: str) -> _UserValues:
    """The user's derivative at every point, shape (entries, N), and the format of each entry.

    When the vectorized call ``user_fn(x, y, ...)`` on arrays gives other values than calls on
    one point, the code is called point by point, and the vectorized values are kept beside
    (``batched``) to be judged too.
    """
    shape, size, user_fn = exact.shape, len(exact.components), code.fn
    if code.text:
        values = np.asarray(user_fn(*kept.T), dtype=np.float64).reshape(size, len(kept))
        return _UserValues(values, (np.dtype(np.float64),) * size)
    attempts = {
        "auto": (_vectorized, _one_by_one, _packed),
        "unpacked": (_vectorized, _one_by_one),
        "packed": (_packed,),
    }[call]
    problems = []
    batched: _Disagrees | None = None
    for attempt in attempts:
        try:
            with np.errstate(all="ignore"):
                values, outputs = attempt(user_fn, kept, shape)
            if batched is None:
                return _UserValues(values, _formats(outputs, size))
            formats = _formats([*outputs, batched.out], size)
            return _UserValues(values, formats, batched.values)
        except _Disagrees as exc:
            batched = exc
        except Exception as exc:  # noqa: BLE001 - any failure of user code means "try the next way"
            problems.append(f"{attempt.__doc__} raised {type(exc).__name__}: {exc}")
    msg = f"could not call user_fn (expected a result of shape {shape}): " + "; ".join(problems)
    raise InputError(msg)


_Called = tuple[FloatArray, list[Any]]  # the values as (entries, N), and what user_fn returned


def _vectorized(user_fn: Any, kept: FloatArray, shape: tuple[int, ...]) -> _Called:
    """user_fn(x, y, ...) on arrays"""
    out = user_fn(*kept.T)
    values = _as_values(out, shape, len(kept))
    # a function that mixes points (np.linalg.norm of all x, say) has the right shape but wrong
    # values: compare one point with a call on that point alone, when such a call works
    try:
        first = _as_values(user_fn(*(float(v) for v in kept[0])), shape, 1)
    except Exception:  # noqa: BLE001 - code written for arrays only: nothing to compare
        return values, [out]
    if not np.allclose(values[:, :1], first, rtol=1e-12, atol=0.0, equal_nan=True):
        raise _Disagrees(values, out)
    return values, [out]


def _one_by_one(user_fn: Any, kept: FloatArray, shape: tuple[int, ...]) -> _Called:
    """user_fn(x, y, ...) point by point"""
    outs = [user_fn(*(float(v) for v in row)) for row in kept]
    return np.hstack([_as_values(out, shape, 1) for out in outs]), outs


def _packed(user_fn: Any, kept: FloatArray, shape: tuple[int, ...]) -> _Called:
    """user_fn(p) point by point"""
    outs = [user_fn(row.copy()) for row in kept]
    return np.hstack([_as_values(out, shape, 1) for out in outs]), outs


def _as_values(out: Any, shape: tuple[int, ...], n: int) -> FloatArray:
    """A user's result as (entries, n): ``(*shape, n)``, ``(n,) + shape``, or nested lists."""
    size = int(np.prod(shape))
    if isinstance(out, list | tuple) and len(flat := _flatten(out)) == size:
        out = np.stack([np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)) for v in flat])
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


def _coarsest_of(dtypes: Iterable[Any]) -> Any:
    """The least precise of some floating-point types."""
    return max(dtypes, key=lambda d: np.finfo(d).eps, default=np.dtype(np.float64))


def _formats(outputs: Iterable[Any], size: int) -> tuple[Any, ...]:
    """The least precise floating-point type of each entry among the values returned.

    A list or tuple with one leaf per entry gives each entry the type of its leaf; anything else
    (one array) gives every entry the array's type.  Python numbers carry no format of their
    own (NumPy treats them as weak): such a leaf takes the coarsest type of the others in its
    list, so a list mixing float32 arrays and constants still counts as float32.  Float64 where
    nothing says otherwise.
    """
    per_entry: list[list[Any]] = [[] for _ in range(size)]
    for out in outputs:
        leaves = _flatten(out)
        typed = [_float_type(leaf) for leaf in leaves]
        coarsest = _coarsest_of(t for t in typed if t is not None)
        if len(leaves) == size and isinstance(out, list | tuple):
            for k, t in enumerate(typed):
                per_entry[k].append(coarsest if t is None else t)
        else:
            for found in per_entry:
                found.append(coarsest)
    return tuple(_coarsest_of(found) for found in per_entry)


def _float_type(leaf: Any) -> Any:
    """The floating-point type of a NumPy value (float64 for integers); None for Python's."""
    if not isinstance(leaf, np.ndarray | np.generic):
        return None
    dtype = np.dtype(leaf.dtype)
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def _flatten(nested: Any) -> list[Any]:
    if isinstance(nested, list | tuple):
        return [leaf for item in nested for leaf in _flatten(item)]
    return [nested]


# -- the verdict ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Judged:
    """Every entry at every point: errors, and failed / passed / undecided (module docstring)."""

    user: FloatArray
    values: FloatArray
    floor: FloatArray
    scale: FloatArray  # |exact|, or where it is 0 the size of its chain-rule terms
    arith: _Arithmetic  # the coarsest of the entries' formats: the result's precision
    formats: tuple[_Arithmetic, ...]  # each entry's
    error: FloatArray
    ratio: FloatArray  # error / (rtol·|exact| + floor)
    rel: FloatArray
    compared: Any  # the exact value is finite there
    failed: Any
    passed: Any
    lost: Any  # symgrad's own float64 formula leaves the range there
    echoed: Any  # ... and user_fn returns what that formula gives, or no finite value
    own: FloatArray  # symgrad's own float64 values

    @classmethod
    def make(cls, user: FloatArray, ref: _Reference, rtol: float) -> _Judged:
        values, (floor, scale, lost), formats, compared = (
            ref.values,
            ref.floors,
            ref.formats,
            ref.compared,
        )
        huge = np.array([a.huge or np.inf for a in formats])[:, None]
        with np.errstate(all="ignore"):
            error = np.where(np.isnan(user), np.inf, np.abs(user - values))
            tight = rtol * np.abs(values)
            ratio = np.where(error == 0, 0.0, error / (tight + floor))
            rel = np.where(error == 0, 0.0, error / scale)
            # beyond the user's range nothing can be right or wrong (float32 ends at 3.4e38)
            held = compared & (np.abs(values) <= huge)
        # where symgrad's own formula overflows, code that evaluates such a formula gets what
        # float64 gives it: the same value as symgrad's, or none; that decides nothing
        echoed = lost & (~np.isfinite(user) | (user == ref.own))
        failed = held & (ratio > 1) & ~echoed
        fine = (floor <= TOLERANCES.resolve * scale) & ~echoed
        passed = ~failed & held & ((error <= tight) | fine)
        arith = functools.reduce(lambda a, b: a if a.u >= b.u else b, formats)
        parts = (error, ratio, rel, compared, failed, passed, lost, echoed, ref.own)
        return cls(user, values, floor, scale, arith, tuple(formats), *parts)

    @property
    def undecided(self) -> Any:
        return self.compared & ~self.failed & ~self.passed

    def status(self, j: int) -> Status:
        """One entry over all points: fail anywhere, else undecided where user_fn returns what
        an overflowing formula gives, else pass where resolved, else undecided."""
        if self.failed[j].any():
            return Status.FAIL
        if (self.undecided[j] & self.echoed[j]).any():
            return Status.INCONCLUSIVE
        return Status.PASS if self.passed[j].any() else Status.INCONCLUSIVE

    def worst(self, status: Status) -> tuple[int, int]:
        """The (entry, point) that decides: furthest past its threshold, least resolved, ..."""
        with np.errstate(all="ignore"):
            if status is Status.FAIL:
                key = np.where(self.failed, self.ratio, -1.0)
            elif status is Status.INCONCLUSIVE and (self.undecided & self.echoed).any():
                key = np.where(self.undecided & self.echoed, 1.0, -1.0)
            elif status is Status.INCONCLUSIVE:  # the least resolved entry of an undecided one
                stuck = np.array(
                    [self.status(j) is Status.INCONCLUSIVE for j in range(len(self.rel))]
                )
                key = np.where(self.undecided, self.floor / self.scale, -1.0)
                key = np.where(stuck[:, None], np.maximum(key, 0.0), -1.0)
            else:
                key = np.where(self.passed, self.rel, -1.0)
        k, i = np.unravel_index(int(np.argmax(np.nan_to_num(key, nan=np.inf))), key.shape)
        return int(k), int(i)


def _verdict(
    exact: Compiled, kind: str, kept: FloatArray, judged: _Judged, rtol: float, skipped: int
) -> GradientCheckResult:
    """Combine the entries (module docstring) and explain the verdict in one sentence."""
    entries = labels(exact, kind)
    statuses = [judged.status(j) for j in range(len(entries))]
    checks = tuple(
        EntryCheck(e, float(np.max(judged.rel[j], where=judged.compared[j], initial=0.0)), s)
        for j, (e, s) in enumerate(zip(entries, statuses, strict=True))
    )
    status = Status.FAIL if Status.FAIL in statuses else Status.PASS
    if Status.INCONCLUSIVE in statuses and status is Status.PASS:
        status = Status.INCONCLUSIVE
    k, i = judged.worst(status)
    point = dict(zip([s.name for s in exact.variables], kept[i].tolist(), strict=True))
    worst = {"entry": entries[k], "point": point, "user": float(judged.user[k, i])}
    worst |= {"exact": float(judged.values[k, i]), "rel_error": float(judged.rel[k, i])}
    undecided = int(judged.undecided.sum())
    if status is Status.INCONCLUSIVE and not judged.compared[k].any():
        reason = f"{entries[k]} has no finite exact value at any of the {len(kept)} points"
    elif status is Status.INCONCLUSIVE and judged.echoed[k, i] and judged.undecided[k, i]:
        reason = _overflowed(worst, float(judged.own[k, i]), judged.undecided & judged.echoed)
    elif status is Status.INCONCLUSIVE:
        reason = _unresolved(worst, float(judged.floor[k, i]), len(kept), judged.formats[k].name)
    else:
        failing = int(judged.failed.any(axis=0).sum())
        reason = _reason(worst, failing, len(kept), len(entries), kind)
    reason += _notes(judged, 0 if status is Status.INCONCLUSIVE else undecided, skipped, kind)
    return GradientCheckResult(
        status,
        reason,
        kind,
        len(kept),
        skipped,
        rtol,
        worst,
        checks,
        kept,
        undecided,
        judged.arith.name,
    )


def _with_arrays(
    pointwise: GradientCheckResult, arrays: GradientCheckResult
) -> GradientCheckResult:
    """The verdict when the vectorized call disagrees with calls on one point (module docstring).

    Both are judged against the exact derivative: a vectorized call wrong beyond the floor
    fails the check even where the calls on one point pass (code that is vectorized is called
    on arrays, by the user and by optimizers alike).
    """
    if arrays.status is Status.FAIL and pointwise.status is not Status.FAIL:
        note = f"; called on one point at a time, user_fn's values {pointwise.status.value}"
        return replace(arrays, reason=f"the vectorized call is wrong: {arrays.reason}{note}")
    if arrays.status is Status.FAIL:
        note = "; the vectorized call on arrays of points is wrong too"
    else:
        note = (
            "; the vectorized call on arrays of points gives other values than calls on one "
            "point, within the attainable accuracy"
        )
    return replace(pointwise, reason=pointwise.reason + note)


def _reason(worst: dict[str, Any], failing: int, n: int, entries: int, kind: str) -> str:
    """'d/dy is wrong at (0.3, -1.2): got -0.0900, exact 0.0900 (...)', or the pass sentence."""
    where = _where(worst)
    rel = worst["rel_error"]
    if not failing:
        largest = f"largest relative error {_rel(rel)}"
        if entries == 1:  # one variable: name the entry instead of counting it
            entry = worst["entry"]
            return f"{entry} agrees with the exact {kind} at {n} points ({largest}, at ({where}))"
        return (
            f"all {entries} entries agree with the exact {kind} at {n} points ({largest}, in "
            f"{worst['entry']} at ({where}))"
        )
    # enough digits to show the two values differ
    digits = min(17, max(3, 2 + math.ceil(-math.log10(rel)))) if 0 < rel < 1 else 3
    got, want = (f"{worst[key]:#.{digits}g}" for key in ("user", "exact"))
    return (
        f"{worst['entry']} is wrong at ({where}): got {got}, exact {want} (relative error "
        f"{_rel(rel)}); {failing} of {n} points fail"
    )


def _overflowed(worst: dict[str, Any], own: float, echoed: Any) -> str:
    """Why values that an overflowing formula gives make the verdict inconclusive."""
    return (
        f"{worst['entry']} at ({_where(worst)}) is {worst['user']:.6g} from user_fn, exact "
        f"{worst['exact']:.6g}: there symgrad's own float64 formula overflows (it gives "
        f"{own:.6g}), and a value that overflows the same way cannot be told from a wrong one "
        f"({_count(echoed)} like this)"
    )


def _unresolved(worst: dict[str, Any], floor: float, n: int, precision: str) -> str:
    """Why an entry decides nothing anywhere."""
    size = abs(worst["exact"])
    accuracy = f"{_rel(floor / size)} relative" if size else f"±{floor:.2g}"
    return (
        f"{worst['entry']} cannot be resolved in {precision} at any of the {n} points: evaluating "
        f"it loses nearly all its digits there (attainable accuracy {accuracy} at ({_where(worst)})"
        f"), so agreeing within that proves nothing; got {worst['user']:.6g}, exact "
        f"{worst['exact']:.6g}"
    )


def _notes(judged: _Judged, undecided: int, skipped: int, kind: str) -> str:
    """The precision judged at, the undecided entries and the skipped points, if any."""
    notes = ""
    name = judged.arith.name
    names = sorted({a.name for a in judged.formats}, reverse=True)
    if len(names) > 1:
        notes += (
            f"; each entry judged at its own format's attainable accuracy (user_fn returns "
            f"{' and '.join(names)} values)"
        )
    elif name != "float64":
        notes += f"; judged at {name}'s attainable accuracy (user_fn returns {name} values)"
    if undecided:
        notes += _undecided(judged, name)
    judged_there = judged.lost & judged.compared & ~judged.echoed
    if judged_there.any():
        notes += (
            f"; {_count(judged_there)} where symgrad's own float64 formula overflows judged "
            "against the exact value, at the accuracy the entry's conditioning allows"
        )
    missing = ~judged.compared
    if missing.any():
        notes += (
            f"; {int(missing.sum())} entry values at {int(missing.any(axis=0).sum())} points left "
            "out where the exact value is not finite in float64 or cannot be certified"
        )
    if skipped:
        notes += f"; {skipped} points skipped where the exact {kind} is not finite in float64"
    return notes


def _undecided(judged: _Judged, name: str) -> str:
    """The entry values that decide nothing: float cannot resolve them, or they are what an
    overflowing formula gives."""
    notes = ""
    plain, echoed = judged.undecided & ~judged.echoed, judged.undecided & judged.echoed
    if plain.any():
        notes += (
            f"; {_count(plain)} decide nothing: {name} cannot resolve them there (the formula "
            "cancels or overflows)"
        )
    if echoed.any():
        notes += (
            f"; {_count(echoed)} decide nothing: there symgrad's own float64 formula overflows "
            "and user_fn returns the same value or none, where the exact value is finite"
        )
    return notes


def _count(mask: Any) -> str:
    """'3 entry values at 2 points'."""
    return f"{int(mask.sum())} entry values at {int(mask.any(axis=0).sum())} points"


def _where(worst: dict[str, Any]) -> str:
    return ", ".join(f"{v:.6g}" for v in worst["point"].values())


def _rel(value: float) -> str:
    """2.0, 0.50, 1.0e-04: two digits, in exponent form when small."""
    if not value:
        return "0"
    return f"{value:#.2g}" if value >= 1e-2 else f"{value:.1e}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return json_float(value) if isinstance(value, float) else value
