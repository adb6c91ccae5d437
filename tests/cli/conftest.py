"""Run the ``ews`` command the way a user does: a subprocess, its exit status and its output."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]


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
            env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})},
        )

    return run


@pytest.fixture
def box_config(tmp_path: Path) -> Path:
    """A config file whose data dir is a fresh temp folder."""
    path = tmp_path / "config.toml"
    path.write_text('data_dir = "data"\nlicence = 32\n', encoding="utf-8")
    return path
