"""Bounded work: count caps checked before the work, and untrusted jobs in a worker process.

Two mechanisms, for two kinds of bound:

* :func:`check_count` refuses a count (points, elements, grid cells) that is above its cap
  *before* anything of that size is allocated, with a ``LimitExceeded`` whose message says which
  cap and how to stay under it.  The caps themselves live next to the work they protect.
* :func:`run_limited` runs a job in a child process with a wall-clock timeout and a memory cap.
  symgrad's caps are estimates and counts; a service that runs jobs for untrusted users wants
  hard bounds as well, and only the operating system can give those: the child sets
  ``RLIMIT_AS`` (address space) on itself (on Linux), so an allocation past the cap fails inside
  the child with ``MemoryError``, and the parent kills a child that runs past the timeout.  Either
  way the parent process is unharmed and gets a ``LimitExceeded`` (``limit="memory"`` or
  ``"timeout"``).

The child is started with the ``forkserver`` context (``spawn`` where there is none), never
``fork``: forking a process that runs threads can deadlock the child.  Arguments, results and
errors travel through a pipe, pickled, so the job must be a module-level function and its
arguments and result picklable.  A ``SymgradError`` raised in the child is raised again in the
parent as the same class with the same message and attributes.

The worker is a resource bound, not a security sandbox: the child runs with the parent's
permissions and the parent unpickles what the child sends.  What keeps untrusted *text* from
becoming code is the parser (docs/explanation/safe-parsing.md), not the worker.
"""

from __future__ import annotations

import builtins
import contextlib
import math
import multiprocessing
import os
import pickle
import signal
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from symgrad import errors
from symgrad.errors import ConfigError, LimitExceeded, SymgradError

__all__ = ["DEFAULT_MAX_MEMORY", "DEFAULT_TIMEOUT", "check_count", "run_limited"]

#: Default wall-clock limit of :func:`run_limited`, in seconds.
DEFAULT_TIMEOUT = 60.0
#: Default memory the job may add to the worker's own, in bytes (2 GiB).
DEFAULT_MAX_MEMORY = 2 * 2**30
#: The smallest memory cap accepted: below it the worker cannot even send its result.
MIN_MEMORY = 16 * 2**20

_T = TypeVar("_T")
_PRELOAD = "symgrad.output"  # the pipeline's last stage: importing it imports every stage


def check_count(limit: str, value: int, allowed: int, what: str, how: str) -> None:
    """Refuse ``value`` above ``allowed`` before the work, naming the cap and a way around it.

    Parameters
    ----------
    limit : str
        The ``LimitExceeded.limit`` name (``"points"``, ``"elements"``, ...).
    value, allowed : int
        The count asked for and its cap.
    what : str
        What is counted, for the message (``"points to check"``).
    how : str
        How to stay under the cap or raise it (``"check fewer points, in batches"``).

    Examples
    --------
    >>> check_count("points", 10, 100, "points to check", "check fewer points")
    >>> check_count("points", 10**9, 100, "points to check", "check fewer points")
    Traceback (most recent call last):
    ...
    symgrad.errors.LimitExceeded: 1,000,000,000 points to check requested; at most 100 are allowed: check fewer points
    """
    if value > allowed:
        msg = f"{value:,} {what} requested; at most {allowed:,} are allowed: {how}"
        raise LimitExceeded(msg, limit=limit, value=value, allowed=allowed)


def run_limited(
    fn: Callable[..., _T],
    /,
    *args: Any,
    timeout: float | None = DEFAULT_TIMEOUT,
    max_memory: int | None = DEFAULT_MAX_MEMORY,
    **kwargs: Any,
) -> _T:
    """Run ``fn(*args, **kwargs)`` in a worker process with a timeout and a memory cap.

    Parameters
    ----------
    fn : callable
        A module-level function (it is pickled to the worker), e.g. ``symgrad.check``.
    *args, **kwargs
        Its arguments, picklable.  ``timeout`` and ``max_memory`` are this function's own.
    timeout : float or None
        Wall-clock seconds the job may run before its worker is killed; None for no limit.  The
        first call also starts a server process that imports symgrad (about a second, not
        counted); each job's worker is forked from it.
    max_memory : int or None
        Bytes of address space the job may add to what the worker holds once started
        (``RLIMIT_AS``; Linux, elsewhere only the timeout holds); None for no limit.

    Returns
    -------
    object
        What ``fn`` returned (it must be picklable: numbers, strings, result objects and
        compiled functions are; a compiled function regenerates its code on arrival).

    Raises
    ------
    LimitExceeded
        ``limit="timeout"`` when the job ran past ``timeout``; ``limit="memory"`` when an
        allocation failed under ``max_memory`` (or the worker died of a signal).
    SymgradError
        Any symgrad error of the job, as the same class with the same message.

    Examples
    --------
    >>> import symgrad
    >>> symgrad.run_limited(symgrad.parse, "x^2 + 1", timeout=30)
    x**2 + 1
    """
    limit = _checked_limits(timeout, max_memory)
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(
        target=_worker_main, args=(sender, limit[1], fn, args, kwargs), daemon=True
    )
    try:
        _start(worker)
    finally:
        sender.close()
    try:
        message = _wait(receiver, worker, limit[0])
    finally:
        receiver.close()
        if worker.is_alive():
            worker.kill()
        worker.join()
    return _outcome(message, worker.exitcode, limit)  # type: ignore[no-any-return]


