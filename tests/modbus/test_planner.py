"""The read planner: least wire time under the Modbus constraints, checked against brute force."""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ews_tui.domain.catalog import Quantity, RegisterMap, builtin_catalog
from ews_tui.domain.errors import DomainError
from ews_tui.modbus.planner import (
    BusParams,
    CostModel,
    PlanError,
    PlanState,
    Read,
    ReadPlan,
    bits_per_char,
    naive_plan,
    plan_all,
    plan_cost,
    plan_for,
    plan_map,
    plan_quantities,
)

Span = tuple[int, int, int]


def q(qid: str, register: int, rtype: str = "u16", fc: int = 3, poll: str = "fast") -> Quantity:
    return Quantity(id=qid, unit="", register=register, type=rtype, fc=fc, poll=poll)  # type: ignore[arg-type]


def reg_map(*quantities: Quantity, unreadable: Sequence[Span] = (), turnaround_ms: float = 10.0):
    return RegisterMap(
        id="test_map",
        provenance="assumed",
        turnaround_ms=turnaround_ms,
        quantities=tuple(quantities),
        unreadable=tuple(unreadable),
    )


# ---------------------------------------------------------------- an independent brute force


def _group_cost(
    group: Sequence[Quantity],
    cost: CostModel,
    bad: set[int],
    learned: Collection[int],
    isolated: Collection[str],
) -> float | None:
    """Cost of reading ``group`` in one read, or None when that read is not allowed."""
    if len(group) > 1 and any(x.id in isolated for x in group):
        return None
    start = min(x.register for x in group)
    stop = max(x.register + x.words for x in group)
    if stop - start > cost.bus.max_registers:
        return None
    own = {r for x in group for r in range(x.register, x.register + x.words)}
    span = set(range(start, stop))
    if span & bad or (span & set(learned)) - own:
        return None
    return cost.transaction_s(stop - start)


def brute_force_cost(
    quantities: Sequence[Quantity],
    cost: CostModel,
    unreadable: Sequence[Span],
    learned: Mapping[int, Collection[int]],
    isolated: Collection[str],
) -> float:
    """Try every partition of each fc's sorted quantities into contiguous groups."""
    total = 0.0
    for fc in {x.fc for x in quantities}:
        group = sorted(
            (x for x in quantities if x.fc == fc),
            key=lambda x: (x.register, x.register + x.words, x.id),
        )
        bad = {r for f, lo, hi in unreadable if f == fc for r in range(lo, hi + 1)}
        best = math.inf
        n = len(group)
        for cuts in itertools.product((False, True), repeat=n - 1):
            bounds = [0, *(k + 1 for k, cut in enumerate(cuts) if cut), n]
            costs = [
                _group_cost(group[a:b], cost, bad, learned.get(fc, ()), isolated)
                for a, b in itertools.pairwise(bounds)
            ]
            if all(c is not None for c in costs):
                best = min(best, sum(costs))  # type: ignore[arg-type]
        total += best
    return total


def assert_plan_valid(
    plan: ReadPlan, quantities: Sequence[Quantity], unreadable: Sequence[Span]
) -> None:
    by_id = {x.id: x for x in quantities}
    seen: list[str] = []
    for read in plan.reads:
        assert read.fc in (3, 4)
        assert 1 <= read.count <= plan.cost.bus.max_registers
        for fc, lo, hi in unreadable:
            assert fc != read.fc or hi < read.start or lo >= read.stop, (read, (fc, lo, hi))
        for qid in read.quantities:
            x = by_id[qid]
            assert x.fc == read.fc
            assert read.start <= x.register and x.register + x.words <= read.stop
        seen.extend(read.quantities)
    assert sorted(seen) == sorted(by_id)
    assert plan_cost(plan) == pytest.approx(
        sum(plan.cost.transaction_s(r.count) for r in plan.reads)
    )


