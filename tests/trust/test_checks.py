"""Red team for the verdicts of ``check`` and ``check_gradient``: try to make them lie.

Two promises are attacked.  ``check_gradient``: a planted error larger than what float64 (or the
user's float32) can attain for *that entry* at that point is never ``pass``, and correct code is
never ``fail``.  ``check``: every ``pass`` is backed by a referee that resolves the component (its
tolerance is small against the derivative), and every value it reports holds within the
tolerance it claims.

The oracles are independent of symgrad:

* true derivatives: SymPy's ``diff`` of the expression parsed by SymPy itself, evaluated by
  ``evalf`` at 60 digits at the exact point (for the point checks also mpmath's own numerical
  ``diff`` in a private context, for the hand cases);
* the attainable accuracy of an entry: Monte-Carlo arithmetic (every operation of the correct
  formula, and for float32 code every input, perturbed by a random relative amount of one unit
  roundoff; the spread of eight such runs is the accuracy correct code of that formula has);
* planted errors: a relative error of 1e-2 ... 1e-7 in one entry, a sign error, a factor 2, two
  entries swapped, on float64 and on float32 code.

An error is *detectable* at a point when it exceeds 1000 times the Monte-Carlo accuracy and twice
the relative tolerance.  A case with a detectable error must not ``pass``; correct code must not
``fail``.  ``inconclusive`` is allowed for correct code only.  The default run draws a few dozen
examples per property (a few seconds); ``SYMGRAD_RED_TEAM=400`` draws many more.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.results import Status

EXAMPLES = int(os.environ.get("SYMGRAD_RED_TEAM", "0")) or None
RTOL = 1e-8  # check_gradient's documented default relative tolerance
DETECT = 1e3  # a planted error this many times the Monte-Carlo accuracy must be seen
SAMPLES = 8  # Monte-Carlo runs per formula

# -- independent oracles ------------------------------------------------------------------------

NAMES = ("w", "x", "y", "z")


def sym(text: str, names: Sequence[str]) -> sympy.Expr:
    """The expression parsed by SymPy itself (not by symgrad), with real symbols."""
    local = {n: sympy.Symbol(n, real=True) for n in names}
    return sympy.sympify(text.replace("^", "**"), locals=local, rational=True)


def symbols(names: Sequence[str]) -> list[sympy.Symbol]:
    return [sympy.Symbol(n, real=True) for n in names]


def true_values(
    exprs: Sequence[sympy.Expr], names: Sequence[str], point: Sequence[Any]
) -> list[Any]:
    """Each expression at an exact point (Rationals, or floats taken exactly), or None.

    SymPy's exact value when it has one; else mpmath in a private context at D and 2D digits,
    D = 60 + 40 digits per decade of the smallest coordinate (cancellations such as 1 + y**2
    or 1 - cos(y) at a tiny y lose about that many), accepted when the two agree to 40 digits
    and are not both 0.  None when it is not real, or the two do not confirm each other.
    """
    rationals = [
        sympy.Rational(*v.as_integer_ratio()) if isinstance(v, float) else sympy.Rational(v)
        for v in point
    ]
    tiny = min((abs(r) for r in rationals if r), default=sympy.Integer(1))
    decades = max(0, -math.floor(math.log10(float(tiny)) if tiny > 1e-300 else -400))
    digits = 60 + 40 * decades
    return [_confirmed(e, names, rationals, digits) for e in exprs]


def _confirmed(e: sympy.Expr, names: Sequence[str], point: list[Any], digits: int) -> Any:
    exact = e.xreplace(dict(zip(symbols(names), point, strict=True)))
    out = mpmath.MPContext()
    out.dps = 60
    if exact.is_Rational:
        return out.mpf(exact.p) / exact.q
    values = []
    for dps in (digits, 2 * digits):
        ctx = mpmath.MPContext()
        ctx.dps = dps
        space = {n: getattr(ctx, n) for n in dir(ctx) if not n.startswith("_")}
        fn = sympy.lambdify(symbols(names), e, modules=[space, "mpmath"])
        try:
            value = ctx.convert(fn(*(ctx.mpf(r.p) / r.q for r in point)))
        except (ZeroDivisionError, ValueError, TypeError):
            return None
        if (hasattr(value, "imag") and value.imag) or not ctx.isfinite(value):
            return None
        values.append(out.mpf(ctx.re(value)))
    low, high = values
    if not high or abs(low - high) > out.mpf(10) ** -40 * abs(high):
        return None
    return high


def gradient_formulas(expr: sympy.Expr, names: Sequence[str]) -> list[sympy.Expr]:
    return [sympy.diff(expr, s) for s in symbols(names)]


@functools.cache
def _numpy_op(cls: type) -> Callable[..., Any]:
    """A NumPy evaluator of one SymPy function class (one argument)."""
    t = sympy.Dummy("t", real=True)
    return sympy.lambdify([t], cls(t), "numpy")  # type: ignore[no-any-return]


def _perturb(value: Any, u: float, rng: np.random.Generator, tiny: float = 0.0) -> Any:
    """value·(1 + u·r) + tiny·r′: a relative rounding, and an absolute one below the normals."""
    if not u:
        return value
    shape = np.shape(value)
    return value * (1 + u * rng.uniform(-1, 1, shape)) + tiny * rng.uniform(-1, 1, shape)


def mc_evaluate(
    expr: sympy.Expr,
    columns: dict[sympy.Symbol, np.ndarray],
    units: tuple[float, float, float],
    rng: np.random.Generator,
) -> np.ndarray:
    """Evaluate ``expr`` in float64 with every operation (and input) perturbed.

    ``units`` are (u of an operation, u of an input, the absolute rounding below the normals).
    """
    u_op, u_in, tiny = units
    memo: dict[sympy.Basic, Any] = {}
    like = next(iter(columns.values()))

    def walk(node: sympy.Basic) -> Any:
        if node in memo:
            return memo[node]
        if node.is_Symbol:
            out = _perturb(columns[node], u_in, rng, tiny)
        elif node.is_Number or node.is_NumberSymbol:
            value = float(node)
            exact = node.is_Rational and sympy.Rational(*value.as_integer_ratio()) == node
            out = value if exact else _perturb(np.full_like(like, value), u_op, rng, tiny)
        elif node.is_Add or node.is_Mul:
            parts = [walk(a) for a in node.args]
            out = parts[0]
            for p in parts[1:]:
                out = _perturb(out + p if node.is_Add else out * p, u_op, rng, tiny)
        elif node.is_Pow:
            base, exp = walk(node.args[0]), walk(node.args[1])
            out = _perturb(np.power(base, exp), u_op, rng, tiny)
        elif isinstance(node, sympy.Function) and len(node.args) == 1:
            out = _perturb(_numpy_op(node.func)(walk(node.args[0])), u_op, rng, tiny)
        else:  # pragma: no cover - the strategies build nothing else
            raise NotImplementedError(type(node))
        memo[node] = out
        return out

    with np.errstate(all="ignore"):
        result = walk(expr)
    return np.broadcast_to(np.asarray(result, dtype=np.float64), like.shape)


def attainable(
    formula: sympy.Expr, names: Sequence[str], pts: np.ndarray, dtype: Any
) -> np.ndarray:
    """Monte-Carlo accuracy of correct ``dtype`` code of ``formula`` at each point.

    float64 code gets its inputs exactly; float32 code rounds them too.  Never below the
    format's smallest subnormal, the resolution of any value near 0.
    """
    info = np.finfo(dtype)
    u, tiny = float(info.eps) / 2, float(info.smallest_subnormal)
    units = (u, 0.0 if dtype == np.float64 else u, tiny)
    columns = dict(zip(symbols(names), pts.T, strict=True))
    base = mc_evaluate(formula, columns, (0.0, 0.0, 0.0), np.random.default_rng(0))
    rng = np.random.default_rng(1)
    runs = [mc_evaluate(formula, columns, units, rng) for _ in range(SAMPLES)]
    with np.errstate(all="ignore"):
        spread = np.max([np.abs(r - base) for r in runs], axis=0)
    return np.where(np.isfinite(spread), np.maximum(spread, tiny), np.inf)


# -- user code: correct, planted and float32 ----------------------------------------------------


def user_code(
    formulas: Sequence[sympy.Expr], names: Sequence[str], dtype: Any
) -> Callable[..., Any]:
    """Correct gradient code of ``formulas``, computed from inputs cast to ``dtype``."""
    fn = sympy.lambdify(symbols(names), list(formulas), "numpy")

    def user(*cols: np.ndarray) -> np.ndarray:
        cast = [np.asarray(c, dtype=dtype) for c in cols]
        shape = np.broadcast_shapes(*(c.shape for c in cast)) if cast else ()
        with np.errstate(all="ignore"):
            out = fn(*cast)
        return np.stack([np.broadcast_to(np.asarray(v, dtype=dtype), shape) for v in out])

    return user


@dataclass(frozen=True)
class Plant:
    """A deliberate error in one entry (or a swap of two)."""

    kind: str  # "rel", "sign", "factor2", "swap"
    entry: int
    delta: float = 0.0
    other: int = 0

    def apply(self, values: np.ndarray) -> np.ndarray:
        out = np.array(values, copy=True)
        k = self.entry
        if self.kind == "rel":
            out[k] = values[k] * (1 + self.delta)
        elif self.kind == "sign":
            out[k] = -values[k]
        elif self.kind == "factor2":
            out[k] = 2 * values[k]
        else:
            out[k], out[self.other] = values[self.other], values[k]
        return out

    def __str__(self) -> str:
        detail = {"rel": f" {self.delta:g}", "swap": f" with {self.other}"}.get(self.kind, "")
        return f"{self.kind}{detail} in entry {self.entry}"


def planted(user: Callable[..., Any], plant: Plant) -> Callable[..., Any]:
    def wrong(*cols: np.ndarray) -> np.ndarray:
        values = user(*cols)
        return plant.apply(values).astype(values.dtype)

    return wrong


# -- one gradient case, judged -------------------------------------------------------------------


@dataclass(frozen=True)
class GradientCase:
    expr: str
    names: tuple[str, ...]
    pts: np.ndarray
    dtype: Any
    plant: Plant | None


def detectable(case: GradientCase) -> bool:
    """Does the planted error exceed the attainable accuracy of its entry at some point?"""
    if case.plant is None:
        return False
    formulas = gradient_formulas(sym(case.expr, case.names), case.names)
    correct = user_code(formulas, case.names, np.float64)(*case.pts.T).astype(np.float64)
    wrong = case.plant.apply(correct)
    for k in {
        case.plant.entry,
        case.plant.other if case.plant.kind == "swap" else case.plant.entry,
    }:
        acc = attainable(formulas[k], case.names, case.pts, case.dtype)
        size = np.abs(wrong[k] - correct[k])
        scale = np.abs(correct[k])
        finite = np.isfinite(correct).all(axis=0) & np.isfinite(acc)
        if case.dtype != np.float64:  # beyond float32's range nothing can be judged
            finite &= scale < float(np.finfo(case.dtype).max) / 4
        if np.any(finite & (size > DETECT * acc) & (size > 2 * RTOL * scale) & (size > 0)):
            return True
    return False


def run_gradient_case(case: GradientCase) -> symgrad.GradientCheckResult:
    formulas = gradient_formulas(sym(case.expr, case.names), case.names)
    user = user_code(formulas, case.names, case.dtype)
    if case.plant is not None:
        user = planted(user, case.plant)
    return symgrad.check_gradient(user, case.expr, at=case.pts, variables=" ".join(case.names))


def gradient_outcome(case: GradientCase, result: Any) -> str:
    """correct, false pass, false fail, missed (inconclusive where decidable) or wrong value."""
    if result.worst is not None:
        point = list(result.worst["point"].values())
        entry = [e.entry for e in result.entries].index(result.worst["entry"])
        formulas = gradient_formulas(sym(case.expr, case.names), case.names)
        truth = true_values([formulas[entry]], case.names, point)[0]
        shown = result.worst["exact"]
        off = truth is not None and abs(shown - float(truth)) > 2 * np.spacing(abs(float(truth)))
        if off and math.isfinite(shown):
            return "wrong value"
    if case.plant is None or not detectable(case):
        return "false fail" if result.status is Status.FAIL and case.plant is None else "correct"
    if result.status is Status.PASS:
        return "false pass"
    return "correct" if result.status is Status.FAIL else "missed"


# -- strategies ---------------------------------------------------------------------------------


UNARY = (
    "sin({})",
    "cos({})",
    "exp(({})/4)",
    "log(1 + ({})**2)",
    "atan({})",
    "({})**2",
    "({})**3",
    "sqrt(1 + ({})**2)",
    "tanh({})",
)
BINARY = ("({}) + ({})", "({}) - ({})", "({})*({})", "({})/(2 + sin({}))")
CONSTANTS = ("2", "3", "0.5", "1.25", "7")


def random_expression(rng: np.random.Generator, names: Sequence[str], leaves: int) -> str:
    """A smooth expression of ``names`` with about ``leaves`` leaves (SymPy syntax, which
    symgrad also reads), from a seeded generator: Hypothesis draws the seed and the size."""
    if leaves <= 1:
        pool = list(names) + list(CONSTANTS[: 1 + len(names) // 2])
        return str(pool[rng.integers(len(pool))])
    if rng.random() < 0.4:
        return str(rng.choice(UNARY)).format(random_expression(rng, names, leaves - 1))
    left = int(rng.integers(1, leaves))
    parts = (random_expression(rng, names, left), random_expression(rng, names, leaves - left))
    return str(rng.choice(BINARY)).format(*parts)


FAMILIES = ("unit", "tiny", "huge", "near-equal", "near-zero")


def float_points(family: str, n: int, seed: int, count: int = 10) -> np.ndarray:
    """``count`` float64 points of a family: unit box, tiny, huge, x near y, some near 0."""
    rng = np.random.default_rng(seed)
    sign = rng.choice([-1.0, 1.0], size=(count, n))
    if family == "unit":
        return rng.uniform(-2, 2, size=(count, n))
    if family == "tiny":
        return sign * 10.0 ** rng.uniform(-150, -4, size=(count, n))
    if family == "huge":
        return sign * 10.0 ** rng.uniform(2, 8, size=(count, n))
    pts = rng.uniform(-2, 2, size=(count, n))
    if family == "near-equal" and n > 1:
        pts[:, 1] = pts[:, 0] * (1 + 1e-9 * rng.uniform(-1, 1, count))
    else:
        pts[:, 0] = sign[:, 0] * 10.0 ** rng.uniform(-12, -6, count)
    return pts


@st.composite
def gradient_cases(draw: st.DrawFn, dtype: Any, plant: bool) -> GradientCase:
    n = draw(st.integers(1, 4))
    names = NAMES[:n]
    rng = np.random.default_rng(draw(st.integers(0, 2**32)))
    expr = random_expression(rng, names, draw(st.integers(1, 8)))
    if n > 1 and draw(st.booleans()):  # scale-mixed: 1e16*x**2 + y**2 and the like
        first, rest = names[: n // 2], names[n // 2 :]
        big = random_expression(rng, first, draw(st.integers(1, 4)))
        expr = f"1e{draw(st.integers(6, 16))}*({big}) + ({random_expression(rng, rest, 3)})"
    family = draw(st.sampled_from(FAMILIES))
    pts = float_points(family, n, draw(st.integers(0, 2**16)))
    chosen = None
    if plant:
        kinds = ["rel", "sign", "factor2"] + (["swap"] if n > 1 else [])
        kind = draw(st.sampled_from(kinds))
        entry = draw(st.integers(0, n - 1))
        other = (entry + draw(st.integers(1, max(1, n - 1)))) % n
        exponent = draw(st.integers(2, 7 if dtype == np.float64 else 4))
        chosen = Plant(kind, entry, 10.0**-exponent * draw(st.sampled_from([1, -1])), other)
    return GradientCase(expr, names, pts, dtype, chosen)


RED_TEAM = settings(
    max_examples=EXAMPLES or 20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# -- check_gradient: property tests --------------------------------------------------------------


@RED_TEAM
@given(case=gradient_cases(np.float64, plant=False))
def test_correct_float64_gradient_never_fails(case: GradientCase) -> None:
    """Correct float64 code of any smooth expression is pass or inconclusive, never fail."""
    result = run_gradient_case(case)
    assert gradient_outcome(case, result) == "correct", (case, result.to_text())


@RED_TEAM
@given(case=gradient_cases(np.float32, plant=False))
def test_correct_float32_gradient_never_fails(case: GradientCase) -> None:
    """Correct float32 code is judged at float32's accuracy: never fail."""
    result = run_gradient_case(case)
    assert gradient_outcome(case, result) == "correct", (case, result.to_text())


