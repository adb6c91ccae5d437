"""The Recorder follows the Hub losslessly, writes per clock tick, and stops without loss."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ews_tui.domain.consumption import Reading
from ews_tui.domain.events import Sample
from ews_tui.hub import Hub
from ews_tui.services.recorder import Recorder, Retention
from ews_tui.store.aggregates_repo import AggregatesRepo
from ews_tui.store.db import Database, open_database
from tests.services.set_clock import Clock

T0 = 1_730_000_400.0  # on a 10-minute tick


async def test_slots_are_written_once_the_clock_passed_them(db: Database) -> None:
    hub, clock = Hub(), Clock(T0)
    recorder = Recorder(hub, AggregatesRepo(db), clock=clock, grace=15)
    await recorder.start()
    try:
        for minute in range(20):
            hub.publish(Sample(3, T0 + minute * 60, {"ea_import": 100 + minute, "v1": 230.0}))
        clock.now = T0 + 1200 + 16  # both slots passed, grace included
        waiting = asyncio.ensure_future(recorder.flushed.wait())
        hub.publish(Sample(3, T0 + 1200 + 16, {"ea_import": 120.0}))
        await asyncio.wait_for(waiting, 5)
        rows = await db.fetchall("SELECT slot, value FROM energy_readings ORDER BY slot")
        assert [tuple(r) for r in rows] == [(T0 // 600, 109.0), (T0 // 600 + 1, 119.0)]
        assert recorder.batches == 1
        hourly = await db.fetchall("SELECT SUM(amount) FROM energy_hourly")
        assert hourly[0][0] == pytest.approx(10.0)
    finally:
        await recorder.stop()
    # Stop wrote the open slot too.
    assert (await AggregatesRepo(db).last_readings())[3] == Reading(int(T0 // 600) + 2, 120.0)


async def test_nothing_published_is_lost_even_before_the_recorder_reads(db: Database) -> None:
    hub = Hub()
    recorder = Recorder(hub, AggregatesRepo(db), clock=Clock(T0))
    await recorder.start()
    for n in range(5000):
        hub.publish(Sample(n % 5, T0 + n * 0.1, {"p": float(n)}))
    await recorder.stop()
    rows = await AggregatesRepo(db).measures(0, 2**40, [0, 1, 2, 3, 4])
    assert sum(stats[0].count for _d, _s, stats in rows) == 5000


async def test_a_restart_goes_on_from_the_last_stored_index(db: Database) -> None:
    repo = AggregatesRepo(db)
    first = Recorder(None, repo)
    first.ingest(Sample(1, T0, {"ea_import": 10.0}))
    await first.flush()
    second = Recorder(None, repo)
    await second.load()
    second.ingest(Sample(1, T0 + 1800, {"ea_import": 13.0}))
    await second.flush()
    gaps = await repo.gaps([1], 0, 2**40)
    hourly = await db.fetchall("SELECT SUM(amount), SUM(missing) FROM energy_hourly")
    # Three slots later: a gap over slots +1..+3 unless it stays inside one hour.
    total = float(hourly[0][0]) + sum(g.amount for _d, g in gaps)
    assert total == pytest.approx(3.0)


async def test_retention_runs_at_start(db: Database) -> None:
    repo = AggregatesRepo(db)
    old = Recorder(None, repo)
    old.ingest(Sample(1, T0 - 40 * 86400, {"v1": 1.0, "ea_import": 1.0}))
    old.ingest(Sample(1, T0 - 86400, {"v1": 2.0, "ea_import": 2.0}))
    await old.flush()
    recorder = Recorder(Hub(), repo, clock=Clock(T0), retention=lambda: Retention(30, 0))
    await recorder.start()
    await recorder.stop()
    assert [s for _d, s, _x in await repo.measures(0, 2**40, [1])] == [int((T0 - 86400) // 600)]
    assert len(await repo.readings(0, 2**40, [1])) == 2


async def test_the_box_recorder_applies_each_energy_its_limit(tmp_path: Path) -> None:
    # 1,000 m3 of water in 10 minutes (6,000 m3/h) is a glitch; for electricity it is not.
    from ews_tui.cli.sim import load_site
    from ews_tui.domain.installation_doc import to_document
    from ews_tui.services.installation import InstallationService
    from tests.ui.box_fixtures import box_runtime

    async with box_runtime(tmp_path) as rt:
        service = rt.get(InstallationService)
        await service.import_document(to_document(load_site("demo")))
        water = next(d.id for d in service.current.devices if d.name == "Cold water")
        for n, index in enumerate((100.0, 101.0, 1101.0, 102.0, 103.0)):
            rt.hub.publish(Sample(water, T0 + n * 600, {"index": index}))
    # box_runtime is the production assembly (running_box); its recorder wrote at stop.
    db = await open_database(tmp_path / "data" / "ews.sqlite")
    try:
        rows = await db.fetchall(
            "SELECT SUM(amount) FROM energy_hourly WHERE device_id = ?", (water,)
        )
        gaps = await AggregatesRepo(db).gaps([water], 0, 2**40)
    finally:
        await db.close()
    assert float(rows[0][0]) + sum(g.amount for _d, g in gaps) == pytest.approx(3.0)


async def test_a_shortened_slot_keeps_a_grace_shorter_than_itself(db: Database) -> None:
    """With test slots of 20 s (``EWS_RECORDER_SLOT_SECONDS``), a slot is written 5 s after
    its end by the clock alone, not 15 s: the grace is at most a quarter of the slot."""
    hub, clock = Hub(), Clock(T0)
    recorder = Recorder(hub, AggregatesRepo(db), clock=clock, slot_seconds=20, save_every=0.05)
    await recorder.start()
    try:
        waiting = asyncio.ensure_future(recorder.flushed.wait())
        for second in range(0, 20, 2):
            hub.publish(Sample(3, T0 + second, {"ea_import": 100 + second}))
        clock.now = T0 + 20 + 6  # past the 5 s grace, within the 15 s of a 10-minute slot
        await asyncio.wait_for(waiting, 5)
        rows = await db.fetchall("SELECT slot, value FROM energy_readings ORDER BY slot")
        assert [tuple(r) for r in rows] == [(T0 // 20, 118.0)]
    finally:
        await recorder.stop()
