"""Live values: the latest values and state of every device, so a screen shows them at once.

:class:`LiveBoard` is the plain state (no asyncio): it applies :class:`Sample`,
:class:`DeviceStateChanged` and :class:`GatewayStateChanged` events in order.

- A state changes only on a state event. A :class:`Sample` never changes a state: the bus
  poller publishes ``DeviceStateChanged(ON)`` after a real answer, before its sample.
- A sample is merged by quantity: a fast-class poll updates the fast quantities and keeps
  the slow-class energies read a minute ago; each value keeps its own time
  (:meth:`DeviceLive.value_ts`). A quantity missing in a poll (``None``) is missing, never
  the last number read.
- A device that goes silent (communication error, OFF, configuration error) loses all its
  values.

:class:`LiveValues` is the service: it follows the Hub from start to stop and keeps one
board. A screen subscribes to the same events first, then copies ``snapshot()`` and applies
what its subscription brings (applying an event twice in order gives the same board).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
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


_EMPTY_VALUES: Mapping[str, Value] = MappingProxyType({})
_EMPTY_TIMES: Mapping[str, float] = MappingProxyType({})


@dataclass(frozen=True)
class DeviceLive:
    """What is known of one device now: its state, its latest values and their times.

    ``values`` holds the latest value of every quantity read since the device last went
    silent; ``times`` the Unix time each one was read; ``ts`` the time of the latest sample.
    """

    device_id: int
    state: DeviceState | None = None
    detail: str = ""
    values: Mapping[str, Value] = field(default_factory=lambda: _EMPTY_VALUES)
    ts: float | None = None
    times: Mapping[str, float] = field(default_factory=lambda: _EMPTY_TIMES)

    def value(self, qid: str) -> Value:
        """The latest value of ``qid``; None when missing or the device is silent."""
        return self.values.get(qid)

    def value_ts(self, qid: str) -> float | None:
        """When ``qid`` was last read (Unix seconds); None when never or silent since."""
        return self.times.get(qid)


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
            return self._apply_sample(event)
        if isinstance(event, DeviceStateChanged):
            old = self.device(event.device_id)
            if event.state in _SILENT:
                live = DeviceLive(event.device_id, event.state, event.detail)
            else:
                live = replace(old, state=event.state, detail=event.detail)
            self._devices[event.device_id] = live
            return event.device_id
        if isinstance(event, GatewayStateChanged):
            self._gateways[event.gateway_id] = GatewayLive(
                event.gateway_id, event.state, event.detail
            )
        return None

    def _apply_sample(self, sample: Sample) -> int | None:
        """Merge the sample's quantities into the device's values; the state stays."""
        if not sample.values:
            return None  # a sample without values changes nothing
        old = self.device(sample.device_id)
        if old.state in _SILENT:
            # Values of a device shown silent: a state event must come first (a sample
            # that raced its device's silence, or a screen's stale copy); never shown.
            return None
        values = dict(old.values)
        values.update(sample.values)
        times = dict(old.times)
        times.update(dict.fromkeys(sample.values, sample.ts))
        self._devices[sample.device_id] = replace(
            old,
            values=MappingProxyType(values),
            ts=sample.ts,
            times=MappingProxyType(times),
        )
        return sample.device_id


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
            # Lossless: a dropped state event would leave a false state on every screen (the
            # board is cheap to update; a queue falling behind is shown by the Hub instead).
            lossless=True,
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
