"""The cost pages as part of the installation document (``[[costs]]`` of ``ews install``).

Circuits and zones are named, as elsewhere in the document; prices are written as decimal
text so that they read back exactly as typed (a number is accepted too). Reading never
raises on bad content: every problem comes back as a violation with its place in the file.

    [[costs]]
    energy = "electricity"
    currency = "EUR"

    [[costs.rules]]
    name = "Offices"
    circuits = ["Lighting"]        # and/or zones = [...]; neither: the whole site

    [[costs.rules.tariffs]]
    valid_from = 2025-02-01
    base = "0.2516"

    [[costs.rules.tariffs.bands]]
    days = ["mon", "tue", "wed", "thu", "fri"]
    start = 22
    end = 24
    price = "0.2068"
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ews_tui.domain.costs import (
    DAYS,
    ENERGIES,
    CostError,
    CostRule,
    CostSettings,
    EnergyCosts,
    Tariff,
    TimeBand,
    validate,
)
from ews_tui.domain.installation import Installation
from ews_tui.domain.messages import N_, Message
from ews_tui.domain.rules import Violation
from ews_tui.domain.text_rules import excerpts

_PAGE_KEYS = {"energy", "currency", "kwh_per_m3", "rules"}
_RULE_KEYS = {"name", "circuits", "zones", "tariffs"}
_TARIFF_KEYS = {"valid_from", "base", "bands"}
_BAND_KEYS = {"days", "start", "end", "price"}


# ---------------------------------------------------------------------- writing


def costs_to_document(costs: CostSettings, inst: Installation) -> list[dict[str, Any]]:
    """The cost pages as TOML-ready tables (names instead of ids)."""
    pages = []
    for page in costs.energies:
        out: dict[str, Any] = {"energy": page.energy, "currency": page.currency}
        if page.kwh_per_m3 is not None:
            out["kwh_per_m3"] = str(page.kwh_per_m3)
        out["rules"] = [_rule_doc(rule, inst) for rule in page.rules]
        pages.append(out)
    return pages


def _rule_doc(rule: CostRule, inst: Installation) -> dict[str, Any]:
    out: dict[str, Any] = {"name": rule.name}
    circuits = [c.name for cid in rule.circuit_ids if (c := inst.circuit(cid)) is not None]
    zones = [z.name for zid in rule.zone_ids if (z := inst.zone(zid)) is not None]
    if circuits:
        out["circuits"] = circuits
    if zones:
        out["zones"] = zones
    out["tariffs"] = [
        {
            "valid_from": t.valid_from,
            "base": str(t.base),
            "bands": [
                {
                    "days": [DAYS[d] for d in sorted(b.days)],
                    "start": b.start,
                    "end": b.end,
                    "price": str(b.price),
                }
                for b in t.bands
            ],
        }
        for t in rule.tariffs
    ]
    return out


# ---------------------------------------------------------------------- reading


@dataclass
class _Reader:
    inst: Installation
    problems: list[Violation] = field(default_factory=list)

    def problem(self, place: str, msgid: str, **params: object) -> None:
        self.problems.append(Violation(place, Message(msgid, excerpts(params))))

    def table(self, raw: Any, place: str, keys: set[str]) -> Mapping[str, Any]:
        if not isinstance(raw, Mapping):
            self.problem(place, N_("expected a table"))
            return {}
        for key in sorted(set(raw) - keys, key=str):
            self.problem(f"{place}.{key}", N_("unknown key"))
        return raw

    def array(self, table: Mapping[str, Any], key: str, place: str) -> list[Any]:
        value = table.get(key, [])
        if not isinstance(value, list):
            self.problem(f"{place}.{key}", N_("expected an array of tables"))
            return []
        return value

    def text(self, table: Mapping[str, Any], key: str, place: str, default: str) -> str:
        value = table.get(key, default)
        if not isinstance(value, str):
            self.problem(f"{place}.{key}", N_("expected text, got {value!r}"), value=value)
            return default
        return value

    def integer(self, table: Mapping[str, Any], key: str, place: str) -> int:
        value = table.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(
                f"{place}.{key}",
                N_("expected {kind}, got {value!r}"),
                kind="integer",
                value=value,
            )
            return 0
        return value

    def decimal(self, table: Mapping[str, Any], key: str, place: str) -> Decimal | None:
        value = table.get(key)
        if value is None:
            self.problem(f"{place}.{key}", N_("a price is required"))
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem(f"{place}.{key}", N_('"{value}" is not a number'), value=value)
            return None
        try:
            number = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            self.problem(f"{place}.{key}", N_('"{value}" is not a number'), value=value)
            return None
        return number

    def names(self, table: Mapping[str, Any], key: str, place: str, find: Any) -> tuple[int, ...]:
        value = table.get(key, [])
        if not isinstance(value, list):
            self.problem(f"{place}.{key}", N_("expected a list of names"))
            return ()
        ids = []
        for index, name in enumerate(value):
            found = find(name) if isinstance(name, str) else None
            if found is None:
                msgid = (
                    N_('no circuit is named "{name}"')
                    if key == "circuits"
                    else N_('no zone is named "{name}"')
                )
                self.problem(f"{place}.{key}[{index}]", msgid, name=name)
            else:
                ids.append(found)
        return tuple(sorted(set(ids)))


def costs_from_document(raw: Any, inst: Installation) -> tuple[CostSettings, list[Violation]]:
    """The cost pages of a document's ``costs`` array, circuits and zones resolved in
    ``inst`` (the installation imported with them); every problem with its file place."""
    reader = _Reader(inst)
    if not isinstance(raw, list):
        reader.problem("costs", N_("expected an array of tables"))
        return CostSettings(), reader.problems
    pages: dict[str, EnergyCosts] = {}
    places: dict[str, str] = {}
    for index, item in enumerate(raw):
        place = f"costs[{index}]"
        table = reader.table(item, place, _PAGE_KEYS)
        if not table:
            continue
        energy = reader.text(table, "energy", place, "")
        if energy not in ENERGIES:
            reader.problem(
                f"{place}.energy",
                N_('"{value}" is not an energy type ({allowed})'),
                value=energy,
                allowed=", ".join(ENERGIES),
            )
            continue
        if energy in pages:
            reader.problem(f"{place}.energy", N_("{value} is given twice"), value=energy)
            continue
        factor = reader.decimal(table, "kwh_per_m3", place) if "kwh_per_m3" in table else None
        rules = tuple(
            _read_rule(reader, r, f"{place}.rules[{i}]")
            for i, r in enumerate(reader.array(table, "rules", place))
        )
        pages[energy] = EnergyCosts(
            energy, reader.text(table, "currency", place, "EUR"), rules, factor
        )
        places[energy] = place
    settings = CostSettings(tuple(pages.get(e, EnergyCosts(e)) for e in ENERGIES))
    if not reader.problems:
        try:
            validate(settings)
        except CostError as error:
            for where, message in error.problems:
                energy, _dot, rest = where.partition(".")
                head = places.get(energy, f"costs.{energy}")
                reader.problems.append(Violation(f"{head}.{rest}" if rest else head, message))
    return settings, reader.problems


def _read_rule(reader: _Reader, raw: Any, place: str) -> CostRule:
    table = reader.table(raw, place, _RULE_KEYS)
    inst = reader.inst

    def circuit(name: str) -> int | None:
        key = name.strip().casefold()
        found = next((c for c in inst.circuits if c.name.strip().casefold() == key), None)
        found = found or next((c for c in inst.circuits if c.preset == name), None)
        return found.id if found is not None else None

    def zone(name: str) -> int | None:
        key = name.strip().casefold()
        found = next((z for z in inst.zones if z.name.strip().casefold() == key), None)
        return found.id if found is not None else None

    return CostRule(
        name=reader.text(table, "name", place, ""),
        tariffs=tuple(
            _read_tariff(reader, t, f"{place}.tariffs[{i}]")
            for i, t in enumerate(reader.array(table, "tariffs", place))
        ),
        circuit_ids=reader.names(table, "circuits", place, circuit),
        zone_ids=reader.names(table, "zones", place, zone),
    )


def _read_tariff(reader: _Reader, raw: Any, place: str) -> Tariff:
    table = reader.table(raw, place, _TARIFF_KEYS)
    value = table.get("valid_from")
    valid_from = date(2000, 1, 1)
    if isinstance(value, date) and not isinstance(value, datetime):
        valid_from = value
    elif isinstance(value, str):
        try:
            valid_from = date.fromisoformat(value)
        except ValueError:
            reader.problem(f"{place}.valid_from", N_("{value} is not a date (YYYY-MM-DD)"),
                           value=value)  # fmt: skip
    else:
        reader.problem(f"{place}.valid_from", N_("{value} is not a date (YYYY-MM-DD)"),
                       value=value)  # fmt: skip
    return Tariff(
        valid_from,
        reader.decimal(table, "base", place) or Decimal(0),
        tuple(
            _read_band(reader, b, f"{place}.bands[{i}]")
            for i, b in enumerate(reader.array(table, "bands", place))
        ),
    )


def _read_band(reader: _Reader, raw: Any, place: str) -> TimeBand:
    table = reader.table(raw, place, _BAND_KEYS)
    days: set[int] = set()
    value = table.get("days", [])
    for index, day in enumerate(value if isinstance(value, list) else [value]):
        if isinstance(day, str) and day.strip().lower() in DAYS:
            days.add(DAYS.index(day.strip().lower()))
        else:
            reader.problem(
                f"{place}.days[{index}]",
                N_('"{value}" is not a day ({allowed})'),
                value=day,
                allowed=", ".join(DAYS),
            )
    return TimeBand(
        frozenset(days),
        reader.integer(table, "start", place),
        reader.integer(table, "end", place),
        reader.decimal(table, "price", place) or Decimal(0),
    )
