"""``ews export csv``: the four folders, daily files with header, offsets, decimal points."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.cli.conftest import Run


def test_export_writes_daily_files_per_folder(
    ews_here: Run, box_config: Path, tmp_path: Path
) -> None:
    seed = ews_here(
        "history",
        "seed",
        "--config",
        str(box_config),
        "--days",
        "2",  # the whole of yesterday in the box's zone, whatever the hour now
        "--site",
        "demo",
        "--poll",
        "600",
    )
    assert seed.returncode == 0, seed.stderr
    out = tmp_path / "csv"
    today = datetime.now(ZoneInfo("Europe/Paris")).date()  # the box's zone (the default)
    first = (today - timedelta(days=1)).isoformat()
    done = ews_here(
        "export",
        "csv",
        "--config",
        str(box_config),
        "--out",
        str(out),
        "--from",
        first,
        "--to",
        today.isoformat(),
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["energy", "eqcheck", "events", "measures"]
    assert sorted(p.name for p in (out / "energy").iterdir()) == [f"{first}.csv", f"{today}.csv"]
    with (out / "energy" / f"{first}.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows and rows[0].keys() == {
        "timestamp",
        "device_id",
        "device",
        "energy",
        "index",
        "consumption",
        "unit",
    }
    assert all(r["timestamp"].startswith(first) for r in rows)
    assert all(r["timestamp"][19] in "+-" for r in rows)  # ISO 8601 with its offset
    assert all("," not in r["index"] and float(r["index"]) >= 0 for r in rows)
    assert {r["unit"] for r in rows} == {"kWh", "m3"}
    measures = (out / "measures" / f"{first}.csv").read_text("utf-8").splitlines()
    assert measures[0] == "timestamp,device_id,device,quantity,unit,count,mean,min,max"
    assert len(measures) > 100
    # Not a terminal: no progress bar on stderr.
    assert done.stderr == ""


def test_export_copies_the_boxs_events(ews_here: Run, box_config: Path, tmp_path: Path) -> None:
    """The store keeps no state changes: the box's own events files are copied."""
    events = tmp_path / "data" / "csv" / "events"
    events.mkdir(parents=True)
    line = "2024-05-01T08:00:00+02:00,gateway,2,Roof,comm_error,timeout\n"
    (events / "2024-05-01.csv").write_text(
        "timestamp,kind,id,name,state,detail\n" + line, encoding="utf-8"
    )
    out = tmp_path / "out"
    args = ("export", "csv", "--config", str(box_config), "--out", str(out))
    done = ews_here(*args, "--from", "2024-05-01", "--to", "2024-05-02")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (out / "events").iterdir()) == ["2024-05-01.csv"]
    assert (out / "events" / "2024-05-01.csv").read_text("utf-8").endswith(line)
    assert "events: 1 of 2 days copied" in done.stdout
