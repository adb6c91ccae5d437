"""The Update page (Pilot, 80x24): the installed version, the update files of the updates
folder and of USB media (refused ones say why), a newer one installs after one question, an
older one after two; the last update's rollback shows in red. Snapshots in English and French.
"""

from __future__ import annotations

import zipfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from textual.widgets import OptionList, Static

from ews_tui.config import default_config
from ews_tui.runtime import Runtime
from ews_tui.services.update import apply_unit
from ews_tui.services.update_bundle import write_bundle
from ews_tui.services.update_health import installed_version
from ews_tui.services.update_install import ROLLED_BACK, Layout, UpdateOutcome, write_outcome
from ews_tui.ui.app import EwsApp
from ews_tui.ui.menu import sections_for
from ews_tui.ui.screens.confirm import ConfirmScreen
from ews_tui.ui.screens.update import UpdateScreen
from ews_tui.ui.session import Role, Session
from tests.services.command_fixtures import RecordingRunner
from tests.ui.box_fixtures import CLOSED_NTP, box_runtime, make_box_app

KEY = asyncssh.generate_private_key("ssh-ed25519")


def changes(tmp_path: Path) -> dict[str, Any]:
    return {
        **CLOSED_NTP,
        "update.prefix": str(tmp_path / "prefix"),
        "update.trusted_keys": str(tmp_path / "trusted.pub"),
        "update.media": [str(tmp_path / "media")],
    }


def make_bundle(out: Path, version: str, *, signed: bool = True) -> Path:
    wheels = out.parent / f".w-{version}"
    wheels.mkdir(parents=True, exist_ok=True)
    wheel = wheels / f"ews_tui-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("ews_tui/__init__.py", "")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_bundle(out, [wheel], key=KEY if signed else None)
    return out


def prepare_files(tmp_path: Path, data_dir: Path) -> None:
    (tmp_path / "trusted.pub").write_bytes(KEY.export_public_key())
    make_bundle(data_dir / "updates" / "ews-9.0.0.ewsupdate", "9.0.0")
    make_bundle(tmp_path / "media" / "usb" / "ews-0.0.1.ewsupdate", "0.0.1")
    make_bundle(tmp_path / "media" / "usb" / "unsigned.ewsupdate", "9.1.0", signed=False)
    prefix = tmp_path / "prefix"
    prefix.mkdir(exist_ok=True)
    write_outcome(
        Layout(prefix),
        UpdateOutcome(
            "0.9.0",
            "0.1.0",
            ROLLED_BACK,
            "2026-12-03T02:15:00+01:00",
            "version {version} did not report healthy within {seconds} s",
            {"version": "0.9.0", "seconds": "120"},
        ),
    )


@pytest.fixture
def runner() -> RecordingRunner:
    return RecordingRunner()


@pytest.fixture
async def box(tmp_path: Path, runner: RecordingRunner) -> AsyncIterator[Runtime]:
    prepare_files(tmp_path, tmp_path / "data")
    async with box_runtime(tmp_path, changes(tmp_path), runner=runner) as rt:
        yield rt


async def _settled(pilot: Any) -> None:
    for _ in range(10):
        await pilot.pause()
        workers = [w for w in pilot.app.workers if not w.is_finished]
        if not workers:
            break
        await pilot.app.workers.wait_for_complete(workers)
    await pilot.pause()


def _text(pilot: Any, selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).content)


def _lines(pilot: Any) -> list[str]:
    listing = pilot.app.screen.query_one("#update-list", OptionList)
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


async def test_the_page_lists_and_installs_after_confirmation(
    box: Runtime, runner: RecordingRunner, tmp_path: Path
) -> None:
    app = make_box_app(box, "update", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        assert isinstance(app.screen, UpdateScreen)
        assert _text(pilot, "#update-installed") == f"Installed version: {installed_version()}"
        last = app.screen.query_one("#update-last", Static)
        assert "0.9.0" in _text(pilot, "#update-last") and "rolled back" in _text(
            pilot, "#update-last"
        )
        assert last.has_class("-error")
        lines = _lines(pilot)
        assert lines[0].split() == ["9.0.0", "newer", "ews-9.0.0.ewsupdate"]
        assert lines[1].split() == ["0.0.1", "older", "ews-0.0.1.ewsupdate"]
        assert lines[2].startswith("Refused: unsigned.ewsupdate: the update file is not signed")

        # Newer: one question, "no" installs nothing, "yes" starts the install.
        await pilot.press("home", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await _settled(pilot)
        assert runner.calls == []
        await pilot.press("home", "enter")
        await pilot.pause()
        await pilot.press("y")
        await _settled(pilot)
        assert len(runner.calls) == 1
        call = runner.calls[0]
        path = box.config.data_dir / "updates" / "ews-9.0.0.ewsupdate"
        assert call == ("systemctl", "start", "--no-block", apply_unit(path.resolve()))
        assert "9.0.0 started" in _text(pilot, "#status")

        # Older: asked twice; a "no" the second time installs nothing.
        await pilot.press("home", "down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await _settled(pilot)
        assert len(runner.calls) == 1
        await pilot.press("home", "down", "enter")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        await pilot.press("y")
        await _settled(pilot)
        assert len(runner.calls) == 2
        older = tmp_path / "media" / "usb" / "ews-0.0.1.ewsupdate"
        assert runner.calls[1][-1] == apply_unit(older.resolve())


async def test_a_failed_start_shows_in_red(tmp_path: Path) -> None:
    prepare_files(tmp_path, tmp_path / "data")
    failing = RecordingRunner({("systemctl", "start"): (1, "Access denied")})
    async with box_runtime(tmp_path, changes(tmp_path), runner=failing) as rt:
        app = make_box_app(rt, "update", role=Role.SERVER)
        async with app.run_test(size=(80, 24)) as pilot:
            await _settled(pilot)
            await pilot.press("home", "enter")
            await pilot.pause()
            await pilot.press("y")
            await _settled(pilot)
            assert "Cannot start the update: exit status 1: Access denied" in _text(
                pilot, "#status"
            )
            assert app.screen.query_one("#status", Static).has_class("-error")


def test_only_the_installer_sees_the_page() -> None:
    def keys(role: Role) -> set[str]:
        return {e.key for s in sections_for(role) for e in s.entries if e.screen == "update"}

    assert keys(Role.SERVER) == {"update"}
    assert not keys(Role.SYSTEM) | keys(Role.CONSULTATION)


class UpdateSnapshotApp(EwsApp):
    """SnapshotApp's way (a box started in the app's own loop), on this page's config."""

    def __init__(self, tmp_path: Path, language: str) -> None:
        self._tmp_path = tmp_path
        self._stack = AsyncExitStack()
        placeholder = Runtime(default_config(tmp_path / "data"))
        super().__init__(
            Session(placeholder, language=language, role=Role.SERVER), start_screen="update"
        )

    async def on_mount(self) -> None:  # type: ignore[override]
        prepare_files(self._tmp_path, self._tmp_path / "data")
        self.session.runtime = await self._stack.enter_async_context(
            box_runtime(self._tmp_path, changes(self._tmp_path), runner=RecordingRunner())
        )

    async def on_unmount(self) -> None:
        await self._stack.aclose()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_snapshot_update_page(snap_compare: Any, tmp_path: Path, language: str) -> None:
    async def run_before(pilot: Any) -> None:
        await _settled(pilot)

    app = UpdateSnapshotApp(tmp_path, language)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
