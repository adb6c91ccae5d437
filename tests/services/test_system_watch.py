"""The system watch on a real Hub, alarm engine and store: disk almost full (warning, critical,
cleared with hysteresis), a clock jump either way, the box started and stopped, and stopped
unexpectedly (a child process killed with SIGKILL); a degraded service (the watch's own
unreadable disk) raised and cleared; the recorder falling behind is QueueBehind's alarm."""

from __future__ import annotations

import asyncio
import signal
import sys
import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ews_tui.config import default_config, save_config
from ews_tui.config.model import SystemSettings
from ews_tui.domain.alarms import Alarm, AlarmType, Severity
from ews_tui.domain.events import Sample
from ews_tui.domain.system_watch import MB, DiskSpace, Heartbeat
from ews_tui.services.alarms import AlarmEngine
from ews_tui.services.box import DATABASE_FILE, running_box
from ews_tui.services.recorder import Recorder
from ews_tui.services.system_watch import HEARTBEAT_FILE, SystemWatch
from ews_tui.store.aggregates_repo import AggregatesRepo
from ews_tui.store.alarms_repo import AlarmFilter, AlarmsRepo
from ews_tui.store.db import Database, open_database
from ews_tui.supervision import Supervisor
from tests.services.set_clock import Clock
from tests.services.test_alarms import SITE, T0, Box

GB = 1024 * MB
TOTAL = 100 * GB  # warning below 10 GB, critical below 2 GB, back above by 2 GB


class Disk:
    """The free-space seam: what statvfs would say."""

    def __init__(self, free: int) -> None:
        self.free = free
        self.error: OSError | None = None

    def __call__(self, _path: Path) -> DiskSpace:
        if self.error is not None:
            raise self.error
        return DiskSpace(self.free, TOTAL)


@dataclass
class Watched:
    box: Box
    watch: SystemWatch
    disk: Disk
    wall: Clock
    mono: Clock

    async def alarms(self, kind: AlarmType) -> list[Alarm]:
        return await alarms_of(self.box.engine, kind)


async def alarms_of(engine: AlarmEngine, kind: AlarmType) -> list[Alarm]:
    page = await engine.page(AlarmFilter())
    return sorted((a for a in page.alarms if a.type is kind), key=lambda a: a.id)


@pytest.fixture
async def watched(db: Database, tmp_path: Path) -> AsyncIterator[Watched]:
    box = Box(db, tmp_path, Clock(T0), SITE)
    disk, wall, mono = Disk(50 * GB), Clock(T0), Clock(1000.0)
    watch = SystemWatch(
        box.hub,
        data_dir=tmp_path,
        settings=SystemSettings,
        supervisor=Supervisor(box.hub),
        wall=wall,
        mono=mono,
        free_space=disk,
        interval_s=3600.0,  # the test calls check() itself after the first one
    )
    await box.engine.start()
    await watch.start()
    assert await box.seen(1) == [("raised", "system.started", 1)]
    async with asyncio.timeout(10):
        while watch.level is None:  # the loop's first check, at once
            await asyncio.sleep(0.01)
    yield Watched(box, watch, disk, wall, mono)
    await watch.stop()
    await box.engine.stop()


async def test_disk_almost_full_warning_critical_and_back_with_hysteresis(
    watched: Watched,
) -> None:
    w, box = watched, watched.box

    async def at(free_gb: float) -> None:
        w.disk.free = int(free_gb * GB)
        await w.watch.check()

    await at(9)
    assert await box.seen(1) == [("raised", "system.disk_low", 2)]
    await at(1.5)
    assert await box.seen(1) == [("raised", "system.disk_low", 3)]
    warning, critical = await w.alarms(AlarmType.DISK_LOW)
    assert (warning.severity, critical.severity) == (Severity.WARNING, Severity.CRITICAL)
    assert critical.value == "1.5 % free (1536 MB)" and critical.subject.name == str(
        w.watch.heartbeat_path.parent
    )
    await at(3.5)  # above critical, not by the hysteresis: still critical
    await at(5)
    assert await box.seen(1) == [("cleared", "system.disk_low", 3)]
    await at(11.5)  # above warning, not by the hysteresis
    await at(12.5)
    assert await box.seen(1) == [("cleared", "system.disk_low", 2)]
    assert box.engine.counts.active == 0
    assert [a.count for a in await w.alarms(AlarmType.DISK_LOW)] == [1, 1]  # no flapping


async def test_a_small_disk_warns_below_500_mb(watched: Watched) -> None:
    limits = SystemSettings().disk_limits
    assert limits.warning_bytes(2 * GB) == 500 * MB  # 10 % of 2 GB is less: 500 MB counts


