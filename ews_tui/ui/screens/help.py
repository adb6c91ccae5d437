"""Help: the keys, and what each menu of the session's role does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from ews_tui.i18n import N_, _
from ews_tui.ui.menu import sections_for
from ews_tui.ui.screen import EwsScreen
from ews_tui.ui.widgets.footer import EwsFooter

if TYPE_CHECKING:
    pass

# (keys, msgid): keys are the same in every language.
KEYS: tuple[tuple[str, str], ...] = (
    ("F1  ?", N_("This help")),
    ("Esc", N_("Back to the previous screen")),
    ("Ctrl+P", N_("Command palette: open a screen by its name")),
    ("Enter", N_("Open the selected entry, or go to the next field")),
    ("Tab  Shift+Tab", N_("Next or previous field")),
    ("↑ ↓", N_("Move in a list")),
    ("Ctrl+D", N_("Log out (home screen)")),
    ("Ctrl+Q", N_("Quit")),
)
LOGIN_HELP = N_(
    "Log in with your PIN (5 digits), then your PUK (14 digits, spaces allowed). "
    "After five failed logins, PINs are refused until a PUK is given; the PIN of that "
    "PUK must then be changed."
)
KEY_WIDTH = 16


_BASE = {b.action for b in Screen.BINDINGS if isinstance(b, Binding)}


def screen_keys(screen: Screen[Any]) -> list[tuple[str, str]]:
    """The keys ``screen`` declares, hidden ones included, translated: what the footer may
    not have room for. The app's keys are in KEYS; Textual's own (focus, copy, a list's
    cursor) are left out."""
    app = screen.app
    found: dict[str, list[str]] = {}
    for _key, active in screen.active_bindings.items():
        binding = active.binding
        if active.node is not screen or not binding.description or binding.action in _BASE:
            continue
        description = _(binding.description)
        shown = found.setdefault(description, [])
        display = app.get_key_display(binding)
        if display not in shown:
            shown.append(display)
    return [("  ".join(keys), description) for description, keys in found.items()]


class HelpScreen(EwsScreen[None]):
    CSS_PATH = "../styles/help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "app.back", N_("Close"))]

    def __init__(self, below: Screen[Any] | None = None) -> None:
        super().__init__()
        self._below = below

    def compose(self) -> ComposeResult:
        yield Static(_("Help"), id="title", classes="screen-title")
        role = self.session.role
        with VerticalScroll(id="help-body"):
            own = screen_keys(self._below) if self._below is not None else []
            if own:
                yield Static(_("This screen"), classes="help-heading")
                for keys, description in own:
                    line = f"{keys:<{KEY_WIDTH}}{description}"
                    yield Static(line, classes="help-line screen-key", markup=False)
            yield Static(_("Keys"), classes="help-heading")
            for keys, msgid in KEYS:
                yield Static(f"{keys:<{KEY_WIDTH}}{_(msgid)}", classes="help-line", markup=False)
            if role is None:
                yield Static(_("Login"), classes="help-heading")
                yield Static(_(LOGIN_HELP), classes="help-line", markup=False)
            for section in sections_for(role):
                yield Static(_(section.label), classes="help-heading", markup=False)
                for entry in section.entries:
                    text = f"{_(entry.label)}: {_(entry.help)}"
                    yield Static(text, classes="help-line", markup=False)
        yield EwsFooter()


SCREEN = HelpScreen
