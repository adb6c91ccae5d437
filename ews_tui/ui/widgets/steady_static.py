"""A Static that updates only when what it shows changes.

``Static.update`` lays the whole screen out again, even for the same text; screens that
redraw on a timer or on every event (Live measures, the consumption headers, the kiosk)
would pay that many times a second for nothing, in every session.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static


class SteadyStatic(Static):
    def __init__(self, content: Text | str = "", **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._shown: Text | str = content
        self.updates = 0  # updates that changed something (tests count them)

    def show(self, content: Text | str) -> None:
        """Show ``content``; nothing is done when it is what the widget shows already."""
        if content == self._shown and type(content) is type(self._shown):
            return
        self._shown = content
        self.updates += 1
        self.update(content)
