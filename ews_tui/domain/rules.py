"""Every rule of the manual (§7.16) on an installation, as a list of violations.

``validate()`` never raises on a bad installation: it returns one :class:`Violation` per
broken rule, each naming its place (``gateways[2].devices[4].address``) and carrying a
translatable message.
"""

from __future__ import annotations

import ipaddress
import math
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ews_tui.domain.catalog import Catalog, Model
from ews_tui.domain.installation import (
    LOCAL_GATEWAY_ID,
    LOCAL_IP,
    PHASES,
    SUPPLIES,
    Device,
    Gateway,
    Installation,
    Switchboard,
    Zone,
)
from ews_tui.domain.messages import N_, Message
from ews_tui.domain.text_rules import (
    MAX_DESCRIPTION,
    MAX_NAME,
    excerpt,
    excerpts,
    text_problem,
)

MAX_ADDRESS = 247
MAX_EMS_DEVICE = 9
MAX_ZONES_PER_DEVICE = 5
MAX_USER_CIRCUITS = 8
MAX_CIRCUITS = 14  # the 6 presets and 8 user circuits; "Others" is the catch-all beside them
MAX_LABEL = 32
LICENCES = (10, 32)
GENERIC_WORDS = (1, 2, 4)


EVERY_ADDRESS = ("0.0.0.0", "::", "")
LOCALHOST = "localhost"


@dataclass(frozen=True)
class OwnServer:
    """The box's own Modbus TCP server while it is on: a gateway must not point at it.

    ``listen_host`` and ``port``: where it listens (``0.0.0.0`` or ``::`` stand for every
    local address: the loopback network and ``box_ip``, the box's own address). Polling it
    would poll the box's own RS485 bus through itself; other loopback ports (a local bridge
    such as mbusd on 127.0.0.1:5020) and the same address on another port stay allowed.
    """

    listen_host: str
    port: int
    box_ip: str = ""

    def serves(self, ip: str, port: int) -> bool:
        """Whether a gateway at ``ip:port`` would reach this server."""
        if port != self.port:
            return False
        try:
            address = ipaddress.ip_address(ip.strip())
        except ValueError:
            return False
        host = self.listen_host.strip().strip("[]").casefold()
        if host in EVERY_ADDRESS:
            return address.is_loopback or str(address) == self.box_ip
        if host == LOCALHOST:
            return address == ipaddress.ip_address("127.0.0.1")
        try:
            return ipaddress.ip_address(host) == address
        except ValueError:
            return False  # a host name: only a resolver could say, and the domain has none

    def __str__(self) -> str:
        host = f"[{self.listen_host}]" if ":" in self.listen_host else self.listen_host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class RuleContext:
    """What the rules depend on beside the installation: the catalog, the licence and,
    while the box's Modbus TCP server is on, where it listens (``own_server``)."""

    catalog: Catalog
    licence: int = 32
    own_server: OwnServer | None = None


@dataclass(frozen=True)
class Violation:
    """A broken rule: where (``place``), on what object, and what is wrong."""

    place: str
    message: Message
    subject: tuple[str, int] = ("installation", 0)
    field: str = ""

    def render(self, gettext: Callable[[str], str] | None = None) -> str:
        return f"{self.place}: {self.message.render(gettext)}"

    def __str__(self) -> str:
        return self.render()

    @property
    def key(self) -> tuple[object, ...]:
        """Identity of the problem independent of list positions (used to spot new ones)."""
        return (
            self.subject,
            self.field,
            self.message.msgid,
            tuple(sorted((k, str(v)) for k, v in self.message.params.items())),
        )


def _v(place: str, field: str, subject: tuple[str, int], msgid: str, **params: object) -> Violation:
    """A violation; every quoted value short and printable (a name can be hostile)."""
    where = f"{place}.{field}" if field else place
    return Violation(where, Message(msgid, excerpts(params)), subject, field)


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


def gateway_place(inst: Installation, gateway_id: int) -> str:
    index = next((i for i, g in enumerate(inst.gateways) if g.id == gateway_id), -1)
    return f"gateways[{index}]"


