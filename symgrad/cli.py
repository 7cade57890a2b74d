"""The ``symgrad`` command line: ``main(argv) -> int``.

Exit codes (:class:`ExitCode`, stable: CI pipelines depend on them): 0 ran and every verdict is
pass/exact; 1 ran and a check failed or was inconclusive; 2 bad input, usage, ``--timeout`` or
a file that cannot be written, with one clear line on stderr and no traceback; 130 interrupted
(Ctrl-C).  Data goes to stdout, messages and progress to stderr.  Only this module prints.

Only bad input is turned into a one-line message: a :class:`~symgrad.errors.SymgradError`, or an
``OSError`` from writing a file or stdout.  Any other exception is a bug in symgrad and keeps
its traceback.

**Files.**  ``--output`` and ``--plot`` are checked before anything is computed (the directory
exists and is writable, the name is not a directory, the format follows from the suffix) and
written atomically; an existing file is replaced only when symgrad wrote it (its generator
mark), or with ``--force``.  See :mod:`symgrad._files`.

**Your code.**  ``verify-grid --scheme MODULE:FUNC`` imports ``MODULE`` with the working
directory in front of ``sys.path`` for that import only, and reports an exception raised by the
scheme as one line naming it.  Standard-library modules are refused: a scheme is a function you
wrote.

**Worker processes.**  ``check``, ``converge``, ``verify-grid`` (``--operator`` too) and
``verify-solver`` with ``--jobs N`` pass a
``ProcessPoolExecutor`` of N forked workers as ``executor=`` (the output is the serial one);
the workers ignore SIGINT, and Ctrl-C or ``--timeout`` stops them with the command.

**Start-up.**  This module imports only the standard library modules that parsing the command
line needs and symgrad's errors; each command imports SymPy, NumPy, mpmath or matplotlib (and
``json``, ``inspect``, the file writer) inside its handler, so ``--help``, ``--version`` and usage
errors answer at once, and ``grad`` loads SymPy but no code generation (NumPy only when
symengine, the ``fast`` extra, brings it).  Ctrl-C is handled by the entry
point (:mod:`symgrad.__main__`) from before the first import.
"""

from __future__ import annotations

import argparse
import contextlib
import enum
import functools
import gc
import importlib
import io
import keyword
import math
import os
import re
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from symgrad import __version__
from symgrad.errors import ConfigError, LimitExceeded, ParseError, SymgradError, quote

if TYPE_CHECKING:
    from pathlib import Path

    from symgrad.derive import Compiled

__all__ = ["ExitCode", "main"]

Handler = Callable[[argparse.Namespace], tuple[str, int]]
RESULT_FORMATS = ("text", "markdown", "json")
STUDY_FORMATS = (*RESULT_FORMATS, "html")  # grid and solver studies: markdown and html pages
GENERATOR = f"symgrad {__version__}"
MIN_TIMEOUT, MAX_TIMEOUT = 0.01, 1e7  # seconds: a scheduler tick, and about four months
JOBS_PER_CPU = 4  # --jobs cap: more worker processes than this per CPU only add overhead
RETRY = 0.05  # seconds between alarms once --timeout has passed (see _time_limit)
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
DOCUMENT_SUFFIXES = {
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".json": "json",
}

# Options whose values may start with "-" (negative numbers, lists such as -2,-1,0,1,2).
_VALUE_OPTIONS = frozenset(
    {
        "--at",
        "--domain",
        "--offsets",
        "--values",
        "--cells",
        "--spacing",
        "--steps",
        "--step-sizes",
        "--step",
        "--answer",
    }
)
_SHORT_OPTIONS = frozenset({"-h"})
_NEGATIVE_NUMBER = re.compile(r"-\d+|-\d*\.\d+")  # argparse keeps these as values itself


class ExitCode(enum.IntEnum):
    """The exit status of ``symgrad``; ``main`` returns one of these."""

    OK = 0
    """The command ran and every verdict is pass or exact (or it has no verdict)."""
    FAILED = 1
    """The command ran and a verdict is fail, inconclusive or unreliable."""
    USAGE = 2
    """Bad input or usage, ``--timeout``, or a file that cannot be written: one line on stderr."""
    INPUT = 2  # an alias: bad input and bad usage share exit code 2
    """Alias of ``USAGE``."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C (SIGINT): 128 + 2, as shells report it."""


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors as one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        _say(f"{message} (see '{self.prog} --help')")
        raise SystemExit(ExitCode.USAGE)

    def _print_message(self, message: str, file: Any = None) -> None:
        """``--help`` and ``--version``; unlike argparse, a failed write is not hidden."""
        if message:
            (file or sys.stderr).write(message)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code.

    Never raises for bad input, an unwritable file or stdout, or Ctrl-C: those print one line
    on stderr and return :class:`ExitCode` 2 or 130.
    """
    try:
        with _one_line_warnings():
            code = _main(sys.argv[1:] if argv is None else list(argv))
        sys.stdout.flush()
    except KeyboardInterrupt:
        with _interrupts_ignored():  # a second Ctrl-C cannot print a second line
            _say("interrupted", prefix="symgrad: ")
        return ExitCode.INTERRUPTED
    except OSError as exc:  # stdout is gone: a full disk, a closed pipe
        _silence_stdout()
        _say(f"cannot write the output: {_os_reason(exc)}")
        return ExitCode.USAGE
    return code


def _main(argv: list[str]) -> ExitCode:
    """Parse, run the command under ``--timeout``, print its output; user errors as one line."""
    prepared, expressions = _prepare(argv)
    parser = _build_parser()
    try:
        args = parser.parse_args(prepared)
        _restore(args, expressions, parser)
    except SystemExit as exc:  # --help, --version and usage errors
        return ExitCode.OK if not exc.code else ExitCode.USAGE
    handler: Handler = args.handler
    try:
        if args.isolate:  # a worker process with a wall-clock limit and a memory cap
            from symgrad._limits import run_limited  # noqa: PLC0415 - lazy, see module doc

            limit = None if args.max_memory is None else args.max_memory * 2**20
            args.preload = _Preload(_worker_modules(args))
            output, code = run_limited(_run_handler, args, timeout=args.timeout, max_memory=limit)
        else:
            with _time_limit(args.timeout):
                output, code = handler(args)
    except SymgradError as exc:
        _report_error(exc)
        return ExitCode.USAGE
    except OSError as exc:  # writing --output or --plot
        name = f" {quote(str(exc.filename))}" if exc.filename else ""
        _say(f"cannot write{name}: {_os_reason(exc)}")
        return ExitCode.USAGE
    sys.stdout.write(output if output.endswith("\n") else output + "\n")
    return ExitCode(code)


@contextlib.contextmanager
def _interrupts_ignored() -> Iterator[None]:
    """Ignore SIGINT for a moment (in the main thread; elsewhere signals never arrive)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        if previous is not None:  # None: a handler installed outside Python, left ignored
            signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """``--timeout``: stop a runaway job with ``LimitExceeded(timeout)`` (exit 2).

    A real-time alarm interrupts Python code, SymPy and mpmath (big-integer arithmetic polls for
    signals); it needs a POSIX main thread, elsewhere the limit is not enforced.  The handler
    raises only while the job runs: an alarm that fires as the job ends is either reported as
    the timeout or ignored, never leaked as a stray exception.

    Python ignores an exception raised where nothing can catch it (a weakref finalizer, a
    ``__del__``) and prints "Exception ignored in ..." with a traceback.  So after the limit the
    alarm repeats every ``RETRY`` seconds until the job stops, and while the job runs an
    ignored ``_Expired`` is not printed.
    """
    main = threading.current_thread() is threading.main_thread()
    if seconds is None or not hasattr(signal, "setitimer") or not main:
        yield
        return
    armed = [True]

    def expire(signum: int, frame: object) -> None:  # noqa: ARG001 - the signal API's shape
        if armed[0]:
            raise _Expired

    previous = signal.signal(signal.SIGALRM, expire)
    unraisable = sys.unraisablehook

    def quiet(info: Any) -> None:  # sys.UnraisableHookArgs
        if not isinstance(info.exc_value, _Expired):
            unraisable(info)

    sys.unraisablehook = quiet
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds, RETRY)
        try:
            yield
        finally:
            armed[0] = False
    except _Expired:
        msg = f"stopped after the --timeout of {seconds:g} s; simplify the input or raise the limit"
        raise LimitExceeded(msg, limit="timeout", value=seconds, allowed=seconds) from None
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sys.unraisablehook = unraisable


