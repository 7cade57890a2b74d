"""The worked examples in ``examples/`` run, print their key result, and verify their claims.

Each example ends with assertions of what it prints against closed forms, so running it is a
test of those claims.  Examples run as users run them: ``python examples/NAME.py`` in a fresh
process, from an unrelated working directory, with warnings turned into errors.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

#: One line (a regular expression) each example must print: the result it exists to show.
KEY_LINES = {
    "check_gradient_in_pytest": r"fail: d/dy is wrong at \(",
    "convergence_v_curve": r"central:2 +1\.0e-05 +1\.01e-05",
    "electric_field": r"factor on each level: \[25\.0, 12\.5, 6\.25\] = 1·h",
    "gradient_descent": r"converged in \d+ steps: \(a, b\) = \(1\.\d{10}, 0\.\d{10}\)",
    "heat_crank_nicolson": r"Crank-Nicolson: pass, interior order 2\.0\d, time alone 2\.0\d",
    "mac_staggered": r"face gradient u_x: pass, interior order (1\.9\d|2\.0\d), wall order",
    "laplacian_neumann": r"interior order 1\.9\d, boundary order (0\.9\d|1\.0\d) -> lower_order_closure",
    "newton_levenberg_marquardt": r"e_k / e_\(k-1\)²(.|\n)*\(float64 floor\)",
    "numpy_gradient_meshgrid": r"swapped_components: the output for axis 0 \(x\) matches ∂f/∂y",
    "scipy_damped_sine_fit": r"finite differences: \d+ residual calls; with the exact Jacobian 7",
    "scipy_rosenbrock_newton": r"Hessian entries compiled with sparse=True: 148 of 2500",
    "ode_euler_rk4": r"RK4: pass, observed order 3\.9\d \(expected 4\)",
    "seed_centred_sin": r"d/dx of sin\(x \+ y\): interior order 2\.00, boundary order 2\.00 \(pass\)",
    "sobel_calibration": r"sobel_scheme\(\), d/dx: interior order 1\.9\d \(pass\)",
    "step_by_step": "the term 2x\N{MULTIPLICATION SIGN}cos\\(x\\) should be 2x\N{MULTIPLICATION SIGN}sin\\(x\\)",
}

TIMEOUT = 120  # seconds per example; each takes a few seconds


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a Python command the way a user would, headless, with warnings as errors."""
    environment = {k: v for k, v in os.environ.items() if k != "SYMGRAD_EXAMPLE_PLOTS"}
    environment |= {"MPLBACKEND": "Agg", "PYTHONWARNINGS": "error", **env}
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def test_every_example_has_a_key_line() -> None:
    """Each example file is listed in KEY_LINES, and nothing listed is missing."""
    assert {p.stem for p in EXAMPLES.glob("*.py")} == set(KEY_LINES)


@pytest.mark.parametrize("name", sorted(KEY_LINES), ids=sorted(KEY_LINES))
def test_example_runs_and_verifies_its_claims(name: str, tmp_path: Path) -> None:
    """The example exits 0, prints its key line, and reaches its final assertions."""
    done = _run([str(EXAMPLES / f"{name}.py")], tmp_path)
    assert done.returncode == 0, f"{name} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert re.search(KEY_LINES[name], done.stdout), f"{name}: key line missing:\n{done.stdout}"
    assert done.stdout.rstrip().endswith("all claims verified")
    assert done.stderr == ""
    assert list(tmp_path.iterdir()) == [], "examples must not write files unless asked to"


def test_gradient_check_example_is_a_pytest_module(tmp_path: Path) -> None:
    """``pytest examples/check_gradient_in_pytest.py`` collects and passes its three tests."""
    example = EXAMPLES / "check_gradient_in_pytest.py"
    done = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider", str(example)], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\b3 passed\b", done.stdout)


def test_v_curve_example_saves_its_figure(tmp_path: Path) -> None:
    """With SYMGRAD_EXAMPLE_PLOTS set, the V-curve example writes a PNG there."""
    pytest.importorskip("matplotlib")
    done = _run([str(EXAMPLES / "convergence_v_curve.py")], tmp_path, SYMGRAD_EXAMPLE_PLOTS=".")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "v_curve.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
