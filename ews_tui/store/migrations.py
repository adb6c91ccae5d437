"""Versioned schema migrations (mautrix/python's upgrade table, made small).

``schema_version`` holds one row: the version of the last migration applied. Each migration
runs in ONE transaction together with the version bump, so a database is always at a known
version. A database newer than this code is refused. Later issues add tables by appending a
:class:`Migration` to :data:`MIGRATIONS` (never by editing one already released).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

import aiosqlite

from ews_tui.domain.messages import N_, Message
from ews_tui.store.alarms_repo import V7_ALARMS
from ews_tui.store.charging_repo import V9_CHARGING
from ews_tui.store.db import Database, StoreError
from ews_tui.store.energy_schema import V3_ENERGY, V4_OPEN_SLOTS
from ews_tui.store.outbox_repo import V8_OUTBOX

log = logging.getLogger(__name__)

Step = str | Callable[[aiosqlite.Connection], Awaitable[None]]


@dataclass(frozen=True)
class Migration:
    """Version ``version``: SQL statements (``;``-separated) or a coroutine on the connection."""

    version: int
    description: str
    step: Step


# Foreign keys are DEFERRABLE INITIALLY DEFERRED: a save writes rows in any order and the
# references are checked at COMMIT. ON DELETE actions still run at once and follow the domain:
# a gateway with devices cannot go (RESTRICT); a deleted zone leaves its devices (CASCADE on
# device_zones); a deleted circuit, switchboard or EQ device is forgotten (SET NULL).
# `seq` keeps the order of the installation's tuples.
_V1_INSTALLATION = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value
);
CREATE TABLE switchboards (
    id          INTEGER PRIMARY KEY,
    seq         INTEGER NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);
CREATE TABLE zones (
    id          INTEGER PRIMARY KEY,
    seq         INTEGER NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);
CREATE TABLE circuits (
    id     INTEGER PRIMARY KEY,
    seq    INTEGER NOT NULL,
    name   TEXT NOT NULL,
    preset TEXT UNIQUE,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);
CREATE TABLE gateways (
    id             INTEGER PRIMARY KEY,
    seq            INTEGER NOT NULL,
    name           TEXT NOT NULL,
    ip             TEXT NOT NULL,
    port           INTEGER NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    switchboard_id INTEGER REFERENCES switchboards (id)
                   ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    eq_device_id   INTEGER REFERENCES devices (id)
                   ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    enabled        INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1))
);
CREATE TABLE devices (
    id                  INTEGER PRIMARY KEY,
    seq                 INTEGER NOT NULL,
    gateway_id          INTEGER NOT NULL REFERENCES gateways (id)
                        ON DELETE RESTRICT DEFERRABLE INITIALLY DEFERRED,
    model               TEXT NOT NULL,
    address             INTEGER NOT NULL,
    name                TEXT NOT NULL,
    interface           INTEGER,
    concentrator        TEXT,
    position            INTEGER,
    side                INTEGER,
    phase               TEXT,
    supply              TEXT,
    circuit_id          INTEGER REFERENCES circuits (id)
                        ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    generic_fc          INTEGER,
    generic_register    INTEGER,
    generic_words       INTEGER,
    generic_multiplier  REAL,
    exclude_from_totals INTEGER NOT NULL DEFAULT 0 CHECK (exclude_from_totals IN (0, 1)),
    exclude_from_alarms INTEGER NOT NULL DEFAULT 0 CHECK (exclude_from_alarms IN (0, 1)),
    enabled             INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    CHECK ((generic_fc IS NULL) = (generic_register IS NULL)
           AND (generic_fc IS NULL) = (generic_words IS NULL)
           AND (generic_fc IS NULL) = (generic_multiplier IS NULL))
);
CREATE TABLE device_labels (
    device_id INTEGER NOT NULL REFERENCES devices (id)
              ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    key       TEXT NOT NULL,
    label     TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (device_id, key)
);
CREATE TABLE device_zones (
    device_id INTEGER NOT NULL REFERENCES devices (id)
              ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    zone_id   INTEGER NOT NULL REFERENCES zones (id)
              ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (device_id, zone_id)
);
CREATE INDEX devices_gateway ON devices (gateway_id);
CREATE INDEX devices_circuit ON devices (circuit_id);
CREATE INDEX gateways_switchboard ON gateways (switchboard_id);
CREATE INDEX gateways_eq_device ON gateways (eq_device_id);
CREATE INDEX device_zones_zone ON device_zones (zone_id);
"""

