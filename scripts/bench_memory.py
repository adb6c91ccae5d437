#!/usr/bin/env python3
"""Memory and loop-stall benchmark of the SSH sessions (issue 11). Prints ONE JSON line.

The demo box (simulators, the whole runtime polling them) and its SSH front end run in this
process, as under ``ews serve``. The SSH clients are real asyncssh clients in a child
process (so their own work and memory are not counted), connecting over loopback; each
session logs in as the role its user name says and goes through every entry of its home
menu (Enter, wait for the screen, Esc, ↓).

- ``rss_growth_mb``: this process's RSS after ``sessions`` sessions opened and closed (in
  rounds of ten at once) minus the RSS after a warm-up (two sessions through the menus, then
  one round of ten); sampled after the sessions ended and the heap policy's next full
  collection (:class:`ews_tui.heap.GcPolicy`: once the loop is quiet). Target
  (issue 11): ≤ 10 MB for 40 sessions. ``rss_after_single_warmup_mb`` and
  ``rss_by_round_mb`` show the rest: the first round of ten at once raises the allocator's
  high-water mark, the later ones do not.
- ``max_stall_ms``: the loop's longest stall while five sessions, each in a language no
  session used before, open every screen of their menus; a probe task sleeps 5 ms and
  records how late it wakes. ``baseline_max_stall_ms``: the same probe over the same time
  with no session (the pollers and simulators alone). Target: < 50 ms.

Usage: scripts/bench_memory.py [--quick]
(--quick: 10 sessions, two stall sessions through the first two menu entries: for the test)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncssh
from textual.app import App

from ews_tui import heap, passes
from ews_tui.cli.demo import demo_box
from ews_tui.config import HostPort, SshSettings, SshUser
from ews_tui.domain.auth import Role, ScryptParams
from ews_tui.frontends.ssh import SshFrontEnd, hash_password
from ews_tui.ui.app import EwsApp
from ews_tui.ui.session import Session
from ews_tui.ui.warm_up import warm_up

CHEAP = ScryptParams(n=2**4, r=1, p=1)
PASSWORD = "bench"
PROBE_S = 0.005
MENU_ROWS = 14  # Enter/Esc/↓ this many times: every entry of the longest menu (14)
NEW_LANGUAGES = ("de_DE.UTF-8", "es_ES.UTF-8", "it_IT.UTF-8", "pl_PL.UTF-8", "ru_RU.UTF-8")
QUIET_WAIT_S = 30.0  # a quiet loop gets its full collection within seconds
ROLES = {"server": Role.SERVER, "system": Role.SYSTEM}


def rss_mb() -> float:
    with open("/proc/self/statm") as stream:
        pages = int(stream.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def logged_in_app(session: Session) -> App[Any]:
    """The product's App, logged in as the role the SSH user's name says (no PIN typing)."""
    user = session.origin.removeprefix("ssh:").split("@")[0]
    session.role = ROLES[user]
    return EwsApp(session, start_screen="home")


class StallProbe:
    """A task that sleeps ``PROBE_S`` again and again and keeps its longest lateness, and
    the CPU time this thread spent during it (on a loaded machine, a stall is partly the
    process waiting for a core: the CPU figure is the part that is the loop's own work)."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.worst_cpu = 0.0
        self.most_cpu = 0.0  # the most CPU between two wake-ups
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time() + PROBE_S
            cpu = time.thread_time()
            await asyncio.sleep(PROBE_S)
            late, used = loop.time() - asked, time.thread_time() - cpu
            if late > self.worst:
                self.worst, self.worst_cpu = late, used
            self.most_cpu = max(self.most_cpu, used)

    async def stop(self) -> dict[str, float]:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        return {
            "max_stall_ms": round(self.worst * 1000, 1),
            "cpu_in_max_stall_ms": round(self.worst_cpu * 1000, 1),
            "max_cpu_between_wakeups_ms": round(self.most_cpu * 1000, 1),
        }


# -- the client side (child process) -------------------------------------------------------


async def client_session(port: int, user: str, lang: str, rows: int) -> None:
    async with asyncssh.connect(
        "127.0.0.1",
        port,
        username=user,
        password=PASSWORD,
        known_hosts=None,
        client_keys=None,
        agent_path=None,
    ) as conn:
        process = await conn.create_process(
            term_type="xterm-256color", term_size=(80, 24), env={"LANG": lang}
        )
        last = [time.monotonic(), 0]

        async def pump() -> None:
            while data := await process.stdout.read(65536):
                last[0], last[1] = time.monotonic(), last[1] + len(data)

        reader = asyncio.create_task(pump())

        async def settle(at_most: float) -> None:
            started = time.monotonic()
            while time.monotonic() - started < at_most:
                await asyncio.sleep(0.05)
                if last[1] and time.monotonic() - last[0] > 0.3:
                    return

        await settle(10.0)
        for _ in range(rows):
            for key in ("\r", "\x1b", "\x1b[B"):
                last[1] = 0
                process.stdin.write(key)
                await settle(1.0)
        process.close()  # then the connection, leaving the block: the server sees both go
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)


async def drive(port: int, batches: list[list[tuple[str, str]]], rows: int) -> None:
    for batch in batches:
        await asyncio.gather(*(client_session(port, user, lang, rows) for user, lang in batch))


