"""``ews serve --config F``: the box daemon, everything in one asyncio loop.

The whole runtime (store, installation, settings, pollers, Modbus TCP server...) and the
front ends enabled in the config (SSH, serial console, kiosk). SIGTERM or SIGINT stops it
cleanly: the front ends first (each session told, its task awaited), then the runtime
(samples flushed). Logs go to ``<data_dir>/logs/ews.log`` and to stderr in plain lines with
their level (journald keeps them), but not when the kiosk or console is this terminal.

Before anything starts it holds the data dir (one box per data dir: a second ``serve``,
``tui``, ``demo`` or ``history seed`` on it exits 1) and checks what the box needs, refusing
with one line (exit 1) when the data dir, a tty or a listening port cannot be used. A
missing RS485 adapter is not one of those: the box starts, the Local gateway shows a
communication error and its poller retries opening the port until the adapter appears.

The data dir is created 0700 and what the box writes there 0600 (``ews_tui.file_modes``);
once running, the log names each existing file of the box (database, WAL, host key, logs,
config) that others may read, with the ``chmod`` that fixes it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from ews_tui import heap
from ews_tui.cli.box import (
    add_config_option,
    config_path,
    hold_box,
    open_installation,
    read_config,
)
from ews_tui.cli.errors import UserError, damage_in, damaged_database
from ews_tui.config import Config, HostPort
from ews_tui.domain.installation import LOCAL_GATEWAY_ID
from ews_tui.file_modes import make_private_dir, wider_than_private
from ews_tui.frontends.console import TtyError, console_front_end, open_tty
from ews_tui.frontends.kiosk import kiosk_front_end
from ews_tui.frontends.ssh import SshFrontEnd, SshSetupError
from ews_tui.i18n import _
from ews_tui.logs import LOG_FILE, log_to_data_dir, stderr_is_on
from ews_tui.runtime import Runtime
from ews_tui.services.box import running_box
from ews_tui.services.update_health import installed_version, write_health
from ews_tui.store.datadir_lock import LOCK_FILE
from ews_tui.store.db import DATABASE_FILE, StoreError
from ews_tui.ui.warm_up import warm_up

log = logging.getLogger("ews_tui.serve")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "serve",
        help=_("the box daemon: pollers, jobs, SSH, serial console, kiosk"),
        description=_("Run the whole box in this process until SIGTERM or SIGINT."),
    )
    add_config_option(parser)
    parser.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    if not args.verbose:
        logging.getLogger().setLevel(logging.INFO)
    path = config_path(args)
    config = read_config(path)
    check_data_dir(config)
    log_to_data_dir(config.data_dir, ui_on_terminal=stderr_is_on(ui_ttys(config)))
    with hold_box(config.data_dir):
        try:
            return await _serve(path, config)
        except BaseException as error:
            damage = damage_in(error)
            if damage is None:
                raise
            raise damaged_database(config.data_dir / DATABASE_FILE, damage) from None


async def _serve(path: Path, config: Config) -> int:
    check_listen_ports(config)
    check_ttys(config)
    await check_rs485(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _stop_on, sig, stop)
    try:
        async with running_box(path, config) as rt, front_ends(rt, config) as names:
            log.info("ews serve: running, front ends: %s", ", ".join(names) or "none")
            heap.settle()  # what the front ends loaded stays out of later collections too
            # Up on this config and database: what an update waits for before keeping it.
            write_health(config.data_dir, installed_version())
            warn_wide_modes(path, config)
            await stop.wait()
            log.info("ews serve: stopping")
    except StoreError as error:
        raise UserError(str(error)) from None
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        # Textual swaps sys.stdout/stderr while an app runs; sessions ending in any order
        # can leave a stale one behind.
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    log.info("ews serve: stopped")
    return 0


def ui_ttys(config: Config) -> list[str]:
    """The ttys a front end draws a UI on (the kiosk's, the serial console's)."""
    return [
        tty
        for enabled, tty in (
            (config.kiosk.enabled, config.kiosk.tty),
            (config.console.enabled, config.console.tty),
        )
        if enabled
    ]


def _stop_on(sig: signal.Signals, stop: asyncio.Event) -> None:
    log.info("ews serve: %s received", sig.name)
    stop.set()


@asynccontextmanager
async def front_ends(rt: Runtime, config: Config) -> AsyncIterator[list[str]]:
    """Start the front ends ``config`` enables; stop them (sessions told) on exit."""
    fronts: list[Any] = []
    if config.ssh.enabled:
        fronts.append(
            SshFrontEnd(rt, config.ssh, config.ssh_host_key_file, config.ssh_authorized_keys_file)
        )
    if config.console.enabled:
        fronts.append(console_front_end(rt, config))
    if config.kiosk.enabled:
        fronts.append(kiosk_front_end(rt, config))
    if fronts:
        await warm_up(rt)  # the first sessions would pay it in the loop the pollers share
    async with AsyncExitStack() as stack:
        for front in fronts:
            try:
                await front.start()
            except (SshSetupError, TtyError) as error:
                raise UserError(str(error)) from None
            stack.push_async_callback(front.stop)
        yield [front.name for front in fronts]


# -- what the box needs before it starts ------------------------------------------------------


def check_data_dir(config: Config) -> None:
    data_dir = config.data_dir
    try:
        make_private_dir(data_dir)
    except OSError as error:
        raise UserError(f"data_dir {data_dir}: {error.strerror}") from None
    if not data_dir.is_dir():
        raise UserError(_("data_dir {path}: not a folder").format(path=data_dir))
    if not os.access(data_dir, os.W_OK | os.X_OK):
        raise UserError(_("data_dir {path}: not writable by this user").format(path=data_dir))


def box_files(config_path: Path, config: Config) -> list[Path]:
    """The files and folders of the box that hold secrets or say what it does."""
    data_dir = config.data_dir
    database = data_dir / DATABASE_FILE
    logs = data_dir / LOG_FILE
    return [
        data_dir,
        database,
        *(database.with_name(database.name + suffix) for suffix in ("-wal", "-shm")),
        data_dir / LOCK_FILE,
        config.ssh_host_key_file,
        logs.parent,
        *sorted(logs.parent.glob(logs.name + "*")),
        config_path,
    ]


def warn_wide_modes(config_path: Path, config: Config) -> None:
    """Say in the log which of the box's files others may read (they keep their mode)."""
    for wide in wider_than_private(box_files(config_path, config)):
        log.warning("ews serve: %s", wide)


