"""The cost pages in the installation document: written by name, read back exactly (prices
as typed), and every problem placed where the file has it."""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal

import tomli_w

from ews_tui.domain.costs import CostRule, CostSettings, EnergyCosts, Tariff, TimeBand
from ews_tui.domain.costs_doc import costs_from_document, costs_to_document
from ews_tui.domain.installation_doc import from_document, to_document
from ews_tui.domain.rules import RuleContext
from tests.domain.test_installation_doc import rich


def costs_of(ctx: RuleContext) -> CostSettings:
    inst = rich(ctx)
    kitchen = next(c.id for c in inst.circuits if c.name == "Kitchen")
    lighting = next(c.id for c in inst.circuits if c.preset == "lighting")
    floors = tuple(z.id for z in inst.zones)
    weekdays = frozenset(range(5))
    return CostSettings(
        (
            EnergyCosts(
                "electricity",
                "CHF",
                (
                    CostRule(
                        "Kitchen",
                        (
                            Tariff(date(2024, 1, 1), Decimal("0.2146")),
                            Tariff(
                                date(2025, 2, 1),
                                Decimal("0.25160"),
                                (
                                    TimeBand(weekdays, 0, 6, Decimal("0.1696")),
                                    TimeBand(frozenset({5, 6}), 22, 24, Decimal("0.1")),
                                ),
                            ),
                        ),
                        circuit_ids=tuple(sorted((kitchen, lighting))),
                        zone_ids=floors,
                    ),
                    CostRule("Site", (Tariff(date(2024, 1, 1), Decimal("0.3")),)),
                ),
            ),
            EnergyCosts(
                "gas",
                "EUR",
                (CostRule("Gas", (Tariff(date(2024, 1, 1), Decimal("1.25")),)),),
                Decimal("11.2"),
            ),
            EnergyCosts("water", "EUR"),
        )
    )


def _without_ids(settings: CostSettings) -> CostSettings:
    from dataclasses import replace

    return CostSettings(
        tuple(
            replace(page, rules=tuple(replace(rule, id=0) for rule in page.rules))
            for page in settings.energies
        )
    )


def test_a_round_trip_through_toml_gives_the_same_cost_pages(ctx: RuleContext) -> None:
    inst, costs = rich(ctx), costs_of(ctx)
    text = tomli_w.dumps(to_document(inst, costs))
    doc = tomllib.loads(text)
    assert doc["costs"][0]["rules"][0]["circuits"] == ["Lighting", "Kitchen"]
    assert doc["costs"][0]["rules"][0]["tariffs"][1]["base"] == "0.25160"  # as typed
    assert doc["costs"][0]["rules"][0]["tariffs"][1]["bands"][1]["days"] == ["sat", "sun"]
    back, problems = from_document(doc, ctx)
    assert problems == []
    read, problems = costs_from_document(doc["costs"], back)
    assert problems == []
    assert _without_ids(read) == _without_ids(costs)


def test_names_resolve_in_the_imported_installation(ctx: RuleContext) -> None:
    doc = {
        "zones": [{"name": "North"}],
        "costs": [
            {
                "energy": "water",
                "rules": [
                    {
                        "name": "N",
                        "zones": ["north"],
                        "circuits": ["heating"],  # a preset by its key
                        "tariffs": [{"valid_from": "2025-01-01", "base": 4.3}],
                    }
                ],
            }
        ],
    }
    inst, problems = from_document(doc, ctx)
    assert problems == []
    costs, _ = costs_from_document(doc["costs"], inst)
    rule = costs.of("water").rules[0]
    assert rule.zone_ids == (inst.zones[0].id,)
    assert rule.circuit_ids == (next(c.id for c in inst.circuits if c.preset == "heating"),)
    assert rule.tariffs[0].base == Decimal("4.3")
    assert costs.of("electricity") == EnergyCosts("electricity")  # not in the file: none


def test_every_problem_has_its_place_in_the_file(ctx: RuleContext) -> None:
    doc = {
        "costs": [
            {"energy": "electricity", "currency": "XYZ", "rules": [{"name": "A", "tariffs": []}]},
            {
                "energy": "gas",
                "rules": [
                    {
                        "name": "G",
                        "circuits": ["Nowhere"],
                        "tariffs": [
                            {
                                "valid_from": "someday",
                                "base": "cheap",
                                "bands": [{"days": ["mon", "fun"], "start": 8, "end": 4,
                                           "price": "1", "colour": "red"}],
                            }
                        ],
                    }
                ],
            },
            {"energy": "steam"},
            {"energy": "gas"},
        ]
    }  # fmt: skip
    _inst, problems = from_document(doc, ctx)
    places = {p.place: p.message.msgid for p in problems}
    assert set(places) == {
        "costs[1].rules[0].circuits[0]",
        "costs[1].rules[0].tariffs[0].valid_from",
        "costs[1].rules[0].tariffs[0].base",
        "costs[1].rules[0].tariffs[0].bands[0].days[1]",
        "costs[1].rules[0].tariffs[0].bands[0].colour",
        "costs[2].energy",
        "costs[3].energy",
    }
    # The rules of the domain (currency, tariffs, hours) once the shape is right.
    doc["costs"] = doc["costs"][:1]
    _inst, problems = from_document(doc, ctx)
    assert {p.place for p in problems} == {
        "costs[0].currency",
        "costs[0].rules[0].tariffs",
    }


def test_a_document_without_costs_has_no_cost_problem(ctx: RuleContext) -> None:
    inst = rich(ctx)
    doc = to_document(inst)
    assert "costs" not in doc
    assert from_document(doc, ctx)[1] == []
    assert costs_to_document(CostSettings(), inst) == [
        {"energy": "electricity", "currency": "EUR", "rules": []},
        {"energy": "gas", "currency": "EUR", "rules": []},
        {"energy": "water", "currency": "EUR", "rules": []},
    ]
