"""Serial-line settings that work on real ports and on pseudo-terminals alike.

Linux ptys refuse even/odd parity (``tcsetattr`` fails with EINVAL), yet trying the RTU path
without hardware means a pty pair. So a pty gets no parity (with a logged note) and keeps
everything else; a real port keeps every setting.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass, replace

log = logging.getLogger(__name__)

PTY_MAJORS = range(136, 144)  # Unix98 pty slaves (/dev/pts/N)
PARITIES = {"none": "N", "even": "E", "odd": "O", "N": "N", "E": "E", "O": "O"}


@dataclass(frozen=True)
class LineSettings:
    port: str
    baudrate: int = 19200
    parity: str = "E"  # N / E / O
    stopbits: int = 1
    bytesize: int = 8

    @property
    def bits_per_char(self) -> int:
        """Start bit, data bits, parity bit if any, stop bits: 11 for 8E1, 10 for 8N1."""
        return 1 + self.bytesize + (0 if self.parity == "N" else 1) + self.stopbits


def is_pty(port: str) -> bool:
    """True when ``port`` is a pseudo-terminal (directly or through a symlink made by socat)."""
    try:
        info = os.stat(port)
    except OSError:
        return False
    if not stat.S_ISCHR(info.st_mode):
        return False
    return os.major(info.st_rdev) in PTY_MAJORS or os.path.realpath(port).startswith("/dev/pts/")


def line_settings(
    port: str, baudrate: int = 19200, parity: str = "E", stopbits: int = 1
) -> LineSettings:
    """Settings to open ``port`` with; parity dropped on a pty (which cannot set it)."""
    settings = LineSettings(port, baudrate, PARITIES.get(parity, parity), stopbits)
    if settings.parity != "N" and is_pty(port):
        log.info(
            "%s is a pseudo-terminal: parity %s is not applied (ptys refuse it)",
            port,
            settings.parity,
        )
        return replace(settings, parity="N")
    return settings
