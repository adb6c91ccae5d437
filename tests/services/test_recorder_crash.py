"""A crash loses at most what came since the last save; a restart, after a kill or a clean
stop, merges with the slot saved open: count, mean, min and max as one run gives them."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import pytest

from ews_tui.domain.aggregation import QuantityStats
from ews_tui.domain.consumption import Reading
from ews_tui.domain.events import Sample
from ews_tui.hub import Hub
from ews_tui.services.recorder import Recorder
from ews_tui.store.aggregates_repo import AggregatesRepo
from ews_tui.store.db import Database, open_database
from tests.services.set_clock import Clock

T0 = 1_730_000_400.0  # on a 10-minute tick
S0 = int(T0 // 600)
Stored = tuple[list[tuple[int, int, tuple[QuantityStats, ...]]], list[tuple[int, Reading]], float]


def poll(n: int) -> Sample:
    """Poll ``n`` of device 1, every 20 s (30 a slot); sums that round differently by order."""
    return Sample(
        1,
        T0 + n * 20,
        {"ea_import": 100.0 + n * 0.1, "v1": 230.0 + math.sin(n) / 3, "p": n * 0.1 + 1e-9},
    )


def live(db: Database, clock: Clock | None = None) -> Recorder:
    return Recorder(Hub(), AggregatesRepo(db), clock=clock or Clock(T0))


async def stored(db: Database) -> Stored:
    """Measures, readings and everything counted (hourly plus gaps)."""
    repo = AggregatesRepo(db)
    measures = await repo.measures(0, 2**40, [1])
    readings = await repo.readings(0, 2**40, [1])
    hourly = await db.fetchall("SELECT COALESCE(SUM(amount), 0) FROM energy_hourly")
    gaps = await db.fetchall("SELECT COALESCE(SUM(amount), 0) FROM energy_gaps")
    return measures, readings, float(hourly[0][0]) + float(gaps[0][0])


async def one_run(path: Path, polls: Iterable[int]) -> Stored:
    """What one recorder that never stopped stores of ``polls``."""
    db = await open_database(path)
    try:
        recorder = live(db)
        for n in polls:
            recorder.ingest(poll(n))
        await recorder.flush()
        return await stored(db)
    finally:
        await db.close()


async def test_a_kill_inside_a_slot_loses_only_what_came_after_the_last_save(
    db: Database, tmp_path: Path
) -> None:
    first = live(db)
    await first.load()
    for n in range(12):
        first.ingest(poll(n))
    await first.save()  # the live recorder saves every second
    first.ingest(poll(12))  # killed before the next save: this poll is lost
    second = live(db)  # the restart
    await second.load()
    for n in range(13, 60):  # the rest of slot 0, and slot 1
        second.ingest(poll(n))
    await second.flush()
    expected = await one_run(tmp_path / "ref.sqlite", [n for n in range(60) if n != 12])
    assert await stored(db) == expected  # exactly: counts, means, min, max, index, energy
    measures = expected[0]
    assert [stats[0].count for _d, _s, stats in measures] == [29, 30]


async def test_a_kill_just_after_a_slot_end_loses_no_slot(db: Database, tmp_path: Path) -> None:
    first = live(db)
    await first.load()
    for n in range(33):  # slot 0 whole and 3 polls of slot 1: slot 0 waits for its grace
        first.ingest(poll(n))
    await first.save()
    assert first.written == 0  # nothing closed yet: killed now
    second = live(db)
    await second.load()
    for n in range(33, 60):
        second.ingest(poll(n))
    await second.flush()
    assert await stored(db) == await one_run(tmp_path / "ref.sqlite", range(60))


async def test_a_clean_stop_and_restart_inside_a_slot_merge(db: Database, tmp_path: Path) -> None:
    clock = Clock(T0 + 5 * 20)
    first = live(db, clock)
    await first.start()
    for n in range(5):
        first.ingest(poll(n))
    await first.stop()
    # Stopped: the slot so far is readable (the measures and its index)...
    measures, readings, _counted = await stored(db)
    assert [(s - S0, stats[0].count) for _d, s, stats in measures] == [(0, 5)]
    assert readings == [(1, Reading(S0, 100.4))]
    # ... and a restart inside it merges with it, never replaces it.
    second = live(db, clock)
    await second.start()
    for n in range(5, 30):
        second.ingest(poll(n))
    await second.stop()
    measures, readings, counted = await stored(db)
    expected = await one_run(tmp_path / "ref.sqlite", range(30))
    assert (measures, readings) == expected[:2]
    assert counted == pytest.approx(102.9 - 100.4)  # the growth since the first index stored


async def test_a_restart_after_the_slot_closes_it_whole(db: Database, tmp_path: Path) -> None:
    clock = Clock(T0 + 5 * 20)
    first = live(db, clock)
    await first.start()
    for n in range(5):
        first.ingest(poll(n))
    await first.stop()
    second = live(db, Clock(T0 + 3600))  # back an hour later
    await second.start()
    for n in range(180, 185):
        second.ingest(poll(n))
    await second.stop()
    expected = await one_run(tmp_path / "ref.sqlite", [*range(5), *range(180, 185)])
    assert await stored(db) == expected
    rows = await db.fetchall("SELECT COUNT(*) FROM open_slots")
    assert rows[0][0] == 1  # only the slot the last stop left open
