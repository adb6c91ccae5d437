"""Alarms: event types, severities, the alarm record and the book that raises, clears and
acknowledges them. Pure values and rules: no clock (``at``/``now`` are parameters), no I/O.

An alarm concerns one :class:`Subject` (a gateway, a device, a device's input, a circuit, a
zone, the site, or the box itself) and has one :class:`AlarmType` (a stable id such as
``device.comm_error``, stored and used in CSV, JSON and notification settings) with its
default :class:`Severity`.

Sources (:mod:`ews_tui.domain.alarm_sources`) turn hub events into :class:`Raise` and
:class:`Clear` changes. The :class:`AlarmBook` keeps the open alarms and plans what a batch
of changes does (:meth:`AlarmBook.plan`): the rows to write and the :class:`Transition`
each change made. The engine writes the plan in one transaction, then commits it to the
book (commit, then remember).

- A condition (``momentary=False``) is raised, then cleared. Raising it while it is active
  changes nothing (it only confirms it after a restart).
- A momentary event (an input that changed, a failed login) is raised and cleared at once.
- Acknowledging is separate from clearing: an alarm is *closed* once cleared and
  acknowledged.
- Flapping: a change that raises again an alarm that is cleared but not yet acknowledged,
  within ``flap_window_s`` of its last raise, reopens it and adds one to its ``count``: a
  condition that flaps is one alarm with a count, not a row per flap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum, StrEnum
from typing import Literal

from ews_tui.domain.auth import Role
from ews_tui.domain.events import Event
from ews_tui.domain.messages import N_

#: Seconds after its last raise during which a cleared, unacknowledged alarm is reopened.
FLAP_WINDOW_S = 3600.0


class Severity(IntEnum):
    """How bad an alarm is; ordered (``>=`` compares), stored by :attr:`key`."""

    INFO = 1
    WARNING = 2
    MAJOR = 3
    CRITICAL = 4

    @property
    def key(self) -> str:
        return self.name.lower()

    @classmethod
    def from_key(cls, key: str) -> Severity:
        return cls[key.upper()]

    @property
    def word(self) -> str:
        """The severity as a msgid (translate where shown)."""
        return SEVERITY_WORDS[self]

    @property
    def symbol(self) -> str:
        """One character readable without colour."""
        return SEVERITY_SYMBOLS[self]


SEVERITY_WORDS: dict[Severity, str] = {
    Severity.INFO: N_("info"),
    Severity.WARNING: N_("warning"),
    Severity.MAJOR: N_("major"),
    Severity.CRITICAL: N_("critical"),
}
SEVERITY_SYMBOLS: dict[Severity, str] = {
    Severity.INFO: "i",
    Severity.WARNING: "!",
    Severity.MAJOR: "‼",
    Severity.CRITICAL: "×",
}


class AlarmType(StrEnum):
    """Stable ids of the event types (stored; used by notification settings and the CLI)."""

    GATEWAY_COMM_ERROR = "gateway.comm_error"
    DEVICE_COMM_ERROR = "device.comm_error"
    DEVICE_CONFIG_ERROR = "device.config_error"
    BREAKER_OPEN = "breaker.open"
    BREAKER_TRIPPED = "breaker.tripped"
    CHARGER_FAULT = "charger.fault"
    INPUT_CHANGED = "input.changed"
    THRESHOLD = "threshold"
    SERVICE_FAILED = "system.service_failed"
    TASK_CRASHED = "system.task_crashed"
    QUEUE_BEHIND = "system.queue_behind"
    EVENT_DROPPED = "system.event_dropped"
    MAIL_FAILING = "system.mail"  # never mailed about itself (notifications.MAIL_FAILING_TYPE)
    MAIL_REFUSED = "system.mail_refused"
    LOGIN_FAILED = "security.login_failed"
    SOURCE_LOCKED = "security.source_locked"
    # Reserved for later issues: their sources are not written yet.
    EN50160_WEEK_KO = "en50160.week_ko"
    CONNECTOR_TRANSFER_FAILED = "connector.transfer_failed"
    # The box itself.
    SERVICE_DEGRADED = "system.service_degraded"
    DISK_LOW = "system.disk_low"
    CLOCK_JUMPED = "system.clock_jumped"
    BOX_STARTED = "system.started"
    BOX_STOPPED = "system.stopped"
    UNEXPECTED_STOP = "system.unexpected_stop"
    USER_MODEL_SKIPPED = "system.user_model_skipped"


@dataclass(frozen=True)
class TypeInfo:
    """What every alarm of a type shares: its label (msgid), default severity, and whether
    it is a momentary event (raised and cleared at once) rather than a condition."""

    label: str
    severity: Severity
    momentary: bool = False


TYPES: dict[AlarmType, TypeInfo] = {
    AlarmType.GATEWAY_COMM_ERROR: TypeInfo(N_("Gateway comm. error"), Severity.MAJOR),
    AlarmType.DEVICE_COMM_ERROR: TypeInfo(N_("Device comm. error"), Severity.MAJOR),
    AlarmType.DEVICE_CONFIG_ERROR: TypeInfo(N_("Configuration error"), Severity.WARNING),
    AlarmType.BREAKER_OPEN: TypeInfo(N_("Breaker open"), Severity.WARNING),
    AlarmType.BREAKER_TRIPPED: TypeInfo(N_("Breaker tripped"), Severity.CRITICAL),
    AlarmType.CHARGER_FAULT: TypeInfo(N_("Charger fault"), Severity.MAJOR),
    AlarmType.INPUT_CHANGED: TypeInfo(N_("Input changed"), Severity.INFO, momentary=True),
    AlarmType.THRESHOLD: TypeInfo(N_("Threshold crossed"), Severity.WARNING),
    AlarmType.SERVICE_FAILED: TypeInfo(N_("Service failed"), Severity.CRITICAL),
    AlarmType.TASK_CRASHED: TypeInfo(N_("Service restarted"), Severity.WARNING, momentary=True),
    AlarmType.QUEUE_BEHIND: TypeInfo(N_("Recording falling behind"), Severity.MAJOR),
    AlarmType.EVENT_DROPPED: TypeInfo(N_("Event dropped"), Severity.MAJOR, momentary=True),
    AlarmType.MAIL_FAILING: TypeInfo(N_("Alarm mails not sent"), Severity.MAJOR),
    AlarmType.MAIL_REFUSED: TypeInfo(N_("Alarm mail refused"), Severity.WARNING, momentary=True),
    AlarmType.LOGIN_FAILED: TypeInfo(N_("Login failed"), Severity.INFO, momentary=True),
    AlarmType.SOURCE_LOCKED: TypeInfo(N_("Login locked"), Severity.MAJOR, momentary=True),
    AlarmType.EN50160_WEEK_KO: TypeInfo(N_("EN 50160 week not compliant"), Severity.WARNING),
    AlarmType.CONNECTOR_TRANSFER_FAILED: TypeInfo(N_("Connector transfer failed"), Severity.MAJOR),
    AlarmType.SERVICE_DEGRADED: TypeInfo(N_("Service degraded"), Severity.MAJOR),
    AlarmType.DISK_LOW: TypeInfo(N_("Disk almost full"), Severity.WARNING),
    AlarmType.CLOCK_JUMPED: TypeInfo(N_("Clock jumped"), Severity.WARNING, momentary=True),
    AlarmType.BOX_STARTED: TypeInfo(N_("Box started"), Severity.INFO, momentary=True),
    AlarmType.BOX_STOPPED: TypeInfo(N_("Box stopped"), Severity.INFO, momentary=True),
    AlarmType.UNEXPECTED_STOP: TypeInfo(
        N_("Box stopped unexpectedly"), Severity.MAJOR, momentary=True
    ),
    AlarmType.USER_MODEL_SKIPPED: TypeInfo(
        N_("Device model file skipped"), Severity.WARNING, momentary=True
    ),
}

SubjectKind = Literal["gateway", "device", "circuit", "zone", "site", "system"]
SUBJECT_KINDS: tuple[str, ...] = ("gateway", "device", "circuit", "zone", "site", "system")


@dataclass(frozen=True)
class Subject:
    """The object an alarm concerns.

    ``id`` is the gateway/device/circuit/zone id (None for the site and the box); ``part``
    names a piece of it: an input (``in1``), a threshold (``7``), a service (``recorder``),
    a login source (``ssh:alice@10.0.0.5``). ``gateway_id`` is the gateway of a device (for
    filters); ``name`` is the object's name when the alarm was raised (shown after the
    object is renamed or deleted).
    """

    kind: SubjectKind
    id: int | None = None
    part: str = ""
    gateway_id: int | None = None
    name: str = ""

    @property
    def ident(self) -> tuple[str, int | None, str]:
        """What identifies the object (the name and gateway are descriptions)."""
        return (self.kind, self.id, self.part)


@dataclass(frozen=True)
class Acknowledgement:
    """Who acknowledged (role and session, e.g. ``ssh:alice@10.0.0.5``) and when."""

    role: str
    session: str
    at: float


@dataclass(frozen=True)
class Alarm:
    """One alarm row.

    ``raised_at``: first raise; ``last_at``: the latest raise (or repeat); ``count``: how many
    times it was raised (flaps included); ``value``: the value that raised it, as text
    (``"84.2 kW"``, ``"tripped"``, ``"on"``); ``detail``: what the source said.
    """

    id: int
    type: AlarmType
    severity: Severity
    subject: Subject
    raised_at: float
    last_at: float
    cleared_at: float | None = None
    ack: Acknowledgement | None = None
    count: int = 1
    value: str = ""
    detail: str = ""

    @property
    def active(self) -> bool:
        return self.cleared_at is None

    @property
    def acknowledged(self) -> bool:
        return self.ack is not None

    @property
    def closed(self) -> bool:
        """Cleared and acknowledged: nothing more happens to it."""
        return self.cleared_at is not None and self.ack is not None

    @property
    def key(self) -> AlarmKey:
        return AlarmKey(self.type, self.subject.ident)

    @property
    def label(self) -> str:
        """The type's label (msgid)."""
        return TYPES[self.type].label


