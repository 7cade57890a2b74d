"""Exact finite-difference stencils: Fornberg weights, accuracy order and leading error term.

A stencil for the m-th derivative with offsets ``s_j`` and weights ``w_j`` approximates
``f^(m)(x0) ≈ h^-m Σ_j w_j f(x0 + s_j h)`` with ``FD(h) - f^(m)(x0) = C h^p f^(m+p)(x0) + O(h^(p+1))``.
Weights, the accuracy order ``p`` and the error constant ``C`` are exact rationals
(:class:`fractions.Fraction`) from Fornberg's recursion; no weight table is typed in.

Scheme strings (the command line's ``--scheme``) are ``KIND:ACCURACY`` or ``KIND:ACCURACY:dM`` with
``KIND`` one of ``central``, ``forward``, ``backward`` and the derivative ``M`` defaulting to 1:
``"central:4"``, ``"forward:1"``, ``"backward:2:d2"``. Case and surrounding spaces are ignored.

Caps: derivative order <= :data:`MAX_DERIVATIVE`, at most :data:`MAX_POINTS` points, offsets whose
numerator and denominator fit in 64 bits (all raise :class:`~symgrad.errors.LimitExceeded`).

**Validation.**  A stencil built directly, ``Stencil(derivative, offsets, weights, accuracy,
error_coefficient, kind)`` (or by :func:`dataclasses.replace`), must tell the truth about its
weights: the constructor recomputes the moments ``M_k = Σ_j w_j s_j^k`` exactly and refuses
(:class:`~symgrad.errors.ConfigError`) weights that approximate no m-th derivative
(``M_k ≠ m! [k = m]`` for some k <= m) and a stated accuracy or error coefficient that differs from
the one the moments give.  Stencils of kind ``central``, ``forward`` or ``backward`` must also sit
on that kind's nodes, so a label such as ``central:4`` always names the textbook stencil.
"""

from __future__ import annotations

import functools
import itertools
import math
import numbers
import re
import reprlib
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, TypeGuard, TypeVar

import numpy as np
import numpy.typing as npt

from symgrad.errors import ConfigError, InputError, LimitExceeded, quote

__all__ = ["MAX_DERIVATIVE", "MAX_POINTS", "Stencil", "fornberg_weights", "stencils_for"]

MAX_DERIVATIVE = 12
MAX_POINTS = 25
_MAX_OFFSET_BITS = 64
_KINDS = ("central", "forward", "backward")
_OTHER_KINDS = ("custom", "richardson")
_MAX_WEIGHT_BITS = 1 << 14  # Fornberg weights of 25 nodes with 64-bit offsets stay far below
# Plain decimals and fractions only: an exponent ("1e999999999") would make Fraction build a huge int.
_RATIONAL_TEXT = re.compile(r"[+-]?(?:\d{1,20}/\d{1,20}|\d{0,20}\.?\d{0,20})")
_SCHEME_HELP = (
    "write KIND:ACCURACY or KIND:ACCURACY:dM, e.g. 'central:4', 'forward:1' or 'backward:2:d2' "
    "(KIND is central, forward or backward; the derivative M defaults to 1)"
)