class _Expired(BaseException):
    """Raised by the alarm: a BaseException, so no ``except Exception`` on the way swallows it."""


def _timeout(text: str) -> float:
    """``--timeout``: positive finite seconds within [MIN_TIMEOUT, MAX_TIMEOUT]."""
    try:
        seconds = float(text)
    except ValueError:
        msg = f"expected seconds, a number such as 30 or 0.5 (got {quote(text.strip())})"
        raise argparse.ArgumentTypeError(msg) from None
    if not MIN_TIMEOUT <= seconds <= MAX_TIMEOUT:  # refuses nan, inf, 0 and negatives too
        msg = (
            f"must be between {MIN_TIMEOUT:g} and {MAX_TIMEOUT:,.0f} seconds "
            f"(got {quote(text.strip())}); "
            "leave it out for no limit"
        )
        raise argparse.ArgumentTypeError(msg)
    return seconds


def _prepare(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    """Make argv unambiguous for argparse before it parses.

    * ``--offsets -2,-1`` → ``--offsets=-2,-1``: argparse would read ``-2,-1`` as an option.
    * An expression that starts with a minus sign (``symgrad grad "-x^2"``) gets a leading
      space, so argparse does not take it for an option; :func:`_restore` removes it.  Every
      word starting with one ``-`` is an expression except ``-h``; after ``--`` nothing changes.
    """
    prepared: list[str] = []
    expressions: dict[str, str] = {}
    items = iter(argv)
    for item in items:
        if item == "--":
            prepared += [item, *items]
            break
        if item in _VALUE_OPTIONS:
            value = next(items, None)
            if value is None or value.startswith("--"):  # a missing value, not "--at=--x"
                prepared += [item] if value is None else [item, value]
                if value == "--":
                    prepared += list(items)
                    break
            else:
                prepared.append(f"{item}={value}")
        elif _dash_expression(item):
            expressions[" " + item] = item
            prepared.append(" " + item)
        else:
            prepared.append(item)
    return prepared, expressions


def _dash_expression(item: str) -> bool:
    """A word that argparse would take for an unknown option but that is an expression."""
    return (
        item.startswith("-")
        and not item.startswith("--")
        and item not in _SHORT_OPTIONS
        and not _NEGATIVE_NUMBER.fullmatch(item)
    )


def _restore(
    args: argparse.Namespace, expressions: dict[str, str], parser: argparse.ArgumentParser
) -> None:
    """Undo :func:`_prepare`'s leading spaces in the parsed values.

    Only ``jacobian``'s expressions are a list; any other list is argparse reading ``--at=--``
    (a value ``--``) as no value at all, which is a usage error.
    """
    for name, value in vars(args).items():
        if isinstance(value, str):
            setattr(args, name, expressions.get(value, value))
        elif isinstance(value, list) and name == "expr":
            setattr(args, name, [expressions.get(v, v) if isinstance(v, str) else v for v in value])
        elif isinstance(value, list):
            parser.error(f"argument --{name.replace('_', '-')}: expected one argument")


@contextlib.contextmanager
def _one_line_warnings() -> Iterator[None]:
    """A warning that reaches the user is one line ``symgrad: warning: ...`` on stderr.

    Only the display changes: the warning filters (``-W error``, pytest's) still apply.
    """

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,  # noqa: ARG001 - the warnings API's shape
        lineno: int,  # noqa: ARG001
        file: Any = None,  # noqa: ARG001
        line: str | None = None,  # noqa: ARG001
    ) -> None:
        text = str(message).splitlines()
        _say(f"{category.__name__}: {text[0] if text else ''}", prefix="symgrad: warning: ")

    previous = warnings.showwarning
    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = previous


def _say(message: str, *, prefix: str = "symgrad: error: ") -> None:
    """One line on stderr (control characters escaped); silent when stderr itself is gone."""
    line = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"{prefix}{line}\n")
        sys.stderr.flush()


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _silence_stdout() -> None:
    """After a failed write, point stdout at /dev/null so the exit does not fail again."""
    try:
        fileno = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fileno)
        os.close(devnull)


def _report_error(exc: SymgradError) -> None:
    """One clear line on stderr; the caret snippet of a parse error only on a terminal."""
    lines = str(exc).splitlines()
    _say(lines[0] if lines else type(exc).__name__)
    if isinstance(exc, ParseError) and exc.snippet and sys.stderr.isatty():
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(exc.snippet + "\n")


