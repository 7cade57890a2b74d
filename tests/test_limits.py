"""Bounded work: every count and cost is checked before the work, untrusted jobs run in a worker.

The work is counted in SymPy function calls (``sympy_calls`` of tests/test_security.py), never in
seconds; ``benchmarks/bench_limits.py`` measures the seconds.  symgrad's cost model prices jobs in
node operations of about ``CALLS_PER_UNIT`` SymPy calls each, so a job it accepts under
``Limits(max_work=M)`` must not do much more than ``CALLS_PER_UNIT * M`` calls, and a job it
refuses must be refused before most of that work.

Worker tests use short timeouts and test outcomes only (which error, which value), never durations.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.derive import MAX_WORK
from symgrad.errors import (
    ConfigError,
    LimitExceeded,
    ParseError,
    SymgradError,
    UnsupportedError,
)
from symgrad.expr import MAX_ORDER
from tests.test_security import sympy_calls

CALLS_PER_UNIT = 15  # SymPy calls per node operation, the unit of the cost model
FACTOR = 4  # the estimate must be within this factor of the measured work
EXAMPLES = int(os.environ.get("SYMGRAD_LIMITS_EXAMPLES", "8"))


@pytest.fixture(autouse=True)
def _sympy_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests count SymPy's own calls: "auto" runs on SymPy here, as without symengine.

    (symengine's path is priced and tested in tests/test_symengine.py.)
    """
    import symgrad.derive._symengine as engines

    monkeypatch.setattr(engines, "symengine_module", lambda: None)


def _product(n: int) -> str:
    return "*".join(f"x{i}" for i in range(n))


def _max(n: int) -> str:
    return "max(" + ",".join(f"x{i}" for i in range(n)) + ")"


def _sin_of_squares(n: int) -> str:
    return "sin(" + "+".join(f"x{i}**2" for i in range(n)) + ")"


# -- the derivative order: counted before anything is built ----------------------------------


@pytest.mark.parametrize(
    "wrt",
    [("x", 10**9), ("x", 5, "x", 10**12), ("x " * 10**6,), ("x",) * 10**5],
    ids=["x, 1e9", "x, 5, x, 1e12", "1e6 names in one string", "1e5 arguments"],
)
def test_absurd_orders_are_refused_before_any_work(wrt: tuple[object, ...]) -> None:
    """The order cap is checked as ``wrt`` is read: no list of 10^9 symbols, no derivative."""
    with pytest.raises(LimitExceeded) as info:
        symgrad.derivative("x**3", *wrt)  # type: ignore[arg-type]
    assert (info.value.limit, info.value.allowed) == ("derivative_order", MAX_ORDER)
    assert info.value.value == MAX_ORDER + 1 or info.value.value > MAX_ORDER
    parsing = sympy_calls(lambda: symgrad.parse("x**3"))
    refusal = sympy_calls(lambda: symgrad.derivative("x**3", *wrt))  # type: ignore[arg-type]
    assert refusal <= 2 * parsing + 1_000


