"""The recorder and the store under a full disk, a locked database and an I/O error, with
real SQLite: the failed batch is kept and written again, the reads keep working, the
energy between two stored readings is the meter's growth, and the database stays whole."""

from __future__ import annotations

import asyncio
import resource
import signal
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from ews_tui.domain.events import Sample, ServiceDegraded, ServiceRecovered
from ews_tui.hub import Hub
from ews_tui.i18n import use_language
from ews_tui.services.recorder import Recorder
from ews_tui.store.aggregates_repo import AggregatesRepo
from ews_tui.store.db import Database
from ews_tui.supervision import Health, Supervisor
from ews_tui.ui.system_status import status_line
from tests.services.set_clock import Clock

T0 = 1_730_000_400.0  # on a 10-minute tick
S0 = int(T0 // 600)


def feed(recorder: Recorder, first_minute: int, minutes: int, extra: int = 0) -> None:
    """Device 1, one poll a minute: its index grows 1 kWh a minute from 100; ``extra`` more
    quantities (new names: new ids and a new layout, pages to allocate)."""
    for minute in range(first_minute, first_minute + minutes):
        values: dict[str, float | str | None] = {"ea_import": 100.0 + minute, "v1": 230.0}
        values.update({f"q{first_minute}_{n}": float(n + minute) for n in range(extra)})
        recorder.ingest(Sample(1, T0 + minute * 60, values))


async def energy(db: Database) -> float:
    """Everything counted: the hourly rollups and the gaps kept whole."""
    hourly = await db.fetchall("SELECT COALESCE(SUM(amount), 0) FROM energy_hourly")
    gaps = await db.fetchall("SELECT COALESCE(SUM(amount), 0) FROM energy_gaps")
    return float(hourly[0][0]) + float(gaps[0][0])


async def check_whole(db: Database, repo: AggregatesRepo, minutes: int) -> None:
    """Every slot of ``minutes`` minutes stored, readable, counted, and the file whole."""
    slots = minutes // 10
    rows = await repo.measures(0, 2**40, [1])
    assert [s for _d, s, _x in rows] == [S0 + k for k in range(slots)]
    assert all(next(q for q in stats if q.name == "v1").count == 10 for _d, _s, stats in rows)
    readings = await repo.readings(0, 2**40, [1])
    assert [r.value for _d, r in readings] == [109.0 + 10 * k for k in range(slots)]
    grown = readings[-1][1].value - readings[0][1].value
    assert await energy(db) == pytest.approx(grown)
    check = await db.fetchall("PRAGMA integrity_check")
    assert [tuple(r) for r in check] == [("ok",)]


async def test_a_full_disk_keeps_the_batch_and_catches_up(db: Database) -> None:
    repo = AggregatesRepo(db)
    recorder = Recorder(None, repo)
    feed(recorder, 0, 10)
    await recorder.flush()
    pages = int((await db.fetchall("PRAGMA page_count"))[0][0])
    await db.fetchall(f"PRAGMA max_page_count = {pages}")
    feed(recorder, 10, 30, extra=400)  # three slots, 400 new quantities: pages needed
    with pytest.raises(sqlite3.OperationalError, match="full"):
        await recorder.flush(S0 + 4)
    assert recorder.failures == 1 and recorder.dropped == 0
    # Reads work meanwhile: no id of the rolled-back batch is taken for granted.
    assert len(await repo.measures(0, 2**40, [1])) == 1
    await db.fetchall("PRAGMA max_page_count = 1073741823")
    feed(recorder, 40, 10, extra=400)  # the same new names again, in a later slot
    assert await recorder.flush() == 4  # the kept three and the new one
    assert recorder.failures == 0
    await check_whole(db, repo, 50)
    # A second repository (a restart) reads the same.
    assert len(await AggregatesRepo(db).measures(0, 2**40, [1])) == 5


async def test_a_locked_database_is_waited_for_by_the_live_recorder(db: Database) -> None:
    """...and shown on the home screen's status line meanwhile, not only logged."""
    repo = AggregatesRepo(db)
    hub, clock = Hub(), Clock(T0)
    supervisor = Supervisor(hub)
    news = hub.subscribe(ServiceDegraded, ServiceRecovered, maxsize=100, name="test")
    recorder = Recorder(hub, repo, clock=clock, save_every=0.01, supervisor=supervisor)
    await db.fetchall("PRAGMA busy_timeout = 20")
    other = sqlite3.connect(db.path, isolation_level=None)
    try:
        await recorder.start()
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        for minute in range(30):
            hub.publish(Sample(1, T0 + minute * 60, {"ea_import": 100.0 + minute, "v1": 230}))
        clock.now = T0 + 1800 + 16
        hub.publish(Sample(2, clock.now, {"v1": 230.0}))  # wakes it up past the slots
        async with asyncio.timeout(10):
            while recorder.failures < 2:  # it tried, and tried again
                await asyncio.sleep(0.01)
        assert recorder.written == 0
        assert await repo.measures(0, 2**40, [1]) == []  # readers are not blocked (WAL)
        (health,) = [h for h in supervisor.health() if h.name == recorder.name]
        assert health.state is Health.DEGRADED
        with use_language("en"):
            line = status_line(supervisor.health(), ())
        assert (
            line.problem
            and "the store refuses writes (OperationalError: database is locked)" in line.text
        ), line.text
        other.execute("ROLLBACK")
        async with asyncio.timeout(10):
            while recorder.written < 3:
                await recorder.flushed.wait()
        assert recorder.failures == 0
        assert [h.state for h in supervisor.health()] == [Health.RUNNING]
        with use_language("en"):
            assert status_line(supervisor.health(), ()).text == "All services running"
        told = [type(news.get_nowait()) for _ in range(len(news))]
        assert told == [ServiceDegraded, ServiceRecovered]  # once each, not per retry
    finally:
        other.close()
        await recorder.stop()
    await check_whole(db, repo, 30)


@contextmanager
def file_size_limit(size: int) -> Iterator[None]:
    """Writes of this process past ``size`` bytes of a file fail with EFBIG (a real I/O
    error for SQLite); SIGXFSZ ignored meanwhile."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


async def test_an_io_error_keeps_the_batch_and_catches_up(db: Database) -> None:
    repo = AggregatesRepo(db)
    recorder = Recorder(None, repo)
    feed(recorder, 0, 10)
    await recorder.flush()
    feed(recorder, 10, 20, extra=50)
    with file_size_limit(4096), pytest.raises(sqlite3.OperationalError, match="I/O"):
        await recorder.flush(S0 + 3)
    assert recorder.failures == 1
    assert len(await repo.measures(0, 2**40, [1])) == 1
    feed(recorder, 30, 10, extra=50)
    assert await recorder.flush() == 3
    await check_whole(db, repo, 40)


async def test_past_the_bound_the_oldest_slots_go_and_show_as_a_gap(db: Database) -> None:
    repo = AggregatesRepo(db)
    recorder = Recorder(None, repo, max_unwritten=2)
    feed(recorder, 0, 10)
    await recorder.flush()
    pages = int((await db.fetchall("PRAGMA page_count"))[0][0])
    await db.fetchall(f"PRAGMA max_page_count = {pages}")
    feed(recorder, 10, 40, extra=400)  # four slots: two kept, two given up
    with pytest.raises(sqlite3.OperationalError):
        await recorder.flush(S0 + 5)
    assert recorder.dropped == 2
    await db.fetchall("PRAGMA max_page_count = 1073741823")
    assert await recorder.flush() == 2
    readings = await repo.readings(0, 2**40, [1])
    assert [r.slot - S0 for _d, r in readings] == [0, 3, 4]
    # Nothing under-counted: the two slots given up are a gap, the growth whole.
    assert await energy(db) == pytest.approx(149.0 - 109.0)
    gaps = await repo.gaps([1], 0, 2**40)
    hourly = await db.fetchall("SELECT SUM(missing) FROM energy_hourly")
    assert gaps or int(hourly[0][0]) > 0
