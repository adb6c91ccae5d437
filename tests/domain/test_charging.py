"""Charging sessions told from the charger's state and session energy counter."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.charging import (
    ChargerState,
    ChargingSession,
    Track,
    charging_points,
    map_assumed,
    step,
)
from ews_tui.domain.installation import Device, Installation

SIDE2 = Device(7, 1, "0 590 32", 5, side=2, name="Bay 2")


def run(
    samples: Iterable[tuple[float, Mapping[str, object]]], track: Track | None = None
) -> tuple[Track, list[ChargingSession], list[ChargingSession]]:
    track = track or Track()
    ended, started = [], []
    for ts, values in samples:
        result = step(track, SIDE2, ts, values)
        track = result.track
        ended += [result.ended] if result.ended else []
        started += [result.started] if result.started else []
    return track, ended, started


def test_a_session_from_plug_to_leave_takes_the_largest_counter() -> None:
    track, ended, started = run(
        [
            (100.0, {"charger": "available", "session_energy": 0.0, "ea_import": 50.0}),
            (200.0, {"charger": "connected"}),
            (300.0, {"charger": "charging"}),
            (400.0, {"session_energy": 3.25, "ea_import": 53.25}),  # a slow poll: no state
            (500.0, {"charger": "connected", "session_energy": 7.5}),  # done, the car stays
            (600.0, {"charger": "available", "session_energy": 0.0}),  # it left: reset
        ]
    )
    assert [s.start for s in started] == [200.0]
    assert ended == [ChargingSession(7, 200.0, 600.0, 7.5, side=2)]
    assert ended[0].duration(10_000.0) == 400.0
    assert track.session is None and track.state is ChargerState.AVAILABLE


def test_a_session_already_running_at_first_look_has_no_start() -> None:
    track, _ended, started = run([(100.0, {"charger": "charging", "session_energy": 2.0})])
    assert started == [ChargingSession(7, None, energy_kwh=2.0, side=2)]
    assert track.session is not None and track.session.duration(500.0) is None


def test_a_fault_keeps_the_session_and_is_the_last_fault() -> None:
    track, ended, _started = run(
        [
            (100.0, {"charger": "available"}),
            (200.0, {"charger": "charging", "session_energy": 1.0}),
            (300.0, {"charger": "fault"}),
            (400.0, {"charger": "fault"}),
            (500.0, {"charger": "charging", "session_energy": 2.0}),
        ]
    )
    assert ended == [] and track.last_fault == 300.0
    assert track.session == ChargingSession(7, 200.0, energy_kwh=2.0, side=2)


def test_a_counter_going_back_while_plugged_is_a_new_session() -> None:
    _track, ended, started = run(
        [
            (100.0, {"charger": "available"}),
            (200.0, {"charger": "charging", "session_energy": 5.0}),
            (900.0, {"charger": "charging", "session_energy": 0.5}),
        ]
    )
    assert ended == [ChargingSession(7, 200.0, 900.0, 5.0, side=2)]
    assert [(s.start, s.energy_kwh) for s in started] == [(200.0, 5.0), (900.0, 0.5)]


def test_without_a_session_counter_the_total_energy_says_how_much() -> None:
    _track, ended, _started = run(
        [
            (100.0, {"charger": "available", "ea_import": 10.0}),
            (200.0, {"charger": "charging", "ea_import": 10.0}),
            (300.0, {"ea_import": 14.0}),
            (400.0, {"charger": "disabled"}),
        ]
    )
    assert ended == [ChargingSession(7, 200.0, 400.0, 4.0, side=2)]


def test_a_missing_state_changes_nothing() -> None:
    track, ended, started = run(
        [(100.0, {"charger": "available"}), (200.0, {"charger": None}), (300.0, {"charger": "?"})]
    )
    assert track.state is ChargerState.AVAILABLE and not ended and not started


def test_charging_points_are_the_enabled_chargers_and_their_maps_are_assumed() -> None:
    catalog = builtin_catalog()
    meter = Device(1, 1, "0 146 68", 3)
    off = Device(8, 1, "0 590 02", 6, enabled=False)
    inst = Installation((), devices=(meter, SIDE2, off))
    assert charging_points(inst, catalog) == (SIDE2,)
    assert map_assumed(SIDE2, catalog)
