"""Building gradient + Hessian: symgrad vs symengine alone, SymPy lambdify (+cse) and JAX.

Run: ``python benchmarks/bench_build.py [--quick]`` (or as part of ``run.py``).  Each method goes
from a fresh expression to two compiled functions (gradient and Hessian), called once at a point
so that nothing is left to compile lazily:

* **symgrad**: ``symgrad.gradient(text)`` and ``symgrad.hessian(text)`` from text, the user's path
  (parsing included), with limits raised so the cost model does not refuse the large cases;
* **symengine**: the expression built from symengine symbols, ``jacobian`` twice and ``Lambdify``
  (``cse=True``) of each;
* **lambdify+cse**: SymPy ``diff`` / ``hessian`` and ``sympy.lambdify(..., cse=True)``;
* **JAX**: ``jax.jit(jax.grad(f))`` and ``jax.jit(jax.hessian(f))`` lowered and compiled (JAX's
  build is its compilation; f is written with ``jnp`` on a vector, as a JAX user would).

Every call uses a coefficient that no earlier call used (``100 + k``), so a cache keyed by the
text cannot turn a build into a look-up.  Families: the chained Rosenbrock function (sparse,
tridiagonal Hessian) and a dense rank-one quadratic form ``(Σ c_j x_j)²`` with
``c_j = 1 + j mod 7`` (dense Hessian).  A method whose time, extrapolated from the
smaller sizes (or whose first call) exceeds its per-build cap (60 s for symgrad, the subject;
12 s for a peer, to keep the run within minutes) is skipped from there on, and says so; where
symgrad itself is refused or over its cap, the peers are not run at that size (no ratio).
Growth exponents are log-log slopes over the measured sizes.
"""

from __future__ import annotations

import itertools
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import sympy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Run, Section, fmt_ratio, measure, table

import symgrad

BIG = symgrad.Limits(max_work=10**12, max_points=10**9, max_values=10**10, max_checks=10**7)
PEERS = ("symengine", "lambdify+cse", "jax")


def coefficients(n: int) -> list[int]:
    """The dense form's coefficients c_j = 1 + j mod 7."""
    return [1 + j % 7 for j in range(n)]


def rosenbrock_text(n: int, a: int) -> str:
    return " + ".join(f"{a}*(x{i + 1} - x{i}**2)**2 + (1 - x{i})**2" for i in range(n - 1))


def dense_text(n: int, a: int) -> str:
    return f"{a}*(" + " + ".join(f"{c}*x{j}" for j, c in enumerate(coefficients(n))) + ")**2"


def rosenbrock_terms(xs: list[Any], a: int) -> Any:
    return sum(a * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(len(xs) - 1))


def dense_terms(xs: list[Any], a: int) -> Any:
    return a * sum(c * x for c, x in zip(coefficients(len(xs)), xs, strict=True)) ** 2


FAMILIES: dict[str, tuple[Callable[[int, int], str], Callable[[list[Any], int], Any]]] = {
    "rosenbrock": (rosenbrock_text, rosenbrock_terms),
    "dense": (dense_text, dense_terms),
}


def _parses(text: str) -> bool:
    """Whether symgrad's parser takes the text (False when it is over the length cap)."""
    try:
        symgrad.parse(text)
    except symgrad.LimitExceeded as exc:
        if exc.limit == "too_long":
            return False
        raise
    return True


