"""Password login and a full disk on the server, against a real SSH server (asyncssh's, on
loopback): OpenSSH's sshd would need a system account with a known password for the first,
and a small filesystem for the second. The SFTP server is asyncssh's own, rooted in the
test's folder; the "full" one answers every write with SSH_FX_NO_SPACE_ON_FILESYSTEM."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import asyncssh
import pytest

from ews_tui.config import Config, ConnectorSettings, default_config
from ews_tui.domain import connector as conn
from ews_tui.domain.connector import ConnectorMode
from ews_tui.services import connector_transfer as transfer
from ews_tui.store.connector_repo import ConnectorRepo, open_connector_repo

PASSWORD = "correct horse"


class PasswordServer(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == "box" and password == PASSWORD


class FullDisk(asyncssh.SFTPServer):
    def write(self, file_obj: object, offset: int, data: bytes) -> int:
        raise asyncssh.SFTPNoSpaceOnFilesystem("No space left on device")


async def serve(
    tmp_path: Path, sftp: type[asyncssh.SFTPServer]
) -> tuple[asyncssh.SSHAcceptor, Path]:
    root = tmp_path / "remote"
    root.mkdir(exist_ok=True)
    host_key = asyncssh.generate_private_key("ssh-ed25519")

    def factory(chan: asyncssh.SSHServerChannel[bytes]) -> asyncssh.SFTPServer:
        return sftp(chan, chroot=str(root).encode())

    acceptor = await asyncssh.listen(
        "127.0.0.1",
        0,
        server_factory=PasswordServer,
        server_host_keys=[host_key],
        sftp_factory=factory,
    )
    return acceptor, root


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[ConnectorRepo]:
    async with open_connector_repo(tmp_path / "box") as opened:
        yield opened


def box(tmp_path: Path, port: int, password: str) -> Config:
    config = default_config(tmp_path / "box")
    settings = ConnectorSettings(
        mode=ConnectorMode.SFTP,
        address="127.0.0.1",
        port=port,
        user="box",
        password=password,
        key=None,
        destination="in",
    )
    data = config.csv_folder / "energy/2026-12-01.csv"
    data.parent.mkdir(parents=True)
    data.write_text("timestamp,energy\n1,2\n")
    return dataclasses.replace(config, connector=settings)


async def test_password_login_sends_and_a_wrong_one_is_refused(
    tmp_path: Path, repo: ConnectorRepo
) -> None:
    acceptor, root = await serve(tmp_path, asyncssh.SFTPServer)
    try:
        port = acceptor.get_port()
        wrong = box(tmp_path, port, "wrong")
        transfer.store_trust(wrong, await transfer.fetch_host_key(wrong, 10))
        refused = await transfer.run_transfer(wrong, repo, now=0)
        assert refused.problem is not None and refused.problem.msgid == conn.AUTH_REFUSED
        right = dataclasses.replace(
            wrong, connector=dataclasses.replace(wrong.connector, password=PASSWORD)
        )
        line = await transfer.run_transfer(right, repo, now=0)
        assert line.ok and line.files == 1
        assert (root / "in/energy/2026-12-01.csv").read_text() == "timestamp,energy\n1,2\n"
    finally:
        acceptor.close()
        await acceptor.wait_closed()


async def test_a_full_disk_on_the_server_is_said_and_the_file_sent_later(
    tmp_path: Path, repo: ConnectorRepo
) -> None:
    acceptor, root = await serve(tmp_path, FullDisk)
    try:
        config = box(tmp_path, acceptor.get_port(), PASSWORD)
        transfer.store_trust(config, await transfer.fetch_host_key(config, 10))
        full = await transfer.run_transfer(config, repo, now=0)
        assert full.problem is not None and full.problem.msgid == conn.DISK_FULL
        assert not (root / "in/energy/2026-12-01.csv").exists()  # no half file in place
        assert await repo.sent_files(transfer.target_of(config, "in")) == {}  # not sent
    finally:
        acceptor.close()
        await acceptor.wait_closed()
    acceptor, root = await serve(tmp_path, asyncssh.SFTPServer)  # space again
    try:
        config = box_again(config, acceptor.get_port())
        transfer.store_trust(config, await transfer.fetch_host_key(config, 10))
        line = await transfer.run_transfer(config, repo, now=0)
        assert line.ok and line.files == 1
    finally:
        acceptor.close()
        await acceptor.wait_closed()


def box_again(config: Config, port: int) -> Config:
    return dataclasses.replace(config, connector=dataclasses.replace(config.connector, port=port))
