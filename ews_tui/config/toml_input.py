"""Reading a TOML file a user hands us (config, installation, device models), bounded.

A file larger than :data:`MAX_FILE_BYTES` is refused before it is read whole, and a
document nested deeper than :data:`~ews_tui.domain.text_rules.MAX_DEPTH` is refused after
parsing (``tomllib`` recurses per level, so a thousand ``[`` would end in RecursionError).
Both are :class:`TooHostile` with a one-line message; the callers place it at their file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ews_tui.domain.messages import N_, Message
from ews_tui.domain.text_rules import MAX_DEPTH, nesting_depth

MAX_FILE_BYTES = 1_000_000


class TooHostile(Exception):
    """A file too large or nested too deep to read; ``message`` says which."""

    def __init__(self, message: Message) -> None:
        self.message = message
        super().__init__(str(message))


def read_bounded(path: Path) -> bytes:
    """The bytes of ``path``; TooHostile past :data:`MAX_FILE_BYTES`, OSError as ``open``."""
    with Path(path).open("rb") as stream:
        raw = stream.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise TooHostile(
            Message(
                N_("the file is larger than {max} bytes: not read"),
                {"max": MAX_FILE_BYTES},
            )
        )
    return raw


def loads_bounded(text: str) -> dict[str, Any]:
    """``tomllib.loads(text)``, refusing a document nested deeper than MAX_DEPTH with
    TooHostile; tomllib.TOMLDecodeError as tomllib raises it."""
    too_deep = TooHostile(
        Message(N_("tables and arrays nest deeper than {max} levels: not read"), {"max": MAX_DEPTH})
    )
    try:
        doc = tomllib.loads(text)
    except RecursionError:
        raise too_deep from None
    if nesting_depth(doc) > MAX_DEPTH:
        raise too_deep
    return doc


_AT = re.compile(
    r"^(?P<reason>.*) \(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)$",
    re.DOTALL,
)

#: tomllib's reasons (Python 3.11's ``tomllib/_parser.py``) as translatable messages: the
#: fixed ones, then those with a value in them (the first pattern matching the whole reason
#: wins: the fixed ``Expected`` lines come before the general one). A reason not listed is
#: shown as tomllib words it.
_FIXED_REASONS: Final = frozenset(
    {
        N_("Invalid value"),
        N_("Invalid statement"),
        N_("Invalid initial character for a key part"),
        N_("Invalid hex value"),
        N_("Invalid date or datetime"),
        N_("Unterminated string"),
        N_("Unclosed inline table"),
        N_("Unclosed array"),
        N_("Unescaped '\\' in a string"),
        N_("Escaped character is not a Unicode scalar value"),
        N_("Cannot overwrite a value"),
        N_("Expected '=' after a key in a key/value pair"),
        N_("Expected ']' at the end of a table declaration"),
        N_("Expected ']]' at the end of an array declaration"),
        N_("Expected newline or end of document after a statement"),
    }
)
_VALUED_REASONS: Final = tuple(
    (re.compile(pattern, re.DOTALL), msgid)
    for pattern, msgid in (
        (r"Cannot mutate immutable namespace (?P<key>.*)",
         N_("Cannot mutate immutable namespace {key}")),
        (r"Cannot redefine namespace (?P<key>.*)", N_("Cannot redefine namespace {key}")),
        (r"Cannot declare (?P<key>.*) twice", N_("Cannot declare {key} twice")),
        (r"Duplicate inline table key (?P<key>.*)", N_("Duplicate inline table key {key}")),
        (r"Illegal character (?P<char>.*)", N_("Illegal character {char}")),
        (r"Found invalid character (?P<char>.*)", N_("Found invalid character {char}")),
        (r"Expected (?P<expected>.*)", N_("Expected {expected}")),
    )
)  # fmt: skip


def _reason(text: str) -> Message | str:
    if text in _FIXED_REASONS:
        return Message(text)
    for pattern, msgid in _VALUED_REASONS:
        found = pattern.fullmatch(text)
        if found is not None:
            return Message(msgid, found.groupdict())
    return text


@dataclass(frozen=True)
class SyntaxProblem:
    """Where a TOML text is not valid and why: ``message`` is "not valid TOML: {reason}"
    with tomllib's reason as a translatable message; ``line``/``col`` (1-based) when
    tomllib gave a place, the end of the document's when it said "end of document"."""

    message: Message
    line: int | None = None
    col: int | None = None


def syntax_problem(error: tomllib.TOMLDecodeError, text: str | None = None) -> SyntaxProblem:
    """``error`` in words a user can read in their language. ``text`` (the document) places
    an error "at end of document" at its last line and column."""
    match = _AT.match(str(error))
    reason = _reason(match["reason"] if match is not None else str(error))
    message = Message(N_("not valid TOML: {reason}"), {"reason": reason})
    if match is None:
        return SyntaxProblem(message)
    if match["line"] is not None:
        return SyntaxProblem(message, int(match["line"]), int(match["col"]))
    if text is None:
        return SyntaxProblem(message)
    lines = text.split("\n")
    return SyntaxProblem(message, len(lines), len(lines[-1]) + 1)
