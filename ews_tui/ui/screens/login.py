"""The login screen (manual §7.7.1): language, PIN, then PUK.

The PIN field has the focus; Enter checks the PIN (it names the role) and moves to the PUK;
Enter logs in. After five failed logins PINs are refused until a PUK is given: the screen
then asks only for a PUK. A default PIN, or a PIN just unlocked by its PUK, must be changed
before going on (the change PIN screen), and at a role's first login its published default
PUK too.

Failures count per source (``Session.origin``: the SSH user and address, the console, the
kiosk): another session's failures never lock this one. A source that failed three times in
a row waits before its next try; one that gave too many wrong PUKs is blocked until
``ews auth reset`` on the box.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Select, Static

from ews_tui.domain.auth import PIN_FORMAT, PIN_LENGTH, PUK_FORMAT, Role
from ews_tui.i18n import LANGUAGES, N_, _
from ews_tui.services.auth import (
    BLOCKED_MESSAGE,
    LOCKED_MESSAGE,
    TOO_SOON_MESSAGE,
    AuthService,
    LoginResult,
    LoginStatus,
)
from ews_tui.ui.screen import EwsScreen
from ews_tui.ui.screens.change_pin import ChangePinScreen
from ews_tui.ui.widgets.footer import EwsFooter

WRONG_PIN = N_("Wrong PIN. Attempts left before the lock: {left}.")
WRONG_PUK = N_("Wrong PUK. Attempts left before the lock: {left}.")
WRONG_UNLOCK_PUK = N_("Wrong PUK. Attempts left before logins from here are blocked: {left}.")
NO_AUTH = N_("Login is not available: the box has no user service.")

# id -> msgid of every fixed text of the screen, rendered in the session's language.
TEXTS = {
    "title": N_("ews-tui · Energy Web Server"),
    "intro": N_("Enter your PIN, then your PUK."),
    "language-label": N_("Language"),
    "pin-label": N_("PIN"),
    "puk-label": N_("PUK"),
}


class LoginScreen(EwsScreen[None]):
    CSS_PATH = "../styles/login.tcss"
    BINDINGS: ClassVar[list[BindingType]] = []

    def compose(self) -> ComposeResult:
        yield Static(id="title", classes="screen-title")
        with Vertical(id="login-box"):
            yield Static(id="intro")
            with Horizontal(classes="row"):
                yield Label(id="language-label", classes="field-label")
                yield Select(
                    [(name, code) for code, name in LANGUAGES.items()],
                    value=self.session.language,
                    allow_blank=False,
                    id="language",
                )
            with Horizontal(classes="row"):
                yield Label(id="pin-label", classes="field-label")
                yield Input(id="pin", password=True, max_length=PIN_LENGTH, restrict=r"[0-9]*")
            yield Static(id="pin-error", classes="error")
            with Horizontal(classes="row"):
                yield Label(id="puk-label", classes="field-label")
                yield Input(
                    id="puk",
                    password=True,
                    max_length=24,
                    restrict=r"[0-9 ]*",
                    disabled=True,
                )
            yield Static(id="puk-error", classes="error")
            yield Static(id="status", classes="error")
        yield EwsFooter()

    async def on_mount(self) -> None:
        self._render_texts()
        self.query_one("#pin", Input).focus()
        auth = self._auth()
        if auth is None:
            self._show("status", _(NO_AUTH))
            return
        refusal = await auth.refusal(self.session.origin)
        if refusal is not None:
            self._refused(refusal)

    # -- texts ------------------------------------------------------------------------------

    def _render_texts(self) -> None:
        for widget_id, msgid in TEXTS.items():
            self.query_one(f"#{widget_id}", Static).update(_(msgid))
        self.query_one("#pin", Input).placeholder = _("5 digits")
        self.query_one("#puk", Input).placeholder = _("14 digits, spaces allowed")

    def _show(self, widget_id: str, text: str) -> None:
        self.query_one(f"#{widget_id}", Static).update(text)

    def _clear_errors(self) -> None:
        for widget_id in ("pin-error", "puk-error", "status"):
            self._show(widget_id, "")

    @on(Select.Changed, "#language")
    def _language_chosen(self, event: Select.Changed) -> None:
        code = event.value
        if isinstance(code, str) and code != self.session.language:
            self.app.change_language(code)
            self._render_texts()
            self._clear_errors()
            if self._blocked:
                self._show("status", _(BLOCKED_MESSAGE))
            elif self._locked:
                self._show("status", _(LOCKED_MESSAGE))

    # -- flow -------------------------------------------------------------------------------

    @property
    def _locked(self) -> bool:
        return self.query_one("#pin", Input).disabled

    @property
    def _blocked(self) -> bool:
        return self._locked and self.query_one("#puk", Input).disabled

    def _auth(self) -> AuthService | None:
        try:
            return self.session.service(AuthService)
        except LookupError:
            return None

    @on(Input.Submitted, "#pin")
    async def _pin_entered(self, event: Input.Submitted) -> None:
        auth = self._auth()
        if auth is None:
            return
        self._clear_errors()
        result = await auth.login(event.value, source=self.session.origin)
        if result.status is LoginStatus.PIN_OK:
            puk = self.query_one("#puk", Input)
            puk.disabled = False
            puk.focus()
        else:
            self._refused(result)

    @on(Input.Submitted, "#puk")
    async def _puk_entered(self, event: Input.Submitted) -> None:
        auth = self._auth()
        if auth is None:
            return
        self._clear_errors()
        source = self.session.origin
        if self._locked:
            result = await auth.unlock(None, event.value, source=source)
        else:
            result = await auth.login(
                self.query_one("#pin", Input).value, event.value, source=source
            )
        if result.status is LoginStatus.OK and result.role is not None:
            self.app.login_as(result.role)
        elif result.status is LoginStatus.MUST_CHANGE and result.role is not None:
            old = event.value if self._locked else self.query_one("#pin", Input).value
            self._change_pin(result, old)
        else:
            self._refused(result)

    def _change_pin(self, result: LoginResult, old: str) -> None:
        role: Role | None = result.role
        assert role is not None

        def changed(done: bool | None) -> None:
            if done:
                self.app.login_as(role)
            else:
                self._reset()

        screen = ChangePinScreen(role, old, pin=result.must_change_pin, puk=result.must_change_puk)
        self.app.push_screen(screen, changed)

    def _refused(self, result: LoginResult) -> None:
        status = result.status
        if status is LoginStatus.BLOCKED:
            self._block_mode()
        elif status is LoginStatus.LOCKED:
            self._lock_mode()
            if result.wait > 0:
                self._show("puk-error", _too_soon(result.wait))
        elif status is LoginStatus.TOO_SOON:
            puk = self.query_one("#puk", Input)
            if puk.disabled:
                self._reset()
            else:
                puk.value = ""
            self._show("pin-error" if puk.disabled else "puk-error", _too_soon(result.wait))
        elif status is LoginStatus.INVALID_PIN:
            self._show("pin-error", _(PIN_FORMAT))
        elif status is LoginStatus.WRONG_PIN:
            self._reset()
            self._show("pin-error", _(WRONG_PIN).format(left=result.attempts_left))
        elif status is LoginStatus.INVALID_PUK:
            self._show("puk-error", _(PUK_FORMAT))
        elif status is LoginStatus.WRONG_PUK and self._locked:
            self.query_one("#puk", Input).value = ""
            self._show("puk-error", _(WRONG_UNLOCK_PUK).format(left=result.attempts_left))
            self._show("status", _(LOCKED_MESSAGE))
        elif status is LoginStatus.WRONG_PUK:
            self.query_one("#puk", Input).value = ""
            self._show("puk-error", _(WRONG_PUK).format(left=result.attempts_left))

    def _reset(self) -> None:
        """Back to an empty PIN field (after a wrong PIN, or a PIN change given up)."""
        pin, puk = self.query_one("#pin", Input), self.query_one("#puk", Input)
        locked = self._locked
        pin.value = puk.value = ""
        if not locked:
            puk.disabled = True
            pin.focus()

    def _lock_mode(self) -> None:
        """PINs refused: ask for a PUK only."""
        pin, puk = self.query_one("#pin", Input), self.query_one("#puk", Input)
        pin.value = puk.value = ""
        pin.disabled = True
        puk.disabled = False
        puk.focus()
        self._show("status", _(LOCKED_MESSAGE))

    def _block_mode(self) -> None:
        """Too many wrong PUKs from this source: nothing more to type here."""
        pin, puk = self.query_one("#pin", Input), self.query_one("#puk", Input)
        pin.value = puk.value = ""
        pin.disabled = puk.disabled = True
        self._show("status", _(BLOCKED_MESSAGE))


def _too_soon(wait: float) -> str:
    return _(TOO_SOON_MESSAGE).format(seconds=max(1, round(wait)))


SCREEN = LoginScreen
