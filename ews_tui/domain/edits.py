"""Changes to an installation, as the UI and the import make them.

Each edit takes an installation and returns a new one, or raises :class:`InstallationError`
with the violations it would introduce. Nothing is half-applied: a refused edit leaves the
caller's installation as it was (values are immutable).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import replace
from importlib import resources
from typing import Any

from ews_tui.domain.errors import DomainError
from ews_tui.domain.installation import (
    LOCAL_GATEWAY_ID,
    LOCAL_IP,
    LOCAL_NAME,
    Circuit,
    Device,
    Gateway,
    Installation,
    Switchboard,
    Zone,
)
from ews_tui.domain.messages import N_, Message
from ews_tui.domain.rules import (
    MAX_USER_CIRCUITS,
    RuleContext,
    Violation,
    device_place,
    gateway_place,
    validate,
)
from ews_tui.domain.text_rules import excerpts


class InstallationError(DomainError):
    """An edit or an import broke rules; ``violations`` says which, and where."""

    def __init__(self, violations: Iterable[Violation]) -> None:
        self.violations = tuple(violations)
        super().__init__("\n".join(str(v) for v in self.violations))


def _refuse(
    place: str, subject: tuple[str, int], msgid: str, **params: object
) -> InstallationError:
    return InstallationError([Violation(place, Message(msgid, excerpts(params)), subject)])


def preset_circuits() -> tuple[Circuit, ...]:
    """The RT 2012 categories and "Others", from ``data/circuits.toml``."""
    text = (resources.files("ews_tui") / "data" / "circuits.toml").read_text(encoding="utf-8")
    rows = tomllib.loads(text)["circuits"]
    return tuple(
        Circuit(id=i, name=row["name"], preset=row["preset"]) for i, row in enumerate(rows, start=1)
    )


def new_installation() -> Installation:
    """A factory-new box: the Local gateway and the preset circuits."""
    local = Gateway(id=LOCAL_GATEWAY_ID, name=LOCAL_NAME, ip=LOCAL_IP)
    return Installation(gateways=(local,), circuits=preset_circuits())


# ------------------------------------------------------------------------ defaults


def normalize(inst: Installation, ctx: RuleContext) -> Installation:
    """Fill what the manual fills when left empty: names, and the supply direction."""
    gateways = tuple(
        replace(g, name=g.name.strip() or g.ip.strip(), description=g.description.strip())
        for g in inst.gateways
    )
    inst = replace(inst, gateways=gateways)
    taken = {d.name.strip().casefold() for d in inst.devices if d.name.strip()}
    devices = []
    for device in inst.devices:
        model = ctx.catalog.find(device.model)
        name = device.name.strip()
        if not name:
            name = _default_name(inst, device, taken)
            taken.add(name.casefold())
        supply = device.supply
        if model is not None and model.supply_direction and supply is None:
            supply = "upstream"
        devices.append(replace(device, name=name, supply=supply))
    return replace(inst, devices=tuple(devices))


def _default_name(inst: Installation, device: Device, taken: set[str]) -> str:
    """The address as the manual says; the gateway's name added when that is taken."""
    name = device.address_text()
    if name.casefold() in taken:
        gateway = inst.gateway(device.gateway_id)
        name = f"{name} ({gateway.name if gateway else device.gateway_id})"
    return name


def checked(old: Installation, new: Installation, ctx: RuleContext) -> Installation:
    """``new`` normalised, or InstallationError with the violations ``old`` did not have."""
    new = normalize(new, ctx)
    before = {v.key for v in validate(old, ctx)}
    introduced = [v for v in validate(new, ctx) if v.key not in before]
    if introduced:
        raise InstallationError(introduced)
    return replace(new, revision=old.revision + 1)


# ------------------------------------------------------------------------ gateways


