"""``ews install export F`` / ``ews install import F``: the installation as TOML."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ews_tui.cli.box import add_config_option, config_path, open_installation, read_config
from ews_tui.cli.errors import UserError
from ews_tui.domain.edits import InstallationError
from ews_tui.store.db import StoreError
from ews_tui.store.toml_files import read_toml, write_installation_toml


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("install", help="export or import the installation as TOML")
    inner = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = inner.add_parser("export", help="write the stored installation to a TOML file")
    export.add_argument("file", type=Path, metavar="F")
    add_config_option(export)
    export.set_defaults(run=run_export)
    imp = inner.add_parser(
        "import",
        help="replace the installation with a TOML file: all of it, or nothing",
        description="Validate the whole file against every rule; on any violation print "
        "them all with their places, change nothing and exit 1.",
    )
    imp.add_argument("file", type=Path, metavar="F")
    add_config_option(imp)
    imp.set_defaults(run=run_import)


async def run_export(args: argparse.Namespace) -> int:
    config = read_config(config_path(args))
    async with open_installation(config) as service:
        try:
            write_installation_toml(args.file, service.current)
        except (OSError, StoreError) as error:
            raise UserError(f"{args.file}: {error}") from None
        inst = service.current
    print(f"{args.file}: {len(inst.gateways)} gateways, {len(inst.devices)} devices written")
    return 0


async def run_import(args: argparse.Namespace) -> int:
    config = read_config(config_path(args))
    try:
        doc = read_toml(args.file)
    except StoreError as error:
        raise UserError(str(error)) from None
    async with open_installation(config) as service:
        try:
            inst = await service.import_document(doc)
        except InstallationError as error:
            for violation in error.violations:
                print(str(violation))
            print(
                f"ews: {args.file}: {len(error.violations)} problem(s); nothing imported",
                file=sys.stderr,
            )
            return 1
    print(f"{args.file}: {len(inst.gateways)} gateways, {len(inst.devices)} devices imported")
    return 0
