"""``ews serve`` as a subprocess: it starts, serves SSH, stops cleanly on SIGTERM (the open
session told), and refuses a busy port or an unusable data dir with one line (exit 1); a
missing RS485 adapter does not stop it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import struct
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from ews_tui.cli.box import open_installation
from ews_tui.config import apply_changes, default_config, save_config
from ews_tui.modbus.gateway_server import GATEWAY_TARGET_FAILED
from ews_tui.modbus.serial_line import LineSettings
from ews_tui.sim.server import DeviceSpec, SimulatedBus, open_pty_pair
from tests.frontends.ssh_fixtures import ClientKey, make_client_key, ui_session
from tests.frontends.terminal_text import DEADLINE_S, Output


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(tmp_path: Path, client: ClientKey, port: int, **changes: Any) -> Path:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "authorized_keys").write_bytes(client.key.export_public_key())
    config = apply_changes(
        default_config(data),
        {
            "rs485.enabled": False,
            "time.ntp_server": "127.0.0.1",
            "ssh.enabled": True,
            "ssh.listen": f"127.0.0.1:{port}",
            "ssh.authorized_keys": "authorized_keys",
            **changes,
        },
        tmp_path,
    )
    path = tmp_path / "config.toml"
    save_config(config, path)
    return path


class Serve:
    """``ews serve --config F`` running, its stderr collected."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.log = Output()
        assert process.stderr is not None
        self._reader = asyncio.create_task(self._read(process.stderr))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            await self.log.add(line.decode())
        await self.log.close()

    async def finish(self) -> int:
        code = await asyncio.wait_for(self.process.wait(), DEADLINE_S)
        await self._reader
        return code


@pytest.fixture
async def start_serve() -> AsyncIterator[Any]:
    started: list[Serve] = []

    async def start(config: Path) -> Serve:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "ews_tui.cli",
            "serve",
            "--config",
            str(config),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        serve = Serve(process)
        started.append(serve)
        return serve

    yield start
    for serve in started:
        if serve.process.returncode is None:
            serve.process.kill()
        await serve.finish()


async def test_serve_starts_serves_ssh_and_stops_on_sigterm(
    tmp_path: Path, start_serve: Any
) -> None:
    client = make_client_key(tmp_path)
    port = free_port()
    serve = await start_serve(write_config(tmp_path, client, port))
    await serve.log.wait_for("ews serve: running, front ends: ssh")
    # What start-up loaded is frozen out of the collector's scans (ews_tui.heap).
    await serve.log.wait_for(" objects frozen out of the collector's scans")
    host_key = tmp_path / "data" / "ssh_host_ed25519_key"
    assert host_key.stat().st_mode & 0o777 == 0o600

    async with (
        asyncssh.connect(
            "127.0.0.1", port, username="tech", client_keys=[client.key], known_hosts=None
        ) as conn,
        ui_session(conn) as ui,
    ):
        await ui.screen.wait_for("Enter your PIN")
        serve.process.send_signal(signal.SIGTERM)
        await ui.errors.wait_for("the server is stopping")
        await ui.screen.wait_closed()
    assert await serve.finish() == 0
    assert "INFO ews_tui.serve: ews serve: SIGTERM received" in serve.log.raw
    assert "ews serve: stopped" in serve.log.raw
    assert "Traceback" not in serve.log.raw


