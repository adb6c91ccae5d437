"""How the cost pages read, and are typed, in the session's language (manual §7.16.3).

Prices, factors and dates are formatted with babel for the session's locale
(:func:`~ews_tui.i18n.babel_locale`): ``0,174 €/kWh`` in French, ``€0.174/kWh`` in English.
A number is typed with either decimal mark where the locale's own is a comma (``0,1740`` and
``0.1740`` in French), with a point elsewhere; a date as ``YYYY-MM-DD``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Literal

from babel.dates import format_date, get_day_names
from babel.numbers import format_currency, format_decimal, get_currency_name, get_decimal_symbol

from ews_tui.domain.costs import CostRule, EnergyCosts, Tariff, TimeBand
from ews_tui.domain.installation import Installation
from ews_tui.i18n import N_, _, babel_locale
from ews_tui.ui.widgets.group_panel import group_name

ENERGY_NAMES: dict[str, str] = {
    "electricity": N_("Electricity"),
    "gas": N_("Gas"),
    "water": N_("Water"),
}
UNITS: dict[str, str] = {"electricity": "kWh", "gas": "m³", "water": "m³"}
_SPACES = str.maketrans("", "", " \u00a0\u202f'")

DayWidth = Literal["abbreviated", "narrow", "short", "wide"]


def parse_number(text: str) -> Decimal | None:
    """The decimal typed in ``text``, or None when it is not one.

    Spaces (and the thin spaces babel writes) are ignored; a comma is the decimal mark where
    the locale's is one, so French accepts ``0,1740`` and ``0.1740``.
    """
    cleaned = text.translate(_SPACES)
    if get_decimal_symbol(babel_locale()) == ",":
        cleaned = cleaned.replace(",", ".")
    if not cleaned or cleaned.count(".") > 1:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def parse_day(text: str) -> date | None:
    """The date typed as ``YYYY-MM-DD`` (None when it is not one)."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def number_text(value: Decimal) -> str:
    """``0,1740`` or ``0.1740`` as typed (no digit dropped), for an input field."""
    return format_decimal(value, "0.###", locale=babel_locale(), decimal_quantization=False)


def price_text(price: Decimal, costs: EnergyCosts) -> str:
    """``0,174 €/kWh``: the price in the page's currency per unit of the energy's meter."""
    money = format_currency(
        price, costs.currency, locale=babel_locale(), decimal_quantization=False
    )
    return f"{money}/{UNITS[costs.energy]}"


def currency_text(costs: EnergyCosts) -> str:
    """``EUR (euro)``: the code and its name in the session's language."""
    name = get_currency_name(costs.currency, locale=babel_locale())
    return costs.currency if name == costs.currency else f"{costs.currency} ({name})"


def factor_text(costs: EnergyCosts) -> str:
    if costs.kwh_per_m3 is None:
        return _("not set")
    return format_decimal(costs.kwh_per_m3, locale=babel_locale(), decimal_quantization=False)


def day_text(day: date) -> str:
    return format_date(day, "medium", locale=babel_locale())


def day_names(width: DayWidth = "abbreviated") -> list[str]:
    """Monday first, in the session's language."""
    names = get_day_names(width, locale=babel_locale())
    return [str(names[i]) for i in range(7)]


def days_text(days: Iterable[int]) -> str:
    """``Mon–Fri``, ``Sat, Sun``, ``every day``: runs of days read as a range."""
    chosen = sorted(set(days))
    if len(chosen) == 7:
        return _("every day")
    names = day_names()
    runs: list[list[int]] = []
    for day in chosen:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        if len(run) > 2:
            parts.append(f"{names[run[0]]}–{names[run[-1]]}")
        else:
            parts.extend(names[d] for d in run)
    return ", ".join(parts)


def hours_text(start: int, end: int) -> str:
    return f"{start:02d}:00–{end:02d}:00"


def band_text(band: TimeBand, costs: EnergyCosts) -> str:
    """``Mon–Fri 07:00–22:00: 0,21 €/kWh``."""
    return _("{days} {hours}: {price}").format(
        days=days_text(band.days),
        hours=hours_text(band.start, band.end),
        price=price_text(band.price, costs),
    )


def tariff_text(tariff: Tariff, costs: EnergyCosts) -> str:
    """``From 1 Jan 2025: 0,174 €/kWh``: its base price, outside its bands."""
    return _("From {date}: {price}").format(
        date=day_text(tariff.valid_from), price=price_text(tariff.base, costs)
    )


def scope_text(rule: CostRule, inst: Installation) -> str:
    """``Site``, or the names of the chosen circuits and zones."""
    if rule.site:
        return _("Site")
    circuits = {c.id: group_name(c) for c in inst.circuits}
    zones = {z.id: z.name for z in inst.zones}
    names = [circuits.get(i, f"#{i}") for i in rule.circuit_ids]
    names += [zones.get(i, f"#{i}") for i in rule.zone_ids]
    return ", ".join(names)


def rule_text(rule: CostRule, inst: Installation) -> str:
    """``Offices (Lighting, Floor 1)``: the name and what it applies to."""
    return _("{name} ({scope})").format(name=rule.name, scope=scope_text(rule, inst))
