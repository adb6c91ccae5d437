"""Consumption > Details: pick a device; its chart and table, the previous period and the
change, the reserved EN 50160 line."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import OptionList

from ews_tui.domain.edits import set_eq_device
from ews_tui.domain.en50160 import Interval, WeekReport, builtin_limits, judge_week, week_slots
from ews_tui.domain.events import En50160Checked
from ews_tui.runtime import Runtime
from ews_tui.services.en50160 import En50160Checker
from ews_tui.services.installation import InstallationService
from ews_tui.ui.screens.consumption_details import DetailsScreen
from tests.ui.box_fixtures import SnapshotApp, box_runtime, make_box_app
from tests.ui.consumption_fixtures import PARIS, seed_site
from tests.ui.test_consumption_total import column, loaded, open_total, text


@pytest.fixture
async def box(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path) as rt:
        await seed_site(rt)
        yield rt


def devices(pilot: Any) -> list[str]:
    options = pilot.app.screen.query_one("#det-devices", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_a_device_compared_with_the_day_before(box: Runtime) -> None:
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot, "consumption_details")
        assert isinstance(app.screen, DetailsScreen)
        assert devices(pilot) == ["Lighting meter", "Heat pump", "Annex meter"]
        assert text(pilot, "#det-device") == "Lighting meter · Total: 44.0 kWh · Cost: €8.80"
        assert text(pilot, "#det-compare") == "Previous period: 24.0 kWh · change +83.3%"
        assert text(pilot, "#det-en50160") == "EN 50160: no EQ device on this gateway"
        assert column(pilot, "amount")[8] == "3.0"
        assert column(pilot, "cost")[8] == "€0.60"
        assert column(pilot, "previous")[8] == "1.0"
        assert column(pilot, "change")[8] == "+200.0%"
        assert column(pilot, "amount")[3] == "—"  # the gap: missing, no change
        assert column(pilot, "change")[3] == "—"


async def test_picking_another_device(box: Runtime) -> None:
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot, "consumption_details")
        await pilot.press("down")
        assert text(pilot, "#det-device") == "Heat pump · Total: 60.0 kWh · Cost: €12.00"
        assert text(pilot, "#det-compare") == "Previous period: 60.0 kWh · change 0.0%"
        await pilot.press("down")
        assert text(pilot, "#det-device").startswith("Annex meter · Total: 12.0 kWh")
        await pilot.press("left")  # the day before keeps the device
        await loaded(pilot)
        assert text(pilot, "#det-device").startswith("Annex meter · Total: 12.0 kWh")
        assert "Tuesday, January 14" in text(pilot, "#cons-view")
        await pilot.press("left")  # Monday 13: the day before it has 1 hour of data
        await loaded(pilot)
        # ... so it is partly missing: marked *
        assert text(pilot, "#det-compare") == "Previous period: 0.4 kWh* · change +2,780.0%"
        await pilot.press("e")  # gas: its one meter
        await loaded(pilot)
        assert devices(pilot) == ["Boiler gas"]
        assert text(pilot, "#det-device") == "Boiler gas · Total: 2.40 m³ · Cost: €2.64"
        await pilot.press("e")  # water: no meter
        await loaded(pilot)
        assert devices(pilot) == []
        assert text(pilot, "#det-device") == "No device meters this energy (Water)."


async def test_a_week_in_french(box: Runtime) -> None:
    app = make_box_app(box, "home", language="fr")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot, "consumption_details")
        await pilot.press("w")
        await loaded(pilot)
        assert text(pilot, "#det-compare") == (
            "Période précédente : 0,8 kWh* · évolution +13\u202f820,0\xa0%"
        )
        assert column(pilot, "amount")[2] == "44,0"
        assert text(pilot, "#det-en50160") == "EN 50160 : passerelle sans appareil EQ"


async def test_an_in_progress_day_compares_the_same_hours(box: Runtime) -> None:
    noon = datetime(2025, 1, 15, 12, 30, tzinfo=PARIS).timestamp()
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot, "consumption_details", anchor=None, clock=lambda: noon)
        # The finished hours 00:00-12:00 of the 15th (the gap hours missing) against the
        # same hours the day before; 12:00-13:00, under way, is not compared with a whole hour.
        assert "Wednesday, January 15, 2025" in text(pilot, "#cons-view")
        assert text(pilot, "#det-compare").startswith(
            "Same part of the previous period: 12.0 kWh · change"
        )
        assert column(pilot, "change")[11] == "+200.0%"  # 11:00, finished: 3 kWh against 1
        assert column(pilot, "change")[12] == "partial"
        assert column(pilot, "previous")[12] == "1.0"
        assert column(pilot, "amount")[13] == ""  # 13:00 has not begun
        assert column(pilot, "change")[13] == ""


async def test_the_first_hour_under_way_is_partial_not_a_change(box: Runtime) -> None:
    early = datetime(2025, 1, 15, 0, 20, tzinfo=PARIS).timestamp()
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot, "consumption_details", anchor=None, clock=lambda: early)
        assert text(pilot, "#det-compare") == "Previous period: 24.0 kWh · change partial"
        assert column(pilot, "change")[0] == "partial"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_snapshot_details(snap_compare: Any, tmp_path: Path, language: str) -> None:
    async def run_before(pilot: Any) -> None:
        await open_total(pilot, "consumption_details")

    app = SnapshotApp(tmp_path, "home", language=language, prepare=seed_site)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@contextlib.asynccontextmanager
async def details_with_eq_device(box: Runtime) -> AsyncIterator[tuple[Any, int, int]]:
    """Details open, with the Lighting meter as the local gateway's EQ device: the pilot,
    the gateway's and the meter's ids."""
    service = box.get(InstallationService)
    local = service.current.local
    meter = next(d for d in service.current.devices if d.name == "Lighting meter")
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await service.apply(set_eq_device, local.id, meter.id)
        await open_total(pilot, "consumption_details")
        yield pilot, local.id, meter.id


async def test_the_last_weeks_en50160_verdict_of_the_gateways_eq_device(box: Runtime) -> None:
    """Manual §7.16.1.4: "Last week EN50160 CHECK: OK or KO" on the Details page."""
    async with details_with_eq_device(box) as (pilot, local_id, meter_id):
        assert text(pilot, "#det-en50160") == "EN 50160: no verdict yet"
        slots = week_slots(date(2025, 1, 6), PARIS)
        healthy = [Interval(s, {"v1": 230.0, "f": 50.0}) for s in slots]
        week = WeekReport.of(judge_week(builtin_limits(), slots, healthy), local_id, meter_id)
        await box.get(En50160Checker).repo.save(week, 0.0)
        box.hub.publish(En50160Checked(local_id, week.start, week.verdict.value))  # as check()
        for _ in range(50):
            if text(pilot, "#det-en50160").startswith("Last week"):
                break
            await pilot.pause(0.05)
        assert text(pilot, "#det-en50160") == "Last week EN 50160 check: ✓ OK (2025-W02)"


async def test_another_period_keeps_the_device_list(box: Runtime) -> None:
    """Each ←/→ built the device list anew (the list repainted whole and the screen laid
    out again, in every session moving the period); the same devices keep their options."""
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot, "consumption_details")
        screen = app.screen
        assert isinstance(screen, DetailsScreen)
        built = screen.lists_built
        await pilot.press("down", "left")
        await loaded(pilot)
        assert "Tuesday, January 14" in text(pilot, "#cons-view")
        assert screen.lists_built == built
        assert text(pilot, "#det-device").startswith("Heat pump")
        await pilot.press("e")  # gas: other devices, the list is built
        await loaded(pilot)
        assert screen.lists_built == built + 1
        assert devices(pilot) == ["Boiler gas"]


async def test_a_period_move_does_not_read_the_en50160_verdict_again(box: Runtime) -> None:
    """The verdict is the last week's, whatever the period shown: each ←/→ read it again
    from the store, in every session on Details."""
    async with details_with_eq_device(box) as (pilot, _local_id, _meter_id):
        screen = pilot.app.screen
        assert isinstance(screen, DetailsScreen)
        await pilot.pause()
        assert text(pilot, "#det-en50160") == "EN 50160: no verdict yet"
        reads = screen.verdict_reads
        assert reads >= 1
        for key in ("left", "left", "right"):
            await pilot.press(key)
            await loaded(pilot)
        assert "Tuesday, January 14" in text(pilot, "#cons-view")
        assert text(pilot, "#det-en50160") == "EN 50160: no verdict yet"
        assert screen.verdict_reads == reads
