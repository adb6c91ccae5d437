"""The weekly EN 50160 verdicts in SQLite: one row per gateway and week (migration 6)."""

from __future__ import annotations

import json

from ews_tui.domain.en50160 import WeekReport
from ews_tui.store.db import Database


class En50160Repo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, report: WeekReport, checked_at: float) -> None:
        """Store ``report``, replacing an earlier check of the same gateway and week."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT OR REPLACE INTO en50160_weeks"
                " (gateway_id, week_start, week_end, device_id, verdict, report, checked_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    report.gateway_id,
                    report.start,
                    report.end,
                    report.device_id,
                    report.verdict.value,
                    json.dumps(report.document(), separators=(",", ":")),
                    checked_at,
                ),
            )

    async def weeks(self, gateway_id: int, limit: int = 52) -> list[WeekReport]:
        """The gateway's last ``limit`` checked weeks, the newest first."""
        rows = await self._db.fetchall(
            "SELECT report FROM en50160_weeks WHERE gateway_id = ?"
            " ORDER BY week_start DESC LIMIT ?",
            (gateway_id, limit),
        )
        return [WeekReport.from_document(json.loads(r[0])) for r in rows]

    async def week(self, gateway_id: int, start: int) -> WeekReport | None:
        rows = await self._db.fetchall(
            "SELECT report FROM en50160_weeks WHERE gateway_id = ? AND week_start = ?",
            (gateway_id, start),
        )
        return WeekReport.from_document(json.loads(rows[0][0])) if rows else None

    async def checked_starts(self, gateway_id: int) -> set[int]:
        rows = await self._db.fetchall(
            "SELECT week_start FROM en50160_weeks WHERE gateway_id = ?", (gateway_id,)
        )
        return {int(r[0]) for r in rows}
