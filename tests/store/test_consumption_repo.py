"""Consumption tables from the hourly rollups agree with the raw readings, gaps and DST too."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from ews_tui.cli.sim import load_site
from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.costs import CostRule, CostSettings, EnergyCosts, Tariff, TimeBand
from ews_tui.domain.events import Sample
from ews_tui.services.recorder import Recorder
from ews_tui.store.aggregates_repo import AggregatesRepo
from ews_tui.store.consumption_repo import ConsumptionRepo, ConsumptionTable
from ews_tui.store.db import Database

PARIS = ZoneInfo("Europe/Paris")
SITE = load_site("demo")
CATALOG = builtin_catalog()
D = Decimal
COSTS = CostSettings(
    (
        EnergyCosts(
            "electricity",
            "EUR",
            (
                CostRule(
                    "site",
                    (
                        Tariff(
                            date(2024, 1, 1),
                            D("0.10"),
                            (TimeBand(frozenset(range(5)), 8, 20, D("0.20")),),
                        ),
                        Tariff(date(2024, 10, 28), D("0.50")),
                    ),
                ),
            ),
        ),
    )
)
START = datetime(2024, 10, 25, tzinfo=PARIS).timestamp()


async def record(
    db: Database, hours: float, *, skip: tuple[float, float] = (0, 0), reset_at: float | None = None
) -> None:
    """Devices 1 and 2 at 2 kW and 3 kW, one sample a minute; device 1 silent in ``skip``
    (hours from START) and reset to 0 at ``reset_at``."""
    recorder = Recorder(None, AggregatesRepo(db))
    await recorder.load()
    for minute in range(int(hours * 60)):
        h = minute / 60
        ts = START + minute * 60
        if not skip[0] <= h < skip[1]:
            index = 1000 + 2 * h if reset_at is None or h < reset_at else 2 * (h - reset_at)
            recorder.ingest(Sample(1, ts, {"ea_import": index, "v1": 230.0}))
        recorder.ingest(Sample(2, ts, {"ea_import": 5000 + 3 * h}))
        if minute % 600 == 0:
            await recorder.flush(int(ts // 600))
    await recorder.flush()


async def both(
    db: Database, step: str, by: str, first: date, end: date, costs: CostSettings = COSTS
) -> tuple[ConsumptionTable, ConsumptionTable]:
    repo = ConsumptionRepo(db)
    fast = await repo.table(SITE, CATALOG, costs, PARIS, first, end, step, by)
    slow = await repo.table_from_readings(SITE, CATALOG, costs, PARIS, first, end, step, by)
    return fast, slow


def same(a: ConsumptionTable, b: ConsumptionTable) -> None:
    assert a.rows.keys() == b.rows.keys()
    for key, values in a.rows.items():
        for x, y in zip(values, b.rows[key], strict=True):
            assert (x is None) == (y is None)
            if x is None or y is None:
                continue
            assert x.value == pytest.approx(y.value) and x.missing == y.missing
            assert (x.cost is None) == (y.cost is None)
            if x.cost is not None:
                assert x.cost == pytest.approx(y.cost)


async def test_days_across_the_autumn_dst_change_with_tariffs(db: Database) -> None:
    await record(db, 97)  # four days, one of 25 hours
    fast, slow = await both(db, "day", "device", date(2024, 10, 25), date(2024, 10, 29))
    same(fast, slow)
    meter = next(v for k, v in fast.rows.items() if k.id == 1)
    assert [p.hours for p in fast.periods] == [24, 24, 25, 24]
    # Saturday and the 25-hour Sunday are whole days at 2 kW; the first day lacks its first slot.
    assert meter[1].value == pytest.approx(48.0) and meter[2].value == pytest.approx(50.0)
    assert meter[1].cost == pytest.approx(4.8)  # weekend: base price only
    assert meter[3].cost == pytest.approx(24.0)  # Monday 28th: the new tariff, 0.50 flat
    friday = meter[0]
    assert friday.cost == pytest.approx((24 - 12 - 1 / 6) * 2 * 0.1 + 12 * 2 * 0.2)


async def test_a_gap_counts_in_the_day_that_holds_it_and_is_missing_in_its_hours(
    db: Database,
) -> None:
    await record(db, 48, skip=(30.05, 33.5))
    fast, slow = await both(db, "day", "device", date(2024, 10, 25), date(2024, 10, 27))
    same(fast, slow)
    meter = next(v for k, v in fast.rows.items() if k.id == 1)
    assert meter[1].value == pytest.approx(48.0) and not meter[1].missing
    hours, slow_hours = await both(db, "hour", "device", date(2024, 10, 26), date(2024, 10, 27))
    same(hours, slow_hours)
    hourly = next(v for k, v in hours.rows.items() if k.id == 1)
    assert [a.missing for a in hourly[6:10]] == [True, True, True, True]
    assert hourly[6].value < 2.0 and hourly[12].value == pytest.approx(2.0)


async def test_a_reset_is_missing_never_negative(db: Database) -> None:
    await record(db, 24, reset_at=12.0)
    fast, slow = await both(db, "hour", "device", date(2024, 10, 25), date(2024, 10, 26))
    same(fast, slow)
    same(*await both(db, "day", "circuit", date(2024, 10, 25), date(2024, 10, 26)))
    meter = next(v for k, v in fast.rows.items() if k.id == 1)
    assert all(a is not None and a.value >= 0 for a in meter)
    assert meter[12].missing and not meter[11].missing and not meter[13].missing
    assert meter[13].value == pytest.approx(2.0) and meter[12].value < 2.0


async def test_periods_without_data_are_missing_and_totals_leave_gas_out(db: Database) -> None:
    await record(db, 3)
    fast, _slow = await both(db, "day", "total", date(2024, 10, 24), date(2024, 10, 26))
    ((key, values),) = fast.rows.items()
    assert key.kind == "total"
    assert values[0] is not None and values[0].missing and values[0].value == 0
    assert values[1] is not None and values[1].value == pytest.approx(5 * 3 - 5 / 6, rel=1e-6)


# Heures creuses at night every day, a weekend price, and a rule of its own for device 2's
# zone whose bands start a week later: two rules, so two prices for one hour.
BANDED = CostSettings(
    (
        EnergyCosts(
            "electricity",
            "EUR",
            (
                CostRule(
                    "zone 1",
                    (
                        Tariff(date(2024, 10, 1), D("0.30")),
                        Tariff(
                            date(2024, 11, 1),
                            D("0.30"),
                            (TimeBand(frozenset(range(7)), 0, 6, D("0.12")),),
                        ),
                    ),
                    zone_ids=(1,),
                ),
                CostRule(
                    "site",
                    (
                        Tariff(
                            date(2024, 10, 1),
                            D("0.2"),
                            (
                                TimeBand(frozenset(range(7)), 22, 24, D("0.1")),
                                TimeBand(frozenset(range(7)), 0, 6, D("0.1")),
                                TimeBand(frozenset({5, 6}), 6, 22, D("0.15")),
                            ),
                        ),
                    ),
                ),
            ),
        ),
    )
)


async def test_weeks_and_months_with_time_bands_match_the_readings(db: Database) -> None:
    await record(db, 12 * 24, skip=(100.05, 103.5), reset_at=200.0)
    for step in ("week", "month"):
        for by in ("device", "circuit", "zone"):
            same(*await both(db, step, by, date(2024, 10, 25), date(2024, 11, 7), BANDED))
    fast, _slow = await both(db, "week", "device", date(2024, 10, 28), date(2024, 11, 4), BANDED)
    meter = next(v for k, v in fast.rows.items() if k.id == 2)  # 3 kW, zone 1's rule
    # Monday 28th to Thursday 31st at 0.30, then 0.12 at night: 4 x 72 + 3 x (18 x 0.9 + 6 x 0.36).
    assert meter[0].cost == pytest.approx(4 * 24 * 3 * 0.3 + 3 * (18 * 3 * 0.3 + 6 * 3 * 0.12))


async def test_a_period_recorded_in_part_only_is_missing_but_not_its_future(db: Database) -> None:
    """Device 1 silent from hour 30 to the end (it stopped), device 2 to hour 36; the table
    asked at hour 40: Saturday (hours 24..48) is incomplete for both, Sunday has no data."""
    await record(db, 36, skip=(30, 36))
    now = START + 40 * 3600
    repo = ConsumptionRepo(db, clock=lambda: now)
    first, end = date(2024, 10, 25), date(2024, 10, 28)
    fast = await repo.table(SITE, CATALOG, COSTS, PARIS, first, end, "day", "device")
    slow = await repo.table_from_readings(SITE, CATALOG, COSTS, PARIS, first, end, "day", "device")
    same(fast, slow)
    one, two = (next(v for k, v in fast.rows.items() if k.id == i) for i in (1, 2))
    # Friday: recording starts at its first minute, so its first slot is unknown.
    assert one[0].missing and two[0].missing
    # Saturday: device 1 stopped at hour 30, device 2 at hour 36, both before "now".
    assert one[1].missing and one[1].value == pytest.approx(2 * (30 - 24), abs=0.05)
    assert two[1].missing
    # The site total of Saturday carries the mark; Sunday (no data at all) reads missing.
    total = await repo.table(SITE, CATALOG, COSTS, PARIS, first, end, "day", "total")
    (site,) = total.rows.values()
    assert site[1].missing and site[2].missing and site[2].value == 0


async def test_the_part_of_a_period_still_to_come_is_not_missing(db: Database) -> None:
    await record(db, 36)
    # "Now" is hour 36 plus a minute: the slot that just ended may still be on its way.
    repo = ConsumptionRepo(db, clock=lambda: START + 36 * 3600 + 60)
    table = await repo.table(
        SITE, CATALOG, COSTS, PARIS, date(2024, 10, 26), date(2024, 10, 27), "day", "device"
    )
    meter = next(v for k, v in table.rows.items() if k.id == 2)
    assert meter[0].value == pytest.approx(3 * 12, abs=0.01)
    assert not meter[0].missing
