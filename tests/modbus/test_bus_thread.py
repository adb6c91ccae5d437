"""The bus pollers in their own thread (the bus loop): samples and states reach the main
loop's Hub, reads go through the proxies, stop leaves no thread, a blocked main loop does not
stop the requests, a dead bus thread is said and restarted. Real simulator: TCP on loopback
and RTU on a pty."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass

import pytest

from ews_tui.config import Config
from ews_tui.config.model import Rs485Settings
from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.events import (
    Event,
    GatewayState,
    GatewayStateChanged,
    Sample,
    ServiceRecovered,
    TaskFailed,
)
from ews_tui.domain.installation import Device, Gateway, Installation
from ews_tui.hub import Hub, Subscription
from ews_tui.modbus.bus_thread import SWITCH_INTERVAL_S, THREAD_NAME
from ews_tui.modbus.poller import PollSettings
from ews_tui.modbus.serial_line import LineSettings
from ews_tui.modbus.transport import BusTransport
from ews_tui.services.polling import PollingService
from ews_tui.sim.server import DeviceSpec, Endpoint, SimulatedBus, open_pty_pair
from ews_tui.supervision import Supervisor

FAST = PollSettings(fast_s=0.05, slow_s=0.3, backoff_start_s=0.05, backoff_max_s=0.2,
                    reconnect_start_s=0.05, reconnect_max_s=0.2)  # fmt: skip
WAIT_S = 10.0
LOCAL, GATEWAY = 1, 2


async def next_event(sub: Subscription, match: Callable[[Event], bool]) -> Event:
    async def find() -> Event:
        async for event in sub:
            if match(event):
                return event
        raise AssertionError("subscription closed")

    try:
        async with asyncio.timeout(WAIT_S):
            return await find()
    except TimeoutError:
        raise AssertionError(f"no matching event within {WAIT_S} s") from None


def sample_of(device_id: int) -> Callable[[Event], bool]:
    return lambda e: isinstance(e, Sample) and e.device_id == device_id


def read_between(start: float, end: float) -> Callable[[Event], bool]:
    return lambda e: isinstance(e, Sample) and start <= e.ts <= end


def bus_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


@dataclass
class Site:
    config: Config
    installation: Installation
    rtu: Endpoint
    tcp: Endpoint


def site_of(rtu: Endpoint, tcp: Endpoint, pty_path: str) -> Site:
    return Site(
        Config(rs485=Rs485Settings(port=pty_path, timeout_ms=100)),
        Installation(
            gateways=(
                Gateway(LOCAL, "Local", "127.0.0.1"),
                Gateway(GATEWAY, "Gateway 2", "127.0.0.1", tcp.port or 0),
            ),
            devices=(Device(1, LOCAL, "SDM630", 7), Device(2, GATEWAY, "0 146 68", 5)),
        ),
        rtu,
        tcp,
    )


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    """The simulator in the test's (main) loop."""
    pair = open_pty_pair()
    async with SimulatedBus() as sim:
        rtu = await sim.serve_rtu(pair.server_fd, LineSettings("pty"), [DeviceSpec(7, "SDM630")])
        tcp = await sim.serve_tcp("127.0.0.1", 0, [DeviceSpec(5, "0 146 68")])
        yield site_of(rtu, tcp, pair.path)
    pair.close()


