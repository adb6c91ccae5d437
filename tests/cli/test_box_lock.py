"""One box per data dir: a second command that polls or records on the data dir of a running
``ews serve`` exits 1 naming the holder; read-only commands work beside it; ``ews demo`` hands
its lock to its own background backfill."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ews_tui.config import apply_changes, default_config, save_config
from ews_tui.store.datadir_lock import DataDirInUse, hold_data_dir
from tests.cli.conftest import Run
from tests.frontends.terminal_text import DEADLINE_S, Output


def quiet_config(tmp_path: Path, **changes: object) -> Path:
    """A box with no front end and no RS485 port: nothing but the store and the jobs."""
    data = tmp_path / "data"
    config = apply_changes(
        default_config(data),
        {"rs485.enabled": False, "time.ntp_server": "127.0.0.1", **changes},
        tmp_path,
    )
    path = tmp_path / "config.toml"
    save_config(config, path)
    return path


class Serving:
    """``ews serve --config F`` as a subprocess, its stderr collected."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.log = Output()
        assert process.stderr is not None
        self._reader = asyncio.create_task(self._read(process.stderr))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            await self.log.add(line.decode())
        await self.log.close()

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.terminate()
        code = await asyncio.wait_for(self.process.wait(), DEADLINE_S)
        await self._reader
        return code


@pytest.fixture
async def serving() -> AsyncIterator[list[Serving]]:
    started: list[Serving] = []
    yield started
    for serve in started:
        if serve.process.returncode is None:
            serve.process.kill()
        await serve.stop()


async def start_serve(config: Path, started: list[Serving]) -> Serving:
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "ews_tui.cli", "serve", "--config", str(config)),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    serve = Serving(process)
    started.append(serve)
    return serve


async def run_ews(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``ews ARGS`` to its end, without blocking the loop that reads the box's log."""
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "ews_tui.cli", *args),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    out, err = await asyncio.wait_for(process.communicate(), DEADLINE_S)
    assert process.returncode is not None
    return subprocess.CompletedProcess(args, process.returncode, out.decode(), err.decode())


async def test_a_second_box_on_the_data_dir_exits_1_and_readers_work(
    tmp_path: Path, serving: list[Serving]
) -> None:
    config = quiet_config(tmp_path)
    data = tmp_path / "data"
    serve = await start_serve(config, serving)
    await serve.log.wait_for("ews serve: running")
    busy = f"ews: data dir {data} is in use by process {serve.process.pid}\n"

    # Every command that polls or records is refused, with the holder's process id.
    for command in (
        ("serve", "--config", str(config)),
        ("tui", "--kiosk", "--config", str(config)),
        ("history", "seed", "--config", str(config), "--days", "1", "--site", "demo"),
        ("demo", "--headless", "1", "--data-dir", str(data), "--history-days", "0"),
    ):
        refused = await run_ews(*command, cwd=tmp_path)
        assert (refused.returncode, refused.stderr) == (1, busy), command

    # Reading commands work beside the box.
    exported = await run_ews(
        "install", "export", "site.toml", "--config", str(config), cwd=tmp_path
    )
    assert exported.returncode == 0, exported.stderr
    report = await run_ews(
        "report", "consumption", "--config", str(config), "--from", "2026-01-01",
        "--to", "2026-01-02", "--json", cwd=tmp_path,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    csv = await run_ews("export", "csv", "--config", str(config), "--out", "csv", cwd=tmp_path)
    assert csv.returncode == 0, csv.stderr

    # The lock ends with the box: the next one starts.
    assert await serve.stop() == 0
    seeded = await run_ews(
        "history", "seed", "--config", str(config), "--days", "0.1", "--site", "demo",
        cwd=tmp_path,
    )  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr


def test_a_handed_lock_lets_the_box_own_child_record(ews: Run, tmp_path: Path) -> None:
    """What ``ews demo`` does for its background backfill: the child shares the lock."""
    config = quiet_config(tmp_path)
    data = tmp_path / "data"
    seed = ("history", "seed", "--config", str(config), "--days", "0.1", "--site", "demo")
    with hold_data_dir(data) as lock:
        # A stranger (no descriptor handed down) is refused...
        refused = ews(*seed)
        assert refused.returncode == 1
        assert refused.stderr == f"ews: data dir {data} is in use by process {os.getpid()}\n"
        # ... an environment naming a descriptor that is not the lock changes nothing...
        forged = ews(*seed, env={"EWS_DATA_DIR_LOCK_FD": "0"})
        assert forged.returncode == 1 and "in use by process" in forged.stderr
        # ... the box's own child, given the descriptor, records.
        child = subprocess.run(
            [sys.executable, "-m", "ews_tui.cli", *seed],
            capture_output=True,
            text=True,
            timeout=60,
            pass_fds=(lock.fd,),
            env={**os.environ, **lock.child_env()},
        )
        assert child.returncode == 0, child.stderr
        # The child's end did not end the box's lock.
        with pytest.raises(DataDirInUse), hold_data_dir(data):
            pass
    with hold_data_dir(data):
        pass  # free again
