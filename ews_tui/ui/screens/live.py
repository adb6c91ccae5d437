"""Consultation > Live measures: the values of one device, updating as samples arrive.

The device list on the left is filtered as one types in the search field (name, address,
model, gateway). Devices that are OFF (or whose gateway is OFF) are not listed: the manual
shows no data of a disabled device. On the right, the selected device's communication
state, its breaker position when it has one, and the values of its model; a missing value,
or every value of a silent device, shows as "—".

The screen subscribes to the live events first, then copies the LiveValues board (so the
last values show at once) and applies what its subscription brings.

Drawing is rate-capped, as every session shares the loop with the buses: the events update
the board at once, and the screen draws what changed at most every ``REFRESH_S`` (only the
cells whose text changed). Moving in the device list shows the highlighted device once the
highlight rests for ``SELECT_DELAY_S`` (at the latest ``SELECT_MAX_DELAY_S`` after the first
move): key repeats build one device's rows, not one per key.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ews_tui.domain.events import (
    DeviceState,
    GatewayState,
    GatewayStateChanged,
    InstallationChanged,
)
from ews_tui.domain.installation import Device, Installation
from ews_tui.i18n import N_, _
from ews_tui.modbus.device_reader import DeviceMapError, device_map
from ews_tui.services.installation import InstallationService
from ews_tui.services.live import LIVE_EVENTS, LiveBoard, LiveValues
from ews_tui.ui.follow import while_shown
from ews_tui.ui.screen import EwsScreen
from ews_tui.ui.widgets.footer import EwsFooter
from ews_tui.ui.widgets.line_option_list import LineOptionList
from ews_tui.ui.widgets.measure_table import MeasureTable
from ews_tui.ui.widgets.state_symbol import breaker_text, state_text
from ews_tui.ui.widgets.steady_static import SteadyStatic

STYLES = Path(__file__).resolve().parent.parent / "styles"
SILENT_GATEWAY = (GatewayState.COMM_ERROR, GatewayState.OFF)
REFRESH_S = 0.25  # values and states are drawn at most four times a second
SELECT_DELAY_S = 0.3  # the highlighted device is shown once the highlight rests this long
SELECT_MAX_DELAY_S = 1.0  # ... or this long after the first of a run of moves
MIN_TIMER_S = 0.01


def matches(device: Device, inst: Installation, model_name: str, query: str) -> bool:
    """Whether ``query`` (any case) is in the device's name, address, model or gateway."""
    if not query:
        return True
    gateway = inst.gateway(device.gateway_id)
    haystack = " ".join(
        (
            device.display_name(),
            device.address_text(),
            device.model,
            model_name,
            gateway.name if gateway else "",
        )
    )
    return query.casefold() in haystack.casefold()


