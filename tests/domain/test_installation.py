"""Installation lookups."""

from __future__ import annotations

import pytest

from ews_tui.domain.installation import Circuit, Installation, Switchboard, Zone


def test_groups_by_kind() -> None:
    inst = Installation(
        gateways=(),
        circuits=(Circuit(1, "Lighting"),),
        zones=(Zone(2, "Office"),),
        switchboards=(Switchboard(3, "Main"),),
    )
    assert inst.groups("circuits") == inst.circuits
    assert inst.groups("zones") == inst.zones
    assert inst.groups("switchboards") == inst.switchboards


def test_groups_refuses_another_kind() -> None:
    with pytest.raises(ValueError, match="'devices' is not a kind of group"):
        Installation(gateways=()).groups("devices")
