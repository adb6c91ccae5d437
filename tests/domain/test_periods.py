"""Periods in the box's zone: DST days of 23 and 25 hours, clipping, segments."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from ews_tui.domain.periods import (
    BAR_STEPS,
    VIEW_STEPS,
    Step,
    hour_of_week,
    local_midnight,
    periods,
    segments,
    shift_view,
    slot_of,
    view_range,
)

PARIS = ZoneInfo("Europe/Paris")


def test_the_spring_and_autumn_dst_days_last_23_and_25_hours() -> None:
    spring = periods(date(2024, 3, 31), date(2024, 4, 1), Step.DAY, PARIS)
    autumn = periods(date(2024, 10, 27), date(2024, 10, 28), Step.DAY, PARIS)
    assert [p.hours for p in spring] == [23.0] and [p.hours for p in autumn] == [25.0]


def test_hourly_periods_of_the_autumn_day_show_the_repeated_hour_with_its_offset() -> None:
    hours = periods(date(2024, 10, 27), date(2024, 10, 28), "hour", PARIS)
    assert len(hours) == 25
    assert hours[2].local_start.isoformat() == "2024-10-27T02:00:00+02:00"
    assert hours[3].local_start.isoformat() == "2024-10-27T02:00:00+01:00"
    assert len(periods(date(2024, 3, 31), date(2024, 4, 1), "hour", PARIS)) == 23


def test_months_and_weeks_are_clipped_to_the_range() -> None:
    months = periods(date(2024, 3, 15), date(2024, 5, 10), Step.MONTH, PARIS)
    assert [(p.local_start.date(), p.local_end.date()) for p in months] == [
        (date(2024, 3, 15), date(2024, 4, 1)),
        (date(2024, 4, 1), date(2024, 5, 1)),
        (date(2024, 5, 1), date(2024, 5, 10)),
    ]
    weeks = periods(date(2024, 1, 3), date(2024, 1, 15), Step.WEEK, PARIS)
    assert [p.local_start.date() for p in weeks] == [date(2024, 1, 3), date(2024, 1, 8)]
    assert all(p.local_start.weekday() == 0 for p in weeks[1:])
    year = periods(date(2024, 1, 1), date(2025, 1, 1), Step.YEAR, PARIS)
    assert len(year) == 1 and year[0].hours == 366 * 24


def test_an_empty_range_is_refused() -> None:
    with pytest.raises(ValueError, match="not after"):
        periods(date(2024, 1, 2), date(2024, 1, 2), "day", PARIS)


def test_segments_split_a_month_at_the_dst_change_and_at_cuts() -> None:
    march = periods(date(2024, 3, 1), date(2024, 4, 1), "month", PARIS)
    cut = local_midnight(date(2024, 3, 10), PARIS)
    segs = segments(march, PARIS, [cut])
    assert [s.offset for s in segs] == [3600, 3600, 7200]
    assert segs[1].start == cut
    change = datetime(2024, 3, 31, 1, 0, tzinfo=ZoneInfo("UTC")).timestamp()
    assert segs[2].start == change and segs[-1].end == march[0].end
    assert all(s.hour_aligned for s in segs)


def test_a_half_hour_zone_gives_segments_not_on_utc_hours() -> None:
    kolkata = ZoneInfo("Asia/Kolkata")
    segs = segments(periods(date(2024, 1, 1), date(2024, 1, 2), "day", kolkata), kolkata)
    assert not segs[0].hour_aligned


def test_hour_of_week_counts_from_monday_midnight_local() -> None:
    monday = int(datetime(2024, 1, 1, 0, 30, tzinfo=PARIS).timestamp())
    assert hour_of_week(monday, 3600) == 0
    sunday_late = int(datetime(2024, 1, 7, 23, 10, tzinfo=PARIS).timestamp())
    assert hour_of_week(sunday_late, 3600) == 167
    assert slot_of(599.9) == 0 and slot_of(600) == 1


@pytest.mark.parametrize(
    ("step", "first", "end"),
    [
        ("day", date(2025, 1, 15), date(2025, 1, 16)),
        ("week", date(2025, 1, 13), date(2025, 1, 20)),
        ("month", date(2025, 1, 1), date(2025, 2, 1)),
        ("year", date(2025, 1, 1), date(2026, 1, 1)),
    ],
)
def test_a_view_is_the_day_week_month_or_year_holding_its_anchor(
    step: str, first: date, end: date
) -> None:
    assert view_range(date(2025, 1, 15), step) == (first, end)


def test_the_bars_of_a_view_are_hours_days_or_months() -> None:
    assert [BAR_STEPS[s] for s in VIEW_STEPS] == [Step.HOUR, Step.DAY, Step.DAY, Step.MONTH]
    assert len(periods(*view_range(date(2024, 2, 10), "month"), BAR_STEPS[Step.MONTH], PARIS)) == 29
    assert len(periods(*view_range(date(2024, 3, 31), "day"), BAR_STEPS[Step.DAY], PARIS)) == 23


@pytest.mark.parametrize(
    ("step", "count", "expected"),
    [
        ("day", -1, date(2025, 1, 14)),
        ("day", 20, date(2025, 2, 4)),
        ("week", -1, date(2025, 1, 6)),
        ("week", 1, date(2025, 1, 20)),
        ("month", -1, date(2024, 12, 1)),
        ("month", 12, date(2026, 1, 1)),
        ("year", 1, date(2026, 1, 1)),
    ],
)
def test_previous_and_next_views(step: str, count: int, expected: date) -> None:
    assert shift_view(date(2025, 1, 15), step, count) == expected


def test_an_hour_is_not_a_view() -> None:
    with pytest.raises(ValueError, match="not 'hour'"):
        view_range(date(2025, 1, 15), "hour")
