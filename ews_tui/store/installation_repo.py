"""The installation in the database: load it whole, save it whole as a diff by id.

A save is one transaction that inserts new rows, updates changed ones and deletes missing
ones, so a device keeps its row (and later its history) across edits. Saves are optimistic:
``save(inst)`` is refused with :class:`StaleInstallation` unless the stored revision is
``inst.revision - 1`` (every edit of :mod:`ews_tui.domain.edits` bumps the revision by one),
so two UI sessions editing at once cannot overwrite each other's work silently.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import aiosqlite

from ews_tui.domain.edits import new_installation
from ews_tui.domain.installation import (
    Advanced,
    Circuit,
    Device,
    Gateway,
    GenericRegister,
    Installation,
    Switchboard,
    Zone,
)
from ews_tui.domain.messages import N_, Message
from ews_tui.domain.text_rules import printable
from ews_tui.store.db import Database, StoreError

log = logging.getLogger(__name__)

REVISION_KEY = "installation_revision"
LAST_ID_KEY = "installation_last_id.{kind}"

Row = tuple[Any, ...]

# One index seek for energy; the measures are keyed by slot first, so that one may scan.
_HAS_HISTORY = (
    "SELECT EXISTS (SELECT 1 FROM energy_readings WHERE device_id = ?)"
    " OR EXISTS (SELECT 1 FROM energy_hourly WHERE device_id = ?)"
    " OR EXISTS (SELECT 1 FROM measures WHERE device_id = ?)"
)


class StaleInstallation(StoreError):
    """The installation changed in the store since this copy was loaded."""

    def __init__(self, where: str, stored: int, expected: int) -> None:
        self.stored = stored
        self.expected = expected
        super().__init__(
            where,
            Message(
                N_(
                    "the installation was changed elsewhere (revision {stored}, "
                    "this edit expected {expected}): reload it and edit again"
                ),
                {"stored": stored, "expected": expected},
            ),
        )


@dataclass(frozen=True)
class _Table:
    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]  # key columns first

    def select(self) -> str:
        return f"SELECT {', '.join(self.columns)} FROM {self.name}"


_SWITCHBOARDS = _Table("switchboards", ("id",), ("id", "seq", "name", "description", "active"))
_ZONES = _Table("zones", ("id",), ("id", "seq", "name", "description", "active"))
_CIRCUITS = _Table("circuits", ("id",), ("id", "seq", "name", "preset", "active"))
_GATEWAYS = _Table(
    "gateways",
    ("id",),
    ("id", "seq", "name", "ip", "port", "description", "switchboard_id", "eq_device_id", "enabled"),
)
_DEVICES = _Table(
    "devices",
    ("id",),
    (
        "id",
        "seq",
        "gateway_id",
        "model",
        "address",
        "name",
        "interface",
        "concentrator",
        "position",
        "side",
        "phase",
        "supply",
        "circuit_id",
        "generic_fc",
        "generic_register",
        "generic_words",
        "generic_multiplier",
        "exclude_from_totals",
        "exclude_from_alarms",
        "enabled",
    ),
)
_LABELS = _Table("device_labels", ("device_id", "key"), ("device_id", "key", "label", "seq"))
_DEVICE_ZONES = _Table("device_zones", ("device_id", "zone_id"), ("device_id", "zone_id", "seq"))

# Parents first; deletes run in the reverse order so a RESTRICT never sees its children.
_TABLES = (_SWITCHBOARDS, _ZONES, _CIRCUITS, _GATEWAYS, _DEVICES, _LABELS, _DEVICE_ZONES)
# Devices refer to their gateway ON DELETE RESTRICT, which SQLite checks at once even in a
# deferred constraint: a gateway goes after the devices kept have moved to their new one.
_DELETED_LAST = (_GATEWAYS,)


class InstallationRepo:
    """Loads and saves the installation. The only writer of the installation tables."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self) -> Installation:
        """The stored installation; a new database first gets a factory-new one."""
        async with self._db.transaction() as conn:
            await _ensure_installation(conn)
            return await _read(conn)

    async def save(self, inst: Installation) -> Installation:
        """Store ``inst`` (an edit of the stored revision) in one transaction; returns it.

        Raises StaleInstallation when the stored revision is not ``inst.revision - 1``, and
        StoreError when the database refuses a row; the store is then unchanged.
        """
        inst = await self._store(inst, check_revision=True)
        log.info("saved the installation, revision %d", inst.revision)
        return inst

    async def replace(self, inst: Installation) -> Installation:
        """Store ``inst`` whatever the stored revision (an import); returns it as stored.

        Same all-or-nothing transaction as :meth:`save`; the revision becomes the stored one
        plus one, so copies loaded before the import can no longer be saved.
        """
        inst = await self._store(inst, check_revision=False)
        log.info("replaced the installation, revision %d", inst.revision)
        return inst

    async def devices_with_history(self, device_ids: Iterable[int]) -> list[int]:
        """Those of ``device_ids`` with something recorded (energy or measures), in order."""
        out = []
        async with self._db.snapshot() as conn:
            for device_id in device_ids:
                rows = await conn.execute_fetchall(_HAS_HISTORY, (device_id,) * 3)
                if next(iter(rows))[0]:
                    out.append(device_id)
        return out

    async def _store(self, inst: Installation, *, check_revision: bool) -> Installation:
        where = str(self._db.path)
        try:
            async with self._db.transaction() as conn:
                stored = await _ensure_installation(conn)
                if not check_revision:
                    inst = replace(inst, revision=stored + 1)
                elif stored != inst.revision - 1:
                    raise StaleInstallation(where, stored, inst.revision - 1)
                await _write(conn, inst)
        except sqlite3.Error as error:
            reason = Message(N_("the installation could not be saved: {reason}"), {"reason": error})
            raise StoreError(where, reason) from error
        return inst


