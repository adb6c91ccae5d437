"""Ticks that read without colour: ``[x]`` ticked, ``[ ]`` not.

Textual draws every tick (Checkbox, SelectionList, and a Switch's slider) the same shape,
ticked or not, and shows the state by colour alone: "▐X▌" either way, the X in the normal
text colour when unticked on a 16-colour terminal, nothing a monochrome one or NO_COLOR
shows. These subclasses draw the marks below instead, in the text's own colour, and are
used everywhere a tick shows: zones, cost-rule targets, days of a band, exclude from
totals/alarms, a threshold on/off, a setting on/off, a recipient's event types.

They keep Textual's keys, messages, CSS type names (``Checkbox``, ``SelectionList``,
``Switch`` select them too) and widths (three cells).
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.content import Content
from textual.geometry import Size
from textual.strip import Strip
from textual.widgets import Checkbox, SelectionList, Switch
from textual.widgets._toggle_button import ToggleButton
from textual.widgets.option_list import OptionDoesNotExist
from textual.widgets.selection_list import SelectionType

TICKED = "[x]"
UNTICKED = "[ ]"
MARK_WIDTH = 3  # as Textual's "▐X▌": lists and forms keep their layout


def mark(value: bool) -> str:
    return TICKED if value else UNTICKED


class TickBox(Checkbox):
    """A Checkbox drawn ``[x] label`` / ``[ ] label``."""

    @property
    def _button(self) -> Content:
        return Content.assemble("[", ("x" if self.value else " ", "bold"), "]")


class TickList(SelectionList[SelectionType]):
    """A SelectionList whose lines start with ``[x]`` / ``[ ]``."""

    def render_line(self, y: int) -> Strip:
        line = super().render_line(y)
        segments = list(line)
        button = ToggleButton.BUTTON_LEFT, ToggleButton.BUTTON_INNER, ToggleButton.BUTTON_RIGHT
        if len(segments) < 4 or tuple(s.text for s in segments[:3]) != button:
            return line  # not an option's line
        _x, scroll_y = self.scroll_offset
        try:
            selection = self.get_option_at_index(scroll_y + y)
        except OptionDoesNotExist:
            return line
        ticked = selection.value in self._selected
        base = segments[3].style or Style()
        meta = Style.from_meta(segments[0].style.meta) if segments[0].style else Style()
        text = mark(ticked)
        marks = [
            Segment(text[0], base + meta),
            Segment(text[1], base + Style(bold=True) + meta),
            Segment(text[2], base + meta),
        ]
        return Strip([*marks, *segments[3:]], line.cell_length)


class TickSwitch(Switch):
    """A Switch drawn ``[x]`` (on) / ``[ ]`` (off), without its slider.

    One line, no border: Textual's focus border took the two lines a form gives a switch,
    and its state did not show at all while it had the focus. The focus shows reversed.
    """

    DEFAULT_CSS = """
    TickSwitch {
        border: none;
        height: 1;
        width: auto;
        padding: 0;
        &:focus {
            border: none;
            text-style: reverse;
        }
    }
    """

    def render(self) -> Content:
        return Content.assemble("[", ("x" if self.value else " ", "bold"), "]")

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return MARK_WIDTH
