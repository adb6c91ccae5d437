"""``config.toml`` on disk: loading it (every problem reported) and saving it atomically."""

from __future__ import annotations

import dataclasses
import logging
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from ews_tui.atomic_file import write_atomically
from ews_tui.config.errors import ConfigError, Problem
from ews_tui.config.model import Config
from ews_tui.config.reader import parse_config, to_document
from ews_tui.config.toml_input import TooHostile, loads_bounded, read_bounded, syntax_problem
from ews_tui.domain.messages import N_, Message

log = logging.getLogger(__name__)

HEADER = (
    "# ews-tui box settings, written by ews-tui when a setting is changed in the UI.\n"
    "# Every key, its default and its meaning: config.example.toml.\n\n"
)


def default_config(data_dir: Path) -> Config:
    """Every setting at the manual's default, with the given data dir."""
    return dataclasses.replace(Config(), data_dir=data_dir)


def read_document(path: Path) -> dict[str, Any]:
    """The parsed TOML of ``path``; ConfigError (placed at the file) if unreadable or not TOML."""
    try:
        raw = read_bounded(path)
    except TooHostile as error:
        raise ConfigError([Problem(str(path), error.message)]) from None
    except OSError as error:
        reason = error.strerror or str(error)
        msg = Message(N_("cannot read the file: {reason}"), {"reason": reason})
        raise ConfigError([Problem(str(path), msg)]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        msg = Message(N_("not UTF-8 text (byte {offset})"), {"offset": error.start})
        raise ConfigError([Problem(str(path), msg)]) from None
    try:
        return loads_bounded(text)
    except TooHostile as error:
        raise ConfigError([Problem(str(path), error.message)]) from None
    except tomllib.TOMLDecodeError as error:
        syntax = syntax_problem(error, text)
        where = f"{path}:{syntax.line}:{syntax.col}" if syntax.line is not None else str(path)
        raise ConfigError([Problem(where, syntax.message)]) from None


def load_config(path: Path) -> Config:
    """The Config in ``path``; relative paths in it resolve against its folder.

    Raises ConfigError listing every problem: missing file, TOML syntax (with line and
    column), unknown keys, wrong types and values out of range, each naming its key."""
    path = Path(path)
    return parse_config(read_document(path), path.parent)


def save_config(config: Config, path: Path) -> None:
    """Write ``config`` to ``path`` atomically: a temp file in the same folder, fsync, rename.

    The ``[installation]`` table is written from ``config.installation``; when that is None,
    the table already in the file (if any) is kept. On any failure the old file is untouched.
    The file's permission bits are kept (0600 for a new file: it may hold the SMTP password).
    """
    path = Path(path)
    doc = to_document(config, path.parent)
    if config.installation is None:
        kept = _installation_in(path)
        if kept is not None:
            doc["installation"] = kept
    data = (HEADER + tomli_w.dumps(doc)).encode("utf-8")
    write_atomically(path, data, new_mode=0o600)
    log.info("saved the box settings to %s", path)


def _installation_in(path: Path) -> dict[str, Any] | None:
    try:
        table = read_document(path).get("installation")
    except ConfigError:
        return None
    return table if isinstance(table, dict) else None
