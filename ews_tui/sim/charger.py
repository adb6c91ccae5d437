"""Charging sessions of a simulated EV charging station (part of the simulator's physics).

Pure: every day (of local time) has 0 to 2 sessions drawn from the seed; a session is
available -> connected (plugged, about to start) -> charging at a constant power -> connected
(done, the car stays) -> available when the car leaves. The station's total energy adds up
the energy of every session since the origin (memoised per day), so it only grows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from ews_tui.sim.rng import noise, unit

DAY = 86400.0
HOUR = 3600.0
NOMINAL_V = 230.0


@dataclass(frozen=True)
class Session:
    """One car's visit, in local seconds since the origin."""

    arrive: float
    start: float
    done: float
    leave: float
    kw: float

    @property
    def energy(self) -> float:
        return self.kw * (self.done - self.start) / HOUR

    def energy_at(self, t: float) -> float:
        return self.kw * (min(max(t, self.start), self.done) - self.start) / HOUR

    def state_at(self, t: float) -> str:
        if self.start <= t < self.done:
            return "charging"
        return "connected" if self.arrive <= t < self.leave else "available"


@lru_cache(maxsize=8192)
def day_sessions(ident: int, day: int, kw: float) -> tuple[Session, ...]:
    """The sessions of day ``day`` (0 = the origin's day) of the station side ``ident``."""
    counter = iter(range(16))

    def draw() -> float:
        return unit(ident, day, next(counter))

    count = (0, 1, 1, 2, 2, 2)[int(draw() * 6)]
    base = day * DAY
    sessions: list[Session] = []
    window = (7.0, 10.5, 2.0, 8.0)  # arrival from/to (h), stay from/to (h)
    for _ in range(count):
        arrive = base + _between(draw(), window[0], window[1]) * HOUR
        leave = min(arrive + _between(draw(), window[2], window[3]) * HOUR, base + DAY - 300.0)
        start = arrive + _between(draw(), 60.0, 180.0)
        wanted_h = _between(draw(), 5.0, 40.0) / kw
        done = min(start + wanted_h * HOUR, leave - 120.0)
        if done > start:
            sessions.append(Session(arrive, start, done, leave, kw))
        after = max(13.0, (leave - base) / HOUR + 0.5)
        window = (after, after + 5.0, 1.0, 4.0)
        if after > 21.0:
            break
    return tuple(sessions)


def _between(u: float, low: float, high: float) -> float:
    return low + (high - low) * u


_CUMULATIVE: dict[tuple[int, float], list[float]] = {}


def energy_before_day(ident: int, day: int, kw: float) -> float:
    """kWh delivered by every session of the days before ``day`` (memoised)."""
    if day <= 0:
        return 0.0
    sums = _CUMULATIVE.setdefault((ident, kw), [0.0])
    while len(sums) <= day:  # sums[d]: energy of the days before day d
        sums.append(sums[-1] + sum(s.energy for s in day_sessions(ident, len(sums) - 1, kw)))
    return sums[day]


def charger_values(
    ident: int,
    kw: float,
    phases: int,
    since_origin: float,
    e0: float,
    forced: Mapping[str, object],
) -> dict[str, float | str | None]:
    """State, currents, power, session and total energy ``since_origin`` local seconds."""
    day = int(since_origin // DAY) if since_origin > 0 else 0
    sessions = day_sessions(ident, day, kw) if since_origin > 0 else ()
    current = next((s for s in sessions if s.arrive <= since_origin < s.leave), None)
    state = current.state_at(since_origin) if current else "available"
    forced_state = forced.get("charger")
    if isinstance(forced_state, str):
        state = forced_state
    power = kw * (1 + 0.01 * noise(ident, int(since_origin))) if state == "charging" else 0.0
    amps = power * 1000.0 / (NOMINAL_V * phases)
    delivered = sum(s.energy_at(since_origin) for s in sessions)
    return {
        "charger": state,
        "p": power,
        "i1": amps,
        "i2": amps if phases == 3 else 0.0,
        "i3": amps if phases == 3 else 0.0,
        "session_energy": current.energy_at(since_origin) if current else 0.0,
        "ea_import": e0 + energy_before_day(ident, day, kw) + delivered,
    }
