"""Server settings > Connector (manual §7.12): push the CSV folders to a server.

Three parts on one page: the server settings (mode, address, port, user, password, the box's
key), the upload settings (source folders, destination with its keywords, the schedule) and
the transfer log. Save (Ctrl+S or F2) saves both forms; the password is written only when
typed, and never shown again. F5 "Send now" sends at once with the saved settings; F6 shows
the server's host key fingerprint and asks to accept it. A failed transfer shows on the log
in plain words.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Input, Label, Static

from ews_tui.config import Config, ConfigError, Problem, to_document
from ews_tui.domain.connector import ConnectorFailed, ConnectorMode, ConnectorSent
from ews_tui.i18n import N_, _
from ews_tui.services.connector import ConnectorService
from ews_tui.services.connector_transfer import HostKey, TransferError
from ews_tui.store.connector_repo import Transfer
from ews_tui.ui.follow import while_shown
from ews_tui.ui.screens.confirm import ConfirmScreen
from ews_tui.ui.screens.settings_page import SettingsPage
from ews_tui.ui.widgets.settings_form import Setting, SettingsForm

LOG_LINES = 20

MODES = (
    (N_("SFTP"), ConnectorMode.SFTP.value),
    (N_("SCP"), ConnectorMode.SCP.value),
    (N_("OFF"), ConnectorMode.OFF.value),
)


def log_line(line: Transfer) -> str:
    """One line of the log page, in the session's language."""
    started = datetime.fromtimestamp(line.started).strftime("%Y-%m-%d %H:%M")
    if line.problem is not None:
        return _("{started} {mode} failed: {problem}").format(
            started=started, mode=line.mode.upper(), problem=line.problem.render(_)
        )
    return _("{started} {mode} {files} files, {size} bytes, {seconds} s").format(
        started=started,
        mode=line.mode.upper(),
        files=line.files,
        size=line.size,
        seconds=f"{line.ended - line.started:.1f}",
    )


class ConnectorScreen(SettingsPage):
    DEFAULT_CSS = """
    ConnectorScreen .section-title { height: 1; margin-top: 1; text-style: bold; }
    ConnectorScreen #password-row { height: auto; margin-top: 1; }
    ConnectorScreen #password-row .setting-label { width: 26; padding: 0 1 0 0; }
    ConnectorScreen #connector-password { width: 30; }
    ConnectorScreen #connector-log { height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s,f2", "save", N_("Save"), show=True, priority=True),
        Binding("f5", "send_now", N_("Send now"), show=True, priority=True),
        Binding("f6", "host_key", N_("Server key"), show=True, priority=True),
    ]
    TITLE_MSGID = N_("Connector")
    SETTINGS = (
        Setting("connector.mode", N_("Mode"), "select", choices=MODES),
        Setting("connector.address", N_("Server address")),
        Setting("connector.port", N_("Port (empty: 22)"), "number"),
        Setting("connector.user", N_("User name")),
        Setting("connector.key", N_("Box key file")),
    )
    UPLOAD = (
        Setting("connector.sources", N_("Source folders")),
        Setting("connector.destination", N_("Destination")),
        Setting("connector.day", N_("Day (*, mon..sun, 1..31)")),
        Setting("connector.hour", N_("Hour (*, 0..23)")),
    )

    def compose_before(self) -> ComposeResult:
        yield Static(_("Server settings"), classes="section-title")

    def compose_after(self) -> ComposeResult:
        with Horizontal(classes="setting-row", id="password-row"):
            yield Label(_("Password"), classes="setting-label")
            yield Input(password=True, compact=True, id="connector-password")
        yield Static("", id="host-key", classes="page-fact")
        yield Static("", id="box-key", classes="page-fact")
        yield Static(_("Upload settings"), classes="section-title")
        yield SettingsForm(self.UPLOAD, id="form-upload")
        yield Static(
            _(
                "Empty folders: all (energy, measures, events, eqcheck). Destination keywords: "
                "%date, %jour, %dow, %heure. SCP sends one zip."
            ),
            classes="page-fact",
        )
        yield Static(_("Log"), classes="section-title")
        yield Static("", id="connector-log")

    @property
    def connector(self) -> ConnectorService:
        return self.session.service(ConnectorService)

    @property
    def upload(self) -> SettingsForm:
        return self.query_one("#form-upload", SettingsForm)

    def on_mount(self) -> None:
        super().on_mount()  # loads the forms and the facts (show_config)
        self._follow()

    def _follow(self) -> None:
        self.run_worker(self._follow_events(), exclusive=True, group="follow")

    async def _follow_events(self) -> None:
        with self.session.hub.subscribe(
            ConnectorSent, ConnectorFailed, maxsize=8, name="connector-screen"
        ) as events:
            async for _event in while_shown(self, events):
                await self.show_log()

    def reload(self) -> None:
        super().reload()
        doc = to_document(self.service.config, self.service.base_dir)
        connector = dict(doc["connector"])
        connector["sources"] = ", ".join(connector["sources"])
        # Text fields: compared as text with what is typed (an hour 0 is "0").
        connector["day"], connector["hour"] = str(connector["day"]), str(connector["hour"])
        self.upload.load({"connector": connector})
        password = self.query_one("#connector-password", Input)
        password.value = ""
        password.placeholder = (
            _("set (type to change)") if self.service.config.connector.password else _("none")
        )

    def show_config(self, config: Config) -> None:
        self.refresh_facts()

    def refresh_facts(self) -> None:
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
        await self.show_log()

    async def show_log(self) -> None:
        lines = await self.connector.log_lines(LOG_LINES)
        text = "\n".join(log_line(line) for line in lines) if lines else _("No transfer yet.")
        self.query_one("#connector-log", Static).update(text)

    # ------------------------------------------------------------------ saving

    def all_changes(self) -> dict[str, Any]:
        changes = {**self.form.changes(), **self.upload.changes()}
        password = self.query_one("#connector-password", Input).value
        if password:
            changes["connector.password"] = password
        return changes

    def show_all_problems(self, problems: list[Problem]) -> None:
        self.form.show_problems(problems)
        upload_keys = {setting.key for setting in self.UPLOAD}
        self.upload.show_problems([p for p in problems if p.where in upload_keys])

    def action_save(self) -> None:
        changes = self.all_changes()
        if not changes:
            self.show_all_problems([])
            self.set_status(_("Nothing to save: no value changed."))
            return
        problems = self.service.problems(changes)
        self.show_all_problems(problems)
        if problems:
            self.set_status(_("Not saved: correct the values shown."), error=True)
            return
        self.run_worker(self.save(changes), exclusive=True, group="save")

    async def save(self, changes: dict[str, Any]) -> None:
        try:
            await self.service.apply(changes)
        except ConfigError as error:
            self.show_all_problems(error.problems)
            self.set_status(_("Not saved: correct the values shown."), error=True)
            return
        self.show_all_problems([])
        self.reload()
        self.set_status(_("Saved. The next transfer uses these settings."))

    # ------------------------------------------------------------------ actions

    def action_send_now(self) -> None:
        self.set_status(_("Sending..."))
        self.run_worker(self._send_now(), exclusive=True, group="send")

    async def _send_now(self) -> None:
        line = await self.connector.send_now()
        if line.problem is not None:
            self.set_status(
                _("Not sent: {problem}").format(problem=line.problem.render(_)), error=True
            )
        else:
            self.set_status(
                _("Sent: {files} files, {size} bytes.").format(files=line.files, size=line.size)
            )
        await self.show_log()

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
