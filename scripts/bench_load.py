#!/usr/bin/env python3
"""Busy-site load bench (issue 11): ten SSH sessions typing while the buses are polled.

Three processes, all on loopback:
- this one serves the demo site's simulated devices (the Local RS485 bus on a pty with
  wire-time emulation at 19200 bps, two IP gateways over Modbus TCP) and times every request
  that reads a device's fast quantity (V1): the poll periods are measured on the wire side,
  from what the box actually sent;
- ``ews serve`` on a temp data dir polls them and serves SSH; its CPU is read from
  ``/proc/PID/stat`` (utime + stime over the window);
- a client process (this script, ``--clients``) opens asyncssh PTY sessions at 80x24, logs
  in, opens a screen and types ``--keys-per-s`` keys a second in each session.

Phases, each ``--window`` seconds: ``unloaded`` (no session), ``live`` (the sessions on
Live measures pressing ↓↓↓↑↑↑ in the device list), ``consumption`` (the sessions on
Consumption Total / Partial / Details in turn, pressing ←←→→ to move the period).
Per phase: the poll period p99 of the RTU bus and of the TCP gateways, the false
communication errors (devices and gateways shown in communication error in the box's CSV
events log: the simulators inject no fault, so every one is false), the CPU of ``ews serve``
in % of one core, the keys typed. The JSON line carries the loaded phases' ratios against
the unloaded one. Targets: period p99 ≤ 1.1× unloaded, 0 false errors, CPU ≤ 50 %.

``--profile FILE`` runs ``ews serve`` under cProfile (stats written at its clean stop), or
under pyinstrument with ``--profiler pyinstrument`` (a sampling profiler, installed on its own:
``.venv/bin/pip install pyinstrument``; FILE ``.txt``, ``.html`` or ``.pyisession``).
``--only live`` (or ``consumption``) runs the unloaded phase and that loaded phase alone.
Usage: scripts/bench_load.py [--quick] [--sessions N] [--window S] [--only PHASE]
[--profile FILE [--profiler cprofile|pyinstrument]]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import os
import re
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

PIN = "24680"
PUK = "13579 2468 13579"
USER = "bench"
LIVE_KEYS = ("\x1b[B",) * 3 + ("\x1b[A",) * 3  # ↓↓↓↑↑↑ in the device list
PERIOD_KEYS = ("\x1b[D", "\x1b[D", "\x1b[C", "\x1b[C")  # ←←→→
FAST = "v1"  # one read of it is one poll of its device
PHASE_TIMEOUT_S = 120.0
LOADED_PHASES = ("live", "consumption")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as stream:
        fields = stream.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------- the client process


class Session:
    """One PTY session; keeps the tail of its output to wait for a text."""

    def __init__(self, conn: Any, process: Any) -> None:
        self.conn, self.process = conn, process
        self.tail = ""
        self.received = 0
        self.changed = asyncio.Event()
        self._pump = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while data := await self.process.stdout.read(65536):
            self.received += len(data)
            self.tail = (self.tail + data)[-20000:]
            self.changed.set()

    async def wait_for(self, text: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.tail:
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                print(f"bench_load: no {text!r} in {self.tail[-3000:]!r}", file=sys.stderr)
                raise

    def type(self, keys: str) -> None:
        self.tail = ""
        self.process.stdin.write(keys)

    async def close(self) -> None:
        self.process.close()
        self.conn.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.conn.wait_closed(), 5)
        self._pump.cancel()
        await asyncio.gather(self._pump, return_exceptions=True)


async def open_session(port: int, screen: str, index: int) -> Session:
    import asyncssh

    conn = await asyncssh.connect(
        "127.0.0.1",
        port,
        username=USER,
        password=USER,
        known_hosts=None,
        client_keys=None,
        agent_path=None,
    )
    process = await conn.create_process(term_type="xterm-256color", term_size=(80, 24))
    session = Session(conn, process)
    await session.wait_for("PIN")
    session.type(PIN + "\r")
    await session.wait_for("14 digits")
    session.type(PUK + "\r")
    await session.wait_for("Live measures")
    if screen == "live":
        session.type("\r")  # the first entry: Live measures
        await session.wait_for("Search")
        session.type("\r")  # from the search field to the device list
    else:
        session.type("\x1b[B")
        await asyncio.sleep(0.3)
        session.type("\r")  # Consumption (Total)
        await session.wait_for("Period")
        session.type(str(1 + index % 3))  # Total, Partial, Details in turn
    await asyncio.sleep(0.5)
    return session


async def clients(port: int, count: int, screen: str, keys_per_s: float) -> int:
    """Open the sessions, say "ready", type from "go S" for S seconds, say "done K"."""
    sessions = []
    for index in range(count):
        sessions.append(await open_session(port, screen, index))
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    line = await loop.run_in_executor(None, sys.stdin.readline)
    seconds = float(line.split()[1])
    keys = LIVE_KEYS if screen == "live" else PERIOD_KEYS
    typed = 0
    end = time.monotonic() + seconds

    async def typist(session: Session, offset: float) -> None:
        nonlocal typed
        await asyncio.sleep(offset)
        step = 1.0 / keys_per_s
        next_at = time.monotonic()
        for key in itertools.cycle(keys):
            if time.monotonic() >= end:
                return
            session.type(key)
            typed += 1
            next_at += step
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    spread = 1.0 / keys_per_s / max(1, count)
    await asyncio.gather(*(typist(s, i * spread) for i, s in enumerate(sessions)))
    print(f"done {typed}", flush=True)
    for session in sessions:
        await session.close()
    return 0


# ---------------------------------------------------------------------- the serve probe


class Probe:
    """Counts inside ``ews serve`` (``--counts``): what a phase's keys make the box do.

    Installed before ``ews serve`` runs (this script runs it: ``--probe OUT serve ...``);
    SIGUSR1 starts a window (counters to zero, cProfile on with ``--profile``), SIGUSR2 ends
    it and writes the counts (JSON) to OUT, and the profile to OUT's ``.prof`` sibling."""

    def __init__(self, out: Path, profile: bool) -> None:
        import collections

        self.out = out
        self.counts: collections.Counter[str] = collections.Counter()
        self.profile: Any = None
        self.with_profile = profile
        self.cpu = self.main_cpu = self.gc_s = 0.0
        self._gc_start = 0.0
        self._lagging = False

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] += n

    def _lag(self, due: float) -> None:
        """The loop's lateness, sampled every 10 ms: the longest in the window."""
        loop = asyncio.get_running_loop()
        late = round(1000 * (loop.time() - due))
        self.counts["loop.longest_late_ms"] = max(self.counts["loop.longest_late_ms"], late)
        if late >= 100:
            self.count("loop.late_100ms")
        loop.call_at(loop.time() + 0.01, self._lag, loop.time() + 0.01)

    def start(self, *_args: object) -> None:
        import cProfile

        if not self._lagging:
            self._lagging = True
            with contextlib.suppress(RuntimeError):  # no loop running yet: no samples
                loop = asyncio.get_running_loop()
                loop.call_soon(self._lag, loop.time())
        self.counts.clear()
        self.gc_s = 0.0
        self.cpu, self.main_cpu = time.process_time(), time.thread_time()
        if self.with_profile:
            self.profile = cProfile.Profile()
            self.profile.enable()

    def stop(self, *_args: object) -> None:
        if self.profile is not None:
            self.profile.disable()
            self.profile.dump_stats(str(self.out.with_suffix(".prof")))
            self.profile = None
        figures = {
            "cpu_s": round(time.process_time() - self.cpu, 3),
            "main_thread_cpu_s": round(time.thread_time() - self.main_cpu, 3),
            "gc_s": round(self.gc_s, 3),
            "counts": dict(self.counts.most_common()),
        }
        self.out.write_text(json.dumps(figures, indent=1), encoding="utf-8")

    def on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            pause = time.perf_counter() - self._gc_start
            self.gc_s += pause
            self.count(f"gc.gen{info['generation']}")
            key = f"gc.gen{info['generation']}_longest_ms"
            self.counts[key] = max(self.counts[key], round(1000 * pause))

    def install(self) -> None:
        import gc
        import signal

        import asyncssh
        from textual.screen import Screen
        from textual.timer import Timer
        from textual.widget import Widget

        from ews_tui.frontends.driver import StreamDriver
        from ews_tui.frontends.ssh import SshLink
        from ews_tui.store.consumption_repo import ConsumptionRepo
        from ews_tui.store.db import Database
        from ews_tui.store.en50160_repo import En50160Repo
        from ews_tui.ui.frames import PacedFrames
        from ews_tui.ui.screens.consumption_base import ConsumptionScreen

        probe = self
        gc.callbacks.append(self.on_gc)
        signal.signal(signal.SIGUSR1, self.start)
        signal.signal(signal.SIGUSR2, self.stop)

        def caller(depth: int = 2) -> str:
            frame = sys._getframe(depth)
            return f"{frame.f_code.co_qualname}:{frame.f_lineno}"

        fetchall = Database.fetchall

        async def counted_fetchall(self: Database, sql: str, params: Any = ()) -> Any:
            rows = await fetchall(self, sql, params)
            probe.count("sql.fetchall")
            probe.count("sql.rows", len(rows))
            probe.count(f"sql.by.{caller()}")
            return rows

        Database.fetchall = counted_fetchall  # type: ignore[method-assign]
        transaction = Database.transaction

        def counted_transaction(self: Database) -> Any:
            probe.count("sql.transactions")
            return transaction(self)

        Database.transaction = counted_transaction  # type: ignore[method-assign]
        table = ConsumptionRepo.table

        async def counted_table(self: ConsumptionRepo, *args: Any, **kwargs: Any) -> Any:
            probe.count("consumption.tables")
            started = time.thread_time()
            result = await table(self, *args, **kwargs)
            probe.count("consumption.tables_cpu_us", int(1e6 * (time.thread_time() - started)))
            return result

        ConsumptionRepo.table = counted_table  # type: ignore[method-assign]
        weeks = En50160Repo.weeks

        async def counted_weeks(self: En50160Repo, *args: Any, **kwargs: Any) -> Any:
            probe.count("en50160.weeks")
            return await weeks(self, *args, **kwargs)

        En50160Repo.weeks = counted_weeks  # type: ignore[method-assign]
        refresh_layout = Screen._refresh_layout

        def counted_refresh_layout(self: Screen[Any], *args: Any, **kwargs: Any) -> None:
            probe.count("screen.layouts")
            probe.count(f"screen.layouts.{type(self).__name__}")
            started = time.thread_time()
            refresh_layout(self, *args, **kwargs)
            probe.count("screen.layouts_cpu_us", int(1e6 * (time.thread_time() - started)))

        Screen._refresh_layout = counted_refresh_layout  # type: ignore[method-assign]
        refresh = Widget.refresh

        def counted_refresh(self: Widget, *regions: Any, **kwargs: Any) -> Any:
            probe.count("widget.refresh")
            if kwargs.get("layout"):
                probe.count(f"widget.refresh_layout.{type(self).__name__}<-{caller()}")
            return refresh(self, *regions, **kwargs)

        Widget.refresh = counted_refresh  # type: ignore[method-assign]
        timer_update = PacedFrames._on_timer_update

        def counted_timer_update(self: PacedFrames[Any]) -> None:
            probe.count("frames.updates")
            started = time.thread_time()
            timer_update(self)
            probe.count("frames.updates_cpu_us", int(1e6 * (time.thread_time() - started)))

        PacedFrames._on_timer_update = counted_timer_update  # type: ignore[method-assign]
        flush = StreamDriver.flush

        def counted_flush(self: StreamDriver) -> None:
            if self._out:
                probe.count("driver.flushes")
            flush(self)

        StreamDriver.flush = counted_flush  # type: ignore[method-assign]
        link_write = SshLink.write

        def counted_link_write(self: SshLink, data: str) -> None:
            probe.count("ssh.writes")
            probe.count("ssh.chars", len(data))
            link_write(self, data)

        SshLink.write = counted_link_write  # type: ignore[method-assign]
        send = asyncssh.connection.SSHConnection._send

        def counted_send(self: Any, data: bytes) -> None:
            probe.count("ssh.packets")
            probe.count("ssh.bytes", len(data))
            send(self, data)

        asyncssh.connection.SSHConnection._send = counted_send  # type: ignore[method-assign]
        tick = Timer._tick

        async def counted_tick(self: Timer, **kwargs: Any) -> None:
            probe.count(f"timer.{self.name}")
            await tick(self, **kwargs)

        Timer._tick = counted_tick  # type: ignore[method-assign]
        render_lines = Widget.render_lines

        def counted_render_lines(self: Widget, crop: Any) -> Any:
            probe.count(f"render_lines.{type(self).__name__}")
            return render_lines(self, crop)

        Widget.render_lines = counted_render_lines  # type: ignore[method-assign]
        show_loaded = ConsumptionScreen.show_loaded

        def counted_show_loaded(self: ConsumptionScreen, view: Any, data: Any) -> None:
            probe.count("consumption.reads_done")
            if view == self.view:
                probe.count("consumption.shown")
            show_loaded(self, view, data)

        ConsumptionScreen.show_loaded = counted_show_loaded  # type: ignore[method-assign]


