"""The whole box in one file: ``ews backup create``, the nightly backup, the backups folder.

Creating works while the box runs: each SQLite database of the data dir is copied with
SQLite's online backup API in one step (one read transaction: a consistent snapshot, the
recorder keeps writing meanwhile), then the file (:mod:`ews_tui.store.backup_archive`) is
written atomically, mode 0600. These are blocking calls: from the loop, run them in a thread.
Restoring is :mod:`ews_tui.store.backup_restore`.
"""

from __future__ import annotations

import logging
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from urllib.request import pathname2url

from ews_tui.atomic_file import open_atomically
from ews_tui.config import Config
from ews_tui.domain.messages import N_
from ews_tui.file_modes import make_private_dir
from ews_tui.store.backup_archive import (
    CONFIG_MEMBER,
    DATA,
    MANIFEST,
    Manifest,
    Member,
    refused,
    sha256_of,
    write_archive,
)
from ews_tui.store.user_models import MODELS_FOLDER

log = logging.getLogger(__name__)

BACKUPS_FOLDER = "backups"
NIGHTLY_PREFIX = "nightly-"
MANUAL_PREFIX = "ews-backup-"
ASIDE_PREFIX = "before-restore-"
SUFFIX = ".tar.gz"
KNOWN_HOSTS = "connector_known_hosts"  # as services.connector_transfer.KNOWN_HOSTS
SQLITE_MAGIC = b"SQLite format 3\x00"


def ews_version() -> str:
    try:
        return metadata.version("ews-tui")
    except metadata.PackageNotFoundError:
        return "unknown"


def stamp(now: datetime) -> str:
    """``20261203-021500``: the local time in a file name."""
    return now.strftime("%Y%m%d-%H%M%S")


# --------------------------------------------------------------------------- create


def databases(data_dir: Path) -> list[Path]:
    """The SQLite databases at the top of the data dir (by their header, not their name)."""
    found = []
    try:
        entries = sorted(data_dir.iterdir())
    except FileNotFoundError:
        return []
    for path in entries:
        if path.name.startswith(".") or not path.is_file():
            continue
        try:
            with path.open("rb") as stream:
                head = stream.read(len(SQLITE_MAGIC))
        except OSError:
            continue
        if head == SQLITE_MAGIC:
            found.append(path)
    return found


def key_files(config: Config) -> list[Path]:
    """The SSH host key and the Connector's key (with their ``.pub``), those that exist."""
    keys = [config.ssh_host_key_file]
    if config.connector_key_file is not None:
        keys.append(config.connector_key_file)
    return [p for k in keys for p in (k, k.with_name(k.name + ".pub")) if p.is_file()]


def _data_member(config: Config, path: Path) -> str:
    try:
        rel = path.resolve().relative_to(config.data_dir.resolve())
    except ValueError:
        raise refused(
            path, N_("outside the data dir {path}: not kept in a backup"), path=config.data_dir
        ) from None
    return f"{DATA}/{rel.as_posix()}"


def create_backup(
    target: Path,
    config_path: Path,
    config: Config,
    *,
    with_host_key: bool = False,
    now: datetime | None = None,
) -> Manifest:
    """Write the backup file ``target`` (atomically, 0600); the manifest written.

    BackupError names the file that could not be read or written.
    """
    now = now or datetime.now(UTC)
    target = Path(target)
    if target.is_dir():
        raise refused(target, N_("is a folder, not a file"))
    try:
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".ews-backup-") as work:
            root = Path(work)
            manifest = _stage(root, config_path, config, with_host_key, now)
            with open_atomically(target) as stream:
                write_archive(stream, manifest, root)
    except FileNotFoundError as error:
        where = error.filename or target.parent
        raise refused(where, N_("no such file or folder")) from None
    except OSError as error:
        where = error.filename or target
        raise refused(
            where, N_("cannot write the backup: {reason}"), reason=_reason(error)
        ) from None
    except sqlite3.Error as error:
        raise refused(target, N_("cannot copy a database: {reason}"), reason=error) from None
    log.info("backup %s written: %d members", target, len(manifest.members))
    return manifest


