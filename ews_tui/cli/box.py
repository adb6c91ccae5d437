"""What the offline commands share: the config file, the store and the installation service."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from pathlib import Path

from ews_tui.cli.errors import UserError
from ews_tui.config import Config, ConfigError, load_config
from ews_tui.hub import Hub
from ews_tui.i18n import _
from ews_tui.services.installation import InstallationService
from ews_tui.store.datadir_lock import DataDirLock, hold_data_dir
from ews_tui.store.db import DATABASE_FILE, StoreError, open_database
from ews_tui.store.installation_repo import InstallationRepo
from ews_tui.store.user_models import catalog_and_problems

DEFAULT_CONFIG = Path("/etc/ews/config.toml")


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="F",
        help=_("box settings file (default: $EWS_CONFIG or {path})").format(path=DEFAULT_CONFIG),
    )


def config_path(args: argparse.Namespace) -> Path:
    if args.config is not None:
        return Path(args.config)
    return Path(os.environ.get("EWS_CONFIG", DEFAULT_CONFIG))


def read_config(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as error:
        raise UserError(f"{path}: " + "; ".join(p.render(_) for p in error.problems)) from None


@asynccontextmanager
async def open_installation(config: Config) -> AsyncIterator[InstallationService]:
    """The installation service over the box's database, closed on exit."""
    catalog, problems = catalog_and_problems(config.data_dir)
    for problem in problems:
        print(_("warning: {problem}").format(problem=problem.render(_)), file=sys.stderr)
    try:
        db = await open_database(config.data_dir / DATABASE_FILE)
    except StoreError as error:
        raise UserError(str(error)) from None
    try:
        service = InstallationService(
            InstallationRepo(db), Hub(), catalog, config.licence, lambda: config.own_server
        )
        await service.start()
        yield service
    finally:
        await db.close()


@contextmanager
def hold_box(data_dir: Path) -> Iterator[DataDirLock]:
    """The data dir held for a command that polls or records; exit 1 when a box holds it."""
    stack = ExitStack()
    try:
        lock = stack.enter_context(hold_data_dir(data_dir))
    except StoreError as error:
        raise UserError(str(error)) from None
    with stack:
        yield lock
