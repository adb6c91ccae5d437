"""The gateways screen (manual §7.16.1): add, save, delete, ON/OFF, the refusals, EQ device."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from textual.widgets import Input, OptionList, Select, Static

from ews_tui.domain.edits import save_device, save_gateway, set_gateway_enabled
from ews_tui.domain.events import GatewayState, GatewayStateChanged
from ews_tui.domain.installation import Device, Gateway
from ews_tui.runtime import Runtime
from ews_tui.services.installation import InstallationService
from ews_tui.services.live import GatewayLive, LiveValues
from ews_tui.ui.screens.confirm import ConfirmScreen
from ews_tui.ui.screens.devices import DevicesScreen
from ews_tui.ui.screens.gateway_test import GatewayTestScreen
from ews_tui.ui.screens.gateways import GatewaysScreen
from tests.ui.box_fixtures import SnapshotApp, box_runtime, make_box_app
from tests.ui.polling_box import polling_box


def installation(runtime: Runtime) -> InstallationService:
    return runtime.get(InstallationService)


async def add_gateway(runtime: Runtime, name: str, ip: str) -> Gateway:
    service = installation(runtime)
    new_id = service.current.next_id("gateways")
    await service.apply(save_gateway, Gateway(id=0, name=name, ip=ip))
    gateway = service.current.gateway(new_id)
    assert gateway is not None
    return gateway


async def add_device(
    runtime: Runtime, gateway_id: int, model: str, address: int, name: str = ""
) -> Device:
    service = installation(runtime)
    new_id = service.current.next_id("devices")
    await service.apply(
        save_device, Device(id=0, gateway_id=gateway_id, model=model, address=address, name=name)
    )
    device = service.current.device(new_id)
    assert device is not None
    return device


async def publish_and_settle(rt: Runtime, event: GatewayStateChanged) -> None:
    """Publish, then let the LiveValues task (which has no event of its own) take it."""
    rt.hub.publish(event)
    live = rt.get(LiveValues)
    while live.snapshot().gateway(event.gateway_id) != GatewayLive(
        event.gateway_id, event.state, event.detail
    ):
        await asyncio.sleep(0)


async def until(pilot, check: Callable[[], bool], what: str) -> None:  # type: ignore[no-untyped-def]
    """Short pauses until ``check()`` holds (the box polls all the time: never idle)."""
    deadline = time.monotonic() + 20.0
    while not check():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        await pilot.pause(0.05)


def text_of(screen: GatewaysScreen | DevicesScreen | GatewayTestScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def highlight(pilot, screen: GatewaysScreen, gateway_id: int) -> None:  # type: ignore[no-untyped-def]
    ids = [g.id for g in screen.inst.gateways]
    screen.query_one("#gateway-list", OptionList).highlighted = ids.index(gateway_id)
    await pilot.pause()


async def test_add_save_and_delete_a_gateway_with_the_keyboard(make_app, runtime) -> None:
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, GatewaysScreen)
        await pilot.press("a")
        assert screen.focused is screen.query_one("#f-ip")
        await pilot.press(*"192.168.1.20", "enter", "enter", *"Office", "enter", *"Floor 2")
        await pilot.press("ctrl+s")
        await pilot.pause()
        stored = [g for g in installation(runtime).current.gateways if g.name == "Office"]
        assert len(stored) == 1
        office = stored[0]
        assert (office.ip, office.port, office.description) == ("192.168.1.20", 502, "Floor 2")
        assert "saved" in text_of(screen, "#gateway-status")
        listing = screen.query_one("#gateway-list", OptionList)
        assert "192.168.1.20" in str(listing.get_option_at_index(1).prompt)

        await pilot.press("escape")  # from the form back to the list
        assert screen.focused is listing
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert installation(runtime).current.gateway(office.id) is None
        assert listing.option_count == 1


async def test_cancelled_delete_keeps_the_gateway(make_app, runtime) -> None:
    office = await add_gateway(runtime, "Office", "192.168.1.20")
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        await highlight(pilot, app.screen, office.id)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert installation(runtime).current.gateway(office.id) is not None


async def test_local_cannot_be_deleted_only_switched_off(make_app, runtime) -> None:
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await pilot.press("d")
        assert not isinstance(app.screen, ConfirmScreen)
        assert "cannot be deleted, only switched OFF" in text_of(screen, "#gateway-status")
        assert installation(runtime).current.local.enabled
        await pilot.press("o")
        await pilot.pause()
        assert not installation(runtime).current.local.enabled
        assert "Off" in text_of(screen, "#gateway-state")


async def test_a_gateway_with_devices_cannot_be_deleted(make_app, runtime) -> None:
    office = await add_gateway(runtime, "Office", "192.168.1.20")
    await add_device(runtime, office.id, "SDM630", 3)
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await highlight(pilot, screen, office.id)
        await pilot.press("d")
        assert not isinstance(app.screen, ConfirmScreen)
        assert 'gateway "Office" still has 1 devices' in text_of(screen, "#gateway-status")
        assert installation(runtime).current.gateway(office.id) is not None


async def test_duplicate_name_and_bad_ip_show_under_their_field_and_block_save(
    make_app, runtime
) -> None:
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await pilot.press("a")
        screen.query_one("#f-ip", Input).value = "192.168.1.300"
        screen.query_one("#f-name", Input).value = "local"
        await pilot.pause()
        assert '"192.168.1.300" is not an IPv4 address' in text_of(screen, "#err-ip")
        assert "already used by another gateway" in text_of(screen, "#err-name")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert len(installation(runtime).current.gateways) == 1
        assert "Not saved" in text_of(screen, "#gateway-status")
        screen.query_one("#f-ip", Input).value = "192.168.1.30"
        screen.query_one("#f-name", Input).value = "Workshop"
        await pilot.pause()
        assert not screen.query_one("#err-ip").display
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert [g.name for g in installation(runtime).current.gateways] == ["Local", "Workshop"]


async def test_the_local_ip_is_not_editable(make_app, runtime) -> None:
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        ip = screen.query_one("#f-ip", Input)
        assert ip.disabled and ip.value == "127.0.0.1"
        screen.query_one("#f-name", Input).value = "RS485 bus"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        local = installation(runtime).current.local
        assert (local.name, local.ip) == ("RS485 bus", "127.0.0.1")
        # Even a forged change of the IP is refused by the domain, shown under the field.
        assert not await screen.save(replace(local, ip="10.0.0.9"))
        assert "fixed at 127.0.0.1" in text_of(screen, "#err-ip")
        assert installation(runtime).current.local.ip == "127.0.0.1"


async def test_gateway_off_shows_its_devices_off(make_app, runtime) -> None:
    office = await add_gateway(runtime, "Office", "192.168.1.20")
    await add_device(runtime, office.id, "SDM630", 3, "Main")
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await highlight(pilot, screen, office.id)
        await pilot.press("o")
        await pilot.pause()
        assert not installation(runtime).current.gateway(office.id).enabled
        assert "○" in str(
            screen.query_one("#gateway-list", OptionList).get_option_at_index(1).prompt
        )
        await pilot.press("v")
        await pilot.pause()
        devices = app.screen
        assert isinstance(devices, DevicesScreen) and devices.gateway_id == office.id
        row = str(devices.query_one("#device-list", OptionList).get_option_at_index(0).prompt)
        assert "Main" in row and "○" in row
        assert "Off" in text_of(devices, "#device-state")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_eq_device_offers_thd_models_and_refuses_others(make_app, runtime) -> None:
    office = await add_gateway(runtime, "Office", "192.168.1.20")
    sdm630 = await add_device(runtime, office.id, "SDM630", 3, "Head")
    sdm120 = await add_device(runtime, office.id, "SDM120", 4, "Lights")
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await highlight(pilot, screen, office.id)
        assert [value for _label, value in screen.eq_candidates(office.id)] == [sdm630.id]
        screen.query_one("#f-eq_device", Select).value = sdm630.id
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert installation(runtime).current.gateway(office.id).eq_device_id == sdm630.id
        gateway = installation(runtime).current.gateway(office.id)
        assert not await screen.save(replace(gateway, eq_device_id=sdm120.id))
        assert "neither THD nor harmonics" in text_of(screen, "#err-eq_device")
        assert installation(runtime).current.gateway(office.id).eq_device_id == sdm630.id


async def test_test_reads_each_device_of_the_gateway_and_names_user_addresses(
    tmp_path: Path,
) -> None:
    """Manual §7.16.1.2 step 4, through the gateway's bus poller against a real simulator."""
    async with polling_box(tmp_path) as box:
        app = make_box_app(box.runtime, "gateways")
        async with app.run_test(size=(80, 24)) as pilot:
            await highlight(pilot, app.screen, box.gateway.id)
            await pilot.press("t")
            panel = app.screen
            assert isinstance(panel, GatewayTestScreen)
            await until(pilot, lambda: panel.result is not None, "the gateway test")
            summary = text_of(panel, "#gateway-test-summary")
            assert "The gateway answers. Devices tested: 4; without an answer: 1." in summary
            lines = [str(line.render()) for line in panel.query(".gateway-test-line")]
            assert len(lines) == 4  # the switched-off device is not read
            head, feeder, silent, gas = lines
            assert head.startswith("● 3 Head") and re.search(r"Voltage L1-N 2\d\d(\.\d+)? V", head)
            assert feeder.startswith("● 2-1 (unit 12) Feeder") and " V" in feeder
            assert silent.startswith("✕ 3-2 (unit 23) Silent")
            assert "address 3-2 (unit 23) answered exception 11" in silent
            assert gas.startswith("● 7-2 (unit 7) Gas"), gas
            assert re.search(r"Meter index [\d,]+\.\d{3} m³|Active energy imported", gas), gas
            await pilot.press("escape")
            assert isinstance(app.screen, GatewaysScreen)


