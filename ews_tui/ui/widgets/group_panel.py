"""One page of the circuits / zones / switchboards screen (manual §7.16.2): the saved items on
the left, the selected one's parameters on the right.

The panel only shows and collects: the screen asks the installation service to save. A
deactivated item has the deactivated symbol beside its name. What belongs to an item
(devices of a circuit or zone, gateways of a switchboard) is shown read-only: it is assigned
in the gateway and device forms.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ews_tui.domain.installation import Circuit, Installation, Switchboard, Zone
from ews_tui.domain.rules import Violation
from ews_tui.i18n import N_, _

Group = Circuit | Zone | Switchboard
DEACTIVATED = "⊘"
NEW_TITLES = {
    "switchboards": N_("New switchboard"),
    "circuits": N_("New circuit"),
    "zones": N_("New measurement zone"),
}
MEMBER_TITLES = {
    "switchboards": N_("Gateways in this switchboard"),
    "circuits": N_("Devices in this circuit"),
    "zones": N_("Devices in this zone"),
}


def group_name(item: Group) -> str:
    """The name as shown: a preset circuit's name is a msgid, translated."""
    return _(item.name) if isinstance(item, Circuit) and item.is_preset else item.name


def group_label(item: Group) -> str:
    mark = f" {DEACTIVATED}" if not item.active else ""
    preset = " *" if isinstance(item, Circuit) and item.is_preset else ""
    return f"{group_name(item)}{preset}{mark}"


def members(inst: Installation, kind: str, item: Group) -> list[str]:
    """The names of what belongs to ``item`` (read-only here)."""
    if kind == "switchboards":
        return [f"{g.name} ({g.ip})" for g in inst.gateways if g.switchboard_id == item.id]
    if kind == "zones":
        return [d.display_name() for d in inst.devices if item.id in d.zone_ids]
    catch_all = isinstance(item, Circuit) and item.preset == "others"
    return [
        d.display_name()
        for d in inst.devices
        if d.circuit_id == item.id or (catch_all and d.circuit_id is None)
    ]


@dataclass(frozen=True)
class Shown:
    """The texts of the form for one item."""

    title: str
    name: str
    preset: bool
    description: str
    state: str
    members: str


