"""The optional Modbus TCP server of the box, kept in step with the settings.

Off by default (manual §7.8). When ``modbus_tcp_server.enabled`` is on, the box answers
Modbus TCP clients for the devices of its RS485 bus; every request is a paced job of the
Local bus poller (:meth:`BusPoller.read` with ``paced=True``), so it never collides with
polling and never stretches its period. Turning it on or off, or changing its limits, in the
settings restarts it without restarting the process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ews_tui.domain.events import Event, SettingsChanged
from ews_tui.domain.installation import LOCAL_GATEWAY_ID
from ews_tui.hub import Hub
from ews_tui.modbus.failures import ReadResult
from ews_tui.modbus.gateway_server import (
    GATEWAY_PATH_UNAVAILABLE,
    GatewayLimits,
    ModbusGatewayServer,
)
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

    async def _forward(self, fc: int, unit: int, start: int, count: int) -> ReadResult | int:
        poller = self._polling.pollers.get(LOCAL_GATEWAY_ID)
        if poller is None:  # the RS485 port is off, or the Local gateway is
            return GATEWAY_PATH_UNAVAILABLE
        return await poller.read(fc, unit, start, count, paced=True)

    async def _apply(self) -> None:
        settings = self._config().modbus_tcp_server
        await self._close()
        if not settings.enabled:
            return
        limits = GatewayLimits(
            max_clients=settings.max_clients,
            max_clients_per_source=settings.max_clients_per_source,
            idle_timeout_s=float(settings.idle_timeout_s),
            read_timeout_s=settings.read_timeout_ms / 1000,
        )
        host, port = settings.listen.host, settings.listen.port
        server = ModbusGatewayServer(host, port, self._forward, limits=limits)
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
