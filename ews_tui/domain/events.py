"""The typed events carried by the Hub: frozen values, no behaviour, no asyncio.

Producers (pollers, jobs, the runtime) build them and publish them; consumers (recorder,
alarm engine, UI sessions) match on their class. Subscribing to a base class receives its
subclasses, so ``Event`` is "everything".

An event is handed over on publish: a producer must not mutate anything it put inside one
(``Sample.values`` in particular) afterwards, since every subscriber sees the same object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from ews_tui.domain.messages import Message


class DeviceState(StrEnum):
    """A device's state as the manual shows it next to its name."""

    ON = "on"
    OFF = "off"
    COMM_ERROR = "comm_error"
    CONFIG_ERROR = "config_error"


class GatewayState(StrEnum):
    """A gateway's state as the manual shows it on its selection button."""

    ON = "on"
    OFF = "off"
    COMM_ERROR = "comm_error"


@dataclass(frozen=True, slots=True)
class Event:
    """Base class of every event the Hub carries."""


@dataclass(frozen=True, slots=True)
class Sample(Event):
    """One device's decoded quantities from one poll.

    ``values`` maps a quantity key of the catalog to its value; ``None`` means the
    quantity is missing in this poll (never a stale number). ``ts`` is Unix seconds.
    """

    device_id: int
    ts: float
    values: Mapping[str, float | str | None]


@dataclass(frozen=True, slots=True)
class DeviceStateChanged(Event):
    """A device went on, off, silent, or is misconfigured; ``detail`` says why."""

    device_id: int
    state: DeviceState
    detail: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", DeviceState(self.state))


@dataclass(frozen=True, slots=True)
class GatewayStateChanged(Event):
    """A gateway went on, off or silent; ``detail`` says why."""

    gateway_id: int
    state: GatewayState
    detail: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", GatewayState(self.state))


@dataclass(frozen=True, slots=True)
class InstallationChanged(Event):
    """The installation in the store was saved; readers reload at ``revision``."""

    revision: int


@dataclass(frozen=True, slots=True)
class SettingsChanged(Event):
    """A section of the box settings (``"rs485"``, ``"smtp"``, ...) was saved."""

    section: str


@dataclass(frozen=True, slots=True)
class Progress(Event):
    """Progress of a long job (export, connector push, EN 50160 week).

    ``total`` is ``None`` while the amount of work is unknown.
    """

    job: str
    done: int
    total: int | None = None
    detail: str = ""

    def __post_init__(self) -> None:
        if self.done < 0:
            raise ValueError(f"Progress({self.job!r}).done: {self.done} is negative")
        if self.total is not None and self.total < 0:
            raise ValueError(f"Progress({self.job!r}).total: {self.total} is negative")

    @property
    def fraction(self) -> float | None:
        """Share of the work done, in [0, 1]; ``None`` when the total is unknown."""
        if self.total is None:
            return None
        if self.total == 0:
            return 1.0
        return min(self.done / self.total, 1.0)

    @property
    def finished(self) -> bool:
        """True once ``done`` reached a known ``total``."""
        return self.total is not None and self.done >= self.total


# -- system events (supervision and queues): the alarms list shows them ------------------------


@dataclass(frozen=True, slots=True)
class SystemEvent(Event):
    """Base class of the box's own news (a service or a queue in trouble, and back)."""


@dataclass(frozen=True, slots=True)
class TaskFailed(SystemEvent):
    """A task owned by the runtime crashed (logged with its traceback; restarted if supervised)."""

    task: str
    error: str


@dataclass(frozen=True, slots=True)
class ServiceFailed(SystemEvent):
    """A supervised service kept crashing (``crashes`` in a row): it is marked failed.

    It is still restarted, at the longest backoff; :class:`ServiceRecovered` says when it
    runs again.
    """

    service: str
    error: str
    crashes: int


@dataclass(frozen=True, slots=True)
class ServiceRecovered(SystemEvent):
    """A service that had crashed has run long enough since its restart to count as well."""

    service: str


@dataclass(frozen=True, slots=True)
class En50160Checked(Event):
    """A gateway's EQ device week was judged: ``verdict`` is "ok", "ko" or "insufficient"
    (:class:`~ews_tui.domain.en50160.WeekVerdict`); ``week_start``: Monday 00:00 local."""

    gateway_id: int
    week_start: int
    verdict: str


@dataclass(frozen=True, slots=True)
class ServiceDegraded(SystemEvent):
    """A service runs but cannot do all its job (the store refuses the recorder's writes):
    ``problem`` says what, to translate. :class:`ServiceRecovered` says when it can again."""

    service: str
    problem: Message


