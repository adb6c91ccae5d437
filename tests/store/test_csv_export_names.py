"""The CSV day files escape control characters of a name stored before they were refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
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
DAY = date(2024, 5, 1)


async def test_a_hostile_device_name_is_written_escaped(
    db: Database, rich: Installation, catalog: Catalog, tmp_path: Path
) -> None:
    device = replace(rich.devices[0], name="\x1b]0;PWNED\x07\x1b[2J\x9b")
    inst = replace(rich, devices=(device, *rich.devices[1:]))
    repo = AggregatesRepo(db)
    first = local_midnight(DAY, PARIS) // SLOT_SECONDS
    await repo.write(
        Batch(readings=[(device.id, Reading(s, 10.0 + s - first)) for s in range(first, first + 6)])
    )
    await CsvExporter(repo, inst, catalog, PARIS).export(tmp_path, DAY, date(2024, 5, 2))
    text = (tmp_path / "energy" / f"{DAY}.csv").read_text(encoding="utf-8")
    assert "\\x1b]0;PWNED\\x07\\x1b[2J\\x9b" in text
    assert not any(c in text for c in "\x1b\x07\x9b")
