"""Figure plumbing shared by symgrad's plots: matplotlib on demand, log axes, saving.

matplotlib is the optional ``plot`` extra: it is imported only when a figure is made, and a
missing installation raises :class:`~symgrad.errors.MissingExtra` naming the extra.  Figures are
built on an Agg canvas, never through pyplot: no global state, nothing shown, works headless.

Errors may lie far below the float64 range (``"1.2e-400"`` from a 500-digit sweep): they are
read exactly with mpmath and handled as log10 values.  When every value of an axis lies within
1e±300 the axis is an ordinary log axis; otherwise it is linear in log10 |value|, labelled so.

Colours are the Okabe–Ito palette, distinguishable under the common colour-vision deficiencies
(matplotlib's tab10 pairs red with green); lines also differ in marker or dash, and every line
has a label, in the legend or beside it.

**Projector-ready.**  Every text of a figure is at least ``MIN_FONT`` (12 pt) at the figure's
own size: :func:`new_figure` makes tick labels that size, and the figure raises any smaller
text (a legend, an annotation, a colour bar) to it each time it is drawn, so no plot can
forget.  Figures are wide enough (7 inches and more) for 12-point labels.
"""

from __future__ import annotations

import base64
import functools
import importlib
import io
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from symgrad._files import figure_metadata, write_atomic
from symgrad._precision import thread_context
from symgrad.errors import ConfigError, InputError, MissingExtra, quote

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

__all__ = ["HasToDict", "figure_to_png_base64", "save_figure", "style_figure"]

