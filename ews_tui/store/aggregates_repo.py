"""Writing and reading the recorder's tables: measures, energy readings, hourly rollups.

A measures row packs a device's slot in one blob. Format 3 (the usual one): the layout id
(the device's list of quantity ids), the count shared by all, then per quantity
``(mean f32, mean-min f16, max-mean f16)`` — 8 bytes a quantity. Format 1 when counts differ
(a value missing in some polls): per quantity ``(id u16, count u16, mean, mean-min, max-mean)``.
The half-float spreads keep min and max within 0.05 % of their distance to the mean; a
spread too large for a half float switches the row to format 2 (min and max as f32).
Quantity names get small ids in ``quantities`` the first time they are written.

:meth:`AggregatesRepo.write` stores one batch in ONE transaction with ``executemany``.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import aiosqlite

from ews_tui.domain.aggregation import QuantityStats, SlotRecord
from ews_tui.domain.consumption import Reading, Rollup, Span
from ews_tui.store.db import Database

_COMPACT, _WIDE, _SHARED = 1, 2, 3
_ITEM = {_COMPACT: struct.Struct("<HHfee"), _WIDE: struct.Struct("<HHfff")}
_HALF_MAX = 65504.0


def encode(stats: Sequence[tuple[int, QuantityStats]], layout: int | None = None) -> bytes:
    """The blob of one slot's stats, each with its quantity id.

    With ``layout`` (the id of this list of quantity ids) and one count for all, the ids and
    counts are written once (format 3: 8 bytes a quantity).
    """
    counts = {s.count for _q, s in stats}
    flat: list[float] = []
    wide = False
    for q, s in stats:
        low, high = s.mean - s.min, s.max - s.mean
        wide = wide or low > _HALF_MAX or high > _HALF_MAX
        flat += (
            (s.mean, low, high)
            if layout is not None
            else (q, min(s.count, 65535), s.mean, low, high)
        )
    if not wide:
        try:
            if layout is not None and len(counts) == 1:
                head = (_SHARED, layout, min(counts.pop(), 65535))
                return _blob(_SHARED, len(stats)).pack(*head, *flat)
            if layout is None:
                return _blob(_COMPACT, len(stats)).pack(_COMPACT, *flat)
        except (OverflowError, struct.error):
            pass
    flat = []
    for q, s in stats:
        flat += (q, min(s.count, 65535), s.mean, s.min, s.max)
    return _blob(_WIDE, len(stats)).pack(_WIDE, *flat)


@lru_cache(maxsize=1024)
def _blob(kind: int, count: int) -> struct.Struct:
    """The struct of a whole blob: its header, then ``count`` items."""
    if kind == _SHARED:
        return struct.Struct("<BHH" + "fee" * count)
    item = "HHfee" if kind == _COMPACT else "HHfff"
    return struct.Struct("<B" + item * count)


def decode(
    blob: bytes, names: dict[int, str], layouts: dict[int, tuple[int, ...]] | None = None
) -> tuple[QuantityStats, ...]:
    """The stats of one blob (names from ``quantities``, layouts from ``measure_layouts``)."""
    kind = blob[0]
    out = []
    if kind == _SHARED:
        layout, count = struct.unpack_from("<HH", blob, 1)
        qids = (layouts or {})[layout]
        for q, (mean, a, b) in zip(qids, struct.iter_unpack("<fee", blob[5:]), strict=True):
            out.append(QuantityStats(names.get(q, f"q{q}"), count, mean, mean - a, mean + b))
        return tuple(out)
    item = _ITEM[kind]
    for q, count, mean, a, b in item.iter_unpack(blob[1:]):
        lo, hi = (mean - a, mean + b) if kind == _COMPACT else (a, b)
        out.append(QuantityStats(names.get(q, f"q{q}"), count, mean, lo, hi))
    return tuple(out)


@dataclass
class Batch:
    """What one transaction writes: closed slots, new readings and what they roll up to."""

    records: list[SlotRecord] = field(default_factory=list)
    readings: list[tuple[int, Reading]] = field(default_factory=list)
    rollups: list[tuple[int, Rollup]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records) + len(self.readings)


class AggregatesRepo:
    """The recorder's side of the store (it owns no connection: the Database does)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._ids: dict[str, int] = {}
        self._layouts: dict[tuple[int, ...], int] = {}

    async def _quantity_ids(self, conn: aiosqlite.Connection, names: set[str]) -> None:
        missing = names - self._ids.keys()
        if not missing:
            return
        if not self._ids:
            for qid, name in await conn.execute_fetchall("SELECT id, name FROM quantities"):
                self._ids[name] = qid
            missing -= self._ids.keys()
        for name in sorted(missing):
            cursor = await conn.execute("INSERT INTO quantities (name) VALUES (?)", (name,))
            self._ids[name] = int(cursor.lastrowid or 0)

    async def _layout_ids(self, conn: aiosqlite.Connection, wanted: set[tuple[int, ...]]) -> None:
        missing = wanted - self._layouts.keys()
        if not missing:
            return
        if not self._layouts:
            for lid, qids in await conn.execute_fetchall("SELECT id, qids FROM measure_layouts"):
                self._layouts[_unpack_ids(qids)] = lid
            missing -= self._layouts.keys()
        for qids in sorted(missing):
            cursor = await conn.execute(
                "INSERT INTO measure_layouts (qids) VALUES (?)", (_pack_ids(qids),)
            )
            self._layouts[qids] = int(cursor.lastrowid or 0)

    async def write(self, batch: Batch) -> None:
        """Store ``batch`` in one transaction (a slot written again is replaced)."""
        if not len(batch) and not batch.rollups:
            return
        async with self._db.transaction() as conn:
            names = {s.name for r in batch.records for s in r.stats}
            await self._quantity_ids(conn, names)
            ids = self._ids
            rows = []
            for r in batch.records:
                if r.stats:
                    rows.append((r, [(ids[st.name], st) for st in r.stats]))
            await self._layout_ids(conn, {tuple(q for q, _s in pairs) for _r, pairs in rows})
            layouts = self._layouts
            await conn.executemany(
                "INSERT OR REPLACE INTO measures (slot, device_id, data) VALUES (?, ?, ?)",
                [
                    (r.slot, r.device_id, encode(pairs, layouts[tuple(q for q, _s in pairs)]))
                    for r, pairs in rows
                ],
            )
            await conn.executemany(
                "INSERT OR REPLACE INTO energy_readings (device_id, slot, value) VALUES (?, ?, ?)",
                [(d, r.slot, r.value) for d, r in batch.readings],
            )
            hourly = [
                (d, hour, amount, missing)
                for d, roll in batch.rollups
                for hour, (amount, missing) in roll.hours.items()
            ]
            await conn.executemany(_ADD_HOUR, hourly)
            daily: dict[tuple[int, int], list[float]] = {}
            for device_id, hour, amount, missing in hourly:
                day = daily.setdefault((device_id, hour // 24), [0.0, 0])
                day[0] += amount
                day[1] += missing
            await conn.executemany(
                _ADD_DAY, [(d, day, a, int(m)) for (d, day), (a, m) in daily.items()]
            )
            await conn.executemany(
                "INSERT OR REPLACE INTO energy_gaps (device_id, first_slot, last_slot, amount)"
                " VALUES (?, ?, ?, ?)",
                [(d, g.first, g.last, g.amount) for d, roll in batch.rollups for g in roll.gaps],
            )

    async def last_readings(self) -> dict[int, Reading]:
        """Each device's latest index reading (where the recorder goes on from)."""
        rows = await self._db.fetchall(
            "SELECT device_id, MAX(slot), value FROM energy_readings GROUP BY device_id"
        )
        return {int(d): Reading(int(s), float(v)) for d, s, v in rows}

    async def device_ids(self) -> list[int]:
        """Every device id with energy readings, found by skipping along the primary key."""
        out: list[int] = []
        async with self._db.snapshot() as conn:
            last = -(2**62)
            while True:
                rows = list(
                    await conn.execute_fetchall(
                        "SELECT MIN(device_id) FROM energy_readings WHERE device_id > ?", (last,)
                    )
                )
                if not rows or rows[0][0] is None:
                    return out
                last = int(rows[0][0])
                out.append(last)

    async def measures(
        self, first_slot: int, end_slot: int, device_ids: Sequence[int] | None = None
    ) -> list[tuple[int, int, tuple[QuantityStats, ...]]]:
        """``(device_id, slot, stats)`` of slots ``[first_slot, end_slot)``, by slot then
        device; every device's unless ``device_ids`` says which."""
        async with self._db.snapshot() as conn:
            names = {
                int(i): str(n)
                for i, n in await conn.execute_fetchall("SELECT id, name FROM quantities")
            }
            layouts = {
                int(i): _unpack_ids(q)
                for i, q in await conn.execute_fetchall("SELECT id, qids FROM measure_layouts")
            }
            rows = await conn.execute_fetchall(
                "SELECT device_id, slot, data FROM measures WHERE slot >= ? AND slot < ?"
                " ORDER BY slot, device_id",
                (first_slot, end_slot),
            )
        wanted = set(device_ids) if device_ids is not None else None
        return [
            (int(d), int(s), decode(bytes(b), names, layouts))
            for d, s, b in rows
            if wanted is None or d in wanted
        ]

    async def readings(
        self, first_slot: int, end_slot: int, device_ids: Sequence[int]
    ) -> list[tuple[int, Reading]]:
        """``(device_id, reading)`` of slots ``[first_slot, end_slot)``, by device then slot."""
        marks = ",".join("?" * len(device_ids))
        rows = await self._db.fetchall(
            f"SELECT device_id, slot, value FROM energy_readings WHERE device_id IN ({marks})"
            " AND slot >= ? AND slot < ? ORDER BY device_id, slot",
            (*device_ids, first_slot, end_slot),
        )
        return [(int(d), Reading(int(s), float(v))) for d, s, v in rows]

    async def gaps(
        self, device_ids: Sequence[int], first_slot: int, end_slot: int
    ) -> list[tuple[int, Span]]:
        """The gaps of ``device_ids`` overlapping slots ``[first_slot, end_slot)``."""
        marks = ",".join("?" * len(device_ids))
        rows = await self._db.fetchall(
            f"SELECT device_id, first_slot, last_slot, amount FROM energy_gaps"
            f" WHERE device_id IN ({marks}) AND last_slot >= ? AND first_slot < ?",
            (*device_ids, first_slot, end_slot),
        )
        return [(int(d), Span(int(a), int(b), float(x))) for d, a, b, x in rows]

    async def forget_before(self, measures_slot: int | None, energy_slot: int | None) -> None:
        """Retention: delete measures and energy history older than the given slots."""
        async with self._db.transaction() as conn:
            if measures_slot is not None:
                await conn.execute("DELETE FROM measures WHERE slot < ?", (measures_slot,))
            if energy_slot is not None:
                await conn.execute("DELETE FROM energy_readings WHERE slot < ?", (energy_slot,))
                await conn.execute("DELETE FROM energy_hourly WHERE hour < ?", (energy_slot // 6,))
                await conn.execute(
                    "DELETE FROM energy_daily WHERE day < ?", (energy_slot // 6 // 24,)
                )
                await conn.execute("DELETE FROM energy_gaps WHERE last_slot < ?", (energy_slot,))


_ADD_HOUR = (
    "INSERT INTO energy_hourly (device_id, hour, amount, missing) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (device_id, hour) DO UPDATE SET amount = amount + excluded.amount,"
    " missing = missing + excluded.missing"
)
_ADD_DAY = (
    "INSERT INTO energy_daily (device_id, day, amount, missing) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (device_id, day) DO UPDATE SET amount = amount + excluded.amount,"
    " missing = missing + excluded.missing"
)


def _pack_ids(qids: tuple[int, ...]) -> bytes:
    return struct.pack(f"<{len(qids)}H", *qids)


def _unpack_ids(blob: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(blob) // 2}H", blob)
