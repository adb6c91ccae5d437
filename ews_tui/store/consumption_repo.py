"""Consumption and cost tables from the store: what the report command and screens show.

:meth:`ConsumptionRepo.table` answers "energy (and cost) per period, grouped by X":

1. the periods of the step in the box's zone, cut into segments at UTC offset changes and
   at the dates a tariff starts (:func:`~ews_tui.domain.periods.segments`);
2. the whole UTC days of each segment come from the daily rollups: one query per class map
   and UTC offset sums, per segment and device, each price class's amount — the day's
   ``amount`` without time bands, else the day's hour columns of that class picked by
   weekday (:func:`_class_sums`), so a year reads 365 rows a device, never 8,760;
3. the hours at the segments' edges (local midnights are not UTC midnights) come from the
   hourly rollups, the class of a row being a letter picked from the segment's 168-letter
   map by the local hour of the week (one ``substr``);
4. gaps lying whole inside a period are added to it (priced at the mean price over their
   hours), others leave the period marked missing;
5. the pure grouping sums devices by key (:func:`~ews_tui.domain.grouping.group`).

:meth:`ConsumptionRepo.table_from_readings` computes the same table from the raw index
readings with the pure tracker, without rollups: the reference for tests and the baseline of
``scripts/bench_store.py``; also the path for zones whose offset is not whole hours.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from ews_tui.domain.catalog import Catalog
from ews_tui.domain.consumption import Break, Output, Reading, Span, max_rate_of, outputs_of
from ews_tui.domain.costs import CostSettings, EnergyCosts, PriceClasses, price_classes
from ews_tui.domain.grouping import UNITS, Amount, By, GroupKey, group, metered_devices
from ews_tui.domain.installation import Device, Installation
from ews_tui.domain.periods import (
    HOUR_SECONDS,
    HOURS_PER_WEEK,
    SLOT_SECONDS,
    Period,
    Segment,
    Step,
    hour_of_week,
    local_midnight,
    periods,
    segments,
)
from ews_tui.store.aggregates_repo import HOUR_COLUMNS, AggregatesRepo
from ews_tui.store.db import Database

_MAX_PARAMS = 30000


@dataclass(frozen=True)
class ConsumptionTable:
    """Rows of amounts by key, one value per period (``None``: no device of it has data)."""

    energy: str
    unit: str
    currency: str
    periods: tuple[Period, ...]
    rows: dict[GroupKey, list[Amount | None]]
    kwh_per_m3: Decimal | None = None

    def kwh(self, amount: Amount | None) -> float | None:
        """The amount in kWh: itself for electricity, the equivalent for gas, else None."""
        if amount is None:
            return None
        if self.energy == "electricity":
            return amount.value
        if self.energy == "gas" and self.kwh_per_m3 is not None:
            return amount.value * float(self.kwh_per_m3)
        return None


@dataclass(frozen=True)
class _Plan:
    devices: tuple[Device, ...]
    periods: tuple[Period, ...]
    segments: tuple[Segment, ...]
    classes: tuple[PriceClasses, ...]  # per segment
    rule_index: dict[int, int | None]  # device id -> index in costs.rules
    costs: EnergyCosts


class ConsumptionRepo:
    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._aggregates = AggregatesRepo(db)
        self._clock = clock

    async def _mark_uncovered(self, plan: _Plan, amounts: _Amounts) -> None:
        """A period a device has data for, but only for part of its past: missing too.

        Consumption is known for the slots after a device's first reading up to its last;
        before (not recording yet) and after (silent, or the box was off) it is unknown.
        The slot that just ended may still be on its way to the store: not counted.
        """
        if not plan.devices or not plan.periods:
            return
        coverage = await self._aggregates.coverage([d.id for d in plan.devices])
        settled = int(self._clock() // SLOT_SECONDS) - 1
        for index, period in enumerate(plan.periods):
            a = period.start // SLOT_SECONDS
            b = min(period.end // SLOT_SECONDS, settled)
            if b <= a:
                continue
            for device in plan.devices:
                key = (index, device.id)
                if key not in amounts.seen or device.id not in coverage:
                    continue
                first, last = coverage[device.id]
                known = max(0, min(b, last + 1) - max(a, first + 1))
                if known < b - a:
                    amounts.missing[key] = amounts.missing.get(key, 0) + (b - a - known)

    def _plan(
        self,
        inst: Installation,
        catalog: Catalog,
        costs: CostSettings,
        tz: ZoneInfo,
        first: date,
        end: date,
        step: Step | str,
        energy: str,
    ) -> _Plan:
        page = costs.of(energy)
        spans = periods(first, end, step, tz)
        cuts = [local_midnight(d, tz) for d in page.validity_starts()]
        segs = segments(spans, tz, cuts)
        cache: dict[date, PriceClasses] = {}
        classes = []
        for seg in segs:
            day = datetime.fromtimestamp(seg.start, tz).date()
            # Tariffs change at local midnights (the cuts): any day of the segment will do,
            # and the segment's first one is the one in force.
            key = max((d for d in page.validity_starts() if d <= day), default=date.min)
            if key not in cache:
                cache[key] = price_classes(page.rules, day)
            classes.append(cache[key])
        devices = metered_devices(inst, catalog, energy)
        rule_index: dict[int, int | None] = {}
        for device in devices:
            rule = page.rule_for(device)
            rule_index[device.id] = page.rules.index(rule) if rule is not None else None
        return _Plan(devices, spans, segs, tuple(classes), rule_index, page)

    async def table(
        self,
        inst: Installation,
        catalog: Catalog,
        costs: CostSettings,
        tz: ZoneInfo,
        first: date,
        end: date,
        step: Step | str,
        by: By | str,
        energy: str = "electricity",
    ) -> ConsumptionTable:
        """Consumption and cost of ``energy`` per period of ``[first, end)``, grouped ``by``.

        The plan (periods, segments, price classes: ~60 ms for a year of hours) and the
        grouping are pure and run in a thread, not in a step of the loop."""
        plan = await asyncio.to_thread(
            self._plan, inst, catalog, costs, tz, first, end, step, energy
        )
        if not all(seg.hour_aligned for seg in plan.segments):
            return await self._from_readings(plan, inst, by)
        amounts = _Amounts(plan)
        if plan.devices and plan.segments:
            hours, days = _ranges(plan)
            for banded in (False, True):
                ranges = [r for r in hours if _banded(plan, r[0]) == banded]
                for part in _chunks(ranges, _MAX_PARAMS // 5 - len(plan.devices)):
                    await self._sum_hours(plan, part, amounts, banded)
            for part in _chunks(days, _MAX_PARAMS // 3 - len(plan.devices)):
                await self._sum_days(plan, part, amounts)
            spans = plan.periods
            gaps = await self._aggregates.gaps(
                [d.id for d in plan.devices],
                spans[0].start // SLOT_SECONDS,
                spans[-1].end // SLOT_SECONDS,
            )
            for device_id, gap in gaps:
                amounts.add_gap(device_id, gap, counted_missing=True)
            await self._mark_uncovered(plan, amounts)
        return await asyncio.to_thread(_result_table, plan, inst, by, amounts, energy)

    async def _sum_hours(
        self, plan: _Plan, part: Sequence[_Range], amounts: _Amounts, banded: bool
    ) -> None:
        """Hour ranges: by class with time bands, else one class a segment (its first)."""
        values = ",".join("(?, ?, ?, ?, ?)" for _ in part)
        params: list[object] = []
        for index, first, end in part:
            seg = plan.segments[index]
            params += [index, first, end, seg.offset // HOUR_SECONDS, plan.classes[index].map]
        ids = [d.id for d in plan.devices]
        marks = ",".join("?" * len(ids))
        of_hour = "substr(seg.map, (h.hour + seg.off + 72) % 168 + 1, 1)" if banded else "''"
        sql = (
            f"WITH seg (i, a, b, off, map) AS (VALUES {values})"
            f" SELECT seg.i, h.device_id, {of_hour} AS cls, SUM(h.amount), SUM(h.missing)"
            f" FROM seg JOIN energy_hourly AS h ON h.device_id IN ({marks})"
            " AND h.hour >= seg.a AND h.hour < seg.b"
            " GROUP BY seg.i, h.device_id" + (", cls" if banded else "")
        )
        for seg_index, device_id, cls, total, missing in await self._db.fetchall(
            sql, (*params, *ids)
        ):
            code = str(cls) or plan.classes[seg_index].map[0]
            amounts.add(seg_index, int(device_id), code, float(total), int(missing))

    async def _sum_days(self, plan: _Plan, part: Sequence[_Range], amounts: _Amounts) -> None:
        """Whole UTC days, each day's amount split by price class in SQL (one query per
        class map and UTC offset, see :func:`_class_sums`)."""
        kinds: dict[tuple[str, int], list[_Range]] = {}
        for item in part:
            week = plan.classes[item[0]].map
            offset = plan.segments[item[0]].offset // HOUR_SECONDS if _banded(plan, item[0]) else 0
            kinds.setdefault((week, offset), []).append(item)
        ids = [d.id for d in plan.devices]
        marks = ",".join("?" * len(ids))
        for (week, offset), ranges in kinds.items():
            classes = _class_sums(week, offset)
            values = ",".join("(?, ?, ?)" for _ in ranges)
            params: list[object] = [x for item in ranges for x in item]
            sums = ", ".join(f"TOTAL({expr})" for expr in classes.values())
            sql = (
                f"WITH seg (i, a, b) AS (VALUES {values})"
                f" SELECT seg.i, d.device_id, SUM(d.missing), {sums}"
                f" FROM seg JOIN energy_daily AS d ON d.device_id IN ({marks})"
                " AND d.day >= seg.a AND d.day < seg.b"
                " GROUP BY seg.i, d.device_id"
            )
            for seg_index, device_id, missing, *totals in await self._db.fetchall(
                sql, (*params, *ids)
            ):
                for n, (cls, total) in enumerate(zip(classes, totals, strict=True)):
                    amounts.add(
                        int(seg_index),
                        int(device_id),
                        cls,
                        float(total),
                        int(missing) if n == 0 else 0,
                    )

    async def table_from_readings(
        self,
        inst: Installation,
        catalog: Catalog,
        costs: CostSettings,
        tz: ZoneInfo,
        first: date,
        end: date,
        step: Step | str,
        by: By | str,
        energy: str = "electricity",
    ) -> ConsumptionTable:
        """The same table computed from the raw readings only (no rollups)."""
        plan = self._plan(inst, catalog, costs, tz, first, end, step, energy)
        return await self._from_readings(plan, inst, by)

    async def _from_readings(
        self, plan: _Plan, inst: Installation, by: By | str
    ) -> ConsumptionTable:
        amounts = _Amounts(plan)
        if plan.devices and plan.periods:
            first = plan.periods[0].start // SLOT_SECONDS
            end = plan.periods[-1].end // SLOT_SECONDS
            rows = await self._aggregates.readings(first - 1, end, [d.id for d in plan.devices])
            series: dict[int, list[Reading]] = {}
            for device_id, reading in rows:
                series.setdefault(device_id, []).append(reading)
            for device_id, readings in series.items():
                for out in outputs_of(readings, max_rate_of(plan.costs.energy)):
                    amounts.add_output(device_id, out, first, end)
            await self._mark_uncovered(plan, amounts)
        return _table(plan, inst, by, amounts.result(), plan.costs.energy)


class _Amounts:
    """Per (period, device): amount, missing slots and cost, filled from either path."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        self.value: dict[tuple[int, int], float] = {}
        self.missing: dict[tuple[int, int], int] = {}
        self.cost: dict[tuple[int, int], float | None] = {}
        self.seen: set[tuple[int, int]] = set()
        self._seg_starts = [seg.start for seg in plan.segments]

    def _price(self, device_id: int, seg_index: int, cls: str) -> Decimal | None:
        rule = self.plan.rule_index.get(device_id)
        if rule is None:
            return None
        return self.plan.classes[seg_index].prices[rule].get(cls)

    def _charge(self, key: tuple[int, int], amount: float, price: Decimal | None) -> None:
        if key in self.cost and self.cost[key] is None:
            return
        if price is None:
            self.cost[key] = None
        else:
            self.cost[key] = self.cost.get(key, 0.0) + amount * float(price)  # type: ignore[operator]

    def add(self, seg_index: int, device_id: int, cls: str, amount: float, missing: int) -> None:
        period = self.plan.segments[seg_index].period
        key = (period, device_id)
        self.seen.add(key)
        self.value[key] = self.value.get(key, 0.0) + amount
        self.missing[key] = self.missing.get(key, 0) + missing
        self._charge(key, amount, self._price(device_id, seg_index, cls))

    def _segment_of(self, ts: int) -> int | None:
        from bisect import bisect_right

        index = bisect_right(self._seg_starts, ts) - 1
        if index < 0 or ts >= self.plan.segments[index].end:
            return None
        return index

    def _slot_price(self, device_id: int, slot: int) -> tuple[int, Decimal | None] | None:
        ts = slot * SLOT_SECONDS
        seg_index = self._segment_of(ts)
        if seg_index is None:
            return None
        seg = self.plan.segments[seg_index]
        cls = self.plan.classes[seg_index].map[hour_of_week(ts, seg.offset)]
        return seg.period, self._price(device_id, seg_index, cls)

    def add_gap(self, device_id: int, gap: Span, *, counted_missing: bool) -> bool:
        """A gap whole inside one period counts there, priced at its hours' mean price.

        ``counted_missing``: its slots were counted missing already (the hourly rows).
        False when the gap is not whole inside one period.
        """
        first = self._slot_price(device_id, gap.first)
        last = self._slot_price(device_id, gap.last)
        if first is None or last is None or first[0] != last[0]:
            return False
        key = (first[0], device_id)
        self.seen.add(key)
        self.value[key] = self.value.get(key, 0.0) + gap.amount
        if counted_missing:
            self.missing[key] = self.missing.get(key, 0) - gap.slots
        prices = [self._slot_price(device_id, s) for s in range(gap.first, gap.last + 1)]
        found = [p[1] for p in prices if p is not None]
        known = [price for price in found if price is not None]
        if len(known) < len(found) or not known:
            self._charge(key, gap.amount, None)
        else:
            mean = sum(known, Decimal(0)) / len(known)
            self._charge(key, gap.amount, mean)
        return True

    def add_output(self, device_id: int, out: Output, first_slot: int, end_slot: int) -> None:
        """One tracker output of the readings path (slots outside the range are ignored)."""
        if out.last < first_slot or out.first >= end_slot:
            return
        if isinstance(out, Break) or out.first // 6 != out.last // 6:
            if isinstance(out, Span) and self.add_gap(device_id, out, counted_missing=False):
                return
            for slot in range(max(out.first, first_slot), min(out.last, end_slot - 1) + 1):
                found = self._slot_price(device_id, slot)
                if found is not None:
                    key = (found[0], device_id)
                    self.seen.add(key)
                    self.missing[key] = self.missing.get(key, 0) + 1
            return
        found = self._slot_price(device_id, out.last)
        if found is None:
            return
        key = (found[0], device_id)
        self.seen.add(key)
        self.value[key] = self.value.get(key, 0.0) + out.amount
        self._charge(key, out.amount, found[1])

    def result(self) -> dict[tuple[int, int], Amount]:
        out: dict[tuple[int, int], Amount] = {}
        for index in range(len(self.plan.periods)):
            for device in self.plan.devices:
                key = (index, device.id)
                if key not in self.seen:
                    out[key] = Amount(0.0, True, None)
                    continue
                priced = self.plan.rule_index.get(device.id) is not None
                cost = self.cost.get(key, 0.0 if priced else None)
                out[key] = Amount(self.value.get(key, 0.0), self.missing.get(key, 0) > 0, cost)
        return out