@dataclass(frozen=True)
class AlarmKey:
    """One condition: a type on one object. At most one open alarm per key."""

    type: AlarmType
    ident: tuple[str, int | None, str]


# -- changes (what sources observe) and transitions (what the book did) -----------------------


@dataclass(frozen=True)
class Raise:
    """The condition ``type`` holds on ``subject`` at ``at`` (or the momentary event happened)."""

    type: AlarmType
    subject: Subject
    at: float
    value: str = ""
    detail: str = ""
    severity: Severity | None = None  # None: the type's default

    @property
    def key(self) -> AlarmKey:
        return AlarmKey(self.type, self.subject.ident)


@dataclass(frozen=True)
class Clear:
    """The condition ``type`` no longer holds on ``subject`` at ``at``."""

    type: AlarmType
    subject: Subject
    at: float
    detail: str = ""

    @property
    def key(self) -> AlarmKey:
        return AlarmKey(self.type, self.subject.ident)


Change = Raise | Clear


class TransitionKind(StrEnum):
    RAISED = "raised"  # a new alarm
    REPEATED = "repeated"  # raised again (count + 1): a flap, or a momentary event again
    CLEARED = "cleared"
    ACKNOWLEDGED = "acknowledged"


@dataclass(frozen=True)
class Transition:
    """What one change did to one alarm; ``alarm`` is its state right after."""

    kind: TransitionKind
    alarm: Alarm


