"""``ews report consumption``: text, CSV and JSON over seeded history."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.cli.conftest import Run


@pytest.fixture
def seeded(ews_here: Run, box_config: Path) -> Path:
    done = ews_here(
        "history",
        "seed",
        "--config",
        str(box_config),
        "--days",
        "2",
        "--site",
        "demo",
        "--poll",
        "600",
    )
    assert done.returncode == 0, done.stderr
    return box_config


def box_today() -> date:
    """Today where the box is (the default time zone), not where the test runs."""
    return datetime.now(ZoneInfo("Europe/Paris")).date()


def span() -> tuple[str, str]:
    today = box_today()
    return (today - timedelta(days=2)).isoformat(), today.isoformat()


def test_json_lists_start_end_key_kwh_cost_currency(ews_here: Run, seeded: Path) -> None:
    first, last = span()
    done = ews_here(
        "report",
        "consumption",
        "--config",
        str(seeded),
        "--from",
        first,
        "--to",
        last,
        "--step",
        "day",
        "--by",
        "circuit",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert {"start", "end", "key", "kwh", "cost", "currency"} <= rows[0].keys()
    assert {r["key"] for r in rows} >= {"Lighting", "Heating", "No circuit"}
    assert len({r["start"] for r in rows}) == 3
    assert all(r["kwh"] is None or r["kwh"] >= 0 for r in rows)
    assert all(r["currency"] == "EUR" and r["cost"] is None for r in rows)  # no cost rule yet
    assert sum(r["kwh"] or 0 for r in rows) > 0
    assert rows[0]["start"][-6:] in ("+01:00", "+02:00", "+00:00") or "+" in rows[0]["start"]


def test_csv_and_total_agree_with_the_sum_of_partials(ews_here: Run, seeded: Path) -> None:
    first, last = span()
    args = (
        "report",
        "consumption",
        "--config",
        str(seeded),
        "--from",
        first,
        "--to",
        last,
        "--step",
        "week",
    )
    by_circuit = list(
        csv.DictReader(io.StringIO(ews_here(*args, "--by", "circuit", "--csv").stdout))
    )
    total = list(csv.DictReader(io.StringIO(ews_here(*args, "--by", "total", "--csv").stdout)))
    assert sum(float(r["kwh"]) for r in by_circuit) == pytest.approx(
        sum(float(r["kwh"]) for r in total)
    )
    assert by_circuit[0].keys() >= {"start", "end", "key", "kwh", "cost", "currency", "missing"}


def test_text_table_and_gas_in_m3(ews_here: Run, seeded: Path) -> None:
    first, last = span()
    done = ews_here(
        "report",
        "consumption",
        "--config",
        str(seeded),
        "--from",
        first,
        "--to",
        last,
        "--by",
        "device",
        "--energy",
        "gas",
    )
    assert done.returncode == 0, done.stderr
    assert "Boiler gas" in done.stdout and "(m3)" in done.stdout
    assert "Main meter" not in done.stdout


def test_a_reversed_range_is_a_user_error(ews_here: Run, box_config: Path) -> None:
    done = ews_here(
        "report",
        "consumption",
        "--config",
        str(box_config),
        "--from",
        "2024-02-01",
        "--to",
        "2024-01-01",
    )
    assert done.returncode == 1 and "before" in done.stderr
    bad = ews_here(
        "report",
        "consumption",
        "--config",
        str(box_config),
        "--from",
        "2024-13-01",
        "--to",
        "2024-01-01",
    )
    assert bad.returncode == 2 and "not a date" in bad.stderr


def test_a_period_without_data_is_null_and_a_dash_never_zero(ews_here: Run, seeded: Path) -> None:
    """Before the history and in the future: nothing known, so nothing invented."""
    tomorrow = box_today() + timedelta(days=1)
    for first, last in (("2020-01-01", "2020-01-02"), (tomorrow.isoformat(),) * 2):
        args = ("report", "consumption", "--config", str(seeded), "--from", first, "--to", last)
        rows = json.loads(ews_here(*args, "--step", "hour", "--by", "device", "--json").stdout)
        assert rows
        for row in rows:
            assert (row["amount"], row["kwh"], row["cost"], row["missing"]) == (
                None,
                None,
                None,
                True,
            ), row
        text = ews_here(*args, "--by", "device").stdout
        assert "0.000" not in text and "—" in text
        table = list(csv.DictReader(io.StringIO(ews_here(*args, "--csv").stdout)))
        assert {(r["amount"], r["kwh"]) for r in table} == {("", "")}


def test_a_closed_pipe_ends_the_report_quietly(seeded: Path, tmp_path: Path) -> None:
    """``ews report ... | head -1``: no BrokenPipe traceback."""
    import os
    import subprocess
    import sys

    command = [sys.executable, "-m", "ews_tui.cli", "report", "consumption"]
    command += ["--config", str(seeded), "--from", "2020-01-01", "--to", "2020-03-01"]
    command += ["--step", "hour", "--by", "device"]
    reader, writer = os.pipe()
    process = subprocess.Popen(command, stdout=writer, stderr=subprocess.PIPE, cwd=tmp_path)
    os.close(writer)
    with os.fdopen(reader, "rb") as stream:
        assert stream.readline()  # the heading; then the reader goes away, like head -1
    _out, err = process.communicate(timeout=60)
    assert "Traceback" not in err.decode() and "BrokenPipe" not in err.decode()
    assert process.returncode in (0, 141)


def test_a_name_stored_with_escapes_cannot_drive_the_terminal(ews_here: Run, seeded: Path) -> None:
    """A device named before control characters were refused: every output escapes them."""
    hostile = "\x1b]0;PWNED-TITLE\x07\x1b[2J\x9b"
    db = sqlite3.connect(seeded.parent / "data" / "ews.sqlite")
    try:
        with db:
            db.execute("UPDATE devices SET name = ? WHERE name = 'Boiler gas'", (hostile,))
    finally:
        db.close()
    first, last = span()
    args = ("report", "consumption", "--config", str(seeded), "--from", first, "--to", last)
    shown = "\\x1b]0;PWNED-TITLE\\x07\\x1b[2J\\x9b"
    for form in ((), ("--csv",), ("--json",)):
        done = ews_here(*args, "--by", "device", "--energy", "gas", *form)
        assert done.returncode == 0, done.stderr
        assert not any(c in done.stdout for c in "\x1b\x07\x9b"), form
        keys = {
            (): lambda out: out,
            ("--csv",): lambda out: "\n".join(r["key"] for r in csv.DictReader(io.StringIO(out))),
            ("--json",): lambda out: "\n".join(r["key"] for r in json.loads(out)),
        }[form](done.stdout)
        assert shown in keys, form
