"""One box per data dir: the exclusive lock taken by every command that polls or records.

``ews serve``, ``ews tui``, ``ews demo`` and ``ews history seed`` hold an ``fcntl.flock`` on
``<data dir>/ews.lock`` for as long as they run; the file holds the holder's process id. A
second one on the same data dir is refused (:class:`DataDirInUse`) instead of running the
pollers and the recorder twice. Read-only commands (``report``, ``export csv``, ``install
export``) take no lock and keep working beside the box.

A box may hand its lock to a child process that records for it (``ews demo`` and its
background ``ews history seed --backfill``): :meth:`DataDirLock.child_env` names the lock's
file descriptor in :data:`LOCK_FD_ENV`, the child inherits that descriptor (``pass_fds``) and
:func:`hold_data_dir` in the child recognises it as the lock of the same data dir: both
processes share one lock, which ends when the last of them closes it. The kernel drops a
flock when its holder dies, so a crash (``kill -9``) never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ews_tui.domain.messages import N_, Message
from ews_tui.file_modes import make_private_dir
from ews_tui.store.db import StoreError

LOCK_FILE = "ews.lock"
LOCK_FD_ENV = "EWS_DATA_DIR_LOCK_FD"


class DataDirInUse(StoreError):
    """Another process (a box) holds the data dir."""

    def __init__(self, data_dir: Path, pid: int | None) -> None:
        self.pid = pid
        if pid is None:
            reason = Message(N_("data dir {path} is in use by another process"), {"path": data_dir})
        else:
            reason = Message(
                N_("data dir {path} is in use by process {pid}"), {"path": data_dir, "pid": pid}
            )
        super().__init__("", reason)


@dataclass(frozen=True)
class DataDirLock:
    """The held lock: its file descriptor, kept open while the box runs."""

    path: Path
    fd: int

    def child_env(self) -> dict[str, str]:
        """The environment entry that lets a child given ``pass_fds=(fd,)`` share this lock."""
        return {LOCK_FD_ENV: str(self.fd)}


@contextmanager
def hold_data_dir(data_dir: Path) -> Iterator[DataDirLock]:
    """Hold ``data_dir`` exclusively for the ``with`` block (the folder is created if needed).

    Raises :class:`DataDirInUse` when another process holds it, and StoreError when the lock
    file cannot be opened.
    """
    path = data_dir / LOCK_FILE
    fd = _inherited(path)
    inherited = fd is not None
    if fd is None:
        try:
            make_private_dir(data_dir)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as error:
            reason = Message(N_("cannot open the lock file: {reason}"), {"reason": error.strerror})
            raise StoreError(str(path), reason) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DataDirInUse(data_dir, _holder(fd)) from None
        if not inherited:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield DataDirLock(path, fd)
    finally:
        os.close(fd)  # the lock ends with the last descriptor of it (a child may hold one)


def _inherited(path: Path) -> int | None:
    """The descriptor of this lock file a parent box handed down, if any."""
    text = os.environ.get(LOCK_FD_ENV, "")
    if not text.isdigit():
        return None
    fd = int(text)
    try:
        held, wanted = os.fstat(fd), os.stat(path)
    except OSError:
        return None
    if (held.st_dev, held.st_ino) != (wanted.st_dev, wanted.st_ino):
        return None
    os.set_inheritable(fd, False)
    return fd


def _holder(fd: int) -> int | None:
    """The process id the holder wrote in the lock file."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
