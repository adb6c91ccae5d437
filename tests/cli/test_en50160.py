"""``ews en50160``: the week's verdict per gateway with an EQ device, checked on demand when it
was not yet, then read from the store; clear errors for a bad week or gateway name."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ews_tui.cli.box import open_installation, read_config
from ews_tui.cli.sim import load_site
from ews_tui.domain.installation_doc import to_document
from ews_tui.services.box import DATABASE_FILE
from ews_tui.store.db import open_database
from tests.cli.conftest import Run
from tests.services.test_en50160 import MONDAY, record_week


async def a_box_with_a_ko_week(box_config: Path) -> None:
    config = read_config(box_config)
    async with open_installation(config) as service:
        await service.import_document(to_document(load_site("demo")))
    db = await open_database(config.data_dir / DATABASE_FILE)
    try:
        await record_week(db, MONDAY, thd_bad=100)  # 10 % of the week above 8 % THD
    finally:
        await db.close()


async def test_the_week_is_checked_on_demand_then_read_back(ews: Run, box_config: Path) -> None:
    await a_box_with_a_ko_week(box_config)
    args = ("en50160", "--config", str(box_config), "--week", "2026-W48", "--gateway", "Local")
    first = ews(*args, "--json")
    assert first.returncode == 0, first.stderr
    (week,) = json.loads(first.stdout)
    assert (week["week"], week["gateway"], week["verdict"]) == ("2026-W48", "Local", "ko")
    thd = next(c for c in week["criteria"] if c["id"] == "thd")
    assert (thd["n"], thd["n1"], thd["verdict"]) == (1008, 100, "failed")
    again = ews(*args, "--json")  # stored now: the same answer
    assert json.loads(again.stdout) == [week]
    text = ews(*args)
    assert "EN 50160 2026-W48, gateway Local: KO" in text.stdout
    assert "THD          1008  100" in text.stdout
    assert "Not seen by a polling box: Mains signalling voltages" in text.stdout


def test_bad_weeks_and_gateways_are_named(ews: Run, box_config: Path) -> None:
    bad = ews("en50160", "--config", str(box_config), "--week", "2026-48")
    assert bad.returncode != 0 and "'2026-48' is not a week such as 2026-W48" in bad.stderr
    future = ews("en50160", "--config", str(box_config), "--week", "2099-W01")
    assert future.returncode != 0 and "2099-W01 is not over yet" in future.stderr
    none = ews("en50160", "--config", str(box_config), "--week", "2026-W48")
    assert none.returncode != 0 and "no gateway has an EQ device" in none.stderr


@pytest.mark.timeout(240)
def test_the_demo_history_has_an_ok_and_a_ko_gateway_and_every_view_agrees(
    ews: Run, box_config: Path
) -> None:
    """Simulated history of the demo site (its Workshop's machine tools pollute the supply
    with harmonics every evening): the last finished week is OK on the Local bus and KO in the
    Workshop; the JSON, the text and the eqcheck CSV say the same."""
    now = datetime.now(ZoneInfo("Europe/Paris"))
    days = now.weekday() + 7 + 1  # back past the Monday that starts the last finished week
    seeded = ews("history", "seed", "--config", str(box_config), "--days", str(days),
                 "--site", "demo", "--poll", "600", timeout=200)  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr
    done = ews("en50160", "--config", str(box_config), "--json")
    assert done.returncode == 0, done.stderr
    weeks = {w["gateway"]: w for w in json.loads(done.stdout)}
    assert {g: w["verdict"] for g, w in weeks.items()} == {"Local": "ok", "Workshop": "ko"}
    failed = [c["id"] for c in weeks["Workshop"]["criteria"] if c["verdict"] == "failed"]
    assert failed == ["thd"]
    text = ews("en50160", "--config", str(box_config), "--gateway", "Workshop").stdout
    assert f"EN 50160 {weeks['Workshop']['week']}, gateway Workshop: KO" in text
    folder = box_config.parent / "data" / "csv" / "eqcheck"
    for name, week in weeks.items():
        path = folder / f"{week['week']}_gateway-{week['gateway_id']}.csv"
        with path.open(encoding="utf-8", newline="") as stream:
            first = next(csv.DictReader(stream))
        assert (first["gateway"], first["verdict"]) == (name, week["verdict"])
