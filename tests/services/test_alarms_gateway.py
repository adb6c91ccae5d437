"""A dead gateway is one alarm, not one per device: a real TCP simulator serving two of the
Parking gateway's devices, a real bus poller, the alarm engine on a real store with the mail
outbox hook. The simulator goes away: the gateway's alarm alone is active and queued for
mail; it comes back with one device still missing: that one is raised on its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ews_tui.domain.alarm_sources import REGROUP_S, STILL_SILENT
from ews_tui.domain.alarms import AlarmType
from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.notifications import NotificationSettings, Recipient
from ews_tui.i18n import use_language
from ews_tui.modbus.device_reader import DeviceTarget
from ews_tui.modbus.planner import BusParams
from ews_tui.modbus.poller import BusPoller, PollSettings
from ews_tui.modbus.transport import BusTransport, TcpEndpoint
from ews_tui.services.mailer import alarm_mail_hook
from ews_tui.sim.server import DeviceSpec, SimulatedBus
from ews_tui.store.alarms_repo import AlarmFilter
from ews_tui.store.db import Database
from ews_tui.store.notification_settings_repo import write_settings
from ews_tui.store.outbox_repo import OutboxRepo
from ews_tui.ui.alarm_text import detail_text
from tests.services.set_clock import Clock
from tests.services.test_alarms import SITE, T0, Box

EMDX3 = builtin_catalog().maps["emdx3_common"]
FAST = PollSettings(
    fast_s=0.05,
    slow_s=0.3,
    retries=1,
    backoff_start_s=0.05,
    backoff_max_s=0.2,
    reconnect_start_s=0.05,
    reconnect_max_s=0.2,
)
PARKING = 2
CHARGER_A, PARKING_RCD = 9, 12  # served at addresses 1 and 3


@pytest.fixture
async def box(db: Database, tmp_path: Path) -> AsyncIterator[Box]:
    made = Box(db, tmp_path, Clock(T0), SITE)
    made.engine.add_transaction_hook(alarm_mail_hook(made.hub))
    async with db.transaction() as conn:
        await write_settings(conn, NotificationSettings(recipients=(Recipient("fm@site.test"),)))
    await made.engine.start()
    yield made
    await made.engine.stop()


async def active(box: Box) -> list[tuple[AlarmType, str]]:
    page = await box.engine.page(AlarmFilter(state="active"), 0, 100)
    return sorted((a.type, a.subject.name) for a in page.alarms)


async def until(box: Box, wanted: list[tuple[AlarmType, str]]) -> None:
    async with asyncio.timeout(20):
        while await active(box) != wanted:
            await box.next()


async def test_a_dead_gateway_is_one_alarm_and_one_notice(box: Box, db: Database) -> None:
    served = [DeviceSpec(1, "0 146 68"), DeviceSpec(3, "0 146 68")]
    targets = [
        DeviceTarget(CHARGER_A, 1, EMDX3, "test", EMDX3.provenance),
        DeviceTarget(PARKING_RCD, 3, EMDX3, "test", EMDX3.provenance),
    ]
    async with SimulatedBus() as sim:
        endpoint = await sim.serve_tcp("127.0.0.1", 0, served)
        port = endpoint.port
        assert port is not None
        transport = BusTransport(TcpEndpoint("127.0.0.1", port, 0.1))
        poller = BusPoller(PARKING, transport, box.hub, targets, bus=BusParams(transport="tcp"),
                           settings=FAST)  # fmt: skip
        await poller.start()
        try:
            async with asyncio.timeout(20):
                while box.engine.changes_seen < 4:  # both devices ON (two clears each)
                    await asyncio.sleep(0.01)
            await endpoint.close()
            await until(box, [(AlarmType.GATEWAY_COMM_ERROR, "Parking")])
            for _ in range(20):  # the devices' own errors come right after: still one alarm
                await asyncio.sleep(0.01)
            assert await active(box) == [(AlarmType.GATEWAY_COMM_ERROR, "Parking")]
            page = await box.engine.page(AlarmFilter(type=AlarmType.DEVICE_COMM_ERROR))
            assert page.total == 0  # not one row per device
            waiting = await OutboxRepo(db).waiting(300.0, T0)
            assert [[n.event_type for _i, n in w.notices] for w in waiting] == [
                ["gateway.comm_error"]
            ]
            assert "grouped under this alarm" in await gateway_alarm_text(box)

            # Back, with the RCD still missing: Charger A answers, the RCD is raised alone
            # once REGROUP_S passed on the engine's clock.
            await sim.serve_tcp("127.0.0.1", port, served[:1])
            await until(box, [])
            box.clock.now += REGROUP_S
            await until(box, [(AlarmType.DEVICE_COMM_ERROR, "Parking RCD")])
            (rcd,) = (await box.engine.page(AlarmFilter(state="active"))).alarms
            assert rcd.detail == STILL_SILENT and rcd.subject.id == PARKING_RCD
        finally:
            await poller.stop()


async def gateway_alarm_text(box: Box) -> str:
    """The Alarms screen's detail lines of the gateway's alarm, in English."""
    page = await box.engine.page(AlarmFilter(type=AlarmType.GATEWAY_COMM_ERROR))
    with use_language("en"):
        return detail_text(page.alarms[0], ZoneInfo("Europe/Paris"))