@dataclass(frozen=True, slots=True)
class UserModelSkipped(SystemEvent):
    """A user device-model file (``models/foo.toml``) was not loaded at start: ``where`` is
    the place of its fault in it (``maps[0].quantities[3].unit``, ``3:9``; empty: the whole
    file), ``problem`` what is wrong, to translate. Published once per file per start."""

    file: str
    where: str
    problem: Message


@dataclass(frozen=True, slots=True)
class QueueBehind(SystemEvent):
    """A lossless subscription passed its high-water mark: its reader is falling behind."""

    subscription: str
    queued: int


@dataclass(frozen=True, slots=True)
class QueueCaughtUp(SystemEvent):
    """A subscription that was falling behind is back under half its high-water mark."""

    subscription: str


@dataclass(frozen=True, slots=True)
class EventDropped(SystemEvent):
    """A follower crashed twice on the same event: that one event was dropped (and counted)."""

    subscription: str
    event: str


# -- security events (logins): the alarms list shows them --------------------------------------


@dataclass(frozen=True, slots=True)
class SecurityEvent(SystemEvent):
    """Base class of the login news; ``source`` is who tried (``ssh:alice@10.0.0.5``,
    ``console:/dev/ttyS0``, ``kiosk:/dev/tty1``). Codes are never carried."""

    source: str


@dataclass(frozen=True, slots=True)
class LoginFailed(SecurityEvent):
    """A wrong PIN or PUK, or a refused PIN change, from ``source``: ``failures`` in a row.

    ``role`` is the role named by a right PIN, when there was one. ``reason`` is one of
    ``wrong_pin``, ``wrong_puk``, ``wrong_old_code``, ``pin_taken``, ``puk_taken``.
    """

    role: str | None
    reason: str
    failures: int


@dataclass(frozen=True, slots=True)
class LoginSucceeded(SecurityEvent):
    """``source`` logged in as ``role`` (or unlocked its PIN entry with ``role``'s PUK)."""

    role: str


@dataclass(frozen=True, slots=True)
class SourceLocked(SecurityEvent):
    """``source`` reached the failure limit: PINs refused from it until a PUK is given
    (``blocked``: everything refused until ``ews auth reset`` on the box)."""

    failures: int
    blocked: bool = False


# -- mail (the notification outbox): the alarms list shows the failures ----------------------


@dataclass(frozen=True, slots=True)
class MailQueued(Event):
    """Notices were queued in the outbox and committed: the mailer looks at once."""


@dataclass(frozen=True, slots=True)
class MailFailing(SystemEvent):
    """The SMTP server could not take the queued mail (``reason`` in plain words); published
    once when the trouble starts, the mail is retried with backoff and nothing is lost."""

    server: str
    reason: str
    queued: int


@dataclass(frozen=True, slots=True)
class MailRecovered(SystemEvent):
    """The SMTP server took a mail again after :class:`MailFailing`."""

    server: str


@dataclass(frozen=True, slots=True)
class MailRefused(SystemEvent):
    """The server refused one mail for good (5xx on its recipient or content): not retried."""

    recipient: str
    reason: str


# -- the box itself (disk, clock, start and stop): the alarms list shows them -----------------


@dataclass(frozen=True, slots=True)
class DiskLow(SystemEvent):
    """The filesystem of ``path`` (the data dir) has little room left: ``level`` is
    ``"warning"`` or ``"critical"``; published when the level changes."""

    path: str
    level: str
    free_bytes: int
    total_bytes: int


@dataclass(frozen=True, slots=True)
class DiskRecovered(SystemEvent):
    """The filesystem of ``path`` has room again (above the warning level and its hysteresis)."""

    path: str
    free_bytes: int
    total_bytes: int


@dataclass(frozen=True, slots=True)
class ClockJumped(SystemEvent):
    """The wall clock moved ``jump_s`` seconds more than the monotonic clock between two
    checks (positive: forward, negative: back), from ``wall_before`` to ``wall_after``."""

    jump_s: float
    wall_before: float
    wall_after: float


@dataclass(frozen=True, slots=True)
class BoxStarted(SystemEvent):
    """The box started. ``unexpected_stop``: its previous run did not stop cleanly (power cut,
    ``kill -9``), last seen alive at ``last_seen``; ``last_seen`` is None on a first start."""

    unexpected_stop: bool
    last_seen: float | None = None


@dataclass(frozen=True, slots=True)
class BoxStopping(SystemEvent):
    """The box is stopping cleanly (published before the services stop)."""
