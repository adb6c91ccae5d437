"""Server settings > Users and PINs: the PIN of each role (manual §7.7.1 and §7.16).

Choose the role, give its current PIN (or its PUK), then the new PIN twice. The auth service
checks and stores it (hashed); a refusal shows under the field it concerns. A wrong current
code counts as a failed login, as at the login screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, Select, Static

from ews_tui.domain.auth import Role
from ews_tui.i18n import N_, _
from ews_tui.services.auth import AuthService, PinChangeRefused
from ews_tui.ui.screen import EwsScreen
from ews_tui.ui.widgets.choice import Choice
from ews_tui.ui.widgets.footer import EwsFooter

STYLES = Path(__file__).resolve().parent.parent / "styles"

ROLES = (
    (N_("Server configuration"), Role.SERVER),
    (N_("System configuration"), Role.SYSTEM),
    (N_("Consultation"), Role.CONSULTATION),
)
FIELDS = (
    ("old", N_("Current PIN or PUK")),
    ("new", N_("New PIN")),
    ("confirm", N_("New PIN again")),
)


class UsersSettingsScreen(EwsScreen[None]):
    CSS_PATH = STYLES / "settings.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s,f2", "save", N_("Save"), show=True, priority=True)
    ]

    def compose(self) -> ComposeResult:
        yield Static(_("Users and PINs"), classes="page-title")
        with VerticalScroll(classes="page-body"):
            with Horizontal(classes="setting-row"):
                yield Label(_("Role"), classes="setting-label")
                roles = [(_(label), role) for label, role in ROLES]
                yield Choice(roles, allow_blank=False, id="pin-role")
            for key, label in FIELDS:
                with Horizontal(classes="setting-row"):
                    yield Label(_(label), classes="setting-label")
                    yield Input(password=True, id=f"pin-{key}", max_length=20, compact=True)
                yield Static("", id=f"pin-{key}-error", classes="setting-error -empty")
            yield Static(
                _("A PIN is 5 digits. The PUK of a role also proves who you are."),
                classes="page-fact",
            )
            yield Static("", id="status")
        yield EwsFooter()

    def on_mount(self) -> None:
        self.query_one("#pin-old", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "pin-confirm":
            self.action_save()
        else:
            self.focus_next()

    def _show(self, field: str, text: str) -> None:
        for key, _label in FIELDS:
            error = self.query_one(f"#pin-{key}-error", Static)
            error.update(text if key == field else "")
            error.set_class(key != field or not text, "-empty")

    def error_of(self, field: str) -> str:
        return str(self.query_one(f"#pin-{field}-error", Static).content)

    def action_save(self) -> None:
        self.run_worker(self._save(), exclusive=True, group="save")

    async def _save(self) -> None:
        status = self.query_one("#status", Static)
        try:
            auth: AuthService = self.session.service(AuthService)
        except LookupError:
            status.update(_("Not available: this box has no PIN service."))
            return
        role = self.query_one("#pin-role", Select).value
        assert isinstance(role, Role), role  # the select has no blank
        values = {key: self.query_one(f"#pin-{key}", Input).value for key, _label in FIELDS}
        try:
            await auth.change_pin(
                role, values["old"], values["new"], values["confirm"], source=self.session.origin
            )
        except PinChangeRefused as refused:
            self._show(refused.field, refused.message.render(_))
            status.update(_("Not saved."))
            return
        self._show("", "")
        for key, _label in FIELDS:
            self.query_one(f"#pin-{key}", Input).value = ""
        status.update(_("The new PIN of this role is saved."))


SCREEN = UsersSettingsScreen
