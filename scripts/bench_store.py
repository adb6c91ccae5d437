#!/usr/bin/env python3
"""Store benchmark: ingest rate, size per device-year, monthly-by-circuit table time.

Prints one JSON line:

- ``ingest_samples_per_s``: Sample events (a device's poll, ~20 values each) through the
  Recorder's ``ingest`` and ``flush`` (batched transactions included), 32 devices polled every
  10 s for ``--ingest-hours`` hours; ``ingest_values_per_s`` counts the values;
- ``mb_per_device_year``: the database size after a year of 32 devices (one sample per
  10-minute slot) divided by 32; one poll a slot gives min = max, which the measures store
  as one number, so ``mb_per_device_year_polled`` is what the file grows from day N to day
  2N (N = ``--polled-days``) polled every 60 s (min < max: the size of a live box), scaled
  to a year;
- ``table_ms``: the monthly-by-circuit consumption and cost table over that year (best of 5)
  with flat tariffs (a price change on 1 August), from the daily and hourly rollups;
  ``baseline_ms``: the same table computed by scanning the raw index readings in Python
  without rollups; ``same_answer``: both agree. ``table_banded_ms``: the same with weekday
  peak hours (each hour priced by its class: the daily rollups keep the amount of each hour).

    .venv/bin/python scripts/bench_store.py [--days 365] [--ingest-hours 6] [--polled-days 28]
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
) -> tuple[int, int, float]:
    """Samples of every device every ``poll`` s; (samples, values, seconds spent recording).

    ``sizes``: its keys are times (seconds from ``start``, on a whole hour) at which the
    file's size, WAL written back, is put in it."""
    db = await open_database(db_path)
    recorder = Recorder(None, AggregatesRepo(db))
    ids = templates(inst)
    energy = {d.id: 1000.0 * d.id for d in inst.devices}
    samples = values = 0
    spent = 0.0
    ts = start
    chunk = 3600.0
    while ts < start + seconds:
        batch = []
        end = min(ts + chunk, start + seconds)
        while ts < end:
            for device in inst.devices:
                kw = 2.0 + math.sin(ts / 7200.0 + device.id) + device.id / 8
                energy[device.id] += kw * poll / 3600.0
                batch.append(sample(device.id, ids[device.id], ts, energy[device.id]))
            ts += poll
        t0 = time.perf_counter()
        for s in batch:
            recorder.ingest(s)
        await recorder.flush(int(ts // 600))
        spent += time.perf_counter() - t0
        samples += len(batch)
        values += sum(len(s.values) for s in batch)
        if sizes is not None and ts - start in sizes:
            await recorder.flush()
            await db.fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
            sizes[ts - start] = db_path.stat().st_size
    t0 = time.perf_counter()
    await recorder.flush()
    spent += time.perf_counter() - t0
    await db.close()
    return samples, values, spent


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
    db_path: Path, inst: Installation, first: date, end: date, banded: bool
) -> dict[str, object]:
    db = await open_database(db_path)
    repo = ConsumptionRepo(db)
    catalog = builtin_catalog()
    settings = costs(banded)
    args = (inst, catalog, settings, TZ, first, end, "month", "circuit")
    await repo.table(*args)  # warm the page cache like a screen that was already open
    fast_times = []
    for _ in range(5):
        t0 = time.perf_counter()
        fast = await repo.table(*args)
        fast_times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    slow = await repo.table_from_readings(*args)
    slow_time = time.perf_counter() - t0
    same = all(
        abs((a.value if a else 0) - (b.value if b else 0)) < 1e-6 * (1 + (a.value if a else 0))
        and abs((a.cost or 0) - (b.cost or 0)) < 1e-6 * (1 + (a.cost or 0))
        for key, row in fast.rows.items()
        for a, b in zip(row, slow.rows[key], strict=True)
    )
    await db.close()
    return {
        "table_ms": round(min(fast_times) * 1000, 2),
        "baseline_ms": round(slow_time * 1000, 1),
        "speedup": round(slow_time / min(fast_times), 1),
        "same_answer": same,
        "rows": len(fast.rows) * len(fast.periods),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--ingest-hours", type=float, default=6.0)
    parser.add_argument("--polled-days", type=int, default=28)
    args = parser.parse_args()
    inst = installation()
    with tempfile.TemporaryDirectory(prefix="ews-bench-") as tmp:
        folder = Path(tmp)
        first = date(2025, 1, 1)
        start = datetime(2025, 1, 1, tzinfo=TZ).timestamp()
        samples, values, spent = await fill(
            folder / "ingest.sqlite", inst, start, args.ingest_hours * 3600, 10.0
        )
        # The growth from day N to day 2N: what a year adds, without the fixed pages (schema,
        # catalogs, the first page of each table) that a scaled-up total would count 13 times.
        polled = args.polled_days * 86400.0
        sizes = {polled: 0, 2 * polled: 0}
        await fill(folder / "polled.sqlite", inst, start, 2 * polled, 60.0, sizes)
        polled_growth = sizes[2 * polled] - sizes[polled]
        year_db = folder / "year.sqlite"
        t0 = time.perf_counter()
        await fill(year_db, inst, start, args.days * 86400, 600.0)
        fill_s = time.perf_counter() - t0
        size = await checkpointed_size(year_db)
        last = first + timedelta(days=args.days)
        result = await tables(year_db, inst, first, last, banded=False)
        banded = await tables(year_db, inst, first, last, banded=True)
    print(
        json.dumps(
            {
                "bench": "store",
                "devices": DEVICES,
                "days": args.days,
                "ingest_samples_per_s": round(samples / spent),
                "ingest_values_per_s": round(values / spent),
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
