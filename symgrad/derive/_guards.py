"""Where symengine's machine code computes a formula differently from NumPy, and the guards.

The symengine evaluator (:mod:`symgrad.derive._fused`) must give NumPy's value at every point,
to float64 rounding: the same class (NaN, +inf, -inf, finite, the sign of a zero) and a value
within a few units in the last place.  The two programs compute the same formula, but three
of symengine's primitive operations are not NumPy's:

* **Square roots.**  symengine has no square root: ``sqrt(u)`` is ``u**(1/2)``, computed by the
  C library's ``pow(u, 0.5)``.  NumPy computes ``sqrt(u)``.  They differ exactly where IEEE 754
  defines them differently: ``pow(-inf, 0.5) = +inf`` where ``sqrt(-inf)`` is NaN, and
  ``pow(-0.0, 0.5) = +0.0`` where ``sqrt(-0.0)`` is ``-0.0``; so ``sqrt(x)*y`` at ``x = -inf``
  was ``inf`` on symengine, NaN on NumPy, and ``1/sqrt(x)`` at ``x = -0.0`` was ``+inf`` against
  ``-inf``.
* **Integer powers.**  symengine computes ``u**k`` by repeated multiplication (LLVM's ``powi``),
  whose error grows with ``k`` (measured: 3 ulp at ``k = 5``, 30 at ``k = 50``, 700 at
  ``k = 1000``) and whose intermediate powers overflow or underflow where ``u**k`` does not
  (``u**-2`` at ``u = 1e156`` is ``1/inf = 0``, not ``1e-312``).  NumPy calls ``pow``.  This
  is fixed at the source: the formula handed to symengine writes such exponents as floats
  (:func:`machine_form`), which symengine computes with ``pow``, bit for bit NumPy's value at
  every edge value tried (``u**2`` stays ``u*u`` and ``u**-1`` stays ``1/u``, as in NumPy).
* **Quotients.**  symengine has no division: ``x/y**k`` is ``x * y**-k``, a reciprocal then a
  product, where NumPy divides.  Both round twice or once in the normal range, but the
  reciprocal overflows for a denormal ``y`` (``x/y`` at ``x = y = 5e-324`` was ``inf``, not 1)
  and underflows for a huge one.

Square roots and quotients cannot be written so that symengine computes them as NumPy does, so
they are **guarded**: the symengine program also returns the base of every square root and of
every negative power in a product (:func:`edge_guards`), and :func:`unsafe_points` marks, with
a few vectorized comparisons per block (never a Python loop over points), the points where a
base leaves the range in which the two computations provably agree:

* a square root's base must be positive and finite (``-inf``, ``-0.0`` and NaN are not);
* the base ``y`` of ``y**-k`` among ``m`` such factors of one product must have
  ``|y|**k`` within ``2**±(1000/m)``, so that the reciprocals, their products and NumPy's
  denominator are all normal numbers;
* every input must be 0 or finite with ``2**-511 <= |x| <= 2**511``, and every value the
  program returns must be finite with ``|v| <= 2**1000``: the remaining difference of the two
  programs is the *order* of their sums and products (symengine sorts terms and factors by
  its own hash), which can only change a result's class when a partial sum or product
  overflows or underflows, and that needs huge or tiny values.

The marked points are computed again by NumPy's program and written over symengine's values.
So at ``±inf``, NaN, ``±0.0``, denormal and huge inputs, negative numbers under a square root,
``0**0`` and ``0**-k``, every evaluator returns NumPy's value.  What the guards cannot see is an
intermediate value that overflows or underflows in NumPy's order of a sum or product but not
in symengine's, from moderate inputs, where neither the inputs nor the results are extreme; the
exact value of the formula is then finite, and the two results differ by the rounding of their
orders, as two NumPy programs with their terms in different orders would.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sympy

from symgrad.derive._trees import bottom_up, compound_nodes

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "INPUT_RANGE",
    "RESULT_RANGE",
    "Guards",
    "edge_guards",
    "extreme_points",
    "machine_form",
    "unsafe_points",
]

#: Inputs outside ``2**-INPUT_RANGE <= |x| <= 2**INPUT_RANGE`` (but 0) are computed by NumPy.
INPUT_RANGE = 511
#: Results beyond ``2**RESULT_RANGE`` in magnitude (and inf, NaN) are computed by NumPy.
RESULT_RANGE = 1000
_QUOTIENT_RANGE = 1000  # bits shared by the denominators of one product
_TINY = 2.0**-INPUT_RANGE
_HUGE = 2.0**INPUT_RANGE
_TOP = 2.0**RESULT_RANGE
_LARGEST = 1.7976931348623157e308  # the largest float64
_HALF = sympy.Rational(1, 2)


@dataclass(frozen=True, slots=True)
class Guards:
    """The values a symengine program returns besides its components, and their ranges.

    ``roots`` are the bases of square roots (each must be positive and finite); ``bases`` the
    bases of negative powers in products, the k-th within ``[low[k], high[k]]`` in magnitude.
    """

    roots: tuple[Any, ...]
    bases: tuple[Any, ...]
    low: npt.NDArray[np.float64]
    high: npt.NDArray[np.float64]

    @property
    def exprs(self) -> list[Any]:
        """The guarded values, as extra outputs of the program: roots first, then bases."""
        return [*self.roots, *self.bases]


def edge_guards(exprs: Iterable[Any]) -> Guards:
    """The guards of the formula ``exprs`` (already CSE'd and float-printable), one pass."""
    import numpy as np  # noqa: PLC0415 - the module is imported without NumPy

    roots: dict[Any, None] = {}
    bits: dict[Any, int] = {}
    for node in compound_nodes(e for e in exprs if isinstance(e, sympy.Basic)):
        if isinstance(node, sympy.Pow) and abs(node.exp) == _HALF:
            roots[node.base] = None
        elif isinstance(node, sympy.Mul):
            _quotient_bits(node, bits)
    high = 2.0 ** np.array(list(bits.values()), dtype=np.float64)
    return Guards(tuple(roots), tuple(bits), 1 / high, high)


def _quotient_bits(product: sympy.Mul, bits: dict[Any, int]) -> None:
    """Record the range of each base of a negative power among the factors of ``product``."""
    negative = [
        f
        for f in product.args
        if isinstance(f, sympy.Pow) and f.exp.is_Rational and f.exp < 0 and f.exp != -_HALF
    ]
    for factor in negative:
        allowed = int(_QUOTIENT_RANGE / (len(negative) * abs(factor.exp)))
        bits[factor.base] = min(bits.get(factor.base, allowed), allowed)


def machine_form(exprs: Sequence[Any]) -> list[Any]:
    """``exprs`` with every integer exponent but -1, 0, 1 and 2 written as a float.

    symengine computes a float exponent with ``pow``, as NumPy does, and an integer one by
    repeated multiplication (see the module docstring).  Shared subtrees are rebuilt once.
    """
    memo: dict[Any, Any] = {}
    for expr in exprs:
        if isinstance(expr, sympy.Basic):
            bottom_up(expr, memo, _float_exponent)
    return [memo.get(e, e) for e in exprs]


def _float_exponent(node: Any, args: list[Any]) -> Any:
    if isinstance(node, sympy.Pow) and node.exp.is_Integer and int(node.exp) not in (-1, 0, 1, 2):
        return sympy.Pow(args[0], sympy.Float(int(node.exp)), evaluate=False)
    if all(new is old for new, old in zip(args, node.args, strict=True)):
        return node
    return node.func(*args, evaluate=False)


def unsafe_points(
    packed: npt.NDArray[np.float64], out: npt.NDArray[np.float64], width: int, guards: Guards
) -> npt.NDArray[np.intp]:
    """The points (rows) where symengine's values may not be NumPy's: recompute them.

    ``packed`` holds the inputs (points x variables), ``out`` the components (its first
    ``width`` columns) and then the guarded values in the order of :attr:`Guards.exprs`.  A
    few reductions over the block decide that every point is safe, the usual case; only a
    block that fails them is examined point by point (still vectorized).
    """
    import numpy as np  # noqa: PLC0415 - the module is imported without NumPy

    split = width + len(guards.roots)
    if (
        _inputs_safe(packed)
        and _bounded(out, _TOP)  # components and guarded values alike: finite, not huge
        and (split == width or bool(out[:, width:split].min() > 0))
        and (split == out.shape[1] or _bases_safe(np.abs(out[:, split:]), guards))
    ):
        return np.empty(0, dtype=np.intp)
    bad = ~_rows_in_range(np.abs(packed), _TINY, _HUGE, zero=True)
    bad |= ~(np.abs(out[:, :width]) <= _TOP).all(axis=1)
    roots = out[:, width:split]
    bad |= ~((roots > 0) & (roots <= _LARGEST)).all(axis=1)
    bad |= ~_rows_in_range(np.abs(out[:, split:]), guards.low, guards.high, zero=False)
    return np.flatnonzero(bad)


def _bases_safe(bases: npt.NDArray[np.float64], guards: Guards) -> bool:
    """Whether every base of a negative power is within its range (reductions per column)."""
    return bool(
        (bases.min(axis=0) >= guards.low).all() and (bases.max(axis=0) <= guards.high).all()
    )


def _inputs_safe(packed: npt.NDArray[np.float64]) -> bool:
    """Whether every input is finite and in range (no 0 below the range either): reductions."""
    import numpy as np  # noqa: PLC0415 - see unsafe_points

    return _bounded(packed, _HUGE) and bool(np.abs(packed).min() >= _TINY)


def extreme_points(arrays: Sequence[Any], values: Sequence[Any]) -> npt.NDArray[np.intp]:
    """The points of a program computed statement by statement (numexpr) to compute again.

    Those with an input outside the range of ``INPUT_RANGE`` or a result beyond
    ``RESULT_RANGE`` (inf and NaN included): only there can the order of the program's sums
    and products change a result's class (see the module docstring).  One vectorized test per
    input and per result; points of 0-d inputs and results are the same everywhere.
    """
    import numpy as np  # noqa: PLC0415 - see unsafe_points

    size = max((a.size for a in arrays if a.ndim), default=0)
    bad = np.zeros(size, dtype=bool)
    for a in arrays:
        if a.ndim and a.size == size and not _inputs_safe(a):
            bad |= ~_rows_in_range(np.abs(a)[:, None], _TINY, _HUGE, zero=True)
    for v in values:
        if isinstance(v, np.ndarray) and v.ndim and v.size == size and not _bounded(v, _TOP):
            bad |= ~(np.abs(v) <= _TOP)
    return np.flatnonzero(bad)


def _bounded(values: npt.NDArray[np.float64], top: float) -> bool:
    """Whether every value is finite and within ``top`` in magnitude (two reductions)."""
    return bool(values.max() <= top and values.min() >= -top)  # NaN compares false


def _rows_in_range(
    magnitude: npt.NDArray[np.float64], low: Any, high: Any, *, zero: bool
) -> npt.NDArray[np.bool_]:
    """Per row: whether every magnitude is within ``[low, high]`` (or 0, when allowed)."""
    inside = (magnitude >= low) & (magnitude <= high)
    if zero:
        inside |= magnitude == 0
    return inside.all(axis=1)  # type: ignore[no-any-return]
