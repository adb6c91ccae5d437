"""Names are plain text; values quoted back in messages are short and printable."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ews_tui.domain.text_rules import (
    MAX_EXCERPT,
    control_char,
    excerpt,
    nesting_depth,
    printable,
    text_problem,
)

HOSTILE = "\x1b]0;PWNED-TITLE\x07\x1b[2J"
CONTROLS = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))]


def test_every_c0_c1_and_del_character_is_a_control_character() -> None:
    for char in CONTROLS:
        assert control_char(f"a{char}b") == f"\\x{ord(char):02x}"
    assert control_char("Tableau général – étage 2 ⚡") is None


def test_a_hostile_name_is_refused_with_the_character_it_holds() -> None:
    problem = text_problem(HOSTILE, 64)
    assert problem is not None
    assert str(problem) == "control characters (here \\x1b) are not allowed"
    too_long = text_problem("x" * 65, 64)
    assert too_long is not None and str(too_long) == "65 characters: at most 64 are allowed"
    assert text_problem("x" * 64, 64) is None


@given(st.text())
def test_printable_text_holds_no_control_character(text: str) -> None:
    shown = printable(text)
    assert control_char(shown) is None
    if control_char(text) is None:
        assert shown == text


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.text(max_size=200) | st.integers(),
        lambda c: st.lists(c, max_size=8) | st.dictionaries(st.text(max_size=20), c, max_size=8),
        max_leaves=40,
    )
)
def test_an_excerpt_is_short_and_printable(value: object) -> None:
    shown = excerpt(value)
    for text in (str(shown), repr(shown)):
        assert control_char(text) is None
        assert len(text) <= MAX_EXCERPT + 2  # the quotes of repr


@pytest.mark.parametrize("value", ["\x00" * 200, "\U000e0001" * 100, "é\x1b" * 40])
def test_an_excerpt_of_escaped_characters_stays_short_in_its_quoted_form(value: str) -> None:
    """repr escapes a control character in 4 to 10 characters: the quoted form is cut to
    the limit too (hypothesis found a 71-character repr against a limit of 66)."""
    assert len(repr(excerpt(value))) <= MAX_EXCERPT + 2


def test_an_excerpt_of_a_huge_value_stays_short() -> None:
    shown = excerpt("x" * 10_000_000)
    assert str(shown) == "x" * (MAX_EXCERPT - 1) + "…"
    assert repr(excerpt("abc")) == "'abc'" and str(excerpt("abc")) == "abc"
    assert excerpt(12) == 12
    assert len(str(excerpt([list(range(10**5))] * 10**3))) <= MAX_EXCERPT


def test_nesting_depth_counts_without_recursion() -> None:
    assert nesting_depth({"a": 1}) == 1
    assert nesting_depth({"a": [{"b": []}]}) == 4
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    assert nesting_depth(deep, limit=32) == 33
