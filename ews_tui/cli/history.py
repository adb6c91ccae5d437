"""``ews history seed``: simulated history in the store, through the live recording path.

Samples come from the simulator's physics (:func:`~ews_tui.sim.values.device_values`),
one poll every ``--poll`` seconds per device for the last ``--days`` days, keyed as ``ews
demo`` serves them (so the live counters carry on from the seeded ones), and go through
:class:`~ews_tui.services.recorder.Recorder` ``ingest``/``flush`` like live samples.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from ews_tui.cli.box import (
    add_config_option,
    config_path,
    hold_box,
    open_installation,
    read_config,
)
from ews_tui.cli.energy_store import open_energy_store
from ews_tui.cli.errors import UserError
from ews_tui.cli.export import ProgressLine
from ews_tui.cli.sim import load_site, site_quality
from ews_tui.config import Config
from ews_tui.domain.catalog import Catalog, Model, RegisterMap
from ews_tui.domain.charging import charging_points
from ews_tui.domain.consumption import (
    MAX_RATE,
    Reading,
    Tracker,
    device_max_rate,
    rollup,
    track,
)
from ews_tui.domain.errors import DomainError
from ews_tui.domain.events import Sample
from ews_tui.domain.installation import Device, Installation
from ews_tui.domain.installation_doc import to_document
from ews_tui.domain.periods import SLOT_SECONDS
from ews_tui.i18n import _
from ews_tui.modbus.device_reader import PULSE_ELECTRICITY_ID, PULSE_INDEX_ID, device_map
from ews_tui.services.charging import seed_sessions
from ews_tui.services.recorder import Recorder
from ews_tui.sim.device import DeviceSpec
from ews_tui.sim.server import site_devices
from ews_tui.sim.values import SimDevice, Value, device_values
from ews_tui.store.aggregates_repo import AggregatesRepo, Batch
from ews_tui.store.db import Database


def _local_offset() -> float:
    """This machine's UTC offset now: what the simulator uses, so ``ews demo`` carries on."""
    offset = datetime.now().astimezone().utcoffset()
    return offset.total_seconds() if offset else 0.0


FLUSH_EVERY = 36 * SLOT_SECONDS  # one transaction per 6 hours of simulated time
BACKFILL_CHUNK_S = 86400  # a day of backfill: one transaction, joined to the next


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("history", help=_("simulated history for demos and benchmarks"))
    inner = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    seed = inner.add_parser(
        "seed",
        help=_("fill the store with simulated history up to now"),
        description=_(
            "Record simulated samples of the installation's devices for the last "
            "N days, through the same code as live recording. With --site, a store without "
            "devices first gets that site's installation."
        ),
    )
    add_config_option(seed)
    seed.add_argument("--days", type=float, required=True, metavar="N")
    seed.add_argument(
        "--site", metavar="NAME|FILE", help=_("site to install when the store has none")
    )
    seed.add_argument(
        "--poll", type=float, default=300.0, metavar="S", help=_("seconds between polls")
    )
    seed.add_argument("--seed", type=int, default=0, help=_("the simulator's seed"))
    seed.add_argument(
        "--backfill",
        action="store_true",
        help=_(
            "the N days before the oldest stored index instead, joining it (ews demo "
            "seeds a year this way in the background)"
        ),
    )
    seed.set_defaults(run=run)


@dataclass(frozen=True)
class _Source:
    """Where one installation device's values come from in the simulator."""

    device_id: int
    sim: SimDevice
    ids: tuple[str, ...]  # the quantity ids the device's map gives
    pulse_input: str | None = None  # for a pulse meter: the concentrator input to read
    pulse_id: str = ""


