"""The Recorder: samples from the Hub to the store, in batches, one transaction each.

It reads a lossless subscription to :class:`~ews_tui.domain.events.Sample` (it never drops
one), folds samples into 10-minute slots (:class:`~ews_tui.domain.aggregation.Aggregator`),
and once the clock passed a slot (plus ``grace`` seconds for late polls) writes the closed
slots: measures, the slot's last energy index, and the consumption that index gives
(:func:`~ews_tui.domain.consumption.track`) rolled up by hour — all in one transaction.
Retention runs at start and once a day.

``ews history seed`` feeds simulated samples through :meth:`Recorder.ingest` and
:meth:`Recorder.flush`: the same code path as live, without the Hub and the clock.
A restart inside a slot keeps, for that slot, only the stats gathered after the restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ews_tui.domain.aggregation import Aggregator
from ews_tui.domain.consumption import MAX_RATE, Reading, Tracker, rollup, track
from ews_tui.domain.events import Event, Sample
from ews_tui.domain.periods import SLOT_SECONDS, slot_of
from ews_tui.hub import Hub
from ews_tui.services.follower import HubFollower
from ews_tui.store.aggregates_repo import AggregatesRepo, Batch
from ews_tui.supervision import Supervisor

log = logging.getLogger(__name__)

DAY_SLOTS = 86400 // SLOT_SECONDS


@dataclass(frozen=True)
class Retention:
    """Days each kind of history is kept; 0 keeps it forever."""

    measures_days: int = 3 * 365
    energy_days: int = 0


class Recorder:
    """The store's writer of samples. ``clock`` gives epoch seconds (tests inject one)."""

    name = "recorder"

    def __init__(
        self,
        hub: Hub | None,
        repo: AggregatesRepo,
        *,
        clock: Callable[[], float] = time.time,
        grace: float = 15.0,
        retention: Callable[[], Retention] = Retention,
        max_rate: Callable[[int], float] | None = None,
        supervisor: Supervisor | None = None,
    ) -> None:
        self._hub = hub
        self._supervisor = supervisor
        self._repo = repo
        self._clock = clock
        self._grace = grace
        self._retention = retention
        self._max_rate = max_rate or (lambda _device: MAX_RATE["electricity"])
        self._aggregator = Aggregator()
        self._trackers: dict[int, Tracker] = {}
        self._follower: HubFollower | None = None
        self._retained_day: int | None = None
        self._flushed_until: int | None = None
        self.batches = 0
        self.written = 0
        self.flushed = asyncio.Event()  # set after each batch is written (for observers)

    # ------------------------------------------------------------------ the shared path

    async def load(self) -> None:
        """Go on from each device's last stored index."""
        for device_id, reading in (await self._repo.last_readings()).items():
            self._trackers[device_id] = Tracker(self._max_rate(device_id), reading)

    def ingest(self, sample: Sample) -> None:
        """Fold one sample into its device's open slot (no I/O)."""
        self._aggregator.add(sample.device_id, sample.ts, sample.values)

    async def flush(self, before_slot: int | None = None) -> int:
        """Close the slots before ``before_slot`` (all with None) and write them; count."""
        if before_slot is None:
            self._aggregator.close_all()
        else:
            self._aggregator.close(before_slot)
        records = self._aggregator.drain()
        if not records:
            return 0
        batch = Batch(records=records)
        outputs: dict[int, list] = {}
        for record in records:
            if record.index is None:
                continue
            reading = Reading(record.slot, record.index)
            batch.readings.append((record.device_id, reading))
            state = self._trackers.get(record.device_id)
            if state is None:
                state = Tracker(self._max_rate(record.device_id))
            state, produced = track(state, reading)
            self._trackers[record.device_id] = state
            if produced:
                outputs.setdefault(record.device_id, []).extend(produced)
        batch.rollups = [(device_id, rollup(outs)) for device_id, outs in outputs.items()]
        await self._repo.write(batch)
        self.batches += 1
        self.written += len(records)
        self.flushed.set()
        self.flushed.clear()
        return len(records)

    async def apply_retention(self, now: float) -> None:
        """Delete what is older than the retention days (once per day at most)."""
        day = slot_of(now) // DAY_SLOTS
        if self._retained_day == day:
            return
        self._retained_day = day
        keep = self._retention()
        current = slot_of(now)
        measures = current - keep.measures_days * DAY_SLOTS if keep.measures_days else None
        energy = current - keep.energy_days * DAY_SLOTS if keep.energy_days else None
        if measures is not None or energy is not None:
            await self._repo.forget_before(measures, energy)

    # ------------------------------------------------------------------------ service

    async def start(self) -> None:
        if self._hub is None:
            raise RuntimeError("Recorder.start: no hub to follow (use ingest/flush)")
        await self.load()
        await self.apply_retention(self._clock())
        self._follower = HubFollower(
            self._hub,
            self._supervisor or Supervisor(self._hub),
            self.name,
            (Sample,),
            self._on_sample,
            drain_on_stop=True,
            tick=self._write_closed_slots,
            tick_in=self._wait_time,
        )
        self._follower.start()

    async def stop(self) -> None:
        """Stop following, then write everything received, open slots included."""
        if self._follower is not None:
            await self._follower.stop()
            self._follower = None
        await self.flush()

    async def _on_sample(self, event: Event) -> None:
        if isinstance(event, Sample):
            self.ingest(event)

    def _wait_time(self) -> float:
        now = self._clock()
        next_tick = (slot_of(now) + 1) * SLOT_SECONDS + self._grace
        return max(0.05, next_tick - now)

    async def _write_closed_slots(self) -> None:
        """After each batch of samples, and when the next slot is due: write what closed."""
        now = self._clock()
        until = slot_of(now - self._grace)
        if self._flushed_until is not None and until <= self._flushed_until:
            return
        self._flushed_until = until
        try:
            await self.flush(until)
            await self.apply_retention(now)
        except Exception:
            # The samples of a failed batch are lost; the next batches go on.
            log.exception("recorder: writing a batch failed")
