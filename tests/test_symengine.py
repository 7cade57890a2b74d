"""symengine as the differentiation engine: the same derivatives as SymPy, and the fallbacks.

Every expression of the catalogue is differentiated on both engines (``symbolic="sympy"`` and
``symbolic="symengine"``); the two are compared symbolically (their difference expands or
simplifies to 0), in float64 (equal to rounding) and exactly (``.at()`` equal at 30 digits), and
the exact values are checked against an independent oracle: mpmath's own numerical derivative
of the function written with mpmath, at 40 digits in a private context.  Expressions symengine
cannot represent (abs, sign, min, max, Heaviside, Bessel functions, SymPy Floats) are shown to
run on SymPy, by counting the calls of each engine.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings

import symgrad
import symgrad.derive._symengine as engine_module
from symgrad.derive import Limits, clear_cache, gradient, hessian, jacobian, laplacian
from symgrad.errors import ConfigError, LimitExceeded
from tests.strategies import smooth_expressions

pytest.importorskip("symengine")

X, Y = 0.7, 1.3
POINT = "x=0.7, y=1.3"
CTX = mpmath.MPContext()
CTX.dps = 40

_M = Callable[[Any, Any, Any], Any]  # (ctx, x, y) -> value, written with mpmath
CATALOGUE: list[tuple[str, _M]] = [
    ("sin(x)*exp(y) + x**3*y", lambda c, x, y: c.sin(x) * c.exp(y) + x**3 * y),
    ("atan2(y, x) + log(x**2 + y**2)", lambda c, x, y: c.atan2(y, x) + c.log(x**2 + y**2)),
    ("erf(x*y) + erfc(x - y)", lambda c, x, y: c.erf(x * y) + c.erfc(x - y)),
    ("gamma(x + 2)*loggamma(y + 3)", lambda c, x, y: c.gamma(x + 2) * c.loggamma(y + 3)),
    ("beta(x + 1, y + 1)", lambda c, x, y: c.beta(x + 1, y + 1)),
    ("sec(x) + csc(y) + cot(x*y)", lambda c, x, y: c.sec(x) + c.csc(y) + c.cot(x * y)),
    (
        "asinh(x) + acosh(y + 2) + atanh(x/3)",
        lambda c, x, y: c.asinh(x) + c.acosh(y + 2) + c.atanh(x / 3),
    ),
    (
        "asin(x/2)*acos(y/3) + atan(x*y)",
        lambda c, x, y: c.asin(x / 2) * c.acos(y / 3) + c.atan(x * y),
    ),
    ("sqrt(x**2 + y**2 + 1)**3", lambda c, x, y: c.sqrt(x**2 + y**2 + 1) ** 3),
    ("x**y", lambda c, x, y: x**y),
    ("log(x, 2) + log10(y)", lambda c, x, y: c.log(x, 2) + c.log10(y)),
    (
        "tan(x)*tanh(y) + cosh(x)/sinh(y)",
        lambda c, x, y: c.tan(x) * c.tanh(y) + c.cosh(x) / c.sinh(y),
    ),
    ("(1 + 2*x + 3*y)**5/(1 + x**2)", lambda c, x, y: (1 + 2 * x + 3 * y) ** 5 / (1 + x**2)),
    ("exp(-x**2 - y**2)*pi*E", lambda c, x, y: c.exp(-(x**2) - y**2) * c.pi * c.e),
    ("x**(1/3)*y**(5/2)", lambda c, x, y: c.cbrt(x) * y ** c.mpf(2.5)),
    # symengine keeps sin(2 - x - y); SymPy rebuilding its cos under distribute(False) recursed
    ("sin(2 - x - y)*cos(3 - x)", lambda c, x, y: c.sin(2 - x - y) * c.cos(3 - x)),
    ("3*(1 - x - 2*y)**3", lambda c, x, y: 3 * (1 - x - 2 * y) ** 3),
]
#: Expressions symengine cannot represent: differentiated by SymPy whatever the choice.
FALLBACK: list[tuple[str, _M]] = [
    ("abs(x)*y + max(x, y)", lambda c, x, y: abs(x) * y + max(x, y)),
    ("min(x, y, 2)*x", lambda c, x, y: min(x, y, 2) * x),
    ("Heaviside(x)*x**2 + sign(y)*y", lambda c, x, y: x**2 + y),  # x, y > 0 here
    ("besselj(2, x)*bessely(1, y)", lambda c, x, y: c.besselj(2, x) * c.bessely(1, y)),
    ("acosh(x + y)*y", lambda c, x, y: c.acosh(x + y) * y),  # see the next test
]


def _engines(kind: Callable[..., symgrad.Compiled], text: str) -> tuple[Any, Any]:
    clear_cache()
    return kind(text, symbolic="sympy"), kind(text, symbolic="symengine")


def _same(a: sympy.Expr, b: sympy.Expr) -> bool:
    """Equal symbolically (beta(x, y) and beta(y, x) are equal through their gamma form)."""
    difference = a - b
    if sympy.expand(difference) == 0:
        return True
    return bool(sympy.simplify(difference.rewrite(sympy.gamma)) == 0)


def _oracle(f: _M) -> list[Any]:
    """The gradient at (X, Y) by mpmath's own differentiation, 40 digits, private context."""
    x, y = CTX.mpf("0.7"), CTX.mpf("1.3")
    return [CTX.diff(lambda t: f(CTX, t, y), x), CTX.diff(lambda t: f(CTX, x, t), y)]


