"""Exact derivatives in the shapes ``scipy.optimize`` expects: ``for_scipy``.

``scipy.optimize.minimize`` calls ``fun(x, *args)``, ``jac(x, *args)``, ``hess(x, *args)`` and
``hessp(x, p, *args)`` with one 1-D vector ``x`` of the ``n`` unknowns and returns a float, an
``(n,)`` gradient and an ``(n, n)`` Hessian; ``least_squares`` calls ``fun(x, *args)`` for the
residual vector of length ``M`` and ``jac(x, *args)`` for its ``(M, n)`` Jacobian.  symgrad's
compiled functions return components first (``(n, *batch)``, ``(m, n, *batch)``), so this
module reorders them once, here, instead of in every user's lambda.

Data passed through ``args`` may be arrays (the sample times ``t`` and observations ``y`` of a
fit).  Residuals evaluated over ``N`` data points are flattened expression by expression
(``M = m·N``, the rows of the Jacobian in the same order); a scalar objective evaluated over
data arrays is summed over them (a sum of losses), and so are its gradient and Hessian.

Derivatives are differentiated and compiled on first use (a BFGS run never builds the Hessian).
With ``sparse=True`` only the entries that are not identically zero are compiled and
evaluated, and ``jac`` (residuals) and ``hess`` return ``scipy.sparse.csr_array``; this needs
scipy (the ``scipy`` extra) and is worth it when most entries vanish (Rosenbrock's Hessian is
tridiagonal: 3n - 2 of n² entries).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import sympy

from symgrad.derive._codegen import Compiled
from symgrad.derive._cost import Limits
from symgrad.derive._derivatives import (
    NamesSpec,
    function,
    gradient,
    hessian,
    jacobian,
    sparse_entries,
)
from symgrad.errors import ConfigError, InputError, MissingExtra
from symgrad.expr import Source

__all__ = ["ScipyProblem", "for_scipy"]

FloatArray = npt.NDArray[np.float64]


def for_scipy(
    expr_or_residuals: Source | Sequence[Source],
    *,
    wrt: NamesSpec = None,
    args: NamesSpec = None,
    sparse: bool = False,
    limits: Limits | None = None,
) -> ScipyProblem:
    """``fun``, ``jac``, ``hess`` and ``hessp`` for ``scipy.optimize``, exact and compiled.

    Parameters
    ----------
    expr_or_residuals : str, sympy.Expr or a sequence of them
        One expression: a scalar objective for ``minimize``.  A list: residuals for
        ``least_squares`` (also a list of one).
    wrt : str or sequence, optional
        The unknowns, in the order of the optimizer's vector ``x`` (``"A sigma omega"``,
        ``symgrad.vector("x", n)``; text may write ``x[0]``, ``x[1]``, ...).  By default every
        variable written that is not in ``args``, in natural order.
    args : str or sequence, optional
        The data, in the order of the optimizer's ``args=(...)`` tuple.  By default none; a
        variable in neither ``wrt`` nor ``args`` is an ``InputError``.
    sparse : bool
        Compile only the entries that are not identically zero and return ``jac`` (residuals)
        and ``hess`` as ``scipy.sparse.csr_array`` (needs scipy).  For ``Newton-CG``,
        ``trust-krylov``, ``trust-constr`` and ``least_squares``; ``trust-exact`` needs dense.
    limits : Limits, optional
        Caps on the work of differentiating and compiling, for each of the four functions.

    Returns
    -------
    ScipyProblem
        With ``fun``, ``jac``, ``hess``, ``hessp``, ``wrt``, ``args`` and ``n``.

    Raises
    ------
    MissingExtra
        ``sparse=True`` without scipy.
    InputError
        A variable in neither ``wrt`` nor ``args`` (when either is given).

    Examples
    --------
    >>> import numpy as np, symgrad
    >>> p = symgrad.for_scipy("100*(x[1] - x[0]**2)**2 + (1 - x[0])**2")
    >>> p.wrt
    (x_0, x_1)
    >>> p.fun(np.array([1.0, 2.0])), p.jac(np.array([1.0, 2.0])).tolist()
    (100.0, [-400.0, 200.0])
    >>> p.hess(np.array([1.0, 2.0])).tolist()
    [[402.0, -400.0], [-400.0, 200.0]]
    >>> fit = symgrad.for_scipy(["A*exp(-k*t) - y"], wrt="A k", args="t y")
    >>> t = np.array([0.0, 1.0, 2.0])
    >>> fit.jac(np.array([2.0, 0.0]), t, 2 * np.ones(3)).tolist()  # (N, n) for least_squares
    [[1.0, -0.0], [1.0, -2.0], [1.0, -4.0]]
    """
    given: object = sparse  # checked at run time whatever the annotation says
    if not isinstance(given, bool):
        msg = f"sparse must be True or False (got {sparse!r})"
        raise ConfigError(msg)
    if sparse:
        _scipy_sparse()
    return ScipyProblem(expr_or_residuals, wrt, () if args is None else args, sparse, limits)


class ScipyProblem:
    """An objective or residuals with exact derivatives in ``scipy.optimize``'s shapes.

    Made by :func:`symgrad.for_scipy`.  Every method takes the optimizer's 1-D vector ``x``
    of ``n`` values, then the data in ``args`` order, as ``scipy.optimize`` passes them.

    Attributes
    ----------
    wrt : tuple of sympy.Symbol
        The unknowns, in the order of ``x``.
    args : tuple of sympy.Symbol
        The data, in the order of the optimizer's ``args``.
    n : int
        ``len(wrt)``.
    residuals : bool
        Whether this is a list of residuals (for ``least_squares``) or one objective.
    sparse : bool
        Whether ``jac`` (residuals) and ``hess`` return ``scipy.sparse.csr_array``.
    """

    def __init__(
        self,
        source: Source | Sequence[Source],
        wrt: NamesSpec,
        args: NamesSpec,
        sparse: bool,
        limits: Limits | None,
    ) -> None:
        self.residuals = not isinstance(source, str | sympy.Expr)
        self.sparse = sparse
        self._source = source
        self._limits = limits
        self._value = function(source, wrt=wrt, args=args, limits=limits)
        self.wrt: tuple[sympy.Symbol, ...] = self._value.wrt
        self.args: tuple[sympy.Symbol, ...] = self._value.args
        self.n = len(self.wrt)
        self._nonzero: dict[str, tuple[Compiled | None, list[tuple[int, int]]]] = {}

    def __repr__(self) -> str:
        what = "residuals" if self.residuals else "objective"
        return f"<symgrad for_scipy {what} in x = ({_listed(self.wrt)}), args = ({_listed(self.args)})>"

    # -- what scipy calls -------------------------------------------------------------------

    def fun(self, x: npt.ArrayLike, *args: npt.ArrayLike) -> Any:
        """The objective as a Python float, or the residuals as an ``(M,)`` array."""
        value = self._value(*self._inputs(x, args))
        if self.residuals:
            return _rows(value, 1)
        return float(np.sum(value))

    def jac(self, x: npt.ArrayLike, *args: npt.ArrayLike) -> Any:
        """The gradient ``(n,)`` of an objective, or the Jacobian ``(M, n)`` of residuals."""
        inputs = self._inputs(x, args)
        if not self.residuals:
            return _summed(self._gradient(*inputs), 1)
        if self.sparse:
            return self._sparse("jacobian", inputs)
        return _rows(self._jacobian(*inputs), 2)

    def hess(self, x: npt.ArrayLike, *args: npt.ArrayLike) -> Any:
        """The Hessian ``(n, n)`` of an objective (``csr_array`` with ``sparse=True``)."""
        inputs = self._inputs(x, args)
        self._objective_only("hess")
        if self.sparse:
            return self._sparse("hessian", inputs)
        return _summed(self._hessian(*inputs), 2)

    def hessp(self, x: npt.ArrayLike, p: npt.ArrayLike, *args: npt.ArrayLike) -> FloatArray:
        """The Hessian times the vector ``p``, ``(n,)``: what ``Newton-CG`` and ``trust-krylov``
        call instead of ``hess``."""
        direction = np.asarray(p, dtype=np.float64)
        if direction.shape != (self.n,):
            msg = f"p must have shape ({self.n},) like x (got {direction.shape})"
            raise InputError(msg)
        product: FloatArray = self.hess(x, *args) @ direction
        return product

    # -- compiled on first use --------------------------------------------------------------

    @cached_property
    def _gradient(self) -> Compiled:
        return gradient(self._source_one(), wrt=self.wrt, args=self.args, limits=self._limits)

    @cached_property
    def _jacobian(self) -> Compiled:
        return jacobian(self._source_many(), wrt=self.wrt, args=self.args, limits=self._limits)

    @cached_property
    def _hessian(self) -> Compiled:
        return hessian(self._source_one(), wrt=self.wrt, args=self.args, limits=self._limits)

    def _sparse(self, kind: str, inputs: list[Any]) -> Any:
        """A ``csr_array`` of the entries that are not identically zero (summed or stacked)."""
        if kind not in self._nonzero:
            source = self._source_one() if kind == "hessian" else self._source_many()
            self._nonzero[kind] = sparse_entries(kind, source, self.wrt, self.args, self._limits)
        compiled, where = self._nonzero[kind]
        rows_of = len(self._value.components) if kind == "jacobian" else self.n
        positions = np.array(where, dtype=np.intp).reshape(-1, 2)
        values: FloatArray = np.zeros((len(where), 1))
        if compiled is not None:
            values = np.asarray(compiled(*inputs)).reshape(len(where), -1)
        points = 1 if kind == "hessian" else self._points(inputs)
        if kind == "hessian":
            values = values.sum(axis=1, keepdims=True)
        else:
            values = np.broadcast_to(values, (len(where), points))
        # row r*points + k holds residual r at data point k (as fun flattens them)
        rows = (positions[:, :1] * points + np.arange(points)).ravel()
        cols = np.repeat(positions[:, 1], points)
        shape = (rows_of * points, self.n)
        return _scipy_sparse().csr_array((values.ravel(), (rows, cols)), shape=shape)

    # -- plumbing ---------------------------------------------------------------------------

    def _inputs(self, x: npt.ArrayLike, args: tuple[npt.ArrayLike, ...]) -> list[Any]:
        """``x`` split into its ``n`` values, then the data: an unpacked call's inputs."""
        vector = np.asarray(x, dtype=np.float64)
        if vector.shape != (self.n,):
            names = ", ".join(v.name for v in self.wrt)
            msg = f"x must be a 1-D array of the {self.n} unknowns ({names}); got {vector.shape}"
            raise InputError(msg)
        if len(args) != len(self.args):
            data = [v.name for v in self.args]
            msg = f"got {len(args)} data arguments; args are {data} in this order"
            raise InputError(msg)
        return [*vector, *args]

    def _points(self, inputs: list[Any]) -> int:
        """How many data points the residuals are evaluated at (the broadcast data size)."""
        shape = np.broadcast_shapes(*(np.shape(a) for a in inputs))
        return int(np.prod(shape))

    def _objective_only(self, what: str) -> None:
        if self.residuals:
            msg = f"{what} is for a scalar objective; least_squares takes fun and jac"
            raise ConfigError(msg)

    def _source_one(self) -> Source:
        self._objective_only("hess")
        return self._source

    def _source_many(self) -> Sequence[Source]:
        return self._source


