"""The weekly EN 50160 verdict, on weeks built by hand: the limits as data, N, N1, N2, the
95 % and 100 % bands, flagged intervals, insufficient data, daylight-saving weeks, and the
voltage unbalance of IEC 61000-4-30 against symmetrical components."""

from __future__ import annotations

import cmath
import math
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from ews_tui.domain.en50160 import (
    NOT_SEEN,
    Interval,
    LimitsError,
    Nominal,
    Verdict,
    WeekVerdict,
    builtin_limits,
    judge_week,
    parse_limits,
    voltage_unbalance,
    week_slots,
)

PARIS = ZoneInfo("Europe/Paris")
LIMITS = builtin_limits()
WEEK = week_slots(date(2026, 11, 23), PARIS)  # an ordinary week
SPRING = week_slots(date(2026, 3, 23), PARIS)  # clocks forward on Sunday 29 March
AUTUMN = week_slots(date(2026, 10, 19), PARIS)  # clocks back on Sunday 25 October


def normal(slot: int, **changes: float) -> Interval:
    """A healthy interval: 230 V on each phase, 50 Hz, 2 % THD; ``changes`` override."""
    mean = {"v1": 230.0, "v2": 230.0, "v3": 230.0, "f": 50.0}
    mean |= {"thd_v1": 2.0, "thd_v2": 2.0, "thd_v3": 2.0}
    mean |= changes
    return Interval(slot, mean, low=dict(mean), high=dict(mean))


def week(slots: range, bad: int, **changes: float) -> list[Interval]:
    """Every interval of ``slots`` healthy except the first ``bad``, which get ``changes``."""
    return [normal(s, **changes) if k < bad else normal(s) for k, s in enumerate(slots)]


def test_the_limits_name_their_edition_and_hold_the_standards_values() -> None:
    assert LIMITS.edition.startswith("EN 50160:2010")
    voltage, frequency = LIMITS.criterion("voltage"), LIMITS.criterion("frequency")
    assert (voltage.share, voltage.band, voltage.always) == (0.95, (-0.10, 0.10), (-0.15, 0.10))
    assert (frequency.share, frequency.band, frequency.always) == (
        0.995,
        (-0.01, 0.01),
        (-0.06, 0.04),
    )
    assert frequency.yearly  # the report says the yearly rule is applied to the week
    assert LIMITS.criterion("thd").limit == 8.0
    assert LIMITS.criterion("unbalance").limit == 2.0
    assert LIMITS.criterion("flicker").limit == 1.0
    harmonics = {c.id: c.limit for c in LIMITS.criteria if c.id.startswith("h")}
    assert list(harmonics) == [f"h{n}" for n in range(2, 26)]
    assert (harmonics["h3"], harmonics["h5"], harmonics["h11"], harmonics["h24"]) == (
        5.0,
        6.0,
        3.5,
        0.5,
    )
    assert LIMITS.nominal == Nominal(230.0, 400.0, 50.0)


def test_a_limits_file_without_the_voltage_criterion_is_refused() -> None:
    with pytest.raises(LimitsError, match="voltage and frequency"):
        parse_limits({"edition": "x", "criteria": []})
    with pytest.raises(LimitsError, match="KeyError"):
        parse_limits({"criteria": []})


def test_weeks_run_monday_to_monday_local_and_daylight_saving_changes_their_length() -> None:
    assert (len(WEEK), len(SPRING), len(AUTUMN)) == (1008, 1002, 1014)
    assert WEEK.start * 600 == 1_795_388_400  # Monday 23 November 2026, 00:00 in Paris
    with pytest.raises(ValueError, match="not a Monday"):
        week_slots(date(2026, 11, 24), PARIS)