def _checked_limits(timeout: object, max_memory: object) -> tuple[float | None, int]:
    """Validate the two limits; memory 0 means none."""
    if timeout is not None and not (
        isinstance(timeout, int | float) and not isinstance(timeout, bool) and timeout > 0
    ):
        msg = f"timeout must be a positive number of seconds or None (got {timeout!r})"
        raise ConfigError(msg)
    seconds = None if timeout is None or not math.isfinite(timeout) else float(timeout)
    if max_memory is None:
        return seconds, 0
    if isinstance(max_memory, bool) or not isinstance(max_memory, int):
        msg = f"max_memory must be a number of bytes or None (got {max_memory!r})"
        raise ConfigError(msg)
    if max_memory < MIN_MEMORY:
        msg = f"max_memory must be at least {MIN_MEMORY:,} bytes (got {max_memory:,})"
        raise ConfigError(msg)
    return seconds, max_memory


def _context() -> Any:
    """``forkserver`` where the platform has it, else ``spawn``; never ``fork``.

    The fork server (started once per process) imports symgrad's whole pipeline, so that each
    worker is forked with SymPy, NumPy and mpmath loaded instead of importing them again
    (seconds), and so that their imports are part of the worker's start, not of the memory its
    job may add; other preloads are kept.  ``import symgrad`` alone loads nothing heavy (its
    names are lazy), so the preload names ``symgrad.output``, the last stage, which imports
    every stage before it.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    from multiprocessing import forkserver  # noqa: PLC0415 - POSIX only

    context = multiprocessing.get_context("forkserver")
    server = getattr(forkserver, "_forkserver", None)
    preload = getattr(server, "_preload_modules", None)
    if isinstance(preload, list) and _PRELOAD not in preload:
        context.set_forkserver_preload([*preload, _PRELOAD])
    return context


def _start(worker: Any) -> None:
    """Start the worker; a job that cannot be pickled is a ConfigError."""
    try:
        worker.start()
    except (pickle.PicklingError, AttributeError, TypeError, RecursionError) as exc:
        msg = (
            "run_limited sends the job to a worker process, so the function must be defined "
            f"at module level and its arguments picklable: {exc}"
        )
        raise ConfigError(msg) from exc


def _wait(receiver: Connection, worker: Any, timeout: float | None) -> tuple[str, Any] | None:
    """The worker's message, or None if it ended without one; kills it at the timeout."""
    if not receiver.poll(timeout):
        worker.kill()
        return ("timeout", None)
    try:
        message: tuple[str, Any] = receiver.recv()
    except EOFError:
        return None
    return message


def _outcome(message: tuple[str, Any] | None, exitcode: int | None, limit: tuple[Any, int]) -> Any:
    """Return the result or raise what the worker reported."""
    timeout, max_memory = limit
    if message is None and (exitcode is None or exitcode >= 0):
        msg = (
            f"the worker exited (code {exitcode}) without a result; a script that calls "
            "run_limited must do so under `if __name__ == '__main__':`, because the worker "
            "imports the main module"
        )
        raise RuntimeError(msg)
    if message is None:
        msg = (
            f"the worker was ended by signal {-(exitcode or 0)} without a result; under "
            f"max_memory={max_memory:,} bytes this is most likely an allocation that failed: "
            "raise max_memory or simplify the job"
        )
        raise LimitExceeded(msg, limit="memory", value=None, allowed=max_memory or None)
    kind, payload = message
    if kind == "ok":
        return payload
    if kind == "timeout":
        msg = f"the job ran past the timeout of {timeout:g} s and was stopped; raise the timeout"
        raise LimitExceeded(msg, limit="timeout", value=timeout, allowed=timeout)
    if kind == "memory":
        msg = (
            f"the job needed more than max_memory={max_memory:,} bytes and was stopped "
            f"({payload}); raise max_memory or simplify the job"
        )
        raise LimitExceeded(msg, limit="memory", value=None, allowed=max_memory)
    if kind == "symgrad":
        raise _rebuild(*payload)
    raise _foreign(*payload)


