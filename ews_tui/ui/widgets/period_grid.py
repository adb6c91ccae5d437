"""The table of the Consumption screens: a DataTable that lays the screen out only when it must.

A DataTable's content width is its ``virtual_size``, a reactive that lays the whole screen out
again at each change. On the consumption screens a column one character wider or narrower
(``€0.67*`` on the day before, ``€0.80`` on this one) came with nearly every ←/→: a layout and
a repaint of the whole screen per key, in every session. The table fills its width (``1fr``):
a narrower or wider content that still fits it changes no scrollbar and no other widget, so
it repaints the table alone. Another number of rows (another step) or a content wider than
the table still lays out, as a DataTable does.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import DataTable


class PeriodGrid(DataTable[Text]):
    # Widget's is declared with layout=True; watch_virtual_size asks for a layout when needed.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.layouts = 0  # layouts this table asked for (tests count them)

    def watch_virtual_size(self, old: Size, new: Size) -> None:
        room = self.scrollable_content_region.width
        if old.height != new.height or max(old.width, new.width) > room or not room:
            self.layouts += 1
            self.refresh(layout=True)
        else:
            self.refresh()
