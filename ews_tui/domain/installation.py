"""The installation model (manual §7.16): gateways, devices, circuits, zones, switchboards.

Plain frozen values. Objects refer to each other by id; names are for people and TOML.
The rules live in :mod:`ews_tui.domain.rules`, the edits in :mod:`ews_tui.domain.edits`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

LOCAL_IP = "127.0.0.1"
LOCAL_NAME = "Local"
LOCAL_GATEWAY_ID = 1
DEFAULT_TCP_PORT = 502

Supply = Literal["upstream", "downstream"]
Phase = Literal["L1", "L2", "L3"]
PHASES: tuple[str, ...] = ("L1", "L2", "L3")
SUPPLIES: tuple[str, ...] = ("upstream", "downstream")
KINDS: tuple[str, ...] = ("gateways", "devices", "circuits", "zones", "switchboards")


@dataclass(frozen=True)
class GenericRegister:
    """The four fields of the generic Modbus meter: where its positive active energy is."""

    fc: int = 3
    register: int = 0
    words: int = 2
    multiplier: float = 1.0


@dataclass(frozen=True)
class Advanced:
    """The device's Advanced page (manual §7.16.1.4)."""

    exclude_from_totals: bool = False
    exclude_from_alarms: bool = False
    # Custom labels of inputs/outputs: "in1" / "out3" -> label.
    labels: tuple[tuple[str, str], ...] = ()

    def label(self, key: str) -> str | None:
        return dict(self.labels).get(key)


@dataclass(frozen=True)
class Device:
    id: int
    gateway_id: int
    model: str  # catalog reference as written ("0 146 68"); "" when missing
    address: int  # Modbus address (for EMS CX3 remote: interface * 10 + device)
    name: str = ""
    # EMS CX3 remote addressing "device-interface" (e.g. 2-1): the interface address, else None.
    interface: int | None = None
    # Pulse meters: the concentrator model and the input position on it.
    concentrator: str | None = None
    position: int | None = None
    # Two-sided chargers (former range): side 1 or 2. Single-phase chargers: the phase.
    side: int | None = None
    phase: str | None = None
    supply: str | None = None  # "upstream" / "downstream" where the model needs it
    circuit_id: int | None = None
    zone_ids: tuple[int, ...] = ()
    generic: GenericRegister | None = None
    advanced: Advanced = field(default_factory=Advanced)
    enabled: bool = True

    @property
    def local_address(self) -> int:
        """The address typed in the form: the device part for EMS CX3 remote addressing."""
        if self.interface is not None:
            return self.address - self.interface * 10
        return self.address

    def address_text(self) -> str:
        """The address as the manual writes it: ``12``, ``2-1``, ``5-3`` (address-position)."""
        if self.interface is not None:
            return f"{self.local_address}-{self.interface}"
        if self.position is not None:
            return f"{self.address}-{self.position}"
        if self.side is not None:
            return f"{self.address}-{self.side}"
        return str(self.address)

    def display_name(self) -> str:
        return self.name or self.address_text()


@dataclass(frozen=True)
class Gateway:
    id: int
    name: str
    ip: str
    port: int = DEFAULT_TCP_PORT
    description: str = ""
    switchboard_id: int | None = None
    eq_device_id: int | None = None
    enabled: bool = True

    @property
    def is_local(self) -> bool:
        return self.id == LOCAL_GATEWAY_ID


@dataclass(frozen=True)
class Circuit:
    id: int
    name: str
    preset: str | None = None  # preset key ("heating", ...) for the RT 2012 categories
    active: bool = True

    @property
    def is_preset(self) -> bool:
        return self.preset is not None


@dataclass(frozen=True)
class Zone:
    id: int
    name: str
    description: str = ""
    active: bool = True


@dataclass(frozen=True)
class Switchboard:
    id: int
    name: str
    description: str = ""
    active: bool = True


@dataclass(frozen=True)
class Installation:
    gateways: tuple[Gateway, ...]
    devices: tuple[Device, ...] = ()
    circuits: tuple[Circuit, ...] = ()
    zones: tuple[Zone, ...] = ()
    switchboards: tuple[Switchboard, ...] = ()
    revision: int = 0
    # Highest id ever given, per kind: a deleted object's id is never given again, so its
    # history (samples, consumption) can never be taken over by a new object.
    last_ids: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        marks = dict(self.last_ids)
        for kind in KINDS:
            highest = max((item.id for item in getattr(self, kind)), default=0)
            marks[kind] = max(marks.get(kind, 0), highest)
        object.__setattr__(self, "last_ids", tuple(sorted(marks.items())))

    # ------------------------------------------------------------------ lookups
    def groups(self, kind: str) -> tuple[Circuit | Zone | Switchboard, ...]:
        """The ``"circuits"``, ``"zones"`` or ``"switchboards"``; ValueError for another kind."""
        if kind == "circuits":
            return self.circuits
        if kind == "zones":
            return self.zones
        if kind == "switchboards":
            return self.switchboards
        raise ValueError(f"{kind!r} is not a kind of group")

    def gateway(self, gateway_id: int) -> Gateway | None:
        return next((g for g in self.gateways if g.id == gateway_id), None)

    def device(self, device_id: int) -> Device | None:
        return next((d for d in self.devices if d.id == device_id), None)

    def circuit(self, circuit_id: int) -> Circuit | None:
        return next((c for c in self.circuits if c.id == circuit_id), None)

    def zone(self, zone_id: int) -> Zone | None:
        return next((z for z in self.zones if z.id == zone_id), None)

    def switchboard(self, switchboard_id: int) -> Switchboard | None:
        return next((s for s in self.switchboards if s.id == switchboard_id), None)

    def devices_of(self, gateway_id: int) -> tuple[Device, ...]:
        return tuple(d for d in self.devices if d.gateway_id == gateway_id)

    @property
    def local(self) -> Gateway:
        gateway = self.gateway(LOCAL_GATEWAY_ID)
        assert gateway is not None, "the Local gateway always exists"
        return gateway

    def device_enabled(self, device: Device) -> bool:
        """A device polls only when it and its gateway are ON."""
        gateway = self.gateway(device.gateway_id)
        return device.enabled and gateway is not None and gateway.enabled

    def next_id(self, kind: str) -> int:
        """A fresh id for a new gateway/device/circuit/zone/switchboard (never reused)."""
        return dict(self.last_ids)[kind] + 1

    def with_(self, **changes: object) -> Installation:
        return replace(self, **changes)  # type: ignore[arg-type]
