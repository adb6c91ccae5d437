"""A Textual driver over a byte stream: one per UI session (an SSH channel, a serial tty).

Textual's own drivers read the process's stdin and write its stderr; a box serving many
sessions in one loop needs each App to talk to its own stream instead. A
:class:`TerminalLink` is that stream (``read`` and ``write`` of text, plus size changes);
:class:`StreamTerminal` runs one App on one link:

    terminal = StreamTerminal(link, TerminalSize(80, 24), colors=16)
    await terminal.run(app)        # returns when the app exits or the link goes
    terminal.crashed               # True: an unexpected error ended it (never raised here)

The driver sends the alternate-screen / hide-cursor / mouse sequences, posts the first
``Resize``, and reads the link in a task of the app's own context: bytes go through
Textual's xterm parser (a private module: the Textual major version is pinned and
tests/frontends/test_driver.py covers it), a size change posts a ``Resize``, the end of the
stream exits the app. Nothing here touches the process's stdin, stdout or signals.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import sys
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, TextIO

from rich.color import Color as RichColor
from rich.color import ColorSystem
from textual import constants, events
from textual._styles_cache import StylesCache
from textual._xterm_parser import XTermParser
from textual.app import App
from textual.driver import Driver
from textual.geometry import Size
from textual.message import Message
from textual.widgets import DataTable

from ews_tui import heap

log = logging.getLogger(__name__)

ALT_SCREEN_ON = "\x1b[?1049h"
ALT_SCREEN_OFF = "\x1b[?1049l"
CURSOR_HIDE = "\x1b[?25l"
CURSOR_SHOW = "\x1b[?25h"
MOUSE_ON = "\x1b[?1000h\x1b[?1003h\x1b[?1015h\x1b[?1006h"  # VT200, any event, urxvt, SGR
MOUSE_OFF = "\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l"
PASTE_ON = "\x1b[?2004h"
PASTE_OFF = "\x1b[?2004l"
WRAP_OFF = "\x1b[?7l"
WRAP_ON = "\x1b[?7h"
SYNC_QUERY = "\x1b[?2026$p"  # does the terminal support synchronised output?

Colors = int | str  # 16 / 256 / "truecolor", as Session.colors
COLOR_SYSTEMS: dict[Colors, ColorSystem] = {
    16: ColorSystem.STANDARD,
    256: ColorSystem.EIGHT_BIT,
    "truecolor": ColorSystem.TRUECOLOR,
}


@dataclass(frozen=True)
class TerminalSize:
    columns: int
    rows: int


class TerminalLink(Protocol):
    """The stream one session's UI runs over."""

    async def read(self) -> str | TerminalSize:
        """The next text typed, a new size, or "" once the other end is gone."""
        ...

    def write(self, data: str) -> None:
        """Send ``data`` (never blocks; a link gone quietly drops it)."""
        ...


def colors_for_terminal(term: str | None, colorterm: str | None = None) -> Colors:
    """The colour depth a client's ``TERM`` and ``COLORTERM`` announce."""
    if (colorterm or "").strip().lower() in ("truecolor", "24bit"):
        return "truecolor"
    term = (term or "").strip().lower()
    if term.endswith(("256color", "256colour")):
        return 256
    if term.endswith(("direct", "truecolor")):
        return "truecolor"
    return 16


