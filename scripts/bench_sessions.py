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
Targets (issue 5): first frame < 500 ms, < 15 MB per extra session, key p95 < 50 ms,
jitter p99 < 20 ms with 5 sessions. Usage: scripts/bench_sessions.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncssh

from ews_tui.cli.demo import demo_box
from ews_tui.config import HostPort, SshSettings, SshUser
from ews_tui.domain.auth import DEFAULT_SCRYPT
from ews_tui.domain.events import Sample
from ews_tui.frontends.ssh import SshFrontEnd, hash_password
from ews_tui.runtime import Runtime
from ews_tui.services.installation import InstallationService

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


async def bench(quick: bool) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="ews-bench-sessions-"))
    window = 4.0 if quick else 10.0
    loop = asyncio.get_running_loop()
    scrypt_s = []
    for _ in range(3):
        started = time.perf_counter()
        await loop.run_in_executor(None, hash_password, "bench", DEFAULT_SCRYPT)
        scrypt_s.append(time.perf_counter() - started)
    async with demo_box(data, wire_time=False, scrypt=DEFAULT_SCRYPT) as rt:
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
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter windows")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    out = sys.stdout
    figures = asyncio.run(asyncio.wait_for(bench(args.quick), 600))
    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    print(json.dumps(figures), file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
