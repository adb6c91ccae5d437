"""The backup service in the production box (``running_box``, real store): nightly backups
kept to ``backup.keep``, one on request, a failure shown as a degraded service until the
next backup succeeds, and the night's hour in the site's time zone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ews_tui.domain.events import ServiceDegraded, ServiceRecovered
from ews_tui.runtime import Runtime
from ews_tui.services.backup import BackupService
from ews_tui.store.backup_restore import restore_backup
from ews_tui.supervision import Health
from ews_tui.ui.system_status import status_line
from tests.ui.box_fixtures import CLOSED_NTP, box_runtime

PARIS = ZoneInfo("Europe/Paris")


class Clock:
    def __init__(self, when: datetime) -> None:
        self.now = when.timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def box(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path, {**CLOSED_NTP, "backup.keep": 2}) as rt:
        yield rt


def service(rt: Runtime, clock: Clock, tmp_path: Path) -> BackupService:
    """A second backup service on the box's settings, with a clock of our own (the box's
    own one sleeps until 02:00)."""
    return BackupService(
        rt.hub,
        config=lambda: rt.config,
        config_path=tmp_path / "config.toml",
        clock=clock,
        supervisor=rt.supervisor,
    )


async def test_nightly_backups_are_kept_to_the_count_and_restore(
    box: Runtime, tmp_path: Path
) -> None:
    clock = Clock(datetime(2026, 12, 1, 2, 0, tzinfo=PARIS))
    backups = service(box, clock, tmp_path)
    made = []
    for _night in range(3):
        outcome = await backups.run_nightly()
        assert outcome.ok and outcome.path is not None
        made.append(outcome.path)
        clock.now += 86400
    assert [p.name for p in made] == [
        "nightly-20261201-020000.tar.gz",
        "nightly-20261202-020000.tar.gz",
        "nightly-20261203-020000.tar.gz",
    ]
    listed = await backups.backups()
    assert [b.path for b in listed] == [made[2], made[1]]  # keep = 2
    manual = await backups.create_now()
    assert manual.path is not None and manual.path.name.startswith("ews-backup-")
    assert len(await backups.backups()) == 3  # a backup made by hand is not pruned
    # A nightly file is a whole box: it restores onto a fresh one.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "config.toml").write_text('data_dir = "data"\n')
    restored = restore_backup(made[2], fresh / "config.toml")
    assert (restored.data_dir / "ews.sqlite").is_file()


async def test_a_failed_backup_is_shown_until_one_succeeds(box: Runtime, tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 12, 1, 2, 0, tzinfo=PARIS))
    backups = box.get(BackupService)
    backups._clock = clock  # the box's own service: its health is the one the UI shows
    folder = box.config.data_dir / "backups"
    folder.write_text("a file where the folder should be\n")
    with box.hub.subscribe(ServiceDegraded, ServiceRecovered, name="test") as events:
        outcome = await backups.run_nightly()
        assert not outcome.ok and outcome.problem is not None
        assert backups.last == outcome
        event = await events.get()
        assert isinstance(event, ServiceDegraded) and event.service == "backup"
        health = {h.name: h for h in box.supervisor.health()}["backup"]
        assert health.state is Health.DEGRADED
        line = status_line(box.supervisor.health(), ())
        assert line.problem and line.text.startswith("backup: cannot write the backup: ")

        folder.unlink()
        assert (await backups.run_nightly()).ok
        assert isinstance(await events.get(), ServiceRecovered)
        assert {h.name: h for h in box.supervisor.health()}["backup"].state is Health.RUNNING


@pytest.mark.parametrize(
    ("now", "hour", "wait"),
    [
        (datetime(2026, 12, 1, 1, 30, tzinfo=PARIS), 2, 1800),
        (datetime(2026, 12, 1, 2, 0, tzinfo=PARIS), 2, 86400),
        (datetime(2026, 12, 1, 23, 0, tzinfo=PARIS), 0, 3600),
        # The night the clocks go back: 01:00 to 03:00 local is three hours.
        (datetime(2026, 10, 25, 1, 0, tzinfo=PARIS), 3, 3 * 3600),
    ],
)
async def test_the_next_night_is_in_the_sites_time_zone(
    box: Runtime, tmp_path: Path, now: datetime, hour: int, wait: int
) -> None:
    from ews_tui.config import apply_changes

    config = apply_changes(box.config, {"backup.hour": hour}, tmp_path)
    backups = BackupService(
        box.hub, config=lambda: config, config_path=tmp_path / "config.toml", clock=Clock(now)
    )
    assert backups.next_wake() == wait


def test_the_backup_keys_are_checked_like_the_others(tmp_path: Path) -> None:
    from ews_tui.config import check_config

    problems = check_config({"backup": {"keep": 0, "hour": 24, "nightly": "yes"}}, tmp_path)
    assert [p.split(":")[0] for p in problems] == ["backup.nightly", "backup.hour", "backup.keep"]
