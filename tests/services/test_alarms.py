"""The alarm engine on a real store and Hub: raise and clear from events, flapping written as
one row, acknowledgement and its refusal, restart and re-check, retention, the events CSV,
the transaction hook (the mail outbox's seam), and a failing store that loses nothing."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiosqlite
import pytest

from ews_tui.cli.sim import load_site
from ews_tui.config import Config, default_config
from ews_tui.config.model import RetentionSettings
from ews_tui.domain.alarm_notices import mail_event_type
from ews_tui.domain.alarm_sources import Threshold
from ews_tui.domain.alarms import AlarmChanged, AlarmError, AlarmType, Transition
from ews_tui.domain.auth import Role
from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.events import (
    DeviceState,
    DeviceStateChanged,
    InstallationChanged,
    MailQueued,
    Sample,
    ServiceFailed,
)
from ews_tui.domain.installation import Installation
from ews_tui.domain.notifications import NotificationSettings, Recipient
from ews_tui.hub import Hub, Subscription
from ews_tui.services.alarms import SYNC_S, AlarmEngine
from ews_tui.services.mailer import alarm_mail_hook
from ews_tui.store.alarms_repo import AlarmFilter
from ews_tui.store.db import Database
from ews_tui.store.notification_settings_repo import write_settings
from ews_tui.supervision import Supervisor
from tests.services.set_clock import Clock

DEMO = load_site("demo")
# The demo site where the main meter alone counts in the site's total (the others are
# "Exclude from totals"): a "site" threshold reads the devices the site's total counts.
SITE = DEMO.with_(
    devices=tuple(
        d if d.id == 1 else replace(d, advanced=replace(d.advanced, exclude_from_totals=True))
        for d in DEMO.devices
    )
)
T0 = 1_735_689_600.0  # 2025-01-01T00:00Z


class Box:
    """An engine on ``db`` with a clock, and a subscription to what it publishes."""

    def __init__(self, db: Database, tmp_path: Path, clock: Clock, site: Installation) -> None:
        self.hub = Hub()
        self.clock = clock
        self.site = site
        self.config: Config = default_config(tmp_path)
        self.changes: Subscription = self.hub.subscribe(AlarmChanged, lossless=True, name="t")
        self.engine = AlarmEngine(
            db,
            self.hub,
            installation=lambda: self.site,
            catalog=builtin_catalog,
            config=lambda: self.config,
            clock=clock,
            supervisor=Supervisor(self.hub),
            recheck_s=60.0,
        )

    async def next(self) -> Transition:
        event = await asyncio.wait_for(self.changes.get(), 10.0)
        assert isinstance(event, AlarmChanged)
        return event.transition

    async def seen(self, count: int) -> list[tuple[str, str, int]]:
        out = []
        for _ in range(count):
            t = await self.next()
            out.append((t.kind.value, t.alarm.type.value, t.alarm.id))
        return out


@pytest.fixture
async def box(db: Database, tmp_path: Path) -> AsyncIterator[Box]:
    made = Box(db, tmp_path, Clock(T0), SITE)
    await made.engine.start()
    yield made
    await made.engine.stop()


COMM = DeviceStateChanged(1, DeviceState.COMM_ERROR, "no answer")
ON = DeviceStateChanged(1, DeviceState.ON)


async def test_raise_and_clear_from_device_states(box: Box) -> None:
    box.hub.publish(COMM)
    assert await box.seen(1) == [("raised", "device.comm_error", 1)]
    assert box.engine.counts.unacknowledged == 1
    box.clock.now += 30
    box.hub.publish(ON)
    assert await box.seen(1) == [("cleared", "device.comm_error", 1)]
    assert box.engine.counts.active == 0
    page = await box.engine.page(AlarmFilter())
    alarm = page.alarms[0]
    assert (alarm.raised_at, alarm.cleared_at, alarm.subject.name) == (T0, T0 + 30, "Main meter")
    assert alarm.detail == "no answer" and alarm.value == "comm_error"


async def test_flapping_is_one_row_with_a_count(box: Box) -> None:
    for _ in range(50):
        box.hub.publish(COMM)
        box.hub.publish(ON)
        box.clock.now += 1
    await box.seen(100)
    page = await box.engine.page(AlarmFilter())
    assert page.total == 1 and page.alarms[0].count == 50 and not page.alarms[0].active


async def test_acknowledge_and_consultation_refused(box: Box) -> None:
    box.hub.publish(COMM)
    box.hub.publish(DeviceStateChanged(2, DeviceState.COMM_ERROR))
    await box.seen(2)
    with pytest.raises(AlarmError):
        await box.engine.acknowledge([1], Role.CONSULTATION, "ssh:guest")
    assert await box.engine.acknowledge([1], Role.SYSTEM, "ssh:alice") == 1
    assert await box.engine.acknowledge([1], Role.SYSTEM, "ssh:alice") == 0  # already
    ack = await box.next()
    assert ack.kind.value == "acknowledged" and ack.alarm.ack is not None
    assert (ack.alarm.ack.role, ack.alarm.ack.session) == ("system", "ssh:alice")
    assert box.engine.counts.unacknowledged == 1 and box.engine.counts.active == 2
    assert await box.engine.acknowledge(None, Role.SERVER, "console") == 1
    assert box.engine.counts.unacknowledged == 0


async def test_an_acknowledged_and_cleared_alarm_raised_again_is_a_new_row(box: Box) -> None:
    box.hub.publish(COMM)
    await box.seen(1)
    await box.engine.acknowledge([1], Role.SYSTEM, "t")
    box.hub.publish(ON)
    box.hub.publish(COMM)
    assert await box.seen(3) == [
        ("acknowledged", "device.comm_error", 1),
        ("cleared", "device.comm_error", 1),
        ("raised", "device.comm_error", 2),
    ]


async def test_events_csv_has_raise_clear_and_ack(box: Box, tmp_path: Path) -> None:
    box.hub.publish(COMM)
    await box.seen(1)
    await box.engine.acknowledge([1], Role.SYSTEM, "ssh:alice")
    box.hub.publish(ON)
    await box.seen(2)
    path = tmp_path / "csv" / "events" / "2025-01-01.csv"
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows[0] == ["timestamp", "kind", "id", "name", "state", "detail"]
    assert [(r[1], r[2], r[3], r[4]) for r in rows[1:]] == [
        ("alarm", "1", "Main meter", "raised"),
        ("alarm", "1", "Main meter", "acknowledged"),
        ("alarm", "1", "Main meter", "cleared"),
    ]
    assert rows[1][5].startswith("device.comm_error; major")
    assert "by system ssh:alice" in rows[2][5]


async def test_restart_keeps_active_alarms_and_rechecks_them(db: Database, tmp_path: Path) -> None:
    clock = Clock(T0)
    first = Box(db, tmp_path, clock, SITE)
    await first.engine.start()
    first.hub.publish(COMM)
    first.hub.publish(DeviceStateChanged(2, DeviceState.COMM_ERROR))
    first.hub.publish(DeviceStateChanged(5, DeviceState.COMM_ERROR))
    first.hub.publish(ServiceFailed("recorder", "OSError", 5))
    await first.seen(4)
    await first.engine.stop()

    clock.now += 600
    second = Box(db, tmp_path, clock, SITE)
    await second.engine.start()
    try:
        # The previous run's service alarm is cleared at once; the devices' are still active.
        assert await second.seen(1) == [("cleared", "system.service_failed", 4)]
        assert second.engine.counts.active == 3
        second.hub.publish(ON)  # device 1 answers: cleared
        second.hub.publish(DeviceStateChanged(2, DeviceState.COMM_ERROR))  # seen again: kept
        assert await second.seen(1) == [("cleared", "device.comm_error", 1)]
        clock.now += 61  # device 5 was never seen again
        second.hub.publish(Sample(3, clock.now, {}))
        assert await second.seen(1) == [("cleared", "device.comm_error", 3)]
        active = await second.engine.page(AlarmFilter(state="active"))
        assert [a.subject.id for a in active.alarms] == [2]
        # New ids follow the stored ones.
        second.hub.publish(DeviceStateChanged(7, DeviceState.COMM_ERROR))
        assert await second.seen(1) == [("raised", "device.comm_error", 5)]
    finally:
        await second.engine.stop()


async def test_a_deleted_device_clears_its_alarms(box: Box) -> None:
    box.hub.publish(DeviceStateChanged(15, DeviceState.COMM_ERROR))
    await box.seen(1)
    box.site = SITE.with_(devices=tuple(d for d in SITE.devices if d.id != 15))
    box.hub.publish(InstallationChanged(2))
    transition = await box.next()
    assert transition.kind.value == "cleared" and transition.alarm.subject.id == 15


async def test_threshold_on_site_power(box: Box) -> None:
    limit = Threshold(0, "Site power", "site", None, "p", ">", 50.0, 5.0, 10.0)
    await box.engine.save_threshold(limit)
    box.hub.publish(Sample(1, T0, {"p": 60.0}))
    box.clock.now += 10
    box.hub.publish(Sample(1, T0 + 10, {"p": 61.0}))
    transition = await box.next()
    assert transition.alarm.type is AlarmType.THRESHOLD and transition.alarm.value == "61"
    assert transition.alarm.subject.kind == "site"


async def test_transaction_hook_runs_in_the_same_transaction(box: Box, db: Database) -> None:
    seen: list[int] = []

    async def queue(conn: aiosqlite.Connection, transitions: tuple[Transition, ...]) -> None:
        rows = await conn.execute_fetchall("SELECT count(*) FROM alarms")
        seen.append(int(next(iter(rows))[0]))  # the alarm is there, not yet committed

    box.engine.add_transaction_hook(queue)
    box.hub.publish(COMM)
    await box.seen(1)
    assert seen == [1]

    async def refuse(conn: aiosqlite.Connection, transitions: tuple[Transition, ...]) -> None:
        raise RuntimeError("outbox full")

    # A hook that fails rolls the alarm back with it; the batch is kept and written later.
    box.engine.add_transaction_hook(refuse)
    box.hub.publish(ON)
    for _ in range(100):
        await asyncio.sleep(0)
    assert (await box.engine.page(AlarmFilter(state="active"))).total == 1
    box.engine._hooks.remove(refuse)
    box.hub.publish(Sample(3, box.clock.now, {}))
    assert (await box.seen(1))[0][0] == "cleared"


async def test_retention_deletes_old_cleared_alarms(box: Box) -> None:
    box.hub.publish(COMM)
    box.hub.publish(DeviceStateChanged(2, DeviceState.COMM_ERROR))
    box.hub.publish(ON)
    await box.seen(3)
    box.config = dataclasses.replace(box.config, retention=RetentionSettings(alarms_days=1))
    box.clock.now += 2 * 86400
    await box.engine._purge(box.clock.now)
    page = await box.engine.page(AlarmFilter())
    assert [a.subject.id for a in page.alarms] == [2]  # active ones are always kept


async def test_a_threshold_written_by_another_process_is_read_back(box: Box) -> None:
    limit = Threshold(0, "Site power", "site", None, "p", ">", 50.0)
    await box.engine.repo.save_threshold(limit)  # as ``ews alarms threshold set`` does
    box.clock.now += SYNC_S
    box.hub.publish(Sample(3, box.clock.now, {}))  # a turn of the loop: the sync is due
    await watching(box, 1)
    box.hub.publish(Sample(1, box.clock.now, {"p": 60.0}))
    box.clock.now += 1
    box.hub.publish(Sample(1, box.clock.now, {"p": 61.0}))
    transition = await box.next()
    assert transition.alarm.type is AlarmType.THRESHOLD and transition.alarm.subject.name == (
        "Site power"
    )
    await box.engine.repo.delete_threshold(1)
    box.clock.now += SYNC_S
    box.hub.publish(Sample(3, box.clock.now, {}))
    await watching(box, 0)
    box.hub.publish(Sample(3, box.clock.now, {}))  # the clear found at the sync is written
    assert (await box.next()).kind.value == "cleared"


async def watching(box: Box, count: int) -> None:
    """Until the engine's next turn has read back ``count`` thresholds from the store."""
    sources = box.engine._sources
    assert sources is not None
    async with asyncio.timeout(10):
        while len(sources.thresholds) != count:
            await asyncio.sleep(0.001)


