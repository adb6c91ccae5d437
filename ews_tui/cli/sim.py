"""``ews sim``: the device simulator alone (TCP gateways, an RTU bus on a serial port or pty).

``ews sim --tcp 127.0.0.1:1502 --device 1=0 146 68 --device 2=SDM630``
``ews sim --tcp 127.0.0.1:1502 --device 2-1=4 149 18 --device "7-2=0 046 73@0 046 87"``
``ews sim --site demo --rtu pty --tcp 127.0.0.1:15021 --tcp 127.0.0.1:15022 --wire-time``

``--device`` addresses are written as in the device form (see :mod:`ews_tui.sim.args`):
``2-1`` an EMS CX3 module, ``7-2`` a pulse meter on a concentrator input, ``5-2`` a charger
side. ``--config F``: the user's model files of that box's data dir join the catalog.

With ``--site``, the site's Local devices are served on ``--rtu`` and each IP gateway's
devices on the successive ``--tcp`` endpoints (a gateway without one is served on the
address of the site file). ``--rtu pty`` makes a pty pair and prints the path to connect to.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from ews_tui.cli.box import read_config
from ews_tui.cli.errors import UserError
from ews_tui.domain.catalog import Catalog, builtin_catalog
from ews_tui.domain.installation import Installation
from ews_tui.domain.installation_doc import from_document
from ews_tui.domain.rules import RuleContext
from ews_tui.i18n import _
from ews_tui.modbus.serial_line import PARITIES, LineSettings
from ews_tui.sim.args import DeviceArg, device_specs, parse_device_arg
from ews_tui.sim.device import SimError, parse_fault
from ews_tui.sim.server import PtyPair, SimulatedBus, describe, open_pty_pair, site_devices
from ews_tui.sim.values import QUALITIES
from ews_tui.store.user_models import catalog_and_problems


class UsageError(Exception):
    """A bad argument: one line on stderr and exit status 2."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "sim",
        help=_("simulate devices over Modbus TCP and RTU"),
        description=_(
            "Serve catalog devices with realistic values over Modbus TCP and RTU, "
            "with optional wire-time emulation and fault injection. Stops on Ctrl-C or SIGTERM."
        ),
    )
    parser.add_argument(
        "--tcp",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help=_("serve a Modbus TCP gateway there (repeatable; port 0: a free port)"),
    )
    parser.add_argument(
        "--rtu", metavar="DEVICE", help=_("serve Modbus RTU on this serial port; 'pty': a new pty")
    )
    parser.add_argument("--baud", type=int, default=19200, help=_("RTU baud rate (19200)"))
    parser.add_argument("--parity", default="E", help=_("RTU parity N, E or O (E)"))
    parser.add_argument("--stopbits", type=int, default=1, help=_("RTU stop bits 1 or 2 (1)"))
    parser.add_argument(
        "--device",
        action="append",
        default=[],
        metavar="ADDR=REF",
        help=_(
            "serve the catalog model REF at ADDR (repeatable): 12=REF; 2-1=REF (EMS CX3 "
            "device-interface); 7-2=REF@CONCENTRATOR (pulse meter address-position); 5-2=REF "
            "(charger side); 6=GENERIC:FC:REGHEX:WORDS:MULT (generic meter)"
        ),
    )
    parser.add_argument(
        "--config",
        metavar="F",
        default=None,
        help=_("a box's settings: the model files of its data dir join the catalog"),
    )
    parser.add_argument(
        "--site", metavar="NAME|FILE", help=_("serve a site: 'demo' or a TOML file")
    )
    parser.add_argument(
        "--wire-time",
        action="store_true",
        help=_("delay each answer by its time on an RS485 wire at the baud rate, plus turnaround"),
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="ADDR=KIND",
        help=_("inject a fault: silent, crc, exception or slow:MS (repeatable)"),
    )
    parser.add_argument(
        "--quality",
        action="append",
        default=[],
        metavar="ADDR=SCENARIO",
        help=_("the supply's power quality at a device: {scenarios} (repeatable)").format(
            scenarios=", ".join(QUALITIES)
        ),
    )
    parser.add_argument("--seed", type=int, default=0, help=_("seed of the simulated values (0)"))
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class _Plan:
    tcp: tuple[tuple[str, int], ...]
    devices: tuple[DeviceArg, ...]
    faults: tuple[tuple[int, str], ...]
    settings: LineSettings | None
    quality: tuple[tuple[int, str], ...] = ()