class SimThread:
    """The simulator in a thread of its own, so that blocking the main loop does not stop
    it from answering (the main loop's block must be seen by the box only)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="test-sim")
        self.pair = open_pty_pair()
        self.sim = SimulatedBus()

    def __enter__(self) -> Site:
        self.thread.start()

        async def serve() -> Site:
            rtu = await self.sim.serve_rtu(
                self.pair.server_fd, LineSettings("pty"), [DeviceSpec(7, "SDM630")]
            )
            tcp = await self.sim.serve_tcp("127.0.0.1", 0, [DeviceSpec(5, "0 146 68")])
            return site_of(rtu, tcp, self.pair.path)

        return asyncio.run_coroutine_threadsafe(serve(), self.loop).result(WAIT_S)

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.sim.close(), self.loop).result(WAIT_S)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(WAIT_S)
        self.loop.close()
        self.pair.close()


@pytest.fixture
def threaded_site() -> Iterator[Site]:
    with SimThread() as site:
        yield site


@pytest.fixture
def hub() -> Hub:
    return Hub()


@pytest.fixture
def events(hub: Hub) -> Subscription:
    return hub.subscribe(lossless=True)


def polling(hub: Hub, site: Site, supervisor: Supervisor | None = None) -> PollingService:
    catalog = builtin_catalog()
    return PollingService(
        hub,
        config=lambda: site.config,
        installation=lambda: site.installation,
        catalog=lambda: catalog,
        settings=FAST,
        supervisor=supervisor,
    )


@pytest.fixture
def supervisor(hub: Hub) -> Supervisor:
    return Supervisor(hub)


@pytest.fixture
async def service(
    site: Site, hub: Hub, events: Subscription, supervisor: Supervisor
) -> AsyncIterator[PollingService]:
    svc = polling(hub, site, supervisor)
    await svc.start()
    try:
        yield svc
    finally:
        await svc.stop()


async def test_samples_reach_the_main_loop_hub_from_the_bus_thread(
    service: PollingService, events: Subscription, supervisor: Supervisor
) -> None:
    assert [t.daemon for t in bus_threads()] == [True]
    for device_id in (1, 2):  # RTU on the pty, TCP on loopback
        sample = await next_event(events, sample_of(device_id))
        assert isinstance(sample, Sample) and sample.values["v1"] is not None
    # The pollers, their transports and their jobs live in the bus thread.
    seen: list[str] = []

    async def job(transport: BusTransport) -> bool:
        seen.append(threading.current_thread().name)
        return transport.connected

    assert await service.pollers[GATEWAY].submit(job) is True
    assert await service.pollers[LOCAL].submit(job) is True
    assert seen == [THREAD_NAME, THREAD_NAME]
    # Their supervised tasks are shown with the main loop's (the home screen's status line).
    names = {h.name for h in supervisor.health()}
    assert {"poller-1", "poller-2"} <= names


async def test_reads_go_through_the_proxies(site: Site, service: PollingService) -> None:
    tested = await service.test_device(site.installation.devices[0])  # the RTU meter
    assert tested.ok and tested.values is not None and tested.values["v1"] is not None
    words = await service.read_for(GATEWAY, 3, 5, 0xC558, 2)
    assert isinstance(words, list) and len(words) == 2
    # The gateway server's reads: paced, through the proxy, on both buses.
    paced = await service.pollers[LOCAL].read(4, 7, 0x0000, 2, paced=True)
    assert isinstance(paced, tuple) and len(paced) == 2
    saved = site.installation.gateway(GATEWAY)
    assert saved is not None
    gateway = await service.test_gateway(saved)
    assert gateway.error is None and gateway.devices[0][1].ok


async def test_stop_closes_the_transports_and_ends_the_thread(
    site: Site, hub: Hub, events: Subscription
) -> None:
    interval = sys.getswitchinterval()
    svc = polling(hub, site)
    await svc.start()
    assert sys.getswitchinterval() == SWITCH_INTERVAL_S  # the bus thread waits less for the GIL
    await next_event(events, sample_of(2))
    transports = [p.transport for p in svc.pollers.values()]
    assert all(t.connected for t in transports) and len(bus_threads()) == 1
    await svc.stop()
    assert sys.getswitchinterval() == interval
    assert not any(t.connected for t in transports)
    assert bus_threads() == [] and svc.bus_loop is None
    async with asyncio.timeout(WAIT_S):  # the simulator sees the TCP connection closed
        while site.tcp.connections:
            await asyncio.sleep(0.01)


def spin(seconds: float) -> None:
    """Hold the main loop: pure CPU, no sleep, no I/O."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


BLOCK_S = 0.3
BLOCKS = 3
# At fast_s = 0.05 a bus with one meter is read about 6 times in 300 ms (SDM630: 1-2
# requests a poll; the 0 146 68: 1). Two requests per block is far below that, and above
# what a poller in the blocked loop can send (none: it cannot run at all).
MIN_REQUESTS = 2


async def test_requests_keep_coming_while_the_main_loop_is_blocked(
    threaded_site: Site, hub: Hub, events: Subscription
) -> None:
    site = threaded_site
    svc = polling(hub, site)
    await svc.start()
    try:
        await next_event(events, sample_of(1))
        await next_event(events, sample_of(2))
        for _ in range(BLOCKS):
            rtu_before, tcp_before = site.rtu.wire.frames_in, site.tcp.wire.frames_in
            started = time.time()
            spin(BLOCK_S)  # in the loop's callback: nothing else of the main loop runs
            ended = time.time()
            rtu_during = site.rtu.wire.frames_in - rtu_before
            tcp_during = site.tcp.wire.frames_in - tcp_before
            assert rtu_during >= MIN_REQUESTS and tcp_during >= MIN_REQUESTS
            # The samples read meanwhile come now, stamped when they were read.
            await next_event(events, read_between(started, ended))
            await asyncio.sleep(0)  # the main loop runs once between the blocks
    finally:
        await svc.stop()
    assert bus_threads() == []


async def test_a_dead_bus_thread_is_said_and_restarted(
    service: PollingService, events: Subscription
) -> None:
    await next_event(events, sample_of(2))
    old = service.bus_loop
    assert old is not None
    old_thread = old.thread

    def die() -> None:
        raise SystemExit("killed by the test")

    old.loop.call_soon_threadsafe(die)
    failed = await next_event(events, lambda e: isinstance(e, TaskFailed))
    assert isinstance(failed, TaskFailed) and failed.task == THREAD_NAME
    assert "killed by the test" in failed.error
    down = await next_event(
        events, lambda e: isinstance(e, GatewayStateChanged) and e.state is GatewayState.COMM_ERROR
    )
    assert isinstance(down, GatewayStateChanged)
    await next_event(events, lambda e: isinstance(e, ServiceRecovered) and e.service == THREAD_NAME)
    await next_event(events, sample_of(1))
    await next_event(events, sample_of(2))
    new = service.bus_loop
    assert new is not None and new is not old and new.alive
    assert old_thread is not None and not old_thread.is_alive()
    assert len(bus_threads()) == 1
