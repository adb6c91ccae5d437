"""The bus poller: the one owner of a bus, reading its devices on schedule.

One asyncio task per bus. It alone sends on its transport, one transaction at a time;
other readers queue a job that the task runs between two device polls. The UI's Test
button's jobs run at the first gap; the Modbus TCP gateway server's are *paced* (see
:class:`_JobPacer`: in the bus's idle time when one fits before the next due poll, or after
a fast period in the idle time anyway, or on a saturated bus one at a time between two
polls, within a share of the bus time), so the box's own polling keeps its period whatever
the gateway's clients ask.
Each pass it polls every device whose fast or slow interval is due (both merged into one
plan when both are due) and publishes a :class:`Sample`; it never sleeps while a device is
due, so a saturated bus cycles at wire speed.

States travel as state events only: a device that fails gets ``retries`` more attempts,
then goes Communication error (:class:`DeviceStateChanged`; whoever shows values drops the
device's values on it) and is retried with exponential backoff while the others keep their
schedule; it is ON again only after a real answer, published before that answer's
:class:`Sample`. A Sample carries values, never a state. Any I/O error on the bus itself
(unplugged adapter, TCP reset) closes the transport, marks the gateway and its devices
Communication error and reconnects with backoff; nothing stops for good. The reconnect
delay doubles (with jitter) up to ``reconnect_max_s`` and starts over only once a
connection stayed up ``reconnect_stable_s``: a gateway that accepts, then closes at once,
is reconnected a couple of times a minute, not thousands.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from ews_tui.domain.events import (
    DeviceState,
    DeviceStateChanged,
    GatewayState,
    GatewayStateChanged,
    Sample,
)
from ews_tui.hub import Publisher
from ews_tui.modbus.device_reader import DeviceReader, DeviceTarget, Values
from ews_tui.modbus.planner import BusParams, CostModel, PollClass
from ews_tui.modbus.transport import (
    BusTransport,
    Disconnected,
    Failure,
    FrameError,
    NoAnswer,
    ReadResult,
    TcpEndpoint,
)
from ews_tui.supervision import Supervisor

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[BusTransport], Awaitable[T]]


@dataclass(frozen=True)
class PollSettings:
    fast_s: float = 1.0
    slow_s: float = 60.0
    retries: int = 1
    backoff_start_s: float = 1.0
    backoff_max_s: float = 30.0
    reconnect_start_s: float = 0.2
    reconnect_max_s: float = 30.0
    # A connection must stay up this long before the reconnect delay starts over.
    reconnect_stable_s: float = 60.0
    # Paced jobs (the gateway server's reads) that delay a due device may take at most this
    # share of the bus time; in the bus's idle time they are free.
    job_share: float = 0.1


@dataclass(frozen=True)
class PollerStats:
    cycles: int
    transactions: int
    last_cycle_s: float


_BOTH: tuple[PollClass, ...] = ("fast", "slow")
_FAST: tuple[PollClass, ...] = ("fast",)
_SLOW: tuple[PollClass, ...] = ("slow",)


class _Slot:
    """One device's schedule and state, touched only by the poller task."""

    def __init__(self, target: DeviceTarget, bus: BusParams, now: float) -> None:
        self.target = target
        self.reader = DeviceReader(target, bus)
        self.next_fast = now
        self.next_slow = now
        self.state: DeviceState | None = None
        self.retry_at = 0.0
        self.backoff_s = 0.0
        self.has_fast = self.reader.has_class("fast")
        self.has_slow = self.reader.has_class("slow")

    def due(self, now: float) -> tuple[PollClass, ...]:
        if self.state is DeviceState.COMM_ERROR:
            return _BOTH if now >= self.retry_at else ()
        fast = self.has_fast and now >= self.next_fast
        if self.has_slow and now >= self.next_slow:
            return _BOTH if fast else _SLOW
        return _FAST if fast else ()

    def next_time(self) -> float:
        if self.state is DeviceState.COMM_ERROR:
            return self.retry_at
        if self.has_fast:
            return min(self.next_fast, self.next_slow) if self.has_slow else self.next_fast
        return self.next_slow if self.has_slow else float("inf")


