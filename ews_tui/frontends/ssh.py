"""The SSH front end: an asyncssh server where each PTY session is a UI of its own.

Every session runs its own App (:class:`~ews_tui.ui.app.EwsApp` by default) in the shared
loop, through a :class:`~ews_tui.frontends.driver.StreamTerminal` over the channel: drawn
at the client's size and colour depth, resized on window change, closed when the client
goes. Its language comes from the client's ``LC_ALL``/``LC_MESSAGES``/``LANG`` when sent,
else the box's. Everything else is refused with one line: a session without a PTY, a
command (exec), a subsystem (SFTP), port forwarding, agent and X11 forwarding.

Logins: public keys from ``ssh.authorized_keys`` and/or the ``[[ssh.users]]`` passwords,
stored as ``scrypt$N$r$p$SALT$HASH`` (hex; :func:`hash_password`, ``ews ssh
hash-password``). The host key is generated at first start (ed25519, mode 0600).

Guessing is slowed as OpenSSH does (see :mod:`~ews_tui.frontends.ssh_guard`): at most
``ssh.max_auth_tries`` failed passwords per connection, answers to an address that failed
spaced by a growing delay, at most ``ssh.max_startups`` connections not logged in yet. An
unknown user name costs the same scrypt work as a known one (a dummy hash of the same cost),
so names cannot be told apart by timing; scrypt runs in a thread, off the loop.

Connections are accepted by a :class:`~ews_tui.frontends.listener.Listener` of our own, not
asyncio's server: out of descriptors (EMFILE, ENFILE) it logs once and pauses accepting, then
hands each accepted socket to ``asyncssh.run_server`` with options built once at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh

from ews_tui.config import SshSettings
from ews_tui.config.fields import scrypt_hash_problem
from ews_tui.domain.auth import DEFAULT_SCRYPT, SALT_BYTES, HashedSecret, ScryptParams, hash_secret
from ews_tui.frontends.driver import StreamTerminal, TerminalSize, colors_for_terminal
from ews_tui.frontends.listener import Listener
from ews_tui.frontends.sessions import AppFactory, default_app, default_language
from ews_tui.frontends.ssh_guard import SourcePenalty
from ews_tui.i18n import N_, _, negotiate_language, set_language, translator
from ews_tui.runtime import Runtime
from ews_tui.ui.session import Session

log = logging.getLogger(__name__)

NEEDS_PTY = N_("ews-tui: the UI needs a terminal: connect with ssh -t.")
NO_COMMANDS = N_("ews-tui: commands are not available here: connect without one for the UI.")
NO_SUBSYSTEMS = N_("ews-tui: {name} is not available here.")
TOO_MANY = N_("ews-tui: all {count} sessions are in use: try again later.")
IDLE_LOGOUT = N_("ews-tui: logged out after {minutes} minutes without a key.")
STOPPING = N_("ews-tui: the server is stopping.")
CRASHED = N_(
    "ews-tui: this session ended on an unexpected error (the box's log has the details); "
    "the box and the other sessions go on. Connect again for a new session."
)
NO_FORWARDING = "port forwarding is not available on this server"
TOO_MANY_FAILURES = "Too many authentication failures"  # OpenSSH's words
LANGUAGE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


class SshSetupError(Exception):
    """The SSH front end cannot start: the message names the setting and the reason."""


def hash_password(password: str, params: ScryptParams = DEFAULT_SCRYPT) -> str:
    """The ``password_scrypt`` text of ``password`` for an ``[[ssh.users]]`` entry."""
    return hash_secret(password, os.urandom(SALT_BYTES), params).encode()


def load_host_key(path: Path) -> asyncssh.SSHKey:
    """The host key at ``path``, generated (ed25519, mode 0600) when missing."""
    try:
        return asyncssh.read_private_key(path)
    except FileNotFoundError:
        pass
    except (OSError, asyncssh.KeyImportError) as error:
        raise SshSetupError(f"ssh.host_key: {path}: {error}") from None
    key = asyncssh.generate_private_key("ssh-ed25519")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as stream:
            stream.write(key.export_private_key())
    except OSError as error:
        raise SshSetupError(f"ssh.host_key: {path}: {error.strerror}") from None
    log.info("generated the SSH host key %s (%s)", path, key.get_fingerprint())
    return key


@dataclass
class _Live:
    """One running UI session, as the front end sees it."""

    app: Any
    origin: str
    ending: str | None = None  # the msgid of the line to show when it ends, if any


class SshLink:
    """A :class:`~ews_tui.frontends.driver.TerminalLink` over an SSH session's channel."""

    def __init__(self, process: asyncssh.SSHServerProcess[str]) -> None:
        self._process = process

    async def read(self) -> str | TerminalSize:
        while True:
            try:
                return await self._process.stdin.read(4096)
            except asyncssh.TerminalSizeChanged as change:
                return TerminalSize(change.width, change.height)
            except (asyncssh.BreakReceived, asyncssh.SignalReceived):
                continue
            except (asyncssh.Error, ConnectionError):
                return ""

    def write(self, data: str) -> None:
        # A channel closing drops the data: the reader sees its end.
        with contextlib.suppress(OSError, asyncssh.Error):
            self._process.stdout.write(data)


