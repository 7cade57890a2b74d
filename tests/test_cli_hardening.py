"""The command line under attack: one line and exit 2 for bad input, 130 for Ctrl-C, no file lost.

Each catalogued input once gave a Python traceback (or silently did the wrong thing); each is a
case here.  The oracle is the contract of ``symgrad --help``: every invocation exits 0, 1, 2 or
130, never raises, and on exit 2 prints exactly one line on stderr and nothing on stdout.
Files are judged by their bytes: a user's file keeps its content, symgrad's own files carry
the generator mark, and nothing is computed before the destination is known to be writable.

The fuzz test at the end draws whole command lines; ``SYMGRAD_FUZZ_EXAMPLES=10000`` runs a
large count (the default run keeps a quick one).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import importlib.util
import io
import json
import os
import random
import re
import signal
import stat
import subprocess
import sys
import textwrap
import time
import warnings
import weakref
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgrad
import symgrad.derive
from symgrad.cli import ExitCode, main
from symgrad.output import report as real_report

ROOT = Path(__file__).resolve().parent.parent
FUZZ_EXAMPLES = int(os.environ.get("SYMGRAD_FUZZ_EXAMPLES", "80"))


def run(*argv: str) -> tuple[int, str, str]:
    """``symgrad argv`` in-process: (exit code, stdout, stderr); an exception propagates."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def assert_one_line_error(code: int, out: str, err: str, needle: str = "") -> None:
    """Exit 2, nothing on stdout, exactly one line on stderr (containing ``needle``)."""
    assert code == ExitCode.USAGE == 2, err
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.endswith("\n")
    assert err.startswith("symgrad: error: ")
    assert "Traceback" not in err
    assert needle in err


@pytest.fixture
def fast_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real report with a short step sweep and no plots, so file tests stay quick."""
    fast = functools.partial(real_report, step_sizes="1e-1:1e-4:4", plots=False)
    monkeypatch.setattr("symgrad.output.report", fast)


_PACKAGE = {
    "check": "symgrad.checks",
    "convergence": "symgrad.fd",
    "gradient": "symgrad.derive",
    "report": "symgrad.output",
    "verify_grid": "symgrad.grids",
}


def forbid(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Fail the test if the CLI starts any of these computations."""

    def computed(*args: Any, **kwargs: Any) -> Any:
        pytest.fail("computed before the destination was checked")

    for name in names:  # the CLI imports each from its package when the command runs
        monkeypatch.setattr(f"{_PACKAGE[name]}.{name}", computed)


def test_exit_codes_are_the_documented_numbers() -> None:
    """ExitCode is an IntEnum with the documented values; INPUT is USAGE."""
    assert [int(c) for c in (ExitCode.OK, ExitCode.FAILED, ExitCode.USAGE)] == [0, 1, 2]
    assert ExitCode.INPUT is ExitCode.USAGE
    assert ExitCode.INTERRUPTED == 130


# -- the catalogue: inputs that gave tracebacks ------------------------------------------------


CATALOGUE = [
    (["check", "x**2", "--at", "x=1", "--step", "0"], "--step"),
    (["check", "x**2", "--at", "x=1", "--step", "-0.0e7"], "--step"),
    (["check", "x**2", "--at", "x=1", "--step", "nan"], "nan"),
    (["check", "x**2", "--at", "x=1", "--step", "inf"], "inf"),
    (["check", "x**2", "--at", "x=1", "--step", "0/0"], "--step"),  # found by the fuzzer
    (["check", "x**2", "--at", "x=1", "--step", "1/0"], "--step"),
    (["verify-grid", "x", "--domain", "x=0:1", "--expect-order", "inf"], "--expect-order"),
    (["verify-grid", "x", "--domain", "x=0:1", "--expect-order", "2,nan"], "--expect-order"),
    (["verify-grid", "x", "--domain", "x=0:1", "--expect-order", "1e999"], "--expect-order"),
    (["gci", "--values", "1,nan,2", "--spacing", "1,2,4"], "--values"),
    (["--timeout", "nan", "grad", "x"], "--timeout"),
    (["--timeout", "inf", "grad", "x"], "--timeout"),
    (["--timeout", "1e-9", "grad", "x"], "--timeout"),
    (["--timeout", "0", "grad", "x"], "--timeout"),
    (["--timeout", "-1", "grad", "x"], "got '-1'"),
    (["--timeout", "1e300", "grad", "x"], "--timeout"),
    (["--timeout", "soon", "grad", "x"], "--timeout"),
    (["grad", "(-8)^(1/3)*x"], "(-8)^(1/3)"),
    (["check", "(-8)^(1/3)*x", "--at", "x=1"], "(-8)^(1/3)"),
    (["verify-grid", "x", "--domain", "x=0:1", "--scheme", "os:system"], "standard-library"),
    (["verify-grid", "x", "--domain", "x=0:1", "--scheme", "subprocess:call"], "standard"),
    (["verify-grid", "x", "--domain", "x=0:1", "--scheme", "builtins:exec"], "standard"),
    (["gci", "--values", "1,2,3", "--spacing", "--", "--values", "1,2,3"], "--spacing"),  # fuzz
    (["grad", "x", "--vars=--"], "--vars"),
    (["grad", "x", "--plot", ""], "--plot needs a file name"),
    (["report", "x", "--at", "x=1", "--output", " "], "--output needs a file name"),
    (["stencil", "--derivative", "1", "--offsets", "--"], "--offsets"),
    (["grad", "x", "unexpected\nsecond line"], "unrecognized"),
    (["grad", "x", "--format", "json\x1b[2J"], "invalid choice"),
]


