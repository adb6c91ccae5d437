"""The time backend: the timesyncd drop-in and timedatectl through the runner; a date and
time typed by hand checked in the box's zone and set in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ews_tui.config import default_config, save_config
from ews_tui.hub import Hub
from ews_tui.services.settings import SettingsService
from ews_tui.services.time_apply import ManualTimeError, TimeState, parse_manual_time
from tests.services.command_fixtures import RecordingRunner


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    save_config(default_config(tmp_path / "data"), path)
    return path


async def _timesyncd(config_path: Path, runner: RecordingRunner) -> SettingsService:
    service = SettingsService(config_path, Hub(), runner=runner)
    folder = config_path.parent / "timesyncd.conf.d"
    await service.apply({"time.backend": "systemd-timesyncd", "time.timesyncd_dir": str(folder)})
    runner.calls.clear()
    return service


async def test_backend_none_stores_only(config_path: Path) -> None:
    runner = RecordingRunner()
    service = SettingsService(config_path, Hub(), runner=runner)
    assert service.time_status().state is TimeState.STORED_ONLY
    await service.apply({"time.ntp_enabled": True, "time.timezone": "Europe/Brussels"})
    assert service.time_status().state is TimeState.STORED_ONLY
    moment = datetime(2026, 3, 1, 12, tzinfo=UTC)
    refused = await service.set_clock(moment)
    assert refused.state is TimeState.FAILED
    assert str(refused.error) == "the time backend is none: the clock is set outside ews-tui"
    assert runner.calls == []


async def test_ntp_on_writes_the_drop_in_and_runs_timedatectl(config_path: Path) -> None:
    runner = RecordingRunner()
    service = await _timesyncd(config_path, runner)
    assert service.time_status().state is TimeState.APPLIED
    await service.apply(
        {"time.ntp_enabled": True, "time.ntp_server": "ntp.example.net", "time.timezone": "UTC"}
    )
    status = service.time_status()
    assert status.applied and status.file is not None
    assert status.file == config_path.parent / "timesyncd.conf.d" / "10-ews.conf"
    assert status.file.read_text().endswith("[Time]\nNTP=ntp.example.net\n")
    assert status.file.stat().st_mode & 0o777 == 0o644
    assert runner.calls == [
        ("timedatectl", "set-timezone", "UTC"),
        ("timedatectl", "set-ntp", "true"),
        ("systemctl", "try-restart", "systemd-timesyncd.service"),
    ]


async def test_ntp_off_stops_timesyncd(config_path: Path) -> None:
    runner = RecordingRunner()
    service = await _timesyncd(config_path, runner)
    await service.apply({"time.timezone": "Europe/Brussels"})
    assert runner.calls == [
        ("timedatectl", "set-timezone", "Europe/Brussels"),
        ("timedatectl", "set-ntp", "false"),
    ]


async def test_a_refused_command_is_shown_and_can_be_retried(config_path: Path) -> None:
    runner = RecordingRunner(
        {("timedatectl", "set-ntp"): (1, "Failed to set ntp: NTP not supported")}
    )
    service = await _timesyncd(config_path, runner)
    assert service.time_status().state is TimeState.FAILED
    await service.apply({"time.ntp_enabled": True})
    status = service.time_status()
    assert status.state is TimeState.FAILED
    assert status.step == "timedatectl set-ntp true"
    assert str(status.error) == "exit status 1: Failed to set ntp: NTP not supported"
    assert ("systemctl", "try-restart", "systemd-timesyncd.service") not in runner.calls
    runner.fail.clear()
    assert (await service.reapply_time()).applied


async def test_the_clock_set_by_hand_in_utc(config_path: Path) -> None:
    runner = RecordingRunner()
    service = await _timesyncd(config_path, runner)
    moment = parse_manual_time("2026-07-14 09:30", "Europe/Paris")
    result = await service.set_clock(moment)
    assert result.applied
    assert runner.calls == [("timedatectl", "set-time", "2026-07-14 07:30:00 UTC")]


async def test_the_clock_is_not_set_while_ntp_is_on(config_path: Path) -> None:
    runner = RecordingRunner()
    service = await _timesyncd(config_path, runner)
    await service.apply({"time.ntp_enabled": True})
    runner.calls.clear()
    result = await service.set_clock(datetime(2026, 1, 1, tzinfo=UTC))
    assert str(result.error) == "automatic time setting is ON: switch it OFF and save first"
    assert runner.calls == []


async def test_a_refused_set_time_says_why(config_path: Path) -> None:
    runner = RecordingRunner({("timedatectl", "set-time"): (1, "Access denied")})
    service = await _timesyncd(config_path, runner)
    result = await service.set_clock(datetime(2026, 1, 1, tzinfo=UTC))
    assert result.state is TimeState.FAILED and result.step.startswith("timedatectl set-time")
    assert str(result.error) == "exit status 1: Access denied"


def test_manual_time_is_read_in_the_zone() -> None:
    moment = parse_manual_time(" 2026-01-15  08:00:05 ", "Europe/Brussels")
    assert moment.astimezone(UTC) == datetime(2026, 1, 15, 7, 0, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("15/01/2026 08:00", "15/01/2026 08:00 is not a date and time (YYYY-MM-DD HH:MM:SS)"),
        ("2026-02-30 08:00", "2026-02-30 08:00 is not a date and time (YYYY-MM-DD HH:MM:SS)"),
        (
            "2026-03-29 02:30",
            "2026-03-29 02:30 does not exist in Europe/Paris (the clocks go forward then)",
        ),
    ],
)
def test_manual_time_refused(text: str, message: str) -> None:
    with pytest.raises(ManualTimeError) as refused:
        parse_manual_time(text, "Europe/Paris")
    assert str(refused.value.message) == message
