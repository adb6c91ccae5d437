"""The polling service: pollers per bus from the installation, rebuilt on change, test reads."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import pytest

from ews_tui.config import Config
from ews_tui.config.model import Rs485Settings
from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.events import (
    DeviceState,
    DeviceStateChanged,
    Event,
    GatewayState,
    GatewayStateChanged,
    InstallationChanged,
    Sample,
    SettingsChanged,
)
from ews_tui.domain.installation import Device, Gateway, Installation
from ews_tui.hub import Hub, Subscription
from ews_tui.modbus.poller import PollSettings
from ews_tui.modbus.serial_line import LineSettings
from ews_tui.services.polling import PollingService
from ews_tui.sim.server import DeviceSpec, Fault, SimulatedBus, open_pty_pair

FAST = PollSettings(fast_s=0.05, slow_s=0.3, backoff_start_s=0.05, backoff_max_s=0.2,
                    reconnect_start_s=0.05, reconnect_max_s=0.2)  # fmt: skip


async def next_event(sub: Subscription, match: Callable[[Event], bool], timeout: float = 5.0):
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


def sample_of(device_id: int) -> Callable[[Event], bool]:
    return lambda e: isinstance(e, Sample) and e.device_id == device_id


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


class Site:
    """A simulated site: the Local bus on a pty, one IP gateway on loopback."""

    def __init__(self, sim: SimulatedBus, pty_path: str, tcp_port: int) -> None:
        self.sim = sim
        self.config = Config(rs485=Rs485Settings(port=pty_path, timeout_ms=100))
        self.installation = Installation(
            gateways=(
                Gateway(1, "Local", "127.0.0.1"),
                Gateway(2, "Gateway 2", "127.0.0.1", tcp_port),
                Gateway(3, "Switched off", "127.0.0.1", tcp_port, enabled=False),
            ),
            devices=(
                Device(1, 1, "SDM630", 7),
                Device(2, 2, "0 146 68", 5),
                Device(3, 2, "0 146 68", 6, enabled=False),
                Device(4, 2, "NO SUCH MODEL", 9),
                Device(5, 3, "0 146 68", 5),
            ),
        )


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    pair = open_pty_pair()
    async with SimulatedBus() as sim:
        await sim.serve_rtu(pair.server_fd, LineSettings("pty"), [DeviceSpec(7, "SDM630")])
        tcp = await sim.serve_tcp(
            "127.0.0.1", 0, [DeviceSpec(5, "0 146 68"), DeviceSpec(8, "SDM630")]
        )
        yield Site(sim, pair.path, tcp.port or 0)
    pair.close()


@pytest.fixture
def hub() -> Hub:
    return Hub()


@pytest.fixture
def events(hub: Hub) -> Subscription:
    return hub.subscribe(Sample, DeviceStateChanged, GatewayStateChanged, lossless=True)


@pytest.fixture
async def service(site: Site, hub: Hub, events: Subscription) -> AsyncIterator[PollingService]:
    catalog = builtin_catalog()
    svc = PollingService(
        hub,
        config=lambda: site.config,
        installation=lambda: site.installation,
        catalog=lambda: catalog,
        settings=FAST,
    )
    await svc.start()
    try:
        yield svc
    finally:
        await svc.stop()


async def test_one_poller_per_enabled_bus(service, events) -> None:
    assert set(service.pollers) == {1, 2}
    await next_event(events, gateway_is(3, GatewayState.OFF))
    await next_event(events, state_is(5, DeviceState.OFF))  # on a gateway that is off
    await next_event(events, state_is(3, DeviceState.OFF))
    bad = await next_event(events, state_is(4, DeviceState.CONFIG_ERROR))
    assert "NO SUCH MODEL" in bad.detail
    rtu = await next_event(events, sample_of(1))
    assert rtu.values["v1"] is not None
    tcp = await next_event(events, sample_of(2))
    assert tcp.values["v1"] is not None
    assert service.pollers[1].device_state(5) is None  # gateway 3 is off: not polled anywhere


async def test_changes_rebuild_only_the_bus_that_changed(site, service, hub, events) -> None:
    local, gateway = service.pollers[1], service.pollers[2]
    await next_event(events, sample_of(2))
    # a new device on gateway 2: same poller, same connection, the device gets polled
    site.installation = site.installation.with_(
        devices=(*site.installation.devices, Device(6, 2, "SDM630", 8))
    )
    hub.publish(InstallationChanged(site.installation.revision + 1))
    await next_event(events, sample_of(6))
    assert service.pollers[2] is gateway and service.pollers[1] is local
    # the Local port's settings change: only the Local poller is rebuilt
    site.config = replace(site.config, rs485=replace(site.config.rs485, baudrate=9600))
    hub.publish(SettingsChanged("rs485"))
    await next_event(events, gateway_is(1, GatewayState.ON))  # only a new poller says so
    await next_event(events, sample_of(1))
    assert service.pollers[1] is not local and service.pollers[2] is gateway
    # the RS485 port switched off: its gateway and devices go off, the other bus goes on
    site.config = replace(site.config, rs485=replace(site.config.rs485, enabled=False))
    hub.publish(SettingsChanged("rs485"))
    await next_event(events, state_is(1, DeviceState.OFF))
    assert set(service.pollers) == {2}
    await next_event(events, sample_of(2))


async def test_test_device_reads_through_the_owning_poller(site, service) -> None:
    unsaved = Device(99, 2, "SDM630", 8)  # not in the installation
    result = await service.test_device(unsaved)
    assert result.ok and result.values is not None and result.values["v1"] is not None
    assert result.provenance == "published"
    assert service.pollers[2].device_state(99) is None
    site.sim.set_fault(8, Fault("silent"))
    result = await service.test_device(unsaved)
    assert not result.ok and str(result.error) == "no answer from address 8"
    off = await service.test_device(Device(98, 3, "SDM630", 8))
    assert not off.ok and "gateway 3" in str(off.error)
    unknown = await service.test_device(Device(97, 2, "NOPE", 8))
    assert str(unknown.error) == 'unknown model "NOPE"'


async def test_read_for_the_gateway_server(site, service) -> None:
    words = await service.read_for(2, 3, 5, 0xC558, 2)
    assert isinstance(words, list) and len(words) == 2
    assert await service.read_for(2, 3, 5, 0x0001, 2) == 0x02
    assert await service.read_for(7, 3, 5, 0xC558, 2) == 0x0A  # no such bus
    site.sim.set_fault(8, Fault("silent"))
    assert await service.read_for(2, 4, 8, 0, 2) == 0x0B


async def test_test_gateway_reads_each_enabled_device_through_its_poller(site, service) -> None:
    gateway = site.installation.gateway(2)
    result = await service.test_gateway(gateway)
    assert result.error is None
    lines = {device.id: answer for device, answer in result.devices}
    assert set(lines) == {2, 4}  # device 3 is OFF: not read
    assert lines[2].ok and lines[2].values is not None and lines[2].values["v1"] is not None
    assert str(lines[4].error) == 'unknown model "NO SUCH MODEL"'
    assert not result.ok
    site.sim.set_fault(5, Fault("silent"))
    silent = await service.test_gateway(gateway)
    assert str(dict((d.id, r) for d, r in silent.devices)[2].error) == "no answer from address 5"


async def test_test_gateway_says_why_the_gateway_cannot_be_reached(site, service) -> None:
    off = await service.test_gateway(site.installation.gateway(3))
    assert str(off.error) == "the gateway is OFF: switch it ON to test it" and not off.devices
    # A gateway nothing listens on: the bus's own failure, no device read.
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        closed_port = spare.getsockname()[1]
    dead = Gateway(4, "Dead", "127.0.0.1", closed_port)
    site.installation = site.installation.with_(
        gateways=(*site.installation.gateways, dead),
        devices=(*site.installation.devices, Device(10, 4, "SDM630", 1)),
    )
    result = await service.test_gateway(dead)  # saved a moment ago: no poller yet
    assert result.error is not None and not result.devices
    assert f"127.0.0.1:{closed_port}: not connected" in str(result.error)
    assert 4 in service.pollers
