"""The column-wise EN 50160 check (:func:`judge_columns`, what the service runs) gives the
same result as the interval-by-interval one (:func:`judge_week`): on generated weeks with
gaps, interruptions, values missing in some intervals, NaN and infinities, ties for the
worst value, and on a seeded week of a real device's quantities."""

from __future__ import annotations

import math
import random
from datetime import date
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ews_tui.domain.en50160 import (
    UNBALANCE,
    Columns,
    Interval,
    Nominal,
    Verdict,
    builtin_limits,
    judge_columns,
    judge_week,
    voltage_unbalance,
    week_slots,
)

LIMITS = builtin_limits()
WEEK = week_slots(date(2026, 11, 23), ZoneInfo("Europe/Paris"))
SLOTS = range(1000, 1030)  # a short "week": every share and tie is reachable
QUANTITIES = ("v1", "v2", "v3", "u12", "u23", "u31", "f", "thd_v1", "thd_v2", "plt_v1", "h3_v1")
NOMINAL = {"v": 230.0, "u": 400.0, "f": 50.0, "t": 4.0, "p": 0.8, "h": 3.0}

# Values near the limits (so that both verdicts happen), repeated ones (ties), and the odd
# NaN, infinity and supply interruption. The strategies are built once, here: a strategy
# built inside a draw is validated again at each draw, which took most of the test's time
# (the values drawn are the same either way).
SPECIAL = st.sampled_from([math.nan, math.inf, -math.inf, 0.0, 1.0])
ONE_IN_16 = st.integers(0, 15)
ONE_IN_10 = st.integers(0, 9)
FACTORS = st.sampled_from([0.8, 0.88, 0.9, 0.95, 1.0, 1.0, 1.05, 1.1, 1.2, 2.0])
GIVEN_UNBALANCE = st.sampled_from([0.5, 2.0, 3.0])
BOOLEANS = st.booleans()
SLOT_LISTS = st.lists(st.integers(995, 1035), max_size=40)  # some outside the week


@st.composite
def value(draw: st.DrawFn, q: str) -> float:
    if draw(ONE_IN_16) == 0:
        return draw(SPECIAL)
    return NOMINAL[q[0]] * draw(FACTORS)


VALUES = {q: value(q) for q in QUANTITIES}


@st.composite
def interval(draw: st.DrawFn, slot: int, sparse: bool) -> Interval:
    mean: dict[str, float] = {}
    low: dict[str, float] = {}
    high: dict[str, float] = {}
    for q in QUANTITIES:
        if sparse and draw(ONE_IN_10) == 0:
            continue  # not given in this interval
        values = VALUES[q]
        mean[q] = draw(values)
        if not sparse or draw(BOOLEANS):
            low[q] = draw(values)
        if not sparse or draw(BOOLEANS):
            high[q] = draw(values)
    if sparse and draw(ONE_IN_10) == 0:
        mean[UNBALANCE] = draw(GIVEN_UNBALANCE)  # given by the device
    return Interval(slot, mean, low, high)


@st.composite
def weeks(draw: st.DrawFn) -> list[Interval]:
    sparse = draw(BOOLEANS)
    slots = draw(SLOT_LISTS)
    return [draw(interval(s, sparse)) for s in slots]


@settings(max_examples=300, deadline=None)
@given(
    weeks(),
    st.booleans(),
    st.one_of(st.none(), st.sets(st.sampled_from([*QUANTITIES, "h5_v1"]))),
)
def test_the_columns_give_the_verdict_of_the_intervals(
    intervals: list[Interval], three_wire: bool, gives: set[str] | None
) -> None:
    nominal = Nominal(three_wire=three_wire)
    columns = Columns.of(intervals)
    expected = judge_week(LIMITS, SLOTS, intervals, nominal, gives)
    assert judge_columns(LIMITS, SLOTS, columns, nominal, gives) == expected


def test_a_seeded_week_of_a_real_device_is_judged_alike() -> None:
    """A whole week of an EQ device's quantities, a few intervals missed or interrupted and
    a few out of band: the fast passes give what the interval-by-interval check gives."""
    rng = random.Random(14)
    names = sorted(LIMITS.needed() - {UNBALANCE})
    intervals: list[Interval] = []
    for slot in WEEK:
        if rng.random() < 0.02:
            continue  # the device did not answer
        mean = {q: NOMINAL.get(q[0], 1.0) * rng.gauss(1.0, 0.02) for q in names}
        mean["f"] = rng.gauss(50.0, 0.2)
        if rng.random() < 0.01:
            mean["v2"] = 3.0  # interrupted
        low = {q: v * (1 - abs(rng.gauss(0, 0.01))) for q, v in mean.items()}
        high = {q: v * (1 + abs(rng.gauss(0, 0.01))) for q, v in mean.items()}
        intervals.append(Interval(slot, mean, low, high))
    columns = Columns.of(intervals)
    expected = judge_week(LIMITS, WEEK, intervals, None, names)
    assert judge_columns(LIMITS, WEEK, columns, None, names) == expected
    assert expected.result("voltage").verdict is Verdict.PASSED
    assert expected.result("frequency").verdict is Verdict.FAILED  # 0.4 % rms: often out of ±1 %
    assert 0 < expected.flagged < 60


def test_columns_round_trip_to_intervals() -> None:
    rows = [
        Interval(7, {"v1": 230.0}, {"v1": 229.0}, {}),
        Interval(3, {"f": 50.0}, {}, {"f": 50.1}),
    ]
    columns = Columns.of(rows)
    assert columns.slots == [3, 7]
    assert columns.mean == {"f": [50.0, None], "v1": [None, 230.0]}
    assert columns.intervals() == sorted(rows, key=lambda i: i.slot)


def test_a_check_reads_only_the_quantities_of_its_supply() -> None:
    """A four-wire check needs no line-voltage THD or harmonics (the line voltages, for the
    unbalance, yes), and a week read without them is judged alike."""
    four, three = LIMITS.needed(False), LIMITS.needed(True)
    assert {"v1", "u12", "thd_v1", "h5_v1", "plt_v1", "f"} <= four
    assert not {"thd_u12", "h5_u12", "plt_u12"} & four
    assert {"thd_u12", "h5_u12", "v1", "u12"} <= three and "thd_v1" not in three
    assert four | three == LIMITS.needed()
    names = sorted(LIMITS.needed() - {UNBALANCE})
    intervals = [
        Interval(s, {q: NOMINAL.get(q[0], 1.0) * (1 + (s % 13) / 100) for q in names}) for s in WEEK
    ]
    full = Columns.of(intervals)
    part = Columns(full.slots, {q: c for q, c in full.mean.items() if q in four})
    assert judge_columns(LIMITS, WEEK, part, None, names) == judge_week(
        LIMITS, WEEK, intervals, None, names
    )


def test_three_equal_line_voltages_are_balanced_whatever_the_rounding() -> None:
    """β = 1/3 rounded a little low once made the root pass 1 and the check fail with a
    math domain error (436 V on the three lines, for one)."""
    for volts in (400.0, 436.00000000000006, 440.00000000000006, 448.00000000000006):
        assert voltage_unbalance(volts, volts, volts) == 0.0
