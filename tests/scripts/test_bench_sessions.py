"""``scripts/bench_sessions.py --quick``: one JSON line of figures, as numbers (the targets are
for the full run on a quiet machine, not for a test); the key-to-frame measure waits for the
key's effect, not for any output."""

from __future__ import annotations

import asyncio
import gc
import json
import math
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ews_tui import passes
from ews_tui.domain.auth import DEFAULT_SCRYPT
from tests.scripts.bench_scripts import SCRIPTS, bench_script

BENCH = SCRIPTS / "bench_sessions.py"


def bench_module() -> ModuleType:
    return bench_script("bench_sessions")


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def test_the_effect_of_a_key_is_an_exact_run_of_masks() -> None:
    masked = bench_module().masked
    mask = "\u2022"
    assert masked(2).search(f"\x1b[7;20H{mask}{mask}\x1b[7m \x1b[0m")
    # A cursor blink repainting a field of two is not the backspace that leaves one.
    assert not masked(1).search(f"\x1b[7;20H{mask}{mask}\x1b[7m \x1b[0m")
    assert not masked(2).search(f"{mask}")
    assert masked(1).search(f"PIN  {mask} ")


def test_the_gc_clock_adds_up_the_collections_of_this_thread_and_of_others() -> None:
    bench = bench_module()
    was_enabled = gc.isenabled()
    gc.disable()  # only the collections this test runs
    clock = bench.GcClock()
    try:
        wall, cpu = clock.reading()
        garbage = [[index] for index in range(200_000)]  # a collection with work to do
        gc.collect()
        after_main = clock.reading()
        worker = threading.Thread(target=gc.collect)
        worker.start()
        worker.join()
        after_worker = clock.reading()
    finally:
        clock.stop()
        if was_enabled:
            gc.enable()
    del garbage
    assert after_main[0] > wall and after_main[1] > cpu
    # Another thread's collection stops this one too (wall), but is not on its CPU.
    assert after_worker[0] > after_main[0] and after_worker[1] == after_main[1]
    gc.collect()
    assert clock.reading() == after_worker  # stopped: no longer counting


def test_an_open_s_own_cost_leaves_the_collections_out() -> None:
    bench = bench_module()
    Open = bench.Open
    runs = [
        {
            "gateways": Open("gateways", 260.0, 250.0, 190.0, 188.0),
            "help": Open("help", 90, 80, 0, 0),
        },
        {"gateways": Open("gateways", 70.0, 65.0, 0.0, 0.0), "help": Open("help", 100, 85, 0, 0)},
        {"gateways": Open("gateways", 75.0, 60.0, 0.0, 0.0), "help": Open("help", 95, 90, 0, 0)},
    ]
    figures = bench.open_figures(runs)
    assert figures["screen_open_cpu_ms"] == {"gateways": 62.0, "help": 85.0}
    assert figures["screen_open_ms"] == {"gateways": 75.0, "help": 95.0}
    assert figures["screen_open_gc_ms"] == {"gateways": 0.0, "help": 0.0}
    assert figures["screen_open_gc_max_ms"] == 190.0
    # The slowest screen is the one whose own cost is largest, not the one a GC landed in.
    assert (figures["slowest_screen"], figures["slowest_screen_open_ms"]) == ("help", 85.0)
    assert figures["slowest_screen_by_wall"] == "help"


@pytest.mark.timeout(540)
def test_the_stall_trace_lists_the_longest_passes_and_their_steps(tmp_path: Path) -> None:
    bench = bench_module()

    async def slow_step() -> None:
        await asyncio.sleep(0)
        until = time.thread_time() + 0.03
        while time.thread_time() < until:  # one step of 30 ms of CPU
            pass

    async def main() -> None:
        trace = bench.StallTrace()
        await asyncio.sleep(0.01)
        await asyncio.create_task(slow_step())
        await asyncio.sleep(0.01)
        trace.stop(tmp_path / "trace.txt")

    passes.run(main())
    lines = (tmp_path / "trace.txt").read_text().splitlines()
    pair = re.fullmatch(r"#### turns ([\d.]+) \+ ([\d.]+) ms", lines[0])
    assert pair is not None and float(pair[1]) + float(pair[2]) >= 30
    steps = [line for line in lines if "slow_step" in line]
    assert steps and float(steps[0].split()[0]) >= 29  # its CPU time, its coroutine named


def test_bench_sessions_quick_prints_one_json_line_of_figures() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=520
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    result = json.loads(lines[0])
    assert result["bench"] == "sessions"
    assert is_number(result["first_frame_ms"]) and is_number(result["scrypt_ms"])
    # The password check runs at the production cost, not a cheap test one.
    production = {"n": DEFAULT_SCRYPT.n, "r": DEFAULT_SCRYPT.r, "p": DEFAULT_SCRYPT.p}
    assert result["scrypt"] == production and production["n"] >= 2**14
    assert set(result["rss_mb_per_session"]) == {"1", "5", "10"}
    assert all(is_number(v) for v in result["rss_mb_per_session"].values())
    assert set(result["key_to_frame_ms"]) == {"p50", "p95"}
    assert all(is_number(v) for v in result["key_to_frame_ms"].values())
    assert set(result["poll_jitter_p99_ms"]) == {"sessions_0", "sessions_5"}
    assert all(is_number(v) for v in result["poll_jitter_p99_ms"].values())
    # Every screen's open time (issue 16), in wall time and in the loop's CPU time.
    screens = {name for name, _role in bench_module().SCREENS}
    assert {"devices", "help", "gateways", "settings_smtp"} <= screens
    # and apart from the garbage collections run meanwhile.
    for table in ("screen_open_ms", "screen_open_cpu_ms", "screen_open_gc_ms"):
        assert set(result[table]) == screens, table
        assert all(is_number(v) and v >= 0 for v in result[table].values()), table
    assert all(v > 0 for v in result["screen_open_ms"].values())
    assert result["slowest_screen_open_ms"] == max(result["screen_open_cpu_ms"].values())
    assert result["slowest_screen_open_wall_ms"] == max(result["screen_open_ms"].values())
    assert result["slowest_screen"] in screens and result["slowest_screen_by_wall"] in screens
    assert result["screen_open_gc_max_ms"] >= max(result["screen_open_gc_ms"].values())
    # The loop's longest stall while sessions in new languages go through their menus.
    navigating = result["navigating"]
    assert navigating["sessions"] == 2 and len(navigating["languages"]) == 2
    assert navigating["screens_opened"] >= 2 * 4  # four menu entries each
    for key in (
        "max_stall_ms",
        "cpu_in_max_stall_ms",
        "baseline_max_stall_ms",
        "gc_max_pause_ms",
        "slowest_open_ms",
        "slowest_open_cpu_ms",
    ):
        assert is_number(navigating[key]), key
    # The box runs as ews serve runs it: without the heap policy (ews_tui.heap.POLICY).
    assert navigating["heap_policy"] is False
    assert navigating["heap_quiet"] >= 0 and navigating["heap_forced"] >= 0
    assert is_number(result["load_average_1min"])