async def test_serve_refuses_a_busy_port_with_one_line(tmp_path: Path, start_serve: Any) -> None:
    client = make_client_key(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        serve = await start_serve(write_config(tmp_path, client, port))
        assert await serve.finish() == 1
    assert serve.log.raw == f"ews: ssh.listen 127.0.0.1:{port}: address already in use\n"


async def test_serve_refuses_a_data_dir_it_cannot_write(tmp_path: Path, start_serve: Any) -> None:
    if os.geteuid() == 0:
        blocker = tmp_path / "file"
        blocker.write_text("not a folder")
        data_dir = blocker / "data"  # a folder under a file cannot exist, even for root
    else:
        data_dir = Path("/proc/ews-data")
    client = make_client_key(tmp_path)
    config = write_config(tmp_path, client, free_port(), data_dir=str(data_dir))
    serve = await start_serve(config)
    assert await serve.finish() == 1
    assert serve.log.raw.startswith(f"ews: data_dir {data_dir}: ")
    assert serve.log.raw.count("\n") == 1


async def test_serve_refuses_a_console_tty_it_cannot_open(tmp_path: Path, start_serve: Any) -> None:
    client = make_client_key(tmp_path)
    config = write_config(
        tmp_path, client, free_port(), **{"console.enabled": True, "console.tty": "/dev/nope"}
    )
    serve = await start_serve(config)
    assert await serve.finish() == 1
    assert serve.log.raw == "ews: console.tty /dev/nope: No such file or directory\n"


async def modbus_read(port: int, unit: int, fc: int, start: int, count: int) -> bytes:
    """One Modbus TCP read from the box's gateway server; the response PDU."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(struct.pack(">HHHBBHH", 1, 0, 6, unit, fc, start, count))
        await writer.drain()
        header = await asyncio.wait_for(reader.readexactly(7), DEADLINE_S)
        _tid, _proto, length, _unit = struct.unpack(">HHHB", header)
        return await asyncio.wait_for(reader.readexactly(length - 1), DEADLINE_S)
    finally:
        writer.close()
        await writer.wait_closed()


async def test_serve_starts_without_its_rs485_adapter_and_finds_it_late(
    tmp_path: Path, start_serve: Any
) -> None:
    """The adapter appears after the box started (USB late at boot): the box runs, the
    Local gateway is in error, then its devices answer once the port exists."""
    data = tmp_path / "data"
    adapter = tmp_path / "ttyUSB0"  # not there yet
    gateway_port = free_port()
    config = apply_changes(
        default_config(data),
        {
            "rs485.port": str(adapter),
            "rs485.timeout_ms": 100,
            "time.ntp_server": "127.0.0.1",
            "modbus_tcp_server.enabled": True,
            "modbus_tcp_server.listen": f"127.0.0.1:{gateway_port}",
        },
        tmp_path,
    )
    path = tmp_path / "config.toml"
    save_config(config, path)
    local = {"name": "Local", "ip": "127.0.0.1", "devices": [{"model": "SDM630", "address": 7}]}
    async with open_installation(config) as service:
        await service.import_document({"gateways": [local]})

    serve = await start_serve(path)
    await serve.log.wait_for("ews serve: running")
    assert f"rs485.port {adapter}: No such file or directory" in serve.log.raw
    assert "the Local gateway is in communication error until the port opens" in serve.log.raw
    await serve.log.wait_for(f"bus {adapter} 19200 8E1: ")  # the poller's retry line
    # Through the box's Modbus TCP server: the Local bus is down, the read is refused.
    refused = await modbus_read(gateway_port, 7, 4, 0, 2)
    assert refused == bytes([0x84, GATEWAY_TARGET_FAILED])

    pair = open_pty_pair()
    try:
        async with SimulatedBus() as sim:
            await sim.serve_rtu(pair.server_fd, LineSettings("pty"), [DeviceSpec(7, "SDM630")])
            since = serve.log.mark()
            adapter.symlink_to(pair.path)  # the adapter appears
            # The poller retries with a backoff of at most 30 s.
            await serve.log.wait_for(f"bus {adapter} 19200 8E1 connected", since=since, timeout=60)
            answer = await modbus_read(gateway_port, 7, 4, 0, 2)
            assert answer[:2] == bytes([4, 4]), answer  # fc 4, 4 bytes: the device answers
            serve.process.send_signal(signal.SIGTERM)
            assert await serve.finish() == 0
    finally:
        pair.close()
    assert "Traceback" not in serve.log.raw
