"""The installation as a TOML document: reading with places, writing, round trips."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
from ews_tui.domain.installation_doc import from_document, parse_address, to_document
from ews_tui.domain.rules import RuleContext, validate


def rich(ctx: RuleContext) -> Installation:
    inst = new_installation()
    inst = save_group(inst, Switchboard(0, "TGBT", "basement"), ctx)
    inst = save_group(inst, Zone(0, "Floor 1"), ctx)
    inst = save_group(inst, Zone(0, "Floor 2", "east wing"), ctx)
    inst = save_group(inst, Circuit(0, "Kitchen"), ctx)
    inst = save_gateway(
        inst,
        Gateway(0, "GW2", "192.168.1.20", port=5020, description="roof", switchboard_id=1),
        ctx,
    )
    zones = tuple(z.id for z in inst.zones)
    inst = save_device(
        inst,
        Device(
            0,
            1,
            "0 146 68",
            5,
            name="Main",
            zone_ids=zones,
            circuit_id=inst.circuits[-1].id,
            advanced=Advanced(exclude_from_totals=True),
        ),
        ctx,
    )
    inst = save_device(inst, Device(0, 1, "4 149 20", 21, interface=2, supply="downstream"), ctx)
    inst = save_device(inst, Device(0, 1, "0 046 73", 30, concentrator="0 046 87", position=3), ctx)
    inst = save_device(inst, Device(0, 2, "0 590 32", 4, side=2, phase="L3", enabled=False), ctx)
    inst = save_device(
        inst, Device(0, 2, "GENERIC", 9, generic=GenericRegister(4, 0x156, 2, 0.01)), ctx
    )
    inst = save_device(
        inst,
        Device(
            0, 2, "0 261 36", 10, advanced=Advanced(labels=(("in1", "Door"), ("out1", "Siren")))
        ),
        ctx,
    )
    inst = save_gateway(inst, replace(inst.local, eq_device_id=inst.devices[0].id), ctx)
    inst = save_group(inst, replace(inst.circuits[0], active=False), ctx)
    return inst


def same(a: Installation, b: Installation) -> None:
    assert replace(a, revision=0) == replace(b, revision=0)


def test_round_trip_keeps_everything(ctx: RuleContext) -> None:
    inst = rich(ctx)
    doc = to_document(inst)
    back, problems = from_document(doc, ctx)
    assert problems == []
    same(back, inst)
    assert doc["gateways"][0]["devices"][1]["address"] == "1-2"
    assert doc["gateways"][1]["devices"][1]["generic"]["register"] == "0156"


def test_import_keeps_ids_of_objects_with_the_same_name(ctx: RuleContext) -> None:
    inst = rich(ctx)
    doc = to_document(inst)
    doc["gateways"][0]["devices"].reverse()
    back, problems = from_document(doc, ctx, previous=inst)
    assert problems == []
    assert {d.name: d.id for d in back.devices} == {d.name: d.id for d in inst.devices}


def test_local_is_added_when_the_file_omits_it(ctx: RuleContext) -> None:
    doc = {
        "gateways": [
            {"name": "GW", "ip": "10.0.0.2", "devices": [{"model": "014668", "address": 3}]}
        ]
    }
    inst, problems = from_document(doc, ctx)
    assert problems == []
    assert [g.name for g in inst.gateways] == ["Local", "GW"]
    assert inst.devices[0].model == "0 146 68" and inst.devices[0].name == "3"


def test_every_problem_has_its_place(ctx: RuleContext) -> None:
    doc = {
        "gateways": [
            {
                "name": "Local",
                "ip": "127.0.0.1",
                "colour": "red",
                "devices": [
                    {"model": "0 146 68", "address": 5, "name": "A"},
                    {"model": "0 146 68", "address": "x", "name": "B"},
                    {"model": "0 146 68", "address": 6, "name": 7},
                    {"model": "0 146 68", "address": 8, "zones": ["Nowhere"], "circuit": "Garage"},
                ],
            },
            {"name": "GW", "ip": "10.0.0.2", "switchboard": "Nope", "eq_device": "Ghost"},
        ],
        "zones": "not a list",
    }
    _, problems = from_document(doc, ctx)
    assert [str(p) for p in problems] == [
        "zones: expected an array of tables",
        "gateways[0].colour: unknown key",
        'gateways[0].devices[1].address: "x" is not a Modbus address',
        "gateways[0].devices[2].name: expected text, got 7",
        'gateways[0].devices[3].circuit: no circuit is named "Garage"',
        'gateways[0].devices[3].zones[0]: no zone is named "Nowhere"',
        'gateways[1].switchboard: no switchboard is named "Nope"',
        'gateways[1].eq_device: no device of this gateway is named "Ghost"',
    ]


def test_rule_violations_come_with_places(ctx: RuleContext) -> None:
    doc = {
        "gateways": [
            {
                "ip": "10.0.0.2",
                "name": "A",
                "devices": [
                    {"model": "0 146 68", "address": 1},
                    {"model": "0 146 68", "address": 1, "name": "x"},
                    {"model": "0 146 68", "address": 1, "name": "y"},
                    {"model": "", "address": 4},
                ],
            }
        ]
    }
    _, problems = from_document(doc, ctx)
    # The file's own indexes: its first gateway is gateways[0] (the model adds Local first).
    assert [str(p) for p in problems] == [
        "gateways[0].devices[3].model: the model is missing (Configuration error)",
        'gateways[0].devices[1].address: address 1 is already used by "1"',
        'gateways[0].devices[2].address: address 1 is already used by "1"',
    ]


def test_places_are_the_files_own_indexes(ctx: RuleContext) -> None:
    """Circuits after the presets, Local in the middle of the file, a skipped device."""
    doc = {
        "circuits": [{"name": f"C{i}"} for i in range(8)] + [{"name": "Ninth"}],
        "gateways": [
            {"ip": "10.0.0.2", "name": "A", "devices": [{}, {"model": "", "address": 4}]},
            {"ip": "127.0.0.1", "name": "Local"},
            {"ip": "10.0.0.3", "name": "A"},
        ],
    }
    _, problems = from_document(doc, ctx)
    lines = [str(p) for p in problems]
    assert "gateways[0].devices[0]: expected a table" not in lines  # {} is an empty table
    assert "gateways[0].devices[1].model: the model is missing (Configuration error)" in lines
    assert 'gateways[2].name: the name "A" is already used by another gateway' in lines
    assert "circuits[8]: at most 8 circuits of your own (14 in all)" in lines
    assert not any(line.startswith("circuits[15]") for line in lines)


def test_parse_address_forms() -> None:
    assert parse_address("12") == parse_address(12)
    assert parse_address("2-1", "emscx3").address == 12  # type: ignore[union-attr]
    assert parse_address(" 5 - 3 ", "pulse").position == 3  # type: ignore[union-attr]
    assert parse_address("2-1", "modbus") is None
    assert parse_address("abc") is None


# -------------------------------------------------------------------- hypothesis

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 300),
    st.text(max_size=6),
    st.floats(allow_nan=True),
    st.sampled_from(
        [
            "0 146 68",
            "GAS",
            "0 046 87",
            "0 590 32",
            "GENERIC",
            "4 149 20",
            "L1",
            "upstream",
            "2-1",
            "5-3",
        ]
    ),
)
_device = st.dictionaries(
    st.sampled_from(
        [
            "name",
            "model",
            "address",
            "concentrator",
            "position",
            "side",
            "phase",
            "supply",
            "circuit",
            "zones",
            "enabled",
            "generic",
            "advanced",
            "junk",
        ]
    ),
    st.one_of(
        _scalars,
        st.lists(_scalars, max_size=3),
        st.dictionaries(
            st.sampled_from(
                ["fc", "register", "words", "multiplier", "labels", "exclude_from_totals", "in1"]
            ),
            _scalars,
            max_size=3,
        ),
    ),
    max_size=8,
)
_gateway = st.fixed_dictionaries(
    {"devices": st.lists(_device, max_size=4)},
    optional={
        "name": _scalars,
        "ip": st.sampled_from(["127.0.0.1", "10.0.0.2", "10.0.0.300", ""]),
        "port": _scalars,
        "enabled": _scalars,
        "eq_device": _scalars,
        "switchboard": _scalars,
    },
)
_document = st.fixed_dictionaries(
    {"gateways": st.lists(_gateway, max_size=3)},
    optional={
        "zones": st.lists(
            st.dictionaries(st.sampled_from(["name", "active"]), _scalars), max_size=2
        ),
        "circuits": st.lists(
            st.dictionaries(st.sampled_from(["name", "preset", "active"]), _scalars), max_size=2
        ),
    },
)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(doc=_document)
def test_random_documents_give_an_installation_or_messages(ctx: RuleContext, doc: dict) -> None:
    inst, problems = from_document(doc, ctx)
    for problem in problems:
        text = str(problem)
        assert text and ": " in text
    if not problems:
        assert validate(inst, ctx) == []
        again, problems_again = from_document(to_document(inst), ctx)
        assert problems_again == []
        same(again, inst)


# -- hostile documents (issue 12 items 5 and 6) ----------------------------------------------

HOSTILE = "\x1b]0;PWNED-TITLE\x07\x1b[2J"


def test_a_document_with_control_characters_in_names_is_refused(ctx: RuleContext) -> None:
    doc = {
        "gateways": [
            {
                "name": "Roof",
                "ip": "192.168.1.20",
                "description": "roof\x9b",
                "devices": [{"name": HOSTILE, "model": "0 146 68", "address": 3}],
            }
        ],
        "zones": [{"name": "Floor\x07", "description": "d" * 121}],
    }
    _, problems = from_document(doc, ctx)
    assert [str(p) for p in problems] == [
        "gateways[0].description: control characters (here \\x9b) are not allowed",
        "gateways[0].devices[0].name: control characters (here \\x1b) are not allowed",
        "zones[0].name: control characters (here \\x07) are not allowed",
        "zones[0].description: 121 characters: at most 120 are allowed",
    ]


def test_a_huge_or_hostile_value_is_quoted_short_and_printable(ctx: RuleContext) -> None:
    doc = {
        "gateways": [
            {
                "name": "Roof",
                "ip": "192.168.1.20",
                HOSTILE + "k" * 10_000: 1,
                "devices": [{"name": "M", "model": "m" * 10_000_000, "address": [[1] * 1000]}],
            }
        ]
    }
    _, problems = from_document(doc, ctx)
    lines = [str(p) for p in problems]
    assert all(len(line) < 200 and "\x1b" not in line for line in lines), lines
    assert lines[0].startswith("gateways[0].\\x1b]0;PWNED-TITLE\\x07") and lines[0].endswith(
        "…: unknown key"
    )
    assert any(line.startswith('gateways[0].devices[0].model: "mmmm') for line in lines)
