"""Documents and atomic writing: a report is written completely or not at all."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import pytest

from symgrad import ConfigError, InputError, SolverProblem, report, verify_operator, verify_solver
from symgrad._files import write_atomic
from symgrad.output import Section, StudyReport, html_page, markdown_document
from symgrad.results import Status


def test_html_page_is_self_contained_and_escaped() -> None:
    """Titles are escaped, verdict badges appear, and nothing is loaded from outside."""
    page = html_page("f = <x & y>", [Section("Check", "<p>ok</p>", "ok", Status.FAIL)])
    assert "f = &lt;x &amp; y&gt;" in page
    assert '<span class="badge fail">fail</span>' in page
    assert "<p>ok</p>" in page
    assert "http" not in page.replace('name="viewport"', "")
    assert page.startswith("<!DOCTYPE html>")


def test_markdown_document_lists_sections_with_verdicts() -> None:
    """Each section becomes a level-2 heading carrying its verdict."""
    doc = markdown_document("Report", [Section("Convergence", "", "| a |", Status.PASS)])
    assert doc.splitlines()[:4] == ["# Report", "", "## Convergence (pass)", ""]


def test_write_atomic_replaces_whole_file(tmp_path: Path) -> None:
    """A successful write replaces the old content entirely and leaves no temporary file."""
    target = tmp_path / "report.html"
    target.write_text("old")
    write_atomic(target, "new content")
    assert target.read_text() == "new content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_failed_write_keeps_the_users_file(tmp_path: Path) -> None:
    """When writing fails half-way, the user's file is untouched and no temporary file stays."""
    target = tmp_path / "report.html"
    target.write_text("precious")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "half" + "\ud800")  # a lone surrogate cannot be encoded
    assert target.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_write_atomic_bytes(tmp_path: Path) -> None:
    """Bytes are written verbatim."""
    target = write_atomic(tmp_path / "plot.png", b"\x89PNG\r\n")
    assert target.read_bytes() == b"\x89PNG\r\n"


def test_new_files_get_ordinary_permissions(tmp_path: Path) -> None:
    """A new report is readable like any file the user creates (0666 less the umask)."""
    import os

    umask = os.umask(0o022)
    try:
        target = write_atomic(tmp_path / "new.html", "x")
    finally:
        os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o644


def test_point_status_carries_its_verdict() -> None:
    """ok passes, mismatch fails, and every status that cannot decide is inconclusive."""
    from symgrad.results import PointStatus, Status

    expected = {"ok": "pass", "mismatch": "fail"}
    for point_status in PointStatus:
        assert point_status.verdict is Status(expected.get(point_status, "inconclusive"))
    assert {p.value for p in PointStatus} == {
        "ok",
        "mismatch",
        "domain",
        "pole",
        "nonsmooth",
        "overflow",
        "unreliable",
    }


# -- report pages of grid and solver studies ----------------------------------------------------
# The numbers on the page are checked against errors recomputed here with NumPy (a 5-point
# Laplacian written out by hand, against the Laplacian derived by hand) and with mpmath (forward
# Euler against the closed-form solution), never against symgrad's own arithmetic.

FIELD = "sin(x + 0.3)*exp(y/2) + x**3*y/5"


def _laplacian_first_order_closure(u: Any, h: tuple[float, float]) -> Any:
    """u_xx + u_yy: centred inside; u0 - 2u1 + u2 on the faces (order 1 there)."""
    out = np.zeros_like(u)
    for axis in (0, 1):
        v = np.moveaxis(u, axis, 0)
        d = np.empty_like(v)
        d[1:-1] = v[2:] - 2 * v[1:-1] + v[:-2]
        d[0], d[-1] = v[0] - 2 * v[1] + v[2], v[-1] - 2 * v[-2] + v[-3]
        out += np.moveaxis(d, 0, axis) / h[axis] ** 2
    return out


def _by_hand(n: int) -> tuple[float, float, float]:
    """h, and the interior and boundary L∞ errors of the scheme above on n x n points."""
    x, y = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n), indexing="ij")
    u = np.sin(x + 0.3) * np.exp(y / 2) + x**3 * y / 5
    exact = -0.75 * np.sin(x + 0.3) * np.exp(y / 2) + 6 * x * y / 5
    h = 1 / (n - 1)
    err = np.abs(_laplacian_first_order_closure(u, (h, h)) - exact)
    inside = np.zeros(err.shape, bool)
    inside[1:-1, 1:-1] = True
    return h, float(err[inside].max()), float(err[~inside].max())


