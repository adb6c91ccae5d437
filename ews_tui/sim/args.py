"""``ews sim --device`` values: a device at an address written as in the device form.

``ADDR=REF`` where ADDR is ``12``; ``2-1`` for an EMS CX3 module (device 2 on interface 1:
Modbus unit 12); ``7-2`` for a pulse meter on input 2 of the concentrator at 7 (the
concentrator is ``REF@CONCENTRATOR``, or the model of a ``--device 7=CONCENTRATOR``); ``5-2``
for side 2 of a two-sided charging station at 5 (one unit answers for both sides). REF may
be a user model when the catalog has them. The devices are checked with the installation
rules that concern reaching them, then served as a site would be
(:func:`~ews_tui.sim.server.site_devices`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ews_tui.domain.catalog import Catalog
from ews_tui.domain.edits import normalize
from ews_tui.domain.installation import Device, Gateway, GenericRegister, Installation
from ews_tui.domain.installation_doc import parse_address
from ews_tui.domain.rules import RuleContext, validate
from ews_tui.i18n import _
from ews_tui.sim.device import DeviceSpec, SimError, parse_device
from ews_tui.sim.server import site_devices

_ARG = re.compile(r"\s*(\d{1,3}(?:\s*-\s*\d{1,3})?)\s*=(.*)")
# The installation rules that concern reaching a device (not its name, phase, circuit...).
REACH_FIELDS = frozenset({"address", "position", "concentrator", "side"})
_BENCH = Gateway(1, "Local", "127.0.0.1")


@dataclass(frozen=True)
class DeviceArg:
    """One ``--device`` value, parsed but not checked against the catalog yet."""

    text: str
    address: str  # as written: "12", "2-1", "7-2", "5-2"
    ref: str
    concentrator: str | None = None
    generic: GenericRegister | None = None


def parse_device_arg(text: str) -> DeviceArg:
    """``ADDR=REF[@CONCENTRATOR]`` or ``ADDR=GENERIC:FC:REGHEX:WORDS:MULT`` (SimError if not)."""
    match = _ARG.fullmatch(text)
    if match is None:
        parse_device(text)  # its message says what is wrong
        raise SimError(_('"{value}" is not ADDR=REF (as 5=0 146 68)').format(value=text))
    address, ref = match[1].replace(" ", ""), match[2].strip()
    ref, _sep, concentrator = ref.partition("@")
    generic = parse_device(f"1={ref}").generic  # the GENERIC:... form, and an empty REF
    return DeviceArg(text, address, ref.strip(), concentrator.strip() or None, generic)


def device_specs(args: Sequence[DeviceArg], catalog: Catalog) -> tuple[DeviceSpec, ...]:
    """What to serve for ``args`` on one endpoint (SimError naming the argument if wrong)."""
    devices = [_device(index, arg, catalog) for index, arg in enumerate(args, start=1)]
    plain = {d.address: d.model for d in devices if d.position is None and d.interface is None}
    for index, device in enumerate(devices):
        model = catalog.find(device.model)
        if model is not None and model.addressing == "pulse" and device.concentrator is None:
            concentrator = catalog.find(plain.get(device.address, ""))
            if concentrator is None or not concentrator.is_concentrator:
                raise SimError(
                    _(
                        '--device "{value}": a pulse meter needs its concentrator: '
                        "ADDR-POS=REF@CONCENTRATOR, or --device ADDR=CONCENTRATOR"
                    ).format(value=args[index].text)
                )
            devices[index] = replace(device, concentrator=concentrator.ref)
    ctx = RuleContext(catalog)
    inst = normalize(Installation(gateways=(_BENCH,), devices=tuple(devices)), ctx)
    for violation in validate(inst, ctx):
        if violation.field in REACH_FIELDS and violation.subject[0] == "device":
            arg = args[violation.subject[1] - 1]
            raise SimError(
                _('--device "{value}": {error}').format(
                    value=arg.text, error=violation.message.render(_)
                )
            )
    return site_devices(inst, catalog)[_BENCH.id]


def _device(device_id: int, arg: DeviceArg, catalog: Catalog) -> Device:
    model = catalog.find(arg.ref)
    if model is None:
        raise SimError(_('unknown model "{model}"').format(model=arg.ref))
    first, _sep, second = arg.address.partition("-")
    side = None
    if model.sides == 2:  # address-side: one unit answers for both sides
        parsed = parse_address(first)
        side = int(second) if second else 1
    else:
        parsed = parse_address(arg.address, model.addressing)
    if parsed is None:
        raise SimError(
            _('--device "{value}": model {model} takes a plain Modbus address').format(
                value=arg.text, model=model.ref
            )
        )
    return Device(
        device_id, _BENCH.id, model.ref, parsed.address, interface=parsed.interface,
        concentrator=arg.concentrator,
        position=parsed.position, side=side, generic=arg.generic,
    )  # fmt: skip
