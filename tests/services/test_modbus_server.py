"""The box's Modbus TCP server on the demo site: the settings reach it, real clients (mbpoll,
pymodbus) read the Local RS485 bus through the bus poller, and its keys are validated."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pymodbus.client import AsyncModbusTcpClient

from ews_tui.cli.demo import demo_box
from ews_tui.config import check_config, default_config
from ews_tui.domain.installation import LOCAL_GATEWAY_ID
from ews_tui.modbus.gateway_server import GATEWAY_TARGET_FAILED, GatewayLimits
from ews_tui.runtime import Runtime
from ews_tui.services.installation import InstallationService
from ews_tui.services.modbus_server import ModbusServerService
from ews_tui.services.settings import SettingsService

ABSENT = 200  # no device at this address on the demo's RS485 line


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def enable(rt: Runtime, **keys: Any) -> int:
    port = free_port()
    changes = {"modbus_tcp_server.enabled": True, "modbus_tcp_server.listen": f"127.0.0.1:{port}"}
    changes.update({f"modbus_tcp_server.{key}": value for key, value in keys.items()})
    await rt.get(SettingsService).apply(changes)
    service = rt.get(ModbusServerService)
    async with asyncio.timeout(10):
        while service.server is None or service.server.port != port:
            await asyncio.sleep(0.01)
    return port


def main_meter_address(rt: Runtime) -> int:
    inst = rt.get(InstallationService).current
    return next(d for d in inst.devices_of(LOCAL_GATEWAY_ID) if d.model == "0 146 68").address


async def test_mbpoll_reads_the_local_bus_through_the_box(tmp_path: Path) -> None:
    if shutil.which("mbpoll") is None:
        pytest.fail("mbpoll is missing: run scripts/setup.sh as root (Debian package mbpoll)")
    async with demo_box(tmp_path, wire_time=False) as rt:
        port = await enable(rt)
        address = main_meter_address(rt)
        proc = await asyncio.create_subprocess_exec(
            "mbpoll", "-m", "tcp", "-p", str(port), "-1", "-o", "3", "-a", str(address),
            "-0", "-r", str(0xC558), "-c", "2", "-t", "4", "127.0.0.1",
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, out
        words = [
            int(line.split(":")[1]) for line in out.decode().splitlines() if line.startswith("[")
        ]
        volts = ((words[0] << 16) | words[1]) * 0.01  # V1: u32, x0.01 V, high word first
        assert 200 < volts < 260


async def test_an_absent_unit_costs_the_bus_one_timeout(tmp_path: Path) -> None:
    async with demo_box(tmp_path, wire_time=False) as rt:
        port = await enable(rt)
        client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=3, retries=0)
        await client.connect()
        try:
            for _ in range(5):
                silent = await client.read_holding_registers(0, count=1, device_id=ABSENT)
                assert silent.isError() and silent.exception_code == GATEWAY_TARGET_FAILED
            volts = await client.read_holding_registers(
                0xC558, count=2, device_id=main_meter_address(rt)
            )
            assert not volts.isError()
        finally:
            client.close()
        server = rt.get(ModbusServerService).server
        assert server is not None and server.stats.absent_answers == 4


async def test_the_settings_set_the_limits(tmp_path: Path) -> None:
    async with demo_box(tmp_path, wire_time=False) as rt:
        await enable(rt)
        server = rt.get(ModbusServerService).server
        assert server is not None and server.limits == GatewayLimits()  # the defaults
        await enable(
            rt, max_clients=3, max_clients_per_source=1, idle_timeout_s=5, read_timeout_ms=500
        )
        server = rt.get(ModbusServerService).server
        assert server is not None
        assert server.limits == GatewayLimits(
            max_clients=3, max_clients_per_source=1, idle_timeout_s=5.0, read_timeout_s=0.5
        )


def test_the_defaults() -> None:
    settings = default_config(Path("/var/lib/ews")).modbus_tcp_server
    assert (settings.max_clients, settings.max_clients_per_source) == (16, 4)
    assert (settings.idle_timeout_s, settings.read_timeout_ms) == (60, 2000)


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("max_clients", 0, "modbus_tcp_server.max_clients: 0 is out of range 1..1000"),
        (
            "max_clients_per_source",
            "4",
            'modbus_tcp_server.max_clients_per_source: "4" is not an integer',
        ),
        ("idle_timeout_s", 0, "modbus_tcp_server.idle_timeout_s: 0 is out of range 1..86400"),
        (
            "read_timeout_ms",
            99999,
            "modbus_tcp_server.read_timeout_ms: 99999 is out of range 100..60000",
        ),
    ],
)
def test_bad_limits_are_refused_naming_the_key(key: str, value: object, problem: str) -> None:
    assert check_config({"modbus_tcp_server": {key: value}}, Path("/etc/ews")) == [problem]
