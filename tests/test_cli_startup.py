"""Start-up and Ctrl-C of the ``symgrad`` command, judged in fresh interpreters.

What a command imported is read from ``python -X importtime`` (every import, by name, on
stderr), never from a clock.  Ctrl-C is a real SIGINT that the process sends itself at a chosen
moment: an import hook signals when a given module is about to be imported, so the test knows
exactly where the signal landed without sleeping.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

import symgrad

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("sympy", "numpy", "mpmath", "matplotlib", "scipy", "flint")
ENV = {**os.environ, "CI": "1"}


def importtime(*argv: str) -> tuple[int, str, list[str], set[str]]:
    """``python -X importtime -m symgrad argv``: code, stdout, other stderr lines, modules."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "symgrad", *argv],
        capture_output=True,
        text=True,
        check=False,
        env=ENV,
        cwd=ROOT,
    )
    modules, lines = set(), []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:"):
            modules.add(line.rpartition("|")[2].strip())
        else:
            lines.append(line)
    return proc.returncode, proc.stdout, lines, modules


def heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY}


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["--help"], 0, "usage: symgrad"),
        (["--version"], 0, f"symgrad {symgrad.__version__}"),
        (["grad", "--help"], 0, "usage: symgrad grad"),
        (["converge", "--help"], 0, "--step-sizes"),
        ([], 2, "required"),
        (["grad"], 2, "the following arguments are required: expr"),
        (["nonsense"], 2, "invalid choice"),
        (["--timeout", "nan", "grad", "x"], 2, "--timeout"),
        (["check", "x", "--at", "x=1", "--format", "yaml"], 2, "invalid choice"),
    ],
)
def test_help_version_and_usage_errors_import_neither_sympy_nor_numpy(
    argv: list[str], code: int, needle: str
) -> None:
    """The answer is printed, and no computational library was imported to print it."""
    returncode, out, err, modules = importtime(*argv)
    assert returncode == code
    assert needle in (out if code == 0 else "\n".join(err))
    if code == 2:
        assert out == ""
        assert len(err) == 1
        assert err[0].startswith("symgrad: error: ")
    assert "symgrad.cli" in modules  # the command line really ran
    assert heavy(modules) == set()


def test_a_command_does_import_what_it_needs() -> None:
    """The control: real commands import SymPy, and NumPy where they compute numbers (so the
    check above can fail; what grad loads is tests/test_cli_startup_grad.py's subject)."""
    returncode, out, _, modules = importtime("grad", "x**2")
    assert (returncode, out) == (0, "gradient in (x):\n  d/dx = 2*x\n")
    assert "sympy" in heavy(modules)
    returncode, out, _, modules = importtime("check", "x**2", "--at", "x=1")
    assert (returncode, out.split("\n")[1][:5]) == (0, "pass:")
    assert {"sympy", "numpy"} <= heavy(modules)


# Optional extras a symbolic command never needs: each costs 70-160 ms of import, and SymPy
# (~0.33 s, unavoidable for differentiation) already takes most of grad's 0.5 s budget.
# (symengine is not listed: derive's symbolic="auto" differentiates with it when installed.)
EXTRAS = ("matplotlib", "PIL", "scipy", "dask", "numexpr", "pandas")


@pytest.mark.parametrize(
    "argv",
    [
        ["grad", "x**2+y"],
        ["grad", "sin(x)*exp(y)", "--format", "latex"],
        ["hessian", "x**3*y", "--format", "json"],
        ["jacobian", "x*y", "x+y"],
    ],
)
def test_symbolic_commands_import_no_optional_extra(argv: list[str]) -> None:
    """grad, hessian and jacobian load SymPy (and NumPy) but none of the optional extras."""
    returncode, out, err, modules = importtime(*argv)
    assert (returncode, err) == (0, [])
    assert out.startswith(("gradient in", "\\begin{pmatrix}", "{", "jacobian in"))
    assert "sympy" in modules  # the control: the command really differentiated
    loaded = {m for m in modules if m.split(".")[0] in EXTRAS}
    assert loaded == set(), f"{argv[0]} imported {sorted(loaded)}"


