"""Evaluating a compiled gradient: symgrad vs hand-written NumPy, lambdify, symengine, numexpr, JAX.

Run: ``python benchmarks/bench_eval.py [--quick]`` (or as part of ``run.py``).  Two parts:

* **points**: the gradient of the shared-subexpression function
  ``exp(sin(x*y)+cos(y*z))/(1+(x*y*z)**2) + log(1+exp(sin(x*y)+cos(y*z)))`` at 10³, 10⁴ and 10⁶
  random points.  Methods: careful hand-written NumPy (``bench_gradient.hand_f3``), symgrad's
  compiled gradient, ``sympy.lambdify(..., cse=True)`` (its native list of arrays), symengine's
  ``Lambdify`` (LLVM backend when symengine has it, input packed as one ``(points, 3)`` array
  beforehand), ``numexpr.evaluate`` of each component's SymPy derivative, and JAX
  (``jit(vmap(grad))``, float64, inputs already on the device; compilation excluded: the warm-up
  call compiles).
* **dense**: the gradient of the dense rank-one quadratic form ``(Σ c_j x_j)²`` at 10⁴ points
  for N = 25…200 variables, and its growth exponent in N (the output alone grows as N, so an
  exponent near 1 is the best possible; a gradient whose components each carry their own N-term
  sum grows as N²).

Every method's output is compared with the hand-written NumPy (or closed-form) values before it
is timed; ratios are symgrad's seconds over each peer's, from one round robin.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import sympy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import BIG, coefficients, dense_terms, dense_text
from bench_gradient import CASES
from common import Run, Section, fmt_ratio, measure, table

import symgrad

TEXT, HAND = CASES["f3 shared subexpressions"]
PEERS = ("hand NumPy", "lambdify+cse", "symengine", "numexpr", "jax")


def _as_array(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=float)


def _symengine_lambdify(se: Any, xs: list[Any], exprs: list[Any]) -> tuple[Callable[..., Any], str]:
    """symengine's Lambdify on its fastest backend here (LLVM when compiled in)."""
    if getattr(se, "have_llvm", False):
        return se.Lambdify(xs, exprs, cse=True, backend="llvm"), "llvm"
    return se.Lambdify(xs, exprs, cse=True), "lambda"


def point_methods(run: Run, sec: Section, n: int) -> dict[str, Callable[[], object]]:
    """Each method's zero-argument gradient call on the same ``n`` random points."""
    rng = np.random.default_rng(20261205)
    x, y, z = rng.uniform(-1.5, 1.5, (3, n))
    xs = sympy.symbols("x y z")
    f = sympy.exp(sympy.sin(xs[0] * xs[1]) + sympy.cos(xs[1] * xs[2])) / (
        1 + (xs[0] * xs[1] * xs[2]) ** 2
    ) + sympy.log(1 + sympy.exp(sympy.sin(xs[0] * xs[1]) + sympy.cos(xs[1] * xs[2])))
    grad = [f.diff(v) for v in xs]
    g = symgrad.gradient(TEXT, "x y z")
    lam = sympy.lambdify(xs, grad, cse=True)
    methods: dict[str, Callable[[], object]] = {
        "symgrad": lambda: g(x, y, z),
        "hand NumPy": lambda: HAND(x, y, z),
        "lambdify+cse": lambda: lam(x, y, z),
    }
    se = run.peer("symengine")
    if se is not None:
        packed = np.ascontiguousarray(np.stack([x, y, z], axis=-1))
        sef, backend = _symengine_lambdify(
            se, list(se.symbols("x y z")), [se.sympify(e) for e in grad]
        )
        sec.notes.append(f"symengine Lambdify backend: {backend}")
        methods["symengine"] = lambda: sef(packed)
    ne = run.peer("numexpr")
    if ne is not None:
        texts = [str(e) for e in grad]
        out = np.empty((3, n))
        local = {"x": x, "y": y, "z": z}

        def numexpr_grad() -> object:
            for i, s in enumerate(texts):
                ne.evaluate(s, local_dict=local, out=out[i])
            return out

        methods["numexpr"] = numexpr_grad
    jax = run.peer("jax")
    if jax is not None:
        jnp = jax.numpy

        def fj(a: Any, b: Any, c: Any) -> Any:
            u = jnp.sin(a * b) + jnp.cos(b * c)
            return jnp.exp(u) / (1 + (a * b * c) ** 2) + jnp.log(1 + jnp.exp(u))

        vgrad = jax.jit(lambda a, b, c: jnp.stack(jax.vmap(jax.grad(fj, (0, 1, 2)))(a, b, c)))
        jx, jy, jz = (jax.device_put(v) for v in (x, y, z))
        methods["jax"] = lambda: vgrad(jx, jy, jz).block_until_ready()
    expected = HAND(x, y, z)
    for name, method in methods.items():
        got = _as_array(method())
        got = got.T if name == "symengine" else got
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12, err_msg=name)
    return methods


