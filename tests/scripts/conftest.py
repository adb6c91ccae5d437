"""The benches' ``--quick`` runs, started together.

A quick bench mostly waits (its windows, the processes it starts, the sockets it reads):
about a sixth of its wall time is CPU. Run one after the other, each held a test worker for
its whole length (eight of them, 376 s of worker time on the loaded 2-core test machine)
while the cores idled. So the session starts the quick run of every bench test it selected
as soon as it has collected them (once, on whichever xdist worker gets there first), each
in a process of its own, and each test then reads its own bench's result: the benches'
waits overlap each other and the tests before them, and their CPU goes to idle time.

Each run writes its stdout, its stderr and then its exit status into a folder every worker
of the session shares (pytest's base temp folder's parent under xdist); a test waits for
its bench's status file (nothing tells when another process writes a file: looked at every
:data:`POLL_S`). What each test asserts on the figures is unchanged.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
POLL_S = 0.2
# The bench tests that read a shared quick run: test module -> the bench it runs.
SHARED = {
    "test_bench_alarms.py": "bench_alarms.py",
    "test_bench_crash.py": "bench_crash.py",
    "test_bench_en50160.py": "bench_en50160.py",
    "test_bench_gateway_abuse.py": "bench_gateway_abuse.py",
    "test_bench_load.py": "bench_load.py",
    "test_bench_memory.py": "bench_memory.py",
    "test_bench_poll.py": "bench_poll.py",
    "test_bench_store.py": "bench_store.py",
}
SELECTED = pytest.StashKey[frozenset[str]]()
# Runs the bench, then writes its exit status (renamed into place: a reader sees it whole).
RUN = (
    "import subprocess, sys, os\n"
    "script, out, err, status = sys.argv[1:]\n"
    "with open(out, 'wb') as o, open(err, 'wb') as e:\n"
    "    code = subprocess.run([sys.executable, script, '--quick'], stdout=o, stderr=e,\n"
    "                          stdin=subprocess.DEVNULL).returncode\n"
    "with open(status + '.tmp', 'w') as s:\n"
    "    s.write(str(code))\n"
    "os.replace(status + '.tmp', status)\n"
)


@pytest.hookimpl(trylast=True)  # after -k / -m / --deselect took their items out
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The benches this session runs (each xdist worker collects the same selection), started
    now: by the time their tests come up (tests/scripts is midway through the suite) their
    runs are over, and their waits overlapped the tests before them."""
    selected = frozenset(SHARED[item.path.name] for item in items if item.path.name in SHARED)
    config.stash[SELECTED] = selected
    if selected and not config.option.collectonly:
        factory: pytest.TempPathFactory = config._tmp_path_factory  # type: ignore[attr-defined]
        _start_all(_shared_folder(factory, os.environ.get("PYTEST_XDIST_WORKER")), selected)


def _shared_folder(factory: pytest.TempPathFactory, worker: str | None) -> Path:
    base = factory.getbasetemp()
    return (base.parent if worker else base) / "quick-benches"


def _start_all(folder: Path, benches: frozenset[str]) -> None:
    """Start every bench's quick run, once per session: the first caller makes the folder."""
    try:
        folder.mkdir()
    except FileExistsError:
        return  # another worker started them
    for bench in sorted(benches):
        stem = folder / bench
        files = (f"{stem}.out", f"{stem}.err", f"{stem}.status")
        subprocess.Popen(
            [sys.executable, "-c", RUN, str(SCRIPTS / bench), *files],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # not stopped by a signal meant for this worker
        )


QuickRun = subprocess.CompletedProcess[str]
RunQuick = Callable[[str, float], QuickRun]  # (the bench's file name, timeout) -> its run


@pytest.fixture
def quick_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> RunQuick:
    """``quick_run("bench_alarms.py", timeout)``: that bench's ``--quick`` run, as
    ``subprocess.run`` gives it (its status, stdout and stderr), started with the others."""
    config = request.config
    folder = _shared_folder(tmp_path_factory, os.environ.get("PYTEST_XDIST_WORKER"))

    def run(bench: str, timeout: float) -> QuickRun:
        _start_all(folder, config.stash.get(SELECTED, frozenset()) | {bench})
        stem = folder / bench
        status = Path(f"{stem}.status")
        deadline = time.monotonic() + timeout
        while not status.exists():
            if time.monotonic() > deadline:
                pytest.fail(f"{bench} --quick did not end within {timeout} s", pytrace=False)
            time.sleep(POLL_S)
        return subprocess.CompletedProcess(
            [bench, "--quick"],
            int(status.read_text()),
            Path(f"{stem}.out").read_text(errors="replace"),
            Path(f"{stem}.err").read_text(errors="replace"),
        )

    return run
