"""TOML files of the store: the installation export, and reading any TOML file with a clear
message (``path:line:col: reason``) when it cannot be read.

These are blocking calls on small files; from the event loop, run them with
``asyncio.to_thread``.
"""

from __future__ import annotations

import logging
import tomllib
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import tomli_w

from ews_tui.atomic_file import write_atomically
from ews_tui.config.toml_input import TooHostile, loads_bounded, read_bounded, syntax_problem
from ews_tui.domain.installation import Installation
from ews_tui.domain.installation_doc import to_document
from ews_tui.domain.messages import N_, Message
from ews_tui.store.db import StoreError

log = logging.getLogger(__name__)

NEW_FILE_MODE = 0o644


class FileProblem(StoreError):
    """A file that cannot be read or written; ``where`` is ``path`` or ``path:line:col``."""

    def __init__(
        self, path: str, message: Message, line: int | None = None, col: int | None = None
    ) -> None:
        self.path = path
        self.line = line
        self.col = col
        super().__init__(f"{path}:{line}:{col}" if line is not None else path, message)


def ews_version() -> str:
    try:
        return metadata.version("ews-tui")
    except metadata.PackageNotFoundError:
        return "unknown"


def read_toml(path: Path, name: str | None = None) -> dict[str, Any]:
    """The parsed TOML document in ``path``; FileProblem when it cannot be read or parsed.

    ``name`` is how messages show the file (``models/foo.toml``); the path by default.
    """
    shown = name if name is not None else str(path)
    try:
        raw = read_bounded(Path(path))
    except TooHostile as error:
        raise FileProblem(shown, error.message) from None
    except FileNotFoundError:
        raise FileProblem(shown, Message(N_("no such file"))) from None
    except IsADirectoryError:
        raise FileProblem(shown, Message(N_("is a folder, not a file"))) from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise FileProblem(
            shown, Message(N_("cannot read the file: {reason}"), {"reason": reason})
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        col = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        raise FileProblem(shown, Message(N_("not UTF-8 text")), line, col) from None
    try:
        return loads_bounded(text)
    except TooHostile as error:
        raise FileProblem(shown, error.message) from None
    except tomllib.TOMLDecodeError as error:
        raise _syntax_problem(shown, text, error) from None


def _syntax_problem(shown: str, text: str, error: tomllib.TOMLDecodeError) -> FileProblem:
    problem = syntax_problem(error, text)
    return FileProblem(shown, problem.message, problem.line, problem.col)


def installation_toml(inst: Installation, now: datetime | None = None) -> str:
    """The export text: a header comment, then the installation document."""
    stamp = (now or datetime.now().astimezone()).isoformat(timespec="seconds")
    header = (
        f"# ews-tui installation (revision {inst.revision}), "
        f"exported {stamp} by ews {ews_version()}.\n"
        "# Restore or set up a box from it with: ews install import FILE\n\n"
    )
    return header + tomli_w.dumps(to_document(inst))


def write_installation_toml(path: Path, inst: Installation, now: datetime | None = None) -> None:
    """Write the installation to ``path`` atomically (the old file stays whole on failure)."""
    write_text_atomically(Path(path), installation_toml(inst, now))
    log.info("exported the installation to %s", path)


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` atomically (see ews_tui.atomic_file); keeps the file's mode.

    Raises FileProblem naming the path when the folder cannot be written.
    """
    try:
        write_atomically(path, text.encode("utf-8"), new_mode=NEW_FILE_MODE)
    except OSError as error:
        raise _write_problem(path, error) from None


def _write_problem(path: Path, error: OSError) -> FileProblem:
    reason = error.strerror or str(error)
    return FileProblem(
        str(path), Message(N_("cannot write the file: {reason}"), {"reason": reason})
    )
