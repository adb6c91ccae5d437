"""The installation as a TOML-shaped document (``ews install export/import``, ``[installation]``).

Objects refer to each other by name in the document and by id in the model. Reading a
document never raises on bad content: every problem comes back as a violation with its
place, then the whole result goes through the rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ews_tui.domain.costs import CostSettings
from ews_tui.domain.costs_doc import costs_from_document, costs_to_document
from ews_tui.domain.edits import normalize, preset_circuits
from ews_tui.domain.installation import (
    DEFAULT_TCP_PORT,
    LOCAL_GATEWAY_ID,
    LOCAL_IP,
    LOCAL_NAME,
    Advanced,
    Circuit,
    Device,
    Gateway,
    GenericRegister,
    Installation,
    Switchboard,
    Zone,
)
from ews_tui.domain.messages import N_, Message
from ews_tui.domain.rules import RuleContext, Violation, device_place, validate
from ews_tui.domain.text_rules import excerpt, excerpts

_GATEWAY_KEYS = {
    "name",
    "ip",
    "port",
    "description",
    "switchboard",
    "enabled",
    "eq_device",
    "devices",
}
_DEVICE_KEYS = {
    "name",
    "model",
    "address",
    "concentrator",
    "position",
    "side",
    "phase",
    "supply",
    "circuit",
    "zones",
    "enabled",
    "generic",
    "advanced",
}
_GROUP_KEYS = {"name", "description", "active"}
_CIRCUIT_KEYS = {"name", "preset", "active"}
_GENERIC_KEYS = {"fc", "register", "words", "multiplier"}
_ADVANCED_KEYS = {"exclude_from_totals", "exclude_from_alarms", "labels"}
_TOP_KEYS = {"gateways", "circuits", "zones", "switchboards", "costs"}

_ADDRESS = re.compile(r"\s*(\d{1,3})\s*(?:-\s*(\d{1,3})\s*)?")


@dataclass(frozen=True)
class ParsedAddress:
    address: int
    interface: int | None = None
    position: int | None = None


def parse_address(text: str | int, addressing: str = "modbus") -> ParsedAddress | None:
    """``12``; ``2-1`` (EMS CX3 device-interface); ``5-3`` (concentrator address-position)."""
    if isinstance(text, int) and not isinstance(text, bool):
        return ParsedAddress(text)
    if not isinstance(text, str) or not (match := _ADDRESS.fullmatch(text)):
        return None
    first, second = int(match[1]), match[2]
    if second is None:
        return ParsedAddress(first)
    if addressing == "emscx3":
        return ParsedAddress(int(second) * 10 + first, interface=int(second))
    if addressing == "pulse":
        return ParsedAddress(first, position=int(second))
    return None


@dataclass
class _Reader:
    ctx: RuleContext
    previous: Installation | None
    problems: list[Violation] = field(default_factory=list)

    def problem(self, place: str, msgid: str, **params: object) -> None:
        self.problems.append(Violation(place, Message(msgid, excerpts(params))))

    def table(self, value: Any, place: str, keys: set[str]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.problem(place, N_("expected a table"))
            return {}
        for key in sorted(set(value) - keys):
            self.problem(f"{place}.{excerpt(key)}", N_("unknown key"))
        return value

    def typed(
        self,
        table: Mapping[str, Any],
        key: str,
        place: str,
        kind: type | tuple[type, ...],
        default: Any,
    ) -> Any:
        value = table.get(key, default)
        if value is default:
            return value
        bad_bool = isinstance(value, bool) and bool not in (
            kind if isinstance(kind, tuple) else (kind,)
        )
        if bad_bool or not isinstance(value, kind):
            names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            self.problem(
                f"{place}.{key}",
                N_("expected {kind}, got {value!r}"),
                kind=names.replace("str", "text").replace("int", "integer"),
                value=value,
            )
            return default
        return value

    def items(self, doc: Mapping[str, Any], key: str, place: str) -> list[Any]:
        value = doc.get(key, [])
        if not isinstance(value, list):
            self.problem(f"{place}{key}", N_("expected an array of tables"))
            return []
        return value


def _by_name(items: tuple[Any, ...], name: str) -> Any:
    key = name.strip().casefold()
    return next((i for i in items if i.name.strip().casefold() == key), None)


def from_document(
    doc: Mapping[str, Any], ctx: RuleContext, previous: Installation | None = None
) -> tuple[Installation, list[Violation]]:
    """Read a document; the installation and every violation (of shape and of the rules).

    ``previous``: the stored installation, whose ids are kept for objects of the same name,
    so the history of a device survives an export/import round trip.
    """
    reader = _Reader(ctx, previous)
    reader.table(doc, "installation", _TOP_KEYS)
    circuits, circuit_places = _read_circuits(reader, doc)
    zones = _read_groups(reader, doc, "zones", Zone)
    switchboards = _read_groups(reader, doc, "switchboards", Switchboard)
    inst = Installation(gateways=(), circuits=circuits, zones=zones, switchboards=switchboards)
    gateways: list[Gateway] = []
    devices: list[Device] = []
    # Where each object is in the file (the model's lists are ordered otherwise).
    gateway_places: dict[int, str] = {}
    device_places: list[str] = []
    eq_names: dict[int, tuple[str, str]] = {}
    raw_gateways = reader.items(doc, "gateways", "")
    # The Local gateway is written without a port; 127.0.0.1 with a port is a TCP gateway
    # (a local bridge such as mbusd on 127.0.0.1:5020).
    has_local = any(_names_local(g) for g in raw_gateways)
    if not has_local:
        gateways.append(Gateway(id=LOCAL_GATEWAY_ID, name=LOCAL_NAME, ip=LOCAL_IP))
    local_name = (previous.local.name if previous else LOCAL_NAME).strip().casefold()
    for gi, raw in enumerate(raw_gateways):
        place = f"gateways[{gi}]"
        table = reader.table(raw, place, _GATEWAY_KEYS)
        ip = reader.typed(table, "ip", place, str, "")
        name = reader.typed(table, "name", place, str, "")
        is_local = _names_local(raw) and not any(g.id == LOCAL_GATEWAY_ID for g in gateways)
        if not is_local and name.strip().casefold() == local_name:
            reader.problem(
                f"{place}.ip",
                N_(
                    'the {name} gateway is the box\'s own RS485 bus: give it ip = "{ip}" and no port'  # noqa: E501
                ),
                name=name,
                ip=LOCAL_IP,
            )
        gw_id = LOCAL_GATEWAY_ID if is_local else _kept_id(previous, "gateways", name, gateways)
        gateway_places[gw_id] = place
        switchboard = reader.typed(table, "switchboard", place, str, "")
        board = _by_name(switchboards, switchboard) if switchboard else None
        if switchboard and board is None:
            reader.problem(
                f"{place}.switchboard", N_('no switchboard is named "{name}"'), name=switchboard
            )
        port = reader.typed(table, "port", place, int, DEFAULT_TCP_PORT)
        gateways.append(
            Gateway(
                id=gw_id,
                name=name,
                ip=ip,
                port=port,
                description=reader.typed(table, "description", place, str, ""),
                switchboard_id=board.id if board else None,
                enabled=reader.typed(table, "enabled", place, bool, True),
            )
        )
        eq = reader.typed(table, "eq_device", place, str, "")
        if eq:
            eq_names[gw_id] = (eq, place)
        for di, raw_device in enumerate(reader.items(table, "devices", place + ".")):
            device_place_ = f"{place}.devices[{di}]"
            device = _read_device(reader, raw_device, device_place_, gw_id, inst, len(devices))
            if device is not None:
                devices.append(device)
                device_places.append(device_place_)
    devices = _keep_device_ids(previous, gateways, devices)
    for gw_id, (eq, place) in eq_names.items():
        target = next(
            (
                d
                for d in devices
                if d.gateway_id == gw_id and d.name.strip().casefold() == eq.strip().casefold()
            ),
            None,
        )
        if target is None:
            reader.problem(
                f"{place}.eq_device", N_('no device of this gateway is named "{name}"'), name=eq
            )
        else:
            gateways = [
                replace(g, eq_device_id=target.id) if g.id == gw_id else g for g in gateways
            ]
    gateways.sort(key=lambda g: g.id != LOCAL_GATEWAY_ID)
    inst = normalize(
        replace(
            inst,
            gateways=tuple(gateways),
            devices=tuple(devices),
            last_ids=previous.last_ids if previous else (),
        ),
        ctx,
    )
    places = _file_places(inst, gateway_places, device_places, circuit_places)
    # Shape problems first; then the rules, except on a field that already has a problem.
    shaped = {p.place for p in reader.problems}
    rules = [
        v
        for v in (_in_file(v, places) for v in validate(inst, ctx))
        if not any(v.place == s or v.place.startswith(s + ".") for s in shaped)
    ]
    if isinstance(doc, Mapping) and "costs" in doc:
        rules += costs_from_document(doc["costs"], inst)[1]
    return inst, reader.problems + rules


def _names_local(raw: Any) -> bool:
    return isinstance(raw, Mapping) and raw.get("ip") == LOCAL_IP and "port" not in raw


def _file_places(
    inst: Installation,
    gateway_places: Mapping[int, str],
    device_places: list[str],
    circuit_places: Mapping[int, str],
) -> dict[str, str]:
    """The model's places (``circuits[15]``) and the file's (``circuits[8]``) of each object.

    The model puts the Local gateway first and lists the preset circuits before the file's
    own; the file's places are the ones a reader can find. An object the file does not
    hold has a place that names it (``gateways.Local``, ``circuits.heating``).
    """
    places: dict[str, str] = {}
    for index, gateway in enumerate(inst.gateways):
        places[f"gateways[{index}]"] = gateway_places.get(gateway.id, f"gateways.{gateway.name}")
    for device, place in zip(inst.devices, device_places, strict=True):
        places[device_place(inst, device)] = place
    for index, circuit in enumerate(inst.circuits):
        fallback = f"circuits.{circuit.preset or circuit.name}"
        places[f"circuits[{index}]"] = circuit_places.get(circuit.id, fallback)
    return places


def _in_file(violation: Violation, places: Mapping[str, str]) -> Violation:
    """The violation with its place as the file has it (the longest known prefix)."""
    head, rest = violation.place, ""
    while head:
        if head in places:
            return replace(violation, place=places[head] + rest)
        head, dot, tail = head.rpartition(".")
        rest = dot + tail + rest
    return violation


def _kept_id(previous: Installation | None, kind: str, name: str, taken: list[Any]) -> int:
    """The id of the previous object of that name, else one never given before."""
    used = {t.id for t in taken}
    if previous is not None and name:
        old = _by_name(getattr(previous, kind), name)
        if old is not None and old.id not in used and old.id != LOCAL_GATEWAY_ID:
            return int(old.id)
    ever = previous.next_id(kind) - 1 if previous is not None else 0
    return max(used | {ever, LOCAL_GATEWAY_ID}) + 1


def _place(device: Device) -> tuple[object, ...]:
    """Where a device sits on its bus, and what it is: a renamed device keeps this."""
    return (
        device.gateway_id,
        device.address,
        device.interface,
        device.position,
        device.side,
        device.model,
    )


def _keep_device_ids(
    previous: Installation | None, gateways: list[Gateway], devices: list[Device]
) -> list[Device]:
    """Renumber devices: a device keeps the id of the previous device of the same name, else
    of the one at the same place (gateway, address, model: a renamed device), so its history
    follows it; any other device gets an id never given before (a deleted device's history
    is never taken over)."""
    olds = previous.devices if previous else ()
    by_name = {d.name.strip().casefold(): d.id for d in olds if d.name.strip()}
    ids: list[int | None] = [by_name.get(d.name.strip().casefold()) for d in devices]
    for i, kept in enumerate(ids):
        if kept is not None and kept in ids[:i]:
            ids[i] = None  # two devices of one name: the first keeps the id
    by_place: dict[tuple[object, ...], int] = {}
    for old in olds:
        if old.id not in ids:
            by_place.setdefault(_place(old), old.id)
    for i, device in enumerate(devices):
        if ids[i] is None:
            kept = by_place.pop(_place(device), None)
            ids[i] = kept if kept is not None and kept not in ids else None
    next_id = previous.next_id("devices") if previous else 1
    result = []
    for device, kept in zip(devices, ids, strict=True):
        if kept is None:
            kept, next_id = next_id, next_id + 1
        result.append(replace(device, id=kept))
    return result


def _read_device(
    reader: _Reader, raw: Any, place: str, gateway_id: int, inst: Installation, index: int
) -> Device | None:
    table = reader.table(raw, place, _DEVICE_KEYS)
    if not table:
        return None
    model_ref = reader.typed(table, "model", place, str, "")
    model = reader.ctx.catalog.find(model_ref) if model_ref else None
    addressing = model.addressing if model else "modbus"
    raw_address = reader.typed(table, "address", place, (int, str), None)
    parsed = parse_address(raw_address, addressing) if raw_address is not None else None
    if parsed is None and model is None and isinstance(raw_address, str):
        # The model is missing or unknown (reported there): read "2-1" without judging it.
        parsed = parse_address(raw_address.split("-")[0])
    if raw_address is None:
        reader.problem(f"{place}.address", N_("the Modbus address is required"))
        parsed = ParsedAddress(0)
    elif parsed is None:
        reader.problem(
            f"{place}.address", N_('"{value}" is not a Modbus address'), value=raw_address
        )
        parsed = ParsedAddress(0)
    position = reader.typed(table, "position", place, int, None)
    if position is not None and parsed.position is not None and position != parsed.position:
        reader.problem(
            f"{place}.position",
            N_("the address says position {a}, position says {b}"),
            a=parsed.position,
            b=position,
        )
    circuit_name = reader.typed(table, "circuit", place, str, "")
    circuit = _by_name(inst.circuits, circuit_name) if circuit_name else None
    if circuit is None and circuit_name:
        circuit = next((c for c in inst.circuits if c.preset == circuit_name), None)
    if circuit_name and circuit is None:
        reader.problem(f"{place}.circuit", N_('no circuit is named "{name}"'), name=circuit_name)
    zone_ids = []
    for zi, zone_name in enumerate(reader.typed(table, "zones", place, list, [])):
        zone = _by_name(inst.zones, zone_name) if isinstance(zone_name, str) else None
        if zone is None:
            reader.problem(f"{place}.zones[{zi}]", N_('no zone is named "{name}"'), name=zone_name)
        else:
            zone_ids.append(zone.id)
    return Device(
        id=index + 1,
        gateway_id=gateway_id,
        model=model.ref if model else model_ref,
        address=parsed.address,
        interface=parsed.interface,
        name=reader.typed(table, "name", place, str, ""),
        concentrator=_catalog_ref(reader, reader.typed(table, "concentrator", place, str, None)),
        position=parsed.position if parsed.position is not None else position,
        side=reader.typed(table, "side", place, int, None),
        phase=reader.typed(table, "phase", place, str, None),
        supply=reader.typed(table, "supply", place, str, None),
        circuit_id=circuit.id if circuit else None,
        zone_ids=tuple(zone_ids),
        generic=_read_generic(reader, table.get("generic"), f"{place}.generic"),
        advanced=_read_advanced(reader, table.get("advanced"), f"{place}.advanced"),
        enabled=reader.typed(table, "enabled", place, bool, True),
    )


def _catalog_ref(reader: _Reader, ref: str | None) -> str | None:
    model = reader.ctx.catalog.find(ref) if ref else None
    return model.ref if model else ref


def _read_generic(reader: _Reader, raw: Any, place: str) -> GenericRegister | None:
    if raw is None:
        return None
    table = reader.table(raw, place, _GENERIC_KEYS)
    register_text = reader.typed(table, "register", place, (str, int), "0")
    register = register_text if isinstance(register_text, int) else -1
    if isinstance(register_text, str):
        try:
            register = int(register_text.removeprefix("0x").removeprefix("0X"), 16)
        except ValueError:
            reader.problem(
                f"{place}.register",
                N_('"{value}" is not a hexadecimal register'),
                value=register_text,
            )
    return GenericRegister(
        fc=reader.typed(table, "fc", place, int, 3),
        register=register,
        words=reader.typed(table, "words", place, int, 2),
        multiplier=float(reader.typed(table, "multiplier", place, (int, float), 1.0)),
    )


def _read_advanced(reader: _Reader, raw: Any, place: str) -> Advanced:
    if raw is None:
        return Advanced()
    table = reader.table(raw, place, _ADVANCED_KEYS)
    labels = reader.typed(table, "labels", place, dict, {})
    clean = []
    for key, value in labels.items():
        if not isinstance(value, str):
            reader.problem(
                f"{place}.labels.{excerpt(key)}", N_("expected text, got {value!r}"), value=value
            )
        else:
            clean.append((key, value))
    return Advanced(
        exclude_from_totals=reader.typed(table, "exclude_from_totals", place, bool, False),
        exclude_from_alarms=reader.typed(table, "exclude_from_alarms", place, bool, False),
        labels=tuple(sorted(clean)),
    )


def _read_circuits(
    reader: _Reader, doc: Mapping[str, Any]
) -> tuple[tuple[Circuit, ...], dict[int, str]]:
    """The presets (renamed or switched off by the file) and the file's own circuits; and
    the file's place of each circuit it holds, by id."""
    places: dict[int, str] = {}
    circuits = list(preset_circuits())
    next_id = len(circuits) + 1
    for index, raw in enumerate(reader.items(doc, "circuits", "")):
        place = f"circuits[{index}]"
        table = reader.table(raw, place, _CIRCUIT_KEYS)
        name = reader.typed(table, "name", place, str, "")
        preset = reader.typed(table, "preset", place, str, None)
        active = reader.typed(table, "active", place, bool, True)
        if preset is not None:
            pos = next((i for i, c in enumerate(circuits) if c.preset == preset), None)
            if pos is None:
                reader.problem(
                    f"{place}.preset", N_('"{value}" is not a preset circuit'), value=preset
                )
            else:
                circuits[pos] = replace(
                    circuits[pos], name=name or circuits[pos].name, active=active
                )
                places[circuits[pos].id] = place
            continue
        circuits.append(Circuit(id=next_id, name=name, active=active))
        places[next_id] = place
        next_id += 1
    return tuple(circuits), places


