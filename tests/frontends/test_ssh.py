"""The SSH front end with a real asyncssh client: PTY sessions side by side, each with its
own App, language and size; resizes; refusals of everything that is not a PTY session."""

from __future__ import annotations

import asyncio
import contextlib
import decimal
import gc
import logging
import socket
import sys
import time
import weakref
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from ews_tui.domain.auth import HashedSecret, ScryptParams
from ews_tui.domain.events import Sample
from ews_tui.frontends.ssh import SshFrontEnd
from ews_tui.frontends.ssh_guard import SourcePenalty
from ews_tui.runtime import Runtime
from ews_tui.ui.screens.login import LoginScreen
from tests.frontends.ssh_fixtures import (
    ClientKey,
    connect,
    make_client_key,
    ssh_front_end,
    ui_session,
)
from tests.frontends.terminal_text import DEADLINE_S
from tests.frontends.test_listener import few_descriptors, flood
from tests.ui.box_fixtures import box_runtime
from tests.ui.polling_box import polling_box

CTRL_Q = "\x11"


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with box_runtime(tmp_path) as rt:
        yield rt


@pytest.fixture
def client(tmp_path: Path) -> ClientKey:
    return make_client_key(tmp_path)


@pytest.fixture
async def front(runtime: Runtime, client: ClientKey) -> AsyncIterator[SshFrontEnd]:
    async with ssh_front_end(runtime, client) as front:
        yield front


