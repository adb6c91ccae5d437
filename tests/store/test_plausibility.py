"""Each energy's plausibility limit applies in the recorder's rollups and in the reference
computation from readings: a water glitch an electricity meter could give is not water."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from ews_tui.cli.sim import load_site
from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.consumption import MAX_RATE, device_max_rate, max_rate_of
from ews_tui.domain.costs import CostSettings
from ews_tui.domain.events import Sample
from ews_tui.services.recorder import Recorder
from ews_tui.store.aggregates_repo import AggregatesRepo
from ews_tui.store.consumption_repo import ConsumptionRepo
from ews_tui.store.db import Database
from tests.store.test_consumption_repo import PARIS

SITE = load_site("demo")
CATALOG = builtin_catalog()
WATER = next(d.id for d in SITE.devices if d.name == "Cold water")
GAS = next(d.id for d in SITE.devices if d.name == "Boiler gas")
MAIN = next(d.id for d in SITE.devices if d.name == "Main meter")
START = datetime(2024, 10, 25, 1, tzinfo=PARIS).timestamp()


def test_each_energy_has_its_limit() -> None:
    assert device_max_rate(SITE, CATALOG, WATER) == MAX_RATE["water"] == max_rate_of("water")
    assert device_max_rate(SITE, CATALOG, GAS) == MAX_RATE["gas"]
    assert device_max_rate(SITE, CATALOG, MAIN) == MAX_RATE["electricity"]
    assert device_max_rate(SITE, CATALOG, 9999) == max_rate_of(None) == MAX_RATE["electricity"]


async def test_a_water_glitch_is_not_consumption(db: Database) -> None:
    # 1,000 m3 in 10 minutes is 6,000 m3/h: over water's 2,000, under electricity's 20,000.
    recorder = Recorder(
        None, AggregatesRepo(db), max_rate=lambda d: device_max_rate(SITE, CATALOG, d)
    )
    for n, index in enumerate((100.0, 101.0, 1101.0, 102.0, 103.0)):
        recorder.ingest(Sample(WATER, START + n * 600, {"index": index}))
    await recorder.flush()
    repo = ConsumptionRepo(db)
    costs = CostSettings(())
    day = date(2024, 10, 25)
    args = (SITE, CATALOG, costs, PARIS, day, date(2024, 10, 26), "day", "device")
    fast = await repo.table(*args, energy="water")
    slow = await repo.table_from_readings(*args, energy="water")
    for table in (fast, slow):
        (values,) = [v for k, v in table.rows.items() if k.id == WATER]
        assert values[0] is not None
        assert values[0].value == pytest.approx(3.0)
