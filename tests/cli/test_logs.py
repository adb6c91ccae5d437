"""Log lines never land on a terminal that carries a UI (DESIGN: "When things go wrong").

``ews tui`` runs on a real pty, as on a kiosk screen: a failed login logs a WARNING, which
must be in ``<data_dir>/logs/ews.log`` and nowhere on the terminal.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import struct
import sys
import termios
from pathlib import Path

import pytest

from ews_tui import logs
from tests.frontends.pty_terminal import PtyTerminal
from tests.frontends.terminal_text import plain


async def test_a_failed_login_logs_to_the_file_not_over_the_ui(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('data_dir = "data"\n[rs485]\nenabled = false\n', encoding="utf-8")
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "ews_tui.cli", "tui", "--config", str(config)),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=tmp_path,
        env={**os.environ, "TERM": "xterm-256color", "PYTHONWARNINGS": "ignore"},
        start_new_session=True,
    )
    os.close(slave)
    terminal = PtyTerminal(master)
    try:
        await terminal.screen.wait_for("Enter your PIN", timeout=60)
        await terminal.type_line("13579")
        await terminal.screen.wait_for("Wrong PIN", timeout=60)
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()
        terminal.hang_up()
    shown = plain(terminal.screen.raw)
    assert "WARNING" not in shown and "failed login" not in shown
    log_file = tmp_path / "data" / "logs" / "ews.log"
    assert (
        "WARNING ews_tui.services.auth: failed login from 'tui': wrong_pin (1 in a row)"
        in log_file.read_text("utf-8")
    )


@pytest.fixture
def root_handlers() -> object:
    """The root logger's handlers and level, put back after the test."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    yield
    for handler in root.handlers:
        if handler not in saved[0]:
            handler.close()
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_the_log_file_is_rotated_and_bounded(tmp_path: Path, root_handlers: object) -> None:
    logs.configure(0)
    path = logs.log_to_data_dir(tmp_path, ui_on_terminal=True)
    names = [h.name for h in logging.getLogger().handlers]
    assert "ews-file" in names and "ews-stderr" not in names  # stderr is not the journal
    for n in range(5 * logs.MAX_BYTES // 1000):
        # Each line its own text (the same line repeated is written once: RepeatFilter).
        logging.getLogger("ews_tui.test").warning(f"{n:06d} " + "x" * 1000)
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == ["ews.log", "ews.log.1", "ews.log.2", "ews.log.3"]
    assert all((path.parent / f).stat().st_size <= logs.MAX_BYTES for f in files)


def test_stderr_stays_when_it_is_the_journal(
    tmp_path: Path, root_handlers: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    stat = os.fstat(2)
    monkeypatch.setenv("JOURNAL_STREAM", f"{stat.st_dev}:{stat.st_ino}")
    assert logs.stderr_is_journal()
    logs.configure(0)
    logs.log_to_data_dir(tmp_path, ui_on_terminal=True)
    names = [h.name for h in logging.getLogger().handlers]
    assert "ews-file" in names and "ews-stderr" in names
    monkeypatch.setenv("JOURNAL_STREAM", "1:2")
    assert not logs.stderr_is_journal()


def test_serve_knows_when_its_kiosk_is_its_own_terminal(tmp_path: Path) -> None:
    """``stderr_is_on``: stderr is that tty (kiosk or console on the terminal serve runs on)."""
    import subprocess

    master, slave = os.openpty()
    other_master, other_slave = os.openpty()
    try:
        probe = (
            "import sys; from ews_tui.logs import stderr_is_on; print(stderr_is_on(sys.argv[1:]))"
        )
        for ttys, expected in (
            ([os.ttyname(slave)], "True"),
            ([os.ttyname(other_slave)], "False"),
            ([], "False"),
        ):
            done = subprocess.run(
                [sys.executable, "-c", probe, *ttys],
                stderr=slave,
                stdout=subprocess.PIPE,
                text=True,
                timeout=60,
                check=True,
            )
            assert done.stdout.strip() == expected, ttys
    finally:
        for fd in (master, slave, other_master, other_slave):
            os.close(fd)
