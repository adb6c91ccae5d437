"""What a client's terminal shows, read from the raw stream a front end sends.

No terminal emulator: escape sequences are dropped and the text kept, which is enough to
wait for a word on screen. :class:`Output` collects a stream and wakes waiters on new data.
"""

from __future__ import annotations

import asyncio
import re

ESCAPES = re.compile(
    r"\x1b\[[0-9;?<>=$:]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    r"|\x1b[()][0-9A-Za-z]"  # charset
    r"|\x1b[@-_]"  # other two-byte sequences
)
DEADLINE_S = 15.0  # a safety net under a loaded machine; things appear in milliseconds


def plain(text: str) -> str:
    """``text`` without its escape sequences."""
    return ESCAPES.sub("", text)


class Output:
    """Everything received so far, and a way to wait for some text in it."""

    def __init__(self) -> None:
        self.raw = ""
        self.closed = False
        self._changed = asyncio.Condition()

    async def add(self, data: str) -> None:
        async with self._changed:
            self.raw += data
            self._changed.notify_all()

    async def close(self) -> None:
        async with self._changed:
            self.closed = True
            self._changed.notify_all()

    def mark(self) -> int:
        """A position: ``wait_for(..., since=mark)`` looks only at what came after it."""
        return len(self.raw)

    async def wait_for(self, text: str, *, since: int = 0, timeout: float = DEADLINE_S) -> None:
        def seen() -> bool:
            return text in plain(self.raw[since:]) or self.closed

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(seen), timeout)
            except TimeoutError:
                tail = plain(self.raw[since:])[-600:]
                raise AssertionError(f"{text!r} not shown; the screen ends with {tail!r}") from None
        assert text in plain(self.raw[since:]), f"closed before {text!r} was shown"

    async def wait_closed(self, timeout: float = DEADLINE_S) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.closed), timeout)