class _BoxSshServer(asyncssh.SSHServer):
    """Logins and the requests refused at connection level (one per connection)."""

    def __init__(self, front: SshFrontEnd) -> None:
        self._front = front
        self._conn: asyncssh.SSHServerConnection | None = None
        self._address = "?"
        self._waiting_login = False  # counted in the front end's connections not logged in
        self._failures = 0

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._address = str((conn.get_extra_info("peername") or ("?",))[0])
        front = self._front
        limit = front.settings.max_startups
        if front.unauthenticated >= limit:
            log.warning(
                "ssh: connection from %s closed: %d connections are not logged in yet "
                "(ssh.max_startups)",
                self._address,
                limit,
            )
            asyncio.get_running_loop().call_soon(conn.abort)
            return
        front._connections.add(conn)
        front.unauthenticated += 1
        self._waiting_login = True

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._front._connections.discard(self._conn)
        self._logged_in()

    def auth_completed(self) -> None:
        self._logged_in()

    def _logged_in(self) -> None:
        if self._waiting_login:
            self._waiting_login = False
            self._front.unauthenticated -= 1

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return bool(self._front.passwords)

    async def validate_password(self, username: str, password: str) -> bool:
        front = self._front
        wait = front.penalty.wait(self._address, front.clock())
        if wait > 0:
            log.info("ssh: %s failed before: answering in %.2f s", self._address, wait)
            await asyncio.sleep(wait)
        hashed = front.passwords.get(username)
        # An unknown name costs the same scrypt work, against a hash nothing matches.
        try:
            ok = await asyncio.to_thread((hashed or front.dummy_hash).matches, password)
        except (ValueError, MemoryError) as error:
            log.error("ssh: the password hash of %r cannot be checked: %s", username, error)
            ok = False
        if ok and hashed is not None:
            return True
        self._failures += 1
        total = front.penalty.failed(self._address, front.clock())
        log.info(
            "ssh: %s for %r from %s (%d on this connection, %d from this address)",
            "wrong password" if hashed is not None else "password login for an unknown user",
            username,
            self._address,
            self._failures,
            total,
        )
        if self._failures >= front.settings.max_auth_tries:
            log.warning(
                "ssh: connection from %s closed after %d failed passwords (ssh.max_auth_tries)",
                self._address,
                self._failures,
            )
            raise asyncssh.PermissionDenied(TOO_MANY_FAILURES)
        return False

    def session_requested(self) -> asyncssh.SSHServerSession[str]:
        return _BoxProcess(self._front)

    def connection_requested(
        self, dest_host: str, dest_port: int, orig_host: str, orig_port: int
    ) -> bool:
        log.info("ssh: refused forwarding to %s:%s", dest_host, dest_port)
        raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, NO_FORWARDING)

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        log.info("ssh: refused remote forwarding from %s:%s", listen_host, listen_port)
        return False

    def unix_connection_requested(self, dest_path: str) -> bool:
        raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, NO_FORWARDING)

    def unix_server_requested(self, listen_path: str) -> bool:
        return False


class _BoxProcess(asyncssh.SSHServerProcess[str]):
    """asyncssh's server process, except that an SFTP request gets our one-line refusal
    too (left to asyncssh, a server without SFTP answers a bare "request failed")."""

    def __init__(self, front: SshFrontEnd) -> None:
        super().__init__(front._serve, None, 0, False)
        self._front = front

    def subsystem_requested(self, subsystem: str) -> bool:
        return True  # every subsystem is refused in words, by _serve or below

    def session_started(self) -> None:
        chan = self.channel
        if chan.get_subsystem() != "sftp":
            super().session_started()
            return
        env = chan.get_environment()
        language = negotiate_language(
            str(env[k]) for k in LANGUAGE_VARIABLES if env.get(k)
        ) or default_language(self._front.runtime)
        log.info("ssh: sftp refused for %s", chan.get_extra_info("username"))
        chan.write_stderr(translator(language).gettext(NO_SUBSYSTEMS).format(name="SFTP") + "\r\n")
        chan.exit(1)


