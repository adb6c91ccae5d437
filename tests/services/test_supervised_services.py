"""Each service's loop raises once: it is restarted, and nothing it should have recorded is lost.

The faults are real ones a bug would raise (a sample whose values cannot be read, a clock or
a settings read that fails once) on the real services, store and Hub; the Supervisor restarts
the loops without backoff.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import socket
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from ews_tui.cli.sim import load_site
from ews_tui.config import Config, CsvSettings, default_config, save_config
from ews_tui.config.model import HostPort, ModbusTcpServerSettings, Rs485Settings
from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.events import (
    DeviceState,
    DeviceStateChanged,
    EventDropped,
    InstallationChanged,
    Sample,
    SettingsChanged,
    TaskFailed,
)
from ews_tui.domain.installation import Gateway, Installation
from ews_tui.hub import Hub, Subscription
from ews_tui.services.box import running_box
from ews_tui.services.csv_folders import CsvFolders
from ews_tui.services.live import LiveValues
from ews_tui.services.modbus_server import ModbusServerService
from ews_tui.services.polling import PollingService
from ews_tui.services.recorder import Recorder
from ews_tui.store.aggregates_repo import AggregatesRepo
from ews_tui.store.db import Database
from ews_tui.supervision import RestartPolicy, Supervisor

T0 = 1_730_000_400.0  # on a 10-minute tick
QUICK = RestartPolicy(backoff_start_s=0.0, healthy_after_s=3600.0)
SITE = load_site("demo")


class Flaky(Mapping[str, float | str | None]):
    """Sample values that raise the first ``fails`` times they are read (a bug's KeyError)."""

    def __init__(self, values: dict[str, float | str | None], fails: int = 1) -> None:
        self._values = values
        self.fails = fails

    def _check(self) -> None:
        if self.fails:
            self.fails -= 1
            raise KeyError("flaky")

    def __getitem__(self, key: str) -> float | str | None:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        self._check()
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def items(self) -> Any:
        self._check()
        return self._values.items()


class FailsOnce:
    """``value()`` that raises on call number ``at`` only."""

    def __init__(self, value: Callable[[], Any], at: int) -> None:
        self.value, self.at, self.calls = value, at, 0

    def __call__(self) -> Any:
        self.calls += 1
        if self.calls == self.at:
            raise RuntimeError("read failed once")
        return self.value()


@pytest.fixture
def hub() -> Hub:
    return Hub()


@pytest.fixture
def failures(hub: Hub) -> Subscription:
    return hub.subscribe(TaskFailed, EventDropped, lossless=True, name="failures")


async def crash_of(failures: Subscription, task: str) -> TaskFailed:
    event = await asyncio.wait_for(failures.get(), 5)
    assert isinstance(event, TaskFailed) and event.task == task, event
    return event


async def until(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not check():
            await asyncio.sleep(0)


def queued(hub: Hub, name: str) -> int:
    return next(s.queued for s in hub.stats() if s.name == name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the recorder ------------------------------------------------------------------------


async def measures_count(db: Database) -> int:
    rows = await AggregatesRepo(db).measures(0, 2**40, [1, 2])
    return sum(stats[0].count for _d, _s, stats in rows)


async def test_recorder_crashing_on_a_sample_retries_it_and_loses_nothing(
    db: Database, hub: Hub, failures: Subscription
) -> None:
    supervisor = Supervisor(hub, QUICK)
    recorder = Recorder(hub, AggregatesRepo(db), clock=lambda: T0, supervisor=supervisor)
    await recorder.start()
    for n in range(50):
        hub.publish(Sample(1, T0 + n, {"p": float(n)}))
    hub.publish(Sample(2, T0 + 50, Flaky({"p": 50.0})))
    for n in range(51, 100):
        hub.publish(Sample(1, T0 + n, {"p": float(n)}))
    assert await crash_of(failures, "recorder") == TaskFailed("recorder", "KeyError: 'flaky'")
    await until(lambda: queued(hub, "recorder") == 0)  # read by the restarted loop
    await recorder.stop()
    assert await measures_count(db) == 100  # the flaky one retried, none lost
    assert len(failures) == 0


async def test_recorder_drops_a_sample_that_crashes_it_twice_and_says_so(
    db: Database, hub: Hub, failures: Subscription
) -> None:
    supervisor = Supervisor(hub, QUICK)
    recorder = Recorder(hub, AggregatesRepo(db), clock=lambda: T0, supervisor=supervisor)
    await recorder.start()
    hub.publish(Sample(1, T0, {"p": 1.0}))
    hub.publish(Sample(2, T0 + 1, Flaky({"p": 2.0}, fails=2)))
    hub.publish(Sample(1, T0 + 2, {"p": 3.0}))
    await crash_of(failures, "recorder")
    await crash_of(failures, "recorder")
    assert await asyncio.wait_for(failures.get(), 5) == EventDropped("recorder", "Sample")
    stats = {s.name: s for s in hub.stats()}
    assert stats["recorder"].dropped == 1  # shown where every queue's figures are
    await recorder.stop()
    assert await measures_count(db) == 2


async def test_recorder_whose_clock_fails_once_goes_on_writing(
    db: Database, hub: Hub, failures: Subscription
) -> None:
    supervisor = Supervisor(hub, QUICK)
    now = [T0]
    clock = FailsOnce(lambda: now[0], at=4)  # load, retention, first wait: then the loop
    recorder = Recorder(hub, AggregatesRepo(db), clock=clock, supervisor=supervisor)
    await recorder.start()
    for n in range(20):
        hub.publish(Sample(1, T0 + n * 60, {"p": float(n)}))
    await crash_of(failures, "recorder")
    now[0] = T0 + 1200 + 16  # both slots passed
    written = asyncio.ensure_future(recorder.flushed.wait())
    hub.publish(Sample(1, T0 + 1200 + 16, {"p": 20.0}))
    await asyncio.wait_for(written, 5)
    assert await measures_count(db) == 20  # written by the restarted loop, not at stop
    await recorder.stop()
    assert await measures_count(db) == 21


# -- live values -----------------------------------------------------------------------------


async def test_live_values_crashing_on_an_event_is_restarted_and_shows_what_followed(
    hub: Hub, failures: Subscription
) -> None:
    live = LiveValues(hub, supervisor=Supervisor(hub, QUICK))
    await live.start()
    try:
        hub.publish(Sample(1, T0, Flaky({"p": 1.0})))
        hub.publish(Sample(2, T0, {"p": 2.0}))
        hub.publish(DeviceStateChanged(3, DeviceState.COMM_ERROR, "no answer"))
        await crash_of(failures, "live")
        await until(lambda: live.device(3).state is DeviceState.COMM_ERROR)
        assert live.device(1).value("p") == 1.0  # retried
        assert live.device(2).value("p") == 2.0
    finally:
        await live.stop()


# -- the CSV folders -----------------------------------------------------------------------


async def test_csv_events_log_crashing_once_writes_every_line(
    db: Database, hub: Hub, failures: Subscription, tmp_path: Path
) -> None:
    config = dataclasses.replace(
        default_config(tmp_path), csv=dataclasses.replace(CsvSettings(), refresh_minutes=0)
    )
    installation = FailsOnce(lambda: SITE, at=2)  # the second line's name lookup
    folders = CsvFolders(
        db,
        hub,
        config=lambda: config,
        installation=installation,
        catalog=builtin_catalog,
        clock=lambda: T0,
        supervisor=Supervisor(hub, QUICK),
    )
    await folders.start()
    ids = [d.id for d in SITE.devices][:5]
    for device_id in ids:
        hub.publish(DeviceStateChanged(device_id, DeviceState.COMM_ERROR, "no answer"))
    await crash_of(failures, "csv-events")
    await until(lambda: queued(hub, "csv-events") == 0)  # read by the restarted loop
    await folders.stop()
    (path,) = (config.csv_folder / "events").glob("*.csv")
    with path.open(encoding="utf-8", newline="") as stream:
        logged = [int(row["id"]) for row in csv.DictReader(stream)]
    assert logged == ids


async def test_csv_events_kept_within_a_bound_while_the_disk_refuses_them(
    db: Database, hub: Hub, failures: Subscription, tmp_path: Path
) -> None:
    """A log that cannot be written keeps at most its bound of rows in memory (the oldest
    go); once it can be written, a row says how many were let go, then the rest follow."""
    config = dataclasses.replace(
        default_config(tmp_path), csv=dataclasses.replace(CsvSettings(), refresh_minutes=0)
    )
    events = config.csv_folder / "events"
    events.parent.mkdir(parents=True)
    events.write_text("a file where the folder goes: every append fails")
    folders = CsvFolders(
        db,
        hub,
        config=lambda: config,
        installation=lambda: SITE,
        catalog=builtin_catalog,
        clock=lambda: T0,
        supervisor=Supervisor(hub, QUICK),
        max_pending_rows=10,
    )
    await folders.start()
    device_id = SITE.devices[0].id
    for n in range(25):
        hub.publish(DeviceStateChanged(device_id, DeviceState.COMM_ERROR, f"change {n}"))
    failed = await crash_of(failures, "csv-events")  # shown, not only logged
    assert "events" in failed.error
    await until(lambda: queued(hub, "csv-events") == 0)
    events.unlink()
    hub.publish(DeviceStateChanged(device_id, DeviceState.ON, "back"))
    await until(lambda: events.is_dir() and any(events.glob("*.csv")))
    await folders.stop()
    (path,) = events.glob("*.csv")
    with path.open(encoding="utf-8", newline="") as stream:
        logged = list(csv.DictReader(stream))
    assert logged[0]["kind"] == "box" and logged[0]["state"] == "lost"
    lost = int(logged[0]["detail"].split()[0])
    details = [row["detail"] for row in logged[1:]]
    assert lost + len(details) == 26 and len(details) <= 11
    assert details == [f"change {n}" for n in range(lost, 25)] + ["back"]


async def test_csv_daily_job_crashing_once_is_restarted(
    db: Database, hub: Hub, failures: Subscription, tmp_path: Path
) -> None:
    config = default_config(tmp_path)
    reads = FailsOnce(lambda: config, at=1)
    folders = CsvFolders(
        db,
        hub,
        config=reads,
        installation=lambda: SITE,
        catalog=builtin_catalog,
        clock=lambda: T0,
        supervisor=Supervisor(hub, QUICK),
    )
    await folders.start()
    try:
        await crash_of(failures, "csv-folders")
        await until(lambda: (config.csv_folder / "energy").is_dir())
    finally:
        await folders.stop()


# -- the polling and Modbus TCP server listeners --------------------------------------------


async def test_polling_listener_crashing_on_a_change_retries_it(
    hub: Hub, failures: Subscription
) -> None:
    site = Installation(gateways=(Gateway(1, "Local", "127.0.0.1", enabled=False),))
    config = Config(rs485=Rs485Settings(enabled=False))
    current = [site]
    installation = FailsOnce(lambda: current[0], at=2)  # start reads it once, then the change
    polling = PollingService(
        hub,
        config=lambda: config,
        installation=installation,
        catalog=builtin_catalog,
        supervisor=Supervisor(hub, QUICK),
    )
    await polling.start()
    try:
        current[0] = Installation(
            gateways=(*site.gateways, Gateway(2, "Gateway 2", "127.0.0.1", free_port()))
        )
        hub.publish(InstallationChanged(2))
        await crash_of(failures, "polling")
        await until(lambda: set(polling.pollers) == {2})
    finally:
        await polling.stop()


async def test_modbus_server_listener_crashing_on_a_change_retries_it(
    hub: Hub, failures: Subscription
) -> None:
    off = Config()
    on = dataclasses.replace(
        off,
        modbus_tcp_server=ModbusTcpServerSettings(
            enabled=True, listen=HostPort("127.0.0.1", free_port())
        ),
    )
    current = [off]
    reads = FailsOnce(lambda: current[0], at=2)
    supervisor = Supervisor(hub, QUICK)
    polling = PollingService(
        hub,
        config=lambda: off,
        installation=Installation,
        catalog=builtin_catalog,
        supervisor=supervisor,
    )
    server = ModbusServerService(hub, reads, polling, supervisor=supervisor)
    await server.start()
    try:
        current[0] = on
        hub.publish(SettingsChanged("modbus_tcp_server"))
        await crash_of(failures, "modbus-tcp-server")
        await until(lambda: server.server is not None)
    finally:
        await server.stop()


# -- the box -------------------------------------------------------------------------------


async def test_every_loop_of_the_box_is_supervised_by_its_runtime(tmp_path: Path) -> None:
    config = default_config(tmp_path / "data")
    config = dataclasses.replace(config, rs485=Rs485Settings(enabled=False))
    path = tmp_path / "config.toml"
    save_config(config, path)
    async with running_box(path, config) as rt:
        names = {h.name for h in rt.supervisor.health()}
    assert {
        "live",
        "recorder",
        "csv-events",
        "csv-folders",
        "polling",
        "modbus-tcp-server",
        "hub-stats",
    } <= names
