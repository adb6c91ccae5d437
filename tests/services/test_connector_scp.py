"""SCP both ways a server offers it (real OpenSSH on loopback): the legacy protocol (``scp -t``
run on the server) when it has an ``scp`` command, else the zip over SFTP to the same name.
The run chooses by itself and its log line says which ran; the zip holds every file."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import asyncssh
import pytest

from ews_tui.domain import connector as conn
from ews_tui.domain.connector import ConnectorMode
from ews_tui.services import connector_transfer as transfer
from ews_tui.store.connector_repo import ConnectorRepo
from tests.services.connector_fixtures import (
    WEDNESDAY_14H,
    box,
    repo,
    trust_and_authorize,
    write_csv,
)
from tests.services.openssh_server import OpenSshServer, openssh_server

__all__ = ["openssh_server", "repo"]


def zip_contents(archive: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as opened:
        return {name: opened.read(name) for name in opened.namelist()}


@pytest.mark.parametrize(
    ("sftp_only", "method", "label"),
    [(False, conn.LEGACY_SCP, "SCP"), (True, conn.SFTP_SCP, "SCP over SFTP")],
)
async def test_scp_sends_one_zip_the_way_the_server_offers(
    tmp_path: Path,
    openssh_server: OpenSshServer,
    repo: ConnectorRepo,
    caplog: pytest.LogCaptureFixture,
    sftp_only: bool,
    method: str,
    label: str,
) -> None:
    openssh_server.sftp_only = sftp_only
    config = box(
        tmp_path, openssh_server, mode=ConnectorMode.SCP, destination="répertoire/energyOf%dow"
    )
    files = write_csv(config)
    await trust_and_authorize(config, openssh_server)
    with caplog.at_level(logging.INFO, logger="ews_tui.services.connector_transfer"):
        line = await transfer.run_transfer(config, repo, now=WEDNESDAY_14H)
    assert line.ok, line.problem
    assert line.mode == method and conn.METHOD_LABELS[line.mode] == label
    assert f"sent to 127.0.0.1 by {label}\n" in caplog.text + "\n"
    archive = openssh_server.home / "répertoire/energyOfwed.zip"
    assert sorted(p.name for p in archive.parent.iterdir()) == ["energyOfwed.zip"]  # no part
    assert zip_contents(archive) == files
    assert line.files == len(files) and line.size == archive.stat().st_size
    assert not list((config.data_dir / "connector-tmp").iterdir())  # local zip removed
    assert (await repo.transfers())[0].mode == method

    files["energy/2022-11-01.csv"] = b"rewritten"
    (config.csv_folder / "energy/2022-11-01.csv").write_bytes(b"rewritten")
    again = await transfer.run_transfer(config, repo, now=WEDNESDAY_14H)
    assert again.ok and again.mode == method
    assert zip_contents(archive) == files  # replaced whole


async def test_the_sftp_only_server_really_refuses_legacy_scp(
    tmp_path: Path, openssh_server: OpenSshServer
) -> None:
    """The fixture's SFTP-only mode is a server legacy SCP cannot use (the fallback is needed)."""
    openssh_server.sftp_only = True
    config = box(tmp_path, openssh_server)
    write_csv(config)
    await trust_and_authorize(config, openssh_server)
    source = tmp_path / "one.txt"
    source.write_text("one")
    async with asyncssh.connect(
        "127.0.0.1",
        openssh_server.port,
        username=openssh_server.user,
        client_keys=[transfer.client_key(config)],
        known_hosts=None,
        config=None,
        agent_path=None,
    ) as ssh:
        with pytest.raises(asyncssh.SFTPError):
            await asyncssh.scp(str(source), (ssh, "one.txt"))
    assert not (openssh_server.home / "one.txt").exists()
