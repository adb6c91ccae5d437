"""The EN 50160 screen: the weeks the checker stored, a week's criteria and harmonics, the
worst value of the highlighted criterion; snapshots at 80x24 in English and French."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, OptionList, Static

from ews_tui.cli.sim import load_site
from ews_tui.domain.installation_doc import to_document
from ews_tui.runtime import Runtime
from ews_tui.services.en50160 import En50160Checker
from ews_tui.services.installation import InstallationService
from ews_tui.store.db import DATABASE_FILE, open_database
from ews_tui.ui.screens.en50160 import En50160Screen, En50160WeekScreen
from ews_tui.ui.session import Role
from tests.services.test_en50160 import MONDAY, record_week
from tests.ui.box_fixtures import SnapshotApp, box_runtime, make_box_app


async def a_checked_ko_week(rt: Runtime) -> None:
    installation = rt.get(InstallationService)
    if not installation.current.devices:
        await installation.import_document(to_document(load_site("demo")))
    db = await open_database(rt.config.data_dir / DATABASE_FILE)
    try:
        await record_week(db, MONDAY, thd_bad=100)
    finally:
        await db.close()
    (gateway,) = [g for g in installation.current.gateways if g.name == "Local"]
    assert await rt.get(En50160Checker).check(gateway, MONDAY) is not None


@pytest.fixture
async def box(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path) as rt:
        yield rt


def text(pilot: Any, selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).render())


async def test_an_empty_box_says_how_to_get_a_verdict(box: Runtime) -> None:
    app = make_box_app(box, "en50160", role=Role.CONSULTATION)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, En50160Screen)
        assert "No gateway has an EQ device" in text(pilot, "#en50160-summary")


async def test_a_ko_week_opens_on_its_criteria_and_worst_values(box: Runtime) -> None:
    app = make_box_app(box, "en50160", role=Role.CONSULTATION)
    async with app.run_test(size=(80, 24)) as pilot:
        await box.get(InstallationService).import_document(to_document(load_site("demo")))
        for _ in range(50):  # the screen follows the installation
            if "No week checked yet" in text(pilot, "#en50160-summary"):
                break
            await pilot.pause(0.05)
        assert "No week checked yet" in text(pilot, "#en50160-summary")
        await a_checked_ko_week(box)  # the screen follows the checker
        weeks = app.screen.query_one("#en50160-weeks", OptionList)
        for _ in range(50):
            if weeks.option_count:
                break
            await pilot.pause(0.05)
        assert str(weeks.get_option_at_index(0).prompt) == "2026-W48  ✕ KO  Local (Main meter)"
        await pilot.press("enter")
        await pilot.pause()
        week = app.screen
        assert isinstance(week, En50160WeekScreen)
        table = week.query_one("#en50160-criteria", DataTable)
        rows = {str(k.value): [str(c) for c in table.get_row(k)] for k in table.rows}
        assert rows["thd"] == [
            "THD", "1008", "100", "0", "9.0", "≤ 8.0 %", "✕ failed"
        ]  # fmt: skip
        assert rows["voltage"][-2:] == ["207.0–253.0 V", "✓ passed"]
        assert rows["flicker"][-1] == "– not assessed"
        assert text(pilot, "#en50160-worst").startswith("Frequency: worst 50.02 Hz on ")
        await pilot.press("down", "down", "down", "down")
        assert text(pilot, "#en50160-worst").startswith("THD: worst 9.0 %")
        notes = text(pilot, "#en50160-notes")
        assert "Harmonics 2–25: not assessed" in notes and "Voltage dips" in notes
        await pilot.press("escape")
        assert isinstance(app.screen, En50160Screen)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_snapshot_week(snap_compare: Any, tmp_path: Path, language: str) -> None:
    async def run_before(pilot: Any) -> None:
        pilot.app.open_screen("en50160")
        await pilot.pause()
        for _ in range(50):
            if pilot.app.screen.query_one("#en50160-weeks", OptionList).option_count:
                break
            await pilot.pause(0.05)
        await pilot.press("enter")
        await pilot.pause()

    app = SnapshotApp(tmp_path, "home", language=language, prepare=a_checked_ko_week)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_weeks_that_come_after_esc_are_not_shown(
    box: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Esc before the store answered: the answer found the screen's widgets going, and the
    NoMatches ended the session (seen in bench_sessions, Esc 0.3 s after opening, under
    load). A screen that left the stack shows nothing more."""
    await box.get(InstallationService).import_document(to_document(load_site("demo")))
    await a_checked_ko_week(box)
    repo = box.get(En50160Checker).repo
    gateways = box.get(InstallationService).current.gateways
    answers = {g.id: await repo.weeks(g.id, 100) for g in gateways}
    gate, asked = asyncio.Event(), asyncio.Event()

    async def slow_weeks(gateway_id: int, count: int) -> Any:
        asked.set()
        await gate.wait()  # the store answers once the user pressed Esc
        return answers[gateway_id][:count]

    monkeypatch.setattr(repo, "weeks", slow_weeks)
    app = make_box_app(box, "home", role=Role.CONSULTATION)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_screen("en50160")
        screen = app.screen
        assert isinstance(screen, En50160Screen)
        await asyncio.wait_for(asked.wait(), 10)
        app.pop_screen()
        gate.set()
        for _ in range(10):
            await pilot.pause()
        assert screen.weeks == []
        assert app.crash is None and app.is_running
