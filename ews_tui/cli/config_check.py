"""``ews config check F``: validate a config file and the installation it carries; the
problems in the command's language."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ews_tui.config import Config, ConfigError, find_problems, parse_config, read_document
from ews_tui.domain.installation_doc import from_document
from ews_tui.domain.rules import RuleContext
from ews_tui.i18n import _, ngettext
from ews_tui.store.user_models import catalog_and_problems


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("config", help=_("check a config file"))
    inner = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = inner.add_parser(
        "check",
        help=_("validate a config file and its [installation] table without starting"),
        description=_("Print every problem, one per line with its place; exit 1 if any."),
    )
    check.add_argument("file", type=Path, metavar="F")
    check.set_defaults(run=run_check)


# The keys the installation's rules depend on (data_dir: where user device models live).
_RULE_KEYS = ("data_dir", "licence", "modbus_tcp_server", "network")


def problems_of(path: Path) -> list[str]:
    """Every problem of a config file and of the installation in it, one line each.

    The user device models of its data dir are checked, and the ``[installation]`` table even
    when other sections have problems: with the settings it depends on that are good, and the
    defaults for the others.
    """
    try:
        doc = read_document(path)
    except ConfigError as error:
        return [p.render(_) for p in error.problems]
    lines = [p.render(_) for p in find_problems(doc, path.parent)]
    config = _rule_settings(doc, path.parent)
    # The user device models of the data dir: a bad one is skipped by the box, so say it
    # here whether or not the file carries an installation.
    catalog, model_problems = catalog_and_problems(config.data_dir)
    lines += [p.render(_) for p in model_problems]
    installation = doc.get("installation")
    if not isinstance(installation, Mapping):
        return lines  # absent, or "not a table" (already a line)
    context = RuleContext(catalog, config.licence, config.own_server)
    _installation, violations = from_document(installation, context)
    return lines + [f"installation.{v.render(_)}" for v in violations]


def _rule_settings(doc: Mapping[str, Any], base_dir: Path) -> Config:
    """The settings the installation's rules read, each key that is good taken from the file."""
    good: dict[str, Any] = {}
    for key in _RULE_KEYS:
        if key in doc and not find_problems({key: doc[key]}, base_dir):
            good[key] = doc[key]
    return parse_config(good, base_dir)


def run_check(args: argparse.Namespace) -> int:
    lines = problems_of(args.file)
    for line in lines:
        print(line)
    if lines:
        count = ngettext("{file}: {count} problem", "{file}: {count} problems", len(lines))
        print("ews: " + count.format(file=args.file, count=len(lines)), file=sys.stderr)
        return 1
    print(_("{file}: OK").format(file=args.file))
    return 0
