"""``verify-grid --operator`` and ``verify-solver`` with ``--format html`` and ``markdown``: the
report page of the study on stdout, its numbers those of the study's own JSON, its figure
inline SVG in both formats."""

from __future__ import annotations

import inspect
import itertools
import json
import math
from pathlib import Path

import pytest

from symgrad.cli import main
from tests.test_render import _euler, _laplacian_first_order_closure

FIELD = "sin(x + 0.3)*exp(y/2) + x**3*y/5"
# the hand-written scheme and solver of test_render, as a module the command imports
SCHEME = "\n".join(
    [
        "from __future__ import annotations",
        "import math",
        "from typing import Any",
        "import numpy as np",
        inspect.getsource(_laplacian_first_order_closure),
        inspect.getsource(_euler),
    ]
)
OPERATOR = ["verify-grid", FIELD, "--domain", "x=0:1,y=0:1", "--sizes", "17,33,65"]
OPERATOR += ["--scheme", "studies_cli:_laplacian_first_order_closure", "--operator", "laplacian"]
SOLVER = ["verify-solver", "studies_cli:_euler", "--solution", "(sin(t) - cos(t))/2 + exp(-t)"]
SOLVER += ["--operator", "D(u, t) + u", "--expect-order", "1", "--time", "t=0:2"]
SOLVER += ["--time-steps", "16,32,64,128"]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "studies_cli.py").write_text(SCHEME, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().out


def test_operator_html_and_markdown_pages_carry_the_json_numbers(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run([*OPERATOR, "--format", "json"], capsys)
    data = json.loads(out)
    assert (code, data["status"]) == (1, "fail")
    boundary = data["components"][0]["boundary"]
    # the order-1 closure by hand: the boundary converges at 1, not the expected 2
    assert boundary["observed_order"] == pytest.approx(1, abs=0.1)
    code, markdown = _run([*OPERATOR, "--format", "markdown"], capsys)
    assert code == 1
    assert markdown.startswith("# symgrad report: verify_operator\n")
    for norm in ("L1", "L2", "Linf"):
        for value in boundary["errors"][norm]:
            assert f"{value:.3e}" in markdown
        for value in boundary["orders_by_norm"][norm]:
            assert f"{value:.2f}" in markdown
    code, html = _run([*OPERATOR, "--format", "html"], capsys)
    assert code == 1
    assert html.startswith("<!DOCTYPE html>")
    assert '<span class="badge fail">fail</span>' in html
    # the figure: one inline SVG (no matplotlib, no PNG), the same element in the Markdown
    assert html.count("<svg ") == 1
    assert "data:image/png" not in html
    svg = html[html.index("<svg ") : html.index("</svg>") + len("</svg>")]
    assert f"\n\n{svg}\n\n" in markdown
    assert sorted(p.name for p in here.iterdir()) == ["studies_cli.py"]  # stdout only


def test_solver_markdown_page(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run([*SOLVER, "--format", "json"], capsys)
    data = json.loads(out)
    assert (code, data["status"]) == (0, "pass")
    code, markdown = _run([*SOLVER, "--format", "markdown"], capsys)
    assert code == 0
    errors = data["regions"]["solution"]["errors"]["Linf"]
    assert all(f"{e:.3e}" in markdown for e in errors)
    orders = [math.log(a / b) / math.log(2) for a, b in itertools.pairwise(errors)]
    assert all(o == pytest.approx(1, abs=0.1) for o in orders)  # Euler: order 1
    assert "### GCI of" in markdown
    code, html = _run([*SOLVER, "--format", "html"], capsys)
    assert code == 0
    assert html.count("<svg ") == 1
    assert "steps = 128" in html  # one tick per level: its dt over its time steps


def test_plot_never_replaces_a_users_file(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With --format html too, --plot refuses a file symgrad did not write, before any work."""
    mine = here / "mine.png"
    mine.write_bytes(b"my own picture")
    code = main([*OPERATOR, "--format", "html", "--plot", str(mine)])
    captured = capsys.readouterr()
    assert (code, captured.out) == (2, "")
    assert len(captured.err.strip().splitlines()) == 1
    assert mine.read_bytes() == b"my own picture"


MAC = '''
import numpy as np


def mac_divergence(f, h):
    u, v = f
    return (u[1:, :] - u[:-1, :]) / h[0] + (v[:, 1:] - v[:, :-1]) / h[1]


def centre_divergence(f, h):
    """The planted mistake: derivatives at the faces, half a cell from the centres."""
    u, v = f
    return np.gradient(u, h[0], axis=0)[:-1] + np.gradient(v, h[1], axis=1)[:, :-1]
'''


@pytest.mark.parametrize(("scheme", "code"), [("mac_divergence", 0), ("centre_divergence", 1)])
def test_staggered_operator_from_the_command_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    scheme: str,
    code: int,
) -> None:
    """--field-at faces --values-at cells: the MAC divergence is second order; face values read
    as node values are not (the divergence of u = (sin(x+0.2) y, cos(xy) + y^3) has no
    second-order error that cancels)."""
    (tmp_path / "mac_cli.py").write_text(MAC, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    argv = ["verify-grid", "sin(x + 0.2)*y; cos(x*y) + y**3", "--domain", "x=0:1,y=0:1"]
    argv += ["--sizes", "17,33,65", "--scheme", f"mac_cli:{scheme}", "--operator", "divergence"]
    argv += ["--field-at", "faces", "--values-at", "cells", "--format", "json"]
    got, out = _run(argv, capsys)
    data = json.loads(out)
    assert got == code, data["reason"]
    interior = data["components"][0]["interior"]["observed_order"]
    if code == 0:
        assert interior == pytest.approx(2, abs=0.1)
    else:
        assert data["status"] == "fail"


def test_field_at_needs_an_operator(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["verify-grid", "sin(x)", "--domain", "x=0:1", "--field-at", "faces"]
    assert main(argv) == 2
    assert "--field-at" in capsys.readouterr().err
