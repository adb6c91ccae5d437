"""``ews export csv --out DIR [--from DATE --to DATE]``: the CSV folders for a date range.

Writes the same layout as the box's own CSV folders (see :mod:`ews_tui.store.csv_export`),
one file per local day, with a progress bar when stderr is a terminal. Without ``--from``
and ``--to``: yesterday and today. ``energy`` and ``measures`` come from the store;
``events`` are the box's own day files copied from its CSV folder (the store keeps no
history of state changes), for the days it has.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from ews_tui.cli.box import add_config_option, config_path, read_config
from ews_tui.cli.energy_store import open_energy_store, parse_date
from ews_tui.cli.errors import UserError
from ews_tui.i18n import _
from ews_tui.store.aggregates_repo import AggregatesRepo
from ews_tui.store.csv_export import CsvExporter


class ProgressLine:
    """A one-line progress bar on a terminal; silent when ``stream`` is not a tty."""

    WIDTH = 30

    def __init__(self, label: str, total: int, stream: TextIO) -> None:
        self.label, self.total, self.stream = label, max(total, 1), stream
        self.tty = stream.isatty()

    def update(self, done: int) -> None:
        if not self.tty:
            return
        fraction = min(done / self.total, 1.0)
        filled = int(fraction * self.WIDTH)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {fraction:4.0%}")
        self.stream.flush()

    def done(self) -> None:
        if self.tty:
            self.update(self.total)
            self.stream.write("\n")
            self.stream.flush()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("export", help=_("write the CSV folders"))
    inner = parser.add_subparsers(dest="format", metavar="FORMAT", required=True)
    out = inner.add_parser(
        "csv",
        help=_("energy, measures, events and eqcheck folders, one file per local day"),
        description=_(
            "Dates are local dates of the box, --to included (default: yesterday and today)."
        ),
    )
    add_config_option(out)
    out.add_argument("--out", type=Path, required=True, metavar="DIR")
    out.add_argument("--from", dest="first", type=parse_date, metavar="DATE")
    out.add_argument("--to", dest="last", type=parse_date, metavar="DATE")
    out.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    config = read_config(config_path(args))
    async with open_energy_store(config) as store:
        today = datetime.now(store.tz).date()
        last = args.last or today
        first = args.first or min(last, today - timedelta(days=1))
        if last < first:
            raise UserError(
                _("--to {last} is before --from {first}").format(last=last, first=first)
            )
        exporter = CsvExporter(
            AggregatesRepo(store.db), store.installation, store.catalog, store.tz
        )
        progress = ProgressLine(_("exporting"), (last - first).days + 1, sys.stderr)
        try:
            files = await exporter.export(
                args.out,
                first,
                last + timedelta(days=1),
                lambda done, _total: progress.update(done),
            )
            events = CsvExporter.copy_events(
                config.csv_folder, args.out, first, last + timedelta(days=1)
            )
        except OSError as error:
            raise UserError(f"{args.out}: {error.strerror or error}") from None
        progress.done()
    print(
        _("{count} files written in {folder}").format(
            count=len(files) + len(events), folder=args.out
        )
    )
    # The store keeps no state changes: the events are the box's own day files, copied.
    print(
        _("events: {count} of {days} days copied from {source}").format(
            count=len(events), days=(last - first).days + 1, source=config.csv_folder / "events"
        )
    )
    return 0
