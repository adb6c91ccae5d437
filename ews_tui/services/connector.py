"""The Connector service (manual §7.12): the box pushes its CSV folders on a schedule.

One supervised follow loop of the runtime (a :class:`HubFollower` on ``SettingsChanged``
with a tick): at each scheduled time (``connector.day`` / ``connector.hour``, local time) it
runs one transfer (:mod:`ews_tui.services.connector_transfer`). A failed run is published as
:class:`ConnectorFailed`, shown as the service's degraded state and on the Connector screen's
log, and retried with backoff (:data:`RETRY_START_S` doubling up to :data:`RETRY_MAX_S`),
never later than the next scheduled run. The first success after failures publishes
:class:`ConnectorRecovered`. ``send_now`` (the screen's "Send now", and ``ews connector
send-now`` in its own process) runs the same transfer at once; runs never overlap here.

The alarm engine turns ConnectorFailed/ConnectorRecovered into the "Connector transfer
failed" alarm (:mod:`ews_tui.domain.alarm_sources`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from ews_tui.config import Config
from ews_tui.domain import connector as conn
from ews_tui.domain.connector import ConnectorFailed, ConnectorRecovered, ConnectorSent
from ews_tui.domain.events import Event, SettingsChanged
from ews_tui.domain.messages import Message
from ews_tui.hub import Hub
from ews_tui.services import connector_transfer as transfer
from ews_tui.services.connector_transfer import HostKey, TransferError
from ews_tui.services.follower import HubFollower
from ews_tui.store.connector_repo import ConnectorRepo, Transfer, open_connector_repo
from ews_tui.supervision import Supervised, Supervisor

log = logging.getLogger(__name__)

RETRY_START_S = 60.0
RETRY_MAX_S = 3600.0
IDLE_S = 3600.0  # how often an idle (OFF) connector looks at the clock anyway


def retry_delay(failures: int, start: float = RETRY_START_S, most: float = RETRY_MAX_S) -> float:
    """Seconds before retrying after ``failures`` failed runs in a row (1, 2, ...)."""
    return min(start * 2.0 ** max(failures - 1, 0), most)


class ConnectorService:
    """The scheduler, "Send now", the host key and the log of the Connector."""

    name = "connector"

    def __init__(
        self,
        hub: Hub,
        *,
        config: Callable[[], Config],
        supervisor: Supervisor | None = None,
        clock: Callable[[], float] = time.time,
        timeout_s: float = 30.0,
        retry_start_s: float = RETRY_START_S,
    ) -> None:
        self._hub = hub
        self._config = config
        self._clock = clock
        self._timeout = timeout_s
        self._retry_start = retry_start_s
        self._supervisor = supervisor or Supervisor(hub)
        self._stack = AsyncExitStack()
        self._repo: ConnectorRepo | None = None
        self._lock = asyncio.Lock()
        self.failures = 0  # failed runs in a row
        self.last_problem: Transfer | None = None
        self._retry_at: float | None = None
        self._last_due = 0.0  # the scheduled time of the last tick's run (never run twice)
        self._wake = asyncio.Event()
        self._task: Supervised | None = None
        self._follower = HubFollower(
            hub, self._supervisor, "connector-settings", (SettingsChanged,), self._settings_changed
        )

    # --- service ----------------------------------------------------------------------

    async def start(self) -> None:
        self._repo = await self._stack.enter_async_context(
            open_connector_repo(self._config().data_dir)
        )
        self._follower.start()
        self._task = self._supervisor.supervise(self.name, self._run)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await task.stop()
        await self._follower.stop()
        await self._stack.aclose()
        self._repo = None

    @property
    def repo(self) -> ConnectorRepo:
        if self._repo is None:
            raise RuntimeError("the connector service is not started")
        return self._repo

    # --- schedule ---------------------------------------------------------------------

    def next_scheduled(self) -> float | None:
        """The next scheduled run (a timestamp), or None while the mode is OFF."""
        config = self._config()
        c = config.connector
        if c.mode is conn.ConnectorMode.OFF or not c.address:
            return None
        after = datetime.fromtimestamp(max(self._clock(), self._last_due), UTC)
        tz = ZoneInfo(config.time.timezone)
        return conn.next_run(c.day, c.hour, after, tz).timestamp()

    def _due(self) -> float | None:
        scheduled = self.next_scheduled()
        if scheduled is None:
            return None
        if self._retry_at is not None:
            return min(scheduled, self._retry_at)
        return scheduled

    def _seconds_to_next(self) -> float:
        due = self._due()
        if due is None:
            return IDLE_S
        return max(0.0, min(due - self._clock(), IDLE_S))

    async def _settings_changed(self, event: Event) -> None:
        if isinstance(event, SettingsChanged) and event.section == "connector":
            log.info("connector: settings changed, next run recomputed")
            self._wake.set()

    async def _run(self) -> None:
        """Wait for the next run (woken early by new settings or a failed "Send now")."""
        while True:
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self._seconds_to_next())
                continue  # woken: the time of the next run changed
            except TimeoutError:
                pass
            due = self._due()
            if due is not None and self._clock() >= due - 0.5:
                self._last_due = due
                await self.send_now()

    # --- transfers --------------------------------------------------------------------

    async def send_now(self) -> Transfer:
        """Run one transfer at once with the saved settings; its log line."""
        async with self._lock:
            line = await transfer.run_transfer(
                self._config(), self.repo, now=self._clock(), timeout=self._timeout
            )
        self._after(line)
        return line

    def _after(self, line: Transfer) -> None:
        if line.problem is None:
            self._retry_at = None
            self._hub.publish(ConnectorSent(line.files, line.size))
            if self.failures:
                self.failures = 0
                self.last_problem = None
                self._supervisor.restore(self.name)
                self._hub.publish(ConnectorRecovered())
            return
        self.failures += 1
        self.last_problem = line
        wait = retry_delay(self.failures, self._retry_start)
        self._retry_at = self._clock() + wait
        self._supervisor.degrade(self.name, line.problem)
        self._hub.publish(ConnectorFailed(line.problem, wait))
        self._wake.set()

    async def log_lines(self, limit: int = 50) -> list[Transfer]:
        return await self.repo.transfers(limit)

    # --- keys -------------------------------------------------------------------------

    async def fetch_host_key(self) -> HostKey:
        """The server's key as it presents it now; TransferError when it cannot be reached."""
        return await transfer.fetch_host_key(self._config(), self._timeout)

    async def trust(self, key: HostKey) -> None:
        await asyncio.to_thread(transfer.store_trust, self._config(), key)

    async def trusted_fingerprint(self) -> str | None:
        return await asyncio.to_thread(transfer.trusted_fingerprint, self._config())

    async def public_key(self) -> str | None:
        """The box's own public key (made on first use), None when key login is off."""
        try:
            return await asyncio.to_thread(transfer.public_key_text, self._config())
        except (OSError, ValueError) as error:
            raise TransferError(Message(conn.LOCAL_READ, {"detail": str(error)})) from None
