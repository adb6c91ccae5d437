"""Consumption from index readings: resets, rollovers, replacements, glitches and gaps."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ews_tui.domain.consumption import (
    Break,
    Reading,
    Span,
    Tracker,
    flush,
    outputs_of,
    rollup,
    track,
)


def readings(*pairs: tuple[int, float]) -> list[Reading]:
    return [Reading(slot, value) for slot, value in pairs]


def test_consecutive_readings_give_one_slot_spans() -> None:
    out = outputs_of(readings((10, 100.0), (11, 101.5), (12, 103.0)))
    assert out == [Span(11, 11, 1.5), Span(12, 12, 1.5)]


def test_a_gap_is_one_span_over_its_slots_never_spread() -> None:
    out = outputs_of(readings((10, 100.0), (15, 110.0)))
    assert out == [Span(11, 15, 10.0)]
    assert out[0].slots == 5


def test_a_counter_reset_is_a_break_not_a_negative_value() -> None:
    out = outputs_of(readings((10, 5000.0), (11, 5001.0), (12, 3.0), (13, 4.0)))
    assert out == [Span(11, 11, 1.0), Break(12, 12), Span(13, 13, 1.0)]


def test_a_replaced_meter_with_a_higher_index_is_no_spike() -> None:
    out = outputs_of(readings((10, 1000.0), (11, 1001.0), (12, 45000.0), (13, 45002.0)))
    assert out == [Span(11, 11, 1.0), Break(12, 12), Span(13, 13, 2.0)]
    assert max(o.amount for o in out if isinstance(o, Span)) == 2.0


def test_one_absurd_reading_between_two_good_ones_is_dropped() -> None:
    out = outputs_of(readings((10, 1000.0), (11, 9_999_999.0), (12, 1002.0)))
    assert out == [Span(11, 12, 2.0)]


def test_a_rollover_at_a_round_modulus_counts_what_was_consumed() -> None:
    (span,) = outputs_of(readings((10, 99_999.0), (11, 1.5)))
    assert isinstance(span, Span) and abs(span.amount - 2.5) < 1e-9


def test_float_jitter_backwards_is_zero() -> None:
    assert outputs_of(readings((1, 45000.004), (2, 45000.0))) == [Span(2, 2, 0.0)]


def test_a_later_index_in_the_same_slot_adds_its_growth() -> None:
    state, _ = track(Tracker(), Reading(5, 10.0))
    state, _ = track(state, Reading(6, 11.0))
    state, out = track(state, Reading(6, 11.5))
    assert out == (Span(6, 6, 0.5),)
    assert state.last == Reading(6, 11.5)


def test_readings_out_of_order_are_ignored() -> None:
    state, _ = track(Tracker(), Reading(5, 10.0))
    state, _ = track(state, Reading(7, 12.0))
    assert track(state, Reading(6, 11.0)) == (state, ())


def test_flush_settles_a_pending_suspect_as_a_break() -> None:
    state, out = track(Tracker(last=Reading(1, 10.0)), Reading(2, 1.0))
    assert out == () and state.suspect == Reading(2, 1.0)
    assert flush(state)[1] == (Break(2, 2),)


def test_rollup_counts_spans_in_their_hour_and_keeps_long_gaps_whole() -> None:
    roll = rollup([Span(6, 6, 1.0), Span(7, 11, 3.0), Span(12, 20, 9.0), Break(21, 22)])
    assert roll.hours[1] == (4.0, 0)  # slots 6..11 are hour 1
    assert roll.hours[2] == (0.0, 6 + 0)  # the gap 12..20 covers hour 2 (12..17) whole
    assert roll.hours[3] == (0.0, 3 + 2)  # 18..20 of the gap and the break's 21..22
    assert roll.gaps == (Span(12, 20, 9.0),)


# --- properties ------------------------------------------------------------------------------

steps = st.lists(
    st.tuples(
        st.integers(1, 8),  # slots since the previous reading
        st.one_of(
            st.floats(0, 50),  # normal growth
            st.floats(-1e6, 0),  # a reset or a glitch
            st.floats(1e5, 1e7),  # a jump
        ),
    ),
    max_size=60,
)


def series(start: float, moves: list[tuple[int, float]]) -> list[Reading]:
    out, slot, value = [Reading(0, start)], 0, start
    for gap, move in moves:
        slot += gap
        value = max(0.0, value + move)
        out.append(Reading(slot, value))
    return out


@settings(max_examples=300, deadline=None)
@given(st.floats(0, 1e6), steps)
def test_outputs_are_never_negative_nor_spikes_and_never_overlap(
    start: float, moves: list[tuple[int, float]]
) -> None:
    out = outputs_of(series(start, moves))
    covered: list[int] = []
    for o in out:
        covered.extend(range(o.first, o.last + 1))
        if isinstance(o, Span):
            assert o.amount >= 0
            assert o.amount <= 20_000.0 * o.slots / 6 + 1e-6  # the plausible mean power
    assert covered == sorted(set(covered))


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 1e5), st.lists(st.tuples(st.integers(1, 4), st.floats(0, 100)), max_size=40))
def test_a_growing_counter_is_conserved(start: float, moves: list[tuple[int, float]]) -> None:
    data = series(start, moves)
    out = outputs_of(data)
    assert all(isinstance(o, Span) for o in out)
    total = sum(o.amount for o in out if isinstance(o, Span))
    assert abs(total - (data[-1].value - data[0].value)) <= 1e-6 * max(1.0, data[-1].value)


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 1e6), steps)
def test_rollup_keeps_every_amount_and_missing_slot(
    start: float, moves: list[tuple[int, float]]
) -> None:
    out = outputs_of(series(start, moves))
    roll = rollup(out)
    in_hours = sum(a for a, _m in roll.hours.values()) + sum(g.amount for g in roll.gaps)
    assert abs(in_hours - sum(o.amount for o in out if isinstance(o, Span))) < 1e-6 * (1 + in_hours)
    missing = sum(o.slots for o in out if isinstance(o, Break)) + sum(g.slots for g in roll.gaps)
    assert sum(m for _a, m in roll.hours.values()) == missing
