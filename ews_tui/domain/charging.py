"""Charging sessions of EV charging points, told from what the poller reads (pure).

A charging point is one catalog device whose model is a charger (each side of a two-sided
Green'Up is its own device). Its ``charger`` quantity gives its state, ``session_energy`` the
energy of the current session (the station's own counter, back to 0 when the car leaves)
and ``ea_import`` its total energy.

:func:`step` takes what the recorder knew of a point (:class:`Track`) and one sample, and
returns the new track, with the session that ended and whether one began:

- a session opens when the state goes to connected or charging, and closes when it goes back
  to available or disabled (a fault during a session keeps it open);
- its energy is the largest session counter read while it was open (the counter is polled
  less often than the state, and reads 0 again once the car left); without a counter, the
  growth of the total energy; otherwise unknown (None);
- the counter falling back while a car is still plugged is a new session (a car swap
  between two polls);
- a session first seen already running (the box started, or the charger was added, while a
  car charged) has an unknown start (None): its duration is not known either;
- the state going to fault is the point's last fault.

A sample without the ``charger`` quantity (a slow poll) or with it missing changes no state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from ews_tui.domain.catalog import Catalog
from ews_tui.domain.events import Event
from ews_tui.domain.installation import Device, Installation


class ChargerState(StrEnum):
    """A charging point's state, as its register map names them."""

    AVAILABLE = "available"
    CONNECTED = "connected"
    CHARGING = "charging"
    FAULT = "fault"
    DISABLED = "disabled"


IN_SESSION = (ChargerState.CONNECTED, ChargerState.CHARGING)
ENDS_SESSION = (ChargerState.AVAILABLE, ChargerState.DISABLED)
#: kWh: a session counter lower than the session's largest by more than this was reset.
COUNTER_SLACK_KWH = 0.0005


@dataclass(frozen=True, slots=True)
class ChargingChanged(Event):
    """A charging session opened or closed, or a charging point went to fault."""

    device_id: int


@dataclass(frozen=True)
class ChargingSession:
    """One car's charge at one charging point; ``end`` None while it goes on."""

    device_id: int
    start: float | None  # Unix seconds; None: already running when first seen
    end: float | None = None
    energy_kwh: float | None = None
    side: int | None = None
    id: int = 0  # the store's id (0: not stored yet)

    def duration(self, now: float) -> float | None:
        """Seconds from start to end (to ``now`` while it goes on); None if not known."""
        if self.start is None:
            return None
        return max(0.0, (self.end if self.end is not None else now) - self.start)


@dataclass(frozen=True)
class Track:
    """What the recorder knows of one charging point between two samples."""

    state: ChargerState | None = None
    session: ChargingSession | None = None  # the open one
    total_at_start: float | None = None  # ea_import when the open session was first seen
    total: float | None = None  # latest ea_import
    last_fault: float | None = None  # when the state last went to fault


@dataclass(frozen=True)
class Step:
    track: Track
    ended: ChargingSession | None = None  # closed by this sample (end set)
    started: ChargingSession | None = None  # opened by this sample (end None)


def charger_state(value: object) -> ChargerState | None:
    """The state a ``charger`` value names; None when missing or unknown."""
    try:
        return ChargerState(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if number == number and abs(number) != float("inf") else None


def step(track: Track, device: Device, ts: float, values: Mapping[str, object]) -> Step:
    """The point's track after the sample ``values`` read at ``ts``."""
    energy = _number(values.get("session_energy"))
    total = _number(values.get("ea_import"))
    previous = track.state
    state = charger_state(values.get("charger")) or previous
    last_fault = track.last_fault
    if state is ChargerState.FAULT and previous is not ChargerState.FAULT:
        last_fault = ts
    latest = total if total is not None else track.total
    track = replace(track, state=state, last_fault=last_fault, total=latest)
    session = track.session
    ended: ChargingSession | None = None
    started: ChargingSession | None = None
    if session is not None:
        if state in ENDS_SESSION:
            ended = _close(track, session, ts, energy)
            track = replace(track, session=None, total_at_start=None)
        elif (
            energy is not None
            and session.energy_kwh is not None
            and energy < session.energy_kwh - COUNTER_SLACK_KWH
            and state in IN_SESSION
        ):  # the counter went back: a car swap between two polls
            ended = _close(track, session, ts, None)
            started = ChargingSession(device.id, ts, energy_kwh=energy, side=device.side)
            track = replace(track, session=started, total_at_start=total)
        else:
            grown = _largest(session.energy_kwh, energy)
            track = replace(
                track,
                session=replace(session, energy_kwh=grown),
                total_at_start=track.total_at_start if track.total_at_start is not None else total,
            )
    elif state in IN_SESSION:
        # Seen from its start only if the point was seen before it (not at the first look).
        start = ts if previous is not None else None
        started = ChargingSession(device.id, start, energy_kwh=energy, side=device.side)
        track = replace(track, session=started, total_at_start=total)
    return Step(track, ended, started)


def _largest(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else max(a, b)


def _close(
    track: Track, session: ChargingSession, ts: float, energy: float | None
) -> ChargingSession:
    kwh = _largest(session.energy_kwh, energy)
    if kwh is None and track.total is not None and track.total_at_start is not None:
        kwh = max(0.0, track.total - track.total_at_start)
    return replace(session, end=ts, energy_kwh=kwh)


def charging_points(inst: Installation, catalog: Catalog) -> tuple[Device, ...]:
    """The installation's charging points (enabled charger devices), in its order."""
    points = []
    for device in inst.devices:
        model = catalog.find(device.model)
        if model is not None and model.charger and device.enabled:
            points.append(device)
    return tuple(points)


def map_assumed(device: Device, catalog: Catalog) -> bool:
    """Whether the point's register map is assumed (no public table): nothing is written."""
    model = catalog.find(device.model)
    if model is None:
        return True
    reg_map = catalog.register_map(model)
    return model.provenance == "assumed" or reg_map is None or reg_map.provenance == "assumed"
