"""A closed session leaves nothing the heap cannot free young or at the policy's next full
collection: no driver class made per session (a cycle holding the terminal, its link and its
app), no app in the caller's context variables, and the heap policy told the session ended
(issues 11 and 16)."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import weakref

from textual._context import active_app
from textual.app import App

from ews_tui import heap
from ews_tui.frontends.driver import StreamDriver, StreamTerminal, TerminalSize
from tests.frontends.terminal_text import DEADLINE_S
from tests.frontends.test_driver import QueueLink, TableProbe


async def drawn(link: QueueLink) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while not any("230.1 V" in chunk for chunk in link.out):  # the table was drawn
        assert loop.time() < deadline, "the table never showed"
        await asyncio.sleep(0.01)


async def one_session(
    context: contextvars.Context | None = None,
) -> tuple[weakref.ref[App[None]], weakref.ref[StreamDriver], App[None] | None, bool]:
    """Run a session to its end; weak references to its app and driver, the app the
    caller's context said was active while it ran, whether its driver was a StreamDriver
    itself."""
    link = QueueLink()
    terminal = StreamTerminal(link, TerminalSize(80, 24))
    app = TableProbe()
    running = asyncio.create_task(terminal.run(app), context=context)
    await drawn(link)
    driver = app._driver
    assert isinstance(driver, StreamDriver)
    shared = type(driver) is StreamDriver
    seen = context.get(active_app) if context is not None else None
    link.incoming.put_nowait("")
    await asyncio.wait_for(running, DEADLINE_S)
    assert terminal.gone and not terminal.crashed
    return weakref.ref(app), weakref.ref(driver), seen, shared


async def test_a_closed_sessions_driver_and_app_are_released() -> None:
    app, driver, _seen, shared = await one_session()
    assert shared  # the one driver class every session uses
    # No class made for the session: a class is a cycle (its __mro__) that only a full
    # collection frees, and it held the terminal, the link and the app.
    assert StreamDriver.__subclasses__() == []
    gc.collect()
    assert app() is None
    assert driver() is None


async def test_the_app_runs_in_a_context_of_its_own() -> None:
    # What Textual sets in its context variables while the app runs (the active app) stays
    # out of the caller's context: callbacks and tasks scheduled from it meanwhile copy it,
    # and would hold the app after the session ended.
    caller = contextvars.copy_context()
    _app, _driver, seen, _shared = await one_session(caller)
    assert seen is None


async def test_a_key_typed_tells_the_heap_policy() -> None:
    # Sessions at work (typing, not only changing screens) hold the full collection back.
    link = QueueLink()
    terminal = StreamTerminal(link, TerminalSize(80, 24))
    app = TableProbe()
    running = asyncio.create_task(terminal.run(app))
    await drawn(link)
    before = heap.POLICY.last_activity
    link.incoming.put_nowait("x")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while heap.POLICY.last_activity == before:
        assert loop.time() < deadline, "the key never reached the policy"
        await asyncio.sleep(0.01)
    link.incoming.put_nowait("")
    await asyncio.wait_for(running, DEADLINE_S)


async def test_a_closed_session_tells_the_heap_policy() -> None:
    before = heap.POLICY.last_activity
    await one_session()
    assert heap.POLICY.last_activity > before
    assert heap.POLICY.dirty  # a full collection is due once the loop is quiet
