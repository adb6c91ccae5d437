"""``scripts/bench_poll.py --quick``: one JSON line with every part's figures, as numbers
(the thresholds are for the full run on a quiet machine, not for a test)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from tests.scripts.conftest import RunQuick

BENCH = Path(__file__).resolve().parents[2] / "scripts" / "bench_poll.py"

WINDOW_KEYS = {
    "cycle_s",
    "wire_min_s",
    "cycle_over_wire_min",
    "turnaround_s",
    "cycle_over_wire_min_and_turnaround",
    "requests_per_cycle",
    "answers_per_cycle",
    "bytes_per_cycle",
}


def numbers(figures: dict[str, Any], keys: set[str]) -> None:
    assert keys <= figures.keys(), keys - figures.keys()
    for key in keys:
        value = figures[key]
        assert isinstance(value, int | float) and not isinstance(value, bool), (key, value)
        assert math.isfinite(value), (key, value)


@pytest.mark.timeout(300)
def test_bench_poll_quick_prints_one_json_line_of_figures(quick_run: RunQuick) -> None:
    done = quick_run(BENCH.name, 280)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    result = json.loads(lines[0])
    assert result["bench"] == "poll"

    rtu = result["rtu"]
    numbers(rtu, WINDOW_KEYS | {"devices", "device_turnaround_ms"})
    for name in ("baseline_per_device_block", "baseline_per_quantity"):
        numbers(rtu[name], WINDOW_KEYS | {"cycle_over_ours"})
    # Counted on the wire: both the poller and the block baseline read each EMDX3 in three.
    # (The poller runs on across the window's ends: one request more or less may fall in.)
    assert round(rtu["requests_per_cycle"]) == round(rtu["answers_per_cycle"]) == 3 * rtu["devices"]
    assert rtu["baseline_per_quantity"]["requests_per_cycle"] == 30 * rtu["devices"]
    numbers(result["rtu_no_turnaround"], WINDOW_KEYS)
    assert result["rtu_no_turnaround"]["turnaround_s"] == 0

    numbers(
        result["tcp"],
        {
            "gateways",
            "slowest_single_cycle_s",
            "all_cycle_s",
            "all_over_single",
            "poller_process_cpu_share_all",
            "simulator_process_cpu_share_all",
            "others_cycle_s",
            "refusing_over_without",
            "silent_over_without",
        },
    )
    numbers(
        result["overhead"],
        {"plain_pymodbus_us_per_request", "poller_us_per_request", "overhead"},
    )
    numbers(result["dead_device"], {"max_gap_s", "median_gap_s", "bound_s"})
    numbers(result["accept_close"], {"first_minute_connects", "second_minute_connects"})
    assert len(result["load_1min_start_end"]) == 2
