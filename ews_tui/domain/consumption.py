"""Consumption from energy index readings: robust differences, then totals by group.

Pure. The recorder keeps the last index a device gave in each 10-minute slot (see
:mod:`ews_tui.domain.periods`); :func:`track` turns those readings, one at a time, into

- :class:`Span` — ``amount`` consumed over slots ``first..last``. One slot is the normal case;
  more than one is a *gap* (no reading in between): its amount is known only as a whole and is
  never spread over the slots, so a period that does not hold the whole gap shows missing data;
- :class:`Break` — slots whose consumption is unknown: the counter went back (reset, device
  replaced by another meter, a read glitch) or jumped further than the device could consume.

No output is ever negative, and a jump (a replaced meter starting at 45,000 kWh) is never a
spike: a difference is kept only when its mean power is plausible (:data:`MAX_RATE`). A counter
that wraps at a round modulus (99,999.9 or a power of two) is recognised as a rollover. One
absurd reading between two good ones is dropped and the two good ones make a gap span.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ews_tui.domain.catalog import Catalog
from ews_tui.domain.grouping import energy_of
from ews_tui.domain.installation import Installation
from ews_tui.domain.periods import SLOT_SECONDS, SLOTS_PER_HOUR

# Largest plausible mean rate per energy type, in index units per hour (kW, m3/h).
MAX_RATE: dict[str, float] = {"electricity": 20_000.0, "gas": 10_000.0, "water": 2_000.0}


def max_rate_of(energy: str | None) -> float:
    """The plausibility limit of ``energy``: the one function every tracker's limit comes
    from (a device metering no known energy gets electricity's)."""
    return MAX_RATE.get(energy or "electricity", MAX_RATE["electricity"])


def device_max_rate(inst: Installation, catalog: Catalog, device_id: int) -> float:
    """The plausibility limit of the energy device ``device_id`` meters (electricity's for a
    device the installation no longer has)."""
    device = next((d for d in inst.devices if d.id == device_id), None)
    return max_rate_of(energy_of(device, catalog) if device is not None else None)


# Counters wrap at a power of ten (mechanical registers) or of two (scaled raw registers).
_MODULI = tuple(sorted({10.0**k for k in range(4, 13)} | {2.0**32 / 10**k for k in range(4)}))
_ROLLOVER_HIGH = 0.9  # the last index before a wrap is in the top 10 % of the modulus
# A counter may seem to go back by a rounding step (a float32 index): that is zero, not a reset.
_JITTER = 1e-6


@dataclass(frozen=True)
class Reading:
    """The last index of one device in 10-minute slot ``slot``."""

    slot: int
    value: float


@dataclass(frozen=True)
class Span:
    """``amount`` consumed over slots ``first`` to ``last`` inclusive (a gap when longer)."""

    first: int
    last: int
    amount: float

    @property
    def slots(self) -> int:
        return self.last - self.first + 1


@dataclass(frozen=True)
class Break:
    """Slots ``first`` to ``last`` inclusive whose consumption is unknown."""

    first: int
    last: int

    @property
    def slots(self) -> int:
        return self.last - self.first + 1


Output = Span | Break


@dataclass(frozen=True)
class Tracker:
    """What :func:`track` remembers of one device's counter between readings.

    ``last``: the reading differences start from; ``suspect``: a reading that did not follow
    ``last`` plausibly, kept until the next one tells a glitch from a real restart.
    """

    max_rate: float = MAX_RATE["electricity"]  # see :func:`max_rate_of`
    last: Reading | None = None
    suspect: Reading | None = None


def _plausible(amount: float, slots: int, max_rate: float) -> bool:
    return amount <= max_rate * slots * SLOT_SECONDS / 3600


def _difference(a: Reading, b: Reading, max_rate: float) -> float | None:
    """Consumption from ``a`` to ``b``: the difference, a rollover, or None (a break)."""
    slots = b.slot - a.slot
    delta = b.value - a.value
    if delta < 0 and -delta <= _JITTER * max(abs(a.value), 1.0):
        return 0.0
    if delta >= 0:
        return delta if _plausible(delta, slots, max_rate) else None
    for modulus in _MODULI:
        if modulus > a.value >= _ROLLOVER_HIGH * modulus and 0 <= b.value < modulus:
            wrapped = modulus - a.value + b.value
            if _plausible(wrapped, slots, max_rate):
                return wrapped
    return None


def _span(a: Reading, b: Reading, amount: float) -> Span:
    return Span(a.slot + 1, b.slot, amount)


def track(state: Tracker, reading: Reading) -> tuple[Tracker, tuple[Output, ...]]:
    """Feed the next reading (slots increasing); the new state and what became known.

    A reading not after the last one is ignored. A ``value`` that is not finite is a
    caller's bug (missing indexes are never readings).
    """
    last, suspect, rate = state.last, state.suspect, state.max_rate
    if last is not None and suspect is None and reading.slot == last.slot:
        # A later index of the same slot (the recorder restarted within it): the growth.
        amount = _difference(Reading(last.slot - 1, last.value), reading, rate)
        if amount is None:
            return state, ()
        return Tracker(rate, reading), (Span(reading.slot, reading.slot, amount),)
    anchor = suspect or last
    if anchor is not None and reading.slot <= anchor.slot:
        return state, ()
    if last is None:
        return Tracker(rate, reading), ()
    if suspect is not None:
        amount = _difference(last, reading, rate)
        if amount is not None:  # the suspect was a glitch: drop it
            return Tracker(rate, reading), (_span(last, reading, amount),)
        # The suspect was a real restart: what led to it is unknown; go on from it.
        lost = Break(last.slot + 1, suspect.slot)
        state, outputs = track(Tracker(rate, suspect), reading)
        return state, (lost, *outputs)
    amount = _difference(last, reading, rate)
    if amount is None:
        return Tracker(rate, last, reading), ()
    return Tracker(rate, reading), (_span(last, reading, amount),)


def flush(state: Tracker) -> tuple[Tracker, tuple[Output, ...]]:
    """Settle a pending suspect as a restart (at the end of the known readings)."""
    if state.suspect is None or state.last is None:
        return state, ()
    lost = Break(state.last.slot + 1, state.suspect.slot)
    return Tracker(state.max_rate, state.suspect), (lost,)


def outputs_of(
    readings: Iterable[Reading], max_rate: float = MAX_RATE["electricity"]
) -> list[Output]:
    """Every span and break of a whole series of readings (the reference computation)."""
    state = Tracker(max_rate)
    out: list[Output] = []
    for reading in readings:
        state, produced = track(state, reading)
        out.extend(produced)
    out.extend(flush(state)[1])
    return out


@dataclass(frozen=True)
class Rollup:
    """What outputs add to the hourly table: ``hours[hour] = (amount, missing slots)``,
    and the spans too long to belong to one hour (kept whole as gaps)."""

    hours: dict[int, tuple[float, int]]
    gaps: tuple[Span, ...]


def rollup(outputs: Iterable[Output]) -> Rollup:
    """Fold spans and breaks into UTC hours (a span inside one hour counts there whole)."""
    hours: dict[int, list[float]] = {}
    gaps: list[Span] = []
    for out in outputs:
        first_hour, last_hour = out.first // SLOTS_PER_HOUR, out.last // SLOTS_PER_HOUR
        if isinstance(out, Span) and first_hour == last_hour:
            hours.setdefault(first_hour, [0.0, 0])[0] += out.amount
            continue
        if isinstance(out, Span):
            gaps.append(out)
        for hour in range(first_hour, last_hour + 1):
            lo = max(out.first, hour * SLOTS_PER_HOUR)
            hi = min(out.last, hour * SLOTS_PER_HOUR + SLOTS_PER_HOUR - 1)
            hours.setdefault(hour, [0.0, 0])[1] += hi - lo + 1
    return Rollup({h: (a, int(m)) for h, (a, m) in hours.items()}, tuple(gaps))
