"""verify_operator and verify_solver on executors: the levels (and a space-time study's time
self-convergence runs) are independent pieces; results and errors equal the serial run's, and a
callable that cannot reach worker processes is refused before any work."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from symgrad import Status, verify_operator, verify_solver
from symgrad.cli import main
from symgrad.errors import ConfigError, InputError

#: Where the module-level callables record the process they ran in (set before forking).
RECORD: list[Path] = []


def _record() -> None:
    if RECORD:
        with RECORD[0].open("a", encoding="utf-8") as f:
            f.write(f"{os.getpid()}\n")


def five_point(u: np.ndarray, h: tuple[float, ...]) -> np.ndarray:
    """The 5-point Laplacian, second-order one-sided closures at the faces."""
    _record()
    out = np.zeros_like(u)
    for k in range(u.ndim):
        v = np.moveaxis(u, k, 0)
        d2 = np.empty_like(v)
        d2[1:-1] = v[2:] - 2 * v[1:-1] + v[:-2]
        d2[0] = 2 * v[0] - 5 * v[1] + 4 * v[2] - v[3]
        d2[-1] = 2 * v[-1] - 5 * v[-2] + 4 * v[-3] - v[-4]
        out += np.moveaxis(d2, 0, k) / h[k] ** 2
    return out


def periodic_d2(u: np.ndarray, h: tuple[float, ...]) -> np.ndarray:
    """The periodic 3-point second difference (order 2)."""
    _record()
    out: np.ndarray = (np.roll(u, -1) - 2 * u + np.roll(u, 1)) / h[0] ** 2
    return out


def wrong_shape(u: np.ndarray, h: tuple[float, ...]) -> np.ndarray:
    """A planted error: drops the last row on the second level."""
    return five_point(u, h)[:-1] if u.shape[0] == 17 else five_point(u, h)


def ftcs(p: Any) -> np.ndarray:
    """Forward Euler in time, centred second differences in space, for u_t = u_xx + Q."""
    _record()
    x, dt = p.coordinates[0], p.dt
    u = p.initial.copy()
    t0 = p.time[0]
    for n in range(p.time_steps):
        t = t0 + n * dt
        lap = np.zeros_like(u)
        lap[1:-1] = (u[2:] - 2 * u[1:-1] + u[:-2]) / p.spacing[0] ** 2
        u = u + dt * (lap + p.source(x, t))
        u[0], u[-1] = p.boundary(x[[0, -1]], t + dt)
    out: np.ndarray = u
    return out


def failing_solver(p: Any) -> np.ndarray:
    """Raises on the third level, as a user's solver may."""
    if p.time_steps == 400:
        msg = "planted failure at 400 time steps"
        raise RuntimeError(msg)
    return ftcs(p)


OPERATOR = (five_point, "sin(x + 0.3)*exp(y/2)", "x=0:1,y=0:1", "laplacian", (9, 17, 33))
SOLVER: dict[str, Any] = {
    "solution": "exp(-t)*sin(x + 0.5) + x/3",
    "operator": "D(u, t) - D(u, x, 2)",
    "expect_order": {"space": 2, "time": 1},
    "domain": "x=0:1",
    "time": "t=0:0.1",
    "sizes": (9, 17, 33, 65),
    "time_steps": (25, 100, 400, 1600),
}


@pytest.fixture(scope="module")
def processes() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        yield pool


@pytest.fixture(scope="module")
def threads() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(2) as pool:
        yield pool


def test_operator_on_executors_equals_serial(
    processes: ProcessPoolExecutor, threads: ThreadPoolExecutor
) -> None:
    serial = verify_operator(*OPERATOR)
    assert serial.status is Status.PASS, serial.reason
    for pool in (threads, processes):
        assert verify_operator(*OPERATOR, executor=pool).to_dict() == serial.to_dict()


def test_solver_on_executors_equals_serial(
    processes: ProcessPoolExecutor, threads: ThreadPoolExecutor
) -> None:
    """A space-time study: the levels and the 2M, 4M time runs are pieces; every number of the
    result (orders, time order, GCI) equals the serial one."""
    serial = verify_solver(ftcs, **SOLVER)
    assert serial.status is Status.PASS, serial.reason
    assert any(d["kind"] == "time_order" for d in serial.diagnostics)
    for pool in (threads, processes):
        assert verify_solver(ftcs, **SOLVER, executor=pool).to_dict() == serial.to_dict()