class LiveScreen(EwsScreen[None]):
    CSS_PATH = STYLES / "live.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", N_("Search")),
        Binding("l", "focus_list", N_("Devices"), show=False),
    ]

    def __init__(self, device_id: int | None = None, **kwargs: Any) -> None:
        """``device_id``: the device shown first (the Alarms screen opens one)."""
        super().__init__(**kwargs)
        self.board = LiveBoard()
        self.selected: Device | None = None
        self._wanted = device_id
        self._shown: tuple[Device, ...] = ()
        self._values_due = False  # the selected device's values changed since drawn
        self._labels_due = False  # a listed device's state changed since drawn
        self._draw_timer: Timer | None = None
        self._pending: Device | None = None  # highlighted, not shown yet
        self._pending_since: float | None = None
        self._select_timer: Timer | None = None
        self.refresh_s = REFRESH_S
        self.relabels = 0  # list labels written again (tests count them)
        self.select_delay_s = SELECT_DELAY_S
        self.select_max_delay_s = SELECT_MAX_DELAY_S

    @property
    def installation(self) -> InstallationService:
        return self.session.service(InstallationService)

    def compose(self) -> ComposeResult:
        yield Static(_("Live measures"), classes="page-title")
        with Horizontal():
            with Vertical(id="live-left"):
                yield Input(placeholder=_("Search…"), id="live-search", compact=True)
                yield LineOptionList(id="live-devices")
            with Vertical(id="live-right"):
                yield SteadyStatic(id="live-device")
                yield SteadyStatic(id="live-comm")
                yield SteadyStatic(id="live-breaker")
                yield MeasureTable(id="live-values")
        yield EwsFooter()

    def on_mount(self) -> None:
        hub = self.session.hub
        subscription = hub.subscribe(
            *LIVE_EVENTS, InstallationChanged, maxsize=1024, name="live-screen"
        )
        try:  # subscribed first, then the board: nothing falls between the two
            self.board = self.session.service(LiveValues).snapshot()
        except LookupError:
            self.board = LiveBoard()
        self.refresh_devices()
        self._follow(subscription)
        self.query_one("#live-search", Input).focus()

    @work(exclusive=True, group="follow")
    async def _follow(self, subscription: Any) -> None:
        with subscription:
            async for event in while_shown(self, subscription):
                if not self.display:  # being removed (its app closing): widgets going
                    return
                if isinstance(event, InstallationChanged):
                    self.refresh_devices()
                    continue
                device_id = getattr(event, "device_id", None)
                before = self.board.device(device_id).state if device_id is not None else None
                changed = self.board.apply(event)
                if changed is not None and self.board.device(changed).state != before:
                    self._labels_due = True
                    self._draw_soon()
                selected = self.selected
                if selected is not None and (
                    changed == selected.id
                    or (
                        isinstance(event, GatewayStateChanged)
                        and event.gateway_id == selected.gateway_id
                    )
                ):
                    self._values_due = True
                    self._draw_soon()

    # ------------------------------------------------------------------ rate caps

    def _draw_soon(self) -> None:
        """Draw what changed within ``REFRESH_S`` (one timer for every change until then)."""
        if self._draw_timer is None:
            delay = max(MIN_TIMER_S, self.refresh_s)
            self._draw_timer = self.set_timer(delay, self.draw_due, name="live draw")

    def draw_due(self) -> None:
        """Draw the list's states and the selected device's values if they changed."""
        self._draw_timer = None
        if self._labels_due:
            self._labels_due = False
            self._relabel()
        if self._values_due:
            self._values_due = False
            self.show_live()

    def _select_soon(self, device: Device) -> None:
        """Show ``device`` once the highlight rests (a run of key repeats shows the last)."""
        self._pending = device
        now = time.monotonic()
        if self._pending_since is None:
            self._pending_since = now
        if self._select_timer is not None:
            self._select_timer.stop()
        wait = min(self.select_delay_s, self._pending_since + self.select_max_delay_s - now)
        # Never a 0 s timer: Textual divides by the delay when a timer runs late.
        delay = max(MIN_TIMER_S, wait)
        self._select_timer = self.set_timer(delay, self.select_pending, name="live select")

    def select_pending(self) -> None:
        """Show the device the highlight rests on (if not shown already)."""
        device, self._pending = self._pending, None
        self._pending_since = None
        if self._select_timer is not None:
            self._select_timer.stop()
            self._select_timer = None
        if device is not None and device != self.selected:
            self.select(device)

    def _update(self, widget_id: str, content: Text | str) -> None:
        self.query_one(f"#{widget_id}", SteadyStatic).show(content)

    # ------------------------------------------------------------------ the list

    def visible_devices(self) -> tuple[Device, ...]:
        inst = self.installation.current
        catalog = self.installation.catalog
        query = self.query_one("#live-search", Input).value.strip()
        shown = []
        for device in inst.devices:
            if not inst.device_enabled(device):
                continue
            model = catalog.find(device.model)
            if matches(device, inst, model.name if model else "", query):
                shown.append(device)
        return tuple(shown)

    def _label(self, device: Device) -> Text:
        state = self.board.device(device.id).state
        mark = state_text(state) if state is not None else Text("·")
        mark.truncate(1)
        return Text.assemble(mark, " ", device.display_name())

    def refresh_devices(self) -> None:
        self._shown = self.visible_devices()
        options = self.query_one("#live-devices", OptionList)
        options.clear_options()
        options.add_options(Option(self._label(d), id=str(d.id)) for d in self._shown)
        keep = self.selected.id if self.selected else self._wanted
        index = next((i for i, d in enumerate(self._shown) if d.id == keep), None)
        if index is None and self._shown:
            index = 0
        if index is None:
            self.select(None)
        else:
            options.highlighted = index
            self.select(self._shown[index])

    def _relabel(self) -> None:
        """Write the labels whose state mark changed (each one written clears the list's
        caches and repaints it: one state changing must not rewrite every label)."""
        options = self.query_one("#live-devices", OptionList)
        for index, device in enumerate(self._shown):
            label = self._label(device)
            if options.get_option_at_index(index).prompt != label:
                options.replace_option_prompt_at_index(index, label)
                self.relabels += 1

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "live-search":
            self.refresh_devices()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_focus_list()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        device = next((d for d in self._shown if str(d.id) == event.option_id), None)
        if device is not None and (device != self.selected or self._pending is not None):
            self._select_soon(device)

    def action_search(self) -> None:
        self.query_one("#live-search", Input).focus()

    def action_focus_list(self) -> None:
        self.query_one("#live-devices", OptionList).focus()

    # ------------------------------------------------------------------ the values

    def select(self, device: Device | None) -> None:
        """Show ``device`` now (its rows built, its values drawn)."""
        self._pending, self._pending_since = None, None
        if self._select_timer is not None:
            self._select_timer.stop()
            self._select_timer = None
        self.selected = device
        self._values_due = False
        table = self.query_one(MeasureTable)
        if device is None:
            self._update("live-device", _("No device to show."))
            table.set_rows(())
            self.show_live()
            return
        catalog = self.installation.catalog
        model = catalog.find(device.model)
        gateway = self.installation.current.gateway(device.gateway_id)
        self._update(
            "live-device",
            _("{name} — {model} — gateway {gateway}, address {address}").format(
                name=device.display_name(),
                model=_(model.name) if model else device.model or "?",
                gateway=gateway.name if gateway else "?",
                address=device.address_text(),
            ),
        )
        try:
            _model, register_map = device_map(device, catalog)
        except DeviceMapError:
            register_map = None  # the state says why (configuration error)
        rows = [(q.id, q.unit) for q in register_map.quantities] if register_map else []
        table.set_rows(rows, dict(device.advanced.labels))
        self.show_live()

    def silent(self) -> bool:
        """Whether the selected device or its gateway is not answering."""
        device = self.selected
        if device is None:
            return True
        live = self.board.device(device.id)
        gateway = self.board.gateway(device.gateway_id)
        return live.state in (
            DeviceState.COMM_ERROR,
            DeviceState.OFF,
            DeviceState.CONFIG_ERROR,
        ) or (gateway is not None and gateway.state in SILENT_GATEWAY)

    def show_live(self) -> None:
        device = self.selected
        table = self.query_one(MeasureTable)
        if device is None:
            self._update("live-comm", "")
            self._update("live-breaker", "")
            return
        live = self.board.device(device.id)
        gateway = self.board.gateway(device.gateway_id)
        silent = self.silent()
        if gateway is not None and gateway.state in SILENT_GATEWAY:
            state = Text.assemble(state_text(gateway.state), " ", _("(gateway)"))
        elif live.state is None:
            state = Text(_("Waiting for data"))
        else:
            state = state_text(live.state)
        detail = live.detail or (gateway.detail if gateway else "")
        self._update(
            "live-comm",
            Text.assemble(_("Communication:") + " ", state, f" {detail}" if detail else ""),
        )
        values = {} if silent else live.values
        position = values.get("breaker")
        self._update(
            "live-breaker",
            Text.assemble(_("Breaker:") + " ", breaker_text(str(position)) or "—")
            if "breaker" in table.rows
            else "",
        )
        table.show_values(values)


SCREEN = LiveScreen