async def test_a_threshold_deleted_while_the_box_was_off_clears_its_alarm(
    db: Database, tmp_path: Path
) -> None:
    clock = Clock(T0)
    first = Box(db, tmp_path, clock, SITE)
    await first.engine.start()
    await first.engine.save_threshold(Threshold(0, "Site power", "site", None, "p", ">", 50.0))
    first.hub.publish(Sample(1, T0, {"p": 60.0}))
    assert (await first.next()).kind.value == "raised"
    await first.engine.stop()
    await first.engine.repo.delete_threshold(1)
    second = Box(db, tmp_path, clock, SITE)
    await second.engine.start()
    try:
        transition = await second.next()
        assert transition.kind.value == "cleared"
        assert transition.alarm.detail == "threshold deleted or switched off"
    finally:
        await second.engine.stop()


async def test_alarms_queue_their_mail_in_their_own_transaction(box: Box, db: Database) -> None:
    """The box's wiring (services/box.py): the outbox hook on the engine. A recipient of
    device errors gets the raise and the clear; the mailer is woken after each."""
    settings = NotificationSettings(recipients=(Recipient("tech@example.com", "fr"),))
    async with db.transaction() as conn:
        await write_settings(conn, settings)
    woken = box.hub.subscribe(MailQueued, maxsize=10, name="mailer-wake")
    box.engine.add_transaction_hook(alarm_mail_hook(box.hub))
    box.hub.publish(COMM)
    await box.seen(1)
    box.clock.now += 30
    box.hub.publish(ON)
    await box.seen(1)
    rows = await db.fetchall("SELECT event_type, severity, label, kind FROM outbox_notices")
    assert [tuple(r) for r in rows] == [
        ("device.comm_error", "critical", "Main meter", "raised"),  # a major alarm
        ("device.comm_error", "critical", "Main meter", "cleared"),
    ]
    await asyncio.sleep(0)  # the wake-up is published at the loop's next turn
    assert len(woken) == 2


def test_the_mailers_own_trouble_is_an_alarm_never_a_mail() -> None:
    assert mail_event_type("system.mail") == "system.mail"  # enqueue skips it
    assert mail_event_type("system.service_failed") == "system"
    assert mail_event_type("en50160.week_ko") == "en50160.week_ko"
