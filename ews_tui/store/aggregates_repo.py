"""Writing and reading the recorder's tables: measures, energy readings, hourly rollups.

A measures row packs a device's slot in one blob. Byte 0 is the format, with bit 0x10 set
when the two header numbers that follow fit in one byte each (else two each):

- format 3, the usual one: the layout id (the device's list of quantity ids, in
  ``measure_layouts``), the count shared by all, then per quantity
  ``(mean f32, mean-min f16, max-mean f16)`` — 8 bytes a quantity;
- format 4, the same header, then one 2-bit code per quantity (four a byte) saying what
  follows for it: 0 nothing (always 0), 1 its one value as f32 (min = max: a single poll, a
  state that did not move), 2 as in format 3, 3 ``(mean, min, max)`` as f32 (a spread too
  large for a half float);
- format 1 when counts differ (a value missing in some polls): per quantity
  ``(id u16, count u16, mean f32, mean-min f16, max-mean f16)``; format 2 the same with min
  and max as f32.

The half-float spreads keep min and max within 0.05 % of their distance to the mean.
Quantity names get small ids in ``quantities`` the first time they are written.

:meth:`AggregatesRepo.write` stores one batch in ONE transaction with ``executemany``.
"""

from __future__ import annotations

import asyncio
import operator
import sqlite3
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import aiosqlite

from ews_tui.domain.aggregation import OpenSlot, QuantityStats, SlotRecord
from ews_tui.domain.consumption import Reading, Rollup, Span
from ews_tui.domain.en50160 import Columns
from ews_tui.store.db import Database
from ews_tui.store.open_slots import decode_partial, encode_partial

_COMPACT, _WIDE, _SHARED, _CODED = 1, 2, 3, 4
_SMALL = 0x10  # format flag: layout id and count are one byte each
_ITEM = {_COMPACT: struct.Struct("<HHfee"), _WIDE: struct.Struct("<HHfff")}
_HEAD = {0: struct.Struct("<BHH"), _SMALL: struct.Struct("<BBB")}
_CODE_ITEMS = ("", "f", "fee", "fff")  # what follows a quantity of each 2-bit code
_HALF_MAX = 65504.0
# The measures key: slot * 2**16 + device id (a rowid, so appends fill whole pages).
DEVICE_BITS = 16


def encode(stats: Sequence[tuple[int, QuantityStats]], layout: int | None = None) -> bytes:
    """The blob of one slot's stats, each with its quantity id.

    With ``layout`` (the id of this list of quantity ids) and one count for all, the ids and
    counts are written once (formats 3 and 4).
    """
    if layout is not None and stats:
        count = stats[0][1].count
        if all(s.count == count for _q, s in stats):
            try:
                return _encode_shared(stats, layout, min(count, 65535))
            except (OverflowError, struct.error):
                pass
    return _encode_each(stats)


