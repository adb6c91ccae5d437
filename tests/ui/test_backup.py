"""The Backup page (Pilot, 80x24): Create backup now writes a whole-box file while the box
runs, the list shows it, the nightly settings save, a failure shows in red; installer
(server configuration) role only; snapshots in English and French."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from textual.widgets import Input, Static

from ews_tui.config import load_config
from ews_tui.runtime import Runtime
from ews_tui.store.backup_archive import extract_archive
from ews_tui.ui.menu import sections_for
from ews_tui.ui.screens.backup import BackupScreen
from ews_tui.ui.session import Role
from tests.ui.box_fixtures import SnapshotApp, box_runtime, make_box_app


@pytest.fixture
async def box(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path) as rt:
        yield rt


async def _settled(pilot: Any) -> None:
    jobs = ("list", "save", "create")
    for _ in range(10):
        await pilot.pause()
        workers = [w for w in pilot.app.workers if w.group in jobs and not w.is_finished]
        if not workers:
            break
        await pilot.app.workers.wait_for_complete(workers)
    await pilot.pause()


def _text(pilot: Any, selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).content)


async def test_create_now_lists_the_backup_and_settings_save(box: Runtime, tmp_path: Path) -> None:
    app = make_box_app(box, "backup", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        assert isinstance(app.screen, BackupScreen)
        assert _text(pilot, "#backup-list") == "No backup yet."

        await pilot.press("f5")
        await _settled(pilot)
        assert "written: ews-backup-" in _text(pilot, "#status")
        files = list((box.config.data_dir / "backups").iterdir())
        assert len(files) == 1 and os.stat(files[0]).st_mode & 0o777 == 0o600
        assert files[0].name in _text(pilot, "#backup-list")
        assert _text(pilot, "#backup-list").endswith(" kB " + files[0].name + " by hand")
        manifest = extract_archive(files[0], tmp_path / "check")
        assert {"config.toml", "data/ews.sqlite"} <= {m.path for m in manifest.members}

        field = app.screen.query_one("#set-backup-keep", Input)
        field.value = ""
        field.focus()
        await pilot.press("3", "0")
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert _text(pilot, "#status").startswith("Saved.")
        assert load_config(tmp_path / "config.toml").backup.keep == 30

        # The disk refuses: the page says so in red, nothing is left half-written.
        for path in files:
            path.unlink()
        (box.config.data_dir / "backups").rmdir()
        (box.config.data_dir / "backups").write_text("in the way\n")
        await pilot.press("f5")
        await _settled(pilot)
        status = app.screen.query_one("#status", Static)
        assert "failed: cannot write the backup" in _text(pilot, "#status")
        assert status.has_class("-error")


def test_only_the_installer_sees_the_page() -> None:
    def keys(role: Role) -> set[str]:
        return {e.key for s in sections_for(role) for e in s.entries}

    assert "backup" in keys(Role.SERVER)
    assert "backup" not in keys(Role.SYSTEM) | keys(Role.CONSULTATION)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_snapshot_backup_page(snap_compare: Any, tmp_path: Path, language: str) -> None:
    async def prepare(rt: Runtime) -> None:
        folder = rt.config.data_dir / "backups"
        folder.mkdir()
        for name, size, when in [
            ("ews-backup-20261130-101500.tar.gz", 1_480_000, datetime(2026, 11, 30, 10, 15)),
            ("nightly-20261201-020000.tar.gz", 1_512_000, datetime(2026, 12, 1, 2, 0)),
            ("nightly-20261202-020000.tar.gz", 1_533_000, datetime(2026, 12, 2, 2, 0)),
        ]:
            path = folder / name
            path.write_bytes(b"\0" * size)
            stamp = when.replace(tzinfo=ZoneInfo("Europe/Paris")).timestamp()
            os.utime(path, (stamp, stamp))

    async def run_before(pilot: Any) -> None:
        await _settled(pilot)

    app = SnapshotApp(tmp_path, "backup", role=Role.SERVER, language=language, prepare=prepare)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
