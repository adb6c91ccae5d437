"""A histogram of vertical bars drawn with block characters, for the Consumption screens.

One bar per period, one or more series: a lone series, several stacked in one bar, or side
by side (one column each). Heights are drawn to an eighth of a row (``▁▂▃▄▅▆▇█``); a
boundary between two stacked series inside one cell takes the lower one's colour as
foreground and the upper one's as background, so a stack reads in 16 colours.

A missing value (``None``) is never drawn as zero: its column is shaded ``░`` from bottom to
top (one cell on top of a stack where only some series are missing). Periods from
``future_from`` on are left blank. The top row gives the scale (what the full height is
worth), the bottom row the periods' labels: as many as fit with a space between them, the
cursor's always, reversed. When the bars cannot all fit (side by side, many series) the
chart shows the window of bars around the cursor, with ``‹`` and ``›`` at the ends.

:func:`draw` is pure (a :class:`Chart` and a size in, lines of :class:`~rich.text.Text`
out); :class:`Histogram` is the widget around it.
"""

from __future__ import annotations

import functools
import itertools
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

BLOCKS = " ▁▂▃▄▅▆▇█"
MISSING = "░"
# Colours of the series, readable on the 16 ANSI colours of a serial console.
PALETTE: tuple[str, ...] = (
    "cyan",
    "yellow",
    "magenta",
    "green",
    "blue",
    "red",
    "bright_cyan",
    "bright_yellow",
    "bright_magenta",
    "bright_green",
)
MISSING_STYLE = Style(color="bright_black")
LABEL_STYLE = Style(dim=True)
CURSOR_STYLE = Style(reverse=True, bold=True)


PLAIN = Style()


def series_colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


@functools.cache
def _bar_style(colour: str, upper: str | None = None) -> Style:
    """One Style per colour pair: a chart has ~800 cells, Rich's Style() is slow to build."""
    return Style(color=colour, bgcolor=upper)


@dataclass(frozen=True)
class Series:
    """One line of values (``None``: missing), drawn in ``colour``."""

    name: str
    values: Sequence[float | None]
    colour: str = PALETTE[0]


@dataclass(frozen=True)
class Chart:
    """What to draw: a label per bar, the series, stacked or side by side."""

    labels: Sequence[str] = ()
    series: Sequence[Series] = ()
    stacked: bool = True
    future_from: int | None = None  # bars from this index on are not drawn (not yet)
    scale: Callable[[float], str] = field(default=lambda top: f"{top:g}")
    # What ``scale``'s text depends on besides the top (its unit, currency, language): two
    # charts alike but for their ``scale`` functions with the same key are drawn alike, and
    # share their drawing across the sessions. None: never shared.
    scale_key: Hashable | None = None

    @functools.cached_property
    def content(self) -> Hashable | None:
        """Everything the drawing depends on, as one hashable value (None: not shared)."""
        if self.scale_key is None:
            return None
        series = tuple((s.name, tuple(s.values), s.colour) for s in self.series)
        return (tuple(self.labels), series, self.stacked, self.future_from, self.scale_key)

    @property
    def bars(self) -> int:
        return len(self.labels)

    def shown(self, index: int) -> bool:
        return self.future_from is None or index < self.future_from


@dataclass(frozen=True)
class _Layout:
    first: int  # first bar shown
    count: int  # bars shown
    slot: int  # columns per bar, its gap included
    width: int  # columns of one series' bar (side by side: of each series)
    gap: int


