"""What a screen shows, as plain text: one line a row, no colour (Textual's compositor)."""

from __future__ import annotations

from typing import Any

from textual.app import App


def screen_text(app: App[Any]) -> str:
    """The rows of ``app``'s current screen as the terminal would show them, without style."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())
