"""The Hub on the real asyncio loop: routing, bounded and lossless queues, closing."""

from __future__ import annotations

import asyncio

import pytest

from ews_tui.domain.events import (
    DeviceState,
    DeviceStateChanged,
    Event,
    InstallationChanged,
    Progress,
    QueueBehind,
    QueueCaughtUp,
    Sample,
    SettingsChanged,
)
from ews_tui.hub import Hub, SubscriptionClosed, SubscriptionEmpty, SubscriptionStats


class Special(Progress):
    """A subclass, to prove base-class subscriptions receive it."""

    __slots__ = ()


def sample(n: int) -> Sample:
    return Sample(1, float(n), {"P": float(n)})


async def test_subscriber_receives_only_its_types_in_order() -> None:
    hub = Hub()
    samples = hub.subscribe(Sample, name="samples")
    states = hub.subscribe(DeviceStateChanged, name="states")
    changed = DeviceStateChanged(1, DeviceState.OFF, "")

    hub.publish(sample(1))
    hub.publish(changed)
    hub.publish(sample(2))

    assert [await samples.get(), await samples.get()] == [sample(1), sample(2)]
    assert await states.get() == changed
    with pytest.raises(SubscriptionEmpty):
        samples.get_nowait()


async def test_base_class_subscription_receives_subclasses() -> None:
    hub = Hub()
    everything = hub.subscribe(name="all")
    progress = hub.subscribe(Progress, name="progress")
    special = Special("job", 1, 2)

    hub.publish(special)
    hub.publish(SettingsChanged("smtp"))

    assert progress.get_nowait() is special
    assert [everything.get_nowait(), everything.get_nowait()] == [special, SettingsChanged("smtp")]


async def test_several_types_in_one_subscription() -> None:
    hub = Hub()
    sub = hub.subscribe(InstallationChanged, SettingsChanged)
    hub.publish(sample(1))
    hub.publish(InstallationChanged(2))
    hub.publish(SettingsChanged("ntp"))
    assert [sub.get_nowait(), sub.get_nowait()] == [InstallationChanged(2), SettingsChanged("ntp")]
    assert len(sub) == 0


async def test_get_waits_for_the_next_publish() -> None:
    hub = Hub()
    sub = hub.subscribe(InstallationChanged)
    reader = asyncio.create_task(sub.get())
    await asyncio.sleep(0)  # let the reader park on its waiter
    assert not reader.done()
    hub.publish(InstallationChanged(9))
    assert await reader == InstallationChanged(9)


async def test_slow_subscriber_never_blocks_publisher_and_counts_drops() -> None:
    hub = Hub()
    slow = hub.subscribe(Sample, maxsize=10, name="frozen-ui")
    recorder = hub.subscribe(Sample, lossless=True, name="recorder")

    for n in range(1000):
        hub.publish(sample(n))  # synchronous: returns without the slow one ever reading

    assert slow.dropped == 990
    assert len(slow) == 10
    assert [slow.get_nowait().ts for _ in range(10)] == [float(n) for n in range(990, 1000)]
    assert recorder.dropped == 0
    assert len(recorder) == 1000


async def test_lossless_subscriber_receives_100_000_events_in_order() -> None:
    hub = Hub()
    recorder = hub.subscribe(Sample, lossless=True, name="recorder")
    count = 100_000

    async def record() -> list[float]:
        seen = []
        async for event in recorder:
            seen.append(event.ts)
        return seen

    reader = asyncio.create_task(record())
    for n in range(count):
        hub.publish(sample(n))
        if n % 10_000 == 0:
            await asyncio.sleep(0)  # interleave publisher and reader
    recorder.close()

    assert await reader == [float(n) for n in range(count)]
    assert recorder.dropped == 0


async def test_close_ends_iteration_after_draining_what_was_queued() -> None:
    hub = Hub()
    sub = hub.subscribe(InstallationChanged)
    hub.publish(InstallationChanged(1))
    sub.close()
    hub.publish(InstallationChanged(2))  # after close: not delivered

    assert [event async for event in sub] == [InstallationChanged(1)]
    with pytest.raises(SubscriptionClosed):
        sub.get_nowait()
    with pytest.raises(SubscriptionClosed):
        await sub.get()


async def test_close_wakes_a_waiting_reader() -> None:
    hub = Hub()
    sub = hub.subscribe(Sample)

    async def read_all() -> list[Event]:
        return [event async for event in sub]

    reader = asyncio.create_task(read_all())
    await asyncio.sleep(0)
    sub.close()
    assert await reader == []


