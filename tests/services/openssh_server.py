"""A real OpenSSH ``sshd`` on a loopback port for the Connector's tests.

Its own config, host key and ``authorized_keys`` in a temporary folder. Every session starts
in ``home`` (a forced command ``cd``s there, then runs the SFTP server or the requested
command such as ``scp -t``), so a destination "relative to the remote home" lands in the
test's folder whatever the account. Key login for the current account; password login is
on, so a wrong password is refused by sshd itself. ``stop()``/``start()`` take the server
down and back on the same port; ``new_host_key()`` makes it present another key.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
SFTP_SERVER = "/usr/lib/openssh/sftp-server"

WRAPPER = """#!/bin/sh
cd {home} || exit 1
case "$SSH_ORIGINAL_COMMAND" in
  sftp|internal-sftp|*sftp-server) exec {sftp} ;;
  "") exit 1 ;;
  *) exec /bin/sh -c "$SSH_ORIGINAL_COMMAND" ;;
esac
"""

CONFIG = """Port {port}
ListenAddress 127.0.0.1
HostKey {dir}/host_key
PidFile {dir}/sshd.pid
AuthorizedKeysFile {dir}/authorized_keys
PermitRootLogin yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 50
Subsystem sftp {sftp}
ForceCommand {dir}/session.sh
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class OpenSshServer:
    dir: Path
    port: int
    home: Path
    user: str
    process: asyncio.subprocess.Process | None = field(default=None)

    def authorize(self, public_key: str) -> None:
        with (self.dir / "authorized_keys").open("a", encoding="utf-8") as stream:
            stream.write(public_key.strip() + "\n")

    def new_host_key(self) -> None:
        (self.dir / "host_key").unlink()
        (self.dir / "host_key.pub").unlink()
        _keygen(self.dir / "host_key")

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            SSHD,
            "-D",
            "-e",
            "-f",
            str(self.dir / "sshd_config"),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=(self.dir / "sshd.log").open("ab"),
        )
        for _ in range(500):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                if self.process.returncode is not None:
                    raise RuntimeError((self.dir / "sshd.log").read_text()) from None
                await asyncio.sleep(0.01)  # sshd binds its port: no event to wait on
                continue
            writer.close()
            await writer.wait_closed()
            return
        raise RuntimeError("sshd did not listen")

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        await process.wait()


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


@pytest.fixture
async def openssh_server(tmp_path: Path) -> AsyncIterator[OpenSshServer]:
    if not os.access(SSHD, os.X_OK) or not os.access(SFTP_SERVER, os.X_OK):
        pytest.skip("OpenSSH server not installed (scripts/setup.sh installs it)")
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privsep dir
    folder = tmp_path / "sshd"
    home = tmp_path / "remote-home"
    folder.mkdir()
    home.mkdir()
    _keygen(folder / "host_key")
    (folder / "authorized_keys").write_text("")
    wrapper = folder / "session.sh"
    wrapper.write_text(WRAPPER.format(home=home, sftp=SFTP_SERVER))
    wrapper.chmod(0o755)
    port = free_port()
    (folder / "sshd_config").write_text(CONFIG.format(port=port, dir=folder, sftp=SFTP_SERVER))
    user = pwd.getpwuid(os.geteuid()).pw_name
    server = OpenSshServer(folder, port, home, user)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
