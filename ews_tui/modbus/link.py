"""The wire under a bus transport: a small Modbus client for reads, RTU and TCP.

Our own framing rather than pymodbus' client: the poller only ever reads holding or input
registers, one transaction at a time, and a bus poller's cycle is the sum of its
transactions, so the client's cost per request is the product's speed. A link sends one
request, waits for its answer in the event loop (no task, no polling sleep) and hands back
a value: the register words, or a typed failure (:mod:`ews_tui.modbus.failures`).

- :class:`TcpLink`: Modbus TCP (MBAP header). A late answer to an earlier, timed-out
  request carries an old transaction id and is dropped, never taken for the current one.
- :class:`RtuLink`: Modbus RTU on a serial fd (pyserial opens and configures the port; the
  loop watches the fd). The answer's length follows from its header, so it is complete
  without waiting for a silence; stale frames from other devices and line noise before the
  answer are skipped; a bad CRC is a :class:`FrameError`. RTU has no transaction id, so a
  late answer to a timed-out request is kept from being taken for the next one twice over:
  after a request that got no valid answer the line must stay quiet for one more timeout
  (what comes meanwhile is read and dropped) before the next request is sent, and an answer
  is only taken when its address, function and byte count are the request's (a valid frame
  of another size is stale: skipped, and named in the failure if nothing else comes).

A link is not re-opened: on a lost line it answers :class:`Disconnected` and the owner opens
a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import struct
from collections.abc import Callable
from typing import Any

from ews_tui.modbus.failures import Disconnected, ExceptionCode, FrameError, NoAnswer, ReadResult

log = logging.getLogger(__name__)

GARBLED = "garbled answer (bad CRC or framing)"
_REQUEST = struct.Struct(">BBHH")  # RTU: address, fc, start, count
_TCP_REQUEST = struct.Struct(">HHHBBHH")  # MBAP (tid, 0, length 6, unit), fc, start, count
_MBAP = struct.Struct(">HHHB")  # transaction id, protocol id, length, unit
_WORDS = [struct.Struct(f">{n}H") for n in range(126)]


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data: bytes | bytearray | memoryview) -> int:
    """Modbus RTU CRC16 (poly 0xA001, init 0xFFFF), sent low byte first; a frame followed by
    its CRC checks to 0."""
    crc = 0xFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def _answer(address: int, fc: int, count: int, pdu: bytes | bytearray) -> ReadResult:
    """The outcome of a response PDU (function code first) to a read of ``count`` registers."""
    if len(pdu) >= 2 and pdu[0] == fc | 0x80:
        return ExceptionCode(address, pdu[1])
    if len(pdu) < 2 or pdu[0] != fc:
        return FrameError(address, f"function code {pdu[0] if pdu else 0} answers {fc}")
    size = pdu[1]
    if size != len(pdu) - 2 or size % 2:
        return FrameError(address, GARBLED)
    if size != 2 * count:
        return FrameError(address, f"{size // 2} registers instead of {count}")
    return _WORDS[count].unpack_from(pdu, 2)


class _Request:
    """The transaction in flight."""

    __slots__ = ("address", "count", "deadline", "fc", "future", "garbage", "tid", "wrong")

    def __init__(self, address: int, fc: int, count: int, future: asyncio.Future[ReadResult]):
        self.address, self.fc, self.count, self.future = address, fc, count, future
        self.tid = 0
        self.deadline = 0.0
        self.garbage = False  # bytes came that were not the answer
        self.wrong = ""  # a valid frame of the device came, of another size: what it was


class _Link:
    """What TCP and RTU share: one request in flight, its timer, its end."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lost = False
        self._pending: _Request | None = None
        self._buffer = bytearray()
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._quiet_from = 0.0  # RTU: the line is ours once quiet since then (see _settle)

    @property
    def connected(self) -> bool:
        raise NotImplementedError

    def _send(self, request: _Request, start: int) -> None:
        raise NotImplementedError

    def _gone(self) -> Disconnected | None:
        """The failure of a request on a closed line, ``None`` while connected."""
        if self.connected:
            return None
        return Disconnected(self.name, "connection lost" if self.lost else "")

    async def request(
        self, fc: int, address: int, start: int, count: int, timeout_s: float
    ) -> ReadResult:
        """Read ``count`` registers from ``start`` of device ``address`` (fc 3 or 4)."""
        gone = self._gone()
        if gone is None and self._quiet_from:
            await self._settle(timeout_s)
            gone = self._gone()  # the line may have closed while it settled
        if gone is not None:
            return gone
        loop = self._loop
        request = _Request(address, fc, count, loop.create_future())
        request.deadline = deadline = loop.time() + timeout_s
        self._pending = request
        timer = self._timer
        if timer is None or timer.when() > deadline:
            if timer is not None:
                timer.cancel()
            self._timer = loop.call_at(deadline, self._check_deadline)
        try:
            self._send(request, start)
            return await request.future
        finally:
            if self._pending is request:
                self._pending = None

    async def _settle(self, timeout_s: float) -> None:
        """Before a request: wait until the line is free of earlier answers (RTU)."""
        self._quiet_from = 0.0

    def _check_deadline(self) -> None:
        """The one timer of the link: it fires at the deadline of the request it was armed
        for; when that one is done it re-arms for the request in flight, if any (cheaper
        than a timer per request, since most answers come long before their deadline)."""
        self._timer = None
        request = self._pending
        if request is None:
            return
        if self._loop.time() >= request.deadline:
            self._expire(request)
        else:
            self._timer = self._loop.call_at(request.deadline, self._check_deadline)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _finish(self, result: ReadResult) -> None:
        request, self._pending = self._pending, None
        if request is not None and not request.future.done():
            request.future.set_result(result)

    def _expire(self, request: _Request) -> None:
        if self._pending is request:
            if request.wrong:
                self._finish(FrameError(request.address, request.wrong))
            elif request.garbage:
                self._finish(FrameError(request.address, GARBLED))
            else:
                self._finish(NoAnswer(request.address))

    def _lost(self, detail: str) -> None:
        if not self.lost:
            log.warning("bus %s: %s", self.name, detail)
        self.lost = True
        self._finish(Disconnected(self.name, "connection lost"))


