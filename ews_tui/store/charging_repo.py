"""Charging sessions and each charging point's last fault in SQLite (migration 9).

A session is written when it opens (``end`` NULL) and updated when it closes, so one going on
survives a restart of the box and carries on from its row.
"""

from __future__ import annotations

from collections.abc import Iterable

import aiosqlite

from ews_tui.domain.charging import ChargingSession
from ews_tui.store.db import Database

V9_CHARGING = """
CREATE TABLE charging_sessions (
    id         INTEGER PRIMARY KEY,
    device_id  INTEGER NOT NULL,
    side       INTEGER,
    start      REAL,
    end        REAL,
    energy_kwh REAL
);
CREATE INDEX charging_sessions_open ON charging_sessions (device_id) WHERE end IS NULL;
CREATE INDEX charging_sessions_recent ON charging_sessions (end);
CREATE TABLE charging_points (
    device_id  INTEGER PRIMARY KEY,
    last_fault REAL
);
"""

_COLUMNS = "id, device_id, start, end, energy_kwh, side"


def _session(row: Iterable[object]) -> ChargingSession:
    ident, device_id, start, end, energy, side = tuple(row)
    return ChargingSession(
        device_id=int(str(device_id)),
        start=None if start is None else float(str(start)),
        end=None if end is None else float(str(end)),
        energy_kwh=None if energy is None else float(str(energy)),
        side=None if side is None else int(str(side)),
        id=int(str(ident)),
    )


class ChargingRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(
        self, ended: ChargingSession | None, started: ChargingSession | None
    ) -> ChargingSession | None:
        """In one transaction: close ``ended`` (insert it if it was never stored), store
        ``started``; returns ``started`` with its id."""
        async with self._db.transaction() as conn:
            if ended is not None:
                if ended.id:
                    await conn.execute(
                        "UPDATE charging_sessions SET end = ?, energy_kwh = ? WHERE id = ?",
                        (ended.end, ended.energy_kwh, ended.id),
                    )
                else:
                    await _insert(conn, ended)
            if started is None:
                return None
            ident = await _insert(conn, started)
        return ChargingSession(
            started.device_id, started.start, started.end, started.energy_kwh, started.side, ident
        )

    async def update_energy(self, session: ChargingSession) -> None:
        """The open session's energy so far (kept across a restart)."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE charging_sessions SET energy_kwh = ? WHERE id = ?",
                (session.energy_kwh, session.id),
            )

    async def save_fault(self, device_id: int, ts: float) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO charging_points (device_id, last_fault) VALUES (?, ?)"
                " ON CONFLICT (device_id) DO UPDATE SET last_fault = excluded.last_fault",
                (device_id, ts),
            )

    async def open_sessions(self) -> list[ChargingSession]:
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM charging_sessions WHERE end IS NULL ORDER BY id"
        )
        return [_session(r) for r in rows]

    async def last_faults(self) -> dict[int, float]:
        rows = await self._db.fetchall("SELECT device_id, last_fault FROM charging_points")
        return {int(r[0]): float(r[1]) for r in rows if r[1] is not None}

    async def recent(self, limit: int = 50) -> list[ChargingSession]:
        """The last ``limit`` sessions, the latest first (those going on included)."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM charging_sessions"
            " ORDER BY end IS NULL DESC, COALESCE(end, start) DESC, id DESC LIMIT ?",
            (limit,),
        )
        return [_session(r) for r in rows]


async def _insert(conn: aiosqlite.Connection, session: ChargingSession) -> int:
    cursor = await conn.execute(
        "INSERT INTO charging_sessions (device_id, side, start, end, energy_kwh)"
        " VALUES (?, ?, ?, ?, ?)",
        (session.device_id, session.side, session.start, session.end, session.energy_kwh),
    )
    return int(cursor.lastrowid or 0)
