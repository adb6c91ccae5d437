"""Reading a TOML file a user hands us (config, installation, device models), bounded.

A file larger than :data:`MAX_FILE_BYTES` is refused before it is read whole, and a
document nested deeper than :data:`~ews_tui.domain.text_rules.MAX_DEPTH` is refused after
parsing (``tomllib`` recurses per level, so a thousand ``[`` would end in RecursionError).
Both are :class:`TooHostile` with a one-line message; the callers place it at their file.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

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
