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


class OpenSlot:
    """One device's slot being folded: per quantity ``[count, sum, min, max]`` (exact, so
    two parts of a slot merge into what one run would give) and the last index.

    ``changes`` counts what was folded in since it was made; ``saved`` is the count the store
    holds (the recorder saves open slots often, so that a crash loses little).
    """

    __slots__ = ("acc", "changes", "device_id", "index", "saved", "slot")

    def __init__(
        self,
        device_id: int,
        slot: int,
        acc: dict[str, list[float]] | None = None,
        index: float | None = None,
    ) -> None:
        self.device_id = device_id
        self.slot = slot
        self.acc: dict[str, list[float]] = acc if acc is not None else {}
        self.index = index
        self.changes = 0
        self.saved = 0

    def record(self) -> SlotRecord:
        make = QuantityStats
        stats = tuple(
            [make(name, int(c), s / c, lo, hi) for name, (c, s, lo, hi) in self.acc.items()]
        )
        return SlotRecord(self.device_id, self.slot, stats, self.index)

    def copy(self) -> OpenSlot:
        """A snapshot (what a transaction writes while folding goes on)."""
        twin = OpenSlot(self.device_id, self.slot, {k: list(v) for k, v in self.acc.items()})
        twin.index, twin.changes, twin.saved = self.index, self.changes, self.saved
        return twin


class Aggregator:
    """Open slots per device; closed slots wait in :meth:`drain`'s list.

    ``slot_seconds`` is the slot length (:data:`SLOT_SECONDS`; benches shorten it).
    """

    def __init__(self, slot_seconds: int = SLOT_SECONDS) -> None:
        self.slot_seconds = slot_seconds
        self._open: dict[int, OpenSlot] = {}
        self._closed: list[OpenSlot] = []
        self.samples = 0

    def add(self, device_id: int, ts: float, values: Mapping[str, float | str | None]) -> None:
        """Fold one sample in. A sample older than the device's open slot is dropped."""
        slot = int(ts // self.slot_seconds)
        current = self._open.get(device_id)
        if current is None or current.slot != slot:
            if current is not None:
                if slot < current.slot:
                    return
                self._closed.append(current)
            current = self._open[device_id] = OpenSlot(device_id, slot)
        self.samples += 1
        current.changes += 1
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
                self._closed.append(current)
                del self._open[device_id]

    def close_all(self) -> None:
        self.close(2**62)

    def drain(self) -> list[SlotRecord]:
        """The records closed so far, oldest first per device; the list is then emptied."""
        return [slot.record() for slot in self.drain_slots()]

    def drain_slots(self) -> list[OpenSlot]:
        """The slots closed so far, exact (see :meth:`drain`); the list is then emptied."""
        out, self._closed = self._closed, []
        return out

    def unsaved(self) -> list[OpenSlot]:
        """The slots, open or closed, holding samples the store does not have."""
        return [s for s in (*self._closed, *self._open.values()) if s.changes != s.saved]

    def open_slots(self) -> list[OpenSlot]:
        """The open slots (one a device at most)."""
        return list(self._open.values())

    def restore(self, slot: OpenSlot) -> None:
        """Take back a slot saved before a restart: it goes on being folded (a later sample
        of the same slot merges into it), or is closed when the device is already further."""
        current = self._open.get(slot.device_id)
        if current is None or current.slot < slot.slot:
            if current is not None:
                self._closed.append(current)
            self._open[slot.device_id] = slot
        elif current.slot == slot.slot:
            merge(current, slot)
        else:
            self._closed.append(slot)

    @property
    def pending(self) -> int:
        return len(self._closed)


def merge(into: OpenSlot, other: OpenSlot) -> None:
    """Fold ``other`` (an earlier part of the same slot) into ``into``: counts and sums add,
    min and max are the extremes; ``into``'s index, being later, stays unless it has none."""
    for name, (c, s, lo, hi) in other.acc.items():
        mine = into.acc.get(name)
        if mine is None:
            into.acc[name] = [c, s, lo, hi]
            continue
        mine[0] += c
        mine[1] += s
        mine[2] = min(mine[2], lo)
        mine[3] = max(mine[3], hi)
    if into.index is None:
        into.index = other.index
    into.changes += 1
