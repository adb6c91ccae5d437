"""The weekly EN 50160 check: a service of the one loop.

Every Monday a little after 00:00 local time (:data:`GRACE_S`, so the recorder has stored
the week's last 10-minute slot), the week just ended is judged for every gateway that has an
EQ device (:mod:`ews_tui.domain.en50160`), stored (:class:`~ews_tui.store.en50160_repo.
En50160Repo`), written to the ``eqcheck`` CSV folder and published as
:class:`~ews_tui.domain.events.En50160Checked`. At start, the finished weeks not checked yet
(up to :data:`CATCH_UP_WEEKS` back, and not before the first stored measure) are checked, so
a box that was off on Monday catches up.

The loop never waits long on it: the week's rows are read by key in one snapshot, decoded
column-wise in a thread (:meth:`~ews_tui.store.aggregates_repo.AggregatesRepo.device_columns`)
and judged in a thread (:func:`~ews_tui.domain.en50160.judge_columns`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from ews_tui.atomic_file import write_atomically
from ews_tui.config import Config
from ews_tui.domain.catalog import Catalog
from ews_tui.domain.en50160 import (
    Columns,
    Interval,
    Limits,
    WeekReport,
    WeekVerdict,
    builtin_limits,
    judge_columns,
    last_finished_monday,
    week_label,
    week_slots,
    with_unbalance,
)
from ews_tui.domain.errors import DomainError
from ews_tui.domain.events import En50160Checked
from ews_tui.domain.installation import Gateway, Installation
from ews_tui.domain.periods import SLOT_SECONDS
from ews_tui.file_modes import make_private_dir
from ews_tui.hub import Hub
from ews_tui.modbus.device_reader import device_map
from ews_tui.store.aggregates_repo import AggregatesRepo
from ews_tui.store.csv_export import csv_number, csv_text
from ews_tui.store.db import Database
from ews_tui.store.en50160_repo import En50160Repo
from ews_tui.supervision import Supervised, Supervisor

log = logging.getLogger(__name__)

GRACE_S = 300.0  # after Monday 00:00: the recorder has written the week's last slot
CATCH_UP_WEEKS = 8  # at start, the finished weeks checked if they were not
DAY_SLOTS = 86400 // SLOT_SECONDS
CRITERIA_HEADER = (
    "week",
    "gateway_id",
    "gateway",
    "device_id",
    "device",
    "criterion",
    "label",
    "unit",
    "verdict",
    "n",
    "n1",
    "n2",
    "share",
    "low",
    "high",
    "always_low",
    "always_high",
    "worst",
    "worst_at",
    "valid_share",
)
VALUES_HEADER = ("timestamp", "quantity", "mean", "min", "max")


@dataclass(frozen=True)
class CheckedWeek:
    report: WeekReport
    columns: Columns  # the 10-minute values the verdict used

    @cached_property
    def intervals(self) -> tuple[Interval, ...]:
        """The values one interval a slot, each with its voltage unbalance (the CSV's)."""
        return tuple(with_unbalance(i) for i in self.columns.intervals())


class En50160Checker:
    """Judges the weeks of every gateway's EQ device, by itself each Monday."""

    name = "en50160"

    def __init__(
        self,
        db: Database,
        hub: Hub,
        *,
        config: Callable[[], Config],
        installation: Callable[[], Installation],
        catalog: Callable[[], Catalog],
        clock: Callable[[], float] = time.time,
        supervisor: Supervisor | None = None,
        limits: Limits | None = None,
    ) -> None:
        self._measures = AggregatesRepo(db)
        self.repo = En50160Repo(db)
        self._hub = hub
        self._config = config
        self._installation = installation
        self._catalog = catalog
        self._clock = clock
        self._supervisor = supervisor or Supervisor(hub)
        self._limits = limits
        self._task: Supervised | None = None
        self.checked = asyncio.Event()  # set after each round of checks (for observers)

    @property
    def limits(self) -> Limits:
        if self._limits is None:
            self._limits = builtin_limits()
        return self._limits

    # --- service ----------------------------------------------------------------------

    async def start(self) -> None:
        self._task = self._supervisor.supervise(self.name, self._run)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await task.stop()

    def _tz(self) -> ZoneInfo:
        return ZoneInfo(self._config().time.timezone)

    async def _run(self) -> None:
        while True:
            await self.catch_up()
            self.checked.set()
            self.checked.clear()
            # Sleep to next Monday + grace, in steps: a clock set meanwhile is noticed.
            while (wait := self._next_run() - self._clock()) > 0:
                await asyncio.sleep(min(wait, 3600.0))

    def _next_run(self) -> float:
        tz = self._tz()
        monday = last_finished_monday(self._clock() - GRACE_S, tz)
        next_monday = date.fromordinal(monday.toordinal() + 14)
        start = datetime(next_monday.year, next_monday.month, next_monday.day, tzinfo=tz)
        return start.timestamp() + GRACE_S

    # --- the checks -------------------------------------------------------------------

    def eq_gateways(self) -> list[Gateway]:
        inst = self._installation()
        return [g for g in inst.gateways if g.eq_device_id is not None]

    async def catch_up(self) -> list[WeekReport]:
        """Check every finished week not checked yet (see the module doc); the new reports."""
        tz = self._tz()
        now = self._clock()
        last = last_finished_monday(now - GRACE_S, tz)
        first_slot = await self._measures.first_slot()
        if first_slot is None:
            return []
        done: list[WeekReport] = []
        for gateway in self.eq_gateways():
            checked = await self.repo.checked_starts(gateway.id)
            for back in range(CATCH_UP_WEEKS - 1, -1, -1):
                monday = date.fromordinal(last.toordinal() - 7 * back)
                slots = week_slots(monday, tz)
                if slots.stop <= first_slot or slots.start * SLOT_SECONDS in checked:
                    continue
                week = await self.check(gateway, monday)
                if week is not None:
                    done.append(week.report)
        return done

    async def check(self, gateway: Gateway, monday: date) -> CheckedWeek | None:
        """Judge ``gateway``'s EQ device over the week of ``monday``; store, write the
        eqcheck files and publish it. None when the gateway has no usable EQ device."""
        inst, catalog, tz = self._installation(), self._catalog(), self._tz()
        device = inst.device(gateway.eq_device_id) if gateway.eq_device_id is not None else None
        if device is None:
            return None
        try:
            gives = [q.id for q in device_map(device, catalog)[1].quantities]
        except DomainError as exc:
            log.warning("en50160: gateway %s: EQ device %s: %s", gateway.id, device.id, exc)
            gives = None
        slots = week_slots(monday, tz)
        limits = self.limits
        # The week column-wise (decoded in a thread), judged in a thread: a thousand rows,
        # no object per row (judge_columns gives judge_week's result).
        columns = await self._measures.device_columns(
            device.id, slots.start, slots.stop, limits.needed(limits.nominal.three_wire)
        )
        result = await asyncio.to_thread(judge_columns, limits, slots, columns, None, gives)
        report = WeekReport.of(result, gateway.id, device.id)
        await self.repo.save(report, self._clock())
        week = CheckedWeek(report, columns)
        try:
            await asyncio.to_thread(self._write_csv, week, gateway, tz)
        except OSError as exc:
            log.error("en50160: eqcheck files: %s", exc.strerror or exc)
        label = week_label(report.start, tz)
        if report.verdict is WeekVerdict.KO:
            failed = ", ".join(c.id for c in report.criteria if c.verdict.value == "failed")
            log.warning("EN 50160 week KO: gateway %s, %s (%s)", gateway.name, label, failed)
        else:
            log.info("EN 50160 %s: gateway %s, %s", report.verdict.value, gateway.name, label)
        self._hub.publish(En50160Checked(gateway.id, report.start, report.verdict.value))
        return week

    # --- the eqcheck folder -----------------------------------------------------------

    def _write_csv(self, week: CheckedWeek, gateway: Gateway, tz: ZoneInfo) -> list[Path]:
        config = self._config()
        if not config.csv.enabled:
            return []
        folder = config.csv_folder / "eqcheck"
        make_private_dir(folder)
        report = week.report
        label = week_label(report.start, tz)
        inst = self._installation()
        device = inst.device(report.device_id)
        device_name = device.display_name() if device is not None else f"#{report.device_id}"
        stem = f"{label}_gateway-{gateway.id}"
        rows: list[Sequence[object]] = [
            (label, gateway.id, gateway.name, report.device_id, device_name, "week", "", "",
             report.verdict.value, report.intervals - report.flagged, "", "", "", "", "", "",
             "", "", "", "")
        ]  # fmt: skip
        for c in report.criteria:
            worst_at = "" if c.worst_at is None else _stamp(c.worst_at, tz)
            rows.append(
                (label, gateway.id, gateway.name, report.device_id, device_name, c.id, c.label,
                 c.unit, c.verdict.value, c.n, c.n1, c.n2, c.share, csv_number(c.low),
                 csv_number(c.high), csv_number(c.always_low), csv_number(c.always_high),
                 csv_number(c.worst), worst_at, round(c.valid_share, 6))
            )  # fmt: skip
        values: list[Sequence[object]] = []
        for interval in week.intervals:
            stamp = _stamp(interval.slot * SLOT_SECONDS, tz)
            for name in sorted(interval.mean):
                values.append(
                    (stamp, name, csv_number(interval.mean[name]),
                     csv_number(interval.low.get(name)), csv_number(interval.high.get(name)))
                )  # fmt: skip
        paths = [folder / f"{stem}.csv", folder / f"{stem}_values.csv"]
        write_atomically(paths[0], csv_text(CRITERIA_HEADER, rows).encode("utf-8"))
        write_atomically(paths[1], csv_text(VALUES_HEADER, values).encode("utf-8"))
        return paths


def _stamp(ts: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts, tz).isoformat()
