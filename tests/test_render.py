"""Documents and atomic writing: a report is written completely or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from symgrad._files import write_atomic
from symgrad.output import Section, html_page, markdown_document
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
