"""The simulator's physics: realistic, self-consistent values of any catalog model.

Pure: values come from the time ``now`` (epoch seconds, a parameter: no clock is read here),
a seed and the device's identity. The same inputs always give the same values.

- Loads follow a daily curve (office or residential), piecewise linear between hourly
  points, so energy counters are its exact integral: they only grow, and the energy between
  two instants is the area under the power curve (noise is on the shown power only).
- 230/400 V with slow drift and noise; currents, powers and power factor are consistent:
  ``P = sum(V_k * I_k * PF)``, ``S = P / PF``, ``Q = sqrt(S^2 - P^2)``; frequency around 50 Hz;
  voltage THD 1-4 %, current THD 5-30 % (higher at light load).
- Breakers trip now and then (at most once a week, from the seed); a state can be forced, and
  the energy lost while a measuring breaker was forced off is given as ``outages``.
- Chargers run sessions: available -> connected -> charging (7.4, 11 or 22 kW) -> connected
  (done) -> available, with a session energy and a total that adds up every session.
- Pulse concentrator inputs count kWh (electricity) or m3 (gas, water) along their own curves.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from ews_tui.domain.catalog import Model
from ews_tui.sim.charger import charger_values
from ews_tui.sim.rng import mix as _mix
from ews_tui.sim.rng import noise as _noise
from ews_tui.sim.rng import text_id

Value = float | str | None

ORIGIN = 1_704_067_200.0  # 2024-01-01T00:00:00Z: counters start there at their initial index
HOUR = 3600.0
DAY = 86400.0
WEEK = 7 * DAY

# Fraction of the peak at each hour of the (local) day; linear in between, periodic.
# fmt: off
PROFILES: Mapping[str, tuple[float, ...]] = {
    "office": (0.15, 0.14, 0.14, 0.14, 0.15, 0.18, 0.30, 0.55, 0.85, 0.95, 1.00, 0.98,
               0.90, 0.95, 1.00, 0.97, 0.90, 0.75, 0.50, 0.35, 0.25, 0.20, 0.18, 0.16),
    "residential": (0.30, 0.25, 0.22, 0.20, 0.20, 0.25, 0.45, 0.70, 0.60, 0.45, 0.40, 0.40,
                    0.50, 0.45, 0.40, 0.40, 0.50, 0.70, 0.95, 1.00, 0.90, 0.75, 0.55, 0.40),
    "gas": (0.10, 0.10, 0.10, 0.10, 0.15, 0.60, 1.00, 0.90, 0.60, 0.40, 0.30, 0.30,
            0.35, 0.30, 0.30, 0.35, 0.50, 0.80, 0.95, 0.85, 0.60, 0.35, 0.20, 0.10),
    "water": (0.02, 0.02, 0.02, 0.02, 0.05, 0.20, 0.60, 0.90, 0.70, 0.50, 0.50, 0.80,
              1.00, 0.80, 0.50, 0.45, 0.50, 0.70, 0.90, 0.80, 0.50, 0.25, 0.10, 0.05),
}
# fmt: on
STATES_ON_OFF = ("off", "on")


@dataclass(frozen=True)
class SimDevice:
    """What the physics needs to know about one simulated device."""

    key: str  # stable identity mixed into the seed ("e0/5"): two devices never look alike
    model: Model
    side: int = 1  # two-sided chargers: the side these values are for
    # Concentrators: the energy of each input (1-based order); missing ones count electricity.
    inputs: tuple[str, ...] = ()
    quality: str = "normal"  # the supply's power-quality scenario (see QUALITIES)


# Power-quality scenarios of the supply a device measures, for the EN 50160 check to judge:
# "normal" passes; each other one fails one criterion for part of every week.
QUALITIES: Mapping[str, str] = {
    "normal": "230 V ± 1 %, 50 Hz ± 0.04 Hz, THD 1-4 %",
    "sag": "voltages 12 % low from 18:00 to 21:00 UTC each day",
    "harmonics": "voltage THD about 9 % from 18:00 to 21:00 UTC each day",
    "unbalance": "L1 7 % low: about 2.3 % unbalance",
    "drift": "frequency 50.7 Hz on Wednesdays from 10:00 to 12:00 UTC",
}


# ------------------------------------------------------------------ deterministic noise


def _key_id(seed: int, key: str, *more: str) -> int:
    return _mix(seed, text_id(key, *more))


# ------------------------------------------------------------------------ load curves


@cache
def _cumulative(profile: str) -> tuple[float, ...]:
    """Area (peak-hours) from midnight to each hour 0..24 of the piecewise linear curve."""
    points = PROFILES[profile]
    out = [0.0]
    for h in range(24):
        out.append(out[-1] + (points[h] + points[(h + 1) % 24]) / 2)
    return tuple(out)


def profile_at(profile: str, local_s: float) -> float:
    """The curve's value (fraction of peak) at ``local_s`` seconds of local time."""
    hours = (local_s % DAY) / HOUR
    h = int(hours)
    points = PROFILES[profile]
    return points[h] + (points[(h + 1) % 24] - points[h]) * (hours - h)


