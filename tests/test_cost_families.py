"""The prices of derive jobs against the work they do, counted: families of expressions.

The work is counted, never timed: the Python function calls (``call`` and ``c_call`` events of
``sys.setprofile``) of building a job and generating its NumPy code, on the default engine
(symengine, when installed).  On the families below the price was measured at 22-88 such calls
per node operation (``CALLS_PER_OP``, the middle of that range), and each price must stay
within ``FACTOR`` of the counted work divided by it.  The CPU seconds behind the same families
are tabulated in the docstring of ``symgrad/derive/_cost.py``.

Then the two promises of the limits: what builds in seconds is accepted under the default
limits (a Rosenbrock Hessian in 1,000 variables from text; its values equal the closed form),
and what would take minutes is refused before its costly stage, counted: SymPy's
differentiation is never called, symengine's only for the first order of a Hessian refused
before its second, and nothing is compiled.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import sympy

import symgrad
from symgrad.derive import MAX_WORK
from symgrad.errors import LimitExceeded

CALLS_PER_OP = 55  # Python calls per node operation, measured on the families below
FACTOR = 3  # a price must be within this factor of the counted work


def rosenbrock(n: int) -> str:
    return " + ".join(f"100*(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(n - 1))


def dense(n: int) -> str:
    """A squared linear form, kept factored: every entry of its Hessian differs."""
    return "(" + " + ".join(f"{i + 1}*x{i}" for i in range(n)) + ")^2"


def quadratic(n: int) -> str:
    """A quadratic form written out term by term, n(n+1)/2 terms."""
    return " + ".join(f"{(7 * i + 3 * j) % 5 + 1}*x{i}*x{j}" for i in range(n) for j in range(i, n))


def nested(depth: int) -> str:
    text = "x"
    for k in range(depth):
        text = f"sin({text}*y + {k + 1})"
    return text


def product(n: int) -> str:
    return "*".join(f"x{i}" for i in range(n))


def powers(k: int) -> str:
    return f"(x^2 + y)^{k} + (x - y^3)^{k - 1}*exp(x)"


def sine_of_squares(n: int) -> str:
    return "sin(" + "+".join(f"x{i}**2" for i in range(n)) + ")"


# (call, family, size): a few tenths of a second each with the profiler on
QUICK = [
    ("gradient", rosenbrock, 30),
    ("hessian", rosenbrock, 30),
    ("hessian", dense, 25),
    ("gradient", quadratic, 25),
    ("hessian", nested, 10),
    ("hessian", product, 15),
    ("hessian", powers, 1000),
    ("hessian", sine_of_squares, 20),
]
LARGE = [
    ("gradient", rosenbrock, 100),
    ("hessian", rosenbrock, 100),
    ("gradient", dense, 50),
    ("hessian", dense, 50),
    ("gradient", quadratic, 40),
    ("gradient", nested, 30),
    ("hessian", nested, 20),
    ("gradient", product, 60),
    ("hessian", product, 30),
    ("gradient", sine_of_squares, 30),
]


def _ids(job: tuple[str, Callable[[int], str], int]) -> str:
    return f"{job[0]} {job[1].__name__} {job[2]}"


@pytest.fixture
def peak(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The largest total a job's budget was asked to allow (its price), recorded."""
    from symgrad.derive import _cost

    seen = [0]
    charge = _cost.Budget.charge

    def recording(self: Any, cost: int, what: str, *, partial: bool = False) -> None:
        seen[0] = max(seen[0], self.spent + cost)
        charge(self, cost, what, partial=partial)

    monkeypatch.setattr(_cost.Budget, "charge", recording)
    return iter([seen])


def _calls(fn: Callable[[], object]) -> int:
    """The Python function calls ``fn()`` makes: the work, counted."""
    calls = 0

    def profile(_frame: Any, event: str, _arg: object) -> None:
        nonlocal calls
        if event in {"call", "c_call"}:
            calls += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return calls


