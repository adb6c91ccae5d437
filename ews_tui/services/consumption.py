"""What the Consumption screens ask: tables by period and group, and the cost pages.

A thin service over the store: it reads the current installation, catalog and time zone
from the services that own them, so a screen only says which range, step, grouping and
energy it shows. Saving cost pages validates them (``CostError`` lists every problem with
its place) and publishes ``SettingsChanged("costs")``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

from ews_tui.domain.catalog import Catalog
from ews_tui.domain.costs import CostSettings
from ews_tui.domain.events import SettingsChanged
from ews_tui.domain.grouping import By
from ews_tui.domain.installation import Installation
from ews_tui.domain.periods import Step
from ews_tui.hub import Hub
from ews_tui.store.consumption_repo import ConsumptionRepo, ConsumptionTable
from ews_tui.store.cost_rules_repo import CostRulesRepo
from ews_tui.store.db import Database


class ConsumptionService:
    name = "consumption"

    def __init__(
        self,
        db: Database,
        hub: Hub,
        *,
        installation: Callable[[], Installation],
        catalog: Callable[[], Catalog],
        timezone: Callable[[], str],
    ) -> None:
        self._tables = ConsumptionRepo(db)
        self._costs_repo = CostRulesRepo(db)
        self._hub = hub
        self._installation = installation
        self._catalog = catalog
        self._timezone = timezone
        self._costs = CostSettings()

    @property
    def costs(self) -> CostSettings:
        """The cost pages in force."""
        return self._costs

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self._timezone())

    async def start(self) -> None:
        self._costs = await self._costs_repo.load()

    async def stop(self) -> None:
        return None

    async def table(
        self,
        first: date,
        end: date,
        step: Step | str,
        by: By | str,
        energy: str = "electricity",
    ) -> ConsumptionTable:
        """Consumption and cost per period of local dates ``[first, end)``, grouped ``by``."""
        return await self._tables.table(
            self._installation(),
            self._catalog(),
            self._costs,
            self.tz,
            first,
            end,
            step,
            by,
            energy,
        )

    async def save_costs(self, settings: CostSettings) -> CostSettings:
        """Validate and store the cost pages; raise CostError listing every problem."""
        self._costs = await self._costs_repo.save(settings)
        self._hub.publish(SettingsChanged("costs"))
        return self._costs
