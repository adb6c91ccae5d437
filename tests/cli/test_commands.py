"""The ``ews`` command table: a command line loads only the command it names."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ews_tui import cli

# Which of the heavy parts a command's import pulls in, seen from a fresh interpreter.
PROBE = """
import sys
from ews_tui import cli
cli.build_parser(sys.argv[1:])
heavy = ("textual", "asyncssh", "pymodbus", "ews_tui.services.box", "ews_tui.ui.app")
print(" ".join(m for m in heavy if m in sys.modules))
"""


def loaded_by(*argv: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True
    )
    return set(done.stdout.split())


def test_a_light_command_does_not_load_the_ui_ssh_or_modbus() -> None:
    assert loaded_by("config", "check") == set()
    assert loaded_by("-vv", "install", "export", "x.toml") == set()
    # `ews --version` prints and exits before any command: it loads none of them
    assert loaded_by("--version") == set()
    assert loaded_by("-v", "--version") == set()


def choices_offered(parser_argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The commands the parser built for ``parser_argv`` offers, from argparse's own error
    for a command that does not exist."""
    parser = cli.build_parser(parser_argv)
    with pytest.raises(SystemExit):
        parser.parse_args(["no-such-command"])
    return capsys.readouterr().err.split("choose from ")[1]


def test_help_and_an_unknown_command_list_every_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    every = ", ".join(f"'{name}'" for name, _module in cli.COMMANDS)
    assert choices_offered(["nope"], capsys).startswith(every + ")")
    assert choices_offered(["--help"], capsys).startswith(every + ")")
    assert choices_offered([], capsys).startswith(every + ")")


def test_the_named_command_alone_is_registered_and_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["-v", "config", "check", "f.toml"]
    args = cli.build_parser(argv).parse_args(argv)
    assert args.command == "config" and args.verbose == 1 and callable(args.run)
    assert choices_offered(argv, capsys).startswith("'config')")
