"""Restoring a backup (``ews backup restore F`` / ``--undo``): all or nothing.

1. the data dir is held (:mod:`ews_tui.store.datadir_lock`): refused while a box runs on it;
2. the whole file is read into a staging folder of the data dir and checked: the manifest,
   each member's SHA-256, ``PRAGMA integrity_check`` of each database, a schema no newer
   than this code knows, a config file that loads;
3. the current state (databases, models, the Connector's known hosts, the keys the backup
   replaces, the config file) moves aside by renames into a dated folder,
   ``<data_dir>/backups/before-restore-YYYYmmdd-HHMMSS``, with its own manifest;
4. the staged files move in by renames, then the config file is replaced atomically.

Any failure in 3 or 4 renames everything back. ``ews backup restore --undo`` (or restoring
that folder by its path) brings the state kept aside back, the same way. Blocking calls: run
them in a thread from the loop.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import tomli_w

from ews_tui.atomic_file import write_atomically
from ews_tui.config import Config, ConfigError, parse_config, read_document
from ews_tui.domain.messages import N_
from ews_tui.file_modes import make_private_dir
from ews_tui.store.backup import (
    ASIDE_PREFIX,
    BACKUPS_FOLDER,
    KNOWN_HOSTS,
    SQLITE_MAGIC,
    databases,
    ews_version,
    integrity_problem,
    list_backups,
    schema_version_of,
    stamp,
)
from ews_tui.store.backup_archive import (
    CONFIG_MEMBER,
    DATA,
    MANIFEST,
    Manifest,
    Member,
    check_tree,
    copy_tree,
    extract_archive,
    refused,
    sha256_of,
)
from ews_tui.store.datadir_lock import LOCK_FILE, DataDirInUse, hold_data_dir
from ews_tui.store.migrations import latest_version
from ews_tui.store.user_models import MODELS_FOLDER

log = logging.getLogger(__name__)

_SIDE_FILES = ("-wal", "-shm", "-journal")
RESTORED_HEADER = (
    "# ews-tui box settings, restored from a backup by ews backup restore (data_dir kept).\n"
    "# Every key, its default and its meaning: config.example.toml.\n\n"
)


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    data_dir: Path
    aside: Path  # where the state before the restore was kept


def last_aside(data_dir: Path) -> Path:
    """The newest folder a restore kept aside (what ``--undo`` restores)."""
    asides = [b.path for b in list_backups(data_dir / BACKUPS_FOLDER) if b.kind == "before-restore"]
    if not asides:
        raise refused(data_dir / BACKUPS_FOLDER, N_("no restore to undo"))
    return max(asides, key=lambda p: p.name)


def target_data_dir(config_path: Path) -> Path | None:
    """The data dir of the config file in place, None when there is no file yet."""
    if not config_path.exists():
        return None
    try:
        return parse_config(read_document(config_path), config_path.parent).data_dir
    except ConfigError as error:
        reason = "; ".join(str(p) for p in error.problems)
        raise refused(
            config_path, N_("cannot read the config file: {reason}"), reason=reason
        ) from None


def restore_backup(
    source: Path | None, config_path: Path, *, now: datetime | None = None
) -> Restored:
    """Restore the backup file or kept-aside folder ``source`` (None: the last one kept
    aside, i.e. undo the last restore) onto the box of ``config_path``; all or nothing."""
    now = now or datetime.now(UTC)
    config_path = Path(config_path)
    data_dir = target_data_dir(config_path)
    if data_dir is None:  # a bare box: the data dir the backup's config names
        if source is None:
            raise refused(config_path, N_("no such file"))
        with tempfile.TemporaryDirectory(dir=config_path.parent, prefix=".ews-restore-") as probe:
            _read_source(source, Path(probe))
            data_dir = _staged_config(Path(probe), config_path, None).data_dir
    try:
        make_private_dir(data_dir)
    except OSError as error:
        reason = _reason(error)
        raise refused(data_dir, N_("cannot create the folder: {reason}"), reason=reason) from None
    try:
        with hold_data_dir(data_dir):
            if source is None:
                source = last_aside(data_dir)
            return _restore_held(source, config_path, data_dir, now)
    except DataDirInUse as error:
        raise refused(
            data_dir,
            N_("a box is running on this data dir (process {pid}): stop it first"),
            pid=error.pid if error.pid is not None else "?",
        ) from None


def _read_source(source: Path, stage: Path) -> Manifest:
    """The backup file or kept-aside folder ``source`` read into ``stage`` and checked."""
    if source.is_dir():
        try:
            raw = (source / MANIFEST).read_bytes()
        except OSError:
            raise refused(source, N_("not an ews backup")) from None
        manifest = Manifest.from_json(raw, str(source))
        check_tree(source, manifest, str(source))
        copy_tree(source, manifest, stage)
    else:
        manifest = extract_archive(source, stage)
    known = latest_version()
    if manifest.schema_version > known:
        raise refused(
            source,
            N_(
                "the backup's database version {found} is newer than this ews ({known}): "
                "upgrade ews first"
            ),
            found=manifest.schema_version,
            known=known,
        )
    for member in manifest.members:
        if member.kind != "database":
            continue
        path = stage / member.path
        problem = integrity_problem(path)
        if problem is not None:
            raise refused(
                source, N_("database {path} is damaged: {reason}"), path=member.path, reason=problem
            )
        found = schema_version_of(path)
        if found > known:
            raise refused(
                source,
                N_(
                    "the backup's database version {found} is newer than this ews ({known}): "
                    "upgrade ews first"
                ),
                found=found,
                known=known,
            )
    return manifest


def _staged_config(stage: Path, config_path: Path, data_dir: Path | None) -> Config:
    """The backup's config as it will be written at ``config_path``; its data dir is the
    box's (``data_dir``) when the box has one already."""
    staged = stage / CONFIG_MEMBER
    if not staged.is_file():
        raise refused(stage, N_("member {path} is missing"), path=CONFIG_MEMBER)
    try:
        config = parse_config(read_document(staged), config_path.parent)
    except ConfigError as error:
        reason = "; ".join(str(p) for p in error.problems)
        raise refused(
            CONFIG_MEMBER, N_("the backup's config file is refused: {reason}"), reason=reason
        ) from None
    if data_dir is not None and config.data_dir.resolve() != data_dir.resolve():
        # The restored box keeps its own data dir, written as its config file wrote it.
        doc, current = read_document(staged), read_document(config_path)
        doc.pop("data_dir", None)
        if "data_dir" in current:
            doc = {"data_dir": current["data_dir"], **doc}
        text = RESTORED_HEADER + tomli_w.dumps(doc)
        write_atomically(staged, text.encode("utf-8"))
        config = replace(config, data_dir=data_dir)
    return config