@pytest.mark.parametrize(("argv", "needle"), CATALOGUE, ids=[" ".join(a) for a, _ in CATALOGUE])
def test_catalogue_input_is_one_line(argv: list[str], needle: str) -> None:
    """Each input that once raised a traceback is now one line on stderr and exit 2."""
    assert_one_line_error(*run(*argv), needle)


def test_timeout_accepts_sane_limits_and_clears_the_alarm() -> None:
    """A generous --timeout runs the command and leaves no alarm and no handler behind."""
    handler = signal.getsignal(signal.SIGALRM)
    code, out, err = run("--timeout", "60", "grad", "x**3")
    assert (code, err) == (0, "")
    assert "d/dx = 3*x**2" in out
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is handler


def test_an_expired_timeout_is_one_line() -> None:
    """The shortest allowed limit on a long job: LimitExceeded(timeout) as one line, no leak."""
    argv = ["converge", "sin(x)", "--at", "x=1", "--steps", "1e-1:1e-12:200", "--dps", "900"]
    code, out, err = run("--timeout", "0.01", *argv)
    assert_one_line_error(code, out, err, "--timeout of 0.01 s")
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


# -- expressions that start with a minus sign --------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["grad", "-x^2", "--format", "json"], {"variables": ["x"], "gradient": ["-2*x"]}),
        (["grad", "--format", "json", "-x^2"], {"variables": ["x"], "gradient": ["-2*x"]}),
        (["grad", "--format", "json", "--", "-x^2"], {"variables": ["x"], "gradient": ["-2*x"]}),
        (
            ["grad", "-2*x*y", "--format", "json"],
            {"variables": ["x", "y"], "gradient": ["-2*y", "-2*x"]},
        ),
        (
            ["jacobian", "-x*y", "-x-y", "--format", "json"],
            {"variables": ["x", "y"], "jacobian": [["-y", "-x"], ["-1", "-1"]]},
        ),
        (
            ["hessian", "-x^3", "--format", "json"],
            {"variables": ["x"], "hessian": [["-6*x"]]},
        ),
    ],
    ids=["first", "last", "after_double_dash", "negative_number_first", "jacobian", "hessian"],
)
def test_expression_starting_with_minus(argv: list[str], expected: dict[str, Any]) -> None:
    """`symgrad grad "-x^2"` is an expression, not an unknown option: d/dx(-x^2) = -2x."""
    code, out, err = run(*argv)
    assert (code, err) == (0, "")
    assert json.loads(out) == expected


def test_minus_expression_with_options_taking_negative_values() -> None:
    """A leading-minus expression and negative option values in one command: f = -x^2 at x=-1."""
    code, out, err = run("check", "-x^2", "--at", "x=-1", "--format", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["point"] == {"x": "-1"}
    assert Fraction(data["components"][0]["symbolic"]) == 2  # -2x at x = -1


def test_the_reference_example_with_a_leading_minus_runs() -> None:
    """The cli.md example `symgrad grad "-x^2"` prints what the page shows."""
    text = (ROOT / "docs" / "reference" / "cli.md").read_text(encoding="utf-8")
    shown = re.search(r'^\$ symgrad grad "-x\^2"\n((?:(?!\$ |```).*\n)*)', text, re.MULTILINE)
    assert shown is not None, "cli.md lost its leading-minus example"
    code, out, err = run("grad", "-x^2")
    assert (code, err) == (0, "")
    assert out == shown[1]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["hessian", "0", "--format", "json"], {"variables": [], "hessian": []}),
        (["jacobian", "0", "--format", "json"], {"variables": [], "jacobian": [[]]}),
    ],
)
def test_derivatives_of_a_constant_in_json(argv: list[str], expected: dict[str, Any]) -> None:
    """A constant has no variables: empty matrices (the text form once raised ValueError)."""
    code, out, err = run(*argv)
    assert (code, err) == (0, "")
    assert json.loads(out) == expected


@pytest.mark.parametrize(
    ("command", "text"),
    [("hessian", "hessian in ():\n"), ("jacobian", "jacobian in ():\n  [  ]\n")],
)
def test_derivatives_of_a_constant_as_text(command: str, text: str) -> None:
    """Found by the fuzzer: `symgrad hessian 0` raised ValueError from max() of nothing."""
    assert run(command, "0") == (0, text, "")


def test_variables_is_an_alias_of_vars() -> None:
    """--variables fixes the order exactly like --vars."""
    code, out, _ = run("grad", "x*y^2", "--variables", "y,x", "--format", "json")
    assert code == 0
    assert json.loads(out) == {"variables": ["y", "x"], "gradient": ["2*x*y", "y**2"]}


