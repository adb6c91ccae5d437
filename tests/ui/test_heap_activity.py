"""The app tells the heap policy when a screen opens or closes: no full collection while a
session navigates, one once it is quiet (issues 11 and 16)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ews_tui import heap
from ews_tui.domain.auth import Role
from ews_tui.runtime import Runtime
from ews_tui.ui.screens.help import HelpScreen
from ews_tui.ui.screens.home import HomeScreen
from tests.ui.shell_fixtures import make_shell_app, shell_runtime


@pytest.fixture
async def rt(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with shell_runtime(tmp_path) as runtime:
        yield runtime


async def test_opening_and_closing_a_screen_is_activity_for_the_heap(rt: Runtime) -> None:
    app = make_shell_app(rt, "home", role=Role.SYSTEM)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        started = heap.POLICY.last_activity
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        opened = heap.POLICY.last_activity
        assert opened > started
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)
        assert heap.POLICY.last_activity > opened
