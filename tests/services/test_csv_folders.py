"""The box keeps its CSV folders: whole days once over, today's refreshed, events appended."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import os
import threading
from datetime import date
from pathlib import Path

import pytest

from ews_tui.cli.sim import load_site
from ews_tui.config import Config, CsvSettings, default_config, save_config
from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.events import (
    DeviceState,
    DeviceStateChanged,
    GatewayState,
    GatewayStateChanged,
    Sample,
)
from ews_tui.hub import Hub
from ews_tui.services.box import running_box
from ews_tui.services.csv_folders import MARK, CsvFolders
from ews_tui.services.recorder import Recorder
from ews_tui.store.aggregates_repo import AggregatesRepo
from ews_tui.store.db import Database
from tests.services.set_clock import Clock

SITE = load_site("demo")
DAY0 = 1_735_689_600.0  # 2025-01-01T00:00Z = 01:00 in Paris


def box_config(tmp_path: Path, **csv_settings: object) -> Config:
    config = default_config(tmp_path)
    return dataclasses.replace(config, csv=dataclasses.replace(CsvSettings(), **csv_settings))


async def record_days(db: Database, days: int) -> None:
    """Two hours of samples at the start of each of ``days`` UTC days (device 1)."""
    recorder = Recorder(None, AggregatesRepo(db))
    for day in range(days):
        for minute in range(0, 120, 10):
            ts = DAY0 + day * 86_400 + minute * 60
            recorder.ingest(Sample(1, ts, {"ea_import": 100 + day * 10 + minute / 60, "v1": 230}))
    await recorder.flush()


def folders(config: Config, clock: Clock, db: Database) -> CsvFolders:
    return CsvFolders(
        db,
        Hub(),
        config=lambda: config,
        installation=lambda: SITE,
        catalog=builtin_catalog,
        clock=clock,
    )


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


async def test_whole_days_are_written_once_over_and_today_refreshed(
    tmp_path: Path, db: Database
) -> None:
    await record_days(db, 3)
    config = box_config(tmp_path)
    clock = Clock(DAY0 + 2 * 86_400 + 3 * 3600)  # 2025-01-03 04:00 in Paris
    job = folders(config, clock, db)
    written = await job.write_days()
    root = config.csv_folder
    names = sorted(p.relative_to(root).as_posix() for p in written)
    assert names == [
        f"{kind}/2025-01-0{d}.csv" for kind in ("energy", "measures") for d in (1, 2, 3)
    ]
    assert (root / MARK).read_text().strip() == "2025-01-02"
    day1 = rows(root / "energy" / "2025-01-01.csv")
    assert day1[0]["timestamp"] == "2025-01-01T01:00:00+01:00"
    assert {r["device_id"] for r in day1} == {"1"}
    measures = rows(root / "measures" / "2025-01-02.csv")
    assert {r["quantity"] for r in measures} == {"v1"}
    assert all(r["mean"] == "230.0" for r in measures)

    # A turn later the same day: the whole days are not written again, today's file is.
    first_day = root / "energy" / "2025-01-01.csv"
    before = first_day.stat().st_mtime_ns
    clock.now += 3600
    again = await job.write_days()
    assert sorted(p.name for p in again) == ["2025-01-03.csv", "2025-01-03.csv"]
    assert first_day.stat().st_mtime_ns == before


async def test_a_new_day_is_written_after_the_grace_that_lets_the_recorder_finish(
    tmp_path: Path, db: Database
) -> None:
    await record_days(db, 2)
    config = box_config(tmp_path, refresh_minutes=0)
    paris_midnight = DAY0 + 86_400 - 3600  # 2025-01-02T00:00+01:00
    clock = Clock(paris_midnight + 30)
    job = folders(config, clock, db)
    # 30 s after midnight, 2025-01-01 is not settled yet: the recorder may still write it.
    assert await job.write_days() == []
    clock.now = paris_midnight + 300
    names = sorted(p.relative_to(config.csv_folder).as_posix() for p in await job.write_days())
    assert names == ["energy/2025-01-01.csv", "measures/2025-01-01.csv"]
    assert job._next_wake() == pytest.approx(86_400 - 300 + 120)


async def test_files_older_than_keep_days_go_and_others_stay(tmp_path: Path, db: Database) -> None:
    await record_days(db, 3)
    config = box_config(tmp_path, keep_days=2, refresh_minutes=0)
    root = config.csv_folder
    (root / "energy").mkdir(parents=True)
    stray = root / "energy" / "notes.csv"
    stray.write_text("kept\n")
    old = root / "energy" / "2024-06-01.csv"
    old.write_text("old\n")
    clock = Clock(DAY0 + 3 * 86_400 + 3600)  # 2025-01-04 02:00 in Paris
    written = await folders(config, clock, db).write_days()
    # keep_days=2: today and yesterday; yesterday is the only whole day due.
    assert sorted(p.name for p in written) == ["2025-01-03.csv", "2025-01-03.csv"]
    assert not old.exists() and stray.read_text() == "kept\n"
    assert date.fromisoformat((root / MARK).read_text().strip()) == date(2025, 1, 3)


async def test_state_changes_are_appended_to_the_events_file(tmp_path: Path, db: Database) -> None:
    config = box_config(tmp_path)
    clock = Clock(DAY0 + 600)
    job = folders(config, clock, db)
    device = SITE.devices[0]
    await job.append_event(DeviceStateChanged(device.id, DeviceState.COMM_ERROR, "no answer"))
    clock.now += 60
    gateway = SITE.gateways[-1]
    path = await job.append_event(GatewayStateChanged(gateway.id, GatewayState.OFF, ""))
    assert path == config.csv_folder / "events" / "2025-01-01.csv"
    lines = rows(path)
    assert [(r["kind"], r["name"], r["state"], r["detail"]) for r in lines] == [
        ("device", device.display_name(), DeviceState.COMM_ERROR.value, "no answer"),
        ("gateway", gateway.name, GatewayState.OFF.value, ""),
    ]
    assert lines[0]["timestamp"] == "2025-01-01T01:10:00+01:00"


async def test_the_events_file_is_written_off_the_loop(tmp_path: Path, db: Database) -> None:
    # The events file is a FIFO: opening it to append blocks until a reader comes. Done in
    # the loop, that would freeze every bus; done in a thread, the loop runs on meanwhile.
    config = box_config(tmp_path)
    job = folders(config, Clock(DAY0 + 600), db)
    fifo = config.csv_folder / "events" / "2025-01-01.csv"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    rescue = threading.Timer(10.0, lambda: fifo.read_bytes())  # old code: unblock, then fail
    rescue.start()
    try:
        append = asyncio.create_task(job.append_event(DeviceStateChanged(1, DeviceState.OFF)))
        for _ in range(20):
            await asyncio.sleep(0)  # the loop turns while the write waits for its reader
        assert not append.done()
    finally:
        rescue.cancel()
    line = await asyncio.to_thread(fifo.read_text, "utf-8")
    assert await append == fifo
    assert ",device,1," in line and line.endswith(",off,\n"), line


async def test_disabled_folders_write_nothing(tmp_path: Path, db: Database) -> None:
    await record_days(db, 2)
    config = box_config(tmp_path, enabled=False)
    job = folders(config, Clock(DAY0 + 2 * 86_400), db)
    assert await job.write_days() == []
    assert await job.append_event(DeviceStateChanged(1, DeviceState.OFF)) is None
    assert not config.csv_folder.exists()


async def test_the_box_writes_the_folders_from_its_events(tmp_path: Path) -> None:
    config = box_config(tmp_path)
    path = tmp_path / "config.toml"
    save_config(config, path)
    async with running_box(path, buses=False) as rt:
        job = rt.get(CsvFolders)
        rt.hub.publish(DeviceStateChanged(1, DeviceState.COMM_ERROR, "no answer"))
        events = config.csv_folder / "events"
        async with asyncio.timeout(5):
            # the events task appends as soon as it runs; the file exists a moment before
            # its row is in
            while not any(row["kind"] == "device" for f in events.glob("*.csv") for row in rows(f)):
                await asyncio.sleep(0.01)
        assert isinstance(job, CsvFolders)
        (found,) = events.glob("*.csv")
        # the alarm engine appends its "raised" line to the same file
        (device,) = [row for row in rows(found) if row["kind"] == "device"]
        assert device["state"] == DeviceState.COMM_ERROR.value


async def test_a_burst_of_state_changes_is_all_in_the_events_file_in_order(
    tmp_path: Path,
) -> None:
    """A flapping site (bench_alarms: 1,000 devices, 2,000 changes a second) must not outrun
    the events log: every change is a line, in the order published, and the box stops within
    its stop timeout with all of them written (one file append a batch, not one a line)."""
    config = box_config(tmp_path)
    path = tmp_path / "config.toml"
    save_config(config, path)
    states = (DeviceState.COMM_ERROR, DeviceState.ON)
    async with running_box(path, buses=False) as rt:
        for n in range(2000):
            rt.hub.publish(DeviceStateChanged(1, states[n % 2], f"change {n}"))
    (found,) = (config.csv_folder / "events").glob("*.csv")
    details = [row["detail"] for row in rows(found) if row["kind"] == "device"]
    assert details == [f"change {n}" for n in range(2000)]
