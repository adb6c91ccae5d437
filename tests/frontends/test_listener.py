"""The accept loop of the SSH front end: out of descriptors, it says so once and pauses, the
connections it holds go on, and it accepts again once descriptors are back.

The process's soft RLIMIT_NOFILE is lowered for the flood (a few descriptors above what is
open) and put back before anything else needs one.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import resource
import socket
from collections.abc import Iterator

import pytest

from ews_tui.frontends.listener import Listener
from tests.frontends.terminal_text import DEADLINE_S

HEADROOM = 24  # descriptors left free when the flood starts


@contextlib.contextmanager
def few_descriptors(headroom: int = HEADROOM) -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    in_use = len(os.listdir("/proc/self/fd"))
    resource.setrlimit(resource.RLIMIT_NOFILE, (in_use + headroom, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def flood(port: int, most: int = 10 * HEADROOM) -> list[socket.socket]:
    """Connect until the process has no descriptor left (each sends an SSH banner)."""
    clients: list[socket.socket] = []
    for _ in range(most):
        try:
            client = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S)
        except OSError as error:
            assert error.errno in (errno.EMFILE, errno.ENFILE), error
            return clients
        client.sendall(b"SSH-2.0-flood\r\n")
        clients.append(client)
    raise AssertionError(f"still descriptors left after {most} connections")


async def until(check: object, what: str) -> None:
    assert callable(check)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while not check():
        assert loop.time() < deadline, f"still waiting for {what}"
        await asyncio.sleep(0.01)


async def test_out_of_descriptors_pauses_logs_once_and_accepts_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    held: list[socket.socket] = []
    listener = await Listener.open(
        "127.0.0.1", 0, name="test", on_socket=held.append, pause=0.05, max_pause=0.2
    )
    clients: list[socket.socket] = []
    try:
        with caplog.at_level(logging.INFO), few_descriptors():
            clients = flood(listener.port)
            # Everything that could be accepted was; the rest waits in the backlog.
            await until(lambda: listener.accept_pauses >= 3, "accepting to pause three times")
            assert len(held) < len(clients)
        # Three pauses or more, one line; asyncio's own loop logged each of its 100 retries
        # per wake-up.
        lines = [r for r in caplog.records if "accept" in r.getMessage()]
        assert len([r for r in lines if r.levelno >= logging.ERROR]) == 1, lines
        # Descriptors are back (the limit): the backlog is taken, then a new connection.
        await until(lambda: len(held) == len(clients), "the backlog to be accepted")
        with socket.create_connection(("127.0.0.1", listener.port), timeout=DEADLINE_S):
            await until(lambda: len(held) == len(clients) + 1, "a new connection")
        assert any("accepting again after" in r.getMessage() for r in caplog.records)
    finally:
        await listener.close()
        for sock in clients + held:
            sock.close()
