"""Hub events for a screen, only while the screen is up.

A screen that is popped leaves the screen stack first, then loses its widgets, and only then
are its workers cancelled: an event handled in between would find no widget to update (a
``NoMatches`` that ends the session's app). :func:`while_shown` stops the screen's follow loop
as soon as the screen has left the stack. A screen covered by another (help, a form) is still
on the stack and keeps following.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any, TypeVar

from textual.css.query import NoMatches
from textual.screen import Screen

log = logging.getLogger(__name__)

E = TypeVar("E")


def is_shown(screen: Screen[Any]) -> bool:
    """Whether ``screen`` is on its app's screen stack (shown or covered)."""
    try:
        return screen in screen.app.screen_stack
    except Exception:  # no app any more: the session has ended
        return False


async def while_shown(screen: Screen[Any], events: AsyncIterable[E]) -> AsyncIterator[E]:
    """``events`` until ``screen`` leaves the stack."""
    async for event in events:
        if not is_shown(screen):
            return
        yield event


async def follow(
    screen: Screen[Any], events: AsyncIterable[E], handle: Callable[[E], object]
) -> None:
    """``handle`` each event while ``screen`` is on the stack. An event that finds a widget
    missing while the screen is not the one shown (it is being taken down, or covered while
    the app switches screens) or while the app shuts down (its widgets go, the screen stays
    on top) is skipped: it ended the whole session. The shown screen of a running app missing
    a widget is a bug, and raises."""
    async for event in while_shown(screen, events):
        try:
            handle(event)
        except NoMatches:
            if screen.is_attached and screen.app.screen is screen and screen.app.is_running:
                raise
            log.debug("%s: an event came as the screen's widgets went", type(screen).__name__)
