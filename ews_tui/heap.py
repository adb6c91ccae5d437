"""The heap of a long-lived server: full collections when nobody waits for them.

CPython's full (generation 2) collection walks every tracked object outside the permanent
generation and holds the GIL meanwhile: the UI sessions' loop and the pollers' thread
(``ews_tui.modbus.bus_thread``) both stop. :func:`settle`, called once everything is loaded,
collects what start-up left and freezes the survivors (``gc.freeze``): later collections
never walk the modules, catalogs, translations and stylesheets again.

What they walk is the sessions' objects and their garbage (measured on the loaded 2-core
test machine, load average 4 to 7; CPU times of the collecting thread):

- an open session holds about 11 k tracked objects (lists, sets, tuples, dicts, weak
  references, Textual's ``FIFOCache``/``LRUCache``, ``Styles``, ``Fraction``...); a closed
  screen leaves its widgets in cycles Textual makes (widget and styles, screen and
  compositor, signals, caches: about 70 tracked objects a widget). Ten seconds into five
  sessions navigating, generation 2 held 58 k garbage objects: nine closed screens, 844
  widgets, and 170 tracebacks with their frames;
- that garbage lives for seconds (a screen's visit, a consumption table replaced at each
  key), longer than the young generations: 4 to 15 k objects a second reached generation 2
  while sessions worked. CPython's own rule (a full collection once generation 1 was
  collected 10 times and the long-lived objects grew by a quarter) then ran one every 2 to
  5 s: 7 and 13 in 30 s with ten sessions pressing consumption keys (pauses up to 700 ms
  wall, 35-45 k objects freed each), and the navigating bench's longest loop stall was one
  (190-210 ms on a quiet machine, 643 ms wall / 187 ms CPU here).

:func:`tune` (on in ``ews serve``, from :func:`ews_tui.ui.warm_up.warm_up`) keeps CPython's own
collections and only widens the young generations (:data:`BOX_THRESHOLDS`: generation 0 is
collected every 2,000 net allocations instead of 700, generation 1 every 20 k instead of 7 k,
and a full collection is considered after 25 of those instead of 10, every 500 k instead of
70 k), so that what a key or a screen makes and drops within a second or two dies young
instead of reaching generation 2, whose growth is what starts a full collection. Generation 1
is kept at 10 of generation 0's collections: at 25 (2000/25/10, the previous setting) its
collections walked up to 50 k objects, 17 to 27 ms each with five sessions opening screens,
the largest part of the loop's longest stall; at 10 they take 8 to 12 ms. With Textual's
lines made without their per-line caches (:mod:`ews_tui.ui.strips`, which took a quarter of
the tracked objects), the full ``bench_load.py`` on a quiet machine (ten sessions, 60 s a
phase) ran no full collection under Live keys and one (219 ms of CPU) under consumption keys,
against 7 and 19 before; RTU poll period p99 1.00x and 1.01x unloaded, the serve's CPU
20.4 % and 23.6 % of a core (it was 42.8 % and 55.4 %).

:class:`GcPolicy` (off in ``ews serve``: see :data:`POLICY`; when on, installed by
:func:`ews_tui.ui.warm_up.warm_up`):

- **No automatic full collection**: generation 2's threshold out of reach
  (:data:`AUTOMATIC_FULL_OFF`; CPython 3.11 starts one only when ``generations[2].count``
  passes it).
- **Young thresholds 1000/30** (CPython's: 700/10): generation 1 is collected every 30 k net
  allocations instead of 7 k, so more of a key's or a screen's cycles die there. Under the
  consumption load (one run each, noisy), garbage reaching generation 2 was about 10 k
  objects a second with 700/10, 8 k with 1000/30, 2 k with 3000/20, but 3000/20's
  generation-1 pauses reached 22 ms of CPU; 1000/30's 12 to 20 ms (34 at worst),
  generation 0's under 3 ms.
- **A full collection when the loop is quiet**: its task checks every 0.5 s and runs
  ``gc.collect(2)`` once, for ``idle_s`` (2 s), no session typed, changed screen or ended
  (:meth:`GcPolicy.activity`, from the app and the terminal driver), the loop's thread used
  under a quarter of a core and its checks came on time (a loaded machine's busy loop waits
  for a core: little CPU, but late), and there is something to collect (a session's
  activity, or 10 generation-1 collections, since the last one). Nobody waits for it; the
  pollers lose one GIL pause.
- **A forced one past a memory cap**: RSS 48 MB above its lowest point since the last full
  collection. Sessions that never pause (the benchmarks) get one every 30 to 60 s instead of
  CPython's every 2 to 5 s; it walks what accumulated: 120-310 k objects freed, 260-600 ms
  of CPU on the test machine. Less time in full collections (ten sessions on consumption
  keys: 2.4 s of pauses a minute against 4.5 s, wall), but this one pause is longer than
  CPython's. A smaller cap does not make it proportionally shorter: after a collection the
  freed memory is used again before RSS grows, so garbage piles up past the cap (24 MB: two
  forced collections in 60 s of consumption keys, 112 k and 288 k objects, 276 and 495 ms
  CPU; 48 MB: one, 182 k objects, 425 ms). What would shorten it is less garbage reaching
  generation 2 (the closed screens' widgets above).

Measured back to back, CPython's own collections then this policy, two runs each (loaded
test machine, load average 4.4 to 7.5; the lead re-measures on a quiet one):

- ``bench_sessions.py --navigating-only`` (five sessions opening every screen): longest loop
  stall 756 and 438 ms wall (271 and 145 ms of the loop's CPU) before, 311 and 341 ms wall
  (79 and 50 ms CPU: the rest is the machine's load) after; longest collection 187 and
  122 ms CPU (full) before, 2 and 15 ms (young) after: no full collection in the window.
- ``bench_load.py --window 30``, ten sessions: consumption keys, 7 and 13 full collections
  (up to 642 and 701 ms wall) before, one forced (371 and 390 ms CPU) after, RTU period p99
  1.34 and 1.40 × unloaded before, 1.61 and 1.23 after; Live keys, 3 and 5 before, one
  and none after (a quiet one at 31 % CPU, then none once keys counted as activity), RTU
  p99 1.47 and 1.82 before, 1.02 and 1.10 after. Over 60 s
  of consumption keys (two runs): one forced collection each (584 and 425 ms CPU), RTU
  p99 1.78 and 1.13.
- ``bench_memory.py``: RSS growth after 40 sessions 3.5 MB before, 9.8 MB after (target
  10): the garbage left for later raises the allocator's high-water mark in the first
  measured round (136.1, 144.8, 144.8, 143.9 MB), flat after that.

:class:`GcWatch` writes every full collection and a per-generation summary a minute to the
box's log (``heap.gc``); ``bench_load.py`` reads them per phase.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

log = logging.getLogger(__name__)

IDLE_CPU_SHARE: Final = 0.25  # the loop's thread below this share of a core: quiet
IDLE_S: Final = 2.0  # quiet for this long: time for a full collection
LATE_S: Final = 0.02  # a check that wakes later than this: the loop is busy
CHECK_S: Final = 0.5
YOUNG: Final = (1000, 30)  # generation 0 and 1 thresholds (CPython: 700, 10; see above)
#: The box's thresholds (:func:`tune`): CPython's are 700, 10, 10.
BOX_THRESHOLDS: Final = (2000, 10, 25)
MIN_YOUNG: Final = 10  # generation-1 collections since the last full one: worth a quiet one
CAP_MB: Final = 48  # RSS grown this much since the last full collection: one even if busy
AUTOMATIC_FULL_OFF: Final = 1 << 30  # generation 2's threshold: CPython never reaches it
GENERATIONS: Final = 3
SUMMARY_S: Final = 60.0  # the watch's summary line: once a minute
FLUSH_S: Final = 1.0  # full collections: one line a second at most, when there were some
PAGE_BYTES: Final = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    """This process's resident memory (``/proc/self/statm``: a read of a few microseconds)."""
    with open("/proc/self/statm", "rb") as stream:
        return int(stream.read().split()[1]) * PAGE_BYTES


