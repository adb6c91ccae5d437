"""The mail outbox: notices queued with their alarm, mails composed from them, and their fate.

Three tables (migration 8, :data:`V8_OUTBOX`):

- ``outbox_notices``: one row per :class:`~ews_tui.domain.notifications.Notice` someone gets;
- ``outbox_deliveries``: one row per (notice, recipient), waiting while ``mail_id`` is NULL;
- ``outbox_mails``: a mail as it will be sent, composed once (subject, body, Message-ID) and
  then only marked: attempts, next try, ``sent`` once the server accepted it, or ``refused``
  when the server refused it for good (5xx on the recipient or the data).

:func:`enqueue` writes on the caller's connection and does NOT commit: the alarm repository
queues mail in the same transaction as its alarm, so both are durable or neither is. The
mailer composes and marks in transactions of its own (:class:`OutboxRepo`).

A mail is composed (frozen) before its first attempt and sent as stored, with the same
Message-ID, until the server accepts it: a crash between the server's "250 OK" and the
``sent`` mark sends it again after the restart (at least once; the Message-ID lets a
receiving system see the duplicate).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from ews_tui.domain.notifications import (
    MAIL_SYSTEM_TYPES,
    MAX_LISTED,
    Notice,
    NoticeKind,
    Severity,
    digest_due,
)
from ews_tui.store.db import Database
from ews_tui.store.notification_settings_repo import read_settings

V8_OUTBOX = """
CREATE TABLE notify_options (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    digest_minutes INTEGER NOT NULL DEFAULT 5 CHECK (digest_minutes >= 0),
    site_name      TEXT NOT NULL DEFAULT ''
);
INSERT INTO notify_options (id) VALUES (1);
CREATE TABLE notify_rules (
    event_type   TEXT PRIMARY KEY,
    mail         INTEGER NOT NULL CHECK (mail IN (0, 1)),
    min_severity TEXT NOT NULL CHECK (min_severity IN ('info', 'warning', 'critical'))
);
CREATE TABLE notify_recipients (
    id          INTEGER PRIMARY KEY,
    seq         INTEGER NOT NULL,
    address     TEXT NOT NULL UNIQUE COLLATE NOCASE,
    language    TEXT NOT NULL,
    event_types TEXT NOT NULL DEFAULT ''
);
CREATE TABLE outbox_notices (
    id         INTEGER PRIMARY KEY,
    event_type TEXT NOT NULL,
    severity   TEXT NOT NULL,
    label      TEXT NOT NULL,
    at         TEXT NOT NULL,
    value      TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL
);
CREATE TABLE outbox_mails (
    id         INTEGER PRIMARY KEY,
    recipient  TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created    REAL NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_try   REAL NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    sent       REAL,
    refused    REAL
);
CREATE TABLE outbox_deliveries (
    notice_id INTEGER NOT NULL REFERENCES outbox_notices (id)
              ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    recipient TEXT NOT NULL,
    language  TEXT NOT NULL,
    mail_id   INTEGER REFERENCES outbox_mails (id)
              ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (notice_id, recipient)
);
CREATE INDEX outbox_deliveries_mail ON outbox_deliveries (mail_id);
CREATE INDEX outbox_mails_recipient ON outbox_mails (recipient);
"""


async def enqueue(conn: aiosqlite.Connection, notices: Iterable[Notice]) -> None:
    """Queue ``notices`` for their recipients, on ``conn``, inside the caller's transaction.

    Does not commit (nor begin): the caller's COMMIT makes the mail durable together with
    whatever else it wrote. Reads the notification settings on the same connection, so a
    notice nobody gets writes nothing. The mailer's own failures (``system.mail``) never
    queue a mail about themselves.
    """
    settings = await read_settings(conn)
    rows: list[tuple[int, str, str, str, str, str, str]] = []
    deliveries: list[tuple[int, str, str]] = []
    # Ids given here, in one go (the caller's transaction holds the write lock): three
    # statements for a batch of any size, not two per notice.
    base = next(
        iter(await conn.execute_fetchall("SELECT coalesce(max(id), 0) FROM outbox_notices"))
    )[0]
    for notice in notices:
        if notice.event_type in MAIL_SYSTEM_TYPES:
            continue
        recipients = settings.recipients_for(notice)
        if not recipients:
            continue
        notice_id = int(base) + len(rows) + 1
        rows.append(
            (
                notice_id,
                notice.event_type,
                notice.severity.value,
                notice.label,
                notice.at.isoformat(),
                notice.value,
                notice.kind.value,
            )
        )
        deliveries += [(notice_id, r.address, r.language) for r in recipients]
    if not rows:
        return
    await conn.executemany(
        "INSERT INTO outbox_notices (id, event_type, severity, label, at, value, kind)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    await conn.executemany(
        "INSERT INTO outbox_deliveries (notice_id, recipient, language) VALUES (?, ?, ?)",
        deliveries,
    )


@dataclass(frozen=True)
class Waiting:
    """A recipient's notices not yet in a mail, and when its next mail may leave.

    ``notices``: the oldest ones, at most the ``listed`` asked for, and only when the mail
    is due (an empty tuple while the digest window is closed: not read for nothing);
    ``total``: how many wait; ``last_id``: the newest one's id (the mail takes them all)."""

    recipient: str
    language: str
    notices: tuple[tuple[int, Notice], ...]  # (notice id, notice), oldest first
    due: float
    total: int = 0
    last_id: int = 0
    worst: Severity | None = None  # of all the waiting notices (read when due)


