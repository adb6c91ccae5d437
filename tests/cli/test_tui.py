"""``ews tui`` run the way a user runs it: a subprocess on a terminal (a pty)."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

# ``ews`` whose login screen raises when it opens, as a screen did with babel's
# decimal.InvalidOperation (issue 9): the bug is injected, the rest is the real command.
BROKEN_SCREEN = """
import decimal, sys
from ews_tui import cli
from ews_tui.ui.screens.login import LoginScreen

def on_mount(self):
    decimal.Decimal("not a number")

LoginScreen.on_mount = on_mount
sys.exit(cli.main(sys.argv[1:]))
"""


def run_on_a_pty(args: list[str], cwd: Path, timeout: float = 60.0) -> tuple[int, str]:
    """Run ``args`` with a pty as its terminal; its exit status and all it wrote there."""
    master, slave = os.openpty()
    env = {**os.environ, "TERM": "xterm", "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env)
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every writer of the pty is gone
                    break
                if not data:
                    break
                out += data
            elif proc.poll() is not None:
                break
        return proc.wait(timeout=max(deadline - time.monotonic(), 1)), out.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def test_a_crashed_ui_says_why_on_stderr_and_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('data_dir = "data"\n\n[rs485]\nenabled = false\n', encoding="utf-8")
    status, out = run_on_a_pty(
        [sys.executable, "-c", BROKEN_SCREEN, "tui", "--config", str(config)], tmp_path
    )
    assert status == 1, out[-2000:]
    assert "ews: the UI stopped on an unexpected error (InvalidOperation: " in out, out[-2000:]
