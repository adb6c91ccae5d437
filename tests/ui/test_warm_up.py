"""``warm_up`` (called by ``ews serve`` before its front ends start): every screen module is
imported before the first session opens it, and the start's objects are out of the garbage
collector's walks, with the box's collection thresholds. In a child process: freezing is
process-wide."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import asyncio, gc, json, pkgutil, sys, tempfile
from pathlib import Path
import ews_tui.ui.screens as screens
from ews_tui.config import default_config
from ews_tui.heap import POLICY
from ews_tui.runtime import Runtime
from ews_tui.ui.warm_up import warm_up
names = [i.name for i in pkgutil.iter_modules(screens.__path__)]
before = [n for n in names if f"ews_tui.ui.screens.{n}" in sys.modules]

async def main():
    on = POLICY.enabled  # ews serve's default: off
    POLICY.enabled = True  # bench_sessions --heap-policy on
    async with Runtime(default_config(Path(tempfile.mkdtemp()))) as rt:
        await warm_up(rt)
        tasks, installed = sorted(task.get_name() for task in rt.tasks), POLICY.installed
        threshold = gc.get_threshold()[2]
    POLICY.enabled = False  # as ews serve
    async with Runtime(default_config(Path(tempfile.mkdtemp()))) as rt:
        await warm_up(rt)
        without = sorted(task.get_name() for task in rt.tasks), POLICY.installed
        tuned = gc.get_threshold()
    return on, without, tasks, installed, threshold, tuned

on, without, tasks, installed, threshold, tuned = asyncio.run(main())
after = [n for n in names if f"ews_tui.ui.screens.{n}" in sys.modules]
frozen = gc.get_freeze_count()
gc.collect()
print(json.dumps({"names": names, "before": before, "after": after, "tasks": tasks,
                  "on": on, "without": without, "threshold": threshold, "tuned": tuned,
                  "cpython": gc.get_threshold(),
                  "policy": installed, "after_stop": POLICY.installed, "frozen": frozen,
                  "tracked": len(gc.get_objects())}))
"""


def test_warm_up_imports_every_screen_and_freezes_the_start_heap() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.splitlines()[-1])
    assert {"devices", "help", "gateways", "home", "login"} <= set(result["names"])
    assert not {"devices", "alarms", "connector"} & set(result["before"])
    assert result["after"] == result["names"]
    # The modules, catalogs and classes: out of the walks of every later full collection.
    assert result["frozen"] > 10 * result["tracked"]
    # The heap policy: off as ews serve runs; switched on, installed, its task one of the
    # runtime's, CPython's automatic full collections off, back when the runtime stops;
    # off, no task, nothing installed. The collector's watch runs either way.
    assert result["on"] is False
    assert result["policy"] is True
    assert {"heap", "heap-watch"} <= set(result["tasks"])
    assert result["threshold"] > 10**6
    assert result["after_stop"] is False
    assert result["cpython"][2] == 25  # the box's own (CPython's is 10), not out of reach
    # Off, CPython's own collections with the box's wider young generations.
    assert result["tuned"] == [2000, 10, 25]
    assert "heap" not in result["without"][0] and result["without"][1] is False
    assert "heap-watch" in result["without"][0]
