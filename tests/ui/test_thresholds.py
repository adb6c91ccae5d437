"""The threshold editor, opened from the Alarms screen by the System configuration role (the
installer): add a site threshold, edit it (a renamed one replaces the old), refuse a bad
limit and a name taken, delete it; the other roles have no key to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select, Static

from ews_tui.domain.auth import Role
from ews_tui.runtime import Runtime
from ews_tui.services.alarms import AlarmEngine
from ews_tui.ui.screens.alarms import AlarmsScreen
from ews_tui.ui.screens.thresholds import ThresholdForm, ThresholdsScreen
from tests.ui.box_fixtures import box_runtime, make_box_app


@pytest.fixture
async def box(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path) as rt:
        yield rt


def rows(app: object) -> list[tuple[str, ...]]:
    table = app.screen.query_one("#thresholds-table", DataTable)  # type: ignore[attr-defined]
    return [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    for worker in list(pilot.app.workers):
        if worker.group.startswith("thresholds-"):
            await worker.wait()
    await pilot.pause()


async def open_form(pilot, key: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press(key)
    for _ in range(100):
        if isinstance(pilot.app.screen, ThresholdForm) and pilot.app.screen.is_mounted:
            break
        await pilot.pause()
    await pilot.pause()
    assert isinstance(pilot.app.screen, ThresholdForm)


def fill(app: object, **values: str) -> None:
    form = app.screen  # type: ignore[attr-defined]
    assert isinstance(form, ThresholdForm)
    for key, value in values.items():
        form.query_one(f"#thr-{key}", Input).value = value


async def test_add_edit_refuse_and_delete(box: Runtime) -> None:
    engine = box.get(AlarmEngine)
    app = make_box_app(box, "alarms")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("T")
        await settle(pilot)
        assert isinstance(app.screen, ThresholdsScreen) and rows(app) == []
        await open_form(pilot, "a")
        fill(app, name="Site power", quantity="p", limit="80", hysteresis="2", delay="30")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert rows(app) == [("Site power", "Site", "p > 80 ±2", "30 s", "! warning", "✓")]
        (saved,) = await engine.thresholds()
        assert (saved.target_kind, saved.limit, saved.delay_s) == ("site", 80.0, 30.0)

        await open_form(pilot, "a")  # a second one
        fill(app, name="Site power")
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = str(app.screen.query_one("#thr-error", Static).render())
        assert "exists already" in error
        fill(app, name="Low voltage", quantity="v1", limit="abc")
        app.screen.query_one("#thr-op", Select).value = "<"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "must be a number" in str(app.screen.query_one("#thr-error", Static).render())
        await pilot.press("escape")
        await settle(pilot)

        await open_form(pilot, "enter")  # edit: renamed, a new limit
        fill(app, name="Site power max", limit="90")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert [r[:3] for r in rows(app)] == [("Site power max", "Site", "p > 90 ±2")]
        assert [t.name for t in await engine.thresholds()] == ["Site power max"]

        await pilot.press("delete", "y")
        await settle(pilot)
        assert rows(app) == [] and await engine.thresholds() == []


async def test_only_the_installer_has_the_key(box: Runtime) -> None:
    for role, shown in ((Role.SYSTEM, True), (Role.SERVER, False), (Role.CONSULTATION, False)):
        app = make_box_app(box, "alarms", role=role)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, AlarmsScreen)
            assert bool(app.screen.check_action("thresholds", ())) is shown
