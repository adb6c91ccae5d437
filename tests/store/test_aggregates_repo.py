"""The recorder's tables: compact measure blobs, readings, hourly rollups, retention."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ews_tui.domain.aggregation import QuantityStats, SlotRecord
from ews_tui.domain.consumption import Reading, Span, rollup
from ews_tui.store.aggregates_repo import AggregatesRepo, Batch, decode, encode
from ews_tui.store.db import Database


def test_a_blob_keeps_mean_exactly_as_f32_and_min_max_close() -> None:
    stats = [
        (1, QuantityStats("v1", 60, 230.5, 228.25, 233.0)),
        (2, QuantityStats("p", 1, 5.0, 5.0, 5.0)),
    ]
    blob = encode(stats)
    assert len(blob) == 1 + 2 * 12  # counts differ: ids and counts per quantity
    back = decode(blob, {1: "v1", 2: "p"})
    assert [b.name for b in back] == ["v1", "p"] and back[0].count == 60
    assert back[0].mean == pytest.approx(230.5) and back[0].min == pytest.approx(228.25, abs=2e-3)
    assert back[0].max == pytest.approx(233.0, abs=2e-3)


def test_a_layout_and_a_shared_count_make_8_bytes_a_quantity() -> None:
    stats = [
        (1, QuantityStats("v1", 60, 230.5, 228.25, 233.0)),
        (2, QuantityStats("p", 60, 5.0, 4.0, 6.0)),
    ]
    blob = encode(stats, layout=9)
    assert blob[0] & 0x0F == 3 and len(blob) == 3 + 2 * 8  # one-byte layout id and count
    back = decode(blob, {1: "v1", 2: "p"}, {9: (1, 2)})
    assert [(b.name, b.count) for b in back] == [("v1", 60), ("p", 60)]
    assert back[1].min == pytest.approx(4.0, abs=1e-3) and back[1].max == pytest.approx(
        6.0, abs=1e-3
    )
    big = encode(stats, layout=300)
    assert len(big) == 5 + 2 * 8 and decode(big, {}, {300: (1, 2)})[0].count == 60


def test_constant_and_zero_quantities_take_four_bytes_and_none() -> None:
    stats = [
        (1, QuantityStats("v1", 1, 230.1, 230.1, 230.1)),
        (2, QuantityStats("p", 1, 0.0, 0.0, 0.0)),
        (3, QuantityStats("i1", 1, 12.5, 12.5, 12.5)),
        (4, QuantityStats("f", 1, 50.0, 50.0, 50.0)),
        (5, QuantityStats("q", 1, 0.0, 0.0, 0.0)),
    ]
    blob = encode(stats, layout=1)
    assert blob[0] & 0x0F == 4 and len(blob) == 3 + 2 + 3 * 4
    back = decode(blob, {1: "v1", 2: "p", 3: "i1", 4: "f", 5: "q"}, {1: (1, 2, 3, 4, 5)})
    assert [(b.name, b.count, b.min, b.max) for b in back] == [
        ("v1", 1, pytest.approx(230.1), pytest.approx(230.1)),
        ("p", 1, 0.0, 0.0),
        ("i1", 1, 12.5, 12.5),
        ("f", 1, 50.0, 50.0),
        ("q", 1, 0.0, 0.0),
    ]
    assert all(b.mean == b.min for b in back)


@given(
    st.lists(
        st.tuples(
            st.integers(1, 600),
            st.floats(-1e6, 1e6, width=32),
            st.floats(0, 1e6, width=32),
            st.floats(0, 1e6, width=32),
            st.booleans(),
        ),
        min_size=1,
        max_size=40,
    ),
    st.booleans(),
)
def test_every_format_gives_back_counts_and_values_close(
    items: list[tuple[int, float, float, float, bool]], shared: bool
) -> None:
    stats = []
    for n, (count, mean, below, above, flat) in enumerate(items):
        count = items[0][0] if shared else count
        lo, hi = (mean, mean) if flat else (mean - below, mean + above)
        stats.append((n + 1, QuantityStats(f"q{n + 1}", count, mean, lo, hi)))
    qids = tuple(q for q, _s in stats)
    back = decode(encode(stats, layout=7), {}, {7: qids})
    assert [b.name for b in back] == [s.name for _q, s in stats]
    for (_q, s), b in zip(stats, back, strict=True):
        assert b.count == s.count
        tol = 1e-6 * abs(s.mean) + 1e-3 * (s.max - s.min) + 1e-6
        assert b.mean == pytest.approx(s.mean, abs=tol)
        assert b.min == pytest.approx(s.min, abs=tol) and b.max == pytest.approx(s.max, abs=tol)
        assert b.min <= b.mean + tol and b.mean <= b.max + tol


def test_a_spread_too_wide_for_half_floats_switches_to_full_floats() -> None:
    blob = encode([(3, QuantityStats("p", 2, 100_000.0, 0.0, 200_000.0))])
    assert blob[0] == 2
    (back,) = decode(blob, {3: "p"})
    assert (back.min, back.max) == (0.0, 200_000.0)


async def test_a_batch_is_written_and_read_back(db: Database) -> None:
    repo = AggregatesRepo(db)
    record = SlotRecord(7, 100, (QuantityStats("v1", 2, 231.0, 230.0, 232.0),), 12.5)
    outs = [Span(100, 100, 0.5), Span(101, 110, 3.0)]
    batch = Batch([record], [(7, Reading(100, 12.5))], [(7, rollup(outs))])
    await repo.write(batch)
    await repo.write(Batch(rollups=[(7, rollup([Span(100, 100, 0.25)]))]))
    assert await repo.last_readings() == {7: Reading(100, 12.5)}
    (row,) = await repo.measures(100, 101, [7])
    assert row[0:2] == (7, 100) and row[2][0].name == "v1"
    hours = await db.fetchall("SELECT hour, amount, missing FROM energy_hourly ORDER BY hour")
    assert [tuple(h) for h in hours] == [(16, 0.75, 1), (17, 0.0, 6), (18, 0.0, 3)]
    assert await repo.gaps([7], 0, 200) == [(7, Span(101, 110, 3.0))]
    assert await repo.device_ids() == [7]
    assert (await repo.measures(100, 101))[0][0] == 7


async def test_retention_forgets_old_rows_only(db: Database) -> None:
    repo = AggregatesRepo(db)
    records = [
        SlotRecord(1, s, (QuantityStats("f", 1, 50.0, 50.0, 50.0),), float(s)) for s in (10, 20)
    ]
    await repo.write(Batch(records, [(1, Reading(r.slot, float(r.slot))) for r in records]))
    await repo.forget_before(15, None)
    assert [r[1] for r in await repo.measures(0, 100, [1])] == [20]
    assert len(await repo.readings(0, 100, [1])) == 2
    await repo.forget_before(None, 15)
    assert [r.slot for _d, r in await repo.readings(0, 100, [1])] == [20]


async def test_ids_of_a_rolled_back_batch_are_not_remembered(db: Database) -> None:
    repo = AggregatesRepo(db)
    await repo.write(Batch(records=[SlotRecord(1, 10, (QuantityStats("v1", 1, 1, 1, 1),))]))
    new = (QuantityStats("v1", 1, 1, 1, 1), QuantityStats("fresh", 2, 2.0, 1.0, 3.0))
    # 70000 is no device id: the batch fails after its quantity and layout were inserted.
    bad = Batch(records=[SlotRecord(1, 11, new), SlotRecord(70000, 11, new)])
    with pytest.raises(ValueError):
        await repo.write(bad)
    await repo.write(Batch(records=[SlotRecord(1, 12, new)]))
    rows = await repo.measures(0, 100)  # no KeyError: the ids used exist
    assert [(s, [q.name for q in stats]) for _d, s, stats in rows] == [
        (10, ["v1"]),
        (12, ["v1", "fresh"]),
    ]


def stats_of_every_format(device: int, slot: int) -> tuple[QuantityStats, ...]:
    """Stats that a blob stores in each of the four formats, by device: 1 and 2 when counts
    differ (2 with a spread too large for a half float), 3 when every spread is a half
    float's, 4 when one quantity is always 0, one a single value, one a huge spread."""
    v = 230.0 + slot % 7
    if device == 1:  # format 3
        return (
            QuantityStats("v1", 10, v, v - 1, v + 1.5),
            QuantityStats("f", 10, 50.0, 49.9, 50.1),
        )
    if device == 2:  # format 4
        return (
            QuantityStats("v1", 10, v, v - 1, v + 1),
            QuantityStats("i1", 10, 0.0, 0.0, 0.0),
            QuantityStats("f", 10, 50.0, 50.0, 50.0),
            QuantityStats("ea", 10, 5e6, 1e6, 9e6),
        )
    if device == 3:  # format 1
        return (QuantityStats("v1", 10, v, v - 1, v + 1), QuantityStats("f", 9, 50.0, 49.9, 50.1))
    return (QuantityStats("v1", 10, v, v - 1, v + 1), QuantityStats("ea", 9, 5e6, 1e6, 9e6))