def test_a_timeout_inside_a_finalizer_still_stops_the_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """The alarm lands in a weakref finalizer, where Python ignores exceptions: it is not
    printed, and the repeated alarm stops the job: exit 2 and the one timeout line (found by
    the CLI fuzzer: report '1/x' --at x=-1 under --timeout on a loaded machine)."""
    finalized = []

    def job(*args: Any, **kwargs: Any) -> Any:
        def spin() -> None:  # runs as a finalizer: the first alarm ends it and is ignored
            finalized.append(True)
            while True:
                pass

        weakref.finalize(Marker(), spin)  # the marker dies at once: spin runs now
        for _ in range(400):  # a repeated alarm must stop the job here (at most 20 s)
            time.sleep(0.05)
        pytest.fail("the job outlived its --timeout")

    monkeypatch.setattr("symgrad.derive.gradient", job)
    code, out, err = run("--timeout", "0.1", "grad", "x")
    assert finalized == [True]
    assert_one_line_error(code, out, err, "--timeout of 0.1 s")


class Marker:
    """An object that a weak reference can watch."""


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "x**2", "--at", "x=1", "--output", "\x00.html"],
        ["grad", "x**2", "--plot", "a\x00.png"],
        ["check", "x**2", "--at", "x=1", "--plot", "\x00.svg"],
    ],
    ids=["output", "grad plot", "check plot"],
)
def test_a_file_name_with_a_nul_character_is_one_line(argv: list[str]) -> None:
    """Found by the catalogue: ValueError 'embedded null byte' escaped from os.stat."""
    assert_one_line_error(*run(*argv), "NUL character")


def test_a_warning_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A warning that reaches the user (filters permitting) is one line, not file:line + source."""
    real_gradient = symgrad.derive.gradient

    def warning_gradient(*args: Any, **kwargs: Any) -> Any:
        warnings.warn("overflow encountered in exp\nsecond line", RuntimeWarning, stacklevel=1)
        return real_gradient(*args, **kwargs)

    monkeypatch.setattr("symgrad.derive.gradient", warning_gradient)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        code, out, err = run("grad", "x**2")
    assert (code, out) == (0, "gradient in (x):\n  d/dx = 2*x\n")
    assert err == "symgrad: warning: RuntimeWarning: overflow encountered in exp\n"


# -- Ctrl-C --------------------------------------------------------------------------------------


def test_ctrl_c_in_a_command_is_one_line_and_130(monkeypatch: pytest.MonkeyPatch) -> None:
    """KeyboardInterrupt inside a command: exit 130 and the single line 'symgrad: interrupted'."""

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("symgrad.derive.gradient", interrupted)
    code, out, err = run("grad", "x**2")
    assert (code, out, err) == (130, "", "symgrad: interrupted\n")


def test_ctrl_c_while_writing_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_report: None
) -> None:
    """Interrupted while the report is being written: 130, old report intact, no temp file."""
    target = tmp_path / "r.md"
    assert run("report", "x**2", "--at", "x=1", "--output", str(target))[0] == 0
    before = target.read_bytes()

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    code, _, err = run("report", "x**3", "--at", "x=1", "--output", str(target))
    assert (code, err) == (130, "symgrad: interrupted\n")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.md"]


def test_sigint_to_the_process_exits_130_with_one_line() -> None:
    """A real SIGINT during a long computation: exit 130, one line, no traceback."""
    script = textwrap.dedent(
        """
        import sys
        import symgrad.cli
        import symgrad.fd

        study = symgrad.fd.convergence

        def announced(*args, **kwargs):  # inside main: the signal cannot land before it
            sys.stderr.write("ready\\n")
            sys.stderr.flush()
            return study(*args, **kwargs)

        symgrad.fd.convergence = announced
        argv = ["converge", "sin(x)", "--at", "x=1", "--steps", "1e-1:1e-12:400", "--dps", "1000"]
        sys.exit(symgrad.cli.main(argv))
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CI": "1"},
    ) as proc:
        assert proc.stderr is not None
        assert proc.stderr.readline() == "ready\n"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate()
    assert (proc.returncode, out, err) == (130, "", "symgrad: interrupted\n")


# -- stdout and stderr that cannot be written ------------------------------------------------


