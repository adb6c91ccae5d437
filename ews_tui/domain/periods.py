"""Reporting periods in the box's local time zone, and the 10-minute slots they are made of.

Pure: dates, zones and epoch seconds in, frozen values out. A day is local midnight to local
midnight, so a daylight-saving day lasts 23 or 25 hours; weeks start on Monday (ISO); a period
list is clipped to the requested range, so ``--from 2024-03-15 --step month`` starts with the
15th-31st of March.

A :class:`Segment` is a piece of one period where the UTC offset is constant (and, for costs,
where every tariff in force stays the same): queries bucket hourly rows by segment, then turn
UTC hours into local hours of the week with one addition.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

SLOT_SECONDS = 600  # the 10-minute aggregate tick, aligned on the UTC clock
HOUR_SECONDS = 3600
SLOTS_PER_HOUR = HOUR_SECONDS // SLOT_SECONDS
HOURS_PER_WEEK = 168
# 1970-01-01 was a Thursday: local hours since the epoch + 72 count from a Monday 00:00.
_EPOCH_HOUR_OF_WEEK = 3 * 24


class Step(StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


def slot_of(ts: float) -> int:
    """The 10-minute slot (UTC-aligned) holding epoch second ``ts``."""
    return int(ts // SLOT_SECONDS)


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in epoch seconds, with its local start and end for display."""

    start: int
    end: int
    local_start: datetime
    local_end: datetime

    @property
    def hours(self) -> float:
        return (self.end - self.start) / HOUR_SECONDS

    def contains(self, ts: float) -> bool:
        return self.start <= ts < self.end


@dataclass(frozen=True)
class Segment:
    """``[start, end)`` epoch seconds inside period ``period`` at a constant UTC offset."""

    period: int
    start: int
    end: int
    offset: int  # local time minus UTC, seconds

    @property
    def hour_aligned(self) -> bool:
        return (
            self.start % HOUR_SECONDS == 0
            and self.end % HOUR_SECONDS == 0
            and self.offset % HOUR_SECONDS == 0
        )


def local_midnight(day: date, tz: ZoneInfo) -> int:
    """Epoch seconds of local midnight starting ``day`` (the first instant of that date)."""
    return int(datetime.combine(day, time(0), tzinfo=tz).timestamp())


def _next_boundary(day: date, step: Step) -> date:
    if step is Step.DAY:
        return day + timedelta(days=1)
    if step is Step.WEEK:
        return day + timedelta(days=7 - day.weekday())
    if step is Step.MONTH:
        return date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return date(day.year + 1, 1, 1)


def periods(first: date, end: date, step: Step | str, tz: ZoneInfo) -> tuple[Period, ...]:
    """The periods of ``step`` covering local dates ``[first, end)``, clipped to that range.

    Raises ValueError when ``end`` is not after ``first``.
    """
    step = Step(step)
    if end <= first:
        raise ValueError(f"end {end.isoformat()} is not after {first.isoformat()}")
    stop = local_midnight(end, tz)
    out: list[Period] = []
    if step is Step.HOUR:
        start = local_midnight(first, tz)
        while start < stop:
            # Next local hour boundary: whole UTC hours in whole-hour zones; zones with a
            # half-hour offset still get periods starting on their local hour.
            local = datetime.fromtimestamp(start, tz)
            top = local.replace(minute=0, second=0, microsecond=0)
            nxt = int(top.timestamp()) + HOUR_SECONDS
            nxt = min(nxt, stop)
            out.append(_period(start, nxt, tz))
            start = nxt
        return tuple(out)
    day = first
    while day < end:
        next_day = min(_next_boundary(day, step), end)
        out.append(_period(local_midnight(day, tz), local_midnight(next_day, tz), tz))
        day = next_day
    return tuple(out)


def _period(start: int, end: int, tz: ZoneInfo) -> Period:
    return Period(start, end, datetime.fromtimestamp(start, tz), datetime.fromtimestamp(end, tz))


