"""The backup file: a gzip'd tar whose first member is ``manifest.json``.

The manifest says the format and its version, the store's schema version, when and by which
ews the file was made, and each member's path, size, kind and SHA-256. Members:

- ``config.toml``: the box's settings file, as it was;
- ``data/<name>.sqlite``: a consistent snapshot of each SQLite database of the data dir;
- ``data/models/*.toml``: the user's device models;
- ``data/connector_known_hosts``: the Connector's accepted server keys;
- ``data/<key>`` (``--with-host-key`` only): the SSH host key and the Connector's key.

:func:`write_archive` writes a staged tree as such a file; :func:`extract_archive` reads one
back into a folder, checking every member against the manifest as it goes (a damaged,
truncated or hostile file is refused with its reason, nothing is written outside the folder).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import shutil
import tarfile
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from ews_tui.domain.messages import N_, Message
from ews_tui.store.db import StoreError

FORMAT = "ews-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CONFIG_MEMBER = "config.toml"
DATA = "data"
MAX_MANIFEST_BYTES = 1 << 20
MAX_MEMBERS = 10_000
_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}")
_CHUNK = 1 << 20


class BackupError(StoreError):
    """A backup that cannot be made, read or restored; ``str()`` is the line a user sees."""


def refused(where: Path | str, msgid: str, **params: object) -> BackupError:
    return BackupError(str(where), Message(msgid, dict(params)))


@dataclass(frozen=True)
class Member:
    """One file of a backup: ``path`` inside it, its kind, size and SHA-256."""

    path: str
    kind: str  # "config", "database", "models", "keys", "file"
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    created: str  # ISO 8601, UTC
    ews_version: str
    schema_version: int
    with_host_key: bool
    members: tuple[Member, ...]
    format_version: int = FORMAT_VERSION

    def to_json(self) -> bytes:
        doc = {
            "format": FORMAT,
            "format_version": self.format_version,
            "schema_version": self.schema_version,
            "created": self.created,
            "ews_version": self.ews_version,
            "with_host_key": self.with_host_key,
            "members": [
                {"path": m.path, "kind": m.kind, "size": m.size, "sha256": m.sha256}
                for m in self.members
            ],
        }
        return (json.dumps(doc, indent=1) + "\n").encode("utf-8")

    @staticmethod
    def from_json(raw: bytes, where: str) -> Manifest:
        """The manifest in ``raw``; BackupError when it is not one this code can read."""
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise refused(where, N_("the manifest is not valid JSON")) from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise refused(where, N_("not an ews backup"))
        version = doc.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise refused(
                where,
                N_("backup format {found} is newer than this ews ({known}): upgrade ews"),
                found=version,
                known=FORMAT_VERSION,
            )
        try:
            members = tuple(_member(m) for m in doc["members"])
            manifest = Manifest(
                created=str(doc["created"]),
                ews_version=str(doc["ews_version"]),
                schema_version=_int(doc["schema_version"]),
                with_host_key=bool(doc["with_host_key"]),
                members=members,
                format_version=version,
            )
        except (KeyError, TypeError, ValueError):
            raise refused(where, N_("the manifest is incomplete")) from None
        paths = [m.path for m in members]
        if len(paths) > MAX_MEMBERS or len(set(paths)) != len(paths):
            raise refused(where, N_("the manifest is incomplete"))
        for path in paths:
            if not safe_member_path(path):
                raise refused(where, N_("the manifest names an unsafe path: {path}"), path=path)
        return manifest


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(value)
    return value


def _member(raw: Any) -> Member:
    if not isinstance(raw, dict):
        raise TypeError(raw)
    digest = str(raw["sha256"])
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValueError(digest)
    size = _int(raw["size"])
    if size < 0:
        raise ValueError(size)
    return Member(str(raw["path"]), str(raw["kind"]), size, digest)


def safe_member_path(path: str) -> bool:
    """``config.toml``, or ``data/...`` of plain names (no ``..``, no hidden, no absolute
    path), never the backups folder nor the lock."""
    if path == CONFIG_MEMBER:
        return True
    parts = PurePosixPath(path).parts
    if len(parts) < 2 or len(parts) > 5 or parts[0] != DATA or path != "/".join(parts):
        return False
    if parts[1] in ("backups", "ews.lock"):
        return False
    return all(_PART.fullmatch(part) for part in parts[1:])


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_archive(stream: IO[bytes], manifest: Manifest, root: Path) -> None:
    """Write the manifest, then each member read from ``root / member.path``."""
    created = datetime.fromisoformat(manifest.created).timestamp()
    with tarfile.open(fileobj=stream, mode="w:gz", compresslevel=6) as tar:
        _add(tar, MANIFEST, manifest.to_json(), created)
        for member in manifest.members:
            info = tarfile.TarInfo(member.path)
            info.size = member.size
            info.mode = 0o600
            info.mtime = int(created)
            with (root / member.path).open("rb") as source:
                tar.addfile(info, source)


def _add(tar: tarfile.TarFile, name: str, data: bytes, created: float) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(created)
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def extract_archive(source: Path, into: Path) -> Manifest:
    """Read the backup file ``source`` into the folder ``into`` (made if missing), each
    member checked against the manifest (size, SHA-256, nothing missing or extra)."""
    where = str(source)
    into.mkdir(parents=True, exist_ok=True)
    if not source.exists():
        raise refused(where, N_("no such file"))
    if source.is_dir():
        raise refused(where, N_("is a folder, not a file"))
    try:
        with tarfile.open(source, mode="r:gz") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isfile():
                raise refused(where, N_("not an ews backup"))
            if first.size > MAX_MANIFEST_BYTES:
                raise refused(where, N_("the manifest is too large"))
            raw = _read(tar, first)
            manifest = Manifest.from_json(raw, where)
            (into / MANIFEST).write_bytes(raw)
            expected = {m.path: m for m in manifest.members}
            seen: set[str] = set()
            while (info := tar.next()) is not None:
                member = expected.get(info.name)
                if member is None or info.name in seen or not info.isfile():
                    raise refused(where, N_("unexpected member {path}"), path=info.name)
                seen.add(info.name)
                _extract_one(tar, info, member, into, where)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise refused(
            where, N_("the file is damaged or truncated ({reason})"), reason=error
        ) from None
    missing = sorted(set(expected) - seen)
    if missing:
        raise refused(where, N_("member {path} is missing"), path=missing[0])
    return manifest


def _read(tar: tarfile.TarFile, info: tarfile.TarInfo) -> bytes:
    stream = tar.extractfile(info)
    if stream is None:
        raise tarfile.ReadError(info.name)
    return stream.read()


def _extract_one(
    tar: tarfile.TarFile, info: tarfile.TarInfo, member: Member, into: Path, where: str
) -> None:
    if info.size != member.size:
        raise refused(where, N_("member {path} has the wrong size"), path=member.path)
    stream = tar.extractfile(info)
    if stream is None:
        raise tarfile.ReadError(info.name)
    target = into / member.path
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with target.open("wb") as out:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != member.sha256:
        raise refused(where, N_("member {path} does not match its SHA-256"), path=member.path)


def check_tree(root: Path, manifest: Manifest, where: str) -> None:
    """Every member of ``manifest`` under ``root`` with its size and SHA-256 (a folder kept
    aside by a restore is checked like a file)."""
    for member in manifest.members:
        path = root / member.path
        if not path.is_file():
            raise refused(where, N_("member {path} is missing"), path=member.path)
        if path.stat().st_size != member.size or sha256_of(path) != member.sha256:
            raise refused(where, N_("member {path} does not match its SHA-256"), path=member.path)


def copy_tree(root: Path, manifest: Manifest, into: Path) -> None:
    """Copy the manifest and its members from ``root`` to ``into``."""
    shutil.copyfile(root / MANIFEST, into / MANIFEST)
    for member in manifest.members:
        target = into / member.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / member.path, target)
