"""The ``symgrad`` command's entry point: ``python -m symgrad`` and the installed script.

Ctrl-C must end the command with one line, ``symgrad: interrupted``, and exit status 130 at any
moment: while Python imports SymPy and NumPy (the larger part of a short command's time), while
a command computes or writes its files, and while the process exits.  So :func:`run` takes
charge of SIGINT before anything heavy is imported; this module and the package's ``__init__``
import only the standard library (``import symgrad`` loads its names lazily):

* SIGINT raises ``KeyboardInterrupt`` (Python's default handler, installed again in case an
  embedding program replaced it; a SIGINT the parent ignores, as ``nohup`` does, stays
  ignored).
* Inside a command, :func:`symgrad.cli.main` catches it where the command's clean-up has run
  (an atomic write leaves the old file and no temporary one) and prints the line.
* Anywhere else, in an import or between two statements, it reaches :func:`run`, which prints
  the same line.
* From the moment the line is printed, or the command has ended, SIGINT is ignored: a second
  Ctrl-C cannot print a second message, and the exit (flushing stdout, the clean-up of a worker
  process) is never interrupted halfway.

Only the interpreter's own start-up, before this module runs, is left to Python's default.
"""

import gc
import signal
import sys
from collections.abc import Sequence

INTERRUPTED = 130  # 128 + SIGINT, as shells report it; symgrad.cli.ExitCode.INTERRUPTED


def run(argv: Sequence[str] | None = None) -> int:
    """Run ``symgrad`` with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    The installed ``symgrad`` script and ``python -m symgrad`` call this.  It is
    :func:`symgrad.cli.main` with Ctrl-C handled from before the first heavy import until the
    process exits (see the module docstring).
    """
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        from symgrad.cli import main  # noqa: PLC0415 - after SIGINT is handled, by design

        code = int(main(argv))
        _ignore_interrupts()
    except KeyboardInterrupt:
        _ignore_interrupts()
        _say_interrupted()
        return INTERRUPTED
    # The process ends now: the collector's last full pass over every object SymPy made (15-20%
    # of `symgrad grad`'s CPU time) would only free memory that the exit returns anyway
    # (atexit handlers still run; the objects that exist now are left to the exit).
    gc.freeze()
    return code


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _say_interrupted() -> None:
    """The one line; silent when stderr itself is gone."""
    try:
        sys.stderr.write("symgrad: interrupted\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    raise SystemExit(run())