async def test_the_clock_jumping_forward_and_back_is_told_with_its_size(watched: Watched) -> None:
    w, box = watched, watched.box
    w.wall.now += 60
    w.mono.now += 60
    await w.watch.check()  # a minute as it should be: nothing
    w.wall.now += 60 + 3600  # NTP, or someone, set the clock an hour ahead
    w.mono.now += 60
    await w.watch.check()
    assert await box.seen(1) == [("raised", "system.clock_jumped", 2)]
    w.wall.now += 60 - 125
    w.mono.now += 60
    await w.watch.check()
    assert await box.seen(1) == [("repeated", "system.clock_jumped", 2)]
    w.wall.now += 60 + 59  # within the limit (60 s)
    w.mono.now += 60
    await w.watch.check()
    (alarm,) = await w.alarms(AlarmType.CLOCK_JUMPED)
    assert alarm.count == 2 and alarm.value == "-2 min 05 s" and not alarm.active
    assert len(box.changes) == 0


async def test_a_disk_that_cannot_be_read_is_a_degraded_service_until_it_can(
    watched: Watched,
) -> None:
    w, box = watched, watched.box
    w.disk.error = OSError(5, "Input/output error")
    await w.watch.check()
    assert await box.seen(1) == [("raised", "system.service_degraded", 2)]
    (alarm,) = await w.alarms(AlarmType.SERVICE_DEGRADED)
    assert alarm.subject.name == "system-watch" and "Input/output error" in alarm.detail
    w.disk.error = None
    await w.watch.check()
    assert await box.seen(1) == [("cleared", "system.service_degraded", 2)]


CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from ews_tui.config.model import SystemSettings
    from ews_tui.hub import Hub
    from ews_tui.services.system_watch import SystemWatch
    from ews_tui.supervision import Supervisor

    async def main():
        hub = Hub()
        watch = SystemWatch(hub, data_dir=Path(sys.argv[1]), settings=SystemSettings,
                            supervisor=Supervisor(hub))
        await watch.start()
        while not (Path(sys.argv[1]) / "heartbeat.json").exists():
            await asyncio.sleep(0.01)
        print("alive", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)


async def test_a_box_killed_is_said_stopped_unexpectedly_with_when_last_seen(
    db: Database, tmp_path: Path
) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, str(tmp_path), stdout=asyncio.subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), 60)
        assert line == b"alive\n"
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()
    beat = Heartbeat.loads((tmp_path / HEARTBEAT_FILE).read_text())
    assert beat is not None and not beat.clean
    box = Box(db, tmp_path, Clock(T0), SITE)
    watch = SystemWatch(
        box.hub,
        data_dir=tmp_path,
        settings=SystemSettings,
        supervisor=Supervisor(box.hub),
        free_space=Disk(50 * GB),
    )
    await box.engine.start()
    await watch.start()
    try:
        assert await box.seen(2) == [
            ("raised", "system.unexpected_stop", 1),
            ("raised", "system.started", 2),
        ]
        (alarm,) = await alarms_of(box.engine, AlarmType.UNEXPECTED_STOP)
        seen = datetime.fromtimestamp(beat.seen, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        assert alarm.value == seen and alarm.severity is Severity.MAJOR
    finally:
        await watch.stop()
        await box.engine.stop()
    after = Heartbeat.loads((tmp_path / HEARTBEAT_FILE).read_text())
    assert after is not None and after.clean


async def test_the_box_says_it_started_and_stopped_and_a_clean_stop_is_not_unexpected(
    tmp_path: Path,
) -> None:
    path = tmp_path / "config.toml"
    save_config(default_config(tmp_path / "data"), path)
    for _ in range(3):
        async with running_box(path, buses=False):
            pass
    db = await open_database(tmp_path / "data" / DATABASE_FILE)
    try:
        page = await AlarmsRepo(db).page(AlarmFilter())
    finally:
        await db.close()
    kinds = {a.type: a for a in page.alarms}
    assert AlarmType.UNEXPECTED_STOP not in kinds
    assert kinds[AlarmType.BOX_STARTED].count == 3  # one row: a momentary event repeated
    assert kinds[AlarmType.BOX_STOPPED].count == 3
    beat = Heartbeat.loads((tmp_path / "data" / HEARTBEAT_FILE).read_text())
    assert beat is not None and beat.clean


async def test_the_recorder_falling_behind_is_raised_and_cleared(
    db: Database, tmp_path: Path
) -> None:
    """QueueBehind covers it: the recorder's lossless subscription past its high-water mark."""
    box = Box(db, tmp_path, Clock(T0), SITE)
    recorder = Recorder(box.hub, AggregatesRepo(db), supervisor=Supervisor(box.hub))
    await box.engine.start()
    await recorder.start()
    try:
        for n in range(10_001):  # published faster than anything reads: one loop turn
            box.hub.publish(Sample(99, T0 + n, {"v1": 230.0}))
        seen: dict[str, list[str]] = {}
        async with asyncio.timeout(30):
            while seen.get("recorder") != ["raised", "cleared"]:
                t = await box.next()
                if t.alarm.type is AlarmType.QUEUE_BEHIND:
                    seen.setdefault(t.alarm.subject.name, []).append(t.kind.value)
        (alarm,) = [
            a for a in (await box.engine.page(AlarmFilter())).alarms if a.subject.name == "recorder"
        ]
        assert alarm.label == "Recording falling behind" and alarm.value == "10001"
    finally:
        await recorder.stop()
        await box.engine.stop()
