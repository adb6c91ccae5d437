"""The serial console over a pty pair: login, navigate, hang up, login again.

The console's tty is a symlink (as /dev/serial/by-id/... are): a hang-up closes the pty's
master side, and the line that comes back is a new pty behind the same name.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from ews_tui.frontends.console import TtyFrontEnd, TtySetup
from ews_tui.frontends.driver import TerminalSize
from ews_tui.runtime import Runtime
from ews_tui.ui.screens.change_pin import ChangePinScreen
from ews_tui.ui.screens.home import HomeScreen
from ews_tui.ui.screens.login import LoginScreen
from ews_tui.ui.session import Role
from tests.frontends.pty_terminal import PtyTerminal
from tests.frontends.terminal_text import DEADLINE_S
from tests.ui.box_fixtures import box_runtime

PIN, PUK, NEW_PIN = "88888", "00000 8888 00000", "24680"
DOWN, ESC = "\x1b[B", "\x1b"


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path) as rt:
        yield rt


class Line:
    """A pty pair behind ``path``; ``replug`` gives a new pair under the same name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.slave = -1
        self.terminal: PtyTerminal | None = None

    def plug(self) -> PtyTerminal:
        master, self.slave = os.openpty()
        link = self.path.with_suffix(".new")
        os.symlink(os.ttyname(self.slave), link)
        os.replace(link, self.path)
        self.terminal = PtyTerminal(master)
        return self.terminal

    def unplug(self) -> None:
        assert self.terminal is not None
        self.terminal.hang_up()
        os.close(self.slave)


async def until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        await asyncio.sleep(0.02)


def puk_open(app: object) -> bool:
    """The PIN was accepted: the PUK field takes keys now."""
    return not app.screen.query_one("#puk").disabled  # type: ignore[attr-defined]


def focused_id(app: object) -> str | None:
    focused = app.focused  # type: ignore[attr-defined]
    return focused.id if focused is not None else None


async def test_console_login_navigate_hang_up_and_login_again(
    runtime: Runtime, tmp_path: Path
) -> None:
    line = Line(tmp_path / "ttyS0")
    term = line.plug()
    front = TtyFrontEnd(
        "console", runtime, TtySetup(str(line.path), 115200, TerminalSize(80, 24), 16)
    )
    await front.start()
    try:
        await term.screen.wait_for("Enter your PIN, then your PUK.")
        app = front.app
        assert tuple(app.size) == (80, 24) and app.session.colors == 16
        assert "\x1b[?1000h" not in term.screen.raw  # no mouse reports on a serial line
        assert "38;5;" not in term.screen.raw and "38;2;" not in term.screen.raw

        await term.type_line(PIN)
        await until(lambda: puk_open(app), "the PUK field")
        await term.type_line(PUK)
        await term.screen.wait_for("choose your own PIN")
        await term.type_line(NEW_PIN)
        await until(lambda: focused_id(app) == "confirm", "the second PIN field")
        mark = term.screen.mark()
        await term.type_line(NEW_PIN)
        await term.screen.wait_for("Write it down", since=mark)  # the new PUK, shown once
        assert isinstance(app.screen, ChangePinScreen) and app.screen.shown_puk is not None
        new_puk = app.screen.shown_puk
        mark = term.screen.mark()
        await term.type("\r")
        await term.screen.wait_for("Live measures", since=mark)
        assert isinstance(app.screen, HomeScreen) and app.session.role is Role.SYSTEM

        # Navigate with keys only: Enter on the first entry (Live measures), Esc back.
        await term.type("\r")
        await until(lambda: not isinstance(app.screen, HomeScreen), "the live screen")
        await term.type(ESC)
        await until(lambda: isinstance(app.screen, HomeScreen), "home again")

        # Hang up: the session ends; the line comes back on the login screen.
        line.unplug()
        term = line.plug()
        await term.screen.wait_for("Enter your PIN, then your PUK.")
        assert front.sessions_started == 2
        again = front.app
        assert again is not app and again.session.role is None
        assert isinstance(again.screen, LoginScreen)

        await term.type_line(NEW_PIN)
        await until(lambda: puk_open(again), "the PUK field")
        mark = term.screen.mark()
        await term.type_line(new_puk)
        await term.screen.wait_for("Live measures", since=mark)
        assert again.session.role is Role.SYSTEM
    finally:
        await front.stop()
        line.unplug()


async def test_the_console_refuses_a_tty_it_cannot_open(runtime: Runtime, tmp_path: Path) -> None:
    from ews_tui.frontends.console import TtyError

    front = TtyFrontEnd(
        "console", runtime, TtySetup(str(tmp_path / "nope"), 115200, TerminalSize(80, 24), 16)
    )
    with pytest.raises(TtyError, match="nope: No such file or directory"):
        await front.start()
