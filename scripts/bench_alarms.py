#!/usr/bin/env python3
"""Alarm engine benchmark (issue 13). Prints ONE JSON line of figures.

The demo box (simulators for the demo site, the whole runtime, pollers flat out: no wire
time) runs in this process, as under ``ews serve``. On top of its own devices, 1,000 more
devices flap every second for 60 s: each one's communication error, then its end half a
second later, published on the Hub as a poller does (2,000 state events a second, spread
over the second). The same run is done twice, on fresh data dirs:

- ``baseline``: the alarm engine stopped (everything else takes the same events);
- ``alarms``: the alarm engine running.

Figures:

- ``engine.events_per_s``: state events the engine took per second, from the first event to
  the moment its queue was empty again (``drain_s`` after the flapping stopped), and
  ``max_queued`` the longest its queue got;
- ``engine.row_writes``: alarm rows inserted or updated; ``alarm_rows``: rows in the table
  at the end (flapping is one alarm with a count: about one row per device);
  ``transitions``: raises, repeats and clears published (each one a line of the events CSV);
- ``poll_jitter_ms``: |interval - 1 s| between the Local main meter's samples (p50, p99,
  max) in each run, and the ratio of the p99s;
- ``mail``: two recipients get every alarm (the notification settings' defaults), through an
  aiosmtpd server on a loopback port (in a thread of its own: its work is not the box's).
  They are set just before the flapping starts, so the demo's own first alarms take no
  digest window. ``mails_sent``: mails the server received from the first flap until the
  engine's queue was empty again; ``mails_bound``: what the digest rule allows in that time
  (one per recipient at once, then one per recipient per ``digest_minutes``);
  ``notices_queued``: notices in the outbox then (they leave as the next digest);
  ``largest_mail_kb``: the biggest mail received.
Usage: scripts/bench_alarms.py [--quick] [--no-mail]   (--quick: 100 devices for 5 s;
--no-mail: no recipient, to see what the mail outbox costs the engine)
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from ews_tui.cli.demo import demo_box
from ews_tui.domain.alarms import AlarmChanged
from ews_tui.domain.auth import ScryptParams
from ews_tui.domain.events import DeviceState, DeviceStateChanged, Sample
from ews_tui.domain.notifications import DEFAULT_DIGEST_MINUTES, NotificationSettings, Recipient
from ews_tui.runtime import Runtime
from ews_tui.services.alarms import AlarmEngine
from ews_tui.services.installation import InstallationService
from ews_tui.services.mailer import Mailer
from ews_tui.services.settings import SettingsService
from ews_tui.store.alarms_repo import AlarmFilter

CHEAP = ScryptParams(n=2**4, r=1, p=1)
FIRST_ID = 100_001  # the flapping devices' ids: none of the demo's
SLICES = 20  # the second is cut in 20 ticks of 50 ms; each device has its tick
WARM_UP_S = 3.0  # the pollers' first cycles (connections) are not counted


RECIPIENTS = (Recipient("manager@bench.test"), Recipient("installer@bench.test", "fr"))


@dataclass
class Received:
    """What the SMTP server accepted: (monotonic time, recipients, size in bytes)."""

    mails: list[tuple[float, tuple[str, ...], int]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        size = len(content) if isinstance(content, bytes) else len(content.encode())
        self.mails.append((time.monotonic(), tuple(envelope.rcpt_tos), size))
        return "250 2.0.0 OK queued"

    def between(self, start: float, end: float) -> list[tuple[float, tuple[str, ...], int]]:
        return [m for m in self.mails if start <= m[0] <= end]


@contextmanager
def smtp_server(received: Received) -> Iterator[int]:
    """aiosmtpd on a free loopback port, in a thread with its own loop; yields the port."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="bench-smtp", daemon=True)
    thread.start()

    async def serve() -> asyncio.Server:
        return await loop.create_server(lambda: SMTP(received), "127.0.0.1", 0)

    server = asyncio.run_coroutine_threadsafe(serve(), loop).result(10)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:

        async def close() -> None:
            server.close()
            await server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


