"""A screen's follow loop: an event that finds a widget gone while the screen is not the one
shown is skipped (it ended the whole session: DevicesScreen under xdist load); the shown
screen missing a widget is a bug and still raises."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from textual.app import App, ComposeResult
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Static

from ews_tui.ui.follow import follow


class Follower(Screen[None]):
    def __init__(self) -> None:
        super().__init__()
        self.events: asyncio.Queue[int] = asyncio.Queue()
        self.handled: list[int] = []

    def compose(self) -> ComposeResult:
        yield Static("here", id="here")

    async def stream(self) -> AsyncIterator[int]:
        while True:
            yield await self.events.get()

    def handle(self, event: int) -> None:
        self.handled.append(event)
        self.query_one("#gone", Static)  # a widget that is not there: NoMatches


async def test_an_event_for_a_covered_screen_missing_a_widget_is_skipped() -> None:
    app: App[None] = App()
    async with app.run_test() as pilot:
        screen = Follower()
        await app.push_screen(screen)
        task = asyncio.create_task(follow(screen, screen.stream(), screen.handle))
        await app.push_screen(Screen())  # another screen on top: Follower is covered
        await pilot.pause()
        screen.events.put_nowait(1)
        for _ in range(50):
            if screen.handled:
                break
            await pilot.pause(0.01)
        assert screen.handled == [1] and not task.done()  # skipped, still following
        app.pop_screen()
        await pilot.pause()
        screen.events.put_nowait(2)  # now the shown screen misses a widget: a bug
        with pytest.raises(NoMatches):
            await asyncio.wait_for(task, 5)


async def test_an_event_while_the_app_shuts_down_is_skipped() -> None:
    """The app's shutdown takes the widgets while the screen stays on top (bus11's flaky
    states test): the event is skipped, not raised into the ending session."""
    app: App[None] = App()
    async with app.run_test() as pilot:
        screen = Follower()
        await app.push_screen(screen)
        await pilot.pause()
        task = asyncio.create_task(follow(screen, screen.stream(), screen.handle))
        app._running = False  # what App._shutdown sets first, before it closes the widgets
        screen.events.put_nowait(1)
        for _ in range(50):
            if screen.handled:
                break
            await pilot.pause(0.01)
        assert screen.handled == [1] and not task.done()
        task.cancel()
        app._running = True  # let run_test close the app as usual
