"""E-mail and notifications: the SMTP server page (saved in config.toml, the password never
shown again, a test mail answered in plain words by a real aiosmtpd) and the Notification
settings page (rules per event type and recipients, saved in the store)."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.widgets import Input, Select, Static

from ews_tui.config import load_config
from ews_tui.domain.notifications import EVENT_TYPES, Recipient, Severity
from ews_tui.runtime import Runtime
from ews_tui.services.mailer import Mailer
from ews_tui.ui.menu import MENU
from ews_tui.ui.screens.settings_notifications import NotificationSettingsScreen
from ews_tui.ui.screens.settings_smtp import SmtpSettingsScreen
from ews_tui.ui.session import Role
from tests.services.smtp_fixtures import Inbox, free_port, smtp_server
from tests.ui.box_fixtures import box_runtime, make_box_app

SECRET = "pa55-w0rd-XYZ"


@pytest.fixture
async def box(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path) as rt:
        yield rt


async def _type(pilot, selector: str, text: str) -> None:  # type: ignore[no-untyped-def]
    field = pilot.app.screen.query_one(selector, Input)
    field.value = ""
    field.focus()
    await pilot.press(*text)


async def _settled(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _text(pilot, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(pilot.app.screen.query_one(selector, Static).content)


def test_the_menu_entry_opens_the_smtp_page() -> None:
    [entry] = [e for s in MENU for e in s.entries if e.key == "notifications"]
    assert entry.screen == "settings_smtp"


async def test_smtp_settings_saved_password_never_shown_again(box: Runtime, tmp_path: Path) -> None:
    app = make_box_app(box, "settings_smtp", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, SmtpSettingsScreen)
        assert _text(pilot, "#smtp-password-fact") == "No password is stored."
        await _type(pilot, "#set-smtp-host", "mail.site.test")
        await _type(pilot, "#set-smtp-port", "465")
        app.screen.query_one("#set-smtp-security", Select).value = "tls"
        await _type(pilot, "#set-smtp-username", "box")
        await _type(pilot, "#set-smtp-sender", "box@site.test")
        await _type(pilot, "#smtp-password", SECRET)
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert _text(pilot, "#status").startswith("Saved.")
        assert app.screen.query_one("#smtp-password", Input).value == ""
        assert _text(pilot, "#smtp-password-fact").startswith("A password is stored")
        await pilot.press("ctrl+s")  # an empty password field changes nothing
        await _settled(pilot)
        assert _text(pilot, "#status") == "Nothing to save: no value changed."
        shown = " ".join(str(w.render()) for w in app.screen.query("*"))
        assert SECRET not in shown
    config_file = tmp_path / "config.toml"
    smtp = load_config(config_file).smtp
    assert (smtp.host, smtp.port, smtp.security.value, smtp.password) == (
        "mail.site.test",
        465,
        "tls",
        SECRET,
    )
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    log_dir = tmp_path / "data" / "logs"
    logs = "".join(p.read_text() for p in log_dir.glob("*")) if log_dir.is_dir() else ""
    assert SECRET not in logs


async def test_test_mail_reports_the_servers_answer(box: Runtime) -> None:
    inbox = Inbox()
    app = make_box_app(box, "settings_smtp", role=Role.SERVER)
    async with smtp_server(inbox) as port, app.run_test(size=(80, 24)) as pilot:
        await _type(pilot, "#set-smtp-host", "127.0.0.1")
        await _type(pilot, "#set-smtp-port", str(port))
        app.screen.query_one("#set-smtp-security", Select).value = "none"
        await _type(pilot, "#set-smtp-sender", "box@site.test")
        await _type(pilot, "#smtp-test-to", "marie@site.test")
        await pilot.press("f5")  # unsaved values: the test uses what the screen shows
        await _settled(pilot)
        assert _text(pilot, "#smtp-test-answer").startswith(
            f"Sent: 127.0.0.1:{port} accepted the mail ("
        )
        closed = free_port()
        await _type(pilot, "#set-smtp-port", str(closed))
        await pilot.press("f5")
        await _settled(pilot)
        assert _text(pilot, "#smtp-test-answer") == (
            f"Not sent: connection refused on port {closed}"
        )
    assert [m["To"] for m in inbox.mails] == ["marie@site.test"]


async def test_notification_rules_and_recipients_are_saved(box: Runtime) -> None:
    app = make_box_app(box, "settings_smtp", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f6")
        await _settled(pilot)
        assert isinstance(app.screen, NotificationSettingsScreen)
        await pilot.press("space")  # the first event type: no mail
        await pilot.press("down", "s")  # the second: lowest severity one step up
        await pilot.press("a")
        await _settled(pilot)
        await _type(pilot, "#rcpt-address", "marie@site.test")
        app.screen.query_one("#rcpt-language", Select).value = "fr"
        await pilot.press("ctrl+s")
        await _settled(pilot)
        await _type(pilot, "#notify-site", "Usine Nord")
        await _type(pilot, "#notify-digest", "10")
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert _text(pilot, "#status") == "Saved."
        await _type(pilot, "#notify-digest", "x")
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert _text(pilot, "#notify-digest-error") == "x is not a whole number of minutes"
    saved = await box.get(Mailer).notification_settings()
    first, second = EVENT_TYPES[0].id, EVENT_TYPES[1].id
    assert saved.rule(first).mail is False
    assert saved.rule(second).min_severity is Severity.CRITICAL
    assert saved.recipients == (Recipient("marie@site.test", "fr"),)
    assert (saved.site_name, saved.digest_minutes) == ("Usine Nord", 10)


async def test_a_bad_recipient_address_is_refused_in_its_form(box: Runtime) -> None:
    app = make_box_app(box, "settings_notifications", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        await pilot.press("a")
        await _settled(pilot)
        await _type(pilot, "#rcpt-address", "marie")
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert _text(pilot, "#rcpt-error") == "marie is not an e-mail address"
        await pilot.press("escape")
        await _settled(pilot)
        assert isinstance(app.screen, NotificationSettingsScreen)
    assert (await box.get(Mailer).notification_settings()).recipients == ()