async def test_test_of_an_unreachable_gateway_says_why(tmp_path: Path) -> None:
    async with polling_box(tmp_path) as box:
        await box.endpoint.close()  # the gateway goes away
        rt = box.runtime
        await installation(rt).apply(set_gateway_enabled, box.gateway.id, False)
        await installation(rt).apply(set_gateway_enabled, box.gateway.id, True)  # a new poller
        app = make_box_app(rt, "gateways")
        async with app.run_test(size=(80, 24)) as pilot:
            await highlight(pilot, app.screen, box.gateway.id)
            await pilot.press("t")
            panel = app.screen
            assert isinstance(panel, GatewayTestScreen)
            await until(pilot, lambda: panel.result is not None, "the gateway test")
            summary = text_of(panel, "#gateway-test-summary")
            assert summary.startswith("✕ The gateway cannot be reached: 127.0.0.1:"), summary
            assert "not connected" in summary
            assert not panel.query(".gateway-test-line")


async def test_states_known_before_opening_and_from_events(tmp_path: Path) -> None:
    async with box_runtime(tmp_path) as rt:
        office = await add_gateway(rt, "Office", "192.168.1.20")
        await publish_and_settle(rt, GatewayStateChanged(office.id, GatewayState.COMM_ERROR))
        app = make_box_app(rt, "gateways")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = app.screen
            listing = screen.query_one("#gateway-list", OptionList)
            assert "✕" in str(listing.get_option_at_index(1).prompt)
            rt.hub.publish(GatewayStateChanged(office.id, GatewayState.ON))
            await pilot.pause()
            assert "●" in str(listing.get_option_at_index(1).prompt)