def _restore_held(source: Path, config_path: Path, data_dir: Path, now: datetime) -> Restored:
    stage = data_dir / f".restore-{stamp(now)}-{os.getpid()}"
    make_private_dir(stage)
    try:
        manifest = _read_source(source, stage)
        _staged_config(stage, config_path, data_dir)
        aside = _aside_path(data_dir, now)
        _swap(stage, manifest, config_path, data_dir, aside)
    except OSError as error:
        where = error.filename or data_dir
        raise refused(where, N_("cannot restore: {reason}"), reason=_reason(error)) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    log.info("restored %s onto %s; the state before is in %s", source, data_dir, aside)
    return Restored(manifest, data_dir, aside)


def _aside_path(data_dir: Path, now: datetime) -> Path:
    folder = data_dir / BACKUPS_FOLDER
    make_private_dir(folder)
    base = f"{ASIDE_PREFIX}{stamp(now.astimezone())}"
    path, n = folder / base, 1
    while path.exists():
        n += 1
        path = folder / f"{base}-{n}"
    return path


def _current_state(data_dir: Path, manifest: Manifest) -> list[str]:
    """The paths (relative to the data dir) a restore replaces: every database with its side
    files, the models folder, the known hosts, and whatever the backup itself holds."""
    names: set[str] = set()
    for db in databases(data_dir):
        names.add(db.name)
        names.update(
            db.name + side for side in _SIDE_FILES if (data_dir / (db.name + side)).exists()
        )
    for rel in (MODELS_FOLDER, KNOWN_HOSTS):
        if (data_dir / rel).exists():
            names.add(rel)
    for member in manifest.members:
        if member.path.startswith(DATA + "/"):
            rel = member.path.removeprefix(DATA + "/")
            top = rel.split("/")[0]
            if top == MODELS_FOLDER:
                continue
            if (data_dir / rel).exists():
                names.add(rel)
    return sorted(n for n in names if n not in (LOCK_FILE, BACKUPS_FOLDER))


