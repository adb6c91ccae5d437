"""The Textual driver over a byte stream, on an in-memory link: keys through Textual's
xterm parser (private: a Textual upgrade that changes it fails here), a lone Esc after its
delay, resizes, the end of the stream, the idle call and the colour depth."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from textual import events
from textual._styles_cache import StylesCache
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input

from ews_tui.frontends.driver import (
    StreamTerminal,
    TerminalSize,
    colors_for_terminal,
    fit_colors,
)
from tests.frontends.terminal_text import DEADLINE_S


class QueueLink:
    def __init__(self) -> None:
        self.incoming: asyncio.Queue[str | TerminalSize] = asyncio.Queue()
        self.out: list[str] = []

    async def read(self) -> str | TerminalSize:
        return await self.incoming.get()

    def write(self, data: str) -> None:
        self.out.append(data)


class Probe(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "escaped")]

    def __init__(self) -> None:
        super().__init__()
        self.seen: asyncio.Queue[object] = asyncio.Queue()

    def compose(self) -> ComposeResult:
        yield Input(id="field")

    def on_mount(self) -> None:
        self.seen.put_nowait("mounted")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.seen.put_nowait(("submitted", event.value))

    def on_resize(self, event: events.Resize) -> None:
        self.seen.put_nowait(("size", tuple(event.size)))

    def action_escaped(self) -> None:
        self.seen.put_nowait("escape")


async def next_seen(app: Probe, wanted: object) -> None:
    while (got := await asyncio.wait_for(app.seen.get(), DEADLINE_S)) != wanted:
        pass
    assert got == wanted


async def test_keys_escape_resize_and_end_of_stream() -> None:
    link = QueueLink()
    terminal = StreamTerminal(link, TerminalSize(90, 30), colors=16)
    app = Probe()
    running = asyncio.create_task(terminal.run(app))
    await next_seen(app, ("size", (90, 30)))
    assert "".join(link.out).startswith("\x1b[?1049h\x1b[?25l")

    link.incoming.put_nowait("héllo\r")  # text in one read, UTF-8 included
    await next_seen(app, ("submitted", "héllo"))
    link.incoming.put_nowait("\x1b")  # Esc alone: a key once no sequence follows
    await next_seen(app, "escape")
    link.incoming.put_nowait(TerminalSize(100, 40))
    await next_seen(app, ("size", (100, 40)))
    assert tuple(app.size) == (100, 40)

    written = "".join(link.out)
    assert "38;2;" not in written and "38;5;" not in written  # 16 colours only
    link.incoming.put_nowait("")  # the other end went
    await asyncio.wait_for(running, DEADLINE_S)
    assert terminal.gone
    assert "".join(link.out).endswith("\x1b[?1049l\x1b[?25h")


async def test_idle_is_called_after_the_quiet_period_only() -> None:
    loop = asyncio.get_running_loop()
    idle_at: asyncio.Queue[float] = asyncio.Queue()
    link = QueueLink()
    terminal = StreamTerminal(
        link,
        TerminalSize(80, 24),
        idle_timeout=0.3,
        on_idle=lambda: idle_at.put_nowait(loop.time()),
        mouse=False,
    )
    app = Probe()
    running = asyncio.create_task(terminal.run(app))
    await next_seen(app, "mounted")
    assert "\x1b[?1000h" not in "".join(link.out)
    link.incoming.put_nowait("a\r")  # a key some way into the session (Textual's start)
    await next_seen(app, ("submitted", "a"))
    key_at = terminal.last_input
    idle = await asyncio.wait_for(idle_at.get(), DEADLINE_S)
    while idle < key_at:  # a slow start may have been quiet long enough before the key
        idle = await asyncio.wait_for(idle_at.get(), DEADLINE_S)
    # A whole quiet period after the key, not on a beat counted from the start.
    assert idle - key_at >= terminal.idle_timeout
    app.exit()
    await asyncio.wait_for(running, DEADLINE_S)
    assert not terminal.gone


def test_colors_from_term_and_colorterm() -> None:
    assert colors_for_terminal("xterm-256color") == 256
    assert colors_for_terminal("xterm", "truecolor") == "truecolor"
    assert colors_for_terminal("linux") == 16
    assert colors_for_terminal(None) == 16


class TableProbe(App[None]):
    def compose(self) -> ComposeResult:
        table: DataTable[str] = DataTable()
        table.add_columns("device", "value")
        table.add_rows([("meter", "230.1 V"), ("breaker", "ON")])
        yield table
        yield Input(value="x")


async def test_a_closed_session_leaves_nothing_in_textuals_class_wide_caches() -> None:
    # They are keyed on widget objects: entries kept each widget's rendered lines, and a
    # DataTable kept its whole App, after the session closed.
    link = QueueLink()
    terminal = StreamTerminal(link, TerminalSize(80, 24))
    app = TableProbe()
    running = asyncio.create_task(terminal.run(app))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while not any("230.1 V" in chunk for chunk in link.out):  # the table was drawn
        assert loop.time() < deadline, "the table never showed"
        await asyncio.sleep(0.01)
    assert StylesCache.get_inner_outer.cache_info().currsize > 0  # a session filled them
    link.incoming.put_nowait("")
    await asyncio.wait_for(running, DEADLINE_S)
    assert StylesCache.get_inner_outer.cache_info().currsize == 0
    assert DataTable._get_styles_to_render_cell.cache_info().currsize == 0


def test_colours_are_fitted_to_the_terminal_whatever_rendered_them() -> None:
    """rich keeps a style's codes for the colour system it first rendered in, and Textual
    shares styles between the apps of one process: a 16-colour console after a truecolor SSH
    session got truecolor codes. What a terminal is sent is fitted to its depth."""
    truecolor = "\x1b[1;38;2;255;0;0;48;5;235mX\x1b[0m\x1b[?1049h"
    assert fit_colors(truecolor, 16) == "\x1b[1;31;40mX\x1b[0m\x1b[?1049h"
    assert fit_colors(truecolor, 256) == "\x1b[1;38;5;196;48;5;235mX\x1b[0m\x1b[?1049h"
    assert fit_colors(truecolor, "truecolor") == truecolor
    assert fit_colors("\x1b[38;5mbroken", 16) == "\x1b[38;5mbroken"  # left as it was


async def test_a_frame_reaches_the_link_in_one_write() -> None:
    """Textual writes a frame in pieces (synchronised-update marks, the changes, the
    cursor): each piece was a write on the SSH channel, a packet of its own. Now the pieces
    of one frame go in one write; a write Textual makes without a flush (a bell) still goes
    out, in the next loop pass."""
    link = QueueLink()
    terminal = StreamTerminal(link, TerminalSize(80, 24), colors=256)
    app = Probe()
    running = asyncio.create_task(terminal.run(app))
    await next_seen(app, ("size", (80, 24)))
    await asyncio.sleep(0)
    driver = app._driver
    assert driver is not None
    app._sync_available = True  # as when the terminal answers the query
    before = len(link.out)
    app.query_one(Input).value = "frame"
    async with asyncio.timeout(DEADLINE_S):
        while not any("frame" in out for out in link.out[before:]):
            await asyncio.sleep(0.01)
    frame = link.out[-1]
    assert frame.startswith("\x1b[?2026h") and frame.endswith("\x1b[?2026l")
    assert "frame" in frame
    app.bell()
    assert link.out[-1] == frame  # kept for this loop pass
    await asyncio.sleep(0)
    assert link.out[-1] == "\x07"
    link.incoming.put_nowait("")
    await asyncio.wait_for(running, DEADLINE_S)
    assert "".join(link.out).endswith("\x1b[?1049l\x1b[?25h")
