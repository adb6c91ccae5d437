"""The box watching itself (pure): the room left on the data dir's disk, a jump of the wall
clock, and whether the previous run stopped cleanly (its heartbeat marker).

- Disk: ``warning`` below ``warning_percent`` of the disk or ``warning_mb`` free, whichever
  is more room; ``critical`` below ``critical_percent``. A level is left only once the free
  room is back above its limit by ``hysteresis_percent`` of the disk, so a disk that hovers
  at the limit raises one alarm, not one a minute.
- Clock: between two checks the wall clock should move as the monotonic clock does; a
  difference beyond ``jump_s`` either way is a jump of that size.
- Heartbeat: a small JSON file in the data dir says when the running box was last seen
  alive and whether it stopped cleanly.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import StrEnum

MB = 1024 * 1024


class DiskLevel(StrEnum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class DiskSpace:
    """Bytes free (for an unprivileged writer) and the size of a filesystem."""

    free: int
    total: int

    @property
    def free_percent(self) -> float:
        return 100.0 * self.free / self.total if self.total > 0 else 0.0


@dataclass(frozen=True)
class DiskLimits:
    """When the data dir's disk is "almost full" (config ``[system]``)."""

    warning_percent: float = 10.0
    warning_mb: int = 500
    critical_percent: float = 2.0
    hysteresis_percent: float = 2.0

    def warning_bytes(self, total: int) -> float:
        return max(total * self.warning_percent / 100.0, self.warning_mb * MB)

    def critical_bytes(self, total: int) -> float:
        return total * self.critical_percent / 100.0

    def hysteresis_bytes(self, total: int) -> float:
        return total * self.hysteresis_percent / 100.0


def disk_level(space: DiskSpace, limits: DiskLimits, was: DiskLevel) -> DiskLevel:
    """The level of ``space`` given the level it ``was`` at (hysteresis on the way back)."""
    total, free = space.total, space.free
    warning, critical = limits.warning_bytes(total), limits.critical_bytes(total)
    back = limits.hysteresis_bytes(total)
    if free < critical:
        return DiskLevel.CRITICAL
    if was is DiskLevel.CRITICAL and free < critical + back:
        return DiskLevel.CRITICAL
    if free < warning:
        return DiskLevel.WARNING
    if was is not DiskLevel.OK and free < warning + back:
        return DiskLevel.WARNING
    return DiskLevel.OK


@dataclass(frozen=True)
class ClockReading:
    """The wall clock (Unix seconds) and the monotonic clock read at the same moment."""

    wall: float
    mono: float


def clock_jump(before: ClockReading, after: ClockReading, limit_s: float) -> float | None:
    """Seconds the wall clock jumped between two readings (positive: forward), or None
    when it moved within ``limit_s`` of the monotonic clock."""
    jump = (after.wall - before.wall) - (after.mono - before.mono)
    if not math.isfinite(jump) or abs(jump) <= limit_s:
        return None
    return jump


def jump_text(jump_s: float) -> str:
    """``+1 h 02 min 05 s``, ``-75 s``: a jump's size, signed, in plain units."""
    sign = "+" if jump_s >= 0 else "-"
    seconds = round(abs(jump_s))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days} d {hours:02d} h {minutes:02d} min"
    if hours:
        return f"{sign}{hours} h {minutes:02d} min {secs:02d} s"
    if minutes:
        return f"{sign}{minutes} min {secs:02d} s"
    return f"{sign}{secs} s"


@dataclass(frozen=True)
class Heartbeat:
    """The running box's marker: started at ``started``, last seen alive at ``seen``;
    ``clean``: it stopped cleanly (written last, at stop)."""

    started: float
    seen: float
    clean: bool = False

    def dumps(self) -> str:
        return json.dumps({"started": self.started, "seen": self.seen, "clean": self.clean})

    @classmethod
    def loads(cls, text: str) -> Heartbeat | None:
        """The marker read back; None when it is not one (a torn or foreign file)."""
        try:
            data = json.loads(text)
            started, seen, clean = data["started"], data["seen"], data["clean"]
        except (ValueError, TypeError, KeyError):
            return None
        numbers = all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in (started, seen)
        )
        if not numbers or not isinstance(clean, bool):
            return None
        return cls(float(started), float(seen), clean)