def _exact(compiled: symgrad.Compiled) -> list[Any]:
    return [CTX.mpf(v) for v in np.ravel(np.array(compiled.at(POINT, dps=30), dtype=object))]


@pytest.mark.parametrize(("text", "f"), CATALOGUE + FALLBACK, ids=lambda v: str(v)[:24])
def test_gradients_agree_on_both_engines_and_with_mpmath(text: str, f: _M) -> None:
    slow, fast = _engines(gradient, text)
    assert all(_same(a, b) for a, b in zip(slow.components, fast.components, strict=True))
    np.testing.assert_allclose(fast(X, Y), slow(X, Y), rtol=1e-13, atol=1e-300)
    for a, b, want in zip(_exact(slow), _exact(fast), _oracle(f), strict=True):
        assert abs(a - b) <= abs(want) * CTX.mpf("1e-29")
        assert abs(b - want) <= abs(want) * CTX.mpf("1e-28")


@pytest.mark.parametrize("text", [t for t, _ in CATALOGUE + FALLBACK])
def test_float64_values_agree_off_the_domain_too(text: str) -> None:
    """On a grid over [-3, 3]²: equal to rounding where finite, NaN (or inf) at the same points.

    A derivative form that is real where the function is not (symengine's 1/sqrt(u² - 1) for
    acosh at u < -1) would fail here; that is why acosh runs on SymPy.  The grid avoids x = 0
    and y = 0, where equal forms may differ by a removable 0/0: SymPy's d/dx x**y is
    x**y*y/x (NaN at x = 0), symengine's x**(y - 1)*y (the one-sided value there).
    """
    slow, fast = _engines(gradient, text)
    x, y = np.meshgrid(np.linspace(-3, 3, 24), np.linspace(-3, 3, 24))
    with np.errstate(all="ignore"):
        a, b = slow(x, y), fast(x, y)
    assert np.array_equal(np.isfinite(a), np.isfinite(b))
    np.testing.assert_allclose(b[np.isfinite(b)], a[np.isfinite(a)], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("text", [t for t, _ in CATALOGUE[:8]] + ["abs(x)*y**3"])
def test_hessians_and_laplacians_agree_on_both_engines(text: str) -> None:
    for kind in (hessian, laplacian):
        slow, fast = _engines(kind, text)
        assert all(_same(a, b) for a, b in zip(slow.components, fast.components, strict=True))
        np.testing.assert_allclose(fast(X, Y), slow(X, Y), rtol=1e-12)


def test_jacobian_and_higher_partials_agree() -> None:
    rows = ["x*exp(y)", "atan(x*y) + erf(y)", "x**2*y**3"]
    slow, fast = jacobian(rows, symbolic="sympy"), jacobian(rows, symbolic="symengine")
    assert all(_same(a, b) for a, b in zip(slow.components, fast.components, strict=True))
    d3 = [
        symgrad.derivative("sin(x*y)*exp(x)", "x", 2, "y", symbolic=s)
        for s in ("sympy", "symengine")
    ]
    assert _same(d3[0].components[0], d3[1].components[0])
    # d³/dx²dy sin(xy)e^x at (0, 0): closed form 2 (from the series x y + x² y + ...)
    assert d3[1](0.0, 0.0) == pytest.approx(2.0, rel=1e-15)


def _counting(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count symengine differentiations and SymPy ``diff`` calls."""
    calls = {"symengine": 0, "sympy": 0}
    fast_diff = engine_module.SymengineJob.diff
    slow_diff = sympy.diff

    def fast(self: Any, expr: Any, var: Any) -> Any:
        calls["symengine"] += 1
        return fast_diff(self, expr, var)

    def slow(*args: Any, **kwargs: Any) -> Any:
        calls["sympy"] += 1
        return slow_diff(*args, **kwargs)

    monkeypatch.setattr(engine_module.SymengineJob, "diff", fast)
    monkeypatch.setattr(sympy, "diff", slow)
    return calls


@pytest.mark.parametrize("text", [t for t, _ in FALLBACK])
def test_what_symengine_cannot_represent_runs_on_sympy(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    calls = _counting(monkeypatch)
    clear_cache()
    slow = gradient(text, symbolic="symengine")
    assert calls["symengine"] == 0
    assert calls["sympy"] >= 2  # one per term containing each variable
    assert slow.components == gradient(text, symbolic="sympy").components


def test_a_sympy_float_is_exact_on_both_engines() -> None:
    """The parser reads a Float as its exact binary value: both engines keep every bit."""
    x = sympy.Symbol("x", real=True)
    third = sympy.Float("0.333333333333333333333333333333", 30)
    fast = gradient(third * x**2, symbolic="symengine").components[0]
    assert fast == gradient(third * x**2, symbolic="sympy").components[0]
    assert fast == 2 * sympy.Rational(third) * x


def test_smooth_expressions_run_on_symengine(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting(monkeypatch)
    clear_cache()
    hessian("sin(x)*exp(y) + x**3*y", symbolic="symengine")
    assert calls["sympy"] == 0
    assert calls["symengine"] > 0


@pytest.mark.parametrize("text", ["x**(3/2)*y", "sqrt(2)*x**2 + y/2", "sqrt(x*y)"])
def test_halves_run_on_symengine(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """1/2 (its own class, Half, in both libraries) keeps the job on symengine, exactly."""
    calls = _counting(monkeypatch)
    clear_cache()
    fast = hessian(text, symbolic="symengine")
    assert calls["sympy"] == 0
    assert calls["symengine"] > 0
    x, y = sympy.symbols("x y", real=True)
    closed = {  # the Hessians written out by hand
        "x**(3/2)*y": [[sympy.Rational(3, 4) * y / sympy.sqrt(x), sympy.Rational(3, 2) * sympy.sqrt(x)],
                       [sympy.Rational(3, 2) * sympy.sqrt(x), 0]],
        "sqrt(2)*x**2 + y/2": [[2 * sympy.sqrt(2), 0], [0, 0]],
        "sqrt(x*y)": [[-sympy.sqrt(y) / (4 * x ** sympy.Rational(3, 2)), 1 / (4 * sympy.sqrt(x * y))],
                      [1 / (4 * sympy.sqrt(x * y)), -sympy.sqrt(x) / (4 * y ** sympy.Rational(3, 2))]],
    }[text]  # fmt: skip
    point = {x: sympy.Rational(7, 3), y: sympy.Rational(5, 2)}
    for entry, want in zip(fast.components, (e for row in closed for e in row), strict=True):
        assert sympy.simplify((entry - want).subs(point)) == 0


def test_an_unsupported_result_sends_the_job_to_sympy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A symengine derivative holding a node outside the list: the job runs again on SymPy."""
    monkeypatch.setattr(engine_module, "_FUNCTIONS", engine_module._FUNCTIONS - {"polygamma"})
    calls = _counting(monkeypatch)
    clear_cache()
    g = gradient("gamma(x)*y", symbolic="symengine")
    assert calls["symengine"] >= 1
    assert calls["sympy"] == 2  # the job again on SymPy: d/dx and d/dy of the one term
    x, y = sympy.symbols("x y", real=True)
    assert _same(g.components[0], y * sympy.gamma(x) * sympy.polygamma(0, x))


def test_symbolic_keyword_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="symbolic must be one of"):
        gradient("x*y", symbolic="maple")
    monkeypatch.setattr(engine_module, "symengine_module", lambda: None)
    with pytest.raises(ConfigError, match="symengine package"):
        gradient("x*y", symbolic="symengine")
    clear_cache()
    assert gradient("x*y").to_strings() == ["y", "x"]  # auto: SymPy without symengine


def test_hostile_input_is_refused_on_the_symengine_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Hessian of a product of 100 factors: its second order is refused before it starts.

    The first order (100 products of 99 factors) is cheap on symengine and taken; the 5,050
    second partials are priced from it, beyond the limit, and never begun.
    """
    calls = _counting(monkeypatch)
    product = "*".join(f"x{i}" for i in range(100))
    with pytest.raises(LimitExceeded, match="5050 entries") as info:
        hessian(product, symbolic="symengine")
    assert info.value.limit == "work"
    assert calls == {"symengine": 100, "sympy": 0}
    calls["symengine"] = 0
    with pytest.raises(LimitExceeded):
        gradient("sin(x)*y", symbolic="symengine", limits=Limits(max_work=10))
    assert calls == {"symengine": 0, "sympy": 0}


def _agree(text: str) -> None:
    slow = hessian(text, variables="x y", symbolic="sympy")
    fast = hessian(text, variables="x y", symbolic="symengine")
    for a, b in zip(slow.components, fast.components, strict=True):
        assert _same(a, b)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(smooth_expressions())
def test_random_smooth_expressions_agree_on_both_engines(text: str) -> None:
    _agree(text)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, derandomize=True)
@given(smooth_expressions())
def test_many_random_smooth_expressions_agree_on_both_engines(text: str) -> None:
    _agree(text)


def test_a_planted_difference_is_seen_by_the_comparison() -> None:
    """The comparison used above is not vacuous: an entry off by 1e-20*x fails it."""
    fast = gradient("sin(x)*exp(y)", symbolic="symengine")
    x = sympy.Symbol("x", real=True)
    assert not _same(fast.components[0], fast.components[0] + sympy.Rational(1, 10**20) * x)


def test_a_recursion_in_sympy_runs_the_job_again_with_distribution(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SymPy can recurse without end while sums are kept factored: the job is run again, on
    SymPy with its own distribution, and its result is still right."""
    import symgrad.derive._derivatives as derivatives_module

    attempts: list[tuple[str, bool]] = []
    original = derivatives_module._attempt

    def attempt(*args: Any, factored: bool) -> Any:
        attempts.append((args[3], factored))
        if factored:
            raise RecursionError
        return original(*args, factored=factored)

    monkeypatch.setattr(derivatives_module, "_attempt", attempt)
    g = gradient("(x + 2*y)**2", symbolic="symengine")
    assert attempts == [("symengine", True), ("sympy", False)]
    assert g.to_strings() == ["2*x + 4*y", "4*x + 8*y"]  # distributed, as SymPy does
    assert g(1.0, 2.0).tolist() == [10.0, 20.0]


# -- which expressions symengine's evaluator keeps as written: judged without recursion ----------


def _chain(depth: int, step: Callable[[sympy.Expr], sympy.Expr], start: sympy.Expr) -> sympy.Expr:
    """``step`` applied ``depth`` times, built bottom-up with SymPy directly (no parser).

    Each level's hash and commutativity are computed as it is built, so neither SymPy nor
    the judge needs to recurse into a level built before.
    """
    expr = start
    for _ in range(depth):
        expr = step(expr)
        _ = hash(expr), expr.is_commutative
    return expr


def _judged_shallow(exprs: list[Any]) -> list[bool]:
    """``symengine_keeps(exprs)`` with Python's recursion limit a few dozen frames above the
    caller's depth: a recursive walk of a deep tree would stop, and the former fallback of
    such a walk answered False for every expression."""
    from symgrad.derive._printing import symengine_keeps

    depth = 0
    frame: FrameType | None = sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 60)
    try:
        return symengine_keeps(exprs)
    finally:
        sys.setrecursionlimit(old)