def device_place(inst: Installation, device: Device) -> str:
    if inst.gateway(device.gateway_id) is None:
        index = next((i for i, d in enumerate(inst.devices) if d.id == device.id), -1)
        return f"devices[{index}]"
    siblings = inst.devices_of(device.gateway_id)
    index = next((i for i, d in enumerate(siblings) if d.id == device.id), -1)
    return f"{gateway_place(inst, device.gateway_id)}.devices[{index}]"


def validate(inst: Installation, ctx: RuleContext) -> list[Violation]:
    """Every violation of the installation, in a stable order."""
    return [
        *_gateway_rules(inst, ctx),
        *_device_rules(inst, ctx),
        *_address_rules(inst, ctx),
        *_name_rules(inst),
        *_text_rules(inst),
        *_group_rules(inst),
        *_licence_rules(inst, ctx),
    ]


# ---------------------------------------------------------------------- gateways


def _gateway_rules(inst: Installation, ctx: RuleContext) -> Iterator[Violation]:
    local = inst.gateway(LOCAL_GATEWAY_ID)
    if local is None:
        yield _v("gateways", "", ("installation", 0), N_("the Local gateway is missing"))
    elif local.ip != LOCAL_IP:
        yield _v(
            gateway_place(inst, local.id),
            "ip",
            ("gateway", local.id),
            N_("the Local gateway's IP address is fixed at {ip}"),
            ip=LOCAL_IP,
        )
    endpoints: dict[tuple[str, int], Gateway] = {}
    for index, gw in enumerate(inst.gateways):
        place, subject = f"gateways[{index}]", ("gateway", gw.id)
        if gw.is_local:
            pass
        elif not gw.ip.strip():
            yield _v(place, "ip", subject, N_("the IP address is required"))
        elif (problem := ip_problem(gw.ip)) is not None:
            yield _v(place, "ip", subject, problem, ip=gw.ip)
        elif (gw.ip, gw.port) in endpoints:
            yield _v(
                place,
                "ip",
                subject,
                N_('{ip}:{port} is already the address of gateway "{other}"'),
                ip=gw.ip,
                port=gw.port,
                other=endpoints[(gw.ip, gw.port)].name,
            )
        elif ctx.own_server is not None and ctx.own_server.serves(gw.ip, gw.port):
            yield _v(
                place,
                "ip",
                subject,
                N_(
                    "{ip}:{port} is this box's own Modbus TCP server ({listen}): the box "
                    "would poll its own bus through itself; its devices go on the Local gateway"
                ),
                ip=gw.ip,
                port=gw.port,
                listen=str(ctx.own_server),
            )
        else:
            endpoints[(gw.ip, gw.port)] = gw
        if not gw.is_local and not 1 <= gw.port <= 65535:
            yield _v(
                place, "port", subject, N_("port {port} is not between 1 and 65535"), port=gw.port
            )
        if not gw.name.strip():
            yield _v(place, "name", subject, N_("the name is required"))
        if gw.switchboard_id is not None and inst.switchboard(gw.switchboard_id) is None:
            yield _v(
                place,
                "switchboard",
                subject,
                N_("switchboard #{id} does not exist"),
                id=gw.switchboard_id,
            )
        yield from _eq_rules(inst, ctx, gw, place)


def ip_problem(ip: str) -> str | None:
    """The msgid of what is wrong with an IPv4 address typed by a user, or None."""
    try:
        address = ipaddress.IPv4Address(ip.strip())
    except ValueError:
        return N_('"{ip}" is not an IPv4 address')
    if address.is_unspecified or address.is_multicast or str(address) == "255.255.255.255":
        return N_('"{ip}" cannot be a gateway address')
    return None


def _eq_rules(inst: Installation, ctx: RuleContext, gw: Gateway, place: str) -> Iterator[Violation]:
    if gw.eq_device_id is None:
        return
    subject = ("gateway", gw.id)
    device = inst.device(gw.eq_device_id)
    if device is None or device.gateway_id != gw.id:
        yield _v(
            place, "eq_device", subject, N_("the EQ device must be one of this gateway's devices")
        )
        return
    model = ctx.catalog.find(device.model)
    if model is None or not (model.thd or model.harmonics):
        yield _v(
            place,
            "eq_device",
            subject,
            N_('"{name}" cannot be the EQ device: it gives neither THD nor harmonics'),
            name=device.display_name(),
        )
    if ctx.licence != 32:
        yield _v(
            place,
            "eq_device",
            subject,
            N_("the EN 50160 check needs the 32-address licence (4 149 48)"),
        )


