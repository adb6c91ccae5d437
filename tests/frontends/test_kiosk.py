"""The kiosk: the dashboard shows the site's live power and communication states, turns its
pages, and any key leads to the login (configuring needs a PIN); Esc comes back."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from textual.pilot import Pilot
from textual.widgets import ContentSwitcher, Static

from ews_tui.cli.sim import load_site
from ews_tui.domain.events import DeviceState, DeviceStateChanged, Sample
from ews_tui.domain.installation_doc import to_document
from ews_tui.frontends.kiosk import KioskApp, kiosk_app
from ews_tui.runtime import Runtime
from ews_tui.services.installation import InstallationService
from ews_tui.services.recorder import Recorder
from ews_tui.ui.screens.kiosk import KioskScreen
from ews_tui.ui.screens.login import LoginScreen
from ews_tui.ui.session import Session
from ews_tui.ui.widgets.steady_static import SteadyStatic
from tests.ui.box_fixtures import box_runtime

DEADLINE_S = 10.0


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(
        tmp_path, {"kiosk.page_seconds": 1, "time.ntp_server": "127.0.0.1"}
    ) as rt:
        await rt.get(InstallationService).import_document(to_document(load_site("demo")))
        yield rt


async def until(pilot: Pilot[None], check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        await pilot.pause(0.05)


def text(screen: KioskScreen, widget_id: str) -> str:
    return str(screen.query_one(f"#{widget_id}", Static).render())


async def test_dashboard_power_states_pages_and_login(runtime: Runtime) -> None:
    inst = runtime.get(InstallationService).current
    main = next(g.eq_device_id for g in inst.gateways if g.eq_device_id is not None)
    silent = next(d.id for d in inst.devices if d.id != main)
    app = kiosk_app(Session(runtime))
    assert isinstance(app, KioskApp) and app.session.kiosk
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, KioskScreen), "the dashboard")
        kiosk = app.screen
        assert isinstance(kiosk, KioskScreen)
        assert text(kiosk, "power").endswith("—")  # nothing read yet
        assert text(kiosk, "today").endswith("—") and text(kiosk, "alarms").endswith(": 0")

        runtime.hub.publish(DeviceStateChanged(main, DeviceState.ON))  # as a poller does
        runtime.hub.publish(Sample(main, time.time(), {"p": 12.5}))
        runtime.hub.publish(DeviceStateChanged(silent, DeviceState.COMM_ERROR, "timeout"))
        await until(pilot, lambda: "12.5 kW" in text(kiosk, "power"), "the site power")
        # The silent device raised an alarm nobody acknowledged yet.
        await until(pilot, lambda: text(kiosk, "alarms").endswith(": 1"), "the alarm count")
        pages = kiosk.query_one("#pages", ContentSwitcher)
        await until(pilot, lambda: pages.current == "page-comms", "the next page")
        comms = text(kiosk, "page-comms")
        assert "Local" in comms and "Devices not answering: 1" in comms
        assert "Devices answering: 1" in comms

        # Any key: the login (a PIN is needed to configure); Esc: the dashboard again.
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), "the login")
        assert app.session.role is None
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, KioskScreen), "the dashboard again")


def midday_zone() -> str:
    """A zone where it is now between 06:00 and 18:00, so 'today' has hours behind it."""
    utc_hour = datetime.now(UTC).hour
    offset = (12 - utc_hour + 12) % 24 - 12  # local = utc + offset, near noon
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"  # Etc/GMT signs are inverted


async def test_dashboard_shows_todays_consumption_from_the_store(tmp_path: Path) -> None:
    zone = midday_zone()
    async with box_runtime(tmp_path, {"time.timezone": zone}) as rt:
        await rt.get(InstallationService).import_document(to_document(load_site("demo")))
        inst = rt.get(InstallationService).current
        main = next(g.eq_device_id for g in inst.gateways if g.eq_device_id is not None)
        tz = ZoneInfo(zone)
        midnight = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        recorder = rt.get(Recorder)
        for k in range(13):  # 02:00..04:00, 10-minute steps: 12 x 0.5 kWh
            ts = midnight.timestamp() + 7200 + k * 600
            recorder.ingest(Sample(main, ts, {"ea_import": 1000.0 + k * 0.5}))
        await recorder.flush()
        app = kiosk_app(Session(rt))
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, KioskScreen), "the dashboard")
            kiosk = app.screen
            assert isinstance(kiosk, KioskScreen)
            await until(pilot, lambda: "6.0 kWh" in text(kiosk, "today"), "today's consumption")


async def test_a_wild_power_reading_does_not_end_the_kiosk(runtime: Runtime) -> None:
    """A float32 meter read with the wrong word order gives -3.2e32: babel raised
    decimal.InvalidOperation and the kiosk's app ended."""
    inst = runtime.get(InstallationService).current
    main = next(g.eq_device_id for g in inst.gateways if g.eq_device_id is not None)
    app = kiosk_app(Session(runtime))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, KioskScreen), "the dashboard")
        kiosk = app.screen
        assert isinstance(kiosk, KioskScreen)
        runtime.hub.publish(DeviceStateChanged(main, DeviceState.ON))
        runtime.hub.publish(Sample(main, time.time(), {"p": -3.2e32}))
        await until(pilot, lambda: "-3.2E32 kW" in text(kiosk, "power"), "the wild power")
        runtime.hub.publish(Sample(main, time.time(), {"p": float("nan")}))
        await until(pilot, lambda: text(kiosk, "power").endswith("— kW"), "NaN as missing")
        assert app.is_running


async def test_the_dashboard_redraws_only_what_changed(runtime: Runtime) -> None:
    """Every second the kiosk updated its six texts, and each update laid the screen out
    again: it now writes a text only when it changed."""
    inst = runtime.get(InstallationService).current
    main = next(g.eq_device_id for g in inst.gateways if g.eq_device_id is not None)
    app = kiosk_app(Session(runtime))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, KioskScreen), "the dashboard")
        kiosk = app.screen
        assert isinstance(kiosk, KioskScreen)
        texts = {t.id: t for t in kiosk.query(SteadyStatic)}
        assert len(texts) == 6

        def updates() -> dict[str | None, int]:
            return {widget_id: t.updates for widget_id, t in texts.items()}

        kiosk.refresh_figures()
        before = updates()
        kiosk.refresh_figures()  # nothing new: nothing written
        assert updates() == before
        runtime.hub.publish(DeviceStateChanged(main, DeviceState.ON))
        runtime.hub.publish(Sample(main, time.time(), {"p": 12.5}))
        await until(pilot, lambda: "12.5 kW" in text(kiosk, "power"), "the site power")
        after = updates()
        assert after["power"] == before["power"] + 1
        for steady in ("kiosk-title", "kiosk-hint", "alarms"):
            assert after[steady] == before[steady] == 1, steady