# -- the worker side ------------------------------------------------------------------------


def _worker_main(
    sender: Connection,
    max_memory: int,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    """Run in the child: cap the address space, run the job, send one message back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when the worker stops
    if max_memory:
        _cap_address_space(max_memory)
    try:
        message = _run(fn, args, kwargs)
        _send(sender, message)
    finally:
        sender.close()


def _run(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, Any]:
    try:
        return ("ok", fn(*args, **kwargs))
    except MemoryError as exc:
        return ("memory", type(exc).__name__)
    except SymgradError as exc:
        return ("symgrad", _describe(exc))
    except BaseException as exc:  # noqa: BLE001 - any end of the job is reported to the parent
        return ("error", _foreign_description(exc))


def _send(sender: Connection, message: tuple[str, Any]) -> None:
    """Send ``message``; a result that cannot be pickled is reported as an error instead."""
    try:
        sender.send(message)
    except MemoryError:
        sender.send(("memory", "sending the result"))
    except Exception as exc:  # noqa: BLE001 - pickling can raise almost anything
        text = f"the job's result cannot be sent back from the worker: {exc}"
        sender.send(("symgrad", ("UnsupportedError", (text,), {})))


def _cap_address_space(extra: int) -> None:
    """Cap the child's address space at its current size plus ``extra`` bytes.

    Where the current size is unknown (no ``/proc``: macOS, whose processes reserve far more
    address space than they use) or ``RLIMIT_AS`` is missing (Windows), nothing is capped and
    only the timeout holds.
    """
    try:
        import resource  # noqa: PLC0415 - POSIX only
    except ImportError:
        return
    current = _address_space()
    if not current:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    caps = [c for c in (soft, hard) if c != resource.RLIM_INFINITY]
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (min([current + extra, *caps]), hard))


def _address_space() -> int:
    """The process's current virtual size in bytes (Linux; 0 where unknown)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:  # noqa: PTH123
            pages = int(statm.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def _describe(exc: SymgradError) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """The nearest class of :mod:`symgrad.errors`, the args and the attributes of ``exc``."""
    name = next(
        k.__name__
        for k in type(exc).__mro__
        if k.__module__ == errors.__name__ and isinstance(getattr(errors, k.__name__, None), type)
    )
    state = {k: v for k, v in vars(exc).items() if _picklable(v)}
    return name, tuple(a if _picklable(a) else str(a) for a in exc.args), state


def _picklable(value: object) -> bool:
    try:
        pickle.dumps(value)
    except Exception:  # noqa: BLE001 - pickling can raise almost anything
        return False
    return True


def _foreign_description(exc: BaseException) -> tuple[str, str, str, str]:
    kind = type(exc)
    text = "".join(traceback.format_exception(exc, limit=-5))
    return kind.__module__, kind.__qualname__, str(exc), text


# -- the parent side ------------------------------------------------------------------------


def _rebuild(name: str, args: tuple[Any, ...], state: dict[str, Any]) -> SymgradError:
    """The worker's symgrad error as the same class, without calling its ``__init__``."""
    kind = getattr(errors, name, None)
    if not (isinstance(kind, type) and issubclass(kind, SymgradError)):
        kind = SymgradError
    exc = kind.__new__(kind)
    exc.args = args
    vars(exc).update(state)
    return exc


def _foreign(module: str, qualname: str, text: str, trace: str) -> Exception:
    """A non-symgrad error of the job: the same builtin class, else a RuntimeError."""
    builtin = getattr(builtins, qualname, None) if module == "builtins" else None
    if isinstance(builtin, type) and issubclass(builtin, Exception):
        exc: Exception = builtin(text)
    else:
        exc = RuntimeError(f"{module}.{qualname} in the worker: {text}")
    exc.add_note("raised in the worker process:\n" + trace)
    return exc
