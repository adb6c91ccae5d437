"""The heap of a long-lived server: full collections that do not stop the loop for long.

CPython's full (generation 2) collection walks every container object alive: the catalog,
the translations, Textual's classes and stylesheets, every imported module, and every widget
of every open UI session. :func:`settle`, called once everything is loaded, collects what
start-up left, then moves the survivors to the permanent generation (``gc.freeze``) so later
collections skip them.

That is not enough while sessions navigate: five sessions hold about 230 k objects, a screen
lives long enough to reach generation 2, and CPython then runs a full collection every two
seconds or so, each walking all of them (250 ms of the loop on the test machine, 19 in 30 s).
:class:`GcPolicy` makes each full collection walk only what is new since the last one: after
every full collection it freezes the survivors (``gc.freeze``), so the next one walks the
objects born since (20 to 60 ms instead of 250 ms). The price: a cycle that became garbage
after it was frozen is not freed by those collections. :meth:`GcPolicy.reclaim` frees it
(unfreeze, full collection, freeze again), and :meth:`GcPolicy.run` (a supervised task of the
runtime, started by :func:`ews_tui.ui.warm_up.warm_up`) calls it when the loop has been quiet
for ``idle_s``: no UI session changed screen (:meth:`GcPolicy.activity`, called by the app),
its thread used under a quarter of a core and woke on time (on a loaded machine a busy loop
waits for a core: little CPU, but late), and ``min_freezes``
freezes wait (a reclaim walks the whole heap, start-up's included: 150 ms of CPU on the test
machine, not worth it for the little one freeze of a quiet box keeps), or at once after
``max_freezes`` freezes since the last reclaim (memory stays bounded on a box that is never
quiet: five sessions opening screens non-stop kept about 4 MB of RSS a freeze on the test
machine, 70 MB after 17, all of it back at the reclaim). Garbage also lives longer: a closed
screen frozen while open still answers weak references (signals) until the reclaim, as it
did before until the next full collection. ``heap.reclaimed`` in the log says each reclaim.
(``gc.get_freeze_count()`` walks the
whole permanent generation, 5 to 20 ms with 400 k objects: the policy counts freezes.)
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

log = logging.getLogger(__name__)

IDLE_CPU_SHARE: Final = 0.25  # the loop's thread below this share of a core: quiet
IDLE_S: Final = 2.0  # quiet for this long: time to reclaim what freezing kept
LATE_S: Final = 0.02  # a check that wakes later than this: the loop is busy
CHECK_S: Final = 0.5
GENERATIONS: Final = 3
SUMMARY_S: Final = 60.0  # the watch's summary line: once a minute
FLUSH_S: Final = 1.0  # full collections: one line a second at most, when there were some
MIN_FREEZES: Final = 3  # freezes since the last reclaim before a quiet loop reclaims
MAX_FREEZES: Final = 24  # full collections frozen since the last reclaim: reclaim even if busy


def settle() -> int:
    """Collect everything (frozen objects too), then freeze what is alive; the number of
    objects frozen. What :class:`GcPolicy` counts as pending starts again from here."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    POLICY.settled(frozen)
    log.info("heap settled: %d objects frozen out of the collector's scans", frozen)
    return frozen


