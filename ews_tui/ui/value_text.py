"""A measured value as text in the session's language: a total function.

A meter can send anything: NaN, ±inf, −3.2e32 (a float32 read with the wrong word order), a
u64 counter of 2**64 − 1. :func:`value_text` returns text for every value a device can
give, and never raises (babel quantizes within a 28-digit decimal context and raised
``decimal.InvalidOperation`` on −3.2e32, which ended the whole UI process):

- ``None`` and NaN (not a number: many meters' "not available") show :data:`MISSING`;
- ±inf show "∞" / "-∞" (the locale's minus sign) (they are not missing: the device said so);
- a number of :data:`SCIENTIFIC_FROM` or more (no meter counts that far; a float has no more
  digits there) in scientific notation, ``−3,2E32`` in French: the reader sees what came;
- any other number with the unit's pattern, rounded; −0.0 and what rounds to zero show 0;
- a state word (breaker, charger, input) translated; an unknown word as it came.
"""

from __future__ import annotations

import decimal
import logging
import math
from collections.abc import Mapping
from decimal import Decimal

from babel.numbers import (
    format_decimal,
    format_scientific,
    get_minus_sign_symbol,
    parse_pattern,
)

from ews_tui.i18n import N_, _, babel_locale

log = logging.getLogger(__name__)

MISSING = "—"
INFINITY = "∞"
SCIENTIFIC_FROM = Decimal("1e15")
SCIENTIFIC_PATTERN = "0.###E0"

STATE_LABELS: Mapping[str, str] = {
    "open": N_("Open"),
    "closed": N_("Closed"),
    "tripped": N_("Tripped"),
    "on": N_("On"),
    "off": N_("Off"),
    "available": N_("Available"),
    "connected": N_("Connected"),
    "charging": N_("Charging"),
    "fault": N_("Fault"),
    "disabled": N_("Disabled"),
}
NUMBER_FORMATS: Mapping[str, str] = {
    "V": "#,##0.0",
    "A": "#,##0.00",
    "kW": "#,##0.000",
    "kvar": "#,##0.000",
    "kVA": "#,##0.000",
    "kWh": "#,##0.0",
    "kvarh": "#,##0.0",
    "m3": "#,##0.000",
    "Hz": "#,##0.00",
    "%": "#,##0.0",
    "": "0.000",
}
DEFAULT_FORMAT = "#,##0.###"
_CONTEXT = decimal.Context(prec=60, Emax=999_999, Emin=-999_999)  # room for any pattern


def _fraction_digits(pattern: str) -> int:
    return int(parse_pattern(pattern).frac_prec[1])


def number_text(value: float | int, pattern: str = DEFAULT_FORMAT) -> str:
    """``value`` with a babel ``pattern`` in the session's locale; text for every number."""
    if isinstance(value, float):
        if math.isnan(value):
            return MISSING
        if math.isinf(value):
            return INFINITY if value > 0 else get_minus_sign_symbol(babel_locale()) + INFINITY
        number = Decimal(repr(value))
    else:
        number = Decimal(int(value))
    locale = babel_locale()
    with decimal.localcontext(_CONTEXT):
        if abs(number) >= SCIENTIFIC_FROM:
            return format_scientific(number, SCIENTIFIC_PATTERN, locale=locale)
        quantum = Decimal(1).scaleb(-_fraction_digits(pattern))
        rounded = number.quantize(quantum, rounding=decimal.ROUND_HALF_EVEN)
        if rounded.is_zero():
            rounded = abs(rounded)  # no "−0.0"
        return format_decimal(rounded, pattern, locale=locale)


def value_text(value: float | int | str | None, unit: str) -> str:
    """A device's value for display: a number in the unit's format, a state word, or a
    mark; never raises."""
    if value is None:
        return MISSING
    if isinstance(value, str):
        return _(STATE_LABELS[value]) if value in STATE_LABELS else value
    try:
        return number_text(value, NUMBER_FORMATS.get(unit, DEFAULT_FORMAT))
    except (ArithmeticError, ValueError, TypeError):  # a bug of ours: say so, show a mark
        log.exception("cannot format %r %s", value, unit)
        return "?"
