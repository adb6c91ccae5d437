"""The serial console: the UI on a tty for a technician with a terminal on a cable.

The tty is put in raw mode with termios (8 bits, no parity, the configured speed, CLOCAL so
that opening never waits for a carrier) and restored on exit. A serial line cannot tell its
size, so the UI is drawn at ``console.columns`` x ``console.rows``, in 16 colours by default,
without mouse reports. One session at a time, always back on the login screen: after a
logout (the app's own), after ``ssh.idle_logout_minutes`` without a key, and after a line
hang-up (the tty reads EOF/EIO), when the tty is opened again for a new session.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import errno
import logging
import os
import termios
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ews_tui.config import Config
from ews_tui.frontends.driver import Colors, StreamTerminal, TerminalSize
from ews_tui.frontends.sessions import AppFactory, default_app, default_language
from ews_tui.i18n import set_language
from ews_tui.runtime import Runtime
from ews_tui.supervision import Supervised
from ews_tui.ui.session import Session

log = logging.getLogger(__name__)

REOPEN_DELAY_S = 2.0  # a tty that cannot be opened (unplugged adapter) is tried again
SPEEDS = {
    speed: getattr(termios, f"B{speed}")
    for speed in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400)
}


class TtyError(Exception):
    """A tty that cannot be used: the message names it and says why."""


def open_tty(path: str) -> int:
    """``path`` opened for reading and writing, non-blocking, not as controlling tty."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError as error:
        raise TtyError(f"{path}: {error.strerror}") from None
    if not os.isatty(fd):
        os.close(fd)
        raise TtyError(f"{path}: not a terminal")
    return fd


def raw_mode(fd: int, baudrate: int | None) -> list[Any]:
    """Put ``fd`` in raw mode (at ``baudrate`` if given); return the settings to restore."""
    before = termios.tcgetattr(fd)
    attrs = termios.tcgetattr(fd)
    attrs[0] = 0  # iflag: no CR/NL mapping, no XON/XOFF (Ctrl+S, Ctrl+Q are keys)
    attrs[1] = 0  # oflag: the UI sends exact bytes
    attrs[2] = (attrs[2] & ~(termios.CSIZE | termios.PARENB | termios.CSTOPB)) | (
        termios.CS8 | termios.CREAD | termios.CLOCAL
    )
    attrs[3] = 0  # lflag: no echo, no line editing, no signals
    attrs[6][termios.VMIN] = 1
    attrs[6][termios.VTIME] = 0
    if baudrate is not None:
        attrs[4] = attrs[5] = SPEEDS[baudrate]
    termios.tcsetattr(fd, termios.TCSANOW, attrs)
    return before


def restore_mode(fd: int, before: list[Any]) -> None:
    with contextlib.suppress(termios.error, OSError):
        termios.tcsetattr(fd, termios.TCSANOW, before)


class TtyLink:
    """A :class:`~ews_tui.frontends.driver.TerminalLink` over a non-blocking tty fd."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._decode = codecs.getincrementaldecoder("utf-8")(errors="replace").decode
        self._out = bytearray()
        self._writing = False
        self.gone = False

    async def read(self) -> str:
        loop = asyncio.get_running_loop()
        while not self.gone:
            ready = loop.create_future()
            loop.add_reader(self.fd, ready.set_result, None)
            try:
                await ready
            finally:
                loop.remove_reader(self.fd)
            try:
                data = os.read(self.fd, 4096)
            except BlockingIOError:
                continue
            except OSError as error:  # EIO: the line hung up
                log.info("tty %d: %s", self.fd, error.strerror)
                data = b""
            if not data:
                self.gone = True
                break
            if text := self._decode(data):
                return text
        return ""

    def write(self, data: str) -> None:
        if self.gone:
            return
        self._out += data.encode("utf-8", errors="replace")
        self._flush()

    def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self._out:
            try:
                sent = os.write(self.fd, self._out)
            except BlockingIOError:
                break
            except OSError as error:
                if error.errno != errno.EINTR:
                    self.gone = True
                    self._out.clear()
            else:
                del self._out[:sent]
        if self._out and not self._writing:
            self._writing = True
            loop.add_writer(self.fd, self._writable)
        elif not self._out and self._writing:
            self._writing = False
            loop.remove_writer(self.fd)

    def _writable(self) -> None:
        self._flush()

    def close(self) -> None:
        if self._writing:
            asyncio.get_running_loop().remove_writer(self.fd)
            self._writing = False


@dataclass(frozen=True)
class TtySetup:
    """How a tty front end draws: ``size`` None reads the tty's own size (a VT)."""

    path: str
    baudrate: int | None
    size: TerminalSize | None
    colors: Colors
    idle_timeout: float | None = None


