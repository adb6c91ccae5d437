"""The bus transport (pymodbus's clients and our layer over them): against the device
simulator (TCP on loopback, RTU on a pty pair), against hand-made answers the simulator never
sends (noise, stale frames, late answers, wrong sizes, a hang-up), and against pymodbus's
own servers. Each mapping of a pymodbus outcome to a failure has its ``test_map_`` test."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import struct
from collections.abc import AsyncIterator, Callable

import pytest

from ews_tui.domain.catalog import builtin_catalog
from ews_tui.modbus.client import BusClient, WireCounter
from ews_tui.modbus.codec import decode
from ews_tui.modbus.serial_line import LineSettings, line_settings
from ews_tui.modbus.transport import (
    BusTransport,
    Disconnected,
    ExceptionCode,
    FrameError,
    NoAnswer,
    RtuEndpoint,
    TcpEndpoint,
)
from ews_tui.sim.rtu import PtyPair, crc16
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


async def test_map_refused_is_disconnected() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    transport = BusTransport(TcpEndpoint("127.0.0.1", port, 0.2))
    failure = await transport.connect()
    assert failure == Disconnected(transport.name, "connection refused or unreachable")
    assert str(failure).endswith("not connected (connection refused or unreachable)")
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


# ------------------------------------------------ the wire: what the simulator never sends

TIMEOUT_S = 0.2
WAIT_S = 5.0


def rtu(body: bytes, *, bad_crc: bool = False) -> bytes:
    crc = crc16(body) ^ (0xFFFF if bad_crc else 0)
    return body + crc.to_bytes(2, "little")


def answer(address: int, words: list[int], fc: int = 3) -> bytes:
    return rtu(struct.pack(f">BBB{len(words)}H", address, fc, 2 * len(words), *words))


class RtuDevice:
    """The far end of a pty: hands over each request (8 bytes), writes what the test says."""

    def __init__(self, pair: PtyPair) -> None:
        self.fd = pair.server_fd
        self._buffer = bytearray()
        self._requests: asyncio.Queue[bytes] = asyncio.Queue()
        asyncio.get_running_loop().add_reader(self.fd, self._readable)

    def _readable(self) -> None:
        self._buffer += os.read(self.fd, 256)
        while len(self._buffer) >= 8:
            self._requests.put_nowait(bytes(self._buffer[:8]))
            del self._buffer[:8]

    async def request(self) -> bytes:
        async with asyncio.timeout(WAIT_S):
            return await self._requests.get()

    def pending(self) -> int:
        return self._requests.qsize()

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.fd)


@pytest.fixture
async def line() -> AsyncIterator[tuple[BusTransport, RtuDevice, PtyPair]]:
    pair = open_pty_pair()
    transport = BusTransport(RtuEndpoint(pair.path, 19200, "N", 1, TIMEOUT_S))
    assert await transport.connect() is None
    device = RtuDevice(pair)
    try:
        yield transport, device, pair
    finally:
        device.close()
        await transport.close()
        pair.close()


async def test_rtu_request_frame_words_and_wire_bytes(line) -> None:
    transport, device, _ = line
    read = asyncio.ensure_future(transport.read(4, 7, 0x0102, 2))
    assert await device.request() == rtu(bytes.fromhex("070401020002"))
    device.write(answer(7, [0x1234, 0xABCD], fc=4))
    assert await read == (0x1234, 0xABCD)
    assert transport.wire_bytes() == (8, 9)  # 07 04 01 02 00 02 + CRC; 07 04 04 + 4 + CRC


async def test_rtu_skips_noise_and_a_stale_frame_before_the_answer(line) -> None:
    transport, device, _ = line
    read = asyncio.ensure_future(transport.read(3, 7, 0, 1))
    await device.request()
    noise, stale = b"\x00\xff", answer(9, [1, 2, 3])  # a late answer of another device
    device.write(noise + stale + answer(7, [42]))
    assert await read == (42,)
    assert transport.wire_bytes() == (8, 2 + 11 + 7)  # what came on the line, all of it


async def test_rtu_skips_a_late_answer_of_125_registers_before_one_of_124(line) -> None:
    """Both frames at once (508 bytes): more than pymodbus keeps by itself (264)."""
    transport, device, _ = line
    read = asyncio.ensure_future(transport.read(3, 7, 200, 124))
    await device.request()
    device.write(answer(7, [0xDEAD] * 125) + answer(7, list(range(124))))
    assert await read == tuple(range(124))
    assert transport.wire_bytes() == (8, 255 + 253)


async def test_map_bad_crc_is_a_frame_error_at_once(line) -> None:
    transport, device, pair = line
    transport.endpoint = RtuEndpoint(pair.path, 19200, "N", 1, 3600.0)
    assert await transport.connect() is None
    read = asyncio.ensure_future(transport.read(3, 7, 0, 1))
    await device.request()
    device.write(answer(7, [42])[:-1] + b"\x00")
    # With a timeout of an hour, only a transport that gives up on the garbled frame at
    # once returns (the guard only turns a hang into a failure).
    garbled = FrameError(7, "garbled answer (bad CRC or framing)")
    assert await asyncio.wait_for(read, 60.0) == garbled


async def test_map_timeout_is_no_answer_and_noise_a_frame_error(line) -> None:
    transport, device, _ = line
    read = asyncio.ensure_future(transport.read(3, 7, 0, 1))
    await device.request()
    device.write(b"\x55\x13\x77")
    assert await read == FrameError(7, "garbled answer (bad CRC or framing)")
    read = asyncio.ensure_future(transport.read(3, 7, 0, 1))
    await device.request()  # ... and the device says nothing
    assert await read == NoAnswer(7)
    assert device.pending() == 0  # pymodbus's retries are off: one request each


async def test_map_exception_response_and_wrong_length(line) -> None:
    transport, device, _ = line
    read = asyncio.ensure_future(transport.read(3, 7, 0, 1))
    await device.request()
    device.write(rtu(bytes((7, 0x83, 2))))
    assert await read == ExceptionCode(7, 2)
    read = asyncio.ensure_future(transport.read(3, 7, 0, 3))
    await device.request()
    device.write(answer(7, [1, 2]))
    assert await read == FrameError(7, "2 registers instead of 3")


async def test_map_closed_pty_is_disconnected_and_not_reopened(line) -> None:
    transport, device, pair = line
    device.close()
    pair.close()  # the adapter is pulled out
    assert await transport.read(3, 7, 0, 1) == Disconnected(transport.name, "connection lost")
    assert not transport.connected  # and pymodbus does not reconnect by itself (no task left)
    assert await transport.read(3, 7, 0, 1) == Disconnected(transport.name, "connection lost")


async def test_map_a_missing_port_is_disconnected(tmp_path) -> None:
    transport = BusTransport(RtuEndpoint(str(tmp_path / "ttyUSB9"), 19200, "E", 1, TIMEOUT_S))
    assert await transport.connect() == Disconnected(transport.name, "no such port")
    assert await transport.read(3, 7, 0, 1) == Disconnected(transport.name)


def test_a_real_port_keeps_its_parity_a_pty_drops_it(caplog) -> None:
    # /dev/null: a character device that is no pty, as a real port
    assert line_settings("/dev/null", 9600, "E", 2) == LineSettings("/dev/null", 9600, "E", 2)
    pair = open_pty_pair()
    try:
        with caplog.at_level(logging.INFO, "ews_tui.modbus.serial_line"):
            assert line_settings(pair.path, 9600, "E", 2) == LineSettings(pair.path, 9600, "N", 2)
    finally:
        pair.close()
    assert "is a pseudo-terminal: parity E is not applied" in caplog.text


# ---------------------------------------------------------------------------- TCP wire


class Gateway:
    """A scripted Modbus TCP gateway: ``script(requests, writer)`` is run per connection."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self.connections = 0
        self.hang_up = False  # close the connection on the next request
        self.answer: Callable[[bytes], bytes | None] = lambda _: None
        self._handlers: list[asyncio.Task[None]] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> Gateway:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        self.connections += 1
        try:
            while request := await reader.read(12):
                self.requests.append(request)
                if self.hang_up:
                    break
                if (reply := self.answer(request)) is not None:
                    writer.write(reply)
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await asyncio.wait_for(asyncio.gather(*self._handlers), WAIT_S)
        await self.server.wait_closed()


