"""The table of one device's live values: quantity, value, unit (Live measures screen).

Rows follow the device's register map (quantity ids of the catalog); labels are translated,
values formatted by :func:`~ews_tui.ui.value_text.value_text` (every value renders, NaN and
1e32 too). A missing value, or any value of a silent device, shows as "—", never as the last
number read.

It is drawn line by line (Textual's Line API) from one cached strip per row: a value that
changes repaints its own line only. It was a ``DataTable``, which repaints every cell of
every row for each cell written (its caches are keyed on a table-wide update count): with
ten sessions on Live measures that repaint was a fifth of the box's CPU.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ews_tui.domain.catalog import known_unit
from ews_tui.i18n import N_, _
from ews_tui.ui.value_text import MISSING, value_text

MIN_LABEL_WIDTH = 8

QUANTITY_LABELS: Mapping[str, str] = {
    "v1": N_("Voltage L1-N"),
    "v2": N_("Voltage L2-N"),
    "v3": N_("Voltage L3-N"),
    "u12": N_("Voltage L1-L2"),
    "u23": N_("Voltage L2-L3"),
    "u31": N_("Voltage L3-L1"),
    "i1": N_("Current L1"),
    "i2": N_("Current L2"),
    "i3": N_("Current L3"),
    "in": N_("Neutral current"),
    "p": N_("Active power"),
    "p1": N_("Active power L1"),
    "p2": N_("Active power L2"),
    "p3": N_("Active power L3"),
    "q": N_("Reactive power"),
    "s": N_("Apparent power"),
    "pf": N_("Power factor"),
    "f": N_("Frequency"),
    "ea_import": N_("Active energy imported"),
    "ea_export": N_("Active energy exported"),
    "er_import": N_("Reactive energy imported"),
    "er_export": N_("Reactive energy exported"),
    "session_energy": N_("Session energy"),
    "index": N_("Meter index"),
    "breaker": N_("Breaker"),
    "charger": N_("Charging station"),
}
_NUMBERED = re.compile(r"(in|out|input)([1-9][0-9]*)(_index)?")


def quantity_label(qid: str, custom: Mapping[str, str] | None = None) -> str:
    """The translated label of a quantity id; a device's own IO label wins."""
    if custom and qid in custom:
        return custom[qid]
    if qid in QUANTITY_LABELS:
        return _(QUANTITY_LABELS[qid])
    if qid.startswith("thd_") and qid[4:] in QUANTITY_LABELS:
        return _("THD {quantity}").format(quantity=_(QUANTITY_LABELS[qid[4:]]))
    numbered = _NUMBERED.fullmatch(qid)
    if numbered:
        kind, number, index = numbered.groups()
        if kind == "input" and index:
            return _("Pulse input {n} index").format(n=number)
        if kind == "in":
            return _("Input {n}").format(n=number)
        if kind == "out":
            return _("Output {n}").format(n=number)
    return qid


COLUMNS = ("label", "value", "unit")
CELL_PADDING = 1  # one space each side of a cell, as Textual's DataTable