def test_the_pieces_run_in_the_worker_processes(tmp_path: Path) -> None:
    """Every solver run of a space-time study (4 levels and 2 time runs) and every requested
    level of an operator (3; no refinement, whose levels are measured in the caller) happens
    in a worker."""
    RECORD[:] = [tmp_path / "pids.txt"]
    try:
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
            verify_solver(ftcs, **SOLVER, executor=pool)
            verify_operator(*OPERATOR, max_points=0, executor=pool)
    finally:
        RECORD.clear()
    pids = (tmp_path / "pids.txt").read_text(encoding="utf-8").split()
    assert len(pids) == 6 + 3
    assert str(os.getpid()) not in pids


def test_errors_in_pieces_equal_the_serial_ones(processes: ProcessPoolExecutor) -> None:
    """A scheme output of the wrong shape (InputError) and an exception inside the solver reach
    the caller unchanged, as in the serial run."""
    messages = []
    for pool in (None, processes):
        with pytest.raises(InputError) as caught:
            verify_operator(wrong_shape, *OPERATOR[1:], executor=pool)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert "expected 1 real array(s) of shape (17, 17)" in messages[0]
    for pool in (None, processes):
        with pytest.raises(RuntimeError, match="planted failure at 400 time steps"):
            verify_solver(failing_solver, **SOLVER, executor=pool)


def test_callables_that_cannot_pickle_are_refused_before_any_work(
    processes: ProcessPoolExecutor, threads: ThreadPoolExecutor
) -> None:
    calls: list[int] = []

    def scheme(u: np.ndarray, h: tuple[float, ...]) -> np.ndarray:
        calls.append(1)
        return five_point(u, h)

    def solver(p: Any) -> np.ndarray:
        calls.append(1)
        return ftcs(p)

    with pytest.raises(ConfigError, match=r"scheme .*scheme cannot be sent to the executor"):
        verify_operator(scheme, *OPERATOR[1:], executor=processes)
    with pytest.raises(ConfigError, match=r"solver .*solver cannot be sent to the executor"):
        verify_solver(solver, **SOLVER, executor=processes)
    assert calls == []
    # threads share the callable: no pickling needed, and the result is the serial one
    assert verify_operator(scheme, *OPERATOR[1:], executor=threads).status is Status.PASS
    with pytest.raises(ConfigError, match=r"concurrent\.futures\.Executor"):
        verify_solver(ftcs, **SOLVER, executor=object())  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- command line
#: The user's MODULE:FUNC for the command line: this module's callables, which record the
#: processes they run in (RECORD is set before the pool forks).
USER_MODULE = "from tests.test_grid_executors import ftcs, periodic_d2\n"
SOLVER_ARGV = [
    "verify-solver",
    "jobs_user:ftcs",
    "--solution",
    "exp(-t)*sin(x + 0.5) + x/3",
    "--operator",
    "D(u, t) - D(u, x, 2)",
    "--expect-order",
    "space=2,time=1",
    "--domain",
    "x=0:1",
    "--time",
    "t=0:0.1",
    "--sizes",
    "9,17,33,65",
    "--time-steps",
    "25,100,400,1600",
    "--format",
    "json",
]
OPERATOR_ARGV = [
    "verify-grid",
    "sin(x) + cos(2*x)",
    "--domain",
    "x=0:2*pi",
    "--scheme",
    "jobs_user:periodic_d2",
    "--operator",
    "x,x",
    "--periodic",
    "x",
]


@pytest.mark.parametrize("argv", [SOLVER_ARGV, OPERATOR_ARGV], ids=["solver", "operator"])
def test_cli_jobs_prints_the_serial_output_from_worker_processes(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "jobs_user.py").write_text(USER_MODULE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    RECORD[:] = [tmp_path / "pids.txt"]
    try:
        assert main(argv) == 0
        serial = capsys.readouterr()
        assert set(RECORD[0].read_text().split()) == {str(os.getpid())}
        RECORD[0].unlink()
        assert main([*argv, "--jobs", "2"]) == 0
        assert capsys.readouterr() == serial
        assert set(RECORD[0].read_text().split()) - {str(os.getpid())}
    finally:
        RECORD.clear()