def mbap(request: bytes, pdu: bytes, *, unit: int | None = None, tid: int | None = None) -> bytes:
    old_tid, _, _, old_unit = struct.unpack(">HHHB", request[:7])
    tid = old_tid if tid is None else tid
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, old_unit if unit is None else unit) + pdu


async def test_tcp_late_answer_is_not_taken_for_the_next_one() -> None:
    """The gateway answers the first request after its timeout, just before the second."""
    async with Gateway() as gateway:
        first: list[bytes] = []

        def late(request: bytes) -> bytes | None:
            if not first:
                first.append(request)  # no answer now
                return None
            return mbap(first[0], bytes.fromhex("0302006f")) + mbap(request, b"\x03\x02\x00\xde")

        gateway.answer = late
        transport = BusTransport(TcpEndpoint("127.0.0.1", gateway.port, 0.05))
        assert await transport.connect() is None
        try:
            assert await transport.read(3, 5, 0x10, 1) == NoAnswer(5)
            transport.endpoint = TcpEndpoint("127.0.0.1", gateway.port, 1.0)
            assert await transport.read(3, 5, 0x10, 1) == (222,)
        finally:
            await transport.close()
    one, two = gateway.requests
    assert one[:2] != two[:2]  # each request its own transaction id
    assert two[6:] == bytes.fromhex("0503 0010 0001")
    assert transport.wire_bytes() == (24, 11 + 11)


