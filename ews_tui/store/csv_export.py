"""The CSV folders: one folder per kind of data, one file per local day.

Layout under a root folder (the data dir's ``csv`` folder, or ``ews export csv --out DIR``)::

    energy/2024-03-31.csv     per device and 10-minute slot: index and consumption
    measures/2024-03-31.csv   per device, slot and quantity: count, mean, min, max
    events/                   device and gateway state changes (appended by the running box;
                              ``ews export csv`` copies the box's files, see ``copy_events``)
    eqcheck/                  reserved for the weekly EN 50160 verdicts

Every file: UTF-8, a header row, ``,`` separators, decimal point, timestamps in ISO 8601
with the UTC offset of the box's zone (the slot's start), so a day file holds exactly the
slots of that local day, 23 or 25 hours of them on daylight-saving days. Consumption is
blank when unknown (a gap or a break): it is never spread nor guessed.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ews_tui.atomic_file import write_atomically
from ews_tui.domain.aggregation import QuantityStats
from ews_tui.domain.catalog import QUANTITY_UNITS, Catalog
from ews_tui.domain.consumption import Reading, Span, outputs_of
from ews_tui.domain.grouping import UNITS, energy_of
from ews_tui.domain.installation import Installation
from ews_tui.domain.periods import SLOT_SECONDS, local_midnight
from ews_tui.domain.text_rules import printable
from ews_tui.store.aggregates_repo import AggregatesRepo

FOLDERS = ("energy", "measures", "events", "eqcheck")
ENERGY_HEADER = ("timestamp", "device_id", "device", "energy", "index", "consumption", "unit")
MEASURES_HEADER = (
    "timestamp",
    "device_id",
    "device",
    "quantity",
    "unit",
    "count",
    "mean",
    "min",
    "max",
)


def csv_number(value: float | None) -> str:
    return "" if value is None else repr(round(value, 6))


def _stamp(slot: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(slot * SLOT_SECONDS, tz).isoformat()


def csv_text(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    """The CSV text; control characters in a cell (a name stored before they were refused)
    are written ``\x1b``, so a file shown on a terminal cannot drive it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(
        [printable(cell) if isinstance(cell, str) else cell for cell in row] for row in rows
    )
    return buffer.getvalue()


class CsvExporter:
    """Writes the day files of ``[first, end)`` for every device with history."""

    def __init__(self, repo: AggregatesRepo, inst: Installation, catalog: Catalog, tz: ZoneInfo):
        self._repo = repo
        self._inst = inst
        self._catalog = catalog
        self._tz = tz

    def _name(self, device_id: int) -> str:
        device = self._inst.device(device_id)
        return device.display_name() if device is not None else f"#{device_id}"

    def _unit(self, device_id: int) -> str:
        device = self._inst.device(device_id)
        energy = energy_of(device, self._catalog) if device is not None else None
        return UNITS.get(energy or "electricity", "kWh")

    async def export(
        self,
        root: Path,
        first: date,
        end: date,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[Path]:
        """Write every day file of ``[first, end)`` under ``root``; the files written."""
        for folder in FOLDERS:
            (root / folder).mkdir(parents=True, exist_ok=True)
        metered = await self._repo.device_ids()
        days = (end - first).days
        written: list[Path] = []
        for n in range(days):
            day = first + timedelta(days=n)
            a = local_midnight(day, self._tz) // SLOT_SECONDS
            b = local_midnight(day + timedelta(days=1), self._tz) // SLOT_SECONDS
            written.append(await self._energy_day(root, day, a, b, metered))
            written.append(await self._measures_day(root, day, a, b))
            if progress is not None:
                progress(n + 1, days)
        return written

    async def _energy_day(self, root: Path, day: date, a: int, b: int, ids: list[int]) -> Path:
        series: dict[int, list[Reading]] = {}
        if ids:
            for device_id, reading in await self._repo.readings(a - 1, b, ids):
                series.setdefault(device_id, []).append(reading)
        path = root / "energy" / f"{day.isoformat()}.csv"
        # Formatting a day is CPU work: off the loop, so the pollers keep their beat.
        await asyncio.to_thread(self._write_energy, path, series, a)
        return path

    def _write_energy(self, path: Path, series: dict[int, list[Reading]], a: int) -> None:
        rows = []
        for device_id, readings in series.items():
            used = {
                out.last: out.amount
                for out in outputs_of(readings)
                if isinstance(out, Span) and out.slots == 1
            }
            device = self._inst.device(device_id)
            energy = (energy_of(device, self._catalog) if device else None) or ""
            name, unit = self._name(device_id), self._unit(device_id)
            for reading in readings:
                if reading.slot < a:
                    continue
                rows.append(
                    (
                        reading.slot,
                        _stamp(reading.slot, self._tz),
                        device_id,
                        name,
                        energy,
                        csv_number(reading.value),
                        csv_number(used.get(reading.slot)),
                        unit,
                    )
                )
        # By instant: on the day the clocks go back, 02:00+02:00 comes before 02:00+01:00
        # and 02:10+02:00 (text order would mix the two hours).
        rows.sort(key=lambda r: (r[0], r[2]))
        text = csv_text(ENERGY_HEADER, (r[1:] for r in rows))
        write_atomically(path, text.encode("utf-8"))

    async def _measures_day(self, root: Path, day: date, a: int, b: int) -> Path:
        path = root / "measures" / f"{day.isoformat()}.csv"
        await asyncio.to_thread(self._write_measures, path, await self._repo.measures(a, b))
        return path

    @staticmethod
    def copy_events(source: Path, root: Path, first: date, end: date) -> list[Path]:
        """Copy the ``events`` day files of ``[first, end)`` from the box's CSV folder
        ``source`` to ``root``; the files written.

        The store keeps no history of state changes: the running box appends each one to
        its ``events`` file as it happens, and those files are the only record of them. A
        day the box did not record (CSV folders off, or files older than ``csv.keep_days``)
        has no file.
        """
        folder = root / "events"
        folder.mkdir(parents=True, exist_ok=True)
        if (source / "events").resolve() == folder.resolve():
            return []
        written = []
        for n in range((end - first).days):
            name = f"{(first + timedelta(days=n)).isoformat()}.csv"
            try:
                data = (source / "events" / name).read_bytes()
            except FileNotFoundError:
                continue
            write_atomically(folder / name, data)
            written.append(folder / name)
        return written

    def _write_measures(
        self, path: Path, measures: list[tuple[int, int, tuple[QuantityStats, ...]]]
    ) -> None:
        rows = []
        for device_id, slot, stats in measures:
            stamp, name = _stamp(slot, self._tz), self._name(device_id)
            for s in stats:
                unit = QUANTITY_UNITS.get(s.name, "")
                mean, lo, hi = csv_number(s.mean), csv_number(s.min), csv_number(s.max)
                rows.append((stamp, device_id, name, s.name, unit, s.count, mean, lo, hi))
        write_atomically(path, csv_text(MEASURES_HEADER, rows).encode("utf-8"))
