"""The bus loop: the bus pollers run in one dedicated thread with its own asyncio loop.

Why a thread: asyncio runs every ready callback of an iteration before it looks at I/O
again. With ten Textual sessions in the main loop an iteration's batch of renders takes tens
of milliseconds, and a bus cycle is a chain of request/answer steps, each of which would wait
one batch: the pollers' period slipped by 20 % under ten busy sessions. In the bus loop an
RTU answer's arrival and the next request wait only for the other pollers, and for the GIL:
the main thread's Python code keeps it at most the switch interval before the bus thread
gets it. A bus cycle is many such wake-ups (each request, each answer, each timer), so
:class:`BusLoop` lowers the interval from Python's 5 ms to :data:`SWITCH_INTERVAL_S` while it
runs (process-wide; restored at stop).

What lives where:

- The bus loop (thread ``ews-bus``) owns every :class:`BusPoller`, its
  :class:`BusTransport` (pymodbus clients are created, connected and closed there) and the
  jobs submitted to it (a job gets the transport only: it must not touch main-loop objects).
- The main loop keeps the Hub, the store, the services and the UI. What a poller publishes
  (samples, device and gateway states, the bus supervisor's crash reports) reaches the Hub
  through a :class:`~ews_tui.hub.ThreadSafePublisher`, in order. A :class:`Sample` keeps the
  time at which it was read, in the bus thread.
- :class:`ThreadedPoller` is the main loop's handle of one poller: the same interface as
  :class:`BusPoller` (``start``, ``stop``, ``submit``, ``read``, ``read_device``,
  ``set_targets``, ``device_state``, ``stats``...); calls cross with
  ``run_coroutine_threadsafe`` / ``call_soon_threadsafe``, results come back through
  ``asyncio.wrap_future``.

If the thread itself dies (a ``SystemExit`` or ``KeyboardInterrupt`` out of a callback; a
poller's own crash is restarted by the bus supervisor and published), its pollers are
stopped and their transports closed in the dying thread, pending calls answer
:class:`Disconnected`, and ``on_death`` is called in the main loop: the polling service
publishes it and starts a new bus loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, TypeVar

from ews_tui.domain.events import DeviceState
from ews_tui.hub import Hub, ThreadSafePublisher
from ews_tui.modbus.device_reader import DeviceTarget, Values
from ews_tui.modbus.planner import BusParams
from ews_tui.modbus.poller import BusPoller, Job, PollerStats, PollSettings
from ews_tui.modbus.transport import BusTransport, Disconnected, Endpoint, Failure, ReadResult
from ews_tui.supervision import Supervisor

log = logging.getLogger(__name__)

T = TypeVar("T")

THREAD_NAME = "ews-bus"
STOP_TIMEOUT_S = 10.0
#: The GIL's switch interval while the bus loop runs: the longest the bus thread waits for
#: the main thread at each of its wake-ups (Python's default: 5 ms).
SWITCH_INTERVAL_S = 0.001


class BusLoopStopped(Exception):
    """The bus loop is not running (stopped, or its thread died)."""


class BusLoop:
    """One daemon thread running the asyncio loop of the bus pollers.

    Started and stopped from the main loop (:meth:`start`, :meth:`stop`); ``on_death`` is
    called in the main loop with the exception that ended the thread when it ends without
    :meth:`stop`.
    """

    def __init__(
        self,
        hub: Hub,
        *,
        name: str = THREAD_NAME,
        on_death: Callable[[BaseException], None] | None = None,
        switch_interval_s: float | None = SWITCH_INTERVAL_S,
    ) -> None:
        self._hub = hub
        self._switch_interval_s = switch_interval_s
        self._saved_interval_s: float | None = None
        self._name = name
        self._on_death = on_death
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready: asyncio.Future[None] | None = None
        self._ended: asyncio.Future[BaseException | None] | None = None
        self._pollers: list[BusPoller] = []  # touched in the bus loop only
        self._stopping = False
        self.publisher: ThreadSafePublisher | None = None
        self.supervisor: Supervisor | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def alive(self) -> bool:
        """Whether the loop runs and takes calls."""
        loop = self._loop
        return loop is not None and loop.is_running() and not self._stopping

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise BusLoopStopped(self._name)
        return self._loop

    async def start(self) -> None:
        """Start the thread; return once its loop runs."""
        if self._thread is not None:
            raise RuntimeError(f"{self._name}: already started")
        main = self._main = asyncio.get_running_loop()
        self.publisher = publisher = ThreadSafePublisher(self._hub, main)
        self.supervisor = Supervisor(publisher)
        self._ready = main.create_future()
        self._ended = main.create_future()
        self._thread = threading.Thread(target=self._main_of_thread, name=self._name, daemon=True)
        if self._switch_interval_s is not None:
            self._saved_interval_s = sys.getswitchinterval()
            sys.setswitchinterval(self._switch_interval_s)
        self._thread.start()
        await asyncio.shield(self._ready)

    async def stop(self) -> None:
        """Stop every poller (their transports close in the bus loop), end the loop and
        join the thread. Idempotent; also fine after the thread died."""
        thread, ended = self._thread, self._ended
        if thread is None or ended is None:
            return
        loop = self._loop
        if not self._stopping and loop is not None and not ended.done():
            self._stopping = True
            with contextlib.suppress(RuntimeError):  # closed meanwhile: it is ending
                loop.call_soon_threadsafe(loop.stop)  # the thread's exit stops the pollers
        self._stopping = True
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await asyncio.shield(ended)
        except TimeoutError:
            log.error("%s: the bus thread did not end in %.0f s", self._name, STOP_TIMEOUT_S)
            return
        thread.join(timeout=STOP_TIMEOUT_S)  # it has left its loop: at once
        saved, self._saved_interval_s = self._saved_interval_s, None
        if saved is not None:
            sys.setswitchinterval(saved)

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` in the bus loop and wait for its result in the calling loop.

        Raises :class:`BusLoopStopped` when the loop is not running or ends meanwhile.
        Cancelling the caller cancels the coroutine in the bus loop."""
        loop = self._loop
        if loop is None or not self.alive:
            coro.close()
            raise BusLoopStopped(self._name)
        try:
            concurrent = asyncio.run_coroutine_threadsafe(coro, loop)
        except RuntimeError as exc:  # closed between the check and the call
            coro.close()
            raise BusLoopStopped(self._name) from exc
        try:
            return await asyncio.wrap_future(concurrent)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # the caller was cancelled
            raise BusLoopStopped(self._name) from None  # the bus loop cancelled it

    def call(self, fn: Callable[..., object], *args: object) -> None:
        """Call ``fn(*args)`` in the bus loop, without waiting (in order with :meth:`run`)."""
        loop = self._loop
        if loop is None or not self.alive:
            raise BusLoopStopped(self._name)
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError as exc:
            raise BusLoopStopped(self._name) from exc

    async def poller(
        self,
        gateway_id: int,
        endpoint: Endpoint,
        targets: Iterable[DeviceTarget],
        *,
        bus: BusParams,
        settings: PollSettings,
    ) -> ThreadedPoller:
        """A new poller built in the bus loop (not started), and its main-loop handle."""
        wanted = tuple(targets)

        async def build() -> BusPoller:
            publisher, supervisor = self.publisher, self.supervisor
            assert publisher is not None and supervisor is not None  # set by start()
            inner = BusPoller(
                gateway_id,
                BusTransport(endpoint),
                publisher,
                wanted,
                bus=bus,
                settings=settings,
                supervisor=supervisor,
            )
            self._pollers.append(inner)
            return inner

        return ThreadedPoller(self, await self.run(build()))

    async def forget(self, poller: BusPoller) -> None:
        """Stop ``poller`` (in the bus loop) and drop it from the loop's list."""
        if poller in self._pollers:
            self._pollers.remove(poller)
        await poller.stop()

    # ------------------------------------------------------------------ the thread

    def _to_main(self, fn: Callable[..., object], *args: object) -> None:
        main = self._main
        if main is None:
            return
        try:
            main.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the main loop is closed: nobody to tell
            log.debug("%s: main loop closed", self._name)

    def _main_of_thread(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        loop.call_soon(self._to_main, _resolve, self._ready, None)
        error: BaseException | None = None
        try:
            loop.run_forever()
        except BaseException as exc:  # reported to the main loop
            error = exc
            log.critical("%s: the bus thread died", self._name, exc_info=exc)
        finally:
            try:
                loop.run_until_complete(self._wind_down())
                loop.run_until_complete(loop.shutdown_asyncgens())
            except BaseException as exc:  # the thread must still report
                log.error("%s: winding down failed", self._name, exc_info=exc)
            finally:
                loop.close()
                self._to_main(self._thread_ended, error)

    async def _wind_down(self) -> None:
        """In the bus loop, after it stopped: stop the pollers (transports closed), then
        cancel whatever else runs (pending calls from the main loop end)."""
        pollers, self._pollers = self._pollers, []
        results = await asyncio.gather(*(p.stop() for p in pollers), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                log.error("%s: a poller did not stop cleanly", self._name, exc_info=result)
        if self.supervisor is not None:
            await self.supervisor.cancel_all(timeout=STOP_TIMEOUT_S)
        me = asyncio.current_task()
        others = [t for t in asyncio.all_tasks() if t is not me]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def _thread_ended(self, error: BaseException | None) -> None:
        """In the main loop: the thread has left its loop."""
        _resolve(self._ready, None)
        if self._ended is not None and not self._ended.done():
            self._ended.set_result(error)
        if self._stopping:
            return
        self._stopping = True
        reason = error if error is not None else RuntimeError("the bus loop stopped")
        if self._on_death is not None:
            self._on_death(reason)


def _resolve(future: asyncio.Future[None] | None, value: None) -> None:
    if future is not None and not future.done():
        future.set_result(value)


class ThreadedPoller:
    """The main loop's handle of a :class:`BusPoller` running in the :class:`BusLoop`."""

    def __init__(self, bus_loop: BusLoop, inner: BusPoller) -> None:
        self._bus_loop = bus_loop
        self._inner = inner
        self.gateway_id = inner.gateway_id

    # Read-only views: plain attribute reads of the inner poller (atomic under the GIL).

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def transport(self) -> BusTransport:
        """The poller's transport: read its name, endpoint or state; never call it from
        the main loop (a job submitted through :meth:`submit` gets it in the bus loop)."""
        return self._inner.transport

    @property
    def bus(self) -> BusParams:
        return self._inner.bus

    @property
    def settings(self) -> PollSettings:
        return self._inner.settings

    @property
    def connects(self) -> int:
        return self._inner.connects

    @property
    def stats(self) -> PollerStats:
        return self._inner.stats

    def device_state(self, device_id: int) -> DeviceState | None:
        return self._inner.device_state(device_id)

    # Calls into the bus loop.

    def set_targets(self, targets: Iterable[DeviceTarget]) -> None:
        try:
            self._bus_loop.call(self._inner.set_targets, tuple(targets))
        except BusLoopStopped:
            log.warning("%s: targets not set, the bus loop is stopped", self.name)

    async def start(self) -> None:
        await self._bus_loop.run(self._inner.start())

    async def stop(self) -> None:
        # BusLoopStopped: the loop's end stopped it and closed its transport
        with contextlib.suppress(BusLoopStopped):
            await self._bus_loop.run(self._bus_loop.forget(self._inner))

    def _stopped(self) -> Disconnected:
        return Disconnected(self._inner.transport.name, "bus thread stopped")

    async def submit(self, job: Job[T], *, paced: bool = False, cost_s: float | None = None) -> T:
        """See :meth:`BusPoller.submit`: ``job`` runs in the bus loop."""
        try:
            return await self._bus_loop.run(self._inner.submit(job, paced=paced, cost_s=cost_s))
        except BusLoopStopped:
            return self._stopped()  # type: ignore[return-value]  # as BusPoller.submit

    async def read(
        self, fc: int, address: int, start: int, count: int, *, paced: bool = False
    ) -> ReadResult:
        try:
            return await self._bus_loop.run(
                self._inner.read(fc, address, start, count, paced=paced)
            )
        except BusLoopStopped:
            return self._stopped()

    async def read_device(self, target: DeviceTarget) -> Values | Failure:
        try:
            return await self._bus_loop.run(self._inner.read_device(target))
        except BusLoopStopped:
            return self._stopped()
