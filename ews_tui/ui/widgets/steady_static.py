"""A Static that updates only when what it shows changes, and lays out only when its size does.

``Static.update`` lays the whole screen out again, even for the same text; screens that
redraw on a timer or on every event (Live measures, the consumption headers, the kiosk)
would pay that many times a second for nothing, in every session. A new text of the same
height (the usual case: a value, a state, another device's name) repaints this widget only;
a layout (and the full-screen repaint that follows it) happens only when the height changes.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static


class SteadyStatic(Static):
    def __init__(self, content: Text | str = "", **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._shown: Text | str = content
        self.updates = 0  # updates that changed something (tests count them)
        self.layouts = 0  # ... of which needed a layout (another height)

    def show(self, content: Text | str) -> None:
        """Show ``content``; nothing is done when it is what the widget shows already."""
        if content == self._shown and type(content) is type(self._shown):
            return
        self._shown = content
        self.updates += 1
        self.update(content, layout=False)
        if self._resized():
            self.layouts += 1
            self.refresh(layout=True)

    def _one_line(self, width: int) -> bool:
        """Whether what is shown fits one line of ``width``: plain text (a ``Text``, or a
        ``str`` without markup) without a line break, no wider than that."""
        shown = self._shown
        if isinstance(shown, str) and self._render_markup and "[" in shown:
            return False
        plain = shown.plain if isinstance(shown, Text) else shown
        return "\n" not in plain and "\t" not in plain and cell_len(plain) <= width

    def _resized(self) -> bool:
        """Whether the content shown now needs another size than the widget has."""
        width = self.content_size.width
        if not width or (self.styles.width is not None and self.styles.width.is_auto):
            return True  # not laid out yet, or as wide as its text
        height = self.styles.height
        if height is not None and not height.is_auto:
            return False  # a fixed height
        if self.content_size.height == 1 and self._one_line(width):
            return False  # one line still (measuring renders the whole content)
        return self.get_content_height(self.content_size, self.content_size, width) != (
            self.content_size.height
        )