def profile_area(profile: str, local_start: float, local_end: float) -> float:
    """Integral of the curve over [start, end] (seconds of local time), in peak-hours."""
    return _area_to(profile, local_end) - _area_to(profile, local_start)


def _area_to(profile: str, local_s: float) -> float:
    cum = _cumulative(profile)
    days, rest = divmod(local_s, DAY)
    hours = rest / HOUR
    h = int(hours)
    x = hours - h
    points = PROFILES[profile]
    slope = points[(h + 1) % 24] - points[h]
    return days * cum[24] + cum[h] + points[h] * x + slope * x * x / 2


# ---------------------------------------------------------------- per-device parameters


@dataclass(frozen=True)
class _Params:
    profile: str
    peak_kw: float
    pf: float
    weights: tuple[float, float, float]
    e0: float  # index at ORIGIN (kWh)
    export_ratio: float
    charger_kw: float
    io_periods: tuple[float, ...]


@lru_cache(maxsize=4096)
def _params(seed: int, key: str, model: Model) -> _Params:
    rng = random.Random(f"{seed}/{key}/{model.ref}")
    phases = model.phases or 3
    if phases == 1:
        peak = rng.uniform(0.8, 3.5)
    elif model.family == "dmx3":
        peak = rng.uniform(80.0, 250.0)
    elif model.family in ("emdx3_power_meters", "other", "dpx3"):
        peak = rng.uniform(15.0, 60.0)
    else:
        peak = rng.uniform(3.0, 15.0)
    raw = [rng.uniform(0.85, 1.15) for _ in range(3)]
    total = sum(raw)
    weights = (raw[0] / total, raw[1] / total, raw[2] / total) if phases == 3 else (1.0, 0.0, 0.0)
    charger_kw = 7.4 if phases == 1 else rng.choice((11.0, 22.0))
    return _Params(
        profile=rng.choice(("office", "office", "residential")),
        peak_kw=peak,
        pf=rng.uniform(0.86, 0.97),
        weights=weights,
        e0=float(rng.randint(1_000, 90_000)),
        export_ratio=rng.uniform(0.0, 0.02),
        charger_kw=charger_kw,
        io_periods=tuple(rng.uniform(300.0, 3600.0) for _ in range(16)),
    )


# ----------------------------------------------------------------------- the entry point


def device_values(
    device: SimDevice,
    now: float,
    seed: int = 0,
    *,
    utc_offset_s: float = 0.0,
    forced: Mapping[str, Value] | None = None,
    outages: Sequence[tuple[float, float | None]] = (),
) -> dict[str, Value]:
    """Every value ``device`` shows at ``now``, per quantity id (the server keeps its map's).

    ``utc_offset_s``: local time minus UTC, fixed for a run so counters never go back at a
    daylight-saving change. ``forced``: values or states imposed by the user (a breaker
    ``"tripped"``, a charger ``"fault"``, an input ``"on"``, or a number). ``outages``:
    (start, end or None) intervals during which a breaker was forced off; the energy that
    did not flow then is missing from the counters.
    """
    forced = forced or {}
    model = device.model
    params = _params(seed, device.key, model)
    local = now + utc_offset_s
    values: dict[str, Value] = {}
    values.update(_grid(seed, device.key, now, model.phases or 3, device.quality))
    if model.charger:
        ident = _key_id(seed, device.key, f"side{device.side}")
        phases = model.phases or 3
        since = local - (ORIGIN + utc_offset_s)
        e0 = params.e0 / 10
        values.update(charger_values(ident, params.charger_kw, phases, since, e0, forced))
    else:
        on = True
        if model.breaker:
            state = forced.get("breaker") or _scheduled_breaker(seed, device.key, now)
            values["breaker"] = state
            on = state == "closed"
        lost = sum(_outage_area(params.profile, a, b, now, utc_offset_s) for a, b in outages)
        if model.breaker:
            lost += _trip_area(seed, device.key, params.profile, now, utc_offset_s)
        values.update(_load(seed, device.key, params, values, now, local, on, lost))
    if model.pulse_inputs:
        for n in range(1, model.pulse_inputs + 1):
            kind = device.inputs[n - 1] if n <= len(device.inputs) else "electricity"
            values[f"input{n}_index"] = pulse_index(seed, device.key, n, kind, now, utc_offset_s)
    for n in range(1, model.inputs + 1):
        values[f"in{n}"] = _io_state(seed, device.key, params, n, now)
    for n in range(1, model.outputs + 1):
        values[f"out{n}"] = _output_state(seed, device.key, params, n, local)
    values.update(forced)
    return values


