"""The mailer: sends the outbox's mails with aiosmtplib, never loses one, never floods.

A service of the one loop; its loop runs under the Supervisor (restarted if it crashes). Each
round it

1. composes, per recipient whose digest window is open (at most one mail per recipient per
   ``digest_minutes``), one mail of every notice waiting for it, in the recipient's language
   with times in the site's zone, and stores it (subject, body, Message-ID) in one
   transaction;
2. sends the mails whose next try has come. The server's acceptance is marked ``sent`` in
   the store right after: a crash in between sends that mail again after the restart, with
   the same Message-ID (at least once, never lost; duplicates only in that window).

While the server is down (connection refused, timeout, TLS, authentication, 4xx) every
unsent mail waits with exponential backoff, and ONE :class:`MailFailing` is published (the
alarm engine shows it as a system alarm; it never queues a mail about itself), then
:class:`MailRecovered` once a mail goes through. A 5xx on the recipient or on the content
refuses that mail for good (:class:`MailRefused`): retrying would get the same answer.

The loop wakes on :class:`MailQueued` (published by whoever committed notices), on an
``smtp`` settings change, when the next mail is due, and every ``poll_s`` at the latest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo

import aiosmtplib
import aiosqlite

from ews_tui.config import SmtpSecurity, SmtpSettings
from ews_tui.domain.alarm_notices import notices_of
from ews_tui.domain.alarms import Transition
from ews_tui.domain.events import (
    MailFailing,
    MailQueued,
    MailRecovered,
    MailRefused,
    SettingsChanged,
)
from ews_tui.domain.messages import N_, Message
from ews_tui.domain.notifications import (
    NotificationSettings,
    check_settings,
    compose,
    is_address,
)
from ews_tui.hub import Hub, Subscription
from ews_tui.i18n import DEFAULT_LANGUAGE, LANGUAGES, translator
from ews_tui.services.alarms import TransactionHook
from ews_tui.store.db import Database
from ews_tui.store.notification_settings_repo import NotificationSettingsRepo
from ews_tui.store.outbox_repo import OutboxCounts, OutboxRepo, enqueue
from ews_tui.supervision import Supervised, Supervisor

log = logging.getLogger(__name__)

KEEP_SENT_S = 30 * 86400.0  # sent and refused mails are forgotten after 30 days
PRUNE_S = 3600.0


@dataclass(frozen=True)
class MailBackoff:
    """Seconds between tries while the server is down: doubling from ``start_s``."""

    start_s: float = 30.0
    max_s: float = 1800.0

    def delay(self, failures: int) -> float:
        return min(self.start_s * 2.0 ** max(failures - 1, 0), self.max_s)


@dataclass(frozen=True)
class SendFailure:
    """Why a send failed, in plain words; ``refused``: for good (5xx on the recipient or the
    data), else the server is down or misconfigured and the mail is retried."""

    message: Message
    refused: bool = False
    code: int | None = None


@dataclass(frozen=True)
class MailAnswer:
    """What the server said to a test mail: accepted (``ok``) or why not, in plain words."""

    ok: bool
    message: Message


@dataclass(frozen=True)
class MailStatus:
    """The mailer now, for the screens: failing (and why), and what the outbox holds."""

    failing: bool
    reason: Message | None
    counts: OutboxCounts


def server_text(smtp: SmtpSettings) -> str:
    return f"{smtp.host}:{smtp.port}"


def _causes(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    seen: BaseException | None = error
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return chain


def _answer(code: int, text: str) -> str:
    return f"{code} {' '.join(text.split())}".strip()


def explain(error: BaseException, smtp: SmtpSettings) -> SendFailure:
    """An aiosmtplib/OS error in plain words ("connection refused on port 587")."""
    chain = _causes(error)
    for cause in chain:
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = cause.verify_message or cause.reason or str(cause)
            return SendFailure(
                Message(N_("certificate not trusted ({reason})"), {"reason": reason})
            )
    for cause in chain:
        if isinstance(cause, ConnectionRefusedError):
            return SendFailure(
                Message(N_("connection refused on port {port}"), {"port": smtp.port})
            )
        if isinstance(cause, socket.gaierror):
            return SendFailure(Message(N_("unknown host {host}"), {"host": smtp.host}))
        if isinstance(cause, ssl.SSLError):
            return SendFailure(
                Message(N_("TLS failed ({reason})"), {"reason": cause.reason or str(cause)})
            )
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return SendFailure(
            Message(
                N_("authentication refused ({answer})"),
                {"answer": _answer(error.code, error.message)},
            ),
            code=error.code,
        )
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused) and error.recipients:
        return _refused(error.recipients[0], smtp)
    if isinstance(error, aiosmtplib.SMTPRecipientRefused):
        return _refused(error, smtp)
    if isinstance(error, aiosmtplib.SMTPSenderRefused):
        return SendFailure(
            Message(
                N_("sender {sender} refused ({answer})"),
                {"sender": smtp.sender, "answer": _answer(error.code, error.message)},
            ),
            code=error.code,
        )
    if isinstance(error, aiosmtplib.SMTPResponseException):
        answer = _answer(error.code, error.message)
        if 400 <= error.code < 500:
            return SendFailure(
                Message(N_("the server asks to try later ({answer})"), {"answer": answer}),
                code=error.code,
            )
        refused = isinstance(error, aiosmtplib.SMTPDataError) and error.code >= 500
        return SendFailure(
            Message(N_("the server refused the mail ({answer})"), {"answer": answer}),
            refused=refused,
            code=error.code,
        )
    if isinstance(error, TimeoutError):
        return SendFailure(Message(N_("no answer within {seconds} s"), {"seconds": smtp.timeout_s}))
    if isinstance(error, aiosmtplib.SMTPException):
        text = error.message.lower()
        if "starttls" in text:
            return SendFailure(Message(N_("the server does not offer STARTTLS")))
        if "auth" in text:
            return SendFailure(
                Message(N_("the server does not offer authentication: leave the user name empty"))
            )
        return SendFailure(Message(N_("SMTP error ({reason})"), {"reason": error.message}))
    if isinstance(error, OSError):
        return SendFailure(
            Message(
                N_("cannot reach the server ({reason})"), {"reason": error.strerror or str(error)}
            )
        )
    return SendFailure(Message(N_("SMTP error ({reason})"), {"reason": str(error)}))


def _refused(error: aiosmtplib.SMTPRecipientRefused, smtp: SmtpSettings) -> SendFailure:
    answer = _answer(error.code, error.message)
    if 400 <= error.code < 500:
        return SendFailure(
            Message(N_("the server asks to try later ({answer})"), {"answer": answer}),
            code=error.code,
        )
    return SendFailure(
        Message(
            N_("recipient {recipient} refused ({answer})"),
            {"recipient": error.recipient, "answer": answer},
        ),
        refused=True,
        code=error.code,
    )


def build_message(
    smtp: SmtpSettings, to: str, subject: str, body: str, message_id: str, now: float
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = smtp.sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    mail["Date"] = format_datetime(datetime.fromtimestamp(now, UTC))
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to an alarm
    mail.set_content(body)
    return mail


async def deliver(
    smtp: SmtpSettings, mail: EmailMessage, tls_context: ssl.SSLContext | None = None
) -> str:
    """Send ``mail`` through ``smtp``; the server's final answer, or an aiosmtplib/OS error."""
    client = aiosmtplib.SMTP(
        hostname=smtp.host,
        port=smtp.port,
        timeout=smtp.timeout_s,
        use_tls=smtp.security is SmtpSecurity.TLS,
        start_tls=smtp.security is SmtpSecurity.STARTTLS,
        tls_context=tls_context,
        username=smtp.username or None,
        password=smtp.password or None,
    )
    # Not ``async with``: its exit sends QUIT and waits for the answer even when cancelled.
    try:
        await client.connect()
        _errors, answer = await client.send_message(mail)
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await client.quit()  # the mail is accepted already: a lost "221 Bye" changes nothing
    finally:
        client.close()
    return answer