# ----------------------------------------------------------------------- devices


def _device_rules(inst: Installation, ctx: RuleContext) -> Iterator[Violation]:
    for device in inst.devices:
        place, subject = device_place(inst, device), ("device", device.id)
        if inst.gateway(device.gateway_id) is None:
            yield _v(
                place, "gateway", subject, N_("gateway #{id} does not exist"), id=device.gateway_id
            )
        if not device.model.strip():
            yield _v(place, "model", subject, N_("the model is missing (Configuration error)"))
            continue
        model = ctx.catalog.find(device.model)
        if model is None:
            yield _v(
                place,
                "model",
                subject,
                N_('"{model}" is not in the device catalog (Configuration error)'),
                model=device.model,
            )
            continue
        yield from _address_fields(device, model, ctx, place, subject)
        yield from _model_fields(device, model, place, subject)
        yield from _assignment_fields(inst, device, model, place, subject)


def _address_fields(
    device: Device, model: Model, ctx: RuleContext, place: str, subject: tuple[str, int]
) -> Iterator[Violation]:
    if device.interface is not None:
        if model.addressing != "emscx3":
            yield _v(
                place,
                "address",
                subject,
                N_("the device-interface form is only for EMS CX3 modules"),
            )
        elif not 1 <= device.local_address <= MAX_EMS_DEVICE:
            yield _v(
                place,
                "address",
                subject,
                N_("EMS CX3 device address {value} is not between 1 and {max}"),
                value=device.local_address,
                max=MAX_EMS_DEVICE,
            )
        elif not 1 <= device.interface <= (MAX_ADDRESS - MAX_EMS_DEVICE) // 10:
            yield _v(
                place,
                "address",
                subject,
                N_("EMS CX3 interface address {value} is not between 1 and {max}"),
                value=device.interface,
                max=(MAX_ADDRESS - MAX_EMS_DEVICE) // 10,
            )
    elif not 1 <= device.address <= MAX_ADDRESS:
        yield _v(
            place,
            "address",
            subject,
            N_("Modbus address {value} is not between 1 and {max}"),
            value=device.address,
            max=MAX_ADDRESS,
        )
    if model.addressing == "pulse":
        concentrator = ctx.catalog.find(device.concentrator or "")
        if not device.concentrator:
            yield _v(
                place,
                "concentrator",
                subject,
                N_("a pulse meter needs the model of its concentrator"),
            )
        elif concentrator is None or not concentrator.is_concentrator:
            yield _v(
                place,
                "concentrator",
                subject,
                N_('"{model}" is not a pulse concentrator'),
                model=device.concentrator,
            )
        if device.position is None:
            yield _v(
                place,
                "position",
                subject,
                N_("a pulse meter needs its position on the concentrator"),
            )
        elif (
            concentrator is not None
            and concentrator.is_concentrator
            and not (1 <= device.position <= concentrator.pulse_inputs)
        ):
            yield _v(
                place,
                "position",
                subject,
                N_("position {value} is not between 1 and {max} on concentrator {model}"),
                value=device.position,
                max=concentrator.pulse_inputs,
                model=concentrator.ref,
            )
    else:
        if device.concentrator is not None:
            yield _v(place, "concentrator", subject, N_("only pulse meters have a concentrator"))
        if device.position is not None:
            yield _v(place, "position", subject, N_("only pulse meters have a position"))


def _model_fields(
    device: Device, model: Model, place: str, subject: tuple[str, int]
) -> Iterator[Violation]:
    if model.sides == 2:
        if device.side not in (1, 2):
            yield _v(
                place, "side", subject, N_("a two-sided charging station needs its side (1 or 2)")
            )
    elif device.side is not None:
        yield _v(place, "side", subject, N_("model {model} has only one side"), model=model.ref)
    if model.charger and model.single_phase:
        if device.phase not in PHASES:
            yield _v(
                place,
                "phase",
                subject,
                N_("a single-phase charging station needs its phase (L1, L2 or L3)"),
            )
    elif device.phase is not None:
        yield _v(
            place, "phase", subject, N_("the phase is only for single-phase charging stations")
        )
    if model.supply_direction:
        if device.supply not in SUPPLIES:
            yield _v(
                place, "supply", subject, N_("the supply direction must be upstream or downstream")
            )
    elif device.supply is not None:
        yield _v(
            place,
            "supply",
            subject,
            N_("model {model} has no supply direction setting"),
            model=model.ref,
        )
    yield from _generic_fields(device, model, place, subject)
    yield from _advanced_fields(device, model, place, subject)


