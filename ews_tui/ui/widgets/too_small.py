"""The "please enlarge the terminal" notice, shown in place of a screen below 80x24.

The app mounts one in every screen; ``app.tcss`` shows it and hides the screen's other
widgets when the screen has the ``-too-narrow`` or ``-too-short`` breakpoint class.
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

from ews_tui.i18n import _

MIN_WIDTH = 80
MIN_HEIGHT = 24


class TooSmall(Widget):
    def render(self) -> Content:
        width, height = self.app.size
        text = _(
            "Please enlarge the terminal to at least {min_width}x{min_height} "
            "(it is {width}x{height} now)."
        ).format(min_width=MIN_WIDTH, min_height=MIN_HEIGHT, width=width, height=height)
        return Content(text)
