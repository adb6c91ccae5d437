"""``ews serve`` on a database with a damaged page: exit 1, one line naming the file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.cli.conftest import Run

SITE = """
[[gateways]]
name = "Roof"
ip = "192.168.1.20"
port = 5020

[[gateways.devices]]
name = "Main"
model = "0 146 68"
address = 3
"""


def damage_page_of(database: Path, table: str) -> None:
    """Overwrite the root page of ``table`` with garbage, as a failing card would."""
    db = sqlite3.connect(database)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (page_size,) = db.execute("PRAGMA page_size").fetchone()
        (root,) = db.execute(
            "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
    finally:
        db.close()
    with database.open("r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(b"\xde\xad\xbe\xef" * (page_size // 4))


def test_a_damaged_database_is_named_with_how_to_restore_it(
    ews: Run, box_config: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site.toml"
    site.write_text(SITE, encoding="utf-8")
    done = ews("install", "import", str(site), "--config", str(box_config))
    assert done.returncode == 0, done.stderr
    database = box_config.parent / "data" / "ews.sqlite"
    damage_page_of(database, "devices")

    done = ews("serve", "--config", str(box_config))
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    said = [line for line in done.stderr.splitlines() if line.startswith("ews: ")]
    assert len(said) == 1, done.stderr
    assert said[0].startswith(f"ews: {database}: the database file is damaged")
    assert "backup" in said[0] and "-wal" in said[0]
