"""10-minute aggregates: count, mean, min, max per quantity and the slot's last index."""

from __future__ import annotations

from ews_tui.domain.aggregation import Aggregator, QuantityStats


def test_samples_of_a_slot_fold_into_stats_and_the_last_index() -> None:
    agg = Aggregator()
    agg.add(1, 600.0, {"v1": 230.0, "ea_import": 10.0, "breaker": "closed"})
    agg.add(1, 700.0, {"v1": 232.0, "ea_import": 10.5, "p": None})
    agg.add(1, 1199.0, {"v1": 228.0, "ea_import": 11.0, "p": float("nan")})
    assert agg.drain() == []
    agg.add(1, 1200.0, {"v1": 231.0})  # the next slot closes the first
    (record,) = agg.drain()
    assert (record.device_id, record.slot, record.index) == (1, 1, 11.0)
    assert record.stats == (QuantityStats("v1", 3, 230.0, 228.0, 232.0),)


def test_close_ends_slots_the_clock_passed_and_old_samples_are_dropped() -> None:
    agg = Aggregator()
    agg.add(1, 1300.0, {"v1": 1.0})
    agg.add(2, 1900.0, {"index": 5.0})
    agg.add(1, 500.0, {"v1": 99.0})  # older than device 1's open slot
    agg.close(3)
    assert [(r.device_id, r.slot) for r in agg.drain()] == [(1, 2)]
    agg.close_all()
    (gas,) = agg.drain()
    assert (gas.slot, gas.index, gas.stats) == (3, 5.0, ())
    assert agg.samples == 2