def _listed(symbols: tuple[sympy.Symbol, ...]) -> str:
    """Names for display, the middle of a long vector elided (``x_0, x_1, x_2, ..., x_49``)."""
    names = [v.name for v in symbols]
    return ", ".join(names if len(names) <= 6 else [*names[:3], "...", names[-1]])


def _rows(value: Any, axes: int) -> FloatArray:
    """Components first (``(m, *batch)`` or ``(m, n, *batch)``) to rows ``(m·N[, n])``."""
    array = np.asarray(value, dtype=np.float64)
    if axes == 1:
        return array.reshape(-1)
    m, n = array.shape[:2]
    return np.moveaxis(array.reshape(m, n, -1), 1, 2).reshape(-1, n)


def _summed(value: Any, axes: int) -> FloatArray:
    """A derivative summed over the data points (trailing axes), keeping its ``axes``."""
    array = np.asarray(value, dtype=np.float64)
    summed: FloatArray = array.reshape(*array.shape[:axes], -1).sum(axis=-1)
    return summed


def _scipy_sparse() -> Any:
    """``scipy.sparse``, or a MissingExtra that says how to install it."""
    try:
        return importlib.import_module("scipy.sparse")
    except ImportError as exc:
        msg = "sparse=True needs scipy: pip install 'symgrad[scipy]' (or pip install scipy)"
        raise MissingExtra(msg) from exc
