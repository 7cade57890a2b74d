"""The constructors' bounded cache of compiled results for text inputs.

Work is counted, never timed: the parser (``resolve``) and the differentiation are wrapped with
counters, and a repeated call must do neither.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import symgrad
import symgrad.derive._derivatives as derivatives_module
from symgrad.derive import (
    CACHE_SIZE,
    Limits,
    cache_info,
    clear_cache,
    derivative,
    function,
    gradient,
    hessian,
    jacobian,
    laplacian,
    vector,
)
from symgrad.errors import ConfigError, LimitExceeded


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Counts of parses (``resolve``) and of the differentiation stages (``_Job.diff``)."""
    calls = {"parse": 0, "diff": 0}
    resolve, diff = derivatives_module.resolve, derivatives_module._Job.diff

    def counting_resolve(*args: Any, **kwargs: Any) -> Any:
        calls["parse"] += 1
        return resolve(*args, **kwargs)

    def counting_diff(*args: Any, **kwargs: Any) -> Any:
        calls["diff"] += 1
        return diff(*args, **kwargs)

    monkeypatch.setattr(derivatives_module, "resolve", counting_resolve)
    monkeypatch.setattr(derivatives_module._Job, "diff", counting_diff)
    clear_cache()
    yield calls
    clear_cache()


def test_the_same_text_returns_the_same_object_without_parsing_again(
    counted: dict[str, int],
) -> None:
    first = gradient("x**2*y + sin(y)")
    assert counted == {"parse": 1, "diff": 1}
    again = gradient("x**2*y + sin(y)")
    assert again is first
    assert counted == {"parse": 1, "diff": 1}
    assert cache_info() == (1, 1, 1, CACHE_SIZE)
    np.testing.assert_allclose(again(2.0, 0.0), [0.0, 4.0 + 1.0])  # 2xy, x² + cos(y)


@pytest.mark.parametrize(
    "other",
    [
        lambda: gradient("x**2*y + sin(y)", "y x"),  # other variables
        lambda: gradient("x**2*y + sin(y)", wrt="x"),  # y becomes data
        lambda: gradient("x**2*y + sin(y)", limits=Limits(max_work=10**7)),
        lambda: gradient("x**2*y + sin(y)", symbolic="sympy"),
        lambda: gradient("x**2*y + sin(y) "),  # other text
    ],
    ids=["variables", "wrt", "limits", "symbolic", "text"],
)
def test_anything_that_changes_the_result_misses(counted: dict[str, int], other: Any) -> None:
    first = gradient("x**2*y + sin(y)")
    assert other() is not first
    assert counted["diff"] == 2
    assert cache_info().misses == 2


def test_another_constructor_of_the_same_text_reuses_only_the_parse(
    counted: dict[str, int],
) -> None:
    g = gradient("x**2*y + sin(y)")
    h = hessian("x**2*y + sin(y)")
    assert h is not g
    assert counted == {"parse": 1, "diff": 3}  # one parse; gradient, then Hessian's two orders
    assert h(1.0, 0.0).tolist() == [[0.0, 2.0], [2.0, 0.0]]  # [[2y, 2x], [2x, -sin y]]


def test_default_limits_and_none_are_one_key(counted: dict[str, int]) -> None:
    assert gradient("x*y") is gradient("x*y", limits=Limits())
    assert counted["parse"] == 1


def test_derivative_orders_are_keys_and_a_bool_is_not_a_count(counted: dict[str, int]) -> None:
    d1 = derivative("x**3*y", "x", 1)
    assert derivative("x**3*y", "x", 2) is not d1
    assert derivative("x**3*y", "x", 2).to_strings() == "6*x*y"
    with pytest.raises(ConfigError):  # True == 1, but it is not a count: never a cache hit
        derivative("x**3*y", "x", True)


def test_vectors_are_keyed_by_their_symbols(counted: dict[str, int]) -> None:
    text = "x[0]**2 + 3*x[1]"
    g = gradient(text, wrt=vector("x", 2))
    assert gradient(text, wrt=vector("x", 2)) is g
    assert gradient(text, wrt="x[0] x[1]") is not g  # spelled differently: a separate entry
    assert counted["parse"] >= 2
    np.testing.assert_allclose(g([1.5, 0.0]), [3.0, 3.0])


def test_every_constructor_is_cached(counted: dict[str, int]) -> None:
    calls: list[Callable[[], symgrad.Compiled]] = [
        lambda: function("x*y"),
        lambda: gradient("x*y"),
        lambda: hessian("x*y"),
        lambda: laplacian("x**2*y"),
        lambda: jacobian(["x*y", "x + y"]),
        lambda: derivative("x**2*y", "x", "y"),
    ]
    first = [c() for c in calls]
    parses = counted["parse"]
    assert all(c() is f for c, f in zip(calls, first, strict=True))
    assert counted["parse"] == parses
    assert cache_info().hits == len(calls)


def test_the_cache_never_exceeds_its_bound_and_drops_the_oldest(counted: dict[str, int]) -> None:
    texts = [f"x + {k}" for k in range(CACHE_SIZE + 10)]
    for text in texts:
        function(text)
        assert cache_info().size <= CACHE_SIZE
    assert cache_info().size == CACHE_SIZE
    parses = counted["parse"]
    function(texts[-1])  # recent: kept
    assert counted["parse"] == parses
    function(texts[0])  # the oldest: dropped, built again
    assert counted["parse"] == parses + 1
    clear_cache()
    assert cache_info() == (0, 0, 0, CACHE_SIZE)


def test_failures_and_sympy_inputs_are_not_cached(counted: dict[str, int]) -> None:
    tight = Limits(max_work=10)
    for _ in range(2):
        with pytest.raises(LimitExceeded):
            gradient("sin(x)*exp(y)*x*y", limits=tight)
    assert counted["diff"] == 2  # priced and refused again (the parse is kept)
    x = vector("x", 1)[0]
    assert gradient(x**2) is not gradient(x**2)  # an expression object: never a key
    assert cache_info().size == 0


def test_returning_copies_and_leaves_the_cached_object_alone(counted: dict[str, int]) -> None:
    g = gradient("x**2")
    single = g.returning(np.float32)
    assert gradient("x**2") is g
    assert g.dtype == "float64"
    assert single(np.float32(3.0)).dtype == np.float32


def test_finite_differences_of_the_same_text_in_a_loop_parse_once(
    counted: dict[str, int],
) -> None:
    for k in range(5):
        results = symgrad.finite_difference_gradient("sin(x)*y", f"x=0.{k + 1}, y=2", dps=20)
        assert float(results[1].value) == pytest.approx(np.sin(0.1 * (k + 1)), rel=1e-12)
    assert counted["parse"] == 1
