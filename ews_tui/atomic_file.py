"""Writing a file so that a reader sees the old content or the new, never a mix.

A temp file in the same folder, fsync, rename over the target, fsync of the folder. The
target's permission bits are kept; a new file gets ``new_mode`` (0600 unless said otherwise:
the box's files are its own), whatever the umask. On any failure the old
file is untouched and no temp file is left behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def write_atomically(path: Path, data: bytes, *, new_mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` atomically; OSError on failure (nothing changed)."""
    with open_atomically(path, new_mode=new_mode) as temp:
        temp.write(data)


@contextmanager
def open_atomically(path: Path, *, new_mode: int = 0o600) -> Iterator[BinaryIO]:
    """A binary file to write ``path``'s new content into, for data too large to hold in
    memory as well: the target is replaced when the block ends, and left untouched (no temp
    file behind) when it raises."""
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = new_mode
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as temp:
            os.fchmod(temp.fileno(), mode)
            yield temp
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
