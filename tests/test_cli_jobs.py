"""``--jobs N``: check, converge and verify-grid run independent pieces in N worker processes,
and print exactly what the serial run prints; N is validated before any work."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from symgrad.cli import main

SCHEME = '''
import os
import numpy as np

def grad(u, h):
    """numpy.gradient, second order at the faces; records which process ran it."""
    with open("pids.txt", "a", encoding="utf-8") as f:
        f.write(f"{os.getpid()}\\n")
    return [np.gradient(u, h[k], axis=k, edge_order=2) for k in range(u.ndim)]
'''
GRID = ["verify-grid", "sin(x + 0.3)*exp(y/2)", "--domain", "x=-1:1,y=-1:1", "--sizes", "9,17,33"]


def _out(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "sin(x+y)*exp(-z**2)", "--at", "x=0.3,y=0.7,z=0.5", "--format", "json"],
        ["check", "x**2*y", "--at", "x=1,y=2", "--kind", "hessian"],
        ["converge", "sin(x)*exp(x)", "--at", "x=1", "--format", "json"],
        ["converge", "x**3", "--at", "x=0.5", "--schemes", "central:2,forward:1"],
        [*GRID, "--format", "json"],
    ],
)
def test_jobs_2_prints_what_the_serial_run_prints(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    serial = _out(argv, capsys)
    assert serial[0] == 0
    assert _out([*argv, "--jobs", "2"], capsys) == serial
    assert _out([*argv, "--jobs", "1"], capsys) == serial


def test_jobs_runs_the_users_scheme_in_worker_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The scheme (MODULE:FUNC) reaches the workers; the result equals the serial one."""
    (tmp_path / "jobs_scheme.py").write_text(SCHEME, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    argv = [*GRID, "--scheme", "jobs_scheme:grad", "--format", "json"]
    serial = _out(argv, capsys)
    assert {int(p) for p in (tmp_path / "pids.txt").read_text().split()} == {os.getpid()}
    (tmp_path / "pids.txt").unlink()
    assert _out([*argv, "--jobs", "2"], capsys) == serial
    pids = {int(p) for p in (tmp_path / "pids.txt").read_text().split()}
    assert len(pids - {os.getpid()}) >= 1  # levels ran in worker processes


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--jobs", "0"], "from 1 to"),
        (["--jobs", "two"], "from 1 to"),
        (["--jobs", str(4 * (os.cpu_count() or 1) + 1)], "4 per CPU"),
        (["--jobs", "2", "--operator", "laplacian", "--scheme", "x:y"], "--scheme"),
    ],
)
def test_bad_jobs_is_one_line_and_exit_2(
    extra: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _out([*GRID, *extra], capsys)
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1
    assert needle in err


def test_jobs_with_isolate_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """An --isolate worker cannot start processes of its own: one line, exit 2."""
    code, out, err = _out(["--isolate", *GRID, "--jobs", "2"], capsys)
    assert (code, out) == (2, "")
    assert err.strip() == (
        "symgrad: error: --jobs starts worker processes, which an --isolate worker cannot; "
        "drop one of them"
    )
