"""A listening TCP socket with an accept loop of its own that backs off when the process is
out of descriptors or memory.

asyncio's own accept loop (Python 3.11, used by ``asyncssh.create_server``) retries up to
100 times per wake-up when ``accept()`` fails with EMFILE and logs each failure: with 1,100
sockets that sent only an SSH banner, 289,755 lines "socket.accept() out of system resource"
in 45 s, and a real login hung behind them. Here, on EMFILE, ENFILE, ENOBUFS or ENOMEM the
loop logs once, stops accepting for ``pause`` seconds (doubling to ``max_pause``), and tries
again; connections already accepted are served meanwhile, and the ones waiting in the
kernel's backlog are taken once descriptors are back. While it keeps failing, each further
pause is counted, not logged; the line "accepting again" says how many there were.

    listener = await Listener.open("127.0.0.1", 0, name="ssh", on_socket=handle)
    listener.port            # the port listened on
    await listener.close()   # stop accepting (sockets already handed over are the caller's)
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import Callable

log = logging.getLogger(__name__)

BACKLOG = 128
ACCEPT_PAUSE_S = 0.1
ACCEPT_PAUSE_MAX_S = 5.0
OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class Listener:
    """Accepts connections on one socket and hands each to ``on_socket`` (non-blocking)."""

    def __init__(
        self,
        sock: socket.socket,
        *,
        name: str,
        on_socket: Callable[[socket.socket], None],
        pause: float = ACCEPT_PAUSE_S,
        max_pause: float = ACCEPT_PAUSE_MAX_S,
    ) -> None:
        self.sock = sock
        self.name = name
        self._on_socket = on_socket
        self._first_pause = pause
        self._max_pause = max_pause
        self.accept_pauses = 0  # times accepting paused for want of descriptors or memory
        self.accepted = 0
        self._task: asyncio.Task[None] = asyncio.get_running_loop().create_task(
            self._accept_forever(), name=f"{name}-accept"
        )

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        *,
        name: str,
        on_socket: Callable[[socket.socket], None],
        pause: float = ACCEPT_PAUSE_S,
        max_pause: float = ACCEPT_PAUSE_MAX_S,
    ) -> Listener:
        """Listen on ``host:port`` (``OSError`` if the address is taken or not ours)."""
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        family, kind, proto, _name, address = infos[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(BACKLOG)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        return cls(sock, name=name, on_socket=on_socket, pause=pause, max_pause=max_pause)

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    async def close(self) -> None:
        """Stop accepting and close the listening socket."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self.sock.close()

    async def _accept_forever(self) -> None:
        loop = asyncio.get_running_loop()
        pause = self._first_pause
        failing = 0  # pauses in a row
        while True:
            try:
                conn, _peer = await loop.sock_accept(self.sock)
            except OSError as error:
                if error.errno not in OUT_OF_RESOURCES:
                    # The client gave up before we took it (ECONNABORTED...): next one.
                    log.info("%s: accept failed: %s", self.name, error)
                    continue
                self.accept_pauses += 1
                if failing == 0:
                    log.error(
                        "%s: cannot accept a connection (%s): not accepting for a moment "
                        "(from %.1f s, up to %.0f s while it lasts)",
                        self.name,
                        error.strerror or error,
                        pause,
                        self._max_pause,
                    )
                failing += 1
                await asyncio.sleep(pause)
                pause = min(pause * 2, self._max_pause)
                continue
            if failing:
                log.warning("%s: accepting again after %d pauses", self.name, failing)
                failing = 0
            pause = self._first_pause
            self.accepted += 1
            try:
                self._on_socket(conn)
            except Exception:
                log.exception("%s: a connection could not be started", self.name)
                conn.close()
