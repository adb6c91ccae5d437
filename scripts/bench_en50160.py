#!/usr/bin/env python3
"""EN 50160 benchmark: a week of 32 gateways' EQ devices checked, and the loop's longest stall.

A store holds one week of 10-minute stats for 32 gateways, each with an EQ device (a
0 146 68: 30 quantities) and three other devices, as a real site's store does. Then, in the
same run:

- ``check_s``: the checker judges the week of all 32 EQ devices (each device's week read by
  key in one snapshot, decoded column-wise and judged in threads), and stores and writes its
  reports (CSV off);
- ``raw_read_s``: the baseline, the same week's raw rows read and decoded by a plain scan of
  the measures table, each day in one query, nothing judged: what any check must at least do;
- ``check_over_raw``: the ratio;
- ``check_cpu_s`` / ``raw_cpu_s``: the CPU seconds each took (all threads): on a shared
  machine, what the check costs whatever the load;
- ``stall_ms`` / ``raw_stall_ms``: the loop's longest stall during each (a task that sleeps
  1 ms and records how late it wakes); ``idle_stall_ms``: the same probe over an idle loop
  for as long, the noise floor of a shared machine;
- ``verdicts``: the 32 weeks' verdicts (all must be "ok" here);
- ``load_avg``: the machine's 1-minute load average at the end (figures on a loaded machine
  are noisy: compare the ratios and CPU seconds).

    .venv/bin/python scripts/bench_en50160.py [--gateways 32] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ews_tui import heap
from ews_tui.config import default_config
from ews_tui.domain.aggregation import QuantityStats, SlotRecord
from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.en50160 import week_slots
from ews_tui.domain.installation import Device, Gateway, Installation
from ews_tui.hub import Hub
from ews_tui.modbus.device_reader import device_map
from ews_tui.services.en50160 import En50160Checker
from ews_tui.store.aggregates_repo import AggregatesRepo, Batch
from ews_tui.store.db import open_database

TZ = ZoneInfo("Europe/Paris")
MONDAY = date(2026, 11, 23)
EQ_MODEL = "0 146 68"
OTHER_MODEL = "4 149 20"
VALUES = {"v": 230.0, "u": 400.0, "f": 50.0, "thd": 2.5, "i": 40.0, "p": 20.0}


def site(gateways: int) -> Installation:
    gws, devices = [], []
    for g in range(1, gateways + 1):
        eq = g * 10
        gws.append(Gateway(g, f"GW {g}", f"10.0.{g}.1", eq_device_id=eq))
        devices.append(Device(eq, g, EQ_MODEL, 1, f"EQ {g}"))
        devices += [Device(eq + k, g, OTHER_MODEL, 1 + k, f"D {g}-{k}") for k in (1, 2, 3)]
    return Installation(tuple(gws), tuple(devices))


def value_of(qid: str, slot: int) -> float:
    base = next((v for k, v in VALUES.items() if qid.startswith(k)), 1.0)
    return base * (1 + 0.002 * ((slot * 7 + len(qid)) % 5 - 2))


def stats_of(qids: list[str], slot: int) -> tuple[QuantityStats, ...]:
    return tuple(
        QuantityStats(
            q, 10, value_of(q, slot), value_of(q, slot) * 0.999, value_of(q, slot) * 1.001
        )
        for q in qids
    )


async def fill(db_path: Path, inst: Installation) -> None:
    catalog = builtin_catalog()
    db = await open_database(db_path)
    try:
        repo = AggregatesRepo(db)
        ids = {d.id: [q.id for q in device_map(d, catalog)[1].quantities] for d in inst.devices}
        slots = week_slots(MONDAY, TZ)
        for day in range(0, len(slots), 144):
            records = [
                SlotRecord(device, slot, stats_of(qids, slot))
                for slot in slots[day : day + 144]
                for device, qids in ids.items()
            ]
            await repo.write(Batch(records=records))
    finally:
        await db.close()


async def timed(work: Callable[[], Awaitable[Any]]) -> tuple[float, float, float, Any]:
    """Seconds ``work`` took, the CPU seconds of the process (every thread) meanwhile, the
    loop's longest stall meanwhile (ms), and its result."""
    loop = asyncio.get_running_loop()
    worst = 0.0
    done = False

    async def probe() -> None:
        nonlocal worst
        while not done:
            before = loop.time()
            await asyncio.sleep(0.001)
            worst = max(worst, loop.time() - before - 0.001)

    task = asyncio.create_task(probe())
    await asyncio.sleep(0.01)
    start, cpu = time.perf_counter(), time.process_time()
    result = await work()
    took = time.perf_counter() - start
    cpu = time.process_time() - cpu
    done = True
    await task
    return took, cpu, worst * 1000, result


async def run(gateways: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        config = default_config(Path(tmp))
        config = config.__class__(**{**config.__dict__, "csv": config.csv.__class__(enabled=False)})
        inst = site(gateways)
        db_path = Path(tmp) / "ews.sqlite"
        await fill(db_path, inst)
        db = await open_database(db_path)
        try:
            repo = AggregatesRepo(db)
            slots = week_slots(MONDAY, TZ)

            async def raw() -> int:
                count = 0
                for day in range(slots.start, slots.stop, 144):
                    count += len(await repo.measures(day, min(day + 144, slots.stop)))
                return count

            checker = En50160Checker(
                db,
                Hub(),
                config=lambda: config,
                installation=lambda: inst,
                catalog=builtin_catalog,
                clock=lambda: 1_796_000_000.0,  # a Tuesday after the week
            )

            async def check() -> list[str]:
                out = []
                for gateway in inst.gateways:
                    week = await checker.check(gateway, MONDAY)
                    assert week is not None
                    out.append(week.report.verdict.value)
                return out

            # The box settles its heap once its services run (`ews serve`): so does the bench.
            heap.settle()
            raw_s, raw_cpu, raw_stall, rows = await timed(raw)
            check_s, check_cpu, stall, verdicts = await timed(check)
            # The noise floor of a shared machine: the same probe over an idle loop.
            _idle_s, _idle_cpu, idle_stall, _none = await timed(lambda: asyncio.sleep(check_s))
        finally:
            await db.close()
    return {
        "gateways": gateways,
        "rows": rows,
        "check_s": round(check_s, 3),
        "raw_read_s": round(raw_s, 3),
        "check_over_raw": round(check_s / raw_s, 2),
        "check_cpu_s": round(check_cpu, 3),
        "raw_cpu_s": round(raw_cpu, 3),
        "stall_ms": round(stall, 1),
        "raw_stall_ms": round(raw_stall, 1),
        "idle_stall_ms": round(idle_stall, 1),
        "verdicts": sorted(set(verdicts)),
        "load_avg": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateways", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="4 gateways (the test's run)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(4 if args.quick else args.gateways))))


if __name__ == "__main__":
    main()
