"""The box's backups: the nightly one into ``<data_dir>/backups``, and "Create backup now".

Every night at ``backup.hour`` (local time) the service writes ``nightly-YYYYmmdd-HHMMSS.tar.gz``
and keeps the newest ``backup.keep`` of them (backups made by hand and the folders a restore
kept aside are never removed). The copy runs in a thread (:func:`asyncio.to_thread`): SQLite's
online backup API reads a snapshot while the recorder goes on writing, and the loop never
waits for the disk. A backup that fails is shown, not only logged: the service is marked
degraded with the reason (a system event, on the home screen's status line) until the next
one succeeds; the Backup page shows the last outcome.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ews_tui.config import Config
from ews_tui.domain.messages import N_, Message
from ews_tui.hub import Hub
from ews_tui.store.backup import (
    MANUAL_PREFIX,
    NIGHTLY_PREFIX,
    BackupInfo,
    backups_folder,
    create_backup,
    list_backups,
    new_backup_path,
    prune_nightly,
)
from ews_tui.store.backup_archive import BackupError
from ews_tui.supervision import Supervised, Supervisor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackupOutcome:
    """The last backup the service made (or tried): when, where, and its problem if any."""

    at: float
    path: Path | None
    nightly: bool
    problem: Message | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


class BackupService:
    """Nightly backups and backups on request, one at a time."""

    name = "backup"

    def __init__(
        self,
        hub: Hub,
        *,
        config: Callable[[], Config],
        config_path: Path,
        clock: Callable[[], float] = time.time,
        supervisor: Supervisor | None = None,
    ) -> None:
        self._hub = hub
        self._config = config
        self._config_path = Path(config_path)
        self._clock = clock
        self._supervisor = supervisor or Supervisor(hub)
        self._task: Supervised | None = None
        self._lock = asyncio.Lock()
        self.last: BackupOutcome | None = None

    async def start(self) -> None:
        self._task = self._supervisor.supervise(self.name, self._run)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await task.stop()

    @property
    def folder(self) -> Path:
        return backups_folder(self._config())

    async def backups(self) -> list[BackupInfo]:
        """The backups of ``<data_dir>/backups``, newest first."""
        return await asyncio.to_thread(list_backups, self.folder)

    async def create_now(self) -> BackupOutcome:
        """A backup into ``<data_dir>/backups`` now (the page's "Create backup now")."""
        return await self._make(nightly=False)

    async def run_nightly(self) -> BackupOutcome:
        """The nightly backup and its retention, as the night's turn does it."""
        outcome = await self._make(nightly=True)
        if outcome.problem is not None:
            self._supervisor.degrade(self.name, outcome.problem)
        else:
            self._supervisor.restore(self.name)
        return outcome

    async def _make(self, *, nightly: bool) -> BackupOutcome:
        async with self._lock:
            config = self._config()
            now = datetime.fromtimestamp(self._clock()).astimezone(ZoneInfo(config.time.timezone))
            prefix = NIGHTLY_PREFIX if nightly else MANUAL_PREFIX
            try:
                path = await asyncio.to_thread(
                    _write, self.folder, prefix, now, self._config_path, config, nightly
                )
            except BackupError as error:
                log.error("backup failed: %s", error)
                outcome = BackupOutcome(self._clock(), None, nightly, error.message)
            else:
                log.info("backup written: %s", path)
                outcome = BackupOutcome(self._clock(), path, nightly)
            self.last = outcome
            return outcome

    def next_wake(self) -> float:
        """Seconds until the next ``backup.hour`` o'clock, local time."""
        config = self._config()
        tz = ZoneInfo(config.time.timezone)
        now = datetime.fromtimestamp(self._clock(), tz)
        due = now.replace(hour=config.backup.hour, minute=0, second=0, microsecond=0)
        if due <= now:
            due = (due + timedelta(days=1)).replace(hour=config.backup.hour)
        # Through UTC: a day with a clock change is 23 or 25 hours long.
        return max(1.0, due.timestamp() - now.timestamp())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.next_wake())
            if self._config().backup.nightly:
                await self.run_nightly()


def _write(
    folder: Path, prefix: str, now: datetime, config_path: Path, config: Config, nightly: bool
) -> Path:
    """Write one backup into ``folder`` (and prune the nightly ones); in a thread."""
    try:
        path = new_backup_path(folder, prefix, now)
    except OSError as error:
        raise BackupError(
            str(folder),
            Message(N_("cannot write the backup: {reason}"), {"reason": error.strerror or error}),
        ) from None
    create_backup(path, config_path, config, now=now)
    if nightly:
        for old in prune_nightly(folder, config.backup.keep):
            log.info("backup removed (keeping %d): %s", config.backup.keep, old)
    return path