@dataclass(frozen=True)
class AlarmChanged(Event):
    """Published on the Hub after the transaction that wrote ``transition`` committed."""

    transition: Transition


@dataclass(frozen=True)
class AlarmWrite:
    """A row to write: ``new`` rows are inserted, the others updated (never their
    acknowledgement: only :meth:`AlarmBook.acknowledged` and the repository write that)."""

    alarm: Alarm
    new: bool


@dataclass(frozen=True)
class Plan:
    """What a batch of changes does: rows to write, transitions in order, the book after."""

    writes: tuple[AlarmWrite, ...]
    transitions: tuple[Transition, ...]
    open: dict[AlarmKey, Alarm] = field(repr=False)
    next_id: int = 1

    @property
    def empty(self) -> bool:
        return not self.writes


class AlarmError(Exception):
    """A refused alarm operation; ``message`` is a msgid."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def may_acknowledge(role: Role | None) -> bool:
    """The Consultation role sees alarms but cannot acknowledge them."""
    return role in (Role.SYSTEM, Role.SERVER)


class AlarmBook:
    """The open alarms (active, or cleared and not yet acknowledged), one per key.

    Build it from the store's open alarms and its highest id; ids of new alarms are given
    here (the engine is the only writer of new rows).
    """

    def __init__(
        self, alarms: Iterable[Alarm] = (), next_id: int = 1, flap_window_s: float = FLAP_WINDOW_S
    ) -> None:
        self._open: dict[AlarmKey, Alarm] = {}
        for alarm in alarms:
            if not alarm.closed:
                self._open[alarm.key] = alarm
        highest = max((a.id for a in self._open.values()), default=0)
        self.next_id = max(next_id, highest + 1)
        self.flap_window_s = flap_window_s

    def __len__(self) -> int:
        return len(self._open)

    def get(self, key: AlarmKey) -> Alarm | None:
        return self._open.get(key)

    def alarms(self) -> tuple[Alarm, ...]:
        return tuple(self._open.values())

    def active(self) -> tuple[Alarm, ...]:
        return tuple(a for a in self._open.values() if a.active)

    def plan(self, changes: Sequence[Change]) -> Plan:
        """What ``changes`` do, in order, without changing the book."""
        open_ = dict(self._open)
        writes: dict[int, AlarmWrite] = {}
        transitions: list[Transition] = []
        next_id = self.next_id
        for change in changes:
            old = open_.get(change.key)
            if isinstance(change, Clear):
                if old is None or not old.active:
                    continue
                alarm = replace(old, cleared_at=change.at, detail=change.detail or old.detail)
                kind = TransitionKind.CLEARED
            else:
                momentary = TYPES[change.type].momentary
                severity = change.severity or TYPES[change.type].severity
                if old is not None and old.active and not momentary:
                    continue  # already raised
                if old is not None and self._reopens(old, change.at):
                    alarm = replace(
                        old,
                        last_at=change.at,
                        cleared_at=change.at if momentary else None,
                        count=old.count + 1,
                        value=change.value,
                        detail=change.detail,
                        severity=max(old.severity, severity),
                        subject=change.subject,
                    )
                    kind = TransitionKind.REPEATED
                else:
                    alarm = Alarm(
                        next_id,
                        change.type,
                        severity,
                        change.subject,
                        raised_at=change.at,
                        last_at=change.at,
                        cleared_at=change.at if momentary else None,
                        value=change.value,
                        detail=change.detail,
                    )
                    next_id += 1
                    kind = TransitionKind.RAISED
            new = alarm.id not in writes and kind is TransitionKind.RAISED
            new = new or (alarm.id in writes and writes[alarm.id].new)
            writes[alarm.id] = AlarmWrite(alarm, new)
            transitions.append(Transition(kind, alarm))
            open_[change.key] = alarm
        return Plan(tuple(writes.values()), tuple(transitions), open_, next_id)

    def _reopens(self, old: Alarm, at: float) -> bool:
        return old.ack is None and at - old.last_at <= self.flap_window_s

    def commit(self, plan: Plan) -> None:
        """Adopt ``plan`` once its rows are written."""
        self._open = {k: a for k, a in plan.open.items() if not a.closed}
        self.next_id = max(self.next_id, plan.next_id)

    def acknowledged(self, alarms: Iterable[Alarm]) -> None:
        """These alarms were acknowledged in the store: closed ones leave the book."""
        for alarm in alarms:
            held = self._open.get(alarm.key)
            if held is None or held.id != alarm.id:
                continue
            held = replace(held, ack=alarm.ack)
            if held.closed:
                del self._open[alarm.key]
            else:
                self._open[alarm.key] = held

    def forget_before(self, now: float) -> None:
        """Drop cleared alarms past the flap window (they stay in the store, unacknowledged)."""
        limit = now - self.flap_window_s
        self._open = {k: a for k, a in self._open.items() if a.active or a.last_at >= limit}


def acknowledge(alarm: Alarm, ack: Acknowledgement) -> Transition:
    """The transition of acknowledging ``alarm`` (the store refuses a second one)."""
    return Transition(TransitionKind.ACKNOWLEDGED, replace(alarm, ack=ack))
