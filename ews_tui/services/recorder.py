"""The Recorder: samples from the Hub to the store, in batches, one transaction each.

It reads a lossless subscription to :class:`~ews_tui.domain.events.Sample` (it never drops
one), folds samples into 10-minute slots (:class:`~ews_tui.domain.aggregation.Aggregator`),
and once the clock passed a slot (plus ``grace`` seconds for late polls) writes the closed
slots: measures, the slot's last energy index, and the consumption that index gives
(:func:`~ews_tui.domain.consumption.track`) rolled up by hour — all in one transaction.
Retention runs at start and once a day.

What is not written yet is saved every ``save_every`` seconds (half the fast poll period) in the
``open_slots`` table, exactly (counts and sums): a kill loses at most the polls of that
time, and a restart, clean or not, takes the saved slots back and merges what follows into
them (a clean stop also writes its open slots to ``measures``, so readers see them).

Atomic in memory as on disk: the per-device trackers (and the repository's id caches) move
only after COMMIT. A batch that fails (disk full, database locked, I/O error) stays in memory
and is written again at the next save, up to ``max_unwritten`` slots; past that the oldest
are dropped, counted in ``dropped`` and logged, and their consumption, never counted, shows
as a gap from the last stored reading.

``ews history seed`` feeds simulated samples through :meth:`Recorder.ingest` and
:meth:`Recorder.flush`: the same code path as live, without the Hub and the clock (and
without open slots: it closes all it opens).

``EWS_RECORDER_SLOT_SECONDS`` (tests and ``scripts/bench_crash.py`` only) shortens the slot
so that slot ends come every few seconds; every other reader still assumes 10 minutes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

from ews_tui.domain.aggregation import Aggregator, OpenSlot
from ews_tui.domain.consumption import Output, Reading, Tracker, max_rate_of, rollup, track
from ews_tui.domain.events import Event, Sample
from ews_tui.domain.messages import Message
from ews_tui.domain.periods import SLOT_SECONDS
from ews_tui.hub import Hub
from ews_tui.i18n import N_
from ews_tui.services.follower import HubFollower
from ews_tui.store.aggregates_repo import AggregatesRepo, Batch
from ews_tui.supervision import Supervisor, describe

log = logging.getLogger(__name__)

DAY_SLOTS = 86400 // SLOT_SECONDS
MAX_UNWRITTEN = 5000  # slots kept for a retry (32 devices: a day and more)
MAX_RETRY_S = 30.0  # the longest wait between two tries of a failing store
SLOT_SECONDS_ENV = "EWS_RECORDER_SLOT_SECONDS"
GRACE_S: Final = 15.0  # seconds after a slot's end for late polls, before it is written


def slot_seconds_from_env() -> int:
    """The slot length: 600 s, or ``EWS_RECORDER_SLOT_SECONDS`` (tests and benches)."""
    text = os.environ.get(SLOT_SECONDS_ENV, "")
    return int(text) if text.isdigit() and int(text) > 0 else SLOT_SECONDS


def grace_seconds(slot_seconds: int, grace: float = GRACE_S) -> float:
    """How long after a slot's end the recorder waits for late polls before it writes the
    slot: ``grace``, at most a quarter of the slot (a shortened test slot keeps a grace
    shorter than itself, so a slot is written before the next one ends)."""
    return min(grace, slot_seconds / 4)


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
        grace: float = GRACE_S,
        retention: Callable[[], Retention] = Retention,
        max_rate: Callable[[int], float] | None = None,
        supervisor: Supervisor | None = None,
        save_every: float = 0.5,
        max_unwritten: int = MAX_UNWRITTEN,
        slot_seconds: int | None = None,
    ) -> None:
        self._hub = hub
        self._supervisor = supervisor
        self._repo = repo
        self._clock = clock
        self._retention = retention
        self._max_rate = max_rate or (lambda _device: max_rate_of(None))
        self._save_every = save_every
        self._max_unwritten = max_unwritten
        # Only the live recorder saves open slots (a seed or backfill closes all it opens).
        self._keeps_open = hub is not None
        self.slot_seconds = slot_seconds or slot_seconds_from_env()
        self._grace = grace_seconds(self.slot_seconds, grace)
        self._aggregator = Aggregator(self.slot_seconds)
        self._trackers: dict[int, Tracker] = {}  # as committed
        self._unwritten: list[OpenSlot] = []  # closed slots of failed batches
        self._follower: HubFollower | None = None
        self._retained_day: int | None = None
        self._flushed_until: int | None = None
        self._next_save = 0.0  # loop time of the next save
        self.batches = 0
        self.written = 0
        self.failures = 0  # batches that failed in a row (0: the store is fine)
        self.dropped = 0  # slots given up past max_unwritten
        self.flushed = asyncio.Event()  # set after each batch of closed slots (for observers)

    # ------------------------------------------------------------------ the shared path

    async def load(self) -> None:
        """Go on from each device's last stored index, and from the slots saved open."""
        for device_id, reading in (await self._repo.last_readings()).items():
            self._trackers[device_id] = Tracker(self._max_rate(device_id), reading)
        if self._keeps_open:
            for slot in await self._repo.open_slots():
                self._aggregator.restore(slot)

    def ingest(self, sample: Sample) -> None:
        """Fold one sample into its device's open slot (no I/O)."""
        self._aggregator.add(sample.device_id, sample.ts, sample.values)

    async def flush(self, before_slot: int | None = None, *, keep_open: bool = False) -> int:
        """Close the slots before ``before_slot`` (all with None) and write them; count.

        ``keep_open`` (a clean stop): the slots closed by None are also saved open, so that
        a restart inside them merges with them. Raises when the batch fails: its slots are
        kept and written with the next batch.
        """
        if keep_open:
            for slot in self._aggregator.open_slots():
                slot.saved = -1  # saved again below, whatever the store has
        if before_slot is None:
            self._aggregator.close_all()
        else:
            self._aggregator.close(before_slot)
        return await self._write(self._aggregator.drain_slots(), keep_open=keep_open)

    async def save(self) -> int:
        """Save the open slots' news, and write again what a failed batch left; count."""
        return await self._write([])

    async def _write(self, closed: list[OpenSlot], *, keep_open: bool = False) -> int:
        slots = self._unwritten + closed
        # Snapshots: folding may go on while the transaction runs.
        saving = [(s, s.copy()) for s in self._aggregator.unsaved()] if self._keeps_open else []
        partials = [copy for _s, copy in saving]
        if keep_open and self._keeps_open:
            partials += [s.copy() for s in closed if s.saved == -1]
        if not slots and not partials:
            return 0
        records = [s.record() for s in slots]
        batch = Batch(records=records, partials=partials)
        trackers = dict(self._trackers)
        outputs: dict[int, list[Output]] = {}
        for record in records:
            if record.index is None:
                continue
            reading = Reading(record.slot, record.index)
            batch.readings.append((record.device_id, reading))
            rate = self._max_rate(record.device_id)
            state = trackers.get(record.device_id) or Tracker(rate)
            if state.max_rate != rate:
                state = replace(state, max_rate=rate)
            state, produced = track(state, reading)
            trackers[record.device_id] = state
            if produced:
                outputs.setdefault(record.device_id, []).extend(produced)
        batch.rollups = [(device_id, rollup(outs)) for device_id, outs in outputs.items()]
        try:
            await self._repo.write(batch)
        except BaseException:
            self._keep(slots)
            raise
        # Committed: now the trackers, the saved marks and the counters move.
        self._trackers = trackers
        self._unwritten = []
        for slot, copy in saving:
            slot.saved = max(slot.saved, copy.changes)
        if self.failures:
            log.warning("recorder: the store takes writes again after %d failures", self.failures)
            self.failures = 0
            if self._supervisor is not None:
                self._supervisor.restore(self.name)
        if records:
            self.batches += 1
            self.written += len(records)
            self.flushed.set()
            self.flushed.clear()
        return len(records)

    def _store_problem(self, exc: Exception) -> Message:
        if self.dropped:
            return Message(
                N_("the store refuses writes ({reason}); {count} slots given up"),
                {"reason": describe(exc), "count": self.dropped},
            )
        return Message(
            N_("the store refuses writes ({reason}); {count} slots kept to retry"),
            {"reason": describe(exc), "count": len(self._unwritten)},
        )

    def _keep(self, slots: list[OpenSlot]) -> None:
        """A failed batch: its closed slots wait for the next one, up to the bound."""
        self.failures += 1
        excess = len(slots) - self._max_unwritten
        if excess > 0:
            self.dropped += excess
            log.error(
                "recorder: the store refuses writes; %d slot(s) given up (%d in all),"
                " their consumption will show as a gap",
                excess,
                self.dropped,
            )
            slots = slots[excess:]
        self._unwritten = slots

    async def apply_retention(self, now: float) -> None:
        """Delete what is older than the retention days (once per day at most)."""
        current = int(now // self.slot_seconds)
        day = current // DAY_SLOTS
        if self._retained_day == day:
            return
        keep = self._retention()
        measures = current - keep.measures_days * DAY_SLOTS if keep.measures_days else None
        energy = current - keep.energy_days * DAY_SLOTS if keep.energy_days else None
        if measures is not None or energy is not None:
            await self._repo.forget_before(measures, energy)
        self._retained_day = day

    # ------------------------------------------------------------------------ service

    async def start(self) -> None:
        if self._hub is None:
            raise RuntimeError("Recorder.start: no hub to follow (use ingest/flush)")
        await self.load()
        await self.apply_retention(self._clock())
        self._supervisor = self._supervisor or Supervisor(self._hub)
        self._follower = HubFollower(
            self._hub,
            self._supervisor,
            self.name,
            (Sample,),
            self._on_sample,
            drain_on_stop=True,
            tick=self._write_due,
            tick_in=self._wait_time,
        )
        self._follower.start()

    async def stop(self) -> None:
        """Stop following, then write everything received, open slots included."""
        if self._follower is not None:
            await self._follower.stop()
            self._follower = None
        await self.flush(keep_open=True)

    async def _on_sample(self, event: Event) -> None:
        if isinstance(event, Sample):
            self.ingest(event)

    def _wait_time(self) -> float:
        now = self._clock()
        length = self.slot_seconds
        wait = (int(now // length) + 1) * length + self._grace - now
        if self._unwritten or (self._keeps_open and self._aggregator.unsaved()):
            wait = min(wait, self._next_save - asyncio.get_running_loop().time())
        return max(0.05, wait)

    async def _write_due(self) -> None:
        """After each batch of samples, and when a save or the next slot is due: write
        what closed, or save the open slots (the follower's tick)."""
        now = self._clock()
        until = int((now - self._grace) // self.slot_seconds)
        closing = self._flushed_until is None or until > self._flushed_until
        elapsed = asyncio.get_running_loop().time()  # saves keep real time, not the clock
        if not closing and elapsed < self._next_save:
            return
        # While the store fails, retries back off (each one writes all that is kept).
        backoff = 2 ** min(self.failures, 10) if self.failures else 1
        self._next_save = elapsed + min(self._save_every * backoff, MAX_RETRY_S)
        try:
            if closing:
                self._flushed_until = until  # a failed batch's slots are kept: not again
                await self.flush(until)
                await self.apply_retention(now)
            else:
                await self.save()
        except Exception as exc:
            # Kept and written again at the next save (sooner than MAX_RETRY_S), and shown
            # on the home screen's status line until a write goes through.
            if self._supervisor is not None:
                self._supervisor.degrade(self.name, self._store_problem(exc))
            if self.failures <= 1:
                log.exception("recorder: writing a batch failed; it is kept and retried")
            else:
                log.debug("recorder: writing a batch failed again", exc_info=True)