def run_probed(out: Path, profile: bool, argv: list[str]) -> int:
    """``ews`` with ``argv`` under a :class:`Probe` writing to ``out``."""
    from ews_tui.cli import main as ews_main

    Probe(out, profile).install()
    return int(ews_main(argv) or 0)


# ---------------------------------------------------------------------- the box side


class Polls:
    """When each served device was asked for its fast quantity (the polls, wire side)."""

    def __init__(self) -> None:
        self.times: dict[tuple[str, int], list[float]] = {}

    def wrap(self, line: str, device: Any) -> None:
        quantity = device.reg_map.quantity(FAST)
        if quantity is None:
            return
        answer: Callable[[bytes, float], bytes] = device.answer
        times = self.times.setdefault((line, device.spec.address), [])

        def timed(pdu: bytes, now: float) -> bytes:
            if len(pdu) == 5 and pdu[0] == quantity.fc:
                start, count = int.from_bytes(pdu[1:3], "big"), int.from_bytes(pdu[3:5], "big")
                if start <= quantity.register < start + count:
                    times.append(time.monotonic())
            return answer(pdu, now)

        device.answer = timed

    def periods(self, rtu: bool, since: float, until: float) -> list[float]:
        out: list[float] = []
        for (line, _address), times in self.times.items():
            if (line == "rtu") != rtu:
                continue
            window = [t for t in times if since <= t <= until]
            out += [b - a for a, b in itertools.pairwise(window)]
        return out


