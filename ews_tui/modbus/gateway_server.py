"""The box as a Modbus TCP gateway to its own RS485 bus (manual §7.8, note 2), on pymodbus.

Other servers read the devices of the local bus through the box. pymodbus does the protocol:
its :class:`~pymodbus.server.ModbusTcpServer` owns the framer and the PDU decoder, each
connection is its :class:`~pymodbus.server.requesthandler.ServerRequestHandler`. Each read
is handed to ``forward`` (the local bus poller queues it as a paced job, between its own
polls, so the two never collide on the wire and the box keeps its poll period) and the answer
goes back in the same MBAP transaction. A unit that does not answer gives exception 0x0B
(gateway target device failed to respond) and is remembered as absent for
``absent_unit_s``: a client looping on it is answered at once, without the line.

What pymodbus's server does not do by configuration, and how we add it:

- **Per-connection timeouts** (``_Connection``, the subclass of pymodbus's connection
  class): a connection that sends nothing for ``idle_timeout_s``, or leaves a frame half
  sent for ``read_timeout_s``, is closed. One request at a time per connection: reading
  pauses while its answer is on the way (pymodbus would start one task per frame).
- **Limits**: at most ``max_clients`` connections, ``max_clients_per_source`` from one
  address. A connection beyond a limit takes the place of the one idle the longest if that
  one has been idle ``evict_idle_s``; otherwise it is closed at once, never queued. An
  address whose client the server closed (idle, a frame half sent, pushed out for idling, a
  bad header) in the last ``idle_timeout_s`` pushes no one out and gets none of the last
  ``max_clients // 8`` places (at least one): abusers that reconnect at once cannot take
  turns locking a new client out.
- **Accepting**: our own accept loop hands each socket to pymodbus
  (``loop.connect_accepted_socket``). asyncio's server retries a failed accept up to 100
  times per wake-up and logs each (290,000 lines in 45 s when out of descriptors); ours says
  so once and pauses (``ACCEPT_PAUSE_S`` doubling to ``ACCEPT_PAUSE_MAX_S``), while clients
  already connected are served. It also decides the limits before a byte is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import math
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pymodbus.exceptions import ModbusIOException
from pymodbus.pdu import ExceptionResponse, ModbusPDU
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    ReadHoldingRegistersResponse,
    ReadInputRegistersRequest,
    ReadInputRegistersResponse,
)
from pymodbus.server import ModbusTcpServer
from pymodbus.server.base import ModbusBaseServer
from pymodbus.server.requesthandler import ServerRequestHandler
from pymodbus.simulator import SimData, SimDevice
from pymodbus.transaction import TransactionManager

from ews_tui.modbus.failures import ExceptionCode, Failure, NoAnswer, ReadResult

log = logging.getLogger(__name__)

ILLEGAL_FUNCTION = 0x01
ILLEGAL_DATA_ADDRESS = 0x02
ILLEGAL_DATA_VALUE = 0x03
DEVICE_FAILURE = 0x04
GATEWAY_PATH_UNAVAILABLE = 0x0A
GATEWAY_TARGET_FAILED = 0x0B
READ_FUNCTIONS = (3, 4)
MAX_READ = 125
MAX_MBAP_LENGTH = 254  # unit id + PDU (at most 253 bytes)
BACKLOG = 100
ACCEPT_PAUSE_S = 0.1
ACCEPT_PAUSE_MAX_S = 5.0
REFUSAL_LOG_S = 60.0
OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})

# forward(fc, unit, start, count) -> the read's outcome, or an exception code to answer with.
Forward = Callable[[int, int, int, int], Awaitable["ReadResult | int"]]


@dataclass(frozen=True)
class GatewayLimits:
    """How long and how many: the defaults suit a box on a site network."""

    max_clients: int = 16
    max_clients_per_source: int = 4
    idle_timeout_s: float = 60.0
    read_timeout_s: float = 2.0
    absent_unit_s: float = 30.0
    evict_idle_s: float = 2.0


@dataclass
class GatewayStats:
    """What the server did to its clients (counts since it started)."""

    accepted: int = 0
    refused: int = 0  # closed at once: over a limit and nobody idle to replace
    evicted: int = 0  # idle connections closed to make room for a new one
    idle_closed: int = 0
    read_closed: int = 0  # a frame left half sent
    absent_answers: int = 0  # 0x0B answered from memory, without the bus
    accept_pauses: int = 0  # times accepting paused for want of descriptors or memory


class AbsentUnits:
    """Units that did not answer, remembered for ``hold_s`` (loop time)."""

    def __init__(self, hold_s: float, clock: Callable[[], float]) -> None:
        self._hold_s = hold_s
        self._clock = clock
        self._until: dict[int, float] = {}

    def __contains__(self, unit: int) -> bool:
        until = self._until.get(unit)
        if until is None:
            return False
        if self._clock() < until:
            return True
        del self._until[unit]
        return False

    def remember(self, unit: int) -> None:
        self._until[unit] = self._clock() + self._hold_s

    def forget(self, unit: int) -> None:
        self._until.pop(unit, None)


def _exception(request: ModbusPDU, code: int) -> ExceptionResponse:
    return ExceptionResponse(request.function_code, code)


class _PymodbusGateway(ModbusTcpServer):
    """pymodbus's TCP server, making our connections; it never listens itself."""

    def __init__(self, gateway: ModbusGatewayServer) -> None:
        # The datastore is never read: every read goes to ``forward``.
        super().__init__(SimDevice(1, simdata=[SimData(0)]), address=(gateway.host, 0))
        self.gateway = gateway

    def callback_new_connection(self) -> _Connection:
        return _Connection(self, self.gateway)


