"""The serial console is a supervised service: a session that crashes its loop is restarted."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Static

from ews_tui.config import default_config
from ews_tui.domain.events import TaskFailed
from ews_tui.frontends.console import TtyFrontEnd, TtySetup
from ews_tui.frontends.driver import TerminalSize
from ews_tui.runtime import Runtime
from ews_tui.supervision import RestartPolicy
from ews_tui.ui.session import Session
from tests.frontends.pty_terminal import PtyTerminal


class Hello(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("hello again")


async def test_a_console_loop_that_crashes_comes_back_on_the_line(tmp_path: Path) -> None:
    master, slave = os.openpty()
    tty = tmp_path / "ttyS0"
    os.symlink(os.ttyname(slave), tty)
    term = PtyTerminal(master)
    made: list[Session] = []

    def make_app(session: Session) -> App[Any]:
        made.append(session)
        if len(made) == 1:
            raise RuntimeError("session factory broke")
        return Hello()

    rt = Runtime(default_config(tmp_path / "data"), restart=RestartPolicy(backoff_start_s=0.0))
    failures = rt.hub.subscribe(TaskFailed, name="test")
    async with rt:
        front = TtyFrontEnd(
            "console", rt, TtySetup(str(tty), 115200, TerminalSize(80, 24), 16), make_app=make_app
        )
        await front.start()
        try:
            assert await failures.get() == TaskFailed(
                "console", "RuntimeError: session factory broke"
            )
            await term.screen.wait_for("hello again")
            assert len(made) == 2
            assert [h.name for h in rt.supervisor.health() if h.name == "console"] == ["console"]
        finally:
            await front.stop()
            term.hang_up()
            os.close(slave)
