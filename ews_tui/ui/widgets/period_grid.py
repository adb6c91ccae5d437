"""The table of the Consumption screens: a DataTable that lays the screen out only when it must.

A DataTable's content width is its ``virtual_size``, a reactive that lays the whole screen out
again at each change. On the consumption screens a column one character wider or narrower
(``€0.67*`` on the day before, ``€0.80`` on this one) came with nearly every ←/→: a layout and
a repaint of the whole screen per key, in every session. The table fills its width (``1fr``):
a narrower or wider content that still fits it changes no scrollbar and no other widget, so
it repaints the table alone. Another number of rows (another step) or a content wider than
the table still lays out, as a DataTable does.

A DataTable renders every cell through Rich's console (a Padding in a Styled, then lines
cropped and padded), and renders them all again when one cell is written: the table was
most of a consumption key's frame. A one-line cell of plain text that fits its column (all
the consumption tables' body cells) is made here as the one segment Rich would make of it:
its text justified in the column, one space each side, in the style the DataTable computes.
Headers and anything else go through the DataTable's own rendering.

A body line is the same in every session showing the same rows (ten sessions on the same
day): its strip is kept for all of them (the last :data:`SHARED_LINES` lines), keyed by
everything it is drawn from: the row's cells, the columns' widths, the cursor and hover on
that row or not, the table's styles and width. Each session rendered each line itself.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.reactive import Reactive
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets._data_table import CellCacheKey, ColumnKey, RowKey

SegmentLines = list[list[Segment]]  # a rendered cell's lines (DataTable's own alias)
SHARED_LINES = 512  # body lines kept for every session (~0.5 kB each)
_shared: OrderedDict[Hashable, Strip] = OrderedDict()
_STYLED = (  # the component classes a body line's look comes from
    "datatable--cursor",
    "datatable--hover",
    "datatable--even-row",
    "datatable--odd-row",
)


def forget_shared() -> None:
    """Drop the lines kept for the sessions (tests start from none)."""
    _shared.clear()


class PeriodGrid(DataTable[Text]):
    # Widget's is declared with layout=True; watch_virtual_size asks for a layout when needed.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.layouts = 0  # layouts this table asked for (tests count them)
        self.cells_drawn = 0  # body cells made here, not by Rich's console (tests count them)
        self.lines_drawn = 0  # body lines drawn by this table, not another's (tests count them)
        self._look: Hashable = None  # the styles of this frame's lines (see render_lines)

    def watch_virtual_size(self, old: Size, new: Size) -> None:
        room = self.scrollable_content_region.width
        if old.height != new.height or max(old.width, new.width) > room or not room:
            self.layouts += 1
            self.refresh(layout=True)
        else:
            self.refresh()

    def write_cells(self, cells: list[tuple[str, str, Text]]) -> None:
        """Write ``(row key, column key, value)`` cells of rows and columns that exist, with
        one refresh: ``update_cell`` refreshed the table at each cell (72 for a day)."""
        if not cells:
            return
        for row_key, column_key, value in cells:
            self._data[RowKey(row_key)][ColumnKey(column_key)] = value
        self._update_count += 1
        self.refresh()

    def render_lines(self, crop: Region) -> list[Strip]:
        self._look = (
            tuple(self.get_component_styles(name).rich_style for name in _STYLED),
            self.background_colors,
            self.get_pseudo_class_state(),
            self.cursor_foreground_priority,
            self.cursor_background_priority,
        )
        return super().render_lines(crop)

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        key = self._shared_key(y, x1, x2, base_style)
        if key is None:
            return super()._render_line(y, x1, x2, base_style)
        strip = _shared.get(key)
        if strip is not None:
            _shared.move_to_end(key)
            return strip
        self.lines_drawn += 1
        strip = _shared[key] = super()._render_line(y, x1, x2, base_style)
        while len(_shared) > SHARED_LINES:
            _shared.popitem(last=False)
        return strip

    def _shared_key(self, y: int, x1: int, x2: int, base_style: Style) -> Hashable | None:
        """What body line ``y`` is drawn from, or None for a line not shared (the header,
        fixed rows or columns, row labels, a cursor other than the row's, rich cells)."""
        if self.fixed_rows or self.fixed_columns or self.cursor_type != "row":
            return None
        if self._look is None or (self._labelled_row_exists and self.show_row_labels):
            return None
        try:
            row_key, line = self._get_offsets(y)
        except LookupError:
            return None
        if row_key is self._header_row_key or line or self.rows[row_key].height != 1:
            return None
        row = self._data.get(row_key, {})
        cells = []
        for column in self.ordered_columns:
            cell = row.get(column.key)
            if not isinstance(cell, Text) or cell.spans or cell.style:
                return None
            cells.append((cell.plain, cell.justify, column.get_render_width(self)))
        index = self._row_locations.get(row_key)
        return (
            tuple(cells),
            index,
            y,
            self.show_cursor and self.cursor_coordinate.row == index,
            self._show_hover_cursor and self.hover_coordinate.row == index,
            self.zebra_stripes and index is not None and index % 2,
            x1,
            x2,
            self.size.width,
            base_style,
            self.cell_padding,
            self._look,
        )

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> SegmentLines:
        plain = self._plain_cell(row_index, column_index, width)
        if plain is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        text, row_key, column_key = plain
        key: CellCacheKey = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        lines = self._cell_render_cache.get(key)
        if lines is None:
            self.cells_drawn += 1
            component_style, post_style = self._get_styles_to_render_cell(
                False,
                False,
                False,
                hover,
                cursor,
                self.show_cursor,
                self._show_hover_cursor,
                self.cursor_foreground_priority == "css",
                self.cursor_background_priority == "css",
            )
            # As DataTable's Styled(Padding(cell)): pre style, the cell's (none), post style.
            meta = Style.from_meta({"row": row_index, "column": column_index})
            style = base_style + meta + component_style + post_style
            pad = " " * self.cell_padding
            lines = [[Segment(pad + text + pad, style)]]
            self._cell_render_cache[key] = lines
        return lines

    def _plain_cell(
        self, row_index: int, column_index: int, width: int
    ) -> tuple[str, RowKey, ColumnKey] | None:
        """The cell's text justified in its column, if it is a body cell this class draws
        itself: one line of unstyled text that fits, in a row one line high."""
        if row_index < 0 or column_index < 0 or self.fixed_rows or self.fixed_columns:
            return None
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None or self.rows[row_key].height != 1:
            return None
        cell = self._data.get(row_key, {}).get(column_key)
        if not isinstance(cell, Text) or cell.spans or cell.style or "\n" in cell.plain:
            return None
        room = width - 2 * self.cell_padding
        text = cell.plain
        size = cell_len(text)
        if size > room or cell.justify not in ("left", "right"):
            return None
        fill = " " * (room - size)
        return (fill + text if cell.justify == "right" else text + fill), row_key, column_key
