"""ews_tui.heap: start-up's objects leave the collector's scans; full collections only when
the loop is quiet or past a memory cap; the collector's work in the log."""

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


# -- the policy: no automatic full collection; one when quiet, or past the memory cap ---------


class Clocks:
    """The policy's clock, its loop thread's CPU clock and its RSS, moved by the test."""

    def __init__(self) -> None:
        self.now = 0.0
        self.cpu = 0.0
        self.rss = 100 << 20

    def policy(
        self,
        *,
        idle_s: float = heap.IDLE_S,
        check_s: float = heap.CHECK_S,
        min_young: int = heap.MIN_YOUNG,
        cap_bytes: int = heap.CAP_MB << 20,
    ) -> heap.GcPolicy:
        return heap.GcPolicy(
            idle_s=idle_s,
            check_s=check_s,
            min_young=min_young,
            cap_bytes=cap_bytes,
            clock=lambda: self.now,
            cpu_clock=lambda: self.cpu,
            rss=lambda: self.rss,
        )

    def later(self, seconds: float, busy: float = 0.0) -> None:
        """``seconds`` pass; the loop's thread uses ``busy`` of a core meanwhile."""
        self.now += seconds
        self.cpu += busy * seconds


@pytest.fixture
def clocks(unfrozen: None) -> Iterator[Clocks]:
    yield Clocks()
    heap.WATCH.reason = ""


def promoted_garbage() -> weakref.ref[Node]:
    """A cycle that lived through young collections (in generation 2 now), then dropped:
    only a full collection frees it."""
    node = Node()
    for _ in range(3):
        gc.collect(1)
    gone = weakref.ref(node)
    del node
    gc.collect(1)
    assert gone() is not None
    return gone


def test_installed_cpython_starts_no_full_collection(unfrozen: None) -> None:
    policy = heap.GcPolicy(young=(700, 10))  # CPython's young thresholds: its rule applies
    watch = heap.GcWatch()
    was = gc.get_threshold()
    policy.install()
    watch.install()
    try:
        assert gc.get_threshold() == (700, 10, heap.AUTOMATIC_FULL_OFF)
        # Enough long-lived objects for CPython's own rule (generation 1 collected more than
        # 10 times, a quarter more long-lived objects than the last full one left).
        kept = [Node() for _ in range(300_000)]
        assert gc.get_count()[2] > 10
    finally:
        watch.uninstall()
        policy.uninstall()
    assert watch.totals[1].count > 10
    assert watch.totals[2].count == 0
    assert gc.get_threshold() == was  # uninstalled: CPython's own thresholds again
    del kept


def test_a_quiet_loop_gets_a_full_collection(clocks: Clocks) -> None:
    policy = clocks.policy(idle_s=2.0, check_s=0.5, min_young=3)
    policy.install()
    try:
        gone = promoted_garbage()
        clocks.later(0.5)
        assert policy.check() is None  # quiet for half a second only
        clocks.later(0.5, busy=0.6)
        assert policy.check() is None  # busy: quiet again from here
        for _ in range(3):
            clocks.later(0.5, busy=0.1)
            assert policy.check() is None
        assert gone() is not None
        clocks.later(0.5, busy=0.1)
        assert policy.check() == "quiet"  # two seconds under a quarter of a core
    finally:
        policy.uninstall()
    assert gone() is None
    assert (policy.quiet, policy.forced) == (1, 0)


def test_nothing_to_collect_no_collection(clocks: Clocks) -> None:
    policy = clocks.policy(idle_s=2.0, min_young=10_000)
    policy.install()
    try:
        for _ in range(20):
            clocks.later(0.5)
            assert policy.check() is None  # quiet, but nothing promoted, no session activity
    finally:
        policy.uninstall()


def test_a_busy_loop_waits_until_memory_passes_the_cap(clocks: Clocks) -> None:
    policy = clocks.policy(idle_s=2.0, min_young=1, cap_bytes=48 << 20)
    policy.install()
    try:
        gone = promoted_garbage()
        for _ in range(60):  # 30 s of a whole core: never quiet
            clocks.later(0.5, busy=1.0)
            clocks.rss += 512 << 10
            assert policy.check() is None
        assert gone() is not None
        clocks.later(0.5, busy=1.0)
        clocks.rss += 20 << 20  # 50 MB since the last full collection
        assert policy.check() == "forced"
        assert gone() is None
        clocks.later(0.5, busy=1.0)
        clocks.rss += 1 << 20
        assert policy.check() is None  # the cap counts from the last full collection
    finally:
        policy.uninstall()
    assert (policy.quiet, policy.forced) == (0, 1)


def test_a_late_check_is_a_busy_loop(clocks: Clocks) -> None:
    # On a loaded machine a busy loop waits for a core: little CPU, but its checks come late.
    policy = clocks.policy(idle_s=2.0, check_s=0.5, min_young=1)
    policy.install()
    try:
        promoted_garbage()
        for _ in range(20):
            clocks.later(1.5)
            assert policy.check() is None
    finally:
        policy.uninstall()


def test_sessions_at_work_defer_it_and_a_session_ended_makes_it_due(clocks: Clocks) -> None:
    policy = clocks.policy(idle_s=2.0, min_young=10_000)  # only the activity makes it due
    policy.install()
    try:
        gone = promoted_garbage()
        for _ in range(20):  # a screen opened at every check: 10 s, no collection
            clocks.later(0.5)
            policy.activity()
            assert policy.check() is None
        assert policy.dirty
        for _ in range(3):
            clocks.later(0.5)
            assert policy.check() is None
        clocks.later(0.5)
        assert policy.check() == "quiet"  # two seconds after the last activity
        assert not policy.dirty
    finally:
        policy.uninstall()
    assert gone() is None


def test_the_watch_line_says_why_the_policy_collected(
    clocks: Clocks, caplog: pytest.LogCaptureFixture
) -> None:
    policy = clocks.policy(cap_bytes=1 << 20)
    watch = heap.WATCH
    was = watch.installed
    watch.install()
    policy.install()
    try:
        promoted_garbage()
        watch.flush_full()  # what came before
        clocks.rss += 2 << 20
        caplog.set_level("INFO", logger="ews_tui.heap")
        assert policy.check() == "forced"
        watch.flush_full()
    finally:
        policy.uninstall()
        if not was:
            watch.uninstall()
    assert caplog.records[-1].getMessage().endswith("(forced, RSS +2 MB)")


def test_its_task_installs_it_and_puts_cpython_back_when_it_stops(unfrozen: None) -> None:
    policy = heap.GcPolicy(check_s=0.01)
    was = gc.get_threshold()

    async def a_runtime_that_stops() -> None:
        task = asyncio.create_task(policy.run())
        await asyncio.sleep(0.05)
        assert policy.installed
        assert gc.get_threshold()[2] == heap.AUTOMATIC_FULL_OFF
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(a_runtime_that_stops())
    assert not policy.installed
    assert gc.get_threshold() == was


def test_a_disabled_policy_installs_nothing(unfrozen: None) -> None:
    policy = heap.GcPolicy(enabled=False)
    was = gc.get_threshold()
    policy.install()
    assert not policy.installed
    assert gc.get_threshold() == was


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