def sources(
    inst: Installation, catalog: Catalog, quality: Mapping[str, str] | None = None
) -> list[_Source]:
    """The simulated source of every device that can be read, keyed as ``ews demo`` serves
    (``quality``: the power-quality scenarios of devices, by name)."""
    specs = site_devices(inst, catalog, quality)
    labels: dict[int, str] = {}
    served = 0
    for gw in inst.gateways:
        if gw.is_local and not specs.get(gw.id):
            continue
        labels[gw.id] = f"e{served}"
        served += 1
    out = []
    for device in inst.devices:
        label = labels.get(device.gateway_id)
        spec = next(
            (s for s in specs.get(device.gateway_id, ()) if s.address == device.address), None
        )
        if label is None or spec is None:
            continue
        try:
            _model, reg_map = device_map(device, catalog)
        except DomainError:
            continue
        served_model = catalog.find(spec.model) if spec.model else None
        if served_model is None:
            continue
        out.append(
            _source(device, f"{label}/{spec.address}", served_model, spec.inputs, reg_map, spec)
        )
    return out


def _source(
    device: Device,
    key: str,
    model: Model,
    inputs: tuple[tuple[int, str], ...],
    reg_map: RegisterMap,
    spec: DeviceSpec,
) -> _Source:
    kinds = dict(inputs)
    sim = SimDevice(
        key=key,
        model=model,
        side=device.side or 1,
        inputs=tuple(kinds.get(n, "electricity") for n in range(1, model.pulse_inputs + 1)),
        quality=spec.quality,
    )
    ids = tuple(q.id for q in reg_map.quantities)
    if device.position is not None and device.concentrator:
        pulse_id = ids[0] if ids else PULSE_ELECTRICITY_ID
        assert pulse_id in (PULSE_ELECTRICITY_ID, PULSE_INDEX_ID)
        return _Source(device.id, sim, ids, f"input{device.position}_index", pulse_id)
    return _Source(device.id, sim, ids)


def samples(
    srcs: list[_Source], start: float, end: float, poll: float, seed: int, offset: float
) -> Iterator[Sample]:
    """The samples of every source every ``poll`` seconds in ``[start, end)``."""
    ts = start
    while ts < end:
        cache: dict[tuple[str, int], dict[str, Value]] = {}
        for src in srcs:
            key = (src.sim.key, src.sim.side)
            values = cache.get(key)
            if values is None:
                values = cache[key] = device_values(src.sim, ts, seed, utc_offset_s=offset)
            if src.pulse_input is not None:
                shown = {src.pulse_id: values.get(src.pulse_input)}
            else:
                shown = {qid: values.get(qid) for qid in src.ids}
            yield Sample(src.device_id, ts, shown)
        ts += poll


async def run(args: argparse.Namespace) -> int:
    if not 0 < args.days <= 3660 or not 1 <= args.poll <= SLOT_SECONDS:
        raise UserError(_("--days must be in (0, 3660] and --poll in [1, 600]"))
    config = read_config(config_path(args))
    with hold_box(config.data_dir):  # ews demo hands its own lock to its backfill
        count, devices = await seed_history(
            config,
            args.days,
            site=args.site,
            poll=args.poll,
            seed=args.seed,
            backfill=args.backfill,
            progress=sys.stderr,
        )
    print(
        _("{samples} samples of {devices} devices recorded over {days} days").format(
            samples=count, devices=devices, days=args.days
        )
    )
    return 0


