"""``scripts/bench_store.py --quick``: one JSON line of figures, as numbers (the targets are
for the full run, not for a test); the ingest commits once per 10-minute slot, as live."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.scripts.conftest import RunQuick

BENCH = Path(__file__).resolve().parents[2] / "scripts" / "bench_store.py"

FIGURES = (
    "ingest_samples_per_s",
    "ingest_values_per_s",
    "ingest_with_open_saves_samples_per_s",
    "mb_per_device_year",
    "mb_per_device_year_polled",
    "table_ms",
    "baseline_ms",
    "speedup",
    "table_banded_ms",
    "baseline_banded_ms",
)


@pytest.mark.timeout(300)
def test_bench_store_quick_prints_one_json_line_of_figures(quick_run: RunQuick) -> None:
    done = quick_run(BENCH.name, 280)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    result = json.loads(lines[0])
    assert result["bench"] == "store"
    for key in FIGURES:
        value = result[key]
        assert isinstance(value, int | float) and not isinstance(value, bool), (key, value)
        assert math.isfinite(value) and value > 0, (key, value)
    # One transaction per 10-minute slot of samples, as the live recorder commits.
    assert result["ingest_slots"] == 3 and result["ingest_commits"] == result["ingest_slots"]
    assert result["repeat"] == 2  # best of N, for the table and its raw-scan baseline alike
    assert result["same_answer"] is True and result["same_answer_banded"] is True