def tune() -> None:
    """The box's collection thresholds (:data:`BOX_THRESHOLDS`; see the module's text)."""
    gc.set_threshold(*BOX_THRESHOLDS)
    log.info("heap: collection thresholds %s", "/".join(map(str, BOX_THRESHOLDS)))


def settle() -> int:
    """Collect everything (frozen objects too), then freeze what is alive; the number of
    objects frozen (out of every later collection's walk)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    POLICY.collected()
    log.info("heap settled: %d objects frozen out of the collector's scans", frozen)
    return frozen


# -- the watch: what the collector does, in the box's log -------------------------------------


@dataclass
class Pauses:
    """Collections of one generation: how many, their longest and total pause (wall time,
    and the collecting thread's CPU time: on a loaded machine the wall time is partly the
    process waiting for a core), what they freed."""

    count: int = 0
    max_s: float = 0.0
    total_s: float = 0.0
    max_cpu_s: float = 0.0
    total_cpu_s: float = 0.0
    collected: int = 0

    def add(self, pause_s: float, cpu_s: float, collected: int) -> None:
        self.count += 1
        self.max_s = max(self.max_s, pause_s)
        self.total_s += pause_s
        self.max_cpu_s = max(self.max_cpu_s, cpu_s)
        self.total_cpu_s += cpu_s
        self.collected += collected

    def text(self) -> str:
        return (
            f"{self.count} max {self.max_s * 1000:.1f} ms total {self.total_s * 1000:.1f} ms "
            f"cpu max {self.max_cpu_s * 1000:.1f} ms total {self.total_cpu_s * 1000:.1f} ms "
            f"freed {self.collected}"
        )


def _three() -> list[Pauses]:
    return [Pauses() for _ in range(GENERATIONS)]


@dataclass
class GcWatch:
    """Counts CPython's collections and their pauses per generation (a ``gc.callbacks``
    hook: every thread's collections, the bus thread's included; a pause holds the GIL, so
    it stops both loops). :meth:`run` writes them to the box's log:

    - ``heap.gc full: N collections, max X ms, total Y ms, cpu max X ms, total Y ms, freed Z
      (why)``: within a second of any full (generation 2) collection, one line a second at
      most;
    - ``heap.gc: 60 s: gen0 N max X ms total Y ms cpu max X ms total Y ms freed Z; gen1 ...;
      gen2 ...``: once a minute.

    ``scripts/bench_load.py`` reads the first kind per phase.
    """

    clock: Callable[[], float] = time.perf_counter
    cpu_clock: Callable[[], float] = time.thread_time  # the collecting thread's
    totals: list[Pauses] = field(default_factory=_three)  # since installed
    minute: list[Pauses] = field(default_factory=_three)  # since the last summary line
    full: Pauses = field(default_factory=Pauses)  # full collections not yet in a line
    reason: str = ""  # why the full collection under way runs (the policy says it)
    _reasons: list[str] = field(default_factory=list)
    _started: float | None = None
    _cpu: float = 0.0
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
            self._started, self._cpu = self.clock(), self.cpu_clock()
            return
        if self._started is None:
            return
        pause, cpu = self.clock() - self._started, self.cpu_clock() - self._cpu
        self._started = None
        generation, collected = info["generation"], info["collected"]
        self.totals[generation].add(pause, cpu, collected)
        self.minute[generation].add(pause, cpu, collected)
        if generation == GENERATIONS - 1:
            self.full.add(pause, cpu, collected)
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
            "heap.gc full: %d collections, max %.1f ms, total %.1f ms, "
            "cpu max %.1f ms, total %.1f ms, freed %d (%s)",
            full.count,
            full.max_s * 1000,
            full.total_s * 1000,
            full.max_cpu_s * 1000,
            full.total_cpu_s * 1000,
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


@dataclass
class GcPolicy:
    """Full collections only when the loop is quiet, or past a memory cap; young ones tuned.

    ``clock`` (``time.monotonic``), ``cpu_clock`` (the loop thread's CPU time,
    ``time.thread_time``) and ``rss`` (:func:`rss_bytes`) are what :meth:`check` reads: tests
    give their own.
    """

    enabled: bool = True  # False: install() does nothing (CPython's own collections)
    young: tuple[int, int] = YOUNG
    min_young: int = MIN_YOUNG
    cap_bytes: int = CAP_MB << 20
    idle_s: float = IDLE_S
    check_s: float = CHECK_S
    late_s: float = LATE_S
    idle_cpu_share: float = IDLE_CPU_SHARE
    clock: Callable[[], float] = time.monotonic
    cpu_clock: Callable[[], float] = time.thread_time
    rss: Callable[[], int] = rss_bytes
    installed: bool = False
    quiet: int = 0  # full collections run because the loop was quiet
    forced: int = 0  # ... because the memory grew past the cap
    _saved: tuple[int, int, int] = field(default=(700, 10, 10), repr=False)
    _rss_low: int = field(default=0, repr=False)  # the lowest RSS since the last full collection
    _active_at: float = field(default=-math.inf, repr=False)  # the last activity()
    _quiet_since: float = field(default=0.0, repr=False)
    _collected_at: float = field(default=0.0, repr=False)
    _checked_at: float = field(default=0.0, repr=False)
    _cpu_at: float = field(default=0.0, repr=False)

    def install(self) -> None:
        """CPython's automatic full collections off, the young thresholds set (once)."""
        if self.enabled and not self.installed:
            self._saved = gc.get_threshold()
            gc.set_threshold(*self.young, AUTOMATIC_FULL_OFF)
            self.installed = True
            self.collected()

    def uninstall(self) -> None:
        """CPython's thresholds as they were (a process that goes on collects as before)."""
        if self.installed:
            gc.set_threshold(*self._saved)
            self.installed = False

    def activity(self) -> None:
        """A UI session did something (a key typed, a screen opened or closed, the session
        ended): not the moment for a full collection, but one is due once quiet."""
        self._active_at = self.clock()

    @property
    def last_activity(self) -> float:
        """The ``clock`` time of the last :meth:`activity` (-inf: none yet)."""
        return self._active_at

    def collected(self) -> None:
        """A full collection just ran: memory and quiet are measured from now."""
        self._rss_low = self.rss()
        self._checked_at = self._quiet_since = self._collected_at = self.clock()
        self._cpu_at = self.cpu_clock()

    @property
    def dirty(self) -> bool:
        """Whether a session did something (:meth:`activity`) since the last full collection:
        a closed screen or session is garbage waiting for one."""
        return self._active_at > self._collected_at

    def due(self, *, quiet_s: float, young_since: int, growth: int) -> str | None:
        """Why a full collection is due now (None: it is not): ``growth`` bytes of RSS since
        the last one past the cap ("forced"), or the loop quiet for ``idle_s`` with
        ``young_since`` generation-1 collections since the last one, or a session's activity
        ("quiet")."""
        if growth >= self.cap_bytes:
            return "forced"
        if quiet_s >= self.idle_s and (young_since >= self.min_young or self.dirty):
            return "quiet"
        return None

    def check(self) -> str | None:
        """How busy the loop was since the last check; a full collection if :meth:`due`
        (its reason, else None). Busy: its thread used more than ``idle_cpu_share`` of a core,
        or this check came late (on a loaded machine a busy loop waits for a core: little
        CPU, but late)."""
        now, cpu = self.clock(), self.cpu_clock()
        elapsed = now - self._checked_at
        if (cpu - self._cpu_at) > self.idle_cpu_share * max(elapsed, 1e-9) or (
            elapsed > self.check_s + self.late_s
        ):
            self._quiet_since = now
        self._checked_at, self._cpu_at = now, cpu
        rss = self.rss()
        self._rss_low = min(self._rss_low, rss)
        growth = rss - self._rss_low
        quiet_s = now - max(self._quiet_since, self._active_at)
        why = self.due(quiet_s=quiet_s, young_since=gc.get_count()[2], growth=growth)
        if why is not None:
            self.collect(why, growth)
        return why

    def collect(self, why: str, growth: int = 0) -> int:
        """A full collection now, for ``why`` (the watch's line says it); objects freed."""
        WATCH.reason = f"{why}, RSS +{growth / 2**20:.0f} MB"
        try:
            freed = gc.collect(2)
        finally:
            WATCH.reason = ""
        if why == "forced":
            self.forced += 1
        else:
            self.quiet += 1
        self.collected()
        return freed

    async def run(self) -> None:
        """:meth:`check` every ``check_s``; installed while this runs: when the task stops
        (its runtime stops) CPython's thresholds are back."""
        self.install()
        try:
            while True:
                await asyncio.sleep(self.check_s)
                self.check()
        finally:
            self.uninstall()


#: The box's policy (:func:`ews_tui.ui.warm_up.warm_up` installs it and runs its task when
#: it is enabled). **Off in ews serve**, measured on a quiet machine once the consumption
#: screens shared their reads (load 0.3-1.1, ``bench_load.py --only consumption``, 60 s):
#: with it, one forced full collection freed 478 k objects in 734 ms of CPU, holding the GIL,
#: and the RTU poll period p99 was 1.41x unloaded; with CPython's own collections, 19 full
#: ones of at most 226 ms, p99 1.12x. The poll period comes first. The policy does make
#: navigating smoother (five sessions opening every screen: longest stall 82 ms against
#: 398 ms, no full collection in the window), so ``bench_sessions.py --heap-policy on``
#: keeps the comparison; what would make it win both is less garbage reaching generation 2.
POLICY: Final = GcPolicy(enabled=False)
