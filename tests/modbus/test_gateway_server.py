"""The Modbus TCP gateway server (pymodbus), read by real clients over loopback: pymodbus's
client and the Debian ``mbpoll`` tool; abusive connections held by raw sockets."""

from __future__ import annotations

import asyncio
import shutil
import struct
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from pymodbus.client import AsyncModbusTcpClient

from ews_tui.modbus.failures import ExceptionCode, NoAnswer, ReadResult
from ews_tui.modbus.gateway_server import (
    GATEWAY_TARGET_FAILED,
    AbsentUnits,
    GatewayLimits,
    ModbusGatewayServer,
)

DEVICES = {5: {0x10 + i: 100 + i for i in range(20)}}
ABSENT = 9
calls: list[tuple[int, int, int, int]] = []


async def forward(fc: int, unit: int, start: int, count: int) -> ReadResult | int:
    calls.append((fc, unit, start, count))
    registers = DEVICES.get(unit)
    if registers is None:
        await asyncio.sleep(0.05)  # the bus poller would wait for its timeout here
        return NoAnswer(unit)
    if any(start + i not in registers for i in range(count)):
        return ExceptionCode(unit, 0x02)
    return tuple(registers[start + i] for i in range(count))


StartServer = Callable[[GatewayLimits], Awaitable[ModbusGatewayServer]]


@pytest.fixture
async def servers() -> AsyncIterator[StartServer]:
    started: list[ModbusGatewayServer] = []
    calls.clear()

    async def start(limits: GatewayLimits) -> ModbusGatewayServer:
        srv = ModbusGatewayServer("127.0.0.1", 0, forward, limits=limits)
        await srv.start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        await srv.stop()


@pytest.fixture
async def server(servers: StartServer) -> ModbusGatewayServer:
    return await servers(GatewayLimits())


@pytest.fixture
async def client(server: ModbusGatewayServer) -> AsyncIterator[AsyncModbusTcpClient]:
    cli = AsyncModbusTcpClient("127.0.0.1", port=server.bound_port, timeout=2, retries=0)
    await cli.connect()
    try:
        yield cli
    finally:
        cli.close()


def request(tid: int, unit: int, fc: int, start: int, count: int) -> bytes:
    return struct.pack(">HHHBBHH", tid, 0, 6, unit, fc, start, count)


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    """Whether the server closes this connection (bounded: 10 s)."""
    try:
        async with asyncio.timeout(10):
            return await reader.read() == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


