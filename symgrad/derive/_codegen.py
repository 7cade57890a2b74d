"""Compile SymPy expressions into vectorized float64 functions and exact mpmath functions.

The NumPy side follows measurements on our machines (benchmarks/bench_gradient.py):
``lambdify(cse=True)`` computes shared subexpressions once, and calling it on chunks of 2**16
points that are written into a preallocated output keeps every temporary cache-resident (CSE
code on full arrays keeps all temporaries alive at once: 1.6x the memory and 2-3x the time of
hand-written NumPy).  Writing into the output also broadcasts constant components to full
arrays and guarantees that no two components share memory.

The mpmath side builds one function per (thread, precision) from a private ``MPContext``:
symgrad never reads or writes ``mpmath.mp``, and mpmath contexts are not safe to share between
threads (some functions raise the context's precision temporarily), hence one per thread.  Exact
values (``.at()``, ``exact_values``) do not use it: they are evaluated in ball arithmetic until
every digit is proven (:mod:`symgrad.derive._exact`).

``lambdify`` is the one place where generated code is executed; it lives in
:mod:`symgrad.derive._printing`.
"""

from __future__ import annotations

import copy
import decimal
import functools
import itertools
import math
import numbers
import threading
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sympy

from symgrad._precision import check_dps, thread_context
from symgrad.derive._extras import check_extras, short
from symgrad.derive._fused import (
    CHUNK,
    build_evaluator,
    check_evaluator,
    forced_evaluator,
    layout,
)
from symgrad.derive._lazy import is_dask, lazy_call
from symgrad.errors import ConfigError, InputError
from symgrad.expr import parse_point

# Making a Compiled and reading its expressions (``symgrad grad``) loads neither NumPy nor the
# code printers nor ball arithmetic: each is imported by the method that first needs it.
if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from symgrad.derive._exact import Program
    from symgrad.derive._fused import Evaluator, Layout

    FloatArray = npt.NDArray[np.float64]
    #: A point for ``.at()``: text, a mapping of names to values, or one value per variable.
    PointSpec = str | Mapping[str | sympy.Symbol, object] | Sequence[object] | npt.NDArray[Any]

__all__ = [
    "CHUNK",
    "MAX_OUTPUT_BYTES",
    "Compiled",
    "as_float_array",
]

#: Largest output one call may allocate (1 GiB); checked before allocating.
MAX_OUTPUT_BYTES = 1 << 30

_REJECTED_KINDS = {"b": "booleans", "O": "Python objects", "U": "strings", "S": "bytes"}
_REJECTED_KINDS |= {"M": "datetimes", "m": "timedeltas", "V": "structured records"}


