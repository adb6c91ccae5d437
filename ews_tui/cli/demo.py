"""``ews demo``: a living installation in one command.

Simulators for the demo site (the Local RS485 bus on a pty, two IP gateways on loopback),
the whole runtime on a temp data dir (or ``--data-dir``), and the UI in this terminal. The
demo shows alarms from the start: a threshold on the site's power and a device that goes
silent now and then.
``--headless S`` runs the same box without the UI for S seconds and prints what it read.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path

from ews_tui import heap
from ews_tui.cli.box import hold_box, open_installation
from ews_tui.cli.errors import UserError
from ews_tui.cli.sim import load_site, serve_site, site_quality
from ews_tui.config import SshUser, apply_changes, default_config, save_config
from ews_tui.domain.alarm_sources import Threshold, site_members
from ews_tui.domain.alarms import Severity
from ews_tui.domain.auth import DEFAULT_SCRYPT, ScryptParams
from ews_tui.domain.costs import CostRule, CostSettings, EnergyCosts, Tariff, TimeBand
from ews_tui.domain.installation import Device, Gateway, Installation
from ews_tui.domain.installation_doc import to_document
from ews_tui.domain.periods import SLOT_SECONDS
from ews_tui.file_modes import make_private_dir
from ews_tui.i18n import LANGUAGES, _
from ews_tui.logs import log_to_data_dir
from ews_tui.modbus.serial_line import LineSettings
from ews_tui.runtime import Runtime
from ews_tui.services.alarms import AlarmEngine
from ews_tui.services.box import running_box
from ews_tui.services.consumption import ConsumptionService
from ews_tui.services.installation import InstallationService
from ews_tui.services.live import LiveValues
from ews_tui.sim.device import Fault
from ews_tui.sim.rtu import open_pty_pair
from ews_tui.sim.server import Endpoint, SimError, SimulatedBus
from ews_tui.store.aggregates_repo import AggregatesRepo
from ews_tui.store.datadir_lock import DataDirLock
from ews_tui.store.db import DATABASE_FILE, open_database

CONFIG_FILE = "config.toml"
DEMO_SSH_USER = "demo"  # also its password: the demo listens on 127.0.0.1 only
# Alarms from the start: a threshold just under the site's power at start, and a device that
# goes silent now and then (from FLAKY_FIRST_S after the start, FLAKY_SILENT_S every
# FLAKY_PERIOD_S).
SITE_POWER_THRESHOLD = "Site power"
THRESHOLD_RATIO = 0.9
THRESHOLD_DELAY_S = 5.0
FLAKY_DEVICE = "Machine tools"
FLAKY_FIRST_S = 20.0
FLAKY_SILENT_S = 40.0
FLAKY_PERIOD_S = 120.0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "demo",
        help=_("simulated devices, the whole runtime and the UI in this terminal"),
        description=_(
            "Start simulators for a demo site, the whole runtime on a temp data "
            "dir and the UI here. Log in with PIN 88888 and PUK 00000 8888 00000."
        ),
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help=_("keep the demo's data there (default: a new temp dir)"),
    )
    parser.add_argument(
        "--language",
        choices=sorted(LANGUAGES),
        default=None,
        help=_("UI language of this session (default: the box's, en)"),
    )
    parser.add_argument(
        "--no-wire-time",
        action="store_true",
        help=_("answer at once instead of at RS485 speed (19200 bps)"),
    )
    parser.add_argument(
        "--headless",
        type=float,
        metavar="S",
        help=_("no UI: run S seconds, print the live values, exit"),
    )
    parser.add_argument(
        "--history-days",
        type=int,
        default=365,
        metavar="N",
        help=_(
            "on a new data dir, N days of simulated history: the last two recorded "
            "before the UI starts, the rest in the background (default 365; 0: none)"
        ),
    )
    parser.add_argument(
        "--ssh-port",
        type=int,
        metavar="N",
        help=_("serve SSH on 127.0.0.1:N as well (user {user}, password {user})").format(
            user=DEMO_SSH_USER
        ),
    )
    parser.set_defaults(run=run)


@asynccontextmanager
async def demo_box(
    data_dir: Path, *, wire_time: bool = True, scrypt: ScryptParams = DEFAULT_SCRYPT
) -> AsyncIterator[Runtime]:
    """The demo site served by simulators and the box polling it, both in this loop.

    ``scrypt``: the cost of the PIN hashes (tests pass a cheap one).
    """
    site = load_site("demo")
    pair = open_pty_pair()
    try:
        async with SimulatedBus() as bus:
            served = await serve_site(
                bus,
                site,
                tcp=tuple(("127.0.0.1", 0) for g in site.gateways if not g.is_local),
                rtu=pair.server_fd,
                settings=LineSettings(pair.path, 19200, "E", 1),
                wire_time=wire_time,
                quality=site_quality("demo"),
            )
            config = apply_changes(default_config(data_dir), {"rs485.port": pair.path}, data_dir)
            config_path = data_dir / CONFIG_FILE
            save_config(config, config_path)
            # The gateways' ports are new each run: (re)import the site as served before the
            # pollers start (else they first poll the stored ports: false comm errors);
            # objects keep their ids by name, so a kept --data-dir keeps its history.
            async with open_installation(config) as installation:
                await installation.import_document(to_document(served))
            async with running_box(config_path, config, scrypt=scrypt) as rt:
                consumption = rt.get(ConsumptionService)
                if not any(page.rules for page in consumption.costs.energies):
                    await consumption.save_costs(demo_costs())
                await demo_alarms(rt, bus, served)
                yield rt
    finally:
        pair.close()


async def demo_alarms(rt: Runtime, bus: SimulatedBus, served: Installation) -> None:
    """The demo's alarms: a threshold on the site's power (the devices the site's
    consumption total counts, :func:`~ews_tui.domain.alarm_sources.site_members`), set just
    under the power they give now (raised a few seconds after the start), and a device of the
    Workshop gateway that goes silent now and then (its communication error, then its end;
    a sub-meter the site's total leaves out: a silent meter of the total would leave the
    site's power unknown, and the threshold neither raised nor cleared meanwhile)."""
    catalog = rt.get(InstallationService).catalog
    power = _site_power(bus, served, site_members(served, catalog, "p"))
    limit = round(max(power * THRESHOLD_RATIO, 1.0), 1) if power is not None else 10.0
    await rt.get(AlarmEngine).save_threshold(
        Threshold(
            0,
            SITE_POWER_THRESHOLD,
            "site",
            None,
            "p",
            ">",
            limit,
            hysteresis=round(limit * 0.02, 1),
            delay_s=THRESHOLD_DELAY_S,
            severity=Severity.WARNING,
        )
    )
    flaky = next((d for d in served.devices if d.name == FLAKY_DEVICE), None)
    gateway = served.gateway(flaky.gateway_id) if flaky is not None else None
    endpoint = _endpoint_of(bus, gateway) if gateway is not None else None
    if flaky is not None and endpoint is not None:
        rt.spawn(_flaky(endpoint, flaky.address), name="demo-flaky-device")


def _endpoint_of(bus: SimulatedBus, gateway: Gateway) -> Endpoint | None:
    """The simulator serving ``gateway``: the pty for Local, the TCP port for the others."""
    for ep in bus.endpoints:
        if (ep.path is not None) if gateway.is_local else (ep.port == gateway.port):
            return ep
    return None


def _site_power(bus: SimulatedBus, served: Installation, members: Iterable[Device]) -> float | None:
    """The sum of the members' active power as the simulators serve it now (None: none)."""
    total: float | None = None
    for device in members:
        gateway = served.gateway(device.gateway_id)
        endpoint = _endpoint_of(bus, gateway) if gateway is not None else None
        if endpoint is None:
            continue
        try:
            value = endpoint.values(device.address, device.side or 1).get("p")
        except SimError:
            continue
        if isinstance(value, int | float):
            total = (total or 0.0) + float(value)
    return total


async def _flaky(endpoint: Endpoint, address: int) -> None:
    """Silence ``address`` on ``endpoint`` for a while, over and over (a simulator fault)."""
    await asyncio.sleep(FLAKY_FIRST_S)
    while True:
        endpoint.set_fault(address, Fault("silent"))
        await asyncio.sleep(FLAKY_SILENT_S)
        endpoint.set_fault(address, None)
        await asyncio.sleep(FLAKY_PERIOD_S - FLAKY_SILENT_S)


async def run(args: argparse.Namespace) -> int:
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="ews-demo-"))
    try:
        make_private_dir(data_dir)
    except OSError as error:
        raise UserError(f"{data_dir}: {error.strerror}") from None
    if not 0 <= args.history_days <= 3660:
        raise UserError(_("--history-days must be in [0, 3660]"))
    log_to_data_dir(data_dir, ui_on_terminal=args.headless is None)
    with hold_box(data_dir) as lock:
        return await _run(args, data_dir, lock)


