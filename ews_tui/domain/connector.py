"""The Connector's pure rules (manual §7.12): source folders, destination keywords, schedule.

No clock and no I/O: ``now`` is a parameter. The service (``services/connector.py``) runs the
transfer; the config (``[connector]``) reads its keys with :func:`parse_sources`,
:func:`parse_day` and :func:`parse_hour`, which raise :class:`ConnectorValueError` carrying a
translatable :class:`Message`.

Keywords in the destination, replaced when the job runs: ``%date`` = yyyyMMddHHmm, ``%jour``
(alias ``%day``) = day of month 01–31, ``%dow`` = weekday in three lower-case English letters,
``%heure`` (alias ``%hour``) = hour 00–23.

The schedule is a day (``*``, a weekday ``mon``..``sun`` or a day of the month 1–31) and an
hour (``*`` or 0–23), minutes always :00, in the box's local time. A local hour that does not
exist (the spring DST gap) runs at the moment the clocks jump; a repeated one (autumn) runs
once at its first occurrence, except "every hour", which runs each real hour. A day 31 skips
the months that have none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from ews_tui.domain.events import Event
from ews_tui.domain.messages import N_, Message

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ANY = "*"
#: How far ahead :func:`next_run` looks (a day 31 finds a month within two months).
_HORIZON_DAYS = 400


class ConnectorMode(StrEnum):
    OFF = "off"
    SFTP = "sftp"
    SCP = "scp"


class ConnectorValueError(ValueError):
    """A connector setting refused; ``message`` says why, to translate at the edge."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.render())
        self.message = message


# --------------------------------------------------------------------------- source folders


def parse_sources(value: str | Sequence[str], valid: Sequence[str]) -> tuple[str, ...]:
    """The folder names of ``value`` (a list, or ``"energy, events"``), each once, in order.

    Empty means every folder: ``()``. An unknown name is refused with the valid ones."""
    words = value.split(",") if isinstance(value, str) else list(value)
    names: list[str] = []
    for word in words:
        if not isinstance(word, str):
            raise ConnectorValueError(Message(N_("{value} is not a folder name"), {"value": word}))
        name = word.strip().lower()
        if not name:
            continue
        if name not in valid:
            raise ConnectorValueError(
                Message(
                    N_("{value} is not a folder (valid: {allowed})"),
                    {"value": word.strip(), "allowed": ", ".join(valid)},
                )
            )
        if name not in names:
            names.append(name)
    return tuple(names)


def chosen_folders(sources: Sequence[str], valid: Sequence[str]) -> tuple[str, ...]:
    """The folders a run sends: ``sources``, or every valid folder when empty."""
    return tuple(sources) if sources else tuple(valid)


# --------------------------------------------------------------------------- keywords

_KEYWORD = re.compile(r"%(date|jour|day|dow|heure|hour)")


def expand_destination(template: str, now: datetime) -> str:
    """``template`` with its keywords replaced for the local time ``now``."""

    def value(match: re.Match[str]) -> str:
        word = match.group(1)
        if word == "date":
            return now.strftime("%Y%m%d%H%M")
        if word in ("jour", "day"):
            return f"{now.day:02d}"
        if word == "dow":
            return WEEKDAYS[now.weekday()]
        return f"{now.hour:02d}"

    return _KEYWORD.sub(value, template)


def zip_name(destination: str) -> str:
    """The SCP archive name: ``destination`` with ``.zip`` added when missing."""
    return destination if destination.lower().endswith(".zip") else destination + ".zip"


def check_destination(value: str) -> str:
    """A path relative to the remote home: refuse an absolute path, ``..`` and NUL."""
    text = value.strip()
    parts = [part for part in text.split("/") if part]
    if text.startswith("/") or ".." in parts or "\0" in text:
        raise ConnectorValueError(
            Message(N_("{value} is not a path inside the remote home"), {"value": value})
        )
    return "/".join(parts)


# --------------------------------------------------------------------------- schedule

Day = str | int  # "*", "mon".."sun", or 1..31
Hour = str | int  # "*" or 0..23


def parse_day(value: object) -> Day:
    """``*``, a weekday (``mon``..``sun``) or a day of the month 1–31 (number or digits)."""
    if isinstance(value, str):
        word = value.strip().lower()
        if word == ANY or word in WEEKDAYS:
            return word
        if word.isascii() and word.isdigit():
            value = int(word)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 31:
        return value
    raise ConnectorValueError(
        Message(N_("{value} is not *, a weekday (mon..sun) or a day 1..31"), {"value": value})
    )


