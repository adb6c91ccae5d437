"""The alarms and the alarm thresholds in SQLite (tables of migration 7).

Writes of the alarm engine go through :meth:`AlarmsRepo.record`, in one transaction per
batch. ``also`` runs more statements in the SAME transaction (the mail outbox queues its
mails there), so an alarm and what it causes are stored together or not at all:

    async def queue_mail(conn: aiosqlite.Connection) -> None:
        await conn.execute("INSERT INTO outbox ...")

    await repo.record(writes, also=queue_mail)

An acknowledgement only ever fills an empty one (``acked_at IS NULL``), and the engine's
updates never touch it: ``ews alarms ack`` beside a running box loses nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import aiosqlite

from ews_tui.domain.alarm_sources import Threshold
from ews_tui.domain.alarms import (
    Acknowledgement,
    Alarm,
    AlarmType,
    AlarmWrite,
    Severity,
    Subject,
)
from ews_tui.store.db import Database

Also = Callable[[aiosqlite.Connection], Awaitable[None]]

V7_ALARMS = """
CREATE TABLE alarms (
    id            INTEGER PRIMARY KEY,
    type          TEXT NOT NULL,
    severity      TEXT NOT NULL,
    subject_kind  TEXT NOT NULL,
    subject_id    INTEGER,
    subject_part  TEXT NOT NULL DEFAULT '',
    subject_name  TEXT NOT NULL DEFAULT '',
    gateway_id    INTEGER,
    raised_at     REAL NOT NULL,
    last_at       REAL NOT NULL,
    cleared_at    REAL,
    acked_at      REAL,
    acked_role    TEXT,
    acked_session TEXT,
    count         INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1),
    value         TEXT NOT NULL DEFAULT '',
    detail        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alarms_open ON alarms (id) WHERE cleared_at IS NULL OR acked_at IS NULL;
