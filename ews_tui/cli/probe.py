"""``ews probe``: one read of one device, as a table or as one JSON object.

    ews probe (--tcp HOST:PORT | --rtu DEVICE [--baud 19200 --parity E --stopbits 1])
              --address A (--model REF | --generic FC:REGHEX:WORDS:MULT) [--json] [--timeout MS]

The probe opens its own connection: it is for a bench or a bus the box is not polling.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Mapping

from ews_tui.cli.errors import UserError
from ews_tui.domain.catalog import RegisterMap, builtin_catalog, generic_map
from ews_tui.domain.errors import CatalogError
from ews_tui.i18n import N_, _
from ews_tui.modbus.device_reader import DeviceReader, DeviceTarget, bus_for_map
from ews_tui.modbus.planner import BusParams
from ews_tui.modbus.serial_line import PARITIES
from ews_tui.modbus.transport import BusTransport, Endpoint, Failure, RtuEndpoint, TcpEndpoint

Values = Mapping[str, float | str | None]
ASSUMED_NOTE = N_("(assumed register map)")


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(_("{text!r} is not HOST:PORT").format(text=text))
    return host.strip("[]"), int(port)


def _address(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 247:
        raise argparse.ArgumentTypeError(
            _("{text!r} is not a Modbus address (1..247)").format(text=text)
        )
    return int(text)


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
        detail = str(exc) if isinstance(exc, CatalogError) else _("expected FC:REGHEX:WORDS:MULT")
        raise argparse.ArgumentTypeError(f"{text!r}: {detail}") from None


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "probe",
        help="read one device once and print its values",
        description="Read every quantity of one device once, over Modbus TCP or RTU, "
        "and print them as a table (or one JSON object with --json).",
    )
    bus = parser.add_mutually_exclusive_group(required=True)
    bus.add_argument("--tcp", type=_host_port, metavar="HOST:PORT", help="a Modbus TCP gateway")
    bus.add_argument("--rtu", metavar="DEVICE", help="a serial port (Modbus RTU)")
    parser.add_argument("--baud", type=int, default=19200, help="RTU speed (default 19200)")
    parser.add_argument("--parity", type=_parity, default="E", help="N, E or O (default E)")
    parser.add_argument("--stopbits", type=int, choices=(1, 2), default=1)
    parser.add_argument("--address", type=_address, required=True, metavar="A")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--model", metavar="REF", help="catalog reference or alias (SDM630)")
    what.add_argument(
        "--generic", type=_generic, metavar="FC:REGHEX:WORDS:MULT",
        help="a generic meter's active energy register (e.g. 3:C65C:2:1)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--timeout", type=int, default=1000, metavar="MS", help="answer timeout (default 1000)"
    )
    parser.set_defaults(run=run_probe)


def _target(args: argparse.Namespace) -> DeviceTarget:
    if args.generic is not None:
        reg_map: RegisterMap = args.generic
        return DeviceTarget(0, args.address, reg_map, "generic", reg_map.provenance)
    catalog = builtin_catalog()
    model = catalog.find(args.model)
    reg_map_or_none = catalog.register_map(model) if model is not None else None
    if model is None or reg_map_or_none is None:
        raise UserError(_('unknown model "{model}"').format(model=args.model))
    return DeviceTarget(0, args.address, reg_map_or_none, model.ref, model.provenance)


def _endpoint(args: argparse.Namespace) -> tuple[Endpoint, BusParams]:
    timeout = max(args.timeout, 1) / 1000
    if args.tcp is not None:
        host, port = args.tcp
        return TcpEndpoint(host, port, timeout), BusParams(transport="tcp")
    endpoint = RtuEndpoint(args.rtu, args.baud, args.parity, args.stopbits, timeout)
    return endpoint, BusParams.rtu(args.baud, args.parity, args.stopbits)


async def run_probe(args: argparse.Namespace) -> int:
    target = _target(args)
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
        raise UserError(outcome.message.render(_))
    if args.json:
        print(json.dumps(as_json(target, outcome)))
    else:
        print(as_table(target, outcome))
    return 0


def _number(value: float | str | None) -> float | str | None:
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    return value


def as_json(target: DeviceTarget, values: Values) -> dict[str, object]:
    return {
        "address": target.address,
        "model": target.model,
        "provenance": target.provenance,
        "quantities": {qid: _number(v) for qid, v in values.items()},
    }


def as_table(target: DeviceTarget, values: Values) -> str:
    title = _("address {address}, model {model}").format(address=target.address, model=target.model)
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
