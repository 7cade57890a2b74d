"""What ``symgrad grad`` and a printed gradient load, judged in fresh interpreters.

Making a gradient and printing its expressions needs SymPy (the parser builds SymPy trees) and
nothing that generates or runs code: not NumPy, not the code printers, not ball arithmetic, not
the count caps of evaluation, and no optional extra.  Each test runs the work in a fresh
interpreter and reads ``sys.modules`` when it has ended; nothing is timed.

symengine (the ``fast`` extra) imports NumPy itself when it is imported, so two launchers
show that symgrad does not: one hides NumPy altogether (an ``import numpy`` anywhere would
fail, and the command must still print the same bytes), one hides symengine (as when the extra
is not installed; NumPy is importable, and nothing imports it).  The expected texts are the
derivatives worked by hand, as SymPy prints them.

The last tests count the garbage collector's work during grad's symbolic job, in process: none
while it runs, and the collector left as it was found.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import symgrad.derive
from symgrad.cli import main

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "CI": "1"}

#: Loaded only to generate, run or certify code, or by commands other than the symbolic ones.
NOT_FOR_PRINTING = (
    "numpy",
    "matplotlib",
    "scipy",
    "numexpr",
    "dask",
    "symgrad.derive._printing",
    "symgrad.derive._exact",
    "symgrad.derive._balls",
    "symgrad.derive._scipy",
    "symgrad._limits",
    "symgrad.fd",
    "symgrad.checks",
    "symgrad.output",
)

LAUNCHER = textwrap.dedent(
    """
    import contextlib, io, json, sys

    report, hidden, mode, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    hidden = {name for name in hidden.split(",") if name}

    class Hide:  # as if these packages were not installed
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in hidden:
                raise ImportError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, Hide())
    outputs = []
    if mode == "cli":  # each argument a JSON list: one command line, run in turn
        from symgrad.__main__ import run  # what the installed script does

        for argv in map(json.loads, args):
            with contextlib.redirect_stdout(io.StringIO()) as out:
                code = run(argv)
            outputs.append([code, out.getvalue()])
    else:  # the library: make a gradient and print it in every form
        import symgrad.derive

        g = symgrad.derive.gradient(args[0])
        outputs += [g.to_strings(), repr(g), str(g), g.to_latex()]
        if mode == "call":  # the control: a float64 call generates and runs NumPy code
            outputs.append(g(*[0.5] * len(g.variables)).tolist())
        if mode == "at":  # the control: an exact value runs ball arithmetic
            outputs.append([str(v) for v in g.at([0.5] * len(g.variables), dps=20)])
    with open(report, "w") as file:
        json.dump({"outputs": outputs, "modules": sorted(sys.modules)}, file)
    """
)


def launch(folder: Path, hidden: str, mode: str, *args: str) -> tuple[list[Any], set[str]]:
    """Run the launcher; return what it printed (per command) and the modules loaded at the end."""
    report = folder / f"report-{hidden}-{mode}.json"
    proc = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(report), hidden, mode, *args],
        capture_output=True,
        text=True,
        check=False,
        env=ENV,
        cwd=ROOT,
    )
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
    result = json.loads(report.read_text(encoding="utf-8"))
    return result["outputs"], set(result["modules"])


def commands(folder: Path, hidden: str, argvs: list[list[str]]) -> tuple[list[str], set[str]]:
    """Run the command lines in one fresh interpreter; each must succeed."""
    outputs, modules = launch(folder, hidden, "cli", *map(json.dumps, argvs))
    assert [code for code, _ in outputs] == [0] * len(argvs)
    return [text for _, text in outputs], modules


def loaded(modules: set[str], names: tuple[str, ...] = NOT_FOR_PRINTING) -> set[str]:
    """The modules of ``names`` (packages with their submodules) among ``modules``."""
    return {m for m in modules for n in names if m == n or m.startswith(n + ".")}


# The derivatives worked by hand, in the text SymPy prints (symgrad grad's output format).
GRADIENTS = [
    (
        "sin(x+y)*exp(-z**2)",
        (
            "gradient in (x, y, z):\n"
            "  d/dx = exp(-z**2)*cos(x + y)\n"
            "  d/dy = exp(-z**2)*cos(x + y)\n"
            "  d/dz = -2*z*exp(-z**2)*sin(x + y)\n"
        ),
    ),
    (
        "x**3*y - 2*x*y**2 + 7",
        "gradient in (x, y):\n  d/dx = 3*x**2*y - 2*y**2\n  d/dy = x**3 - 4*x*y\n",
    ),
    (
        "log(x**2 + y**2)",
        "gradient in (x, y):\n  d/dx = 2*x/(x**2 + y**2)\n  d/dy = 2*y/(x**2 + y**2)\n",
    ),
    (
        "sqrt(1 + x**2)/y",
        "gradient in (x, y):\n  d/dx = x/(y*sqrt(x**2 + 1))\n  d/dy = -sqrt(x**2 + 1)/y**2\n",
    ),
    (
        "atan2(y, x)",
        "gradient in (x, y):\n  d/dx = -y/(x**2 + y**2)\n  d/dy = x/(x**2 + y**2)\n",
    ),
    ("(x + 2*y)**2", "gradient in (x, y):\n  d/dx = 2*(x + 2*y)\n  d/dy = 4*(x + 2*y)\n"),
    (
        "erf(x)*y",  # a special function: compiling it would need SciPy, printing does not
        "gradient in (x, y):\n  d/dx = 2*y*exp(-x**2)/sqrt(pi)\n  d/dy = erf(x)\n",
    ),
    (
        "abs(x)*y + max(x, y)",  # symengine cannot take these: the job runs on SymPy
        (
            "gradient in (x, y):\n"
            "  d/dx = y*sign(x) + Heaviside(x - y)\n"
            "  d/dy = Abs(x) + Heaviside(-x + y)\n"
        ),
    ),
    ("x^2", "gradient in (x):\n  d/dx = 2*x\n"),
]

FORMATS = [
    (
        ["grad", "sin(x+y)*exp(-z**2)", "--format", "json"],
        (
            '{\n  "variables": [\n    "x",\n    "y",\n    "z"\n  ],\n  "gradient": [\n'
            '    "exp(-z**2)*cos(x + y)",\n    "exp(-z**2)*cos(x + y)",\n'
            '    "-2*z*exp(-z**2)*sin(x + y)"\n  ]\n}\n'
        ),
    ),
    (
        ["grad", "sin(x+y)*exp(-z**2)", "--format", "latex"],
        (
            "\\begin{pmatrix} e^{- z^{2}} \\cos{\\left(x + y \\right)} \\\\ "
            "e^{- z^{2}} \\cos{\\left(x + y \\right)} \\\\ "
            "- 2 z e^{- z^{2}} \\sin{\\left(x + y \\right)} \\end{pmatrix}\n"
        ),
    ),
    (["grad", "x*y", "--vars", "y,x"], "gradient in (y, x):\n  d/dy = x\n  d/dx = y\n"),
    (["hessian", "x**3*y"], "hessian in (x, y):\n  [  6*x*y  3*x**2 ]\n  [ 3*x**2       0 ]\n"),
    (["jacobian", "x*y", "x+y"], "jacobian in (x, y):\n  [ y  x ]\n  [ 1  1 ]\n"),
]
#: Every command above with its expected text, in one list.
EXPECTED = [(["grad", text], out) for text, out in GRADIENTS] + FORMATS
EXPECTED_IDS = [" ".join(argv) for argv, _ in EXPECTED]


@pytest.fixture(scope="module")
def numpy_hidden(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], set[str]]:
    """Every command of ``EXPECTED`` in one interpreter where NumPy cannot be imported."""
    folder = tmp_path_factory.mktemp("numpy_hidden")
    return commands(folder, "numpy", [argv for argv, _ in EXPECTED])


@pytest.mark.parametrize("index", range(len(EXPECTED)), ids=EXPECTED_IDS)
def test_symbolic_commands_print_the_same_bytes_without_numpy(
    numpy_hidden: tuple[list[str], set[str]], index: int
) -> None:
    """With NumPy impossible to import, each prints exactly the hand-derived result."""
    outputs, _ = numpy_hidden
    assert outputs[index] == EXPECTED[index][1]


def test_symbolic_commands_load_no_code_generation(
    numpy_hidden: tuple[list[str], set[str]],
) -> None:
    _, modules = numpy_hidden
    assert "sympy" in modules  # the control: the commands really differentiated
    assert loaded(modules) == set()


def test_grad_without_the_fast_extra_imports_no_numpy(tmp_path: Path) -> None:
    """Without symengine (NumPy installed), grad differentiates on SymPy and loads no NumPy."""
    outputs, modules = commands(tmp_path, "symengine", [["grad", t] for t, _ in GRADIENTS])
    assert outputs == [expected for _, expected in GRADIENTS]
    assert not {m for m in modules if m.startswith("symengine")}  # the hiding works
    assert loaded(modules) == set()


def test_grad_with_everything_installed_prints_the_same_and_generates_no_code(
    tmp_path: Path,
) -> None:
    """The default environment: the same bytes; symengine brings NumPy, symgrad no code."""
    outputs, modules = commands(tmp_path, "", [argv for argv, _ in EXPECTED])
    assert outputs == [expected for _, expected in EXPECTED]
    assert loaded(modules, NOT_FOR_PRINTING[1:]) == set()
    pytest.importorskip("symengine")
    assert {"symengine", "numpy"} <= modules


def test_a_library_gradient_prints_without_numpy(tmp_path: Path) -> None:
    """``symgrad.derive.gradient`` and every way of printing it: no NumPy, no code."""
    outputs, modules = launch(tmp_path, "numpy", "lib", "x**2*y")
    assert outputs == [
        ["2*x*y", "x**2"],
        "<symgrad gradient in (x, y): [2*x*y, x**2]>",
        "<symgrad gradient in (x, y): [2*x*y, x**2]>",
        ["2 x y", "x^{2}"],
    ]
    assert loaded(modules) == set()


def test_the_controls_load_what_evaluation_needs(tmp_path: Path) -> None:
    """The checks above can fail: a float64 call loads NumPy and the code printers, an exact
    value the ball arithmetic, and with NumPy hidden the call itself fails."""
    outputs, modules = launch(tmp_path, "symengine", "call", "x**2*y")
    assert outputs[-1] == [0.5, 0.25]  # 2xy and x**2 at (1/2, 1/2)
    assert {"numpy", "symgrad.derive._printing"} <= modules
    outputs, modules = launch(tmp_path, "symengine", "at", "x**2*y")
    assert outputs[-1] == ["0.5", "0.25"]
    assert {"symgrad.derive._exact", "symgrad.derive._balls"} <= modules
    with pytest.raises(AssertionError, match="No module named 'numpy'"):
        launch(tmp_path, "numpy", "call", "x**2*y")


# -- the collector during grad's symbolic job ----------------------------------------------------


def _collections() -> int:
    return sum(generation["collections"] for generation in gc.get_stats())


@pytest.fixture
def watched_job(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, int]]:
    """``symgrad.derive.gradient`` wrapped: each call records whether the collector was on and
    how many collections 200,000 fresh lists (far past every threshold) triggered."""
    real, seen = symgrad.derive.gradient, []

    def job(*args: Any, **kwargs: Any) -> Any:
        before = _collections()
        made = [[i] for i in range(200_000)]
        seen.append((gc.isenabled(), _collections() - before))
        del made
        return real(*args, **kwargs)

    monkeypatch.setattr(symgrad.derive, "gradient", job)
    return seen


def test_grad_runs_its_job_without_collections_and_restores_the_collector(
    watched_job: list[tuple[bool, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert gc.isenabled()
    assert main(["grad", "x**2*y"]) == 0
    assert capsys.readouterr().out == "gradient in (x, y):\n  d/dx = 2*x*y\n  d/dy = x**2\n"
    assert watched_job == [(False, 0)]
    assert (gc.isenabled(), gc.get_freeze_count()) == (True, 0)  # nothing left frozen


def test_grad_leaves_a_disabled_or_frozen_collector_as_it_was(
    watched_job: list[tuple[bool, int]],
) -> None:
    gc.disable()
    try:
        assert main(["grad", "x**2"]) == 0
        assert not gc.isenabled()
    finally:
        gc.enable()
    gc.freeze()  # someone else's frozen objects (a server about to fork, say)
    try:
        frozen = gc.get_freeze_count()
        assert main(["grad", "x**2"]) == 0
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
    assert [enabled for enabled, _ in watched_job] == [False, True]  # the control: collections
    assert watched_job[1][1] > 0  # happen when the collector is left on
