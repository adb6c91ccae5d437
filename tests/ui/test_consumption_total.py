"""Consumption > Total: the site's amount and cost per period, read from the store through the
Consumption service; previous/next, steps, energies; a gap reads "—", never 0; numbers in the
session's language."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from textual._compositor import ChopsUpdate
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey

from ews_tui.domain.costs import CostSettings
from ews_tui.domain.edits import save_device
from ews_tui.runtime import Runtime
from ews_tui.services.consumption import ConsumptionService
from ews_tui.services.installation import InstallationService
from ews_tui.ui.frames import LineCompositor
from ews_tui.ui.screens.consumption_base import ConsumptionScreen
from ews_tui.ui.screens.consumption_total import TotalScreen
from ews_tui.ui.widgets.histogram import MISSING, Histogram, forget_shared
from ews_tui.ui.widgets.period_grid import PeriodGrid
from ews_tui.ui.widgets.period_grid import forget_shared as forget_shared_lines
from ews_tui.ui.widgets.steady_static import SteadyStatic
from tests.ui.box_fixtures import SnapshotApp, box_runtime, make_box_app
from tests.ui.consumption_fixtures import ANCHOR, LATER, PARIS, seed_site


@pytest.fixture
async def box(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path) as rt:
        await seed_site(rt)
        yield rt


async def loaded(pilot: Any) -> None:
    """Wait for the screen's table to be read and shown: a read has started (on a loaded
    machine the screen's first read may not have begun yet) and none is running."""
    await pilot.pause()
    screen = pilot.app.screen
    for _ in range(400):
        running = [w for w in pilot.app.workers if w.group == "consumption-load"]
        for worker in running:
            await worker.wait()
        if not running and (not isinstance(screen, ConsumptionScreen) or screen.reads > 0):
            break
        await pilot.pause(0.01)
    await pilot.pause()


async def open_total(pilot: Any, screen: str = "consumption_total", **params: Any) -> None:
    """Open ``screen`` at the anchor date, from the app's own task (as the menu does: the
    screen then runs in the session's language)."""
    params = {"anchor": ANCHOR, "clock": lambda: LATER, **params}
    pilot.app.call_later(pilot.app.open_screen, screen, **params)
    for _ in range(20):
        await pilot.pause()
        if type(pilot.app.screen).__module__.endswith(screen):
            break
    await loaded(pilot)


def text(pilot: Any, selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).content)


def column(pilot: Any, key: str) -> list[str]:
    grid = pilot.app.screen.query_one("#cons-table", DataTable)
    return [str(grid.get_cell(row, key)) for row in grid.rows]


def chart_lines(pilot: Any) -> list[str]:
    chart = pilot.app.screen.query_one(Histogram)
    return [line.plain for line in chart.render().split("\n")]


async def test_a_day_shows_its_hours_with_amounts_and_costs(box: Runtime) -> None:
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot)
        assert isinstance(app.screen, TotalScreen)
        assert "Electricity · Day · Wednesday, January 15, 2025" in text(pilot, "#cons-view")
        assert text(pilot, "#cons-totals") == "Total: 116.0 kWh · Cost: €23.20"
        periods = column(pilot, "period")
        assert periods[:2] == ["00:00", "01:00"] and len(periods) == 24
        amounts = column(pilot, "amount")
        assert amounts[0] == "4.0" and amounts[8] == "6.0"
        assert column(pilot, "cost")[8] == "€1.20"


async def test_a_gap_is_missing_never_zero(box: Runtime) -> None:
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot)
        amounts, costs = column(pilot, "amount"), column(pilot, "cost")
        assert amounts[3:6] == ["—", "—", "3.3*"]  # 03:00-05:00 nobody answered
        assert costs[3:5] == ["—", "—"]
        bars = chart_lines(pilot)[1:-1]
        hour = 3 * 3  # three columns per hour, the chart has no left margin
        assert all(line[hour] == MISSING for line in bars)
        assert all(line[0] == " " for line in bars[:2]) and bars[-1][0] != " "


