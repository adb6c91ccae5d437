"""Run the ``ews`` command the way a user does: a subprocess, its exit status and its output."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from ews_tui.cli.language import ENVIRONMENT

Run = Callable[..., subprocess.CompletedProcess[str]]
RunAsync = Callable[..., Awaitable[subprocess.CompletedProcess[str]]]


def english_environment() -> dict[str, str]:
    """This process's environment without the locale variables: the command speaks English
    (its msgids) whatever the machine running the tests is set to; a test's ``env`` adds one."""
    return {name: value for name, value in os.environ.items() if name not in ENVIRONMENT}


@pytest.fixture
def ews(tmp_path: Path) -> Run:
    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ews_tui.cli", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=tmp_path,
            env={**english_environment(), "PYTHONWARNINGS": "ignore", **(env or {})},
        )

    return run


@pytest.fixture
def ews_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> Run:
    """``ews`` run in this process (``ews_tui.cli.main``), for the tests of what a command
    says and the status it ends with: the same words as the subprocess gives (its stdout,
    its stderr with the log lines, written to the file descriptors, read back by capfd),
    without the second or so each new Python process spends importing the package. The
    tests of the real process (signals, the binary's exit status, locale variables, a box
    left running) keep ``ews``. An uncaught exception fails the test (the subprocess would
    have printed its traceback)."""
    from ews_tui import logs
    from ews_tui.cli import main

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        del timeout  # the test's own timeout applies
        monkeypatch.chdir(tmp_path)
        for name in ENVIRONMENT:
            monkeypatch.delenv(name, raising=False)
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        # What main() sets for the process's life, put back after the test.
        monkeypatch.setattr(argparse, "_", argparse._)
        monkeypatch.setattr(argparse, "ngettext", argparse.ngettext)
        root = logging.getLogger()
        level, factory = root.level, logging.getLogRecordFactory()
        capfd.readouterr()
        try:
            status = main(list(args))
        except SystemExit as end:  # argparse's usage errors and --help
            status = end.code if isinstance(end.code, int) else int(end.code is not None)
        finally:
            logs._drop(logs._STDERR)
            root.setLevel(level)
            logging.setLogRecordFactory(factory)
            sys.stdout.flush()
            sys.stderr.flush()
        out, err = capfd.readouterr()
        return subprocess.CompletedProcess(["ews", *args], status, out, err)

    return run


@pytest.fixture
def ews_here_async(ews_here: Run) -> RunAsync:
    """``await ews_here_async(...)``: ``ews_here`` for an async test. The command runs a loop
    of its own (``asyncio.run``), so it runs in a thread; the test's loop goes on meanwhile
    (a simulator it serves answers)."""

    async def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(ews_here, *args, env=env, timeout=timeout)

    return run


@pytest.fixture
def box_config(tmp_path: Path) -> Path:
    """A config file whose data dir is a fresh temp folder."""
    path = tmp_path / "config.toml"
    path.write_text('data_dir = "data"\nlicence = 32\n', encoding="utf-8")
    return path
