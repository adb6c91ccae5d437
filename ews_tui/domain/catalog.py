"""The device catalog: families, models and their register maps, read from data files.

The catalog is data (``ews_tui/data/catalog/*.toml`` plus user model files); this module
only turns parsed TOML documents into frozen values and answers lookups. It does no I/O
itself except :func:`builtin_catalog`, which reads the package's own data files.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any, Literal

from ews_tui.domain.errors import CatalogError
from ews_tui.domain.messages import N_, Message

Addressing = Literal["modbus", "emscx3", "pulse"]
Provenance = Literal["published", "assumed"]
EnergyType = Literal["electricity", "gas", "water", "none"]
RegisterType = Literal["u16", "s16", "u32", "s32", "u64", "s64", "float32", "float64"]

REGISTER_WORDS: dict[str, int] = {
    "u16": 1,
    "s16": 1,
    "u32": 2,
    "s32": 2,
    "u64": 4,
    "s64": 4,
    "float32": 2,
    "float64": 4,
}
_ADDRESSING = ("modbus", "emscx3", "pulse")
_PROVENANCE = ("published", "assumed")
_ENERGY = ("electricity", "gas", "water", "none")
_POLL = ("fast", "slow")
_WORD_ORDER = ("high_first", "low_first")
_BYTE_ORDER = ("big", "little")


@dataclass(frozen=True)
class Quantity:
    """One value a model gives: where it is and how to decode it."""

    id: str
    unit: str
    register: int
    type: RegisterType
    scale: float = 1.0
    fc: int = 3
    poll: Literal["fast", "slow"] = "fast"
    # Raw values that mean "not available"; decoded as missing, never as a number.
    missing: tuple[int, ...] = ()
    # For state quantities: raw value -> state id (e.g. breaker open/closed/tripped).
    states: Mapping[int, str] = field(default_factory=dict)

    @property
    def words(self) -> int:
        return REGISTER_WORDS[self.type]


@dataclass(frozen=True)
class RegisterMap:
    """A declarative register map, shared by the models that speak the same table."""

    id: str
    provenance: Provenance
    word_order: Literal["high_first", "low_first"] = "high_first"
    byte_order: Literal["big", "little"] = "big"
    turnaround_ms: float = 5.0
    quantities: tuple[Quantity, ...] = ()
    # Inclusive register ranges a read must never cross, per function code.
    unreadable: tuple[tuple[int, int, int], ...] = ()  # (fc, first, last)
    source: str = ""
    # Two-sided chargers: side 2's registers are side 1's plus this offset (0: one side).
    side_offset: int = 0
    # Most registers the device accepts in one read (Eastron meters: 80).
    max_registers: int = 125

    def quantity(self, qid: str) -> Quantity | None:
        return next((q for q in self.quantities if q.id == qid), None)

    def for_side(self, side: int) -> RegisterMap:
        """This map for side ``side`` (1 or 2) of a two-sided charger."""
        if side == 1 or not self.side_offset:
            return self
        offset = self.side_offset * (side - 1)
        return replace(
            self,
            id=f"{self.id}@side{side}",
            quantities=tuple(replace(q, register=q.register + offset) for q in self.quantities),
            unreadable=tuple((fc, a + offset, b + offset) for fc, a, b in self.unreadable),
        )


@dataclass(frozen=True)
class Model:
    """One catalog reference (``0 146 68``) with what the installation rules need to know."""

    ref: str
    name: str
    family: str
    provenance: Provenance
    map: str | None = None
    addressing: Addressing = "modbus"
    energy: EnergyType = "electricity"
    phases: int | None = None
    sides: int = 1
    supply_direction: bool = False
    thd: bool = False
    harmonics: bool = False
    alarm_exclusion: bool = False
    inputs: int = 0
    outputs: int = 0
    labels: bool = False
    pulse_inputs: int = 0
    generic: bool = False
    breaker: bool = False
    charger: bool = False
    aliases: tuple[str, ...] = ()
    maker: str = "Legrand"

    @property
    def single_phase(self) -> bool:
        return self.phases == 1

    @property
    def is_concentrator(self) -> bool:
        return self.pulse_inputs > 0

    @property
    def index_unit(self) -> str:
        """Unit of this pulse meter's index as read from its concentrator input."""
        return "m3" if self.energy in ("gas", "water") else "kWh"


@dataclass(frozen=True)
class Family:
    id: str
    name: str
    order: int = 0


def normalize_ref(ref: str) -> str:
    """Catalog references compare without spaces, dashes or case: ``0 146 68`` == ``014668``."""
    return re.sub(r"[\s\-_/.]", "", ref).upper()


