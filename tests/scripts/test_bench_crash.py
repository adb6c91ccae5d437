"""``scripts/bench_crash.py --quick``: three SIGKILLs of a recording ``ews serve`` (one just
after a slot end), each restart polls again with no repair, nothing but the last moments
before each kill is lost, and the database stays whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.scripts.conftest import RunQuick

BENCH = Path(__file__).resolve().parents[2] / "scripts" / "bench_crash.py"


@pytest.mark.timeout(240)
def test_bench_crash_quick_loses_little_and_keeps_the_store_whole(quick_run: RunQuick) -> None:
    done = quick_run(BENCH.name, 200)
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["kills"] == 3 and result["kills_within_grace_after_slot_end"] >= 1
    assert result["integrity_failures"] == 0 and result["restart_failures"] == 0
    # A clean stop loses nothing the box received; the one poll a stopping poller may be in
    # the middle of (answered, not yet published) is the most it can miss.
    assert result["polls_seen"] > 0 and result["polls_lost_at_clean_stop"] <= 1
    # Target one poll cycle; twice that leaves room for a loaded machine, while keeping the
    # open slot in memory only lost whole slots (here ten cycles) per kill.
    assert result["max_polls_lost_per_kill"] <= 2 * result["polls_per_cycle"]
    assert result["polls_stored"] >= result["polls_seen"] - 3 * 2 * result["polls_per_cycle"]