async def test_cancelled_get_leaves_the_subscription_usable() -> None:
    hub = Hub()
    sub = hub.subscribe(InstallationChanged)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(sub.get(), 0.001)
    hub.publish(InstallationChanged(3))
    assert await sub.get() == InstallationChanged(3)


async def test_second_concurrent_reader_is_refused() -> None:
    hub = Hub()
    sub = hub.subscribe(InstallationChanged, name="ui-1")
    first = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="ui-1"):
        await sub.get()
    sub.close()
    with pytest.raises(SubscriptionClosed):
        await first


def test_context_manager_closes_and_unsubscribes() -> None:
    hub = Hub()
    with hub.subscribe(Sample, name="screen") as sub:
        assert hub.subscriptions == (sub,)
    assert sub.closed
    assert hub.subscriptions == ()
    hub.publish(sample(1))
    assert len(sub) == 0


def test_publish_works_without_a_running_loop_and_without_subscribers() -> None:
    hub = Hub()
    hub.publish(sample(1))
    sub = hub.subscribe()
    hub.publish(sample(2))
    assert sub.get_nowait() == sample(2)


def test_new_subscription_sees_types_already_routed() -> None:
    hub = Hub()
    first = hub.subscribe(Sample)
    hub.publish(sample(1))  # fills the route cache for Sample
    second = hub.subscribe(Event)
    hub.publish(sample(2))
    first.close()
    hub.publish(sample(3))
    assert [second.get_nowait(), second.get_nowait()] == [sample(2), sample(3)]
    assert [first.get_nowait(), first.get_nowait()] == [sample(1), sample(2)]


def test_stats_report_queue_length_and_drops_per_subscription() -> None:
    hub = Hub()
    hub.subscribe(Sample, maxsize=2, name="ui")
    hub.subscribe(Sample, lossless=True, name="recorder", high_water=3)
    for n in range(5):
        hub.publish(sample(n))
    assert hub.stats() == (
        SubscriptionStats("ui", queued=2, dropped=3, maxsize=2, lossless=False),
        SubscriptionStats(
            "recorder", 5, dropped=0, maxsize=None, lossless=True, high_water=3, behind=True
        ),
    )


def test_a_lossless_queue_past_its_high_water_mark_says_it_is_falling_behind() -> None:
    hub = Hub()
    system = hub.subscribe(QueueBehind, QueueCaughtUp, name="alarms")
    recorder = hub.subscribe(Sample, lossless=True, name="recorder", high_water=4)
    for n in range(4):
        hub.publish(sample(n))
    assert len(system) == 0 and not recorder.behind
    for n in range(4, 10):
        hub.publish(sample(n))
    assert system.get_nowait() == QueueBehind("recorder", 5)
    assert len(system) == 0  # said once, not on every event past the mark
    assert len(recorder) == 10  # nothing dropped
    while len(recorder) > 3:
        recorder.get_nowait()
    assert len(system) == 0  # still above half the mark
    recorder.get_nowait()
    assert system.get_nowait() == QueueCaughtUp("recorder")
    assert not recorder.behind
    for n in range(10):
        hub.publish(sample(n))
    assert system.get_nowait() == QueueBehind("recorder", 5)  # and again next time


async def test_a_queue_catching_up_through_get_says_so() -> None:
    hub = Hub()
    system = hub.subscribe(QueueCaughtUp, name="alarms")
    recorder = hub.subscribe(Sample, lossless=True, name="recorder", high_water=1)
    hub.publish(sample(1))
    hub.publish(sample(2))
    assert recorder.behind
    assert await recorder.get() == sample(1)
    assert await recorder.get() == sample(2)
    assert system.get_nowait() == QueueCaughtUp("recorder")


def test_a_subscriber_of_everything_falling_behind_does_not_loop() -> None:
    hub = Hub()
    everything = hub.subscribe(lossless=True, name="everything", high_water=2)
    for n in range(3):
        hub.publish(sample(n))
    assert len(everything) == 4  # three samples and its own QueueBehind, once
    assert everything.behind


def test_publishing_a_non_event_is_refused() -> None:
    hub = Hub()
    hub.subscribe()
    with pytest.raises(TypeError, match="dict"):
        hub.publish({"P": 1})  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [dict, "Sample", 3])
def test_subscribing_to_a_non_event_is_refused(bad: object) -> None:
    with pytest.raises(TypeError, match="not an Event"):
        Hub().subscribe(bad)  # type: ignore[arg-type]


def test_zero_maxsize_is_refused() -> None:
    with pytest.raises(ValueError, match="maxsize"):
        Hub().subscribe(Sample, maxsize=0, name="ui")