class _JobPacer:
    """When a paced job may take the bus (the gateway-request policy, in one place).

    - In the idle time before the next due poll, a job runs when its cost still fits (the
      wire time of a read of a unit that answers; a probe of another adds the line's
      timeout, twice on RS485 for the silence after it); it then delays no device. While
      one waits, devices due sooner than it would take are polled at once (see
      :meth:`BusPoller._pull_forward`), so the idle time gathers after the last poll.
    - A job that waited a fast period runs in the idle time even if it does not fit: the
      devices due after it are late by the overrun only.
    - On a saturated bus (no idle time) it runs before a due device poll, at most one
      between two polls: after a fast period when the bucket below holds its cost, after
      two otherwise (a probe of an absent unit).
    Outside a fitting idle time, jobs take the bus only while they have used less than
    ``job_share`` of its time (a bucket refilled at that rate, holding at most the share of
    one fast period, or of a second): their time before a device, their overrun after it.
    """

    def __init__(self, settings: PollSettings, now: float) -> None:
        self._share = settings.job_share
        self._cap = settings.job_share * max(settings.fast_s, 1.0)
        self.wait_s = settings.fast_s
        self._tokens = self._cap
        self._refilled = now

    def _refill(self, now: float) -> None:
        self._tokens = min(self._cap, self._tokens + self._share * (now - self._refilled))
        self._refilled = now

    def may_run_idle(self, now: float, queued_at: float, next_due: float, cost_s: float) -> bool:
        """A job may run now, with no device due."""
        if next_due - now >= cost_s:
            return True
        self._refill(now)
        return next_due > now and now - queued_at >= self.wait_s and self._tokens > 0

    def may_cut_in(self, now: float, queued_at: float, cost_s: float) -> bool:
        """A job may run before a due device poll."""
        self._refill(now)
        wait_s = self.wait_s if cost_s <= self._tokens else 2 * self.wait_s
        return now - queued_at >= wait_s and self._tokens > 0

    def charge(self, now: float, seconds: float) -> None:
        self._refill(now)
        self._tokens -= max(0.0, seconds)


