"""The installation in SQLite: load, diff save, optimistic revisions, all-or-nothing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ews_tui.domain.edits import (
    delete_device,
    delete_group,
    new_installation,
    save_device,
    save_gateway,
)
from ews_tui.domain.installation import Device, Gateway, Installation
from ews_tui.domain.rules import RuleContext
from ews_tui.store.db import Database, StoreError, open_database
from ews_tui.store.installation_repo import InstallationRepo, StaleInstallation


async def store(repo: InstallationRepo, inst: Installation) -> Installation:
    """``inst`` stored as an import would, then loaded back."""
    await repo.replace(inst)
    return await repo.load()


async def rows(db: Database, sql: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in await db.fetchall(sql)]


async def test_a_new_database_gives_a_factory_new_installation_and_stores_it(
    db: Database,
) -> None:
    repo = InstallationRepo(db)
    inst = await repo.load()
    assert inst == new_installation()
    assert await rows(db, "SELECT id, name, ip FROM gateways") == [(1, "Local", "127.0.0.1")]
    assert len(await rows(db, "SELECT id FROM circuits WHERE preset IS NOT NULL")) == 7


async def test_a_rich_installation_round_trips_through_save_and_a_new_connection(
    tmp_path: Path, ctx: RuleContext, rich: Installation
) -> None:
    path = tmp_path / "ews.sqlite"
    db = await open_database(path)
    try:
        repo = InstallationRepo(db)
        await repo.load()
        stored = await repo.save(replace(rich, revision=1))
        assert stored.revision == 1
    finally:
        await db.close()
    db = await open_database(path)
    try:
        loaded = await InstallationRepo(db).load()
    finally:
        await db.close()
    assert loaded == replace(rich, revision=1)
    # The details that are easiest to lose on the way:
    assert loaded.devices[0].zone_ids == (2, 1)  # the order of the zones is kept
    assert loaded.devices[4].generic == rich.devices[4].generic
    assert loaded.devices[5].advanced.labels == (("in1", "Door"), ("out1", "Siren"))
    assert loaded.gateways[0].eq_device_id == rich.devices[0].id


async def test_save_follows_the_edits_revision_by_revision(db: Database, ctx: RuleContext) -> None:
    repo = InstallationRepo(db)
    inst = await repo.load()
    inst = save_gateway(inst, Gateway(0, "GW2", "10.0.0.2"), ctx)
    await repo.save(inst)
    inst = save_device(inst, Device(0, 2, "0 146 68", 3, name="Boiler"), ctx)
    await repo.save(inst)
    assert await repo.load() == inst
    assert inst.revision == 2


async def test_a_diff_save_touches_only_what_changed_and_keeps_ids(
    db: Database, ctx: RuleContext, rich: Installation
) -> None:
    repo = InstallationRepo(db)
    inst = await store(repo, rich)
    ids_before = await rows(db, "SELECT rowid, id, name FROM devices ORDER BY id")
    target = inst.devices[2]
    edited = save_device(inst, replace(target, name="Gas boiler"), ctx)
    async with db.snapshot() as conn:
        changes_before = conn.total_changes
    await repo.save(edited)
    async with db.snapshot() as conn:
        changed = conn.total_changes - changes_before
    assert changed == 2  # the device row and the revision, nothing else
    ids_after = await rows(db, "SELECT rowid, id, name FROM devices ORDER BY id")
    assert [r[:2] for r in ids_after] == [r[:2] for r in ids_before]
    assert (await repo.load()).device(target.id).name == "Gas boiler"  # type: ignore[union-attr]


async def test_deleting_objects_deletes_their_rows_and_links(
    db: Database, ctx: RuleContext, rich: Installation
) -> None:
    repo = InstallationRepo(db)
    inst = await store(repo, rich)
    main = inst.devices[0]
    inst = delete_group(inst, "zones", main.zone_ids[0], ctx)
    inst = delete_device(inst, inst.devices[-1].id, ctx)
    inst = delete_group(inst, "switchboards", 1, ctx)
    await repo.replace(inst)
    loaded = await repo.load()
    assert loaded == replace(inst, revision=loaded.revision)
    assert await rows(db, "SELECT zone_id FROM device_zones") == [(main.zone_ids[1],)]
    assert await rows(db, "SELECT count(*) FROM device_labels") == [(0,)]
    assert loaded.gateway(2).switchboard_id is None  # type: ignore[union-attr]


async def test_a_stale_revision_is_refused_and_changes_nothing(
    db: Database, ctx: RuleContext
) -> None:
    repo = InstallationRepo(db)
    base = await repo.load()
    first = save_gateway(base, Gateway(0, "Session A", "10.0.0.2"), ctx)
    second = save_gateway(base, Gateway(0, "Session B", "10.0.0.3"), ctx)
    await repo.save(first)
    with pytest.raises(StaleInstallation) as refused:
        await repo.save(second)
    assert refused.value.stored == 1 and refused.value.expected == 0
    assert "changed elsewhere" in str(refused.value)
    assert await repo.load() == first


async def test_replace_ignores_the_revision_and_bumps_it(
    db: Database, ctx: RuleContext, rich: Installation
) -> None:
    repo = InstallationRepo(db)
    old = await repo.load()
    await repo.save(save_gateway(old, Gateway(0, "GW", "10.0.0.2"), ctx))
    stored = await repo.replace(replace(rich, revision=0))
    assert stored.revision == 2
    assert await repo.load() == stored
    with pytest.raises(StaleInstallation):  # a copy loaded before the import
        await repo.save(save_gateway(old, Gateway(0, "Late", "10.0.0.9"), ctx))


async def test_a_failed_save_leaves_the_store_exactly_as_before(
    db: Database, ctx: RuleContext, rich: Installation
) -> None:
    repo = InstallationRepo(db)
    before = await store(repo, rich)
    dump_before = await rows(db, "SELECT * FROM devices ORDER BY id")
    # Many good changes, then one row the database refuses: a device on a missing gateway.
    edited = replace(
        before,
        devices=(
            *(replace(d, name=d.name + " new") for d in before.devices[1:]),
            replace(before.devices[0], gateway_id=99),
        ),
        zones=(),
        revision=before.revision + 1,
    )
    with pytest.raises(StoreError) as failed:
        await repo.save(edited)
    assert "could not be saved" in str(failed.value)
    assert str(db.path) in str(failed.value)
    assert await repo.load() == before
    assert await rows(db, "SELECT * FROM devices ORDER BY id") == dump_before
    # The connection is usable again: the next good save goes through.
    good = save_device(before, replace(before.devices[0], name="Renamed"), ctx)
    assert (await repo.save(good)).revision == before.revision + 1


async def test_a_check_constraint_failure_is_rolled_back_too(
    db: Database, rich: Installation
) -> None:
    repo = InstallationRepo(db)
    base = await repo.load()
    broken = replace(rich, gateways=(*rich.gateways[:1], replace(rich.gateways[1], port=None)))
    with pytest.raises(StoreError):
        await repo.save(replace(broken, revision=base.revision + 1))
    assert await repo.load() == base


async def test_a_device_deleted_with_its_gateway_in_one_save(
    db: Database, ctx: RuleContext
) -> None:
    repo = InstallationRepo(db)
    inst = await repo.load()
    inst = save_gateway(inst, Gateway(0, "GW2", "10.0.0.2"), ctx)
    inst = save_device(inst, Device(0, 2, "0 146 68", 3), ctx)
    await repo.save(replace(inst, revision=1))
    await repo.replace(new_installation())
    assert await rows(db, "SELECT count(*) FROM devices") == [(0,)]
    assert await rows(db, "SELECT id FROM gateways") == [(1,)]


async def test_devices_move_to_a_new_gateway_as_the_old_one_goes(
    db: Database, ctx: RuleContext
) -> None:
    """A gateway renamed in an import gets a new id; its devices keep theirs and move to
    it. The old gateway is deleted after they moved (its RESTRICT is checked at once)."""
    repo = InstallationRepo(db)
    inst = await repo.load()
    inst = save_gateway(inst, Gateway(0, "GW2", "10.0.0.2"), ctx)
    inst = save_device(inst, Device(0, 2, "0 146 68", 3, name="Meter"), ctx)
    await repo.save(replace(inst, revision=1))
    moved = inst.with_(
        gateways=(inst.local, Gateway(3, "GW3", "10.0.0.2")),
        devices=(replace(inst.devices[0], gateway_id=3),),
    )
    stored = await store(repo, moved)
    assert [(g.id, g.name) for g in stored.gateways] == [(1, "Local"), (3, "GW3")]
    assert [(d.id, d.gateway_id) for d in stored.devices] == [(1, 3)]


async def test_devices_with_history_are_those_with_energy_or_measures(db: Database) -> None:
    repo = InstallationRepo(db)
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO energy_readings VALUES (2, 100, 5.0)")
        await conn.execute(
            "INSERT INTO measures (slot_device, data) VALUES (?, x'00')", (100 << 16 | 4,)
        )
    assert await repo.devices_with_history([1, 2, 3, 4, 5]) == [2, 4]
    assert await repo.devices_with_history([]) == []


async def test_names_stored_before_the_rule_come_back_escaped(db: Database) -> None:
    """A device named with terminal escapes before control characters were refused (issue
    12, item 5): every screen reads it escaped, so it can no longer set the title or clear
    the screen."""
    repo = InstallationRepo(db)
    inst = await repo.load()
    hostile = "\x1b]0;PWNED-TITLE\x07\x1b[2J"
    device = Device(id=1, gateway_id=1, model="0 146 68", address=5, name="Main")
    await repo.replace(replace(inst, devices=(device,)))
    async with db.transaction() as conn:
        await conn.execute("UPDATE devices SET name = ?", (hostile,))
        await conn.execute("UPDATE gateways SET description = ?", (hostile,))
    loaded = await repo.load()
    assert loaded.devices[0].name == "\\x1b]0;PWNED-TITLE\\x07\\x1b[2J"
    assert loaded.gateways[0].description == "\\x1b]0;PWNED-TITLE\\x07\\x1b[2J"
