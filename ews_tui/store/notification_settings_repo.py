"""The notification settings in the store (migration 7): options, rules per event type and
recipients.

They live in SQLite, not in ``config.toml``, because :func:`ews_tui.store.outbox_repo.enqueue`
reads them on the alarm's own connection, inside the alarm's transaction: who gets a notice is
decided against the settings of that same committed state. They are part of the installation
(edited in the UI), as DESIGN.md places notification settings.
"""

from __future__ import annotations

import aiosqlite

from ews_tui.domain.notifications import (
    EventRule,
    NotificationError,
    NotificationSettings,
    Recipient,
    Severity,
    check_settings,
)
from ews_tui.store.db import Database


async def read_settings(conn: aiosqlite.Connection) -> NotificationSettings:
    """The settings as committed (or as written so far in the caller's transaction)."""
    options = list(
        await conn.execute_fetchall("SELECT digest_minutes, site_name FROM notify_options")
    )
    rules = {
        str(row[0]): EventRule(bool(row[1]), Severity(row[2]))
        for row in await conn.execute_fetchall(
            "SELECT event_type, mail, min_severity FROM notify_rules"
        )
    }
    recipients = tuple(
        Recipient(str(row[0]), str(row[1]), frozenset(str(row[2]).split()))
        for row in await conn.execute_fetchall(
            "SELECT address, language, event_types FROM notify_recipients ORDER BY seq"
        )
    )
    digest, site = (int(options[0][0]), str(options[0][1])) if options else (5, "")
    return NotificationSettings(rules, recipients, digest, site)


async def write_settings(conn: aiosqlite.Connection, settings: NotificationSettings) -> None:
    """Replace the settings on ``conn`` (in the caller's transaction)."""
    await conn.execute(
        "UPDATE notify_options SET digest_minutes = ?, site_name = ? WHERE id = 1",
        (settings.digest_minutes, settings.site_name),
    )
    await conn.execute("DELETE FROM notify_rules")
    await conn.executemany(
        "INSERT INTO notify_rules (event_type, mail, min_severity) VALUES (?, ?, ?)",
        [(t, int(r.mail), r.min_severity.value) for t, r in sorted(settings.rules.items())],
    )
    await conn.execute("DELETE FROM notify_recipients")
    await conn.executemany(
        "INSERT INTO notify_recipients (seq, address, language, event_types) VALUES (?, ?, ?, ?)",
        [
            (n, r.address, r.language, " ".join(sorted(r.event_types)))
            for n, r in enumerate(settings.recipients)
        ],
    )


class NotificationSettingsRepo:
    """Load and save the settings, each in its own transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def load(self) -> NotificationSettings:
        async with self.db.snapshot() as conn:
            return await read_settings(conn)

    async def save(self, settings: NotificationSettings) -> None:
        """Check and save; :class:`NotificationError` (the first problem) saves nothing."""
        problems = check_settings(settings)
        if problems:
            raise problems[0]
        async with self.db.transaction() as conn:
            await write_settings(conn, settings)


__all__ = ["NotificationError", "NotificationSettingsRepo", "read_settings", "write_settings"]