def _encode_shared(stats: Sequence[tuple[int, QuantityStats]], layout: int, count: int) -> bytes:
    codes: list[int] = []
    flat: list[float] = []
    for _q, s in stats:
        lo, hi = s.min, s.max
        if lo == hi:
            if lo == 0:
                codes.append(0)
            else:
                codes.append(1)
                flat.append(lo)  # every value was this one: exact, unlike a computed mean
            continue
        mean = s.mean
        low, high = mean - lo, hi - mean
        if low > _HALF_MAX or high > _HALF_MAX:
            codes.append(3)
            flat += (mean, lo, hi)
        else:
            codes.append(2)
            flat += (mean, low, high)
    small = _SMALL if layout < 256 and count < 256 else 0
    if all(c == 2 for c in codes):
        return _blob(_SHARED | small, len(codes)).pack(_SHARED | small, layout, count, *flat)
    packed = bytearray((len(codes) + 3) // 4)
    for i, code in enumerate(codes):
        packed[i >> 2] |= code << (2 * (i & 3))
    head = _HEAD[small].pack(_CODED | small, layout, count)
    return head + bytes(packed) + _coded(tuple(codes)).pack(*flat)


def _encode_each(stats: Sequence[tuple[int, QuantityStats]]) -> bytes:
    """Formats 1 and 2: an id and a count per quantity."""
    flat: list[float] = []
    wide = False
    for q, s in stats:
        low, high = s.mean - s.min, s.max - s.mean
        wide = wide or low > _HALF_MAX or high > _HALF_MAX
        flat += (q, min(s.count, 65535), s.mean, low, high)
    if not wide:
        try:
            return _blob(_COMPACT, len(stats)).pack(_COMPACT, *flat)
        except (OverflowError, struct.error):
            pass
    flat = []
    for q, s in stats:
        flat += (q, min(s.count, 65535), s.mean, s.min, s.max)
    return _blob(_WIDE, len(stats)).pack(_WIDE, *flat)


@lru_cache(maxsize=1024)
def _blob(kind: int, count: int) -> struct.Struct:
    """The struct of a whole blob of formats 1 to 3: its header, then ``count`` items."""
    if kind & ~_SMALL == _SHARED:
        return struct.Struct(_HEAD[kind & _SMALL].format + "fee" * count)
    item = "HHfee" if kind == _COMPACT else "HHfff"
    return struct.Struct("<B" + item * count)


@lru_cache(maxsize=4096)
def _coded(codes: tuple[int, ...]) -> struct.Struct:
    """The struct of the items of a format 4 blob with these codes."""
    return struct.Struct("<" + "".join(_CODE_ITEMS[c] for c in codes))


def decode(
    blob: bytes, names: dict[int, str], layouts: dict[int, tuple[int, ...]] | None = None
) -> tuple[QuantityStats, ...]:
    """The stats of one blob (names from ``quantities``, layouts from ``measure_layouts``)."""
    kind = blob[0]
    if kind & ~_SMALL in (_SHARED, _CODED):
        head = _HEAD[kind & _SMALL]
        _kind, layout, count = head.unpack_from(blob)
        qids = (layouts or {})[layout]
        return _decode_shared(blob, head.size, kind & ~_SMALL, qids, count, names)
    out = []
    item = _ITEM[kind]
    for q, count, mean, a, b in item.iter_unpack(blob[1:]):
        lo, hi = (mean - a, mean + b) if kind == _COMPACT else (a, b)
        out.append(QuantityStats(names.get(q, f"q{q}"), count, mean, lo, hi))
    return tuple(out)


def _decode_shared(
    blob: bytes, at: int, kind: int, qids: tuple[int, ...], count: int, names: dict[int, str]
) -> tuple[QuantityStats, ...]:
    if kind == _SHARED:
        codes: tuple[int, ...] = (2,) * len(qids)
    else:
        codes = tuple((blob[at + (i >> 2)] >> (2 * (i & 3))) & 3 for i in range(len(qids)))
        at += (len(qids) + 3) // 4
    values = iter(_coded(codes).unpack_from(blob, at))
    out = []
    for q, code in zip(qids, codes, strict=True):
        name = names.get(q, f"q{q}")
        if code == 0:
            out.append(QuantityStats(name, count, 0.0, 0.0, 0.0))
        elif code == 1:
            value = next(values)
            out.append(QuantityStats(name, count, value, value, value))
        elif code == 2:
            mean, a, b = next(values), next(values), next(values)
            out.append(QuantityStats(name, count, mean, mean - a, mean + b))
        else:
            mean, lo, hi = next(values), next(values), next(values)
            out.append(QuantityStats(name, count, mean, lo, hi))
    return tuple(out)


#: One quantity's ``(mean, min, max)`` in a slot, as :func:`decode_selected` gives it.
Triple = tuple[float, float, float]


def decode_selected(
    blob: bytes,
    names: dict[int, str],
    layouts: dict[int, tuple[int, ...]],
    wanted: frozenset[str],
) -> dict[str, Triple]:
    """``{name: (mean, min, max)}`` of the ``wanted`` quantities of one blob, and no others
    (for many blobs, make one :class:`Selector` and call it on each)."""
    return Selector(names, layouts, wanted)(blob)


class Selector:
    """Reads the same values as :func:`decode`, for a few wanted quantities, without a
    :class:`QuantityStats` for each of a device's quantities: a week of one device is a
    thousand blobs of thirty quantities, of which a check needs a few. Blobs of formats 3
    and 4 unpack with one struct, cached per layout and set of codes."""

    def __init__(
        self, names: dict[int, str], layouts: dict[int, tuple[int, ...]], wanted: frozenset[str]
    ) -> None:
        self._names = names
        self._layouts = layouts
        self._wanted = wanted
        self._plans: dict[tuple[int, int, bytes], _Plan] = {}

    def __call__(self, blob: bytes) -> dict[str, Triple]:
        kind = blob[0]
        base = kind & ~_SMALL
        if base not in (_SHARED, _CODED):
            return {
                q.name: (q.mean, q.min, q.max)
                for q in decode(blob, self._names, self._layouts)
                if q.name in self._wanted
            }
        head = _HEAD[kind & _SMALL]
        _kind, layout, _count = head.unpack_from(blob)
        at = head.size
        codes_key = b""
        if base == _CODED:
            width = (len(self._layouts[layout]) + 3) // 4
            codes_key = bytes(blob[at : at + width])
            at += width
        plan = self._plans.get((layout, base, codes_key))
        if plan is None:
            plan = self._plans[(layout, base, codes_key)] = self._plan(layout, codes_key)
        unpack, picks = plan
        values = unpack(blob, at)
        out: dict[str, Triple] = {}
        for name, i, code in picks:
            if code == 2:
                mean = values[i]
                out[name] = (mean, mean - values[i + 1], mean + values[i + 2])
            elif code == 3:
                out[name] = (values[i], values[i + 1], values[i + 2])
            elif code == 1:
                out[name] = (values[i], values[i], values[i])
            else:
                out[name] = (0.0, 0.0, 0.0)
        return out

    def _plan(self, layout: int, codes_key: bytes) -> _Plan:
        qids = self._layouts[layout]
        if not codes_key:
            codes: tuple[int, ...] = (2,) * len(qids)
        else:
            codes = tuple((codes_key[i >> 2] >> (2 * (i & 3))) & 3 for i in range(len(qids)))
        picks: list[tuple[str, int, int]] = []
        index = 0
        for q, code in zip(qids, codes, strict=True):
            name = self._names.get(q, f"q{q}")
            if name in self._wanted:
                picks.append((name, index, code))
            index += len(_CODE_ITEMS[code])
        return _coded(codes).unpack_from, tuple(picks)


#: How to read one layout's wanted quantities: the items' unpacker, then per quantity its
#: name, the index of its first value and its 2-bit code.
_Plan = tuple[Callable[[bytes, int], tuple[float, ...]], tuple[tuple[str, int, int], ...]]


@dataclass
class Batch:
    """What one transaction writes: closed slots, new readings and what they roll up to,
    and the open slots to save (``partials``, snapshots of the recorder's)."""

    records: list[SlotRecord] = field(default_factory=list)
    readings: list[tuple[int, Reading]] = field(default_factory=list)
    rollups: list[tuple[int, Rollup]] = field(default_factory=list)
    partials: list[OpenSlot] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records) + len(self.readings) + len(self.partials)


