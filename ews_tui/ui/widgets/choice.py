"""A dropdown that looks and answers like Textual's ``Select``, at half its widgets.

Textual's compact ``Select`` is six widgets: the field (``SelectCurrent``), its label, a
down and an up arrow, and the dropdown (``SelectOverlay``, an ``OptionList``) composed, styled
and filled with every entry as the screen opens, though it shows only once the user opens
it. A screen of forms pays that for each choice (issue 16 item 6: Gateways, Devices, the
settings pages opened in 120 to 200 ms of the loop every session shares).

:class:`Choice` is a ``Select`` (same value, ``Select.Changed``, keys: Enter, Space, ↑ or ↓
open it, ↑↓ move, Enter picks, Esc closes; typing jumps to a matching entry), whose field is
three widgets (the field, its label, one arrow that turns ▲ while open) and whose dropdown
is composed the first time it opens. Styles written for ``Select`` and ``SelectCurrent``
apply to it unchanged (a type selector matches subclasses).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TypeVar

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.css.query import NoMatches
from textual.widgets import Select
from textual.widgets._select import NonSelectableStatic, SelectCurrent, SelectOverlay
from textual.widgets.option_list import Option
from textual.widgets.select import NoSelection

ChoiceType = TypeVar("ChoiceType", bound=Hashable)

DOWN, UP = "\u25bc", "\u25b2"


class ChoiceField(SelectCurrent):
    """``SelectCurrent`` with one arrow whose glyph follows the dropdown, not two of which
    the style shows one; composed showing ``label`` (the choice's current entry), so that
    mounting it neither restyles it (``-has-value``) nor changes its text."""

    def __init__(self, placeholder: str, label: RenderableType | NoSelection = Select.NULL) -> None:
        super().__init__(placeholder)
        self.label = label
        if not isinstance(label, NoSelection):
            self.set_reactive(SelectCurrent.has_value, True)
            self.set_class(True, "-has-value", update=False)

    def compose(self) -> ComposeResult:
        label = self.label
        yield NonSelectableStatic(
            self.placeholder if isinstance(label, NoSelection) else label, id="label"
        )
        yield NonSelectableStatic(DOWN, classes="arrow")

    def point(self, up: bool) -> None:
        self.query_one(".arrow", NonSelectableStatic).update(UP if up else DOWN)


class Choice(Select[ChoiceType]):
    """Textual's ``Select`` whose dropdown is composed when it first opens."""

    def __init__(
        self,
        options: Iterable[tuple[RenderableType, ChoiceType]],
        *,
        prompt: str = "Select",
        allow_blank: bool = True,
        value: ChoiceType | NoSelection = Select.NULL,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
        compact: bool = True,
    ) -> None:
        super().__init__(
            options,
            prompt=prompt,
            allow_blank=allow_blank,
            value=value,
            id=id,
            classes=classes,
            disabled=disabled,
            compact=compact,
        )
        self._overlay: SelectOverlay | None = None
        self._first_on_open = False

    @property
    def opened_once(self) -> bool:
        """True once the dropdown has been composed (it is not before it first opens)."""
        return self._overlay is not None

    def compose(self) -> ComposeResult:
        value = self._initial_value()
        index = None if value == self.NULL else self._index_of(value)
        yield ChoiceField(self.prompt, Select.NULL if index is None else self._options[index][0])

    def _initial_value(self) -> ChoiceType | NoSelection:
        """The value mounting gives it (Select's: with no blank entry, the first one)."""
        if self._value == self.NULL and not self._allow_blank:
            return self._options[0][1]
        return self._value

    def _prompts(self) -> list[Option]:
        return [
            Option(Text(self.prompt, style="dim")) if value == self.NULL else Option(prompt)
            for prompt, value in self._options
        ]

    def _index_of(self, value: ChoiceType | NoSelection) -> int | None:
        return next((i for i, (_p, v) in enumerate(self._options) if v == value), None)

    # Select's own, with no dropdown until it first opens.
    def _setup_options_renderables(self) -> None:
        if self._overlay is not None:
            self._overlay.set_options(self._prompts())

    def _watch_value(self, value: ChoiceType | NoSelection) -> None:
        self._value = value
        try:
            field = self.query_one(ChoiceField)
        except NoMatches:
            return
        index = None if value == self.NULL else self._index_of(value)
        label = Select.NULL if index is None else self._options[index][0]
        if label is not field.label:  # not what it was composed showing (mounting sets it)
            field.update(label)
        if index is not None and self._overlay is not None:
            self._overlay.highlighted = index
        self.post_message(self.Changed(self, value))

    def _watch_expanded(self, expanded: bool) -> None:
        self.call_next(self._show_expanded)

    async def _show_expanded(self) -> None:
        """Open or close the dropdown as ``expanded`` now says; composed at its first
        opening (a step of this widget's queue: mounting it is awaited)."""
        try:
            field = self.query_one(ChoiceField)
        except NoMatches:
            return  # removed meanwhile
        expanded, overlay = self.expanded, self._overlay
        if expanded and overlay is None:
            overlay = self._overlay = SelectOverlay(type_to_search=self._type_to_search)
            overlay.compact = self.compact
            overlay.add_options(self._prompts())
            await self.mount(overlay)
        if overlay is None or expanded != self.expanded:
            return  # closed before it ever opened, or toggled again while composing
        self.set_class(expanded, "-expanded")
        field.point(expanded)
        if not expanded:
            return
        overlay.focus(scroll_visible=False)
        index = None if self.value == self.NULL else self._index_of(self.value)
        overlay.select(index)
        field.has_value = index is not None
        if self._first_on_open:
            self._first_on_open = False
            field.has_value = True
            if overlay.highlighted is None:
                overlay.action_first()

    def action_show_overlay(self) -> None:
        """Open the dropdown (Enter, Space, ↑, ↓), the current entry highlighted, else the
        first."""
        self._first_on_open = True
        self.expanded = True

    def _watch_prompt(self, prompt: str) -> None:
        if not self.is_mounted:
            return
        field = self.query_one(ChoiceField)
        field.placeholder = prompt
        if not self._allow_blank:
            return
        if self.value == self.NULL:
            field.update(self.NULL)
        if self._overlay is not None:
            self._overlay.replace_option_prompt_at_index(0, Text(prompt, style="dim"))
