"""Issue 12 item 1 over real SSH (asyncssh client): five wrong PINs from one SSH user lock
that user's sessions only; another user's session on the same box logs in."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from ews_tui.domain.auth import MAX_FAILURES
from ews_tui.domain.events import LoginFailed, SecurityEvent, SourceLocked
from ews_tui.frontends.ssh import SshFrontEnd
from ews_tui.runtime import Runtime
from ews_tui.ui.screens.change_pin import ChangePinScreen
from ews_tui.ui.screens.login import LoginScreen
from tests.frontends.ssh_fixtures import ClientKey, make_client_key, ssh_front_end, ui_session
from tests.frontends.terminal_text import DEADLINE_S
from tests.ui.auth_fixtures import set_failures
from tests.ui.box_fixtures import box_runtime

GUEST_SOURCE = "ssh:guest@127.0.0.1"


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


def connect_as(front: SshFrontEnd, client: ClientKey, username: str) -> Any:
    return asyncssh.connect(
        "127.0.0.1",
        front.port,
        username=username,
        client_keys=[client.key],
        known_hosts=None,
        agent_path=None,
    )


async def until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        await asyncio.sleep(0.02)


def app_of(front: SshFrontEnd, origin: str) -> Any:
    apps = [live.app for live in front.sessions.values() if live.app.session.origin == origin]
    assert len(apps) == 1, [live.app.session.origin for live in front.sessions.values()]
    return apps[0]


async def test_five_wrong_pins_from_one_ssh_user_do_not_lock_another(
    runtime: Runtime, front: SshFrontEnd, client: ClientKey
) -> None:
    events = runtime.hub.subscribe(SecurityEvent, maxsize=100)
    async with connect_as(front, client, "guest") as guest_conn, ui_session(guest_conn) as guest:
        await guest.screen.wait_for("Enter your PIN, then your PUK.")
        for count in range(1, MAX_FAILURES + 1):
            mark = guest.screen.mark()
            await guest.type(*"12345", "\r")
            expected = (
                f"left before the lock: {MAX_FAILURES - count}."
                if count < MAX_FAILURES
                else "enter a PUK to unlock"
            )
            await guest.screen.wait_for(expected, since=mark)
            await set_failures(runtime, GUEST_SOURCE)  # the wait after a failure is over
        guest_app = app_of(front, GUEST_SOURCE)
        assert guest_app.screen.query_one("#pin").disabled

        async with (
            connect_as(front, client, "admin") as admin_conn,
            ui_session(admin_conn) as admin,
        ):
            await admin.screen.wait_for("Enter your PIN, then your PUK.")
            admin_app = app_of(front, "ssh:admin@127.0.0.1")
            assert isinstance(admin_app.screen, LoginScreen)
            assert not admin_app.screen.query_one("#pin").disabled
            await admin.type(*"99999", "\r")
            await until(lambda: not admin_app.screen.query_one("#puk").disabled, "the PUK")
            await admin.type(*"00000 9999 00000", "\r")
            await admin.screen.wait_for("choose your own PIN")
            assert isinstance(admin_app.screen, ChangePinScreen)

        # another session of the guest starts locked: the lock is the source's
        async with ui_session(guest_conn) as again:
            await again.screen.wait_for("enter a PUK to unlock")

    seen = []
    while len(events):
        seen.append(events.get_nowait())
    failed = [e for e in seen if isinstance(e, LoginFailed)]
    assert [e.source for e in failed] == [GUEST_SOURCE] * MAX_FAILURES
    assert [e.failures for e in failed] == list(range(1, MAX_FAILURES + 1))
    assert [e for e in seen if isinstance(e, SourceLocked)] == [
        SourceLocked(GUEST_SOURCE, MAX_FAILURES)
    ]
