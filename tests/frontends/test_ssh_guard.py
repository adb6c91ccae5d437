"""Issue 12, item 3: the per-address penalty on failed SSH passwords, with a given clock."""

from __future__ import annotations

from ews_tui.frontends.ssh_guard import SourcePenalty


def test_an_address_without_failures_is_answered_at_once() -> None:
    penalty = SourcePenalty()
    assert penalty.wait("10.0.0.1", now=0.0) == 0.0
    assert penalty.failures("10.0.0.1", now=0.0) == 0


def test_each_failure_doubles_the_wait_up_to_the_cap() -> None:
    penalty = SourcePenalty(base=0.5, cap=8.0)
    waits = []
    now = 0.0
    for _ in range(8):
        wait = penalty.wait("10.0.0.1", now)
        waits.append(wait)
        now += wait
        penalty.failed("10.0.0.1", now)
    assert waits == [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert penalty.failures("10.0.0.1", now) == 8
    assert penalty.wait("10.0.0.2", now) == 0.0  # another address is not slowed


def test_parallel_attempts_from_one_address_queue_one_step_apart() -> None:
    penalty = SourcePenalty(base=0.5, cap=8.0)
    for _ in range(5):
        penalty.failed("10.0.0.1", now=0.0)
    # Twelve connections ask at the same instant: the answers come 8 s apart, not together.
    assert [penalty.wait("10.0.0.1", now=1.0) for _ in range(12)] == [8.0 * k for k in range(1, 13)]


def test_an_address_is_forgotten_after_a_quiet_time() -> None:
    penalty = SourcePenalty(base=0.5, forget_after=900.0)
    penalty.failed("10.0.0.1", now=0.0)
    assert penalty.wait("10.0.0.1", now=899.0) == 0.5
    assert penalty.failures("10.0.0.1", now=1800.0) == 0
    assert penalty.wait("10.0.0.1", now=1800.0) == 0.0


def test_the_table_of_addresses_is_bounded() -> None:
    penalty = SourcePenalty(max_sources=3)
    for second, address in enumerate(["a", "b", "c", "d"]):
        penalty.failed(address, now=float(second))
    assert [penalty.failures(a, now=4.0) for a in "abcd"] == [0, 1, 1, 1]
