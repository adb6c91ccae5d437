"""Reading a TOML document into a :class:`Config`, and writing one back as a document.

One generic function reads every section with the rules its dataclass fields carry, so a
setting changed in the UI goes through exactly the checks a file goes through at start. Checks
that involve two keys (a gateway outside the box's network, two front ends on one tty) follow.
"""

from __future__ import annotations

import copy
import dataclasses
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ews_tui.config import fields as f
from ews_tui.config.errors import ConfigError, Problem
from ews_tui.config.model import (
    Config,
    NetworkSettings,
    RetentionSettings,
    SmtpSettings,
    SshSettings,
    SystemSettings,
    TimeSettings,
)
from ews_tui.domain.messages import N_, Message
from ews_tui.domain.text_rules import MAX_EXCERPT, excerpts, printable, text_problem

# A setting's text: a path (PATH_MAX is 4096), a host, a user name, a password.
MAX_SETTING_TEXT = 4096

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _rules(cls: type) -> dict[str, Any]:
    return {fld.name: fld.metadata[f.SPEC] for fld in dataclasses.fields(cls)}


def _not_table(where: str, value: Any) -> Problem:
    return Problem(where, Message(N_("{value} is not a table"), {"value": f.show(value)}))


def _shown_key(key: object) -> str:
    """A key of the file as a place shows it: printable and short."""
    text = str(key)
    return printable(text if len(text) <= MAX_EXCERPT else text[: MAX_EXCERPT - 1] + "…")


def _safe(problems: list[Problem]) -> list[Problem]:
    """The problems with every quoted value short and printable."""
    return [
        Problem(p.where, Message(p.message.msgid, excerpts(p.message.params))) for p in problems
    ]


def read_section(
    cls: type[T], table: Any, where: str, ctx: f.Context
) -> tuple[T | None, list[Problem]]:
    """Read ``table`` with the rules of ``cls``: (value, []) or (None, every problem)."""
    if not isinstance(table, Mapping):
        return None, [_not_table(where, table)]
    rules = _rules(cls)
    required = {
        fld.name
        for fld in dataclasses.fields(cls)
        if fld.default is dataclasses.MISSING and fld.default_factory is dataclasses.MISSING
    }
    problems = [
        Problem(_join(where, _shown_key(key)), f.unknown_key(_shown_key(key), rules))
        for key in table
        if key not in rules
    ]
    values: dict[str, Any] = {}
    for name, rule in rules.items():
        if name not in table:
            if name in required:
                problems.append(Problem(_join(where, name), Message(N_("required key is missing"))))
            continue
        value, found = _read_value(rule, table[name], _join(where, name), ctx)
        problems += found
        if not found:
            values[name] = value
    if problems:
        return None, problems
    section = cls(**values)
    problems = [Problem(_join(where, key), msg) for key, msg in _cross_checks(section)]
    return (None if problems else section), problems


def _read_value(rule: Any, raw: Any, where: str, ctx: f.Context) -> tuple[Any, list[Problem]]:
    if isinstance(rule, f.Table):
        return read_section(rule.cls, raw, where, ctx)
    if isinstance(rule, f.TableList):
        if not isinstance(raw, list):
            msg = Message(N_("{value} is not a list of tables"), {"value": f.show(raw)})
            return None, [Problem(where, msg)]
        items: list[Any] = []
        problems: list[Problem] = []
        for i, item in enumerate(raw):
            value, found = read_section(rule.cls, item, f"{where}[{i}]", ctx)
            items.append(value)
            problems += found
        return tuple(items), problems
    if isinstance(rule, f.RawTable):
        if not isinstance(raw, Mapping):
            return None, [_not_table(where, raw)]
        return types.MappingProxyType(copy.deepcopy(dict(raw))), []
    if isinstance(raw, str) and (problem := text_problem(raw, MAX_SETTING_TEXT)) is not None:
        return None, [Problem(where, problem)]
    try:
        return rule.parse(raw, ctx), []
    except f.Invalid as invalid:
        return None, [Problem(where, invalid.message)]


def _check_network(net: NetworkSettings) -> list[tuple[str, Message]]:
    if net.gateway is None or net.gateway in net.network:
        return []
    msg = Message(
        N_("{value} is not in the network {network}"),
        {"value": f.show(str(net.gateway)), "network": str(net.network)},
    )
    return [("gateway", msg)]


def _check_time(time: TimeSettings) -> list[tuple[str, Message]]:
    if time.ntp_enabled and not time.ntp_server:
        return [("ntp_server", Message(N_("required when ntp_enabled is true")))]
    return []


# The weekly EN 50160 check reads the week just ended from the 10-minute measures.
MIN_MEASURES_DAYS = 8


def _check_retention(retention: RetentionSettings) -> list[tuple[str, Message]]:
    days = retention.measures_days
    if 0 < days < MIN_MEASURES_DAYS:
        msg = N_("at least {min} days (the weekly EN 50160 check reads the last week), or 0")
        return [("measures_days", Message(msg, {"min": MIN_MEASURES_DAYS}))]
    return []


