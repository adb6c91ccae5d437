"""The CSV folders of the data dir, kept up to date by the box (what the Connector pushes).

One file per local day in each folder (layout: :mod:`ews_tui.store.csv_export`):

- ``energy`` and ``measures``: each day's file is written once the day is over (a little
  after midnight, when the recorder has stored the last slot), and today's file is rewritten
  every ``csv.refresh_minutes`` so a push during the day carries the morning;
- ``events``: a line per device or gateway state change, appended as it happens;
- ``eqcheck``: reserved for the weekly EN 50160 verdicts.

At start the service catches up: every whole day since the last one written (the file
``.complete`` in the folder names it), or since the first stored measure on a first start,
within ``csv.keep_days``. Files older than ``keep_days`` are removed. A write that fails (a
full or read-only disk) is logged and tried again at the next turn; nothing in the store is
touched. The file work of the events log, the mark and the retention sweep runs in a thread
(``asyncio.to_thread``): a slow disk never holds the pollers' loop.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ews_tui.config import Config
from ews_tui.domain.catalog import Catalog
from ews_tui.domain.events import DeviceStateChanged, Event, GatewayStateChanged
from ews_tui.domain.installation import Installation
from ews_tui.domain.periods import SLOT_SECONDS, local_midnight
from ews_tui.hub import Hub
from ews_tui.services.follower import HubFollower
from ews_tui.store.aggregates_repo import AggregatesRepo
from ews_tui.store.csv_export import FOLDERS, CsvExporter
from ews_tui.store.db import Database
from ews_tui.supervision import Supervised, Supervisor

log = logging.getLogger(__name__)

MARK = ".complete"
EVENTS_HEADER = ("timestamp", "kind", "id", "name", "state", "detail")
#: After midnight, wait this long so the recorder has written the day's last slot.
DAY_GRACE_S = 120.0


#: Rows of the events log kept in memory while its file cannot be written.
MAX_PENDING_ROWS = 10_000


class CsvFolders:
    """The daily CSV job and the events log, one task in the loop."""

    name = "csv"

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
        max_pending_rows: int = MAX_PENDING_ROWS,
    ) -> None:
        self._repo = AggregatesRepo(db)
        self._hub = hub
        self._config = config
        self._installation = installation
        self._catalog = catalog
        self._clock = clock
        self._supervisor = supervisor or Supervisor(hub)
        self._task: Supervised | None = None
        self._events = HubFollower(
            hub,
            self._supervisor,
            "csv-events",
            (DeviceStateChanged, GatewayStateChanged),
            self._log_event,
            drain_on_stop=True,
            tick=self._write_events,
        )
        #: Rows of the events log taken from the Hub and not yet appended: the follower's
        #: turn (:meth:`_write_events`) appends all of them in one thread hop.
        self._event_rows: list[tuple[Path, tuple[str, ...]]] = []
        #: While the disk refuses the events log, rows wait up to this many (the oldest go
        #: first beyond it: a box that cannot write for days must not fill its memory); the
        #: count of rows let go is written as a row of its own once the log can be written.
        self._max_pending_rows = max_pending_rows
        self._lost_rows = 0

    # --- service ----------------------------------------------------------------------

    async def start(self) -> None:
        self._events.start()
        self._task = self._supervisor.supervise("csv-folders", self._run)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await task.stop()
        await self._events.stop()

    # --- the daily files --------------------------------------------------------------

    def _tz(self) -> ZoneInfo:
        return ZoneInfo(self._config().time.timezone)

    async def write_days(self) -> list[Path]:
        """Write what is due now: whole days not yet written, today's files, old ones out."""
        config = self._config()
        if not config.csv.enabled:
            return []
        tz, root = self._tz(), config.csv_folder
        now = self._clock()
        today = datetime.fromtimestamp(now, tz).date()
        # A day is whole once the recorder has had time to store its last slot.
        settled = datetime.fromtimestamp(now - DAY_GRACE_S, tz).date()
        keep = config.csv.keep_days
        oldest = today - timedelta(days=keep - 1) if keep else None
        first = await self._first_due(root, tz, settled)
        if oldest is not None:
            first = max(first, oldest)
        exporter = CsvExporter(self._repo, self._installation(), self._catalog(), tz)
        written: list[Path] = []
        if first < settled:
            written += await exporter.export(root, first, settled)
            await asyncio.to_thread(_write_mark, root, settled - timedelta(days=1))
        if config.csv.refresh_minutes and settled < today + timedelta(days=1):
            written += await exporter.export(root, settled, today + timedelta(days=1))
        if oldest is not None:
            await asyncio.to_thread(_remove_before, root, oldest)
        return written

    async def _first_due(self, root: Path, tz: ZoneInfo, settled: date) -> date:
        mark = await asyncio.to_thread(_read_mark, root)
        if mark is not None:
            return mark + timedelta(days=1)
        slot = await self._repo.first_slot()
        if slot is None:
            return settled
        return datetime.fromtimestamp(slot * SLOT_SECONDS, tz).date()

    def _next_wake(self) -> float:
        """Seconds to the next turn: the next day's grace point, or the next refresh."""
        now = self._clock()
        tz = self._tz()
        today = datetime.fromtimestamp(now - DAY_GRACE_S, tz).date()
        tomorrow = local_midnight(today + timedelta(days=1), tz) + DAY_GRACE_S
        wait = tomorrow - now
        refresh = self._config().csv.refresh_minutes * 60
        if refresh:
            wait = min(wait, refresh - now % refresh)
        return max(1.0, wait)

    async def _run(self) -> None:
        while True:
            try:
                files = await self.write_days()
                if files:
                    log.info("csv: %d files written in %s", len(files), self._config().csv_folder)
            except OSError as error:
                log.error("csv: %s: %s", error.filename or "write", error.strerror or error)
            await asyncio.sleep(self._next_wake())

    # --- the events log ---------------------------------------------------------------

    async def _log_event(self, event: Event) -> None:
        if isinstance(event, DeviceStateChanged | GatewayStateChanged):
            found = self._event_row(event)
            if found is not None:
                self._event_rows.append(found)
                excess = len(self._event_rows) - self._max_pending_rows
                if excess > 0:
                    del self._event_rows[:excess]
                    self._lost_rows += excess

    async def _write_events(self) -> None:
        """Append the rows taken since the last turn (a burst of state changes costs one
        thread hop and one open per file, not one each); a failed write is kept for the
        next turn and shown as this loop's failure."""
        rows = self._event_rows
        if not rows:
            return
        lost = self._lost_rows
        written = [self._lost_row(rows[0][0], lost), *rows] if lost else rows
        try:
            await asyncio.to_thread(_append_rows, written)
        except OSError as error:
            log.error("csv: events: %s", error.strerror or error)
            raise
        del rows[: len(written) - (1 if lost else 0)]
        self._lost_rows -= lost

    def _lost_row(self, path: Path, lost: int) -> tuple[Path, tuple[str, ...]]:
        """The row that says how many state changes the log could not keep."""
        when = datetime.fromtimestamp(self._clock(), self._tz()).isoformat(timespec="seconds")
        detail = f"{lost} state changes not logged: the events file could not be written"
        return path, (when, "box", "0", "ews", "lost", detail)

    async def append_event(self, event: DeviceStateChanged | GatewayStateChanged) -> Path | None:
        """Append one state change to today's ``events`` file (header on a new file) now;
        the file work runs in a thread."""
        found = self._event_row(event)
        if found is None:
            return None
        await asyncio.to_thread(_append_rows, [found])
        return found[0]

    def _event_row(
        self, event: DeviceStateChanged | GatewayStateChanged
    ) -> tuple[Path, tuple[str, ...]] | None:
        """The events file of today and the row of ``event`` (None: CSV folders off)."""
        config = self._config()
        if not config.csv.enabled:
            return None
        tz = self._tz()
        stamp = datetime.fromtimestamp(self._clock(), tz)
        inst = self._installation()
        if isinstance(event, DeviceStateChanged):
            device = inst.device(event.device_id)
            kind, ident = "device", event.device_id
            name = device.display_name() if device is not None else f"#{ident}"
        else:
            gateway = inst.gateway(event.gateway_id)
            kind, ident = "gateway", event.gateway_id
            name = gateway.name if gateway is not None else f"#{ident}"
        path = config.csv_folder / "events" / f"{stamp.date().isoformat()}.csv"
        when = stamp.isoformat(timespec="seconds")
        return path, (when, kind, str(ident), name, str(event.state.value), event.detail)


