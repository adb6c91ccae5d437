#!/usr/bin/env python3
"""Crash bench: ``ews serve`` killed with SIGKILL while it records, restarted each time.

Simulated meters are served over Modbus TCP by this process (one IP gateway on loopback);
``ews serve`` runs as a child on a temp data dir and polls them every second. The bench
kills it at random moments (``--kills`` times, at least one within the recorder's grace
after a slot end, 15 s or a quarter of a shortened slot, where the slot just closed is still
waiting for late polls), restarts it at once, and at the
end stops it cleanly (SIGTERM). It prints ONE JSON line:

- ``polls_seen``: the fast polls the simulator answered (requests covering each meter's V1);
- ``polls_stored``: the count of V1 in the store (``measures``, or the slot saved open when
  it holds more: a slot merged after a restart);
- ``max_polls_lost_per_kill``: the largest growth of ``seen - stored`` over one run (seen
  and stored are read after each kill, before the restart); target: at most
  ``polls_per_cycle`` (one poll of every meter);
- ``polls_lost_at_clean_stop``: the same over the last run, ended by SIGTERM (at most the
  poll the poller was in the middle of: answered, not yet published);
- ``integrity_failures``: ``PRAGMA integrity_check`` answers other than ok, after each kill
  and at the end; ``restart_failures``: restarts that did not poll again within 60 s.

``--quick``: three kills with 10-second slots (``EWS_RECORDER_SLOT_SECONDS``, the
recorder's slot length for tests and benches only), well under a minute. The full run keeps
the real 10-minute slots, waits for one slot end (at most 10 minutes), and stops by itself
within about 20 minutes. Usage: scripts/bench_crash.py [--quick] [--kills N] [--seed N]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import random
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ews_tui.config import apply_changes, default_config, save_config
from ews_tui.services.recorder import SLOT_SECONDS_ENV, grace_seconds
from ews_tui.sim.device import DeviceSpec, ServedDevice
from ews_tui.sim.server import SimulatedBus
from ews_tui.store.open_slots import decode_partial

MODEL = "0 146 68"
QUANTITY = "v1"  # a fast quantity: one read of it is one poll
READY_S = 60.0  # a restart that polls nothing within this is a failure


class Counter:
    """Answered requests that read each meter's V1 register: the polls seen."""

    def __init__(self) -> None:
        self.seen: dict[int, int] = {}

    def wrap(self, device: ServedDevice) -> None:
        quantity = device.reg_map.quantity(QUANTITY)
        assert quantity is not None, f"{MODEL} has no {QUANTITY}"
        answer: Callable[[bytes, float], bytes] = device.answer
        address = device.spec.address

        def counted(pdu: bytes, now: float) -> bytes:
            response = answer(pdu, now)
            if len(pdu) == 5 and pdu[0] == quantity.fc and not response[0] & 0x80:
                start, count = int.from_bytes(pdu[1:3], "big"), int.from_bytes(pdu[3:5], "big")
                if start <= quantity.register < start + count:
                    self.seen[address] = self.seen.get(address, 0) + 1
            return response

        device.answer = counted  # type: ignore[method-assign]

    @property
    def total(self) -> int:
        return sum(self.seen.values())


def site_toml(port: int, meters: int) -> str:
    lines = ['[[gateways]]\nname = "Local"\nip = "127.0.0.1"\n']
    lines.append(f'[[gateways]]\nname = "Bench"\nip = "127.0.0.1"\nport = {port}\n')
    for address in range(1, meters + 1):
        lines.append(
            f'[[gateways.devices]]\nname = "Meter {address}"\nmodel = "{MODEL}"\n'
            f"address = {address}\n"
        )
    return "\n".join(lines)


def stored_polls(path: Path) -> int:
    """The V1 count the store holds (a slot saved open counts instead of its measures row
    when it holds more: it was merged after a restart and is the whole of that slot)."""
    from ews_tui.store.aggregates_repo import DEVICE_BITS, decode

    conn = sqlite3.connect(path)
    try:
        names = {int(i): str(n) for i, n in conn.execute("SELECT id, name FROM quantities")}
        layouts = {
            int(i): tuple(int.from_bytes(q[k : k + 2], "little") for k in range(0, len(q), 2))
            for i, q in conn.execute("SELECT id, qids FROM measure_layouts")
        }
        counts: dict[int, int] = {}
        for key, blob in conn.execute("SELECT slot_device, data FROM measures"):
            for stats in decode(bytes(blob), names, layouts):
                if stats.name == QUANTITY:
                    counts[int(key)] = stats.count
        for key, idx, blob in conn.execute("SELECT slot_device, idx, data FROM open_slots"):
            mask = (1 << DEVICE_BITS) - 1
            slot = decode_partial(int(key) & mask, int(key) >> DEVICE_BITS, idx, blob, names)
            acc = slot.acc.get(QUANTITY)
            if acc is not None:
                counts[int(key)] = max(counts.get(int(key), 0), int(acc[0]))
        return sum(counts.values())
    finally:
        conn.close()


def integrity_ok(path: Path) -> bool:
    conn = sqlite3.connect(path)
    try:
        return [tuple(r) for r in conn.execute("PRAGMA integrity_check")] == [("ok",)]
    finally:
        conn.close()


