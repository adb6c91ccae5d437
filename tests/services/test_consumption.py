"""The Consumption service answers the screens from the store, with the current cost pages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from ews_tui.cli.sim import load_site
from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.costs import CostError, CostRule, CostSettings, EnergyCosts, Tariff
from ews_tui.domain.events import Sample, SettingsChanged
from ews_tui.hub import Hub
from ews_tui.services.consumption import ConsumptionService
from ews_tui.services.recorder import Recorder
from ews_tui.store.aggregates_repo import AggregatesRepo
from ews_tui.store.db import open_database

SITE = load_site("demo")


async def test_tables_are_priced_with_the_saved_cost_pages(tmp_path: Path) -> None:
    db = await open_database(tmp_path / "ews.sqlite")
    try:
        hub = Hub()
        changes = hub.subscribe(SettingsChanged)
        service = ConsumptionService(
            db, hub, installation=lambda: SITE, catalog=builtin_catalog, timezone=lambda: "UTC"
        )
        await service.start()
        recorder = Recorder(None, AggregatesRepo(db))
        start = 1_735_689_600.0  # 2025-01-01T00:00Z
        for minute in range(0, 24 * 60 + 10, 10):
            recorder.ingest(Sample(1, start + minute * 60, {"ea_import": 100 + minute / 60}))
        await recorder.flush()
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
    finally:
        await db.close()
