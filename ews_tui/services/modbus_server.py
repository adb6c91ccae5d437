"""The optional Modbus TCP server of the box, kept in step with the settings.

Off by default (manual §7.8). When ``modbus_tcp_server.enabled`` is on, the box answers
Modbus TCP clients for the devices of its RS485 bus; every request goes through the Local
bus poller (:meth:`PollingService.read_for`), so it never collides with polling. Turning it
on or off in the settings starts or stops it without restarting the process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ews_tui.domain.events import Event, SettingsChanged
from ews_tui.domain.installation import LOCAL_GATEWAY_ID
from ews_tui.hub import Hub
from ews_tui.modbus.gateway_server import ModbusGatewayServer
from ews_tui.services.follower import HubFollower
from ews_tui.services.polling import PollingService
from ews_tui.supervision import Supervisor

log = logging.getLogger(__name__)


class ModbusServerService:
    name = "modbus-tcp-server"

    def __init__(
        self,
        hub: Hub,
        config: Callable[[], Any],
        polling: PollingService,
        *,
        supervisor: Supervisor | None = None,
    ) -> None:
        self._hub = hub
        self._config = config
        self._polling = polling
        self._server: ModbusGatewayServer | None = None
        self._listener = HubFollower(
            hub, supervisor or Supervisor(hub), self.name, (SettingsChanged,), self._on_settings
        )

    @property
    def server(self) -> ModbusGatewayServer | None:
        return self._server

    async def start(self) -> None:
        await self._apply()
        self._listener.start()

    async def stop(self) -> None:
        await self._listener.stop()
        await self._close()

    async def _on_settings(self, event: Event) -> None:
        if isinstance(event, SettingsChanged) and event.section == "modbus_tcp_server":
            await self._apply()

    async def _forward(self, fc: int, unit: int, start: int, count: int) -> list[int] | int:
        return await self._polling.read_for(LOCAL_GATEWAY_ID, fc, unit, start, count)

    async def _apply(self) -> None:
        settings = self._config().modbus_tcp_server
        await self._close()
        if not settings.enabled:
            return
        server = ModbusGatewayServer(settings.listen.host, settings.listen.port, self._forward)
        try:
            await server.start()
        except OSError as error:
            log.error("Modbus TCP server: cannot listen on %s: %s", settings.listen, error)
            return
        self._server = server

    async def _close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.stop()
