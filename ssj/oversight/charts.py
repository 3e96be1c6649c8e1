"""Geometry of the oversight dashboard's charts, as plain data (SPEC §8; Art 7, 9, 15, 19).

The charts are drawn on the server as inline SVG, because the strict CSP
allows no chart script and no inline style: this module only turns numbers
into rectangles and lines, and `templates/oversight/_charts.html` writes
them out with CSS classes for colour. No Flask, no database: values in,
coordinates out, so the arithmetic is unit-tested on its own.

Values are ints, Fractions or Decimals and are scaled exactly; only the
final coordinates are rounded (to 0.1 px), so a bar at the maximum ends
precisely at the plot's right edge and a zero draws nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Optional, Sequence, Union

Number = Union[int, Fraction, Decimal]

# Layout of a horizontal bar chart, in SVG user units (the viewBox scales it).
WIDTH = 900
LABEL_WIDTH = 330  # room for a matter's code and Chinese name
VALUE_WIDTH = 110  # room for the figure printed after each bar
ROW = 26
BAR = 16
TOP = 8
AXIS = 22  # room under the bars for the reference line's caption
LABEL_CHARS = 24  # a longer label is cut with "…" (the data table has it in full)


def _exact(v: Number) -> Fraction:
    return Fraction(v) if not isinstance(v, Fraction) else v


def _px(v: Fraction) -> float:
    return round(float(v), 1)


def short_label(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Item:
    """One bar to draw: its label, value, the figure printed beside it and its colour class."""

    label: str
    value: Number
    text: str = ""
    css: str = "bar"


@dataclass(frozen=True)
class Bar:
    label: str
    full_label: str
    text: str
    css: str
    x: float
    y: float
    width: float
    height: float
    label_x: float
    text_x: float
    text_y: float


@dataclass(frozen=True)
class Reference:
    """A vertical line across the plot at a value, e.g. Art 7's 1 %."""

    x: float
    y1: float
    y2: float
    caption: str
    caption_y: float


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    plot_x: int
    plot_width: int
    bars: tuple[Bar, ...]
    reference: Optional[Reference]

    @property
    def empty(self) -> bool:
        return not self.bars


def hbar_chart(
    items: Sequence[Item],
    *,
    reference: Optional[Number] = None,
    reference_caption: str = "",
    maximum: Optional[Number] = None,
    width: int = WIDTH,
) -> BarChart:
    """Horizontal bars, one row per item, on a common scale from zero.

    The scale runs to the largest of the values, the reference and
    `maximum`, so the reference line always lies inside the plot.
    """
    plot_x = LABEL_WIDTH
    plot_width = width - LABEL_WIDTH - VALUE_WIDTH
    top_value = max([_exact(i.value) for i in items] + [_exact(reference or 0), _exact(maximum or 0)])
    scale = Fraction(plot_width) / top_value if top_value > 0 else Fraction(0)
    bars = []
    for n, item in enumerate(items):
        y = TOP + n * ROW
        w = max(_exact(item.value), Fraction(0)) * scale
        bars.append(
            Bar(
                label=short_label(item.label),
                full_label=item.label,
                text=item.text or str(item.value),
                css=item.css,
                x=float(plot_x),
                y=float(y),
                width=_px(w),
                height=float(BAR),
                label_x=float(plot_x - 6),
                text_x=_px(plot_x + w + 6),
                text_y=float(y + BAR - 3),
            )
        )
    bottom = TOP + len(items) * ROW
    ref = None
    if reference is not None and items:
        x = _px(plot_x + _exact(reference) * scale)
        ref = Reference(x=x, y1=float(TOP - 4), y2=float(bottom), caption=reference_caption, caption_y=float(bottom + 14))
    return BarChart(
        width=width,
        height=bottom + (AXIS if ref else 4),
        plot_x=plot_x,
        plot_width=plot_width,
        bars=tuple(bars),
        reference=ref,
    )


@dataclass(frozen=True)
class Segment:
    """One part of a stacked bar: its label, count and colour class."""

    label: str
    value: int
    css: str


@dataclass(frozen=True)
class Piece:
    label: str
    value: int
    css: str
    x: float
    width: float
    share: Fraction


@dataclass(frozen=True)
class Key:
    """A legend entry: a swatch and its text, laid out under the bar."""

    label: str
    value: int
    css: str
    x: float
    y: float


@dataclass(frozen=True)
class StackedBar:
    width: int
    height: int
    bar_y: int
    bar_height: int
    pieces: tuple[Piece, ...]
    keys: tuple[Key, ...]
    total: int

    @property
    def empty(self) -> bool:
        return self.total == 0


STACK_HEIGHT = 30
KEY_ROW = 22
KEYS_PER_ROW = 2


def stacked_bar(segments: Sequence[Segment], *, width: int = WIDTH) -> StackedBar:
    """One bar split into consecutive pieces by count; pieces of zero are left out of the bar but kept in the legend."""
    total = sum(max(s.value, 0) for s in segments)
    pieces = []
    at = Fraction(0)
    for s in segments:
        if s.value <= 0 or total == 0:
            continue
        share = Fraction(s.value, total)
        w = share * width
        # Each piece starts where the last one ended (both rounded from exact
        # sums), so rounding never leaves a gap or an overlap between them.
        pieces.append(Piece(s.label, s.value, s.css, _px(at), _px(at + w) - _px(at), share))
        at += w
    keys = []
    column = width // KEYS_PER_ROW
    for n, s in enumerate(segments):
        row, col = divmod(n, KEYS_PER_ROW)
        keys.append(Key(s.label, s.value, s.css, float(col * column), float(STACK_HEIGHT + 12 + row * KEY_ROW)))
    rows = -(-len(segments) // KEYS_PER_ROW)
    return StackedBar(
        width=width,
        height=STACK_HEIGHT + 12 + rows * KEY_ROW,
        bar_y=0,
        bar_height=STACK_HEIGHT,
        pieces=tuple(pieces),
        keys=tuple(keys),
        total=total,
    )
