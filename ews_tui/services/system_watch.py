"""The box watching itself: its data dir's disk, its clock, its own start and stop.

A service of the one loop. At start it reads the heartbeat marker of the previous run
(``heartbeat.json`` in the data dir) and publishes :class:`BoxStarted` (saying whether that
run stopped unexpectedly, and when it was last seen alive), then writes its own marker.
Every ``interval_s`` (a minute) its supervised loop

- compares the wall clock with the monotonic clock since the last check: a difference
  beyond ``system.clock_jump_s`` is a :class:`ClockJumped` of that size, either way;
- reads the room left on the data dir's filesystem (``os.statvfs`` in a thread) and
  publishes :class:`DiskLow` or :class:`DiskRecovered` when its level changes
  (:func:`~ews_tui.domain.system_watch.disk_level`, with its hysteresis); the first
  reading (at once, at start) is always published, so an alarm restored from the previous
  run is confirmed or cleared;
- writes the heartbeat (when it was last seen alive), at most once a minute.

At stop it publishes :class:`BoxStopping` and marks the heartbeat clean. The alarm engine
turns these into system alarms. A disk that cannot be read or a marker that cannot be
written is shown as this service degraded (a system alarm too), never only logged.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ews_tui.atomic_file import write_atomically
from ews_tui.config.model import SystemSettings
from ews_tui.domain.events import (
    BoxStarted,
    BoxStopping,
    ClockJumped,
    DiskLow,
    DiskRecovered,
)
from ews_tui.domain.messages import N_, Message
from ews_tui.domain.system_watch import (
    ClockReading,
    DiskLevel,
    DiskSpace,
    Heartbeat,
    clock_jump,
    disk_level,
)
from ews_tui.hub import Hub
from ews_tui.supervision import Supervised, Supervisor

log = logging.getLogger(__name__)

HEARTBEAT_FILE = "heartbeat.json"
INTERVAL_S = 60.0
HEARTBEAT_S = 60.0

FreeSpace = Callable[[Path], DiskSpace]


def statvfs_space(path: Path) -> DiskSpace:
    """The room an unprivileged writer has on the filesystem of ``path`` (blocking)."""
    st = os.statvfs(path)
    return DiskSpace(st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize)


def read_heartbeat(path: Path) -> Heartbeat | None:
    """The previous run's marker; None when there is none or it is not one (blocking)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        log.warning("system watch: %s unreadable: %s", path, error)
        return None
    return Heartbeat.loads(text)


