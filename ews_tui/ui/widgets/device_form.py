"""The device form: its fields follow the chosen family and model (manual §7.16.1.3).

Family, model, then exactly the fields of that model's procedure: address (``2-1`` for
EMS CX3 remote addressing), position and concentrator for pulse meters, side and phase for
chargers, supply direction where the model needs it, circuit (not for gas and water: it is
automatic), zones, and the generic Modbus meter's function code, register, words and
multiplier. Every change is checked at once with the domain's rules: each message shows
right under its field. ``read()`` gives the device, or the problems that keep it unsaved.
"""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Label, Select, SelectionList, Static

from ews_tui.domain.catalog import Model
from ews_tui.domain.edits import device_problems
from ews_tui.domain.installation import (
    PHASES,
    Advanced,
    Device,
    GenericRegister,
    Installation,
    Zone,
)
from ews_tui.domain.installation_doc import parse_address
from ews_tui.domain.rules import RuleContext, Violation
from ews_tui.i18n import N_, _
from ews_tui.ui.widgets.ticks import TickList

# Field key -> label msgid (a "*" is added to mandatory ones).
LABELS: dict[str, str] = {
    "family": N_("Family"),
    "model": N_("Model"),
    "address": N_("Modbus address"),
    "position": N_("Position"),
    "concentrator": N_("Concentrator"),
    "side": N_("Side"),
    "name": N_("Name"),
    "phase": N_("Phase"),
    "supply": N_("Supply"),
    "circuit": N_("Circuit"),
    "zones": N_("Zones"),
    "fc": N_("Function code"),
    "register": N_("Register (hex)"),
    "words": N_("Words"),
    "multiplier": N_("Multiplier factor"),
}
MANDATORY = {"family", "model", "address", "position", "concentrator", "side", "phase"}
MANDATORY |= {"supply", "fc", "register", "words", "multiplier"}
SUPPLY_LABELS = {"upstream": N_("Upstream"), "downstream": N_("Downstream")}
ASSUMED = N_("(unverified register map)")
# Domain violation field -> the form field that shows it.
_FIELD_OF = {
    "generic": "register",
    "generic.fc": "fc",
    "generic.register": "register",
    "generic.words": "words",
    "generic.multiplier": "multiplier",
}


def model_label(model: Model) -> str:
    """``0 146 68 EMDX3 Access power meter``, marked when its register map is assumed."""
    text = f"{model.ref}  {_(model.name)}"
    return f"{text} {_(ASSUMED)}" if model.provenance == "assumed" else text


