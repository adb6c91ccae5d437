"""Bus pollers against the device simulator: schedules, faults, recovery, shared-bus jobs."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import pytest

from ews_tui.domain.catalog import Catalog, Family, Model, Quantity, RegisterMap, builtin_catalog
from ews_tui.domain.events import (
    DeviceState,
    DeviceStateChanged,
    Event,
    GatewayState,
    GatewayStateChanged,
    Sample,
)
from ews_tui.hub import Hub, Subscription
from ews_tui.modbus.device_reader import DeviceTarget
from ews_tui.modbus.planner import BusParams
from ews_tui.modbus.poller import BusPoller, PollSettings
from ews_tui.modbus.serial_line import LineSettings
from ews_tui.modbus.transport import (
    BusTransport,
    NoAnswer,
    ReadResult,
    RtuEndpoint,
    TcpEndpoint,
)
from ews_tui.sim.server import DeviceSpec, Fault, SimulatedBus, open_pty_pair

CATALOG = builtin_catalog()
EMDX3 = CATALOG.maps["emdx3_common"]
SDM630 = CATALOG.maps["eastron_sdm630"]
TIMEOUT_S = 0.1
FAST = PollSettings(
    fast_s=0.05,
    slow_s=0.3,
    retries=1,
    backoff_start_s=0.05,
    backoff_max_s=0.2,
    reconnect_start_s=0.05,
    reconnect_max_s=0.2,
)
WAIT_S = 5.0


def target(device_id: int, address: int, reg_map: RegisterMap = EMDX3) -> DeviceTarget:
    return DeviceTarget(device_id, address, reg_map, "test", reg_map.provenance)


async def next_event(sub: Subscription, match: Callable[[Event], bool], timeout: float = WAIT_S):
    """The first event ``match`` accepts (others are skipped), or fail after ``timeout``."""

    async def find() -> Event:
        async for event in sub:
            if match(event):
                return event
        raise AssertionError("subscription closed")

    try:
        async with asyncio.timeout(timeout):
            return await find()
    except TimeoutError:
        raise AssertionError(f"no matching event within {timeout} s") from None


async def all_of(sub: Subscription, *matches: Callable[[Event], bool]) -> None:
    """Wait until each of ``matches`` has accepted an event, in any order."""
    left = list(matches)
    while left:
        event = await next_event(sub, lambda e, wanted=tuple(left): any(m(e) for m in wanted))
        left = [m for m in left if not m(event)]


def state_is(device_id: int, state: DeviceState) -> Callable[[Event], bool]:
    return lambda e: (
        isinstance(e, DeviceStateChanged)
        and (e.device_id, e.state)
        == (
            device_id,
            state,
        )
    )


def gateway_is(gateway_id: int, state: GatewayState) -> Callable[[Event], bool]:
    return lambda e: (
        isinstance(e, GatewayStateChanged)
        and (e.gateway_id, e.state)
        == (
            gateway_id,
            state,
        )
    )


def sample_of(device_id: int) -> Callable[[Event], bool]:
    return lambda e: isinstance(e, Sample) and e.device_id == device_id


@pytest.fixture
async def sim() -> AsyncIterator[SimulatedBus]:
    async with SimulatedBus() as bus:
        yield bus


@pytest.fixture
def hub() -> Hub:
    return Hub()


@pytest.fixture
def events(hub: Hub) -> Subscription:
    return hub.subscribe(lossless=True, name="test")


def tcp_poller(hub: Hub, port: int, targets: list[DeviceTarget], gateway_id: int = 2) -> BusPoller:
    transport = BusTransport(TcpEndpoint("127.0.0.1", port, TIMEOUT_S))
    return BusPoller(gateway_id, transport, hub, targets, bus=BusParams(transport="tcp"),
                     settings=FAST)  # fmt: skip


async def test_tcp_devices_are_sampled_with_every_value(sim, hub, events) -> None:
    endpoint = await sim.serve_tcp(
        "127.0.0.1", 0, [DeviceSpec(5, "0 146 68"), DeviceSpec(6, "0 146 68")]
    )
    poller = tcp_poller(hub, endpoint.port, [target(1, 5), target(2, 6)])
    await poller.start()
    try:
        await next_event(events, gateway_is(2, GatewayState.ON))
        sample = await next_event(events, sample_of(1))
        assert set(sample.values) == {q.id for q in EMDX3.quantities}  # fast and slow merged
        assert sample.values["v1"] == pytest.approx(endpoint.values(5)["v1"], abs=1.0)
        await next_event(events, sample_of(2))
        fast = await next_event(events, sample_of(1))  # slow not due again yet
        assert "ea_import" not in fast.values and "v1" in fast.values
        assert poller.device_state(1) is DeviceState.ON
        assert poller.stats.transactions > 0
    finally:
        await poller.stop()


async def test_rtu_on_a_pty_with_even_parity(sim, hub, events) -> None:
    pair = open_pty_pair()
    await sim.serve_rtu(pair.server_fd, LineSettings("pty"), [DeviceSpec(7, "SDM630")])
    transport = BusTransport(RtuEndpoint(pair.path, 19200, "E", 1, TIMEOUT_S))
    poller = BusPoller(1, transport, hub, [target(3, 7, SDM630)], bus=BusParams.rtu(),
                       settings=FAST)  # fmt: skip
    await poller.start()
    try:
        sample = await next_event(events, sample_of(3))
        assert sample.values["v1"] is not None and 200 < sample.values["v1"] < 260
    finally:
        await poller.stop()
        pair.close()


class RecordingTransport(BusTransport):
    """The real transport, noting the address of every request it sends."""

    def __init__(self, endpoint: TcpEndpoint) -> None:
        super().__init__(endpoint)
        self.addresses: list[int] = []

    async def read(self, fc: int, address: int, start: int, count: int) -> ReadResult:
        self.addresses.append(address)
        return await super().read(fc, address, start, count)


async def test_dead_device_costs_others_no_more_than_its_timeout(sim, hub, events) -> None:
    endpoint = await sim.serve_tcp(
        "127.0.0.1", 0, [DeviceSpec(5, "0 146 68"), DeviceSpec(6, "0 146 68")]
    )
    endpoint.set_fault(6, Fault("silent"))
    transport = RecordingTransport(TcpEndpoint("127.0.0.1", endpoint.port, TIMEOUT_S))
    poller = BusPoller(2, transport, hub, [target(1, 5), target(2, 6)],
                       bus=BusParams(transport="tcp"), settings=FAST)  # fmt: skip
    await poller.start()
    try:
        gone = await next_event(events, state_is(2, DeviceState.COMM_ERROR))
        assert gone.detail == "no answer from address 6"
        since = len(transport.addresses)
        silent_samples = []
        for _ in range(8):
            event = await next_event(events, lambda e: sample_of(1)(e) or sample_of(2)(e))
            while not sample_of(1)(event):
                silent_samples.append(event)
                event = await next_event(events, lambda e: sample_of(1)(e) or sample_of(2)(e))
        # the state event said it all: no values-less Sample of the silent device
        assert silent_samples == []
        # Between two polls of the live device, at most one request (one timeout) goes to
        # the dead one, and not every pass (it backs off). The gap in seconds this bounds
        # is measured by scripts/bench_poll.py (dead_device).
        runs = [
            (address, len(list(group)))
            for address, group in itertools.groupby(transport.addresses[since:])
        ]
        assert all(length == 1 for address, length in runs if address == 6), runs
        assert sum(1 for address, _ in runs if address == 6) < sum(
            1 for address, _ in runs if address == 5
        ), runs
        assert poller.device_state(1) is DeviceState.ON
    finally:
        await poller.stop()


@pytest.mark.parametrize("fault", ["silent", "crc", "exception", "slow"])
async def test_each_fault_then_recovery(sim, hub, events, fault) -> None:
    endpoint = await sim.serve_tcp(
        "127.0.0.1", 0, [DeviceSpec(5, "0 146 68"), DeviceSpec(6, "0 146 68")]
    )
    poller = tcp_poller(hub, endpoint.port, [target(1, 5), target(2, 6)])
    if fault == "slow":
        # A late answer holds the line behind the gateway (the simulator queues requests
        # like a gateway does): a retry would pile a second late answer on the others.
        poller.settings = replace(FAST, retries=0)
    await poller.start()
    try:
        await next_event(events, state_is(2, DeviceState.ON))
        endpoint.set_fault(6, Fault(fault, 1.5 * TIMEOUT_S * 1000 if fault == "slow" else 0.0))
        await next_event(events, state_is(2, DeviceState.COMM_ERROR))
        await next_event(events, sample_of(1))  # the other device stays on schedule
        assert poller.device_state(1) is DeviceState.ON
        endpoint.set_fault(6, None)
        # ON again only after a real answer: the state event first, then that answer
        back = await next_event(events, lambda e: sample_of(2)(e) or state_is(2, DeviceState.ON)(e))
        assert isinstance(back, DeviceStateChanged), back
        assert (await next_event(events, sample_of(2))).values["v1"] is not None
    finally:
        await poller.stop()


async def test_tcp_gateway_killed_and_restarted(sim, hub, events) -> None:
    endpoint = await sim.serve_tcp("127.0.0.1", 0, [DeviceSpec(5, "0 146 68")])
    port = endpoint.port
    poller = tcp_poller(hub, port, [target(1, 5)])
    await poller.start()
    try:
        await next_event(events, state_is(1, DeviceState.ON))
        await endpoint.close()
        await all_of(
            events, gateway_is(2, GatewayState.COMM_ERROR), state_is(1, DeviceState.COMM_ERROR)
        )
        await sim.serve_tcp("127.0.0.1", port, [DeviceSpec(5, "0 146 68")])
        await all_of(events, gateway_is(2, GatewayState.ON), state_is(1, DeviceState.ON))
    finally:
        await poller.stop()


async def test_dead_gateway_only_affects_its_own_poller(sim, hub, events) -> None:
    endpoint = await sim.serve_tcp("127.0.0.1", 0, [DeviceSpec(5, "0 146 68")])
    spare = await sim.serve_tcp("127.0.0.1", 0, [])
    dead_port = spare.port
    await spare.close()
    alive = tcp_poller(hub, endpoint.port, [target(1, 5)], gateway_id=2)
    dead = tcp_poller(hub, dead_port, [target(2, 5)], gateway_id=3)
    await dead.start()
    await alive.start()
    try:
        await all_of(events, gateway_is(3, GatewayState.COMM_ERROR), state_is(1, DeviceState.ON))
        seen = []
        for _ in range(5):  # the live bus keeps sampling while the dead one reconnects
            seen.append(await next_event(events, lambda e: sample_of(1)(e) or _about_live(e)))
        # ... and never hears of the dead one: not a state change on gateway 2 or device 1.
        # Its cycle time with a dead neighbour is measured by scripts/bench_poll.py
        # (tcp.one_dead_over_all).
        assert all(isinstance(e, Sample) for e in seen), seen
        assert dead.device_state(2) is DeviceState.COMM_ERROR
        assert alive.device_state(1) is DeviceState.ON
    finally:
        await alive.stop()
        await dead.stop()


def _about_live(event: Event) -> bool:
    """A state change of the live gateway (2) or its device (1)."""
    return (isinstance(event, GatewayStateChanged) and event.gateway_id == 2) or (
        isinstance(event, DeviceStateChanged)
        and event.device_id == 1
        and event.state is not DeviceState.ON
    )


async def test_serial_port_unplugged_and_replugged(sim, hub, events, tmp_path: Path) -> None:
    link = tmp_path / "ttyUSB0"  # the port name stays, as udev gives it back
    pair = open_pty_pair()
    os.symlink(pair.path, link)
    served = await sim.serve_rtu(pair.server_fd, LineSettings("pty"), [DeviceSpec(7, "SDM630")])
    transport = BusTransport(RtuEndpoint(str(link), 19200, "E", 1, TIMEOUT_S))
    poller = BusPoller(1, transport, hub, [target(3, 7, SDM630)], bus=BusParams.rtu(),
                       settings=FAST)  # fmt: skip
    await poller.start()
    try:
        await next_event(events, state_is(3, DeviceState.ON))
        await served.close()
        pair.close()  # unplugged
        await all_of(
            events, gateway_is(1, GatewayState.COMM_ERROR), state_is(3, DeviceState.COMM_ERROR)
        )
        pair = open_pty_pair()
        os.unlink(link)
        os.symlink(pair.path, link)  # plugged back
        await sim.serve_rtu(pair.server_fd, LineSettings("pty"), [DeviceSpec(7, "SDM630")])
        await all_of(events, gateway_is(1, GatewayState.ON), state_is(3, DeviceState.ON))
    finally:
        await poller.stop()
        pair.close()


async def test_exception_02_on_merged_read_splits_and_reads_all(hub, events) -> None:
    # The device refuses 0x12..0x1F; our copy of its map does not say so, so the planner
    # merges v1 and i1 into one read the device answers with exception 02.
    quantities = (
        Quantity("v1", "V", 0x10, "u32", 0.01),
        Quantity("i1", "A", 0x20, "u32", 0.001),
    )
    served = RegisterMap("holey", "assumed", quantities=quantities, unreadable=((3, 0x12, 0x1F),))
    model = Model("HOLEY 1", "Holey meter", "test", "assumed", map="holey", phases=3)
    catalog = Catalog((Family("test", "Test"),), (model,), {"holey": served})
    async with SimulatedBus(catalog) as sim:
        endpoint = await sim.serve_tcp("127.0.0.1", 0, [DeviceSpec(5, "HOLEY 1")])
        ours = replace(served, unreadable=())
        poller = tcp_poller(hub, endpoint.port, [target(1, 5, ours)])
        await poller.start()
        try:
            sample = await next_event(events, sample_of(1))
            assert sample.values["v1"] is not None and sample.values["i1"] is not None
            assert poller.device_state(1) is DeviceState.ON
        finally:
            await poller.stop()
    assert not any(state_is(1, DeviceState.COMM_ERROR)(e) for e in _drain(events))


def _drain(sub: Subscription) -> list[Event]:
    out = []
    while len(sub):
        out.append(sub.get_nowait())
    return out


async def test_jobs_share_the_bus_between_polls(sim, hub, events) -> None:
    endpoint = await sim.serve_tcp(
        "127.0.0.1", 0, [DeviceSpec(5, "0 146 68"), DeviceSpec(8, "SDM630")]
    )
    poller = tcp_poller(hub, endpoint.port, [target(1, 5)])
    await poller.start()
    try:
        await next_event(events, state_is(1, DeviceState.ON))
        words = await poller.read(3, 5, 0xC558, 2)
        assert isinstance(words, tuple) and len(words) == 2
        # a device the poller does not poll (the Test button on an unsaved device)
        values = await poller.read_device(target(99, 8, SDM630))
        assert isinstance(values, dict) and values["v1"] is not None
        endpoint.set_fault(8, Fault("silent"))
        assert await poller.read_device(target(99, 8, SDM630)) == NoAnswer(8)
        assert poller.device_state(99) is None  # a test read is not polling
    finally:
        await poller.stop()
    assert isinstance(await poller.read(3, 5, 0xC558, 2), object)  # stopped: answered, no hang


async def test_a_gateway_that_accepts_then_closes_is_reconnected_with_backoff(hub, events) -> None:
    # A real TCP server on loopback that accepts each connection and closes it at once.
    accepted = 0

    async def slam(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        writer.close()

    server = await asyncio.start_server(slam, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    poller = tcp_poller(hub, port, [target(1, 5)])
    # Waits of at least half of 0.01, 0.02, 0.04, ... (jitter; the cap is far off): the
    # k-th reconnect comes 0.005 * (2**k - 1) s after the first loss at the earliest, so a
    # window of 1 s (or up to 5 s, if a loaded machine oversleeps) holds at most 10 of them.
    # Without backoff it held one per connect-and-fail: about a hundred.
    poller.settings = replace(FAST, reconnect_start_s=0.01, reconnect_max_s=10.0)
    await poller.start()
    try:
        await next_event(events, gateway_is(2, GatewayState.COMM_ERROR))
        await asyncio.sleep(1.0)  # the measurement window, not a wait for an event
        connects = poller.connects
    finally:
        await poller.stop()
        server.close()
        await server.wait_closed()
    assert 2 <= connects <= 11, connects
    assert accepted >= connects - 1
    assert poller.device_state(1) is DeviceState.COMM_ERROR
