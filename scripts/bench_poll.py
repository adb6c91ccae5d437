#!/usr/bin/env python3
"""Poll benchmark. Prints ONE JSON line of figures, each with its baseline from the same run.

(a) rtu:      32 EMDX3 meters on an RS485 bus at 19200 8E1 (simulator on a pty with wire-time
              emulation): the poller's cycle time against the plan's wire-time minimum, and the
              same for a baseline reading one quantity per transaction.
(b) tcp:      100 Modbus TCP gateways x 10 devices on loopback (wire time of their RS485 lines
              emulated): the cycle of every gateway polled at once against the slowest single
              gateway polled alone, and again with one gateway dead.
(c) overhead: the poller against a plain pymodbus read loop doing the same reads (loopback,
              no wire time).
(d) dead_device: the longest gap between two samples of a live device while its neighbour on
              the same gateway is silent (the bound: fast interval + one request timeout).
(e) accept_close: connects a minute to a gateway port that accepts, then closes at once,
              with the default reconnect settings, in the first and in the second minute
              (--quick: settings and windows scaled down tenfold, figures scaled back).

The simulator runs in a child process so its CPU is not the poller's. Bounded: every part
stops by itself (a few cycles each). Usage: scripts/bench_poll.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import multiprocessing as mp
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from ews_tui.domain.catalog import builtin_catalog
from ews_tui.hub import Hub
from ews_tui.modbus.device_reader import DeviceTarget
from ews_tui.modbus.planner import BusParams, naive_plan, plan_all, plan_cost
from ews_tui.modbus.poller import BusPoller, PollSettings
from ews_tui.modbus.transport import BusTransport, RtuEndpoint, TcpEndpoint

MODEL = "0 146 68"
EVERY_PASS = PollSettings(fast_s=0.0, slow_s=0.0, retries=0)

# ------------------------------------------------------------------ the simulator child


def _sim_child(conn: Any, plan: dict[str, Any]) -> None:
    """Serve what ``plan`` says; send back ports/paths; stop when the parent says so."""
    logging.disable(logging.CRITICAL)

    async def main() -> None:
        from ews_tui.modbus.serial_line import LineSettings
        from ews_tui.sim.device import DeviceSpec
        from ews_tui.sim.rtu import open_pty_pair
        from ews_tui.sim.server import SimulatedBus

        line = LineSettings("bench", 19200, "E", 1)
        async with SimulatedBus(tick=1.0) as bus:
            answer: dict[str, Any] = {"tcp": []}
            if plan.get("rtu"):
                pair = open_pty_pair()
                devices = [DeviceSpec(a, MODEL) for a in range(1, plan["rtu"] + 1)]
                await bus.serve_rtu(pair.server_fd, line, devices, wire_time=True)
                answer["rtu"] = pair.path
            for _ in range(plan.get("gateways", 0)):
                devices = [DeviceSpec(a, MODEL) for a in range(1, plan["per_gateway"] + 1)]
                endpoint = await bus.serve_tcp(
                    "127.0.0.1", 0, devices, wire_time=plan["wire_time"], settings=line
                )
                answer["tcp"].append(endpoint.port)
            conn.send(answer)
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)

    asyncio.run(main())


class Simulator:
    def __init__(self, **plan: Any) -> None:
        self._parent, child = mp.Pipe()
        self._proc = mp.get_context("spawn").Process(target=_sim_child, args=(child, plan))

    def __enter__(self) -> dict[str, Any]:
        self._proc.start()
        if not self._parent.poll(60):
            raise RuntimeError("the simulator did not start")
        return self._parent.recv()

    def __exit__(self, *exc: object) -> None:
        self._parent.send("stop")
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()


# ------------------------------------------------------------------ measuring


def targets(addresses: Iterable[int]) -> list[DeviceTarget]:
    catalog = builtin_catalog()
    model = catalog.find(MODEL)
    assert model is not None
    reg_map = catalog.register_map(model)
    assert reg_map is not None
    return [DeviceTarget(a, a, reg_map, model.ref, reg_map.provenance) for a in addresses]


async def cycles_of(
    pollers: list[BusPoller], count: int, timeout: float = 120, *, skip: int = 0
) -> list[float]:
    """Run the pollers until each measured one finished ``count`` cycles after a warm-up
    one; the median cycle of each, in seconds. The first ``skip`` pollers run unmeasured."""
    for poller in pollers:
        await poller.start()
    measured = pollers[skip:]
    durations: dict[int, list[float]] = {id(p): [] for p in measured}
    seen = {id(p): 0 for p in measured}
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for p in measured:
                stats = p.stats
                if stats.cycles > seen[id(p)]:
                    if seen[id(p)] >= 1:  # skip the warm-up (connect, first plans)
                        durations[id(p)].append(stats.last_cycle_s)
                    seen[id(p)] = stats.cycles
            if all(len(d) >= count for d in durations.values()):
                break
            await asyncio.sleep(0.005)
    finally:
        for poller in pollers:
            await poller.stop()
    return [statistics.median(d) for d in durations.values() if d]


async def naive_cycle(
    endpoint: RtuEndpoint, tlist: list[DeviceTarget], count: int
) -> tuple[float, int]:
    """Baseline: one transaction per quantity, same transport, same devices."""
    transport = BusTransport(endpoint)
    failure = await transport.connect()
    assert failure is None, failure
    bus = BusParams.rtu(19200, "E", 1)
    reads = [(t.address, r) for t in tlist for r in naive_plan(t.reg_map, bus).reads]
    times = []
    try:
        for _ in range(count + 1):
            started = time.monotonic()
            for address, read in reads:
                await transport.read(read.fc, address, read.start, read.count)
            times.append(time.monotonic() - started)
    finally:
        await transport.close()
    return statistics.median(times[1:]), len(reads)


async def bench_rtu(devices: int, cycles: int) -> dict[str, Any]:
    bus = BusParams.rtu(19200, "E", 1)
    tlist = targets(range(1, devices + 1))
    plan_min = sum(plan_cost(plan_all(t.reg_map, bus)) for t in tlist)
    plan_reads = sum(len(plan_all(t.reg_map, bus).reads) for t in tlist)
    naive_min = sum(plan_cost(naive_plan(t.reg_map, bus)) for t in tlist)
    with Simulator(rtu=devices) as sim:
        endpoint = RtuEndpoint(sim["rtu"], 19200, "E", 1, timeout_s=0.5)
        poller = BusPoller(1, BusTransport(endpoint), Hub(), tlist, bus=bus, settings=EVERY_PASS)
        [cycle] = await cycles_of([poller], cycles)
        naive, naive_reads = await naive_cycle(endpoint, tlist, max(1, cycles // 2))
    return {
        "devices": devices,
        "cycle_s": round(cycle, 4),
        "wire_min_s": round(plan_min, 4),
        "cycle_over_wire_min": round(cycle / plan_min, 3),
        "transactions": plan_reads,
        "baseline_cycle_s": round(naive, 4),
        "baseline_wire_min_s": round(naive_min, 4),
        "baseline_transactions": naive_reads,
        "transactions_ratio": round(naive_reads / plan_reads, 2),
        "cycle_speedup": round(naive / cycle, 2),
    }


def tcp_pollers(ports: list[int], per_gateway: int, dead: Iterable[int] = ()) -> list[BusPoller]:
    hub = Hub()
    bus = BusParams.rtu(19200, "E", 1)
    pollers = []
    for index, port in enumerate(ports):
        endpoint = TcpEndpoint("127.0.0.1", 1 if index in dead else port, timeout_s=1.0)
        pollers.append(
            BusPoller(
                index + 1,
                BusTransport(endpoint),
                hub,
                targets(range(1, per_gateway + 1)),
                bus=bus,
                settings=EVERY_PASS,
            )
        )
    return pollers


async def bench_tcp(gateways: int, per_gateway: int, cycles: int) -> dict[str, Any]:
    with Simulator(gateways=gateways, per_gateway=per_gateway, wire_time=True) as sim:
        ports = sim["tcp"]
        singles = []
        for port in ports[:3]:  # a few gateways alone: the slowest is the baseline
            singles += await cycles_of(tcp_pollers([port], per_gateway), cycles)
        slowest_single = max(singles)
        all_at_once = await cycles_of(tcp_pollers(ports, per_gateway), cycles)
        # Port 1 on loopback refuses: a dead gateway (the poller keeps reconnecting).
        with_dead = await cycles_of(tcp_pollers(ports, per_gateway, dead={0}), cycles, skip=1)
    worst = max(all_at_once)
    worst_dead = max(with_dead)
    return {
        "gateways": gateways,
        "devices_per_gateway": per_gateway,
        "slowest_single_cycle_s": round(slowest_single, 4),
        "all_cycle_s": round(worst, 4),
        "all_over_single": round(worst / slowest_single, 3),
        "one_dead_cycle_s": round(worst_dead, 4),
        "one_dead_over_all": round(worst_dead / worst, 3),
    }


async def plain_pymodbus(port: int, tlist: list[DeviceTarget], count: int) -> float:
    from pymodbus.client import AsyncModbusTcpClient

    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=1, retries=0)
    await client.connect()
    bus = BusParams()
    reads = [(t.address, r) for t in tlist for r in plan_all(t.reg_map, bus).reads]
    times = []
    try:
        for _ in range(count + 1):
            started = time.monotonic()
            for address, read in reads:
                call: Callable[..., Any] = (
                    client.read_holding_registers if read.fc == 3 else client.read_input_registers
                )
                result = await call(read.start, count=read.count, device_id=address)
                assert not result.isError()
            times.append(time.monotonic() - started)
    finally:
        client.close()
    return statistics.median(times[1:])


async def bench_overhead(devices: int, cycles: int) -> dict[str, Any]:
    with Simulator(gateways=1, per_gateway=devices, wire_time=False) as sim:
        port = sim["tcp"][0]
        tlist = targets(range(1, devices + 1))
        plain = await plain_pymodbus(port, tlist, cycles)
        [poller] = await cycles_of(tcp_pollers([port], devices), cycles)
        plain_again = await plain_pymodbus(port, tlist, cycles)
    baseline = min(plain, plain_again)
    return {
        "devices": devices,
        "plain_pymodbus_cycle_s": round(baseline, 5),
        "poller_cycle_s": round(poller, 5),
        "overhead": round(poller / baseline - 1, 3),
    }


async def bench_dead_device(samples: int) -> dict[str, Any]:
    from ews_tui.domain.events import Sample
    from ews_tui.sim.server import DeviceSpec, Fault, SimulatedBus

    settings = PollSettings(fast_s=0.05, slow_s=0.3, backoff_start_s=0.05, backoff_max_s=0.2)
    timeout_s = 0.1
    async with SimulatedBus() as sim:
        endpoint = await sim.serve_tcp("127.0.0.1", 0, [DeviceSpec(5, MODEL), DeviceSpec(6, MODEL)])
        endpoint.set_fault(6, Fault("silent"))
        hub = Hub()
        events = hub.subscribe(lossless=True, name="bench")
        transport = BusTransport(TcpEndpoint("127.0.0.1", endpoint.port, timeout_s))
        poller = BusPoller(2, transport, hub, targets([5, 6]), bus=BusParams(transport="tcp"),
                           settings=settings)  # fmt: skip
        await poller.start()
        times: list[float] = []
        try:
            async for event in events:
                if isinstance(event, Sample) and event.device_id == 5:
                    times.append(time.monotonic())
                    if len(times) > samples:
                        break
        finally:
            await poller.stop()
    gaps = [b - a for a, b in itertools.pairwise(times[1:])]  # skip the first
    return {
        "max_gap_s": round(max(gaps), 4),
        "bound_s": settings.fast_s + timeout_s,
        "median_gap_s": round(statistics.median(gaps), 4),
    }


async def bench_accept_close(scale: float) -> dict[str, Any]:
    """Connects a minute to a port that accepts, then closes (``scale`` < 1 shrinks time)."""
    defaults = PollSettings()
    settings = PollSettings(
        reconnect_start_s=defaults.reconnect_start_s * scale,
        reconnect_max_s=defaults.reconnect_max_s * scale,
        reconnect_stable_s=defaults.reconnect_stable_s * scale,
    )

    accepted = 0

    async def slam(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        writer.close()

    server = await asyncio.start_server(slam, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = BusTransport(TcpEndpoint("127.0.0.1", port, timeout_s=1.0 * scale))
    poller = BusPoller(1, transport, Hub(), targets([1]), bus=BusParams(transport="tcp"),
                       settings=settings)  # fmt: skip
    minute = 60.0 * scale
    await poller.start()
    try:
        await asyncio.sleep(minute)
        first = accepted
        await asyncio.sleep(minute)
        second = accepted - first
    finally:
        await poller.stop()
        server.close()
        await server.wait_closed()
    return {"first_minute_connects": first, "second_minute_connects": second, "scale": scale}


async def main(quick: bool) -> dict[str, Any]:
    cycles = 3 if quick else 5
    return {
        "bench": "poll",
        "rtu": await bench_rtu(32, cycles),
        "tcp": await bench_tcp(20 if quick else 100, 10, cycles),
        "overhead": await bench_overhead(10, 20 if quick else 50),
        "dead_device": await bench_dead_device(20 if quick else 50),
        "accept_close": await bench_accept_close(0.1 if quick else 1.0),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer gateways and cycles")
    parser.add_argument("--only", choices=["dead_device", "accept_close"], help="one part")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    if args.only == "dead_device":
        print(json.dumps(asyncio.run(bench_dead_device(20 if args.quick else 50))))
    elif args.only == "accept_close":
        print(json.dumps(asyncio.run(bench_accept_close(0.1 if args.quick else 1.0))))
    else:
        print(json.dumps(asyncio.run(main(args.quick))))