@st.composite
def planning_cases(draw: st.DrawFn):
    n = draw(st.integers(0, 10))
    quantities = [
        q(
            f"q{k}",
            draw(st.integers(0, 150)),
            draw(st.sampled_from(["u16", "u32", "u64"])),
            draw(st.sampled_from([3, 4])),
        )
        for k in range(n)
    ]
    raw_spans = draw(
        st.lists(
            st.tuples(st.sampled_from([3, 4]), st.integers(0, 160), st.integers(0, 4)), max_size=4
        )
    )
    unreadable = [
        (fc, lo, lo + width)
        for fc, lo, width in raw_spans
        if not any(
            x.fc == fc and x.register <= lo + width and lo < x.register + x.words
            for x in quantities
        )
    ]
    learned = {fc: draw(st.frozensets(st.integers(0, 160), max_size=6)) for fc in (3, 4)}
    ids = [x.id for x in quantities]
    isolated = draw(st.frozensets(st.sampled_from(ids), max_size=3)) if ids else frozenset()
    bus = BusParams(
        baud=draw(st.sampled_from([1200, 9600, 19200, 115200])),
        bits_per_char=draw(st.sampled_from([10, 11])),
        transport=draw(st.sampled_from(["rtu", "tcp"])),
        tcp_overhead_s=draw(st.sampled_from([0.0, 0.002, 0.02])),
        max_registers=draw(st.sampled_from([4, 8, 20, 125])),
    )
    cost = CostModel(bus, draw(st.sampled_from([0.0, 2.0, 10.0, 50.0])))
    return quantities, unreadable, learned, isolated, cost


@settings(max_examples=300, deadline=None)
@given(planning_cases())
def test_dp_matches_brute_force_and_keeps_every_constraint(case) -> None:
    quantities, unreadable, learned, isolated, cost = case
    plan = plan_quantities(
        quantities, cost, unreadable=unreadable, learned=learned, isolated=isolated
    )
    assert_plan_valid(plan, quantities, unreadable)
    for read in plan.reads:  # learned registers only inside a read's own quantities
        own = {r for qid in read.quantities for r in _registers(quantities, qid)}
        assert not (set(range(read.start, read.stop)) & set(learned[read.fc])) - own
        assert len(read.quantities) == 1 or not set(read.quantities) & isolated
    expected = brute_force_cost(quantities, cost, unreadable, learned, isolated)
    assert plan.wire_time_s == pytest.approx(expected, rel=1e-9, abs=1e-12)


def _registers(quantities: Sequence[Quantity], qid: str) -> range:
    x = next(x for x in quantities if x.id == qid)
    return range(x.register, x.register + x.words)


# ---------------------------------------------------------------- cost model


@pytest.mark.parametrize(
    ("parity", "stopbits", "bits"), [("E", 1, 11), ("O", 1, 11), ("N", 2, 11), ("N", 1, 10)]
)
def test_bits_per_char(parity: str, stopbits: int, bits: int) -> None:
    assert bits_per_char(parity, stopbits) == bits
    assert BusParams.rtu(19200, parity, stopbits).bits_per_char == bits


def test_transaction_cost_follows_the_wire_formula() -> None:
    cost = CostModel(BusParams.rtu(19200, "E", 1), turnaround_ms=10)
    char = 11 / 19200
    # request 8 + response 5 + 2n + two 3.5-char silences, plus the turnaround
    assert cost.transaction_s(30) == pytest.approx((8 + 5 + 60 + 7) * char + 0.010)
    tcp = CostModel(BusParams(19200, 11, "tcp", tcp_overhead_s=0.003), turnaround_ms=10)
    assert tcp.transaction_s(30) == pytest.approx(cost.transaction_s(30) + 0.003)


def test_tcp_overhead_makes_merging_worth_more() -> None:
    quantities = [q("a", 0), q("b", 20)]
    rtu = plan_quantities(quantities, CostModel(BusParams(19200, 10), 0.0))
    tcp = plan_quantities(
        quantities, CostModel(BusParams(19200, 10, "tcp", tcp_overhead_s=0.02), 0.0)
    )
    assert len(rtu.reads) == 2  # 19 unwanted registers cost more than a transaction
    assert tcp.reads == (Read(3, 0, 21, ("a", "b")),)


# ---------------------------------------------------------------- edge cases


