"""``ews backup create F`` / ``ews backup restore F|--undo`` / ``ews backup list``.

``create`` works beside a running box (SQLite's online backup API); ``restore`` needs the box
stopped, checks the whole file first and keeps the state it replaces aside (see
:mod:`ews_tui.store.backup`).
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime
from pathlib import Path

from ews_tui.cli.box import add_config_option, config_path, read_config
from ews_tui.cli.errors import UserError
from ews_tui.i18n import _, ngettext
from ews_tui.store.backup import backups_folder, create_backup, list_backups
from ews_tui.store.backup_archive import BackupError
from ews_tui.store.backup_restore import restore_backup


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("backup", help=_("back up the whole box to one file, or restore it"))
    inner = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = inner.add_parser(
        "create",
        help=_("write a backup file (works while the box runs)"),
        description=_(
            "A consistent snapshot of every database of the data dir, the config "
            "file, the user device models and the Connector's known hosts, in one file (mode "
            "0600) with a manifest of SHA-256 sums."
        ),
    )
    create.add_argument("file", type=Path, metavar="F")
    create.add_argument(
        "--with-host-key",
        action="store_true",
        help=_("also keep the SSH host key and the Connector's key (the file then holds secrets)"),
    )
    add_config_option(create)
    create.set_defaults(run=run_create)
    restore = inner.add_parser(
        "restore",
        help=_("restore a backup file: all of it or nothing (the box must be stopped)"),
        description=_(
            "Check the whole file (manifest, SHA-256 sums, database integrity, schema "
            "version), keep the current state aside in DATA_DIR/backups/before-restore-DATE, "
            "then swap it in. --undo brings back the state the last restore kept aside."
        ),
    )
    what = restore.add_mutually_exclusive_group(required=True)
    what.add_argument("file", type=Path, metavar="F", nargs="?", help=_("backup file or folder"))
    what.add_argument("--undo", action="store_true", help=_("undo the last restore"))
    add_config_option(restore)
    restore.set_defaults(run=run_restore)
    listing = inner.add_parser("list", help=_("the backups in DATA_DIR/backups, newest first"))
    add_config_option(listing)
    listing.set_defaults(run=run_list)


async def run_create(args: argparse.Namespace) -> int:
    path = config_path(args)
    config = read_config(path)
    try:
        manifest = await asyncio.to_thread(
            create_backup, args.file, path, config, with_host_key=args.with_host_key
        )
    except BackupError as error:
        raise UserError(str(error)) from None
    count = len(manifest.members)
    print(
        ngettext(
            "{file}: {n} file backed up (database version {version})",
            "{file}: {n} files backed up (database version {version})",
            count,
        ).format(file=args.file, n=count, version=manifest.schema_version)
    )
    return 0


async def run_restore(args: argparse.Namespace) -> int:
    path = config_path(args)
    source = None if args.undo else Path(args.file)
    try:
        restored = await asyncio.to_thread(restore_backup, source, path)
    except BackupError as error:
        raise UserError(str(error)) from None
    print(
        _(
            "{data_dir}: restored the backup of {created}; the state before is kept in {aside}"
        ).format(
            data_dir=restored.data_dir, created=restored.manifest.created, aside=restored.aside
        )
    )
    print(_("Undo with: ews backup restore --undo"))
    return 0


def run_list(args: argparse.Namespace) -> int:
    config = read_config(config_path(args))
    for info in list_backups(backups_folder(config)):
        when = datetime.fromtimestamp(info.mtime).isoformat(timespec="seconds")
        print(f"{when}  {info.kind:<14}  {info.size:>12}  {info.path}")
    return 0