class _Preload:
    """Modules an ``--isolate`` worker imports while it unpickles the command's arguments, so
    before its memory cap is set: ``--max-memory`` caps what the command computes above the
    libraries' own footprint (SymPy, NumPy, symengine, matplotlib: well over 100 MiB of
    address space), instead of failing an import halfway (an ImportError, not a verdict)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)

    def __reduce__(self) -> tuple[Callable[[tuple[str, ...]], None], tuple[tuple[str, ...]]]:
        return _preload, (self.names,)


def _preload(names: tuple[str, ...]) -> None:
    """Import ``names`` (a missing optional one, such as matplotlib, is left to the command),
    then fill SymPy's NumPy namespace for compiled code (its ``from numpy import *`` loads a
    dozen NumPy submodules) with one constant compiled."""
    for name in names:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    sympy = importlib.import_module("sympy")
    sympy.lambdify([], sympy.Integer(0), "numpy")


def _worker_modules(args: argparse.Namespace) -> list[str]:
    """What an ``--isolate`` worker preloads: all of symgrad, the optional engines and
    evaluators, and matplotlib when the command may draw."""
    # every stage (expr, derive, fd, checks, grids, teaching), then optional extras
    names = ["symgrad.output", "symengine", "numexpr", "flint"]
    drawing = getattr(args, "plot", None) or getattr(args, "format", None) == "html"
    if drawing and args.handler is not _run_report:  # the report draws its own SVG figures
        names += ["matplotlib.figure", "matplotlib.backends.backend_agg"]
    return names


def _run_handler(args: argparse.Namespace) -> tuple[str, int]:
    """The command, as a module-level function a worker process can receive."""
    handler: Handler = args.handler
    return handler(args)


def _mebibytes(text: str) -> int:
    """``--max-memory``: a positive whole number of MiB, at most 1 TiB."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 16 <= value <= 2**20:
        msg = f"--max-memory takes a whole number of MiB from 16 to 1048576 (got {quote(text)})"
        raise argparse.ArgumentTypeError(msg)
    return value


def _max_jobs() -> int:
    return JOBS_PER_CPU * (os.cpu_count() or 1)


