"""Verdicts and the behaviour every result shares.

One vocabulary for every check (``Status``) and one small mixin (``Result``) that gives each
frozen result dataclass ``raise_if_failed()``, JSON, text and Markdown renderings and Jupyter
display.  A concrete result implements two methods: ``to_dict()`` (plain JSON-ready data with
the keys of docs/reference/json.md) and ``to_text()``; Markdown defaults to the text in a code block.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from enum import StrEnum
from typing import Any, Self

from symgrad.errors import CheckFailed

__all__ = [
    "PointStatus",
    "Result",
    "Status",
    "TableResult",
    "combine",
    "html_table",
    "markdown_table",
    "text_table",
]


class Status(StrEnum):
    """The verdict of a check.

    ``pass``: the check agrees within its tolerance or the expected order is observed.
    ``fail``: a mismatch or a wrong order.
    ``inconclusive``: the data cannot decide (round-off floor reached too early, too few levels).
    ``exact``: errors sit at the precision floor (e.g. a quadratic under a second-order scheme).
    """

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    EXACT = "exact"

    @property
    def ok(self) -> bool:
        """True for ``pass`` and ``exact``: what exit code 0 means."""
        return self in (Status.PASS, Status.EXACT)


class PointStatus(StrEnum):
    """What happened at one point of one component, before it becomes a :class:`Status`.

    ``ok``: the values agree; ``mismatch``: they disagree beyond the tolerance; ``domain``: the
    point is outside the real domain; ``pole``: the function or derivative is infinite there;
    ``nonsmooth``: a kink (one-sided derivatives differ); ``overflow``: a value exceeds float64;
    ``unreliable``: the referee cannot resolve the value (the reason says why).
    """

    OK = "ok"
    MISMATCH = "mismatch"
    DOMAIN = "domain"
    POLE = "pole"
    NONSMOOTH = "nonsmooth"
    OVERFLOW = "overflow"
    UNRELIABLE = "unreliable"

    @property
    def verdict(self) -> Status:
        """``ok`` passes, ``mismatch`` fails; everything else cannot decide: inconclusive."""
        return {"ok": Status.PASS, "mismatch": Status.FAIL}.get(self.value, Status.INCONCLUSIVE)

    @property
    def ok(self) -> bool:
        """True for ``ok``: the verdict passes (what ``Result.ok`` reads for a point result)."""
        return self.verdict.ok


def combine(statuses: Iterable[Status]) -> Status:
    """Overall verdict: any fail fails, else any inconclusive, else exact only if all exact."""
    seen = set(statuses)
    if not seen:
        return Status.INCONCLUSIVE
    for worst in (Status.FAIL, Status.INCONCLUSIVE, Status.PASS):
        if worst in seen:
            return worst
    return Status.EXACT


class Result:
    """Mixin for result dataclasses that carry ``status`` and ``reason``.

    ``status`` is a :class:`Status`, or for a result about one point (``FDResult``) a
    :class:`PointStatus`, whose ``ok`` is that of its verdict.
    """

    status: Status | PointStatus
    reason: str

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - every result overrides it
        """Plain, JSON-ready data."""
        raise NotImplementedError

    def to_text(self) -> str:
        """A plain-text rendering for people."""
        return f"{self.status}: {self.reason}"

    def to_markdown(self) -> str:
        """A Markdown rendering (by default the text rendering in a code block)."""
        return f"**{self.status}**: {self.reason}\n\n```text\n{self.to_text()}\n```\n"

    def to_json(self, indent: int | None = 2) -> str:
        """The ``to_dict()`` data as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent)

    @property
    def ok(self) -> bool:
        """True when the verdict is ``pass`` or ``exact``."""
        return self.status.ok

    def raise_if_failed(self) -> Self:
        """Return ``self`` when the verdict is pass or exact, else raise ``CheckFailed``."""
        __tracebackhide__ = True  # pytest shows the caller's line, not this one
        if not self.status.ok:
            verdict = f"{self.status}: {self.reason}"
            details = [line for line in self.to_text().splitlines() if line != verdict]
            msg = "\n".join([verdict, *details])  # the verdict first, said once
            raise CheckFailed(msg)
        return self

    def __str__(self) -> str:
        return self.to_text()

    def _repr_mimebundle_(
        self,
        include: object = None,  # noqa: ARG002 - IPython's protocol passes these by name
        exclude: object = None,  # noqa: ARG002
    ) -> dict[str, str]:
        """Jupyter display: plain text and Markdown."""
        return {"text/plain": self.to_text(), "text/markdown": self.to_markdown()}


# -- tables: one renderer for every result -----------------------------------------------------


def text_table(rows: list[list[str]], *, indent: str = "", align: str = "left") -> str:
    """Fixed-width columns; ``rows[0]`` is the header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    pad = str.ljust if align == "left" else str.rjust
    return "\n".join(
        (indent + "  ".join(pad(c, w) for c, w in zip(r, widths, strict=True))).rstrip()
        for r in rows
    )


def markdown_table(rows: list[list[str]]) -> str:
    """A pipe table (pipes inside cells escaped); ``rows[0]`` is the header."""
    lines = ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join([lines[0], "|" + " --- |" * len(rows[0]), *lines[1:]])


def html_table(rows: list[list[str]], *, css: str = "", caption: str = "") -> str:
    """An HTML table in which every text is escaped; ``rows[0]`` is the header."""
    e = html.escape
    parts = [f'<table class="{e(css)}">' if css else "<table>"]
    if caption:
        parts.append(f"<caption>{e(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th>{e(c)}</th>" for c in rows[0]) + "</tr></thead>")
    parts.append("<tbody>")
    parts += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows[1:]]
    return "\n".join([*parts, "</tbody>", "</table>"])


class TableResult(Result):
    """A result rendered from one table: fixed-width text, Markdown, and escaped HTML.

    Subclasses give ``_title()``, ``_table()`` (header and rows of strings) and ``_notes()``.
    """

    def _title(self) -> str:
        raise NotImplementedError  # pragma: no cover

    def _table(self) -> tuple[list[str], list[list[str]]]:
        raise NotImplementedError  # pragma: no cover

    def _notes(self) -> list[str]:
        return []

    def to_text(self) -> str:
        """Title, verdict and reason, the table, then notes (one per line)."""
        head, rows = self._table()
        lines = [self._title(), f"{self.status}: {self.reason}", "", text_table([head, *rows])]
        notes = self._notes()
        return "\n".join(lines + (["", *notes] if notes else [])) + "\n"

    def to_markdown(self) -> str:
        """The verdict and reason, a Markdown table, notes as a list."""
        head, rows = self._table()
        notes = "".join(f"- {n}\n" for n in self._notes())
        table = markdown_table([head, *rows])
        return f"**{self.status}**: {self.reason}\n\n{table}\n" + ("\n" + notes if notes else "")

    def to_html(self) -> str:
        """A self-contained HTML fragment: the table with the verdict as caption, then notes."""
        head, rows = self._table()
        css = "symgrad-" + type(self).__name__.lower()
        table = html_table([head, *rows], css=css, caption=f"{self.status}: {self.reason}")
        notes = [f"<p>{html.escape(n)}</p>" for n in self._notes()]
        return "\n".join([table, *notes]) + "\n"

    def _repr_mimebundle_(
        self,
        include: object = None,
        exclude: object = None,
    ) -> dict[str, str]:
        """Jupyter display: text, Markdown and HTML."""
        return super()._repr_mimebundle_(include, exclude) | {"text/html": self.to_html()}