class StreamTerminal:
    """Runs Textual Apps on one :class:`TerminalLink` at a known size and colour depth.

    ``idle_timeout`` (seconds, None for never): ``on_idle`` is called once no key came for
    that long (and again after the next quiet period).
    """

    def __init__(
        self,
        link: TerminalLink,
        size: TerminalSize,
        *,
        colors: Colors = 256,
        mouse: bool = True,
        query_terminal: bool = True,
        idle_timeout: float | None = None,
        on_idle: Callable[[], None] | None = None,
    ) -> None:
        self.link = link
        self.size = size
        self.colors = colors
        self.mouse = mouse
        self.query_terminal = query_terminal
        self.idle_timeout = idle_timeout
        self.on_idle = on_idle
        self.gone = False  # the other end went (EOF, hang-up)
        self.crashed = False  # an unexpected error ended the last app run here
        self.last_input = 0.0
        self._reader: asyncio.Task[None] | None = None
        self._idle_handle: asyncio.TimerHandle | None = None

    async def run(self, app: App[Any]) -> None:
        """Run ``app`` here until it exits or the link goes; the link is left open.

        An exception of the app never leaves here: the app ends, :attr:`crashed` says so,
        and the front end tells its user; the loop, the box and other sessions go on.
        """
        # One driver class for every session: Textual makes the driver, which finds this
        # terminal through the app (a class made per session is a cycle, its ``__mro__``,
        # that held the terminal, its link and its app until a full collection).
        app.driver_class = StreamDriver
        _TERMINALS[app] = self
        set_color_depth(app, self.colors)
        _share_print_capture(app)
        loop = asyncio.get_running_loop()
        self.last_input = loop.time()
        self.crashed = False
        if self.idle_timeout:
            self._idle_handle = loop.call_later(self.idle_timeout, self._check_idle)
        _PRINTS.entered()
        try:
            # In a context of its own: Textual sets the running app in its context
            # variables; in the caller's context, every callback or task scheduled from it
            # meanwhile (the SSH channel's) would take a copy holding the app.
            run = app.run_async(size=(self.size.columns, self.size.rows), mouse=self.mouse)
            await loop.create_task(run, name="ui-session", context=contextvars.copy_context())
            # Textual ends an app with return code 1 after an exception nothing caught.
            self.crashed = app.return_code not in (None, 0)
        except Exception:  # escaped Textual's own handling (its driver, its shutdown)
            log.exception("a UI session ended by an unexpected error")
            self.crashed = True
        finally:
            _PRINTS.left()
            _TERMINALS.pop(app, None)
            heap.POLICY.activity()  # the session's objects are garbage: a full collection due
            release_textual_caches()
            if self._idle_handle is not None:
                self._idle_handle.cancel()
                self._idle_handle = None
            reader, self._reader = self._reader, None
            if reader is not None:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)

    def touched(self) -> None:
        """Something was typed: the idle timer starts again, and the heap policy holds its
        full collection until the sessions are quiet."""
        self.last_input = asyncio.get_running_loop().time()
        heap.POLICY.activity()

    def _check_idle(self) -> None:
        assert self.idle_timeout
        loop = asyncio.get_running_loop()
        quiet = loop.time() - self.last_input
        if quiet >= self.idle_timeout:
            self.last_input = loop.time()
            if self.on_idle is not None:
                self.on_idle()
            delay = self.idle_timeout
        else:
            delay = self.idle_timeout - quiet
        self._idle_handle = loop.call_later(delay, self._check_idle)


def set_color_depth(app: App[Any], colors: Colors) -> None:
    """Render ``app`` for a terminal of ``colors``, whatever this process's own TERM says.

    Textual's console guesses from the process's environment, which a daemon does not
    share with its clients.
    """
    app.console._color_system = COLOR_SYSTEMS.get(colors, ColorSystem.STANDARD)


class _SessionPrints:
    """Where ``print`` goes while session apps run: the log, never a terminal.

    Textual swaps ``sys.stdout``/``sys.stderr`` for a capture object of the running app and
    puts back what it found when that app ends. Sessions end in any order, so the last one
    to end could leave a closed session's capture in ``sys.stdout``, and with it that whole
    App. Every session app here captures into this one object instead (holding no app), and
    the streams found before the first session are put back when the last one ends.
    """

    def __init__(self) -> None:
        self.running = 0
        self._saved: tuple[TextIO, TextIO] | None = None
        self._writing = False  # logging's last-resort handler writes to sys.stderr: us

    def write(self, text: str) -> int:
        if text.strip() and not self._writing:
            self._writing = True
            try:
                log.warning("printed while UI sessions run: %s", text.rstrip())
            finally:
                self._writing = False
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return -1

    def entered(self) -> None:
        if self.running == 0:
            self._saved = (sys.stdout, sys.stderr)
        self.running += 1

    def left(self) -> None:
        self.running -= 1
        if self.running == 0 and self._saved is not None:
            if sys.stdout is self:
                sys.stdout = self._saved[0]
            if sys.stderr is self:
                sys.stderr = self._saved[1]
            self._saved = None


