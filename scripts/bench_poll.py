#!/usr/bin/env python3
"""Poll benchmark. Prints ONE JSON line of figures, each with its baseline from the same run.

(a) rtu:      an RS485 bus at 19200 8E1 (simulator on a pty with wire-time emulation; 32
              EMDX3 meters, 4 with --quick): the poller's cycle against the WIRE MINIMUM
              measured from what crossed the line, counted at the simulator's side of it
              (bytes each way at 1 start + 8 data + parity + stop bits a character, plus a
              3.5-character silence per frame; not the planner's cost model). Beside it, two
              baselines on the same transport and devices: one read per quantity, and one
              read per device covering its map's span in as few reads as its maximum allows
              (what mbmd and careful integrations do), each with its own measured minimum.
              The poller and the block baseline alternate, best of two windows each.
              The simulated meters take the catalog's turnaround (10 ms) to answer each
              request: that time is the device's, not the wire's, so it is given apart;
              ``rtu_no_turnaround`` is the same bus with devices that answer at once (the
              line itself is then the only floor).
(b) tcp:      100 Modbus TCP gateways x 10 devices on loopback (20 with --quick; the RS485
              lines behind them emulated): every gateway polled at once against the slowest
              single gateway polled alone; then the others' cycle with one gateway that
              refuses connections, and with one that accepts the connection and never
              answers, each over the cycle without it (alternated, best of two each). The
              poller's and the simulator's CPU share (of one core) while all run tell a
              machine taken by other work apart from a saturated poller.
(c) overhead: the cost per request of the poller against a plain pymodbus
              ``AsyncModbusTcpClient`` loop doing the same reads (the poller's own plan,
              checked against what it sent; loopback, no wire time) and the same decode of
              the words into each device's values (the poller's BlockDecoder, built before
              the loop); also against the same loop without the decode
              (``*_vs_undecoded``), and the decode's own CPU per answer. 7 rounds, which
              side goes first rotating, the same 5 ms waker task beside each (the poller's
              cycles are read by one); best of the rounds' medians each, each round's pair,
              and this process's CPU per request on every side (steadier than wall time on
              a loaded machine: compare both with the load average).
(d) dead_device: the longest gap between two samples of a live device while its neighbour on
              the same gateway is silent (the bound: fast interval + one request timeout).
(e) accept_close: connects a minute to a gateway port that accepts, then closes at once,
              with the default reconnect settings, in the first and in the second minute
              (--quick: settings and windows scaled down twentyfold, figures scaled back).

``load_1min_start_end``: the machine's load average, for context (a shared machine slows the
100-gateway run first). The bench reads through the ``BusTransport`` seam only (any Modbus
client behind it). The simulator runs in a child process so its CPU is not the poller's.
Bounded: every part stops by itself (a few cycles each).
Usage: scripts/bench_poll.py [--quick] [--only PART]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import multiprocessing as mp
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

from ews_tui.domain.catalog import Catalog, RegisterMap, builtin_catalog
from ews_tui.hub import Hub
from ews_tui.modbus.codec import BlockDecoder
from ews_tui.modbus.device_reader import DeviceReader, DeviceTarget
from ews_tui.modbus.planner import BusParams, naive_plan
from ews_tui.modbus.poller import BusPoller, PollSettings
from ews_tui.modbus.transport import BusTransport, Failure, RtuEndpoint, TcpEndpoint

MODEL = "0 146 68"
EVERY_PASS = PollSettings(fast_s=0.0, slow_s=0.0, retries=0)
ROUNDS = 2  # alternated measurement rounds; the best of each kind is kept
BAUD, PARITY, STOPBITS = 19200, "E", 1
ReadSpec = tuple[int, int, int, int]  # (address, fc, start, count)

# ------------------------------------------------------------------ the line


@dataclass(frozen=True)
class Line:
    """An RS485 line's settings, and the time on it of what the simulator counted."""

    baud: int = BAUD
    parity: str = PARITY
    stopbits: int = STOPBITS

    @property
    def bits_per_char(self) -> int:
        return 1 + 8 + (0 if self.parity == "N" else 1) + self.stopbits

    @property
    def char_s(self) -> float:
        return self.bits_per_char / self.baud

    @property
    def gap_s(self) -> float:
        """The silence that ends a frame: 3.5 characters (a fixed 1.75 ms above 19200)."""
        return 3.5 * self.char_s if self.baud <= 19200 else 0.00175

    def seconds(self, wire: dict[str, int]) -> float:
        """Time on the line of what crossed it: every byte, plus one silence per frame."""
        chars = wire["bytes_in"] + wire["bytes_out"]
        frames = wire["frames_in"] + wire["frames_out"]
        return chars * self.char_s + frames * self.gap_s


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {key: after[key] - before[key] for key in after}


