"""The Date and time and Network pages apply what they save (issue 17): the commands run
through the box's runner (a recording one here), "Applied" only when they all succeeded,
their error otherwise; the clock ticks on the page; a date and time entered by hand."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static, Switch

from ews_tui.runtime import Runtime
from ews_tui.services.settings import SettingsService
from ews_tui.ui.session import Role
from tests.services.command_fixtures import RecordingRunner
from tests.ui.box_fixtures import CLOSED_NTP, SnapshotApp, box_runtime, make_box_app

# 2026-06-01 10:00:00 UTC: 12:00:00 in Paris
NOON_IN_PARIS = 1_780_308_000.0
NETWORKD = {"network.backend": "systemd-networkd", **CLOSED_NTP}
TIMESYNCD = {"time.backend": "systemd-timesyncd", **CLOSED_NTP}


def _text(pilot: Any, selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).content)


async def _type(pilot: Any, selector: str, text: str) -> None:
    field = pilot.app.screen.query_one(selector, Input)
    field.value = ""
    field.focus()
    await pilot.press(*text)


async def _settled(pilot: Any) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _dirs(tmp_path: Path, changes: dict[str, str]) -> dict[str, str]:
    return {
        **changes,
        "network.networkd_dir": str(tmp_path / "networkd"),
        "time.timesyncd_dir": str(tmp_path / "timesyncd.conf.d"),
    }


async def _save_network(pilot: Any) -> None:
    await pilot.press("ctrl+s")
    await pilot.pause()
    await pilot.press("y")  # the manual's "Save twice"
    await _settled(pilot)


# ---------------------------------------------------------------------------- network


async def test_network_applied_after_reload_and_reconfigure(tmp_path: Path) -> None:
    runner = RecordingRunner()
    async with box_runtime(tmp_path, _dirs(tmp_path, NETWORKD), runner) as box:
        app = make_box_app(box, "settings_network", role=Role.SERVER)
        async with app.run_test(size=(80, 24)) as pilot:
            await _type(pilot, "#set-network-ip", "192.168.1.20")
            await _type(pilot, "#set-network-dns", "192.168.1.1 9.9.9.9")
            await _save_network(pilot)
            unit = tmp_path / "networkd" / "10-ews-eth0.network"
            assert _text(pilot, "#net-backend") == f"Applied: written to {unit}"
            assert "Applied" in _text(pilot, "#status")
            assert pilot.app.screen.query_one("#set-network-dns", Input).value == (
                "192.168.1.1, 9.9.9.9"
            )
    assert runner.calls == [("networkctl", "reload"), ("networkctl", "reconfigure", "eth0")]
    assert unit.read_text().endswith("Address=192.168.1.20/24\nGateway=192.168.1.1\n"
                                     "DNS=192.168.1.1\nDNS=9.9.9.9\n")  # fmt: skip


async def test_network_failure_is_shown_then_applied_again(tmp_path: Path) -> None:
    runner = RecordingRunner({("networkctl", "reconfigure"): (1, "Interface eth0 not found")})
    async with box_runtime(tmp_path, _dirs(tmp_path, NETWORKD), runner) as box:
        app = make_box_app(box, "settings_network", role=Role.SERVER)
        async with app.run_test(size=(80, 24)) as pilot:
            await _type(pilot, "#set-network-ip", "192.168.1.21")
            await _save_network(pilot)
            failed = (
                "Not applied: networkctl reconfigure eth0: exit status 1: Interface eth0 not found"
            )
            assert _text(pilot, "#net-backend") == failed
            status = pilot.app.screen.query_one("#status", Static)
            assert str(status.content) == "Saved. " + failed and status.has_class("-error")
            assert "Applied" not in str(status.content)
            runner.fail.clear()  # the cable is plugged in
            await pilot.press("f6")
            await _settled(pilot)
            assert _text(pilot, "#net-backend").startswith("Applied: written to ")
            assert not status.has_class("-error")
    assert runner.calls[-2:] == [("networkctl", "reload"), ("networkctl", "reconfigure", "eth0")]


async def test_network_bad_dns_is_refused_under_its_field(tmp_path: Path) -> None:
    runner = RecordingRunner()
    async with box_runtime(tmp_path, _dirs(tmp_path, NETWORKD), runner) as box:
        app = make_box_app(box, "settings_network", role=Role.SERVER)
        async with app.run_test(size=(80, 24)) as pilot:
            await _type(pilot, "#set-network-dns", "9.9.9.9, dns.example")
            await pilot.press("ctrl+s")
            await _settled(pilot)
            assert _text(pilot, "#set-network-dns-error") == '"dns.example" is not an IP address'
    assert runner.calls == []


# ---------------------------------------------------------------------------- time


def _ticking(start: float, ticks: asyncio.Event) -> Callable[[], float]:
    """A clock one second further at each reading; ``ticks`` is set at the third."""
    readings = [0]

    def now() -> float:
        readings[0] += 1
        if readings[0] >= 3:
            ticks.set()
        return start + readings[0]

    return now


async def test_the_clock_on_the_page_is_live(tmp_path: Path) -> None:
    async with box_runtime(tmp_path) as box:
        ticks = asyncio.Event()
        box.get(SettingsService).clock = _ticking(NOON_IN_PARIS, ticks)
        app = make_box_app(box, "settings_time", role=Role.SERVER)
        async with app.run_test(size=(80, 24)) as pilot:
            await _settled(pilot)
            async with asyncio.timeout(10):
                await ticks.wait()  # read again by the page's own timer, not by this test
            await pilot.pause()
            shown = _text(pilot, "#time-now")
            assert shown.startswith("Box time: Jun 1, 2026, 12:00:0")
            assert shown != "Box time: Jun 1, 2026, 12:00:01 PM (Europe/Paris)"


async def test_time_settings_applied_by_timedatectl(tmp_path: Path) -> None:
    runner = RecordingRunner()
    async with box_runtime(tmp_path, _dirs(tmp_path, TIMESYNCD), runner) as box:
        app = make_box_app(box, "settings_time", role=Role.SERVER)
        async with app.run_test(size=(80, 24)) as pilot:
            await _settled(pilot)
            drop_in = tmp_path / "timesyncd.conf.d" / "10-ews.conf"
            assert _text(pilot, "#time-backend") == (
                f"Applied on save by timedatectl; NTP server in {drop_in}"
            )
            pilot.app.screen.query_one("#set-time-ntp-enabled", Switch).value = True
            await pilot.press("ctrl+s")
            await _settled(pilot)
            assert _text(pilot, "#time-backend") == (
                f"Applied by timedatectl; NTP server in {drop_in}"
            )
    assert runner.calls == [
        ("timedatectl", "set-timezone", "Europe/Paris"),
        ("timedatectl", "set-ntp", "true"),
        ("systemctl", "try-restart", "systemd-timesyncd.service"),
    ]
    assert drop_in.read_text().endswith("NTP=127.0.0.1\n")


async def test_time_failure_is_shown(tmp_path: Path) -> None:
    runner = RecordingRunner({("timedatectl",): (1, "Failed to connect to bus")})
    async with box_runtime(tmp_path, _dirs(tmp_path, TIMESYNCD), runner) as box:
        app = make_box_app(box, "settings_time", role=Role.SERVER)
        async with app.run_test(size=(80, 24)) as pilot:
            await _type(pilot, "#set-time-timezone", "Europe/Brussels")
            await pilot.press("ctrl+s")
            await _settled(pilot)
            failed = (
                "Not applied: timedatectl set-timezone Europe/Brussels: exit status 1: "
                "Failed to connect to bus F7 applies again."
            )
            assert _text(pilot, "#time-backend") == failed
            runner.fail.clear()
            await pilot.press("f7")
            await _settled(pilot)
            assert _text(pilot, "#time-backend").startswith("Applied by timedatectl")


async def test_clock_set_by_hand(tmp_path: Path) -> None:
    runner = RecordingRunner()
    async with box_runtime(tmp_path, _dirs(tmp_path, TIMESYNCD), runner) as box:
        app = make_box_app(box, "settings_time", role=Role.SERVER)
        async with app.run_test(size=(80, 24)) as pilot:
            await _type(pilot, "#time-manual", "14/07/2026")
            await pilot.press("f6")
            await _settled(pilot)
            assert _text(pilot, "#time-manual-error") == (
                "14/07/2026 is not a date and time (YYYY-MM-DD HH:MM:SS)"
            )
            await _type(pilot, "#time-manual", "2026-07-14 09:30")
            await pilot.press("enter")
            await pilot.pause()
            assert "Set the box's clock to Jul 14, 2026, 9:30:00" in str(
                pilot.app.screen.query_one("#confirm-question", Static).content
            )
            await pilot.press("y")
            await _settled(pilot)
            assert _text(pilot, "#status") == "Clock set to Jul 14, 2026, 9:30:00\u202fAM."
            assert _text(pilot, "#time-manual-error") == ""
    assert runner.calls == [("timedatectl", "set-time", "2026-07-14 07:30:00 UTC")]


async def test_clock_not_set_with_backend_none(box_none: Runtime) -> None:
    app = make_box_app(box_none, "settings_time", role=Role.SERVER)
    async with app.run_test(size=(80, 24)) as pilot:
        await _type(pilot, "#time-manual", "2026-07-14 09:30:00")
        await pilot.press("f6")
        await pilot.pause()
        await pilot.press("y")
        await _settled(pilot)
        status = pilot.app.screen.query_one("#status", Static)
        assert str(status.content) == (
            "Clock not set: the time backend is none: the clock is set outside ews-tui"
        )
        assert status.has_class("-error")


@pytest.fixture
async def box_none(tmp_path: Path) -> Any:
    async with box_runtime(tmp_path) as rt:
        yield rt


# ---------------------------------------------------------------------------- snapshots


async def _fixed_clock(rt: Runtime) -> None:
    rt.get(SettingsService).clock = lambda: NOON_IN_PARIS


@pytest.mark.parametrize("language", ["en", "fr"])
def test_snapshot_time_page(snap_compare, tmp_path: Path, language: str) -> None:  # type: ignore[no-untyped-def]
    app = SnapshotApp(
        tmp_path, "settings_time", role=Role.SERVER, language=language, prepare=_fixed_clock
    )

    async def settled(pilot: Any) -> None:
        await _settled(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=settled)
