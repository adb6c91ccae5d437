"""How consumption values, costs and periods read in the session's language (babel).

A value is ``None`` when nothing is known of its period: it reads "—", never "0". A value
known for only part of its period ends with ``*`` (as in ``ews report consumption``).

Numbers, sums of money and period labels are formatted once per language and value: babel
parses its pattern and walks the locale's data at each call, and a consumption key formats
a few hundred of them (the same hours, days and amounts come back as the period moves).
"""

from __future__ import annotations

import functools
import math
from datetime import date, datetime, timedelta

from babel.dates import format_date, format_interval, format_skeleton
from babel.numbers import format_currency, format_percent

from ews_tui.domain.grouping import Amount, By, GroupKey, known
from ews_tui.domain.periods import Period, Step
from ews_tui.i18n import N_, _, babel_locale, current_language
from ews_tui.ui.value_text import SCIENTIFIC_FROM, number_text

NONE = "—"
PART = "*"
ENERGY_NAMES: dict[str, str] = {
    "electricity": N_("Electricity"),
    "gas": N_("Gas"),
    "water": N_("Water"),
}
STEP_NAMES: dict[Step, str] = {
    Step.DAY: N_("Day"),
    Step.WEEK: N_("Week"),
    Step.MONTH: N_("Month"),
    Step.YEAR: N_("Year"),
}
GROUP_NAMES: dict[By, str] = {
    By.CIRCUIT: N_("by circuit"),
    By.ZONE: N_("by zone"),
    By.SWITCHBOARD: N_("by switchboard"),
}
UNIT_NAMES: dict[str, str] = {"kWh": "kWh", "m3": "m³"}


def unit_text(unit: str) -> str:
    return UNIT_NAMES.get(unit, unit)


FORMATS_CACHED = 4096  # texts kept per formatter, every language together


def number(value: float, decimals: int = 1) -> str:
    """Never raises: NaN, inf and absurd sums render as marks (see ``value_text``)."""
    return _number(current_language(), value, decimals)


@functools.lru_cache(maxsize=FORMATS_CACHED)
def _number(_language: str, value: float, decimals: int) -> str:
    # The language is the key's: babel_locale() reads the same one (the caller's context).
    pattern = "#,##0." + "0" * decimals if decimals else "#,##0"
    return number_text(value, pattern)


def decimals_of(unit: str) -> int:
    """Tenths of a kWh; hundredths of a cubic metre."""
    return 1 if unit == "kWh" else 2


def amount_text(amount: Amount | None, unit: str, *, with_unit: bool = False) -> str:
    """``1,234.5`` (``1 234,5`` in French), ``1,234.5*`` when part is missing, ``—``."""
    amount = known(amount)
    if amount is None:
        return NONE
    text = number(amount.value, decimals_of(unit))
    if with_unit:
        text = f"{text} {unit_text(unit)}"
    return text + (PART if amount.missing else "")


def money(value: float, currency: str) -> str:
    """``€1,234.50``; a value babel cannot quantize (NaN, inf, 1e32) as a plain mark."""
    if not math.isfinite(value) or abs(value) >= SCIENTIFIC_FROM:
        return f"{number_text(value)} {currency}"
    return _money(current_language(), value, currency)


@functools.lru_cache(maxsize=FORMATS_CACHED)
def _money(_language: str, value: float, currency: str) -> str:
    return format_currency(value, currency, locale=babel_locale())


def cost_text(amount: Amount | None, currency: str) -> str:
    """The amount's cost, ``—`` when unknown or when no cost rule prices it."""
    amount = known(amount)
    if amount is None or amount.cost is None:
        return NONE
    return money(amount.cost, currency) + (PART if amount.missing else "")


def change_text(now: float | None, before: float | None) -> str:
    """``+12.5%`` (``+12,5 %``): the change from ``before`` to ``now``; ``—`` if unknown."""
    if now is None or before is None or before == 0:
        return NONE
    if not (math.isfinite(now) and math.isfinite(before)) or abs(now / before) >= 1e12:
        return NONE
    # Rounded as shown (tenths of a percent): a change that reads 0.0 has no sign.
    ratio = round((now - before) / before, 3)
    locale = babel_locale()
    pattern = locale.percent_formats[None].pattern.replace("#,##0", "#,##0.0", 1)
    sign = "+" if ratio > 0 else "-" if ratio < 0 else ""
    return sign + format_percent(abs(ratio), format=pattern, locale=locale)


def key_name(key: GroupKey) -> str:
    """A row's name; "No circuit" and the like are msgids, the others are names."""
    return _(key.name) if key.id is None else key.name


def view_title(step: Step, first: date, end: date) -> str:
    """The day, week, month or year shown, in words."""
    locale = babel_locale()
    if step is Step.DAY:
        return format_date(first, "full", locale=locale)
    if step is Step.WEEK:
        days = format_interval(first, end - timedelta(days=1), "yMMMd", locale=locale)
        return _("Week {number}, {days}").format(number=first.isocalendar().week, days=days)
    if step is Step.MONTH:
        return format_skeleton("yMMMM", first, locale=locale)
    return str(first.year)


def bar_label(period: Period, bar_step: Step, view_step: Step) -> str:
    """The short label under a bar: hour, day of the month (week: with its weekday), month."""
    start = period.local_start
    if bar_step is Step.HOUR:
        return f"{start.hour:02d}"
    return _bar_label(current_language(), start.replace(tzinfo=None), bar_step, view_step)


@functools.lru_cache(maxsize=FORMATS_CACHED)
def _bar_label(_language: str, start: datetime, bar_step: Step, view_step: Step) -> str:
    if bar_step is Step.DAY:
        if view_step is Step.WEEK:
            return format_skeleton("Ed", start.date(), locale=babel_locale())
        return str(start.day)
    return format_skeleton("MMM", start.date(), locale=babel_locale())


def period_label(period: Period, bar_step: Step) -> str:
    """A period in a table row: ``08:00``, ``Wed, Jan 15``, ``January 2025``."""
    start = period.local_start
    if bar_step is Step.HOUR:
        return f"{start.hour:02d}:{start.minute:02d}"
    # The local wall time (no zone): it and the step say the whole label.
    return _period_label(current_language(), start.replace(tzinfo=None), bar_step)


@functools.lru_cache(maxsize=FORMATS_CACHED)
def _period_label(_language: str, start: datetime, bar_step: Step) -> str:
    locale = babel_locale()
    if bar_step is Step.DAY:
        return format_skeleton("MMMEd", start.date(), locale=locale)
    return format_skeleton("yMMMM", start.date(), locale=locale)
