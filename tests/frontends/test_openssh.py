"""The OpenSSH ``ssh`` client in a ``tmux`` window of 80x24 logs in with PIN and PUK.

What a technician does: ``ssh -p PORT tech@box``, the login screen at 80x24, PIN 88888 then
PUK 00000 8888 00000, the forced change of the default PIN, the home menu; Ctrl+Q ends the
session and ssh exits. The screen is read with ``tmux capture-pane`` until a deadline.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from ews_tui.domain.auth import MAX_FAILURES
from ews_tui.frontends.ssh import SshFrontEnd
from ews_tui.runtime import Runtime
from ews_tui.ui.session import Role
from tests.frontends.ssh_fixtures import ClientKey, make_client_key, ssh_front_end
from tests.frontends.terminal_text import DEADLINE_S
from tests.frontends.tmux_fixtures import Tmux
from tests.ui.auth_fixtures import set_failures
from tests.ui.box_fixtures import box_runtime

pytestmark = pytest.mark.skipif(
    not (shutil.which("ssh") and shutil.which("tmux")), reason="needs ssh and tmux"
)
PIN, PUK, NEW_PIN = "88888", "00000 8888 00000", "24680"


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path) as rt:
        yield rt


async def until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        await asyncio.sleep(0.02)


def the_app(front: SshFrontEnd) -> object:
    (live,) = front.sessions.values()
    return live.app


async def test_openssh_client_at_80x24_logs_in_with_pin_and_puk(
    runtime: Runtime, tmp_path: Path
) -> None:
    client: ClientKey = make_client_key(tmp_path)
    tmux = Tmux(tmp_path / "tmux.sock")
    async with ssh_front_end(runtime, client) as front:
        ssh = (
            f"ssh -F /dev/null -p {front.port} -i {client.path} -o IdentitiesOnly=yes "
            "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "
            "tech@127.0.0.1; echo SSH-EXIT-$?; sleep 60"
        )
        await tmux.run("new-session", "-d", "-s", "ui", "-x", "80", "-y", "24", ssh)
        try:
            await tmux.wait_for("Enter your PIN, then your PUK.")
            app = the_app(front)
            assert tuple(app.size) == (80, 24)  # type: ignore[attr-defined]

            await tmux.keys(PIN, "Enter")
            puk = app.screen.query_one("#puk")  # type: ignore[attr-defined]
            await until(lambda: not puk.disabled, "the PUK field")
            await tmux.keys(PUK, "Enter")
            await tmux.wait_for("choose your own PIN")
            await tmux.keys(NEW_PIN, "Enter")
            await until(lambda: app.focused.id == "confirm", "the second field")  # type: ignore[attr-defined]
            await tmux.keys(NEW_PIN, "Enter")
            await tmux.wait_for("Write it down")  # the new PUK, shown once
            await tmux.keys("Enter")
            shown = await tmux.wait_for("Live measures")
            assert "Home · System configuration" in shown
            assert app.session.role is Role.SYSTEM  # type: ignore[attr-defined]

            await tmux.keys("C-q")
            await tmux.wait_for("SSH-EXIT-0")
            await until(lambda: not front.sessions, "the session to end")
        finally:
            await tmux.run("kill-server")


async def openssh(*args: str) -> tuple[int, str]:
    """Run an OpenSSH client (no stdin, batch mode) and return its status and stderr."""
    process = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await asyncio.wait_for(process.communicate(), DEADLINE_S)
    assert process.returncode is not None
    return process.returncode, err.decode()


@pytest.mark.skipif(not shutil.which("sftp"), reason="needs the OpenSSH sftp client")
async def test_openssh_sftp_scp_and_forwarding_are_refused_in_words(
    runtime: Runtime, tmp_path: Path
) -> None:
    client: ClientKey = make_client_key(tmp_path)
    source = tmp_path / "data.csv"
    source.write_text("a,b\n")
    async with ssh_front_end(runtime, client) as front:
        options = (
            "-F", "/dev/null", "-i", str(client.path), "-o", "IdentitiesOnly=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "BatchMode=yes",
        )  # fmt: skip
        status, err = await openssh("sftp", "-P", str(front.port), *options, "tech@127.0.0.1")
        assert status != 0 and "ews-tui: SFTP is not available here." in err
        status, err = await openssh(
            "scp", "-O", "-P", str(front.port), *options, str(source), "tech@127.0.0.1:/tmp/x"
        )
        assert status != 0 and "commands are not available" in err
        status, err = await openssh(
            "ssh", "-p", str(front.port), *options, "-N", "-o", "ExitOnForwardFailure=yes",
            "-R", "127.0.0.1:0:127.0.0.1:9", "tech@127.0.0.1",
        )  # fmt: skip
        assert status != 0 and "remote port forwarding failed" in err
        assert not front.sessions


async def test_openssh_client_is_disconnected_after_six_wrong_passwords(
    runtime: Runtime, tmp_path: Path
) -> None:
    """Issue 12, item 3: OpenSSH's ``ssh`` asks for up to 100 passwords (an askpass program
    that always answers a wrong one): the box ends the connection after the sixth."""
    from ews_tui.config import HostPort, SshSettings, SshUser
    from ews_tui.frontends.ssh import hash_password
    from ews_tui.frontends.ssh_guard import SourcePenalty
    from tests.ui.box_fixtures import CHEAP_SCRYPT

    path = "/usr/bin:/bin"
    asked = tmp_path / "asked"
    askpass = tmp_path / "askpass"
    askpass.write_text(f'#!/bin/sh\necho x >> "{asked}"\necho wrong-password\n')
    askpass.chmod(0o700)
    user = SshUser("installer", hash_password("s3cret", CHEAP_SCRYPT))
    settings = SshSettings(enabled=True, listen=HostPort("127.0.0.1", 0), users=(user,))
    front = SshFrontEnd(
        runtime, settings, tmp_path / "host_key", None, penalty=SourcePenalty(base=0.0)
    )
    await front.start()
    try:
        process = await asyncio.create_subprocess_exec(
            "ssh", "-F", "/dev/null", "-p", str(front.port), "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "PreferredAuthentications=password",
            "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=100",
            "installer@127.0.0.1", "true",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env={"SSH_ASKPASS": str(askpass), "SSH_ASKPASS_REQUIRE": "force", "PATH": path},
        )  # fmt: skip
        _out, err = await asyncio.wait_for(process.communicate(), DEADLINE_S)
    finally:
        await front.stop()
    assert process.returncode == 255
    assert "Too many authentication failures" in err.decode()
    assert asked.read_text().count("x") == 6


async def test_five_wrong_pins_over_openssh_lock_that_user_only(
    runtime: Runtime, tmp_path: Path
) -> None:
    """Issue 12, item 1, with the real OpenSSH client: "guest" types five wrong PINs and
    its PIN entry locks; "admin", another SSH login on the same box, still logs in with the
    server PIN and PUK (before, the lockout was the box's: anyone could lock every role)."""
    client: ClientKey = make_client_key(tmp_path)
    guest, admin = Tmux(tmp_path / "guest.sock"), Tmux(tmp_path / "admin.sock")
    async with ssh_front_end(runtime, client) as front:

        def ssh(user: str) -> str:
            return (
                f"ssh -F /dev/null -p {front.port} -i {client.path} -o IdentitiesOnly=yes "
                "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                f"-o LogLevel=ERROR {user}@127.0.0.1; sleep 60"
            )

        await guest.run("new-session", "-d", "-s", "ui", "-x", "80", "-y", "24", ssh("guest"))
        try:
            await guest.wait_for("Enter your PIN, then your PUK.")
            for count in range(1, MAX_FAILURES + 1):
                await guest.keys("12345", "Enter")
                await guest.wait_for(
                    f"left before the lock: {MAX_FAILURES - count}."
                    if count < MAX_FAILURES
                    else "enter a PUK to unlock"
                )
                await set_failures(runtime, "ssh:guest@127.0.0.1")  # its wait is over
            await admin.run("new-session", "-d", "-s", "ui", "-x", "80", "-y", "24", ssh("admin"))
            try:
                await admin.wait_for("Enter your PIN, then your PUK.")
                await admin.keys("99999", "Enter")
                await admin.wait_for("PUK")
                apps = [
                    live.app
                    for live in front.sessions.values()
                    if live.app.session.origin == "ssh:admin@127.0.0.1"
                ]
                assert len(apps) == 1
                puk = apps[0].screen.query_one("#puk")
                await until(lambda: not puk.disabled, "the admin's PUK field")
                await admin.keys("00000 9999 00000", "Enter")
                await admin.wait_for("choose your own PIN")  # in: the first login's change
            finally:
                await admin.run("kill-server")
        finally:
            await guest.run("kill-server")