async def test_tcp_answers_are_counted_on_the_wire() -> None:
    async with Gateway() as gateway:
        gateway.answer = lambda request: mbap(request, b"\x03\x04\x00\x07\x00\x08")
        transport = BusTransport(TcpEndpoint("127.0.0.1", gateway.port, 1.0))
        assert await transport.connect() is None
        try:
            for _ in range(3):
                assert await transport.read(3, 5, 0x10, 2) == (7, 8)
        finally:
            await transport.close()
    assert transport.wire_bytes() == (3 * 12, 3 * 13)


async def test_tcp_late_answer_of_125_registers_before_the_answer() -> None:
    """Both frames at once (518 bytes): more than pymodbus keeps by itself (264)."""
    words = struct.pack(">125H", *range(125))
    async with Gateway() as gateway:
        first: list[bytes] = []

        def late(request: bytes) -> bytes | None:
            if not first:
                first.append(request)
                return None
            return mbap(first[0], b"\x03\xfa" + bytes(250)) + mbap(request, b"\x03\xfa" + words)

        gateway.answer = late
        transport = BusTransport(TcpEndpoint("127.0.0.1", gateway.port, 0.05))
        assert await transport.connect() is None
        try:
            assert await transport.read(3, 5, 0, 125) == NoAnswer(5)
            transport.endpoint = TcpEndpoint("127.0.0.1", gateway.port, 1.0)
            assert await transport.read(3, 5, 0, 125) == tuple(range(125))
        finally:
            await transport.close()


async def test_tcp_answer_of_another_unit_or_size_is_a_frame_error() -> None:
    async with Gateway() as gateway:
        transport = BusTransport(TcpEndpoint("127.0.0.1", gateway.port, 3600.0))
        assert await transport.connect() is None
        try:
            gateway.answer = lambda request: mbap(request, b"\x03\x02\x00\x01", unit=6)
            read = transport.read(3, 5, 0, 1)
            assert await asyncio.wait_for(read, 60.0) == FrameError(5, "answer from address 6")
            gateway.answer = lambda request: mbap(request, b"\x03\x02\x00\x01")
            read = transport.read(3, 5, 0, 2)
            assert await asyncio.wait_for(read, 60.0) == FrameError(5, "1 registers instead of 2")
            gateway.answer = lambda request: mbap(request, b"\x83\x02")
            assert await transport.read(3, 5, 0, 2) == ExceptionCode(5, 2)
        finally:
            await transport.close()


