"""A device's Advanced options (manual §7.16.1.4).

Exclude from totals (every device), exclude from alarms (EMS CX3, DPX3 and DMX3: the models
whose catalog entry allows it), and the labels of the inputs and outputs (``in1``..``inN``,
``out1``..``outN``) for the models that have labels. Keys: s Save, Esc back.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Checkbox, Input, Label, Static

from ews_tui.domain.edits import InstallationError, save_device
from ews_tui.domain.installation import Advanced, Device
from ews_tui.domain.rules import MAX_LABEL
from ews_tui.i18n import N_, _
from ews_tui.services.installation import InstallationService
from ews_tui.ui.screen import EwsScreen
from ews_tui.ui.widgets.footer import EwsFooter
from ews_tui.ui.widgets.ticks import TickBox

STYLES = Path(__file__).resolve().parent.parent / "styles"


class DeviceAdvancedScreen(EwsScreen[None]):
    """The Advanced page of device ``device_id``."""

    CSS_PATH = STYLES / "device_advanced.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "save", N_("Save")),
        Binding("ctrl+s", "save", N_("Save"), show=False, priority=True),
        Binding("escape", "back", N_("Back")),
    ]

    def __init__(self, device_id: int) -> None:
        super().__init__()
        self.device_id = device_id

    @property
    def service(self) -> InstallationService:
        return self.session.service(InstallationService)

    @property
    def device(self) -> Device:
        device = self.service.current.device(self.device_id)
        if device is None:
            raise LookupError(f"device #{self.device_id} does not exist")
        return device

    def label_keys(self) -> list[str]:
        model = self.service.catalog.find(self.device.model)
        if model is None or not model.labels:
            return []
        return [
            *(f"in{i}" for i in range(1, model.inputs + 1)),
            *(f"out{i}" for i in range(1, model.outputs + 1)),
        ]

    def compose(self) -> ComposeResult:
        device = self.device
        model = self.service.catalog.find(device.model)
        advanced = device.advanced
        yield Static(
            _("Advanced options of {name} ({address})").format(
                name=device.display_name(), address=device.address_text()
            ),
            id="advanced-title",
        )
        with VerticalScroll(id="advanced-form"):
            yield TickBox(
                _("Exclude from totals"),
                advanced.exclude_from_totals,
                id="exclude-totals",
                compact=True,
            )
            yield Static(
                _(
                    "Its consumption is left out of the Total and Partial histograms "
                    "(it is already counted by a head meter)."
                ),
                classes="hint",
            )
            if model is not None and model.alarm_exclusion:
                yield TickBox(
                    _("Exclude from alarms"),
                    advanced.exclude_from_alarms,
                    id="exclude-alarms",
                    compact=True,
                )
                yield Static(_("No alarm report for the events of this device."), classes="hint")
            keys = self.label_keys()
            if keys:
                yield Static(_("Labels of the inputs and outputs"), id="labels-title")
            for key in keys:
                with Vertical(classes="field"):
                    with Horizontal(classes="field-row"):
                        yield Label(key, classes="field-label")
                        yield Input(
                            advanced.label(key) or "",
                            id=f"label-{key}",
                            max_length=MAX_LABEL,
                            compact=True,
                        )
                    yield Static("", id=f"err-{key}", classes="error")
        yield Static("", id="advanced-status")
        yield EwsFooter(compact=True)

    def on_mount(self) -> None:
        self._clear_errors()
        self.query_one("#exclude-totals").focus()

    def _clear_errors(self) -> None:
        for error in self.query(".error").results(Static):
            error.update("")
            error.display = False

    def read(self) -> Advanced:
        alarms = self.query("#exclude-alarms").results(Checkbox)
        labels = tuple(
            (key, value)
            for key in self.label_keys()
            if (value := self.query_one(f"#label-{key}", Input).value.strip())
        )
        return Advanced(
            exclude_from_totals=self.query_one("#exclude-totals", Checkbox).value,
            exclude_from_alarms=any(box.value for box in alarms),
            labels=labels,
        )

    async def action_save(self) -> None:
        status = self.query_one("#advanced-status", Static)
        self._clear_errors()
        try:
            await self.service.apply(save_device, replace(self.device, advanced=self.read()))
        except InstallationError as error:
            for violation in error.violations:
                key = violation.field.removeprefix("advanced.labels.")
                target = self.query(f"#err-{key}").results(Static)
                message = violation.message.render(_)
                for widget in target:
                    widget.update(message)
                    widget.display = True
            status.update(error.violations[0].message.render(_))
            status.add_class("error")
            return
        status.remove_class("error")
        status.update(_("Advanced options saved."))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    async def action_back(self) -> None:
        await self.app.run_action("back")


SCREEN = DeviceAdvancedScreen
