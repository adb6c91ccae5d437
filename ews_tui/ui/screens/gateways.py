"""Gateways (manual §7.16.1, 7.16.1.1, 7.16.1.2, 7.16.1.5 and the EQ device of §7.16.1.4).

Left: the gateways with IP, name and state symbol (On / Off / Communication error). Right:
the selected gateway's parameters: IP (fixed for Local), port, name, description/place,
switchboard and EQ device. Keys: a Add, s Save, t Test, d Delete, o ON/OFF, v or Enter
Devices, Esc back (from a field: back to the list first).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option
from textual.widgets.select import NoSelection

from ews_tui.domain.edits import (
    InstallationError,
    delete_gateway,
    save_gateway,
    set_gateway_enabled,
)
from ews_tui.domain.events import Event, GatewayState, GatewayStateChanged, InstallationChanged
from ews_tui.domain.installation import DEFAULT_TCP_PORT, Gateway, Installation
from ews_tui.domain.rules import RuleContext, Violation
from ews_tui.hub import Subscription
from ews_tui.i18n import N_, _
from ews_tui.services.installation import InstallationService
from ews_tui.services.live import LiveValues
from ews_tui.services.polling import PollingService
from ews_tui.ui.follow import follow
from ews_tui.ui.screen import EwsScreen
from ews_tui.ui.screens.confirm import ConfirmScreen
from ews_tui.ui.screens.gateway_test import GatewayTestScreen
from ews_tui.ui.widgets.choice import Choice
from ews_tui.ui.widgets.footer import EwsFooter
from ews_tui.ui.widgets.state_symbol import NOT_POLLED, STATE_NAMES, state_glyph

log = logging.getLogger(__name__)
STYLES = Path(__file__).resolve().parent.parent / "styles"

LABELS: dict[str, str] = {
    "ip": N_("IP address"),
    "port": N_("Port"),
    "name": N_("Name"),
    "description": N_("Description/Place"),
    "switchboard": N_("Switchboard"),
    "eq_device": N_("EQ device"),
}
MANDATORY = {"ip", "name"}


class GatewaysScreen(EwsScreen[None]):
    """The gateway list and the selected gateway's parameter form."""

    CSS_PATH = STYLES / "gateways.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", N_("Add")),
        Binding("s", "save", N_("Save")),
        Binding("ctrl+s", "save", N_("Save"), show=False, priority=True),
        Binding("t", "test", N_("Test")),
        Binding("d", "delete", N_("Delete")),
        Binding("o", "toggle_enabled", N_("ON/OFF")),
        Binding("v", "devices", N_("Devices")),
        Binding("escape", "leave", N_("Back")),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.states: dict[int, GatewayState] = {}
        self.subject: Gateway = Gateway(id=0, name="", ip="")
        self.problems: dict[str, str] = {}
        self._subscription: Subscription | None = None
        self._loading = False
        self._loaded: Installation | None = None  # the installation the form last showed
        self._rows: dict[str, Horizontal] = {}  # field key -> its row
        self._errors: dict[str, Static] = {}  # field key -> its error line, once one showed
        # check()'s last answer: installation, context, form, read problems, problems
        self._checked: (
            tuple[Installation, RuleContext, Gateway, dict[str, str], dict[str, str]] | None
        ) = None

    # ------------------------------------------------------------------ access
    @property
    def service(self) -> InstallationService:
        return self.session.service(InstallationService)

    @property
    def inst(self) -> Installation:
        return self.service.current

    @property
    def plain(self) -> bool:
        return self.session.colors == 16

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        # The form is composed holding the Local gateway (its choices with their options
        # and values): filling it once mounted would style and lay it out twice.
        local = self.subject = self.inst.local
        self.states = self._known_states()  # the list is composed showing them
        yield Static(_("Gateways and devices"), id="gateways-title")
        with Horizontal(id="gateways-body"):
            yield OptionList(*self._options(), id="gateway-list")
            with Vertical(id="gateway-pane"):
                yield Static("", id="gateway-state")
                with VerticalScroll(id="gateway-form"):
                    fixed = local.is_local
                    yield from self._field(
                        "ip",
                        Input(local.ip, compact=True, placeholder="192.168.1.10", disabled=fixed),
                    )
                    yield from self._field(
                        "port",
                        Input(str(local.port), compact=True, restrict=r"\d*", disabled=fixed),
                    )
                    yield from self._field(
                        "name",
                        Input(local.name, compact=True, placeholder=_("default: the IP address")),
                    )
                    yield from self._field("description", Input(local.description, compact=True))
                    boards, board = self._switchboards(local)
                    yield from self._field(
                        "switchboard",
                        Choice(boards, prompt=_("(none)"), value=board),
                    )
                    devices, device = self._eq_devices(local)
                    yield from self._field(
                        "eq_device",
                        Choice(devices, prompt=_("(none)"), value=device),
                    )
                    yield Static(
                        _(
                            "* mandatory. EQ device: a device giving THD or harmonics, "
                            "for the weekly EN 50160 check. Ctrl+S saves from any "
                            "field."
                        ),
                        id="legend",
                    )
                yield Static("", id="gateway-status")
        yield EwsFooter(compact=True)

    def _field(self, key: str, widget: Widget) -> ComposeResult:
        """A field's row: its label and its input. Its error line is mounted under it when
        it first has one to show (issue 16: every widget, even hidden, costs the open)."""
        widget.id = f"f-{key}"
        label = _(LABELS[key]) + (" *" if key in MANDATORY else "")
        row = self._rows[key] = Horizontal(
            Label(label, classes="field-label"), widget, classes="field-row"
        )
        yield row

    def on_mount(self) -> None:
        self._subscription = subscription = self.session.hub.subscribe(
            GatewayStateChanged, InstallationChanged, maxsize=64, name="ui-gateways"
        )
        # The list was composed with the states known then; the hub tells the later ones,
        # and one changed in between is shown now (subscribed first).
        if (known := self._known_states()) != self.states:
            self.states = known
            self.fill_list()
        listing = self.query_one("#gateway-list", OptionList)
        listing.highlighted = [g.id for g in self.inst.gateways].index(self.inst.local.id)
        self._loaded = self.inst
        self._show_state()
        self.check()
        self.run_worker(self._follow(subscription), name="gateways-hub", group="hub")
        self.query_one("#gateway-list").focus()

    def _known_states(self) -> dict[int, GatewayState]:
        board = self.session.service(LiveValues).snapshot()
        return {
            gateway.id: live.state
            for gateway in self.inst.gateways
            if (live := board.gateway(gateway.id)) is not None
        }

    def on_unmount(self) -> None:
        if self._subscription is not None:
            self._subscription.close()

    def on_screen_resume(self) -> None:
        """Back from the devices: their names and the EQ candidates may have changed (not
        on the first resume, or when nothing did)."""
        if self.inst is self._loaded:
            return
        self._loaded = self.inst
        self.fill_list()
        if self.subject.id and (current := self.inst.gateway(self.subject.id)):
            self.load(current)

    # ------------------------------------------------------------------ list
    def state_of(self, gateway: Gateway) -> GatewayState | str:
        if not gateway.enabled:
            return GatewayState.OFF
        return self.states.get(gateway.id, NOT_POLLED)

    def fill_list(self, select: int | None = None) -> None:
        listing = self.query_one("#gateway-list", OptionList)
        if select is None and listing.highlighted_option is not None:
            select = int(listing.highlighted_option.id or 0)
        listing.clear_options()
        listing.add_options(self._options())
        ids = [g.id for g in self.inst.gateways]
        if select in ids:
            listing.highlighted = ids.index(select)

    def _options(self) -> list[Option]:
        return [
            Option(
                Text.assemble(
                    f"{g.ip:<15} {g.name[:13]:<13} ",
                    state_glyph(self.state_of(g), plain=self.plain),
                ),
                id=str(g.id),
            )
            for g in self.inst.gateways
        ]

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        gateway = self.inst.gateway(int(event.option.id or 0))
        if gateway is not None and gateway.id != self.subject.id:
            self.load(gateway)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_devices()

    async def _follow(self, subscription: Subscription) -> None:
        await follow(self, subscription, self.on_hub_event)

    def on_hub_event(self, event: Event) -> None:
        if isinstance(event, GatewayStateChanged):
            self.states[event.gateway_id] = event.state
        self.fill_list()
        self._show_state()

    # ------------------------------------------------------------------ form
    def load(self, gateway: Gateway) -> None:
        """Show ``gateway`` (id 0: a new one) in the form."""
        self.subject, self._loaded = gateway, self.inst
        self._loading = True
        ip = self.query_one("#f-ip", Input)
        ip.value = gateway.ip
        ip.disabled = gateway.is_local
        port = self.query_one("#f-port", Input)
        port.value = str(gateway.port)
        port.disabled = gateway.is_local
        self.query_one("#f-name", Input).value = gateway.name
        self.query_one("#f-description", Input).value = gateway.description
        boards = self.query_one("#f-switchboard", Select)
        options, board = self._switchboards(gateway)
        boards.set_options(options)
        boards.value = board
        eq = self.query_one("#f-eq_device", Select)
        options, device = self._eq_devices(gateway)
        eq.set_options(options)
        eq.value = device
        self._loading = False
        self._show_state()
        self.check()

    def _switchboards(self, gateway: Gateway) -> tuple[list[tuple[str, int]], int | NoSelection]:
        """The switchboard choices for ``gateway`` and its own."""
        options = [
            (s.name, s.id)
            for s in self.inst.switchboards
            if s.active or s.id == gateway.switchboard_id
        ]
        return options, gateway.switchboard_id or Select.NULL

    def _eq_devices(self, gateway: Gateway) -> tuple[list[tuple[str, int]], int | NoSelection]:
        """The EQ device choices for ``gateway`` and its own (none if no longer one)."""
        options = self.eq_candidates(gateway.id)
        chosen = gateway.eq_device_id
        found = any(value == chosen for _label, value in options)
        return options, chosen if found and chosen is not None else Select.NULL

    def eq_candidates(self, gateway_id: int) -> list[tuple[str, int]]:
        """The gateway's devices able to be its EQ device (THD or harmonics)."""
        catalog = self.service.catalog
        return [
            (f"{d.address_text()} {d.display_name()}", d.id)
            for d in self.inst.devices_of(gateway_id)
            if (model := catalog.find(d.model)) is not None and (model.thd or model.harmonics)
        ]

    def _show_state(self) -> None:
        gateway = self.inst.gateway(self.subject.id)
        text = Text(_("New gateway"))
        if gateway is not None:
            state = self.state_of(gateway)
            devices = len(self.inst.devices_of(gateway.id))
            text = Text.assemble(
                _("State: "),
                state_glyph(state, plain=self.plain),
                " ",
                _(STATE_NAMES[str(state)]),
                "  ",
                _("Devices: {count}").format(count=devices),
            )
        self.query_one("#gateway-state", Static).update(text)

    def _choice(self, key: str) -> int | None:
        value = self.query_one(f"#f-{key}", Select).value
        return value if isinstance(value, int) else None  # Select.NULL: no choice

    def read(self) -> tuple[Gateway, dict[str, str]]:
        problems: dict[str, str] = {}
        port_text = self.query_one("#f-port", Input).value.strip()
        port = int(port_text) if port_text.isdigit() else DEFAULT_TCP_PORT
        if not port_text:
            problems["port"] = _("the port is required")
        gateway = replace(
            self.subject,
            ip=self.query_one("#f-ip", Input).value.strip(),
            port=port,
            name=self.query_one("#f-name", Input).value.strip(),
            description=self.query_one("#f-description", Input).value.strip(),
            switchboard_id=self._choice("switchboard"),
            eq_device_id=self._choice("eq_device"),
        )
        return gateway, problems

    def check(self) -> Gateway | None:
        """Check the form with the domain's rules; show each problem under its field.

        The form as last checked, in the same installation and context, is not checked
        again: opening the screen asked seven times (the mount, then each field's first
        Changed), each a whole installation's validation."""
        gateway, problems = self.read()
        context = self.service.context
        last = self._checked
        if last is not None and last[0] is self.inst and last[1:4] == (context, gateway, problems):
            return None if last[4] else gateway
        read_problems = dict(problems)
        if not problems:
            try:
                save_gateway(self.inst, gateway, context)
            except InstallationError as error:
                problems = self._by_field(error.violations)
        self._checked = (self.inst, context, gateway, read_problems, problems)
        self.show_problems(problems)
        return None if problems else gateway

    def _by_field(self, violations: tuple[Violation, ...]) -> dict[str, str]:
        problems: dict[str, str] = {}
        for violation in violations:
            key = violation.field or violation.place.rpartition(".")[2]
            key = key if key in LABELS else "general"
            problems.setdefault(key, violation.message.render(_))
        return problems

    def show_problems(self, problems: dict[str, str]) -> None:
        """Each problem under its field (``general``: under the last field)."""
        self.problems = problems
        for key in (*LABELS, "general"):
            message = problems.get(key, "")
            line = self._errors.get(key)
            if line is None:
                if not message:
                    continue
                line = self._errors[key] = Static("", id=f"err-{key}", classes="error")
                form = self.query_one("#gateway-form")
                if key == "general":
                    form.mount(line, before=self.query_one("#legend"))
                else:
                    form.mount(line, after=self._rows[key])
            line.update(message)
            line.display = bool(message)

    def on_input_changed(self, event: Input.Changed) -> None:
        if not self._loading:
            self.check()

    def on_select_changed(self, event: Select.Changed) -> None:
        if not self._loading:
            self.check()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.focus_next()

    # ------------------------------------------------------------------ actions
    def status(self, message: str, *, error: bool = False) -> None:
        status = self.query_one("#gateway-status", Static)
        status.update(message)
        status.set_class(error, "error")

    def action_add(self) -> None:
        self.query_one("#gateway-list", OptionList).highlighted = None
        self.load(Gateway(id=0, name="", ip=""))
        self.status(_("New gateway: give its IP address and name, then save."))
        self.query_one("#f-ip").focus()

    async def action_save(self) -> None:
        await self.save()

    async def save(self, gateway: Gateway | None = None) -> bool:
        """Save the form (or ``gateway``); show the refusal under its field."""
        gateway = gateway or self.check()
        if gateway is None:
            self.status(_("Not saved: correct the fields marked in red."), error=True)
            return False
        new_id = self.inst.next_id("gateways") if gateway.id == 0 else gateway.id
        try:
            await self.service.apply(save_gateway, gateway)
        except InstallationError as error:
            self.show_problems(self._by_field(error.violations))
            self.status(_("Not saved: correct the fields marked in red."), error=True)
            return False
        saved = self.inst.gateway(new_id)
        assert saved is not None
        self.fill_list(select=saved.id)
        self.load(saved)
        self.status(_('Gateway "{name}" saved.').format(name=saved.name))
        return True

    def action_test(self) -> None:
        gateway = self.inst.gateway(self.subject.id)
        if gateway is None:
            self.status(_("Save the gateway before testing it."), error=True)
            return
        polling = self.session.service(PollingService)
        self.app.push_screen(GatewayTestScreen(gateway, polling, plain=self.plain))

    def action_delete(self) -> None:
        gateway = self.inst.gateway(self.subject.id)
        if gateway is None:
            self.status(_("Choose a saved gateway to delete."), error=True)
            return
        try:  # the manual's refusals come before the question
            delete_gateway(self.inst, gateway.id, self.service.context)
        except InstallationError as error:
            self.status(error.violations[0].message.render(_), error=True)
            return
        question = _('Delete gateway "{name}" ({ip})?').format(name=gateway.name, ip=gateway.ip)
        self.app.push_screen(ConfirmScreen(question), lambda yes: self._delete(gateway, yes))

    async def _delete(self, gateway: Gateway, yes: bool | None) -> None:
        if not yes:
            return
        try:
            await self.service.apply(delete_gateway, gateway.id)
        except InstallationError as error:
            self.status(error.violations[0].message.render(_), error=True)
            return
        self.fill_list(select=self.inst.local.id)
        self.load(self.inst.local)
        self.status(_('Gateway "{name}" deleted.').format(name=gateway.name))

    async def action_toggle_enabled(self) -> None:
        gateway = self.inst.gateway(self.subject.id)
        if gateway is None:
            self.status(_("Choose a saved gateway to switch ON or OFF."), error=True)
            return
        try:
            await self.service.apply(set_gateway_enabled, gateway.id, not gateway.enabled)
        except InstallationError as error:
            self.status(error.violations[0].message.render(_), error=True)
            return
        self.fill_list()
        self.subject = replace(self.subject, enabled=not gateway.enabled)
        self._show_state()
        self.status(
            _("Gateway switched ON.")
            if not gateway.enabled
            else _("Gateway switched OFF: its devices are OFF too.")
        )

    def action_devices(self) -> None:
        if self.inst.gateway(self.subject.id) is None:
            self.status(_("Save the gateway before adding its devices."), error=True)
            return
        self.app.open_screen("devices", gateway_id=self.subject.id)

    async def action_leave(self) -> None:
        listing = self.query_one("#gateway-list")
        if self.focused is not None and self.focused is not listing:
            listing.focus()
            return
        await self.app.run_action("back")


SCREEN = GatewaysScreen
