"""Fixtures that start the real device simulator (TCP on loopback, RTU on a pty pair).

Use them from a test module or a conftest::

    from tests.sim.fixtures import *  # noqa: F403

- ``sim_clock``: a settable clock (epoch seconds) frozen at ``FIXED_NOW``: values do not move.
- ``sim_bus``: a started :class:`SimulatedBus` on that clock, closed after the test.
- ``sim_tcp``: ``await sim_tcp(devices, wire_time=False)`` -> an Endpoint on 127.0.0.1:<free>.
- ``pty_pair``: a raw ``os.openpty`` pair (serve ``.server_fd``, clients open ``.path``).
- ``sim_rtu``: ``await sim_rtu(devices, settings=None, wire_time=False)`` -> (Endpoint, path).
- ``socat_pty_pair``: two linked pty paths made by ``socat`` (skipped when socat is missing).
- ``tcp_client`` / ``rtu_client``: pymodbus async clients, connected, closed after use.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass

import pytest
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient

from ews_tui.modbus.serial_line import LineSettings
from ews_tui.sim.server import DeviceSpec, Endpoint, PtyPair, SimulatedBus, open_pty_pair

__all__ = [
    "FIXED_NOW",
    "HOST",
    "SimClock",
    "pty_pair",
    "rtu_client",
    "sim_bus",
    "sim_clock",
    "sim_rtu",
    "sim_tcp",
    "socat_pty_pair",
    "tcp_client",
]

FIXED_NOW = 1_767_261_600.0 + 11 * 3600  # 2026-01-01 11:00 UTC: offices at work
HOST = "127.0.0.1"


@dataclass
class SimClock:
    """A clock the test moves by hand."""

    now: float = FIXED_NOW

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def sim_clock() -> SimClock:
    return SimClock()


@pytest.fixture
async def sim_bus(sim_clock: SimClock) -> AsyncIterator[SimulatedBus]:
    async with SimulatedBus(seed=1, clock=sim_clock, utc_offset_s=0.0, tick=0.0) as bus:
        yield bus


@pytest.fixture
def sim_tcp(sim_bus: SimulatedBus) -> Callable[..., Awaitable[Endpoint]]:
    async def start(devices: Iterable[DeviceSpec], *, wire_time: bool = False) -> Endpoint:
        return await sim_bus.serve_tcp(HOST, 0, devices, wire_time=wire_time)

    return start


@pytest.fixture
def pty_pair() -> Iterator[PtyPair]:
    pair = open_pty_pair()
    yield pair
    pair.close()


@pytest.fixture
def sim_rtu(
    sim_bus: SimulatedBus, pty_pair: PtyPair
) -> Callable[..., Awaitable[tuple[Endpoint, str]]]:
    async def start(
        devices: Iterable[DeviceSpec],
        *,
        settings: LineSettings | None = None,
        wire_time: bool = False,
    ) -> tuple[Endpoint, str]:
        line = settings or LineSettings(pty_pair.path, 19200, "E", 1)
        endpoint = await sim_bus.serve_rtu(pty_pair.server_fd, line, devices, wire_time=wire_time)
        return endpoint, pty_pair.path

    return start


@pytest.fixture
async def socat_pty_pair() -> AsyncIterator[tuple[str, str]]:
    """Two pty paths joined by ``socat`` (what a user does to try RTU without hardware)."""
    if shutil.which("socat") is None:
        pytest.skip("socat is not installed (scripts/setup.sh installs it)")
    proc = await asyncio.create_subprocess_exec(
        "socat",
        "-d",
        "-d",
        "pty,raw,echo=0",
        "pty,raw,echo=0",
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    paths: list[str] = []
    try:
        while len(paths) < 2:
            line = await asyncio.wait_for(proc.stderr.readline(), 5.0)
            if not line:
                raise RuntimeError("socat stopped before making its ptys")
            if match := re.search(rb"PTY is (\S+)", line):
                paths.append(match[1].decode())
        yield paths[0], paths[1]
    finally:
        proc.terminate()
        with contextlib.suppress(ProcessLookupError):
            await asyncio.wait_for(proc.wait(), 5.0)


@contextlib.asynccontextmanager
async def tcp_client(
    endpoint: Endpoint, timeout: float = 0.5, **kwargs: object
) -> AsyncIterator[AsyncModbusTcpClient]:
    client = AsyncModbusTcpClient(
        HOST, port=endpoint.port or 0, timeout=timeout, retries=0, **kwargs
    )  # type: ignore[arg-type]
    assert await client.connect(), f"cannot connect to {HOST}:{endpoint.port}"
    try:
        yield client
    finally:
        client.close()


@contextlib.asynccontextmanager
async def rtu_client(
    path: str, timeout: float = 0.5, baudrate: int = 19200, **kwargs: object
) -> AsyncIterator[AsyncModbusSerialClient]:
    client = AsyncModbusSerialClient(
        path, baudrate=baudrate, parity="N", timeout=timeout, retries=0, **kwargs
    )  # type: ignore[arg-type]
    assert await client.connect(), f"cannot open {path}"
    try:
        yield client
    finally:
        client.close()