@dataclass(frozen=True)
class OutboxMail:
    """A composed mail as stored."""

    id: int
    recipient: str
    message_id: str
    subject: str
    body: str
    created: float
    attempts: int
    next_try: float
    last_error: str = ""
    sent: float | None = None
    refused: float | None = None


@dataclass(frozen=True)
class OutboxCounts:
    """What the outbox holds: notices waiting for a mail, mails waiting to leave, mails
    refused for good."""

    waiting: int
    unsent: int
    refused: int


def _notice(row: sqlite3.Row) -> Notice:
    return Notice(
        row["event_type"],
        Severity(row["severity"]),
        row["label"],
        datetime.fromisoformat(row["at"]),
        row["value"],
        NoticeKind(row["kind"]),
    )


def _mail(row: sqlite3.Row) -> OutboxMail:
    return OutboxMail(
        row["id"],
        row["recipient"],
        row["message_id"],
        row["subject"],
        row["body"],
        row["created"],
        row["attempts"],
        row["next_try"],
        row["last_error"],
        row["sent"],
        row["refused"],
    )


async def _worst_waiting(conn: aiosqlite.Connection, recipient: str) -> Severity | None:
    rows = await conn.execute_fetchall(
        "SELECT DISTINCT n.severity FROM outbox_deliveries d"
        " JOIN outbox_notices n ON n.id = d.notice_id"
        " WHERE d.mail_id IS NULL AND d.recipient = ?",
        (recipient,),
    )
    found = [Severity(row[0]) for row in rows]
    return max(found, key=lambda s: s.rank) if found else None


