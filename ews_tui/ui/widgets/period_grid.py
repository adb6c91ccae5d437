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
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import DataTable
from textual.widgets._data_table import CellCacheKey, ColumnKey, RowKey

SegmentLines = list[list[Segment]]  # a rendered cell's lines (DataTable's own alias)


class PeriodGrid(DataTable[Text]):
    # Widget's is declared with layout=True; watch_virtual_size asks for a layout when needed.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.layouts = 0  # layouts this table asked for (tests count them)
        self.cells_drawn = 0  # body cells made here, not by Rich's console (tests count them)

    def watch_virtual_size(self, old: Size, new: Size) -> None:
        room = self.scrollable_content_region.width
        if old.height != new.height or max(old.width, new.width) > room or not room:
            self.layouts += 1
            self.refresh(layout=True)
        else:
            self.refresh()

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