# The roles' PIN and PUK as scrypt hashes (``scrypt$n$r$p$salt$hash``), and the box's count of
# failed logins in a row (one row), so a lockout survives a restart.
_V2_AUTH = """
CREATE TABLE auth_roles (
    role        TEXT PRIMARY KEY,
    pin_hash    TEXT NOT NULL,
    puk_hash    TEXT NOT NULL,
    must_change INTEGER NOT NULL DEFAULT 1 CHECK (must_change IN (0, 1))
);
CREATE TABLE auth_failures (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0)
);
INSERT INTO auth_failures (id, failures) VALUES (1, 0);
"""

# Failed logins counted per source (``ssh:alice@10.0.0.5``, ``console:/dev/ttyS0``) instead of
# one count for the whole box; whether a role replaced its published default PUK.
_V5_AUTH_SOURCES = """
ALTER TABLE auth_roles ADD COLUMN puk_replaced INTEGER NOT NULL DEFAULT 0
    CHECK (puk_replaced IN (0, 1));
CREATE TABLE auth_source_failures (
    source       TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL CHECK (failures > 0),
    last_failure REAL NOT NULL
);
DROP TABLE auth_failures;
"""

# The weekly EN 50160 verdicts: one row per gateway and week (Monday 00:00 local, as epoch
# seconds), the judged week as JSON (:class:`~ews_tui.domain.en50160.WeekReport`).
_V6_EN50160 = """
CREATE TABLE en50160_weeks (
    gateway_id INTEGER NOT NULL,
    week_start INTEGER NOT NULL,
    week_end   INTEGER NOT NULL,
    device_id  INTEGER NOT NULL,
    verdict    TEXT NOT NULL CHECK (verdict IN ('ok', 'ko', 'insufficient')),
    report     TEXT NOT NULL,
    checked_at REAL NOT NULL,
    PRIMARY KEY (gateway_id, week_start)
);
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "the installation's tables", _V1_INSTALLATION),
    Migration(2, "the roles' PIN and PUK", _V2_AUTH),
    Migration(3, "measures, energy and cost rules", V3_ENERGY),
    Migration(4, "the recorder's open slots", V4_OPEN_SLOTS),
    Migration(5, "failed logins per source, replaced PUKs", _V5_AUTH_SOURCES),
    Migration(6, "the weekly EN 50160 verdicts", _V6_EN50160),
    Migration(7, "alarms and alarm thresholds", V7_ALARMS),
    Migration(8, "notification settings and the mail outbox", V8_OUTBOX),
    Migration(9, "EV charging sessions and the chargers' last faults", V9_CHARGING),
)


_NEWER = N_("database version {found} is newer than this ews ({known}): upgrade ews")


def latest_version(migrations: tuple[Migration, ...] = MIGRATIONS) -> int:
    return migrations[-1].version if migrations else 0


async def current_version(db: Database) -> int:
    """The version of the database (0 for a new one)."""
    async with db.snapshot() as conn:
        return await _version(conn)


async def upgrade(db: Database, migrations: tuple[Migration, ...] = MIGRATIONS) -> int:
    """Apply every migration the database lacks, each in its own transaction; the new version.

    Raises StoreError when the database is newer than the last migration we know. Running
    it again on an up-to-date database changes nothing.
    """
    versions = [m.version for m in migrations]
    if versions != sorted(set(versions)) or (versions and versions[0] < 1):
        raise ValueError(f"migration versions must be increasing from 1: {versions}")
    latest = latest_version(migrations)
    for migration in migrations:
        async with db.transaction() as conn:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
            )
            version = await _version(conn)
            if version > latest:
                raise StoreError(
                    str(db.path),
                    Message(_NEWER, {"found": version, "known": latest}),
                )
            if version >= migration.version:
                continue
            log.info("%s: migration %d: %s", db.path, migration.version, migration.description)
            await _apply(conn, migration.step)
            await conn.execute("DELETE FROM schema_version")
            await conn.execute("INSERT INTO schema_version VALUES (?)", (migration.version,))
    return await current_version(db)


async def _version(conn: aiosqlite.Connection) -> int:
    try:
        rows = list(await conn.execute_fetchall("SELECT version FROM schema_version"))
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return 0
        raise
    return int(rows[0][0]) if rows else 0


async def _apply(conn: aiosqlite.Connection, step: Step) -> None:
    if isinstance(step, str):
        # Statement by statement: executescript() would COMMIT our transaction first.
        for statement in split_statements(step):
            await conn.execute(statement)
    else:
        await step(conn)


def split_statements(script: str) -> Iterator[str]:
    """The complete SQL statements of ``script`` (triggers' ``BEGIN ... END;`` kept whole)."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\r\n;"):
                yield pending.strip()
            pending = ""
    if pending.strip(" \t\r\n;"):
        raise ValueError(f"incomplete SQL statement: {pending.strip()[:60]!r}")
