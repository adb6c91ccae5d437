"""The screen of a menu entry whose feature comes in a later version."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from ews_tui.i18n import N_, _
from ews_tui.ui.screen import EwsScreen
from ews_tui.ui.widgets.footer import EwsFooter


class ComingScreen(EwsScreen[None]):
    """``ComingScreen(title=N_("Consumption"))``: the title is a msgid."""

    CSS_PATH = "../styles/coming.tcss"

    def __init__(self, title: str = N_("This screen")) -> None:
        super().__init__()
        self.title_msgid = title

    def compose(self) -> ComposeResult:
        yield Static(_(self.title_msgid), id="title", classes="screen-title")
        with Vertical(id="coming-box"):
            yield Static(_("Coming in a later version."), id="coming-message")
            yield Static(_("Press Esc to go back."), id="coming-hint")
        yield EwsFooter()


SCREEN = ComingScreen