def _append_rows(rows: list[tuple[Path, tuple[str, ...]]]) -> None:
    """Append each row to its events file, in order, the header first on a new file."""
    by_file: dict[Path, list[tuple[str, ...]]] = {}
    for path, row in rows:
        by_file.setdefault(path, []).append(row)
    for path, lines in by_file.items():
        _append_row(path, *lines)


def _append_row(path: Path, *rows: tuple[str, ...]) -> None:
    """Append ``rows`` to the events file ``path``, its header first on a new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = io.StringIO()
    writer = csv.writer(line, lineterminator="\n")
    if not path.exists():
        writer.writerow(EVENTS_HEADER)
    writer.writerows(rows)
    with path.open("a", encoding="utf-8", newline="") as stream:
        stream.write(line.getvalue())


def _read_mark(root: Path) -> date | None:
    try:
        return date.fromisoformat((root / MARK).read_text("utf-8").strip())
    except (OSError, ValueError):
        return None


def _write_mark(root: Path, day: date) -> None:
    (root / MARK).write_text(day.isoformat() + "\n", "utf-8")


def _remove_before(root: Path, oldest: date) -> None:
    for folder in FOLDERS:
        for path in (root / folder).glob("*.csv"):
            try:
                day = date.fromisoformat(path.stem)
            except ValueError:
                continue  # not one of ours: left alone
            if day < oldest:
                path.unlink(missing_ok=True)
