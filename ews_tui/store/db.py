"""The SQLite database: one aiosqlite connection, explicit transactions (mautrix/python style).

The connection runs with ``isolation_level=None``, so sqlite3 never opens a transaction
behind our back; every change goes through ``async with db.transaction() as conn:`` which
sends ``BEGIN IMMEDIATE`` and commits, or rolls back on any exception (cancellation too).
The store owns the connection: one :class:`Database` per process, shared by every service.
Transactions are serialised by a lock, so two tasks never interleave statements.

    db = await open_database(data_dir / "ews.sqlite")   # pragmas set, migrations applied
    async with db.transaction() as conn:
        await conn.execute("UPDATE ...")
    await db.close()
"""

from __future__ import annotations

import asyncio
import collections
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from ews_tui.domain.messages import N_, Message, PlacedError
from ews_tui.file_modes import create_private_file, make_private_dir

#: The box's database, in its data dir.
DATABASE_FILE = "ews.sqlite"

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
PRAGMAS: tuple[tuple[str, str], ...] = (
    ("busy_timeout", str(BUSY_TIMEOUT_MS)),
    ("journal_mode", "WAL"),
    ("synchronous", "NORMAL"),
    ("foreign_keys", "ON"),
)


class StoreError(PlacedError):
    """A problem of the store a user can act on; ``where`` names the file (and the place).

    ``str()`` is the one line the CLI prints: ``/var/lib/ews/ews.sqlite: not a SQLite database``.
    """


class Database:
    """One open SQLite database. Build it with :func:`open_database`."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self.path = path
        # Committed writes by what they changed ("energy": what consumption tables read),
        # counted by their writers after COMMIT: readers' caches key on them. Another
        # process's writes show in data_version() instead.
        self.changes: collections.Counter[str] = collections.Counter()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; ``ROLLBACK`` when the block raises.

        A transaction inside a transaction of the same task is a bug: it raises RuntimeError
        instead of waiting for itself forever.
        """
        async with self._serialised():
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                yield self._conn
                await self._conn.execute("COMMIT")
            except BaseException:
                # Also after a failed COMMIT (a deferred foreign key), which leaves it open.
                await self._rollback()
                raise

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[aiosqlite.Connection]:
        """A read transaction: every query in the block sees the same committed state."""
        async with self._serialised():
            try:
                await self._conn.execute("BEGIN DEFERRED")
                yield self._conn
            finally:
                await self._rollback()

    async def _rollback(self) -> None:
        """ROLLBACK whatever is open. Statements run in order on the connection's thread, so
        this comes after any statement still queued by a cancelled await."""
        try:
            await self._conn.execute("ROLLBACK")
        except sqlite3.OperationalError as error:
            if "no transaction is active" not in str(error):
                raise

    @asynccontextmanager
    async def _serialised(self) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if task is not None and self._owner is task:
            raise RuntimeError("a transaction is already open in this task")
        async with self._lock:
            self._owner = task
            try:
                yield
            finally:
                self._owner = None

    async def data_version(self) -> int:
        """SQLite's ``PRAGMA data_version``: it moves when another connection (another
        process: a history backfill) commits, not for this connection's own commits."""
        async with self._serialised():
            rows = list(await self._conn.execute_fetchall("PRAGMA data_version"))
        return int(rows[0][0])

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """One query outside any transaction (its own implicit read transaction)."""
        async with self.snapshot() as conn:
            return list(await conn.execute_fetchall(sql, tuple(params)))

    async def close(self) -> None:
        await self._conn.close()
        log.debug("closed %s", self.path)


async def open_database(path: Path, *, upgrade: bool = True) -> Database:
    """Open (creating it and its folder if needed) the database at ``path``.

    A new folder is made 0700 and a new database file 0600, whatever the umask; SQLite gives
    the ``-wal`` and ``-shm`` files the database file's mode.

    Sets the pragmas and, with ``upgrade``, applies the migrations. Raises StoreError naming
    the path when the folder cannot be made, the file is not a SQLite database, or the
    database is newer than this program.
    """
    path = Path(path)
    try:
        make_private_dir(path.parent)
    except OSError as error:
        raise StoreError(
            str(path.parent),
            Message(N_("cannot create the folder: {reason}"), {"reason": _reason(error)}),
        ) from None
    try:
        create_private_file(path)
    except OSError as error:
        raise StoreError(
            str(path),
            Message(N_("cannot open the database: {reason}"), {"reason": _reason(error)}),
        ) from None
    try:
        conn = await aiosqlite.connect(path, isolation_level=None)
    except sqlite3.Error as error:
        raise _open_error(path, error) from None
    conn.row_factory = sqlite3.Row
    db = Database(conn, path)
    try:
        await _set_pragmas(conn, path)
        if upgrade:
            from ews_tui.store.migrations import upgrade as apply_migrations

            await apply_migrations(db)
    except sqlite3.Error as error:
        await conn.close()
        raise _open_error(path, error) from None
    except BaseException:
        await conn.close()
        raise
    return db


async def _set_pragmas(conn: aiosqlite.Connection, path: Path) -> None:
    for name, value in PRAGMAS:
        await conn.execute(f"PRAGMA {name} = {value}")
    rows = await conn.execute_fetchall("PRAGMA journal_mode")
    mode = str(next(iter(rows))[0]).lower()
    if mode != "wal":
        log.warning("%s: journal mode is %s, not WAL", path, mode)


def _open_error(path: Path, error: sqlite3.Error) -> StoreError:
    text = str(error)
    if isinstance(error, sqlite3.DatabaseError) and "not a database" in text:
        return StoreError(str(path), Message(N_("not a SQLite database")))
    return StoreError(
        str(path), Message(N_("cannot open the database: {reason}"), {"reason": text})
    )


def _reason(error: OSError) -> str:
    return error.strerror or str(error)
