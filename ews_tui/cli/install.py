"""``ews install export F`` / ``ews install import F``: the installation and its cost pages
(rules and tariffs) as TOML."""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import tomli_w

from ews_tui.cli.box import add_config_option, config_path, open_installation, read_config
from ews_tui.cli.errors import UserError
from ews_tui.config import Config
from ews_tui.domain.costs import CostSettings
from ews_tui.domain.costs_doc import costs_from_document
from ews_tui.domain.edits import InstallationError
from ews_tui.domain.installation import Installation
from ews_tui.domain.installation_doc import to_document
from ews_tui.domain.text_rules import excerpt
from ews_tui.i18n import _, ngettext
from ews_tui.services.installation import InstallationService
from ews_tui.store.cost_rules_repo import CostRulesRepo
from ews_tui.store.db import DATABASE_FILE, StoreError, open_database
from ews_tui.store.toml_files import ews_version, read_toml, write_text_atomically


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("install", help=_("export or import the installation as TOML"))
    inner = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = inner.add_parser("export", help=_("write the stored installation to a TOML file"))
    export.add_argument("file", type=Path, metavar="F")
    add_config_option(export)
    export.set_defaults(run=run_export)
    imp = inner.add_parser(
        "import",
        help=_("replace the installation with a TOML file: all of it, or nothing"),
        description=_(
            "Validate the whole file against every rule; on any violation print "
            "them all with their places, change nothing and exit 1. Devices keep their id (and "
            "history) by name, else by gateway, address and model (a renamed device). An import "
            "that would delete devices with history, or every device, needs --replace."
        ),
    )
    imp.add_argument("file", type=Path, metavar="F")
    imp.add_argument(
        "--replace",
        action="store_true",
        help=_("import even if it deletes devices with history or every device"),
    )
    add_config_option(imp)
    imp.set_defaults(run=run_import)


async def run_export(args: argparse.Namespace) -> int:
    config = read_config(config_path(args))
    async with open_installation(config) as service, cost_rules(config) as repo:
        inst = service.current
        costs = await repo.load()
        try:
            write_text_atomically(args.file, installation_text(inst, costs))
        except (OSError, StoreError) as error:
            raise UserError(f"{args.file}: {error}") from None
    rules = sum(len(page.rules) for page in costs.energies)
    print(
        f"{args.file}: {len(inst.gateways)} gateways, {len(inst.devices)} devices, "
        f"{rules} cost rules written"
    )
    return 0


def installation_text(inst: Installation, costs: CostSettings) -> str:
    """The export: a header comment, then the installation and its cost pages."""
    stamp = datetime.now().astimezone().isoformat(timespec="seconds")
    header = (
        f"# ews-tui installation (revision {inst.revision}) with its cost pages, "
        f"exported {stamp} by ews {ews_version()}.\n"
        "# Restore or set up a box from it with: ews install import FILE\n\n"
    )
    return header + tomli_w.dumps(to_document(inst, costs))


@asynccontextmanager
async def cost_rules(config: Config) -> AsyncIterator[CostRulesRepo]:
    """The cost pages of the box's store (its own connection, closed on exit)."""
    try:
        db = await open_database(config.data_dir / DATABASE_FILE)
    except StoreError as error:
        raise UserError(str(error)) from None
    try:
        yield CostRulesRepo(db)
    finally:
        await db.close()


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
            rules = await _import_costs(config, doc, inst)
        except StoreError as error:
            raise UserError(f"{args.file}: {error}") from None
    text = f"{args.file}: {len(inst.gateways)} gateways, {len(inst.devices)} devices"
    print(text + (f", {rules} cost rules imported" if rules is not None else " imported"))
    return 0


async def _import_costs(config: Config, doc: Mapping[str, Any], inst: Installation) -> int | None:
    """Store the file's cost pages, their circuits and zones those of the imported ``inst``
    (checked with the installation before anything was stored); None when the file has
    none (the stored ones stay)."""
    if "costs" not in doc:
        return None
    costs, problems = costs_from_document(doc["costs"], inst)
    if problems:  # checked before the import: a bug if seen here
        raise UserError("; ".join(str(p) for p in problems))
    async with cost_rules(config) as repo:
        await repo.save(costs)
    return sum(len(page.rules) for page in costs.energies)


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
