"""A small catalog, a rule context and a rich installation built with the domain's edits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from ews_tui.domain.catalog import Catalog, parse_catalog
from ews_tui.domain.edits import new_installation, save_device, save_gateway, save_group
from ews_tui.domain.installation import (
    Advanced,
    Circuit,
    Device,
    Gateway,
    GenericRegister,
    Installation,
    Switchboard,
    Zone,
)
from ews_tui.domain.rules import RuleContext
from ews_tui.store.db import Database, open_database


def _model(ref: str, name: str, **more: object) -> dict[str, object]:
    return {"ref": ref, "name": name, "family": "meters", "provenance": "assumed", **more}


CATALOG_DOC = {
    "families": [{"id": "meters", "name": "Meters"}, {"id": "other", "name": "Other devices"}],
    "maps": [
        {
            "id": "m",
            "provenance": "published",
            "quantities": [{"id": "p", "unit": "kW", "register": 0x10, "type": "s32"}],
        }
    ],
    "models": [
        _model("0 146 68", "Power meter", map="m", thd=True, phases=3),
        _model("0 046 87", "Pulse concentrator", pulse_inputs=5),
        _model("0 046 73", "Pulse energy meter", addressing="pulse"),
        _model(
            "4 149 20",
            "EMS CX3 three-phase",
            addressing="emscx3",
            supply_direction=True,
            alarm_exclusion=True,
            map="m",
        ),
        _model("0 590 32", "Two-sided charger", charger=True, sides=2, phases=1),
        _model("0 261 36", "IO interface", inputs=4, outputs=2, labels=True),
        {**_model("GENERIC", "Generic Modbus meter", generic=True), "family": "other"},
    ],
}


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return parse_catalog([("test", CATALOG_DOC)])


@pytest.fixture
def ctx(catalog: Catalog) -> RuleContext:
    return RuleContext(catalog=catalog, licence=32)


def rich_installation(ctx: RuleContext) -> Installation:
    """Every kind of object and field, built edit by edit (so revision counts the edits)."""
    inst = new_installation()
    inst = save_group(inst, Switchboard(0, "TGBT", "basement"), ctx)
    inst = save_group(inst, Switchboard(0, "TD1"), ctx)
    inst = save_group(inst, Zone(0, "Floor 1"), ctx)
    inst = save_group(inst, Zone(0, "Floor 2", "east wing"), ctx)
    inst = save_group(inst, Circuit(0, "Kitchen"), ctx)
    gw = Gateway(0, "GW2", "192.168.1.20", port=5020, description="roof", switchboard_id=1)
    inst = save_gateway(inst, gw, ctx)
    zones = tuple(z.id for z in reversed(inst.zones))
    no_totals = Advanced(exclude_from_totals=True)
    kitchen = inst.circuits[-1].id
    main = Device(
        0, 1, "0 146 68", 5, "Main", zone_ids=zones, circuit_id=kitchen, advanced=no_totals
    )
    inst = save_device(inst, main, ctx)
    no_alarms = Advanced(exclude_from_alarms=True)
    cx3 = Device(0, 1, "4 149 20", 21, interface=2, supply="downstream", advanced=no_alarms)
    inst = save_device(inst, cx3, ctx)
    pulse = Device(0, 1, "0 046 73", 30, concentrator="0 046 87", position=3)
    inst = save_device(inst, pulse, ctx)
    inst = save_device(inst, Device(0, 2, "0 590 32", 4, side=2, phase="L3", enabled=False), ctx)
    generic = Device(0, 2, "GENERIC", 9, generic=GenericRegister(4, 0x156, 2, 0.01))
    inst = save_device(inst, generic, ctx)
    labels = Advanced(labels=(("in1", "Door"), ("out1", "Siren")))
    inst = save_device(inst, Device(0, 2, "0 261 36", 10, advanced=labels), ctx)
    inst = save_gateway(inst, replace(inst.local, eq_device_id=inst.devices[0].id), ctx)
    inst = save_group(inst, replace(inst.circuits[0], active=False), ctx)
    return save_group(inst, replace(inst.zones[1], active=False), ctx)


@pytest.fixture
def rich(ctx: RuleContext) -> Installation:
    return rich_installation(ctx)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(tmp_path / "data" / "ews.sqlite")
    yield database
    await database.close()
