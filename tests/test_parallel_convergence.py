"""convergence and verify_grid on executors: results and errors identical to the serial run.

The reference of every comparison is the serial run (``executor=None``), whose values the rest
of the suite checks against closed forms; here the threads and the process pool must give the
same ``to_dict()`` bit for bit, raise the same errors, and refuse what a process pool cannot
take before any work is done.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from symgrad import Status, convergence, sobel_scheme, verify_grid
from symgrad.errors import ConfigError, InputError, LimitExceeded, ParseError


def _raise_limit() -> None:
    msg = "too many"
    raise LimitExceeded(msg, limit="grid_points", value=5, allowed=4)


def test_errors_with_keyword_attributes_cross_a_process_boundary() -> None:
    """LimitExceeded and ParseError keep their message and attributes through pickle."""
    parse = ParseError("bad text", reason="unknown_function", text="foo(x)", column=1)
    for error in (parse, ConfigError("a bad option")):
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error)
        assert (back.args, back.__dict__) == (error.args, error.__dict__)
    with ProcessPoolExecutor(1) as pool, pytest.raises(LimitExceeded) as caught:
        pool.submit(_raise_limit).result()
    assert str(caught.value) == "too many"
    assert (caught.value.limit, caught.value.value, caught.value.allowed) == ("grid_points", 5, 4)


# ------------------------------------------------------------------------------ convergence
CONVERGE: dict[str, Any] = {
    "schemes": "forward:1, central:2, central:4, complex, richardson",
    "step_sizes": "1e-1:1e-5:9",
}


@pytest.fixture(scope="module")
def processes() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(2) as pool:
        yield pool


class _Counting(ThreadPoolExecutor):
    """A thread pool that counts the pieces submitted to it."""

    submitted = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        type(self).submitted += 1
        return super().submit(fn, *args, **kwargs)


def test_convergence_on_executors_equals_the_serial_run(processes: ProcessPoolExecutor) -> None:
    """Every number and word of the mp sweep, on threads and on two processes."""
    serial = convergence("exp(sin(x))*cos(x**2)", "x=0.7", **CONVERGE)
    assert serial.status is Status.PASS  # the closed-form checks live in test_convergence.py
    with ThreadPoolExecutor(3) as threads:
        threaded = convergence("exp(sin(x))*cos(x**2)", "x=0.7", executor=threads, **CONVERGE)
    pooled = convergence("exp(sin(x))*cos(x**2)", "x=0.7", executor=processes, **CONVERGE)
    assert threaded.to_dict() == serial.to_dict()
    assert pooled.to_dict() == serial.to_dict()
    # mpmath numbers beyond float range too: the errors are compared as mpf, not only as JSON
    assert [s.errors for s in pooled.schemes] == [s.errors for s in serial.schemes]


def test_second_derivative_and_float64_sweeps_on_processes(processes: ProcessPoolExecutor) -> None:
    """A second derivative (mp) and a float64 sweep (which stays in the calling process)."""
    cases: list[dict[str, Any]] = [
        {"wrt": ("x", 2), "schemes": "central:2, central:4", "step_sizes": "1e-1:1e-3:5"},
        {"precision": "float64", "step_sizes": "1e-1:1e-9:9"},
    ]
    for kwargs in cases:
        serial = convergence("log(1 + x**2)", "x=0.5", **kwargs)
        assert convergence("log(1 + x**2)", "x=0.5", executor=processes, **kwargs).to_dict() == (
            serial.to_dict()
        )


def test_progress_counts_up_in_order_with_an_executor() -> None:
    """progress(done, total) for done = 1 ... total, with threads as without."""
    calls: list[tuple[int, int]] = []
    with ThreadPoolExecutor(2) as threads:
        convergence(
            "sin(x)", "x=1", executor=threads, progress=lambda *c: calls.append(c), **CONVERGE
        )
    assert calls == [(done, 45) for done in range(1, 46)]  # 5 schemes x 9 steps


def test_convergence_refuses_before_submitting_anything() -> None:
    """A bad executor, and bad input with a good one: the serial error, and no piece submitted."""
    with pytest.raises(ConfigError, match=r"concurrent\.futures\.Executor"):
        convergence("sin(x)", "x=1", executor=2)  # type: ignore[arg-type]
    _Counting.submitted = 0
    with _Counting(2) as counting:
        bad: list[dict[str, Any]] = [
            {"step_sizes": "1e-1:1e-2:500"},
            {"schemes": "central:2", "wrt": ("x", 2), "expected_order": -1},
        ]
        for kwargs in bad:
            with pytest.raises(ConfigError) as serial:
                convergence("sin(x)", "x=1", **kwargs)
            with pytest.raises(ConfigError) as pooled:
                convergence("sin(x)", "x=1", executor=counting, **kwargs)
            assert str(pooled.value) == str(serial.value)
        with pytest.raises(LimitExceeded, match="working digits"):
            convergence("sin(x)", "x=1", step_sizes="1e-1:1e-290:5", executor=counting)
    assert _Counting.submitted == 0


# ------------------------------------------------------------------------------ verify_grid
GRID = ("sin(x + 0.3)*exp(y/2)", "x=-1:1,y=-1:1", (9, 17, 33))


def centred(field: np.ndarray, spacing: tuple[Any, ...]) -> Any:
    """A user's scheme at module level (so that it pickles): numpy.gradient, second order."""
    return np.gradient(field, *spacing, edge_order=2)


