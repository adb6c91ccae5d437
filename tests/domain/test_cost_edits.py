"""Edits of the cost pages: a place is replaced, added or removed; tariffs stay by date."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ews_tui.domain.cost_edits import (
    delete_band,
    delete_rule,
    delete_tariff,
    move_rule,
    put_band,
    put_rule,
    put_tariff,
    set_page,
    tariff_index,
)
from ews_tui.domain.costs import CostRule, CostSettings, Tariff, TimeBand

JAN = Tariff(date(2025, 1, 1), Decimal("0.17"))
BAND = TimeBand(frozenset({0}), 7, 22, Decimal("0.21"))


def _one_rule() -> CostSettings:
    return put_rule(CostSettings(), "electricity", None, CostRule("Site", (JAN,)))


def test_set_page_keeps_the_rules_and_the_other_energies() -> None:
    settings = set_page(_one_rule(), "gas", "CHF", Decimal("10.5"))
    assert (settings.of("gas").currency, settings.of("gas").kwh_per_m3) == ("CHF", Decimal("10.5"))
    assert settings.of("electricity").rules == _one_rule().of("electricity").rules
    assert [e.energy for e in settings.energies] == ["electricity", "gas", "water"]


def test_rules_are_added_replaced_and_deleted_in_place() -> None:
    settings = put_rule(_one_rule(), "electricity", None, CostRule("Offices", (JAN,)))
    settings = put_rule(settings, "electricity", 0, CostRule("Whole site", (JAN,)))
    assert [r.name for r in settings.of("electricity").rules] == ["Whole site", "Offices"]
    settings = delete_rule(settings, "electricity", 0)
    assert [r.name for r in settings.of("electricity").rules] == ["Offices"]


def test_a_rule_moves_within_the_list_and_stops_at_its_ends() -> None:
    settings = _one_rule()
    for name in ("Offices", "Night"):
        settings = put_rule(settings, "electricity", None, CostRule(name, (JAN,)))

    def names(s: CostSettings) -> list[str]:
        return [r.name for r in s.of("electricity").rules]

    assert names(move_rule(settings, "electricity", 2, -1)) == ["Site", "Night", "Offices"]
    assert names(move_rule(settings, "electricity", 0, 1)) == ["Offices", "Site", "Night"]
    assert names(move_rule(settings, "electricity", 0, -1)) == names(settings)
    assert names(move_rule(settings, "electricity", 2, 5)) == names(settings)
    assert move_rule(settings, "electricity", 1, 1).of("gas") == settings.of("gas")


def test_tariffs_are_kept_in_date_order() -> None:
    older = Tariff(date(2024, 1, 1), Decimal("0.15"))
    settings = put_tariff(_one_rule(), "electricity", 0, None, older)
    tariffs = settings.of("electricity").rules[0].tariffs
    assert [t.valid_from.year for t in tariffs] == [2024, 2025]
    assert tariff_index(settings, "electricity", 0, older) == 0
    settings = delete_tariff(settings, "electricity", 0, 0)
    assert settings.of("electricity").rules[0].tariffs == (JAN,)


def test_bands_are_added_replaced_and_deleted() -> None:
    settings = put_band(_one_rule(), "electricity", 0, 0, None, BAND)
    cheaper = TimeBand(BAND.days, 22, 24, Decimal("0.1"))
    settings = put_band(settings, "electricity", 0, 0, None, cheaper)
    settings = put_band(settings, "electricity", 0, 0, 0, TimeBand(BAND.days, 6, 22, BAND.price))
    bands = settings.of("electricity").rules[0].tariffs[0].bands
    assert [(b.start, b.end) for b in bands] == [(6, 22), (22, 24)]
    settings = delete_band(settings, "electricity", 0, 0, 0)
    assert settings.of("electricity").rules[0].tariffs[0].bands == (cheaper,)
