"""``ews demo`` end to end (issue 4, "Must show"): the real demo box (simulators on a pty and
on loopback, the whole runtime polling them) and the UI driven with keys like a user.

It opens on the login screen; PIN 88888 and its PUK lead (through the forced PIN change) to
home, then System configuration > Gateways and devices shows ``Local 127.0.0.1``; Local's
devices are listed and answer, and Live measures show their values as numbers. PINs are
hashed with a cheap scrypt cost here (the real cost is tested in tests/services/test_auth.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from ews_tui.cli.demo import demo_box
from ews_tui.domain.installation import LOCAL_GATEWAY_ID
from ews_tui.runtime import Runtime
from ews_tui.services.installation import InstallationService
from ews_tui.ui.app import EwsApp
from ews_tui.ui.screens.change_pin import ChangePinScreen
from ews_tui.ui.screens.devices import DevicesScreen
from ews_tui.ui.screens.gateways import GatewaysScreen
from ews_tui.ui.screens.home import HomeScreen
from ews_tui.ui.screens.live import LiveScreen
from ews_tui.ui.screens.login import LoginScreen
from ews_tui.ui.session import Role, Session
from ews_tui.ui.widgets.measure_table import MeasureTable
from tests.ui.box_fixtures import CHEAP_SCRYPT

SIZE = (80, 24)
SYSTEM_PIN, SYSTEM_PUK, NEW_PIN = "88888", "00000 8888 00000", "24680"
DEADLINE_S = 20.0  # the simulators answer in milliseconds; this is a safety net under load
NUMBER = re.compile(r"^-?[\d\u202f,. ]+$")


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with demo_box(tmp_path, wire_time=False, scrypt=CHEAP_SCRYPT) as rt:
        yield rt


async def until(pilot: Pilot[None], check: Callable[[], bool], what: str) -> None:
    """Let the app run until ``check()`` holds, or fail after the deadline.

    Short fixed pauses, not ``pilot.pause()``: that one waits for the process to be idle,
    and the demo box polls its simulators all the time.
    """
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        await pilot.pause(0.05)


async def type_in(pilot: Pilot[None], value: str) -> None:
    """Type ``value`` key by key into the focused field, then Enter."""
    await pilot.press(*value, "enter")


async def enter(pilot: Pilot[None], field: str, value: str) -> None:
    """Fill the field ``field`` (it must have the focus) at once, then Enter.

    Typing key by key, spaces in the PUK included, is proven by tests/ui/test_login.py;
    here it would only add seconds.
    """
    await until(pilot, lambda: pilot.app.focused is pilot.app.screen.query_one(field), field)
    pilot.app.screen.query_one(field, Input).value = value
    await pilot.press("enter")


async def choose(pilot: Pilot[None], listing: OptionList, option_id: str) -> None:
    """Move the highlight down to ``option_id`` with the arrow key, then Enter."""
    for _ in range(listing.option_count):
        option = listing.highlighted_option
        if option is not None and option.id == option_id:
            await pilot.press("enter")
            return
        await pilot.press("down")
    raise AssertionError(f"no option {option_id} in {listing.id}")


def rows(listing: OptionList) -> list[str]:
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


async def log_in(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app.screen, LoginScreen)
    assert app.focused is app.screen.query_one("#pin", Input)
    await type_in(pilot, SYSTEM_PIN)
    await enter(pilot, "#puk", SYSTEM_PUK)
    await until(pilot, lambda: isinstance(app.screen, ChangePinScreen), "the PIN change")
    await enter(pilot, "#new", NEW_PIN)
    await enter(pilot, "#confirm", NEW_PIN)
    screen = app.screen
    assert isinstance(screen, ChangePinScreen)
    await until(pilot, lambda: screen.shown_puk is not None, "the new PUK, shown once")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")


async def test_demo_login_gateways_devices_and_live_values(demo: Runtime) -> None:
    local_devices = [
        d.display_name() for d in demo.get(InstallationService).current.devices_of(LOCAL_GATEWAY_ID)
    ]
    assert len(local_devices) == 8
    app = EwsApp(Session(demo, language="en"))
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot)
        assert app.session.role is Role.SYSTEM

        # Home > System configuration > Gateways and devices.
        home = app.screen
        await choose(pilot, home.query_one("#menu", OptionList), "gateways")
        await until(pilot, lambda: isinstance(app.screen, GatewaysScreen), "the gateways")
        gateways = app.screen
        assert isinstance(gateways, GatewaysScreen)
        gateway_rows = gateways.query_one("#gateway-list", OptionList)
        local_row = rows(gateway_rows)[0]
        assert re.match(r"127\.0\.0\.1\s+Local\b", local_row), local_row
        assert len(rows(gateway_rows)) == 3  # Local and the two IP gateways of the site
        await until(pilot, lambda: "●" in rows(gateway_rows)[0], "Local's bus to be on")

        # Enter on Local: its devices, all answering the simulators.
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DevicesScreen), "the devices")
        devices = app.screen
        assert isinstance(devices, DevicesScreen) and devices.gateway_id == LOCAL_GATEWAY_ID
        device_rows = devices.query_one("#device-list", OptionList)
        for name in local_devices:
            assert any(name[:20] in row for row in rows(device_rows)), (name, rows(device_rows))
        await until(
            pilot, lambda: all(row.endswith("●") for row in rows(device_rows)), "devices on"
        )

        # Test the device in the form (the first, the main meter): it answers with numbers.
        assert devices.form.subject.name == "Main meter"
        await pilot.press("t")
        status = devices.query_one("#device-status", Static)
        await until(pilot, lambda: str(status.render()).startswith("Test"), "the test")
        await until(pilot, lambda: "Testing" not in str(status.render()), "the test's answer")
        answer = str(status.render())
        assert answer.startswith("Test: "), answer
        assert re.search(r" · Voltage L1-N \d+(\.\d+)? V", answer), answer

        # Back home, then Consultation > Live measures: the values are numbers.
        await pilot.press("escape", "escape")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen), "home again")
        await choose(pilot, app.screen.query_one("#menu", OptionList), "live")
        await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the live measures")
        live = app.screen
        assert isinstance(live, LiveScreen)
        assert live.selected is not None and live.selected.name == "Main meter"
        table = live.query_one(MeasureTable)
        await until(pilot, lambda: NUMBER.match(table.value_of("v1")) is not None, "live v1")
        assert NUMBER.match(table.value_of("p")), table.value_of("p")
