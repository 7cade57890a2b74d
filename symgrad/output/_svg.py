"""Inline SVG charts for the report, drawn by symgrad itself: no matplotlib, no raster.

The report's figures are few and of few kinds: lines with markers on log-log (or log-linear)
axes, reference lines with their labels, horizontal and vertical marks, errors that are exactly
0 as hollow triangles on the axis floor, a translucent stroke under a highlighted range, a
title, axis labels and one legend.  This module writes exactly those as SVG text that the page
embeds: vector shapes and real text, crisp at any zoom, searchable and copyable.

**Axis units.**  Data are given in the units of their axis: log10 of the value on a log axis,
the value itself on a linear one.  A log axis therefore has room for any magnitude (an error of
1e-400 from a 500-digit sweep is -400), and a panel maps each axis linearly to pixels::

    px = left + (u - u_lo) / (u_hi - u_lo) * width        (x grows to the right)
    py = top + (u_hi - u) / (u_hi - u_lo) * height       (y grows upwards)

where ``left, top, width, height`` is the plot area (the ``rect`` of class ``plot-area``)
and ``u_lo, u_hi`` the axis range, written on the panel's ``g`` element as ``data-x`` and
``data-y`` so that a reader (or a test) can map a value without this module.

**What is not drawn.**  A NaN or infinite coordinate is no point: a line breaks there and no
marker is drawn (an exact zero is shown by :meth:`Panel.zeros`, never as a point at -inf).

**Ticks.**  A log axis is labelled at decades, 10⁻¹² in plain Unicode with a typographic
minus, every k-th decade so that at most eight labels fit; a linear axis at 1, 2, 2.5 or 5
times a power of ten; or at given places (``Axis.marks``: one tick per grid level, its
h over its N, a label of two lines).  Light grid lines run at the labelled ticks.

**Text.**  Every text is XML-escaped (an expression with ``<``, ``&`` or ``>`` stays text);
sizes are at least 13 px at the figure's own 1000-pixel width, which the page shows at about
its natural size.  Colours are the Okabe–Ito palette of :mod:`symgrad._figures`, and lines
differ also in marker and dash, so no information rests on colour alone.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["Axis", "Chart", "LegendEntry", "Panel", "decade_label", "svg_number"]

FONT = 14.0  # px: tick labels, legend, labels beside lines
TITLE_FONT = 15.0
WIDTH = 1000.0  # the viewBox width; the page scales the figure to its column
_CHAR = 0.56  # estimated width of one character, in font sizes (system sans-serif fonts)
_MINUS = "\u2212"
_TIMES = "\u00d7"
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_DASHES = {"-": "", "--": "7 4", "-.": "8 3 2 3", ":": "2 3"}
_LOG_STEPS = (1, 2, 3, 4, 5, 6, 7, 8, 10, 15, 20, 25, 50, 100, 200, 500, 1000)
_MAX_TICKS = 8
_ID = re.compile(r"[^A-Za-z0-9_-]")


def svg_number(value: float) -> str:
    """A coordinate as SVG text: two decimals, no trailing zeros.

    Examples
    --------
    >>> svg_number(12.0), svg_number(3.14159), svg_number(-0.004)
    ('12', '3.14', '0')
    """
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def decade_label(exponent: int) -> str:
    """10 to an integer power in plain Unicode: ``decade_label(-12)`` is ``10⁻¹²``.

    Examples
    --------
    >>> decade_label(-12), decade_label(0), decade_label(300)
    ('10⁻¹²', '10⁰', '10³⁰⁰')
    """
    return "10" + str(exponent).translate(_SUPERSCRIPT)


def _text(value: object) -> str:
    """Text for SVG: escaped, the ASCII minus of numbers typographic."""
    return html.escape(str(value), quote=True)


def _floats(values: Iterable[float]) -> list[float]:
    return [float(v) for v in values]


def _width(text: str, size: float = FONT) -> float:
    return len(text) * size * _CHAR


def _fit(text: str, room: float, size: float = FONT) -> str:
    """``text``, cut with an ellipsis where it would be wider than ``room`` pixels (the
    figure's ``<title>`` and the page keep the whole text)."""
    most = max(1, int(room / (size * _CHAR)))
    return text if len(text) <= most else text[: most - 1] + "\u2026"


@dataclass(frozen=True)
class Axis:
    """One axis: its label, whether it is logarithmic, and its range in axis units."""

    label: str
    log: bool
    lo: float
    hi: float
    marks: tuple[tuple[float, str], ...] = ()  # explicit (u, text) ticks, lines split by \n

    @classmethod
    def fit(cls, label: str, log: bool, values: Iterable[float], pad: float = 0.05) -> Axis:
        """The axis over the finite ``values``, widened by ``pad`` of its span on each side
        (a single value, or none, gets a span of one unit)."""
        finite = [float(v) for v in values if math.isfinite(v)]
        lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
        span = hi - lo or 1.0
        return cls(label, log, lo - pad * span, hi + pad * span)

    def ticks(self) -> list[tuple[float, str]]:
        """The labelled ticks inside the range: decades of a log axis (1, 2 and 5 times a
        decade when fewer than two decades are inside), round numbers on a linear one; or
        the explicit ``marks`` inside the range (one per grid level, say)."""
        span = self.hi - self.lo
        if not (math.isfinite(span) and span > 0):
            return []
        if self.marks:
            return [(u, text) for u, text in self.marks if self.lo <= u <= self.hi]
        if self.log:
            every = next((s for s in _LOG_STEPS if span / s <= _MAX_TICKS), _LOG_STEPS[-1])
            first = math.ceil(self.lo / every) * every
            count = math.floor((self.hi - first) / every) + 1
            decades = range(first, first + count * every, every)
            if len(decades) >= 2:
                return [(float(e), decade_label(e)) for e in decades]
            return self._within_decades()
        base = 10.0 ** math.floor(math.log10(span / _MAX_TICKS))
        step = next(base * m for m in (1, 2, 2.5, 5, 10) if span / (base * m) <= _MAX_TICKS)
        first = math.ceil(self.lo / step - 1e-9)
        last = math.floor(self.hi / step + 1e-9)
        return [(k * step, f"{k * step:g}".replace("-", _MINUS)) for k in range(first, last + 1)]

    def _within_decades(self) -> list[tuple[float, str]]:
        """m×10^k for m = 1, 2, 5 (else every digit) inside a log axis spanning a decade or
        less: ``2×10⁻⁵``."""
        for digits in ((1, 2, 5), tuple(range(1, 10))):
            found = [
                (k + math.log10(m), (f"{m}{_TIMES}" if m > 1 else "") + decade_label(k))
                for k in range(math.floor(self.lo), math.ceil(self.hi) + 1)
                for m in digits
                if self.lo <= k + math.log10(m) <= self.hi
            ]
            if len(found) >= 2:
                return found
        return found


@dataclass(frozen=True)
class LegendEntry:
    """What the legend shows for one label: a line sample with its marker, or a hollow zero."""

    label: str
    color: str
    marker: str | None = None
    dash: str = "-"
    zero: bool = False


@dataclass
class Panel:
    """One plot area with its axes; shapes are added in drawing order (later on top)."""

    title: str
    x: Axis
    y: Axis
    shapes: list[_Shape] = field(default_factory=list)
    legend: list[LegendEntry] = field(default_factory=list)
    # where the plot area is, set by Chart before drawing: left, top, width, height
    box: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)

    def px(self, u: float) -> float:
        """The pixel column of x = u (axis units)."""
        left, _, width, _ = self.box
        return left + (u - self.x.lo) / (self.x.hi - self.x.lo) * width

    def py(self, u: float) -> float:
        """The pixel row of y = u (axis units)."""
        _, top, _, height = self.box
        return top + (self.y.hi - u) / (self.y.hi - self.y.lo) * height

    # -- shapes: recorded in drawing order, drawn once the layout is known -------------------

    def line(
        self,
        xs: Iterable[float],
        ys: Iterable[float],
        color: str,
        *,
        label: str | None = None,
        marker: str | None = None,
        size: float = 8.0,
        dash: str = "-",
        width: float = 2.0,
    ) -> None:
        """A polyline through the finite points (broken at the others), with markers."""
        self._add(_Line(_floats(xs), _floats(ys), color, marker, size, dash, width))
        if label is not None:
            self.legend.append(LegendEntry(label, color, marker, dash))

    def band(self, xs: Iterable[float], ys: Iterable[float], color: str) -> None:
        """A wide translucent stroke under the points: the highlighted range."""
        self._add(_Line(_floats(xs), _floats(ys), color, None, 0.0, "-", 11.0, opacity=0.25))

    def guide(
        self,
        xs: Iterable[float],
        ys: Iterable[float],
        color: str,
        *,
        text: str,
        at: int | None = 0,
        dash: str = "--",
    ) -> None:
        """A reference line; its ``text`` beside point ``at`` (None: in the legend instead)."""
        xs, ys = _floats(xs), _floats(ys)
        self._add(_Line(xs, ys, color, None, 0.0, dash, 1.5, opacity=0.9))
        if at is None:
            self.legend.append(LegendEntry(text, color, None, dash))
        elif xs:
            rising = (ys[-1] - ys[0]) * (xs[-1] - xs[0]) > 0
            self._add(_Label(xs[at], ys[at], text, color, below=rising))

    def hline(self, y: float, color: str, *, text: str | None = None, dash: str = ":") -> None:
        """A horizontal line across the panel, labelled at its right end."""
        self._add(_Line([self.x.lo, self.x.hi], [y, y], color, None, 0.0, dash, 1.5))
        if text is not None:
            self._add(_Label(self.x.hi, y, text, color, below=False, right=True))

    def vline(self, x: float, color: str, *, label: str, dash: str = ":") -> None:
        """A vertical line across the panel, named in the legend."""
        self._add(_Line([x, x], [self.y.lo, self.y.hi], color, None, 0.0, dash, 1.5))
        self.legend.append(LegendEntry(label, color, None, dash))

    def zeros(
        self, xs: Iterable[float], floor: float, color: str, *, label: str, size: float = 11.0
    ) -> None:
        """Errors that are exactly 0: hollow down-pointing triangles at y = ``floor``."""
        self._add(_Zeros(_floats(xs), floor, color, size))
        self.legend.append(LegendEntry(label, color, "v", zero=True))

    def marks(
        self,
        xs: Iterable[float],
        ys: Iterable[float],
        color: str,
        *,
        marker: str,
        label: str | None = None,
        size: float = 11.0,
    ) -> None:
        """Hollow markers at the finite points, no line: points shown for what they are not
        (a level at the rounding floor, say); ``label`` names them in the legend."""
        self._add(_Marks(_floats(xs), _floats(ys), color, marker, size))
        if label is not None:
            self.legend.append(LegendEntry(label, color, marker, zero=True))

    def tick_lines(self) -> int:
        """The most lines of an x tick label (1 for the automatic ticks)."""
        return max((t.count("\n") + 1 for _, t in self.x.ticks()), default=1)

    def _add(self, shape: _Shape) -> None:
        self.shapes.append(shape)

    def draw(self, ident: str) -> str:
        """The panel as an SVG group (the box must be set)."""
        left, top, width, height = self.box
        clip = f"{ident}-clip"
        parts = [
            (
                f'<g class="panel" data-x="{float(self.x.lo)!r} {float(self.x.hi)!r}" '
                f'data-y="{float(self.y.lo)!r} {float(self.y.hi)!r}">'
            ),
            (
                f'<clipPath id="{clip}"><rect x="{svg_number(left)}" y="{svg_number(top)}" '
                f'width="{svg_number(width)}" height="{svg_number(height)}"/></clipPath>'
            ),
            *self._grid(),
            (
                f'<rect class="plot-area" x="{svg_number(left)}" y="{svg_number(top)}" '
                f'width="{svg_number(width)}" height="{svg_number(height)}" fill="none" '
                'stroke="#333" stroke-width="1"/>'
            ),
            f'<g clip-path="url(#{clip})">',
            *(shape.svg(self) for shape in self.shapes),
            "</g>",
            *self._labels(),
            "</g>",
        ]
        return "\n".join(p for p in parts if p)

    def _grid(self) -> list[str]:
        """Grid lines and tick labels at the labelled ticks of both axes."""
        left, top, width, height = self.box
        right, bottom = left + width, top + height
        out = []
        for u, text in self.x.ticks():
            x = self.px(u)
            out += _tick((x, top, x, bottom), (x, bottom + FONT + 6), "middle", text)
        for u, text in self.y.ticks():
            y = self.py(u)
            out += _tick((left, y, right, y), (left - 6, y), "end", text)
        return out

    def _labels(self) -> list[str]:
        """The panel title above, the axis labels below and to the left."""
        left, top, width, height = self.box
        middle = svg_number(left + width / 2)
        tick_room = max((_width(t) for _, t in self.y.ticks()), default=0.0)
        x_label = svg_number(left - tick_room - 14)
        y_middle = svg_number(top + height / 2)
        below = top + height + 2 * FONT + 16 + (self.tick_lines() - 1) * (FONT + 2)
        return [
            (
                f'<text class="title" x="{middle}" y="{svg_number(top - 9)}" '
                f'text-anchor="middle">{_text(_fit(self.title, width, TITLE_FONT))}</text>'
            ),
            (
                f'<text class="label" x="{middle}" y="{svg_number(below)}" '
                f'text-anchor="middle">{_text(self.x.label)}</text>'
            ),
            (
                f'<text class="label" x="{x_label}" y="{y_middle}" text-anchor="middle" '
                f'transform="rotate(-90 {x_label} {y_middle})">{_text(self.y.label)}</text>'
            ),
        ]


