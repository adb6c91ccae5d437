"""``scripts/bench_load.py``'s GC figures per phase: read from the lines the box's GC watch
(``ews_tui.heap.GcWatch``) writes to its log, in the box's own log format."""

from __future__ import annotations

import gc
import logging
import time
from pathlib import Path
from types import ModuleType

from ews_tui import heap
from ews_tui.logs import FORMAT
from tests.scripts.bench_scripts import bench_script


def bench_load() -> ModuleType:
    return bench_script("bench_load")


def test_the_full_collections_of_a_phase_come_from_the_watch_lines(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    handler = logging.FileHandler(logs / "ews.log")
    handler.setFormatter(logging.Formatter(FORMAT))
    logger = logging.getLogger("ews_tui.heap")
    was = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    watch = heap.GcWatch()
    watch.install()
    try:
        since = time.time()
        gc.collect()
        gc.collect()
        watch.flush_full()  # one line: two collections
        until = time.time()
    finally:
        watch.uninstall()
        logger.removeHandler(handler)
        logger.setLevel(was)
        handler.close()
    # The log's times are cut to the millisecond.
    figures = bench_load().serve_gc(tmp_path, since - 0.001, until)
    assert figures["serve_gc_full"] == 2
    assert 0 < figures["serve_gc_max_ms"] <= figures["serve_gc_total_ms"]
    assert figures["serve_gc_cpu_max_ms"] <= figures["serve_gc_cpu_total_ms"]
    # Another phase's window: none of them.
    assert bench_load().serve_gc(tmp_path, until + 10, until + 40)["serve_gc_full"] == 0
