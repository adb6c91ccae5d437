"""``ews alarms list [--active] [--json]``, ``ews alarms ack ID... | --all``, and the
thresholds: ``ews alarms thresholds [--json]``, ``ews alarms threshold set|delete``.

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
from ews_tui.domain.alarm_detail import render_detail
from ews_tui.domain.alarm_sources import TargetKind, Threshold
from ews_tui.domain.alarms import Acknowledgement, Alarm, Severity, Transition, TransitionKind
from ews_tui.i18n import N_, _, ngettext
from ews_tui.services.alarms import append_rows, csv_row
from ews_tui.store.alarms_repo import AlarmFilter, AlarmsRepo
from ews_tui.store.db import DATABASE_FILE, StoreError, open_database
from ews_tui.store.installation_repo import InstallationRepo

CLI_ROLE = "cli"
#: A threshold's target options besides --site, with their help.
_TARGETS = (
    ("device", N_("one device, by id")),
    ("circuit", N_("one circuit, by id")),
    ("zone", N_("one zone, by id")),
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("alarms", help=_("list and acknowledge alarms"))
    inner = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = inner.add_parser(
        "list",
        help=_("the alarms, active first, newest first"),
        description=_(
            "Times in the "
            "box's time zone. --json prints a list of objects (times in ISO 8601 with offset)."
        ),
    )
    add_config_option(listing)
    listing.add_argument("--active", action="store_true", help=_("only the active alarms"))
    listing.add_argument("--json", action="store_true", help=_("JSON instead of a table"))
    listing.set_defaults(run=run_list)
    ack = inner.add_parser("ack", help=_("acknowledge alarms by id, or all of them"))
    add_config_option(ack)
    which = ack.add_mutually_exclusive_group(required=True)
    which.add_argument("ids", nargs="*", type=int, default=[], metavar="ID")
    which.add_argument("--all", action="store_true", help=_("every alarm not acknowledged"))
    ack.set_defaults(run=run_ack)
    _register_thresholds(inner)


def _register_thresholds(inner: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listing = inner.add_parser("thresholds", help=_("the thresholds on live quantities"))
    add_config_option(listing)
    listing.add_argument("--json", action="store_true", help=_("JSON instead of lines"))
    listing.set_defaults(run=run_thresholds)
    threshold = inner.add_parser("threshold", help=_("set or delete a threshold"))
    actions = threshold.add_subparsers(dest="threshold_action", metavar="ACTION", required=True)
    put = actions.add_parser(
        "set",
        help=_("add a threshold, or change the one of that name"),
        description=_(
            "Raised once the value stayed beyond the limit for --delay seconds; "
            "cleared once it stayed back by --hysteresis (same unit) for --delay seconds. A "
            "circuit, a zone or the site add up their devices' values (the site: each gateway's "
            "main meter). Quantities are catalog ids: p (kW), v1 (V), i1 (A)... A running box "
            "reads the change within 10 s."
        ),
    )
    add_config_option(put)
    put.add_argument("name")
    target = put.add_mutually_exclusive_group(required=True)
    target.add_argument("--site", action="store_true", help=_("the whole site"))
    for kind, text in _TARGETS:
        target.add_argument(f"--{kind}", type=int, metavar="ID", help=_(text))
    put.add_argument("--quantity", required=True, metavar="Q")
    limit = put.add_mutually_exclusive_group(required=True)
    limit.add_argument("--above", type=float, metavar="X")
    limit.add_argument("--below", type=float, metavar="X")
    put.add_argument("--hysteresis", type=float, default=0.0, metavar="H")
    put.add_argument("--delay", type=float, default=0.0, metavar="S")
    put.add_argument("--severity", choices=[s.key for s in Severity], default=Severity.WARNING.key)
    put.add_argument("--off", action="store_true", help=_("kept, but not watched"))
    put.set_defaults(run=run_threshold_set)
    delete = actions.add_parser("delete", help=_("delete the threshold of that name"))
    add_config_option(delete)
    delete.add_argument("name")
    delete.set_defaults(run=run_threshold_delete)


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
        "detail": render_detail(alarm.detail),
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
        parts.append(f"({render_detail(alarm.detail, _)})")
    return "  ".join(parts)


async def run_thresholds(args: argparse.Namespace) -> int:
    config = read_config(config_path(args))
    async with _repo(config) as repo:
        thresholds = await repo.thresholds()
    if args.json:
        json.dump([threshold_json(t) for t in thresholds], sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    for t in thresholds:
        target = t.target_kind if t.target_id is None else f"{t.target_kind} {t.target_id}"
        state = "" if t.enabled else "  (off)"
        print(
            f"{t.name}: {target} {t.quantity} {t.op} {t.limit:g}, hysteresis {t.hysteresis:g},"
            f" delay {t.delay_s:g} s, {t.severity.key}{state}"
        )
    return 0


def threshold_json(t: Threshold) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "target": {"kind": t.target_kind, "id": t.target_id},
        "quantity": t.quantity,
        "op": t.op,
        "limit": t.limit,
        "hysteresis": t.hysteresis,
        "delay_s": t.delay_s,
        "severity": t.severity.key,
        "enabled": t.enabled,
    }


async def run_threshold_set(args: argparse.Namespace) -> int:
    config = read_config(config_path(args))
    kind: TargetKind = "site"
    target_id: int | None = None
    for option in ("device", "circuit", "zone"):
        value = getattr(args, option)
        if value is not None:
            kind, target_id = option, value
    name = args.name.strip()
    if not name or len(name) > 64 or not name.isprintable():
        raise UserError(_("a threshold name is 1 to 64 printable characters"))
    quantity = args.quantity.strip()
    if not quantity.replace("_", "").isalnum():
        raise UserError(_("{value} is not a quantity id").format(value=quantity))
    above = args.above is not None
    try:
        threshold = Threshold(
            0,
            name,
            kind,
            target_id,
            quantity,
            ">" if above else "<",
            args.above if above else args.below,
            hysteresis=args.hysteresis,
            delay_s=args.delay,
            severity=Severity.from_key(args.severity),
            enabled=not args.off,
        )
    except ValueError:
        raise UserError(
            _("the limit must be a number, hysteresis and delay not negative")
        ) from None
    async with _repo(config) as repo:
        if target_id is not None:
            inst = await InstallationRepo(repo.db).load()
            found = {"device": inst.device, "circuit": inst.circuit, "zone": inst.zone}[kind]
            if found(target_id) is None:
                raise UserError(_("no {kind} with id {id}").format(kind=kind, id=target_id))
        saved = await repo.save_threshold(threshold)
    print(_("threshold {name} saved (id {id})").format(name=saved.name, id=saved.id))
    return 0


async def run_threshold_delete(args: argparse.Namespace) -> int:
    config = read_config(config_path(args))
    async with _repo(config) as repo:
        found = next((t for t in await repo.thresholds() if t.name == args.name), None)
        if found is None:
            raise UserError(_("no threshold named {name}").format(name=args.name))
        await repo.delete_threshold(found.id)
    print(_("threshold {name} deleted").format(name=found.name))
    return 0