@contextmanager
def _undo_on_failure() -> Iterator[list[tuple[Path, Path]]]:
    """The renames done in the block; on failure they are undone, the last first."""
    moves: list[tuple[Path, Path]] = []
    try:
        yield moves
    except BaseException:
        for src, dst in reversed(moves):
            try:
                os.replace(dst, src)
            except OSError:
                log.exception("restore: could not move %s back to %s", dst, src)
        raise


def _swap(stage: Path, manifest: Manifest, config_path: Path, data_dir: Path, aside: Path) -> None:
    for db in databases(data_dir):
        _checkpoint(db)
    current = _current_state(data_dir, manifest)
    make_private_dir(aside)
    make_private_dir(aside / DATA)
    try:
        _swap_in(stage, manifest, config_path, data_dir, aside, current)
    except BaseException:
        shutil.rmtree(aside, ignore_errors=True)  # everything is back in place: nothing aside
        raise


def _swap_in(
    stage: Path,
    manifest: Manifest,
    config_path: Path,
    data_dir: Path,
    aside: Path,
    current: list[str],
) -> None:
    with _undo_on_failure() as moves:
        for name in current:
            src, dst = data_dir / name, aside / DATA / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.rename(src, dst)
            moves.append((src, dst))
        aside_members = _aside_members(aside, config_path)
        kept = Manifest(
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            ews_version=ews_version(),
            schema_version=max(
                (schema_version_of(aside / m.path) for m in aside_members if m.kind == "database"),
                default=0,
            ),
            with_host_key=any(m.kind == "keys" for m in aside_members),
            members=aside_members,
        )
        write_atomically(aside / MANIFEST, kept.to_json())
        for member in manifest.members:
            if not member.path.startswith(DATA + "/"):
                continue
            src = stage / member.path
            dst = data_dir / member.path.removeprefix(DATA + "/")
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.rename(src, dst)
            moves.append((src, dst))
            os.chmod(dst, 0o600)
        write_atomically(config_path, (stage / CONFIG_MEMBER).read_bytes(), new_mode=0o600)


def _checkpoint(path: Path) -> None:
    """Fold a database's WAL into it before it moves (the box is stopped: we hold the lock);
    a damaged one moves as it is, with its side files."""
    try:
        conn = sqlite3.connect(path)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    except sqlite3.Error as error:
        log.warning("restore: %s kept aside as it is (%s)", path, error)


def _aside_members(aside: Path, config_path: Path) -> tuple[Member, ...]:
    members: list[Member] = []
    if config_path.is_file():
        shutil.copyfile(config_path, aside / CONFIG_MEMBER)
        os.chmod(aside / CONFIG_MEMBER, 0o600)
        members.append(_member_of(aside, CONFIG_MEMBER, "config"))
    for path in sorted((aside / DATA).rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(aside).as_posix()
        kind = "file"
        if rel.startswith(f"{DATA}/{MODELS_FOLDER}/"):
            kind = "models"
        elif path.parent == aside / DATA and integrity_problem(path) is None and _is_db(path):
            kind = "database"
        members.append(_member_of(aside, rel, kind))
    return tuple(members)


def _is_db(path: Path) -> bool:
    with path.open("rb") as stream:
        return stream.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC


def _member_of(root: Path, rel: str, kind: str) -> Member:
    path = root / rel
    return Member(rel, kind, path.stat().st_size, sha256_of(path))


def _reason(error: OSError) -> str:
    return error.strerror or str(error)