async def mail_to(rt: Runtime, port: int) -> None:
    """Alarm mails to RECIPIENTS through the server on ``port``, from now on."""
    await rt.get(SettingsService).apply(
        {
            "smtp.host": "127.0.0.1",
            "smtp.port": port,
            "smtp.security": "none",
            "smtp.sender": "box@bench.test",
            "smtp.timeout_s": 10,
        }
    )
    await rt.get(Mailer).save_notification_settings(
        NotificationSettings(recipients=RECIPIENTS, site_name="bench")
    )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def flap(rt: Runtime, devices: int, seconds: float) -> int:
    """Every device: a communication error at its tick, its end half a second later."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    published = 0
    ticks = int(seconds * SLICES)
    for tick in range(ticks):
        await asyncio.sleep(max(0.0, start + tick / SLICES - loop.time()))
        phase = tick % SLICES
        back = (phase + SLICES // 2) % SLICES
        for n in range(devices):
            if n % SLICES == phase:
                rt.hub.publish(DeviceStateChanged(FIRST_ID + n, DeviceState.COMM_ERROR, "bench"))
                published += 1
            elif n % SLICES == back and tick >= SLICES // 2:
                rt.hub.publish(DeviceStateChanged(FIRST_ID + n, DeviceState.ON))
                published += 1
    return published


def engine_queue(rt: Runtime) -> int:
    return next((s.queued for s in rt.hub.stats() if s.name == AlarmEngine.name), 0)


async def one_run(
    devices: int, seconds: float, with_alarms: bool, mail: bool = True
) -> dict[str, Any]:
    received = Received()
    with (
        tempfile.TemporaryDirectory(prefix="bench-alarms-") as data,
        smtp_server(received) as smtp_port,
    ):
        async with demo_box(Path(data), wire_time=False, scrypt=CHEAP) as rt:
            engine = rt.get(AlarmEngine)
            if not with_alarms:
                await engine.stop()  # the same box, the engine takes no event
            inst = rt.get(InstallationService).current
            main = inst.local.eq_device_id
            arrivals: list[float] = []
            transitions = 0
            samples = rt.hub.subscribe(Sample, lossless=True, name="bench-samples")
            changes = rt.hub.subscribe(AlarmChanged, maxsize=1, name="bench-alarms")

            async def collect() -> None:
                async for event in samples:
                    assert isinstance(event, Sample)
                    if event.device_id == main:
                        arrivals.append(time.monotonic())

            collector = asyncio.create_task(collect())
            await asyncio.sleep(WARM_UP_S)
            if mail:
                await mail_to(rt, smtp_port)
            arrivals.clear()
            written0, seen0 = engine.written, engine.changes_seen
            dropped0 = changes.dropped + len(changes)
            max_queued = 0
            started = time.monotonic()
            flapper = asyncio.create_task(flap(rt, devices, seconds))
            while not flapper.done():
                max_queued = max(max_queued, engine_queue(rt))
                await asyncio.sleep(0.1)
            published = flapper.result()
            flapped = time.monotonic()
            while with_alarms and engine_queue(rt):
                max_queued = max(max_queued, engine_queue(rt))
                await asyncio.sleep(0.05)
            drained = time.monotonic()
            window = list(arrivals)
            samples.close()
            await collector
            transitions = changes.dropped + len(changes) - dropped0
            changes.close()
            gaps = [abs((b - a) - 1.0) * 1e3 for a, b in itertools.pairwise(window)]
            figures: dict[str, Any] = {
                "events_published": published,
                "poll_jitter_ms": {
                    "p50": round(percentile(gaps, 0.5), 2),
                    "p99": round(percentile(gaps, 0.99), 2),
                    "max": round(max(gaps, default=float("nan")), 2),
                    "samples": len(window),
                },
            }
            mails = received.between(started, drained)
            figures["mail"] = {
                "mails_sent": len(mails),
                "mails_bound": (len(RECIPIENTS) if mail else 0)
                * (1 + int((drained - started) // (DEFAULT_DIGEST_MINUTES * 60))),
                "recipients": len(RECIPIENTS) if mail else 0,
                "digest_minutes": DEFAULT_DIGEST_MINUTES,
                "notices_queued": (await rt.get(Mailer).outbox.counts()).waiting,
                "largest_mail_kb": round(max((m[2] for m in mails), default=0) / 1024, 1),
            }
            if with_alarms:
                taken = drained - started
                page = await engine.page(AlarmFilter(), 0, 1)
                figures["engine"] = {
                    "changes_taken": engine.changes_seen - seen0,
                    "events_per_s": round(published / taken, 1),
                    "offered_per_s": round(published / (flapped - started), 1),
                    "drain_s": round(drained - flapped, 3),
                    "max_queued": max_queued,
                    "row_writes": engine.written - written0,
                    "alarm_rows": page.total,
                    "transitions": transitions,
                }
            return figures


async def bench(quick: bool, mail: bool = True) -> dict[str, Any]:
    devices, seconds = (100, 5.0) if quick else (1000, 60.0)
    baseline = await one_run(devices, seconds, with_alarms=False, mail=mail)
    alarms = await one_run(devices, seconds, with_alarms=True, mail=mail)
    p99_base = baseline["poll_jitter_ms"]["p99"]
    p99_alarms = alarms["poll_jitter_ms"]["p99"]
    return {
        "devices": devices,
        "seconds": seconds,
        "events_per_s_offered": round(2 * devices, 1),
        "events_published": alarms["events_published"],
        "engine": alarms["engine"],
        "poll_jitter_ms": {
            "baseline": baseline["poll_jitter_ms"],
            "alarms": alarms["poll_jitter_ms"],
        },
        "poll_jitter_p99_ratio": round(p99_alarms / p99_base, 2) if p99_base else None,
        "mails_sent": alarms["mail"]["mails_sent"],
        "mail": alarms["mail"],
        "cpus": os.cpu_count(),
        "load_1min": round(os.getloadavg()[0], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 devices for 5 s")
    parser.add_argument("--no-mail", action="store_true", help="no recipient (no mail queued)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    figures = asyncio.run(asyncio.wait_for(bench(args.quick, not args.no_mail), 900))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