def test_the_125_register_limit_exactly() -> None:
    cost = CostModel(BusParams(), turnaround_ms=500)  # a slow device: always worth merging
    fits = plan_quantities([q("a", 0), q("b", 123, "u32")], cost)
    assert fits.reads == (Read(3, 0, 125, ("a", "b")),)
    over = plan_quantities([q("a", 0), q("b", 124, "u32")], cost)
    assert [r.count for r in over.reads] == [1, 2]
    smaller = CostModel(BusParams(max_registers=10), turnaround_ms=500)
    assert len(plan_quantities([q("a", 0), q("b", 9)], smaller).reads) == 1
    assert len(plan_quantities([q("a", 0), q("b", 10)], smaller).reads) == 2


def test_unreadable_register_between_adjacent_quantities_splits_the_read() -> None:
    blocked = reg_map(q("a", 100), q("b", 102), unreadable=[(3, 101, 101)])
    assert plan_all(blocked).reads == (Read(3, 100, 1, ("a",)), Read(3, 102, 1, ("b",)))
    other_fc = reg_map(q("a", 100), q("b", 102), unreadable=[(4, 101, 101)])
    assert plan_all(other_fc).reads == (Read(3, 100, 3, ("a", "b")),)


def test_function_codes_never_mix() -> None:
    plan = plan_all(reg_map(q("h", 0, fc=3), q("i", 1, fc=4), q("h2", 2, fc=3)))
    assert plan.reads == (Read(3, 0, 3, ("h", "h2")), Read(4, 1, 1, ("i",)))


def test_quantity_overlapping_an_unreadable_span_is_reported() -> None:
    bad = reg_map(q("a", 0), q("v1", 0xC558, "u32"), unreadable=[(3, 0xC559, 0xC560)])
    with pytest.raises(PlanError) as caught:
        plan_all(bad)
    text = str(caught.value)
    assert "test_map" in text and "'v1'" in text and "0xc558" in text and "0xc559" in text
    assert isinstance(caught.value, DomainError)
    assert caught.value.message.params["qid"] == "v1"
    plan_map(bad, ids=["a"])  # not wanted: no error


def test_empty_wanted_set_and_unknown_ids() -> None:
    emdx3 = reg_map(q("a", 0), q("b", 1, poll="slow"))
    empty = plan_map(emdx3, ids=[])
    assert empty.reads == () and empty.wire_time_s == 0
    assert plan_quantities([]).reads == ()
    with pytest.raises(PlanError, match="no quantity 'zz'"):
        plan_map(emdx3, ids=["a", "zz"])


def test_a_quantity_wider_than_a_read_is_reported() -> None:
    with pytest.raises(PlanError, match="'e' needs 4 registers"):
        plan_quantities([q("e", 0, "u64")], CostModel(BusParams(max_registers=2)))


# ---------------------------------------------------------------- poll classes


def test_plan_all_merges_across_poll_classes() -> None:
    mixed = reg_map(q("a", 0), q("e", 1, poll="slow"), q("c", 2))
    fast, slow, both = plan_for(mixed, "fast"), plan_for(mixed, "slow"), plan_all(mixed)
    assert fast.reads == (Read(3, 0, 3, ("a", "c")),)
    assert slow.reads == (Read(3, 1, 1, ("e",)),)
    assert both.reads == (Read(3, 0, 3, ("a", "e", "c")),)
    assert both.wire_time_s < fast.wire_time_s + slow.wire_time_s


def test_emdx3_fast_quantities_are_one_read_and_three_times_cheaper_than_naive() -> None:
    catalog = builtin_catalog()
    emdx3 = catalog.register_map(catalog.find("0 146 68"))
    assert emdx3 is not None
    bus = BusParams.rtu(19200, "E", 1)
    measures = ["u12", "u23", "u31", "v1", "v2", "v3", "f", "i1", "i2", "i3", "p", "q", "s", "pf"]
    assert {x.id for x in emdx3.quantities if x.poll == "fast"} >= set(measures)
    assert len(plan_map(emdx3, bus, ids=measures).reads) == 1
    fast = plan_for(emdx3, "fast", bus)
    # Every fast quantity of the measures block (0xC552..) rides in that block's one read;
    # others (e.g. the THD block past an unreadable span) get at most one read per block.
    block = next(r for r in fast.reads if "v1" in r.quantities)
    assert set(measures) <= set(block.quantities)
    naive = naive_plan(emdx3, bus, poll="fast")
    assert len(naive.reads) >= 5 * len(fast.reads)
    assert naive.wire_time_s >= 3 * fast.wire_time_s
    assert_plan_valid(fast, [x for x in emdx3.quantities if x.poll == "fast"], emdx3.unreadable)
    assert_plan_valid(plan_all(emdx3, bus), emdx3.quantities, emdx3.unreadable)


