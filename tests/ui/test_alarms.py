"""The Alarms screen: active first then history, paging, filters, acknowledge one or all shown,
the Consultation role that cannot, Enter on the object, the home status line's count; and
snapshots at 80x24 in English and French."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from ews_tui.domain.alarms import AlarmChanged
from ews_tui.domain.auth import Role
from ews_tui.domain.edits import save_device, save_gateway
from ews_tui.domain.events import (
    DeviceState,
    DeviceStateChanged,
    GatewayState,
    GatewayStateChanged,
    ServiceFailed,
)
from ews_tui.domain.installation import Device, Gateway
from ews_tui.runtime import Runtime
from ews_tui.services.alarms import AlarmEngine
from ews_tui.services.installation import InstallationService
from ews_tui.ui.screens.alarms import AlarmsScreen
from ews_tui.ui.screens.devices import DevicesScreen
from ews_tui.ui.screens.live import LiveScreen
from tests.ui.box_fixtures import SnapshotApp, box_runtime, make_box_app

T0 = 1_735_730_000.0  # 2025-01-01 12:13:20 in Paris
ANNEX = 2  # the gateway raise_alarms adds


class FixedClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        self.now += 60.0  # each reading one minute later: rows sort, times differ
        return self.now


async def raise_alarms(rt: Runtime, devices: int = 2, services: int = 1) -> None:
    """A device alarm per device of Local (the first cleared), an alarm of the Annex gateway
    (none of its devices: a gateway's alarm groups its devices' own) and a service alarm,
    published as the pollers and the supervisor do, at fixed times."""
    engine = rt.get(AlarmEngine)
    engine._clock = FixedClock()  # the screen shows times: fixed ones
    service = rt.get(InstallationService)
    await service.apply(save_gateway, Gateway(0, "Annex", "192.168.1.20"))
    for n in range(devices):
        await service.apply(save_device, Device(0, 1, "0 146 68", n + 1, name=f"Meter {n + 1}"))
    ids = [d.id for d in service.current.devices]
    changes = rt.hub.subscribe(AlarmChanged, lossless=True, name="test-alarms")
    with changes:
        for device_id in ids:
            rt.hub.publish(DeviceStateChanged(device_id, DeviceState.COMM_ERROR, "no answer"))
        rt.hub.publish(DeviceStateChanged(ids[0], DeviceState.ON))
        rt.hub.publish(GatewayStateChanged(ANNEX, GatewayState.COMM_ERROR, "port closed"))
        for n in range(services):
            name = "csv-folders" if n == 0 else f"service-{n}"
            rt.hub.publish(ServiceFailed(name, "OSError: disk full", 5))
        for _ in range(len(ids) + 2 + services):
            await asyncio.wait_for(changes.get(), 10.0)


@pytest.fixture
async def box(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path) as rt:
        await raise_alarms(rt)
        yield rt


def rows(app: object) -> list[tuple[str, ...]]:
    table = app.screen.query_one("#alarms-table", DataTable)  # type: ignore[attr-defined]
    return [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


def text(app: object, widget: str) -> str:
    return str(app.screen.query_one(f"#{widget}", Static).render())  # type: ignore[attr-defined]


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    for worker in list(pilot.app.workers):
        if worker.group.startswith("alarms-") and worker.group != "alarms-follow":
            await worker.wait()
    await pilot.pause()


async def test_active_first_then_history(box: Runtime) -> None:
    app = make_box_app(box, "alarms")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        shown = rows(app)
        assert [r[4] for r in shown] == ["csv-folders", "Annex", "Meter 2", "Meter 1"]
        assert [r[1] for r in shown] == ["active", "active", "active", "cleared"]
        assert shown[0][0] == "× critical" and shown[2][0] == "‼ major"  # without colour
        assert "3 active, 3 not acknowledged" in text(app, "alarms-title")
        assert "Page 1/1 · 4 alarms" in text(app, "alarms-status")
        assert "OSError: disk full" in text(app, "alarms-detail")


async def test_acknowledge_one_then_all_shown(box: Runtime) -> None:
    engine = box.get(AlarmEngine)
    app = make_box_app(box, "alarms")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert rows(app)[0][1] == "active ✓"
        assert engine.counts.unacknowledged == 2
        assert "by system" in text(app, "alarms-detail")
        await pilot.press("A", "y")
        await settle(pilot)
        assert engine.counts.unacknowledged == 0
        assert [r[1] for r in rows(app)] == ["active ✓", "active ✓", "active ✓", "cleared ✓"]


async def test_consultation_sees_but_cannot_acknowledge(box: Runtime) -> None:
    engine = box.get(AlarmEngine)
    app = make_box_app(box, "home", role=Role.CONSULTATION)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "3 alarms to acknowledge" in text(app, "home-status")
        app.open_screen("alarms")
        await settle(pilot)
        assert isinstance(app.screen, AlarmsScreen) and len(rows(app)) == 4
        await pilot.press("a", "A")
        await settle(pilot)
        assert engine.counts.unacknowledged == 3
        assert app.screen.check_action("acknowledge", ()) is False  # not in the footer
        assert app.screen.check_action("acknowledge_all", ()) is False


async def test_filters(box: Runtime) -> None:
    app = make_box_app(box, "alarms")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")  # active
        await settle(pilot)
        assert [r[4] for r in rows(app)] == ["csv-folders", "Annex", "Meter 2"]
        await pilot.press("v", "v", "v", "v")  # critical and worse
        await settle(pilot)
        assert [r[4] for r in rows(app)] == ["csv-folders"]
        await pilot.press("x", "g")  # the Local gateway (1), any state
        await settle(pilot)
        assert [r[4] for r in rows(app)] == ["Meter 2", "Meter 1"]
        await pilot.press("d")  # its first device
        await settle(pilot)
        assert [r[4] for r in rows(app)] == ["Meter 1"]
        assert "Device: Meter 1" in text(app, "alarms-filters")
        await pilot.press("x", "t", "t")  # gateway communication error, device comm. error
        await settle(pilot)
        assert [r[4] for r in rows(app)] == ["Meter 2", "Meter 1"]


async def test_enter_opens_the_device_or_the_gateway(box: Runtime) -> None:
    app = make_box_app(box, "alarms")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "enter")  # Meter 2
        await pilot.pause()
        assert isinstance(app.screen, LiveScreen)
        assert app.screen.selected is not None and app.screen.selected.name == "Meter 2"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("up", "enter")  # Annex
        await pilot.pause()
        assert isinstance(app.screen, DevicesScreen) and app.screen.gateway_id == ANNEX


async def test_paging(tmp_path: Path) -> None:
    async with box_runtime(tmp_path) as rt:
        await raise_alarms(rt, devices=30, services=24)
        app = make_box_app(rt, "alarms")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert len(rows(app)) == 50 and "Page 1/2 · 55 alarms" in text(app, "alarms-status")
            await pilot.press("n")
            await settle(pilot)
            assert len(rows(app)) == 5 and "Page 2/2" in text(app, "alarms-status")
            assert rows(app)[-1][4] == "Meter 1"  # the cleared one, last
            await pilot.press("p")
            await settle(pilot)
            assert "Page 1/2" in text(app, "alarms-status")


async def test_a_new_alarm_shows_while_the_screen_is_open(box: Runtime) -> None:
    app = make_box_app(box, "alarms")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        box.hub.publish(GatewayStateChanged(ANNEX, GatewayState.ON))
        for _ in range(50):
            await settle(pilot)
            if rows(app)[1][1] == "cleared":
                break
        assert [r[4] for r in rows(app)][:2] == ["csv-folders", "Meter 2"]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_snapshot_alarms(snap_compare, tmp_path: Path, language: str) -> None:  # type: ignore[no-untyped-def]
    async def settled(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)

    app = SnapshotApp(tmp_path, "alarms", language=language, prepare=raise_alarms)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled)


async def test_a_gateway_alarm_says_it_groups_its_devices(box: Runtime) -> None:
    app = make_box_app(box, "alarms")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down")  # Annex
        await settle(pilot)
        assert "communication errors are grouped under this alarm" in " ".join(
            text(app, "alarms-detail").split()
        )


async def test_a_flapping_alarm_reloads_the_list_at_the_rate_cap(box: Runtime) -> None:
    """Each burst of alarm events read the page and rebuilt the table: an alarm flapping many
    times a second redrew the screen as often, in every session on it. Now the Hub's events
    reload it at most every ``reload_interval_s``, and a page with the same rows keeps its
    table."""
    app = make_box_app(box, "alarms")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AlarmsScreen)
        built = screen.tables_built
        screen.reload()  # the same rows again
        await settle(pilot)
        assert screen.tables_built == built
        screen.reload_interval_s = 3600.0  # the second reload would come in an hour
        changes = box.hub.subscribe(AlarmChanged, lossless=True, name="test-flap")
        with changes:
            for state in (GatewayState.ON, GatewayState.COMM_ERROR) * 3:
                box.hub.publish(GatewayStateChanged(ANNEX, state, "flap"))
                await asyncio.wait_for(changes.get(), 10)
            for _ in range(5):
                await settle(pilot)
        assert screen.follow_reloads == 1


async def test_esc_while_the_list_is_read_ends_nothing(
    box: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Esc as the page comes back: Textual removes a closing screen's widgets before it stops
    its workers, and the reading worker that woke up in between found no table: the
    NoMatches ended the session (seen with five sessions going through their menus)."""
    engine = box.get(AlarmEngine)
    real_page, release = engine.page, asyncio.Event()

    async def held_page(*args: object, **kwargs: object) -> object:
        await release.wait()
        return await real_page(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "page", held_page)
    app = make_box_app(box, "home")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_screen("alarms")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AlarmsScreen)
        app.pop_screen()
        for _ in range(100):  # loop passes, until its widgets are being removed
            if screen._pruning:
                break
            await asyncio.sleep(0)
        assert screen._pruning and screen.query("#alarms-table")
        release.set()  # the page comes back now: the worker wakes before it is cancelled
        for _ in range(5):
            await pilot.pause()
        assert app.crash is None and app.is_running
        assert screen not in app.screen_stack
