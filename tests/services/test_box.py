"""The whole box on the demo site: polling, live values, the Modbus TCP server."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from pymodbus.client import AsyncModbusTcpClient

from ews_tui.cli.demo import demo_box
from ews_tui.domain.events import Sample
from ews_tui.domain.installation import LOCAL_GATEWAY_ID
from ews_tui.modbus.gateway_server import GATEWAY_TARGET_FAILED
from ews_tui.services.installation import InstallationService
from ews_tui.services.live import LiveValues
from ews_tui.services.modbus_server import ModbusServerService
from ews_tui.services.settings import SettingsService


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_demo_box_polls_every_device(tmp_path: Path) -> None:
    async with demo_box(tmp_path, wire_time=False) as rt:
        inst = rt.get(InstallationService).current
        wanted = {d.id for d in inst.devices}
        with rt.hub.subscribe(Sample, maxsize=4096, name="test") as samples:
            # Read before we subscribed (pulse meters: once a minute) or after.
            board = rt.get(LiveValues).snapshot()
            seen = {
                i for i in wanted if any(v is not None for v in board.device(i).values.values())
            }
            async with asyncio.timeout(30):
                while seen != wanted:
                    sample = await samples.get()
                    if any(v is not None for v in sample.values.values()):
                        seen.add(sample.device_id)
        assert seen == wanted


async def test_modbus_tcp_server_bridges_to_the_local_bus(tmp_path: Path) -> None:
    async with demo_box(tmp_path, wire_time=False) as rt:
        server = rt.get(ModbusServerService)
        assert server.server is None  # off by default, as the manual says
        port = free_port()
        await rt.get(SettingsService).apply(
            {"modbus_tcp_server.enabled": True, "modbus_tcp_server.listen": f"127.0.0.1:{port}"}
        )
        async with asyncio.timeout(10):
            while server.server is None:
                await asyncio.sleep(0.01)
        inst = rt.get(InstallationService).current
        main = next(d for d in inst.devices_of(LOCAL_GATEWAY_ID) if d.model == "0 146 68")
        client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=3, retries=0)
        await client.connect()
        try:
            # V1 of the main meter: u32, x0.01 V, high word first.
            result = await client.read_holding_registers(0xC558, count=2, device_id=main.address)
            assert not result.isError(), result
            volts = ((result.registers[0] << 16) | result.registers[1]) * 0.01
            assert 200 < volts < 260
            silent = await client.read_holding_registers(0, count=1, device_id=200)
            assert silent.isError() and silent.exception_code == GATEWAY_TARGET_FAILED
        finally:
            client.close()
        await rt.get(SettingsService).apply({"modbus_tcp_server.enabled": False})
        async with asyncio.timeout(10):
            while server.server is not None:
                await asyncio.sleep(0.01)