_PRINTS = _SessionPrints()

#: The terminal each running session app runs on (its driver finds it here).
_TERMINALS: weakref.WeakKeyDictionary[App[Any], StreamTerminal] = weakref.WeakKeyDictionary()


def _share_print_capture(app: App[Any]) -> None:
    """Make ``app`` capture prints into :data:`_PRINTS` (see :class:`_SessionPrints`)."""
    app._capture_stdout = app._capture_stderr = _PRINTS  # type: ignore[assignment]


_SGR = re.compile(r"\x1b\[([0-9;]*)m")


def fit_colors(data: str, colors: Colors) -> str:
    """``data`` with every colour of its SGR sequences brought down to ``colors``.

    rich caches a style's escape codes on the style (``Style._ansi``) for the colour system
    it first rendered in, and Textual shares styles between the apps of this process: a
    16-colour serial console opened after a truecolor SSH session got truecolor codes. The
    codes a terminal is sent are fitted here, whatever rendered them.
    """
    if colors == "truecolor" or "\x1b[" not in data:
        return data
    if colors == 256 and "8;2;" not in data:
        return data  # no 24-bit colour: every code is one a 256-colour terminal knows
    target = COLOR_SYSTEMS.get(colors, ColorSystem.STANDARD)
    return _SGR.sub(lambda m: _fit_sgr(m.group(1), target), data)


@lru_cache(maxsize=4096)
def _fit_sgr_params(params: str, target: ColorSystem) -> str:
    parts = params.split(";")
    out: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        if part in ("38", "48") and i + 1 < len(parts) and parts[i + 1] in ("2", "5"):
            background = part == "48"
            try:
                if parts[i + 1] == "5":
                    color = RichColor.from_ansi(int(parts[i + 2]))
                    i += 3
                else:
                    r, g, b = (int(x) for x in parts[i + 2 : i + 5])
                    color = RichColor.from_rgb(r, g, b)
                    i += 5
            except (IndexError, ValueError):
                out.extend(parts[i:])  # not a colour we know: leave the rest as it was
                break
            out.extend(color.downgrade(target).get_ansi_codes(foreground=not background))
            continue
        out.append(part)
        i += 1
    return ";".join(out)


def _fit_sgr(params: str, target: ColorSystem) -> str:
    if "38;" not in params and "48;" not in params:
        return f"\x1b[{params}m"
    return f"\x1b[{_fit_sgr_params(params, target)}m"


def release_textual_caches() -> None:
    """Empty Textual's class-wide caches that are keyed on widget objects.

    ``StylesCache.get_inner_outer`` (an ``lru_cache`` on a method, 1,024 entries) keeps
    each widget's styles cache, with every line it rendered; ``DataTable``'s
    ``_get_styles_to_render_cell`` (32 entries) keeps whole tables, and with them their
    App. A closed session stayed in memory through them. The other sessions only lose
    entries they compute again in microseconds.
    """
    StylesCache.get_inner_outer.cache_clear()
    DataTable._get_styles_to_render_cell.cache_clear()


class SessionParser(XTermParser):
    """Textual's xterm parser without its class-wide cache of parsed key sequences.

    ``XTermParser._parse_extended_key`` is an ``lru_cache`` on the method: its 1,024
    entries keep the parser and the ``Key`` events made, each holding the App that was
    running (its sender), long after the session closed. Parsing a sequence again is
    microseconds; a closed session is megabytes.
    """

    _parse_extended_key = XTermParser._parse_extended_key.__wrapped__  # type: ignore[assignment]


