"""The UI tests' box has the services of production's box, less those that talk to a bus."""

from __future__ import annotations

from pathlib import Path

from ews_tui.config import apply_changes, default_config, save_config
from ews_tui.services.box import running_box
from ews_tui.services.modbus_server import ModbusServerService
from ews_tui.services.polling import PollingService
from tests.ui.box_fixtures import CHEAP_SCRYPT, box_runtime

BUS_SERVICES = {PollingService, ModbusServerService}


async def test_the_test_box_is_the_production_box_without_its_buses(tmp_path: Path) -> None:
    prod, test = tmp_path / "prod", tmp_path / "test"
    prod.mkdir()
    test.mkdir()
    path = prod / "config.toml"
    config = apply_changes(default_config(prod / "data"), {"rs485.enabled": False}, prod)
    save_config(config, path)
    async with running_box(path, config, scrypt=CHEAP_SCRYPT) as production:
        wanted = [type(s) for s in production.services if type(s) not in BUS_SERVICES]
    async with box_runtime(test) as box:
        assert [type(s) for s in box.services] == wanted