def run_clients(port: int, plan: str) -> int:
    spec = json.loads(plan)
    batches = [[tuple(pair) for pair in batch] for batch in spec["batches"]]
    sys.stdin.readline()  # the go: the server side starts its probe after the fork
    asyncio.run(asyncio.wait_for(drive(port, batches, spec["rows"]), 600))
    return 0


async def spawn_clients(
    port: int, batches: list[list[tuple[str, str]]], *, rows: int
) -> asyncio.subprocess.Process:
    """The child that runs ``batches`` of sessions once told to go (see :func:`go`)."""
    plan = json.dumps({"batches": batches, "rows": rows})
    return await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--clients", str(port), plan, stdin=asyncio.subprocess.PIPE
    )


async def go(child: asyncio.subprocess.Process) -> None:
    assert child.stdin is not None
    child.stdin.write(b"go\n")
    await child.stdin.drain()
    if await asyncio.wait_for(child.wait(), 600) != 0:
        raise RuntimeError(f"the SSH clients failed (exit status {child.returncode})")


async def clients(port: int, batches: list[list[tuple[str, str]]], *, rows: int) -> None:
    await go(await spawn_clients(port, batches, rows=rows))


# -- the server side -----------------------------------------------------------------------


async def sessions_ended(front: SshFrontEnd) -> None:
    while front.sessions:
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # the connections' last callbacks
    # What the sessions left in cycles is freed by the next full collection: CPython's own
    # (ews serve leaves the heap policy off), run here as its thresholds would soon; with the
    # policy on, the one its task runs once the loop is quiet (GcPolicy.check): wait for it.
    if not heap.POLICY.installed:
        gc.collect()
        return
    done = heap.POLICY.quiet + heap.POLICY.forced
    deadline = time.monotonic() + QUIET_WAIT_S
    while heap.POLICY.installed and heap.POLICY.quiet + heap.POLICY.forced == done:
        if time.monotonic() > deadline:
            raise RuntimeError("the heap policy ran no full collection once the sessions ended")
        await asyncio.sleep(0.1)


async def bench(quick: bool) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="ews-bench-memory-"))
    sessions = 10 if quick else 40
    rounds = 10 if not quick else 5
    stall_langs = NEW_LANGUAGES[: 2 if quick else 5]
    tour = 2 if quick else MENU_ROWS
    async with demo_box(data, wire_time=True, scrypt=CHEAP) as rt:
        await warm_up(rt)  # as ews serve does before its front ends start
        users = tuple(SshUser(name, hash_password(PASSWORD, CHEAP)) for name in ROLES)
        settings = SshSettings(
            enabled=True,
            listen=HostPort("127.0.0.1", 0),
            users=users,
            max_sessions=64,
            max_startups=64,
        )
        front = SshFrontEnd(rt, settings, data / "host_key", None, make_app=logged_in_app)
        await front.start()
        try:
            await asyncio.sleep(2.0)  # the pollers settle into their cycle
            # Warm-up: the first session imports the screens and parses their CSS.
            first_two = [("server", "en_US.UTF-8"), ("system", "fr_FR.UTF-8")]
            await clients(front.port, [first_two], rows=tour)
            await sessions_ended(front)
            single = rss_mb()
            users_cycle = [("server", "en_US.UTF-8"), ("system", "fr_FR.UTF-8")]
            batch = [users_cycle[i % 2] for i in range(rounds)]
            # A warm-up round as large as the measured ones: the allocator's arenas grow to
            # the peak of that many sessions at once and keep part of it (not a leak).
            await clients(front.port, [batch], rows=3)
            await sessions_ended(front)
            start = rss_mb()
            by_round = []
            for _ in range(sessions // rounds):
                await clients(front.port, [batch], rows=3)
                await sessions_ended(front)
                by_round.append(round(rss_mb(), 1))
            end = by_round[-1]

            stall_plan = [[(list(ROLES)[i % 2], lang) for i, lang in enumerate(stall_langs)]]
            # Forking this process is the bench's own stall (100 ms and more): before the probe.
            child = await spawn_clients(front.port, stall_plan, rows=tour)
            started = time.monotonic()
            probe = StallProbe()
            await go(child)
            loaded_s = time.monotonic() - started
            max_stall = await probe.stop()
            await sessions_ended(front)
            probe = StallProbe()
            await asyncio.sleep(loaded_s)
            baseline = await probe.stop()
        finally:
            await front.stop()
    return {
        "bench": "memory",
        "sessions": sessions,
        "rss_start_mb": round(start, 1),
        "rss_end_mb": round(end, 1),
        "rss_growth_mb": round(end - start, 1),
        "rss_after_single_warmup_mb": round(single, 1),
        "rss_by_round_mb": by_round,
        "sessions_per_round": rounds,
        "stall_sessions": len(stall_langs),
        "stall_languages": [lang.split(".")[0] for lang in stall_langs],
        **max_stall,
        "baseline_max_stall_ms": baseline["max_stall_ms"],
        "baseline_max_cpu_between_wakeups_ms": baseline["max_cpu_between_wakeups_ms"],
        "stall_window_s": round(loaded_s, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 sessions, two stall sessions")
    parser.add_argument("--clients", nargs=2, metavar=("PORT", "PLAN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    if args.clients:
        return run_clients(int(args.clients[0]), args.clients[1])
    out = sys.stdout
    figures = passes.run(asyncio.wait_for(bench(args.quick), 900))  # ews serve's loop
    print(json.dumps(figures), file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
