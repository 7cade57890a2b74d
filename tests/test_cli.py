"""The command line, run in-process: output, JSON keys and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from symgrad.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``symgrad argv`` in-process; return (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_grad_text(capsys: pytest.CaptureFixture[str]) -> None:
    """`symgrad grad` prints one line per partial derivative."""
    code, out, _ = run(capsys, "grad", "2*x**2 + 3*y**2 - 4*z")
    assert code == 0
    assert out.splitlines() == [
        "gradient in (x, y, z):",
        "  d/dx = 4*x",
        "  d/dy = 6*y",
        "  d/dz = -4",
    ]


def test_grad_json_keys_and_vars_order(capsys: pytest.CaptureFixture[str]) -> None:
    """JSON has the DESIGN.md keys, and --vars fixes the order."""
    code, out, _ = run(capsys, "grad", "x*y^2", "--vars", "y,x", "--format", "json")
    assert code == 0
    assert json.loads(out) == {"variables": ["y", "x"], "gradient": ["2*x*y", "y**2"]}


def test_hessian_and_jacobian_json(capsys: pytest.CaptureFixture[str]) -> None:
    """Hessian and Jacobian come back as nested lists of SymPy strings."""
    code, out, _ = run(capsys, "hessian", "x**3*y", "--format", "json")
    assert code == 0
    assert json.loads(out) == {
        "variables": ["x", "y"],
        "hessian": [["6*x*y", "3*x**2"], ["3*x**2", "0"]],
    }
    code, out, _ = run(capsys, "jacobian", "x*y", "x+y", "--format", "json")
    assert code == 0
    assert json.loads(out) == {"variables": ["x", "y"], "jacobian": [["y", "x"], ["1", "1"]]}


def test_latex_format(capsys: pytest.CaptureFixture[str]) -> None:
    """--format latex gives a pmatrix of the partials."""
    code, out, _ = run(capsys, "grad", "sin(x)*y", "--format", "latex")
    assert code == 0
    assert (
        out.strip()
        == r"\begin{pmatrix} y \cos{\left(x \right)} \\ \sin{\left(x \right)} \end{pmatrix}"
    )


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["grad", "sinn(x)"], "unknown function"),
        (["grad", "__import__('os')"], "column 1"),
        (["grad", "x**10**10"], "exponent"),
        (["grad", "x+y", "--vars", "x"], "y"),
    ],
    ids=["unknown_function", "injection", "exponent", "undeclared_variable"],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    """Bad input: exit 2, nothing on stdout, one line on stderr naming the problem."""
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert needle in err
    assert "Traceback" not in err


def test_python_dash_m_works() -> None:
    """`python -m symgrad` runs the same command line."""
    done = subprocess.run(
        [sys.executable, "-m", "symgrad", "grad", "x**2", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"variables": ["x"], "gradient": ["2*x"]}


def test_stencil_json_is_exact(capsys: pytest.CaptureFixture[str]) -> None:
    """`symgrad stencil` prints exact rational weights and the error coefficient (numerics.md 1.3)."""
    code, out, _ = run(
        capsys, "stencil", "--derivative", "2", "--accuracy", "4", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["weights"] == ["-1/12", "4/3", "-5/2", "4/3", "-1/12"]
    assert data["error_coefficient"] == "-1/90"
    assert data["offsets"] == ["-2", "-1", "0", "1", "2"]


def test_stencil_from_offsets(capsys: pytest.CaptureFixture[str]) -> None:
    """Staggered offsets give the published 1/24, -9/8, 9/8, -1/24 weights."""
    code, out, _ = run(
        capsys, "stencil", "--derivative", "1", "--offsets=-3/2,-1/2,1/2,3/2", "--format", "json"
    )
    assert code == 0
    assert json.loads(out)["weights"] == ["1/24", "-9/8", "9/8", "-1/24"]


def test_gci_json_matches_celik_column_1(capsys: pytest.CaptureFixture[str]) -> None:
    """Celik's column 1 (via pyGCS's printed values): p 1.53, phi_ext 6.1685, GCI_fine 2.17 %."""
    code, out, _ = run(
        capsys,
        "gci",
        "--values",
        "6.063,5.972,5.863",
        "--cells",
        "18000,8000,4500",
        "--dim",
        "2",
        "--format",
        "json",
    )
    assert code == 0
    data = json.loads(out)
    assert round(data["p"], 2) == 1.53
    assert round(data["extrapolated"], 4) == 6.1685
    assert round(100 * data["gci_fine"], 2) == 2.17
    assert data["status"] == "pass"
    assert data["oscillatory"] is False


def test_gci_without_dim_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """--cells without --dim exits 2 with a one-line message."""
    code, out, err = run(capsys, "gci", "--values", "1,2,3", "--cells", "1,2,3")
    assert (code, out) == (2, "")
    assert "--dim" in err
