"""Where alarms come from: hub events turned into :class:`Raise` and :class:`Clear` changes.

- gateway and device states (:class:`DeviceStateChanged`, :class:`GatewayStateChanged`); a
  gateway in communication error is one alarm, its devices' own communication errors are
  grouped under it (not raised, or cleared as grouped) while it lasts;
- breaker, charger and input states read in samples (catalog quantities ``breaker``,
  ``charger``, ``in1``..``inN``), inputs named by their user labels;
- thresholds on any live quantity of a device, a circuit, a zone or the site, with a delay
  and a hysteresis (:class:`Threshold`, :class:`ThresholdWatch`);
- the box's own news (services failed or degraded, queues, logins, the data dir's disk, a
  clock jump, the box started, stopped, or stopped unexpectedly before this start).

A device marked "Exclude from alarms" (EMS CX3, DPX3 and DMX3 models) raises nothing; its
state is still shown everywhere. Pure: the time is the caller's ``now``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from ews_tui.domain.alarm_detail import message_detail
from ews_tui.domain.alarms import AlarmType, Change, Clear, Raise, Severity, Subject, SubjectKind
from ews_tui.domain.catalog import Catalog
from ews_tui.domain.connector import ConnectorFailed, ConnectorRecovered
from ews_tui.domain.events import (
    BoxStarted,
    BoxStopping,
    ClockJumped,
    DeviceState,
    DeviceStateChanged,
    DiskLow,
    DiskRecovered,
    En50160Checked,
    Event,
    EventDropped,
    GatewayState,
    GatewayStateChanged,
    LoginFailed,
    MailFailing,
    MailRecovered,
    MailRefused,
    QueueBehind,
    QueueCaughtUp,
    Sample,
    ServiceDegraded,
    ServiceFailed,
    ServiceRecovered,
    SourceLocked,
    TaskFailed,
    UserModelSkipped,
)
from ews_tui.domain.grouping import energy_of
from ews_tui.domain.installation import Device, Installation
from ews_tui.domain.messages import N_
from ews_tui.domain.system_watch import MB, jump_text

#: Seconds after its gateway came back within which a grouped device must answer, or it is
#: raised on its own (the poller tries every device at once when the bus is back).
REGROUP_S = 30.0
#: The detail of a device's communication error cleared because its gateway's alarm took
#: it in (no mail is queued for that clear: it is no news).
GROUPED = N_("grouped under its gateway's communication error")
STILL_SILENT = N_("still silent after its gateway came back")
BREAKER_ALARMS = {"open": AlarmType.BREAKER_OPEN, "tripped": AlarmType.BREAKER_TRIPPED}
TargetKind = Literal["device", "circuit", "zone", "site"]
TARGET_KINDS: tuple[str, ...] = ("device", "circuit", "zone", "site")


@dataclass(frozen=True)
class Threshold:
    """``quantity`` of ``target`` compared with ``limit``: ``op`` ``">"`` raises above it,
    ``"<"`` below it. Raised once the value stayed beyond the limit for ``delay_s``; cleared
    once it stayed back by ``hysteresis`` (same unit) for ``delay_s``. A circuit, a zone or
    the site add up their devices' values (the site: the devices its consumption total
    counts, :func:`site_members`): meant for powers and currents."""

    id: int
    name: str
    target_kind: TargetKind
    target_id: int | None
    quantity: str
    op: Literal[">", "<"]
    limit: float
    hysteresis: float = 0.0
    delay_s: float = 0.0
    severity: Severity = Severity.WARNING
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.op not in (">", "<"):
            raise ValueError(f"threshold {self.name!r}: op {self.op!r} is not > or <")
        if self.target_kind not in TARGET_KINDS:
            raise ValueError(f"threshold {self.name!r}: target {self.target_kind!r}")
        if self.hysteresis < 0 or self.delay_s < 0 or not math.isfinite(self.limit):
            raise ValueError(f"threshold {self.name!r}: negative hysteresis or delay")

    def beyond(self, value: float) -> bool:
        return value > self.limit if self.op == ">" else value < self.limit

    def back(self, value: float) -> bool:
        if self.op == ">":
            return value <= self.limit - self.hysteresis
        return value >= self.limit + self.hysteresis

    def text(self) -> str:
        """``site p > 80`` (the rule in one line, for the alarm's detail)."""
        return f"{self.quantity} {self.op} {self.limit:g}"


@dataclass
class ThresholdWatch:
    """The state of one threshold: raised or not, and since when the value is beyond (or
    back from) the limit."""

    threshold: Threshold
    raised: bool = False
    since: float | None = None  # start of the current run beyond (or back, once raised)

    def observe(self, value: float | None, at: float) -> bool | None:
        """Feed a value; True: raise now, False: clear now, None: nothing to do.

        A missing value (None, NaN) stops the run: it is not known to be beyond."""
        t = self.threshold
        if value is None or not math.isfinite(value):
            self.since = None
            return None
        crossing = t.back(value) if self.raised else t.beyond(value)
        if not crossing:
            self.since = None
            return None
        if self.since is None:
            self.since = at
        if at - self.since >= t.delay_s:
            self.raised = not self.raised
            self.since = None
            return self.raised
        return None


@dataclass
class AlarmSources:
    """Turns events into changes; keeps the little state that needs (last input states,
    threshold watches, the latest values the thresholds read)."""

    installation: Installation
    catalog: Catalog
    thresholds: tuple[Threshold, ...] = ()
    _inputs: dict[tuple[int, str], str] = field(default_factory=dict)
    _watches: dict[int, ThresholdWatch] = field(default_factory=dict)
    _values: dict[tuple[int, str], float] = field(default_factory=dict)
    _last_value: dict[int, float] = field(default_factory=dict)
    _members: dict[int, tuple[int, ...]] = field(default_factory=dict)
    _by_device: dict[int, tuple[int, ...]] = field(default_factory=dict)
    _devices: dict[int, Device] = field(default_factory=dict)
    _muted: frozenset[int] = frozenset()
    # A dead gateway's devices: their own communication errors are grouped under its alarm.
    _device_states: dict[int, DeviceState] = field(default_factory=dict)  # each one's last
    _dead: set[int] = field(default_factory=set)  # gateways in communication error
    _grouped: dict[int, set[int]] = field(default_factory=dict)  # gateway -> silent devices
    _regroup_at: dict[int, float] = field(default_factory=dict)  # gateway back: check then

    def __post_init__(self) -> None:
        self.set_thresholds(self.thresholds)

    # -- configuration --------------------------------------------------------------------

    def set_installation(self, installation: Installation) -> None:
        self.installation = installation
        self._index()

    def _index(self) -> None:
        """Devices by id, the muted ones, which devices each threshold reads and the other
        way round (a sample costs dictionary lookups, not a walk of the installation)."""
        inst = self.installation
        self._devices = {d.id: d for d in inst.devices}
        self._muted = frozenset(
            d.id for d in inst.devices if subject_gone(inst, self.catalog, Subject("device", d.id))
        )
        self._members = {t.id: tuple(d.id for d in self.members(t)) for t in self.thresholds}
        by_device: dict[int, list[int]] = {}
        for tid, devices in self._members.items():
            for device_id in devices:
                by_device.setdefault(device_id, []).append(tid)
        self._by_device = {d: tuple(ts) for d, ts in by_device.items()}

    def set_thresholds(self, thresholds: Iterable[Threshold]) -> None:
        """Keep the watches of unchanged thresholds; new or edited ones start afresh."""
        self.thresholds = tuple(t for t in thresholds if t.enabled)
        old = self._watches
        self._watches = {}
        for t in self.thresholds:
            watch = old.get(t.id)
            self._watches[t.id] = (
                watch if watch is not None and watch.threshold == t else ThresholdWatch(t)
            )
        self._index()

    def watched(self) -> set[str]:
        return {t.quantity for t in self.thresholds}

    # -- subjects -------------------------------------------------------------------------

    def device_subject(self, device_id: int, part: str = "") -> Subject:
        device = self._devices.get(device_id)
        name = device.display_name() if device is not None else f"#{device_id}"
        if device is not None and part:
            name = f"{name} · {device.advanced.label(part) or part}"
        gateway = device.gateway_id if device is not None else None
        return Subject("device", device_id, part, gateway, name)

    def gateway_subject(self, gateway_id: int) -> Subject:
        gateway = self.installation.gateway(gateway_id)
        name = gateway.name if gateway is not None else f"#{gateway_id}"
        return Subject("gateway", gateway_id, "", gateway_id, name)

    def threshold_subject(self, t: Threshold) -> Subject:
        inst = self.installation
        kind: SubjectKind = t.target_kind
        gateway: int | None = None
        if t.target_kind == "device" and t.target_id is not None:
            device = inst.device(t.target_id)
            name = device.display_name() if device else f"#{t.target_id}"
            gateway = device.gateway_id if device else None
        elif t.target_kind == "circuit" and t.target_id is not None:
            circuit = inst.circuit(t.target_id)
            name = circuit.name if circuit else f"#{t.target_id}"
        elif t.target_kind == "zone" and t.target_id is not None:
            zone = inst.zone(t.target_id)
            name = zone.name if zone else f"#{t.target_id}"
        else:
            name = ""
        label = f"{name} · {t.name}" if name else t.name
        return Subject(kind, t.target_id, f"threshold:{t.id}", gateway, label)

    def muted(self, device_id: int) -> bool:
        """Whether the device's events raise nothing: "Exclude from alarms", switched off or
        gone from the installation."""
        return device_id in self._muted

    # -- events ---------------------------------------------------------------------------

    def on_event(self, event: Event, now: float) -> list[Change]:
        """The changes ``event`` makes at ``now``."""
        if isinstance(event, Sample):
            return self._sample(event, now)
        if isinstance(event, DeviceStateChanged):
            return self._device_state(event, now)
        if isinstance(event, GatewayStateChanged):
            return self._gateway_state(event, now)
        return self._system(event, now)

    def _gateway_state(self, event: GatewayStateChanged, now: float) -> list[Change]:
        """A gateway in communication error is one alarm: the communication errors of its
        devices are grouped under it (those raised already are cleared as grouped, those to
        come are not raised). Once it is back, a device still silent ``REGROUP_S`` later is
        raised on its own."""
        gateway_id = event.gateway_id
        subject = self.gateway_subject(gateway_id)
        kind = AlarmType.GATEWAY_COMM_ERROR
        if event.state is not GatewayState.COMM_ERROR:
            if gateway_id in self._dead:
                self._dead.discard(gateway_id)
                self._regroup_at[gateway_id] = now + REGROUP_S
            return [Clear(kind, subject, now, event.detail)]
        changes: list[Change] = [Raise(kind, subject, now, event.state.value, event.detail)]
        self._dead.add(gateway_id)
        self._regroup_at.pop(gateway_id, None)
        grouped = self._grouped.setdefault(gateway_id, set())
        for device in self.installation.devices_of(gateway_id):
            if self._device_states.get(device.id) is DeviceState.COMM_ERROR:
                grouped.add(device.id)
                changes.append(
                    Clear(AlarmType.DEVICE_COMM_ERROR, self.device_subject(device.id), now, GROUPED)
                )
        return changes

    def _regroup(self, now: float) -> list[Change]:
        """Gateways back for ``REGROUP_S``: their devices still silent are raised now."""
        changes: list[Change] = []
        for gateway_id in [g for g, at in self._regroup_at.items() if now >= at]:
            del self._regroup_at[gateway_id]
            for device_id in sorted(self._grouped.pop(gateway_id, set())):
                if self._device_states.get(device_id) is not DeviceState.COMM_ERROR:
                    continue
                if self.muted(device_id):
                    continue
                changes.append(
                    Raise(
                        AlarmType.DEVICE_COMM_ERROR,
                        self.device_subject(device_id),
                        now,
                        DeviceState.COMM_ERROR.value,
                        STILL_SILENT,
                    )
                )
        return changes

    def _device_state(self, event: DeviceStateChanged, now: float) -> list[Change]:
        self._device_states[event.device_id] = event.state
        if event.state is not DeviceState.ON:
            self.forget_device(event.device_id)
        if self.muted(event.device_id):
            return []
        subject = self.device_subject(event.device_id)
        comm, config = AlarmType.DEVICE_COMM_ERROR, AlarmType.DEVICE_CONFIG_ERROR
        state, detail = event.state, event.detail
        if state is DeviceState.COMM_ERROR:
            device = self._devices.get(event.device_id)
            if device is not None and device.gateway_id in self._dead:
                self._grouped.setdefault(device.gateway_id, set()).add(event.device_id)
                return [Clear(config, subject, now)]  # grouped under the gateway's alarm
            return [Clear(config, subject, now), Raise(comm, subject, now, state.value, detail)]
        if state is DeviceState.CONFIG_ERROR:
            return [Clear(comm, subject, now), Raise(config, subject, now, state.value, detail)]
        return [Clear(comm, subject, now, detail), Clear(config, subject, now, detail)]

    def _sample(self, sample: Sample, now: float) -> list[Change]:
        changes: list[Change] = []
        values = sample.values
        if not values:
            return changes
        device_id = sample.device_id
        muted = self.muted(device_id)
        at = sample.ts
        if not muted:
            changes += self._states(device_id, values, at)
        tids = self._by_device.get(device_id)
        if tids:
            for tid in tids:
                qid = self._watches[tid].threshold.quantity
                if qid not in values:
                    continue
                value = values[qid]
                if isinstance(value, int | float) and math.isfinite(value):
                    self._values[(device_id, qid)] = float(value)
                else:
                    self._values.pop((device_id, qid), None)
            changes += self._thresholds(at, tids)
        return changes

    def _states(
        self, device_id: int, values: Mapping[str, float | str | None], at: float
    ) -> list[Change]:
        changes: list[Change] = []
        breaker = values.get("breaker")
        if isinstance(breaker, str):
            subject = self.device_subject(device_id)
            for state, kind in BREAKER_ALARMS.items():
                if breaker == state:
                    changes.append(Raise(kind, subject, at, breaker))
                else:
                    changes.append(Clear(kind, subject, at, breaker))
        charger = values.get("charger")
        if isinstance(charger, str):
            subject = self.device_subject(device_id)
            if charger == "fault":
                changes.append(Raise(AlarmType.CHARGER_FAULT, subject, at, charger))
            else:
                changes.append(Clear(AlarmType.CHARGER_FAULT, subject, at, charger))
        for qid, value in values.items():
            if not (qid.startswith("in") and qid[2:].isdigit() and isinstance(value, str)):
                continue
            before = self._inputs.get((device_id, qid))
            self._inputs[(device_id, qid)] = value
            if before is not None and before != value:
                subject = self.device_subject(device_id, qid)
                changes.append(
                    Raise(AlarmType.INPUT_CHANGED, subject, at, value, f"{before} → {value}")
                )
        return changes

    # -- thresholds -----------------------------------------------------------------------

    def members(self, t: Threshold) -> tuple[Device, ...]:
        inst = self.installation
        enabled = [d for d in inst.devices if inst.device_enabled(d)]
        if t.target_kind == "device":
            return tuple(d for d in enabled if d.id == t.target_id)
        if t.target_kind == "circuit":
            return tuple(d for d in enabled if d.circuit_id == t.target_id)
        if t.target_kind == "zone":
            return tuple(d for d in enabled if t.target_id in d.zone_ids)
        return site_members(inst, self.catalog, t.quantity)

    def value_of(self, t: Threshold) -> float | None:
        """The target's value now; None when a member's value is missing."""
        members = self._members.get(t.id, ())
        if not members:
            return None
        total = 0.0
        for device_id in members:
            value = self._values.get((device_id, t.quantity))
            if value is None:
                return None
            total += value
        return total

    def forget_device(self, device_id: int) -> None:
        """The device went silent: its values are missing, never its last numbers."""
        for key in [k for k in self._values if k[0] == device_id]:
            del self._values[key]

    def _thresholds(self, at: float, tids: Iterable[int] | None = None) -> list[Change]:
        changes: list[Change] = []
        watches = self._watches
        for tid in watches if tids is None else tids:
            watch = watches[tid]
            t = watch.threshold
            value = self.value_of(t)
            result = watch.observe(value, at)
            if value is not None:
                self._last_value[t.id] = value
            if result is None:
                continue
            subject = self.threshold_subject(t)
            shown = f"{self._last_value.get(t.id, math.nan):.4g}"
            if result:
                changes.append(
                    Raise(AlarmType.THRESHOLD, subject, at, shown, t.text(), severity=t.severity)
                )
            else:
                changes.append(Clear(AlarmType.THRESHOLD, subject, at, shown))
        return changes

    def tick(self, now: float) -> list[Change]:
        """Delays that ran out with no new sample (a steady value) raise or clear now; so do
        the devices of a gateway back for ``REGROUP_S`` that are still silent."""
        changes = self._thresholds(now)
        if self._regroup_at:
            changes += self._regroup(now)
        return changes

    # -- the box ----------------------------------------------------------------------------

    def _system(self, event: Event, now: float) -> list[Change]:
        box = _box_subject
        if isinstance(event, En50160Checked):
            # The ISO week of the Monday that starts it (its Thursday is in the same week
            # whatever the zone).
            year, week, _day = datetime.fromtimestamp(
                event.week_start + 3 * 86400, UTC
            ).isocalendar()
            label = f"{year}-W{week:02d}"
            subject = self.gateway_subject(event.gateway_id)
            if event.verdict == "ko":
                return [Raise(AlarmType.EN50160_WEEK_KO, subject, now, label, event.verdict)]
            if event.verdict == "ok":
                return [Clear(AlarmType.EN50160_WEEK_KO, subject, now, label)]
            return []
        if isinstance(event, ConnectorFailed):
            # The problem as a message: each reader sees it in its language.
            subject = box("connector")
            return [Raise(AlarmType.CONNECTOR_TRANSFER_FAILED, subject, now, "",
                          message_detail(event.problem))]  # fmt: skip
        if isinstance(event, ConnectorRecovered):
            return [Clear(AlarmType.CONNECTOR_TRANSFER_FAILED, box("connector"), now)]
        if isinstance(event, MailFailing):
            return [Raise(AlarmType.MAIL_FAILING, box(event.server), now, str(event.queued),
                          event.reason)]  # fmt: skip
        if isinstance(event, MailRecovered):
            return [Clear(AlarmType.MAIL_FAILING, box(event.server), now)]
        if isinstance(event, MailRefused):
            return [Raise(AlarmType.MAIL_REFUSED, box(event.recipient), now, "", event.reason)]
        if isinstance(event, ServiceFailed):
            return [Raise(AlarmType.SERVICE_FAILED, box(event.service), now, "", event.error)]
        if isinstance(event, ServiceRecovered):
            return [
                Clear(AlarmType.SERVICE_FAILED, box(event.service), now),
                Clear(AlarmType.SERVICE_DEGRADED, box(event.service), now),
            ]
        if isinstance(event, ServiceDegraded):
            detail = message_detail(event.problem)
            return [Raise(AlarmType.SERVICE_DEGRADED, box(event.service), now, "", detail)]
        if isinstance(event, UserModelSkipped):
            detail = message_detail(event.problem, event.where)
            return [Raise(AlarmType.USER_MODEL_SKIPPED, box(event.file), now, "", detail)]
        if isinstance(event, DiskLow | DiskRecovered | ClockJumped | BoxStarted | BoxStopping):
            return _the_box(event, now)
        if isinstance(event, TaskFailed):
            return [Raise(AlarmType.TASK_CRASHED, box(event.task), now, "", event.error)]
        if isinstance(event, QueueBehind):
            queued = str(event.queued)
            return [Raise(AlarmType.QUEUE_BEHIND, box(event.subscription), now, queued)]
        if isinstance(event, QueueCaughtUp):
            return [Clear(AlarmType.QUEUE_BEHIND, box(event.subscription), now)]
        if isinstance(event, EventDropped):
            return [Raise(AlarmType.EVENT_DROPPED, box(event.subscription), now, event.event)]
        if isinstance(event, LoginFailed):
            subject = box(event.source)
            return [Raise(AlarmType.LOGIN_FAILED, subject, now, str(event.failures), event.reason)]
        if isinstance(event, SourceLocked):
            severity = Severity.CRITICAL if event.blocked else None
            detail = "blocked" if event.blocked else "locked"
            return [
                Raise(
                    AlarmType.SOURCE_LOCKED,
                    box(event.source),
                    now,
                    str(event.failures),
                    detail,
                    severity=severity,
                )
            ]
        return []


def measures(device: Device, catalog: Catalog, quantity: str) -> bool:
    """Whether the device's model reads ``quantity`` (a pulse meter or a generic energy
    register reads no power)."""
    model = catalog.find(device.model) if device.model else None
    reg_map = catalog.register_map(model) if model is not None else None
    return reg_map is not None and reg_map.quantity(quantity) is not None


def site_members(inst: Installation, catalog: Catalog, quantity: str) -> tuple[Device, ...]:
    """The site as the consumption model counts its total
    (:func:`~ews_tui.domain.grouping.group` by ``total``): the enabled devices metering
    electricity and not marked "Exclude from totals", those of them that read ``quantity``.
    The site's power is the sum of theirs, as its consumption is the sum of theirs."""
    return tuple(
        d
        for d in inst.devices
        if inst.device_enabled(d)
        and not d.advanced.exclude_from_totals
        and energy_of(d, catalog) == "electricity"
        and measures(d, catalog, quantity)
    )


def _box_subject(part: str) -> Subject:
    return Subject("system", None, part, None, part)


def _disk_subject(path: str, level: str) -> Subject:
    """One alarm per level (as a meter's high and high-high): the warning one stays raised
    while the critical one comes and goes."""
    return Subject("system", None, f"disk:{level}", None, path)


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _free_text(free: int, total: int) -> str:
    """``3.1 % free (310 MB)``."""
    share = 100.0 * free / total if total > 0 else 0.0
    return f"{share:.1f} % free ({free // MB} MB)"


def _the_box(
    event: DiskLow | DiskRecovered | ClockJumped | BoxStarted | BoxStopping, now: float
) -> list[Change]:
    """Disk, clock, start and stop (published by the system watch)."""
    disk = AlarmType.DISK_LOW
    if isinstance(event, DiskLow):
        warning, critical = (
            _disk_subject(event.path, "warning"),
            _disk_subject(event.path, "critical"),
        )
        free = _free_text(event.free_bytes, event.total_bytes)
        if event.level == "critical":
            return [
                Raise(disk, warning, now, free),
                Raise(disk, critical, now, free, severity=Severity.CRITICAL),
            ]
        return [Clear(disk, critical, now, free), Raise(disk, warning, now, free)]
    if isinstance(event, DiskRecovered):
        free = _free_text(event.free_bytes, event.total_bytes)
        return [
            Clear(disk, _disk_subject(event.path, "critical"), now, free),
            Clear(disk, _disk_subject(event.path, "warning"), now, free),
        ]
    box = _box_subject("box")
    if isinstance(event, ClockJumped):
        detail = f"{_utc(event.wall_before)} → {_utc(event.wall_after)}"
        return [Raise(AlarmType.CLOCK_JUMPED, _box_subject("clock"), now, jump_text(event.jump_s),
                      detail)]  # fmt: skip
    if isinstance(event, BoxStopping):
        return [Raise(AlarmType.BOX_STOPPED, box, now)]
    changes: list[Change] = []
    if event.unexpected_stop:
        seen = _utc(event.last_seen) if event.last_seen is not None else ""
        changes.append(Raise(AlarmType.UNEXPECTED_STOP, box, now, seen, N_("last seen alive")))
    changes.append(Raise(AlarmType.BOX_STARTED, box, now))
    return changes


#: The hub events the sources read (the engine subscribes to these).
SOURCE_EVENTS: tuple[type[Event], ...] = (
    Sample,
    ConnectorFailed,
    ConnectorRecovered,
    MailFailing,
    MailRecovered,
    MailRefused,
    En50160Checked,
    DeviceStateChanged,
    GatewayStateChanged,
    ServiceFailed,
    ServiceRecovered,
    ServiceDegraded,
    DiskLow,
    DiskRecovered,
    ClockJumped,
    BoxStarted,
    BoxStopping,
    TaskFailed,
    QueueBehind,
    QueueCaughtUp,
    EventDropped,
    LoginFailed,
    SourceLocked,
    UserModelSkipped,
)

GoneCheck = Callable[[Subject], bool]


def subject_gone(inst: Installation, catalog: Catalog, subject: Subject) -> bool:
    """Whether the object of an alarm left the installation, was switched off, or is now
    excluded from alarms: its alarms are cleared."""
    if subject.kind == "device" and subject.id is not None:
        device = inst.device(subject.id)
        if device is None or not inst.device_enabled(device):
            return True
        model = catalog.find(device.model)
        return device.advanced.exclude_from_alarms and model is not None and model.alarm_exclusion
    if subject.kind == "gateway" and subject.id is not None:
        gateway = inst.gateway(subject.id)
        return gateway is None or not gateway.enabled
    return False
