"""The connection to one bus: Modbus RTU on a serial port or Modbus TCP to an IP gateway.

A :class:`BusTransport` wraps one pymodbus async client and turns every outcome of a read
into a value: the register words, or a typed failure saying what went wrong and where
(:class:`NoAnswer`, :class:`ExceptionCode`, :class:`FrameError`, :class:`Disconnected`).
Nothing here retries or reconnects on its own (pymodbus' automatic reconnect is off): the
bus poller that owns the transport decides, so one owner paces the line.

One transaction at a time: reads are serialised by a lock, whoever calls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from ews_tui.domain.messages import N_, Message
from ews_tui.modbus.serial_line import line_settings

log = logging.getLogger(__name__)
# pymodbus logs every timeout and bad frame as an error; each is a typed Failure here.
if logging.getLogger("pymodbus").level == logging.NOTSET:
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

READ_FUNCTIONS = (3, 4)
EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "device failure",
    5: "acknowledge",
    6: "device busy",
    10: "gateway path unavailable",
    11: "gateway target failed to respond",
}


# ------------------------------------------------------------------------------ failures


@dataclass(frozen=True)
class Failure:
    """Why a read gave no words. ``message`` is translatable; ``str()`` is the English."""

    @property
    def message(self) -> Message:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.message.render()


@dataclass(frozen=True)
class NoAnswer(Failure):
    """The device stayed silent until the timeout."""

    address: int

    @property
    def message(self) -> Message:
        return Message(N_("no answer from address {address}"), {"address": self.address})


@dataclass(frozen=True)
class ExceptionCode(Failure):
    """The device answered a Modbus exception (02: illegal data address, 04: failure...)."""

    address: int
    code: int

    @property
    def message(self) -> Message:
        name = EXCEPTION_NAMES.get(self.code, "unknown")
        return Message(
            N_("address {address} answered exception {code:02d} ({name})"),
            {"address": self.address, "code": self.code, "name": name},
        )


@dataclass(frozen=True)
class FrameError(Failure):
    """Bytes came back but not a valid answer (bad CRC, wrong device, garbage)."""

    address: int
    detail: str = ""

    @property
    def message(self) -> Message:
        return Message(
            N_("bad answer from address {address}: {detail}"),
            {"address": self.address, "detail": self.detail or "garbled frame"},
        )


@dataclass(frozen=True)
class Disconnected(Failure):
    """The port or the TCP connection is not open (unplugged adapter, refused, reset)."""

    bus: str
    detail: str = ""

    @property
    def message(self) -> Message:
        return Message(
            N_("{bus}: not connected ({detail})"),
            {"bus": self.bus, "detail": self.detail or "closed"},
        )


ReadResult = tuple[int, ...] | Failure


# ------------------------------------------------------------------------------ endpoints


@dataclass(frozen=True)
class RtuEndpoint:
    """A serial port with its line settings; parity is a pyserial letter (N/E/O)."""

    port: str
    baudrate: int = 19200
    parity: str = "E"
    stopbits: int = 1
    timeout_s: float = 0.3

    def __str__(self) -> str:
        return f"{self.port} {self.baudrate} 8{self.parity}{self.stopbits}"


@dataclass(frozen=True)
class TcpEndpoint:
    host: str
    port: int = 502
    timeout_s: float = 1.0

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


Endpoint = RtuEndpoint | TcpEndpoint


# ------------------------------------------------------------------------------ transport


@dataclass
class _Line:
    """What the pymodbus callbacks tell us about the transaction in flight."""

    received: bool = False
    lost: bool = False
    pending: asyncio.Task[Any] | None = field(default=None, repr=False)


class BusTransport:
    """One pymodbus client on one endpoint, owned by one bus poller."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._client: AsyncModbusSerialClient | AsyncModbusTcpClient | None = None
        self._lock = asyncio.Lock()
        self._line = _Line()

    @property
    def name(self) -> str:
        return str(self.endpoint)

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.connected

    @property
    def timeout_s(self) -> float:
        return self.endpoint.timeout_s

    def _make_client(self) -> AsyncModbusSerialClient | AsyncModbusTcpClient:
        common: dict[str, Any] = {
            "reconnect_delay": 0,  # the poller reconnects, with its own backoff
            "timeout": self.endpoint.timeout_s,
            "retries": 0,
            "trace_packet": self._trace_packet,
            "trace_connect": self._trace_connect,
            "name": self.name,
        }
        ep = self.endpoint
        if isinstance(ep, RtuEndpoint):
            line = line_settings(ep.port, ep.baudrate, ep.parity, ep.stopbits)
            return AsyncModbusSerialClient(
                line.port,
                baudrate=line.baudrate,
                bytesize=line.bytesize,
                parity=line.parity,
                stopbits=line.stopbits,
                **common,
            )
        return AsyncModbusTcpClient(ep.host, port=ep.port, **common)

    async def connect(self) -> Disconnected | None:
        """Open the port or the connection; None when open, else why not."""
        await self.close()
        self._line = _Line()
        client = self._make_client()
        # A dead device behind a live gateway must never make pymodbus drop the connection.
        client.set_max_no_responses(1 << 30)
        try:
            ok = await client.connect()
        except Exception as exc:  # OSError, termios.error, SerialException, ValueError...
            client.close()
            return Disconnected(self.name, f"{type(exc).__name__}: {exc}")
        if not ok:
            client.close()
            return Disconnected(self.name, "cannot open")
        self._client = client
        log.info("bus %s connected", self.name)
        return None

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()
            log.info("bus %s closed", self.name)

    async def read(self, fc: int, address: int, start: int, count: int) -> ReadResult:
        """Read ``count`` registers from ``start`` of device ``address`` with fc 3 or 4."""
        if fc not in READ_FUNCTIONS:
            raise ValueError(f"read {self.name}: function code {fc} is not 3 or 4")
        async with self._lock:
            client = self._client
            if client is None or not client.connected:
                return Disconnected(self.name, (self._line.lost and "connection lost") or "")
            return await self._transaction(client, fc, address, start, count)

    async def _transaction(
        self,
        client: AsyncModbusSerialClient | AsyncModbusTcpClient,
        fc: int,
        address: int,
        start: int,
        count: int,
    ) -> ReadResult:
        call = client.read_holding_registers if fc == 3 else client.read_input_registers
        self._line.received = False
        task = asyncio.ensure_future(call(start, count=count, device_id=address))
        self._line.pending = task
        try:
            response = await task
        except asyncio.CancelledError:
            me = asyncio.current_task()
            if self._line.lost and not (me is not None and me.cancelling()):
                return Disconnected(self.name, "connection lost")
            raise
        except ConnectionException as exc:
            return Disconnected(self.name, exc.string)
        except ModbusIOException as exc:
            if not client.connected:
                return Disconnected(self.name, "connection lost")
            if "request uses" in exc.string:  # an answer for another device or transaction
                return FrameError(address, _short(exc.string))
            if self._line.received:
                return FrameError(address, "garbled answer (bad CRC or framing)")
            return NoAnswer(address)
        except ModbusException as exc:
            return FrameError(address, _short(exc.string))
        finally:
            self._line.pending = None
        if response.isError():
            return ExceptionCode(address, int(getattr(response, "exception_code", 0)))
        words: Sequence[int] = response.registers
        if len(words) != count:
            return FrameError(address, f"{len(words)} registers instead of {count}")
        return tuple(words)

    # pymodbus callbacks ------------------------------------------------------------

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        if not sending and data:
            self._line.received = True
        return data

    def _trace_connect(self, connected: bool) -> None:
        if connected:
            self._line.lost = False
            return
        self._line.lost = True
        pending = self._line.pending
        if pending is not None and not pending.done():
            pending.cancel()  # no answer can come on a closed line: fail now, not at timeout
        log.warning("bus %s: connection lost", self.name)


def _short(text: str) -> str:
    return text.removeprefix("[Input/Output] ").strip()
