"""The built-in catalog covers manual §5, and user model files parse, merge and fail clearly."""

from __future__ import annotations

import re
import tomllib

import pytest

from ews_tui.domain.catalog import (
    Catalog,
    Model,
    builtin_catalog,
    check_catalog,
    generic_map,
    known_unit,
    normalize_ref,
    parse_catalog,
)
from ews_tui.domain.errors import CatalogError

# Every reference of manual §5 "Dispositifs compatibles" (and §7.16.1.3), as printed there.
MANUAL_REFS = """
0 046 76, 4 120 45, 4 120 51, 0 146 68, 4 120 47, 4 120 52, 0 146 69, 4 120 53,
0 046 77, 4 120 68, 0 046 79, 4 120 81, 4 120 83,
0 046 80, 0 046 83, 4 120 74, 4 120 75, 4 120 91, 4 120 93,
0 046 84, 0 046 86, 4 120 41, 4 120 43,
4 149 26, 4 120 65, 0 046 87,
0 046 70, 0 046 72, 0 046 81, 0 046 78, 4 120 69, 4 120 80, 4 120 82,
0 046 73, 0 046 82, 4 120 90, 4 120 92,
0 046 74, 0 046 85, 4 120 40, 4 120 42,
4 149 18, 4 149 19, 4 149 20, 4 149 21, 4 149 23, 4 149 22, 4 149 24, 4 149 25, 4 149 27,
4 149 29, 4 149 30, 4 149 31, 4 149 32,
4 106 57, 4 106 58, 4 106 59,
0 288 03, 0 288 04, 0 288 00, 0 288 01, 0 288 02,
0 261 36, 0 288 12,
0 590 00, 0 590 01, 0 590 03, 0 590 04, 0 590 10, 0 590 11, 0 590 12, 0 590 13, 0 590 30,
0 590 35, 0 590 41, 0 590 42, 0 590 43, 0 590 44, 0 590 02, 0 590 14, 0 590 15, 0 590 48,
0 590 49,
0 590 31, 0 590 33, 0 590 37, 0 590 76, 0 590 91, 0 590 93,
0 590 32, 0 590 34, 0 590 38, 0 590 77, 0 590 78,
0 590 61, 0 590 63, 0 590 40, 0 590 57, 0 590 58,
0 590 45, 0 590 94, 0 590 95, 0 590 96, 0 590 97,
0 590 46, 0 590 64, 0 590 65, 0 590 47, 0 590 66, 0 590 67
"""
REFS = [r.strip() for r in MANUAL_REFS.replace("\n", " ").split(",")]
# Devices the manual names without a reference, and the third-party models.
NAMED = [
    "DPX3 250 MU",
    "DPX3 630 MU",
    "DPX3 1600 MU",
    "DPX3 250 ELEC",
    "DPX3 250 ELEC RCD",
    "DPX3 250 TM RCD",
    "DPX3 630 ELEC",
    "DPX3 1600 ELEC",
    "GAS METER",
    "WATER METER",
    "GENERIC",
    "SDM630",
    "SDM120",
    "EM24",
    "UMG604",
    "COUNTIS E3X",
]
TWO_SIDED_FORMER = {
    f"0 590 {n}"
    for n in ("32", "34", "38", "40", "47", "57", "58", "66", "67", "77", "78", "96", "97")
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return builtin_catalog()


def test_reference_list_is_complete() -> None:
    assert len(REFS) == 110 and len(set(REFS)) == len(REFS)


@pytest.mark.parametrize("ref", REFS + NAMED)
def test_every_manual_reference_resolves(catalog: Catalog, ref: str) -> None:
    model = catalog.find(ref)
    assert model is not None, ref
    assert catalog.find(ref.replace(" ", "")) is model
    assert catalog.find(ref.lower()) is model
    assert catalog.find(f"  {ref}  ") is model


def test_every_family_has_models_and_every_model_a_family(catalog: Catalog) -> None:
    check_catalog(catalog)
    ids = [f.id for f in catalog.families]
    assert len(ids) == len(set(ids)) == 15
    for family in catalog.families:
        assert catalog.models_of(family.id), family.id


def test_references_are_unique(catalog: Catalog) -> None:
    keys = [normalize_ref(k) for m in catalog.models for k in (m.ref, *m.aliases)]
    assert len(keys) == len(set(keys))


def test_every_modbus_model_has_its_map(catalog: Catalog) -> None:
    for model in catalog.models:
        if model.addressing == "pulse" or model.generic:
            assert model.map is None, model.ref
            continue
        reg_map = catalog.register_map(model)
        assert reg_map is not None and reg_map.quantities, model.ref


def test_quantity_ids_and_units_are_the_known_ones(catalog: Catalog) -> None:
    for reg_map in catalog.maps.values():
        for q in reg_map.quantities:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", q.id)
            assert known_unit(q.id) == q.unit, (reg_map.id, q.id, q.unit)
            energy = q.unit in ("kWh", "kvarh") or q.id.endswith("_index")
            assert q.poll == ("slow" if energy else "fast"), (reg_map.id, q.id)


def test_no_two_quantities_overlap_and_none_is_unreadable(catalog: Catalog) -> None:
    for reg_map in catalog.maps.values():
        used: dict[tuple[int, int], str] = {}
        for q in reg_map.quantities:
            for reg in range(q.register, q.register + q.words):
                assert (q.fc, reg) not in used, (reg_map.id, q.id, used.get((q.fc, reg)))
                used[(q.fc, reg)] = q.id
                for fc, first, last in reg_map.unreadable:
                    assert not (fc == q.fc and first <= reg <= last), (reg_map.id, q.id)


def test_maps_carry_turnaround_and_published_maps_a_source(catalog: Catalog) -> None:
    for reg_map in catalog.maps.values():
        assert reg_map.turnaround_ms > 0
        assert 1 <= reg_map.max_registers <= 125
        if reg_map.provenance == "published":
            assert reg_map.source.strip(), reg_map.id
    published = {m.id for m in catalog.maps.values() if m.provenance == "published"}
    assert {
        "emdx3_common",
        "eastron_sdm630",
        "eastron_sdm120",
        "carlo_gavazzi_em24",
        "janitza_umg604",
    } <= published


def test_concentrators_have_indexes_for_every_input(catalog: Catalog) -> None:
    for ref in ("4 149 26", "4 120 65", "0 046 87", "4 120 81", "4 120 91", "4 120 41"):
        model = catalog.find(ref)
        assert model is not None and model.pulse_inputs > 0 and model.is_concentrator
        reg_map = catalog.register_map(model)
        assert reg_map is not None
        for position in range(1, model.pulse_inputs + 1):
            assert reg_map.quantity(f"input{position}_index") is not None, (ref, position)
    assert {m.ref for m in catalog.concentrators()} >= {"4 149 26", "4 120 65", "0 046 87"}


def test_installation_facts_from_the_manual(catalog: Catalog) -> None:
    def model(ref: str) -> Model:
        found = catalog.find(ref)
        assert found is not None
        return found

    for ref in ("4 149 19", "4 149 20", "4 149 23"):
        assert model(ref).supply_direction and model(ref).addressing == "emscx3"
    for ref in ("4 149 18", "4 149 21", "4 149 22", "4 149 29"):
        assert not model(ref).supply_direction and model(ref).alarm_exclusion
    assert model("4 149 29").breaker
    assert model("4 149 30").labels and model("4 149 30").inputs > 0
    assert model("4 149 32").labels and model("4 149 32").outputs > 0
    assert model("0 261 36").labels and model("0 261 36").inputs and model("0 261 36").outputs
    assert model("0 288 12").labels and model("0 288 12").outputs
    for ref in ("4 106 57", "4 106 58", "4 106 59", "DPX3 630 MU", "0 288 04"):
        assert model(ref).supply_direction
    for ref in ("DPX3 250 MU", "DPX3 1600 ELEC", "0 288 03", "0 288 01"):
        assert model(ref).breaker and model(ref).alarm_exclusion
    assert model("GENERIC").generic and model("GENERIC").family == "other"
    assert model("GENERIC").name == "Generic Modbus meter"
    assert model("GAS METER").energy == "gas" and model("GAS METER").index_unit == "m3"
    assert model("WATER METER").energy == "water" and model("WATER METER").index_unit == "m3"
    assert model("0 046 70").addressing == "pulse" and model("0 046 70").index_unit == "kWh"
    assert model("0 146 68").thd and model("0 146 68").provenance == "published"


def test_chargers_sides_and_phases(catalog: Catalog) -> None:
    chargers = [m for m in catalog.models if m.charger]
    assert len(chargers) == 19 + 27
    for m in chargers:
        assert m.phases in (1, 3), m.ref
        reg_map = catalog.register_map(m)
        assert reg_map is not None and reg_map.quantity("charger") is not None
        assert {"p", "ea_import", "session_energy"} <= {q.id for q in reg_map.quantities}
        if m.family == "greenup_premium":
            assert m.sides == 1, m.ref
        else:
            assert m.sides == (2 if m.ref in TWO_SIDED_FORMER else 1), m.ref
    former = catalog.maps["greenup_former"]
    side2 = former.for_side(2)
    for q1, q2 in zip(former.quantities, side2.quantities, strict=True):
        assert q2.register == q1.register + former.side_offset
    assert former.for_side(1) is former


def test_generic_map() -> None:
    reg_map = generic_map(4, 0x0156, 2, 0.1)
    (q,) = reg_map.quantities
    assert (q.id, q.unit, q.fc, q.register, q.type, q.scale, q.poll) == (
        "ea_import",
        "kWh",
        4,
        0x0156,
        "u32",
        0.1,
        "slow",
    )
    assert reg_map.provenance == "assumed" and reg_map.word_order == "high_first"
    assert generic_map(3, 0, 1, 1).quantities[0].type == "u16"
    assert generic_map(3, 0, 4, 1).quantities[0].type == "u64"
    with pytest.raises(CatalogError, match="3 words is not 1, 2 or 4"):
        generic_map(3, 0, 3, 1)
    with pytest.raises(CatalogError, match="function code 6"):
        generic_map(6, 0, 2, 1)
    with pytest.raises(CatalogError, match="multiplier"):
        generic_map(3, 0, 2, 0)


USER_FILE = """
[[maps]]
id = "acme_x1"
provenance = "assumed"
word_order = "low_first"
source = "ACME X1 manual p. 12"
quantities = [
  { id = "v1", unit = "V", register = "0x0100", type = "u16", scale = 0.1 },
  { id = "ea_import", unit = "kWh", register = 0x0200, type = "u32", poll = "slow" },
]

[[models]]
ref = "ACME X1"
name = "ACME X1 meter"
maker = "ACME"
family = "other"
map = "acme_x1"
provenance = "assumed"
phases = 1

# A user may also correct a built-in model: the user's entry wins.
[[models]]
ref = "SDM120"
name = "Eastron SDM120 (site variant)"
family = "other"
map = "acme_x1"
provenance = "assumed"
"""


def test_user_model_file_parses_and_merges(catalog: Catalog) -> None:
    user = parse_catalog([("acme.toml", tomllib.loads(USER_FILE))])
    merged = catalog.merged(user)
    check_catalog(merged)
    acme = merged.find("acmex1")
    assert acme is not None and acme.maker == "ACME"
    reg_map = merged.register_map(acme)
    assert reg_map is not None and reg_map.word_order == "low_first"
    assert reg_map.quantity("v1") is not None and reg_map.quantity("v1").register == 0x100
    sdm120 = merged.find("SDM120")
    assert sdm120 is not None and sdm120.name == "Eastron SDM120 (site variant)"
    assert merged.find("SDM630") is catalog.find("SDM630")
    assert len(merged.models) == len(catalog.models) + 1


def _user_error(text: str) -> str:
    with pytest.raises(CatalogError) as info:
        catalog = parse_catalog([("user.toml", tomllib.loads(text))])
        check_catalog(builtin_catalog().merged(catalog))
    return str(info.value)


MAP_HEAD = '[[maps]]\nid = "m"\nprovenance = "assumed"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            MAP_HEAD + 'quantities = [{ id = "v1", unit = "kV", register = 0 }]',
            "user.toml: maps[0].quantities[0].unit: v1 is in 'V', not 'kV'",
        ),
        (
            MAP_HEAD + 'quantities = [{ id = "V1", unit = "V", register = 0 }]',
            "user.toml: maps[0].quantities[0].id: 'V1' is not a snake_case quantity id",
        ),
        (
            MAP_HEAD + 'quantities = [{ id = "v1", unit = "V", register = 0, type = "u32" },'
            ' { id = "v2", unit = "V", register = 1 }]',
            "user.toml: maps[0].quantities[1]: 'v2' overlaps 'v1' at register 0x1",
        ),
        (
            MAP_HEAD + 'quantities = [{ id = "v1", unit = "V", register = 0 },'
            ' { id = "v1", unit = "V", register = 4 }]',
            "user.toml: maps[0].quantities[1].id: 'v1' appears twice",
        ),
        (
            MAP_HEAD
            + 'unreadable = [[3, 0, 9]]\nquantities = [{ id = "v1", unit = "V", register = 2 }]',
            "user.toml: maps[0].quantities[0]: 'v1' is in the unreadable range 0x0..0x9",
        ),
        (
            MAP_HEAD + 'quantities = [{ id = "v1", unit = "V", register = 0x1FFFF }]',
            "user.toml: maps[0].quantities[0].register: 0x1ffff is outside 0..0xFFFF",
        ),
        (
            MAP_HEAD + 'quantities = [{ id = "v1", unit = "V", register = 0, fc = 1 }]',
            "user.toml: maps[0].quantities[0].fc: function code 1 is not 3 or 4",
        ),
        (
            MAP_HEAD + 'quantities = [{ id = "v1", unit = "V", register = 0, scale = "x" }]',
            "user.toml: maps[0].quantities[0].scale: expected a number",
        ),
        (
            MAP_HEAD + 'quantities = [{ id = "v1", unit = "V", register = 0, colour = 1 }]',
            "user.toml: maps[0].quantities[0]: unknown key 'colour'",
        ),
        (
            MAP_HEAD + 'word_order = "middle"',
            "user.toml: maps[0].word_order: 'middle' is not one of high_first, low_first",
        ),
        (
            '[[models]]\nref = "X"\nname = "X"\nfamily = "other"\nprovenance = "assumed"\n'
            "phases = 2",
            "user.toml: models[0].phases: 2 is not 1 or 3",
        ),
        (
            '[[models]]\nref = "X"\nname = "X"\nfamily = "other"\nprovenance = "assumed"\n'
            'thd = "yes"',
            "user.toml: models[0].thd: expected true or false",
        ),
        (
            '[[models]]\nref = "X"\nfamily = "other"\nprovenance = "assumed"',
            "user.toml: models[0].name: required",
        ),
        (
            '[[models]]\nref = "X"\nname = "X"\nfamily = "nope"\nprovenance = "assumed"',
            "model X: unknown family 'nope'",
        ),
        (
            '[[models]]\nref = "X"\nname = "X"\nfamily = "other"\nprovenance = "assumed"\n'
            'map = "missing_map"',
            "model X: unknown register map 'missing_map'",
        ),
        (
            '[[models]]\nref = "X"\nname = "X"\nfamily = "other"\nprovenance = "assumed"\n'
            '[[models]]\nref = " X "\nname = "Y"\nfamily = "other"\nprovenance = "assumed"',
            "user.toml: models[1]: reference 'X' already in user.toml: models[0]",
        ),
        (
            '[[models]]\nref = "X 1"\nname = "X"\nfamily = "other"\nprovenance = "assumed"\n'
            'aliases = ["x1"]',
            "user.toml: models[0]: reference 'x1' already in user.toml: models[0]",
        ),
    ],
)
def test_user_file_errors_name_file_and_place(text: str, message: str) -> None:
    assert message in _user_error(text)
