"""Server settings > Connector, page 1 of 3: « Paramètres du serveur » (manual §7.12).

The server the box pushes its CSV folders to: mode (SFTP, SCP or OFF), address, port (empty:
22), user name, password, and beyond the manual the box's own key file, with its public key
to paste on the server. Save (Ctrl+S or F2) saves what changed; the password is written only
when typed, and never shown again. F6 asks the server for its host key, shows its
fingerprint and asks to accept it (a changed key says so). F8 and F9 open the upload settings
and the log (:mod:`connector_pages`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Input, Label, Static

from ews_tui.config import Config
from ews_tui.domain.connector import ConnectorMode
from ews_tui.i18n import N_, _
from ews_tui.services.connector import ConnectorService
from ews_tui.services.connector_transfer import HostKey, TransferError
from ews_tui.ui.screens.confirm import ConfirmScreen
from ews_tui.ui.screens.connector_pages import PAGE_BINDINGS, PageTabs, switch_page
from ews_tui.ui.screens.settings_page import SettingsPage
from ews_tui.ui.widgets.settings_form import Setting

MODES = (
    (N_("SFTP"), ConnectorMode.SFTP.value),
    (N_("SCP"), ConnectorMode.SCP.value),
    (N_("OFF"), ConnectorMode.OFF.value),
)

#: The Connector pages' common look: one line per field, so each page fits 80x24 with the
#: errors shown under their fields. ``CSS`` (not ``DEFAULT_CSS``): it must win over the
#: settings pages' stylesheet.
PAGE_CSS = """
{name} .setting-row {{ margin-top: 0; }}
{name} SettingsForm {{ margin-top: 1; }}
"""


class ConnectorScreen(SettingsPage):
    PAGE: ClassVar[str] = "connector"
    CSS = PAGE_CSS.format(name="ConnectorScreen")
    DEFAULT_CSS = """
    ConnectorScreen #password-row { height: auto; }
    ConnectorScreen #password-row .setting-label { width: 26; padding: 0 1 0 0; }
    ConnectorScreen #connector-password { width: 30; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s,f2", "save", N_("Save"), show=True, priority=True),
        Binding("f6", "host_key", N_("Server key"), show=True, priority=True),
        *PAGE_BINDINGS,
    ]
    TITLE_MSGID = N_("Connector")
    SETTINGS = (
        Setting("connector.mode", N_("Mode"), "select", choices=MODES),
        Setting("connector.address", N_("Server address")),
        Setting("connector.port", N_("Port (empty: 22)"), "number"),
        Setting("connector.user", N_("User name")),
        Setting("connector.key", N_("Box key file")),
    )

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            yield widget
            if widget.has_class("page-title"):
                yield PageTabs(self.PAGE)

    def compose_after(self) -> ComposeResult:
        with Horizontal(classes="setting-row", id="password-row"):
            yield Label(_("Password"), classes="setting-label")
            yield Input(password=True, compact=True, id="connector-password")
        yield Static("", id="host-key", classes="page-fact")
        yield Static("", id="box-key", classes="page-fact")

    @property
    def connector(self) -> ConnectorService:
        return self.session.service(ConnectorService)

    def action_page(self, name: str) -> None:
        switch_page(self.app, self.PAGE, name)

    def reload(self) -> None:
        super().reload()
        password = self.query_one("#connector-password", Input)
        password.value = ""
        password.placeholder = (
            _("set (type to change)") if self.service.config.connector.password else _("none")
        )

    def show_config(self, config: Config) -> None:
        self.run_worker(self._facts(), group="facts")

    async def _facts(self) -> None:
        connector = self.connector
        try:
            public = await connector.public_key()
        except TransferError as error:
            public_text = error.message.render(_)
        else:
            public_text = (
                _("Box key, to paste in the server's authorized_keys: {key}").format(key=public)
                if public
                else _("No box key: password login only.")
            )
        self.query_one("#box-key", Static).update(public_text)
        fingerprint = await connector.trusted_fingerprint()
        host = (
            _("Server key accepted: {fingerprint}").format(fingerprint=fingerprint)
            if fingerprint
            else _("Server key not accepted yet: F6 to check it.")
        )
        self.query_one("#host-key", Static).update(host)

    # ------------------------------------------------------------------ saving

    def action_save(self) -> None:
        changes: dict[str, Any] = self.form.changes()
        password = self.query_one("#connector-password", Input).value
        if password:
            changes["connector.password"] = password
        if not changes:
            self.form.show_problems([])
            self.set_status(_("Nothing to save: no value changed."))
            return
        problems = self.service.problems(changes)
        self.form.show_problems(problems)
        if problems:
            self.set_status(_("Not saved: correct the values shown."), error=True)
            return
        self.run_worker(self.save(changes), exclusive=True, group="save")

    def saved_message(self, config: Config) -> str:
        return _("Saved. The next transfer uses these settings.")

    # ------------------------------------------------------------------ the host key

    def action_host_key(self) -> None:
        self.set_status(_("Asking the server for its key..."))
        self.run_worker(self._host_key(), exclusive=True, group="host-key")

    async def _host_key(self) -> None:
        try:
            key = await self.connector.fetch_host_key()
        except TransferError as error:
            self.set_status(error.message.render(_), error=True)
            return
        known = await self.connector.trusted_fingerprint()
        if known == key.fingerprint:
            self.set_status(_("The server's key is the accepted one."))
            return
        question = _("The server presents the key {fingerprint}. Accept it?").format(
            fingerprint=key.fingerprint
        )
        if known is not None:
            question += " " + _("It is NOT the key accepted before ({fingerprint}).").format(
                fingerprint=known
            )

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(self._trust(key), exclusive=True, group="host-key")
            else:
                self.set_status(_("Key not accepted."))

        self.app.push_screen(ConfirmScreen(question, yes=N_("Accept")), answered)

    async def _trust(self, key: HostKey) -> None:
        await self.connector.trust(key)
        self.set_status(_("Key accepted."))
        await self._facts()


SCREEN = ConnectorScreen
