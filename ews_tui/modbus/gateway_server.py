"""The box as a Modbus TCP gateway to its own RS485 bus (manual §7.8, note 2).

Other servers read the devices of the local bus through the box: each request is handed to
``forward`` (the local bus poller queues it between its own polls, so the two never collide
on the wire) and the answer goes back in the same MBAP transaction. A silent device gives
exception 0x0B (gateway target device failed to respond).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

ILLEGAL_FUNCTION = 0x01
ILLEGAL_DATA_ADDRESS = 0x02
ILLEGAL_DATA_VALUE = 0x03
GATEWAY_PATH_UNAVAILABLE = 0x0A
GATEWAY_TARGET_FAILED = 0x0B
READ_FUNCTIONS = (3, 4)
MAX_READ = 125
MAX_ADU = 260

# forward(fc, unit, start, count) -> register words, or an exception code to answer with.
Forward = Callable[[int, int, int, int], Awaitable["list[int] | int"]]


def exception_pdu(fc: int, code: int) -> bytes:
    return struct.pack(">BB", (fc | 0x80) & 0xFF, code)


def read_response_pdu(fc: int, words: list[int]) -> bytes:
    return struct.pack(f">BB{len(words)}H", fc, 2 * len(words), *words)


async def answer_pdu(pdu: bytes, unit: int, forward: Forward) -> bytes:
    """The response PDU to one request PDU (never raises on bad input)."""
    if not pdu:
        return exception_pdu(0, ILLEGAL_FUNCTION)
    fc = pdu[0]
    if fc not in READ_FUNCTIONS:
        return exception_pdu(fc, ILLEGAL_FUNCTION)
    if len(pdu) != 5:
        return exception_pdu(fc, ILLEGAL_DATA_VALUE)
    start, count = struct.unpack(">HH", pdu[1:5])
    if not 1 <= count <= MAX_READ:
        return exception_pdu(fc, ILLEGAL_DATA_VALUE)
    if start + count > 0x10000:
        return exception_pdu(fc, ILLEGAL_DATA_ADDRESS)
    if not 1 <= unit <= 247:
        return exception_pdu(fc, GATEWAY_PATH_UNAVAILABLE)
    result = await forward(fc, unit, start, count)
    if isinstance(result, int):
        return exception_pdu(fc, result)
    if len(result) != count:
        return exception_pdu(fc, GATEWAY_TARGET_FAILED)
    return read_response_pdu(fc, result)


class ModbusGatewayServer:
    """A Modbus TCP server in the runtime's loop; one task per client connection."""

    name = "modbus-tcp-server"

    def __init__(self, host: str, port: int, forward: Forward, *, max_clients: int = 16) -> None:
        self.host = host
        self.port = port
        self._forward = forward
        self._max_clients = max_clients
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()

    @property
    def bound_port(self) -> int:
        """The port actually listened on (useful with port 0)."""
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, self.host, self.port)
        log.info("Modbus TCP server listening on %s:%d", self.host, self.bound_port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._clients):
            task.cancel()
        for task in list(self._clients):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        peer = writer.get_extra_info("peername")
        if len(self._clients) >= self._max_clients:
            log.warning("Modbus TCP client %s refused: %d clients already", peer, self._max_clients)
            writer.close()
            return
        self._clients.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._clients.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            header = await reader.readexactly(7)
            transaction, protocol, length, unit = struct.unpack(">HHHB", header)
            if protocol != 0 or not 2 <= length <= MAX_ADU - 6:
                log.warning("Modbus TCP client sent a bad MBAP header %s: closing", header.hex())
                return
            pdu = await reader.readexactly(length - 1)
            response = await answer_pdu(pdu, unit, self._forward)
            writer.write(struct.pack(">HHHB", transaction, 0, len(response) + 1, unit) + response)
            await writer.drain()
