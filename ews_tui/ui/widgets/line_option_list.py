"""An OptionList whose highlight moves repaint the two options concerned, not the list.

Textual's ``OptionList.highlighted`` is a repainting reactive: each move of the highlight
(a key ↓ in Live measures' device list) repaints every visible line of the list, and the
screen's frame then composes all of them again, in every session that moves. Here a move
repaints the lines of the option left and of the option reached; a move that scrolls the
list repaints it all, as Textual does (the scroll does it).

``lines_rendered`` counts the lines drawn (tests read it).
"""

from __future__ import annotations

from textual.reactive import reactive
from textual.strip import Strip
from textual.widgets import OptionList


class LineOptionList(OptionList):
    highlighted: reactive[int | None] = reactive(None, repaint=False)

    lines_rendered = 0

    def watch_highlighted(self, old: int | None, new: int | None) -> None:  # type: ignore[override]
        for index in (old, new):
            self._refresh_option(index)
        super().watch_highlighted(new)

    def _refresh_option(self, index: int | None) -> None:
        if index is None or not self.is_mounted:
            return
        line = self._index_to_line.get(index)
        if line is None:
            self.refresh()
            return
        self.refresh_lines(line, self._heights.get(index, 1))

    def render_line(self, y: int) -> Strip:
        self.lines_rendered += 1
        return super().render_line(y)
