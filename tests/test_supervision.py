"""The Supervisor: crashes logged and published, restarts with backoff, failed and recovered."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ews_tui.domain.events import (
    ServiceDegraded,
    ServiceFailed,
    ServiceRecovered,
    SystemEvent,
    TaskFailed,
)
from ews_tui.domain.messages import Message
from ews_tui.hub import Hub
from ews_tui.supervision import Health, RestartPolicy, ServiceHealth, Supervisor

QUICK = RestartPolicy(backoff_start_s=0.0, fail_after=3, healthy_after_s=3600.0)


class Script:
    """A service loop that does what the test tells it, one run after the other."""

    def __init__(self) -> None:
        self.orders: asyncio.Queue[str] = asyncio.Queue()
        self.runs = 0

    async def run(self) -> None:
        self.runs += 1
        while True:
            order = await self.orders.get()
            if order == "crash":
                raise KeyError("p")
            if order == "return":
                return


async def next_event(sub: object) -> SystemEvent:
    event = await asyncio.wait_for(sub.get(), 5)  # type: ignore[attr-defined]
    assert isinstance(event, SystemEvent)
    return event


def test_backoff_doubles_up_to_its_maximum() -> None:
    policy = RestartPolicy(backoff_start_s=1.0, backoff_max_s=10.0)
    assert [policy.backoff(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


async def test_a_crash_is_logged_published_and_the_loop_restarted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hub = Hub()
    events = hub.subscribe(SystemEvent, name="test")
    supervisor = Supervisor(hub, QUICK)
    script = Script()
    handle = supervisor.supervise("recorder", script.run)
    assert supervisor.health() == (ServiceHealth("recorder", Health.RUNNING),)
    script.orders.put_nowait("crash")
    assert await next_event(events) == TaskFailed("recorder", "KeyError: 'p'")
    assert supervisor.health() == (
        ServiceHealth("recorder", Health.RESTARTING, "KeyError: 'p'", 1),
    )
    record = next(r for r in caplog.records if "crashed" in r.getMessage())
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None and record.exc_info[0] is KeyError
    script.orders.put_nowait("return")  # read by the second run
    await asyncio.wait_for(asyncio.gather(handle.task), 5)
    assert script.runs == 2
    assert supervisor.health() == ()  # a loop that returned is over, not failed


async def test_a_service_that_keeps_crashing_is_failed_once_and_still_restarted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hub = Hub()
    events = hub.subscribe(ServiceFailed, name="test")
    supervisor = Supervisor(hub, QUICK)
    script = Script()
    handle = supervisor.supervise("csv-events", script.run)
    for _ in range(5):
        script.orders.put_nowait("crash")
    assert await next_event(events) == ServiceFailed("csv-events", "KeyError: 'p'", 3)
    while script.runs < 6:
        await asyncio.sleep(0)
    assert supervisor.health()[0].state is Health.FAILED
    assert supervisor.health()[0].crashes == 5
    assert len(events) == 0  # failed once, not on every crash
    failed = [r for r in caplog.records if "failed:" in r.getMessage()]
    assert [r.getMessage() for r in failed] == [
        "service csv-events failed: KeyError: 'p' (3 crashes in a row)"
    ]  # what the ews serve log shows
    await handle.stop()
    assert handle.task is not None and handle.task.done()


async def test_a_run_that_lasts_recovers_the_service() -> None:
    hub = Hub()
    events = hub.subscribe(ServiceFailed, ServiceRecovered, name="test")
    policy = RestartPolicy(backoff_start_s=0.0, fail_after=1, healthy_after_s=0.0)
    supervisor = Supervisor(hub, policy)
    script = Script()
    handle = supervisor.supervise("live", script.run)
    script.orders.put_nowait("crash")
    assert await next_event(events) == ServiceFailed("live", "KeyError: 'p'", 1)
    assert await next_event(events) == ServiceRecovered("live")
    assert supervisor.health() == (ServiceHealth("live", Health.RUNNING),)
    await handle.stop()


async def test_a_stopped_service_is_not_restarted() -> None:
    hub = Hub()
    supervisor = Supervisor(hub, RestartPolicy(backoff_start_s=3600.0))
    script = Script()
    handle = supervisor.supervise("polling", script.run)
    script.orders.put_nowait("crash")
    while supervisor.health()[0].state is Health.RUNNING:
        await asyncio.sleep(0)
    await handle.stop()  # cuts the hour of backoff short
    assert script.runs == 1
    assert supervisor.tasks == frozenset()


async def test_stop_with_grace_lets_the_run_end_by_itself() -> None:
    supervisor = Supervisor(Hub(), QUICK)
    script = Script()
    handle = supervisor.supervise("recorder", script.run)
    await asyncio.sleep(0)
    script.orders.put_nowait("return")
    await handle.stop(grace=None)
    assert handle.task is not None and not handle.task.cancelled()


async def test_cancel_all_refuses_new_tasks() -> None:
    supervisor = Supervisor(Hub(), QUICK)
    script = Script()
    supervisor.supervise("a", script.run)
    await supervisor.cancel_all(1.0)
    assert supervisor.tasks == frozenset()
    coro = asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="stopped"):
        supervisor.spawn(coro, name="late")


async def test_a_degraded_service_is_shown_until_restored_and_a_crash_shows_instead() -> None:
    hub = Hub()
    events = hub.subscribe(ServiceDegraded, ServiceRecovered, TaskFailed, name="test")
    supervisor = Supervisor(hub, QUICK)
    script = Script()
    handle = supervisor.supervise("recorder", script.run)
    full = Message("the store refuses writes ({reason})", {"reason": "disk full"})
    supervisor.degrade("recorder", full)
    supervisor.degrade("recorder", full)  # each failed retry says it again: published once
    assert await next_event(events) == ServiceDegraded("recorder", full)
    assert supervisor.health() == (ServiceHealth("recorder", Health.DEGRADED, problem=full),)
    assert len(events) == 0
    supervisor.restore("recorder")
    assert await next_event(events) == ServiceRecovered("recorder")
    assert supervisor.health() == (ServiceHealth("recorder", Health.RUNNING),)
    supervisor.restore("recorder")  # well already: nothing to say
    assert len(events) == 0
    # A crash is worse news than a degraded run: it shows instead.
    supervisor.degrade("recorder", full)
    assert await next_event(events) == ServiceDegraded("recorder", full)
    script.orders.put_nowait("crash")
    assert await next_event(events) == TaskFailed("recorder", "KeyError: 'p'")
    assert supervisor.health()[0].state is Health.RESTARTING
    await handle.stop()
