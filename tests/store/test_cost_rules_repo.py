"""Cost pages stored exactly as typed, refused whole when a rule breaks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ews_tui.domain.costs import CostError, CostRule, CostSettings, EnergyCosts, Tariff, TimeBand
from ews_tui.store.cost_rules_repo import CostRulesRepo
from ews_tui.store.db import Database

SETTINGS = CostSettings(
    (
        EnergyCosts(
            "electricity",
            "EUR",
            (
                CostRule(
                    "Peak/off-peak",
                    (
                        Tariff(
                            date(2024, 1, 1),
                            Decimal("0.1520"),
                            (TimeBand(frozenset({0, 1, 2, 3, 4}), 8, 20, Decimal("0.2461")),),
                        ),
                        Tariff(date(2025, 2, 1), Decimal("0.17")),
                    ),
                ),
                CostRule("Kitchen", (Tariff(date(2024, 1, 1), Decimal("0.3")),), (5,), (2, 3)),
            ),
        ),
        EnergyCosts("gas", "CHF", (), Decimal("11.25")),
        EnergyCosts("water", "EUR"),
    )
)


def strip_ids(settings: CostSettings) -> CostSettings:
    from dataclasses import replace

    return CostSettings(
        tuple(replace(e, rules=tuple(replace(r, id=0) for r in e.rules)) for e in settings.energies)
    )


async def test_saved_cost_pages_load_back_the_same(db: Database) -> None:
    repo = CostRulesRepo(db)
    assert (await repo.load()).of("electricity").rules == ()
    saved = await repo.save(SETTINGS)
    assert strip_ids(saved) == SETTINGS
    assert strip_ids(await repo.load()) == SETTINGS
    assert str((await repo.load()).of("electricity").rules[0].tariffs[0].base) == "0.1520"


async def test_a_bad_currency_is_refused_and_nothing_changes(db: Database) -> None:
    repo = CostRulesRepo(db)
    await repo.save(SETTINGS)
    with pytest.raises(CostError, match=r"gas\.currency"):
        await repo.save(CostSettings((EnergyCosts("gas", "XYZ"),)))
    assert strip_ids(await repo.load()) == SETTINGS