X_, Y_, A_, B_ = sympy.symbols("x y a b")


def _sines(e: sympy.Expr) -> sympy.Expr:
    return sympy.sin(e, evaluate=False)


def _powers(e: sympy.Expr) -> sympy.Expr:
    """A product of powers of distinct bases: nothing for symengine to merge."""
    return sympy.Mul(sympy.Pow(e, 2, evaluate=False), sympy.cos(Y_), evaluate=False)


def test_a_3000_deep_tree_is_judged_without_recursion() -> None:
    """sin(sin(...sin(x))) 3,000 deep and a 2,000-deep chain of products of powers are kept
    (no product repeats a base), as is every level of them; judged with the recursion limit
    far below their depth."""
    sines = _chain(3000, _sines, X_)
    powers = _chain(2000, _powers, sines)
    middle = sines.args[0].args[0]
    assert _judged_shallow([sines, powers, middle, X_, 2]) == [True] * 5


@pytest.mark.parametrize(
    "planted",
    [X_**Y_ * Y_ / X_, sympy.exp(A_) * sympy.exp(B_)],
    ids=["x**y*y/x", "exp(a)*exp(b)"],
)
def test_a_merge_deep_inside_a_large_tree_is_seen(planted: sympy.Expr) -> None:
    """A product symengine would merge, planted 1,500 levels down a 3,000-level tree of 6,000
    nodes: the root and every level above the plant are not kept, the plant's own subtree is
    not, the levels below it and a sibling tree sharing them are."""
    assert isinstance(planted, sympy.Mul)  # SymPy keeps both products as written
    below = _chain(1500, _sines, X_)
    plant = sympy.Mul(planted, below, evaluate=False)
    above = _chain(1500, _powers, plant)
    sibling = _chain(10, _powers, below)
    assert _judged_shallow([above, plant, below, sibling, planted]) == [
        False,
        False,
        True,
        True,
        False,
    ]


