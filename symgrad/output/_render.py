"""Documents from results: self-contained HTML pages, Markdown, and atomic file writing.

Results render themselves into fragments (``to_text``, ``to_markdown``, ``to_html``); this module
assembles fragments into whole documents.  Everything here returns strings; the command line
writes them with :func:`symgrad._files.write_atomic`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from symgrad.results import Status

__all__ = ["Section", "escape", "html_page", "markdown_document", "status_badge"]

_CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 68rem; padding: 0 1rem; color: #1d1d1f; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.25rem; margin-top: 2rem;
     border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
table { border-collapse: collapse; margin: .6rem 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ddd; padding: .25rem .6rem; text-align: right; }
th { background: #f5f5f7; } td:first-child, th:first-child { text-align: left; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: .9em; }
pre { background: #f5f5f7; padding: .8rem; overflow-x: auto; border-radius: 6px; }
.badge { display: inline-block; padding: .05rem .55rem; border-radius: 1rem; color: #fff;
         font-weight: 600; font-size: .85em; }
.pass { background: #1a7f37; } .exact { background: #0969da; }
.fail { background: #cf222e; } .inconclusive { background: #9a6700; }
.reason { color: #57606a; } img { max-width: 100%; }
caption { text-align: left; padding: .2rem 0; font-weight: 600; }
table.facts td { text-align: left; } h3 { font-size: 1.05rem; margin-top: 1.4rem; }
math { font-size: 1.15em; }
"""


@dataclass(frozen=True)
class Section:
    """One titled part of a document: an HTML fragment and its Markdown twin."""

    title: str
    html: str
    markdown: str
    status: Status | None = None


def escape(text: object) -> str:
    """HTML-escape any value's string form."""
    return html.escape(str(text), quote=True)


def status_badge(status: Status) -> str:
    """A coloured verdict badge for HTML."""
    return f'<span class="badge {status.value}">{escape(status.value)}</span>'


def html_page(title: str, sections: Sequence[Section], *, subtitle: str = "") -> str:
    """A self-contained HTML page (inline CSS; images must be data URIs)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
    ]
    if subtitle:
        parts.append(f'<p class="reason">{escape(subtitle)}</p>')
    for section in sections:
        badge = f" {status_badge(section.status)}" if section.status is not None else ""
        parts.append(f"<h2>{escape(section.title)}{badge}</h2>")
        parts.append(section.html)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def markdown_document(title: str, sections: Sequence[Section], *, subtitle: str = "") -> str:
    """The same document as Markdown."""
    parts = [f"# {title}", ""]
    if subtitle:
        parts += [subtitle, ""]
    for section in sections:
        verdict = f" ({section.status.value})" if section.status is not None else ""
        parts += [f"## {section.title}{verdict}", "", section.markdown.rstrip(), ""]
    return "\n".join(parts)