# ---------------------------------------------------------------------------- reading


async def _ensure_installation(conn: aiosqlite.Connection) -> int:
    """The stored revision; a factory-new installation is written first if there is none."""
    rows = list(
        await conn.execute_fetchall("SELECT value FROM meta WHERE key = ?", (REVISION_KEY,))
    )
    if rows:
        return int(rows[0][0])
    fresh = new_installation()
    await _write(conn, fresh)
    log.info("stored a new installation")
    return fresh.revision


async def _fetch(conn: aiosqlite.Connection, table: _Table) -> list[Row]:
    order = "seq, " + ", ".join(table.key)
    return [tuple(r) for r in await conn.execute_fetchall(f"{table.select()} ORDER BY {order}")]


async def _read(conn: aiosqlite.Connection) -> Installation:
    """The stored installation; names, descriptions and labels stored before control
    characters were refused come back escaped (``\\x1b``): no screen can be driven by one."""
    rows = {t.name: await _fetch(conn, t) for t in _TABLES}
    revision = list(
        await conn.execute_fetchall("SELECT value FROM meta WHERE key = ?", (REVISION_KEY,))
    )
    marks = await conn.execute_fetchall(
        "SELECT key, value FROM meta WHERE key LIKE ?", (LAST_ID_KEY.format(kind="%"),)
    )
    labels: dict[int, list[tuple[str, str]]] = {}
    for device_id, key, label, _seq in rows["device_labels"]:
        labels.setdefault(device_id, []).append((key, printable(label)))
    zones: dict[int, list[int]] = {}
    for device_id, zone_id, _seq in rows["device_zones"]:
        zones.setdefault(device_id, []).append(zone_id)
    return Installation(
        gateways=tuple(_gateway(r) for r in rows["gateways"]),
        devices=tuple(
            _device(r, tuple(labels.get(r[0], ())), tuple(zones.get(r[0], ())))
            for r in rows["devices"]
        ),
        circuits=tuple(
            Circuit(id=i, name=printable(name), preset=preset, active=bool(active))
            for i, _seq, name, preset, active in rows["circuits"]
        ),
        zones=tuple(
            Zone(id=i, name=printable(name), description=printable(text), active=bool(active))
            for i, _seq, name, text, active in rows["zones"]
        ),
        switchboards=tuple(
            Switchboard(
                id=i, name=printable(name), description=printable(text), active=bool(active)
            )
            for i, _seq, name, text, active in rows["switchboards"]
        ),
        revision=int(revision[0][0]) if revision else 0,
        last_ids=tuple((key.rsplit(".", 1)[1], int(value)) for key, value in marks),
    )


def _gateway(row: Row) -> Gateway:
    gid, _seq, name, ip, port, description, board, eq, enabled = row
    return Gateway(
        id=gid,
        name=printable(name),
        ip=ip,
        port=port,
        description=printable(description),
        switchboard_id=board,
        eq_device_id=eq,
        enabled=bool(enabled),
    )


