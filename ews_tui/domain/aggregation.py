"""Samples folded into 10-minute records: per quantity count, mean, min and max, plus the
last energy index of the slot.

Pure and fast (it runs for every sample the pollers give): :class:`Aggregator` keeps one open
slot per device; a sample of a later slot closes the open one, and :meth:`Aggregator.close`
closes every slot before a given one (the clock tick). Missing values (``None``) and states
(strings) are not numbers and are not aggregated; a missing index is not a reading.
Energy counters are not averaged: their last value is the slot's index reading.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from ews_tui.domain.periods import SLOT_SECONDS

# The index consumption is computed from: active energy imported (kWh), or a gas or water
# pulse meter's index (m3).
INDEX_QUANTITIES: tuple[str, ...] = ("ea_import", "index")
# Counters: their mean means nothing; they are kept as last values in the index readings
# or, for the others, as the slot's max (the last value of a counter that only grows).
COUNTERS = frozenset({"ea_import", "ea_export", "er_import", "er_export", "index"})


class QuantityStats(NamedTuple):
    """One quantity over one slot (a named tuple: thousands are made per second)."""

    name: str
    count: int  # type: ignore[assignment]  # samples; shadows tuple.count()
    mean: float
    min: float
    max: float


@dataclass(frozen=True)
class SlotRecord:
    """One device's closed 10-minute slot: its quantities' stats and its last index."""

    device_id: int
    slot: int
    stats: tuple[QuantityStats, ...]
    index: float | None = None


class _Open:
    __slots__ = ("acc", "index", "slot")

    def __init__(self, slot: int) -> None:
        self.slot = slot
        self.acc: dict[str, list[float]] = {}  # name -> [count, sum, min, max]
        self.index: float | None = None

    def record(self, device_id: int) -> SlotRecord:
        make = QuantityStats
        stats = tuple(
            [make(name, int(c), s / c, lo, hi) for name, (c, s, lo, hi) in self.acc.items()]
        )
        return SlotRecord(device_id, self.slot, stats, self.index)


class Aggregator:
    """Open slots per device; closed records wait in :meth:`drain`'s list."""

    def __init__(self) -> None:
        self._open: dict[int, _Open] = {}
        self._closed: list[SlotRecord] = []
        self.samples = 0

    def add(self, device_id: int, ts: float, values: Mapping[str, float | str | None]) -> None:
        """Fold one sample in. A sample older than the device's open slot is dropped."""
        slot = int(ts // SLOT_SECONDS)
        current = self._open.get(device_id)
        if current is None or current.slot != slot:
            if current is not None:
                if slot < current.slot:
                    return
                self._closed.append(current.record(device_id))
            current = self._open[device_id] = _Open(slot)
        self.samples += 1
        acc = current.acc
        for name, value in values.items():
            if value is None or isinstance(value, str) or not math.isfinite(value):
                continue
            if name in INDEX_QUANTITIES:
                current.index = value
                continue
            stats = acc.get(name)
            if stats is None:
                acc[name] = [1, value, value, value]
            else:
                stats[0] += 1
                stats[1] += value
                if value < stats[2]:
                    stats[2] = value
                elif value > stats[3]:
                    stats[3] = value

    def close(self, before_slot: int) -> None:
        """Close every open slot earlier than ``before_slot`` (the clock passed them)."""
        for device_id, current in list(self._open.items()):
            if current.slot < before_slot:
                self._closed.append(current.record(device_id))
                del self._open[device_id]

    def close_all(self) -> None:
        self.close(2**62)

    def drain(self) -> list[SlotRecord]:
        """The records closed so far, oldest first per device; the list is then emptied."""
        out, self._closed = self._closed, []
        return out

    @property
    def pending(self) -> int:
        return len(self._closed)
