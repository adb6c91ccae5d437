"""Live values: the latest sample and state of every device, so a screen shows them at once.

:class:`LiveBoard` is the plain state (no asyncio): it applies :class:`Sample`,
:class:`DeviceStateChanged` and :class:`GatewayStateChanged` events in order. A device that
goes silent (communication error, OFF, configuration error) loses its values: a missing
value is shown as missing, never as the last number read.

:class:`LiveValues` is the service: it follows the Hub from start to stop and keeps one
board. A screen subscribes to the same events first, then copies ``snapshot()`` and applies
what its subscription brings (applying an event twice in order gives the same board).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ews_tui.domain.events import (
    DeviceState,
    DeviceStateChanged,
    Event,
    GatewayState,
    GatewayStateChanged,
    Sample,
)
from ews_tui.hub import Hub, Subscription
from ews_tui.services.follower import HubFollower
from ews_tui.supervision import Supervisor

log = logging.getLogger(__name__)

LIVE_EVENTS: tuple[type[Event], ...] = (Sample, DeviceStateChanged, GatewayStateChanged)
_SILENT = (DeviceState.COMM_ERROR, DeviceState.OFF, DeviceState.CONFIG_ERROR)

Value = float | str | None


@dataclass(frozen=True)
class DeviceLive:
    """What is known of one device now: its state, its latest values and their time."""

    device_id: int
    state: DeviceState | None = None
    detail: str = ""
    values: Mapping[str, Value] = field(default_factory=dict)
    ts: float | None = None

    def value(self, qid: str) -> Value:
        """The latest value of ``qid``; None when missing or the device is silent."""
        return self.values.get(qid)


@dataclass(frozen=True)
class GatewayLive:
    gateway_id: int
    state: GatewayState
    detail: str = ""


class LiveBoard:
    """The latest values and states per device and gateway."""

    def __init__(self) -> None:
        self._devices: dict[int, DeviceLive] = {}
        self._gateways: dict[int, GatewayLive] = {}

    def copy(self) -> LiveBoard:
        return copy.copy(self)

    def __copy__(self) -> LiveBoard:
        board = LiveBoard()
        board._devices = dict(self._devices)
        board._gateways = dict(self._gateways)
        return board

    def device(self, device_id: int) -> DeviceLive:
        return self._devices.get(device_id) or DeviceLive(device_id)

    def gateway(self, gateway_id: int) -> GatewayLive | None:
        return self._gateways.get(gateway_id)

    def apply(self, event: Event) -> int | None:
        """Apply one event; returns the device id it changed (None for a gateway event)."""
        if isinstance(event, Sample):
            old = self.device(event.device_id)
            state = DeviceState.ON if old.state in (None, *_SILENT) else old.state
            values = MappingProxyType(dict(event.values))
            self._devices[event.device_id] = DeviceLive(
                event.device_id, state, "" if state != old.state else old.detail, values, event.ts
            )
            return event.device_id
        if isinstance(event, DeviceStateChanged):
            old = self.device(event.device_id)
            silent = event.state in _SILENT
            values = MappingProxyType({}) if silent else old.values
            ts = None if silent else old.ts
            self._devices[event.device_id] = DeviceLive(
                event.device_id, event.state, event.detail, values, ts
            )
            return event.device_id
        if isinstance(event, GatewayStateChanged):
            self._gateways[event.gateway_id] = GatewayLive(
                event.gateway_id, event.state, event.detail
            )
        return None


class LiveValues:
    """The runtime's service keeping a :class:`LiveBoard` up to date from the Hub."""

    name = "live"

    def __init__(self, hub: Hub, *, supervisor: Supervisor | None = None) -> None:
        self._hub = hub
        self._board = LiveBoard()
        self._follower = HubFollower(
            hub,
            supervisor or Supervisor(hub),
            self.name,
            LIVE_EVENTS,
            self._apply,
            lossless=False,
            maxsize=4096,
        )

    def snapshot(self) -> LiveBoard:
        """A copy of the board now (the caller may apply events to it)."""
        return self._board.copy()

    def device(self, device_id: int) -> DeviceLive:
        return self._board.device(device_id)

    def subscribe(self, name: str = "live-screen", maxsize: int = 1024) -> Subscription:
        """A Hub subscription to the live events, for a screen that follows them."""
        return self._hub.subscribe(*LIVE_EVENTS, maxsize=maxsize, name=name)

    async def start(self) -> None:
        self._follower.start()

    async def stop(self) -> None:
        await self._follower.stop()

    async def _apply(self, event: Event) -> None:
        self._board.apply(event)
