"""The user's side of a pty pair: what the terminal shows and the keys typed on it."""

from __future__ import annotations

import asyncio
import os

from tests.frontends.terminal_text import Output


class PtyTerminal:
    """Reads the master side of a pty into an :class:`Output`; ``type`` writes keys."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.screen = Output()
        os.set_blocking(master, False)
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(master, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._loop.remove_reader(self.master)
            self._loop.create_task(self.screen.close())
            return
        self._loop.create_task(self.screen.add(data.decode("utf-8", errors="replace")))

    async def type(self, *keys: str) -> None:
        for key in keys:
            os.write(self.master, key.encode())
            await asyncio.sleep(0)

    async def type_line(self, text: str) -> None:
        """``text`` key by key, then Enter (CR, as a terminal sends it)."""
        await self.type(*text, "\r")

    def hang_up(self) -> None:
        self._loop.remove_reader(self.master)
        os.close(self.master)
