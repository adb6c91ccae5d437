"""A real NTP server on loopback: ``chronyd -x`` (it serves NTP and never touches the clock)
on a free UDP port above 1024, with its own config in the test's temp folder and no command
socket, so that nothing outside that folder is touched.

Skipped with the reason when there is no ``chronyd`` (``scripts/setup.sh`` unpacks one into
``.venv/chrony``) or it exits at start; it is stopped (TERM, then KILL) at the end of the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ews_tui.services.settings import query_sntp

UNPACKED = Path(__file__).resolve().parents[2] / ".venv" / "chrony" / "usr" / "sbin" / "chronyd"


def _chronyd() -> Path | None:
    """chronyd installed, or unpacked by scripts/setup.sh (which does not install it)."""
    for found in (shutil.which("chronyd"), "/usr/sbin/chronyd", UNPACKED):
        if found is not None and Path(found).is_file():
            return Path(found)
    return None


# How long chronyd may take to answer its first SNTP query. A query to the port before chronyd
# binds it fails at once (ICMP port unreachable), so the wait is a deadline, not a try count:
# forty quick refusals once ended it before a loaded machine had started chronyd.
READY_S = 20.0
RETRY_S = 0.05

CONFIG = """port {port}
bindaddress 127.0.0.1
allow 127.0.0.1
local stratum 8
cmdport 0
bindcmdaddress /
pidfile {folder}/chronyd.pid
"""


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def chrony_server(folder: Path) -> AsyncIterator[int]:
    """Start ``chronyd -x`` serving NTP on 127.0.0.1; yield its port."""
    chronyd = _chronyd()
    if chronyd is None:
        pytest.skip("chronyd not found (scripts/setup.sh unpacks it into .venv/chrony)")
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_udp_port()
    conf = folder / "chrony.conf"
    conf.write_text(CONFIG.format(port=port, folder=folder))
    # As root chronyd drops to its own user, which cannot write the temp folder: stay root.
    user = ["-u", "root"] if os.geteuid() == 0 else ["-U"]
    log = (folder / "chronyd.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        chronyd, "-x", "-d", *user, "-f", str(conf),
        stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
    )  # fmt: skip
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_S
        while True:
            if process.returncode is not None:
                pytest.skip(f"chronyd could not start: {(folder / 'chronyd.log').read_text()}")
            with contextlib.suppress(OSError, TimeoutError, ValueError):
                await query_sntp("127.0.0.1", port, timeout=0.25)
                break
            if loop.time() > deadline:
                pytest.fail(
                    f"chronyd does not answer on port {port} after {READY_S:.0f} s: "
                    f"{(folder / 'chronyd.log').read_text()}"
                )
            await asyncio.sleep(RETRY_S)
        yield port
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(5):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        log.close()
