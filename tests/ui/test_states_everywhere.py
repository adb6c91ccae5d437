"""Issue 9, item 1: device and gateway states that stay true, in every view.

The whole box polls the demo site served by simulators (Local on a pty, two IP gateways on
loopback). One IP gateway's simulator is stopped: the live board, the gateways and devices
lists, Live measures, the kiosk and the events CSV all show it and its devices in error,
whenever they are opened, and keep showing it while the poller retries. The simulator
starts again: all show ON again.

Before, the poller published a values-less Sample after each communication error and the
live board took any Sample for "ON again": the kiosk said "devices answering: 7" while both
gateways refused connections, and a list opened afterwards showed the devices ON.
"""

from __future__ import annotations

import asyncio
import csv
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from ews_tui.cli.sim import load_site, serve_site
from ews_tui.config import apply_changes, default_config, save_config
from ews_tui.domain.events import DeviceState, GatewayState, Sample
from ews_tui.domain.installation import Installation
from ews_tui.domain.installation_doc import to_document
from ews_tui.frontends.kiosk import kiosk_app
from ews_tui.modbus.serial_line import LineSettings
from ews_tui.runtime import Runtime
from ews_tui.services.box import running_box
from ews_tui.services.installation import InstallationService
from ews_tui.services.live import LiveValues
from ews_tui.sim.rtu import open_pty_pair
from ews_tui.sim.server import SimulatedBus, site_devices
from ews_tui.ui.app import EwsApp
from ews_tui.ui.screens.devices import DevicesScreen
from ews_tui.ui.screens.gateways import GatewaysScreen
from ews_tui.ui.screens.kiosk import KioskScreen, kiosk_figures
from ews_tui.ui.screens.live import LiveScreen
from ews_tui.ui.session import Role, Session
from tests.ui.box_fixtures import CHEAP_SCRYPT

DEADLINE_S = 20.0  # the simulators answer in milliseconds; a safety net under load
GATEWAY = "Parking"


@dataclass
class Site:
    rt: Runtime
    bus: SimulatedBus
    inst: Installation
    data_dir: Path


@asynccontextmanager
async def demo_site(tmp_path: Path) -> AsyncIterator[Site]:
    """``ews demo``'s box (see cli/demo.py), keeping hold of the simulators."""
    site = load_site("demo")
    pair = open_pty_pair()
    data_dir = tmp_path / "data"
    try:
        async with SimulatedBus() as bus:
            served = await serve_site(
                bus,
                site,
                tcp=tuple(("127.0.0.1", 0) for g in site.gateways if not g.is_local),
                rtu=pair.server_fd,
                settings=LineSettings(pair.path, 19200, "E", 1),
            )
            changes = {"rs485.port": pair.path, "time.ntp_server": "127.0.0.1"}
            config = apply_changes(default_config(data_dir), changes, tmp_path)
            save_config(config, tmp_path / "config.toml")
            async with running_box(tmp_path / "config.toml", config, scrypt=CHEAP_SCRYPT) as rt:
                await rt.get(InstallationService).import_document(to_document(served))
                inst = rt.get(InstallationService).current
                yield Site(rt, bus, inst, data_dir)
    finally:
        pair.close()


async def until(check: Callable[[], bool], what: str, pilot: Pilot[None] | None = None) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        if pilot is not None:
            await pilot.pause(0.05)
        else:
            await asyncio.sleep(0.05)


def board_states(site: Site, gateway_id: int) -> set[object]:
    board = site.rt.get(LiveValues).snapshot()
    gateway = board.gateway(gateway_id)
    states: set[object] = {gateway.state if gateway else None}
    states |= {board.device(d.id).state for d in site.inst.devices_of(gateway_id)}
    return states


def prompts(screen: object, list_id: str) -> list[str]:
    listing = screen.query_one(list_id, OptionList)  # type: ignore[attr-defined]
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


