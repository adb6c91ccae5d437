"""Edits of the installation: what the manual allows, what it refuses, and the messages."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ews_tui.domain.edits import (
    InstallationError,
    delete_device,
    delete_gateway,
    delete_group,
    device_problems,
    new_installation,
    save_device,
    save_gateway,
    save_group,
    set_eq_device,
    set_gateway_enabled,
    set_group_active,
)
from ews_tui.domain.installation import (
    LOCAL_GATEWAY_ID,
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


def refused(call, *args) -> list[str]:  # type: ignore[no-untyped-def]
    with pytest.raises(InstallationError) as info:
        call(*args)
    return [str(v) for v in info.value.violations]


def with_gateway(ctx: RuleContext, ip: str = "192.168.1.20", name: str = "GW2") -> Installation:
    return save_gateway(new_installation(), Gateway(0, name, ip), ctx)


def test_new_box_has_local_and_presets() -> None:
    inst = new_installation()
    assert [(g.name, g.ip) for g in inst.gateways] == [("Local", "127.0.0.1")]
    presets = [c.preset for c in inst.circuits]
    assert presets == [
        "heating",
        "cooling",
        "hot_water",
        "lighting",
        "sockets",
        "ventilation",
        "others",
    ]


def test_local_ip_is_fixed_and_local_cannot_be_deleted(ctx: RuleContext) -> None:
    inst = new_installation()
    assert refused(save_gateway, inst, replace(inst.local, ip="10.0.0.1"), ctx) == [
        "gateways[0].ip: the Local gateway's IP address is fixed at 127.0.0.1"
    ]
    assert refused(delete_gateway, inst, LOCAL_GATEWAY_ID, ctx) == [
        "gateways[0]: the Local gateway cannot be deleted, only switched OFF"
    ]
    renamed = save_gateway(inst, replace(inst.local, name="Box", description="TGBT"), ctx)
    assert renamed.local.name == "Box"
    off = set_gateway_enabled(renamed, LOCAL_GATEWAY_ID, False, ctx)
    assert not off.local.enabled


def test_gateway_ip_required_valid_unique(ctx: RuleContext) -> None:
    inst = with_gateway(ctx)
    assert refused(save_gateway, inst, Gateway(0, "X", ""), ctx) == [
        "gateways[2].ip: the IP address is required"
    ]
    assert refused(save_gateway, inst, Gateway(0, "X", "192.168.1.300"), ctx) == [
        'gateways[2].ip: "192.168.1.300" is not an IPv4 address'
    ]
    assert refused(save_gateway, inst, Gateway(0, "X", "192.168.1.20"), ctx) == [
        'gateways[2].ip: 192.168.1.20:502 is already the address of gateway "GW2"'
    ]
    assert refused(save_gateway, inst, Gateway(0, "gw2", "192.168.1.21"), ctx) == [
        'gateways[2].name: the name "gw2" is already used by another gateway'
    ]
    assert refused(save_gateway, inst, Gateway(0, "Y", "10.0.0.1", port=70000), ctx) == [
        "gateways[2].port: port 70000 is not between 1 and 65535"
    ]
    # Same IP, other port: two gateways behind one address (and simulators on loopback).
    both = save_gateway(inst, Gateway(0, "Z", "192.168.1.20", port=5020), ctx)
    assert len(both.gateways) == 3


def test_gateway_name_defaults_to_ip(ctx: RuleContext) -> None:
    inst = save_gateway(new_installation(), Gateway(0, "  ", "10.1.2.3"), ctx)
    assert inst.gateways[1].name == "10.1.2.3"


def test_gateway_with_devices_cannot_be_deleted(ctx: RuleContext) -> None:
    inst = with_gateway(ctx)
    gw = inst.gateways[1].id
    inst = save_device(inst, Device(0, gw, "0 146 68", 3), ctx)
    assert refused(delete_gateway, inst, gw, ctx) == [
        'gateways[1]: gateway "GW2" still has 1 devices: delete them first'
    ]
    inst = delete_device(inst, inst.devices[0].id, ctx)
    assert len(delete_gateway(inst, gw, ctx).gateways) == 1


def test_gateway_off_switches_its_devices_off(ctx: RuleContext) -> None:
    inst = save_device(new_installation(), Device(0, 1, "0 146 68", 3), ctx)
    device = inst.devices[0]
    assert inst.device_enabled(device)
    off = set_gateway_enabled(inst, 1, False, ctx)
    assert not off.device_enabled(off.devices[0])
    back = set_gateway_enabled(off, 1, True, ctx)
    assert back.device_enabled(back.devices[0])


def test_address_range_and_uniqueness_per_gateway(ctx: RuleContext) -> None:
    inst = with_gateway(ctx)
    assert refused(save_device, inst, Device(0, 1, "0 146 68", 0), ctx) == [
        "gateways[0].devices[0].address: Modbus address 0 is not between 1 and 247"
    ]
    assert refused(save_device, inst, Device(0, 1, "0 146 68", 248), ctx)[0].endswith(
        "Modbus address 248 is not between 1 and 247"
    )
    inst = save_device(inst, Device(0, 1, "0 146 68", 7, name="Main"), ctx)
    assert refused(save_device, inst, Device(0, 1, "0 146 68", 7, name="Other"), ctx) == [
        'gateways[0].devices[1].address: address 7 is already used by "Main"'
    ]
    # The same address on another bus is fine.
    inst = save_device(inst, Device(0, 2, "0 146 68", 7, name="Other"), ctx)
    assert len(inst.devices) == 2


def test_device_name_defaults_and_uniqueness(ctx: RuleContext) -> None:
    inst = with_gateway(ctx)
    inst = save_device(inst, Device(0, 1, "0 146 68", 7), ctx)
    assert inst.devices[0].name == "7"
    inst = save_device(inst, Device(0, 2, "0 146 68", 7), ctx)
    assert inst.devices[1].name == "7 (GW2)"
    assert refused(save_device, inst, Device(0, 2, "0 146 68", 8, name="7"), ctx) == [
        'gateways[1].devices[1].name: the name "7" is already used by another device'
    ]


def test_missing_and_unknown_model_are_configuration_errors(ctx: RuleContext) -> None:
    inst = new_installation()
    assert refused(save_device, inst, Device(0, 1, "", 3), ctx) == [
        "gateways[0].devices[0].model: the model is missing (Configuration error)"
    ]
    assert refused(save_device, inst, Device(0, 1, "9 999 99", 3), ctx) == [
        'gateways[0].devices[0].model: "9 999 99" is not in the device catalog '
        "(Configuration error)"
    ]


def test_ems_cx3_remote_addressing_and_supply(ctx: RuleContext) -> None:
    inst = new_installation()
    inst = save_device(inst, Device(0, 1, "4 149 20", 12, interface=1), ctx)
    device = inst.devices[0]
    assert device.address_text() == "2-1"
    assert device.supply == "upstream"  # the manual's default
    assert refused(save_device, inst, Device(0, 1, "4 149 20", 10, interface=1), ctx)[0].endswith(
        "EMS CX3 device address 0 is not between 1 and 9"
    )
    assert refused(save_device, inst, Device(0, 1, "0 146 68", 12, interface=1), ctx)[0].endswith(
        "the device-interface form is only for EMS CX3 modules"
    )
    assert refused(
        save_device, inst, Device(0, 1, "4 149 20", 13, interface=1, supply="sideways"), ctx
    )[0].endswith("the supply direction must be upstream or downstream")
    assert refused(save_device, inst, Device(0, 1, "0 146 68", 3, supply="upstream"), ctx) == [
        "gateways[0].devices[1].supply: model 0 146 68 has no supply direction setting"
    ]
    # 2-1 is Modbus address 12: a plain device on 12 clashes with it.
    assert refused(save_device, inst, Device(0, 1, "0 146 68", 12, name="x"), ctx) == [
        'gateways[0].devices[1].address: address 12 is already used by "2-1"'
    ]


def test_pulse_meters_share_their_concentrator(ctx: RuleContext) -> None:
    inst = new_installation()
    inst = save_device(inst, Device(0, 1, "0 046 73", 5, concentrator="0 046 87", position=1), ctx)
    assert inst.devices[0].name == "5-1"
    inst = save_device(inst, Device(0, 1, "GAS", 5, concentrator="0 046 87", position=2), ctx)
    assert refused(
        save_device,
        inst,
        Device(0, 1, "0 046 73", 5, concentrator="0 046 87", position=2, name="dup"),
        ctx,
    ) == ['gateways[0].devices[2].position: position 2 of address 5 is already used by "5-2"']
    assert refused(
        save_device,
        inst,
        Device(0, 1, "0 046 73", 5, concentrator="0 046 87", position=6, name="far"),
        ctx,
    ) == [
        "gateways[0].devices[2].position: position 6 is not between 1 and 5 on "
        "concentrator 0 046 87"
    ]
    assert refused(save_device, inst, Device(0, 1, "0 046 73", 6, name="nocon"), ctx) == [
        "gateways[0].devices[2].concentrator: a pulse meter needs the model of its concentrator",
        "gateways[0].devices[2].position: a pulse meter needs its position on the concentrator",
    ]
    assert refused(
        save_device,
        inst,
        Device(0, 1, "0 046 73", 6, concentrator="0 146 68", position=1, name="bad"),
        ctx,
    )[0].endswith('"0 146 68" is not a pulse concentrator')
    # A meter on the concentrator's address clashes with its pulse meters.
    assert refused(save_device, inst, Device(0, 1, "0 146 68", 5, name="m"), ctx) == [
        "gateways[0].devices[2].address: address 5 is already used by the pulse meters of a "
        "0 046 87 concentrator"
    ]
    assert refused(save_device, inst, Device(0, 1, "0 146 68", 7, position=1, name="p"), ctx) == [
        "gateways[0].devices[2].position: only pulse meters have a position"
    ]


def test_energy_meter_is_the_concentrator_of_its_pulse_input(ctx: RuleContext) -> None:
    inst = save_device(new_installation(), Device(0, 1, "4 120 81", 9, name="meter"), ctx)
    inst = save_device(inst, Device(0, 1, "GAS", 9, concentrator="4 120 81", position=1), ctx)
    assert [d.name for d in inst.devices] == ["meter", "9-1"]


def test_gas_meter_circuit_is_automatic(ctx: RuleContext) -> None:
    inst = new_installation()
    heating = inst.circuits[0].id
    assert refused(
        save_device,
        inst,
        Device(0, 1, "GAS", 5, concentrator="0 046 87", position=1, circuit_id=heating),
        ctx,
    ) == ["gateways[0].devices[0].circuit: gas and water meters get their circuit automatically"]


def test_two_sided_charger(ctx: RuleContext) -> None:
    inst = new_installation()
    assert refused(save_device, inst, Device(0, 1, "0 590 32", 4, phase="L1"), ctx) == [
        "gateways[0].devices[0].side: a two-sided charging station needs its side (1 or 2)"
    ]
    inst = save_device(inst, Device(0, 1, "0 590 32", 4, side=1, phase="L1", name="A"), ctx)
    inst = save_device(inst, Device(0, 1, "0 590 32", 4, side=2, phase="L2", name="B"), ctx)
    assert refused(
        save_device, inst, Device(0, 1, "0 590 32", 4, side=2, phase="L3", name="C"), ctx
    ) == ['gateways[0].devices[2].side: side 2 of address 4 is already "B"']
    assert refused(save_device, inst, Device(0, 1, "0 590 32", 5, side=1, name="D"), ctx) == [
        "gateways[0].devices[2].phase: a single-phase charging station needs its phase "
        "(L1, L2 or L3)"
    ]
    assert refused(save_device, inst, Device(0, 1, "0 590 14", 6, phase="L1", name="E"), ctx) == [
        "gateways[0].devices[2].phase: the phase is only for single-phase charging stations"
    ]
    assert refused(save_device, inst, Device(0, 1, "0 590 14", 6, side=1, name="F"), ctx) == [
        "gateways[0].devices[2].side: model 0 590 14 has only one side"
    ]


def test_generic_meter_fields(ctx: RuleContext) -> None:
    inst = new_installation()
    assert refused(save_device, inst, Device(0, 1, "GENERIC", 2), ctx)[0].endswith(
        "needs its function code, register, words and multiplier"
    )
    bad = GenericRegister(fc=6, register=0x1_0000, words=3, multiplier=0)
    assert refused(save_device, inst, Device(0, 1, "GENERIC", 2, generic=bad), ctx) == [
        "gateways[0].devices[0].generic.fc: function code 6 is not 3 or 4",
        "gateways[0].devices[0].generic.register: register 10000 is not between 0000 and FFFF",
        "gateways[0].devices[0].generic.words: 3 words: a meter register is 1, 2 or 4 words",
        "gateways[0].devices[0].generic.multiplier: multiplier 0 must be a positive number",
    ]
    good = GenericRegister(fc=4, register=0x0156, words=2, multiplier=0.001)
    assert save_device(inst, Device(0, 1, "GENERIC", 2, generic=good), ctx).devices[0].generic
    assert refused(save_device, inst, Device(0, 1, "0 146 68", 2, generic=good), ctx)[0].endswith(
        "only the generic Modbus meter has register settings"
    )


def test_advanced_options(ctx: RuleContext) -> None:
    inst = new_installation()
    no_alarms = Advanced(exclude_from_alarms=True)
    assert refused(save_device, inst, Device(0, 1, "0 146 68", 2, advanced=no_alarms), ctx)[
        0
    ].endswith('"exclude from alarms" is only for EMS CX3, DPX3 and DMX3 devices')
    ok = save_device(inst, Device(0, 1, "DPX3 250", 2, advanced=no_alarms), ctx)
    assert ok.devices[0].advanced.exclude_from_alarms
    totals = Advanced(exclude_from_totals=True)
    assert save_device(inst, Device(0, 1, "0 146 68", 3, advanced=totals), ctx)
    labels = Advanced(labels=(("in1", "Door"), ("out2", "Fan")))
    io = save_device(inst, Device(0, 1, "0 261 36", 4, advanced=labels), ctx)
    assert io.devices[0].advanced.label("in1") == "Door"
    assert refused(
        save_device,
        inst,
        Device(0, 1, "0 261 36", 4, advanced=Advanced(labels=(("out3", "x"),))),
        ctx,
    ) == ["gateways[0].devices[0].advanced.labels.out3: model 0 261 36 has no out3"]
    assert refused(save_device, inst, Device(0, 1, "0 146 68", 4, advanced=labels), ctx) == [
        "gateways[0].devices[0].advanced.labels: model 0 146 68 has no inputs or outputs to label"
    ]


def test_zones_per_device_and_circuits(ctx: RuleContext) -> None:
    inst = new_installation()
    for i in range(6):
        inst = save_group(inst, Zone(0, f"Z{i}"), ctx)
    zone_ids = tuple(z.id for z in inst.zones)
    assert refused(save_device, inst, Device(0, 1, "0 146 68", 2, zone_ids=zone_ids), ctx) == [
        "gateways[0].devices[0].zones: a device belongs to at most 5 zones"
    ]
    inst = save_device(
        inst,
        Device(0, 1, "0 146 68", 2, zone_ids=zone_ids[:5], circuit_id=inst.circuits[3].id),
        ctx,
    )
    # Deleting a zone takes it off the devices; deleting a circuit puts them back in Others.
    inst = delete_group(inst, "zones", zone_ids[0], ctx)
    assert inst.devices[0].zone_ids == zone_ids[1:5]


def test_circuits_limits_presets_and_deletion(ctx: RuleContext) -> None:
    inst = new_installation()
    for i in range(8):
        inst = save_group(inst, Circuit(0, f"User {i}"), ctx)
    assert refused(save_group, inst, Circuit(0, "User 8"), ctx) == [
        "circuits: at most 8 circuits of your own (14 in all)"
    ]
    assert refused(delete_group, inst, "circuits", inst.circuits[0].id, ctx) == [
        "circuits[0]: preset circuits can only be deactivated"
    ]
    off = set_group_active(inst, "circuits", inst.circuits[0].id, False, ctx)
    assert not off.circuits[0].active
    user = inst.circuits[-1]
    inst = save_device(inst, Device(0, 1, "0 146 68", 2, circuit_id=user.id), ctx)
    inst = delete_group(inst, "circuits", user.id, ctx)
    assert inst.devices[0].circuit_id is None
    assert refused(save_group, inst, Circuit(0, "heating"), ctx) == [
        'circuits[14].name: the name "heating" is already used'
    ]


def test_switchboards(ctx: RuleContext) -> None:
    inst = save_group(with_gateway(ctx), Switchboard(0, "TGBT", "basement"), ctx)
    board = inst.switchboards[0]
    inst = save_gateway(inst, replace(inst.gateways[1], switchboard_id=board.id), ctx)
    assert inst.gateways[1].switchboard_id == board.id
    assert refused(save_gateway, inst, replace(inst.gateways[1], switchboard_id=99), ctx) == [
        "gateways[1].switchboard: switchboard #99 does not exist"
    ]
    assert refused(save_group, inst, Switchboard(0, ""), ctx) == [
        "switchboards[1].name: the name is required"
    ]
    inst = delete_group(inst, "switchboards", board.id, ctx)
    assert inst.gateways[1].switchboard_id is None


def test_eq_device_one_per_gateway_with_thd(ctx: RuleContext) -> None:
    inst = save_device(new_installation(), Device(0, 1, "0 146 68", 2, name="Main"), ctx)
    inst = save_device(inst, Device(0, 1, "0 590 14", 3, name="EV"), ctx)
    main, ev = inst.devices
    inst2 = set_eq_device(inst, 1, main.id, ctx)
    assert inst2.local.eq_device_id == main.id
    assert refused(set_eq_device, inst, 1, ev.id, ctx) == [
        'gateways[0].eq_device: "EV" cannot be the EQ device: it gives neither THD nor harmonics'
    ]
    ten = RuleContext(ctx.catalog, licence=10)
    assert refused(set_eq_device, inst, 1, main.id, ten) == [
        "gateways[0].eq_device: the EN 50160 check needs the 32-address licence (4 149 48)"
    ]
    # Deleting the EQ device clears it.
    assert delete_device(inst2, main.id, ctx).local.eq_device_id is None


def test_licence_counts_addresses_and_pulse_meters(ctx: RuleContext) -> None:
    ten = RuleContext(ctx.catalog, licence=10)
    inst = new_installation()
    for address in range(1, 9):
        inst = save_device(inst, Device(0, 1, "0 146 68", address), ten)
    inst = save_device(inst, Device(0, 1, "0 046 73", 20, concentrator="0 046 87", position=1), ten)
    inst = save_device(inst, Device(0, 1, "0 046 73", 20, concentrator="0 046 87", position=2), ten)
    assert refused(save_device, inst, Device(0, 1, "0 146 68", 9), ten) == [
        "devices: 11 Modbus addresses and pulse meters are configured; the licence allows 10"
    ]


def test_device_problems_for_the_form(ctx: RuleContext) -> None:
    inst = save_device(new_installation(), Device(0, 1, "0 146 68", 2, name="Main"), ctx)
    problems = device_problems(inst, Device(0, 1, "0 146 68", 2, name="Main"), ctx)
    assert {v.field for v in problems} == {"address", "name"}
    assert device_problems(inst, replace(inst.devices[0], name="Renamed"), ctx) == []


def test_refused_edit_keeps_installation(ctx: RuleContext) -> None:
    inst = save_device(new_installation(), Device(0, 1, "0 146 68", 2, name="Main"), ctx)
    with pytest.raises(InstallationError):
        save_device(inst, replace(inst.devices[0], address=0), ctx)
    assert inst.devices[0].address == 2
    assert inst.revision == 1
