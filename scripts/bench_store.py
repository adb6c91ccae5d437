#!/usr/bin/env python3
"""Store benchmark: ingest rate, size per device-year, monthly-by-circuit table time.

Prints one JSON line:

- ``ingest_samples_per_s``: Sample events (a device's poll, ~20 values each) through the
  Recorder's ``ingest`` and ``flush``, 32 devices polled every 10 s for ``--ingest-hours``
  hours, one transaction per 10-minute slot as the live box commits its closed slots
  (``ingest_commits`` of ``ingest_slots``);
  ``ingest_values_per_s`` counts the values; ``ingest_with_open_saves_samples_per_s`` adds
  the live box's save of its open slots after each poll round (the live recorder saves them
  every 0.5 s while samples come: once a round is the least it does);
- ``mb_per_device_year``: the database size after a year of 32 devices (one sample per
  10-minute slot) divided by 32; one poll a slot gives min = max, which the measures store
  as one number, so ``mb_per_device_year_polled`` is what the file grows from day N to day
  2N (N = ``--polled-days``) polled every 60 s (min < max: the size of a live box), scaled
  to a year;
- ``table_ms``: the monthly-by-circuit consumption and cost table over that year with flat
  tariffs (a price change on 1 August), from the daily and hourly rollups; ``baseline_ms``:
  the same table computed by scanning the raw index readings in Python without rollups;
  both best of ``--repeat`` (5) after one warm-up run each; ``same_answer``: both agree.
  ``table_banded_ms``: the same with weekday peak hours (each hour priced by its class: the
  daily rollups keep the amount of each hour).

    .venv/bin/python scripts/bench_store.py [--quick] [--days 365] [--ingest-hours 6]
        [--polled-days 28] [--repeat 5]

``--quick``: 7 days, half an ingest hour, 1 polled day, best of 2 (for tests).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ews_tui.domain.catalog import builtin_catalog
from ews_tui.domain.costs import (
    CostRule,
    CostSettings,
    EnergyCosts,
    Tariff,
    TimeBand,
)
from ews_tui.domain.events import Sample
from ews_tui.domain.installation import Circuit, Device, Gateway, Installation
from ews_tui.hub import Hub
from ews_tui.services.recorder import Recorder
from ews_tui.store.aggregates_repo import AggregatesRepo
from ews_tui.store.consumption_repo import ConsumptionRepo
from ews_tui.store.db import open_database

MODELS = ("0 146 68", "4 149 20", "DPX3 630 MU", "0 046 77")  # 30, 17, 24, 9 quantities
DEVICES = 32
TZ = ZoneInfo("Europe/Paris")


def installation() -> Installation:
    circuits = tuple(Circuit(i, f"Circuit {i}") for i in range(1, 9))
    devices = tuple(
        Device(n, 1, MODELS[n % len(MODELS)], n, name=f"D{n}", circuit_id=1 + n % 8)
        for n in range(1, DEVICES + 1)
    )
    return Installation((Gateway(1, "Local", "127.0.0.1"),), devices, circuits)


def templates(inst: Installation) -> dict[int, tuple[str, ...]]:
    catalog = builtin_catalog()
    out = {}
    for device in inst.devices:
        model = catalog.find(device.model)
        reg_map = catalog.register_map(model) if model else None
        assert reg_map is not None
        out[device.id] = tuple(q.id for q in reg_map.quantities if q.id != "breaker")
    return out


def sample(device_id: int, ids: tuple[str, ...], ts: float, energy: float) -> Sample:
    wave = math.sin(ts / 3600.0 + device_id)
    values: dict[str, float | str | None] = {qid: 100.0 + 10.0 * wave + device_id for qid in ids}
    values["ea_import"] = energy
    return Sample(device_id, ts, values)


async def fill(
    db_path: Path,
    inst: Installation,
    start: float,
    seconds: float,
    poll: float,
    sizes: dict[float, int] | None = None,
    *,
    commit_every: float = 600.0,
    open_saves: bool = False,
) -> tuple[int, int, float, int]:
    """Samples of every device every ``poll`` s; (samples, values, seconds spent recording,
    transactions of closed slots).

    One transaction of closed slots every ``commit_every`` s of samples (600: each slot, as
    live); ``open_saves``: also save the open slots after each poll round, as the live
    recorder does. ``sizes``: its keys are times (seconds from ``start``, on a commit) at
    which the file's size, WAL written back, is put in it."""
    db = await open_database(db_path)
    # A hub makes the recorder a live one, which saves its open slots; it is never started.
    recorder = Recorder(Hub() if open_saves else None, AggregatesRepo(db))
    ids = templates(inst)
    energy = {d.id: 1000.0 * d.id for d in inst.devices}
    samples = values = 0
    spent = 0.0
    ts = start
    while ts < start + seconds:
        rounds: list[list[Sample]] = []
        end = min(ts + commit_every, start + seconds)
        while ts < end:
            batch = []
            for device in inst.devices:
                kw = 2.0 + math.sin(ts / 7200.0 + device.id) + device.id / 8
                energy[device.id] += kw * poll / 3600.0
                batch.append(sample(device.id, ids[device.id], ts, energy[device.id]))
            rounds.append(batch)
            ts += poll
        t0 = time.perf_counter()
        for batch in rounds:
            for s in batch:
                recorder.ingest(s)
            if open_saves:
                await recorder.save()
        await recorder.flush(int(ts // 600))
        spent += time.perf_counter() - t0
        samples += sum(len(batch) for batch in rounds)
        values += sum(len(s.values) for batch in rounds for s in batch)
        if sizes is not None and ts - start in sizes:
            await recorder.flush()
            await db.fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
            sizes[ts - start] = db_path.stat().st_size
    t0 = time.perf_counter()
    await recorder.flush()
    spent += time.perf_counter() - t0
    await db.close()
    return samples, values, spent, recorder.batches


async def checkpointed_size(db_path: Path) -> int:
    """The size of the database file once its WAL is written back."""
    db = await open_database(db_path)
    await db.fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
    await db.close()
    return db_path.stat().st_size


def costs(banded: bool) -> CostSettings:
    """A tariff change on 1 August; with ``banded``, weekday peak hours 07-22."""
    peak = (TimeBand(frozenset(range(5)), 7, 22, Decimal("0.2516")),) if banded else ()
    return CostSettings(
        (
            EnergyCosts(
                "electricity",
                "EUR",
                (
                    CostRule(
                        "peak/off-peak",
                        (
                            Tariff(date(2000, 1, 1), Decimal("0.1696"), peak),
                            Tariff(date(2025, 8, 1), Decimal("0.18"), peak),
                        ),
                    ),
                ),
            ),
        )
    )


async def tables(
    db_path: Path, inst: Installation, first: date, end: date, banded: bool, repeat: int
) -> dict[str, object]:
    db = await open_database(db_path)
    repo = ConsumptionRepo(db)
    catalog = builtin_catalog()
    settings = costs(banded)
    args = (inst, catalog, settings, TZ, first, end, "month", "circuit")
    # One warm-up run each (the page cache, like a screen that was already open), then the
    # best of ``repeat``, alternated so that a load change on the machine hits both.
    fast = await repo.table(*args)
    slow = await repo.table_from_readings(*args)
    fast_times, slow_times = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fast = await repo.table(*args)
        fast_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        slow = await repo.table_from_readings(*args)
        slow_times.append(time.perf_counter() - t0)
    slow_time = min(slow_times)
    same = all(
        abs((a.value if a else 0) - (b.value if b else 0)) < 1e-6 * (1 + (a.value if a else 0))
        and abs(((a and a.cost) or 0) - ((b and b.cost) or 0)) < 1e-6 * (1 + ((a and a.cost) or 0))
        for key, row in fast.rows.items()
        for a, b in zip(row, slow.rows[key], strict=True)
    )
    await db.close()
    return {
        "table_ms": round(min(fast_times) * 1000, 2),
        "baseline_ms": round(slow_time * 1000, 1),
        "repeat": repeat,
        "speedup": round(slow_time / min(fast_times), 1),
        "same_answer": same,
        "rows": len(fast.rows) * len(fast.periods),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--ingest-hours", type=float, default=6.0)
    parser.add_argument("--polled-days", type=int, default=28)
    parser.add_argument("--repeat", type=int, default=5, help="best of N table runs")
    parser.add_argument("--quick", action="store_true", help="7 days, 0.5 h, 1 day, best of 2")
    args = parser.parse_args()
    if args.quick:
        args.days, args.ingest_hours, args.polled_days, args.repeat = 7, 0.5, 1, 2
    inst = installation()
    with tempfile.TemporaryDirectory(prefix="ews-bench-") as tmp:
        folder = Path(tmp)
        first = date(2025, 1, 1)
        start = datetime(2025, 1, 1, tzinfo=TZ).timestamp()
        ingest_s = args.ingest_hours * 3600
        ingest = await fill(folder / "ingest.sqlite", inst, start, ingest_s, 10.0)
        samples, values, spent, commits = ingest
        live_samples, _, live_spent, _ = await fill(
            folder / "ingest-live.sqlite", inst, start, ingest_s, 10.0, open_saves=True
        )
        # The growth from day N to day 2N: what a year adds, without the fixed pages (schema,
        # catalogs, the first page of each table) that a scaled-up total would count 13 times.
        polled = args.polled_days * 86400.0
        sizes = {polled: 0, 2 * polled: 0}
        await fill(folder / "polled.sqlite", inst, start, 2 * polled, 60.0, sizes)
        polled_growth = sizes[2 * polled] - sizes[polled]
        year_db = folder / "year.sqlite"
        t0 = time.perf_counter()
        # Setup, not a figure: one transaction an hour (the quickest way to fill it).
        await fill(year_db, inst, start, args.days * 86400, 600.0, commit_every=3600.0)
        fill_s = time.perf_counter() - t0
        size = await checkpointed_size(year_db)
        last = first + timedelta(days=args.days)
        result = await tables(year_db, inst, first, last, False, args.repeat)
        banded = await tables(year_db, inst, first, last, True, args.repeat)
    print(
        json.dumps(
            {
                "bench": "store",
                "devices": DEVICES,
                "days": args.days,
                "ingest_samples_per_s": round(samples / spent),
                "ingest_values_per_s": round(values / spent),
                "ingest_commits": commits,
                "ingest_slots": math.ceil(ingest_s / 600),
                "ingest_with_open_saves_samples_per_s": round(live_samples / live_spent),
                "values_per_sample": round(values / samples, 1),
                "mb_per_device_year": round(size / DEVICES / 2**20 * 365 / args.days, 2),
                "mb_per_device_year_polled": round(
                    polled_growth / DEVICES / 2**20 * 365 / args.polled_days, 2
                ),
                "year_fill_s": round(fill_s, 1),
                **result,
                "table_banded_ms": banded["table_ms"],
                "baseline_banded_ms": banded["baseline_ms"],
                "same_answer_banded": banded["same_answer"],
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
