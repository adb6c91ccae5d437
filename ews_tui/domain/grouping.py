"""Per-device consumption summed by device, circuit, zone, switchboard or for the site.

Pure. "Exclude from totals" devices (manual §7.16.1.4) are left out of the site total and of
the partial tables (circuit, zone, switchboard) but kept in the per-device details, so that,
for each period, the sum over circuits plus the excluded devices equals the sum of details.
A device without a circuit (zone, switchboard) is counted under a key with id ``None``.
A device may be in several zones: zone tables overlap and do not add up to the total.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from ews_tui.domain.catalog import Catalog
from ews_tui.domain.installation import Device, Installation
from ews_tui.domain.messages import N_

ENERGIES: tuple[str, ...] = ("electricity", "gas", "water")
UNITS: dict[str, str] = {"electricity": "kWh", "gas": "m3", "water": "m3"}
NO_CIRCUIT = N_("No circuit")
NO_ZONE = N_("No zone")
NO_SWITCHBOARD = N_("No switchboard")
SITE = N_("Site")


class By(StrEnum):
    DEVICE = "device"
    CIRCUIT = "circuit"
    ZONE = "zone"
    SWITCHBOARD = "switchboard"
    TOTAL = "total"


@dataclass(frozen=True, order=True)
class GroupKey:
    """What a row is about: ``kind`` (a :class:`By` value), the object's id and name."""

    kind: str
    id: int | None
    name: str


@dataclass(frozen=True)
class Amount:
    """One device's (or group's) consumption over one period.

    ``value`` in the meter's unit (kWh, m3); ``missing``: part of the period is unknown (a
    gap, a break, no reading); ``cost`` ``None`` when no cost rule applies.
    """

    value: float = 0.0
    missing: bool = False
    cost: float | None = None

    def __add__(self, other: Amount) -> Amount:
        if self.cost is None and other.cost is None:
            cost = None
        else:
            cost = (self.cost or 0.0) + (other.cost or 0.0)
        return Amount(self.value + other.value, self.missing or other.missing, cost)


def known(amount: Amount | None) -> Amount | None:
    """The amount, or None when nothing of its period is known (missing, nothing counted):
    such a period reads "—" (``null``), never 0."""
    if amount is None or (amount.missing and amount.value == 0):
        return None
    return amount


def energy_of(device: Device, catalog: Catalog) -> str | None:
    """The energy a device meters: electricity, gas, water, or None (no energy index).

    A pulse meter meters its model's energy; another device meters electricity when its
    register map (or its generic register) gives the active energy imported.
    """
    model = catalog.find(device.model) if device.model else None
    if device.generic is not None and (model is None or model.generic):
        return "electricity"
    if model is None:
        return None
    if model.addressing == "pulse":
        return model.energy if model.energy in ENERGIES else None
    reg_map = catalog.register_map(model)
    if reg_map is not None and reg_map.quantity("ea_import") is not None:
        return "electricity"
    return None


def metered_devices(inst: Installation, catalog: Catalog, energy: str) -> tuple[Device, ...]:
    """The devices of ``inst`` metering ``energy``, in installation order."""
    return tuple(d for d in inst.devices if energy_of(d, catalog) == energy)


def keys_of(device: Device, inst: Installation, by: By | str) -> tuple[GroupKey, ...]:
    """The keys ``device`` counts under when grouping ``by`` (several for zones)."""
    by = By(by)
    if by is By.DEVICE:
        return (GroupKey(by.value, device.id, device.display_name()),)
    if by is By.TOTAL:
        return (GroupKey(by.value, None, SITE),)
    if by is By.CIRCUIT:
        circuit = inst.circuit(device.circuit_id) if device.circuit_id is not None else None
        if circuit is None:
            return (GroupKey(by.value, None, NO_CIRCUIT),)
        return (GroupKey(by.value, circuit.id, circuit.name),)
    if by is By.ZONE:
        zones = [z for z in (inst.zone(i) for i in device.zone_ids) if z is not None]
        if not zones:
            return (GroupKey(by.value, None, NO_ZONE),)
        return tuple(GroupKey(by.value, z.id, z.name) for z in zones)
    gateway = inst.gateway(device.gateway_id)
    board_id = gateway.switchboard_id if gateway is not None else None
    board = inst.switchboard(board_id) if board_id is not None else None
    if board is None:
        return (GroupKey(by.value, None, NO_SWITCHBOARD),)
    return (GroupKey(by.value, board.id, board.name),)


def group(
    amounts: Mapping[tuple[int, int], Amount],
    devices: Iterable[Device],
    inst: Installation,
    by: By | str,
    periods: int,
) -> dict[GroupKey, list[Amount | None]]:
    """Sum ``amounts[(period, device_id)]`` by key; one list of ``periods`` values per key.

    A key's value is ``None`` for a period none of its devices has data for. Devices
    excluded from totals are skipped unless grouping by device.
    """
    by = By(by)
    out: dict[GroupKey, list[Amount | None]] = {}
    for device in devices:
        if by is not By.DEVICE and device.advanced.exclude_from_totals:
            continue
        for key in keys_of(device, inst, by):
            row = out.setdefault(key, [None] * periods)
            for index in range(periods):
                amount = amounts.get((index, device.id))
                if amount is None:
                    continue
                current = row[index]
                row[index] = amount if current is None else current + amount
    return out