def _builders(run: Run, sec: Section, family: str, n: int) -> dict[str, Callable[[], object]]:
    """One zero-argument build per method; each call builds a fresh expression."""
    text_of, terms_of = FAMILIES[family]
    names = [f"x{i}" for i in range(n)]
    point = np.linspace(0.1, 0.9, n)
    counter = itertools.count(100)
    from_text = _parses(text_of(n, 100))
    if not from_text:
        sec.notes.append(
            f"{family} N={n}: symgrad built from a SymPy expression (the text is longer than "
            "the parser's length cap)"
        )

    def build_symgrad() -> object:
        a = next(counter)
        source = text_of(n, a) if from_text else terms_of(list(sympy.symbols(names)), a)
        g = symgrad.gradient(source, names, limits=BIG)
        h = symgrad.hessian(source, names, limits=BIG)
        return g(*point), h(*point)

    def build_sympy() -> object:
        xs = sympy.symbols(names)
        f = terms_of(xs, next(counter))
        g = sympy.lambdify(xs, [f.diff(x) for x in xs], cse=True)
        h = sympy.lambdify(xs, sympy.hessian(f, xs), cse=True)
        return g(*point), h(*point)

    methods: dict[str, Callable[[], object]] = {
        "symgrad": build_symgrad,
        "lambdify+cse": build_sympy,
    }
    se = run.peer("symengine")
    if se is not None:

        def build_symengine() -> object:
            xs = list(se.symbols(names))
            f = terms_of(xs, next(counter))
            x = se.DenseMatrix(xs)
            grad = se.DenseMatrix([f]).jacobian(x)
            hess = grad.T.jacobian(x)
            g = se.Lambdify(xs, list(grad), cse=True)
            h = se.Lambdify(xs, list(hess), cse=True)
            return g(point), h(point)

        methods["symengine"] = build_symengine
    jax = run.peer("jax")
    if jax is not None:
        jnp = jax.numpy
        c = jnp.asarray(coefficients(n), dtype=jnp.float64)
        x0 = jnp.asarray(point)

        def build_jax() -> object:
            a = float(next(counter))

            def f(x: Any) -> Any:
                if family == "dense":
                    return a * jnp.dot(c, x) ** 2
                return jnp.sum(a * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

            g = jax.jit(jax.grad(f)).lower(x0).compile()
            h = jax.jit(jax.hessian(f)).lower(x0).compile()
            return g(x0).block_until_ready(), h(x0).block_until_ready()

        methods["jax"] = build_jax
    return methods


def _predicted(history: list[tuple[int, float]], n: int) -> float:
    """Seconds at size n extrapolated from the last two sizes' slope (at least 1; 1 from one).

    From a single size the guess is linear (optimistic): the warm-up call's own cap then stops
    a method that turns out slower.
    """
    n1, t1 = history[-1]
    slope = 1.0
    if len(history) > 1:
        n0, t0 = history[-2]
        slope = max(1.0, math.log(t1 / t0) / math.log(n1 / n0))
    return t1 * (n / n1) ** slope


def _first_build(build: Callable[[], object], cap: float) -> str | None:
    """Why symgrad cannot be measured at this size (refused, or one build over the cap)."""
    start = time.perf_counter()
    try:
        build()
    except symgrad.SymgradError as exc:
        return f"refused: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    seconds = time.perf_counter() - start
    return f"one build took {seconds:.0f} s (cap {cap:.0f} s)" if seconds > cap else None


def run_family(
    run: Run, sec: Section, family: str, sizes: list[int], caps: dict[str, float]
) -> None:
    """Round-robin every method at each size, leaving out a method too slow for its cap.

    A method is left out when its time extrapolated from the smaller sizes, or its warm-up
    call, exceeds its cap (symgrad's cap is larger: it is the subject); the reason is recorded.
    symgrad is built once first: where it is refused or too slow, the peers are not run.
    """
    history: dict[str, list[tuple[int, float]]] = {}
    dropped: dict[str, str] = {}
    for n in sizes:
        case = f"{family} N={n}"
        methods = _builders(run, sec, family, n)
        for name in list(methods):
            cap = caps.get(name, caps["peer"])
            if name not in dropped and name in history:
                predicted = _predicted(history[name], n)
                if predicted > cap:
                    dropped[name] = f"predicted {predicted:.0f} s per build (cap {cap:.0f} s)"
            if name in dropped:
                sec.skip(case, name, dropped[name])
                del methods[name]
        if "symgrad" in methods:
            refused = _first_build(methods["symgrad"], caps["symgrad"])
            if refused:
                dropped["symgrad"] = refused
                sec.skip(case, "symgrad", refused)
        if "symgrad" in dropped:  # no ratio to compute: the peers' builds would be wasted time
            for name in methods.keys() - {"symgrad"}:
                sec.skip(case, name, "not run: symgrad is not measured at this size")
            continue
        print(f"  {case}: {', '.join(methods)}", flush=True)
        slow: dict[str, float] = {}
        failed: dict[str, str] = {}
        limit = {name: caps.get(name, caps["peer"]) for name in methods}
        settings = run.settings(expensive=True)
        timings = measure(methods, **settings, cap=limit, dropped=slow, errors=failed)
        for name, once in slow.items():
            dropped[name] = f"one build took {once:.0f} s (cap {limit[name]:.0f} s)"
            sec.skip(case, name, dropped[name])
        for name, error in failed.items():
            dropped[name] = f"refused or failed: {error}"
            sec.skip(case, name, dropped[name])
        sec.record_all(case, timings)
        for name, t in timings.items():
            history.setdefault(name, []).append((n, t.median_s))
        for peer in PEERS:
            sec.ratio(case, "symgrad", peer)


def main(run: Run) -> None:
    sec = run.section("build", "Build gradient + Hessian (seconds per build; ratios symgrad/peer)")
    for peer in ("symengine", "jax"):
        if run.peer(peer) is None:
            sec.skip("all", peer, run.skip_reason(peer))
    families = {
        "rosenbrock": [3, 6] if run.quick else [10, 100, 1000],
        "dense": [3, 6] if run.quick else [10, 25, 50, 100, 200],
    }
    caps = {"symgrad": 5.0, "peer": 2.0} if run.quick else {"symgrad": 60.0, "peer": 12.0}
    for family, sizes in families.items():
        run_family(run, sec, family, sizes, caps)
    rows = [["case", "symgrad s", *(f"/ {p}" for p in PEERS)]]
    for family, sizes in families.items():
        for n in sizes:
            case = f"{family} N={n}"
            t = sec.median(case, "symgrad")
            ratios = [sec.get_ratio(case, "symgrad", p) for p in PEERS]
            rows.append([case, "-" if t is None else f"{t:.3g}", *map(fmt_ratio, ratios)])
    print(table(rows))
    growth = [["family", "method", "growth exponent"]]
    for family, sizes in families.items():
        cases = {n: f"{family} N={n}" for n in sizes}
        for method in ("symgrad", *PEERS):
            slope = sec.fit_growth(family, method, cases)
            if slope is not None:
                growth.append([family, method, f"{slope:.2f}"])
    print(table(growth))


if __name__ == "__main__":
    main(Run(quick="--quick" in sys.argv))
