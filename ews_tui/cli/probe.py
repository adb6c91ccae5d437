"""``ews probe``: one read of one device, as a table or as one JSON object.

    ews probe (--tcp HOST:PORT | --rtu DEVICE [--baud 19200 --parity E --stopbits 1])
              --address A (--model REF [--concentrator REF] | --generic FC:REGHEX:WORDS:MULT)
              [--config F] [--json] [--timeout MS]

The address is written as in the device form: ``12``; ``2-1`` for an EMS CX3 module (device
2 on interface 1: Modbus unit 12); ``7-2`` for a pulse meter on input 2 of the concentrator
at 7 (``--concentrator`` gives the concentrator's model); ``5-2`` for side 2 of a two-sided
charging station at 5. The device is read exactly as the box polls it (same register map,
same rules). ``--config``: the user's model files of that box's data dir join the catalog.

The probe opens its own connection: it is for a bench or a bus the box is not polling.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from ews_tui.cli.box import DEFAULT_CONFIG, read_config
from ews_tui.cli.errors import UserError
from ews_tui.domain.catalog import Catalog, RegisterMap, builtin_catalog, generic_map
from ews_tui.domain.edits import device_problems
from ews_tui.domain.errors import CatalogError
from ews_tui.domain.installation import Device, Gateway, Installation
from ews_tui.domain.installation_doc import parse_address
from ews_tui.domain.rules import RuleContext
from ews_tui.i18n import N_, _
from ews_tui.modbus.device_reader import (
    DeviceMapError,
    DeviceReader,
    DeviceTarget,
    bus_for_map,
    device_target,
)
from ews_tui.modbus.planner import BusParams
from ews_tui.modbus.serial_line import PARITIES
from ews_tui.modbus.transport import BusTransport, Endpoint, Failure, RtuEndpoint, TcpEndpoint
from ews_tui.store.user_models import catalog_and_problems
from ews_tui.ui.test_answer import device_address, error_text

Values = Mapping[str, float | str | None]
ASSUMED_NOTE = N_("(unverified register map)")
ADDRESS_TEXT = re.compile(r"\d{1,3}(-\d{1,3})?")
# The rules of the device form that concern reaching the device (not its name, phase...),
# with the option that answers each.
REACH_FIELDS = {
    "address": "--address",
    "position": "--address ADDRESS-POSITION",
    "concentrator": "--concentrator REF",
    "side": "--address ADDRESS-SIDE",
}
BENCH = Installation(gateways=(Gateway(1, "Local", "127.0.0.1"),))


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(_("{text!r} is not HOST:PORT").format(text=text))
    return host.strip("[]"), int(port)


def _address(text: str) -> str:
    text = text.strip()
    if not ADDRESS_TEXT.fullmatch(text):
        raise argparse.ArgumentTypeError(
            _("{text!r} is not a Modbus address (12, 2-1, 7-2...)").format(text=text)
        )
    return text


def _parity(text: str) -> str:
    letter = PARITIES.get(text) or PARITIES.get(text.upper()) or PARITIES.get(text.lower())
    if letter is None:
        raise argparse.ArgumentTypeError(_("{text!r} is not N, E or O").format(text=text))
    return letter


def _generic(text: str) -> RegisterMap:
    parts = text.split(":")
    try:
        if len(parts) != 4:
            raise ValueError(text)
        fc, register, words, mult = int(parts[0]), int(parts[1], 16), int(parts[2]), float(parts[3])
        return generic_map(fc, register, words, mult)
    except (ValueError, CatalogError) as exc:
        detail = (
            exc.render(_) if isinstance(exc, CatalogError) else _("expected FC:REGHEX:WORDS:MULT")
        )
        raise argparse.ArgumentTypeError(f"{text!r}: {detail}") from None


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "probe",
        help=_("read one device once and print its values"),
        description=_(
            "Read every quantity of one device once, over Modbus TCP or RTU, "
            "and print them as a table (or one JSON object with --json)."
        ),
    )
    bus = parser.add_mutually_exclusive_group(required=True)
    bus.add_argument("--tcp", type=_host_port, metavar="HOST:PORT", help=_("a Modbus TCP gateway"))
    bus.add_argument("--rtu", metavar="DEVICE", help=_("a serial port (Modbus RTU)"))
    parser.add_argument("--baud", type=int, default=19200, help=_("RTU speed (default 19200)"))
    parser.add_argument("--parity", type=_parity, default="E", help=_("N, E or O (default E)"))
    parser.add_argument("--stopbits", type=int, choices=(1, 2), default=1)
    parser.add_argument(
        "--address", type=_address, required=True, metavar="A",
        help=_(
            "12; 2-1 (EMS CX3 device-interface); 7-2 (pulse meter address-position); "
            "5-2 (charging station address-side)"
        ),
    )  # fmt: skip
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--model", metavar="REF", help=_("catalog reference or alias (SDM630)"))
    parser.add_argument(
        "--concentrator", metavar="REF", help=_("a pulse meter's concentrator model (0 046 87)")
    )
    parser.add_argument(
        "--config", metavar="F", default=None,
        help=_(
            "the box's settings: its user model files join the catalog "
            "(default: $EWS_CONFIG, else {path} when it exists)"
        ).format(path=DEFAULT_CONFIG),
    )  # fmt: skip
    what.add_argument(
        "--generic", type=_generic, metavar="FC:REGHEX:WORDS:MULT",
        help=_("a generic meter's active energy register (e.g. 3:C65C:2:1)"),
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help=_("print one JSON object"))
    parser.add_argument(
        "--timeout", type=int, default=1000, metavar="MS", help=_("answer timeout (default 1000)")
    )
    parser.set_defaults(run=run_probe)


def probe_catalog(config: str | None) -> Catalog:
    """The built-in catalog, with the user models of the box of ``config`` (explicit,
    ``$EWS_CONFIG`` or the default file when it exists)."""
    path = config or os.environ.get("EWS_CONFIG")
    if path is None:
        if not DEFAULT_CONFIG.is_file():
            return builtin_catalog()
        path = str(DEFAULT_CONFIG)
    catalog, problems = catalog_and_problems(read_config(Path(path)).data_dir)
    for problem in problems:
        print(_("warning: {problem}").format(problem=problem.render(_)), file=sys.stderr)
    return catalog


def probe_device(
    address: str, model_ref: str, concentrator: str | None, catalog: Catalog
) -> Device:
    """The device to read, as the device form would make it; UserError when it is not one."""
    model = catalog.find(model_ref)
    if model is None:
        raise UserError(_('unknown model "{model}"').format(model=model_ref))
    first, _sep, second = address.partition("-")
    if model.sides == 2:  # address-side
        parsed = parse_address(first)
        side = int(second) if second else None
    else:
        parsed = parse_address(address, model.addressing)
        side = None
    if parsed is None:
        raise UserError(
            _('"{text}" is not an address of model {model}: give its Modbus address').format(
                text=address, model=model.ref
            )
        )
    device = Device(
        0, 1, model.ref, parsed.address, interface=parsed.interface,
        concentrator=concentrator, position=parsed.position, side=side,
    )  # fmt: skip
    ctx = RuleContext(catalog)
    problems = [v for v in device_problems(BENCH, device, ctx) if v.field in REACH_FIELDS]
    if problems:
        raise UserError(
            "; ".join(f"{v.message.render(_)} ({REACH_FIELDS[v.field]})" for v in problems)
        )
    return device


def _target(args: argparse.Namespace, catalog: Catalog) -> tuple[DeviceTarget, Device]:
    if args.generic is not None:
        reg_map: RegisterMap = args.generic
        parsed = parse_address(args.address)
        if parsed is None or not 1 <= parsed.address <= 247:
            raise UserError(
                _("{text!r} is not a Modbus address (1..247)").format(text=args.address)
            )
        target = DeviceTarget(0, parsed.address, reg_map, "generic", reg_map.provenance)
        return target, Device(0, 1, "", parsed.address)
    device = probe_device(args.address, args.model, args.concentrator, catalog)
    try:
        return device_target(device, catalog), device
    except DeviceMapError as error:
        raise UserError(error.message.render(_)) from None


def _endpoint(args: argparse.Namespace) -> tuple[Endpoint, BusParams]:
    timeout = max(args.timeout, 1) / 1000
    if args.tcp is not None:
        host, port = args.tcp
        return TcpEndpoint(host, port, timeout), BusParams(transport="tcp")
    endpoint = RtuEndpoint(args.rtu, args.baud, args.parity, args.stopbits, timeout)
    return endpoint, BusParams.rtu(args.baud, args.parity, args.stopbits)


async def run_probe(args: argparse.Namespace) -> int:
    catalog = builtin_catalog() if args.generic is not None else probe_catalog(args.config)
    target, device = _target(args, catalog)
    endpoint, bus = _endpoint(args)
    transport = BusTransport(endpoint)
    failure = await transport.connect()
    if failure is not None:
        raise UserError(failure.message.render(_))
    try:
        reader = DeviceReader(target, bus_for_map(bus, target.reg_map))
        outcome = await reader.read(transport.read)
    finally:
        await transport.close()
    if isinstance(outcome, Failure):
        raise UserError(error_text(outcome.message, device))
    if args.json:
        print(json.dumps(as_json(target, outcome, device)))
    else:
        print(as_table(target, outcome, device))
    return 0


def _number(value: float | str | None) -> float | str | None:
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    return value


def as_json(target: DeviceTarget, values: Values, device: Device) -> dict[str, object]:
    return {
        "address": target.address,
        "address_text": device.address_text(),
        "model": target.model,
        "provenance": target.provenance,
        "quantities": {qid: _number(v) for qid, v in values.items()},
    }


def as_table(target: DeviceTarget, values: Values, device: Device) -> str:
    title = _("address {address}, model {model}").format(
        address=device_address(device), model=target.model
    )
    if target.provenance == "assumed":
        title += " " + _(ASSUMED_NOTE)
    units = {q.id: q.unit for q in target.reg_map.quantities}
    rows = [(qid, _cell(v), units.get(qid, "")) for qid, v in values.items()]
    header = (_("quantity"), _("value"), _("unit"))
    w0 = max(len(header[0]), *(len(r[0]) for r in rows)) if rows else len(header[0])
    w1 = max(len(header[1]), *(len(r[1]) for r in rows)) if rows else len(header[1])
    lines = [title, f"{header[0]:<{w0}}  {header[1]:>{w1}}  {header[2]}"]
    lines += [f"{q:<{w0}}  {v:>{w1}}  {u}".rstrip() for q, v, u in rows]
    return "\n".join(lines)


def _cell(value: float | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value)