@RED_TEAM
@given(case=gradient_cases(np.float64, plant=True))
def test_planted_float64_error_never_passes(case: GradientCase) -> None:
    """A planted error above the entry's attainable accuracy at some point is never pass."""
    result = run_gradient_case(case)
    assert gradient_outcome(case, result) in ("correct", "missed"), (
        str(case.plant),
        case,
        result.to_text(),
    )


@RED_TEAM
@given(case=gradient_cases(np.float32, plant=True))
def test_planted_float32_error_never_passes(case: GradientCase) -> None:
    """A wrong float32 gradient fails where float32 could have been right."""
    result = run_gradient_case(case)
    assert gradient_outcome(case, result) in ("correct", "missed"), (
        str(case.plant),
        case,
        result.to_text(),
    )


# -- check_gradient: the hand cases --------------------------------------------------------------


def test_sign_error_where_symgrads_own_formula_cancels_is_not_a_pass() -> None:
    """(exp(x)-1)/x near 0: symgrad's float64 d/dx cancels completely; a sign error is no pass."""
    pts = np.array([k * 1e-10 for k in range(1, 11)] + [-k * 1e-10 for k in range(1, 11)])

    def wrong(x: np.ndarray) -> np.ndarray:
        return -((x - 1) * np.exp(x) + 1) / x**2  # exact derivative ~ 1/2, negated

    result = symgrad.check_gradient(wrong, "(exp(x)-1)/x", at=pts)
    assert result.status is not Status.PASS, result.reason


