"""The CSV day files from a real store: rows in the order of time, also when clocks go back."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ews_tui.domain.catalog import Catalog
from ews_tui.domain.consumption import Reading
from ews_tui.domain.installation import Installation
from ews_tui.domain.periods import SLOT_SECONDS, local_midnight
from ews_tui.store.aggregates_repo import AggregatesRepo, Batch
from ews_tui.store.csv_export import CsvExporter
from ews_tui.store.db import Database

PARIS = ZoneInfo("Europe/Paris")
BACK = date(2024, 10, 27)  # 03:00 CEST becomes 02:00 CET: 25 hours


async def test_the_day_the_clocks_go_back_is_in_the_order_of_time(
    db: Database, rich: Installation, catalog: Catalog, tmp_path: Path
) -> None:
    repo = AggregatesRepo(db)
    a = local_midnight(BACK, PARIS) // SLOT_SECONDS
    b = local_midnight(date(2024, 10, 28), PARIS) // SLOT_SECONDS
    assert b - a == 150
    readings = [(d.id, Reading(s, 1000.0 + s - a)) for s in range(a, b) for d in rich.devices[:2]]
    await repo.write(Batch(readings=readings))
    await CsvExporter(repo, rich, catalog, PARIS).export(tmp_path, BACK, date(2024, 10, 28))
    with (tmp_path / "energy" / f"{BACK}.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 300
    instants = [datetime.fromisoformat(r["timestamp"]).timestamp() for r in rows]
    assert instants == sorted(instants)
    stamps = [r["timestamp"] for r in rows[::2]]
    at_two = stamps.index("2024-10-27T02:00:00+02:00")
    assert stamps[at_two : at_two + 7] == [
        "2024-10-27T02:00:00+02:00",
        "2024-10-27T02:10:00+02:00",
        "2024-10-27T02:20:00+02:00",
        "2024-10-27T02:30:00+02:00",
        "2024-10-27T02:40:00+02:00",
        "2024-10-27T02:50:00+02:00",
        "2024-10-27T02:00:00+01:00",
    ]
    assert [r["consumption"] for r in rows[2::2]] == ["1.0"] * 149  # one per slot, in order


def test_events_are_copied_for_the_days_the_box_has(tmp_path: Path) -> None:
    source = tmp_path / "box"
    (source / "events").mkdir(parents=True)
    day = source / "events" / "2024-05-01.csv"
    day.write_text("timestamp,kind,id,name,state,detail\n", encoding="utf-8")
    (source / "events" / "2024-05-03.csv").write_text("x\n", encoding="utf-8")  # out of range
    out = tmp_path / "out"
    written = CsvExporter.copy_events(source, out, date(2024, 5, 1), date(2024, 5, 3))
    assert written == [out / "events" / "2024-05-01.csv"]
    assert written[0].read_bytes() == day.read_bytes()
    # Exporting into the box's own folder copies nothing onto itself.
    assert CsvExporter.copy_events(source, source, date(2024, 5, 1), date(2024, 5, 3)) == []