async def test_one_devices_series_is_read_by_key_and_matches_the_scan(db: Database) -> None:
    """The EN 50160 check reads one device's week by key, only the quantities it needs:
    the same values as the scan of every device's rows decodes, in all four formats."""
    repo = AggregatesRepo(db)
    records = [
        SlotRecord(device, slot, stats_of_every_format(device, slot))
        for slot in range(1000, 1300)
        for device in (1, 2, 3, 700)
        if not (device == 2 and slot % 3 == 0)  # a device that missed slots
    ]
    await repo.write(Batch(records=records))
    wanted = frozenset({"v1", "f", "ea", "i1", "absent"})
    for device in (1, 2, 3, 700):
        scan = [
            (s, {q.name: (q.mean, q.min, q.max) for q in stats if q.name in wanted})
            for d, s, stats in await repo.measures(1000, 1300, [device])
        ]
        assert await repo.device_series(device, 1000, 1300, wanted) == scan
        assert len(scan) == (200 if device == 2 else 300)
        assert set(scan[0][1]) == {q.name for q in stats_of_every_format(device, 0)}
    assert await repo.device_series(5, 1000, 1300, wanted) == []
    only_f = await repo.device_series(2, 1001, 1003, frozenset({"f"}))  # 1002 missed
    assert only_f == [(1001, {"f": (50.0, 50.0, 50.0)})]