async def test_pymodbus_neither_retries_nor_drops_a_silent_gateway() -> None:
    """pymodbus would retry each request 3 times and close the connection after 3
    unanswered ones; the poller decides both, so the transport does neither."""
    async with Gateway() as gateway:
        transport = BusTransport(TcpEndpoint("127.0.0.1", gateway.port, 0.05))
        assert await transport.connect() is None
        try:
            for _ in range(6):
                assert await transport.read(3, 5, 0, 1) == NoAnswer(5)
            assert transport.connected
            gateway.answer = lambda request: mbap(request, b"\x03\x02\x00\x07")
            assert await transport.read(3, 5, 0, 1) == (7,)
        finally:
            await transport.close()
    assert len(gateway.requests) == 7 and gateway.connections == 1


async def test_map_connection_lost_is_disconnected_at_once() -> None:
    async with Gateway() as gateway:
        transport = BusTransport(TcpEndpoint("127.0.0.1", gateway.port, 3600.0))
        assert await transport.connect() is None
        try:
            gateway.hang_up = True
            read = transport.read(3, 5, 0, 1)
            assert await asyncio.wait_for(read, 60.0) == Disconnected(
                transport.name, "connection lost"
            )
            assert not transport.connected
        finally:
            await transport.close()


# ------------------------------------------------- the tap's early stop and cancellation
# The tap ends a request early by cancelling the task that awaits it and taking that cancel
# back (as asyncio.timeout does): a cancel from anyone else must go through, and a cancel
# the tap took back must leave the task as it was.


async def test_a_read_cancelled_by_its_caller_stays_cancelled() -> None:
    async with Gateway() as gateway:
        asked = asyncio.Event()
        gateway.answer = lambda request: asked.set()  # never answers
        transport = BusTransport(TcpEndpoint("127.0.0.1", gateway.port, 3600.0))
        assert await transport.connect() is None
        try:
            read = asyncio.create_task(transport.read(3, 5, 0, 1))
            await asyncio.wait_for(asked.wait(), WAIT_S)
            read.cancel()
            with pytest.raises(asyncio.CancelledError):
                await read
            gateway.answer = lambda request: mbap(request, b"\x03\x02\x00\x07")
            assert await asyncio.wait_for(transport.read(3, 5, 0, 1), WAIT_S) == (7,)
        finally:
            await transport.close()


async def test_a_read_cancelled_as_the_tap_stops_it_stays_cancelled() -> None:
    """The caller's cancel and the tap's (the connection closed) reach the task together:
    the tap takes back its own only."""
    async with Gateway() as gateway:
        asked = asyncio.Event()
        gateway.answer = lambda request: asked.set()
        transport = BusTransport(TcpEndpoint("127.0.0.1", gateway.port, 3600.0))
        assert await transport.connect() is None
        try:
            read = asyncio.create_task(transport.read(3, 5, 0, 1))
            await asyncio.wait_for(asked.wait(), WAIT_S)
            read.cancel()
            await transport.close()  # the tap stops the request: Disconnected "closed"
            with pytest.raises(asyncio.CancelledError):
                await read
        finally:
            await transport.close()


async def test_a_stop_after_the_answer_came_leaves_the_task_as_it_was(monkeypatch) -> None:
    """The tap stops a request whose answer is in, before its task resumes (its cancel is
    then swallowed on the way): the read ends with the tap's verdict, and the task carries
    no cancel request (a later timeout in it still raises TimeoutError)."""

    def stale_then_answer(request: bytes) -> bytes:  # the tap picks the answer in _select
        stale = mbap(request, b"\x03\x02\x00\x06", tid=int.from_bytes(request[:2]) ^ 0xFFFF)
        return stale + mbap(request, b"\x03\x02\x00\x07")

    async with Gateway() as gateway:
        gateway.answer = stale_then_answer
        client = await BusClient.open_tcp("127.0.0.1", gateway.port, 3600.0, "gw", WireCounter())
        assert isinstance(client, BusClient)
        tap = client.tap
        select = tap._select

        def then_stop(pending: object, buffer: bytes) -> bytes:
            frame = select(pending, buffer)  # type: ignore[arg-type]
            # runs after pymodbus has the answer, before the task that awaits it resumes
            asyncio.get_running_loop().call_soon(tap.stop, FrameError(5, "stopped late"))
            return frame

        monkeypatch.setattr(tap, "_select", then_stop)
        try:
            task = asyncio.current_task()
            assert task is not None and task.cancelling() == 0
            result = await client.read(3, 5, 0, 1)  # in this task (the gateway answers)
            assert result == FrameError(5, "stopped late")
            assert task.cancelling() == 0
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0):
                    await asyncio.Event().wait()
        finally:
            client.close()


