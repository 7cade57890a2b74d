"""Red team: a convergence verdict follows the stencil's exact accuracy, never a claimed order.

Everything the verdicts are judged against is computed here, independently of symgrad's stencil,
sweep and derivative code:

* **Weights** on distinct rational offsets solve the Taylor moment (Vandermonde) system
  ``Σ_j w_j s_j^k = m! [k = m]``, k = 0 … n−1, by Gauss-Jordan elimination in exact fractions.
* **Accuracy and error constant** of *any* weights, from the moments ``M_k = Σ_j w_j s_j^k``:
  ``FD(h) − f^(m)(x0) = Σ_k M_k/k! h^(k−m) f^(k)(x0)`` (k ≠ m), so the weights approximate f^(m)
  iff ``M_k = m! [k = m]`` for every k ≤ m; then p is the first k > m with ``M_k ≠ 0``, less m,
  and ``C = M_(m+p) / (m+p)!``.
* **Derivatives** ``f^(k)(x0)`` from truncated Taylor series ("jets") of the expression, built
  with the recurrences of exp, sin/cos, log and atan in a private 80-digit mpmath context.
* The **effective order at the point**: the first j ≥ p with ``M_(m+j) f^(m+j)(x0) ≠ 0``; none
  up to p + 8 means the stencil is exact there.

Allowed verdicts for a claimed order q, stencil accuracy p and effective order e:

=====================  ==============================  ===================================
case                   allowed                         why
=====================  ==============================  ===================================
e = ∞ (exact here)     exact, inconclusive             the error vanishes identically
q = p = e              pass, inconclusive              a true claim, visible in the data
e > p and q ∈ {p, e}   inconclusive                    the leading term vanishes: the data
                                                       shows e, the stencil has p
otherwise              fail, inconclusive              the claim is wrong here
=====================  ==============================  ===================================

A *false pass* is a pass or exact outside that table, a *false fail* a fail outside it, a *wrong
value* an allowed verdict with a wrong number (error constant, first error, Stencil fields) or a
refusal of a valid input.  Planted wrong stencils are hand-built ``Stencil(...)`` objects whose
weights contradict their stated accuracy or constant: the constructor must refuse them.

``SYMGRAD_TRUST_EXAMPLES`` raises the number of Hypothesis examples (the default run stays quick);
``SYMGRAD_TRUST_TALLY=<file>`` records each case's category as a JSON line instead of asserting,
which is how the red-team table (cases / correct / false pass / false fail / wrong value) is made.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import mpmath
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.errors import ConfigError

CTX = mpmath.MPContext()
CTX.dps = 80
EXAMPLES = int(os.environ.get("SYMGRAD_TRUST_EXAMPLES", "5"))
TALLY = os.environ.get("SYMGRAD_TRUST_TALLY", "")
EXTRA_TERMS = 8  # beyond p: how far the effective order is looked for
ORDER_TOL = 0.2  # the documented order tolerance

SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
SCHEMES = {"forward:1": (0, 1), "backward:1": (-1, 0), "central:2": (-1, 1)}
SCHEMES |= {"central:4": (-2, 2), "central:6": (-3, 3)}
MP_SWEEPS = ("1e-1:1e-12:23", "0.5:1e-3:7", "0.1:0.05:8", "0.05:0.02:12", "0.5:0.01:10")
FLOAT64_SWEEPS = ("1e-1:1e-12:23", "1e-1:1e-6:11", "1e-9:1e-12:4")


# -- exact stencil arithmetic (the oracle) ---------------------------------------------------


def solve_weights(m: int, offsets: Sequence[Fraction]) -> list[Fraction]:
    """The unique weights with ``Σ_j w_j s_j^k = m! [k = m]`` for k < n, by Gauss-Jordan."""
    n = len(offsets)
    rows = [[s**k for s in offsets] + [Fraction(math.factorial(m) if k == m else 0)]
            for k in range(n)]  # fmt: skip
    for col in range(n):
        pivot = next(r for r in range(col, n) if rows[r][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        rows[col] = [v / rows[col][col] for v in rows[col]]
        for r in range(n):
            if r != col and rows[r][col]:
                factor = rows[r][col]
                rows[r] = [v - factor * u for v, u in zip(rows[r], rows[col], strict=True)]
    return [row[n] for row in rows]


def moment(offsets: Sequence[Fraction], weights: Sequence[Fraction], k: int) -> Fraction:
    return sum((w * s**k for s, w in zip(offsets, weights, strict=True)), Fraction(0))


def true_accuracy(
    m: int, offsets: Sequence[Fraction], weights: Sequence[Fraction]
) -> tuple[int, Fraction] | None:
    """(p, C) of any weights; None when they do not approximate the m-th derivative."""
    if any(moment(offsets, weights, k) != (math.factorial(m) if k == m else 0)
           for k in range(m + 1)):  # fmt: skip
        return None
    for k in range(m + 1, m + len(offsets) + 2):
        mk = moment(offsets, weights, k)
        if mk:
            return k - m, mk / math.factorial(k)
    return None  # unreachable for distinct nodes (a Vandermonde argument)


@dataclass(frozen=True)
class Plan:
    """One stencil as the oracle sees it."""

    m: int
    offsets: tuple[Fraction, ...]
    weights: tuple[Fraction, ...]
    p: int
    c: Fraction


def plan_of(m: int, offsets: Sequence[Fraction]) -> Plan:
    nodes = tuple(sorted(offsets))
    weights = tuple(solve_weights(m, nodes))
    found = true_accuracy(m, nodes, weights)
    assert found is not None
    return Plan(m, nodes, weights, *found)


def scheme_plan(name: str) -> Plan:
    """The documented node set of a scheme string (first derivative): see the Stencil docs."""
    lo, hi = SCHEMES[name]
    return plan_of(1, [Fraction(s) for s in range(lo, hi + 1)])


# -- jets: truncated Taylor series in a private mpmath context -------------------------------


class Jet:
    """``Σ_i c_i t^i``, the Taylor series of a function at x0 (``c_i = f^(i)(x0) / i!``)."""

    __slots__ = ("c",)

    def __init__(self, c: list[Any]) -> None:
        self.c = c

    @classmethod
    def variable(cls, x0: Any, n: int) -> Jet:
        return cls([CTX.mpf(x0), CTX.one] + [CTX.zero] * (n - 2))

    def _lift(self, other: Any) -> Jet:
        if isinstance(other, Jet):
            return other
        return Jet([CTX.mpf(other)] + [CTX.zero] * (len(self.c) - 1))

    def __add__(self, other: Any) -> Jet:
        return Jet([a + b for a, b in zip(self.c, self._lift(other).c, strict=True)])

    __radd__ = __add__

    def __neg__(self) -> Jet:
        return Jet([-a for a in self.c])

    def __sub__(self, other: Any) -> Jet:
        return self + -self._lift(other)

    def __rsub__(self, other: Any) -> Jet:
        return self._lift(other) - self

    def __mul__(self, other: Any) -> Jet:
        b = self._lift(other).c
        return Jet([CTX.fsum(self.c[j] * b[k - j] for j in range(k + 1)) for k in range(len(b))])

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Jet:
        """``b = u / w`` from ``b w = u``: ``b_k = (u_k − Σ_(j<k) b_j w_(k−j)) / w_0``."""
        w, b = self._lift(other).c, []
        for k, u in enumerate(self.c):
            b.append((u - CTX.fsum(b[j] * w[k - j] for j in range(k))) / w[0])
        return Jet(b)

    def __rtruediv__(self, other: Any) -> Jet:
        return self._lift(other) / self

    def __pow__(self, exponent: Any) -> Jet:
        n = int(exponent)
        assert n == exponent
        assert n >= 0
        out = self._lift(1)
        for _ in range(n):
            out = out * self
        return out


def _ratio_integral(b0: Any, u: list[Any], w: list[Any]) -> Jet:
    """The jet b with ``w b' = u'`` and ``b(0) = b0`` (log: w = u; atan: w = 1 + u²)."""
    b = [b0] + [CTX.zero] * (len(u) - 1)
    for k in range(1, len(u)):
        acc = k * u[k] - CTX.fsum(j * b[j] * w[k - j] for j in range(1, k))
        b[k] = acc / (k * w[0])
    return Jet(b)


def _sin_cos(a: list[Any]) -> tuple[Jet, Jet]:
    s, c = [CTX.sin(a[0])], [CTX.cos(a[0])]
    for k in range(1, len(a)):
        s.append(CTX.fsum(j * a[j] * c[k - j] for j in range(1, k + 1)) / k)
        c.append(-CTX.fsum(j * a[j] * s[k - j] for j in range(1, k + 1)) / k)
    return Jet(s), Jet(c)


def _exp(a: list[Any]) -> Jet:
    b = [CTX.exp(a[0])]
    for k in range(1, len(a)):
        b.append(CTX.fsum(j * a[j] * b[k - j] for j in range(1, k + 1)) / k)
    return Jet(b)


def _dispatch(jet: Callable[[list[Any]], Jet], value: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda u: jet(u.c) if isinstance(u, Jet) else value(u)


NAMESPACE: dict[str, Any] = {
    "exp": _dispatch(_exp, CTX.exp),
    "sin": _dispatch(lambda a: _sin_cos(a)[0], CTX.sin),
    "cos": _dispatch(lambda a: _sin_cos(a)[1], CTX.cos),
    "log": _dispatch(lambda a: _ratio_integral(CTX.log(a[0]), a, a), CTX.log),
    "atan": _dispatch(
        lambda a: _ratio_integral(CTX.atan(a[0]), a, (1 + Jet(a) * Jet(a)).c), CTX.atan
    ),
    "N": CTX.mpf,
}
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")


def mpq(q: Fraction) -> Any:
    """A fraction in the 80-digit context (one rounding)."""
    return CTX.mpf(q.numerator) / q.denominator


def evaluate(text: str, x: Any) -> Any:
    """The expression text (symgrad's syntax) at an mpf or a Jet, numbers read exactly."""
    code = _NUMBER.sub(lambda t: f'N("{t.group()}")', text.replace("^", "**"))
    return eval(code, {"__builtins__": {}}, NAMESPACE | {"x": x})  # trusted, generated text


def taylor(text: str, x0: Fraction, n: int) -> list[Any]:
    """``f^(k)(x0)`` for k < n."""
    x = mpq(x0)
    var = Jet.variable(x, n)
    jet = var._lift(evaluate(text, var))  # a constant expression evaluates to a number
    return [c * math.factorial(k) for k, c in enumerate(jet.c)]


def effective_order(plan: Plan, derivs: list[Any]) -> int | None:
    """First j >= p with ``M_(m+j) f^(m+j)(x0) ≠ 0`` (relative to the jet's size); None: exact."""
    scale = 1 + max(abs(d) / math.factorial(k) for k, d in enumerate(derivs))
    for j in range(plan.p, plan.p + EXTRA_TERMS + 1):
        k = plan.m + j
        term = moment(plan.offsets, plan.weights, k) / math.factorial(k) * derivs[k]
        if abs(term) > CTX.mpf(10) ** -50 * scale:
            return j
    return None


def allowed(claim: int, p: int, effective: int | None) -> set[str]:
    """The table of the module docstring."""
    if effective is None:
        return {"exact", "inconclusive"}
    if claim == p == effective:
        return {"pass", "inconclusive"}
    if effective > p and claim in (p, effective):
        return {"inconclusive"}
    return {"fail", "inconclusive"}


# -- expressions -----------------------------------------------------------------------------

_LEAVES = st.sampled_from(["x", "x", "2", "3", "0.5", "1.25"])


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pairs = st.tuples(children, children)
    return st.one_of(
        pairs.map(lambda t: f"({t[0]}) + ({t[1]})"),
        pairs.map(lambda t: f"({t[0]})*({t[1]})"),
        children.map(lambda c: f"sin({c})"),
        children.map(lambda c: f"exp(({c})/4)"),
        children.map(lambda c: f"log(1 + ({c})^2)"),
        children.map(lambda c: f"atan({c})"),
        children.map(lambda c: f"({c})^2"),
    )


SMOOTH = st.recursive(_LEAVES, _extend, max_leaves=4)
POINTS = st.one_of(st.just(Fraction(0)), st.integers(-150, 150).map(lambda k: Fraction(k, 100)))
SMALL = st.builds(Fraction, st.integers(-3, 3).filter(bool), st.integers(1, 3))


def _text(q: Fraction) -> str:
    return f"({q.numerator}/{q.denominator})"


@st.composite
def planted(draw: Any, x0: Fraction, orders: Sequence[int]) -> str:
    """``A sin(a x + b) + B exp(c x)`` minus Taylor terms that make ``f^(k)(x0) = 0``, k in orders.

    The k-th derivative of the sum at x0 is ``A a^k sin(a x0 + b + kπ/2) + B c^k exp(c x0)``,
    written exactly, so the planted cancellation is exact in symgrad's symbolic arithmetic.
    """
    a, b, c, big_a, big_b = (draw(SMALL) for _ in range(5))
    base = f"{_text(big_a)}*sin({_text(a)}*x + {_text(b)}) + {_text(big_b)}*exp({_text(c)}*x)"
    for k in orders:
        sign, trig = ((1, "sin"), (1, "cos"), (-1, "sin"), (-1, "cos"))[k % 4]
        phase = f"{_text(a)}*{_text(x0)} + {_text(b)}"
        value = f"{_text(sign * big_a * a**k)}*{trig}({phase})"
        value += f" + {_text(big_b * c**k)}*exp({_text(c * x0)})"
        base += f" - ({value})*(x - {_text(x0)})^{k}/{math.factorial(k)}"
    return base


# -- one case --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """An expression, a point, a scheme, a claimed order and a sweep."""

    text: str
    x0: Fraction
    plan: Plan
    scheme: Any  # a scheme string or a symgrad.Stencil
    claim: int
    steps: str
    precision: str


def point_text(x0: Fraction) -> str:
    return f"x={x0.numerator}/{x0.denominator}"


def oracle_first_error(case: Case, derivs: list[Any]) -> Any:
    """``|FD(h0) − f^(m)(x0)|`` at the sweep's first step h0, at 80 digits; NaN where a stencil
    point is a pole or leaves the real domain."""
    h0 = CTX.mpf(case.steps.split(":")[0])
    x = mpq(case.x0)
    try:
        values = [evaluate(case.text, x + mpq(s) * h0) for s in case.plan.offsets]
    except ZeroDivisionError:
        return CTX.nan
    if not all(isinstance(v, CTX.mpf) for v in values):  # log of a negative number
        return CTX.nan
    fd = CTX.fsum(mpq(w) * v for w, v in zip(case.plan.weights, values, strict=True))
    return abs(fd / h0**case.plan.m - derivs[case.plan.m])


def judge(case: Case) -> tuple[str, str]:
    """(category, what happened) for one case; the category is "correct" or a defect."""
    plan = case.plan
    derivs = taylor(case.text, case.x0, plan.m + plan.p + EXTRA_TERMS + 1)
    effective = effective_order(plan, derivs)
    try:
        r = symgrad.convergence(
            case.text, point_text(case.x0), ("x", plan.m), schemes=[case.scheme],
            step_sizes=case.steps, precision=case.precision, variables="x",
            expected_order=case.claim,
        )  # fmt: skip
    except symgrad.SymgradError as exc:
        return "wrong value", f"refused a valid case: {exc}"
    s = r.schemes[0]
    verdict = str(s.status)
    seen = f"{verdict} (p={plan.p}, effective={effective}, claim={case.claim}): {s.reason}"
    if verdict not in allowed(case.claim, plan.p, effective):
        return ("false fail" if verdict == "fail" else "false pass"), seen
    if s.error_coefficient != plan.c or s.expected_order != case.claim:
        return "wrong value", f"C={s.error_coefficient} (oracle {plan.c}); {seen}"
    if verdict == "pass" and abs(s.observed_order - plan.p) > ORDER_TOL:
        return "wrong value", f"observed order {s.observed_order}; {seen}"
    if case.precision == "mp":
        want, got = oracle_first_error(case, derivs), CTX.mpf(s.errors[0])
        if CTX.isnan(want) != CTX.isnan(got) or (
            not CTX.isnan(want) and abs(got - want) > CTX.mpf(10) ** -25 * (want + 10**-40)
        ):
            return "wrong value", f"first error {got} (oracle {want}); {seen}"
    return "correct", seen


def record(test: str, category: str, seen: str) -> None:
    """Assert the category, or append it to the tally file (module docstring)."""
    if TALLY:
        with Path(TALLY).open("a", encoding="utf-8") as out:
            out.write(json.dumps({"test": test, "category": category, "seen": seen}) + "\n")
        return
    assert category == "correct", seen


# -- strategies ------------------------------------------------------------------------------


@st.composite
def claims(draw: Any, p: int) -> int:
    return draw(st.sampled_from([q for q in (p - 2, p - 1, p, p, p, p + 1, p + 2) if q >= 1]))


@st.composite
def sweeps(draw: Any) -> tuple[str, str]:
    precision = draw(st.sampled_from(["mp", "mp", "mp", "float64"]))
    return precision, draw(st.sampled_from(MP_SWEEPS if precision == "mp" else FLOAT64_SWEEPS))


STEEP = st.builds(
    lambda f, k: f"{f}({k}*x)", st.sampled_from(["exp", "sin", "atan"]), st.integers(8, 40)
)  # pre-asymptotic over the coarse sweeps: the orders still drift there


@st.composite
def near_singular(draw: Any, x0: Fraction) -> str:
    """A pole or a logarithm at distance d from x0: the coarse steps reach past it."""
    d = draw(st.sampled_from([Fraction(1, 1000), Fraction(1, 100), Fraction(1, 10)]))
    below = _text(x0 - d)
    pole = _text(x0 + draw(st.sampled_from([d, -d])))
    return draw(st.sampled_from([f"log(x - {below})", f"1/(x - {pole})", f"x/(x - {pole})^2"]))


@st.composite
def expressions(draw: Any, plan: Plan, x0: Fraction) -> str:
    """Smooth, steep or near-singular expressions, or ones with planted vanishing error terms."""
    kind = draw(st.sampled_from(["smooth", "smooth", "steep", "near", "planted", "planted"]))
    if kind == "near":
        return draw(near_singular(x0))
    if kind != "planted":
        return draw(SMOOTH if kind == "smooth" else STEEP)
    first = plan.m + plan.p
    orders = [first] if draw(st.booleans()) else [first, first + 1]
    return draw(planted(x0, orders))


@st.composite
def scheme_cases(draw: Any) -> Case:
    name = draw(st.sampled_from(sorted(SCHEMES)))
    plan, x0 = scheme_plan(name), draw(POINTS)
    precision, steps = draw(sweeps())
    return Case(draw(expressions(plan, x0)), x0, plan, name, draw(claims(plan.p)), steps, precision)


OFFSETS = st.sampled_from(
    sorted({Fraction(k, 2) for k in range(-6, 7)} | {Fraction(k, 3) for k in (-2, -1, 1, 2)})
)


@st.composite
def user_plans(draw: Any) -> Plan:
    m = draw(st.sampled_from([1, 1, 2]))
    nodes = draw(st.lists(OFFSETS, min_size=m + 1, max_size=5, unique=True))
    return plan_of(m, nodes)


@st.composite
def stencil_cases(draw: Any) -> Case:
    plan, x0 = draw(user_plans()), draw(POINTS)
    precision, steps = draw(sweeps())
    if draw(st.booleans()):
        stencil = symgrad.Stencil.from_offsets(plan.m, list(plan.offsets))
    else:  # built by hand from the oracle's (consistent) fields
        stencil = symgrad.Stencil(plan.m, plan.offsets, plan.weights, plan.p, plan.c, "custom")
    text = draw(expressions(plan, x0))
    return Case(text, x0, plan, stencil, draw(claims(plan.p)), steps, precision)


# -- the red team ----------------------------------------------------------------------------


@SETTINGS
@given(case=scheme_cases())
def test_scheme_verdicts_follow_the_true_order(case: Case) -> None:
    """forward:1 … central:6, right and wrong claims: no false pass, no false fail."""
    record("schemes", *judge(case))


@SETTINGS
@given(case=stencil_cases())
def test_user_stencil_verdicts_follow_the_true_order(case: Case) -> None:
    """Stencils on random rational offsets, built by from_offsets or by hand from exact fields."""
    record("user stencils", *judge(case))


@SETTINGS
@given(plan=user_plans())
def test_stencil_fields_equal_the_moment_oracle(plan: Plan) -> None:
    """from_offsets gives the oracle's weights, accuracy and C; so does a faithful hand build."""
    built = symgrad.Stencil.from_offsets(plan.m, list(plan.offsets))
    by_hand = symgrad.Stencil(plan.m, plan.offsets, plan.weights, plan.p, plan.c, "custom")
    for s in (built, by_hand):
        fields = (s.offsets, s.weights, s.accuracy, s.error_coefficient)
        ok = fields == (plan.offsets, plan.weights, plan.p, plan.c)
        record("stencil fields", "correct" if ok else "wrong value", f"{fields} vs {plan}")


def _refused(build: Callable[[], Any]) -> bool:
    try:
        build()
    except ConfigError:
        return True
    return False


@SETTINGS
@given(plan=user_plans(), index=st.integers(0, 10), delta=SMALL)
def test_planted_wrong_stencils_are_refused(plan: Plan, index: int, delta: Fraction) -> None:
    """One weight perturbed, or a true accuracy or C misstated: Stencil(...) raises ConfigError."""
    weights = list(plan.weights)
    weights[index % len(weights)] += delta  # Σ w changes: no derivative is approximated
    offsets = plan.offsets
    lies = {
        "perturbed weight": (tuple(weights), plan.p, plan.c),
        "accuracy one too high": (plan.weights, plan.p + 1, plan.c),
        "constant scaled": (plan.weights, plan.p, plan.c * 2),
    }
    if plan.p > 1:
        lies["accuracy one too low"] = (plan.weights, plan.p - 1, plan.c)
    for what, (w, p, c) in lies.items():
        refused = _refused(
            lambda w=w, p=p, c=c: symgrad.Stencil(plan.m, offsets, w, p, c, "custom")
        )
        record("planted stencils", "correct" if refused else "wrong value", f"{what}: accepted")


@st.composite
def consistent_perturbations(draw: Any) -> tuple[Plan, Plan]:
    """A stencil and a consistent perturbation of it: w + δ·(weights of f^(m+1)), accuracy 1."""
    plan = draw(user_plans().filter(lambda p: len(p.offsets) >= p.m + 2 and p.p >= 2))
    extra = solve_weights(plan.m + 1, plan.offsets)
    delta = draw(SMALL)
    weights = tuple(w + delta * v for w, v in zip(plan.weights, extra, strict=True))
    found = true_accuracy(plan.m, plan.offsets, weights)
    assert found is not None  # moments up to m are untouched
    return plan, Plan(plan.m, plan.offsets, weights, *found)


@SETTINGS
@given(pair=consistent_perturbations(), x0=POINTS, sweep=sweeps())
def test_perturbed_stencils_are_judged_at_their_true_order(
    pair: tuple[Plan, Plan], x0: Fraction, sweep: tuple[str, str]
) -> None:
    """Stating the old accuracy is refused; with its true fields the claim of the old one fails."""
    old, new = pair
    stated_old = _refused(
        lambda: symgrad.Stencil(new.m, new.offsets, new.weights, old.p, old.c, "custom")
    )
    record("planted stencils", "correct" if stated_old else "wrong value", "old fields accepted")
    stencil = symgrad.Stencil(new.m, new.offsets, new.weights, new.p, new.c, "custom")
    text = f"sin(x) + exp(x/{2 + new.m})"
    record("perturbed stencils", *judge(Case(text, x0, new, stencil, old.p, sweep[1], sweep[0])))


@st.composite
def kink_cases(draw: Any) -> Case:
    """A smooth expression plus c·|x − x0|, at x0: the derivative does not exist there."""
    name, x0 = draw(st.sampled_from(sorted(SCHEMES))), draw(POINTS)
    text = f"{draw(SMOOTH)} + {_text(draw(SMALL))}*abs(x - {_text(x0)})"
    plan = scheme_plan(name)
    precision, steps = draw(sweeps())
    return Case(text, x0, plan, name, draw(claims(plan.p)), steps, precision)


@settings(SETTINGS, max_examples=max(2, EXAMPLES // 3))  # a kink probe per example: slower
@given(case=kink_cases())
def test_a_kink_at_the_point_is_never_judged(case: Case) -> None:
    """Every scheme and claim at a kink is inconclusive and names it (no order exists there)."""
    r = symgrad.convergence(
        case.text, point_text(case.x0), schemes=[case.scheme], step_sizes=case.steps,
        precision=case.precision, variables="x", expected_order=case.claim,
    )  # fmt: skip
    s = r.schemes[0]
    seen = f"{s.status}: {s.reason}"
    if s.status != symgrad.Status.INCONCLUSIVE:
        category = "false fail" if s.status == symgrad.Status.FAIL else "false pass"
    else:
        category = "correct" if "kink" in s.reason else "wrong value"
    record("kinks", category, seen)


# -- the defects behind this file, as fixed examples -----------------------------------------


def _one(expr: str, at: str, scheme: Any, **kwargs: Any) -> Any:
    return symgrad.convergence(expr, at, schemes=[scheme], **kwargs).schemes[0]


def test_claimed_order_above_the_stencil_is_not_confirmed() -> None:
    """sin(x) + x³/6 at 0: f'''(0) = 0, so central:2 (accuracy 2) shows order 4 there.

    Neither the claim 4 (the stencil does not have it) nor the claim 2 (the data cannot show it)
    is confirmed; neither is refuted.  At x = 1/2, where f''' = 1 − cos(1/2) ≠ 0, claiming 4 fails.
    """
    for claim in (4, 2):
        s = _one("sin(x) + x**3/6", "x=0", "central:2", expected_order=claim)
        assert s.status == symgrad.Status.INCONCLUSIVE, s.reason
        assert "f''' = 0" in s.reason
        assert abs(s.observed_order - 4) < 1e-4
    s = _one("sin(x) + x**3/6", "x=0.5", "central:2", expected_order=4)
    assert s.status == symgrad.Status.FAIL
    assert abs(s.observed_order - 2) < 0.01


def test_kink_is_named_not_blamed_on_a_vanishing_term() -> None:
    """abs(x − 1/2) at 1/2: one-sided derivatives ∓1, so no scheme can converge to a derivative."""
    r = symgrad.convergence("abs(x-0.5)", "x=0.5", schemes=["forward:1", "central:2", "central:4"])
    assert r.status == symgrad.Status.INCONCLUSIVE
    for s in r.schemes:
        assert s.status == symgrad.Status.INCONCLUSIVE
        assert "= 0" not in s.reason
        assert "kink" in s.reason or "not smooth" in s.reason, s.reason


def test_kink_with_the_default_schemes() -> None:
    """The default schemes leave out the complex step for abs() instead of refusing the sweep."""
    r = symgrad.convergence("abs(x-0.5)", "x=0.5")
    assert r.status == symgrad.Status.INCONCLUSIVE
    assert "complex" not in [s.scheme for s in r.schemes]


def _closed_form_orders(steps: list[Any]) -> list[Any]:
    """Pairwise orders of forward:1 on exp(20x) at 0: E(h) = (e^(20h) − 1)/h − 20."""
    errors = [(CTX.exp(20 * h) - 1) / h - 20 for h in steps]
    return [
        CTX.log(errors[i] / errors[i + 1]) / CTX.log(steps[i] / steps[i + 1])
        for i in range(len(steps) - 1)
    ]


@pytest.mark.parametrize("claim", [1, 2])
def test_drifting_orders_are_inconclusive(claim: int) -> None:
    """exp(20x), forward:1, h from 0.1 to 0.05: the orders drift (closed form), no verdict.

    Over that sweep the pairwise orders still move from about 1.9 to 1.4 (20h from 2 to 1), so
    neither the true order 1 nor a claimed 2 may pass or fail; the advice is to extend the sweep.
    """
    ratio = CTX.mpf("0.5") ** (CTX.one / 19)
    orders = _closed_form_orders([CTX.mpf("0.1") * ratio**j for j in range(20)])
    assert orders[0] - orders[-1] > ORDER_TOL  # the premise: not settled within the tolerance
    s = _one("exp(20*x)", "x=0", "forward:1", step_sizes="0.1:0.05:20", expected_order=claim)
    assert s.status == symgrad.Status.INCONCLUSIVE, s.reason
    assert "extend" in s.reason


@pytest.mark.parametrize("claim", [1, 2])
def test_orders_drifting_towards_the_claim_are_inconclusive(claim: int) -> None:
    """exp(−20x), forward:1, h from 0.05 to 0.02: orders 0.73 … 0.87 (closed form), still rising.

    E(h) = h f''/2 (1 + a h + …) with a = f^(3)/(3 f'') = −20/3, so the order is
    1 + ah/(1 + ah) + …: about 0.13 per e-fold of h still to go at the finest pair.
    """
    ratio = CTX.mpf("0.4") ** (CTX.one / 11)
    steps = [CTX.mpf("0.05") * ratio**j for j in range(12)]
    errors = [abs((CTX.exp(-20 * h) - 1) / h + 20) for h in steps]
    orders = [CTX.log(errors[i] / errors[i + 1]) / CTX.log(1 / ratio) for i in range(11)]
    assert 0.85 < orders[-1] < 0.9  # the premise: within the tolerance of 1, but still moving
    assert orders[-1] - orders[-4] > 0.03
    s = _one("exp(-20*x)", "x=0", "forward:1", step_sizes="0.05:0.02:12", expected_order=claim)
    assert s.status == symgrad.Status.INCONCLUSIVE, s.reason
    assert "still drift" in s.reason
    assert "extend the step range" in s.reason


def test_drift_settles_once_the_sweep_is_extended() -> None:
    """The same function swept down to 1e-8: order 1 passes, a claimed 2 fails."""
    s = _one("exp(20*x)", "x=0", "forward:1", step_sizes="0.1:1e-8:29")
    assert s.status == symgrad.Status.PASS, s.reason
    s = _one("exp(20*x)", "x=0", "forward:1", step_sizes="0.1:1e-8:29", expected_order=2)
    assert s.status == symgrad.Status.FAIL, s.reason


def test_round_off_floor_is_not_exactness() -> None:
    """float64 forward:1 of exp at 0 with h <= 1e-10: every error is round-off, not exactness.

    The truncation error h/2 (about 5e-11) is far below float64's floor ε/h (about 2e-6), so the
    data says nothing about the order; a quadratic under central:2 is exact (f''' ≡ 0).
    """
    s = _one("exp(x)", "x=0", "forward:1", step_sizes="1e-10:1e-12:3", precision="float64")
    assert s.status == symgrad.Status.INCONCLUSIVE, s.reason
    s = _one(
        "3*x**2 - x + 2", "x=1.3", "central:2", step_sizes="1e-10:1e-12:3", precision="float64"
    )
    assert s.status == symgrad.Status.EXACT, s.reason
