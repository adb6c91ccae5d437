"""The mailer against a real SMTP server (aiosmtpd on loopback): digests, a server down then
back (exactly once), 4xx then 5xx, STARTTLS with a self-signed certificate, AUTH LOGIN/PLAIN,
and the plain words of "Send a test mail"."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from pathlib import Path

import pytest

from ews_tui.config import SmtpSecurity, SmtpSettings
from ews_tui.domain.events import MailFailing, MailQueued, MailRecovered, MailRefused
from ews_tui.domain.notifications import (
    MAX_LISTED,
    EventRule,
    Notice,
    NoticeKind,
    NotificationSettings,
    Recipient,
    Severity,
)
from ews_tui.hub import Hub
from ews_tui.services.mailer import MailBackoff, Mailer
from ews_tui.store.db import Database
from ews_tui.store.notification_settings_repo import NotificationSettingsRepo
from ews_tui.store.outbox_repo import enqueue
from ews_tui.supervision import Supervisor
from tests.services.set_clock import Clock
from tests.services.smtp_fixtures import (
    Authenticator,
    Inbox,
    free_port,
    self_signed,
    smtp_server,
)

T0 = 1_796_317_445.0  # 2026-12-03 17:04:05 UTC, 18:04:05 in Paris
SETTINGS = NotificationSettings(
    rules={"input.changed": EventRule(mail=False)},
    recipients=(
        Recipient("marie@site.test", "fr"),
        Recipient("bob@site.test", "en", frozenset({"breaker.tripped"})),
    ),
    digest_minutes=5,
    site_name="Usine Nord",
)


def smtp_at(port: int, **more: object) -> SmtpSettings:
    base = SmtpSettings(
        host="127.0.0.1",
        port=port,
        security=SmtpSecurity.NONE,
        sender="box@site.test",
        timeout_s=5,
    )
    return replace(base, **more)  # type: ignore[arg-type]


def notice(ts: float, event: str = "breaker.tripped", label: str = "TD1 Q3", **more: object):  # type: ignore[no-untyped-def]
    return Notice(
        event,
        more.pop("severity", Severity.CRITICAL),  # type: ignore[arg-type]
        label,
        datetime.fromtimestamp(ts, UTC),
        **more,  # type: ignore[arg-type]
    )


class Box:
    """A mailer on the test's store with a clock the test sets and one SMTP setting."""

    def __init__(self, db: Database, port: int, **smtp: object) -> None:
        self.db = db
        self.hub = Hub()
        self.clock = Clock(T0)
        self.smtp = smtp_at(port, **smtp)
        self.mailer = Mailer(
            db,
            self.hub,
            smtp=lambda: self.smtp,
            timezone=lambda: "Europe/Paris",
            supervisor=Supervisor(self.hub),
            clock=self.clock,
            backoff=MailBackoff(start_s=30.0, max_s=600.0),
            poll_s=3600.0,
        )

    async def queue(self, *notices: Notice) -> None:
        async with self.db.transaction() as conn:
            await enqueue(conn, notices)


@pytest.fixture
async def settled(db: Database) -> AsyncIterator[Database]:
    await NotificationSettingsRepo(db).save(SETTINGS)
    yield db


def text(mail: Message) -> str:
    assert isinstance(mail, EmailMessage)
    return str(mail.get_content())


def to(mails: Sequence[Message], address: str) -> list[Message]:
    return [m for m in mails if m["To"] == address]


async def test_one_mail_then_a_digest_per_interval_in_each_language(settled: Database) -> None:
    inbox = Inbox()
    async with smtp_server(inbox) as port:
        box = Box(settled, port)
        await box.queue(notice(T0))
        await box.mailer.run_once()
        assert len(to(inbox.mails, "marie@site.test")) == 1
        assert len(to(inbox.mails, "bob@site.test")) == 1

        box.clock.now = T0 + 60
        await box.queue(
            notice(T0 + 60, "device.comm_error", "Meter 5", severity=Severity.WARNING),
            notice(T0 + 61, "input.changed", "Door", severity=Severity.INFO),  # does not mail
            notice(T0 + 62, "breaker.tripped", "TD1 Q3", kind=NoticeKind.CLEARED),
        )
        wait = await box.mailer.run_once()
        assert len(inbox.mails) == 2  # within the interval: nothing leaves
        assert wait == pytest.approx(240.0)  # the next digest is due 5 minutes after the first

        box.clock.now = T0 + 300
        await box.mailer.run_once()
        await box.mailer.run_once()
    marie = to(inbox.mails, "marie@site.test")
    bob = to(inbox.mails, "bob@site.test")
    assert len(marie) == 2 and len(bob) == 2
    assert marie[0]["Subject"] == "[Usine Nord] Critique : Disjoncteur déclenché sur TD1 Q3"
    assert bob[0]["Subject"] == "[Usine Nord] Critical: Breaker tripped on TD1 Q3"
    assert "2026-12-03 18:04:05" in text(marie[0])  # the site's zone, not UTC
    digest = text(marie[1])
    assert "Meter 5" in digest and "TD1 Q3" in digest and "Door" not in digest
    assert "(+1 autre événement)" in marie[1]["Subject"]
    assert "Meter 5" not in text(bob[1])  # bob gets breaker trips only
    assert {m["Message-ID"] for m in inbox.mails}.__len__() == 4
    assert all(m["Auto-Submitted"] == "auto-generated" for m in inbox.mails)