class Compiled:
    """Symbolic expressions with their compiled float64 and exact evaluators.

    Returned by :func:`symgrad.function`, :func:`symgrad.gradient`, :func:`symgrad.jacobian`,
    :func:`symgrad.hessian`, :func:`symgrad.derivative` and :func:`symgrad.laplacian`.

    The inputs are the variables differentiated with respect to (``wrt``), then the data
    (``args``); ``variables`` is both, in call order.  A call takes them unpacked, one array
    per variable (``J(A, sigma, omega, t, y)``), or packed, the ``wrt`` values stacked along a
    first axis in one array ``p`` with ``p.shape == (len(wrt), *batch)`` followed by the
    ``args`` (``J(theta, t, y)``), as optimizers pass them.  With one ``wrt`` variable the
    two forms coincide and the call is unpacked.

    Parameters
    ----------
    exprs : sympy.Expr or nested sequences of sympy.Expr
        The components; their nesting gives ``shape`` (``(n,)`` for a gradient, ``(n, n)`` for a
        Hessian, ``()`` for a single derivative).
    variables : sequence of sympy.Symbol
        The variables differentiated with respect to (``wrt``), in order.
    kind : str
        What the components are, for display ("gradient", "hessian", ...).
    args : sequence of sympy.Symbol, optional
        Further inputs (data) that follow ``variables`` in a call.
    evaluator : {"auto", "numpy", "numexpr", "symengine"}
        What computes the float64 values (see :meth:`using`); ``"auto"`` is symengine's
        compiled code when symengine is installed, else NumPy.
    """

    def __init__(
        self,
        exprs: Any,
        variables: Sequence[sympy.Symbol],
        kind: str = "function",
        *,
        args: Sequence[sympy.Symbol] = (),
        evaluator: str = "auto",
    ) -> None:
        array = sympy.Array(exprs) if isinstance(exprs, list | tuple) else None
        self.shape: tuple[int, ...] = tuple(array.shape) if array is not None else ()
        self._flat: tuple[sympy.Expr, ...] = _flat_entries(exprs, array)
        self.exprs = array if array is not None else exprs
        self.wrt: tuple[sympy.Symbol, ...] = tuple(variables)
        self.args: tuple[sympy.Symbol, ...] = tuple(args)
        self.variables: tuple[sympy.Symbol, ...] = self.wrt + self.args
        self.kind = kind
        self.dtype: str | np.dtype[Any] = "float64"
        self.evaluator = check_evaluator(evaluator)
        check_extras(list(dict.fromkeys(self._flat)))  # each distinct component once
        self._local = threading.local()

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the expressions, not the generated code (it is generated again when used).

        This is what sends a compiled function to a process pool or a cluster's workers.
        """
        state = dict(self.__dict__)
        for generated in ("_numpy", "_local", "source", "_program", "_fast"):
            state.pop(generated, None)
        return state

    def __copy__(self) -> Compiled:
        """A copy sharing the generated code (:meth:`returning`, :meth:`using`); pickling
        generates it again, copying does not."""
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__)
        return other

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    @cached_property
    def _layout(self) -> Layout:
        """The distinct components and the output rows of each, found on first use."""
        return layout(self._flat)

    @cached_property
    def _numpy(self) -> Any:
        """The NumPy function of the distinct components, generated on first use.

        Constructing a function does not generate its code, so what only reads the
        expressions (``symgrad grad`` printing a gradient, ``.at()``) never pays for it.
        """
        from symgrad.derive._printing import lambdify_exprs  # noqa: PLC0415 - see the imports

        return lambdify_exprs(self.variables, list(self._layout.unique), "numpy")

    def using(self, evaluator: str) -> Compiled:
        """This function with another float64 evaluator (the values agree to float64 rounding).

        Parameters
        ----------
        evaluator : {"auto", "numpy", "numexpr", "symengine"}
            ``"numpy"``: the generated NumPy code (``.source``); ``"numexpr"``: each statement of
            that code one fused numexpr loop; ``"symengine"``: symengine's compiled machine code
            (LLVM), built on the first call.  The last two need the ``fast`` extra; components
            they cannot compute are computed by NumPy.  ``"auto"``: symengine when installed,
            else NumPy (chosen by measurement: :mod:`symgrad.derive._fused`).  Complex inputs
            (:meth:`complex_call`) and broadcasting inputs always use NumPy.

            The environment variable ``SYMGRAD_EVALUATOR`` overrides ``"auto"`` (only): exactly
            ``numpy``, ``numexpr``, ``symengine`` or ``auto`` (no case folding, no stripped
            spaces); empty means unset.  It is read at the first call of a function left on
            ``"auto"``, never at import, when a function is made or by :meth:`at`; a bad value
            raises a ConfigError there (and at every call until it is corrected), a forced
            evaluator that is not installed a MissingExtra.

        Returns
        -------
        Compiled
            A copy sharing the NumPy code; ``self`` is unchanged.

        Raises
        ------
        ConfigError
            An unknown evaluator name.
        MissingExtra
            numexpr or symengine is not installed.

        Examples
        --------
        >>> import symgrad
        >>> g = symgrad.gradient("x**2*y").using("numpy")
        >>> g(1.0, 3.0).tolist()
        [6.0, 1.0]
        """
        chosen = check_evaluator(evaluator)
        other = copy.copy(self)
        other.evaluator = chosen
        other.__dict__.pop("_fast", None)
        return other

    @cached_property
    def _fast(self) -> Evaluator | None:
        """The numexpr or symengine evaluator of the distinct components (None: NumPy's)."""
        return build_evaluator(self.evaluator, self.variables, self._layout.unique)

    def returning(self, dtype: str | npt.DTypeLike) -> Compiled:
        """This function with results of another floating type (computed in float64 all the same).

        Parameters
        ----------
        dtype : "float64", "input" or a NumPy floating dtype
            ``"input"`` returns the type of the floating-point array inputs (float32 inputs give
            a float32 result; Python numbers and integers count as float64).

        Returns
        -------
        Compiled
            A copy sharing the compiled code; ``self`` is unchanged.

        Examples
        --------
        >>> import numpy as np, symgrad
        >>> g = symgrad.gradient("x**2*y").returning("input")
        >>> g(np.float32([1, 2]), np.float32(3)).dtype
        dtype('float32')
        """
        import numpy as np  # noqa: PLC0415 - see the imports

        if isinstance(dtype, str) and dtype in {"float64", "input"}:
            chosen: str | np.dtype[Any] = dtype
        else:
            try:
                chosen = np.dtype(dtype)
            except TypeError as exc:
                msg = f"dtype must be 'float64', 'input' or a floating dtype (got {dtype!r})"
                raise ConfigError(msg) from exc
            if chosen.kind != "f":
                msg = f"dtype must be a floating dtype such as float32 (got {chosen})"
                raise ConfigError(msg)
        other = copy.copy(self)
        other.dtype = chosen
        return other

    @property
    def components(self) -> tuple[sympy.Expr, ...]:
        """The component expressions, flattened in row-major order."""
        return self._flat

    # -- float64 -----------------------------------------------------------------------------

    @cached_property
    def source(self) -> str:
        """The generated NumPy source code that the float64 evaluator runs."""
        import inspect  # noqa: PLC0415 - only needed when someone asks to see the code

        return inspect.getsource(self._numpy)

    def __call__(self, *args: npt.ArrayLike, **kwargs: npt.ArrayLike) -> FloatArray:
        """Evaluate in float64 on inputs that broadcast together.

        Inputs are given unpacked in ``variables`` order (or by name), or packed: one array of
        shape ``(len(wrt), *batch)`` holding the ``wrt`` values, then the ``args``.  The result
        has shape ``(*self.shape, *broadcast_shape)``, every component a full array of its own;
        a result without axes is a NumPy scalar (``numpy.float64``), never a 0-d array.  The
        result type is float64 unless :meth:`returning` chose another.  (The annotation says
        array: a NumPy scalar has the array attributes that matter, ``shape == ()``, ``dtype``,
        ``reshape``, ``[()]``.)

        What an input may be:

        - numbers, NumPy arrays of any real type (integers and float32 are computed in float64),
          nested lists or tuples, 0-d arrays, and anything ``numpy.asarray`` reads as numbers;
        - exact numbers that NumPy holds as Python objects (Python ints beyond int64,
          ``Fraction``, ``Decimal``, SymPy and mpmath numbers) are refused: the InputError asks
          for floats (``float(v)``: rounding them is the caller's choice) or :meth:`at` for
          exact values;
        - NumPy masked arrays (also inside a packed list): the result is a masked array, masked
          wherever any input is (the union of the input masks, broadcast to the result's shape,
          every component), as NumPy's ufuncs do; its data under the mask is NaN, never a value
          computed from a masked input.  A masked scalar result is ``numpy.ma.masked``;
        - pandas Series and xarray DataArrays: taken by position (as ``numpy.asarray`` gives
          them), the result is a NumPy array; two of them whose labels differ (pandas indexes,
          xarray dimensions or coordinates) are refused, since pandas and xarray would pair
          their values by label;
        - dask arrays: see above (lazy; masked chunks stay masked).

        Raises
        ------
        InputError
            Missing, unknown or repeated inputs, a packed array whose first axis is not
            ``len(wrt)`` long, inputs whose shapes do not broadcast (the message lists them),
            inputs that are not real numbers (booleans, strings, complex, None, ragged nested
            lists), exact numbers held as Python objects, or labelled inputs whose labels differ.
        ConfigError
            ``SYMGRAD_EVALUATOR`` holds a value that is not an evaluator name (read at the first
            call of an ``"auto"`` function, and at every call until it is valid; see
            :meth:`using`).
        MissingExtra
            ``SYMGRAD_EVALUATOR`` names numexpr or symengine and it is not installed.

        Examples
        --------
        >>> import numpy as np, symgrad
        >>> g = symgrad.gradient("x**2*y")
        >>> g(1.0, 3.0).tolist()  # unpacked
        [6.0, 1.0]
        >>> g(np.array([[1.0, 2.0], [3.0, 3.0]])).tolist()  # packed: p[:, k] is point k
        [[6.0, 12.0], [1.0, 4.0]]
        >>> symgrad.function("x*y")(1.0, 2.0)
        np.float64(2.0)
        >>> symgrad.function("x*y")(np.ma.array([1.0, 2.0], mask=[False, True]), 3.0)
        masked_array(data=[3.0, --],
                     mask=[False,  True],
               fill_value=1e+20)
        """
        import numpy as np  # noqa: PLC0415 - see the imports

        if self.evaluator == "auto" and "_forced" not in self.__dict__:  # read once, checked
            self.__dict__["_forced"] = forced_evaluator()  # (SYMGRAD_EVALUATOR: see using)
        given = (*args, *kwargs.values())
        plain = _plain_types().issuperset(map(type, given))  # no mask, no labels: checked fast
        if not plain and any(is_dask(v) for v in given):
            return self._lazy(args, kwargs)  # type: ignore[no-any-return]
        inputs = self._arguments(args, kwargs, plain=plain)
        masks = [] if plain else [np.ma.getmask(a) for a in inputs if np.ma.isMaskedArray(a)]
        if masks:  # computed on the data, then masked where any input is
            inputs = [np.ma.getdata(a) for a in inputs]
        result = self._evaluate(inputs, np.float64)
        if masks:
            result = _masked_result(result, masks)
        if self.dtype != "float64":
            result = result.astype(self._result_dtype(args, kwargs), copy=False)
        return result[()] if result.ndim == 0 else result

    def _result_dtype(
        self, args: tuple[npt.ArrayLike, ...], kwargs: Mapping[str, npt.ArrayLike]
    ) -> np.dtype[Any]:
        """The floating type :meth:`returning` asked for, for these inputs."""
        import numpy as np  # noqa: PLC0415 - see the imports

        if self.dtype != "input":
            return np.dtype(self.dtype)
        given = [*args, *kwargs.values()]
        floats = [v.dtype for v in given if isinstance(v, np.ndarray | np.generic)]
        floats = [d for d in floats if d.kind == "f"]
        return np.result_type(*floats) if floats else np.dtype(np.float64)

    def complex_call(self, *args: npt.ArrayLike) -> npt.NDArray[np.complex128]:
        """Evaluate with complex128 inputs (for the complex-step method).

        Only meaningful for real-analytic expressions; :mod:`symgrad.fd._finite_diff` refuses the
        others (abs, sign, min, max) before calling this.  Masked array inputs give a masked
        result, as in :meth:`__call__`.
        """
        import numpy as np  # noqa: PLC0415 - see the imports

        masks = [np.ma.getmask(a) for a in args if isinstance(a, np.ma.MaskedArray)]
        arrays = [np.asarray(_unmasked(a), dtype=np.complex128) for a in args]
        if len(arrays) != len(self.variables):
            msg = f"complex_call takes {len(self.variables)} inputs (got {len(arrays)})"
            raise InputError(msg)
        result = self._evaluate(arrays, np.complex128)
        return _masked_result(result, masks) if masks else result

    def _evaluate(self, arrays: list[Any], dtype: Any) -> npt.NDArray[Any]:
        """Chunked evaluation into a preallocated output (see the module docstring)."""
        import numpy as np  # noqa: PLC0415 - see the imports

        from symgrad._limits import check_count  # noqa: PLC0415

        grid = self._grid(arrays)
        points = math.prod(grid)
        check_count(
            "output_bytes",
            len(self._flat) * points * np.dtype(dtype).itemsize,
            MAX_OUTPUT_BYTES,
            f"bytes of output ({len(self._flat)} components at {points:,} points)",
            "evaluate on slices of the inputs",
        )
        out = np.empty((len(self._flat), *grid), dtype=dtype)
        with np.errstate(all="ignore"):
            if all(a.size == 1 or a.shape == grid for a in arrays):
                self._fill_flat(out.reshape(len(self._flat), -1), arrays)
            else:
                self._fill_slabs(out, arrays, grid)
        return out.reshape(self.shape + grid)

    def _grid(self, arrays: list[Any]) -> tuple[int, ...]:
        """The broadcast shape of the inputs, or an InputError that lists every input's shape."""
        import numpy as np  # noqa: PLC0415 - see the imports

        distinct: set[tuple[int, ...]] = {a.shape for a in arrays}
        if len(distinct) == 1:  # all alike, e.g. one point's scalars: nothing to broadcast
            return distinct.pop()
        try:
            return np.broadcast_shapes(*distinct)
        except ValueError:
            listed = ", ".join(
                f"{v.name} {a.shape}" for v, a in zip(self.variables, arrays, strict=True)
            )
            msg = f"the inputs' shapes do not broadcast together: {listed}"
            raise InputError(msg) from None

    def _fill_flat(self, out: npt.NDArray[Any], arrays: list[Any]) -> None:
        """Full-size inputs: walk the flattened points in chunks of ``CHUNK``."""
        flat = [_flat_input(a) for a in arrays]
        size = out.shape[1]
        if size == 1:  # one point, as optimizers call: NumPy scalars (the same IEEE arithmetic
            scalars = [f[()] for f in flat]  # as 0-d arrays, 5x less overhead than arrays, and
            self._layout.scatter(out, self._numpy(*scalars), 0)  # 4x less than symengine's)
            return
        fast = self._fast if out.dtype.kind == "f" else None  # complex: NumPy
        fast = fast if fast is not None and fast.pays(size) else None
        evaluate, block = (fast, fast.block) if fast is not None else (self._numpy, CHUNK)
        for start in range(0, size, block):
            stop = min(start + block, size)
            chunk = [f if f.ndim == 0 else f[start:stop] for f in flat]
            self._layout.scatter(out, evaluate(*chunk), slice(start, stop))

    def _fill_slabs(self, out: npt.NDArray[Any], arrays: list[Any], grid: tuple[int, ...]) -> None:
        """Broadcasting inputs (e.g. ``x[:, None, None]``): slabs along the first axis.

        Inputs are never expanded to the full grid; numpy broadcasts inside each slab, and a
        component that depends on fewer variables is computed on its smaller shape.
        """
        padded = [a.reshape((1,) * (len(grid) - a.ndim) + a.shape) for a in arrays]
        rows = max(1, CHUNK // max(1, math.prod(grid[1:])))
        for start in range(0, grid[0], rows):
            stop = min(start + rows, grid[0])
            part = [a if a.shape[0] == 1 else a[start:stop] for a in padded]
            self._layout.scatter(out, self._numpy(*part), slice(start, stop))

    def _lazy(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
        """The call on dask arrays: a lazy dask array, evaluated block by block (:mod:`symgrad.derive._lazy`)."""
        import numpy as np  # noqa: PLC0415 - see the imports

        if self._packed(args, kwargs) and is_dask(args[0]):
            rows = args[0]
            if rows.ndim == 0 or rows.shape[0] != len(self.wrt):
                msg = f"a packed dask input needs a first axis of length {len(self.wrt)}"
                raise InputError(msg)
            args = (*(rows[i] for i in range(len(self.wrt))), *args[1:])
        inputs = self._arguments(args, kwargs, coerce=False)
        dtype = np.dtype(np.float64 if self.dtype == "input" else self.dtype)
        return lazy_call(self, inputs, self.shape, dtype)

    def _arguments(
        self,
        args: tuple[npt.ArrayLike, ...],
        kwargs: Mapping[str, npt.ArrayLike],
        *,
        coerce: bool = True,
        plain: bool = False,
    ) -> list[Any]:
        """Match positional and keyword inputs to variables and coerce them to float64 (masks
        kept); ``plain`` says that every input is a float, an int or a plain array."""
        names = [v.name for v in self.variables]
        if self._packed(args, kwargs):
            args = (*self._unpack(args[0]), *args[1:])
        if len(args) > len(names):
            msg = f"got {len(args)} positional inputs but the variables are {names}"
            raise InputError(msg)
        given = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in names:
                msg = f"unknown input {key!r}: the variables are {names}"
                raise InputError(msg)
            if key in given:
                msg = f"input {key!r} given twice (by position and by name)"
                raise InputError(msg)
            given[key] = value
        missing = [n for n in names if n not in given]
        if missing:
            msg = f"missing inputs for {missing}; the variables are {names} in this order"
            raise InputError(msg)
        if not plain:
            _check_labels(given)
        return [as_float_array(given[n], n, keep_mask=True) if coerce else given[n] for n in names]

    def _packed(self, args: tuple[npt.ArrayLike, ...], kwargs: Mapping[str, Any]) -> bool:
        """Whether a call passes the ``wrt`` values packed: one input for them, then ``args``.

        Unambiguous for two or more ``wrt`` variables: a packed call has ``len(args) + 1``
        inputs, an unpacked one ``len(wrt) + len(args)``.
        """
        wrt = {v.name for v in self.wrt}
        count = len(args) + len(kwargs)
        return len(wrt) > 1 and bool(args) and count == 1 + len(self.args) and not wrt & {*kwargs}

    def _unpack(self, packed: npt.ArrayLike) -> list[FloatArray]:
        """The rows of a packed input, one per ``wrt`` variable (views, not copies)."""
        import numpy as np  # noqa: PLC0415 - see the imports

        names = ", ".join(v.name for v in self.wrt)
        array = as_float_array(packed, f"packed ({names})", keep_mask=True)
        if array.ndim == 0 or array.shape[0] != len(self.wrt):
            every = ", ".join(v.name for v in self.variables)
            msg = (
                f"a packed input holds the {len(self.wrt)} values of ({names}) along its first "
                f"axis, shape ({len(self.wrt)}, ...); got shape {array.shape} (or give every "
                f"input: {every})"
            )
            raise InputError(msg)
        if np.ma.isMaskedArray(array):  # rows of a 1-D one as 0-d masked arrays, not scalars
            return [array[i, ...] for i in range(len(self.wrt))]
        return list(array)

    # -- exact -------------------------------------------------------------------------------

    def mp_function(self, dps: int) -> tuple[Any, Callable[..., Any]]:
        """The private context at ``dps`` digits and the compiled mpmath function of it.

        Both are cached per thread and per precision; the function takes one context number
        per variable and returns the flattened components.
        """
        from symgrad.derive._printing import lambdify_exprs  # noqa: PLC0415 - see the imports

        cache: dict[int, Callable[..., Any]] = self._local.__dict__.setdefault("mp", {})
        ctx = thread_context(dps)
        if dps not in cache:
            cache[dps] = lambdify_exprs(self.variables, list(self._flat), ctx)
        return ctx, cache[dps]

    def at(self, point: PointSpec, dps: int = 50, *, engine: str = "auto") -> Any:
        """Evaluate exactly at one point: every digit returned is proven correct.

        Parameters
        ----------
        point : str, mapping, sequence or array
            ``"x=0.3, y=0.7"``, a mapping of names to values, or one value per variable in
            ``variables`` order (``[0.3, 0.7]``, a 1-D array).  Decimal strings are exact (0.3
            is 3/10), floats are taken at their exact binary value.
        dps : int
            Significant decimal digits, each certified (a component that is exactly zero is 0).
        engine : {"auto", "arb", "mpmath"}
            The ball arithmetic that proves them: python-flint's ``arb`` (``"auto"`` uses it
            when the ``fast`` extra is installed) or outward-rounded mpmath intervals.  Both
            give the same values.

        Returns
        -------
        mpf or numpy.ndarray
            For a scalar (``shape == ()``) one mpmath number; otherwise an object array of them
            with shape ``self.shape``.  They print with ``dps`` digits, the digits proven:
            ``repr`` and ``str`` show no guard digits, which stay internal to the proof.
            Indexing a scalar with ``[()]`` returns it unchanged (as for a 0-d array).

        Raises
        ------
        LimitExceeded
            ``limit="unreliable"``: the digits cannot be proven within 4000 working digits
            (a cancellation deeper than that); the message gives the reason.
        UnsupportedError
            A component is infinite at the point (the message says "pole") or not real there
            (``sqrt(x)`` at x = -1), or uses a function outside symgrad's grammar.
        MissingExtra
            ``engine="arb"`` without python-flint.

        Examples
        --------
        >>> import symgrad
        >>> f = symgrad.function("(exp(x) - 1)/x")
        >>> print(f.at("x=1e-200", dps=30))  # cancels completely below 200 digits
        1.0
        >>> symgrad.derivative("(exp(x) - 1)/x", "x").at([1e-200], dps=30)
        mpf('0.5')
        >>> symgrad.function("x").at("x=1.2", dps=50)
        mpf('1.2')
        >>> symgrad.gradient("x*y").at([0.5, "0.1"], dps=20)
        array([mpf('0.1'), mpf('0.5')], dtype=object)
        """
        import numpy as np  # noqa: PLC0415 - see the imports

        dps = check_dps(dps)
        values = self.exact_values(self.point_values(point), dps, engine=engine)
        shown = _shown_type(thread_context(dps))
        if not self.shape:
            return shown(values[0])
        array = np.empty(len(values), dtype=object)
        array[:] = [shown(v) for v in values]
        return array.reshape(self.shape)

    def exact_values(self, values: Sequence[Any], dps: int, *, engine: str = "auto") -> list[Any]:
        """The flattened components at exact coordinates, each with ``dps`` proven digits.

        ``values`` are Rationals or floats (taken exactly), in ``variables`` order.  The
        components are evaluated in ball arithmetic at rising precision until each ball proves
        ``dps`` significant digits (see :mod:`symgrad.derive._exact`): a formula that cancels
        (``-1/sqrt(1 - x**2)`` near x = 1, ``(exp(x) - 1)/x`` near 0) costs more working
        digits, never wrong ones.  Returns numbers of this thread's ``dps``-digit mpmath
        context; raises as :meth:`at` does.
        """
        from symgrad.derive._exact import certified_values  # noqa: PLC0415 - see the imports

        return certified_values(self._program, values, dps, engine)

    @cached_property
    def _program(self) -> Program:
        """The components as a list of ball operations (compiled on first use)."""
        from symgrad.derive._exact import compile_program  # noqa: PLC0415 - see the imports

        return compile_program(self._flat, self.variables)

    def point_values(self, point: PointSpec) -> list[sympy.Rational]:
        """The exact coordinates of ``point`` in ``variables`` order."""
        if isinstance(point, str):
            parsed = _parse_point_text(point)
        elif isinstance(point, Mapping):
            parsed = parse_point(point)
        else:
            parsed = parse_point(self._point_mapping(point))
        missing = [v.name for v in self.variables if v not in parsed]
        if missing:
            names = [v.name for v in self.variables]
            msg = f"the point gives no value for {missing}; give one for each of {names}"
            raise InputError(msg)
        extra = [s.name for s in parsed if s not in self.variables]
        if extra:
            msg = f"the point names {extra}, which are not variables of {self.kind}"
            raise InputError(msg)
        return [parsed[v] for v in self.variables]

    def _point_mapping(self, point: object) -> dict[sympy.Symbol, object]:
        """A point given as one value per variable, in ``variables`` order, as a mapping."""
        import numpy as np  # noqa: PLC0415 - see the imports

        names = [v.name for v in self.variables]
        if isinstance(point, np.ndarray) and point.ndim != 1:
            msg = f"a point array must be 1-D, one value per variable {names} (got {point.shape})"
            raise InputError(msg)
        if not isinstance(point, Sequence | np.ndarray):
            msg = (
                "a point is text such as 'x=0.3', a mapping, or a sequence of one value per "
                f"variable {names} (got {type(point).__name__})"
            )
            raise InputError(msg)
        if len(point) != len(names):
            msg = f"the point has {len(point)} values; give one for each of {names} in order"
            raise InputError(msg)
        return {v: _plain_number(x) for v, x in zip(self.variables, point, strict=True)}

    # -- display -----------------------------------------------------------------------------

    def __repr__(self) -> str:
        names = ", ".join(v.name for v in self.wrt)
        data = f"; args {', '.join(v.name for v in self.args)}" if self.args else ""
        return f"<symgrad {self.kind} in ({names}{data}): {short(str(self.exprs))}>"

    def to_strings(self) -> Any:
        """The components as SymPy strings, nested like ``shape``."""
        if not self.shape:
            return str(self.exprs)
        return _nest([str(e) for e in self._flat], self.shape)

    def to_latex(self) -> Any:
        """The components as LaTeX strings, nested like ``shape``."""
        if not self.shape:
            return sympy.latex(self.exprs)
        return _nest([sympy.latex(e) for e in self._flat], self.shape)

    def _repr_latex_(self) -> str:
        matrix = sympy.Matrix(self.exprs.tolist()) if self.shape else self.exprs
        return f"$\\displaystyle {sympy.latex(matrix)}$"


@functools.lru_cache(maxsize=64)
def _shown_type(ctx: Any) -> Any:
    """A subclass of ``ctx``'s mpf that prints at ``ctx.dps`` digits, without guard digits.

    mpmath's ``repr`` shows enough digits to round-trip the binary value (1.2 at 50 digits
    prints 53 digits, ending in ...9995); the digits ``.at()`` proves are the first ``dps``, so
    that is what ``repr`` shows.  ``[()]`` returns the number itself, as indexing the 0-d array
    that ``.at()`` returned for a scalar did.
    """

    def shown_repr(self: Any) -> str:
        return f"mpf('{self}')"

    def getitem(self: Any, key: object) -> Any:
        if key == ():
            return self
        msg = f"an exact scalar takes only the index () (got {key!r})"
        raise IndexError(msg)

    def reduce(self: Any) -> tuple[Any, ...]:
        return _restore_shown, (self._mpf_, ctx.dps)

    namespace = {"__slots__": (), "__repr__": shown_repr, "__getitem__": getitem}
    namespace |= {"__reduce__": reduce, "__module__": __name__}
    return type("mpf", (ctx.mpf,), namespace)


def _restore_shown(value: Any, dps: int) -> Any:
    """Unpickle an exact value (the class is made per context, so pickle cannot name it)."""
    shown = _shown_type(thread_context(dps))
    number = shown.__new__(shown)
    number._mpf_ = value
    return number


def _plain_number(value: object) -> object:
    """NumPy scalars as the Python numbers :func:`symgrad.expr.parse_number` takes exactly."""
    import numpy as np  # noqa: PLC0415 - see the imports

    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


@functools.lru_cache(maxsize=256)
def _parse_point_text(text: str) -> dict[sympy.Symbol, sympy.Rational]:
    """Points given as text are parsed once (the result is never mutated by callers)."""
    return parse_point(text)


def as_float_array(value: npt.ArrayLike, name: str, *, keep_mask: bool = False) -> FloatArray:
    """Coerce one input to a float64 array, refusing non-numeric kinds clearly.

    An InputError refuses booleans, strings, complex numbers, ragged nested sequences and what
    NumPy holds as Python objects (exact numbers such as ``Fraction``, ``Decimal``, Python ints
    beyond int64, SymPy and mpmath numbers, which float64 would round, and None).  A masked
    array (or a list or tuple holding one) is refused too, its mask being what a plain array
    drops, unless ``keep_mask``: then it is a masked array of float64 with the same mask (what
    :class:`Compiled` calls do, see ``Compiled.__call__``).
    """
    import numpy as np  # noqa: PLC0415 - see the imports

    if type(value) is np.ndarray and value.dtype == np.float64:  # the common cases, checked fast
        return value
    if type(value) is np.float64 or type(value) is float:
        return np.asarray(value, dtype=np.float64)
    masked = _masked_input(value, name)
    if masked is not None:
        if not keep_mask:
            msg = (
                f"input {name!r} is a masked array, whose mask this function cannot keep; pass "
                "plain values (for example x.compressed() or x.filled(numpy.nan))"
            )
            raise InputError(msg)
        data = as_float_array(_unmasked(masked), name)
        return np.ma.MaskedArray(data, mask=np.ma.getmask(masked))
    array = _numpy_array(value, name)
    if array.dtype.kind == "O":
        raise InputError(_objects_message(array, name))
    kind = _REJECTED_KINDS.get(array.dtype.kind)
    if kind is not None:
        msg = f"input {name!r} must be real numbers (got an array of {kind}, dtype {array.dtype})"
        raise InputError(msg)
    if array.dtype.kind == "c":
        msg = f"input {name!r} is complex; symgrad's compiled functions take real numbers"
        raise InputError(msg)
    return array.astype(np.float64, copy=False)


def _numpy_array(
    value: object, name: str, read: Callable[[Any], npt.NDArray[Any]] | None = None
) -> npt.NDArray[Any]:
    """``read(value)`` (``numpy.asarray`` by default), with an InputError for what it cannot
    read (ragged lists)."""
    import numpy as np  # noqa: PLC0415 - see the imports

    try:
        return (read or np.asarray)(value)
    except ValueError:
        msg = (
            f"input {name!r} is not a rectangular array of numbers (its nested sequences "
            "differ in length, or mix numbers and arrays)"
        )
        raise InputError(msg) from None
    except TypeError as exc:
        msg = f"input {name!r} cannot be read as an array of numbers ({short(str(exc))})"
        raise InputError(msg) from None


def _objects_message(array: npt.NDArray[Any], name: str) -> str:
    """Why an array of Python objects is refused, naming what it holds."""
    held = [v for v in itertools.islice(array.flat, 1000) if not isinstance(v, float)][:1]
    if not held:  # Python floats kept as objects (or an empty object array)
        return (
            f"input {name!r} is an array of dtype object; convert it with "
            "numpy.asarray(x, dtype=float)"
        )
    value = held[0]
    if isinstance(value, bool) or not isinstance(value, numbers.Real | decimal.Decimal):
        return (
            f"input {name!r} must be real numbers; it holds {short(repr(value), 40)} "
            f"({type(value).__name__})"
        )
    what = "an integer beyond int64's range" if type(held[0]) is int else "exact numbers"
    return (
        f"input {name!r} holds {what} ({type(value).__name__} {short(str(value), 30)}), and "
        "float64 evaluation takes floats: pass float(v) or numpy.asarray(x, dtype=float), or "
        "use .at() for exact values"
    )


def _masked_input(value: object, name: str) -> Any:
    """``value`` as a masked array if it is one, or a list or tuple holding one; else None."""
    import numpy as np  # noqa: PLC0415 - see the imports

    if np.ma.isMaskedArray(value):
        return value
    if isinstance(value, list | tuple) and any(np.ma.isMaskedArray(v) for v in value):
        return _numpy_array(value, name, _stacked)
    return None


@functools.cache
def _plain_types() -> frozenset[type]:
    """The input types that are neither masked nor labelled (the fast checks of a call)."""
    import numpy as np  # noqa: PLC0415 - see the imports

    return frozenset({float, int, np.float64, np.ndarray})


def _stacked(values: Sequence[Any]) -> Any:
    """A list of masked and plain arrays or numbers as one masked array, stacked along a new
    first axis (``numpy.ma.asarray`` of a list holding ``numpy.ma.masked`` warns and reads it as
    NaN)."""
    import numpy as np  # noqa: PLC0415 - see the imports

    return np.ma.stack([np.ma.asarray(v) for v in values])


def _unmasked(value: Any) -> Any:
    """A masked array's data (object arrays filled with 0: what is under the mask may be None);
    anything else unchanged."""
    import numpy as np  # noqa: PLC0415 - see the imports

    if not isinstance(value, np.ma.MaskedArray):
        return value
    return value.filled(0) if value.dtype.kind == "O" else value.data


def _masked_result(result: npt.NDArray[Any], masks: Sequence[Any]) -> npt.NDArray[Any]:
    """``result`` masked wherever an input is: the union of the inputs' masks, broadcast to the
    points (the trailing axes of ``result``) and to every component, with NaN under it."""
    import numpy as np  # noqa: PLC0415 - see the imports

    union = functools.reduce(np.logical_or, masks)
    mask = np.broadcast_to(union, result.shape)
    np.copyto(result, np.nan, where=mask)
    return np.ma.MaskedArray(result, mask=np.array(mask))


#: The libraries whose arrays carry labels (pandas indexes, xarray dimensions and coordinates).
_LABELLED = ("pandas.", "xarray.")


def _check_labels(given: Mapping[str, object]) -> None:
    """Refuse pandas or xarray inputs whose labels differ: symgrad pairs values by position (what
    ``numpy.asarray`` gives), and pandas and xarray would pair them by label."""
    first: dict[str, tuple[str, Any]] = {}
    for name, value in given.items():
        module = type(value).__module__
        if not module.startswith(_LABELLED) or not getattr(value, "ndim", 0):
            continue
        library = module.split(".")[0]
        other, seen = first.setdefault(library, (name, value))
        if seen is not value and not _same_labels(library, seen, value):
            msg = (
                f"inputs {other!r} and {name!r} carry different labels (pandas indexes or xarray "
                "dimensions and coordinates), and symgrad pairs values by position: align them "
                "first (pandas: x.align(y); xarray: xarray.broadcast(x, y)) or pass plain arrays"
            )
            raise InputError(msg)


def _same_labels(library: str, a: Any, b: Any) -> bool:
    """Whether two pandas objects have equal axes (a Series its index, a DataFrame also its
    columns), or two xarray ones equal dimensions and indexes: then pairing by position is
    pairing by label."""
    if library == "pandas":
        return len(a.axes) == len(b.axes) and all(
            x.equals(y) for x, y in zip(a.axes, b.axes, strict=True)
        )
    shared = set(a.indexes) & set(b.indexes)
    return bool(a.dims == b.dims) and all(a.indexes[k].equals(b.indexes[k]) for k in shared)


def _flat_input(array: FloatArray) -> FloatArray:
    """A 1-D view of a full-size ``array`` over the grid (0-d for single values)."""
    import numpy as np  # noqa: PLC0415 - see the imports

    if array.size == 1:
        return array.reshape(())
    if array.ndim == 1 and array.flags.c_contiguous:
        return array
    return np.ascontiguousarray(array).reshape(-1)


def _flat_entries(exprs: Any, array: Any) -> tuple[Any, ...]:
    """The entries of ``array`` (built from the nested ``exprs``) in row-major order.

    Taken from the nested input (``Array.tolist()`` indexes entry by entry: 0.16 s for a
    100 x 100 Hessian) when it holds SymPy objects and as many as the array.
    """
    if array is None:
        return (exprs,)
    flat = tuple(sympy.flatten(exprs))
    if len(flat) == math.prod(array.shape) and all(isinstance(e, sympy.Basic) for e in flat):
        return flat
    return tuple(sympy.flatten(array.tolist()))


def _nest(flat: list[Any], shape: tuple[int, ...]) -> Any:
    """The flat entries nested again for a known shape."""
    if len(shape) == 1:
        return flat
    step = len(flat) // shape[0]
    return [_nest(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]
