"""check differences only the terms of a sum that hold the variable: linear cost, same verdicts.

The work is counted, never timed: the size of every function handed to the referee (its
expression nodes) summed over the referee's calls, for Rosenbrock with N = 10 ... 80 variables,
and the log-log slope of that count against N.  The verdicts are compared with the path that
differences f whole (the private switch ``SPLIT_SUMS``), the values with closed forms in a
private mpmath context, and planted wrong derivatives (a wrong component of a variable in one
term only, a wrong sign, a missing term, a non-zero mixed partial that is exactly 0) must fail.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import mpmath
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad.checks._point as point_module
import symgrad.checks._terms as terms_module
from symgrad import Compiled, check
from symgrad.checks import CheckResult
from symgrad.expr import resolve
from symgrad.fd import finite_difference
from symgrad.results import PointStatus, Status

REF = mpmath.MPContext()
REF.dps = 100


def rosenbrock(n: int) -> str:
    return " + ".join(f"100*(x{i + 1} - x{i}**2)**2 + (1 - x{i})**2" for i in range(n - 1))


def rosenbrock_point(n: int) -> str:
    return ", ".join(f"x{i}={0.3 + 0.01 * i:.2f}" for i in range(n))


def rosenbrock_gradient(x: Sequence[Any]) -> list[Any]:
    """The closed-form gradient, in REF."""
    n, g = len(x), [REF.zero] * len(x)
    for i in range(n - 1):
        g[i] += -400 * x[i] * (x[i + 1] - x[i] ** 2) - 2 * (1 - x[i])
        g[i + 1] += 200 * (x[i + 1] - x[i] ** 2)
    return g


def slope(ns: Sequence[int], work: Sequence[int]) -> float:
    """Least-squares slope of log(work) against log(n)."""
    xs, ys = [math.log(n) for n in ns], [math.log(w) for w in work]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    top = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return top / sum((x - mx) ** 2 for x in xs)


class RefereeWork:
    """Counts what the referee is handed: calls, expression nodes, distinct functions."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls, self.nodes, self.functions = 0, 0, set[int]()
        original = finite_difference

        def counting(f: Compiled, *args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            self.nodes += sum(1 for c in f.components for _ in sympy.preorder_traversal(c))
            self.functions.add(id(f))
            return original(f, *args, **kwargs)

        monkeypatch.setattr(point_module, "finite_difference", counting)

    def reset(self) -> None:
        self.calls, self.nodes, self.functions = 0, 0, set()


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> RefereeWork:
    return RefereeWork(monkeypatch)


@pytest.fixture
def whole(monkeypatch: pytest.MonkeyPatch) -> Callable[[], Any]:
    """Run a check with f differenced whole (the switch is read when a check is set up)."""

    def run(*args: Any, **kwargs: Any) -> CheckResult:
        with monkeypatch.context() as m:
            m.setattr(terms_module, "SPLIT_SUMS", False)
            return check(*args, **kwargs)

    return run


# -- the counted work -------------------------------------------------------------------------------


def test_rosenbrock_work_grows_linearly_with_the_number_of_variables(work: RefereeWork) -> None:
    """Nodes handed to the referee for N = 10, 20, 40, 80: slope <= 1.1 (f whole: about 2)."""
    ns, nodes = [10, 20, 40, 80], []
    for n in ns:
        work.reset()
        r = check(rosenbrock(n), rosenbrock_point(n))
        assert r.status is Status.PASS
        assert work.calls == n  # one referee call per component
        assert len(work.functions) == 3  # first, middle and last parts share compiled code
        nodes.append(work.nodes)
    assert slope(ns, nodes) <= 1.1
    # every part of Rosenbrock has at most 3 terms: at most 30 nodes per call
    assert max(nodes[i] / ns[i] for i in range(len(ns))) <= 30


def test_the_whole_path_is_quadratic_so_the_count_can_tell(
    work: RefereeWork, whole: Callable[..., CheckResult]
) -> None:
    ns, nodes = [10, 20], []
    for n in ns:
        work.reset()
        assert whole(rosenbrock(n), rosenbrock_point(n)).status is Status.PASS
        nodes.append(work.nodes)
    assert slope(ns, nodes) >= 1.8


def test_rosenbrock_values_match_the_closed_form() -> None:
    n = 12
    r = check(rosenbrock(n), rosenbrock_point(n))
    x = [REF.mpf(f"{0.3 + 0.01 * i:.2f}") for i in range(n)]
    for c, want in zip(r.components, rosenbrock_gradient(x), strict=True):
        assert c.point_status is PointStatus.OK
        assert abs(REF.mpf(c.symbolic) - want) <= REF.mpf("1e-47") * abs(want)
        assert abs(REF.mpf(c.finite_difference) - want) <= REF.mpf("1e-40") * abs(want)


# -- the same verdicts as differencing f whole ------------------------------------------------------

CATALOGUE: list[tuple[Any, Any, Any, dict[str, Any], Status]] = [
    (rosenbrock(5), rosenbrock_point(5), "gradient", {}, Status.PASS),
    (rosenbrock(4), rosenbrock_point(4), "hessian", {}, Status.PASS),
    ("sin(x)*y + cos(y)*z + exp(z)*x", "x=0.3, y=-0.7, z=1.1", "gradient", {}, Status.PASS),
    ("x**3 + 1e40*y**2", "x=0.5, y=1", "gradient", {}, Status.PASS),
    ("log(x) + sqrt(y)", "x=-1, y=2", "gradient", {}, Status.INCONCLUSIVE),
    ("abs(x) + y**2", "x=0, y=0.5", "gradient", {}, Status.INCONCLUSIVE),
    (["x*y + z", "sin(x) + cos(z)"], "x=0.3, y=0.7, z=0.5", "jacobian", {}, Status.PASS),
    ("x*y + sin(y)", "x=0.3, y=0.7", "x y", {}, Status.PASS),
    ("x**2", "x=0.3, y=2", "gradient", {"variables": "x y"}, Status.PASS),
    ("sin(x*y)", "x=0.3, y=0.7", "gradient", {}, Status.PASS),
    ("exp(x) + x*y", "x=0.3, y=0.7", "gradient", {"scheme": "complex"}, Status.PASS),
    ("sin(x) + y**2", "x=0.3, y=0.7", "gradient", {"step": "1/1024"}, Status.INCONCLUSIVE),
    ("exp(x) - exp(y)", "x=1, y=1", "gradient", {}, Status.PASS),
    ("1/x + y", "x=0, y=1", "gradient", {}, Status.INCONCLUSIVE),
    ("sqrt(x) + y", "x=0, y=1", "gradient", {}, Status.INCONCLUSIVE),
    ("atan(x) + x*y + asin(y/2)", ["x=0.3, y=0.7", "x=-2, y=1.5"], "hessian", {}, Status.PASS),
    ("Heaviside(x - z) + y**2 + x*z", "x=1, y=1, z=1", "hessian", {}, Status.INCONCLUSIVE),
    ("atan2(x, y) + y**2 + z", "x=0, y=-1, z=1", "hessian", {}, Status.INCONCLUSIVE),
    ("max(x, y) + min(y, z) + x*z", "x=1, y=1, z=1", "hessian", {}, Status.INCONCLUSIVE),
]


@pytest.mark.parametrize(("expr", "at", "kind", "options", "expected"), CATALOGUE)
def test_verdicts_and_values_equal_the_whole_function_path(
    whole: Callable[..., CheckResult],
    expr: Any,
    at: Any,
    kind: Any,
    options: dict[str, Any],
    expected: Status,
) -> None:
    split = check(expr, at, kind=kind, **options)
    full = whole(expr, at, kind=kind, **options)
    assert split.status is full.status is expected
    for p, q in zip(split.points, full.points, strict=True):
        assert p.point == q.point
        for a, b in zip(p.components, q.components, strict=True):
            assert a.point_status is b.point_status, (a.reason, b.reason)
            assert (a.symbolic is None) == (b.symbolic is None)
            if a.symbolic is not None:
                assert REF.mpf(a.symbolic) == REF.mpf(b.symbolic)  # the same exact value
            if a.point_status is PointStatus.OK:  # both referees agree within their tolerances
                gap = abs(REF.mpf(a.finite_difference) - REF.mpf(b.finite_difference))
                assert gap <= REF.mpf(a.tolerance) + REF.mpf(b.tolerance)
                assert REF.mpf(a.tolerance) <= 2 * REF.mpf(b.tolerance)  # never looser
            assert not re.search(r"sg\d+part", a.reason)


def test_a_kink_is_named_by_fs_point_and_the_term_it_is_in() -> None:
    """The part |x| is differenced alone; the sentence names f's point, d/dx and |x|."""
    r = check("abs(x) + y**2 + z", "x=0, y=0.5, z=3")
    kink = r.components[0]
    assert kink.point_status is PointStatus.NONSMOOTH
    assert kink.reason == (
        "kink at x=0, y=0.5, z=3 in d/dx: left derivative -1, right derivative 1 "
        "(in Abs(x), the term of f that holds x)"
    )
    assert REF.mpf(kink.left) == -1
    assert REF.mpf(kink.right) == 1


def test_a_partial_along_a_variable_f_does_not_use_is_exactly_zero_and_says_so() -> None:
    r = check("x**2 + exp(x)", "x=0.3, y=2", variables="x y")
    dy = r.components[1]
    assert dy.point_status is PointStatus.OK
    assert REF.mpf(dy.symbolic) == 0
    assert REF.mpf(dy.finite_difference) == 0
    assert "exactly 0: f does not depend on the variables differentiated" in dy.reason


def test_a_mixed_partial_probes_the_kinks_of_f_along_each_of_its_axes(
    whole: Callable[..., CheckResult],
) -> None:
    """d2/dxdz of |x - y| + |y - z| + x² at x = y: no term holds x and z, but f has a kink
    along x there, so the entry is as undefined as it is when f is differenced whole."""
    expr, at = "abs(x - y) + abs(y - z) + x**2", "x=1, y=1, z=2"
    split, full = check(expr, at, kind="hessian"), whole(expr, at, kind="hessian")
    statuses = [c.point_status.value for c in split.components]
    assert statuses == [c.point_status.value for c in full.components]
    assert {c.variable: c for c in split.components}["x,z"].point_status is PointStatus.NONSMOOTH


def test_a_small_part_of_a_huge_sum_is_judged_at_its_own_scale(
    whole: Callable[..., CheckResult],
) -> None:
    """x**3 beside 1e40*y**2: the part of x is resolved at the 50 digits asked.

    Differenced whole, f ~ 1e40 cancels the derivative 3e-10 below 10^-25 of itself and the
    referee needs more digits; the part x**3 gives 3x² to its 50 digits at once.
    """
    split = check("x**3 + 1e40*y**2", "x=1e-5, y=1")
    full = whole("x**3 + 1e40*y**2", "x=1e-5, y=1")
    a, b = split.components[0], full.components[0]
    want = 3 * REF.mpf("1e-5") ** 2
    assert a.point_status is PointStatus.OK
    assert abs(REF.mpf(a.finite_difference) - want) <= REF.mpf("1e-45") * want
    assert REF.mpf(a.tolerance) < REF.mpf(b.tolerance)
    assert b.point_status in (PointStatus.OK, PointStatus.UNRELIABLE)


def test_a_constant_term_no_longer_hides_a_tiny_derivative() -> None:
    """x**5 + 1 at 1e-300: the constant's derivative is exactly 0, so the part x**5 is
    differenced and 5e-1200 is resolved (differenced whole, f = 1 buries it 1200 digits down)."""
    r = check("x**5 + 1", "x=1e-300")
    c = r.components[0]
    want = 5 * REF.mpf("1e-300") ** 4
    assert r.status is Status.PASS
    assert abs(REF.mpf(c.finite_difference) - want) <= REF.mpf("1e-45") * want
    r = check("1e80 + x", "x=1")
    assert r.status is Status.PASS
    assert abs(REF.mpf(r.components[0].finite_difference) - 1) <= REF.mpf("1e-45")
    assert "digits" not in r.components[0].reason  # no deeper referee needed


# -- red team: planted wrong derivatives -------------------------------------------------------------


def planted(monkeypatch: pytest.MonkeyPatch, texts: Any, kind: str = "gradient") -> None:
    """Make check's symbolic derivative the given (wrong) expressions."""

    def build(expr: Any, names: Sequence[sympy.Symbol], **options: Any) -> Compiled:
        flat = [t for row in texts for t in row] if kind == "hessian" else list(texts)
        exprs, _names = resolve(flat, [s.name for s in names])
        shaped = [list(exprs[i : i + len(names)]) for i in range(0, len(exprs), len(names))]
        return Compiled(shaped if kind == "hessian" else list(exprs), list(names), kind)

    monkeypatch.setattr(point_module, kind, build)


def rosenbrock_gradient_texts(n: int) -> list[str]:
    texts = []
    for k in range(n):
        parts = []
        if k < n - 1:
            parts += [f"-400*x{k}*(x{k + 1} - x{k}**2)", f"-2*(1 - x{k})"]
        if k > 0:
            parts.append(f"200*(x{k} - x{k - 1}**2)")
        texts.append(" + ".join(parts))
    return texts


def test_the_planting_mechanism_passes_the_right_gradient(monkeypatch: pytest.MonkeyPatch) -> None:
    planted(monkeypatch, rosenbrock_gradient_texts(6))
    assert check(rosenbrock(6), rosenbrock_point(6)).status is Status.PASS


@pytest.mark.parametrize(
    ("change", "wrong"),
    [
        ("missing term", lambda g: [g[0].split(" + ")[0], *g[1:]]),  # d/dx0 without -2(1 - x0)
        ("wrong sign", lambda g: [*g[:3], f"-({g[3]})", *g[4:]]),
        ("last variable, one term", lambda g: [*g[:5], f"({g[5]})*(1 + 1e-30)"]),
    ],
)
def test_planted_errors_in_rosenbrock_fail(
    monkeypatch: pytest.MonkeyPatch,
    whole: Callable[..., CheckResult],
    change: str,
    wrong: Callable[[list[str]], list[str]],
) -> None:
    texts = wrong(rosenbrock_gradient_texts(6))
    planted(monkeypatch, texts)
    split = check(rosenbrock(6), rosenbrock_point(6))
    assert split.status is Status.FAIL, change
    bad = [c.variable for c in split.components if c.point_status is PointStatus.MISMATCH]
    assert len(bad) == 1
    assert whole(rosenbrock(6), rosenbrock_point(6)).status is Status.FAIL


def test_a_relative_error_of_1e_30_in_a_one_term_variable_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    planted(monkeypatch, ["cos(x)*y + y**2", "sin(x) + 2*x*y", "3*z**2*(1 + 1e-30)"])
    r = check("sin(x)*y + x*y**2 + z**3", "x=0.3, y=0.7, z=0.5")
    assert [c.point_status for c in r.components] == [PointStatus.OK] * 2 + [PointStatus.MISMATCH]


def test_a_small_part_beside_a_huge_one_still_fails_a_small_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    planted(monkeypatch, ["3*x**2 + 1e-25", "2e40*y"])
    r = check("x**3 + 1e40*y**2", "x=0.5, y=1")
    assert r.components[0].point_status is PointStatus.MISMATCH


def test_a_non_zero_mixed_partial_that_is_zero_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x = sympy.symbols("x0:4", real=True)
    f = sympy.sympify(0)
    for i in range(3):
        f += 100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2
    rows = [[str(sympy.diff(f, a, b)) for b in x] for a in x]
    rows[0][2] = rows[2][0] = "1e-30"
    planted(monkeypatch, rows, kind="hessian")
    r = check(rosenbrock(4), rosenbrock_point(4), kind="hessian")
    bad = {c.variable for c in r.components if c.point_status is PointStatus.MISMATCH}
    assert bad == {"x0,x2", "x2,x0"}


# -- property: random sums of local terms ----------------------------------------------------------

TEMPLATES: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("sin({a})*{b}", lambda a, b: REF.sin(a) * b),
    ("({b} - {a}**2)**2", lambda a, b: (b - a**2) ** 2),
    ("exp({a}/3)*{b}", lambda a, b: REF.exp(a / 3) * b),
    ("{a}**3", lambda a, b: a**3),
    ("cos({a}*{b})", lambda a, b: REF.cos(a * b)),
]


