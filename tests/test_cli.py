"""The command line, run in-process: output, JSON keys and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from symgrad.cli import main
from tests.test_check import DESIGN_COMPONENT_KEYS


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``symgrad argv`` in-process; return (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, source: str) -> None:
    """Write a user's scheme module in the working directory, where --scheme finds it."""
    (tmp_path / f"{name}.py").write_text(source)
    monkeypatch.chdir(tmp_path)


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
    """JSON has the documented keys, and --vars fixes the order."""
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
    """`symgrad stencil` prints exact rational weights and the error coefficient."""
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


def test_converge_acceptance_orders(capsys: pytest.CaptureFixture[str]) -> None:
    """orders within 0.1 of 1, 2, 4, 6, 2 with status pass and exact coefficients."""
    code, out, _ = run(
        capsys,
        "converge",
        "sin(x)",
        "--at",
        "x=1",
        "--schemes",
        "forward:1,central:2,central:4,central:6,complex",
        "--format",
        "json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["status"] == "pass"
    expected = {"forward:1": 1, "central:2": 2, "central:4": 4, "central:6": 6, "complex": 2}
    coefficients = {
        "forward:1": "1/2",
        "central:2": "1/6",
        "central:4": "-1/30",
        "central:6": "1/140",
    }
    for scheme in data["schemes"]:
        assert abs(scheme["observed_order"] - expected[scheme["scheme"]]) < 0.1
        assert scheme["status"] == "pass"
        if scheme["scheme"] in coefficients:
            assert scheme["error_coefficient"] == coefficients[scheme["scheme"]]


@pytest.mark.parametrize(
    ("expr", "point", "point_status"),
    [("abs(x)", "x=0", "nonsmooth"), ("log(x)", "x=-1", "domain"), ("1/x", "x=0", "pole")],
    ids=["kink", "domain", "pole"],
)
def test_check_classifies_bad_points(
    capsys: pytest.CaptureFixture[str], expr: str, point: str, point_status: str
) -> None:
    """Kinks, domain errors and poles give exit 1 and a classified, readable report."""
    code, out, err = run(capsys, "check", expr, "--at", point, "--format", "json")
    assert code == 1
    assert err == ""
    data = json.loads(out)
    assert data["status"] == "inconclusive"
    assert data["components"][0]["point_status"] == point_status


def test_check_passes_with_design_keys(capsys: pytest.CaptureFixture[str]) -> None:
    """A correct gradient passes; the JSON carries the documented keys for every component."""
    code, out, _ = run(
        capsys, "check", "sin(x+y)*exp(-z**2)", "--at", "x=0.3,y=0.7,z=0.5", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["point"] == {"x": "0.3", "y": "0.7", "z": "0.5"}
    assert all(set(c) >= DESIGN_COMPONENT_KEYS for c in data["components"])


def test_verify_grid_potential_is_exact(capsys: pytest.CaptureFixture[str]) -> None:
    """numpy.gradient with spacing and edge_order=2 verifies the quadratic potential exactly."""
    code, out, _ = run(
        capsys,
        "verify-grid",
        "2*x**2 + 3*y**2 - 4*z",
        "--domain",
        "x=-100:100,y=-100:100,z=-100:100",
        "--sizes",
        "9,17,33",
        "--scheme",
        "numpy:edge_order=2",
        "--format",
        "json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["status"] == "exact"
    assert [c["variable"] for c in data["components"]] == ["x", "y", "z"]


def test_verify_grid_user_scheme_module(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--scheme MODULE:FUNC imports the user's scheme; a forgotten spacing is diagnosed (factor)."""
    user_module(
        tmp_path,
        monkeypatch,
        "myscheme",
        "import numpy as np\n\ndef nospacing(f, spacing):\n    return np.gradient(f)\n",
    )
    code, out, _ = run(
        capsys,
        "verify-grid",
        "sin(x+0.3)",
        "--domain",
        "x=0:1",
        "--sizes",
        "17,33,65",
        "--scheme",
        "myscheme:nospacing",
        "--format",
        "json",
    )
    assert code == 1
    kinds = [d["kind"] for d in json.loads(out)["diagnostics"]]
    assert "constant_factor" in kinds


def test_verify_grid_bad_scheme_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A scheme that cannot be imported exits 2 with one line."""
    code, _, err = run(capsys, "verify-grid", "x", "--domain", "x=0:1", "--scheme", "no_such_mod:f")
    assert code == 2
    assert "no_such_mod" in err


def test_steps_product_rule(capsys: pytest.CaptureFixture[str]) -> None:
    """the product rule is shown and the result is x**2*cos(x) + 2*x*sin(x)."""
    code, out, _ = run(capsys, "steps", "x**2*sin(x)", "--wrt", "x", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["result"] == "x**2*cos(x) + 2*x*sin(x)"
    assert data["steps"][0]["rule"] == "product"


def test_report_writes_html_atomically(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`symgrad report --output` writes one self-contained HTML file and exits 0 on pass."""
    target = tmp_path / "report.html"
    code, out, _ = run(capsys, "report", "x**2*sin(x)", "--at", "x=0.5", "--output", str(target))
    assert code == 0
    assert "report written to" in out
    page = target.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "Cross-check at the point" in page
    assert "Convergence of d/dx" in page
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_report_to_missing_directory_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An output path in a directory that does not exist is bad input (exit 2), checked first."""
    code, _, err = run(
        capsys, "report", "x**2", "--at", "x=1", "--output", str(tmp_path / "no" / "r.html")
    )
    assert code == 2
    assert "does not exist" in err


def test_negative_values_after_an_option(capsys: pytest.CaptureFixture[str]) -> None:
    """`--offsets -2,-1,0,1,2` (a value starting with '-') is a value, not an option."""
    code, out, _ = run(
        capsys, "stencil", "--derivative", "1", "--offsets", "-2,-1,0,1,2", "--format", "json"
    )
    assert code == 0
    assert json.loads(out)["weights"] == ["1/12", "-2/3", "0", "2/3", "-1/12"]


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """A missing required option exits 2 with exactly one line on stderr."""
    code, out, err = run(capsys, "check", "x**2")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "--at" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["grad", "x**2 - y**2", "--plot"],
        ["grad", "sin(x)", "--at", "x=1", "--plot"],
        ["check", "exp(x)*y", "--at", "x=1,y=2", "--plot"],
        ["converge", "sin(x)", "--at", "x=1", "--steps", "1e-1:1e-6:6", "--plot"],
    ],
    ids=["gradient_field", "secant_tangent", "v_curve", "convergence"],
)
def test_plots_from_the_command_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    """--plot FILE writes a PNG headlessly next to the usual output."""
    target = tmp_path / "figure.png"
    code, out, err = run(capsys, *argv, str(target))
    assert code == 0, err
    assert out
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_json_has_every_part(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`report --output r.json` holds the gradient, the check and one study per variable."""
    target = tmp_path / "r.json"
    code, _, _ = run(capsys, "report", "x*y**2", "--at", "x=0.5,y=2", "--output", str(target))
    assert code == 0
    data = json.loads(target.read_text())
    assert data["status"] == "pass"
    assert data["gradient"] == ["y**2", "2*x*y"]
    assert data["check"]["point"] == {"x": "0.5", "y": "2"}
    assert [len(c["schemes"]) for c in data["converge"]] == [4, 4]


def test_progress_only_on_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Long runs report progress on stderr when it is a terminal, and never in CI logs."""
    argv = ["converge", "sin(x)", "--at", "x=1", "--steps", "1e-1:1e-4:4", "--format", "json"]
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    code, out, err = run(capsys, *argv)
    assert code == 0
    assert "converge: 16/16" in err
    assert json.loads(out)["status"] == "pass"
    monkeypatch.setenv("CI", "true")
    code, _, err = run(capsys, *argv)
    assert (code, err) == (0, "")


def test_verify_grid_interior_and_boundary_orders(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fourth-order scheme with a second-order two-layer border passes with 4,2 and width 2."""
    user_module(
        tmp_path,
        monkeypatch,
        "fourth",
        "import numpy as np\n\n"
        "def fourth(f, spacing):\n"
        "    (h,) = spacing\n"
        "    d = np.gradient(f, h, edge_order=2)\n"
        "    d[2:-2] = (f[:-4] - 8 * f[1:-3] + 8 * f[3:-1] - f[4:]) / (12 * h)\n"
        "    return d\n",
    )
    argv = [
        "verify-grid",
        "sin(x+0.3)",
        "--domain",
        "x=0:1",
        "--sizes",
        "17,33,65,129",
        "--scheme",
        "fourth:fourth",
        "--format",
        "json",
    ]
    code, out, _ = run(capsys, *argv, "--expect-order", "4,2", "--boundary-width", "2")
    assert code == 0
    component = json.loads(out)["components"][0]
    assert abs(component["interior"]["observed_order"] - 4) < 0.1
    assert abs(component["boundary"]["observed_order"] - 2) < 0.1
    code, _, _ = run(capsys, *argv, "--expect-order", "4")  # the border is only second order
    assert code == 1


def test_timeout_stops_a_long_job(capsys: pytest.CaptureFixture[str]) -> None:
    """--timeout stops a runaway job: exit 2, one line, and the alarm is cleared afterwards."""
    import signal

    argv = ["converge", "sin(x)", "--at", "x=1", "--steps", "1e-1:1e-12:200", "--dps", "900"]
    code, out, err = run(capsys, "--timeout", "0.05", *argv)
    assert (code, out) == (2, "")
    assert "--timeout of 0.05 s" in err
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    code, _, _ = run(capsys, "--timeout", "60", "grad", "x**2")
    assert code == 0


def test_converge_default_schemes_leave_out_the_complex_step_at_a_kink(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`converge "abs(x-0.5)"` runs the real schemes and names the kink instead of refusing."""
    code = main(["converge", "abs(x-0.5)", "--at", "x=0.5", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1  # inconclusive is not a pass
    assert data["status"] == "inconclusive"
    assert [s["scheme"] for s in data["schemes"]] == ["forward:1", "central:2", "central:4"]