async def test_a_rolled_back_transaction_queues_nothing(settled: Database) -> None:
    box = Box(settled, free_port())

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with settled.transaction() as conn:
            await enqueue(conn, [notice(T0)])
            raise Abort
    assert (await box.mailer.outbox.counts()).waiting == 0
    await box.queue(notice(T0))
    assert (await box.mailer.outbox.counts()).waiting == 2


async def test_server_down_then_back_delivers_exactly_once(settled: Database) -> None:
    port = free_port()
    box = Box(settled, port)
    await box.queue(notice(T0))
    with box.hub.subscribe(MailFailing, MailRecovered, name="test") as news:
        await box.mailer.run_once()  # refused: nobody listens
        box.clock.now += 30
        await box.mailer.run_once()  # still down: no second MailFailing
        failing = news.get_nowait()
        assert isinstance(failing, MailFailing)
        assert failing.reason == f"connection refused on port {port}"
        assert len(news) == 0
        status = await box.mailer.status()
        assert status.failing and status.counts.unsent == 2

        inbox = Inbox()
        async with smtp_server(inbox, port=port):
            await box.mailer.run_once()  # before the backoff ends: not tried
            assert inbox.mails == []
            box.clock.now += 600
            await box.mailer.run_once()
            box.clock.now += 600
            await box.mailer.run_once()
        assert news.get_nowait() == MailRecovered(f"127.0.0.1:{port}")
    assert sorted(m["To"] for m in inbox.mails) == ["bob@site.test", "marie@site.test"]
    assert (await box.mailer.status()).counts.unsent == 0


async def test_4xx_is_retried_then_5xx_refuses_the_mail_for_good(settled: Database) -> None:
    inbox = Inbox(data_answer="451 4.3.0 Mailbox busy, try later")
    async with smtp_server(inbox) as port:
        box = Box(settled, port)
        await box.queue(notice(T0, "device.comm_error", "Meter 5", severity=Severity.WARNING))
        with box.hub.subscribe(MailFailing, MailRefused, name="test") as news:
            await box.mailer.run_once()
            failing = news.get_nowait()
            assert isinstance(failing, MailFailing)
            assert (
                failing.reason == "the server asks to try later (451 4.3.0 Mailbox busy, try later)"
            )
            [mail] = await box.mailer.outbox.mails()
            assert mail.attempts == 1 and mail.sent is None and mail.refused is None

            inbox.data_answer = "554 5.6.0 Message content refused"
            box.clock.now += 30
            await box.mailer.run_once()
            refused = news.get_nowait()
            assert refused == MailRefused(
                "marie@site.test",
                "the server refused the mail (554 5.6.0 Message content refused)",
            )
            box.clock.now += 3600
            inbox.data_answer = None
            await box.mailer.run_once()  # never tried again
    assert inbox.mails == []
    [mail] = await box.mailer.outbox.mails()
    assert mail.refused is not None and mail.attempts == 2


async def test_a_refused_recipient_does_not_hold_back_the_others(settled: Database) -> None:
    inbox = Inbox(rcpt_answer="550 5.1.1 No such user")
    async with smtp_server(inbox) as port:
        box = Box(settled, port)
        await box.queue(notice(T0))
        with box.hub.subscribe(MailRefused, name="test") as news:
            await box.mailer.run_once()
            assert len(news) == 2
            first = news.get_nowait()
            assert isinstance(first, MailRefused)
            assert "refused (550 5.1.1 No such user)" in first.reason
    assert (await box.mailer.status()).failing is False


