"""Issue 16, item 4: every screen change repaints the whole area, on the serial console at
16 colours, as a real terminal shows it.

The console's tty is the slave side of a pty that ``socat`` makes inside a ``tmux`` window
of 80x24 (``TERM=xterm-16color``): socat carries the bytes between that pty and the
window, as a serial cable carries them between the box and a technician's terminal. tmux is
the terminal emulator: ``tmux capture-pane -p`` is what the technician reads. After each
screen change the capture must hold the new screen's text and nothing of the previous one.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ews_tui.frontends.console import TtyFrontEnd, TtySetup
from ews_tui.frontends.driver import TerminalSize
from ews_tui.runtime import Runtime
from tests.frontends.terminal_text import DEADLINE_S
from tests.frontends.tmux_fixtures import Tmux
from tests.ui.box_fixtures import box_runtime

pytestmark = pytest.mark.skipif(
    not (shutil.which("socat") and shutil.which("tmux")), reason="needs socat and tmux"
)
PIN, PUK, NEW_PIN = "88888", "00000 8888 00000", "24680"


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path) as rt:
        yield rt


async def exists(path: Path) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        await asyncio.sleep(0.02)


def screen_name(front: TtyFrontEnd) -> str:
    app = front.app
    return "" if app is None else type(app.screen).__name__


# What each screen shows that the next one must not (and the other way round).
LOGIN = ("Enter your PIN, then your PUK.", "Language", "PUK")
HOME = ("Live measures", "Circuits, zones and switchboards", "CONSULTATION", "Open entry")


async def test_each_screen_change_repaints_the_whole_console(
    runtime: Runtime, tmp_path: Path
) -> None:
    tty = tmp_path / "ttyS0"
    pane = Tmux(tmp_path / "tmux.sock")
    socat = f"exec socat STDIO,rawer PTY,link={tty},rawer"
    await pane.run(
        "new-session", "-d", "-s", "ui", "-x", "80", "-y", "24",
        "-e", "TERM=xterm-16color", socat,
    )  # fmt: skip
    front = TtyFrontEnd("console", runtime, TtySetup(str(tty), None, TerminalSize(80, 24), 16))
    try:
        await exists(tty)
        await front.start()
        await pane.settled(LOGIN, ())

        # Login -> the Change-PIN dialog over it: nothing of the login box shows through.
        await pane.keys(PIN, "Enter")
        await pane.settled(LOGIN, (), lambda: not front.app.screen.query_one("#puk").disabled)
        await pane.keys(PUK, "Enter")
        await pane.settled(("choose your own PIN",), ("Enter your PIN, then your PUK.",))
        await pane.keys(NEW_PIN, "Enter")
        await pane.settled((), (), lambda: front.app.focused.id == "confirm")
        await pane.keys(NEW_PIN, "Enter")
        await pane.settled(("Write it down",), ("Enter your PIN, then your PUK.",))
        await pane.keys("Enter")

        # Home.
        await pane.settled(HOME, ("Write it down", "Enter your PIN"))

        # Home -> Cost of consumption -> back.
        await highlight(pane, front, "cost_rules")
        await pane.keys("Enter")
        await pane.settled((), HOME, lambda: screen_name(front) == "CostRulesScreen")
        await pane.keys("Escape")
        await pane.settled(HOME, (), lambda: screen_name(front) == "HomeScreen")

        # Home -> Consumption (a table and its chart) -> back.
        await highlight(pane, front, "consumption")
        await pane.keys("Enter")
        await pane.settled((), HOME, lambda: screen_name(front) == "TotalScreen")
        await pane.keys("Escape")
        await pane.settled(HOME, (), lambda: screen_name(front) == "HomeScreen")

        # Home -> Gateways and devices -> the Local gateway's devices -> back twice.
        await highlight(pane, front, "gateways")
        await pane.keys("Enter")
        await pane.settled(
            ("Description/Place",), HOME, lambda: screen_name(front) == "GatewaysScreen"
        )
        await pane.keys("v")
        await pane.settled(
            (), ("Description/Place",), lambda: screen_name(front) == "DevicesScreen"
        )
        await pane.keys("Escape")
        await pane.settled(
            ("Description/Place",), (), lambda: screen_name(front) == "GatewaysScreen"
        )
        # The command palette over the gateway form: the form does not show through it.
        await pane.keys("C-p")
        await pane.settled(
            ("Search for a screen",),
            ("Description/Place",),
            lambda: screen_name(front) == "EwsCommandPalette",
        )
        await pane.keys("Escape")
        await pane.settled(
            ("Description/Place",),
            ("Search for a screen",),
            lambda: screen_name(front) == "GatewaysScreen",
        )
        await pane.keys("Escape")
        await pane.settled(HOME, ("Description/Place",), lambda: screen_name(front) == "HomeScreen")

        # Home in French, from its language list: every text is redrawn in French.
        await pane.keys("Tab", "Enter")
        await pane.settled(("Français",), (), lambda: front.app.focused.id != "language")
        await pane.keys("Down", "Down", "Enter")
        await pane.settled(
            ("Mesures en temps réel", "Se déconnecter", "Langue"),
            ("Live measures", "Circuits, zones and switchboards", "Open entry", "Log out"),
            lambda: front.app.session.language == "fr",
        )
    finally:
        await front.stop()
        await pane.run("kill-server")


def _highlighted(front: TtyFrontEnd) -> str | None:
    menu = front.app.screen.query_one("#menu")
    index = menu.highlighted
    return None if index is None else menu.get_option_at_index(index).id


async def highlight(pane: Tmux, front: TtyFrontEnd, entry: str) -> None:
    """Move Home's highlight to ``entry`` with the arrow keys, as a technician does."""
    order = list(front.app.screen._entries)
    for _step in range(len(order)):
        now = _highlighted(front)
        if now == entry:
            return
        key = "Down" if order.index(entry) > order.index(now) else "Up"
        await pane.keys(key)
        await pane.settled((), (), lambda was=now: _highlighted(front) != was)
    raise AssertionError(f"{entry} never highlighted")