async def _run(args: argparse.Namespace, data_dir: Path, lock: DataDirLock) -> int:
    async with (
        _history(data_dir, args.history_days, lock),
        demo_box(data_dir, wire_time=not args.no_wire_time) as rt,
        _demo_ssh(rt, args.ssh_port),
    ):
        heap.settle()  # as `ews serve` does once its front ends run
        if args.headless is not None:
            return await _headless(rt, args.headless)
        from ews_tui.frontends.sessions import run_here
        from ews_tui.ui.app import EwsApp
        from ews_tui.ui.session import Session

        language = args.language or rt.config.language
        colors: int | str = 16 if os.environ.get("NO_COLOR") else 256
        app = EwsApp(Session(rt, language=language, colors=colors, origin="demo"))
        crash = await run_here(app)
    if crash is not None:
        raise UserError(crash)
    print(_("ews demo: data kept in {path}").format(path=data_dir), file=sys.stderr)
    return 0


FIRST_DAYS = 2  # recorded before the box starts: the live recorder goes on from them
BACKFILL_LOG = "history-backfill.log"  # the background recording's stderr


def demo_costs() -> CostSettings:
    """The demo's cost pages: French regulated prices of 2025, off-peak 22:00-06:00."""
    every_day = frozenset(range(7))
    off_peak = (
        TimeBand(every_day, 0, 6, Decimal("0.1696")),
        TimeBand(every_day, 22, 24, Decimal("0.1696")),
    )
    since = date(2024, 1, 1)
    return CostSettings(
        (
            EnergyCosts(
                "electricity",
                "EUR",
                (CostRule("Peak / off-peak", (Tariff(since, Decimal("0.2146"), off_peak),)),),
            ),
            EnergyCosts(
                "gas", "EUR", (CostRule("Gas", (Tariff(since, Decimal("1.25")),)),), Decimal("11.2")
            ),
            EnergyCosts("water", "EUR", (CostRule("Water", (Tariff(since, Decimal("4.30")),)),)),
        )
    )