def test_cancelling_entry_is_inconclusive_there_but_accurate_code_passes() -> None:
    """At 1e-10 no float64 formula of that shape resolves d/dx; an accurate one passes anyway."""
    pts = np.array([1e-10, -3e-10, 2e-9])
    naive = symgrad.check_gradient(
        lambda x: ((x - 1) * np.exp(x) + 1) / x**2, "(exp(x)-1)/x", at=pts
    )
    assert naive.status is Status.INCONCLUSIVE, naive.reason
    ctx = mpmath.MPContext()
    ctx.dps = 40

    def accurate(
        x: np.ndarray,
    ) -> np.ndarray:  # the series 1/2 + x/3 + x^2/8, exact to float64 here
        return 0.5 + x / 3 + x**2 / 8

    good = symgrad.check_gradient(accurate, "(exp(x)-1)/x", at=pts)
    assert good.status is Status.PASS, good.reason
    for x in pts:  # the oracle: d/dx (e^x - 1)/x by mpmath
        exact = ctx.diff(lambda t: ctx.expm1(t) / t, ctx.mpf(float(x)))
        assert abs(accurate(x) - float(exact)) <= 2 * np.spacing(float(exact))


@pytest.mark.parametrize(
    ("plant", "what"),
    [
        (lambda x, y: np.array([2e16 * x, -2 * y]), "sign of d/dy"),
        (lambda x, y: np.array([2e16 * x, y]), "factor 2 in d/dy"),
        (lambda x, y: np.array([2e16 * x, 2 * y * (1 + 1e-6)]), "1e-6 in d/dy"),
        (lambda x, y: np.array([2e16 * x * (1 + 1e-6), 2 * y]), "1e-6 in d/dx"),
    ],
)
def test_badly_scaled_gradient_errors_are_caught_at_every_point(plant: Any, what: str) -> None:
    """1e16 x^2 + y^2: floors are per entry, so d/dy ~ 2 is judged at its own scale."""
    result = symgrad.check_gradient(plant, "1e16*x**2 + y**2", n_points=200)
    assert result.status is Status.FAIL, what
    assert result.reason.endswith("200 of 200 points fail"), result.reason