# ------------------------------------------------------------------ the simulator child


def bench_catalog(turnaround_ms: float | None) -> Catalog:
    """The built-in catalog; with ``turnaround_ms``, every map answers after that long."""
    catalog = builtin_catalog()
    if turnaround_ms is None:
        return catalog
    maps = {k: replace(m, turnaround_ms=turnaround_ms) for k, m in catalog.maps.items()}
    return replace(catalog, maps=maps)


def _sim_child(conn: Any, plan: dict[str, Any]) -> None:
    """Serve what ``plan`` says; send back ports/paths; answer "wire" with the RTU line's
    counts; stop on "stop"."""
    logging.disable(logging.CRITICAL)

    async def main() -> None:
        from ews_tui.modbus.serial_line import LineSettings
        from ews_tui.sim.device import DeviceSpec
        from ews_tui.sim.rtu import open_pty_pair
        from ews_tui.sim.server import SimulatedBus

        line = LineSettings("bench", BAUD, PARITY, STOPBITS)
        catalog = bench_catalog(plan.get("turnaround_ms"))
        silent: list[asyncio.Server] = []

        async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while await reader.read(4096):
                pass  # a gateway that takes every request and answers none
            writer.close()

        async with SimulatedBus(catalog, tick=1.0) as bus:
            answer: dict[str, Any] = {"tcp": [], "silent": []}
            rtu = None
            if plan.get("rtu"):
                pair = open_pty_pair()
                devices = [DeviceSpec(a, MODEL) for a in range(1, plan["rtu"] + 1)]
                rtu = await bus.serve_rtu(pair.server_fd, line, devices, wire_time=True)
                answer["rtu"] = pair.path
            for _ in range(plan.get("gateways", 0)):
                devices = [DeviceSpec(a, MODEL) for a in range(1, plan["per_gateway"] + 1)]
                endpoint = await bus.serve_tcp(
                    "127.0.0.1", 0, devices, wire_time=plan["wire_time"], settings=line
                )
                answer["tcp"].append(endpoint.port)
            for _ in range(plan.get("silent", 0)):
                server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
                silent.append(server)
                answer["silent"].append(server.sockets[0].getsockname()[1])
            conn.send(answer)
            loop = asyncio.get_running_loop()
            while await loop.run_in_executor(None, conn.recv) != "stop":  # "wire"
                conn.send(asdict(rtu.wire) if rtu is not None else {})
            for server in silent:
                server.close()

    asyncio.run(main())


class Simulator:
    """The simulator in a child process; ``wire()`` reads its RTU line's counts."""

    def __init__(self, **plan: Any) -> None:
        self._parent, child = mp.Pipe()
        self._proc = mp.get_context("spawn").Process(target=_sim_child, args=(child, plan))
        self._lock = asyncio.Lock()

    def __enter__(self) -> Simulator:
        self._proc.start()
        if not self._parent.poll(120):
            raise RuntimeError("the simulator did not start")
        self.info: dict[str, Any] = self._parent.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._parent.send("stop")
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()

    def _ask(self) -> dict[str, int]:
        self._parent.send("wire")
        if not self._parent.poll(30):
            raise RuntimeError("the simulator did not answer")
        answer: dict[str, int] = self._parent.recv()
        return answer

    def cpu_s(self) -> float:
        """CPU seconds the simulator process used so far (user + system)."""
        with open(f"/proc/{self._proc.pid}/stat") as stream:
            fields = stream.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def wire(self) -> dict[str, int]:
        """The RTU line's counts now (off the loop: the poller keeps running meanwhile)."""
        async with self._lock:
            return await asyncio.get_running_loop().run_in_executor(None, self._ask)


# ------------------------------------------------------------------ what to read


