"""The Runtime on the real asyncio loop: service order, rollback, timeouts, owned tasks."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ews_tui.domain.events import TaskFailed
from ews_tui.hub import Hub
from ews_tui.runtime import Runtime, Service


class Recorded:
    """A service that writes what happens to it in a shared journal."""

    def __init__(self, name: str, journal: list[str], *, fail_start: bool = False) -> None:
        self.name = name
        self.journal = journal
        self.fail_start = fail_start

    async def start(self) -> None:
        if self.fail_start:
            raise OSError(f"{self.name}: port busy")
        self.journal.append(f"start {self.name}")

    async def stop(self) -> None:
        self.journal.append(f"stop {self.name}")


class Hung(Recorded):
    async def stop(self) -> None:
        self.journal.append(f"stop {self.name}")
        await asyncio.Event().wait()


class Broken(Recorded):
    async def stop(self) -> None:
        raise RuntimeError(f"{self.name} cannot stop")


class Other(Recorded):
    pass


@pytest.fixture
def journal() -> list[str]:
    return []


def runtime_with(*services: Service, stop_timeout: float = 1.0) -> Runtime:
    rt = Runtime(config={"data_dir": "/tmp"}, stop_timeout=stop_timeout)
    for s in services:
        rt.add(s)
    return rt


async def test_services_start_in_order_and_stop_in_reverse(journal: list[str]) -> None:
    rt = runtime_with(*(Recorded(n, journal) for n in ("store", "poller", "ssh")))
    async with rt:
        assert rt.state == "running"
        assert journal == ["start store", "start poller", "start ssh"]
    assert journal[3:] == ["stop ssh", "stop poller", "stop store"]
    assert rt.state == "stopped"


async def test_failure_at_start_stops_the_started_ones_and_propagates(journal: list[str]) -> None:
    rt = runtime_with(
        Recorded("store", journal),
        Recorded("poller", journal),
        Recorded("ssh", journal, fail_start=True),
        Recorded("kiosk", journal),
    )
    with pytest.raises(OSError, match="ssh: port busy"):
        await rt.start()
    assert journal == ["start store", "start poller", "stop poller", "stop store"]
    assert rt.state == "stopped"


async def test_failure_at_start_cancels_tasks_already_spawned(journal: list[str]) -> None:
    rt = runtime_with(Recorded("bad", journal, fail_start=True))
    task = rt.spawn(asyncio.Event().wait(), name="early")
    with pytest.raises(OSError):
        await rt.start()
    assert task.cancelled()


async def test_hung_service_times_out_and_the_others_still_stop(
    journal: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    rt = runtime_with(Recorded("store", journal), Hung("poller", journal), stop_timeout=0.05)
    await rt.start()
    await rt.stop()
    assert journal[-2:] == ["stop poller", "stop store"]
    assert "service poller did not stop within 0.1 s" in caplog.text


async def test_service_failing_to_stop_is_logged_not_raised(
    journal: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    rt = runtime_with(Recorded("store", journal), Broken("smtp", journal))
    async with rt:
        pass
    assert journal[-1] == "stop store"
    assert "service smtp failed to stop" in caplog.text
    assert "smtp cannot stop" in caplog.text


async def test_stop_is_idempotent(journal: list[str]) -> None:
    rt = runtime_with(Recorded("store", journal))
    await rt.start()
    await rt.stop()
    await rt.stop()
    await asyncio.gather(rt.stop(), rt.stop())
    assert journal == ["start store", "stop store"]


async def test_concurrent_stop_waits_for_the_first(journal: list[str]) -> None:
    gate = asyncio.Event()

    class Slow(Recorded):
        async def stop(self) -> None:
            await gate.wait()
            self.journal.append("stop slow")

    rt = runtime_with(Slow("slow", journal))
    await rt.start()
    first = asyncio.create_task(rt.stop())
    await asyncio.sleep(0)
    second = asyncio.create_task(rt.stop())
    await asyncio.sleep(0)
    assert not second.done()
    gate.set()
    await asyncio.gather(first, second)
    assert journal == ["start slow", "stop slow"]


async def test_spawned_tasks_are_cancelled_and_awaited_on_stop() -> None:
    rt = Runtime(config=None)
    running = {tag: asyncio.Event() for tag in "ab"}
    cleaned = []

    async def forever(tag: str) -> None:
        running[tag].set()
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.append(tag)

    async with rt:
        tasks = [rt.spawn(forever(t), name=f"loop-{t}") for t in "ab"]
        assert rt.tasks >= frozenset(tasks)
        for started in running.values():
            await started.wait()
    assert all(t.cancelled() for t in tasks)
    assert sorted(cleaned) == ["a", "b"]
    assert rt.tasks == frozenset()


async def test_tasks_are_cancelled_after_the_services_stop(journal: list[str]) -> None:
    rt = Runtime(config=None)

    class Owner(Recorded):
        async def start(self) -> None:
            self.task = rt.spawn(asyncio.Event().wait(), name="owned")

        async def stop(self) -> None:
            self.journal.append(f"task running at stop: {not self.task.done()}")

    rt.add(Owner("owner", journal))
    async with rt:
        pass
    assert journal == ["task running at stop: True"]


async def test_crashed_task_is_logged_with_its_name_and_published(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hub = Hub()
    failures = hub.subscribe(TaskFailed, name="test")

    async def crash() -> None:
        raise ValueError("register 40001 out of range")

    async with Runtime(config=None, hub=hub) as rt:
        rt.spawn(crash(), name="poller:Local")
        failed = await failures.get()

    assert failed == TaskFailed("poller:Local", "ValueError: register 40001 out of range")
    record = next(r for r in caplog.records if r.name == "ews_tui.supervision")
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "task poller:Local crashed"
    assert record.exc_info is not None and record.exc_info[0] is ValueError
    assert rt.tasks == frozenset()


async def test_task_that_finishes_normally_is_forgotten_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hub = Hub()
    failures = hub.subscribe(TaskFailed)
    async with Runtime(config=None, hub=hub) as rt:
        assert await rt.spawn(asyncio.sleep(0, result=42), name="quick") == 42
        assert len(failures) == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_spawn_after_stop_is_refused_without_leaking_the_coroutine() -> None:
    rt = Runtime(config=None)
    await rt.stop()
    coro = asyncio.sleep(1)
    with pytest.raises(RuntimeError, match="late"):
        rt.spawn(coro, name="late")
    assert coro.cr_frame is None  # closed: no "never awaited" warning


async def test_lookup_by_type_and_by_name(journal: list[str]) -> None:
    store, other = Recorded("store", journal), Other("other", journal)
    rt = runtime_with(store, other)
    assert rt.service("store") is store
    assert rt.get(Other) is other
    assert rt.services == (store, other)
    with pytest.raises(LookupError, match="'ssh'"):
        rt.service("ssh")
    with pytest.raises(LookupError, match="2 services of type Recorded"):
        rt.get(Recorded)
    with pytest.raises(LookupError, match="0 services of type Hub"):
        rt.get(Hub)


async def test_add_is_refused_after_start_for_duplicates_and_non_services(
    journal: list[str],
) -> None:
    rt = runtime_with(Recorded("store", journal))
    with pytest.raises(ValueError, match="'store'"):
        rt.add(Recorded("store", journal))
    with pytest.raises(TypeError, match="start"):
        rt.add(object())
    async with rt:
        with pytest.raises(RuntimeError, match="running"):
            rt.add(Recorded("late", journal))
        with pytest.raises(RuntimeError, match="running"):
            await rt.start()


def test_runtime_holds_config_and_a_hub() -> None:
    config = object()
    rt = Runtime(config)
    assert rt.config is config
    assert isinstance(rt.hub, Hub)
    assert rt.state == "new"


async def test_task_ignoring_cancellation_is_logged_and_stop_returns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rt = Runtime(config=None, stop_timeout=0.05)
    running, release = asyncio.Event(), asyncio.Event()

    async def stubborn() -> None:
        running.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await release.wait()  # swallows the cancel until released

    await rt.start()
    task = rt.spawn(stubborn(), name="stubborn")
    await running.wait()
    await rt.stop()
    assert "task stubborn ignored cancellation for 0.1 s" in caplog.text
    assert not task.done()
    release.set()
    await task


async def test_cancelled_start_stops_the_services_already_started(journal: list[str]) -> None:
    entered = asyncio.Event()

    class Stuck(Recorded):
        async def start(self) -> None:
            entered.set()
            await asyncio.Event().wait()

    rt = runtime_with(Recorded("store", journal), Stuck("ssh", journal))
    starting = asyncio.create_task(rt.start())
    await entered.wait()
    starting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await starting
    assert journal == ["start store", "stop store"]
    assert rt.state == "stopped"


async def test_the_runtime_supervises_and_logs_the_hub_queues(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="ews_tui.runtime")
    rt = Runtime(config=None)
    recorder = rt.hub.subscribe(TaskFailed, lossless=True, name="recorder", high_water=1)
    async with rt:
        assert [h.name for h in rt.supervisor.health()] == ["hub-stats"]
        rt.log_stats()
        assert caplog.records[-1].getMessage() == "hub queues: recorder 0 queued"
        assert caplog.records[-1].levelno == logging.INFO
        for n in range(3):
            rt.hub.publish(TaskFailed(f"t{n}", "x"))
        rt.log_stats()
        line = caplog.records[-1]
        assert line.getMessage() == "hub queues: recorder 3 queued (falling behind)"
        assert line.levelno == logging.WARNING
    recorder.close()


async def test_supervise_after_stop_is_refused() -> None:
    rt = Runtime(config=None)
    await rt.stop()
    with pytest.raises(RuntimeError, match="stopped"):
        rt.supervise("late", asyncio.Event().wait)
