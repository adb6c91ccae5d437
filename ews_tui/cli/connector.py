"""``ews connector``: the Connector from the shell, beside a running ``ews serve`` or not.

- ``ews connector trust --config F [--yes]``: shows the server's host key fingerprint and
  stores it after a yes (asked on the terminal, or ``--yes``);
- ``ews connector send-now --config F`` (alias ``send``): one transfer now with the saved
  settings; exit 0 when sent, 1 with the reason;
- ``ews connector log --config F [--json]``: the transfer log, newest first;
- ``ews connector key --config F``: the box's public key, to paste on the server.

The transfer is the service's own (:mod:`ews_tui.services.connector_transfer`); the log and
the sent files are in ``data_dir/connector.sqlite`` (WAL), shared with a running box.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime

from ews_tui.cli.box import add_config_option, config_path, read_config
from ews_tui.cli.errors import UserError
from ews_tui.domain.connector import method_label
from ews_tui.i18n import _
from ews_tui.services import connector_transfer as transfer
from ews_tui.services.connector_transfer import TransferError
from ews_tui.store.connector_repo import Transfer, open_connector_repo

TIMEOUT_S = 30.0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("connector", help=_("push the CSV folders to a server (SFTP/SCP)"))
    inner = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    trust = inner.add_parser("trust", help=_("show the server's host key and accept it"))
    add_config_option(trust)
    trust.add_argument("--yes", action="store_true", help=_("accept without asking"))
    trust.set_defaults(run=run_trust)
    send = inner.add_parser("send-now", aliases=["send"], help=_("send the CSV folders now"))
    add_config_option(send)
    send.set_defaults(run=run_send)
    log = inner.add_parser("log", help=_("the transfer log, newest first"))
    add_config_option(log)
    log.add_argument("--json", action="store_true", help=_("one JSON document"))
    log.add_argument("--limit", type=int, default=50, metavar="N")
    log.set_defaults(run=run_log)
    key = inner.add_parser("key", help=_("the box's public key, for the server"))
    add_config_option(key)
    key.set_defaults(run=run_key)


async def run_trust(args: argparse.Namespace) -> int:
    config = read_config(config_path(args))
    try:
        key = await transfer.fetch_host_key(config, TIMEOUT_S)
    except TransferError as error:
        raise UserError(error.message.render(_)) from None
    known = transfer.trusted_fingerprint(config)
    print(
        _("{host} port {port} presents the key {fingerprint}").format(
            host=key.host, port=key.port, fingerprint=key.fingerprint
        )
    )
    if known == key.fingerprint:
        print(_("This key is already accepted."))
        return 0
    if known is not None:
        print(
            _("WARNING: it replaces the key accepted before, {fingerprint}.").format(
                fingerprint=known
            )
        )
    if not args.yes:
        if not sys.stdin.isatty():
            raise UserError(_("not accepted: run again with --yes to accept this key"))
        answer = input(_("Accept this key? [y/N] ")).strip().lower()
        if answer not in ("y", "yes", _("y"), _("yes")):
            raise UserError(_("not accepted"))
    transfer.store_trust(config, key)
    print(_("Key accepted."))
    return 0


async def run_send(args: argparse.Namespace) -> int:
    config = read_config(config_path(args))
    async with open_connector_repo(config.data_dir) as repo:
        line = await transfer.run_transfer(config, repo, now=time.time(), timeout=TIMEOUT_S)
    if line.problem is not None:
        raise UserError(line.problem.render(_))
    print(describe(line))
    return 0


def describe(line: Transfer) -> str:
    started = datetime.fromtimestamp(line.started).isoformat(sep=" ", timespec="seconds")
    if line.problem is not None:
        return _("{started}  {mode}  failed: {problem}").format(
            started=started, mode=_(method_label(line.mode)), problem=line.problem.render(_)
        )
    return _(
        "{started}  {mode}  {files} files, {size} bytes to {destination} in {seconds} s"
    ).format(
        started=started,
        mode=_(method_label(line.mode)),
        files=line.files,
        size=line.size,
        destination=line.destination or ".",
        seconds=f"{line.ended - line.started:.1f}",
    )


async def run_log(args: argparse.Namespace) -> int:
    config = read_config(config_path(args))
    async with open_connector_repo(config.data_dir) as repo:
        lines = await repo.transfers(max(args.limit, 1))
    if args.json:
        document = [
            {
                "started": line.started,
                "ended": line.ended,
                "mode": line.mode,
                "destination": line.destination,
                "files": line.files,
                "bytes": line.size,
                "ok": line.ok,
                "problem": "" if line.problem is None else line.problem.render(_),
            }
            for line in lines
        ]
        print(json.dumps(document, ensure_ascii=False, indent=1))
        return 0
    if not lines:
        print(_("No transfer yet."))
    for line in lines:
        print(describe(line))
    return 0


async def run_key(args: argparse.Namespace) -> int:
    config = read_config(config_path(args))
    public = transfer.public_key_text(config)
    if public is None:
        raise UserError(_("no key: connector.key is empty (password login only)"))
    print(public)
    return 0
