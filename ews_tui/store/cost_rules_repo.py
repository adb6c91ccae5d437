"""The cost pages (manual §7.16.3) in the store: currencies, rules, tariffs and bands.

Prices and the gas factor are stored as decimal text, so a price reads back exactly as typed.
:meth:`CostRulesRepo.save` validates, then replaces every cost table in one transaction.
A band's days are a bit mask (bit 0 = Monday).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ews_tui.domain.costs import (
    ENERGIES,
    CostRule,
    CostSettings,
    EnergyCosts,
    Tariff,
    TimeBand,
    validate,
)
from ews_tui.store.db import Database


def _mask(days: frozenset[int]) -> int:
    return sum(1 << d for d in days)


def _days(mask: int) -> frozenset[int]:
    return frozenset(d for d in range(7) if mask & (1 << d))


class CostRulesRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self) -> CostSettings:
        """The stored cost pages (an energy never saved: EUR, no rules)."""
        async with self._db.snapshot() as conn:
            pages = list(await conn.execute_fetchall("SELECT * FROM cost_energies"))
            rules = list(await conn.execute_fetchall("SELECT * FROM cost_rules ORDER BY seq, id"))
            targets = list(await conn.execute_fetchall("SELECT * FROM cost_rule_targets"))
            tariffs = list(
                await conn.execute_fetchall("SELECT * FROM cost_tariffs ORDER BY valid_from")
            )
            bands = list(await conn.execute_fetchall("SELECT * FROM cost_bands ORDER BY seq"))
        bands_of: dict[int, list[TimeBand]] = {}
        for b in bands:
            band = TimeBand(_days(b["days"]), b["start_hour"], b["end_hour"], Decimal(b["price"]))
            bands_of.setdefault(b["tariff_id"], []).append(band)
        tariffs_of: dict[int, list[Tariff]] = {}
        for t in tariffs:
            tariff = Tariff(
                date.fromisoformat(t["valid_from"]),
                Decimal(t["base"]),
                tuple(bands_of.get(t["id"], ())),
            )
            tariffs_of.setdefault(t["rule_id"], []).append(tariff)
        rules_of: dict[str, list[CostRule]] = {}
        for r in rules:
            mine = [t for t in targets if t["rule_id"] == r["id"]]
            rule = CostRule(
                name=r["name"],
                tariffs=tuple(tariffs_of.get(r["id"], ())),
                circuit_ids=tuple(sorted(t["target_id"] for t in mine if t["kind"] == "circuit")),
                zone_ids=tuple(sorted(t["target_id"] for t in mine if t["kind"] == "zone")),
                id=r["id"],
            )
            rules_of.setdefault(r["energy"], []).append(rule)
        page_of = {p["energy"]: p for p in pages}
        energies = []
        for energy in ENERGIES:
            page = page_of.get(energy)
            factor = page["kwh_per_m3"] if page is not None else None
            energies.append(
                EnergyCosts(
                    energy,
                    page["currency"] if page is not None else "EUR",
                    tuple(rules_of.get(energy, ())),
                    Decimal(factor) if factor is not None else None,
                )
            )
        return CostSettings(tuple(energies))

    async def save(self, settings: CostSettings) -> CostSettings:
        """Validate (CostError lists every problem) and store ``settings``; the stored value."""
        validate(settings)
        async with self._db.transaction() as conn:
            for table in ("cost_bands", "cost_tariffs", "cost_rule_targets", "cost_rules"):
                await conn.execute(f"DELETE FROM {table}")
            await conn.execute("DELETE FROM cost_energies")
            for page in settings.energies:
                await conn.execute(
                    "INSERT INTO cost_energies (energy, currency, kwh_per_m3) VALUES (?, ?, ?)",
                    (
                        page.energy,
                        page.currency,
                        str(page.kwh_per_m3) if page.kwh_per_m3 is not None else None,
                    ),
                )
                for seq, rule in enumerate(page.rules):
                    cursor = await conn.execute(
                        "INSERT INTO cost_rules (energy, seq, name) VALUES (?, ?, ?)",
                        (page.energy, seq, rule.name),
                    )
                    rule_id = cursor.lastrowid
                    await conn.executemany(
                        "INSERT INTO cost_rule_targets (rule_id, kind, target_id) VALUES (?, ?, ?)",
                        [(rule_id, "circuit", c) for c in rule.circuit_ids]
                        + [(rule_id, "zone", z) for z in rule.zone_ids],
                    )
                    for tariff in rule.tariffs:
                        cursor = await conn.execute(
                            "INSERT INTO cost_tariffs (rule_id, valid_from, base) VALUES (?, ?, ?)",
                            (rule_id, tariff.valid_from.isoformat(), str(tariff.base)),
                        )
                        await conn.executemany(
                            "INSERT INTO cost_bands (tariff_id, seq, days, start_hour, end_hour,"
                            " price) VALUES (?, ?, ?, ?, ?, ?)",
                            [
                                (cursor.lastrowid, i, _mask(b.days), b.start, b.end, str(b.price))
                                for i, b in enumerate(tariff.bands)
                            ],
                        )
        return await self.load()