ENERGY_CHANGES = "energy"  # Database.changes: readings, hourly, daily rollups and gaps


class AggregatesRepo:
    """The recorder's side of the store (it owns no connection: the Database does).

    Its caches of quantity and layout ids take what a transaction added only once it
    committed: a rolled-back batch leaves no id that does not exist.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._ids: dict[str, int] = {}
        self._layouts: dict[tuple[int, ...], int] = {}

    async def _quantity_ids(self, conn: aiosqlite.Connection, names: set[str]) -> dict[str, int]:
        """Every id of ``names``, inserting those missing; the cache is not touched."""
        found = {name: self._ids[name] for name in names if name in self._ids}
        missing = names - found.keys()
        if not missing:
            return found
        if not self._ids:
            for qid, name in await conn.execute_fetchall("SELECT id, name FROM quantities"):
                if name in missing:
                    found[name] = int(qid)
            missing -= found.keys()
        for name in sorted(missing):
            # Another process (a history backfill) may have added it meanwhile.
            await conn.execute("INSERT OR IGNORE INTO quantities (name) VALUES (?)", (name,))
            rows = list(
                await conn.execute_fetchall("SELECT id FROM quantities WHERE name = ?", (name,))
            )
            found[name] = int(rows[0][0])
        return found

    async def _layout_ids(
        self, conn: aiosqlite.Connection, wanted: set[tuple[int, ...]]
    ) -> dict[tuple[int, ...], int]:
        """Every id of the layouts ``wanted``, inserting those missing; no cache change."""
        found = {qids: self._layouts[qids] for qids in wanted if qids in self._layouts}
        missing = wanted - found.keys()
        if not missing:
            return found
        if not self._layouts:
            for lid, blob in await conn.execute_fetchall("SELECT id, qids FROM measure_layouts"):
                qids = _unpack_ids(blob)
                if qids in missing:
                    found[qids] = int(lid)
            missing -= found.keys()
        for qids in sorted(missing):
            packed = _pack_ids(qids)
            await conn.execute("INSERT OR IGNORE INTO measure_layouts (qids) VALUES (?)", (packed,))
            rows = list(
                await conn.execute_fetchall(
                    "SELECT id FROM measure_layouts WHERE qids = ?", (packed,)
                )
            )
            found[qids] = int(rows[0][0])
        return found

    async def write(self, batch: Batch) -> None:
        """Store ``batch`` in one transaction (a slot written again is replaced; its open
        slot row goes, unless the batch saves it again in ``partials``)."""
        if not len(batch) and not batch.rollups:
            return
        async with self._db.transaction() as conn:
            names = {s.name for r in batch.records for s in r.stats}
            names |= {name for p in batch.partials for name in p.acc}
            ids = await self._quantity_ids(conn, names)
            rows = []
            for r in batch.records:
                if r.stats:
                    rows.append((r, [(ids[st.name], st) for st in r.stats]))
            wanted = {tuple(q for q, _s in pairs) for _r, pairs in rows}
            layouts = await self._layout_ids(conn, wanted)
            # In key order: each row lands at the end of the table, on a full page.
            rows.sort(key=lambda row: (row[0].slot, row[0].device_id))
            await conn.executemany(
                "INSERT OR REPLACE INTO measures (slot_device, data) VALUES (?, ?)",
                [
                    (
                        _measure_key(r.slot, r.device_id),
                        encode(pairs, layouts[tuple(q for q, _s in pairs)]),
                    )
                    for r, pairs in rows
                ],
            )
            await conn.executemany(
                "DELETE FROM open_slots WHERE slot_device = ?",
                [(_measure_key(r.slot, r.device_id),) for r in batch.records],
            )
            await conn.executemany(
                "INSERT OR REPLACE INTO open_slots (slot_device, idx, data) VALUES (?, ?, ?)",
                [
                    (_measure_key(p.slot, p.device_id), p.index, encode_partial(p, ids))
                    for p in batch.partials
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
            await conn.executemany(_ADD_DAY, _days(hourly))
            await conn.executemany(
                "INSERT OR REPLACE INTO energy_gaps (device_id, first_slot, last_slot, amount)"
                " VALUES (?, ?, ?, ?)",
                [(d, g.first, g.last, g.amount) for d, roll in batch.rollups for g in roll.gaps],
            )
        # Committed: now the ids exist for good.
        self._ids.update(ids)
        self._layouts.update(layouts)
        if batch.readings or batch.rollups:
            self._db.changes[ENERGY_CHANGES] += 1

    async def open_slots(self) -> list[OpenSlot]:
        """The slots saved open (by a recorder that crashed or stopped), by slot."""
        async with self._db.snapshot() as conn:
            names = {
                int(i): str(n)
                for i, n in await conn.execute_fetchall("SELECT id, name FROM quantities")
            }
            rows = await conn.execute_fetchall(
                "SELECT slot_device, idx, data FROM open_slots ORDER BY slot_device"
            )
        return [
            decode_partial(
                int(key) & ((1 << DEVICE_BITS) - 1),
                int(key) >> DEVICE_BITS,
                None if idx is None else float(idx),
                bytes(blob),
                names,
            )
            for key, idx, blob in rows
        ]

    async def last_readings(self) -> dict[int, Reading]:
        """Each device's latest index reading (where the recorder goes on from)."""
        rows = await self._db.fetchall(
            "SELECT device_id, MAX(slot), value FROM energy_readings GROUP BY device_id"
        )
        return {int(d): Reading(int(s), float(v)) for d, s, v in rows}

    async def first_slot(self) -> int | None:
        """The first 10-minute slot with a measure stored, if any (where history starts)."""
        rows = await self._db.fetchall("SELECT MIN(slot) FROM measures")
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    async def coverage(self, device_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """Each device's first and last slot with an index reading (devices with none left
        out); two index seeks a device."""
        out: dict[int, tuple[int, int]] = {}
        async with self._db.snapshot() as conn:
            for device_id in device_ids:
                rows = list(
                    await conn.execute_fetchall(
                        "SELECT (SELECT MIN(slot) FROM energy_readings WHERE device_id = ?),"
                        " (SELECT MAX(slot) FROM energy_readings WHERE device_id = ?)",
                        (device_id, device_id),
                    )
                )
                if rows and rows[0][0] is not None:
                    out[device_id] = (int(rows[0][0]), int(rows[0][1]))
        return out

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
                "SELECT device_id, slot, data FROM measures"
                " WHERE slot_device >= ? AND slot_device < ? ORDER BY slot_device",
                (first_slot << DEVICE_BITS, end_slot << DEVICE_BITS),
            )
        wanted = set(device_ids) if device_ids is not None else None
        return [
            (int(d), int(s), decode(bytes(b), names, layouts))
            for d, s, b in rows
            if wanted is None or d in wanted
        ]

    async def device_series(
        self, device_id: int, first_slot: int, end_slot: int, wanted: frozenset[str]
    ) -> list[tuple[int, dict[str, Triple]]]:
        """``(slot, {name: (mean, min, max)})`` of one device's ``wanted`` quantities over
        slots ``[first_slot, end_slot)`` (a week is fine): primary-key lookups in one
        snapshot, decoded in a thread (:func:`decode_selected`)."""
        keys = [(slot << DEVICE_BITS) | device_id for slot in range(first_slot, end_slot)]
        async with self._db.snapshot() as conn:
            names = {
                int(i): str(n)
                for i, n in await conn.execute_fetchall("SELECT id, name FROM quantities")
            }
            layouts = {
                int(i): _unpack_ids(q)
                for i, q in await conn.execute_fetchall("SELECT id, qids FROM measure_layouts")
            }
            found: list[sqlite3.Row] = []
            for at in range(0, len(keys), 900):  # under SQLite's oldest bound on parameters
                part = keys[at : at + 900]
                marks = ",".join("?" * len(part))
                found += await conn.execute_fetchall(
                    f"SELECT slot, data FROM measures WHERE slot_device IN ({marks})"
                    " ORDER BY slot_device",
                    part,
                )

        def decoded() -> list[tuple[int, dict[str, Triple]]]:
            select = Selector(names, layouts, wanted)
            return [(int(s), select(bytes(b))) for s, b in found]

        return await asyncio.to_thread(decoded)

    async def device_columns(
        self, device_id: int, first_slot: int, end_slot: int, wanted: frozenset[str]
    ) -> Columns:
        """:meth:`device_series` column-wise: the slots the device has a row in, and each
        ``wanted`` quantity's means, lows and highs aligned with them (None where a slot's
        row lacks it). The rows of one layout unpack with one struct that skips the
        quantities not wanted and are transposed by ``zip``: no object per row."""
        names, layouts, found = await self._device_rows(device_id, first_slot, end_slot)
        return await asyncio.to_thread(_columns_of, found, names, layouts, wanted)

    async def _device_rows(
        self, device_id: int, first_slot: int, end_slot: int
    ) -> tuple[dict[int, str], dict[int, tuple[int, ...]], list[tuple[int, bytes]]]:
        keys = [(slot << DEVICE_BITS) | device_id for slot in range(first_slot, end_slot)]
        async with self._db.snapshot() as conn:
            names = {
                int(i): str(n)
                for i, n in await conn.execute_fetchall("SELECT id, name FROM quantities")
            }
            layouts = {
                int(i): _unpack_ids(q)
                for i, q in await conn.execute_fetchall("SELECT id, qids FROM measure_layouts")
            }
            found: list[tuple[int, bytes]] = []
            for at in range(0, len(keys), 900):  # under SQLite's oldest bound on parameters
                part = keys[at : at + 900]
                marks = ",".join("?" * len(part))
                found += await conn.execute_fetchall(  # type: ignore[arg-type]
                    f"SELECT slot, data FROM measures WHERE slot_device IN ({marks})"
                    " ORDER BY slot_device",
                    part,
                )
        return names, layouts, found

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
                await conn.execute(
                    "DELETE FROM measures WHERE slot_device < ?", (measures_slot << DEVICE_BITS,)
                )
            if energy_slot is not None:
                await conn.execute("DELETE FROM energy_readings WHERE slot < ?", (energy_slot,))
                await conn.execute("DELETE FROM energy_hourly WHERE hour < ?", (energy_slot // 6,))
                await conn.execute(
                    "DELETE FROM energy_daily WHERE day < ?", (energy_slot // 6 // 24,)
                )
                await conn.execute("DELETE FROM energy_gaps WHERE last_slot < ?", (energy_slot,))
        if energy_slot is not None:
            self._db.changes[ENERGY_CHANGES] += 1


_ADD_HOUR = (
    "INSERT INTO energy_hourly (device_id, hour, amount, missing) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (device_id, hour) DO UPDATE SET amount = amount + excluded.amount,"
    " missing = missing + excluded.missing"
)
HOUR_COLUMNS = tuple(f"h{h:02d}" for h in range(24))  # energy_daily's amount of each hour
_ADD_DAY = (
    f"INSERT INTO energy_daily (device_id, day, amount, missing, {', '.join(HOUR_COLUMNS)})"
    f" VALUES ({', '.join('?' * 28)})"
    " ON CONFLICT (device_id, day) DO UPDATE SET amount = amount + excluded.amount,"
    " missing = missing + excluded.missing, "
    + ", ".join(f"{h} = {h} + excluded.{h}" for h in HOUR_COLUMNS)
)


def _columns_of(
    rows: Sequence[tuple[int, bytes]],
    names: dict[int, str],
    layouts: dict[int, tuple[int, ...]],
    wanted: frozenset[str],
) -> Columns:
    """The ``wanted`` quantities of ``rows`` (slot, blob), by slot, column-wise."""
    slots = [int(s) for s, _b in rows]
    # The rows by how they unpack: (format byte, layout, codes) for formats 3 and 4.
    groups: dict[tuple[int, int, bytes], list[int]] = {}
    others: list[int] = []  # formats 1 and 2: ids in each row
    heads = {blob[:2] for _s, blob in rows}
    if len(heads) == 1 and (head2 := next(iter(heads)))[0] == _SHARED | _SMALL:
        # The usual week: format 3, one layout (its id in byte 1): no look at each row.
        groups[(head2[0], head2[1], b"")] = list(range(len(rows)))
        rows_to_sort: Sequence[tuple[int, bytes]] = ()
    else:
        rows_to_sort = rows
    for k, (_s, blob) in enumerate(rows_to_sort):
        kind = blob[0]
        base = kind & ~_SMALL
        if base == _SHARED:
            key = (kind, blob[1] if kind & _SMALL else blob[1] | blob[2] << 8, b"")
        elif base == _CODED:
            head = _HEAD[kind & _SMALL]
            layout = head.unpack_from(blob)[1]
            width = (len(layouts[layout]) + 3) // 4
            key = (kind, layout, bytes(blob[head.size : head.size + width]))
        else:
            others.append(k)
            continue
        group = groups.get(key)
        if group is None:
            groups[key] = [k]
        else:
            group.append(k)
    mean: dict[str, list[float | None]] = {}
    low: dict[str, list[float | None]] = {}
    high: dict[str, list[float | None]] = {}
    whole = len(groups) == 1 and not others  # the usual week: one layout, one format
    for (kind, layout, codes_key), members in groups.items():
        item, picks, at = _column_plan(kind, layout, codes_key, names, layouts, wanted)
        if not picks:
            continue
        flat: list[tuple[float, ...]] = []
        if item.size:  # every wanted value a row's, in one pass, then one column each
            joined = b"".join([rows[k][1][at:] for k in members])
            flat = list(zip(*item.iter_unpack(joined), strict=True))
        for name, i, code in picks:
            if code == 2:
                m = flat[i]
                lo: Sequence[float] = list(map(operator.sub, m, flat[i + 1]))
                hi: Sequence[float] = list(map(operator.add, m, flat[i + 2]))
            elif code == 3:
                m, lo, hi = flat[i], flat[i + 1], flat[i + 2]
            elif code == 1:
                m = lo = hi = flat[i]
            else:
                m = lo = hi = (0.0,) * len(members)
            if whole:
                mean[name], low[name], high[name] = list(m), list(lo), list(hi)
                continue
            for part, values in ((mean, m), (low, lo), (high, hi)):
                column = part.setdefault(name, [None] * len(rows))
                for k, v in zip(members, values, strict=True):
                    column[k] = v
    if others:
        select = Selector(names, layouts, wanted)
        for k in others:
            for name, (m1, lo1, hi1) in select(bytes(rows[k][1])).items():
                for part, v in ((mean, m1), (low, lo1), (high, hi1)):
                    part.setdefault(name, [None] * len(rows))[k] = v
    return Columns(slots, mean, low, high)


@lru_cache(maxsize=256)
def _item_struct(codes: tuple[int, ...], keep: tuple[bool, ...]) -> struct.Struct:
    """The items of one blob with these codes, the quantities not kept skipped as padding."""
    parts = []
    for code, kept in zip(codes, keep, strict=True):
        item = _CODE_ITEMS[code]
        parts.append(item if kept else f"{struct.calcsize('<' + item)}x" if item else "")
    return struct.Struct("<" + "".join(parts))


def _column_plan(
    kind: int,
    layout: int,
    codes_key: bytes,
    names: dict[int, str],
    layouts: dict[int, tuple[int, ...]],
    wanted: frozenset[str],
) -> tuple[struct.Struct, list[tuple[str, int, int]], int]:
    """How to read the wanted quantities of a run of blobs alike: the struct of one blob's
    items, per quantity its name, index of its first value and code, and where the
    items start in a blob."""
    qids = layouts[layout]
    at = _HEAD[kind & _SMALL].size
    if codes_key:
        codes = tuple((codes_key[i >> 2] >> (2 * (i & 3))) & 3 for i in range(len(qids)))
        at += len(codes_key)
    else:
        codes = (2,) * len(qids)
    keep = tuple(names.get(q, f"q{q}") in wanted for q in qids)
    picks: list[tuple[str, int, int]] = []
    index = 0
    for q, code, kept in zip(qids, codes, keep, strict=True):
        if kept:
            picks.append((names.get(q, f"q{q}"), index, code))
            index += len(_CODE_ITEMS[code])
    return _item_struct(codes, keep), picks, at


def _days(hourly: Sequence[tuple[int, int, float, int]]) -> list[tuple[float, ...]]:
    """The rows of ``_ADD_DAY`` for these ``(device_id, hour, amount, missing)``."""
    days: dict[tuple[int, int], list[float]] = {}
    for device_id, hour, amount, missing in hourly:
        day = days.get((device_id, hour // 24))
        if day is None:
            day = days[device_id, hour // 24] = [0.0] * 26
        day[0] += amount
        day[1] += missing
        day[2 + hour % 24] += amount
    return [(d, day, a, int(m), *hours) for (d, day), (a, m, *hours) in days.items()]


def _measure_key(slot: int, device_id: int) -> int:
    if not 0 <= device_id < 1 << DEVICE_BITS:
        raise ValueError(f"device id {device_id} is not below {1 << DEVICE_BITS}")
    return slot << DEVICE_BITS | device_id


def _pack_ids(qids: tuple[int, ...]) -> bytes:
    return struct.pack(f"<{len(qids)}H", *qids)


def _unpack_ids(blob: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(blob) // 2}H", blob)
