"""``ews en50160``: the week's verdict per gateway with an EQ device, checked on demand when it
was not yet, then read from the store; clear errors for a bad week or gateway name."""

from __future__ import annotations

import json
from pathlib import Path

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
    args = ("en50160", "--config", str(box_config), "--week", "2026-W48")
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
