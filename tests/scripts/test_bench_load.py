"""``scripts/bench_load.py --quick``: sessions on Live measures and on the consumption
screens typing against ``ews serve``; the JSON line carries every figure the issue asks for
(the figures themselves are for the bench to report, not for a test to judge)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.scripts.conftest import RunQuick

BENCH = Path(__file__).resolve().parents[2] / "scripts" / "bench_load.py"
PHASES = ("unloaded", "live", "consumption")


@pytest.mark.timeout(360)
def test_bench_load_quick_prints_every_figure(quick_run: RunQuick) -> None:
    done = quick_run(BENCH.name, 330)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 1, lines
    result = json.loads(lines[0])
    assert result["bench"] == "load" and result["sessions"] == 3
    assert [phase["phase"] for phase in result["phases"]] == list(PHASES)
    unloaded = result["phases"][0]
    assert unloaded["rtu_polls"] > 0 and unloaded["rtu_period_p99_s"] > 0, unloaded
    assert unloaded["tcp_period_p99_s"] > 0, unloaded
    for phase in result["phases"]:  # a loaded phase may see no poll at all (the case)
        assert {"rtu_period_p99_s", "rtu_period_max_s", "tcp_period_p99_s"} <= set(phase)
        assert phase["false_comm_errors"] >= 0 and phase["serve_cpu_pct"] >= 0, phase
    for name in PHASES[1:]:
        loaded = next(p for p in result["phases"] if p["phase"] == name)
        assert loaded["keys"] > 0  # the sessions typed
        for key in ("rtu_p99_ratio", "tcp_p99_ratio", "false_comm_errors", "serve_cpu_pct"):
            assert f"{name}_{key}" in result, key
        assert isinstance(result[f"{name}_targets_met"], bool)
    assert result["unloaded_serve_cpu_pct"] >= 0
