"""The one error the CLI shows as a line on stderr, with exit status 1."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ews_tui.i18n import _

# SQLite's codes for a file whose pages do not hold what they should.
DAMAGE_CODES = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


class UserError(Exception):
    """Something the user can fix: a bad file, a missing device, a refused change."""


def damage_in(error: BaseException) -> sqlite3.DatabaseError | None:
    """The SQLite error that says a database file is damaged, in ``error`` or in the
    exceptions it groups; None when there is none (a lock, a full disk: not damage)."""
    if isinstance(error, sqlite3.DatabaseError) and error.sqlite_errorcode in DAMAGE_CODES:
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            if (found := damage_in(inner)) is not None:
                return found
    return None


def damaged_database(path: Path, error: sqlite3.DatabaseError) -> UserError:
    """One line: which file is damaged, and how to get a box running again."""
    return UserError(
        _(
            "{path}: the database file is damaged ({reason}). Stop the box; restore the "
            "data dir from a backup, or move {name} (and its -wal and -shm files) aside to "
            "start with an empty one"
        ).format(path=path, reason=error, name=path.name)
    )
