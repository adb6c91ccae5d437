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
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
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
from ews_tui.ui.widgets.choice import Choice
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
TEXTS = ("address", "position", "name", "register", "multiplier")
PLACEHOLDERS = {"address": N_("e.g. 12 or 2-1"), "name": N_("default: the address")}
RESTRICT = {"position": r"\d*", "register": r"(0x|0X)?[0-9a-fA-F]*"}
NEVER_BLANK = ("supply", "fc", "words")
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
        self._shown: dict[str, str] = {}  # field key -> the message under it
        self._first: tuple[Device | None, dict[str, str]] | None = None
        self._values: dict[str, object] = {}  # field key -> its value while not shown
        self._inputs: dict[str, Widget] = {}  # field key -> its input, once composed
        self._fields: dict[str, Horizontal] = {}  # field key -> its row, once composed
        self._errors: dict[str, Static] = {}  # field key -> its error line, once one showed
        self._general = Static("", id="err-general", classes="error")
        self._general.display = False
        self._checked: tuple[object, ...] | None = None  # what the last check saw
        self._loaded: Device | None = None  # the fields as loaded (see unsaved)

    # ------------------------------------------------------------------ building
    def compose(self) -> ComposeResult:
        """The fields the device's model shows, in their order; the others are composed
        when a model needing them is chosen (:meth:`refresh_fields`), then kept. Each field
        is three widgets and a choice three more (a :class:`Choice`: Textual's Select was
        five more): composing all of them cost the Devices screen most of its open time
        (issue 16)."""
        self._values = self._values_of(self.subject)
        model = self._ctx.catalog.find(self.subject.model)
        visible = self._visible(model)
        for key in LABELS:
            if key == "address":
                yield Static("", id="other-side")
            if visible[key]:
                yield self._new_field(key)
        yield self._general
        yield Static(
            _("* mandatory. An empty name takes the address. Ctrl+S saves from any field."),
            id="legend",
        )

    def _new_field(self, key: str) -> Horizontal:
        """Field ``key``: its label and input, holding its value in :attr:`_values` (its
        error line comes under it when it first has one to show)."""
        widget = self._make_input(key)
        if widget.id is None:
            widget.id = f"f-{key}"
        self._inputs[key] = widget
        label = _(LABELS[key]) + (" *" if key in MANDATORY else "")
        field = self._fields[key] = Horizontal(
            Label(label, classes="field-label"),
            widget,
            id=f"field-{key}",
            classes="field field-row",
        )
        return field

    def _make_input(self, key: str) -> Widget:
        """The input of field ``key``, made with its value (a Select's value set before
        it is mounted would not show)."""
        value = self._values.get(key)
        if key in TEXTS:
            return Input(
                str(value or ""),
                compact=True,
                placeholder=_(PLACEHOLDERS[key]) if key in PLACEHOLDERS else "",
                restrict=RESTRICT.get(key),
            )
        if key == "zones":
            chosen = value if isinstance(value, tuple) else ()
            zones = [(z.name, z.id, z.id in chosen) for z in self._zones()]
            return TickList[int](*zones, compact=True, id="zones-list")
        options, prompt = self._choices(key)
        blank = key not in NEVER_BLANK
        return Choice(
            options,
            prompt=prompt,
            allow_blank=blank,
            value=Select.NULL if value is None else value,
        )

    def _choices(self, key: str) -> tuple[list[tuple[str, object]], str]:
        """The options of choice ``key`` and its prompt."""
        options: list[tuple[str, object]]
        if key == "family":
            families = sorted(self._ctx.catalog.families, key=lambda f: f.order)
            return [(_(f.name), f.id) for f in families], _("Choose a family")
        if key == "model":
            family = self._values.get("family")
            options = list(self._model_options(family if isinstance(family, str) else None))
            return options, _("Choose a model")
        if key == "concentrator":
            options = [(model_label(m), m.ref) for m in self._ctx.catalog.concentrators()]
            return options, _("Choose a concentrator")
        if key == "side":
            return [("1", 1), ("2", 2)], _("Choose a side")
        if key == "phase":
            return [(p, p) for p in PHASES], _("Choose a phase")
        if key == "supply":
            return [(_(label), k) for k, label in SUPPLY_LABELS.items()], ""
        if key == "circuit":
            return list(self._circuit_options()), _("(none)")
        if key == "fc":
            return [("3", 3), ("4", 4)], ""
        if key == "words":
            return [("1", 1), ("2", 2), ("4", 4)], ""
        raise KeyError(key)

    def _values_of(self, device: Device) -> dict[str, object]:
        """What each field shows for ``device``."""
        model = self._ctx.catalog.find(device.model)
        generic = device.generic or GenericRegister()
        return {
            "family": model.family if model else None,
            "model": model.ref if model else None,
            "address": self._address_text(device),
            "position": str(device.position or ""),
            "concentrator": self._concentrator_value(device),
            "side": device.side,
            "name": device.name,
            "phase": device.phase,
            "supply": device.supply or "upstream",
            "circuit": device.circuit_id,
            "zones": tuple(device.zone_ids),
            "fc": generic.fc,
            "register": f"{generic.register:04X}",
            "words": generic.words,
            "multiplier": f"{generic.multiplier:g}",
        }

    def load(self, inst: Installation, device: Device, *, other_side: bool = False) -> None:
        """Show ``device`` (id 0: a new one); ``other_side``: only its name and phase."""
        self._inst, self.subject, self.other_side = inst, device, other_side
        self._fill(self._values_of(device))
        self._loaded_now()

    def _loaded_now(self) -> None:
        """What follows filling the fields with :attr:`subject`: the fields its model shows,
        the check, and what "nothing changed" reads as."""
        device = self.subject
        self._checked = None
        # A blank new form shows no "required" messages until something is typed or saved.
        self._touched = device.id != 0 or self.other_side
        self._first = None
        other = self.query_one("#other-side", Static)
        other.update(
            _("Side {side} of address {address}, model {model}").format(
                side=device.side, address=device.address, model=device.model
            )
            if self.other_side
            else ""
        )
        other.display = self.other_side
        self.refresh_fields()
        self.check()
        self.scroll_home(animate=False)
        self._loaded = self.read()[0]

    def _fill(self, values: dict[str, object]) -> None:
        """Set every field composed so far (and remember the others' values)."""
        self._set("family", values["family"])
        self._set_options("model", self._model_options(_str(values["family"])))
        self._set("model", values["model"])
        for key in ("address", "position", "name", "register", "multiplier"):
            self._input(key, str(values[key]))
        for key in ("concentrator", "side", "phase", "supply", "fc", "words"):
            self._set(key, values[key])
        self._set_options("circuit", self._circuit_options())
        self._set("circuit", values["circuit"])
        self._values["zones"] = values["zones"]
        zones = self._inputs.get("zones")
        if isinstance(zones, SelectionList):
            chosen = values["zones"] if isinstance(values["zones"], tuple) else ()
            zones.clear_options()
            zones.add_options([(z.name, z.id, z.id in chosen) for z in self._zones()])

    def unsaved(self) -> bool:
        """The fields describe something else than the device loaded (a new device:
        anything chosen or typed)."""
        return self.is_mounted and self.read()[0] != self._loaded

    def _set(self, key: str, value: object) -> None:
        """Choose ``value`` in choice ``key`` (remembered while the field is not composed
        or not mounted yet; applied once it is)."""
        self._values[key] = value
        select = self._inputs.get(key)
        if not isinstance(select, Select):
            return
        choice = Select.NULL if value is None else value
        if select.is_mounted:
            select.value = choice
        else:
            select.call_later(setattr, select, "value", choice)

    def _set_options(self, key: str, options: list[tuple[str, Any]]) -> None:
        select = self._inputs.get(key)
        if not isinstance(select, Select):
            return
        if select.is_mounted:
            select.set_options(options)
        else:
            select.call_later(select.set_options, options)

    def _input(self, key: str, value: str) -> None:
        self._values[key] = value
        widget = self._inputs.get(key)
        if isinstance(widget, Input):
            widget.value = value

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
        value = self._choice("model")
        return self._ctx.catalog.find(value) if isinstance(value, str) else None

    def _text(self, key: str) -> str:
        widget = self._inputs.get(key)
        if isinstance(widget, Input):
            return widget.value.strip()
        return str(self._values.get(key) or "").strip()

    def _choice(self, key: str) -> object | None:
        """The value chosen in ``key``; what was set while it was not composed or mounted."""
        widget = self._inputs.get(key)
        if not isinstance(widget, Select) or not widget.is_mounted:
            return self._values.get(key)
        value = widget.value
        return None if value == Select.NULL else value

    def _zone_ids(self) -> tuple[int, ...]:
        widget = self._inputs.get("zones")
        if isinstance(widget, SelectionList):
            return tuple(widget.selected)
        value = self._values.get("zones")
        return value if isinstance(value, tuple) else ()

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
            zone_ids=self._zone_ids(),
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
        """Show the fields of the chosen model only (composing the ones it is the first to
        need)."""
        visible = self._visible(self.model)
        later: Widget = self._general
        for key in reversed(LABELS):
            field = self._fields.get(key)
            if field is None and visible[key]:
                field = self._new_field(key)
                self.mount(field, before=later)
            if field is not None:
                field.display = visible[key]
                if (error := self._errors.get(key)) is not None:
                    error.display = visible[key] and bool(self._shown.get(key))
                later = field
            if key == "address":
                later = self.query_one("#other-side")

    def _visible(self, model: Model | None) -> dict[str, bool]:
        """Which fields ``model`` shows."""
        pulse = _is_pulse(model)
        own = not self.other_side
        shown = {
            "family": own,
            "model": own,
            "address": own,
            "position": pulse and own,
            "concentrator": pulse and own,
            "side": bool(model and model.sides == 2) and own,
            "name": True,
            "phase": bool(model and model.charger and model.single_phase),
            "supply": bool(model and model.supply_direction) and own,
            "circuit": _has_circuit(model) and own,
            "zones": bool(self._zones()) and own,
        }
        generic = bool(model and model.generic) and own
        shown.update({key: generic for key in ("fc", "register", "words", "multiplier")})
        return shown

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
        name = violation.field or violation.place.rpartition(".")[2]
        key = _FIELD_OF.get(name, name)
        field = self._fields.get(key)
        if field is not None and field.display:
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
        placed: dict[str, str] = {}
        for key, message in problems.items():  # a field not composed: under the form
            placed.setdefault(key if key in self._fields else "general", message)
        for key in (*self._fields, "general"):
            message = placed.get(key, "")
            if message == self._shown.get(key, ""):
                continue
            self._shown[key] = message
            error = self._general if key == "general" else self._errors.get(key)
            if error is None:
                error = self._errors[key] = Static("", id=f"err-{key}", classes="error")
                self.mount(error, after=self._fields[key])
            error.update(message)
            error.display = bool(message)

    # ------------------------------------------------------------------ events
    def on_mount(self) -> None:
        # The fields were composed holding the subject's values: no need to set them again.
        self._loaded_now()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "f-family":
            family = _str(self._choice("family"))  # now, not when posted
            self._values["family"] = family
            current = self.model
            if current is None or current.family != family:
                self._set_options("model", self._model_options(family))
                self._values["model"] = None
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


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


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