# ---------------------------------------------------------------- exception 02 memory


def test_exception_02_marks_gaps_then_isolates_then_gives_up() -> None:
    state = PlanState(reg_map(q("a", 0), q("b", 3), q("c", 1, poll="slow")))
    fast = state.plan_for("fast")
    assert fast is state.plan_for("fast")  # cached
    assert fast.reads == (Read(3, 0, 4, ("a", "b")),)
    fast = state.split_read(fast, fast.reads[0])
    assert state.learned == {3: frozenset({1, 2})}
    assert fast.reads == (Read(3, 0, 1, ("a",)), Read(3, 3, 1, ("b",)))
    # register 1 belongs to c: still read when c is wanted; register 2 is never read again
    assert state.plan_all().reads == (Read(3, 0, 2, ("a", "c")), Read(3, 3, 1, ("b",)))

    both = state.plan_all()
    both = state.split_read(both, both.reads[0])  # gap-free: read each alone
    assert both.reads == (Read(3, 0, 1, ("a",)), Read(3, 1, 1, ("c",)), Read(3, 3, 1, ("b",)))
    assert both.covering(["c"]) == (Read(3, 1, 1, ("c",)),)
    alone = both.reads[1]
    both = state.split_read(both, alone)  # refused alone: unavailable, never retried
    assert both.unavailable == ("c",) and state.unavailable == {"c"}
    assert [r.quantities for r in both.reads] == [("a",), ("b",)]
    assert state.split_read(both, alone) == both


def test_each_lesson_gives_a_new_revision_of_the_plans() -> None:
    # What a reader keeps per plan (its decoders, its steps) stands while the revision does.
    state = PlanState(reg_map(q("a", 0), q("b", 3)))
    assert state.revision == 0
    plan = state.plan_all()
    assert state.plan_all() is plan and state.revision == 0  # planning teaches nothing
    state.split_read(plan, plan.reads[0])
    assert state.revision == 1 and state.plan_all() is not plan


@st.composite
def faulty_devices(draw: st.DrawFn):
    n = draw(st.integers(1, 8))
    quantities = [
        q(
            f"q{k}",
            draw(st.integers(0, 60)),
            draw(st.sampled_from(["u16", "u32"])),
            draw(st.sampled_from([3, 4])),
            draw(st.sampled_from(["fast", "slow"])),
        )
        for k in range(n)
    ]
    bad = draw(st.frozensets(st.tuples(st.sampled_from([3, 4]), st.integers(0, 62)), max_size=6))
    return quantities, bad


@settings(max_examples=200, deadline=None)
@given(faulty_devices(), st.sampled_from([0.0, 10.0, 200.0]))
def test_replanning_after_exception_02_converges_and_keeps_readable_quantities(
    device, turnaround_ms: float
) -> None:
    quantities, bad = device
    state = PlanState(reg_map(*quantities, turnaround_ms=turnaround_ms))

    def refused(read: Read) -> bool:
        return any((read.fc, r) in bad for r in range(read.start, read.stop))

    for _ in range(200):
        plan = state.plan_all()
        failing = [r for r in plan.reads if refused(r)]
        if not failing:
            break
        state.split_read(plan, failing[0])
    else:
        pytest.fail("re-planning did not converge")
    broken = {
        x.id for x in quantities if any((x.fc, r) in bad for r in _registers(quantities, x.id))
    }
    assert state.unavailable == broken
    assert set(plan.unavailable) == broken
    assert {qid for r in plan.reads for qid in r.quantities} == {x.id for x in quantities} - broken
