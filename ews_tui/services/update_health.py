"""How a freshly started box says it is healthy: ``<data_dir>/serve-health.json``.

``ews serve`` writes it once every service and front end is up (the database opened and
migrated, the config read, SSH listening): ``{"version", "pid", "started"}``. An update
removes it before restarting the box and waits for one with the new version and a live pid
(:func:`wait_healthy`): only a new box that got all the way up writes it, and a file left
by the old one can neither count nor be mistaken for the new one.

Why a file and not ``<prefix>/current/bin/ews --version``: that only proves the new code
imports; the health file proves the new daemon started on this box's config and database.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ews_tui.atomic_file import write_atomically

HEALTH_FILE = "serve-health.json"
PROJECT = "ews-tui"
POLL_S = 0.2


@dataclass(frozen=True)
class Health:
    version: str
    pid: int
    started: float


def installed_version() -> str:
    """The version of ews-tui running this code ("0" when it is not installed)."""
    try:
        return metadata.version(PROJECT)
    except metadata.PackageNotFoundError:
        return "0"


def health_path(data_dir: Path) -> Path:
    return data_dir / HEALTH_FILE


def write_health(data_dir: Path, version: str, *, pid: int | None = None) -> Path:
    """Say that this process, running ``version``, is up (atomically)."""
    path = health_path(data_dir)
    body = {"version": version, "pid": pid or os.getpid(), "started": time.time()}
    write_atomically(path, (json.dumps(body) + "\n").encode("utf-8"), new_mode=0o644)
    return path


def read_health(data_dir: Path) -> Health | None:
    """The health file, if there is a readable one."""
    try:
        body = json.loads(health_path(data_dir).read_bytes())
        return Health(str(body["version"]), int(body["pid"]), float(body["started"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def clear_health(data_dir: Path) -> None:
    health_path(data_dir).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process (the box runs as ews)
        return True
    return True


def healthy(data_dir: Path, version: str) -> bool:
    """A box running ``version`` said it is up, and that process is still alive."""
    health = read_health(data_dir)
    return health is not None and health.version == version and _alive(health.pid)


async def wait_healthy(data_dir: Path, version: str, timeout_s: float) -> bool:
    """Whether a box running ``version`` reports healthy within ``timeout_s`` (the file is
    looked at every :data:`POLL_S`: nothing tells when another process writes it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        if await asyncio.to_thread(healthy, data_dir, version):
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(POLL_S)
