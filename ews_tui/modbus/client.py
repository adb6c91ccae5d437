"""pymodbus's clients under the bus transport, and the small layer we keep over them.

pymodbus (:class:`AsyncModbusTcpClient`, :class:`AsyncModbusSerialClient`) builds the
requests, owns the port or the connection, decodes the answer PDU and times the request
out. Its own retries and reconnects are off (``retries=0``, ``reconnect_delay=0``, no
disconnect after unanswered requests): the bus poller that owns the transport decides.

What pymodbus does not do for a field bus we keep, in a :class:`Tap` hooked on its
documented ``trace_packet`` / ``trace_connect`` callbacks (``trace_packet`` may change the
received stream): the tap sees every byte, counts it (:class:`WireCounter`) and hands
pymodbus only the answer to the request in flight, once it is complete and valid.

- RTU (:class:`RtuTap`): stale frames (late answers, other devices) and line noise before the
  answer are skipped: pymodbus's framer would drop the whole buffer at the first valid frame
  of another device, the answer with it. A valid frame of the device of another size is a
  late answer to another request, never this one's (RTU has no transaction id). A garbled
  answer (bad CRC) ends the request at once as a :class:`FrameError`. After a request that
  got no valid answer the line must stay quiet for one more timeout (what comes meanwhile
  is read and dropped) before the next request is sent.
- TCP (:class:`TcpTap`): answers of timed-out requests (old transaction ids) are skipped; a
  stream that is not Modbus TCP, an answer of another unit or of another size ends the
  request at once as a :class:`FrameError` (pymodbus would wait for the timeout, or drop
  the connection on a byte count that does not fit).
- A lost port or connection ends the request at once as :class:`Disconnected`.

Every outcome is turned into a value in one place, :func:`outcome`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import struct
from typing import NamedTuple

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException
from pymodbus.framer import FramerRTU
from pymodbus.pdu import ExceptionResponse, ModbusPDU
from pymodbus.pdu.register_message import ReadHoldingRegistersResponse  # fc 4's: a subclass

from ews_tui.modbus.failures import Disconnected, ExceptionCode, FrameError, NoAnswer, ReadResult
from ews_tui.modbus.serial_line import LineSettings

log = logging.getLogger(__name__)

GARBLED = "garbled answer (bad CRC or framing)"
NEVER = 2**31  # unanswered requests before pymodbus would drop the connection: never
# pymodbus drops its receive buffer past its framer's 264 bytes: one 125-register answer,
# not a late one before it. A request's answer and what may come before it fit in this.
RECEIVE_BUFFER = 4096
_MBAP = struct.Struct(">HHHB")  # transaction id, protocol id, length, unit
_ANSWER = struct.Struct(">HHHBBB")  # an answer's MBAP header, function code and byte count


class _Restated(logging.Filter):
    """Drops pymodbus's log lines for outcomes this module restates as typed failures
    (shown on screen, logged by the poller): its ERROR for every unanswered request, its
    warning for every failed connect. Everything else pymodbus logs passes."""

    RESTATED = ("No response received after", "Failed to connect")

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.RESTATED)


logging.getLogger("pymodbus.logging").addFilter(_Restated())


# ------------------------------------------------------------------------- wire counter


class WireBytes(NamedTuple):
    """Bytes sent and received on the wire (RTU: whole frames with CRC, noise included;
    TCP: MBAP frames)."""

    sent: int
    received: int


class WireCounter:
    """What a transport sent and received, over every connection it opened."""

    __slots__ = ("received", "sent")

    def __init__(self) -> None:
        self.sent = 0
        self.received = 0

    def snapshot(self) -> WireBytes:
        return WireBytes(self.sent, self.received)


# ------------------------------------------------------------------------------ the tap


class _Pending:
    """The request in flight, as the tap sees it (one per request: the fields that start
    the same for every request are the class's until set)."""

    cancelled = False  # the tap cancelled the task, not yet taken back
    tid = 0  # TCP: the transaction id pymodbus gave it
    head = b""  # TCP: how its answer begins (MBAP header, function, byte count)
    offset = 0  # where unread data begins in the buffer (stale frames skipped)
    wrong = ""  # RTU: a valid frame of the device came, of another size: what it was
    garbage = False  # bytes came that were not the answer
    verdict: FrameError | Disconnected | None = None  # the request ended early, why

    def __init__(
        self, address: int, fc: int, count: int, task: asyncio.Task[object], cancelling: int
    ) -> None:
        self.address = address
        self.fc = fc
        self.count = count
        # The task awaiting the answer, and its cancel requests when the request began: the
        # tap ends the request early by cancelling it (as ``asyncio.timeout`` does, without
        # a timer per request); see :meth:`Tap.stop` and :meth:`Tap.took_back`.
        self.task = task
        self.cancelling = cancelling


class Tap:
    """pymodbus's ``trace_packet`` and ``trace_connect`` for one client: counts the bytes
    and picks the answer of the request in flight out of what came."""

    def __init__(self, name: str, counter: WireCounter) -> None:
        self.name = name
        self.counter = counter
        self.lost = False
        self.pending: _Pending | None = None
        # RTU: when the last request ended without a valid answer (0.0: the line is free);
        # the next one waits for the line to go quiet first (see RtuTap.settle).
        self.unsettled_since = 0.0
        self._kept = b""  # what pymodbus kept of its receive buffer after the last call
        self._loop = asyncio.get_running_loop()

    def begin(self, address: int, fc: int, count: int) -> _Pending:
        """A request begins, awaited by the current task (which :meth:`stop` may cancel)."""
        task = asyncio.current_task(self._loop)  # the loop given: no lookup per request
        if task is None:
            raise RuntimeError(f"bus {self.name}: a read must run in a task")
        self.pending = pending = _Pending(address, fc, count, task, task.cancelling())
        return pending

    def end(self, pending: _Pending) -> None:
        """The request is over: answered, failed or cancelled."""
        self.pending = None
        if pending.cancelled:
            # stopped, but its answer came first (the cancel was swallowed): take it back
            pending.cancelled = False
            pending.task.uncancel()

    def stop(self, failure: FrameError | Disconnected) -> None:
        """End the request in flight now with ``failure``: its task is cancelled, and the
        read turns that cancel into ``failure`` (:meth:`took_back`)."""
        pending = self.pending
        if pending is not None and pending.verdict is None:
            pending.verdict = failure
            if not pending.task.done():
                pending.cancelled = True
                pending.task.cancel()

    @staticmethod
    def took_back(pending: _Pending) -> bool:
        """In the read's ``except CancelledError``: whether the tap's :meth:`stop` alone
        cancelled the request (nobody else asked to cancel its task meanwhile); the cancel
        is then taken back and the read ends with the verdict. As ``asyncio.timeout``."""
        if not pending.cancelled:
            return False
        pending.cancelled = False
        return pending.task.uncancel() <= pending.cancelling

    def packet(self, sending: bool, data: bytes) -> bytes:
        """``trace_packet``: ``data`` is a frame to send, or pymodbus's whole receive buffer
        (what it kept plus what came); what we return is what its framer decodes."""
        if sending:
            self.counter.sent += len(data)
            self._kept = b""  # pymodbus clears its receive buffer as it sends
            return data
        pending = self.pending
        kept = self._kept
        self.counter.received += len(data) - len(kept) if data.startswith(kept) else len(data)
        frame = b"" if pending is None or pending.verdict else self._select(pending, data)
        # pymodbus cuts what its framer used (all of the frame, nothing when empty)
        self._kept = data[len(frame) :] if frame else data
        return frame

    def connection(self, up: bool) -> None:
        """``trace_connect``: the port or the connection went away."""
        if not up:
            if not self.lost:
                log.warning("bus %s: connection lost", self.name)
            self.lost = True
            self.stop(Disconnected(self.name, "connection lost"))

    def _select(self, pending: _Pending, buffer: bytes) -> bytes:
        """The answer's frame when complete in ``buffer``, else b"" (wait for more)."""
        raise NotImplementedError

    def failed(self) -> None:
        """The request just ended without a valid answer."""

    async def settle(self, timeout_s: float) -> None:
        """Before a request, when :attr:`unsettled_since` is set: wait until the line is
        free of earlier answers."""


def _check_pdu(pending: _Pending, buffer: bytes, start: int, end: int) -> FrameError | None:
    """Why the response PDU ``buffer[start:end]`` (function code first) is not an answer to
    ``pending``."""
    fc, address = pending.fc, pending.address
    length = end - start
    first = buffer[start] if length else 0
    if length == 2 and first == fc | 0x80:
        return None  # an exception response
    if length < 2 or first != fc:
        return FrameError(address, f"function code {first} answers {fc}")
    size = buffer[start + 1]
    if size != length - 2 or size % 2:
        return FrameError(address, GARBLED)
    if size != 2 * pending.count:
        return FrameError(address, f"{size // 2} registers instead of {pending.count}")
    return None


class TcpTap(Tap):
    """Modbus TCP: the answer is the frame with the request's transaction id."""

    def packet(self, sending: bool, data: bytes) -> bytes:
        pending = self.pending
        if sending:
            if pending is not None:  # its transaction id, and how its answer will begin
                pending.tid = tid = data[0] << 8 | data[1]
                size = 2 * pending.count
                pending.head = _ANSWER.pack(tid, 0, 3 + size, pending.address, pending.fc, size)
            self.counter.sent += len(data)
            self._kept = b""  # pymodbus clears its receive buffer as it sends
            return data
        if (
            pending is not None
            and not self._kept
            and not pending.offset
            and len(data) == 9 + 2 * pending.count
            and data.startswith(pending.head)
            and pending.verdict is None
        ):  # the answer, whole and alone (the usual case): what _select would pick
            self.counter.received += len(data)
            return data
        return super().packet(sending, data)

    def _select(self, pending: _Pending, buffer: bytes) -> bytes:
        i = pending.offset
        n = len(buffer)
        while n - i >= 8:
            tid, pid, length, unit = _MBAP.unpack_from(buffer, i)
            if pid != 0 or not 2 <= length <= 254:  # not Modbus TCP: nothing can be trusted
                self.stop(FrameError(pending.address, GARBLED))
                return b""
            end = i + 6 + length
            if n < end:
                return b""
            if tid != pending.tid:  # a late answer to a request that timed out
                pending.offset = i = end
                continue
            if unit != pending.address:
                self.stop(FrameError(pending.address, f"answer from address {unit}"))
                return b""
            if (wrong := _check_pdu(pending, buffer, i + 7, end)) is not None:
                self.stop(wrong)
                return b""
            return buffer if i == 0 and end == n else buffer[i:end]
        return b""


def _crc_ok(frame: bytes) -> bool:
    return FramerRTU.compute_CRC(frame[:-2]) == int.from_bytes(frame[-2:], "big")


class RtuTap(Tap):
    """Modbus RTU: the answer is the first valid frame of the device, function and size
    asked for, wherever it starts in what came."""

    def __init__(self, name: str, counter: WireCounter) -> None:
        super().__init__(name, counter)
        self.last_rx = 0.0  # loop time of the last bytes received

    def packet(self, sending: bool, data: bytes) -> bytes:
        if not sending:
            self.last_rx = self._loop.time()
        return super().packet(sending, data)

    def _select(self, pending: _Pending, buffer: bytes) -> bytes:
        address, fc = pending.address, pending.fc
        expected = 5 + 2 * pending.count
        n = len(buffer)
        i = pending.offset
        while i < n - 1:
            if buffer[i] != address or buffer[i + 1] not in (fc, fc | 0x80):
                i += 1
                continue
            if buffer[i + 1] & 0x80:
                size = 5
            elif i + 2 < n:
                size = 5 + buffer[i + 2]
            else:
                break
            if n - i < size:
                i += 1
                continue
            frame = buffer[i : i + size]
            if _crc_ok(frame):
                if size in (5, expected):
                    return frame
                # A valid frame of another size: a late answer to another request, never
                # this one's. Skipped; the answer may follow it.
                pending.wrong = f"{frame[2] // 2} registers instead of {pending.count}"
                pending.offset = i = i + size
                continue
            if i == pending.offset and n - i == size == expected:  # the answer, garbled
                self.stop(FrameError(address, GARBLED))
                return b""
            i += 1
        pending.garbage = n > pending.offset
        return b""

    def failed(self) -> None:
        # its answer, or the rest of it, may come late: let it pass before the next request
        self.unsettled_since = self._loop.time()

    async def settle(self, timeout_s: float) -> None:
        """After a request that got no valid answer, wait until the line has been quiet
        for ``timeout_s`` since that request ended (bytes that come meanwhile are read and
        dropped), for at most 4 timeouts of noise."""
        if not self.unsettled_since:
            return
        loop = self._loop
        unsettled_since, self.unsettled_since = self.unsettled_since, 0.0
        limit = loop.time() + 4 * timeout_s
        while not self.lost:
            quiet_at = max(unsettled_since, self.last_rx) + timeout_s
            now = loop.time()
            if now >= quiet_at:
                return
            if now >= limit:
                log.warning("bus %s: the line is not quiet; sending anyway", self.name)
                return
            await asyncio.sleep(min(quiet_at, limit) - now)


# ---------------------------------------------------------------------------- the outcome


def outcome(pending: _Pending, answer: ModbusPDU | ModbusException, bus: str) -> ReadResult:
    """The one place where what pymodbus gave (a response, or the exception it raised) and
    what the tap saw become a read's value: the words, or a typed failure."""
    address = pending.address
    if pending.verdict is not None:  # the tap ended the request early
        return pending.verdict
    if isinstance(answer, ExceptionResponse):
        return ExceptionCode(address, answer.exception_code)
    if isinstance(answer, ModbusPDU):
        words = tuple(answer.registers)
        if len(words) != pending.count:  # the tap passes only answers of the right size
            return FrameError(address, f"{len(words)} registers instead of {pending.count}")
        return words
    if isinstance(answer, ConnectionException):
        return Disconnected(bus, "connection lost")
    # ModbusIOException: no valid answer before the timeout (pymodbus says so for every
    # unanswered request); what came instead, if anything, names the failure.
    if pending.wrong:
        return FrameError(address, pending.wrong)
    if pending.garbage:
        return FrameError(address, GARBLED)
    return NoAnswer(address)


# ---------------------------------------------------------------------------- the client


class BusClient:
    """One pymodbus client on one open port or connection, with its tap."""

    def __init__(
        self,
        client: AsyncModbusTcpClient | AsyncModbusSerialClient,
        tap: Tap,
        timeout_s: float,
    ) -> None:
        self.client = client
        self.tap = tap
        self.timeout_s = timeout_s
        self._lock = asyncio.Lock()  # one request at a time, whoever calls

    @classmethod
    async def open_tcp(
        cls, host: str, port: int, timeout_s: float, name: str, counter: WireCounter
    ) -> BusClient | Disconnected:
        tap = TcpTap(name, counter)
        client = AsyncModbusTcpClient(
            host,
            port=port,
            name=name,
            timeout=timeout_s,
            retries=0,
            reconnect_delay=0,
            trace_packet=tap.packet,
            trace_connect=tap.connection,
        )
        return await cls._connect(client, tap, timeout_s)

    @classmethod
    async def open_rtu(
        cls, line: LineSettings, timeout_s: float, name: str, counter: WireCounter
    ) -> BusClient | Disconnected:
        tap = RtuTap(name, counter)
        client = AsyncModbusSerialClient(
            line.port,
            baudrate=line.baudrate,
            bytesize=line.bytesize,
            parity=line.parity,
            stopbits=line.stopbits,
            name=name,
            timeout=timeout_s,
            retries=0,
            reconnect_delay=0,
            trace_packet=tap.packet,
            trace_connect=tap.connection,
        )
        return await cls._connect(client, tap, timeout_s)

    @classmethod
    async def _connect(
        cls, client: AsyncModbusTcpClient | AsyncModbusSerialClient, tap: Tap, timeout_s: float
    ) -> BusClient | Disconnected:
        client.set_max_no_responses(NEVER)  # before connecting: it is read as it connects
        client.ctx.max_buffer_size = RECEIVE_BUFFER
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            connected = await client.connect()
        except Exception as exc:  # pyserial's ValueError, termios.error on odd settings...
            client.close()
            return Disconnected(tap.name, f"{type(exc).__name__}: {exc}")
        if not connected:  # pymodbus logs why and says False
            client.close()
            return Disconnected(tap.name, _why_not(client, loop.time() - started, timeout_s))
        return cls(client, tap, timeout_s)

    @property
    def connected(self) -> bool:
        return self.client.connected and not self.tap.lost

    def close(self) -> None:
        self.tap.stop(Disconnected(self.tap.name, "closed"))
        self.client.close()

    async def read(self, fc: int, address: int, start: int, count: int) -> ReadResult:
        """Read ``count`` registers from ``start`` of device ``address`` (fc 3 or 4); one
        request at a time."""
        await self._lock.acquire()
        try:
            tap = self.tap
            if tap.unsettled_since:
                await tap.settle(self.timeout_s)
            client = self.client
            if tap.lost or not client.connected:
                return Disconnected(tap.name, "connection lost" if tap.lost else "")
            answer: ModbusPDU | ModbusException
            # No deadline of ours: pymodbus times the request out; the tap ends it sooner.
            pending = tap.begin(address, fc, count)
            try:
                if fc == 3:
                    answer = await client.read_holding_registers(
                        start, count=count, device_id=address
                    )
                else:
                    answer = await client.read_input_registers(
                        start, count=count, device_id=address
                    )
            except asyncio.CancelledError:
                if not tap.took_back(pending):
                    raise  # not the tap's: the caller is being cancelled
                answer = ModbusException("stopped")  # the tap's verdict says why
            except ModbusException as exc:
                answer = exc
            finally:  # answered, failed or cancelled: the tap's request is over
                tap.end(pending)
            if isinstance(answer, ReadHoldingRegistersResponse) and pending.verdict is None:
                words = tuple(answer.registers)  # the usual case: what outcome() gives
                if len(words) == count:
                    return words
            result = outcome(pending, answer, tap.name)
            if isinstance(result, NoAnswer | FrameError):
                tap.failed()
            return result
        finally:
            self._lock.release()


def _why_not(
    client: AsyncModbusTcpClient | AsyncModbusSerialClient, elapsed_s: float, timeout_s: float
) -> str:
    """Why pymodbus could not connect (it only says False): what we can tell from here."""
    if isinstance(client, AsyncModbusTcpClient):
        return "timed out" if elapsed_s >= timeout_s else "connection refused or unreachable"
    port = client.comm_params.host
    if not os.path.exists(port):
        return "no such port"
    if not os.access(port, os.R_OK | os.W_OK):
        return "permission denied"
    return "cannot open the port"