@asynccontextmanager
async def _history(data_dir: Path, days: int, lock: DataDirLock) -> AsyncIterator[None]:
    """On a new data dir: the last days of history now, the older ones in a process of its
    own (the other core), stopped if the demo ends first. On a kept data dir, the older days
    a stopped run left to record (its history goes on from where it stopped).

    The background process records into the demo's own box: it is handed the demo's data dir
    lock (the descriptor, named in its environment) instead of taking one of its own."""
    config_path = data_dir / CONFIG_FILE
    if not days:
        yield
        return
    if (data_dir / DATABASE_FILE).exists():
        older = await _days_left(data_dir, days)
    else:
        from ews_tui.cli.history import seed_history

        config = default_config(data_dir)
        save_config(config, config_path)
        first = min(days, FIRST_DAYS)
        await seed_history(config, first, site="demo")
        older = days - first
    if older < 1:
        yield
        return
    log_path = data_dir / BACKFILL_LOG
    with log_path.open("wb") as log_file:
        backfill = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "ews_tui.cli", "history", "seed"),
            *("--config", str(config_path), "--days", str(older)),
            *("--backfill", "--poll", str(SLOT_SECONDS), "--site", "demo"),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log_file,
            preexec_fn=lambda: os.nice(10),
            pass_fds=(lock.fd,),
            env={**os.environ, **lock.child_env()},
        )
    print(
        _("ews demo: recording {days} more days of history in the background").format(days=older),
        file=sys.stderr,
    )
    stopped = False
    try:
        yield
    finally:
        if backfill.returncode is None:
            stopped = True
            backfill.terminate()  # each batch is one transaction: the store stays whole
        code = await backfill.wait()
        if code and not stopped:
            print(
                _(
                    "ews demo: the background history recording failed (exit {code}), see {log}"
                ).format(code=code, log=log_path),
                file=sys.stderr,
            )


async def _days_left(data_dir: Path, days: int) -> int:
    """Whole days of the ``days`` wanted that the store of a kept data dir lacks."""
    db = await open_database(data_dir / DATABASE_FILE)
    try:
        oldest = await AggregatesRepo(db).first_slot()
    finally:
        await db.close()
    if oldest is None:
        return 0  # no history at all: the live recording is the demo's
    held = (time.time() - oldest * SLOT_SECONDS) / 86400
    return int(days - held)


async def demo_ssh_user() -> SshUser:
    """The demo's SSH user; its password hashed in a thread (scrypt at full cost takes tens
    of milliseconds: in the loop, every bus would wait)."""
    from ews_tui.frontends.ssh import hash_password

    return SshUser(DEMO_SSH_USER, await asyncio.to_thread(hash_password, DEMO_SSH_USER))


@asynccontextmanager
async def _demo_ssh(rt: Runtime, port: int | None) -> AsyncIterator[None]:
    """With ``--ssh-port N``: the SSH front end on 127.0.0.1:N, user and password "demo"."""
    if port is None:
        yield
        return
    from ews_tui.config import HostPort, SshSettings
    from ews_tui.frontends.ssh import SshFrontEnd, SshSetupError

    user = await demo_ssh_user()
    settings = SshSettings(enabled=True, listen=HostPort("127.0.0.1", port), users=(user,))
    front = SshFrontEnd(rt, settings, rt.config.ssh_host_key_file, None)
    try:
        await front.start()
    except SshSetupError as error:
        raise UserError(str(error)) from None
    print(
        _("ews demo: SSH on port {port}: ssh -p {port} {user}@127.0.0.1 (password {user})").format(
            port=front.port, user=DEMO_SSH_USER
        ),
        file=sys.stderr,
    )
    try:
        yield
    finally:
        await front.stop()


async def _headless(rt: Runtime, seconds: float) -> int:
    await asyncio.sleep(seconds)
    inst = rt.get(InstallationService).current
    board = rt.get(LiveValues).snapshot()
    reading = 0
    for device in inst.devices:
        live = board.device(device.id)
        shown = ", ".join(
            f"{qid}={round(value, 3) if isinstance(value, float) else value}"
            for qid, value in list(live.values.items())[:4]
            if value is not None
        )
        state = live.state.value if live.state else "?"
        print(f"{device.display_name():24} {state:12} {shown}")
        reading += bool(shown)
    print(_("{reading} of {total} devices read").format(reading=reading, total=len(inst.devices)))
    return 0 if reading else 1