CREATE INDEX alarms_last ON alarms (last_at);
CREATE TABLE alarm_thresholds (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('device', 'circuit', 'zone', 'site')),
    target_id   INTEGER,
    quantity    TEXT NOT NULL,
    op          TEXT NOT NULL CHECK (op IN ('>', '<')),
    limit_value REAL NOT NULL,
    hysteresis  REAL NOT NULL DEFAULT 0 CHECK (hysteresis >= 0),
    delay_s     REAL NOT NULL DEFAULT 0 CHECK (delay_s >= 0),
    severity    TEXT NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1))
);
"""

_COLUMNS = (
    "id, type, severity, subject_kind, subject_id, subject_part, subject_name, gateway_id, "
    "raised_at, last_at, cleared_at, acked_at, acked_role, acked_session, count, value, detail"
)
_INSERT = f"INSERT INTO alarms ({_COLUMNS}) VALUES ({', '.join('?' * 17)})"
# Never the acknowledgement: it may have been given meanwhile (``ews alarms ack``).
_UPDATE = (
    "UPDATE alarms SET severity = ?, subject_name = ?, last_at = ?, cleared_at = ?, "
    "count = ?, value = ?, detail = ? WHERE id = ?"
)


@dataclass(frozen=True)
class AlarmFilter:
    """What the alarms list shows; None: any. ``state``: ``active``, ``cleared``,
    ``unacknowledged``."""

    state: str | None = None
    severity: Severity | None = None  # this one and worse
    type: AlarmType | None = None
    gateway_id: int | None = None
    device_id: int | None = None

    def where(self) -> tuple[str, list[Any]]:
        terms: list[str] = []
        params: list[Any] = []
        if self.state == "active":
            terms.append("cleared_at IS NULL")
        elif self.state == "cleared":
            terms.append("cleared_at IS NOT NULL")
        elif self.state == "unacknowledged":
            terms.append("acked_at IS NULL")
        if self.severity is not None:
            worse = [s.key for s in Severity if s >= self.severity]
            terms.append(f"severity IN ({', '.join('?' * len(worse))})")
            params += worse
        if self.type is not None:
            terms.append("type = ?")
            params.append(self.type.value)
        if self.gateway_id is not None:
            terms.append("gateway_id = ?")
            params.append(self.gateway_id)
        if self.device_id is not None:
            terms.append("subject_kind = 'device' AND subject_id = ?")
            params.append(self.device_id)
        return (" WHERE " + " AND ".join(terms) if terms else ""), params


@dataclass(frozen=True)
class AlarmPage:
    """One page of the list (active first, newest first) and how many match in all."""

    alarms: tuple[Alarm, ...]
    total: int
    offset: int


@dataclass(frozen=True)
class AlarmCounts:
    active: int
    unacknowledged: int  # active and not acknowledged


class AlarmsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- the engine ---------------------------------------------------------------------------

    async def open_alarms(self, since: float) -> list[Alarm]:
        """Active alarms, and unacknowledged ones raised again since ``since``."""
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM alarms WHERE cleared_at IS NULL "
            "OR (acked_at IS NULL AND last_at >= ?) ORDER BY id",
            (since,),
        )
        return [_alarm(row) for row in rows]

    async def max_id(self) -> int:
        rows = await self.db.fetchall("SELECT max(id) FROM alarms")
        return int(rows[0][0] or 0)

    async def record(self, writes: Sequence[AlarmWrite], also: Also | None = None) -> None:
        """Insert the new alarms and update the others, then ``also``, in one transaction."""
        inserts = [_row(w.alarm) for w in writes if w.new]
        updates = [
            (
                w.alarm.severity.key,
                w.alarm.subject.name,
                w.alarm.last_at,
                w.alarm.cleared_at,
                w.alarm.count,
                w.alarm.value,
                w.alarm.detail,
                w.alarm.id,
            )
            for w in writes
            if not w.new
        ]
        async with self.db.transaction() as conn:
            if inserts:
                await conn.executemany(_INSERT, inserts)
            if updates:
                await conn.executemany(_UPDATE, updates)
            if also is not None:
                await also(conn)

    async def acknowledge(
        self, ids: Sequence[int] | None, ack: Acknowledgement, also: Also | None = None
    ) -> list[Alarm]:
        """Acknowledge the alarms ``ids`` (None: every unacknowledged one) that are not yet;
        the alarms acknowledged now, as they are after it."""
        async with self.db.transaction() as conn:
            if ids is None:
                rows = await conn.execute_fetchall(
                    f"SELECT {_COLUMNS} FROM alarms WHERE acked_at IS NULL ORDER BY id"
                )
            else:
                rows = []
                for chunk in _chunks(list(ids), 500):
                    rows += await conn.execute_fetchall(
                        f"SELECT {_COLUMNS} FROM alarms WHERE acked_at IS NULL "
                        f"AND id IN ({', '.join('?' * len(chunk))}) ORDER BY id",
                        chunk,
                    )
            alarms = [_alarm(row) for row in rows]
            await conn.executemany(
                "UPDATE alarms SET acked_at = ?, acked_role = ?, acked_session = ? "
                "WHERE id = ? AND acked_at IS NULL",
                [(ack.at, ack.role, ack.session, a.id) for a in alarms],
            )
            if also is not None:
                await also(conn)
        return [_with_ack(a, ack) for a in alarms]

    async def acknowledged_among(self, ids: Sequence[int]) -> list[Alarm]:
        """Of ``ids``, those acknowledged (by another process, such as ``ews alarms ack``)."""
        found: list[Alarm] = []
        for chunk in _chunks(list(ids), 500):
            rows = await self.db.fetchall(
                f"SELECT {_COLUMNS} FROM alarms WHERE acked_at IS NOT NULL "
                f"AND id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            found += [_alarm(row) for row in rows]
        return found

    async def purge(self, before: float) -> int:
        """Delete the alarms cleared before ``before`` (retention); how many."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM alarms WHERE cleared_at IS NOT NULL AND cleared_at < ?", (before,)
            )
            return cursor.rowcount

    # -- readers ------------------------------------------------------------------------------

    async def counts(self) -> AlarmCounts:
        rows = await self.db.fetchall(
            "SELECT count(*), coalesce(sum(acked_at IS NULL), 0) FROM alarms "
            "WHERE cleared_at IS NULL"
        )
        return AlarmCounts(int(rows[0][0]), int(rows[0][1]))

    async def page(self, flt: AlarmFilter, offset: int = 0, limit: int = 50) -> AlarmPage:
        """Active alarms first, then the history; newest first in each."""
        where, params = flt.where()
        async with self.db.snapshot() as conn:
            total = await conn.execute_fetchall(f"SELECT count(*) FROM alarms{where}", params)
            rows = await conn.execute_fetchall(
                f"SELECT {_COLUMNS} FROM alarms{where} "
                "ORDER BY cleared_at IS NOT NULL, last_at DESC, id DESC LIMIT ? OFFSET ?",
                [*params, limit, offset],
            )
        return AlarmPage(tuple(_alarm(r) for r in rows), int(next(iter(total))[0]), offset)

    async def get(self, alarm_id: int) -> Alarm | None:
        rows = await self.db.fetchall(f"SELECT {_COLUMNS} FROM alarms WHERE id = ?", (alarm_id,))
        return _alarm(rows[0]) if rows else None

    # -- thresholds ---------------------------------------------------------------------------

    async def thresholds(self) -> list[Threshold]:
        rows = await self.db.fetchall(
            "SELECT id, name, target_kind, target_id, quantity, op, limit_value, hysteresis, "
            "delay_s, severity, enabled FROM alarm_thresholds ORDER BY id"
        )
        return [
            Threshold(
                id=int(r[0]),
                name=str(r[1]),
                target_kind=r[2],
                target_id=None if r[3] is None else int(r[3]),
                quantity=str(r[4]),
                op=r[5],
                limit=float(r[6]),
                hysteresis=float(r[7]),
                delay_s=float(r[8]),
                severity=Severity.from_key(str(r[9])),
                enabled=bool(r[10]),
            )
            for r in rows
        ]

    async def save_threshold(self, t: Threshold) -> Threshold:
        """Insert (``id`` 0) or replace a threshold, or the one of the same name."""
        async with self.db.transaction() as conn:
            params = (
                t.name,
                t.target_kind,
                t.target_id,
                t.quantity,
                t.op,
                t.limit,
                t.hysteresis,
                t.delay_s,
                t.severity.key,
                int(t.enabled),
            )
            cursor = await conn.execute(
                "INSERT INTO alarm_thresholds (name, target_kind, target_id, quantity, op, "
                "limit_value, hysteresis, delay_s, severity, enabled) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                "target_kind = excluded.target_kind, target_id = excluded.target_id, "
                "quantity = excluded.quantity, op = excluded.op, "
                "limit_value = excluded.limit_value, hysteresis = excluded.hysteresis, "
                "delay_s = excluded.delay_s, severity = excluded.severity, "
                "enabled = excluded.enabled RETURNING id",
                params,
            )
            row = await cursor.fetchone()
        assert row is not None
        return replace(t, id=int(row[0]))

    async def delete_threshold(self, threshold_id: int) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM alarm_thresholds WHERE id = ?", (threshold_id,))


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _row(a: Alarm) -> tuple[Any, ...]:
    ack = a.ack
    s = a.subject
    return (
        a.id,
        a.type.value,
        a.severity.key,
        s.kind,
        s.id,
        s.part,
        s.name,
        s.gateway_id,
        a.raised_at,
        a.last_at,
        a.cleared_at,
        ack.at if ack else None,
        ack.role if ack else None,
        ack.session if ack else None,
        a.count,
        a.value,
        a.detail,
    )


def _alarm(r: sqlite3.Row | Sequence[Any]) -> Alarm:
    ack = None if r[11] is None else Acknowledgement(str(r[12] or ""), str(r[13] or ""), r[11])
    return Alarm(
        id=int(r[0]),
        type=AlarmType(r[1]),
        severity=Severity.from_key(str(r[2])),
        subject=Subject(r[3], r[4], str(r[5]), r[7], str(r[6])),
        raised_at=float(r[8]),
        last_at=float(r[9]),
        cleared_at=None if r[10] is None else float(r[10]),
        ack=ack,
        count=int(r[14]),
        value=str(r[15]),
        detail=str(r[16]),
    )


def _with_ack(alarm: Alarm, ack: Acknowledgement) -> Alarm:
    return replace(alarm, ack=ack)