async def seed_history(
    config: Config,
    days: float,
    *,
    site: str | None = None,
    poll: float = 300.0,
    seed: int = 0,
    backfill: bool = False,
    progress: TextIO | None = None,
) -> tuple[int, int]:
    """Record ``days`` of simulated samples; the number of samples and of devices.

    Up to now, going on from the stored indexes; with ``backfill``, up to the oldest stored
    slot, joining it: that slot keeps its stored reading and measures, and the energy from
    the last backfilled reading to it is counted in the same transaction as that reading.
    """
    async with open_installation(config) as service:
        if site and not service.current.devices:
            await service.import_document(to_document(load_site(site)))
        inst, catalog = service.current, service.catalog
    if not inst.devices:
        raise UserError(_("the installation has no devices: give --site demo"))
    srcs = sources(inst, catalog, site_quality(site) if site else None)
    async with open_energy_store(config) as store:
        repo = AggregatesRepo(store.db)
        if backfill:
            oldest = await repo.first_slot()
            if oldest is None:
                raise UserError(_("--backfill: the store has no history to join"))
            end: float = oldest * SLOT_SECONDS
        else:
            end = time.time() // SLOT_SECONDS * SLOT_SECONDS
        start = end - days * 86400
        line = ProgressLine(_("seeding"), int(end - start), progress) if progress else None
        count = 0

        # Each device's own plausibility limit, as the live recorder has (a gas meter's is
        # not electricity's).
        def max_rate(device_id: int) -> float:
            return device_max_rate(inst, catalog, device_id)

        points = {d.id for d in charging_points(inst, catalog)}
        chargers = [s for s in srcs if s.device_id in points]
        if not backfill:
            recorder = Recorder(None, repo, max_rate=max_rate)
            await recorder.load()
            found = samples(srcs, start, end, poll, seed, _local_offset())
            shown = None if line is None else (lambda ts: line.update(int(ts - start)))
            count = await _record(recorder, found, shown)
            # The chargers' sessions of those days, so the Green'Up page has a history.
            await seed_sessions(
                store.db,
                inst,
                catalog,
                samples(chargers, start, end, poll, seed, _local_offset()),
                config,
            )
        else:
            # Newest day first, each one transaction ending where the newer history starts
            # and joining it: stopped at any point, the history is whole back to where it
            # got, and a new run goes on from there.
            ids = [src.device_id for src in srcs]
            chunk_end: float = end
            while chunk_end > start:
                chunk_start = max(start, chunk_end - BACKFILL_CHUNK_S)
                joined = int(chunk_end // SLOT_SECONDS)
                newer = dict(await repo.readings(joined, joined + 1, ids)) if ids else {}
                found = samples(srcs, chunk_start, chunk_end, poll, seed, _local_offset())
                recorder = Recorder(None, JoiningRepo(store.db, newer, max_rate), max_rate=max_rate)
                count += await _record(recorder, found, every=math.inf)
                chunk_end = chunk_start
                if line is not None:
                    line.update(int(end - chunk_start))
            # The chargers' sessions of the backfilled days (ended before the joined history).
            await seed_sessions(
                store.db,
                inst,
                catalog,
                samples(chargers, start, end, poll, seed, _local_offset()),
                config,
                before=end,
            )
        if line is not None:
            line.done()
    return count, len(srcs)


class JoiningRepo(AggregatesRepo):
    """The backfill's writer: older history that ends where stored history begins.

    ``newer``: each device's stored reading in the first slot of the newer history. The
    batch that writes a device's reading of the slot just before it also counts the energy
    from that reading to the stored one (as the live recorder would have), so the joined
    slot keeps its own reading and measures, and no energy is lost or counted twice.
    """

    def __init__(
        self,
        db: Database,
        newer: dict[int, Reading],
        max_rate: Callable[[int], float] = lambda _device: MAX_RATE["electricity"],
    ) -> None:
        super().__init__(db)
        self._newer = newer
        self._max_rate = max_rate

    async def write(self, batch: Batch) -> None:
        for device_id, reading in batch.readings:
            stored = self._newer.get(device_id)
            if stored is None or reading.slot != stored.slot - 1:
                continue
            _state, produced = track(Tracker(self._max_rate(device_id), reading), stored)
            if produced:
                batch.rollups.append((device_id, rollup(produced)))
        await super().write(batch)


async def _record(
    recorder: Recorder,
    found: Iterator[Sample],
    shown: Callable[[float], None] | None = None,
    *,
    every: float = FLUSH_EVERY,
) -> int:
    """Feed ``found`` (in time order) to ``recorder``, a transaction per ``every`` seconds
    of samples (6 hours; ``math.inf``: one at the end); count."""
    count = 0
    next_flush: float | None = None
    for sample in found:
        if next_flush is None:
            next_flush = sample.ts + every
        if sample.ts >= next_flush:
            await recorder.flush(int(sample.ts // SLOT_SECONDS))
            next_flush += every
            if shown is not None:
                shown(sample.ts)
        recorder.ingest(sample)
        count += 1
    await recorder.flush()
    return count
