"""The float64 evaluators of a compiled function: NumPy, fused numexpr, symengine's machine code.

Every evaluator computes the *distinct* components only: a Hessian of Rosenbrock's function in
100 variables has 10,000 entries but 200 distinct expressions (one of them the 9,702 zeros),
and each is generated and evaluated once and then copied into every row it fills
(:class:`Layout`).  Common subexpressions are found by :func:`~symgrad.derive._printing.tree_cse`,
linear in the size of the expressions.

Three evaluators, chosen per function by ``Compiled(..., evaluator=)`` or
:meth:`~symgrad.derive.Compiled.using`:

``"numpy"``
    The CSE'd program as one generated NumPy function (``.source`` shows it), called on chunks of
    ``CHUNK`` points.  Always available; always used for complex inputs (the complex step).
``"numexpr"``
    The same program, each statement one fused numexpr loop (the ``fast`` extra).  Statements
    numexpr cannot compute (special functions, Heaviside with another value at 0, constants
    beyond float64's range, statements beyond its 255 registers such as a sum of 200 terms)
    are computed by NumPy, statement by statement.  numexpr runs on its
    own thread pool, whose size is numexpr's global setting: symgrad never changes it (set
    ``NUMEXPR_NUM_THREADS=1`` in the workers of a process pool to avoid oversubscription).
``"symengine"``
    symengine's ``Lambdify`` (LLVM machine code when symengine was built with LLVM; the ``fast``
    extra), one pass over the points computing every component; single-threaded.  Components
    using a function whose NumPy semantics it does not share (min and max drop a NaN argument
    there; sign, atan2, special functions, placeholders), and products that symengine would
    rewrite (``x**y*y/x`` into ``x**(y - 1)*y``, ``exp(a)*exp(b)`` into ``exp(a + b)``), are
    computed by NumPy, so every evaluator computes the same formula.  Built on the first call
    of more than one point (LLVM compilation: 0.05-0.25 s for the functions measured below), so
    a function only evaluated exactly or at single points (NumPy scalars: 15 us for f3 against
    56 us through symengine) never builds it.

``"auto"`` (the default) is symengine when it is installed, otherwise NumPy (the environment
variable ``SYMGRAD_EVALUATOR=numpy|numexpr|symengine`` overrides it), and NumPy for a function
with more than ``AUTO_WIDE`` = 100 inputs plus distinct components called at ``AUTO_MANY_POINTS``
= 4096 points or more, or with more than ``AUTO_MAX_OPERATIONS`` = 4,000 operations (whose
compilation would cost seconds: see the constant).  Measured on the development machine (2 shared cores; CPU time of one
thread per library, the best of 15 interleaved rounds; NumPy 2, symengine 0.15 with LLVM,
numexpr 2.14, JAX 0.10 jitted, compilation excluded), a gradient call in microseconds:

=====================  =====  =======  =========  =====  ====  ============
gradient, points       numpy  numexpr  symengine  JAX    hand  lambdify+cse
=====================  =====  =======  =========  =====  ====  ============
f3 (3 variables), 1e3  90     115      62         113    55    70
f3, 1e4                955    730      488        618    442   1,291
Rosenbrock N=10, 1e3   92     113      55         44     -     72
Rosenbrock N=10, 1e4   1,420  1,453    465        223    -     1,253
Rosenbrock N=100, 1e3  900    1,165    489        121    -     796
Rosenbrock N=100, 1e4  4,923  7,839    5,561      1,461  -     4,825
dense N=200, 1e3       1,490  -        1,394      -      -     -
dense N=200, 1e4       7,314  -        12,610     -      -     -
=====================  =====  =======  =========  =====  ====  ============

(f3 is ``exp(sin(x*y)+cos(y*z))/(1+(x*y*z)**2) + log(1+exp(sin(x*y)+cos(y*z)))``, "hand" the
hand-written NumPy of benchmarks/bench_gradient.py, "dense" the gradient of
``(x0 + 2*x1 + ... + 200*x199)**2`` with the sum kept factored; the dense rows are from a run
with wider spread; at 1e4 points ``"auto"`` now runs it on NumPy.)  symengine alone on an
input already packed point by point, its output left point by point, took 317 us and 3,846 us
for the dense N=200 gradient: the two transposes that the ``(components, points)`` layout of a symgrad call
needs are most of the difference.  numexpr, one loop per statement, beat NumPy only at 1e4
points for f3 and lost elsewhere (its per-call overhead, and the chunked NumPy program already
being cache-resident), so ``"auto"`` never picks it; it stays an option for machines with more
cores.  The build: the Rosenbrock N=100 Hessian (10,000 entries, 200 distinct) compiles in
0.05 s (``lambdify(cse=True)`` of the entries: 0.47 s), its symengine code on the first call
in 0.25 s more; the dense N=200 gradient in 0.12 s (3.8 s), symengine 0.14 s more.

Results agree to float64 rounding, not bit for bit: the evaluators round the same formula in a
different order in places (symengine sorts the terms of sums and products and converts exact
rationals itself; numexpr's transcendental functions are the C library's where NumPy has its
own SIMD versions; both compute ``x**2`` as ``x*x`` and ``x**3`` with ``pow``, as NumPy does).
The tests bound every evaluator's error against the exact value (SymPy at 30 digits) by a few
units in the last place plus the width of the same formula in 53-bit interval arithmetic, its
condition.

**Edge values.**  At ``±inf``, NaN, ``±0.0``, denormal and huge inputs, and where a square root,
a quotient or a power meets them, every evaluator returns NumPy's value: the same class (NaN,
``+inf``, ``-inf``, finite, the sign of a zero).  symengine computes a square root as
``pow(u, 0.5)`` (``+inf`` at ``-inf``, where NumPy's ``sqrt`` is NaN; ``sqrt(x)*y`` at
``x = -inf`` was ``inf``), a quotient as a product with a reciprocal (``inf`` where ``1/y``
overflows) and integer powers by repeated multiplication (700 ulp off at ``x**1000``).  Integer
powers are handed to symengine with float exponents, so it calls ``pow`` as NumPy does; square
roots and quotients cannot be, so the program also returns their bases and a few vectorized
reductions per block name the points where a base, an input or a result leaves the range in
which both computations agree; NumPy computes those points again (:mod:`symgrad.derive._guards`
has the rules).  numexpr computes the same primitives as NumPy, but sums and products in its
own order, so the points with extreme inputs or results are computed again by NumPy there too.
The guards cost 5-25% of a symengine call on ordinary inputs (measured: 0.09 against 0.08 ms
for the gradient of f3 at 10**3 points, 0.62 against 0.53 ms for Rosenbrock N=100), nothing
per point in Python.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

import sympy

from symgrad.derive._guards import edge_guards, extreme_points, machine_form, unsafe_points
from symgrad.derive._trees import compound_nodes
from symgrad.errors import ConfigError, MissingExtra

if TYPE_CHECKING:  # NumPy and the code printers are imported where code is generated or run
    import numpy as np
    import numpy.typing as npt

    Values = Sequence[Any] | npt.NDArray[Any]

__all__ = [
    "EVALUATORS",
    "Evaluator",
    "Layout",
    "build_evaluator",
    "check_evaluator",
    "forced_evaluator",
    "layout",
]

#: The evaluator names ``Compiled(..., evaluator=)`` takes.
EVALUATORS = ("auto", "numpy", "numexpr", "symengine")
#: Points per chunk in the NumPy and numexpr evaluators (2**16: neutral for tiny expressions,
#: 3.7x faster than one full-array call for CSE-heavy ones; benchmarks/bench_gradient.py).
CHUNK = 1 << 16
#: Doubles in the symengine evaluator's two scratch buffers (1 MiB): its blocks of points.
SCRATCH_DOUBLES = 1 << 17
#: ``"auto"`` uses NumPy rather than symengine for functions with more inputs plus distinct
#: components than this, called at ``AUTO_MANY_POINTS`` points or more (measured below: the
#: transposes into and out of symengine's point-by-point layout then cost more than it saves).
AUTO_WIDE = 100
AUTO_MANY_POINTS = 4096
#: ``"auto"`` compiles symengine's code only for a program of at most this many operations
#: (after common subexpressions are taken out): LLVM's compile time grows faster than the program
#: (measured: 860 operations 0.1 s, 3,300 0.55 s, 7,400 2.1 s, 9,000 2.7 s, 20,000 22 s on a
#: first call of a 100-variable Hessian), while NumPy's program costs nothing to build.
AUTO_MAX_OPERATIONS = 4000


class Evaluator(Protocol):
    """A float64 evaluator of the distinct components: one array (or 0-d) per variable in."""

    #: Points per call that it prefers (the caller cuts the points in blocks of this size).
    block: int

    def pays(self, points: int) -> bool:
        """Whether it is worth using at this many points (NumPy's program otherwise)."""

    def __call__(self, *arrays: Any) -> Values:
        """One value per distinct component."""


@dataclass(frozen=True, slots=True)
class Layout:
    """The distinct components and the output rows each one fills.

    ``unique[k]`` fills the rows ``rows[k]`` (an int for one row, an index array for several).
    """

    unique: tuple[Any, ...]
    rows: tuple[int | npt.NDArray[np.intp], ...]
    #: The distinct component of each output row, or None when they are the rows in order.
    index: npt.NDArray[np.intp] | None

    def scatter(self, out: npt.NDArray[Any], values: Values, where: slice | int) -> None:
        """Write each distinct value into its rows of ``out[:, where]``.

        A 2-D array of values (one row per distinct component) is written in one NumPy copy.
        """
        import numpy as np  # noqa: PLC0415 - a function is made without NumPy (see imports)

        if isinstance(values, np.ndarray) and values.ndim == 2:
            out[:, where] = values if self.index is None else values[self.index]
            return
        for rows, value in zip(self.rows, values, strict=True):
            out[rows, where] = value


def layout(flat: Sequence[Any]) -> Layout:
    """The distinct expressions of ``flat`` in first-seen order, and the rows of each."""
    import numpy as np  # noqa: PLC0415 - a function is made without NumPy (see imports)

    first: dict[Any, list[int]] = {}
    for row, expr in enumerate(flat):
        first.setdefault(expr, []).append(row)
    rows = tuple(r[0] if len(r) == 1 else np.array(r, dtype=np.intp) for r in first.values())
    if len(first) == len(flat):
        return Layout(tuple(first), rows, None)
    index = np.empty(len(flat), dtype=np.intp)
    for k, taken in enumerate(first.values()):
        index[taken] = k
    return Layout(tuple(first), rows, index)


def check_evaluator(name: object) -> str:
    """``name`` if it is an evaluator name, else a ConfigError listing them."""
    if not isinstance(name, str) or name not in EVALUATORS:
        msg = f"evaluator must be one of {', '.join(EVALUATORS)} (got {name!r})"
        raise ConfigError(msg)
    if name in {"numexpr", "symengine"} and not _installed(name):
        msg = f"evaluator={name!r} needs {name}: pip install 'symgrad[fast]'"
        raise MissingExtra(msg)
    return name


def _installed(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def forced_evaluator() -> str | None:
    """The evaluator the environment variable ``SYMGRAD_EVALUATOR`` forces on ``"auto"``.

    It lets a whole program or test suite run on one evaluator.  Empty, unset or ``auto`` mean
    no override (None); any other value must be ``numpy``, ``numexpr`` or ``symengine``
    exactly, as ``evaluator=`` takes them (no case folding, no stripped spaces: ``NumPy`` or
    `` numpy`` is as wrong as ``numexr``).  :class:`~symgrad.derive.Compiled` reads it at the
    first float64 evaluation of a function left on ``"auto"`` (never at import or when a
    function is made), and :func:`resolved` again when it builds the evaluator.

    Raises
    ------
    ConfigError
        ``SYMGRAD_EVALUATOR`` holds another value (the message names it and the allowed ones).
    MissingExtra
        It names numexpr or symengine and that is not installed.
    """
    forced = os.environ.get("SYMGRAD_EVALUATOR", "")
    if forced in {"", "auto"}:
        return None
    if forced not in EVALUATORS:
        msg = (
            f"the environment variable SYMGRAD_EVALUATOR is {forced!r}, which is not an "
            f"evaluator: set it to one of {', '.join(EVALUATORS)} (exactly so, lower case "
            "without spaces) or leave it empty"
        )
        raise ConfigError(msg)
    if forced != "numpy" and not _installed(forced):
        msg = (
            f"the environment variable SYMGRAD_EVALUATOR is {forced!r}, but {forced} is not "
            "installed: pip install 'symgrad[fast]', or unset SYMGRAD_EVALUATOR"
        )
        raise MissingExtra(msg)
    return forced


def resolved(name: str) -> str:
    """The evaluator ``"auto"`` stands for here (see the module docstring's measurements):
    what ``SYMGRAD_EVALUATOR`` forces (:func:`forced_evaluator`, which raises for a bad value),
    else symengine when it is installed, else NumPy."""
    if name != "auto":
        return name
    return forced_evaluator() or ("symengine" if _installed("symengine") else "numpy")


def build_evaluator(
    name: str, variables: Sequence[sympy.Symbol], unique: Sequence[Any]
) -> Evaluator | None:
    """The evaluator ``name`` of the distinct components, or None for the NumPy program.

    The returned function takes one array (or 0-d array) per variable, all of one size or
    0-d, and returns one value per distinct component.
    """
    chosen = resolved(name)
    if chosen == "numexpr":
        return _NumexprProgram(variables, unique)
    if chosen == "symengine":
        try:
            return _SymengineProgram(variables, unique, chosen_by_auto=name == "auto")
        except _TooLarge:
            return None
    return None


class _TooLarge(Exception):
    """A program too large for ``"auto"`` to compile with symengine (``AUTO_MAX_OPERATIONS``)."""


def _operations(exprs: Sequence[Any]) -> int:
    """The arithmetic operations of some expression trees, shared subtrees once: a node with k
    operands is k - 1 of them (a product of four factors is three multiplications), a function
    call one."""
    return sum(max(1, len(node.args) - 1) for node in compound_nodes(exprs))


#: numexpr's compiled programs keep their own buffers, and two threads running one of them
#: at once corrupt memory (the process aborts, or values come back wrong): calls are taken one
#: at a time, each still running on numexpr's own thread pool.
_NUMEXPR_LOCK = threading.Lock()


class _NumexprProgram:
    """The CSE'd program, each statement one numexpr loop or, where numexpr cannot, NumPy."""

    block = CHUNK

    def pays(self, points: int) -> bool:  # noqa: ARG002 - chosen by name only
        return True

    def __init__(self, variables: Sequence[sympy.Symbol], unique: Sequence[Any]) -> None:
        from symgrad.derive._printing import float_printable, tree_cse  # noqa: PLC0415

        statements, outputs = tree_cse(unique)
        statements = [(s, float_printable(e)) for s, e in statements]
        outputs = [float_printable(e) for e in outputs]
        names = {v: f"v{i}" for i, v in enumerate(variables)}
        names |= {s: f"t{i}" for i, (s, _) in enumerate(statements)}
        by_name = {names[s]: s for s in names}
        self._steps: list[tuple[str, Callable[..., Any], list[str]]] = []
        for symbol, expr in statements:
            self._steps.append((names[symbol], *self._step(expr, names, by_name)))
        self._outputs = [self._step(e, names, by_name) for e in outputs]
        self._variables = [names[v] for v in variables]
        self._symbols = tuple(variables)
        self._unique = list(unique)

    @staticmethod
    def _step(
        expr: Any, names: dict[sympy.Symbol, str], by_name: dict[str, sympy.Symbol]
    ) -> tuple[Callable[..., Any], list[str]]:
        from symgrad.derive._printing import (  # noqa: PLC0415 - see the imports
            compile_numexpr,
            lambdify_exprs,
            numexpr_text,
        )

        used = sorted(names[s] for s in expr.free_symbols) if isinstance(expr, sympy.Basic) else []
        text = numexpr_text(expr, names) if used else None
        program = compile_numexpr(text, used) if text is not None else None
        if program is not None:
            return program, used
        symbols = [by_name[n] for n in used]
        numpy_fn = lambdify_exprs(symbols, [expr], "numpy")
        return (lambda *a: numpy_fn(*a)[0]), used

    def __call__(self, *arrays: Any) -> Values:
        import numpy as np  # noqa: PLC0415 - see the imports

        env = dict(zip(self._variables, arrays, strict=True))
        with _NUMEXPR_LOCK:  # one program at a time: numexpr's are not safe across threads
            for target, fn, used in self._steps:
                env[target] = fn(*(env[n] for n in used))
            values = [fn(*(env[n] for n in used)) for fn, used in self._outputs]
        redo = extreme_points(arrays, values)
        if redo.size:  # NumPy's values where the order of operations may matter (_guards)
            size = max(a.size for a in arrays)
            at = [a[redo] if a.ndim and a.size == size else a for a in arrays]
            for k, value in enumerate(self._fallback(*at)):
                if isinstance(values[k], np.ndarray) and values[k].size == size:
                    values[k] = np.array(values[k], dtype=np.float64)  # never an input's memory
                    values[k][redo] = value
        return values

    @cached_property
    def _fallback(self) -> Callable[..., Any]:
        """NumPy's program of every component, for the points :func:`extreme_points` names."""
        from symgrad.derive._printing import lambdify_exprs  # noqa: PLC0415 - see the imports

        return lambdify_exprs(self._symbols, self._unique, "numpy")  # type: ignore[no-any-return]


class _SymengineProgram:
    """symengine's compiled code for the components it computes as NumPy does, NumPy for the rest.

    symengine's code reads one point's inputs and writes one point's outputs contiguously, so
    each block of points is packed into a scratch buffer (points x variables) and computed into
    another (points x components), both reused by the thread and about 1 MiB together: fresh
    buffers of the whole call's size cost page faults that measured up to 10x the computation
    at 10**3 points.  The caller copies the transposed block out before the next call.
    """

    def __init__(
        self, variables: Sequence[sympy.Symbol], unique: Sequence[Any], *, chosen_by_auto: bool
    ) -> None:
        from symgrad.derive._printing import (  # noqa: PLC0415 - see the imports
            float_printable,
            lambdify_exprs,
            symengine_keeps,
            symengine_lambdify,
            tree_cse,
        )

        self._auto = chosen_by_auto
        statements, outputs = tree_cse(unique)
        if chosen_by_auto and (
            _operations([e for _, e in statements] + outputs) > AUTO_MAX_OPERATIONS
        ):
            raise _TooLarge
        statements = [(s, float_printable(e)) for s, e in statements]
        outputs = [float_printable(e) for e in outputs]
        temps = {s for s, _ in statements}
        native_temps: set[sympy.Symbol] = set()  # temporaries symengine computes, with inputs
        for symbol, expr in statements:
            if _native(expr, native_temps, temps):
                native_temps.add(symbol)
        kept = symengine_keeps(unique)
        native = [i for i, e in enumerate(outputs) if kept[i] and _native(e, native_temps, temps)]
        rest = [i for i in range(len(unique)) if i not in set(native)]
        self._native = native
        self._rest = rest
        self._count = len(unique)
        self._nvars = len(variables)
        used = [(s, e) for s, e in statements if s in native_temps]
        values = [outputs[i] for i in native]
        self._guards = edge_guards([e for _, e in used] + values)
        formula = machine_form([e for _, e in used] + values + self._guards.exprs)
        machine_temps = list(zip([s for s, _ in used], formula, strict=False))
        self._machine = symengine_lambdify(variables, machine_temps, formula[len(used) :])
        self._numpy = (
            lambdify_exprs(variables, [unique[i] for i in rest], "numpy") if rest else None
        )
        self._native_exprs = [unique[i] for i in native]
        self._variables = tuple(variables)
        width = self._nvars + len(native) + len(self._guards.exprs)
        self.block = max(64, min(CHUNK, SCRATCH_DOUBLES // max(1, width)))
        self._scratch = threading.local()

    def pays(self, points: int) -> bool:
        """Chosen by ``"auto"``: not for wide functions at many points (see module docstring)."""
        wide = self._nvars + len(self._native) > AUTO_WIDE
        return not (self._auto and wide and points >= AUTO_MANY_POINTS)

    def __call__(self, *arrays: Any) -> Values:
        block = self._machine_values(arrays) if self._native else None
        if self._numpy is None:  # all native: the block is the whole answer
            return block.T if block is not None else []
        values: list[Any] = [None] * self._count
        if block is not None:
            for column, i in enumerate(self._native):
                values[i] = block[:, column]
        for i, value in zip(self._rest, self._numpy(*arrays), strict=True):
            values[i] = value
        return values

    def _machine_values(self, arrays: Sequence[Any]) -> npt.NDArray[np.float64]:
        """The native components at these points (at most ``block``), ``(points, native)``."""
        import numpy as np  # noqa: PLC0415 - see the imports

        size = max(a.size for a in arrays)
        packed, out = self._buffers(size)
        full = [a if a.size == size else np.broadcast_to(a, (size,)) for a in arrays]
        np.stack(full, axis=1, out=packed)
        self._machine(packed, out=out)
        width = len(self._native)
        redo = unsafe_points(packed, out, width, self._guards)
        if redo.size:  # NumPy's values where symengine's may differ (see _guards)
            at = [a[redo] if a.ndim and a.size == size else a for a in arrays]
            for column, value in enumerate(self._fallback(*at)):
                out[redo, column] = value
        return out[:, :width]

    @cached_property
    def _fallback(self) -> Callable[..., Any]:
        """NumPy's program of the native components, for the points symengine leaves."""
        from symgrad.derive._printing import lambdify_exprs  # noqa: PLC0415 - see the imports

        return lambdify_exprs(self._variables, self._native_exprs, "numpy")  # type: ignore[no-any-return]

    def _buffers(self, size: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """This thread's scratch buffers, cut to ``size`` points."""
        import numpy as np  # noqa: PLC0415 - see the imports

        scratch = self._scratch.__dict__
        if scratch.get("size", 0) < size:
            scratch["packed"] = np.empty((size, self._nvars))
            scratch["out"] = np.empty((size, len(self._native) + len(self._guards.exprs)))
            scratch["size"] = size
        return scratch["packed"][:size], scratch["out"][:size]


def _native(expr: Any, native_temps: set[sympy.Symbol], temps: set[sympy.Symbol]) -> bool:
    """Whether symengine computes ``expr``: its own operations and every temporary it uses."""
    from symgrad.derive._printing import symengine_computes  # noqa: PLC0415 - see the imports

    used = expr.free_symbols & temps if isinstance(expr, sympy.Basic) else set()
    return used <= native_temps and symengine_computes(expr)
