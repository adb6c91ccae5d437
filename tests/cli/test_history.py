"""``ews history seed``: simulated history through the recording path."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.cli.conftest import Run


def test_seed_installs_the_demo_site_and_records_its_devices(ews: Run, box_config: Path) -> None:
    done = ews(
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


def test_seed_without_devices_says_what_to_do(ews: Run, box_config: Path) -> None:
    done = ews("history", "seed", "--config", str(box_config), "--days", "1")
    assert done.returncode == 1
    assert "--site demo" in done.stderr