FloatArray = npt.NDArray[np.float64]
_EXTRA = "install the plot extra: pip install 'symgrad[plot]'"
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
MINUS, PRIME = "\u2212", "\u2032"  # typographic minus and prime for figure text
TIMES = "\u00d7"  # the multiplication sign of 2×10⁻³
_LOG_RANGE = 300.0  # |log10 v| beyond this does not fit a float64 log axis
STEP_SIZES = 10.0 ** (-np.arange(3, 49) / 3)  # 1e-1 … 1e-16, three per decade, exact decades
_FORMATS = ("pdf", "png", "svg")
HIGHLIGHT: dict[str, Any] = {
    "lw": 9,
    "alpha": 0.25,
    "solid_capstyle": "round",
    "zorder": 1,
    "gid": "range",
}
LABEL_BOX = {"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1}
MIN_FONT = 12.0  # points: readable from the back of a lecture room
TITLE_FONT = 14.0


class HasToDict(Protocol):
    """Any symgrad result: an object whose ``to_dict()`` gives its JSON data."""

    def to_dict(self) -> Mapping[str, Any]:
        """Plain JSON-ready data."""
        ...


# -- figures, axes and numbers --------------------------------------------------------------


def _mpl() -> tuple[type[Figure], type[FigureCanvasAgg]]:
    """matplotlib's Figure and Agg canvas, or ``MissingExtra`` naming the extra to install."""
    try:
        importlib.import_module("matplotlib")  # first, so that a blocked package fails here
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
        from matplotlib.figure import Figure  # noqa: PLC0415
    except ImportError as exc:
        raise MissingExtra(_EXTRA) from exc
    return Figure, FigureCanvasAgg


def new_figure(
    panels: int, size: tuple[float, float], grid: bool = True
) -> tuple[Figure, list[Axes]]:
    """A constrained-layout figure of ``panels`` axes side by side, with projector-sized text."""
    figure_class, canvas_class = _mpl()
    fig = _readable(figure_class)(figsize=size, layout="constrained")
    canvas_class(fig)
    axes = [fig.add_subplot(1, panels, i + 1) for i in range(panels)]
    for ax in axes:
        ax.tick_params(labelsize=MIN_FONT)
        ax.xaxis.label.set_fontsize(MIN_FONT + 1)
        ax.yaxis.label.set_fontsize(MIN_FONT + 1)
        ax.title.set_fontsize(TITLE_FONT)
        if grid:
            ax.grid(visible=True, alpha=0.3)
    return fig, axes


def raise_small_text(fig: Figure) -> None:
    """Every text of ``fig`` (ticks of every axes, colour bars included) at least the smallest
    size of its style (``MIN_FONT``, 12 pt, or 18 pt for ``talk``); log-axis tick labels in
    plain Unicode (:func:`plain_log_labels`)."""
    from matplotlib.text import Text  # noqa: PLC0415 - matplotlib is imported on demand

    smallest = MIN_FONT * STYLES[getattr(fig, "symgrad_style", "paper")].font
    for ax in fig.axes:
        sizes = [axis.get_tick_params().get("labelsize") for axis in (ax.xaxis, ax.yaxis)]
        if not all(isinstance(s, int | float) and s >= smallest for s in sizes):
            ax.tick_params(labelsize=smallest)  # rebuilds the ticks: only when needed
        plain_log_labels(ax)
    for text in fig.findobj(Text):
        if float(text.get_fontsize()) < smallest:
            text.set_fontsize(smallest)


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_POWER = re.compile(r"\^\{([-0-9]+)\}")


def plain_math(label: str) -> str:
    r"""matplotlib's mathtext tick label of a log axis as plain Unicode text, the same picture:
    ``$\mathdefault{2\times10^{-3}}$`` → ``2×10⁻³`` (with a typographic minus).

    Mathtext is typeset by a parser (pyparsing), once per label, size and resolution: about
    10 ms a label, most of a report figure's time; plain text is drawn by the font directly.

    Examples
    --------
    >>> plain_math(r"$\mathdefault{2\times10^{-3}}$"), plain_math(r"$\mathdefault{-10^{5}}$")
    ('2×10⁻³', '−10⁵')
    >>> plain_math("0.5"), plain_math(r"$\mathdefault{10^{2.50}}$")  # unknown forms stay
    ('0.5', '$\\mathdefault{10^{2.50}}$')
    """
    prefix, suffix = "$\\mathdefault{", "}$"
    if not (label.startswith(prefix) and label.endswith(suffix)):
        return label
    inner = label[len(prefix) : -len(suffix)].replace("\\times", TIMES)
    inner = _POWER.sub(lambda m: m.group(1).translate(_SUPERSCRIPT), inner)
    if "\\" in inner or "{" in inner:  # a form this does not know: keep the mathtext
        return label
    return inner.replace("-", MINUS)


def plain_log_labels(ax: Axes) -> None:
    """The tick labels of ``ax``'s log axes (matplotlib's default scientific formatter) drawn
    as plain Unicode text instead of mathtext: same text, a fraction of the drawing time."""
    from matplotlib.ticker import LogFormatterSciNotation  # noqa: PLC0415 - on demand

    unicode_formatter = _unicode_log_formatter()
    for axis in (ax.xaxis, ax.yaxis):
        for formatter in (axis.get_major_formatter(), axis.get_minor_formatter()):
            if type(formatter) is LogFormatterSciNotation:
                formatter.__class__ = unicode_formatter  # a subclass with no state of its own


@functools.cache
def _unicode_log_formatter() -> type[Any]:
    """``LogFormatterSciNotation`` whose labels go through :func:`plain_math`."""
    from matplotlib.ticker import LogFormatterSciNotation  # noqa: PLC0415 - on demand

    class UnicodeLogFormatter(LogFormatterSciNotation):
        def __call__(self, x: float, pos: int | None = None) -> str:
            return plain_math(super().__call__(x, pos))

    return UnicodeLogFormatter


@dataclass(frozen=True)
class FigureStyle:
    """How much a style enlarges a figure's type, lines and markers, and its size."""

    font: float
    line: float
    size: float


STYLES: Mapping[str, FigureStyle] = {
    "paper": FigureStyle(1.0, 1.0, 1.0),  # 12 pt and more: a page, a screen, a lecture room
    "talk": FigureStyle(1.5, 1.7, 1.25),  # 18 pt and more, thick lines: a projector, far seats
}


def style_figure(fig: Figure, style: str = "paper") -> Figure:
    """``fig`` in a style: ``"paper"`` (as drawn) or ``"talk"`` for a projector.

    ``talk`` makes the figure 1.25 times larger, every text 1.5 times larger (18 pt at
    least, ticks, legends and annotations included), and lines and marker edges 1.7 times
    thicker, markers 1.3 times larger; colours and layout stay.  A figure is styled once.

    Examples
    --------
    >>> from symgrad.output import plot_secant_tangent
    >>> fig = style_figure(plot_secant_tangent("x**3", "x=0.5"), "talk")
    >>> fig.get_size_inches().tolist(), fig.axes[0].get_lines()[0].get_linewidth()
    ([9.375, 6.875], 3.4)
    """
    from matplotlib.collections import Collection  # noqa: PLC0415 - imported on demand
    from matplotlib.lines import Line2D  # noqa: PLC0415
    from matplotlib.text import Text  # noqa: PLC0415

    if style not in STYLES:
        msg = f"unknown figure style {quote(str(style))}: use one of {', '.join(STYLES)}"
        raise ConfigError(msg)
    if style == getattr(fig, "symgrad_style", "paper"):
        return fig
    if getattr(fig, "symgrad_style", "paper") != "paper":
        msg = f"this figure is already in the {fig.symgrad_style!r} style; draw it again"  # type: ignore[attr-defined]
        raise ConfigError(msg)
    scale = STYLES[style]
    width, height = fig.get_size_inches()
    fig.set_size_inches((float(width) * scale.size, float(height) * scale.size))
    for text in fig.findobj(Text):
        text.set_fontsize(float(text.get_fontsize()) * scale.font)
    for line in fig.findobj(Line2D):
        line.set_linewidth(line.get_linewidth() * scale.line)
        line.set_markersize(line.get_markersize() * 1.3)
        line.set_markeredgewidth(line.get_markeredgewidth() * scale.line)
    for collection in fig.findobj(Collection):
        widths = np.atleast_1d(collection.get_linewidth()) * scale.line
        collection.set_linewidth([float(w) for w in widths])
    for ax in fig.axes:
        ax.tick_params(width=scale.line, length=3.5 * scale.line)
    fig.symgrad_style = style  # type: ignore[attr-defined]
    return fig


def _readable(figure_class: type[Figure]) -> type[Figure]:
    """``figure_class`` whose ``draw`` first raises small text: no plot can forget it."""

    class ReadableFigure(figure_class):  # type: ignore[misc, valid-type]
        def draw(self, renderer: Any) -> None:
            raise_small_text(self)
            super().draw(renderer)

    return ReadableFigure


def log10_axis(values: Sequence[Any]) -> FloatArray:
    """log10 |v|, read exactly (strings such as "1.2e-400" too); -inf for 0, NaN if missing."""
    ctx = thread_context(20)
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        try:
            x = None if v is None else ctx.mpf(v.strip()) if isinstance(v, str) else ctx.convert(v)
        except (ValueError, TypeError) as exc:
            msg = f"expected a number or a decimal string (got {quote(str(v))})"
            raise InputError(msg) from exc
        if x is not None and ctx.isfinite(x):
            out[i] = -math.inf if x == 0 else float(ctx.log10(abs(x)))
    return out


@dataclass(frozen=True)
class LogAxis:
    """Where log10 data goes: a log axis, or beyond the float64 range a linear log10 axis."""

    linear: bool

    @classmethod
    def of(cls, *arrays: FloatArray) -> LogAxis:
        values = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays])
        values = values[np.isfinite(values)]
        return cls(not values.size or float(np.abs(values).max()) > _LOG_RANGE)

    def __call__(self, logs: Any) -> FloatArray:
        values: FloatArray = np.asarray(logs, dtype=float)
        return values if self.linear else np.power(10.0, values)

    def at(self, log: float) -> float:
        return float(self(log))

    def label(self, ax: Axes, which: str, text: str) -> None:
        if not self.linear:
            getattr(ax, f"set_{which}scale")("log")
        getattr(ax, f"set_{which}label")(f"log10 {text}" if self.linear else text)


