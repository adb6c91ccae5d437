"""The lighter dropdown (issue 16 item 6): Select's look and keys, its list composed only
when it first opens."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.widget import Widget
from textual.widgets import Input, Select
from textual.widgets._select import SelectOverlay

from ews_tui.ui.widgets.choice import Choice, ChoiceField

OPTIONS = [("Even", "even"), ("Odd", "odd"), ("None", "none")]


class ChoiceApp(App[None]):
    def __init__(self, **choice: Any) -> None:
        super().__init__()
        self.choice_args = choice
        self.changes: list[object] = []

    def compose(self) -> ComposeResult:
        yield Choice(OPTIONS, id="parity", **self.choice_args)
        yield Input(id="after", compact=True)

    def on_select_changed(self, event: Select.Changed) -> None:
        self.changes.append(event.value)


def focused(app: ChoiceApp) -> Widget | None:
    return app.focused


def is_open(choice: Choice[Any]) -> bool:
    return choice.expanded


def shown(app: ChoiceApp) -> str:
    field = app.query_one(ChoiceField)
    return "".join(str(child.render()) for child in field.children if child.display)


async def test_the_dropdown_is_composed_when_it_first_opens() -> None:
    app = ChoiceApp(allow_blank=False, value="odd")
    async with app.run_test(size=(40, 10)) as pilot:
        choice = app.query_one(Choice)
        # Textual's Select: six widgets, its dropdown among them from the start
        assert len(list(choice.walk_children(with_self=True))) == 4
        assert not choice.query(SelectOverlay)
        assert shown(app) == "Odd\u25bc"
        assert app.changes == ["odd"]  # as Select: its value posts Changed once mounted
        choice.focus()
        await pilot.press("enter")
        overlay = choice.query_one(SelectOverlay)
        assert focused(app) is overlay
        assert overlay.highlighted == 1  # the current entry
        assert choice.has_class("-expanded")
        assert shown(app) == "Odd\u25b2"
        await pilot.press("down", "enter")
        assert choice.value == "none"
        assert app.changes == ["odd", "none"]
        assert focused(app) is choice
        assert not is_open(choice) and not overlay.display
        assert shown(app) == "None\u25bc"


async def test_keys_open_move_and_close_it_as_select_does() -> None:
    app = ChoiceApp(prompt="(none)")
    async with app.run_test(size=(40, 10)) as pilot:
        choice = app.query_one(Choice)
        assert choice.value == Select.NULL
        assert shown(app) == "(none)\u25bc"
        choice.focus()
        await pilot.press("space")
        overlay = choice.query_one(SelectOverlay)
        assert overlay.highlighted == 0  # nothing chosen: the first entry
        await pilot.press("escape")
        assert not is_open(choice) and focused(app) is choice
        assert choice.value == Select.NULL
        await pilot.press("down")  # ↑/↓ open it too, the list composed once only
        assert is_open(choice) and choice.query_one(SelectOverlay) is overlay
        await pilot.press("o", "enter")  # typing jumps to a matching entry
        assert choice.value == "odd"
        choice.clear()
        assert shown(app) == "(none)\u25bc"
        choice.set_options([("A", "a"), ("B", "b")])
        choice.value = "b"
        await pilot.press("enter")
        assert [str(o.prompt) for o in overlay.options] == ["(none)", "A", "B"]
        assert overlay.highlighted == 2


class RestyleCountingApp(ChoiceApp):
    def __init__(self, **choice: Any) -> None:
        super().__init__(**choice)
        self.restyled: list[Any] = []

    def update_styles(self, node: Any, animate: bool = True) -> None:
        self.restyled.append(node)
        super().update_styles(node, animate=animate)


async def test_the_field_is_composed_showing_the_value_not_restyled_once_mounted() -> None:
    """Select's field was composed empty, then mounting the Select set its text and its
    ``-has-value`` class, which restyled it and its children (1 to 3 ms a Choice, three
    on the device form, in the step that opens the screen)."""
    for args, text in (
        ({"allow_blank": False, "value": "odd"}, "Odd"),
        ({"allow_blank": False}, "Even"),  # no blank entry: the first one, as Select
        ({"prompt": "(none)"}, "(none)"),
    ):
        app = RestyleCountingApp(**args)
        async with app.run_test(size=(40, 10)) as pilot:
            await pilot.pause()
            field = app.query_one(ChoiceField)
            assert shown(app) == f"{text}\u25bc"
            assert field.has_value == (text != "(none)")
            assert field.has_class("-has-value") == field.has_value
            assert not [n for n in app.restyled if n is field or field in n.ancestors], args
            assert app.changes == ([] if text == "(none)" else [text.lower()])
            # A value set later shows, and restyles the field as Select does.
            app.query_one(Choice).value = "none"
            await pilot.pause()
            assert shown(app) == "None\u25bc" and field.has_class("-has-value")
