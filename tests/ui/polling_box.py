"""A box that polls (imported by the UI tests of the Test keys): the production box with its
bus pollers, and one IP gateway served by the device simulator on loopback.

The RS485 port is off (no serial port in the UI tests); the gateway "Bench" carries an
SDM630 at 3, an EMS CX3 module at ``2-1`` (Modbus unit 12), one at ``3-2`` (unit 23) that
nothing serves, a switched-off device and a pulse meter on input 2 of a concentrator at 7.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from ews_tui.config import apply_changes, default_config, save_config
from ews_tui.domain.edits import save_device, save_gateway
from ews_tui.domain.installation import Device, Gateway
from ews_tui.runtime import Runtime
from ews_tui.services.box import running_box
from ews_tui.services.installation import InstallationService
from ews_tui.sim.server import DeviceSpec, Endpoint, SimulatedBus
from tests.ui.box_fixtures import CHEAP_SCRYPT, CLOSED_NTP, CLOSED_NTP_PORT

SERVED = (
    DeviceSpec(3, "SDM630"),
    DeviceSpec(12, "4 149 18"),
    DeviceSpec(7, "0 046 87", inputs=((2, "electricity"),)),
)


@dataclass
class PollingBox:
    runtime: Runtime
    endpoint: Endpoint
    gateway: Gateway

    def device(self, name: str) -> Device:
        found = [
            d
            for d in self.runtime.get(InstallationService).current.devices_of(self.gateway.id)
            if d.name == name
        ]
        assert len(found) == 1, name
        return found[0]


@asynccontextmanager
async def polling_box(tmp_path: Path) -> AsyncIterator[PollingBox]:
    changes = {**CLOSED_NTP, "rs485.enabled": False, "rs485.timeout_ms": 100}
    config = apply_changes(default_config(tmp_path / "data"), changes, tmp_path)
    path = tmp_path / "config.toml"
    save_config(config, path)
    async with SimulatedBus() as sim:
        endpoint = await sim.serve_tcp("127.0.0.1", 0, SERVED)
        async with running_box(
            path, config, scrypt=CHEAP_SCRYPT, buses=True, ntp_port=CLOSED_NTP_PORT
        ) as rt:
            service = rt.get(InstallationService)
            gateway_id = service.current.next_id("gateways")
            await service.apply(
                save_gateway, Gateway(0, "Bench", "127.0.0.1", endpoint.port or 502)
            )
            devices = (
                Device(0, gateway_id, "SDM630", 3, "Head"),
                Device(0, gateway_id, "4 149 18", 12, "Feeder", interface=1),
                Device(0, gateway_id, "4 149 18", 23, "Silent", interface=2),
                Device(0, gateway_id, "SDM120", 4, "Spare", enabled=False),
                Device(0, gateway_id, "0 046 73", 7, "Gas", concentrator="0 046 87",
                       position=2),
            )  # fmt: skip
            for device in devices:
                await service.apply(save_device, device)
            gateway = service.current.gateway(gateway_id)
            assert gateway is not None
            yield PollingBox(rt, endpoint, gateway)