class MeasureTable(ScrollView, can_focus=True):
    """Quantity / value / unit rows for one device; ``show_values`` updates the values.

    A number is never cut: the value column takes the width of its longest value, and the
    labels give way (shortened with "…") when the three columns would not fit.

    The header row stays on top; the rows scroll under it (↑/↓, PgUp/PgDn, Home/End move
    the cursor row when the table has the focus). ``show_values`` writes only the cells
    whose text changed and repaints only their lines; ``cells_written``, ``rows_built`` and
    ``lines_rendered`` count what it did (tests read them).
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "measure-table--header",
        "measure-table--even-row",
        "measure-table--odd-row",
        "measure-table--cursor",
    }
    DEFAULT_CSS = """
    MeasureTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .measure-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .measure-table--header {
                background-tint: $foreground 5%;
            }
        }
        &:dark > .measure-table--even-row {
            background: $surface-darken-1 40%;
        }
        & > .measure-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .measure-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .measure-table--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .measure-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("pagedown", "page(1)", show=False),
        Binding("home", "cursor(-1000000)", show=False),
        Binding("end", "cursor(1000000)", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._units: dict[str, str] = {}
        self._labels: dict[str, str] = {}
        self._order: list[str] = []  # the quantity ids, top to bottom
        self._index: dict[str, int] = {}
        self._shown: dict[str, str] = {}  # the label each row shows now
        self._values: dict[str, str] = {}  # the text each value cell shows now
        self._widths: dict[str, int] = dict.fromkeys(COLUMNS, 0)
        self._strips: dict[int, Strip] = {}  # row index (-1: the header) -> its line
        self._strip_key: tuple[object, ...] = ()  # what the cached strips were drawn for
        self._raw: dict[str, float | str | None] = {}  # the value each cell was written from
        self._styles: dict[str, Style] = {}  # row kind -> its style (Textual's is computed)
        self.cursor_row = 0
        self.cells_written = 0
        self.rows_built = 0
        self.lines_rendered = 0

    def on_mount(self) -> None:
        self._fit()

    # ------------------------------------------------------------------ content

    @property
    def rows(self) -> Mapping[str, int]:
        """The quantity ids shown, each with its row index."""
        return self._index

    @property
    def row_count(self) -> int:
        return len(self._order)

    def set_rows(
        self, rows: Sequence[tuple[str, str]], custom: Mapping[str, str] | None = None
    ) -> None:
        """One row per ``(quantity id, unit)``, in order; values start missing.

        The rows of a device with the same quantities and labels as the one shown (a site has
        many meters of one model) are kept: only the values are written again."""
        labels = {qid: quantity_label(qid, custom) for qid, _unit in rows}
        if list(rows) == list(self._units.items()) and labels == self._labels and rows:
            self.show_values({})
            return
        self.rows_built += 1
        self._units = dict(rows)
        self._labels = labels
        self._order = [qid for qid, _unit in rows]
        self._index = {qid: i for i, qid in enumerate(self._order)}
        self._shown = dict(self._labels)
        self._values = dict.fromkeys(self._units, MISSING)
        self._raw = {}
        self._strips.clear()
        self.cursor_row = 0
        self.scroll_to(y=0, animate=False, immediate=True)
        self._fit(force=True)

    def show_values(self, values: Mapping[str, float | str | None]) -> None:
        """Show ``values`` (a row absent from them shows missing); only changed cells are
        written, and only their lines repainted."""
        changed: list[int] = []
        raw = self._raw
        for qid, unit in self._units.items():
            value = values.get(qid)
            if qid in raw and raw[qid] == value and type(raw[qid]) is type(value):
                continue  # the same number: its text is the one shown (no formatting)
            raw[qid] = value
            text = value_text(value, unit)
            if self._values.get(qid) != text:
                self._values[qid] = text
                self.cells_written += 1
                changed.append(self._index[qid])
        if not changed:
            return
        if not self._fit():  # the same column widths: the changed lines alone
            for index in changed:
                self._strips.pop(index, None)
                self.refresh_line(index + 1)

    def on_resize(self) -> None:
        self._fit()

    def _width(self, key: str) -> int:
        return self._widths[key]

    def _value_width(self) -> int:
        return max([cell_len(_("Value"))] + [cell_len(text) for text in self._values.values()])

    def _unit_width(self) -> int:
        return max([cell_len(_("Unit"))] + [cell_len(unit) for unit in self._units.values()])

    def label_width(self) -> int:
        """The width left to the labels: the table's, less the values' and units'."""
        room = self.scrollable_content_region.width
        if room <= 0:  # not laid out yet: no reason to shorten anything
            return max((cell_len(label) for label in self._labels.values()), default=0)
        padding = 2 * CELL_PADDING
        return max(MIN_LABEL_WIDTH, room - self._value_width() - self._unit_width() - 3 * padding)

    def _fit(self, force: bool = False) -> bool:
        """Fit the labels to the room left and give each column its width; repaint the whole
        table if a width or a label changed (or ``force``). Whether it repainted."""
        width = self.label_width()
        relabelled = False
        for qid, label in self._labels.items():
            shown = label if cell_len(label) <= width else set_cell_size(label, width - 1) + "…"
            if self._shown.get(qid) != shown:
                self._shown[qid] = shown
                relabelled = True
        widths = {
            "label": max(
                [cell_len(_("Quantity"))] + [cell_len(text) for text in self._shown.values()]
            ),
            "value": self._value_width(),
            "unit": self._unit_width(),
        }
        if not (force or relabelled or widths != self._widths):
            return False
        self._widths = widths
        self._strips.clear()
        table_width = sum(widths.values()) + len(COLUMNS) * 2 * CELL_PADDING
        size = Size(table_width, len(self._order) + 1)
        if size != self.virtual_size:
            self.virtual_size = size
        self.refresh()
        return True

    # ------------------------------------------------------------------ reading back

    def get_row_index(self, qid: str) -> int:
        return self._index[qid]

    def get_cell(self, qid: str, column: str) -> str:
        """The text of ``column`` ("label", "value" or "unit") in the row of ``qid``."""
        if column == "label":
            return self._shown[qid]
        if column == "value":
            return self._values[qid]
        if column == "unit":
            return self._units[qid]
        raise KeyError(column)

    def label_of(self, qid: str) -> str:
        return self.get_cell(qid, "label")

    def value_of(self, qid: str) -> str:
        return self.get_cell(qid, "value")

    @staticmethod
    def unit_of(qid: str) -> str:
        return known_unit(qid) or ""

    # ------------------------------------------------------------------ the cursor

    def action_cursor(self, step: int) -> None:
        self.move_cursor(self.cursor_row + step)

    def action_page(self, step: int) -> None:
        self.move_cursor(self.cursor_row + step * max(1, self.scrollable_content_region.height - 1))

    def move_cursor(self, row: int) -> None:
        """Put the cursor on ``row`` (kept inside the table), scrolled into view."""
        row = max(0, min(row, len(self._order) - 1))
        if row == self.cursor_row or not self._order:
            return
        before, self.cursor_row = self.cursor_row, row
        for index in (before, row):
            self._strips.pop(index, None)
            self.refresh_line(index + 1)
        visible = max(1, self.scrollable_content_region.height - 1)  # under the header
        top = round(self.scroll_y)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=False, immediate=True)

    def watch_has_focus(self, _focus: bool) -> None:
        super().watch_has_focus(_focus)
        self._strips.clear()  # the cursor's colours follow the focus
        self._styles.clear()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._styles.clear()

    # ------------------------------------------------------------------ drawing

    def render_line(self, y: int) -> Strip:
        """Line 0 is the header; the others are rows, scrolled under it."""
        index = -1 if y == 0 else y - 1 + round(self.scroll_y)
        width = self.scrollable_content_region.width
        key = (width, round(self.scroll_x), self.has_focus)
        if key != self._strip_key:
            self._strips.clear()
            self._strip_key = key
        strip = self._strips.get(index)
        if strip is None:
            strip = self._draw_row(index, width)
            self._strips[index] = strip
        return strip

    def _style(self, kind: str) -> Style:
        """The style of a kind of row ("base", "header", "even", "odd-cursor"...), computed
        once per style change: Textual's ``rich_style`` walks every ancestor at each call."""
        style = self._styles.get(kind)
        if style is None:
            base = self.rich_style
            if kind == "base":
                style = base
            elif kind == "header":
                style = base + self.get_component_rich_style("measure-table--header")
            else:
                parity, _sep, cursor = kind.partition("-")
                style = base + self.get_component_rich_style(f"measure-table--{parity}-row")
                if cursor:
                    style += self.get_component_rich_style("measure-table--cursor")
            self._styles[kind] = style
        return style

    def _draw_row(self, index: int, width: int) -> Strip:
        self.lines_rendered += 1
        if index >= len(self._order):
            return Strip.blank(width, self._style("base"))
        if index < 0:
            style = self._style("header")
            cells = (_("Quantity"), _("Value"), _("Unit"))
        else:
            parity = "odd" if index % 2 else "even"
            style = self._style(f"{parity}-cursor" if index == self.cursor_row else parity)
            qid = self._order[index]
            cells = (self._shown[qid], self._values[qid], self._units[qid])
        pad = " " * CELL_PADDING
        text = "".join(
            pad + set_cell_size(cell, self._widths[column]) + pad
            for cell, column in zip(cells, COLUMNS, strict=True)
        )
        line = Strip([Segment(text, style)], cell_len(text))
        return line.crop_extend(round(self.scroll_x), round(self.scroll_x) + width, style)