def _stage(
    root: Path, config_path: Path, config: Config, with_host_key: bool, now: datetime
) -> Manifest:
    members: list[Member] = []

    def put(path: str, kind: str, data: bytes) -> None:
        out = root / path
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        members.append(Member(path, kind, len(data), sha256_of(out)))

    put(CONFIG_MEMBER, "config", Path(config_path).read_bytes())
    schema = 0
    for db in databases(config.data_dir):
        path = f"{DATA}/{db.name}"
        out = root / path
        out.parent.mkdir(parents=True, exist_ok=True)
        snapshot_database(db, out)
        schema = max(schema, schema_version_of(out))
        members.append(Member(path, "database", out.stat().st_size, sha256_of(out)))
    models = config.data_dir / MODELS_FOLDER
    if models.is_dir():
        for model in sorted(models.iterdir()):
            if model.is_file() and not model.name.startswith("."):
                put(f"{DATA}/{MODELS_FOLDER}/{model.name}", "models", model.read_bytes())
    known = config.data_dir / KNOWN_HOSTS
    if known.is_file():
        put(f"{DATA}/{KNOWN_HOSTS}", "file", known.read_bytes())
    if with_host_key:
        for key in key_files(config):
            put(_data_member(config, key), "keys", key.read_bytes())
    return Manifest(
        created=now.astimezone(UTC).isoformat(timespec="seconds"),
        ews_version=ews_version(),
        schema_version=schema,
        with_host_key=with_host_key,
        members=tuple(members),
    )


def snapshot_database(source: Path, target: Path) -> None:
    """Copy the live database ``source`` to ``target`` with SQLite's backup API, in one
    step: one read transaction, so the copy is one committed state while writers go on."""
    src = sqlite3.connect(_uri(source, "mode=rw"), uri=True, timeout=30)  # never creates it
    try:
        src.execute("PRAGMA query_only = 1")
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")  # one file, no -wal beside it
        finally:
            dst.close()
    finally:
        src.close()


def _uri(path: Path, query: str) -> str:
    """SQLite's URI of ``path`` (a ``?`` or ``#`` in a folder name stays a name)."""
    return f"file:{pathname2url(str(path.resolve()))}?{query}"


def schema_version_of(path: Path) -> int:
    """The store's schema version in the database file ``path`` (0: none)."""
    conn = sqlite3.connect(_uri(path, "immutable=1"), uri=True)
    try:
        rows = conn.execute("SELECT version FROM schema_version").fetchall()
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()
    return int(rows[0][0]) if rows else 0


def integrity_problem(path: Path) -> str | None:
    """None when ``PRAGMA integrity_check`` of the database file says ok, else its words."""
    try:
        conn = sqlite3.connect(_uri(path, "immutable=1"), uri=True)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        return str(error)
    words = "; ".join(str(r[0]) for r in rows[:3])
    return None if words == "ok" else words


# --------------------------------------------------------------------------- list, prune


@dataclass(frozen=True)
class BackupInfo:
    """A backup of the backups folder: a file, or a folder a restore kept aside."""

    path: Path
    kind: str  # "nightly", "manual", "before-restore", "other"
    size: int
    mtime: float


def backups_folder(config: Config) -> Path:
    return config.data_dir / BACKUPS_FOLDER


def list_backups(folder: Path) -> list[BackupInfo]:
    """The backups in ``folder``, newest first."""
    found = []
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    for path in entries:
        name = path.name
        try:
            info = path.stat()
        except OSError:
            continue
        if path.is_dir() and name.startswith(ASIDE_PREFIX) and (path / MANIFEST).is_file():
            size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
            found.append(BackupInfo(path, "before-restore", size, info.st_mtime))
        elif path.is_file() and name.endswith(SUFFIX) and not name.startswith("."):
            kind = (
                "nightly"
                if name.startswith(NIGHTLY_PREFIX)
                else "manual"
                if name.startswith(MANUAL_PREFIX)
                else "other"
            )
            found.append(BackupInfo(path, kind, info.st_size, info.st_mtime))
    return sorted(found, key=lambda b: (b.mtime, b.path.name), reverse=True)


def prune_nightly(folder: Path, keep: int) -> list[Path]:
    """Remove the nightly backups beyond the newest ``keep``; the paths removed."""
    nightly = [b.path for b in list_backups(folder) if b.kind == "nightly"]
    removed = []
    for path in nightly[keep:]:
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def new_backup_path(folder: Path, prefix: str, now: datetime) -> Path:
    """``folder/<prefix>YYYYmmdd-HHMMSS.tar.gz`` (``now``'s own time zone), a new name."""
    make_private_dir(folder)
    base = f"{prefix}{stamp(now)}"
    path = folder / f"{base}{SUFFIX}"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"{base}-{n}{SUFFIX}"
    return path


def _reason(error: OSError) -> str:
    return error.strerror or str(error)
