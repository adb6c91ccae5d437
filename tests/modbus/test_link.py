"""Our Modbus client's framing, against hand-made answers: what the simulator never sends
(noise, stale frames, answers to timed-out requests, wrong sizes) on a pty and on TCP."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
from collections.abc import AsyncIterator, Callable

import pytest

from ews_tui.modbus.failures import Disconnected, ExceptionCode, FrameError, NoAnswer
from ews_tui.modbus.link import RtuLink, TcpLink, crc16
from ews_tui.sim.rtu import PtyPair, open_pty_pair

TIMEOUT_S = 0.2


def rtu(body: bytes, *, bad_crc: bool = False) -> bytes:
    crc = crc16(body) ^ (0xFFFF if bad_crc else 0)
    return body + crc.to_bytes(2, "little")


def answer(address: int, words: list[int], fc: int = 3) -> bytes:
    return rtu(struct.pack(f">BBB{len(words)}H", address, fc, 2 * len(words), *words))


def test_crc16_known_vector() -> None:
    # 01 03 00 00 00 0A C5 CD: read 10 holding registers of device 1
    assert crc16(bytes.fromhex("01030000000a")) == 0xCDC5
    assert crc16(bytes.fromhex("01030000000ac5cd")) == 0


@pytest.fixture
async def pty() -> AsyncIterator[tuple[RtuLink, PtyPair]]:
    pair = open_pty_pair()
    link = RtuLink.open(pair.path, 19200, 8, "N", 1, "pty")
    try:
        yield link, pair
    finally:
        link.close()
        pair.close()


async def device(pair: PtyPair, reply: Callable[[bytes], bytes]) -> bytes:
    """Play the device once: wait for a request, write ``reply(request)``; the request."""
    loop = asyncio.get_running_loop()
    got: asyncio.Future[bytes] = loop.create_future()
    buffer = bytearray()

    def readable() -> None:
        buffer.extend(os.read(pair.server_fd, 256))
        if len(buffer) >= 8 and not got.done():
            got.set_result(bytes(buffer))

    loop.add_reader(pair.server_fd, readable)
    try:
        request = await asyncio.wait_for(got, 2.0)
    finally:
        loop.remove_reader(pair.server_fd)
    os.write(pair.server_fd, reply(request))
    return request


async def test_rtu_request_frame_and_words(pty) -> None:
    link, pair = pty
    serve = asyncio.ensure_future(device(pair, lambda _: answer(7, [0x1234, 0xABCD], fc=4)))
    assert await link.request(4, 7, 0x0102, 2, TIMEOUT_S) == (0x1234, 0xABCD)
    assert await serve == rtu(bytes.fromhex("070401020002"))


async def test_rtu_skips_noise_and_a_stale_frame_before_the_answer(pty) -> None:
    link, pair = pty
    stale = answer(9, [1, 2, 3])  # a late answer of another device
    reply = b"\x00\xff" + stale + answer(7, [42])
    serve = asyncio.ensure_future(device(pair, lambda _: reply))
    assert await link.request(3, 7, 0, 1, TIMEOUT_S) == (42,)
    await serve


async def test_rtu_garbled_answer_fails_at_once(pty) -> None:
    link, pair = pty
    serve = asyncio.ensure_future(device(pair, lambda _: answer(7, [42])[:-1] + b"\x00"))
    garbled = FrameError(7, "garbled answer (bad CRC or framing)")
    # With a timeout of an hour, only a link that gives up on the garbled frame at once
    # returns (the guard only turns a hang into a failure).
    request = link.request(3, 7, 0, 1, 3600.0)
    assert await asyncio.wait_for(request, 60.0) == garbled
    await serve


async def test_rtu_noise_only_is_a_frame_error_silence_no_answer(pty) -> None:
    link, pair = pty
    serve = asyncio.ensure_future(device(pair, lambda _: b"\x55\x13\x77"))
    assert isinstance(await link.request(3, 7, 0, 1, TIMEOUT_S), FrameError)
    await serve
    serve = asyncio.ensure_future(device(pair, lambda _: b""))
    assert await link.request(3, 7, 0, 1, TIMEOUT_S) == NoAnswer(7)
    await serve


async def test_rtu_exception_and_wrong_size(pty) -> None:
    link, pair = pty
    serve = asyncio.ensure_future(device(pair, lambda _: rtu(bytes((7, 0x83, 2)))))
    assert await link.request(3, 7, 0, 1, TIMEOUT_S) == ExceptionCode(7, 2)
    await serve
    serve = asyncio.ensure_future(device(pair, lambda _: answer(7, [1, 2])))
    assert await link.request(3, 7, 0, 3, TIMEOUT_S) == FrameError(7, "2 registers instead of 3")
    await serve


async def test_rtu_closed_pty_is_disconnected(pty) -> None:
    link, pair = pty
    pair.close()
    assert await link.request(3, 7, 0, 1, TIMEOUT_S) == Disconnected("pty", "connection lost")
    assert not link.connected and link.lost


async def test_tcp_late_answer_is_not_taken_for_the_next_one() -> None:
    """A gateway answers the first request after the timeout, just before the second answer."""
    requests: list[bytes] = []
    handlers: list[asyncio.Task[object]] = []

    async def gateway(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        first = await reader.readexactly(12)
        second = await reader.readexactly(12)
        requests.extend((first, second))
        for request, word in ((first, 111), (second, 222)):
            tid, _, _, unit = struct.unpack(">HHHB", request[:7])
            writer.write(struct.pack(">HHHBBBH", tid, 0, 5, unit, 3, 2, word))
        await writer.drain()
        await reader.read()  # until the client closes
        writer.close()

    server = await asyncio.start_server(gateway, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    link = await TcpLink.open("127.0.0.1", port, 1.0, "gw")
    try:
        assert await link.request(3, 5, 0x10, 1, 0.05) == NoAnswer(5)
        assert await link.request(3, 5, 0x10, 1, 1.0) == (222,)
        assert requests[0][:2] != requests[1][:2]  # each request its own transaction id
        assert requests[1][6:] == bytes.fromhex("0503 0010 0001")
    finally:
        link.close()
        await asyncio.wait_for(asyncio.gather(*handlers), 2.0)  # the gateway sees the close
        server.close()
        await server.wait_closed()
    assert await link.request(3, 5, 0x10, 1, 1.0) == Disconnected("gw", "")


# ------------------------------------------------------------- against pymodbus' servers


def _pymodbus_device(address: int) -> object:
    from pymodbus.simulator import DataType, SimData, SimDevice

    words = list(range(1000, 1200))  # register r holds 1000 + r
    return SimDevice(id=address, simdata=[SimData(0, values=words, datatype=DataType.REGISTERS)])


async def test_tcp_link_reads_a_pymodbus_server() -> None:
    from pymodbus.server import ModbusTcpServer

    with socket.socket() as s:  # a free port (pymodbus' server does not report port 0's)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ModbusTcpServer([_pymodbus_device(3)], address=("127.0.0.1", port))
    await server.serve_forever(background=True)
    link = await TcpLink.open("127.0.0.1", port, 1.0, "pymodbus")
    try:
        assert await link.request(3, 3, 0x10, 3, 1.0) == (1016, 1017, 1018)
        assert await link.request(4, 3, 0x20, 1, 1.0) == (1032,)
        assert await link.request(3, 3, 0x1000, 3, 1.0) == ExceptionCode(3, 2)
    finally:
        link.close()
        await server.shutdown()


async def test_rtu_link_reads_a_pymodbus_server_over_socat(socat_pty_pair) -> None:
    from pymodbus.framer import FramerType
    from pymodbus.server import ModbusSerialServer

    ours, theirs = socat_pty_pair
    server = ModbusSerialServer(
        [_pymodbus_device(7)], framer=FramerType.RTU, port=theirs, baudrate=19200
    )
    await server.serve_forever(background=True)
    link = RtuLink.open(ours, 19200, 8, "N", 1, "socat")
    try:
        assert await link.request(3, 7, 0x10, 3, 1.0) == (1016, 1017, 1018)
        assert await link.request(3, 7, 0x1000, 3, 1.0) == ExceptionCode(7, 2)
        assert await link.request(4, 7, 0x20, 1, 1.0) == (1032,)
    finally:
        link.close()
        await server.shutdown()
