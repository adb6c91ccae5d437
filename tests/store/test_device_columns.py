"""One device's week read column-wise (what the EN 50160 check reads): the same values as
the row-wise read, whatever the blobs' formats, layouts and header sizes, and the slots the
device missed left out."""

from __future__ import annotations

from ews_tui.domain.aggregation import QuantityStats, SlotRecord
from ews_tui.domain.en50160 import Interval
from ews_tui.store.aggregates_repo import AggregatesRepo, Batch
from ews_tui.store.db import Database


def stats(slot: int) -> tuple[QuantityStats, ...]:
    """A device whose blobs change format and layout from slot to slot: format 3 (one- and
    two-byte header), 4 (a value always 0, a single value, a huge spread), 1 and 2 (counts
    that differ), and a layout that lacks "f" or adds "thd_v1"."""
    v = 230.0 + slot % 7
    count = 300 if slot % 5 == 0 else 10  # 300: the header's numbers take two bytes
    base = [
        QuantityStats("v1", count, v, v - 1, v + 1.5),
        QuantityStats("v2", count, v + 1, v - 2, v + 2),
        QuantityStats("ea", count, 5e6, 5e6 - 3, 5e6 + 2),
    ]
    kind = slot % 4
    if kind == 0:  # format 3
        return (*base, QuantityStats("f", count, 50.0, 49.9, 50.1))
    if kind == 1:  # format 4
        return (
            *base,
            QuantityStats("i1", count, 0.0, 0.0, 0.0),
            QuantityStats("f", count, 50.0, 50.0, 50.0),
            QuantityStats("thd_v1", count, 5e5, 1e5, 9e5),
        )
    if kind == 2:  # format 1, no "f"
        return (*base[:2], QuantityStats("thd_v1", 9, 2.0, 1.5, 2.5))
    return (*base, QuantityStats("f", 9, 50.0, 1.0, 9e5))  # format 2


async def test_the_columns_hold_the_rows_values_in_every_format(db: Database) -> None:
    repo = AggregatesRepo(db)
    records = [
        SlotRecord(device, slot, stats(slot) if device == 7 else stats(slot + 1))
        for slot in range(1000, 1200)
        for device in (6, 7, 8)
        if not (device == 7 and slot % 9 == 0)  # slots the device missed
    ]
    await repo.write(Batch(records=records))
    wanted = frozenset({"v1", "f", "thd_v1", "i1", "absent"})
    series = await repo.device_series(7, 1000, 1200, wanted)
    columns = await repo.device_columns(7, 1000, 1200, wanted)
    assert list(columns.slots) == [s for s, _v in series] and len(series) == 178
    assert columns.intervals() == [
        Interval(
            s,
            {q: t[0] for q, t in values.items()},
            {q: t[1] for q, t in values.items()},
            {q: t[2] for q, t in values.items()},
        )
        for s, values in series
    ]
    assert set(columns.mean) == {"v1", "f", "thd_v1", "i1"}
    assert columns.mean["f"][:3] == [50.0, 50.0, None]  # slots 1000 (format 3), 1001 (4), 1002


async def test_a_week_of_one_layout_reads_whole_columns(db: Database) -> None:
    repo = AggregatesRepo(db)
    records = [
        SlotRecord(device, slot, (*stats(0)[:3], QuantityStats("f", 10, 50.0 + slot, 0, 99)))
        for slot in range(500, 520)
        for device in (1, 2)
    ]
    await repo.write(Batch(records=records))
    columns = await repo.device_columns(2, 505, 515, frozenset({"f", "v2"}))
    assert list(columns.slots) == list(range(505, 515))
    assert columns.mean["f"] == [50.0 + s for s in range(505, 515)]
    assert set(columns.low) == {"f", "v2"} and None not in columns.high["v2"]
    empty = await repo.device_columns(3, 505, 515, frozenset({"f"}))
    assert (list(empty.slots), dict(empty.mean)) == ([], {})
