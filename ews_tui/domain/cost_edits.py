"""Edits of the cost pages (manual §7.16.3): pure functions from settings to new settings.

A place in the pages is an energy and indices: ``rule`` in the energy's rules, ``tariff`` in
the rule's tariffs, ``band`` in the tariff's bands. ``None`` as the last index adds. Tariffs
are kept in the order of their ``valid_from`` dates (as the store reads them back), bands and
rules in the order they were added. Nothing here validates: :func:`~ews_tui.domain.costs.validate`
(through the consumption service's ``save_costs``) says what is wrong and where.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TypeVar

from ews_tui.domain.costs import CostRule, CostSettings, EnergyCosts, Tariff, TimeBand

T = TypeVar("T")


def _put(items: Sequence[T], index: int | None, item: T) -> tuple[T, ...]:
    """``items`` with ``item`` at ``index`` (appended when None)."""
    if index is None:
        return (*items, item)
    return (*items[:index], item, *items[index + 1 :])


def _drop(items: Sequence[T], index: int) -> tuple[T, ...]:
    return (*items[:index], *items[index + 1 :])


def _sorted(tariffs: Sequence[Tariff]) -> tuple[Tariff, ...]:
    return tuple(sorted(tariffs, key=lambda t: t.valid_from))


def _with_page(
    settings: CostSettings, energy: str, change: Callable[[EnergyCosts], EnergyCosts]
) -> CostSettings:
    pages = {page.energy: page for page in settings.energies}
    pages[energy] = change(settings.of(energy))
    return CostSettings(tuple(pages.values()))


def _with_rule(
    settings: CostSettings, energy: str, rule: int, change: Callable[[CostRule], CostRule]
) -> CostSettings:
    def page_change(page: EnergyCosts) -> EnergyCosts:
        return replace(page, rules=_put(page.rules, rule, change(page.rules[rule])))

    return _with_page(settings, energy, page_change)


def _with_tariff(
    settings: CostSettings,
    energy: str,
    rule: int,
    tariff: int,
    change: Callable[[Tariff], Tariff],
) -> CostSettings:
    def rule_change(r: CostRule) -> CostRule:
        return replace(r, tariffs=_sorted(_put(r.tariffs, tariff, change(r.tariffs[tariff]))))

    return _with_rule(settings, energy, rule, rule_change)


# ------------------------------------------------------------------------- the page


def set_page(
    settings: CostSettings, energy: str, currency: str, kwh_per_m3: Decimal | None
) -> CostSettings:
    """The energy's currency and (gas) conversion factor changed; its rules kept."""
    return _with_page(
        settings,
        energy,
        lambda page: replace(page, currency=currency, kwh_per_m3=kwh_per_m3),
    )


# ------------------------------------------------------------------------- rules


def put_rule(
    settings: CostSettings, energy: str, rule: int | None, value: CostRule
) -> CostSettings:
    """Rule ``rule`` of ``energy`` replaced by ``value`` (added at the end when None)."""
    tariffs = _sorted(value.tariffs)
    return _with_page(
        settings,
        energy,
        lambda page: replace(page, rules=_put(page.rules, rule, replace(value, tariffs=tariffs))),
    )


def move_rule(settings: CostSettings, energy: str, rule: int, step: int) -> CostSettings:
    """Rule ``rule`` moved ``step`` places (-1: up), within the list: among rules naming the
    same kind of target, the first listed prices a device."""

    def page_change(page: EnergyCosts) -> EnergyCosts:
        rules = list(page.rules)
        to = max(0, min(len(rules) - 1, rule + step))
        rules.insert(to, rules.pop(rule))
        return replace(page, rules=tuple(rules))

    return _with_page(settings, energy, page_change)


def delete_rule(settings: CostSettings, energy: str, rule: int) -> CostSettings:
    return _with_page(settings, energy, lambda page: replace(page, rules=_drop(page.rules, rule)))


# ------------------------------------------------------------------------- tariffs


def put_tariff(
    settings: CostSettings, energy: str, rule: int, tariff: int | None, value: Tariff
) -> CostSettings:
    """Tariff ``tariff`` of the rule replaced by ``value`` (added when None), kept by date."""
    return _with_rule(
        settings,
        energy,
        rule,
        lambda r: replace(r, tariffs=_sorted(_put(r.tariffs, tariff, value))),
    )


def delete_tariff(settings: CostSettings, energy: str, rule: int, tariff: int) -> CostSettings:
    return _with_rule(
        settings, energy, rule, lambda r: replace(r, tariffs=_drop(r.tariffs, tariff))
    )


def tariff_index(settings: CostSettings, energy: str, rule: int, value: Tariff) -> int:
    """Where ``value`` (by its date) sits in the rule's tariffs after :func:`put_tariff`."""
    tariffs = settings.of(energy).rules[rule].tariffs
    return next(i for i, t in enumerate(tariffs) if t.valid_from == value.valid_from)


# ------------------------------------------------------------------------- bands


def put_band(
    settings: CostSettings,
    energy: str,
    rule: int,
    tariff: int,
    band: int | None,
    value: TimeBand,
) -> CostSettings:
    """Band ``band`` of the tariff replaced by ``value`` (added at the end when None)."""
    return _with_tariff(
        settings, energy, rule, tariff, lambda t: replace(t, bands=_put(t.bands, band, value))
    )


def delete_band(
    settings: CostSettings, energy: str, rule: int, tariff: int, band: int
) -> CostSettings:
    return _with_tariff(
        settings, energy, rule, tariff, lambda t: replace(t, bands=_drop(t.bands, band))
    )
