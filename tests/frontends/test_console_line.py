"""The serial console's line, opened by pyserial: an adapter unplugged and plugged back (a
``socat`` pty pair that goes away and comes back under the same name), the configured speed
and raw mode on the tty (and the tty's own settings back on exit), garbage on the line."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import termios
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from ews_tui.domain.events import ServiceDegraded, ServiceRecovered
from ews_tui.frontends.console import TtyFrontEnd, TtySetup
from ews_tui.frontends.driver import TerminalSize
from ews_tui.runtime import Runtime
from ews_tui.ui.screens.login import LoginScreen
from tests.frontends.pty_terminal import PtyTerminal
from tests.frontends.terminal_text import DEADLINE_S
from tests.ui.box_fixtures import box_runtime

LOGIN = "Enter your PIN, then your PUK."


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path) as rt:
        yield rt


async def until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        await asyncio.sleep(0.02)


class SocatAdapter:
    """A USB serial adapter played by ``socat``: the box's side is ``tty`` (a symlink, as
    /dev/serial/by-id/... is), the technician's terminal is on the other pty. Unplugging
    stops socat: both ptys go, and so does the name."""

    def __init__(self, folder: Path) -> None:
        self.tty = folder / "ttyUSB0"
        self.far = folder / "terminal"
        self.proc: asyncio.subprocess.Process | None = None
        self.terminal: PtyTerminal | None = None

    async def plug(self) -> PtyTerminal:
        self.proc = await asyncio.create_subprocess_exec(
            "socat",
            "-d",
            "-d",
            f"pty,raw,echo=0,link={self.tty}",
            f"pty,raw,echo=0,link={self.far}",
            stderr=asyncio.subprocess.PIPE,
        )
        assert self.proc.stderr is not None
        while True:  # both ptys and their names are made before the transfer loop starts
            line = await asyncio.wait_for(self.proc.stderr.readline(), DEADLINE_S)
            assert line, "socat stopped before making its ptys"
            if b"starting data transfer loop" in line:
                break
        self.terminal = PtyTerminal(os.open(self.far, os.O_RDWR | os.O_NOCTTY))
        return self.terminal

    async def unplug(self) -> None:
        if self.terminal is not None:
            self.terminal.hang_up()
            self.terminal = None
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()
            await asyncio.wait_for(self.proc.wait(), DEADLINE_S)
            self.proc = None
        for path in (self.tty, self.far):
            path.unlink(missing_ok=True)


@pytest.fixture
async def adapter(tmp_path: Path) -> AsyncIterator[SocatAdapter]:
    if shutil.which("socat") is None:
        pytest.skip("socat is not installed (scripts/setup.sh installs it)")
    plugged = SocatAdapter(tmp_path)
    try:
        yield plugged
    finally:
        await plugged.unplug()


async def test_the_console_comes_back_when_its_adapter_is_plugged_in_again(
    runtime: Runtime, adapter: SocatAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ews_tui.frontends.console")
    news = runtime.hub.subscribe(ServiceDegraded, ServiceRecovered, lossless=True, name="test")
    term = await adapter.plug()
    setup = TtySetup(str(adapter.tty), 115200, TerminalSize(80, 24), 16, reopen_delay_s=0.05)
    front = TtyFrontEnd("console", runtime, setup)
    await front.start()
    try:
        await term.screen.wait_for(LOGIN)
        first = front.app
        await term.type("4")
        await until(lambda: first.screen.query_one("#pin").value == "4", "the first key")

        await adapter.unplug()  # the line hangs up, and the tty is gone for a while
        await until(lambda: front.app is None, "the session to end")
        await until(
            lambda: caplog.text.count("No such file or directory; trying again") >= 2,
            "two attempts at opening the missing tty",
        )
        assert front.sessions_started == 1
        # Not only logged: the missing line is a system event, once (not at every attempt).
        gone = await asyncio.wait_for(news.get(), DEADLINE_S)
        assert isinstance(gone, ServiceDegraded) and gone.service == "console"
        assert str(adapter.tty) in gone.problem.render()

        term = await adapter.plug()
        await term.screen.wait_for(LOGIN)
        assert front.sessions_started == 2
        back = await asyncio.wait_for(news.get(), DEADLINE_S)
        assert isinstance(back, ServiceRecovered) and back.service == "console"
        again = front.app
        assert again is not first and isinstance(again.screen, LoginScreen)
        pin = again.screen.query_one("#pin")
        assert pin.value == ""  # a new session, not the old one's PIN
        await until(lambda: again.focused is pin, "the PIN field")
        await term.type("7")
        await until(lambda: pin.value == "7", "a key on the new line")
    finally:
        await front.stop()


class PtyLine:
    """A plain pty pair; ``slave`` is the box's tty, kept open to read its settings."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)
        self.terminal: PtyTerminal | None = None

    def connect(self) -> PtyTerminal:
        self.terminal = PtyTerminal(self.master)
        return self.terminal

    def close(self) -> None:
        if self.terminal is not None:
            self.terminal.hang_up()
        else:
            os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def line() -> Iterator[PtyLine]:
    pair = PtyLine()
    yield pair
    pair.close()


