"""What the energy commands (report, export, history) open: the box's store and its models."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from ews_tui.cli.errors import UserError
from ews_tui.config import Config
from ews_tui.domain.catalog import Catalog
from ews_tui.domain.costs import CostSettings
from ews_tui.domain.installation import Installation
from ews_tui.i18n import _
from ews_tui.store.cost_rules_repo import CostRulesRepo
from ews_tui.store.db import DATABASE_FILE, Database, StoreError, open_database
from ews_tui.store.installation_repo import InstallationRepo
from ews_tui.store.user_models import catalog_and_problems


@dataclass
class EnergyStore:
    config: Config
    db: Database
    installation: Installation
    catalog: Catalog
    costs: CostSettings

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.config.time.timezone)


@asynccontextmanager
async def open_energy_store(config: Config) -> AsyncIterator[EnergyStore]:
    """The store of ``config``'s data dir with its installation, catalog and cost rules."""
    catalog, problems = catalog_and_problems(config.data_dir)
    for problem in problems:
        print(_("warning: {problem}").format(problem=problem.render(_)), file=sys.stderr)
    try:
        db = await open_database(config.data_dir / DATABASE_FILE)
    except StoreError as error:
        raise UserError(str(error)) from None
    try:
        inst = await InstallationRepo(db).load()
        costs = await CostRulesRepo(db).load()
        yield EnergyStore(config, db, inst, catalog, costs)
    finally:
        await db.close()


def parse_date(text: str) -> date:
    """An ISO date (``2024-03-31``), for argparse."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        import argparse

        raise argparse.ArgumentTypeError(
            _("{value} is not a date (YYYY-MM-DD)").format(value=text)
        ) from None