class _FullDisk(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("argv", [["grad", "x**2"], ["--help"], ["--version"], ["grad", "--help"]])
def test_stdout_on_a_full_disk_is_one_line(argv: list[str]) -> None:
    """A write error on stdout: exit 2 and one line naming the cause (argparse hid it for --help)."""
    err = io.StringIO()
    with contextlib.redirect_stdout(_FullDisk()), contextlib.redirect_stderr(err):
        code = main(argv)
    assert code == 2
    assert (
        err.getvalue() == f"symgrad: error: cannot write the output: {os.strerror(errno.ENOSPC)}\n"
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_dev_full_as_stdout_in_a_real_process() -> None:
    """`symgrad grad x > /dev/full`: exit 2 and one line, no complaint when Python exits."""
    with Path("/dev/full").open("w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "symgrad", "grad", "x**2"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert done.returncode == 2
    assert done.stderr == "symgrad: error: cannot write the output: No space left on device\n"


# -- files: never lose the user's ---------------------------------------------------------------


def test_output_naming_a_directory_is_refused_before_computing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--output DIR and --output DIR/ are refused, before the report is computed."""
    forbid(monkeypatch, "report")
    (tmp_path / "d").mkdir()
    for name in (str(tmp_path / "d"), str(tmp_path / "d") + "/", str(tmp_path)):
        assert_one_line_error(*run("report", "x", "--at", "x=1", "--output", name), "director")
    assert list((tmp_path / "d").iterdir()) == []


def test_output_to_a_pipe_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A FIFO (like /dev/null, a device) is never replaced by a regular file, even with --force."""
    forbid(monkeypatch, "report", "convergence")
    fifo = tmp_path / "pipe.html"
    os.mkfifo(fifo)
    for argv in (
        ["report", "x", "--at", "x=1", "--output", str(fifo), "--force"],
        ["converge", "x", "--at", "x=1", "--plot", str(tmp_path / "pipe.html")],
    ):
        assert_one_line_error(*run(*argv), "not a regular file")
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_missing_directory_is_refused_before_computing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing output directory is found before the computation, for reports and plots."""
    forbid(monkeypatch, "report", "convergence", "verify_grid", "check", "gradient")
    missing = tmp_path / "no" / "such"
    for argv in (
        ["report", "x", "--at", "x=1", "--output", str(missing / "r.html")],
        ["converge", "x", "--at", "x=1", "--plot", str(missing / "c.png")],
        ["verify-grid", "x", "--domain", "x=0:1", "--plot", str(missing / "g.svg")],
        ["check", "x", "--at", "x=1", "--plot", str(missing / "v.pdf")],
        ["grad", "x", "--plot", str(missing / "t.png")],
    ):
        assert_one_line_error(*run(*argv), "does not exist")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any directory")
def test_unwritable_directory_is_refused_before_computing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory without write permission is refused before the report is computed."""
    forbid(monkeypatch, "report")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, out, err = run("report", "x", "--at", "x=1", "--output", str(locked / "r.html"))
    finally:
        locked.chmod(0o700)
    assert_one_line_error(code, out, err, "not writable")


def test_directory_the_system_says_is_unwritable_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same refusal as seen by any user (root included): access(2) says no write."""
    forbid(monkeypatch, "report")
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access

    def access(path: Any, mode: int, **kwargs: Any) -> bool:
        if Path(path) == locked and mode & os.W_OK:
            return False
        return real_access(path, mode, **kwargs)

    monkeypatch.setattr(os, "access", access)
    code, out, err = run("report", "x", "--at", "x=1", "--output", str(locked / "r.html"))
    assert_one_line_error(code, out, err, "not writable")


@pytest.mark.parametrize(
    ("name", "fmt", "needle"),
    [
        ("r.pdf", None, ".html, .md or .json"),
        ("r.png", None, ".html, .md or .json"),
        ("r.json", "markdown", "json file but --format is markdown"),
        ("r.md", "html", "markdown file but --format is html"),
        ("r.html", "text", "html file but --format is text"),
        ("r", None, "end the name in"),
        ("r", "text", "end the name in"),
    ],
)
def test_contradictory_suffix_and_format_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, fmt: str | None, needle: str
) -> None:
    """--output r.pdf for a report, or r.json with --format markdown: refused, nothing computed."""
    forbid(monkeypatch, "report")
    argv = ["report", "x", "--at", "x=1", "--output", str(tmp_path / name)]
    assert_one_line_error(*run(*argv, *(["--format", fmt] if fmt else [])), needle)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "fmt", "first_line"),
    [
        ("r.md", None, "<!-- generator: symgrad"),
        ("r.MD", "markdown", "<!-- generator: symgrad"),
        ("r.json", None, "{"),
        ("r", "json", "{"),
        ("r.htm", None, "<!DOCTYPE html>"),
    ],
)
def test_the_suffix_sets_the_format(
    tmp_path: Path, fast_report: None, name: str, fmt: str | None, first_line: str
) -> None:
    """Without --format the suffix decides; a matching --format, or none with no suffix, works."""
    target = tmp_path / name
    argv = ["report", "x**2", "--at", "x=1", "--output", str(target)]
    code, out, err = run(*argv, *(["--format", fmt] if fmt else []))
    assert (code, err) == (0, "")
    assert out.endswith(f"report written to {target}\n")
    assert target.read_text(encoding="utf-8").splitlines()[0].startswith(first_line)


def test_every_written_document_carries_the_generator_mark(
    tmp_path: Path, fast_report: None
) -> None:
    """HTML has the generator meta in its head, Markdown a first-line comment, JSON a first key."""
    version = symgrad.__version__
    for name in ("r.html", "r.md", "r.json"):
        assert (
            run("report", "x*y**2", "--at", "x=0.5,y=2", "--output", str(tmp_path / name))[0] == 0
        )
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    head = page.split("</head>", 1)[0]
    assert f'<meta name="generator" content="symgrad {version}">' in head
    assert page.startswith("<!DOCTYPE html>")
    markdown = (tmp_path / "r.md").read_text(encoding="utf-8").splitlines()
    assert markdown[0] == f"<!-- generator: symgrad {version} -->"
    assert markdown[1] == "# symgrad report: x*y**2"
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert next(iter(data)) == "generator"
    assert data["generator"] == f"symgrad {version}"
    assert data["gradient"] == ["y**2", "2*x*y"]  # exact: d/dx x y^2 = y^2, d/dy = 2xy


def test_a_foreign_file_is_never_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An existing file symgrad did not write is refused, before computing, for every writer."""
    forbid(monkeypatch, "report", "convergence", "verify_grid", "check", "gradient")
    for name, argv in (
        ("notes.html", ["report", "x", "--at", "x=1", "--output"]),
        ("notes.md", ["report", "x", "--at", "x=1", "--output"]),
        ("data.json", ["report", "x", "--at", "x=1", "--output"]),
        ("photo.png", ["converge", "x", "--at", "x=1", "--plot"]),
        ("drawing.svg", ["verify-grid", "x", "--domain", "x=0:1", "--plot"]),
        ("paper.pdf", ["check", "x", "--at", "x=1", "--plot"]),
        ("tangent.png", ["grad", "x", "--plot"]),
    ):
        target = tmp_path / name
        target.write_bytes(b"the user's own work\n")
        assert_one_line_error(*run(*argv, str(target)), "not written by symgrad")
        assert target.read_bytes() == b"the user's own work\n"


def test_json_with_a_foreign_generator_key_is_not_ours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the generator mark counts: a JSON file from another tool is refused."""
    forbid(monkeypatch, "report")
    target = tmp_path / "r.json"
    target.write_text('{"generator": "othertool 2.0", "status": "pass"}')
    assert_one_line_error(*run("report", "x", "--at", "x=1", "--output", str(target)), "--force")


def test_force_replaces_a_foreign_file(tmp_path: Path, fast_report: None) -> None:
    """--force replaces the user's file with a marked report."""
    target = tmp_path / "r.md"
    target.write_text("mine\n")
    code, _, err = run("report", "x**2", "--at", "x=1", "--output", str(target), "--force")
    assert (code, err) == (0, "")
    assert target.read_text(encoding="utf-8").startswith("<!-- generator: symgrad")


def test_symgrads_own_file_is_replaced_without_force(tmp_path: Path, fast_report: None) -> None:
    """A second run replaces the report of the first: it carries symgrad's mark."""
    target = tmp_path / "r.json"
    assert run("report", "x**2", "--at", "x=1", "--output", str(target))[0] == 0
    assert json.loads(target.read_text())["gradient"] == ["2*x"]
    assert run("report", "x**3", "--at", "x=1", "--output", str(target))[0] == 0
    assert json.loads(target.read_text())["gradient"] == ["3*x**2"]
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_figures_carry_the_mark_and_are_replaced(tmp_path: Path, suffix: str) -> None:
    """A --plot figure is marked in its metadata, so a second run may replace it; a user's not."""
    target = tmp_path / f"tangent{suffix}"
    for _ in range(2):
        code, _, err = run("grad", "x**3", "--plot", str(target))
        assert (code, err) == (0, "")
    data = target.read_bytes()
    assert data[:4] in (b"\x89PNG", b"<?xm", b"%PDF")
    assert b"symgrad " + symgrad.__version__.encode() in data
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_a_figure_saved_from_python_is_recognised(tmp_path: Path) -> None:
    """symgrad.output.save_figure marks its files too: the command line may replace them."""
    from symgrad.output import plot_secant_tangent, save_figure

    target = tmp_path / "t.svg"
    save_figure(plot_secant_tangent("x**2", 1), target)
    code, _, err = run("grad", "x**2", "--plot", str(target))
    assert (code, err) == (0, "")


def test_plot_with_a_wrong_suffix_is_refused_before_computing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--plot r.html (or no suffix) is refused before the convergence study runs."""
    forbid(monkeypatch, "convergence")
    for name in ("r.html", "r", "r.jpeg"):
        argv = ["converge", "sin(x)", "--at", "x=1", "--plot", str(tmp_path / name)]
        assert_one_line_error(*run(*argv), ".png, .svg or .pdf")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_while_writing_keeps_the_old_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_report: None
) -> None:
    """ENOSPC while writing the report: exit 2, one line, old report intact, no temporary file."""
    target = tmp_path / "r.html"
    assert run("report", "x**2", "--at", "x=1", "--output", str(target))[0] == 0
    before = target.read_bytes()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    code, out, err = run("report", "x**3", "--at", "x=1", "--output", str(target))
    assert_one_line_error(code, out, err, os.strerror(errno.ENOSPC))
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_a_new_file_is_never_linked_over_one_that_appeared(tmp_path: Path) -> None:
    """write_atomic(overwrite=False) refuses a file created in the meantime and cleans up."""
    from symgrad._files import write_atomic

    target = tmp_path / "r.md"
    target.write_text("appeared meanwhile")
    with pytest.raises(FileExistsError):
        write_atomic(target, "report", overwrite=False)
    assert target.read_text() == "appeared meanwhile"
    assert [p.name for p in tmp_path.iterdir()] == ["r.md"]
    write_atomic(tmp_path / "new.md", "report", overwrite=False)
    assert (tmp_path / "new.md").read_text() == "report"


# -- the user's scheme ------------------------------------------------------------------------


SCHEMES = """\
import numpy as np

def central(f, spacing):
    return np.gradient(f, *spacing, edge_order=2)

def raising(f, spacing):
    raise ZeroDivisionError("the user's bug")

def exiting(f, spacing):
    raise SystemExit(3)

NOT_A_FUNCTION = 3
"""


@pytest.fixture
def scheme_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory with the user's schemes and a stray module; sys.path restored after."""
    (tmp_path / "userschemes.py").write_text(SCHEMES)
    (tmp_path / "stray_module_for_symgrad_tests.py").write_text("raise RuntimeError('ran')\n")
    (tmp_path / "broken_scheme_module.py").write_text("def f(:\n")
    (tmp_path / "raising_scheme_module.py").write_text("raise ValueError('at import')\n")
    monkeypatch.chdir(tmp_path)
    saved = list(sys.path)
    yield tmp_path
    sys.path[:] = saved
    for name in ("userschemes", "broken_scheme_module", "raising_scheme_module"):
        sys.modules.pop(name, None)


GRID = ["verify-grid", "sin(x+0.3)", "--domain", "x=0:1", "--sizes", "17,33,65"]


def test_scheme_from_the_working_directory_leaves_sys_path_alone(scheme_dir: Path) -> None:
    """The user's module is found in the working directory, and sys.path is as before."""
    before = list(sys.path)
    code, out, err = run(*GRID, "--scheme", "userschemes:central", "--format", "json")
    assert (code, err) == (0, "")
    assert json.loads(out)["status"] == "pass"
    assert sys.path == before
    assert importlib.util.find_spec("stray_module_for_symgrad_tests") is None


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        (
            "userschemes:raising",
            "the scheme userschemes:raising raised ZeroDivisionError: the user's bug",
        ),
        ("userschemes:exiting", "the scheme userschemes:exiting raised SystemExit: 3"),
        ("userschemes:NOT_A_FUNCTION", "no function 'NOT_A_FUNCTION'"),
        ("userschemes:missing", "no function 'missing'"),
        ("broken_scheme_module:f", "raised SyntaxError"),
        ("raising_scheme_module:f", "raised ValueError: at import"),
        ("no_such_module_here:f", "no no_such_module_here.py"),
        ("userschemes", "MODULE:FUNC"),
        ("userschemes:", "MODULE:FUNC"),
        (":central", "MODULE:FUNC"),
        ("user-schemes:central", "MODULE:FUNC"),
        ("userschemes:central:x", "MODULE:FUNC"),
        ("../userschemes:central", "MODULE:FUNC"),
        ("os.path:join", "standard-library"),
        ("shutil:rmtree", "standard-library"),
    ],
)
def test_bad_or_raising_scheme_is_one_line(scheme_dir: Path, spec: str, needle: str) -> None:
    """A scheme that raises, cannot be imported or is not the user's: one line naming it."""
    before = list(sys.path)
    assert_one_line_error(*run(*GRID, "--scheme", spec), needle)
    assert sys.path == before


# -- fuzzing the whole command line ---------------------------------------------------------------


EXPRESSIONS = [
    "x", "-x^2", "x**2*y", "sin(x)*exp(-y^2)", "1/x", "abs(x)", "log(x)", "sqrt(-x)",
    "(-8)^(1/3)*x", "x^x", "exp(1000*x)", "x**10**10", "sin(", "__import__('os')", "e*x",
    "pi*y", "0", "x-x", "1e400*x", "x/0", "atan2(y,x)", "min(x,y)", "", " ", "x y", "-",
    "x**3", "cos(x)", "x*y+y*z", "exp(x)", "x**2-y**2", "sin(x+0.3)*exp(y/2)", "tanh(x)",
    "x**2 + y**2 = 1", "x*y = 1", "y = x", "x = = 1", "sin(x*y) = x", "x**2*sin(x)",
]  # fmt: skip
HOSTILE = [
    "", " ", "-", "--", "0", "-0", "1", "-1", "2", "3", "nan", "inf", "-inf", "1e400", "1e-400",
    "1e-9", "1/0", "0/0", "x", "x=", "=1", "x=1", "x=0", "x=-1", "x=nan", "x=1e400", "x=0.5,y=2",
    "x=-1:1", "x=1:1", "x=1:0", "x=-1:1,y=0:2", ",", "1,2", "1,2,3", "-2,-1,0,1,2", "17,33",
    "3,3", "5,9,17", "a:b", "os:system", "numpy", "numpy:edge_order=2", "numpy:edge_order=9",
    "central:4", "forward:0", "complex", "richardson", "central:99", "\x00", "\n", "é", "x\ny",
    "1e-1:1e-4:4", "1e-1:1e-12:0", "1:1:1", "99999999999999999999", "-99999999", "x y", "%s",
    "{}", "'", '"', "$(id)", "text", "json", "markdown", "latex", "html", "mp", "float64",
    "gradient", "hessian", "x x", "15", "30", "1000", "100000",
]  # fmt: skip
SANE: dict[str, list[str]] = {
    "--at": ["x=1", "x=0.5,y=2", "x=0", "x=-1", "x=1e-8", "x=3,y=-2,z=0.5", "x=1,y=1"],
    "--domain": ["x=0:1", "x=-1:1,y=0:2", "x=0:1e-10", "x=-2:2,y=-2:2", "x=0:pi"],
    "--vars": ["x", "x,y", "y,x", "z", "x,y,z", "x,x"],
    "--format": ["text", "json", "markdown", "latex", "html"],
    "--kind": ["gradient", "hessian", "x x", "x y", "y"],
    "--dps": ["15", "20", "30", "14", "1001", "0"],
    "--scheme": ["central:4", "forward:1", "complex", "backward:3", "numpy",
                 "numpy:edge_order=2", "mod:f", "os:system"],
    "--step": ["1e-3", "1e-20", "1/3", "-1e-3", "1e-300", "1e300"],
    "--wrt": ["x", "y", "x y", "z", "x x"],
    "--schemes": ["forward:1,central:2", "complex", "richardson", "central:4", "forward:7"],
    "--steps": ["1e-1:1e-3:3", "1e-2:1e-8:5", "1e-1:1e-30:3", "1:1e-1:2"],
    "--precision": ["mp", "float64"],
    "--sizes": ["9,17", "5,9,17", "17,33", "3,5", "9,9"],
    "--expect-order": ["1", "2", "4,2", "0", "2,0", "-1"],
    "--boundary-width": ["0", "1", "2", "5", "-1"],
    "--exact": ["float64", "mp"],
    "--values": ["6.063,5.972,5.863", "1,1,1", "1,2,3", "1,2", "1e308,-1e308,1e308"],
    "--cells": ["18000,8000,4500", "1,2,3", "0,0,0"],
    "--spacing": ["0.01,0.02,0.04", "1,1,1", "0.04,0.02,0.01", "0,1,2"],
    "--dim": ["1", "2", "3", "0", "4"],
    "--derivative": ["0", "1", "2", "3", "-1", "20"],
    "--accuracy": ["1", "2", "4", "0", "3", "30"],
    "--offsets": ["-1,0,1", "-1/2,1/2", "0,0", "1", "-2,-1,0,1,2"],
    "--order": ["1", "2", "8", "9", "0"],
    "--answer": ["2*x", "2*x*sin(x) + x**2*cos(x)", "cos(x)", "2x", "x**2", "0", "1/x",
                 "2*x = 1", "-sin(x)", "y", "exp(x)"],
    "--implicit": ["y", "x", "z", "y0", "pi"],
    "--style": ["paper", "talk", "poster"],
    "--max-memory": ["64", "16", "8", "4096"],
}  # fmt: skip
SANE["--variables"] = SANE["--vars"]
FORMATS = {
    "grad": ["text", "latex", "json"],
    "hessian": ["text", "latex", "json"],
    "jacobian": ["text", "latex", "json"],
    "stencil": ["text", "latex", "markdown", "json"],
    "steps": ["text", "latex", "markdown", "json"],
    "report": ["text", "markdown", "json", "html"],
}
EXPRESSION_COUNT = {"gci": 0, "stencil": 0, "jacobian": 2}  # the others: 1
FILES = ["f.png", "f.svg", "f.pdf", "f.html", "f.md", "f.json", "f.txt", "f", "d", "d/", ".",
         "missing/f.png", "user.png", "user.html", "pipe.png"]  # fmt: skip
OPTIONS: dict[str, list[str]] = {
    "grad": ["--vars", "--variables", "--format", "--plot", "--domain", "--at", "--force",
             "--style"],
    "hessian": ["--vars", "--format"],
    "jacobian": ["--vars", "--format"],
    "check": ["--at", "--vars", "--kind", "--dps", "--scheme", "--step", "--plot", "--format",
              "--style"],
    "converge": ["--at", "--wrt", "--schemes", "--steps", "--step-sizes", "--dps",
                 "--precision", "--plot", "--style"],
    "verify-grid": ["--domain", "--sizes", "--scheme", "--expect-order", "--boundary-width",
                    "--exact", "--plot", "--format", "--vars", "--style"],
    "gci": ["--values", "--cells", "--spacing", "--dim", "--format"],
    "stencil": ["--derivative", "--accuracy", "--offsets", "--kind", "--format"],
    "steps": ["--wrt", "--order", "--format", "--answer", "--implicit", "--answer",
              "--implicit"],
    "report": ["--at", "--vars", "--dps", "--output", "--format", "--force"],
}  # fmt: skip
REQUIRED = {
    "check": ["--at"],
    "converge": ["--at"],
    "report": ["--at"],
    "verify-grid": ["--domain"],
    "gci": ["--values", "--spacing"],
    "stencil": ["--derivative", "--accuracy"],
}
WEIGHTS = {"report": 1, "verify-grid": 2, "converge": 2}  # the others: 3
FLAGS = {"--force"}
FILE_OPTIONS = {"--plot", "--output"}
SANE["--step-sizes"] = SANE["--steps"]
CHEAP = {"--steps": "1e-1:1e-3:3", "--sizes": "9,17", "--dps": "20"}


def random_argv(rng: random.Random) -> list[str]:
    """A command line: a real command, mostly its own options, values sane or hostile."""
    commands = sorted(OPTIONS)
    command = rng.choices(commands, [WEIGHTS.get(c, 3) for c in commands])[0]
    argv = ["--timeout", "20"] if rng.random() < 0.9 else []
    if rng.random() < 0.02:  # a worker process: slower, so rarely
        argv += ["--isolate", "--max-memory", rng.choice(SANE["--max-memory"])]
    argv.append(command)
    count = EXPRESSION_COUNT.get(command, 1) if rng.random() < 0.85 else rng.randrange(3)
    words: list[list[str]] = [[rng.choice(EXPRESSIONS)] for _ in range(count)]
    chosen = [o for o in REQUIRED.get(command, []) if rng.random() < 0.9]
    for _ in range(rng.randrange(4)):
        stray = rng.random() < 0.04
        chosen.append(rng.choice(["--bogus", "-h", "--timeout"] if stray else OPTIONS[command]))
    for option in chosen:
        if option in FLAGS or option == "-h" or rng.random() < 0.02:
            words.append([option])
        elif option in FILE_OPTIONS:
            words.append([option, rng.choice(FILES)])
        elif option in SANE and rng.random() < 0.85:
            sane = (
                FORMATS.get(command, ["text", "markdown", "json"]) if option == "--format" else []
            )
            words.append([option, rng.choice(sane or SANE[option])])
        else:
            words.append([option, rng.choice(HOSTILE)])
    cheap = [[option, value] for option, value in CHEAP.items() if option in OPTIONS[command]]
    rng.shuffle(words)
    for word in cheap + words:  # a drawn value comes later and wins
        argv += word
    return argv


def fuzz_workspace(path: Path) -> None:
    """The files the fuzzer's file names point at: a directory, a user's files, a pipe."""
    (path / "d").mkdir(exist_ok=True)
    (path / "user.png").write_bytes(b"the user's picture")
    (path / "user.html").write_text("the user's page")
    if not (path / "pipe.png").exists():
        os.mkfifo(path / "pipe.png")


def judge(argv: list[str]) -> str | None:
    """None when ``main(argv)`` keeps the contract, else what went wrong."""
    try:
        code, out, err = run(*argv)
    except BaseException as exc:  # noqa: BLE001 - any escape is the finding
        return f"raised {type(exc).__name__}: {str(exc)[:200]}"
    if code not in (0, 1, 2):
        return f"exit code {code}"
    if code == 2 and (out or err.count("\n") != 1 or not err.startswith("symgrad: error: ")):
        return f"exit 2 with stdout {out[:80]!r} and stderr {err[:300]!r}"
    if "Traceback" in err:
        return f"traceback on stderr: {err[:300]!r}"
    return None


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rng=st.randoms(use_true_random=False))
def test_fuzz_the_command_line(
    rng: random.Random, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any command line exits 0, 1 or 2, never raises, and exit 2 is exactly one line."""
    monkeypatch.chdir(tmp_path)
    fuzz_workspace(tmp_path)
    argv = random_argv(rng)
    assert judge(argv) is None, argv


@pytest.mark.parametrize("mib", ["16", "64"])
def test_a_small_memory_cap_leaves_the_libraries_loaded(
    mib: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--max-memory caps the command's own work: SymPy, NumPy and symengine are loaded before
    the cap (a 64 MiB cap made compiling a gradient fail on an import, with a traceback)."""
    assert main(["--isolate", "--max-memory", mib, "grad", "x**2+y"]) == 0
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("gradient in (x, y):\n  d/dx = 2*x\n  d/dy = 1\n", "")


def test_isolate_runs_the_command_in_a_worker(capsys: pytest.CaptureFixture[str]) -> None:
    """--isolate gives the same output as the command run in-process."""
    assert main(["--isolate", "grad", "x*y^2"]) == 0
    isolated = capsys.readouterr().out
    assert main(["grad", "x*y^2"]) == 0
    assert isolated == capsys.readouterr().out
    assert "d/dy = 2*x*y" in isolated


def test_isolate_stops_a_job_over_its_memory_cap(capsys: pytest.CaptureFixture[str]) -> None:
    """A 1025 x 1025 grid needs about 70 MB of float64 arrays: over a 16 MiB cap the worker is
    stopped, and the command ends with exit 2 and one line naming the memory limit."""
    argv = ["--isolate", "--max-memory", "16", "verify-grid", "sin(x)*cos(y)"]
    code = main([*argv, "--domain", "x=0:1,y=0:1", "--sizes", "5,9,1025"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "max_memory" in err


@pytest.mark.parametrize("value", ["8", "0", "-5", "1.5", "lots"])
def test_max_memory_takes_whole_mebibytes_from_16(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--isolate", "--max-memory", value, "grad", "x"]) == 2
    assert "--max-memory" in capsys.readouterr().err