async def test_previous_and_next_day_change_the_range_and_values(box: Runtime) -> None:
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot)
        await pilot.press("left")
        await loaded(pilot)
        assert "Tuesday, January 14, 2025" in text(pilot, "#cons-view")
        assert text(pilot, "#cons-totals") == "Total: 96.0 kWh · Cost: €19.20"
        assert column(pilot, "amount")[8] == "4.0"
        await pilot.press("right", "right")
        await loaded(pilot)
        assert "Thursday, January 16, 2025" in text(pilot, "#cons-view")
        await pilot.press("right")
        await loaded(pilot)
        assert text(pilot, "#cons-totals") == "Total: — · Cost: —"
        assert set(column(pilot, "amount")) == {"—"}


async def test_the_next_day_writes_its_cells_without_a_layout(box: Runtime) -> None:
    """Each ←/→ cleared and rebuilt the table (and set the totals line), which laid the
    whole screen out again at every key, in every session. The same columns and rows get
    their cells written; the totals line, as high as before, repaints alone."""
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot)
        grid = pilot.app.screen.query_one("#cons-table", DataTable)
        totals = pilot.app.screen.query_one("#cons-totals", SteadyStatic)
        rows, layouts = list(grid.rows.values()), totals.layouts
        await pilot.press("left")
        await loaded(pilot)
        assert text(pilot, "#cons-totals") == "Total: 96.0 kWh · Cost: €19.20"
        assert column(pilot, "amount")[8] == "4.0"
        assert all(a is b for a, b in zip(grid.rows.values(), rows, strict=True))
        assert totals.layouts == layouts


async def test_key_repeats_read_the_store_once(box: Runtime) -> None:
    """Each arrow key read the store and rebuilt the table: ten sessions moving through the
    days took a core. Within the rate cap, a read waits; each newer key replaces it, and
    the one read is of the last view."""
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, TotalScreen)
        screen.load_interval_s = 3600.0  # the waiting read never starts by itself
        reads = screen.reads
        await pilot.press("left", "left", "left", "right")
        for _ in range(200):  # the header follows once the read is late (header_delay_s)
            if "Monday, January 13, 2025" in text(pilot, "#cons-view"):
                break
            await pilot.pause(0.01)
        assert "Monday, January 13, 2025" in text(pilot, "#cons-view")
        waiting = [w for w in pilot.app.workers if w.group == "consumption-load"]
        assert len([w for w in waiting if not w.is_finished]) == 1  # one read, waiting
        assert screen.reads == reads  # nothing read within the interval
        screen.load_interval_s = 0.0
        await pilot.press("left")  # past the interval: read at once, the newer view
        await loaded(pilot)
        assert screen.reads == reads + 1
        assert "Sunday, January 12, 2025" in text(pilot, "#cons-view")


async def test_steps_week_month_year(box: Runtime) -> None:
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot)
        await pilot.press("s")
        await loaded(pilot)
        assert "Week · Week 3, Jan 13" in text(pilot, "#cons-view")
        assert column(pilot, "period")[0] == "Mon, Jan 13"
        assert column(pilot, "amount") == ["96.0", "96.0", "116.0", "96.0", "—", "—", "—"]
        # Friday to Sunday have passed without data: the week is incomplete (*).
        assert text(pilot, "#cons-totals") == "Total: 404.0 kWh* · Cost: €80.80*"
        await pilot.press("s")
        await loaded(pilot)
        assert "Month · January 2025" in text(pilot, "#cons-view")
        assert len(column(pilot, "period")) == 31
        await pilot.press("s")
        await loaded(pilot)
        assert "Year · 2025" in text(pilot, "#cons-view")
        assert column(pilot, "period")[:2] == ["January 2025", "February 2025"]
        assert column(pilot, "amount")[:2] == ["407.3*", "—"]
        await pilot.press("left")
        await loaded(pilot)
        assert "Year · 2024" in text(pilot, "#cons-view")
        await pilot.press("h")  # back to a day: the anchor moved to 2024-01-01
        await loaded(pilot)
        assert "Monday, January 1, 2024" in text(pilot, "#cons-view")


