"""Set a new PIN, typed twice (after a login with a default PIN, or a PUK unlock).

``ChangePinScreen(role, old)``: ``old`` is the role's current PIN or its PUK, already
checked by the login. Enter moves from the new PIN to its confirmation; Enter saves.
Dismissed with True once the PIN is changed, False when given up (Esc).
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from ews_tui.domain.auth import PIN_LENGTH, Role
from ews_tui.i18n import N_, _
from ews_tui.services.auth import AuthService, PinChangeRefused
from ews_tui.ui.menu import ROLE_NAMES
from ews_tui.ui.screen import EwsScreen
from ews_tui.ui.widgets.footer import EwsFooter

TEXTS = {
    "title": N_("Change the PIN"),
    "new-label": N_("New PIN"),
    "confirm-label": N_("New PIN again"),
}


class ChangePinScreen(EwsScreen[bool]):
    CSS_PATH = "../styles/change_pin.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", N_("Back"))]

    def __init__(self, role: Role, old: str) -> None:
        super().__init__()
        self.role = role
        self._old = old

    def compose(self) -> ComposeResult:
        yield Static(id="title", classes="screen-title")
        with Vertical(id="change-box"):
            yield Static(id="intro")
            with Horizontal(classes="row"):
                yield Label(id="new-label", classes="field-label")
                yield Input(id="new", password=True, max_length=PIN_LENGTH, restrict=r"[0-9]*")
            yield Static(id="new-error", classes="error")
            with Horizontal(classes="row"):
                yield Label(id="confirm-label", classes="field-label")
                yield Input(id="confirm", password=True, max_length=PIN_LENGTH, restrict=r"[0-9]*")
            yield Static(id="confirm-error", classes="error")
        yield EwsFooter()

    def on_mount(self) -> None:
        for widget_id, msgid in TEXTS.items():
            self.query_one(f"#{widget_id}", Static).update(_(msgid))
        self.query_one("#intro", Static).update(
            _("{role}: choose your own PIN of 5 digits before going on.").format(
                role=_(ROLE_NAMES[self.role])
            )
        )
        self.query_one("#new", Input).focus()

    @on(Input.Submitted, "#new")
    def _next(self) -> None:
        self.query_one("#confirm", Input).focus()

    @on(Input.Submitted, "#confirm")
    async def _save(self) -> None:
        new = self.query_one("#new", Input)
        confirm = self.query_one("#confirm", Input)
        for widget_id in ("new-error", "confirm-error"):
            self.query_one(f"#{widget_id}", Static).update("")
        auth = self.session.service(AuthService)
        try:
            await auth.change_pin(self.role, self._old, new.value, confirm.value)
        except PinChangeRefused as refused:
            field = "confirm" if refused.field == "confirm" else "new"
            self.query_one(f"#{field}-error", Static).update(refused.message.render(_))
            confirm.value = ""
            if field == "new":
                new.value = ""
                new.focus()
            return
        self.dismiss(True)

    def action_back(self) -> None:
        self.dismiss(False)


SCREEN = ChangePinScreen
