"""A screen follows hub events only while it is on the stack: a popped screen's widgets are
gone before its workers stop, and an event handled then would end the session's app."""

from __future__ import annotations

import asyncio

from textual.app import App
from textual.screen import Screen

from ews_tui.domain.events import Sample
from ews_tui.hub import Hub
from ews_tui.ui.follow import is_shown, while_shown


async def test_events_stop_once_the_screen_has_left_the_stack() -> None:
    hub = Hub()
    app: App[None] = App()
    async with app.run_test() as pilot:
        screen: Screen[None] = Screen()
        await app.push_screen(screen)
        cover: Screen[None] = Screen()
        await app.push_screen(cover)  # covered (help, a form): still following
        assert is_shown(screen)
        seen: list[float] = []
        with hub.subscribe(Sample, name="test") as subscription:

            async def follow() -> None:
                async for event in while_shown(screen, subscription):
                    seen.append(event.ts)

            task = asyncio.create_task(follow())
            hub.publish(Sample(1, 1.0, {}))
            await pilot.pause()
            app.pop_screen()  # the cover
            app.pop_screen()  # the screen itself
            await pilot.pause()
            assert not is_shown(screen)
            hub.publish(Sample(1, 2.0, {}))
            await asyncio.wait_for(task, 5)
        assert seen == [1.0]