def _device(row: Row, labels: tuple[tuple[str, str], ...], zone_ids: tuple[int, ...]) -> Device:
    (did, _seq, gateway_id, model, address, name, interface, concentrator, position, side,
     phase, supply, circuit_id, fc, register, words, multiplier, no_totals, no_alarms,
     enabled) = row  # fmt: skip
    generic = None
    if fc is not None:
        generic = GenericRegister(fc=fc, register=register, words=words, multiplier=multiplier)
    return Device(
        id=did,
        gateway_id=gateway_id,
        model=model,
        address=address,
        name=printable(name),
        interface=interface,
        concentrator=concentrator,
        position=position,
        side=side,
        phase=phase,
        supply=supply,
        circuit_id=circuit_id,
        zone_ids=zone_ids,
        generic=generic,
        advanced=Advanced(
            exclude_from_totals=bool(no_totals),
            exclude_from_alarms=bool(no_alarms),
            labels=labels,
        ),
        enabled=bool(enabled),
    )


# ---------------------------------------------------------------------------- writing


def _rows(inst: Installation) -> dict[str, list[Row]]:
    """Every row the installation needs, table by table, in the tables' column order."""
    labels: list[Row] = []
    device_zones: list[Row] = []
    for d in inst.devices:
        labels += [(d.id, key, label, n) for n, (key, label) in enumerate(d.advanced.labels)]
        device_zones += [(d.id, zone_id, n) for n, zone_id in enumerate(d.zone_ids)]
    return {
        "switchboards": [_group_row(n, b) for n, b in enumerate(inst.switchboards)],
        "zones": [_group_row(n, z) for n, z in enumerate(inst.zones)],
        "circuits": [(c.id, n, c.name, c.preset, c.active) for n, c in enumerate(inst.circuits)],
        "gateways": [_gateway_row(n, g) for n, g in enumerate(inst.gateways)],
        "devices": [_device_row(n, d) for n, d in enumerate(inst.devices)],
        "device_labels": labels,
        "device_zones": device_zones,
    }


def _group_row(seq: int, item: Switchboard | Zone) -> Row:
    return (item.id, seq, item.name, item.description, item.active)


def _gateway_row(seq: int, g: Gateway) -> Row:
    row = (g.name, g.ip, g.port, g.description, g.switchboard_id, g.eq_device_id, g.enabled)
    return (g.id, seq, *row)


def _device_row(seq: int, d: Device) -> Row:
    g = d.generic
    generic = (g.fc, g.register, g.words, g.multiplier) if g else (None,) * 4
    where = (d.interface, d.concentrator, d.position, d.side, d.phase, d.supply, d.circuit_id)
    flags = (d.advanced.exclude_from_totals, d.advanced.exclude_from_alarms, d.enabled)
    return (d.id, seq, d.gateway_id, d.model, d.address, d.name, *where, *generic, *flags)


def _normal(row: Iterable[Any]) -> Row:
    """A row as SQLite gives it back (booleans are integers), to compare old and new."""
    return tuple(int(v) if isinstance(v, bool) else v for v in row)


async def _write(conn: aiosqlite.Connection, inst: Installation) -> None:
    rows = _rows(inst)
    wanted = {t.name: {r[: len(t.key)]: r for r in map(_normal, rows[t.name])} for t in _TABLES}
    stored = {t.name: {r[: len(t.key)]: r for r in await _fetch(conn, t)} for t in _TABLES}
    late = [t for t in reversed(_TABLES) if t in _DELETED_LAST]
    for table in reversed(_TABLES):
        if table not in _DELETED_LAST:
            await _delete_gone(conn, table, stored, wanted)
    for table in _TABLES:
        old, new = stored[table.name], wanted[table.name]
        changed = [row for key, row in new.items() if key in old and old[key] != row]
        added = [row for key, row in new.items() if key not in old]
        width = len(table.key)
        sets = ", ".join(f"{c} = ?" for c in table.columns[width:])
        where = " AND ".join(f"{k} = ?" for k in table.key)
        await conn.executemany(
            f"UPDATE {table.name} SET {sets} WHERE {where}",
            [row[width:] + row[:width] for row in changed],
        )
        marks = ", ".join("?" for _ in table.columns)
        await conn.executemany(
            f"INSERT INTO {table.name} ({', '.join(table.columns)}) VALUES ({marks})", added
        )
    for table in late:
        await _delete_gone(conn, table, stored, wanted)
    await conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE value IS NOT excluded.value",
        [
            (REVISION_KEY, inst.revision),
            *((LAST_ID_KEY.format(kind=kind), mark) for kind, mark in inst.last_ids),
        ],
    )


async def _delete_gone(
    conn: aiosqlite.Connection,
    table: _Table,
    stored: dict[str, dict[Row, Row]],
    wanted: dict[str, dict[Row, Row]],
) -> None:
    gone = [key for key in stored[table.name] if key not in wanted[table.name]]
    where = " AND ".join(f"{k} = ?" for k in table.key)
    await conn.executemany(f"DELETE FROM {table.name} WHERE {where}", gone)
