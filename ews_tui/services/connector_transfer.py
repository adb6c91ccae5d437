"""One Connector run over SSH (asyncssh): the SFTP synchronisation and the SCP archive.

What arrives on the far side is never half a file: each file (SFTP) or the archive (SCP) is
written under a temporary name (``.ews-part`` added) and renamed into place once complete.
SFTP sends only the files that are new or changed since they last arrived (size and
modification time, remembered in :class:`ConnectorRepo` once renamed); a file the box rewrote
meanwhile is sent again at the next run. Every network step has a timeout; zipping, listing
and key files run in a thread.

Host keys: the box trusts a server's key only once it was accepted (``trust``), and keeps
them in ``data_dir/connector_known_hosts`` (``HOST PORT KEY`` lines). A server whose key is
not the accepted one is refused ("host key changed"). The box's own key (``connector.key``)
is an ed25519 key made on first use, 0600.

Every failure is a :class:`TransferError` carrying a plain-words :class:`Message`; the
password never appears in one, nor in a log line.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import threading
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncssh

from ews_tui.atomic_file import write_atomically
from ews_tui.config import Config
from ews_tui.config.model import CONNECTOR_DEFAULT
from ews_tui.domain import connector as conn
from ews_tui.domain.messages import N_, Message
from ews_tui.services import connector_remote as remote
from ews_tui.services.connector_remote import PART, Progress, ProgressHook
from ews_tui.store.backup import BACKUPS_FOLDER
from ews_tui.store.connector_repo import ConnectorRepo, FileState, Transfer

log = logging.getLogger(__name__)

KNOWN_HOSTS = "connector_known_hosts"
CONNECTION_LOST = N_("connection to the server lost")
NO_ZIP_NAME = N_("SCP needs a destination file name")
__all__ = ["PART", "Progress", "ProgressHook"]


class TransferError(Exception):
    """A run that failed; ``message`` says why in plain words."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.render())
        self.message = message


def problem(msgid: str, detail: str = "") -> TransferError:
    return TransferError(Message(msgid, {"detail": detail}))


@dataclass(frozen=True)
class HostKey:
    """A server's host key as presented: its SHA256 fingerprint and OpenSSH text."""

    host: str
    port: int
    fingerprint: str
    public: str


@dataclass(frozen=True)
class LocalFile:
    rel: str  # "energy/2026-12-03.csv"
    path: Path
    state: FileState


# --------------------------------------------------------------------------- keys


def _known_hosts_file(config: Config) -> Path:
    return config.data_dir / KNOWN_HOSTS


def _read_known(path: Path) -> list[tuple[str, int, str]]:
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return []
    entries = []
    for line in text.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[1].isdigit():
            entries.append((parts[0], int(parts[1]), parts[2]))
    return entries


def trusted_keys(config: Config) -> list[str]:
    """The accepted host keys (OpenSSH text) of the configured server."""
    c = config.connector
    entries = _read_known(_known_hosts_file(config))
    return [key for host, port, key in entries if host == c.address and port == c.port]


def trusted_fingerprint(config: Config) -> str | None:
    keys = trusted_keys(config)
    if not keys:
        return None
    return asyncssh.import_public_key(keys[0]).get_fingerprint()


def store_trust(config: Config, key: HostKey) -> None:
    """Accept ``key`` for its server (replacing a key accepted before)."""
    path = _known_hosts_file(config)
    entries = [e for e in _read_known(path) if (e[0], e[1]) != (key.host, key.port)]
    entries.append((key.host, key.port, key.public))
    text = "".join(f"{host} {port} {public}\n" for host, port, public in entries)
    write_atomically(path, text.encode("utf-8"))


_KEY_LOCK = threading.Lock()  # one key made, even when two screens ask at once


def client_key(config: Config) -> asyncssh.SSHKey | None:
    """The box's own private key (made on first use), or None when ``connector.key`` is ""."""
    path = config.connector_key_file
    if path is None:
        return None
    with _KEY_LOCK:
        if not path.exists():
            key = asyncssh.generate_private_key("ssh-ed25519", comment="ews-connector")
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, key.export_private_key())
            write_atomically(path.with_name(path.name + ".pub"), key.export_public_key())
            log.info("connector: made the box's key %s", path)
            return key
        return asyncssh.read_private_key(path)


def public_key_text(config: Config) -> str | None:
    """The line to paste in the server's ``authorized_keys`` (None: no key login)."""
    key = client_key(config)
    if key is None:
        return None
    return key.export_public_key().decode("ascii").strip()


async def fetch_host_key(config: Config, timeout: float) -> HostKey:
    """The key the configured server presents now (nothing is trusted by this)."""
    c = config.connector
    if not c.address:
        raise problem(conn.NOT_CONFIGURED)
    try:
        key = await asyncio.wait_for(
            asyncssh.get_server_host_key(c.address, c.port, config=None), timeout
        )
    except Exception as error:  # every cause becomes words
        raise classify(error) from None
    if key is None:
        raise problem(conn.FAILED, "no host key")
    public = key.export_public_key().decode("ascii").strip()
    return HostKey(c.address, c.port, key.get_fingerprint(), public)