async def ews(*args: str, env: dict[str, str] | None = None, log: Any = None) -> Any:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ews_tui.cli",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=log or asyncio.subprocess.DEVNULL,
        stderr=log or asyncio.subprocess.DEVNULL,
        env=env,
    )


async def wait_polling(counter: Counter, since: int, process: Any) -> bool:
    """True once the simulator answered a poll after ``since`` (the box records again)."""
    deadline = time.monotonic() + READY_S
    while time.monotonic() < deadline and process.returncode is None:
        if counter.total > since:
            return True
        await asyncio.sleep(0.05)
    return False


def next_boundary(slot_s: int) -> float:
    now = time.time()
    return (now // slot_s + 1) * slot_s


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    slot_s = args.slot_seconds
    grace = grace_seconds(slot_s)  # the recorder's wait for late polls after a slot end
    work = Path(tempfile.mkdtemp(prefix="ews-bench-crash-"))
    data = work / "data"
    data.mkdir()
    env = dict(os.environ)
    if slot_s != 600:
        env[SLOT_SECONDS_ENV] = str(slot_s)
    counter = Counter()
    async with SimulatedBus() as bus:
        specs = [DeviceSpec(a, MODEL) for a in range(1, args.meters + 1)]
        endpoint = await bus.serve_tcp("127.0.0.1", 0, specs)
        for device in endpoint.devices.values():
            counter.wrap(device)
        config = apply_changes(
            default_config(data),
            {"rs485.enabled": False, "time.ntp_server": "127.0.0.1"},
            work,
        )
        config_path = work / "config.toml"
        save_config(config, config_path)
        site = work / "site.toml"
        site.write_text(site_toml(endpoint.port or 0, args.meters))
        imported = await ews("install", "import", str(site), "--config", str(config_path))
        if await imported.wait() != 0:
            raise SystemExit("bench_crash: ews install import failed")
        database = data / "ews.sqlite"
        log = (work / "serve.log").open("ab")
        boundary_at = {args.kills // 2} if args.kills > 1 else {0}
        deficits = [0]
        integrity_failures = restart_failures = after_boundary = 0
        started = time.monotonic()
        for kill in range(args.kills):
            process = await ews("serve", "--config", str(config_path), env=env, log=log)
            if not await wait_polling(counter, counter.total, process):
                restart_failures += 1
            if kill in boundary_at:
                # Kill within the grace after a slot end: that slot is closed, not written.
                target = next_boundary(slot_s) + rng.uniform(0.1, 0.8) * grace
            else:
                target = time.time() + rng.uniform(args.run_min, args.run_max)
            await asyncio.sleep(max(0.0, target - time.time()))
            if (time.time() % slot_s) < grace:
                after_boundary += 1
            if process.returncode is None:
                process.send_signal(signal.SIGKILL)
            else:
                restart_failures += 1  # it ended by itself: see serve.log
            await process.wait()
            await asyncio.sleep(0.2)  # answers already on their way
            deficits.append(counter.total - stored_polls(database))
            integrity_failures += not integrity_ok(database)
        process = await ews("serve", "--config", str(config_path), env=env, log=log)
        if not await wait_polling(counter, counter.total, process):
            restart_failures += 1
        await asyncio.sleep(args.run_min)
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await process.wait()
        await asyncio.sleep(0.2)
        log.close()
        deficits.append(counter.total - stored_polls(database))
        integrity_failures += not integrity_ok(database)
    losses = [b - a for a, b in itertools.pairwise(deficits)]
    return {
        "bench": "crash",
        "kills": args.kills,
        "kills_within_grace_after_slot_end": after_boundary,
        "slot_seconds": slot_s,
        "meters": args.meters,
        "polls_seen": counter.total,
        "polls_stored": stored_polls(database),
        "polls_per_cycle": args.meters,
        "polls_lost_per_kill": losses[:-1],
        "max_polls_lost_per_kill": max(losses[:-1], default=0),
        "polls_lost_at_clean_stop": losses[-1],
        "integrity_failures": integrity_failures,
        "restart_failures": restart_failures,
        "seconds": round(time.monotonic() - started, 1),
        "data_dir": str(data),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three kills, 10-second slots")
    parser.add_argument("--kills", type=int, help="kills (10; --quick 3)")
    parser.add_argument("--meters", type=int, default=4, help="simulated meters (4)")
    parser.add_argument("--slot-seconds", type=int, help="slot length (600; --quick 10)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the kill times (1)")
    args = parser.parse_args(argv)
    args.kills = args.kills or (3 if args.quick else 10)
    args.slot_seconds = args.slot_seconds or (10 if args.quick else 600)
    args.run_min, args.run_max = (1.5, 3.0) if args.quick else (5.0, 40.0)
    logging.disable(logging.CRITICAL)
    result = asyncio.run(bench(args))
    print(json.dumps(result))
    ok = result["max_polls_lost_per_kill"] <= result["polls_per_cycle"]
    return 0 if ok and not result["integrity_failures"] and not result["restart_failures"] else 1


if __name__ == "__main__":
    sys.exit(main())
