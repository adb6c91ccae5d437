"""The in-process bus of typed events between services and front ends.

``Hub.publish`` is synchronous and never blocks: it runs in the poll hot path. Each
subscriber has its own queue and reads at its own pace:

- a bounded subscription (a UI session) keeps the newest ``maxsize`` events, drops the
  oldest one when full and counts the drop, so a slow or frozen screen never holds back
  a poller nor grows without limit;
- a lossless subscription (the recorder) is unbounded and never drops; past its
  ``high_water`` mark it publishes :class:`~ews_tui.domain.events.QueueBehind` (and logs a
  warning), and :class:`~ews_tui.domain.events.QueueCaughtUp` once back under half of it.
  :meth:`Hub.stats` shows every queue (the home screen and the ``ews serve`` log read it).

Thread-safety: none. The Hub and its subscribers live in the main asyncio loop of the
Runtime. Code on another thread (the bus pollers' thread, :mod:`ews_tui.modbus.bus_thread`)
publishes through a :class:`ThreadSafePublisher`, which hands each event to the main loop
with ``loop.call_soon_threadsafe(hub.publish, event)`` (in order). Producers that may run
on either side take a :class:`Publisher` (anything with ``publish``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

from ews_tui.domain.events import Event, QueueBehind, QueueCaughtUp

logger = logging.getLogger(__name__)

DEFAULT_MAXSIZE = 256
#: Events queued in a lossless subscription past which its reader is "falling behind".
DEFAULT_HIGH_WATER = 10_000


class Publisher(Protocol):
    """Where a producer publishes: the :class:`Hub` itself, or a :class:`ThreadSafePublisher`."""

    def publish(self, event: Event) -> None: ...


class ThreadSafePublisher:
    """Publishes into ``hub`` from any thread: each event is queued to ``loop`` (the hub's
    loop) and published there, in the order published. Once that loop is closed (the box
    is stopping) events are dropped and counted."""

    def __init__(self, hub: Hub, loop: asyncio.AbstractEventLoop) -> None:
        self.hub = hub
        self.loop = loop
        self.dropped = 0

    def publish(self, event: Event) -> None:
        try:
            self.loop.call_soon_threadsafe(self.hub.publish, event)
        except RuntimeError:  # the main loop is closed: nobody is left to read it
            self.dropped += 1
            logger.debug("hub: %r dropped, its loop is closed", event)


class SubscriptionClosed(Exception):
    """Raised by ``get``/``get_nowait`` on a closed subscription with nothing left to read."""


class SubscriptionEmpty(Exception):
    """Raised by ``get_nowait`` when no event is waiting."""


@dataclass(frozen=True, slots=True)
class SubscriptionStats:
    """What :meth:`Hub.stats` reports for one subscription."""

    name: str
    queued: int
    dropped: int
    maxsize: int | None
    lossless: bool
    high_water: int | None = None
    behind: bool = False


class Subscription:
    """One consumer's queue of events; an async iterator that ends when closed.

    One reader at a time: a second concurrent ``get()`` raises ``RuntimeError``.
    After :meth:`close`, the events already queued can still be read, then iteration ends.
    Also a context manager that closes it on exit.
    """

    __slots__ = (
        "_closed",
        "_hub",
        "_items",
        "_maxsize",
        "_waiter",
        "behind",
        "dropped",
        "high_water",
        "name",
        "types",
    )

    def __init__(
        self,
        hub: Hub,
        types: tuple[type[Event], ...],
        maxsize: int | None,
        name: str,
        high_water: int | None = None,
    ) -> None:
        self._hub = hub
        self.types = types
        self.name = name
        self.dropped = 0
        self.high_water = high_water
        self.behind = False
        self._maxsize = maxsize
        self._items: deque[Event] = deque(maxlen=maxsize)
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False

    @property
    def lossless(self) -> bool:
        return self._maxsize is None

    @property
    def closed(self) -> bool:
        return self._closed

    def __len__(self) -> int:
        return len(self._items)

    def _put(self, event: Event) -> None:
        """Called by the Hub only: queue ``event``, dropping the oldest when full."""
        items = self._items
        if len(items) == self._maxsize:
            self.dropped += 1  # deque(maxlen) drops the oldest on append
        items.append(event)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if self.high_water is not None and not self.behind and len(items) > self.high_water:
            self.behind = True
            logger.warning("hub: %s is falling behind: %d events queued", self.name, len(items))
            self._hub.publish(QueueBehind(self.name, len(items)))

    def _taken(self) -> None:
        """After a read: say once when a queue that was behind has caught up."""
        if self.behind and self.high_water is not None and len(self._items) <= self.high_water // 2:
            self.behind = False
            logger.info("hub: %s caught up (%d events queued)", self.name, len(self._items))
            self._hub.publish(QueueCaughtUp(self.name))

    def get_nowait(self) -> Event:
        """The oldest queued event; raise ``SubscriptionEmpty`` or ``SubscriptionClosed``."""
        if self._items:
            event = self._items.popleft()
            self._taken()
            return event
        if self._closed:
            raise SubscriptionClosed(self.name)
        raise SubscriptionEmpty(self.name)

    async def get(self) -> Event:
        """Wait for the oldest event; raise ``SubscriptionClosed`` once closed and drained."""
        while not self._items:
            if self._closed:
                raise SubscriptionClosed(self.name)
            if self._waiter is not None:
                raise RuntimeError(f"subscription {self.name!r} already has a reader")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        event = self._items.popleft()
        self._taken()
        return event

    def close(self) -> None:
        """Stop receiving events and end iteration once the queue is drained. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._hub._unsubscribe(self)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        try:
            return await self.get()
        except SubscriptionClosed:
            raise StopAsyncIteration from None

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        kinds = ",".join(t.__name__ for t in self.types)
        size = "lossless" if self.lossless else f"max={self._maxsize}"
        return f"<Subscription {self.name!r} [{kinds}] {size} queued={len(self._items)}>"


