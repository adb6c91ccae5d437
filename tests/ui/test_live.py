"""Live measures: values of the selected device follow the samples published on the Hub;
missing values and silent devices show "—"; the list filters as one types; OFF devices
are not listed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList, Static

from ews_tui.domain.edits import save_device, set_device_enabled
from ews_tui.domain.events import (
    DeviceState,
    DeviceStateChanged,
    GatewayState,
    GatewayStateChanged,
    Sample,
)
from ews_tui.domain.installation import Device
from ews_tui.runtime import Runtime
from ews_tui.services.installation import InstallationService
from ews_tui.services.live import LiveValues
from ews_tui.ui.screens.live import LiveScreen
from ews_tui.ui.widgets.line_option_list import LineOptionList
from ews_tui.ui.widgets.measure_table import MeasureTable
from ews_tui.ui.widgets.steady_static import SteadyStatic
from tests.ui.box_fixtures import SnapshotApp, box_runtime, make_box_app

METER = Device(0, 1, "0 146 68", 5, name="Main meter")
BREAKER = Device(0, 1, "DPX3 250 MU", 6, name="Feeder DPX3")
GAS = Device(0, 1, "GAS METER", 7, name="Boiler gas", concentrator="4 120 65", position=2)
VALUES = {"v1": 231.4, "v2": None, "i1": 12.25, "p": 8.4, "pf": 0.93, "ea_import": 123456.7}


async def _devices(rt: Runtime) -> None:
    service = rt.get(InstallationService)
    await service.apply(save_device, METER)
    await service.apply(save_device, BREAKER)


@pytest.fixture
async def box(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path) as rt:
        await _devices(rt)
        yield rt


async def _until(pilot, check: Callable[[], bool]) -> None:  # type: ignore[no-untyped-def]
    """Let the screen catch up: its subscription, and its drawing timers (the values are
    drawn at most every REFRESH_S). A deadline, not a count of pauses."""
    deadline = time.monotonic() + 10.0
    while not check():
        assert time.monotonic() < deadline, "still waiting"
        await pilot.pause(0.02)


def _table(pilot) -> MeasureTable:  # type: ignore[no-untyped-def]
    return pilot.app.screen.query_one(MeasureTable)


def _text(pilot, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(pilot.app.screen.query_one(selector, Static).content)


def _listed(pilot) -> list[str]:  # type: ignore[no-untyped-def]
    options = pilot.app.screen.query_one("#live-devices", OptionList)
    return [str(options.get_option_at_index(i).prompt)[2:] for i in range(options.option_count)]


async def test_values_follow_samples(box: Runtime) -> None:
    app = make_box_app(box, "live")
    async with app.run_test(size=(80, 24)) as pilot:
        table = _table(pilot)
        assert table.value_of("v1") == "—"
        box.hub.publish(DeviceStateChanged(1, DeviceState.ON))  # as a poller does
        box.hub.publish(Sample(1, time.time(), VALUES))
        await _until(pilot, lambda: table.value_of("v1") == "231.4")
        assert table.value_of("v2") == "—"  # missing in this poll
        assert table.value_of("u12") == "—"  # not in the sample at all
        assert (table.value_of("i1"), table.value_of("p")) == ("12.25", "8.400")
        assert table.value_of("ea_import") == "123,456.7"
        assert "On" in _text(pilot, "#live-comm")
        box.hub.publish(Sample(1, time.time(), {**VALUES, "v1": 229.0}))
        await _until(pilot, lambda: table.value_of("v1") == "229.0")


async def test_fast_polls_keep_the_energies_a_slow_poll_read(box: Runtime) -> None:
    """A fast-class poll used to replace the whole set of values: the energies, read by the
    slow class once a minute, were blank most of the time."""
    app = make_box_app(box, "live")
    async with app.run_test(size=(80, 24)) as pilot:
        table = _table(pilot)
        box.hub.publish(DeviceStateChanged(1, DeviceState.ON))
        box.hub.publish(Sample(1, time.time(), VALUES))  # fast and slow classes
        await _until(pilot, lambda: table.value_of("ea_import") == "123,456.7")
        box.hub.publish(Sample(1, time.time(), {"v1": 229.0, "p": 8.5}))  # fast only
        await _until(pilot, lambda: table.value_of("v1") == "229.0")
        assert table.value_of("ea_import") == "123,456.7"
        assert table.value_of("p") == "8.500"


async def test_a_gas_meter_shows_its_index_in_m3(box: Runtime) -> None:
    await box.get(InstallationService).apply(save_device, GAS)
    app = make_box_app(box, "live")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"boiler")
        assert "Boiler gas" in _text(pilot, "#live-device")
        table = _table(pilot)
        assert list(table.rows) == ["index"]  # not "Active energy imported ... m3"
        assert (table.label_of("index"), table.get_cell("index", "unit")) == (
            "Meter index",
            "m3",
        )
        box.hub.publish(DeviceStateChanged(3, DeviceState.ON))
        box.hub.publish(Sample(3, time.time(), {"index": 1234.5}))
        await _until(pilot, lambda: table.value_of("index") == "1,234.500")


def _rendered_row(table: MeasureTable, qid: str) -> str:
    """The row as drawn on screen (cells cut to their column's width)."""
    index = table.get_row_index(qid)
    strip = table.render_line(index + 1)  # line 0 is the header
    return "".join(segment.text for segment in strip)


async def test_a_number_is_never_cut(box: Runtime) -> None:
    """The value column kept its first width: 810 727 kWh showed as "810 72" + "kWh", which
    a French reader takes for 810.72."""
    app = make_box_app(box, "live", language="fr")
    async with app.run_test(size=(80, 24)) as pilot:
        table = _table(pilot)
        box.hub.publish(DeviceStateChanged(1, DeviceState.ON))
        box.hub.publish(Sample(1, time.time(), {"v1": 1.0, "ea_import": 810727.0}))
        await _until(pilot, lambda: table.value_of("ea_import") == "810\u202f727,0")
        await pilot.pause()
        assert "810\u202f727,0" in _rendered_row(table, "ea_import")
        huge = 123456789012.345
        box.hub.publish(Sample(1, time.time(), {"ea_export": huge, "ea_import": 810727.0}))
        shown = "123\u202f456\u202f789\u202f012,3"
        await _until(pilot, lambda: table.value_of("ea_export") == shown)
        await pilot.pause()
        row = _rendered_row(table, "ea_export")
        assert shown in row and "kWh" in row  # the label gives way, not the number
        assert "…" in row, row


async def test_no_value_can_crash_the_screen(box: Runtime) -> None:
    """A float32 read with the wrong word order gave -3.2e32: babel raised and the whole
    UI process ended."""
    app = make_box_app(box, "live", language="fr")
    async with app.run_test(size=(80, 24)) as pilot:
        table = _table(pilot)
        box.hub.publish(DeviceStateChanged(1, DeviceState.ON))
        bad = {"ea_import": -3.2e32, "v1": float("nan"), "p": float("inf"), "i1": -0.0}
        box.hub.publish(Sample(1, time.time(), bad))
        await _until(pilot, lambda: table.value_of("ea_import") == "-3,2E32")
        assert (table.value_of("v1"), table.value_of("p"), table.value_of("i1")) == (
            "—",
            "∞",
            "0,00",
        )
        assert app.is_running


async def test_comm_error_shows_missing_values_and_the_state(box: Runtime) -> None:
    app = make_box_app(box, "live")
    async with app.run_test(size=(80, 24)) as pilot:
        table = _table(pilot)
        box.hub.publish(Sample(1, time.time(), VALUES))
        await _until(pilot, lambda: table.value_of("v1") == "231.4")
        box.hub.publish(DeviceStateChanged(1, DeviceState.COMM_ERROR, "no answer"))
        await _until(pilot, lambda: table.value_of("v1") == "—")
        assert table.value_of("i1") == "—"
        assert "Comm. error" in _text(pilot, "#live-comm")
        assert "no answer" in _text(pilot, "#live-comm")


async def test_silent_gateway_hides_the_values(box: Runtime) -> None:
    app = make_box_app(box, "live")
    async with app.run_test(size=(80, 24)) as pilot:
        table = _table(pilot)
        box.hub.publish(Sample(1, time.time(), VALUES))
        await _until(pilot, lambda: table.value_of("v1") == "231.4")
        box.hub.publish(GatewayStateChanged(1, GatewayState.COMM_ERROR))
        await _until(pilot, lambda: table.value_of("v1") == "—")
        assert "(gateway)" in _text(pilot, "#live-comm")


async def test_breaker_state(box: Runtime) -> None:
    app = make_box_app(box, "live")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter", "down")  # Enter: to the list; the highlighted one shows
        await _until(pilot, lambda: "Feeder DPX3" in _text(pilot, "#live-device"))
        table = _table(pilot)
        box.hub.publish(Sample(2, time.time(), {"breaker": "tripped", "i1": 0.0}))
        await _until(pilot, lambda: table.value_of("breaker") == "Tripped")
        assert "Tripped" in _text(pilot, "#live-breaker")


async def test_search_filters_the_list(box: Runtime) -> None:
    app = make_box_app(box, "live")
    async with app.run_test(size=(80, 24)) as pilot:
        assert _listed(pilot) == ["Main meter", "Feeder DPX3"]
        await pilot.press(*"dpx")  # the search field has the focus
        assert _listed(pilot) == ["Feeder DPX3"]
        assert "Feeder DPX3" in _text(pilot, "#live-device")
        await pilot.press(*"zzz")
        assert _listed(pilot) == []
        assert _text(pilot, "#live-device") == "No device to show."


async def test_off_devices_are_not_listed(box: Runtime) -> None:
    await box.get(InstallationService).apply(set_device_enabled, 2, False)
    app = make_box_app(box, "live")
    async with app.run_test(size=(80, 24)) as pilot:
        assert _listed(pilot) == ["Main meter"]
        await box.get(InstallationService).apply(set_device_enabled, 2, True)
        await _until(pilot, lambda: _listed(pilot) == ["Main meter", "Feeder DPX3"])


def _live_screen(pilot) -> LiveScreen:  # type: ignore[no-untyped-def]
    screen = pilot.app.screen
    assert isinstance(screen, LiveScreen)
    return screen


async def test_values_are_drawn_at_the_rate_cap_and_only_where_they_changed(
    box: Runtime,
) -> None:
    """Every sample redrew the whole table at once: ten sessions on Live measures took a
    core. The board takes each event at once; the table is drawn at the next tick of the
    rate cap (driven by hand here), and only the cells whose text changed are written."""
    app = make_box_app(box, "live")
    async with app.run_test(size=(80, 24)) as pilot:
        screen, table = _live_screen(pilot), _table(pilot)
        screen.refresh_s = 3600.0  # the tick never comes by itself: the test draws
        box.hub.publish(DeviceStateChanged(1, DeviceState.ON))
        box.hub.publish(Sample(1, 100.0, VALUES))
        await _until(pilot, lambda: screen.board.device(1).ts == 100.0)
        assert table.value_of("v1") == "—"  # taken, not drawn yet
        screen.draw_due()
        assert table.value_of("v1") == "231.4"
        written = table.cells_written
        box.hub.publish(Sample(1, 101.0, VALUES))  # the same values again
        await _until(pilot, lambda: screen.board.device(1).ts == 101.0)
        screen.draw_due()
        assert table.cells_written == written
        box.hub.publish(Sample(1, 102.0, {**VALUES, "v1": 229.0}))
        box.hub.publish(Sample(1, 102.5, {**VALUES, "v1": 228.0}))  # two samples, one draw
        await _until(pilot, lambda: screen.board.device(1).ts == 102.5)
        screen.draw_due()
        assert table.value_of("v1") == "228.0"
        assert table.cells_written == written + 1


async def test_key_repeats_in_the_list_build_one_device(box: Runtime) -> None:
    """Each arrow key rebuilt the values table of the device it passed over; now the
    highlight moves at once and the device it rests on is built once."""
    await box.get(InstallationService).apply(save_device, GAS)
    app = make_box_app(box, "live")
    async with app.run_test(size=(80, 24)) as pilot:
        screen, table = _live_screen(pilot), _table(pilot)
        screen.select_delay_s = screen.select_max_delay_s = 3600.0  # the test says when
        built = table.rows_built
        await pilot.press("enter", "down", "down", "up", "down")
        options = pilot.app.screen.query_one("#live-devices", OptionList)
        assert options.highlighted == 2
        assert screen.selected is not None and screen.selected.name == "Main meter"
        assert table.rows_built == built  # nothing built while the keys come
        screen.select_pending()
        assert screen.selected is not None and screen.selected.name == "Boiler gas"
        assert table.rows_built == built + 1
        assert "Boiler gas" in _text(pilot, "#live-device")


async def test_a_selection_already_due_does_not_end_the_session(box: Runtime) -> None:
    """A run of moves longer than the longest wait asked Textual for a 0 s timer, and its
    timer divided by that delay: ZeroDivisionError, the session ended."""
    app = make_box_app(box, "live")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = _live_screen(pilot)
        screen.select_delay_s = screen.select_max_delay_s = 0.0  # due at once
        await pilot.press("enter", "down")
        await _until(pilot, lambda: "Feeder DPX3" in _text(pilot, "#live-device"))
        assert app.is_running and app.return_code is None


async def test_a_meter_of_the_same_model_keeps_the_rows(box: Runtime) -> None:
    """Going from a meter to another of its model rebuilt the table (and laid the screen
    out); the rows stay, the values are the new meter's."""
    second = Device(0, 1, "0 146 68", 8, name="Second meter")
    await box.get(InstallationService).apply(save_device, second)
    app = make_box_app(box, "live")
    async with app.run_test(size=(80, 24)) as pilot:
        screen, table = _live_screen(pilot), _table(pilot)
        box.hub.publish(DeviceStateChanged(1, DeviceState.ON))
        box.hub.publish(Sample(1, 100.0, VALUES))
        await _until(pilot, lambda: table.value_of("v1") == "231.4")
        built = table.rows_built
        meter, feeder, other = (screen.installation.current.device(i) for i in (1, 2, 3))
        assert other is not None and other.name == "Second meter"
        screen.select(other)
        assert table.rows_built == built
        assert table.value_of("v1") == "—"  # the other meter's: nothing read yet
        screen.select(feeder)  # another model: rebuilt
        assert table.rows_built == built + 1
        screen.select(meter)
        assert table.value_of("v1") == "231.4"


async def _publish_before_opening(rt: Runtime, sample: Sample) -> None:
    rt.hub.publish(DeviceStateChanged(sample.device_id, DeviceState.ON))
    rt.hub.publish(sample)
    live = rt.get(LiveValues)
    for _ in range(20):  # one loop turn lets the service's task take the sample
        if live.device(sample.device_id).ts is not None:
            return
        await asyncio.sleep(0)
    raise AssertionError("LiveValues did not take the sample")


async def test_opening_shows_the_latest_values_at_once(box: Runtime) -> None:
    await _publish_before_opening(box, Sample(1, time.time(), VALUES))
    app = make_box_app(box, "live", language="fr")
    async with app.run_test(size=(80, 24)) as pilot:
        assert _table(pilot).value_of("v1") == "231,4"
        assert _table(pilot).value_of("ea_import") == "123\u202f456,7"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_snapshot_live(snap_compare, tmp_path: Path, language: str) -> None:  # type: ignore[no-untyped-def]
    async def prepare(rt: Runtime) -> None:
        await _devices(rt)
        await _publish_before_opening(rt, Sample(1, 0.0, VALUES))

    async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
        await _until(pilot, lambda: _table(pilot).value_of("v1") != "—")
        # The search field's cursor blinks: shown or not depended on how long the run took
        # (the snapshot failed now and then under load). A steady cursor, always drawn.
        pilot.app.screen.query_one("#live-search", Input).cursor_blink = False
        await pilot.pause()

    app = SnapshotApp(tmp_path, "live", language=language, prepare=prepare)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


async def test_a_changed_value_repaints_its_own_line_only(box: Runtime) -> None:
    """The values table was a DataTable: one cell written repainted every cell of every row
    (a fifth of the box's CPU with ten sessions on this screen). Now a changed value draws
    its own line, and a new text of the same height lays nothing out."""
    app = make_box_app(box, "live")
    async with app.run_test(size=(80, 24)) as pilot:
        screen, table = _live_screen(pilot), _table(pilot)
        box.hub.publish(DeviceStateChanged(1, DeviceState.ON))
        box.hub.publish(Sample(1, time.time(), VALUES))
        await _until(pilot, lambda: table.value_of("v1") == "231.4")
        await pilot.pause()
        comm = screen.query_one("#live-comm", SteadyStatic)
        drawn, layouts = table.lines_rendered, comm.layouts
        box.hub.publish(Sample(1, time.time(), {**VALUES, "v1": 229.5}))
        await _until(pilot, lambda: table.value_of("v1") == "229.5")
        await pilot.pause()
        assert table.lines_rendered == drawn + 1
        assert "229.5" in _rendered_row(table, "v1")
        box.hub.publish(DeviceStateChanged(1, DeviceState.COMM_ERROR, "no answer"))
        await _until(pilot, lambda: "no answer" in _text(pilot, "#live-comm"))
        assert comm.layouts == layouts  # one line before, one line now: no layout


async def test_the_values_scroll_under_their_header_from_the_keyboard(box: Runtime) -> None:
    """The table is taller than an 80x24 terminal: a user without a mouse reaches its last
    row with the keys, the header staying on top."""
    app = make_box_app(box, "live")
    async with app.run_test(size=(80, 24)) as pilot:
        table = _table(pilot)
        table.focus()
        await pilot.pause()
        last = table.row_count - 1
        assert last + 1 > table.size.height - 1  # more rows than lines under the header
        await pilot.press("end")
        assert table.cursor_row == last
        assert table.scroll_y > 0
        header = "".join(segment.text for segment in table.render_line(0))
        assert "Quantity" in header
        bottom = "".join(segment.text for segment in table.render_line(table.size.height - 1))
        assert table.label_of(list(table.rows)[last]) in bottom
        await pilot.press("home")
        assert (table.cursor_row, table.scroll_y) == (0, 0)


async def test_a_move_in_the_list_repaints_two_options_only(box: Runtime) -> None:
    """Each ↓ in the device list repainted every line of the list (Textual's OptionList
    repaints itself whole when its highlight moves), in every session typing. Now a move
    draws the option left and the option reached."""
    for address in range(10, 20):
        await box.get(InstallationService).apply(
            save_device, Device(0, 1, "0 146 68", address, name=f"Meter {address}")
        )
    app = make_box_app(box, "live")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = _live_screen(pilot)
        screen.select_delay_s = screen.select_max_delay_s = 3600.0  # no device shown
        options = screen.query_one("#live-devices", LineOptionList)
        await pilot.press("enter")
        await pilot.pause()
        drawn = options.lines_rendered
        await pilot.press("down")
        await pilot.pause()
        assert options.highlighted == 1
        assert options.lines_rendered - drawn == 2
        drawn = options.lines_rendered
        await pilot.press("down", "down", "up")
        await pilot.pause()
        assert options.highlighted == 2
        assert options.lines_rendered - drawn <= 3 * 2
        # The highlight is drawn where it is, and nowhere else.
        styles = [next(iter(options.render_line(y))).style.bgcolor for y in range(4)]
        assert styles[2] != styles[1] and styles[1] == styles[3]
        assert str(options.get_option_at_index(2).prompt) in options.render_line(2).text


async def test_a_state_change_rewrites_its_own_label_only(box: Runtime) -> None:
    """One device changing state rewrote every label of the list (each write clears the
    list's caches and repaints it whole)."""
    await box.get(InstallationService).apply(save_device, GAS)
    app = make_box_app(box, "live")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = _live_screen(pilot)
        screen.refresh_s = 3600.0  # the test draws
        box.hub.publish(DeviceStateChanged(2, DeviceState.COMM_ERROR, "no answer"))
        await _until(pilot, lambda: screen.board.device(2).state is DeviceState.COMM_ERROR)
        screen.draw_due()
        assert screen.relabels == 1
        assert _listed(pilot) == ["Main meter", "Feeder DPX3", "Boiler gas"]
        options = screen.query_one("#live-devices", OptionList)
        marks = [str(options.get_option_at_index(i).prompt)[0] for i in range(3)]
        assert marks[1] != marks[0] == marks[2]
