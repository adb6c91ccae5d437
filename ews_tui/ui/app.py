"""The Textual App of one UI session. Screens live one per module in ``ui/screens/``.

A screen is opened by name: ``app.open_screen("gateways")`` imports
``ews_tui.ui.screens.gateways`` and pushes its ``SCREEN`` class. No registry to edit when
a screen is added; the home menu lists names.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from ews_tui.i18n import _, set_language
from ews_tui.ui.session import Session

log = logging.getLogger(__name__)
STYLES = Path(__file__).parent / "styles"


class EwsApp(App[None]):
    """One session's UI: given the runtime (through the session) and the session's facts."""

    TITLE = "ews-tui"
    CSS_PATH = [STYLES / "app.tcss"]
    BINDINGS = [
        Binding("escape", "back", _("Back"), show=True),
        Binding("ctrl+q", "quit", _("Quit"), show=False),
    ]

    def __init__(self, session: Session, *, start_screen: str | None = None,
                 **kwargs: Any) -> None:
        set_language(session.language)
        super().__init__(**kwargs)
        self.session = session
        self._start_screen = start_screen

    def on_mount(self) -> None:
        self.open_screen(self._start_screen or "login")

    def screen_class(self, name: str) -> type[Screen[Any]]:
        module = importlib.import_module(f"ews_tui.ui.screens.{name}")
        return module.SCREEN

    def open_screen(self, name: str, **params: Any) -> None:
        """Push the screen called ``name`` (module ``ews_tui.ui.screens.<name>``)."""
        self.push_screen(self.screen_class(name)(**params))

    def action_back(self) -> None:
        if len(self.screen_stack) > 2:
            self.pop_screen()
