"""The charging sessions of the EV charging points, recorded as the poller reads them.

The service follows the Hub's samples of every charging point (a charger model of the
catalog) and tells sessions from them (:mod:`ews_tui.domain.charging`): a session is stored
when it opens and again when it closes, and a closed one is appended to the CSV folder
``charging/<local day of its end>.csv``. Each point's track moves only after its session's
transaction is committed; a CSV append that fails is kept and tried again at the next turn,
and fails the loop meanwhile (the supervisor shows it).

At start the open sessions and the last faults come back from the store, so a session going
on across a restart carries on from its row. A point that stops being one (deleted, switched
OFF, given a model that is not a charger) can no longer tell its session's end: the session
is closed at the point's last sample (at the change if none came since the start), so the
page never shows "going on" for a point nobody reads.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ews_tui.config import Config
from ews_tui.domain.catalog import Catalog
from ews_tui.domain.charging import (
    ChargingChanged,
    ChargingSession,
    Track,
    charging_points,
    step,
)
from ews_tui.domain.events import Event, InstallationChanged, Sample
from ews_tui.domain.installation import Device, Installation
from ews_tui.hub import Hub, Subscription
from ews_tui.services.follower import HubFollower
from ews_tui.store.charging_repo import ChargingRepo
from ews_tui.store.db import Database
from ews_tui.supervision import Supervisor

log = logging.getLogger(__name__)

FOLDER = "charging"
CSV_HEADER = ("start", "end", "device_id", "device", "side", "energy_kwh")


class ChargingService:
    """Records the sessions of every charging point; the Green'Up page reads them here."""

    name = "charging"

    def __init__(
        self,
        db: Database,
        hub: Hub,
        *,
        installation: Callable[[], Installation],
        catalog: Callable[[], Catalog],
        config: Callable[[], Config],
        clock: Callable[[], float] = time.time,
        supervisor: Supervisor | None = None,
    ) -> None:
        self.repo = ChargingRepo(db)
        self._hub = hub
        self._installation = installation
        self._catalog = catalog
        self._config = config
        self._clock = clock
        self._tracks: dict[int, Track] = {}
        self._points: tuple[Installation | None, dict[int, Device]] = (None, {})
        self._rows: list[tuple[Path, tuple[str, ...]]] = []
        self._seen: dict[int, tuple[Device, float]] = {}  # each point, its last sample's time
        self._follower = HubFollower(
            hub,
            supervisor or Supervisor(hub),
            "charging",
            (Sample, InstallationChanged),
            self._handle,
            drain_on_stop=True,
            tick=self._write_rows,
        )

    # --- service ----------------------------------------------------------------------

    async def start(self) -> None:
        self._follower.subscribe()  # first: no sample is missed while the store answers
        faults = await self.repo.last_faults()
        for device_id, ts in faults.items():
            self._tracks[device_id] = Track(last_fault=ts)
        for session in await self.repo.open_sessions():
            track = self._tracks.get(session.device_id, Track())
            self._tracks[session.device_id] = replace(track, session=session)
        self._follower.start()

    async def stop(self) -> None:
        await self._follower.stop()

    # --- what the page reads ------------------------------------------------------------

    def points(self) -> tuple[Device, ...]:
        """The installation's charging points, in its order."""
        return tuple(self._charging_points().values())

    def track(self, device_id: int) -> Track:
        """What is known of the point: its open session and its last fault."""
        return self._tracks.get(device_id) or Track()

    async def recent(self, limit: int = 50) -> list[ChargingSession]:
        return await self.repo.recent(limit)

    def subscribe(self, name: str = "charging-screen") -> Subscription:
        """A Hub subscription to the sessions' news (opened, closed, fault)."""
        return self._hub.subscribe(ChargingChanged, maxsize=64, name=name)

    # --- the follow loop ----------------------------------------------------------------

    def _charging_points(self) -> dict[int, Device]:
        inst = self._installation()
        known, points = self._points
        if known is not inst:
            points = {d.id: d for d in charging_points(inst, self._catalog())}
            self._points = (inst, points)
        return points

    async def _handle(self, event: Event) -> None:
        if isinstance(event, InstallationChanged):
            await self._close_gone()
            return
        if not isinstance(event, Sample) or not event.values:
            return
        device = self._charging_points().get(event.device_id)
        if device is None:
            return
        self._seen[device.id] = (device, event.ts)
        old = self.track(device.id)
        result = step(old, device, event.ts, event.values)
        track = result.track
        if result.ended is not None or result.started is not None:
            stored = await self.repo.save(result.ended, result.started)
            if stored is not None and track.session is not None:
                track = replace(track, session=stored)
        elif (
            track.session is not None
            and track.session.id
            and old.session is not None
            and track.session.energy_kwh != old.session.energy_kwh
        ):
            await self.repo.update_energy(track.session)
        if track.last_fault != old.last_fault and track.last_fault is not None:
            await self.repo.save_fault(device.id, track.last_fault)
        self._tracks[device.id] = track  # after the commits
        if result.ended is not None:
            self._queue_row(device, result.ended)
        if result.ended or result.started or track.last_fault != old.last_fault:
            self._hub.publish(ChargingChanged(device.id))

    async def _close_gone(self) -> None:
        """Close the open sessions of points that are no longer charging points."""
        points = self._charging_points()
        for device_id, track in list(self._tracks.items()):
            session = track.session
            if session is None or device_id in points:
                continue
            device, last = self._seen.get(device_id, (None, self._clock()))
            ended = replace(session, end=max(last, session.start or last))
            await self.repo.save(ended, None)
            self._tracks[device_id] = replace(track, session=None)
            if device is not None:
                self._queue_row(device, ended)
            self._hub.publish(ChargingChanged(device_id))

    # --- the CSV folder -----------------------------------------------------------------

    def _queue_row(self, device: Device, session: ChargingSession) -> None:
        found = session_row(self._config(), device, session)
        if found is not None:
            self._rows.append(found)

    async def _write_rows(self) -> None:
        rows = self._rows
        if not rows:
            return
        config = self._config()
        keep = config.csv.keep_days
        today = datetime.fromtimestamp(self._clock(), ZoneInfo(config.time.timezone)).date()
        oldest = today - timedelta(days=keep - 1) if keep else None
        try:
            await asyncio.to_thread(_append_rows, list(rows), oldest)
        except OSError as error:
            log.error("csv: charging: %s", error.strerror or error)
            raise
        del rows[: len(rows)]


