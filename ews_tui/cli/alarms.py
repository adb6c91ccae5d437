"""``ews alarms list [--active] [--json]`` and ``ews alarms ack ID... | --all``.

Both read the box's store directly, so they work beside a running box: an acknowledgement
given here only fills an empty one, the running engine reads it back within seconds, and it
is appended to the ``events`` CSV folder as the screen's are.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ews_tui.cli.box import add_config_option, config_path, read_config
from ews_tui.cli.errors import UserError
from ews_tui.config import Config
from ews_tui.domain.alarms import Acknowledgement, Alarm, Transition, TransitionKind
from ews_tui.i18n import _, ngettext
from ews_tui.services.alarms import append_rows, csv_row
from ews_tui.services.box import DATABASE_FILE
from ews_tui.store.alarms_repo import AlarmFilter, AlarmsRepo
from ews_tui.store.db import StoreError, open_database

CLI_ROLE = "cli"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("alarms", help="list and acknowledge alarms")
    inner = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = inner.add_parser(
        "list",
        help="the alarms, active first, newest first",
        description="Times in the "
        "box's time zone. --json prints a list of objects (times in ISO 8601 with offset).",
    )
    add_config_option(listing)
    listing.add_argument("--active", action="store_true", help="only the active alarms")
    listing.add_argument("--json", action="store_true", help="JSON instead of a table")
    listing.set_defaults(run=run_list)
    ack = inner.add_parser("ack", help="acknowledge alarms by id, or all of them")
    add_config_option(ack)
    which = ack.add_mutually_exclusive_group(required=True)
    which.add_argument("ids", nargs="*", type=int, default=[], metavar="ID")
    which.add_argument("--all", action="store_true", help="every alarm not acknowledged")
    ack.set_defaults(run=run_ack)


@asynccontextmanager
async def _repo(config: Config) -> AsyncIterator[AlarmsRepo]:
    try:
        db = await open_database(config.data_dir / DATABASE_FILE)
    except StoreError as error:
        raise UserError(str(error)) from None
    try:
        yield AlarmsRepo(db)
    finally:
        await db.close()


async def run_list(args: argparse.Namespace) -> int:
    config = read_config(config_path(args))
    tz = ZoneInfo(config.time.timezone)
    async with _repo(config) as repo:
        flt = AlarmFilter(state="active" if args.active else None)
        total = (await repo.page(flt, 0, 1)).total
        page = await repo.page(flt, 0, max(total, 1))
    if args.json:
        json.dump([alarm_json(a, tz) for a in page.alarms], sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    for alarm in page.alarms:
        print(alarm_line(alarm, tz))
    print(
        ngettext("{count} alarm", "{count} alarms", page.total).format(count=page.total),
        file=sys.stderr,
    )
    return 0


async def run_ack(args: argparse.Namespace) -> int:
    config = read_config(config_path(args))
    session = f"cli:{_user()}"
    ack = Acknowledgement(CLI_ROLE, session, time.time())
    async with _repo(config) as repo:
        if not args.all:
            missing = [i for i in args.ids if await repo.get(i) is None]
            if missing:
                raise UserError(
                    _("no alarm with id {ids}").format(ids=", ".join(str(i) for i in missing))
                )
        done = await repo.acknowledge(None if args.all else args.ids, ack)
    if done and config.csv.enabled:
        _log_csv(config, done)
    print(
        ngettext("{count} alarm acknowledged", "{count} alarms acknowledged", len(done)).format(
            count=len(done)
        )
    )
    return 0


def _log_csv(config: Config, alarms: list[Alarm]) -> None:
    tz = ZoneInfo(config.time.timezone)
    rows: dict[Path, list[tuple[str, ...]]] = {}
    for alarm in alarms:
        assert alarm.ack is not None
        stamp = datetime.fromtimestamp(alarm.ack.at, tz)
        path = config.csv_folder / "events" / f"{stamp.date().isoformat()}.csv"
        row = csv_row(Transition(TransitionKind.ACKNOWLEDGED, alarm), stamp)
        rows.setdefault(path, []).append(row)
    try:
        append_rows(rows)
    except OSError as error:
        print(_("warning: events CSV: {error}").format(error=error), file=sys.stderr)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "?"


def _iso(ts: float | None, tz: ZoneInfo) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz).isoformat(timespec="seconds")


def alarm_json(alarm: Alarm, tz: ZoneInfo) -> dict[str, Any]:
    s, ack = alarm.subject, alarm.ack
    return {
        "id": alarm.id,
        "type": alarm.type.value,
        "severity": alarm.severity.key,
        "active": alarm.active,
        "acknowledged": alarm.acknowledged,
        "subject": {
            "kind": s.kind,
            "id": s.id,
            "part": s.part,
            "name": s.name,
            "gateway_id": s.gateway_id,
        },
        "raised_at": _iso(alarm.raised_at, tz),
        "last_at": _iso(alarm.last_at, tz),
        "cleared_at": _iso(alarm.cleared_at, tz),
        "ack": None
        if ack is None
        else {"role": ack.role, "session": ack.session, "at": _iso(ack.at, tz)},
        "count": alarm.count,
        "value": alarm.value,
        "detail": alarm.detail,
    }


def alarm_line(alarm: Alarm, tz: ZoneInfo) -> str:
    """``#12  major     active   2025-01-01T12:13:20+01:00  device.comm_error  Main meter``"""
    state = "active" if alarm.active else "cleared"
    if alarm.acknowledged:
        state += "+ack"
    parts = [
        f"#{alarm.id:<5}",
        f"{alarm.severity.key:<9}",
        f"{state:<12}",
        _iso(alarm.last_at, tz) or "",
        f"{alarm.type.value:<26}",
        alarm.subject.name,
    ]
    if alarm.count > 1:
        parts.append(f"x{alarm.count}")
    if alarm.value:
        parts.append(alarm.value)
    if alarm.detail:
        parts.append(f"({alarm.detail})")
    return "  ".join(parts)