class BusPoller:
    """Polls the devices of one bus (the Local RS485 line or one IP gateway)."""

    def __init__(
        self,
        gateway_id: int,
        transport: BusTransport,
        hub: Publisher,
        targets: Iterable[DeviceTarget] = (),
        *,
        bus: BusParams | None = None,
        settings: PollSettings | None = None,
        supervisor: Supervisor | None = None,
    ) -> None:
        self.gateway_id = gateway_id
        self._supervisor = supervisor or Supervisor(hub)
        self.transport = transport
        self.hub = hub
        self.bus = bus or BusParams()
        self.settings = settings or PollSettings()
        self._loop_time = time.monotonic
        self._random = random.Random()
        self._connects = 0
        self._slots: dict[int, _Slot] = {}
        # (job, its answer, when it was queued), oldest first: the UI's, then the paced ones
        self._jobs: deque[tuple[Job[Any], asyncio.Future[Any], float]] = deque()
        # (job, its answer, when it was queued, the bus time it may take)
        self._paced: deque[tuple[Job[Any], asyncio.Future[Any], float, float]] = deque()
        self._answered: set[int] = set()  # addresses whose last paced read was answered
        self._pacer = _JobPacer(self.settings, self._loop_time())
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._gateway_state: GatewayState | None = None
        self._cycles = 0
        self._transactions = 0
        self._last_cycle_s = 0.0
        self._silent_polls = 0  # device polls in a row that got no valid answer
        self._stopping = False
        self.set_targets(targets)

    # ------------------------------------------------------------------ public

    @property
    def name(self) -> str:
        return f"poller-{self.gateway_id}"

    @property
    def connects(self) -> int:
        """How many connections to the bus were opened (the reconnect backoff's count)."""
        return self._connects

    @property
    def stats(self) -> PollerStats:
        return PollerStats(self._cycles, self._transactions, self._last_cycle_s)

    def device_state(self, device_id: int) -> DeviceState | None:
        slot = self._slots.get(device_id)
        return slot.state if slot else None

    def set_targets(self, targets: Iterable[DeviceTarget]) -> None:
        """Poll these devices from now on; unchanged devices keep their state and plans."""
        now = self._loop_time()
        slots: dict[int, _Slot] = {}
        for target in targets:
            old = self._slots.get(target.device_id)
            slots[target.device_id] = (
                old if old is not None and old.target == target else _Slot(target, self.bus, now)
            )
        self._slots = slots
        self._wake.set()

    async def start(self) -> None:
        if self._task is None:
            self._task = self._supervisor.supervise(self.name, self._run).task

    async def stop(self) -> None:
        task, self._task = self._task, None
        self._stopping = True
        self._wake.set()
        while task is not None and not task.done():
            # A job (any awaitable a caller submitted) may swallow a cancellation; the
            # flag ends the loop at its next step in that case.
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)
        if task is not None and not task.cancelled() and task.exception() is not None:
            log.error("bus %s: poller failed", self.transport.name, exc_info=task.exception())
        self._fail_jobs(Disconnected(self.transport.name, "poller stopped"))
        await self.transport.close()

    async def submit(self, job: Job[T], *, paced: bool = False, cost_s: float | None = None) -> T:
        """Run ``job(transport)`` on the poller task between two device polls; ``paced``
        jobs (an outside client's) only when :class:`_JobPacer` lets them, counting that
        they take ``cost_s`` of bus time (by default: a read that times out).

        When the bus is not connected the job is answered with :class:`Disconnected`
        without running (for jobs that return a :data:`ReadResult`).
        """
        if self._task is None:
            return Disconnected(self.transport.name, "poller stopped")  # type: ignore[return-value]
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        now = self._loop_time()
        if paced:
            cost = self.transport.endpoint.timeout_s if cost_s is None else cost_s
            self._paced.append((job, future, now, cost))
        else:
            self._jobs.append((job, future, now))
        self._wake.set()
        return await future

    async def read(
        self, fc: int, address: int, start: int, count: int, *, paced: bool = False
    ) -> ReadResult:
        """One raw read queued between device polls (``paced``: see :meth:`submit`)."""

        async def job(transport: BusTransport) -> ReadResult:
            return await transport.read(fc, address, start, count)

        if not paced:
            return await self.submit(job)
        # Its wire time for a unit that answers; a probe of another may wait its timeout,
        # and on RS485 the line's silence after it (a late answer may still come).
        cost = CostModel(self.bus).transaction_s(count)
        if address not in self._answered and not self._polled_and_on(address):
            timeout = self.transport.endpoint.timeout_s
            cost += timeout if isinstance(self.transport.endpoint, TcpEndpoint) else 2 * timeout
        result = await self.submit(job, paced=True, cost_s=cost)
        if isinstance(result, tuple):
            self._answered.add(address)
        else:
            self._answered.discard(address)
        return result

    def _polled_and_on(self, address: int) -> bool:
        return any(
            s.target.address == address and s.state is DeviceState.ON for s in self._slots.values()
        )

    async def read_device(self, target: DeviceTarget) -> Values | Failure:
        """Read every quantity of ``target`` once (the Test button; any device, saved or not)."""
        reader = DeviceReader(target, self.bus)
        return await self.submit(lambda transport: reader.read(transport.read))

    # ------------------------------------------------------------------ the task

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self._connect_and_poll()
            except Exception:  # a bug must not end polling for good: log, pause, go on
                log.exception("bus %s: poller error; restarting it", self.transport.name)
                await self.transport.close()
                self._bus_down(Disconnected(self.transport.name, "internal error"))
                await self._idle(self._loop_time() + self.settings.reconnect_max_s)

    def _stopped(self) -> bool:
        """Whether stop() was called (a call: it changes across awaits, unlike a narrowed
        attribute)."""
        return self._stopping

    def _jittered(self, delay: float) -> float:
        """Half to all of ``delay``: pollers that lost a gateway together spread out."""
        return delay * (0.5 + 0.5 * self._random.random())

    async def _connect_and_poll(self) -> None:
        delay = self.settings.reconnect_start_s
        while not self._stopping:
            failure = await self.transport.connect()
            if failure is not None:
                if self._stopped():
                    break
                wait = self._jittered(delay)
                log.warning("bus %s: %s; retry in %.1f s", self.transport.name, failure, wait)
                self._bus_down(failure)
                await self._idle(self._loop_time() + wait, answer_jobs_with=failure)
                delay = min(delay * 2, self.settings.reconnect_max_s)
                continue
            self._connects += 1
            up_at = self._loop_time()
            self._silent_polls = 0
            self._set_gateway(GatewayState.ON, "")
            for slot in self._slots.values():
                if slot.state is DeviceState.COMM_ERROR:
                    slot.retry_at = 0.0  # try them now, the bus is back
            lost = await self._poll_while_connected()
            await self.transport.close()
            if self._stopped():
                break
            self._bus_down(lost)
            if self._loop_time() - up_at >= self.settings.reconnect_stable_s:
                delay = self.settings.reconnect_start_s  # it was a real outage: back soon
            wait = self._jittered(delay)
            log.warning("bus %s: %s; reconnect in %.1f s", self.transport.name, lost, wait)
            await self._idle(self._loop_time() + wait, answer_jobs_with=lost)
            delay = min(delay * 2, self.settings.reconnect_max_s)
        await self.transport.close()

    async def _poll_while_connected(self) -> Disconnected:
        while not self._stopping:
            started = self._loop_time()
            polled = 0
            for slot in list(self._slots.values()):
                if self._stopped():
                    break
                if self._slots.get(slot.target.device_id) is not slot:
                    continue  # removed by set_targets meanwhile
                ahead = self._pull_forward() if self._paced else 0.0
                classes = slot.due(self._loop_time() + ahead)
                if not classes:
                    continue
                if self._jobs or self._paced:
                    lost = await self._run_jobs(cut_in=True)
                    if lost is not None:
                        return lost
                outcome = await self._poll(slot, classes)
                polled += 1
                if isinstance(outcome, Failure):
                    if isinstance(outcome, Disconnected):
                        return outcome
                    if self._half_open():
                        return Disconnected(self.transport.name, "no device answers: reconnecting")
            if self._jobs or self._paced:
                lost = await self._run_jobs(cut_in=False)
                if lost is not None:
                    return lost
            if polled:
                self._cycles += 1
                self._last_cycle_s = self._loop_time() - started
                continue
            # Jobs that do not fit before the next poll wait for it: only a new job (or a
            # change of targets) wakes the task before then.
            await self._idle(self._next_due(), wake_on_queued=not self._paced)
        return Disconnected(self.transport.name, "poller stopped")

    def _half_open(self) -> bool:
        """A TCP connection on which nothing answered for a while may be dead on the far
        side (a gateway restarted behind a NAT, a half-open socket): reconnect it."""
        if not isinstance(self.transport.endpoint, TcpEndpoint):
            return False
        return self._silent_polls >= max(2, len(self._slots) + 1)

    async def _idle(
        self, until: float, answer_jobs_with: Failure | None = None, *, wake_on_queued: bool = True
    ) -> None:
        """Wait until ``until`` or a job; answer jobs meanwhile when the bus is down."""
        while not self._stopping:
            if answer_jobs_with is not None:
                self._fail_jobs(answer_jobs_with)
            elif self._jobs or (wake_on_queued and self._paced):
                return
            timeout = until - self._loop_time()
            if timeout <= 0:
                return
            self._wake.clear()
            try:
                async with asyncio.timeout(min(timeout, 3600.0)):
                    await self._wake.wait()
            except TimeoutError:
                return
            if answer_jobs_with is None:
                return

    def _pull_forward(self) -> float:
        """How early devices are polled: while a paced job waits for idle time that fits, a
        device due sooner than the job would take is polled now, not after a gap too short
        to use. The idle time gathers after the last poll, and polls come early, never late.
        """
        if not self._paced:
            return 0.0
        _job, _future, queued_at, cost = self._paced[0]
        now = self._loop_time()
        if cost >= self.settings.fast_s or now - queued_at >= self._pacer.wait_s:
            return 0.0  # it cannot fit, or has waited enough: it runs at the next idle time
        return cost if self._next_due() - now < cost else 0.0

    def _next_due(self) -> float:
        return min((s.next_time() for s in self._slots.values()), default=float("inf"))

    async def _run_jobs(self, *, cut_in: bool) -> Disconnected | None:
        """Run the UI's queued jobs, then the paced ones :class:`_JobPacer` lets through: at
        most one before a due device poll (``cut_in``), as many as fit in the idle time
        otherwise."""
        while self._jobs:
            job, future, _queued = self._jobs.popleft()
            lost = await self._run_job(job, future)
            if lost is not None:
                return lost
        while self._paced:
            job, future, queued_at, cost = self._paced[0]
            now = self._loop_time()
            if not future.done() and not (
                self._pacer.may_cut_in(now, queued_at, cost)
                if cut_in
                else self._pacer.may_run_idle(now, queued_at, self._next_due(), cost)
            ):
                return None
            self._paced.popleft()
            if future.done():
                continue
            next_due = self._next_due()
            try:
                lost = await self._run_job(job, future)
            finally:
                ended = self._loop_time()
                self._pacer.charge(ended, ended - now if cut_in else ended - next_due)
            if lost is not None or cut_in:
                return lost
        return None

    async def _run_job(self, job: Job[Any], future: asyncio.Future[Any]) -> Disconnected | None:
        if future.done():
            return None
        try:
            result = await job(self.transport)
        except Exception as exc:  # a job's bug must not kill the bus
            future.set_exception(exc)
            return None
        except BaseException:  # cancelled while running: the poller is stopping
            if not future.done():
                future.set_result(Disconnected(self.transport.name, "poller stopped"))
            raise
        if not future.done():
            future.set_result(result)
        if isinstance(result, Disconnected):
            return result
        if not self.transport.connected:
            return Disconnected(self.transport.name, "connection lost")
        return None

    def _fail_jobs(self, failure: Failure) -> None:
        while self._jobs:
            future = self._jobs.popleft()[1]
            if not future.done():
                future.set_result(failure)
        while self._paced:
            future = self._paced.popleft()[1]
            if not future.done():
                future.set_result(failure)

    async def _poll(self, slot: _Slot, classes: tuple[PollClass, ...]) -> Values | Failure:
        started = self._loop_time()
        attempts = 1 if slot.state is DeviceState.COMM_ERROR else 1 + self.settings.retries
        reader, read = slot.reader, self.transport.read
        sent = reader.requests
        try:
            outcome = await reader.read(read, classes)
            while attempts > 1 and isinstance(outcome, Failure):
                if isinstance(outcome, Disconnected):
                    break
                attempts -= 1
                outcome = await reader.read(read, classes)
        finally:
            self._transactions += reader.requests - sent
        if isinstance(outcome, Failure):
            if isinstance(outcome, Disconnected):
                return outcome
            if isinstance(outcome, NoAnswer | FrameError):
                self._silent_polls += 1
            self._device_failed(slot, outcome)
            return outcome
        self._silent_polls = 0
        settings = self.settings
        if classes is _BOTH:
            slot.next_fast = started + settings.fast_s
            slot.next_slow = started + settings.slow_s
        else:
            if "fast" in classes:
                slot.next_fast = started + settings.fast_s
            if "slow" in classes:
                slot.next_slow = started + settings.slow_s
        slot.backoff_s = 0.0
        if slot.state is not DeviceState.ON:
            self._set_device(slot, DeviceState.ON, "")
        self.hub.publish(Sample(slot.target.device_id, time.time(), outcome))
        return outcome

    def _device_failed(self, slot: _Slot, failure: Failure) -> None:
        start = self.settings.backoff_start_s
        slot.backoff_s = min(
            slot.backoff_s * 2 if slot.backoff_s else start, self.settings.backoff_max_s
        )
        slot.retry_at = self._loop_time() + slot.backoff_s
        log.info("device %d: %s; retry in %.1f s", slot.target.device_id, failure, slot.backoff_s)
        self._set_device(slot, DeviceState.COMM_ERROR, str(failure))

    def _bus_down(self, failure: Failure) -> None:
        self._set_gateway(GatewayState.COMM_ERROR, str(failure))
        for slot in self._slots.values():
            slot.retry_at = 0.0
            self._set_device(slot, DeviceState.COMM_ERROR, str(failure))

    def _set_device(self, slot: _Slot, state: DeviceState, detail: str) -> None:
        if slot.state is state:
            return
        slot.state = state
        device_id = slot.target.device_id
        self.hub.publish(DeviceStateChanged(device_id, state, detail))

    def _set_gateway(self, state: GatewayState, detail: str) -> None:
        if self._gateway_state is not state:
            self._gateway_state = state
            self.hub.publish(GatewayStateChanged(self.gateway_id, state, detail))
