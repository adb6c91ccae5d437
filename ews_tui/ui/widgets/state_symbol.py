"""State symbols of gateways and devices (manual §7.16.1): On, Off, Communication error,
Configuration error, and the breaker's Open / Closed / Tripped.

Each symbol is a glyph *and* a word, so it reads without colour (serial terminals, the
Linux VT with 16 colours, ``NO_COLOR``). With ``plain=True`` the glyph is ASCII. Colours are
the 16 ANSI names, which every terminal shows.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from ews_tui.domain.events import DeviceState, GatewayState
from ews_tui.i18n import N_, _

# Not a state of the poller's: what a list shows for a gateway or device enabled but not
# polled yet (the box has just started, or runs without its buses); never "On" unseen.
NOT_POLLED = "not_polled"

# state -> (glyph, ASCII glyph, short word msgid, ANSI colour)
_STATES: dict[str, tuple[str, str, str, str]] = {
    NOT_POLLED: ("◌", ".", N_("Not polled yet"), "bright_black"),
    "on": ("●", "*", N_("On"), "green"),
    "off": ("○", "-", N_("Off"), "bright_black"),
    "comm_error": ("✕", "x", N_("Comm. error"), "red"),
    "config_error": ("!", "!", N_("Config. error"), "yellow"),
}
_BREAKER: dict[str, tuple[str, str, str, str]] = {
    "closed": ("▮", "|", N_("Closed"), "green"),
    "open": ("▯", "o", N_("Open"), "yellow"),
    "tripped": ("⚡", "#", N_("Tripped"), "red"),
}

STATE_NAMES: dict[str, str] = {
    NOT_POLLED: N_("Not polled yet"),
    "on": N_("On"),
    "off": N_("Off"),
    "comm_error": N_("Communication error"),
    "config_error": N_("Configuration error"),
}


def state_text(state: DeviceState | GatewayState | str, *, plain: bool = False) -> Text:
    """``● On`` (green) ... for a gateway or device state; an unknown state shows ``?``."""
    glyph, ascii_glyph, word, colour = _STATES.get(str(state), ("?", "?", "?", "default"))
    return Text(f"{ascii_glyph if plain else glyph} {_(word)}", style=colour)


def breaker_text(state: str | None, *, plain: bool = False) -> Text:
    """The breaker's position, or an empty text when it is not known yet."""
    if state not in _BREAKER:
        return Text("")
    glyph, ascii_glyph, word, colour = _BREAKER[state]
    return Text(f"{ascii_glyph if plain else glyph} {_(word)}", style=colour)


def state_glyph(state: DeviceState | GatewayState | str, *, plain: bool = False) -> Text:
    """The glyph alone (lists): shapes differ, so it reads without colour too."""
    glyph, ascii_glyph, _word, colour = _STATES.get(str(state), ("?", "?", "?", "default"))
    return Text(ascii_glyph if plain else glyph, style=colour)


def breaker_glyph(state: str | None, *, plain: bool = False) -> Text:
    """The breaker's glyph alone, or a blank when not known (or not a breaker)."""
    if state not in _BREAKER:
        return Text(" ")
    glyph, ascii_glyph, _word, colour = _BREAKER[state]
    return Text(ascii_glyph if plain else glyph, style=colour)


class StateSymbol(Static):
    """A one-line state symbol that follows its ``state`` reactive."""

    DEFAULT_CSS = """
    StateSymbol { width: auto; height: 1; }
    """

    state: reactive[str] = reactive("on")

    def __init__(
        self,
        state: str = "on",
        *,
        plain: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__("", id=id, classes=classes)
        self._plain = plain
        self.set_reactive(StateSymbol.state, state)

    def render(self) -> Text:
        return state_text(self.state, plain=self._plain)