async def test_gas_reads_in_m3_and_kwh_equivalent(box: Runtime) -> None:
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot)
        await pilot.press("w", "e")
        await loaded(pilot)
        assert "Gas · Week" in text(pilot, "#cons-view")
        assert text(pilot, "#cons-totals") == (
            "Total: 9.60 m³* (107.5 kWh equivalent) · Cost: €10.56*"
        )
        assert column(pilot, "amount")[0] == "2.40"
        assert column(pilot, "kwh")[0] == "26.9"
        await pilot.press("e")
        await loaded(pilot)
        assert "Water" in text(pilot, "#cons-view")
        assert text(pilot, "#cons-totals") == "No device meters this energy (Water)."


async def test_the_cost_chart_and_the_cursor(box: Runtime) -> None:
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot)
        chart = app.screen.query_one(Histogram)
        assert chart_lines(pilot)[0].startswith("▲ 6.0 kWh")
        await pilot.press("c")
        await loaded(pilot)
        assert chart_lines(pilot)[0].startswith("▲ €1.20")
        assert chart.cursor == 0  # a past day opens at its first hour
        await pilot.press("down", "down")
        assert chart.cursor == 2
        await pilot.press("left")  # another day keeps the hour under the cursor
        await loaded(pilot)
        assert chart.cursor == 2
        assert app.screen.query_one("#cons-table", DataTable).cursor_row == 2


async def test_a_table_opens_at_its_top_or_on_the_current_period(box: Runtime) -> None:
    """Issue 16: a past day opened scrolled to its last hour; today opens on this hour."""
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot)  # the anchor day, long past
        table = app.screen.query_one("#cons-table", DataTable)
        assert (table.cursor_row, table.scroll_y) == (0, 0)
        await pilot.press("escape")
        await pilot.pause()
        at_ten = datetime(2025, 1, 15, 10, 30, tzinfo=PARIS).timestamp()
        await open_total(pilot, clock=lambda: at_ten)  # the anchor day is today, 10:30
        table = app.screen.query_one("#cons-table", DataTable)
        assert table.cursor_row == 10
        assert "10:00" in str(table.get_row_at(10)[0])


async def test_costs_follow_the_saved_cost_pages(box: Runtime) -> None:
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot)
        await box.get(ConsumptionService).save_costs(CostSettings())
        for _ in range(20):
            await loaded(pilot)
            if text(pilot, "#cons-totals").endswith("Cost: —"):
                break
        assert text(pilot, "#cons-totals") == "Total: 116.0 kWh · Cost: —"


async def test_numbers_and_dates_in_french(box: Runtime) -> None:
    app = make_box_app(box, "home", language="fr")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot)
        await pilot.press("y")
        await loaded(pilot)
        assert "Électricité · Année · 2025" in text(pilot, "#cons-view")
        assert column(pilot, "amount")[0] == "407,3*"  # January: 4 days of 31 recorded
        await pilot.press("m")
        await loaded(pilot)
        assert "janvier 2025" in text(pilot, "#cons-view")
        assert column(pilot, "period")[14] == "mer. 15 janv."
        assert column(pilot, "cost")[14] == "23,20\xa0€"
        assert text(pilot, "#cons-totals") == "Total : 407,3 kWh* · Coût : 81,47\xa0€*"


async def test_the_menu_opens_total(box: Runtime) -> None:
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "enter")  # Live measures, then Consumption
        await loaded(pilot)
        assert isinstance(app.screen, TotalScreen)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_snapshot_total(snap_compare: Any, tmp_path: Path, language: str) -> None:
    async def run_before(pilot: Any) -> None:
        await open_total(pilot)

    app = SnapshotApp(tmp_path, "home", language=language, prepare=seed_site)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_the_costs_entry_opens_total_with_cost_bars(box: Runtime) -> None:
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot, "consumption_costs")
        assert isinstance(app.screen, TotalScreen)
        assert chart_lines(pilot)[0].startswith("▲ €1.20")
        assert column(pilot, "amount")[8] == "6.0"  # the table keeps both
        await pilot.press("c")
        await loaded(pilot)
        assert chart_lines(pilot)[0].startswith("▲ 6.0 kWh")