def _jobs(text: str) -> int:
    """``--jobs``: a whole number of worker processes, 1 (serial) to ``JOBS_PER_CPU`` per CPU."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= _max_jobs():
        msg = (
            f"expected a whole number of worker processes from 1 to {_max_jobs()} "
            f"({JOBS_PER_CPU} per CPU; got {quote(text)})"
        )
        raise argparse.ArgumentTypeError(msg)
    return value


def _add_jobs(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--jobs",
        type=_jobs,
        default=1,
        metavar="N",
        help="run independent pieces of the work in N worker processes (default 1: serially); "
        "the result is the serial one",
    )


@contextlib.contextmanager
def _executor(args: argparse.Namespace) -> Iterator[Any]:
    """``--jobs N``: a process pool of N workers for the command (None for 1), stopped after.

    The workers are forked, so they share the imported modules (the user's scheme too), and
    ignore SIGINT: Ctrl-C reaches the command alone, which stops the workers (and
    ``--timeout`` likewise) and prints its one line.
    """
    if args.jobs == 1:
        yield None
        return
    if args.isolate:
        msg = "--jobs starts worker processes, which an --isolate worker cannot; drop one of them"
        raise ConfigError(msg)
    import multiprocessing  # noqa: PLC0415 - lazy, see module doc
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

    fork = "fork" in multiprocessing.get_all_start_methods()
    pool = ProcessPoolExecutor(
        args.jobs,
        mp_context=multiprocessing.get_context("fork" if fork else None),
        initializer=signal.signal,
        initargs=(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        yield pool
    except BaseException:
        workers = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for worker in workers:  # a piece may run long: stop it now, not at exit
            worker.terminate()
        raise
    pool.shutdown(wait=True)


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="symgrad",
        description="Symbolic derivatives, compiled to NumPy, cross-checked at high precision.",
    )
    parser.add_argument("--version", action="version", version=GENERATOR)
    parser.add_argument(
        "--timeout",
        type=_timeout,
        metavar="SECONDS",
        help="stop any command that runs longer (exit 2); for untrusted input in pipelines",
    )
    parser.add_argument(
        "--isolate",
        action="store_true",
        help="run the command in a worker process that is killed over --timeout or --max-memory "
        "(exit 2); for untrusted input, e.g. on a teaching server",
    )
    parser.add_argument(
        "--max-memory",
        type=_mebibytes,
        metavar="MIB",
        help="with --isolate: the worker's memory cap above its start, in MiB (default 2048)",
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    for name, summary, handler in (
        ("grad", "gradient of a scalar expression", _run_grad),
        ("hessian", "Hessian (second partials) of an expression", _run_hessian),
        ("jacobian", "Jacobian of several expressions", _run_jacobian),
    ):
        _add_symbolic(commands, name, summary, handler)
    _add_check(commands)
    _add_converge(commands)
    _add_verify_grid(commands)
    _add_verify_solver(commands)  # verify_solver
    _add_gci(commands)
    _add_stencil(commands)
    _add_steps(commands)
    _add_report(commands)
    return parser


def _command(commands: Any, name: str, summary: str, handler: Handler) -> argparse.ArgumentParser:
    sub: argparse.ArgumentParser = commands.add_parser(name, help=summary, description=summary)
    sub.set_defaults(handler=handler)
    return sub


def _add_variables(sub: argparse.ArgumentParser, help_text: str) -> None:
    sub.add_argument("--vars", "--variables", dest="vars", metavar="VARS", help=help_text)


def _add_force(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--force",
        action="store_true",
        help="replace an existing file even when symgrad did not write it",
    )


def _add_plot_and_format(
    sub: argparse.ArgumentParser, plot_help: str, formats: Sequence[str] = RESULT_FORMATS
) -> None:
    """``--plot FILE`` with its ``--force`` and ``--style``, then ``--format``."""
    sub.add_argument("--plot", help=plot_help)
    _add_force(sub)
    _add_style(sub)
    sub.add_argument("--format", choices=formats, default="text")


def _add_style(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--style",
        choices=("paper", "talk"),
        default="paper",
        help="--plot style: paper (12 pt type and more) or talk (18 pt, thick lines: projectors)",
    )


# -- grad, hessian, jacobian ------------------------------------------------------------------


def _add_symbolic(commands: Any, name: str, summary: str, handler: Handler) -> None:
    sub = _command(commands, name, summary, handler)
    if name == "jacobian":
        sub.add_argument("expr", nargs="+", help="expressions, e.g. 'x*y' 'x+y'")
    else:
        sub.add_argument("expr", help="expression, e.g. '2*x**2 + 3*y**2 - 4*z'")
    _add_variables(sub, "variable order, e.g. x,y,z (default: sorted by name)")
    sub.add_argument("--format", choices=("text", "latex", "json"), default="text")
    if name == "grad":
        sub.add_argument(
            "--plot",
            help="also draw it: a gradient field (two variables) or secant and tangent lines "
            "(one variable), as PNG, SVG or PDF",
        )
        sub.add_argument("--domain", help="plot box for two variables (default: -2:2 each)")
        sub.add_argument("--at", help="tangent point for one variable, e.g. x=1 (default 1)")
        _add_force(sub)
        _add_style(sub)


def _run_grad(args: argparse.Namespace) -> tuple[str, int]:
    path = _figure_path(args.plot, args.force) if args.plot is not None else None
    with _collector_paused():
        from symgrad.derive import gradient  # noqa: PLC0415 - lazy, see module doc

        compiled = gradient(args.expr, args.vars)
    if path is not None:
        _plot_gradient(args, [v.name for v in compiled.variables], path)
    return _render_symbolic(compiled, "gradient", args.format), ExitCode.OK


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for a symbolic job, and what it made left alone.

    Importing SymPy and differentiating make hundreds of thousands of objects and next to no
    cyclic garbage (expressions are trees, freed by reference counting when dropped; 3,600
    objects for the gradient of a 300-variable Rosenbrock function), yet the collections their
    allocations trigger walk them again and again: 40% of ``symgrad grad``'s CPU time, read
    from ``gc.callbacks``.  Paused, and the objects then moved to the oldest
    generation without a walk (``gc.freeze()``, ``gc.unfreeze()``), they are walked only by the
    next full collection, which a short command never reaches.  The job is bounded by
    ``Limits.max_work``; a collector that was disabled, or objects someone froze, are left as
    they were.
    """
    if not gc.isenabled() or gc.get_freeze_count():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        gc.enable()


def _plot_gradient(args: argparse.Namespace, names: list[str], path: Path) -> None:
    """The teaching picture of a gradient: a field over contours, or secant and tangent."""
    from symgrad.output import plot_gradient_field, plot_secant_tangent  # noqa: PLC0415

    if len(names) == 2:
        domain = args.domain or ",".join(f"{n}=-2:2" for n in names)
        figure = plot_gradient_field(args.expr, domain, variables=names)
    elif len(names) == 1:
        x0 = args.at.partition("=")[2] if args.at else "1"
        figure = plot_secant_tangent(args.expr, x0, variable=names[0])
    else:
        msg = f"--plot draws one- or two-variable gradients; this one has {len(names)} variables"
        raise ConfigError(msg)
    _save_figure(figure, path, args.force, args.style)


def _run_hessian(args: argparse.Namespace) -> tuple[str, int]:
    from symgrad.derive import hessian  # noqa: PLC0415 - lazy, see module doc

    return _render_symbolic(hessian(args.expr, args.vars), "hessian", args.format), ExitCode.OK


def _run_jacobian(args: argparse.Namespace) -> tuple[str, int]:
    from symgrad.derive import jacobian  # noqa: PLC0415 - lazy, see module doc

    return _render_symbolic(jacobian(args.expr, args.vars), "jacobian", args.format), ExitCode.OK


def _render_symbolic(compiled: Compiled, key: str, fmt: str) -> str:
    """Text, LaTeX or the documented JSON (docs/reference/json.md) for gradient, Hessian and Jacobian."""
    names = [v.name for v in compiled.variables]
    if fmt == "json":
        import json  # noqa: PLC0415 - lazy, see module doc

        return json.dumps({"variables": names, key: compiled.to_strings()}, indent=2)
    if fmt == "latex":
        cells = compiled.to_latex()
        rows = [[c] for c in cells] if key == "gradient" else cells
        body = " \\\\ ".join(" & ".join(row) for row in rows)
        return f"\\begin{{pmatrix}} {body} \\end{{pmatrix}}"
    cells = compiled.to_strings()
    lines = [f"{key} in ({', '.join(names)}):"]
    if key == "gradient":
        lines += [f"  d/d{n} = {c}" for n, c in zip(names, cells, strict=True)]
    else:
        width = max((len(c) for row in cells for c in row), default=0)  # a constant: none
        lines += ["  [ " + "  ".join(c.rjust(width) for c in row) + " ]" for row in cells]
    return "\n".join(lines)


# -- check, converge ---------------------------------------------------------------------------


def _add_check(commands: Any) -> None:
    sub = _command(commands, "check", "cross-check the gradient at a point", _run_check)
    sub.add_argument("expr", help="expression, e.g. 'sin(x+y)*exp(-z**2)'")
    sub.add_argument("--at", required=True, help="the point, e.g. x=0.3,y=0.7 (exact decimals)")
    _add_variables(sub, "variable order (default: sorted by name)")
    sub.add_argument(
        "--kind", default="gradient", help="gradient, hessian, or a partial like 'x x y'"
    )
    sub.add_argument("--dps", type=int, default=50, help="digits of the exact values (default 50)")
    sub.add_argument("--scheme", default="central:4", help="referee stencil, e.g. central:4")
    sub.add_argument("--step", help="finite-difference step (default: chosen from --dps)")
    _add_jobs(sub)
    sub.add_argument(
        "--plot",
        help="also draw the error against step size (float64 and high precision) of forward, "
        "central and complex-step differences for the first variable",
    )
    _add_force(sub)
    _add_style(sub)
    sub.add_argument("--format", choices=RESULT_FORMATS, default="text")


def _run_check(args: argparse.Namespace) -> tuple[str, int]:
    from symgrad.checks import check  # noqa: PLC0415 - lazy, see module doc
    from symgrad.derive import gradient  # noqa: PLC0415

    path = _figure_path(args.plot, args.force) if args.plot is not None else None
    step = _step(args.step)
    with _executor(args) as executor:
        result = check(
            args.expr,
            args.at,
            kind=args.kind,
            dps=args.dps,
            scheme=args.scheme,
            step=step,
            variables=args.vars,
            executor=executor,
        )
    if path is not None:
        from symgrad.output import plot_step_error  # noqa: PLC0415

        first = gradient(args.expr, args.vars).variables[0].name
        figure = plot_step_error(args.expr, args.at, first, variables=args.vars)
        _save_figure(figure, path, args.force, args.style)
    return _render_result(result, args.format)


def _step(text: str | None) -> str | None:
    """``--step``: a finite nonzero number (the text itself is passed on, exactly)."""
    if text is None:
        return None
    import mpmath  # noqa: PLC0415 - lazy, see module doc

    ctx = mpmath.MPContext()
    try:
        value = ctx.mpf(text.strip())
    except (ValueError, TypeError):
        return text  # not a plain number: check() says what it accepts
    except ZeroDivisionError:  # "1/0", "0/0"
        value = ctx.nan
    if not ctx.isfinite(value) or value == 0:
        msg = f"--step must be a finite nonzero number such as 1e-3 (got {quote(text)})"
        raise ConfigError(msg)
    return text


def _add_converge(commands: Any) -> None:
    sub = _command(
        commands, "converge", "observed order of finite-difference schemes", _run_converge
    )
    sub.add_argument("expr", help="expression, e.g. 'sin(x)'")
    sub.add_argument("--at", required=True, help="the point, e.g. x=1")
    sub.add_argument("--wrt", help="the partial, e.g. x or 'x y' (default: the only variable)")
    _add_variables(sub, "variable order (default: sorted by name)")
    sub.add_argument(
        "--schemes",
        default=None,
        help="comma-separated (default: forward:1,central:2,central:4, and complex when f is "
        "real-analytic)",
    )
    sub.add_argument(
        "--step-sizes",
        "--steps",  # the older name, still accepted
        dest="step_sizes",
        default=None,  # symgrad.fd's DEFAULT_STEP_SIZES, imported only when converge runs
        help="the step sizes h, FIRST:LAST:COUNT, geometric (--steps is the older name)",
    )
    sub.add_argument("--dps", type=int, default=60)
    sub.add_argument("--precision", choices=("mp", "float64"), default="mp")
    _add_jobs(sub)
    _add_plot_and_format(sub, "also write a convergence plot (PNG, SVG or PDF)")


def _run_converge(args: argparse.Namespace) -> tuple[str, int]:
    from symgrad.fd import (  # noqa: PLC0415 - lazy, see module doc
        DEFAULT_SCHEMES,
        DEFAULT_STEP_SIZES,
        convergence,
    )

    path = _figure_path(args.plot, args.force) if args.plot is not None else None
    with _executor(args) as executor:
        result = convergence(
            args.expr,
            args.at,
            args.wrt,
            schemes=DEFAULT_SCHEMES
            if args.schemes is None
            else [s for s in args.schemes.split(",") if s.strip()],
            step_sizes=DEFAULT_STEP_SIZES if args.step_sizes is None else args.step_sizes,
            dps=args.dps,
            precision=args.precision,
            variables=args.vars,
            progress=_Progress.for_terminal("converge"),
            executor=executor,
        )
    if path is not None:
        from symgrad.output import plot_convergence  # noqa: PLC0415

        _save_figure(plot_convergence(result), path, args.force, args.style)
    return _render_result(result, args.format)


# -- verify-grid -------------------------------------------------------------------------------


def _add_verify_grid(commands: Any) -> None:
    sub = _command(commands, "verify-grid", "observed order of a grid derivative scheme", _run_grid)
    sub.add_argument("expr", help="manufactured field, e.g. 'sin(x+0.3)*exp(y/2)'")
    sub.add_argument("--domain", required=True, help="box, e.g. x=-1:1,y=-1:1")
    sub.add_argument("--sizes", default="17,33,65,129", help="points per axis on each level")
    sub.add_argument("--scheme", default="numpy", help="numpy, numpy:edge_order=2 or MODULE:FUNC")
    sub.add_argument(
        "--expect-order",
        help="expected order: one number for interior and boundary, or INTERIOR,BOUNDARY",
    )
    sub.add_argument(
        "--boundary-width", type=int, help="layers of boundary points (default: the scheme's)"
    )
    _add_variables(sub, "axis order (default: the domain's order)")
    sub.add_argument("--exact", choices=("float64", "mp"), default="float64")
    # -- verify_operator (begin) --
    sub.add_argument(
        "--operator",
        help="verify another operator with --scheme MODULE:FUNC: laplacian, divergence, curl, "
        "gradient, a partial such as x,x or x,y, or D(u, x, 2) + D(u, y, 2); a vector field as "
        "'f1; f2'",
    )
    sub.add_argument("--periodic", help="with --operator: periodic axes, e.g. x or x,y")
    sub.add_argument(
        "--field-at",
        choices=("nodes", "cells", "faces"),
        default="nodes",
        help="with --operator: where the scheme's input values live (faces: a MAC grid)",
    )
    sub.add_argument(
        "--values-at",
        choices=("nodes", "cells", "faces"),
        default="nodes",
        help="with --operator: where the scheme's output values live",
    )
    # -- verify_operator (end) --
    _add_jobs(sub)
    _add_plot_and_format(sub, "also write an error-vs-spacing plot", STUDY_FORMATS)


def _run_grid(args: argparse.Namespace) -> tuple[str, int]:
    from symgrad.grids import verify_grid  # noqa: PLC0415 - lazy, see module doc

    path = _figure_path(args.plot, args.force) if args.plot is not None else None
    expect_order = _expected_orders(args.expect_order)
    scheme: Any = args.scheme
    if not scheme.startswith("numpy"):
        scheme = _import_scheme(scheme)
    # -- verify_operator (begin) --
    located = args.field_at != "nodes" or args.values_at != "nodes"
    if args.operator is not None or args.periodic is not None or located:
        return _run_operator(args, scheme, expect_order, path)
    # -- verify_operator (end) --
    with _executor(args) as executor:
        result = verify_grid(
            args.expr,
            args.domain,
            _numbers("--sizes", args.sizes, int),
            scheme,
            expect_order=expect_order,
            boundary_width=args.boundary_width,
            variables=args.vars,
            exact=args.exact,
            executor=executor,
        )
    if path is not None:
        from symgrad.output import plot_grid_convergence  # noqa: PLC0415

        _save_figure(plot_grid_convergence(result), path, args.force, args.style)
    return _render_study(result, args.format)


# -- verify_operator (begin) --
def _run_operator(
    args: argparse.Namespace, scheme: Any, expect_order: Any, path: Path | None
) -> tuple[str, int]:
    """``verify-grid --operator``: symgrad.verify_operator with the user's MODULE:FUNC scheme."""
    from symgrad.grids import verify_operator  # noqa: PLC0415 - lazy, see module doc

    if not callable(scheme) or args.operator is None:
        msg = "--operator needs --scheme MODULE:FUNC; --periodic, --field-at and --values-at need --operator"
        raise ConfigError(msg)
    parts = [p.strip() for p in args.expr.split(";")]
    with _executor(args) as executor:
        result = verify_operator(
            scheme,
            parts if len(parts) > 1 else args.expr,
            args.domain,
            args.operator,
            _numbers("--sizes", args.sizes, int),
            expect_order=2 if expect_order is None else expect_order,
            variables=args.vars,
            periodic=[p.strip() for p in (args.periodic or "").split(",") if p.strip()],
            boundary_width=args.boundary_width,
            output=args.values_at,
            field_at=args.field_at,
            exact=args.exact,
            executor=executor,
        )
    if path is not None:
        from symgrad.output import plot_grid_convergence  # noqa: PLC0415

        _save_figure(plot_grid_convergence(result), path, args.force, args.style)
    return _render_study(result, args.format)


# -- verify_operator (end) --


# -- verify_solver (begin) --
def _add_verify_solver(commands: Any) -> None:
    sub = _command(
        commands,
        "verify-solver",
        "observed orders of a whole solver (manufactured solution)",
        _run_solver,
    )
    sub.add_argument("solver", help="MODULE:FUNC, your FUNC(problem) returning the final solution")
    sub.add_argument(
        "--solution", required=True, help="manufactured solution, e.g. 'exp(-t)*sin(x)'"
    )
    sub.add_argument("--operator", required=True, help="L in L(u) = Q, e.g. 'D(u, t) - D(u, x, 2)'")
    sub.add_argument("--expect-order", required=True, help="a number, or space=P,time=Q,boundary=B")
    sub.add_argument("--domain", help="spatial box, e.g. x=0:1 (none for an ODE)")
    sub.add_argument("--time", help="time interval, e.g. t=0:1 (none for a steady problem)")
    sub.add_argument("--sizes", help="points per axis: levels such as 9,17,33,65, or one number")
    sub.add_argument(
        "--time-steps", help="number of time steps: levels such as 8,16,32,64, or one number"
    )
    sub.add_argument("--params", help="values of the other names, e.g. nu=0.5,a=2")
    sub.add_argument("--boundary-width", type=int, default=1, help="layers of boundary points")
    _add_jobs(sub)
    _add_plot_and_format(sub, "also write an error-vs-h plot (PNG, SVG or PDF)", STUDY_FORMATS)


def _run_solver(args: argparse.Namespace) -> tuple[str, int]:
    from symgrad.grids import verify_solver  # noqa: PLC0415 - lazy, see module doc

    path = _figure_path(args.plot, args.force) if args.plot is not None else None
    with _executor(args) as executor:
        result = verify_solver(
            _import_solver(args.solver),
            args.solution,
            operator=args.operator,
            expect_order=_named_numbers("--expect-order", args.expect_order),
            domain=args.domain,
            time=args.time,
            sizes=_levels("--sizes", args.sizes),
            time_steps=_levels("--time-steps", args.time_steps),
            parameters=None
            if args.params is None
            else _named_numbers("--params", args.params, single=False),
            boundary_width=args.boundary_width,
            executor=executor,
        )
    if path is not None:
        from symgrad.output import plot_solver_convergence  # noqa: PLC0415

        _save_figure(plot_solver_convergence(result), path, args.force, args.style)
    return _render_study(result, args.format)


def _levels(option: str, text: str | None) -> int | list[int] | None:
    """``"9,17,33"`` → refined levels; ``"17"`` → one fixed count."""
    if text is None:
        return None
    counts = _numbers(option, text, int)
    return counts[0] if len(counts) == 1 else counts


def _named_numbers(option: str, text: str, *, single: bool = True) -> Any:
    """``"2"`` → 2.0 (when ``single``); ``"space=2,time=1"`` → ``{"space": 2.0, "time": 1.0}``."""
    if single and "=" not in text:
        values = _numbers(option, text, float)
        if len(values) == 1:
            return values[0]
    out: dict[str, float] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        numbers = _numbers(option, value, float)
        if not name.strip() or len(numbers) != 1:
            msg = f"{option} takes NAME=NUMBER pairs separated by commas (got {quote(text)})"
            raise ConfigError(msg)
        out[name.strip()] = numbers[0]
    return out


def _import_solver(spec: str) -> Callable[..., Any]:
    """``MODULE:FUNC`` → the user's solver; an exception it raises becomes one line naming it."""
    func = _user_function(
        spec,
        "verify-solver",
        f"verify-solver: the solver must be MODULE:FUNC (got {quote(spec)})",
        ("verify-solver: ", "write FUNC(problem) in your own MODULE.py"),
    )

    return _GuardedSolver(func, spec)


class _GuardedSolver:
    """The user's solver, named ``spec`` (how verify_solver names it); an exception it raises
    becomes one line naming it; an instance pickles (the function by reference), so
    ``--jobs`` workers can receive it."""

    def __init__(self, func: Callable[..., Any], spec: str) -> None:
        functools.update_wrapper(self, func)
        self.func, self.__qualname__ = func, spec

    def __call__(self, problem: Any) -> Any:
        try:
            return self.func(problem)
        except (Exception, SystemExit) as exc:  # the user's code: one line
            raise ConfigError(_raised(f"the solver {self.__qualname__}", exc)) from exc


# -- verify_solver (end) --


def _expected_orders(text: str | None) -> float | tuple[float, float] | None:
    """``"2"`` → 2.0; ``"4,2"`` → (4.0, 2.0) for interior and boundary."""
    if text is None:
        return None
    numbers = _numbers("--expect-order", text, float)
    if len(numbers) == 1:
        return float(numbers[0])
    if len(numbers) == 2:
        return (float(numbers[0]), float(numbers[1]))
    msg = f"--expect-order takes one number or INTERIOR,BOUNDARY (got {quote(text)})"
    raise ConfigError(msg)


# -- the user's scheme --------------------------------------------------------------------------


def _import_scheme(spec: str) -> Callable[..., Any]:
    """``MODULE:FUNC`` → the user's own scheme function, guarded by :func:`_guarded`."""
    func = _user_function(
        spec,
        "--scheme",
        f"--scheme must be numpy, numpy:edge_order=2 or MODULE:FUNC (got {quote(spec)})",
        (
            f"--scheme {quote(spec)}: ",
            "a scheme is your own function FUNC(field, spacing) in MODULE.py",
        ),
    )
    return _guarded(func, spec)


def _user_function(spec: str, what: str, usage: str, stdlib: tuple[str, str]) -> Any:
    """``MODULE:FUNC`` → the user's own function, for ``what`` (``--scheme``, ``verify-solver``).

    The names must be identifiers (``usage`` is the message otherwise); a standard-library
    module is refused (``stdlib``: the message's start and the advice after the module name);
    the module is imported by :func:`_import_user_module`; a missing name, a class or a builtin
    is refused.
    """
    module_name, colon, func_name = spec.partition(":")
    parts = module_name.split(".")
    if not colon or not all(_identifier(p) for p in [*parts, func_name]):
        raise ConfigError(usage)
    if parts[0] in sys.stdlib_module_names or parts[0] in sys.builtin_module_names:
        start, advice = stdlib
        msg = f"{start}{parts[0]!r} is a standard-library module; {advice}"
        raise ConfigError(msg)
    import inspect  # noqa: PLC0415 - lazy, see module doc

    func = getattr(_import_user_module(module_name, what), func_name, None)
    if not callable(func) or inspect.isbuiltin(func) or inspect.isclass(func):
        msg = f"module {module_name!r} has no function {func_name!r} for {what}"
        raise ConfigError(msg)
    return func


def _identifier(name: str) -> bool:
    return name.isidentifier() and name.isascii() and not keyword.iskeyword(name)


def _import_user_module(name: str, what: str) -> Any:
    """Import ``name`` with the working directory first on ``sys.path``, for this import only.

    Like ``python -m``, a scheme next to the user's files is found; unlike it, the directory is
    removed again, so a stray module there (say ``packaging.py``) never shadows a later import.
    """
    from pathlib import Path  # noqa: PLC0415 - lazy, see module doc

    here = str(Path.cwd())
    sys.path.insert(0, here)
    importlib.invalidate_caches()
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name):
            msg = (
                f"cannot import module {name!r} for {what}: no {name}.py in {here!r} "
                "or on PYTHONPATH"
            )
            raise ConfigError(msg) from exc
        raise ConfigError(_raised(f"importing {name!r} for {what}", exc)) from exc
    except (Exception, SystemExit) as exc:  # the user's code: one line
        raise ConfigError(_raised(f"importing {name!r} for {what}", exc)) from exc
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(here)