def _generic_fields(
    device: Device, model: Model, place: str, subject: tuple[str, int]
) -> Iterator[Violation]:
    generic = device.generic
    if not model.generic:
        if generic is not None:
            yield _v(
                place, "generic", subject, N_("only the generic Modbus meter has register settings")
            )
        return
    if generic is None:
        yield _v(
            place,
            "generic",
            subject,
            N_("the generic Modbus meter needs its function code, register, words and multiplier"),
        )
        return
    if generic.fc not in (3, 4):
        yield _v(
            place,
            "generic.fc",
            subject,
            N_("function code {value} is not 3 or 4"),
            value=generic.fc,
        )
    if not 0 <= generic.register <= 0xFFFF:
        yield _v(
            place,
            "generic.register",
            subject,
            N_("register {value} is not between 0000 and FFFF"),
            value=_hex(generic.register),
        )
    if generic.words not in GENERIC_WORDS:
        yield _v(
            place,
            "generic.words",
            subject,
            N_("{value} words: a meter register is 1, 2 or 4 words"),
            value=generic.words,
        )
    elif 0 <= generic.register <= 0xFFFF < generic.register + generic.words - 1:
        yield _v(
            place,
            "generic.register",
            subject,
            N_("register {value} with {words} words goes past FFFF"),
            value=_hex(generic.register),
            words=generic.words,
        )
    if not (math.isfinite(generic.multiplier) and generic.multiplier > 0):
        yield _v(
            place,
            "generic.multiplier",
            subject,
            N_("multiplier {value} must be a positive number"),
            value=generic.multiplier,
        )


def _hex(register: int) -> str:
    """A register as the manual writes it: four hex digits (``1F40``)."""
    return f"{register:04X}" if register >= 0 else f"-{-register:04X}"


def _advanced_fields(
    device: Device, model: Model, place: str, subject: tuple[str, int]
) -> Iterator[Violation]:
    advanced = device.advanced
    if advanced.exclude_from_alarms and not model.alarm_exclusion:
        yield _v(
            place,
            "advanced.exclude_from_alarms",
            subject,
            N_('"exclude from alarms" is only for EMS CX3, DPX3 and DMX3 devices'),
        )
    if advanced.labels and not model.labels:
        yield _v(
            place,
            "advanced.labels",
            subject,
            N_("model {model} has no inputs or outputs to label"),
            model=model.ref,
        )
        return
    allowed = {f"in{i}" for i in range(1, model.inputs + 1)}
    allowed |= {f"out{i}" for i in range(1, model.outputs + 1)}
    for key, _label in advanced.labels:
        if key not in allowed:
            yield _v(
                place,
                f"advanced.labels.{excerpt(key)}",
                subject,
                N_("model {model} has no {key}"),
                model=model.ref,
                key=key,
            )


def _assignment_fields(
    inst: Installation, device: Device, model: Model, place: str, subject: tuple[str, int]
) -> Iterator[Violation]:
    if device.circuit_id is not None:
        if model.energy in ("gas", "water"):
            yield _v(
                place,
                "circuit",
                subject,
                N_("gas and water meters get their circuit automatically"),
            )
        elif inst.circuit(device.circuit_id) is None:
            yield _v(
                place, "circuit", subject, N_("circuit #{id} does not exist"), id=device.circuit_id
            )
    if len(device.zone_ids) > MAX_ZONES_PER_DEVICE:
        yield _v(
            place,
            "zones",
            subject,
            N_("a device belongs to at most {max} zones"),
            max=MAX_ZONES_PER_DEVICE,
        )
    if len(set(device.zone_ids)) != len(device.zone_ids):
        yield _v(place, "zones", subject, N_("a zone is listed twice"))
    for zone_id in device.zone_ids:
        if inst.zone(zone_id) is None:
            yield _v(place, "zones", subject, N_("zone #{id} does not exist"), id=zone_id)