# Variables with the names symengine's CSE gives its temporaries (x0, x1, ...), where an output
# does not hold one of them: Lambdify(cse=True) would read the input where the temporary is meant.
# The closed forms are written by hand; the symbol names are exchanged too (x1 named where x0 is).
_CSE_NAMED = [
    ("exp(x0)*x1 + x2", "x0 x1 x2", lambda a, b, c: [np.exp(a) * b, np.exp(a), 1 + 0 * a]),
    (
        "sin(x0*x1) + 3*x2",
        "x0 x1 x2",
        lambda a, b, c: [b * np.cos(a * b), a * np.cos(a * b), 3 + 0 * a],
    ),
    ("exp(x1)*x0 + x2_", "x1 x0 x2_", lambda a, b, c: [np.exp(a) * b, np.exp(a), 1 + 0 * a]),
    ("x3*exp(x10) + log(x0)", "x10 x3 x0", lambda a, b, c: [b * np.exp(a), np.exp(a), 1 / c]),
]


@pytest.mark.parametrize(("text", "names", "closed"), _CSE_NAMED)
def test_variables_named_like_cse_temporaries_compile_right(
    text: str, names: str, closed: Callable[..., list[Any]]
) -> None:
    point = tuple(np.linspace(lo, lo + 1, 5) for lo in (0.5, 2.0, 1.5))  # arrays reach Lambdify
    for backend in ("symengine", "numpy"):
        g = gradient(text, wrt=names).using(backend)
        np.testing.assert_allclose(g(*point), closed(*point), rtol=1e-14, atol=1e-14)