class SshFrontEnd:
    """The asyncssh server of the box; ``start``/``stop`` like a service."""

    name = "ssh"

    def __init__(
        self,
        runtime: Runtime,
        settings: SshSettings,
        host_key_file: Path,
        authorized_keys_file: Path | None,
        *,
        make_app: AppFactory = default_app,
        penalty: SourcePenalty | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        self.host_key_file = host_key_file
        self.authorized_keys_file = authorized_keys_file
        self.make_app = make_app
        self.passwords: dict[str, HashedSecret] = {}
        self.dummy_hash = _dummy_hash(DEFAULT_SCRYPT)
        self.penalty = penalty if penalty is not None else SourcePenalty()
        self.clock = clock
        self.unauthenticated = 0  # connections not logged in yet (ssh.max_startups)
        self.sessions: dict[asyncio.Task[Any], _Live] = {}
        self._connections: set[asyncssh.SSHServerConnection] = set()
        self._listener: Listener | None = None
        self._options: asyncssh.SSHServerConnectionOptions | None = None
        self._handshakes: set[asyncio.Task[None]] = set()  # accepted, not logged in yet
        self._stopping = False

    @property
    def connections(self) -> frozenset[asyncssh.SSHServerConnection]:
        return frozenset(self._connections)

    @property
    def port(self) -> int:
        """The port listened on (useful with ``listen = "127.0.0.1:0"``)."""
        assert self._listener is not None, "not started"
        return self._listener.port

    @property
    def accepted(self) -> int:
        """Connections accepted so far."""
        return self._listener.accepted if self._listener is not None else 0

    @property
    def handshaking(self) -> int:
        """Connections accepted whose SSH handshake has not ended yet."""
        return len(self._handshakes)

    @property
    def accept_pauses(self) -> int:
        """Times accepting paused for want of descriptors or memory (EMFILE...)."""
        return self._listener.accept_pauses if self._listener is not None else 0

    async def start(self) -> None:
        """Listen; raise :class:`SshSetupError` naming the setting that stops it."""
        self.passwords = _passwords(self.settings)
        costs = Counter(hashed.params for hashed in self.passwords.values()).most_common(1)
        self.dummy_hash = _dummy_hash(costs[0][0] if costs else DEFAULT_SCRYPT)
        keys = self.authorized_keys_file
        if keys is not None and not keys.is_file():
            raise SshSetupError(f"ssh.authorized_keys: {keys}: no such file")
        if keys is None and not self.passwords:
            raise SshSetupError(
                "ssh: neither authorized_keys nor users are set: nobody could log in"
            )
        host_key = load_host_key(self.host_key_file)
        authorized = None
        if keys is not None:
            try:
                authorized = asyncssh.read_authorized_keys(str(keys))
            except (OSError, ValueError, asyncssh.KeyImportError) as error:
                raise SshSetupError(f"ssh.authorized_keys: {keys}: {error}") from None
        self._options = await asyncssh.SSHServerConnectionOptions.construct(
            server_factory=lambda: _BoxSshServer(self),
            server_host_keys=[host_key],
            authorized_client_keys=authorized,
            encoding="utf-8",
            errors="replace",
            line_editor=False,
            agent_forwarding=False,
            x11_forwarding=False,
            allow_scp=False,
            sftp_factory=None,
            keepalive_interval=60,
        )
        listen = self.settings.listen
        try:
            self._listener = await Listener.open(
                listen.host, listen.port, name="ssh", on_socket=self._accepted
            )
        except OSError as error:
            raise SshSetupError(f"ssh.listen {listen}: {error.strerror or error}") from None
        log.info("ssh: listening on %s:%d", listen.host, self.port)

    async def stop(self) -> None:
        """Stop listening, tell every session, await them, close the connections."""
        self._stopping = True
        listener, self._listener = self._listener, None
        if listener is not None:
            await listener.close()
        for handshake in list(self._handshakes):
            handshake.cancel()
        await asyncio.gather(*self._handshakes, return_exceptions=True)
        for live in self.sessions.values():
            live.ending = live.ending or STOPPING
            live.app.exit()
        tasks = list(self.sessions)
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for conn in list(self._connections):
            conn.close()
            await conn.wait_closed()
        log.info("ssh: stopped")

    # -- connections ------------------------------------------------------------------------

    def _accepted(self, sock: socket.socket) -> None:
        """A connection from the listener: asyncssh runs it (handshake, then the sessions)."""
        task = asyncio.get_running_loop().create_task(self._handshake(sock), name="ssh-handshake")
        self._handshakes.add(task)
        task.add_done_callback(self._handshakes.discard)

    async def _handshake(self, sock: socket.socket) -> None:
        assert self._options is not None
        try:
            await asyncssh.run_server(sock, options=self._options)
        except (TimeoutError, asyncssh.Error, OSError) as error:
            # Refused (ssh.max_startups), wrong logins, a client gone: each said where it
            # happened; asyncssh closed the connection.
            log.debug("ssh: a connection ended before login: %s", error)

    # -- sessions ---------------------------------------------------------------------------

    async def _serve(self, process: asyncssh.SSHServerProcess[str]) -> None:
        """One channel's life (asyncssh runs it as a task of its own context copy)."""
        env = dict(process.env)
        language = negotiate_language(
            env[k] for k in LANGUAGE_VARIABLES if env.get(k)
        ) or default_language(self.runtime)
        set_language(language)
        user = process.get_extra_info("username")
        peer = (process.get_extra_info("peername") or ("?",))[0]
        origin = f"ssh:{user}@{peer}"
        refusal = self._refusal(process)
        if refusal is not None:
            log.info("ssh: %s refused: %s", origin, refusal)
            _end(process, refusal, status=1)
            return
        await self._run_ui(process, language, env, origin)

    def _refusal(self, process: asyncssh.SSHServerProcess[str]) -> str | None:
        if process.subsystem is not None:
            return _(NO_SUBSYSTEMS).format(name=process.subsystem)
        if process.command is not None:
            return _(NO_COMMANDS)
        if process.get_terminal_type() is None:
            return _(NEEDS_PTY)
        if self._stopping:
            return _(STOPPING)
        if len(self.sessions) >= self.settings.max_sessions:
            return _(TOO_MANY).format(count=self.settings.max_sessions)
        return None

    async def _run_ui(
        self,
        process: asyncssh.SSHServerProcess[str],
        language: str,
        env: Mapping[str, str],
        origin: str,
    ) -> None:
        width, height, _pw, _ph = process.get_terminal_size()
        term = process.get_terminal_type()
        colors = colors_for_terminal(term, env.get("COLORTERM"))
        session = Session(
            self.runtime, language=language, colors=colors, origin=origin, extra={"env": env}
        )
        app = self.make_app(session)
        live = _Live(app, origin)
        minutes = self.settings.idle_logout_minutes
        terminal = StreamTerminal(
            SshLink(process),
            TerminalSize(width or 80, height or 24),
            colors=colors,
            idle_timeout=minutes * 60 if minutes else None,
            on_idle=lambda: _idle(live),
        )
        task = asyncio.current_task()
        assert task is not None
        self.sessions[task] = live
        log.info(
            "ssh: session %s opened (%dx%d, %s, %s colours, %s)",
            origin,
            width,
            height,
            term,
            colors,
            language,
        )
        try:
            await terminal.run(app)
        finally:
            del self.sessions[task]
            log.info("ssh: session %s closed", origin)
        if terminal.crashed:
            log.warning("ssh: session %s ended by an unexpected error", origin)
            live.ending = CRASHED
        if not terminal.gone:
            line = _(live.ending).format(minutes=minutes) if live.ending else None
            _end(process, line, status=1 if terminal.crashed else 0)


def _idle(live: _Live) -> None:
    log.info("ssh: session %s idle: logging out", live.origin)
    live.ending = IDLE_LOGOUT
    live.app.exit()


def _end(process: asyncssh.SSHServerProcess[str], line: str | None, *, status: int) -> None:
    try:
        if line:
            process.stderr.write(line + "\r\n")
        process.exit(status)
    except (OSError, asyncssh.Error):
        pass  # the client is already gone


def _passwords(settings: SshSettings) -> dict[str, HashedSecret]:
    found: dict[str, HashedSecret] = {}
    for index, user in enumerate(settings.users):
        problem = scrypt_hash_problem(user.password_scrypt)
        if problem is not None:
            raise SshSetupError(f"ssh.users[{index}].password_scrypt: {problem.message}")
        found[user.name] = HashedSecret.decode(user.password_scrypt)
    return found


def _dummy_hash(params: ScryptParams) -> HashedSecret:
    """A hash of the given cost that no password matches (random salt and digest)."""
    return HashedSecret(params, os.urandom(SALT_BYTES), os.urandom(params.length))
