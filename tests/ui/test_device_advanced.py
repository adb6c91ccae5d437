"""A device's Advanced page (manual §7.16.1.4): exclude from totals, exclude from alarms
(only where the model allows it), input/output labels (only for models with labels)."""

from __future__ import annotations

from typing import Any

from textual.widgets import Checkbox, Input, OptionList, Static

from ews_tui.domain.edits import save_device
from ews_tui.domain.installation import LOCAL_GATEWAY_ID, Device
from ews_tui.runtime import Runtime
from ews_tui.services.installation import InstallationService
from ews_tui.ui.screens.device_advanced import DeviceAdvancedScreen
from ews_tui.ui.screens.devices import DevicesScreen


async def add(runtime: Runtime, model: str, address: int, name: str) -> Device:
    service = runtime.get(InstallationService)
    new_id = service.current.next_id("devices")
    await service.apply(save_device, Device(0, LOCAL_GATEWAY_ID, model, address, name))
    return service.current.device(new_id)  # type: ignore[return-value]


def current(runtime: Runtime, device: Device) -> Device:
    found = runtime.get(InstallationService).current.device(device.id)
    assert found is not None
    return found


async def open_advanced(app: Any, pilot: Any, device: Device) -> DeviceAdvancedScreen:
    """From the devices list: highlight ``device``, then the ``v`` key."""
    app.open_screen("devices", gateway_id=LOCAL_GATEWAY_ID)
    await pilot.pause()
    devices = app.screen
    assert isinstance(devices, DevicesScreen)
    listing = devices.query_one("#device-list", OptionList)
    ids = [int(listing.get_option_at_index(i).id) for i in range(listing.option_count)]
    listing.highlighted = ids.index(device.id)
    await pilot.pause()
    await pilot.press("v")
    await pilot.pause()
    assert isinstance(app.screen, DeviceAdvancedScreen)
    return app.screen


async def test_io_device_labels_and_exclude_from_totals(make_app, runtime) -> None:
    io = await add(runtime, "0 261 36", 5, "Signals")
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_advanced(app, pilot, io)
        assert screen.label_keys() == ["in1", "in2", "in3", "in4", "out1", "out2"]
        assert not screen.query("#exclude-alarms")  # not an EMS CX3, DPX3 or DMX3
        await pilot.click("#exclude-totals")
        screen.query_one("#label-in1", Input).value = "Door"
        screen.query_one("#label-out2", Input).value = "Fan"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        advanced = current(runtime, io).advanced
        assert advanced.exclude_from_totals and not advanced.exclude_from_alarms
        assert advanced.labels == (("in1", "Door"), ("out2", "Fan"))
        assert "saved" in str(screen.query_one("#advanced-status", Static).render())
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DevicesScreen)


async def test_breaker_can_be_excluded_from_alarms_and_has_no_labels(make_app, runtime) -> None:
    breaker = await add(runtime, "DPX3 250 MU", 6, "Incomer")
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_advanced(app, pilot, breaker)
        assert screen.label_keys() == []
        assert not screen.query(Input)
        screen.query_one("#exclude-alarms", Checkbox).value = True
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        advanced = current(runtime, breaker).advanced
        assert advanced.exclude_from_alarms and not advanced.exclude_from_totals


async def test_a_meter_without_alarm_exclusion_offers_only_totals(make_app, runtime) -> None:
    meter = await add(runtime, "SDM630", 7, "Head")
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_advanced(app, pilot, meter)
        assert [box.id for box in screen.query(Checkbox)] == ["exclude-totals"]
        await pilot.press("space", "s")  # the checkbox has the focus
        await pilot.pause()
        assert current(runtime, meter).advanced.exclude_from_totals


async def test_advanced_needs_a_saved_device(make_app, runtime) -> None:
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_screen("devices", gateway_id=LOCAL_GATEWAY_ID)
        await pilot.pause()
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, DevicesScreen)
        assert "Save the device first" in str(app.screen.query_one("#device-status").render())