def _judge(
    job: tuple[str, Callable[[int], str], int], seen: list[int], factor: float = FACTOR
) -> None:
    pytest.importorskip("symengine")
    call, family, size = job
    text = family(size)
    symgrad.parse(text)  # parsing is priced by the parser's caps, not here
    symgrad.gradient("x*y + sin(x)")._numpy  # noqa: B018 - warm: first-use imports not counted
    symgrad.clear_cache()
    seen[0] = 0
    unlimited = symgrad.Limits(max_work=10**12)
    work = _calls(lambda: getattr(symgrad, call)(text, limits=unlimited)._numpy) / CALLS_PER_OP
    assert seen[0] / factor <= work <= seen[0] * factor, (seen[0], work)


@pytest.mark.parametrize("job", QUICK, ids=_ids)
def test_prices_track_the_counted_work(job: Any, peak: Iterator[list[int]]) -> None:
    _judge(job, next(peak))


@pytest.mark.slow
@pytest.mark.parametrize("job", LARGE, ids=_ids)
def test_prices_of_larger_jobs_track_the_counted_work(job: Any, peak: Iterator[list[int]]) -> None:
    _judge(job, next(peak))


def test_a_planted_mispricing_is_caught(peak: Iterator[list[int]]) -> None:
    """The comparison is not vacuous: a price 10 times too large fails it."""
    pytest.importorskip("symengine")
    seen = next(peak)
    text = rosenbrock(30)
    symgrad.clear_cache()
    work = _calls(lambda: symgrad.gradient(text)._numpy) / CALLS_PER_OP
    assert seen[0] / FACTOR <= work <= seen[0] * FACTOR
    assert not (10 * seen[0] / FACTOR <= work <= 10 * seen[0] * FACTOR)


# -- a squared linear form: its Hessian is a matrix of numbers, and priced so ---------------------


def _linear_form_first_order(n: int) -> tuple[list[Any], list[Any]]:
    """d/dx_i of (x0 + 2*x1 + ... + n*x_{n-1})**2 as symengine builds it, ``2*(i+1)*S``: the
    closed form, written directly (a number times the sum, kept factored)."""
    symengine = pytest.importorskip("symengine")
    xs = [symengine.Symbol(f"x{i}") for i in range(n)]
    total = symengine.Add(*[(i + 1) * x for i, x in enumerate(xs)])
    return [2 * (i + 1) * total for i in range(n)], xs


@pytest.mark.parametrize("n", [20, 60])
def test_the_second_order_of_a_squared_linear_form_is_sized_as_its_numbers(n: int) -> None:
    """Its entries are the numbers 2*(i+1)*(j+1): one node each, n(n+1)/2 of them (counted here
    from the closed form).  The estimated size is that count, and the preview of compiling
    them is a few operations per entry, not a product per entry built over the n-term sum."""
    from symgrad.derive import _cost

    firsts, xs = _linear_form_first_order(n)
    pairs = [(firsts[i], xs[j]) for i in range(n) for j in range(i, n)]
    entries = [sympy.Integer(2 * (i + 1) * (j + 1)) for i in range(n) for j in range(i, n)]
    nodes = sum(1 for e in entries for _ in sympy.preorder_traversal(e))
    assert nodes == n * (n + 1) // 2
    estimate = _cost.derivative_costs(pairs, 10**9)
    assert estimate.complete
    assert nodes <= estimate.size <= 2 * nodes
    assert estimate.compiling <= 4 * nodes
    # the rules still price every term of the sum, which symengine differentiates per entry
    assert estimate.work >= nodes * n


