"""The devices screen and its form (manual §7.16.1.3): one device of every family through
the form, EMS CX3 ``2-1``, pulse meters, the two-sided charger's other side, the generic
meter's four fields, live validation, ON/OFF, delete, search."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.widgets import Input, OptionList, Select, SelectionList, Static

from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.edits import save_device, save_group
from ews_tui.domain.installation import LOCAL_GATEWAY_ID, Device, GenericRegister, Zone
from ews_tui.runtime import Runtime
from ews_tui.services.installation import InstallationService
from ews_tui.ui.screens.confirm import ConfirmScreen
from ews_tui.ui.screens.devices import DevicesScreen
from ews_tui.ui.screens.gateways import GatewaysScreen
from ews_tui.ui.widgets.device_form import DeviceForm
from tests.ui.box_fixtures import SnapshotApp, make_box_app
from tests.ui.polling_box import polling_box


def service(runtime: Runtime) -> InstallationService:
    return runtime.get(InstallationService)


def stored(runtime: Runtime, name: str) -> Device:
    found = [d for d in service(runtime).current.devices if d.name == name]
    assert len(found) == 1, [d.name for d in service(runtime).current.devices]
    return found[0]


async def open_devices(app: Any, pilot: Any) -> DevicesScreen:
    app.open_screen("devices", gateway_id=LOCAL_GATEWAY_ID)
    await pilot.pause()
    assert isinstance(app.screen, DevicesScreen)
    return app.screen


async def until(pilot: Any, check: Callable[[], bool], what: str) -> None:
    """Pause until ``check()`` holds (fail after a deadline).

    One pause waits for the messages already queued; a message that bubbles from a field
    up to the form or the screen, or a focus change a handler asks for, may still be on its
    way (seen under load): wait for what the step is for instead.
    """
    deadline = time.monotonic() + 10.0
    while not check():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        await pilot.pause()


async def fill(
    pilot: Any, screen: DevicesScreen, family: str, model: str, **fields: Any
) -> DeviceForm:
    """Add a device through the form: family, model, then ``fields`` (inputs or selects)."""
    await pilot.press("a")
    await pilot.pause()
    form = screen.form
    form.query_one("#f-family", Select).value = family
    ref = builtin_catalog().find(model).ref
    models = form.query_one("#f-model", Select)
    await until(pilot, lambda: ref in (value for _label, value in models._options), "models")
    models.value = ref
    await pilot.pause()
    for key, value in fields.items():
        widget = form.query_one(f"#f-{key}")
        if isinstance(widget, Input):
            widget.value = str(value)
        else:
            widget.value = value
    await pilot.pause()
    return form


async def save(pilot: Any) -> None:
    await pilot.press("ctrl+s")
    await pilot.pause()


def shown(form: DeviceForm) -> set[str]:
    return {f.id.removeprefix("field-") for f in form.query(".field") if f.display}


def text_of(widget: Any) -> str:
    return str(widget.render())


# Family, model, the fields of its procedure, and what must be stored.
EVERY_FAMILY = [
    ("emdx3_power_meters", "0 146 68", {"address": "10"}, {"address": 10}),
    ("emdx3_energy_meters", "0 046 77", {"address": "11"}, {"address": 11}),
    ("pulse_concentrators", "4 120 65", {"address": "5"}, {"address": 5}),
    (
        "pulse_meters",
        "0 046 70",
        {"address": "5", "position": "1", "concentrator": "4 120 65"},
        {"address": 5, "position": 1, "concentrator": "4 120 65"},
    ),
    (
        "gas_meters",
        "GAS METER",
        {"address": "5-2", "concentrator": "4 120 65"},
        {"address": 5, "position": 2, "circuit_id": None},
    ),
    (
        "water_meters",
        "WATER METER",
        {"address": "5", "position": "3", "concentrator": "4 120 65"},
        {"position": 3},
    ),
    (
        "emscx3_measure",
        "4 149 19",
        {"address": "2-1", "supply": "downstream"},
        {"address": 12, "interface": 1, "supply": "downstream"},
    ),
    ("emscx3_state", "4 149 29", {"address": "3-1"}, {"address": 13, "interface": 1}),
    ("dx3", "4 106 57", {"address": "30"}, {"address": 30, "supply": "upstream"}),
    (
        "dpx3",
        "DPX3 250 MU",
        {"address": "31", "supply": "downstream"},
        {"address": 31, "supply": "downstream"},
    ),
    ("dmx3", "0 288 03", {"address": "32"}, {"address": 32, "supply": "upstream"}),
    ("io_devices", "0 261 36", {"address": "33"}, {"address": 33}),
    (
        "greenup_premium",
        "0 590 00",
        {"address": "34", "phase": "L2"},
        {"address": 34, "phase": "L2", "side": None},
    ),
    ("greenup", "0 590 31", {"address": "35", "phase": "L3"}, {"address": 35, "phase": "L3"}),
    ("other", "SDM630", {"address": "36", "circuit": 1}, {"address": 36, "circuit_id": 1}),
]


async def test_one_device_of_every_family_through_the_form(make_app, runtime) -> None:
    catalog = builtin_catalog()
    assert {f.id for f in catalog.families} == {row[0] for row in EVERY_FAMILY}
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_devices(app, pilot)
        for family, model, fields, expected in EVERY_FAMILY:
            name = f"dev {family}"
            form = await fill(pilot, screen, family, model, name=name, **fields)
            assert not form.problems, (family, form.problems)
            await save(pilot)
            device = stored(runtime, name)
            assert device.model == catalog.find(model).ref
            for key, value in expected.items():
                assert getattr(device, key) == value, (family, key)
        assert len(service(runtime).current.devices) == len(EVERY_FAMILY)
        listing = screen.query_one("#device-list", OptionList)
        assert listing.option_count == len(EVERY_FAMILY)


# Family, model, fields its procedure shows, fields it does not.
FIELDS_OF_MODELS = [
    (
        "emdx3_power_meters",
        "0 146 68",
        {"address", "name", "circuit"},
        {"supply", "position", "side", "phase", "register"},
    ),
    ("gas_meters", "GAS METER", {"address", "position", "concentrator"}, {"circuit"}),
    ("emscx3_measure", "4 149 20", {"supply"}, {"position", "phase"}),
    ("emscx3_measure", "4 149 21", set(), {"supply"}),
    ("greenup", "0 590 32", {"side", "phase"}, {"supply"}),
    ("greenup", "0 590 45", set(), {"side", "phase"}),
    ("other", "GENERIC", {"fc", "register", "words", "multiplier"}, {"supply"}),
]


async def test_fields_follow_the_model(make_app, runtime) -> None:
    # One app for every model (each "Add" starts from a blank form): an app per model
    # would cost seconds each.
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_devices(app, pilot)
        for family, model, visible, hidden in FIELDS_OF_MODELS:
            form = await fill(pilot, screen, family, model)
            assert visible <= shown(form), (model, visible - shown(form))
            assert not hidden & shown(form), (model, hidden & shown(form))


async def test_model_list_shows_ref_name_and_assumed_maps(make_app, runtime) -> None:
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_devices(app, pilot)
        form = await fill(pilot, screen, "other", "SDM630")
        labels = [str(label) for label, _value in form.query_one("#f-model", Select)._options]
        assert "SDM630  Eastron SDM630" in labels
        assert "GENERIC  Generic Modbus meter (unverified register map)" in labels


async def test_ems_cx3_device_interface_address(make_app, runtime) -> None:
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_devices(app, pilot)
        await fill(pilot, screen, "emscx3_measure", "4 149 20", address="2-1", name="Feeder")
        await save(pilot)
        device = stored(runtime, "Feeder")
        assert (device.address, device.interface, device.supply) == (12, 1, "upstream")
        assert device.address_text() == "2-1"
        row = str(screen.query_one("#device-list", OptionList).get_option_at_index(0).prompt)
        assert row.startswith("2-1")
        assert screen.form.query_one("#f-address", Input).value == "2-1"


async def test_pulse_meter_with_concentrator_and_position(make_app, runtime) -> None:
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_devices(app, pilot)
        form = await fill(pilot, screen, "pulse_meters", "0 046 73", address="7", position="9")
        assert "concentrator" in form.problems  # mandatory: not chosen yet
        form.query_one("#f-concentrator", Select).value = "4 120 65"
        await pilot.pause()
        assert "position 9 is not between 1 and 8" in form.problems["position"]
        form.query_one("#f-position", Input).value = "4"
        await pilot.pause()
        await save(pilot)
        device = service(runtime).current.devices[0]
        assert (device.address, device.position, device.concentrator) == (7, 4, "4 120 65")
        assert device.name == "7-4"  # the manual's default name: address-position


async def test_two_sided_charger_asks_for_the_other_side(make_app, runtime) -> None:
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_devices(app, pilot)
        await fill(
            pilot, screen, "greenup", "0 590 32", address="40", side=1, phase="L1", name="Bay left"
        )
        await save(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        form = screen.form
        assert form.other_side
        assert shown(form) == {"name", "phase"}
        form.query_one("#f-name", Input).value = "Bay right"
        form.query_one("#f-phase", Select).value = "L2"
        await pilot.pause()
        await save(pilot)
        left, right = stored(runtime, "Bay left"), stored(runtime, "Bay right")
        assert (left.address, left.side, left.phase) == (40, 1, "L1")
        assert (right.address, right.side, right.phase, right.model) == (40, 2, "L2", "0 590 32")
        assert not isinstance(app.screen, ConfirmScreen)  # both sides set: no question
        row = str(screen.query_one("#device-list", OptionList).get_option_at_index(1).prompt)
        assert row.startswith("40-2")


async def test_generic_meter_four_fields(make_app, runtime) -> None:
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_devices(app, pilot)
        form = await fill(
            pilot,
            screen,
            "other",
            "GENERIC",
            address="8",
            name="Boiler",
            fc=4,
            register="1A2B",
            words=4,
            multiplier="0,01",
        )
        assert not form.problems
        await save(pilot)
        assert stored(runtime, "Boiler").generic == GenericRegister(4, 0x1A2B, 4, 0.01)


async def test_a_wrong_field_shows_under_it_and_blocks_save(make_app, runtime) -> None:
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_devices(app, pilot)
        form = await fill(pilot, screen, "other", "SDM630", address="300", name="Main")
        error = form.query_one("#err-address", Static)
        assert error.display and "Modbus address 300 is not between 1 and 247" in text_of(error)
        await save(pilot)
        assert service(runtime).current.devices == ()
        assert "Not saved" in text_of(screen.query_one("#device-status"))
        form.query_one("#f-address", Input).value = "x-y"
        await pilot.pause()
        assert '"x-y" is not a Modbus address' in text_of(error)
        form.query_one("#f-address", Input).value = "3"
        await pilot.pause()
        assert not error.display
        await save(pilot)
        assert stored(runtime, "Main").address == 3


async def test_duplicate_address_is_refused_under_the_field(make_app, runtime) -> None:
    await service(runtime).apply(save_device, Device(0, LOCAL_GATEWAY_ID, "SDM630", 3, "A"))
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_devices(app, pilot)
        form = await fill(pilot, screen, "other", "SDM120", address="3", name="B")
        assert 'address 3 is already used by "A"' in form.problems["address"]
        await save(pilot)
        assert len(service(runtime).current.devices) == 1


async def test_zones_and_toggle_delete_and_search(make_app, runtime) -> None:
    await service(runtime).apply(save_group, Zone(0, "Hall"))
    await service(runtime).apply(save_device, Device(0, LOCAL_GATEWAY_ID, "SDM630", 3, "Head"))
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_devices(app, pilot)
        form = await fill(pilot, screen, "other", "SDM120", address="4", name="Lights")
        form.query_one("#zones-list", SelectionList).select_all()
        await pilot.pause()
        await save(pilot)
        lights = stored(runtime, "Lights")
        assert lights.zone_ids == (service(runtime).current.zones[0].id,)

        search = screen.query_one("#device-search", Input)
        listing = screen.query_one("#device-list", OptionList)
        assert screen.focused is listing  # saved: back on the list
        await pilot.press("slash")
        await until(pilot, lambda: screen.focused is search, "the search field")
        await pilot.press(*"ligh", "enter")
        await until(pilot, lambda: screen.focused is listing, "Enter: back on the list")
        assert search.value == "ligh"
        assert listing.option_count == 1 and screen.form.subject.id == lights.id

        await pilot.press("o")
        await pilot.pause()
        assert not stored(runtime, "Lights").enabled
        assert "○" in str(listing.get_option_at_index(0).prompt)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert [d.name for d in service(runtime).current.devices] == ["Head"]


async def test_enter_on_a_device_goes_into_its_form(make_app, runtime) -> None:
    await service(runtime).apply(save_device, Device(0, LOCAL_GATEWAY_ID, "SDM630", 3, "Head"))
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_devices(app, pilot)
        listing = screen.query_one("#device-list", OptionList)
        assert screen.focused is listing
        await pilot.press("enter")
        await until(pilot, lambda: screen.focused is not listing, "Enter: into the form")
        field = screen.focused
        assert field is not None and screen.form in field.ancestors
        assert field is not screen.form  # a field, not the scrolling container
        assert isinstance(app.screen, DevicesScreen)


async def test_test_names_the_users_address_then_the_unit(tmp_path: Path) -> None:
    """The Test of EMS CX3 module "3-2" names 3-2 first, its Modbus unit 23 in brackets."""
    async with polling_box(tmp_path) as box:
        app = make_box_app(box.runtime, "gateways")
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, GatewaysScreen), "the gateways")
            app.open_screen("devices", gateway_id=box.gateway.id)
            screen = app.screen
            assert isinstance(screen, DevicesScreen)
            await until(pilot, lambda: bool(screen.query("#device-status")), "the devices")
            status = screen.query_one("#device-status", Static)

            async def test(name: str) -> str:
                screen.show_device(box.device(name))
                status.update("")
                await pilot.press("t")
                answered = ("Test: ", "Test failed: ")
                await until(pilot, lambda: text_of(status).startswith(answered), f"{name}'s test")
                return text_of(status)

            silent = await test("Silent")
            assert silent.startswith("Test failed: address 3-2 (unit 23) answered exception 11")
            feeder = await test("Feeder")
            assert feeder.startswith("Test: ") and " V" in feeder


# ----------------------------------------------------------------------------- snapshots


async def _charger_form(pilot: Any) -> None:
    app = pilot.app
    screen = await open_devices(app, pilot)
    form = await fill(pilot, screen, "emscx3_measure", "4 149 20", address="2-1", name="Feeder")
    form.query_one("#f-address", Input).focus()
    await pilot.pause()


def test_snapshot_device_form_en(snap_compare, tmp_path: Path) -> None:
    app = SnapshotApp(tmp_path, "gateways")
    assert snap_compare(app, terminal_size=(80, 24), run_before=_charger_form)


def test_snapshot_device_form_fr(snap_compare, tmp_path: Path) -> None:
    app = SnapshotApp(tmp_path, "gateways", language="fr")
    assert snap_compare(app, terminal_size=(80, 24), run_before=_charger_form)


async def test_esc_goes_back_one_level_at_a_time(make_app, runtime) -> None:
    """Issue 16: from a field to the list, from a search to the whole list, then to the
    gateways (not further)."""
    await service(runtime).apply(save_device, Device(0, LOCAL_GATEWAY_ID, "0 146 68", 5, "A"))
    app = make_app("gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, DevicesScreen), "Devices")
        screen = app.screen
        listing = screen.query_one("#device-list", OptionList)
        await pilot.press("enter")  # into the device's form
        await until(pilot, lambda: screen.focused is not listing, "a field")
        await pilot.press("escape")
        await until(pilot, lambda: screen.focused is listing, "back on the list")
        await pilot.press("slash", *"zz", "enter")
        await until(pilot, lambda: listing.option_count == 0 and screen.focused is listing, "")
        await pilot.press("escape")  # the search goes, the list is whole again
        await until(pilot, lambda: listing.option_count == 1, "the whole list")
        assert app.screen is screen
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, GatewaysScreen), "Gateways")
        assert len(app.screen_stack) == 3  # default, home, gateways
        assert app.focused is app.screen.query_one("#gateway-list")


async def test_esc_from_a_new_unsaved_device_asks_before_leaving(make_app, runtime) -> None:
    app = make_app("gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, DevicesScreen), "Devices")
        screen = app.screen
        await pilot.press("escape")  # a blank form, nothing typed: back at once
        await until(pilot, lambda: isinstance(app.screen, GatewaysScreen), "Gateways")
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, DevicesScreen), "Devices")
        screen = app.screen
        form = await fill(
            pilot, screen, "emdx3_power_meters", "0 146 68", address="7", name="Boiler"
        )
        await pilot.press("escape", "escape")  # the field, then the screen
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("n")
        await until(pilot, lambda: app.screen is screen, "Devices again")
        assert form.query_one("#f-name", Input).value == "Boiler"
        await pilot.press("escape", "y")
        await until(pilot, lambda: isinstance(app.screen, GatewaysScreen), "Gateways")
    assert service(runtime).current.devices == ()


async def test_the_form_composes_only_the_fields_its_model_shows(make_app, runtime) -> None:
    """Issue 16: a power meter's form holds no pulse, charger or generic fields; showing a
    pulse meter composes its position and concentrator, with the saved values, and leaves
    nothing unsaved; going back to the power meter hides them again."""
    inst = service(runtime)
    await inst.apply(save_device, Device(0, LOCAL_GATEWAY_ID, "0 146 68", 10, "Main"))
    await inst.apply(save_device, Device(0, LOCAL_GATEWAY_ID, "4 120 65", 5, "Conc"))
    pulse = Device(0, LOCAL_GATEWAY_ID, "0 046 70", 5, "Pulse", concentrator="4 120 65")
    await inst.apply(save_device, replace(pulse, position=2))
    app = make_app(start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_devices(app, pilot)
        form = screen.form
        assert form.subject.name == "Main"
        composed = {f.id for f in form.query(".field")}
        assert {"field-family", "field-model", "field-address", "field-name"} <= composed
        assert not composed & {"field-position", "field-concentrator", "field-phase"}
        assert not composed & {"field-fc", "field-register", "field-words", "field-multiplier"}
        assert len(list(screen.walk_children())) < 60  # every field composed: about 150

        listing = screen.query_one("#device-list", OptionList)
        listing.highlighted = 2  # the pulse meter
        await until(pilot, lambda: form.subject.name == "Pulse", "the pulse meter")
        await until(pilot, lambda: {"position", "concentrator"} <= shown(form), "its fields")
        concentrator = form.query_one("#f-concentrator", Select)
        await until(pilot, lambda: concentrator.value == "4 120 65", "its concentrator")
        assert form.query_one("#f-position", Input).value == "2"
        assert str(concentrator.query_one("SelectCurrent #label", Static).render()).startswith(
            "4 120 65"
        )
        assert not form.unsaved() and not form.problems

        listing.highlighted = 0
        await until(pilot, lambda: form.subject.name == "Main", "the power meter")
        await pilot.pause()
        assert not {"position", "concentrator"} & shown(form)
        assert not form.unsaved() and not form.problems