def _tick(
    line: tuple[float, float, float, float], at: tuple[float, float], anchor: str, text: str
) -> list[str]:
    """A grid line across the plot area and its tick label (beside a y tick: centred on it)."""
    x1, y1, x2, y2 = map(svg_number, line)
    x, y = map(svg_number, at)
    baseline = ' dominant-baseline="middle"' if anchor == "end" else ""
    first, *more = text.split("\n")
    lines = _text(first) + "".join(
        f'<tspan x="{x}" dy="{svg_number(FONT + 2)}">{_text(line)}</tspan>' for line in more
    )
    return [
        f'<line class="grid" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"/>',
        f'<text class="tick" x="{x}" y="{y}" text-anchor="{anchor}"{baseline}>{lines}</text>',
    ]


class _Shape:
    def svg(self, panel: Panel) -> str:  # pragma: no cover - every shape overrides it
        raise NotImplementedError


@dataclass
class _Line(_Shape):
    xs: list[float]
    ys: list[float]
    color: str
    marker: str | None
    size: float
    dash: str
    width: float
    opacity: float = 1.0

    def svg(self, panel: Panel) -> str:
        points = [
            (panel.px(x), panel.py(y))
            for x, y in zip(self.xs, self.ys, strict=True)
            if math.isfinite(x) and math.isfinite(y)
        ]
        runs = _runs(self.xs, self.ys)
        dash = _DASHES[self.dash]
        style = (
            f'fill="none" stroke="{self.color}" stroke-width="{svg_number(self.width)}" '
            'stroke-linecap="round" stroke-linejoin="round"'
            + (f' stroke-dasharray="{dash}"' if dash else "")
            + (f' stroke-opacity="{self.opacity}"' if self.opacity < 1 else "")
        )
        out = []
        for run in runs:
            if len(run) > 1:
                coords = " ".join(
                    f"{svg_number(panel.px(x))},{svg_number(panel.py(y))}" for x, y in run
                )
                out.append(f'<polyline points="{coords}" {style}/>')
        if self.marker is not None:
            out += [marker(self.marker, x, y, self.size, self.color) for x, y in points]
        return "\n".join(out)