def _layout(chart: Chart, width: int, cursor: int | None) -> _Layout:
    bars = chart.bars
    lanes = 1 if chart.stacked or len(chart.series) <= 1 else len(chart.series)
    minimum = lanes + (1 if lanes > 1 else 0)
    count = bars if bars * minimum <= width else max(1, (width - 2) // minimum)
    first = 0
    if count < bars:
        centre = cursor if cursor is not None else 0
        first = min(max(0, centre - count // 2), bars - count)
    usable = width - (2 if count < bars else 0)
    slot = max(minimum, min(usable // max(count, 1), 8 + lanes))
    gap = 1 if lanes > 1 or slot >= 2 else 0
    return _Layout(first, count, slot, max(1, (slot - gap) // lanes), gap)


def _top(chart: Chart, layout: _Layout) -> float:
    top = 0.0
    for index in range(layout.first, layout.first + layout.count):
        if not chart.shown(index):
            continue
        values = [s.values[index] or 0.0 for s in chart.series]
        top = max(top, sum(v for v in values if v > 0) if chart.stacked else max(values, default=0))
    return top


def _column(
    chart: Chart, index: int, stack: Sequence[int], rows: int, top: float
) -> list[tuple[str, Style]]:
    """The cells of one column from the bottom: the series ``stack`` (indices) piled up."""
    cells: list[tuple[str, Style]] = [(" ", PLAIN)] * rows
    if not chart.shown(index):
        return cells
    values = [chart.series[s].values[index] for s in stack]
    if values and all(v is None for v in values):
        return [(MISSING, MISSING_STYLE)] * rows
    eighths = rows * 8
    edges: list[tuple[int, str]] = []  # (cumulative height in eighths, colour)
    total = 0.0
    for s, value in zip(stack, values, strict=True):
        if value is None or value <= 0 or top <= 0:
            continue
        total += value
        edges.append((min(eighths, round(total / top * eighths)), chart.series[s].colour))
    for row in range(rows):
        low, high = row * 8, row * 8 + 8
        below = [(h, c) for h, c in edges if h > low]
        if not below:
            break
        height, colour = below[0]
        if height >= high:
            cells[row] = (BLOCKS[8], _bar_style(colour))
            continue
        upper = next((c for h, c in below[1:] if h - height >= 4 or h >= high), None)
        cells[row] = (BLOCKS[height - low], _bar_style(colour, upper))
    if any(v is None for v in values):  # some series missing: a mark on top of the others
        filled = next((r for r in range(rows) if cells[r][0] == " "), None)
        if filled is not None:
            cells[filled] = (MISSING, MISSING_STYLE)
    return cells


def _labels(chart: Chart, layout: _Layout, width: int, cursor: int | None) -> Text:
    line = [" "] * width
    styles: list[Style | None] = [None] * width
    taken = [False] * width
    offset = 1 if layout.count < chart.bars else 0

    def place(index: int, style: Style) -> None:
        text = chart.labels[index]
        start = offset + (index - layout.first) * layout.slot
        end = start + len(text)
        if end > width - offset or any(taken[max(0, start - 1) : min(width, end + 1)]):
            return
        for i, char in enumerate(text):
            line[start + i] = char
            styles[start + i] = style
            taken[start + i] = True

    visible = range(layout.first, layout.first + layout.count)
    if cursor is not None and cursor in visible:
        place(cursor, CURSOR_STYLE)
    for index in visible:
        place(index, LABEL_STYLE)
    if offset:
        if layout.first > 0:
            line[0] = "‹"
        if layout.first + layout.count < chart.bars:
            line[width - 1] = "›"
    out = Text(end="")
    for style, run in itertools.groupby(zip(line, styles, strict=True), key=lambda c: c[1]):
        out.append("".join(char for char, _style in run), style or PLAIN)
    return out


def draw(chart: Chart, width: int, height: int, cursor: int | None = None) -> list[Text]:
    """The chart as ``height`` lines of ``width`` cells: scale, bars, labels."""
    if width < 4 or height < 3:
        return [Text()] * max(0, height)
    layout = _layout(chart, width, cursor)
    top = _top(chart, layout)
    rows = height - 2
    offset = 1 if layout.count < chart.bars else 0
    grid: list[list[tuple[str, Style]]] = [[(" ", PLAIN)] * width for _ in range(rows)]
    lanes = (
        [[i] for i in range(len(chart.series))]
        if not chart.stacked and len(chart.series) > 1
        else [list(range(len(chart.series)))]
    )
    for n, index in enumerate(range(layout.first, layout.first + layout.count)):
        x = offset + n * layout.slot
        for lane, stack in enumerate(lanes):
            cells = _column(chart, index, stack, rows, top)
            for dx in range(layout.width):
                col = x + lane * layout.width + dx
                if col >= width:
                    break
                for row, cell in enumerate(cells):
                    grid[rows - 1 - row][col] = cell
    lines = [Text(chart.scale(top) if chart.bars else "", style=LABEL_STYLE, end="")]
    for cells in grid:
        line = Text(end="")
        for style, run in itertools.groupby(cells, key=lambda c: c[1]):
            line.append("".join(char for char, _style in run), style)
        lines.append(line)
    lines.append(_labels(chart, layout, width, cursor))
    for line in lines:
        line.truncate(width, pad=True)
    return lines


SHARED_KEPT = 64  # drawings kept for every session (a 80x10 chart's strips: ~10 kB)
_shared: OrderedDict[Hashable, list[Strip]] = OrderedDict()


def forget_shared() -> None:
    """Drop the drawings kept for the sessions (tests start from none)."""
    _shared.clear()


class Histogram(Widget):
    """``histogram.chart = Chart(...)``; ``histogram.cursor = i`` highlights bar ``i``.

    Drawn line by line (Textual's Line API) from strips made once per chart, cursor and
    size: through ``render()`` Textual turned the ~800 styled cells into its own Content at
    every repaint, a third of a consumption key's frame. A chart with a ``scale_key`` is
    drawn once for every session showing it (the last :data:`SHARED_KEPT` drawings are
    kept): ten sessions on the same day drew it ten times.
    """

    DEFAULT_CSS = """
    Histogram {
        height: 10;
        width: 1fr;
    }
    """

    chart: reactive[Chart] = reactive(Chart, always_update=True)
    cursor: reactive[int | None] = reactive(None)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._strips: list[Strip] = []
        self._strips_key: tuple[object, ...] = ()
        self.draws = 0  # charts drawn (tests count them)

    def render(self) -> Text:
        """The chart as one Text (tests read it; the screen draws with ``render_line``)."""
        lines = draw(self.chart, self.size.width, self.size.height, self.cursor)
        return Text("\n", end="").join(lines)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips_key = ()

    def _shared_strips(self, width: int, height: int, base: Style) -> list[Strip]:
        content = self.chart.content
        shared = None if content is None else (content, self.cursor, width, height, base)
        if shared is not None and (strips := _shared.get(shared)) is not None:
            _shared.move_to_end(shared)
            return strips
        self.draws += 1
        console = self.app.console
        strips = [
            # A Text's own style (the scale line's) is the console's to apply, not render's.
            Strip(
                Segment.apply_style(
                    line.render(console, end=""), base + console.get_style(line.style)
                ),
                width,
            )
            for line in draw(self.chart, width, height, self.cursor)
        ]
        if shared is not None:
            _shared[shared] = strips
            while len(_shared) > SHARED_KEPT:
                _shared.popitem(last=False)
        return strips

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        base = self.visual_style.rich_style
        key = (self.chart, self.cursor, width, height, base)
        if key != self._strips_key:
            self._strips_key = key
            self._strips = self._shared_strips(width, height, base)
        if 0 <= y < len(self._strips):
            return self._strips[y]
        return Strip.blank(width, base)