def _parse(args: argparse.Namespace) -> _Plan:
    tcp = tuple(_endpoint(text) for text in args.tcp)
    parity = PARITIES.get(args.parity.upper() if len(args.parity) == 1 else args.parity.lower())
    if parity is None:
        raise UsageError(_('--parity "{value}" is not N, E or O').format(value=args.parity))
    if args.stopbits not in (1, 2):
        raise UsageError(_("--stopbits {value} is not 1 or 2").format(value=args.stopbits))
    if args.baud <= 0:
        raise UsageError(_("--baud {value} is not a baud rate").format(value=args.baud))
    settings = LineSettings(args.rtu, args.baud, parity, args.stopbits) if args.rtu else None
    if not tcp and settings is None and not args.site:
        raise UsageError(_("nothing to serve on: give --tcp HOST:PORT, --rtu DEVICE or --site"))
    if args.site and args.device:
        raise UsageError(_("--device and --site do not go together"))
    if not args.site and not args.device:
        raise UsageError(_("no device: give --device ADDR=REF or --site demo"))
    try:
        devices = tuple(parse_device_arg(text) for text in args.device)
    except SimError as error:
        raise UsageError(f"--device {error}") from None
    faults = []
    for text in args.fault:
        address, sep, kind = text.partition("=")
        if not sep or not address.strip().isdigit():
            raise UsageError(_('--fault "{value}" is not ADDR=KIND').format(value=text))
        try:
            parse_fault(kind)
        except SimError as error:
            raise UsageError(f"--fault {error}") from None
        faults.append((int(address), kind))
    quality = []
    for text in args.quality:
        address, sep, scenario = text.partition("=")
        if not sep or not address.strip().isdigit():
            raise UsageError(_('--quality "{value}" is not ADDR=SCENARIO').format(value=text))
        if scenario not in QUALITIES:
            raise UsageError(
                _('--quality "{value}": the scenario is one of {known}').format(
                    value=text, known=", ".join(QUALITIES)
                )
            )
        quality.append((int(address), scenario))
    return _Plan(tcp, devices, tuple(faults), settings, tuple(quality))


