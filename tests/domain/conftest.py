"""A small catalog with one model of each kind the installation rules care about."""

from __future__ import annotations

import pytest

from ews_tui.domain.catalog import Catalog, parse_catalog
from ews_tui.domain.rules import RuleContext

_DOC = {
    "families": [
        {"id": "meters", "name": "Meters"},
        {"id": "other", "name": "Other devices"},
    ],
    "maps": [
        {
            "id": "m",
            "provenance": "published",
            "quantities": [{"id": "p", "unit": "kW", "register": 0x10, "type": "s32"}],
        }
    ],
    "models": [
        {
            "ref": "0 146 68",
            "name": "Power meter",
            "family": "meters",
            "provenance": "published",
            "map": "m",
            "thd": True,
            "phases": 3,
        },
        {
            "ref": "4 120 81",
            "name": "Energy meter with pulse input",
            "family": "meters",
            "provenance": "assumed",
            "map": "m",
            "pulse_inputs": 1,
            "phases": 1,
        },
        {
            "ref": "0 046 87",
            "name": "Pulse concentrator",
            "family": "meters",
            "provenance": "assumed",
            "pulse_inputs": 5,
        },
        {
            "ref": "0 046 73",
            "name": "Pulse energy meter",
            "family": "meters",
            "provenance": "assumed",
            "addressing": "pulse",
        },
        {
            "ref": "GAS",
            "name": "Gas meter",
            "family": "meters",
            "provenance": "assumed",
            "addressing": "pulse",
            "energy": "gas",
        },
        {
            "ref": "4 149 20",
            "name": "EMS CX3 three-phase",
            "family": "meters",
            "provenance": "assumed",
            "addressing": "emscx3",
            "supply_direction": True,
            "alarm_exclusion": True,
            "map": "m",
        },
        {
            "ref": "4 149 30",
            "name": "EMS CX3 signalling",
            "family": "meters",
            "provenance": "assumed",
            "addressing": "emscx3",
            "inputs": 4,
            "labels": True,
            "alarm_exclusion": True,
        },
        {
            "ref": "DPX3 250",
            "name": "DPX3 250",
            "family": "meters",
            "provenance": "assumed",
            "supply_direction": True,
            "breaker": True,
            "alarm_exclusion": True,
            "thd": True,
        },
        {
            "ref": "0 590 32",
            "name": "Two-sided charger",
            "family": "meters",
            "provenance": "assumed",
            "charger": True,
            "sides": 2,
            "phases": 1,
        },
        {
            "ref": "0 590 14",
            "name": "Premium charger",
            "family": "meters",
            "provenance": "assumed",
            "charger": True,
            "phases": 3,
        },
        {
            "ref": "0 261 36",
            "name": "IO interface",
            "family": "meters",
            "provenance": "assumed",
            "inputs": 4,
            "outputs": 2,
            "labels": True,
        },
        {
            "ref": "GENERIC",
            "name": "Generic Modbus meter",
            "family": "other",
            "provenance": "assumed",
            "generic": True,
        },
    ],
}


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return parse_catalog([("test", _DOC)])


@pytest.fixture
def ctx(catalog: Catalog) -> RuleContext:
    return RuleContext(catalog=catalog, licence=32)
