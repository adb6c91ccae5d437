"""The database connection: pragmas, explicit transactions, clear errors on bad files."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

import pytest

from ews_tui.store.db import Database, StoreError, open_database


async def pragma(db: Database, name: str) -> object:
    return (await db.fetchall(f"PRAGMA {name}"))[0][0]


async def test_open_creates_the_folder_and_sets_the_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "ews.sqlite"
    db = await open_database(path)
    try:
        assert path.is_file()
        assert await pragma(db, "journal_mode") == "wal"
        assert await pragma(db, "synchronous") == 1  # NORMAL
        assert await pragma(db, "foreign_keys") == 1
        assert await pragma(db, "busy_timeout") == 5000
    finally:
        await db.close()


async def test_a_transaction_commits(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute("CREATE TABLE t (x INTEGER NOT NULL)")
        await conn.execute("INSERT INTO t VALUES (1)")
    assert [tuple(r) for r in await db.fetchall("SELECT x FROM t")] == [(1,)]


async def test_a_transaction_rolls_back_on_an_exception(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute("CREATE TABLE t (x INTEGER NOT NULL)")
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO t VALUES (1)")
            await conn.execute("INSERT INTO t VALUES (NULL)")
    assert await db.fetchall("SELECT x FROM t") == []


async def test_a_cancelled_transaction_rolls_back_and_the_next_one_works(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute("CREATE TABLE t (x INTEGER)")
    inside = asyncio.Event()

    async def writer() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO t VALUES (1)")
            inside.set()
            await asyncio.Event().wait()  # cancelled here, the row not committed

    task = asyncio.create_task(writer())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO t VALUES (2)")
    assert [tuple(r) for r in await db.fetchall("SELECT x FROM t")] == [(2,)]


async def test_transactions_of_two_tasks_never_interleave(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute("CREATE TABLE log (task TEXT, step INTEGER)")

    async def work(name: str) -> None:
        for _ in range(3):
            async with db.transaction() as conn:
                for step in range(3):
                    await conn.execute("INSERT INTO log VALUES (?, ?)", (name, step))
                    await asyncio.sleep(0)  # give the other task every chance to cut in

    await asyncio.gather(work("a"), work("b"))
    rows = [tuple(r) for r in await db.fetchall("SELECT task, step FROM log ORDER BY rowid")]
    assert len(rows) == 18
    for start in range(0, 18, 3):
        block = rows[start : start + 3]
        assert {r[0] for r in block} == {block[0][0]} and [r[1] for r in block] == [0, 1, 2]


async def test_a_nested_transaction_in_the_same_task_is_an_error(db: Database) -> None:
    async with db.transaction():
        with pytest.raises(RuntimeError, match="already open"):
            async with db.transaction():
                pass


async def test_a_file_that_is_not_a_database_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "ews.sqlite"
    path.write_bytes(b"this is a text file, not a database\n" * 100)
    with pytest.raises(StoreError) as refused:
        await open_database(path)
    assert str(refused.value) == f"{path}: not a SQLite database"


async def test_a_folder_that_cannot_be_made_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError) as refused:
        await open_database(blocker / "sub" / "ews.sqlite")
    assert str(refused.value).startswith(f"{blocker / 'sub'}: cannot create the folder")


async def test_two_connections_see_each_others_commits(tmp_path: Path) -> None:
    path = tmp_path / "ews.sqlite"
    first, second = await open_database(path), await open_database(path)
    try:
        async with first.transaction() as conn:
            await conn.execute("CREATE TABLE t (x INTEGER)")
            await conn.execute("INSERT INTO t VALUES (7)")
        assert [tuple(r) for r in await second.fetchall("SELECT x FROM t")] == [(7,)]
    finally:
        await first.close()
        await second.close()


async def test_the_database_and_its_wal_are_private_whatever_the_umask(tmp_path: Path) -> None:
    """Issue 12, item 4: they hold the PIN and PUK hashes."""
    old = os.umask(0o022)
    try:
        db = await open_database(tmp_path / "data" / "ews.sqlite")
        try:
            async with db.transaction() as conn:
                await conn.execute("CREATE TABLE t (x)")
            modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "data").iterdir()}
        finally:
            await db.close()
    finally:
        os.umask(old)
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700
    assert modes == {"ews.sqlite": 0o600, "ews.sqlite-wal": 0o600, "ews.sqlite-shm": 0o600}
