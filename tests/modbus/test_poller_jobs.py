"""Queued jobs (the gateway server's reads, the Test button) against the poller's own
polling: a job never takes the bus for long before a due device poll."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from ews_tui.hub import Hub
from ews_tui.modbus.device_reader import DeviceTarget
from ews_tui.modbus.planner import BusParams
from ews_tui.modbus.poller import BusPoller, PollSettings
from ews_tui.modbus.transport import BusTransport, ReadResult, TcpEndpoint
from ews_tui.sim.server import DeviceSpec, SimulatedBus
from tests.modbus.test_poller import EMDX3, target

POLLED = 5  # the address the poller polls
ASKED = 8  # the address the jobs read


class RecordingTransport(BusTransport):
    """The real transport, noting who each request was for, in order."""

    def __init__(self, endpoint: TcpEndpoint) -> None:
        super().__init__(endpoint)
        self.log: list[str] = []
        self.times: list[float] = []  # the poller's clock (monotonic) at each request

    async def read(self, fc: int, address: int, start: int, count: int) -> ReadResult:
        self.log.append("job" if address == ASKED else "poll")
        self.times.append(time.monotonic())
        return await super().read(fc, address, start, count)


@pytest.fixture
async def port() -> AsyncIterator[int]:
    async with SimulatedBus() as sim:
        endpoint = await sim.serve_tcp(
            "127.0.0.1", 0, [DeviceSpec(POLLED, "0 146 68"), DeviceSpec(ASKED, "0 146 68")]
        )
        yield endpoint.port


def poller_on(port: int, settings: PollSettings, timeout_s: float) -> BusPoller:
    transport = RecordingTransport(TcpEndpoint("127.0.0.1", port, timeout_s))
    targets: list[DeviceTarget] = [target(1, POLLED, EMDX3)]
    return BusPoller(
        2, transport, Hub(), targets, bus=BusParams(transport="tcp"), settings=settings
    )


def log_of(poller: BusPoller) -> list[str]:
    assert isinstance(poller.transport, RecordingTransport)
    return poller.transport.log


async def test_on_a_saturated_bus_one_job_at_most_between_two_polls(port: int) -> None:
    # fast_s=0: the device is always due, the bus has no idle time at all.
    poller = poller_on(port, PollSettings(fast_s=0.0, slow_s=0.0), timeout_s=1.0)
    await poller.start()
    try:
        reads = (poller.read(3, ASKED, 0xC558, 2, paced=True) for _ in range(20))
        answers = await asyncio.gather(*reads)
    finally:
        await poller.stop()
    assert all(isinstance(a, tuple) and len(a) == 2 for a in answers)  # every job served
    log = log_of(poller)
    assert log.count("job") == 20
    assert "job,job" not in ",".join(log)  # never two in a row: polls go on between them
    first, last = log.index("job"), len(log) - 1 - log[::-1].index("job")
    polls_during = log[first:last].count("poll")
    assert polls_during >= 19


async def test_a_job_that_cannot_fit_waits_a_period_then_takes_the_idle_time(port: int) -> None:
    # The line's timeout (5 s) is longer than the idle time (fast_s=1 s): the job could
    # delay the next poll. It waits a fast period, then runs right after a poll, in the idle
    # time, never just before a due poll.
    poller = poller_on(port, PollSettings(fast_s=1.0, slow_s=1.0), timeout_s=5.0)
    await poller.start()
    try:
        while "poll" not in log_of(poller):
            await asyncio.sleep(0.01)
        queued = time.monotonic()
        answer = await poller.read(3, ASKED, 0xC558, 2, paced=True)
        assert isinstance(answer, tuple)
        while log_of(poller)[-1] == "job":
            await asyncio.sleep(0.01)
    finally:
        await poller.stop()
    log = log_of(poller)
    assert isinstance(poller.transport, RecordingTransport)
    times = poller.transport.times
    job_at = log.index("job")
    assert log[job_at - 1] == "poll" and log[job_at + 1] == "poll"
    # The loop's timers may fire up to its clock resolution early (0.9996 s was seen).
    early = 0.01
    assert times[job_at] >= queued + 1.0 - early  # not at once, as an unpaced job would
    assert times[job_at + 1] >= times[job_at - 1] + 1.0 - early  # the next poll on its time


async def test_on_an_idle_bus_a_job_runs_at_once(port: int) -> None:
    # A long fast period and a short timeout: the job fits in the idle time.
    poller = poller_on(port, PollSettings(fast_s=60.0, slow_s=60.0), timeout_s=0.5)
    await poller.start()
    try:
        while "poll" not in log_of(poller):
            await asyncio.sleep(0.01)
        answers = [await poller.read(3, ASKED, 0xC558, 2, paced=True) for _ in range(3)]
    finally:
        await poller.stop()
    assert all(isinstance(a, tuple) for a in answers)
    assert log_of(poller) == ["poll"] * log_of(poller).count("poll") + ["job"] * 3
