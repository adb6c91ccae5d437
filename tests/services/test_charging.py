"""Charging sessions recorded from a simulated two-sided Green'Up over Modbus TCP on loopback:
a real bus poller reads the simulator (pymodbus), the service tells the sessions from its
samples, stores them and appends them to the CSV folder. The simulator's clock is moved by
hand from one moment of a car's visit to the next; each step waits for the poller's samples
that show it (no sleeps)."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from ews_tui.config import Config, default_config
from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.charging import ChargerState, ChargingSession
from ews_tui.domain.events import InstallationChanged, Sample
from ews_tui.domain.installation import Device, Gateway, Installation
from ews_tui.hub import Hub, Subscription
from ews_tui.modbus.device_reader import device_target
from ews_tui.modbus.planner import BusParams
from ews_tui.modbus.poller import BusPoller, PollSettings
from ews_tui.modbus.transport import BusTransport, TcpEndpoint
from ews_tui.services.charging import CSV_HEADER, ChargingService
from ews_tui.sim.server import DeviceSpec, Endpoint
from ews_tui.store.db import Database
from tests.sim.fixtures import *  # noqa: F403
from tests.sim.fixtures import FIXED_NOW, HOST, SimClock

CATALOG = builtin_catalog()
SIDES = (
    Device(1, 1, "0 590 32", 5, name="Bay 1", side=1),
    Device(2, 1, "0 590 32", 5, name="Bay 2", side=2),
)
INSTALLATION = Installation((Gateway(1, "Car park", HOST),), devices=SIDES)
FAST = PollSettings(fast_s=0.02, slow_s=0.05, backoff_start_s=0.05, reconnect_start_s=0.05)
MIDNIGHT = FIXED_NOW - 11 * 3600


def a_visit(endpoint: Endpoint, side: int) -> dict[str, float]:
    """Moments of the simulator's first whole car visit on ``side``: before it, charging,
    done (the car still plugged), after it; and the session energy at its end."""
    moments: dict[str, float] = {}
    scan = SimClock(MIDNIGHT)
    endpoint.bus.clock = scan
    while scan.now < MIDNIGHT + 10 * 86400:
        t = scan.now
        values = endpoint.values(5, side)
        state = values["charger"]
        if state == "available" and "charging" not in moments:
            moments["before"] = t
        elif state == "charging" and "before" in moments:
            moments.setdefault("charging", t)
        elif state == "connected" and "charging" in moments:
            moments["done"] = t
            moments["energy"] = float(values["session_energy"] or 0.0)
        elif state == "available" and "done" in moments:
            moments["after"] = t
            return moments
        scan.advance(60.0)
    raise AssertionError("no whole visit in ten days")


@pytest.fixture
async def service(db: Database, tmp_path: Path) -> AsyncIterator[tuple[ChargingService, Hub]]:
    hub = Hub()
    config: Config = default_config(tmp_path / "data")
    charging = ChargingService(
        db,
        hub,
        installation=lambda: INSTALLATION,
        catalog=lambda: CATALOG,
        config=lambda: config,
    )
    await charging.start()
    yield charging, hub
    await charging.stop()


async def shows(sub: Subscription, device_id: int, state: str, energy: float) -> None:
    """Wait for the poller's samples of ``device_id`` showing ``state`` and ``energy``."""
    seen_state = seen_energy = False
    async with asyncio.timeout(10.0):
        while not (seen_state and seen_energy):
            event = await sub.get()
            if not isinstance(event, Sample) or event.device_id != device_id:
                continue
            if event.values.get("charger") == state:
                seen_state = True
            found = event.values.get("session_energy")
            if isinstance(found, float) and abs(found - energy) < 0.002:
                seen_energy = seen_state  # a slow read after the state: the service has both


async def test_a_car_visit_read_over_modbus_is_one_stored_session_and_a_csv_line(
    sim_bus, sim_clock: SimClock, sim_tcp, service, tmp_path: Path
) -> None:
    charging, hub = service
    endpoint = await sim_tcp([DeviceSpec(5, "0 590 32")])
    visit = a_visit(endpoint, 2)
    endpoint.bus.clock = sim_clock
    sim_clock.now = visit["before"]
    samples = hub.subscribe(Sample, lossless=True, name="test")
    transport = BusTransport(TcpEndpoint(HOST, endpoint.port or 0, 0.5))
    targets = [device_target(d, CATALOG) for d in SIDES]
    poller = BusPoller(1, transport, hub, targets, bus=BusParams(transport="tcp"), settings=FAST)
    await poller.start()
    try:
        await shows(samples, 2, "available", 0.0)
        sim_clock.now = visit["charging"]
        await shows(samples, 2, "charging", endpoint.values(5, 2)["session_energy"])  # type: ignore[arg-type]
        sim_clock.now = visit["done"]
        await shows(samples, 2, "connected", visit["energy"])
        sim_clock.now = visit["after"]
        await shows(samples, 2, "available", 0.0)
    finally:
        await poller.stop()
        samples.close()
    await charging.stop()  # drains what the poller published: every sample is handled

    (session,) = [s for s in await charging.recent() if s.device_id == 2]
    assert session.side == 2 and session.start is not None and session.end is not None
    assert session.start < session.end
    assert session.energy_kwh == pytest.approx(visit["energy"], abs=0.002)
    assert visit["energy"] > 0.5
    assert charging.track(2).session is None
    assert charging.track(2).state is ChargerState.AVAILABLE
    (day_file,) = (tmp_path / "data" / "csv" / "charging").glob("*.csv")
    rows = list(csv.reader(day_file.open(encoding="utf-8")))
    assert tuple(rows[0]) == CSV_HEADER
    (row,) = [r for r in rows[1:] if r[2] == "2"]
    assert row[3:5] == ["Bay 2", "2"] and float(row[5]) == pytest.approx(visit["energy"], 0.01)


