"""The ``ews`` command. Exit status: 0 success, 1 user error (one line on stderr), 2 usage."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence

from ews_tui import logs
from ews_tui.cli import (
    alarms,
    auth,
    backup,
    config_check,
    connector,
    demo,
    en50160,
    export,
    history,
    install,
    mail,
    probe,
    report,
    serve,
    sim,
    ssh,
    tui,
)
from ews_tui.cli.errors import UserError

COMMANDS = (
    demo,
    config_check,
    install,
    sim,
    probe,
    report,
    export,
    history,
    en50160,
    connector,
    serve,
    tui,
    ssh,
    auth,
    alarms,
    mail,
    backup,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ews",
        description="ews-tui: energy management server operated through a terminal UI.",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more log lines (-vv for debug); on stderr, or in DATA_DIR/logs/ews.log "
        "while a UI is on this terminal",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logs.configure(args.verbose)
    try:
        result = args.run(args)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        return int(result or 0)
    except UserError as error:
        print(f"ews: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _reader_went_away()


def _reader_went_away() -> int:
    """``ews report ... | head``: the reader closed the pipe; stop quietly, as a command
    killed by SIGPIPE does (141), and keep Python's exit-time flush from complaining."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