def _guarded(func: Callable[..., Any], spec: str) -> Callable[..., Any]:
    """The user's scheme; an exception it raises becomes one ``ConfigError`` line naming it."""
    return _GuardedScheme(func, spec)


class _GuardedScheme:
    """The user's scheme, named ``spec`` (how verify_grid names it in its messages); an
    instance pickles (the function by reference), so ``--jobs`` workers can receive it."""

    def __init__(self, func: Callable[..., Any], spec: str) -> None:
        functools.update_wrapper(self, func)
        self.func, self.__qualname__ = func, spec

    def __call__(self, field: Any, spacing: Any) -> Any:
        try:
            return self.func(field, spacing)
        except (Exception, SystemExit) as exc:  # the user's code: one line
            raise ConfigError(_raised(f"the scheme {self.__qualname__}", exc)) from exc


def _raised(what: str, exc: BaseException) -> str:
    lines = str(exc).splitlines()
    return f"{what} raised {type(exc).__name__}" + (f": {lines[0][:200]}" if lines else "")


# -- steps, report ------------------------------------------------------------------------------


def _add_steps(commands: Any) -> None:
    sub = _command(commands, "steps", "differentiate step by step (for learning)", _run_steps)
    sub.add_argument("expr", help="expression, e.g. 'x**2*sin(x)', or an equation with --implicit")
    sub.add_argument("--wrt", help="variable (default: the only one; x with --implicit)")
    sub.add_argument("--order", type=int, default=1, help="derivative order (default 1)")
    sub.add_argument("--format", choices=("text", "latex", "markdown", "json"), default="text")
    task = sub.add_mutually_exclusive_group()
    task.add_argument(
        "--answer",
        help="check your derivative instead: exit 0 if it is right, 1 if not, 2 for bad input",
    )
    task.add_argument(
        "--implicit",
        metavar="Y",
        help="EXPR is an equation such as 'x**2 + y**2 = 1': find dY/dx (with --wrt, dY/dWRT)",
    )


