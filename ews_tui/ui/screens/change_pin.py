"""Set new codes: at a role's first login, a new PIN (typed twice) and a new PUK; after a PUK
unlock, a new PIN.

``ChangePinScreen(role, old, pin=..., puk=...)``: ``old`` is the role's current PIN or its
PUK, already checked by the login. ``pin``: the PIN must be replaced; ``puk``: the published
default PUK must be replaced, by one typed twice or, when left empty, by one drawn at random
and shown once to be written down (Enter then goes on). Enter moves from field to field and
saves on the last one; with the PUK left empty, Enter on the last PIN field saves (a PUK is
drawn): to choose the PUK, go down to it with Tab first. Dismissed with True once changed,
False when given up (Esc).
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Key
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
    "puk-label": N_("New PUK"),
    "puk-confirm-label": N_("New PUK again"),
}
INTRO_PIN = N_("{role}: choose your own PIN of 5 digits before going on.")
INTRO_PIN_PUK = N_(
    "{role}: choose your own PIN of 5 digits. The default PUK is published: leave the PUK "
    "empty to get a random one, or Tab down to choose one."
)
INTRO_PUK = N_(
    "{role}: the default PUK is published: leave the PUK empty to get one drawn at random "
    "(Enter), or type one of 14 digits twice."
)
SHOW_PUK = N_(
    "Your new PUK is:\n\n    {puk}\n\nWrite it down now and keep it safe: it is shown only "
    "once, and it is the only way back in after five wrong PINs.\n\nPress Enter to go on."
)
FIELDS = ("new", "confirm", "puk", "puk-confirm")


class ChangePinScreen(EwsScreen[bool]):
    CSS_PATH = "../styles/change_pin.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", N_("Back"))]

    def __init__(self, role: Role, old: str, *, pin: bool = True, puk: bool = False) -> None:
        super().__init__()
        self.role = role
        self._old = old
        self._pin = pin
        self._puk = puk
        self._shown = False  # the drawn PUK is on screen: Enter goes on
        self.shown_puk: str | None = None  # the PUK drawn and shown (grouped), once saved

    def compose(self) -> ComposeResult:
        yield Static(id="title", classes="screen-title")
        with Vertical(id="change-box"):
            yield Static(id="intro")
            if self._pin:
                yield from _row("new", PIN_LENGTH, r"[0-9]*")
                yield from _row("confirm", PIN_LENGTH, r"[0-9]*")
            if self._puk:
                yield from _row("puk", 24, r"[0-9 ]*")
                yield from _row("puk-confirm", 24, r"[0-9 ]*")
        yield Static(id="shown-puk")
        yield EwsFooter()

    def on_mount(self) -> None:
        for widget_id, msgid in TEXTS.items():
            for widget in self.query(f"#{widget_id}").results(Static):
                widget.update(_(msgid))
        intro = INTRO_PIN_PUK if self._pin and self._puk else INTRO_PIN if self._pin else INTRO_PUK
        self.query_one("#intro", Static).update(_(intro).format(role=_(ROLE_NAMES[self.role])))
        self.query_one("#shown-puk", Static).display = False
        self.query(Input).first().focus()

    @on(Input.Submitted)
    async def _submitted(self, event: Input.Submitted) -> None:
        if self._shown:
            return
        inputs = list(self.query(Input))
        rest = inputs[inputs.index(event.input) + 1 :]
        puk_empty = not (self._value("puk") or "").strip()
        if rest and not (puk_empty and all(w.id in ("puk", "puk-confirm") for w in rest)):
            rest[0].focus()
        else:
            await self._save()

    def _value(self, widget_id: str) -> str | None:
        found = self.query(f"#{widget_id}").results(Input)
        widget = next(iter(found), None)
        return None if widget is None else widget.value

    async def _save(self) -> None:
        for widget_id in FIELDS:
            for error in self.query(f"#{widget_id}-error").results(Static):
                error.update("")
        auth = self.session.service(AuthService)
        source = self.session.origin
        try:
            if self._puk:
                codes = await auth.change_codes(
                    self.role,
                    self._old,
                    source=source,
                    new_pin=self._value("new"),
                    confirm_pin=self._value("confirm"),
                    new_puk=self._value("puk"),
                    confirm_puk=self._value("puk-confirm"),
                )
            else:
                await auth.change_pin(
                    self.role,
                    self._old,
                    self._value("new") or "",
                    self._value("confirm"),
                    source=source,
                )
        except PinChangeRefused as refused:
            self._refused(refused)
            return
        if self._puk and codes.drawn and codes.puk is not None:
            self._show_puk(codes.puk)
        else:
            self.dismiss(True)

    def _refused(self, refused: PinChangeRefused) -> None:
        field = refused.field if refused.field in FIELDS else FIELDS[0]
        if not self.query(f"#{field}-error"):
            field = next(f for f in FIELDS if self.query(f"#{f}-error"))
        self.query_one(f"#{field}-error", Static).update(refused.message.render(_))
        first = "new" if field in ("new", "confirm") else "puk"
        for widget_id in (first, f"{first}-confirm" if first == "puk" else "confirm"):
            for widget in self.query(f"#{widget_id}").results(Input):
                widget.value = ""
        for widget in self.query(f"#{first}").results(Input):
            widget.focus()

    def _show_puk(self, puk: str) -> None:
        """The drawn PUK, once: the form goes away (the codes are already saved)."""
        self.query_one("#change-box").display = False
        shown = self.query_one("#shown-puk", Static)
        shown.update(_(SHOW_PUK).format(puk=puk))
        shown.display = True
        self._shown = True
        self.shown_puk = puk
        self.set_focus(None)  # nothing to type any more

    def on_key(self, event: Key) -> None:
        if self._shown and event.key == "enter":
            event.stop()
            self.dismiss(True)

    def action_back(self) -> None:
        self.dismiss(self._shown)


def _row(widget_id: str, length: int, restrict: str) -> ComposeResult:
    with Horizontal(classes="row"):
        yield Label(id=f"{widget_id}-label", classes="field-label")
        yield Input(id=widget_id, password=True, max_length=length, restrict=restrict)
    yield Static(id=f"{widget_id}-error", classes="error")


SCREEN = ChangePinScreen