def speed(fd: int) -> tuple[int, int]:
    attrs = termios.tcgetattr(fd)
    return attrs[4], attrs[5]


def with_speed(fd: int, constant: int) -> None:
    attrs = termios.tcgetattr(fd)
    attrs[4] = attrs[5] = constant
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


async def test_the_console_sets_its_speed_and_raw_mode_and_puts_the_tty_back(
    runtime: Runtime, line: PtyLine
) -> None:
    with_speed(line.slave, termios.B38400)
    cooked = termios.tcgetattr(line.slave)
    assert cooked[3] & termios.ICANON and cooked[3] & termios.ECHO  # a fresh pty is cooked
    term = line.connect()
    front = TtyFrontEnd("console", runtime, TtySetup(line.path, 9600, TerminalSize(80, 24), 16))
    await front.start()
    try:
        await term.screen.wait_for(LOGIN)
        assert speed(line.slave) == (termios.B9600, termios.B9600)
        iflag, oflag, cflag, lflag = termios.tcgetattr(line.slave)[:4]
        assert not lflag & (termios.ICANON | termios.ECHO | termios.ISIG)
        assert not iflag & (termios.IXON | termios.ICRNL) and not oflag & termios.OPOST
        assert cflag & termios.CSIZE == termios.CS8 and not cflag & termios.PARENB
    finally:
        await front.stop()
    assert termios.tcgetattr(line.slave) == cooked


async def test_a_tty_without_a_configured_speed_keeps_its_own(
    runtime: Runtime, line: PtyLine
) -> None:
    with_speed(line.slave, termios.B2400)
    term = line.connect()
    front = TtyFrontEnd("kiosk", runtime, TtySetup(line.path, None, TerminalSize(80, 24), 16))
    await front.start()
    try:
        await term.screen.wait_for(LOGIN)
        assert speed(line.slave) == (termios.B2400, termios.B2400)
        assert not termios.tcgetattr(line.slave)[3] & termios.ICANON
    finally:
        await front.stop()


GARBAGE = (
    b"\xff\xfe\xc3\x28\x80\xbf\xe2\x82"  # bytes that are no UTF-8, a sequence cut short
    + b"\x00\x07\x0b\x0c\x0e\x0f\x1c\x1f"  # control noise (not Backspace: a key)
    + b"\x1b[;\x1b[?\x1b];\x9b\x90\x1bP"  # escape sequences cut short, C1 bytes
    + bytes(range(0x80, 0x100))
)


async def test_garbage_on_the_line_leaves_the_session_running(
    runtime: Runtime, line: PtyLine
) -> None:
    term = line.connect()
    front = TtyFrontEnd("console", runtime, TtySetup(line.path, 115200, TerminalSize(80, 24), 16))
    await front.start()
    try:
        await term.screen.wait_for(LOGIN)
        app = front.app
        pin = app.screen.query_one("#pin")
        await until(lambda: app.focused is pin, "the PIN field")
        # Keys that come in one burst are applied in order: Backspace on the empty field
        # then digits (Textual applied the Backspace after the digits and lost them).
        os.write(line.master, b"\x7f3\x7f\x7f4")
        await until(lambda: pin.value == "4", "the digits after Backspace")
        os.write(line.master, b"\x7f")
        await until(lambda: pin.value == "", "the field emptied")
        for _ in range(3):
            os.write(line.master, GARBAGE)
        mark = term.screen.mark()
        await term.type("1", "2")
        # No digit came from the garbage, and the keys after it land.
        await until(lambda: pin.value == "12", "the keys typed after the garbage")
        assert front.app is app and app.is_running and front.sessions_started == 1
        assert isinstance(app.screen, LoginScreen)
        await term.type("\x7f")
        await until(lambda: pin.value == "1", "the next key")
        assert "Traceback" not in term.screen.raw[mark:]
    finally:
        await front.stop()
