"""A service's follow loop over the Hub: subscribe at start, a supervised task, close at stop.

Every service that reads Hub events (live values, the recorder, the polling and Modbus
server listeners, the CSV events log) owns one :class:`HubFollower` instead of writing the
subscribe -> task -> cancel lifecycle again.

The subscription belongs to the follower, not to its task: when the loop crashes, the
Supervisor restarts it on the same subscription, so nothing queued meanwhile is lost. The
event being handled when it crashed is handled again once; if that crashes too, the event
is dropped, counted in the subscription's ``dropped`` (``Hub.stats()`` shows it) and
published as :class:`~ews_tui.domain.events.EventDropped`.

Events are handled in batches: one awaited, then all those already queued, then ``tick``
(if given), which also runs when ``tick_in()`` seconds pass without an event (the recorder
writes its closed slots from there).

At stop the subscription is closed; a ``drain_on_stop`` follower handles everything still
queued before its task ends (the recorder, the events log), the others are cancelled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from ews_tui.domain.events import Event, EventDropped
from ews_tui.hub import DEFAULT_MAXSIZE, Hub, Subscription, SubscriptionClosed
from ews_tui.supervision import Supervised, Supervisor, describe

log = logging.getLogger(__name__)

Handler = Callable[[Event], Awaitable[None]]
Tick = Callable[[], Awaitable[None]]


class HubFollower:
    """``handle`` each event of ``events`` from the Hub, in a task the supervisor restarts."""

    def __init__(
        self,
        hub: Hub,
        supervisor: Supervisor,
        name: str,
        events: tuple[type[Event], ...],
        handle: Handler,
        *,
        lossless: bool = True,
        maxsize: int = DEFAULT_MAXSIZE,
        drain_on_stop: bool = False,
        tick: Tick | None = None,
        tick_in: Callable[[], float] | None = None,
    ) -> None:
        self.name = name
        self._hub = hub
        self._supervisor = supervisor
        self._events = events
        self._handle = handle
        self._lossless = lossless
        self._maxsize = maxsize
        self._drain_on_stop = drain_on_stop
        self._tick = tick
        self._tick_in = tick_in
        self._subscription: Subscription | None = None
        self._supervised: Supervised | None = None
        self._pending: Event | None = None  # being handled; set again if the loop crashed
        self._tries = 0

    @property
    def subscription(self) -> Subscription | None:
        return self._subscription

    @property
    def task(self) -> asyncio.Task[None] | None:
        return self._supervised.task if self._supervised is not None else None

    def subscribe(self) -> Subscription:
        """Subscribe now (before the owner's own start work, so nothing is missed)."""
        if self._subscription is None:
            self._subscription = self._hub.subscribe(
                *self._events, lossless=self._lossless, maxsize=self._maxsize, name=self.name
            )
        return self._subscription

    def start(self) -> None:
        """Follow the subscription (made now if :meth:`subscribe` was not called)."""
        self.subscribe()
        if self._supervised is None:
            self._supervised = self._supervisor.supervise(self.name, self._follow)

    async def stop(self) -> None:
        """Close the subscription; drain it first if ``drain_on_stop``; end the task."""
        sub, supervised = self._subscription, self._supervised
        if sub is None:
            return
        sub.close()
        if supervised is not None:
            await supervised.stop(grace=None if self._drain_on_stop else 0.0)
        if self._drain_on_stop:
            await self._handle_leftovers(sub)
        self._subscription = self._supervised = None

    # -- the loop ---------------------------------------------------------------------------

    async def _follow(self) -> None:
        sub = self._subscription
        assert sub is not None
        await self._retry_pending(sub)
        while True:
            try:
                event = await self._next(sub)
            except SubscriptionClosed:
                return
            if event is not None:
                await self._handle_one(event)
                while len(sub):
                    await self._handle_one(sub.get_nowait())
            if self._tick is not None:
                await self._tick()

    async def _next(self, sub: Subscription) -> Event | None:
        if self._tick_in is None:
            return await sub.get()
        timeout = self._tick_in()
        try:
            return await asyncio.wait_for(sub.get(), timeout)
        except TimeoutError:
            return None

    async def _handle_one(self, event: Event) -> None:
        self._pending, self._tries = event, 1
        await self._handle(event)
        self._pending = None

    async def _retry_pending(self, sub: Subscription) -> None:
        event = self._pending
        if event is None:
            return
        if self._tries >= 2:
            self._drop(sub, event, "it crashed the loop twice")
            return
        log.warning("%s: handling %s again after a crash", self.name, type(event).__name__)
        self._tries += 1
        await self._handle(event)
        self._pending = None

    def _drop(self, sub: Subscription, event: Event, why: str) -> None:
        self._pending = None
        sub.dropped += 1
        log.error("%s: %s dropped: %s", self.name, type(event).__name__, why)
        self._hub.publish(EventDropped(self.name, type(event).__name__))

    async def _handle_leftovers(self, sub: Subscription) -> None:
        """At stop, after the task: what a crash left behind is handled here, once each."""
        leftovers = [self._pending] if self._pending is not None else []
        self._pending = None
        while len(sub):
            leftovers.append(sub.get_nowait())
        for event in leftovers:
            try:
                await self._handle(event)
            except Exception as exc:
                self._drop(sub, event, describe(exc))
        if leftovers and self._tick is not None:
            try:
                await self._tick()
            except Exception:
                log.exception("%s: the last turn at stop failed", self.name)