class DeviceForm(VerticalScroll):
    """The parameters of one device of one gateway; ``other_side`` asks only name and phase."""

    def __init__(
        self,
        inst: Installation,
        ctx: RuleContext,
        device: Device,
        *,
        other_side: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._inst = inst
        self._ctx = ctx
        self.subject = device
        self.other_side = other_side
        self.problems: dict[str, str] = {}
        self._touched = False
        self._shown: dict[str, str] = {}  # error label id -> the message it shows
        self._first: tuple[Device | None, dict[str, str]] | None = None
        self._errors: list[Static] = []  # the error labels, found once
        self._checked: tuple[object, ...] | None = None  # what the last check saw
        self._loaded: Device | None = None  # the fields as loaded (see unsaved)

    # ------------------------------------------------------------------ building
    def compose(self) -> ComposeResult:
        """Every field once; :meth:`load` fills them and shows the model's own."""
        families = sorted(self._ctx.catalog.families, key=lambda f: f.order)
        yield self._field(
            "family",
            Select(
                [(_(f.name), f.id) for f in families], prompt=_("Choose a family"), compact=True
            ),
        )
        yield self._field("model", Select([], prompt=_("Choose a model"), compact=True))
        yield Static("", id="other-side")
        yield self._field("address", Input(compact=True, placeholder=_("e.g. 12 or 2-1")))
        yield self._field("position", Input(compact=True, restrict=r"\d*"))
        yield self._field(
            "concentrator",
            Select(
                [(model_label(m), m.ref) for m in self._ctx.catalog.concentrators()],
                compact=True,
                prompt=_("Choose a concentrator"),
            ),
        )
        yield self._field(
            "side", Select([("1", 1), ("2", 2)], compact=True, prompt=_("Choose a side"))
        )
        yield self._field("name", Input(compact=True, placeholder=_("default: the address")))
        yield self._field(
            "phase", Select([(p, p) for p in PHASES], compact=True, prompt=_("Choose a phase"))
        )
        yield self._field(
            "supply",
            Select(
                [(_(label), key) for key, label in SUPPLY_LABELS.items()],
                compact=True,
                allow_blank=False,
            ),
        )
        yield self._field("circuit", Select([], compact=True, prompt=_("(none)")))
        yield self._field("zones", TickList[int](compact=True, id="zones-list"))
        yield self._field("fc", Select([("3", 3), ("4", 4)], compact=True, allow_blank=False))
        yield self._field("register", Input(compact=True, restrict=r"(0x|0X)?[0-9a-fA-F]*"))
        yield self._field(
            "words", Select([("1", 1), ("2", 2), ("4", 4)], compact=True, allow_blank=False)
        )
        yield self._field("multiplier", Input(compact=True))
        yield Static("", id="err-general", classes="error")
        yield Static(
            _("* mandatory. An empty name takes the address. Ctrl+S saves from any field."),
            id="legend",
        )

    def load(self, inst: Installation, device: Device, *, other_side: bool = False) -> None:
        """Show ``device`` (id 0: a new one); ``other_side``: only its name and phase."""
        self._inst, self.subject, self.other_side = inst, device, other_side
        self._checked = None
        # A blank new form shows no "required" messages until something is typed or saved.
        self._touched = device.id != 0 or other_side
        self._first = None
        model = self._ctx.catalog.find(device.model)
        family = model.family if model else None
        self._set("family", family)
        self.query_one("#f-model", Select).set_options(self._model_options(family))
        self._set("model", model.ref if model else None)
        self.query_one("#other-side", Static).update(
            _("Side {side} of address {address}, model {model}").format(
                side=device.side, address=device.address, model=device.model
            )
            if other_side
            else ""
        )
        self.query_one("#other-side").display = other_side
        self._input("address", self._address_text(device))
        self._input("position", str(device.position or ""))
        self._set("concentrator", self._concentrator_value(device))
        self._set("side", device.side)
        self._input("name", device.name)
        self._set("phase", device.phase)
        self._set("supply", device.supply or "upstream")
        self.query_one("#f-circuit", Select).set_options(self._circuit_options())
        self._set("circuit", device.circuit_id)
        zones = self.query_one("#zones-list", SelectionList)
        zones.clear_options()
        zones.add_options([(z.name, z.id, z.id in device.zone_ids) for z in self._zones()])
        generic = device.generic or GenericRegister()
        self._set("fc", generic.fc)
        self._input("register", f"{generic.register:04X}")
        self._set("words", generic.words)
        self._input("multiplier", f"{generic.multiplier:g}")
        self.refresh_fields()
        self.check()
        self.scroll_home(animate=False)
        self._loaded = self.read()[0]  # what "nothing changed" reads as

    def unsaved(self) -> bool:
        """The fields describe something else than the device loaded (a new device:
        anything chosen or typed)."""
        return self.is_mounted and self.read()[0] != self._loaded

    def _set(self, key: str, value: object) -> None:
        self.query_one(f"#f-{key}", Select).value = Select.NULL if value is None else value

    def _input(self, key: str, value: str) -> None:
        self.query_one(f"#f-{key}", Input).value = value

    def _field(self, key: str, widget: Widget) -> Vertical:
        if widget.id is None:
            widget.id = f"f-{key}"
        label = _(LABELS[key]) + (" *" if key in MANDATORY else "")
        return Vertical(
            Horizontal(Label(label, classes="field-label"), widget, classes="field-row"),
            Static("", id=f"err-{key}", classes="error"),
            id=f"field-{key}",
            classes="field",
        )

    def _model_options(self, family: str | None) -> list[tuple[str, str]]:
        if family is None:
            return []
        return [(model_label(m), m.ref) for m in self._ctx.catalog.models_of(family)]

    def _concentrator_value(self, device: Device) -> str | None:
        found = self._ctx.catalog.find(device.concentrator or "")
        return found.ref if found is not None and found.is_concentrator else None

    def _circuit_options(self) -> list[tuple[str, int]]:
        return [
            (_(c.name) if c.is_preset else c.name, c.id)
            for c in self._inst.circuits
            if c.active or c.id == self.subject.circuit_id
        ]

    def _zones(self) -> list[Zone]:
        return [z for z in self._inst.zones if z.active or z.id in self.subject.zone_ids]

    @staticmethod
    def _address_text(device: Device) -> str:
        if device.interface is not None:
            return device.address_text()
        return str(device.address) if device.address else ""

    # ------------------------------------------------------------------ reading
    @property
    def model(self) -> Model | None:
        value = self.query_one("#f-model", Select).value
        return self._ctx.catalog.find(value) if isinstance(value, str) else None

    def _text(self, key: str) -> str:
        return self.query_one(f"#f-{key}", Input).value.strip()

    def _choice(self, key: str) -> object | None:
        value = self.query_one(f"#f-{key}", Select).value
        return None if value == Select.NULL else value

    def _text_choice(self, key: str) -> str | None:
        value = self._choice(key)
        return value if isinstance(value, str) else None

    def _int_choice(self, key: str) -> int | None:
        value = self._choice(key)
        return value if isinstance(value, int) else None

    def read(self) -> tuple[Device | None, dict[str, str]]:
        """The device the fields describe, and the fields' own problems (translated)."""
        problems: dict[str, str] = {}
        model = self.model
        base = self.subject
        if self.other_side:
            name, phase = self._text("name"), self._text_choice("phase")
            return replace(
                base, name=name, phase=phase if model and model.single_phase else None
            ), problems
        address, interface, position = 0, None, None
        text = self._text("address")
        parsed = parse_address(text, model.addressing if model else "modbus")
        if not text:
            problems["address"] = _("the Modbus address is required")
        elif parsed is None:
            problems["address"] = _('"{text}" is not a Modbus address').format(text=text)
        else:
            address, interface, position = parsed.address, parsed.interface, parsed.position
        generic = None
        if model is not None and model.addressing == "pulse":
            if self._text("position"):
                position = int(self._text("position"))
        else:
            position = None
        if model is not None and model.generic:
            generic = self._read_generic(problems)
        device = replace(
            base,
            model=model.ref if model else "",
            address=address,
            interface=interface,
            name=self._text("name"),
            concentrator=self._text_choice("concentrator") if _is_pulse(model) else None,
            position=position,
            side=self._int_choice("side") if model and model.sides == 2 else None,
            phase=self._text_choice("phase") if _has_one_phase(model) else None,
            supply=self._text_choice("supply") if model and model.supply_direction else None,
            circuit_id=self._int_choice("circuit") if _has_circuit(model) else None,
            zone_ids=tuple(self.query_one("#zones-list", SelectionList).selected),
            generic=generic,
            advanced=_advanced_for(base.advanced, model),
        )
        return device, problems

    def _read_generic(self, problems: dict[str, str]) -> GenericRegister | None:
        register_text = self._text("register").removeprefix("0x").removeprefix("0X")
        multiplier_text = self._text("multiplier").replace(",", ".")
        register = multiplier = None
        try:
            register = int(register_text, 16)
        except ValueError:
            problems["register"] = _('"{text}" is not a hexadecimal register').format(
                text=register_text
            )
        try:
            multiplier = float(multiplier_text)
        except ValueError:
            problems["multiplier"] = _('"{text}" is not a number').format(text=multiplier_text)
        if register is None or multiplier is None:
            return None
        return GenericRegister(
            fc=self._int_choice("fc") or 3,
            register=register,
            words=self._int_choice("words") or 2,
            multiplier=multiplier,
        )

    # ------------------------------------------------------------------ showing
    def refresh_fields(self) -> None:
        """Show the fields of the chosen model only."""
        model = self.model
        pulse = _is_pulse(model)
        shown = {
            "family": not self.other_side,
            "model": not self.other_side,
            "address": not self.other_side,
            "position": pulse and not self.other_side,
            "concentrator": pulse and not self.other_side,
            "side": bool(model and model.sides == 2) and not self.other_side,
            "name": True,
            "phase": bool(model and model.charger and model.single_phase),
            "supply": bool(model and model.supply_direction) and not self.other_side,
            "circuit": _has_circuit(model) and not self.other_side,
            "zones": bool(self._zones()) and not self.other_side,
        }
        generic = bool(model and model.generic) and not self.other_side
        shown.update({key: generic for key in ("fc", "register", "words", "multiplier")})
        for key, visible in shown.items():
            self.query_one(f"#field-{key}").display = visible

    def check(self, *, force: bool = False) -> Device | None:
        """Check the form now; show each problem under its field. The device when all is well.

        ``force`` (Save) shows the problems of a blank form the user has not touched yet.
        """
        device, problems = self.read()
        if self._first is None:
            self._first = (device, dict(problems))
        self._touched = self._touched or force or (device, problems) != self._first
        # Loading a device sends a Changed per field it sets: one check is enough for them.
        seen = (device, tuple(problems.items()), self._inst, self._touched, self.other_side)
        if seen == self._checked:
            return device if not self.problems else None
        self._checked = seen
        if device is not None and not problems:
            for violation in device_problems(self._inst, device, self._ctx):
                key = self.field_of(violation)
                problems.setdefault(key, violation.message.render(_))
        self.show_problems(problems if self._touched else {})
        return device if not problems else None

    def field_of(self, violation: Violation) -> str:
        field = violation.field or violation.place.rpartition(".")[2]
        key = _FIELD_OF.get(field, field)
        if key in LABELS and self.query_one(f"#field-{key}").display:
            return key
        return "general"

    def show_violations(self, violations: tuple[Violation, ...]) -> None:
        self._checked = None  # the next check shows its own problems again
        problems: dict[str, str] = {}
        for violation in violations:
            problems.setdefault(self.field_of(violation), violation.message.render(_))
        self.show_problems(problems)

    def show_problems(self, problems: dict[str, str]) -> None:
        self.problems = problems
        if not self._errors:
            self._errors = list(self.query(".error").results(Static))
        for error in self._errors:
            message = problems.get((error.id or "").removeprefix("err-"), "")
            if message != self._shown.get(error.id or ""):
                self._shown[error.id or ""] = message
                error.update(message)
                error.display = bool(message)

    # ------------------------------------------------------------------ events
    def on_mount(self) -> None:
        self.load(self._inst, self.subject, other_side=self.other_side)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "f-family":
            value = self.query_one("#f-family", Select).value  # now, not when posted
            family = value if isinstance(value, str) else None
            model = self.query_one("#f-model", Select)
            current = self.model
            if current is None or current.family != family:
                model.set_options(self._model_options(family))
        self.refresh_fields()
        self.check()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.check()

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged[int]) -> None:
        self.check()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next field."""
        event.stop()
        self.screen.focus_next()


def _is_pulse(model: Model | None) -> bool:
    return model is not None and model.addressing == "pulse"


def _has_one_phase(model: Model | None) -> bool:
    """A single-phase charger: its phase is chosen."""
    return model is not None and model.charger and model.single_phase


def _has_circuit(model: Model | None) -> bool:
    return model is not None and model.energy not in ("gas", "water")


def _advanced_for(advanced: Advanced, model: Model | None) -> Advanced:
    """Keep the Advanced options the model allows."""
    if model is None:
        return advanced
    return replace(
        advanced,
        exclude_from_alarms=advanced.exclude_from_alarms and model.alarm_exclusion,
        labels=advanced.labels if model.labels else (),
    )
