#!/usr/bin/env python3
"""SSH session benchmark (issue 5). Prints ONE JSON line of figures.

The demo box (simulators for the demo site, the whole runtime, pollers flat out: no wire
time) and its SSH front end run in this process, as under ``ews serve``; asyncssh clients
in the same loop open PTY sessions at 80x24.

- ``first_frame_ms``: SSH connect, password check included (scrypt at the production cost,
  ``DEFAULT_SCRYPT``, as ``ews ssh hash-password`` makes it), to the login screen's text
  received (median of 5); ``scrypt_ms``: one such hash alone, for scale;
- ``rss_mb_per_session``: process RSS added per UI session with 1, 5 and 10 sessions open
  (clients included: they are small next to a Textual App);
- ``key_to_frame_ms``: a key typed in the PIN field to the first frame that shows its
  effect (p50, p95; 100 keys, 40 with --quick) while the pollers run: a digit is done when
  one more masked character is on screen, a backspace when one fewer is (the field swings
  between one and two: a cursor blink repaints what the field already shows, never that);
- ``poll_jitter_ms``: |interval - 1 s| of the main meter's samples, p99, with no session
  (the baseline) and with 5 sessions typing.
- ``screen_open_ms``: each screen's open time, from its push (``EwsApp._get_screen``) to its
  first frame handed to the SSH session (``App._display``), in sessions logged in over SSH
  at 80x24 that open every screen of the menus (and Devices, Advanced, Help) one after the
  other, as ``ews serve`` runs after :func:`ews_tui.ui.warm_up.warm_up`; the median of
  ``open_sessions`` sessions (1 with --quick, 3), each screen the first time in its session.
  A full garbage collection (~190 ms with five sessions) landing inside an open swings these
  figures by more than the screens' own differences, so each open is also told apart from
  the collections run meanwhile (``gc.callbacks``): ``screen_open_gc_ms`` the collections'
  wall time inside it, ``screen_open_cpu_ms`` the loop's CPU time in it with the main
  thread's collections taken out (the screen's own cost); ``slowest_screen_open_ms`` /
  ``slowest_screen``: the largest GC-free CPU figure (the issue 16 target),
  ``slowest_screen_open_wall_ms`` / ``slowest_screen_by_wall`` the largest wall time (GC
  and the machine's load included), ``screen_open_gc_max_ms`` the most GC in one open.
- ``navigating``: five sessions (two with --quick), each in a language no session used
  before, log in and go through every entry of their home menu (Enter, Esc, ↓; SSH clients
  in a child process, as scripts/bench_memory.py runs them) while a probe task sleeps 5 ms
  again and again: ``max_stall_ms`` is its latest wake-up, ``cpu_in_max_stall_ms`` the
  loop's own CPU time in it (the rest is the machine's load); ``baseline_max_stall_ms`` the
  same probe for as long with no session; ``slowest_open_ms`` the slowest screen those
  sessions opened; ``gc_max_pause_ms`` the longest garbage collection meanwhile.
Targets (issue 5): first frame < 500 ms, < 15 MB per extra session, key p95 < 50 ms,
jitter p99 < 20 ms with 5 sessions; (issue 16) every screen opens in < 150 ms, (issue 11)
loop stall < 50 ms while five sessions navigate. ``heap_quiet`` / ``heap_forced``: the full
collections the heap policy (:class:`ews_tui.heap.GcPolicy`) ran in the navigating window.
Usage: scripts/bench_sessions.py [--quick] [--navigating-only] [--heap-policy on|off]
[--stall-trace FILE] [--profile-opens DIR]
(--navigating-only: the screen-open and navigating parts alone; --heap-policy on: the same
box with the heap policy, which ews serve leaves off: the comparison with CPython's own
collections; --profile-opens: a cProfile file per screen, ``DIR/<screen>.pstats``, of the
first session's opens, push to first frame)
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import importlib.util
import itertools
import json
import logging
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import asyncssh
from rich.console import RenderableType
from textual.screen import Screen

from ews_tui import heap, passes
from ews_tui.cli.demo import demo_box
from ews_tui.config import HostPort, SshSettings, SshUser
from ews_tui.domain.auth import DEFAULT_SCRYPT, Role
from ews_tui.domain.events import Sample
from ews_tui.frontends.ssh import SshFrontEnd, hash_password
from ews_tui.runtime import Runtime
from ews_tui.services.installation import InstallationService
from ews_tui.ui.app import SCREENS_PACKAGE, EwsApp
from ews_tui.ui.session import Session
from ews_tui.ui.warm_up import warm_up

LOGIN_TEXT = "Enter your PIN"
MASK = "\u2022"  # how Textual's password Input shows each character


def masked(count: int) -> re.Pattern[str]:
    """A run of exactly ``count`` mask characters: the PIN field holding ``count`` digits."""
    return re.compile(f"(?<!{MASK}){MASK}{{{count}}}(?!{MASK})")


def rss_mb() -> float:
    with open("/proc/self/statm") as stream:
        pages = int(stream.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Client:
    """One PTY session: its output as it arrives, and an event per chunk received."""

    def __init__(self, conn: asyncssh.SSHClientConnection, process: Any) -> None:
        self.conn, self.process = conn, process
        self.text = ""
        self.changed = asyncio.Event()
        self._pump = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while data := await self.process.stdout.read(65536):
            self.text += data
            self.changed.set()

    async def wait_for(self, text: str) -> None:
        while text not in self.text:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 10)

    async def key(self, key: str) -> float:
        """Seconds from ``key`` sent to the next output (any: load for the jitter figure)."""
        self.changed.clear()
        started = time.perf_counter()
        self.process.stdin.write(key)
        await asyncio.wait_for(self.changed.wait(), 10)
        return time.perf_counter() - started

    async def key_effect(self, key: str, effect: re.Pattern[str]) -> float:
        """Seconds from ``key`` sent to the first output, since then, that shows ``effect``."""
        mark = len(self.text)
        started = time.perf_counter()
        self.process.stdin.write(key)
        async with asyncio.timeout(10):
            while not effect.search(self.text, mark):
                self.changed.clear()
                await self.changed.wait()
        return time.perf_counter() - started

    async def close(self) -> None:
        self.process.close()
        self.conn.close()
        await self.conn.wait_closed()
        self._pump.cancel()
        await asyncio.gather(self._pump, return_exceptions=True)


async def open_client(port: int) -> Client:
    conn = await asyncssh.connect(
        "127.0.0.1",
        port,
        username="bench",
        password="bench",
        known_hosts=None,
        client_keys=None,
        agent_path=None,
    )
    process = await conn.create_process(term_type="xterm-256color", term_size=(80, 24))
    client = Client(conn, process)
    await client.wait_for(LOGIN_TEXT)
    return client


async def jitter_ms(rt: Runtime, seconds: float, busy: list[Client]) -> float:
    """p99 of |interval - 1 s| of the Local main meter's samples over ``seconds``."""
    inst = rt.get(InstallationService).current
    main = next(g.eq_device_id for g in inst.gateways if g.is_local)
    arrivals: list[float] = []
    subscription = rt.hub.subscribe(Sample, name="bench")

    async def collect() -> None:
        async for event in subscription:
            if isinstance(event, Sample) and event.device_id == main:
                arrivals.append(time.monotonic())

    done = asyncio.Event()

    async def type_along() -> None:
        # A flag, not only cancel(): Python 3.11's wait_for may swallow a cancellation that
        # comes as its inner wait completes, and the typing would go on for ever.
        while not done.is_set():
            for client in busy:
                await client.key("1")
                await client.key("\x7f")

    tasks = [asyncio.create_task(collect())]
    if busy:
        tasks.append(asyncio.create_task(type_along()))
    await asyncio.sleep(seconds)
    done.set()
    subscription.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    gaps = [abs((b - a) - 1.0) * 1000 for a, b in itertools.pairwise(arrivals)]
    return round(percentile(gaps, 0.99), 1) if gaps else float("nan")


