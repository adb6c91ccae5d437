"""Open slots: what the store lacks is told apart, and a slot saved before a restart is
taken back so that what follows folds into it as in one run."""

from __future__ import annotations

from ews_tui.domain.aggregation import Aggregator, OpenSlot


def fold(agg: Aggregator, polls: range, device: int = 1) -> None:
    for n in polls:
        agg.add(device, 600.0 + n * 20, {"v1": 230.0 + n / 7, "ea_import": 10.0 + n})


def test_unsaved_slots_are_those_with_news_since_their_save() -> None:
    agg = Aggregator()
    fold(agg, range(3))
    (slot,) = agg.unsaved()
    slot.saved = slot.changes
    assert agg.unsaved() == []
    fold(agg, range(3, 4))
    assert agg.unsaved() == [slot]
    fold(agg, range(30, 31))  # the next slot closes it: both unsaved, closed first
    assert [s.slot for s in agg.unsaved()] == [1, 2]


def test_a_restored_slot_goes_on_as_if_never_stopped() -> None:
    one = Aggregator()
    fold(one, range(30))
    one.close_all()
    (expected,) = one.drain()
    first = Aggregator()
    fold(first, range(12))
    (saved,) = first.unsaved()
    second = Aggregator()
    second.restore(saved.copy())
    fold(second, range(12, 30))
    second.close_all()
    assert second.drain() == [expected]


def test_restore_keeps_the_later_slot_open() -> None:
    agg = Aggregator()
    fold(agg, range(30, 32))  # slot 2 open
    old = OpenSlot(1, 1, {"v1": [2, 460.0, 229.0, 231.0]}, 9.0)
    agg.restore(old)  # an older slot saved open: closed at once
    newer = OpenSlot(1, 3, {"v1": [1, 230.0, 230.0, 230.0]}, 50.0)
    agg.restore(newer)  # a later one: it is the open one now
    assert [s.slot for s in agg.drain_slots()] == [1, 2]
    assert agg.open_slots() == [newer]


def test_a_restored_slot_and_a_live_one_of_the_same_slot_merge() -> None:
    agg = Aggregator()
    fold(agg, range(5, 8))
    agg.restore(OpenSlot(1, 1, {"v1": [2, 400.0, 100.0, 300.0]}, 12.0))
    agg.close_all()
    (record,) = agg.drain()
    (v1,) = record.stats
    assert (v1.count, v1.min, v1.max) == (5, 100.0, 300.0)
    assert record.index == 17.0  # the live part's, being later
