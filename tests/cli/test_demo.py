"""``ews demo --headless``: the README's first command, without a terminal."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

Run = Callable[..., CompletedProcess[str]]


def test_demo_reads_every_device(ews: Run, tmp_path: Path) -> None:
    data = tmp_path / "demo"
    result = ews(
        "demo", "--headless", "4", "--no-wire-time", "--data-dir", str(data), "--history-days", "0"
    )
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    reading, _, total = last.partition(" of ")
    assert reading == total.split()[0], result.stdout
    assert (data / "config.toml").is_file() and (data / "ews.sqlite").is_file()
    # A second run on the same data dir keeps the installation (ids by name): it reads a
    # device (exit 0) in a second, as the history test's second runs do.
    again = ews("demo", "--headless", "1", "--no-wire-time", "--data-dir", str(data))
    assert again.returncode == 0, again.stderr


def test_demo_starts_with_history_and_records_the_rest_in_the_background(
    ews: Run, tmp_path: Path
) -> None:
    data = tmp_path / "demo"
    result = ews(
        "demo", "--headless", "6", "--no-wire-time", "--data-dir", str(data),
        "--history-days", "3",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "recording 1 more days of history in the background" in result.stderr
    # The site is imported with the simulators' ports before the pollers start: no false
    # communication error at start (the pollers first polled the stored ports).
    assert "not connected" not in result.stderr
    events = "".join(p.read_text() for p in (data / "csv" / "events").glob("*.csv"))
    assert ",on," in events and "comm_error" not in events
    # The background recording shares the demo's data dir lock (it would fail at once with
    # "in use by process N" if it took one of its own).
    assert "background history recording failed" not in result.stderr
    assert "in use" not in (data / "history-backfill.log").read_text()
    db = sqlite3.connect(data / "ews.sqlite")
    first, last = db.execute("SELECT MIN(slot), MAX(slot) FROM measures").fetchone()
    # The two days before the start at least (the background day may not be done), and
    # the history joins the live recording: no hour of the site lacks a slot.
    assert last - first >= 2 * 144
    assert db.execute("SELECT SUM(missing) FROM energy_hourly").fetchone()[0] == 0
    # The demo prices its energies (peak and off-peak electricity, gas, water).
    energies = {r[0] for r in db.execute("SELECT energy FROM cost_rules")}
    assert energies == {"electricity", "gas", "water"}
    hours = db.execute("SELECT COUNT(DISTINCT slot / 6) FROM measures").fetchone()[0]
    assert hours == last // 6 - first // 6 + 1
    # A kept data dir holding the days wanted is not seeded again...
    again = ews(
        "demo", "--headless", "1", "--no-wire-time", "--data-dir", str(data),
        "--history-days", "2",
    )  # fmt: skip
    assert again.returncode == 0 and "history" not in again.stderr
    # ... and one lacking days gets the older ones, joining its oldest.
    more = ews(
        "demo", "--headless", "1", "--no-wire-time", "--data-dir", str(data),
        "--history-days", "10",
    )  # fmt: skip
    assert more.returncode == 0 and "more days of history in the background" in more.stderr


async def test_the_demo_ssh_password_is_hashed_off_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    from ews_tui.cli.demo import DEMO_SSH_USER, demo_ssh_user
    from ews_tui.domain.auth import HashedSecret
    from ews_tui.frontends import ssh

    real = ssh.hash_password
    hashed_in: list[threading.Thread] = []

    def noted(password: str) -> str:
        hashed_in.append(threading.current_thread())
        return real(password)

    monkeypatch.setattr(ssh, "hash_password", noted)
    user = await demo_ssh_user()
    assert hashed_in and hashed_in[0] is not threading.main_thread()  # scrypt at full cost
    assert user.name == DEMO_SSH_USER
    assert HashedSecret.decode(user.password_scrypt).matches(DEMO_SSH_USER)