def _read_groups(reader: _Reader, doc: Mapping[str, Any], kind: str, cls: type) -> tuple[Any, ...]:
    items = []
    for index, raw in enumerate(reader.items(doc, kind, "")):
        place = f"{kind}[{index}]"
        table = reader.table(raw, place, _GROUP_KEYS)
        items.append(
            cls(
                id=index + 1,
                name=reader.typed(table, "name", place, str, ""),
                description=reader.typed(table, "description", place, str, ""),
                active=reader.typed(table, "active", place, bool, True),
            )
        )
    return tuple(items)


# ---------------------------------------------------------------------- writing


def to_document(inst: Installation, costs: CostSettings | None = None) -> dict[str, Any]:
    """The installation as a TOML-ready document (names instead of ids, no empty keys);
    with ``costs``, the cost pages too (``[[costs]]``)."""
    doc: dict[str, Any] = {"gateways": [_gateway_doc(inst, g) for g in inst.gateways]}
    doc["circuits"] = [
        {
            k: v
            for k, v in (("name", c.name), ("preset", c.preset), ("active", c.active))
            if v is not None
        }
        for c in inst.circuits
    ]
    for kind in ("zones", "switchboards"):
        doc[kind] = [
            {"name": i.name, "description": i.description, "active": i.active}
            for i in getattr(inst, kind)
        ]
    if costs is not None:
        doc["costs"] = costs_to_document(costs, inst)
    return doc


