"""A confirmation modal: a question, a "yes" button and a "no" button (manual §7.16.1.5).

Reused for Delete ("Delete" / "Cancel") and for the two-sided charger's question
("Set the other side?": "Yes" / "No"). It dismisses with ``True`` or ``False``:

    self.app.push_screen(ConfirmScreen(_("Delete gateway X?")), on_answer)

Keys: ``y`` confirms; ``n`` and Esc cancel. The "no" button has the focus, so a stray
Enter never deletes anything.
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


class ConfirmScreen(ModalScreen[bool]):
    """Ask a yes/no question; dismiss with the answer."""

    CSS_PATH = STYLES / "confirm.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", N_("Yes"), show=True),
        Binding("n", "answer(False)", N_("No"), show=True),
        Binding("escape", "answer(False)", N_("Cancel"), show=True),
    ]

    def __init__(
        self,
        question: str,
        *,
        yes: str = N_("Delete"),
        no: str = N_("Cancel"),
        title: str = "",
    ) -> None:
        super().__init__()
        self._question = question
        self._yes = yes
        self._no = no
        self._title = title

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            if self._title:
                yield Static(self._title, id="confirm-title")
            yield Static(self._question, id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{_(self._yes)} (y)", id="confirm-yes", variant="error")
                yield Button(f"{_(self._no)} (n)", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


SCREEN = ConfirmScreen