def guide(
    ax: Axes,
    x: Any,
    y: Any,
    text: str,
    color: str,
    at: int,
    seen: set[str],
    *,
    direct: bool = True,
    ls: str = "--",
) -> None:
    """A reference line labelled ``text``: beside its point ``at``, on the empty side (once per
    text), or with ``direct=False`` in the legend (where labels would crowd the axes)."""
    ax.plot(x, y, ls=ls, lw=1.2, color=color, alpha=0.8, label=text if not direct else None)
    if not direct or text in seen or not len(x):
        return
    seen.add(text)
    rising = (y[-1] - y[0]) * (x[-1] - x[0]) > 0
    box: dict[str, Any] = {"fontsize": MIN_FONT, "color": color, "bbox": LABEL_BOX}
    where: dict[str, Any] = {"xytext": (6, -4 if rising else 4), "textcoords": "offset points"}
    ax.annotate(text, (x[at], y[at]), va="top" if rising else "bottom", **where, **box)


def floor_of(logs: Sequence[FloatArray]) -> float:
    """log10 of the axis floor where exact zeros are drawn: a decade below the smallest
    nonzero value (1e-16, float64's relative epsilon, when every value is 0)."""
    finite = [a[np.isfinite(a)] for a in logs]
    values = np.concatenate(finite) if finite else np.array([])
    return float(values.min()) - 1.0 if values.size else -16.0


