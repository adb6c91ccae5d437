"""Helpers of the Connector's tests: a box's CSV folders, its settings, what arrived."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ews_tui.config import Config, ConnectorSettings, default_config
from ews_tui.domain.connector import ConnectorMode
from ews_tui.services import connector_transfer as transfer
from ews_tui.store.connector_repo import ConnectorRepo, open_connector_repo
from tests.services.openssh_server import OpenSshServer

PARIS = ZoneInfo("Europe/Paris")
WEDNESDAY_14H = datetime(2022, 11, 30, 14, 0, tzinfo=PARIS).timestamp()


def write_csv(config: Config) -> dict[str, bytes]:
    """A few days of each folder; their bytes by folder-relative name."""
    files: dict[str, bytes] = {}
    for folder in ("energy", "measures", "events", "eqcheck"):
        for day in range(1, 4):
            rel = f"{folder}/2022-11-0{day}.csv"
            data = f"timestamp,{folder}\n".encode() + os.urandom(2000).hex().encode()
            path = config.csv_folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            files[rel] = data
    return files


def box(tmp_path: Path, server: OpenSshServer, **settings: object) -> Config:
    config = default_config(tmp_path / "box")
    connector = ConnectorSettings(
        mode=ConnectorMode.SFTP,
        address="127.0.0.1",
        port=server.port,
        user=server.user,
        destination="backup",
    )
    return dataclasses.replace(config, connector=dataclasses.replace(connector, **settings))


def with_settings(config: Config, **settings: object) -> Config:
    return dataclasses.replace(config, connector=dataclasses.replace(config.connector, **settings))


async def trust(config: Config) -> None:
    transfer.store_trust(config, await transfer.fetch_host_key(config, 10))


async def trust_and_authorize(config: Config, server: OpenSshServer) -> None:
    await trust(config)
    public = transfer.public_key_text(config)
    assert public is not None and public.startswith("ssh-ed25519 ")
    server.authorize(public)


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[ConnectorRepo]:
    async with open_connector_repo(tmp_path / "box") as opened:
        yield opened


def arrived(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (part files included), by its ``root``-relative name."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
    }