class StreamDriver(Driver):
    """Textual's side of a :class:`StreamTerminal` (made by Textual, one per app run)."""

    def __init__(
        self,
        app: App[Any],
        *,
        debug: bool = False,
        mouse: bool = True,
        size: tuple[int, int] | None = None,
    ) -> None:
        self.terminal = _TERMINALS[app]
        size = size or (self.terminal.size.columns, self.terminal.size.rows)
        super().__init__(app, debug=debug, mouse=mouse, size=size)
        self._parser = SessionParser()
        self._tick: asyncio.TimerHandle | None = None
        self._input_on = False
        self._out: list[str] = []
        self._flush_soon: asyncio.Handle | None = None
        self.sends = 0  # writes to the link (tests count them)

    def write(self, data: str) -> None:
        """Keep ``data`` for the link: what one frame writes (synchronised-update marks,
        the screen's changes, the cursor) goes out in one write at :meth:`flush`, which
        Textual calls at the frame's end; a write without one (a bell) goes out in the
        next loop pass. One SSH packet per frame, not three."""
        self._out.append(data)
        if self._flush_soon is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop (an app's last words at its end): at once
                self.flush()
                return
            self._flush_soon = loop.call_soon(self.flush)

    def flush(self) -> None:
        if self._flush_soon is not None:
            self._flush_soon.cancel()
            self._flush_soon = None
        if not self._out:
            return
        data = "".join(self._out)
        self._out.clear()
        self.sends += 1
        self.terminal.link.write(fit_colors(data, self.terminal.colors))

    def send_message(self, message: Message) -> None:
        # The link is read in the app's own loop: no thread hop needed.
        self._app.post_message(message)

    def start_application_mode(self) -> None:
        self.write(ALT_SCREEN_ON + CURSOR_HIDE + PASTE_ON + WRAP_OFF)
        if self._mouse:
            self.write(MOUSE_ON)
        if self.terminal.query_terminal:
            self.write(SYNC_QUERY)
        self._post_resize()
        self._input_on = True
        self.terminal._reader = asyncio.get_running_loop().create_task(
            self._read_input(), name="terminal-input"
        )

    def disable_input(self) -> None:
        self._input_on = False
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
        reader = self.terminal._reader
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()

    def stop_application_mode(self) -> None:
        self.disable_input()
        restore = PASTE_OFF + WRAP_ON
        if self._mouse:
            restore += MOUSE_OFF
        self.write(restore + ALT_SCREEN_OFF + CURSOR_SHOW)
        self.flush()  # the app is ending: nothing waits for a later loop pass

    # -- input ------------------------------------------------------------------------------

    async def _read_input(self) -> None:
        terminal = self.terminal
        while self._input_on:
            try:
                item = await terminal.link.read()
            except OSError as error:
                log.info("terminal link failed: %s", error)
                item = ""
            if isinstance(item, TerminalSize):
                terminal.size = item
                self._size = (item.columns, item.rows)
                self._post_resize()
            elif item:
                terminal.touched()
                self._feed(item)
            else:
                terminal.gone = True
                self._app.exit()
                return

    def _feed(self, text: str) -> None:
        for event in self._parser.feed(text):
            self.process_message(event)
        # A lone ESC is a key only once no sequence follows it in time: ask again then.
        if self._tick is not None:
            self._tick.cancel()
        self._tick = asyncio.get_running_loop().call_later(
            constants.ESCAPE_DELAY + 0.01, self._on_tick
        )

    def _on_tick(self) -> None:
        self._tick = None
        for event in self._parser.tick():
            self.process_message(event)

    def _post_resize(self) -> None:
        assert self._size is not None
        size = Size(*self._size)
        self._app.post_message(events.Resize(size, size))
