"""A real OpenSSH ``sshd`` on a loopback port for the Connector's tests (and its bench).

Its own config, host key and ``authorized_keys`` in a temporary folder. Every session starts
in ``home`` (a forced command ``cd``s there, then runs the SFTP server or the requested
command such as ``scp -t``), so a destination "relative to the remote home" lands in the
test's folder whatever the account; a system account made by :meth:`add_account` starts in
its own home instead. Key login for the current account; password login is on, so a wrong
password is refused by sshd itself.

- ``stop()``/``start()`` take the server down and back on the same port. ``stop()`` cuts the
  running sessions too: ``sshd -D``'s per-connection children survive a TERM of the listener,
  so :meth:`cut` stops the listener, kills its whole process tree (each connection's sshd
  calls ``setsid``, so no process group holds them) and then the listener. :meth:`cut` is
  synchronous, for a test to call from a transfer's progress hook: the connection is gone
  when it returns.
- ``new_host_key()`` makes it present another key.
- ``sftp_only = True`` makes the session wrapper refuse every command but SFTP, as a server
  with no ``scp`` (``ForceCommand internal-sftp``) does.
- :func:`account_server` (root only): the server in a folder outside pytest's private
  ``tmp_path`` (which other accounts cannot enter), with :meth:`add_account` making a
  temporary system account with a random password (``useradd``/``chpasswd``), deleted at the
  end (``userdel``).
"""

from __future__ import annotations

import asyncio
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
SFTP_SERVER = "/usr/lib/openssh/sftp-server"

WRAPPER = """#!/bin/sh
if [ "$(id -u)" = 0 ]; then cd {home} || exit 1; else cd "$HOME" || exit 1; fi
case "$SSH_ORIGINAL_COMMAND" in
  sftp|internal-sftp|*sftp-server) exec {sftp} ;;
  "") exit 1 ;;
esac
if [ -e {dir}/sftp-only ]; then
  echo "This service allows sftp connections only." >&2
  exit 1
fi
exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"
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


@dataclass(frozen=True)
class Account:
    """A temporary system account of the server's machine: its sessions start in ``home``."""

    name: str
    password: str
    home: Path


@dataclass
class OpenSshServer:
    dir: Path
    port: int
    home: Path
    user: str
    process: asyncio.subprocess.Process | None = field(default=None)
    accounts: list[Account] = field(default_factory=list)

    def authorize(self, public_key: str) -> None:
        with (self.dir / "authorized_keys").open("a", encoding="utf-8") as stream:
            stream.write(public_key.strip() + "\n")

    def new_host_key(self) -> None:
        (self.dir / "host_key").unlink()
        (self.dir / "host_key.pub").unlink()
        _keygen(self.dir / "host_key")

    @property
    def sftp_only(self) -> bool:
        return (self.dir / "sftp-only").exists()

    @sftp_only.setter
    def sftp_only(self, value: bool) -> None:
        flag = self.dir / "sftp-only"
        if value:
            flag.touch()
        else:
            flag.unlink(missing_ok=True)

    async def start(self) -> None:
        with (self.dir / "sshd.log").open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                SSHD,
                "-D",
                "-e",
                "-f",
                str(self.dir / "sshd_config"),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log,
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

    def cut(self) -> None:
        """Kill the listener and every session now (the connections drop at once)."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        # Already killed and reaped, its return code not yet seen by the loop: nothing to do.
        with suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGSTOP)  # no new session while the tree is read
            for pid in _descendants(process.pid):
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            os.kill(process.pid, signal.SIGKILL)

    async def stop(self) -> None:
        self.cut()
        process, self.process = self.process, None
        if process is not None:
            await process.wait()

    def add_account(self) -> Account:
        """A new system account with a random password (root only), deleted at teardown."""
        if os.geteuid() != 0:
            pytest.skip("making a system account needs root (CI runs the tests as root)")
        name = "ews-t" + secrets.token_hex(5)
        password = secrets.token_urlsafe(16)
        home = self.dir.parent / name
        subprocess.run(
            ["useradd", "-M", "-d", str(home), "-s", "/bin/sh", name],
            check=True,
            capture_output=True,
        )
        account = Account(name, password, home)
        self.accounts.append(account)
        subprocess.run(
            ["chpasswd"], input=f"{name}:{password}\n", text=True, check=True, capture_output=True
        )
        home.mkdir()
        entry = pwd.getpwnam(name)
        os.chown(home, entry.pw_uid, entry.pw_gid)
        return account

    def remove_accounts(self) -> None:
        while self.accounts:
            account = self.accounts.pop()
            subprocess.run(["userdel", account.name], check=False, capture_output=True)


def _descendants(root: int) -> list[int]:
    """Every process below ``root``, parents before their children (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


@asynccontextmanager
async def running_sshd(base: Path) -> AsyncIterator[OpenSshServer]:
    """An sshd with its files in ``base/sshd`` and the root account's home ``base/home``."""
    if not os.access(SSHD, os.X_OK) or not os.access(SFTP_SERVER, os.X_OK):
        pytest.skip("OpenSSH server not installed (scripts/setup.sh installs it)")
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privsep dir
    folder = base / "sshd"
    home = base / "remote-home"
    folder.mkdir()
    home.mkdir()
    _keygen(folder / "host_key")
    (folder / "authorized_keys").write_text("")
    wrapper = folder / "session.sh"
    wrapper.write_text(WRAPPER.format(home=home, sftp=SFTP_SERVER, dir=folder))
    wrapper.chmod(0o755)
    folder.chmod(0o755)  # an account's session runs the wrapper
    port = free_port()
    (folder / "sshd_config").write_text(CONFIG.format(port=port, dir=folder, sftp=SFTP_SERVER))
    user = pwd.getpwuid(os.geteuid()).pw_name
    server = OpenSshServer(folder, port, home, user)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
        server.remove_accounts()


@pytest.fixture
async def openssh_server(tmp_path: Path) -> AsyncIterator[OpenSshServer]:
    async with running_sshd(tmp_path) as server:
        yield server


@pytest.fixture
async def account_server() -> AsyncIterator[OpenSshServer]:
    """The server in a folder other accounts can enter, for :meth:`OpenSshServer.add_account`."""
    if os.geteuid() != 0:
        pytest.skip("a system account with a password needs root (CI runs the tests as root)")
    base = Path(tempfile.mkdtemp(prefix="ews-sshd-"))
    base.chmod(0o755)
    try:
        async with running_sshd(base) as server:
            yield server
    finally:
        shutil.rmtree(base, ignore_errors=True)
