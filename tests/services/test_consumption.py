"""The Consumption service answers the screens from the store, with the current cost pages."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ews_tui.cli.sim import load_site
from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.costs import CostError, CostRule, CostSettings, EnergyCosts, Tariff
from ews_tui.domain.events import Sample, SettingsChanged
from ews_tui.domain.grouping import known
from ews_tui.hub import Hub
from ews_tui.services.consumption import ConsumptionService
from ews_tui.services.recorder import Recorder
from ews_tui.store.aggregates_repo import AggregatesRepo
from ews_tui.store.consumption_repo import ConsumptionTable
from ews_tui.store.db import Database, open_database

SITE = load_site("demo")


async def test_tables_are_priced_with_the_saved_cost_pages(db: Database) -> None:
    hub = Hub()
    changes = hub.subscribe(SettingsChanged)
    service = ConsumptionService(
        db, hub, installation=lambda: SITE, catalog=builtin_catalog, timezone=lambda: "UTC"
    )
    await service.start()
    await _recorded_day(Recorder(None, AggregatesRepo(db)), JAN1)
    rule = CostRule("flat", (Tariff(date(2024, 1, 1), Decimal("0.2")),))
    await service.save_costs(CostSettings((EnergyCosts("electricity", "EUR", (rule,)),)))
    assert changes.get_nowait() == SettingsChanged("costs")
    table = await service.table(date(2025, 1, 1), date(2025, 1, 2), "day", "device")
    meter = next(v for k, v in table.rows.items() if k.id == 1)
    assert meter[0] is not None and meter[0].value == pytest.approx(24.0 - 1 / 6)
    assert meter[0].cost == pytest.approx(0.2 * (24.0 - 1 / 6))
    with pytest.raises(CostError):
        await service.save_costs(CostSettings((EnergyCosts("electricity", "EURO"),)))
    assert service.costs.of("electricity").rules[0].name == "flat"


async def _recorded_day(recorder: Recorder, start: float, device_id: int = 1) -> None:
    """A day of 1 kWh/h on ``device_id`` from ``start`` (UTC midnight), flushed."""
    for minute in range(0, 24 * 60 + 10, 10):
        recorder.ingest(Sample(device_id, start + minute * 60, {"ea_import": 100 + minute / 60}))
    await recorder.flush()


def _day_value(table: ConsumptionTable, device_id: int = 1) -> float | None:
    values = next((v for k, v in table.rows.items() if k.id == device_id), None)
    amount = known(values[0]) if values else None  # missing: None
    return None if amount is None else amount.value


JAN1 = 1_735_689_600.0  # 2025-01-01T00:00Z
LATER = JAN1 + 200 * 86400  # "now" for the service: long after the recorded days
DAY = (date(2025, 1, 1), date(2025, 1, 2), "day", "device")  # JAN1's table


@contextlib.asynccontextmanager
async def _service(db: Database) -> AsyncIterator[ConsumptionService]:
    """The service on ``db`` at LATER, started, stopped at the end."""
    service = ConsumptionService(
        db,
        Hub(),
        installation=lambda: SITE,
        catalog=builtin_catalog,
        timezone=lambda: "UTC",
        clock=lambda: LATER,
    )
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


async def test_sessions_asking_the_same_table_share_one_read(db: Database) -> None:
    async with _service(db) as service:
        await _recorded_day(Recorder(None, AggregatesRepo(db)), JAN1)
        tables = await asyncio.gather(*(service.table(*DAY) for _ in range(10)))
        assert service.reads == 1
        assert all(table is tables[0] for table in tables)
        assert _day_value(tables[0]) == pytest.approx(24.0 - 1 / 6)
        again = await service.table(*DAY)
        assert again is tables[0] and service.reads == 1  # nothing changed: kept
        await service.table(date(2025, 1, 2), date(2025, 1, 3), "day", "device")
        assert service.reads == 2  # another day is another read


async def test_a_kept_table_is_read_again_once_the_recorder_writes(db: Database) -> None:
    async with _service(db) as service:
        recorder = Recorder(None, AggregatesRepo(db))
        before = await service.table(*DAY)
        assert _day_value(before) is None  # nothing recorded yet
        await _recorded_day(recorder, JAN1)
        after = await service.table(*DAY)
        assert service.reads == 2
        assert _day_value(after) == pytest.approx(24.0 - 1 / 6)


async def test_a_kept_table_is_read_again_after_another_process_writes(
    db: Database, tmp_path: Path
) -> None:
    """A history backfill (``ews demo``) writes from its own process: its own connection."""
    other = await open_database(tmp_path / "ews.sqlite")
    try:
        async with _service(db) as service:
            assert _day_value(await service.table(*DAY)) is None
            await _recorded_day(Recorder(None, AggregatesRepo(other)), JAN1)
            assert db.changes["energy"] == 0  # not seen by this connection's counter
            service.others_check_s = 3600.0  # not looked for yet: the table kept
            assert _day_value(await service.table(*DAY)) is None
            service.others_check_s = 0.0  # looked for: seen
            assert _day_value(await service.table(*DAY)) == pytest.approx(24.0 - 1 / 6)
            assert service.reads == 2
    finally:
        await other.close()


async def test_a_failed_read_is_not_kept(db: Database) -> None:
    async with _service(db) as service:
        async with db.transaction() as conn:  # the same connection: no data_version change
            await conn.execute("ALTER TABLE energy_gaps RENAME TO gaps_away")
        with pytest.raises(sqlite3.OperationalError):
            await service.table(*DAY)
        async with db.transaction() as conn:
            await conn.execute("ALTER TABLE gaps_away RENAME TO energy_gaps")
        assert _day_value(await service.table(*DAY)) is None
        assert service.reads == 2


async def test_a_table_s_plan_and_grouping_run_off_the_loop(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A year of hours took ~60 ms of planning in one step of the loop the buses share."""
    import threading

    from ews_tui.store import consumption_repo

    threads: list[str] = []
    plan, result_table = consumption_repo.ConsumptionRepo._plan, consumption_repo._result_table

    def spied_plan(self: consumption_repo.ConsumptionRepo, *args: Any) -> Any:
        threads.append(threading.current_thread().name)
        return plan(self, *args)

    def spied_table(*args: Any) -> ConsumptionTable:
        threads.append(threading.current_thread().name)
        return result_table(*args)

    monkeypatch.setattr(consumption_repo.ConsumptionRepo, "_plan", spied_plan)
    monkeypatch.setattr(consumption_repo, "_result_table", spied_table)
    async with _service(db) as service:
        await _recorded_day(Recorder(None, AggregatesRepo(db)), JAN1)
        year = await service.table(date(2025, 1, 1), date(2026, 1, 1), "hour", "device")
        assert len(year.periods) == 365 * 24
        assert threads and threading.main_thread().name not in threads
