"""The box's secrets stay its own: the data dir 0700, the files it writes there 0600.

The database and its ``-wal`` hold the PIN and PUK hashes, the config the SSH password hashes
and the SMTP password, the host key is a key. Each is created with its mode set explicitly,
whatever the umask. A file already there keeps its mode (an administrator may have chosen
it): ``ews serve`` lists in its log those readable or writable by others
(:func:`wider_than_private`), so the administrator can ``chmod`` them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

PRIVATE_DIR: Final = 0o700
PRIVATE_FILE: Final = 0o600


def make_private_dir(path: Path) -> None:
    """Create the folder ``path`` (and missing parents) with mode 0700 when missing; an
    existing folder is left as it is. OSError when it cannot be made."""
    try:
        path.mkdir(mode=PRIVATE_DIR, parents=True)
    except FileExistsError:
        return
    os.chmod(path, PRIVATE_DIR)  # mkdir's mode went through the umask


def create_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 when missing (an existing file is untouched),
    so that what opens it next (SQLite, a log handler) does not create it 0644."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)


def open_private_append(path: Path) -> int:
    """A descriptor appending to ``path``, which is created 0600 when missing."""
    create_private_file(path)
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)


@dataclass(frozen=True)
class WideMode:
    """A file or folder of the box that others may read or write."""

    path: Path
    mode: int

    def __str__(self) -> str:
        wanted = PRIVATE_DIR if stat.S_ISDIR(self.mode) else PRIVATE_FILE
        return (
            f"{self.path} is mode {self.mode & 0o777:04o}: others may read it "
            f"(chmod {wanted:o} {self.path})"
        )


def wider_than_private(paths: Iterable[Path]) -> list[WideMode]:
    """Those of ``paths`` (files and folders of the box) that exist with a group or other
    permission bit; symbolic links are not followed."""
    found: list[WideMode] = []
    for path in dict.fromkeys(paths):
        try:
            mode = path.lstat().st_mode
        except OSError:
            continue
        if not stat.S_ISLNK(mode) and mode & 0o077:
            found.append(WideMode(path, mode))
    return found