class Mailer:
    """Sends the outbox (see the module doc). ``tls_context`` replaces the system's trusted
    certificates (tests trust their own self-signed server with it)."""

    name = "mailer"

    def __init__(
        self,
        db: Database,
        hub: Hub,
        *,
        smtp: Callable[[], SmtpSettings],
        timezone: Callable[[], str],
        supervisor: Supervisor,
        clock: Callable[[], float] = time.time,
        backoff: MailBackoff | None = None,
        poll_s: float = 60.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.outbox = OutboxRepo(db)
        self.settings_repo = NotificationSettingsRepo(db)
        self._hub = hub
        self._smtp = smtp
        self._timezone = timezone
        self._supervisor = supervisor
        self._clock = clock
        self.backoff = backoff or MailBackoff()
        self.poll_s = poll_s
        self.tls_context = tls_context
        self._wake = asyncio.Event()
        self._stopping = False
        self.stop_grace_s = 5.0
        self._failures = 0
        self._failing: Message | None = None
        self._next_prune = 0.0
        self._sub: Subscription | None = None
        self._loop: Supervised | None = None
        self._listener: asyncio.Task[None] | None = None

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe and start the loop. Mails left unsent by the last run (a restart, a
        ``kill -9``) are tried at once, not after the backoff that run had reached."""
        await self.outbox.retry_now(self._clock())
        self._sub = self._hub.subscribe(MailQueued, SettingsChanged, name="mailer", maxsize=16)
        self._listener = self._supervisor.spawn(self._listen(self._sub), name="mailer-wake")
        self._loop = self._supervisor.supervise("mailer", self._run)

    async def stop(self) -> None:
        """Let the loop finish the mail in hand (up to ``stop_grace_s``), then cancel it. The
        loop also ends by itself once stopping: a cancellation that Python 3.11's
        ``wait_for`` swallows (the answer came at the same moment) does not keep it alive."""
        self._stopping = True
        self.wake()
        if self._sub is not None:
            self._sub.close()
        if self._loop is not None:
            await self._loop.stop(grace=self.stop_grace_s)
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)

    def wake(self) -> None:
        """Look at the outbox now (notices were queued, settings changed)."""
        self._wake.set()

    # -- read models and commands for the screens and the CLI -----------------------------

    async def status(self) -> MailStatus:
        return MailStatus(self._failing is not None, self._failing, await self.outbox.counts())

    async def notification_settings(self) -> NotificationSettings:
        return await self.settings_repo.load()

    async def save_notification_settings(self, settings: NotificationSettings) -> None:
        """Check and save (NotificationError names the first problem; nothing saved)."""
        await self.settings_repo.save(settings)
        self.wake()

    async def send_now(self) -> None:
        """Try every unsent mail at once ("Send now" after fixing the server settings)."""
        await self.outbox.retry_now(self._clock())
        self.wake()

    async def send_test(
        self, to: str, smtp: SmtpSettings | None = None, *, language: str = DEFAULT_LANGUAGE
    ) -> MailAnswer:
        """Send a test mail to ``to`` now (not through the outbox), written in ``language``,
        and say what the server answered, in plain words. ``smtp`` tries settings before
        they are saved."""
        smtp = smtp if smtp is not None else self._smtp()
        if not smtp.host:
            return MailAnswer(False, Message(N_("no SMTP server is set")))
        if not is_address(to):
            return MailAnswer(False, Message(N_("{value} is not an e-mail address"), {"value": to}))
        settings = await self.settings_repo.load()
        text = compose((), self._site(settings), translator(_language(language)), UTC, test=True)
        now = self._clock()
        mail = build_message(smtp, to, text.subject, text.body, _message_id(smtp), now)
        try:
            answer = await deliver(smtp, mail, self.tls_context)
        except (aiosmtplib.SMTPException, OSError) as error:
            failure = explain(error, smtp)
            log.info("test mail to %s via %s failed: %s", to, server_text(smtp), failure.message)
            return MailAnswer(False, failure.message)
        log.info("test mail to %s accepted by %s", to, server_text(smtp))
        return MailAnswer(
            True,
            Message(
                N_("{server} accepted the mail ({answer})"),
                {"server": server_text(smtp), "answer": " ".join(answer.split())},
            ),
        )

    # -- the loop --------------------------------------------------------------------------

    async def _listen(self, sub: Subscription) -> None:
        async for event in sub:
            if isinstance(event, SettingsChanged) and event.section != "smtp":
                continue
            if isinstance(event, SettingsChanged):
                await self.outbox.retry_now(self._clock())
            self.wake()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            wait = await self.run_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def run_once(self) -> float:
        """One round: compose what the digest rule lets out, send what is due. Returns the
        seconds until something is due (at most ``poll_s``)."""
        now = self._clock()
        settings = await self.settings_repo.load()
        smtp = self._smtp()
        next_due = now + self.poll_s
        for waiting in await self.outbox.waiting(settings.digest_seconds, now):
            if waiting.due > now:
                next_due = min(next_due, waiting.due)
                continue
            words = translator(_language(waiting.language))
            notices = [n for _id, n in waiting.notices]
            site, zone = self._site(settings), self._zone()
            text = compose(notices, site, words, zone, total=waiting.total, worst=waiting.worst)
            await self.outbox.add_mail(
                waiting.recipient,
                waiting.last_id,
                _message_id(smtp),
                text.subject,
                text.body,
                now,
            )
        if smtp.host:
            await self._send_due(smtp)
            next_try = await self.outbox.next_try()
            if next_try is not None:
                next_due = min(next_due, next_try)
        if now >= self._next_prune:  # an hourly chore, not one per round
            self._next_prune = now + PRUNE_S
            await self.outbox.prune(now - KEEP_SENT_S)
        return max(next_due - self._clock(), 0.0)

    async def _send_due(self, smtp: SmtpSettings) -> None:
        for mail in await self.outbox.due(self._clock()):
            message = build_message(
                smtp, mail.recipient, mail.subject, mail.body, mail.message_id, mail.created
            )
            try:
                await deliver(smtp, message, self.tls_context)
            except (aiosmtplib.SMTPException, OSError) as error:
                failure = explain(error, smtp)
                if failure.refused:
                    await self._refused(mail.id, mail.recipient, failure)
                    continue
                await self._server_failed(mail.id, smtp, failure)
                return  # the server is down for every mail: all wait for the backoff
            await self.outbox.mark_sent(mail.id, self._clock())
            log.info("mail %d to %s accepted by %s", mail.id, mail.recipient, server_text(smtp))
            self._recovered(smtp)

    async def _refused(self, mail_id: int, recipient: str, failure: SendFailure) -> None:
        reason = failure.message.render()
        await self.outbox.mark_refused(mail_id, self._clock(), reason)
        log.error("mail %d to %s refused for good: %s", mail_id, recipient, reason)
        self._hub.publish(MailRefused(recipient, reason))

    async def _server_failed(self, mail_id: int, smtp: SmtpSettings, failure: SendFailure) -> None:
        self._failures += 1
        delay = self.backoff.delay(self._failures)
        reason = failure.message.render()
        await self.outbox.mark_failed(mail_id, reason, self._clock() + delay)
        log.warning("mail server %s: %s; retry in %.0f s", server_text(smtp), reason, delay)
        if self._failing is None:
            self._failing = failure.message
            counts = await self.outbox.counts()
            self._hub.publish(MailFailing(server_text(smtp), reason, counts.unsent))
        else:
            self._failing = failure.message

    def _recovered(self, smtp: SmtpSettings) -> None:
        self._failures = 0
        if self._failing is not None:
            self._failing = None
            log.info("mail server %s takes mail again", server_text(smtp))
            self._hub.publish(MailRecovered(server_text(smtp)))

    def _site(self, settings: NotificationSettings) -> str:
        return settings.site_name or socket.gethostname()

    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self._timezone())


def _language(code: str) -> str:
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def _message_id(smtp: SmtpSettings) -> str:
    domain = smtp.sender.rpartition("@")[2] or "ews.invalid"
    return make_msgid(idstring=uuid.uuid4().hex[:12], domain=domain)


__all__ = [
    "MailAnswer",
    "MailBackoff",
    "MailStatus",
    "Mailer",
    "SendFailure",
    "build_message",
    "check_settings",
    "deliver",
    "explain",
]


def alarm_mail_hook(hub: Hub) -> TransactionHook:
    """The alarm engine's transaction hook that queues the mail of its transitions in the
    same transaction as the alarms (nothing mailed that was not stored, nothing stored
    that is not mailed), then wakes the mailer once that transaction is over."""

    async def queue(conn: aiosqlite.Connection, transitions: tuple[Transition, ...]) -> None:
        notices = notices_of(transitions)
        if not notices:
            return
        await enqueue(conn, notices)
        # Published at the loop's next turn: the mailer reads the outbox through the same
        # store, so it sees these mails once the alarms' COMMIT has released it.
        asyncio.get_running_loop().call_soon(hub.publish, MailQueued())

    return queue
