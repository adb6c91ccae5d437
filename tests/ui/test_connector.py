"""The Connector's three pages (Pilot, 80x24): « Paramètres du serveur », « Paramétrage
chargement » and « Journal », reached with F7/F8/F9 (or a click on the strip under the
title). Settings saved, the password hidden, the host key checked and accepted, Send now
against a real OpenSSH sshd, the log list in plain words; each page fits 80x24 in en and fr."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Input, Select, Static

from ews_tui.config import load_config
from ews_tui.domain.connector import AUTH_REFUSED, HOST_KEY_CHANGED, ConnectorMode
from ews_tui.domain.messages import Message
from ews_tui.runtime import Runtime
from ews_tui.services.connector import ConnectorService
from ews_tui.store.connector_repo import Transfer
from ews_tui.ui.screens.confirm import ConfirmScreen
from ews_tui.ui.screens.connector import ConnectorScreen
from ews_tui.ui.screens.connector_log import ConnectorLogScreen
from ews_tui.ui.screens.connector_upload import ConnectorUploadScreen
from ews_tui.ui.session import Role
from ews_tui.ui.widgets.settings_form import SettingsForm
from tests.services.openssh_server import OpenSshServer, openssh_server
from tests.ui.box_fixtures import SnapshotApp, box_runtime, make_box_app

__all__ = ["openssh_server"]

PAGES = ("connector", "connector_upload", "connector_log")


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


def _rows(pilot) -> list[list[str]]:  # type: ignore[no-untyped-def]
    table = pilot.app.screen.query_one("#connector-log", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_three_pages_edit_save_trust_send_now_and_the_log(
    box: Runtime, tmp_path: Path, openssh_server: OpenSshServer
) -> None:
    energy = tmp_path / "data/csv/energy/2026-12-01.csv"
    energy.parent.mkdir(parents=True, exist_ok=True)
    energy.write_text("timestamp,energy\n1,2\n")
    app = make_box_app(box, "connector", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        # Page 1, server settings: the box's key to paste, the server's not accepted yet.
        assert isinstance(app.screen, ConnectorScreen)
        assert "Server key not accepted yet" in _text(pilot, "#host-key")
        public = _text(pilot, "#box-key").split(": ", 1)[1]
        assert public.startswith("ssh-ed25519 ")
        openssh_server.authorize(public)
        app.screen.query_one("#set-connector-mode", Select).value = "sftp"
        await _type(pilot, "#set-connector-address", "127.0.0.1")
        await _type(pilot, "#set-connector-port", str(openssh_server.port))
        await _type(pilot, "#set-connector-user", openssh_server.user)
        await _type(pilot, "#connector-password", "s3cret")
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert _text(pilot, "#status") == "Saved. The next transfer uses these settings."
        saved = load_config(tmp_path / "config.toml")
        assert saved.connector.mode is ConnectorMode.SFTP
        assert saved.connector.port == openssh_server.port
        assert saved.connector.password == "s3cret"
        assert os.stat(tmp_path / "config.toml").st_mode & 0o077 == 0
        password = app.screen.query_one("#connector-password", Input)
        assert password.value == "" and "s3cret" not in password.placeholder

        # The key check and the trust prompt.
        await pilot.press("f6")
        await _settled(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await _settled(pilot)
        assert "Server key accepted: SHA256:" in _text(pilot, "#host-key")
        await pilot.press("f6")
        await _settled(pilot)
        assert _text(pilot, "#status") == "The server's key is the accepted one."

        # Page 2, upload settings: an unknown folder is refused with the valid ones.
        await pilot.press("f8")
        await _settled(pilot)
        assert isinstance(app.screen, ConnectorUploadScreen)
        assert "Next scheduled transfer: " in _text(pilot, "#next-run")
        await _type(pilot, "#set-connector-sources", "energy, power")
        await _type(pilot, "#set-connector-destination", "box1")
        await pilot.press("ctrl+s")
        await _settled(pilot)
        form = app.screen.query_one("#form", SettingsForm)
        assert "energy, measures, events, eqcheck" in form.error_of("connector.sources")
        assert load_config(tmp_path / "config.toml").connector.sources == ()
        await _type(pilot, "#set-connector-sources", "energy")
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert load_config(tmp_path / "config.toml").connector.sources == ("energy",)

        # Send now, from the upload page.
        local = [p for p in (tmp_path / "data/csv/energy").iterdir() if p.is_file()]
        files, size = len(local), sum(p.stat().st_size for p in local)  # the box's own too
        await pilot.press("f5")
        await _settled(pilot)
        assert _text(pilot, "#status") == f"Sent by SFTP: {files} files, {size} bytes."
        assert (openssh_server.home / "box1/energy/2026-12-01.csv").read_text() == (
            energy.read_text()
        )

        # Page 3, the log: the run, then a failed one from the log page itself.
        await pilot.press("f9")
        await _settled(pilot)
        assert isinstance(app.screen, ConnectorLogScreen)
        assert [row[1:] for row in _rows(pilot)] == [["SFTP", str(files), str(size), "OK"]]
        sent = f"SFTP, {files} files, {size} bytes sent to box1."
        assert sent in _text(pilot, "#log-detail")
        await openssh_server.stop()
        await pilot.press("f5")
        await _settled(pilot)
        assert _text(pilot, "#status") == "Not sent: server unreachable"
        assert [row[4] for row in _rows(pilot)] == ["server unreachable", "OK"]
        assert "failed: server unreachable" in _text(pilot, "#log-detail")
        await pilot.press("down")
        await pilot.pause()
        assert sent in _text(pilot, "#log-detail")

        await pilot.press("f7")
        await _settled(pilot)
        assert isinstance(app.screen, ConnectorScreen)
        assert len(app.screen_stack) == 3  # pages replace one another: Esc goes home
    assert box.get(ConnectorService).failures == 1


async def test_a_click_on_the_strip_opens_a_page(box: Runtime) -> None:
    app = make_box_app(box, "connector", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        await pilot.click("#tab-connector_log")
        await _settled(pilot)
        assert isinstance(app.screen, ConnectorLogScreen)
        assert _text(pilot, "#log-detail") == "No transfer yet."
        assert app.screen.query_one("#tab-connector_log").has_class("-active")
        await pilot.click("#tab-connector_upload")
        await _settled(pilot)
        assert isinstance(app.screen, ConnectorUploadScreen)


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_each_page_fits_80x24_without_scrolling(box: Runtime, language: str) -> None:
    app = make_box_app(box, "connector", role=Role.SERVER, language=language)
    async with app.run_test(size=(80, 24)) as pilot:
        for key, page in zip(("f7", "f8", "f9"), PAGES, strict=True):
            await pilot.press(key)
            await _settled(pilot)
            assert type(app.screen).__module__.endswith("." + page)
            scrolled = [s.max_scroll_y for s in app.screen.query(VerticalScroll)]
            assert all(rows == 0 for rows in scrolled), (page, scrolled)
            footer = " ".join(str(k.render()) for k in app.screen.query("FooterKey"))
            assert "F7-F9" in footer
        # With refusals under the fields and the status line, the settings still fit.
        for key, fields in (("f7", ("port", "address")), ("f8", ("day", "hour", "sources"))):
            await pilot.press(key)
            await _settled(pilot)
            for name in fields:
                await _type(pilot, f"#set-connector-{name}", "99999 /not valid, power")
            await pilot.press("ctrl+s")
            await _settled(pilot)
            form = app.screen.query_one("#form", SettingsForm)
            assert all(form.error_of(f"connector.{name}") for name in fields)
            scrolled = [s.max_scroll_y for s in app.screen.query(VerticalScroll)]
            assert all(rows == 0 for rows in scrolled), (key, scrolled)


async def test_nothing_changed_saves_nothing(box: Runtime, tmp_path: Path) -> None:
    before = (tmp_path / "config.toml").read_bytes()
    app = make_box_app(box, "connector", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert _text(pilot, "#status") == "Nothing to save: no value changed."
        await pilot.press("f8")
        await _settled(pilot)
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert _text(pilot, "#status") == "Nothing to save: no value changed."
    assert (tmp_path / "config.toml").read_bytes() == before


# A fixed box key, so the page (which shows its public half) looks the same at each run.
SNAPSHOT_KEY = """-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACBPTpvwNBrQeEHHp0tVuhU3PeyDGoMg9IaJYvzK5koPMQAAAJCUrOkdlKzp
HQAAAAtzc2gtZWQyNTUxOQAAACBPTpvwNBrQeEHHp0tVuhU3PeyDGoMg9IaJYvzK5koPMQ
AAAEDWoS0KnVtrq8+ecfRqCCesBC3EMunYEz4VnNIusPf+bU9Om/A0GtB4QcenS1W6FTc9
7IMagyD0holi/MrmSg8xAAAADWV3cy1jb25uZWN0b3I=
-----END OPENSSH PRIVATE KEY-----
"""
# 2026-11-30 14:00 Europe/Paris (the box's default zone), and the runs after it.
MONDAY_14H = 1796043600.0
LOG = (
    Transfer(MONDAY_14H, MONDAY_14H + 2.4, "sftp", "backup", 12, 1_578_800),
    Transfer(
        MONDAY_14H + 3600,
        MONDAY_14H + 3600.3,
        "scp-sftp",
        "site/energyOfmon.zip",
        0,
        0,
        Message(HOST_KEY_CHANGED),
    ),
    Transfer(MONDAY_14H + 7200, MONDAY_14H + 7201.1, "scp", "site/energyOfmon.zip", 12, 48_213),
    Transfer(
        MONDAY_14H + 10800, MONDAY_14H + 10800.9, "sftp", "backup", 0, 0, Message(AUTH_REFUSED)
    ),
)


async def _prepare(rt: Runtime) -> None:
    key = rt.config.data_dir / "connector_ed25519_key"
    key.write_text(SNAPSHOT_KEY)
    key.chmod(0o600)
    repo = rt.get(ConnectorService).repo
    for line in LOG:
        await repo.add_transfer(line)


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("page", PAGES)
def test_snapshot_connector_pages(snap_compare, tmp_path: Path, page: str, language: str) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        await _settled(pilot)

    app = SnapshotApp(tmp_path, page, role=Role.SERVER, language=language, prepare=_prepare)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