class SystemWatch:
    """Publishes the box's own news: disk almost full, clock jumped, started and stopped."""

    name = "system-watch"

    def __init__(
        self,
        hub: Hub,
        *,
        data_dir: Path,
        settings: Callable[[], SystemSettings],
        supervisor: Supervisor,
        wall: Callable[[], float] = time.time,
        mono: Callable[[], float] = time.monotonic,
        free_space: FreeSpace = statvfs_space,
        interval_s: float = INTERVAL_S,
    ) -> None:
        self._hub = hub
        self._data_dir = data_dir
        self._settings = settings
        self._supervisor = supervisor
        self._wall = wall
        self._mono = mono
        self._free_space = free_space
        self._interval_s = interval_s
        self._level: DiskLevel | None = None  # None: not read yet
        self._last: ClockReading | None = None
        self._started = 0.0
        self._beaten: float | None = None  # monotonic time of the last heartbeat written
        self._supervised: Supervised | None = None
        self._problems: set[str] = set()  # what this service cannot do now (degraded)
        self._pending: Message | None = None  # trouble met in start(), shown by the loop
        # A write cancelled at stop still runs in its thread: never after the clean one.
        self._file_lock = threading.Lock()
        self._stopped_cleanly = False

    @property
    def heartbeat_path(self) -> Path:
        return self._data_dir / HEARTBEAT_FILE

    @property
    def level(self) -> DiskLevel | None:
        """The data dir's disk level at the last check (None before the first)."""
        return self._level

    # -- service ------------------------------------------------------------------------------

    async def start(self) -> None:
        self._stopped_cleanly = False
        previous = await asyncio.to_thread(read_heartbeat, self.heartbeat_path)
        unexpected = previous is not None and not previous.clean
        self._hub.publish(BoxStarted(unexpected, previous.seen if previous else None))
        if unexpected:
            log.warning("the previous run stopped unexpectedly (last seen alive at %s)",
                        previous.seen if previous else "?")  # fmt: skip
        self._started = self._wall()
        await self._write_heartbeat(clean=False)  # there once the box says it runs
        # The first check runs at once in the loop (supervised: its trouble shows).
        self._supervised = self._supervisor.supervise(self.name, self._run)

    async def stop(self) -> None:
        if self._supervised is not None:
            await self._supervised.stop()
            self._supervised = None
        self._hub.publish(BoxStopping())
        await self._write_heartbeat(clean=True)

    async def _run(self) -> None:
        if self._pending is not None:  # found at start, before it could be shown
            self._supervisor.degrade(self.name, self._pending)
            self._pending = None
        while True:
            await self.check()
            await asyncio.sleep(self._interval_s)

    # -- one check ----------------------------------------------------------------------------

    async def check(self) -> None:
        """Clock, disk and heartbeat, once (the loop calls it every ``interval_s``)."""
        settings = self._settings()
        reading = ClockReading(self._wall(), self._mono())
        last, self._last = self._last, reading
        if last is not None:
            jump = clock_jump(last, reading, settings.clock_jump_s)
            if jump is not None:
                expected = last.wall + (reading.mono - last.mono)
                log.warning("the wall clock jumped by %+.0f s", jump)
                self._hub.publish(ClockJumped(jump, expected, reading.wall))
        await self._check_disk(settings)
        if self._beaten is None or reading.mono - self._beaten >= HEARTBEAT_S:
            await self._write_heartbeat(clean=False)

    async def _check_disk(self, settings: SystemSettings) -> None:
        path = self._data_dir
        try:
            space = await asyncio.to_thread(self._free_space, path)
        except OSError as error:
            reason = error.strerror or str(error)
            msgid = N_("cannot read the free space of {path}: {error}")
            self._trouble("disk", msgid, path=str(path), error=reason)
            return
        self._well("disk")
        was = self._level
        level = disk_level(space, settings.disk_limits, was or DiskLevel.OK)
        if level == was:
            return
        self._level = level
        if level is DiskLevel.OK:
            self._hub.publish(DiskRecovered(str(path), space.free, space.total))
        else:
            log.warning("data dir disk %s: %d bytes free of %d", level, space.free, space.total)
            self._hub.publish(DiskLow(str(path), level.value, space.free, space.total))

    async def _write_heartbeat(self, *, clean: bool) -> None:
        beat = Heartbeat(self._started, self._wall(), clean)
        try:
            await asyncio.to_thread(self._write_file, beat)
        except OSError as error:
            reason = error.strerror or str(error)
            path = str(self.heartbeat_path)
            self._trouble("heartbeat", N_("cannot write {path}: {error}"), path=path, error=reason)
            return
        self._beaten = self._mono()
        self._well("heartbeat")

    def _write_file(self, beat: Heartbeat) -> None:
        with self._file_lock:
            if self._stopped_cleanly:
                return
            write_atomically(self.heartbeat_path, beat.dumps().encode())
            self._stopped_cleanly = beat.clean

    # -- degraded while something cannot be done ----------------------------------------------

    def _trouble(self, what: str, msgid: str, **params: object) -> None:
        problem = Message(msgid, params)
        log.error("system watch: %s", problem.render())
        self._problems.add(what)
        if self._supervised is None:
            self._pending = problem
        else:
            self._supervisor.degrade(self.name, problem)

    def _well(self, what: str) -> None:
        if what not in self._problems:
            return
        self._problems.discard(what)
        if not self._problems:
            self._pending = None
            self._supervisor.restore(self.name)
