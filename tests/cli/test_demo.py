"""``ews demo --headless``: the README's first command, without a terminal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

Run = Callable[..., CompletedProcess[str]]


def test_demo_reads_every_device(ews: Run, tmp_path: Path) -> None:
    data = tmp_path / "demo"
    result = ews("demo", "--headless", "4", "--no-wire-time", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    reading, _, total = last.partition(" of ")
    assert reading == total.split()[0], result.stdout
    assert (data / "config.toml").is_file() and (data / "ews.sqlite").is_file()
    # A second run on the same data dir keeps the installation (ids by name).
    again = ews("demo", "--headless", "3", "--no-wire-time", "--data-dir", str(data))
    assert again.returncode == 0, again.stderr