def _gateway_doc(inst: Installation, gw: Gateway) -> dict[str, Any]:
    out: dict[str, Any] = {"name": gw.name, "ip": gw.ip}
    if not gw.is_local:
        out["port"] = gw.port
    out["description"] = gw.description
    out["enabled"] = gw.enabled
    if gw.switchboard_id is not None and (board := inst.switchboard(gw.switchboard_id)):
        out["switchboard"] = board.name
    if gw.eq_device_id is not None and (eq := inst.device(gw.eq_device_id)):
        out["eq_device"] = eq.name
    out["devices"] = [_device_doc(inst, d) for d in inst.devices_of(gw.id)]
    return out


def _device_doc(inst: Installation, d: Device) -> dict[str, Any]:
    out: dict[str, Any] = {"name": d.name, "model": d.model}
    out["address"] = f"{d.local_address}-{d.interface}" if d.interface is not None else d.address
    for key in ("concentrator", "position", "side", "phase", "supply"):
        if getattr(d, key) is not None:
            out[key] = getattr(d, key)
    if d.circuit_id is not None and (circuit := inst.circuit(d.circuit_id)):
        out["circuit"] = circuit.name
    if d.zone_ids:
        out["zones"] = [z.name for zid in d.zone_ids if (z := inst.zone(zid))]
    out["enabled"] = d.enabled
    if d.generic is not None:
        out["generic"] = {
            "fc": d.generic.fc,
            "register": f"{d.generic.register:04X}",
            "words": d.generic.words,
            "multiplier": d.generic.multiplier,
        }
    adv = d.advanced
    if adv != Advanced():
        out["advanced"] = {
            "exclude_from_totals": adv.exclude_from_totals,
            "exclude_from_alarms": adv.exclude_from_alarms,
            "labels": dict(adv.labels),
        }
    return out