def _run_steps(args: argparse.Namespace) -> tuple[str, int]:
    from symgrad.teaching import check_answer, implicit_steps, steps  # noqa: PLC0415 - lazy

    if args.implicit is not None:
        result: Any = implicit_steps(args.expr, args.implicit, args.wrt or "x", order=args.order)
    elif args.answer is not None:
        result = check_answer(args.expr, args.answer, args.wrt, order=args.order)
    elif args.expr.count("=") == 1:
        msg = "EXPR is an equation: add --implicit y to find dy/dx by implicit differentiation"
        raise ConfigError(msg)
    else:
        result = steps(args.expr, args.wrt, args.order)
    renderers: dict[str, Callable[[], str]] = {
        "text": result.to_text,
        "latex": result.to_latex,
        "markdown": result.to_markdown,
        "json": result.to_json,
    }
    return renderers[args.format](), ExitCode.OK if result.status.ok else ExitCode.FAILED


def _add_report(commands: Any) -> None:
    sub = _command(commands, "report", "the whole workbench on one expression", _run_report)
    sub.add_argument("expr", help="expression, e.g. 'sin(x+y)*exp(-z**2)'")
    sub.add_argument("--at", required=True, help="the point, e.g. x=0.3,y=0.7,z=0.5")
    _add_variables(sub, "variable order (default: sorted by name)")
    sub.add_argument("--dps", type=int, default=50)
    sub.add_argument(
        "--output", help="write the report here: .html, .md or .json (the suffix sets the format)"
    )
    _add_force(sub)
    sub.add_argument(
        "--format",
        choices=("text", "markdown", "json", "html"),
        help="text (default on stdout), markdown, json or html",
    )


