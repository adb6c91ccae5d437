"""The connection to one bus: Modbus RTU on a serial port or Modbus TCP to an IP gateway.

A :class:`BusTransport` owns one pymodbus client (:mod:`ews_tui.modbus.client`:
``AsyncModbusTcpClient`` or ``AsyncModbusSerialClient`` and the small layer we keep over
them) and turns every outcome of a read into a value: the register words, or a typed
failure saying what went wrong and where (:class:`NoAnswer`, :class:`ExceptionCode`,
:class:`FrameError`, :class:`Disconnected`). Nothing here retries or reconnects on its own
(pymodbus's retries and reconnects are off): the bus poller that owns the transport
decides, so one owner paces the line.

One transaction at a time: the open client serialises reads, whoever calls.
:meth:`BusTransport.wire_bytes` counts the bytes sent and received on the wire, over every
connection the transport opened.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass

from ews_tui.modbus.client import BusClient, WireBytes, WireCounter
from ews_tui.modbus.failures import (
    EXCEPTION_NAMES,
    Disconnected,
    ExceptionCode,
    Failure,
    FrameError,
    NoAnswer,
    ReadResult,
)
from ews_tui.modbus.serial_line import line_settings

__all__ = [
    "EXCEPTION_NAMES",
    "BusTransport",
    "Disconnected",
    "Endpoint",
    "ExceptionCode",
    "Failure",
    "FrameError",
    "NoAnswer",
    "ReadResult",
    "RtuEndpoint",
    "TcpEndpoint",
    "WireBytes",
]

log = logging.getLogger(__name__)

READ_FUNCTIONS = (3, 4)


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


async def _answered(result: ReadResult) -> ReadResult:
    return result


class BusTransport:
    """One Modbus client on one endpoint, owned by one bus poller."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._client: BusClient | None = None
        self._wire = WireCounter()

    @property
    def name(self) -> str:
        return str(self.endpoint)

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.connected

    @property
    def timeout_s(self) -> float:
        return self.endpoint.timeout_s

    def wire_bytes(self) -> WireBytes:
        """Bytes sent and received on the wire so far, ``(sent, received)``: RTU frames
        with their CRC and whatever else came on the line, or Modbus TCP frames."""
        return self._wire.snapshot()

    async def _open(self) -> BusClient | Disconnected:
        ep = self.endpoint
        if isinstance(ep, RtuEndpoint):
            line = line_settings(ep.port, ep.baudrate, ep.parity, ep.stopbits)
            return await BusClient.open_rtu(line, ep.timeout_s, self.name, self._wire)
        return await BusClient.open_tcp(ep.host, ep.port, ep.timeout_s, self.name, self._wire)

    async def connect(self) -> Disconnected | None:
        """Open the port or the connection; None when open, else why not."""
        await self.close()
        opened = await self._open()
        if isinstance(opened, Disconnected):
            return opened
        self._client = opened
        log.info("bus %s connected", self.name)
        return None

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()
            log.info("bus %s closed", self.name)

    def read(self, fc: int, address: int, start: int, count: int) -> Awaitable[ReadResult]:
        """Read ``count`` registers from ``start`` of device ``address`` with fc 3 or 4 (to
        await: the open client's read, which sends one request at a time)."""
        if fc not in READ_FUNCTIONS:
            raise ValueError(f"read {self.name}: function code {fc} is not 3 or 4")
        client = self._client
        if client is None:
            return _answered(Disconnected(self.name))
        return client.read(fc, address, start, count)
