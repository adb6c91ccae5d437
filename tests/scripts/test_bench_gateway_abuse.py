"""``scripts/bench_gateway_abuse.py --quick``: runs to its end and prints one JSON line with
its figures (the figures themselves are the bench's business, not a unit test's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.scripts.conftest import RunQuick

BENCH = Path(__file__).resolve().parents[2] / "scripts" / "bench_gateway_abuse.py"


@pytest.mark.timeout(240)
def test_bench_gateway_abuse_quick_prints_its_figures(quick_run: RunQuick) -> None:
    done = quick_run(BENCH.name, 200)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["bench"] == "gateway_abuse"
    for key in ("p99_over_unloaded_worst", "real_client_served_worst_s", "targets", "ok"):
        assert key in result
    for phase in ("unloaded", "absent", "present"):
        figures = result[phase]
        assert figures["polls"] > 0 and figures["real_client_probes"] > 0
        for key in ("period_p99_s", "period_median_s", "real_client_served_max_s"):
            assert figures[key] is not None
    for phase in ("absent", "present"):
        assert "p99_over_unloaded" in result[phase]
    saturated = result["saturated"]
    assert saturated["unloaded"]["polls"] > 0 and "p99_over_unloaded" in saturated["present"]
    # The abuse happened: the looping clients were answered, the absent unit from memory,
    # and the half-sent connections were cut by the read timeout.
    assert result["absent"]["looping_answers"] > 0 and result["present"]["looping_answers"] > 0
    assert result["server"]["absent_answers"] > 0 and result["server"]["read_closed"] > 0
