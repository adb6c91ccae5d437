"""An unexpected error in the serial console's session ends that session only: the console
comes back on the login screen for the next one, whatever raised (a screen, or Textual
itself), and the box goes on."""

from __future__ import annotations

import asyncio
import decimal
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from ews_tui.frontends.console import TtyFrontEnd, TtySetup
from ews_tui.frontends.driver import TerminalSize
from ews_tui.frontends.sessions import default_app
from ews_tui.runtime import Runtime
from ews_tui.ui.app import EwsApp
from ews_tui.ui.screens.login import LoginScreen
from ews_tui.ui.session import Session
from tests.frontends.pty_terminal import PtyTerminal
from tests.frontends.terminal_text import DEADLINE_S
from tests.ui.box_fixtures import box_runtime


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path) as rt:
        yield rt


async def until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        await asyncio.sleep(0.02)


class TextualBroke(EwsApp):
    """An app whose run fails outside any screen (as a bug in Textual or in the driver)."""

    async def run_async(self, **options: Any) -> None:
        raise RuntimeError("the driver broke")


async def test_a_crashed_console_session_gives_way_to_a_new_one(
    runtime: Runtime, tmp_path: Path
) -> None:
    made: list[EwsApp] = []

    def make_app(session: Session) -> Any:
        app = TextualBroke(session) if len(made) == 1 else default_app(session)
        made.append(app)  # type: ignore[arg-type]
        return app

    master, slave = os.openpty()
    term = PtyTerminal(master)
    setup = TtySetup(os.ttyname(slave), 115200, TerminalSize(80, 24), 16)
    front = TtyFrontEnd("console", runtime, setup, make_app=make_app)
    await front.start()
    try:
        await term.screen.wait_for("Enter your PIN, then your PUK.")
        first = made[0]
        assert isinstance(first.screen, LoginScreen)
        mark = term.screen.mark()
        first.screen.call_later(decimal.Decimal, "not a number")  # the screen raises
        # The second session breaks outside Textual's own handling; the third is a login.
        await until(lambda: len(made) == 3 and made[2].is_running, "a third session")
        await term.screen.wait_for("Enter your PIN, then your PUK.", since=mark)
        assert isinstance(made[2].screen, LoginScreen)
        assert isinstance(first.crash, decimal.InvalidOperation)
        pin = made[2].screen.query_one("#pin")
        await until(lambda: made[2].focused is pin, "the PIN field")
        await term.type("7")
        await until(lambda: pin.value == "7", "the new session's key")
    finally:
        await front.stop()
        term.hang_up()
        os.close(slave)
