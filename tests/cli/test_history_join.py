"""The backfill's join judges each device's last step by that device's own limit (a gas meter
is not an electricity meter: the join used electricity's limit for every device)."""

from __future__ import annotations

from pathlib import Path

from ews_tui.cli.history import JoiningRepo
from ews_tui.domain.consumption import MAX_RATE, Reading
from ews_tui.store.aggregates_repo import Batch
from ews_tui.store.db import open_database

SLOT = 3_000_000
GAS, METER = 1, 2


async def test_the_join_judges_each_device_by_its_own_limit(tmp_path: Path) -> None:
    # 2,000 units in one 10-minute slot: 12,000 an hour, over gas's limit, under electricity's.
    assert MAX_RATE["gas"] < 12_000 < MAX_RATE["electricity"]
    limits = {GAS: MAX_RATE["gas"], METER: MAX_RATE["electricity"]}
    db = await open_database(tmp_path / "ews.sqlite")
    try:
        repo = JoiningRepo(
            db, {GAS: Reading(SLOT, 2000.0), METER: Reading(SLOT, 2000.0)}, limits.__getitem__
        )
        batch = Batch(readings=[(GAS, Reading(SLOT - 1, 0.0)), (METER, Reading(SLOT - 1, 0.0))])
        await repo.write(batch)
    finally:
        await db.close()
    joined = {device for device, _rollup in batch.rollups}
    assert joined == {METER}  # the gas step is a suspect, not 2,000 m³ in ten minutes