async def mbpoll(port: int, *args: str) -> tuple[int, str]:
    if shutil.which("mbpoll") is None:
        pytest.fail("mbpoll is missing: run scripts/setup.sh as root (Debian package mbpoll)")
    proc = await asyncio.create_subprocess_exec(
        "mbpoll", "-m", "tcp", "-p", str(port), "-1", "-o", "2", *args, "127.0.0.1",
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


# ----------------------------------------------------------------------------- answers


async def test_reads_are_forwarded(client: AsyncModbusTcpClient) -> None:
    result = await client.read_holding_registers(0x12, count=3, device_id=5)
    assert not result.isError()
    assert result.registers == [102, 103, 104]
    result = await client.read_input_registers(0x10, count=1, device_id=5)
    assert result.registers == [100]
    assert calls == [(3, 5, 0x12, 3), (4, 5, 0x10, 1)]


async def test_mbpoll_reads_through_the_gateway(server: ModbusGatewayServer) -> None:
    code, out = await mbpoll(server.bound_port, "-a", "5", "-r", "19", "-c", "3", "-t", "4")
    assert code == 0, out
    assert "[19]: \t102" in out and "[21]: \t104" in out  # mbpoll counts from 1
    code, out = await mbpoll(server.bound_port, "-a", "5", "-0", "-r", "16", "-c", "2", "-t", "3")
    assert code == 0, out
    assert "[16]: \t100" in out and "[17]: \t101" in out
    code, out = await mbpoll(server.bound_port, "-a", str(ABSENT), "-r", "1")
    assert code != 0  # 0x0B: the target device failed to respond


async def test_silent_device_gives_0x0b(client: AsyncModbusTcpClient) -> None:
    result = await client.read_holding_registers(0, count=2, device_id=ABSENT)
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
        writer.write(request(2, 5, 3, 0, 126))
        assert await reader.readexactly(9) == struct.pack(">HHHBBB", 2, 0, 3, 5, 0x83, 3)
        assert calls == []
        # A bad MBAP header closes the connection; the server keeps running.
        writer.write(struct.pack(">HHHB", 3, 7, 6, 5) + b"\x03\x00\x00\x00\x01")
        assert await reader.read() == b""
    finally:
        writer.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
    writer.write(request(4, 5, 3, 0x10, 1))
    assert await reader.readexactly(11) == struct.pack(">HHHBBBH", 4, 0, 5, 5, 3, 2, 100)
    writer.close()


async def test_requests_sent_together_are_answered_in_turn(server: ModbusGatewayServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
    try:
        writer.write(
            request(1, 5, 3, 0x10, 1) + request(2, 5, 3, 0x11, 1) + request(3, 5, 4, 0x12, 1)
        )
        answers = [await reader.readexactly(11) for _ in range(3)]
    finally:
        writer.close()
    assert answers == [
        struct.pack(">HHHBBBH", 1, 0, 5, 5, 3, 2, 100),
        struct.pack(">HHHBBBH", 2, 0, 5, 5, 3, 2, 101),
        struct.pack(">HHHBBBH", 3, 0, 5, 5, 4, 2, 102),
    ]


# ----------------------------------------------------------------------------- absent units


async def test_clients_looping_on_an_absent_unit_are_answered_from_memory(
    server: ModbusGatewayServer,
) -> None:
    clients = [
        AsyncModbusTcpClient("127.0.0.1", port=server.bound_port, timeout=2, retries=0)
        for _ in range(4)
    ]
    for cli in clients:
        await cli.connect()

    async def loop(cli: AsyncModbusTcpClient) -> list[int]:
        codes = []
        for _ in range(10):
            result = await cli.read_holding_registers(0, count=1, device_id=ABSENT)
            codes.append(result.exception_code)
        return codes

    try:
        results = await asyncio.gather(*(loop(cli) for cli in clients))
        present = await clients[0].read_holding_registers(0x10, count=1, device_id=5)
    finally:
        for cli in clients:
            cli.close()
    assert all(code == GATEWAY_TARGET_FAILED for codes in results for code in codes)
    # One timeout on the bus; the other 39 answers came from memory.
    assert [c for c in calls if c[1] == ABSENT] == [(3, ABSENT, 0, 1)]
    assert server.stats.absent_answers == 39
    assert present.registers == [100]  # other units still go to the bus


async def test_a_unit_asked_by_a_client_that_left_is_still_remembered(
    server: ModbusGatewayServer,
) -> None:
    # A client whose timeout is shorter than the bus's turn leaves before the answer: the
    # probe goes on, and the next client is answered from memory, not by a second timeout.
    reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
    writer.write(request(1, ABSENT, 3, 0, 1))
    await until(lambda: any(c[1] == ABSENT for c in calls))
    writer.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
    try:
        writer.write(request(2, ABSENT, 3, 0, 1))
        assert await reader.readexactly(9) == struct.pack(">HHHBBB", 2, 0, 3, ABSENT, 0x83, 0x0B)
    finally:
        writer.close()
    assert [c for c in calls if c[1] == ABSENT] == [(3, ABSENT, 0, 1)]
    assert server.stats.absent_answers == 1


def test_an_absent_unit_is_remembered_for_a_while() -> None:
    now = [0.0]
    absent = AbsentUnits(30.0, lambda: now[0])
    assert ABSENT not in absent
    absent.remember(ABSENT)
    now[0] = 29.9
    assert ABSENT in absent and 5 not in absent
    now[0] = 30.0
    assert ABSENT not in absent  # asked again on the bus: it may have been plugged in


# ----------------------------------------------------------------------------- timeouts


async def test_an_idle_connection_is_closed(servers: StartServer) -> None:
    server = await servers(GatewayLimits(idle_timeout_s=0.2))
    reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
    try:
        writer.write(request(1, 5, 3, 0x10, 1))
        assert len(await reader.readexactly(11)) == 11  # a request, then nothing
        assert await closed_by_server(reader)
    finally:
        writer.close()
    assert server.stats.idle_closed == 1 and server.stats.read_closed == 0
    assert server.clients == 0


async def test_a_half_sent_frame_is_closed_after_the_read_timeout(servers: StartServer) -> None:
    # The idle timeout is long: only the read timeout can close it.
    server = await servers(GatewayLimits(idle_timeout_s=3600, read_timeout_s=0.2))
    reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
    try:
        # A header promising 254 bytes, then three of them, then nothing.
        writer.write(struct.pack(">HHHB", 1, 0, 254, 5) + b"\x03\x00\x00")
        assert await closed_by_server(reader)
    finally:
        writer.close()
    assert server.stats.read_closed == 1 and server.stats.idle_closed == 0


# ----------------------------------------------------------------------------- limits


async def hold(
    port: int, source: str, half_sent: bool
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    if half_sent:
        writer.write(struct.pack(">HHHB", 1, 0, 254, 5) + b"\x03")
        await writer.drain()
    return reader, writer


async def until(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not check():
            await asyncio.sleep(0.01)


async def test_sixteen_idle_and_half_sent_connections_do_not_lock_out_a_real_client(
    servers: StartServer,
) -> None:
    # Timeouts as long as the defaults: the limits alone must let the real client in.
    server = await servers(GatewayLimits(evict_idle_s=0.0))
    held = [
        await hold(server.bound_port, f"127.0.0.{10 + i}", half_sent=i % 2 == 1) for i in range(16)
    ]
    try:
        await until(lambda: server.clients == 16)
        code, out = await mbpoll(server.bound_port, "-a", "5", "-r", "17", "-c", "1")
        assert code == 0 and "[17]: \t100" in out, out
        cli = AsyncModbusTcpClient("127.0.0.1", port=server.bound_port, timeout=2, retries=0)
        await cli.connect()
        try:
            result = await cli.read_holding_registers(0x10, count=1, device_id=5)
        finally:
            cli.close()
        assert result.registers == [100]
    finally:
        for _reader, writer in held:
            writer.close()
    # mbpoll took the place of an idle connection (never a half-sent one); pymodbus's client
    # then the place mbpoll left.
    assert server.stats.evicted == 1 and server.stats.refused == 0
    assert await closed_by_server(held[0][0])  # the one idle the longest
    assert all(not reader.at_eof() for reader, _w in held[1:])


async def test_half_sent_connections_that_reconnect_leave_a_place_for_a_new_client(
    servers: StartServer,
) -> None:
    # No idle client to push out: eight connections each send half a frame, are closed after
    # the read timeout, and reconnect at once, again and again.
    limits = GatewayLimits(max_clients=8, read_timeout_s=0.1, evict_idle_s=3600)
    server = await servers(limits)
    stop = asyncio.Event()

    async def abuse(source: str) -> None:
        while not stop.is_set():
            reader, writer = await hold(server.bound_port, source, half_sent=True)
            try:
                await reader.read()
            except ConnectionError:
                pass
            finally:
                writer.close()

    abusers = [asyncio.ensure_future(abuse(f"127.0.0.{10 + i}")) for i in range(8)]
    try:
        await until(lambda: server.stats.read_closed >= 16)  # each cut, back, cut again
        # Reconnecting at once, they still get none of the last place: a new client does.
        code, out = await mbpoll(server.bound_port, "-a", "5", "-r", "17", "-c", "1")
        assert code == 0 and "[17]: \t100" in out, out
        assert server.clients <= limits.max_clients
    finally:
        stop.set()
        for task in abusers:
            task.cancel()
        await asyncio.gather(*abusers, return_exceptions=True)
    assert server.stats.refused > 0  # they were refused meanwhile, never queued


async def test_beyond_the_limits_a_connection_is_closed_at_once(servers: StartServer) -> None:
    limits = GatewayLimits(max_clients=4, max_clients_per_source=2, evict_idle_s=3600)
    server = await servers(limits)
    held = [await hold(server.bound_port, "127.0.0.2", half_sent=False) for _ in range(2)]
    try:
        await until(lambda: server.clients == 2)
        # A third from the same address: closed without a byte read.
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", server.bound_port, local_addr=("127.0.0.2", 0)
        )
        assert await closed_by_server(reader)
        writer.close()
        assert server.stats.refused == 1
        held += [
            await hold(server.bound_port, f"127.0.0.{3 + i}", half_sent=False) for i in range(2)
        ]
        await until(lambda: server.clients == 4)
        # A fifth from anywhere: the total limit.
        reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
        assert await closed_by_server(reader)
        writer.close()
        assert server.stats.refused == 2
        # The clients already in are still served.
        reader, writer = held[0]
        writer.write(request(1, 5, 3, 0x10, 1))
        assert await reader.readexactly(11) == struct.pack(">HHHBBBH", 1, 0, 5, 5, 3, 2, 100)
    finally:
        for _reader, writer in held:
            writer.close()


async def test_a_client_pushed_out_for_idling_does_not_push_out_another(
    servers: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    server = await servers(GatewayLimits(max_clients=2, evict_idle_s=0.0))
    held = [await hold(server.bound_port, f"127.0.0.{2 + i}", half_sent=False) for i in range(2)]
    try:
        await until(lambda: server.clients == 2)
        newcomer = await hold(server.bound_port, "127.0.0.9", half_sent=False)
        held.append(newcomer)
        await until(lambda: server.stats.evicted == 1)
        assert await closed_by_server(held[0][0])  # idle the longest
        # It comes back, again and again: the server is full, it takes nobody's place.
        for _ in range(3):
            reader, writer = await hold(server.bound_port, "127.0.0.2", half_sent=False)
            assert await closed_by_server(reader)
            writer.close()
        assert server.stats.evicted == 1 and server.stats.refused == 3
        reader, writer = held[2]  # the newcomer is served
        writer.write(request(1, 5, 3, 0x10, 1))
        assert await reader.readexactly(11) == struct.pack(">HHHBBBH", 1, 0, 5, 5, 3, 2, 100)
    finally:
        for _reader, writer in held:
            writer.close()
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 1  # one line a minute per address, not one per attempt


# ----------------------------------------------------------------------------- accepting


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
        await loop.sock_sendall(client, request(1, 5, 3, 0x12, 1))
        answer = await asyncio.wait_for(loop.sock_recv(client, 64), 10.0)  # served after the pause
        assert answer == struct.pack(">HHHBBBH", 1, 0, 5, 5, 3, 2, 102)
    finally:
        client.close()
    lines = [r for r in caplog.records if "cannot accept a client" in r.getMessage()]
    # One line a pause (not asyncio's 100 a wake-up), each pause longer than the one before.
    assert 1 <= len(lines) == server.accept_pauses <= 10
