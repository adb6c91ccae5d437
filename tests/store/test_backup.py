"""The backup file and its restore, on real SQLite files in temp data dirs: a snapshot taken
beside an open write transaction, every member checked, refusals that change nothing, the
state kept aside and brought back, and a failure half-way renamed back."""

from __future__ import annotations

import gzip
import io
import json
import os
import sqlite3
import tarfile
from pathlib import Path

import pytest

from ews_tui.config import apply_changes, default_config, load_config, save_config
from ews_tui.store.backup import (
    ASIDE_PREFIX,
    create_backup,
    list_backups,
    new_backup_path,
    prune_nightly,
)
from ews_tui.store.backup_archive import MANIFEST, BackupError, sha256_of
from ews_tui.store.backup_restore import restore_backup
from ews_tui.store.datadir_lock import hold_data_dir
from ews_tui.store.db import open_database
from ews_tui.store.migrations import latest_version


class Box:
    """A box on disk: ``root/config.toml`` naming ``root/data``."""

    def __init__(self, root: Path, changes: dict[str, object] | None = None) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.config_path = root / "config.toml"
        config = apply_changes(default_config(Path("data")), changes or {}, root)
        save_config(config, self.config_path)
        self.config = load_config(self.config_path)
        self.data = self.config.data_dir

    def rows(self, table: str = "readings", db: str = "ews.sqlite") -> list[tuple[object, ...]]:
        conn = sqlite3.connect(self.data / db)
        try:
            return [tuple(r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY 1")]
        finally:
            conn.close()

    def state(self) -> dict[str, str]:
        """Every file of the data dir but the lock and the backups, with its SHA-256."""
        return {
            str(p.relative_to(self.data)): sha256_of(p)
            for p in sorted(self.data.rglob("*"))
            if p.is_file() and p.name != "ews.lock" and "backups" not in p.parts
        }


async def populate(box: Box, readings: list[int]) -> None:
    """The real schema (every migration), a table of readings, a model file, known hosts,
    a second database (the Connector's)."""
    db = await open_database(box.data / "ews.sqlite")
    try:
        async with db.transaction() as conn:
            await conn.execute("CREATE TABLE readings (n INTEGER NOT NULL)")
            await conn.executemany("INSERT INTO readings VALUES (?)", [(n,) for n in readings])
    finally:
        await db.close()
    (box.data / "models").mkdir(exist_ok=True)
    (box.data / "models" / "mine.toml").write_text("# my meter\n")
    (box.data / "connector_known_hosts").write_text("server 22 ssh-ed25519 AAAA\n")
    conn = sqlite3.connect(box.data / "connector.sqlite")
    conn.execute("CREATE TABLE transfers (id INTEGER PRIMARY KEY, files INTEGER)")
    conn.execute("INSERT INTO transfers (files) VALUES (3)")
    conn.commit()
    conn.close()
    (box.data / "ssh_host_ed25519_key").write_text("HOST KEY\n")
    (box.data / "ssh_host_ed25519_key").chmod(0o600)


@pytest.fixture
async def old(tmp_path: Path) -> Box:
    box = Box(tmp_path / "old", {"language": "fr"})
    await populate(box, [1, 2, 3])
    return box


async def test_a_backup_beside_an_open_write_is_the_committed_state(
    old: Box, tmp_path: Path
) -> None:
    writer = sqlite3.connect(old.data / "ews.sqlite", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO readings VALUES (99)")  # not committed while the copy runs
    try:
        target = tmp_path / "box.tar.gz"
        manifest = create_backup(target, old.config_path, old.config)
    finally:
        writer.execute("COMMIT")
        writer.close()
    assert os.stat(target).st_mode & 0o777 == 0o600
    assert manifest.schema_version == latest_version()
    paths = {m.path: m.kind for m in manifest.members}
    assert paths == {
        "config.toml": "config",
        "data/connector.sqlite": "database",
        "data/ews.sqlite": "database",
        "data/models/mine.toml": "models",
        "data/connector_known_hosts": "file",
    }
    new = Box(tmp_path / "new")
    restore_backup(target, new.config_path)
    assert new.rows() == [(1,), (2,), (3,)]
    assert new.rows("transfers", "connector.sqlite") == [(1, 3)]
    assert (new.data / "models/mine.toml").read_text() == "# my meter\n"
    assert not (new.data / "ssh_host_ed25519_key").exists()
    restored = load_config(new.config_path)
    assert restored.language == "fr" and restored.data_dir == new.data  # its own data dir
    assert 'data_dir = "data"' in new.config_path.read_text()
    assert os.stat(new.data / "ews.sqlite").st_mode & 0o777 == 0o600


async def test_the_host_key_only_when_asked(old: Box, tmp_path: Path) -> None:
    manifest = create_backup(tmp_path / "k.tar.gz", old.config_path, old.config, with_host_key=True)
    assert {"data/ssh_host_ed25519_key": "keys"}.items() <= {
        m.path: m.kind for m in manifest.members
    }.items()
    new = Box(tmp_path / "new")
    restore_backup(tmp_path / "k.tar.gz", new.config_path)
    assert (new.data / "ssh_host_ed25519_key").read_text() == "HOST KEY\n"


def _rewrite(source: Path, target: Path, change: str) -> None:
    """A copy of the backup ``source`` with one thing changed, still a valid tar.gz."""
    with tarfile.open(source, "r:gz") as tar:
        members = [(info, tar.extractfile(info).read()) for info in tar]  # type: ignore[union-attr]
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for info, data in members:
            if change == "member" and info.name == "data/models/mine.toml":
                data = data.replace(b"my", b"MY")
            if change == "schema" and info.name == MANIFEST:
                doc = json.loads(data)
                doc["schema_version"] = latest_version() + 1
                data = json.dumps(doc).encode()
            if change == "extra" and info.name == "data/models/mine.toml":
                info.name = "data/models/other.toml"
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    target.write_bytes(out.getvalue())


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("member", "member data/models/mine.toml does not match its SHA-256"),
        ("schema", f"database version {latest_version() + 1} is newer than this ews"),
        ("extra", "unexpected member data/models/other.toml"),
        ("truncated", "damaged or truncated"),
        ("not-gzip", "damaged or truncated"),
    ],
)
async def test_a_bad_file_is_refused_and_nothing_changes(
    old: Box, tmp_path: Path, change: str, reason: str
) -> None:
    good = tmp_path / "good.tar.gz"
    create_backup(good, old.config_path, old.config)
    bad = tmp_path / "bad.tar.gz"
    if change == "truncated":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif change == "not-gzip":
        bad.write_bytes(b"PK\x03\x04 not a tar")
    else:
        _rewrite(good, bad, change)
    target = Box(tmp_path / "target")
    await populate(target, [7])
    before, config_before = target.state(), target.config_path.read_bytes()
    with pytest.raises(BackupError, match=reason):
        restore_backup(bad, target.config_path)
    assert target.state() == before
    assert target.config_path.read_bytes() == config_before
    assert [p for p in target.data.iterdir() if p.name.startswith(".")] == []  # no stage left
    assert not (target.data / "backups").exists() or not list_backups(target.data / "backups")


async def test_a_damaged_database_is_refused(old: Box, tmp_path: Path) -> None:
    path = old.data / "connector.sqlite"
    conn = sqlite3.connect(path)
    conn.executemany("INSERT INTO transfers (files) VALUES (?)", [(i,) for i in range(3000)])
    conn.commit()
    conn.close()
    create_backup(tmp_path / "b.tar.gz", old.config_path, old.config)
    # Damage a page of the copy inside the file, then give the manifest its new hash: only
    # SQLite's own check can see it.
    work = tmp_path / "work"
    with tarfile.open(tmp_path / "b.tar.gz", "r:gz") as tar:
        tar.extractall(work, filter="data")
    db = work / "data/connector.sqlite"
    raw = bytearray(db.read_bytes())
    raw[4096 : 4096 + 12] = bytes(12)  # the header of page 2
    db.write_bytes(bytes(raw))
    manifest = json.loads((work / MANIFEST).read_text())
    for member in manifest["members"]:
        member["sha256"] = sha256_of(work / member["path"])
        member["size"] = (work / member["path"]).stat().st_size
    (work / MANIFEST).write_text(json.dumps(manifest))
    with tarfile.open(tmp_path / "bad.tar.gz", "w:gz") as tar:
        tar.add(work / MANIFEST, MANIFEST)
        for member in manifest["members"]:
            tar.add(work / member["path"], member["path"])
    new = Box(tmp_path / "new")
    with pytest.raises(BackupError, match=r"database data/connector\.sqlite is damaged"):
        restore_backup(tmp_path / "bad.tar.gz", new.config_path)
    assert not (new.data / "connector.sqlite").exists()


async def test_refused_while_a_box_holds_the_data_dir(old: Box, tmp_path: Path) -> None:
    create_backup(tmp_path / "b.tar.gz", old.config_path, old.config)
    target = Box(tmp_path / "target")
    await populate(target, [7])
    before = target.state()
    with (
        hold_data_dir(target.data),
        pytest.raises(BackupError, match=r"a box is running on this data dir .*stop it"),
    ):
        restore_backup(tmp_path / "b.tar.gz", target.config_path)
    assert target.state() == before


async def test_undo_brings_the_state_before_back(old: Box, tmp_path: Path) -> None:
    create_backup(tmp_path / "b.tar.gz", old.config_path, old.config)
    target = Box(tmp_path / "target", {"language": "de"})
    await populate(target, [7, 8])
    (target.data / "models" / "theirs.toml").write_text("# theirs\n")
    before, config_before = target.state(), target.config_path.read_bytes()

    done = restore_backup(tmp_path / "b.tar.gz", target.config_path)
    assert target.rows() == [(1,), (2,), (3,)]
    assert not (target.data / "models/theirs.toml").exists()
    assert done.aside.name.startswith(ASIDE_PREFIX)
    assert os.stat(done.aside).st_mode & 0o777 == 0o700
    assert [b.kind for b in list_backups(target.data / "backups")] == ["before-restore"]

    undone = restore_backup(None, target.config_path)  # ews backup restore --undo
    assert target.rows() == [(7,), (8,)]
    assert target.state() == before
    assert target.config_path.read_bytes() == config_before
    assert undone.aside != done.aside

    # The folder kept aside restores by its path too (here: the state of the backup).
    restore_backup(undone.aside, target.config_path)
    assert target.rows() == [(1,), (2,), (3,)]


async def test_a_failure_half_way_renames_everything_back(old: Box, tmp_path: Path) -> None:
    # The backup holds a key under keys/; in the target "keys" is a file, so the swap
    # fails after the current state went aside and the first files came in.
    old_config = apply_changes(old.config, {"ssh.host_key": "keys/host"}, old.root)
    save_config(old_config, old.config_path)
    (old.data / "keys").mkdir()
    (old.data / "keys/host").write_text("KEY\n")
    create_backup(tmp_path / "b.tar.gz", old.config_path, old_config, with_host_key=True)
    target = Box(tmp_path / "target")
    await populate(target, [7])
    (target.data / "keys").write_text("a file in the way\n")
    before, config_before = target.state(), target.config_path.read_bytes()
    with pytest.raises(BackupError, match="cannot restore"):
        restore_backup(tmp_path / "b.tar.gz", target.config_path)
    assert target.state() == before
    assert target.config_path.read_bytes() == config_before
    assert target.rows() == [(7,)]
    assert list_backups(target.data / "backups") == []


def test_nightly_names_and_retention(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    folder = tmp_path / "backups"
    start = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    made = []
    for day in range(5):
        path = new_backup_path(folder, "nightly-", start + timedelta(days=day))
        path.write_bytes(gzip.compress(b""))
        os.utime(path, (1_000_000 + day, 1_000_000 + day))
        made.append(path)
    manual = new_backup_path(folder, "ews-backup-", start)
    manual.write_bytes(b"")
    assert prune_nightly(folder, 2) == list(reversed(made[:3]))
    left = list_backups(folder)
    assert [b.path for b in left if b.kind == "nightly"] == [made[4], made[3]]
    assert manual in [b.path for b in left]


async def test_a_data_dir_with_uri_characters_in_its_name(tmp_path: Path) -> None:
    odd = Box(tmp_path / "site ?#%20 1")
    await populate(odd, [5])
    create_backup(tmp_path / "b.tar.gz", odd.config_path, odd.config)
    new = Box(tmp_path / "new #2?")
    restore_backup(tmp_path / "b.tar.gz", new.config_path)
    assert new.rows() == [(5,)]
    assert not (tmp_path / "site ?#%20 1" / "data" / "site ").exists()  # nothing made aside


async def test_a_bare_box_takes_the_backups_config_whole(old: Box, tmp_path: Path) -> None:
    create_backup(tmp_path / "b.tar.gz", old.config_path, old.config)
    bare = tmp_path / "bare"
    bare.mkdir()
    done = restore_backup(tmp_path / "b.tar.gz", bare / "config.toml")
    assert done.data_dir == bare / "data"
    assert (bare / "config.toml").read_bytes() == old.config_path.read_bytes()
    assert load_config(bare / "config.toml").language == "fr"
    assert sorted(p.name for p in bare.iterdir()) == ["config.toml", "data"]  # no probe left
