"""How consumption changes read: a change that shows as zero has no sign."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ews_tui.domain.grouping import Amount
from ews_tui.i18n import LANGUAGES, set_language, use_language
from ews_tui.ui.consumption_text import NONE, amount_text, change_text, cost_text


@pytest.mark.parametrize(
    ("now", "before", "expected"),
    [
        (100.004, 100.0, "0.0%"),  # was "+0.0%"
        (99.996, 100.0, "0.0%"),  # was "-0.0%"
        (100.0, 100.0, "0.0%"),
        (100.06, 100.0, "+0.1%"),
        (99.94, 100.0, "-0.1%"),
        (3.0, 1.0, "+200.0%"),
        (1.0, 0.0, NONE),
        (None, 1.0, NONE),
    ],
)
def test_change_text(now: float | None, before: float | None, expected: str) -> None:
    set_language("en")
    assert change_text(now, before) == expected


@settings(max_examples=300, deadline=None)
@given(
    language=st.sampled_from(sorted(LANGUAGES)),
    now=st.floats(allow_nan=True, allow_infinity=True),
    before=st.floats(allow_nan=True, allow_infinity=True),
    missing=st.booleans(),
)
def test_consumption_amounts_costs_and_changes_always_render(
    language: str, now: float, before: float, missing: bool
) -> None:
    """A sum of glitched readings can be NaN, inf or 1e32: the tables still render (babel
    raised decimal.InvalidOperation on such values)."""
    with use_language(language):
        amount = Amount(value=now, missing=missing, cost=now)
        for text in (
            amount_text(amount, "kWh", with_unit=True),
            cost_text(amount, "EUR"),
            change_text(now, before),
        ):
            assert isinstance(text, str) and text


def test_cached_formats_are_per_language() -> None:
    """Numbers, sums and period labels are formatted once per language and value: the same
    value in another session's language is formatted in that language."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from ews_tui.domain.periods import Period, Step
    from ews_tui.ui.consumption_text import bar_label, money, number, period_label

    paris = ZoneInfo("Europe/Paris")
    start = datetime(2025, 1, 15, tzinfo=paris)
    end = datetime(2025, 1, 16, tzinfo=paris)
    day = Period(int(start.timestamp()), int(end.timestamp()), start, end)
    seen = []
    for language in ("en", "fr", "en", "fr"):
        with use_language(language):
            seen.append(
                (
                    number(1234.5, 1),
                    money(23.2, "EUR"),
                    period_label(day, Step.DAY),
                    bar_label(day, Step.DAY, Step.WEEK),
                )
            )
    assert seen[0] == ("1,234.5", "€23.20", "Wed, Jan 15", "15 Wed")
    assert seen[1] == ("1\u202f234,5", "23,20\xa0€", "mer. 15 janv.", "mer. 15")
    assert seen[2:] == seen[:2]