def _address_rules(inst: Installation, ctx: RuleContext) -> Iterator[Violation]:
    """Devices on one bus need distinct addresses, but for what shares one on purpose."""
    for gw in inst.gateways:
        by_address: dict[int, list[Device]] = defaultdict(list)
        for device in inst.devices_of(gw.id):
            by_address[device.address].append(device)
        for group in by_address.values():
            yield from _address_group(inst, ctx, group)


def _address_group(
    inst: Installation, ctx: RuleContext, group: list[Device]
) -> Iterator[Violation]:
    """One address on one bus: one device, or the two sides of one charging station, or the
    pulse meters of one concentrator (beside the energy meter that is that concentrator)."""
    pulses: list[Device] = []
    sides: list[Device] = []
    others: list[Device] = []
    for device in group:
        model = ctx.catalog.find(device.model)
        if model is not None and model.addressing == "pulse":
            pulses.append(device)
        elif model is not None and model.sides == 2:
            sides.append(device)
        else:
            others.append(device)

    def clash(device: Device, other: Device) -> Violation:
        return _v(
            device_place(inst, device),
            "address",
            ("device", device.id),
            N_('address {address} is already used by "{other}"'),
            address=device.address,
            other=other.display_name(),
        )

    first = others[0] if others else sides[0] if sides else None
    for device in others[1:]:
        yield clash(device, others[0])
    for device in sides:
        if others:
            yield clash(device, others[0])
        elif device.model != sides[0].model:
            yield clash(device, sides[0])
    seen_sides: dict[int | None, Device] = {}
    for device in sides:
        if device.side in seen_sides and device.side is not None:
            yield _v(
                device_place(inst, device),
                "side",
                ("device", device.id),
                N_('side {side} of address {address} is already "{other}"'),
                side=device.side,
                address=device.address,
                other=seen_sides[device.side].display_name(),
            )
        seen_sides.setdefault(device.side, device)
    yield from _pulse_group(inst, ctx, pulses, first)


def _pulse_group(
    inst: Installation, ctx: RuleContext, pulses: list[Device], owner: Device | None
) -> Iterator[Violation]:
    if not pulses:
        return
    concentrator = ctx.catalog.find(pulses[0].concentrator or "")
    positions: dict[int, Device] = {}
    for device in pulses:
        place, subject = device_place(inst, device), ("device", device.id)
        if device.concentrator and ctx.catalog.find(device.concentrator) != concentrator:
            yield _v(
                place,
                "concentrator",
                subject,
                N_(
                    "address {address} is a {model} concentrator: every pulse meter on it "
                    "names that model"
                ),
                address=device.address,
                model=pulses[0].concentrator,
            )
        if device.position is not None:
            if device.position in positions:
                yield _v(
                    place,
                    "position",
                    subject,
                    N_('position {position} of address {address} is already used by "{other}"'),
                    position=device.position,
                    address=device.address,
                    other=positions[device.position].display_name(),
                )
            positions.setdefault(device.position, device)
    if owner is not None and (
        concentrator is None or ctx.catalog.find(owner.model) != concentrator
    ):
        yield _v(
            device_place(inst, owner),
            "address",
            ("device", owner.id),
            N_("address {address} is already used by the pulse meters of a {model} concentrator"),
            address=owner.address,
            model=pulses[0].concentrator or "?",
        )


# ------------------------------------------------------------------------- names


def _name_rules(inst: Installation) -> Iterator[Violation]:
    seen_gw: dict[str, Gateway] = {}
    for index, gw in enumerate(inst.gateways):
        key = _fold(gw.name)
        if key and key in seen_gw:
            yield _v(
                f"gateways[{index}]",
                "name",
                ("gateway", gw.id),
                N_('the name "{name}" is already used by another gateway'),
                name=gw.name,
            )
        seen_gw.setdefault(key, gw)
    seen_dev: dict[str, Device] = {}
    for device in inst.devices:
        key = _fold(device.name)
        place, subject = device_place(inst, device), ("device", device.id)
        if not key:
            yield _v(place, "name", subject, N_("the name is required"))
        elif key in seen_dev:
            yield _v(
                place,
                "name",
                subject,
                N_('the name "{name}" is already used by another device'),
                name=device.name,
            )
        seen_dev.setdefault(key, device)