def _run_report(args: argparse.Namespace) -> tuple[str, int]:
    from symgrad._files import check_destination, stamp, write_output  # noqa: PLC0415
    from symgrad.output import report  # noqa: PLC0415 - lazy, see module doc

    path = fmt = None
    if args.output is not None:
        path = check_destination(args.output, option="--output", force=args.force)
        fmt = _document_format(path, args.format)
    result = report(
        args.expr,
        args.at,
        dps=args.dps,
        variables=args.vars,
        progress=_Progress.for_terminal("report"),
    )
    code = ExitCode.OK if result.status.ok else ExitCode.FAILED
    if path is not None and fmt is not None:
        render = {"markdown": result.to_markdown, "json": result.to_json, "html": result.to_html}
        content = stamp(render[fmt](), fmt, GENERATOR)
        write_output(path, content, option="--output", force=args.force)
        return f"{result.status}: {result.reason}\nreport written to {path}", code
    if args.format == "html":
        return result.to_html(), code
    return _render_result(result, args.format or "text")


def _document_format(path: Path, given: str | None) -> str:
    """The report's format for ``--output``: from the suffix, and never against ``--format``."""
    implied = DOCUMENT_SUFFIXES.get(path.suffix.lower())
    shown = quote(str(path))
    if path.suffix and implied is None:
        msg = f"--output {shown}: a report is written as .html, .md or .json"
        raise ConfigError(msg)
    if given is not None and implied is not None and given != implied:
        msg = (
            f"--output {shown} names a {implied} file but --format is {given}; "
            "change the suffix or leave out --format"
        )
        raise ConfigError(msg)
    fmt = given or implied
    if fmt not in ("html", "markdown", "json"):
        msg = (
            f"--output {shown}: end the name in .html, .md or .json "
            "(or give --format html, markdown or json)"
        )
        raise ConfigError(msg)
    return fmt