def comm_errors(data: Path) -> int:
    """Rows of the box's CSV events log that show a communication error."""
    return sum(
        line.count(",comm_error,")
        for path in (data / "csv" / "events").glob("*.csv")
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
    )


async def prepare(data: Path, rtu_path: str, served: Any, ssh_port: int) -> Path:
    """The box's config (RS485 on the pty, SSH on ``ssh_port``), the served site imported,
    and the system role's PIN and PUK set (no first-login change to go through)."""
    from ews_tui.cli.box import open_installation
    from ews_tui.config import (
        HostPort,
        SshSettings,
        SshUser,
        apply_changes,
        default_config,
        save_config,
    )
    from ews_tui.domain.auth import Role
    from ews_tui.domain.installation_doc import to_document
    from ews_tui.frontends.ssh import hash_password
    from ews_tui.hub import Hub
    from ews_tui.services.auth import AuthService
    from ews_tui.services.box import DATABASE_FILE
    from ews_tui.store.db import open_database
    from ews_tui.store.users_repo import UsersRepo

    config = apply_changes(default_config(data), {"rs485.port": rtu_path}, data)
    user = SshUser(USER, await asyncio.to_thread(hash_password, USER))
    ssh = SshSettings(
        enabled=True, listen=HostPort("127.0.0.1", ssh_port), users=(user,), max_sessions=64
    )
    config = replace(config, ssh=ssh)
    path = data / "config.toml"
    save_config(config, path)
    async with open_installation(config) as installation:
        await installation.import_document(to_document(served))
    db = await open_database(data / DATABASE_FILE)
    try:
        auth = AuthService(UsersRepo(db), Hub())
        await auth.start()
        await auth.change_codes(
            Role.SYSTEM,
            "88888",
            source="bench",
            new_pin=PIN,
            confirm_pin=PIN,
            new_puk=PUK,
            confirm_puk=PUK,
        )
    finally:
        await db.close()
    return path