def bench_memory() -> ModuleType:
    """scripts/bench_memory.py: its SSH client child process and its stall probe."""
    path = Path(__file__).with_name("bench_memory.py")
    spec = importlib.util.spec_from_file_location("bench_memory", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MEMORY = bench_memory()
TRACE_PATH: Path | None = None  # --stall-trace: where StallTrace writes the long turns
PROFILE_DIR: Path | None = None  # --profile-opens: a cProfile file per screen opened
SYSTEM, SERVER = Role.SYSTEM, Role.SERVER
# Every screen a menu opens, the ones Gateways and Devices open, Help and "coming".
SCREENS: tuple[tuple[str, Role], ...] = (
    ("live", SYSTEM),
    ("consumption_total", SYSTEM),
    ("consumption_costs", SYSTEM),
    ("consumption_partial", SYSTEM),
    ("consumption_details", SYSTEM),
    ("alarms", SYSTEM),
    ("en50160", SYSTEM),
    ("gateways", SYSTEM),
    ("devices", SYSTEM),
    ("device_advanced", SYSTEM),
    ("groups", SYSTEM),
    ("cost_rules", SYSTEM),
    ("coming", SYSTEM),
    ("help", SYSTEM),
    ("settings_network", SERVER),
    ("settings_modbus", SERVER),
    ("settings_time", SERVER),
    ("settings_language", SERVER),
    ("settings_csv", SERVER),
    ("connector", SERVER),
    ("settings_smtp", SERVER),
    ("settings_users", SERVER),
)


def screen_name(screen: Screen[Any]) -> str:
    module = type(screen).__module__
    return (
        module.removeprefix(f"{SCREENS_PACKAGE}.")
        if module.startswith(SCREENS_PACKAGE)
        else (type(screen).__name__)
    )


class GcClock:
    """The time spent in garbage collections since it was made, added up: wall time (a
    collection in any thread holds the GIL: every thread waits for it) and the main
    thread's CPU time (a collection in the pollers' thread is not on the loop's CPU)."""

    def __init__(self) -> None:
        self.wall_s = self.main_cpu_s = 0.0
        self._started = self._cpu = 0.0
        self._main = threading.get_ident()
        gc.callbacks.append(self._note)

    def _note(self, phase: str, info: dict[str, int]) -> None:
        # One collection at a time (the GIL and CPython's own guard): no nesting to track.
        main = threading.get_ident() == self._main
        if phase == "start":
            self._started, self._cpu = time.perf_counter(), time.thread_time() if main else 0.0
            return
        self.wall_s += time.perf_counter() - self._started
        if main:
            self.main_cpu_s += time.thread_time() - self._cpu

    def reading(self) -> tuple[float, float]:
        return self.wall_s, self.main_cpu_s

    def stop(self) -> None:
        gc.callbacks.remove(self._note)


class Open(NamedTuple):
    """One screen's open: wall time, the loop's CPU time, and the garbage collections'
    share of each (ms)."""

    name: str
    wall_ms: float
    cpu_ms: float
    gc_ms: float
    gc_cpu_ms: float

    @property
    def own_cpu_ms(self) -> float:
        """The screen's own cost: the loop's CPU time with the collections taken out."""
        return self.cpu_ms - self.gc_cpu_ms


class TimedApp(EwsApp):
    """The product's App; it notes each screen's open time, from its push to its first
    frame handed to the terminal (the SSH session), and the collections run meanwhile."""

    def __init__(self, session: Session, gc_clock: GcClock, **kwargs: Any) -> None:
        super().__init__(session, **kwargs)
        self.gc_clock = gc_clock
        self.pushed: dict[Screen[Any], tuple[float, float, float, float]] = {}
        self.opens: list[Open] = []
        self.profile_dir: Path | None = None  # where each open's cProfile goes, if anywhere
        self._profile: cProfile.Profile | None = None

    def _get_screen(self, screen: Screen[Any] | str) -> Any:
        started = (time.perf_counter(), time.thread_time(), *self.gc_clock.reading())
        found = self.get_screen(screen)
        if not found.is_running:
            self.pushed[found] = started
            if self.profile_dir is not None and self._profile is None:
                # the thread's CPU time: a loaded machine's waits are not the screen's
                self._profile = cProfile.Profile(time.thread_time)
                self._profile.enable()
        return super()._get_screen(found)

    def _display(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        # A frame asked for in a batch update is not sent (Textual's _display drops it):
        # the screen is not whole yet (its footer's keys still mounting, say).
        if renderable is not None and not self._batch_count and screen in self.pushed:
            if self._profile is not None and self.profile_dir is not None:
                self._profile.disable()
                self._profile.dump_stats(self.profile_dir / f"{screen_name(screen)}.pstats")
                self._profile = None
            wall, cpu, gc_wall, gc_cpu = self.pushed.pop(screen)
            gc_wall_now, gc_cpu_now = self.gc_clock.reading()
            self.opens.append(
                Open(
                    screen_name(screen),
                    wall_ms=(time.perf_counter() - wall) * 1000,
                    cpu_ms=(time.thread_time() - cpu) * 1000,
                    gc_ms=(gc_wall_now - gc_wall) * 1000,
                    gc_cpu_ms=(gc_cpu_now - gc_cpu) * 1000,
                )
            )
        super()._display(screen, renderable)


class TimedApps:
    """The app factory of the SSH front end: logged in as the role the user's name says
    (no PIN typing), and every app kept for its figures."""

    def __init__(self, gc_clock: GcClock) -> None:
        self.apps: list[TimedApp] = []
        self.gc_clock = gc_clock

    def __call__(self, session: Session) -> TimedApp:
        user = session.origin.removeprefix("ssh:").split("@")[0]
        session.role = MEMORY.ROLES[user]
        app = TimedApp(session, self.gc_clock, start_screen="home")
        self.apps.append(app)
        return app

    def opens(self) -> list[Open]:
        return [o for app in self.apps for o in app.opens]


class GcPauses:
    """The longest garbage collection (wall and this thread's CPU) while installed."""

    def __init__(self) -> None:
        self.worst = self.worst_cpu = 0.0
        self._started = self._cpu = 0.0
        gc.callbacks.append(self._note)

    def _note(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started, self._cpu = time.perf_counter(), time.thread_time()
        elif (took := time.perf_counter() - self._started) > self.worst:
            self.worst, self.worst_cpu = took, time.thread_time() - self._cpu

    def stop(self) -> dict[str, float]:
        gc.callbacks.remove(self._note)
        return {
            "gc_max_pause_ms": round(self.worst * 1000, 1),
            "gc_cpu_in_max_pause_ms": round(self.worst_cpu * 1000, 1),
        }


class StallTrace:
    """What the loop's longest stretches ran (issue 11's probe; ``--stall-trace FILE``).

    A timer that falls due (the stall probe's, a poller's) waits for the rest of the loop's
    turn under way (``BaseEventLoop._run_once``: every callback and task step that was ready
    when it began); its task then resumes in the next turn, behind everything made ready
    meanwhile. So the probe's lateness is two turns, not one step. Every turn is timed; the
    report lists the longest pairs of consecutive turns, and in them each step over
    ``STEP_S``: its CPU time, the collector's time inside it (``gc.callbacks``), its task's
    coroutine and object (a Textual message pump's class) and the message that took longest
    in it (``MessagePump._dispatch_message``).
    """

    PAIRS = 30  # how many of the longest pairs the report lists
    STEP_S = 0.001

    def __init__(self) -> None:
        from textual.message_pump import MessagePump

        self.turns: list[tuple[float, float, list[tuple[float, float, str]]]] = []
        self._steps: list[tuple[float, float, str]] = []
        self._message: tuple[float, str] | None = None
        self._gc = [0.0, 0.0]  # CPU in collections this step, the current one's start
        self._loop = asyncio.get_running_loop()
        self._original_run = asyncio.events.Handle._run
        self._original_dispatch = MessagePump._dispatch_message
        self._pump = MessagePump
        trace = self

        def timed_run(handle: asyncio.events.Handle) -> None:
            cpu = time.thread_time()
            trace._message, trace._gc[0] = None, 0.0
            try:
                trace._original_run(handle)
            finally:
                took = time.thread_time() - cpu
                if took > trace.STEP_S:
                    seen = trace._message
                    what = f"{task_of(handle)} {seen[1] if seen is not None else ''}"
                    trace._steps.append((took, trace._gc[0], what))

        async def timed_dispatch(pump: Any, message: Any) -> Any:
            cpu = time.thread_time()
            try:
                return await trace._original_dispatch(pump, message)
            finally:
                took = time.thread_time() - cpu
                if trace._message is None or took > trace._message[0]:
                    trace._message = (took, f"{type(pump).__name__} {type(message).__name__}")

        box_loop = passes.current()  # the box's loop: the pass without its wait in select

        def timed_turn() -> None:
            trace._steps = []
            started = time.perf_counter()
            trace._original_turn()
            took = time.perf_counter() - started if box_loop is None else box_loop.age()
            trace.turns.append((took, sum(s[0] for s in trace._steps), trace._steps))

        self._original_turn = self._loop._run_once  # type: ignore[attr-defined]
        asyncio.events.Handle._run = timed_run  # type: ignore[method-assign,assignment]
        MessagePump._dispatch_message = timed_dispatch  # type: ignore[method-assign,assignment]
        self._loop._run_once = timed_turn  # type: ignore[attr-defined]
        gc.callbacks.append(self._collected)

    def _collected(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._gc[1] = time.thread_time()
        else:
            self._gc[0] += time.thread_time() - self._gc[1]

    def stop(self, path: Path) -> None:
        asyncio.events.Handle._run = self._original_run  # type: ignore[method-assign]
        self._pump._dispatch_message = self._original_dispatch  # type: ignore[method-assign]
        del self._loop._run_once  # type: ignore[attr-defined]
        gc.callbacks.remove(self._collected)
        lines = []
        pairs = sorted(
            range(len(self.turns) - 1), key=lambda i: -self.turns[i][0] - self.turns[i + 1][0]
        )
        for i in pairs[: self.PAIRS]:
            first, second = self.turns[i], self.turns[i + 1]
            lines.append(f"#### turns {first[0] * 1000:.1f} + {second[0] * 1000:.1f} ms")
            lines += self._turn(*first) + self._turn(*second)
        path.write_text("\n".join(lines) + "\n")

    def _turn(self, took: float, cpu: float, steps: list[tuple[float, float, str]]) -> list[str]:
        collected = sum(s[1] for s in steps)
        lines = [
            f"== turn {took * 1000:.1f} ms: steps over {self.STEP_S * 1000:.0f} ms "
            f"{cpu * 1000:.1f} ms of CPU ({collected * 1000:.1f} ms collecting), "
            f"{len(steps)} steps"
        ]
        for step_cpu, step_gc, what in sorted(steps, key=lambda s: -s[0]):
            note = f" (gc {step_gc * 1000:.1f})" if step_gc > 0.0005 else ""
            lines.append(f"   {step_cpu * 1000:6.1f}{note} {what}")
        return lines


def task_of(handle: asyncio.events.Handle) -> str:
    """A step's task: its coroutine, and the object it runs for (a message pump's class)."""
    task = getattr(getattr(handle, "_callback", None), "__self__", None)
    if not isinstance(task, asyncio.Task):
        return repr(handle)[:120]
    coro = task.get_coro()
    owner = getattr(coro, "cr_frame", None)
    who = owner.f_locals.get("self") if owner is not None else None
    return f"{getattr(coro, '__qualname__', coro)}" + (f" [{type(who).__name__}]" if who else "")


def screen_params(rt: Runtime, name: str) -> dict[str, Any]:
    inst = rt.get(InstallationService).current
    local = next(g for g in inst.gateways if g.is_local)
    if name == "devices":
        return {"gateway_id": local.id}
    if name == "device_advanced":
        return {"device_id": inst.devices_of(local.id)[0].id}
    if name == "coming":
        return {"title": "Green'Up"}
    return {}


async def until(check: Any, what: str, at_most: float = 20.0) -> None:
    deadline = time.monotonic() + at_most
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"still waiting for {what}")
        await asyncio.sleep(0.01)


async def open_every_screen(rt: Runtime, port: int, apps: TimedApps) -> dict[str, Open]:
    """One SSH session opens every screen, each after the last one closed; its open times
    (wall, and the loop's CPU time meanwhile: on a loaded machine the wall time is mostly
    the process waiting for a core)."""
    conn = await asyncssh.connect(
        "127.0.0.1",
        port,
        username="system",
        password=MEMORY.PASSWORD,
        known_hosts=None,
        client_keys=None,
        agent_path=None,
    )
    process = await conn.create_process(term_type="xterm-256color", term_size=(80, 24))
    client = Client(conn, process)
    try:
        await until(lambda: bool(apps.apps) and bool(apps.apps[-1].opens), "the home screen")
        app = apps.apps[-1]
        app.profile_dir = PROFILE_DIR if len(apps.apps) == 1 else None  # the first session's
        await asyncio.sleep(0.5)
        for name, role in SCREENS:
            app.session.role = role
            count = len(app.opens)
            app.call_later(app.open_screen, name, **screen_params(rt, name))
            await until(lambda n=count: len(app.opens) > n, f"screen {name}")
            await asyncio.sleep(0.3)
            app.call_later(app.pop_screen)
            await asyncio.sleep(0.3)
        return {o.name: o for o in app.opens if o.name != "home"}
    finally:
        await client.close()


async def navigating(
    rt: Runtime, front: SshFrontEnd, apps: TimedApps, langs: tuple[str, ...], rows: int
) -> dict[str, Any]:
    """The loop's longest stall while sessions in new languages go through their menus."""
    plan = [[(list(MEMORY.ROLES)[i % 2], lang) for i, lang in enumerate(langs)]]
    # Forking this process is the bench's own stall (100 ms and more): before the probe.
    child = await MEMORY.spawn_clients(front.port, plan, rows=rows)
    before = len(apps.opens())
    started = time.monotonic()
    quiet, forced = heap.POLICY.quiet, heap.POLICY.forced
    probe, pauses = MEMORY.StallProbe(), GcPauses()
    trace = StallTrace() if TRACE_PATH else None
    await MEMORY.go(child)
    loaded_s = time.monotonic() - started
    if trace is not None and TRACE_PATH is not None:
        trace.stop(TRACE_PATH)
    stall, gc_figures = await probe.stop(), pauses.stop()
    quiet, forced = heap.POLICY.quiet - quiet, heap.POLICY.forced - forced
    opened = apps.opens()[before:]
    await MEMORY.sessions_ended(front)
    probe = MEMORY.StallProbe()
    await asyncio.sleep(loaded_s)
    baseline = await probe.stop()
    nothing = Open("", float("nan"), float("nan"), float("nan"), float("nan"))
    slowest = max(opened, key=lambda o: o.wall_ms, default=nothing)
    return {
        "sessions": len(langs),
        "languages": [lang.split(".")[0] for lang in langs],
        **stall,
        **gc_figures,
        "heap_policy": heap.POLICY.installed,
        "heap_quiet": quiet,
        "heap_forced": forced,
        "baseline_max_stall_ms": baseline["max_stall_ms"],
        "screens_opened": len(opened),
        "slowest_open_ms": round(slowest.wall_ms, 1),
        "slowest_open_cpu_ms": round(slowest.cpu_ms, 1),
        "slowest_open_gc_ms": round(slowest.gc_ms, 1),
        "slowest_open_screen": slowest.name,
        "window_s": round(loaded_s, 1),
    }


async def screens(quick: bool, policy: bool = True) -> dict[str, Any]:
    """Screen open times, then the loop's stall while sessions navigate, on a box of its
    own that polls at the wire's pace (as a real RS485 bus does), warmed up as ``ews serve``
    does; its own front end (users named after their role, a cheap password hash: logging
    in is not measured here)."""
    data = Path(tempfile.mkdtemp(prefix="ews-bench-screens-"))
    async with demo_box(data, wire_time=True, scrypt=MEMORY.CHEAP) as rt:
        was, heap.POLICY.enabled = heap.POLICY.enabled, policy
        try:
            await warm_up(rt)
            return await screens_on(rt, data, quick)
        finally:
            heap.POLICY.enabled = was


async def screens_on(rt: Runtime, data: Path, quick: bool) -> dict[str, Any]:
    users = tuple(
        SshUser(name, hash_password(MEMORY.PASSWORD, MEMORY.CHEAP)) for name in MEMORY.ROLES
    )
    settings = SshSettings(
        enabled=True,
        listen=HostPort("127.0.0.1", 0),
        users=users,
        max_sessions=64,
        max_startups=64,
    )
    gc_clock = GcClock()
    apps = TimedApps(gc_clock)
    front = SshFrontEnd(rt, settings, data / "host_key_screens", None, make_app=apps)
    await front.start()
    try:
        runs = [await open_every_screen(rt, front.port, apps) for _ in range(1 if quick else 3)]
        await MEMORY.sessions_ended(front)
        langs = MEMORY.NEW_LANGUAGES[: 2 if quick else 5]
        navigation = await navigating(rt, front, apps, langs, 4 if quick else MEMORY.MENU_ROWS)
    finally:
        await front.stop()
        gc_clock.stop()
    return {**open_figures(runs), "open_sessions": len(runs), "navigating": navigation}


def open_figures(runs: list[dict[str, Open]]) -> dict[str, Any]:
    """Each screen's median open over the sessions (wall; the loop's CPU without the
    garbage collections; the collections' wall time), and the slowest screens."""

    def median(figure: Callable[[Open], float]) -> dict[str, float]:
        return {
            name: round(statistics.median(figure(r[name]) for r in runs), 1) for name in runs[0]
        }

    wall, own, in_gc = (
        median(lambda o: o.wall_ms),
        median(lambda o: o.own_cpu_ms),
        median(lambda o: o.gc_ms),
    )
    slowest = max(own, key=lambda n: own[n])
    slowest_wall = max(wall, key=lambda n: wall[n])
    return {
        "slowest_screen_open_ms": own[slowest],
        "slowest_screen": slowest,
        "slowest_screen_open_wall_ms": wall[slowest_wall],
        "slowest_screen_by_wall": slowest_wall,
        "screen_open_gc_max_ms": round(max(o.gc_ms for r in runs for o in r.values()), 1),
        "screen_open_ms": wall,
        "screen_open_cpu_ms": own,
        "screen_open_gc_ms": in_gc,
    }


async def navigating_only(quick: bool, policy: bool) -> dict[str, Any]:
    return {
        "bench": "sessions",
        **await screens(quick, policy),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


async def bench(quick: bool, policy: bool = True) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="ews-bench-sessions-"))
    window = 3.0 if quick else 10.0
    loop = asyncio.get_running_loop()
    scrypt_s = []
    for _ in range(3):
        started = time.perf_counter()
        await loop.run_in_executor(None, hash_password, "bench", DEFAULT_SCRYPT)
        scrypt_s.append(time.perf_counter() - started)
    async with demo_box(data, wire_time=False, scrypt=DEFAULT_SCRYPT) as rt:
        await warm_up(rt)  # as ews serve does before its front ends start
        user = SshUser("bench", hash_password("bench", DEFAULT_SCRYPT))
        settings = SshSettings(
            enabled=True, listen=HostPort("127.0.0.1", 0), users=(user,), max_sessions=64
        )
        front = SshFrontEnd(rt, settings, data / "host_key", None)
        await front.start()
        try:
            await asyncio.sleep(2.0)  # let the pollers settle into their cycle
            baseline_jitter = await jitter_ms(rt, window, [])

            firsts = []
            for _ in range(5):
                started = time.perf_counter()
                client = await open_client(front.port)
                firsts.append((time.perf_counter() - started) * 1000)
                await client.close()

            rss: dict[str, float] = {}
            clients: list[Client] = []
            base = rss_mb()
            for count in (1, 5, 10):
                while len(clients) < count:
                    clients.append(await open_client(front.port))
                await asyncio.sleep(0.5)
                rss[str(count)] = round((rss_mb() - base) / count, 1)

            typist = clients[0]
            await typist.key_effect("1", masked(1))  # the field holds one digit from here
            keys = []
            for index in range(40 if quick else 100):
                key, shown = ("1", masked(2)) if index % 2 == 0 else ("\x7f", masked(1))
                keys.append(await typist.key_effect(key, shown) * 1000)
            sessions_jitter = await jitter_ms(rt, window, clients[:5])
            for client in clients:
                await client.close()
        finally:
            await front.stop()
    screen_figures = await screens(quick, policy)
    return {
        "bench": "sessions",
        "first_frame_ms": round(statistics.median(firsts), 1),
        "scrypt_ms": round(statistics.median(scrypt_s) * 1000, 1),
        "scrypt": {"n": DEFAULT_SCRYPT.n, "r": DEFAULT_SCRYPT.r, "p": DEFAULT_SCRYPT.p},
        "rss_mb_per_session": rss,
        "key_to_frame_ms": {
            "p50": round(percentile(keys, 0.5), 1),
            "p95": round(percentile(keys, 0.95), 1),
        },
        "poll_jitter_p99_ms": {"sessions_0": baseline_jitter, "sessions_5": sessions_jitter},
        "window_s": window,
        **screen_figures,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter windows")
    parser.add_argument(
        "--navigating-only", action="store_true", help="screen opens and navigating only"
    )
    parser.add_argument(
        "--heap-policy",
        choices=("on", "off"),
        default="off",
        help="ews_tui.heap.GcPolicy (off in ews serve: CPython's own collections)",
    )
    parser.add_argument(
        "--stall-trace", type=Path, help="write the navigating part's longest loop turns here"
    )
    parser.add_argument(
        "--profile-opens",
        type=Path,
        help="write a cProfile file per screen here (<screen>.pstats: the first session's "
        "opens, push to first frame; the profiler slows them: their figures inflate)",
    )
    args = parser.parse_args()
    global TRACE_PATH, PROFILE_DIR
    TRACE_PATH = args.stall_trace
    if args.profile_opens is not None:
        PROFILE_DIR = args.profile_opens
        PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    out = sys.stdout
    policy = args.heap_policy == "on"
    if args.navigating_only:
        figures = passes.run(asyncio.wait_for(navigating_only(args.quick, policy), 600))
    else:
        figures = passes.run(asyncio.wait_for(bench(args.quick, policy), 600))
    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    print(json.dumps(figures), file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
