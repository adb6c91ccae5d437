"""The alarms tables (migration 7): writes, acknowledgements that nothing overwrites, the
list's order, filters and paging, retention, thresholds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from ews_tui.domain.alarm_sources import Threshold
from ews_tui.domain.alarms import (
    Acknowledgement,
    Alarm,
    AlarmType,
    AlarmWrite,
    Severity,
    Subject,
)
from ews_tui.store.alarms_repo import AlarmFilter, AlarmsRepo
from ews_tui.store.db import open_database
from ews_tui.store.migrations import MIGRATIONS, current_version


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[AlarmsRepo]:
    db = await open_database(tmp_path / "ews.sqlite")
    yield AlarmsRepo(db)
    await db.close()


def alarm(id: int, device: int, gateway: int = 1, **more: object) -> Alarm:
    fields: dict[str, object] = {
        "id": id,
        "type": AlarmType.DEVICE_COMM_ERROR,
        "severity": Severity.MAJOR,
        "subject": Subject("device", device, "", gateway, f"Meter {device}"),
        "raised_at": float(id),
        "last_at": float(id),
    }
    fields.update(more)
    return Alarm(**fields)  # type: ignore[arg-type]


async def test_migration_7_is_the_alarms(repo: AlarmsRepo) -> None:
    assert MIGRATIONS[6].version == 7
    assert await current_version(repo.db) >= 7
    assert "alarms" in MIGRATIONS[6].description


async def test_record_then_read_back(repo: AlarmsRepo) -> None:
    first = alarm(1, 10, value="comm_error", detail="timeout")
    await repo.record([AlarmWrite(first, new=True)])
    assert await repo.get(1) == first
    cleared = replace(first, cleared_at=5.0, count=3)
    await repo.record([AlarmWrite(cleared, new=False)])
    assert await repo.get(1) == cleared
    assert await repo.max_id() == 1


async def test_an_update_never_undoes_an_acknowledgement(repo: AlarmsRepo) -> None:
    await repo.record([AlarmWrite(alarm(1, 10), new=True)])
    ack = Acknowledgement("system", "cli", 3.0)
    assert [a.id for a in await repo.acknowledge(None, ack)] == [1]
    # The engine did not know (another process acknowledged): its update keeps the ack.
    await repo.record([AlarmWrite(alarm(1, 10, cleared_at=4.0), new=False)])
    stored = await repo.get(1)
    assert stored is not None and stored.ack == ack and stored.cleared_at == 4.0
    assert await repo.acknowledge([1], replace(ack, role="server")) == []
    assert [a.id for a in await repo.acknowledged_among([1, 2])] == [1]


async def test_also_runs_in_the_same_transaction(repo: AlarmsRepo) -> None:
    async def fail(conn: object) -> None:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        await repo.record([AlarmWrite(alarm(1, 10), new=True)], also=fail)  # type: ignore[arg-type]
    assert await repo.get(1) is None


async def test_page_active_first_filters_and_paging(repo: AlarmsRepo) -> None:
    writes = [
        AlarmWrite(alarm(1, 10, cleared_at=2.0), True),
        AlarmWrite(alarm(2, 11, gateway=2), True),
        AlarmWrite(alarm(3, 12, cleared_at=4.0, severity=Severity.INFO), True),
        AlarmWrite(alarm(4, 10, type=AlarmType.BREAKER_TRIPPED, severity=Severity.CRITICAL), True),
    ]
    await repo.record(writes)
    everything = await repo.page(AlarmFilter())
    assert [a.id for a in everything.alarms] == [4, 2, 3, 1] and everything.total == 4
    second = await repo.page(AlarmFilter(), offset=2, limit=1)
    assert [a.id for a in second.alarms] == [3] and second.total == 4
    ids = {
        "active": [4, 2],
        "cleared": [3, 1],
    }
    for state, expected in ids.items():
        assert [a.id for a in (await repo.page(AlarmFilter(state=state))).alarms] == expected
    assert [a.id for a in (await repo.page(AlarmFilter(severity=Severity.MAJOR))).alarms] == [
        4,
        2,
        1,
    ]
    by_type = await repo.page(AlarmFilter(type=AlarmType.BREAKER_TRIPPED))
    assert [a.id for a in by_type.alarms] == [4]
    assert [a.id for a in (await repo.page(AlarmFilter(gateway_id=2))).alarms] == [2]
    assert [a.id for a in (await repo.page(AlarmFilter(device_id=10))).alarms] == [4, 1]
    counts = await repo.counts()
    assert (counts.active, counts.unacknowledged) == (2, 2)


async def test_open_alarms_and_purge(repo: AlarmsRepo) -> None:
    await repo.record(
        [
            AlarmWrite(alarm(1, 10, cleared_at=2.0), True),
            AlarmWrite(alarm(2, 11), True),
            AlarmWrite(alarm(3, 12, cleared_at=40.0, last_at=30.0), True),
        ]
    )
    assert [a.id for a in await repo.open_alarms(since=20.0)] == [2, 3]
    assert await repo.purge(before=10.0) == 1
    assert [a.id for a in (await repo.page(AlarmFilter())).alarms] == [2, 3]


async def test_thresholds_saved_by_name(repo: AlarmsRepo) -> None:
    limit = Threshold(0, "Site power", "site", None, "p", ">", 80.0, 2.0, 30.0, Severity.MAJOR)
    saved = await repo.save_threshold(limit)
    assert saved.id > 0
    again = await repo.save_threshold(replace(limit, limit=90.0))
    assert again.id == saved.id
    assert await repo.thresholds() == [replace(limit, id=saved.id, limit=90.0)]
    await repo.delete_threshold(saved.id)
    assert await repo.thresholds() == []