def one_output(field: np.ndarray, spacing: tuple[Any, ...]) -> Any:
    """A wrong scheme: one array where a 2-D field needs two."""
    return np.gradient(field, spacing[0], axis=0)


def test_verify_grid_on_executors_equals_the_serial_run(processes: ProcessPoolExecutor) -> None:
    """numpy, a user's module-level scheme and an image filter: identical to_dict()."""
    for scheme in ("numpy", centred, sobel_scheme()):
        serial = verify_grid(*GRID, scheme, max_points=6000)
        assert len(serial.sizes) > 3  # the refinement added levels after the pieces
        with ThreadPoolExecutor(2) as threads:
            threaded = verify_grid(*GRID, scheme, max_points=6000, executor=threads)
        pooled = verify_grid(*GRID, scheme, max_points=6000, executor=processes)
        assert threaded.to_dict() == serial.to_dict()
        assert pooled.to_dict() == serial.to_dict()


def test_non_uniform_and_mp_levels_on_processes(processes: ProcessPoolExecutor) -> None:
    """Coordinates given as a list of levels, and the 30-digit exact gradient."""
    levels = [[np.linspace(0, 1, n) ** 1.5, np.linspace(-1, 1, n)] for n in (9, 17, 33)]
    cases: list[dict[str, Any]] = [{"coordinates": levels}, {"exact": "mp", "max_points": 0}]
    for kwargs in cases:
        serial = verify_grid("exp(x)*cos(y)", "x=0:1,y=-1:1", (9, 17, 33), **kwargs)
        pooled = verify_grid(
            "exp(x)*cos(y)", "x=0:1,y=-1:1", (9, 17, 33), executor=processes, **kwargs
        )
        assert pooled.to_dict() == serial.to_dict()


def test_errors_in_a_level_are_the_serial_errors(processes: ProcessPoolExecutor) -> None:
    """A scheme of the wrong shape, and a pole on the grid: raised in a worker, same message."""
    cases: list[tuple[tuple[Any, ...], dict[str, Any], type[Exception]]] = [
        (GRID, {"scheme": one_output}, InputError),
        (("1/x", "x=-1:1", (9, 17)), {}, ConfigError),
    ]
    for args, kwargs, kind in cases:
        with pytest.raises(kind) as serial:
            verify_grid(*args, **kwargs)
        with pytest.raises(kind) as pooled:
            verify_grid(*args, executor=processes, **kwargs)
        assert str(pooled.value) == str(serial.value)


class _CountingProcesses(ProcessPoolExecutor):
    """A process pool that counts the pieces submitted to it."""

    submitted = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        type(self).submitted += 1
        return super().submit(fn, *args, **kwargs)


def test_a_scheme_that_cannot_pickle_is_refused_before_any_work() -> None:
    """A lambda on a process pool: ConfigError saying why, the scheme never called."""
    calls: list[int] = []

    def nested(field: np.ndarray, spacing: tuple[Any, ...]) -> Any:
        calls.append(1)
        return np.gradient(field, *spacing, edge_order=2)

    _CountingProcesses.submitted = 0
    with _CountingProcesses(1) as pool:
        for scheme in (nested, lambda f, h: np.gradient(f, *h)):
            with pytest.raises(ConfigError, match="cannot be sent to the executor's worker"):
                verify_grid(*GRID, scheme, executor=pool)
    assert (calls, _CountingProcesses.submitted) == ([], 0)
    with _CountingProcesses(1) as pool, pytest.raises(LimitExceeded) as big:
        verify_grid("x*y", "x=0:1,y=0:1", (17, 5000), executor=pool)  # 25e6 points
    assert (big.value.limit, _CountingProcesses.submitted) == ("grid_points", 0)
    with ThreadPoolExecutor(2) as threads:  # threads share the scheme: no pickling needed
        assert verify_grid(*GRID, nested, executor=threads).status is Status.PASS
    assert calls


class _Serialising(Executor):
    """An executor that sends every piece through cloudpickle, as dask.distributed does."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        cloudpickle = pytest.importorskip("cloudpickle")
        sent_fn, sent_args = cloudpickle.loads(cloudpickle.dumps((fn, args)))
        future: Future[Any] = Future()
        future.set_result(sent_fn(*sent_args, **kwargs))
        return future


def test_an_executor_that_cloudpickles_takes_a_lambda() -> None:
    """Not a process pool: a lambda is accepted where cloudpickle can send it, same result."""
    pytest.importorskip("cloudpickle")
    scheme = lambda f, h: np.gradient(f, *h, edge_order=2)
    serial = verify_grid(*GRID, scheme, max_points=0)
    assert verify_grid(*GRID, scheme, max_points=0, executor=_Serialising()).to_dict() == (
        serial.to_dict()
    )
    kwargs: dict[str, Any] = {"step_sizes": "1e-1:1e-4:5", "executor": _Serialising()}
    assert convergence("cosh(x)", "x=0.2", **kwargs).to_dict() == (
        convergence("cosh(x)", "x=0.2", step_sizes="1e-1:1e-4:5").to_dict()
    )


def test_a_dask_distributed_client_executor() -> None:
    """Where dask.distributed is installed: a local cluster's executor gives the serial result."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.Client(processes=False, n_workers=1, dashboard_address=None) as client,
        client.get_executor() as executor,
    ):
        pooled = convergence("cosh(x)", "x=0.2", step_sizes="1e-1:1e-4:5", executor=executor)
    assert pooled.to_dict() == convergence("cosh(x)", "x=0.2", step_sizes="1e-1:1e-4:5").to_dict()
