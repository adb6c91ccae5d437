"""System configuration > Green'Up: each charging point's state (glyph and word), power,
session energy and duration, last fault; the recent sessions; the assumed-map note (nothing
written); snapshots at 80x24 in English and French."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey

from ews_tui.cli.sim import load_site
from ews_tui.domain.charging import ChargingSession
from ews_tui.domain.events import DeviceState, DeviceStateChanged, Sample
from ews_tui.domain.installation_doc import to_document
from ews_tui.runtime import Runtime
from ews_tui.services.charging import ChargingService
from ews_tui.services.installation import InstallationService
from ews_tui.ui.menu import may_open
from ews_tui.ui.screens.greenup import GreenUpScreen
from ews_tui.ui.session import Role
from tests.ui.box_fixtures import SnapshotApp, box_runtime, make_box_app

# 2026-03-02 08:00 and 09:30 UTC (09:00, 10:30 in Paris)
MORNING = 1_772_438_400.0
FAULT_AT = MORNING + 5_400.0


async def demo_site(rt: Runtime) -> dict[str, int]:
    """The demo site; its charging points' ids by name."""
    await rt.get(InstallationService).import_document(to_document(load_site("demo")))
    points = rt.get(ChargingService).points()
    return {d.display_name(): d.id for d in points}


async def a_morning(rt: Runtime) -> None:
    """The demo site with a finished session, a fault, one point charging and one silent."""
    ids = list((await demo_site(rt)).values())
    charging = rt.get(ChargingService)
    first, second, third = ids
    await charging.repo.save(ChargingSession(second, MORNING, MORNING + 4_000.0, 12.345, 1), None)
    for device_id in ids:
        rt.hub.publish(DeviceStateChanged(device_id, DeviceState.ON))
    rt.hub.publish(Sample(first, FAULT_AT - 60, {"charger": "available", "p": 0.0}))
    rt.hub.publish(Sample(first, FAULT_AT, {"charger": "fault", "p": 0.0}))
    values = {"charger": "charging", "p": 7.2, "session_energy": 3.5}
    rt.hub.publish(Sample(second, FAULT_AT, values))  # first seen charging: start unknown
    rt.hub.publish(DeviceStateChanged(third, DeviceState.COMM_ERROR, "no answer"))
    await until(lambda: charging.track(first).last_fault == FAULT_AT)
    await until(lambda: charging.track(second).session is not None)


async def until(check: Callable[[], bool], pause: Callable[[], Any] | None = None) -> None:
    import asyncio

    deadline = time.monotonic() + 10.0
    while not check():
        assert time.monotonic() < deadline, "still waiting"
        await (pause() if pause is not None else asyncio.sleep(0))


@pytest.fixture
async def box(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path) as rt:
        yield rt


def rows(pilot: Any, selector: str) -> list[list[str]]:
    table = pilot.app.screen.query_one(selector, DataTable)
    return [[str(c) for c in table.get_row(k)] for k in table.rows]


def text(pilot: Any, selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).render())


def test_the_page_is_on_the_system_configuration_menu() -> None:
    assert may_open(Role.SYSTEM, "greenup")
    assert not may_open(Role.CONSULTATION, "greenup") and not may_open(Role.SERVER, "greenup")


async def test_an_empty_box_says_where_to_add_a_charger(box: Runtime) -> None:
    app = make_box_app(box, "greenup")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, GreenUpScreen)
        assert rows(pilot, "#greenup-points") == []
        assert "No charging point" in text(pilot, "#greenup-settings")
        await until(lambda: "none recorded" in text(pilot, "#greenup-sessions-title"), pilot.pause)


async def test_points_follow_the_chargers_and_sessions_are_listed(box: Runtime) -> None:
    names = await demo_site(box)
    app = make_box_app(box, "greenup")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert [r[0] for r in rows(pilot, "#greenup-points")] == list(names)
        assert all(r[1:] == ["—"] * 5 for r in rows(pilot, "#greenup-points"))
        assert "assumed" in text(pilot, "#greenup-settings")
        assert "nothing is written" in text(pilot, "#greenup-settings")
        await a_morning(box)

        def shown() -> bool:
            return rows(pilot, "#greenup-points")[1][1] == "▶ Charging"

        await until(shown, pilot.pause)
        first, second, third = rows(pilot, "#greenup-points")
        assert first[1] == "✕ Fault" and first[5].endswith("10:30")  # Europe/Paris
        assert second[1:5] == ["▶ Charging", "7.200", "3.5", "—"]  # its start is not known
        assert third[1:] == ["✕ Comm. error", "—", "—", "—", "—"]
        await until(lambda: len(rows(pilot, "#greenup-sessions")) == 2, pilot.pause)
        going, done = rows(pilot, "#greenup-sessions")
        assert going == ["—", "going on", second[0], "1", "3.5"]
        assert done[1:] == ["10:06", second[0], "1", "12.3"] and done[0].endswith("09:00")
        assert text(pilot, "#greenup-sessions-title") == "Recent sessions: 2"
        assert text(pilot, "#greenup-point") == (
            "Charger A: model 0 590 02, address 1 (unverified register map)"
        )
        await pilot.press("down")
        assert text(pilot, "#greenup-point").startswith("Charger B1: model 0 590 32, address 2-1")

        # A car plugged at Charger A, seen from its start: its duration moves with the clock.
        screen = app.screen
        assert isinstance(screen, GreenUpScreen)
        screen.clock = lambda: FAULT_AT + 3_900.0
        a_id = names["Charger A"]
        box.hub.publish(Sample(a_id, FAULT_AT + 60, {"charger": "available"}))
        box.hub.publish(Sample(a_id, FAULT_AT + 300, {"charger": "charging", "p": 11.0}))
        await until(lambda: rows(pilot, "#greenup-points")[0][4] == "1:00", pilot.pause)
        assert rows(pilot, "#greenup-points")[0][1:3] == ["▶ Charging", "11.000"]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_snapshot(snap_compare: Any, tmp_path: Path, language: str) -> None:
    async def run_before(pilot: Any) -> None:
        # from the app's own task: the screen is built in the session's language
        pilot.app.call_next(pilot.app.open_screen, "greenup")
        await pilot.pause()
        await until(lambda: len(rows(pilot, "#greenup-sessions")) == 2, pilot.pause)
        await until(lambda: rows(pilot, "#greenup-points")[1][1] != "—", pilot.pause)
        # DataTable widens its columns for new rows when idle: before that a frame shows
        # "12." for 12.3 (the stored snapshot did, now and then)
        sessions = pilot.app.screen.query_one("#greenup-sessions", DataTable)
        await until(
            lambda: all(
                sessions.columns[ColumnKey(key)].content_width >= len(row[i])
                for row in rows(pilot, "#greenup-sessions")
                for i, key in enumerate(("start", "end", "point", "side", "kwh"))
            ),
            pilot.pause,
        )

    app = SnapshotApp(tmp_path, "home", language=language, prepare=a_morning)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