def csv_states(site: Site, gateway_id: int) -> set[str | None]:
    """The last state the events CSV gives the gateway and each of its devices."""
    last: dict[tuple[str, str], str] = {}
    for path in sorted((site.data_dir / "csv" / "events").glob("*.csv")):
        with path.open(encoding="utf-8") as stream:
            for row in csv.DictReader(stream):
                last[(row["kind"], row["id"])] = row["state"]
    devices = site.inst.devices_of(gateway_id)
    return {last.get(("gateway", str(gateway_id)))} | {
        last.get(("device", str(d.id))) for d in devices
    }


async def views(site: Site, gateway_id: int) -> dict[str, object]:
    """What each view shows of the gateway and its devices, each opened afresh."""
    inst = site.inst
    gateway = inst.gateway(gateway_id)
    assert gateway is not None
    devices = inst.devices_of(gateway_id)
    seen: dict[str, object] = {}

    app = EwsApp(Session(site.rt, role=Role.SYSTEM), start_screen="gateways")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: isinstance(app.screen, GatewaysScreen), "the gateways", pilot)
        row = next(p for p in prompts(app.screen, "#gateway-list") if gateway.name in p)
        seen["gateways list"] = row.rstrip()[-1]
        app.open_screen("devices", gateway_id=gateway_id)
        await pilot.pause()
        await until(lambda: isinstance(app.screen, DevicesScreen), "the devices", pilot)
        seen["devices list"] = {p.rstrip()[-1] for p in prompts(app.screen, "#device-list")}

    app = EwsApp(Session(site.rt, role=Role.SYSTEM), start_screen="live")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: isinstance(app.screen, LiveScreen), "live measures", pilot)
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        comms = set()
        for device in devices:
            screen.select(device)
            comms.add(str(screen.query_one("#live-comm", Static).content).split(" ", 2)[1])
        seen["live measures"] = comms

    app = kiosk_app(Session(site.rt))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: isinstance(app.screen, KioskScreen), "the kiosk", pilot)
        figures = kiosk_figures(inst, site.rt.get(LiveValues).snapshot())
        seen["kiosk gateway"] = dict(figures.gateways)[gateway.name]

    seen["events csv"] = csv_states(site, gateway_id)
    return seen


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    async with demo_site(tmp_path) as site:
        yield site


async def test_a_stopped_gateway_shows_in_error_everywhere_then_on_again(site: Site) -> None:
    gateway = next(g for g in site.inst.gateways if g.name == GATEWAY)
    others = [d.id for d in site.inst.devices if d.gateway_id != gateway.id]
    await until(
        lambda: board_states(site, gateway.id) == {GatewayState.ON, DeviceState.ON},
        "the gateway and its devices ON",
    )
    endpoint = next(ep for ep in site.bus.endpoints if ep.port == gateway.port)
    await endpoint.close()
    error = {GatewayState.COMM_ERROR, DeviceState.COMM_ERROR}
    await until(lambda: board_states(site, gateway.id) == error, "the error on the board")

    # It stays: the other buses go on polling, this poller retries; nothing turns it ON.
    with site.rt.hub.subscribe(Sample, maxsize=4096, name="test") as samples:
        polled = 0
        while polled < 3 * len(others):
            polled += (await samples.get()).device_id in others
            assert board_states(site, gateway.id) == error

    # the CSV writer follows the Hub in its own task: it may be a few events behind
    await until(lambda: csv_states(site, gateway.id) == {"comm_error"}, "the events CSV")
    seen = await views(site, gateway.id)
    assert seen == {
        "gateways list": "✕",
        "devices list": {"✕"},
        "live measures": {"✕"},
        "kiosk gateway": GatewayState.COMM_ERROR,
        "events csv": {"comm_error"},
    }

    specs = site_devices(site.inst, site.bus.catalog)[gateway.id]
    await site.bus.serve_tcp("127.0.0.1", gateway.port, specs)
    on = {GatewayState.ON, DeviceState.ON}
    await until(lambda: board_states(site, gateway.id) == on, "ON again on the board")
    await until(lambda: csv_states(site, gateway.id) == {"on"}, "the events CSV")
    seen = await views(site, gateway.id)
    assert seen == {
        "gateways list": "●",
        "devices list": {"●"},
        "live measures": {"●"},
        "kiosk gateway": GatewayState.ON,
        "events csv": {"on"},
    }
