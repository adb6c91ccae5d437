"""``scripts/bench_en50160.py --quick``: a week of four gateways' EQ devices checked against
the same week's raw rows read; the figures are there and every week of the healthy site is OK."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.scripts.conftest import RunQuick

BENCH = Path(__file__).resolve().parents[2] / "scripts" / "bench_en50160.py"


@pytest.mark.timeout(240)
def test_bench_en50160_quick_prints_its_figures(quick_run: RunQuick) -> None:
    done = quick_run(BENCH.name, 200)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["gateways"] == 4 and result["rows"] == 4 * 4 * 1008
    assert result["verdicts"] == ["ok"]
    figures = ("check_s", "raw_read_s", "check_over_raw", "check_cpu_s", "raw_cpu_s", "stall_ms")
    for key in (*figures, "raw_stall_ms"):
        assert isinstance(result[key], float) and result[key] > 0, key
    assert isinstance(result["idle_stall_ms"], float)
    assert isinstance(result["load_avg"], float)
