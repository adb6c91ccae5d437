"""``ews alarms list`` and ``ews alarms ack``, as a user runs them (a subprocess)."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

from ews_tui.domain.alarms import Alarm, AlarmType, AlarmWrite, Severity, Subject
from ews_tui.store.alarms_repo import AlarmsRepo
from ews_tui.store.db import open_database
from tests.cli.conftest import Run

T0 = 1_735_730_000.0  # 2025-01-01 12:13:20 in Paris


def store_alarms(data_dir: Path) -> None:
    async def write() -> None:
        db = await open_database(data_dir / "ews.sqlite")
        try:
            meter = Subject("device", 1, "", 1, "Main meter")
            gateway = Subject("gateway", 2, "", 2, "Parking")
            await AlarmsRepo(db).record(
                [
                    AlarmWrite(
                        Alarm(
                            1,
                            AlarmType.DEVICE_COMM_ERROR,
                            Severity.MAJOR,
                            meter,
                            T0,
                            T0 + 60,
                            cleared_at=T0 + 90,
                            count=3,
                            value="comm_error",
                        ),
                        True,
                    ),
                    AlarmWrite(
                        Alarm(2, AlarmType.GATEWAY_COMM_ERROR, Severity.MAJOR, gateway, T0, T0),
                        True,
                    ),
                ]
            )
        finally:
            await db.close()

    asyncio.run(write())


def test_list_human_and_json(ews_here: Run, box_config: Path, tmp_path: Path) -> None:
    store_alarms(tmp_path / "data")
    done = ews_here("alarms", "list", "--config", str(box_config))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("#2") and "gateway.comm_error" in lines[0] and "Parking" in lines[0]
    assert lines[1].startswith("#1") and "cleared" in lines[1] and "x3" in lines[1]
    assert "2 alarms" in done.stderr

    done = ews_here("alarms", "list", "--active", "--json", "--config", str(box_config))
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert [a["id"] for a in listed] == [2]
    assert listed[0]["subject"] == {
        "kind": "gateway",
        "id": 2,
        "part": "",
        "name": "Parking",
        "gateway_id": 2,
    }
    assert listed[0]["raised_at"] == "2025-01-01T12:13:20+01:00"
    assert listed[0]["active"] and not listed[0]["acknowledged"] and listed[0]["ack"] is None


def test_ack_by_id_then_all(ews_here: Run, box_config: Path, tmp_path: Path) -> None:
    store_alarms(tmp_path / "data")
    done = ews_here("alarms", "ack", "2", "--config", str(box_config))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1 alarm acknowledged"
    listed = json.loads(ews_here("alarms", "list", "--json", "--config", str(box_config)).stdout)
    ack = next(a for a in listed if a["id"] == 2)["ack"]
    assert ack["role"] == "cli" and ack["session"].startswith("cli:")

    assert ews_here("alarms", "ack", "2", "--config", str(box_config)).stdout.strip() == (
        "0 alarms acknowledged"
    )
    assert ews_here("alarms", "ack", "--all", "--config", str(box_config)).stdout.strip() == (
        "1 alarm acknowledged"
    )
    events = sorted((tmp_path / "data" / "csv" / "events").glob("*.csv"))
    rows = [r for path in events for r in csv.reader(path.open(encoding="utf-8"))]
    assert [(r[1], r[2], r[4]) for r in rows if r[1] == "alarm"] == [
        ("alarm", "2", "acknowledged"),
        ("alarm", "1", "acknowledged"),
    ]


def test_ack_unknown_id_and_usage(ews_here: Run, box_config: Path) -> None:
    done = ews_here("alarms", "ack", "42", "--config", str(box_config))
    assert done.returncode == 1 and done.stderr.strip() == "ews: no alarm with id 42"
    assert ews_here("alarms", "ack", "--config", str(box_config)).returncode == 2
    assert ews_here("alarms", "ack", "1", "--all", "--config", str(box_config)).returncode == 2


def test_thresholds_set_list_delete(ews_here: Run, box_config: Path) -> None:
    config = ("--config", str(box_config))
    done = ews_here("alarms", "threshold", "set", "Site power", "--site", "--quantity", "p",
               "--above", "80", "--hysteresis", "2", "--delay", "30", "--severity", "major",
               *config)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "threshold Site power saved (id 1)"
    ews_here("alarms", "threshold", "set", "Site power", "--site", "--quantity", "p", "--above",
        "90", *config)  # fmt: skip
    listed = ews_here("alarms", "thresholds", *config).stdout.strip()
    assert listed == "Site power: site p > 90, hysteresis 0, delay 0 s, warning"
    as_json = json.loads(ews_here("alarms", "thresholds", "--json", *config).stdout)
    assert as_json[0]["target"] == {"kind": "site", "id": None} and as_json[0]["limit"] == 90

    missing = ews_here("alarms", "threshold", "set", "V1", "--device", "7", "--quantity", "v1",
                  "--below", "207", *config)  # fmt: skip
    assert missing.returncode == 1 and missing.stderr.strip() == "ews: no device with id 7"
    bad = ews_here("alarms", "threshold", "set", "X", "--site", "--quantity", "p", "--above", "1",
              "--delay", "-1", *config)  # fmt: skip
    assert bad.returncode == 1

    assert ews_here("alarms", "threshold", "delete", "Site power", *config).returncode == 0
    assert ews_here("alarms", "thresholds", *config).stdout == ""
    gone = ews_here("alarms", "threshold", "delete", "Site power", *config)
    assert gone.returncode == 1 and "no threshold named Site power" in gone.stderr