def save_gateway(inst: Installation, gateway: Gateway, ctx: RuleContext) -> Installation:
    """Add (id 0) or update a gateway. Local keeps its fixed IP."""
    if gateway.id == 0:
        gateway = replace(gateway, id=inst.next_id("gateways"))
        return checked(inst, replace(inst, gateways=(*inst.gateways, gateway)), ctx)
    old = inst.gateway(gateway.id)
    if old is None:
        raise _refuse(
            "gateways", ("gateway", gateway.id), N_("gateway #{id} does not exist"), id=gateway.id
        )
    if old.is_local and gateway.ip != LOCAL_IP:
        raise _refuse(
            f"{gateway_place(inst, old.id)}.ip",
            ("gateway", old.id),
            N_("the Local gateway's IP address is fixed at {ip}"),
            ip=LOCAL_IP,
        )
    gateways = tuple(gateway if g.id == gateway.id else g for g in inst.gateways)
    return checked(inst, replace(inst, gateways=gateways), ctx)


def delete_gateway(inst: Installation, gateway_id: int, ctx: RuleContext) -> Installation:
    gateway = inst.gateway(gateway_id)
    if gateway is None:
        raise _refuse(
            "gateways", ("gateway", gateway_id), N_("gateway #{id} does not exist"), id=gateway_id
        )
    place = gateway_place(inst, gateway_id)
    if gateway.is_local:
        raise _refuse(
            place,
            ("gateway", gateway_id),
            N_("the Local gateway cannot be deleted, only switched OFF"),
        )
    if inst.devices_of(gateway_id):
        raise _refuse(
            place,
            ("gateway", gateway_id),
            N_('gateway "{name}" still has {count} devices: delete them first'),
            name=gateway.name,
            count=len(inst.devices_of(gateway_id)),
        )
    gateways = tuple(g for g in inst.gateways if g.id != gateway_id)
    return checked(inst, replace(inst, gateways=gateways), ctx)


def set_gateway_enabled(
    inst: Installation, gateway_id: int, enabled: bool, ctx: RuleContext
) -> Installation:
    """Switch a gateway ON or OFF; OFF switches its devices OFF (see ``device_enabled``)."""
    gateway = inst.gateway(gateway_id)
    if gateway is None:
        raise _refuse(
            "gateways", ("gateway", gateway_id), N_("gateway #{id} does not exist"), id=gateway_id
        )
    return save_gateway(inst, replace(gateway, enabled=enabled), ctx)


def set_eq_device(
    inst: Installation, gateway_id: int, device_id: int | None, ctx: RuleContext
) -> Installation:
    gateway = inst.gateway(gateway_id)
    if gateway is None:
        raise _refuse(
            "gateways", ("gateway", gateway_id), N_("gateway #{id} does not exist"), id=gateway_id
        )
    return save_gateway(inst, replace(gateway, eq_device_id=device_id), ctx)


# ------------------------------------------------------------------------- devices


def save_device(inst: Installation, device: Device, ctx: RuleContext) -> Installation:
    """Add (id 0) or update a device."""
    if device.id == 0:
        device = replace(device, id=inst.next_id("devices"))
        return checked(inst, replace(inst, devices=(*inst.devices, device)), ctx)
    if inst.device(device.id) is None:
        raise _refuse(
            "devices", ("device", device.id), N_("device #{id} does not exist"), id=device.id
        )
    devices = tuple(device if d.id == device.id else d for d in inst.devices)
    return checked(inst, replace(inst, devices=devices), ctx)


def delete_device(inst: Installation, device_id: int, ctx: RuleContext) -> Installation:
    device = inst.device(device_id)
    if device is None:
        raise _refuse(
            "devices", ("device", device_id), N_("device #{id} does not exist"), id=device_id
        )
    gateways = tuple(
        replace(g, eq_device_id=None) if g.eq_device_id == device_id else g for g in inst.gateways
    )
    devices = tuple(d for d in inst.devices if d.id != device_id)
    return checked(inst, replace(inst, gateways=gateways, devices=devices), ctx)


def set_device_enabled(
    inst: Installation, device_id: int, enabled: bool, ctx: RuleContext
) -> Installation:
    device = inst.device(device_id)
    if device is None:
        raise _refuse(
            "devices", ("device", device_id), N_("device #{id} does not exist"), id=device_id
        )
    return save_device(inst, replace(device, enabled=enabled), ctx)