def _runs(xs: Sequence[float], ys: Sequence[float]) -> list[list[tuple[float, float]]]:
    """The stretches of consecutive finite points (a line breaks at NaN and inf)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in zip(xs, ys, strict=True):
        if math.isfinite(x) and math.isfinite(y):
            runs[-1].append((x, y))
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


@dataclass
class _Label(_Shape):
    x: float
    y: float
    text: str
    color: str
    below: bool
    right: bool = False

    def svg(self, panel: Panel) -> str:
        if not (math.isfinite(self.x) and math.isfinite(self.y)):
            return ""
        px, py = panel.px(self.x), panel.py(self.y)
        px = px - 4 if self.right else px + 6
        py = py + FONT + 2 if self.below else py - 5
        anchor = "end" if self.right else "start"
        return (
            f'<text class="note" x="{svg_number(px)}" y="{svg_number(py)}" '
            f'text-anchor="{anchor}" fill="{self.color}">{_text(self.text)}</text>'
        )


@dataclass
class _Marks(_Shape):
    xs: list[float]
    ys: list[float]
    color: str
    kind: str
    size: float

    def svg(self, panel: Panel) -> str:
        return "\n".join(
            marker(self.kind, panel.px(x), panel.py(y), self.size, self.color, hollow=True)
            for x, y in zip(self.xs, self.ys, strict=True)
            if math.isfinite(x) and math.isfinite(y)
        )


@dataclass
class _Zeros(_Shape):
    xs: list[float]
    y: float
    color: str
    size: float

    def svg(self, panel: Panel) -> str:
        py = panel.py(self.y)
        return "\n".join(
            marker("v", panel.px(x), py, self.size, self.color, hollow=True)
            for x in self.xs
            if math.isfinite(x)
        )


def marker(kind: str, x: float, y: float, size: float, color: str, *, hollow: bool = False) -> str:
    """One marker centred at pixel (x, y): o circle, s square, ^ v triangles, D diamond,
    P plus, X cross; ``size`` is its width in pixels."""
    r = size / 2
    fill = "white" if hollow else color
    style = f'fill="{fill}" stroke="{color}" stroke-width="{1.8 if hollow else 1}"'
    if kind == "o":
        return f'<circle cx="{svg_number(x)}" cy="{svg_number(y)}" r="{svg_number(r)}" {style}/>'
    shapes = {
        "s": [(-r, -r), (r, -r), (r, r), (-r, r)],
        "^": [(0, -r * 1.15), (r * 1.1, r * 0.75), (-r * 1.1, r * 0.75)],
        "v": [(0, r * 1.15), (r * 1.1, -r * 0.75), (-r * 1.1, -r * 0.75)],
        "D": [(0, -r * 1.2), (r, 0), (0, r * 1.2), (-r, 0)],
        "P": _plus(r, 0.34 * r),
        "X": [_turn(p) for p in _plus(r * 1.15, 0.3 * r)],
    }
    corners = shapes.get(kind, shapes["s"])
    points = " ".join(f"{svg_number(x + dx)},{svg_number(y + dy)}" for dx, dy in corners)
    return f'<polygon points="{points}" {style}/>'


def _plus(r: float, t: float) -> list[tuple[float, float]]:
    return [
        (-t, -r), (t, -r), (t, -t), (r, -t), (r, t), (t, t),
        (t, r), (-t, r), (-t, t), (-r, t), (-r, -t), (-t, -t),
    ]  # fmt: skip


def _turn(p: tuple[float, float]) -> tuple[float, float]:
    c = math.sqrt(0.5)
    return (c * (p[0] - p[1]), c * (p[0] + p[1]))


@dataclass
class Chart:
    """A figure: title lines, panels side by side, and one legend under them.

    ``ident`` names the figure's element ids (clip paths); several charts on one page need
    different ones.
    """

    title: Sequence[str]
    panels: Sequence[Panel]
    ident: str
    columns: int = 2
    alt: str = ""

    def to_svg(self) -> str:
        """The figure as one ``<svg>`` element (its height follows from the legend)."""
        title_height = 10 + 22 * len(self.title)
        top = title_height + 28
        gap, left_room, right_pad, height = 30.0, 80.0, 14.0, 330.0
        count = len(self.panels)
        width = (WIDTH - right_pad - count * left_room - (count - 1) * gap) / count
        for k, panel in enumerate(self.panels):
            left = left_room + k * (width + left_room + gap)
            panel.box = (left, top, width, height)
        lines = max((panel.tick_lines() for panel in self.panels), default=1)
        legend_top = top + height + 2 * FONT + 34 + (lines - 1) * (FONT + 2)
        legend, legend_height = self._legend(legend_top)
        total = legend_top + legend_height + 8
        ident = _ID.sub("-", self.ident)
        parts = [
            (
                f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {svg_number(WIDTH)} '
                f'{svg_number(total)}" width="100%" role="img" class="symgrad-figure" '
                f"font-family=\"system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif\" "
                f'font-size="{FONT:g}">'
            ),
            f"<title>{_text(self.alt or ' '.join(self.title))}</title>",
            (
                "<style>.grid{stroke:#000;stroke-opacity:.09;stroke-width:1}"
                ".tick{fill:#222}.label{fill:#111;font-size:15px}"
                f".title{{fill:#111;font-size:{TITLE_FONT:g}px}}"
                ".note{paint-order:stroke;stroke:#fff;stroke-width:4px;stroke-linejoin:round}"
                ".heading{fill:#111;font-size:16px}</style>"
            ),
            '<rect width="100%" height="100%" fill="white"/>',
        ]
        parts += [
            f'<text class="heading" x="{svg_number(WIDTH / 2)}" y="{26 + 22 * k}" '
            f'text-anchor="middle">{_text(_fit(line, WIDTH - 20, 16.0))}</text>'
            for k, line in enumerate(self.title)
        ]
        parts += [panel.draw(f"{ident}-{k}") for k, panel in enumerate(self.panels)]
        parts += [legend, "</svg>"]
        return "\n".join(p for p in parts if p)

    def _legend(self, top: float) -> tuple[str, float]:
        """Each label once, in the order first drawn, in ``columns`` columns."""
        seen: dict[str, LegendEntry] = {}
        for panel in self.panels:
            for entry in panel.legend:
                seen.setdefault(entry.label, entry)
        entries = list(seen.values())
        if not entries:
            return "", 0.0
        columns = max(1, min(self.columns, len(entries)))
        rows = math.ceil(len(entries) / columns)
        sample, row_height = 34.0, FONT + 9
        widest = max(_width(e.label) for e in entries) + sample + 24
        column_width = min(widest, (WIDTH - 40) / columns)
        room = column_width - sample - 16  # the text beside the sample
        left = (WIDTH - columns * column_width) / 2
        out = [
            (
                f'<rect class="legend" x="{svg_number(left - 8)}" y="{svg_number(top - 6)}" '
                f'width="{svg_number(columns * column_width + 16)}" '
                f'height="{svg_number(rows * row_height + 10)}" fill="white" stroke="#ccc" rx="4"/>'
            )
        ]
        for k, entry in enumerate(entries):
            column, row = divmod(k, rows)
            x = left + column * column_width
            y = top + row * row_height + row_height / 2
            out.append(_legend_sample(entry, x, y, sample))
            out.append(
                f'<text x="{svg_number(x + sample + 8)}" y="{svg_number(y)}" '
                f'dominant-baseline="middle">{_text(_fit(entry.label, room))}</text>'
            )
        return "\n".join(out), rows * row_height + 10


def _legend_sample(entry: LegendEntry, x: float, y: float, length: float) -> str:
    """The legend's picture of an entry: its line (not for zeros) and marker."""
    out = []
    if not entry.zero:
        dash = _DASHES[entry.dash]
        out.append(
            f'<line x1="{svg_number(x)}" y1="{svg_number(y)}" x2="{svg_number(x + length)}" '
            f'y2="{svg_number(y)}" stroke="{entry.color}" stroke-width="2"'
            + (f' stroke-dasharray="{dash}"' if dash else "")
            + "/>"
        )
    if entry.marker is not None:
        out.append(marker(entry.marker, x + length / 2, y, 9.0, entry.color, hollow=entry.zero))
    return "\n".join(out)