def targets(addresses: Iterable[int], catalog: Catalog | None = None) -> list[DeviceTarget]:
    catalog = catalog or builtin_catalog()
    model = catalog.find(MODEL)
    assert model is not None
    reg_map = catalog.register_map(model)
    assert reg_map is not None
    return [DeviceTarget(a, a, reg_map, model.ref, reg_map.provenance) for a in addresses]


def block_reads(reg_map: RegisterMap) -> list[tuple[int, int, int]]:
    """One device read the way mbmd does: its map's span per function code, in as few reads
    as the device's maximum allows, never across a span the map marks unreadable (the
    device answers those with exception 02). (fc, start, count) each."""
    limit = min(125, reg_map.max_registers)
    reads: list[tuple[int, int, int]] = []
    for fc in sorted({q.fc for q in reg_map.quantities}):
        blocked = [(lo, hi) for f, lo, hi in reg_map.unreadable if f == fc]
        start = last = -1
        for q in sorted((q for q in reg_map.quantities if q.fc == fc), key=lambda q: q.register):
            end = q.register + q.words - 1
            new_last = max(last, end)
            crosses = any(lo <= new_last and start <= hi for lo, hi in blocked)
            if start < 0 or new_last - start + 1 > limit or crosses:
                if start >= 0:
                    reads.append((fc, start, last - start + 1))
                start, new_last = q.register, end
            last = new_last
        if start >= 0:
            reads.append((fc, start, last - start + 1))
    return reads


def naive_reads(tlist: list[DeviceTarget], bus: BusParams) -> list[ReadSpec]:
    return [
        (t.address, r.fc, r.start, r.count) for t in tlist for r in naive_plan(t.reg_map, bus).reads
    ]


def device_block_reads(tlist: list[DeviceTarget]) -> list[ReadSpec]:
    return [
        (t.address, fc, start, count) for t in tlist for fc, start, count in block_reads(t.reg_map)
    ]


# ------------------------------------------------------------------ measuring


@dataclass(frozen=True)
class Window:
    """``cycles`` whole cycles: how long they took and what crossed the line meanwhile."""

    cycles: int
    elapsed_s: float
    wire: dict[str, int]

    def cycle_s(self) -> float:
        return self.elapsed_s / self.cycles

    def figures(self, line: Line, turnaround_ms: float) -> dict[str, Any]:
        wire_min = line.seconds(self.wire) / self.cycles
        answered = self.wire["frames_out"] / self.cycles
        floor = wire_min + answered * turnaround_ms / 1e3
        cycle = self.elapsed_s / self.cycles
        return {
            "cycle_s": round(cycle, 4),
            "wire_min_s": round(wire_min, 4),
            "cycle_over_wire_min": round(cycle / wire_min, 3),
            "turnaround_s": round(floor - wire_min, 4),
            "cycle_over_wire_min_and_turnaround": round(cycle / floor, 3),
            "requests_per_cycle": round(self.wire["frames_in"] / self.cycles, 1),
            "answers_per_cycle": round(answered, 1),
            "bytes_per_cycle": round(
                (self.wire["bytes_in"] + self.wire["bytes_out"]) / self.cycles
            ),
        }


async def poller_window(poller: BusPoller, sim: Simulator, cycles: int) -> Window:
    """Start ``poller``; after a warm-up cycle, time ``cycles`` cycles and count the line."""
    await asyncio.sleep(0.5)  # the answer to a stopped master's last request goes by first
    await poller.start()
    try:
        async with asyncio.timeout(600):
            while poller.stats.cycles < 1:
                await asyncio.sleep(0.001)
            first = poller.stats.cycles
            t0, w0 = time.monotonic(), await sim.wire()
            while poller.stats.cycles < first + cycles:
                await asyncio.sleep(0.001)
            t1, w1 = time.monotonic(), await sim.wire()
    finally:
        await poller.stop()
    return Window(cycles, t1 - t0, delta(w1, w0))


