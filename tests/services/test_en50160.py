"""The weekly EN 50160 checker against a real store: the finished weeks are judged once, stored,
written to the eqcheck folder and published; a week KO says which criterion failed."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ews_tui.cli.sim import load_site
from ews_tui.config import Config, default_config
from ews_tui.domain.aggregation import QuantityStats, SlotRecord
from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.en50160 import Verdict, WeekVerdict, week_slots
from ews_tui.domain.events import En50160Checked
from ews_tui.domain.installation import Installation
from ews_tui.hub import Hub
from ews_tui.services.en50160 import GRACE_S, En50160Checker
from ews_tui.store.aggregates_repo import AggregatesRepo, Batch
from ews_tui.store.db import Database
from tests.services.set_clock import Clock

PARIS = ZoneInfo("Europe/Paris")
DEMO = load_site("demo")
# Gateway 1's EQ device alone: device 1, the main meter (THD, V, U, f); the demo's Workshop has
# one too (tests/cli/test_en50160.py checks both).
SITE = DEMO.with_(
    gateways=tuple(g if g.id == 1 else replace(g, eq_device_id=None) for g in DEMO.gateways)
)
MONDAY = date(2026, 11, 23)
NEXT_MONDAY = datetime(2026, 11, 30, tzinfo=PARIS).timestamp()


def stats(name: str, value: float, high: float | None = None) -> QuantityStats:
    return QuantityStats(name, 10, value, value, value if high is None else high)


async def record_week(db: Database, monday: date, *, thd_bad: int = 0, share: float = 1.0) -> None:
    """Device 1's 10-minute stats for the week of ``monday``: a healthy supply, the first
    ``thd_bad`` intervals with 9 % THD on L1; only the first ``share`` of the week."""
    slots = week_slots(monday, PARIS)
    records = []
    for k, slot in enumerate(slots[: int(len(slots) * share)]):
        values = [stats(v, 230.0) for v in ("v1", "v2", "v3")]
        values += [stats(u, 400.0) for u in ("u12", "u23", "u31")]
        values += [stats("f", 50.0, high=50.02)]
        values += [stats("thd_v1", 9.0 if k < thd_bad else 2.0), stats("thd_v2", 2.0)]
        records.append(SlotRecord(1, slot, tuple(values)))
    await AggregatesRepo(db).write(Batch(records=records))


def checker(db: Database, config: Config, clock: Clock, hub: Hub) -> En50160Checker:
    return En50160Checker(
        db,
        hub,
        config=lambda: config,
        installation=lambda: SITE,
        catalog=builtin_catalog,
        clock=clock,
    )


def paris_config(tmp_path: Path) -> Config:
    config = default_config(tmp_path)
    return dataclasses.replace(
        config, time=dataclasses.replace(config.time, timezone="Europe/Paris")
    )


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


async def test_the_finished_week_is_judged_once_stored_written_and_published(
    tmp_path: Path, db: Database
) -> None:
    await record_week(db, MONDAY)
    config, hub = paris_config(tmp_path), Hub()
    news = hub.subscribe(En50160Checked, name="test", maxsize=10)
    clock = Clock(NEXT_MONDAY + GRACE_S + 60)
    job = checker(db, config, clock, hub)
    (report,) = await job.catch_up()  # earlier weeks have no data: not checked
    assert report.verdict is WeekVerdict.OK
    assert (report.gateway_id, report.device_id, report.intervals) == (1, 1, 1008)
    voltage = report.line("voltage")
    assert voltage is not None and (voltage.n, voltage.n1, voltage.verdict) == (
        1008,
        0,
        Verdict.PASSED,
    )
    unbalance = report.line("unbalance")
    assert unbalance is not None and unbalance.verdict is Verdict.PASSED  # from u12, u23, u31
    h5 = report.line("h5")
    assert h5 is not None and h5.verdict is Verdict.NOT_ASSESSED  # the 0 146 68 has no h5
    assert news.get_nowait() == En50160Checked(1, report.start, "ok")
    # Stored: a restart reads it, and does not check the week again.
    assert await job.repo.weeks(1) == [report]
    assert await checker(db, config, clock, hub).catch_up() == []
    # The eqcheck folder: the criteria table and the values used.
    folder = config.csv_folder / "eqcheck"
    table = rows(folder / "2026-W48_gateway-1.csv")
    assert table[0]["criterion"] == "week" and table[0]["verdict"] == "ok"
    by_id = {r["criterion"]: r for r in table}
    assert by_id["voltage"]["n"] == "1008" and by_id["voltage"]["low"] == "207.0"
    assert by_id["flicker"]["verdict"] == "not_assessed"
    values = rows(folder / "2026-W48_gateway-1_values.csv")
    # The nine quantities read, and the unbalance computed from u12, u23, u31 (a mean only).
    assert len(values) == 1008 * 10
    unbalance = [v for v in values if v["quantity"] == "unbalance"]
    assert len(unbalance) == 1008 and unbalance[0]["min"] == unbalance[0]["max"] == ""
    assert values[0]["timestamp"] == "2026-11-23T00:00:00+01:00"


async def test_a_week_ko_names_the_failed_criterion(tmp_path: Path, db: Database) -> None:
    await record_week(db, MONDAY, thd_bad=60)  # 6 % of the week above 8 % THD
    config, hub = paris_config(tmp_path), Hub()
    job = checker(db, config, Clock(NEXT_MONDAY + GRACE_S + 60), hub)
    (report,) = await job.catch_up()
    assert report.verdict is WeekVerdict.KO
    thd = report.line("thd")
    assert thd is not None and (thd.n1, thd.verdict, thd.worst) == (60, Verdict.FAILED, 9.0)


async def test_a_half_recorded_week_is_insufficient_data(tmp_path: Path, db: Database) -> None:
    await record_week(db, MONDAY, share=0.5)
    job = checker(db, paris_config(tmp_path), Clock(NEXT_MONDAY + GRACE_S + 60), Hub())
    (report,) = await job.catch_up()
    assert report.verdict is WeekVerdict.INSUFFICIENT
    assert report.flagged == 504


async def test_it_waits_for_monday_and_checks_the_week_by_itself(
    tmp_path: Path, db: Database
) -> None:
    """Started on Sunday, it checks nothing; once the clock passes Monday 00:00 + grace (the
    service sleeps an hour at most between looks at the clock), the week is checked."""
    await record_week(db, MONDAY)
    clock = Clock(NEXT_MONDAY - 3600)
    job = checker(db, paris_config(tmp_path), clock, Hub())
    assert job._next_run() == NEXT_MONDAY + GRACE_S
    await job.start()
    try:
        async with asyncio.timeout(10):
            await job.checked.wait()  # the catch-up round at start
        assert await job.repo.weeks(1) == []  # the week is not over
    finally:
        await job.stop()
    clock.now = NEXT_MONDAY + GRACE_S
    assert [r.verdict for r in await job.catch_up()] == [WeekVerdict.OK]


def test_the_demo_site_has_two_eq_devices() -> None:
    inst: Installation = DEMO
    assert [g.id for g in inst.gateways if g.eq_device_id is not None] == [1, 3]
