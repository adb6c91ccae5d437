"""The server settings pages: each change is saved in config.toml, a bad value is refused
with the config's own message under its field, and nothing is saved then."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Select, Static, Switch

from ews_tui.config import load_config
from ews_tui.domain.events import SettingsChanged
from ews_tui.runtime import Runtime
from ews_tui.ui.screens.settings_page import SettingsPage
from ews_tui.ui.session import Role
from ews_tui.ui.widgets.footer import EwsFooter
from ews_tui.ui.widgets.settings_form import SettingsForm
from tests.ui.box_fixtures import SnapshotApp, box_runtime, make_box_app


@pytest.fixture
async def box(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path) as rt:
        yield rt


def _config(tmp_path: Path):  # type: ignore[no-untyped-def]
    return load_config(tmp_path / "config.toml")


async def _type(pilot, selector: str, text: str) -> None:  # type: ignore[no-untyped-def]
    field = pilot.app.screen.query_one(selector, Input)
    field.value = ""
    field.focus()
    await pilot.press(*text)


async def _settled(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _form(pilot) -> SettingsForm:  # type: ignore[no-untyped-def]
    return pilot.app.screen.query_one(SettingsForm)


async def test_modbus_change_is_saved_and_announced(box: Runtime, tmp_path: Path) -> None:
    app = make_box_app(box, "settings_modbus", role=Role.SERVER)
    with box.hub.subscribe(SettingsChanged, name="test") as changes:
        async with app.run_test(size=(80, 24)) as pilot:
            screen = app.screen
            assert screen.query_one("#set-rs485-baudrate", Select).value == 19200
            screen.query_one("#set-rs485-baudrate", Select).value = 9600
            screen.query_one("#set-rs485-parity", Select).value = "none"
            await _type(pilot, "#set-rs485-timeout-ms", "500")
            await pilot.press("ctrl+s")
            await pilot.pause()
            await pilot.press("y")  # the manual's "Save twice to confirm"
            await _settled(pilot)
            assert "Saved" in str(screen.query_one("#status", Static).content)
        saved = _config(tmp_path)
        assert (saved.rs485.baudrate, saved.rs485.parity.value, saved.rs485.timeout_ms) == (
            9600,
            "none",
            500,
        )
        assert saved.modbus_tcp_server.enabled is False
        assert changes.get_nowait() == SettingsChanged("rs485")


async def test_modbus_tcp_server_switch_only_announces_its_section(
    box: Runtime, tmp_path: Path
) -> None:
    app = make_box_app(box, "settings_modbus", role=Role.SERVER)
    with box.hub.subscribe(SettingsChanged, name="test") as changes:
        async with app.run_test(size=(80, 24)) as pilot:
            app.screen.query_one("#set-modbus-tcp-server-enabled", Switch).value = True
            await pilot.press("f2")
            await pilot.pause()
            await pilot.press("y")
            await _settled(pilot)
        assert _config(tmp_path).modbus_tcp_server.enabled is True
        assert changes.get_nowait() == SettingsChanged("modbus_tcp_server")
        assert len(changes) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [("20", "20 is out of range 50..10000"), ("abc", '"abc" is not an integer')],
)
async def test_modbus_bad_timeout_is_refused_under_its_field(
    box: Runtime, tmp_path: Path, text: str, message: str
) -> None:
    before = (tmp_path / "config.toml").read_bytes()
    app = make_box_app(box, "settings_modbus", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        await _type(pilot, "#set-rs485-timeout-ms", text)
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert _form(pilot).error_of("rs485.timeout_ms") == message
        assert not app.screen.query("ConfirmScreen")
    assert (tmp_path / "config.toml").read_bytes() == before


async def test_network_saved_but_not_applied_with_backend_none(
    box: Runtime, tmp_path: Path
) -> None:
    app = make_box_app(box, "settings_network", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        await _type(pilot, "#set-network-ip", "172.168.1.101")
        await _type(pilot, "#set-network-gateway", "172.168.1.100")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("y")
        await _settled(pilot)
        status = str(app.screen.query_one("#status", Static).content)
        assert "not applied" in status
    net = _config(tmp_path).network
    assert (str(net.ip), str(net.netmask), str(net.gateway)) == (
        "172.168.1.101",
        "255.255.255.0",
        "172.168.1.100",
    )


async def test_network_gateway_outside_the_network_is_refused(box: Runtime, tmp_path: Path) -> None:
    app = make_box_app(box, "settings_network", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        await _type(pilot, "#set-network-gateway", "10.0.0.1")
        await _type(pilot, "#set-network-ip", "192.168.1.300")
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert _form(pilot).error_of("network.ip") == '"192.168.1.300" is not an IPv4 address'
        await _type(pilot, "#set-network-ip", "192.168.1.50")
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert _form(pilot).error_of("network.ip") == ""
        assert _form(pilot).error_of("network.gateway") == (
            '"10.0.0.1" is not in the network 192.168.1.0/24'
        )
    assert str(_config(tmp_path).network.ip) == "192.168.1.100"


async def test_network_systemd_networkd_writes_the_interface_file(tmp_path: Path) -> None:
    changes = {
        "network.backend": "systemd-networkd",
        "network.networkd_dir": str(tmp_path / "networkd"),
        "time.ntp_server": "127.0.0.1",
    }
    async with box_runtime(tmp_path, changes) as box:
        app = make_box_app(box, "settings_network", role=Role.SERVER)
        async with app.run_test(size=(80, 24)) as pilot:
            await _type(pilot, "#set-network-ip", "192.168.1.20")
            await pilot.press("ctrl+s")
            await pilot.pause()
            await pilot.press("y")
            await _settled(pilot)
            assert "Applied" in str(app.screen.query_one("#status", Static).content)
    unit = (tmp_path / "networkd" / "10-ews-eth0.network").read_text()
    assert "Address=192.168.1.20/24" in unit
    assert "Gateway=192.168.1.1" in unit


async def test_time_zone_is_validated_and_saved(box: Runtime, tmp_path: Path) -> None:
    app = make_box_app(box, "settings_time", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        offset = str(app.screen.query_one("#time-offset", Static).content)
        assert offset.startswith("Offset to 127.0.0.1: unreachable")
        await _type(pilot, "#set-time-timezone", "Mars/Olympus")
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert "Mars/Olympus" in _form(pilot).error_of("time.timezone")
        assert _config(tmp_path).time.timezone == "Europe/Paris"
        await _type(pilot, "#set-time-timezone", "Europe/Brussels")
        app.screen.query_one("#set-time-ntp-enabled", Switch).value = True
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert _form(pilot).error_of("time.timezone") == ""
    saved = _config(tmp_path).time
    assert (saved.timezone, saved.ntp_enabled) == ("Europe/Brussels", True)


async def test_ntp_on_without_server_is_refused(box: Runtime, tmp_path: Path) -> None:
    app = make_box_app(box, "settings_time", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        app.screen.query_one("#set-time-ntp-enabled", Switch).value = True
        await _type(pilot, "#set-time-ntp-server", "")
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert _form(pilot).error_of("time.ntp_server") == "required when ntp_enabled is true"
    assert _config(tmp_path).time.ntp_enabled is False


async def test_default_language_is_saved(box: Runtime, tmp_path: Path) -> None:
    app = make_box_app(box, "settings_language", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        select = app.screen.query_one("#set-language", Select)
        assert len(select._options) == 13
        select.value = "fr"
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert "Français" in str(app.screen.query_one("#status", Static).content)
    assert _config(tmp_path).language == "fr"


async def test_nothing_changed_saves_nothing(box: Runtime, tmp_path: Path) -> None:
    before = (tmp_path / "config.toml").read_bytes()
    app = make_box_app(box, "settings_language", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert "Nothing to save" in str(app.screen.query_one("#status", Static).content)
    assert (tmp_path / "config.toml").read_bytes() == before


async def test_pin_change_of_a_role(box: Runtime) -> None:
    from ews_tui.services.auth import AuthService, LoginStatus

    app = make_box_app(box, "settings_users", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        screen.query_one("#pin-role", Select).value = Role.SYSTEM
        await _type(pilot, "#pin-old", "12345")
        await _type(pilot, "#pin-new", "24680")
        await _type(pilot, "#pin-confirm", "24680")
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert screen.error_of("old") == "This is neither the current PIN nor the PUK."
        await _type(pilot, "#pin-old", "88888")
        await _type(pilot, "#pin-new", "24680")
        await _type(pilot, "#pin-confirm", "24681")
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert screen.error_of("confirm") == "The two new PINs differ."
        assert screen.error_of("old") == ""
        await _type(pilot, "#pin-old", "88888")
        await _type(pilot, "#pin-confirm", "24680")
        await pilot.press("enter")  # Enter in the last field saves
        await _settled(pilot)
        assert "saved" in str(screen.query_one("#status", Static).content)
    result = await box.get(AuthService).login("24680", "00000 8888 00000", source="test")
    assert (result.status, result.role) == (LoginStatus.MUST_CHANGE, Role.SYSTEM)
    assert not result.must_change_pin and result.must_change_puk  # the published PUK


@pytest.mark.parametrize("language", ["en", "fr"])
def test_snapshot_network_page(snap_compare, tmp_path: Path, language: str) -> None:  # type: ignore[no-untyped-def]
    app = SnapshotApp(tmp_path, "settings_network", role=Role.SERVER, language=language)
    assert snap_compare(app, terminal_size=(80, 24))


async def test_csv_and_retention_settings_are_saved(box: Runtime, tmp_path: Path) -> None:
    app = make_box_app(box, "settings_csv", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        folder = str(screen.query_one("#csv-folder", Static).content)
        assert folder == "CSV folder: csv in the data dir"
        assert screen.query_one("#set-csv-enabled", Switch).value is True
        await _type(pilot, "#set-csv-keep-days", "30")
        await _type(pilot, "#set-retention-measures-days", "730")
        screen.query_one("#set-csv-enabled", Switch).value = False
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert "Saved" in str(screen.query_one("#status", Static).content)
    saved = _config(tmp_path)
    assert (saved.csv.enabled, saved.csv.keep_days, saved.retention.measures_days) == (
        False,
        30,
        730,
    )


async def test_csv_bad_refresh_is_refused_and_nothing_saved(box: Runtime, tmp_path: Path) -> None:
    before = (tmp_path / "config.toml").read_bytes()
    app = make_box_app(box, "settings_csv", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        await _type(pilot, "#set-csv-refresh-minutes", "2000")
        await pilot.press("ctrl+s")
        await _settled(pilot)
        assert "1440" in (_form(pilot).error_of("csv.refresh_minutes") or "")
    assert (tmp_path / "config.toml").read_bytes() == before


@pytest.mark.parametrize("language", ["en", "fr"])
def test_snapshot_csv_page(snap_compare, tmp_path: Path, language: str) -> None:  # type: ignore[no-untyped-def]
    app = SnapshotApp(tmp_path, "settings_csv", role=Role.SERVER, language=language)
    assert snap_compare(app, terminal_size=(80, 24))


async def test_the_footer_is_rebuilt_only_when_its_keys_change(box: Runtime) -> None:
    """Moving the focus changes the bindings but not what the footer shows: its keys stay
    (each rebuild restyles them in the loop every session shares)."""
    app = make_box_app(box, "settings_modbus", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        footer = app.screen.query_one(EwsFooter)
        keys = [id(k) for k in footer.query("FooterKey")]
        assert keys
        for _ in range(6):
            await pilot.press("tab")
        await _settled(pilot)
        assert [id(k) for k in footer.query("FooterKey")] == keys
        await pilot.resize_terminal(100, 24)  # more room: the keys are laid out again
        await _settled(pilot)
        assert [id(k) for k in footer.query("FooterKey")] != keys


@pytest.mark.parametrize(
    "page",
    ["settings_smtp", "settings_time", "settings_modbus", "settings_network", "settings_csv"],
)
async def test_a_page_opens_with_one_load_and_its_first_field_focused(
    box: Runtime, page: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16: a page reads its config once (Textual calls every class's on_mount: a
    page calling ``super().on_mount()`` loaded twice) and focuses its first field from the
    start (never the scrolling body first: that restyled the whole page twice)."""
    loads: list[str] = []
    focused: list[object] = []
    original = SettingsPage.reload

    def reload(self: SettingsPage) -> None:
        loads.append(type(self).__name__)
        original(self)

    def set_focus(self: SettingsPage, widget: Widget | None, *args: Any, **kwargs: Any) -> None:
        focused.append(widget)
        set_focus_of_screen(self, widget, *args, **kwargs)

    set_focus_of_screen = SettingsPage.set_focus
    monkeypatch.setattr(SettingsPage, "reload", reload)
    monkeypatch.setattr(SettingsPage, "set_focus", set_focus)
    app = make_box_app(box, "home", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_screen(page)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SettingsPage)
        first = screen.form.query("Input, Select, Switch").first()
        assert len(loads) == 1, loads
        assert screen.focused is first
        assert not [w for w in focused if isinstance(w, VerticalScroll)], focused


async def test_a_page_opens_without_hidden_widgets_and_shows_an_error_under_its_row(
    box: Runtime,
) -> None:
    """Issue 16 item 6: each row's error line (hidden) and each choice's dropdown were
    composed as the page opened; they are now composed when first needed, in their place."""
    app = make_box_app(box, "settings_modbus", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        form = _form(pilot)
        assert not [w for w in form.walk_children() if not w.display]
        assert form.error_of("rs485.timeout_ms") == ""
        await _type(pilot, "#set-rs485-timeout-ms", "5")
        await pilot.press("ctrl+s")
        await pilot.pause()
        message = form.error_of("rs485.timeout_ms")
        assert message
        error = form.query_one("#set-rs485-timeout-ms-error", Static)
        row = form.query_one("#set-rs485-timeout-ms").parent
        assert row is not None and form.children.index(error) == form.children.index(row) + 1
        assert error.display and message in str(error.render())
        await _type(pilot, "#set-rs485-timeout-ms", "500")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert form.error_of("rs485.timeout_ms") == "" and not error.display