def test_the_first_order_of_a_squared_linear_form_is_sized_as_its_closed_form() -> None:
    """d/dx_i (x0 + 2*x1 + ... + n*x_{n-1})**2 = 2*(i+1)*S: the sum once (3n - 1 nodes) times a
    number, counted here on the closed form; the power's derivative holds one copy of its base,
    so the estimated size is within a factor 1.25 of that count (a power was sized as two)."""
    from sympy.core.parameters import distribute

    from symgrad.derive import _cost

    n = 80
    xs = sympy.symbols(f"x0:{n}")
    with distribute(False):
        total = sympy.Add(*[(i + 1) * x for i, x in enumerate(xs)])
        closed = [2 * (i + 1) * total for i in range(n)]
    nodes = sum(1 for e in closed for _ in sympy.preorder_traversal(e))
    assert nodes == n * (3 * n + 1)
    estimate = _cost.derivative_costs([(total**2, x) for x in xs], 10**9)
    assert nodes <= estimate.size <= 1.25 * nodes


def test_a_product_or_power_holding_the_variable_is_not_priced_as_a_number() -> None:
    """The rule is not a special case: x*y along x (y, a symbol), 3*x*x, (3*x)**2, sin(3*x),
    a constant expression times x (its derivative is that expression, as many nodes, traversed
    at every entry that holds it) and a sum with such a term have derivatives that are no
    numbers, and are sized as expressions."""
    from symgrad.derive import _cost

    x, y = sympy.symbols("x y")
    constant = sympy.Add(*[sympy.sqrt(k) for k in (2, 3, 5, 7)])
    for expr in (
        x * y,
        sympy.Mul(3, x, x, evaluate=False),
        (3 * x) ** 2,
        sympy.sin(3 * x),
        sympy.Mul(constant, x, evaluate=False),
    ):
        for term in (expr, expr + 5 * x):
            assert _cost.derivative_costs([(term, x)], 10**6).size >= 3, term
    nodes = sum(1 for _ in sympy.preorder_traversal(constant))
    held = sympy.Mul(constant, x, evaluate=False)
    assert _cost.derivative_costs([(held, x)], 10**6).size >= nodes == 13
    assert _cost.derivative_costs([(3 * x + 2 * y + 7, x)], 10**6).size == 1


def test_a_squared_linear_form_hessian_is_priced_at_its_counted_work(
    peak: Iterator[list[int]],
) -> None:
    """The whole job's price, against its counted work, in a band twice as narrow as FACTOR:
    the squared linear form was priced at 2.1-2.7 times its counted work (n = 25-100) when its
    entries were previewed as products."""
    _judge(("hessian", dense, 60), next(peak), factor=1.6)


def _dense_hessian_is_right(n: int) -> None:
    """Built under the default limits; every entry is the integer 2*(i+1)*(j+1), symbolically
    and in float64 at a point (exact: integers below 2**53)."""
    symgrad.clear_cache()
    h = symgrad.hessian(dense(n))
    want = [[2 * (i + 1) * (j + 1) for j in range(n)] for i in range(n)]
    assert [[sympy.Integer(v) for v in row] for row in want] == [
        list(row) for row in np.asarray(h.components, dtype=object).reshape(n, n)
    ]
    x = np.linspace(-1.5, 2.5, n)
    assert np.array_equal(h(*x), np.array(want, dtype=float))


def test_a_squared_linear_form_hessian_in_100_variables_is_right() -> None:
    _dense_hessian_is_right(100)


@pytest.mark.slow
def test_a_squared_linear_form_hessian_in_400_variables_builds_under_the_default_limits() -> None:
    """80,200 distinct entries over a 400-term sum: about 8 s of CPU, priced about 800,000 of
    1,000,000 on symengine (refused at about 2,000,000 when its entries were previewed as
    products)."""
    pytest.importorskip("symengine")
    _dense_hessian_is_right(400)


# -- what builds in seconds is accepted ----------------------------------------------------------