class _Connection(ServerRequestHandler):
    """pymodbus's connection class, with the timeouts and one request at a time."""

    def __init__(self, owner: _PymodbusGateway, gateway: ModbusGatewayServer) -> None:
        super().__init__(owner, None, None, None)  # type: ignore[no-untyped-call]
        self._gateway = gateway
        self.source = ""
        self.idle_since = self.loop.time()
        self._partial_since: float | None = None
        self._answering: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._gone = False

    # --------------------------------------------------------------- lifecycle

    def callback_connected(self) -> None:
        super().callback_connected()
        peer = self.transport.get_extra_info("peername")
        self.source = str(peer[0]) if peer else "?"
        self._gateway._joined(self)
        self._arm()

    def callback_disconnected(self, exc: Exception | None) -> None:
        super().callback_disconnected(exc)
        self._forget()

    def close(self, reconnect: bool = False) -> None:
        super().close(reconnect)
        self._forget()

    def _forget(self) -> None:
        if self._gone:
            return
        self._gone = True
        if self._timer is not None:
            self._timer.cancel()
        if self._answering is not None:
            self._answering.cancel()
        self._gateway._left(self)

    def idle_for(self, now: float) -> float:
        """Seconds with nothing asked and nothing half sent (0 while busy)."""
        if self._answering is not None or self._partial_since is not None:
            return 0.0
        return now - self.idle_since

    # --------------------------------------------------------------- timeouts

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._gone or self._answering is not None:
            return  # the bus poller bounds a request's time
        limits = self._gateway.limits
        if self._partial_since is not None:
            deadline = self._partial_since + limits.read_timeout_s
        else:
            deadline = self.idle_since + limits.idle_timeout_s
        self._timer = self.loop.call_at(deadline, self._expire)

    def _expire(self) -> None:
        self._timer = None
        stats = self._gateway.stats
        if self._partial_since is not None:
            stats.read_closed += 1
            why = f"a frame left half sent for {self._gateway.limits.read_timeout_s:.1f} s"
        else:
            stats.idle_closed += 1
            why = f"idle for {self._gateway.limits.idle_timeout_s:.0f} s"
        log.info("Modbus TCP client %s closed: %s", self.source, why)
        self._gateway.closed_by_us(self.source)
        self.close()

    def _pending(self, pending: bool) -> None:
        if not pending:
            self._partial_since = None
        elif self._partial_since is None:
            self._partial_since = self.loop.time()
        self._arm()

    # --------------------------------------------------------------- requests

    def callback_data(self, data: bytes, addr: tuple[str, int] | None = None) -> int:
        if self._gone:
            return len(data)
        if self._answering is not None:
            return 0  # one request at a time: the rest waits (reading is paused)
        if len(data) >= 6:
            protocol, length = struct.unpack_from(">HH", data, 2)
            if protocol != 0 or not 2 <= length <= MAX_MBAP_LENGTH:
                log.warning(
                    "Modbus TCP client %s sent a bad MBAP header %s: closing",
                    self.source,
                    data[:7].hex(),
                )
                self._gateway.closed_by_us(self.source)
                self.close()
                return len(data)
        try:
            used: int = TransactionManager.callback_data(self, data, addr)
        except ModbusIOException as exc:  # a frame pymodbus cannot decode
            fc = data[7] if len(data) > 7 else 0
            code = ILLEGAL_DATA_VALUE if fc in READ_FUNCTIONS else ILLEGAL_FUNCTION
            self.pdu_send(ExceptionResponse(fc, code, exc.dev_id, exc.transaction_id))
            self.idle_since = self.loop.time()
            self._pending(False)
            return len(data)
        request = self.last_pdu
        if request is not None:
            self._answering = self.loop.create_task(self._answer(request))
            self.transport.pause_reading()  # type: ignore[attr-defined]
        self._pending(len(data) > used)
        return used

    async def _answer(self, request: ModbusPDU) -> None:
        try:
            response = await self._gateway.respond(request)
        except Exception:  # a bug answers this request, and the server goes on
            log.exception("Modbus TCP server: cannot answer %s", request)
            response = _exception(request, DEVICE_FAILURE)
        response.transaction_id = request.transaction_id
        response.dev_id = request.dev_id
        self._answering = None
        if self._gone or not self.transport:
            return
        rest = self.recv_buffer  # pymodbus's send() drops what came after the request
        self.pdu_send(response)
        self.recv_buffer = rest
        self.idle_since = self.loop.time()
        self.transport.resume_reading()  # type: ignore[attr-defined]
        self._pending(bool(rest))
        if rest:
            self.datagram_received(b"", None)