async def test_an_energy_whose_meters_are_all_excluded_says_so(box: Runtime) -> None:
    service = box.get(InstallationService)
    gas = next(d for d in service.current.devices if d.name == "Boiler gas")
    excluded = replace(gas, advanced=replace(gas.advanced, exclude_from_totals=True))
    await service.apply(save_device, excluded)
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot)
        await pilot.press("e")
        await loaded(pilot)
        assert text(pilot, "#cons-totals") == (
            "Every device of this energy (Gas) is excluded from totals."
        )


async def test_a_read_ending_after_a_switch_does_not_end_the_session(box: Runtime) -> None:
    """Ten sessions pressing 1, 2, 3 as their reads ended: a read finished on a screen being
    switched away found its widgets gone, and NoMatches ended the session."""
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot)
        total = pilot.app.screen
        assert isinstance(total, TotalScreen)
        data = await total.fetch(total.view)
        for child in list(total.query("#cons-totals")):
            await child.remove()  # as a switch prunes the screen, before its workers stop
        await pilot.press("2")
        await pilot.pause()
        assert pilot.app.screen is not total
        total.show_loaded(total.view, data)  # the read that ends now: nothing to show
        assert app.is_running and app.return_code is None


async def test_a_quick_read_draws_its_header_with_its_result(box: Runtime) -> None:
    """A key drew the new period's header at once, then its table a frame later: two frames
    per key in every session. The header now waits for the read (one frame), unless the
    read takes longer than ``header_delay_s``: then it shows first, as the key's answer."""
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ConsumptionScreen)
        before = text(pilot, "#cons-view")
        screen.load_interval_s = 3600.0  # the next read waits for the rate cap...
        screen.header_delay_s = 3600.0  # ... and its header for the read
        await pilot.press("left")
        await pilot.pause()
        assert text(pilot, "#cons-view") == before  # nothing drawn before the result
        assert screen._header_timer is not None
        screen._header_timer.stop()  # a later run of keys (this one's timer is not due)
        screen._header_timer = None
        screen.header_delay_s = 0.01  # a read that takes long: its header comes first
        await pilot.press("left")
        for _ in range(200):
            if text(pilot, "#cons-view") != before:
                break
            await pilot.pause(0.01)
        assert "Monday, January 13" in text(pilot, "#cons-view")
        assert screen.reads == 1  # still waiting for the rate cap