async def loop_window(
    endpoint: RtuEndpoint, reads: list[ReadSpec], sim: Simulator, cycles: int
) -> Window:
    """A baseline master: ``reads`` in a loop on the same transport, ``cycles`` times."""
    await asyncio.sleep(0.5)  # the answer to a stopped master's last request goes by first
    transport = BusTransport(endpoint)
    failure = await transport.connect()
    assert failure is None, failure
    try:
        address, fc, start, count = reads[0]
        await transport.read(fc, address, start, count)  # warm-up
        t0, w0 = time.monotonic(), await sim.wire()
        for _ in range(cycles):
            for address, fc, start, count in reads:
                result = await transport.read(fc, address, start, count)
                if isinstance(result, Failure):
                    raise RuntimeError(f"baseline read {fc} {address} {start}+{count}: {result}")
        t1, w1 = time.monotonic(), await sim.wire()
    finally:
        await transport.close()
    return Window(cycles, t1 - t0, delta(w1, w0))


async def bench_rtu(
    devices: int, cycles: int, *, baselines: bool, turnaround_ms: float | None
) -> dict[str, Any]:
    """The poller and the block baseline alternate (best of ``ROUNDS`` windows each), so a
    load change on the machine hits both; the per-quantity baseline runs once."""
    line = Line()
    bus = BusParams.rtu(line.baud, line.parity, line.stopbits)
    catalog = bench_catalog(turnaround_ms)
    tlist = targets(range(1, devices + 1), catalog)
    turnaround = tlist[0].reg_map.turnaround_ms
    out: dict[str, Any] = {
        "devices": devices,
        "line": f"{line.baud} 8{line.parity}{line.stopbits}",
        "device_turnaround_ms": turnaround,
    }
    with Simulator(rtu=devices, turnaround_ms=turnaround_ms) as sim:
        endpoint = RtuEndpoint(
            sim.info["rtu"], line.baud, line.parity, line.stopbits, timeout_s=0.5
        )
        ours: list[Window] = []
        block: list[Window] = []
        for _ in range(ROUNDS):
            poller = BusPoller(
                1, BusTransport(endpoint), Hub(), tlist, bus=bus, settings=EVERY_PASS
            )
            ours.append(await poller_window(poller, sim, cycles))
            if baselines:
                block.append(await loop_window(endpoint, device_block_reads(tlist), sim, cycles))
        best = min(ours, key=Window.cycle_s).figures(line, turnaround)
        out.update(best)
        if baselines:
            per_quantity = naive_reads(tlist, bus)
            quantity = await loop_window(endpoint, per_quantity, sim, max(1, cycles // 3))
            for name, window in (("per_device_block", min(block, key=Window.cycle_s)),
                                 ("per_quantity", quantity)):  # fmt: skip
                base = window.figures(line, turnaround)
                base["cycle_over_ours"] = round(base["cycle_s"] / best["cycle_s"], 3)
                out[f"baseline_{name}"] = base
    return out


async def cycles_of(
    pollers: list[BusPoller], count: int, timeout: float = 300, *, skip: int = 0
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


def tcp_pollers(
    ports: list[int], per_gateway: int, first_port: int | None = None
) -> list[BusPoller]:
    """One poller per gateway; ``first_port``: the first gateway is at that port instead."""
    hub = Hub()
    bus = BusParams.rtu(BAUD, PARITY, STOPBITS)
    pollers = []
    for index, port in enumerate(ports):
        where = first_port if index == 0 and first_port is not None else port
        endpoint = TcpEndpoint("127.0.0.1", where, timeout_s=1.0)
        transport = BusTransport(endpoint)
        gateway = targets(range(1, per_gateway + 1))
        pollers.append(BusPoller(index + 1, transport, hub, gateway, bus=bus, settings=EVERY_PASS))
    return pollers


async def bench_tcp(gateways: int, per_gateway: int, cycles: int) -> dict[str, Any]:
    """All gateways at once against the slowest one alone; then the others' cycle with the
    first gateway refusing connections (port 1 on loopback refuses: its poller keeps
    reconnecting) and accepting but never answering, each over the others' cycle with it
    answering. The three runs alternate ``ROUNDS`` times; the best of each is kept."""
    with Simulator(gateways=gateways, per_gateway=per_gateway, wire_time=True, silent=1) as sim:
        ports: list[int] = sim.info["tcp"]
        silent_port: int = sim.info["silent"][0]
        singles = []
        for port in ports[:3]:  # a few gateways alone: the slowest is the baseline
            singles += await cycles_of(tcp_pollers([port], per_gateway), cycles)
        slowest_single = max(singles)
        every, others, refused, silent, cpu, sim_cpu = [], [], [], [], [], []
        for _ in range(ROUNDS):
            wall, used, sim_used = time.monotonic(), time.process_time(), sim.cpu_s()
            cycles_all = await cycles_of(tcp_pollers(ports, per_gateway), cycles)
            wall = time.monotonic() - wall
            cpu.append((time.process_time() - used) / wall)
            sim_cpu.append((sim.cpu_s() - sim_used) / wall)
            every.append(max(cycles_all))
            others.append(max(cycles_all[1:]))
            pollers = tcp_pollers(ports, per_gateway, 1)
            refused.append(max(await cycles_of(pollers, cycles, skip=1)))
            pollers = tcp_pollers(ports, per_gateway, silent_port)
            silent.append(max(await cycles_of(pollers, cycles, skip=1)))
    worst, without = min(every), min(others)
    return {
        "gateways": gateways,
        "devices_per_gateway": per_gateway,
        "slowest_single_cycle_s": round(slowest_single, 4),
        "all_cycle_s": round(worst, 4),
        "all_over_single": round(worst / slowest_single, 3),
        "poller_process_cpu_share_all": round(max(cpu), 2),
        "simulator_process_cpu_share_all": round(max(sim_cpu), 2),
        "others_cycle_s": round(without, 4),
        "refusing_gateway_others_cycle_s": round(min(refused), 4),
        "refusing_over_without": round(min(refused) / without, 3),
        "silent_gateway_others_cycle_s": round(min(silent), 4),
        "silent_over_without": round(min(silent) / without, 3),
    }


@dataclass(frozen=True)
class Run:
    """One side's run of the overhead bench: the times of the cycles it saw (the first,
    with the connection and the plans, left out), and the CPU time this process used
    while it sent ``requests`` requests."""

    cycles_s: list[float]
    requests: int
    cpu_s: float

    def cycle_s(self) -> float:
        return statistics.median(self.cycles_s)

    def cpu_per_request_s(self) -> float:
        return self.cpu_s / self.requests


async def _beside(work: Awaitable[Run]) -> Run:
    """``work`` with a waker beside it: the poller's cycles are read by a task that wakes
    every 5 ms (:func:`poller_run`'s own loop), so a plain loop gets one too (and only it:
    the poller's side has its reader, not a second waker)."""

    async def waker() -> None:
        while True:
            await asyncio.sleep(0.005)

    task = asyncio.create_task(waker())
    try:
        return await work
    finally:
        task.cancel()


# A plain loop's read: (pymodbus's read method, address, start, count, how its words
# become values, whether it is a device's first read)
PlainCall = tuple[Any, int, int, int, Callable[[dict[str, Any], Any], None] | None, bool]


def _keep(values: dict[str, Any], words: Any) -> None:
    """The undecoded loop's "decode": nothing."""


async def plain_pymodbus(port: int, steps: list[Step], count: int, *, decode: bool) -> Run:
    """A plain pymodbus loop doing ``steps`` ``count`` times after a warm-up cycle: the
    client pymodbus documents, its retries off (the poller's too), the reads, a check that
    each was answered and, with ``decode``, the same decode of the words into each device's
    values as the poller's (its own :class:`BlockDecoder`, built once before the loop: the
    fastest decode we have, so the baseline a sceptic would pick)."""
    from pymodbus.client import AsyncModbusTcpClient

    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=1, retries=0)
    await client.connect()
    holding, inputs = client.read_holding_registers, client.read_input_registers
    calls: list[PlainCall] = [
        (holding if s.fc == 3 else inputs, s.address, s.start, s.count,
         s.decoder.decode_into if decode else _keep, s.first)
        for s in steps
    ]  # fmt: skip
    times: list[float] = []
    values: dict[str, Any] = {}
    try:
        for call, address, start, n, _decode, _first in calls:  # warm-up
            await call(start, count=n, device_id=address)
        cpu = time.process_time()
        for _ in range(count):
            started = time.monotonic()
            for call, address, start, n, decode_into, first in calls:
                result = await call(start, count=n, device_id=address)
                if result.isError():
                    raise RuntimeError(f"plain read {address} {start}+{n}: {result}")
                if first:
                    values = {}  # a device's values, as the poller's Sample carries
                decode_into(values, result.registers)
            times.append(time.monotonic() - started)
        cpu = time.process_time() - cpu
    finally:
        client.close()
    return Run(times, count * len(calls), cpu)


async def poller_run(port: int, tlist: list[DeviceTarget], count: int) -> Run:
    """Our poller on the same reads: ``count`` cycles seen after a warm-up one, each
    cycle's time as the poller measures it (the same clock as the plain loop's, around the
    same reads; a cycle that ended while the waker slept is not seen, and not counted).
    Every cycle sends exactly the plain loop's reads (checked)."""
    (poller,) = tcp_pollers([port], len(tlist))
    await poller.start()
    times: list[float] = []
    try:
        async with asyncio.timeout(300):
            while poller.stats.cycles < 1:
                await asyncio.sleep(0.005)
            first, cpu = poller.stats, time.process_time()
            seen = first.cycles
            while len(times) < count:
                await asyncio.sleep(0.005)
                stats = poller.stats
                if stats.cycles == seen + 1:
                    times.append(stats.last_cycle_s)
                seen = stats.cycles
            cpu = time.process_time() - cpu
            last = poller.stats
    finally:
        await poller.stop()
    cycles, sent = last.cycles - first.cycles, last.transactions - first.transactions
    per_cycle = len(overhead_reads(tlist))
    if abs(sent - cycles * per_cycle) >= per_cycle:  # the window ends mid-cycle at most
        raise RuntimeError(f"the poller sent {sent} reads in {cycles} cycles of {per_cycle}")
    return Run(times, sent, cpu)


@dataclass(frozen=True)
class Step:
    """One read of a cycle of the poller, with the decoder of its words."""

    address: int
    fc: int
    start: int
    count: int
    decoder: BlockDecoder
    first: bool  # the device's first read of the cycle


def overhead_steps(tlist: list[DeviceTarget]) -> list[Step]:
    """The reads of a cycle of the poller (fast and slow due: one merged plan a device)."""
    bus = BusParams.rtu(BAUD, PARITY, STOPBITS)  # what tcp_pollers gives the pollers
    steps = []
    for t in tlist:
        by_id = {q.id: q for q in t.reg_map.quantities}
        for index, r in enumerate(DeviceReader(t, bus).plan(("fast", "slow")).reads):
            quantities = [by_id[qid] for qid in r.quantities]
            decoder = BlockDecoder(quantities, r.start, r.count, t.reg_map)
            steps.append(Step(t.address, r.fc, r.start, r.count, decoder, index == 0))
    return steps


def overhead_reads(tlist: list[DeviceTarget]) -> list[ReadSpec]:
    return [(s.address, s.fc, s.start, s.count) for s in overhead_steps(tlist)]


def decode_cpu_per_request_s(steps: list[Step], repeat: int = 2000) -> float:
    """CPU seconds the decode of one answer takes (the words of a meter's usual answer,
    decoded ``repeat`` times per read): what decoding adds to the plain loop."""
    answers = [(s.decoder.decode_into, [0x1234] * s.count) for s in steps]
    values: dict[str, Any] = {}
    cpu = time.process_time()
    for _ in range(repeat):
        for decode_into, words in answers:
            decode_into(values, words)
    return (time.process_time() - cpu) / (repeat * len(answers))


async def bench_overhead(devices: int, cycles: int, rounds: int) -> dict[str, Any]:
    """The poller's cost per request over a plain pymodbus loop's, same reads against the
    same simulator (loopback, no wire time). ``overhead``: over a plain loop that decodes
    the words into values as the poller does (like with like: both end with the values);
    ``overhead_vs_undecoded``: over one that only checks each answer. The three alternate
    ``rounds`` times, which one goes first rotating, so a load change on the machine hits
    each; each side's figure is the best (lowest) of its rounds' medians, as a noisy machine
    only adds time; ``*_median_round``: the median of the rounds' pairs (the poller's over
    the decoding loop's of the same round), the other fair summary. ``overhead_cpu``: the
    same from the CPU time this process used (the simulator's is apart), steadier on a
    loaded machine."""
    tlist = targets(range(1, devices + 1))
    steps = overhead_steps(tlist)
    runs: dict[str, list[Run]] = {"plain": [], "undecoded": [], "ours": []}

    def side(name: str, port: int) -> Awaitable[Run]:
        if name == "ours":  # its cycles' reader wakes every 5 ms: the plain loops' waker
            return poller_run(port, tlist, cycles)
        return _beside(plain_pymodbus(port, steps, cycles, decode=name == "plain"))

    with Simulator(gateways=1, per_gateway=devices, wire_time=False) as sim:
        port = sim.info["tcp"][0]
        names = list(runs)
        for index in range(rounds):
            for name in names[index % 3 :] + names[: index % 3]:
                runs[name].append(await side(name, port))
    requests = len(steps)

    def best(name: str) -> tuple[float, float]:
        return (min(r.cycle_s() for r in runs[name]),
                min(r.cpu_per_request_s() for r in runs[name]))  # fmt: skip

    (base, base_cpu), (bare, bare_cpu), (poller, poller_cpu) = map(best, names)
    paired = [
        o.cycle_s() / p.cycle_s() - 1 for p, o in zip(runs["plain"], runs["ours"], strict=True)
    ]
    paired_cpu = [o.cpu_per_request_s() / p.cpu_per_request_s() - 1
                  for p, o in zip(runs["plain"], runs["ours"], strict=True)]  # fmt: skip
    return {
        "devices": devices,
        "requests_per_cycle": requests,
        "rounds": rounds,
        "cycles_per_round": cycles,
        "plain_pymodbus_cycle_s": round(base, 5),
        "poller_cycle_s": round(poller, 5),
        "plain_pymodbus_us_per_request": round(base / requests * 1e6, 1),
        "undecoded_pymodbus_us_per_request": round(bare / requests * 1e6, 1),
        "poller_us_per_request": round(poller / requests * 1e6, 1),
        "overhead": round(poller / base - 1, 3),
        "overhead_median_round": round(statistics.median(paired), 3),
        "overhead_per_round": [round(x, 3) for x in paired],
        "overhead_vs_undecoded": round(poller / bare - 1, 3),
        "plain_pymodbus_cpu_us_per_request": round(base_cpu * 1e6, 1),
        "undecoded_pymodbus_cpu_us_per_request": round(bare_cpu * 1e6, 1),
        "poller_cpu_us_per_request": round(poller_cpu * 1e6, 1),
        "decode_cpu_us_per_request": round(decode_cpu_per_request_s(steps) * 1e6, 2),
        "overhead_cpu": round(poller_cpu / base_cpu - 1, 3),
        "overhead_cpu_median_round": round(statistics.median(paired_cpu), 3),
        "overhead_cpu_per_round": [round(x, 3) for x in paired_cpu],
        "overhead_cpu_vs_undecoded": round(poller_cpu / bare_cpu - 1, 3),
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
        transport = BusTransport(TcpEndpoint("127.0.0.1", endpoint.port or 0, timeout_s))
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


PARTS: dict[str, Callable[[bool], Awaitable[dict[str, Any]]]] = {
    "rtu": lambda q: bench_rtu(4 if q else 32, 3, baselines=True, turnaround_ms=None),
    "rtu_no_turnaround": lambda q: bench_rtu(4 if q else 32, 3, baselines=False, turnaround_ms=0.0),
    "tcp": lambda q: bench_tcp(20 if q else 100, 3 if q else 10, 2 if q else 4),
    "overhead": lambda q: bench_overhead(10, 10 if q else 50, 3 if q else 7),
    "dead_device": lambda q: bench_dead_device(10 if q else 50),
    "accept_close": lambda q: bench_accept_close(0.05 if q else 1.0),
}


async def main(quick: bool, only: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"bench": "poll", "quick": quick, "cpus": os.cpu_count()}
    load = [os.getloadavg()[0]]
    for name, part in PARTS.items():
        if only is None or only == name:
            out[name] = await part(quick)
    load.append(os.getloadavg()[0])
    out["load_1min_start_end"] = [round(x, 2) for x in load]  # the machine's, for context
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer devices, gateways, cycles")
    parser.add_argument("--only", choices=list(PARTS), help="one part")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    print(json.dumps(asyncio.run(main(args.quick, args.only))))