def test_the_largest_order_is_allowed() -> None:
    """Order MAX_ORDER itself works: d^16/dx^16 x^20 = 20!/4! x^4 exactly."""
    x = sympy.Symbol("x", real=True)
    d = symgrad.derivative("x**20", "x", MAX_ORDER)
    assert MAX_ORDER == 16
    assert (
        sympy.expand(d.exprs - sympy.Integer(math.factorial(20) // math.factorial(4)) * x**4) == 0
    )


# -- the cost model: refusals before the work ------------------------------------------------

FOUR_MAX = "*".join(f"max(x{4 * i},x{4 * i + 1},x{4 * i + 2},x{4 * i + 3})" for i in range(4))

# (call, text, entries priced when refused): inputs that take from half a minute to hours on
# SymPy (the gradient of a product of 100 now builds in about 6 s, and is accepted)
COSTLY = [
    pytest.param("gradient", _product(150), 150, id="gradient of a product of 150"),
    pytest.param("hessian", _product(100), 5050, id="hessian of a product of 100"),
]


def _refusal(call: str, text: str) -> tuple[LimitExceeded, int]:
    """The LimitExceeded of ``symgrad.<call>(text)`` and the SymPy calls spent until it."""
    caught: list[LimitExceeded] = []

    def job() -> None:
        try:
            getattr(symgrad, call)(text)
        except LimitExceeded as exc:
            caught.append(exc)

    calls = sympy_calls(job)
    assert len(caught) == 1, f"{call}({text[:40]}) was not refused"
    return caught[0], calls


@pytest.mark.parametrize(("call", "text", "entries"), COSTLY)
def test_costly_jobs_are_refused_before_the_work(call: str, text: str, entries: int) -> None:
    """Each is refused with limit "work", naming the stage and how to raise the limit, and the
    refusal spends less SymPy work than the default budget allows."""
    error, calls = _refusal(call, text)
    assert (error.limit, error.allowed) == ("work", MAX_WORK)
    assert isinstance(error.value, int)
    assert error.value > MAX_WORK
    assert f"{entries} entries" in str(error)
    assert f"symgrad.{call}(..., limits=symgrad.Limits(max_work=...))" in str(error)
    assert calls < CALLS_PER_UNIT * MAX_WORK


def test_a_hessian_is_priced_again_before_its_second_order() -> None:
    """The second order is guessed from the expression before the gradient, and priced precisely
    from the gradient before it starts.

    A guess far beyond the budget refuses at once (the Hessian of sin(x0² + ... + x99²) took
    80 s); a guess within ``GUESS_MARGIN`` budgets leaves the decision to the precise estimate,
    which refuses the 465 second partials of 30 variables under a budget of 100,000 within the
    work that budget allows.
    """
    with pytest.raises(LimitExceeded, match=r"the second order \(5050 entries\)") as info:
        symgrad.hessian(_sin_of_squares(100))
    assert (info.value.limit, info.value.allowed) == ("work", MAX_WORK)
    small = 100_000
    caught: list[LimitExceeded] = []

    def job() -> None:
        try:
            symgrad.hessian(_sin_of_squares(30), limits=symgrad.Limits(max_work=small))
        except LimitExceeded as exc:
            caught.append(exc)

    calls = sympy_calls(job)
    assert [(e.limit, e.allowed) for e in caught] == [("work", small)]
    assert "differentiating 465 entries" in str(caught[0])
    assert calls < CALLS_PER_UNIT * small


@pytest.mark.parametrize(
    ("call", "text"),
    [("hessian", _product(100)), ("gradient", _product(150))],
    ids=["hessian of a product of 100", "gradient of a product of 150"],
)
def test_first_stage_refusals_cost_about_as_much_as_parsing(call: str, text: str) -> None:
    """Refused at the first stage: the estimate adds little to parsing, nothing is differentiated."""
    parsing = sympy_calls(lambda: symgrad.parse(text))
    _, refusal = _refusal(call, text)
    assert refusal < parsing + 20_000


# (call, text, variables): single-stage jobs whose whole estimate a refusal reports
MEASURED = [
    ("gradient", _product(16), None),
    # refused while SymPy printed step functions as simplified conditions (123 s and 40 s)
    ("gradient", _max(16), None),
    ("gradient", FOUR_MAX, None),
    ("gradient", _sin_of_squares(25), None),
    ("gradient", "+".join(f"x{i}/(1 + x{(i + 1) % 20}**2)" for i in range(20)), None),
    ("gradient", "exp(sin(exp(sin(exp(sin(exp(sin(exp(sin(x*y))*x))*y))*x))*y))", None),
    ("jacobian", [f"x{i}*sin(x{(i + 1) % 10})/(1 + x{(i + 2) % 10}**2)" for i in range(10)], None),
]


@pytest.mark.parametrize(("call", "text", "variables"), MEASURED, ids=lambda v: str(v)[:24])
def test_estimates_track_the_measured_work(call: str, text: object, variables: None) -> None:
    """The estimate a refusal reports is within FACTOR of the SymPy work of the job itself.

    A limit of 2,000 lets the estimate finish (it stops early only after visiting more nodes than
    that) but refuses the job, so the refusal's ``value`` is the job's whole estimate; the job
    then runs under a generous limit and its SymPy calls are counted.
    """
    job = getattr(symgrad, call)
    with pytest.raises(LimitExceeded) as info:
        job(text, variables, limits=symgrad.Limits(max_work=2_000))
    assert "about" in str(info.value)
    estimate = info.value.value
    assert isinstance(estimate, int)
    measured = sympy_calls(lambda: job(text, variables, limits=symgrad.Limits(max_work=10**9)))
    assert estimate / FACTOR <= measured / CALLS_PER_UNIT <= estimate * FACTOR


@st.composite
def expressions(draw: st.DrawFn) -> str:
    """Random trees of sums, wide products, powers, functions and min/max of up to 8 variables."""
    names = [f"x{i}" for i in range(draw(st.integers(1, 8)))]

    def tree(depth: int) -> str:
        if depth == 0 or draw(st.integers(0, 4)) == 0:
            return draw(st.sampled_from([*names, "2", "3"]))
        kind = draw(st.sampled_from(["+", "*", "pow", "fn", "max"]))
        if kind in "+*":
            return "(" + kind.join(tree(depth - 1) for _ in range(draw(st.integers(2, 6)))) + ")"
        if kind == "pow":
            return f"({tree(depth - 1)})^{draw(st.sampled_from(['2', '3', '-1', '(1/2)']))}"
        if kind == "fn":
            return f"{draw(st.sampled_from(['sin', 'exp', 'atan', 'log']))}({tree(depth - 1)})"
        return f"max({tree(depth - 1)}, {tree(depth - 1)}, {tree(depth - 1)})"

    return tree(draw(st.integers(1, 4)))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(text=expressions(), call=st.sampled_from(["gradient", "hessian"]))
def test_accepted_jobs_stay_within_their_budget(text: str, call: str) -> None:
    """Under a small budget every job is refused or does at most FACTOR times its budget's work."""
    budget = 3_000
    job = getattr(symgrad, call)
    limits = symgrad.Limits(max_work=budget)
    try:
        job(text, limits=limits)
    except LimitExceeded:
        ceiling = sympy_calls(lambda: symgrad.parse(text)) + CALLS_PER_UNIT * budget * FACTOR
    except SymgradError:
        return  # outside the domain or undefined: not a cost question
    else:
        ceiling = CALLS_PER_UNIT * budget * FACTOR
    assert sympy_calls(lambda: job(text, limits=limits)) <= ceiling


def test_a_raised_limit_runs_the_job_with_correct_values() -> None:
    """Refused under a small limit, the Hessian of x0*...*x11 is exact once the limit is raised."""
    text = _product(12)
    with pytest.raises(LimitExceeded):
        symgrad.hessian(text, limits=symgrad.Limits(max_work=5_000))
    h = symgrad.hessian(text, limits=symgrad.Limits(max_work=10 * MAX_WORK))
    point = [Fraction(k + 2, k + 1) for k in range(12)]
    got = h(*[float(p) for p in point])
    for i, j in [(0, 1), (3, 7), (10, 11), (5, 5)]:
        want = 0 if i == j else math.prod(p for k, p in enumerate(point) if k not in (i, j))
        assert got[i, j] == pytest.approx(float(want), rel=1e-14, abs=0)


@pytest.mark.parametrize("bad", [0, -5, True, 2.5, "1e6"])
def test_limits_are_validated(bad: object) -> None:
    """max_work is a positive integer; limits must be a Limits."""
    with pytest.raises(ConfigError, match="max_work"):
        symgrad.Limits(max_work=bad)  # type: ignore[arg-type]


def test_limits_argument_must_be_limits() -> None:
    with pytest.raises(ConfigError, match=r"symgrad\.Limits"):
        symgrad.gradient("x*y", limits={"max_work": 10})  # type: ignore[arg-type]


# -- the worker -------------------------------------------------------------------------------


def hessian_at(text: str, x: float, y: float) -> list[list[float]]:
    """A job for the worker: the Hessian of ``text`` at (x, y), as plain floats."""
    return symgrad.hessian(text, "x y")(x, y).tolist()  # type: ignore[no-any-return]


def allocate(nbytes: int) -> int:
    """A job for the worker: touch ``nbytes`` of memory."""
    return int(np.ones(nbytes // 8).sum())


def spin(iterations: int) -> None:
    """A job for the worker: busy for ``iterations`` empty loop turns (minutes at 10**10, far
    beyond the test's timeout; counted, so the test never reads the clock)."""
    for _ in range(iterations):
        pass


def test_worker_returns_the_value_and_errors_as_themselves() -> None:
    """A normal job returns its value; symgrad errors arrive as the same class and attributes."""
    assert symgrad.run_limited(hessian_at, "x**3*y", 2.0, 3.0) == [[36.0, 12.0], [12.0, 0.0]]
    for text in ("10^10^10", "x +* 2"):
        with pytest.raises(SymgradError) as here:
            symgrad.parse(text)
        with pytest.raises(SymgradError) as there:
            symgrad.run_limited(symgrad.parse, text)
        assert type(there.value) is type(here.value)
        assert str(there.value) == str(here.value)
        assert vars(there.value) == vars(here.value)
    with pytest.raises(ParseError) as info:
        symgrad.run_limited(symgrad.parse, "x +* 2")
    assert (info.value.reason, info.value.column) == ("unexpected_token", 4)


def test_worker_memory_cap() -> None:
    """Allocating 2 GiB under a 256 MiB cap is LimitExceeded(memory); the parent carries on."""
    with pytest.raises(LimitExceeded) as info:
        symgrad.run_limited(allocate, 2**31, max_memory=2**28)
    assert (info.value.limit, info.value.allowed) == ("memory", 2**28)
    assert symgrad.run_limited(allocate, 2**20, max_memory=2**28) == 2**17


def test_worker_timeout_kills_the_job() -> None:
    """A job running past a 1 s timeout is LimitExceeded(timeout) and its process is gone."""
    with pytest.raises(LimitExceeded) as info:
        symgrad.run_limited(spin, 10**10, timeout=1.0)
    assert (info.value.limit, info.value.value) == ("timeout", 1.0)
    assert multiprocessing.active_children() == []


def test_worker_refuses_what_cannot_travel() -> None:
    """Local functions cannot be sent; a lock cannot come back (a compiled function can); other
    errors keep their builtin class."""
    with pytest.raises(ConfigError, match="module level"):
        symgrad.run_limited(lambda: 1)
    with pytest.raises(UnsupportedError, match="cannot be sent back"):
        symgrad.run_limited(threading.Lock)
    derivative = symgrad.run_limited(symgrad.derivative, "x**3", "x")
    assert derivative(2.0) == 12.0  # 3 x**2 at 2
    with pytest.raises(ValueError, match="invalid literal"):
        symgrad.run_limited(int, "abc")
    with pytest.raises(ConfigError, match="timeout"):
        symgrad.run_limited(int, "1", timeout=0)
    with pytest.raises(ConfigError, match="max_memory"):
        symgrad.run_limited(int, "1", max_memory=1024)


def test_check_count_refuses_above_the_cap_only() -> None:
    """The count-cap helper lets the cap itself through and names the limit above it."""
    from symgrad._limits import check_count

    check_count("points", 100, 100, "points to check", "check fewer points")
    with pytest.raises(LimitExceeded) as info:
        check_count("points", 10**9, 100, "points to check", "check fewer points")
    assert (info.value.limit, info.value.value, info.value.allowed) == ("points", 10**9, 100)
    assert str(info.value) == (
        "1,000,000,000 points to check requested; at most 100 are allowed: check fewer points"
    )