def _check_system(system: SystemSettings) -> list[tuple[str, Message]]:
    if system.disk_critical_percent >= system.disk_warning_percent:
        msg = N_("{value} must be less than disk_warning_percent ({warning})")
        params = {"value": system.disk_critical_percent, "warning": system.disk_warning_percent}
        return [("disk_critical_percent", Message(msg, params))]
    return []


def _check_smtp(smtp: SmtpSettings) -> list[tuple[str, Message]]:
    if smtp.host and not smtp.sender:
        return [("sender", Message(N_("required when smtp.host is set")))]
    return []


def _check_ssh(ssh: SshSettings) -> list[tuple[str, Message]]:
    seen: set[str] = set()
    problems = []
    for i, user in enumerate(ssh.users):
        if user.name in seen:
            msg = Message(N_("{value} appears twice"), {"value": f.show(user.name)})
            problems.append((f"users[{i}].name", msg))
        seen.add(user.name)
    return problems


def _check_config(config: Config) -> list[tuple[str, Message]]:
    """Two enabled parts may not share a serial line."""
    lines = [
        ("rs485.port", config.rs485.enabled, config.rs485.port),
        ("console.tty", config.console.enabled, config.console.tty),
        ("kiosk.tty", config.kiosk.enabled, config.kiosk.tty),
    ]
    problems = []
    for i, (key, enabled, device) in enumerate(lines):
        for other, other_enabled, other_device in lines[:i]:
            if enabled and other_enabled and device == other_device:
                msg = Message(
                    N_("{value} is already used by {other}"),
                    {"value": f.show(device), "other": other},
                )
                problems.append((key, msg))
    return problems


_CROSS_CHECKS: dict[type, Callable[[Any], list[tuple[str, Message]]]] = {
    NetworkSettings: _check_network,
    TimeSettings: _check_time,
    RetentionSettings: _check_retention,
    SmtpSettings: _check_smtp,
    SystemSettings: _check_system,
    SshSettings: _check_ssh,
    Config: _check_config,
}


def _cross_checks(section: Any) -> list[tuple[str, Message]]:
    check = _CROSS_CHECKS.get(type(section))
    return check(section) if check else []


def find_problems(doc: Any, base_dir: Path) -> list[Problem]:
    """Every problem of a parsed TOML document (an empty list when it is a good config)."""
    return _safe(read_section(Config, doc, "", f.Context(base_dir))[1])


def check_config(doc: Any, base_dir: Path) -> list[str]:
    """Every problem of a document, one English line each: ``key.path: reason``."""
    return [str(p) for p in find_problems(doc, base_dir)]


def parse_config(doc: Mapping[str, Any], base_dir: Path) -> Config:
    """The Config a parsed TOML document describes; ConfigError lists every problem."""
    config, problems = read_section(Config, doc, "", f.Context(base_dir))
    if config is None:  # None exactly when there are problems
        raise ConfigError(_safe(problems))
    return config


def to_document(value: Any, base_dir: Path) -> dict[str, Any]:
    """The TOML document (plain dicts, lists, str, int, bool) of a Config or a section."""
    ctx = f.Context(base_dir)
    doc: dict[str, Any] = {}
    for name, rule in _rules(type(value)).items():
        item = getattr(value, name)
        if isinstance(rule, f.Table):
            doc[name] = to_document(item, base_dir)
        elif isinstance(rule, f.TableList):
            doc[name] = [to_document(entry, base_dir) for entry in item]
        elif isinstance(rule, f.RawTable):
            if item is not None:
                doc[name] = _plain(item)
        else:
            doc[name] = rule.dump(item, ctx)
    return doc


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def apply_changes(config: Config, changes: Mapping[str, Any], base_dir: Path) -> Config:
    """``config`` with ``changes`` applied, checked like a file: ``{"rs485.baudrate": 9600,
    "network.ip": "10.0.0.5", "language": "fr"}``. Values are given as in the TOML file
    (strings for addresses, ``"even"`` for parity). Raises ConfigError naming each bad key;
    ``base_dir`` (the config file's folder) anchors a relative ``data_dir``."""
    doc = to_document(config, base_dir)
    for dotted, value in changes.items():
        *sections, key = dotted.split(".")
        table = doc
        for name in sections:
            table = table.setdefault(name, {})
            if not isinstance(table, dict):
                raise ConfigError([Problem(dotted, f.unknown_key(dotted, ()))])
        table[key] = value
    return parse_config(doc, base_dir)


def check_changes(config: Config, changes: Mapping[str, Any], base_dir: Path) -> list[Problem]:
    """The problems ``apply_changes`` would raise, for a settings form to show as you type."""
    try:
        apply_changes(config, changes, base_dir)
    except ConfigError as error:
        return error.problems
    return []
