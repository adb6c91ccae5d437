"""The box as a Modbus TCP gateway to its own RS485 bus (manual §7.8, note 2).

Other servers read the devices of the local bus through the box: each request is handed to
``forward`` (the local bus poller queues it between its own polls, so the two never collide
on the wire) and the answer goes back in the same MBAP transaction. A silent device gives
exception 0x0B (gateway target device failed to respond).

The server accepts in its own loop: when the process is out of descriptors or memory
(EMFILE, ENFILE, ENOBUFS, ENOMEM) it says so once and stops accepting for a moment (from
``ACCEPT_PAUSE_S`` doubling to ``ACCEPT_PAUSE_MAX_S``), then tries again; clients already
connected are served meanwhile. (asyncio's own accept loop in Python 3.11 retries up to
100 times per wake-up and logs each: 290,000 lines in 45 s.)
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
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
BACKLOG = 100
ACCEPT_PAUSE_S = 0.1
ACCEPT_PAUSE_MAX_S = 5.0
OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})

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
        self._listener: socket.socket | None = None
        self._acceptor: asyncio.Task[None] | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._clients: set[asyncio.Task[None]] = set()
        self.accept_pauses = 0  # times accepting paused for want of descriptors or memory

    @property
    def bound_port(self) -> int:
        """The port actually listened on (useful with port 0)."""
        assert self._listener is not None
        return int(self._listener.getsockname()[1])

    async def start(self) -> None:
        """Listen (``OSError`` if the address is taken or not ours) and start accepting."""
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(
            self.host or None, self.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        family, kind, proto, _name, address = infos[0]
        listener = socket.socket(family, kind, proto)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(address)
            listener.listen(BACKLOG)
            listener.setblocking(False)
        except OSError:
            listener.close()
            raise
        self._listener = listener
        self._acceptor = loop.create_task(self._accept_forever(listener), name=self.name)
        log.info("Modbus TCP server listening on %s:%d", self.host, self.bound_port)

    async def stop(self) -> None:
        acceptor, self._acceptor = self._acceptor, None
        if acceptor is not None:
            acceptor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await acceptor
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        for task in list(self._connections):
            task.cancel()
        for task in list(self._connections):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _accept_forever(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        pause = ACCEPT_PAUSE_S
        while True:
            try:
                conn, _peer = await loop.sock_accept(listener)
            except OSError as error:
                if error.errno not in OUT_OF_RESOURCES:
                    log.warning("Modbus TCP server: accept failed: %s", error)
                    continue  # the client gave up before we took it (ECONNABORTED...)
                self.accept_pauses += 1
                log.error(
                    "Modbus TCP server: cannot accept a client (%s): not accepting for %.1f s",
                    error.strerror or error,
                    pause,
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, ACCEPT_PAUSE_MAX_S)
                continue
            pause = ACCEPT_PAUSE_S
            task = loop.create_task(self._connection(conn), name=f"{self.name}-client")
            self._connections.add(task)
            task.add_done_callback(self._connections.discard)

    async def _connection(self, conn: socket.socket) -> None:
        try:
            reader, writer = await asyncio.open_connection(sock=conn)
        except OSError as error:
            conn.close()
            log.warning("Modbus TCP server: client dropped at once: %s", error)
            return
        await self._client(reader, writer)

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
