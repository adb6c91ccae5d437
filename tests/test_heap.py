"""ews_tui.heap: start-up's objects leave the collector's scans; its garbage is freed first."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from ews_tui import heap


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only a collection frees it


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process keeps collecting everything


def test_settle_collects_then_freezes_what_is_alive(unfrozen: None) -> None:
    kept = [{"a": i} for i in range(1000)]
    garbage = weakref.ref(Node())  # unreachable at once, alive until collected
    assert garbage() is not None
    frozen = heap.settle()
    assert garbage() is None  # collected, not frozen for ever
    assert frozen == gc.get_freeze_count() >= len(kept)
    # A later collection does not walk them: they are in no generation any more.
    assert not any(obj is kept for obj in gc.get_objects())
    gc.unfreeze()
    assert any(obj is kept for obj in gc.get_objects())


# -- the policy: full collections walk what is new; what freezing kept comes back when quiet --


@pytest.fixture
def policy(unfrozen: None) -> Iterator[heap.GcPolicy]:
    own = heap.GcPolicy(idle_s=0.05, check_s=0.01, min_freezes=1)
    heap.settle()
    own.settled(gc.get_freeze_count())
    own.install()
    yield own
    own.uninstall()


def test_a_full_collection_freezes_its_survivors(policy: heap.GcPolicy) -> None:
    kept = [Node() for _ in range(100)]
    assert any(obj is kept for obj in gc.get_objects())
    gc.collect()
    # The survivors left the generations: the next full collection does not walk them.
    assert not any(obj is kept for obj in gc.get_objects())
    assert policy.freezes >= 1
    assert policy.pending >= len(kept)


def test_garbage_frozen_while_alive_comes_back_at_reclaim(policy: heap.GcPolicy) -> None:
    screen = Node()  # a screen alive during a full collection, closed afterwards
    gone = weakref.ref(screen)
    gc.collect()
    del screen
    gc.collect()
    assert gone() is not None  # frozen: the usual collections keep it
    assert policy.reclaim() >= 1
    assert gone() is None
    assert policy.pending == 0  # the survivors are the new baseline
    assert policy.freezes_since == 0


def test_settle_frees_what_the_policy_froze(policy: heap.GcPolicy) -> None:
    screen = Node()
    gone = weakref.ref(screen)
    gc.collect()
    del screen
    heap.settle()
    assert gone() is None


def test_reclaim_is_due_when_quiet_or_when_too_much_waits() -> None:
    policy = heap.GcPolicy(idle_s=2.0, min_freezes=3, max_freezes=40)
    assert not policy.due(0, quiet_s=60.0)  # nothing frozen since the last time
    assert not policy.due(2, quiet_s=60.0)  # too little to be worth walking the whole heap
    assert not policy.due(10, quiet_s=1.0)  # busy a second ago: later
    assert policy.due(3, quiet_s=2.0)
    assert policy.due(40, quiet_s=0.0)  # memory stays bounded on a box never quiet


def test_the_task_reclaims_once_the_loop_is_quiet(policy: heap.GcPolicy) -> None:
    screen = Node()
    gone = weakref.ref(screen)
    gc.collect()
    del screen

    async def quiet_loop() -> None:
        task = asyncio.create_task(policy.run())
        try:
            async with asyncio.timeout(30):
                while gone() is not None:
                    await asyncio.sleep(0.01)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    asyncio.run(quiet_loop())
    assert policy.reclaims == 1


def test_the_task_waits_while_the_loop_is_busy(policy: heap.GcPolicy) -> None:
    clock = [0.0]

    def busy_cpu() -> float:
        clock[0] += 1.0  # a whole core between two checks
        return clock[0]

    policy.cpu_clock = busy_cpu
    screen = Node()
    gc.collect()
    del screen

    async def busy_loop() -> None:
        task = asyncio.create_task(policy.run())
        for _ in range(40):  # 0.4 s of checks: well past idle_s
            await asyncio.sleep(0.01)
        assert policy.reclaims == 0
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(busy_loop())


def test_the_task_waits_while_sessions_change_screens(policy: heap.GcPolicy) -> None:
    screen = Node()
    gc.collect()
    del screen

    async def navigating() -> None:
        task = asyncio.create_task(policy.run())
        for _ in range(40):  # 0.4 s of checks, a screen opened at each: well past idle_s
            policy.activity()
            await asyncio.sleep(0.01)
        assert policy.reclaims == 0
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(navigating())


def test_when_its_task_stops_the_policy_is_gone_and_its_garbage_back(unfrozen: None) -> None:
    own = heap.GcPolicy(idle_s=3600.0)

    async def a_runtime_that_stops() -> weakref.ref[Node]:
        task = asyncio.create_task(own.run())
        await asyncio.sleep(0)  # its first turn: installed
        assert own.installed
        screen = Node()
        gone = weakref.ref(screen)
        gc.collect()  # frozen alive
        del screen
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return gone

    gone = asyncio.run(a_runtime_that_stops())
    assert not own.installed
    assert gone() is None


def test_a_disabled_policy_installs_nothing(unfrozen: None) -> None:
    own = heap.GcPolicy(enabled=False)
    own.install()
    kept = [Node() for _ in range(10)]
    gc.collect()
    assert not own.installed and own.freezes == 0
    assert any(obj is kept for obj in gc.get_objects())  # CPython's own collections


# -- the watch: the collector's work in the box's log ------------------------------------------


def test_the_watch_counts_a_real_collection_and_logs_it(caplog: pytest.LogCaptureFixture) -> None:
    watch = heap.GcWatch()
    watch.install()
    try:
        garbage = weakref.ref(Node())
        gc.collect()
        gc.collect(0)
    finally:
        watch.uninstall()
    assert garbage() is None
    assert watch.totals[2].count == 1 and watch.totals[2].collected >= 1
    assert watch.totals[0].count >= 1
    assert watch.totals[2].max_s > 0.0 and watch.totals[2].total_s >= watch.totals[2].max_s
    caplog.set_level("INFO", logger="ews_tui.heap")
    watch.flush_full()
    watch.flush_full()  # nothing new: no second line
    watch.summary(60.0)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("heap.gc full: 1 collections, max ")
    assert lines[1].startswith("heap.gc: 60 s: gen0 ")
    assert "gen2 1 max " in lines[1]
    assert watch.minute[2].count == 0  # the next summary starts anew