@pytest.mark.parametrize(
    "name", ["consumption_total", "consumption_partial", "consumption_details"]
)
async def test_opening_reads_the_store_once(
    box: Runtime, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each screen's own ``on_mount`` called ``super().on_mount()``, and Textual calls the
    base class's too: every opening started two reads (the second cancelling the first) and
    two Hub subscriptions."""
    reloads: list[ConsumptionScreen] = []
    reload = ConsumptionScreen.reload

    def counted(screen: ConsumptionScreen) -> None:
        reloads.append(screen)
        reload(screen)

    monkeypatch.setattr(ConsumptionScreen, "reload", counted)
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot, name)
        screen = pilot.app.screen
        assert isinstance(screen, ConsumptionScreen)
        assert reloads == [screen]
        assert screen.reads == 1


async def test_a_narrower_column_repaints_the_table_without_a_layout(box: Runtime) -> None:
    """The day before the anchor has no "€0.67*": its cost column is a character narrower.
    The DataTable's new content width laid the whole screen out again (and repainted every
    widget of it) at nearly every ←/→, in every session."""
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot)
        screen = pilot.app.screen
        grid = screen.query_one("#cons-table", DataTable)
        width = grid.columns[ColumnKey("cost")].get_render_width(grid)
        layouts: list[object] = []
        refresh_layout = screen._refresh_layout

        def counted(*args: Any, **kwargs: Any) -> None:
            layouts.append(args)
            refresh_layout(*args, **kwargs)

        screen._refresh_layout = counted  # type: ignore[method-assign]
        await pilot.press("left")
        await loaded(pilot)
        await pilot.pause()
        assert column(pilot, "cost")[5] == "€0.80"
        assert grid.columns[ColumnKey("cost")].get_render_width(grid) == width - 1
        assert layouts == []
        await pilot.press("s")  # a week: another number of rows lays out, as it must
        await loaded(pilot)
        await pilot.pause()
        assert layouts


async def test_a_chart_is_drawn_once_per_change(box: Runtime) -> None:
    """The chart was a Text turned into Textual's Content at every repaint of the widget;
    its strips are now made once per chart, cursor and size."""
    forget_shared()  # no drawing of another test's chart
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot)
        chart = pilot.app.screen.query_one(Histogram)
        draws = chart.draws
        chart.refresh()  # a repaint with nothing new
        await pilot.pause()
        assert chart.draws == draws
        await pilot.press("down")
        await pilot.pause()
        assert chart.draws == draws + 1  # the cursor moved
        assert chart_lines(pilot)[-1].startswith("00 01")


async def test_sessions_on_the_same_period_share_its_read_and_its_chart(box: Runtime) -> None:
    """Ten sessions moving to the same day read the store and drew the chart ten times;
    the table is read once for all, and the chart drawn once, until the data change."""
    forget_shared()
    forget_shared_lines()
    service = box.get(ConsumptionService)
    first, second = make_box_app(box, "home"), make_box_app(box, "home")
    async with first.run_test(size=(80, 24)) as one, second.run_test(size=(80, 24)) as two:
        await open_total(one)
        reads = service.reads
        await open_total(two)
        assert service.reads == reads  # the day's tables, kept
        assert column(two, "amount")[3] == "—"  # the gap of the 15th: missing, kept so
        await one.press("left")
        await loaded(one)
        await one.pause()
        assert service.reads == reads + 2  # the day before: its hours and its total
        await two.press("left")
        await loaded(two)
        await two.pause()
        assert service.reads == reads + 2
        assert "Tuesday, January 14" in text(two, "#cons-view")
        assert text(two, "#cons-totals") == text(one, "#cons-totals")
        assert text(two, "#cons-totals") == "Total: 96.0 kWh · Cost: €19.20"
        assert column(two, "amount") == column(one, "amount")
        assert chart_lines(two) == chart_lines(one)
        assert two.app.screen.query_one(Histogram).draws == 0  # the first session's drawing
        grid_one = one.app.screen.query_one(PeriodGrid)
        grid_two = two.app.screen.query_one(PeriodGrid)
        assert grid_one.lines_drawn > 0
        assert grid_two.lines_drawn == 0  # ... and the first session's table lines
        assert [grid_two.render_line(y).text for y in range(1, 10)] == [
            grid_one.render_line(y).text for y in range(1, 10)
        ]


async def test_a_new_period_name_alone_renders_its_line_alone(box: Runtime) -> None:
    """A frame with only the period's name changed rendered every widget of the screen
    whole (Textual takes every widget whose clip touches the box around the changes): the
    name's line is rendered, by the widgets on it."""
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, TotalScreen) and isinstance(screen._compositor, LineCompositor)
        await pilot.pause()
        screen.load_interval_s = 3600.0  # no read ends: only the header's timer draws
        screen.header_delay_s = 0.01
        rendered = screen._compositor.lines_rendered
        await pilot.press("left")
        for _ in range(100):
            if "Tuesday, January 14" in text(pilot, "#cons-view"):
                break
            await pilot.pause(0.01)
        await pilot.pause()
        screen._on_timer_update()  # the frame, drawn now
        assert "Tuesday, January 14" in text(pilot, "#cons-view")
        # The name's line: the Static and the screen's background under it.
        assert 0 < screen._compositor.lines_rendered - rendered <= 2