class Hub:
    """Routes each published event to the subscriptions whose types match it.

    Routing is cached per concrete event class, so ``publish`` costs one dict lookup plus
    one queue append per matching subscriber.
    """

    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        self._routes: dict[type, tuple[Subscription, ...]] = {}

    def subscribe(
        self,
        *event_types: type[Event],
        maxsize: int = DEFAULT_MAXSIZE,
        lossless: bool = False,
        name: str = "subscriber",
        high_water: int = DEFAULT_HIGH_WATER,
    ) -> Subscription:
        """A new subscription to ``event_types`` and their subclasses (all events if none).

        ``high_water`` applies to a lossless one: past it, it is "falling behind".
        """
        types = event_types or (Event,)
        for kind in types:
            if not (isinstance(kind, type) and issubclass(kind, Event)):
                raise TypeError(f"subscribe({name!r}): {kind!r} is not an Event class")
        if not lossless and maxsize < 1:
            raise ValueError(f"subscribe({name!r}): maxsize must be at least 1, got {maxsize}")
        if lossless and high_water < 1:
            raise ValueError(f"subscribe({name!r}): high_water must be at least 1")
        sub = Subscription(
            self, types, None if lossless else maxsize, name, high_water if lossless else None
        )
        self._subscriptions.append(sub)
        self._routes.clear()
        return sub

    def publish(self, event: Event) -> None:
        """Queue ``event`` for every matching subscriber. Never blocks, never awaits."""
        try:
            targets = self._routes[type(event)]
        except KeyError:
            targets = self._route(type(event))
        for sub in targets:
            sub._put(event)

    def stats(self) -> tuple[SubscriptionStats, ...]:
        """Queue length and drop count of every open subscription, in subscription order."""
        return tuple(
            SubscriptionStats(
                s.name, len(s), s.dropped, s._maxsize, s.lossless, s.high_water, s.behind
            )
            for s in self._subscriptions
        )

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        return tuple(self._subscriptions)

    def _route(self, kind: type) -> tuple[Subscription, ...]:
        if not issubclass(kind, Event):
            raise TypeError(f"Hub.publish: {kind.__name__} is not an Event")
        targets = tuple(s for s in self._subscriptions if issubclass(kind, s.types))
        self._routes[kind] = targets
        return targets

    def _unsubscribe(self, sub: Subscription) -> None:
        self._subscriptions.remove(sub)
        self._routes.clear()
