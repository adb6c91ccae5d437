"""The ``ews`` command. Exit status: 0 success, 1 user error (one line on stderr), 2 usage."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import signal
import sys
from collections.abc import Sequence
from importlib import metadata

from ews_tui import logs, passes
from ews_tui.cli.errors import UserError
from ews_tui.cli.language import environment_language, translate_argparse
from ews_tui.i18n import _, use_language

#: Each command's name and the module that registers its parser and runs it. A command line
#: that names one imports only that module: `ews config check` does not load the UI, SSH and
#: the Modbus stacks (over a second of start-up on the box).
COMMANDS: tuple[tuple[str, str], ...] = (
    ("demo", "ews_tui.cli.demo"),
    ("config", "ews_tui.cli.config_check"),
    ("install", "ews_tui.cli.install"),
    ("sim", "ews_tui.cli.sim"),
    ("probe", "ews_tui.cli.probe"),
    ("report", "ews_tui.cli.report"),
    ("export", "ews_tui.cli.export"),
    ("history", "ews_tui.cli.history"),
    ("en50160", "ews_tui.cli.en50160"),
    ("connector", "ews_tui.cli.connector"),
    ("serve", "ews_tui.cli.serve"),
    ("tui", "ews_tui.cli.tui"),
    ("ssh", "ews_tui.cli.ssh"),
    ("auth", "ews_tui.cli.auth"),
    ("alarms", "ews_tui.cli.alarms"),
    ("mail", "ews_tui.cli.mail"),
    ("backup", "ews_tui.cli.backup"),
    ("update", "ews_tui.cli.update"),
)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``ews`` parser; with ``argv``, only the command it names (every command when it
    names none, or one that does not exist: the usage then lists them all)."""
    parser = argparse.ArgumentParser(
        prog="ews",
        description=_("ews-tui: energy management server operated through a terminal UI."),
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help=_(
            "more log lines (-vv for debug); on stderr, or in DATA_DIR/logs/ews.log "
            "while a UI is on this terminal"
        ),
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {package_version()}",
        help=_("show program's version number and exit"),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    named = _command_named(argv)
    if named is None and "--version" in (argv or ()):
        return parser  # `ews --version` prints and exits before any command is parsed
    for name, module in COMMANDS:
        if named is None or name == named:
            importlib.import_module(module).register(sub)
    return parser


def package_version() -> str:
    """The installed ews-tui's version (its wheel's metadata)."""
    try:
        return metadata.version("ews-tui")
    except metadata.PackageNotFoundError:
        return "unknown"


def _command_named(argv: Sequence[str] | None) -> str | None:
    """The command ``argv`` names: its first word that is not an option of ``ews`` itself
    (``-v``, ``-vv``, ``--verbose``), if it is one of :data:`COMMANDS`."""
    for word in argv or ():
        if word in ("-v", "--verbose") or (word.startswith("-v") and set(word[1:]) == {"v"}):
            continue
        return word if any(word == name for name, _module in COMMANDS) else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command ``argv`` names, in the language of the user's locale variables (a UI
    session it starts still picks its own)."""
    translate_argparse()
    with use_language(environment_language(os.environ)):
        return _run(sys.argv[1:] if argv is None else argv)


def _run(words: Sequence[str]) -> int:
    args = build_parser(words).parse_args(words)
    logs.configure(args.verbose)
    try:
        result = args.run(args)
        if asyncio.iscoroutine(result):
            result = passes.run(result)  # the box's loop (see ews_tui.passes)
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