async def test_starttls_with_a_self_signed_certificate(settled: Database, tmp_path: Path) -> None:
    cert = self_signed(tmp_path)
    inbox = Inbox()
    async with smtp_server(inbox, tls_context=cert.server_context()) as port:
        box = Box(settled, port, security=SmtpSecurity.STARTTLS)
        answer = await box.mailer.send_test("marie@site.test")
        assert not answer.ok
        assert str(answer.message).startswith("certificate not trusted (")
        box.mailer.tls_context = cert.client_context()
        answer = await box.mailer.send_test("marie@site.test", language="fr")
        assert answer.ok, str(answer.message)
        assert str(answer.message).startswith(f"127.0.0.1:{port} accepted the mail (")
        box.smtp = replace(box.smtp, security=SmtpSecurity.NONE)
        answer = await box.mailer.send_test("marie@site.test")  # the server requires TLS
        assert not answer.ok
    [mail] = inbox.mails
    assert mail["Subject"] == "[Usine Nord] Mail de test"


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
async def test_auth_wrong_then_right_password(
    settled: Database, tmp_path: Path, mechanism: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cert = self_signed(tmp_path)
    auth = Authenticator("box", "s3cret")
    other = "PLAIN" if mechanism == "LOGIN" else "LOGIN"
    inbox = Inbox()
    async with smtp_server(
        inbox, tls_context=cert.server_context(), authenticator=auth, auth_exclude=(other,)
    ) as port:
        box = Box(settled, port, security=SmtpSecurity.STARTTLS, username="box", password="wrong")
        box.mailer.tls_context = cert.client_context()
        answer = await box.mailer.send_test("marie@site.test")
        assert not answer.ok
        assert str(answer.message).startswith("authentication refused (535")
        box.smtp = replace(box.smtp, password="s3cret")
        answer = await box.mailer.send_test("marie@site.test")
        assert answer.ok, str(answer.message)
    assert auth.mechanisms == [mechanism, mechanism]
    assert "s3cret" not in caplog.text and "wrong" not in caplog.text  # never logged
    assert len(inbox.mails) == 1


async def test_test_mail_words_for_what_is_not_a_server(settled: Database) -> None:
    port = free_port()
    box = Box(settled, port)
    answer = await box.mailer.send_test("marie@site.test")
    assert str(answer.message) == f"connection refused on port {port}"
    answer = await box.mailer.send_test("not an address")
    assert str(answer.message) == "not an address is not an e-mail address"
    box.smtp = replace(box.smtp, host="")
    assert str((await box.mailer.send_test("marie@site.test")).message) == ("no SMTP server is set")


async def test_the_running_service_sends_when_notices_are_queued(settled: Database) -> None:
    inbox = Inbox()
    async with smtp_server(inbox) as port:
        box = Box(settled, port)
        await box.mailer.start()
        try:
            await box.queue(notice(T0, "breaker.tripped"))
            box.hub.publish(MailQueued())
            async with asyncio.timeout(10):
                while len(inbox.mails) < 2:
                    inbox.arrived.clear()
                    await inbox.arrived.wait()
        finally:
            await box.mailer.stop()
    assert len(inbox.mails) == 2


async def test_a_long_digest_lists_the_first_events_and_counts_the_rest(
    settled: Database,
) -> None:
    """A thousand devices flapping: the outbox is looked at by recipient (no notice read
    while the window is closed), and the digest lists MAX_LISTED events, then how many more,
    in one mail that takes them all."""
    inbox = Inbox()
    async with smtp_server(inbox) as port:
        box = Box(settled, port)
        await box.queue(notice(T0))
        await box.mailer.run_once()  # the first mail: the window closes for 5 minutes
        many = [
            notice(T0 + 1 + n / 100, "device.comm_error", f"Meter {n}", severity=Severity.WARNING)
            for n in range(MAX_LISTED + 99)
        ]
        info = notice(T0 + 8, "device.comm_error", "Meter X", severity=Severity.INFO)  # no mail
        many += [info, notice(T0 + 9, "breaker.tripped", "TD2 Q1")]  # the worst, not listed
        await box.queue(*many)
        closed = await box.mailer.outbox.waiting(300.0, T0 + 10)
        assert [(w.recipient, w.total, w.notices) for w in closed] == [
            ("marie@site.test", MAX_LISTED + 100, ()),
            ("bob@site.test", 1, ()),
        ]
        box.clock.now = T0 + 300
        await box.mailer.run_once()
        await box.mailer.run_once()
        assert (await box.mailer.outbox.counts()).waiting == 0
    marie = to(inbox.mails, "marie@site.test")
    assert len(marie) == 2
    body = text(marie[1])
    assert body.count("Meter ") == MAX_LISTED and "TD2 Q1" not in body
    assert "... et 100 événements de plus : voir l'écran Alarmes." in body
    assert marie[1]["Subject"].startswith("[Usine Nord] Critique : ")
    assert f"(+{MAX_LISTED + 99} autres événements)" in marie[1]["Subject"]
