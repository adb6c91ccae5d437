"""One screen frame at a time across every UI session, each in a loop pass of its own.

Every session is its own Textual App in the loop the bus pollers share. Textual draws a
screen from a timer (at most 60 times a second); sessions that change at the same moment
(a sample every Live measures screen shows, keys typed together) had their timers fire in
the same loop pass, and asyncio runs a pass to its end: a poller whose RTU answer had just
arrived waited behind every session's frame before it could send the next request.

:class:`FrameGate` hands out turns: one frame per turn, and the next turn starts in a later
loop pass, so whatever became ready meanwhile (an answer on the serial line, a poller's
timer) runs between two frames. A bus step then waits for one frame at most, not for a
batch of them. Nothing is dropped: a screen waiting for its turn draws everything that
changed until then.

    async with frame_gate().turn():
        ...  # draw one screen

:class:`PacedFrames` is the screen side (the base of the product's screens): Textual's frame
timer waits for a turn, then draws as Textual does.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections import deque
from collections.abc import AsyncIterator
from typing import TypeVar

from textual.screen import UPDATE_PERIOD, Screen
from textual.timer import Timer

ResultT = TypeVar("ResultT")


class FrameGate:
    """Turns for drawing: one holder at a time; the next turn begins a loop pass later."""

    def __init__(self) -> None:
        self._busy = False
        self._waiting: deque[asyncio.Future[None]] = deque()
        self.frames = 0  # turns taken (tests and benches read it)
        self.waited = 0  # ... of which had to wait for another frame

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self._busy or self._waiting:
            self.waited += 1
            future = asyncio.get_running_loop().create_future()
            self._waiting.append(future)
            try:
                await future
            except asyncio.CancelledError:
                if future.done() and not future.cancelled():
                    self._release()  # granted, then cancelled: hand the turn on
                raise
        self._busy = True
        self.frames += 1
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        # The next holder starts in a later loop pass: what became ready meanwhile runs first.
        asyncio.get_running_loop().call_soon(self._next)

    def _next(self) -> None:
        self._busy = False
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                self._busy = True
                future.set_result(None)
                return


_GATES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, FrameGate] = (
    weakref.WeakKeyDictionary()
)


def frame_gate() -> FrameGate:
    """The gate of the running loop (every session of a box shares it)."""
    loop = asyncio.get_running_loop()
    gate = _GATES.get(loop)
    if gate is None:
        gate = _GATES[loop] = FrameGate()
    return gate


class PacedFrames(Screen[ResultT]):
    """A screen whose frames take turns with every other session's (see the module).

    Textual's frame timer calls this screen's ``_on_timer_update`` once the gate gives a
    turn (a direct call, as Textual's Pilot makes in tests, draws at once)."""

    _paced_timer: Timer | None = None

    @property
    def _update_timer(self) -> Timer:
        if self._paced_timer is None:
            self._paced_timer = self.set_interval(
                UPDATE_PERIOD, self._paced_update, name="screen_update", pause=True
            )
        return self._paced_timer

    async def _paced_update(self) -> None:
        async with frame_gate().turn():
            self._on_timer_update()