def session_row(
    config: Config, device: Device, session: ChargingSession
) -> tuple[Path, tuple[str, ...]] | None:
    """The CSV day file of a closed session (the local day of its end) and its row; None
    when the CSV folders are off or the session goes on."""
    if not config.csv.enabled or session.end is None:
        return None
    tz = ZoneInfo(config.time.timezone)
    end = datetime.fromtimestamp(session.end, tz)
    start = "" if session.start is None else _stamp(session.start, tz)
    path = config.csv_folder / FOLDER / f"{end.date().isoformat()}.csv"
    energy = "" if session.energy_kwh is None else f"{session.energy_kwh:.3f}"
    side = "" if session.side is None else str(session.side)
    return path, (
        start,
        _stamp(session.end, tz),
        str(device.id),
        device.display_name(),
        side,
        energy,
    )


async def seed_sessions(
    db: Database,
    inst: Installation,
    catalog: Catalog,
    found: Iterable[Sample],
    config: Config,
    *,
    before: float | None = None,
) -> int:
    """Sessions told from simulated samples in time order (``ews history seed``, so ``ews
    demo`` has a history): each one stored and written to the CSV folder, the one still
    going on left open for the live service to carry on. A store that has sessions already
    is left alone. The count.

    ``before`` (the backfill: older history joined to the stored one, which starts there):
    only the sessions that ended before it are stored, whatever the store holds; one going
    on at ``before`` belongs to the newer history, which saw it already."""
    repo = ChargingRepo(db)
    if before is None and await repo.recent(1):
        return 0
    points = {d.id: d for d in charging_points(inst, catalog)}
    tracks: dict[int, Track] = {}
    rows: list[tuple[Path, tuple[str, ...]]] = []
    count = 0
    for sample in found:
        device = points.get(sample.device_id)
        if device is None or not sample.values:
            continue
        result = step(tracks.get(device.id) or Track(), device, sample.ts, sample.values)
        tracks[device.id] = result.track
        if result.ended is not None:
            await repo.save(result.ended, None)
            row = session_row(config, device, result.ended)
            rows += [row] if row is not None else []
            count += 1
    if rows:
        await asyncio.to_thread(_append_rows, rows)
    for track in tracks.values() if before is None else ():
        if track.session is not None:
            await repo.save(None, track.session)
            count += 1
    return count


def _stamp(ts: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts, tz).isoformat(timespec="seconds")


def _append_rows(rows: list[tuple[Path, tuple[str, ...]]], oldest: date | None = None) -> None:
    """Append each row to its day file, in order, the header first on a new file; remove
    the day files before ``oldest`` (``csv.keep_days``) from those folders."""
    by_file: dict[Path, list[tuple[str, ...]]] = {}
    for path, row in rows:
        by_file.setdefault(path, []).append(row)
    for path, lines in by_file.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        if not path.exists():
            writer.writerow(CSV_HEADER)
        writer.writerows(lines)
        with path.open("a", encoding="utf-8", newline="") as stream:
            stream.write(text.getvalue())
    for folder in {path.parent for path in by_file} if oldest is not None else ():
        for old in folder.glob("*.csv"):
            try:
                day = date.fromisoformat(old.stem)
            except ValueError:
                continue  # not one of ours: left alone
            if oldest is not None and day < oldest:
                old.unlink(missing_ok=True)