@dataclass
class GcPolicy:
    """Full collections walk only what is new; what freezing kept is reclaimed when quiet.

    ``cpu_clock`` is the CPU clock of the loop's thread (``time.thread_time``): how busy the
    loop was between two checks.
    """

    idle_cpu_share: float = IDLE_CPU_SHARE
    idle_s: float = IDLE_S
    check_s: float = CHECK_S
    late_s: float = LATE_S
    min_freezes: int = MIN_FREEZES
    max_freezes: int = MAX_FREEZES
    cpu_clock: Callable[[], float] = time.thread_time
    enabled: bool = True  # False: install() does nothing (benchmarks compare without it)
    installed: bool = False
    freezes: int = 0  # full collections whose survivors this policy froze
    freezes_since: int = 0  # ... since the last settle or reclaim
    reclaims: int = 0
    _baseline: int = 0  # frozen by the last settle or reclaim: the start's heap
    _reclaiming: bool = field(default=False, repr=False)
    _active_at: float = field(default=0.0, repr=False)  # time.monotonic() of the last activity

    def install(self) -> None:
        """Freeze the survivors of every full collection from now on (once per process)."""
        if self.enabled and not self.installed:
            gc.callbacks.append(self._after_collection)
            self.installed = True

    def uninstall(self) -> None:
        if self.installed:
            gc.callbacks.remove(self._after_collection)
            self.installed = False

    def activity(self) -> None:
        """A UI session did something that makes garbage (a screen opened or closed): not
        the moment for a reclaim."""
        self._active_at = time.monotonic()

    @property
    def last_activity(self) -> float:
        """``time.monotonic()`` of the last :meth:`activity` (0.0: none yet)."""
        return self._active_at

    def settled(self, frozen: int) -> None:
        self._baseline = frozen
        self.freezes_since = 0

    @property
    def pending(self) -> int:
        """Objects frozen since the last settle or reclaim: some may be garbage by now
        (walks the permanent generation: for tests and logs, not for every check)."""
        return max(0, gc.get_freeze_count() - self._baseline)

    def _after_collection(self, phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2 and not self._reclaiming:
            gc.freeze()  # the next full collection walks only the objects born after this
            self.freezes += 1
            self.freezes_since += 1

    def reclaim(self) -> int:
        """Unfreeze, collect everything, freeze the survivors again; objects collected."""
        freezes = self.freezes_since
        self._reclaiming = True
        try:
            started = time.perf_counter()
            gc.unfreeze()
            collected = gc.collect()
            gc.freeze()
        finally:
            self._reclaiming = False
        took = time.perf_counter() - started
        self.settled(gc.get_freeze_count())
        self.reclaims += 1
        log.info(
            "heap.reclaimed: %d objects collected (%d freezes since the last time) in %.0f ms",
            collected,
            freezes,
            took * 1000,
        )
        return collected

    def due(self, freezes: int, quiet_s: float) -> bool:
        """Whether to reclaim now: enough frozen since the last time and the loop quiet
        long enough, or too many freezes to wait."""
        if freezes >= self.max_freezes:
            return True
        return freezes >= max(1, self.min_freezes) and quiet_s >= self.idle_s

    async def run(self) -> None:
        """Check every ``check_s`` how busy the loop's thread was; reclaim when :meth:`due`.

        The policy is installed while this runs: when the task stops (its runtime stops), it
        is uninstalled and what it froze is reclaimed, so a process that goes on (tests, a
        second runtime) collects as CPython does."""
        self.install()
        try:
            await self._check_forever()
        finally:
            self.stop()

    def stop(self) -> None:
        """Uninstall; reclaim what the policy froze, if anything (safe to call twice)."""
        self.uninstall()
        if self.freezes_since:
            self.reclaim()

    async def _check_forever(self) -> None:
        quiet_since = wall = time.monotonic()
        cpu = self.cpu_clock()
        while True:
            await asyncio.sleep(self.check_s)
            now, used = time.monotonic(), self.cpu_clock()
            busy = (used - cpu) > self.idle_cpu_share * max(now - wall, 1e-9) or (
                now - wall > self.check_s + self.late_s
            )
            wall, cpu = now, used
            if busy:
                quiet_since = now
            quiet_s = now - max(quiet_since, self._active_at)
            if self.due(self.freezes_since, quiet_s):
                self.reclaim()
                quiet_since = wall = time.monotonic()
                cpu = self.cpu_clock()


# -- the watch: what the collector does, in the box's log -------------------------------------


@dataclass
class Pauses:
    """Collections of one generation: how many, their longest and total pause, what they
    freed."""

    count: int = 0
    max_s: float = 0.0
    total_s: float = 0.0
    collected: int = 0

    def add(self, pause_s: float, collected: int) -> None:
        self.count += 1
        self.max_s = max(self.max_s, pause_s)
        self.total_s += pause_s
        self.collected += collected

    def text(self) -> str:
        return (
            f"{self.count} max {self.max_s * 1000:.1f} ms total {self.total_s * 1000:.1f} ms "
            f"freed {self.collected}"
        )


def _three() -> list[Pauses]:
    return [Pauses() for _ in range(GENERATIONS)]


@dataclass
class GcWatch:
    """Counts CPython's collections and their pauses per generation (a ``gc.callbacks``
    hook: every thread's collections, the bus thread's included; a pause holds the GIL, so
    it stops both loops). :meth:`run` writes them to the box's log:

    - ``heap.gc full: N collections, max X ms, total Y ms, freed Z (why)``: within a second of
      any full (generation 2) collection, one line a second at most;
    - ``heap.gc: 60 s: gen0 N max X ms total Y ms freed Z; gen1 ...; gen2 ...``: once a minute.

    ``scripts/bench_load.py`` reads the first kind per phase.
    """

    clock: Callable[[], float] = time.perf_counter
    totals: list[Pauses] = field(default_factory=_three)  # since installed
    minute: list[Pauses] = field(default_factory=_three)  # since the last summary line
    full: Pauses = field(default_factory=Pauses)  # full collections not yet in a line
    reason: str = ""  # why the full collection under way runs (the policy says it)
    _reasons: list[str] = field(default_factory=list)
    _started: float | None = None
    installed: bool = False

    def install(self) -> None:
        if not self.installed:
            gc.callbacks.append(self._note)
            self.installed = True

    def uninstall(self) -> None:
        if self.installed:
            gc.callbacks.remove(self._note)
            self.installed = False

    def _note(self, phase: str, info: dict[str, int]) -> None:
        # Inside the collection: counters only (no logging: its locks, its handlers' I/O).
        if phase == "start":
            self._started = self.clock()
            return
        if self._started is None:
            return
        pause = self.clock() - self._started
        self._started = None
        generation, collected = info["generation"], info["collected"]
        self.totals[generation].add(pause, collected)
        self.minute[generation].add(pause, collected)
        if generation == GENERATIONS - 1:
            self.full.add(pause, collected)
            why = self.reason or "explicit or automatic"
            if why not in self._reasons:
                self._reasons.append(why)

    def flush_full(self) -> None:
        """Log the full collections since the last time, if any."""
        if not self.full.count:
            return
        full, self.full = self.full, Pauses()
        reasons, self._reasons = self._reasons, []
        log.info(
            "heap.gc full: %d collections, max %.1f ms, total %.1f ms, freed %d (%s)",
            full.count,
            full.max_s * 1000,
            full.total_s * 1000,
            full.collected,
            ", ".join(reasons),
        )

    def summary(self, seconds: float) -> None:
        """Log the collections since the last summary (and start anew)."""
        minute, self.minute = self.minute, _three()
        parts = "; ".join(f"gen{g} {p.text()}" for g, p in enumerate(minute))
        log.info("heap.gc: %.0f s: %s", seconds, parts)

    async def run(self, flush_s: float = FLUSH_S, summary_s: float = SUMMARY_S) -> None:
        """Write the lines (see the class) until cancelled; installed meanwhile."""
        self.install()
        loop = asyncio.get_running_loop()
        last_summary = loop.time()
        try:
            while True:
                await asyncio.sleep(flush_s)
                self.flush_full()
                now = loop.time()
                if now - last_summary >= summary_s:
                    self.summary(now - last_summary)
                    last_summary = now
        finally:
            self.uninstall()


#: The box's watch (installed by :func:`ews_tui.ui.warm_up.warm_up`).
WATCH: Final = GcWatch()


#: Off in ``ews serve`` (measured on a quiet machine, ten sessions on the consumption screens:
#: RTU poll period p99 1.76× unloaded with the policy, 1.21× without). A reclaim walks the whole
#: heap, 0.5–1 s holding the GIL, and the bus thread cannot poll meanwhile; under sustained
#: load the 24-freeze cap forces one every ~45 s. It halves the longest stall while sessions
#: navigate (221 against 382 ms): ``scripts/bench_sessions.py --heap-policy`` compares.
POLICY: Final = GcPolicy(enabled=False)
