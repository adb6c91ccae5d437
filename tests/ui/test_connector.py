"""The Connector screen (Pilot, 80x24): settings saved, password hidden, host key accepted,
Send now against a real OpenSSH sshd, the log in plain words."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Select, Static

from ews_tui.config import load_config
from ews_tui.domain.connector import ConnectorMode
from ews_tui.runtime import Runtime
from ews_tui.services.connector import ConnectorService
from ews_tui.ui.screens.confirm import ConfirmScreen
from ews_tui.ui.session import Role
from ews_tui.ui.widgets.settings_form import SettingsForm
from tests.services.openssh_server import OpenSshServer, openssh_server
from tests.ui.box_fixtures import SnapshotApp, box_runtime, make_box_app

__all__ = ["openssh_server"]


@pytest.fixture
async def box(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path) as rt:
        yield rt


async def _type(pilot, selector: str, text: str) -> None:  # type: ignore[no-untyped-def]
    field = pilot.app.screen.query_one(selector, Input)
    field.value = ""
    field.focus()
    await pilot.press(*text)


async def _settled(pilot) -> None:  # type: ignore[no-untyped-def]
    """The page's own jobs done, and those they started (not the follow loops, which last
    while a screen is up)."""
    jobs = ("facts", "save", "send", "host-key")
    for _ in range(10):
        await pilot.pause()
        workers = [w for w in pilot.app.workers if w.group in jobs and not w.is_finished]
        if not workers:
            break
        await pilot.app.workers.wait_for_complete(workers)
    await pilot.pause()


def _text(pilot, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(pilot.app.screen.query_one(selector, Static).content)


async def test_settings_host_key_send_now_and_log(
    box: Runtime, tmp_path: Path, openssh_server: OpenSshServer
) -> None:
    energy = tmp_path / "data/csv/energy/2026-12-01.csv"
    energy.parent.mkdir(parents=True, exist_ok=True)
    energy.write_text("timestamp,energy\n1,2\n")
    app = make_box_app(box, "connector", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        screen = app.screen
        assert "Server key not accepted yet" in _text(pilot, "#host-key")
        public = _text(pilot, "#box-key").split(": ", 1)[1]
        assert public.startswith("ssh-ed25519 ")
        openssh_server.authorize(public)

        screen.query_one("#set-connector-mode", Select).value = "sftp"
        await _type(pilot, "#set-connector-address", "127.0.0.1")
        await _type(pilot, "#set-connector-port", str(openssh_server.port))
        await _type(pilot, "#set-connector-user", openssh_server.user)
        await _type(pilot, "#connector-password", "s3cret")
        await _type(pilot, "#set-connector-sources", "energy, power")
        await _type(pilot, "#set-connector-destination", "box1")
        await pilot.press("ctrl+s")
        await _settled(pilot)
        upload = screen.query_one("#form-upload", SettingsForm)
        assert "energy, measures, events, eqcheck" in upload.error_of("connector.sources")
        assert load_config(tmp_path / "config.toml").connector.mode is ConnectorMode.OFF

        await _type(pilot, "#set-connector-sources", "energy")
        await pilot.press("ctrl+s")
        await _settled(pilot)
        saved = load_config(tmp_path / "config.toml")
        assert saved.connector.mode is ConnectorMode.SFTP
        assert saved.connector.sources == ("energy",)
        assert saved.connector.password == "s3cret"
        assert os.stat(tmp_path / "config.toml").st_mode & 0o077 == 0
        password = screen.query_one("#connector-password", Input)
        assert password.value == "" and "s3cret" not in password.placeholder

        await pilot.press("f6")
        await _settled(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await _settled(pilot)
        assert "Server key accepted: SHA256:" in _text(pilot, "#host-key")

        await pilot.press("f5")
        await _settled(pilot)
        assert _text(pilot, "#status").startswith("Sent: ")
        assert " SFTP " in _text(pilot, "#connector-log")
        assert (openssh_server.home / "box1/energy/2026-12-01.csv").read_text() == (
            energy.read_text()
        )

        await openssh_server.stop()
        await pilot.press("f5")
        await _settled(pilot)
        assert "Not sent: server unreachable" in _text(pilot, "#status")
        assert "failed: server unreachable" in _text(pilot, "#connector-log")
    assert box.get(ConnectorService).failures == 1


# A fixed box key, so the page (which shows its public half) looks the same at each run.
SNAPSHOT_KEY = """-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACBPTpvwNBrQeEHHp0tVuhU3PeyDGoMg9IaJYvzK5koPMQAAAJCUrOkdlKzp
HQAAAAtzc2gtZWQyNTUxOQAAACBPTpvwNBrQeEHHp0tVuhU3PeyDGoMg9IaJYvzK5koPMQ
AAAEDWoS0KnVtrq8+ecfRqCCesBC3EMunYEz4VnNIusPf+bU9Om/A0GtB4QcenS1W6FTc9
7IMagyD0holi/MrmSg8xAAAADWV3cy1jb25uZWN0b3I=
-----END OPENSSH PRIVATE KEY-----
"""


@pytest.mark.parametrize("language", ["en", "fr"])
def test_snapshot_connector_page(snap_compare, tmp_path: Path, language: str) -> None:  # type: ignore[no-untyped-def]
    async def prepare(rt: Runtime) -> None:
        key = rt.config.data_dir / "connector_ed25519_key"
        key.write_text(SNAPSHOT_KEY)
        key.chmod(0o600)

    async def run_before(pilot: Any) -> None:
        await _settled(pilot)

    app = SnapshotApp(tmp_path, "connector", role=Role.SERVER, language=language, prepare=prepare)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_nothing_changed_saves_nothing(box: Runtime, tmp_path: Path) -> None:
    before = (tmp_path / "config.toml").read_bytes()
    app = make_box_app(box, "connector", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert _text(pilot, "#status") == "Nothing to save: no value changed."
    assert (tmp_path / "config.toml").read_bytes() == before
