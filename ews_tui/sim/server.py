"""The device simulator's servers: Modbus TCP endpoints and Modbus RTU ports, in one loop.

A small hand-written server (MBAP and RTU framing, CRC16) rather than pymodbus' server and
datastore: faults (silence, a bad CRC, exception 04, slow answers) and wire-time emulation
need full control of each answer, and it stays quiet and fast (100 TCP gateways x 10
devices in one process). Each endpoint is one line: like an RS485 bus (or the bus behind an
IP gateway) it answers one request at a time, in order.

``--wire-time``: each answer leaves after its true time on the wire at the endpoint's
REQUESTED settings (11 bits a char for 8E1, even on a pty that cannot set parity): request
and response characters plus two 3.5-char silences, plus the map's turnaround.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from ews_tui.domain.catalog import Catalog, builtin_catalog
from ews_tui.domain.installation import Installation
from ews_tui.i18n import _
from ews_tui.modbus.serial_line import LineSettings
from ews_tui.sim.device import (
    GATEWAY_NO_RESPONSE,
    DeviceSpec,
    Fault,
    ServedDevice,
    SimError,
    exception_pdu,
    resolve_map,
)
from ews_tui.sim.rtu import (
    PtyPair,
    Reply,
    RtuPort,
    WireCount,
    crc16,
    open_pty_pair,
    open_serial,
)
from ews_tui.sim.values import Value

log = logging.getLogger(__name__)

SILENCE_CHARS = 7  # two 3.5-char silent intervals per transaction

__all__ = [
    "DeviceSpec",
    "Endpoint",
    "Fault",
    "PtyPair",
    "SimError",
    "SimulatedBus",
    "WireCount",
    "crc16",
    "open_pty_pair",
    "site_devices",
]


# ------------------------------------------------------------------------------ endpoints


@dataclass
class _Job:
    unit: int
    pdu: bytes
    reply: Reply
    arrival: float


class Endpoint:
    """One served line (a TCP port or an RTU port): its devices, faults and answer queue."""

    def __init__(
        self,
        bus: SimulatedBus,
        label: str,
        devices: dict[int, ServedDevice],
        settings: LineSettings,
        wire_time: bool,
        rtu: bool,
    ) -> None:
        self.bus, self.label, self.devices = bus, label, devices
        self.settings, self.wire_time, self.rtu = settings, wire_time, rtu
        self.host: str | None = None
        self.port: int | None = None  # the bound TCP port (when asked for port 0)
        self.path: str | None = None  # RTU: the port served
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._worker = asyncio.get_running_loop().create_task(self._run(), name=f"sim-{label}")
        self._closers: list[Callable[[], Any]] = []
        self._free_at = 0.0
        self.connections: set[asyncio.Transport] = set()  # TCP: the clients connected now
        self.wire = WireCount()  # bytes and frames in and out on this line (benches read it)

    def set_fault(self, address: int, fault: Fault | None) -> None:
        device = self._device(address)
        device.fault = fault
        log.info("%s address %d: fault %s", self.label, address, fault or "cleared")

    def force(self, address: int, qid: str, value: Value) -> None:
        self._device(address).force(qid, value, self.bus.clock())

    def values(self, address: int, side: int = 1) -> dict[str, Value]:
        """What the device at ``address`` shows now (the registers' values, before encoding)."""
        return self._device(address).values(self.bus.clock(), side)

    def _device(self, address: int) -> ServedDevice:
        if address not in self.devices:
            raise SimError(
                _("{where}: no simulated device at address {address}").format(
                    where=self.label, address=address
                )
            )
        return self.devices[address]

    def submit(self, unit: int, pdu: bytes, reply: Reply) -> None:
        self._queue.put_nowait(_Job(unit, pdu, reply, asyncio.get_running_loop().time()))

    def wire_s(self, request_pdu: int, response_pdu: int, turnaround_ms: float) -> float:
        """Seconds the exchange takes on the RS485 line (RTU frames: address + PDU + CRC)."""
        chars = (request_pdu + 3) + (response_pdu + 3) + SILENCE_CHARS
        return chars * self.settings.bits_per_char / self.settings.baudrate + turnaround_ms / 1e3

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            job = await self._queue.get()
            device = self.devices.get(job.unit)
            if device is None:
                if not self.rtu and job.pdu:  # an IP gateway answers for a missing device
                    job.reply(exception_pdu(job.pdu[0], GATEWAY_NO_RESPONSE), False)
                continue
            fault = device.fault
            if fault is not None and fault.kind == "silent":
                continue
            response = device.answer(job.pdu, self.bus.clock())
            delay = fault.ms / 1e3 if fault is not None and fault.kind == "slow" else 0.0
            if self.wire_time:
                delay += self.wire_s(len(job.pdu), len(response), device.reg_map.turnaround_ms)
            # The exchange began when the request came, or when the line became free.
            start = max(job.arrival, self._free_at)
            if delay and (wait := start + delay - loop.time()) > 0:
                await asyncio.sleep(wait)
            try:
                job.reply(response, fault is not None and fault.kind == "crc")
            except OSError as error:  # a client gone, a pty closed: the line stays up
                log.debug("%s: answer not sent: %s", self.label, error)
            self._free_at = loop.time()

    async def close(self) -> None:
        """Stop serving (once; the bus forgets the endpoint). The port or fd is released."""
        if self in self.bus.endpoints:
            self.bus.endpoints.remove(self)
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        closers, self._closers = self._closers, []
        for closer in reversed(closers):
            result = closer()
            if asyncio.iscoroutine(result):
                await result


# ------------------------------------------------------------------------------------ TCP


class _TcpConnection(asyncio.Protocol):
    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.endpoint.connections.add(self.transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.endpoint.connections.discard(self.transport)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.endpoint.wire.bytes_in += len(data)
        while len(self.buffer) >= 8:
            tid, pid, length, unit = struct.unpack(">HHHB", self.buffer[:7])
            if pid != 0 or not 2 <= length <= 254:
                self.buffer.clear()  # not Modbus TCP: drop what we have
                return
            if len(self.buffer) < 6 + length:
                return
            pdu = bytes(self.buffer[7 : 6 + length])
            del self.buffer[: 6 + length]
            self.endpoint.wire.frames_in += 1
            self.endpoint.submit(unit, pdu, self._replier(tid, unit))

    def _replier(self, tid: int, unit: int) -> Reply:
        def reply(pdu: bytes, corrupt: bool) -> None:
            if self.transport is None or self.transport.is_closing():
                return
            # A garbled frame: a bad protocol id and flipped bits, which a client must reject
            # (the TCP counterpart of a bad CRC on RTU).
            pid = 0x5A5A if corrupt else 0
            if corrupt:
                pdu = bytes(b ^ 0x55 for b in pdu)
            header = struct.pack(">HHHB", tid, pid, len(pdu) + 1, unit)
            self.transport.write(header + pdu)
            self.endpoint.wire.frames_out += 1
            self.endpoint.wire.bytes_out += len(header) + len(pdu)

        return reply


# ------------------------------------------------------------------------------------ bus


def _local_offset() -> float:
    offset = datetime.now().astimezone().utcoffset()
    return offset.total_seconds() if offset else 0.0


class SimulatedBus:
    """Every endpoint the simulator serves, in the running loop.

    ``async with SimulatedBus() as bus: ep = await bus.serve_tcp("127.0.0.1", 0, devices)``.
    ``clock`` gives epoch seconds (real time by default; tests inject a fixed one); values
    refresh at most every ``tick`` seconds per device.
    """

    def __init__(
        self,
        catalog: Catalog | None = None,
        *,
        seed: int = 0,
        clock: Callable[[], float] = time.time,
        utc_offset_s: float | None = None,
        tick: float = 0.5,
    ) -> None:
        self.catalog = catalog or builtin_catalog()
        self.seed, self.clock, self.tick = seed, clock, tick
        self.utc_offset_s = _local_offset() if utc_offset_s is None else utc_offset_s
        self.endpoints: list[Endpoint] = []

    async def __aenter__(self) -> SimulatedBus:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _served(self, label: str, devices: Iterable[DeviceSpec]) -> dict[int, ServedDevice]:
        served: dict[int, ServedDevice] = {}
        for spec in devices:
            if spec.address in served:
                raise SimError(
                    _("{where}: address {address} is served twice").format(
                        where=label, address=spec.address
                    )
                )
            model, reg_map = resolve_map(spec, self.catalog)
            served[spec.address] = ServedDevice(
                spec,
                model,
                reg_map,
                key=f"{label}/{spec.address}",
                seed=self.seed,
                utc_offset_s=self.utc_offset_s,
                tick=self.tick,
            )
            served[spec.address].refresh(self.clock())  # encodes once; warms the caches
        return served

    async def serve_tcp(
        self,
        host: str,
        port: int,
        devices: Iterable[DeviceSpec],
        *,
        wire_time: bool = False,
        settings: LineSettings | None = None,
    ) -> Endpoint:
        """Serve ``devices`` as one Modbus TCP gateway on ``host:port`` (0: a free port).

        ``settings``: the RS485 line behind the gateway, for ``wire_time`` (19200 8E1).
        """
        label = f"e{len(self.endpoints)}"
        served = self._served(label, devices)
        endpoint = Endpoint(self, label, served, settings or LineSettings("tcp"), wire_time, False)
        try:
            server = await asyncio.get_running_loop().create_server(
                lambda: _TcpConnection(endpoint), host, port, reuse_address=True
            )
        except OSError:
            await endpoint.close()
            raise
        endpoint.host, endpoint.port = host, server.sockets[0].getsockname()[1]

        async def stop() -> None:
            # A stopped gateway closes its clients' connections too, as a stopped process
            # does (Python 3.11's Server.close leaves accepted connections open and silent).
            server.close()
            for transport in list(endpoint.connections):
                transport.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 1.0)

        endpoint._closers.append(stop)
        self.endpoints.append(endpoint)
        log.info("serving %d device(s) on Modbus TCP %s:%d", len(served), host, endpoint.port)
        return endpoint

    async def serve_rtu(
        self,
        port: str | int,
        settings: LineSettings,
        devices: Iterable[DeviceSpec],
        *,
        wire_time: bool = False,
    ) -> Endpoint:
        """Serve ``devices`` as one RS485 bus (Modbus RTU) on ``port``.

        ``port``: a serial device or pty path (opened with ``settings``, parity dropped on a
        pty), or the fd of a pty's server side (:func:`open_pty_pair`). ``settings`` are the
        requested ones: wire time counts their bits per char.
        """
        label = f"e{len(self.endpoints)}"
        served = self._served(label, devices)
        endpoint = Endpoint(self, label, served, settings, wire_time, True)
        try:
            fd, closer, path = open_serial(port, settings)
        except (OSError, ValueError) as error:
            await endpoint.close()
            raise SimError(f"{port}: {error}") from None
        rtu = RtuPort(fd, endpoint.submit, endpoint.label, endpoint.wire)
        endpoint.path = path
        endpoint._closers += [closer, rtu.close]
        self.endpoints.append(endpoint)
        log.info("serving %d device(s) on Modbus RTU %s", len(served), path)
        return endpoint

    def set_fault(self, address: int, fault: Fault | None) -> None:
        """Set (None: clear) the fault of ``address`` on every endpoint that serves it."""
        hits = [ep for ep in self.endpoints if address in ep.devices]
        if not hits:
            raise SimError(_("no simulated device at address {address}").format(address=address))
        for endpoint in hits:
            endpoint.set_fault(address, fault)

    async def close(self) -> None:
        for endpoint in list(self.endpoints):
            await endpoint.close()


# ----------------------------------------------------------------------------- a site


def site_devices(
    inst: Installation, catalog: Catalog, quality: Mapping[str, str] | None = None
) -> dict[int, tuple[DeviceSpec, ...]]:
    """What to serve for each gateway of an installation (gateway id -> devices).

    Pulse meters are served by their concentrator, at their address, each on its position;
    the two sides of a charging station are one device. ``quality``: the power-quality
    scenario of devices, by name (the site's ``[simulation] quality`` table).
    """
    quality = quality or {}
    out: dict[int, tuple[DeviceSpec, ...]] = {}
    for gw in inst.gateways:
        specs: dict[int, DeviceSpec] = {}
        pulses: dict[int, list[tuple[int, str]]] = {}
        concentrators: dict[int, str] = {}
        for device in inst.devices_of(gw.id):
            model = catalog.find(device.model)
            if model is None:
                continue
            if model.addressing == "pulse":
                if device.concentrator and device.position:
                    pulses.setdefault(device.address, []).append((device.position, model.energy))
                    concentrators.setdefault(device.address, device.concentrator)
                continue
            specs.setdefault(
                device.address,
                DeviceSpec(
                    device.address,
                    model.ref,
                    device.generic,
                    quality=quality.get(device.name, "normal"),
                ),
            )
        for address, inputs in pulses.items():
            base = specs.get(address, DeviceSpec(address, concentrators[address]))
            specs[address] = DeviceSpec(address, base.model, base.generic, tuple(sorted(inputs)))
        out[gw.id] = tuple(specs[a] for a in sorted(specs))
    return out


def describe(endpoints: Sequence[Endpoint]) -> list[str]:
    """One line per endpoint, for logs: where it listens and what it serves."""
    lines = []
    for ep in endpoints:
        where = f"tcp {ep.host}:{ep.port}" if not ep.rtu else f"rtu {ep.path}"
        models = ", ".join(f"{a}={d.model.ref}" for a, d in sorted(ep.devices.items()))
        lines.append(f"{where}: {models}" + (" (wire time)" if ep.wire_time else ""))
    return lines