async def wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"bench_load: ews serve did not listen on {port}") from None
            await asyncio.sleep(0.2)
            continue
        writer.close()
        return


async def phase(
    name: str,
    serve_pid: int,
    polls: Polls,
    data: Path,
    window: float,
    client: asyncio.subprocess.Process | None,
) -> dict[str, Any]:
    errors_before = comm_errors(data)
    keys = 0
    if client is not None:
        assert client.stdin is not None and client.stdout is not None
        client.stdin.write(f"go {window}\n".encode())
        await client.stdin.drain()
    started, cpu_before = time.monotonic(), cpu_seconds(serve_pid)
    if client is not None:
        assert client.stdout is not None
        line = await asyncio.wait_for(client.stdout.readline(), window + PHASE_TIMEOUT_S)
        keys = int(line.split()[1]) if line.startswith(b"done") else -1
    else:
        await asyncio.sleep(window)
    ended, cpu_after = time.monotonic(), cpu_seconds(serve_pid)
    drained, cpu_drained = await drain(serve_pid, ended, cpu_after)
    await asyncio.sleep(1.0)  # the events log is written in a thread
    wall_offset = time.time() - time.monotonic()
    rtu = polls.periods(True, started, ended)
    tcp = polls.periods(False, started, ended)
    return {
        "phase": name,
        "rtu_period_p99_s": round(percentile(rtu, 0.99), 3) if rtu else None,
        "rtu_period_max_s": round(max(rtu), 3) if rtu else None,
        "rtu_polls": len(rtu),
        "tcp_period_p99_s": round(percentile(tcp, 0.99), 3) if tcp else None,
        "false_comm_errors": comm_errors(data) - errors_before,
        "serve_cpu_pct": round(100 * (cpu_after - cpu_before) / (ended - started), 1),
        # The CPU a key costs, all its frames included (less sensitive to the machine's
        # load than the period figures: it is the serve process's own CPU time).
        "serve_cpu_ms_per_key": round(1000 * (cpu_after - cpu_before) / keys, 2)
        if keys > 0
        else None,
        # The same with the work left over at the window's end (keys queued by a starved
        # process on a loaded machine are drawn after it): the CPU until the process is back
        # to idle. Comparable across machine loads, unlike the figure above.
        "serve_cpu_ms_per_key_drained": round(1000 * (cpu_drained - cpu_before) / keys, 2)
        if keys > 0
        else None,
        "drain_s": round(drained - ended, 1),
        **serve_gc(data, started + wall_offset, ended + wall_offset),
        "keys": keys,
        "window_s": round(ended - started, 1),
    }