async def test_a_session_going_on_survives_a_restart(db: Database, tmp_path: Path) -> None:
    hub = Hub()
    config = default_config(tmp_path / "data")

    def make() -> ChargingService:
        return ChargingService(
            db, hub, installation=lambda: INSTALLATION, catalog=lambda: CATALOG,
            config=lambda: config,
        )  # fmt: skip

    first = make()
    await first.start()
    hub.publish(Sample(1, 100.0, {"charger": "available"}))
    hub.publish(Sample(1, 200.0, {"charger": "charging", "session_energy": 1.0}))
    hub.publish(Sample(1, 300.0, {"charger": "fault", "session_energy": 2.5}))
    await first.stop()
    second = make()
    await second.start()
    track = second.track(1)
    assert track.last_fault == 300.0
    assert track.session is not None and (track.session.start, track.session.energy_kwh) == (
        200.0,
        2.5,
    )
    hub.publish(Sample(1, 400.0, {"charger": "available", "session_energy": 0.0}))
    await second.stop()
    (session,) = await second.recent()
    assert session == ChargingSession(1, 200.0, 400.0, 2.5, side=1, id=session.id)


async def test_day_files_older_than_keep_days_go_when_a_session_is_written(
    db: Database, tmp_path: Path
) -> None:
    base = default_config(tmp_path / "data")
    config = replace(base, csv=replace(base.csv, keep_days=2))
    folder = config.csv_folder / "charging"
    folder.mkdir(parents=True)
    (folder / "2026-02-28.csv").write_text("old\n")
    (folder / "notes.csv").write_text("not a day file: left alone\n")
    now = 1_772_452_800.0  # 2026-03-02 12:00 UTC
    hub = Hub()
    service = ChargingService(
        db, hub, installation=lambda: INSTALLATION, catalog=lambda: CATALOG,
        config=lambda: config, clock=lambda: now,
    )  # fmt: skip
    await service.start()
    hub.publish(Sample(1, now - 3600, {"charger": "available"}))
    hub.publish(Sample(1, now - 3000, {"charger": "charging", "session_energy": 1.25}))
    hub.publish(Sample(1, now, {"charger": "available"}))
    await service.stop()
    assert sorted(p.name for p in folder.iterdir()) == ["2026-03-02.csv", "notes.csv"]
    rows = list(csv.reader((folder / "2026-03-02.csv").open(encoding="utf-8")))
    assert rows[1] == [
        "2026-03-02T12:10:00+01:00", "2026-03-02T13:00:00+01:00", "1", "Bay 1", "1", "1.250"
    ]  # fmt: skip


@pytest.mark.parametrize("change", ["deleted", "switched OFF"])
async def test_a_point_that_goes_closes_its_session_at_its_last_sample(
    db: Database, tmp_path: Path, change: str
) -> None:
    hub = Hub()
    config = default_config(tmp_path / "data")
    current = [INSTALLATION]
    service = ChargingService(
        db, hub, installation=lambda: current[0], catalog=lambda: CATALOG,
        config=lambda: config, clock=lambda: 9_000.0,
    )  # fmt: skip
    await service.start()
    hub.publish(Sample(1, 100.0, {"charger": "available"}))
    hub.publish(Sample(1, 200.0, {"charger": "charging", "session_energy": 1.0}))
    hub.publish(Sample(1, 300.0, {"charger": "charging", "session_energy": 2.0}))
    hub.publish(Sample(2, 300.0, {"charger": "charging", "session_energy": 4.0}))
    async with asyncio.timeout(5):  # the samples handled while both points are there
        while service.track(2).session is None:
            await asyncio.sleep(0)
    bay_1 = SIDES[0] if change == "deleted" else replace(SIDES[0], enabled=False)
    current[0] = replace(
        INSTALLATION, devices=(SIDES[1],) if change == "deleted" else (bay_1, SIDES[1])
    )
    hub.publish(InstallationChanged(2))
    await service.stop()
    sessions = {s.device_id: s for s in await service.recent()}
    assert sessions[1].end == 300.0 and sessions[1].energy_kwh == 2.0  # its last sample
    assert service.track(1).session is None
    assert sessions[2].end is None  # the other side goes on
    (day_file,) = (tmp_path / "data" / "csv" / "charging").glob("*.csv")
    rows = list(csv.reader(day_file.open(encoding="utf-8")))
    assert [r[2:4] for r in rows[1:]] == [["1", "Bay 1"]]