def offset_at(ts: int, tz: ZoneInfo) -> int:
    """Local time minus UTC at epoch second ``ts``, in seconds."""
    delta = datetime.fromtimestamp(ts, UTC).astimezone(tz).utcoffset()
    return int(delta.total_seconds()) if delta else 0


def _offset_changes(start: int, end: int, tz: ZoneInfo) -> list[int]:
    """Epoch seconds in ``(start, end)`` where the offset changes, found to the slot.

    Probes every 6 hours (zones change their offset at most a few times a year) and
    bisects between two probes that differ.
    """
    out: list[int] = []
    probe = 6 * HOUR_SECONDS
    prev_ts, prev = start, offset_at(start, tz)
    while prev_ts < end:
        ts = min(prev_ts + probe, end - 1)
        here = offset_at(ts, tz)
        if here != prev:
            lo, hi = prev_ts // SLOT_SECONDS, ts // SLOT_SECONDS  # offset(lo) == prev
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset_at(mid * SLOT_SECONDS, tz) == prev:
                    lo = mid
                else:
                    hi = mid
            out.append(hi * SLOT_SECONDS)
        if ts >= end - 1:
            break
        prev_ts, prev = ts, here
    return out


def segments(
    spans: Sequence[Period], tz: ZoneInfo, cuts: Iterable[int] = ()
) -> tuple[Segment, ...]:
    """Split every period at each UTC offset change and at the epoch seconds ``cuts``."""
    cut_list = sorted(set(cuts))
    out: list[Segment] = []
    for index, period in enumerate(spans):
        inner = _offset_changes(period.start, period.end, tz)
        inner += [c for c in cut_list if period.start < c < period.end]
        edges = [period.start, *sorted(set(inner)), period.end]
        for a, b in itertools.pairwise(edges):
            if b > a:
                out.append(Segment(index, a, b, offset_at(a, tz)))
    return tuple(out)


def hour_of_week(ts: int, offset: int) -> int:
    """Local hour of the week (0 = Monday 00:00-01:00) of epoch second ``ts`` at ``offset``."""
    return ((ts + offset) // HOUR_SECONDS + _EPOCH_HOUR_OF_WEEK) % HOURS_PER_WEEK


# -- what a consumption view shows: one day, week, month or year, and its bars ------------

VIEW_STEPS: tuple[Step, ...] = (Step.DAY, Step.WEEK, Step.MONTH, Step.YEAR)
# The bars of a view: a day shows its hours, a week and a month their days, a year its months.
BAR_STEPS: dict[Step, Step] = {
    Step.DAY: Step.HOUR,
    Step.WEEK: Step.DAY,
    Step.MONTH: Step.DAY,
    Step.YEAR: Step.MONTH,
}


def _view_step(step: Step | str) -> Step:
    step = Step(step)
    if step not in BAR_STEPS:
        raise ValueError(f"a view is a day, week, month or year, not {step.value!r}")
    return step


def view_start(anchor: date, step: Step | str) -> date:
    """The first local date of the day, week (from Monday), month or year holding ``anchor``."""
    step = _view_step(step)
    if step is Step.DAY:
        return anchor
    if step is Step.WEEK:
        return anchor - timedelta(days=anchor.weekday())
    if step is Step.MONTH:
        return anchor.replace(day=1)
    return date(anchor.year, 1, 1)


def view_range(anchor: date, step: Step | str) -> tuple[date, date]:
    """Local dates ``[first, end)`` of the day, week, month or year holding ``anchor``."""
    first = view_start(anchor, step)
    return first, _next_boundary(first, _view_step(step))


def shift_view(anchor: date, step: Step | str, count: int) -> date:
    """The first date of the view ``count`` steps after ``anchor``'s (before if negative)."""
    step = _view_step(step)
    first = view_start(anchor, step)
    if step is Step.DAY:
        return first + timedelta(days=count)
    if step is Step.WEEK:
        return first + timedelta(weeks=count)
    if step is Step.MONTH:
        months = first.year * 12 + first.month - 1 + count
        return date(months // 12, months % 12 + 1, 1)
    return date(first.year + count, 1, 1)
