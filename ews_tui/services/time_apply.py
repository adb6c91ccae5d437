"""The box's date and time really applied (manual §7.9): ``time.backend``.

``none``: the time zone and the NTP settings stay in ``config.toml`` (the page says "not
applied"), and the clock cannot be set from the UI.
``systemd-timesyncd``: saving writes ``<timesyncd_dir>/10-ews.conf`` (``[Time] NTP=<server>``)
atomically, then runs ``timedatectl set-timezone <zone>``, ``timedatectl set-ntp true|false``
and, with NTP on, ``systemctl try-restart systemd-timesyncd.service`` (a running timesyncd
reads its drop-ins only when it starts). A date and time entered by hand is set with
``timedatectl set-time``, given in UTC so that it does not depend on the zone systemd had;
systemd refuses it while NTP is on, so the page asks to switch NTP off first.
Every command goes through the :class:`~ews_tui.services.system_commands.CommandRunner`;
the result names the step that failed and why.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

from ews_tui.atomic_file import write_atomically
from ews_tui.config import TimeBackend, TimeSettings
from ews_tui.domain.messages import N_, Message
from ews_tui.services.system_commands import CommandRunner

log = logging.getLogger(__name__)

DROP_IN = "10-ews.conf"
MANUAL_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")
TIMESYNCD_UNIT = "systemd-timesyncd.service"


class TimeState(StrEnum):
    STORED_ONLY = "stored-only"  # backend none
    PENDING = "pending"  # nothing applied by this run yet
    APPLIED = "applied"
    FAILED = "failed"


@dataclass(frozen=True)
class TimeResult:
    """What the time backend did, and where it stopped if it failed (``step``: the file or
    the command line; ``error``: why)."""

    backend: TimeBackend
    state: TimeState
    file: Path | None = None
    step: str = ""
    error: Message | None = None

    @property
    def applied(self) -> bool:
        return self.state is TimeState.APPLIED


class ManualTimeError(ValueError):
    """A date and time typed by hand that cannot be set; ``message`` says why."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.msgid)
        self.message = message


def timesyncd_file(settings: TimeSettings) -> Path:
    return settings.timesyncd_dir / DROP_IN


def timesyncd_text(settings: TimeSettings) -> str:
    """The timesyncd drop-in naming the configured NTP server."""
    lines = [
        "# Written by ews-tui (Server settings > Date and time). Changes here are overwritten.",
        "[Time]",
    ]
    if settings.ntp_server:
        lines.append(f"NTP={settings.ntp_server}")
    return "\n".join(lines) + "\n"


def time_status(settings: TimeSettings) -> TimeResult:
    """What the backend would say before this run applied anything."""
    if settings.backend is TimeBackend.NONE:
        return TimeResult(settings.backend, TimeState.STORED_ONLY)
    return TimeResult(settings.backend, TimeState.PENDING, timesyncd_file(settings))


def _write_drop_in(settings: TimeSettings) -> None:
    target = timesyncd_file(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    # systemd-timesyncd runs as its own user: the file must be readable by others.
    write_atomically(target, timesyncd_text(settings).encode("utf-8"), new_mode=0o644)


async def apply_time(settings: TimeSettings, runner: CommandRunner) -> TimeResult:
    """Hand the saved time zone and NTP settings to the backend."""
    backend = settings.backend
    if backend is TimeBackend.NONE:
        return TimeResult(backend, TimeState.STORED_ONLY)
    target = timesyncd_file(settings)
    try:
        await asyncio.to_thread(_write_drop_in, settings)
    except OSError as error:
        log.error("cannot write %s: %s", target, error)
        reason = Message(N_("cannot write it: {error}"), {"error": error.strerror or str(error)})
        return TimeResult(backend, TimeState.FAILED, target, str(target), reason)
    commands = [
        ("timedatectl", "set-timezone", settings.timezone),
        ("timedatectl", "set-ntp", "true" if settings.ntp_enabled else "false"),
    ]
    if settings.ntp_enabled:
        commands.append(("systemctl", "try-restart", TIMESYNCD_UNIT))
    for argv in commands:
        result = await runner.run(*argv)
        if not result.ok:
            return TimeResult(backend, TimeState.FAILED, target, result.command, result.reason)
    log.info("time settings applied: zone %s, NTP %s", settings.timezone, settings.ntp_enabled)
    return TimeResult(backend, TimeState.APPLIED, target)


def parse_manual_time(text: str, timezone: str) -> datetime:
    """``YYYY-MM-DD HH:MM[:SS]`` in the box's time zone, as an aware datetime.

    ManualTimeError when it is not one, or when that local time does not exist (the hour
    skipped when the clocks go forward)."""
    word = " ".join(text.split())
    for form in MANUAL_FORMATS:
        try:
            naive = datetime.strptime(word, form)
        except ValueError:
            continue
        break
    else:
        raise ManualTimeError(
            Message(N_("{value} is not a date and time (YYYY-MM-DD HH:MM:SS)"), {"value": text})
        )
    zone = ZoneInfo(timezone)
    local = naive.replace(tzinfo=zone)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise ManualTimeError(
            Message(
                N_("{value} does not exist in {zone} (the clocks go forward then)"),
                {"value": word, "zone": timezone},
            )
        )
    return local


async def set_clock(settings: TimeSettings, moment: datetime, runner: CommandRunner) -> TimeResult:
    """Set the box's clock to ``moment`` (aware) with ``timedatectl set-time``."""
    backend = settings.backend
    if backend is TimeBackend.NONE:
        return TimeResult(
            backend,
            TimeState.FAILED,
            error=Message(N_("the time backend is none: the clock is set outside ews-tui")),
        )
    if settings.ntp_enabled:
        return TimeResult(
            backend,
            TimeState.FAILED,
            error=Message(N_("automatic time setting is ON: switch it OFF and save first")),
        )
    utc = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    result = await runner.run("timedatectl", "set-time", utc)
    if not result.ok:
        return TimeResult(backend, TimeState.FAILED, step=result.command, error=result.reason)
    log.info("clock set by hand to %s", utc)
    return TimeResult(backend, TimeState.APPLIED, timesyncd_file(settings))


__all__ = [
    "ManualTimeError",
    "TimeResult",
    "TimeState",
    "apply_time",
    "parse_manual_time",
    "set_clock",
    "time_status",
    "timesyncd_file",
    "timesyncd_text",
]
