"""Issue 12, item 4: ``ews serve`` started with umask 022 on a fresh data dir creates every
file 0600 and every folder 0700; a file of the box others may read is named in its log."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ews_tui.domain.auth import ScryptParams
from ews_tui.frontends.ssh import hash_password
from tests.cli.test_box_lock import Serving, quiet_config


@pytest.fixture
async def serving() -> AsyncIterator[list[Serving]]:
    started: list[Serving] = []
    yield started
    for serve in started:
        if serve.process.returncode is None:
            serve.process.kill()
        await serve.stop()


async def serve_with_umask_022(config: Path, started: list[Serving]) -> Serving:
    process = await asyncio.create_subprocess_exec(
        "sh", "-c", 'umask 022; exec "$@"', "sh",
        sys.executable, "-m", "ews_tui.cli", "serve", "--config", str(config),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    serve = Serving(process)
    started.append(serve)
    return serve


def modes(data: Path) -> dict[str, int]:
    """The mode of everything under ``data`` but the CSV folders (not secrets)."""
    return {
        str(p.relative_to(data)): p.stat().st_mode & 0o777
        for p in sorted(data.rglob("*"))
        if p.relative_to(data).parts[0] != "csv"
    }


async def test_serve_creates_its_files_private_and_names_wider_ones(
    tmp_path: Path, serving: list[Serving]
) -> None:
    password = hash_password("s3cret", ScryptParams(n=2**4, r=1, p=1))
    config = quiet_config(
        tmp_path,
        **{
            "ssh.enabled": True,
            "ssh.listen": "127.0.0.1:0",
            "ssh.users": [{"name": "installer", "password_scrypt": password}],
        },
    )
    data = tmp_path / "data"
    serve = await serve_with_umask_022(config, serving)
    await serve.log.wait_for("ews serve: running")
    assert data.stat().st_mode & 0o777 == 0o700
    assert modes(data) == {
        "connector.sqlite": 0o600,
        "connector.sqlite-shm": 0o600,
        "connector.sqlite-wal": 0o600,
        "ews.lock": 0o600,
        "pin.pepper": 0o600,
        "ews.sqlite": 0o600,
        "ews.sqlite-shm": 0o600,
        "ews.sqlite-wal": 0o600,
        "heartbeat.json": 0o600,  # the system watch's: when the box was last seen alive
        "logs": 0o700,
        "logs/ews.log": 0o600,
        "ssh_host_ed25519_key": 0o600,
    }
    assert config.stat().st_mode & 0o777 == 0o600  # written by the box's save_config
    assert await serve.stop() == 0
    assert "others may read it" not in serve.log.raw

    # Files made readable by others keep their mode, and the log says so.
    (data / "ews.sqlite").chmod(0o644)
    config.chmod(0o644)
    serve = await serve_with_umask_022(config, serving)
    await serve.log.wait_for(
        f"ews serve: {data}/ews.sqlite is mode 0644: others may read it "
        f"(chmod 600 {data}/ews.sqlite)"
    )
    await serve.log.wait_for(f"ews serve: {config} is mode 0644")
    assert await serve.stop() == 0
