"""``ews report consumption``: consumption and cost by period and by device/circuit/zone/
switchboard or for the site, as a text table, ``--csv`` or ``--json``.

``--from`` and ``--to`` are local dates of the box's time zone, both included. A value
followed by ``*`` (``"missing": true`` in JSON and CSV) lacks part of its period's data.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import timedelta
from typing import Any

from ews_tui.cli.box import add_config_option, config_path, read_config
from ews_tui.cli.energy_store import open_energy_store, parse_date
from ews_tui.cli.errors import UserError
from ews_tui.domain.grouping import ENERGIES, By, GroupKey, known
from ews_tui.domain.periods import Step
from ews_tui.i18n import _
from ews_tui.store.consumption_repo import ConsumptionRepo, ConsumptionTable

NONE = "—"  # nothing known of the period (the screens show the same)
CSV_FIELDS = (
    "start",
    "end",
    "key",
    "kind",
    "id",
    "energy",
    "amount",
    "unit",
    "kwh",
    "cost",
    "currency",
    "missing",
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("report", help=_("consumption and cost tables"))
    inner = parser.add_subparsers(dest="report", metavar="REPORT", required=True)
    cons = inner.add_parser(
        "consumption",
        help=_("consumption and cost by period and by device, circuit, zone or switchboard"),
        description=_(
            "Dates are local dates of the box, --to included. A value marked * "
            "lacks part of its period's data."
        ),
    )
    add_config_option(cons)
    cons.add_argument("--from", dest="first", type=parse_date, required=True, metavar="DATE")
    cons.add_argument("--to", dest="last", type=parse_date, required=True, metavar="DATE")
    cons.add_argument("--step", choices=[s.value for s in Step], default="day")
    cons.add_argument("--by", choices=[b.value for b in By], default="total")
    cons.add_argument("--energy", choices=ENERGIES, default="electricity")
    form = cons.add_mutually_exclusive_group()
    form.add_argument("--csv", action="store_true", help=_("CSV on stdout"))
    form.add_argument("--json", action="store_true", help=_("a JSON list on stdout"))
    cons.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    if args.last < args.first:
        raise UserError(
            _("--to {last} is before --from {first}").format(last=args.last, first=args.first)
        )
    config = read_config(config_path(args))
    async with open_energy_store(config) as store:
        table = await ConsumptionRepo(store.db).table(
            store.installation,
            store.catalog,
            store.costs,
            store.tz,
            args.first,
            args.last + timedelta(days=1),
            args.step,
            args.by,
            args.energy,
        )
    records = to_records(table)
    if args.json:
        json.dump(records, sys.stdout, ensure_ascii=False, indent=1)
        print()
    elif args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    else:
        print_text(table, records)
    return 0


def key_name(key: GroupKey) -> str:
    """The key's name; the "no circuit" kind of names are translated. A name stored before
    control characters were refused comes escaped (``\\x1b``) from the installation store."""
    return _(key.name) if key.id is None else key.name


def to_records(table: ConsumptionTable) -> list[dict[str, Any]]:
    """One dict per period and key, in period order."""
    out = []
    for index, period in enumerate(table.periods):
        for key, values in table.rows.items():
            amount = known(values[index])  # nothing known of the period: null, never 0
            kwh = table.kwh(amount)
            out.append(
                {
                    "start": period.local_start.isoformat(),
                    "end": period.local_end.isoformat(),
                    "key": key_name(key),
                    "kind": key.kind,
                    "id": key.id,
                    "energy": table.energy,
                    "amount": _round(amount.value if amount else None),
                    "unit": table.unit,
                    "kwh": _round(kwh),
                    "cost": _round(amount.cost if amount else None),
                    "currency": table.currency,
                    "missing": amount.missing if amount else True,
                }
            )
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def print_text(table: ConsumptionTable, records: list[dict[str, Any]]) -> None:
    heads = (_("Start"), _("Key"), f"{_('Consumption')} ({table.unit})", _("Cost"))
    rows = []
    for r in records:
        amount = (
            NONE if r["amount"] is None else f"{r['amount']:.3f}" + ("*" if r["missing"] else "")
        )
        cost = NONE if r["cost"] is None else f"{r['cost']:.2f} {r['currency']}"
        rows.append((r["start"][:16].replace("T", " "), r["key"], amount, cost))
    widths = [max(len(str(x)) for x in col) for col in zip(heads, *rows, strict=False)]
    print("  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)))
    for row in rows:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
        cells += [row[2].rjust(widths[2]), row[3].rjust(widths[3])]
        print("  ".join(cells))
    if any(r["missing"] for r in records):
        print(_("* part of the period has no data"))
