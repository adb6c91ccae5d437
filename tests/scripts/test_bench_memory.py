"""``scripts/bench_memory.py --quick``: real SSH sessions opened and closed give their memory
back, and the loop-stall figures are there (their target is the bench's, not this test's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.scripts.conftest import RunQuick

BENCH = Path(__file__).resolve().parents[2] / "scripts" / "bench_memory.py"


@pytest.mark.timeout(420)
def test_bench_memory_quick_reports_its_figures_and_memory_comes_back(quick_run: RunQuick) -> None:
    done = quick_run(BENCH.name, 400)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["bench"] == "memory" and result["sessions"] == 10
    assert result["stall_sessions"] == 2 and len(result["stall_languages"]) == 2
    for key in (
        "rss_start_mb",
        "rss_end_mb",
        "max_stall_ms",
        "cpu_in_max_stall_ms",
        "max_cpu_between_wakeups_ms",
        "baseline_max_stall_ms",
        "baseline_max_cpu_between_wakeups_ms",
        "stall_window_s",
        "load_average_1min",
    ):
        assert isinstance(result[key], float | int), key
    # Before the fixes each closed session kept its App: about 1 MB a session here.
    assert result["rss_growth_mb"] <= 10
