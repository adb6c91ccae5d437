"""The polling service: one bus poller per bus of the installation, kept in step with it.

The Local gateway is the box's RS485 port (Modbus RTU, settings from ``config.rs485``);
every other enabled gateway is a Modbus TCP connection to its ip:port. On
:class:`InstallationChanged` or :class:`SettingsChanged` the service rebuilds only the
pollers whose bus changed; a poller whose devices changed gets its new list in place and
keeps its connection. Everything that reads a device goes through the owning poller:
:meth:`PollingService.test_device` (the devices screen's Test),
:meth:`PollingService.test_gateway` (the gateways screen's Test: the bus, then every enabled
device once) and :meth:`PollingService.read_for` (the Modbus TCP gateway server).

The pollers run in the bus loop, a thread of their own (:mod:`ews_tui.modbus.bus_thread`):
a busy UI never delays a request or an answer. The service holds a
:class:`~ews_tui.modbus.bus_thread.ThreadedPoller` per bus; if the bus thread dies, the
service publishes it (:class:`TaskFailed`, the gateways in Communication error), starts a new
bus loop and rebuilds every poller.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ews_tui.domain.catalog import Catalog
from ews_tui.domain.events import (
    DeviceState,
    DeviceStateChanged,
    Event,
    GatewayState,
    GatewayStateChanged,
    InstallationChanged,
    ServiceRecovered,
    SettingsChanged,
    TaskFailed,
)
from ews_tui.domain.installation import Device, Gateway, Installation
from ews_tui.domain.messages import N_, Message
from ews_tui.hub import Hub
from ews_tui.modbus.bus_thread import THREAD_NAME, BusLoop, ThreadedPoller
from ews_tui.modbus.device_reader import DeviceMapError, DeviceTarget, device_target
from ews_tui.modbus.planner import BusParams
from ews_tui.modbus.poller import PollSettings
from ews_tui.modbus.transport import (
    BusTransport,
    Disconnected,
    Endpoint,
    ExceptionCode,
    Failure,
    RtuEndpoint,
    TcpEndpoint,
)
from ews_tui.services.follower import HubFollower
from ews_tui.supervision import Supervisor, describe

log = logging.getLogger(__name__)

GATEWAY_PATH_UNAVAILABLE = 0x0A
GATEWAY_TARGET_FAILED = 0x0B
TCP_MARGIN_S = 0.1  # a gateway answers after its RS485 line, plus the network
TEST_TIMEOUT_S = 60.0
#: Restart delays of a bus thread that died again and again (doubling up to the last).
BUS_RESTART_START_S = 0.5
BUS_RESTART_MAX_S = 30.0


@dataclass(frozen=True)
class TestResult:
    """What the Test button shows: the values read, or why there are none."""

    __test__ = False  # not a pytest test class

    device_id: int
    values: Mapping[str, float | str | None] | None = None
    error: Message | None = None
    model: str = ""
    provenance: str = ""
    # The unit of each value, from the register map that was read (a pulse index: kWh or m3).
    units: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class GatewayTestResult:
    """What the gateways screen's Test shows: why the bus cannot be reached, or one
    :class:`TestResult` per enabled device of the gateway, in the installation's order."""

    __test__ = False  # not a pytest test class

    gateway_id: int
    error: Message | None = None
    devices: tuple[tuple[Device, TestResult], ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None and all(result.ok for _device, result in self.devices)


@dataclass(frozen=True)
class BusSpec:
    """What makes a bus: a poller is rebuilt only when this changes."""

    gateway_id: int
    endpoint: Endpoint
    bus: BusParams


#: Settings sections the pollers are built from.
BUS_SECTIONS = frozenset({"rs485"})


class PollingService:
    name = "polling"

    def __init__(
        self,
        hub: Hub,
        *,
        config: Callable[[], Any],
        installation: Callable[[], Installation],
        catalog: Callable[[], Catalog],
        settings: PollSettings | None = None,
        supervisor: Supervisor | None = None,
    ) -> None:
        self._hub = hub
        self._supervisor = supervisor or Supervisor(hub)
        self._config = config
        self._installation = installation
        self._catalog = catalog
        self.settings = settings or PollSettings()
        self._pollers: dict[int, ThreadedPoller] = {}
        self._bus_loop: BusLoop | None = None
        self._bus_deaths = 0
        self._stopped = False
        self._specs: dict[int, BusSpec] = {}
        self._quiet: dict[tuple[str, int], str] = {}  # OFF / CONFIG_ERROR already published
        self._listener = HubFollower(
            hub,
            self._supervisor,
            self.name,
            (InstallationChanged, SettingsChanged),
            self._on_change,
        )
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._stopped = False
        self._listener.subscribe()
        try:
            await self._start_bus_loop()
            await self.reload()
        except BaseException:
            await self.stop()
            raise
        self._listener.start()

    async def stop(self) -> None:
        await self._listener.stop()
        async with self._lock:
            self._stopped = True
            for gateway_id in list(self._pollers):
                await self._drop(gateway_id, publish=False)
            bus_loop, self._bus_loop = self._bus_loop, None
            self._supervisor.detach(THREAD_NAME)
            if bus_loop is not None:
                await bus_loop.stop()

    @property
    def bus_loop(self) -> BusLoop | None:
        """The bus pollers' loop and thread (None when stopped)."""
        return self._bus_loop

    async def _start_bus_loop(self) -> None:
        bus_loop = BusLoop(self._hub, on_death=self._bus_died)
        self._bus_loop = bus_loop
        await bus_loop.start()
        if bus_loop.supervisor is not None:  # its pollers' health, shown with the others
            self._supervisor.attach(THREAD_NAME, bus_loop.supervisor.health)

    def _bus_died(self, error: BaseException) -> None:
        """In the main loop: the bus thread ended by itself. Say so, then start anew."""
        if self._stopped:
            return
        self._bus_deaths += 1
        log.error("the bus thread died (%d times): %s", self._bus_deaths, describe(error))
        self._hub.publish(TaskFailed(THREAD_NAME, describe(error)))
        dead = Disconnected(THREAD_NAME, "the bus thread died: restarting it")
        for gateway_id in self._pollers:
            self._hub.publish(GatewayStateChanged(gateway_id, GatewayState.COMM_ERROR, str(dead)))
        delay = min(BUS_RESTART_START_S * 2 ** (self._bus_deaths - 1), BUS_RESTART_MAX_S)
        self._supervisor.spawn(self._restart_bus_loop(delay), name=f"{THREAD_NAME}-restart")

    async def _restart_bus_loop(self, delay: float) -> None:
        await asyncio.sleep(delay)
        async with self._lock:
            if self._stopped:
                return
            old, self._bus_loop = self._bus_loop, None
            if old is not None:
                await old.stop()  # joins the dead thread
            self._pollers.clear()  # stopped, their transports closed, by the dead thread
            self._specs.clear()
            await self._start_bus_loop()
        await self.reload()
        log.info("the bus thread runs again")
        self._hub.publish(ServiceRecovered(THREAD_NAME))

    async def _on_change(self, event: Event) -> None:
        if isinstance(event, SettingsChanged) and event.section not in BUS_SECTIONS:
            return  # a cost page, the language...: nothing for the buses
        await self.reload()  # a failure crashes the follower: shown, retried once

    @property
    def pollers(self) -> Mapping[int, ThreadedPoller]:
        return dict(self._pollers)

    # ------------------------------------------------------------------ rebuild

    async def reload(self) -> None:
        """Bring the pollers in step with the installation and the settings."""
        async with self._lock:
            inst = self._installation()
            catalog = self._catalog()
            wanted: dict[int, BusSpec] = {}
            for gateway in inst.gateways:
                spec = self._spec(gateway)
                if spec is None:
                    self._publish_quiet("gateway", gateway.id, GatewayState.OFF)
                    for device in inst.devices_of(gateway.id):
                        self._publish_quiet("device", device.id, DeviceState.OFF)
                else:
                    wanted[gateway.id] = spec
            for gateway_id in [g for g in self._pollers if g not in wanted]:
                await self._drop(gateway_id, publish=True)
            for gateway_id, spec in wanted.items():
                targets = self._targets(inst, gateway_id, catalog)
                poller = self._pollers.get(gateway_id)
                if poller is not None and self._specs[gateway_id] == spec:
                    poller.set_targets(targets)
                    continue
                if poller is not None:
                    await self._drop(gateway_id, publish=False)
                self._quiet.pop(("gateway", gateway_id), None)
                if self._bus_loop is None:
                    raise RuntimeError("polling: reload before start")
                poller = await self._bus_loop.poller(
                    gateway_id, spec.endpoint, targets, bus=spec.bus, settings=self.settings
                )
                self._pollers[gateway_id] = poller
                self._specs[gateway_id] = spec
                await poller.start()
                log.info("polling gateway %d on %s", gateway_id, spec.endpoint)

    def _spec(self, gateway: Gateway) -> BusSpec | None:
        if not gateway.enabled:
            return None
        rs485 = self._config().rs485
        if gateway.is_local:
            if not rs485.enabled:
                return None
            parity = getattr(rs485.parity, "letter", str(rs485.parity))
            endpoint: Endpoint = RtuEndpoint(
                rs485.port, rs485.baudrate, parity, rs485.stopbits, rs485.timeout_ms / 1000
            )
            return BusSpec(
                gateway.id, endpoint, BusParams.rtu(rs485.baudrate, parity, rs485.stopbits)
            )
        endpoint = TcpEndpoint(gateway.ip, gateway.port, rs485.timeout_ms / 1000 + TCP_MARGIN_S)
        return BusSpec(gateway.id, endpoint, BusParams(transport="tcp"))

    def _targets(self, inst: Installation, gateway_id: int, catalog: Catalog) -> list[DeviceTarget]:
        targets = []
        for device in inst.devices_of(gateway_id):
            if not inst.device_enabled(device):
                self._publish_quiet("device", device.id, DeviceState.OFF)
                continue
            try:
                targets.append(device_target(device, catalog))
            except DeviceMapError as exc:
                self._publish_quiet("device", device.id, DeviceState.CONFIG_ERROR, str(exc))
                continue
            self._quiet.pop(("device", device.id), None)
        return targets

    async def _drop(self, gateway_id: int, *, publish: bool) -> None:
        poller = self._pollers.pop(gateway_id)
        self._specs.pop(gateway_id, None)
        await poller.stop()
        if publish:
            inst = self._installation()
            self._publish_quiet("gateway", gateway_id, GatewayState.OFF)
            for device in inst.devices_of(gateway_id):
                self._publish_quiet("device", device.id, DeviceState.OFF)

    def _publish_quiet(
        self, kind: str, item_id: int, state: DeviceState | GatewayState, detail: str = ""
    ) -> None:
        """Publish an OFF / CONFIG_ERROR state once (not again on every reload)."""
        key = (kind, item_id)
        if self._quiet.get(key) == f"{state}:{detail}":
            return
        self._quiet[key] = f"{state}:{detail}"
        if kind == "gateway":
            self._hub.publish(GatewayStateChanged(item_id, GatewayState(state), detail))
        else:
            self._hub.publish(DeviceStateChanged(item_id, DeviceState(state), detail))

    # ------------------------------------------------------------------ reads for others

    async def test_device(self, device: Device) -> TestResult:
        """One read of every quantity of ``device`` (saved or not) through its bus poller."""
        poller = self._pollers.get(device.gateway_id)
        if poller is None:
            msg = Message(
                N_("gateway {gateway} is not polled (off or unknown)"),
                {"gateway": device.gateway_id},
            )
            return TestResult(device.id, error=msg)
        try:
            target = device_target(device, self._catalog())
        except DeviceMapError as exc:
            return TestResult(device.id, error=exc.message)
        try:
            async with asyncio.timeout(TEST_TIMEOUT_S):
                outcome = await poller.read_device(target)
        except TimeoutError:
            msg = Message(N_("no answer from address {address}"), {"address": device.address})
            return TestResult(
                device.id, error=msg, model=target.model, provenance=target.provenance
            )
        if isinstance(outcome, Failure):
            return TestResult(
                device.id, error=outcome.message, model=target.model, provenance=target.provenance
            )
        units = {q.id: q.unit for q in target.reg_map.quantities}
        return TestResult(
            device.id,
            values=outcome,
            model=target.model,
            provenance=target.provenance,
            units=units,
        )

    async def test_gateway(self, gateway: Gateway) -> GatewayTestResult:
        """Through the gateway's bus poller: is the bus up, then one read of each enabled
        device of the gateway (as saved). Never raises for a device or a bus that fails."""
        if not gateway.enabled:
            return GatewayTestResult(
                gateway.id, Message(N_("the gateway is OFF: switch it ON to test it"))
            )
        if gateway.is_local and not self._config().rs485.enabled:
            return GatewayTestResult(
                gateway.id,
                Message(N_("the RS485 port is off in the settings (rs485.enabled)")),
            )
        if gateway.id not in self._pollers:
            await self.reload()  # saved a moment ago: its poller may be on its way
        poller = self._pollers.get(gateway.id)
        if poller is None:
            return GatewayTestResult(
                gateway.id,
                Message(N_("gateway {gateway} is not polled (off or unknown)"),
                        {"gateway": gateway.name}),
            )  # fmt: skip
        try:
            async with asyncio.timeout(TEST_TIMEOUT_S):
                down = await poller.submit(_bus_failure)
        except TimeoutError:
            down = Disconnected(poller.transport.name, "the bus is busy: no turn for the test")
        if down is not None:
            return GatewayTestResult(gateway.id, down.message)
        inst = self._installation()
        devices = [d for d in inst.devices_of(gateway.id) if inst.device_enabled(d)]
        results = await asyncio.gather(*(self.test_device(d) for d in devices))
        return GatewayTestResult(gateway.id, None, tuple(zip(devices, results, strict=True)))

    async def read_for(
        self, gateway_id: int, fc: int, address: int, start: int, count: int
    ) -> list[int] | int:
        """A raw read for the Modbus TCP gateway server: the words, or an exception code."""
        poller = self._pollers.get(gateway_id)
        if poller is None:
            return GATEWAY_PATH_UNAVAILABLE
        result = await poller.read(fc, address, start, count)
        if isinstance(result, ExceptionCode):
            return result.code
        if isinstance(result, Failure):
            return GATEWAY_TARGET_FAILED
        return list(result)


async def _bus_failure(transport: BusTransport) -> Failure | None:
    """A poller job: None when the bus is connected (a bus that is down answers every job
    with its own failure, without running it)."""
    if transport.connected:
        return None
    return Disconnected(transport.name, "closed")