def test_badly_scaled_correct_gradient_passes() -> None:
    result = symgrad.check_gradient(lambda x, y: np.array([2e16 * x, 2 * y]), "1e16*x**2 + y**2")
    assert result.status is Status.PASS, result.reason


def sin_y(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    return [np.cos(x) * y, np.sin(x)]


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_correct_low_precision_gradient_passes_and_says_so(dtype: Any) -> None:
    """A right gradient computed in float32 (or float16) passes, judged at that precision."""

    def user(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x, y = np.asarray(x, dtype=dtype), np.asarray(y, dtype=dtype)
        return np.stack([np.cos(x) * y, np.sin(x)]).astype(dtype)

    result = symgrad.check_gradient(user, "sin(x)*y", n_points=100)
    assert result.status is not Status.FAIL, result.reason
    assert result.status is Status.PASS or dtype == np.float16, result.reason
    assert np.dtype(dtype).name in result.reason


def test_float32_code_that_overflows_on_the_way_is_undecided_there_not_wrong() -> None:
    """sqrt(1 + (8 w^3)^2) at w = 3e7: the derivative 2e16 fits float32, (8 w^3)^2 does not."""

    def user(w: np.ndarray) -> np.ndarray:
        w = np.asarray(w, dtype=np.float32)
        inner = w + (2 * w) ** 3
        return (inner * (1 + 24 * w**2) / np.sqrt(1 + inner**2)).astype(np.float32)

    pts = np.array([3e7, -4e7, 150.0, -2.5])
    result = symgrad.check_gradient(user, "sqrt(1 + (w + (2*w)**3)**2)", at=pts)
    assert result.status is Status.PASS, result.reason
    assert result.undecided == 2, result.reason
    ctx = mpmath.MPContext()
    ctx.dps = 40
    for w in (150.0, -2.5):  # where float32 holds every step, the values are right
        inner = ctx.mpf(w) + (2 * ctx.mpf(w)) ** 3
        exact = inner * (1 + 24 * ctx.mpf(w) ** 2) / ctx.sqrt(1 + inner**2)
        assert abs(float(user(np.array(w))) / float(exact) - 1) < 1e-5


@pytest.mark.parametrize("delta", [1e-2, 1e-3, 1e-4])
def test_wrong_float32_gradient_fails(delta: float) -> None:
    def user(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x, y = np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float32)
        return np.stack([np.cos(x) * y * np.float32(1 + delta), np.sin(x)])

    result = symgrad.check_gradient(user, "sin(x)*y", n_points=100)
    assert result.status is Status.FAIL, result.reason
    assert result.reason.startswith("d/dx is wrong"), result.reason


def test_float32_swap_fails() -> None:
    def user(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x, y = np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float32)
        return np.stack([np.sin(x), np.cos(x) * y])

    assert symgrad.check_gradient(user, "sin(x)*y").status is Status.FAIL


@pytest.mark.parametrize("delta", [1e-7, -1e-7, 3e-8])
def test_smallest_caught_relative_error_is_below_1e_7(delta: float) -> None:
    """In a well-scaled float64 gradient a relative error of 1e-7 (and 3e-8) in one entry fails."""

    def user(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        g = np.array([np.cos(x) * np.exp(y) + z, np.sin(x) * np.exp(y), x + 2 * z])
        g[1] *= 1 + delta
        return g

    result = symgrad.check_gradient(user, "sin(x)*exp(y) + x*z + z**2")
    assert result.status is Status.FAIL, result.reason
    assert result.reason.startswith("d/dy is wrong"), result.reason
    assert result.reason.endswith("200 of 200 points fail"), result.reason


def test_error_below_rtol_passes() -> None:
    """The documented rtol: a relative error of 1e-9 is accepted."""

    def user(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.array([np.cos(x) * y, np.sin(x) * (1 + 1e-9)])

    assert symgrad.check_gradient(user, "sin(x)*y").status is Status.PASS


def test_zero_entry_with_rounding_residue_from_the_chain_rule_passes() -> None:
    """d/dx (sin^2 + cos^2) is exactly 0; chain-rule code leaves ~1e-17 there, which is right."""

    def user(x: np.ndarray) -> np.ndarray:
        s, c = np.sin(x), np.cos(x)
        return 2 * s * c - 2 * c * s + (2 * s) * c - 2 * (c * s)

    result = symgrad.check_gradient(user, "sin(x)**2 + cos(x)**2 + x - x")
    assert result.status is not Status.FAIL, result.reason


def test_hessian_sign_error_in_a_small_entry_of_a_badly_scaled_hessian_fails() -> None:
    def user(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        zero = np.zeros_like(x)
        return np.array([[2e16 + zero, zero], [zero, -2 + zero]])

    result = symgrad.check_gradient(user, "1e16*x**2 + y**2", kind="hessian")
    assert result.status is Status.FAIL, result.reason
    assert "d2/dy2" in result.reason


# -- check: point checks ------------------------------------------------------------------------


def point_oracle(expr: str, names: Sequence[str], point: Sequence[str]) -> list[Any]:
    """True gradient at an exact decimal point (SymPy diff, evalf at 60 digits)."""
    e = sym(expr, names)
    return true_values(gradient_formulas(e, names), names, [sympy.Rational(p) for p in point])


def point_outcome(result: Any, truth: Sequence[Any], dps: int) -> str:
    """correct, false pass, false fail, or wrong value (a claim that the oracle refutes)."""
    if result.status is Status.FAIL:
        return "false fail"
    for c, t in zip(result.components, truth, strict=True):
        if c.point_status != "ok" or t is None:
            continue
        if abs(c.finite_difference - t) > c.tolerance:
            return "wrong value"
        if abs(c.symbolic - t) > 10 ** (3 - dps) * abs(t):
            return "wrong value"
        if t != 0 and c.tolerance > 1e-6 * abs(t):
            return "false pass"  # the referee could not have seen an error of 1e-6
    return "correct"


DECIMALS = ("unit", "tiny", "huge", "zero")


@st.composite
def point_cases(draw: st.DrawFn) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    n = draw(st.integers(1, 3))
    names = NAMES[:n]
    expr = random_expression(
        np.random.default_rng(draw(st.integers(0, 2**32))), names, draw(st.integers(1, 8))
    )
    family = draw(st.sampled_from(DECIMALS))
    coords = []
    for _ in range(n):
        if family == "unit":
            coords.append(f"{draw(st.integers(-200, 200)) / 100:.2f}")
        elif family == "tiny":
            coords.append(f"{draw(st.sampled_from(['', '-']))}1.5e-{draw(st.integers(20, 150))}")
        elif family == "huge":
            coords.append(f"{draw(st.sampled_from(['', '-']))}3.25e{draw(st.integers(2, 6))}")
        else:
            coords.append(draw(st.sampled_from(["0", "1e-30", "-0.5"])))
    return expr, names, tuple(coords)


@settings(
    max_examples=EXAMPLES or 12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(case=point_cases())
def test_point_check_claims_hold(case: tuple[str, tuple[str, ...], tuple[str, ...]]) -> None:
    """Every pass of check() is resolved by its referee, and every value it shows is right."""
    expr, names, coords = case
    point = ", ".join(f"{n}={v}" for n, v in zip(names, coords, strict=True))
    result = symgrad.check(expr, point, dps=30, variables=" ".join(names))
    truth = point_oracle(expr, names, coords)
    assert point_outcome(result, truth, 30) == "correct", result.to_text()


@pytest.mark.parametrize(
    ("expr", "point"),
    [
        ("x**3", "x=1e-150"),
        ("x**3 + 1", "x=1e-40"),
        ("x**2*y", "x=1e-200, y=3"),
        ("1e80 + x", "x=1"),
        ("exp(x)", "x=-300"),
        ("sin(x)*1e-200", "x=0.5"),
    ],
)
def test_unresolvable_or_resolved_never_a_blind_pass(expr: str, point: str) -> None:
    """A component is ok only when its referee resolves it; else unreliable, never a blind ok."""
    result = symgrad.check(expr, point)
    names = [n.split("=")[0].strip() for n in point.split(",")]
    coords = [n.split("=")[1].strip() for n in point.split(",")]
    truth = point_oracle(expr, names, coords)
    assert point_outcome(result, truth, 50) == "correct", result.to_text()
    if result.status is Status.INCONCLUSIVE:
        assert all(c.point_status == "unreliable" for c in result.components), result.to_text()


def test_a_component_no_referee_resolves_is_unreliable() -> None:
    """exp(x**5) at 1e-300: f' = 5e-1200 sits 1200 digits below f = 1, beyond 1000 digits.

    (One term: of a sum such as x**5 + 1 check differences only the terms that hold x.)
    """
    result = symgrad.check("exp(x**5)", "x=1e-300")
    assert result.status is Status.INCONCLUSIVE
    c = result.components[0]
    assert c.point_status == "unreliable", result.reason
    assert "cannot resolve d/dx" in c.reason
    assert "5.0e-1200" in c.reason
    ctx = mpmath.MPContext()
    ctx.dps = 30
    assert abs(c.symbolic / (5 * ctx.mpf("1e-300") ** 4) - 1) < 1e-25


def test_more_digits_resolve_a_derivative_far_below_f() -> None:
    """1e80*exp(x/1e80): f' ~ 1 is 80 digits below f; the referee takes the digits it needs.

    (One term: of a sum such as 1e80 + x check differences only the terms that hold x.)
    """
    result = symgrad.check("1e80*exp(x/1e80)", "x=1")
    assert result.status is Status.PASS, result.reason
    c = result.components[0]
    assert abs(c.finite_difference - 1) <= c.tolerance <= 1e-25
    assert "digits" in c.reason


def test_tiny_point_is_resolved_by_a_step_relative_to_x() -> None:
    """x**3 at 1e-150: the derivative 3e-300 is resolved (the referee prefers resolving)."""
    result = symgrad.check("x**3", "x=1e-150")
    assert result.status is Status.PASS, result.reason
    c = result.components[0]
    ctx = mpmath.MPContext()
    ctx.dps = 60
    exact = 3 * ctx.mpf("1e-150") ** 2
    assert abs(c.finite_difference - exact) <= 1e-40 * exact
    assert c.tolerance <= 1e-20 * exact


@pytest.mark.parametrize(
    ("expr", "derivative"),
    [("abs(x)**3", 0), ("x*abs(x)", 0), ("max(x, 0)**2", 0), ("abs(x)**3 + 2*x", 2)],
)
def test_differentiable_non_smooth_function_passes_at_its_kink(expr: str, derivative: int) -> None:
    """One-sided derivatives agree: differentiable, so pass (not a kink, not inconclusive)."""
    result = symgrad.check(expr, "x=0")
    assert result.status is Status.PASS, result.reason
    c = result.components[0]
    assert abs(c.finite_difference - derivative) <= c.tolerance


@pytest.mark.parametrize(
    ("expr", "left", "right"),
    [("abs(x)", -1, 1), ("max(x, 0)", 0, 1), ("abs(x)**3 + abs(x)", -1, 1)],
)
def test_kink_stays_a_kink(expr: str, left: int, right: int) -> None:
    result = symgrad.check(expr, "x=0")
    assert result.status is Status.INCONCLUSIVE
    c = result.components[0]
    assert c.point_status == "nonsmooth", result.reason
    assert abs(c.left - left) < 1e-20
    assert abs(c.right - right) < 1e-20


def test_jump_is_not_differentiable() -> None:
    result = symgrad.check("sign(x) + x", "x=0")
    assert result.status is Status.INCONCLUSIVE, result.reason


def test_check_and_gradient_agree_on_the_variables_of_a_cancelling_name() -> None:
    """(x - x) + y: check differentiates along exactly the variables gradient has."""
    names = [s.name for s in symgrad.gradient("(x - x) + y").variables]
    point = ", ".join(f"{n}=2" for n in names)
    result = symgrad.check("(x - x) + y", point)
    assert result.status is Status.PASS, result.reason
    assert [c.variable for c in result.components] == names
    assert [c.symbolic for c in result.components] == [int(n == "y") for n in names]
    if names != ["y"]:  # the same point is refused by both, with the same complaint
        with pytest.raises(symgrad.InputError, match="no value for"):
            symgrad.gradient("(x - x) + y").at("y=2")
        with pytest.raises(symgrad.InputError, match="no value for"):
            symgrad.check("(x - x) + y", "y=2")


def test_an_entry_without_an_exact_value_leaves_the_others_judged() -> None:
    """tanh(x**3) at x = 1e8: d/dx ~ exp(-2e24) cannot be certified; d/dw is still judged."""
    pts = np.array([[0.5, 1e8], [0.3, 2e8]])

    def user(w: np.ndarray, x: np.ndarray, wrong: float) -> np.ndarray:
        return np.array([1e6 * (1 + wrong) + 0 * w, 3 * x**2 * (1 - np.tanh(x**3) ** 2)])

    expr = "1e6*(w - cos(2)) + tanh(x**3)"
    planted = symgrad.check_gradient(lambda w, x: user(w, x, -0.01), expr, at=pts)
    assert planted.status is Status.FAIL, planted.reason
    assert planted.reason.startswith("d/dw is wrong"), planted.reason
    correct = symgrad.check_gradient(lambda w, x: user(w, x, 0.0), expr, at=pts)
    assert correct.status is Status.INCONCLUSIVE, correct.reason
    assert correct.reason.startswith("d/dx has no finite exact value"), correct.reason
    assert [e.status for e in correct.entries] == [Status.PASS, Status.INCONCLUSIVE]