def _table(markdown: str, heading: str) -> list[list[str]]:
    """The rows (header first) of the first Markdown table after ``heading``."""
    lines = markdown[markdown.index(heading) :].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| "))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        if not line.startswith("| ---"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def test_operator_page_shows_the_errors_and_orders_recomputed_by_hand() -> None:
    """Interior order 2 and boundary order 1 of the 5-point Laplacian with an order-1 closure:
    every L∞ error and pairwise order on the page equals the hand computation."""
    result = verify_operator(_laplacian_first_order_closure, FIELD, "x=0:1,y=0:1", "laplacian")
    page = report(result, plots=False)
    assert isinstance(page, StudyReport)
    assert (page.status, page.to_dict()) == (Status.FAIL, result.to_dict())
    markdown = page.to_markdown()
    for region, column, expected_order in (("interior", 1, 2.0), ("boundary", 2, 1.0)):
        rows = _table(markdown, f"### laplacian: {region}")
        head, levels = rows[0], [r for r in rows[1:] if r[0].isdigit()]
        assert head[:2] == ["N", "h"]
        assert (head[4], head[-1]) == ("L∞ error", "L∞ order")
        assert [int(r[0]) for r in levels] == list(result.sizes)
        hand = [_by_hand(n) for n in result.sizes]
        for row, (h, *errors) in zip(levels, hand, strict=True):
            assert float(row[1]) == pytest.approx(h, rel=5e-4)
            assert float(row[4]) == pytest.approx(errors[column - 1], rel=1e-3)
        for k in range(1, len(hand)):
            (hc, *ec), (hf, *ef) = hand[k - 1], hand[k]
            order = math.log(ec[column - 1] / ef[column - 1]) / math.log(hc / hf)
            assert float(levels[k][-1]) == pytest.approx(order, abs=0.006)
            assert order == pytest.approx(expected_order, abs=0.1)  # the textbook order
        expected_row = next(r for r in rows if r[0] == "expected")
        assert expected_row[-3:] == ["2", "2", "2"]  # L1, L2, L∞: as declared
    assert "- exact result: 6*x*y/5 - 3*exp(y/2)*sin(x + 3/10)/4" in markdown
    assert "lower_order_closure" in markdown


def test_operator_page_badges_match_the_verdicts() -> None:
    """The page's badge is the study's verdict; each region's badge is that region's."""
    result = verify_operator(_laplacian_first_order_closure, FIELD, "x=0:1,y=0:1", "laplacian")
    html = report(result, plots=False).to_html()
    heading = html[html.index("<h2>") : html.index("</h2>")]
    assert '<span class="badge fail">fail</span>' in heading
    for region, status in (("interior", "pass"), ("boundary", "fail")):
        part = html[html.index(f"<h3>laplacian: {region}") :]
        assert part[: part.index("</h3>")].endswith(f'<span class="badge {status}">{status}</span>')
    declared = verify_operator(
        _laplacian_first_order_closure, FIELD, "x=0:1,y=0:1", "laplacian", expect_order=(2, 1)
    )
    assert '<span class="badge fail">' not in report(declared, plots=False).to_html()


def _euler(problem: SolverProblem) -> float:
    """Forward Euler for u' = -u + sin t, with the source written here (not the problem's)."""
    assert problem.initial is not None
    assert problem.dt is not None
    assert problem.time is not None
    assert problem.time_steps is not None
    u, dt, t0 = float(problem.initial), problem.dt, problem.time[0]
    for n in range(problem.time_steps):
        u += dt * (-u + math.sin(t0 + n * dt))
    return u


def test_solver_page_shows_the_errors_the_gci_and_the_figure() -> None:
    """Euler's errors at t = 2, against the closed form at 50 digits, are on the page, with
    order 1, the quantity's values per level and the GCI; the HTML embeds the figure."""
    pytest.importorskip("matplotlib")
    steps = (16, 32, 64, 128)
    result = verify_solver(
        _euler,
        "(sin(t) - cos(t))/2 + exp(-t)",
        operator="D(u, t) + u",
        expect_order=1,
        time="t=0:2",
        time_steps=steps,
    )
    page = report(result)
    ctx = mpmath.MPContext()
    ctx.dps = 50
    exact = (ctx.sin(2) - ctx.cos(2)) / 2 + ctx.exp(-2)
    finals, errors = [], []
    for n in steps:
        u, dt = 0.5, 2 / n  # u(0) = (0 - 1)/2 + 1
        for k in range(n):
            u += dt * (-u + math.sin(k * dt))
        finals.append(u)
        errors.append(float(abs(ctx.mpf(u) - exact)))
    markdown = page.to_markdown()
    rows = [r for r in _table(markdown, "### solution") if r[0].isdigit()]
    assert [int(r[2]) for r in rows] == list(steps)
    for row, error in zip(rows, errors, strict=True):
        assert [float(c) for c in row[3:6]] == pytest.approx([error] * 3, rel=1e-3)
    for k in range(1, len(steps)):
        order = math.log2(errors[k - 1] / errors[k])
        assert float(rows[k][-1]) == pytest.approx(order, abs=0.006)
        assert order == pytest.approx(1, abs=0.1)
    values = next(line for line in markdown.splitlines() if line.startswith("- value per level"))
    shown = [float(v) for v in values.partition(": ")[2].split(", ")]
    assert shown == pytest.approx(finals, rel=1e-9)
    assert "### GCI of" in markdown
    html = page.to_html()
    assert html.count("<svg ") == 1  # the figure, inline SVG
    assert '<span class="badge pass">pass</span>' in html


def test_report_of_a_result_takes_no_point_and_an_expression_needs_one() -> None:
    """report(result) is the study's page; a point with it, or an expression without, is refused."""
    result = verify_operator(_laplacian_first_order_closure, FIELD, "x=0:1,y=0:1", "laplacian")
    with pytest.raises(ConfigError, match="takes no point"):
        report(result, "x=1")
    with pytest.raises(InputError, match="needs the point"):
        report("x**2")  # type: ignore[call-overload]