def dense_methods(run: Run, sec: Section, n: int, points: int) -> dict[str, Callable[[], object]]:
    """The dense form's gradient at ``points`` points in N = ``n`` variables, per method."""
    rng = np.random.default_rng(n)
    data = rng.uniform(-1.0, 1.0, (n, points))
    c = np.asarray(coefficients(n), dtype=float)
    names = [f"x{i}" for i in range(n)]
    g = symgrad.gradient(dense_text(n, 1), names, limits=BIG)
    xs = sympy.symbols(names)
    f = dense_terms(xs, 1)
    lam = sympy.lambdify(xs, [f.diff(v) for v in xs], cse=True)
    methods: dict[str, Callable[[], object]] = {
        "symgrad": lambda: g(*data),
        "hand NumPy": lambda: np.multiply.outer(2.0 * c, c @ data),
        "lambdify+cse": lambda: lam(*data),
    }
    se = run.peer("symengine")
    if se is not None:
        sx = se.DenseMatrix(list(se.symbols(names)))
        sgrad = se.DenseMatrix([dense_terms(list(sx), 1)]).jacobian(sx)
        sef, backend = _symengine_lambdify(se, list(sx), list(sgrad))
        packed = np.ascontiguousarray(data.T)
        sec.notes.append(f"symengine Lambdify backend: {backend}")
        methods["symengine"] = lambda: sef(packed)
    jax = run.peer("jax")
    if jax is not None:
        jnp = jax.numpy
        jc, jdata = jnp.asarray(c), jax.device_put(data)
        vgrad = jax.jit(jax.vmap(jax.grad(lambda v: jnp.dot(jc, v) ** 2), in_axes=1, out_axes=1))
        methods["jax"] = lambda: vgrad(jdata).block_until_ready()
    expected = np.multiply.outer(2.0 * c, c @ data)
    for name, method in methods.items():
        got = _as_array(method())
        got = got.T if name == "symengine" else got
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9, err_msg=name)
    return methods


def main(run: Run) -> None:
    sec = run.section("eval", "Gradient evaluation (seconds per call; ratios symgrad/peer)")
    sizes = [1000] if run.quick else [1000, 10_000, 1_000_000]
    rows = [["case", "symgrad s", *(f"/ {p}" for p in PEERS)]]
    for n in sizes:
        _timed(run, sec, f"f3 at {n} points", lambda n=n: point_methods(run, sec, n))
        rows.append(_row(sec, f"f3 at {n} points"))
    dims = [4, 8] if run.quick else [25, 50, 100, 200]
    points = 100 if run.quick else 10_000
    for n in dims:
        case = f"dense N={n} at {points} points"
        _timed(run, sec, case, lambda n=n: dense_methods(run, sec, n, points))
        rows.append(_row(sec, case))
    sec.notes[:] = sorted(set(sec.notes))
    print(table(rows))
    growth = [["family", "method", "growth exponent in N"]]
    cases = {n: f"dense N={n} at {points} points" for n in dims}
    for method in ("symgrad", *PEERS):
        slope = sec.fit_growth("dense evaluation", method, cases)
        if slope is not None:
            growth.append(["dense evaluation", method, f"{slope:.2f}"])
    print(table(growth))


def _timed(
    run: Run, sec: Section, case: str, setup: Callable[[], dict[str, Callable[[], object]]]
) -> None:
    """Build and check every method of a case, then time them round-robin (progress printed)."""
    begun = time.perf_counter()
    methods = setup()
    built = time.perf_counter()
    sec.record_all(case, measure(methods, **run.settings()))
    print(
        f"  {case}: {', '.join(methods)} (built in {built - begun:.0f} s, "
        f"timed in {time.perf_counter() - built:.0f} s)",
        flush=True,
    )


def _row(sec: Section, case: str) -> list[str]:
    t = sec.median(case, "symgrad")
    ratios = [sec.ratio(case, "symgrad", p) for p in PEERS]
    return [case, "-" if t is None else f"{t:.3g}", *map(fmt_ratio, ratios)]


if __name__ == "__main__":
    main(Run(quick="--quick" in sys.argv))
