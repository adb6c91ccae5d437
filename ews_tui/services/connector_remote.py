"""The far side of a Connector run: how a file or the zip lands on the server.

Whatever the way, nothing appears under its final name half written: it is written as
``NAME.ews-part`` (:data:`PART`) and renamed into place once complete.

- SFTP: :func:`put_file` (``put`` then a POSIX rename).
- SCP, chosen per run by :func:`has_scp`: the legacy protocol (``scp -t`` run on the server,
  asyncssh's SCP client, then ``mv``) when the server has an ``scp`` command; otherwise the
  zip goes over SFTP to the same name (OpenSSH 9 servers may have no ``scp`` binary, or
  refuse every command but SFTP). The log says which ran
  (:data:`ews_tui.domain.connector.METHOD_LABELS`).

Every step has a timeout; a file's own limit grows with its size (:data:`MIN_RATE`). A
``progress`` hook sees each block written (:class:`Progress`).
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncssh

log = logging.getLogger(__name__)

PART = ".ews-part"
#: Bytes per second below which a file's upload is taken as stalled (plus the base timeout).
MIN_RATE = 50_000


@dataclass(frozen=True)
class Progress:
    """``done`` bytes of ``total`` of ``name`` (a folder-relative file, or the zip) written."""

    name: str
    done: int
    total: int


ProgressHook = Callable[[Progress], None]


def remote_path(*parts: str) -> str:
    return "/".join(part for part in parts if part) or "."


def _handler(
    name: str, progress: ProgressHook | None
) -> Callable[[bytes, bytes, int, int], None] | None:
    if progress is None:
        return None

    def handler(_src: bytes, _dst: bytes, done: int, total: int) -> None:
        progress(Progress(name, done, total))

    return handler


def limit_for(size: int, timeout: float) -> float:
    """The time a write of ``size`` bytes may take before it counts as stalled."""
    return timeout + size / MIN_RATE


async def make_folders(sftp: asyncssh.SFTPClient, folder: str, timeout: float) -> None:
    """``mkdir -p folder``, raising the server's own answer where a level cannot be made
    (asyncssh's ``makedirs`` passes over a refused level and reports the next as missing)."""
    path = ""
    for part in folder.split("/"):
        path = remote_path(path, part)
        try:
            await asyncio.wait_for(sftp.mkdir(path), timeout)
        except (
            asyncssh.SFTPFailure,
            asyncssh.SFTPFileAlreadyExists,
            asyncssh.SFTPPermissionDenied,
        ):
            if not await asyncio.wait_for(sftp.isdir(path), timeout):
                raise


async def rename_into_place(sftp: asyncssh.SFTPClient, part: str, final: str) -> None:
    """Rename ``part`` over ``final`` (POSIX rename when the server has it)."""
    try:
        await sftp.posix_rename(part, final)
    except asyncssh.SFTPOpUnsupported:
        if await sftp.exists(final):
            await sftp.remove(final)
        await sftp.rename(part, final)


async def put_file(
    sftp: asyncssh.SFTPClient,
    local: Path,
    final: str,
    *,
    name: str,
    size: int,
    timeout: float,
    progress: ProgressHook | None = None,
) -> None:
    """Write ``local`` as ``final`` over SFTP (under its part name, then renamed)."""
    part = final + PART
    await asyncio.wait_for(
        sftp.put(str(local), part, progress_handler=_handler(name, progress)),
        limit_for(size, timeout),
    )
    await asyncio.wait_for(rename_into_place(sftp, part, final), timeout)


async def has_scp(ssh: asyncssh.SSHClientConnection, timeout: float) -> bool:
    """Whether the server runs commands and has ``scp`` (the legacy protocol needs both)."""
    try:
        result = await asyncio.wait_for(ssh.run("command -v scp", check=False), timeout)
    except asyncssh.ChannelOpenError as error:
        log.info("connector: the server runs no command (%s)", error.reason)
        return False
    return result.exit_status == 0


async def send_zip_legacy(
    ssh: asyncssh.SSHClientConnection,
    archive: Path,
    final: str,
    *,
    size: int,
    timeout: float,
    progress: ProgressHook | None = None,
) -> None:
    """The zip by the legacy SCP protocol, its folder made and the part renamed by commands."""
    folder = final.rpartition("/")[0]
    if folder:
        await asyncio.wait_for(ssh.run(f"mkdir -p -- {shlex.quote(folder)}", check=True), timeout)
    part = final + PART
    await asyncio.wait_for(
        asyncssh.scp(str(archive), (ssh, part), progress_handler=_handler(archive.name, progress)),
        limit_for(size, timeout),
    )
    await asyncio.wait_for(
        ssh.run(f"mv -f -- {shlex.quote(part)} {shlex.quote(final)}", check=True), timeout
    )


async def send_zip_sftp(
    ssh: asyncssh.SSHClientConnection,
    archive: Path,
    final: str,
    *,
    size: int,
    timeout: float,
    progress: ProgressHook | None = None,
) -> None:
    """The zip over SFTP to the same name, as the SFTP-based ``scp`` of OpenSSH 9 sends it."""
    sftp = await asyncio.wait_for(ssh.start_sftp_client(), timeout)
    async with sftp:
        folder = final.rpartition("/")[0]
        if folder:
            await make_folders(sftp, folder, timeout)
        await put_file(
            sftp,
            archive,
            final,
            name=archive.name,
            size=size,
            timeout=timeout,
            progress=progress,
        )