def check_listen_ports(config: Config) -> None:
    wanted: list[tuple[str, HostPort]] = []
    if config.ssh.enabled:
        wanted.append(("ssh.listen", config.ssh.listen))
    if config.modbus_tcp_server.enabled:
        wanted.append(("modbus_tcp_server.listen", config.modbus_tcp_server.listen))
    for key, where in wanted:
        problem = listen_problem(where)
        if problem:
            raise UserError(f"{key} {where}: {problem}")


def listen_problem(where: HostPort) -> str | None:
    """Why a server could not listen on ``where`` now (None: it could)."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            where.host, where.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
            probe.listen(1)
    except OSError as error:
        return str(error.strerror or error).lower()
    return None


def check_ttys(config: Config) -> None:
    for key, enabled, tty in (
        ("console.tty", config.console.enabled, config.console.tty),
        ("kiosk.tty", config.kiosk.enabled, config.kiosk.tty),
    ):
        if enabled:
            try:
                os.close(open_tty(tty))
            except TtyError as error:
                raise UserError(f"{key} {error}") from None


async def check_rs485(config: Config) -> None:
    """Say at start when the RS485 port the Local bus needs cannot be opened yet.

    Not a reason to stop: an adapter that appears late at boot (USB) or is plugged in later
    is found by the Local bus poller, which shows the Local gateway in communication error
    and retries opening the port with backoff; the rest of the box runs meanwhile.
    """
    if not config.rs485.enabled:
        return
    async with open_installation(config) as service:
        local = [d for d in service.current.devices_of(LOCAL_GATEWAY_ID) if d.enabled]
    if not local:
        return
    try:
        os.close(open_tty(config.rs485.port))
    except TtyError as error:
        log.warning(
            "rs485.port %s (%d devices on the Local bus): the Local gateway is in "
            "communication error until the port opens; retrying",
            error,
            len(local),
        )