def test_the_extras_check_can_fail(tmp_path: Path) -> None:
    """The control: ``grad --plot`` does import matplotlib, and the same set catches it."""
    returncode, _, _, modules = importtime("grad", "x**2", "--plot", str(tmp_path / "g.png"))
    assert returncode == 0
    assert "matplotlib" in {m.split(".")[0] for m in modules if m.split(".")[0] in EXTRAS}


def test_import_symgrad_is_light_and_every_name_resolves() -> None:
    """``import symgrad`` loads no heavy library; each public name is its subpackage's object."""
    script = "import sys, symgrad; print(sorted(m for m in sys.modules if m.startswith('sym')))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['symgrad', 'symgrad._lazy_names']"  # its loader: importlib only
    origin = {name: module for module, names in symgrad._SUBMODULES.items() for name in names}
    for name in symgrad.__all__:
        assert getattr(symgrad, name) is getattr(sys.modules[origin[name]], name)
        assert name in dir(symgrad)
    assert set(origin) == set(symgrad.__all__)
    with pytest.raises(AttributeError, match="no attribute 'gradeint'"):
        symgrad.gradeint  # noqa: B018 - the attribute access is the test


def test_the_installed_script_is_the_interrupt_safe_entry_point() -> None:
    """``[project.scripts]`` names ``symgrad.__main__:run``, as ``python -m symgrad`` uses."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"] == {"symgrad": "symgrad.__main__:run"}


# -- Ctrl-C at chosen moments -----------------------------------------------------------------

INTERRUPTER = textwrap.dedent(
    """
    import atexit, os, signal, sys

    target, argv = sys.argv[1], sys.argv[2:]

    def interrupt():
        os.kill(os.getpid(), signal.SIGINT)

    class Interrupter:  # sends SIGINT the moment `target` is about to be imported
        def find_spec(self, name, path=None, module=None):
            if name == target:
                sys.meta_path.remove(self)
                interrupt()
            return None

    if target == "exit":
        atexit.register(interrupt)
    else:
        sys.meta_path.insert(0, Interrupter())
    from symgrad.__main__ import run  # what the installed script does
    sys.exit(run(argv))
    """
)


def interrupted_at(
    target: str, *argv: str, ignored: bool = False
) -> subprocess.CompletedProcess[str]:
    def ignore_sigint() -> None:  # as nohup or a background job in a script does
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    return subprocess.run(
        [sys.executable, "-c", INTERRUPTER, target, *argv],
        capture_output=True,
        text=True,
        check=False,
        env=ENV,
        cwd=ROOT,
        preexec_fn=ignore_sigint if ignored else None,
    )


@pytest.mark.parametrize(
    ("target", "argv"),
    [
        ("symgrad.cli", ["grad", "x**2"]),  # the command line's own import
        ("argparse", ["--help"]),
        ("sympy", ["grad", "x**2"]),  # deep inside the heavy imports
        ("numpy", ["grad", "x**2"]),
        ("symgrad.derive", ["hessian", "x*y"]),
        ("mpmath", ["check", "x**2", "--at", "x=1"]),
        ("symgrad.teaching", ["steps", "x**2*sin(x)"]),
        ("sympy.printing.latex", ["steps", "x**2", "--format", "latex"]),
    ],
)
def test_ctrl_c_during_any_import_is_one_line_and_130(target: str, argv: list[str]) -> None:
    proc = interrupted_at(target, *argv)
    assert (proc.returncode, proc.stdout, proc.stderr) == (130, "", "symgrad: interrupted\n")


def test_ctrl_c_while_the_process_exits_changes_nothing() -> None:
    """After the command has ended, a SIGINT (here from an exit handler) is ignored."""
    proc = interrupted_at("exit", "grad", "x**2")
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        0,
        "gradient in (x):\n  d/dx = 2*x\n",
        "",
    )


def test_an_ignored_sigint_stays_ignored() -> None:
    """Started with SIGINT ignored (nohup), the command runs to its end despite the signal."""
    proc = interrupted_at("sympy", "grad", "x**2", ignored=True)
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        0,
        "gradient in (x):\n  d/dx = 2*x\n",
        "",
    )