def draw_zeros(ax: Axes, x: Any, y_floor: float, color: str, label: str, size: float = 11) -> None:
    """Errors that are exactly 0 (no place on a log axis), honestly: hollow down-pointing
    triangles on the axis floor, labelled "exactly 0" in the legend (sizes differ so that
    triangles at the same place stay visible, one inside the other)."""
    ax.plot(
        x,
        np.full(len(x), y_floor),
        ls="none",
        marker="v",
        ms=size,
        mfc="white",
        mec=color,
        mew=2,
        label=f"{label}: exactly 0 (\u25bd, at the floor)",
        clip_on=False,
        zorder=5,
    )


def shared_legend(fig: Figure, axes: Sequence[Axes], columns: Callable[[int], int]) -> None:
    """One legend under the panels (never over the data), each label once, gathered from every
    panel; ``columns(n)`` gives the number of columns for n entries."""
    found: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            found.setdefault(label, handle)
    if found:
        fig.legend(
            list(found.values()),
            list(found),
            loc="outside lower center",
            ncols=min(len(found), columns(len(found))),
            fontsize=MIN_FONT,
        )


def as_data(result: Mapping[str, Any] | HasToDict, key: str) -> Mapping[str, Any]:
    data = result.to_dict() if hasattr(result, "to_dict") else result
    if not isinstance(data, Mapping) or key not in data:
        msg = f"expected a result or its JSON dict with a {key!r} entry (got {type(data).__name__})"
        raise InputError(msg)
    return data


def point_text(point: object) -> str:
    if isinstance(point, Mapping):
        return ", ".join(f"{k} = {v}" for k, v in point.items())
    return "?" if point is None else str(point)


# -- output ---------------------------------------------------------------------------------


def save_figure(fig: Figure, path: str | os.PathLike[str]) -> None:
    """Write ``fig`` to ``path`` atomically; the format (png, svg, pdf) comes from the suffix.

    The figure is rendered in memory and written by :func:`symgrad._files.write_atomic`: a
    failed or interrupted render never leaves a half-written plot in place of the user's file.
    A replaced file keeps its permissions; a new one gets the usual 0666 less the umask.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from symgrad.output import plot_secant_tangent
    >>> fig = plot_secant_tangent("exp(x)", 0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_figure(fig, pathlib.Path(tmp) / "tangent.svg")
    ...     (pathlib.Path(tmp) / "tangent.svg").read_text()[:5]
    '<?xml'
    """
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in _FORMATS:
        msg = f"cannot tell the format of {quote(str(path))}: end the name in .png, .svg or .pdf"
        raise ConfigError(msg)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, metadata=figure_metadata(fmt))  # marks the file as symgrad's
    write_atomic(target, buffer.getvalue())


def figure_to_png_base64(fig: Figure, dpi: int = 110) -> str:
    """The figure as base64 PNG: the payload of a ``data:image/png;base64,`` URI.

    Examples
    --------
    >>> import base64
    >>> from symgrad.output import plot_secant_tangent
    >>> payload = figure_to_png_base64(plot_secant_tangent("x**3", 0.5), dpi=40)
    >>> base64.b64decode(payload)[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
