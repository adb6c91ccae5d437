"""The Modbus TCP gateway server, read by a real pymodbus client over loopback."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator

import pytest
from pymodbus.client import AsyncModbusTcpClient

from ews_tui.modbus.gateway_server import GATEWAY_TARGET_FAILED, ModbusGatewayServer

DEVICES = {5: {0x10 + i: 100 + i for i in range(20)}}
calls: list[tuple[int, int, int, int]] = []


async def forward(fc: int, unit: int, start: int, count: int) -> list[int] | int:
    calls.append((fc, unit, start, count))
    registers = DEVICES.get(unit)
    if registers is None:
        await asyncio.sleep(0)  # the bus poller would wait for its timeout here
        return GATEWAY_TARGET_FAILED
    if any(start + i not in registers for i in range(count)):
        return 0x02
    return [registers[start + i] for i in range(count)]


@pytest.fixture
async def server() -> AsyncIterator[ModbusGatewayServer]:
    calls.clear()
    srv = ModbusGatewayServer("127.0.0.1", 0, forward)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def client(server: ModbusGatewayServer) -> AsyncIterator[AsyncModbusTcpClient]:
    cli = AsyncModbusTcpClient("127.0.0.1", port=server.bound_port, timeout=2, retries=0)
    await cli.connect()
    try:
        yield cli
    finally:
        cli.close()


async def test_reads_are_forwarded(client: AsyncModbusTcpClient) -> None:
    result = await client.read_holding_registers(0x12, count=3, device_id=5)
    assert not result.isError()
    assert result.registers == [102, 103, 104]
    result = await client.read_input_registers(0x10, count=1, device_id=5)
    assert result.registers == [100]
    assert calls == [(3, 5, 0x12, 3), (4, 5, 0x10, 1)]


async def test_silent_device_gives_0x0b(client: AsyncModbusTcpClient) -> None:
    result = await client.read_holding_registers(0, count=2, device_id=9)
    assert result.isError()
    assert result.exception_code == GATEWAY_TARGET_FAILED


async def test_device_exception_is_passed_on(client: AsyncModbusTcpClient) -> None:
    result = await client.read_holding_registers(0x100, count=2, device_id=5)
    assert result.isError() and result.exception_code == 0x02


async def test_unsupported_function_and_bad_count(server: ModbusGatewayServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
    try:
        # fc 6 (write single register) is not bridged: illegal function.
        writer.write(struct.pack(">HHHBBHH", 1, 0, 6, 5, 6, 0x10, 1))
        assert await reader.readexactly(9) == struct.pack(">HHHBBB", 1, 0, 3, 5, 0x86, 1)
        # 126 registers: illegal data value, nothing forwarded.
        writer.write(struct.pack(">HHHBBHH", 2, 0, 6, 5, 3, 0, 126))
        assert await reader.readexactly(9) == struct.pack(">HHHBBB", 2, 0, 3, 5, 0x83, 3)
        assert calls == []
        # A bad MBAP header closes the connection; the server keeps running.
        writer.write(struct.pack(">HHHB", 3, 7, 6, 5) + b"\x03\x00\x00\x00\x01")
        assert await reader.read() == b""
    finally:
        writer.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
    writer.write(struct.pack(">HHHBBHH", 4, 0, 6, 5, 3, 0x10, 1))
    assert await reader.readexactly(11) == struct.pack(">HHHBBBH", 4, 0, 5, 5, 3, 2, 100)
    writer.close()


async def test_out_of_descriptors_pauses_accepting_then_serves(
    server: ModbusGatewayServer, caplog: pytest.LogCaptureFixture
) -> None:
    import os
    import resource
    import socket

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    highest = max(int(fd) for fd in os.listdir("/proc/self/fd"))
    fillers: list[int] = []
    client = None
    resource.setrlimit(resource.RLIMIT_NOFILE, (highest + 20, hard))
    try:
        while True:  # every descriptor taken ...
            try:
                fillers.append(os.open(os.devnull, os.O_RDONLY))
            except OSError:
                break
        os.close(fillers.pop())  # ... but one, for the client: the server has none left
        client = socket.create_connection(("127.0.0.1", server.bound_port))
        client.setblocking(False)
        for _ in range(500):  # the accept fails; bounded: 5 s
            if server.accept_pauses:
                break
            await asyncio.sleep(0.01)
        assert server.accept_pauses >= 1
    finally:
        for fd in fillers:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        loop = asyncio.get_running_loop()
        request = struct.pack(">HHHBBHH", 1, 0, 6, 5, 3, 0x12, 1)
        await loop.sock_sendall(client, request)
        answer = await asyncio.wait_for(loop.sock_recv(client, 64), 10.0)  # served after the pause
        assert answer == struct.pack(">HHHBBBH", 1, 0, 5, 5, 3, 2, 102)
    finally:
        client.close()
    lines = [r for r in caplog.records if "cannot accept a client" in r.getMessage()]
    # One line a pause (not asyncio's 100 a wake-up), each pause longer than the one before.
    assert 1 <= len(lines) == server.accept_pauses <= 10