@pytest.mark.parametrize("slots", [WEEK, SPRING, AUTUMN], ids=["1008", "1002", "1014"])
def test_five_percent_outside_the_band_passes_and_one_more_fails(slots: range) -> None:
    """200 V is outside 230 V ± 10 % but inside the −15 % that must always hold."""
    allowed = math.floor(len(slots) * 0.05)
    passed = judge_week(LIMITS, slots, week(slots, allowed, v1=200.0))
    voltage = passed.result("voltage")
    assert (voltage.n, voltage.n1, voltage.n2) == (len(slots), allowed, 0)
    assert voltage.verdict is Verdict.PASSED and passed.verdict is WeekVerdict.OK
    failed = judge_week(LIMITS, slots, week(slots, allowed + 1, v1=200.0))
    assert failed.result("voltage").verdict is Verdict.FAILED
    assert failed.verdict is WeekVerdict.KO


def test_exactly_five_percent_of_the_valid_intervals_passes() -> None:
    """1,000 valid intervals (eight missing): 50 outside is exactly 5 %, 51 is not."""
    valid = range(WEEK.start, WEEK.start + 1000)
    ok = judge_week(LIMITS, WEEK, week(valid, 50, v1=200.0)).result("voltage")
    assert (ok.n, ok.n1, ok.verdict) == (1000, 50, Verdict.PASSED)
    ko = judge_week(LIMITS, WEEK, week(valid, 51, v1=200.0)).result("voltage")
    assert (ko.n, ko.n1, ko.verdict) == (1000, 51, Verdict.FAILED)


def test_the_frequency_allows_half_a_percent_and_judges_the_extremes() -> None:
    """50.6 Hz is outside 50 Hz ± 1 % and inside +4 %; a mean of 50 Hz with one reading of
    50.6 Hz in the interval counts as outside."""
    valid = range(WEEK.start, WEEK.start + 1000)

    def with_peak(count: int) -> list[Interval]:
        out = []
        for k, s in enumerate(valid):
            i = normal(s)
            if k < count:
                i = Interval(s, i.mean, i.low, {**i.high, "f": 50.6})
            out.append(i)
        return out

    ok = judge_week(LIMITS, WEEK, with_peak(5)).result("frequency")
    assert (ok.n1, ok.n2, ok.verdict, ok.worst) == (5, 0, Verdict.PASSED, 50.6)
    assert judge_week(LIMITS, WEEK, with_peak(6)).result("frequency").verdict is Verdict.FAILED


def test_the_band_that_must_always_hold_crossed_once_fails_the_week() -> None:
    result = judge_week(LIMITS, WEEK, week(WEEK, 1, v2=190.0))  # below 230 V − 15 %
    voltage = result.result("voltage")
    assert (voltage.n1, voltage.n2, voltage.verdict) == (1, 1, Verdict.FAILED)
    assert (voltage.worst, voltage.worst_slot) == (190.0, WEEK.start)
    assert voltage.always_bounds() == pytest.approx((195.5, 253.0))
    assert result.verdict is WeekVerdict.KO


