"""The box's event loop, which knows how long its current pass has run (issue 11).

asyncio runs a loop pass to its end (every callback and task step that was ready when the
pass began) before it looks at timers and I/O again. A timer that falls due meanwhile waits
for the rest of that pass, and its task's step runs only in the next pass, behind everything
made ready in between: a task's lateness is two passes. Five sessions opening screens
together each ran a step of 5 to 10 ms in the same passes, and a task sleeping 5 ms woke
45 ms late (``scripts/bench_sessions.py --stall-trace``).

The box's loop (:func:`new_loop`; :func:`run` runs a coroutine on one) is asyncio's
selector loop whose selector notes when each ``select`` returns: the start of a pass. The
UI's message loops ask :func:`over_budget` before each message; once the current pass has
run for :data:`PASS_BUDGET_S` they :meth:`~Passes.give_way`: they queue, and each later pass lets
the first in the queue handle one message (first come, first served: none is starved, and
five sessions' messages are no longer all handled in the same pass). A pass then holds
about one budget of UI work and one message that waited for it.

On any other loop (pytest's, Textual's Pilot) :func:`over_budget` is always None: the
message loops keep their own step budget alone.

    passes.run(main())  # ews serve, ews demo, the benchmarks
"""

from __future__ import annotations

import asyncio
import selectors
import weakref
from collections import deque
from collections.abc import Coroutine
from time import perf_counter
from typing import Any, TypeVar

T = TypeVar("T")
PASS_BUDGET_S = 0.005  # UI work gives way to the next pass once the current one ran this long


class PassSelector(selectors.DefaultSelector):
    """The platform's selector, noting when each ``select`` returned (a pass's start)."""

    began = 0.0  # perf_counter() when the current pass began

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        try:
            return super().select(timeout)
        finally:
            self.began = perf_counter()


class Passes:
    """A loop's passes: when the current one began, and the queue of those giving way."""

    def __init__(self, loop: asyncio.AbstractEventLoop, selector: PassSelector) -> None:
        self._loop = loop
        self._selector = selector
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._releasing = False
        self.gave_way = 0  # how many times a message loop gave way (tests read it)

    @property
    def began(self) -> float:
        """When the current pass began (``perf_counter()``)."""
        return self._selector.began

    def age(self) -> float:
        """How long the current pass has run (s)."""
        return perf_counter() - self._selector.began

    async def give_way(self) -> None:
        """Wait until a later pass lets this caller go, after those that queued before."""
        self.gave_way += 1
        future = self._loop.create_future()
        self._waiting.append(future)
        if not self._releasing:
            self._releasing = True
            self._loop.call_soon(self._release)
        await future

    def _release(self) -> None:
        # One waiter per pass: the next release is in the next pass.
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():  # a cancelled waiter is skipped
                future.set_result(None)
                break
        if self._waiting:
            self._loop.call_soon(self._release)
        else:
            self._releasing = False


_PASSES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Passes] = weakref.WeakKeyDictionary()


def new_loop() -> asyncio.AbstractEventLoop:
    """asyncio's selector loop, with a :class:`PassSelector`."""
    selector = PassSelector()
    loop = asyncio.SelectorEventLoop(selector)
    _PASSES[loop] = Passes(loop, selector)
    return loop


def current() -> Passes | None:
    """The running loop's passes; None outside a loop of :func:`new_loop`."""
    try:
        return _PASSES.get(asyncio.get_running_loop())
    except RuntimeError:
        return None


def over_budget() -> Passes | None:
    """The running loop's passes once its current pass has run for :data:`PASS_BUDGET_S`
    (the caller then :meth:`~Passes.give_way`); None before, and outside a loop of
    :func:`new_loop`."""
    mine = current()
    return mine if mine is not None and mine.age() > PASS_BUDGET_S else None


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on a loop of :func:`new_loop`."""
    with asyncio.Runner(loop_factory=new_loop) as runner:
        return runner.run(main)
