"""What the Consumption screens ask: tables by period and group, and the cost pages.

A thin service over the store: it reads the current installation, catalog and time zone
from the services that own them, so a screen only says which range, step, grouping and
energy it shows. Saving cost pages validates them (``CostError`` lists every problem with
its place) and publishes ``SettingsChanged("costs")``.

Tables are shared by every session: the last ``TABLES_KEPT`` read are kept until the data
they come from changes (the recorder writes new energy rows, another process commits to the
store, the 10-minute slot turns: the slot under way is not counted yet) or what prices and
groups them does (another installation, catalog, cost pages or time zone). Another process's
commits (a history backfill) are looked for at most every ``OTHERS_CHECK_S``: they show
within that time. A table asked for while it is being read waits for that read: ten sessions
moving to the same day read it once. A read that fails is forgotten (the next asks again)
and raised to each asker.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from ews_tui.domain.catalog import Catalog
from ews_tui.domain.costs import CostSettings
from ews_tui.domain.events import SettingsChanged
from ews_tui.domain.grouping import By
from ews_tui.domain.installation import Installation
from ews_tui.domain.periods import SLOT_SECONDS, Step
from ews_tui.hub import Hub
from ews_tui.store.aggregates_repo import ENERGY_CHANGES
from ews_tui.store.consumption_repo import ConsumptionRepo, ConsumptionTable
from ews_tui.store.cost_rules_repo import CostRulesRepo
from ews_tui.store.db import Database

OTHERS_CHECK_S = 1.0  # another process's commits are looked for at most this often
TABLES_KEPT = 64  # tables kept for the sessions (a day is ~3 kB, a year of days ~100 kB)
_Key = tuple[date, date, Step, By, str, str]


@dataclass(frozen=True)
class _Kept:
    """A table read (or being read) and what it was read from."""

    version: tuple[int, int, int]  # energy writes here, data_version, slot
    sources: tuple[Installation, Catalog, CostSettings]
    read: asyncio.Task[ConsumptionTable]

    def fits(self, version: tuple[int, int, int], sources: tuple[object, ...]) -> bool:
        return self.version == version and all(
            a is b for a, b in zip(self.sources, sources, strict=True)
        )


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
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._clock = clock
        self._kept: OrderedDict[_Key, _Kept] = OrderedDict()
        self._reading: set[asyncio.Task[ConsumptionTable]] = set()  # owned: stop() ends them
        self.reads = 0  # tables read from the store (tests count them)
        self.others_check_s = OTHERS_CHECK_S
        self._others: tuple[float, int] | None = None  # (when, data_version) last looked at
        self._tables = ConsumptionRepo(db, clock=clock)
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
        reads = list(self._reading)
        self._kept.clear()
        for read in reads:
            read.cancel()
        await asyncio.gather(*reads, return_exceptions=True)

    async def table(
        self,
        first: date,
        end: date,
        step: Step | str,
        by: By | str,
        energy: str = "electricity",
    ) -> ConsumptionTable:
        """Consumption and cost per period of local dates ``[first, end)``, grouped ``by``:
        the table kept (see the module), or read once for every session asking it.

        Shared: the caller must not change it."""
        sources = (self._installation(), self._catalog(), self._costs)
        tz = self.tz
        key: _Key = (first, end, Step(step), By(by), energy, tz.key)
        version = (
            self._db.changes[ENERGY_CHANGES],
            await self._data_version(),
            int(self._clock() // SLOT_SECONDS),
        )
        kept = self._kept.get(key)
        if kept is None or not kept.fits(version, sources):
            self.reads += 1
            read = asyncio.create_task(
                self._tables.table(*sources, tz, first, end, step, by, energy),
                name=f"consumption-table-{first}-{step}-{by}-{energy}",
            )
            kept = self._kept[key] = _Kept(version, sources, read)
            self._reading.add(read)
            read.add_done_callback(lambda done: self._read_done(key, done))
            while len(self._kept) > TABLES_KEPT:
                self._kept.popitem(last=False)  # its read goes on for those awaiting it
        else:
            self._kept.move_to_end(key)
        # Shielded: a session leaving (its worker cancelled) leaves the read to the others.
        return await asyncio.shield(kept.read)

    async def _data_version(self) -> int:
        """The store's data_version (another process's commits), looked at again once it
        is ``others_check_s`` old: a look is a hop to the database's thread."""
        now = time.monotonic()
        if self._others is None or now - self._others[0] >= self.others_check_s:
            self._others = (now, await self._db.data_version())
        return self._others[1]

    def _read_done(self, key: _Key, read: asyncio.Task[ConsumptionTable]) -> None:
        """A read that failed or was cancelled is not kept (its askers got the error)."""
        self._reading.discard(read)
        if read.cancelled() or read.exception() is not None:
            kept = self._kept.get(key)
            if kept is not None and kept.read is read:
                del self._kept[key]

    async def save_costs(self, settings: CostSettings) -> CostSettings:
        """Validate and store the cost pages; raise CostError listing every problem."""
        self._costs = await self._costs_repo.save(settings)
        self._hub.publish(SettingsChanged("costs"))
        return self._costs