# ------------------------------------------------------------------------------------ TCP


class TcpLink(_Link, asyncio.Protocol):
    """Modbus TCP to one gateway (or device) on one connection."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._transport: asyncio.Transport | None = None
        self._tid = 0

    @classmethod
    async def open(cls, host: str, port: int, timeout_s: float, name: str) -> TcpLink:
        """Connect (raises OSError or TimeoutError)."""
        async with asyncio.timeout(timeout_s):
            _, link = await asyncio.get_running_loop().create_connection(
                lambda: cls(name), host, port
            )
        return link

    @property
    def connected(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    def close(self) -> None:
        self._stop_timer()
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()
        self._finish(Disconnected(self.name, "closed"))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timer()
        was_open, self._transport = self._transport is not None, None
        if was_open:
            self._lost(f"connection lost ({exc or 'closed by the peer'})")

    def _send(self, request: _Request, start: int) -> None:
        self._tid = request.tid = self._tid % 0xFFFF + 1
        assert self._transport is not None
        self._transport.write(
            _TCP_REQUEST.pack(request.tid, 0, 6, request.address, request.fc, start, request.count)
        )

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        while len(buffer) >= 8:
            tid, pid, length, unit = _MBAP.unpack_from(buffer)
            if not 2 <= length <= 254:  # not Modbus TCP: nothing in the stream can be trusted
                buffer.clear()
                if (request := self._pending) is not None:
                    self._finish(FrameError(request.address, GARBLED))
                return
            if len(buffer) < 6 + length:
                return
            pdu = bytes(buffer[7 : 6 + length])
            del buffer[: 6 + length]
            request = self._pending
            if request is None or tid != request.tid:
                continue  # a late answer to a request that timed out
            if pid != 0:
                self._finish(FrameError(request.address, GARBLED))
            elif unit != request.address:
                self._finish(FrameError(request.address, f"answer from address {unit}"))
            else:
                self._finish(_answer(request.address, request.fc, request.count, pdu))


# ------------------------------------------------------------------------------------ RTU


def _frame_size(head: bytes | bytearray) -> int | None:
    """The size of a read answer or exception frame starting at ``head`` (None: unknown yet)."""
    if head[1] & 0x80:
        return 5
    return 5 + head[2] if len(head) >= 3 else None


class RtuLink(_Link):
    """Modbus RTU on a serial port: requests written to its fd, answers read by the loop."""

    def __init__(self, fd: int, closer: Callable[[], Any], name: str) -> None:
        super().__init__(name)
        self._fd: int | None = fd
        self._closer = closer
        self._unsent = b""
        self._last_rx = 0.0  # loop time of the last bytes read
        self._loop.add_reader(fd, self._readable)

    @classmethod
    def open(cls, port: str, baudrate: int, bytesize: int, parity: str, stopbits: int,
             name: str) -> RtuLink:  # fmt: skip
        """Open and configure the port (raises OSError, serial.SerialException, ValueError)."""
        import serial  # pyserial

        line = serial.Serial(
            port,
            baudrate=baudrate,
            bytesize=bytesize,
            parity=parity,
            stopbits=stopbits,
            timeout=0,
            write_timeout=0,
            exclusive=True,
        )
        try:
            fd = line.fileno()
            os.set_blocking(fd, False)
            line.reset_input_buffer()
            return cls(fd, line.close, name)
        except BaseException:
            line.close()
            raise

    @property
    def connected(self) -> bool:
        return self._fd is not None

    def close(self) -> None:
        self._stop_timer()
        fd, self._fd = self._fd, None
        if fd is not None:
            self._loop.remove_reader(fd)
            self._loop.remove_writer(fd)
            with contextlib.suppress(Exception):
                self._closer()
        self._finish(Disconnected(self.name, "closed"))

    def _drop(self, detail: str) -> None:
        """The port went away (unplugged adapter, closed pty): say so and close it."""
        self._lost(detail)
        self.close()

    async def _settle(self, timeout_s: float) -> None:
        """After a request that got no valid answer, its answer may still be coming: wait
        until the line has been quiet for ``timeout_s`` since that request ended (bytes
        that come meanwhile are read and dropped), for at most 4 timeouts of noise."""
        loop = self._loop
        unsettled_since = self._quiet_from
        limit = loop.time() + 4 * timeout_s
        while self._fd is not None:
            quiet_at = max(unsettled_since, self._last_rx) + timeout_s
            now = loop.time()
            if now >= quiet_at:
                break
            if now >= limit:
                log.warning("bus %s: the line is not quiet; sending anyway", self.name)
                break
            await asyncio.sleep(min(quiet_at, limit) - now)
        self._quiet_from = 0.0

    def _finish(self, result: ReadResult) -> None:
        request = self._pending
        super()._finish(result)
        if request is not None and isinstance(result, NoAnswer | FrameError):
            # its answer, or the rest of it, may come late: let it pass before the next
            self._quiet_from = self._loop.time()

    def _send(self, request: _Request, start: int) -> None:
        self._buffer.clear()  # what came before the request is not its answer
        frame = _REQUEST.pack(request.address, request.fc, start, request.count)
        self._write(frame + (crc16(frame)).to_bytes(2, "little"))

    def _write(self, data: bytes) -> None:
        fd = self._fd
        if fd is None:
            return
        try:
            written = os.write(fd, data)
        except BlockingIOError:
            written = 0
        except OSError as exc:
            self._drop(f"write failed: {exc.strerror or exc}")
            return
        self._unsent = data[written:]
        if self._unsent:
            self._loop.add_writer(fd, self._writable)

    def _writable(self) -> None:
        if self._fd is not None:
            self._loop.remove_writer(self._fd)
            self._write(self._unsent)

    def _readable(self) -> None:
        if self._fd is None:
            return
        try:
            data = os.read(self._fd, 4096)
        except BlockingIOError:
            return
        except OSError as exc:  # EIO: the adapter is gone or the pty closed
            self._drop(f"read failed: {exc.strerror or exc}")
            return
        if not data:
            self._drop("end of file")
            return
        self._last_rx = self._loop.time()
        if self._pending is None:
            return  # nobody asked: a late answer or line noise
        self._buffer += data
        self._parse(self._pending)

    def _parse(self, request: _Request) -> None:
        """Finish ``request`` when its answer is in the buffer, wherever it starts: stale
        frames (of other devices, or of this one to an earlier request: another size) and
        noise may come first."""
        buffer, address, fc = self._buffer, request.address, request.fc
        expected = 5 + 2 * request.count
        i = 0
        while i < len(buffer) - 1:
            if buffer[i] != address or buffer[i + 1] not in (fc, fc | 0x80):
                i += 1
                continue
            size = _frame_size(buffer[i : i + 3])
            if size is None or len(buffer) - i < size:
                i += 1
                continue
            frame = bytes(buffer[i : i + size])
            if crc16(frame) == 0:
                if size == 5 or size == expected:
                    buffer.clear()
                    self._finish(_answer(address, fc, request.count, frame[1:-2]))
                    return
                # A valid frame of another size: a late answer to another request, never
                # this one's. Dropped; the answer may follow it.
                request.wrong = f"{frame[2] // 2} registers instead of {request.count}"
                del buffer[: i + size]
                i = 0
                continue
            if i == 0 and len(buffer) == size == expected:  # the answer, garbled
                buffer.clear()
                self._finish(FrameError(address, GARBLED))
                return
            i += 1
        request.garbage = bool(buffer)
