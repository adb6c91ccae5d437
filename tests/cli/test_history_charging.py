"""``ews history seed`` also records the demo chargers' sessions, in the store and the CSV
folder (so ``ews demo`` has some)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.cli.conftest import Run


def test_seed_records_the_chargers_sessions_once(ews_here: Run, box_config: Path) -> None:
    args = ("history", "seed", "--config", str(box_config), "--days", "2", "--site", "demo")
    done = ews_here(*args, "--poll", "300")
    assert done.returncode == 0, done.stderr
    db = sqlite3.connect(box_config.parent / "data" / "ews.sqlite")
    chargers = {
        r[0]: r[1] for r in db.execute("SELECT id, side FROM devices WHERE model LIKE '0 590%'")
    }
    rows = db.execute(
        "SELECT device_id, side, start, end, energy_kwh FROM charging_sessions"
    ).fetchall()
    closed = [r for r in rows if r[3] is not None]
    assert closed, rows  # three charging points over two days: some cars came and left
    for device_id, side, start, end, energy in closed:
        assert device_id in chargers and side == chargers[device_id]
        assert start is None or start < end
        assert energy is not None and 0 < energy < 100
    assert len(rows) - len(closed) <= len(chargers)  # at most one going on per point
    # ... and in the CSV folder, a line per closed session in the day file of its end.
    files = sorted((box_config.parent / "data" / "csv" / "charging").glob("*.csv"))
    lines = [line for f in files for line in f.read_text("utf-8").splitlines()[1:]]
    assert len(lines) == len(closed)
    # Seeding again leaves the recorded sessions alone.
    done = ews_here(*args, "--poll", "300")
    assert done.returncode == 0, done.stderr
    assert db.execute("SELECT COUNT(*) FROM charging_sessions").fetchone()[0] == len(rows)
