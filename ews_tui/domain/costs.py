"""Cost rules (manual §7.16.3): currencies, tariffs with time bands and validity dates.

Pure. Per energy type (electricity, gas, water) the site has a currency (ISO 4217 code), for
gas a conversion factor to show m3 as kWh-equivalent, and cost rules. A rule applies to the
site or to chosen circuits and zones, and is a list of tariffs, each in force from its
``valid_from`` date (local) until the next one starts: a new price is a new tariff, so the
cost of a past period never changes. A tariff has a base price and time bands (days of the
week x hours of the local day) with their own price. Prices are per unit of the energy's
meter: per kWh for electricity, per m3 for gas and water.

Which rule prices a device: a rule naming the device's circuit, else a rule naming one of its
zones, else a site rule; among equals, the first in the list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from babel.numbers import get_currency_name

from ews_tui.domain.errors import DomainError
from ews_tui.domain.installation import Device
from ews_tui.domain.messages import N_, Message
from ews_tui.domain.periods import HOURS_PER_WEEK

ENERGIES: tuple[str, ...] = ("electricity", "gas", "water")
DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CODE = re.compile(r"[A-Z]{3}")


class CostError(DomainError):
    """Cost settings that break a rule; ``problems`` lists each with its place."""

    def __init__(self, problems: Sequence[tuple[str, Message]]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{where}: {msg.render()}" for where, msg in self.problems))


def is_currency(code: str) -> bool:
    """True for an ISO 4217 alphabetic code babel knows (``EUR``, ``CHF``...)."""
    if not _CODE.fullmatch(code):
        return False
    return get_currency_name(code, locale="en") != code


@dataclass(frozen=True)
class TimeBand:
    """Hours ``start``..``end`` (0..24, end excluded) of ``days`` (0 = Monday) at ``price``."""

    days: frozenset[int]
    start: int
    end: int
    price: Decimal

    def hours_of_week(self) -> Iterable[int]:
        for day in sorted(self.days):
            yield from range(day * 24 + self.start, day * 24 + self.end)


@dataclass(frozen=True)
class Tariff:
    """Prices in force from local date ``valid_from``: ``base`` outside the bands."""

    valid_from: date
    base: Decimal
    bands: tuple[TimeBand, ...] = ()

    def week_prices(self) -> tuple[Decimal, ...]:
        """The price of each local hour of the week (0 = Monday 00:00)."""
        prices = [self.base] * HOURS_PER_WEEK
        for band in reversed(self.bands):  # the first band listed wins an overlap
            for how in band.hours_of_week():
                prices[how] = band.price
        return tuple(prices)


@dataclass(frozen=True)
class CostRule:
    """A named list of tariffs for the site (no circuits nor zones) or chosen ones."""

    name: str
    tariffs: tuple[Tariff, ...]
    circuit_ids: tuple[int, ...] = ()
    zone_ids: tuple[int, ...] = ()
    id: int = 0

    @property
    def site(self) -> bool:
        return not self.circuit_ids and not self.zone_ids

    def tariff_on(self, day: date) -> Tariff | None:
        """The tariff in force on local date ``day`` (None before the first one)."""
        found = None
        for tariff in sorted(self.tariffs, key=lambda t: t.valid_from):
            if tariff.valid_from <= day:
                found = tariff
        return found


@dataclass(frozen=True)
class EnergyCosts:
    """The cost page of one energy: currency, gas conversion factor, rules."""

    energy: str
    currency: str = "EUR"
    rules: tuple[CostRule, ...] = ()
    kwh_per_m3: Decimal | None = None  # gas only: kWh-equivalent of one m3

    def rule_for(self, device: Device) -> CostRule | None:
        for rule in self.rules:
            if device.circuit_id is not None and device.circuit_id in rule.circuit_ids:
                return rule
        for rule in self.rules:
            if set(device.zone_ids) & set(rule.zone_ids):
                return rule
        return next((r for r in self.rules if r.site), None)

    def validity_starts(self) -> tuple[date, ...]:
        """Every date a tariff starts, over all rules (cost periods are cut there)."""
        return tuple(sorted({t.valid_from for r in self.rules for t in r.tariffs}))


@dataclass(frozen=True)
class CostSettings:
    """The three energies' cost pages."""

    energies: tuple[EnergyCosts, ...] = field(
        default_factory=lambda: tuple(EnergyCosts(e) for e in ENERGIES)
    )

    def of(self, energy: str) -> EnergyCosts:
        return next((e for e in self.energies if e.energy == energy), EnergyCosts(energy))


