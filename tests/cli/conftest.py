"""Run the ``ews`` command the way a user does: a subprocess, its exit status and its output."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ews_tui.cli.language import ENVIRONMENT

Run = Callable[..., subprocess.CompletedProcess[str]]


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
def box_config(tmp_path: Path) -> Path:
    """A config file whose data dir is a fresh temp folder."""
    path = tmp_path / "config.toml"
    path.write_text('data_dir = "data"\nlicence = 32\n', encoding="utf-8")
    return path
