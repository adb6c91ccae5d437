"""Parsing and checking of catalog files (built-in and user model files).

Turns parsed TOML documents into the frozen values of :mod:`ews_tui.domain.catalog`; every
error names the file and the place (``user.toml: maps[0].quantities[3].unit: ...``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ews_tui.domain.catalog import (
    _ADDRESSING,
    _BYTE_ORDER,
    _ENERGY,
    _POLL,
    _PROVENANCE,
    _WORD_ORDER,
    REGISTER_WORDS,
    Catalog,
    Family,
    Model,
    Quantity,
    RegisterMap,
    known_unit,
    normalize_ref,
)
from ews_tui.domain.errors import CatalogError
from ews_tui.domain.messages import N_, Message
from ews_tui.domain.text_rules import MAX_DESCRIPTION, MAX_NAME, excerpt, text_problem


def _q(value: object) -> str:
    """A value quoted in a message: short, and printable (a user file can be hostile)."""
    return repr(excerpt(value))


def _fault(where: str, msgid: str, **params: object) -> CatalogError:
    """The error at ``where``: ``msgid`` (marked with N_) filled with ``params``."""
    return CatalogError(where, Message(msgid, params))


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise _fault(where, N_("expected an integer, got {value}"), value=_q(value))
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value, 0)
        except ValueError:
            pass
    raise _fault(where, N_("expected an integer or a 0x... string, got {value}"), value=_q(value))


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fault(where, N_("expected a number, got {value}"), value=_q(value))
    return float(value)


def _text(value: Any, where: str, max_length: int = MAX_DESCRIPTION) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fault(where, N_("expected a non-empty text, got {value}"), value=_q(value))
    if (problem := text_problem(value, max_length)) is not None:
        raise CatalogError(where, problem)
    return value


def _choice(value: Any, allowed: Iterable[str], where: str) -> Any:
    allowed = tuple(allowed)
    if value not in allowed:
        raise _fault(
            where,
            N_("{value} is not one of {allowed}"),
            value=_q(value),
            allowed=", ".join(allowed),
        )
    return value


def _known_keys(table: Any, allowed: set[str], where: str) -> None:
    if not isinstance(table, Mapping):
        raise _fault(where, N_("expected a table, got {value}"), value=_q(table))
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise _fault(where, N_("unknown key {key}"), key=_q(unknown[0]))


_QUANTITY_KEYS = {"id", "unit", "register", "type", "scale", "fc", "poll", "missing", "states"}
_MAP_KEYS = {f for f in RegisterMap.__dataclass_fields__}
_MODEL_KEYS = {f for f in Model.__dataclass_fields__} | {"refs"}
_FAMILY_KEYS = {"id", "name", "order"}
_MODEL_BOOLS = (
    "supply_direction",
    "thd",
    "harmonics",
    "alarm_exclusion",
    "labels",
    "generic",
    "breaker",
    "charger",
)
_MODEL_COUNTS = ("inputs", "outputs", "pulse_inputs")


def _parse_quantity(raw: Mapping[str, Any], where: str) -> Quantity:
    _known_keys(raw, _QUANTITY_KEYS, where)
    qid = raw.get("id")
    if not isinstance(qid, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", qid):
        raise _fault(f"{where}.id", N_("{value} is not a snake_case quantity id"), value=_q(qid))
    unit = raw.get("unit", "")
    expected = known_unit(qid)
    if expected is not None and unit != expected:
        if not expected:
            msgid = N_("{quantity} has no unit, not {unit}")
        else:
            msgid = N_("{quantity} is in {expected}, not {unit}")
        raise _fault(f"{where}.unit", msgid, quantity=qid, expected=_q(expected), unit=_q(unit))
    rtype = _choice(raw.get("type", "u16"), REGISTER_WORDS, f"{where}.type")
    register = _int(raw.get("register"), f"{where}.register")
    if not 0 <= register <= 0x10000 - REGISTER_WORDS[rtype]:
        raise _fault(
            f"{where}.register", N_("{register} is outside 0..0xFFFF"), register=f"{register:#x}"
        )
    fc = _int(raw.get("fc", 3), f"{where}.fc")
    if fc not in (3, 4):
        raise _fault(f"{where}.fc", N_("function code {fc} is not 3 or 4"), fc=fc)
    scale = _number(raw.get("scale", 1.0), f"{where}.scale")
    if scale == 0:
        raise _fault(f"{where}.scale", N_("must not be 0"))
    states = raw.get("states", {})
    if not isinstance(states, Mapping):
        raise _fault(f"{where}.states", N_("expected a table of raw value = state id"))
    if states and rtype.startswith("float"):
        raise _fault(f"{where}.states", N_("a state quantity needs an integer type"))
    missing = raw.get("missing", ())
    if not isinstance(missing, list | tuple):
        raise _fault(f"{where}.missing", N_("expected a list of raw values"))
    return Quantity(
        id=qid,
        unit=unit,
        register=register,
        type=rtype,
        scale=scale,
        fc=fc,
        poll=_choice(raw.get("poll", "fast"), _POLL, f"{where}.poll"),
        missing=tuple(_int(v, f"{where}.missing[{i}]") for i, v in enumerate(missing)),
        states={
            _int(k, f"{where}.states"): _text(v, f"{where}.states.{k}") for k, v in states.items()
        },
    )


def _check_layout(
    quantities: tuple[Quantity, ...], unreadable: list[tuple[int, int, int]], where: str
) -> None:
    """No two quantities share a register, and none sits in an unreadable range."""
    owner: dict[tuple[int, int], str] = {}
    for i, q in enumerate(quantities):
        if q.id in {o for o in owner.values()}:
            raise _fault(
                f"{where}.quantities[{i}].id", N_("{quantity} appears twice"), quantity=_q(q.id)
            )
        for reg in range(q.register, q.register + q.words):
            other = owner.setdefault((q.fc, reg), q.id)
            if other != q.id:
                raise _fault(
                    f"{where}.quantities[{i}]",
                    N_("{quantity} overlaps {other} at register {register}"),
                    quantity=_q(q.id),
                    other=_q(other),
                    register=f"{reg:#x}",
                )
            for fc, first, last in unreadable:
                if fc == q.fc and first <= reg <= last:
                    raise _fault(
                        f"{where}.quantities[{i}]",
                        N_("{quantity} is in the unreadable range {first}..{last}"),
                        quantity=_q(q.id),
                        first=f"{first:#x}",
                        last=f"{last:#x}",
                    )


def _parse_map(raw: Mapping[str, Any], where: str) -> RegisterMap:
    _known_keys(raw, _MAP_KEYS, where)
    map_id = raw.get("id")
    if not isinstance(map_id, str) or not map_id:
        raise _fault(f"{where}.id", N_("a register map needs an id"))
    _text(map_id, f"{where}.id", MAX_NAME)
    quantities = tuple(
        _parse_quantity(q, f"{where}.quantities[{i}]")
        for i, q in enumerate(raw.get("quantities", ()))
    )
    unreadable = []
    for i, span in enumerate(raw.get("unreadable", ())):
        if not isinstance(span, list | tuple) or len(span) != 3:
            raise _fault(f"{where}.unreadable[{i}]", N_("expected [fc, first, last]"))
        fc, first, last = (_int(v, f"{where}.unreadable[{i}]") for v in span)
        if fc not in (3, 4) or not 0 <= first <= last <= 0xFFFF:
            raise _fault(
                f"{where}.unreadable[{i}]", N_("{value} is not [3|4, first, last]"), value=_q(span)
            )
        unreadable.append((fc, first, last))
    _check_layout(quantities, unreadable, where)
    max_registers = _int(raw.get("max_registers", 125), f"{where}.max_registers")
    if not 1 <= max_registers <= 125:
        raise _fault(f"{where}.max_registers", N_("{value} is outside 1..125"), value=max_registers)
    side_offset = _int(raw.get("side_offset", 0), f"{where}.side_offset")
    turnaround = _number(raw.get("turnaround_ms", 5.0), f"{where}.turnaround_ms")
    if side_offset < 0 or turnaround < 0:
        raise _fault(where, N_("side_offset and turnaround_ms must not be negative"))
    return RegisterMap(
        id=map_id,
        provenance=_choice(raw.get("provenance"), _PROVENANCE, f"{where}.provenance"),
        word_order=_choice(raw.get("word_order", "high_first"), _WORD_ORDER, f"{where}.word_order"),
        byte_order=_choice(raw.get("byte_order", "big"), _BYTE_ORDER, f"{where}.byte_order"),
        turnaround_ms=turnaround,
        quantities=quantities,
        unreadable=tuple(unreadable),
        source=str(raw.get("source", "")),
        side_offset=side_offset,
        max_registers=max_registers,
    )


def _model_fields(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    common = {k: v for k, v in raw.items() if k not in ("refs", "ref")}
    for key in ("name", "family", "provenance"):
        if not isinstance(common.get(key), str):
            raise _fault(f"{where}.{key}", N_("required"))
        _text(common[key], f"{where}.{key}")
    _choice(common["provenance"], _PROVENANCE, f"{where}.provenance")
    _choice(common.get("addressing", "modbus"), _ADDRESSING, f"{where}.addressing")
    _choice(common.get("energy", "electricity"), _ENERGY, f"{where}.energy")
    for key in _MODEL_BOOLS:
        if not isinstance(common.get(key, False), bool):
            raise _fault(f"{where}.{key}", N_("expected true or false"))
    for key in _MODEL_COUNTS:
        if _int(common.get(key, 0), f"{where}.{key}") < 0:
            raise _fault(f"{where}.{key}", N_("must not be negative"))
    if "phases" in common and common["phases"] not in (1, 3):
        raise _fault(f"{where}.phases", N_("{value} is not 1 or 3"), value=_q(common["phases"]))
    if common.get("sides", 1) not in (1, 2):
        raise _fault(f"{where}.sides", N_("{value} is not 1 or 2"), value=_q(common["sides"]))
    if "map" in common:
        _text(common["map"], f"{where}.map", MAX_NAME)
    maker = common.get("maker", "")
    if not isinstance(maker, str):
        raise _fault(f"{where}.maker", N_("expected a text, got {value}"), value=_q(maker))
    if (problem := text_problem(maker, MAX_NAME)) is not None:
        raise CatalogError(f"{where}.maker", problem)
    aliases = common.get("aliases", [])
    if not isinstance(aliases, list | tuple):
        raise _fault(f"{where}.aliases", N_("expected a list of texts"))
    common["aliases"] = tuple(
        _text(a, f"{where}.aliases[{i}]", MAX_NAME) for i, a in enumerate(aliases)
    )
    return common


def _parse_models(raw: Mapping[str, Any], where: str) -> list[Model]:
    """One ``[[models]]`` entry; ``refs = [...]`` expands to one model per reference."""
    _known_keys(raw, _MODEL_KEYS, where)
    refs = raw.get("refs") or [raw.get("ref")]
    if not isinstance(refs, list | tuple):
        raise _fault(f"{where}.refs", N_("expected a list of references"))
    common = _model_fields(raw, where)
    models = []
    for ref in refs:
        if not isinstance(ref, str) or not ref.strip():
            raise _fault(f"{where}.ref", N_("required"))
        _text(ref, f"{where}.ref", MAX_NAME)
        models.append(Model(ref=ref.strip(), **common))
    return models


def parse_documents(documents: Iterable[tuple[str, Mapping[str, Any]]]) -> Catalog:
    """Build a catalog from parsed TOML documents, given as ``(name, document)`` pairs.

    The same format serves the built-in files and user model files; a user file may use the
    built-in families and maps (check the merged catalog with :func:`check_catalog`).
    """
    families: list[Family] = []
    maps: dict[str, RegisterMap] = {}
    models: list[Model] = []
    refs: dict[str, str] = {}
    for name, doc in documents:
        _known_keys(doc, {"families", "maps", "models"}, name)
        for i, fam in enumerate(doc.get("families", ())):
            where = f"{name}: families[{i}]"
            _known_keys(fam, _FAMILY_KEYS, where)
            families.append(
                Family(
                    id=_text(fam.get("id"), f"{where}.id"),
                    name=_text(fam.get("name"), f"{where}.name"),
                    order=_int(fam.get("order", 0), f"{where}.order"),
                )
            )
        for i, raw in enumerate(doc.get("maps", ())):
            reg_map = _parse_map(raw, f"{name}: maps[{i}]")
            if reg_map.id in maps:
                raise _fault(
                    f"{name}: maps[{i}].id", N_("{map} is defined twice"), map=_q(reg_map.id)
                )
            maps[reg_map.id] = reg_map
        for i, raw in enumerate(doc.get("models", ())):
            where = f"{name}: models[{i}]"
            for model in _parse_models(raw, where):
                for key in (model.ref, *model.aliases):
                    seen = refs.get(normalize_ref(key))
                    if seen is not None:
                        raise _fault(
                            where, N_("reference {ref} already in {place}"), ref=_q(key), place=seen
                        )
                    refs[normalize_ref(key)] = where
                models.append(model)
    return Catalog(
        families=tuple(sorted(families, key=lambda f: f.order)), models=tuple(models), maps=maps
    )


def check_references(catalog: Catalog) -> None:
    """Raise CatalogError when a model names a family or a map that does not exist."""
    family_ids = {f.id for f in catalog.families}
    for model in catalog.models:
        if model.family not in family_ids:
            raise _fault(
                "",
                N_("model {ref}: unknown family {family}"),
                ref=model.ref,
                family=_q(model.family),
            )
        if model.map is not None and model.map not in catalog.maps:
            raise _fault(
                "",
                N_("model {ref}: unknown register map {map}"),
                ref=model.ref,
                map=_q(model.map),
            )
        reg_map = catalog.maps.get(model.map) if model.map else None
        if model.sides == 2 and reg_map is not None and not reg_map.side_offset:
            raise _fault(
                "",
                N_("model {ref}: two sides but map {map} has no side_offset"),
                ref=model.ref,
                map=_q(model.map),
            )
