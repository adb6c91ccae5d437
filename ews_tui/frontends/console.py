"""The serial console: the UI on a tty for a technician with a terminal on a cable.

The tty opens through pyserial (raw: 8 bits, no parity, no flow control, the configured
speed; a pty takes all of it, a tty without a configured speed keeps its own) and is served
by pyserial-asyncio's transport; its settings from before are put back on exit. A serial
line cannot tell its size, so the UI is drawn at ``console.columns`` x ``console.rows``, in
16 colours by default, without mouse reports. One session at a time, always back on the
login screen: after a logout (the app's own), after ``ssh.idle_logout_minutes`` without a
key, and after a line hang-up (the tty reads EOF/EIO), when the tty is opened again for a
new session. A tty that cannot be opened (an unplugged USB adapter) is tried again.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import logging
import os
import termios
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import serial
import serial_asyncio

from ews_tui.config import Config
from ews_tui.domain.events import ServiceDegraded, ServiceRecovered
from ews_tui.domain.messages import N_, Message
from ews_tui.frontends.driver import Colors, StreamTerminal, TerminalSize
from ews_tui.frontends.sessions import AppFactory, default_app, default_language
from ews_tui.i18n import set_language
from ews_tui.runtime import Runtime
from ews_tui.supervision import Supervised
from ews_tui.ui.session import Session

log = logging.getLogger(__name__)

REOPEN_DELAY_S = 2.0  # a tty that cannot be opened (unplugged adapter) is tried again
CLOSE_GRACE_S = 2.0  # output still queued for a line that does not take it is dropped then
DEFAULT_SPEED = 38400  # a tty without a configured speed whose own one pyserial cannot name


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


TtyAttrs = list[Any]  # termios.tcgetattr's answer


def open_serial(path: str, baudrate: int | None) -> tuple[serial.Serial, TtyAttrs]:
    """``path`` opened by pyserial in raw 8N1 at ``baudrate`` (None: the tty's own speed).

    Also returns the tty's settings from before, to put back on close.
    """
    fd = open_tty(path)  # a clear TtyError for a missing node or a file that is no tty
    try:
        before = termios.tcgetattr(fd)
    except termios.error as error:
        raise TtyError(f"{path}: {error.args[-1]}") from None
    finally:
        os.close(fd)
    try:
        port = serial.Serial(
            path,
            baudrate or _speed_of(before),
            bytesize=serial.EIGHTBITS,
            parity=serial.PARITY_NONE,
            stopbits=serial.STOPBITS_ONE,
            xonxoff=False,  # Ctrl+S, Ctrl+Q are keys
            rtscts=False,
            dsrdtr=False,
        )
    except serial.SerialException as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise TtyError(f"{path}: {reason}") from None
    except ValueError as error:  # a speed pyserial does not take
        raise TtyError(f"{path}: {error}") from None
    return port, before


def _speed_of(attrs: TtyAttrs) -> int:
    """The speed a tty is set to, as pyserial names it."""
    speeds: dict[int, int] = serial.Serial.BAUDRATE_CONSTANTS
    for speed, constant in speeds.items():
        if constant == attrs[4] and speed:
            return speed
    return DEFAULT_SPEED


class TtyLink(asyncio.Protocol):
    """A :class:`~ews_tui.frontends.driver.TerminalLink` over a tty opened by pyserial.

    The pyserial-asyncio transport reads and writes; the line hanging up (EIO, or a tty
    that reads nothing though ready, as an unplugged adapter) ends the link: :attr:`gone`.
    Bytes that are not UTF-8 arrive as U+FFFD; control bytes go to the key parser as typed.
    """

    def __init__(self, port: serial.Serial, before: TtyAttrs | None = None) -> None:
        self.port = port
        self.gone = False
        self._before = before
        self._decode = codecs.getincrementaldecoder("utf-8")(errors="replace").decode
        self._received: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._transport: asyncio.Transport | None = None
        self._lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @classmethod
    async def open(cls, path: str, baudrate: int | None) -> TtyLink:
        """The link on ``path`` (raise :class:`TtyError` if it cannot be opened)."""
        port, before = open_serial(path, baudrate)
        link = cls(port, before)
        loop = asyncio.get_running_loop()
        await serial_asyncio.connection_for_serial(loop, lambda: link, port)
        return link

    @property
    def fd(self) -> int:
        return self.port.fileno() if self.port.is_open else -1

    # asyncio.Protocol, called by the transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._received.put_nowait(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:  # the line hung up
            log.info("tty %s: %s", self.port.name, exc)
        self.gone = True
        if self._before is not None and self.port.is_open:
            with contextlib.suppress(termios.error, OSError):
                termios.tcsetattr(self.port.fileno(), termios.TCSANOW, self._before)
        self._received.put_nowait(None)
        if not self._lost.done():
            self._lost.set_result(None)

    # TerminalLink

    async def read(self) -> str:
        while not self.gone:
            data = await self._received.get()
            if data is None:
                break
            if text := self._decode(data):
                return text
        return ""

    def write(self, data: str) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data.encode("utf-8", errors="replace"))

    async def close(self) -> None:
        """Send what is queued (for up to :data:`CLOSE_GRACE_S`), restore the tty, close it."""
        transport = self._transport
        if transport is None:  # never connected: nothing reads or writes the port
            self.port.close()
            return
        if not transport.is_closing():
            transport.close()
        try:
            await asyncio.wait_for(asyncio.shield(self._lost), CLOSE_GRACE_S)
        except TimeoutError:  # the line takes no output: drop it
            transport.abort()
            await self._lost


@dataclass(frozen=True)
class TtySetup:
    """How a tty front end draws: ``size`` None reads the tty's own size (a VT)."""

    path: str
    baudrate: int | None
    size: TerminalSize | None
    colors: Colors
    idle_timeout: float | None = None
    reopen_delay_s: float = REOPEN_DELAY_S


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
        os.close(open_tty(self.setup.path))  # the startup check; sessions open it by pyserial
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
        missing = False  # the line could not be opened last time: shown as a system event
        while not self._stopping:
            try:
                link = await TtyLink.open(self.setup.path, self.setup.baudrate)
            except TtyError as error:
                log.warning("%s: %s; trying again", self.name, error)
                if not missing:
                    missing = True
                    problem = Message(
                        N_("the terminal line {tty} cannot be opened: {reason}; trying again"),
                        {"tty": self.setup.path, "reason": str(error)},
                    )
                    self.runtime.hub.publish(ServiceDegraded(self.name, problem))
                await asyncio.sleep(self.setup.reopen_delay_s)
                continue
            if missing:
                missing = False
                self.runtime.hub.publish(ServiceRecovered(self.name))
            try:
                await self._sessions_on(link)
            finally:
                await link.close()

    async def _sessions_on(self, link: TtyLink) -> None:
        """Sessions one after the other on ``link`` until the line hangs up."""
        while not self._stopping and not link.gone:
            await self._one_session(link)

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