class TtyFrontEnd:
    """One UI at a time on a tty, new on the login screen after each hang-up or quit."""

    def __init__(
        self,
        name: str,
        runtime: Runtime,
        setup: TtySetup,
        *,
        make_app: AppFactory = default_app,
        kiosk: bool = False,
    ) -> None:
        self.name = name
        self.runtime = runtime
        self.setup = setup
        self.make_app = make_app
        self.kiosk = kiosk
        self.app: Any = None  # the session's app now (tests and stop look at it)
        self.sessions_started = 0
        self._task: Supervised | None = None
        self._stopping = False

    async def start(self) -> None:
        """Check the tty can be opened (raise :class:`TtyError`), then serve it."""
        os.close(open_tty(self.setup.path))
        self._task = self.runtime.supervise(self.name, self._serve)
        log.info("%s: UI on %s", self.name, self.setup.path)

    async def stop(self) -> None:
        self._stopping = True
        if self.app is not None:
            self.app.exit()
        if self._task is not None:
            await self._task.stop(grace=5)
            self._task = None
        log.info("%s: stopped", self.name)

    async def _serve(self) -> None:
        while not self._stopping:
            try:
                fd = open_tty(self.setup.path)
            except TtyError as error:
                log.warning("%s: %s; trying again", self.name, error)
                await asyncio.sleep(REOPEN_DELAY_S)
                continue
            try:
                await self._sessions_on(fd)
            finally:
                os.close(fd)

    async def _sessions_on(self, fd: int) -> None:
        """Sessions one after the other on ``fd`` until the line hangs up."""
        before = raw_mode(fd, self.setup.baudrate)
        link = TtyLink(fd)
        try:
            while not self._stopping and not link.gone:
                await self._one_session(link)
        finally:
            link.close()
            restore_mode(fd, before)

    async def _one_session(self, link: TtyLink) -> None:
        language = default_language(self.runtime)
        session = Session(
            self.runtime,
            language=language,
            kiosk=self.kiosk,
            colors=self.setup.colors,
            origin=f"{self.name}:{self.setup.path}",
        )
        app = self.app = self.make_app(session)
        size = self.setup.size or _tty_size(link.fd)
        terminal = StreamTerminal(
            link,
            size,
            colors=self.setup.colors,
            mouse=False,
            query_terminal=False,
            idle_timeout=self.setup.idle_timeout,
            on_idle=_logout_of(app),
        )
        self.sessions_started += 1
        log.info("%s: session on %s (%dx%d)", self.name, self.setup.path, *_dims(size))
        set_language(language)  # this front end's task has its own context
        try:
            await terminal.run(app)
        finally:
            self.app = None
        if terminal.gone:
            log.info("%s: %s hung up", self.name, self.setup.path)


def _logout_of(app: Any) -> Callable[[], None]:
    def logout() -> None:
        if getattr(app.session, "role", None) is not None and hasattr(app, "logout"):
            log.info("session %s idle: logged out", app.session.origin)
            app.logout()

    return logout


def _tty_size(fd: int) -> TerminalSize:
    try:
        columns, rows = os.get_terminal_size(fd)
    except OSError:
        return TerminalSize(80, 24)
    return TerminalSize(columns or 80, rows or 24)


def _dims(size: TerminalSize) -> tuple[int, int]:
    return size.columns, size.rows


def console_front_end(
    runtime: Runtime, config: Config, *, make_app: AppFactory = default_app
) -> TtyFrontEnd:
    """The ``[console]`` front end of ``config``."""
    console = config.console
    minutes = config.ssh.idle_logout_minutes
    setup = TtySetup(
        console.tty,
        console.baudrate,
        TerminalSize(console.columns, console.rows),
        console.colors,
        idle_timeout=minutes * 60 if minutes else None,
    )
    return TtyFrontEnd("console", runtime, setup, make_app=make_app)
