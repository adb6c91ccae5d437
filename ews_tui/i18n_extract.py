"""A babel extractor for the msgids that live in the package's TOML data files.

The device catalog (and any other data file under ``ews_tui/data``) carries user-visible
names as English msgids: every string value of a ``name`` or ``label`` key, at any depth
(tables, arrays of tables, inline tables). ``babel.cfg`` registers this function in its
``[extractors]`` section, so plain ``pybabel extract -F babel.cfg`` picks those msgids up
next to the ``_()``/``N_()`` calls of the Python code.

The section's ``keys`` option (space or comma separated) replaces the default keys.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import IO, Any

DEFAULT_KEYS = ("name", "label")

# (lineno, funcname, message, comments): the tuple babel's extract() expects.
Extracted = tuple[int, str | None, str, list[str]]


def extract_toml(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[Extracted]:
    """Yield every string value of the chosen keys, with its line and its TOML path."""
    source_name = getattr(fileobj, "name", "<toml>")
    text = fileobj.read().decode(options.get("encoding", "utf-8"))
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{source_name}: not valid TOML: {exc}") from exc
    keys = _keys_option(options.get("keys"))
    lines = _LineFinder(text.splitlines())
    for path, key, value in _walk(document, "", keys):
        yield lines.find(key, value), None, value, [f"{_file_name(source_name)}: {path}"]


def _file_name(name: str) -> str:
    """The file name without its directories: a short, stable context for translators."""
    return re.split(r"[\\/]", str(name))[-1]


def _keys_option(raw: object) -> frozenset[str]:
    if not raw:
        return frozenset(DEFAULT_KEYS)
    if isinstance(raw, str):
        return frozenset(part for part in re.split(r"[\s,]+", raw) if part)
    if isinstance(raw, Iterable):
        return frozenset(str(part) for part in raw)
    raise TypeError(f"keys: expected a string or a list of strings, got {raw!r}")


def _walk(node: object, path: str, keys: frozenset[str]) -> Iterator[tuple[str, str, str]]:
    """Depth first, in document order: (path such as ``families.name``, key, value)."""
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}" if path else key
            if key in keys and isinstance(value, str) and value.strip():
                yield child, key, value
            else:
                yield from _walk(value, child, keys)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, path, keys)


class _LineFinder:
    """Find the line of ``key = "value"``; a repeated value takes its next occurrence."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines
        self._used: dict[tuple[str, str], int] = {}

    def find(self, key: str, value: str) -> int:
        spellings = (json.dumps(value, ensure_ascii=False), f"'{value}'")
        pattern = re.compile(rf"(^|[\s{{,])\"?{re.escape(key)}\"?\s*=")
        start = self._used.get((key, value), 0)
        for index in range(start, len(self._lines)):
            line = self._lines[index]
            if pattern.search(line) and any(spelling in line for spelling in spellings):
                self._used[(key, value)] = index + 1
                return index + 1
        return 1