# --------------------------------------------------------------------------- errors


def classify(error: BaseException) -> TransferError:
    """An exception of a run, in plain words (never the password)."""
    if isinstance(error, TransferError):
        return error
    if isinstance(error, asyncssh.HostKeyNotVerifiable):
        return problem(conn.HOST_KEY_CHANGED)
    if isinstance(error, asyncssh.PermissionDenied):
        return problem(conn.AUTH_REFUSED)
    if isinstance(error, asyncssh.SFTPConnectionLost | asyncssh.SFTPNoConnection):
        return problem(CONNECTION_LOST)
    if isinstance(error, asyncssh.SFTPNoSpaceOnFilesystem | asyncssh.SFTPQuotaExceeded):
        return problem(conn.DISK_FULL)
    if isinstance(error, asyncssh.SFTPPermissionDenied):
        return problem(conn.WRITE_REFUSED)
    if isinstance(error, asyncssh.SFTPError):
        return _sftp_problem(error)
    if isinstance(error, asyncssh.ProcessError):
        text = str(error.stderr or error.reason or "").strip()
        if "space" in text.lower():
            return problem(conn.DISK_FULL)
        if "permission" in text.lower():
            return problem(conn.PERMISSION_DENIED)
        return problem(conn.FAILED, text.splitlines()[-1] if text else "scp")
    if isinstance(
        error,
        asyncssh.ConnectionLost
        | asyncssh.DisconnectError
        | ConnectionResetError
        | ConnectionAbortedError
        | BrokenPipeError,
    ):
        return problem(CONNECTION_LOST)
    if isinstance(error, TimeoutError):
        return problem(conn.TIMED_OUT)
    if isinstance(error, OSError):
        return problem(conn.UNREACHABLE)
    return problem(conn.FAILED, type(error).__name__)


def _sftp_problem(error: asyncssh.SFTPError) -> TransferError:
    """An SFTP status in words. OpenSSH's sftp-server says "Failure" for a full disk (and a
    quota); the SCP client carries the server's own words ("No space left on device")."""
    reason = str(error.reason).strip()
    lower = reason.lower()
    if "space" in lower or "quota" in lower:
        return problem(conn.DISK_FULL)
    if "permission denied" in lower:
        return problem(conn.PERMISSION_DENIED)
    if isinstance(error, asyncssh.SFTPFailure) and lower in ("", "failure"):
        return problem(conn.WRITE_REFUSED)
    return problem(conn.FAILED, reason)


# --------------------------------------------------------------------------- local files


def list_files(folders: Sequence[tuple[str, Path]]) -> list[LocalFile]:
    """The regular files of each ``(name, path)`` folder, named ``name/...``, sorted (hidden
    ones left out)."""
    found: list[LocalFile] = []
    for name, base in folders:
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.name.startswith(".") or not path.is_file():
                continue
            stat = path.stat()
            rel = f"{name}/{path.relative_to(base).as_posix()}"
            found.append(LocalFile(rel, path, FileState(stat.st_size, stat.st_mtime_ns)))
    return found