def _text_rules(inst: Installation) -> Iterator[Violation]:
    """Names, labels and descriptions are plain text of a bounded length."""
    texts: list[tuple[str, tuple[str, int], str, str, int]] = []
    for index, gw in enumerate(inst.gateways):
        subject = ("gateway", gw.id)
        texts.append((f"gateways[{index}]", subject, "name", gw.name, MAX_NAME))
        texts.append(
            (f"gateways[{index}]", subject, "description", gw.description, MAX_DESCRIPTION)
        )
    for device in inst.devices:
        place, subject = device_place(inst, device), ("device", device.id)
        texts.append((place, subject, "name", device.name, MAX_NAME))
        for key, label in device.advanced.labels:
            texts.append((place, subject, f"advanced.labels.{excerpt(key)}", label, MAX_LABEL))
    for index, circuit in enumerate(inst.circuits):
        texts.append(
            (f"circuits[{index}]", ("circuit", circuit.id), "name", circuit.name, MAX_NAME)
        )
    described: tuple[tuple[str, tuple[Zone | Switchboard, ...]], ...] = (
        ("zones", inst.zones),
        ("switchboards", inst.switchboards),
    )
    for kind, groups in described:
        for index, group in enumerate(groups):
            place, subject = f"{kind}[{index}]", (kind[:-1], group.id)
            texts.append((place, subject, "name", group.name, MAX_NAME))
            texts.append((place, subject, "description", group.description, MAX_DESCRIPTION))
    for place, subject, field, text, max_length in texts:
        if (problem := text_problem(text, max_length)) is not None:
            yield Violation(f"{place}.{field}", problem, subject, field)


def _group_rules(inst: Installation) -> Iterator[Violation]:
    for kind in ("circuits", "zones", "switchboards"):
        seen: set[str] = set()
        for index, item in enumerate(inst.groups(kind)):
            key = _fold(item.name)
            subject = (kind[:-1], item.id)
            if not key:
                yield _v(f"{kind}[{index}]", "name", subject, N_("the name is required"))
            elif key in seen:
                yield _v(
                    f"{kind}[{index}]",
                    "name",
                    subject,
                    N_('the name "{name}" is already used'),
                    name=item.name,
                )
            seen.add(key)
    user = [c for c in inst.circuits if not c.is_preset]
    if len(user) > MAX_USER_CIRCUITS:
        index = inst.circuits.index(user[MAX_USER_CIRCUITS])
        yield _v(
            f"circuits[{index}]",
            "",
            ("circuit", user[MAX_USER_CIRCUITS].id),
            N_("at most {max} circuits of your own ({total} in all)"),
            max=MAX_USER_CIRCUITS,
            total=MAX_CIRCUITS,
        )
    presets = [c.preset for c in inst.circuits if c.is_preset]
    if len(set(presets)) != len(presets):
        yield _v("circuits", "", ("installation", 0), N_("a preset circuit appears twice"))


def licence_usage(inst: Installation, ctx: RuleContext) -> int:
    """Modbus addresses (and pulse meters) the installation uses against the licence."""
    used: set[tuple[int, int]] = set()
    pulse = 0
    for device in inst.devices:
        model = ctx.catalog.find(device.model)
        if model is not None and model.addressing == "pulse":
            pulse += 1
        else:
            used.add((device.gateway_id, device.address))
    return len(used) + pulse


def _licence_rules(inst: Installation, ctx: RuleContext) -> Iterator[Violation]:
    if ctx.licence not in LICENCES:
        yield _v(
            "licence",
            "",
            ("installation", 0),
            N_("the licence is for 10 or 32 Modbus addresses, not {value}"),
            value=ctx.licence,
        )
        return
    used = licence_usage(inst, ctx)
    if used > ctx.licence:
        yield _v(
            "devices",
            "",
            ("installation", 0),
            N_(
                "{used} Modbus addresses and pulse meters are configured; the licence "
                "allows {licence}"
            ),
            used=used,
            licence=ctx.licence,
        )
