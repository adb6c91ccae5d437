"""Cost rules: ISO 4217 currencies, time bands, validity dates, which rule prices a device."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ews_tui.domain.costs import (
    CostError,
    CostRule,
    CostSettings,
    EnergyCosts,
    Tariff,
    TimeBand,
    gas_kwh,
    is_currency,
    price_classes,
    validate,
)
from ews_tui.domain.installation import Device

WEEKDAYS = frozenset(range(5))
D = Decimal


def peak_tariff(valid_from: date, base: str = "0.15", peak: str = "0.25") -> Tariff:
    return Tariff(valid_from, D(base), (TimeBand(WEEKDAYS, 8, 20, D(peak)),))


@pytest.mark.parametrize("code", ["EUR", "USD", "GBP", "CHF", "JPY", "PLN", "HUF"])
def test_iso_4217_codes_are_currencies(code: str) -> None:
    assert is_currency(code)


@pytest.mark.parametrize("code", ["eur", "EU", "EURO", "ABC", "€", ""])
def test_other_codes_are_not(code: str) -> None:
    assert not is_currency(code)


def test_bands_price_their_days_and_hours_and_the_base_the_rest() -> None:
    prices = peak_tariff(date(2024, 1, 1)).week_prices()
    assert prices[0 * 24 + 7] == D("0.15")  # Monday 07:00
    assert prices[0 * 24 + 8] == D("0.25")  # Monday 08:00
    assert prices[4 * 24 + 19] == D("0.25")  # Friday 19:00
    assert prices[4 * 24 + 20] == D("0.15")  # Friday 20:00
    assert prices[5 * 24 + 12] == D("0.15")  # Saturday noon


def test_the_tariff_in_force_follows_the_validity_dates() -> None:
    rule = CostRule("EDF", (peak_tariff(date(2024, 1, 1)), peak_tariff(date(2024, 8, 1), "0.2")))
    assert rule.tariff_on(date(2023, 12, 31)) is None
    assert rule.tariff_on(date(2024, 7, 31)).base == D("0.15")  # type: ignore[union-attr]
    assert rule.tariff_on(date(2024, 8, 1)).base == D("0.2")  # type: ignore[union-attr]


def test_a_circuit_rule_wins_over_a_zone_rule_over_the_site_rule() -> None:
    site = CostRule("site", (peak_tariff(date(2024, 1, 1)),))
    zone = CostRule("zone", (peak_tariff(date(2024, 1, 1)),), zone_ids=(3,))
    circuit = CostRule("circuit", (peak_tariff(date(2024, 1, 1)),), circuit_ids=(7,))
    costs = EnergyCosts("electricity", "EUR", (site, zone, circuit))
    assert costs.rule_for(Device(1, 1, "x", 1, circuit_id=7, zone_ids=(3,))) is circuit
    assert costs.rule_for(Device(2, 1, "x", 2, zone_ids=(3,))) is zone
    assert costs.rule_for(Device(3, 1, "x", 3, circuit_id=2)) is site
    assert EnergyCosts("electricity", "EUR", (zone,)).rule_for(Device(4, 1, "x", 4)) is None


def test_price_classes_give_every_rule_one_price_per_class() -> None:
    a = CostRule("a", (peak_tariff(date(2024, 1, 1)),))
    b = CostRule(
        "b", (Tariff(date(2024, 1, 1), D("0.1"), (TimeBand(frozenset({6}), 0, 24, D("0")),)),)
    )
    classes = price_classes((a, b), date(2024, 2, 1))
    assert len(classes.map) == 168 and len(set(classes.map)) == 3
    for how, code in enumerate(classes.map):
        assert classes.prices[0][code] == a.tariffs[0].week_prices()[how]
        assert classes.prices[1][code] == b.tariffs[0].week_prices()[how]
    before = price_classes((a,), date(2023, 1, 1))
    assert set(before.map) == {"A"} and before.prices[0]["A"] is None


def test_validate_lists_every_problem_with_its_place() -> None:
    bad = EnergyCosts(
        "electricity",
        "EURO",
        (
            CostRule(
                " ",
                (
                    Tariff(date(2024, 1, 1), D("-1"), (TimeBand(frozenset(), 20, 8, D("0.1")),)),
                    Tariff(date(2024, 1, 1), D("1")),
                ),
            ),
        ),
        kwh_per_m3=D("10"),
    )
    with pytest.raises(CostError) as caught:
        validate(CostSettings((bad,)))
    places = [where for where, _ in caught.value.problems]
    assert places == [
        "electricity.currency",
        "electricity.kwh_per_m3",
        "electricity.rules[0].name",
        "electricity.rules[0].tariffs",
        "electricity.rules[0].tariffs[0].base",
        "electricity.rules[0].tariffs[0].bands[0].days",
        "electricity.rules[0].tariffs[0].bands[0].hours",
    ]
    assert "ISO 4217" in str(caught.value)


def test_good_settings_pass_and_gas_converts_to_kwh() -> None:
    gas = EnergyCosts(
        "gas", "CHF", (CostRule("g", (Tariff(date(2024, 1, 1), D("1.1")),)),), D("11.2")
    )
    assert validate(CostSettings((gas,))).of("gas") is gas
    assert gas_kwh(2.0, gas) == pytest.approx(22.4)
    assert gas_kwh(2.0, EnergyCosts("gas")) is None