_Range = tuple[int, int, int]  # (segment index, first, end): hours or days


def _ranges(plan: _Plan) -> tuple[list[_Range], list[_Range]]:
    """Each segment as whole UTC days, and hour ranges at its edges (its local midnights
    are not UTC midnights) or when it holds no whole UTC day."""
    hours: list[_Range] = []
    days: list[_Range] = []
    for index, seg in enumerate(plan.segments):
        a, b = seg.start // HOUR_SECONDS, seg.end // HOUR_SECONDS
        d0, d1 = -(-a // 24), b // 24
        if d1 <= d0:
            hours.append((index, a, b))
            continue
        days.append((index, d0, d1))
        if a < d0 * 24:
            hours.append((index, a, d0 * 24))
        if d1 * 24 < b:
            hours.append((index, d1 * 24, b))
    return hours, days


def _banded(plan: _Plan, seg_index: int) -> bool:
    """Whether time bands are in force in the segment (more than one price class)."""
    week = plan.classes[seg_index].map
    return week != week[0] * len(week)


def _class_sums(week: str, offset_hours: int) -> dict[str, str]:
    """The SQL of each price class's amount in an ``energy_daily`` row ``d``.

    ``week`` maps local hours of the week to classes, local time being UTC plus
    ``offset_hours``. UTC day ``d.day`` is weekday ``(d.day + 3) % 7`` (0 = Monday; day 0
    was a Thursday), so its hour ``h`` is local hour of the week
    ``(24 * weekday + h + offset_hours) % 168``: a class's amount adds the day's hour
    columns of that class, chosen by weekday (the whole ``amount`` when it holds all 24).
    """
    out: dict[str, str] = {}
    for cls in sorted(set(week)):
        cases: dict[tuple[int, ...], list[int]] = {}
        for weekday in range(7):
            first = 24 * weekday + offset_hours
            hours = tuple(h for h in range(24) if week[(first + h) % HOURS_PER_WEEK] == cls)
            if hours:
                cases.setdefault(hours, []).append(weekday)
        if list(cases) == [tuple(range(24))] and len(cases[tuple(range(24))]) == 7:
            out[cls] = "d.amount"
            continue
        branches = " ".join(
            f"WHEN (d.day + 3) % 7 IN ({', '.join(map(str, weekdays))}) THEN "
            + (
                "d.amount"
                if len(hours) == 24
                else " + ".join(f"d.{HOUR_COLUMNS[h]}" for h in hours)
            )
            for hours, weekdays in cases.items()
        )
        out[cls] = f"CASE {branches} END"
    return out


def _chunks(items: Sequence[_Range], size: int) -> list[Sequence[_Range]]:
    size = max(1, size)
    return [items[i : i + size] for i in range(0, len(items), size)]


def _result_table(
    plan: _Plan, inst: Installation, by: By | str, amounts: _Amounts, energy: str
) -> ConsumptionTable:
    return _table(plan, inst, by, amounts.result(), energy)


def _table(
    plan: _Plan,
    inst: Installation,
    by: By | str,
    amounts: dict[tuple[int, int], Amount],
    energy: str,
) -> ConsumptionTable:
    rows = group(amounts, plan.devices, inst, by, len(plan.periods))
    return ConsumptionTable(
        energy=energy,
        unit=UNITS[energy],
        currency=plan.costs.currency,
        periods=plan.periods,
        rows=dict(sorted(rows.items(), key=lambda kv: _order(kv[0]))),
        kwh_per_m3=plan.costs.kwh_per_m3,
    )


def _order(key: GroupKey) -> tuple[int, int, str]:
    return (key.id is None, key.id or 0, key.name)
