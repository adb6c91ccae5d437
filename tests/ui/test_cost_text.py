"""The cost pages as read and typed in the session's language."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ews_tui.domain.costs import EnergyCosts, TimeBand
from ews_tui.i18n import use_language
from ews_tui.ui.cost_text import band_text, days_text, number_text, parse_day, parse_number


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("fr", "0,1740", Decimal("0.1740")),
        ("fr", "0.1740", Decimal("0.1740")),
        ("fr", "1 234,5", Decimal("1234.5")),
        ("en", "0.1740", Decimal("0.1740")),
        ("en", "-1", Decimal("-1")),
        ("en", "0,1740", None),
        ("fr", "0,1.2", None),
        ("en", "", None),
        ("en", "abc", None),
        ("en", "nan", None),
    ],
)
def test_parse_number(language: str, text: str, expected: Decimal | None) -> None:
    with use_language(language):
        assert parse_number(text) == expected


def test_number_text_keeps_the_digits_typed() -> None:
    with use_language("fr"):
        assert number_text(Decimal("0.12345")) == "0,12345"
    with use_language("en"):
        assert number_text(Decimal("12")) == "12"


def test_parse_day() -> None:
    assert parse_day(" 2025-01-31 ") == date(2025, 1, 31)
    assert parse_day("2025-02-30") is None
    assert parse_day("31/01/2025") is None


def test_days_read_as_ranges() -> None:
    with use_language("en"):
        assert days_text(range(5)) == "Mon–Fri"
        assert days_text({5, 6}) == "Sat, Sun"
        assert days_text({0, 2, 3, 4, 6}) == "Mon, Wed–Fri, Sun"
        assert days_text(range(7)) == "every day"


def test_band_text_in_french() -> None:
    band = TimeBand(frozenset(range(7)), 22, 24, Decimal("0.1200"))
    with use_language("fr"):
        text = band_text(band, EnergyCosts("gas", "EUR"))
    assert text == "tous les jours 22:00–24:00 : 0,12\xa0€/m³"