class GroupPanel(Horizontal):
    """The list and the form of one kind: ``switchboards``, ``circuits`` or ``zones``."""

    def __init__(self, kind: str, inst: Installation | None = None, **kwargs: Any) -> None:
        """``inst``: the installation the panel is composed showing (its first item), as
        :meth:`show` would show it once mounted (composing it filled costs the open once,
        not twice: issue 16)."""
        super().__init__(**kwargs)
        self.kind = kind
        self.selected: Group | None = None  # None: a new item is being written
        self._items: tuple[Group, ...] = ()
        self._inst = Installation(gateways=())
        self._composed_with = inst
        if inst is not None:
            self._inst, self._items = inst, inst.groups(kind)
            self.selected = self._items[0] if self._items else None

    @property
    def has_description(self) -> bool:
        return self.kind != "circuits"

    def compose(self) -> ComposeResult:
        empty = Shown("", "", False, "", "", "")
        shown = self._shown(self.selected) if self._composed_with is not None else empty
        options = [Option(group_label(item), id=str(item.id)) for item in self._items]
        yield OptionList(*options, id=f"{self.kind}-list", classes="group-list")
        with VerticalScroll(classes="group-form"):
            yield Static(shown.title, id=f"{self.kind}-title", classes="group-title")
            with Vertical(classes="group-field"):
                yield Label(_("Name (required)"))
                name = Input(shown.name, id=f"{self.kind}-name", max_length=64, compact=True)
                name.disabled = shown.preset
                yield name
                yield Static("", id=f"{self.kind}-name-error", classes="group-error -empty")
            if self.has_description:
                with Vertical(classes="group-field"):
                    yield Label(_("Description/Place"))
                    yield Input(
                        shown.description,
                        id=f"{self.kind}-description",
                        max_length=120,
                        compact=True,
                    )
            yield Static(shown.state, id=f"{self.kind}-state", classes="group-state")
            yield Static("", id=f"{self.kind}-error", classes="group-error -empty")
            yield Static(_(MEMBER_TITLES[self.kind]), classes="group-members-title")
            yield Static(shown.members, id=f"{self.kind}-members", classes="group-members")

    def on_mount(self) -> None:
        if self._composed_with is None:
            return
        if self.selected is not None:
            self.option_list.highlighted = 0  # the item the form was composed showing
        else:
            self.start_new(focus=False)

    # ------------------------------------------------------------------ showing

    @property
    def option_list(self) -> OptionList:
        return self.query_one(f"#{self.kind}-list", OptionList)

    def show(self, inst: Installation, select_id: int | None = None) -> None:
        """Refill the list from ``inst``; keep (or move to ``select_id``) the selection."""
        self._items = inst.groups(self.kind)
        self._inst = inst
        keep = select_id
        if keep is None and self.selected is not None:
            keep = self.selected.id
        options = self.option_list
        options.clear_options()
        options.add_options(Option(group_label(item), id=str(item.id)) for item in self._items)
        index = next((i for i, it in enumerate(self._items) if it.id == keep), None)
        if index is None and self._items and self.selected is not None:
            index = 0
        if index is not None:
            options.highlighted = index
            self.load(self._items[index])
        elif not self._items:
            self.start_new(focus=False)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        item = next((i for i in self._items if str(i.id) == event.option_id), None)
        if item is not None and item is not self.selected:
            self.load(item)

    def _shown(self, item: Group | None) -> Shown:
        """What the form shows for ``item`` (None: a new one)."""
        if item is None:
            return Shown(_(NEW_TITLES[self.kind]), "", False, "", "", _("none"))
        preset = isinstance(item, Circuit) and item.is_preset
        state = _("Active") if item.active else f"{DEACTIVATED} " + _("Deactivated")
        if preset:
            state += "  " + _("(preset circuit: it can only be deactivated)")
        found = members(self._inst, self.kind, item)
        return Shown(
            title=group_name(item),
            name=group_name(item),
            preset=preset,
            description="" if isinstance(item, Circuit) else item.description,
            state=state,
            members="\n".join(found) if found else _("none"),
        )

    def load(self, item: Group) -> None:
        self.selected = item
        shown = self._shown(item)
        self.query_one(f"#{self.kind}-title", Static).update(shown.title)
        name = self.query_one(f"#{self.kind}-name", Input)
        name.value = shown.name
        name.disabled = shown.preset
        if self.has_description and not isinstance(item, Circuit):
            self.query_one(f"#{self.kind}-description", Input).value = shown.description
        self.query_one(f"#{self.kind}-state", Static).update(shown.state)
        self.query_one(f"#{self.kind}-members", Static).update(shown.members)
        self.show_violations(())

    def start_new(self, *, focus: bool = True) -> None:
        """Empty form for a new item (saved with Save); the name gets the focus."""
        self.selected = None
        self.option_list.highlighted = None
        self.query_one(f"#{self.kind}-title", Static).update(_(NEW_TITLES[self.kind]))
        name = self.query_one(f"#{self.kind}-name", Input)
        name.disabled = False
        name.value = ""
        if self.has_description:
            self.query_one(f"#{self.kind}-description", Input).value = ""
        self.query_one(f"#{self.kind}-state", Static).update("")
        self.query_one(f"#{self.kind}-members", Static).update(_("none"))
        self.show_violations(())
        if focus:
            name.focus()

    # ------------------------------------------------------------------ values

    def item(self) -> Group:
        """The form as an item to save: id 0 when new."""
        name = self.query_one(f"#{self.kind}-name", Input).value.strip()
        description = (
            self.query_one(f"#{self.kind}-description", Input).value.strip()
            if self.has_description
            else ""
        )
        current = self.selected
        if isinstance(current, Circuit):
            return current if current.is_preset else replace(current, name=name)
        if current is not None:
            return replace(current, name=name, description=description)
        if self.kind == "circuits":
            return Circuit(id=0, name=name)
        if self.kind == "zones":
            return Zone(id=0, name=name, description=description)
        return Switchboard(id=0, name=name, description=description)

    def unsaved(self) -> bool:
        """The form holds what is not saved: a new item with a name or a description
        typed, or a saved one changed."""
        if self.selected is None:
            item = self.item()
            return bool(item.name or (self.has_description and self._description()))
        return self.item() != self.selected

    def _description(self) -> str:
        return self.query_one(f"#{self.kind}-description", Input).value.strip()

    def show_violations(self, violations: Iterable[Violation]) -> None:
        """A name problem under the name; any other under the form."""
        name_lines: list[str] = []
        other_lines: list[str] = []
        for violation in violations:
            text = violation.message.render(_)
            (name_lines if violation.field == "name" else other_lines).append(text)
        self._set(f"#{self.kind}-name-error", name_lines)
        self._set(f"#{self.kind}-error", other_lines)

    def error_text(self, which: str = "") -> str:
        """The error under the name (``"name"``) or under the form (``""``)."""
        selector = f"#{self.kind}-name-error" if which == "name" else f"#{self.kind}-error"
        return str(self.query_one(selector, Static).content)

    def _set(self, selector: str, lines: list[str]) -> None:
        static = self.query_one(selector, Static)
        static.update("\n".join(lines))
        static.set_class(not lines, "-empty")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.screen.focus_next()