class OutboxRepo:
    """The mailer's side of the outbox, each method its own transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def waiting(
        self, interval_s: float, now: float, listed: int = MAX_LISTED
    ) -> list[Waiting]:
        """Per recipient with notices not yet in a mail and no unsent mail before them:
        how many wait, and when the digest rule lets its next mail leave; the oldest
        ``listed`` notices too when that is now (a summary per recipient otherwise, so a
        long digest in the making costs nothing to look at)."""
        async with self.db.snapshot() as conn:
            summary = await conn.execute_fetchall(
                "SELECT recipient, count(*) AS n, max(notice_id) AS last FROM outbox_deliveries"
                " WHERE mail_id IS NULL GROUP BY recipient ORDER BY min(notice_id)"
            )
            result: list[Waiting] = []
            for recipient, total, last_id in summary:
                pending = await conn.execute_fetchall(
                    "SELECT count(*) FROM outbox_mails"
                    " WHERE recipient = ? AND sent IS NULL AND refused IS NULL",
                    (recipient,),
                )
                if next(iter(pending))[0]:
                    continue  # its mail before waits for the server: these go in the next one
                last = await conn.execute_fetchall(
                    "SELECT max(coalesce(sent, refused, created)) FROM outbox_mails"
                    " WHERE recipient = ?",
                    (recipient,),
                )
                due = digest_due(next(iter(last))[0], interval_s, now)
                language = await conn.execute_fetchall(
                    "SELECT language FROM outbox_deliveries WHERE notice_id = ? AND recipient = ?",
                    (last_id, recipient),
                )
                found: list[sqlite3.Row] = []
                worst: Severity | None = None
                if due <= now:
                    worst = await _worst_waiting(conn, recipient)
                    found = list(
                        await conn.execute_fetchall(
                            "SELECT n.* FROM outbox_deliveries d"
                            " JOIN outbox_notices n ON n.id = d.notice_id"
                            " WHERE d.mail_id IS NULL AND d.recipient = ?"
                            " ORDER BY n.id LIMIT ?",
                            (recipient, listed),
                        )
                    )
                result.append(
                    Waiting(
                        recipient,
                        next(iter(language))[0],
                        tuple((row["id"], _notice(row)) for row in found),
                        due,
                        int(total),
                        int(last_id),
                        worst,
                    )
                )
        return result

    async def add_mail(
        self,
        recipient: str,
        last_id: int,
        message_id: str,
        subject: str,
        body: str,
        now: float,
    ) -> int:
        """Store a composed mail and put every delivery to ``recipient`` still waiting, up
        to notice ``last_id``, in it."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO outbox_mails (recipient, message_id, subject, body, created,"
                " next_try) VALUES (?, ?, ?, ?, ?, ?)",
                (recipient, message_id, subject, body, now, now),
            )
            mail_id = cursor.lastrowid
            assert mail_id is not None
            await conn.execute(
                "UPDATE outbox_deliveries SET mail_id = ?"
                " WHERE recipient = ? AND mail_id IS NULL AND notice_id <= ?",
                (mail_id, recipient, last_id),
            )
        return mail_id

    async def due(self, now: float) -> list[OutboxMail]:
        """Unsent, unrefused mails whose next try has come, oldest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM outbox_mails WHERE sent IS NULL AND refused IS NULL"
            " AND next_try <= ? ORDER BY id",
            (now,),
        )
        return [_mail(r) for r in rows]

    async def next_try(self) -> float | None:
        """The earliest next try of an unsent mail (None: nothing to send)."""
        rows = await self.db.fetchall(
            "SELECT min(next_try) FROM outbox_mails WHERE sent IS NULL AND refused IS NULL"
        )
        value = rows[0][0]
        return None if value is None else float(value)

    async def mark_sent(self, mail_id: int, now: float) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox_mails SET sent = ?, attempts = attempts + 1, last_error = ''"
                " WHERE id = ?",
                (now, mail_id),
            )

    async def mark_refused(self, mail_id: int, now: float, error: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox_mails SET refused = ?, attempts = attempts + 1, last_error = ?"
                " WHERE id = ?",
                (now, error, mail_id),
            )

    async def mark_failed(self, mail_id: int, error: str, retry_at: float) -> None:
        """One more failed attempt of ``mail_id``; no unsent mail is tried before ``retry_at``
        (the server is down for all of them)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox_mails SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                (error, mail_id),
            )
            await conn.execute(
                "UPDATE outbox_mails SET next_try = ?"
                " WHERE sent IS NULL AND refused IS NULL AND next_try < ?",
                (retry_at, retry_at),
            )

    async def retry_now(self, now: float) -> None:
        """Every unsent mail may be tried at once (the settings changed, "Send now")."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox_mails SET next_try = ? WHERE sent IS NULL AND refused IS NULL",
                (now,),
            )

    async def mails(self, recipient: str | None = None) -> list[OutboxMail]:
        """Every stored mail (of ``recipient``), oldest first."""
        if recipient is None:
            rows = await self.db.fetchall("SELECT * FROM outbox_mails ORDER BY id")
        else:
            rows = await self.db.fetchall(
                "SELECT * FROM outbox_mails WHERE recipient = ? ORDER BY id", (recipient,)
            )
        return [_mail(r) for r in rows]

    async def counts(self) -> OutboxCounts:
        rows = await self.db.fetchall(
            "SELECT (SELECT count(*) FROM outbox_deliveries WHERE mail_id IS NULL),"
            " (SELECT count(*) FROM outbox_mails WHERE sent IS NULL AND refused IS NULL),"
            " (SELECT count(*) FROM outbox_mails WHERE refused IS NOT NULL)"
        )
        waiting, unsent, refused = rows[0]
        return OutboxCounts(int(waiting), int(unsent), int(refused))

    async def prune(self, before: float) -> int:
        """Forget mails sent or refused before ``before`` and notices no delivery needs."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM outbox_mails WHERE coalesce(sent, refused) < ?", (before,)
            )
            await conn.execute(
                "DELETE FROM outbox_notices WHERE id NOT IN"
                " (SELECT notice_id FROM outbox_deliveries)"
            )
            return cursor.rowcount
