"""The devices of one gateway and the device form (manual §7.16.1.3 to §7.16.1.5).

Left: the registered devices (address as the manual writes it, name, breaker symbol for
protection devices, state), with a search by name. Right: the device's parameters, whose
fields follow its family and model. Keys: a Add, s Save, t Test, d Delete, o ON/OFF,
v Advanced, / Search, Esc back one level (from a field to the list, from a search to the whole
list, then to the gateways, asking first if the form holds unsaved input).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ews_tui.domain.edits import (
    InstallationError,
    delete_device,
    save_device,
    set_device_enabled,
)
from ews_tui.domain.events import (
    DeviceState,
    DeviceStateChanged,
    Event,
    GatewayStateChanged,
    InstallationChanged,
    Sample,
)
from ews_tui.domain.installation import Advanced, Device, Installation
from ews_tui.hub import Subscription
from ews_tui.i18n import N_, _
from ews_tui.services.installation import InstallationService
from ews_tui.services.live import LiveValues
from ews_tui.services.polling import PollingService, TestResult
from ews_tui.ui.app import UnsavedInput
from ews_tui.ui.follow import follow
from ews_tui.ui.screen import EwsScreen
from ews_tui.ui.screens.confirm import ConfirmScreen
from ews_tui.ui.test_answer import answer_text, device_address
from ews_tui.ui.widgets.device_form import DeviceForm
from ews_tui.ui.widgets.footer import EwsFooter
from ews_tui.ui.widgets.state_symbol import (
    NOT_POLLED,
    STATE_NAMES,
    breaker_glyph,
    state_glyph,
)

log = logging.getLogger(__name__)
STYLES = Path(__file__).resolve().parent.parent / "styles"
TEST_TIMEOUT = 90.0  # a safety net: the polling service has its own, shorter, timeout


class DevicesScreen(UnsavedInput, EwsScreen[None]):
    """The devices of gateway ``gateway_id``."""

    CSS_PATH = STYLES / "devices.tcss"
    # The list has the focus from the start (Textual's default gave it to the search field
    # first, then on_mount moved it: both restyled twice as the screen opened).
    AUTO_FOCUS = "#device-list"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", N_("Add")),
        Binding("s", "save", N_("Save")),
        Binding("ctrl+s", "save", N_("Save"), show=False, priority=True),
        Binding("t", "test", N_("Test")),
        Binding("d", "delete", N_("Delete")),
        Binding("o", "toggle_enabled", N_("ON/OFF")),
        Binding("v", "advanced", N_("Advanced")),
        Binding("slash", "search", N_("Search")),
        Binding("escape", "leave", N_("Back")),
    ]

    def __init__(self, gateway_id: int) -> None:
        super().__init__()
        self.gateway_id = gateway_id
        self.states: dict[int, DeviceState] = {}
        self.breakers: dict[int, str] = {}
        self._subscription: Subscription | None = None

    # ------------------------------------------------------------------ access
    @property
    def service(self) -> InstallationService:
        return self.session.service(InstallationService)

    @property
    def inst(self) -> Installation:
        return self.service.current

    @property
    def form(self) -> DeviceForm:
        return self.query_one(DeviceForm)

    @property
    def plain(self) -> bool:
        return self.session.colors == 16

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        gateway = self.inst.gateway(self.gateway_id)
        title = f"{gateway.name} ({gateway.ip})" if gateway else f"#{self.gateway_id}"
        yield Static(_("Devices of gateway {gateway}").format(gateway=title), id="devices-title")
        with Horizontal(id="devices-body"):
            with Vertical(id="devices-side"):
                yield Input(placeholder=_("Search by name (/)"), id="device-search", compact=True)
                yield OptionList(id="device-list")
            with Vertical(id="device-pane"):
                yield Static("", id="device-state")
                yield self._new_form(self._first_device())
                yield Static("", id="device-status")
        yield EwsFooter(compact=True)

    def _first_device(self) -> Device:
        devices = self.inst.devices_of(self.gateway_id)
        return devices[0] if devices else self.blank()

    def blank(self) -> Device:
        return Device(id=0, gateway_id=self.gateway_id, model="", address=0)

    def _new_form(self, device: Device) -> DeviceForm:
        return DeviceForm(self.inst, self.service.context, device, id="device-form")

    def show_device(self, device: Device, *, other_side: bool = False) -> None:
        """Put ``device`` in the form (a blank one to add)."""
        form = self.form
        if self.focused is not None and form in self.focused.ancestors:
            self.query_one("#device-list").focus()
        form.load(self.inst, device, other_side=other_side)
        self._show_state(device)

    def on_mount(self) -> None:
        self._subscription = subscription = self.session.hub.subscribe(
            DeviceStateChanged,
            GatewayStateChanged,
            Sample,
            InstallationChanged,
            maxsize=512,
            name=f"ui-devices-{self.gateway_id}",
        )
        self._seed_states()
        # the list filled once, with the states seeded (it was filled before them too)
        self.fill_list(select=self._first_device().id)
        self._show_state(self._first_device())  # as the list shows it: states seeded first
        self.run_worker(self._follow(subscription), name="devices-hub", group="hub")
        self.query_one("#device-list").focus()

    def _seed_states(self) -> None:
        """States and breaker positions known before this screen opened."""
        board = self.session.service(LiveValues).snapshot()
        for device in self.inst.devices_of(self.gateway_id):
            live = board.device(device.id)
            if live.state is not None:
                self.states[device.id] = live.state
            if isinstance(breaker := live.value("breaker"), str):
                self.breakers[device.id] = breaker

    def on_unmount(self) -> None:
        if self._subscription is not None:
            self._subscription.close()

    # ------------------------------------------------------------------ list
    def state_of(self, device: Device) -> DeviceState | str:
        if not self.inst.device_enabled(device):
            return DeviceState.OFF
        if self.service.catalog.find(device.model) is None:
            return DeviceState.CONFIG_ERROR
        return self.states.get(device.id, NOT_POLLED)

    def _row(self, device: Device) -> Text:
        model = self.service.catalog.find(device.model)
        breaker = self.breakers.get(device.id) if model is not None and model.breaker else None
        return Text.assemble(
            f"{device.address_text():<6} {device.display_name()[:20]:<20} ",
            breaker_glyph(breaker, plain=self.plain),
            " ",
            state_glyph(self.state_of(device), plain=self.plain),
        )

    def fill_list(self, select: int | None = None) -> None:
        listing = self.query_one("#device-list", OptionList)
        if select is None and listing.highlighted_option is not None:
            select = int(listing.highlighted_option.id or 0)
        needle = self.query_one("#device-search", Input).value.strip().casefold()
        devices = [
            d
            for d in self.inst.devices_of(self.gateway_id)
            if needle in d.display_name().casefold() or needle in d.address_text().casefold()
        ]
        listing.clear_options()
        listing.add_options([Option(self._row(d), id=str(d.id)) for d in devices])
        ids = [d.id for d in devices]
        if select in ids:
            listing.highlighted = ids.index(select)

    def _selected_id(self) -> int:
        return self.form.subject.id

    def _show_state(self, device: Device) -> None:
        text = Text("")
        if device.id:
            state = self.state_of(device)
            text = Text.assemble(
                _("State: "), state_glyph(state, plain=self.plain), " ", _(STATE_NAMES[str(state)])
            )
        self.query_one("#device-state", Static).update(text)

    async def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        device = self.inst.device(int(event.option.id or 0))
        if device is not None and device.id != self._selected_id():
            self.show_device(device)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a device: into its form, on its first field shown."""
        form = self.form
        fields = [w for w in self.focus_chain if w is not form and form in w.ancestors]
        if fields:
            fields[0].focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "device-search":
            self.fill_list()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "device-search":
            self.query_one("#device-list").focus()

    # ------------------------------------------------------------------ live state
    async def _follow(self, subscription: Subscription) -> None:
        await follow(self, subscription, self.on_hub_event)

    def on_hub_event(self, event: Event) -> None:
        changed = False
        if isinstance(event, DeviceStateChanged):
            changed = self.states.get(event.device_id) != event.state
            self.states[event.device_id] = event.state
        elif isinstance(event, Sample):
            breaker = event.values.get("breaker")
            if isinstance(breaker, str) and self.breakers.get(event.device_id) != breaker:
                self.breakers[event.device_id] = breaker
                changed = True
        elif isinstance(event, GatewayStateChanged | InstallationChanged):
            changed = True
        if changed:
            self.fill_list()
            self._show_state(self.inst.device(self._selected_id()) or self.blank())

    # ------------------------------------------------------------------ actions
    def status(self, message: str, *, error: bool = False) -> None:
        status = self.query_one("#device-status", Static)
        status.update(message)
        status.set_class(error, "error")

    async def action_add(self) -> None:
        self.query_one("#device-list", OptionList).highlighted = None
        self.show_device(self.blank())
        self.status(_("New device: choose its family and model."))
        self.form.query_one("#f-family").focus()

    async def action_save(self) -> None:
        form = self.form
        device = form.check(force=True)
        if device is None:
            self.status(_("Not saved: correct the fields marked in red."), error=True)
            return
        new = device.id == 0
        new_id = self.inst.next_id("devices") if new else device.id
        try:
            await self.service.apply(save_device, device)
        except InstallationError as error:
            form.show_violations(error.violations)
            self.status(_("Not saved: correct the fields marked in red."), error=True)
            return
        saved = self.inst.device(new_id)
        assert saved is not None
        self.fill_list(select=saved.id)
        self.show_device(saved)
        self.status(_('Device "{name}" saved.').format(name=saved.display_name()))
        if new and self._other_side_free(saved):
            self.app.push_screen(
                ConfirmScreen(
                    _("Set the other side of this charging station?"), yes=N_("Yes"), no=N_("No")
                ),
                lambda answer: self._other_side(saved, answer),
            )

    def _other_side_free(self, device: Device) -> bool:
        model = self.service.catalog.find(device.model)
        if model is None or model.sides != 2 or device.side not in (1, 2):
            return False
        return not any(
            d.address == device.address and d.side == 3 - device.side
            for d in self.inst.devices_of(self.gateway_id)
        )

    async def _other_side(self, device: Device, answer: bool | None) -> None:
        if not answer:
            return
        template = replace(
            device,
            id=0,
            side=3 - (device.side or 1),
            name="",
            phase=None,
            advanced=Advanced(),
            enabled=True,
        )
        self.query_one("#device-list", OptionList).highlighted = None
        self.show_device(template, other_side=True)
        self.status(
            _("Side {side}: give its name and phase, then save.").format(side=template.side)
        )
        self.form.query_one("#f-name").focus()

    def action_test(self) -> None:
        device, problems = self.form.read()
        if device is None or problems or not device.model:
            self.status(_("Test: complete the device's fields first."), error=True)
            return
        polling = self.session.service(PollingService)
        self.status(_("Testing {address}...").format(address=device_address(device)))
        self.run_worker(self._test(polling, device), group="test", exclusive=True)

    async def _test(self, polling: PollingService, device: Device) -> None:
        try:
            answer: TestResult = await asyncio.wait_for(polling.test_device(device), TEST_TIMEOUT)
        except TimeoutError:
            log.info("test of device %s: no answer in %s s", device.address_text(), TEST_TIMEOUT)
            self.status(_("No answer from the test in time: try again."), error=True)
            return
        if answer.error is not None:
            text = answer_text(answer, device)
            self.status(_("Test failed: {error}").format(error=text), error=True)
            return
        self.status(_("Test: {values}").format(values=answer_text(answer, device)))

    def action_delete(self) -> None:
        device = self.inst.device(self._selected_id())
        if device is None:
            self.status(_("Choose a saved device to delete."), error=True)
            return
        question = _('Delete device "{name}" ({address})?').format(
            name=device.display_name(), address=device.address_text()
        )
        self.app.push_screen(ConfirmScreen(question), lambda yes: self._delete(device, yes))

    async def _delete(self, device: Device, yes: bool | None) -> None:
        if not yes:
            return
        try:
            await self.service.apply(delete_device, device.id)
        except InstallationError as error:
            self.status(error.violations[0].message.render(_), error=True)
            return
        self.fill_list()
        self.show_device(self._first_device())
        self.fill_list(select=self._first_device().id)
        self.status(_('Device "{name}" deleted.').format(name=device.display_name()))

    async def action_toggle_enabled(self) -> None:
        device = self.inst.device(self._selected_id())
        if device is None:
            self.status(_("Choose a saved device to switch ON or OFF."), error=True)
            return
        try:
            await self.service.apply(set_device_enabled, device.id, not device.enabled)
        except InstallationError as error:
            self.status(error.violations[0].message.render(_), error=True)
            return
        self.fill_list()
        self._show_state(self.inst.device(device.id) or device)
        self.status(_("Device switched ON.") if not device.enabled else _("Device switched OFF."))

    def action_advanced(self) -> None:
        if self.inst.device(self._selected_id()) is None:
            self.status(
                _("Save the device first: Advanced options belong to a saved device."), error=True
            )
            return
        self.app.open_screen("device_advanced", device_id=self._selected_id())

    def action_search(self) -> None:
        self.query_one("#device-search").focus()

    def unsaved_input(self) -> bool:
        return self.form.unsaved()

    async def action_leave(self) -> None:
        """Back one level: from a field to the list, from a searched list to the whole
        list, then (asking first if the form holds unsaved input) to the gateways."""
        focused = self.focused
        listing = self.query_one("#device-list")
        search = self.query_one("#device-search", Input)
        if focused is not None and focused is not listing:
            listing.focus()
            return
        if search.value:
            search.value = ""  # the list shows every device again (Input.Changed)
            return
        await self.app.run_action("back")


SCREEN = DevicesScreen
