"""Keys that reach a text field together are applied in the order typed (``ui/input_keys``):
an editing key (Backspace, ←, Home...) is not overtaken by the printable keys after it, and a
key the field declines (↑ where nothing scrolls) still reaches the screen's binding."""

from __future__ import annotations

from typing import ClassVar

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input

from ews_tui.ui import input_keys

input_keys.install()  # as ews_tui.ui.app does


class Form(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("up", "moved_up", "Up")]

    def __init__(self) -> None:
        super().__init__()
        self.moved_up = 0

    def compose(self) -> ComposeResult:
        yield Input(id="pin", password=True, max_length=5, restrict=r"[0-9]*")

    def action_moved_up(self) -> None:
        self.moved_up += 1


def burst(app: App[None], *keys: str) -> None:
    """``keys`` posted at once, as a terminal's read hands them over."""
    for key in keys:
        character = {"backspace": "\x7f", "left": None, "home": None, "up": None}.get(key, key)
        app.post_message(events.Key(key, character))


@pytest.mark.parametrize(
    ("start", "keys", "value"),
    [
        ("", ("backspace", "3"), "3"),
        ("", ("backspace", "backspace", "4", "5"), "45"),
        ("12", ("backspace", "7"), "17"),
        ("12", ("left", "9"), "192"),
        ("12", ("home", "0", "backspace", "8"), "812"),
    ],
)
async def test_a_burst_of_keys_is_applied_in_order(
    start: str, keys: tuple[str, ...], value: str
) -> None:
    app = Form()
    async with app.run_test() as pilot:
        pin = app.query_one(Input)
        pin.value = start
        pin.cursor_position = len(start)
        pin.focus()
        await pilot.pause()
        burst(app, *keys)
        for _turn in range(5):
            await pilot.pause()
        assert pin.value == value


async def test_a_key_the_field_declines_still_reaches_the_screen() -> None:
    app = Form()
    async with app.run_test() as pilot:
        app.query_one(Input).focus()
        await pilot.pause()
        burst(app, "up", "1")
        for _turn in range(5):
            await pilot.pause()
        assert app.moved_up == 1
        assert app.query_one(Input).value == "1"
