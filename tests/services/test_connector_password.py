"""Password login and a destination the server refuses to write, against real OpenSSH.

The account is a temporary system account with a random password (root only: CI runs the
tests as root; elsewhere these skip saying so). OpenSSH's sftp-server answers a folder the
account may not write with "permission denied" and a full disk with a generic "failure": the
log says "the server refused to write: disk full or no permission", which is true of both.
The disk is a small tmpfs when ``mount`` works. One test keeps asyncssh's own SFTP server,
which answers with the precise "no space" code: then the log says "disk full on the server".
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncssh
import pytest

from ews_tui.config import Config, default_config
from ews_tui.domain import connector as conn
from ews_tui.services import connector_transfer as transfer
from ews_tui.store.connector_repo import ConnectorRepo
from tests.services.connector_fixtures import (
    arrived,
    box,
    repo,
    trust,
    trust_and_authorize,
    with_settings,
    write_csv,
)
from tests.services.openssh_server import (
    OpenSshServer,
    account_server,
    openssh_server,
)

__all__ = ["account_server", "openssh_server", "repo"]


def owner_of(path: Path) -> int:
    return path.stat().st_uid


async def test_password_login_sends_and_a_wrong_password_is_refused(
    tmp_path: Path, account_server: OpenSshServer, repo: ConnectorRepo
) -> None:
    account = account_server.add_account()
    config = box(
        tmp_path,
        account_server,
        user=account.name,
        password="not-" + account.password,
        key=None,
        destination="in",
    )
    files = write_csv(config)
    await trust(config)
    wrong = await transfer.run_transfer(config, repo, now=0)
    assert wrong.problem is not None and wrong.problem.msgid == conn.AUTH_REFUSED
    assert not (account.home / "in").exists()

    right = with_settings(config, password=account.password)
    line = await transfer.run_transfer(right, repo, now=0)
    assert line.ok, line.problem
    assert arrived(account.home / "in") == files
    account_uid = owner_of(account.home)
    assert {owner_of(path) for path in (account.home / "in").rglob("*")} == {account_uid}
    assert account.password not in str(await repo.transfers())


async def test_a_folder_the_account_cannot_write_is_said_and_sent_once_writable(
    tmp_path: Path, account_server: OpenSshServer, repo: ConnectorRepo
) -> None:
    account = account_server.add_account()
    locked = account.home / "locked"
    locked.mkdir(mode=0o755)  # root's: the account may read it, not write in it
    config = box(
        tmp_path,
        account_server,
        user=account.name,
        password=account.password,
        key=None,
        destination="locked/in",
        sources=("energy",),
    )
    files = write_csv(config)
    await trust(config)
    refused = await transfer.run_transfer(config, repo, now=0)
    assert refused.problem is not None
    assert refused.problem.msgid == conn.WRITE_REFUSED
    assert refused.problem.render() == "the server refused to write: disk full or no permission"
    assert refused.files == 0 and list(locked.iterdir()) == []
    assert await repo.sent_files(transfer.target_of(config, "locked/in")) == {}

    os.chown(locked, owner_of(account.home), -1)
    line = await transfer.run_transfer(config, repo, now=0)
    assert line.ok, line.problem
    assert arrived(locked / "in") == {k: v for k, v in files.items() if k.startswith("energy/")}


@pytest.fixture
def small_disk(openssh_server: OpenSshServer) -> Iterator[Path]:
    """A 64 KiB tmpfs in the remote home (root and a working ``mount``, or skip)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs the tests as root)")
    disk = openssh_server.home / "small"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


async def test_a_full_disk_is_said_and_what_did_not_fit_is_sent_later(
    tmp_path: Path, openssh_server: OpenSshServer, small_disk: Path, repo: ConnectorRepo
) -> None:
    config = box(tmp_path, openssh_server, destination="small/in")
    files = write_csv(config)  # 12 files of 4 KiB
    big = config.csv_folder / "measures/2022-11-02-big.csv"
    big.write_bytes(os.urandom(200_000))
    files[big.relative_to(config.csv_folder).as_posix()] = big.read_bytes()
    await trust_and_authorize(config, openssh_server)
    full = await transfer.run_transfer(config, repo, now=0)
    assert full.problem is not None and full.problem.msgid == conn.WRITE_REFUSED
    landed = {k: v for k, v in arrived(small_disk / "in").items() if not k.endswith(".ews-part")}
    assert len(landed) == full.files < len(files)  # nothing half written under its name
    assert all(files[name] == data for name, data in landed.items())

    subprocess.run(["mount", "-o", "remount,size=4m", str(small_disk)], check=True)
    line = await transfer.run_transfer(config, repo, now=0)
    assert line.ok, line.problem
    assert full.files + line.files == len(files)
    assert arrived(small_disk / "in") == files


# ------------------------------------------------------- a server that says "no space" exactly


class FullDisk(asyncssh.SFTPServer):
    def write(self, file_obj: object, offset: int, data: bytes) -> int:
        raise asyncssh.SFTPNoSpaceOnFilesystem("No space left on device")


class AnyPassword(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return True


@pytest.fixture
async def full_server(tmp_path: Path) -> AsyncIterator[tuple[asyncssh.SSHAcceptor, Path]]:
    root = tmp_path / "remote"
    root.mkdir()

    def factory(chan: asyncssh.SSHServerChannel[bytes]) -> asyncssh.SFTPServer:
        return FullDisk(chan, chroot=str(root).encode())

    acceptor = await asyncssh.listen(
        "127.0.0.1",
        0,
        server_factory=AnyPassword,
        server_host_keys=[asyncssh.generate_private_key("ssh-ed25519")],
        sftp_factory=factory,
    )
    try:
        yield acceptor, root
    finally:
        acceptor.close()
        await acceptor.wait_closed()


async def test_a_no_space_answer_is_said_as_disk_full(
    tmp_path: Path, full_server: tuple[asyncssh.SSHAcceptor, Path], repo: ConnectorRepo
) -> None:
    acceptor, root = full_server
    config: Config = default_config(tmp_path / "box")
    config = with_settings(
        config,
        mode=conn.ConnectorMode.SFTP,
        address="127.0.0.1",
        port=acceptor.get_port(),
        user="box",
        password="any",
        key=None,
        destination="in",
    )
    write_csv(config)
    await trust(config)
    full = await transfer.run_transfer(config, repo, now=0)
    assert full.problem is not None and full.problem.msgid == conn.DISK_FULL
    assert [p.name for p in (root / "in").rglob("*.csv")] == []  # no half file in place
    assert await repo.sent_files(transfer.target_of(config, "in")) == {}
