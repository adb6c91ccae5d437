"""The intermediate page of Delete on a switchboard, circuit or zone (manual §7.16.2.4).

It offers "Deactivate" (or "Activate" for a deactivated item) and "Delete" ("Écraser"),
which preset circuits do not have: they can only be deactivated. Dismisses with
``"deactivate"``, ``"activate"``, ``"delete"`` or None (Cancel, Esc).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from ews_tui.i18n import N_, _

STYLES = Path(__file__).resolve().parent.parent / "styles"
LABELS = {
    "deactivate": (N_("Deactivate"), "d"),
    "activate": (N_("Activate"), "a"),
    "delete": (N_("Delete"), "x"),
}


class GroupRemoveScreen(ModalScreen[str | None]):
    CSS_PATH = STYLES / "groups.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "choose('deactivate')", N_("Deactivate"), show=False),
        Binding("a", "choose('activate')", N_("Activate"), show=False),
        Binding("x", "choose('delete')", N_("Delete"), show=False),
        Binding("escape,n", "choose('')", N_("Cancel")),
    ]

    def __init__(self, name: str, *, active: bool, preset: bool) -> None:
        super().__init__()
        self._name = name
        self.choices: tuple[str, ...] = ("deactivate" if active else "activate",)
        if not preset:
            self.choices += ("delete",)
        self._preset = preset

    def compose(self) -> ComposeResult:
        with Vertical(id="remove-box"):
            yield Static(_('Deactivate or delete "{name}"?').format(name=self._name))
            if self._preset:
                yield Static(_("Preset circuits can only be deactivated."), id="remove-note")
            else:
                yield Static(
                    _("Deleting it removes it from the devices and gateways it groups."),
                    id="remove-note",
                )
            with Horizontal(id="remove-buttons"):
                for choice in self.choices:
                    label, key = LABELS[choice]
                    yield Button(
                        f"{_(label)} ({key})",
                        id=f"remove-{choice}",
                        variant="error" if choice == "delete" else "primary",
                    )
                yield Button(_("Cancel") + " (n)", id="remove-cancel")

    def on_mount(self) -> None:
        self.query_one("#remove-cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_choose((event.button.id or "").removeprefix("remove-"))

    def action_choose(self, choice: str) -> None:
        if choice in self.choices:
            self.dismiss(choice)
        elif choice in ("", "cancel"):
            self.dismiss(None)


SCREEN = GroupRemoveScreen
