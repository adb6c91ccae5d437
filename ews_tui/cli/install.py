"""``ews install export F`` / ``ews install import F``: the installation as TOML."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ews_tui.cli.box import add_config_option, config_path, open_installation, read_config
from ews_tui.cli.errors import UserError
from ews_tui.domain.edits import InstallationError
from ews_tui.domain.installation import Installation
from ews_tui.domain.text_rules import excerpt
from ews_tui.i18n import ngettext
from ews_tui.services.installation import InstallationService
from ews_tui.store.db import StoreError
from ews_tui.store.toml_files import read_toml, write_installation_toml


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        "them all with their places, change nothing and exit 1. Devices keep their id (and "
        "history) by name, else by gateway, address and model (a renamed device). An import "
        "that would delete devices with history, or every device, needs --replace.",
    )
    imp.add_argument("file", type=Path, metavar="F")
    imp.add_argument(
        "--replace",
        action="store_true",
        help="import even if it deletes devices with history or every device",
    )
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
            new = service.read_document(doc)
        except InstallationError as error:
            for violation in error.violations:
                print(str(violation))
            print(
                f"ews: {args.file}: {len(error.violations)} problem(s); nothing imported",
                file=sys.stderr,
            )
            return 1
        if not args.replace:
            await _refuse_losses(service, new, args.file)
        try:
            inst = await service.import_document(doc)
        except StoreError as error:
            raise UserError(f"{args.file}: {error}") from None
    print(f"{args.file}: {len(inst.gateways)} gateways, {len(inst.devices)} devices imported")
    return 0


async def _refuse_losses(service: InstallationService, new: Installation, file: Path) -> None:
    """Exit 1 (nothing changed) when the import would empty the installation or delete
    devices with history; ``--replace`` says it is meant."""
    before = len(service.current.devices)
    if before and not new.devices:
        raise UserError(
            ngettext(
                "{file}: the import would delete the {n} device; give --replace to import it",
                "{file}: the import would delete all {n} devices; give --replace to import it",
                before,
            ).format(file=file, n=before)
        )
    recorded = await service.dropped_with_history(new)
    if recorded:
        names = ", ".join(f'"{excerpt(d.display_name())}"' for d in recorded[:5])
        more = "" if len(recorded) <= 5 else ", ..."
        raise UserError(
            ngettext(
                "{file}: the import would delete {n} device with history ({names}); "
                "give --replace to import it",
                "{file}: the import would delete {n} devices with history ({names}); "
                "give --replace to import it",
                len(recorded),
            ).format(file=file, n=len(recorded), names=names + more)
        )
