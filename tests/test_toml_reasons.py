"""tomllib's reasons for a broken TOML file reach the user in their language."""

from __future__ import annotations

import tomllib

import pytest

from ews_tui.config.toml_input import syntax_problem
from ews_tui.domain.alarm_detail import message_detail, render_detail
from ews_tui.domain.messages import Message
from ews_tui.i18n import translator

#: One document per reason tomllib (Python 3.11) gives, with the reason it gives.
BROKEN = [
    ("a = \n", "Invalid value"),
    ("= 1\n", "Invalid statement"),
    ("a.(b) = 1\n", "Invalid initial character for a key part"),
    ('a = "\\u00zz"\n', "Invalid hex value"),
    ("a = 1979-02-30\n", "Invalid date or datetime"),
    ('a = """abc', "Unterminated string"),
    ("a = {b = 1\n", "Unclosed inline table"),
    ("a = [1, 2\n", "Unclosed array"),
    ('a = "x\\qy"\n', "Unescaped '\\' in a string"),
    ('a = "\\uD800"\n', "Escaped character is not a Unicode scalar value"),
    ("a = 1\na = 2\n", "Cannot overwrite a value"),
    ("a b = 1\n", "Expected '=' after a key in a key/value pair"),
    ("[a\n", "Expected ']' at the end of a table declaration"),
    ("[[a]\n", "Expected ']]' at the end of an array declaration"),
    ("a = 1 b = 2\n", "Expected newline or end of document after a statement"),
    ("a = {b = 1}\n[a]\n", "Cannot declare ('a',) twice"),
    ("a = {b = 1}\na.c = 2\n", "Cannot mutate immutable namespace ('a',)"),
    ("[[a]]\n[a]\n", "Cannot declare ('a',) twice"),
    ("a = {b = 1, b = 2}\n", "Duplicate inline table key 'b'"),
    ('a = "x\x01"\n', "Illegal character '\\x01'"),
    ("a = 'x\x7f'\n", "Found invalid character '\\x7f'"),
    ("a = '''x", "Expected \"'''\""),
]


@pytest.mark.parametrize(("text", "reason"), BROKEN)
def test_each_reason_of_tomllib_is_a_message_to_translate(text: str, reason: str) -> None:
    with pytest.raises(tomllib.TOMLDecodeError) as caught:
        tomllib.loads(text)
    problem = syntax_problem(caught.value, text)
    inner = problem.message.params["reason"]
    assert isinstance(inner, Message), f"{reason!r} is not translated"
    assert problem.message.render() == f"not valid TOML: {reason}"  # English as tomllib says
    assert problem.line is not None and problem.col is not None
    german = problem.message.render(translator("de").gettext)
    assert german.startswith("kein gültiges TOML: ") and not german.endswith(reason)


def test_an_unknown_reason_is_shown_as_tomllib_words_it() -> None:
    problem = syntax_problem(tomllib.TOMLDecodeError("Something new (at line 2, column 3)"))
    assert problem.message.params["reason"] == "Something new"
    assert (problem.line, problem.col) == (2, 3)
    assert problem.message.render(translator("fr").gettext).endswith(": Something new")


def test_an_error_at_the_end_of_the_document_is_placed_at_its_last_character() -> None:
    text = "a = [1,\n  2"
    with pytest.raises(tomllib.TOMLDecodeError) as caught:
        tomllib.loads(text)
    problem = syntax_problem(caught.value, text)
    assert (problem.line, problem.col) == (2, 4)


def test_a_stored_detail_keeps_the_reason_translatable() -> None:
    """An alarm's detail (a user model file skipped) holds the nested reason as a message:
    each reader sees it in their language."""
    text = "a = \n"
    with pytest.raises(tomllib.TOMLDecodeError) as caught:
        tomllib.loads(text)
    detail = message_detail(syntax_problem(caught.value, text).message, "models/x.toml:1:5")
    assert render_detail(detail) == "models/x.toml:1:5: not valid TOML: Invalid value"
    italian = render_detail(detail, translator("it").gettext)
    assert italian.startswith("models/x.toml:1:5: ") and italian.endswith("Valore non valido")
