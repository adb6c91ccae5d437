"""Schema migrations: one transaction each, idempotent, a newer database refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from ews_tui.store.db import StoreError, open_database
from ews_tui.store.migrations import (
    MIGRATIONS,
    Migration,
    current_version,
    latest_version,
    split_statements,
    upgrade,
)

INSTALLATION_TABLES = {
    "meta",
    "gateways",
    "devices",
    "device_labels",
    "device_zones",
    "circuits",
    "zones",
    "switchboards",
}


async def tables(path: Path) -> set[str]:
    db = await open_database(path, upgrade=False)
    try:
        rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {r[0] for r in rows}
    finally:
        await db.close()


async def test_a_new_database_gets_every_migration(tmp_path: Path) -> None:
    path = tmp_path / "ews.sqlite"
    db = await open_database(path)
    try:
        assert await current_version(db) == latest_version() == MIGRATIONS[-1].version
    finally:
        await db.close()
    assert INSTALLATION_TABLES | {"schema_version"} <= await tables(path)


async def test_reopening_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "ews.sqlite"
    for _ in range(3):
        db = await open_database(path)
        try:
            assert await upgrade(db) == latest_version()
            rows = await db.fetchall("SELECT version FROM schema_version")
            assert [tuple(r) for r in rows] == [(latest_version(),)]
        finally:
            await db.close()


async def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ews.sqlite"
    db = await open_database(path)
    async with db.transaction() as conn:
        await conn.execute("UPDATE schema_version SET version = 99")
    await db.close()
    with pytest.raises(StoreError) as refused:
        await open_database(path)
    known = latest_version()
    assert str(refused.value) == (
        f"{path}: database version 99 is newer than this ews ({known}): upgrade ews"
    )


async def test_later_migrations_apply_on_top_and_a_failing_one_changes_nothing(
    tmp_path: Path,
) -> None:
    async def add_column(conn: aiosqlite.Connection) -> None:
        await conn.execute("ALTER TABLE samples ADD COLUMN unit TEXT")

    extended = (
        *MIGRATIONS,
        Migration(
            90, "samples", "CREATE TABLE samples (t INTEGER); CREATE INDEX s_t ON samples (t)"
        ),
        Migration(91, "unit", add_column),
    )
    broken = (*extended, Migration(92, "broken", "CREATE TABLE x (a); CREATE TABLE x (b)"))
    db = await open_database(tmp_path / "ews.sqlite")
    try:
        with pytest.raises(sqlite3.OperationalError, match="already exists"):
            await upgrade(db, broken)
        assert await current_version(db) == 91
        names = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master")}
        assert {"samples", "s_t"} <= names and "x" not in names
        columns = [r[1] for r in await db.fetchall("PRAGMA table_info(samples)")]
        assert columns == ["t", "unit"]
    finally:
        await db.close()


async def test_migrations_out_of_order_are_a_programming_error(tmp_path: Path) -> None:
    db = await open_database(tmp_path / "ews.sqlite", upgrade=False)
    try:
        with pytest.raises(ValueError, match="increasing"):
            await upgrade(db, (Migration(2, "b", "SELECT 1"), Migration(1, "a", "SELECT 1")))
    finally:
        await db.close()


def test_split_statements_keeps_triggers_whole() -> None:
    script = """
        CREATE TABLE a (x);  -- one; two
        CREATE TRIGGER t AFTER INSERT ON a BEGIN
            INSERT INTO a VALUES (1); INSERT INTO a VALUES (2);
        END;
    """
    statements = list(split_statements(script))
    assert len(statements) == 2
    conn = sqlite3.connect(":memory:")
    for statement in statements:
        conn.execute(statement)
    conn.execute("INSERT INTO a VALUES (0)")
    assert sorted(r[0] for r in conn.execute("SELECT x FROM a")) == [0, 1, 2]
    conn.close()


def test_split_statements_refuses_an_unfinished_statement() -> None:
    with pytest.raises(ValueError, match="incomplete"):
        list(split_statements("CREATE TABLE a (x); CREATE TRIGGER t AFTER INSERT ON a BEGIN"))