# ------------------------------------------------------------------------ electricity


def _grid(
    seed: int, key: str, now: float, phases: int, quality: str = "normal"
) -> dict[str, Value]:
    """Voltages (with noise), line voltages from the phasors, frequency, voltage THD; the
    ``quality`` scenario (:data:`QUALITIES`) spoils one of them for part of the week."""
    sec = int(now)
    kid = _key_id(seed, key)
    evening = 18 * HOUR <= now % DAY < 21 * HOUR
    volts = []
    for k in range(3):
        drift = 2.5 * math.sin(2 * math.pi * now / 21600 + 2.1 * k) + 1.0
        volt = 230.0 + drift + 0.8 * _noise(kid, k, sec)
        if (quality == "sag" and evening) or (quality == "unbalance" and k == 0):
            volt *= 0.88 if quality == "sag" else 0.93
        volts.append(volt)
    out: dict[str, Value] = {}
    for k, v in enumerate(volts[:phases] if phases == 1 else volts, start=1):
        out[f"v{k}"] = v
    if phases == 3:
        for a, b in ((1, 2), (2, 3), (3, 1)):
            va, vb = volts[a - 1], volts[b - 1]
            out[f"u{a}{b}"] = math.sqrt(va * va + vb * vb + va * vb)
    site = _mix(seed, 50)
    out["f"] = 50.0 + 0.03 * math.sin(2 * math.pi * now / 900) + 0.01 * _noise(site, sec)
    # Wednesday (the epoch began on a Thursday) 10:00-12:00 UTC.
    if quality == "drift" and (now % WEEK) // DAY == 6 and 10 * HOUR <= now % DAY < 12 * HOUR:
        out["f"] = 50.7 + 0.01 * _noise(site, sec)
    load = profile_at("residential", now)
    thd_v: dict[int, float] = {}
    for k in range(1, 4):
        thd = min(4.0, max(1.0, 1.4 + 1.8 * load + 0.3 * _noise(kid, 10 + k, sec // 10)))
        if quality == "harmonics" and evening:
            thd = 9.0 + 0.3 * _noise(kid, 10 + k, sec // 10)
        out[f"thd_v{k}"] = thd_v[k] = thd
    for name, (a, b) in {"thd_u12": (1, 2), "thd_u23": (2, 3), "thd_u31": (3, 1)}.items():
        out[name] = (thd_v[a] + thd_v[b]) / 2
    return out


def _load(
    seed: int,
    key: str,
    params: _Params,
    values: Mapping[str, Value],
    now: float,
    local: float,
    on: bool,
    lost: float,
) -> dict[str, Value]:
    """Currents, powers, PF, current THD and energies of a load on the device's curve."""
    sec = int(now)
    kid = _key_id(seed, key, "load")
    fraction = profile_at(params.profile, local) if on else 0.0
    p = params.peak_kw * fraction * (1 + 0.02 * _noise(kid, sec))
    pf = min(0.999, params.pf + 0.01 * _noise(kid, 1, sec // 10))
    s = p / pf
    out: dict[str, Value] = {"p": p, "pf": pf, "s": s}
    out["q"] = math.sqrt(max(0.0, s**2 - p * p))
    currents = []
    for k in range(1, 4):
        pk = p * params.weights[k - 1]
        volts = values.get(f"v{k}")
        if not isinstance(volts, float):
            continue
        out[f"p{k}"] = pk
        current = pk * 1000.0 / (volts * pf)
        out[f"i{k}"] = current
        currents.append(current)
        thd = 5.0 + 22.0 * (1.0 - fraction) + 2.0 * _noise(kid, 20 + k, sec // 10)
        out[f"thd_i{k}"] = min(30.0, max(5.0, thd))
    if len(currents) == 3:
        i1, i2, i3 = currents
        out["in"] = math.sqrt(max(0.0, i1 * i1 + i2 * i2 + i3 * i3 - i1 * i2 - i2 * i3 - i3 * i1))
        out["thd_in"] = min(30.0, 10.0 + 15.0 * (1.0 - fraction))
    else:
        out["in"] = currents[0] if currents else 0.0
    area = _area_since_origin(params.profile, now, local - now) - lost
    energy = params.peak_kw * area
    tan_phi = math.tan(math.acos(params.pf))
    out["ea_import"] = params.e0 + energy
    out["ea_export"] = params.e0 * params.export_ratio + energy * params.export_ratio
    out["er_import"] = params.e0 * tan_phi + energy * tan_phi
    out["er_export"] = params.e0 * 0.01 + energy * tan_phi * 0.01
    return out


def _area_since_origin(profile: str, now: float, offset: float) -> float:
    """Peak-hours of ``profile`` between ORIGIN and ``now`` (0 before ORIGIN)."""
    if now <= ORIGIN:
        return 0.0
    return profile_area(profile, ORIGIN + offset, now + offset)


def _outage_area(profile: str, start: float, end: float | None, now: float, offset: float) -> float:
    a = max(start, ORIGIN)
    b = min(now, end if end is not None else now)
    return profile_area(profile, a + offset, b + offset) if b > a else 0.0


# ------------------------------------------------------------------------------ breakers


@lru_cache(maxsize=65536)
def _trip_of_week(seed: int, key: str, week: int) -> tuple[float, float] | None:
    """The scheduled trip of one week (start, end) in epoch seconds, or None (half the weeks)."""
    rng = random.Random(_mix(_key_id(seed, key, "trip"), week))
    if rng.random() < 0.5:
        return None
    start = ORIGIN + week * WEEK + rng.uniform(0, WEEK - HOUR)
    return start, start + rng.uniform(600.0, 2400.0)


def _scheduled_breaker(seed: int, key: str, now: float) -> str:
    week = int((now - ORIGIN) // WEEK)
    trip = _trip_of_week(seed, key, week)
    return "tripped" if trip is not None and trip[0] <= now < trip[1] else "closed"


_TRIP_CUMULATIVE: dict[tuple[int, str, str, float], list[float]] = {}


def _trip_area(seed: int, key: str, profile: str, now: float, offset: float) -> float:
    """Peak-hours lost to scheduled trips between ORIGIN and ``now`` (memoised per week)."""
    if now <= ORIGIN:
        return 0.0
    week = int((now - ORIGIN) // WEEK)
    sums = _TRIP_CUMULATIVE.setdefault((seed, key, profile, offset), [0.0])
    while len(sums) <= week:  # sums[w]: area lost in the weeks before week w
        trip = _trip_of_week(seed, key, len(sums) - 1)
        lost = profile_area(profile, trip[0] + offset, trip[1] + offset) if trip else 0.0
        sums.append(sums[-1] + lost)
    trip = _trip_of_week(seed, key, week)
    current = _outage_area(profile, trip[0], trip[1], now, offset) if trip else 0.0
    return sums[week] + current


# ------------------------------------------------------------------------ pulse and IO

_PULSE_PEAK = {"electricity": (4.0, 20.0), "gas": (2.0, 10.0), "water": (0.2, 1.5)}
_PULSE_PROFILE = {"electricity": "office", "gas": "gas", "water": "water"}


def pulse_rate(seed: int, key: str, n: int, kind: str) -> float:
    """Peak rate of input ``n``: kW for electricity, m3/h for gas and water."""
    low, high = _PULSE_PEAK.get(kind, _PULSE_PEAK["electricity"])
    return low + (high - low) * (_noise(_key_id(seed, key, "pulse"), n) + 1) / 2


def pulse_index(
    seed: int, key: str, n: int, kind: str, now: float, utc_offset_s: float = 0.0
) -> float:
    """The index of pulse input ``n`` (kWh or m3) at ``now``."""
    start = 1000.0 + 500.0 * (_noise(_key_id(seed, key, "pulse0"), n) + 1)
    profile = _PULSE_PROFILE.get(kind, "office")
    rate = pulse_rate(seed, key, n, kind)
    return start + rate * _area_since_origin(profile, now, utc_offset_s)


def _io_state(seed: int, key: str, params: _Params, n: int, now: float) -> str:
    period = params.io_periods[(n - 1) % len(params.io_periods)]
    slot = int(now // period)
    return STATES_ON_OFF[_mix(_key_id(seed, key, "in"), n, slot) % 4 == 0]


def _output_state(seed: int, key: str, params: _Params, n: int, local: float) -> str:
    """Outputs follow a schedule: on during working hours (shifted per output)."""
    hour = (local % DAY) / HOUR
    start = 6.0 + (_mix(_key_id(seed, key, "out"), n) % 4)
    return STATES_ON_OFF[start <= hour < start + 12.0]
