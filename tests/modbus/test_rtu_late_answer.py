"""A late answer on the RTU line is never taken for the next request.

RTU has no transaction id. The demo's Local bus logged "bad answer from address 1: 36
registers instead of 10": a device (the simulator, behind a busy event loop) answered a
timed-out 36-register read while the poller's retry of a 10-register read was waiting.

These tests go through the :class:`BusTransport` seam only, on a real pty pair, with raw
bytes written by a scripted device on the other end, so they hold for whichever Modbus
client the transport uses.
"""

from __future__ import annotations

import asyncio
import os
import struct
from collections.abc import AsyncIterator

import pytest

from ews_tui.modbus.transport import BusTransport, NoAnswer, RtuEndpoint
from ews_tui.sim.rtu import PtyPair, crc16, open_pty_pair

TIMEOUT_S = 0.2
WAIT_S = 5.0


def answer(address: int, words: list[int], fc: int = 3) -> bytes:
    body = struct.pack(f">BBB{len(words)}H", address, fc, 2 * len(words), *words)
    return body + crc16(body).to_bytes(2, "little")


class ScriptedDevice:
    """The far end of the line: hands over each request, writes what the test says."""

    def __init__(self, pair: PtyPair) -> None:
        self.fd = pair.server_fd
        self._buffer = bytearray()
        self._requests: asyncio.Queue[bytes] = asyncio.Queue()
        asyncio.get_running_loop().add_reader(self.fd, self._readable)

    def _readable(self) -> None:
        self._buffer += os.read(self.fd, 256)
        while len(self._buffer) >= 8:  # read requests are 8 bytes
            self._requests.put_nowait(bytes(self._buffer[:8]))
            del self._buffer[:8]

    async def request(self) -> tuple[int, int, int, int]:
        """The next request: (address, fc, start, count)."""
        async with asyncio.timeout(WAIT_S):
            frame = await self._requests.get()
        assert crc16(frame) == 0
        return struct.unpack(">BBHH", frame[:6])

    def pending(self) -> int:
        return self._requests.qsize()

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.fd)


@pytest.fixture
async def line() -> AsyncIterator[tuple[BusTransport, ScriptedDevice]]:
    pair = open_pty_pair()
    transport = BusTransport(RtuEndpoint(pair.path, 19200, "N", 1, TIMEOUT_S))
    assert await transport.connect() is None
    device = ScriptedDevice(pair)
    try:
        yield transport, device
    finally:
        device.close()
        await transport.close()
        pair.close()


async def test_late_answer_of_another_size_is_skipped(line) -> None:
    """The demo's case: a retry of a 10-register read gets, first, the late answer of the
    36-register read that timed out, then its own answer."""
    transport, device = line
    first = asyncio.ensure_future(transport.read(3, 1, 0x100, 36))
    assert await device.request() == (1, 3, 0x100, 36)  # ... and the device says nothing
    assert await first == NoAnswer(1)
    second = asyncio.ensure_future(transport.read(3, 1, 0x000, 10))
    assert await device.request() == (1, 3, 0x000, 10)
    device.write(answer(1, list(range(500, 536))) + answer(1, list(range(10))))
    assert await second == tuple(range(10))


async def test_late_answer_of_the_same_size_is_dropped_before_the_next_request(line) -> None:
    """The late answer comes after the timeout, before the next request's answer, and has
    the very shape of it (same device, function and size): it must be drained, not taken."""
    transport, device = line
    first = asyncio.ensure_future(transport.read(3, 1, 0x100, 10))
    assert await device.request() == (1, 3, 0x100, 10)
    assert await first == NoAnswer(1)
    device.write(answer(1, [666] * 10))  # the answer to the first read, late
    second = asyncio.ensure_future(transport.read(3, 1, 0x000, 10))
    assert await device.request() == (1, 3, 0x000, 10)
    assert device.pending() == 0
    device.write(answer(1, list(range(10))))
    assert await second == tuple(range(10))


async def test_a_device_that_answers_a_wrong_size_is_named(line) -> None:
    transport, device = line
    read = asyncio.ensure_future(transport.read(3, 1, 0, 3))
    await device.request()
    device.write(answer(1, [1, 2]))
    result = await read
    assert str(result) == "bad answer from address 1: 2 registers instead of 3"
