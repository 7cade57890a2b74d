"""check and check_gradient on an executor: results identical to the serial run, errors too.

The serial run is the reference: ``to_dict()`` (every documented key, every digit), the reason
and the points must be equal on a thread pool and on a process pool; an error raised in a piece
reaches the caller as the same exception with the same message; code that cannot reach a
worker process is refused before any work.
"""

from __future__ import annotations

import functools
import importlib.util
import multiprocessing
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

import symgrad.checks._gradient as gradient_module
import symgrad.checks._point as point_module
from symgrad import check, check_gradient
from symgrad.errors import ConfigError, InputError
from symgrad.fd import finite_difference
from symgrad.results import Status


@pytest.fixture(scope="module")
def processes() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        yield pool


@pytest.fixture(scope="module")
def threads() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(3) as pool:
        yield pool


class Inline(Executor):
    """An executor of another kind: runs each piece at once (it might as well pickle it)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future


# -- check --------------------------------------------------------------------------------------

CHECKS: list[tuple[Any, Any, dict[str, Any]]] = [
    ("sin(x+y)*exp(-z**2)", ["x=0.3, y=0.7, z=0.5", "x=-1, y=2, z=0", "x=2, y=0, z=1"], {}),
    (
        "100*(y - x**2)**2 + (1 - x)**2 + 100*(z - y**2)**2",
        "x=0.3, y=0.7, z=0.5",
        {"kind": "hessian"},
    ),
    (
        ["x*y + z", "sin(x) + cos(z)"],
        ["x=0.3, y=0.7, z=0.5", "x=1, y=1, z=1"],
        {"kind": "jacobian"},
    ),
    ("abs(x) + log(y)", ["x=0, y=1", "x=1, y=-1", "x=0.5, y=2"], {}),
    ("exp(x) + x*y", "x=0.3, y=0.7", {"scheme": "complex"}),
]


@pytest.mark.parametrize(("expr", "at", "options"), CHECKS)
def test_check_on_executors_equals_the_serial_run(
    processes: ProcessPoolExecutor,
    threads: ThreadPoolExecutor,
    expr: Any,
    at: Any,
    options: dict[str, Any],
) -> None:
    serial = check(expr, at, **options)
    for pool in (threads, processes):
        r = check(expr, at, executor=pool, **options)
        assert r.to_dict() == serial.to_dict()
        assert (r.status, r.reason, str(r)) == (serial.status, serial.reason, str(serial))


def test_the_serial_reference_is_right() -> None:
    """The verdicts, independently: a smooth function passes; |x| has a kink at 0 and
    log(y) is not real at y = -1 (so neither partial is defined there)."""
    assert check(*CHECKS[0][:2]).status is Status.PASS
    r = check(*CHECKS[3][:2])
    assert [p.components[0].point_status.value for p in r.points] == ["nonsmooth", "domain", "ok"]
    assert [p.components[1].point_status.value for p in r.points] == ["ok", "domain", "ok"]


def _refuse_y(f: Any, point: Any, wrt: Any, **options: Any) -> Any:
    if wrt[0] == "y":
        msg = "planted failure along y"
        raise InputError(msg)
    return _ORIGINAL_FD(f, point, wrt, **options)


_ORIGINAL_FD = finite_difference


def test_an_error_in_a_piece_of_check_is_the_serial_error(
    monkeypatch: pytest.MonkeyPatch, threads: ThreadPoolExecutor
) -> None:
    monkeypatch.setattr(point_module, "finite_difference", _refuse_y)
    at = ["x=0.3, y=0.7, z=0.5", "x=1, y=2, z=3"]
    with pytest.raises(InputError, match="planted failure along y"):
        check("sin(x*y)*z", at)
    with pytest.raises(InputError, match="planted failure along y"):
        check("sin(x*y)*z", at, executor=threads)
    # forked after the patch, so the workers run it too
    fork = multiprocessing.get_context("fork")
    with (
        ProcessPoolExecutor(2, mp_context=fork) as pool,
        pytest.raises(InputError, match="planted failure along y"),
    ):
        check("sin(x*y)*z", at, executor=pool)


def test_check_refuses_what_is_not_an_executor() -> None:
    with pytest.raises(ConfigError, match=r"concurrent\.futures\.Executor"):
        check("x**2", "x=1", executor=4)  # type: ignore[arg-type]


# -- check_gradient -----------------------------------------------------------------------------

EXPR = "x**2*y + sin(z)"


def right(x: Any, y: Any, z: Any) -> Any:
    return np.array([2 * x * y, x**2, np.cos(z)])


def wrong(x: Any, y: Any, z: Any) -> Any:
    return np.array([2 * x * y, x**2, -np.cos(z)])


def single_precision(x: Any, y: Any, z: Any) -> Any:
    return right(x, y, z).astype(np.float32)


def fragile(x: Any, y: Any, z: Any) -> Any:
    if np.any(np.asarray(x) > 1.9):
        msg = "x beyond 1.9"
        raise ValueError(msg)
    return right(x, y, z)


@pytest.mark.parametrize("user", [right, wrong, single_precision, ["2*x*y", "x**2", "cos(z)"]])
def test_check_gradient_on_executors_equals_the_serial_run(
    processes: ProcessPoolExecutor, threads: ThreadPoolExecutor, user: Any
) -> None:
    serial = check_gradient(user, EXPR, n_points=150, seed=3)
    for pool in (threads, processes):
        r = check_gradient(user, EXPR, n_points=150, seed=3, executor=pool)
        assert r.to_dict() == serial.to_dict()
        np.testing.assert_array_equal(r.points, serial.points)


def test_the_gradient_references_are_right() -> None:
    """cos(z) against its closed form: right passes, wrong fails on d/dz, float32 is named."""
    assert check_gradient(right, EXPR, n_points=150, seed=3).status is Status.PASS
    r = check_gradient(wrong, EXPR, n_points=150, seed=3)
    assert r.status is Status.FAIL
    assert r.worst is not None
    assert r.worst["entry"] == "d/dz"
    assert r.worst["exact"] == pytest.approx(np.cos(r.worst["point"]["z"]), rel=1e-15)
    assert check_gradient(single_precision, EXPR, n_points=150, seed=3).precision == "float32"


def test_an_error_in_user_code_is_the_serial_error(
    processes: ProcessPoolExecutor, threads: ThreadPoolExecutor
) -> None:
    with pytest.raises(InputError) as serial:
        check_gradient(fragile, EXPR, n_points=150, seed=3)
    assert "x beyond 1.9" in str(serial.value)
    for pool in (threads, processes):
        with pytest.raises(InputError) as caught:
            check_gradient(fragile, EXPR, n_points=150, seed=3, executor=pool)
        assert str(caught.value) == str(serial.value)


def test_a_lambda_is_refused_by_a_process_pool_before_any_work(
    monkeypatch: pytest.MonkeyPatch, processes: ProcessPoolExecutor
) -> None:
    calls = []

    def never(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        raise AssertionError

    monkeypatch.setattr(gradient_module, "resolve", never)  # nothing is parsed or derived
    user = lambda x, y, z: 1.0 * right(x, y, z)
    with pytest.raises(ConfigError, match="cannot be sent to the worker processes of Process"):
        check_gradient(user, EXPR, n_points=150, executor=processes)
    assert calls == []


def test_a_lambda_runs_on_threads(threads: ThreadPoolExecutor) -> None:
    serial = check_gradient(lambda x, y, z: 1.0 * right(x, y, z), EXPR, n_points=100)
    r = check_gradient(lambda x, y, z: 1.0 * right(x, y, z), EXPR, n_points=100, executor=threads)
    assert r.to_dict() == serial.to_dict()


def _with_lock(lock: Any, x: Any, y: Any, z: Any) -> Any:
    return right(x, y, z)


def test_other_executors_take_what_cloudpickle_sends() -> None:
    """dask's executor sends code with cloudpickle: a lambda is fine, a lock is not."""
    locked = functools.partial(_with_lock, threading.Lock())
    with pytest.raises(ConfigError, match="cannot be sent to the worker processes of Inline"):
        check_gradient(locked, EXPR, n_points=10, executor=Inline())
    user = lambda x, y, z: 1.0 * right(x, y, z)
    if importlib.util.find_spec("cloudpickle") is None:
        with pytest.raises(ConfigError, match="not a lambda"):
            check_gradient(user, EXPR, n_points=10, executor=Inline())
    else:
        r = check_gradient(user, EXPR, n_points=10, executor=Inline())
        assert r.to_dict() == check_gradient(user, EXPR, n_points=10).to_dict()


def test_check_gradient_refuses_what_is_not_an_executor() -> None:
    with pytest.raises(ConfigError, match=r"concurrent\.futures\.Executor"):
        check_gradient(right, EXPR, executor="four")  # type: ignore[arg-type]
