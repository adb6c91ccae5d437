"""A tmux server of its own as the terminal a technician reads: ``capture-pane -p`` is the
screen, ``send-keys`` the keyboard. Each test gives it a socket in its tmp_path and starts one
window named ``ui``; no user configuration is read (``-f /dev/null``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from tests.frontends.terminal_text import DEADLINE_S


class Tmux:
    """One tmux server (socket ``socket``) running the window ``ui``."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket

    async def run(self, *args: str) -> str:
        process = await asyncio.create_subprocess_exec(
            "tmux",
            "-f",
            "/dev/null",
            "-S",
            str(self.socket),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        assert process.returncode == 0, err.decode()
        return out.decode()

    async def screen(self) -> str:
        return await self.run("capture-pane", "-p", "-t", "ui")

    async def keys(self, *keys: str) -> None:
        await self.run("send-keys", "-t", "ui", *keys)

    async def wait_for(self, text: str) -> str:
        """The capture once it shows ``text``; fails at the deadline with the capture."""
        return await self.settled((text,), ())

    async def settled(
        self, shows: Iterable[str], gone: Iterable[str], check: Callable[[], bool] = lambda: True
    ) -> str:
        """The capture once it shows every text of ``shows``, none of ``gone``, and
        ``check()`` holds (the app's side). Fails at the deadline with the capture."""
        shows, gone = tuple(shows), tuple(gone)
        deadline = time.monotonic() + DEADLINE_S
        while True:
            shown = await self.screen()
            missing = [text for text in shows if text not in shown]
            left = [text for text in gone if text in shown]
            if not missing and not left and check():
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"missing {missing}, still shown {left}:\n{shown}")
            await asyncio.sleep(0.05)