def check_energy_costs(costs: EnergyCosts) -> list[tuple[str, Message]]:
    """Every problem of one energy's cost page, each with its place (``gas.rules[0]...``)."""
    where = costs.energy
    problems: list[tuple[str, Message]] = []
    if costs.energy not in ENERGIES:
        problems.append((where, Message(N_("{value} is not an energy type"), {"value": where})))
    if not is_currency(costs.currency):
        problems.append(
            (
                f"{where}.currency",
                Message(N_("{value} is not an ISO 4217 currency code"), {"value": costs.currency}),
            )
        )
    if costs.kwh_per_m3 is not None and (costs.energy != "gas" or not costs.kwh_per_m3 > 0):
        problems.append(
            (
                f"{where}.kwh_per_m3",
                Message(N_("the conversion factor must be a positive number, for gas only")),
            )
        )
    for index, rule in enumerate(costs.rules):
        problems.extend(_check_rule(rule, f"{where}.rules[{index}]"))
    return problems


def _check_rule(rule: CostRule, where: str) -> list[tuple[str, Message]]:
    problems: list[tuple[str, Message]] = []
    if not rule.name.strip():
        problems.append((f"{where}.name", Message(N_("a name is required"))))
    if not rule.tariffs:
        problems.append((f"{where}.tariffs", Message(N_("a rule needs at least one tariff"))))
    starts = [t.valid_from for t in rule.tariffs]
    if len(set(starts)) != len(starts):
        problems.append((f"{where}.tariffs", Message(N_("two tariffs start on the same date"))))
    for t_index, tariff in enumerate(rule.tariffs):
        place = f"{where}.tariffs[{t_index}]"
        if not tariff.base >= 0:
            problems.append((f"{place}.base", Message(N_("a price cannot be negative"))))
        for b_index, band in enumerate(tariff.bands):
            problems.extend(_check_band(band, f"{place}.bands[{b_index}]"))
    return problems


def _check_band(band: TimeBand, where: str) -> list[tuple[str, Message]]:
    problems: list[tuple[str, Message]] = []
    if not band.days or not band.days <= set(range(7)):
        problems.append((f"{where}.days", Message(N_("choose days of the week"))))
    if not 0 <= band.start < band.end <= 24:
        problems.append(
            (
                f"{where}.hours",
                Message(
                    N_("hours {start}-{end} are not within 0-24, start before end"),
                    {"start": band.start, "end": band.end},
                ),
            )
        )
    if not band.price >= 0:
        problems.append((f"{where}.price", Message(N_("a price cannot be negative"))))
    return problems


def validate(settings: CostSettings) -> CostSettings:
    """``settings`` if every rule holds, else raise CostError listing every problem."""
    problems = [p for costs in settings.energies for p in check_energy_costs(costs)]
    if problems:
        raise CostError(problems)
    return settings


# --------------------------------------------------------------------- pricing classes


@dataclass(frozen=True)
class PriceClasses:
    """Hours of the week grouped so that every rule has one price per class.

    ``map[how]`` is the class (a one-character code) of local hour of the week ``how``;
    ``prices[rule_index][code]`` is that rule's price, ``None`` when no tariff is in force.
    """

    map: str
    prices: tuple[dict[str, Decimal | None], ...]


def price_classes(rules: Sequence[CostRule], day: date) -> PriceClasses:
    """The classes of the tariffs in force on local date ``day``, for every rule."""
    weeks = []
    for rule in rules:
        tariff = rule.tariff_on(day)
        weeks.append(tariff.week_prices() if tariff else (None,) * HOURS_PER_WEEK)
    codes: dict[tuple[Decimal | None, ...], str] = {}
    chars = []
    for how in range(HOURS_PER_WEEK):
        signature = tuple(week[how] for week in weeks)
        if signature not in codes:
            codes[signature] = chr(ord("A") + len(codes))
        chars.append(codes[signature])
    prices = tuple({code: sig[i] for sig, code in codes.items()} for i in range(len(rules)))
    return PriceClasses("".join(chars), prices)


def gas_kwh(m3: float, costs: EnergyCosts) -> float | None:
    """The kWh-equivalent of ``m3`` of gas; None without a conversion factor."""
    if costs.kwh_per_m3 is None:
        return None
    return m3 * float(costs.kwh_per_m3)