def make_zip(files: Sequence[LocalFile], into: Path) -> int:
    """Write ``files`` (by their folder-relative names) into the archive ``into``; its size."""
    with zipfile.ZipFile(into, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for item in files:
            archive.write(item.path, item.rel)
    return into.stat().st_size


# --------------------------------------------------------------------------- the run


def target_of(config: Config, destination: str) -> str:
    """What ``sent`` rows are kept under: the server, the user and the remote folder."""
    c = config.connector
    return f"{c.mode.value}://{c.user}@{c.address}:{c.port}/{destination}"


async def _connect(config: Config, timeout: float) -> asyncssh.SSHClientConnection:
    c = config.connector
    keys = await asyncio.to_thread(trusted_keys, config)
    if not keys:
        raise problem(conn.HOST_KEY_UNKNOWN)
    trusted = [asyncssh.import_public_key(key) for key in keys]
    own = await asyncio.to_thread(client_key, config)
    try:
        return await asyncio.wait_for(
            asyncssh.connect(
                c.address,
                c.port,
                username=c.user or None,
                password=c.password or None,
                client_keys=[own] if own is not None else None,
                known_hosts=(trusted, [], []),
                agent_path=None,
                config=None,
                connect_timeout=timeout,
                login_timeout=timeout,
                keepalive_interval=timeout,
            ),
            timeout * 2,
        )
    except Exception as error:  # every cause becomes words
        raise classify(error) from None


@dataclass
class Tally:
    """What a run has sent so far (kept by a failed run too), and the way it sent it."""

    method: str
    files: int = 0
    size: int = 0


async def run_transfer(
    config: Config,
    repo: ConnectorRepo,
    *,
    now: float,
    timeout: float = 30.0,
    progress: ProgressHook | None = None,
) -> Transfer:
    """Send what is due now with ``config``; the log line (also written to ``repo``).

    A run cut short still says what it sent before the cut (those files are remembered as
    sent, the next run sends the rest)."""
    c = config.connector
    local_now = datetime.fromtimestamp(now, ZoneInfo(config.time.timezone))
    destination = conn.expand_destination(c.destination, local_now)
    started = time.time()
    tally = Tally(c.mode.value)
    error: TransferError | None = None
    try:
        if not c.address:
            raise problem(conn.NOT_CONFIGURED)
        if c.mode is conn.ConnectorMode.SCP:
            await _scp(config, destination, timeout, tally, progress)
        else:
            await _sftp(config, repo, destination, timeout, tally, progress)
    except TransferError as failure:
        error = failure
    except Exception as failure:  # any cause: a log line in words, never a crashed caller
        log.debug("connector: run failed by %r", failure)
        error = classify(failure)
    if error is not None:
        log.error(
            "connector: transfer to %s failed: %s (%d files, %d bytes sent before)",
            c.address,
            error.message.render(),
            tally.files,
            tally.size,
        )
    else:
        log.info(
            "connector: %d files, %d bytes sent to %s by %s",
            tally.files,
            tally.size,
            c.address,
            conn.method_label(tally.method),
        )
    line = Transfer(
        started,
        time.time(),
        tally.method,
        destination,
        tally.files,
        tally.size,
        None if error is None else error.message,
    )
    await repo.add_transfer(line)
    return line


def _folders(config: Config) -> list[tuple[str, Path]]:
    """The folders a run sends, each with where it is on the box."""
    chosen = conn.chosen_folders(config.connector.sources, CONNECTOR_DEFAULT)
    return [
        (
            name,
            config.data_dir / BACKUPS_FOLDER
            if name == BACKUPS_FOLDER
            else config.csv_folder / name,
        )
        for name in chosen
    ]


async def _local_files(config: Config) -> list[LocalFile]:
    try:
        return await asyncio.to_thread(list_files, _folders(config))
    except OSError as error:
        raise problem(conn.LOCAL_READ, error.strerror or str(error)) from None


async def _sftp(
    config: Config,
    repo: ConnectorRepo,
    destination: str,
    timeout: float,
    tally: Tally,
    progress: ProgressHook | None,
) -> None:
    target = target_of(config, destination)
    local = await _local_files(config)
    sent = await repo.sent_files(target)
    todo = [item for item in local if sent.get(item.rel) != item.state]
    # Connected even when nothing changed: the log then says whether the server is there.
    async with await _connect(config, timeout) as ssh:
        sftp = await asyncio.wait_for(ssh.start_sftp_client(), timeout)
        async with sftp:
            made: set[str] = set()
            for item in todo:
                final = remote.remote_path(destination, item.rel)
                folder = final.rpartition("/")[0]
                if folder and folder not in made:
                    await remote.make_folders(sftp, folder, timeout)
                    made.add(folder)
                try:
                    await remote.put_file(
                        sftp,
                        item.path,
                        final,
                        name=item.rel,
                        size=item.state.size,
                        timeout=timeout,
                        progress=progress,
                    )
                except FileNotFoundError:
                    continue  # removed by the box's retention meanwhile: nothing to send
                await repo.mark_sent(target, item.rel, item.state)
                tally.files += 1
                tally.size += item.state.size


async def _scp(
    config: Config,
    destination: str,
    timeout: float,
    tally: Tally,
    progress: ProgressHook | None,
) -> None:
    """One zip of the chosen folders, by legacy SCP when the server has ``scp``, else over
    SFTP (:mod:`connector_remote`); ``tally.method`` says which."""
    if not destination:
        raise problem(NO_ZIP_NAME)
    final = conn.zip_name(destination)
    local = await _local_files(config)
    work = config.data_dir / "connector-tmp"
    await asyncio.to_thread(work.mkdir, parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(suffix=".zip", dir=work)
    os.close(handle)
    archive = Path(name)
    try:
        try:
            size = await asyncio.to_thread(make_zip, local, archive)
        except OSError as error:
            raise problem(conn.LOCAL_READ, error.strerror or str(error)) from None
        async with await _connect(config, timeout) as ssh:
            if await remote.has_scp(ssh, timeout):
                tally.method = conn.LEGACY_SCP
                send = remote.send_zip_legacy
            else:
                log.info("connector: the server has no scp command: the zip goes over SFTP")
                tally.method = conn.SFTP_SCP
                send = remote.send_zip_sftp
            await send(ssh, archive, final, size=size, timeout=timeout, progress=progress)
    finally:
        await asyncio.to_thread(archive.unlink, missing_ok=True)
    tally.files, tally.size = len(local), size