async def until(check: Callable[[], bool], what: str) -> None:
    """Server-side state seen from the test (same loop): poll it with a deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        await asyncio.sleep(0.02)


def apps_by_language(front: SshFrontEnd) -> dict[str, object]:
    return {live.app.session.language: live.app for live in front.sessions.values()}


async def test_three_sessions_in_three_languages_sizes_and_resizes(
    front: SshFrontEnd, client: ClientKey
) -> None:
    async with (
        connect(front, client) as conn,
        ui_session(conn, size=(80, 24), env={"LANG": "fr_FR.UTF-8"}) as fr,
        ui_session(conn, size=(100, 30), env={"LC_ALL": "de_DE.UTF-8"}) as de,
        ui_session(conn, size=(120, 40), term_type="xterm") as en,
    ):
        await fr.screen.wait_for("Saisissez votre code PIN, puis votre code PUK.")
        await de.screen.wait_for("Deutsch")  # German has no catalog yet: its name shows
        await en.screen.wait_for("Enter your PIN, then your PUK.")
        apps = apps_by_language(front)
        assert set(apps) == {"fr", "de", "en"}
        assert [tuple(apps[lang].size) for lang in ("fr", "de", "en")] == [
            (80, 24),
            (100, 30),
            (120, 40),
        ]
        assert all(isinstance(app.screen, LoginScreen) for app in apps.values())
        # TERM=xterm: a 16-colour session; xterm-256color: 256 colours, never truecolor.
        assert apps["en"].session.colors == 16 and apps["fr"].session.colors == 256
        assert "38;2;" not in fr.screen.raw and "38;5;" not in en.screen.raw

        # A window change redraws that session at its new size, and only that one.
        mark = de.screen.mark()
        de.process.change_terminal_size(90, 28)
        await until(lambda: tuple(apps["de"].size) == (90, 28), "the new size")
        await de.screen.wait_for("Deutsch", since=mark)
        assert tuple(apps["fr"].size) == (80, 24)

        # Typing goes to its own session: the French PIN field gets the digits, not the others.
        await fr.type("1", "2")
        pin = apps["fr"].screen.query_one("#pin")
        await until(lambda: pin.value == "12", "the typed PIN")
        assert apps["de"].screen.query_one("#pin").value == ""

        # Quitting one session closes its channel and leaves the others running.
        await fr.type(CTRL_Q)
        await fr.screen.wait_closed()
        await until(lambda: set(apps_by_language(front)) == {"de", "en"}, "the session to end")
        assert fr.screen.raw.endswith("\x1b[?1049l\x1b[?25h")  # the terminal restored
        await en.type("7")
        en_pin = apps["en"].screen.query_one("#pin")
        await until(lambda: en_pin.value == "7", "the other session's key")
    await until(lambda: not front.sessions, "every session to close with its client")


async def test_a_session_without_pty_is_refused_with_one_line(
    front: SshFrontEnd, client: ClientKey
) -> None:
    async with connect(front, client) as conn:
        result = await conn.run(env={"LANG": "fr_FR.UTF-8"})
    assert result.exit_status == 1
    assert result.stderr.count("\n") == 1
    assert "ssh -t" in result.stderr


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"command": "ls", "term_type": "xterm"}, "commands are not available"),
        ({"command": "ls"}, "commands are not available"),
        ({"subsystem": "netconf"}, "netconf is not available"),
        ({"subsystem": "sftp"}, "SFTP is not available"),
    ],
)
async def test_commands_and_subsystems_are_refused_with_one_line(
    front: SshFrontEnd, client: ClientKey, options: dict[str, str], expected: str
) -> None:
    async with connect(front, client) as conn:
        result = await conn.run(**options)
    assert result.exit_status == 1
    assert expected in result.stderr and result.stderr.count("\n") == 1
    assert not front.sessions


async def test_sftp_port_and_agent_forwarding_are_refused(
    front: SshFrontEnd, client: ClientKey, tmp_path: Path
) -> None:
    agent = tmp_path / "agent.sock"
    async with connect(front, client, agent_forwarding=True, agent_path=str(agent)) as conn:
        with pytest.raises(asyncssh.sftp.SFTPConnectionLost):
            await conn.start_sftp_client()
        with pytest.raises(asyncssh.ChannelOpenError, match="port forwarding is not available"):
            await conn.open_connection("127.0.0.1", 9)
        with pytest.raises(asyncssh.ChannelListenError):
            await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", 9)
        async with ui_session(conn) as ui:
            await ui.screen.wait_for("Enter your PIN")
            assert [c.get_agent_path() for c in front.connections] == [None]


async def test_sessions_beyond_max_sessions_are_refused(
    runtime: Runtime, client: ClientKey
) -> None:
    async with (
        ssh_front_end(runtime, client, max_sessions=1) as front,
        connect(front, client) as conn,
        ui_session(conn) as first,
    ):
        await first.screen.wait_for("Enter your PIN")
        result = await conn.run(term_type="xterm")
        assert result.exit_status == 1
        assert "all 1 sessions are in use" in result.stderr
        assert len(front.sessions) == 1


async def test_stopping_tells_each_session_and_closes_it(
    runtime: Runtime, client: ClientKey
) -> None:
    async with ssh_front_end(runtime, client) as front, connect(front, client) as conn:
        async with ui_session(conn) as ui:
            await ui.screen.wait_for("Enter your PIN")
            await front.stop()
            await ui.errors.wait_for("the server is stopping")
            await ui.screen.wait_closed()
        assert not front.sessions


async def test_password_users_log_in_and_wrong_passwords_do_not(
    runtime: Runtime, tmp_path: Path
) -> None:
    from ews_tui.config import HostPort, SshSettings, SshUser
    from ews_tui.domain.auth import ScryptParams
    from ews_tui.frontends.ssh import hash_password

    cheap = ScryptParams(n=2**4, r=1, p=1)
    user = SshUser("installer", hash_password("s3cret", cheap))
    assert user.password_scrypt.startswith("scrypt$16$1$1$")
    settings = SshSettings(enabled=True, listen=HostPort("127.0.0.1", 0), users=(user,))
    front = SshFrontEnd(runtime, settings, tmp_path / "host_key", None)
    await front.start()
    try:
        options = {"known_hosts": None, "agent_path": None, "client_keys": None}
        with pytest.raises(asyncssh.PermissionDenied):
            await asyncssh.connect(
                "127.0.0.1", front.port, username="installer", password="wrong", **options
            )
        async with (
            asyncssh.connect(
                "127.0.0.1", front.port, username="installer", password="s3cret", **options
            ) as conn,
            ui_session(conn) as ui,
        ):
            await ui.screen.wait_for("Enter your PIN")
            (live,) = front.sessions.values()
            assert live.origin == "ssh:installer@127.0.0.1"
    finally:
        await front.stop()
    assert (tmp_path / "host_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("users", "keys", "message"),
    [
        ((), None, "nobody could log in"),
        ((("x", "plain-text"),), None, r"password_scrypt: \"plain-text\" is not a scrypt"),
        (
            (("x", "scrypt$1073741824$8$1$" + "a5" * 16 + "$" + "3c" * 32),),
            None,
            r"ssh\.users\[0\]\.password_scrypt: scrypt cost N=1073741824, r=8, p=1 is refused",
        ),
        ((), "missing_keys", "ssh.authorized_keys: .*missing_keys: no such file"),
    ],
)
async def test_setups_that_cannot_work_are_refused(
    runtime: Runtime,
    tmp_path: Path,
    users: tuple[tuple[str, str], ...],
    keys: str | None,
    message: str,
) -> None:
    from ews_tui.config import HostPort, SshSettings, SshUser
    from ews_tui.frontends.ssh import SshSetupError

    settings = SshSettings(
        enabled=True,
        listen=HostPort("127.0.0.1", 0),
        users=tuple(SshUser(name, text) for name, text in users),
    )
    front = SshFrontEnd(runtime, settings, tmp_path / "host_key", tmp_path / keys if keys else None)
    with pytest.raises(SshSetupError, match=message):
        await front.start()


async def test_an_error_in_one_session_ends_that_session_only(tmp_path: Path) -> None:
    """Issue 9, item 3: a screen of one session raises (as babel's InvalidOperation did);
    that session ends with a short line and exit status 1, the other one still answers its
    keys, the pollers go on, and a new session opens."""
    client = make_client_key(tmp_path)
    (tmp_path / "box").mkdir()
    async with polling_box(tmp_path / "box") as box:
        rt = box.runtime
        head = box.device("Head").id
        arrivals: list[float] = []
        samples = rt.hub.subscribe(Sample, name="test-samples")

        async def collect() -> None:
            async for event in samples:
                if event.device_id == head:
                    arrivals.append(time.monotonic())

        collector = asyncio.create_task(collect())
        try:
            async with (
                ssh_front_end(rt, client) as front,
                connect(front, client) as conn,
                ui_session(conn) as doomed,
                ui_session(conn, env={"LANG": "fr_FR.UTF-8"}) as other,
            ):
                await doomed.screen.wait_for("Enter your PIN, then your PUK.")
                await other.screen.wait_for("Saisissez votre code PIN, puis votre code PUK.")
                apps = apps_by_language(front)
                apps["en"].screen.call_later(decimal.Decimal, "not a number")

                await doomed.errors.wait_for("this session ended on an unexpected error")
                await doomed.screen.wait_closed()
                assert doomed.process.exit_status == 1
                assert doomed.screen.raw.endswith("\x1b[?1049l\x1b[?25h")  # terminal restored
                crashed = time.monotonic()
                await until(lambda: set(apps_by_language(front)) == {"fr"}, "the session to end")

                await other.type("1", "2")
                pin = apps["fr"].screen.query_one("#pin")
                await until(lambda: pin.value == "12", "the other session's keys")
                await until(lambda: sum(t > crashed for t in arrivals) >= 2, "polling to go on")

                async with ui_session(conn) as again:
                    await again.screen.wait_for("Enter your PIN, then your PUK.")
        finally:
            samples.close()
            await asyncio.gather(collector, return_exceptions=True)


# --- guessing (issue 12, item 3) ---------------------------------------------------------------


class Guesser(asyncssh.SSHClient):
    """A client that answers every password prompt with another wrong password."""

    def __init__(self) -> None:
        self.tried = 0

    def password_auth_requested(self) -> str | None:
        if self.tried == 50:  # a server that never says stop: give up, the test fails
            return None
        self.tried += 1
        return f"guess-{self.tried}"


async def guess(port: int, username: str) -> tuple[int, Exception]:
    """Guess on one connection until the server ends it: (passwords tried, the error)."""
    guesser = Guesser()
    with pytest.raises(asyncssh.Error) as raised:
        await asyncssh.connect(
            "127.0.0.1",
            port,
            username=username,
            client_factory=lambda: guesser,
            known_hosts=None,
            agent_path=None,
            client_keys=None,
            preferred_auth="password",
        )
    return guesser.tried, raised.value


@contextlib.asynccontextmanager
async def password_front(
    runtime: Runtime, tmp_path: Path, **options: Any
) -> AsyncIterator[SshFrontEnd]:
    from ews_tui.config import HostPort, SshSettings, SshUser
    from ews_tui.domain.auth import ScryptParams
    from ews_tui.frontends.ssh import hash_password

    user = SshUser("installer", hash_password("s3cret", ScryptParams(n=2**4, r=1, p=1)))
    settings = SshSettings(enabled=True, listen=HostPort("127.0.0.1", 0), users=(user,), **options)
    front = SshFrontEnd(
        runtime, settings, tmp_path / "host_key", None, penalty=SourcePenalty(base=0.0)
    )
    await front.start()
    try:
        yield front
    finally:
        await front.stop()


@pytest.mark.parametrize("username", ["installer", "nobody"])
async def test_a_connection_ends_after_max_auth_tries_wrong_passwords(
    runtime: Runtime, tmp_path: Path, username: str
) -> None:
    async with password_front(runtime, tmp_path) as front:
        tried, error = await guess(front.port, username)
        assert tried == 6
        assert isinstance(error, asyncssh.PermissionDenied)
        assert error.reason == "Too many authentication failures"
        tried, error = await guess(front.port, username)  # a new connection, six more
        assert tried == 6
        assert front.penalty.failures("127.0.0.1", front.clock()) == 12
        await until(lambda: front.unauthenticated == 0, "the connections to be counted out")
    async with password_front(runtime, tmp_path, max_auth_tries=2) as front:
        assert (await guess(front.port, username))[0] == 2


async def test_an_unknown_user_costs_the_same_scrypt_as_a_known_one(
    runtime: Runtime, tmp_path: Path
) -> None:
    checked: list[ScryptParams] = []

    class Counted(HashedSecret):
        def matches(self, secret: str) -> bool:
            checked.append(self.params)
            return super().matches(secret)

    async with password_front(runtime, tmp_path, max_auth_tries=1) as front:
        known = front.passwords["installer"]
        front.passwords["installer"] = Counted(known.params, known.salt, known.digest)
        dummy = front.dummy_hash
        front.dummy_hash = Counted(dummy.params, dummy.salt, dummy.digest)
        await guess(front.port, "installer")
        await guess(front.port, "nobody")
    assert checked == [known.params, known.params]  # one scrypt each, at the users' cost


async def test_failed_passwords_space_the_answers_to_that_address(
    runtime: Runtime, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ews_tui.frontends.ssh")
    async with password_front(runtime, tmp_path, max_auth_tries=3) as front:
        front.penalty = SourcePenalty(base=0.01, cap=0.04)
        await asyncio.gather(guess(front.port, "installer"), guess(front.port, "nobody"))
    waits = [
        float(r.getMessage().split(" in ")[1].removesuffix(" s"))
        for r in caplog.records
        if "failed before: answering in" in r.getMessage()
    ]
    # Six attempts: all but the first one of each connection waited, longer and longer.
    assert len(waits) >= 4 and all(wait >= 0.01 for wait in waits)
    assert waits[-1] >= 0.04 > waits[0]


async def test_connections_not_logged_in_beyond_max_startups_are_closed(
    runtime: Runtime, tmp_path: Path
) -> None:
    async with password_front(runtime, tmp_path, max_startups=2) as front:
        waiting = [await asyncio.open_connection("127.0.0.1", front.port) for _ in range(2)]
        for reader, _writer in waiting:
            assert (await reader.readline()).startswith(b"SSH-2.0-")
        reader, writer = await asyncio.open_connection("127.0.0.1", front.port)
        # Closed at once (asyncssh has written its version line), before any key exchange.
        closed = await asyncio.wait_for(reader.read(), DEADLINE_S)
        assert closed.startswith(b"SSH-2.0-") and reader.at_eof()
        writer.close()
        assert front.unauthenticated == 2
        # A connection that logs in no longer counts; one that goes frees its place.
        waiting[0][1].close()
        await until(lambda: front.unauthenticated == 1, "the place to be freed")
        options = {"known_hosts": None, "agent_path": None, "client_keys": None}
        async with asyncssh.connect(
            "127.0.0.1", front.port, username="installer", password="s3cret", **options
        ):
            await until(lambda: front.unauthenticated == 1, "the login to be counted out")
        waiting[1][1].close()
        await until(lambda: front.unauthenticated == 0, "every place to be freed")


async def test_out_of_descriptors_the_server_pauses_accepting_and_a_login_then_works(
    front: SshFrontEnd, client: ClientKey, caplog: pytest.LogCaptureFixture
) -> None:
    clients: list[socket.socket] = []
    try:
        with caplog.at_level(logging.INFO), few_descriptors():
            clients = flood(front.port)  # every descriptor taken, by banners only
            await until(lambda: front.accept_pauses >= 2, "accepting to pause")
    finally:
        for sock in clients:
            sock.close()
    # The backlog is taken once descriptors are back; its connections end (their clients
    # went) and free their ssh.max_startups places.
    await until(lambda: front.accepted >= len(clients), "the backlog to be accepted")
    # An accepted socket counts as not logged in only once asyncssh has built its connection:
    # wait for every handshake to end, not only for the count to read 0 between two of them.
    await until(
        lambda: front.handshaking == 0 and front.unauthenticated == 0,
        "the flood's connections to end",
    )
    async with connect(front, client) as conn, ui_session(conn) as ui:
        await ui.screen.wait_for("Enter your PIN")
    flood_lines = [r for r in caplog.records if "accept" in r.getMessage()]
    assert len(flood_lines) <= 3, flood_lines  # asyncio's loop wrote 100 per wake-up


async def test_closed_sessions_leave_no_app_behind(
    front: SshFrontEnd, client: ClientKey, runtime: Runtime
) -> None:
    subscribers = len(runtime.hub.subscriptions)
    stdout = sys.stdout
    apps: list[weakref.ref[object]] = []
    async with connect(front, client) as conn:
        async with ui_session(conn) as first, ui_session(conn) as second:
            for ui in (first, second):
                await ui.screen.wait_for("Enter your PIN")
                await ui.type("1", "\x1b[B", "\x1b[A", "\x7f")  # keys through the parser
            await until(lambda: len(front.sessions) == 2, "two sessions")
            apps = [weakref.ref(live.app) for live in front.sessions.values()]
            await first.close()  # the first one opened ends first
        await until(lambda: not front.sessions, "the sessions to end")

    def freed() -> bool:  # a closing app's last callbacks may need a few turns of the loop
        gc.collect()
        return all(ref() is None for ref in apps)

    await until(freed, "the closed sessions' apps to be freed")
    assert [ref() for ref in apps] == [None, None]
    assert len(runtime.hub.subscriptions) == subscribers
    assert sys.stdout is stdout
