"""``ews history seed``: simulated history through the recording path."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.cli.conftest import Run


def test_seed_installs_the_demo_site_and_records_its_devices(
    ews_here: Run, box_config: Path
) -> None:
    done = ews_here(
        "history",
        "seed",
        "--config",
        str(box_config),
        "--days",
        "1",
        "--site",
        "demo",
        "--poll",
        "300",
    )
    assert done.returncode == 0, done.stderr
    assert "samples of 15 devices recorded" in done.stdout
    db = sqlite3.connect(box_config.parent / "data" / "ews.sqlite")
    slots = db.execute("SELECT COUNT(DISTINCT slot) FROM measures").fetchone()[0]
    assert slots == 144
    hourly = db.execute("SELECT MIN(amount), SUM(missing) FROM energy_hourly").fetchone()
    assert hourly[0] >= 0 and hourly[1] == 0
    # Gas and water pulse meters keep their m3 index.
    names = {r[0] for r in db.execute("SELECT DISTINCT name FROM quantities")}
    assert {"v1", "p", "f"} <= names


def test_seed_without_devices_says_what_to_do(ews_here: Run, box_config: Path) -> None:
    done = ews_here("history", "seed", "--config", str(box_config), "--days", "1")
    assert done.returncode == 1
    assert "--site demo" in done.stderr


def test_backfill_joins_the_stored_history_without_a_hole(ews_here: Run, box_config: Path) -> None:
    seed = ("history", "seed", "--config", str(box_config), "--poll", "600")
    assert ews_here(*seed, "--days", "1", "--site", "demo").returncode == 0
    db = sqlite3.connect(box_config.parent / "data" / "ews.sqlite")
    joined = db.execute("SELECT MIN(slot) FROM measures").fetchone()[0] * 600
    newer = db.execute("SELECT * FROM charging_sessions ORDER BY id").fetchall()
    # 9 days before it: nine day-chunks, newest first, each joining the next.
    done = ews_here(*seed, "--days", "9", "--backfill")
    assert done.returncode == 0, done.stderr
    # The chargers' sessions of those 9 days: closed ones, all ended before the joined
    # history; the newer history's sessions (the one going on too) untouched.
    sessions = db.execute("SELECT * FROM charging_sessions ORDER BY id").fetchall()
    assert sessions[: len(newer)] == newer
    older = sessions[len(newer) :]
    assert len(older) >= 9  # a car or more a day
    assert all(end is not None and end <= joined for *_, end, _energy in older)
    days = {int(end // 86400) for *_, end, _energy in older}
    assert len(days) >= 8
    first, last, slots = db.execute(
        "SELECT MIN(slot), MAX(slot), COUNT(DISTINCT slot) FROM measures"
    ).fetchone()
    assert slots == last - first + 1 == 144 + 9 * 144  # every slot once
    assert db.execute("SELECT SUM(missing) FROM energy_hourly").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM energy_gaps").fetchone()[0] == 0
    # What each counter grew is all counted, across the joins: no slot lost, none twice.
    for device, grown, counted in db.execute(
        "SELECT r.device_id, MAX(r.value) - MIN(r.value),"
        " (SELECT SUM(amount) FROM energy_hourly h WHERE h.device_id = r.device_id)"
        " FROM energy_readings r GROUP BY r.device_id"
    ):
        assert counted == pytest.approx(grown, rel=1e-9, abs=1e-6), device


def test_backfill_keeps_the_later_reading_of_the_joined_slot(
    ews_here: Run, box_config: Path
) -> None:
    """The stored history's first slot holds readings at +0 s and +300 s (its reading is
    the later one); the backfill polls every 600 s, so its own last reading of that slot
    would be 300 s older. The stored reading stays, and the energy between the two sides is
    counted once (2026-12-01 on a demo box was short by 5 minutes of the site)."""
    seed = ("history", "seed", "--config", str(box_config))
    assert ews_here(*seed, "--days", "1", "--site", "demo", "--poll", "300").returncode == 0
    db = sqlite3.connect(box_config.parent / "data" / "ews.sqlite")
    (oldest,) = db.execute("SELECT MIN(slot) FROM measures").fetchone()
    stored = dict(
        db.execute("SELECT device_id, value FROM energy_readings WHERE slot = ?", (oldest,))
    )
    measures = dict(db.execute("SELECT slot_device, data FROM measures WHERE slot = ?", (oldest,)))
    db.close()
    assert len(stored) > 5

    done = ews_here(*seed, "--days", "2", "--backfill", "--poll", "600")
    assert done.returncode == 0, done.stderr
    db = sqlite3.connect(box_config.parent / "data" / "ews.sqlite")
    # The joined slot is as the newer side stored it: its reading and its measures.
    kept = dict(
        db.execute("SELECT device_id, value FROM energy_readings WHERE slot = ?", (oldest,))
    )
    assert kept == stored
    again = dict(db.execute("SELECT slot_device, data FROM measures WHERE slot = ?", (oldest,)))
    assert again == measures
    # Readings on both sides of it: the backfill's up to the slot before, the newer after.
    before = {
        d
        for (d,) in db.execute(
            "SELECT device_id FROM energy_readings WHERE slot = ?", (oldest - 1,)
        )
    }
    after = {
        d
        for (d,) in db.execute(
            "SELECT device_id FROM energy_readings WHERE slot = ?", (oldest + 1,)
        )
    }
    assert set(stored) <= before and set(stored) <= after
    assert_all_counted(db)
    db.close()
    # A later run goes on from the oldest slot the first one reached, as whole.
    assert ews_here(*seed, "--days", "1", "--backfill", "--poll", "600").returncode == 0
    db = sqlite3.connect(box_config.parent / "data" / "ews.sqlite")
    first, last, slots = db.execute(
        "SELECT MIN(slot), MAX(slot), COUNT(DISTINCT slot) FROM measures"
    ).fetchone()
    assert slots == last - first + 1 == 4 * 144
    assert_all_counted(db)


def assert_all_counted(db: sqlite3.Connection) -> None:
    """Every counter's growth is counted, hour by hour and day by day, nothing missing."""
    for device, grown, hourly, daily in db.execute(
        "SELECT r.device_id, MAX(r.value) - MIN(r.value),"
        " (SELECT SUM(amount) FROM energy_hourly h WHERE h.device_id = r.device_id),"
        " (SELECT SUM(amount) FROM energy_daily d WHERE d.device_id = r.device_id)"
        " FROM energy_readings r GROUP BY r.device_id"
    ):
        assert hourly == pytest.approx(grown, rel=1e-9, abs=1e-6), device
        assert daily == pytest.approx(grown, rel=1e-9, abs=1e-6), device
    assert db.execute("SELECT SUM(missing) FROM energy_hourly").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM energy_gaps").fetchone()[0] == 0


def test_backfill_needs_a_history_to_join(ews_here: Run, box_config: Path) -> None:
    seed = ("history", "seed", "--config", str(box_config), "--site", "demo")
    done = ews_here(*seed, "--days", "1", "--backfill")
    assert done.returncode == 1 and "no history to join" in done.stderr