def _rosenbrock_hessian(x: Any) -> Any:
    """Rosenbrock's Hessian by hand: the oracle."""
    n = len(x)
    want = np.zeros((n, n))
    for i in range(n - 1):
        want[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        want[i + 1, i + 1] += 200
        want[i, i + 1] = want[i + 1, i] = -400 * x[i]
    return want


def _builds_under_the_default_limits(n: int) -> None:
    text = rosenbrock(n)
    symgrad.clear_cache()
    h = symgrad.hessian(text)
    g = symgrad.gradient(text)
    x = np.linspace(-1.2, 1.3, n)
    np.testing.assert_allclose(h(*x), _rosenbrock_hessian(x), rtol=1e-13, atol=1e-10)
    want = np.zeros(n)
    want[:-1] += -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    want[1:] += 200 * (x[1:] - x[:-1] ** 2)
    np.testing.assert_allclose(g(*x), want, rtol=1e-13, atol=1e-10)


def test_a_rosenbrock_hessian_in_100_variables_builds_under_the_default_limits() -> None:
    _builds_under_the_default_limits(100)


@pytest.mark.slow
def test_a_rosenbrock_hessian_in_1000_variables_builds_under_the_default_limits() -> None:
    """10**6 entries, 2,000 distinct: about 7 s of CPU, priced about 610,000 of 1,000,000."""
    _builds_under_the_default_limits(1000)


# -- what would take minutes is refused before its costly stage ----------------------------------


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Calls of symengine's and SymPy's differentiation and of the compiler, counted."""
    from symgrad.derive import _derivatives, _symengine

    counts = {"symengine": 0, "sympy": 0, "compiled": 0}

    def counting(key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            counts[key] += 1
            return fn(*args, **kwargs)

        return wrapper

    job = _symengine.SymengineJob
    monkeypatch.setattr(job, "diff", counting("symengine", job.diff))
    monkeypatch.setattr(
        _derivatives, "differentiate", counting("sympy", vars(_derivatives)["differentiate"])
    )
    monkeypatch.setattr(
        _derivatives, "Compiled", counting("compiled", vars(_derivatives)["Compiled"])
    )
    return counts


# (family, size, first-order derivatives taken before the refusal): minutes of work each
HOSTILE = [
    (product, 150, 150),  # the second order: 11,325 products of 148 factors (compiling ~30 s)
    (sine_of_squares, 150, 150),  # 11,325 entries of 150-term sums (100 built in 5 s, 120 in 9)
    (dense, 1000, 0),  # 10**6 distinct entries
]


@pytest.mark.parametrize(
    ("family", "size", "first"), HOSTILE, ids=lambda v: getattr(v, "__name__", str(v))
)
def test_costly_hessians_are_refused_before_their_costly_stage(
    family: Callable[[int], str], size: int, first: int, counted: dict[str, int]
) -> None:
    pytest.importorskip("symengine")
    text = family(size)
    symgrad.parse(text)
    symgrad.clear_cache()
    with pytest.raises(LimitExceeded) as info:
        symgrad.hessian(text)
    assert (info.value.limit, info.value.allowed) == ("work", MAX_WORK)
    assert "symgrad.hessian(..., limits=symgrad.Limits(max_work=...))" in str(info.value)
    assert counted == {"symengine": first, "sympy": 0, "compiled": 0}


def test_without_symengine_a_costly_gradient_is_refused_before_any_derivative(
    monkeypatch: pytest.MonkeyPatch, counted: dict[str, int]
) -> None:
    """On SymPy, the gradient of a product of 150 factors (SymPy's work about 2.3 million node
    operations: minutes) is refused at its first stage: nothing differentiated or compiled."""
    from symgrad.derive import _symengine

    monkeypatch.setattr(_symengine, "symengine_module", lambda: None)
    symgrad.clear_cache()
    with pytest.raises(LimitExceeded, match="differentiating 150 entries") as info:
        symgrad.gradient(product(150))
    assert info.value.limit == "work"
    assert counted == {"symengine": 0, "sympy": 0, "compiled": 0}
