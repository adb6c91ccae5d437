"""The alarm engine: a service of the one loop that raises, clears and acknowledges alarms.

It follows the Hub (a lossless :class:`~ews_tui.services.follower.HubFollower`): device and
gateway states, samples (breakers, chargers, inputs, thresholds) and the box's own news,
turned into changes by :class:`~ews_tui.domain.alarm_sources.AlarmSources`. Changes are
written in batches, one transaction each (:meth:`AlarmsRepo.record`), then remembered by the
:class:`~ews_tui.domain.alarms.AlarmBook`, then published as
:class:`~ews_tui.domain.alarms.AlarmChanged` and appended to the ``events`` CSV folder.

Transaction hooks (:meth:`AlarmEngine.add_transaction_hook`) run inside the transaction that
writes a batch, with the batch's transitions: the mail outbox queues its mails there.

After a restart the active alarms are read back and re-checked: each must be seen again
(raised again or cleared by a fresh state or value) within ``recheck_s`` (plus a threshold's
delay) or it is cleared; the box's own alarms (a failed service, a queue behind) belonged to
the previous run and are cleared at once. Acknowledgements and thresholds written by another
process (``ews alarms ack``, ``ews alarms threshold``) are read back every ``SYNC_S``.
Alarms cleared longer ago than ``retention.alarms_days`` are deleted every hour.

A batch that fails to write is kept and the loop crashes: the supervisor restarts it with
backoff (the home screen says so) and the batch is written then.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite

from ews_tui.config import Config
from ews_tui.domain.alarm_detail import render_detail
from ews_tui.domain.alarm_sources import SOURCE_EVENTS, AlarmSources, Threshold, subject_gone
from ews_tui.domain.alarms import (
    FLAP_WINDOW_S,
    TYPES,
    Acknowledgement,
    AlarmBook,
    AlarmChanged,
    AlarmError,
    AlarmKey,
    AlarmType,
    Change,
    Clear,
    Transition,
    TransitionKind,
    may_acknowledge,
)
from ews_tui.domain.auth import Role
from ews_tui.domain.catalog import Catalog
from ews_tui.domain.events import Event, InstallationChanged
from ews_tui.domain.installation import Installation
from ews_tui.domain.messages import N_
from ews_tui.hub import Hub
from ews_tui.services.csv_folders import EVENTS_HEADER
from ews_tui.services.follower import HubFollower
from ews_tui.store.alarms_repo import AlarmCounts, AlarmFilter, AlarmPage, AlarmsRepo
from ews_tui.store.db import Database
from ews_tui.supervision import Supervisor

log = logging.getLogger(__name__)

#: Seconds after a start within which a restored active alarm must be seen again.
RECHECK_S = 120.0
SYNC_S = 10.0  # acknowledgements given by another process (``ews alarms ack``) are read back
PURGE_S = 3600.0
TICK_S = 1.0

TransactionHook = Callable[[aiosqlite.Connection, tuple[Transition, ...]], Awaitable[None]]
_SYSTEM_CONDITIONS = (AlarmType.SERVICE_FAILED, AlarmType.SERVICE_DEGRADED, AlarmType.QUEUE_BEHIND)


class AlarmEngine:
    """The runtime's alarm service; the UI and the CLI read and acknowledge through it."""

    name = "alarms"

    def __init__(
        self,
        db: Database,
        hub: Hub,
        *,
        installation: Callable[[], Installation],
        catalog: Callable[[], Catalog],
        config: Callable[[], Config],
        clock: Callable[[], float] = time.time,
        supervisor: Supervisor | None = None,
        flap_window_s: float = FLAP_WINDOW_S,
        recheck_s: float = RECHECK_S,
        csv_events: bool = True,
    ) -> None:
        self.repo = AlarmsRepo(db)
        self._hub = hub
        self._installation = installation
        self._catalog = catalog
        self._config = config
        self._clock = clock
        self._flap_window_s = flap_window_s
        self._recheck_s = recheck_s
        self._csv_events = csv_events
        self._book = AlarmBook(flap_window_s=flap_window_s)
        self._sources: AlarmSources | None = None
        self._pending: list[Change] = []
        self._unconfirmed: dict[AlarmKey, float] = {}
        self._hooks: list[TransactionHook] = []
        self._lock = asyncio.Lock()
        self._next_sync = 0.0
        self._next_purge = 0.0
        self._next_tick = 0.0
        self.written = 0  # rows written since start (the bench reads it)
        self.changes_seen = 0  # changes taken from events since start
        self._follower = HubFollower(
            hub,
            supervisor or Supervisor(hub),
            self.name,
            (*SOURCE_EVENTS, InstallationChanged),
            self._handle,
            lossless=True,
            drain_on_stop=True,
            tick=self._tick,
            tick_in=lambda: TICK_S,
        )

    # -- seams ----------------------------------------------------------------------------

    def add_transaction_hook(self, hook: TransactionHook) -> None:
        """Run ``hook(conn, transitions)`` inside each transaction that writes alarms (the
        mail outbox queues its mails there: stored with the alarm, or not at all)."""
        self._hooks.append(hook)

    # -- read models ------------------------------------------------------------------------

    @property
    def counts(self) -> AlarmCounts:
        """Active alarms, and those of them not acknowledged (kiosk, home status line)."""
        active = self._book.active()
        return AlarmCounts(len(active), sum(1 for a in active if a.ack is None))

    async def page(self, flt: AlarmFilter, offset: int = 0, limit: int = 50) -> AlarmPage:
        return await self.repo.page(flt, offset, limit)

    async def thresholds(self) -> list[Threshold]:
        return await self.repo.thresholds()

    # -- service ------------------------------------------------------------------------------

    async def start(self) -> None:
        self._follower.subscribe()  # first: nothing published meanwhile is missed
        now = self._clock()
        alarms = await self.repo.open_alarms(now - self._flap_window_s)
        self._book = AlarmBook(alarms, await self.repo.max_id() + 1, self._flap_window_s)
        thresholds = await self.repo.thresholds()
        self._sources = AlarmSources(self._installation(), self._catalog(), tuple(thresholds))
        self._sources.set_installation(self._installation())
        delays = {f"threshold:{t.id}": t.delay_s for t in thresholds}
        for alarm in self._book.active():
            if alarm.type in _SYSTEM_CONDITIONS:
                self._pending.append(
                    Clear(alarm.type, alarm.subject, now, N_("cleared at the restart"))
                )
            elif not TYPES[alarm.type].momentary:
                delay = delays.get(alarm.subject.part, 0.0)
                self._unconfirmed[alarm.key] = now + self._recheck_s + delay
        self._pending += self._gone(now) + self._orphans(thresholds, now)
        async with self._lock:
            try:
                await self._flush()
            except Exception:  # kept: the loop writes it at its first turn (and says so)
                log.exception("alarms: the changes found at start could not be written")
        self._follower.start()

    async def stop(self) -> None:
        await self._follower.stop()

    # -- thresholds ---------------------------------------------------------------------------

    async def save_threshold(self, threshold: Threshold) -> Threshold:
        saved = await self.repo.save_threshold(threshold)
        await self._reload_thresholds()
        return saved

    async def delete_threshold(self, threshold_id: int) -> None:
        await self.repo.delete_threshold(threshold_id)
        await self._reload_thresholds()

    async def _reload_thresholds(self) -> None:
        thresholds = await self.repo.thresholds()
        sources = self._sources
        if sources is not None:
            if sources.thresholds == tuple(t for t in thresholds if t.enabled):
                return
            sources.set_thresholds(thresholds)
        self._pending += self._orphans(thresholds, self._clock())

    def _orphans(self, thresholds: Sequence[Threshold], now: float) -> list[Change]:
        """Clear the alarms of thresholds deleted or switched off."""
        kept = {f"threshold:{t.id}" for t in thresholds if t.enabled}
        return [
            Clear(a.type, a.subject, now, N_("threshold deleted or switched off"))
            for a in self._book.active()
            if a.type is AlarmType.THRESHOLD and a.subject.part not in kept
        ]

    # -- acknowledgement ----------------------------------------------------------------------

    async def acknowledge(self, ids: Sequence[int] | None, role: Role | None, session: str) -> int:
        """Acknowledge ``ids`` (None: every unacknowledged alarm) as ``role`` from
        ``session``; how many were acknowledged now. The Consultation role may not."""
        if role is None or not may_acknowledge(role):
            raise AlarmError(N_("Your role cannot acknowledge alarms."))
        ack = Acknowledgement(role.value, session, self._clock())
        async with self._lock:
            alarms = await self.repo.acknowledge(ids, ack)
            self._book.acknowledged(alarms)
            transitions = tuple(Transition(TransitionKind.ACKNOWLEDGED, a) for a in alarms)
            await self._published(transitions)
        return len(alarms)

    # -- the loop -----------------------------------------------------------------------------

    async def _handle(self, event: Event) -> None:
        sources = self._sources
        assert sources is not None
        now = self._clock()
        if isinstance(event, InstallationChanged):
            sources.set_installation(self._installation())
            self._pending += self._gone(now)
            return
        changes = sources.on_event(event, now)
        self.changes_seen += len(changes)
        self._pending += changes

    async def _tick(self) -> None:
        now = self._clock()
        sources = self._sources
        assert sources is not None
        if now >= self._next_tick:
            self._next_tick = now + TICK_S
            self._pending += sources.tick(now)
            self._pending += self._unseen(now)
        async with self._lock:
            await self._flush()
            if now >= self._next_sync:
                self._next_sync = now + SYNC_S
                held = [a.id for a in self._book.alarms() if a.ack is None]
                if held:
                    self._book.acknowledged(await self.repo.acknowledged_among(held))
                await self._reload_thresholds()  # ``ews alarms threshold`` beside the box
        if now >= self._next_purge:
            self._next_purge = now + PURGE_S
            await self._purge(now)

    def _gone(self, now: float) -> list[Change]:
        """Clear the alarms of objects deleted, switched off or excluded from alarms."""
        inst, catalog = self._installation(), self._catalog()
        return [
            Clear(a.type, a.subject, now, N_("object removed or excluded from alarms"))
            for a in self._book.active()
            if subject_gone(inst, catalog, a.subject)
        ]

    def _unseen(self, now: float) -> list[Change]:
        """Restored alarms not seen again in time since the restart: cleared."""
        late = [k for k, deadline in self._unconfirmed.items() if now >= deadline]
        changes: list[Change] = []
        for key in late:
            del self._unconfirmed[key]
            alarm = self._book.get(key)
            if alarm is not None and alarm.active:
                detail = N_("not seen again after the restart")
                changes.append(Clear(alarm.type, alarm.subject, now, detail))
        return changes

    async def _flush(self) -> None:
        """Write the pending changes in one transaction, then remember and publish them."""
        if not self._pending:
            return
        changes, self._pending = self._pending, []
        if self._unconfirmed:
            for change in changes:
                self._unconfirmed.pop(change.key, None)
        plan = self._book.plan(changes)
        if plan.empty:
            return
        hooks = self._hooks

        async def also(conn: aiosqlite.Connection) -> None:
            for hook in hooks:
                await hook(conn, plan.transitions)

        try:
            await self.repo.record(plan.writes, also=also if hooks else None)
        except BaseException:
            self._pending = changes + self._pending  # kept: written at the next turn
            raise
        self._book.commit(plan)
        self.written += len(plan.writes)
        await self._published(plan.transitions)

    async def _published(self, transitions: tuple[Transition, ...]) -> None:
        """After COMMIT: in the ``events`` CSV folder, then on the Hub."""
        if transitions and self._csv_events:
            config = self._config()
            if config.csv.enabled:
                await self._write_csv(config, transitions)
        for transition in transitions:
            self._hub.publish(AlarmChanged(transition))

    async def _write_csv(self, config: Config, transitions: tuple[Transition, ...]) -> None:
        tz = ZoneInfo(config.time.timezone)
        folder = config.csv_folder / "events"
        rows: dict[Path, list[tuple[str, ...]]] = {}
        paths: dict[date, Path] = {}
        for transition in transitions:
            stamp = datetime.fromtimestamp(transition_time(transition), tz)
            day = stamp.date()
            path = paths.get(day)
            if path is None:
                path = paths[day] = folder / f"{day.isoformat()}.csv"
            rows.setdefault(path, []).append(csv_row(transition, stamp))
        try:
            await asyncio.to_thread(append_rows, rows)
        except OSError as error:  # a full or read-only disk: the store has the alarms
            log.error("alarms: events CSV: %s", error.strerror or error)

    async def _purge(self, now: float) -> None:
        self._book.forget_before(now)
        days = self._config().retention.alarms_days
        if not days:
            return
        removed = await self.repo.purge(now - days * 86400.0)
        if removed:
            log.info("alarms: %d alarms older than %d days deleted", removed, days)


