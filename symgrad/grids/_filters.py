"""Image-filter derivative schemes (Sobel, Scharr) for :func:`symgrad.verify_grid`.

An image filter is a finite-difference scheme in disguise, with an unusual scale: calibrating it
against an exact field (``verify_grid(f, domain, scheme=sobel_scheme(normalize=False))``) shows
its effective factor (8·h for the 2-D Sobel operator) and its observed order.  NumPy only.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from symgrad.errors import InputError

__all__ = ["KernelScheme", "scharr_scheme", "sobel_scheme"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class KernelScheme:
    """A 3x3(x3) derivative filter: ``[-1, 0, 1]`` along the axis, ``smooth`` across it.

    The Sobel (``smooth = (1, 2, 1)``) and Scharr (``(3, 10, 3)``) operators.  Along the axis the
    filter is ``f(x+h) - f(x-h) = 2h f' + O(h³)``; across, every weight is applied as written,
    ``a g(y-h) + b g(y) + c g(y+h) = s g + (c - a) h g' + (a + c) h² g''/2 + ...`` with
    ``s = a + b + c``.  The raw response is therefore ``2h s^(d-1)`` times the derivative plus
    ``O(h²)`` for a symmetric smoothing (``a = c``): 8h for 2-D Sobel, 32h for 2-D Scharr; an
    asymmetric one adds an ``O(h)`` term (order 1).  With ``normalize=True`` the factor is
    divided out and a symmetric filter's interior converges at order 2.  Borders are padded by
    repeating the edge values (as image libraries do), which halves the derivative there: the
    boundary region does not converge (order 0).

    Raises
    ------
    InputError
        ``smooth`` is not three finite real weights, or its weights sum to zero (``s = 0``: the
        smoothing annihilates a constant, so the response carries no first derivative to scale;
        a second difference such as ``(1, -2, 1)`` is not a smoothing), checked when the
        scheme is built.
    """

    name: str
    smooth: tuple[float, float, float]
    normalize: bool

    def __post_init__(self) -> None:
        """Refuse weights that are not three finite reals, or that sum to zero."""
        weights: object = self.smooth
        if (
            not isinstance(weights, tuple | list)
            or len(weights) != 3
            or not all(_finite_real(w) for w in weights)
        ):
            msg = f"smooth: give three finite real weights (a, b, c) (got {weights!r:.60})"
            raise InputError(msg)
        if math.fsum(float(w) for w in weights) == 0:
            msg = (
                f"smooth: the weights {weights!r:.60} sum to zero, so the smoothing removes a "
                "constant and the response has no derivative to scale; give weights with a "
                "nonzero sum such as (1, 2, 1)"
            )
            raise InputError(msg)
        object.__setattr__(self, "smooth", tuple(float(w) for w in weights))

    def __call__(self, field: FloatArray, spacing: tuple[Any, ...]) -> list[FloatArray]:
        """The filter response (or derivative estimate) along each axis of ``field``."""
        if any(np.ndim(h) for h in spacing):
            msg = f"{self!r} needs a uniform grid: pass no coordinates"
            raise InputError(msg)
        padded = np.pad(field, 1, mode="edge")
        a, b, c = self.smooth
        out = []
        for axis, h in enumerate(spacing):
            value = _cut(padded, axis, 2) - _cut(padded, axis, 0)
            for other in (k for k in range(field.ndim) if k != axis):
                value = (
                    a * _cut(value, other, 0)
                    + b * _cut(value, other, 1)
                    + c * _cut(value, other, 2)
                )
            if self.normalize:
                value /= 2 * h * math.fsum(self.smooth) ** (field.ndim - 1)
            out.append(value)
        return out

    def __repr__(self) -> str:
        return f"{self.name}_scheme(normalize={self.normalize})"


def _finite_real(w: object) -> bool:
    return not isinstance(w, bool) and isinstance(w, numbers.Real) and math.isfinite(float(w))


def _cut(a: FloatArray, axis: int, start: int) -> FloatArray:
    """``a`` shifted by ``start`` along ``axis``, two entries shorter (a 3-point window)."""
    index = [slice(None)] * a.ndim
    index[axis] = slice(start, a.shape[axis] - 2 + start)
    return a[tuple(index)]


def sobel_scheme(normalize: bool = True) -> KernelScheme:
    """The Sobel operator as a scheme for :func:`verify_grid` (raw response: 8h × the derivative).

    Examples
    --------
    >>> from symgrad import verify_grid
    >>> r = verify_grid("3*x - 2*y", "x=0:1,y=0:1", (9, 17, 33), sobel_scheme(normalize=False))
    >>> d = r.diagnostics[0]
    >>> d["kind"], round(d["per_h"], 12), d["scales_as"]
    ('constant_factor', 8.0, 'h^1')
    """
    return KernelScheme("sobel", (1.0, 2.0, 1.0), normalize)


def scharr_scheme(normalize: bool = True) -> KernelScheme:
    """The Scharr operator as a scheme for :func:`verify_grid` (raw response: 32h × the derivative).

    Examples
    --------
    >>> from symgrad import verify_grid
    >>> r = verify_grid("sin(x + 0.3)*exp(y/2)", "x=-1:1,y=-1:1", (17, 33, 65), scharr_scheme())
    >>> r.components[0].interior.status
    <Status.PASS: 'pass'>
    """
    return KernelScheme("scharr", (3.0, 10.0, 3.0), normalize)


# ------------------------------------------------------------------ manufactured sources
