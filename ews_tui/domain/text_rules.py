"""Text a user types or a file brings: what a name may hold, and how a value is shown back.

Names, labels and descriptions are plain text: no control characters (C0, DEL, C1), which a
terminal would obey (``ESC ] 0 ;`` sets its title, ``ESC [ 2 J`` clears it), and a bounded
length. Values quoted back in a message are shortened and made printable, so a hostile
file can neither flood a line nor drive the terminal that shows the message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ews_tui.domain.messages import N_, Message

MAX_NAME = 64
MAX_DESCRIPTION = 120
MAX_EXCERPT = 64
MAX_DEPTH = 32  # nesting of tables and arrays in a file: ours use 4

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def control_char(text: str) -> str | None:
    """The first control character of ``text``, written as ``\\x1b``; None when clean."""
    match = _CONTROL.search(text)
    return None if match is None else _escape_char(match[0])


def _escape_char(char: str) -> str:
    return f"\\x{ord(char):02x}"


def printable(text: str) -> str:
    """``text`` with every control character written as ``\\xNN`` (safe on a terminal)."""
    return _CONTROL.sub(lambda m: _escape_char(m[0]), text)


def text_problem(text: str, max_length: int) -> Message | None:
    """What is wrong with a name, label or description, or None."""
    if (char := control_char(text)) is not None:
        return Message(
            N_("control characters (here {char}) are not allowed"),
            {"char": char},
        )
    if len(text) > max_length:
        return Message(
            N_("{length} characters: at most {max} are allowed"),
            {"length": len(text), "max": max_length},
        )
    return None


class Excerpt(str):
    """A value as a message quotes it: printable, at most :data:`MAX_EXCERPT` characters.

    ``{value}`` shows the text; ``{value!r}`` shows it quoted by ``repr`` (which escapes
    every non-printable character).
    """

    __slots__ = ("quoted",)
    quoted: str

    def __new__(cls, text: str, quoted: str) -> Excerpt:
        self = super().__new__(cls, text)
        self.quoted = quoted
        return self

    def __repr__(self) -> str:
        return self.quoted


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def excerpt(value: object, limit: int = MAX_EXCERPT) -> object:
    """``value`` ready for a message: a long or non-printable text (or a list or table)
    becomes a short printable :class:`Excerpt`; a number or a boolean stays as it is."""
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        short = _shorten(value, limit)
        quoted, keep = repr(short), limit
        while len(quoted) > limit + 2 and keep > 1:
            # repr's escapes (\x00, \U000e0001) made it longer: keep fewer characters
            keep -= 1 + (len(quoted) - limit - 2) // 10
            short = _shorten(value, max(keep, 1))
            quoted = repr(short)
        return Excerpt(printable(short), quoted)
    if isinstance(value, list | tuple | Mapping):
        text = _shorten(printable(_bounded_repr(value, limit)), limit)
        return Excerpt(text, text)
    text = printable(_shorten(str(value), limit))
    return Excerpt(text, text)


def _bounded_repr(value: Any, limit: int) -> str:
    """A repr of a list or table without walking more of it than a message can show."""
    if isinstance(value, Mapping):
        items = list(value.items())[:limit]
        inner = ", ".join(
            f"{_bounded_repr(k, limit // 2)}: {_bounded_repr(v, limit // 2)}" for k, v in items
        )
        return "{" + _shorten(inner, limit) + "}"
    if isinstance(value, list | tuple):
        inner = ", ".join(_bounded_repr(v, limit // 2) for v in list(value)[:limit])
        return "[" + _shorten(inner, limit) + "]"
    if isinstance(value, str):
        return repr(_shorten(value, limit))
    return _shorten(repr(value), limit)


def excerpts(params: Mapping[str, object]) -> dict[str, object]:
    """Every parameter of a message made short and printable (see :func:`excerpt`)."""
    return {key: excerpt(value) for key, value in params.items()}


def nesting_depth(value: object, limit: int = MAX_DEPTH) -> int:
    """How deep tables and arrays nest in a parsed document, counted up to ``limit + 1``
    (without recursion: a hostile document may nest thousands deep)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: list[object] = list(item.values())
        elif isinstance(item, list | tuple):
            children = list(item)
        else:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest
