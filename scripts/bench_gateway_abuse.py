#!/usr/bin/env python3
"""Gateway-abuse benchmark. Prints ONE JSON line: the local bus's poll period under abuse of
the box's Modbus TCP server, against the same run without it.

The RS485 bus: four EMDX3 meters served by the simulator on a pty at 19200 8E1 with
wire-time emulation (about 40 % of the line's time), polled by the runtime's
:class:`BusPoller` (default settings: 1 s fast period, 300 ms timeout); the box's
:class:`ModbusGatewayServer` (default limits) forwards to it as the runtime does (paced
jobs). The simulator and the abusive clients run in child processes: their CPU is not the
box's.

Three phases of the same length, one after the other:
- ``unloaded``: nobody on the gateway server;
- ``absent``: four clients looping on an absent unit, then 16 abusive connections, each
  from its own loopback address (8 that send nothing, 8 that send a header promising 254
  bytes and stop; each reconnects at once when closed or refused);
- ``present``: two clients looping on a present unit.
In each phase a real pymodbus client connects, reads and leaves every second (from the third
second on); "served" is the time from its first connect attempt to its answer, retries
included.

Figures: the p99 of the local devices' poll period (time between two samples of a device)
over the unloaded p99 (target <= 1.2), and the slowest real client (target < 1 s). Then, for
the record (no target), ``saturated``: the same unloaded and present phases on a bus of 16
meters, whose cycle is longer than the fast period (no idle time for a client's read).
Bounded: each phase lasts ``--phase-s`` seconds (``--quick``: 4, for the test). Usage:
scripts/bench_gateway_abuse.py [--quick] [--phase-s S]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import multiprocessing as mp
import os
import statistics
import struct
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pymodbus.client import AsyncModbusTcpClient

from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.events import Sample
from ews_tui.hub import Hub
from ews_tui.modbus.device_reader import DeviceTarget
from ews_tui.modbus.failures import ReadResult
from ews_tui.modbus.gateway_server import GatewayStats, ModbusGatewayServer
from ews_tui.modbus.planner import BusParams
from ews_tui.modbus.poller import BusPoller
from ews_tui.modbus.transport import BusTransport, RtuEndpoint

MODEL = "0 146 68"
DEVICES = 4
SATURATED_DEVICES = 16  # about 1.6 s of wire time a cycle, for a 1 s fast period
# --quick (the test): a phase still outlasts the server's 2 s read timeout (the half-sent
# connections are cut) and holds a few real-client probes and two saturated cycles.
QUICK_PHASE_S = 4.0
ABSENT_UNIT = 200
TARGET_P99_RATIO = 1.2
TARGET_SERVED_S = 1.0


# ------------------------------------------------------------------ the simulator child


def _sim_child(conn: Any, devices: int) -> None:
    logging.disable(logging.CRITICAL)

    async def main() -> None:
        from ews_tui.modbus.serial_line import LineSettings
        from ews_tui.sim.device import DeviceSpec
        from ews_tui.sim.rtu import open_pty_pair
        from ews_tui.sim.server import SimulatedBus

        async with SimulatedBus(tick=1.0) as bus:
            pair = open_pty_pair()
            specs = [DeviceSpec(a, MODEL) for a in range(1, devices + 1)]
            line = LineSettings("bench", 19200, "E", 1)
            await bus.serve_rtu(pair.server_fd, line, specs, wire_time=True)
            conn.send(pair.path)
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)

    asyncio.run(main())


class Simulator:
    def __init__(self, devices: int) -> None:
        self._parent, child = mp.Pipe()
        self._proc = mp.get_context("spawn").Process(target=_sim_child, args=(child, devices))

    def __enter__(self) -> str:
        self._proc.start()
        if not self._parent.poll(60):
            raise RuntimeError("the simulator did not start")
        path: str = self._parent.recv()
        return path

    def __exit__(self, *exc: object) -> None:
        self._parent.send("stop")
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()


# ------------------------------------------------------------------ the box's side


def targets(count: int) -> list[DeviceTarget]:
    catalog = builtin_catalog()
    model = catalog.find(MODEL)
    assert model is not None
    reg_map = catalog.register_map(model)
    assert reg_map is not None
    return [DeviceTarget(a, a, reg_map, model.ref, reg_map.provenance) for a in range(1, count + 1)]


class Periods:
    """Time between two samples of each device, from the poller's Sample events."""

    def __init__(self, hub: Hub) -> None:
        self._sub = hub.subscribe(Sample, lossless=True, name="bench")
        self._last: dict[int, float] = {}
        self.periods: list[tuple[float, float]] = []  # (when it began, the period)
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        async for event in self._sub:
            assert isinstance(event, Sample)
            now = time.monotonic()
            last = self._last.get(event.device_id)
            if last is not None:
                self.periods.append((last, now - last))
            self._last[event.device_id] = now

    def take(self) -> list[tuple[float, float]]:
        periods, self.periods = self.periods, []
        return periods

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._sub.close()


def p99(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[98]


# ------------------------------------------------------------------ the clients


async def held_connection(
    port: int, source: str, half_sent: bool, stop: asyncio.Event, delay_s: float = 0.0
) -> None:
    """Hold a connection that sends nothing (or half a frame); reconnect at once if closed."""
    await asyncio.sleep(delay_s)
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, local_addr=(source, 0)
            )
        except OSError:
            await asyncio.sleep(0.05)
            continue
        try:
            if half_sent:
                writer.write(struct.pack(">HHHB", 1, 0, 254, 5) + b"\x03\x00")
            stopped = asyncio.ensure_future(stop.wait())
            closed = asyncio.ensure_future(reader.read())
            await asyncio.wait({stopped, closed}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            closed.cancel()
        except OSError:
            pass
        finally:
            writer.close()


async def looping_client(port: int, source: str, unit: int, stop: asyncio.Event) -> int:
    """Read ``unit`` again and again; the number of answers it got."""
    answers = 0
    while not stop.is_set():
        client = AsyncModbusTcpClient(
            "127.0.0.1",
            port=port,
            timeout=2,
            retries=0,
            reconnect_delay=0,
            source_address=(source, 0),
        )
        try:
            if not await client.connect():
                await asyncio.sleep(0.05)
                continue
            while not stop.is_set() and client.connected:
                with contextlib.suppress(Exception):
                    await client.read_holding_registers(0xC558, count=2, device_id=unit)
                    answers += 1
        finally:
            client.close()
    return answers


async def real_client(port: int) -> float:
    """Seconds from the first connect attempt to a valid answer, retries included."""
    started = time.monotonic()
    while time.monotonic() - started < 30:
        client = AsyncModbusTcpClient(
            "127.0.0.1", port=port, timeout=5, retries=0, reconnect_delay=0
        )
        try:
            if await client.connect():
                result = await client.read_holding_registers(0xC558, count=2, device_id=1)
                if not result.isError():
                    return time.monotonic() - started
        except Exception:  # refused or closed: try again, as a SCADA would
            pass
        finally:
            client.close()
        await asyncio.sleep(0.05)
    return float("inf")


# ------------------------------------------------------------------ one phase


def absent_abuse(port: int, stop: asyncio.Event) -> list[Awaitable[Any]]:
    # The looping clients first, then the 16 held connections (which fill the server).
    loops = [looping_client(port, f"127.0.0.{40 + i}", ABSENT_UNIT, stop) for i in range(4)]
    held = [
        held_connection(port, f"127.0.0.{10 + i}", i % 2 == 1, stop, delay_s=0.5) for i in range(16)
    ]
    return [*loops, *held]


def present_abuse(port: int, stop: asyncio.Event) -> list[Awaitable[Any]]:
    return [looping_client(port, f"127.0.0.{50 + i}", 1 + i, stop) for i in range(2)]


ABUSES: dict[str, Callable[[int, asyncio.Event], list[Awaitable[Any]]]] = {
    "absent": absent_abuse,
    "present": present_abuse,
}


def _abuser_child(conn: Any, kind: str, port: int) -> None:
    """Abuse the server (its own process: its CPU is not the box's) until told to stop; send
    back how many answers the looping clients got."""
    logging.disable(logging.CRITICAL)

    async def main() -> int:
        stop = asyncio.Event()
        tasks = [asyncio.ensure_future(a) for a in ABUSES[kind](port, stop)]
        conn.send("started")
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        stop.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        return sum(r for r in results if isinstance(r, int))

    conn.send(asyncio.run(main()))


class Abusers:
    def __init__(self, kind: str | None, port: int) -> None:
        self._parent, child = mp.Pipe()
        self._proc = (
            None
            if kind is None
            else mp.get_context("spawn").Process(target=_abuser_child, args=(child, kind, port))
        )
        self.answers = 0

    def __enter__(self) -> Abusers:
        if self._proc is not None:
            self._proc.start()
            if not self._parent.poll(60):
                raise RuntimeError("the abusers did not start")
            self._parent.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is None:
            return
        self._parent.send("stop")
        if self._parent.poll(30):
            self.answers = self._parent.recv()
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()


async def phase(
    name: str, kind: str | None, port: int, periods: Periods, seconds: float
) -> dict[str, Any]:
    served: list[float] = []
    with Abusers(kind, port) as abusers:
        periods.take()
        began = time.monotonic()
        await asyncio.sleep(min(3.0, seconds / 3))  # the abusers settle in
        while time.monotonic() - began < seconds:
            served.append(await real_client(port))
            await asyncio.sleep(max(0.0, 1.0 - served[-1]))
        # Periods begun in this phase: not one spanning the abusers' start (a new process).
        taken = [(w, d) for w, d in periods.take() if w >= began]
    measured = [period for _when, period in taken]
    longest = sorted(taken, key=lambda t: t[1], reverse=True)[:3]
    return {
        "phase": name,
        "polls": len(measured),
        "period_p99_s": round(p99(measured), 4),
        "period_median_s": round(statistics.median(measured), 4) if measured else None,
        "period_max_s": round(max(measured), 4) if measured else None,
        "longest_periods_at_s": [[round(w - began, 2), round(d, 3)] for w, d in longest],
        "real_client_served_max_s": round(max(served), 4) if served else None,
        "real_client_served_median_s": round(statistics.median(served), 4) if served else None,
        "real_client_probes": len(served),
        "looping_answers": abusers.answers,
    }


# ------------------------------------------------------------------ main


async def run_bus(
    devices: int, phases: list[tuple[str, str | None]], phase_s: float
) -> tuple[dict[str, dict[str, Any]], GatewayStats]:
    """The phases, one after the other, on one simulated bus of ``devices`` meters."""
    with Simulator(devices) as pty:
        hub = Hub()
        endpoint = RtuEndpoint(pty, 19200, "E", 1, timeout_s=0.3)
        bus = BusParams.rtu(19200, "E", 1)
        poller = BusPoller(1, BusTransport(endpoint), hub, targets(devices), bus=bus)

        async def forward(fc: int, unit: int, start: int, count: int) -> ReadResult | int:
            return await poller.read(fc, unit, start, count, paced=True)  # as the runtime does

        server = ModbusGatewayServer("127.0.0.1", 0, forward)
        periods = Periods(hub)
        await poller.start()
        await server.start()
        results: dict[str, dict[str, Any]] = {}
        try:
            await asyncio.sleep(2.0)  # connect, first plans
            for name, kind in phases:
                results[name] = await phase(name, kind, server.bound_port, periods, phase_s)
        finally:
            await server.stop()
            await poller.stop()
            await periods.close()
    base = results["unloaded"]["period_p99_s"]
    for name, figures in results.items():
        if name != "unloaded":
            figures["p99_over_unloaded"] = round(figures["period_p99_s"] / base, 3)
    return results, server.stats


async def main(phase_s: float) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    light, stats = await run_bus(
        DEVICES, [("unloaded", None), ("absent", "absent"), ("present", "present")], phase_s
    )
    # A saturated bus (its cycle is longer than the fast period: no idle time at all).
    busy, _busy_stats = await run_bus(
        SATURATED_DEVICES, [("unloaded", None), ("present", "present")], phase_s
    )
    absent, present = light["absent"], light["present"]
    worst_ratio = max(absent["p99_over_unloaded"], present["p99_over_unloaded"])
    worst_served = max(absent["real_client_served_max_s"], present["real_client_served_max_s"])
    return {
        "bench": "gateway_abuse",
        "devices": DEVICES,
        "phase_s": phase_s,
        "load_1min": round(max(load_before, os.getloadavg()[0]), 2),
        "cpus": os.cpu_count(),
        "unloaded": light["unloaded"],
        "absent": absent,
        "present": present,
        "server": {
            "accepted": stats.accepted,
            "refused": stats.refused,
            "evicted": stats.evicted,
            "idle_closed": stats.idle_closed,
            "read_closed": stats.read_closed,
            "absent_answers": stats.absent_answers,
        },
        "saturated": {"devices": SATURATED_DEVICES, **busy},
        "p99_over_unloaded_worst": worst_ratio,
        "real_client_served_worst_s": worst_served,
        "targets": {"p99_over_unloaded": TARGET_P99_RATIO, "real_client_served_s": TARGET_SERVED_S},
        "ok": worst_ratio <= TARGET_P99_RATIO and worst_served < TARGET_SERVED_S,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 s phases")
    parser.add_argument("--phase-s", type=float, default=30.0, help="seconds per phase")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL, stream=sys.stderr)
    print(json.dumps(asyncio.run(main(QUICK_PHASE_S if args.quick else args.phase_s))))
