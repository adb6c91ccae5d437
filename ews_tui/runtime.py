"""The Runtime owns every service and every background task of the one asyncio loop.

Services start in the order they were added and stop in reverse order. Background tasks
belong to the runtime's :class:`~ews_tui.supervision.Supervisor` (``runtime.supervisor``):
:meth:`Runtime.spawn` runs a coroutine once, :meth:`Runtime.supervise` runs a service's loop
and restarts it with backoff when it crashes. A crash is logged with its traceback and
published as :class:`~ews_tui.domain.events.TaskFailed`; all tasks are cancelled and awaited
on stop, after the services (a service may need its tasks while it stops). While running,
the runtime logs the Hub's queue figures every ``stats_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import Any, Protocol, TypeVar, runtime_checkable

from ews_tui import i18n
from ews_tui.config import Config
from ews_tui.hub import Hub, SubscriptionStats
from ews_tui.supervision import RestartPolicy, Supervised, Supervisor

logger = logging.getLogger(__name__)

S = TypeVar("S")
T = TypeVar("T")


@runtime_checkable
class Service(Protocol):
    """Anything the runtime starts and stops.

    ``start`` returns once the service is up (long-running work goes in ``runtime.spawn``
    tasks); a ``start`` that raises cleans up after itself, it is not stopped. ``stop`` is
    awaited with the runtime's ``stop_timeout`` and cancelled past it.
    """

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Runtime:
    """Holds ``config`` (the box configuration), the ``hub`` and the services.

    States: new -> running -> stopped (``start`` once; ``stop`` any number of times).
    """

    def __init__(
        self,
        config: Config,
        hub: Hub | None = None,
        *,
        stop_timeout: float = 10.0,
        restart: RestartPolicy | None = None,
        stats_interval: float = 600.0,
    ) -> None:
        self.config = config
        self.hub = hub if hub is not None else Hub()
        self.stop_timeout = stop_timeout
        self.supervisor = Supervisor(self.hub, restart)
        self.stats_interval = stats_interval
        self._services: list[Service] = []
        self._started: list[Service] = []
        self._state = "new"
        self._stopped = asyncio.Event()

    @property
    def state(self) -> str:
        return self._state

    @property
    def services(self) -> tuple[Service, ...]:
        return tuple(self._services)

    @property
    def tasks(self) -> frozenset[asyncio.Task[Any]]:
        return self.supervisor.tasks

    def add(self, service: S) -> S:
        """Register ``service`` to start after those already added. Returns it."""
        if self._state != "new":
            raise RuntimeError(f"Runtime.add({service!r}): runtime is already {self._state}")
        if not isinstance(service, Service):
            raise TypeError(f"Runtime.add({service!r}): needs name, async start() and stop()")
        if any(s.name == service.name for s in self._services):
            raise ValueError(f"Runtime.add: a service named {service.name!r} is already added")
        self._services.append(service)
        return service

    def service(self, name: str) -> Service:
        """The service called ``name``; ``LookupError`` if none."""
        for s in self._services:
            if s.name == name:
                return s
        raise LookupError(f"no service named {name!r}")

    def get(self, kind: type[T]) -> T:
        """The one service that is an instance of ``kind``; ``LookupError`` if not exactly one."""
        found = [s for s in self._services if isinstance(s, kind)]
        if len(found) != 1:
            raise LookupError(f"{len(found)} services of type {kind.__name__}, expected one")
        return found[0]

    async def start(self) -> None:
        """Start the services in order; on failure stop those started and re-raise."""
        if self._state != "new":
            raise RuntimeError(f"Runtime.start: runtime is already {self._state}")
        self._state = "starting"
        # Parsing a catalog takes ~175 ms: all of them now, off the loop, not in a session.
        await asyncio.to_thread(i18n.load_catalogs)
        try:
            for s in self._services:
                logger.info("starting service %s", s.name)
                await s.start()
                self._started.append(s)
        except BaseException:
            logger.error("service %s failed to start; stopping the others", s.name)
            await self.stop()
            raise
        self._state = "running"
        self.supervise("hub-stats", self._log_stats_forever)

    async def stop(self) -> None:
        """Stop started services in reverse order, then cancel and await the tasks.

        Idempotent; a concurrent call waits for the first one to finish.
        """
        if self._state in ("stopping", "stopped"):
            await self._stopped.wait()
            return
        self._state = "stopping"
        try:
            while self._started:
                await self._stop_one(self._started.pop())
            await self.supervisor.cancel_all(self.stop_timeout)
        finally:
            self._state = "stopped"
            self._stopped.set()

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
        """Run ``coro`` once as a task the runtime owns (cancelled and awaited on stop)."""
        if self._state in ("stopping", "stopped"):
            coro.close()
            raise RuntimeError(f"Runtime.spawn({name!r}): runtime is {self._state}")
        return self.supervisor.spawn(coro, name=name)

    def supervise(self, name: str, run: Callable[[], Awaitable[None]]) -> Supervised:
        """Run ``run()`` as a task the runtime owns, restarted with backoff when it crashes."""
        if self._state in ("stopping", "stopped"):
            raise RuntimeError(f"Runtime.supervise({name!r}): runtime is {self._state}")
        return self.supervisor.supervise(name, run)

    def log_stats(self) -> None:
        """One log line with the queue length and drops of every Hub subscription."""
        stats = self.hub.stats()
        level = logging.WARNING if any(s.behind for s in stats) else logging.INFO
        logger.log(level, "hub queues: %s", "; ".join(_stats_text(s) for s in stats) or "none")

    async def __aenter__(self) -> Runtime:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _stop_one(self, service: Service) -> None:
        logger.info("stopping service %s", service.name)
        try:
            await asyncio.wait_for(service.stop(), self.stop_timeout)
        except TimeoutError:
            logger.error("service %s did not stop within %.1f s", service.name, self.stop_timeout)
        except Exception:
            logger.exception("service %s failed to stop", service.name)

    async def _log_stats_forever(self) -> None:
        while True:
            await asyncio.sleep(self.stats_interval)
            self.log_stats()


def _stats_text(stats: SubscriptionStats) -> str:
    text = f"{stats.name} {stats.queued} queued"
    if stats.dropped:
        text += f", {stats.dropped} dropped"
    if stats.behind:
        text += " (falling behind)"
    return text
