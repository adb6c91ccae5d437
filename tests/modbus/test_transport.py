"""The bus transport against the device simulator: TCP on loopback, RTU on a pty pair."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from ews_tui.domain.catalog import builtin_catalog
from ews_tui.modbus.codec import decode
from ews_tui.modbus.serial_line import LineSettings
from ews_tui.modbus.transport import (
    BusTransport,
    Disconnected,
    ExceptionCode,
    FrameError,
    NoAnswer,
    RtuEndpoint,
    TcpEndpoint,
)
from ews_tui.sim.server import DeviceSpec, Fault, SimulatedBus, open_pty_pair

NOON = 1_750_000_000.0  # a fixed clock: the simulated values do not move during a test
EMDX3 = "0 146 68"
V1 = 0xC558


@pytest.fixture
async def sim() -> AsyncIterator[SimulatedBus]:
    async with SimulatedBus(clock=lambda: NOON) as bus:
        yield bus


@pytest.fixture
async def tcp(sim: SimulatedBus) -> AsyncIterator[tuple[BusTransport, object]]:
    endpoint = await sim.serve_tcp("127.0.0.1", 0, [DeviceSpec(5, EMDX3)])
    transport = BusTransport(TcpEndpoint("127.0.0.1", endpoint.port or 0, 0.2))
    assert await transport.connect() is None
    try:
        yield transport, endpoint
    finally:
        await transport.close()


def _v1(words: tuple[int, ...]) -> float | str | None:
    reg_map = builtin_catalog().maps["emdx3_common"]
    q = reg_map.quantity("v1")
    assert q is not None
    return decode(q, words, reg_map)


async def test_tcp_read_gives_the_devices_words(tcp) -> None:
    transport, endpoint = tcp
    words = await transport.read(3, 5, V1, 2)
    assert isinstance(words, tuple) and len(words) == 2
    assert _v1(words) == pytest.approx(endpoint.values(5)["v1"], abs=0.01)


async def test_tcp_failures_are_typed(tcp) -> None:
    transport, endpoint = tcp
    assert await transport.read(3, 5, 0x0001, 2) == ExceptionCode(5, 2)
    # the simulated gateway answers 0x0B for an address nobody has
    assert await transport.read(3, 9, V1, 2) == ExceptionCode(9, 11)
    endpoint.set_fault(5, Fault("exception"))
    assert await transport.read(3, 5, V1, 2) == ExceptionCode(5, 4)
    endpoint.set_fault(5, Fault("crc"))
    assert isinstance(await transport.read(3, 5, V1, 2), FrameError)
    endpoint.set_fault(5, Fault("silent"))
    failure = await transport.read(3, 5, V1, 2)
    assert failure == NoAnswer(5)
    assert str(failure) == "no answer from address 5"
    endpoint.set_fault(5, None)
    assert isinstance(await transport.read(3, 5, V1, 2), tuple)
    assert transport.connected
    # The endpoint's 0.2 s timeout, not pymodbus' default 3 s: an answer 3 s late is none.
    endpoint.set_fault(5, Fault("slow", 3000.0))
    assert await transport.read(3, 5, V1, 2) == NoAnswer(5)


async def test_tcp_refused_is_disconnected() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    transport = BusTransport(TcpEndpoint("127.0.0.1", port, 0.2))
    failure = await transport.connect()
    assert isinstance(failure, Disconnected)
    assert isinstance(await transport.read(3, 5, V1, 2), Disconnected)


async def test_only_read_function_codes(tcp) -> None:
    transport, _ = tcp
    with pytest.raises(ValueError, match="function code 6"):
        await transport.read(6, 5, V1, 1)


async def test_rtu_on_a_pty_then_unplugged_and_replugged(sim: SimulatedBus) -> None:
    settings = LineSettings("pty", 19200, "E", 1)
    pair = open_pty_pair()
    endpoint = await sim.serve_rtu(pair.server_fd, settings, [DeviceSpec(7, "SDM630")])
    # even parity as configured: the pty drops it, a real port keeps it
    transport = BusTransport(RtuEndpoint(pair.path, 19200, "E", 1, 0.2))
    try:
        assert await transport.connect() is None
        words = await transport.read(4, 7, 0, 6)
        assert isinstance(words, tuple) and len(words) == 6
        endpoint.set_fault(7, Fault("crc"))
        assert isinstance(await transport.read(4, 7, 0, 6), FrameError)
        endpoint.set_fault(7, Fault("silent"))
        assert await transport.read(4, 7, 0, 6) == NoAnswer(7)
        endpoint.set_fault(7, None)
        assert await transport.read(4, 7, 0, 6) == words  # fixed clock: same values

        await endpoint.close()  # the adapter is pulled out
        pair.close()
        # Disconnected at once, not a NoAnswer after the timeout: the port is gone.
        assert isinstance(await transport.read(4, 7, 0, 6), Disconnected)
        assert not transport.connected

        pair = open_pty_pair()  # plugged back (at a new path, as the test can only do)
        await sim.serve_rtu(pair.server_fd, settings, [DeviceSpec(7, "SDM630")])
        transport.endpoint = RtuEndpoint(pair.path, 19200, "E", 1, 0.2)
        assert await transport.connect() is None
        again = await transport.read(4, 7, 0, 6)
        assert isinstance(again, tuple) and len(again) == 6
    finally:
        await transport.close()
        pair.close()