_INTERPOLATION_AT_ZERO = (
    "derivative=0 with offset 0 is f(x0) itself, exact to every order, so it has no accuracy or "
    "error term; use offsets that avoid 0 (e.g. '-1/2,1/2') to interpolate"
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Stencil:
    """An exact finite-difference stencil ``f^(m)(x0) ≈ h^-m Σ w_j f(x0 + s_j h)``.

    Build one with :meth:`central`, :meth:`forward`, :meth:`backward`, :meth:`from_offsets` or
    :meth:`parse`.  A stencil built field by field is checked against its weights (module
    docstring): a stated accuracy or error coefficient that the weights do not have raises
    :class:`~symgrad.errors.ConfigError`.

    Attributes
    ----------
    derivative : int
        The derivative order m.
    offsets : tuple of Fraction
        Distinct node offsets ``s_j`` in units of h, ascending.
    weights : tuple of Fraction
        Exact weights, in the order of ``offsets``.
    accuracy : int
        The largest p with ``Σ w_j s_j^k = m! δ_km`` for k = 0 ... m+p-1.
    error_coefficient : Fraction
        C with ``FD(h) - f^(m)(x0) = C h^p f^(m+p)(x0) + O(h^(p+1))``; never zero.
    kind : str
        ``"central"``, ``"forward"``, ``"backward"``, ``"custom"`` (from :meth:`from_offsets`) or
        ``"richardson"``.

    Examples
    --------
    >>> s = Stencil.central(1, 4)
    >>> [str(w) for w in s.weights], s.accuracy, s.error_coefficient
    (['1/12', '-2/3', '0', '2/3', '-1/12'], 4, Fraction(-1, 30))
    >>> print(s.formula())
    f'(x) ≈ [ f(x-2h) - 8f(x-h) + 8f(x+h) - f(x+2h) ] / (12h)
    error = -1/30 h^4 f^(5)(x) + O(h^5)
    >>> Stencil.forward(1, 2).to_dict()["weights"], Stencil.backward(1, 1).to_dict()["weights"]
    (['-3/2', '2', '-1/2'], ['-1', '1'])
    >>> Stencil.parse("central:2:d2") == Stencil.central(2, 2)
    True
    >>> s = Stencil.from_offsets(1, "-3/2, -1/2, 1/2, 3/2")  # staggered
    >>> [str(w) for w in s.weights], s.accuracy, str(s.error_coefficient)
    (['1/24', '-9/8', '9/8', '-1/24'], 4, '-3/640')
    >>> Stencil(1, (Fraction(0), Fraction(1)), (Fraction(-1), Fraction(1)), 2, Fraction(1, 2), "custom")
    Traceback (most recent call last):
    ...
    symgrad.errors.ConfigError: the weights give accuracy 1 (Σ w s^2 = 1 ≠ 0), not the stated accuracy 2
    """

    derivative: int
    offsets: tuple[Fraction, ...]
    weights: tuple[Fraction, ...]
    accuracy: int
    error_coefficient: Fraction
    kind: str

    def __post_init__(self) -> None:
        """Normalise the fields to exact numbers and check them against the weights."""
        m = _check_derivative(self.derivative)
        offsets = _check_offsets(self.offsets, m)
        weights = _check_weights(self.weights, len(offsets))
        stated = _check_accuracy(self.accuracy)
        constant = _to_fraction(self.error_coefficient, "error_coefficient", _MAX_WEIGHT_BITS)
        kind = _check_kind(self.kind)
        if list(offsets) != sorted(offsets):
            msg = "offsets must be ascending (the weights follow their order); sort both together"
            raise ConfigError(msg)
        if m == 0 and 0 in offsets:
            raise ConfigError(_INTERPOLATION_AT_ZERO)
        accuracy, coefficient = _order_and_constant(m, offsets, weights)
        _check_claims(m, (stated, constant), (accuracy, coefficient))
        if kind in _KINDS and offsets != _nodes(kind, m, accuracy):
            msg = f"{kind} stencils of accuracy {accuracy} sit on the offsets "
            msg += f"{', '.join(map(str, _nodes(kind, m, accuracy)))}; use kind='custom' for others"
            raise ConfigError(msg)
        fields = {"derivative": m, "offsets": offsets, "weights": weights, "accuracy": accuracy}
        for name, value in (fields | {"error_coefficient": coefficient, "kind": kind}).items():
            object.__setattr__(self, name, value)

    @classmethod
    def central(cls, derivative: int, accuracy: int) -> Stencil:
        """Centered stencil on ``-k ... k`` with ``2*floor((m+1)/2) - 1 + p`` points (p even)."""
        m, p = _check_derivative(derivative), _check_accuracy(accuracy)
        if p % 2:
            msg = (
                f"central stencils have even accuracy (got accuracy={p}); ask for accuracy={p + 1}"
                ", or use a forward or backward stencil for an odd order"
            )
            raise ConfigError(msg)
        base = 2 * ((m + 1) // 2) - 1
        _check_size(base + p, f"central derivative {m}, accuracy {p}", MAX_POINTS - base)
        return cls._build(m, _nodes("central", m, p), "central")

    @classmethod
    def forward(cls, derivative: int, accuracy: int) -> Stencil:
        """One-sided stencil on ``0 ... m+p-1`` (the boundary node first)."""
        m, p = _check_derivative(derivative), _check_accuracy(accuracy)
        _check_size(m + p, f"forward derivative {m}, accuracy {p}", MAX_POINTS - m)
        return cls._build(m, _nodes("forward", m, p), "forward")

    @classmethod
    def backward(cls, derivative: int, accuracy: int) -> Stencil:
        """One-sided stencil on ``-(m+p-1) ... 0`` (the boundary node last)."""
        m, p = _check_derivative(derivative), _check_accuracy(accuracy)
        _check_size(m + p, f"backward derivative {m}, accuracy {p}", MAX_POINTS - m)
        return cls._build(m, _nodes("backward", m, p), "backward")

    @classmethod
    def from_offsets(
        cls, derivative: int, offsets: Iterable[int | Fraction | str] | str
    ) -> Stencil:
        """Stencil on any distinct rational offsets: ints, Fractions or strings like ``'-3/2'``.

        One string is split at commas (``"-2,-1,0,1,2"``). Floats are refused: they are not the
        rationals they look like. Offsets are sorted; ``kind`` is ``"custom"``. Derivative 0 must
        avoid offset 0 (there the "stencil" is f(x0) itself, exact to every order).
        """
        m = _check_derivative(derivative)
        return cls._build(m, _check_offsets(offsets, m), "custom")

    @classmethod
    def parse(cls, spec: str) -> Stencil:
        """Stencil from a scheme string ``KIND:ACCURACY[:dM]`` (see the module docstring)."""
        kind, accuracy, derivative = _split_scheme(spec)
        constructor: Callable[[int, int], Stencil] = getattr(cls, kind)
        return constructor(derivative, accuracy)

    @classmethod
    def _build(cls, m: int, nodes: Iterable[int | Fraction], kind: str) -> Stencil:
        offsets = tuple(sorted(Fraction(s) for s in nodes))
        if m == 0 and 0 in offsets:
            raise ConfigError(_INTERPOLATION_AT_ZERO)
        weights = _fornberg(m, offsets, Fraction(0))
        accuracy, constant = _order_and_constant(m, offsets, weights)
        return cls(m, offsets, weights, accuracy, constant, kind)

    @property
    def size(self) -> int:
        """Number of points."""
        return len(self.offsets)

    @property
    def is_symmetric(self) -> bool:
        """True when the offsets are symmetric about 0 (``s`` is an offset iff ``-s`` is)."""
        return self.offsets == tuple(-s for s in reversed(self.offsets))

    def weights_as(self, convert: Callable[[Fraction], T]) -> tuple[T, ...]:
        """The weights converted one by one, e.g. by ``float``.

        For mpmath pass ``lambda w: ctx.mpf(w.numerator) / w.denominator`` (one rounding each).
        """
        return tuple(convert(w) for w in self.weights)

    def apply(self, values: Sequence[Any] | npt.NDArray[Any], h: Any, *, ctx: Any = None) -> Any:
        """Return ``h^-m Σ w_j values[j]``, with ``values[j] = f(x0 + offsets[j] h)``.

        Zero weights never touch their value (a NaN at the centre does not spoil a central first
        derivative). The arithmetic follows the values: Fractions with a rational ``h`` give an
        exact Fraction; mpmath numbers (or an explicit mpmath context ``ctx``) are combined with
        exact integer weights over one common denominator by ``ctx.fdot`` and one division; a
        numeric ndarray (axis 0 = offsets), floats or complex numbers use float64 weights.

        Examples
        --------
        >>> s = Stencil.central(1, 2)
        >>> s.apply([Fraction(1), Fraction(4), Fraction(9)], Fraction(1))  # x^2 at x = 2
        Fraction(4, 1)
        >>> float(s.apply(np.array([0.25, 1.0, 2.25]), 0.5))
        2.0
        """
        if _length(values) != self.size:
            msg = f"values must hold one entry per offset ({self.size}), got {reprlib.repr(values)}"
            raise InputError(msg)
        _check_step(h)
        live = [(j, w) for j, w in enumerate(self.weights) if w]
        ctx = ctx if ctx is not None else _mp_context(values[live[0][0]])
        m = self.derivative
        if ctx is not None:
            den = math.lcm(*(w.denominator for _, w in live))
            total = ctx.fdot([int(w * den) for _, w in live], [values[j] for j, _ in live])
            return total / (den * _to_mp(ctx, h) ** m)
        if isinstance(values, np.ndarray) and values.dtype != object:
            coef = np.array([float(w) for _, w in live])
            return np.tensordot(coef, values[[j for j, _ in live]], axes=(0, 0))[()] / h**m
        if all(_is_rational(values[j]) for j, _ in live) and _is_rational(h):
            return sum((w * Fraction(values[j]) for j, w in live), Fraction(0)) / Fraction(h) ** m
        return sum(float(w) * values[j] for j, w in live) / h**m

    def error_terms(self, up_to: int) -> tuple[tuple[int, Fraction], ...]:
        """The nonzero terms ``(j, C_j)``, p <= j <= ``up_to``, of the error expansion.

        ``FD(h) − f^(m)(x0) = Σ_j C_j h^j f^(m+j)(x0)`` with ``C_j = M_(m+j) / (m+j)!`` and the
        moments ``M_k = Σ w s^k``; the first term is ``(accuracy, error_coefficient)``.

        Examples
        --------
        >>> Stencil.central(1, 2).error_terms(6)  # odd moments only: f^(3), f^(5), f^(7)
        ((2, Fraction(1, 6)), (4, Fraction(1, 120)), (6, Fraction(1, 5040)))
        """
        m, p = self.derivative, self.accuracy
        moments = enumerate(_moments(self.offsets, self.weights, m + max(up_to, 0) + 1))
        return tuple((k - m, mk / math.factorial(k)) for k, mk in moments if k - m >= p and mk)

    def predicted_error(self, higher_derivative: Any, h: Any, *, ctx: Any = None) -> Any:
        """The leading error term ``C h^p f^(m+p)(x0)`` from ``f^(m+p)(x0)`` and the step ``h``.

        Exact for rational arguments, mpmath for mpmath arguments (or ``ctx``), float otherwise.

        Examples
        --------
        >>> Stencil.central(1, 2).predicted_error(Fraction(-1), Fraction(1, 10))
        Fraction(-1, 600)
        """
        if ctx is None:
            ctx = _mp_context(higher_derivative) or _mp_context(h)
        c, p = self.error_coefficient, self.accuracy
        if ctx is not None:
            return _to_mp(ctx, c) * _to_mp(ctx, h) ** p * _to_mp(ctx, higher_derivative)
        if _is_rational(higher_derivative) and _is_rational(h):
            return c * Fraction(h) ** p * Fraction(higher_derivative)
        return float(c) * h**p * higher_derivative

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (the ``symgrad stencil`` keys), exact rationals as strings."""
        return {
            "derivative": self.derivative,
            "offsets": [str(s) for s in self.offsets],
            "weights": [str(w) for w in self.weights],
            "accuracy": self.accuracy,
            "error_coefficient": str(self.error_coefficient),
            "kind": self.kind,
        }

    def formula(self) -> str:
        """Two lines: the formula over a common integer denominator, and the leading error term."""
        name, numer, under, error = self._pieces(latex=False)
        if under:  # "(12h)" but "h^2" and "2": parentheses only around a number times h^m
            numer = (
                f"[ {numer} ] / {f'({under})' if under[0].isdigit() and 'h' in under else under}"
            )
        return f"{name}(x) ≈ {numer}\nerror = {error}"

    def latex(self) -> str:
        r"""The formula and its error term as one LaTeX math expression (without ``$``).

        Examples
        --------
        >>> print(Stencil.central(1, 2).latex())
        f'(x) \approx \frac{-f(x-h) + f(x+h)}{2h}, \qquad \text{error} = \frac{1}{6} h^{2} f'''(x) + O(h^{3})
        """
        name, numer, under, error = self._pieces(latex=True)
        rhs = rf"\frac{{{numer}}}{{{under}}}" if under else numer
        return rf"{name}(x) \approx {rhs}, \qquad \text{{error}} = {error}"

    def to_text(self) -> str:
        """A small offsets/weights table followed by :meth:`formula`."""
        rows = [("offset", "weight"), *((str(s), str(w)) for s, w in self._pairs())]
        width = max(len(cell) for row in rows for cell in row)
        table = "\n".join(f"  {a:>{width}}  {b:>{width}}" for a, b in rows)
        return f"{self._title()}\n{table}\n{self.formula()}"

    def to_markdown(self) -> str:
        """The content of :meth:`to_text` as Markdown: a table and the formula in code spans."""
        rows = "".join(f"| {s} | {w} |\n" for s, w in self._pairs())
        lines = "\n\n".join(f"`{line}`" for line in self.formula().splitlines())
        return f"**{self._title()}**\n\n| offset | weight |\n| ---: | ---: |\n{rows}\n{lines}"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _pairs(self) -> zip[tuple[Fraction, Fraction]]:
        return zip(self.offsets, self.weights, strict=True)

    def _title(self) -> str:
        m, p, n = self.derivative, self.accuracy, self.size
        return f"{self.kind} stencil: derivative {m}, accuracy {p}, {n} points"

    def _pieces(self, *, latex: bool) -> tuple[str, str, str, str]:
        """Derivative name, integer numerator, denominator ``D h^m`` and the error term."""
        den = math.lcm(*(w.denominator for w in self.weights))
        terms = [(int(w * den), s) for s, w in self._pairs() if w]
        numer = _join_terms([(c, f"f({_point(s, latex=latex)})") for c, s in terms])
        m, p = self.derivative, self.accuracy
        under = ("" if den == 1 else str(den)) + _power("h", m, latex=latex)
        hp, hq = _power("h", p, latex=latex), _power("h", p + 1, latex=latex)
        coef = _coef(self.error_coefficient, latex=latex)
        error = f"{coef}{hp} {_dname(m + p, latex=latex)}(x) + O({hq})"
        return _dname(m, latex=latex), numer, under, error


def fornberg_weights(
    derivative: int, offsets: Iterable[int | Fraction | str] | str, x0: int | Fraction | str = 0
) -> tuple[Fraction, ...]:
    """Exact weights of the m-th derivative at ``x0`` on the nodes ``offsets`` (in their order).

    Examples
    --------
    >>> [str(w) for w in fornberg_weights(1, [0, 1, 2], x0=1)]
    ['-1/2', '0', '1/2']
    """
    m = _check_derivative(derivative)
    return _fornberg(m, _check_offsets(offsets, m), _to_fraction(x0, "x0"))


# The mathematics.  With nodes a_j (h = 1) the formula  Σ_j w_j f(a_j) ≈ f^(m)(x0)  is exact for
# every polynomial of degree < n (n nodes) iff the Taylor moment conditions hold:
#     Σ_j w_j (a_j - x0)^k = m! [k = m],   k = 0, ..., n - 1,
# a Vandermonde system with one solution because the nodes are distinct.  The solution is
# w_j = L_j^(m)(x0), the m-th derivative of the Lagrange basis polynomial of node j, and Fornberg
# (1988) builds these node by node without forming the matrix: adding node a_n multiplies each old
# L_j by (x - a_n)/(a_j - a_n), so by Leibniz's rule its k-th derivative at x0 becomes
#     ((a_n - x0) δ^k_j - k δ^(k-1)_j) / (a_n - a_j);
# the new L_n is (c1/c2) (x - a_(n-1)) L_(n-1), with c1 = Π_(j<n-1) (a_(n-1) - a_j) and
# c2 = Π_(j<n) (a_n - a_j), giving  δ^k_n = (c1/c2) (k δ^(k-1)_(n-1) - (a_(n-1) - x0) δ^k_(n-1)).
# prev[k + 1][j] holds δ^k_j of the previous stage; row 0 is δ^(-1) = 0, so k = 0 is not special.
def _fornberg(m: int, nodes: Sequence[Fraction], x0: Fraction) -> tuple[Fraction, ...]:
    n_nodes = len(nodes)
    prev = [[Fraction(0)] * n_nodes for _ in range(m + 2)]
    prev[1][0] = Fraction(1)
    c1 = Fraction(1)
    for n in range(1, n_nodes):
        cur = [[Fraction(0)] * n_nodes for _ in range(m + 2)]
        c2 = Fraction(1)
        for j in range(n):
            c3 = nodes[n] - nodes[j]
            c2 *= c3
            for k in range(min(n, m) + 1):
                cur[k + 1][j] = ((nodes[n] - x0) * prev[k + 1][j] - k * prev[k][j]) / c3
        for k in range(min(n, m) + 1):
            cur[k + 1][n] = (
                c1 / c2 * (k * prev[k][n - 1] - (nodes[n - 1] - x0) * prev[k + 1][n - 1])
            )
        c1, prev = c2, cur
    return tuple(prev[m + 1])


# Moments M_k = Σ w_j s_j^k.  Weights approximate f^(m) iff M_k = m! [k = m] for k <= m
# (Fornberg's weights satisfy it for every k < size; hand-built ones are checked).  The first nonzero M_k
# with k > m gives p = k - m and C = M_k / k!.  The search always ends: if the N nonzero offsets
# had N consecutive vanishing moments beyond m, their weights would vanish (a scaled Vandermonde
# matrix is invertible), contradicting M_m = m! (for m = 0, M_0 = 1 with no node at 0, which the
# constructor enforces).  Hence p <= N <= size, and C is never zero.
@functools.lru_cache(maxsize=256)  # the constructors compute it, then __post_init__ checks it
def _order_and_constant(
    m: int, offsets: tuple[Fraction, ...], weights: tuple[Fraction, ...]
) -> tuple[int, Fraction]:
    """(p, C) from the moments; ConfigError when the weights approximate no m-th derivative."""
    for k, moment in enumerate(_moments(offsets, weights, m + len(offsets) + 1)):
        want = math.factorial(m) if k == m else 0
        if k <= m and moment != want:
            msg = (
                f"the weights approximate no derivative of order {m}: Σ w s^{k} = {moment}, "
                f"but a stencil for it needs {want}"
            )
            raise ConfigError(msg)
        if k > m and moment:
            return k - m, moment / math.factorial(k)
    msg = "unreachable: a finite stencil always has a nonzero moment beyond its derivative"
    raise AssertionError(msg)


def _moments(
    offsets: Sequence[Fraction], weights: Sequence[Fraction], count: int
) -> Iterator[Fraction]:
    """``M_k = Σ_j w_j s_j^k`` for k = 0, 1, ... count - 1, one at a time."""
    powers = list(weights)
    for _ in range(count):
        yield sum(powers, Fraction(0))
        powers = [q * s for q, s in zip(powers, offsets, strict=True)]


def _check_claims(m: int, stated: tuple[int, Fraction], true: tuple[int, Fraction]) -> None:
    """The stated accuracy and error coefficient must be those of the weights."""
    (p, c), (accuracy, coefficient) = stated, true
    moment = coefficient * math.factorial(m + accuracy)
    if p != accuracy:
        msg = f"the weights give accuracy {accuracy} (Σ w s^{m + accuracy} = {moment} ≠ 0), "
        raise ConfigError(msg + f"not the stated accuracy {p}")
    if c != coefficient:
        msg = f"the weights give the error coefficient {coefficient} (Σ w s^{m + accuracy} "
        raise ConfigError(msg + f"/ {m + accuracy}! = {coefficient}), not the stated {c}")


def _nodes(kind: str, m: int, p: int) -> tuple[Fraction, ...]:
    """The offsets of the named stencils: central ``-k ... k``, one-sided ``m + p`` points."""
    if kind == "central":
        k = (2 * ((m + 1) // 2) - 2 + p) // 2
        nodes = range(-k, k + 1)
    else:
        nodes = range(m + p) if kind == "forward" else range(1 - m - p, 1)
    return tuple(Fraction(s) for s in nodes)


def _check_weights(weights: object, size: int) -> tuple[Fraction, ...]:
    items = list(weights) if isinstance(weights, Iterable) and not isinstance(weights, str) else []
    if len(items) != size:
        msg = f"weights must hold one rational per offset ({size}), got {_show(weights)}"
        raise ConfigError(msg)
    return tuple(_to_fraction(w, f"weights[{i}]", _MAX_WEIGHT_BITS) for i, w in enumerate(items))


def _check_kind(kind: object) -> str:
    if kind not in (*_KINDS, *_OTHER_KINDS):
        msg = f"kind must be one of {', '.join((*_KINDS, *_OTHER_KINDS))} (got {_show(kind)})"
        raise ConfigError(msg)
    return str(kind)


def _check_derivative(derivative: object) -> int:
    if isinstance(derivative, bool) or not isinstance(derivative, numbers.Integral):
        kind = type(derivative).__name__
        msg = f"derivative must be an integer >= 0 (got {_show(derivative)}, a {kind})"
        raise ConfigError(msg)
    m = int(derivative)
    if m < 0:
        msg = f"derivative must be >= 0 (got {m}); ask for 1 for the first derivative"
        raise ConfigError(msg)
    if m > MAX_DERIVATIVE:
        msg = f"derivative={m} is above the cap of {MAX_DERIVATIVE}; ask for a lower derivative"
        raise LimitExceeded(msg, limit="derivative_order", value=m, allowed=MAX_DERIVATIVE)
    return m


def _check_accuracy(accuracy: object) -> int:
    if isinstance(accuracy, bool) or not isinstance(accuracy, numbers.Integral) or accuracy < 1:
        msg = f"accuracy must be a positive integer such as 2 or 4 (got {_show(accuracy)})"
        raise ConfigError(msg)
    return int(accuracy)


def _check_size(size: int, what: str, max_accuracy: int) -> None:
    if size > MAX_POINTS:
        msg = f"{what} needs {size} points, above the cap of {MAX_POINTS}; "
        msg += f"ask for accuracy <= {max_accuracy}"
        raise LimitExceeded(msg, limit="stencil_size", value=size, allowed=MAX_POINTS)


def _check_offsets(offsets: object, m: int) -> tuple[Fraction, ...]:
    items = offsets.split(",") if isinstance(offsets, str) else offsets
    if not isinstance(items, Iterable):
        msg = f"offsets must be a sequence of rationals such as [-1, 0, 1] (got {_show(offsets)})"
        raise ConfigError(msg)
    head = list(itertools.islice(items, MAX_POINTS + 1))
    if len(head) > MAX_POINTS:
        msg = f"offsets holds more than {MAX_POINTS} points, the cap; use fewer offsets"
        raise LimitExceeded(msg, limit="stencil_size", value=len(head), allowed=MAX_POINTS)
    nodes = tuple(_to_fraction(v, f"offsets[{i}]") for i, v in enumerate(head))
    repeated = sorted({s for s in nodes if nodes.count(s) > 1})
    if repeated:
        shown = ", ".join(map(str, repeated))
        msg = f"offsets must be distinct (got {shown} more than once); drop the repeats"
        raise ConfigError(msg)
    if len(nodes) < m + 1:
        msg = f"derivative {m} needs at least {m + 1} offsets (got {len(nodes)}); add offsets"
        raise ConfigError(msg)
    return nodes


def _to_fraction(value: object, name: str, bits: int = _MAX_OFFSET_BITS) -> Fraction:
    frac = None
    if isinstance(value, str):
        frac = _parse_rational(value.strip())
    elif _is_rational(value):  # int, Fraction, numpy integers; not bool, not float
        frac = Fraction(int(value.numerator), int(value.denominator))
    if frac is None:
        msg = f"{name} must be an int, a Fraction or a string like '-3/2' or '0.5' "
        msg += f"(got {_show(value)}, a {type(value).__name__})"
        raise ConfigError(msg)
    if max(frac.numerator.bit_length(), frac.denominator.bit_length()) > bits:
        msg = f"{name} is too large: numerator and denominator must fit in {bits} bits"
        raise LimitExceeded(msg, limit="offset_size", value=frac, allowed=bits)
    return frac


def _parse_rational(text: str) -> Fraction | None:
    if not _RATIONAL_TEXT.fullmatch(text):
        return None
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):  # "", "." or "1/0"
        return None


def _split_scheme(spec: object) -> tuple[str, int, int]:
    """``"central:4:d2"`` -> ``("central", 4, 2)``, with a message for each way it can be wrong."""
    if not isinstance(spec, str):
        msg = f"scheme must be a string (got {_show(spec)}); {_SCHEME_HELP}"
        raise ConfigError(msg)
    parts = spec.strip().lower().split(":")
    if parts[0] not in _KINDS:
        hint = "the complex step is not a stencil; " if parts[0] == "complex" else ""
        msg = (
            f"unknown stencil kind {quote(parts[0])} in scheme {quote(spec)}; {hint}{_SCHEME_HELP}"
        )
        raise ConfigError(msg)
    if len(parts) not in (2, 3) or not re.fullmatch(r"\d{1,4}", parts[1]):
        msg = f"scheme {quote(spec)} needs a positive integer accuracy; {_SCHEME_HELP}"
        raise ConfigError(msg)
    match = re.fullmatch(r"d(\d{1,4})", parts[2]) if len(parts) == 3 else None
    if len(parts) == 3 and match is None:
        msg = f"scheme {quote(spec)}: write the derivative as dM, such as d2; {_SCHEME_HELP}"
        raise ConfigError(msg)
    return parts[0], int(parts[1]), int(match.group(1)) if match else 1


def _check_step(h: Any) -> None:
    if isinstance(h, (bool, str, bytes)) or np.any(np.equal(np.asarray(h, dtype=object), 0)):
        msg = f"h must be a nonzero number (got {_show(h)})"
        raise ConfigError(msg)


def _length(values: object) -> int:
    """``len(values)`` for a sequence or an array (axis 0); -1 for text and scalars."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sized):
        return -1
    try:
        return len(values)
    except TypeError:  # a 0-d array is Sized but has no length
        return -1


def _mp_context(sample: Any) -> Any:
    """The mpmath context of an mpf/mpc (mpmath attaches it to the number's type), else None."""
    ctx = getattr(type(sample), "context", None)
    return ctx if hasattr(ctx, "fdot") else None


def _to_mp(ctx: Any, value: Any) -> Any:
    if isinstance(value, Fraction):
        return ctx.mpf(value.numerator) / value.denominator
    return ctx.convert(value)


def _is_rational(value: object) -> TypeGuard[numbers.Rational]:
    return not isinstance(value, bool) and isinstance(value, numbers.Rational)


def _show(value: object) -> str:
    return quote(value) if isinstance(value, str) else reprlib.repr(value)


def _point(s: Fraction, *, latex: bool) -> str:
    """``x``, ``x+h``, ``x-2h``, ``x+3h/2`` (LaTeX ``x+\\tfrac{3h}{2}``)."""
    if s == 0:
        return "x"
    num, den = abs(s.numerator), s.denominator
    body = f"{'' if num == 1 else num}h"
    if den != 1:
        body = rf"\tfrac{{{body}}}{{{den}}}" if latex else f"{body}/{den}"
    return f"x{'+' if s > 0 else '-'}{body}"


def _join_terms(terms: Sequence[tuple[int, str]]) -> str:
    """Integer-coefficient sum such as ``f(x-2h) - 8f(x-h) + 8f(x+h) - f(x+2h)``."""
    out = []
    for i, (c, body) in enumerate(terms):
        sign = ("-" if c < 0 else "") if i == 0 else (" - " if c < 0 else " + ")
        out.append(f"{sign}{'' if abs(c) == 1 else abs(c)}{body}")
    return "".join(out)


def _power(base: str, n: int, *, latex: bool) -> str:
    """``""``, ``h``, ``h^2`` (LaTeX ``h^{2}``)."""
    if n <= 1:
        return base * n
    return f"{base}^{{{n}}}" if latex else f"{base}^{n}"


def _coef(c: Fraction, *, latex: bool) -> str:
    """The error constant as a prefix: ``1/6 ``, ``-`` for -1, nothing for 1."""
    if abs(c) == 1:
        return "-" if c < 0 else ""
    if latex and c.denominator != 1:
        return rf"{'-' if c < 0 else ''}\frac{{{abs(c.numerator)}}}{{{c.denominator}}} "
    return f"{c} "


def _dname(m: int, *, latex: bool) -> str:
    """``f``, ``f'``, ``f''``, ``f'''``, then ``f^(4)`` (LaTeX ``f^{(4)}``)."""
    if m <= 3:
        return "f" + "'" * m
    return f"f^{{({m})}}" if latex else f"f^({m})"


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


def tensor_points(
    stencils: Sequence[Stencil | None],
) -> list[tuple[Fraction, tuple[Fraction, ...]]]:
    """Every point of a tensor-product stencil: its exact weight and its offset per axis.

    An axis without a stencil (None: not differentiated) contributes offset 0 and weight 1;
    points of zero weight are left out.
    """
    axes = [
        [(Fraction(0), Fraction(1))]
        if s is None
        else [(o, w) for o, w in zip(s.offsets, s.weights, strict=True) if w]
        for s in stencils
    ]
    return [
        (math.prod((w for _, w in c), start=Fraction(1)), tuple(o for o, _ in c))
        for c in itertools.product(*axes)
    ]