def _endpoint(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise UsageError(_('--tcp "{value}" is not HOST:PORT').format(value=text))
    return host.strip("[]"), int(port)


def sim_catalog(config: str | None) -> Catalog:
    """The built-in catalog, with the user models of the box of ``config`` if given."""
    if config is None:
        return builtin_catalog()
    catalog, problems = catalog_and_problems(read_config(Path(config)).data_dir)
    for problem in problems:
        print(_("warning: {problem}").format(problem=problem.render(_)), file=sys.stderr)
    return catalog


def _site_document(name: str) -> dict[str, Any]:
    builtin = resources.files("ews_tui") / "data" / "sites" / f"{name}.toml"
    try:
        text = builtin.read_text(encoding="utf-8") if builtin.is_file() else Path(name).read_text()
        return tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise UserError(_("site {name}: {error}").format(name=name, error=error)) from None


def site_quality(name: str) -> dict[str, str]:
    """The power-quality scenario of the site's devices, by name: its ``[simulation]``
    table's ``quality`` (``{ "Machine tools" = "harmonics" }``); each one known."""
    table = _site_document(name).get("simulation", {}).get("quality", {})
    for device, scenario in table.items():
        if scenario not in QUALITIES:
            raise UserError(
                _('site {name}: device "{device}": quality "{quality}" is not one of {known}')
                .format(name=name, device=device, quality=scenario, known=", ".join(QUALITIES))
            )  # fmt: skip
    return {str(k): str(v) for k, v in table.items()}


def load_site(name: str, catalog: Catalog | None = None) -> Installation:
    """The site ``name`` (a site of the package, as ``demo``, or a TOML file), validated.
    Its ``[simulation]`` table is the simulator's (:func:`site_quality`), not the box's."""
    doc = _site_document(name)
    doc.pop("simulation", None)
    inst, violations = from_document(doc, RuleContext(catalog or builtin_catalog()))
    if violations:
        raise UserError(_("site {name}: {error}").format(name=name, error=violations[0].render(_)))
    return inst


async def serve_site(
    bus: SimulatedBus,
    inst: Installation,
    tcp: tuple[tuple[str, int], ...] = (),
    rtu: str | int | None = None,
    settings: LineSettings | None = None,
    wire_time: bool = False,
    quality: Mapping[str, str] | None = None,
) -> Installation:
    """Serve ``inst``: Local on ``rtu``, each IP gateway on the next of ``tcp`` (else on its
    own address), each device with its ``quality`` scenario (by name). The installation comes
    back with each gateway's port as served."""
    specs = site_devices(inst, bus.catalog, quality)
    gateways = []
    remaining = list(tcp)
    for gw in inst.gateways:
        if gw.is_local:
            if rtu is not None and specs.get(gw.id):
                await bus.serve_rtu(
                    rtu, settings or LineSettings(str(rtu)), specs[gw.id], wire_time=wire_time
                )
            gateways.append(gw)
            continue
        host, port = remaining.pop(0) if remaining else (gw.ip, gw.port)
        endpoint = await bus.serve_tcp(host, port, specs.get(gw.id, ()), wire_time=wire_time)
        gateways.append(replace(gw, port=endpoint.port or gw.port))
    return inst.with_(gateways=tuple(gateways))


async def run(args: argparse.Namespace) -> int:
    try:
        plan = _parse(args)
    except UsageError as error:
        print(f"ews sim: {error}", file=sys.stderr)
        return 2
    catalog = sim_catalog(args.config)
    inst = load_site(args.site, catalog) if args.site else None
    try:
        devices = device_specs(plan.devices, catalog) if inst is None else ()
    except SimError as error:
        raise UserError(str(error)) from None
    by_address = dict(plan.quality)
    devices = tuple(replace(d, quality=by_address.get(d.address, d.quality)) for d in devices)
    quality = site_quality(args.site) if args.site else {}
    if inst is not None:  # --quality ADDR on a site: the devices at that address
        quality |= {d.name: by_address[d.address] for d in inst.devices if d.address in by_address}
    pair: PtyPair | None = None
    if args.rtu == "pty":
        pair = open_pty_pair()
    rtu: str | int | None = pair.server_fd if pair else args.rtu
    try:
        async with SimulatedBus(catalog, seed=args.seed) as bus:
            try:
                if inst is not None:
                    await serve_site(
                        bus, inst, plan.tcp, rtu, plan.settings, args.wire_time, quality
                    )
                else:
                    for host, port in plan.tcp:
                        await bus.serve_tcp(host, port, devices, wire_time=args.wire_time)
                    if rtu is not None and plan.settings is not None:
                        await bus.serve_rtu(rtu, plan.settings, devices, wire_time=args.wire_time)
                for address, kind in plan.faults:
                    bus.set_fault(address, parse_fault(kind))
            except (SimError, OSError) as error:
                raise UserError(str(error)) from None
            for endpoint, line in zip(bus.endpoints, describe(bus.endpoints), strict=True):
                if pair is not None and endpoint.rtu:
                    line = f"rtu {pair.path}: " + line.split(": ", 1)[1]
                print(_("ews sim: serving {what}").format(what=line), file=sys.stderr, flush=True)
            if inst is not None and rtu is None and inst.devices_of(inst.local.id):
                note = _("ews sim: the site's Local devices are not served (no --rtu)")
                print(note, file=sys.stderr, flush=True)
            if pair is not None:
                print(
                    _("ews sim: connect to {path}").format(path=pair.path),
                    file=sys.stderr,
                    flush=True,
                )
            await _until_stopped()
    finally:
        if pair is not None:
            pair.close()
    return 0


async def _until_stopped() -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