class ModbusGatewayServer:
    """A Modbus TCP server in the runtime's loop, bridging reads to ``forward``."""

    name = "modbus-tcp-server"

    def __init__(
        self, host: str, port: int, forward: Forward, *, limits: GatewayLimits | None = None
    ) -> None:
        self.host = host
        self.port = port
        self._forward = forward
        self.limits = limits or GatewayLimits()
        self.stats = GatewayStats()
        self._listener: socket.socket | None = None
        self._acceptor: asyncio.Task[None] | None = None
        self._pymodbus: _PymodbusGateway | None = None
        self._clients: set[_Connection] = set()
        self._unit_locks: dict[int, asyncio.Lock] = {}
        self._asking: set[asyncio.Future[ReadResult | int | None]] = set()
        self._closed_at: dict[str, float] = {}  # source -> when the server last closed one
        self._refusals: dict[str, tuple[float, int]] = {}  # source -> (logged at, not logged)
        self._absent = AbsentUnits(self.limits.absent_unit_s, self._now)

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    @property
    def accept_pauses(self) -> int:
        return self.stats.accept_pauses

    @property
    def clients(self) -> int:
        return len(self._clients)

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
        self._pymodbus = _PymodbusGateway(self)
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
        for client in list(self._clients):
            client.close()
        for asking in list(self._asking):
            asking.cancel()
        pymodbus, self._pymodbus = self._pymodbus, None
        if pymodbus is not None and ModbusBaseServer.active_server is pymodbus:
            ModbusBaseServer.active_server = None  # pymodbus's class-wide "last server"
        await asyncio.sleep(0)  # let the transports' close callbacks run

    # ------------------------------------------------------------------ accepting

    async def _accept_forever(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        pause = ACCEPT_PAUSE_S
        while True:
            try:
                conn, peer = await loop.sock_accept(listener)
            except OSError as error:
                if error.errno not in OUT_OF_RESOURCES:
                    log.warning("Modbus TCP server: accept failed: %s", error)
                    continue  # the client gave up before we took it (ECONNABORTED...)
                self.stats.accept_pauses += 1
                log.error(
                    "Modbus TCP server: cannot accept a client (%s): not accepting for %.1f s",
                    error.strerror or error,
                    pause,
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, ACCEPT_PAUSE_MAX_S)
                continue
            pause = ACCEPT_PAUSE_S
            if not self._make_room(str(peer[0])):
                conn.close()
                continue
            assert self._pymodbus is not None
            try:
                await loop.connect_accepted_socket(self._pymodbus.handle_new_connection, conn)
            except OSError as error:
                conn.close()
                log.warning("Modbus TCP server: client dropped at once: %s", error)

    def _make_room(self, source: str) -> bool:
        """Whether a new client from ``source`` may come in, closing an idle one if needed."""
        limits = self.limits
        now = self._now()
        closed_lately = now - self._closed_at.get(source, -math.inf) < limits.idle_timeout_s
        same = [c for c in self._clients if c.source == source]
        if len(same) >= limits.max_clients_per_source:
            scope, what = same, f"{limits.max_clients_per_source} clients from {source}"
        elif closed_lately and len(self._clients) >= limits.max_clients - self._reserve:
            scope, what = [], f"{len(self._clients)} clients (it was closed a moment ago)"
        elif len(self._clients) >= limits.max_clients:
            scope, what = list(self._clients), f"{limits.max_clients} clients"
        else:
            return True
        idlest = max(scope, key=lambda c: c.idle_for(now), default=None)
        if idlest is not None and idlest.idle_for(now) >= limits.evict_idle_s:
            self.stats.evicted += 1
            log.info(
                "Modbus TCP client %s closed after %.0f s idle: a new client takes its place",
                idlest.source,
                idlest.idle_for(now),
            )
            if idlest.source != source:
                self.closed_by_us(idlest.source)
            idlest.close()
            return True
        self.stats.refused += 1
        self._log_refusal(source, what, now)
        return False

    @property
    def _reserve(self) -> int:
        """Places kept for addresses the server did not close lately."""
        return max(1, self.limits.max_clients // 8)

    def closed_by_us(self, source: str) -> None:
        """Note that the server closed a client of ``source`` (see :meth:`_make_room`)."""
        now = self._now()
        self._closed_at[source] = now
        hold = self.limits.idle_timeout_s
        for old, when in list(self._closed_at.items()):
            if now - when >= hold:
                del self._closed_at[old]

    def _log_refusal(self, source: str, what: str, now: float) -> None:
        """One line per source a minute, with how many were refused meanwhile."""
        logged_at, count = self._refusals.get(source, (-math.inf, 0))
        if now - logged_at < REFUSAL_LOG_S:
            self._refusals[source] = (logged_at, count + 1)
            return
        more = f" ({count} more refused since the last line)" if count else ""
        log.warning("Modbus TCP client %s refused: %s already%s", source, what, more)
        self._refusals[source] = (now, 0)
        for old, (when, _count) in list(self._refusals.items()):
            if now - when >= REFUSAL_LOG_S:
                del self._refusals[old]

    def _joined(self, client: _Connection) -> None:
        self.stats.accepted += 1
        self._clients.add(client)

    def _left(self, client: _Connection) -> None:
        self._clients.discard(client)

    # ------------------------------------------------------------------ answering

    async def respond(self, request: ModbusPDU) -> ModbusPDU:
        """The response to one decoded request (never raises on bad input)."""
        if not isinstance(request, ReadHoldingRegistersRequest):  # fc 3, and fc 4 below it
            return _exception(request, ILLEGAL_FUNCTION)
        start, count, unit = request.address, request.count, request.dev_id
        if not 1 <= count <= MAX_READ:
            return _exception(request, ILLEGAL_DATA_VALUE)
        if start + count > 0x10000:
            return _exception(request, ILLEGAL_DATA_ADDRESS)
        if not 1 <= unit <= 247:
            return _exception(request, GATEWAY_PATH_UNAVAILABLE)
        # Asked on the bus even if the client leaves meanwhile (its timeout may be shorter
        # than the bus's turn): the answer still tells whether the unit is there.
        asking = asyncio.ensure_future(self._ask(request.function_code, unit, start, count))
        self._asking.add(asking)
        asking.add_done_callback(self._asking.discard)
        result = await asyncio.shield(asking)
        if result is None:
            self.stats.absent_answers += 1
            return _exception(request, GATEWAY_TARGET_FAILED)
        if isinstance(result, int):
            return _exception(request, result)
        if isinstance(result, ExceptionCode):
            return _exception(request, result.code)
        if isinstance(result, Failure) or len(result) != count:
            return _exception(request, GATEWAY_TARGET_FAILED)
        answer = (
            ReadInputRegistersResponse
            if isinstance(request, ReadInputRegistersRequest)
            else ReadHoldingRegistersResponse
        )
        return answer(registers=list(result))

    async def _ask(self, fc: int, unit: int, start: int, count: int) -> ReadResult | int | None:
        """The bus's answer, or None for a unit known to be absent. One request per unit at a
        time: clients looping on an absent unit wait for the first one's timeout, then are
        answered from memory."""
        async with self._unit_locks.setdefault(unit, asyncio.Lock()):
            if unit in self._absent:
                return None
            result = await self._forward(fc, unit, start, count)
            if isinstance(result, NoAnswer):
                self._absent.remember(unit)
                log.info(
                    "Modbus TCP server: unit %d does not answer; answering 0x0B for %.0f s",
                    unit,
                    self.limits.absent_unit_s,
                )
            return result