def transition_time(transition: Transition) -> float:
    """When the transition happened."""
    alarm = transition.alarm
    if transition.kind is TransitionKind.ACKNOWLEDGED and alarm.ack is not None:
        return alarm.ack.at
    if transition.kind is TransitionKind.CLEARED and alarm.cleared_at is not None:
        return alarm.cleared_at
    return alarm.last_at


def csv_row(transition: Transition, stamp: datetime) -> tuple[str, ...]:
    """One line of the ``events`` folder: ``alarm``, its id, its object, what happened, and
    type, severity, count, value, detail (and who acknowledged)."""
    alarm = transition.alarm
    parts = [alarm.type.value, alarm.severity.key]
    if alarm.count > 1:
        parts.append(f"count={alarm.count}")
    parts += [p for p in (alarm.value, render_detail(alarm.detail)) if p]
    if transition.kind is TransitionKind.ACKNOWLEDGED and alarm.ack is not None:
        parts.append(f"by {alarm.ack.role} {alarm.ack.session}".rstrip())
    return (
        stamp.isoformat(timespec="seconds"),
        "alarm",
        str(alarm.id),
        alarm.subject.name,
        transition.kind.value,
        "; ".join(parts),
    )


def append_rows(rows: dict[Path, list[tuple[str, ...]]]) -> None:
    """Append rows to their day files (header first on a new file), one write per file."""
    for path, lines in rows.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        if not path.exists():
            writer.writerow(EVENTS_HEADER)
        writer.writerows(lines)
        with path.open("a", encoding="utf-8", newline="") as stream:
            stream.write(text.getvalue())
