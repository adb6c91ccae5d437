"""Consumption > Partial: by circuit, zone or switchboard, stacked or side by side, with the
same period navigation as Total."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable

from ews_tui.runtime import Runtime
from ews_tui.ui.screens.consumption_partial import PartialScreen
from ews_tui.ui.screens.consumption_total import TotalScreen
from ews_tui.ui.widgets.histogram import Histogram
from tests.ui.box_fixtures import SnapshotApp, box_runtime, make_box_app
from tests.ui.consumption_fixtures import seed_site
from tests.ui.test_consumption_total import column, loaded, open_total, text


@pytest.fixture
async def box(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path) as rt:
        await seed_site(rt)
        yield rt


def columns(pilot: Any) -> list[str]:
    grid = pilot.app.screen.query_one("#cons-table", DataTable)
    return [str(c.label) for c in grid.columns.values()]


async def test_by_circuit_zone_and_switchboard(box: Runtime) -> None:
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot, "consumption_partial")
        await pilot.press("w")
        await loaded(pilot)
        assert isinstance(app.screen, PartialScreen)
        assert "Week 3, Jan 13" in text(pilot, "#cons-view")
        assert "by circuit · stacked" in text(pilot, "#cons-view")
        assert columns(pilot) == ["Period (kWh)", "Heating", "Lighting", "No circuit"]
        assert column(pilot, "1")[:5] == ["24.0", "24.0", "44.0", "24.0", "—"]
        assert column(pilot, "period")[-1] == "Total"
        assert column(pilot, "1")[-1] == "116.0*"  # no data from Friday on
        await pilot.press("g")
        await loaded(pilot)
        assert "by zone" in text(pilot, "#cons-view")
        assert columns(pilot)[1:] == ["Offices", "Workshop"]
        assert column(pilot, "0")[2] == "104.0"  # lighting and heat pump
        assert column(pilot, "1")[2] == "72.0"  # heat pump and annex
        await pilot.press("g")
        await loaded(pilot)
        assert "by switchboard" in text(pilot, "#cons-view")
        assert columns(pilot)[1:] == ["Main board", "Annex board"]
        assert column(pilot, "1")[0] == "12.0"
        await pilot.press("g")
        await loaded(pilot)
        assert "by circuit" in text(pilot, "#cons-view")


async def test_previous_and_next_week(box: Runtime) -> None:
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot, "consumption_partial")
        await pilot.press("w", "right")
        await loaded(pilot)
        assert "Week 4, Jan 20" in text(pilot, "#cons-view")
        assert set(column(pilot, "0")[:-1]) == {"—"}
        await pilot.press("left", "left")
        await loaded(pilot)
        assert "Week 2, Jan 6" in text(pilot, "#cons-view")
        # Recording starts on Sunday 12 at 23:00: the days before are missing, and Sunday
        # itself is known for its last hour only.
        assert column(pilot, "0") == ["—"] * 6 + ["2.1*", "2.1*"]


async def test_stacked_or_side_by_side(box: Runtime) -> None:
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot, "consumption_partial")
        await pilot.press("w")
        await loaded(pilot)
        chart = app.screen.query_one(Histogram)
        assert chart.chart.stacked
        assert [s.name for s in chart.chart.series] == ["Heating", "Lighting", "No circuit"]
        bottom = chart.render().split("\n")[-2]  # the lowest row of bars
        stacked_colours = {str(span.style) for span in bottom.spans if span.start < 8}
        await pilot.press("x")
        await loaded(pilot)
        assert not chart.chart.stacked
        assert "side by side" in text(pilot, "#cons-view")
        bottom = chart.render().split("\n")[-2]
        side_colours = {str(span.style) for span in bottom.spans if span.start < 9}
        assert len(stacked_colours) == 1 and len(side_colours) == 3


async def test_one_two_three_keep_the_view(box: Runtime) -> None:
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot)
        await pilot.press("m", "left")
        await loaded(pilot)
        await pilot.press("2")
        await loaded(pilot)
        assert isinstance(app.screen, PartialScreen)
        assert "December 2024" in text(pilot, "#cons-view")
        await pilot.press("1")
        await loaded(pilot)
        assert isinstance(app.screen, TotalScreen)
        assert "December 2024" in text(pilot, "#cons-view")
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "HomeScreen"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_snapshot_partial(snap_compare: Any, tmp_path: Path, language: str) -> None:
    async def run_before(pilot: Any) -> None:
        await open_total(pilot, "consumption_partial")
        await pilot.press("w")
        await loaded(pilot)

    app = SnapshotApp(tmp_path, "home", language=language, prepare=seed_site)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_snapshot_partial_16_colours(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        await open_total(pilot, "consumption_partial")
        await pilot.press("w")
        await loaded(pilot)

    app = SnapshotApp(tmp_path, "home", prepare=seed_site, colors=16)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_help_lists_the_screens_own_keys_the_footer_has_no_room_for(box: Runtime) -> None:
    app = make_box_app(box, "home", language="fr")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot, "consumption_partial")
        await pilot.press("f1")
        await pilot.pause()
        lines = [str(s.render()) for s in app.screen.query(".screen-key")]
        assert any(line.startswith("g ") and "Regrouper" in line for line in lines)
        assert any(line.startswith("y ") and "Année" in line for line in lines)  # hidden key
        assert not any("Aide" in line for line in lines)  # the app's keys are listed apart
        await pilot.press("escape")
        assert isinstance(app.screen, PartialScreen)


async def test_the_total_row_has_no_bar_under_the_cursor(box: Runtime) -> None:
    """Partial's handler took the chart's cursor off on the Total row, then the base class's
    (Textual calls both) put it back on a bar index the chart does not have."""
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot, "consumption_partial")
        await pilot.press("w")
        await loaded(pilot)
        chart = app.screen.query_one(Histogram)
        await pilot.press(*["down"] * 7)
        await pilot.pause()
        assert app.screen.query_one("#cons-table", DataTable).cursor_row == 7  # Total
        assert chart.cursor is None
        await pilot.press("up")
        await pilot.pause()
        assert chart.cursor == 6
