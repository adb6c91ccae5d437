"""LiveBoard (latest values and states, silent devices lose their values) and the LiveValues
service following the Hub."""

from __future__ import annotations

import asyncio

from ews_tui.domain.events import (
    DeviceState,
    DeviceStateChanged,
    GatewayState,
    GatewayStateChanged,
    InstallationChanged,
    Sample,
)
from ews_tui.hub import Hub
from ews_tui.services.live import LiveBoard, LiveValues


def test_sample_then_silence_clears_values() -> None:
    board = LiveBoard()
    board.apply(DeviceStateChanged(3, DeviceState.ON))
    assert board.apply(Sample(3, 10.0, {"v1": 230.0, "v2": None})) == 3
    live = board.device(3)
    assert (live.state, live.value("v1"), live.value("v2"), live.ts) == (
        DeviceState.ON,
        230.0,
        None,
        10.0,
    )
    board.apply(DeviceStateChanged(3, DeviceState.COMM_ERROR, "timeout"))
    live = board.device(3)
    assert (live.state, live.detail, dict(live.values), live.ts) == (
        DeviceState.COMM_ERROR,
        "timeout",
        {},
        None,
    )
    board.apply(DeviceStateChanged(3, DeviceState.ON))
    board.apply(Sample(3, 11.0, {"v1": 231.0}))
    assert (board.device(3).state, board.device(3).value("v1")) == (DeviceState.ON, 231.0)


def test_a_state_changes_only_on_a_state_event() -> None:
    """The old poller's values-less Sample after a communication error turned the device
    back ON on the board: the kiosk counted dead gateways' devices as answering."""
    board = LiveBoard()
    board.apply(DeviceStateChanged(3, DeviceState.ON))
    board.apply(Sample(3, 10.0, {"v1": 230.0}))
    board.apply(DeviceStateChanged(3, DeviceState.COMM_ERROR, "connection refused"))
    for sample in (
        Sample(3, 11.0, {"v1": None, "ea_import": None}),  # all missing
        Sample(3, 12.0, {}),  # no values at all
        Sample(3, 13.0, {"v1": 231.0}),  # raced its device's silence
    ):
        board.apply(sample)
        live = board.device(3)
        assert (live.state, live.detail) == (DeviceState.COMM_ERROR, "connection refused")
        assert dict(live.values) == {}
    board.apply(DeviceStateChanged(3, DeviceState.ON))
    board.apply(Sample(3, 14.0, {"v1": None}))
    assert board.device(3).state is DeviceState.ON  # a missing value is not a state


def test_fast_polls_keep_the_slow_energies_each_with_its_own_time() -> None:
    board = LiveBoard()
    board.apply(DeviceStateChanged(1, DeviceState.ON))
    board.apply(Sample(1, 100.0, {"p": 2.0, "ea_import": 810727.0}))  # fast + slow
    board.apply(Sample(1, 101.0, {"p": 2.5}))  # fast only
    board.apply(Sample(1, 102.0, {"p": 3.0, "v1": None}))
    live = board.device(1)
    assert dict(live.values) == {"p": 3.0, "ea_import": 810727.0, "v1": None}
    assert (live.value_ts("p"), live.value_ts("ea_import"), live.ts) == (102.0, 100.0, 102.0)
    assert live.value_ts("v1") == 102.0  # read, and missing in that read
    board.apply(Sample(1, 160.0, {"p": 1.0, "ea_import": 810728.0}))
    assert board.device(1).value("ea_import") == 810728.0
    board.apply(DeviceStateChanged(1, DeviceState.OFF))
    assert board.device(1).value_ts("ea_import") is None


def test_state_on_keeps_values_and_unknown_device_is_empty() -> None:
    board = LiveBoard()
    board.apply(DeviceStateChanged(1, DeviceState.ON))
    board.apply(Sample(1, 1.0, {"p": 2.0}))
    board.apply(DeviceStateChanged(1, DeviceState.ON, "again"))
    assert board.device(1).value("p") == 2.0
    assert board.device(99).state is None and not board.device(99).values


def test_gateway_state_and_copy_is_independent() -> None:
    board = LiveBoard()
    assert board.apply(GatewayStateChanged(2, GatewayState.COMM_ERROR, "refused")) is None
    assert board.apply(InstallationChanged(1)) is None
    copy = board.copy()
    copy.apply(Sample(1, 1.0, {"p": 1.0}))
    assert board.gateway(2).state is GatewayState.COMM_ERROR  # type: ignore[union-attr]
    assert copy.gateway(2) == board.gateway(2)
    assert board.device(1).state is None


def test_replaying_events_gives_the_same_board() -> None:
    events = [
        Sample(1, 1.0, {"p": 1.0}),
        DeviceStateChanged(1, DeviceState.COMM_ERROR),
        DeviceStateChanged(1, DeviceState.ON),
        Sample(2, 2.0, {"p": 5.0}),
    ]
    once, twice = LiveBoard(), LiveBoard()
    for event in events:
        once.apply(event)
    for event in events[:3] + events:  # a screen re-applying what the service had seen
        twice.apply(event)
    assert [once.device(i) for i in (1, 2)] == [twice.device(i) for i in (1, 2)]


async def test_service_follows_the_hub() -> None:
    hub = Hub()
    service = LiveValues(hub)
    await service.start()
    try:
        hub.publish(Sample(7, 5.0, {"f": 50.0}))
        for _ in range(10):
            if service.device(7).ts is not None:
                break
            await asyncio.sleep(0)
        assert service.device(7).value("f") == 50.0
        snapshot = service.snapshot()
        hub.publish(DeviceStateChanged(7, DeviceState.OFF))
        for _ in range(10):
            if service.device(7).state is DeviceState.OFF:
                break
            await asyncio.sleep(0)
        assert service.device(7).value("f") is None
        assert snapshot.device(7).value("f") == 50.0  # a copy, not a view
    finally:
        await service.stop()
    assert not [s for s in hub.subscriptions if s.name == "live"]


async def test_a_burst_of_events_never_loses_a_state() -> None:
    """Thousands of samples published while the loop is busy, then a device's error: the
    board still ends with the error (a bounded queue dropped the state event, and the board
    showed ON for good)."""
    hub = Hub()
    service = LiveValues(hub)
    await service.start()
    try:
        hub.publish(DeviceStateChanged(7, DeviceState.COMM_ERROR))
        for i in range(20_000):
            hub.publish(Sample(1 + i % 30, float(i), {"f": 50.0}))
        for _ in range(1000):
            if service.device(1).ts == 19_980.0:
                break
            await asyncio.sleep(0)
        assert service.device(1).ts == 19_980.0
        assert service.device(7).state is DeviceState.COMM_ERROR
    finally:
        await service.stop()
