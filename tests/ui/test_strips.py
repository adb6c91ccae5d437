"""Textual's lines without their per-line caches (``ews_tui.ui.strips``)."""

from __future__ import annotations

import gc

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

import ews_tui.ui.app  # noqa: F401  (the UI as the box loads it)
from ews_tui.ui import strips

CACHES = (
    "_divide_cache",
    "_crop_cache",
    "_style_cache",
    "_filter_cache",
    "_line_length_cache",
    "_crop_extend_cache",
    "_offsets_cache",
)


def test_the_ui_installs_it_and_a_line_makes_no_cache_of_its_own() -> None:
    assert strips.installed()
    line = Strip([Segment("hello "), Segment("world", Style(bold=True))])
    for name in CACHES:  # a Textual that renamed them fails here: check the patch still holds
        assert getattr(line, name) is strips.KEEP_NOTHING, name
    shared = (strips.KEEP_NOTHING, Strip)
    own = [o for o in gc.get_referents(line) if gc.is_tracked(o) and o not in shared]
    assert own == [line._segments]  # its segments' list, nothing else for the collector


def test_lines_derive_the_same_without_caches() -> None:
    line = Strip([Segment("hello "), Segment("world", Style(bold=True))])
    for _ in range(2):  # a second time: nothing kept, computed again alike
        assert line.crop(2, 8).text == "llo wo"
        assert [part.text for part in line.divide([3, 7, 11])] == ["hel", "lo w", "orld"]
        assert line.adjust_cell_length(14).text == "hello world   "
        styled = line.apply_style(Style(italic=True))
        assert styled.text == "hello world" and all(s.style and s.style.italic for s in styled)
        assert line.crop_extend(6, 13, None).text == "world  "
    assert len(strips.KEEP_NOTHING) == 0
