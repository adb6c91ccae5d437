"""The Connector's own SQLite file (``data_dir/connector.sqlite``): its log and what it sent.

Kept apart from the main store so ``ews connector log`` and ``send-now`` work beside a running
``ews serve`` (WAL, a busy timeout) and the Connector's schema never meets the store's
upgrades. ``transfers`` is the log page, bounded to :data:`LOG_KEEP` rows. ``sent`` remembers
each file as it was when it arrived (size and modification time) per server and remote
folder: a file is recorded only once renamed into place on the far side (commit, then
remember), so an interrupted run resends what it did not finish, and a file the box rewrote
is sent again. ``synchronous=NORMAL`` (WAL): a commit per file without an fsync each; a power
cut may forget the last files marked, which the next run then sends again (each lands whole
under its temporary name first, so a resend only replaces a file by itself).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from ews_tui.domain.messages import Message
from ews_tui.file_modes import create_private_file, make_private_dir

FILE = "connector.sqlite"
LOG_KEEP = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS transfers (
    id INTEGER PRIMARY KEY,
    started REAL NOT NULL,
    ended REAL NOT NULL,
    mode TEXT NOT NULL,
    destination TEXT NOT NULL,
    files INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    problem TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS sent (
    target TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    PRIMARY KEY (target, path)
);
"""


@dataclass(frozen=True)
class Transfer:
    """One line of the log: a run, what it sent, and its problem (empty ``problem``: ok)."""

    started: float
    ended: float
    mode: str
    destination: str
    files: int
    size: int
    problem: Message | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class FileState:
    size: int
    mtime_ns: int


class ConnectorRepo:
    """The log and the sent files, over one aiosqlite connection."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def add_transfer(self, transfer: Transfer) -> None:
        problem = transfer.problem
        detail = "" if problem is None else str(problem.params.get("detail", ""))
        await self._db.execute(
            "INSERT INTO transfers (started, ended, mode, destination, files, bytes, problem,"
            " detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                transfer.started,
                transfer.ended,
                transfer.mode,
                transfer.destination,
                transfer.files,
                transfer.size,
                "" if problem is None else problem.msgid,
                detail,
            ),
        )
        await self._db.execute(
            "DELETE FROM transfers WHERE id <= (SELECT MAX(id) FROM transfers) - ?", (LOG_KEEP,)
        )
        await self._db.commit()

    async def transfers(self, limit: int = LOG_KEEP) -> list[Transfer]:
        """The newest ``limit`` runs, newest first."""
        async with self._db.execute(
            "SELECT started, ended, mode, destination, files, bytes, problem, detail"
            " FROM transfers ORDER BY id DESC LIMIT ?",
            (limit,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            Transfer(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                row[5],
                Message(row[6], {"detail": row[7]}) if row[6] else None,
            )
            for row in rows
        ]

    async def sent_files(self, target: str) -> dict[str, FileState]:
        async with self._db.execute(
            "SELECT path, size, mtime_ns FROM sent WHERE target = ?", (target,)
        ) as cursor:
            rows = await cursor.fetchall()
        return {row[0]: FileState(row[1], row[2]) for row in rows}

    async def mark_sent(self, target: str, path: str, state: FileState) -> None:
        await self._db.execute(
            "INSERT OR REPLACE INTO sent (target, path, size, mtime_ns) VALUES (?, ?, ?, ?)",
            (target, path, state.size, state.mtime_ns),
        )
        await self._db.commit()


@asynccontextmanager
async def open_connector_repo(data_dir: Path) -> AsyncIterator[ConnectorRepo]:
    """The repo on ``data_dir/connector.sqlite`` (created if missing, 0600 like every file of
    the data dir: SQLite gives its -wal and -shm the database file's mode), closed on exit."""
    make_private_dir(data_dir)
    create_private_file(data_dir / FILE)
    db = await aiosqlite.connect(data_dir / FILE)
    try:
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA busy_timeout=5000")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.executescript(_SCHEMA)
        await db.commit()
        yield ConnectorRepo(db)
    finally:
        await db.close()
