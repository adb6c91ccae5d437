"""Issue 16, item 4: every state reads without colour.

A session with ``NO_COLOR`` set (a monochrome terminal's user sets it) on a 16-colour line
gets the ANSI theme; the screens are then read as plain text, colour dropped: every state
(ON, OFF, communication error, alarm severity, a tick ticked or not) must still differ by
a symbol or a word. Before, a tick showed "▐X▌" ticked or not: only its colour changed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Checkbox, OptionList, SelectionList, Static, Switch

from ews_tui.domain.edits import save_device, save_group
from ews_tui.domain.events import DeviceState, DeviceStateChanged
from ews_tui.domain.installation import LOCAL_GATEWAY_ID, Device, Zone
from ews_tui.runtime import Runtime
from ews_tui.services.installation import InstallationService
from ews_tui.ui.app import ANSI_THEME, EwsApp
from ews_tui.ui.screens.devices import DevicesScreen
from ews_tui.ui.session import Role
from ews_tui.ui.widgets.ticks import TICKED, UNTICKED
from tests.ui.box_fixtures import box_runtime, make_box_app
from tests.ui.screen_text import screen_text
from tests.ui.test_alarms import raise_alarms

SIZE = (80, 24)
NO_COLOR = {"env": {"NO_COLOR": "1", "TERM": "vt100"}}


@pytest.fixture
async def box(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path) as rt:
        yield rt


def monochrome(rt: Runtime, screen: str, role: Role = Role.SYSTEM) -> EwsApp:
    app = make_box_app(rt, screen, role=role, colors=16, extra=NO_COLOR)
    assert app.theme == ANSI_THEME
    return app


def list_lines(widget: SelectionList[Any]) -> list[str]:
    """Each option's line as drawn, without colour."""
    return [widget.render_line(y).text.rstrip() for y in range(widget.option_count)]


async def open_devices(app: EwsApp, pilot: Any) -> None:
    """Local's devices, opened from the app's own task (as the Gateways screen does): the
    screen then runs in the session's language, not in whatever the test's task has."""
    app.call_later(app.open_screen, "devices", gateway_id=LOCAL_GATEWAY_ID)
    for _ in range(50):
        await pilot.pause()
        if isinstance(app.screen, DevicesScreen):
            return
    raise AssertionError("Devices did not open")


async def add(rt: Runtime, device: Device) -> Device:
    service = rt.get(InstallationService)
    await service.apply(save_device, device)
    return service.current.devices[-1]


async def test_ticks_read_ticked_or_not_without_colour(box: Runtime) -> None:
    service = box.get(InstallationService)
    await service.apply(save_group, Zone(0, "Offices"))
    await service.apply(save_group, Zone(0, "Workshop"))
    offices = service.current.zones[0].id
    await add(box, Device(0, LOCAL_GATEWAY_ID, "0 146 68", 5, "Lighting", zone_ids=(offices,)))
    app = monochrome(box, "gateways")
    async with app.run_test(size=SIZE) as pilot:
        await open_devices(app, pilot)
        zones = app.screen.query_one("#zones-list", SelectionList)
        assert list_lines(zones) == [f"{TICKED} Offices", f"{UNTICKED} Workshop"]
        zones.select_all()
        await pilot.pause()
        assert list_lines(zones) == [f"{TICKED} Offices", f"{TICKED} Workshop"]

        await pilot.press("v")  # Advanced: exclude from totals
        await pilot.pause()
        exclude = app.screen.query_one("#exclude-totals", Checkbox)
        assert str(exclude.render()).startswith(f"{UNTICKED} Exclude from totals")
        exclude.value = True
        await pilot.pause()
        assert str(exclude.render()).startswith(f"{TICKED} Exclude from totals")
        assert f"{TICKED} Exclude from totals" in screen_text(app)


async def test_a_setting_switch_reads_on_or_off_without_colour(box: Runtime) -> None:
    app = monochrome(box, "settings_modbus", role=Role.SERVER)
    async with app.run_test(size=SIZE) as pilot:
        switch = app.screen.query_one("#set-modbus-tcp-server-enabled", Switch)
        assert str(switch.render()) == UNTICKED
        switch.value = True
        await pilot.pause()
        assert str(switch.render()) == TICKED
        assert TICKED in screen_text(app)


async def test_device_states_read_by_their_symbol_and_word(box: Runtime) -> None:
    on = await add(box, Device(0, LOCAL_GATEWAY_ID, "0 146 68", 1, "Meter on"))
    failing = await add(box, Device(0, LOCAL_GATEWAY_ID, "0 146 68", 2, "Meter failing"))
    await add(box, Device(0, LOCAL_GATEWAY_ID, "0 146 68", 3, "Meter off", enabled=False))
    box.hub.publish(DeviceStateChanged(on.id, DeviceState.ON))
    box.hub.publish(DeviceStateChanged(failing.id, DeviceState.COMM_ERROR, "no answer"))
    app = monochrome(box, "gateways")
    async with app.run_test(size=SIZE) as pilot:
        await open_devices(app, pilot)
        screen = app.screen
        assert isinstance(screen, DevicesScreen)
        await pilot.pause()
        listing = screen.query_one("#device-list", OptionList)
        rows = [listing.render_line(y).text.strip() for y in range(listing.option_count)]
        assert [row.split()[-1] for row in rows] == ["*", "x", "-"], rows
        assert screen.focused is listing
        for mark, word in (("*", "On"), ("x", "Communication error"), ("-", "Off")):
            state = screen.query_one("#device-state", Static)
            assert str(state.render()) == f"State: {mark} {word}"
            await pilot.press("down")  # the keys, in the session's own task and language
            await pilot.pause()


async def test_alarm_severities_read_by_their_symbol_and_word(box: Runtime) -> None:
    await raise_alarms(box)
    app = monochrome(box, "alarms")
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(5):
            await pilot.pause()
        shown = screen_text(app)
        assert "× critical" in shown and "‼ major" in shown
        assert "active" in shown and "cleared" in shown