# -- stencil ------------------------------------------------------------------------------------


def _add_stencil(commands: Any) -> None:
    sub = _command(
        commands, "stencil", "exact finite-difference weights and error term", _run_stencil
    )
    sub.add_argument("--derivative", type=int, required=True, help="derivative order m")
    how = sub.add_mutually_exclusive_group(required=True)
    how.add_argument("--accuracy", type=int, help="accuracy order p")
    how.add_argument("--offsets", help="stencil offsets in steps, e.g. -2,-1,0,1,2 or -1/2,1/2")
    sub.add_argument("--kind", choices=("central", "forward", "backward"), default="central")
    sub.add_argument("--format", choices=("text", "latex", "markdown", "json"), default="text")


def _run_stencil(args: argparse.Namespace) -> tuple[str, int]:
    import json  # noqa: PLC0415 - lazy, see module doc

    from symgrad.fd import Stencil  # noqa: PLC0415 - lazy, see module doc

    if args.offsets is not None:
        stencil = Stencil.from_offsets(args.derivative, args.offsets)
    else:
        stencil = getattr(Stencil, args.kind)(args.derivative, args.accuracy)
    renderers: dict[str, Callable[[], str]] = {
        "text": stencil.to_text,
        "latex": stencil.latex,
        "markdown": stencil.to_markdown,
        "json": lambda: json.dumps(stencil.to_dict(), indent=2),
    }
    return renderers[args.format](), ExitCode.OK


# -- gci ------------------------------------------------------------------------------------------


def _add_gci(commands: Any) -> None:
    sub = _command(commands, "gci", "Grid Convergence Index from three or more solutions", _run_gci)
    sub.add_argument("--values", required=True, help="solutions, e.g. 6.063,5.972,5.863")
    sizes = sub.add_mutually_exclusive_group(required=True)
    sizes.add_argument("--cells", help="cell counts, e.g. 18000,8000,4500 (needs --dim)")
    sizes.add_argument("--spacing", help="representative spacings, e.g. 0.01,0.02,0.04")
    sub.add_argument("--dim", type=int, help="dimension for --cells")
    sub.add_argument("--format", choices=RESULT_FORMATS, default="text")


def _run_gci(args: argparse.Namespace) -> tuple[str, int]:
    from symgrad.grids import gci  # noqa: PLC0415 - lazy, see module doc

    values = _numbers("--values", args.values, float)
    if args.cells is not None:
        if args.dim is None:
            msg = "--cells needs --dim (the number of space dimensions, 1 to 3)"
            raise ConfigError(msg)
        result = gci(values, cells=_numbers("--cells", args.cells, int), dim=args.dim)
    else:
        result = gci(values, spacing=_numbers("--spacing", args.spacing, float))
    return _render_result(result, args.format)


# -- shared helpers -------------------------------------------------------------------------


def _numbers(option: str, text: str, kind: Callable[[str], Any]) -> list[Any]:
    """A comma-separated list of finite numbers, with a message naming the option when it is not."""
    try:
        numbers = [kind(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        msg = f"{option} must be comma-separated numbers (got {quote(text)})"
        raise ConfigError(msg) from exc
    if not all(isinstance(n, int) or math.isfinite(n) for n in numbers):  # an int is finite
        msg = f"{option} must be finite numbers (got {quote(text)})"
        raise ConfigError(msg)
    return numbers


def _figure_path(text: str, force: bool) -> Path:
    """A ``--plot`` file: a writable place (see ``check_destination``) and a figure suffix."""
    from symgrad._files import check_destination  # noqa: PLC0415 - lazy, see module doc

    path = check_destination(text, option="--plot", force=force)
    if path.suffix.lower() not in FIGURE_SUFFIXES:
        msg = f"--plot {quote(text)}: end the name in .png, .svg or .pdf"
        raise ConfigError(msg)
    return path


def _save_figure(figure: Any, path: Path, force: bool, style: str = "paper") -> None:
    """Render ``figure`` in ``style`` with symgrad's generator mark and write it (never over a
    user's file)."""
    from symgrad._files import figure_metadata, write_output  # noqa: PLC0415
    from symgrad.output import style_figure  # noqa: PLC0415 - lazy, see module doc

    figure = style_figure(figure, style)
    fmt = path.suffix.lower().lstrip(".")
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, metadata=figure_metadata(fmt, GENERATOR))
    write_output(path, buffer.getvalue(), option="--plot", force=force)


class _Progress:
    """A one-line progress indicator on stderr, only when it is a terminal and not in CI."""

    def __init__(self, label: str) -> None:
        self.label = label

    @classmethod
    def for_terminal(cls, label: str) -> Callable[..., None] | None:
        if not sys.stderr.isatty() or os.environ.get("CI"):
            return None
        return cls(label)

    def __call__(self, *args: Any) -> None:
        *stage, done, total = args
        what = stage[0] if stage else self.label
        end = "\n" if done >= total else ""
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(f"\r{what}: {done}/{total}{end}")
            sys.stderr.flush()


def _render_study(result: Any, fmt: str) -> tuple[str, int]:
    """A grid or solver study: text and JSON as any result; Markdown and HTML as its report
    page (per-region tables of every norm, diagnostics, GCI, the figure as inline SVG)."""
    if fmt not in ("markdown", "html"):
        return _render_result(result, fmt)
    from symgrad.output import report  # noqa: PLC0415 - lazy, see module doc

    page = report(result)
    text = page.to_html() if fmt == "html" else page.to_markdown()
    return text, ExitCode.OK if result.status.ok else ExitCode.FAILED


def _render_result(result: Any, fmt: str) -> tuple[str, int]:
    """Any result object in the chosen format; exit 0 when its verdict is pass or exact."""
    renderers = {"text": result.to_text, "markdown": result.to_markdown, "json": result.to_json}
    return renderers[fmt](), ExitCode.OK if result.status.ok else ExitCode.FAILED
