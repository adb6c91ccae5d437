"""The owner of every background task: one-shot tasks, and services restarted when they crash.

:meth:`Supervisor.spawn` runs a coroutine once; a crash is logged with its traceback and
published as :class:`~ews_tui.domain.events.TaskFailed`.

:meth:`Supervisor.supervise` runs ``run()`` again after each crash, with exponential backoff
(:class:`RestartPolicy`). Each crash is logged with its traceback and published as
``TaskFailed``. A service that crashed ``fail_after`` times in a row is marked failed
(:class:`~ews_tui.domain.events.ServiceFailed`) and still restarted at the longest backoff, so
a box nobody watches comes back by itself when the cause goes away. A run that lasts
``healthy_after_s`` resets the count; one that had crashed is then published as
:class:`~ews_tui.domain.events.ServiceRecovered`. ``run()`` returning normally ends the task.

:meth:`Supervisor.degrade` lets a service that runs but cannot do all its job (the recorder
while the store refuses writes) say so, in words the UI translates
(:class:`~ews_tui.domain.events.ServiceDegraded`); :meth:`Supervisor.restore` ends it.

:meth:`Supervisor.health` is the read model the UI shows: each supervised task, running,
degraded, restarting or failed with the reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from ews_tui.domain.events import ServiceDegraded, ServiceFailed, ServiceRecovered, TaskFailed
from ews_tui.domain.messages import Message
from ews_tui.hub import Publisher

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RestartPolicy:
    """How a supervised service is restarted after a crash."""

    backoff_start_s: float = 1.0
    backoff_max_s: float = 300.0
    fail_after: int = 5  # crashes in a row before the service is marked failed
    healthy_after_s: float = 60.0  # a run this long resets the count of crashes

    def backoff(self, crashes: int) -> float:
        """Seconds to wait before the restart that follows crash number ``crashes``."""
        return min(self.backoff_start_s * 2.0 ** max(crashes - 1, 0), self.backoff_max_s)


class Health(StrEnum):
    RUNNING = "running"
    DEGRADED = "degraded"  # running, but it says it cannot do all its job (``problem``)
    RESTARTING = "restarting"
    FAILED = "failed"


@dataclass(frozen=True)
class ServiceHealth:
    """One supervised task now: its state, the last crash (``reason``) and crashes in a row."""

    name: str
    state: Health
    reason: str = ""
    crashes: int = 0
    problem: Message | None = None  # DEGRADED: what the service cannot do, to translate


def describe(exc: BaseException) -> str:
    """``KeyError: 'p'``: the one-line reason shown for a crash."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Supervised:
    """The handle of one supervised task; its owner stops it (no restart after that)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.task: asyncio.Task[None] | None = None
        self.stopping = False
        self.backing_off = False  # waiting to restart: nothing to let finish
        self.health = ServiceHealth(name, Health.RUNNING)

    def stopped(self) -> bool:
        """Whether its owner stopped it (read through a call: it changes across awaits)."""
        return self.stopping

    async def stop(self, *, grace: float | None = 0.0) -> None:
        """No more restarts; let the run end by itself for ``grace`` seconds (None: wait),
        then cancel it; return once the task is done."""
        self.stopping = True
        task = self.task
        if task is None or task.done():
            return
        if (grace is None or grace > 0) and not self.backing_off:
            await asyncio.wait({task}, timeout=grace)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


class Supervisor:
    """Owns the tasks it starts: all are cancelled and awaited by :meth:`cancel_all`."""

    def __init__(self, hub: Publisher, policy: RestartPolicy | None = None) -> None:
        self.hub = hub
        self.policy = policy or RestartPolicy()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._supervised: list[Supervised] = []
        self._sources: dict[str, Callable[[], tuple[ServiceHealth, ...]]] = {}
        self.closed = False

    @property
    def tasks(self) -> frozenset[asyncio.Task[Any]]:
        return frozenset(self._tasks)

    def health(self) -> tuple[ServiceHealth, ...]:
        """Every supervised task now, in the order they were started, then those of the
        attached supervisors (another thread's: see :meth:`attach`)."""
        own = tuple(handle.health for handle in self._supervised)
        return own + tuple(h for source in list(self._sources.values()) for h in source())

    def attach(self, key: str, source: Callable[[], tuple[ServiceHealth, ...]]) -> None:
        """Show the tasks of another supervisor (the bus loop's) in :meth:`health`."""
        self._sources[key] = source

    def detach(self, key: str) -> None:
        self._sources.pop(key, None)

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
        """Run ``coro`` once as an owned task; a crash is logged and published."""
        if self.closed:
            coro.close()
            raise RuntimeError(f"spawn({name!r}): the supervisor is stopped")
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._one_shot_done)
        return task

    def supervise(self, name: str, run: Callable[[], Awaitable[None]]) -> Supervised:
        """Run ``run()`` as an owned task, again after each crash (see the module doc)."""
        handle = Supervised(name)
        handle.task = self.spawn(self._keep_running(handle, run), name=name)
        self._supervised.append(handle)
        handle.task.add_done_callback(lambda _task: self._supervised.remove(handle))
        return handle

    def degrade(self, name: str, problem: Message) -> None:
        """The running service ``name`` cannot do all its job: shown as ``problem`` until
        :meth:`restore` (a crash or a failure of it shows instead, being worse)."""
        for handle in self._supervised:
            if handle.name != name or handle.health.state not in (Health.RUNNING, Health.DEGRADED):
                continue
            was = handle.health.problem
            handle.health = ServiceHealth(name, Health.DEGRADED, problem=problem)
            if was is None:
                logger.error("service %s degraded: %s", name, problem.render())
                self.hub.publish(ServiceDegraded(name, problem))

    def restore(self, name: str) -> None:
        """The service ``name`` does all its job again (see :meth:`degrade`)."""
        for handle in self._supervised:
            if handle.name == name and handle.health.state is Health.DEGRADED:
                handle.health = ServiceHealth(name, Health.RUNNING)
                logger.info("service %s is well again", name)
                self.hub.publish(ServiceRecovered(name))

    async def cancel_all(self, timeout: float) -> None:
        """Refuse new tasks, cancel the owned ones and wait up to ``timeout`` for them."""
        self.closed = True
        tasks = set(self._tasks)
        if not tasks:
            return
        for task in tasks:
            task.cancel()
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            logger.error("task %s ignored cancellation for %.1f s", task.get_name(), timeout)

    # -- the restart loop ---------------------------------------------------------------------

    async def _keep_running(self, handle: Supervised, run: Callable[[], Awaitable[None]]) -> None:
        loop = asyncio.get_running_loop()
        crashes = 0
        while not handle.stopping:
            started = loop.time()
            policy = self.policy  # read at each run: it may be changed while running
            healthy = loop.call_later(policy.healthy_after_s, self._healthy, handle)
            try:
                await run()
                return
            except Exception as exc:
                healthy.cancel()
                if loop.time() - started >= policy.healthy_after_s:
                    crashes = 0
                crashes += 1
                self._crashed(handle, exc, crashes)
            finally:
                healthy.cancel()
            if handle.stopped():
                return
            handle.backing_off = True
            try:
                await asyncio.sleep(self.policy.backoff(crashes))
            finally:
                handle.backing_off = False

    def _crashed(self, handle: Supervised, exc: Exception, crashes: int) -> None:
        name, reason = handle.name, describe(exc)
        logger.error("service %s crashed (%d in a row)", name, crashes, exc_info=exc)
        self.hub.publish(TaskFailed(name, reason))
        was_failed = handle.health.state is Health.FAILED
        failed = was_failed or crashes >= self.policy.fail_after
        state = Health.FAILED if failed else Health.RESTARTING
        handle.health = ServiceHealth(name, state, reason, crashes)
        if failed and not was_failed:
            logger.error("service %s failed: %s (%d crashes in a row)", name, reason, crashes)
            self.hub.publish(ServiceFailed(name, reason, crashes))

    def _healthy(self, handle: Supervised) -> None:
        if handle.health.state in (Health.RUNNING, Health.DEGRADED):
            return
        handle.health = ServiceHealth(handle.name, Health.RUNNING)
        logger.info("service %s is running again", handle.name)
        self.hub.publish(ServiceRecovered(handle.name))

    def _one_shot_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            return
        logger.error("task %s crashed", task.get_name(), exc_info=exc)
        self.hub.publish(TaskFailed(task.get_name(), describe(exc)))
