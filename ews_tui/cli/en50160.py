"""``ews en50160``: the weekly EN 50160 verdict of each gateway's EQ device.

The stored verdict of the week (the last finished one unless ``--week``), or, when that week
was not checked yet (the box was off, or it is a past week), the check run now on the stored
10-minute values, and stored.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any
from zoneinfo import ZoneInfo

from ews_tui.cli.box import add_config_option, config_path, read_config
from ews_tui.cli.energy_store import open_energy_store
from ews_tui.cli.errors import UserError
from ews_tui.domain.en50160 import (
    CriterionLine,
    Verdict,
    WeekReport,
    last_finished_monday,
    parse_week,
    week_label,
    week_slots,
)
from ews_tui.domain.installation import Gateway
from ews_tui.domain.periods import SLOT_SECONDS
from ews_tui.hub import Hub
from ews_tui.i18n import _
from ews_tui.services.en50160 import En50160Checker

NONE = "—"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "en50160",
        help=_("the weekly EN 50160 verdict of each gateway's EQ device"),
        description=_(
            "The stored verdict of the week, or the check run now on the stored "
            "10-minute values when that week was not checked yet."
        ),
    )
    add_config_option(parser)
    parser.add_argument("--gateway", metavar="NAME", help=_("only this gateway (its name)"))
    parser.add_argument(
        "--week", metavar="YYYY-Www", help=_("the ISO week, e.g. 2026-W48 (default: the last one)")
    )
    parser.add_argument("--json", action="store_true", help=_("a JSON list on stdout"))
    parser.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    config = read_config(config_path(args))
    async with open_energy_store(config) as store:
        tz = store.tz
        if args.week:
            try:
                monday = parse_week(args.week)
            except ValueError as error:
                raise UserError(_("--week: {error}").format(error=error)) from None
        else:
            monday = last_finished_monday(time.time(), tz)
        slots = week_slots(monday, tz)
        if slots.stop * SLOT_SECONDS > time.time():
            raise UserError(
                _("week {week} is not over yet").format(
                    week=week_label(slots.start * SLOT_SECONDS, tz)
                )
            )
        gateways = [g for g in store.installation.gateways if g.eq_device_id is not None]
        if args.gateway is not None:
            gateways = [g for g in gateways if g.name == args.gateway]
            if not gateways:
                raise UserError(
                    _('no gateway named "{name}" has an EQ device').format(name=args.gateway)
                )
        if not gateways:
            raise UserError(_("no gateway has an EQ device (choose one on the Gateways screen)"))
        checker = En50160Checker(
            store.db,
            Hub(),
            config=lambda: config,
            installation=lambda: store.installation,
            catalog=lambda: store.catalog,
        )
        found: list[tuple[Gateway, WeekReport]] = []
        for gateway in gateways:
            report = await checker.repo.week(gateway.id, slots.start * SLOT_SECONDS)
            if report is None:
                checked = await checker.check(gateway, monday)
                report = checked.report if checked is not None else None
            if report is not None:
                found.append((gateway, report))
    if args.json:
        json.dump([_document(g, r, tz) for g, r in found], sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        for gateway, report in found:
            print_text(gateway, report, tz)
    return 0


def _document(gateway: Gateway, report: WeekReport, tz: ZoneInfo) -> dict[str, Any]:
    return {"week": week_label(report.start, tz), "gateway": gateway.name, **report.document()}


def verdict_word(value: str) -> str:
    words = {
        "ok": _("OK"),
        "ko": _("KO"),
        "insufficient": _("insufficient data"),
        Verdict.PASSED.value: _("passed"),
        Verdict.FAILED.value: _("failed"),
        Verdict.NOT_ASSESSED.value: _("not assessed"),
    }
    return words.get(value, value)


def _limit(line: CriterionLine) -> str:
    unit = f" {line.unit}" if line.unit else ""
    if line.low is None and line.high is not None:
        return f"≤ {line.high:g}{unit}"
    if line.low is not None and line.high is not None:
        return f"{line.low:g}–{line.high:g}{unit}"
    return NONE


def print_text(gateway: Gateway, report: WeekReport, tz: ZoneInfo) -> None:
    print(
        _("EN 50160 {week}, gateway {gateway}: {verdict}").format(
            week=week_label(report.start, tz),
            gateway=gateway.name,
            verdict=verdict_word(report.verdict.value),
        )
    )
    print(
        _("{valid} of {intervals} ten-minute intervals valid; {edition}").format(
            valid=report.intervals - report.flagged,
            intervals=report.intervals,
            edition=report.edition,
        )
    )
    heads = (_("Criterion"), "N", "N1", "N2", _("Worst"), _("Limit"), _("Verdict"))
    rows = []
    for line in report.criteria:
        if line.verdict is Verdict.NOT_ASSESSED and line.id.startswith("h"):
            continue  # the harmonics a device does not give: one line below says so
        label = _(line.label).format(order=line.id[1:])
        worst = NONE if line.worst is None else f"{line.worst:.2f}"
        rows.append(
            (label, str(line.n), str(line.n1), str(line.n2), worst, _limit(line),
             verdict_word(line.verdict.value))
        )  # fmt: skip
    widths = [max(len(x) for x in col) for col in zip(heads, *rows, strict=False)]
    print("  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)))
    for row in rows:
        print("  ".join(x.ljust(w) for x, w in zip(row, widths, strict=True)))
    missing = [c for c in report.criteria if c.id.startswith("h")]
    if missing and all(c.verdict is Verdict.NOT_ASSESSED for c in missing):
        print(_("Harmonics 2–25: not assessed (the EQ device does not measure them)"))
    if any(c.yearly for c in report.criteria):
        print(_("Frequency: the standard's yearly rule, applied to the week."))
    print(
        _("Not seen by a polling box: {phenomena}").format(
            phenomena=", ".join(_(p) for p in report.not_seen)
        )
    )
    print()