# ----------------------------------------------------------------------------- snapshots


async def _site(rt: Runtime) -> None:
    office = await add_gateway(rt, "Office", "192.168.1.20")
    await add_device(rt, office.id, "SDM630", 3, "Head")
    await publish_and_settle(rt, GatewayStateChanged(office.id, GatewayState.COMM_ERROR))


def test_snapshot_gateways_en(snap_compare, tmp_path: Path) -> None:
    app = SnapshotApp(tmp_path, "gateways", prepare=_site)
    assert snap_compare(app, terminal_size=(80, 24))


def test_snapshot_gateways_fr(snap_compare, tmp_path: Path) -> None:
    app = SnapshotApp(tmp_path, "gateways", language="fr", prepare=_site)
    assert snap_compare(app, terminal_size=(80, 24))


async def test_back_from_the_devices_the_form_is_not_filled_again(make_app, runtime) -> None:
    """Issue 16: the form is composed holding Local and filled once; back from the devices
    it is filled again only when the installation changed meanwhile (an edit not saved
    yet stays as typed)."""
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, GatewaysScreen)
        description = screen.query_one("#f-description", Input)
        assert screen.query_one("#f-ip", Input).disabled
        description.value = "Basement"
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, DevicesScreen), "the devices")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "the gateways again")
        await pilot.pause()
        assert description.value == "Basement"

        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, DevicesScreen), "the devices")
        await add_device(runtime, screen.inst.local.id, "0 146 68", 7, "Boiler")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "the gateways again")
        await until(pilot, lambda: "Devices: 1" in text_of(screen, "#gateway-state"), "count")
        assert description.value == ""


async def test_opening_validates_the_form_once(make_app, runtime, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 16 item 6: the open asked the rules seven times for the same form (the mount,
    then the first Changed of each field), each a whole installation's validation."""
    calls: list[Gateway] = []

    def counted(inst, gateway, context):  # type: ignore[no-untyped-def]
        calls.append(gateway)
        return save_gateway(inst, gateway, context)

    monkeypatch.setattr("ews_tui.ui.screens.gateways.save_gateway", counted)
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert len(calls) == 1
        screen = app.screen
        await pilot.press("a", *"192.168.1.300")
        await pilot.pause()
        assert '"192.168.1.300" is not an IPv4 address' in text_of(screen, "#err-ip")
        checked = len(calls)
        screen.query_one("#f-ip", Input).value = "192.168.1.300"  # the same form again
        await pilot.pause()
        assert len(calls) == checked
        await pilot.press("backspace")  # a change is checked, and its problem goes
        await pilot.pause()
        assert len(calls) == checked + 1
        assert not screen.query_one("#err-ip").display