@st.composite
def local_sums(draw: st.DrawFn) -> tuple[str, list[tuple[int, int, int]], list[str]]:
    n = draw(st.integers(3, 6))
    terms = [
        (draw(st.integers(0, len(TEMPLATES) - 1)), k, (k + 1) % n)
        for k in range(n)
        for _ in range(draw(st.integers(1, 2)))
    ]
    text = " + ".join(TEMPLATES[t][0].format(a=f"v{a}", b=f"v{b}") for t, a, b in terms)
    values = [f"{draw(st.integers(-150, 150)) / 100:.2f}" for _ in range(n)]
    return text, terms, values


def reference_gradient(terms: list[tuple[int, int, int]], values: list[str]) -> list[Any]:
    """Each partial of the sum by mpmath's own differentiation, at 100 digits."""
    x = [REF.mpf(v) for v in values]

    def f(*v: Any) -> Any:
        return REF.fsum(TEMPLATES[t][1](v[a], v[b]) for t, a, b in terms)

    return [REF.diff(f, x, tuple(int(i == k) for i in range(len(x)))) for k in range(len(x))]


def judge_local_sum(
    case: tuple[str, list[tuple[int, int, int]], list[str]], which: int, digits: int
) -> None:
    """The sum passes with values equal to mpmath's, also whole; a planted error fails."""
    text, terms, values = case
    at = ", ".join(f"v{i}={v}" for i, v in enumerate(values))
    split = check(text, at)
    want = reference_gradient(terms, values)
    assert split.status is Status.PASS
    for c, w in zip(split.components, want, strict=True):
        assert abs(REF.mpf(c.finite_difference) - w) <= REF.mpf("1e-40") * max(1, abs(w))
    with pytest.MonkeyPatch.context() as m:
        m.setattr(terms_module, "SPLIT_SUMS", False)
        assert check(text, at).status is Status.PASS
    # a planted error of relative size 10^-digits in one component must fail
    k = which % len(values)
    exprs, names = resolve(text, [f"v{i}" for i in range(len(values))])
    right = [sympy.diff(exprs[0], s) for s in names]
    right[k] = right[k] + sympy.Float(f"1e-{digits}", 60) * (1 + names[k] ** 2)

    def build(*args: Any, **options: Any) -> Compiled:
        return Compiled(right, list(names))

    with pytest.MonkeyPatch.context() as m:
        m.setattr(point_module, "gradient", build)
        r = check(text, at)
    assert r.status is Status.FAIL
    assert [c.point_status is PointStatus.MISMATCH for c in r.components].count(True) == 1


@settings(max_examples=5, deadline=None, derandomize=True)
@given(local_sums(), st.integers(0, 5), st.integers(5, 30))
def test_random_local_sums_agree_with_the_whole_path_and_plants_fail(
    case: tuple[str, list[tuple[int, int, int]], list[str]], which: int, digits: int
) -> None:
    judge_local_sum(case, which, digits)


@pytest.mark.slow
@settings(max_examples=120, deadline=None, derandomize=True)
@given(local_sums(), st.integers(0, 5), st.integers(5, 30))
def test_many_random_local_sums(
    case: tuple[str, list[tuple[int, int, int]], list[str]], which: int, digits: int
) -> None:
    judge_local_sum(case, which, digits)