GC_FULL_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) .*heap\.gc full: (\d+) collections, "
    r"max ([\d.]+) ms, total ([\d.]+) ms, cpu max ([\d.]+) ms, total ([\d.]+) ms"
)


def serve_gc(data: Path, since: float, until: float) -> dict[str, Any]:
    """The full collections of ``ews serve`` between two wall-clock times, from the lines of
    its GC watch in its log (``ews_tui.heap.GcWatch``: one line within a second of them):
    how many, the longest and the total pause (wall, and the collecting thread's CPU)."""
    count, worst, total, worst_cpu, total_cpu = 0, 0.0, 0.0, 0.0, 0.0
    logs = data / "logs"
    for path in sorted(logs.glob("ews.log*")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            found = GC_FULL_LINE.match(line)
            if found is None:
                continue
            stamp = time.mktime(time.strptime(found[1], "%Y-%m-%d %H:%M:%S"))
            at = stamp + int(found[2]) / 1000
            if since <= at <= until + 1.5:  # written within a second of the collections
                count += int(found[3])
                worst = max(worst, float(found[4]))
                total += float(found[5])
                worst_cpu = max(worst_cpu, float(found[6]))
                total_cpu += float(found[7])
    return {
        "serve_gc_full": count,
        "serve_gc_max_ms": round(worst, 1),
        "serve_gc_total_ms": round(total, 1),
        "serve_gc_cpu_max_ms": round(worst_cpu, 1),
        "serve_gc_cpu_total_ms": round(total_cpu, 1),
    }


IDLE_CPU = 0.05  # of a core: the serve process at rest (the unloaded phase takes ~2 %)
DRAIN_STEP_S = 0.5
DRAIN_MAX_S = 20.0


async def drain(pid: int, since: float, cpu: float) -> tuple[float, float]:
    """Wait until ``pid`` uses less than ``IDLE_CPU`` over a step (at most ``DRAIN_MAX_S``):
    when and at what CPU time it got there."""
    now = since
    while now - since < DRAIN_MAX_S:
        await asyncio.sleep(DRAIN_STEP_S)
        later, cpu_later = time.monotonic(), cpu_seconds(pid)
        idle = cpu_later - cpu < IDLE_CPU * (later - now)
        now, cpu = later, cpu_later
        if idle:
            break
    return now, cpu


async def start_clients(
    port: int, count: int, screen: str, keys_per_s: float
) -> asyncio.subprocess.Process:
    client = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--clients",
        str(port),
        "--sessions",
        str(count),
        "--screen",
        screen,
        "--keys-per-s",
        str(keys_per_s),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert client.stdout is not None
    line = await asyncio.wait_for(client.stdout.readline(), PHASE_TIMEOUT_S)
    if line.strip() != b"ready":
        client.kill()
        raise SystemExit(f"bench_load: the {screen} sessions did not open")
    return client


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    from ews_tui.cli.sim import load_site, serve_site
    from ews_tui.modbus.serial_line import LineSettings
    from ews_tui.sim.rtu import open_pty_pair
    from ews_tui.sim.server import SimulatedBus

    work = Path(tempfile.mkdtemp(prefix="ews-bench-load-"))
    data = work / "data"
    data.mkdir(mode=0o700)
    site = load_site("demo")
    pair = open_pty_pair()
    polls = Polls()
    results: list[dict[str, Any]] = []
    try:
        async with SimulatedBus() as bus:
            served = await serve_site(
                bus,
                site,
                tcp=tuple(("127.0.0.1", 0) for g in site.gateways if not g.is_local),
                rtu=pair.server_fd,
                settings=LineSettings(pair.path, 19200, "E", 1),
                wire_time=True,
            )
            for endpoint in bus.endpoints:
                for device in endpoint.devices.values():
                    polls.wrap("rtu" if endpoint.rtu else f"tcp{endpoint.port}", device)
            ssh_port = free_port()
            config = await prepare(data, pair.path, served, ssh_port)
            command = [sys.executable]
            if args.counts:  # the probe, and the windows' profile with --profile
                command += [__file__, PROBE_FLAG, str(args.counts), "1" if args.profile else "0"]
            elif args.profile and args.profiler == "pyinstrument":
                command += ["-m", "pyinstrument", "-o", str(args.profile)]
            elif args.profile:
                command += ["-m", "cProfile", "-o", str(args.profile)]
            if not args.counts:
                command += ["-m", "ews_tui.cli"]
            command += ["serve", "--config", str(config)]
            log = (work / "serve.log").open("ab")
            serve = await asyncio.create_subprocess_exec(
                *command, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log
            )
            try:
                await wait_port(ssh_port, 60)
                await asyncio.sleep(args.window / 2)  # the pollers settle into their cycle
                results.append(await phase("unloaded", serve.pid, polls, data, args.window, None))
                for screen in args.only or LOADED_PHASES:
                    client = await start_clients(ssh_port, args.sessions, screen, args.keys_per_s)
                    try:
                        with probed(serve.pid, args.counts, screen) as counted:
                            result = await phase(
                                screen, serve.pid, polls, data, args.window, client
                            )
                        results.append(result)
                        if counted:
                            result["counts"] = per_key(await counted(), result["keys"])
                        await asyncio.wait_for(client.wait(), 30)
                    finally:
                        if client.returncode is None:
                            client.kill()
                            await client.wait()
            finally:
                serve.terminate()
                try:
                    await asyncio.wait_for(serve.wait(), 30)
                except TimeoutError:
                    serve.kill()
                    await serve.wait()
                log.close()
    finally:
        pair.close()
    base = results[0]

    def ratio(value: float | None, against: float | None) -> float | None:
        return round(value / against, 2) if value and against else None

    figures: dict[str, Any] = {"bench": "load", "sessions": args.sessions}
    figures["keys_per_s_per_session"] = args.keys_per_s
    figures["phases"] = results
    for loaded in results[1:]:
        name = loaded["phase"]
        rtu = ratio(loaded["rtu_period_p99_s"], base["rtu_period_p99_s"])
        tcp = ratio(loaded["tcp_period_p99_s"], base["tcp_period_p99_s"])
        figures[f"{name}_rtu_p99_ratio"] = rtu
        figures[f"{name}_tcp_p99_ratio"] = tcp
        figures[f"{name}_false_comm_errors"] = loaded["false_comm_errors"]
        figures[f"{name}_serve_cpu_pct"] = loaded["serve_cpu_pct"]
        figures[f"{name}_serve_cpu_ms_per_key"] = loaded["serve_cpu_ms_per_key"]
        figures[f"{name}_serve_cpu_ms_per_key_drained"] = loaded["serve_cpu_ms_per_key_drained"]
        figures[f"{name}_targets_met"] = (
            rtu is not None
            and rtu <= 1.1
            and tcp is not None
            and tcp <= 1.1
            and loaded["false_comm_errors"] == 0
            and loaded["serve_cpu_pct"] <= 50
        )
    figures["unloaded_serve_cpu_pct"] = base["serve_cpu_pct"]
    figures["load_avg_1min"] = round(os.getloadavg()[0], 2)
    figures["work_dir"] = str(work)
    return figures


PROBE_FLAG = "--probe"  # this script as ews serve's wrapper: --probe OUT 0|1 serve ...


@contextlib.contextmanager
def probed(
    pid: int, out: Path | None, name: str
) -> Iterator[Callable[[], Awaitable[dict[str, Any]]] | None]:
    """The probe's window around a phase (``--counts``): yields what reads its counts."""
    if out is None:
        yield None
        return
    out.unlink(missing_ok=True)
    os.kill(pid, signal.SIGUSR1)

    async def read() -> dict[str, Any]:
        for _ in range(100):
            if out.exists():
                await asyncio.sleep(0.2)  # written at once, whole
                figures: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
                named = out.with_name(f"{out.stem}-{name}{out.suffix}")
                out.replace(named)
                if out.with_suffix(".prof").exists():
                    out.with_suffix(".prof").replace(named.with_suffix(".prof"))
                return figures
            await asyncio.sleep(0.1)
        raise SystemExit(f"bench_load: no counts in {out}")

    try:
        yield read
    finally:
        os.kill(pid, signal.SIGUSR2)


def per_key(figures: dict[str, Any], keys: int) -> dict[str, Any]:
    """The probe's counts, each also per key typed."""
    counts: dict[str, int] = figures.pop("counts")
    figures["keys"] = keys
    figures["longest_ms"] = {name: n for name, n in counts.items() if "longest" in name}
    figures["per_key"] = {
        name: round(n / max(1, keys), 3) for name, n in counts.items() if "longest" not in name
    }
    return figures


def main() -> int:
    if sys.argv[1:2] == [PROBE_FLAG]:
        return run_probed(Path(sys.argv[2]), sys.argv[3] == "1", sys.argv[4:])
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 sessions, 4-second windows")
    parser.add_argument("--sessions", type=int, default=None, help="SSH sessions (10)")
    parser.add_argument("--window", type=float, default=None, help="seconds per phase (60)")
    parser.add_argument("--keys-per-s", type=float, default=5.0, help="per session (5)")
    parser.add_argument("--profile", type=Path, help="profile ews serve to FILE")
    parser.add_argument(
        "--profiler", choices=("cprofile", "pyinstrument"), default="cprofile", help="(cprofile)"
    )
    parser.add_argument(
        "--only", action="append", choices=LOADED_PHASES, help="this loaded phase (repeatable)"
    )
    parser.add_argument(
        "--counts",
        type=Path,
        metavar="FILE",
        help="count what ews serve does in each loaded phase (per key, in the JSON; the"
        " counts also in FILE-PHASE; with --profile, the window's cProfile in FILE-PHASE.prof)",
    )
    parser.add_argument("--clients", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--screen", default="live", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sessions is None:
        args.sessions = 3 if args.quick else 10
    if args.window is None:
        args.window = 4.0 if args.quick else 60.0
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    if args.clients is not None:
        return asyncio.run(clients(args.clients, args.sessions, args.screen, args.keys_per_s))
    out = sys.stdout
    budget = 4 * args.window + 4 * PHASE_TIMEOUT_S
    figures = asyncio.run(asyncio.wait_for(bench(args), budget))
    print(json.dumps(figures), file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