def device_problems(inst: Installation, device: Device, ctx: RuleContext) -> list[Violation]:
    """What is wrong with a device form before saving (for the UI, field by field)."""
    if device.id == 0:
        candidate = replace(device, id=inst.next_id("devices"))
        trial = replace(inst, devices=(*inst.devices, candidate))
    else:
        candidate = device
        trial = replace(
            inst, devices=tuple(device if d.id == device.id else d for d in inst.devices)
        )
    trial = normalize(trial, ctx)
    place = device_place(trial, candidate)
    return [
        v
        for v in validate(trial, ctx)
        if v.subject == ("device", candidate.id) or v.place.startswith(place + ".")
    ]


# ----------------------------------------------- circuits, zones and switchboards

_GROUPS = {Circuit: "circuits", Zone: "zones", Switchboard: "switchboards"}


def _with_group(inst: Installation, kind: str, items: tuple[Any, ...]) -> Installation:
    """``inst`` whose ``kind`` ("circuits", "zones" or "switchboards") is ``items``."""
    changes: dict[str, Any] = {kind: items}
    return replace(inst, **changes)


def save_group(
    inst: Installation, item: Circuit | Zone | Switchboard, ctx: RuleContext
) -> Installation:
    """Add (id 0) or update a circuit, zone or switchboard."""
    kind = _GROUPS[type(item)]
    items = inst.groups(kind)
    if item.id == 0:
        if isinstance(item, Circuit):
            if item.preset is not None:
                raise _refuse(kind, ("circuit", 0), N_("preset circuits cannot be added"))
            if sum(1 for c in inst.circuits if not c.is_preset) >= MAX_USER_CIRCUITS:
                raise _refuse(
                    kind,
                    ("circuit", 0),
                    N_("at most {max} circuits of your own ({total} in all)"),
                    max=MAX_USER_CIRCUITS,
                    total=14,
                )
        item = replace(item, id=inst.next_id(kind))
        return checked(inst, _with_group(inst, kind, (*items, item)), ctx)
    old = next((i for i in items if i.id == item.id), None)
    if old is None:
        raise _refuse(kind, (kind[:-1], item.id), N_("#{id} does not exist"), id=item.id)
    if isinstance(old, Circuit) and isinstance(item, Circuit) and old.preset != item.preset:
        raise _refuse(kind, ("circuit", item.id), N_("a circuit's preset cannot change"))
    new_items = tuple(item if i.id == item.id else i for i in items)
    return checked(inst, _with_group(inst, kind, new_items), ctx)


def delete_group(inst: Installation, kind: str, item_id: int, ctx: RuleContext) -> Installation:
    """Delete a user circuit, a zone or a switchboard; what pointed to it lets go."""
    items = inst.groups(kind)
    index = next((i for i, it in enumerate(items) if it.id == item_id), None)
    if index is None:
        raise _refuse(kind, (kind[:-1], item_id), N_("#{id} does not exist"), id=item_id)
    target = items[index]
    if isinstance(target, Circuit) and target.is_preset:
        raise _refuse(
            f"circuits[{index}]",
            ("circuit", item_id),
            N_("preset circuits can only be deactivated"),
        )
    devices, gateways = inst.devices, inst.gateways
    if kind == "circuits":
        devices = tuple(
            replace(d, circuit_id=None) if d.circuit_id == item_id else d for d in devices
        )
    elif kind == "zones":
        devices = tuple(
            replace(d, zone_ids=tuple(z for z in d.zone_ids if z != item_id)) for d in devices
        )
    else:
        gateways = tuple(
            replace(g, switchboard_id=None) if g.switchboard_id == item_id else g for g in gateways
        )
    remaining = tuple(it for it in items if it.id != item_id)
    new = replace(_with_group(inst, kind, remaining), devices=devices, gateways=gateways)
    return checked(inst, new, ctx)


def set_group_active(
    inst: Installation, kind: str, item_id: int, active: bool, ctx: RuleContext
) -> Installation:
    item = next((it for it in inst.groups(kind) if it.id == item_id), None)
    if item is None:
        raise _refuse(kind, (kind[:-1], item_id), N_("#{id} does not exist"), id=item_id)
    return save_group(inst, replace(item, active=active), ctx)
