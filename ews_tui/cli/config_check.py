"""``ews config check F``: validate a config file and the installation it carries."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ews_tui.config import ConfigError, find_problems, parse_config, read_document
from ews_tui.domain.installation_doc import from_document
from ews_tui.domain.rules import RuleContext
from ews_tui.store.user_models import catalog_and_problems


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("config", help="check a config file")
    inner = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = inner.add_parser(
        "check",
        help="validate a config file and its [installation] table without starting",
        description="Print every problem, one per line with its place; exit 1 if any.",
    )
    check.add_argument("file", type=Path, metavar="F")
    check.set_defaults(run=run_check)


def problems_of(path: Path) -> list[str]:
    """Every problem of a config file and of the installation in it, one line each."""
    try:
        doc = read_document(path)
    except ConfigError as error:
        return [str(p) for p in error.problems]
    lines = [str(p) for p in find_problems(doc, path.parent)]
    if lines:
        return lines
    config = parse_config(doc, path.parent)
    if config.installation is None:
        return []
    catalog, model_problems = catalog_and_problems(config.data_dir)
    _, violations = from_document(config.installation, RuleContext(catalog, config.licence))
    return model_problems + [f"installation.{v}" for v in violations]


def run_check(args: argparse.Namespace) -> int:
    lines = problems_of(args.file)
    for line in lines:
        print(line)
    if lines:
        print(f"ews: {args.file}: {len(lines)} problem(s)", file=sys.stderr)
        return 1
    print(f"{args.file}: OK")
    return 0