@dataclass(frozen=True)
class Catalog:
    families: tuple[Family, ...]
    models: tuple[Model, ...]
    maps: Mapping[str, RegisterMap]

    _index: Mapping[str, Model] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, Model] = {}
        for model in self.models:
            for key in (model.ref, *model.aliases):
                index[normalize_ref(key)] = model
        object.__setattr__(self, "_index", index)

    def find(self, ref: str) -> Model | None:
        """The model for a reference written with or without spaces, or an alias."""
        return self._index.get(normalize_ref(ref))

    def family(self, family_id: str) -> Family | None:
        return next((f for f in self.families if f.id == family_id), None)

    def models_of(self, family_id: str) -> tuple[Model, ...]:
        return tuple(m for m in self.models if m.family == family_id)

    def register_map(self, model: Model) -> RegisterMap | None:
        return self.maps.get(model.map) if model.map else None

    def concentrators(self) -> tuple[Model, ...]:
        return tuple(m for m in self.models if m.is_concentrator)

    def merged(self, other: Catalog) -> Catalog:
        """This catalog with ``other``'s families, maps and models added (other wins)."""
        refs = {normalize_ref(m.ref) for m in other.models}
        fam_ids = {f.id for f in other.families}
        return Catalog(
            families=tuple(f for f in self.families if f.id not in fam_ids) + other.families,
            models=tuple(m for m in self.models if normalize_ref(m.ref) not in refs) + other.models,
            maps={**self.maps, **other.maps},
        )


# ------------------------------------------------------------------ quantity ids and units

# The stable quantity ids (UI, store, CSV, JSON) and their units. "" is dimensionless or a state.
QUANTITY_UNITS: Mapping[str, str] = {
    **{q: "V" for q in ("v1", "v2", "v3", "u12", "u23", "u31")},
    **{q: "A" for q in ("i1", "i2", "i3", "in")},
    **{q: "kW" for q in ("p", "p1", "p2", "p3")},
    "q": "kvar",
    "s": "kVA",
    "pf": "",
    "f": "Hz",
    **{q: "kWh" for q in ("ea_import", "ea_export", "session_energy")},
    **{q: "kvarh" for q in ("er_import", "er_export")},
    **{f"thd_{x}": "%" for x in ("v1", "v2", "v3", "u12", "u23", "u31", "i1", "i2", "i3", "in")},
    "breaker": "",
    "charger": "",
}
# Numbered ids: IO states in1..inN / out1..outN, and pulse indexes input1_index..inputN_index
# (in the unit the input is programmed for: see Model.index_unit).
_NUMBERED_IDS = re.compile(r"(in|out)[1-9][0-9]*|input[1-9][0-9]*_index")


def known_unit(qid: str) -> str | None:
    """The unit of a known quantity id, or None when the id is not one of ours."""
    if qid in QUANTITY_UNITS:
        return QUANTITY_UNITS[qid]
    return "" if _NUMBERED_IDS.fullmatch(qid) else None


def generic_map(fc: int, register: int, words: int, multiplier: float) -> RegisterMap:
    """The map of a "Generic Modbus meter": one active energy register given by the user."""
    if fc not in (3, 4):
        raise CatalogError("", Message(N_("function code {fc} is not 3 or 4"), {"fc": fc}))
    types: dict[int, RegisterType] = {1: "u16", 2: "u32", 4: "u64"}
    if words not in types:
        raise CatalogError("", Message(N_("{words} words is not 1, 2 or 4"), {"words": words}))
    if not 0 <= register <= 0x10000 - words:
        message = Message(
            N_("register {register} is outside 0..0xFFFF"), {"register": f"{register:#x}"}
        )
        raise CatalogError("", message)
    if isinstance(multiplier, bool) or not multiplier or not math.isfinite(multiplier):
        message = Message(
            N_("multiplier {multiplier} must be a non-zero number"),
            {"multiplier": repr(multiplier)},
        )
        raise CatalogError("", message)
    energy = Quantity(
        id="ea_import",
        unit="kWh",
        register=register,
        type=types[words],
        scale=float(multiplier),
        fc=fc,
        poll="slow",
    )
    return RegisterMap(
        id=f"generic:{fc}:{register:04X}:{words}:{multiplier:g}",
        provenance="assumed",
        quantities=(energy,),
        source="the user's own register, words and multiplier",
    )


# ------------------------------------------------------------------------ catalog files


def parse_catalog(documents: Iterable[tuple[str, Mapping[str, Any]]]) -> Catalog:
    """Build a catalog from parsed TOML documents, given as ``(name, document)`` pairs.

    The same format serves the built-in files and user model files; a user file may use the
    built-in families and maps (check the merged catalog with :func:`check_catalog`).
    Raises CatalogError naming the file and the place of the first fault.
    """
    from ews_tui.domain.catalog_parse import parse_documents  # the parser needs our values

    return parse_documents(documents)


def check_catalog(catalog: Catalog) -> None:
    """Raise CatalogError when a model names a family or a map that does not exist."""
    from ews_tui.domain.catalog_parse import check_references

    check_references(catalog)


_BUILTIN: Catalog | None = None


def builtin_catalog() -> Catalog:
    """The catalog shipped inside the package (read once)."""
    global _BUILTIN
    if _BUILTIN is None:
        folder = resources.files("ews_tui") / "data" / "catalog"
        docs = [
            (entry.name, tomllib.loads(entry.read_text(encoding="utf-8")))
            for entry in sorted(folder.iterdir(), key=lambda e: e.name)
            if entry.name.endswith(".toml")
        ]
        catalog = parse_catalog(docs)
        check_catalog(catalog)
        _BUILTIN = catalog
    return _BUILTIN