@pytest.mark.parametrize("name", ["consumption_total", "consumption_details"])
async def test_frames_send_what_the_whole_screen_shows(
    box: Runtime, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """The lines a frame sends (rendered by the widgets on them alone) are those of the
    whole screen rendered at that moment, text and styles, at every frame of a few keys."""
    checked: list[int] = []
    partial = LineCompositor.render_partial_update

    def compared(self: LineCompositor) -> ChopsUpdate | None:
        update = partial(self)
        if update is None:
            return None
        whole = self.render_strips()
        for y, x1, x2 in update.spans:
            sent = [(x, strip) for x, strip in update.chops[y].items() if strip is not None]
            for x, strip in sent:
                expected = whole[y].crop(x, x + strip.cell_length)
                assert list(strip) == list(expected), (y, x, x1, x2)
            checked.append(y)
        return update

    monkeypatch.setattr(LineCompositor, "render_partial_update", compared)
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot, name)
        for key in ("left", "down", "right", "s", "c", "left"):
            await pilot.press(key)
            await loaded(pilot)
            await pilot.pause()
    assert len(set(checked)) > 5  # frames were sent and compared


async def test_a_key_repeat_moves_the_period_name_while_it_lasts(box: Runtime) -> None:
    """Each key restarted the header's timer: in a key repeat faster than ``header_delay_s``
    the period's name stayed still until the repeat ended. The timer started by the first
    key of a run now runs out and draws the period of that moment."""
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ConsumptionScreen)
        screen.load_interval_s = 3600.0  # no read ends: only the header's timer draws
        screen.header_delay_s = 3600.0
        await pilot.press("left")
        timer = screen._header_timer
        assert timer is not None
        await pilot.press("left", "left")
        assert screen._header_timer is timer  # the run's first timer, still due
        screen._header_due()  # as the timer runs out
        await pilot.pause()
        assert "Sunday, January 12, 2025" in text(pilot, "#cons-view")


async def test_a_read_of_a_period_left_is_dropped(
    box: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key pressed while the store is read for the period before: that read is cancelled
    and its tables never drawn; the period the user stopped on is read and shown."""
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, TotalScreen)
        screen.load_interval_s = 0.0
        service = box.get(ConsumptionService)
        table = service.table
        release = asyncio.Event()
        started = asyncio.Event()

        async def slow(first: date, *args: Any) -> Any:
            if first == date(2025, 1, 14):  # the day left: its read hangs
                started.set()
                await release.wait()
            return await table(first, *args)

        monkeypatch.setattr(service, "table", slow)
        shown: list[Any] = []
        show = screen.show

        def counted(data: Any) -> None:
            shown.append(data)
            show(data)

        monkeypatch.setattr(screen, "show", counted)
        await pilot.press("left")
        await started.wait()
        await pilot.press("left")
        await loaded(pilot)
        release.set()
        await pilot.pause()
        assert len(shown) == 1 and shown[0][0].periods[0].local_start.day == 13
        assert "Monday, January 13, 2025" in text(pilot, "#cons-view")
        assert text(pilot, "#cons-totals") == "Total: 96.0 kWh · Cost: €19.20"


async def test_body_cells_are_drawn_without_rich_s_console(box: Runtime) -> None:
    """The DataTable rendered each cell through Rich's console, and every cell again at each
    one written; the body's plain cells are made as one segment each (the snapshots say the
    look is the same), the headers still by the DataTable."""
    forget_shared_lines()  # no line of another test's table
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_total(pilot)
        grid = pilot.app.screen.query_one("#cons-table", PeriodGrid)
        drawn = grid.cells_drawn
        await pilot.press("left")
        await loaded(pilot)
        await pilot.pause()
        assert grid.cells_drawn > drawn
        line = grid.render_line(1 + 5).text  # under the header: 05:00
        assert line.startswith(" 05:00 ") and line.rstrip().endswith("€0.80")
