"""Independent pieces of work on a ``concurrent.futures.Executor``, in order, or serially.

``check``, ``check_gradient``, ``convergence`` and ``verify_grid`` take ``executor=``: any
:class:`concurrent.futures.Executor` (a ``ProcessPoolExecutor`` on one machine, the executor of
a ``dask.distributed`` client on a cluster).  Each splits its work into pieces that do not
depend on one another, runs them with :func:`run_pieces` and assembles the results in the
order of the serial run, so the result is identical to ``executor=None``.

A piece is a module-level function and picklable arguments (compiled functions pickle their
expressions and regenerate their code on the worker).  Errors raised in a piece reach the
caller unchanged, as in the serial run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any, TypeVar

from symgrad.errors import ConfigError

__all__ = ["check_executor", "run_pieces"]

_T = TypeVar("_T")


def check_executor(executor: object) -> Executor | None:
    """``executor`` if it is None or an Executor (anything with ``submit``), else ConfigError."""
    if executor is None or isinstance(executor, Executor):
        return executor
    if callable(getattr(executor, "submit", None)):  # e.g. dask.distributed's client executor
        return executor  # type: ignore[return-value]
    msg = (
        "executor must be a concurrent.futures.Executor such as ProcessPoolExecutor() "
        f"(got {type(executor).__name__})"
    )
    raise ConfigError(msg)


def run_pieces(
    executor: Executor | None, fn: Callable[..., _T], pieces: Sequence[tuple[Any, ...]]
) -> list[_T]:
    """``[fn(*p) for p in pieces]``, on ``executor`` when given, results in the same order.

    All pieces are submitted before any result is awaited; the first piece that raised
    re-raises here (the others are cancelled where they have not started).
    """
    if executor is None or len(pieces) <= 1:
        return [fn(*piece) for piece in pieces]
    futures = [executor.submit(fn, *piece) for piece in pieces]
    try:
        return [future.result() for future in futures]
    finally:
        for future in futures:
            future.cancel()
