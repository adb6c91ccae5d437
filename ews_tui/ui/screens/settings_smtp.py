"""Server settings > E-mail and notifications: the SMTP server (manual §7.16.1.4).

The ``[smtp]`` keys of ``config.toml``: host, port, security (none, STARTTLS, TLS), user
name, sender, timeout. The password is never shown: its field stays empty and says whether
one is stored; typing one replaces it at Save (the file is 0600). **Send a test mail** (F5)
sends one with the values on the screen, saved or not, and says what the server answered in
plain words. F6 opens the Notification settings page (who gets which alarms).
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, Static

from ews_tui.config import Config, ConfigError, apply_changes
from ews_tui.i18n import N_, _, current_language
from ews_tui.services.mailer import Mailer, MailStatus
from ews_tui.ui.screens.settings_page import SettingsPage
from ews_tui.ui.widgets.settings_form import Setting

SECURITY = (
    (N_("None (port 25)"), "none"),
    (N_("STARTTLS (port 587)"), "starttls"),
    (N_("TLS (port 465)"), "tls"),
)


def status_text(status: MailStatus) -> str:
    """``Outbox: 2 mails waiting. Server failing: connection refused on port 587``."""
    counts = status.counts
    text = _("Outbox: {waiting} events waiting, {unsent} mails to send, {refused} refused.").format(
        waiting=counts.waiting, unsent=counts.unsent, refused=counts.refused
    )
    if status.failing and status.reason is not None:
        text += " " + _("Server failing: {reason}").format(reason=status.reason.render(_))
    return text


class SmtpSettingsScreen(SettingsPage):
    TITLE_MSGID = N_("E-mail and notifications: SMTP server")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f5", "test_mail", N_("Send a test mail"), show=True),
        Binding("f6", "notifications", N_("Notification settings"), show=True),
    ]
    SETTINGS = (
        Setting("smtp.host", N_("SMTP server")),
        Setting("smtp.port", N_("Port"), "number"),
        Setting("smtp.security", N_("Security"), "select", choices=SECURITY),
        Setting("smtp.username", N_("User name")),
        Setting("smtp.sender", N_("Sender address")),
        Setting("smtp.timeout_s", N_("Timeout"), "number", suffix=N_("s")),
    )

    def compose_after(self) -> ComposeResult:
        with Horizontal(classes="setting-row"):
            yield Label(_("Password"), classes="setting-label")
            yield Input(password=True, id="smtp-password", compact=True)
        yield Static("", id="smtp-password-fact", classes="page-fact")
        with Horizontal(classes="setting-row"):
            yield Label(_("Test mail to"), classes="setting-label")
            yield Input(id="smtp-test-to", compact=True)
        with Horizontal(classes="setting-row"):
            yield Button(_("Send a test mail"), id="smtp-test", compact=True)
            yield Button(_("Notification settings"), id="smtp-notifications", compact=True)
        yield Static("", id="smtp-test-answer", classes="page-fact")
        yield Static("", id="smtp-outbox", classes="page-fact")

    @property
    def mailer(self) -> Mailer:
        return self.session.service(Mailer)

    def on_mount(self) -> None:  # after SettingsPage.on_mount (Textual calls both)
        self.run_worker(self._show_outbox(), group="outbox")

    async def _show_outbox(self) -> None:
        self.query_one("#smtp-outbox", Static).update(status_text(await self.mailer.status()))

    def show_config(self, config: Config) -> None:
        self.query_one("#smtp-password", Input).value = ""
        fact = self.query_one("#smtp-password-fact", Static)
        if config.smtp.password:
            fact.update(_("A password is stored; type one to replace it."))
        else:
            fact.update(_("No password is stored."))

    # -- saving: the form's changes, and the password when one was typed --------------------

    def _changes(self) -> dict[str, Any]:
        changes = self.form.changes()
        typed = self.query_one("#smtp-password", Input).value
        if typed:
            changes["smtp.password"] = typed
        return changes

    def action_save(self) -> None:
        changes = self._changes()
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
        self.run_worker(self._show_outbox(), group="outbox")
        return _("Saved. Mail waiting in the outbox is tried again now.")

    # -- the test mail ----------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "smtp-test":
            self.action_test_mail()
        elif event.button.id == "smtp-notifications":
            self.action_notifications()

    def action_notifications(self) -> None:
        self.app.open_screen("settings_notifications")

    def action_test_mail(self) -> None:
        answer = self.query_one("#smtp-test-answer", Static)
        to = self.query_one("#smtp-test-to", Input).value.strip()
        if not to:
            answer.update(_("Type the address that gets the test mail."))
            return
        changes = self._changes()
        problems = self.service.problems(changes)
        self.form.show_problems(problems)
        if problems:
            answer.update(_("Correct the values shown first."))
            return
        try:
            config = apply_changes(self.service.config, changes, self.service.base_dir)
        except ConfigError as error:
            self.form.show_problems(error.problems)
            return
        answer.update(_("Sending a test mail to {to}…").format(to=to))
        self.run_worker(self._test_mail(config, to), exclusive=True, group="test-mail")

    async def _test_mail(self, config: Config, to: str) -> None:
        result = await self.mailer.send_test(to, config.smtp, language=current_language())
        words = result.message.render(_)
        text = _("Sent: {answer}") if result.ok else _("Not sent: {answer}")
        answer = self.query_one("#smtp-test-answer", Static)
        answer.update(text.format(answer=words))
        answer.set_class(not result.ok, "-warning")


SCREEN = SmtpSettingsScreen