def test_a_week_half_missing_is_insufficient_data_never_ok() -> None:
    half = range(WEEK.start, WEEK.start + len(WEEK) // 2)
    result = judge_week(LIMITS, WEEK, week(half, 0))
    assert result.result("voltage").verdict is Verdict.INSUFFICIENT
    assert result.result("voltage").valid_share == pytest.approx(0.5)
    assert result.flagged == 504
    assert result.verdict is WeekVerdict.INSUFFICIENT


def test_interrupted_intervals_are_flagged_and_left_out() -> None:
    """30 intervals with the supply off (0 V, below 5 % of Un) are not 30 failures."""
    result = judge_week(LIMITS, WEEK, week(WEEK, 30, v1=0.0, v2=0.0, v3=0.0))
    assert result.flagged == 30
    voltage = result.result("voltage")
    assert (voltage.n, voltage.n1, voltage.n2) == (978, 0, 0)
    assert result.verdict is WeekVerdict.OK


def test_what_the_device_does_not_measure_is_not_assessed_and_the_rest_decides() -> None:
    result = judge_week(LIMITS, WEEK, week(WEEK, 0))
    assert result.result("flicker").verdict is Verdict.NOT_ASSESSED
    assert result.result("h5").verdict is Verdict.NOT_ASSESSED
    assert result.result("unbalance").verdict is Verdict.NOT_ASSESSED  # no line voltages
    assert result.result("thd").verdict is Verdict.PASSED
    assert result.verdict is WeekVerdict.OK
    assert "Voltage dips" in NOT_SEEN and result.not_seen == NOT_SEEN
    # The device's map says what it measures: a silent week is not "not assessed".
    silent = judge_week(LIMITS, WEEK, [], gives=("v1", "v2", "v3", "f", "thd_v1"))
    assert silent.result("voltage").verdict is Verdict.INSUFFICIENT
    assert silent.result("thd").verdict is Verdict.INSUFFICIENT
    assert silent.result("h5").verdict is Verdict.NOT_ASSESSED
    assert silent.verdict is WeekVerdict.INSUFFICIENT


def test_a_harmonic_above_its_limit_for_part_of_the_week_fails_it() -> None:
    """The 5th harmonic at 6.5 % (limit 6 %) in 10 % of the intervals."""
    bad = len(WEEK) // 10
    intervals = [
        normal(s, h5_v1=6.5 if k < bad else 1.0, h5_v2=1.0, h5_v3=1.0) for k, s in enumerate(WEEK)
    ]
    result = judge_week(LIMITS, WEEK, intervals)
    h5 = result.result("h5")
    assert (h5.n1, h5.verdict, h5.worst) == (bad, Verdict.FAILED, 6.5)
    assert h5.bounds() == (None, 6.0)
    assert result.verdict is WeekVerdict.KO


def test_a_three_wire_supply_is_judged_on_the_line_voltages_against_400_v() -> None:
    three = Nominal(three_wire=True)
    line = {"u12": 400.0, "u23": 400.0, "u31": 400.0, "f": 50.0}

    def interval(slot: int, **changes: float) -> Interval:
        mean = line | changes
        return Interval(slot, mean, dict(mean), dict(mean))

    ok = [interval(s) for s in WEEK]
    result = judge_week(LIMITS, WEEK, ok, three)
    assert result.result("voltage").verdict is Verdict.PASSED
    assert result.result("voltage").bounds() == pytest.approx((360.0, 440.0))
    assert result.result("unbalance").verdict is Verdict.PASSED
    low = [interval(s, u12=350.0) if k < 60 else interval(s) for k, s in enumerate(WEEK)]
    assert judge_week(LIMITS, WEEK, low, three).verdict is WeekVerdict.KO


def line_magnitudes(negative: complex) -> tuple[float, float, float]:
    """|U12|, |U23|, |U31| of a 230 V positive sequence plus ``negative`` (per unit of it)."""
    a = cmath.exp(2j * math.pi / 3)
    v1, v2 = 230.0, 230.0 * negative
    va, vb, vc = v1 + v2, a * a * v1 + a * v2, a * v1 + a * a * v2
    return abs(va - vb), abs(vb - vc), abs(vc - va)


@pytest.mark.parametrize("ratio", [0.0, 0.005, 0.01, 0.02, 0.05, 0.2])
@pytest.mark.parametrize("angle", [0.0, 0.7, 2.0, -2.9])
def test_the_unbalance_formula_gives_the_negative_sequence_ratio(
    ratio: float, angle: float
) -> None:
    """Worked against symmetrical components: phasors with a known negative sequence."""
    u12, u23, u31 = line_magnitudes(cmath.rect(ratio, angle))
    assert voltage_unbalance(u12, u23, u31) == pytest.approx(100 * ratio, abs=1e-6)


def test_the_unbalance_of_plain_numbers() -> None:
    assert voltage_unbalance(400.0, 400.0, 400.0) == pytest.approx(0.0, abs=1e-6)
    # 400 / 400 / 380 V: 3.36 % (NEMA's "largest deviation from the mean over the mean" gives
    # 3.39 %; IEC's formula is exact for magnitudes, see the phasor test above).
    assert voltage_unbalance(400.0, 400.0, 380.0) == pytest.approx(3.363, abs=0.001)
    assert voltage_unbalance(0.0, 0.0, 0.0) is None
