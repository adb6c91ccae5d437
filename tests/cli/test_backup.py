"""``ews backup``: a populated box (simulated history of the demo site, PINs, alarms, an
EN 50160 week, cost rules) backed up and restored onto a fresh data dir answers every
report the same; the restore is refused while the box runs, and undone with --undo."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple

from ews_tui.cli import main
from ews_tui.cli.demo import demo_costs
from ews_tui.domain.alarms import Alarm, AlarmType, AlarmWrite, Severity, Subject
from ews_tui.store.alarms_repo import AlarmsRepo
from ews_tui.store.cost_rules_repo import CostRulesRepo
from ews_tui.store.db import open_database
from tests.cli.conftest import Run


class Done(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def ews_here(*args: str) -> Done:
    """``ews ARGS`` in this process (the same ``main`` as the command; a subprocess costs
    seconds of imports each on a loaded machine, and this test runs about twenty)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return Done(code, out.getvalue(), err.getvalue())


async def _store_extras(config: Path) -> None:
    """Cost rules (the demo's) and two alarms, one of them cleared."""
    db = await open_database(config.parent / "data" / "ews.sqlite")
    try:
        await CostRulesRepo(db).save(demo_costs())
        subject = Subject("device", 3, "", 1, "Workshop")
        alarms = [
            Alarm(1, AlarmType.DEVICE_COMM_ERROR, Severity.MAJOR, subject, 1_764_000_000.0,
                  1_764_000_600.0, count=2, detail="no answer"),
            Alarm(2, AlarmType.BREAKER_TRIPPED, Severity.CRITICAL, subject, 1_764_100_000.0,
                  1_764_100_000.0, cleared_at=1_764_100_900.0, value="tripped"),
        ]  # fmt: skip
        await AlarmsRepo(db).record([AlarmWrite(a, new=True) for a in alarms])
    finally:
        await db.close()


def populate(ews: Callable[..., Done], config: Path) -> None:
    done = ews(
        "history", "seed", "--config", str(config), "--days", "2", "--site", "demo",
        "--poll", "600",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert ews("auth", "reset", "--role", "server", "--config", str(config)).returncode == 0
    asyncio.run(_store_extras(config))
    assert ews("alarms", "ack", "1", "--config", str(config)).returncode == 0
    assert ews("en50160", "--config", str(config), "--json").returncode == 0  # stores the week


def answers(ews: Callable[..., Done], config: Path) -> dict[str, str]:
    """What the box's reports say (the export without its dated header)."""
    today = date.today()
    c = str(config)
    commands = {
        "consumption": ("report", "consumption", "--config", c, "--from",
                        str(today - timedelta(days=3)), "--to", str(today + timedelta(days=1)),
                        "--step", "day", "--by", "device", "--json"),
        "costs": ("report", "consumption", "--config", c, "--from",
                  str(today - timedelta(days=3)), "--to", str(today + timedelta(days=1)),
                  "--step", "month", "--by", "total", "--energy", "gas", "--json"),
        "alarms": ("alarms", "list", "--config", c, "--json"),
        "thresholds": ("alarms", "thresholds", "--json", "--config", c),
        "en50160": ("en50160", "--config", c, "--json"),
    }  # fmt: skip
    out = {}
    for name, args in commands.items():
        done = ews(*args)
        assert done.returncode == 0, (name, done.stderr)
        out[name] = done.stdout
    export = config.parent / "export.toml"
    assert ews("install", "export", str(export), "--config", c).returncode == 0
    out["installation"] = export.read_text().split("\n", 2)[2]
    db = sqlite3.connect(config.parent / "data" / "ews.sqlite")
    out["users"] = repr(db.execute("SELECT * FROM auth_roles ORDER BY role").fetchall())
    out["en50160 rows"] = repr(db.execute("SELECT * FROM en50160_weeks").fetchall())
    db.close()
    return out


def _box(tmp_path: Path, name: str) -> Path:
    (tmp_path / name).mkdir()
    config = tmp_path / name / "config.toml"
    config.write_text('data_dir = "data"\ntime.timezone = "Europe/Paris"\n', encoding="utf-8")
    return config


def test_a_restored_box_answers_as_the_one_backed_up(tmp_path: Path) -> None:
    ews = ews_here
    old = _box(tmp_path, "old")
    populate(ews, old)
    before = answers(ews, old)
    assert [a["ack"] is not None for a in json.loads(before["alarms"])] == [True, False]
    assert "Peak / off-peak" in before["installation"]
    assert any(row["kwh"] for row in json.loads(before["consumption"]))
    assert before["en50160 rows"] != "[]" and "server" in before["users"]

    backup = tmp_path / "box.tar.gz"
    done = ews("backup", "create", str(backup), "--config", str(old))
    assert done.returncode == 0, done.stderr
    assert os.stat(backup).st_mode & 0o777 == 0o600

    new = _box(tmp_path, "new")
    done = ews("backup", "restore", str(backup), "--config", str(new))
    assert done.returncode == 0, done.stderr
    assert "ews backup restore --undo" in done.stdout
    after = answers(ews, new)
    assert after == before

    done = ews("backup", "list", "--config", str(new))
    assert "before-restore" in done.stdout


def test_restore_is_refused_while_the_box_runs(ews: Run, tmp_path: Path) -> None:
    box = _box(tmp_path, "box")
    done = ews("backup", "create", str(tmp_path / "b.tar.gz"), "--config", str(box))
    assert done.returncode == 0, done.stderr
    # A process holding the data dir, as `ews serve` does.
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from pathlib import Path; "
         "from ews_tui.store.datadir_lock import hold_data_dir\n"
         "with hold_data_dir(Path(sys.argv[1])):\n"
         "    print('held', flush=True); sys.stdin.read()",
         str(box.parent / "data")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        done = ews("backup", "restore", str(tmp_path / "b.tar.gz"), "--config", str(box))
        assert done.returncode == 1
        assert f"process {holder.pid}): stop it first" in done.stderr
    finally:
        holder.communicate("", timeout=30)
    done = ews("backup", "restore", "--undo", "--config", str(box))
    assert done.returncode == 1 and "no restore to undo" in done.stderr
    assert (
        ews("backup", "restore", str(tmp_path / "b.tar.gz"), "--config", str(box)).returncode == 0
    )
    assert ews("backup", "restore", "--undo", "--config", str(box)).returncode == 0


def test_a_missing_or_foreign_file_is_one_line(ews: Run, tmp_path: Path) -> None:
    box = _box(tmp_path, "box")
    done = ews("backup", "restore", str(tmp_path / "none.tar.gz"), "--config", str(box))
    assert done.returncode == 1 and done.stderr.strip().endswith("none.tar.gz: no such file")
    (tmp_path / "x.tar.gz").write_bytes(b"\x1f\x8b garbage")
    done = ews("backup", "restore", str(tmp_path / "x.tar.gz"), "--config", str(box))
    assert done.returncode == 1 and "damaged or truncated" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
