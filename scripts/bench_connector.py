#!/usr/bin/env python3
"""Connector benchmark: CSV folders pushed by SFTP to a real OpenSSH sshd on loopback.

In one run, against one sshd started here (as the tests do):

- ``year_s`` / ``year_bytes`` / ``year_files``: a year of one device's CSV folders (365 days
  of energy, measures and events files, sized as the box writes them) sent by the Connector;
- ``next_s`` / ``next_files``: the next run, nothing changed (it must send nothing);
- ``day32_s`` / ``day32_bytes``: one day of a 32-device box (the issue asks < 10 s);
- ``baseline_s``: the same year sent by asyncssh's own recursive ``sftp.put`` (no temp names,
  no bookkeeping), and ``year_over_baseline`` the ratio.

    .venv/bin/python scripts/bench_connector.py [--days 365]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncssh

from ews_tui.config import Config, ConnectorSettings, default_config
from ews_tui.domain.connector import ConnectorMode
from ews_tui.services import connector_transfer as transfer
from ews_tui.store.connector_repo import open_connector_repo
from tests.services.openssh_server import OpenSshServer, running_sshd

# Bytes of one device's day, as the box writes them (a 10-minute row per slot).
ENERGY_DAY = 144 * 90
MEASURES_DAY = 144 * 30 * 70  # 30 quantities, a row each per slot
EVENTS_DAY = 400


def fill(root: Path, days: int, devices: int) -> None:
    for day in range(days):
        name = f"2025-{1 + day // 31 % 12:02d}-{1 + day % 31:02d}-{day}.csv"
        for folder, size in (
            ("energy", ENERGY_DAY * devices),
            ("measures", MEASURES_DAY * devices),
            ("events", EVENTS_DAY),
        ):
            path = root / folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(os.urandom(size // 2).hex().encode())


async def main(days: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        async with running_sshd(tmp) as server:
            return await measure(tmp, server, days)


async def measure(tmp: Path, server: OpenSshServer, days: int) -> dict[str, object]:
    def box(name: str) -> Config:
        config = default_config(tmp / name)
        settings = ConnectorSettings(
            mode=ConnectorMode.SFTP,
            address="127.0.0.1",
            port=server.port,
            user=server.user,
            destination=name,
        )
        return dataclasses.replace(config, connector=settings)

    year = box("year")
    day32 = box("day32")
    fill(year.csv_folder, days, 1)
    fill(day32.csv_folder, 1, 32)
    key = await transfer.fetch_host_key(year, 10)
    for config in (year, day32):
        transfer.store_trust(config, key)
        server.authorize(transfer.public_key_text(config) or "")
    result: dict[str, object] = {"days": days}
    async with open_connector_repo(tmp / "year") as repo:
        start = time.perf_counter()
        line = await transfer.run_transfer(year, repo, now=time.time())
        result |= {
            "year_s": round(time.perf_counter() - start, 2),
            "year_files": line.files,
            "year_bytes": line.size,
            "ok": line.ok,
        }
        start = time.perf_counter()
        line = await transfer.run_transfer(year, repo, now=time.time())
        result |= {"next_s": round(time.perf_counter() - start, 3), "next_files": line.files}
    async with open_connector_repo(tmp / "day32") as repo:
        start = time.perf_counter()
        line = await transfer.run_transfer(day32, repo, now=time.time())
        result |= {"day32_s": round(time.perf_counter() - start, 2), "day32_bytes": line.size}
    own = asyncssh.read_private_key(tmp / "year/connector_ed25519_key")
    start = time.perf_counter()
    async with (
        asyncssh.connect(
            "127.0.0.1",
            server.port,
            username=server.user,
            client_keys=[own],
            known_hosts=None,
            config=None,
            agent_path=None,
        ) as ssh,
        ssh.start_sftp_client() as sftp,
    ):
        await sftp.put(str(year.csv_folder), "baseline", recurse=True)
    result["baseline_s"] = round(time.perf_counter() - start, 2)
    year_s, baseline_s = result["year_s"], result["baseline_s"]
    assert isinstance(year_s, float) and isinstance(baseline_s, float)
    result["year_over_baseline"] = round(year_s / baseline_s, 2)
    result["load"] = os.getloadavg()[0]
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.days))))
