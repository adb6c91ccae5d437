"""The box watching itself, pure: disk levels with their hysteresis, clock jumps, the
heartbeat marker read back whatever the file holds."""

from __future__ import annotations

import pytest

from ews_tui.domain.system_watch import (
    MB,
    ClockReading,
    DiskLevel,
    DiskLimits,
    DiskSpace,
    Heartbeat,
    clock_jump,
    disk_level,
    jump_text,
)

GB = 1024 * MB
LIMITS = DiskLimits(warning_percent=10, warning_mb=500, critical_percent=2, hysteresis_percent=2)


def level(free_gb: float, was: DiskLevel, total_gb: float = 100) -> DiskLevel:
    return disk_level(DiskSpace(int(free_gb * GB), int(total_gb * GB)), LIMITS, was)


@pytest.mark.parametrize(
    ("free_gb", "was", "expected"),
    [
        (50, DiskLevel.OK, DiskLevel.OK),
        (9.9, DiskLevel.OK, DiskLevel.WARNING),
        (1.9, DiskLevel.OK, DiskLevel.CRITICAL),
        (3.9, DiskLevel.CRITICAL, DiskLevel.CRITICAL),  # not back by 2 % yet
        (4.0, DiskLevel.CRITICAL, DiskLevel.WARNING),
        (11.9, DiskLevel.WARNING, DiskLevel.WARNING),
        (12.0, DiskLevel.WARNING, DiskLevel.OK),
        (12.0, DiskLevel.CRITICAL, DiskLevel.OK),
        (10.5, DiskLevel.OK, DiskLevel.OK),  # hysteresis only on the way back
    ],
)
def test_disk_levels(free_gb: float, was: DiskLevel, expected: DiskLevel) -> None:
    assert level(free_gb, was) is expected


def test_a_small_disk_warns_below_500_mb_and_an_empty_one_is_critical() -> None:
    assert level(0.45, DiskLevel.OK, total_gb=2) is DiskLevel.WARNING  # 22 % free, < 500 MB
    assert disk_level(DiskSpace(0, 8 * GB), LIMITS, DiskLevel.OK) is DiskLevel.CRITICAL


def test_clock_jumps_either_way_beyond_the_limit() -> None:
    before = ClockReading(1000.0, 50.0)
    assert clock_jump(before, ClockReading(1060.5, 110.0), 60) is None
    assert clock_jump(before, ClockReading(1000.0 + 60 + 3600, 110.0), 60) == 3600
    assert clock_jump(before, ClockReading(1000.0 + 60 - 61, 110.0), 60) == -61
    assert clock_jump(before, ClockReading(float("nan"), 110.0), 60) is None


@pytest.mark.parametrize(
    ("jump", "text"),
    [(3600, "+1 h 00 min 00 s"), (-125, "-2 min 05 s"), (61.4, "+1 min 01 s"),
     (-59, "-59 s"), (90000, "+1 d 01 h 00 min")],
)  # fmt: skip
def test_jump_text(jump: float, text: str) -> None:
    assert jump_text(jump) == text


def test_heartbeat_round_trip_and_garbage() -> None:
    beat = Heartbeat(10.0, 70.5, clean=False)
    assert Heartbeat.loads(beat.dumps()) == beat
    garbage = (
        "",
        "{",
        "[]",
        '{"started": 1}',
        '{"started": "a", "seen": 1, "clean": true}',
        '{"started": 1, "seen": true, "clean": true}',
        '{"started": 1, "seen": 2, "clean": 1}',
    )
    for text in garbage:
        assert Heartbeat.loads(text) is None, text