# ------------------------------------------------------------- against pymodbus' servers


def _pymodbus_device(address: int) -> object:
    from pymodbus.simulator import DataType, SimData, SimDevice

    words = list(range(1000, 1200))  # register r holds 1000 + r
    return SimDevice(id=address, simdata=[SimData(0, values=words, datatype=DataType.REGISTERS)])


async def test_tcp_reads_a_pymodbus_server() -> None:
    from pymodbus.server import ModbusTcpServer

    with socket.socket() as s:  # a free port (pymodbus' server does not report port 0's)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ModbusTcpServer([_pymodbus_device(3)], address=("127.0.0.1", port))
    await server.serve_forever(background=True)
    transport = BusTransport(TcpEndpoint("127.0.0.1", port, 1.0))
    try:
        assert await transport.connect() is None
        assert await transport.read(3, 3, 0x10, 3) == (1016, 1017, 1018)
        assert await transport.read(4, 3, 0x20, 1) == (1032,)
        assert await transport.read(3, 3, 0x1000, 3) == ExceptionCode(3, 2)
    finally:
        await transport.close()
        await server.shutdown()


async def test_rtu_with_even_parity_reads_a_pymodbus_server_over_socat(
    socat_pty_pair, caplog
) -> None:
    from pymodbus.framer import FramerType
    from pymodbus.server import ModbusSerialServer

    ours, theirs = socat_pty_pair
    server = ModbusSerialServer(
        [_pymodbus_device(7)], framer=FramerType.RTU, port=theirs, baudrate=19200
    )
    await server.serve_forever(background=True)
    transport = BusTransport(RtuEndpoint(ours, 19200, "E", 1, 1.0))
    try:
        with caplog.at_level(logging.INFO, "ews_tui.modbus.serial_line"):
            assert await transport.connect() is None
        assert "parity E is not applied" in caplog.text  # a pty: pymodbus gets N
        assert await transport.read(3, 7, 0x10, 3) == (1016, 1017, 1018)
        assert await transport.read(3, 7, 0x1000, 3) == ExceptionCode(7, 2)
        assert await transport.read(4, 7, 0x20, 1) == (1032,)
        assert transport.wire_bytes() == (3 * 8, 11 + 5 + 7)
    finally:
        await transport.close()
        await server.shutdown()


async def test_pymodbus_does_not_log_what_the_transport_restates(caplog) -> None:
    """An unanswered request and a refused connection are typed failures (on screen, in
    the poller's log); pymodbus's own ERROR line for each would fill the log of a box with
    one silent meter."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with caplog.at_level(logging.DEBUG, "pymodbus"):
        refused = BusTransport(TcpEndpoint("127.0.0.1", port, 0.2))
        assert isinstance(await refused.connect(), Disconnected)
        async with Gateway() as gateway:
            transport = BusTransport(TcpEndpoint("127.0.0.1", gateway.port, 0.05))
            assert await transport.connect() is None
            try:
                assert await transport.read(3, 5, 0, 1) == NoAnswer(5)
            finally:
                await transport.close()
    pymodbus = [r for r in caplog.records if r.name.startswith("pymodbus")]
    assert pymodbus  # it does log (its debug lines pass) ...
    assert not [r for r in pymodbus if r.levelno >= logging.WARNING]  # ... but not these