def parse_hour(value: object) -> Hour:
    """``*`` or an hour 0–23 (number or digits)."""
    if isinstance(value, str):
        word = value.strip()
        if word == ANY:
            return word
        if word.isascii() and word.isdigit():
            value = int(word)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 23:
        return value
    raise ConnectorValueError(Message(N_("{value} is not * or an hour 0..23"), {"value": value}))


def _day_matches(day: Day, when: date) -> bool:
    if day == ANY:
        return True
    if isinstance(day, int):
        return when.day == day
    return WEEKDAYS[when.weekday()] == day


def _instants(when: date, hour: int, tz: ZoneInfo, *, repeated: bool) -> list[datetime]:
    """The UTC instants of local ``when`` ``hour``:00: a missing hour gives the moment the
    clocks jump; a repeated one its first occurrence, and its second when ``repeated``."""
    local = datetime.combine(when, time(hour), tzinfo=tz)
    first = local.astimezone(UTC)
    second = local.replace(fold=1).astimezone(UTC)
    if (
        repeated
        and second != first
        and second.astimezone(tz).replace(tzinfo=None) == (local.replace(tzinfo=None))
    ):
        return [first, second]
    return [first]


def next_run(day: Day, hour: Hour, after: datetime, tz: ZoneInfo) -> datetime:
    """The first scheduled instant strictly after ``after`` (aware), in UTC."""
    after_utc = after.astimezone(UTC)
    start = after_utc.astimezone(tz).date() - timedelta(days=1)
    hours = range(24) if hour == ANY else (int(hour),)
    for offset in range(_HORIZON_DAYS):
        when = start + timedelta(days=offset)
        if not _day_matches(day, when):
            continue
        for h in hours:
            for instant in _instants(when, h, tz, repeated=hour == ANY):
                if instant > after_utc:
                    return instant
    raise ConnectorValueError(Message(N_("the schedule never runs")))  # pragma: no cover


# --------------------------------------------------------------------------- methods

#: How a run sent (a log line's ``mode``): SFTP; SCP by the legacy protocol (``scp -t`` on
#: the server); SCP's zip over SFTP, for a server without an ``scp`` command.
SFTP_METHOD = "sftp"
LEGACY_SCP = "scp"
SFTP_SCP = "scp-sftp"
METHOD_LABELS = {
    SFTP_METHOD: N_("SFTP"),
    LEGACY_SCP: N_("SCP"),
    SFTP_SCP: N_("SCP over SFTP"),
}


def method_label(mode: str) -> str:
    """The msgid naming how a run sent (its log line's ``mode``)."""
    return METHOD_LABELS.get(mode, mode.upper())


# --------------------------------------------------------------------------- problems

#: Each problem of a transfer in plain words (the log and the event say these).
UNREACHABLE = N_("server unreachable")
AUTH_REFUSED = N_("authentication refused")
HOST_KEY_CHANGED = N_("host key changed: the transfer is refused until the new key is accepted")
HOST_KEY_UNKNOWN = N_("host key not accepted yet: accept the server's fingerprint first")
DISK_FULL = N_("disk full on the server")
#: OpenSSH's sftp-server answers a full disk with a generic failure and a folder it may not
#: write with "permission denied": one message that says only what is known.
WRITE_REFUSED = N_("the server refused to write: disk full or no permission")
PERMISSION_DENIED = N_("permission denied on the server")
TIMED_OUT = N_("the server did not answer in time")
LOCAL_READ = N_("cannot read a local file: {detail}")
FAILED = N_("transfer failed: {detail}")
NOT_CONFIGURED = N_("the Connector has no server address")


# --------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class ConnectorFailed(Event):
    """A transfer failed ("Connector transfer failed"); ``problem`` says why. It is retried
    with backoff until the next scheduled run. The alarm engine raises the "Connector
    transfer failed" alarm on it, cleared by :class:`ConnectorRecovered`."""

    problem: Message
    retry_in_s: float


@dataclass(frozen=True, slots=True)
class ConnectorRecovered(Event):
    """A transfer succeeded after one or more failures."""


@dataclass(frozen=True, slots=True)
class ConnectorSent(Event):
    """A transfer ended well: ``files`` sent, ``size`` bytes."""

    files: int
    size: int
